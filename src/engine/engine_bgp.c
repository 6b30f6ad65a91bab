/*
 * engine_bgp — a connection doc into a bgp_conn_desc (engine_bgp.h).
 * Reads only ids, ASNs and inside CIDRs: never the pre-shared keys the
 * doc holds, and logs nothing.
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
