/*
 * The connection data the renderers rely on: AWS's algorithm names and
 * their order, defaults, validation, and small address helpers.
 * Validation is here so that no template ever has to guard against a
 * malformed address or an unknown algorithm.
 */
#include "cgwconf/cgwconf_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "model/tunnel_options.h"

static const struct cgw_alg_info encryption_table[] = {
	{ "AES128",        "aes-128-cbc",    "aes-128-cbc",    false },
	{ "AES256",        "aes-256-cbc",    "aes-256-cbc",    false },
	{ "AES128-GCM-16", "aes-128-gcm-16", "aes-128-gcm-16", true },
	{ "AES256-GCM-16", "aes-256-gcm-16", "aes-256-gcm-16", true },
};

static const struct cgw_alg_info integrity_table[] = {
	{ "SHA1",     "sha1",     "hmac-sha1-96",      false },
	{ "SHA2-256", "sha2-256", "hmac-sha2-256-128", false },
	{ "SHA2-384", "sha2-384", "hmac-sha2-384-192", false },
	{ "SHA2-512", "sha2-512", "hmac-sha2-512-256", false },
};

/* Phase 2 allows every group, phase 1 all but TUNNEL_DH_PHASE2_ONLY. */
static const unsigned dh_groups_known[] = { TUNNEL_DH_GROUPS };

static const struct cgw_alg_info *alg_find(const struct cgw_alg_info *t, size_t n,
    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].ai_aws, name) == 0)
			return &t[i];
	return NULL;
}

const struct cgw_alg_info *cgw_encryption_info(const char *aws_name)
{
	return alg_find(encryption_table, ARRAY_LEN(encryption_table), aws_name);
}

const struct cgw_alg_info *cgw_integrity_info(const char *aws_name)
{
	return alg_find(integrity_table, ARRAY_LEN(integrity_table), aws_name);
}

bool cgw_dh_group_known(unsigned group)
{
	for (size_t i = 0; i < ARRAY_LEN(dh_groups_known); i++)
		if (dh_groups_known[i] == group)
			return true;
	return false;
}

/* Lowest = earliest in the table, whatever the order of the list. */
static const struct cgw_alg_info *alg_lowest(const struct cgw_alg_info *t, size_t n,
    const struct cgw_algs *a)
{
	for (size_t i = 0; i < n; i++)
		for (unsigned j = 0; j < a->ca_n && j < CGW_MAX_ALGS; j++)
			if (strcmp(t[i].ai_aws, a->ca_name[j]) == 0)
				return &t[i];
	return NULL;
}

const struct cgw_alg_info *cgw_lowest_encryption(const struct cgw_algs *a)
{
	return alg_lowest(encryption_table, ARRAY_LEN(encryption_table), a);
}

const struct cgw_alg_info *cgw_lowest_integrity(const struct cgw_algs *a)
{
	return alg_lowest(integrity_table, ARRAY_LEN(integrity_table), a);
}

unsigned cgw_lowest_dh(const struct cgw_dh_groups *g)
{
	unsigned low = 0;

	for (unsigned i = 0; i < g->cd_n && i < CGW_MAX_DH; i++)
		if (low == 0 || g->cd_group[i] < low)
			low = g->cd_group[i];
	return low;
}

bool cgw_parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	/* inet_pton takes exactly four decimal parts, no leading junk. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ip = ntohl(a.s_addr);
	return true;
}

bool cgw_parse_cidr(const char *s, uint32_t *net, unsigned *prefix)
{
	char ip[CGW_IP_LEN];
	const char *slash = strchr(s, '/');
	size_t iplen;
	unsigned p = 0;

	if (slash == NULL)
		return false;
	iplen = (size_t)(slash - s);
	if (iplen == 0 || iplen >= sizeof(ip))
		return false;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (!cgw_parse_ip(ip, net))
		return false;
	/* One or two digits, no sign, no leading zero, at most 32. */
	if (slash[1] < '0' || slash[1] > '9')
		return false;
	for (const char *d = slash + 1; *d != '\0'; d++) {
		if (*d < '0' || *d > '9' || d - slash > 2)
			return false;
		p = p * 10 + (unsigned)(*d - '0');
	}
	if ((slash[1] == '0' && slash[2] != '\0') || p > 32)
		return false;
	*prefix = p;
	return true;
}

void cgw_format_ip(uint32_t ip, char out[CGW_IP_LEN])
{
	snprintf(out, CGW_IP_LEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
	    (ip >> 8) & 0xff, ip & 0xff);
}

uint32_t cgw_prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

enum cgw_status cgw_fail(struct cgw_error *err, enum cgw_status st, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->ce_msg, sizeof(err->ce_msg), fmt, ap);
		va_end(ap);
	}
	return st;
}

static void algs_from_bits(enum tunnel_alg_kind kind, unsigned bits, struct cgw_algs *out)
{
	out->ca_n = 0;
	for (unsigned i = 0; i < TUNNEL_ALGS_PER_KIND && out->ca_n < CGW_MAX_ALGS; i++)
		if (bits & (1u << i))
			snprintf(out->ca_name[out->ca_n++], CGW_ALG_LEN, "%s", tunnel_alg_name(kind, i));
}

static void dh_from_bits(uint32_t bits, struct cgw_dh_groups *out)
{
	out->cd_n = 0;
	for (unsigned g = 0; g < 32 && out->cd_n < CGW_MAX_DH; g++)
		if (bits & (1u << g))
			out->cd_group[out->cd_n++] = g;
}

void cgwconf_tunnel_from_options(const struct tunnel_options *to, struct cgw_tunnel *ct)
{
	snprintf(ct->ct_inside_cidr, sizeof(ct->ct_inside_cidr), "%s", to->to_inside_cidr);
	snprintf(ct->ct_psk, sizeof(ct->ct_psk), "%s", to->to_psk);
	ct->ct_ike_versions = (to->to_ike_versions & TUNNEL_IKEV1 ? CGW_IKEV1 : 0) |
			      (to->to_ike_versions & TUNNEL_IKEV2 ? CGW_IKEV2 : 0);
	algs_from_bits(TUNNEL_ALG_ENCRYPTION, to->to_phase1_encryption, &ct->ct_phase1_encryption);
	algs_from_bits(TUNNEL_ALG_INTEGRITY, to->to_phase1_integrity, &ct->ct_phase1_integrity);
	algs_from_bits(TUNNEL_ALG_ENCRYPTION, to->to_phase2_encryption, &ct->ct_phase2_encryption);
	algs_from_bits(TUNNEL_ALG_INTEGRITY, to->to_phase2_integrity, &ct->ct_phase2_integrity);
	dh_from_bits(to->to_phase1_dh, &ct->ct_phase1_dh);
	dh_from_bits(to->to_phase2_dh, &ct->ct_phase2_dh);
	ct->ct_phase1_lifetime_s = to->to_phase1_lifetime_s;
	ct->ct_phase2_lifetime_s = to->to_phase2_lifetime_s;
	ct->ct_rekey_margin_s = to->to_rekey_margin_s;
	ct->ct_rekey_fuzz_pct = to->to_rekey_fuzz_pct;
	ct->ct_replay_window = to->to_replay_window;
	ct->ct_dpd_timeout_s = to->to_dpd_timeout_s;
	snprintf(ct->ct_dpd_action, sizeof(ct->ct_dpd_action), "%s", tunnel_dpd_action_name(to->to_dpd_action));
	snprintf(ct->ct_startup_action, sizeof(ct->ct_startup_action), "%s",
		 tunnel_startup_action_name(to->to_startup_action));
}

void cgwconf_connection_defaults(struct cgw_vpn_connection *conn)
{
	memset(conn, 0, sizeof(*conn));
	snprintf(conn->cv_type, sizeof(conn->cv_type), "ipsec.1");
	conn->cv_cgw_asn = 65000;
	conn->cv_amazon_side_asn = 64512;
	snprintf(conn->cv_local_ipv4_network_cidr, CGW_CIDR_LEN, "0.0.0.0/0");
	snprintf(conn->cv_remote_ipv4_network_cidr, CGW_CIDR_LEN, "0.0.0.0/0");
	conn->cv_tcp_mss = TUNNEL_TCP_MSS_DEFAULT;
	/* the API's defaults (model/tunnel_options), not a copy of them */
	struct tunnel_options to;
	tunnel_options_defaults(&to);
	for (unsigned t = 0; t < CGW_TUNNELS; t++)
		cgwconf_tunnel_from_options(&to, &conn->cv_tunnel[t]);
	tunnel_options_wipe(&to);
}

/* A fixed-size field must hold a terminated, non-empty string. */
static bool field_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL && s[0] != '\0';
}

/* Ids are shown in configurations unquoted: letters, digits and '-'. */
static bool id_ok(const char *s, size_t size)
{
	if (!field_ok(s, size))
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static bool cidr_field_ok(const char *s)
{
	uint32_t net;
	unsigned prefix;

	return field_ok(s, CGW_CIDR_LEN) && cgw_parse_cidr(s, &net, &prefix);
}

static bool ip_field_ok(const char *s)
{
	uint32_t ip;

	return field_ok(s, CGW_IP_LEN) && cgw_parse_ip(s, &ip);
}

/* AWS: 8-64 of [A-Za-z0-9._], not starting with 0. */
static bool psk_ok(const char *s)
{
	size_t n;

	if (!field_ok(s, CGW_PSK_LEN))
		return false;
	n = strlen(s);
	if (n < 8 || n > 64 || s[0] == '0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_'))
			return false;
	return true;
}

static enum cgw_status algs_check(const struct cgw_algs *a, bool encryption,
    unsigned t, const char *what, struct cgw_error *err)
{
	if (a->ca_n == 0 || a->ca_n > CGW_MAX_ALGS)
		return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: %s: %u algorithms (1 to %d)",
		    t + 1, what, a->ca_n, CGW_MAX_ALGS);
	for (unsigned i = 0; i < a->ca_n; i++) {
		const char *name = a->ca_name[i];

		if (memchr(name, '\0', CGW_ALG_LEN) == NULL ||
		    (encryption ? cgw_encryption_info(name) : cgw_integrity_info(name)) == NULL)
			return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: %s: unknown algorithm '%.*s'",
			    t + 1, what, CGW_ALG_LEN - 1, name);
	}
	return CGW_OK;
}

static enum cgw_status dh_check(const struct cgw_dh_groups *g, unsigned t,
    const char *what, struct cgw_error *err)
{
	if (g->cd_n == 0 || g->cd_n > CGW_MAX_DH)
		return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: %s: %u groups (1 to %d)",
		    t + 1, what, g->cd_n, CGW_MAX_DH);
	for (unsigned i = 0; i < g->cd_n; i++)
		if (!cgw_dh_group_known(g->cd_group[i]))
			return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: %s: unknown group %u",
			    t + 1, what, g->cd_group[i]);
	return CGW_OK;
}

static enum cgw_status tunnel_check(const struct cgw_tunnel *tun, unsigned t,
    struct cgw_error *err)
{
	uint32_t net;
	unsigned prefix;
	enum cgw_status st;

	if (!ip_field_ok(tun->ct_vgw_outside_ip))
		return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: bad VPN gateway outside address", t + 1);
	if (!field_ok(tun->ct_inside_cidr, CGW_CIDR_LEN) ||
	    !cgw_parse_cidr(tun->ct_inside_cidr, &net, &prefix) || prefix != 30 ||
	    (net & 3) != 0 || (net >> 16) != ((169u << 8) | 254u))
		return cgw_fail(err, CGW_ERR_INVALID,
		    "tunnel %u: inside CIDR '%.*s' is not a /30 network in 169.254.0.0/16",
		    t + 1, CGW_CIDR_LEN - 1, tun->ct_inside_cidr);
	if (!psk_ok(tun->ct_psk))
		return cgw_fail(err, CGW_ERR_INVALID,
		    "tunnel %u: pre-shared key is not 8-64 of [A-Za-z0-9._] (not starting with 0)", t + 1);
	if (tun->ct_ike_versions == 0 || (tun->ct_ike_versions & ~(CGW_IKEV1 | CGW_IKEV2)) != 0)
		return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: no IKE version", t + 1);
	if ((st = algs_check(&tun->ct_phase1_encryption, true, t, "phase 1 encryption", err)) ||
	    (st = algs_check(&tun->ct_phase1_integrity, false, t, "phase 1 integrity", err)) ||
	    (st = algs_check(&tun->ct_phase2_encryption, true, t, "phase 2 encryption", err)) ||
	    (st = algs_check(&tun->ct_phase2_integrity, false, t, "phase 2 integrity", err)) ||
	    (st = dh_check(&tun->ct_phase1_dh, t, "phase 1 DH groups", err)) ||
	    (st = dh_check(&tun->ct_phase2_dh, t, "phase 2 DH groups", err)))
		return st;
	if (tun->ct_phase1_lifetime_s == 0 || tun->ct_phase2_lifetime_s == 0)
		return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: zero lifetime", t + 1);
	if (tun->ct_dpd_timeout_s == 0)
		return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: zero DPD timeout", t + 1);
	if (memchr(tun->ct_dpd_action, '\0', CGW_ACTION_LEN) == NULL ||
	    (strcmp(tun->ct_dpd_action, "clear") != 0 && strcmp(tun->ct_dpd_action, "none") != 0 &&
	     strcmp(tun->ct_dpd_action, "restart") != 0))
		return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: DPD action is not clear, none or restart", t + 1);
	if (memchr(tun->ct_startup_action, '\0', CGW_ACTION_LEN) == NULL ||
	    (strcmp(tun->ct_startup_action, "add") != 0 && strcmp(tun->ct_startup_action, "start") != 0))
		return cgw_fail(err, CGW_ERR_INVALID, "tunnel %u: startup action is not add or start", t + 1);
	return CGW_OK;
}

enum cgw_status cgwconf_validate(const struct cgw_vpn_connection *conn, struct cgw_error *err)
{
	enum cgw_status st;

	if (!id_ok(conn->cv_vpn_connection_id, CGW_ID_LEN))
		return cgw_fail(err, CGW_ERR_INVALID, "bad VPN connection id");
	if (!id_ok(conn->cv_customer_gateway_id, CGW_ID_LEN))
		return cgw_fail(err, CGW_ERR_INVALID, "bad customer gateway id");
	if (!id_ok(conn->cv_vpn_gateway_id, CGW_ID_LEN))
		return cgw_fail(err, CGW_ERR_INVALID, "bad VPN gateway id");
	if (memchr(conn->cv_type, '\0', CGW_TYPE_LEN) == NULL || strcmp(conn->cv_type, "ipsec.1") != 0)
		return cgw_fail(err, CGW_ERR_INVALID, "connection type is not ipsec.1");
	if (!ip_field_ok(conn->cv_cgw_outside_ip))
		return cgw_fail(err, CGW_ERR_INVALID, "bad customer gateway outside address");
	if (!cidr_field_ok(conn->cv_local_ipv4_network_cidr))
		return cgw_fail(err, CGW_ERR_INVALID, "bad local IPv4 network CIDR");
	if (!cidr_field_ok(conn->cv_remote_ipv4_network_cidr))
		return cgw_fail(err, CGW_ERR_INVALID, "bad remote IPv4 network CIDR");
	if (conn->cv_n_vpc_cidrs > CGW_MAX_VPC_CIDRS)
		return cgw_fail(err, CGW_ERR_INVALID, "%u VPC CIDR blocks (at most %d)",
		    conn->cv_n_vpc_cidrs, CGW_MAX_VPC_CIDRS);
	for (unsigned i = 0; i < conn->cv_n_vpc_cidrs; i++)
		if (!cidr_field_ok(conn->cv_vpc_cidrs[i]))
			return cgw_fail(err, CGW_ERR_INVALID, "VPC CIDR block %u is not a CIDR", i + 1);
	if (!conn->cv_static_routes_only && (conn->cv_cgw_asn == 0 || conn->cv_amazon_side_asn == 0))
		return cgw_fail(err, CGW_ERR_INVALID, "BGP connection without both ASNs");
	if (conn->cv_tcp_mss == 0 || conn->cv_tcp_mss > 65535)
		return cgw_fail(err, CGW_ERR_INVALID, "bad TCP MSS %u", conn->cv_tcp_mss);
	if (conn->cv_n_static_routes > CGW_MAX_STATIC_ROUTES)
		return cgw_fail(err, CGW_ERR_INVALID, "%u static routes (at most %d)",
		    conn->cv_n_static_routes, CGW_MAX_STATIC_ROUTES);
	for (unsigned i = 0; i < conn->cv_n_static_routes; i++)
		if (!cidr_field_ok(conn->cv_static_routes[i]))
			return cgw_fail(err, CGW_ERR_INVALID, "static route %u is not a CIDR", i + 1);
	for (unsigned t = 0; t < CGW_TUNNELS; t++)
		if ((st = tunnel_check(&conn->cv_tunnel[t], t, err)) != CGW_OK)
			return st;
	return CGW_OK;
}

enum cgw_status cgw_choose_ike_version(const struct cgw_vpn_connection *conn,
    const char *ike_version, unsigned allowed, unsigned *chosen, struct cgw_error *err)
{
	unsigned offered = allowed;

	for (unsigned t = 0; t < CGW_TUNNELS; t++)
		offered &= conn->cv_tunnel[t].ct_ike_versions;
	if (ike_version == NULL || ike_version[0] == '\0') {
		if (offered & CGW_IKEV1)
			*chosen = CGW_IKEV1;
		else if (offered & CGW_IKEV2)
			*chosen = CGW_IKEV2;
		else
			return cgw_fail(err, CGW_ERR_IKE_VERSION,
			    "no IKE version is allowed by both tunnels and the device");
		return CGW_OK;
	}
	if (strcmp(ike_version, "ikev1") == 0)
		*chosen = CGW_IKEV1;
	else if (strcmp(ike_version, "ikev2") == 0)
		*chosen = CGW_IKEV2;
	else
		return cgw_fail(err, CGW_ERR_IKE_VERSION, "IKE version is not ikev1 or ikev2");
	if ((allowed & *chosen) == 0)
		return cgw_fail(err, CGW_ERR_IKE_VERSION, "the device type has no %s configuration",
		    ike_version);
	if ((offered & *chosen) == 0)
		return cgw_fail(err, CGW_ERR_IKE_VERSION, "the tunnel options do not allow %s",
		    ike_version);
	return CGW_OK;
}
