/*
 * Unit tests for bgp_conf (src/bgp/bgp.h): the bird.conf vpcd writes for
 * its dynamic VPN connections. Each written configuration is checked by
 * BIRD itself (`bird -p -c FILE`, parse-only) and against a golden file
 * (tests/bgp/golden/); every refused description names its cause and
 * leaves the output untouched.
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

#include "base/strbuf.h"
#include "bgp/bgp.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const struct bgp_prefix vpc_a[] = { { IP(10, 0, 0, 0), 16 }, { IP(10, 1, 0, 0), 16 } };
static const struct bgp_prefix vpc_b[] = { { IP(172, 31, 0, 0), 20 } };

/* Two connections of one gateway (sharing its table) and one of another. */
static void fixture(struct bgp_conn_desc c[3])
{
	memset(c, 0, 3 * sizeof(*c));
	strcpy(c[0].cd_vpn_id, "vpn-0a1b2c3d4e5f60718");
	strcpy(c[0].cd_vgw_id, "vgw-0123456789abcdef0");
	c[0].cd_vgw_asn = 64512;
	c[0].cd_cgw_asn = 65000;
	c[0].cd_inside_net[0] = IP(169, 254, 10, 0);
	c[0].cd_inside_net[1] = IP(169, 254, 20, 0);
	c[0].cd_export = vpc_a;
	c[0].cd_nexport = 2;
	c[1] = c[0];
	strcpy(c[1].cd_vpn_id, "vpn-11112222333344445");
	c[1].cd_cgw_asn = 4200000001u;
	c[1].cd_inside_net[0] = IP(169, 254, 30, 4);
	c[1].cd_inside_net[1] = IP(169, 254, 30, 8);
	strcpy(c[2].cd_vpn_id, "vpn-99990000aaaabbbbc");
	strcpy(c[2].cd_vgw_id, "vgw-fedcba9876543210f");
	c[2].cd_vgw_asn = 4294967294u;
	c[2].cd_cgw_asn = 65000;
	c[2].cd_inside_net[0] = IP(169, 254, 100, 0);
	c[2].cd_inside_net[1] = IP(169, 254, 100, 4);
	c[2].cd_export = vpc_b;
	c[2].cd_nexport = 1;
}

/* Runs `bird -p -c FILE` on text; returns its exit status, BIRD's words in msg. */
static int bird_parse_only(const char *text, char *msg, size_t msglen)
{
	char path[] = "/tmp/vpcd-test-bird-XXXXXX";
	char cmd[512];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (BIRD_PATH[0] == '\0')
		fail_msg("bird not found: install bird2 (scripts/install-deps.sh)");
	snprintf(cmd, sizeof(cmd), "%s -p -c %s 2>&1", BIRD_PATH, path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(msg, 1, msglen - 1, p);
	msg[n] = '\0';
	int status = pclose(p);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void assert_bird_accepts(const char *text)
{
	char msg[2048];
	int rc = bird_parse_only(text, msg, sizeof(msg));

	if (rc != 0)
		fail_msg("bird -p refused the configuration (exit %d): %s\n%s", rc, msg, text);
}

static char *read_golden(const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", BGP_GOLDEN_DIR, name);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("no golden file %s (write it from the output below)", path);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* BGP_GOLDEN_UPDATE=1 in the environment rewrites the golden file instead
 * (then read the diff before committing it). */
static void assert_golden(const char *name, const char *text)
{
	if (getenv("BGP_GOLDEN_UPDATE")) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", BGP_GOLDEN_DIR, name);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		return;
	}
	const char *want = read_golden(name);
	if (strcmp(want, text) != 0)
		fail_msg("%s differs from the golden file; written:\n%s", name, text);
}

/* The configuration for three connections on two gateways: BIRD accepts it,
 * it is the golden one, and it carries AWS's session parameters. */
static void test_three_connections(void **state)
{
	struct bgp_conn_desc c[3];
	struct bgp_conf_desc d = { c, 3, "/var/lib/vpcd/bgp/bird.log" };
	struct strbuf out = STRBUF_INIT;
	char err[256] = "";

	(void)state;
	fixture(c);
	assert_int_equal(bgp_conf_write(&d, &out, err, sizeof(err)), 0);
	const char *t = sb_str(&out);
	assert_bird_accepts(t);
	assert_golden("three_connections.conf", t);

	/* AWS's parameters, once per tunnel (6 sessions) */
	size_t sessions = 0;
	for (const char *p = t; (p = strstr(p, "protocol bgp ")); p++)
		sessions++;
	assert_int_equal(sessions, 6);
	assert_non_null(strstr(t, "protocol bgp vpn_0a1b2c3d4e5f60718_t1 {\n"
		"\tdescription \"vpn-0a1b2c3d4e5f60718 tunnel 1\";\n"
		"\tlocal 169.254.10.1 as 64512;\n"
		"\tneighbor 169.254.10.2 as 65000;\n"
		"\tkeepalive time 10;\n\thold time 30;\n"
		"\tconnect delay time 1;\n\tconnect retry time 5;\n"
		"\terror wait time 1, 30;\n\terror forget time 60;\n"));
	assert_non_null(strstr(t, "\tlocal 169.254.30.9 as 64512;\n\tneighbor 169.254.30.10 as 4200000001;\n"));
	assert_non_null(strstr(t, "\tlocal 169.254.100.5 as 4294967294;\n"));
	assert_non_null(strstr(t, "import limit 100 action disable;"));
	assert_non_null(strstr(t, "graceful restart off;"));
	/* one table and one static protocol per gateway, with its VPC CIDRs */
	assert_non_null(strstr(t, "ipv4 table vgw_0123456789abcdef0;\n"));
	assert_non_null(strstr(t, "ipv4 table vgw_fedcba9876543210f;\n"));
	assert_null(strstr(strstr(t, "ipv4 table vgw_0123456789abcdef0;") + 1,
			   "ipv4 table vgw_0123456789abcdef0;"));
	assert_non_null(strstr(t, "\troute 10.0.0.0/16 unreachable;\n\troute 10.1.0.0/16 unreachable;\n"));
	assert_non_null(strstr(t, "\troute 172.31.0.0/20 unreachable;\n"));
	assert_non_null(strstr(t, "export where proto = \"vpc_vgw_fedcba9876543210f\";"));
	assert_non_null(strstr(t, "router id 169.254.10.1;\n"));
	assert_non_null(strstr(t, "log \"/var/lib/vpcd/bgp/bird.log\""));
	sb_free(&out);
}

/* No dynamic connection: a configuration BIRD accepts, with no session. */
static void test_no_connection(void **state)
{
	struct bgp_conf_desc d = { NULL, 0, NULL };
	struct strbuf out = STRBUF_INIT;
	char err[256] = "";

	(void)state;
	assert_int_equal(bgp_conf_write(&d, &out, err, sizeof(err)), 0);
	assert_bird_accepts(sb_str(&out));
	assert_null(strstr(sb_str(&out), "protocol bgp"));
	assert_non_null(strstr(sb_str(&out), "log stderr"));
	sb_free(&out);
}

/* The check is real: BIRD refuses what is not a configuration. */
static void test_bird_refuses_garbage(void **state)
{
	char msg[2048];

	(void)state;
	assert_int_not_equal(bird_parse_only("protocol bgp x { neighbor as; }\n", msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "syntax error"));
}

struct refusal {
	const char *what;
	void (*spoil)(struct bgp_conn_desc *c, struct bgp_conf_desc *d);
	const char *err;
};

static void bad_vpn_id(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { strcpy(c[0].cd_vpn_id, "vpn-1\"; }"); }
static void upper_vpn_id(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { strcpy(c[0].cd_vpn_id, "VPN-1"); }
static void empty_vgw_id(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[2].cd_vgw_id[0] = '\0'; }
static void asn_zero(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[1].cd_cgw_asn = 0; }
static void asn_equal(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[2].cd_cgw_asn = c[2].cd_vgw_asn; }
static void inside_outside(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[0].cd_inside_net[1] = IP(10, 0, 0, 0); }
static void inside_unaligned(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[0].cd_inside_net[0] = IP(169, 254, 10, 1); }
static void inside_twice(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[2].cd_inside_net[1] = IP(169, 254, 20, 0); }
static void inside_same_conn(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[1].cd_inside_net[1] = c[1].cd_inside_net[0]; }
static void gateway_disagrees(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[1].cd_vgw_asn = 64513; }
static void gateway_cidrs(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[1].cd_nexport = 1; }
static void export_host_bits(struct bgp_conn_desc *c, struct bgp_conf_desc *d)
{
	static const struct bgp_prefix bad[] = { { IP(172, 31, 0, 1), 20 } };
	c[2].cd_export = bad;
}
static void listed_twice(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { c[1] = c[0]; c[1].cd_inside_net[0] = IP(169, 254, 40, 0); c[1].cd_inside_net[1] = IP(169, 254, 40, 4); }
static void log_relative(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { d->bc_log_path = "bird.log"; }
static void log_quote(struct bgp_conn_desc *c, struct bgp_conf_desc *d) { d->bc_log_path = "/tmp/a\";\nprotocol x"; }

static const struct refusal refusals[] = {
	{ "quote in id", bad_vpn_id, "connection 0: bad VPN connection id" },
	{ "upper case id", upper_vpn_id, "connection 0: bad VPN connection id" },
	{ "empty gateway id", empty_vgw_id, "vpn-99990000aaaabbbbc: bad VPN gateway id" },
	{ "ASN 0", asn_zero, "vpn-11112222333344445: ASN 0 (gateway 64512, customer 0)" },
	{ "equal ASNs", asn_equal, "vpn-99990000aaaabbbbc: customer gateway ASN 4294967294 is the VPN gateway's" },
	{ "inside outside 169.254/16", inside_outside, "vpn-0a1b2c3d4e5f60718: tunnel 2 inside CIDR 10.0.0.0/30 is not a /30 of 169.254.0.0/16" },
	{ "inside not a /30", inside_unaligned, "tunnel 1 inside CIDR 169.254.10.1/30 is not a /30" },
	{ "inside twice", inside_twice, "vpn-99990000aaaabbbbc: tunnel 2 inside CIDR 169.254.20.0/30 is also vpn-0a1b2c3d4e5f60718's tunnel 2" },
	{ "inside twice, one conn", inside_same_conn, "vpn-11112222333344445: tunnel 2 inside CIDR 169.254.30.4/30 is also vpn-11112222333344445's tunnel 1" },
	{ "gateway ASN", gateway_disagrees, "vpn-0a1b2c3d4e5f60718 and vpn-11112222333344445: same gateway vgw-0123456789abcdef0, different ASN or VPC CIDR blocks" },
	{ "gateway CIDRs", gateway_cidrs, "same gateway vgw-0123456789abcdef0, different ASN or VPC CIDR blocks" },
	{ "export host bits", export_host_bits, "vpn-99990000aaaabbbbc: export prefix 0 is not a CIDR block" },
	{ "listed twice", listed_twice, "vpn-0a1b2c3d4e5f60718: listed twice" },
	{ "relative log", log_relative, "log path must be absolute" },
	{ "quote in log", log_quote, "log path must be absolute, without quotes" },
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct bgp_conn_desc c[3];
		struct bgp_conf_desc d = { c, 3, NULL };
		struct strbuf out = STRBUF_INIT;
		char err[256] = "";

		fixture(c);
		refusals[i].spoil(c, &d);
		sb_puts(&out, "kept");
		if (bgp_conf_write(&d, &out, err, sizeof(err)) != -1)
			fail_msg("%s: accepted", refusals[i].what);
		if (!strstr(err, refusals[i].err))
			fail_msg("%s: error \"%s\", want \"%s\"", refusals[i].what, err, refusals[i].err);
		assert_string_equal(sb_str(&out), "kept");
		sb_free(&out);
	}
}

static void test_protocol_names(void **state)
{
	char name[BGP_NAME_MAX], id[BGP_ID_MAX];
	unsigned t = 9;

	(void)state;
	assert_int_equal(bgp_protocol_name("vpn-0a1b2c3d4e5f60718", 0, name, sizeof(name)), 0);
	assert_string_equal(name, "vpn_0a1b2c3d4e5f60718_t1");
	assert_int_equal(bgp_protocol_parse_name(name, id, &t), 0);
	assert_string_equal(id, "vpn-0a1b2c3d4e5f60718");
	assert_int_equal(t, 0);
	assert_int_equal(bgp_protocol_name("vpn-0a1b2c3d4e5f60718", 1, name, sizeof(name)), 0);
	assert_string_equal(name, "vpn_0a1b2c3d4e5f60718_t2");
	assert_int_equal(bgp_protocol_parse_name(name, id, &t), 0);
	assert_int_equal(t, 1);

	assert_int_equal(bgp_protocol_name("vpn-1", 2, name, sizeof(name)), -1);
	assert_int_equal(bgp_protocol_name("vpn 1", 0, name, sizeof(name)), -1);
	assert_int_equal(bgp_protocol_name("vpn-0a1b2c3d4e5f60718", 0, name, 10), -1);
	/* BIRD's other protocols are not sessions */
	const char *not_ours[] = { "device1", "vpc_vgw_0123456789abcdef0", "vpn_1_t3", "vpn_1_t0",
				   "_t1", "Vpn_1_t1", "vpn_1-t1", "vpn-1_t1", "" };
	for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++)
		if (bgp_protocol_parse_name(not_ours[i], id, &t) != -1)
			fail_msg("\"%s\" taken for a session", not_ours[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_connections),
		cmocka_unit_test(test_no_connection),
		cmocka_unit_test(test_bird_refuses_garbage),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_protocol_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
