/*
 * The variables a template sees, derived from a validated connection.
 * Everything a device needs is computed here once, in AWS's terms (AWS
 * algorithm names, DH group numbers, seconds); templates map those names
 * to their device's syntax with their own {{#map}} tables.  The names are
 * documented in templates/README.md: keep the two in step.
 */
#include "cgwconf/cgwconf_int.h"
#include "cgwconf/tmpl.h"
#include "model/tunnel_limits.h"

#include <string.h>

#define VARS_DPD_INTERVAL_S	10
#define VARS_BGP_KEEPALIVE_S	10
#define VARS_BGP_HOLD_TIME_S	30

static void add_u(struct arena *ar, struct tv *obj, const char *key, unsigned long v)
{
	tv_add_str(ar, obj, key, arena_printf(ar, "%lu", v));
}

/* The list in AWS's order (lowest first), whatever the caller's order. */
static void add_alg_list(struct arena *ar, struct tv *obj, const char *key,
    const struct cgw_algs *a, const struct cgw_alg_info *(*info)(const char *))
{
	static const char *const order[] = { TUNNEL_ENCRYPTION_NAMES, TUNNEL_INTEGRITY_NAMES };
	struct tv *list = tv_add_list(ar, obj, key);

	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
		for (unsigned i = 0; i < a->ca_n; i++)
			if (strcmp(a->ca_name[i], order[o]) == 0 && info(order[o]) != NULL) {
				tv_add_str(ar, list, NULL, order[o]);
				break;
			}
}

static void add_dh_list(struct arena *ar, struct tv *obj, const char *key,
    const struct cgw_dh_groups *g)
{
	struct tv *list = tv_add_list(ar, obj, key);

	for (unsigned group = 1; group <= 32; group++)
		for (unsigned i = 0; i < g->cd_n; i++)
			if (g->cd_group[i] == group) {
				add_u(ar, list, NULL, group);
				break;
			}
}

/* One phase: "ike" or "ipsec". */
static void add_phase(struct arena *ar, struct tv *tun, const char *key,
    const struct cgw_algs *enc, const struct cgw_algs *integ,
    const struct cgw_dh_groups *dh, uint32_t lifetime, uint32_t rekey_window)
{
	struct tv *ph = tv_add_obj(ar, tun, key);
	const struct cgw_alg_info *e = cgw_lowest_encryption(enc);

	tv_add_str(ar, ph, "encryption", e->ai_aws);
	tv_add_bool(ar, ph, "aead", e->ai_aead);
	tv_add_str(ar, ph, "integrity", cgw_lowest_integrity(integ)->ai_aws);
	add_u(ar, ph, "dh", cgw_lowest_dh(dh));
	add_u(ar, ph, "lifetime", lifetime);
	add_u(ar, ph, "lifetime_min", (lifetime + 59) / 60);
	add_u(ar, ph, "rekey_time", lifetime > rekey_window ? lifetime - rekey_window : lifetime / 2);
	add_alg_list(ar, ph, "encryptions", enc, cgw_encryption_info);
	add_alg_list(ar, ph, "integrities", integ, cgw_integrity_info);
	add_dh_list(ar, ph, "dh_groups", dh);
}

static void add_gateway(struct arena *ar, struct tv *tun, const char *key,
    const char *outside_ip, uint32_t inside_ip)
{
	struct tv *gw = tv_add_obj(ar, tun, key);
	char ip[CGW_IP_LEN];

	cgw_format_ip(inside_ip, ip);
	tv_add_str(ar, gw, "outside_ip", outside_ip);
	tv_add_str(ar, gw, "inside_ip", ip);
	tv_add_str(ar, gw, "inside_cidr", arena_printf(ar, "%s/30", ip));
}

static struct tv *add_tunnel(struct arena *ar, struct tv *list,
    const struct cgw_vpn_connection *conn, unsigned index)
{
	const struct cgw_tunnel *t = &conn->cv_tunnel[index];
	struct tv *tun = tv_add_obj(ar, list, NULL);
	uint32_t net;
	unsigned prefix;
	/* AWS rekeys margin + up to fuzz% of margin before expiry. */
	uint32_t window = t->ct_rekey_margin_s + t->ct_rekey_margin_s * t->ct_rekey_fuzz_pct / 100;

	cgw_parse_cidr(t->ct_inside_cidr, &net, &prefix);	/* validated */
	add_u(ar, tun, "number", index + 1);
	add_u(ar, tun, "index", index);
	tv_add_str(ar, tun, "psk", t->ct_psk);
	tv_add_str(ar, tun, "inside_cidr", t->ct_inside_cidr);
	tv_add_str(ar, tun, "inside_netmask", "255.255.255.252");
	tv_add_str(ar, tun, "inside_prefix", "30");
	add_gateway(ar, tun, "cgw", conn->cv_cgw_outside_ip, net + 2);
	add_gateway(ar, tun, "vgw", t->ct_vgw_outside_ip, net + 1);
	add_phase(ar, tun, "ike", &t->ct_phase1_encryption, &t->ct_phase1_integrity,
	    &t->ct_phase1_dh, t->ct_phase1_lifetime_s, window);
	add_phase(ar, tun, "ipsec", &t->ct_phase2_encryption, &t->ct_phase2_integrity,
	    &t->ct_phase2_dh, t->ct_phase2_lifetime_s, window);
	add_u(ar, tun, "rekey_margin", t->ct_rekey_margin_s);
	add_u(ar, tun, "rekey_fuzz", t->ct_rekey_fuzz_pct);
	add_u(ar, tun, "rekey_window", window);
	add_u(ar, tun, "replay_window", t->ct_replay_window);
	add_u(ar, tun, "dpd_interval", VARS_DPD_INTERVAL_S);
	add_u(ar, tun, "dpd_timeout", t->ct_dpd_timeout_s);
	add_u(ar, tun, "dpd_retries", (t->ct_dpd_timeout_s + VARS_DPD_INTERVAL_S - 1) / VARS_DPD_INTERVAL_S);
	tv_add_str(ar, tun, "dpd_action", t->ct_dpd_action);
	tv_add_str(ar, tun, "startup_action", t->ct_startup_action);
	tv_add_bool(ar, tun, "allows_ikev1", (t->ct_ike_versions & CGW_IKEV1) != 0);
	tv_add_bool(ar, tun, "allows_ikev2", (t->ct_ike_versions & CGW_IKEV2) != 0);
	return tun;
}

struct tv *cgw_vars_build(struct arena *ar, const struct cgw_vpn_connection *conn,
    unsigned ike_version)
{
	struct tv *root = tv_new_obj(ar);
	struct tv *gw, *list;
	bool v2 = ike_version == CGW_IKEV2;

	tv_add_str(ar, root, "vpn_connection_id", conn->cv_vpn_connection_id);
	tv_add_str(ar, root, "customer_gateway_id", conn->cv_customer_gateway_id);
	tv_add_str(ar, root, "vpn_gateway_id", conn->cv_vpn_gateway_id);
	tv_add_str(ar, root, "vpn_connection_type", conn->cv_type);
	tv_add_bool(ar, root, "static", conn->cv_static_routes_only);
	tv_add_bool(ar, root, "bgp", !conn->cv_static_routes_only);
	tv_add_str(ar, root, "routing", conn->cv_static_routes_only ? "static" : "bgp");
	tv_add_str(ar, root, "ike_version", v2 ? "ikev2" : "ikev1");
	tv_add_str(ar, root, "ike_version_number", v2 ? "2" : "1");
	tv_add_bool(ar, root, "ikev1", !v2);
	tv_add_bool(ar, root, "ikev2", v2);
	gw = tv_add_obj(ar, root, "cgw");
	tv_add_str(ar, gw, "outside_ip", conn->cv_cgw_outside_ip);
	add_u(ar, gw, "asn", conn->cv_cgw_asn);
	gw = tv_add_obj(ar, root, "vgw");
	add_u(ar, gw, "asn", conn->cv_amazon_side_asn);
	add_u(ar, root, "bgp_keepalive", VARS_BGP_KEEPALIVE_S);
	add_u(ar, root, "bgp_hold_time", VARS_BGP_HOLD_TIME_S);
	tv_add_str(ar, root, "local_cidr", conn->cv_local_ipv4_network_cidr);
	tv_add_str(ar, root, "remote_cidr", conn->cv_remote_ipv4_network_cidr);
	tv_add_str(ar, root, "vpc_cidr", conn->cv_n_vpc_cidrs > 0 ?
	    conn->cv_vpc_cidrs[0] : conn->cv_remote_ipv4_network_cidr);
	list = tv_add_list(ar, root, "vpc_cidrs");
	for (unsigned i = 0; i < conn->cv_n_vpc_cidrs; i++)
		tv_add_str(ar, list, NULL, conn->cv_vpc_cidrs[i]);
	if (conn->cv_n_vpc_cidrs == 0)
		tv_add_str(ar, list, NULL, conn->cv_remote_ipv4_network_cidr);
	/* The AWS side's selectors, one CHILD SA each (IKEv1 negotiates one
	 * pair per CHILD SA): RemoteIpv4NetworkCidr, or for 0.0.0.0/0 (AWS's
	 * default) every block of the VPC, which the gateway routes. */
	list = tv_add_list(ar, root, "aws_side_cidrs");
	if (conn->cv_n_vpc_cidrs == 0 || strcmp(conn->cv_remote_ipv4_network_cidr, "0.0.0.0/0") != 0)
		tv_add_str(ar, list, NULL, conn->cv_remote_ipv4_network_cidr);
	else
		for (unsigned i = 0; i < conn->cv_n_vpc_cidrs; i++)
			tv_add_str(ar, list, NULL, conn->cv_vpc_cidrs[i]);
	add_u(ar, root, "tcp_mss", conn->cv_tcp_mss);
	list = tv_add_list(ar, root, "static_routes");
	for (unsigned i = 0; i < conn->cv_n_static_routes; i++)
		tv_add_str(ar, list, NULL, conn->cv_static_routes[i]);
	list = tv_add_list(ar, root, "tunnels");
	for (unsigned t = 0; t < CGW_TUNNELS; t++) {
		struct tv *tun = add_tunnel(ar, list, conn, t);

		tv_add_alias(ar, root, t == 0 ? "tunnel1" : "tunnel2", tun);
	}
	return root;
}
