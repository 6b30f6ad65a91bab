/*
 * instances.mjs — instances: the launch form (an image, a type, a subnet,
 * its VPC's security groups, a private and a public IP), the detail tabs
 * (details, networking), and "Why can't I reach it?": a Reachability
 * Analyzer run (CreateNetworkInsightsPath, StartNetworkInsightsAnalysis,
 * DescribeNetworkInsightsAnalyses) from the VPN gateway, the internet
 * gateway or another instance to this one, showing the path taken and,
 * when the packet is dropped, the rule that drops it, in words.
 */
import { h, clear, arr, tagValue, dateEl, field, errorBox, notice, table, badge, dl, link, nextId } from './ui.mjs';
import { clientToken } from './ec2.mjs';

const INSTANCE_TYPES = ['t2.micro', 't3.micro', 't3.small', 't3.medium', 'm5.large', 'c5.large'];
const ANALYSIS_WAIT_MS = 500;
const ANALYSIS_TRIES = 60;

export function instancesOf(r) {
	return arr(r.reservationSet).flatMap((res) => arr(res.instancesSet));
}

export const launchInstance = {
	async fields(api) {
		const [images, subnets, groups] = await Promise.all([
			api.call('DescribeImages').then((r) => arr(r.imagesSet)),
			api.all('DescribeSubnets', { MaxResults: 1000 }, 'subnetSet'),
			api.all('DescribeSecurityGroups', { MaxResults: 1000 }, 'securityGroupInfo'),
		]);
		const subnet = field({ name: 'subnet', label: 'Subnet', type: 'select', required: true,
			options: subnets.map((s) => [s.subnetId, `${s.subnetId} | ${tagValue(s) || '-'} | ${s.vpcId} | ${s.cidrBlock} | ${s.availabilityZone} | ${s.availableIpAddressCount} IP addresses available`]) });
		const sgId = nextId('groups');
		const sgSelect = h('select', { id: sgId, name: 'groups', multiple: true, size: 4, required: true });
		const sgField = h('div', { class: 'field' }, h('label', { for: sgId }, 'Security groups'), sgSelect,
			h('p', { class: 'help' }, 'The groups of the subnet\'s VPC; choose one or more.'));
		const fillGroups = () => {
			const s = subnets.find((x) => x.subnetId === subnet.control.value);
			const mine = groups.filter((g) => s && g.vpcId === s.vpcId);
			clear(sgSelect).append(...mine.map((g, i) => h('option', { value: g.groupId, selected: i === 0 }, `${g.groupId} | ${g.groupName}`)));
		};
		subnet.control.addEventListener('change', fillGroups);
		fillGroups();
		return [{ name: 'name', label: 'Name' },
			field({ name: 'image', label: 'Amazon Machine Image (AMI)', type: 'select', required: true,
				options: images.map((i) => [i.imageId, `${i.name} (${i.imageId})`]) }),
			field({ name: 'type', label: 'Instance type', type: 'select', options: INSTANCE_TYPES.map((t) => [t, t]) }),
			subnet, sgField,
			{ name: 'privateIp', label: 'Primary private IPv4 address (empty: the next free one)', placeholder: 'auto-assign' },
			{ name: 'publicIp', label: 'Auto-assign public IP', type: 'select', options: [['', 'Use subnet setting'], ['true', 'Enable'], ['false', 'Disable']] }];
	},
	async submit(api, v, form) {
		const groups = Array.from(form.querySelector('select[name=groups]').selectedOptions).map((o) => o.value);
		const r = await api.call('RunInstances', {
			ImageId: v.image, InstanceType: v.type, MinCount: 1, MaxCount: 1, ClientToken: clientToken(),
			NetworkInterface: [{ DeviceIndex: 0, SubnetId: v.subnet, SecurityGroupId: groups, PrivateIpAddress: v.privateIp,
				AssociatePublicIpAddress: v.publicIp }],
			TagSpecification: v.name ? [{ ResourceType: 'instance', Tag: [{ Key: 'Name', Value: v.name }] }] : undefined,
		});
		return arr(r.instancesSet)[0].instanceId;
	},
};

/* --- "Why can't I reach it?" ------------------------------------------------- */

const PROTO = { '-1': 'all traffic', '6': 'TCP', '17': 'UDP', '1': 'ICMP', tcp: 'TCP', udp: 'UDP', icmp: 'ICMP' };

function ports(pr) {
	if (!pr)
		return 'all ports';
	return pr.from === pr.to ? `port ${pr.from}` : `ports ${pr.from}-${pr.to}`;
}

function aclRuleText(r) {
	if (!r)
		return '';
	const n = r.ruleNumber === '32767' ? '* (the default rule)' : r.ruleNumber;
	return `rule ${n}: ${String(r.ruleAction || '').toUpperCase()} ${PROTO[r.protocol] || r.protocol} ${ports(r.portRange)} ${r.egress === 'true' ? 'to' : 'from'} ${r.cidr || 'anywhere'}`;
}

function routeText(r) {
	if (!r)
		return '';
	return `route ${r.destinationCidr} → ${r.gatewayId || r.networkInterfaceId || r.instanceId || '-'}`;
}

function sgRuleText(r) {
	if (!r)
		return '';
	return `${r.direction} rule of ${r.securityGroupId}: ${PROTO[r.protocol] || r.protocol || ''} ${ports(r.portRange)} ${r.cidr ? (r.direction === 'egress' ? 'to ' : 'from ') + r.cidr : ''}`;
}

function idOf(c) {
	return c && c.id ? c.id : '';
}

/* One explanation in words: what drops the packet, naming the rule. */
export function explain(e, path) {
	const what = `${PROTO[path.protocol] || path.protocol} port ${path.destinationPort}`;
	const dir = e.direction === 'egress' ? 'outbound' : 'inbound';
	switch (e.explanationCode) {
	case 'SUBNET_ACL_RESTRICTION':
		return `Network ACL ${idOf(e.acl) || idOf(e.component)} drops it (${dir}) by ${aclRuleText(e.aclRule)}.`;
	case 'ENI_SG_RULES_MISMATCH': {
		const groups = arr(e.securityGroupSet || e.securityGroups).map((g) => `${g.id}${g.name ? ` (${g.name})` : ''}`);
		const one = e.securityGroup ? `${e.securityGroup.id}${e.securityGroup.name ? ` (${e.securityGroup.name})` : ''}` : '';
		return `No ${dir} rule of security group ${groups.join(', ') || one} on ${idOf(e.networkInterface) || idOf(e.component)} allows ${what}: it is dropped.`;
	}
	case 'NO_ROUTE_TO_DESTINATION':
		return `Route table ${idOf(e.routeTable) || idOf(e.component)} has no route for it${e.routeTableRoute ? ` (nearest: ${routeText(e.routeTableRoute)})` : ''}.`;
	case 'BAD_STATE_ROUTE':
		return `Route table ${idOf(e.routeTable) || idOf(e.component)} sends it to a blackhole: ${routeText(e.routeTableRoute)}.`;
	case 'BAD_STATE_VPN':
		return `The VPN connection through ${idOf(e.vpnGateway) || idOf(e.component)} has no tunnel up.`;
	case 'IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS':
		return 'The instance has no public IP address: the internet gateway cannot reach it.';
	default:
		return `${e.explanationCode} at ${idOf(e.component) || 'an unnamed component'}.`;
	}
}

function componentDetail(c) {
	return aclRuleText(c.aclRule) || routeText(c.routeTableRoute) || sgRuleText(c.securityGroupRule) ||
		(c.subnet ? `in ${c.subnet.id}` : '');
}

async function runAnalysis(api, inst, v) {
	const p = { Source: v.source, Destination: inst.instanceId, Protocol: v.protocol, DestinationPort: v.port, ClientToken: clientToken(),
		TagSpecification: [{ ResourceType: 'network-insights-path', Tag: [{ Key: 'Name', Value: `console: why can't ${v.source} reach ${inst.instanceId}` }] }] };
	if (v.sourceIp)
		p.FilterAtSource = { SourceAddress: v.sourceIp };
	const path = (await api.call('CreateNetworkInsightsPath', p)).networkInsightsPath;
	let a = (await api.call('StartNetworkInsightsAnalysis', { NetworkInsightsPathId: path.networkInsightsPathId, ClientToken: clientToken() })).networkInsightsAnalysis;
	for (let i = 0; a.status === 'running' && i < ANALYSIS_TRIES; i++) {
		await new Promise((r) => setTimeout(r, ANALYSIS_WAIT_MS));
		a = arr((await api.call('DescribeNetworkInsightsAnalyses', { NetworkInsightsAnalysisId: [a.networkInsightsAnalysisId] })).networkInsightsAnalysisSet)[0];
	}
	return { path, analysis: a };
}

function renderAnalysis(box, inst, v, { path, analysis: a }) {
	const found = a.networkPathFound === 'true';
	const comps = arr(a.forwardPathComponentSet);
	const head = a.status !== 'succeeded'
		? notice(`The analysis ${a.status}: ${a.statusMessage || ''}`, 'error')
		: h('div', { class: found ? 'verdict ok' : 'verdict bad', role: 'status' },
			h('strong', {}, found ? 'Reachable' : 'Not reachable'),
			` — ${PROTO[v.protocol] || v.protocol} port ${v.port} from ${v.source}${v.sourceIp ? ` (${v.sourceIp})` : ''} to ${inst.instanceId}`);
	clear(box).append(head,
		h('div', { class: 'explanations' }, arr(a.explanationSet).map((e) =>
			h('p', { class: 'explanation' }, explain(e, { protocol: v.protocol, destinationPort: v.port })))),
		table({
			caption: found ? 'The path the packet takes' : 'The path up to where it is dropped',
			columns: [['Step', (c) => c.sequenceNumber], ['Component', (c) => idOf(c.component)], ['Detail', componentDetail]],
			rows: comps,
		}),
		h('p', { class: 'help' }, `Analysis ${a.networkInsightsAnalysisId} of path ${path.networkInsightsPathId}, `, dateEl(a.startDate)));
}

function reachabilityTab() {
	return {
		title: 'Why can\'t I reach it?',
		async render(el, _p, ctx, inst) {
			const vpc = inst.vpcId;
			const [vgws, igws, others] = await Promise.all([
				ctx.api.call('DescribeVpnGateways', { Filter: [{ Name: 'attachment.vpc-id', Value: [vpc] }] }).then((r) => arr(r.vpnGatewaySet).filter((g) => g.state !== 'deleted')),
				ctx.api.call('DescribeInternetGateways', { Filter: [{ Name: 'attachment.vpc-id', Value: [vpc] }] }).then((r) => arr(r.internetGatewaySet)),
				ctx.api.call('DescribeInstances', { Filter: [{ Name: 'vpc-id', Value: [vpc] }, { Name: 'instance-state-name', Value: ['running', 'pending'] }] }).then(instancesOf),
			]);
			const sources = [...vgws.map((g) => [g.vpnGatewayId, `Your network, through the VPN (${g.vpnGatewayId})`]),
				...igws.map((g) => [g.internetGatewayId, `The internet (${g.internetGatewayId})`]),
				...others.filter((i) => i.instanceId !== inst.instanceId).map((i) => [i.instanceId, `Instance ${i.instanceId} ${tagValue(i)} (${i.privateIpAddress})`])];
			const result = h('div', { class: 'analysis', 'aria-live': 'polite' });
			const form = h('form', { class: 'reach', 'aria-label': 'Reachability analysis' },
				h('p', {}, `Traces one packet to ${inst.instanceId} (${inst.privateIpAddress}) through the VPC's route tables, network ACLs and security groups, and names what drops it.`),
				field({ name: 'source', label: 'From', type: 'select', required: true, options: sources }),
				field({ name: 'sourceIp', label: 'Source address (optional; e.g. a server on your office network)', placeholder: '10.0.0.10' }),
				field({ name: 'protocol', label: 'Protocol', type: 'select', options: [['tcp', 'TCP'], ['udp', 'UDP']] }),
				field({ name: 'port', label: 'Destination port', type: 'number', value: 22, min: 0, max: 65535, required: true }),
				h('button', { type: 'submit', class: 'primary' }, 'Analyze path'));
			if (!sources.length)
				form.prepend(notice('Nothing in this VPC can send to it: no gateway is attached and no other instance runs.'));
			form.addEventListener('submit', async (ev) => {
				ev.preventDefault();
				const v = Object.fromEntries(new FormData(form).entries());
				clear(result).append(h('p', { class: 'loading' }, 'Analyzing…'));
				try {
					renderAnalysis(result, inst, v, await runAnalysis(ctx.api, inst, v));
				} catch (e) {
					clear(result).append(errorBox(e, 'The analysis could not run'));
				}
			});
			el.append(form, result);
		},
	};
}

export function instanceTabs() {
	return [{
		title: 'Details',
		async render(el, _p, ctx, i) {
			el.append(dl([['Instance ID', i.instanceId], ['Instance state', badge(i.instanceState && i.instanceState.name)],
				['Instance type', i.instanceType], ['AMI ID', i.imageId], ['Private IPv4 address', i.privateIpAddress],
				['Public IPv4 address', i.ipAddress || '-'], ['VPC ID', i.vpcId ? link('vpcs', i.vpcId) : '-'],
				['Subnet ID', i.subnetId ? link('subnets', i.subnetId) : '-'], ['Availability Zone', i.placement && i.placement.availabilityZone],
				['Tenancy', i.placement && i.placement.tenancy],
				['Security groups', h('span', {}, arr(i.groupSet).map((g) => [link('sgs', g.groupId, `${g.groupId} (${g.groupName})`), ' ']))],
				['Launch time', dateEl(i.launchTime)], ['State reason', i.stateReason && i.stateReason.message]]));
		},
	}, {
		title: 'Networking',
		async render(el, _p, ctx, i) {
			el.append(table({
				caption: `Network interfaces of ${i.instanceId}`,
				columns: [['Interface ID', (n) => n.networkInterfaceId], ['Device index', (n) => n.attachment && n.attachment.deviceIndex],
					['Private IPv4 address', (n) => n.privateIpAddress], ['Public IPv4 address', (n) => (n.association && n.association.publicIp) || '-'],
					['Subnet', (n) => link('subnets', n.subnetId)], ['MAC address', (n) => n.macAddress],
					['Security groups', (n) => arr(n.groupSet).map((g) => g.groupId).join(', ')]],
				rows: arr(i.networkInterfaceSet),
			}));
		},
	}, reachabilityTab()];
}
