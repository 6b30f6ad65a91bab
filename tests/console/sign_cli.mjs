/*
 * sign_cli.mjs — runs the console's signer (src/console/www/js/sigv4.mjs)
 * under node for tests/console/test_signer.py: reads a JSON list of
 * requests on stdin ({method, path, host, headers, body, accessKeyId,
 * secretAccessKey, region, time}), writes the headers the signer adds
 * for each (and, for {"form": [[k, v]...]}, the body it encodes); with
 * "send": true it also sends the request to http://host and adds the
 * answer's status and text.
 */
import { sign, formEncode } from '../../src/console/www/js/sigv4.mjs';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin)
	input += chunk;
const out = [];
for (const r of JSON.parse(input)) {
	const body = r.form ? formEncode(r.form) : (r.body || '');
	const s = await sign({ method: r.method, path: r.path, host: r.host, headers: r.headers, body },
		{ accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey }, r.region, new Date(r.time));
	const res = { body, headers: s.headers, canonical: s.canonical };
	if (r.send) {
		const resp = await fetch(`http://${r.host}${r.path}`, { method: r.method, headers: s.headers,
			body: r.method === 'GET' ? undefined : body });
		res.status = resp.status;
		res.text = await resp.text();
	}
	out.push(res);
}
process.stdout.write(JSON.stringify(out));
