/*
 * sigv4.mjs — AWS Signature Version 4 for the console's EC2 requests,
 * computed with WebCrypto (HMAC-SHA256, SHA-256). The same canonical
 * request as botocore's SigV4Auth (tests/console/test_signer.py checks
 * them against each other): method, URI, sorted query, the signed
 * headers lower-cased with trimmed values, the signed-header list and the
 * payload's SHA-256.
 *
 * It never keeps the secret: the caller passes it for each request, and
 * the derived keys live only inside WebCrypto for one signature.
 */

const enc = new TextEncoder();

function subtle() {
	const c = globalThis.crypto && globalThis.crypto.subtle;
	if (!c)
		throw new Error('WebCrypto is not available: open the console over https, or on http://127.0.0.1 or http://localhost');
	return c;
}

function hex(buf) {
	return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(text) {
	return hex(await subtle().digest('SHA-256', enc.encode(text)));
}

async function hmac(key, text) {
	const k = await subtle().importKey('raw', typeof key === 'string' ? enc.encode(key) : key,
		{ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
	return subtle().sign('HMAC', k, enc.encode(text));
}

/* RFC 3986 percent-encoding as SigV4 wants it: everything but
 * A-Z a-z 0-9 - _ . ~ (encodeURIComponent leaves ! ' ( ) * as they are). */
export function uriEncode(s) {
	return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/* application/x-www-form-urlencoded body of [name, value] pairs, in order,
 * encoded as botocore encodes the EC2 query body (spaces as %20). */
export function formEncode(pairs) {
	return pairs.map(([k, v]) => uriEncode(k) + '=' + uriEncode(String(v))).join('&');
}

/* 20261207T063000Z from a Date. */
export function amzDate(date) {
	return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function canonicalQuery(query) {
	if (!query)
		return '';
	const pairs = query.split('&').filter((p) => p).map((p) => {
		const i = p.indexOf('=');
		const k = decodeURIComponent((i < 0 ? p : p.slice(0, i)).replace(/\+/g, ' '));
		const v = i < 0 ? '' : decodeURIComponent(p.slice(i + 1).replace(/\+/g, ' '));
		return [uriEncode(k), uriEncode(v)];
	});
	pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
	return pairs.map(([k, v]) => k + '=' + v).join('&');
}

/*
 * Signs one request. req: { method, path ('/' or '/x?a=b'), host
 * ('127.0.0.1:8775'), headers: {name: value} (besides host), body
 * (string) }, creds: { accessKeyId, secretAccessKey }, region, date
 * (Date). Returns the headers to send: the caller's, X-Amz-Date and
 * Authorization (host is signed but the browser sends it itself).
 */
export async function sign(req, creds, region, date, service = 'ec2') {
	const stamp = amzDate(date);
	const day = stamp.slice(0, 8);
	const headers = Object.assign({}, req.headers || {}, { 'X-Amz-Date': stamp });
	const all = Object.assign({ host: req.host }, headers);
	const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
	const value = (n) => {
		const key = Object.keys(all).find((k) => k.toLowerCase() === n);
		return String(all[key]).trim().replace(/\s+/g, ' ');
	};
	const q = req.path.indexOf('?');
	const path = q < 0 ? req.path : req.path.slice(0, q);
	const canonical = [
		req.method.toUpperCase(),
		path.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/') || '/',
		canonicalQuery(q < 0 ? '' : req.path.slice(q + 1)),
		names.map((n) => n + ':' + value(n) + '\n').join(''),
		names.join(';'),
		await sha256Hex(req.body || ''),
	].join('\n');
	const scope = `${day}/${region}/${service}/aws4_request`;
	const toSign = ['AWS4-HMAC-SHA256', stamp, scope, await sha256Hex(canonical)].join('\n');
	let key = await hmac('AWS4' + creds.secretAccessKey, day);
	key = await hmac(key, region);
	key = await hmac(key, service);
	key = await hmac(key, 'aws4_request');
	const signature = hex(await hmac(key, toSign));
	headers.Authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, ` +
		`SignedHeaders=${names.join(';')}, Signature=${signature}`;
	return { headers, canonical, stringToSign: toSign, signature };
}
