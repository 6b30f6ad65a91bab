/*
 * wizard_cli.mjs — runs the console's VPC wizard (runWizard of
 * src/console/www/js/wizard.mjs, with its EC2 client and signer) under
 * node against a vpcd, for tests/console/test_wizard.py to compare with
 * `vpcctl wizard`. Node has no DOMParser: a small one below reads EC2's
 * XML answers (elements, text, the five entities; no attributes are
 * needed) into the same element tree shape ec2.mjs walks.
 *
 * stdin: {endpoint, accessKeyId, secretAccessKey, region, input}
 * stdout: {ok, ids, steps, failed, error: {code, message}, rolledBack}
 */
import { Ec2Client } from '../../src/console/www/js/ec2.mjs';
import { runWizard } from '../../src/console/www/js/wizard.mjs';

const ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const unescape = (s) => s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e) =>
	e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ENTITIES[e]);

class Element {
	constructor(tagName) {
		this.tagName = tagName;
		this.children = [];
		this.text = '';
	}
	get textContent() {
		return this.children.length ? this.children.map((c) => c.textContent).join('') : this.text;
	}
	getElementsByTagName(name) {
		const out = [];
		const walk = (el) => el.children.forEach((c) => { if (c.tagName === name) out.push(c); walk(c); });
		walk(this);
		return out;
	}
}

class NodeDOMParser {
	parseFromString(xml) {
		const root = new Element('#document');
		const stack = [root];
		const re = /<\?[^>]*\?>|<(\/?)([A-Za-z_][\w.-]*)[^>]*?(\/?)>|([^<]+)/g;
		let m;
		while ((m = re.exec(xml))) {
			if (m[0].startsWith('<?'))
				continue;
			if (m[4] !== undefined) {
				stack[stack.length - 1].text += unescape(m[4]);
			} else if (m[1]) {
				stack.pop();
			} else {
				const el = new Element(m[2]);
				stack[stack.length - 1].children.push(el);
				if (!m[3])
					stack.push(el);
			}
		}
		return { documentElement: root.children[0] || { tagName: 'parsererror' } };
	}
}
globalThis.DOMParser = NodeDOMParser;

let raw = '';
for await (const chunk of process.stdin)
	raw += chunk;
const req = JSON.parse(raw);
const api = new Ec2Client({ accessKeyId: req.accessKeyId, secretAccessKey: req.secretAccessKey }, req.region, req.endpoint);
const r = await runWizard(api, req.input);
process.stdout.write(JSON.stringify({
	ok: r.ok, ids: r.ids, steps: r.steps, failed: r.failed || null,
	error: r.error ? { code: r.error.code || null, message: r.error.message } : null,
	rolledBack: (r.rolledBack || []).map((x) => ({ what: x.what, error: x.error ? x.error.code : null })),
}));
