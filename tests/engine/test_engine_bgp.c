/*
 * Unit tests for engine_bgp (src/engine/engine_bgp.h): a vpn-connection doc
 * as CreateVpnConnection stores it (api/vpn.c's layout) into the
 * description of its BGP sessions; static connections left alone; a
 * dynamic one that BGP cannot run named with its cause. The description is
 * then written by bgp_conf_write and checked by BIRD (bird -p).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/doc.h"
#include "base/strbuf.h"
#include "bgp/bgp.h"
#include "engine/engine_bgp.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct doc *vpn_doc(bool static_only, const char *inside1, const char *inside2)
{
	struct doc *d = doc_obj();
	doc_set_str(d, "VpnConnectionId", "vpn-0a1b2c3d4e5f67890");
	doc_set_str(d, "VpnGatewayId", "vgw-0123456789abcdef0");
	doc_set_str(d, "CustomerGatewayId", "cgw-0123456789abcdef0");
	doc_set_str(d, "State", "available");
	struct doc *opts = doc_get_obj(d, "Options");
	doc_set_bool(opts, "StaticRoutesOnly", static_only);
	struct doc *tl = doc_get_list(opts, "TunnelOptions");
	const char *inside[] = { inside1, inside2 };
	for (int i = 0; i < 2; i++) {
		struct doc *t = doc_push(tl, doc_obj());
		doc_set_str(t, "OutsideIpAddress", i ? "203.0.113.2" : "203.0.113.1");
		if (inside[i])
			doc_set_str(t, "TunnelInsideCidr", inside[i]);
		doc_set_secret_str(t, "PreSharedKey", "never.read.here");
	}
	doc_set_str(d, "_CustomerGatewayIpAddress", "198.51.100.2");
	doc_set_int(d, "_CustomerGatewayBgpAsn", 65000);
	doc_set_int(d, "_AmazonSideAsn", 64512);
	return d;
}

static void test_dynamic(void **state)
{
	struct bgp_conn_desc c;
	char why[128] = "";

	(void)state;
	struct doc *d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), 1);
	assert_string_equal(c.cd_vpn_id, "vpn-0a1b2c3d4e5f67890");
	assert_string_equal(c.cd_vgw_id, "vgw-0123456789abcdef0");
	assert_int_equal(c.cd_cgw_asn, 65000);
	assert_int_equal(c.cd_vgw_asn, 64512);
	assert_int_equal(c.cd_inside_net[0], IP(169, 254, 10, 0));
	assert_int_equal(c.cd_inside_net[1], IP(169, 254, 20, 0));
	assert_null(c.cd_export);
	assert_int_equal(c.cd_nexport, 0);

	/* what BIRD gets from it, with the VPC's CIDR block added, parses */
	static const struct bgp_prefix vpc[] = { { IP(10, 0, 0, 0), 16 } };
	c.cd_export = vpc;
	c.cd_nexport = 1;
	struct bgp_conf_desc desc = { &c, 1, NULL };
	struct strbuf out = STRBUF_INIT;
	assert_int_equal(bgp_conf_write(&desc, &out, why, sizeof(why)), 0);
	assert_non_null(strstr(sb_str(&out), "\tlocal 169.254.10.1 as 64512;\n\tneighbor 169.254.10.2 as 65000;\n"));
	char path[] = "/tmp/vpcd-test-engine-bgp-XXXXXX", cmd[256];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, sb_str(&out), out.sb_len), (ssize_t)out.sb_len);
	close(fd);
	if (access("/usr/sbin/bird", X_OK) != 0)
		fail_msg("bird not found: install bird2 (scripts/install-deps.sh)");
	snprintf(cmd, sizeof(cmd), "/usr/sbin/bird -p -c %s", path);
	int rc = system(cmd);
	unlink(path);
	assert_int_equal(rc, 0);
	sb_free(&out);
	doc_free(d);
}

static void test_static_left_alone(void **state)
{
	struct bgp_conn_desc c;
	char why[128] = "";

	(void)state;
	struct doc *d = vpn_doc(true, "169.254.10.0/30", "169.254.20.0/30");
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	doc_free(d);
}

static void test_causes(void **state)
{
	struct bgp_conn_desc c;
	char why[128];

	(void)state;
	struct doc *d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	doc_remove(d, "_CustomerGatewayBgpAsn");
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
	assert_string_equal(why, "BGP: the customer gateway has no BGP ASN");
	doc_free(d);

	d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	doc_set_int(d, "_AmazonSideAsn", 0);
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
	assert_string_equal(why, "BGP: the VPN gateway has no Amazon side ASN");
	doc_free(d);

	static const char *const bad_inside[] = { NULL, "169.254.20.1/30", "169.254.20.0/29", "10.0.0.0/30", "x" };
	for (size_t i = 0; i < sizeof(bad_inside) / sizeof(bad_inside[0]); i++) {
		d = vpn_doc(false, "169.254.10.0/30", bad_inside[i]);
		assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
		assert_string_equal(why, "BGP: tunnel 2 has no inside /30 of 169.254.0.0/16");
		doc_free(d);
	}

	d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	doc_remove(d, "VpnGatewayId");
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
	assert_string_equal(why, "BGP: no VPN connection or gateway id");
	doc_free(d);

	d = vpn_doc(false, "169.254.10.0/30", "169.254.20.0/30");
	struct doc *tl = doc_get_list(doc_get_obj(d, "Options"), "TunnelOptions");
	doc_delete_child(tl, tl->d_first);
	assert_int_equal(engine_bgp_conn_desc(d, &c, why, sizeof(why)), -1);
	assert_string_equal(why, "BGP: the connection has 1 tunnels, not 2");
	doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynamic),
		cmocka_unit_test(test_static_left_alone),
		cmocka_unit_test(test_causes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
