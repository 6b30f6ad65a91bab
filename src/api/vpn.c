/*
 * vpn.c — Site-to-Site VPN connections: CreateVpnConnection,
 * DescribeVpnConnections, DeleteVpnConnection, CreateVpnConnectionRoute,
 * DeleteVpnConnectionRoute, ModifyVpnTunnelOptions,
 * ModifyVpnConnectionOptions, and "Download Configuration"
 * (GetVpnConnectionDeviceTypes, GetVpnConnectionDeviceSampleConfiguration).
 * Tunnel options are validated and defaulted by model/tunnel_options.h;
 * configurations are rendered by cgwconf/cgwconf.h.
 *
 * Never logs a connection: its doc holds the pre-shared keys. They, and
 * the two texts rendered from them, are secret strings in the docs
 * (doc_set_secret_str; doc.h wipes them when it lets go of them, and
 * marks them by name in requests and in docs loaded from the store).
 *
 * The vpn-connection doc — what the IPsec engine reads
 * ----------------------------------------------------
 * Keys are botocore member names of DescribeVpnConnections' item; keys
 * starting with '_' are vpcd's own and never reach the wire.
 *
 *   VpnConnectionId, CustomerGatewayId, VpnGatewayId, Type "ipsec.1",
 *   Category "VPN"
 *   State        "available" | "deleted" (Create answers "pending"). The
 *                engine runs the tunnels of every connection not "deleted".
 *   Options      StaticRoutesOnly, LocalIpv4NetworkCidr (customer side) and
 *                RemoteIpv4NetworkCidr (VPC side) traffic selectors,
 *                TunnelInsideIpVersion "ipv4", OutsideIpAddressType,
 *                EnableAcceleration false, and
 *     TunnelOptions[i], i = 0, 1 — everything in force for tunnel i:
 *                OutsideIpAddress (vpcd's end, from --vpn-outside-addresses;
 *                unique among live connections, so it names the tunnel),
 *                TunnelInsideCidr (/30: vpcd .1, customer gateway .2),
 *                PreSharedKey (SECRET), Phase1/2LifetimeSeconds,
 *                RekeyMarginTimeSeconds, RekeyFuzzPercentage,
 *                ReplayWindowSize, DpdTimeoutSeconds, DpdTimeoutAction,
 *                Phase1/2EncryptionAlgorithms [{Value}],
 *                Phase1/2IntegrityAlgorithms [{Value}],
 *                Phase1/2DHGroupNumbers [{Value}], IkeVersions [{Value}],
 *                StartupAction. tunnel_options_from_doc() reads it back
 *                into a struct tunnel_options.
 *                _Given: the names of the members above the customer set
 *                (create or modify). AWS shows only those (and
 *                OutsideIpAddress, TunnelInsideCidr, PreSharedKey,
 *                LogOptions): an option never set is absent from every
 *                answer, not shown with its default (vpn_wire_view).
 *   Routes       [{DestinationCidrBlock, Source "Static", State}] — the
 *                customer-side prefixes of a static connection.
 *   CustomerGatewayConfiguration  the XML (holds the keys; absent once
 *                deleted).
 *   _CustomerGatewayIpAddress     the peer: the customer gateway's IpAddress.
 *   _CustomerGatewayBgpAsn, _AmazonSideAsn   BGP ASNs (integers).
 *   _ConfigVersion  bumped by every change the engine must act on (tunnel
 *                options, selectors, routes, delete): re-read when it moves.
 *   _CreateTime, _DeleteTime      unix seconds.
 *
 * Telemetry — what the engine writes back
 * ---------------------------------------
 *   VgwTelemetry[i] belongs to TunnelOptions[i] (same OutsideIpAddress):
 *     Status "UP" | "DOWN", LastStatusChange (ISO-8601 "…Z", set when
 *     Status changes), StatusMessage ("IPSEC IS DOWN", or e.g. "1 BGP
 *     ROUTES"), AcceptedRouteCount (integer).
 *   A dynamic connection (StaticRoutesOnly false) is UP only when IPsec is
 *   up and the tunnel's BGP session Established ("N BGP ROUTES",
 *   AcceptedRouteCount the prefixes received); IPsec up without the session
 *   is DOWN "IPSEC IS UP" or the session's cause (engine/engine_vpn.h).
 *   _Bgp         a dynamic connection's BGP as the engine reads it from
 *                BIRD (absent: static, or BGP has not run yet):
 *     { "Error": why BGP cannot run at all (optional),
 *       "Tunnels": [per tunnel index { "OutsideIpAddress", "State" (BIRD's
 *         FSM name, "Established" when up; "Down" when disabled), "Since"
 *         (unix s of the last change), "LocalAsn", "NeighborAsn",
 *         "Received", "Advertised" (prefixes), "LastError" (BIRD's text),
 *         "Cause" "" | prefix-limit | bad-peer-as | hold-expired | other }],
 *       "Routes": [only those of Established sessions, {
 *         "DestinationCidrBlock", "Tunnel" (the index BIRD chose),
 *         "AsPathLength", "Med" (when present) }] }
 *     Its Routes propagate (state/propagation.c, state/resources.h) while their
 *     tunnel's session is Established and the tunnel UP.
 *   The API creates these entries (DOWN) and afterwards only copies them:
 *   no handler here changes an existing VgwTelemetry entry, so the engine
 *   owns them. The cache is the API thread's: the engine must hand its
 *   updates to that thread (edit a doc_clone of the cached doc, api_put)
 *   rather than write the store behind it.
 */
#include "api/quota.h"
#include "api/api_int.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cgwconf/cgwconf.h"
#include "model/tunnel_options.h"

#define VPN_TUNNELS 2
#define VPN_TYPE "ipsec.1"
#define VPN_DELETED_KEEP_S 3600		/* a deleted connection stays describable this long */
#define VPN_STATIC_ROUTES_MAX 100	/* AWS's limit per connection */
#define VPN_USED_INSIDE_MAX 512		/* inside CIDRs looked at per VPN gateway */
#define VPN_STATUS_DOWN_MESSAGE "IPSEC IS DOWN"
#define DEVICE_TYPES_MAX_RESULTS_MIN 200
#define DEVICE_TYPES_MAX_RESULTS_MAX 1000
#define DEVICE_TYPES_TOKEN_PREFIX "vpcd-dt."

static bool vpn_is_deleted(const struct doc *d)
{
	const char *st = doc_get_str(d, "State");
	return st && strcmp(st, "deleted") == 0;
}

/* A connection that is not deleted, named by member; fails NotFound. */
static struct res *vpn_require_live(struct api_req *rq, const char *member)
{
	struct res *r = api_require(rq, member, RT_VPN, "InvalidVpnConnectionID.NotFound", "vpnConnection");
	if (r && vpn_is_deleted(r->r_doc)) {
		api_not_found(rq, "InvalidVpnConnectionID.NotFound", "vpnConnection", r->r_id);
		return NULL;
	}
	return r;
}

/* Forgets connections deleted more than VPN_DELETED_KEEP_S ago. */
static int vpn_purge_deleted(struct api_req *rq)
{
	int64_t now = time_wall_s();
	for (;;) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), RT_VPN, &n);
		char victim[RESOURCE_ID_MAX] = "";	/* a copy: api_delete frees r_id */
		for (size_t i = 0; i < n && !victim[0]; i++)
			if (vpn_is_deleted(list[i]->r_doc) &&
			    now - doc_get_int(list[i]->r_doc, "_DeleteTime", now) > VPN_DELETED_KEEP_S)
				snprintf(victim, sizeof(victim), "%s", list[i]->r_id);
		if (!victim[0])
			return 0;
		if (api_delete(rq, victim) < 0)
			return -1;
	}
}

/* --- the outside address pool -------------------------------------------- */

static bool outside_in_use(struct api_req *rq, const char *ip)
{
	size_t n;	/* the host's addresses serve every region */
	struct res **list = cache_list_all(api_cache(rq), RT_VPN, &n);
	for (size_t i = 0; i < n; i++) {
		if (vpn_is_deleted(list[i]->r_doc))
			continue;
		doc_foreach(t, doc_get(doc_get(list[i]->r_doc, "Options"), "TunnelOptions")) {
			const char *o = doc_get_str(t, "OutsideIpAddress");
			if (o && strcmp(o, ip) == 0)
				return true;
		}
	}
	return false;
}

/* Without --vpn-outside-addresses vpcd serves no tunnel, yet a connection is
 * still created as on AWS: its tunnels get unique addresses of this
 * documentation range (RFC 5737 TEST-NET-1), stay DOWN, and their status
 * message names the missing option. A vpcd restarted with a pool does not
 * serve them either (they are not its addresses); recreate the connection. */
#define VPN_UNSERVED_OUTSIDE_NET 0xc0000200u	/* 192.0.2.0/24 */
#define VPN_UNSERVED_MESSAGE \
	"vpcd serves no tunnels: it was started without --vpn-outside-addresses"

/* Two free outside addresses, one per tunnel: each address carries one
 * tunnel. From the pool; without one, unserved placeholders (*unserved). */
static int outside_pick(struct api_req *rq, char out[VPN_TUNNELS][IP4_STR_MAX], bool *unserved)
{
	const struct api_config *cfg = &rq->rq_api->a_cfg;
	size_t got = 0, used = 0;
	*unserved = cfg->ac_nvpn_outside == 0;
	size_t n = *unserved ? 254 : cfg->ac_nvpn_outside;
	for (size_t i = 0; i < n && got < VPN_TUNNELS; i++) {
		char ip[IP4_STR_MAX];
		ip4_format(*unserved ? VPN_UNSERVED_OUTSIDE_NET + 1 + (uint32_t)i : cfg->ac_vpn_outside[i], ip);
		if (outside_in_use(rq, ip)) {
			used++;
			continue;
		}
		memcpy(out[got++], ip, IP4_STR_MAX);
	}
	if (got == VPN_TUNNELS)
		return 0;
	if (*unserved)
		return api_fail(rq, "VpnConnectionLimitExceeded",
				"vpcd has no tunnel outside addresses (start it with --vpn-outside-addresses "
				"ADDR[,ADDR...]) and its %zu placeholder addresses are in use", n);
	return api_fail(rq, "VpnConnectionLimitExceeded",
			"The tunnel outside address pool is exhausted: %zu addresses (--vpn-outside-addresses), %zu in use; "
			"each tunnel needs its own and a VPN connection needs two",
			cfg->ac_nvpn_outside, cfg->ac_nvpn_outside - got);
}

/* --- tunnel options from a request -------------------------------------------- */

/* Applies the members of a VpnTunnelOptionsSpecification (or
 * ModifyVpnTunnelOptionsSpecification) onto to. where prefixes messages. */
static int tunnel_apply_spec(struct api_req *rq, const char *where, const struct doc *spec, struct tunnel_options *to)
{
	static const char *const int_members[] = {
		"Phase1LifetimeSeconds", "Phase2LifetimeSeconds", "RekeyMarginTimeSeconds",
		"RekeyFuzzPercentage", "ReplayWindowSize", "DPDTimeoutSeconds",
	};
	static const char *const str_members[] = { "DPDTimeoutAction", "StartupAction", "TunnelInsideCidr", "PreSharedKey" };
	static const char *const strs_members[] = {
		"Phase1EncryptionAlgorithms", "Phase2EncryptionAlgorithms", "Phase1IntegrityAlgorithms",
		"Phase2IntegrityAlgorithms", "IKEVersions",
	};
	static const char *const ints_members[] = { "Phase1DHGroupNumbers", "Phase2DHGroupNumbers" };
	struct tunnel_error err;
	const struct doc *v;

	if (doc_get(spec, "TunnelInsideIpv6Cidr"))
		return api_fail(rq, "InvalidParameterValue", "%s: TunnelInsideIpv6Cidr is not supported (IPv4 tunnels only)", where);
	if (doc_get_bool(spec, "EnableTunnelLifecycleControl", false))
		return api_fail(rq, "InvalidParameterValue", "%s: EnableTunnelLifecycleControl is not supported", where);
	const struct doc *cw = doc_get(doc_get(spec, "LogOptions"), "CloudWatchLogOptions");
	if (doc_get_bool(cw, "LogEnabled", false) || doc_get_bool(cw, "BgpLogEnabled", false))
		return api_fail(rq, "InvalidParameterValue", "%s: CloudWatch logging is not supported", where);

	for (size_t i = 0; i < ARRAY_LEN(int_members); i++)
		if ((v = doc_get(spec, int_members[i])) && tunnel_options_set_int(to, int_members[i], v->d_int, &err) < 0)
			goto refused;
	for (size_t i = 0; i < ARRAY_LEN(str_members); i++)
		if ((v = doc_get(spec, str_members[i])) && tunnel_options_set_str(to, str_members[i], v->d_str, &err) < 0)
			goto refused;
	for (size_t i = 0; i < ARRAY_LEN(strs_members); i++) {
		if (!(v = doc_get(spec, strs_members[i])))
			continue;
		const char *vals[16];
		size_t n = 0;
		doc_foreach(item, v) {
			if (n == ARRAY_LEN(vals)) {
				snprintf(err.te_msg, sizeof(err.te_msg), "Too many values for %s", strs_members[i]);
				goto refused;
			}
			vals[n++] = doc_get_str(item, "Value");
		}
		if (tunnel_options_set_strs(to, strs_members[i], vals, n, &err) < 0)
			goto refused;
	}
	for (size_t i = 0; i < ARRAY_LEN(ints_members); i++) {
		if (!(v = doc_get(spec, ints_members[i])))
			continue;
		int64_t vals[16];
		size_t n = 0;
		doc_foreach(item, v) {
			if (n == ARRAY_LEN(vals)) {
				snprintf(err.te_msg, sizeof(err.te_msg), "Too many values for %s", ints_members[i]);
				goto refused;
			}
			vals[n++] = doc_get_int(item, "Value", -1);
		}
		if (tunnel_options_set_ints(to, ints_members[i], vals, n, &err) < 0)
			goto refused;
	}
	if (tunnel_options_validate(to, &err) < 0)
		goto refused;
	return 0;
refused:
	return api_fail(rq, "InvalidParameterValue", "%s: %s", where, err.te_msg);
}

/* Inside CIDRs of the live tunnels of vgw_id, except tunnel skip_index of
 * connection skip_vpn. */
static size_t inside_used(struct api_req *rq, const char *vgw_id, const char *skip_vpn, int skip_index,
			  struct cidr4 *out, size_t max)
{
	size_t n, k = 0;
	struct res **list = cache_list(api_cache(rq), RT_VPN, &n);
	for (size_t i = 0; i < n; i++) {
		const char *g = doc_get_str(list[i]->r_doc, "VpnGatewayId");
		if (vpn_is_deleted(list[i]->r_doc) || !g || strcmp(g, vgw_id) != 0)
			continue;
		int t = 0;
		doc_foreach(tun, doc_get(doc_get(list[i]->r_doc, "Options"), "TunnelOptions")) {
			bool skip = skip_vpn && strcmp(skip_vpn, list[i]->r_id) == 0 && t == skip_index;
			t++;
			if (!skip && k < max && cidr_parse(doc_get_str(tun, "TunnelInsideCidr"), &out[k], NULL))
				k++;
		}
	}
	return k;
}

/* Gives the tunnel its inside CIDR (checked against used, or picked) and
 * its key (kept, or generated). */
static int tunnel_finish(struct api_req *rq, const char *where, struct tunnel_options *to, const struct cidr4 *used,
			 size_t nused)
{
	struct tunnel_error err;
	if (to->to_inside_cidr[0]) {
		if (tunnel_inside_cidr_check(to->to_inside_cidr, used, nused, &err) < 0)
			return api_fail(rq, "InvalidParameterValue", "%s: %s", where, err.te_msg);
	} else if (tunnel_inside_cidr_pick(used, nused, rand_uniform, to->to_inside_cidr) < 0) {
		return api_fail(rq, "InvalidParameterValue", "%s: no free /30 is left in 169.254.0.0/16 for this VPN gateway",
				where);
	}
	if (!to->to_psk[0])
		tunnel_psk_generate(rand_uniform, to->to_psk);
	return 0;
}

/* Request member -> doc member of the tunnel options the customer may set
 * (the request spells some in capitals). */
static const struct {
	const char *gm_request, *gm_doc;
} given_members[] = {
	{ "Phase1LifetimeSeconds", "Phase1LifetimeSeconds" }, { "Phase2LifetimeSeconds", "Phase2LifetimeSeconds" },
	{ "RekeyMarginTimeSeconds", "RekeyMarginTimeSeconds" }, { "RekeyFuzzPercentage", "RekeyFuzzPercentage" },
	{ "ReplayWindowSize", "ReplayWindowSize" }, { "DPDTimeoutSeconds", "DpdTimeoutSeconds" },
	{ "DPDTimeoutAction", "DpdTimeoutAction" }, { "StartupAction", "StartupAction" },
	{ "Phase1EncryptionAlgorithms", "Phase1EncryptionAlgorithms" },
	{ "Phase2EncryptionAlgorithms", "Phase2EncryptionAlgorithms" },
	{ "Phase1IntegrityAlgorithms", "Phase1IntegrityAlgorithms" },
	{ "Phase2IntegrityAlgorithms", "Phase2IntegrityAlgorithms" },
	{ "Phase1DHGroupNumbers", "Phase1DHGroupNumbers" }, { "Phase2DHGroupNumbers", "Phase2DHGroupNumbers" },
	{ "IKEVersions", "IkeVersions" }, { "EnableTunnelLifecycleControl", "EnableTunnelLifecycleControl" },
};

static bool given_has(const struct doc *given, const char *name)
{
	doc_foreach(g, given)
		if (g->d_type == DOC_STR && strcmp(g->d_str, name) == 0)
			return true;
	return false;
}

/* Adds to the tunnel's _Given the options spec (a request's tunnel
 * options) sets. */
static void given_record(struct doc *tunnel, const struct doc *spec)
{
	struct doc *given = doc_get_list(tunnel, "_Given");
	for (size_t i = 0; i < ARRAY_LEN(given_members); i++)
		if (doc_get(spec, given_members[i].gm_request) && !given_has(given, given_members[i].gm_doc))
			doc_push(given, doc_str(given_members[i].gm_doc));
}

/* What AWS answers for a connection (vpn, a copy, is changed): each
 * tunnel's options that were never set are left out. */
static void vpn_wire_view(struct doc *vpn)
{
	doc_foreach(t, doc_get(doc_get(vpn, "Options"), "TunnelOptions")) {
		const struct doc *given = doc_get(t, "_Given");
		for (size_t i = 0; i < ARRAY_LEN(given_members); i++)
			if (!given_has(given, given_members[i].gm_doc))
				doc_remove(t, given_members[i].gm_doc);
	}
}

static void vpn_decorate(struct api_req *rq, struct doc *item)
{
	(void)rq;
	vpn_wire_view(item);
}

static struct doc *tunnel_item(const char *outside_ip, const struct tunnel_options *to)
{
	struct doc *t = doc_obj();
	doc_set_str(t, "OutsideIpAddress", outside_ip);
	tunnel_options_to_doc(to, t);
	struct doc *cw = doc_get_obj(doc_get_obj(t, "LogOptions"), "CloudWatchLogOptions");
	doc_set_bool(cw, "LogEnabled", false);
	doc_set_bool(cw, "BgpLogEnabled", false);
	doc_set_bool(t, "EnableTunnelLifecycleControl", false);
	return t;
}

/* --- rendering ------------------------------------------------------------------ */

static void tunnel_to_cgw(const struct tunnel_options *to, const char *outside_ip, struct cgw_tunnel *ct)
{
	snprintf(ct->ct_vgw_outside_ip, sizeof(ct->ct_vgw_outside_ip), "%s", outside_ip);
	cgwconf_tunnel_from_options(to, ct);
}

/* The renderer's view of a connection doc. with_vpc: also the attached
 * VPC's CIDR (router configurations route to it). The caller wipes cv. */
/* The VPC's associated IPv4 blocks into cv, primary (CidrBlock) first,
 * then the others of CidrBlockAssociationSet in their order: the gateway
 * routes them all, and the router's selectors must carry them all. */
static void vpn_vpc_cidrs(const struct doc *vpc, struct cgw_vpn_connection *cv)
{
	const char *primary = doc_get_str(vpc, "CidrBlock");

	cv->cv_n_vpc_cidrs = 0;
	if (primary)
		snprintf(cv->cv_vpc_cidrs[cv->cv_n_vpc_cidrs++], CGW_CIDR_LEN, "%s", primary);
	doc_foreach(a, doc_get(vpc, "CidrBlockAssociationSet")) {
		const char *block = doc_get_str(a, "CidrBlock");
		const char *state = doc_get_str(doc_get(a, "CidrBlockState"), "State");
		if (!block || (primary && strcmp(block, primary) == 0) || !state || strcmp(state, "associated") != 0)
			continue;
		if (cv->cv_n_vpc_cidrs < CGW_MAX_VPC_CIDRS)
			snprintf(cv->cv_vpc_cidrs[cv->cv_n_vpc_cidrs++], CGW_CIDR_LEN, "%s", block);
	}
}

static int vpn_to_cgw(struct api_req *rq, const struct doc *vpn, bool with_vpc, struct cgw_vpn_connection *cv)
{
	cgwconf_connection_defaults(cv);
	const struct doc *opts = doc_get(vpn, "Options");
	snprintf(cv->cv_vpn_connection_id, sizeof(cv->cv_vpn_connection_id), "%s", doc_get_str(vpn, "VpnConnectionId"));
	snprintf(cv->cv_customer_gateway_id, sizeof(cv->cv_customer_gateway_id), "%s", doc_get_str(vpn, "CustomerGatewayId"));
	snprintf(cv->cv_vpn_gateway_id, sizeof(cv->cv_vpn_gateway_id), "%s", doc_get_str(vpn, "VpnGatewayId"));
	snprintf(cv->cv_type, sizeof(cv->cv_type), "%s", doc_get_str(vpn, "Type"));
	cv->cv_static_routes_only = doc_get_bool(opts, "StaticRoutesOnly", false);
	cv->cv_cgw_asn = (uint32_t)doc_get_int(vpn, "_CustomerGatewayBgpAsn", 65000);
	cv->cv_amazon_side_asn = (uint32_t)doc_get_int(vpn, "_AmazonSideAsn", 64512);
	snprintf(cv->cv_cgw_outside_ip, sizeof(cv->cv_cgw_outside_ip), "%s", doc_get_str(vpn, "_CustomerGatewayIpAddress"));
	snprintf(cv->cv_local_ipv4_network_cidr, CGW_CIDR_LEN, "%s", doc_get_str(opts, "LocalIpv4NetworkCidr"));
	snprintf(cv->cv_remote_ipv4_network_cidr, CGW_CIDR_LEN, "%s", doc_get_str(opts, "RemoteIpv4NetworkCidr"));
	cv->cv_tcp_mss = TUNNEL_TCP_MSS_DEFAULT;
	int t = 0;
	doc_foreach(tun, doc_get(opts, "TunnelOptions")) {
		if (t == VPN_TUNNELS)
			break;
		struct tunnel_options to;
		struct tunnel_error err;
		if (tunnel_options_from_doc(tun, &to, &err) < 0) {
			tunnel_options_wipe(&to);
			return api_fail(rq, "InternalError", "The stored tunnel %d of %s is unusable: %s", t + 1,
					cv->cv_vpn_connection_id, err.te_msg);
		}
		tunnel_to_cgw(&to, doc_get_str(tun, "OutsideIpAddress"), &cv->cv_tunnel[t++]);
		tunnel_options_wipe(&to);
	}
	if (with_vpc) {
		struct res *vgw = cache_get_typed(api_cache(rq), RT_VGW, cv->cv_vpn_gateway_id);
		doc_foreach(a, vgw ? doc_get(vgw->r_doc, "VpcAttachments") : NULL) {
			const char *st = doc_get_str(a, "State");
			struct res *vpc = cache_get_typed(api_cache(rq), RT_VPC, doc_get_str(a, "VpcId"));
			if (vpc && st && strcmp(st, "attached") == 0)
				vpn_vpc_cidrs(vpc->r_doc, cv);
		}
		doc_foreach(r, doc_get(vpn, "Routes"))
			if (cv->cv_n_static_routes < CGW_MAX_STATIC_ROUTES)
				snprintf(cv->cv_static_routes[cv->cv_n_static_routes++], CGW_CIDR_LEN, "%s",
					 doc_get_str(r, "DestinationCidrBlock"));
	}
	return 0;
}

/* Sets CustomerGatewayConfiguration from the doc's own data. */
static int vpn_render_xml(struct api_req *rq, struct doc *vpn)
{
	struct cgw_vpn_connection cv;
	struct strbuf xml = STRBUF_SECRET_INIT;
	struct cgw_error err;
	int rc = vpn_to_cgw(rq, vpn, false, &cv);
	if (rc == 0 && cgwconf_render_xml(&cv, &xml, &err) != CGW_OK)
		rc = api_fail(rq, "InternalError", "The customer gateway configuration cannot be rendered: %s", err.ce_msg);
	if (rc == 0)
		doc_set_secret_str(vpn, "CustomerGatewayConfiguration", sb_str(&xml));
	sb_free(&xml);
	secret_wipe(&cv, sizeof(cv));
	return rc;
}

/* Stores a changed connection the engine must act on: bumps
 * _ConfigVersion, renders the XML (unless deleted). Takes doc. */
static struct doc *vpn_store(struct api_req *rq, const char *id, struct doc *doc)
{
	doc_set_int(doc, "_ConfigVersion", doc_get_int(doc, "_ConfigVersion", 0) + 1);
	if (!vpn_is_deleted(doc) && vpn_render_xml(rq, doc) < 0) {
		doc_free(doc);
		return NULL;
	}
	return api_put(rq, RT_VPN, id, doc);
}

static int parse_selector(struct api_req *rq, const char *member, const char *text, char *out)
{
	struct cidr4 c;
	bool host_bits;
	if (!cidr_parse(text, &c, &host_bits) || host_bits)
		return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter %s is invalid. This is not a valid CIDR block.",
				text, member);
	cidr_format(&c, out);
	return 0;
}

/* --- CreateVpnConnection -------------------------------------------------------- */

int handle_CreateVpnConnection(struct api_req *rq)
{
	const char *type = api_require_str(rq, "Type");
	if (!type)
		return -1;
	if (strcmp(type, VPN_TYPE) != 0)
		return api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter type is invalid. Valid values: ipsec.1", type);
	if (quota_check(rq, Q_VPN_CONNECTIONS, NULL, 1) < 0)
		return -1;
	struct res *cgw = gw_require_live(rq, "CustomerGatewayId", RT_CGW);
	if (!cgw)
		return -1;
	if (doc_get(rq->rq_in, "TransitGatewayId") || doc_get(rq->rq_in, "VpnConcentratorId"))
		return api_fail(rq, "InvalidParameterValue", "vpcd has no transit gateways: give a VpnGatewayId");
	struct res *vgw = gw_require_live(rq, "VpnGatewayId", RT_VGW);
	if (!vgw)
		return -1;
	const char *storage = doc_get_str(rq->rq_in, "PreSharedKeyStorage");
	if (storage && strcmp(storage, "Standard") != 0)
		return api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter PreSharedKeyStorage is invalid. Valid values: Standard",
				storage);
	const struct doc *opts_in = doc_get(rq->rq_in, "Options");
	if (doc_get_bool(opts_in, "EnableAcceleration", false))
		return api_fail(rq, "InvalidParameterValue", "EnableAcceleration needs a transit gateway; vpcd has none");
	const char *ipver = doc_get_str(opts_in, "TunnelInsideIpVersion");
	if (ipver && strcmp(ipver, "ipv4") != 0)
		return api_fail(rq, "InvalidParameterValue", "Value (%.16s) for parameter TunnelInsideIpVersion is invalid. Valid values: ipv4",
				ipver);
	const char *oat = doc_get_str(opts_in, "OutsideIpAddressType");
	if (oat && strcmp(oat, "PublicIpv4") != 0)
		return api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter OutsideIpAddressType is invalid. Valid values: PublicIpv4",
				oat);
	if (doc_get(opts_in, "LocalIpv6NetworkCidr") || doc_get(opts_in, "RemoteIpv6NetworkCidr"))
		return api_fail(rq, "InvalidParameterValue", "IPv6 traffic selectors are not supported (IPv4 tunnels only)");
	char local[CIDR_STR_MAX] = "0.0.0.0/0", remote[CIDR_STR_MAX] = "0.0.0.0/0";
	const char *s;
	if ((s = doc_get_str(opts_in, "LocalIpv4NetworkCidr")) && parse_selector(rq, "LocalIpv4NetworkCidr", s, local) < 0)
		return -1;
	if ((s = doc_get_str(opts_in, "RemoteIpv4NetworkCidr")) && parse_selector(rq, "RemoteIpv4NetworkCidr", s, remote) < 0)
		return -1;
	const struct doc *specs = doc_get(opts_in, "TunnelOptions");
	if (specs && specs->d_count > VPN_TUNNELS)
		return api_fail(rq, "InvalidParameterValue", "Options.TunnelOptions has %zu entries; a VPN connection has %d tunnels",
				specs->d_count, VPN_TUNNELS);
	if (vpn_purge_deleted(rq) < 0)
		return -1;

	char vgw_id[RESOURCE_ID_MAX], cgw_id[RESOURCE_ID_MAX], id[RESOURCE_ID_MAX];
	snprintf(vgw_id, sizeof(vgw_id), "%s", vgw->r_id);
	snprintf(cgw_id, sizeof(cgw_id), "%s", cgw->r_id);
	struct tunnel_options to[VPN_TUNNELS];
	struct cidr4 used[VPN_USED_INSIDE_MAX + VPN_TUNNELS];
	size_t nused = inside_used(rq, vgw_id, NULL, -1, used, VPN_USED_INSIDE_MAX);
	char outside[VPN_TUNNELS][IP4_STR_MAX];
	int rc = -1;
	const struct doc *spec = specs ? specs->d_first : NULL;
	for (int t = 0; t < VPN_TUNNELS; t++) {
		char where[48];
		snprintf(where, sizeof(where), "Options.TunnelOptions.%d", t + 1);
		tunnel_options_defaults(&to[t]);
		if (spec && tunnel_apply_spec(rq, where, spec, &to[t]) < 0)
			goto out;
		if (tunnel_finish(rq, where, &to[t], used, nused) < 0)
			goto out;
		cidr_parse(to[t].to_inside_cidr, &used[nused++], NULL);	/* the other tunnel differs */
		spec = spec ? spec->d_next : NULL;
	}
	bool unserved;
	if (outside_pick(rq, outside, &unserved) < 0)
		goto out;

	new_id("vpn", id);
	const struct doc *cgw_d = cgw->r_doc;
	struct doc *d = doc_obj();
	doc_set_str(d, "VpnConnectionId", id);
	doc_set_str(d, "CustomerGatewayId", cgw_id);
	doc_set_str(d, "VpnGatewayId", vgw_id);
	doc_set_str(d, "Type", VPN_TYPE);
	doc_set_str(d, "Category", "VPN");
	doc_set_str(d, "State", "available");
	struct doc *opts = doc_get_obj(d, "Options");
	doc_set_bool(opts, "EnableAcceleration", false);
	doc_set_bool(opts, "StaticRoutesOnly", doc_get_bool(opts_in, "StaticRoutesOnly", false));
	doc_set_str(opts, "LocalIpv4NetworkCidr", local);
	doc_set_str(opts, "RemoteIpv4NetworkCidr", remote);
	doc_set_str(opts, "OutsideIpAddressType", "PublicIpv4");
	doc_set_str(opts, "TunnelInsideIpVersion", "ipv4");
	struct doc *tunnels = doc_get_list(opts, "TunnelOptions");
	struct doc *telemetry = doc_get_list(d, "VgwTelemetry");
	char now[32];
	time_iso8601(time_wall_s(), now, sizeof(now));
	spec = specs ? specs->d_first : NULL;
	for (int t = 0; t < VPN_TUNNELS; t++) {
		struct doc *tun = doc_push(tunnels, tunnel_item(outside[t], &to[t]));
		doc_get_list(tun, "_Given");
		if (spec)
			given_record(tun, spec);
		spec = spec ? spec->d_next : NULL;
		struct doc *tel = doc_push(telemetry, doc_obj());
		doc_set_str(tel, "OutsideIpAddress", outside[t]);
		doc_set_str(tel, "Status", "DOWN");
		doc_set_str(tel, "LastStatusChange", now);
		doc_set_str(tel, "StatusMessage", unserved ? VPN_UNSERVED_MESSAGE : VPN_STATUS_DOWN_MESSAGE);
		doc_set_int(tel, "AcceptedRouteCount", 0);
	}
	doc_get_list(d, "Routes");
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_VPN));
	doc_set_str(d, "_CustomerGatewayIpAddress", doc_get_str(cgw_d, "IpAddress"));
	doc_set_int(d, "_CustomerGatewayBgpAsn", strtoll(doc_get_str(cgw_d, "BgpAsn"), NULL, 10));
	doc_set_int(d, "_AmazonSideAsn", doc_get_int(vgw->r_doc, "AmazonSideAsn", 64512));
	doc_set_int(d, "_CreateTime", time_wall_s());
	struct doc *vpn = vpn_store(rq, id, d);
	if (!vpn)
		goto out;
	struct doc *answer = doc_set(rq->rq_out, "VpnConnection", doc_clone(vpn));
	vpn_wire_view(answer);
	doc_set_str(answer, "State", "pending");	/* as AWS answers a create */
	rc = 0;
out:
	for (int t = 0; t < VPN_TUNNELS; t++)
		tunnel_options_wipe(&to[t]);
	return rc;
}

/* --- Describe, Delete -------------------------------------------------------------- */

static const struct filter_def vpn_filters[] = {
	{ "customer-gateway-configuration", "CustomerGatewayConfiguration" },
	{ "customer-gateway-id", "CustomerGatewayId" },
	{ "state", "State" },
	{ "option.static-routes-only", "Options.StaticRoutesOnly" },
	{ "route.destination-cidr-block", "Routes.DestinationCidrBlock" },
	{ "bgp-asn", "_CustomerGatewayBgpAsn" },
	{ "type", "Type" },
	{ "vpn-connection-id", "VpnConnectionId" },
	{ "vpn-gateway-id", "VpnGatewayId" },
	{ "transit-gateway-id", "TransitGatewayId" },
	{ NULL, NULL },
};

int handle_DescribeVpnConnections(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_VPN, "VpnConnectionIds", "InvalidVpnConnectionID.NotFound", "vpnConnection", vpn_filters,
		"VpnConnections", false, 5, 1000, vpn_decorate,
	};
	return api_describe(rq, &spec);
}

int handle_DeleteVpnConnection(struct api_req *rq)
{
	struct res *r = vpn_require_live(rq, "VpnConnectionId");
	if (!r)
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	struct doc *d = doc_clone(r->r_doc);
	doc_set_str(d, "State", "deleted");
	doc_set_int(d, "_DeleteTime", time_wall_s());
	doc_remove(d, "CustomerGatewayConfiguration");	/* AWS stops showing it; it holds the keys */
	doc_foreach(t, doc_get(doc_get(d, "Options"), "TunnelOptions"))
		doc_remove(t, "PreSharedKey");
	doc_foreach(route, doc_get(d, "Routes"))
		doc_set_str(route, "State", "deleted");
	if (!vpn_store(rq, id, d))
		return -1;
	if (vpn_purge_deleted(rq) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

/* --- static routes ------------------------------------------------------------------ */

static int route_change(struct api_req *rq, bool add)
{
	struct res *r = vpn_require_live(rq, "VpnConnectionId");
	if (!r)
		return -1;
	const char *cidr_s = api_require_str(rq, "DestinationCidrBlock");
	if (!cidr_s)
		return -1;
	struct cidr4 c;
	char norm[CIDR_STR_MAX];
	if (!cidr_parse(cidr_s, &c, NULL))
		return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.",
				cidr_s);
	cidr_format(&c, norm);
	if (add && !doc_get_bool(doc_get(r->r_doc, "Options"), "StaticRoutesOnly", false))
		return api_fail(rq, "InvalidVpnConnection.InvalidType",
				"The VPN connection '%s' uses BGP (StaticRoutesOnly is false): it takes no static routes.", r->r_id);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	struct doc *d = doc_clone(r->r_doc);
	struct doc *routes = doc_get_list(d, "Routes");
	struct doc *found = NULL;
	doc_foreach(route, routes) {
		const char *dst = doc_get_str(route, "DestinationCidrBlock");
		if (dst && strcmp(dst, norm) == 0)
			found = route;
	}
	if (add && found) {
		doc_free(d);
		return api_fail(rq, "RouteAlreadyExists", "The route %s already exists in the VPN connection '%s'.", norm, id);
	}
	if (!add && !found) {
		doc_free(d);
		return api_fail(rq, "InvalidRoute.NotFound", "The route %s does not exist in the VPN connection '%s'.", norm, id);
	}
	if (add && routes->d_count >= VPN_STATIC_ROUTES_MAX) {
		doc_free(d);
		return api_fail(rq, "RouteLimitExceeded", "The VPN connection '%s' already has %d static routes.", id,
				VPN_STATIC_ROUTES_MAX);
	}
	if (add) {
		struct doc *route = doc_push(routes, doc_obj());
		doc_set_str(route, "DestinationCidrBlock", norm);
		doc_set_str(route, "Source", "Static");
		doc_set_str(route, "State", "available");
	} else {
		doc_delete_child(routes, found);
	}
	return vpn_store(rq, id, d) ? 0 : -1;
}

int handle_CreateVpnConnectionRoute(struct api_req *rq) { return route_change(rq, true); }
int handle_DeleteVpnConnectionRoute(struct api_req *rq) { return route_change(rq, false); }

/* --- Modify --------------------------------------------------------------------------- */

int handle_ModifyVpnTunnelOptions(struct api_req *rq)
{
	struct res *r = vpn_require_live(rq, "VpnConnectionId");
	if (!r)
		return -1;
	const char *outside = api_require_str(rq, "VpnTunnelOutsideIpAddress");
	if (!outside)
		return -1;
	const struct doc *spec = doc_get(rq->rq_in, "TunnelOptions");
	if (!spec)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter TunnelOptions");
	const char *storage = doc_get_str(rq->rq_in, "PreSharedKeyStorage");
	if (storage && strcmp(storage, "Standard") != 0)
		return api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter PreSharedKeyStorage is invalid. Valid values: Standard",
				storage);
	char id[RESOURCE_ID_MAX], vgw_id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	snprintf(vgw_id, sizeof(vgw_id), "%s", doc_get_str(r->r_doc, "VpnGatewayId"));
	struct doc *d = doc_clone(r->r_doc);
	struct doc *tunnels = doc_get(doc_get(d, "Options"), "TunnelOptions");
	struct doc *tun = NULL;
	int index = 0;
	doc_foreach(t, tunnels) {
		const char *o = doc_get_str(t, "OutsideIpAddress");
		if (o && strcmp(o, outside) == 0) {
			tun = t;
			break;
		}
		index++;
	}
	if (!tun) {
		doc_free(d);
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.32s) for parameter VpnTunnelOutsideIpAddress is invalid: no tunnel of '%s' has that outside address.",
				outside, id);
	}
	struct tunnel_options to;
	struct tunnel_error err;
	struct cidr4 used[VPN_USED_INSIDE_MAX];
	int rc = -1;
	if (tunnel_options_from_doc(tun, &to, &err) < 0) {
		api_fail(rq, "InternalError", "The stored tunnel is unusable: %s", err.te_msg);
		goto out;
	}
	char old_inside[CIDR_STR_MAX];
	memcpy(old_inside, to.to_inside_cidr, sizeof(old_inside));
	to.to_inside_cidr[0] = '\0';	/* so that a given one is told apart from the kept one */
	if (tunnel_apply_spec(rq, "TunnelOptions", spec, &to) < 0)
		goto out;
	if (!to.to_inside_cidr[0])
		memcpy(to.to_inside_cidr, old_inside, sizeof(old_inside));
	size_t nused = inside_used(rq, vgw_id, id, index, used, ARRAY_LEN(used));
	if (tunnel_finish(rq, "TunnelOptions", &to, used, nused) < 0)
		goto out;
	/* the same node keeps its place: VgwTelemetry[index] still matches */
	struct doc *fresh = tunnel_item(outside, &to);
	doc_foreach(m, fresh)
		doc_set(tun, m->d_key, doc_clone(m));
	doc_free(fresh);
	given_record(tun, spec);
	struct doc *vpn = vpn_store(rq, id, d);
	d = NULL;
	if (!vpn)
		goto out;
	vpn_wire_view(doc_set(rq->rq_out, "VpnConnection", doc_clone(vpn)));
	rc = 0;
out:
	doc_free(d);
	tunnel_options_wipe(&to);
	return rc;
}

int handle_ModifyVpnConnectionOptions(struct api_req *rq)
{
	struct res *r = vpn_require_live(rq, "VpnConnectionId");
	if (!r)
		return -1;
	if (doc_get(rq->rq_in, "LocalIpv6NetworkCidr") || doc_get(rq->rq_in, "RemoteIpv6NetworkCidr"))
		return api_fail(rq, "InvalidParameterValue", "IPv6 traffic selectors are not supported (IPv4 tunnels only)");
	if (doc_get(rq->rq_in, "TunnelBandwidth"))
		return api_fail(rq, "InvalidParameterValue", "TunnelBandwidth cannot be changed in vpcd");
	const char *local = doc_get_str(rq->rq_in, "LocalIpv4NetworkCidr");
	const char *remote = doc_get_str(rq->rq_in, "RemoteIpv4NetworkCidr");
	if (!local && !remote)
		return api_fail(rq, "MissingParameter",
				"The request must contain LocalIpv4NetworkCidr or RemoteIpv4NetworkCidr");
	char local_n[CIDR_STR_MAX], remote_n[CIDR_STR_MAX];
	if (local && parse_selector(rq, "LocalIpv4NetworkCidr", local, local_n) < 0)
		return -1;
	if (remote && parse_selector(rq, "RemoteIpv4NetworkCidr", remote, remote_n) < 0)
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	struct doc *d = doc_clone(r->r_doc);
	struct doc *opts = doc_get_obj(d, "Options");
	if (local)
		doc_set_str(opts, "LocalIpv4NetworkCidr", local_n);
	if (remote)
		doc_set_str(opts, "RemoteIpv4NetworkCidr", remote_n);
	struct doc *vpn = vpn_store(rq, id, d);
	if (!vpn)
		return -1;
	vpn_wire_view(doc_set(rq->rq_out, "VpnConnection", doc_clone(vpn)));
	return 0;
}

/* --- Download Configuration ----------------------------------------------------------- */

int handle_GetVpnConnectionDeviceTypes(struct api_req *rq)
{
	const struct doc *maxd = doc_get(rq->rq_in, "MaxResults");
	const char *token = doc_get_str(rq->rq_in, "NextToken");
	int64_t max = DEVICE_TYPES_MAX_RESULTS_MAX;
	if (maxd) {
		if (maxd->d_int < DEVICE_TYPES_MAX_RESULTS_MIN || maxd->d_int > DEVICE_TYPES_MAX_RESULTS_MAX)
			return api_fail(rq, "InvalidParameterValue",
					"Value ( %" PRId64 " ) for parameter maxResults is invalid. Expecting a value between %d and %d.",
					maxd->d_int, DEVICE_TYPES_MAX_RESULTS_MIN, DEVICE_TYPES_MAX_RESULTS_MAX);
		max = maxd->d_int;
	}
	size_t count, start = 0;
	const struct cgw_device_type *types = cgwconf_device_types(&count);
	if (token && *token) {
		char *end;
		size_t plen = strlen(DEVICE_TYPES_TOKEN_PREFIX);
		if (strncmp(token, DEVICE_TYPES_TOKEN_PREFIX, plen) != 0 ||
		    (start = strtoul(token + plen, &end, 10), *end) || start > count)
			return api_fail(rq, "InvalidNextToken", "The token '%.80s' is invalid", token);
	}
	struct doc *list = doc_set(rq->rq_out, "VpnConnectionDeviceTypes", doc_list());
	size_t i;
	for (i = start; i < count && (int64_t)(i - start) < max; i++) {
		struct doc *item = doc_push(list, doc_obj());
		doc_set_str(item, "VpnConnectionDeviceTypeId", types[i].dt_id);
		doc_set_str(item, "Vendor", types[i].dt_vendor);
		doc_set_str(item, "Platform", types[i].dt_platform);
		doc_set_str(item, "Software", types[i].dt_software);
	}
	if (i < count) {
		char tok[48];
		snprintf(tok, sizeof(tok), DEVICE_TYPES_TOKEN_PREFIX "%zu", i);
		doc_set_str(rq->rq_out, "NextToken", tok);
	}
	return 0;
}

int handle_GetVpnConnectionDeviceSampleConfiguration(struct api_req *rq)
{
	struct res *r = vpn_require_live(rq, "VpnConnectionId");
	if (!r)
		return -1;
	const char *device = api_require_str(rq, "VpnConnectionDeviceTypeId");
	if (!device)
		return -1;
	if (!cgwconf_device_type_find(device))
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.32s) for parameter VpnConnectionDeviceTypeId is invalid: no such device type (see GetVpnConnectionDeviceTypes)",
				device);
	const char *ike = doc_get_str(rq->rq_in, "InternetKeyExchangeVersion");
	if (ike && strcmp(ike, "ikev1") != 0 && strcmp(ike, "ikev2") != 0)
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.16s) for parameter InternetKeyExchangeVersion is invalid. Valid values: ikev1, ikev2", ike);
	struct cgw_vpn_connection cv;
	struct strbuf out = STRBUF_SECRET_INIT;
	struct cgw_error err;
	int rc = vpn_to_cgw(rq, r->r_doc, true, &cv);
	if (rc == 0) {
		switch (cgwconf_render_device(&cv, device, ike, &out, &err)) {
		case CGW_OK:
			doc_set_secret_str(rq->rq_out, "VpnConnectionDeviceSampleConfiguration", sb_str(&out));
			break;
		case CGW_ERR_DEVICE:
			rc = api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter VpnConnectionDeviceTypeId is invalid: %s",
				      device, err.ce_msg);
			break;
		case CGW_ERR_IKE_VERSION:
		case CGW_ERR_UNSUPPORTED:
			rc = api_fail(rq, "InvalidParameterValue", "The device type %.32s cannot be configured for %s: %s", device,
				      r->r_id, err.ce_msg);
			break;
		default:
			rc = api_fail(rq, "InternalError", "The configuration for device type %.32s cannot be rendered: %s",
				      device, err.ce_msg);
			break;
		}
	}
	sb_free(&out);
	secret_wipe(&cv, sizeof(cv));
	return rc;
}
