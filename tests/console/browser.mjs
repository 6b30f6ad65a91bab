/*
 * browser.mjs — the console's story in a real headless Chromium (Debian's,
 * driven by playwright-core), against the vpcd tests/console/test_browser.py
 * started: sign in (a wrong key refused), the seed's wizard pattern
 * (public + private subnets + hardware VPN, static route), every resource
 * it made in the lists, Download Configuration for the Cisco ISR, a
 * static route added, a security group and its rules, an instance
 * launched into the private subnet, "Why can't I reach it?" before and
 * after breaking its security group and its network ACL, the tunnels
 * DOWN with their status message, paging, an API error in words, tags,
 * the phone layout, keyboard use, sign-out. Every screen is saved as a
 * PNG in ARTIFACTS. It asserts what the page shows; what it made and
 * downloaded goes to RESULT (JSON) for the Python side to check against
 * the API with boto3.
 *
 * Environment: ENDPOINT, KEY_ID, SECRET, ARTIFACTS, RESULT, PLAYWRIGHT_DIR,
 * REGIONS (JSON list DescribeRegions answers), CHROMIUM (default
 * /usr/bin/chromium).
 */
import { createRequire } from 'module';
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';

const env = (k) => {
	if (!process.env[k])
		throw new Error(`${k} is not set`);
	return process.env[k];
};
const ENDPOINT = env('ENDPOINT'), KEY_ID = env('KEY_ID'), SECRET = env('SECRET');
const ARTIFACTS = env('ARTIFACTS'), RESULT = env('RESULT');
const REGIONS = JSON.parse(env('REGIONS'));
const require = createRequire(path.join(env('PLAYWRIGHT_DIR'), 'package.json'));
const { chromium } = require('playwright-core');

const result = { steps: [] };
let shot = 0;
const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

async function snap(page, name) {
	const file = path.join(ARTIFACTS, `${String(++shot).padStart(2, '0')}-${name}.png`);
	await page.screenshot({ path: file, fullPage: true });
	return file;
}

/* The page must not scroll sideways: nothing wider than the viewport. */
async function assertNoOverflow(page, what) {
	const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
	assert.ok(sw <= iw + 1, `${what}: the page is ${sw}px wide in a ${iw}px viewport`);
}

/* Every control on the page has a name a screen reader reads (a label,
 * aria-label or aria-labelledby; a button its text). */
async function assertLabelled(page, what) {
	const bad = await page.evaluate(() => Array.from(document.querySelectorAll('input, select, textarea, button'))
		.filter((el) => el.offsetParent !== null || el.closest('dialog'))
		.filter((el) => !((el.labels && el.labels.length && el.labels[0].textContent.trim()) || el.getAttribute('aria-label') ||
			el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim())))
		.map((el) => el.outerHTML.slice(0, 120)));
	assert.deepEqual(bad, [], `${what}: controls without a label`);
}

async function step(name, fn) {
	log('step:', name);
	await fn();
	result.steps.push(name);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
let page;
try {
	const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo',
		acceptDownloads: true });
	page = await context.newPage();
	page.setDefaultTimeout(20000);
	const pageErrors = [], apiCalls = [], others = [];
	page.on('pageerror', (e) => pageErrors.push(e.message));
	page.on('request', (r) => {
		const u = new URL(r.url());
		if (u.origin !== new URL(ENDPOINT).origin)
			return others.push(r.url());
		if (u.pathname === '/' && r.resourceType() === 'document')
			return;	/* the browser's GET / that vpcd redirects to /console/ */
		if (u.pathname === '/')
			apiCalls.push({ method: r.method(), auth: r.headers().authorization || '', body: r.postData() || '' });
		else if (!u.pathname.startsWith('/console/'))
			others.push(r.url());
	});

	await step('browser GET / is redirected to the console', async () => {
		const resp = await page.goto(`${ENDPOINT}/`);
		assert.equal(new URL(page.url()).pathname, '/console/');
		assert.equal(resp.status(), 200);
		await page.getByRole('heading', { name: 'Sign in to the vpcd console' }).waitFor();
		await snap(page, 'sign-in');
		await assertLabelled(page, 'sign-in');
	});

	await step('a wrong secret is refused', async () => {
		await page.getByLabel('Access key ID').fill(KEY_ID);
		await page.getByLabel('Secret access key').fill(SECRET + 'wrong');
		await page.getByRole('button', { name: 'Sign in' }).click();
		const alert = page.getByRole('alert');
		await alert.waitFor();
		const text = await alert.textContent();
		assert.match(text, /Sign-in refused/);
		assert.match(text, /AuthFailure/);
		assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused key must not be kept');
		await snap(page, 'sign-in-refused');
	});

	await step('sign in with the key, by keyboard (Enter)', async () => {
		await page.getByLabel('Secret access key').fill(SECRET);
		await page.getByLabel('Secret access key').press('Enter');
		await page.getByRole('heading', { name: 'Get started creating a VPC' }).waitFor();
		const stored = await page.evaluate(() => Object.keys(sessionStorage));
		assert.deepEqual(stored, ['vpcd-console-session']);
		assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
	});

	await step('dashboard: counts and the region picker', async () => {
		await page.waitForFunction(() => !Array.from(document.querySelectorAll('.count')).some((c) => c.textContent === '…'));
		const cards = await page.locator('.card').allTextContents();
		assert.ok(cards.some((c) => /^1\s*Your VPCs/.test(c)), `one VPC (the default) in: ${cards}`);
		assert.ok(cards.some((c) => /^12\s*Security groups/.test(c) || /^1[0-9]\s*Security groups/.test(c)), `security groups counted: ${cards}`);
		assert.equal(await page.locator('.card .error').count(), 0, 'no card failed');
		const opts = await page.getByLabel('Region', { exact: true }).locator('option').allTextContents();
		assert.deepEqual(opts, REGIONS);
		await snap(page, 'dashboard');
		await assertLabelled(page, 'dashboard');
		await assertNoOverflow(page, 'dashboard at 1280x800');
	});

	await step('the VPC wizard: the seed\'s pattern 3', async () => {
		await page.getByRole('link', { name: 'Launch VPC Wizard' }).first().click();
		await page.getByRole('heading', { name: 'Step 1: Select a VPC Configuration' }).waitFor();
		for (const p of ['VPC with a Single Public Subnet', 'VPC with Public and Private Subnets', 'VPC with Public and Private Subnets and Hardware VPN Access',
			'VPC with a Private Subnet Only and Hardware VPN Access'])
			await page.getByText(p, { exact: false }).first().waitFor();
		await snap(page, 'wizard-patterns');
		await assertLabelled(page, 'wizard step 1');
		await page.getByLabel(/3\. VPC with Public and Private Subnets and Hardware VPN Access/).check();
		await page.getByRole('button', { name: 'Select' }).click();
		await page.getByRole('heading', { name: 'Step 2: Configure your VPN' }).waitFor();
		await page.getByLabel('Customer Gateway IP').fill('198.51.100.2');
		await page.getByLabel('Use dynamic routing (requires BGP)').check();
		assert.equal(await page.getByLabel('BGP ASN of your router').isVisible(), true);
		assert.equal(await page.getByLabel('IP Prefix').isVisible(), false);
		await page.getByLabel('Use static routing').check();
		assert.equal(await page.getByLabel('BGP ASN of your router').isVisible(), false, 'static routing asks no ASN');
		await page.getByLabel('IP Prefix').fill('10.0.0.0/24');
		await page.getByRole('button', { name: 'Add', exact: true }).click();
		await page.getByLabel('IP Prefix').fill('not-a-cidr');
		await page.getByRole('button', { name: 'Add', exact: true }).click();
		await page.getByText('\'not-a-cidr\' is not a CIDR block').waitFor();
		await page.getByLabel('IP Prefix').fill('');
		assert.deepEqual(await page.getByRole('list', { name: 'Static routes' }).locator('li').allTextContents(), ['10.0.0.0/24 Remove']);
		await snap(page, 'wizard-vpn');
		await assertLabelled(page, 'wizard step 2');
		await page.getByRole('button', { name: 'Continue' }).click();
		await page.getByRole('heading', { name: /Step 3: VPC with Public and Private Subnets and Hardware VPN Access/ }).waitFor();
		await page.getByLabel('IPv4 CIDR block').fill('10.96.0.0/16');
		await page.getByLabel('VPC name').fill('office');
		await page.getByLabel('Public subnet\'s IPv4 CIDR').fill('10.96.0.0/24');
		await page.getByLabel('Private subnet\'s IPv4 CIDR').fill('10.96.1.0/24');
		await page.getByLabel('Private subnet\'s Availability Zone').selectOption('us-east-1a');
		await page.getByLabel('Hardware tenancy').selectOption('default');
		await page.getByText('Customer gateway 198.51.100.2; static routing: 10.0.0.0/24').waitFor();
		await snap(page, 'wizard-vpc');
		await assertLabelled(page, 'wizard step 3');
		await page.getByRole('button', { name: 'Create VPC' }).click();
		await page.getByRole('heading', { name: 'VPC Successfully Created' }).waitFor();
		await snap(page, 'wizard-created');
		const rows = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
		const idOf = (re) => {
			const r = rows.find(([what]) => re.test(what));
			assert.ok(r, `the wizard's table has a row for ${re}: ${JSON.stringify(rows)}`);
			return r[1];
		};
		result.wizard = {
			VpcId: idOf(/^create VPC$/), PublicSubnetId: idOf(/^create public subnet$/), PrivateSubnetId: idOf(/^create private subnet$/),
			InternetGatewayId: idOf(/^create internet gateway$/), PublicRouteTableId: idOf(/^create public route table$/),
			VpnGatewayId: idOf(/^create VPN gateway$/), CustomerGatewayId: idOf(/^create customer gateway/),
			VpnConnectionId: idOf(/^create VPN connection$/),
		};
		assert.ok(rows.some(([w]) => w === `static route 10.0.0.0/24 via ${result.wizard.VpnConnectionId}`));
		assert.ok(rows.some(([w]) => /^propagate vgw-/.test(w)));
	});

	await step('Download Configuration after the wizard (Cisco ISR, IKEv1)', async () => {
		await page.getByRole('button', { name: 'Download Configuration' }).click();
		const dlg = page.getByRole('dialog', { name: 'Download Configuration' });
		await dlg.waitFor();
		await dlg.getByLabel('Vendor').selectOption('Cisco Systems, Inc.');
		await dlg.getByLabel('Platform').selectOption('ISR Series Routers');
		await dlg.getByLabel('Software').selectOption('IOS 12.4+');
		await dlg.getByLabel('IKE version').selectOption('ikev1');
		await snap(page, 'download-dialog');
		await assertLabelled(page, 'Download Configuration');
		const [download] = await Promise.all([page.waitForEvent('download'), dlg.getByRole('button', { name: 'Download' }).click()]);
		const file = path.join(ARTIFACTS, 'cisco-isr-ikev1.txt');
		await download.saveAs(file);
		result.downloads = [{ file, name: download.suggestedFilename(), vendor: 'Cisco Systems, Inc.', platform: 'ISR Series Routers',
			software: 'IOS 12.4+', ike: 'ikev1' }];
		await dlg.waitFor({ state: 'detached' });
	});

	const W = () => result.wizard;
	await step('every resource the wizard made is in the lists', async () => {
		const lists = [['vpcs', [W().VpcId]], ['subnets', [W().PublicSubnetId, W().PrivateSubnetId]], ['routeTables', [W().PublicRouteTableId]],
			['igws', [W().InternetGatewayId]], ['vgws', [W().VpnGatewayId]], ['cgws', [W().CustomerGatewayId]], ['vpns', [W().VpnConnectionId]]];
		for (const [type, ids] of lists) {
			await page.goto(`${ENDPOINT}/console/#/${type}`);
			await page.getByRole('search').getByLabel('Filter by').selectOption('tag:Name');
			await page.getByRole('search').getByLabel('Value').fill('office');
			await page.getByRole('button', { name: 'Apply filter' }).click();
			await page.getByText('filtered by tag:Name = office').waitFor();
			const cells = await page.locator('.list table tbody td').allTextContents();
			for (const id of ids)
				assert.ok(cells.includes(id), `${type}: ${id} is listed (${cells})`);
			await snap(page, `list-${type}`);
		}
		/* the main route table: tagged too, 0.0.0.0/0 to the VPN gateway, propagating */
		await page.goto(`${ENDPOINT}/console/#/routeTables`);
		await page.getByRole('search').getByLabel('Filter by').selectOption('vpc-id');
		await page.getByRole('search').getByLabel('Value').fill(W().VpcId);
		await page.getByRole('button', { name: 'Apply filter' }).click();
		await page.getByText(`filtered by vpc-id = ${W().VpcId}`).waitFor();
		const mainRow = page.locator('.list tbody tr', { hasText: 'Yes' });
		await mainRow.getByRole('link', { name: /^rtb-/ }).click();
		await page.getByRole('tab', { name: 'Routes', exact: true }).click();
		await page.getByRole('tabpanel').getByText(W().VpnGatewayId).first().waitFor();
		await snap(page, 'main-route-table-routes');
		await page.getByRole('tab', { name: 'Route propagation', exact: true }).click();
		await page.getByRole('tabpanel').getByText('Disable propagation').waitFor();
		await snap(page, 'main-route-table-propagation');
		await page.getByRole('tab', { name: 'Subnet associations', exact: true }).click();
		await page.getByText('This is the VPC\'s main route table').waitFor();
	});

	await step('VPN connection: tunnels DOWN with their status, refreshing by itself', async () => {
		await page.goto(`${ENDPOINT}/console/#/vpns/${W().VpnConnectionId}`);
		await page.getByRole('tab', { name: 'Tunnel details', exact: true }).click();
		const panel = page.getByRole('tabpanel');
		await panel.getByText('Tunnel 2').waitFor();
		const rows = await panel.locator('table').first().locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
		assert.equal(rows.length, 2);
		for (const r of rows) {
			assert.match(r[1], /^203\.0\.113\.[12]$/);
			assert.equal(r[3], 'DOWN');
			assert.equal(r[5], 'IPSEC IS DOWN');
			assert.match(r[4], /^\d{4}\/\d{1,2}\/\d{1,2} \d{1,2}:\d{2}:\d{2} JST$/, `last change in the ja-JP locale and Tokyo time: ${r[4]}`);
		}
		result.tunnelRows = rows;
		const stamp = panel.getByText(/^Refreshed /);
		const first = await stamp.textContent();
		await page.waitForFunction((t) => Array.from(document.querySelectorAll('p.help')).some((p) => p.textContent.startsWith('Refreshed ') && p.textContent !== t),
			first, { timeout: 15000 });
		result.tunnelDetail = await panel.getByRole('region', { name: 'Tunnel detail from vpcd' }).textContent();
		/* a dynamic connection's BGP sessions as the tab renders vpcd's
		 * BgpDocument (the page's own module; no BIRD here) */
		const bgp = await page.evaluate(async () => {
			const m = await import('/console/js/vpn.mjs');
			const since = Math.floor(Date.now() / 1000) - 3725;
			const el = m.renderBgp({
				Tunnels: [{ OutsideIpAddress: '203.0.113.1', State: 'Established', Since: since, NeighborAsn: 65000, Received: 3, Advertised: 1, LastError: '', Cause: '' },
					{ OutsideIpAddress: '203.0.113.2', State: 'Down', Since: since, NeighborAsn: 65000, Received: 0, Advertised: 0, LastError: 'Route limit exceeded', Cause: 'prefix-limit' }],
				Routes: [{ DestinationCidrBlock: '172.16.0.0/16', Tunnel: 0, AsPathLength: 1, Med: 20 }],
			}, { options: { tunnelOptionSet: [{ outsideIpAddress: '203.0.113.1', tunnelInsideCidr: '169.254.10.0/30' },
				{ outsideIpAddress: '203.0.113.2', tunnelInsideCidr: '169.254.11.4/30' }] } });
			return { heading: el.querySelector('h3').textContent,
				rows: Array.from(el.querySelectorAll('tbody tr'), (tr) => Array.from(tr.cells, (c) => c.textContent)) };
		});
		assert.equal(bgp.heading, 'BGP sessions (show ip bgp summary)');
		assert.deepEqual(bgp.rows[0], ['Tunnel 1', '169.254.10.2', '65000', '01:02:05', '3', '1', '-']);
		assert.deepEqual(bgp.rows[1], ['Tunnel 2', '169.254.11.6', '65000', '01:02:05', 'Idle (PfxCt)', '0', 'Route limit exceeded']);
		assert.deepEqual(bgp.rows[2], ['172.16.0.0/16', 'Tunnel 1', '1', '20']);
		await snap(page, 'vpn-tunnels');
		await assertLabelled(page, 'VPN connection');
		/* keyboard: arrows move between the tabs */
		await page.getByRole('tab', { name: 'Tunnel details', exact: true }).focus();
		await page.keyboard.press('ArrowRight');
		assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Static routes');
		await panel.getByText('10.0.0.0/24').waitFor();
	});

	await step('Download Configuration from the VPN connection (Cisco ISR, IKEv2)', async () => {
		await page.getByRole('tab', { name: 'Details', exact: true }).click();
		await page.getByRole('tabpanel').getByRole('button', { name: 'Download configuration' }).click();
		const dlg = page.getByRole('dialog', { name: 'Download Configuration' });
		await dlg.getByLabel('Vendor').selectOption('Cisco Systems, Inc.');
		await dlg.getByLabel('Platform').selectOption('ISR Series Routers');
		await dlg.getByLabel('Software').selectOption('IOS 12.4+');
		await dlg.getByLabel('IKE version').selectOption('ikev2');
		const [download] = await Promise.all([page.waitForEvent('download'), dlg.getByRole('button', { name: 'Download' }).click()]);
		const file = path.join(ARTIFACTS, 'cisco-isr-ikev2.txt');
		await download.saveAs(file);
		result.downloads.push({ file, name: download.suggestedFilename(), vendor: 'Cisco Systems, Inc.', platform: 'ISR Series Routers',
			software: 'IOS 12.4+', ike: 'ikev2' });
		await dlg.waitFor({ state: 'detached' });
		await page.getByRole('tab', { name: 'Static routes', exact: true }).click();
		await page.getByRole('tabpanel').getByText('10.0.0.0/24').waitFor();
	});

	await step('modify a tunnel\'s options: the API\'s limit in words, then a change', async () => {
		await page.getByRole('button', { name: 'Modify VPN tunnel options' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('VPN tunnel outside IP address').selectOption('203.0.113.2');
		/* a tunnel at AWS's defaults shows them (and their ranges) as the
		 * module served from src/model/tunnel_limits.h says; test_browser.py
		 * holds what is shown against the header itself */
		const L = await page.evaluate(async () => Object.assign({}, await import('/console/js/tunnel_limits.mjs')));
		const help = async (label) => {
			const id = await dlg.getByLabel(label).getAttribute('aria-describedby');
			return (await dlg.locator(`[id="${id}"]`).textContent()).trim();
		};
		const shown = {
			dpd: await dlg.getByLabel('DPD timeout (seconds)').inputValue(),
			phase1: await dlg.getByLabel('Phase 1 lifetime (seconds)').inputValue(),
			phase2: await dlg.getByLabel('Phase 2 lifetime (seconds)').inputValue(),
			action: await dlg.getByLabel('DPD timeout action').inputValue(),
			actions: await dlg.getByLabel('DPD timeout action').locator('option').evaluateAll((os) => os.map((o) => o.value)),
			dpdRange: await help('DPD timeout (seconds)'),
			phase1Range: await help('Phase 1 lifetime (seconds)'),
			phase2Range: await help('Phase 2 lifetime (seconds)'),
		};
		assert.deepEqual(shown, {
			dpd: String(L.TUNNEL_DPD_TIMEOUT_DEFAULT), phase1: String(L.TUNNEL_PHASE1_LIFETIME_DEFAULT),
			phase2: String(L.TUNNEL_PHASE2_LIFETIME_DEFAULT), action: L.TUNNEL_DPD_ACTION_NAMES[0],
			actions: [...L.TUNNEL_DPD_ACTION_NAMES],
			dpdRange: `${L.TUNNEL_DPD_TIMEOUT_MIN} to ${L.TUNNEL_DPD_TIMEOUT_MAX}`,
			phase1Range: `${L.TUNNEL_PHASE1_LIFETIME_MIN} to ${L.TUNNEL_PHASE1_LIFETIME_MAX}`,
			phase2Range: `${L.TUNNEL_PHASE2_LIFETIME_MIN} to ${L.TUNNEL_PHASE2_LIFETIME_MAX}`,
		});
		result.tunnelDefaultsShown = shown;
		await dlg.getByLabel('DPD timeout (seconds)').fill('10');
		await assertLabelled(page, 'modify tunnel options');
		await dlg.getByRole('button', { name: 'Save changes' }).click();
		const err = await dlg.getByRole('alert').textContent();
		assert.match(err, /DPD.*\(InvalidParameterValue\)$/i, err);
		result.tunnelOptionError = err;
		await snap(page, 'modify-tunnel-error');
		await dlg.getByLabel('DPD timeout (seconds)').fill('40');
		await dlg.getByRole('button', { name: 'Save changes' }).click();
		await dlg.waitFor({ state: 'detached' });
		await page.getByRole('tab', { name: 'Static routes', exact: true }).click();
		await page.getByRole('tabpanel').getByText('10.0.0.0/24').waitFor();
	});

	await step('add a static route', async () => {
		await page.getByRole('button', { name: 'Add static route' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('Static IP prefix').fill('10.0.0.0/99');
		await dlg.getByRole('button', { name: 'Save' }).click();
		const err = await dlg.getByRole('alert').textContent();
		assert.match(err, /\(InvalidParameterValue\)$/, `the API's error in words: ${err}`);
		result.routeError = err;
		await snap(page, 'static-route-error');
		await dlg.getByLabel('Static IP prefix').fill('10.1.0.0/24');
		await dlg.getByRole('button', { name: 'Save' }).click();
		await dlg.waitFor({ state: 'detached' });
		await page.getByRole('tabpanel').getByText('10.1.0.0/24').waitFor();
		await snap(page, 'static-routes');
	});

	async function addSshRule(cidr, what) {
		await page.getByRole('button', { name: 'Add inbound rule' }).click();
		const add = page.getByRole('dialog');
		await add.getByLabel('Protocol').selectOption('tcp');
		await add.getByLabel('Port range from').fill('22');
		await add.getByLabel('Port range to').fill('22');
		await add.getByLabel(/^Source/).fill(cidr);
		await add.getByLabel('Description').fill(what);
		await add.getByRole('button', { name: 'Save rules' }).click();
		await add.waitFor({ state: 'detached' });
		await page.getByRole('tabpanel').getByText(cidr).waitFor();
	}

	await step('a security group allowing SSH from the office', async () => {
		await page.goto(`${ENDPOINT}/console/#/sgs`);
		await page.getByRole('button', { name: 'Create security group' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('Security group name').fill('office-ssh');
		await dlg.getByLabel('Description').fill('SSH from the office LAN');
		await dlg.getByLabel('VPC').selectOption(W().VpcId);
		await dlg.getByRole('button', { name: 'Create security group' }).click();
		await dlg.waitFor({ state: 'detached' });
		await page.getByRole('heading', { name: /^Security group: sg-/ }).waitFor();
		result.sgId = (await page.getByRole('heading', { name: /^Security group: sg-/ }).textContent()).match(/sg-[0-9a-f]+/)[0];
		await page.getByRole('tab', { name: 'Inbound rules', exact: true }).click();
		for (const [cidr, what] of [['10.0.0.0/24', 'office'], ['10.96.0.0/24', 'bastion']])
			await addSshRule(cidr, what);
		await snap(page, 'security-group-rules');
		await assertLabelled(page, 'security group');
	});

	async function launch(name, subnet, groupLabel, privateIp, publicIp) {
		await page.goto(`${ENDPOINT}/console/#/instances`);
		await page.getByRole('button', { name: 'Launch instances' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('Name').fill(name);
		await dlg.getByLabel('Subnet').selectOption(subnet);
		await dlg.getByLabel('Security groups').selectOption({ label: groupLabel });
		if (privateIp)
			await dlg.getByLabel(/Primary private IPv4 address/).fill(privateIp);
		await dlg.getByLabel('Auto-assign public IP').selectOption(publicIp ? 'true' : 'false');
		await snap(page, `launch-${name}`);
		await assertLabelled(page, 'launch instance');
		await dlg.getByRole('button', { name: 'Launch instance' }).click();
		await dlg.waitFor({ state: 'detached' });
		const heading = page.getByRole('heading', { name: new RegExp(`^Instance: i-[0-9a-f]+ \\(${name}\\)`) });
		await heading.waitFor();
		return (await heading.textContent()).match(/i-[0-9a-f]+/)[0];
	}

	await step('launch an instance into the private subnet', async () => {
		result.instanceId = await launch('db', W().PrivateSubnetId, `${result.sgId} | office-ssh`, '10.96.1.10', false);
		await page.getByRole('tabpanel').getByText('10.96.1.10').waitFor();
		await snap(page, 'instance');
	});

	await step('launch a bastion into the public subnet, with a public IP', async () => {
		await page.goto(`${ENDPOINT}/console/#/sgs`);
		await page.getByRole('search').getByLabel('Filter by').selectOption('vpc-id');
		await page.getByRole('search').getByLabel('Value').fill(W().VpcId);
		await page.getByRole('button', { name: 'Apply filter' }).click();
		await page.getByText(`filtered by vpc-id = ${W().VpcId}`).waitFor();
		const row = page.locator('.list tbody tr', { hasText: 'default' });
		const defaultSg = (await row.locator('td').nth(1).textContent()).trim();
		result.bastionId = await launch('bastion', W().PublicSubnetId, `${defaultSg} | default`, '', true);
		const pub = await page.getByRole('tabpanel').locator('dt:text-is("Public IPv4 address") + dd').textContent();
		assert.match(pub, /^\d+\.\d+\.\d+\.\d+$/, `the bastion's public IP: ${pub}`);
		result.bastionPublicIp = pub;
		await snap(page, 'instance-bastion');
	});

	async function analyse(from, sourceIp, expectReachable) {
		await page.goto(`${ENDPOINT}/console/#/instances/${result.instanceId}`);
		await page.getByRole('tab', { name: 'Why can\'t I reach it?', exact: true }).click();
		const panel = page.getByRole('tabpanel');
		await panel.getByLabel('From', { exact: true }).selectOption(from);
		await panel.getByLabel(/Source address/).fill(sourceIp);
		await panel.getByLabel('Protocol').selectOption('tcp');
		await panel.getByLabel('Destination port').fill('22');
		await panel.getByRole('button', { name: 'Analyze path' }).click();
		const verdict = panel.locator('.verdict');
		await verdict.waitFor();
		const text = await verdict.textContent();
		assert.match(text, expectReachable ? /^Reachable/ : /^Not reachable/, text);
		return panel;
	}

	await step('"Why can\'t I reach it?" from the office: the VPN is down', async () => {
		const panel = await analyse(W().VpnGatewayId, '10.0.0.10', false);
		const why = await panel.locator('.explanation').textContent();
		assert.equal(why, `The VPN connection through ${W().VpnGatewayId} has no tunnel up.`);
		result.vpnExplanation = why;
		await snap(page, 'unreachable-vpn-down');
	});

	await step('"Why can\'t I reach it?" from the bastion: reachable', async () => {
		const panel = await analyse(result.bastionId, '', true);
		const comps = await panel.locator('table tbody tr td:nth-child(2)').allTextContents();
		assert.ok(comps.includes(result.sgId), `the path passes ${result.sgId}: ${comps}`);
		const details = await panel.locator('table tbody tr td:nth-child(3)').allTextContents();
		assert.ok(details.some((d) => d.startsWith(`ingress rule of ${result.sgId}: TCP port 22 from 10.96.0.0/24`)), details.join(' | '));
		await snap(page, 'reachable');
		await assertLabelled(page, 'reachability');
	});

	await step('break the security group: the trace names it', async () => {
		await page.goto(`${ENDPOINT}/console/#/sgs/${result.sgId}`);
		await page.getByRole('tab', { name: 'Inbound rules', exact: true }).click();
		await page.getByRole('tabpanel').locator('tbody tr', { hasText: '10.96.0.0/24' }).getByRole('button', { name: /^Delete rule sgr-/ }).click();
		await page.getByRole('tabpanel').locator('tbody tr', { hasText: '10.96.0.0/24' }).waitFor({ state: 'detached' });
		await page.getByRole('tabpanel').getByText('10.0.0.0/24').waitFor();
		assert.equal(await page.getByRole('tabpanel').getByText('10.96.0.0/24').count(), 0);
		const panel = await analyse(result.bastionId, '', false);
		const why = await panel.locator('.explanation').textContent();
		assert.match(why, new RegExp(`^No inbound rule of security group ${result.sgId} \\(office-ssh\\) on eni-[0-9a-f]+ allows TCP port 22: it is dropped\\.$`), why);
		result.sgExplanation = why;
		await snap(page, 'unreachable-security-group');
	});

	await step('restore it, deny SSH in the network ACL: the trace names the rule', async () => {
		await page.goto(`${ENDPOINT}/console/#/sgs/${result.sgId}`);
		await page.getByRole('tab', { name: 'Inbound rules', exact: true }).click();
		await addSshRule('10.96.0.0/24', 'bastion');
		await page.goto(`${ENDPOINT}/console/#/subnets/${W().PrivateSubnetId}`);
		await page.getByRole('tab', { name: 'Network ACL', exact: true }).click();
		await page.getByRole('tabpanel').getByRole('link', { name: /^acl-/ }).click();
		await page.getByRole('heading', { name: /^Network ACL: acl-/ }).waitFor();
		result.aclId = (await page.getByRole('heading', { name: /^Network ACL: acl-/ }).textContent()).match(/acl-[0-9a-f]+/)[0];
		await page.getByRole('tab', { name: 'Inbound rules', exact: true }).click();
		await page.getByRole('button', { name: 'Add inbound rule' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('Rule number').fill('90');
		await dlg.getByLabel('Protocol').selectOption('6');
		await dlg.getByLabel('Port range from').fill('22');
		await dlg.getByLabel('Port range to').fill('22');
		await dlg.getByLabel('Source CIDR').fill('10.96.0.0/24');
		await dlg.getByLabel('Allow/Deny').selectOption('deny');
		await dlg.getByRole('button', { name: 'Save' }).click();
		await dlg.waitFor({ state: 'detached' });
		const rule = page.getByRole('tabpanel').locator('tbody tr', { hasText: '10.96.0.0/24' });
		await rule.waitFor();
		assert.deepEqual(await rule.locator('td').allTextContents(), ['90', 'TCP (6)', '22', '10.96.0.0/24', 'DENY', 'Delete']);
		await snap(page, 'network-acl-inbound');
		await assertLabelled(page, 'network ACL');
		const panel = await analyse(result.bastionId, '', false);
		const why = await panel.locator('.explanation').textContent();
		assert.equal(why, `Network ACL ${result.aclId} drops it (inbound) by rule 90: DENY TCP port 22 from 10.96.0.0/24.`);
		result.aclExplanation = why;
		await snap(page, 'unreachable-network-acl');
	});

	await step('an API error in words: an overlapping subnet', async () => {
		await page.goto(`${ENDPOINT}/console/#/subnets`);
		await page.getByRole('button', { name: 'Create subnet' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('VPC').selectOption(W().VpcId);
		await dlg.getByLabel('IPv4 CIDR block').fill('10.96.1.0/25');
		await dlg.getByRole('button', { name: 'Create subnet' }).click();
		const err = await dlg.getByRole('alert').textContent();
		assert.match(err, /conflicts with another subnet \(InvalidSubnet\.Conflict\)$/, err);
		result.subnetError = err;
		await snap(page, 'api-error');
		await dlg.getByRole('button', { name: 'Cancel' }).click();
	});

	await step('tags: add one to the VPC', async () => {
		await page.goto(`${ENDPOINT}/console/#/vpcs/${W().VpcId}`);
		await page.getByRole('tab', { name: 'Tags', exact: true }).click();
		await page.getByRole('button', { name: 'Add tag' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('Key').fill('site');
		await dlg.getByLabel('Value').fill('東京オフィス');
		await dlg.getByRole('button', { name: 'Save' }).click();
		await dlg.waitFor({ state: 'detached' });
		await page.getByRole('tabpanel').getByText('東京オフィス').waitFor();
		await snap(page, 'vpc-tags');
	});

	await step('paging: security groups ten at a time, as the API pages them', async () => {
		await page.goto(`${ENDPOINT}/console/#/sgs`);
		await page.getByLabel('Per page').selectOption('10');
		await page.getByText('Page 1 · 10 shown').waitFor();
		const first = await page.locator('.list tbody tr td:nth-child(2)').allTextContents();
		await page.getByRole('button', { name: 'Next page' }).click();
		await page.getByText(/^Page 2 · \d+ shown$/).waitFor();
		const second = await page.locator('.list tbody tr td:nth-child(2)').allTextContents();
		assert.equal(first.length, 10);
		assert.ok(second.length >= 1 && second.every((id) => !first.includes(id)), `pages overlap: ${first} / ${second}`);
		result.sgPages = [first, second];
		await snap(page, 'security-groups-page-2');
		await page.getByRole('button', { name: 'Previous page' }).click();
		await page.getByText('Page 1 · 10 shown').waitFor();
	});

	await step('Elastic IP: allocate, associate with the instance, disassociate, release', async () => {
		await page.goto(`${ENDPOINT}/console/#/eips`);
		await page.getByRole('button', { name: 'Allocate Elastic IP address' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('Name tag').fill('spare');
		await dlg.getByRole('button', { name: 'Allocate' }).click();
		await dlg.waitFor({ state: 'detached' });
		const heading = page.getByRole('heading', { name: /^Elastic IP address: eipalloc-/ });
		await heading.waitFor();
		result.eip = (await heading.textContent()).match(/eipalloc-[0-9a-f]+/)[0];
		await page.getByRole('button', { name: 'Associate Elastic IP address', exact: true }).click();
		const assoc = page.getByRole('dialog');
		await assoc.getByLabel('Instance').selectOption(result.instanceId);
		await assoc.getByRole('button', { name: 'Associate', exact: true }).click();
		await assoc.waitFor({ state: 'detached' });
		await page.getByRole('tabpanel').locator('dt:text-is("Associated instance") + dd').getByText(result.instanceId).waitFor();
		result.eipPrivateIp = await page.getByRole('tabpanel').locator('dt:text-is("Private IP address") + dd').textContent();
		await snap(page, 'elastic-ip');
		await page.getByRole('button', { name: 'Disassociate Elastic IP address' }).click();
		await page.getByRole('dialog').getByRole('button', { name: 'Disassociate' }).click();
		await page.getByRole('tabpanel').locator('dt:text-is("Associated instance") + dd').getByText('-', { exact: true }).waitFor();
		await page.getByRole('button', { name: 'Release Elastic IP address' }).click();
		await page.getByRole('dialog').getByRole('button', { name: 'Yes, release' }).click();
		await page.getByText(`Released ${result.eip}`).waitFor();
	});

	await step('NAT gateway: create in the public subnet with a new Elastic IP', async () => {
		await page.goto(`${ENDPOINT}/console/#/natGateways`);
		await page.getByRole('button', { name: 'Create NAT gateway' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('Name tag').fill('office-nat');
		await dlg.getByLabel('Subnet').selectOption(W().PublicSubnetId);
		await dlg.getByLabel('Connectivity type').selectOption('public');
		await dlg.getByLabel(/Elastic IP allocation ID/).selectOption('new');
		await assertLabelled(page, 'create NAT gateway');
		await dlg.getByRole('button', { name: 'Create NAT gateway' }).click();
		await dlg.waitFor({ state: 'detached' });
		const heading = page.getByRole('heading', { name: /^NAT gateway: nat-/ });
		await heading.waitFor();
		result.natGatewayId = (await heading.textContent()).match(/nat-[0-9a-f]+/)[0];
		const addr = await page.getByRole('tabpanel').locator('dt:text-is("Addresses") + dd').textContent();
		assert.match(addr, /^\d+\.\d+\.\d+\.\d+ \(eipalloc-[0-9a-f]+\) → 10\.96\.0\.\d+ on eni-[0-9a-f]+$/, addr);
		result.natAddress = addr;
		await snap(page, 'nat-gateway');
	});

	await step('peering connection: request from the office VPC to the default one, accept', async () => {
		await page.goto(`${ENDPOINT}/console/#/vpcs`);
		await page.getByRole('search').getByLabel('Filter by').selectOption('is-default');
		await page.getByRole('search').getByLabel('Value').fill('true');
		await page.getByRole('button', { name: 'Apply filter' }).click();
		await page.getByText('filtered by is-default = true').waitFor();
		const defaultVpc = (await page.locator('.list tbody tr td').nth(1).textContent()).trim();
		await page.goto(`${ENDPOINT}/console/#/peerings`);
		await page.getByRole('button', { name: 'Create peering connection' }).click();
		const dlg = page.getByRole('dialog');
		await dlg.getByLabel('Name tag').fill('office-default');
		await dlg.getByLabel('VPC ID (requester)').selectOption(W().VpcId);
		await dlg.getByLabel('VPC ID (accepter)').fill(defaultVpc);
		await assertLabelled(page, 'create peering connection');
		await dlg.getByRole('button', { name: 'Create peering connection' }).click();
		await dlg.waitFor({ state: 'detached' });
		const heading = page.getByRole('heading', { name: /^Peering connection: pcx-/ });
		await heading.waitFor();
		result.peeringId = (await heading.textContent()).match(/pcx-[0-9a-f]+/)[0];
		await page.getByRole('tabpanel').getByText('pending-acceptance').waitFor();
		await page.getByRole('button', { name: 'Accept request' }).click();
		await page.getByRole('tabpanel').locator('dt:text-is("Status") + dd').getByText('active', { exact: true }).waitFor();
		result.peeringDefaultVpc = defaultVpc;
		await snap(page, 'peering');
	});

	await step('phone width: no sideways scrolling, the menu folds', async () => {
		await page.setViewportSize({ width: 390, height: 844 });
		await page.goto(`${ENDPOINT}/console/#/vpns/${W().VpnConnectionId}`);
		await page.getByRole('tab', { name: 'Tunnel details', exact: true }).click();
		await page.getByRole('tabpanel').getByText('Tunnel 1').waitFor();
		await assertNoOverflow(page, 'VPN connection at 390px');
		assert.equal(await page.getByRole('navigation', { name: 'Console' }).isVisible(), false);
		await snap(page, 'phone-vpn');
		await page.getByRole('button', { name: 'Menu' }).click();
		await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'VPC dashboard' }).click();
		await page.getByRole('heading', { name: 'VPC dashboard' }).waitFor();
		await page.waitForFunction(() => !Array.from(document.querySelectorAll('.count')).some((c) => c.textContent === '…'));
		await assertNoOverflow(page, 'dashboard at 390px');
		await snap(page, 'phone-dashboard');
		await page.goto(`${ENDPOINT}/console/#/subnets`);
		await page.locator('.list table').waitFor();
		await assertNoOverflow(page, 'subnets at 390px');
		await snap(page, 'phone-subnets');
		await page.goto(`${ENDPOINT}/console/#/wizard`);
		await page.getByRole('button', { name: 'Select' }).click();
		await page.getByRole('heading', { name: /^Step 2: Configure your VPN/ }).waitFor();
		await assertNoOverflow(page, 'wizard at 390px');
		await snap(page, 'phone-wizard');
		await page.setViewportSize({ width: 1280, height: 800 });
	});

	await step('terminate the bastion', async () => {
		await page.goto(`${ENDPOINT}/console/#/instances/${result.bastionId}`);
		await page.getByRole('heading', { name: /^Instance: i-/ }).waitFor();
		await page.getByRole('button', { name: 'Terminate instance' }).click();
		await page.getByRole('dialog').getByRole('button', { name: 'Yes, terminate' }).click();
		await page.getByText(`Terminated ${result.bastionId}`).waitFor();
		await page.getByRole('tabpanel').getByText(/shutting-down|terminated/).first().waitFor();
		await snap(page, 'terminated');
	});

	await step('the wizard rolls back a failed build, as vpcctl wizard does', async () => {
		await page.goto(`${ENDPOINT}/console/#/wizard`);
		await page.getByLabel(/4\. VPC with a Private Subnet Only and Hardware VPN Access/).check();
		await page.getByRole('button', { name: 'Select' }).click();
		await page.getByLabel('Customer Gateway IP').fill('203.0.113.300');
		await page.getByRole('button', { name: 'Continue' }).click();
		await page.getByLabel('IPv4 CIDR block').fill('10.97.0.0/16');
		await page.getByLabel('VPC name').fill('rollback');
		await page.getByLabel('Private subnet\'s IPv4 CIDR').fill('10.97.1.0/24');
		assert.equal(await page.getByLabel('Public subnet\'s IPv4 CIDR').count(), 0, 'pattern 4 has no public subnet');
		await page.getByRole('button', { name: 'Create VPC' }).click();
		await page.getByRole('heading', { name: 'The VPC could not be created' }).waitFor();
		const alert = await page.getByRole('alert').first().textContent();
		assert.match(alert, /^Step "create customer gateway 203\.0\.113\.300" failed: .+ \([A-Za-z.]+\)$/, alert);
		const undone = await page.locator('ul.rollback li').allTextContents();
		assert.deepEqual(undone.map((u) => u.replace(/(vpc|subnet|vgw|rtb)-[0-9a-f]+/g, '$1-…')), [
			'rolled back: delete route 0.0.0.0/0 -> vgw-… in rtb-…', 'rolled back: detach vgw-… from vpc-…',
			'rolled back: delete VPN gateway vgw-…', 'rolled back: delete private subnet subnet-…', 'rolled back: delete VPC vpc-…']);
		await page.getByText('Rolled back; nothing was left behind.').waitFor();
		result.rollback = { error: alert, undone };
		await snap(page, 'wizard-rolled-back');
	});

	await step('keyboard only: skip link, navigation and a list by Tab and Enter', async () => {
		await page.goto(`${ENDPOINT}/console/#/`);
		await page.reload();	/* focus starts at the top of the document */
		await page.getByRole('heading', { name: 'VPC dashboard' }).waitFor();
		await page.keyboard.press('Tab');
		assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
		await page.keyboard.press('Enter');
		assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
		/* Tab from the region picker to the navigation, then along it to Subnets */
		await page.getByLabel('Region', { exact: true }).focus();
		const seen = [];
		for (let i = 0; i < 12 && seen[seen.length - 1] !== 'Subnets'; i++) {
			await page.keyboard.press('Tab');
			seen.push(await page.evaluate(() => document.activeElement.textContent.trim()));
		}
		assert.equal(seen[seen.length - 1], 'Subnets', `Tab order: ${seen.join(' > ')}`);
		await page.keyboard.press('Enter');
		await page.getByRole('heading', { name: 'Subnets', level: 1 }).waitFor();
		/* into the list: the first subnet's id link opens its details */
		await page.locator('.list tbody a').first().focus();
		await page.keyboard.press('Enter');
		await page.getByRole('heading', { name: /^Subnet: subnet-/ }).waitFor();
	});

	await step('dialogs: Escape closes them and focus returns', async () => {
		await page.goto(`${ENDPOINT}/console/#/vpcs`);
		const create = page.getByRole('button', { name: 'Create VPC' });
		await create.click();
		await page.getByRole('dialog', { name: 'Create VPC' }).waitFor();
		assert.equal(await page.evaluate(() => document.activeElement.name), 'name', 'focus starts in the first field');
		await page.keyboard.press('Escape');
		await page.getByRole('dialog').waitFor({ state: 'detached' });
		assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Create VPC');
	});

	await step('region picker: another region has its own resources', async () => {
		await page.goto(`${ENDPOINT}/console/#/`);
		await page.getByRole('heading', { name: 'Resources in us-east-1' }).waitFor();
		await page.getByLabel('Region', { exact: true }).selectOption('eu-west-1');
		await page.getByRole('heading', { name: 'Resources in eu-west-1' }).waitFor();
		await page.waitForFunction(() => !Array.from(document.querySelectorAll('.count')).some((c) => c.textContent === '…'));
		const cards = await page.locator('.card').allTextContents();
		assert.equal(await page.locator('.card .error').count(), 0, `no card failed: ${cards}`);
		assert.ok(cards.some((c) => /^0\s*Site-to-Site VPN connections/.test(c)), `no VPN connection in eu-west-1: ${cards}`);
		assert.ok(cards.some((c) => /^0\s*Instances/.test(c)), cards.join(' | '));
		result.euWest1Cards = cards;
		await snap(page, 'dashboard-eu-west-1');
		await page.getByLabel('Region', { exact: true }).selectOption('us-east-1');
		await page.getByRole('heading', { name: 'Resources in us-east-1' }).waitFor();
		assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem('vpcd-console-session')).region), 'us-east-1');
	});

	await step('every API call was SigV4-signed with the key; nothing else was fetched', async () => {
		assert.ok(apiCalls.length > 50, `${apiCalls.length} calls`);
		const regions = new Set();
		for (const c of apiCalls) {
			assert.equal(c.method, 'POST');
			assert.match(c.auth, new RegExp(`^AWS4-HMAC-SHA256 Credential=${KEY_ID}/\\d{8}/(us-east-1|eu-west-1)/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$`));
			regions.add(c.auth.split('/')[2]);
		}
		assert.deepEqual(others, []);
		assert.deepEqual(pageErrors, []);
		assert.deepEqual([...regions].sort(), ['eu-west-1', 'us-east-1']);
		result.apiCalls = apiCalls.length;
	});

	await step('sign out', async () => {
		await page.getByRole('button', { name: 'Sign out' }).click();
		await page.getByRole('heading', { name: 'Sign in to the vpcd console' }).waitFor();
		assert.equal(await page.evaluate(() => sessionStorage.length), 0);
		await page.goto(`${ENDPOINT}/console/#/vpcs`);
		await page.getByRole('heading', { name: 'Sign in to the vpcd console' }).waitFor();
		await snap(page, 'signed-out');
	});
	result.ok = true;
} catch (e) {
	result.ok = false;
	result.error = String(e && e.stack ? e.stack : e);
	if (page)
		await snap(page, 'FAILED').catch(() => {});
	throw e;
} finally {
	fs.writeFileSync(RESULT, JSON.stringify(result, null, 1));
	await browser.close();
}
