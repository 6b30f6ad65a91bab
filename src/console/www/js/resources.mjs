/*
 * resources.mjs — the lists, details and forms of every resource type the
 * console shows, as data (TYPES) driven by one view (ResourceView): a
 * list paged as the API pages it (MaxResults/NextToken), a filter sent to
 * the API as Filter.1, a detail pane with tabs (always Tags), and create,
 * delete and modify forms whose failures show the API's error. Screens
 * with more behaviour (VPN connections, instances) live in vpn.mjs and
 * instances.mjs.
 */
import { h, clear, arr, tagValue, dateEl, field, errorBox, errorText, notice, table, tabs, formDialog,
	confirmDialog, modal, link, badge, dl } from './ui.mjs';
import { clientToken } from './ec2.mjs';
import { vpnTabs, downloadConfigDialog, createVpnConnection, modifyTunnelDialog } from './vpn.mjs';
import { instanceTabs, launchInstance, instancesOf } from './instances.mjs';

const PAGE_SIZES = [10, 25, 50, 100];

function nameSpec(type, name) {
	return name ? [{ ResourceType: type, Tag: [{ Key: 'Name', Value: name }] }] : undefined;
}

const nameField = { name: 'name', label: 'Name tag', placeholder: 'my-value' };

/* Options for a select of resources: [[id, "id | Name | extra"]]. */
export async function optionsOf(api, typeKey, params = {}, extra) {
	const t = TYPES[typeKey];
	const items = t.paged ? await api.all(t.describe, Object.assign({ MaxResults: t.maxPage || 1000 }, params), t.set)
		: (await api.call(t.describe, params))[t.set];
	return arr(t.itemsOf ? t.itemsOf({ [t.set]: items }) : items)
		.filter((r) => !t.live || t.live(r))
		.map((r) => [r[t.id], [r[t.id], tagValue(r), extra ? extra(r) : ''].filter((x) => x).join(' | ')]);
}

async function vpcField(api, label = 'VPC', value) {
	return field({ name: 'vpc', label, type: 'select', required: true, value,
		options: await optionsOf(api, 'vpcs', {}, (v) => v.cidrBlock) });
}

async function zoneOptions(api) {
	const r = await api.call('DescribeAvailabilityZones');
	return [['', 'No preference'], ...arr(r.availabilityZoneInfo).map((z) => [z.zoneName, z.zoneName])];
}

function attachedVpc(r) {
	const a = arr(r.attachments || r.attachmentSet).find((x) => x.state === 'attached' || x.state === 'attaching');
	return a ? a.vpcId : '';
}

function routeTarget(r) {
	return r.gatewayId || r.instanceId || r.networkInterfaceId || r.natGatewayId || r.vpcPeeringConnectionId ||
		r.transitGatewayId || '-';
}

function portRange(from, to) {
	if (from === undefined || from === '' || from === null)
		return 'All';
	return String(from) === String(to) ? String(from) : `${from}-${to}`;
}

const PROTOCOLS = { '-1': 'All', '6': 'TCP (6)', '17': 'UDP (17)', '1': 'ICMP (1)', tcp: 'TCP', udp: 'UDP', icmp: 'ICMP' };

/* --- tabs shared by several types -------------------------------------------- */

function tagsTab(t) {
	return {
		title: 'Tags',
		async render(el, _panel, ctx, item) {
			const id = item[t.id];
			const rows = arr(item.tagSet);
			el.append(table({
				caption: `Tags of ${id}`, empty: 'No tags',
				columns: [['Key', (x) => x.key], ['Value', (x) => x.value],
					['', (x) => h('button', { type: 'button', class: 'small', 'aria-label': `Remove tag ${x.key}`,
						onclick: () => run(ctx, el, () => ctx.api.call('DeleteTags', { ResourceId: [id], Tag: [{ Key: x.key, Value: x.value }] })) }, 'Remove')]],
				rows,
			}), h('button', { type: 'button', onclick: () => formDialog({
				title: `Add a tag to ${id}`, submitLabel: 'Save',
				fields: [{ name: 'key', label: 'Key', required: true }, { name: 'value', label: 'Value' }],
				onSubmit: async (v) => {
					await ctx.api.call('CreateTags', { ResourceId: [id], Tag: [{ Key: v.key, Value: v.value }] });
					ctx.view.reloadSelected();
				},
			}) }, 'Add tag'));
		},
	};
}

/* Runs a change from a tab; its error shows above the tab's content, success
 * reloads the selected resource. */
async function run(ctx, el, fn) {
	try {
		await fn();
		ctx.view.reloadSelected();
	} catch (e) {
		el.prepend(errorBox(e));
	}
}

function routesTab() {
	return {
		title: 'Routes',
		async render(el, _p, ctx, rt) {
			el.append(table({
				caption: `Routes of ${rt.routeTableId}`,
				columns: [['Destination', (r) => r.destinationCidrBlock], ['Target', (r) => routeTarget(r)],
					['Status', (r) => badge(r.state)],
					['Propagated', (r) => (r.origin === 'EnableVgwRoutePropagation' ? 'Yes' : 'No')],
					['', (r) => (r.origin === 'CreateRoute' ? h('button', { type: 'button', class: 'small',
						'aria-label': `Delete route ${r.destinationCidrBlock}`,
						onclick: () => run(ctx, el, () => ctx.api.call('DeleteRoute', { RouteTableId: rt.routeTableId,
							DestinationCidrBlock: r.destinationCidrBlock })) }, 'Delete') : '')]],
				rows: arr(rt.routeSet),
			}), h('button', { type: 'button', onclick: () => formDialog({
				title: `Add a route to ${rt.routeTableId}`, submitLabel: 'Save routes',
				fields: [{ name: 'dest', label: 'Destination', required: true, placeholder: '0.0.0.0/0' },
					{ name: 'target', label: 'Target (igw-…, vgw-…, nat-…, pcx-…, i-… or eni-…)', required: true }],
				onSubmit: async (v) => {
					const key = v.target.startsWith('i-') ? 'InstanceId' : v.target.startsWith('eni-') ? 'NetworkInterfaceId'
						: v.target.startsWith('nat-') ? 'NatGatewayId' : v.target.startsWith('pcx-') ? 'VpcPeeringConnectionId' : 'GatewayId';
					await ctx.api.call('CreateRoute', { RouteTableId: rt.routeTableId, DestinationCidrBlock: v.dest, [key]: v.target });
					ctx.view.reloadSelected();
				},
			}) }, 'Edit routes: add route'));
		},
	};
}

function rtAssociationsTab() {
	return {
		title: 'Subnet associations',
		async render(el, _p, ctx, rt) {
			const explicit = arr(rt.associationSet).filter((a) => a.subnetId);
			const isMain = arr(rt.associationSet).some((a) => a.main === 'true');
			el.append(isMain ? notice('This is the VPC\'s main route table: subnets with no explicit association use it.') : '',
				table({
					caption: `Subnets associated with ${rt.routeTableId}`, empty: 'No explicit subnet associations',
					columns: [['Subnet ID', (a) => link('subnets', a.subnetId)], ['Association ID', (a) => a.routeTableAssociationId],
						['', (a) => h('button', { type: 'button', class: 'small', 'aria-label': `Disassociate ${a.subnetId}`,
							onclick: () => run(ctx, el, () => ctx.api.call('DisassociateRouteTable', { AssociationId: a.routeTableAssociationId })) }, 'Disassociate')]],
					rows: explicit,
				}),
				h('button', { type: 'button', onclick: async () => formDialog({
					title: `Associate a subnet with ${rt.routeTableId}`, submitLabel: 'Save associations',
					fields: [field({ name: 'subnet', label: 'Subnet', type: 'select', required: true,
						options: await optionsOf(ctx.api, 'subnets', { Filter: [{ Name: 'vpc-id', Value: [rt.vpcId] }] }, (s) => s.cidrBlock) })],
					onSubmit: async (v) => {
						await ctx.api.call('AssociateRouteTable', { RouteTableId: rt.routeTableId, SubnetId: v.subnet });
						ctx.view.reloadSelected();
					},
				}) }, 'Edit subnet associations'));
		},
	};
}

function propagationTab() {
	return {
		title: 'Route propagation',
		async render(el, _p, ctx, rt) {
			const vgws = arr((await ctx.api.call('DescribeVpnGateways', { Filter: [{ Name: 'attachment.vpc-id', Value: [rt.vpcId] }] })).vpnGatewaySet);
			const on = new Set(arr(rt.propagatingVgwSet).map((p) => p.gatewayId));
			el.append(table({
				caption: `Route propagation into ${rt.routeTableId}`, empty: 'No virtual private gateway is attached to this VPC',
				columns: [['Virtual private gateway', (g) => link('vgws', g.vpnGatewayId)],
					['Propagation', (g) => (on.has(g.vpnGatewayId) ? 'Yes' : 'No')],
					['', (g) => h('button', { type: 'button', class: 'small',
						onclick: () => run(ctx, el, () => ctx.api.call(on.has(g.vpnGatewayId) ? 'DisableVgwRoutePropagation' : 'EnableVgwRoutePropagation',
							{ RouteTableId: rt.routeTableId, GatewayId: g.vpnGatewayId })) },
					on.has(g.vpnGatewayId) ? 'Disable propagation' : 'Enable propagation')]],
				rows: vgws,
			}));
		},
	};
}

function naclRulesTab(egress) {
	return {
		title: egress ? 'Outbound rules' : 'Inbound rules',
		async render(el, _p, ctx, acl) {
			const rows = arr(acl.entrySet).filter((e) => String(e.egress) === String(egress))
				.sort((a, b) => Number(a.ruleNumber) - Number(b.ruleNumber));
			el.append(table({
				caption: `${egress ? 'Outbound' : 'Inbound'} rules of ${acl.networkAclId}`,
				columns: [['Rule number', (e) => (e.ruleNumber === '32767' ? '*' : e.ruleNumber)],
					['Protocol', (e) => PROTOCOLS[e.protocol] || e.protocol],
					['Port range', (e) => (e.portRange ? portRange(e.portRange.from, e.portRange.to) : 'All')],
					[egress ? 'Destination' : 'Source', (e) => e.cidrBlock],
					['Allow/Deny', (e) => h('span', { class: e.ruleAction === 'deny' ? 'deny' : 'allow' }, e.ruleAction.toUpperCase())],
					['', (e) => (e.ruleNumber === '32767' ? '' : h('button', { type: 'button', class: 'small',
						'aria-label': `Delete rule ${e.ruleNumber}`,
						onclick: () => run(ctx, el, () => ctx.api.call('DeleteNetworkAclEntry', { NetworkAclId: acl.networkAclId,
							RuleNumber: e.ruleNumber, Egress: egress })) }, 'Delete'))]],
				rows,
			}), h('button', { type: 'button', onclick: () => formDialog({
				title: `Add an ${egress ? 'outbound' : 'inbound'} rule to ${acl.networkAclId}`, submitLabel: 'Save',
				fields: [{ name: 'number', label: 'Rule number', type: 'number', required: true, min: 1, max: 32766 },
					{ name: 'protocol', label: 'Protocol', type: 'select', options: [['-1', 'All traffic'], ['6', 'TCP'], ['17', 'UDP'], ['1', 'ICMP']] },
					{ name: 'from', label: 'Port range from', type: 'number', min: 0, max: 65535 },
					{ name: 'to', label: 'Port range to', type: 'number', min: 0, max: 65535 },
					{ name: 'cidr', label: egress ? 'Destination CIDR' : 'Source CIDR', required: true, value: '0.0.0.0/0' },
					{ name: 'action', label: 'Allow/Deny', type: 'select', options: [['allow', 'Allow'], ['deny', 'Deny']] }],
				onSubmit: async (v) => {
					const p = { NetworkAclId: acl.networkAclId, RuleNumber: v.number, Protocol: v.protocol, RuleAction: v.action,
						Egress: egress, CidrBlock: v.cidr };
					if (v.protocol === '6' || v.protocol === '17')
						p.PortRange = { From: v.from, To: v.to || v.from };
					if (v.protocol === '1')
						p.Icmp = { Type: -1, Code: -1 };
					await ctx.api.call('CreateNetworkAclEntry', p);
					ctx.view.reloadSelected();
				},
			}) }, `Add ${egress ? 'outbound' : 'inbound'} rule`));
		},
	};
}

function naclAssociationsTab() {
	return {
		title: 'Subnet associations',
		async render(el, _p, ctx, acl) {
			el.append(table({
				caption: `Subnets associated with ${acl.networkAclId}`, empty: 'No subnet uses this network ACL',
				columns: [['Subnet ID', (a) => link('subnets', a.subnetId)], ['Association ID', (a) => a.networkAclAssociationId]],
				rows: arr(acl.associationSet),
			}), h('button', { type: 'button', onclick: async () => formDialog({
				title: `Associate a subnet with ${acl.networkAclId}`, submitLabel: 'Save changes',
				fields: [field({ name: 'subnet', label: 'Subnet', type: 'select', required: true,
					options: await optionsOf(ctx.api, 'subnets', { Filter: [{ Name: 'vpc-id', Value: [acl.vpcId] }] }, (s) => s.cidrBlock) })],
				onSubmit: async (v) => {
					/* a subnet always has one network ACL: replace its association */
					const cur = arr((await ctx.api.call('DescribeNetworkAcls', { Filter: [{ Name: 'association.subnet-id', Value: [v.subnet] }] })).networkAclSet);
					const assoc = cur.flatMap((a) => arr(a.associationSet)).find((a) => a.subnetId === v.subnet);
					if (!assoc)
						throw new Error(`${v.subnet} has no network ACL association to replace`);
					await ctx.api.call('ReplaceNetworkAclAssociation', { AssociationId: assoc.networkAclAssociationId, NetworkAclId: acl.networkAclId });
					ctx.view.reloadSelected();
				},
			}) }, 'Edit subnet associations'));
		},
	};
}

function sgRulesTab(egress) {
	return {
		title: egress ? 'Outbound rules' : 'Inbound rules',
		async render(el, _p, ctx, sg) {
			const rules = arr((await ctx.api.call('DescribeSecurityGroupRules', { Filter: [{ Name: 'group-id', Value: [sg.groupId] }] })).securityGroupRuleSet)
				.filter((r) => String(r.isEgress) === String(egress));
			el.append(table({
				caption: `${egress ? 'Outbound' : 'Inbound'} rules of ${sg.groupId}`, empty: 'No rules: nothing is allowed',
				columns: [['Security group rule ID', (r) => r.securityGroupRuleId],
					['Protocol', (r) => PROTOCOLS[r.ipProtocol] || r.ipProtocol],
					['Port range', (r) => (r.ipProtocol === '-1' ? 'All' : portRange(r.fromPort, r.toPort))],
					[egress ? 'Destination' : 'Source', (r) => r.cidrIpv4 || (r.referencedGroupInfo && r.referencedGroupInfo.groupId) || r.cidrIpv6 || '-'],
					['Description', (r) => r.description || ''],
					['', (r) => h('button', { type: 'button', class: 'small', 'aria-label': `Delete rule ${r.securityGroupRuleId}`,
						onclick: () => run(ctx, el, () => ctx.api.call(egress ? 'RevokeSecurityGroupEgress' : 'RevokeSecurityGroupIngress',
							{ GroupId: sg.groupId, SecurityGroupRuleId: [r.securityGroupRuleId] })) }, 'Delete')]],
				rows: rules,
			}), h('button', { type: 'button', onclick: () => formDialog({
				title: `Add an ${egress ? 'outbound' : 'inbound'} rule to ${sg.groupId}`, submitLabel: 'Save rules',
				fields: [{ name: 'protocol', label: 'Protocol', type: 'select', options: [['tcp', 'TCP'], ['udp', 'UDP'], ['icmp', 'ICMP'], ['-1', 'All traffic']] },
					{ name: 'from', label: 'Port range from', type: 'number', min: -1, max: 65535 },
					{ name: 'to', label: 'Port range to', type: 'number', min: -1, max: 65535 },
					{ name: 'peer', label: egress ? 'Destination (CIDR or sg-…)' : 'Source (CIDR or sg-…)', required: true, value: '0.0.0.0/0' },
					{ name: 'description', label: 'Description' }],
				onSubmit: async (v) => {
					const perm = { IpProtocol: v.protocol };
					if (v.protocol !== '-1') {
						perm.FromPort = v.protocol === 'icmp' && v.from === '' ? -1 : v.from;
						perm.ToPort = v.protocol === 'icmp' && v.to === '' ? -1 : (v.to || v.from);
					}
					if (v.peer.startsWith('sg-'))
						perm.Groups = [{ GroupId: v.peer, Description: v.description }];
					else
						perm.IpRanges = [{ CidrIp: v.peer, Description: v.description }];
					await ctx.api.call(egress ? 'AuthorizeSecurityGroupEgress' : 'AuthorizeSecurityGroupIngress',
						{ GroupId: sg.groupId, IpPermissions: [perm] });
					ctx.view.reloadSelected();
				},
			}) }, `Add ${egress ? 'outbound' : 'inbound'} rule`));
		},
	};
}

function detailsTab(fn) {
	return { title: 'Details', async render(el, _p, ctx, item) { el.append(dl(await fn(item, ctx))); } };
}

/* --- the types -------------------------------------------------------------- */

export const TYPES = {
	vpcs: {
		title: 'Your VPCs', singular: 'VPC', describe: 'DescribeVpcs', set: 'vpcSet', id: 'vpcId', idParam: 'VpcId', paged: true,
		columns: [['Name', tagValue], ['VPC ID', null], ['State', (r) => badge(r.state)], ['IPv4 CIDR', (r) => r.cidrBlock],
			['Tenancy', (r) => r.instanceTenancy], ['Default VPC', (r) => (r.isDefault === 'true' ? 'Yes' : 'No')]],
		filters: [['tag:Name', 'Name'], ['vpc-id', 'VPC ID'], ['cidr', 'IPv4 CIDR'], ['state', 'State'], ['is-default', 'Default VPC (true/false)']],
		tabs: () => [detailsTab(async (v, ctx) => {
			const [dns, host] = await Promise.all(['enableDnsSupport', 'enableDnsHostnames'].map((a) =>
				ctx.api.call('DescribeVpcAttribute', { VpcId: v.vpcId, Attribute: a }).catch(() => ({}))));
			return [['VPC ID', v.vpcId], ['State', badge(v.state)], ['IPv4 CIDR', v.cidrBlock], ['Tenancy', v.instanceTenancy],
				['DHCP options set', v.dhcpOptionsId], ['Default VPC', v.isDefault === 'true' ? 'Yes' : 'No'],
				['DNS resolution', dns.enableDnsSupport ? (dns.enableDnsSupport.value === 'true' ? 'Enabled' : 'Disabled') : '-'],
				['DNS hostnames', host.enableDnsHostnames ? (host.enableDnsHostnames.value === 'true' ? 'Enabled' : 'Disabled') : '-'],
				['Owner', v.ownerId]];
		})],
		create: {
			title: 'Create VPC', fields: async () => [nameField, { name: 'cidr', label: 'IPv4 CIDR block', required: true, value: '10.0.0.0/16' },
				{ name: 'tenancy', label: 'Tenancy', type: 'select', options: [['default', 'Default'], ['dedicated', 'Dedicated']] }],
			submit: async (api, v) => (await api.call('CreateVpc', { CidrBlock: v.cidr, InstanceTenancy: v.tenancy,
				TagSpecification: nameSpec('vpc', v.name) })).vpc.vpcId,
		},
		remove: { action: 'DeleteVpc', param: 'VpcId' },
		actions: [{
			label: 'Edit VPC settings',
			run: (ctx, v) => formDialog({
				title: `Edit settings of ${v.vpcId}`, submitLabel: 'Save',
				fields: [{ name: 'dnsSupport', label: 'Enable DNS resolution', type: 'checkbox', value: true },
					{ name: 'dnsHostnames', label: 'Enable DNS hostnames', type: 'checkbox' }],
				onSubmit: async (x) => {
					await ctx.api.call('ModifyVpcAttribute', { VpcId: v.vpcId, EnableDnsSupport: { Value: x.dnsSupport } });
					await ctx.api.call('ModifyVpcAttribute', { VpcId: v.vpcId, EnableDnsHostnames: { Value: x.dnsHostnames } });
					ctx.view.reloadSelected();
				},
			}),
		}],
	},
	subnets: {
		title: 'Subnets', singular: 'subnet', describe: 'DescribeSubnets', set: 'subnetSet', id: 'subnetId', idParam: 'SubnetId', paged: true,
		columns: [['Name', tagValue], ['Subnet ID', null], ['State', (r) => badge(r.state)], ['VPC', (r) => link('vpcs', r.vpcId)],
			['IPv4 CIDR', (r) => r.cidrBlock], ['Available IPv4 addresses', (r) => r.availableIpAddressCount],
			['Availability Zone', (r) => r.availabilityZone], ['Auto-assign public IPv4', (r) => (r.mapPublicIpOnLaunch === 'true' ? 'Yes' : 'No')]],
		filters: [['tag:Name', 'Name'], ['vpc-id', 'VPC ID'], ['subnet-id', 'Subnet ID'], ['cidr-block', 'IPv4 CIDR'], ['availability-zone', 'Availability Zone']],
		tabs: () => [detailsTab((s) => [['Subnet ID', s.subnetId], ['State', badge(s.state)], ['VPC', link('vpcs', s.vpcId)],
			['IPv4 CIDR', s.cidrBlock], ['Available IPv4 addresses', s.availableIpAddressCount], ['Availability Zone', s.availabilityZone],
			['Zone ID', s.availabilityZoneId], ['Auto-assign public IPv4 address', s.mapPublicIpOnLaunch === 'true' ? 'Yes' : 'No'],
			['Default subnet', s.defaultForAz === 'true' ? 'Yes' : 'No']]),
		{
			title: 'Route table',
			async render(el, _p, ctx, s) {
				let rts = arr((await ctx.api.call('DescribeRouteTables', { Filter: [{ Name: 'association.subnet-id', Value: [s.subnetId] }] })).routeTableSet);
				let how = 'explicitly associated';
				if (!rts.length) {
					rts = arr((await ctx.api.call('DescribeRouteTables', { Filter: [{ Name: 'vpc-id', Value: [s.vpcId] }, { Name: 'association.main', Value: ['true'] }] })).routeTableSet);
					how = 'the VPC\'s main route table (no explicit association)';
				}
				const rt = rts[0];
				if (!rt)
					return el.append(notice('No route table found'));
				el.append(h('p', {}, 'Route table: ', link('routeTables', rt.routeTableId), ` — ${how}`),
					table({ caption: 'Routes', columns: [['Destination', (r) => r.destinationCidrBlock], ['Target', routeTarget], ['Status', (r) => badge(r.state)]],
						rows: arr(rt.routeSet) }));
			},
		}, {
			title: 'Network ACL',
			async render(el, _p, ctx, s) {
				const acl = arr((await ctx.api.call('DescribeNetworkAcls', { Filter: [{ Name: 'association.subnet-id', Value: [s.subnetId] }] })).networkAclSet)[0];
				if (!acl)
					return el.append(notice('No network ACL found'));
				el.append(h('p', {}, 'Network ACL: ', link('nacls', acl.networkAclId)),
					table({ caption: 'Entries', columns: [['Rule', (e) => (e.ruleNumber === '32767' ? '*' : e.ruleNumber)], ['Direction', (e) => (e.egress === 'true' ? 'Outbound' : 'Inbound')],
						['Protocol', (e) => PROTOCOLS[e.protocol] || e.protocol], ['Port range', (e) => (e.portRange ? portRange(e.portRange.from, e.portRange.to) : 'All')],
						['CIDR', (e) => e.cidrBlock], ['Allow/Deny', (e) => e.ruleAction.toUpperCase()]], rows: arr(acl.entrySet) }));
			},
		}],
		create: {
			title: 'Create subnet',
			fields: async (api) => [await vpcField(api), nameField, { name: 'cidr', label: 'IPv4 CIDR block', required: true, placeholder: '10.0.1.0/24' },
				field({ name: 'az', label: 'Availability Zone', type: 'select', options: await zoneOptions(api) })],
			submit: async (api, v) => (await api.call('CreateSubnet', { VpcId: v.vpc, CidrBlock: v.cidr, AvailabilityZone: v.az,
				TagSpecification: nameSpec('subnet', v.name) })).subnet.subnetId,
		},
		remove: { action: 'DeleteSubnet', param: 'SubnetId' },
		actions: [{
			label: 'Edit subnet settings',
			run: (ctx, s) => formDialog({
				title: `Edit settings of ${s.subnetId}`, submitLabel: 'Save',
				fields: [{ name: 'mapPublic', label: 'Enable auto-assign public IPv4 address', type: 'checkbox', value: s.mapPublicIpOnLaunch === 'true' }],
				onSubmit: async (x) => {
					await ctx.api.call('ModifySubnetAttribute', { SubnetId: s.subnetId, MapPublicIpOnLaunch: { Value: x.mapPublic } });
					ctx.view.reloadSelected();
				},
			}),
		}],
	},
	routeTables: {
		title: 'Route tables', singular: 'route table', describe: 'DescribeRouteTables', set: 'routeTableSet', id: 'routeTableId', idParam: 'RouteTableId', paged: true, maxPage: 100,
		columns: [['Name', tagValue], ['Route table ID', null], ['Explicit subnet associations', (r) => arr(r.associationSet).filter((a) => a.subnetId).map((a) => a.subnetId).join(', ') || '-'],
			['Main', (r) => (arr(r.associationSet).some((a) => a.main === 'true') ? 'Yes' : 'No')], ['VPC', (r) => link('vpcs', r.vpcId)]],
		filters: [['tag:Name', 'Name'], ['vpc-id', 'VPC ID'], ['route-table-id', 'Route table ID'], ['association.main', 'Main (true/false)'], ['association.subnet-id', 'Associated subnet ID']],
		tabs: () => [detailsTab((r) => [['Route table ID', r.routeTableId], ['VPC', link('vpcs', r.vpcId)],
			['Main', arr(r.associationSet).some((a) => a.main === 'true') ? 'Yes' : 'No'], ['Owner', r.ownerId]]),
		routesTab(), rtAssociationsTab(), propagationTab()],
		create: {
			title: 'Create route table', fields: async (api) => [nameField, await vpcField(api)],
			submit: async (api, v) => (await api.call('CreateRouteTable', { VpcId: v.vpc, TagSpecification: nameSpec('route-table', v.name) })).routeTable.routeTableId,
		},
		remove: { action: 'DeleteRouteTable', param: 'RouteTableId' },
	},
	igws: {
		title: 'Internet gateways', singular: 'internet gateway', describe: 'DescribeInternetGateways', set: 'internetGatewaySet', id: 'internetGatewayId',
		idParam: 'InternetGatewayId', paged: true,
		columns: [['Name', tagValue], ['Internet gateway ID', null], ['State', (r) => badge(attachedVpc(r) ? 'Attached' : 'Detached')],
			['VPC ID', (r) => (attachedVpc(r) ? link('vpcs', attachedVpc(r)) : '-')]],
		filters: [['tag:Name', 'Name'], ['internet-gateway-id', 'Internet gateway ID'], ['attachment.vpc-id', 'Attached VPC ID']],
		tabs: () => [detailsTab((g) => [['Internet gateway ID', g.internetGatewayId], ['State', attachedVpc(g) ? 'Attached' : 'Detached'],
			['VPC ID', attachedVpc(g) ? link('vpcs', attachedVpc(g)) : '-'], ['Owner', g.ownerId]])],
		create: {
			title: 'Create internet gateway', fields: async () => [nameField],
			submit: async (api, v) => (await api.call('CreateInternetGateway', { TagSpecification: nameSpec('internet-gateway', v.name) })).internetGateway.internetGatewayId,
		},
		remove: { action: 'DeleteInternetGateway', param: 'InternetGatewayId' },
		actions: [
			{ label: 'Attach to VPC', run: async (ctx, g) => formDialog({ title: `Attach ${g.internetGatewayId} to a VPC`, submitLabel: 'Attach internet gateway',
				fields: [await vpcField(ctx.api, 'Available VPCs')],
				onSubmit: async (v) => { await ctx.api.call('AttachInternetGateway', { InternetGatewayId: g.internetGatewayId, VpcId: v.vpc }); ctx.view.reload(); } }) },
			{ label: 'Detach from VPC', run: async (ctx, g) => {
				if (await confirmDialog('Detach internet gateway', `Detach ${g.internetGatewayId} from ${attachedVpc(g) || 'its VPC'}?`, 'Detach')) {
					await ctx.api.call('DetachInternetGateway', { InternetGatewayId: g.internetGatewayId, VpcId: attachedVpc(g) });
					ctx.view.reload();
				}
			} },
		],
	},
	nacls: {
		title: 'Network ACLs', singular: 'network ACL', describe: 'DescribeNetworkAcls', set: 'networkAclSet', id: 'networkAclId', idParam: 'NetworkAclId', paged: true,
		columns: [['Name', tagValue], ['Network ACL ID', null], ['Associated with', (r) => arr(r.associationSet).map((a) => a.subnetId).join(', ') || '-'],
			['Default', (r) => (r.default === 'true' ? 'Yes' : 'No')], ['VPC ID', (r) => link('vpcs', r.vpcId)],
			['Inbound rules count', (r) => arr(r.entrySet).filter((e) => e.egress !== 'true').length],
			['Outbound rules count', (r) => arr(r.entrySet).filter((e) => e.egress === 'true').length]],
		filters: [['tag:Name', 'Name'], ['vpc-id', 'VPC ID'], ['network-acl-id', 'Network ACL ID'], ['default', 'Default (true/false)'], ['association.subnet-id', 'Associated subnet ID']],
		tabs: () => [detailsTab((a) => [['Network ACL ID', a.networkAclId], ['VPC', link('vpcs', a.vpcId)], ['Default', a.default === 'true' ? 'Yes' : 'No'], ['Owner', a.ownerId]]),
			naclRulesTab(false), naclRulesTab(true), naclAssociationsTab()],
		create: {
			title: 'Create network ACL', fields: async (api) => [nameField, await vpcField(api)],
			submit: async (api, v) => (await api.call('CreateNetworkAcl', { VpcId: v.vpc, TagSpecification: nameSpec('network-acl', v.name) })).networkAcl.networkAclId,
		},
		remove: { action: 'DeleteNetworkAcl', param: 'NetworkAclId' },
	},
	sgs: {
		title: 'Security groups', singular: 'security group', describe: 'DescribeSecurityGroups', set: 'securityGroupInfo', id: 'groupId', idParam: 'GroupId', paged: true,
		columns: [['Name', tagValue], ['Security group ID', null], ['Security group name', (r) => r.groupName], ['VPC ID', (r) => link('vpcs', r.vpcId)],
			['Description', (r) => r.groupDescription]],
		filters: [['tag:Name', 'Name'], ['vpc-id', 'VPC ID'], ['group-id', 'Security group ID'], ['group-name', 'Security group name']],
		tabs: () => [detailsTab((g) => [['Security group ID', g.groupId], ['Security group name', g.groupName], ['Description', g.groupDescription],
			['VPC', link('vpcs', g.vpcId)], ['Owner', g.ownerId]]), sgRulesTab(false), sgRulesTab(true)],
		create: {
			title: 'Create security group', fields: async (api) => [{ name: 'groupName', label: 'Security group name', required: true },
				{ name: 'description', label: 'Description', required: true }, await vpcField(api)],
			submit: async (api, v) => (await api.call('CreateSecurityGroup', { GroupName: v.groupName, GroupDescription: v.description, VpcId: v.vpc })).groupId,
		},
		remove: { action: 'DeleteSecurityGroup', param: 'GroupId' },
	},
	natGateways: {
		title: 'NAT gateways', singular: 'NAT gateway', describe: 'DescribeNatGateways', set: 'natGatewaySet', id: 'natGatewayId',
		idParam: 'NatGatewayId', paged: true, live: (r) => r.state !== 'deleted',
		columns: [['Name', tagValue], ['NAT gateway ID', null], ['Connectivity type', (r) => r.connectivityType], ['State', (r) => badge(r.state)],
			['Primary public IPv4 address', (r) => (arr(r.natGatewayAddressSet)[0] || {}).publicIp || '-'],
			['Primary private IPv4 address', (r) => (arr(r.natGatewayAddressSet)[0] || {}).privateIp || '-'],
			['VPC', (r) => link('vpcs', r.vpcId)], ['Subnet', (r) => link('subnets', r.subnetId)], ['Created', (r) => dateEl(r.createTime)]],
		filters: [['nat-gateway-id', 'NAT gateway ID'], ['vpc-id', 'VPC ID'], ['subnet-id', 'Subnet ID'], ['state', 'State']],
		tabs: () => [detailsTab((g) => [['NAT gateway ID', g.natGatewayId], ['State', badge(g.state)], ['Connectivity type', g.connectivityType],
			['VPC', link('vpcs', g.vpcId)], ['Subnet', link('subnets', g.subnetId)], ['Created', dateEl(g.createTime)],
			['Deleted', g.deleteTime ? dateEl(g.deleteTime) : '-'], ['Failure', g.failureMessage ? `${g.failureMessage} (${g.failureCode})` : '-'],
			['Addresses', h('ul', {}, arr(g.natGatewayAddressSet).map((a) => h('li', {},
				`${a.publicIp || '-'} (${a.allocationId || 'no Elastic IP'}) → ${a.privateIp || '-'} on ${a.networkInterfaceId || '-'}`)))]])],
		create: {
			title: 'Create NAT gateway',
			fields: async (api) => {
				const eips = arr((await api.call('DescribeAddresses')).addressesSet).filter((a) => !a.associationId);
				return [nameField,
					field({ name: 'subnet', label: 'Subnet', type: 'select', required: true, options: await optionsOf(api, 'subnets', {}, (x) => `${x.vpcId} ${x.cidrBlock}`) }),
					{ name: 'connectivity', label: 'Connectivity type', type: 'select', options: [['public', 'Public'], ['private', 'Private']] },
					field({ name: 'eip', label: 'Elastic IP allocation ID (public only)', type: 'select',
						options: [['new', 'Allocate a new Elastic IP'], ...eips.map((a) => [a.allocationId, `${a.allocationId} | ${a.publicIp}`])] })];
			},
			submit: async (api, v) => {
				let alloc;
				if (v.connectivity === 'public')
					alloc = v.eip === 'new' ? (await api.call('AllocateAddress', { Domain: 'vpc' })).allocationId : v.eip;
				return (await api.call('CreateNatGateway', { SubnetId: v.subnet, ConnectivityType: v.connectivity, AllocationId: alloc,
					ClientToken: clientToken(), TagSpecification: nameSpec('natgateway', v.name) })).natGateway.natGatewayId;
			},
		},
		remove: { action: 'DeleteNatGateway', param: 'NatGatewayId' },
	},
	peerings: {
		title: 'Peering connections', singular: 'peering connection', describe: 'DescribeVpcPeeringConnections', set: 'vpcPeeringConnectionSet',
		id: 'vpcPeeringConnectionId', idParam: 'VpcPeeringConnectionId', paged: true,
		live: (r) => !['deleted', 'rejected', 'expired', 'failed'].includes(r.status && r.status.code),
		columns: [['Name', tagValue], ['Peering connection ID', null], ['Status', (r) => badge(r.status && r.status.code)],
			['Requester VPC', (r) => link('vpcs', r.requesterVpcInfo.vpcId)], ['Accepter VPC', (r) => r.accepterVpcInfo.vpcId],
			['Requester CIDR', (r) => r.requesterVpcInfo.cidrBlock], ['Accepter CIDR', (r) => r.accepterVpcInfo.cidrBlock || '-'],
			['Accepter Region', (r) => r.accepterVpcInfo.region || '-']],
		filters: [['vpc-peering-connection-id', 'Peering connection ID'], ['status-code', 'Status'],
			['requester-vpc-info.vpc-id', 'Requester VPC ID'], ['accepter-vpc-info.vpc-id', 'Accepter VPC ID']],
		tabs: () => [detailsTab((p) => [['Peering connection ID', p.vpcPeeringConnectionId], ['Status', badge(p.status && p.status.code)],
			['Status message', p.status && p.status.message], ['Requester VPC', `${p.requesterVpcInfo.vpcId} (${p.requesterVpcInfo.cidrBlock}, ${p.requesterVpcInfo.region || '-'})`],
			['Accepter VPC', `${p.accepterVpcInfo.vpcId} (${p.accepterVpcInfo.cidrBlock || '-'}, ${p.accepterVpcInfo.region || '-'})`],
			['Expires', p.expirationTime ? dateEl(p.expirationTime) : '-']])],
		create: {
			title: 'Create peering connection',
			fields: async (api) => [nameField, await vpcField(api, 'VPC ID (requester)'),
				{ name: 'peerVpc', label: 'VPC ID (accepter)', required: true, placeholder: 'vpc-…' },
				{ name: 'peerRegion', label: 'Accepter Region (empty: this Region)' }],
			submit: async (api, v) => (await api.call('CreateVpcPeeringConnection', { VpcId: v.vpc, PeerVpcId: v.peerVpc, PeerRegion: v.peerRegion,
				TagSpecification: nameSpec('vpc-peering-connection', v.name) })).vpcPeeringConnection.vpcPeeringConnectionId,
		},
		remove: { action: 'DeleteVpcPeeringConnection', param: 'VpcPeeringConnectionId' },
		actions: [
			{ label: 'Accept request', run: async (ctx, p) => {
				await ctx.api.call('AcceptVpcPeeringConnection', { VpcPeeringConnectionId: p.vpcPeeringConnectionId });
				ctx.view.reload();
			} },
			{ label: 'Reject request', run: async (ctx, p) => {
				if (await confirmDialog('Reject peering connection request', `Reject ${p.vpcPeeringConnectionId}?`, 'Reject')) {
					await ctx.api.call('RejectVpcPeeringConnection', { VpcPeeringConnectionId: p.vpcPeeringConnectionId });
					ctx.view.reload();
				}
			} },
		],
	},
	cgws: {
		title: 'Customer gateways', singular: 'customer gateway', describe: 'DescribeCustomerGateways', set: 'customerGatewaySet', id: 'customerGatewayId',
		idParam: 'CustomerGatewayId', live: (r) => r.state !== 'deleted',
		columns: [['Name', tagValue], ['Customer gateway ID', null], ['State', (r) => badge(r.state)], ['Type', (r) => r.type],
			['IP address', (r) => r.ipAddress], ['BGP ASN', (r) => r.bgpAsn]],
		filters: [['tag:Name', 'Name'], ['customer-gateway-id', 'Customer gateway ID'], ['ip-address', 'IP address'], ['bgp-asn', 'BGP ASN'], ['state', 'State']],
		tabs: () => [detailsTab((g) => [['Customer gateway ID', g.customerGatewayId], ['State', badge(g.state)], ['Type', g.type],
			['IP address', g.ipAddress], ['BGP ASN', g.bgpAsn], ['Device name', g.deviceName]])],
		create: {
			title: 'Create customer gateway', fields: async () => [nameField, { name: 'bgpAsn', label: 'BGP ASN', type: 'number', value: 65000, required: true },
				{ name: 'ip', label: 'IP address (your router\'s public address)', required: true }],
			submit: async (api, v) => (await api.call('CreateCustomerGateway', { Type: 'ipsec.1', IpAddress: v.ip, BgpAsn: v.bgpAsn,
				TagSpecification: nameSpec('customer-gateway', v.name) })).customerGateway.customerGatewayId,
		},
		remove: { action: 'DeleteCustomerGateway', param: 'CustomerGatewayId' },
	},
	vgws: {
		title: 'Virtual private gateways', singular: 'virtual private gateway', describe: 'DescribeVpnGateways', set: 'vpnGatewaySet', id: 'vpnGatewayId',
		idParam: 'VpnGatewayId', live: (r) => r.state !== 'deleted',
		columns: [['Name', tagValue], ['Virtual private gateway ID', null], ['State', (r) => badge(r.state)], ['Type', (r) => r.type],
			['VPC', (r) => (attachedVpc(r) ? link('vpcs', attachedVpc(r)) : '-')], ['Amazon side ASN', (r) => r.amazonSideAsn]],
		filters: [['tag:Name', 'Name'], ['vpn-gateway-id', 'Virtual private gateway ID'], ['attachment.vpc-id', 'Attached VPC ID'], ['state', 'State']],
		tabs: () => [detailsTab((g) => [['Virtual private gateway ID', g.vpnGatewayId], ['State', badge(g.state)], ['Type', g.type],
			['VPC', attachedVpc(g) ? link('vpcs', attachedVpc(g)) : 'Detached'], ['Amazon side ASN', g.amazonSideAsn]])],
		create: {
			title: 'Create virtual private gateway', fields: async () => [nameField,
				{ name: 'asn', label: 'Amazon side ASN (empty: Amazon default)', type: 'number' }],
			submit: async (api, v) => (await api.call('CreateVpnGateway', { Type: 'ipsec.1', AmazonSideAsn: v.asn,
				TagSpecification: nameSpec('vpn-gateway', v.name) })).vpnGateway.vpnGatewayId,
		},
		remove: { action: 'DeleteVpnGateway', param: 'VpnGatewayId' },
		actions: [
			{ label: 'Attach to VPC', run: async (ctx, g) => formDialog({ title: `Attach ${g.vpnGatewayId} to a VPC`, submitLabel: 'Attach to VPC',
				fields: [await vpcField(ctx.api, 'Available VPCs')],
				onSubmit: async (v) => { await ctx.api.call('AttachVpnGateway', { VpnGatewayId: g.vpnGatewayId, VpcId: v.vpc }); ctx.view.reload(); } }) },
			{ label: 'Detach from VPC', run: async (ctx, g) => {
				if (await confirmDialog('Detach virtual private gateway', `Detach ${g.vpnGatewayId} from ${attachedVpc(g) || 'its VPC'}?`, 'Detach')) {
					await ctx.api.call('DetachVpnGateway', { VpnGatewayId: g.vpnGatewayId, VpcId: attachedVpc(g) });
					ctx.view.reload();
				}
			} },
		],
	},
	vpns: {
		title: 'Site-to-Site VPN connections', singular: 'VPN connection', describe: 'DescribeVpnConnections', set: 'vpnConnectionSet',
		id: 'vpnConnectionId', idParam: 'VpnConnectionId', live: (r) => r.state !== 'deleted',
		columns: [['Name', tagValue], ['VPN ID', null], ['State', (r) => badge(r.state)], ['Virtual private gateway', (r) => link('vgws', r.vpnGatewayId)],
			['Customer gateway', (r) => link('cgws', r.customerGatewayId)],
			['Routing', (r) => (r.options && r.options.staticRoutesOnly === 'true' ? 'Static' : 'Dynamic')],
			['Tunnels up', (r) => `${arr(r.vgwTelemetry).filter((t) => t.status === 'UP').length} of ${arr(r.vgwTelemetry).length}`]],
		filters: [['tag:Name', 'Name'], ['vpn-connection-id', 'VPN ID'], ['customer-gateway-id', 'Customer gateway ID'], ['vpn-gateway-id', 'Virtual private gateway ID'], ['state', 'State']],
		tabs: vpnTabs,
		create: { title: 'Create VPN connection', fields: (api) => createVpnConnection.fields(api, optionsOf), submit: createVpnConnection.submit, wide: true },
		remove: { action: 'DeleteVpnConnection', param: 'VpnConnectionId' },
		actions: [{ label: 'Download configuration', run: (ctx, v) => downloadConfigDialog(ctx.api, v) },
			{ label: 'Modify VPN tunnel options', run: (ctx, v) => modifyTunnelDialog(ctx, v) }],
	},
	instances: {
		title: 'Instances', singular: 'instance', describe: 'DescribeInstances', set: 'reservationSet', id: 'instanceId', idParam: 'InstanceId', paged: true,
		itemsOf: instancesOf,
		columns: [['Name', tagValue], ['Instance ID', null], ['Instance state', (r) => badge(r.instanceState && r.instanceState.name)],
			['Instance type', (r) => r.instanceType], ['Availability Zone', (r) => r.placement && r.placement.availabilityZone],
			['Private IPv4 address', (r) => r.privateIpAddress], ['Public IPv4 address', (r) => r.ipAddress || '-'],
			['Subnet', (r) => (r.subnetId ? link('subnets', r.subnetId) : '-')], ['Launch time', (r) => dateEl(r.launchTime)]],
		filters: [['tag:Name', 'Name'], ['instance-id', 'Instance ID'], ['vpc-id', 'VPC ID'], ['subnet-id', 'Subnet ID'], ['instance-state-name', 'Instance state'],
			['private-ip-address', 'Private IPv4 address']],
		tabs: instanceTabs,
		create: { title: 'Launch instance', createLabel: 'Launch instances', fields: launchInstance.fields, submit: launchInstance.submit, wide: true, submitLabel: 'Launch instance' },
		remove: { action: 'TerminateInstances', param: 'InstanceId', list: true, label: 'Terminate instance', verb: 'Terminate' },
	},
	eips: {
		title: 'Elastic IP addresses', singular: 'Elastic IP address', describe: 'DescribeAddresses', set: 'addressesSet', id: 'allocationId', idParam: 'AllocationId',
		columns: [['Name', tagValue], ['Allocated IPv4 address', (r) => r.publicIp], ['Allocation ID', null],
			['Associated instance ID', (r) => (r.instanceId ? link('instances', r.instanceId) : '-')], ['Private IP address', (r) => r.privateIpAddress || '-'],
			['Association ID', (r) => r.associationId || '-']],
		filters: [['tag:Name', 'Name'], ['public-ip', 'Allocated IPv4 address'], ['allocation-id', 'Allocation ID'], ['instance-id', 'Associated instance ID']],
		tabs: () => [detailsTab((a) => [['Allocated IPv4 address', a.publicIp], ['Allocation ID', a.allocationId], ['Domain', a.domain],
			['Associated instance', a.instanceId ? link('instances', a.instanceId) : '-'], ['Network interface', a.networkInterfaceId],
			['Private IP address', a.privateIpAddress], ['Association ID', a.associationId]])],
		create: {
			title: 'Allocate Elastic IP address', createLabel: 'Allocate Elastic IP address', submitLabel: 'Allocate', fields: async () => [nameField],
			submit: async (api, v) => (await api.call('AllocateAddress', { Domain: 'vpc', TagSpecification: nameSpec('elastic-ip', v.name) })).allocationId,
		},
		remove: { action: 'ReleaseAddress', param: 'AllocationId', label: 'Release Elastic IP address', verb: 'Release' },
		actions: [
			{ label: 'Associate Elastic IP address', run: async (ctx, a) => formDialog({
				title: `Associate ${a.publicIp}`, submitLabel: 'Associate',
				fields: [field({ name: 'instance', label: 'Instance', type: 'select', required: true,
					options: await optionsOf(ctx.api, 'instances', { Filter: [{ Name: 'instance-state-name', Value: ['running', 'pending', 'stopped'] }] }, (i) => i.privateIpAddress) })],
				onSubmit: async (v) => { await ctx.api.call('AssociateAddress', { AllocationId: a.allocationId, InstanceId: v.instance }); ctx.view.reload(); },
			}) },
			{ label: 'Disassociate Elastic IP address', run: async (ctx, a) => {
				if (!a.associationId)
					throw new Error(`${a.publicIp} is not associated`);
				if (await confirmDialog('Disassociate Elastic IP address', `Disassociate ${a.publicIp} from ${a.instanceId}?`, 'Disassociate')) {
					await ctx.api.call('DisassociateAddress', { AssociationId: a.associationId });
					ctx.view.reload();
				}
			} },
		],
	},
};

export const NAV = [['#/', 'VPC dashboard'], ['#/wizard', 'Launch VPC Wizard'],
	...Object.entries(TYPES).map(([k, t]) => [`#/${k}`, t.title])];

/* How many there are of a type (every page). */
export async function countOf(api, t) {
	const params = t.paged ? { MaxResults: t.maxPage || 1000 } : {};
	const items = t.paged ? await api.all(t.describe, params, t.set) : arr((await api.call(t.describe, params))[t.set]);
	const list = t.itemsOf ? t.itemsOf({ [t.set]: items }) : items;
	return list.filter((r) => !t.live || t.live(r)).length;
}

/* --- the view --------------------------------------------------------------- */

export class ResourceView {
	constructor(ctx, type) {
		this.ctx = Object.assign(Object.create(ctx), { view: this });
		this.type = type;
		this.t = TYPES[type];
		this.filter = null;		/* [name, [values]] */
		this.pageSize = 25;
		this.tokens = [undefined];	/* NextToken of each page seen */
		this.page = 0;
		this.items = [];
		this.selectedId = null;
		this.selected = null;
		this.detail = null;
	}

	dispose() {
		if (this.detail && this.detail.tabs)
			this.detail.tabs.dispose();
	}

	async render(main, id) {
		const t = this.t;
		document.title = `${t.title} — vpcd console`;
		this.status = h('div', { 'aria-live': 'polite', class: 'status' });
		this.tableBox = h('div', { class: 'list' });
		this.pager = h('div', { class: 'pager' });
		this.detailBox = h('section', { class: 'detail', 'aria-label': `${t.singular} details` });
		this.actionButtons = [];
		const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': `${t.title} actions` },
			h('button', { type: 'button', onclick: () => this.reload(), 'aria-label': 'Refresh' }, 'Refresh'));
		for (const a of t.actions || []) {
			const b = h('button', { type: 'button', disabled: true, onclick: () => this.runAction(a) }, a.label);
			this.actionButtons.push(b);
			toolbar.append(b);
		}
		if (t.remove) {
			const b = h('button', { type: 'button', disabled: true, class: 'danger', onclick: () => this.remove() },
				t.remove.label || `Delete ${t.singular}`);
			this.actionButtons.push(b);
			toolbar.append(b);
		}
		if (t.create)
			toolbar.append(h('button', { type: 'button', class: 'primary', onclick: () => this.create() }, t.create.createLabel || t.create.title));
		const filterForm = this.filterForm();
		clear(main).append(h('h1', {}, t.title), toolbar, filterForm, this.status, this.tableBox, this.pager, this.detailBox);
		await this.load();
		await this.select(id);
	}

	filterForm() {
		const t = this.t;
		const name = field({ name: 'filterName', label: 'Filter by', type: 'select', options: t.filters });
		const value = field({ name: 'filterValue', label: 'Value', placeholder: 'value, or several separated by commas' });
		const form = h('form', { class: 'filters', role: 'search', 'aria-label': `Filter ${t.title}` }, name, value,
			h('button', { type: 'submit' }, 'Apply filter'),
			h('button', { type: 'button', onclick: () => { value.control.value = ''; this.setFilter(null); } }, 'Clear filter'),
			t.paged ? field({ name: 'pageSize', label: 'Per page', type: 'select', value: this.pageSize,
				options: PAGE_SIZES.map((n) => [n, String(n)]) }) : null);
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			const v = value.control.value.trim();
			this.setFilter(v ? [name.control.value, v.split(',').map((x) => x.trim()).filter((x) => x)] : null);
		});
		const size = form.querySelector('select[name=pageSize]');
		if (size)
			size.addEventListener('change', () => { this.pageSize = Number(size.value); this.tokens = [undefined]; this.page = 0; this.load(); });
		return form;
	}

	setFilter(f) {
		this.filter = f;
		this.tokens = [undefined];
		this.page = 0;
		this.load();
	}

	params() {
		const p = {};
		if (this.filter)
			p.Filter = [{ Name: this.filter[0], Value: this.filter[1] }];
		if (this.t.paged) {
			p.MaxResults = this.pageSize;
			p.NextToken = this.tokens[this.page];
		}
		return p;
	}

	async load() {
		const t = this.t;
		clear(this.status).append(h('span', { class: 'loading' }, 'Loading…'));
		let r;
		try {
			r = await this.ctx.api.call(t.describe, this.params());
		} catch (e) {
			clear(this.status).append(errorBox(e));
			clear(this.tableBox);
			return;
		}
		clear(this.status);
		this.items = (t.itemsOf ? t.itemsOf(r) : arr(r[t.set])).filter((x) => !t.live || t.live(x));
		if (t.paged)
			this.tokens[this.page + 1] = r.nextToken || undefined;
		this.renderTable();
		this.renderPager(r.nextToken);
	}

	renderTable() {
		const t = this.t;
		const cols = t.columns.map(([title, fn]) => [title, fn ? fn : (r) => h('a', {
			href: `#/${this.type}/${encodeURIComponent(r[t.id])}`, 'aria-current': r[t.id] === this.selectedId ? 'true' : null,
		}, r[t.id])]);
		clear(this.tableBox).append(table({
			caption: `${t.title}${this.filter ? ` (filtered by ${this.filter[0]} = ${this.filter[1].join(', ')})` : ''}`,
			columns: cols, rows: this.items, empty: `No ${t.title.toLowerCase()} found`,
			rowClass: (r) => (r[t.id] === this.selectedId ? 'selected' : null),
		}));
	}

	renderPager(next) {
		clear(this.pager);
		if (!this.t.paged)
			return this.pager.append(h('span', {}, `${this.items.length} shown`));
		this.pager.append(
			h('button', { type: 'button', disabled: this.page === 0, onclick: () => { this.page--; this.load(); } }, 'Previous page'),
			h('span', { class: 'page' }, `Page ${this.page + 1} · ${this.items.length} shown`),
			h('button', { type: 'button', disabled: !next, onclick: () => { this.page++; this.load(); } }, 'Next page'));
	}

	async fetchOne(id) {
		const t = this.t;
		const r = await this.ctx.api.call(t.describe, { [t.idParam]: [id] });
		const items = t.itemsOf ? t.itemsOf(r) : arr(r[t.set]);
		return items.find((x) => x[t.id] === id) || null;
	}

	async select(id) {
		const t = this.t;
		this.dispose();
		this.selectedId = id || null;
		this.selected = null;
		for (const b of this.actionButtons)
			b.disabled = true;
		this.renderTable();
		clear(this.detailBox);
		if (!id)
			return;
		let item;
		try {
			item = await this.fetchOne(id);
		} catch (e) {
			this.detailBox.append(errorBox(e));
			return;
		}
		if (!item) {
			this.detailBox.append(notice(`${id} was not found`, 'error'));
			return;
		}
		this.selected = item;
		for (const b of this.actionButtons)
			b.disabled = false;
		const name = tagValue(item);
		const tabList = [...t.tabs(), tagsTab(t)].map((tab) => ({
			title: tab.title, render: (el, panel) => tab.render(el, panel, this.ctx, item),
		}));
		const tabset = tabs(tabList, `${id} details`);
		this.detail = { tabs: tabset };
		this.detailBox.append(h('h2', {}, `${t.singular[0].toUpperCase()}${t.singular.slice(1)}: ${id}${name ? ` (${name})` : ''}`), tabset);
	}

	async reloadSelected() {
		const current = this.detail && this.detail.tabs ? this.detail.tabs.querySelector('[aria-selected=true]') : null;
		const title = current ? current.textContent : null;
		await this.load();
		await this.select(this.selectedId);
		if (title && this.detail) {
			const b = Array.from(this.detail.tabs.querySelectorAll('[role=tab]')).find((x) => x.textContent === title);
			if (b)
				b.click();
		}
	}

	async reload() {
		await this.load();
		await this.select(this.selectedId);
	}

	async runAction(a) {
		if (!this.selected)
			return;
		try {
			await a.run(this.ctx, this.selected);
		} catch (e) {
			clear(this.status).append(errorBox(e, a.label));
		}
	}

	async create() {
		const c = this.t.create;
		let fields;
		try {
			fields = await c.fields(this.ctx.api);
		} catch (e) {
			clear(this.status).append(errorBox(e));
			return;
		}
		formDialog({
			title: c.title, fields, wide: c.wide, submitLabel: c.submitLabel || c.title,
			onSubmit: async (v, form) => {
				const id = await c.submit(this.ctx.api, v, form);
				await this.load();
				if (id)
					this.ctx.navigate(`#/${this.type}/${encodeURIComponent(id)}`);
			},
		});
	}

	async remove() {
		const t = this.t, id = this.selectedId;
		const verb = t.remove.verb || 'Delete';
		if (!id || !(await confirmDialog(t.remove.label || `Delete ${t.singular}`, `${verb} ${t.singular} ${id}?`, `Yes, ${verb.toLowerCase()}`)))
			return;
		try {
			await this.ctx.api.call(t.remove.action, { [t.remove.param]: t.remove.list ? [id] : id });
			if (t.remove.list) {
				await this.reload();
			} else {
				this.selectedId = null;
				this.ctx.navigate(`#/${this.type}`);
				await this.load();
				await this.select(null);
			}
			clear(this.status).append(notice(`${verb === 'Delete' ? 'Deleted' : `${verb}d`} ${id}`, 'ok'));
		} catch (e) {
			clear(this.status).append(errorBox(e, `Could not ${verb.toLowerCase()} ${id}`));
		}
	}
}

export { clientToken, errorText, modal };
