/*
 * test_xml.c — src/cli/xml.c and ec2_response.c: what the strict parser
 * accepts and refuses, and how EC2 answers (recorded shapes from vpcd and
 * AWS's documentation) become docs keyed by botocore member names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cli/ec2_response.h"
#include "cli/xml.h"

static struct xml_node *parse_ok(const char *s)
{
	char err[200];
	struct xml_node *n = xml_parse(s, strlen(s), err, sizeof(err));
	if (!n)
		fail_msg("refused: %s: %s", s, err);
	return n;
}

static void refused(const char *s, const char *why)
{
	char err[200];
	struct xml_node *n = xml_parse(s, strlen(s), err, sizeof(err));
	if (n) {
		xml_free(n);
		fail_msg("accepted: %s", s);
	}
	if (why && !strstr(err, why))
		fail_msg("'%s': reason '%s' lacks '%s'", s, err, why);
}

static void test_xml_elements_text_entities(void **state)
{
	(void)state;
	struct xml_node *n = parse_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				      "<!-- c --><a x='1' y=\"&lt;2&gt;\">\n  <b>t &amp; &#65;&#x42;&#x3042;</b>"
				      "<c/><d><![CDATA[<raw>&]]></d>\n</a>\n");
	assert_string_equal(n->x_name, "a");
	assert_int_equal(n->x_nchildren, 3);
	assert_string_equal(xml_attr(n, "x"), "1");
	assert_string_equal(xml_attr(n, "y"), "<2>");
	assert_string_equal(xml_child_text(n, "b"), "t & AB\xE3\x81\x82");
	assert_string_equal(xml_child_text(n, "c"), "");
	assert_string_equal(xml_child_text(n, "d"), "<raw>&");
	assert_string_equal(n->x_text, "");
	assert_null(xml_child(n, "e"));
	xml_free(n);
}

static void test_xml_refusals(void **state)
{
	(void)state;
	refused("", "root");
	refused("<a>", "not closed");
	refused("<a></b>", "closes");
	refused("<a><b></a></b>", "closes");
	refused("<a/><b/>", "after the root");
	refused("<a>x<b/></a>", "mixes");
	refused("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "DOCTYPE");
	refused("<a><!DOCTYPE x></a>", "DOCTYPE");
	refused("<a>&e;</a>", "unknown entity");
	refused("<a>&amp</a>", "reference");
	refused("<a>&#0;</a>", "non-character");
	refused("<a>&#xD800;</a>", "non-character");
	refused("<a>&#x110000;</a>", "out of range");
	refused("<a x=1/>", "quoted");
	refused("<a x='1' x='2'/>", "twice");
	refused("<a x='<'/>", "'<'");
	refused("<a>\x01</a>", "control");
	refused("<1a/>", "name");
	refused("<a><!-- a -- b --></a>", "--");
	char nul[] = "<a>x\0</a>";
	char err[100];
	assert_null(xml_parse(nul, sizeof(nul) - 1, err, sizeof(err)));
}

static void test_xml_depth_bound(void **state)
{
	(void)state;
	char deep[2 * 6 * (XML_MAX_DEPTH + 2) + 1];
	size_t n = 0;
	for (int i = 0; i < XML_MAX_DEPTH + 1; i++)
		n += (size_t)sprintf(deep + n, "<a>");
	for (int i = 0; i < XML_MAX_DEPTH + 1; i++)
		n += (size_t)sprintf(deep + n, "</a>");
	refused(deep, "deeper");
	/* exactly the bound is fine */
	n = 0;
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		n += (size_t)sprintf(deep + n, "<a>");
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		n += (size_t)sprintf(deep + n, "</a>");
	xml_free(parse_ok(deep));
}

static void test_xml_truncations_never_crash(void **state)
{
	(void)state;
	const char *full = "<?xml version=\"1.0\"?><R a=\"&amp;\"><x>&#x41;</x><![CDATA[]]><!--c--></R>";
	char err[100];
	for (size_t len = 0; len < strlen(full); len++) {
		struct xml_node *n = xml_parse(full, len, err, sizeof(err));
		assert_null(n);
	}
}

/* What vpcd answers to DescribeVpcs (shape as AWS's). */
static const char describe_vpcs[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	"<requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>"
	"<vpcSet><item><vpcId>vpc-1a2b3c4d</vpcId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock>"
	"<tagSet><item><key>Name</key><value>office &amp; lab</value></item></tagSet>"
	"<instanceTenancy>default</instanceTenancy><isDefault>false</isDefault></item>"
	"<item><vpcId>vpc-2</vpcId><isDefault>true</isDefault><tagSet/></item></vpcSet>"
	"</DescribeVpcsResponse>";

static void test_ec2_model_driven(void **state)
{
	(void)state;
	struct ec2_error err;
	struct doc *d = ec2_response_parse("DescribeVpcs", 200, describe_vpcs, strlen(describe_vpcs), &err);
	assert_non_null(d);
	assert_null(doc_get(d, "RequestId"));
	struct doc *vpcs = doc_get(d, "Vpcs");
	assert_non_null(vpcs);
	assert_int_equal(vpcs->d_type, DOC_LIST);
	assert_int_equal(vpcs->d_count, 2);
	struct doc *v = vpcs->d_first;
	assert_string_equal(doc_get_str(v, "VpcId"), "vpc-1a2b3c4d");
	assert_string_equal(doc_get_str(v, "CidrBlock"), "10.0.0.0/16");
	assert_int_equal(doc_get(v, "IsDefault")->d_type, DOC_BOOL);
	assert_false(doc_get_bool(v, "IsDefault", true));
	struct doc *tags = doc_get(v, "Tags");
	assert_int_equal(tags->d_type, DOC_LIST);
	assert_string_equal(doc_get_str(tags->d_first, "Value"), "office & lab");
	/* an empty set is an empty list, never a string */
	assert_int_equal(doc_get(v->d_next, "Tags")->d_type, DOC_LIST);
	assert_int_equal(doc_get(v->d_next, "Tags")->d_count, 0);
	doc_free(d);
}

static void test_ec2_integers_typed(void **state)
{
	(void)state;
	const char *x = "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-1</subnetId>"
			"<availableIpAddressCount>251</availableIpAddressCount></item></subnetSet>"
			"</DescribeSubnetsResponse>";
	struct ec2_error err;
	struct doc *d = ec2_response_parse("DescribeSubnets", 200, x, strlen(x), &err);
	assert_non_null(d);
	struct doc *s = doc_get(d, "Subnets")->d_first;
	assert_int_equal(doc_get(s, "AvailableIpAddressCount")->d_type, DOC_INT);
	assert_int_equal(doc_get_int(s, "AvailableIpAddressCount", 0), 251);
	doc_free(d);

	const char *bad = "<DescribeSubnetsResponse><subnetSet><item>"
			  "<availableIpAddressCount>many</availableIpAddressCount></item></subnetSet>"
			  "</DescribeSubnetsResponse>";
	assert_null(ec2_response_parse("DescribeSubnets", 200, bad, strlen(bad), &err));
	assert_string_equal(err.e_code, "MalformedResponse");
	assert_non_null(strstr(err.e_message, "not an integer"));
}

static void test_ec2_errors(void **state)
{
	(void)state;
	const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
			"<Code>InvalidVpcID.NotFound</Code><Message>The vpc ID 'vpc-1' does not exist</Message>"
			"</Error></Errors><RequestID>r-1</RequestID></Response>";
	struct ec2_error err;
	assert_null(ec2_response_parse("DeleteVpc", 400, x, strlen(x), &err));
	assert_int_equal(err.e_http_status, 400);
	assert_string_equal(err.e_code, "InvalidVpcID.NotFound");
	assert_string_equal(err.e_message, "The vpc ID 'vpc-1' does not exist");

	const char *auth = "<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate "
			   "the provided access credentials</Message></Error></Errors></Response>";
	assert_null(ec2_response_parse("DescribeVpcs", 401, auth, strlen(auth), &err));
	assert_string_equal(err.e_code, "AuthFailure");

	const char *other = "<ErrorResponse><Error><Code>Throttling</Code><Message>slow down</Message></Error>"
			    "</ErrorResponse>";
	assert_null(ec2_response_parse("DescribeVpcs", 400, other, strlen(other), &err));
	assert_string_equal(err.e_code, "Throttling");

	assert_null(ec2_response_parse("DescribeVpcs", 502, "Bad Gateway", 11, &err));
	assert_string_equal(err.e_code, "HttpError");
	assert_null(ec2_response_parse("DescribeVpcs", 200, "{}", 2, &err));
	assert_string_equal(err.e_code, "MalformedResponse");
	const char *wrong = "<DeleteVpcResponse><return>true</return></DeleteVpcResponse>";
	assert_null(ec2_response_parse("DescribeVpcs", 200, wrong, strlen(wrong), &err));
	assert_string_equal(err.e_code, "MalformedResponse");
}

static void test_ec2_generic_without_model(void **state)
{
	(void)state;
	/* an action outside the tables: converted by shape */
	const char *x = "<FrobnicateResponse><requestId>r</requestId><widgetSet><item><widgetId>w-1</widgetId>"
			"<count>3</count></item></widgetSet><owner><name>me</name></owner><emptySet/>"
			"</FrobnicateResponse>";
	struct ec2_error err;
	struct doc *d = ec2_response_parse("Frobnicate", 200, x, strlen(x), &err);
	assert_non_null(d);
	assert_null(doc_get(d, "RequestId"));
	struct doc *w = doc_get(d, "WidgetSet");
	assert_int_equal(w->d_type, DOC_LIST);
	assert_string_equal(doc_get_str(w->d_first, "WidgetId"), "w-1");
	assert_string_equal(doc_get_str(w->d_first, "Count"), "3");
	assert_string_equal(doc_get_str(doc_get(d, "Owner"), "Name"), "me");
	assert_int_equal(doc_get(d, "EmptySet")->d_type, DOC_LIST);
	doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_elements_text_entities),
		cmocka_unit_test(test_xml_refusals),
		cmocka_unit_test(test_xml_depth_bound),
		cmocka_unit_test(test_xml_truncations_never_crash),
		cmocka_unit_test(test_ec2_model_driven),
		cmocka_unit_test(test_ec2_integers_typed),
		cmocka_unit_test(test_ec2_errors),
		cmocka_unit_test(test_ec2_generic_without_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
