/*
 * vpn.mjs — the Site-to-Site VPN connection screens: its details, the
 * Tunnel details tab (outside IP, status, last change, details from
 * VgwTelemetry, refreshed by itself every few seconds while shown; vpcd's
 * SAs and, for a dynamic connection, its BGP sessions), the
 * Static routes tab with Add and Delete, the create form, and the
 * Download Configuration dialog (Vendor, Platform, Software, IKE version
 * from GetVpnConnectionDeviceTypes; the file is exactly the text
 * GetVpnConnectionDeviceSampleConfiguration answers).
 */
import { h, clear, arr, tagValue, dateEl, field, errorBox, notice, table, badge, dl, link, modal, formDialog } from './ui.mjs';

export const TUNNEL_REFRESH_MS = 5000;

function telemetryTable(vpn) {
	const tunnels = arr(vpn.options && vpn.options.tunnelOptionSet);
	return table({
		caption: `Tunnels of ${vpn.vpnConnectionId}`, empty: 'This VPN connection has no tunnels',
		columns: [['Tunnel number', (_t, i) => ''], ['Outside IP address', (t) => t.outsideIpAddress],
			['Inside IPv4 CIDR', (t) => (tunnels.find((x) => x.outsideIpAddress === t.outsideIpAddress) || {}).tunnelInsideCidr || '-'],
			['Status', (t) => badge(t.status)], ['Last status change', (t) => dateEl(t.lastStatusChange)],
			['Details', (t) => t.statusMessage || ''], ['Accepted routes', (t) => t.acceptedRouteCount]],
		rows: arr(vpn.vgwTelemetry),
	});
}

function numberTunnels(tableEl) {
	tableEl.querySelectorAll('tbody tr').forEach((tr, i) => {
		if (!tr.querySelector('td.empty'))
			tr.firstChild.textContent = `Tunnel ${i + 1}`;
	});
}

async function describeOne(api, id) {
	const r = await api.call('DescribeVpnConnections', { VpnConnectionId: [id] });
	return arr(r.vpnConnectionSet)[0];
}

/* vpcd's own per-tunnel detail (ISAKMP and IPsec SAs, SPIs, counters,
 * drops: what vpcctl vpn status prints), from its action
 * VpcdDescribeTunnelDetails when this vpcd serves it; null when it does
 * not (InvalidAction). */
export const TUNNEL_DETAIL_ACTION = 'VpcdDescribeTunnelDetails';

async function tunnelDetail(api, id) {
	let r;
	try {
		r = await api.call(TUNNEL_DETAIL_ACTION, { VpnConnectionId: [id] });
	} catch (e) {
		if (e.code === 'InvalidAction')
			return null;
		throw e;
	}
	const item = arr(r.tunnelDetailSet).find((x) => x.vpnConnectionId === id);
	if (!item)
		return { state: 'none', doc: null, bgp: null };
	const parse = (text) => {
		try {
			return text ? JSON.parse(text) : null;
		} catch {
			return text;
		}
	};
	return { state: item.state, doc: parse(item.document), bgp: parse(item.bgpDocument) };
}

/* Cisco's Up/Down column: hh:mm:ss under a day, then 1d02h; "never". */
function upDown(since) {
	if (typeof since !== 'number' || since <= 0)
		return 'never';
	const s = Math.max(0, Math.floor(Date.now() / 1000) - since);
	const two = (n) => String(n).padStart(2, '0');
	return s < 86400 ? `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`
		: `${Math.floor(s / 86400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/* A dynamic connection's BGP sessions as `show ip bgp summary` shows
 * them (vpcd's BgpDocument), and the routes it learned. */
export function renderBgp(bgp, vpn) {
	if (!bgp || typeof bgp !== 'object')
		return null;
	const inside = arr(vpn && vpn.options && vpn.options.tunnelOptionSet);
	const neighbor = (t, i) => {
		const o = inside.find((x) => x.outsideIpAddress === t.OutsideIpAddress) || inside[i] || {};
		const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/30$/.exec(o.tunnelInsideCidr || '');
		return m ? `${m[1]}.${m[2]}.${m[3]}.${(Number(m[4]) & ~3) + 2}` : '-';
	};
	const tunnels = Array.isArray(bgp.Tunnels) ? bgp.Tunnels : [];
	const routes = Array.isArray(bgp.Routes) ? bgp.Routes : [];
	return h('section', { class: 'bgp', 'aria-label': 'BGP sessions' },
		h('h3', {}, 'BGP sessions (show ip bgp summary)'),
		bgp.Error ? notice(`BGP cannot run: ${bgp.Error}`, 'error') : null,
		table({
			caption: 'BGP neighbors', empty: 'No BGP session',
			columns: [['Tunnel', (t) => `Tunnel ${tunnels.indexOf(t) + 1}`], ['Neighbor', (t) => neighbor(t, tunnels.indexOf(t))], ['AS', (t) => t.NeighborAsn ?? '-'],
				['Up/Down', (t) => upDown(t.Since)],
				['State/PfxRcd', (t) => (t.State === 'Established' ? String(t.Received ?? 0) : t.Cause === 'prefix-limit' ? 'Idle (PfxCt)' : t.State || '-')],
				['PfxSnt', (t) => t.Advertised ?? 0], ['Last error', (t) => t.LastError || '-']],
			rows: tunnels,
		}),
		table({
			caption: 'Routes learned', empty: 'No route learned',
			columns: [['Destination CIDR', (r) => r.DestinationCidrBlock], ['Tunnel', (r) => `Tunnel ${(r.Tunnel ?? 0) + 1}`],
				['AS path length', (r) => r.AsPathLength ?? '-'], ['MED', (r) => r.Med ?? '-']],
			rows: routes,
		}));
}

/* A JSON document as nested lists; members named ...At holding epoch
 * seconds are dates in the user's locale. */
function renderDoc(v, key = '') {
	if (Array.isArray(v))
		return v.length ? h('ol', { class: 'doc' }, v.map((x) => h('li', {}, renderDoc(x)))) : '(none)';
	if (v && typeof v === 'object')
		return h('dl', { class: 'props' }, Object.entries(v).map(([k, x]) => [h('dt', {}, k), h('dd', {}, renderDoc(x, k))]));
	if (/At$/.test(key) && typeof v === 'number' && v > 1e9)
		return dateEl(new Date(v * 1000).toISOString());
	return String(v);
}

function drops(d) {
	const e = Object.entries(d && typeof d === 'object' ? d : {}).filter(([, n]) => Number(n) > 0);
	return e.length ? e.map(([k, n]) => `${k} ${n}`).join(', ') : 'none';
}

/* vpcd's tunnel detail the way a Cisco router shows its own: per tunnel,
 * the ISAKMP SA (show crypto isakmp sa) and the IPsec SAs (show crypto
 * ipsec sa) with SPIs, counters and drops. Anything else: as it comes. */
function renderTunnelDetail(doc) {
	const tunnels = doc && Array.isArray(doc.Tunnels) ? doc.Tunnels : null;
	if (!tunnels)
		return renderDoc(doc);
	const at = (x) => (typeof x === 'number' && x > 1e9 ? dateEl(new Date(x * 1000).toISOString()) : '-');
	return h('div', { class: 'tunnel-detail' },
		doc.UpdatedAt ? h('p', { class: 'help' }, 'As of ', at(doc.UpdatedAt)) : null,
		tunnels.map((t, i) => {
			const is = t.Isakmp || {};
			return h('section', { class: 'tunnel', 'aria-label': `Tunnel ${i + 1} detail` },
				h('h4', {}, `Tunnel ${i + 1}: ${t.OutsideIpAddress || '-'} ↔ ${t.PeerIpAddress || '-'}${t.PeerPort ? `:${t.PeerPort}` : ''}`,
					` — ${t.Status || '-'}${t.IkeVersion ? `, IKEv${t.IkeVersion}` : ''}${t.Running === false ? ' (not running)' : ''}`),
				table({
					caption: 'ISAKMP SA (show crypto isakmp sa)', empty: 'No ISAKMP SA',
					columns: [['dst', () => is.PeerAddress || '-'], ['src', () => is.LocalAddress || '-'], ['state', () => is.State || '-'],
						['conn-id', () => is.ConnId ?? '-'], ['status', () => (is.State === 'QM_IDLE' ? 'ACTIVE' : 'NEGOTIATING')],
						['algorithms', () => [is.Encryption, is.Hash, is.DhGroup !== undefined ? `group ${is.DhGroup}` : null, is.Auth].filter((x) => x).join(' / ')],
						['expires', () => at(is.ExpiresAt)]],
					rows: t.Isakmp ? [is] : [],
				}),
				table({
					caption: 'IPsec SAs (show crypto ipsec sa)', empty: 'No IPsec SA',
					columns: [['SPI in', (a) => a.SpiIn], ['SPI out', (a) => a.SpiOut], ['transform', (a) => a.Transform],
						['selectors', (a) => `${a.LocalSelector || '-'} ↔ ${a.RemoteSelector || '-'}`],
						['packets in / out', (a) => `${a.PacketsIn ?? 0} / ${a.PacketsOut ?? 0}`],
						['bytes in / out', (a) => `${a.BytesIn ?? 0} / ${a.BytesOut ?? 0}`],
						['drops in / out', (a) => `${drops(a.DropsIn)} / ${drops(a.DropsOut)}`],
						['rekey', (a) => at(a.RekeyAt)], ['expires', (a) => h('span', {}, a.Lingering ? '(lingering) ' : '', at(a.ExpiresAt))]],
					rows: Array.isArray(t.IpsecSas) ? t.IpsecSas : [],
				}),
				h('p', { class: 'help' }, `Tunnel drops: ${drops(t.Drops)}.`,
					t.Ike ? ` IKE packets in ${t.Ike.PacketsIn ?? 0}, out ${t.Ike.PacketsOut ?? 0}, retransmits ${t.Ike.Retransmits ?? 0}, DPD timeouts ${t.Ike.DpdTimeouts ?? 0}, authentication failures ${t.Ike.AuthFailures ?? 0}.` : ''));
		}));
}

export function vpnTabs() {
	return [{
		title: 'Details',
		async render(el, _p, ctx, v) {
			el.append(dl([['VPN ID', v.vpnConnectionId], ['State', badge(v.state)],
				['Virtual private gateway', link('vgws', v.vpnGatewayId)], ['Customer gateway', link('cgws', v.customerGatewayId)],
				['Type', v.type], ['Category', v.category],
				['Routing', v.options && v.options.staticRoutesOnly === 'true' ? 'Static' : 'Dynamic (requires BGP)'],
				['Local IPv4 network CIDR', v.options && v.options.localIpv4NetworkCidr],
				['Remote IPv4 network CIDR', v.options && v.options.remoteIpv4NetworkCidr]]),
			h('button', { type: 'button', class: 'primary', onclick: () => downloadConfigDialog(ctx.api, v) }, 'Download configuration'));
		},
	}, {
		title: 'Tunnel details',
		async render(el, panel, ctx, v) {
			const box = h('div', {});
			const stamp = h('p', { class: 'help', 'aria-live': 'off' });
			const fill = (vpn) => {
				const t = telemetryTable(vpn);
				numberTunnels(t);
				clear(box).append(t);
				stamp.textContent = `Refreshed ${new Date().toLocaleTimeString()}; refreshes every ${TUNNEL_REFRESH_MS / 1000} seconds.`;
			};
			fill(v);
			el.append(box, stamp);
			const detailBox = h('section', { 'aria-label': 'Tunnel detail from vpcd' });
			el.append(detailBox);
			const timer = setInterval(async () => {
				try {
					const fresh = await describeOne(ctx.api, v.vpnConnectionId);
					if (fresh)
						fill(fresh);
					await showDetail();
				} catch (e) {
					clear(box).append(errorBox(e));
				}
			}, TUNNEL_REFRESH_MS);
			panel.cleanup = () => clearInterval(timer);
			const showDetail = async () => {
				try {
					const d = await tunnelDetail(ctx.api, v.vpnConnectionId);
					if (!d)
						return clear(detailBox).append(notice('This vpcd serves no tunnel-detail action (SAs, SPIs, counters): the status above is DescribeVpnConnections\' VgwTelemetry. On vpcd\'s host, vpcctl vpn status shows the SAs.'));
					clear(detailBox).append(h('h3', {}, 'Tunnel detail: ISAKMP and IPsec SAs'),
						h('p', { class: 'help' }, `From ${TUNNEL_DETAIL_ACTION} (state: ${d.state}).`),
						d.doc ? renderTunnelDetail(d.doc) : notice('vpcd has no detail for this connection\'s tunnels yet.'),
						...[renderBgp(d.bgp, v)].filter((x) => x));
				} catch (e) {
					clear(detailBox).append(errorBox(e, 'Tunnel detail'));
				}
			};
			await showDetail();
		},
	}, {
		title: 'Static routes',
		async render(el, _p, ctx, v) {
			const err = h('div', {});
			const reload = () => ctx.view.reloadSelected();
			el.append(err, table({
				caption: `Static routes of ${v.vpnConnectionId}`, empty: 'No static routes',
				columns: [['Destination CIDR', (r) => r.destinationCidrBlock], ['Source', (r) => r.source], ['State', (r) => badge(r.state)],
					['', (r) => h('button', { type: 'button', class: 'small', 'aria-label': `Delete static route ${r.destinationCidrBlock}`,
						onclick: async () => {
							try {
								await ctx.api.call('DeleteVpnConnectionRoute', { VpnConnectionId: v.vpnConnectionId, DestinationCidrBlock: r.destinationCidrBlock });
								reload();
							} catch (e) {
								clear(err).append(errorBox(e));
							}
						} }, 'Delete')]],
				rows: arr(v.routes).filter((r) => r.state !== 'deleted'),
			}), h('button', { type: 'button', onclick: () => formDialog({
				title: `Add a static route to ${v.vpnConnectionId}`, submitLabel: 'Save',
				intro: 'A network behind your router (the customer gateway) that the VPC reaches through this VPN connection.',
				fields: [{ name: 'cidr', label: 'Static IP prefix', required: true, placeholder: '10.0.0.0/24' }],
				onSubmit: async (x) => {
					await ctx.api.call('CreateVpnConnectionRoute', { VpnConnectionId: v.vpnConnectionId, DestinationCidrBlock: x.cidr });
					reload();
				},
			}) }, 'Add static route'));
		},
	}];
}

/* The file name a configuration downloads as. */
function fileName(vpn, dt) {
	const slug = `${dt.vendor}-${dt.platform}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
	return `${vpn.vpnConnectionId}-${slug}.txt`;
}

function saveText(name, text) {
	const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
	const a = h('a', { href: url, download: name, class: 'hidden' });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export async function downloadConfigDialog(api, vpn) {
	const types = arr((await api.call('GetVpnConnectionDeviceTypes')).vpnConnectionDeviceTypeSet);
	const uniq = (xs) => [...new Set(xs)];
	const vendor = field({ name: 'vendor', label: 'Vendor', type: 'select', options: uniq(types.map((t) => t.vendor)).map((x) => [x, x]) });
	const platform = field({ name: 'platform', label: 'Platform', type: 'select', options: [] });
	const software = field({ name: 'software', label: 'Software', type: 'select', options: [] });
	const ike = field({ name: 'ike', label: 'IKE version', type: 'select', options: [['ikev1', 'ikev1'], ['ikev2', 'ikev2']] });
	const setOptions = (sel, xs) => {
		const keep = sel.value;
		clear(sel).append(...xs.map((x) => h('option', { value: x, selected: x === keep }, x)));
	};
	const update = () => {
		setOptions(platform.control, uniq(types.filter((t) => t.vendor === vendor.control.value).map((t) => t.platform)));
		setOptions(software.control, uniq(types.filter((t) => t.vendor === vendor.control.value && t.platform === platform.control.value).map((t) => t.software)));
	};
	vendor.control.addEventListener('change', update);
	platform.control.addEventListener('change', update);
	update();
	const err = h('div', { 'aria-live': 'assertive' });
	const body = h('div', {}, h('p', {}, `Download the configuration of ${vpn.vpnConnectionId} for your router. It holds the tunnels' pre-shared keys: keep it safe.`),
		vendor, platform, software, ike, err);
	modal('Download Configuration', body, [{ label: 'Cancel' }, {
		label: 'Download', primary: true,
		onclick: async (close) => {
			clear(err);
			const dt = types.find((t) => t.vendor === vendor.control.value && t.platform === platform.control.value && t.software === software.control.value);
			if (!dt)
				return err.append(errorBox(new Error('Choose a vendor, platform and software')));
			try {
				const r = await api.call('GetVpnConnectionDeviceSampleConfiguration', {
					VpnConnectionId: vpn.vpnConnectionId, VpnConnectionDeviceTypeId: dt.vpnConnectionDeviceTypeId,
					InternetKeyExchangeVersion: ike.control.value });
				saveText(fileName(vpn, dt), r.vpnConnectionDeviceSampleConfiguration);
				close();
			} catch (e) {
				err.append(errorBox(e));
			}
		},
	}]);
}

/* Modify VPN tunnel options: one tunnel, only what the form changes
 * (ModifyVpnTunnelOptions renegotiates that tunnel alone). AWS's limits
 * and defaults come from tunnel_limits.mjs, which vpcd's build makes from
 * the one place in C (src/model/tunnel_limits.h): never written here. It
 * is loaded when the dialog opens (it is no file of www/, so the modules
 * that tests run in node without vpcd never import it). */
export async function modifyTunnelDialog(ctx, vpn) {
	const LIMITS = await import('./tunnel_limits.mjs');
	const tunnels = arr(vpn.options && vpn.options.tunnelOptionSet);
	const pick = field({ name: 'tunnel', label: 'VPN tunnel outside IP address', type: 'select',
		options: tunnels.map((t) => [t.outsideIpAddress, t.outsideIpAddress]) });
	const spec = [['TunnelInsideCidr', 'tunnelInsideCidr', 'Inside IPv4 CIDR', 'text'],
		['DPDTimeoutSeconds', 'dpdTimeoutSeconds', 'DPD timeout (seconds)', 'number',
			LIMITS.TUNNEL_DPD_TIMEOUT_MIN, LIMITS.TUNNEL_DPD_TIMEOUT_MAX],
		['Phase1LifetimeSeconds', 'phase1LifetimeSeconds', 'Phase 1 lifetime (seconds)', 'number',
			LIMITS.TUNNEL_PHASE1_LIFETIME_MIN, LIMITS.TUNNEL_PHASE1_LIFETIME_MAX],
		['Phase2LifetimeSeconds', 'phase2LifetimeSeconds', 'Phase 2 lifetime (seconds)', 'number',
			LIMITS.TUNNEL_PHASE2_LIFETIME_MIN, LIMITS.TUNNEL_PHASE2_LIFETIME_MAX]];
	/* the range is told, not enforced by the browser: the API's error says
	 * why a value is refused, in words */
	const fields = spec.map(([name, , label, type, min, max]) => field({ name, label, type,
		help: min === undefined ? undefined : `${min} to ${max}` }));
	const psk = field({ name: 'PreSharedKey', label: 'Pre-shared key (empty: unchanged)', type: 'password' });
	const actionDefault = LIMITS.TUNNEL_DPD_ACTION_NAMES[0];
	const action = field({ name: 'DPDTimeoutAction', label: 'DPD timeout action', type: 'select',
		options: LIMITS.TUNNEL_DPD_ACTION_NAMES.map((a) => [a, a[0].toUpperCase() + a.slice(1)]) });
	/* an option left at AWS's default is not described: show the default */
	const DEFAULTS = { dpdTimeoutSeconds: LIMITS.TUNNEL_DPD_TIMEOUT_DEFAULT,
		phase1LifetimeSeconds: LIMITS.TUNNEL_PHASE1_LIFETIME_DEFAULT,
		phase2LifetimeSeconds: LIMITS.TUNNEL_PHASE2_LIFETIME_DEFAULT, dpdTimeoutAction: actionDefault };
	const current = () => Object.assign({}, DEFAULTS, tunnels.find((t) => t.outsideIpAddress === pick.control.value) || {});
	const fill = () => {
		const t = current();
		spec.forEach(([, key], i) => { fields[i].control.value = t[key] ?? ''; });
		action.control.value = t.dpdTimeoutAction || actionDefault;
	};
	pick.control.addEventListener('change', fill);
	fill();
	formDialog({
		title: `Modify VPN tunnel options of ${vpn.vpnConnectionId}`, submitLabel: 'Save changes', fields: [pick, ...fields, action, psk],
		intro: 'Only the changed options are sent; the tunnel renegotiates with them, the other tunnel is not touched.',
		onSubmit: async (v) => {
			const t = current(), opts = {};
			spec.forEach(([name, key]) => { if (String(v[name]) !== String(t[key] ?? '')) opts[name] = v[name]; });
			if (v.DPDTimeoutAction !== (t.dpdTimeoutAction || actionDefault))
				opts.DPDTimeoutAction = v.DPDTimeoutAction;
			if (v.PreSharedKey)
				opts.PreSharedKey = v.PreSharedKey;
			if (!Object.keys(opts).length)
				throw new Error('Nothing was changed');
			await ctx.api.call('ModifyVpnTunnelOptions', { VpnConnectionId: vpn.vpnConnectionId, VpnTunnelOutsideIpAddress: v.tunnel,
				TunnelOptions: opts });
			ctx.view.reloadSelected();
		},
	});
}

export const createVpnConnection = {
	async fields(api, optionsOf) {
		const routes = field({ name: 'routes', label: 'Static IP prefixes (comma-separated)', placeholder: '10.0.0.0/24, 10.0.1.0/24' });
		const routing = field({ name: 'routing', label: 'Routing options', type: 'select', options: [['static', 'Static'], ['dynamic', 'Dynamic (requires BGP)']] });
		routing.control.addEventListener('change', () => { routes.hidden = routing.control.value !== 'static'; });
		return [{ name: 'name', label: 'Name tag' },
			field({ name: 'vgw', label: 'Virtual private gateway', type: 'select', required: true, options: await optionsOf(api, 'vgws', {}, (g) => g.state) }),
			field({ name: 'cgw', label: 'Customer gateway', type: 'select', required: true, options: await optionsOf(api, 'cgws', {}, (g) => g.ipAddress) }),
			routing, routes];
	},
	async submit(api, v) {
		const r = await api.call('CreateVpnConnection', { Type: 'ipsec.1', VpnGatewayId: v.vgw, CustomerGatewayId: v.cgw,
			Options: { StaticRoutesOnly: v.routing === 'static' },
			TagSpecification: v.name ? [{ ResourceType: 'vpn-connection', Tag: [{ Key: 'Name', Value: v.name }] }] : undefined });
		const id = r.vpnConnection.vpnConnectionId;
		if (v.routing === 'static')
			for (const cidr of v.routes.split(',').map((x) => x.trim()).filter((x) => x))
				await api.call('CreateVpnConnectionRoute', { VpnConnectionId: id, DestinationCidrBlock: cidr });
		return id;
	},
};

export { tagValue };
