/*
 * engine_vpn.c — a VPN connection doc into tunnel specs, a tunnel status
 * and a dynamic connection's BGP sessions (_Bgp) into VgwTelemetry, tunnel
 * statuses into _TunnelDetail (engine_vpn.h). Pure: no I/O, no clock, no logging
 * (the doc holds the pre-shared keys; callers log what plan says).
 */
#include "engine/engine_vpn.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/strbuf.h"
#include "bgp/bgp.h"
#include "model/model.h"
#include "model/tunnel_options.h"

/* Tunnel option bits (model/tunnel_options.h, AWS's "lowest first" order)
 * to ike/'s algorithms. */
static const enum ike_encr encr_of_bit[TUNNEL_ALGS_PER_KIND] = {
	IKE_ENCR_AES128_CBC, IKE_ENCR_AES256_CBC, IKE_ENCR_AES128_GCM16, IKE_ENCR_AES256_GCM16,
};
static const enum ike_integ integ_of_bit[TUNNEL_ALGS_PER_KIND] = {
	IKE_INTEG_SHA1, IKE_INTEG_SHA256, IKE_INTEG_SHA384, IKE_INTEG_SHA512,
};

/* The DH groups ike/ negotiates, in AWS's order; all of them fit
 * IKE_MAX_ALGS (AWS allows twelve in phase 1 and thirteen in phase 2 by
 * default). */
static const uint16_t dh_known[] = { TUNNEL_DH_GROUPS };
_Static_assert(ARRAY_LEN(dh_known) <= IKE_MAX_ALGS, "every DH group fits a list");

static size_t dh_list(uint32_t bits, bool phase1, uint16_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_LEN(dh_known); i++)
		if ((bits & (1u << dh_known[i])) && !(phase1 && dh_known[i] == TUNNEL_DH_PHASE2_ONLY))
			out[n++] = dh_known[i];
	return n;
}

bool engine_vpn_is_deleted(const struct doc *vpn)
{
	const char *st = doc_get_str(vpn, "State");
	return !vpn || !st || strcmp(st, "deleted") == 0;
}

static bool parse_ip(const char *s, uint32_t *out)
{
	return s && ip4_parse(s, out) && *out != 0;
}

static bool parse_subnet(const char *s, struct ike_subnet *out)
{
	struct cidr4 c;
	if (!s || !cidr_parse(s, &c, NULL))
		return false;
	out->addr = c.c_addr;
	out->prefix_len = c.c_len;
	return true;
}

/* One tunnel's spec from TunnelOptions[index]; "" in err, or why not. */
static void tunnel_spec(const struct doc *vpn, const struct doc *tun, int index, uint32_t peer,
			const struct engine_vpn_plan *plan, struct vpn_tunnel_spec *s,
			char *err, size_t err_len)
{
	struct tunnel_options to;
	struct tunnel_error terr;
	struct cidr4 inside;
	const struct doc *opts = doc_get(vpn, "Options");
	err[0] = '\0';
	vpn_tunnel_spec_defaults(s);
	engine_vpn_tunnel_id(plan->vp_id, index, s->id);
	/* dynamic: its inside pair is BGP's (the endpoint's BGP side) */
	s->bgp = opts && !doc_get_bool(opts, "StaticRoutesOnly", false);
	s->conn_key = engine_vpn_conn_key(plan->vp_id);
	s->conn_tunnel = (uint8_t)(index + 1);
	s->remote_ip = peer;
	if (!parse_ip(doc_get_str(tun, "OutsideIpAddress"), &s->local_ip)) {
		snprintf(err, err_len, "tunnel %d has no outside address", index + 1);
		return;
	}
	if (tunnel_options_from_doc(tun, &to, &terr) < 0) {
		snprintf(err, err_len, "unusable tunnel options: %.80s", terr.te_msg);
		goto out;
	}
	if (!cidr_parse(to.to_inside_cidr, &inside, NULL) || inside.c_len != TUNNEL_INSIDE_PREFIX) {
		snprintf(err, err_len, "tunnel %d has no /30 inside CIDR", index + 1);
		goto out;
	}
	s->inside.addr = inside.c_addr;
	s->inside.prefix_len = inside.c_len;
	s->psk_len = strlen(to.to_psk);
	if (!s->psk_len || s->psk_len > sizeof(s->psk)) {
		snprintf(err, err_len, "tunnel %d has no pre-shared key", index + 1);
		goto out;
	}
	memcpy(s->psk, to.to_psk, s->psk_len);

	struct ike_tunnel_config *c = &s->ike;
	c->p1_encr_n = c->p1_aead_n = c->p1_integ_n = c->p2_encr_n = c->p2_integ_n = 0;
	c->versions = (to.to_ike_versions & TUNNEL_IKEV1 ? IKE_V1 : 0) |
		      (to.to_ike_versions & TUNNEL_IKEV2 ? IKE_V2 : 0);
	for (unsigned b = 0; b < TUNNEL_ALGS_PER_KIND; b++) {
		bool gcm = encr_of_bit[b] == IKE_ENCR_AES128_GCM16 || encr_of_bit[b] == IKE_ENCR_AES256_GCM16;
		if ((to.to_phase1_encryption & (1u << b)) && !gcm)
			c->p1_encr[c->p1_encr_n++] = encr_of_bit[b];
		/* AEAD for the IKE SA: IKEv2 only (IKEv1's phase 1 has none) */
		if ((to.to_phase1_encryption & (1u << b)) && gcm && (c->versions & IKE_V2))
			c->p1_aead[c->p1_aead_n++] = encr_of_bit[b];
		if (to.to_phase2_encryption & (1u << b))
			c->p2_encr[c->p2_encr_n++] = encr_of_bit[b];
		if (to.to_phase1_integrity & (1u << b))
			c->p1_integ[c->p1_integ_n++] = integ_of_bit[b];
		if (to.to_phase2_integrity & (1u << b))
			c->p2_integ[c->p2_integ_n++] = integ_of_bit[b];
	}
	c->p1_dh_n = dh_list(to.to_phase1_dh, true, c->p1_dh);
	c->p2_dh_n = dh_list(to.to_phase2_dh, false, c->p2_dh);
	if (!c->p1_encr_n && c->versions == (IKE_V1 | IKE_V2))
		c->versions = IKE_V2;	/* only AES-GCM allowed: IKEv1 cannot run */
	if (!c->p1_encr_n && c->versions == IKE_V1) {
		snprintf(err, err_len, "IKEv1 phase 1 cannot use AES-GCM: allow AES128 or AES256 "
			 "in Phase1EncryptionAlgorithms");
		goto out;
	}
	if (!c->p1_integ_n || !c->p2_encr_n || !c->p1_dh_n || !c->p2_dh_n) {
		snprintf(err, err_len, "no algorithm or DH group that vpcd supports is allowed");
		goto out;
	}
	c->p1_lifetime_s = to.to_phase1_lifetime_s;
	c->p2_lifetime_s = to.to_phase2_lifetime_s;
	c->rekey_margin_s = to.to_rekey_margin_s;
	c->rekey_fuzz_pct = to.to_rekey_fuzz_pct;
	c->replay_window = to.to_replay_window;
	c->dpd_timeout_s = to.to_dpd_timeout_s;
	c->dpd_delay_s = to.to_dpd_timeout_s < ENGINE_DPD_DELAY_S ? to.to_dpd_timeout_s : ENGINE_DPD_DELAY_S;
	c->dpd_action = to.to_dpd_action == TUNNEL_DPD_NONE ? IKE_DPD_NONE :
			to.to_dpd_action == TUNNEL_DPD_RESTART ? IKE_DPD_RESTART : IKE_DPD_CLEAR;
	c->startup = to.to_startup_action == TUNNEL_STARTUP_START ? IKE_STARTUP_START : IKE_STARTUP_ADD;
	/* selector bounds: ours is the VPC side (Remote...), the peer's the
	 * customer side (Local...), as AWS names them */
	if (!parse_subnet(doc_get_str(opts, "RemoteIpv4NetworkCidr"), &c->local_ts) ||
	    !parse_subnet(doc_get_str(opts, "LocalIpv4NetworkCidr"), &c->remote_ts)) {
		snprintf(err, err_len, "the connection's traffic selector bounds are not CIDRs");
		goto out;
	}
	memcpy(s->routes, plan->vp_routes, plan->vp_nroutes * sizeof(s->routes[0]));
	s->n_routes = plan->vp_nroutes;
	const char *why = vpn_tunnel_spec_check(s);
	if (why)
		snprintf(err, err_len, "%s", why);
out:
	tunnel_options_wipe(&to);
	secret_wipe(&terr, sizeof(terr));
}

int engine_vpn_plan(const struct doc *vpn, struct engine_vpn_plan *plan, char *why, size_t why_len)
{
	memset(plan, 0, sizeof(*plan));
	const char *id = doc_get_str(vpn, "VpnConnectionId");
	if (!id || !*id || strlen(id) >= sizeof(plan->vp_id) ||
	    strlen(id) + 3 > VPN_TUNNEL_ID_MAX) {
		snprintf(why, why_len, "no VpnConnectionId");
		return -1;
	}
	snprintf(plan->vp_id, sizeof(plan->vp_id), "%s", id);
	plan->vp_version = doc_get_int(vpn, "_ConfigVersion", 0);
	uint32_t peer;
	if (!parse_ip(doc_get_str(vpn, "_CustomerGatewayIpAddress"), &peer)) {
		snprintf(why, why_len, "no customer gateway address");
		return -1;
	}
	const struct doc *tunnels = doc_get(doc_get(vpn, "Options"), "TunnelOptions");
	if (!tunnels || tunnels->d_count != ENGINE_VPN_TUNNELS) {
		snprintf(why, why_len, "not %d tunnels", ENGINE_VPN_TUNNELS);
		return -1;
	}
	doc_foreach(r, doc_get(vpn, "Routes")) {
		const char *st = doc_get_str(r, "State");
		struct cidr4 c;
		if ((st && strcmp(st, "available") != 0) ||
		    !cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &c, NULL))
			continue;
		if (plan->vp_nroutes == VPN_MAX_ROUTES) {
			plan->vp_routes_dropped++;
			continue;
		}
		plan->vp_routes[plan->vp_nroutes].addr = c.c_addr;
		plan->vp_routes[plan->vp_nroutes++].prefix_len = c.c_len;
	}
	int i = 0;
	doc_foreach(tun, tunnels) {
		tunnel_spec(vpn, tun, i, peer, plan, &plan->vp_tunnel[i], plan->vp_error[i],
			    sizeof(plan->vp_error[i]));
		i++;
	}
	return 0;
}

void engine_vpn_plan_wipe(struct engine_vpn_plan *plan)
{
	secret_wipe(plan, sizeof(*plan));
}

uint64_t engine_vpn_conn_key(const char *vpn_id)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)vpn_id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h ? h : 1;
}

void engine_vpn_tunnel_id(const char *vpn_id, int index, char out[VPN_TUNNEL_ID_MAX])
{
	snprintf(out, VPN_TUNNEL_ID_MAX, "%.*s#%d", ENGINE_VPN_ID_MAX - 1, vpn_id, index + 1);
}

bool engine_vpn_tunnel_id_parse(const char *tunnel_id, char vpn_id[ENGINE_VPN_ID_MAX], int *index)
{
	const char *hash = strrchr(tunnel_id, '#');
	if (!hash || hash == tunnel_id || (size_t)(hash - tunnel_id) >= ENGINE_VPN_ID_MAX ||
	    hash[1] < '1' || hash[1] > '0' + ENGINE_VPN_TUNNELS || hash[2])
		return false;
	memcpy(vpn_id, tunnel_id, (size_t)(hash - tunnel_id));
	vpn_id[hash - tunnel_id] = '\0';
	*index = hash[1] - '1';
	return true;
}

static struct doc *nth(const struct doc *list, int index)
{
	int i = 0;
	doc_foreach(item, list)
		if (i++ == index)
			return item;
	return NULL;
}

static int64_t available_routes(const struct doc *vpn)
{
	int64_t n = 0;
	doc_foreach(r, doc_get(vpn, "Routes")) {
		const char *st = doc_get_str(r, "State");
		n += !st || strcmp(st, "available") == 0;
	}
	return n;
}

static bool str_is(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool engine_vpn_is_dynamic(const struct doc *vpn)
{
	/* CreateVpnConnection's default: StaticRoutesOnly false */
	return !doc_get_bool(doc_get(vpn, "Options"), "StaticRoutesOnly", false);
}

/* What VgwTelemetry[i] shows. */
struct telemetry_view {
	bool tv_up;
	char tv_msg[ENGINE_VPN_MESSAGE_MAX];
	int64_t tv_count;
};

/* Why a session that IPsec carries is not Established, as the status
 * message says it ("" when BGP gives no reason: AWS's "IPSEC IS UP"). */
static void session_cause(const struct doc *bgp, const struct doc *session, char *out, size_t len)
{
	const char *error = doc_get_str(bgp, "Error");
	const char *cause = doc_get_str(session, "Cause");
	const char *last = doc_get_str(session, "LastError");
	out[0] = '\0';
	if (error && *error)
		snprintf(out, len, "BGP cannot run: %s", error);
	else if (str_is(cause, "prefix-limit"))
		snprintf(out, len, "BGP session dropped: more than %d prefixes received", BGP_IMPORT_LIMIT);
	else if (str_is(cause, "bad-peer-as"))
		snprintf(out, len, "BGP session refused: the customer gateway's ASN is not %lld%s%s",
			 (long long)doc_get_int(session, "NeighborAsn", 0), last && *last ? ": " : "",
			 last ? last : "");
	else if (str_is(cause, "hold-expired"))
		snprintf(out, len, "BGP session dropped: hold timer expired (no keepalive for %d s)",
			 BGP_HOLD_S);
	else if (last && *last)
		snprintf(out, len, "BGP session down: %s", last);
}

/* Tunnel index of a dynamic connection: IPsec (as the endpoint last said)
 * and the tunnel's BGP session together. */
static void dynamic_view(const struct doc *vpn, const struct doc *tel, int index, struct telemetry_view *v)
{
	const char *ipsec = doc_get_str(tel, ENGINE_TEL_IPSEC);
	/* telemetry from before this key existed: its Status was IPsec's */
	bool ipsec_up = ipsec ? strcmp(ipsec, "UP") == 0 : str_is(doc_get_str(tel, "Status"), "UP");
	if (!ipsec_up) {
		const char *why = doc_get_str(tel, ENGINE_TEL_IPSEC_MESSAGE);
		v->tv_up = false;
		snprintf(v->tv_msg, sizeof(v->tv_msg), "%s", why && *why ? why : ENGINE_STATUS_DOWN);
		v->tv_count = 0;
		return;
	}
	const struct doc *bgp = doc_get(vpn, ENGINE_VPN_BGP_KEY);
	const struct doc *session = nth(doc_get(bgp, "Tunnels"), index);
	const char *ip = doc_get_str(session, "OutsideIpAddress");
	if (ip && !str_is(ip, doc_get_str(tel, "OutsideIpAddress")))
		session = NULL;	/* another tunnel's: not this one's session */
	int64_t received = doc_get_int(session, "Received", 0);
	if (str_is(doc_get_str(session, "State"), "Established") && !doc_get_str(bgp, "Error")) {
		v->tv_up = true;
		v->tv_count = received > 0 ? received : 0;
		snprintf(v->tv_msg, sizeof(v->tv_msg), "%lld BGP ROUTES", (long long)v->tv_count);
		return;
	}
	v->tv_up = false;
	v->tv_count = 0;
	session_cause(bgp, session, v->tv_msg, sizeof(v->tv_msg));
	if (!v->tv_msg[0])
		snprintf(v->tv_msg, sizeof(v->tv_msg), "%s", ENGINE_STATUS_UP);
}

/* Writes v into tel; LastStatusChange (since_unix) when Status changes or
 * stamp says so. true when tel changed. */
static bool telemetry_write(struct doc *tel, const struct telemetry_view *v, int64_t since_unix, bool stamp)
{
	bool changed = false;
	const char *status = v->tv_up ? "UP" : "DOWN";
	if (!str_is(doc_get_str(tel, "Status"), status) || stamp) {
		char when[32];
		time_iso8601(since_unix, when, sizeof(when));
		doc_set_str(tel, "Status", status);
		doc_set_str(tel, "LastStatusChange", when);
		changed = true;
	}
	if (!str_is(doc_get_str(tel, "StatusMessage"), v->tv_msg)) {
		doc_set_str(tel, "StatusMessage", v->tv_msg);
		changed = true;
	}
	if (doc_get_int(tel, "AcceptedRouteCount", -1) != v->tv_count) {
		doc_set_int(tel, "AcceptedRouteCount", v->tv_count);
		changed = true;
	}
	return changed;
}

/* VgwTelemetry[index] if it belongs to TunnelOptions[index] (same outside
 * address), else NULL. */
static struct doc *telemetry_of(struct doc *vpn, int index)
{
	struct doc *tel = nth(doc_get(vpn, "VgwTelemetry"), index);
	const struct doc *tun = nth(doc_get(doc_get(vpn, "Options"), "TunnelOptions"), index);
	const char *tel_ip = doc_get_str(tel, "OutsideIpAddress");
	const char *tun_ip = doc_get_str(tun, "OutsideIpAddress");
	if (!tel || !tun_ip || (tel_ip && strcmp(tel_ip, tun_ip) != 0))
		return NULL;
	return tel;
}

static bool set_str_if(struct doc *o, const char *key, const char *value)
{
	if (str_is(doc_get_str(o, key), value))
		return false;
	doc_set_str(o, key, value);
	return true;
}

bool engine_vpn_telemetry_apply(struct doc *vpn, int index, bool up, const char *cause,
				int64_t since_unix, bool routes_only)
{
	struct doc *tel = telemetry_of(vpn, index);
	if (!tel)
		return false;
	struct telemetry_view v;
	if (engine_vpn_is_dynamic(vpn)) {
		bool ipsec_moved = false, changed = false;
		if (!routes_only) {
			/* AWS stamps LastStatusChange at an IPsec change too, even
			 * when the tunnel stays DOWN for want of BGP */
			ipsec_moved = set_str_if(tel, ENGINE_TEL_IPSEC, up ? "UP" : "DOWN");
			changed = set_str_if(tel, ENGINE_TEL_IPSEC_MESSAGE, up ? "" : cause ? cause : "");
		}
		dynamic_view(vpn, tel, index, &v);
		return telemetry_write(tel, &v, since_unix, ipsec_moved) || ipsec_moved || changed;
	}
	if (routes_only) {
		/* keep Status and StatusMessage, recount */
		up = str_is(doc_get_str(tel, "Status"), "UP");
		int64_t count = up ? available_routes(vpn) : 0;
		if (doc_get_int(tel, "AcceptedRouteCount", -1) == count)
			return false;
		doc_set_int(tel, "AcceptedRouteCount", count);
		return true;
	}
	v.tv_up = up;
	snprintf(v.tv_msg, sizeof(v.tv_msg), "%s", up ? ENGINE_STATUS_UP : cause && *cause ? cause : ENGINE_STATUS_DOWN);
	v.tv_count = up ? available_routes(vpn) : 0;
	return telemetry_write(tel, &v, since_unix, false);
}

bool engine_vpn_telemetry_restart(struct doc *vpn, int64_t now_unix)
{
	if (engine_vpn_is_deleted(vpn))
		return false;
	bool changed = false;
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
		const struct doc *tel = telemetry_of(vpn, i);
		if (str_is(doc_get_str(tel, "Status"), "UP") || str_is(doc_get_str(tel, ENGINE_TEL_IPSEC), "UP"))
			changed |= engine_vpn_telemetry_apply(vpn, i, false, ENGINE_STATUS_DOWN, now_unix, false);
	}
	return changed;
}

bool engine_vpn_detail_restart(struct doc *vpn)
{
	return doc_remove(vpn, ENGINE_VPN_DETAIL_KEY);
}

/* JSON equality of two docs (NULL equals NULL only). */
static bool doc_same(const struct doc *a, const struct doc *b)
{
	if (!a || !b)
		return a == b;
	struct strbuf ja = STRBUF_INIT, jb = STRBUF_INIT;
	doc_to_json(a, &ja);
	doc_to_json(b, &jb);
	bool same = strcmp(sb_str(&ja), sb_str(&jb)) == 0;
	sb_free(&ja);
	sb_free(&jb);
	return same;
}

bool engine_vpn_bgp_apply(struct doc *vpn, const struct doc *bgp, int64_t now_unix)
{
	bool changed = false;
	if (!doc_same(doc_get(vpn, ENGINE_VPN_BGP_KEY), bgp)) {
		if (bgp)
			doc_set(vpn, ENGINE_VPN_BGP_KEY, doc_clone(bgp));
		else
			doc_remove(vpn, ENGINE_VPN_BGP_KEY);
		changed = true;
	}
	if (!engine_vpn_is_dynamic(vpn))
		return changed;
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
		struct doc *tel = telemetry_of(vpn, i);
		if (!tel)
			continue;
		struct telemetry_view v;
		dynamic_view(vpn, tel, i, &v);
		/* a change the session made happened at its Since */
		int64_t since = doc_get_int(nth(doc_get(bgp, "Tunnels"), i), "Since", 0);
		changed |= telemetry_write(tel, &v, since > 0 && since <= now_unix ? since : now_unix, false);
	}
	return changed;
}

struct doc *engine_vpn_trim(const struct doc *vpn)
{
	static const char *const keep[] = {
		"VpnConnectionId", "State", "VpnGatewayId", "Options", "Routes",
		"_CustomerGatewayIpAddress", "_ConfigVersion",
		"_CustomerGatewayBgpAsn", "_AmazonSideAsn",	/* BGP (engine_bgp.h) */
	};
	struct doc *d = doc_obj();
	for (size_t i = 0; i < ARRAY_LEN(keep); i++) {
		const struct doc *m = doc_get(vpn, keep[i]);
		if (m)
			doc_set(d, keep[i], doc_clone(m));
	}
	return d;
}

/* ---- _TunnelDetail ------------------------------------------------------------ */

static const char *isakmp_encr(enum ike_encr e)
{
	switch (e) {
	case IKE_ENCR_AES128_CBC: return "aes";
	case IKE_ENCR_AES256_CBC: return "aes 256";
	case IKE_ENCR_AES128_GCM16: return "aes-gcm";
	case IKE_ENCR_AES256_GCM16: return "aes-gcm 256";
	}
	return "?";
}

static const char *isakmp_hash(enum ike_integ i)
{
	switch (i) {
	case IKE_INTEG_NONE: return "none";
	case IKE_INTEG_SHA1: return "sha";
	case IKE_INTEG_SHA256: return "sha256";
	case IKE_INTEG_SHA384: return "sha384";
	case IKE_INTEG_SHA512: return "sha512";
	}
	return "?";
}

static void set_ip(struct doc *o, const char *key, uint32_t ip)
{
	char buf[IP4_STR_MAX];
	ip4_format(ip, buf);
	doc_set_str(o, key, buf);
}

static void set_addr(struct doc *o, const char *key, const struct ike_addr *a)
{
	char ip[IP4_STR_MAX], buf[IP4_STR_MAX + 8];
	ip4_format(a->ip, ip);
	snprintf(buf, sizeof(buf), "%s:%u", ip, a->port);
	doc_set_str(o, key, buf);
}

static void set_u64(struct doc *o, const char *key, uint64_t v)
{
	doc_set_int(o, key, v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* "10.0.0.0/24", "10.0.0.1-10.0.0.5", with " proto N port P" when set. */
static void set_ts(struct doc *o, const char *key, const struct ike_ts *ts)
{
	char a[IP4_STR_MAX], b[IP4_STR_MAX], buf[64];
	ip4_format(ts->first, a);
	uint32_t span = ts->last - ts->first;
	int len = 32;
	while (len > 0 && span & (1u << (32 - len)))
		len--;
	uint32_t host = len == 0 ? UINT32_MAX : (len == 32 ? 0 : (1u << (32 - len)) - 1);
	int n;
	if (span == host && (ts->first & host) == 0) {
		n = snprintf(buf, sizeof(buf), "%s/%d", a, len);
	} else {
		ip4_format(ts->last, b);
		n = snprintf(buf, sizeof(buf), "%s-%s", a, b);
	}
	if (ts->protocol && n > 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " proto %u", ts->protocol);
	if (ts->port && n > 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, " port %u", ts->port);
	doc_set_str(o, key, buf);
}

static struct doc *esp_drops(const uint64_t *drops)
{
	struct doc *o = doc_obj();
	for (int i = 1; i < ESP_STATUS_COUNT; i++)
		if (drops[i])
			set_u64(o, esp_status_name((enum esp_status)i), drops[i]);
	return o;
}

static struct doc *isakmp_detail(const struct ike_isakmp_status *is, int64_t now, bool with_times)
{
	struct doc *o = doc_obj();
	doc_set_str(o, "State", ike_isakmp_state_name(is->state));
	if (is->state == IKE_ISAKMP_NONE)
		return o;
	char hex[17];
	doc_set_int(o, "ConnId", is->conn_id);
	doc_set_str(o, "Role", is->initiator ? "initiator" : "responder");
	hex_encode(is->cookie_i, sizeof(is->cookie_i), hex);
	doc_set_str(o, "CookieI", hex);
	hex_encode(is->cookie_r, sizeof(is->cookie_r), hex);
	doc_set_str(o, "CookieR", hex);
	set_addr(o, "LocalAddress", &is->local);
	set_addr(o, "PeerAddress", &is->peer);
	doc_set_bool(o, "NatLocal", is->nat_local);
	doc_set_bool(o, "NatPeer", is->nat_peer);
	doc_set_bool(o, "PeerDpd", is->peer_dpd);
	if (is->state != IKE_ISAKMP_MM_NO_STATE) {
		doc_set_str(o, "Encryption", isakmp_encr(is->encr));
		doc_set_str(o, "Hash", isakmp_hash(is->integ));
		doc_set_str(o, "Auth", "psk");
		doc_set_int(o, "DhGroup", is->dh_group);
		doc_set_int(o, "LifetimeSeconds", is->lifetime_s);
	}
	doc_set_int(o, "QuickModesInFlight", is->qm_in_flight);
	doc_set_int(o, "IsakmpSas", is->n_sas);
	if (with_times && is->state == IKE_ISAKMP_QM_IDLE) {
		doc_set_int(o, "EstablishedAt", now - is->established_s);
		doc_set_int(o, "ExpiresAt", now + is->remaining_s);
		doc_set_int(o, "ReauthAt", now + is->reauth_in_s);
	}
	return o;
}

/* swanctl --list-sas names: AES_CBC-128, HMAC_SHA2_256_128, PRF_HMAC_SHA1. */
static const char *v2_encr_name(enum ike_encr e)
{
	switch (e) {
	case IKE_ENCR_AES128_CBC: return "AES_CBC-128";
	case IKE_ENCR_AES256_CBC: return "AES_CBC-256";
	case IKE_ENCR_AES128_GCM16: return "AES_GCM_16-128";
	case IKE_ENCR_AES256_GCM16: return "AES_GCM_16-256";
	}
	return "?";
}

static const char *v2_integ_name(enum ike_integ i, bool prf)
{
	switch (i) {
	case IKE_INTEG_SHA1: return prf ? "PRF_HMAC_SHA1" : "HMAC_SHA1_96";
	case IKE_INTEG_SHA256: return prf ? "PRF_HMAC_SHA2_256" : "HMAC_SHA2_256_128";
	case IKE_INTEG_SHA384: return prf ? "PRF_HMAC_SHA2_384" : "HMAC_SHA2_384_192";
	case IKE_INTEG_SHA512: return prf ? "PRF_HMAC_SHA2_512" : "HMAC_SHA2_512_256";
	case IKE_INTEG_NONE: break;
	}
	return "none";
}

/* The IKEv2 SA, as `swanctl --list-sas` would show it. */
static struct doc *ikev2_detail(const struct ikev2_sa_status *is, int64_t now, bool with_times)
{
	struct doc *o = doc_obj();
	doc_set_str(o, "State", ikev2_sa_state_name(is->state));
	if (is->state == IKEV2_SA_NONE)
		return o;
	char hex[17];
	doc_set_int(o, "Serial", is->serial);
	doc_set_str(o, "Role", is->initiator ? "initiator" : "responder");
	hex_encode(is->spi_i, sizeof(is->spi_i), hex);
	doc_set_str(o, "SpiI", hex);
	hex_encode(is->spi_r, sizeof(is->spi_r), hex);
	doc_set_str(o, "SpiR", hex);
	set_addr(o, "LocalAddress", &is->local);
	set_addr(o, "PeerAddress", &is->peer);
	doc_set_bool(o, "NatLocal", is->nat_local);
	doc_set_bool(o, "NatPeer", is->nat_peer);
	if (is->dh_group) {
		doc_set_str(o, "Encryption", v2_encr_name(is->encr));
		if (is->integ != IKE_INTEG_NONE)
			doc_set_str(o, "Integrity", v2_integ_name(is->integ, false));
		doc_set_str(o, "Prf", v2_integ_name(is->prf, true));
		doc_set_int(o, "DhGroup", is->dh_group);
		doc_set_str(o, "Auth", "psk");
	}
	doc_set_int(o, "LifetimeSeconds", is->lifetime_s);
	doc_set_int(o, "IkeSas", is->n_sas);
	doc_set_int(o, "MessageIdOut", is->msgid_out);
	doc_set_int(o, "MessageIdIn", is->msgid_in);
	if (with_times && (is->state == IKEV2_SA_ESTABLISHED || is->state == IKEV2_SA_REKEYING)) {
		doc_set_int(o, "EstablishedAt", now - is->established_s);
		doc_set_int(o, "RekeyAt", now + is->rekey_in_s);
		doc_set_int(o, "ExpiresAt", now + is->remaining_s);
	}
	return o;
}

static struct doc *child_detail(const struct vpn_child_status *c, int64_t now, bool with_times)
{
	struct doc *o = doc_obj();
	char spi[16];
	snprintf(spi, sizeof(spi), "0x%08X", c->spi_in);
	doc_set_str(o, "SpiIn", spi);
	snprintf(spi, sizeof(spi), "0x%08X", c->spi_out);
	doc_set_str(o, "SpiOut", spi);
	doc_set_str(o, "Transform", c->transform);
	set_ts(o, "LocalSelector", &c->ts_local);
	set_ts(o, "RemoteSelector", &c->ts_remote);
	doc_set_bool(o, "UdpEncap", c->udp_encap);
	doc_set_int(o, "EncapPort", c->encap_remote_port);
	doc_set_bool(o, "Lingering", c->lingering);
	doc_set_int(o, "ReplayWindow", c->replay_window);
	set_u64(o, "PacketsIn", c->pkts_in);
	set_u64(o, "BytesIn", c->bytes_in);
	set_u64(o, "PacketsOut", c->pkts_out);
	set_u64(o, "BytesOut", c->bytes_out);
	doc_set_int(o, "SeqIn", c->seq_in);
	doc_set_int(o, "SeqOut", c->seq_out);
	doc_set(o, "DropsIn", esp_drops(c->drops_in));
	doc_set(o, "DropsOut", esp_drops(c->drops_out));
	if (with_times) {
		doc_set_int(o, "InstalledAt", c->installed_unix);
		doc_set_int(o, "RekeyAt", now + c->soft_remaining_s);
		doc_set_int(o, "ExpiresAt", now + c->hard_remaining_s);
	}
	return o;
}

static struct doc *tunnel_detail(const struct vpn_tunnel_status *st, int64_t now, bool with_times)
{
	struct doc *o = doc_obj();
	doc_set_bool(o, "Running", st != NULL);
	if (!st)
		return o;
	set_ip(o, "OutsideIpAddress", st->local_ip);
	set_ip(o, "PeerIpAddress", st->remote_ip);
	doc_set_int(o, "PeerPort", st->remote_port);
	doc_set_str(o, "Status", st->up ? "UP" : "DOWN");
	doc_set_str(o, "StatusMessage", st->up ? ENGINE_STATUS_UP : st->cause);
	doc_set_int(o, "IkeVersion", st->ike_version);
	doc_set(o, "Isakmp", isakmp_detail(&st->isakmp, now, with_times));
	doc_set(o, "IkeSa", ikev2_detail(&st->ikev2, now, with_times));
	struct doc *ike = doc_set(o, "Ike", doc_obj());
	set_u64(ike, "PacketsIn", st->ike.rx_packets);
	set_u64(ike, "PacketsOut", st->ike.tx_packets);
	set_u64(ike, "Retransmits", st->ike.retransmits);
	set_u64(ike, "DpdSent", st->ike.dpd_sent);
	set_u64(ike, "DpdAnswered", st->ike.dpd_answered);
	set_u64(ike, "DpdTimeouts", st->ike.dpd_timeouts);
	set_u64(ike, "AuthFailures", st->ike.auth_failures);
	set_u64(ike, "ProposalMismatches", st->ike.proposal_mismatches);
	set_u64(ike, "Phase1Established", st->ike.p1_established);
	set_u64(ike, "Phase2Established", st->ike.p2_established);
	struct doc *sas = doc_set(o, "IpsecSas", doc_list());
	for (size_t i = 0; i < st->n_children && i < VPN_MAX_CHILDREN; i++)
		doc_push(sas, child_detail(&st->children[i], now, with_times));
	struct doc *drops = doc_set(o, "Drops", doc_obj());
	for (int d = 0; d < VPN_DROP_MAX; d++)
		if (st->drops[d])
			set_u64(drops, vpn_drop_name((enum vpn_drop)d), st->drops[d]);
	if (st->for_other_tunnel)
		set_u64(o, "PacketsForOtherTunnel", st->for_other_tunnel);
	return o;
}

struct doc *engine_vpn_detail(const struct vpn_tunnel_status *const st[ENGINE_VPN_TUNNELS],
			      int64_t now_unix, bool with_times)
{
	struct doc *o = doc_obj();
	if (with_times)
		doc_set_int(o, "UpdatedAt", now_unix);
	struct doc *list = doc_set(o, "Tunnels", doc_list());
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++)
		doc_push(list, tunnel_detail(st[i], now_unix, with_times));
	return o;
}
