/*
 * ec2.mjs — the console's only way to vpcd: EC2 Query API calls (form
 * POST to /, Version 2016-11-15), SigV4-signed in the browser, answers
 * parsed from XML into plain objects with the wire's lowerCamel names
 * (vpcSet → array of items). No unsigned request ever leaves it.
 *
 * Parameters are given as nested objects and flattened the EC2 way:
 *   { VpcId: ['a'], Filter: [{ Name: 'x', Value: ['y'] }] }
 *   → VpcId.1=a&Filter.1.Name=x&Filter.1.Value.1=y
 */
import { sign, formEncode } from './sigv4.mjs';

export const API_VERSION = '2016-11-15';

/* An answer with an EC2 error: code (e.g. InvalidVpcID.NotFound) and the
 * API's own message. */
export class ApiError extends Error {
	constructor(code, message, status) {
		super(message || code);
		this.code = code;
		this.status = status;
	}
	/* For the user: the API's words, then its code. */
	toString() {
		return `${this.message} (${this.code})`;
	}
}

export function flatten(params, prefix = '', out = []) {
	for (const [k, v] of Object.entries(params || {})) {
		if (v === undefined || v === null || v === '')
			continue;
		const name = prefix ? `${prefix}.${k}` : k;
		if (Array.isArray(v)) {
			v.forEach((item, i) => {
				if (item !== null && typeof item === 'object')
					flatten(item, `${name}.${i + 1}`, out);
				else
					out.push([`${name}.${i + 1}`, String(item)]);
			});
		} else if (typeof v === 'object') {
			flatten(v, name, out);
		} else {
			out.push([name, String(v)]);
		}
	}
	return out;
}

/* XML element → value: a list when its children are <item>s (or it is an
 * empty ...Set), an object when it has children, else its text. */
function fromXml(el) {
	const kids = Array.from(el.children);
	if (kids.length === 0)
		return /Set$/.test(el.tagName) ? [] : el.textContent;
	if (kids.every((c) => c.tagName === 'item'))
		return kids.map(fromXml);
	const o = {};
	for (const c of kids)
		o[c.tagName] = fromXml(c);
	return o;
}

export function parseXml(text, DOMParserImpl = globalThis.DOMParser) {
	const doc = new DOMParserImpl().parseFromString(text, 'application/xml');
	const root = doc.documentElement;
	if (!root || root.tagName === 'parsererror')
		throw new ApiError('MalformedResponse', 'vpcd answered something that is not XML');
	return root;
}

export class Ec2Client {
	/* creds: { accessKeyId, secretAccessKey }; endpoint: the page's origin. */
	constructor(creds, region, endpoint = globalThis.location ? globalThis.location.origin : '') {
		this.creds = creds;
		this.region = region;
		this.endpoint = endpoint;
		this.onAuthFailure = null;
	}

	async call(action, params = {}) {
		const body = formEncode([['Action', action], ['Version', API_VERSION], ...flatten(params)]);
		const url = new URL('/', this.endpoint);
		const { headers } = await sign({
			method: 'POST', path: '/', host: url.host, body,
			headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
		}, this.creds, this.region, new Date());
		let resp;
		try {
			resp = await fetch(url, { method: 'POST', headers, body, credentials: 'omit', cache: 'no-store' });
		} catch (e) {
			throw new ApiError('NetworkError', `vpcd did not answer: ${e.message}`, 0);
		}
		const text = await resp.text();
		const root = parseXml(text);
		if (!resp.ok || root.tagName === 'Response') {
			const err = root.getElementsByTagName('Error')[0];
			const code = err ? err.getElementsByTagName('Code')[0]?.textContent : `HTTP${resp.status}`;
			const msg = err ? err.getElementsByTagName('Message')[0]?.textContent : resp.statusText;
			const e = new ApiError(code, msg, resp.status);
			if (resp.status === 401 && this.onAuthFailure)
				this.onAuthFailure(e);
			throw e;
		}
		const out = fromXml(root);
		return typeof out === 'object' ? out : {};
	}

	/* Every item of a paged Describe (following NextToken), up to limit. */
	async all(action, params, setName, limit = 10000) {
		let items = [], token;
		do {
			const r = await this.call(action, Object.assign({}, params, token ? { NextToken: token } : {}));
			items = items.concat(r[setName] || []);
			token = r.nextToken;
		} while (token && items.length < limit);
		return items;
	}
}

/* A ClientToken for idempotent create calls. */
export function clientToken() {
	return (globalThis.crypto.randomUUID ? globalThis.crypto.randomUUID() : String(Math.random()).slice(2));
}
