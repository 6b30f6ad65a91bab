/*
 * tunnels.mjs — the VPN connection's Tunnel details in a real headless
 * Chromium while a real strongSwan router holds both tunnels UP
 * (tests/console/test_tunnels_up.py builds the topology and runs this in
 * vpcd's network namespace). Line protocol with the test on stdin/stdout:
 *   tunnels.mjs prints  "UP <json>"  once both tunnels show UP with the
 *                       SAs' detail (the json: what the page showed), and
 *                       again after the tab's next refresh when the test
 *                       writes "AGAIN";
 *   the test kills the router and writes "KILLED";
 *   tunnels.mjs prints  "DOWN <json>" once the same page, never reloaded,
 *                       shows both DOWN by itself.
 * Environment: ENDPOINT, KEY_ID, SECRET, VPN_ID, ARTIFACTS, PLAYWRIGHT_DIR,
 * CHROMIUM, DOWN_TIMEOUT_MS.
 */
import { createRequire } from 'module';
import assert from 'assert/strict';
import path from 'path';
import readline from 'readline';

const env = (k) => {
	if (!process.env[k])
		throw new Error(`${k} is not set`);
	return process.env[k];
};
const ENDPOINT = env('ENDPOINT'), VPN_ID = env('VPN_ID'), ARTIFACTS = env('ARTIFACTS');
const require = createRequire(path.join(env('PLAYWRIGHT_DIR'), 'package.json'));
const { chromium } = require('playwright-core');
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function rows(panel) {
	return panel.locator('table').first().locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
	const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
	page.setDefaultTimeout(20000);
	await page.goto(`${ENDPOINT}/console/`);
	await page.getByLabel('Access key ID').fill(env('KEY_ID'));
	await page.getByLabel('Secret access key').fill(env('SECRET'));
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('heading', { name: 'VPC dashboard' }).waitFor();
	await page.goto(`${ENDPOINT}/console/#/vpns/${VPN_ID}`);
	await page.getByRole('tab', { name: 'Tunnel details', exact: true }).click();
	const panel = page.getByRole('tabpanel');
	await page.waitForFunction(() => {
		const t = document.querySelector('[role=tabpanel] table');
		return t && Array.from(t.querySelectorAll('tbody tr')).filter((tr) => tr.cells[3] && tr.cells[3].textContent === 'UP').length === 2;
	}, null, { timeout: 30000 });
	await panel.getByText('QM_IDLE').first().waitFor();
	for (const n of [1, 2]) {
		/* show crypto isakmp sa's row: dst src state conn-id status */
		const isakmp = await page.getByRole('region', { name: `Tunnel ${n} detail` }).locator('table').first().locator('tbody tr td')
			.allTextContents();
		assert.equal(isakmp[2], 'QM_IDLE', isakmp.join(' | '));
		assert.equal(isakmp[4], 'ACTIVE');
	}
	for (;;) {
		const up = { rows: await rows(panel), detail: await panel.getByRole('region', { name: 'Tunnel detail from vpcd' }).textContent() };
		await page.screenshot({ path: path.join(ARTIFACTS, 'tunnels-up.png'), fullPage: true });
		console.log('UP ' + JSON.stringify(up));
		const { value } = await lines.next();
		if (value === 'KILLED')
			break;
		assert.equal(value, 'AGAIN');
		await page.waitForTimeout(5500);	/* one refresh of the tab, by itself */
	}
	/* the page is not reloaded: the tab refreshes by itself */
	await page.waitForFunction(() => {
		const t = document.querySelector('[role=tabpanel] table');
		return t && Array.from(t.querySelectorAll('tbody tr')).filter((tr) => tr.cells[3] && tr.cells[3].textContent === 'DOWN').length === 2;
	}, null, { timeout: Number(process.env.DOWN_TIMEOUT_MS || 45000) });
	const down = { rows: await rows(panel) };
	await page.screenshot({ path: path.join(ARTIFACTS, 'tunnels-down-by-itself.png'), fullPage: true });
	console.log('DOWN ' + JSON.stringify(down));
} finally {
	await browser.close();
}
process.exit(0);	/* stdin (the test's pipe) would keep node waiting */
