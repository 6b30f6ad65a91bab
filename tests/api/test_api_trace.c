/*
 * test_api_trace.c — api_trace() over a cache holding the docs the API
 * stores (src/api/trace.c): the seed's VPC with a private subnet routed to
 * the VPN gateway, a public one routed to the internet gateway, a VPN
 * connection whose telemetry says UP, and two instances' ENIs. Checks that
 * the builder reads each layout (routes and propagated routes, ACL
 * entries, security group rules by CIDR and by group, ENIs, telemetry)
 * and that ids and addresses are resolved as vpcctl passes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/trace.h"

static int64_t ord;

static void put(struct cache *c, const char *type, const char *id, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	assert_non_null(d);
	doc_free(cache_put(c, type, id, ++ord, d));
}

static struct cache *seed_cache(const char *main_default_route, const char *tunnel_status)
{
	struct cache *c = cache_new();
	put(c, "vpc", "vpc-1", "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.0.0/16\"}");
	put(c, "subnet", "subnet-pub", "{\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-1\",\"CidrBlock\":\"10.96.0.0/24\"}");
	put(c, "subnet", "subnet-priv", "{\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-1\",\"CidrBlock\":\"10.96.1.0/24\"}");
	put(c, "internet-gateway", "igw-1", "{\"InternetGatewayId\":\"igw-1\",\"Attachments\":[{\"State\":\"available\",\"VpcId\":\"vpc-1\"}]}");
	put(c, "vpn-gateway", "vgw-1", "{\"VpnGatewayId\":\"vgw-1\",\"VpcAttachments\":[{\"State\":\"attached\",\"VpcId\":\"vpc-1\"}]}");
	char vpn[512];
	snprintf(vpn, sizeof(vpn),
		 "{\"VpnConnectionId\":\"vpn-1\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"available\","
		 "\"VgwTelemetry\":[{\"Status\":\"%s\"},{\"Status\":\"DOWN\"}],"
		 "\"Routes\":[{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"Source\":\"Static\"}]}", tunnel_status);
	put(c, "vpn-connection", "vpn-1", vpn);
	char rtb[512];
	snprintf(rtb, sizeof(rtb),
		 "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
		 "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-1\"}],"
		 "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"}%s],"
		 "\"PropagatingVgws\":[]}", main_default_route);
	put(c, "route-table", "rtb-main", rtb);
	put(c, "route-table", "rtb-pub",
	    "{\"RouteTableId\":\"rtb-pub\",\"VpcId\":\"vpc-1\","
	    "\"Associations\":[{\"Main\":false,\"SubnetId\":\"subnet-pub\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"igw-1\",\"State\":\"active\"}]}");
	put(c, "network-acl", "acl-1",
	    "{\"NetworkAclId\":\"acl-1\",\"VpcId\":\"vpc-1\",\"IsDefault\":true,"
	    "\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"deny\",\"RuleNumber\":32767},"
	    "{\"CidrBlock\":\"10.0.0.0/24\",\"Egress\":false,\"Protocol\":\"6\",\"RuleAction\":\"deny\",\"RuleNumber\":90,"
	    "\"PortRange\":{\"From\":23,\"To\":23}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"deny\",\"RuleNumber\":32767}]}");
	put(c, "security-group", "sg-web", "{\"GroupId\":\"sg-web\",\"VpcId\":\"vpc-1\",\"GroupName\":\"web\"}");
	put(c, "security-group", "sg-db", "{\"GroupId\":\"sg-db\",\"VpcId\":\"vpc-1\",\"GroupName\":\"db\"}");
	put(c, "security-group-rule", "sgr-ssh",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":23,\"CidrIpv4\":\"10.0.0.0/24\"}");
	put(c, "security-group-rule", "sgr-ping",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"icmp\",\"FromPort\":-1,\"ToPort\":-1,\"CidrIpv4\":\"10.0.0.0/24\"}");
	put(c, "security-group-rule", "sgr-web-out",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":true,\"IpProtocol\":\"-1\",\"FromPort\":-1,\"ToPort\":-1,\"CidrIpv4\":\"0.0.0.0/0\"}");
	put(c, "security-group-rule", "sgr-pg",
	    "{\"GroupId\":\"sg-db\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":5432,\"ToPort\":5432,"
	    "\"ReferencedGroupInfo\":{\"GroupId\":\"sg-web\",\"UserId\":\"123456789012\"}}");
	put(c, "security-group-rule", "sgr-db-out",
	    "{\"GroupId\":\"sg-db\",\"IsEgress\":true,\"IpProtocol\":\"-1\",\"FromPort\":-1,\"ToPort\":-1,\"CidrIpv4\":\"0.0.0.0/0\"}");
	put(c, "network-interface", "eni-a",
	    "{\"NetworkInterfaceId\":\"eni-a\",\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.1.4\","
	    "\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-web\",\"GroupName\":\"web\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-a\",\"DeviceIndex\":0,\"Status\":\"attached\"}}");
	put(c, "network-interface", "eni-b",
	    "{\"NetworkInterfaceId\":\"eni-b\",\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.1.5\","
	    "\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-db\",\"GroupName\":\"db\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-b\",\"DeviceIndex\":0,\"Status\":\"attached\"}}");
	put(c, "network-interface", "eni-p",
	    "{\"NetworkInterfaceId\":\"eni-p\",\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.0.4\","
	    "\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-web\",\"GroupName\":\"web\"}],"
	    "\"Association\":{\"PublicIp\":\"198.51.100.4\",\"IpOwnerId\":\"amazon\"}}");
	put(c, "instance", "i-a", "{\"InstanceId\":\"i-a\"}");
	put(c, "instance", "i-gone", "{\"InstanceId\":\"i-gone\"}");
	return c;
}

static const struct trace_step *last_step(const struct trace_result *r)
{
	assert_true(r->tr_nsteps > 0);
	return &r->tr_steps[r->tr_nsteps - 1];
}

static void test_office_to_instance(void **state)
{
	(void)state;
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}", "UP");
	struct trace_result r;
	char err[200];
	struct api_trace_query q = { "10.0.0.5", "i-a", "tcp", 22, 0 };
	assert_int_equal(api_trace(c, &q, &r, err, sizeof(err)), 0);
	assert_true(r.tr_reachable);
	/* ICMP echo by default */
	struct api_trace_query ping = { "10.0.0.5", "10.96.1.4", "icmp", -1, 0 };
	assert_int_equal(api_trace(c, &ping, &r, err, sizeof(err)), 0);
	assert_true(r.tr_reachable);
	/* the NACL entry with a port range is read: 23 is denied by rule 90 */
	q.aq_port = 23;
	api_trace(c, &q, &r, err, sizeof(err));
	assert_int_equal(r.tr_cause, TRACE_NACL_IN);
	assert_string_equal(last_step(&r)->ts_rule, "90");
	/* and the group referenced by a rule */
	struct api_trace_query pg = { "i-a", "eni-b", "tcp", 5432, 0 };
	api_trace(c, &pg, &r, err, sizeof(err));
	assert_true(r.tr_reachable);
	struct doc *d = api_trace_doc(&r);
	assert_true(doc_get_bool(d, "Reachable", false));
	assert_string_equal(doc_get_str(d, "Cause"), "ok");
	assert_int_equal(doc_get(d, "Steps")->d_count, r.tr_nsteps);
	doc_free(d);
	cache_free(c);
}

static void test_route_missing_or_propagated(void **state)
{
	(void)state;
	struct cache *c = seed_cache("", "UP");
	struct trace_result r;
	char err[200];
	struct api_trace_query q = { "10.0.0.5", "i-a", "tcp", 22, 0 };
	api_trace(c, &q, &r, err, sizeof(err));
	assert_int_equal(r.tr_cause, TRACE_REPLY_NO_ROUTE);
	/* route propagation from the VPN gateway brings the VPN's static routes */
	struct res *rtb = cache_get(c, "rtb-main");
	struct doc *d = doc_clone(rtb->r_doc);
	struct doc *pv = doc_push(doc_get_list(d, "PropagatingVgws"), doc_obj());
	doc_set_str(pv, "GatewayId", "vgw-1");
	doc_free(cache_put(c, "route-table", "rtb-main", rtb->r_ord, d));
	api_trace(c, &q, &r, err, sizeof(err));
	assert_true(r.tr_reachable);
	cache_free(c);
	/* ... only while a tunnel is UP */
	c = seed_cache("", "DOWN");
	rtb = cache_get(c, "rtb-main");
	d = doc_clone(rtb->r_doc);
	pv = doc_push(doc_get_list(d, "PropagatingVgws"), doc_obj());
	doc_set_str(pv, "GatewayId", "vgw-1");
	doc_free(cache_put(c, "route-table", "rtb-main", rtb->r_ord, d));
	api_trace(c, &q, &r, err, sizeof(err));
	assert_int_equal(r.tr_cause, TRACE_VPN_DOWN);
	cache_free(c);
}

static void test_internet(void **state)
{
	(void)state;
	struct cache *c = seed_cache("", "UP");
	struct trace_result r;
	char err[200];
	struct api_trace_query q = { "eni-p", "203.0.113.7", "udp", 53, 0 };
	api_trace(c, &q, &r, err, sizeof(err));
	assert_true(r.tr_reachable);
	struct api_trace_query in = { "203.0.113.7", "198.51.100.4", "tcp", 22, 0 };
	api_trace(c, &in, &r, err, sizeof(err));
	assert_int_equal(r.tr_cause, TRACE_SG_INGRESS);	/* ssh only from the office */
	cache_free(c);
}

static void test_bad_queries(void **state)
{
	(void)state;
	struct cache *c = seed_cache("", "UP");
	struct trace_result r;
	char err[200];
	struct api_trace_query q = { "i-nope", "eni-a", "tcp", 22, 0 };
	assert_int_equal(api_trace(c, &q, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not exist"));
	q.aq_from = "i-gone";
	assert_int_equal(api_trace(c, &q, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has no network interface"));
	q.aq_from = "eni-nope";
	assert_int_equal(api_trace(c, &q, &r, err, sizeof(err)), -1);
	q.aq_from = "10.0.0.300";
	assert_int_equal(api_trace(c, &q, &r, err, sizeof(err)), -1);
	q.aq_from = "10.0.0.5";
	q.aq_proto = "sctp-ish";
	assert_int_equal(api_trace(c, &q, &r, err, sizeof(err)), -1);
	q.aq_proto = "tcp";
	q.aq_port = 0;
	assert_int_equal(api_trace(c, &q, &r, err, sizeof(err)), -1);
	q.aq_to = NULL;
	q.aq_port = 22;
	assert_int_equal(api_trace(c, &q, &r, err, sizeof(err)), -1);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_office_to_instance),
		cmocka_unit_test(test_route_missing_or_propagated),
		cmocka_unit_test(test_internet),
		cmocka_unit_test(test_bad_queries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
