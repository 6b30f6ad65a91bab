/*
 * engine_vpn.c — a VPN connection doc into tunnel specs, a tunnel status
 * into VgwTelemetry (engine_vpn.h). Pure: no I/O, no clock, no logging
 * (the doc holds the pre-shared keys; callers log what plan says).
 */
#include "engine/engine_vpn.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"
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
static const uint16_t dh_known[] = { 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
_Static_assert(ARRAY_LEN(dh_known) <= IKE_MAX_ALGS, "every DH group fits a list");

static size_t dh_list(uint32_t bits, bool phase1, uint16_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_LEN(dh_known); i++)
		if ((bits & (1u << dh_known[i])) && !(phase1 && dh_known[i] == 5))
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
	s->remote_ip = peer;
	if (!parse_ip(doc_get_str(tun, "OutsideIpAddress"), &s->local_ip)) {
		snprintf(err, err_len, "tunnel %d has no outside address", index + 1);
		return;
	}
	if (tunnel_options_from_doc(tun, &to, &terr) < 0) {
		snprintf(err, err_len, "unusable tunnel options: %.80s", terr.te_msg);
		goto out;
	}
	if (!(to.to_ike_versions & TUNNEL_IKEV1)) {
		snprintf(err, err_len, "vpcd speaks IKEv1 only: add ikev1 to the tunnel's IkeVersions");
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
	c->p1_encr_n = c->p1_integ_n = c->p2_encr_n = c->p2_integ_n = 0;
	for (unsigned b = 0; b < TUNNEL_ALGS_PER_KIND; b++) {
		bool gcm = encr_of_bit[b] == IKE_ENCR_AES128_GCM16 || encr_of_bit[b] == IKE_ENCR_AES256_GCM16;
		if ((to.to_phase1_encryption & (1u << b)) && !gcm)	/* IKEv1: no AEAD in phase 1 */
			c->p1_encr[c->p1_encr_n++] = encr_of_bit[b];
		if (to.to_phase2_encryption & (1u << b))
			c->p2_encr[c->p2_encr_n++] = encr_of_bit[b];
		if (to.to_phase1_integrity & (1u << b))
			c->p1_integ[c->p1_integ_n++] = integ_of_bit[b];
		if (to.to_phase2_integrity & (1u << b))
			c->p2_integ[c->p2_integ_n++] = integ_of_bit[b];
	}
	c->p1_dh_n = dh_list(to.to_phase1_dh, true, c->p1_dh);
	c->p2_dh_n = dh_list(to.to_phase2_dh, false, c->p2_dh);
	if (!c->p1_encr_n) {
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

bool engine_vpn_telemetry_apply(struct doc *vpn, int index, bool up, const char *cause,
				int64_t since_unix, bool routes_only)
{
	struct doc *tel = nth(doc_get(vpn, "VgwTelemetry"), index);
	const struct doc *tun = nth(doc_get(doc_get(vpn, "Options"), "TunnelOptions"), index);
	const char *tel_ip = doc_get_str(tel, "OutsideIpAddress");
	const char *tun_ip = doc_get_str(tun, "OutsideIpAddress");
	/* VgwTelemetry[i] belongs to TunnelOptions[i]: same outside address */
	if (!tel || !tun_ip || (tel_ip && strcmp(tel_ip, tun_ip) != 0))
		return false;
	const char *old_status = doc_get_str(tel, "Status");
	if (routes_only)
		up = old_status && strcmp(old_status, "UP") == 0;
	bool changed = false;
	if (!routes_only) {
		const char *status = up ? "UP" : "DOWN";
		const char *msg = up ? ENGINE_STATUS_UP : cause && *cause ? cause : ENGINE_STATUS_DOWN;
		if (!old_status || strcmp(old_status, status) != 0) {
			char when[32];
			time_iso8601(since_unix, when, sizeof(when));
			doc_set_str(tel, "Status", status);
			doc_set_str(tel, "LastStatusChange", when);
			changed = true;
		}
		const char *old_msg = doc_get_str(tel, "StatusMessage");
		if (!old_msg || strcmp(old_msg, msg) != 0) {
			doc_set_str(tel, "StatusMessage", msg);
			changed = true;
		}
	}
	int64_t count = up ? available_routes(vpn) : 0;
	if (doc_get_int(tel, "AcceptedRouteCount", -1) != count) {
		doc_set_int(tel, "AcceptedRouteCount", count);
		changed = true;
	}
	return changed;
}

struct doc *engine_vpn_trim(const struct doc *vpn)
{
	static const char *const keep[] = {
		"VpnConnectionId", "State", "Options", "Routes", "_CustomerGatewayIpAddress",
		"_ConfigVersion",
	};
	struct doc *d = doc_obj();
	for (size_t i = 0; i < ARRAY_LEN(keep); i++) {
		const struct doc *m = doc_get(vpn, keep[i]);
		if (m)
			doc_set(d, keep[i], doc_clone(m));
	}
	return d;
}

void engine_vpn_doc_free(struct doc *d)
{
	doc_foreach(t, doc_get(doc_get(d, "Options"), "TunnelOptions")) {
		struct doc *k = doc_get(t, "PreSharedKey");
		if (k && k->d_type == DOC_STR && k->d_str)
			secret_wipe(k->d_str, strlen(k->d_str));
	}
	doc_free(d);
}
