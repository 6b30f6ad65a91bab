/*
 * test_wire_parse — the request side of wire.c under hostile input: names
 * of 300,000 dotted parts, more parameters than accepted, lists indexed
 * beyond what the model allows, nested gaps that would build millions of
 * empty items, bytes that are not UTF-8 text; each refused with its own
 * error, quickly, without recursion deep enough to matter. And the
 * response side: whatever bytes a stored value holds, the XML written is
 * well-formed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "api/wire.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct outcome {
	struct doc *doc;
	char code[64], msg[512];
	double seconds;
};

/* Parses body as action's parameters (Action and Version included). */
static struct outcome parse(const char *action, const char *body, size_t len)
{
	struct outcome o = { 0 };
	struct query_params q;
	assert_int_equal(query_parse(body, len, 1u << 30, &q), QUERY_OK);
	double t0 = now_s();
	o.doc = wire_parse_request(ec2_operation_find(action), &q, o.code, sizeof(o.code), o.msg, sizeof(o.msg));
	o.seconds = now_s() - t0;
	query_free(&q);
	return o;
}

static void test_deep_name(void **state)
{
	(void)state;
	/* a.a.a...=1 with 300,000 parts, under 1 MiB */
	size_t parts = 300000, len = parts * 2 + 1;
	char *body = malloc(len + 1);
	for (size_t i = 0; i < parts; i++)
		memcpy(body + 2 * i, "a.", 2);
	memcpy(body + len - 3, "a=1", 4);
	struct outcome o = parse("DescribeVpcs", body, strlen(body));
	assert_null(o.doc);
	assert_string_equal(o.code, "InvalidParameterValue");
	assert_non_null(strstr(o.msg, "more than 16 parts"));
	assert_true(o.seconds < 0.5);
	free(body);
	/* the deepest name the model has still parses */
	const char *ok = "CustomerGatewayId=cgw-1&Type=ipsec.1&VpnGatewayId=vgw-1"
			 "&Options.TunnelOptions.2.Phase1EncryptionAlgorithm.1.Value=AES128";
	o = parse("CreateVpnConnection", ok, strlen(ok));
	assert_non_null(o.doc);
	doc_free(o.doc);
}

static void test_too_many_parameters(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 1; i <= 4097; i++)
		sb_printf(&sb, "%sFilter.%d.Name=vpc-id", i > 1 ? "&" : "", i);
	struct query_params q;
	assert_int_equal(query_parse(sb.sb_data, sb.sb_len, 4096, &q), QUERY_TOO_MANY);
	query_free(&q);
	assert_int_equal(query_parse(sb.sb_data, sb.sb_len, 4097, &q), QUERY_OK);
	assert_int_equal(q.qp_count, 4097);
	query_free(&q);
	assert_int_equal(query_parse("a=%zz", 5, 10, &q), QUERY_BAD_ENCODING);
	query_free(&q);
	assert_int_equal(query_parse("a=%00", 5, 10, &q), QUERY_BAD_ENCODING);
	query_free(&q);
	/* one by one, as the URL's arguments are collected */
	memset(&q, 0, sizeof(q));
	for (int i = 0; i < 4096; i++)
		assert_int_equal(query_add(&q, "a", "b", 4096), QUERY_OK);
	assert_int_equal(query_add(&q, "a", "b", 4096), QUERY_TOO_MANY);
	query_free(&q);
	sb_free(&sb);
}

/* CreateVpnConnection: 585 tunnels with lists whose items are at index
 * 1000 (248 KB that took 2.9 s and 460 MB): refused at the third tunnel. */
static void test_nested_list_gaps(void **state)
{
	(void)state;
	static const char *lists[] = { "Phase1EncryptionAlgorithm", "Phase2EncryptionAlgorithm",
				       "Phase1IntegrityAlgorithm", "Phase2IntegrityAlgorithm",
				       "Phase1DHGroupNumber", "Phase2DHGroupNumber", "IKEVersion" };
	struct strbuf sb = STRBUF_INIT;
	sb_puts(&sb, "CustomerGatewayId=cgw-1&Type=ipsec.1&VpnGatewayId=vgw-1");
	for (int t = 1; t <= 585; t++)
		for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
			sb_printf(&sb, "&Options.TunnelOptions.%d.%s.1000.Value=2", t, lists[l]);
	assert_true(sb.sb_len > 200000);
	struct outcome o = parse("CreateVpnConnection", sb.sb_data, sb.sb_len);
	assert_null(o.doc);
	assert_string_equal(o.code, "InvalidParameterValue");
	assert_non_null(strstr(o.msg, "Options.TunnelOptions.3"));
	assert_true(o.seconds < 0.2);
	sb_free(&sb);

	/* two tunnels with every list at index 1000: allowed, and bounded */
	sb_puts(&sb, "CustomerGatewayId=cgw-1&Type=ipsec.1&VpnGatewayId=vgw-1");
	for (int t = 1; t <= 2; t++)
		for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
			sb_printf(&sb, "&Options.TunnelOptions.%d.%s.1000.Value=2", t, lists[l]);
	o = parse("CreateVpnConnection", sb.sb_data, sb.sb_len);
	assert_non_null(o.doc);
	assert_true(o.seconds < 0.2);
	doc_free(o.doc);
	sb_free(&sb);

	/* 1,000 tag specifications, each with a tag at index 1000: a million
	 * empty items, stopped by the element bound */
	sb_puts(&sb, "CidrBlock=10.0.0.0/16");
	for (int t = 1; t <= 1000; t++)
		sb_printf(&sb, "&TagSpecification.%d.Tag.1000.Key=k", t);
	o = parse("CreateVpc", sb.sb_data, sb.sb_len);
	assert_null(o.doc);
	assert_string_equal(o.code, "InvalidParameterValue");
	assert_non_null(strstr(o.msg, "parameter elements"));
	assert_true(o.seconds < 0.2);
	sb_free(&sb);

	/* an index beyond the gap bound, and one that is no index */
	o = parse("CreateVpc", "CidrBlock=10.0.0.0/16&TagSpecification.1001.Tag.1.Key=k", 55);
	assert_null(o.doc);
	assert_string_equal(o.code, "InvalidParameterValue");
	o = parse("DescribeVpcs", "VpcId.01=vpc-1", 14);
	assert_null(o.doc);
	assert_string_equal(o.code, "InvalidParameterValue");
}

static void test_many_siblings(void **state)
{
	(void)state;
	/* 4,000 list items: the tree is built in O(parameters) */
	struct strbuf sb = STRBUF_INIT;
	for (int i = 1; i <= 4000; i++)
		sb_printf(&sb, "%sVpcId.%d=vpc-%d", i > 1 ? "&" : "", i, i);
	struct outcome o = parse("DescribeVpcs", sb.sb_data, sb.sb_len);
	assert_non_null(o.doc);
	const struct doc *ids = doc_get(o.doc, "VpcIds");
	assert_int_equal(ids->d_count, 4000);
	assert_string_equal(ids->d_first->d_str, "vpc-1");
	assert_true(o.seconds < 0.2);
	doc_free(o.doc);
	sb_free(&sb);
	/* a name given twice; an unknown name, shown printable */
	o = parse("DescribeVpcs", "VpcId.1=a&VpcId.1=b", 19);
	assert_null(o.doc);
	assert_non_null(strstr(o.msg, "given twice"));
	o = parse("DescribeVpcs", "Vpc%01Id.1=a", 12);
	assert_null(o.doc);
	assert_string_equal(o.code, "UnknownParameter");
	assert_string_equal(o.msg, "The parameter Vpc?Id is not recognized");
}

static const char *tag_value_code(const char *escaped_value)
{
	static struct outcome o;
	char body[256];
	snprintf(body, sizeof(body), "ResourceId.1=vpc-1&Tag.1.Key=k&Tag.1.Value=%s", escaped_value);
	o = parse("CreateTags", body, strlen(body));
	if (o.doc) {
		doc_free(o.doc);
		return "ok";
	}
	return o.code;
}

static void test_text_validated(void **state)
{
	(void)state;
	assert_string_equal(tag_value_code("plain"), "ok");
	assert_string_equal(tag_value_code("%C3%A9t%C3%A9+%E6%97%A5%F0%9F%98%80"), "ok");	/* été 日 😀 */
	assert_string_equal(tag_value_code("a%09b%0Ac%0Dd"), "ok");	/* tab, LF, CR */
	assert_string_equal(tag_value_code("%FF%FE"), "InvalidParameterValue");
	assert_string_equal(tag_value_code("%01"), "InvalidParameterValue");
	assert_string_equal(tag_value_code("a%1Bb"), "InvalidParameterValue");	/* ESC */
	assert_string_equal(tag_value_code("%7F"), "InvalidParameterValue");	/* DEL */
	assert_string_equal(tag_value_code("%C2%85"), "InvalidParameterValue");	/* NEL, C1 */
	assert_string_equal(tag_value_code("%C0%AF"), "InvalidParameterValue");	/* overlong */
	assert_string_equal(tag_value_code("%ED%A0%80"), "InvalidParameterValue");	/* a surrogate */
	assert_string_equal(tag_value_code("%EF%BF%BE"), "InvalidParameterValue");	/* U+FFFE */
	assert_string_equal(tag_value_code("%F4%90%80%80"), "InvalidParameterValue");	/* > U+10FFFF */
	assert_string_equal(tag_value_code("%E6%97"), "InvalidParameterValue");	/* cut short */
	/* an integer's value is shown printable */
	struct outcome o = parse("DescribeVpcs", "MaxResults=%FF%01x", 18);
	assert_null(o.doc);
	assert_string_equal(o.msg, "Invalid value '??x' for MaxResults: expecting an integer");
}

static void test_xml_always_well_formed(void **state)
{
	(void)state;
	/* as an older vpcd may have stored it */
	struct doc *out = doc_obj();
	struct doc *tags = doc_set(out, "Tags", doc_list());
	struct doc *t = doc_push(tags, doc_obj());
	doc_set_str(t, "Key", "k\x01<");
	doc_set_str(t, "Value", "\xff\xfe" "a\r\n\t\xe6\x97\xa5\xe6\x97" "b\xc0\xaf\x7f");
	struct strbuf x = STRBUF_INIT;
	wire_write_response(ec2_operation_find("DescribeTags"), out, "rid", &x);
	assert_non_null(strstr(sb_str(&x), "<key>k\xef\xbf\xbd&lt;</key>"));
	assert_non_null(strstr(sb_str(&x), "<value>\xef\xbf\xbd\xef\xbf\xbd" "a&#13;\n\t\xe6\x97\xa5\xef\xbf\xbd\xef\xbf\xbd"
					   "b\xef\xbf\xbd\xef\xbf\xbd\x7f</value>"));
	sb_free(&x);
	/* sb_xml_escape (errors) writes the same */
	sb_xml_escape(&x, "\xff\xfe" "a\r\n\t\xe6\x97\xa5\xe6\x97" "b\xc0\xaf\x7f");
	assert_string_equal(sb_str(&x), "\xef\xbf\xbd\xef\xbf\xbd" "a&#13;\n\t\xe6\x97\xa5\xef\xbf\xbd\xef\xbf\xbd"
					 "b\xef\xbf\xbd\xef\xbf\xbd\x7f");
	sb_free(&x);
	wire_write_error("InvalidParameterValue", "bad \x01\xff", "rid", &x);
	assert_non_null(strstr(sb_str(&x), "<Message>bad \xef\xbf\xbd\xef\xbf\xbd</Message>"));
	sb_free(&x);
	doc_free(out);
	char shown[8];
	assert_string_equal(wire_printable("ab\x01\xff" "cdefgh", shown, sizeof(shown)), "ab??cde");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deep_name),
		cmocka_unit_test(test_too_many_parameters),
		cmocka_unit_test(test_nested_list_gaps),
		cmocka_unit_test(test_many_siblings),
		cmocka_unit_test(test_text_validated),
		cmocka_unit_test(test_xml_always_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
