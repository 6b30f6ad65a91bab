/*
 * wizard.mjs — "Launch VPC Wizard": the four patterns of the AWS console
 * (the seed's list), their fields, and the build, made of the same EC2
 * calls as `vpcctl wizard` (src/cli/wizard.c) in the same order, with the
 * same rollback: each resource made is tagged Name=<name> and its undo
 * call recorded; when a step fails, the undo calls run newest first
 * (retrying IncorrectState and DependencyViolation a while) and the user
 * reads which step failed, the API's error and what was removed. A
 * customer gateway that existed before (CreateCustomerGateway answered
 * an identical one) is used, never tagged nor deleted.
 */
import { h, clear, arr, field, errorText, notice, table, link, values } from './ui.mjs';
import { downloadConfigDialog } from './vpn.mjs';

const RETRIES = 20;
const RETRY_MS = 250;
const NAT_WAIT_S = 120;	/* a NAT gateway becomes available (AWS: minutes) */

export const PATTERNS = [
	{ key: 'public', title: 'VPC with a Single Public Subnet', pub: true, priv: false, vpn: false,
		text: 'Your instances run in a private, isolated section of the cloud with direct access to the internet.' },
	{ key: 'public-private', title: 'VPC with Public and Private Subnets', pub: true, priv: true, vpn: false, nat: true,
		text: 'In addition to a public subnet, this adds a private subnet whose instances are not addressable from the internet; they reach it through a NAT gateway (with a new Elastic IP) in the public subnet.' },
	{ key: 'public-private-vpn', title: 'VPC with Public and Private Subnets and Hardware VPN Access', pub: true, priv: true, vpn: true,
		text: 'This adds an IPsec VPN connection between your VPC and your data centre — extending your data centre to the cloud while the public subnet reaches the internet.' },
	{ key: 'private-vpn', title: 'VPC with a Private Subnet Only and Hardware VPN Access', pub: false, priv: true, vpn: true,
		text: 'Your instances run in a private subnet reached only from your own network through an IPsec VPN connection.' },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* The build. input: {pattern, name, vpcCidr, publicSubnet, publicAz,
 * privateSubnet, privateAz, tenancy, cgwIp, routes[], bgpAsn}; onStep(text,
 * state) reports progress. Resolves {ok, ids, steps, failed, error,
 * rolledBack: [{what, error}]}. */
export async function runWizard(api, input, onStep = () => {}) {
	const pat = PATTERNS.find((p) => p.key === input.pattern);
	const undo = [], steps = [], ids = {};
	let current = '';
	const step = async (what, action, params) => {
		current = what;
		onStep(what, 'running');
		const r = await api.call(action, params);
		onStep(what, 'done');
		return r;
	};
	const record = (what, action, id, detail) => steps.push({ what, action, id, detail });
	const tag = (id) => api.call('CreateTags', { ResourceId: [id], Tag: [{ Key: 'Name', Value: input.name }] });
	const create = async (what, action, params, pick, key, delAction, delParam, detail) => {
		const r = await step(what, action, params);
		const id = pick(r);
		if (!id)
			throw Object.assign(new Error(`${action} answered no id`), { code: 'MalformedResponse' });
		ids[key] = id;
		undo.push({ what: `delete ${what.replace(/^create /, '')} ${id}`, action: delAction, params: { [delParam]: id } });
		record(what, action, id, detail);
		await tag(id);
		return id;
	};
	const change = async (what, action, params, undoAction, undoParams, undoWhat) => {
		await step(what, action, params);
		undo.push({ what: undoWhat, action: undoAction, params: undoParams });
		record(what, action, null, '');
	};
	const route = (rtb, dest, gw) => change(`route ${dest} -> ${gw} in ${rtb}`, 'CreateRoute',
		{ RouteTableId: rtb, DestinationCidrBlock: dest, [gw.startsWith('nat-') ? 'NatGatewayId' : 'GatewayId']: gw }, 'DeleteRoute',
		{ RouteTableId: rtb, DestinationCidrBlock: dest }, `delete route ${dest} -> ${gw} in ${rtb}`);
	const subnet = (cidr, az, what, key) => create(what, 'CreateSubnet', { VpcId: ids.VpcId, CidrBlock: cidr, AvailabilityZone: az || undefined },
		(r) => r.subnet && r.subnet.subnetId, key, 'DeleteSubnet', 'SubnetId', `${cidr}${az ? ` in ${az}` : ''}`);
	try {
		const vpc = await create('create VPC', 'CreateVpc', { CidrBlock: input.vpcCidr, InstanceTenancy: input.tenancy },
			(r) => r.vpc && r.vpc.vpcId, 'VpcId', 'DeleteVpc', 'VpcId', `${input.vpcCidr}, tenancy ${input.tenancy}`);
		current = 'find the main route table';
		const mains = arr((await api.call('DescribeRouteTables', { Filter: [{ Name: 'vpc-id', Value: [vpc] }, { Name: 'association.main', Value: ['true'] }] })).routeTableSet);
		if (!mains.length)
			throw Object.assign(new Error(`${vpc} has no main route table`), { code: 'MalformedResponse' });
		const mainRtb = ids.MainRouteTableId = mains[0].routeTableId;
		await tag(mainRtb);
		const pub = pat.pub ? await subnet(input.publicSubnet, input.publicAz, 'create public subnet', 'PublicSubnetId') : null;
		if (pat.priv)
			await subnet(input.privateSubnet, input.privateAz, 'create private subnet', 'PrivateSubnetId');
		if (pat.pub) {
			const igw = await create('create internet gateway', 'CreateInternetGateway', {}, (r) => r.internetGateway && r.internetGateway.internetGatewayId,
				'InternetGatewayId', 'DeleteInternetGateway', 'InternetGatewayId');
			await change(`attach ${igw} to ${vpc}`, 'AttachInternetGateway', { InternetGatewayId: igw, VpcId: vpc },
				'DetachInternetGateway', { InternetGatewayId: igw, VpcId: vpc }, `detach ${igw} from ${vpc}`);
			const rtb = await create('create public route table', 'CreateRouteTable', { VpcId: vpc }, (r) => r.routeTable && r.routeTable.routeTableId,
				'PublicRouteTableId', 'DeleteRouteTable', 'RouteTableId', 'local, 0.0.0.0/0 -> igw');
			await route(rtb, '0.0.0.0/0', igw);
			const what = `associate ${pub} with ${rtb}`;
			const r = await step(what, 'AssociateRouteTable', { RouteTableId: rtb, SubnetId: pub });
			if (r.associationId)
				undo.push({ what: `disassociate ${pub} from ${rtb}`, action: 'DisassociateRouteTable', params: { AssociationId: r.associationId } });
			record(what, 'AssociateRouteTable', r.associationId, '');
		}
		if (pat.nat) {
			/* the private subnet's way out: a new Elastic IP, a NAT gateway
			 * with it in the public subnet (waited for until available),
			 * the main table's 0.0.0.0/0 to it */
			const ar = await step('allocate Elastic IP', 'AllocateAddress', { Domain: 'vpc' });
			if (!ar.allocationId)
				throw Object.assign(new Error('no AllocationId in the answer'), { code: 'MalformedResponse' });
			const alloc = ids.AllocationId = ar.allocationId;
			undo.push({ what: `release Elastic IP ${alloc}`, action: 'ReleaseAddress', params: { AllocationId: alloc } });
			record('allocate Elastic IP', 'AllocateAddress', alloc, ar.publicIp);
			await tag(alloc);
			const nat = await create('create NAT gateway', 'CreateNatGateway', { SubnetId: pub, AllocationId: alloc },
				(r) => r.natGateway && r.natGateway.natGatewayId, 'NatGatewayId', 'DeleteNatGateway', 'NatGatewayId',
				'in the public subnet, with the Elastic IP');
			current = 'wait for the NAT gateway';
			for (let waited = 0; ; waited++) {
				const g = arr((await api.call('DescribeNatGateways', { NatGatewayId: [nat] })).natGatewaySet)[0] || {};
				if (g.state === 'available')
					break;
				if (g.state !== 'pending' || waited >= NAT_WAIT_S) {
					current = `wait for NAT gateway ${nat}`;
					throw Object.assign(new Error(g.failureMessage || g.state || 'no state'), { code: g.failureCode || 'NatGatewayNotAvailable' });
				}
				await sleep(1000);
			}
			await route(mainRtb, '0.0.0.0/0', nat);
		}
		if (pat.vpn) {
			const vgw = await create('create VPN gateway', 'CreateVpnGateway', { Type: 'ipsec.1' }, (r) => r.vpnGateway && r.vpnGateway.vpnGatewayId,
				'VpnGatewayId', 'DeleteVpnGateway', 'VpnGatewayId');
			await change(`attach ${vgw} to ${vpc}`, 'AttachVpnGateway', { VpnGatewayId: vgw, VpcId: vpc },
				'DetachVpnGateway', { VpnGatewayId: vgw, VpcId: vpc }, `detach ${vgw} from ${vpc}`);
			await route(mainRtb, '0.0.0.0/0', vgw);
			current = 'list customer gateways';
			const before = arr((await api.call('DescribeCustomerGateways')).customerGatewaySet);
			const asn = input.bgpAsn || '65000';
			const what = `create customer gateway ${input.cgwIp}`;
			const cr = await step(what, 'CreateCustomerGateway', { Type: 'ipsec.1', IpAddress: input.cgwIp, BgpAsn: asn });
			const cgw = cr.customerGateway && cr.customerGateway.customerGatewayId;
			if (!cgw)
				throw Object.assign(new Error('no CustomerGatewayId in the answer'), { code: 'MalformedResponse' });
			const existed = before.some((g) => g.customerGatewayId === cgw && g.state !== 'deleted');
			ids.CustomerGatewayId = cgw;
			if (!existed)
				undo.push({ what: `delete customer gateway ${cgw}`, action: 'DeleteCustomerGateway', params: { CustomerGatewayId: cgw } });
			record(what, 'CreateCustomerGateway', cgw, `${input.cgwIp}, BGP ASN ${asn}${existed ? ' (existed already: used, not tagged)' : ''}`);
			if (!existed)
				await tag(cgw);
			const vpn = await create('create VPN connection', 'CreateVpnConnection',
				{ Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { StaticRoutesOnly: !input.bgpAsn } },
				(r) => r.vpnConnection && r.vpnConnection.vpnConnectionId, 'VpnConnectionId', 'DeleteVpnConnection', 'VpnConnectionId',
				`${input.bgpAsn ? 'dynamic (BGP)' : 'static'} routing`);
			for (const cidr of input.routes || [])
				await change(`static route ${cidr} via ${vpn}`, 'CreateVpnConnectionRoute', { VpnConnectionId: vpn, DestinationCidrBlock: cidr },
					'DeleteVpnConnectionRoute', { VpnConnectionId: vpn, DestinationCidrBlock: cidr }, `delete static route ${cidr} of ${vpn}`);
			await change(`propagate ${vgw} routes into ${mainRtb}`, 'EnableVgwRoutePropagation', { RouteTableId: mainRtb, GatewayId: vgw },
				'DisableVgwRoutePropagation', { RouteTableId: mainRtb, GatewayId: vgw }, `stop propagating ${vgw} into ${mainRtb}`);
		}
		return { ok: true, ids, steps };
	} catch (error) {
		onStep(current, 'failed');
		const rolledBack = [];
		while (undo.length) {
			const u = undo.pop();
			let err = null;
			for (let i = 0; i < RETRIES; i++) {
				try {
					await api.call(u.action, u.params);
					err = null;
					break;
				} catch (e) {
					err = e;
					if (e.code !== 'IncorrectState' && e.code !== 'DependencyViolation')
						break;
					await sleep(RETRY_MS);	/* a detach or delete still in progress */
				}
			}
			rolledBack.push({ what: u.what, error: err });
			onStep(`rolled back: ${u.what}`, err ? 'failed' : 'undone');
		}
		return { ok: false, ids, steps, failed: current, error, rolledBack };
	}
}

/* --- the screens ---------------------------------------------------------------- */

const CIDR = '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$';

export function renderWizard(app, main) {
	document.title = 'VPC wizard — vpcd console';
	const state = { pattern: 'public-private-vpn', routes: [], routing: 'static' };
	const zonesP = app.api.call('DescribeAvailabilityZones').then((r) => arr(r.availabilityZoneInfo).map((z) => z.zoneName)).catch(() => []);

	function screen(title, ...content) {
		clear(main).append(h('h1', {}, 'VPC wizard'), h('h2', { tabindex: '-1', class: 'step-title' }, title), h('div', {}, content));
		main.querySelector('.step-title').focus();
	}

	function step1() {
		const list = h('fieldset', { class: 'patterns' }, h('legend', {}, 'Step 1: Select a VPC Configuration'),
			PATTERNS.map((p, i) => {
				const id = `pattern-${p.key}`;
				return h('div', { class: 'pattern' },
					h('input', { type: 'radio', name: 'pattern', id, value: p.key, checked: p.key === state.pattern }),
					h('label', { for: id }, h('strong', {}, `${i + 1}. ${p.title}`), h('span', {}, p.text)));
			}));
		const form = h('form', {}, list, h('div', { class: 'actions' }, h('a', { href: '#/', class: 'button' }, 'Cancel'),
			h('button', { type: 'submit', class: 'primary' }, 'Select')));
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			state.pattern = values(form).pattern || state.pattern;
			PATTERNS.find((p) => p.key === state.pattern).vpn ? step2() : step3();
		});
		screen('Step 1: Select a VPC Configuration', form);
	}

	function step2() {
		const err = h('div', { 'aria-live': 'assertive' });
		const routeList = h('ul', { class: 'routes', 'aria-label': 'Static routes' });
		const drawRoutes = () => clear(routeList).append(...state.routes.map((r) => h('li', {}, r, ' ',
			h('button', { type: 'button', class: 'small', 'aria-label': `Remove ${r}`, onclick: () => { state.routes = state.routes.filter((x) => x !== r); drawRoutes(); } }, 'Remove'))));
		drawRoutes();
		const ip = field({ name: 'cgwIp', label: 'Customer Gateway IP', required: true, value: state.cgwIp || '', placeholder: '198.51.100.2',
			help: 'The public IP address of your router (the customer gateway), where both IPsec tunnels end.' });
		const prefix = field({ name: 'prefix', label: 'IP Prefix', placeholder: '10.0.0.0/24', help: 'A network behind your router: the VPC routes it through the VPN.' });
		const add = h('button', { type: 'button', onclick: () => {
			const v = prefix.control.value.trim();
			clear(err);
			if (!new RegExp(CIDR).test(v))
				return err.append(notice(`'${v}' is not a CIDR block such as 10.0.0.0/24`, 'error'));
			if (!state.routes.includes(v))
				state.routes.push(v);
			prefix.control.value = '';
			drawRoutes();
			prefix.control.focus();
		} }, 'Add');
		prefix.control.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); add.click(); } });
		const asn = field({ name: 'bgpAsn', label: 'BGP ASN of your router', type: 'number', value: state.bgpAsn || 65000 });
		const staticBox = h('div', { class: 'subform' }, prefix, add, routeList);
		const radio = (value, text) => {
			const id = `routing-${value}`;
			return h('div', { class: 'field check' }, h('input', { type: 'radio', name: 'routing', id, value, checked: state.routing === value,
				onchange: () => { state.routing = value; show(); } }), h('label', { for: id }, text));
		};
		const show = () => { staticBox.hidden = state.routing !== 'static'; asn.hidden = state.routing === 'static'; };
		const form = h('form', { 'aria-label': 'VPN settings' }, ip,
			h('fieldset', {}, h('legend', {}, 'Routing Type'), radio('static', 'Use static routing'), staticBox,
				radio('dynamic', 'Use dynamic routing (requires BGP)'), asn),
			err, h('div', { class: 'actions' }, h('button', { type: 'button', onclick: step1 }, 'Back'), h('button', { type: 'submit', class: 'primary' }, 'Continue')));
		show();
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			clear(err);
			state.cgwIp = ip.control.value.trim();
			state.bgpAsn = asn.control.value.trim();
			if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(state.cgwIp))
				return err.append(notice('Enter the router\'s public IPv4 address, e.g. 198.51.100.2', 'error'));
			if (prefix.control.value.trim())
				return err.append(notice('Click Add to add the IP prefix you typed, or clear it', 'error'));
			if (state.routing === 'dynamic' && !/^\d+$/.test(state.bgpAsn))
				return err.append(notice('The BGP ASN is a number', 'error'));
			step3();
		});
		screen('Step 2: Configure your VPN', form);
	}

	async function step3() {
		const pat = PATTERNS.find((p) => p.key === state.pattern);
		const zones = [['', 'No Preference'], ...(await zonesP).map((z) => [z, z])];
		const form = h('form', { 'aria-label': 'VPC settings' },
			h('fieldset', {}, h('legend', {}, 'One VPC'),
				field({ name: 'vpcCidr', label: 'IPv4 CIDR block', value: state.vpcCidr || '10.0.0.0/16', required: true, pattern: CIDR }),
				field({ name: 'name', label: 'VPC name', value: state.name || '', required: true, help: 'Everything the wizard makes is tagged Name=<this>.' })),
			pat.pub ? h('fieldset', {}, h('legend', {}, 'Public subnet'),
				field({ name: 'publicSubnet', label: 'Public subnet\'s IPv4 CIDR', value: state.publicSubnet || '10.0.0.0/24', required: true, pattern: CIDR }),
				field({ name: 'publicAz', label: 'Public subnet\'s Availability Zone', type: 'select', options: zones, value: state.publicAz || '' })) : null,
			pat.priv ? h('fieldset', {}, h('legend', {}, 'Private subnet'),
				field({ name: 'privateSubnet', label: 'Private subnet\'s IPv4 CIDR', value: state.privateSubnet || '10.0.1.0/24', required: true, pattern: CIDR }),
				field({ name: 'privateAz', label: 'Private subnet\'s Availability Zone', type: 'select', options: zones, value: state.privateAz || '' })) : null,
			pat.vpn ? h('fieldset', {}, h('legend', {}, 'One VPN Connection'),
				h('p', {}, `Customer gateway ${state.cgwIp}; ${state.routing === 'static'
					? `static routing${state.routes.length ? `: ${state.routes.join(', ')}` : ' with no route yet'}` : `dynamic routing, BGP ASN ${state.bgpAsn}`}`)) : null,
			h('fieldset', {}, h('legend', {}, 'Hardware tenancy'),
				field({ name: 'tenancy', label: 'Hardware tenancy', type: 'select', options: [['default', 'Default'], ['dedicated', 'Dedicated']], value: state.tenancy || 'default' })),
			h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => (pat.vpn ? step2() : step1()) }, 'Back'),
				h('button', { type: 'submit', class: 'primary' }, 'Create VPC')));
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			Object.assign(state, values(form));
			build();
		});
		screen(`Step ${pat.vpn ? 3 : 2}: ${pat.title}`, form);
	}

	async function build() {
		const pat = PATTERNS.find((p) => p.key === state.pattern);
		const input = {
			pattern: state.pattern, name: state.name, vpcCidr: state.vpcCidr, tenancy: state.tenancy,
			publicSubnet: pat.pub ? state.publicSubnet : undefined, publicAz: state.publicAz,
			privateSubnet: pat.priv ? state.privateSubnet : undefined, privateAz: state.privateAz,
			cgwIp: pat.vpn ? state.cgwIp : undefined,
			routes: pat.vpn && state.routing === 'static' ? state.routes : [],
			bgpAsn: pat.vpn && state.routing === 'dynamic' ? state.bgpAsn : undefined,
		};
		const log = h('ol', { class: 'progress', 'aria-live': 'polite' });
		screen('Creating VPC…', h('p', {}, 'Please wait: each step is an EC2 API call.'), log);
		const items = new Map();
		const res = await runWizard(app.api, input, (what, st) => {
			let li = items.get(what);
			if (!li) {
				li = h('li', {});
				items.set(what, li);
				log.append(li);
			}
			li.className = st;
			li.textContent = `${what} — ${st}`;
		});
		const stepsTable = table({
			caption: 'What the wizard made', columns: [['Step', (s) => s.what], ['ID', (s) => (s.id ? idLink(s.id) : '-')], ['Detail', (s) => s.detail || '']],
			rows: res.steps,
		});
		if (res.ok) {
			const vpn = res.ids.VpnConnectionId;
			screen('VPC Successfully Created',
				notice(`Your VPC has been successfully created: ${res.ids.VpcId}.`, 'ok'),
				vpn ? h('p', {}, 'Download the configuration of your router (the customer gateway) to bring both VPN tunnels up.') : null,
				stepsTable,
				h('div', { class: 'actions' },
					vpn ? h('button', { type: 'button', class: 'primary', onclick: async () => {
						const v = arr((await app.api.call('DescribeVpnConnections', { VpnConnectionId: [vpn] })).vpnConnectionSet)[0];
						downloadConfigDialog(app.api, v);
					} }, 'Download Configuration') : null,
					h('a', { class: 'button', href: `#/vpcs/${res.ids.VpcId}` }, 'OK')));
		} else {
			screen('The VPC could not be created',
				h('div', { class: 'error', role: 'alert' }, `Step "${res.failed}" failed: ${errorText(res.error)}`),
				h('p', {}, res.rolledBack.length ? `Everything made so far was removed, newest first:` : 'Nothing had been made.'),
				h('ul', { class: 'rollback' }, res.rolledBack.map((r) => h('li', { class: r.error ? 'failed' : 'undone' },
					r.error ? `could not ${r.what}: ${errorText(r.error)}` : `rolled back: ${r.what}`))),
				res.rolledBack.some((r) => r.error) ? notice('Some changes could not be undone (listed above): remove them by hand.', 'error')
					: notice('Rolled back; nothing was left behind.', 'ok'),
				h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: step3 }, 'Back to the settings')));
		}
	}
	step1();
}

function idLink(id) {
	const types = { 'vpc-': 'vpcs', 'subnet-': 'subnets', 'rtb-': 'routeTables', 'igw-': 'igws', 'vgw-': 'vgws', 'cgw-': 'cgws', 'vpn-': 'vpns', 'nat-': 'natGateways', 'eipalloc-': 'eips' };
	const t = Object.entries(types).find(([p]) => id.startsWith(p));
	return t ? link(t[1], id) : id;
}
