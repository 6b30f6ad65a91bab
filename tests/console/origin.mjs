/*
 * origin.mjs — signs in to the console at ORIGIN in headless Chromium,
 * where the name console.test is mapped to 127.0.0.1 (no packet leaves
 * loopback) so that the page's origin is not localhost: over https (vpcd
 * --tls, self-signed, accepted for the test) WebCrypto signs and the
 * dashboard loads; over plain http the browser gives no WebCrypto and the
 * console says why instead of sending anything unsigned.
 * Environment: ORIGIN, EXPECT (signed|insecure), KEY_ID, SECRET,
 * ARTIFACTS, PLAYWRIGHT_DIR, CHROMIUM. Prints one JSON line.
 */
import { createRequire } from 'module';
import assert from 'assert/strict';
import path from 'path';

const env = (k) => {
	if (!process.env[k])
		throw new Error(`${k} is not set`);
	return process.env[k];
};
const ORIGIN = env('ORIGIN'), EXPECT = env('EXPECT');
const require = createRequire(path.join(env('PLAYWRIGHT_DIR'), 'package.json'));
const { chromium } = require('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--host-resolver-rules=MAP console.test 127.0.0.1'] });
try {
	const context = await browser.newContext({ ignoreHTTPSErrors: true });
	const page = await context.newPage();
	page.setDefaultTimeout(20000);
	const api = [];
	page.on('request', (r) => { if (new URL(r.url()).pathname === '/' && r.method() === 'POST') api.push(r.headers().authorization || ''); });
	await page.goto(`${ORIGIN}/`);
	assert.equal(page.url(), `${ORIGIN}/console/`);
	const secure = await page.evaluate(() => window.isSecureContext);
	await page.getByLabel('Access key ID').fill(env('KEY_ID'));
	await page.getByLabel('Secret access key').fill(env('SECRET'));
	await page.getByRole('button', { name: 'Sign in' }).click();
	let shown;
	if (EXPECT === 'signed') {
		await page.getByRole('heading', { name: 'VPC dashboard' }).waitFor();
		await page.waitForFunction(() => !Array.from(document.querySelectorAll('.count')).some((c) => c.textContent === '…'));
		shown = await page.locator('.card').first().textContent();
		assert.ok(api.length > 0 && api.every((a) => a.startsWith('AWS4-HMAC-SHA256 Credential=')), 'every call signed');
	} else {
		shown = await page.getByRole('alert').textContent();
		assert.equal(api.length, 0, 'nothing sent without a signature');
	}
	await page.screenshot({ path: path.join(env('ARTIFACTS'), `origin-${EXPECT}.png`), fullPage: true });
	console.log(JSON.stringify({ secure, shown, calls: api.length }));
} finally {
	await browser.close();
}
