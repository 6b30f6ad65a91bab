/*
 * Unit tests of src/cgwconf: validation, the XML document by element path,
 * the template language (and its error messages), every embedded template
 * against its golden file, and the Cisco ISR template against every
 * statement of the seed's sample configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cgwconf/cgwconf.h"
#include "fixture.h"

#ifndef CGW_GOLDEN_DIR
#error "CGW_GOLDEN_DIR must name tests/cgwconf/golden"
#endif

/* ---- helpers ---- */

static char *render_device(const struct cgw_vpn_connection *c, const char *id, const char *ike)
{
	struct strbuf b = STRBUF_SECRET_INIT;
	struct cgw_error err = { "" };
	enum cgw_status st = cgwconf_render_device(c, id, ike, &b, &err);

	if (st != CGW_OK)
		fail_msg("render %s %s: %s", id, ike ? ike : "(default)", err.ce_msg);
	return sb_detach(&b);
}

static char *render_xml(const struct cgw_vpn_connection *c)
{
	struct strbuf b = STRBUF_SECRET_INIT;
	struct cgw_error err = { "" };

	if (cgwconf_render_xml(c, &b, &err) != CGW_OK)
		fail_msg("xml: %s", err.ce_msg);
	return sb_detach(&b);
}

/* Renders text as a template with the fixture; returns status, output in
 * *out (caller frees) and the error message in err. */
static enum cgw_status render_text(const char *text, bool bgp, char **out, struct cgw_error *err)
{
	struct cgw_vpn_connection c;
	struct strbuf b = STRBUF_SECRET_INIT;
	enum cgw_status st;

	fixture_connection(&c, bgp);
	memset(err, 0, sizeof(*err));
	st = cgwconf_render_template(&c, "t.tmpl", 1, text, "ikev1", &b, err);
	*out = sb_detach(&b);
	return st;
}

static void expect_render(const char *text, const char *want)
{
	struct cgw_error err;
	char *out;
	enum cgw_status st = render_text(text, false, &out, &err);

	if (st != CGW_OK)
		fail_msg("template %s: %s", text, err.ce_msg);
	if (strcmp(out, want) != 0)
		fail_msg("template:\n%s\ngave:\n%s\nwanted:\n%s", text, out, want);
	free(out);
}

static void expect_error(const char *text, const char *want_msg)
{
	struct cgw_error err;
	char *out;
	enum cgw_status st = render_text(text, false, &out, &err);

	free(out);
	if (st != CGW_ERR_TEMPLATE)
		fail_msg("template %s: expected an error '%s', got status %d", text, want_msg, st);
	if (strstr(err.ce_msg, want_msg) == NULL)
		fail_msg("template %s: error '%s' does not contain '%s'", text, err.ce_msg, want_msg);
}

/* The text between <tag> and </tag> after the path of enclosing tags, e.g.
 * {"ipsec_tunnel#2", "vpn_gateway", "tunnel_inside_address", "ip_address"}:
 * "#N" picks the Nth occurrence.  Returns a malloc'd copy or NULL. */
static char *xml_path(const char *doc, const char *const *path, size_t n)
{
	const char *from = doc, *to = doc + strlen(doc);

	for (size_t i = 0; i < n; i++) {
		char name[64], open[80], close[80];
		const char *hash = strchr(path[i], '#');
		int nth = hash != NULL ? atoi(hash + 1) : 1;
		size_t len = hash != NULL ? (size_t)(hash - path[i]) : strlen(path[i]);
		const char *s = from, *e;

		snprintf(name, sizeof(name), "%.*s", (int)len, path[i]);
		snprintf(open, sizeof(open), "<%s>", name);
		snprintf(close, sizeof(close), "</%s>", name);
		for (int k = 0; k < nth; k++) {
			s = strstr(k == 0 ? s : s + 1, open);
			if (s == NULL || s >= to)
				return NULL;
		}
		e = strstr(s, close);
		if (e == NULL || e > to)
			return NULL;
		from = s + strlen(open);
		to = e;
	}
	return strndup(from, (size_t)(to - from));
}

#define XML_EXPECT(doc, want, ...) do { \
	const char *const p_[] = { __VA_ARGS__ }; \
	char *got_ = xml_path(doc, p_, sizeof(p_) / sizeof(p_[0])); \
	if (got_ == NULL || strcmp(got_, want) != 0) \
		fail_msg("xml %s: got '%s', want '%s'", #__VA_ARGS__, got_ ? got_ : "(missing)", want); \
	free(got_); \
} while (0)

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* First line where a and b differ, for a readable failure. */
static void fail_diff(const char *name, const char *got, const char *want)
{
	unsigned line = 1;
	const char *g = got, *w = want;

	while (*g != '\0' && *g == *w) {
		line += *g == '\n';
		g++;
		w++;
	}
	fail_msg("%s differs from its golden at line %u:\n  got:  %.80s\n  want: %.80s\n"
	    "(if the change is intended: tests/cgwconf/update-goldens.sh, then read the diff)",
	    name, line, g, w);
}

/* ---- validation ---- */

static void test_validate_fixture(void **state)
{
	struct cgw_vpn_connection c;
	struct cgw_error err = { "" };

	(void)state;
	fixture_connection(&c, false);
	assert_int_equal(cgwconf_validate(&c, &err), CGW_OK);
	fixture_connection(&c, true);
	assert_int_equal(cgwconf_validate(&c, &err), CGW_OK);
}

static void expect_invalid(struct cgw_vpn_connection *c, const char *want)
{
	struct cgw_error err = { "" };
	struct strbuf b = STRBUF_SECRET_INIT;

	assert_int_equal(cgwconf_validate(c, &err), CGW_ERR_INVALID);
	if (strstr(err.ce_msg, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err.ce_msg, want);
	/* Renderers refuse it too, and write nothing. */
	assert_int_equal(cgwconf_render_xml(c, &b, NULL), CGW_ERR_INVALID);
	assert_int_equal(cgwconf_render_device(c, "9005b6c1", NULL, &b, NULL), CGW_ERR_INVALID);
	assert_int_equal(b.sb_len, 0);
	sb_free(&b);
}

static void test_validate_rejects(void **state)
{
	struct cgw_vpn_connection c;

	(void)state;
	fixture_connection(&c, false);
	strcpy(c.cv_tunnel[1].ct_inside_cidr, "169.254.10.1/30");
	expect_invalid(&c, "tunnel 2: inside CIDR");
	fixture_connection(&c, false);
	strcpy(c.cv_tunnel[0].ct_inside_cidr, "10.0.0.0/30");
	expect_invalid(&c, "169.254.0.0/16");
	fixture_connection(&c, false);
	strcpy(c.cv_tunnel[0].ct_psk, "short");
	expect_invalid(&c, "pre-shared key");
	fixture_connection(&c, false);
	strcpy(c.cv_tunnel[0].ct_psk, "has\"quote\"in.it");
	expect_invalid(&c, "pre-shared key");
	fixture_connection(&c, false);
	strcpy(c.cv_tunnel[0].ct_phase1_encryption.ca_name[0], "DES");
	expect_invalid(&c, "unknown algorithm 'DES'");
	fixture_connection(&c, false);
	c.cv_tunnel[1].ct_phase2_dh.cd_n = 0;
	expect_invalid(&c, "phase 2 DH");
	fixture_connection(&c, false);
	strcpy(c.cv_cgw_outside_ip, "198.51.100.300");
	expect_invalid(&c, "customer gateway outside address");
	fixture_connection(&c, false);
	strcpy(c.cv_vpn_connection_id, "vpn-<x>");
	expect_invalid(&c, "VPN connection id");
	fixture_connection(&c, false);
	strcpy(c.cv_static_routes[1], "10.0.0.0/33");
	expect_invalid(&c, "static route 2");
	fixture_connection(&c, false);
	strcpy(c.cv_tunnel[0].ct_dpd_action, "drop");
	expect_invalid(&c, "DPD action");
	fixture_connection(&c, false);
	c.cv_n_vpc_cidrs = 2;
	strcpy(c.cv_vpc_cidrs[1], "10.97.0.0/33");
	expect_invalid(&c, "VPC CIDR block 2");
	fixture_connection(&c, false);
	c.cv_n_vpc_cidrs = CGW_MAX_VPC_CIDRS + 1;
	expect_invalid(&c, "VPC CIDR blocks (at most");
}

/* ---- XML ---- */

static void test_xml_static(void **state)
{
	struct cgw_vpn_connection c;
	char *x;

	(void)state;
	fixture_connection(&c, false);
	x = render_xml(&c);
	assert_true(strncmp(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<vpn_connection id=\"vpn-0a1b2c3d4e5f67890\">\n", 79) == 0);
	XML_EXPECT(x, "cgw-0123456789abcdef0", "customer_gateway_id");
	XML_EXPECT(x, "vgw-0fedcba9876543210", "vpn_gateway_id");
	XML_EXPECT(x, "ipsec.1", "vpn_connection_type");
	XML_EXPECT(x, "NoBGPVPNConnection", "vpn_connection_attributes");
	XML_EXPECT(x, FIXTURE_CGW_IP, "ipsec_tunnel", "customer_gateway", "tunnel_outside_address", "ip_address");
	XML_EXPECT(x, "169.254.252.2", "ipsec_tunnel", "customer_gateway", "tunnel_inside_address", "ip_address");
	XML_EXPECT(x, "255.255.255.252", "ipsec_tunnel", "customer_gateway", "tunnel_inside_address", "network_mask");
	XML_EXPECT(x, "30", "ipsec_tunnel", "customer_gateway", "tunnel_inside_address", "network_cidr");
	XML_EXPECT(x, FIXTURE_VGW1_IP, "ipsec_tunnel", "vpn_gateway", "tunnel_outside_address", "ip_address");
	XML_EXPECT(x, "169.254.252.1", "ipsec_tunnel", "vpn_gateway", "tunnel_inside_address", "ip_address");
	XML_EXPECT(x, FIXTURE_VGW2_IP, "ipsec_tunnel#2", "vpn_gateway", "tunnel_outside_address", "ip_address");
	XML_EXPECT(x, "169.254.253.5", "ipsec_tunnel#2", "vpn_gateway", "tunnel_inside_address", "ip_address");
	XML_EXPECT(x, "169.254.253.6", "ipsec_tunnel#2", "customer_gateway", "tunnel_inside_address", "ip_address");
	XML_EXPECT(x, "sha1", "ipsec_tunnel", "ike", "authentication_protocol");
	XML_EXPECT(x, "aes-128-cbc", "ipsec_tunnel", "ike", "encryption_protocol");
	XML_EXPECT(x, "28800", "ipsec_tunnel", "ike", "lifetime");
	XML_EXPECT(x, "group2", "ipsec_tunnel", "ike", "perfect_forward_secrecy");
	XML_EXPECT(x, "main", "ipsec_tunnel", "ike", "mode");
	XML_EXPECT(x, FIXTURE_PSK1, "ipsec_tunnel", "ike", "pre_shared_key");
	XML_EXPECT(x, FIXTURE_PSK2, "ipsec_tunnel#2", "ike", "pre_shared_key");
	XML_EXPECT(x, "esp", "ipsec_tunnel", "ipsec", "protocol");
	XML_EXPECT(x, "hmac-sha1-96", "ipsec_tunnel", "ipsec", "authentication_protocol");
	XML_EXPECT(x, "aes-128-cbc", "ipsec_tunnel", "ipsec", "encryption_protocol");
	XML_EXPECT(x, "3600", "ipsec_tunnel", "ipsec", "lifetime");
	XML_EXPECT(x, "group2", "ipsec_tunnel", "ipsec", "perfect_forward_secrecy");
	XML_EXPECT(x, "tunnel", "ipsec_tunnel", "ipsec", "mode");
	XML_EXPECT(x, "true", "ipsec_tunnel", "ipsec", "clear_df_bit");
	XML_EXPECT(x, "true", "ipsec_tunnel", "ipsec", "fragmentation_before_encryption");
	XML_EXPECT(x, "1379", "ipsec_tunnel", "ipsec", "tcp_mss_adjustment");
	XML_EXPECT(x, "10", "ipsec_tunnel", "ipsec", "dead_peer_detection", "interval");
	XML_EXPECT(x, "3", "ipsec_tunnel", "ipsec", "dead_peer_detection", "retries");
	assert_null(strstr(x, "<bgp>"));
	assert_null(xml_path(x, (const char *const[]){ "ipsec_tunnel#3" }, 1));
	free(x);
}

static void test_xml_bgp_and_options(void **state)
{
	struct cgw_vpn_connection c;
	char *x;

	(void)state;
	fixture_connection(&c, true);
	/* Lowest in force, whatever the order given. */
	for (unsigned t = 0; t < CGW_TUNNELS; t++) {
		struct cgw_tunnel *tun = &c.cv_tunnel[t];

		tun->ct_phase1_encryption.ca_n = 2;
		strcpy(tun->ct_phase1_encryption.ca_name[0], "AES256-GCM-16");
		strcpy(tun->ct_phase1_encryption.ca_name[1], "AES256");
		tun->ct_phase1_integrity.ca_n = 1;
		strcpy(tun->ct_phase1_integrity.ca_name[0], "SHA2-384");
		tun->ct_phase1_dh.cd_n = 2;
		tun->ct_phase1_dh.cd_group[0] = 20;
		tun->ct_phase1_dh.cd_group[1] = 14;
		tun->ct_phase2_encryption.ca_n = 1;
		strcpy(tun->ct_phase2_encryption.ca_name[0], "AES128-GCM-16");
		tun->ct_phase2_integrity.ca_n = 1;
		strcpy(tun->ct_phase2_integrity.ca_name[0], "SHA2-256");
		tun->ct_phase2_dh.cd_n = 1;
		tun->ct_phase2_dh.cd_group[0] = 5;
		tun->ct_phase1_lifetime_s = 14400;
		tun->ct_dpd_timeout_s = 45;
	}
	c.cv_cgw_asn = 65010;
	c.cv_amazon_side_asn = 4200000000u;
	x = render_xml(&c);
	assert_null(strstr(x, "vpn_connection_attributes"));
	XML_EXPECT(x, "65010", "ipsec_tunnel", "customer_gateway", "bgp", "asn");
	XML_EXPECT(x, "30", "ipsec_tunnel", "customer_gateway", "bgp", "hold_time");
	XML_EXPECT(x, "4200000000", "ipsec_tunnel#2", "vpn_gateway", "bgp", "asn");
	XML_EXPECT(x, "sha2-384", "ipsec_tunnel", "ike", "authentication_protocol");
	XML_EXPECT(x, "aes-256-cbc", "ipsec_tunnel", "ike", "encryption_protocol");
	XML_EXPECT(x, "14400", "ipsec_tunnel", "ike", "lifetime");
	XML_EXPECT(x, "group14", "ipsec_tunnel", "ike", "perfect_forward_secrecy");
	XML_EXPECT(x, "hmac-sha2-256-128", "ipsec_tunnel#2", "ipsec", "authentication_protocol");
	XML_EXPECT(x, "aes-128-gcm-16", "ipsec_tunnel#2", "ipsec", "encryption_protocol");
	XML_EXPECT(x, "group5", "ipsec_tunnel#2", "ipsec", "perfect_forward_secrecy");
	XML_EXPECT(x, "5", "ipsec_tunnel", "ipsec", "dead_peer_detection", "retries");
	free(x);
}

static void test_xml_escapes(void **state)
{
	struct strbuf b = STRBUF_SECRET_INIT;

	(void)state;
	/* Ids and keys are validated to need no escaping; the escaper is still
	 * what every value goes through, and the templates' xml filter too. */
	expect_render("{{\"a<b>&'c\\\"\" | xml}}", "a&lt;b&gt;&amp;&apos;c&quot;");
	sb_free(&b);
}

/* What the renderers write holds the keys: they make the output a secret
 * buffer (wiped whenever it lets go of memory; see test_strbuf), even when
 * the caller forgot to. */
static void test_output_is_secret(void **state)
{
	struct cgw_vpn_connection c;
	struct strbuf xml = STRBUF_INIT, dev = STRBUF_INIT;

	(void)state;
	fixture_connection(&c, false);
	assert_int_equal(cgwconf_render_xml(&c, &xml, NULL), CGW_OK);
	assert_true(xml.sb_secret);
	assert_non_null(strstr(sb_str(&xml), c.cv_tunnel[0].ct_psk));
	assert_int_equal(cgwconf_render_device(&c, "9005b6c1", NULL, &dev, NULL), CGW_OK);
	assert_true(dev.sb_secret);
	assert_non_null(strstr(sb_str(&dev), c.cv_tunnel[1].ct_psk));
	sb_free(&xml);
	sb_free(&dev);
}

static void test_xml_golden(void **state)
{
	struct cgw_vpn_connection c;

	(void)state;
	for (int bgp = 0; bgp < 2; bgp++) {
		char path[512], *got, *want;

		fixture_connection(&c, bgp);
		got = render_xml(&c);
		snprintf(path, sizeof(path), "%s/xml-%s.xml", CGW_GOLDEN_DIR, bgp ? "bgp" : "static");
		want = read_file(path);
		if (want == NULL)
			fail_msg("missing golden %s (tests/cgwconf/update-goldens.sh)", path);
		if (strcmp(got, want) != 0)
			fail_diff(path, got, want);
		free(got);
		free(want);
	}
}

/* ---- the template language ---- */

static void test_tmpl_values_and_filters(void **state)
{
	(void)state;
	expect_render("id {{vpn_connection_id}}\n", "id vpn-0a1b2c3d4e5f67890\n");
	expect_render("{{ tunnel1.vgw.outside_ip }} {{tunnel2.cgw.inside_ip}}",
	    FIXTURE_VGW1_IP " 169.254.253.6");
	expect_render("{{vpc_cidr|network}} {{vpc_cidr|netmask}} {{vpc_cidr | prefix}} {{vpc_cidr|wildcard}}",
	    "10.96.0.0 255.255.0.0 16 0.0.255.255");
	expect_render("{{tunnel1.ike.encryption|lower}} {{\"x\"|upper}}", "aes128 X");
	expect_render("{{\"{{\"}}", "{{");
	expect_render("{{tunnel1.ike.dh}} {{tunnel1.ipsec.lifetime}} {{tunnel1.ike.rekey_time}}",
	    "2 3600 28260");
	expect_render("{{static}} {{bgp}}", "true false");
}

static void test_tmpl_conditions(void **state)
{
	(void)state;
	expect_render("{{#if static}}S{{#else}}B{{/if}}", "S");
	expect_render("{{#if bgp}}B{{#elif ike_version == \"ikev1\"}}1{{#else}}2{{/if}}", "1");
	expect_render("{{#if not bgp and static_routes}}y{{/if}}", "y");
	expect_render("{{#if bgp or tunnel1.ike.dh != \"2\"}}y{{#else}}n{{/if}}", "n");
	expect_render("{{#if !tunnel1.ike.aead}}cbc{{/if}}", "cbc");
	expect_render("{{#if tunnel1.number == 1}}one{{/if}}", "one");
}

static void test_tmpl_loops_and_lines(void **state)
{
	(void)state;
	expect_render("{{#each tunnels as t}}{{t.number}}:{{t.vgw.outside_ip}}{{#if !loop.last}},{{/if}}{{/each}}",
	    "1:" FIXTURE_VGW1_IP ",2:" FIXTURE_VGW2_IP);
	/* A block tag alone on its line takes the line with it. */
	expect_render("a\n{{#each static_routes as r}}\n  route {{r}} #{{loop.number}}\n{{/each}}\nb\n",
	    "a\n  route 10.0.0.0/24 #1\n  route 192.168.10.0/24 #2\nb\n");
	expect_render("  {{! a comment }}\nx {{! inline }}y\n", "x y\n");
	expect_render("{{#each tunnels as t}}{{#each t.ike.dh_groups as g}}{{#if loop.first}}{{g}}{{/if}}{{/each}}{{/each}}",
	    "22");
}

static void test_tmpl_maps(void **state)
{
	(void)state;
	expect_render("{{#map enc}}\n# comment\nAES128 = aes 128\nAES256=\" aes 256 \"\n{{/map}}\n"
	    "encr {{tunnel1.ike.encryption | enc}}|{{\"AES256\"|enc}}|\n",
	    "encr aes 128| aes 256 |\n");
	expect_render("{{#map m}}\n* = other\n{{/map}}\n{{\"zz\"|m}}", "other");
}

static void test_tmpl_errors(void **state)
{
	(void)state;
	expect_error("line1\n{{tunnel1.pks}}", "t.tmpl:2: unknown variable 'tunnel1.pks'");
	expect_error("{{#if static}}\nx\n", "t.tmpl:1: {{#if}} without {{/if}}");
	expect_error("x\n{{/if}}\n", "t.tmpl:2: '{{/if}}' without a matching opening tag");
	expect_error("{{#each tunnels as t}}\n{{/if}}\n", "this tag does not belong to the {{#each}} of line 1");
	expect_error("{{#if bgp}}{{/each}}", "{{/each}} closes the {{#if}} of line 1");
	expect_error("{{#if bgp}}{{#else}}{{#else}}{{/if}}", "{{#else}} after {{#else}}");
	expect_error("{{vpn_connection_id | nosuch}}", "unknown filter or map 'nosuch'");
	expect_error("{{#map m}}\nAES256 = x\n{{/map}}\n{{tunnel1.ike.encryption|m}}",
	    "t.tmpl:4: map 'm' (line 1) has no entry for 'AES128'");
	expect_error("{{#map m}}\nnovalue\n{{/map}}", "t.tmpl:2: map 'm': expected KEY = VALUE");
	expect_error("{{#map m}}\na=1\n{{/map}}{{#map m}}\n{{/map}}", "map 'm' defined twice");
	expect_error("{{#map upper}}\n{{/map}}", "built-in filter");
	expect_error("{{#map m}}\na=1\n", "{{#map}} without {{/map}}");
	expect_error("{{tunnels}}", "'tunnels' is a list");
	expect_error("{{tunnel1}}", "is a group of variables");
	expect_error("{{vpn_connection_id|netmask}}", "filter 'netmask': 'vpn-0a1b2c3d4e5f67890' is not an IPv4 CIDR");
	expect_error("{{#each vpn_connection_id as x}}{{/each}}", "is not a list");
	expect_error("{{#each tunnels}}{{/each}}", "expected {{#each LIST as NAME}}");
	expect_error("{{#unless x}}", "unknown directive '{{#unless}}'");
	expect_error("a {{ b", "t.tmpl:1: '{{' without '}}'");
	expect_error("{{}}", "empty tag");
	expect_error("{{#if}}{{/if}}", "missing condition");
	expect_error("{{#if a == }}{{/if}}", "expected a variable");
	expect_error("{{\"open}}", "unterminated string");
	expect_error("{{a b}}", "unexpected 'b'");
	/* A broken branch fails even when it is not taken. */
	expect_error("{{#if bgp}}{{x|nosuch}}{{/if}}", "unknown filter or map 'nosuch'");
}

static void test_tmpl_fail(void **state)
{
	struct cgw_error err;
	char *out;

	(void)state;
	assert_int_equal(render_text("a{{#if static}}{{#fail \"no static here\"}}{{/if}}", false, &out, &err),
	    CGW_ERR_UNSUPPORTED);
	assert_string_equal(err.ce_msg, "no static here");
	free(out);
	assert_int_equal(render_text("a{{#if bgp}}{{#fail \"no bgp here\"}}{{/if}}", false, &out, &err), CGW_OK);
	assert_string_equal(out, "a");
	free(out);
	expect_error("{{#fail x}}", "{{#fail}} takes a \"message\"");
}

static void test_ike_version_choice(void **state)
{
	struct cgw_vpn_connection c;
	struct strbuf b = STRBUF_SECRET_INIT;
	struct cgw_error err = { "" };

	(void)state;
	fixture_connection(&c, false);
	assert_int_equal(cgwconf_render_template(&c, "v", 1, "{{ike_version}}", NULL, &b, &err), CGW_OK);
	assert_string_equal(sb_str(&b), "ikev1");
	sb_free(&b);
	c.cv_tunnel[1].ct_ike_versions = CGW_IKEV2;
	assert_int_equal(cgwconf_render_template(&c, "v", 1, "{{ike_version}}", NULL, &b, &err), CGW_OK);
	assert_string_equal(sb_str(&b), "ikev2");
	sb_free(&b);
	assert_int_equal(cgwconf_render_template(&c, "v", 1, "x", "ikev1", &b, &err), CGW_ERR_IKE_VERSION);
	assert_non_null(strstr(err.ce_msg, "do not allow ikev1"));
	assert_int_equal(cgwconf_render_template(&c, "v", 1, "x", "ikev3", &b, &err), CGW_ERR_IKE_VERSION);
	assert_int_equal(cgwconf_render_device(&c, "00000000", NULL, &b, &err), CGW_ERR_DEVICE);
	assert_non_null(strstr(err.ce_msg, "no configuration template for device type '00000000'"));
	sb_free(&b);
}


/* ---- the seed: its Cisco IOS sample is the ground truth ---- */

/* The seed's sample for one tunnel, verbatim (its masked values are
 * placeholders below): the Cisco ISR configuration of the walkthrough vpcd
 * was born from (docs/design.md, "The user's story"). */
static const char seed_cisco[] =
	"crypto isakmp policy 200\n"
	"  encryption aes 128\n"
	"  authentication pre-share\n"
	"  group 2\n"
	"  lifetime 28800\n"
	"  hash sha\n"
	"exit\n"
	"!\n"
	"crypto keyring keyring-vpn-xxxxxxxx-x\n"
	"  local-address xxx.xxx.xxx.xxx\n"
	"  pre-shared-key address 27.0.1.xx key xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxy\n"
	"exit\n"
	"!\n"
	"crypto isakmp profile isakmp-vpn-xxxxxxxx-x\n"
	"  local-address xxx.xxx.xxx.xxx\n"
	"  match identity address 27.0.1.xx\n"
	"  keyring keyring-vpn-xxxxxxxx-x\n"
	"exit\n"
	"!\n"
	"crypto ipsec transform-set ipsec-prop-vpn-xxxxxxxx-x esp-aes 128 esp-sha-hmac \n"
	"  mode tunnel\n"
	"exit\n"
	"!\n"
	"crypto ipsec profile ipsec-vpn-xxxxxxxx-x\n"
	"  set pfs group2\n"
	"  set security-association lifetime seconds 3600\n"
	"  set transform-set ipsec-prop-vpn-xxxxxxxx-x\n"
	"exit\n"
	"!\n"
	"crypto ipsec df-bit clear\n"
	"!\n"
	"crypto isakmp keepalive 10 10 on-demand\n"
	"!\n"
	"crypto ipsec security-association replay window-size 128\n"
	"!\n"
	"crypto ipsec fragmentation before-encryption\n"
	"!\n"
	"interface Tunnel1\n"
	"  ip address 169.254.252.2 255.255.255.252\n"
	"  ip virtual-reassembly\n"
	"  tunnel source xxx.xxx.xxx.xxx\n"
	"  tunnel destination 27.0.1.xx \n"
	"  tunnel mode ipsec ipv4\n"
	"  tunnel protection ipsec profile ipsec-vpn-xxxxxxxx-x\n"
	"  ip tcp adjust-mss 1387 \n"
	"  no shutdown\n"
	"exit\n"
	"!\n"
	"ip route 10.96.0.0 255.255.0.0 Tunnel1 track 100\n"
	"!\n"
	"ip sla 100\n"
	"   icmp-echo 169.254.252.1 source-interface Tunnel1\n"
	"   timeout 1000\n"
	"   frequency 5\n"
	"exit\n"
	"!\n"
	"ip sla schedule 100  life forever start-time now\n"
	"!\n"
	"track 100 ip sla 100 reachability \n";

/* Replaces every `from` in *s by `to` (reallocating). */
static void replace_all(char **s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	char *out, *o;

	for (const char *p = strstr(*s, from); p != NULL; p = strstr(p + fl, from))
		n++;
	out = malloc(strlen(*s) + n * (tl > fl ? tl - fl : 0) + 1);
	assert_non_null(out);
	o = out;
	for (const char *p = *s, *q; ; p = q + fl) {
		q = strstr(p, from);
		if (q == NULL) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
	}
	free(*s);
	*s = out;
}

/* One line with runs of blanks made one space and no blanks at the ends. */
static void normalize_line(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;
	bool space = false;

	for (size_t i = 0; i < len && n + 1 < size; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = false;
		if (n + 1 < size)
			out[n++] = s[i];
	}
	out[n] = '\0';
}

/* Every non-comment line of want appears in got, in the same order. */
static void expect_lines_in_order(const char *got, const char *want, const char *what)
{
	const char *pos = got;

	for (const char *w = want; *w != '\0';) {
		const char *we = strchr(w, '\n');
		size_t wl = we != NULL ? (size_t)(we - w) : strlen(w);
		char line[256];
		bool found = false;

		normalize_line(w, wl, line, sizeof(line));
		w += wl + (we != NULL);
		if (line[0] == '\0' || line[0] == '!')
			continue;
		while (*pos != '\0' && !found) {
			const char *ge = strchr(pos, '\n');
			size_t gl = ge != NULL ? (size_t)(ge - pos) : strlen(pos);
			char have[256];

			normalize_line(pos, gl, have, sizeof(have));
			found = strcmp(have, line) == 0;
			pos += gl + (ge != NULL);
		}
		if (!found)
			fail_msg("%s: seed statement '%s' missing (or out of order)", what, line);
	}
}

static void test_cisco_isr_has_every_seed_statement(void **state)
{
	struct cgw_vpn_connection c;
	char *got;

	(void)state;
	fixture_connection(&c, false);
	got = render_device(&c, "b0adb196", "ikev1");
	for (unsigned t = 0; t < CGW_TUNNELS; t++) {
		const struct cgw_tunnel *tun = &c.cv_tunnel[t];
		char *want = strdup(seed_cisco), v[64], what[32];
		unsigned base = (unsigned)strtoul(tun->ct_inside_cidr + 12, NULL, 10);

		assert_non_null(want);
		/* The seed's masked and connection-specific values, for tunnel t. */
		snprintf(v, sizeof(v), "%s-%u", c.cv_vpn_connection_id, t);
		replace_all(&want, "vpn-xxxxxxxx-x", v);
		snprintf(v, sizeof(v), "policy 20%u", t);
		replace_all(&want, "policy 200", v);
		snprintf(v, sizeof(v), "Tunnel%u", t + 1);
		replace_all(&want, "Tunnel1", v);
		snprintf(v, sizeof(v), "track %u00", t + 1);
		replace_all(&want, "track 100", v);
		snprintf(v, sizeof(v), "sla %u00", t + 1);
		replace_all(&want, "sla 100", v);
		snprintf(v, sizeof(v), "schedule %u00", t + 1);
		replace_all(&want, "schedule 100", v);
		replace_all(&want, "xxx.xxx.xxx.xxx", c.cv_cgw_outside_ip);
		replace_all(&want, "27.0.1.xx", tun->ct_vgw_outside_ip);
		replace_all(&want, "xyzxyzxyzxyzxyzxyzxyzxyzxyzxyzxy", tun->ct_psk);
		/* The seed's MSS is AWS's older value; the connection's is 1379. */
		snprintf(v, sizeof(v), "adjust-mss %u", c.cv_tcp_mss);
		replace_all(&want, "adjust-mss 1387", v);
		snprintf(v, sizeof(v), "%.*s%u", 12, tun->ct_inside_cidr, base + 2);
		replace_all(&want, "169.254.252.2", v);
		snprintf(v, sizeof(v), "%.*s%u", 12, tun->ct_inside_cidr, base + 1);
		replace_all(&want, "169.254.252.1", v);
		snprintf(what, sizeof(what), "tunnel %u", t + 1);
		expect_lines_in_order(got, want, what);
		free(want);
	}
	free(got);
}

static void test_cisco_isr_maps_options(void **state)
{
	struct cgw_vpn_connection c;
	struct strbuf b = STRBUF_SECRET_INIT;
	struct cgw_error err = { "" };
	char *got;

	(void)state;
	fixture_connection(&c, false);
	for (unsigned t = 0; t < CGW_TUNNELS; t++) {
		struct cgw_tunnel *tun = &c.cv_tunnel[t];

		tun->ct_phase1_encryption.ca_n = 1;
		strcpy(tun->ct_phase1_encryption.ca_name[0], "AES256");
		tun->ct_phase1_integrity.ca_n = 2;
		strcpy(tun->ct_phase1_integrity.ca_name[0], "SHA2-512");
		strcpy(tun->ct_phase1_integrity.ca_name[1], "SHA2-256");
		tun->ct_phase1_dh.cd_n = 1;
		tun->ct_phase1_dh.cd_group[0] = 14;
		tun->ct_phase2_encryption.ca_n = 1;
		strcpy(tun->ct_phase2_encryption.ca_name[0], "AES256-GCM-16");
		tun->ct_phase2_dh.cd_n = 1;
		tun->ct_phase2_dh.cd_group[0] = 19;
		tun->ct_phase2_lifetime_s = 1800;
	}
	got = render_device(&c, "b0adb196", "ikev1");
	expect_lines_in_order(got,
	    "crypto isakmp policy 200\nencryption aes 256\ngroup 14\nlifetime 28800\nhash sha256\n"
	    "crypto ipsec transform-set ipsec-prop-vpn-0a1b2c3d4e5f67890-0 esp-gcm 256\n"
	    "set pfs group19\nset security-association lifetime seconds 1800\n", "AES256/SHA2-256/14");
	free(got);
	got = render_device(&c, "b0adb196", "ikev2");
	expect_lines_in_order(got,
	    "crypto ikev2 proposal proposal-vpn-0a1b2c3d4e5f67890-0\nencryption aes-cbc-256\n"
	    "integrity sha256\ngroup 14\nset ikev2-profile ikev2-vpn-0a1b2c3d4e5f67890-0\n", "ikev2");
	assert_null(strstr(got, "crypto isakmp"));
	free(got);
	/* IKEv1 cannot do GCM in phase 1: said so, not rendered wrong. */
	for (unsigned t = 0; t < CGW_TUNNELS; t++) {
		strcpy(c.cv_tunnel[t].ct_phase1_encryption.ca_name[0], "AES128-GCM-16");
	}
	assert_int_equal(cgwconf_render_device(&c, "b0adb196", "ikev1", &b, &err), CGW_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.ce_msg, "AES-GCM"));
	sb_free(&b);
	got = render_device(&c, "b0adb196", "ikev2");
	expect_lines_in_order(got, "encryption aes-gcm-128\nprf sha256\n", "ikev2 gcm");
	free(got);
}

/* strongSwan (51cb26fd), static and BGP routing alike: per tunnel a CHILD
 * SA for the inside addresses (the router's .2 <-> the gateway's .1), so
 * that the router can ping the far inside address (AWS's `ip sla` check)
 * without a hand edit, and its BGP session reaches the gateway's; every
 * CHILD SA comes back when the peer closes it (a restart of the gateway).
 * Not in the tunnel's own selectors: IKEv1 negotiates one pair per CHILD
 * SA (charon kept only 0.0.0.0/0 === the VPC, and the BGP session had no
 * way through). */
static void test_strongswan_inside_child(void **state)
{
	static const char *const ikes[] = { "ikev1", "ikev2" };
	struct cgw_vpn_connection c;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		size_t v = i % 2;
		bool bgp = i >= 2;

		fixture_connection(&c, bgp);
		char *got = render_device(&c, "51cb26fd", ikes[v]);
		assert_null(strstr(got, ", 169.254."));
		expect_lines_in_order(got,
		    "tunnel1 {\nchildren {\ntunnel1 {\nmode = tunnel\nesp_proposals = aes128-sha1-modp1024\n"
		    "dpd_action = restart\nstart_action = start\nclose_action = start\n}\n"
		    "inside1 {\nmode = tunnel\nlocal_ts = 169.254.252.2/32\nremote_ts = 169.254.252.1/32\n"
		    "esp_proposals = aes128-sha1-modp1024\nlife_time = 3600s\nrekey_time = 3060s\n"
		    "dpd_action = restart\nstart_action = start\nclose_action = start\n}\n"
		    "tunnel2 {\nchildren {\ntunnel2 {\nclose_action = start\n}\n"
		    "inside2 {\nmode = tunnel\nlocal_ts = 169.254.253.6/32\nremote_ts = 169.254.253.5/32\n"
		    "close_action = start\n}\n", ikes[v]);
		free(got);
	}
}

/* Counts the occurrences of needle in hay. */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* strongSwan (51cb26fd), a VPC with secondary CIDR blocks and
 * RemoteIpv4NetworkCidr 0.0.0.0/0 (AWS's default): per tunnel one CHILD SA
 * per block (IKEv1 negotiates one pair of selectors per CHILD SA; the
 * gateway routes, and over BGP announces, every block): tunnel<N> for the
 * primary, tunnel<N>-2, -3 for the others, in the VPC's order, each with
 * the customer side's selectors; the inside<N> CHILD SA as before. A
 * narrowed RemoteIpv4NetworkCidr stays one CHILD SA with that CIDR. */
static void test_strongswan_vpc_blocks(void **state)
{
	static const char *const ikes[] = { "ikev1", "ikev2" };
	struct cgw_vpn_connection c;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		size_t v = i % 2;
		bool bgp = i >= 2;
		const char *local = bgp ? "0.0.0.0/0" : "10.0.0.0/24, 192.168.10.0/24";
		char want[2048];

		fixture_connection(&c, bgp);
		c.cv_n_vpc_cidrs = 3;
		snprintf(c.cv_vpc_cidrs[1], CGW_CIDR_LEN, "10.97.0.0/24");
		snprintf(c.cv_vpc_cidrs[2], CGW_CIDR_LEN, "100.64.8.0/28");
		char *got = render_device(&c, "51cb26fd", ikes[v]);
		snprintf(want, sizeof(want),
		    "tunnel1 {\nchildren {\n"
		    "tunnel1 {\nmode = tunnel\nlocal_ts = %s\nremote_ts = 10.96.0.0/16\nclose_action = start\n}\n"
		    "tunnel1-2 {\nmode = tunnel\nlocal_ts = %s\nremote_ts = 10.97.0.0/24\n"
		    "esp_proposals = aes128-sha1-modp1024\nlife_time = 3600s\nrekey_time = 3060s\n"
		    "replay_window = 1024\ndpd_action = restart\nstart_action = start\nclose_action = start\n}\n"
		    "tunnel1-3 {\nmode = tunnel\nlocal_ts = %s\nremote_ts = 100.64.8.0/28\nclose_action = start\n}\n"
		    "inside1 {\nmode = tunnel\nlocal_ts = 169.254.252.2/32\nremote_ts = 169.254.252.1/32\n}\n"
		    "tunnel2 {\nchildren {\n"
		    "tunnel2 {\nmode = tunnel\nlocal_ts = %s\nremote_ts = 10.96.0.0/16\n}\n"
		    "tunnel2-2 {\nmode = tunnel\nlocal_ts = %s\nremote_ts = 10.97.0.0/24\n}\n"
		    "tunnel2-3 {\nmode = tunnel\nlocal_ts = %s\nremote_ts = 100.64.8.0/28\n}\n"
		    "inside2 {\nmode = tunnel\nlocal_ts = 169.254.253.6/32\nremote_ts = 169.254.253.5/32\n}\n",
		    local, local, local, local, local, local);
		expect_lines_in_order(got, want, ikes[v]);
		/* nothing else: 2 x (3 + 1) CHILD SAs, each block twice */
		assert_int_equal(count_of(got, "mode = tunnel\n"), 8);
		assert_int_equal(count_of(got, "remote_ts = 10.96.0.0/16\n"), 2);
		assert_int_equal(count_of(got, "remote_ts = 10.97.0.0/24\n"), 2);
		assert_int_equal(count_of(got, "remote_ts = 100.64.8.0/28\n"), 2);
		assert_null(strstr(got, "-4 {"));
		assert_non_null(strstr(got, "# AWS side is the VPC's CIDR blocks, one CHILD SA"));
		free(got);

		/* RemoteIpv4NetworkCidr narrowed: that CIDR, one CHILD SA */
		snprintf(c.cv_remote_ipv4_network_cidr, CGW_CIDR_LEN, "10.97.0.0/25");
		got = render_device(&c, "51cb26fd", ikes[v]);
		assert_int_equal(count_of(got, "mode = tunnel\n"), 4);
		assert_int_equal(count_of(got, "remote_ts = 10.97.0.0/25\n"), 2);
		assert_null(strstr(got, "tunnel1-2"));
		assert_null(strstr(got, "10.96.0.0/16"));
		free(got);

		/* one block: one CHILD SA per tunnel (the goldens say the rest) */
		fixture_connection(&c, bgp);
		got = render_device(&c, "51cb26fd", ikes[v]);
		assert_int_equal(count_of(got, "mode = tunnel\n"), 4);
		assert_null(strstr(got, "tunnel1-2"));
		assert_non_null(strstr(got, "# AWS side is the VPC's CIDR.\n"));
		free(got);

		/* detached (no VPC): RemoteIpv4NetworkCidr, as before */
		c.cv_n_vpc_cidrs = 0;
		got = render_device(&c, "51cb26fd", ikes[v]);
		assert_int_equal(count_of(got, "mode = tunnel\n"), 4);
		assert_int_equal(count_of(got, "remote_ts = 0.0.0.0/0\n"), 2);
		free(got);
	}
}

/* Every other template, a VPC with secondary CIDR blocks (10.96.0.0/16,
 * then 10.97.0.0/24 and 100.64.8.0/28, associated in that order), static
 * routing: each names every block the way its device does. Route-based
 * devices route each block into the tunnel (Cisco IOS 'ip route', JunOS
 * 'static route ... next-hop st0.N', ScreenOS 'vrouter trust-vr route',
 * Yamaha 'ip route ... gateway tunnel', the generic list of destinations);
 * policy-based ones have one selector per block (ASA: an access-list entry
 * each, hence a phase 2 SA each; Libreswan: rightsubnets={...}, a
 * connection each; Windows: endpoint2 as a list). A policy-based device
 * with RemoteIpv4NetworkCidr narrowed has that one selector; a route-based
 * one still routes every block. main's templates named the primary block
 * only: every case below fails on them. */
struct vpc_blocks_case {
	const char *id;
	const char *ikes[2];
	const char *want;		/* lines in this order */
	const char *each_block;		/* printf: the line of one block ... */
	size_t per_block;		/* ... that many times */
	const char *narrowed;		/* RemoteIpv4NetworkCidr 10.97.0.0/25: this, */
	size_t narrowed_count;		/* that many times; NULL: the routes stay */
	const char *narrowed_gone;	/* and no selector of the blocks */
	const char *detached;		/* no VPC known: RemoteIpv4NetworkCidr */
};

static const struct vpc_blocks_case vpc_blocks_cases[] = {
	{ "b0adb196", { "ikev1", "ikev2" },
	  "ip route 10.96.0.0 255.255.0.0 Tunnel1 track 100\n"
	  "ip route 10.97.0.0 255.255.255.0 Tunnel1 track 100\n"
	  "ip route 100.64.8.0 255.255.255.240 Tunnel1 track 100\n"
	  "ip route 10.96.0.0 255.255.0.0 Tunnel2 track 200\n"
	  "ip route 10.97.0.0 255.255.255.0 Tunnel2 track 200\n"
	  "ip route 100.64.8.0 255.255.255.240 Tunnel2 track 200\n",
	  "ip route %s ", 2, NULL, 0, NULL, "ip route 0.0.0.0 0.0.0.0 Tunnel1 track 100\n" },
	{ "1361227b", { "ikev1", "ikev2" },
	  "set routing-options static route 10.96.0.0/16 next-hop st0.1\n"
	  "set routing-options static route 10.97.0.0/24 next-hop st0.1\n"
	  "set routing-options static route 100.64.8.0/28 next-hop st0.1\n"
	  "set routing-options static route 10.96.0.0/16 next-hop st0.2\n"
	  "set routing-options static route 10.97.0.0/24 next-hop st0.2\n"
	  "set routing-options static route 100.64.8.0/28 next-hop st0.2\n",
	  "static route %s next-hop", 2, NULL, 0, NULL, "static route 0.0.0.0/0 next-hop st0.1\n" },
	{ "8a961875", { "ikev1" },
	  "set routing-options static route 10.96.0.0/16 next-hop st0.1\n"
	  "set routing-options static route 10.97.0.0/24 next-hop st0.1\n"
	  "set routing-options static route 100.64.8.0/28 next-hop st0.1\n"
	  "set routing-options static route 10.96.0.0/16 next-hop st0.2\n"
	  "set routing-options static route 10.97.0.0/24 next-hop st0.2\n"
	  "set routing-options static route 100.64.8.0/28 next-hop st0.2\n",
	  "static route %s next-hop", 2, NULL, 0, NULL, "static route 0.0.0.0/0 next-hop st0.1\n" },
	{ "acabcac0", { "ikev1" },
	  "set vrouter trust-vr route 10.96.0.0/16 interface tunnel.1 gateway 169.254.252.1\n"
	  "set vrouter trust-vr route 10.97.0.0/24 interface tunnel.1 gateway 169.254.252.1\n"
	  "set vrouter trust-vr route 100.64.8.0/28 interface tunnel.1 gateway 169.254.252.1\n"
	  "set vrouter trust-vr route 10.96.0.0/16 interface tunnel.2 gateway 169.254.253.5\n"
	  "set vrouter trust-vr route 10.97.0.0/24 interface tunnel.2 gateway 169.254.253.5\n"
	  "set vrouter trust-vr route 100.64.8.0/28 interface tunnel.2 gateway 169.254.253.5\n",
	  "trust-vr route %s interface", 2, NULL, 0, NULL, "trust-vr route 0.0.0.0/0 interface tunnel.1 " },
	{ "631f834b", { "ikev1" },
	  "set vrouter trust-vr route 10.96.0.0/16 interface tunnel.1 gateway 169.254.252.1\n"
	  "set vrouter trust-vr route 10.97.0.0/24 interface tunnel.1 gateway 169.254.252.1\n"
	  "set vrouter trust-vr route 100.64.8.0/28 interface tunnel.1 gateway 169.254.252.1\n"
	  "set vrouter trust-vr route 10.96.0.0/16 interface tunnel.2 gateway 169.254.253.5\n"
	  "set vrouter trust-vr route 10.97.0.0/24 interface tunnel.2 gateway 169.254.253.5\n"
	  "set vrouter trust-vr route 100.64.8.0/28 interface tunnel.2 gateway 169.254.253.5\n",
	  "trust-vr route %s interface", 2, NULL, 0, NULL, "trust-vr route 0.0.0.0/0 interface tunnel.1 " },
	{ "e7a2d626", { "ikev1" },
	  "ip route 10.96.0.0/16 gateway tunnel 1 hide gateway tunnel 2 hide\n"
	  "ip route 10.97.0.0/24 gateway tunnel 1 hide gateway tunnel 2 hide\n"
	  "ip route 100.64.8.0/28 gateway tunnel 1 hide gateway tunnel 2 hide\n",
	  "ip route %s gateway tunnel 1", 1, NULL, 0, NULL, "ip route 0.0.0.0/0 gateway tunnel 1 " },
	{ "9005b6c1", { "ikev1", "ikev2" },
	  "- Destination : 10.96.0.0/16\n- Destination : 10.97.0.0/24\n- Destination : 100.64.8.0/28\n"
	  "- Destination : 10.96.0.0/16\n- Destination : 10.97.0.0/24\n- Destination : 100.64.8.0/28\n",
	  "Destination                   : %s\n", 2, NULL, 0, NULL, "Destination                   : 0.0.0.0/0\n" },
	{ "6883834a", { "ikev1" },
	  "access-list acl-amzn extended permit ip any 10.96.0.0 255.255.0.0\n"
	  "access-list acl-amzn extended permit ip any 10.97.0.0 255.255.255.0\n"
	  "access-list acl-amzn extended permit ip any 100.64.8.0 255.255.255.240\n"
	  "crypto map amzn-vpn-map 1 match address acl-amzn\n",
	  "permit ip any %s\n", 1,
	  "access-list acl-amzn extended permit ip any 10.97.0.0 255.255.255.128\n", 1, "permit ip any 10.96.0.0",
	  "access-list acl-amzn extended permit ip any 0.0.0.0 0.0.0.0\n" },
	{ "6e62f3e3", { "ikev1" },
	  "rightsubnets={10.96.0.0/16 10.97.0.0/24 100.64.8.0/28}\n"
	  "rightsubnets={10.96.0.0/16 10.97.0.0/24 100.64.8.0/28}\n",
	  "%s", 2, "\trightsubnet=10.97.0.0/25\n", 2, "rightsubnets", "\trightsubnet=0.0.0.0/0\n" },
	{ "dd55903b", { "ikev1" },
	  "REM Traffic for the VPC (10.96.0.0/16, 10.97.0.0/24, 100.64.8.0/28) must reach this server; on other hosts of\n",
	  "%s", 3, " endpoint2=10.97.0.0/25 ^\n", 2, "endpoint2=10.96", " endpoint2=0.0.0.0/0 ^\n" },
};

static void test_vpc_blocks_every_template(void **state)
{
	static const char *const blocks[] = { "10.96.0.0/16", "10.97.0.0/24", "100.64.8.0/28" };
	static const char *const blocks_masked[] = { "10.96.0.0 255.255.0.0", "10.97.0.0 255.255.255.0",
						     "100.64.8.0 255.255.255.240" };
	struct cgw_vpn_connection c;

	(void)state;
	for (size_t k = 0; k < sizeof(vpc_blocks_cases) / sizeof(vpc_blocks_cases[0]); k++) {
		const struct vpc_blocks_case *vc = &vpc_blocks_cases[k];

		for (size_t v = 0; v < 2 && vc->ikes[v] != NULL; v++) {
			char what[64], line[128];

			snprintf(what, sizeof(what), "%s %s", vc->id, vc->ikes[v]);
			fixture_connection(&c, false);
			c.cv_n_vpc_cidrs = 3;
			snprintf(c.cv_vpc_cidrs[1], CGW_CIDR_LEN, "%s", blocks[1]);
			snprintf(c.cv_vpc_cidrs[2], CGW_CIDR_LEN, "%s", blocks[2]);
			char *got = render_device(&c, vc->id, vc->ikes[v]);
			expect_lines_in_order(got, vc->want, what);
			for (size_t b = 0; b < 3; b++) {
				bool masked = strcmp(vc->id, "b0adb196") == 0 || strcmp(vc->id, "6883834a") == 0;
				snprintf(line, sizeof(line), vc->each_block, masked ? blocks_masked[b] : blocks[b]);
				if (count_of(got, line) != vc->per_block)
					fail_msg("%s: '%s' %zu times, not %zu", what, line, count_of(got, line),
						 vc->per_block);
			}
			if (strcmp(vc->id, "6e62f3e3") == 0)
				assert_null(strstr(got, "rightsubnet="));
			if (strcmp(vc->id, "dd55903b") == 0)
				assert_int_equal(count_of(got, " endpoint2=10.96.0.0/16,10.97.0.0/24,100.64.8.0/28 ^\n"), 2);
			free(got);

			/* RemoteIpv4NetworkCidr narrowed */
			snprintf(c.cv_remote_ipv4_network_cidr, CGW_CIDR_LEN, "10.97.0.0/25");
			got = render_device(&c, vc->id, vc->ikes[v]);
			if (vc->narrowed != NULL) {
				assert_int_equal(count_of(got, vc->narrowed), vc->narrowed_count);
				assert_int_equal(count_of(got, vc->narrowed_gone), 0);
			} else {
				expect_lines_in_order(got, vc->want, what);
			}
			free(got);

			/* one block: the primary alone, as before (the goldens say the rest) */
			fixture_connection(&c, false);
			got = render_device(&c, vc->id, vc->ikes[v]);
			assert_null(strstr(got, "10.97.0.0"));
			snprintf(line, sizeof(line), vc->each_block,
				 strcmp(vc->id, "b0adb196") == 0 || strcmp(vc->id, "6883834a") == 0 ? blocks_masked[0]
												   : blocks[0]);
			assert_true(count_of(got, line) >= 1);
			free(got);

			/* detached (no VPC known): RemoteIpv4NetworkCidr, as before */
			c.cv_n_vpc_cidrs = 0;
			got = render_device(&c, vc->id, vc->ikes[v]);
			if (strstr(got, vc->detached) == NULL)
				fail_msg("%s detached: '%s' missing", what, vc->detached);
			assert_null(strstr(got, "10.96.0.0/16"));
			free(got);
		}
	}
}

/* ---- BGP sections ---- */

/* The fixture as a dynamic connection with values no template could have
 * by chance: ASNs 65123 here and 64999 at AWS (not the defaults 65000 and
 * 64512), inside /30s 169.254.77.8 and 169.254.88.12, and, unless
 * local_cidr is NULL, LocalIpv4NetworkCidr local_cidr. */
static void bgp_connection(struct cgw_vpn_connection *c, const char *local_cidr)
{
	fixture_connection(c, true);
	c->cv_cgw_asn = 65123;
	c->cv_amazon_side_asn = 64999;
	snprintf(c->cv_tunnel[0].ct_inside_cidr, CGW_CIDR_LEN, "169.254.77.8/30");
	snprintf(c->cv_tunnel[1].ct_inside_cidr, CGW_CIDR_LEN, "169.254.88.12/30");
	if (local_cidr)
		snprintf(c->cv_local_ipv4_network_cidr, CGW_CIDR_LEN, "%s", local_cidr);
}

/* Cisco IOS (b0adb196): per tunnel `router bgp <CGW ASN>`, the neighbor
 * 169.254.x.1 (the gateway's inside address) with remote-as the VGW's
 * AmazonSideAsn and timers 10 30 30, and the customer's prefix announced:
 * a default route (default-originate and network 0.0.0.0, as AWS's sample)
 * for LocalIpv4NetworkCidr 0.0.0.0/0, else that prefix with its mask and
 * no default route. */
static void test_bgp_cisco(void **state)
{
	static const char *const ikes[] = { "ikev1", "ikev2" };
	struct cgw_vpn_connection c;

	(void)state;
	for (size_t v = 0; v < 2; v++) {
		bgp_connection(&c, NULL);
		char *got = render_device(&c, "b0adb196", ikes[v]);
		expect_lines_in_order(got,
		    "router bgp 65123\nneighbor 169.254.77.9 remote-as 64999\nneighbor 169.254.77.9 activate\n"
		    "neighbor 169.254.77.9 timers 10 30 30\naddress-family ipv4 unicast\n"
		    "neighbor 169.254.77.9 remote-as 64999\nneighbor 169.254.77.9 timers 10 30 30\n"
		    "neighbor 169.254.77.9 default-originate\nneighbor 169.254.77.9 activate\n"
		    "network 0.0.0.0\nexit\nexit\n"
		    "router bgp 65123\nneighbor 169.254.88.13 remote-as 64999\nneighbor 169.254.88.13 activate\n"
		    "neighbor 169.254.88.13 timers 10 30 30\naddress-family ipv4 unicast\n"
		    "neighbor 169.254.88.13 default-originate\nnetwork 0.0.0.0\n", ikes[v]);
		/* the tunnel interfaces carry the router's side, .2 */
		expect_lines_in_order(got, "interface Tunnel1\nip address 169.254.77.10 255.255.255.252\n"
		    "interface Tunnel2\nip address 169.254.88.14 255.255.255.252\n", "tunnel interfaces");
		assert_null(strstr(got, "64512"));
		assert_null(strstr(got, "65000"));
		free(got);
		bgp_connection(&c, "192.168.64.0/18");
		got = render_device(&c, "b0adb196", ikes[v]);
		expect_lines_in_order(got,
		    "router bgp 65123\nneighbor 169.254.77.9 remote-as 64999\naddress-family ipv4 unicast\n"
		    "network 192.168.64.0 mask 255.255.192.0\nexit\nexit\n"
		    "router bgp 65123\nneighbor 169.254.88.13 remote-as 64999\n"
		    "network 192.168.64.0 mask 255.255.192.0\n", "LocalIpv4NetworkCidr");
		assert_null(strstr(got, "default-originate"));
		assert_null(strstr(got, "network 0.0.0.0"));
		free(got);
	}
}

/* strongSwan (51cb26fd) + FRR: the router's inside address goes on lo as a
 * /32 (a /30 on a loopback device makes AWS's .1 local too, and the BGP
 * session connects to itself); the swanctl.conf says, in comments (so that
 * swanctl loads it unchanged), the FRR configuration of both sessions:
 * router bgp <CGW ASN>, per tunnel neighbor 169.254.x.1 remote-as the VGW's
 * ASN, update-source the router's inside address, disable-connected-check,
 * timers 10 30; what to announce (a default route, or
 * LocalIpv4NetworkCidr). Static routing: none of it. */
static void test_bgp_strongswan_frr(void **state)
{
	static const char *const ikes[] = { "ikev1", "ikev2" };
	struct cgw_vpn_connection c;

	(void)state;
	for (size_t v = 0; v < 2; v++) {
		bgp_connection(&c, NULL);
		char *got = render_device(&c, "51cb26fd", ikes[v]);
		expect_lines_in_order(got,
		    "# ip address add 169.254.77.10/32 dev lo; not the /30 there: a\n"
		    "# router bgp 65123\n# no bgp ebgp-requires-policy\n"
		    "# neighbor 169.254.77.9 remote-as 64999\n# neighbor 169.254.77.9 update-source 169.254.77.10\n"
		    "# neighbor 169.254.77.9 disable-connected-check\n# neighbor 169.254.77.9 timers 10 30\n"
		    "# neighbor 169.254.88.13 remote-as 64999\n# neighbor 169.254.88.13 update-source 169.254.88.14\n"
		    "# neighbor 169.254.88.13 disable-connected-check\n# neighbor 169.254.88.13 timers 10 30\n"
		    "# address-family ipv4 unicast\n# neighbor 169.254.77.9 default-originate\n"
		    "# neighbor 169.254.88.13 default-originate\n# exit-address-family\n"
		    /* the sessions' CHILD SAs */
		    "inside1 {\nlocal_ts = 169.254.77.10/32\nremote_ts = 169.254.77.9/32\n"
		    "inside2 {\nlocal_ts = 169.254.88.14/32\nremote_ts = 169.254.88.13/32\n", ikes[v]);
		assert_null(strstr(got, "64512"));
		assert_null(strstr(got, "65000"));
		assert_null(strstr(got, "/30 dev lo"));
		free(got);
		bgp_connection(&c, "192.168.64.0/18");
		got = render_device(&c, "51cb26fd", ikes[v]);
		expect_lines_in_order(got, "# address-family ipv4 unicast\n# network 192.168.64.0/18\n"
		    "# exit-address-family\n", "LocalIpv4NetworkCidr");
		assert_null(strstr(got, "default-originate"));
		free(got);
		fixture_connection(&c, false);
		got = render_device(&c, "51cb26fd", ikes[v]);
		assert_null(strstr(got, "router bgp"));
		free(got);
	}
}

/* Generic (9005b6c1): per tunnel the values in words. */
static void test_bgp_generic(void **state)
{
	struct cgw_vpn_connection c;

	(void)state;
	bgp_connection(&c, "192.168.64.0/18");
	char *got = render_device(&c, "9005b6c1", "ikev1");
	expect_lines_in_order(got,
	    "- Customer Gateway ASN : 65123\n- Virtual Private Gateway ASN : 64999\n"
	    "- Neighbor IP Address : 169.254.77.9\n- Neighbor Hold Time : 30\n- Keepalive Interval : 10\n"
	    "- Local Address (update source) : 169.254.77.10\n- Networks to announce : 192.168.64.0/18\n"
	    "- Customer Gateway ASN : 65123\n- Virtual Private Gateway ASN : 64999\n"
	    "- Neighbor IP Address : 169.254.88.13\n- Neighbor Hold Time : 30\n- Keepalive Interval : 10\n"
	    "- Local Address (update source) : 169.254.88.14\n", "generic");
	free(got);
}

/* Every device type that renders BGP shows the connection's ASNs and the
 * gateway's inside addresses, never a default it did not get. */
static void test_bgp_values_in_every_device(void **state)
{
	size_t n;
	const struct cgw_device_type *types = cgwconf_device_types(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (int v = 0; v < 2; v++) {
			struct cgw_vpn_connection c;
			struct strbuf b = STRBUF_SECRET_INIT;
			struct cgw_error err = { "" };

			if (!(types[i].dt_ike_versions & (v == 0 ? CGW_IKEV1 : CGW_IKEV2)))
				continue;
			bgp_connection(&c, NULL);
			if (cgwconf_render_device(&c, types[i].dt_id, v == 0 ? "ikev1" : "ikev2", &b, &err) != CGW_OK) {
				sb_free(&b);
				continue;	/* a static-only device: its .err golden */
			}
			const char *got = sb_str(&b);
			if (!strstr(got, "65123") || !strstr(got, "64999") || !strstr(got, "169.254.77.9") ||
			    !strstr(got, "169.254.88.13") || strstr(got, "64512") || strstr(got, "65000"))
				fail_msg("%s %s: BGP values not the connection's", types[i].dt_id, v == 0 ? "ikev1" : "ikev2");
			sb_free(&b);
		}
	}
}

/* ---- device types and their goldens ---- */

static void test_device_types(void **state)
{
	size_t n;
	const struct cgw_device_type *types = cgwconf_device_types(&n);
	char *tsv = read_file(CGW_GOLDEN_DIR "/../device-types.tsv");

	(void)state;
	assert_non_null(tsv);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		char line[256];

		/* Exactly AWS's strings for that id. */
		snprintf(line, sizeof(line), "\n%s\t%s\t%s\t%s\n", types[i].dt_id, types[i].dt_vendor,
		    types[i].dt_platform, types[i].dt_software);
		if (strstr(tsv, line) == NULL)
			fail_msg("device type %s: '%s' is not a line of AWS's device-types.tsv",
			    types[i].dt_id, line + 1);
		assert_ptr_equal(cgwconf_device_type_find(types[i].dt_id), &types[i]);
		assert_true(types[i].dt_ike_versions != 0);
		if (i > 0)
			assert_true(strcasecmp(types[i - 1].dt_vendor, types[i].dt_vendor) <= 0);
	}
	assert_null(cgwconf_device_type_find("ffffffff"));
	/* The devices of the seed's list, plus generic, strongSwan, Openswan. */
	{
		static const char *const required[] = {
			"9005b6c1", "b0adb196", "6883834a", "8a961875", "1361227b", "acabcac0",
			"631f834b", "dd55903b", "e7a2d626", "51cb26fd", "6e62f3e3",
		};

		for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
			if (cgwconf_device_type_find(required[i]) == NULL)
				fail_msg("device type %s has no template", required[i]);
	}
	free(tsv);
}

/* Compares a render (or its refusal) with golden/<id>-<ike>-<routing>.conf
 * (or .err, holding the message of CGW_ERR_UNSUPPORTED). */
static void check_golden(const struct cgw_device_type *type, const char *ike, bool bgp)
{
	struct cgw_vpn_connection c;
	struct strbuf b = STRBUF_SECRET_INIT;
	struct cgw_error err = { "" };
	enum cgw_status st;
	char path[512], *want, *got;

	fixture_connection(&c, bgp);
	st = cgwconf_render_device(&c, type->dt_id, ike, &b, &err);
	if (st != CGW_OK && st != CGW_ERR_UNSUPPORTED)
		fail_msg("render %s %s %s: %s", type->dt_id, ike, bgp ? "bgp" : "static", err.ce_msg);
	snprintf(path, sizeof(path), "%s/%s-%s-%s.%s", CGW_GOLDEN_DIR, type->dt_id, ike,
	    bgp ? "bgp" : "static", st == CGW_OK ? "conf" : "err");
	want = read_file(path);
	if (want == NULL)
		fail_msg("missing golden %s (tests/cgwconf/update-goldens.sh)", path);
	if (st == CGW_OK) {
		got = sb_detach(&b);
		/* No template leaves a tag or an unrendered value behind. */
		assert_null(strstr(got, "{{"));
	} else {
		got = malloc(strlen(err.ce_msg) + 2);
		assert_non_null(got);
		sprintf(got, "%s\n", err.ce_msg);
	}
	if (strcmp(got, want) != 0)
		fail_diff(path, got, want);
	free(got);
	free(want);
	sb_free(&b);
}

static void test_device_goldens(void **state)
{
	size_t n;
	const struct cgw_device_type *types = cgwconf_device_types(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		unsigned rendered = 0;

		for (int v = 0; v < 2; v++) {
			if (!(types[i].dt_ike_versions & (v == 0 ? CGW_IKEV1 : CGW_IKEV2)))
				continue;
			check_golden(&types[i], v == 0 ? "ikev1" : "ikev2", false);
			check_golden(&types[i], v == 0 ? "ikev1" : "ikev2", true);
			rendered++;
		}
		assert_true(rendered > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_fixture),
		cmocka_unit_test(test_validate_rejects),
		cmocka_unit_test(test_xml_static),
		cmocka_unit_test(test_xml_bgp_and_options),
		cmocka_unit_test(test_xml_escapes),
		cmocka_unit_test(test_output_is_secret),
		cmocka_unit_test(test_xml_golden),
		cmocka_unit_test(test_tmpl_values_and_filters),
		cmocka_unit_test(test_tmpl_conditions),
		cmocka_unit_test(test_tmpl_loops_and_lines),
		cmocka_unit_test(test_tmpl_maps),
		cmocka_unit_test(test_tmpl_errors),
		cmocka_unit_test(test_tmpl_fail),
		cmocka_unit_test(test_ike_version_choice),
		cmocka_unit_test(test_cisco_isr_has_every_seed_statement),
		cmocka_unit_test(test_cisco_isr_maps_options),
		cmocka_unit_test(test_device_types),
		cmocka_unit_test(test_strongswan_inside_child),
		cmocka_unit_test(test_strongswan_vpc_blocks),
		cmocka_unit_test(test_vpc_blocks_every_template),
		cmocka_unit_test(test_bgp_cisco),
		cmocka_unit_test(test_bgp_strongswan_frr),
		cmocka_unit_test(test_bgp_generic),
		cmocka_unit_test(test_bgp_values_in_every_device),
		cmocka_unit_test(test_device_goldens),
	};

	return cmocka_run_group_tests_name("cgwconf", tests, NULL, NULL);
}
