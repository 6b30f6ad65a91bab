/*
 * bgp_conf — writes BIRD 2's configuration for vpcd's dynamic VPN
 * connections (bgp.h). Everything that reaches the text is checked first
 * (ids are [a-z0-9-] only, addresses and ASNs are numbers), so nothing a
 * client chose can add a statement to bird.conf. Writes nothing on error.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "bgp/bgp.h"

#define INSIDE_BASE	0xa9fe0000u	/* 169.254.0.0/16: every inside CIDR */
#define INSIDE_MASK	0xffff0000u
/* Any router id will do (BIRD needs one even with no interface up): the
 * lowest gateway inside address when there is one, else this. */
#define ROUTER_ID_NONE	0xa9fe0001u

static void ip_str(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* "vpn-0a1b" / "vgw-0a1b": lower-case letters, digits and dashes, starting
 * with a letter, so that the BIRD symbol made from it (dashes as '_') is a
 * valid one and says nothing but the id. */
static bool id_valid(const char *id)
{
	size_t len = strnlen(id, BGP_ID_MAX);

	if (len == 0 || len >= BGP_ID_MAX || id[0] < 'a' || id[0] > 'z')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* The id as a BIRD symbol: dashes become '_'. size >= BGP_ID_MAX. */
static void id_symbol(const char *id, char *sym)
{
	size_t i;

	for (i = 0; id[i]; i++)
		sym[i] = id[i] == '-' ? '_' : id[i];
	sym[i] = '\0';
}

int bgp_protocol_name(const char *vpn_id, unsigned tunnel, char *name, size_t size)
{
	char sym[BGP_ID_MAX];

	if (!id_valid(vpn_id) || tunnel >= BGP_TUNNELS)
		return -1;
	id_symbol(vpn_id, sym);
	int w = snprintf(name, size, "%s_t%u", sym, tunnel + 1);
	return w < 0 || (size_t)w >= size ? -1 : 0;
}

int bgp_table_name(const char *vgw_id, char *name, size_t size)
{
	char sym[BGP_ID_MAX];
	if (!id_valid(vgw_id))
		return -1;
	id_symbol(vgw_id, sym);
	int w = snprintf(name, size, "%s", sym);
	return w < 0 || (size_t)w >= size ? -1 : 0;
}

int bgp_protocol_parse_name(const char *name, char vpn_id[BGP_ID_MAX], unsigned *tunnel)
{
	size_t len = strnlen(name, BGP_NAME_MAX);
	char id[BGP_ID_MAX], check[BGP_NAME_MAX];

	/* "<sym>_t1": at least one character of id and the 3 of "_tN" */
	if (len < 4 || len >= BGP_NAME_MAX || len - 3 >= BGP_ID_MAX ||
	    name[len - 3] != '_' || name[len - 2] != 't' ||
	    (name[len - 1] != '1' && name[len - 1] != '2'))
		return -1;
	for (size_t i = 0; i < len - 3; i++)
		id[i] = name[i] == '_' ? '-' : name[i];
	id[len - 3] = '\0';
	unsigned t = (unsigned)(name[len - 1] - '1');
	/* only names bgp_protocol_name makes (an id never holds '_') */
	if (bgp_protocol_name(id, t, check, sizeof(check)) < 0 || strcmp(check, name) != 0)
		return -1;
	memcpy(vpn_id, id, len - 2);
	*tunnel = t;
	return 0;
}

static bool prefix_valid(const struct bgp_prefix *p)
{
	if (p->bp_len > 32)
		return false;
	uint32_t mask = p->bp_len ? 0xffffffffu << (32 - p->bp_len) : 0;
	return (p->bp_addr & ~mask) == 0;
}

static bool prefixes_equal(const struct bgp_prefix *a, size_t na, const struct bgp_prefix *b,
			   size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].bp_addr != b[i].bp_addr || a[i].bp_len != b[i].bp_len)
			return false;
	return true;
}

/* Every check of bgp_conf_write, before anything is written. */
static int desc_check(const struct bgp_conf_desc *d, char *err, size_t errlen)
{
	if (d->bc_nconns && !d->bc_conns) {
		err_set(err, errlen, "no connections given");
		return -1;
	}
	if (d->bc_log_path && (d->bc_log_path[0] != '/' || strpbrk(d->bc_log_path, "\"\\\n"))) {
		err_set(err, errlen, "log path must be absolute, without quotes, backslashes or newlines");
		return -1;
	}
	for (size_t i = 0; i < d->bc_nconns; i++) {
		const struct bgp_conn_desc *c = &d->bc_conns[i];

		if (!id_valid(c->cd_vpn_id)) {
			err_set(err, errlen, "connection %zu: bad VPN connection id", i);
			return -1;
		}
		if (!id_valid(c->cd_vgw_id)) {
			err_set(err, errlen, "%s: bad VPN gateway id", c->cd_vpn_id);
			return -1;
		}
		if (c->cd_vgw_asn == 0 || c->cd_cgw_asn == 0) {
			err_set(err, errlen, "%s: ASN 0 (gateway %u, customer %u)", c->cd_vpn_id,
				c->cd_vgw_asn, c->cd_cgw_asn);
			return -1;
		}
		if (c->cd_vgw_asn == c->cd_cgw_asn) {
			err_set(err, errlen, "%s: customer gateway ASN %u is the VPN gateway's: "
				"only external BGP is offered", c->cd_vpn_id, c->cd_cgw_asn);
			return -1;
		}
		if (c->cd_nexport && !c->cd_export) {
			err_set(err, errlen, "%s: no export prefixes given", c->cd_vpn_id);
			return -1;
		}
		for (size_t p = 0; p < c->cd_nexport; p++) {
			if (!prefix_valid(&c->cd_export[p]) || c->cd_export[p].bp_len == 0) {
				err_set(err, errlen, "%s: export prefix %zu is not a CIDR block",
					c->cd_vpn_id, p);
				return -1;
			}
		}
		for (unsigned t = 0; t < BGP_TUNNELS; t++) {
			uint32_t net = c->cd_inside_net[t];
			char a[16];

			ip_str(net, a);
			if ((net & INSIDE_MASK) != INSIDE_BASE || (net & 3) != 0) {
				err_set(err, errlen, "%s: tunnel %u inside CIDR %s/30 is not a /30 of "
					"169.254.0.0/16", c->cd_vpn_id, t + 1, a);
				return -1;
			}
			for (size_t j = 0; j <= i; j++) {
				for (unsigned u = 0; u < BGP_TUNNELS; u++) {
					if ((j == i && u >= t) || d->bc_conns[j].cd_inside_net[u] != net)
						continue;
					err_set(err, errlen, "%s: tunnel %u inside CIDR %s/30 is also "
						"%s's tunnel %u", c->cd_vpn_id, t + 1, a,
						d->bc_conns[j].cd_vpn_id, u + 1);
					return -1;
				}
			}
		}
		for (size_t j = 0; j < i; j++) {
			const struct bgp_conn_desc *o = &d->bc_conns[j];

			if (strcmp(o->cd_vpn_id, c->cd_vpn_id) == 0) {
				err_set(err, errlen, "%s: listed twice", c->cd_vpn_id);
				return -1;
			}
			if (strcmp(o->cd_vgw_id, c->cd_vgw_id) != 0)
				continue;
			if (o->cd_vgw_asn != c->cd_vgw_asn ||
			    !prefixes_equal(o->cd_export, o->cd_nexport, c->cd_export, c->cd_nexport)) {
				err_set(err, errlen, "%s and %s: same gateway %s, different ASN or "
					"VPC CIDR blocks", o->cd_vpn_id, c->cd_vpn_id, c->cd_vgw_id);
				return -1;
			}
		}
	}
	return 0;
}

/* The first connection of each gateway writes the gateway's table and the
 * static protocol holding its VPC CIDR blocks. */
static bool gateway_first(const struct bgp_conf_desc *d, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(d->bc_conns[j].cd_vgw_id, d->bc_conns[i].cd_vgw_id) == 0)
			return false;
	return true;
}

static void write_gateway(struct strbuf *out, const struct bgp_conn_desc *c)
{
	char vgw[BGP_ID_MAX], a[16];

	id_symbol(c->cd_vgw_id, vgw);
	sb_printf(out, "\n# %s (AS %u): its table, and the VPC CIDR blocks it advertises\n",
		  c->cd_vgw_id, c->cd_vgw_asn);
	sb_printf(out, "ipv4 table %s;\n", vgw);
	sb_printf(out, "protocol static vpc_%s {\n\tipv4 { table %s; };\n", vgw, vgw);
	for (size_t p = 0; p < c->cd_nexport; p++) {
		ip_str(c->cd_export[p].bp_addr, a);
		sb_printf(out, "\troute %s/%u unreachable;\n", a, c->cd_export[p].bp_len);
	}
	sb_puts(out, "}\n");
}

static void write_session(struct strbuf *out, const struct bgp_conn_desc *c, unsigned t)
{
	char vgw[BGP_ID_MAX], name[BGP_NAME_MAX], local[16], peer[16];

	id_symbol(c->cd_vgw_id, vgw);
	bgp_protocol_name(c->cd_vpn_id, t, name, sizeof(name));	/* checked: id_valid */
	ip_str(c->cd_inside_net[t] + 1, local);
	ip_str(c->cd_inside_net[t] + 2, peer);
	sb_printf(out, "\nprotocol bgp %s {\n", name);
	sb_printf(out, "\tdescription \"%s tunnel %u\";\n", c->cd_vpn_id, t + 1);
	sb_printf(out, "\tlocal %s as %u;\n", local, c->cd_vgw_asn);
	sb_printf(out, "\tneighbor %s as %u;\n", peer, c->cd_cgw_asn);
	sb_printf(out, "\tkeepalive time %u;\n\thold time %u;\n", BGP_KEEPALIVE_S, BGP_HOLD_S);
	/* back within seconds of the tunnel, as AWS's gateway; bgp.h */
	sb_printf(out, "\tconnect delay time %u;\n\tconnect retry time %u;\n",
		  BGP_CONNECT_DELAY_S, BGP_CONNECT_RETRY_S);
	sb_printf(out, "\terror wait time %u, %u;\n\terror forget time %u;\n",
		  BGP_ERROR_WAIT_MIN_S, BGP_ERROR_WAIT_MAX_S, BGP_ERROR_FORGET_S);
	/* a dead tunnel's routes go when its session does, not after a
	 * restart timer: the other tunnel takes over at once */
	sb_puts(out, "\tgraceful restart off;\n\tlong lived graceful restart off;\n");
	sb_printf(out, "\tipv4 {\n\t\ttable %s;\n", vgw);
	sb_printf(out, "\t\timport limit %u action disable;\n", BGP_IMPORT_LIMIT);
	sb_puts(out, "\t\timport all;\n");
	sb_printf(out, "\t\texport where proto = \"vpc_%s\";\n\t};\n}\n", vgw);
}

int bgp_conf_write(const struct bgp_conf_desc *desc, struct strbuf *out, char *err, size_t errlen)
{
	char a[16];
	uint32_t router_id = 0;

	if (desc_check(desc, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < desc->bc_nconns; i++)
		for (unsigned t = 0; t < BGP_TUNNELS; t++)
			if (!router_id || desc->bc_conns[i].cd_inside_net[t] + 1 < router_id)
				router_id = desc->bc_conns[i].cd_inside_net[t] + 1;
	if (!router_id)
		router_id = ROUTER_ID_NONE;

	sb_puts(out, "# bird.conf written by vpcd for its dynamic VPN connections: do not edit,\n"
		     "# vpcd rewrites it and reloads BIRD whenever a connection changes.\n");
	if (desc->bc_log_path)
		sb_printf(out, "log \"%s\" { info, remote, warning, error, auth, fatal, bug };\n",
			  desc->bc_log_path);
	else
		sb_puts(out, "log stderr { info, remote, warning, error, auth, fatal, bug };\n");
	ip_str(router_id, a);
	sb_printf(out, "router id %s;\n", a);
	/* vpcd reads times back as UTC (BIRD runs with TZ=UTC) */
	sb_puts(out, "timeformat protocol iso long;\ntimeformat route iso long;\n");
	sb_puts(out, "protocol device { scan time 10; }\n");
	for (size_t i = 0; i < desc->bc_nconns; i++) {
		const struct bgp_conn_desc *c = &desc->bc_conns[i];

		if (gateway_first(desc, i))
			write_gateway(out, c);
		for (unsigned t = 0; t < BGP_TUNNELS; t++)
			write_session(out, c, t);
	}
	return 0;
}
