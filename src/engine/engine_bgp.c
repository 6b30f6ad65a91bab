/*
 * engine_bgp — a connection doc into a bgp_conn_desc, BIRD's answers into
 * _Bgp and the tunnels' learned prefixes (engine_bgp.h). Reads only ids,
 * ASNs, addresses and inside CIDRs: never the pre-shared keys the doc
 * holds, and logs nothing.
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine_bgp.h"
#include "model/model.h"

#define INSIDE_BASE	0xa9fe0000u	/* 169.254.0.0/16 */

static bool copy_id(char dst[BGP_ID_MAX], const char *src)
{
	if (!src || strlen(src) >= BGP_ID_MAX)
		return false;
	memcpy(dst, src, strlen(src) + 1);
	return true;
}

int engine_bgp_conn_desc(const struct doc *vpn, struct bgp_conn_desc *out, char *why, size_t why_len)
{
	const struct doc *opts = doc_get(vpn, "Options");

	if (!opts || doc_get_bool(opts, "StaticRoutesOnly", false))
		return 0;
	memset(out, 0, sizeof(*out));
	if (!copy_id(out->cd_vpn_id, doc_get_str(vpn, "VpnConnectionId")) ||
	    !copy_id(out->cd_vgw_id, doc_get_str(vpn, "VpnGatewayId"))) {
		snprintf(why, why_len, "BGP: no VPN connection or gateway id");
		return -1;
	}
	int64_t cgw = doc_get_int(vpn, "_CustomerGatewayBgpAsn", 0);
	int64_t vgw = doc_get_int(vpn, "_AmazonSideAsn", 0);
	if (cgw <= 0 || cgw > UINT32_MAX) {
		snprintf(why, why_len, "BGP: the customer gateway has no BGP ASN");
		return -1;
	}
	if (vgw <= 0 || vgw > UINT32_MAX) {
		snprintf(why, why_len, "BGP: the VPN gateway has no Amazon side ASN");
		return -1;
	}
	out->cd_cgw_asn = (uint32_t)cgw;
	out->cd_vgw_asn = (uint32_t)vgw;
	const struct doc *tl = doc_get(opts, "TunnelOptions");
	unsigned t = 0;
	doc_foreach(tun, tl) {
		struct cidr4 c;
		bool host_bits = false;
		if (t >= BGP_TUNNELS)
			break;
		const char *inside = doc_get_str(tun, "TunnelInsideCidr");
		if (!inside || !cidr_parse(inside, &c, &host_bits) || host_bits || c.c_len != BGP_INSIDE_LEN ||
		    (c.c_addr & 0xffff0000u) != INSIDE_BASE) {
			snprintf(why, why_len, "BGP: tunnel %u has no inside /30 of 169.254.0.0/16", t + 1);
			return -1;
		}
		out->cd_inside_net[t++] = c.c_addr;
	}
	if (t != BGP_TUNNELS) {
		snprintf(why, why_len, "BGP: the connection has %u tunnels, not %u", t, BGP_TUNNELS);
		return -1;
	}
	return 1;
}

size_t engine_bgp_exports(const struct doc *vpn, struct bgp_prefix *out, size_t max)
{
	size_t n = 0;
	doc_foreach(b, doc_get(vpn, ENGINE_BGP_EXPORT_KEY)) {
		struct cidr4 c;
		bool host_bits = false;
		if (n == max)
			break;
		if (b->d_type != DOC_STR || !cidr_parse(b->d_str, &c, &host_bits) || host_bits || c.c_len == 0)
			continue;
		out[n].bp_addr = c.c_addr;
		out[n++].bp_len = c.c_len;
	}
	return n;
}

const char *engine_bgp_cause_name(enum bgp_session_error e)
{
	switch (e) {
	case BGP_ERR_NONE: return "";
	case BGP_ERR_PREFIX_LIMIT: return "prefix-limit";
	case BGP_ERR_BAD_PEER_AS: return "bad-peer-as";
	case BGP_ERR_HOLD_EXPIRED: return "hold-expired";
	case BGP_ERR_OTHER: return "other";
	}
	return "other";
}

void engine_bgp_sessions_of(const char *vpn_id, const struct bgp_session *all, size_t n,
			    const struct bgp_session *out[BGP_TUNNELS])
{
	for (unsigned t = 0; t < BGP_TUNNELS; t++)
		out[t] = NULL;
	for (size_t i = 0; i < n; i++) {
		char id[BGP_ID_MAX];
		unsigned t;
		if (bgp_protocol_parse_name(all[i].bs_protocol, id, &t) == 0 && strcmp(id, vpn_id) == 0)
			out[t] = &all[i];
	}
}

/* The tunnel whose session learned r, when that is one of vpn_id's, r is
 * BIRD's best path for its prefix and the session is Established; -1. */
static int route_tunnel(const char *vpn_id, const struct bgp_session *const sess[BGP_TUNNELS],
			const struct bgp_route *r)
{
	char id[BGP_ID_MAX];
	unsigned t;
	if (!r->br_best || bgp_protocol_parse_name(r->br_protocol, id, &t) < 0 || strcmp(id, vpn_id) != 0 ||
	    !sess[t] || sess[t]->bs_state != BGP_FSM_ESTABLISHED)
		return -1;
	return (int)t;
}

static void ip_text(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

struct doc *engine_bgp_doc(const struct doc *vpn, const struct bgp_conn_desc *cd, const char *error,
			   const struct bgp_session *const sess[BGP_TUNNELS], const struct bgp_route *routes,
			   size_t nroutes)
{
	struct doc *d = doc_obj();
	if (error && *error)
		doc_set_str(d, "Error", error);
	struct doc *tl = doc_get_list(d, "Tunnels");
	const struct doc *opts = doc_get(doc_get(vpn, "Options"), "TunnelOptions");
	for (unsigned t = 0; t < BGP_TUNNELS; t++) {
		const struct bgp_session *s = sess[t];
		struct doc *td = doc_push(tl, doc_obj());
		unsigned k = 0;
		doc_foreach(o, opts) {
			if (k++ == t) {
				const char *ip = doc_get_str(o, "OutsideIpAddress");
				if (ip)
					doc_set_str(td, "OutsideIpAddress", ip);
			}
		}
		doc_set_str(td, "State", bgp_fsm_state_name(s ? s->bs_state : BGP_FSM_DOWN));
		if (s && s->bs_since > 0)
			doc_set_int(td, "Since", s->bs_since);
		doc_set_int(td, "LocalAsn", s && s->bs_local_as ? s->bs_local_as : cd ? cd->cd_vgw_asn : 0);
		doc_set_int(td, "NeighborAsn", s && s->bs_neighbor_as ? s->bs_neighbor_as : cd ? cd->cd_cgw_asn : 0);
		doc_set_int(td, "Received", s ? s->bs_imported : 0);
		doc_set_int(td, "Advertised", s ? s->bs_exported : 0);
		doc_set_str(td, "LastError", s ? s->bs_last_error : "");
		doc_set_str(td, "Cause", engine_bgp_cause_name(s ? s->bs_error : BGP_ERR_NONE));
	}
	struct doc *rl = doc_get_list(d, "Routes");
	const char *vpn_id = cd ? cd->cd_vpn_id : "";
	for (size_t i = 0; cd && i < nroutes; i++) {
		int t = route_tunnel(vpn_id, sess, &routes[i]);
		if (t < 0)
			continue;
		char ip[16], cidr[24];
		ip_text(routes[i].br_prefix.bp_addr, ip);
		snprintf(cidr, sizeof(cidr), "%s/%u", ip, routes[i].br_prefix.bp_len);
		struct doc *rd = doc_push(rl, doc_obj());
		doc_set_str(rd, "DestinationCidrBlock", cidr);
		doc_set_int(rd, "Tunnel", t);
		doc_set_int(rd, "AsPathLength", routes[i].br_as_path_len);
		if (routes[i].br_has_med)
			doc_set_int(rd, "Med", routes[i].br_med);
	}
	return d;
}

size_t engine_bgp_tunnel_prefixes(const char *vpn_id, const struct bgp_session *const sess[BGP_TUNNELS],
				  const struct bgp_route *routes, size_t nroutes, unsigned t,
				  struct bgp_prefix *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < nroutes; i++) {
		if (route_tunnel(vpn_id, sess, &routes[i]) != (int)t)
			continue;
		if (n < max)
			out[n] = routes[i].br_prefix;
		n++;
	}
	return n;
}

unsigned engine_bgp_limit_retry_s(unsigned hits)
{
	unsigned s = ENGINE_BGP_LIMIT_RETRY_S;
	for (unsigned i = 1; i < hits && s < ENGINE_BGP_LIMIT_RETRY_MAX_S; i++)
		s *= 2;
	return s < ENGINE_BGP_LIMIT_RETRY_MAX_S ? s : ENGINE_BGP_LIMIT_RETRY_MAX_S;
}

bool engine_bgp_limit_step(struct engine_bgp_limit *l, const struct bgp_session *s, uint64_t now,
			   struct bgp_session *shown)
{
	*shown = *s;
	if (s->bs_state == BGP_FSM_ESTABLISHED) {
		if (!l->bl_established_ms)
			l->bl_established_ms = now;
		if (l->bl_hits && now - l->bl_established_ms >= ENGINE_BGP_LIMIT_FORGET_S * 1000ull)
			l->bl_hits = 0;
		l->bl_held = false;
		return false;
	}
	l->bl_established_ms = 0;
	bool hit = s->bs_state == BGP_FSM_DOWN && (s->bs_limit_hit || s->bs_error == BGP_ERR_PREFIX_LIMIT);
	if (hit && !l->bl_held && (!l->bl_enabled_ms || now - l->bl_enabled_ms >= ENGINE_BGP_ENABLE_SETTLE_MS)) {
		l->bl_held = true;
		l->bl_hits++;
		l->bl_enable_at_ms = now + engine_bgp_limit_retry_s(l->bl_hits) * 1000ull;
		snprintf(l->bl_last_error, sizeof(l->bl_last_error), "%s",
			 s->bs_last_error[0] ? s->bs_last_error : "Route limit exceeded");
	}
	/* the cause stays until the session is back */
	if (l->bl_hits && (shown->bs_error == BGP_ERR_NONE || shown->bs_error == BGP_ERR_PREFIX_LIMIT)) {
		shown->bs_error = BGP_ERR_PREFIX_LIMIT;
		snprintf(shown->bs_last_error, sizeof(shown->bs_last_error), "%s", l->bl_last_error);
	}
	return l->bl_held && now >= l->bl_enable_at_ms;
}

void engine_bgp_limit_enabled(struct engine_bgp_limit *l, uint64_t now)
{
	l->bl_held = false;
	l->bl_enabled_ms = now;
}
