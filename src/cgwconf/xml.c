/*
 * The customerGatewayConfiguration document: the XML that AWS returns in
 * CreateVpnConnection and DescribeVpnConnections, element for element, so
 * that tools which read it by element path work unchanged.  Each option
 * shows the lowest value in force, as AWS does.  Validates first; never
 * emits a half document on bad input.
 */
#include "cgwconf/cgwconf_int.h"

#include <stdio.h>

#define XML_DPD_INTERVAL_S	10	/* DPD probe interval shown to routers */
#define XML_BGP_HOLD_TIME_S	30

static void elem(struct strbuf *b, int depth, const char *name, const char *value)
{
	sb_printf(b, "%*s<%s>", depth * 2, "", name);
	sb_xml_escape(b, value);
	sb_printf(b, "</%s>\n", name);
}

static void elem_u(struct strbuf *b, int depth, const char *name, unsigned long value)
{
	char s[24];

	snprintf(s, sizeof(s), "%lu", value);
	elem(b, depth, name, s);
}

static void open_tag(struct strbuf *b, int depth, const char *name)
{
	sb_printf(b, "%*s<%s>\n", depth * 2, "", name);
}

static void close_tag(struct strbuf *b, int depth, const char *name)
{
	sb_printf(b, "%*s</%s>\n", depth * 2, "", name);
}

static void gateway(struct strbuf *b, const char *tag, const char *outside_ip,
    uint32_t inside_ip, bool bgp, uint32_t asn)
{
	char ip[CGW_IP_LEN];

	open_tag(b, 2, tag);
	open_tag(b, 3, "tunnel_outside_address");
	elem(b, 4, "ip_address", outside_ip);
	close_tag(b, 3, "tunnel_outside_address");
	open_tag(b, 3, "tunnel_inside_address");
	cgw_format_ip(inside_ip, ip);
	elem(b, 4, "ip_address", ip);
	elem(b, 4, "network_mask", "255.255.255.252");
	elem(b, 4, "network_cidr", "30");
	close_tag(b, 3, "tunnel_inside_address");
	if (bgp) {
		open_tag(b, 3, "bgp");
		elem_u(b, 4, "asn", asn);
		elem_u(b, 4, "hold_time", XML_BGP_HOLD_TIME_S);
		close_tag(b, 3, "bgp");
	}
	close_tag(b, 2, tag);
}

static void tunnel(struct strbuf *b, const struct cgw_vpn_connection *conn,
    const struct cgw_tunnel *tun)
{
	uint32_t net;
	unsigned prefix;
	bool bgp = !conn->cv_static_routes_only;
	char pfs[16];

	cgw_parse_cidr(tun->ct_inside_cidr, &net, &prefix);	/* validated */
	open_tag(b, 1, "ipsec_tunnel");
	gateway(b, "customer_gateway", conn->cv_cgw_outside_ip, net + 2, bgp, conn->cv_cgw_asn);
	gateway(b, "vpn_gateway", tun->ct_vgw_outside_ip, net + 1, bgp, conn->cv_amazon_side_asn);

	open_tag(b, 2, "ike");
	elem(b, 3, "authentication_protocol", cgw_lowest_integrity(&tun->ct_phase1_integrity)->ai_ike_xml);
	elem(b, 3, "encryption_protocol", cgw_lowest_encryption(&tun->ct_phase1_encryption)->ai_ike_xml);
	elem_u(b, 3, "lifetime", tun->ct_phase1_lifetime_s);
	snprintf(pfs, sizeof(pfs), "group%u", cgw_lowest_dh(&tun->ct_phase1_dh));
	elem(b, 3, "perfect_forward_secrecy", pfs);
	elem(b, 3, "mode", "main");
	elem(b, 3, "pre_shared_key", tun->ct_psk);
	close_tag(b, 2, "ike");

	open_tag(b, 2, "ipsec");
	elem(b, 3, "protocol", "esp");
	elem(b, 3, "authentication_protocol", cgw_lowest_integrity(&tun->ct_phase2_integrity)->ai_ipsec_xml);
	elem(b, 3, "encryption_protocol", cgw_lowest_encryption(&tun->ct_phase2_encryption)->ai_ipsec_xml);
	elem_u(b, 3, "lifetime", tun->ct_phase2_lifetime_s);
	snprintf(pfs, sizeof(pfs), "group%u", cgw_lowest_dh(&tun->ct_phase2_dh));
	elem(b, 3, "perfect_forward_secrecy", pfs);
	elem(b, 3, "mode", "tunnel");
	elem(b, 3, "clear_df_bit", "true");
	elem(b, 3, "fragmentation_before_encryption", "true");
	elem_u(b, 3, "tcp_mss_adjustment", conn->cv_tcp_mss);
	open_tag(b, 3, "dead_peer_detection");
	elem_u(b, 4, "interval", XML_DPD_INTERVAL_S);
	/* Probes every interval until the timeout in force: 30 s → 3. */
	elem_u(b, 4, "retries", (tun->ct_dpd_timeout_s + XML_DPD_INTERVAL_S - 1) / XML_DPD_INTERVAL_S);
	close_tag(b, 3, "dead_peer_detection");
	close_tag(b, 2, "ipsec");
	close_tag(b, 1, "ipsec_tunnel");
}

enum cgw_status cgwconf_render_xml(const struct cgw_vpn_connection *conn,
    struct strbuf *out, struct cgw_error *err)
{
	enum cgw_status st = cgwconf_validate(conn, err);

	if (st != CGW_OK)
		return st;
	out->sb_secret = true;	/* it will hold the keys */
	sb_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<vpn_connection id=\"");
	sb_xml_escape(out, conn->cv_vpn_connection_id);
	sb_puts(out, "\">\n");
	elem(out, 1, "customer_gateway_id", conn->cv_customer_gateway_id);
	elem(out, 1, "vpn_gateway_id", conn->cv_vpn_gateway_id);
	elem(out, 1, "vpn_connection_type", conn->cv_type);
	if (conn->cv_static_routes_only)
		elem(out, 1, "vpn_connection_attributes", "NoBGPVPNConnection");
	for (unsigned t = 0; t < CGW_TUNNELS; t++)
		tunnel(out, conn, &conn->cv_tunnel[t]);
	sb_puts(out, "</vpn_connection>\n");
	return CGW_OK;
}
