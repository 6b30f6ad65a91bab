/*
 * test_engine_trace.c — the packet trace (src/engine/engine_trace.c: the
 * plan engine_net builds from the cache, compiled by net_snapshot_build
 * without TAPs or ports, one synthetic packet and its answer through
 * src/net/path.c), over caches holding the docs the API stores.
 *
 * The cases are the old model trace's (tests/model/test_trace.c over
 * src/model/trace.c, tests/api/test_api_trace.c over src/api/trace.c's
 * builders, both gone) and the side-by-side test of the two engines
 * (tests/api/test_trace_engines.c), each now asked of the one trace vpcd
 * has. The answers (reachable, cause, the component and rule of the
 * deciding step) are the old ones, except where the old model and the
 * router disagreed; those tests say so in their names
 * (test_disagreement_*) and assert the router's answer. Where the model
 * told a step in other words or another order, the router's words are
 * asserted and the comment says what the model said.
 *
 * The seed's network: vpc-1 10.96.0.0/16; subnet-pub 10.96.0.0/24 (rtb-pub:
 * 0.0.0.0/0 -> igw-1) and subnet-priv 10.96.1.0/24 (the main table rtb-main:
 * local plus main_extra_route); acl-1 on both (inbound rule 90 denies TCP
 * 23 from the office 10.0.0.0/24, 100 allows all; outbound 100 allows
 * all); vgw-1 with vpn-1 (static route 10.0.0.0/24, its first tunnel
 * tunnel_status); sg-web (SSH 22-23 and ping from the office, all out),
 * sg-db (5432 from sg-web, all out); eni-a (i-a) and eni-b (i-b) in the
 * private subnet, eni-p (i-p) with 198.51.100.4 in the public one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"
#include "engine/engine_net.h"
#include "engine/engine_trace.h"
#include "engine/engine_vpn.h"
#include "net/nat.h"
#include "net/net.h"
#include "state/resources.h"

static int64_t ord;

static struct doc *json(const char *text)
{
	struct doc *d = doc_from_json(text, strlen(text));
	assert_non_null(d);
	return d;
}

static void put(struct cache *c, const char *type, const char *id, const char *text)
{
	doc_free(cache_put(c, type, id, ++ord, json(text)));
}

/* Replaces the doc of id (same type, same place in creation order). */
static void set(struct cache *c, const char *id, const char *text)
{
	struct res *r = cache_get(c, id);
	assert_non_null(r);
	doc_free(cache_put(c, r->r_type, id, r->r_ord, json(text)));
}

static const char ACL_1[] =
	"{\"NetworkAclId\":\"acl-1\",\"VpcId\":\"vpc-1\",\"IsDefault\":true,\"Associations\":[],"
	"\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	"{\"CidrBlock\":\"10.0.0.0/24\",\"Egress\":false,\"Protocol\":\"6\",\"RuleAction\":\"deny\",\"RuleNumber\":90,"
	"\"PortRange\":{\"From\":23,\"To\":23}},"
	"{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}";

static struct cache *seed_cache(const char *main_extra_route, const char *tunnel_status)
{
	struct cache *c = cache_new();
	char buf[768];
	put(c, "vpc", "vpc-1", "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.0.0/16\"}");
	put(c, "subnet", "subnet-pub", "{\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-1\",\"CidrBlock\":\"10.96.0.0/24\"}");
	put(c, "subnet", "subnet-priv", "{\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-1\",\"CidrBlock\":\"10.96.1.0/24\"}");
	put(c, "internet-gateway", "igw-1", "{\"InternetGatewayId\":\"igw-1\",\"Attachments\":[{\"State\":\"available\",\"VpcId\":\"vpc-1\"}]}");
	put(c, "vpn-gateway", "vgw-1", "{\"VpnGatewayId\":\"vgw-1\",\"VpcAttachments\":[{\"State\":\"attached\",\"VpcId\":\"vpc-1\"}]}");
	snprintf(buf, sizeof(buf),
		 "{\"VpnConnectionId\":\"vpn-1\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"available\","
		 "\"VgwTelemetry\":[{\"Status\":\"%s\"},{\"Status\":\"DOWN\"}],"
		 "\"Routes\":[{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"Source\":\"Static\",\"State\":\"available\"}]}",
		 tunnel_status);
	put(c, "vpn-connection", "vpn-1", buf);
	snprintf(buf, sizeof(buf),
		 "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
		 "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-1\"}],"
		 "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"}%s],"
		 "\"PropagatingVgws\":[]}", main_extra_route);
	put(c, "route-table", "rtb-main", buf);
	put(c, "route-table", "rtb-pub",
	    "{\"RouteTableId\":\"rtb-pub\",\"VpcId\":\"vpc-1\","
	    "\"Associations\":[{\"Main\":false,\"SubnetId\":\"subnet-pub\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"igw-1\",\"State\":\"active\"}]}");
	put(c, "network-acl", "acl-1", ACL_1);
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
	    "\"MacAddress\":\"0e:00:00:00:00:0a\",\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-web\",\"GroupName\":\"web\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-a\",\"DeviceIndex\":0,\"Status\":\"attached\"}}");
	put(c, "network-interface", "eni-b",
	    "{\"NetworkInterfaceId\":\"eni-b\",\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.1.5\","
	    "\"MacAddress\":\"0e:00:00:00:00:0b\",\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-db\",\"GroupName\":\"db\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-b\",\"DeviceIndex\":0,\"Status\":\"attached\"}}");
	put(c, "network-interface", "eni-p",
	    "{\"NetworkInterfaceId\":\"eni-p\",\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.0.4\","
	    "\"MacAddress\":\"0e:00:00:00:00:0c\",\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-web\",\"GroupName\":\"web\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-p\",\"DeviceIndex\":0,\"Status\":\"attached\"},"
	    "\"Association\":{\"PublicIp\":\"198.51.100.4\",\"IpOwnerId\":\"amazon\"}}");
	put(c, "instance", "i-a", "{\"InstanceId\":\"i-a\"}");
	put(c, "instance", "i-gone", "{\"InstanceId\":\"i-gone\"}");
	return c;
}

/* The old model test's network: the private subnet's default route to the
 * VPN gateway, HTTP open to all in sg-web, and eni-q (no instance, no
 * public address) in the public subnet. */
static const char MAIN_DEFAULT_VGW[] = ",{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}";
static const char MAIN_OFFICE_VGW[] = ",{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}";

static struct cache *model_cache(void)
{
	struct cache *c = seed_cache(MAIN_DEFAULT_VGW, "UP");
	put(c, "security-group-rule", "sgr-http",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":80,\"ToPort\":80,\"CidrIpv4\":\"0.0.0.0/0\"}");
	put(c, "network-interface", "eni-q",
	    "{\"NetworkInterfaceId\":\"eni-q\",\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.0.5\","
	    "\"MacAddress\":\"0e:00:00:00:00:0f\",\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-web\",\"GroupName\":\"web\"}]}");
	return c;
}

/* A NAT gateway in the public subnet (its interface eni-nat, Elastic IP
 * 198.51.100.9). */
static void add_nat_gateway(struct cache *c)
{
	put(c, "network-interface", "eni-nat",
	    "{\"NetworkInterfaceId\":\"eni-nat\",\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.0.9\","
	    "\"MacAddress\":\"0e:00:00:00:00:0d\",\"SourceDestCheck\":false,\"Groups\":[],\"InterfaceType\":\"nat_gateway\","
	    "\"Association\":{\"PublicIp\":\"198.51.100.9\",\"IpOwnerId\":\"amazon\"}}");
	put(c, "natgateway", "nat-1",
	    "{\"NatGatewayId\":\"nat-1\",\"State\":\"available\",\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\","
	    "\"NatGatewayAddresses\":[{\"NetworkInterfaceId\":\"eni-nat\",\"PrivateIp\":\"10.96.0.9\",\"PublicIp\":\"198.51.100.9\"}]}");
}

/* vpc-2 10.97.0.0/16 peered with vpc-1 by pcx-1 (active), its main table
 * routing 10.96.0.0/16 to the peering; eni-c (sg-c, all out) in it; sg-web
 * lets SSH in from 10.97.0.0/16. */
static void add_peering(struct cache *c)
{
	put(c, "vpc", "vpc-2", "{\"VpcId\":\"vpc-2\",\"CidrBlock\":\"10.97.0.0/16\"}");
	put(c, "subnet", "subnet-2", "{\"SubnetId\":\"subnet-2\",\"VpcId\":\"vpc-2\",\"_NetworkAclId\":\"acl-2\",\"CidrBlock\":\"10.97.0.0/24\"}");
	put(c, "network-acl", "acl-2",
	    "{\"NetworkAclId\":\"acl-2\",\"VpcId\":\"vpc-2\",\"IsDefault\":true,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}");
	put(c, "vpc-peering-connection", "pcx-1",
	    "{\"VpcPeeringConnectionId\":\"pcx-1\",\"Status\":{\"Code\":\"active\"},"
	    "\"RequesterVpcInfo\":{\"VpcId\":\"vpc-2\",\"CidrBlock\":\"10.97.0.0/16\"},"
	    "\"AccepterVpcInfo\":{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.0.0/16\"}}");
	put(c, "route-table", "rtb-2",
	    "{\"RouteTableId\":\"rtb-2\",\"VpcId\":\"vpc-2\","
	    "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-2\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.97.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"VpcPeeringConnectionId\":\"pcx-1\",\"State\":\"active\"}]}");
	put(c, "security-group", "sg-c", "{\"GroupId\":\"sg-c\",\"VpcId\":\"vpc-2\",\"GroupName\":\"c\"}");
	put(c, "security-group-rule", "sgr-c-out",
	    "{\"GroupId\":\"sg-c\",\"IsEgress\":true,\"IpProtocol\":\"-1\",\"FromPort\":-1,\"ToPort\":-1,\"CidrIpv4\":\"0.0.0.0/0\"}");
	put(c, "security-group-rule", "sgr-peer-ssh",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":22,\"CidrIpv4\":\"10.97.0.0/16\"}");
	put(c, "network-interface", "eni-c",
	    "{\"NetworkInterfaceId\":\"eni-c\",\"SubnetId\":\"subnet-2\",\"VpcId\":\"vpc-2\",\"PrivateIpAddress\":\"10.97.0.4\","
	    "\"MacAddress\":\"0e:00:00:00:00:0e\",\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-c\",\"GroupName\":\"c\"}]}");
}

/* --- asking --------------------------------------------------------------------- */

/* The trace of from -> to, printed as vpcctl prints it; 0 expected. */
static void trace_sp(struct cache *c, const char *from, const char *to, const char *proto, int port, int src_port,
		     struct trace_result *r)
{
	char err[256];
	struct trace_query q = { from, to, proto, port, src_port };
	if (engine_trace(c, &q, r, err, sizeof(err)) < 0)
		fail_msg("engine_trace %s -> %s: %s", from, to, err);
	struct strbuf sb = STRBUF_INIT;
	trace_format(r, &sb);
	print_message("%s -> %s %s/%d:\n%s", from, to, proto, port, sb_str(&sb));
	sb_free(&sb);
}

static void trace(struct cache *c, const char *from, const char *to, const char *proto, int port,
		  struct trace_result *r)
{
	trace_sp(c, from, to, proto, port, 0, r);
}

/* The query refused, with a message holding want. */
static void refused(struct cache *c, const char *from, const char *to, const char *proto, int port, const char *want)
{
	char err[256] = "";
	struct trace_query q = { from, to, proto, port, 0 };
	struct trace_result r;
	assert_int_equal(engine_trace(c, &q, &r, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("'%s' does not say '%s'", err, want);
}

/* The last step of kind k; NULL none. */
static const struct trace_step *step_of(const struct trace_result *r, enum trace_step_kind k)
{
	const struct trace_step *found = NULL;
	for (size_t i = 0; i < r->tr_nsteps; i++)
		if (r->tr_steps[i].ts_kind == k)
			found = &r->tr_steps[i];
	return found;
}

static const struct trace_step *must_step(const struct trace_result *r, enum trace_step_kind k)
{
	const struct trace_step *s = step_of(r, k);
	if (!s)
		fail_msg("no %s step", trace_step_name(k));
	return s;
}

/* The step that dropped the packet (the last one). */
static const struct trace_step *last_step(const struct trace_result *r)
{
	assert_true(r->tr_nsteps > 0);
	return &r->tr_steps[r->tr_nsteps - 1];
}

static bool any_detail(const struct trace_result *r, const char *want)
{
	for (size_t i = 0; i < r->tr_nsteps; i++)
		if (strstr(r->tr_steps[i].ts_detail, want))
			return true;
	return false;
}

static void assert_contains(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("'%s' does not say '%s'", text, want);
}

static void assert_dropped(const struct trace_result *r, enum trace_cause cause)
{
	assert_false(r->tr_reachable);
	assert_string_equal(trace_cause_name(r->tr_cause), trace_cause_name(cause));
	assert_false(last_step(r)->ts_ok);
}

static void assert_reachable(const struct trace_result *r)
{
	assert_true(r->tr_reachable);
	assert_int_equal(r->tr_cause, TRACE_OK);
	for (size_t i = 0; i < r->tr_nsteps; i++)
		assert_true(r->tr_steps[i].ts_ok);
}

/* --- the router's own walk, for the cases that show how it decides -------------- */

static uint32_t ip(const char *s)
{
	uint32_t a;
	assert_true(ip4_parse(s, &a));
	return a;
}

static const uint8_t router_mac[6] = { 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01 };

/* One packet through the compiled plan: from an ENI (src 0) or a gateway
 * (src the outside address), to dst; answer: the answer to a traced
 * packet (ports as net_trace_query says). */
static void router_walk(struct cache *c, const char *from, const char *src, const char *dst, uint8_t proto,
			uint16_t port, bool answer, struct net_trace_result *out)
{
	char err[256];
	struct engine_net_plan *p = engine_net_plan_build(c);
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	if (!s)
		fail_msg("the plan does not compile: %s", err);
	struct net_trace_query nq = { .src = src ? ip(src) : 0, .dst = ip(dst), .proto = proto, .plan_only = true,
				      .answer = answer };
	snprintf(nq.from_id, sizeof(nq.from_id), "%s", from);
	if (answer) {
		nq.sport = port;
		nq.dport = TRACE_EPHEMERAL_PORT_DEFAULT;
	} else {
		nq.dport = port;
	}
	nq.icmp_given = proto == 1 && answer;	/* echo reply 0/0 */
	assert_int_equal(net_snapshot_trace(s, router_mac, &nq, out, err, sizeof(err)), 0);
	net_snapshot_free(s);
	engine_net_plan_free(p);
}

static const struct net_trace_step *router_step(const struct net_trace_result *r, enum net_trace_stage st)
{
	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].stage == st)
			return &r->steps[i];
	return NULL;
}

/* --- from the office through the VPN (the old model's cases) -------------------- */

static void test_office_to_instance_through_vpn(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	struct trace_result r;
	trace(c, "10.0.0.5", "10.96.1.4", "tcp", 22, &r);
	assert_reachable(&r);
	/* the model's steps were source, gateway, nacl-in, sg-ingress,
	 * reply-route, reply-nacl-out, destination; the router tells the
	 * packet to its destination, then its answer's way back */
	static const enum trace_step_kind want[] = {
		TRACE_STEP_SOURCE, TRACE_STEP_GATEWAY, TRACE_STEP_NACL_IN, TRACE_STEP_SG_INGRESS,
		TRACE_STEP_DESTINATION, TRACE_STEP_REPLY_NACL_OUT, TRACE_STEP_REPLY_ROUTE,
	};
	assert_int_equal(r.tr_nsteps, ARRAY_LEN(want));
	for (size_t i = 0; i < r.tr_nsteps; i++)
		assert_string_equal(trace_step_name(r.tr_steps[i].ts_kind), trace_step_name(want[i]));
	assert_string_equal(must_step(&r, TRACE_STEP_GATEWAY)->ts_component, "vgw-1");
	assert_string_equal(must_step(&r, TRACE_STEP_NACL_IN)->ts_component, "acl-1");
	assert_string_equal(must_step(&r, TRACE_STEP_NACL_IN)->ts_rule, "100");
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-ssh");
	assert_string_equal(must_step(&r, TRACE_STEP_DESTINATION)->ts_component, "eni-a");
	assert_string_equal(must_step(&r, TRACE_STEP_REPLY_ROUTE)->ts_component, "rtb-main");
	assert_string_equal(must_step(&r, TRACE_STEP_REPLY_ROUTE)->ts_rule, "0.0.0.0/0 -> vgw-1");
	/* ping too; by ENI id as well as by address, and by instance id */
	trace(c, "10.0.0.5", "eni-a", "icmp", -1, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-ping");
	trace(c, "10.0.0.5", "i-a", "tcp", 22, &r);
	assert_reachable(&r);
	/* the NACL entry with a port range: 23 is denied by rule 90 */
	trace(c, "10.0.0.5", "i-a", "tcp", 23, &r);
	assert_dropped(&r, TRACE_NACL_IN);
	assert_string_equal(last_step(&r)->ts_kind == TRACE_STEP_NACL_IN ? "nacl-in" : "?", "nacl-in");
	assert_string_equal(last_step(&r)->ts_component, "acl-1");
	assert_string_equal(last_step(&r)->ts_rule, "90");
	assert_contains(last_step(&r)->ts_detail, "rule 90 denies tcp/23 from 10.0.0.5");
	cache_free(c);
}

static void test_no_route_back_to_vpn(void **state)
{
	(void)state;
	struct cache *c = seed_cache("", "UP");	/* the main table: local only */
	struct trace_result r;
	trace(c, "10.0.0.5", "eni-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_REPLY_NO_ROUTE);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_REPLY_ROUTE);
	assert_string_equal(last_step(&r)->ts_component, "rtb-main");
	assert_contains(last_step(&r)->ts_detail, "no route to 10.0.0.5");
	/* the first packet did arrive: the router walked it to eni-a */
	assert_true(must_step(&r, TRACE_STEP_DESTINATION)->ts_ok);
	cache_free(c);
}

/* The model said reply-no-route ("not back through vgw-1") when the
 * private subnet's default route sends the answer to the internet
 * gateway. The router sends the answer to igw-1, which drops it: eni-a has
 * no public address. */
static void test_disagreement_answer_to_the_internet_gateway(void **state)
{
	(void)state;
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"igw-1\",\"State\":\"active\"}",
				     "UP");
	struct trace_result r;
	trace(c, "10.0.0.5", "eni-a", "tcp", 22, &r);
	assert_false(r.tr_reachable);
	assert_true(must_step(&r, TRACE_STEP_DESTINATION)->ts_ok);
	assert_string_equal(must_step(&r, TRACE_STEP_REPLY_ROUTE)->ts_rule, "0.0.0.0/0 -> igw-1");
	assert_dropped(&r, TRACE_NO_PUBLIC_IP);
	cache_free(c);
}

static void test_nacl_deny_rule_is_named(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	/* rule 90 denies SSH from the office */
	set(c, "acl-1",
	    "{\"NetworkAclId\":\"acl-1\",\"VpcId\":\"vpc-1\",\"IsDefault\":true,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"10.0.0.0/24\",\"Egress\":false,\"Protocol\":\"6\",\"RuleAction\":\"deny\",\"RuleNumber\":90,"
	    "\"PortRange\":{\"From\":22,\"To\":22}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}");
	struct trace_result r;
	trace(c, "10.0.0.5", "eni-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_NACL_IN);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_NACL_IN);
	assert_string_equal(last_step(&r)->ts_component, "acl-1");
	assert_string_equal(last_step(&r)->ts_rule, "90");
	assert_contains(last_step(&r)->ts_detail, "rule 90 denies tcp/22 from 10.0.0.5");
	/* other ports pass rule 100 (HTTP: sgr-http) */
	trace(c, "10.0.0.5", "eni-a", "tcp", 80, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_NACL_IN)->ts_rule, "100");
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-http");
	cache_free(c);
}

static void test_security_group_without_rule(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	struct trace_result r;
	trace(c, "10.0.0.5", "eni-a", "tcp", 3389, &r);
	assert_dropped(&r, TRACE_SG_INGRESS);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_SG_INGRESS);
	assert_string_equal(last_step(&r)->ts_component, "eni-a");
	assert_string_equal(last_step(&r)->ts_rule, "");
	assert_contains(last_step(&r)->ts_detail, "no ingress rule");
	assert_contains(last_step(&r)->ts_detail, "sg-web");
	assert_contains(last_step(&r)->ts_detail, "tcp/3389");
	cache_free(c);
}

static void test_vpn_down(void **state)
{
	(void)state;
	struct cache *c = seed_cache(MAIN_DEFAULT_VGW, "DOWN");
	struct trace_result r;
	/* in: no tunnel UP carries the office's network */
	trace(c, "10.0.0.5", "eni-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_VPN_DOWN);
	assert_string_equal(last_step(&r)->ts_component, "vgw-1");
	/* out: the router hands it to vgw-1's port for vpn-1 (its route
	 * 10.0.0.0/24), whose tunnels are DOWN: the endpoint drops it */
	trace(c, "i-a", "10.0.0.5", "icmp", -1, &r);
	assert_dropped(&r, TRACE_VPN_DOWN);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_GATEWAY);
	assert_string_equal(last_step(&r)->ts_component, "vgw-1");
	assert_contains(last_step(&r)->ts_detail, "vgw-1 routes 10.0.0.5 to vpn-1, which has no tunnel UP");
	struct net_trace_result nr;
	router_walk(c, "eni-a", NULL, "10.0.0.5", 1, 0, false, &nr);
	assert_true(nr.delivered);
	assert_string_equal(router_step(&nr, NET_TRACE_PORT)->id, "vgw-1");
	assert_true(router_step(&nr, NET_TRACE_PORT)->conn_key == engine_vpn_conn_key("vpn-1"));
	cache_free(c);

	/* a tunnel UP, but no route of the connection covers the address
	 * (the model: "no route of its VPN connections covers 192.168.7.7") */
	c = seed_cache(MAIN_DEFAULT_VGW, "UP");
	trace(c, "eni-a", "192.168.7.7", "tcp", 443, &r);
	assert_dropped(&r, TRACE_VPN_DOWN);
	assert_contains(last_step(&r)->ts_detail, "with a route to 192.168.7.7");
	trace(c, "eni-a", "10.0.0.9", "tcp", 443, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_DESTINATION)->ts_detail, "delivered to 10.0.0.9 through the VPN");
	cache_free(c);
}

/* Two connections of vgw-1: vpn-1 routes the office's 10.0.0.0/24 with its
 * tunnels DOWN, vpn-2 10.0.0.0/16 with a tunnel UP. The router picks the
 * connection by the gateway's own routes (longest prefix: vpn-1 for
 * 10.0.0.5), and the endpoint sends a packet only into that connection's
 * tunnels: vpn-down, though vpn-2 has a tunnel UP and a route covering it
 * (what the old model and the trace before the router's choice looked
 * for). 10.0.1.5 goes to vpn-2. */
static void test_the_router_picks_the_connection(void **state)
{
	(void)state;
	struct cache *c = seed_cache(MAIN_DEFAULT_VGW, "DOWN");
	put(c, "vpn-connection", "vpn-2",
	    "{\"VpnConnectionId\":\"vpn-2\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"available\","
	    "\"VgwTelemetry\":[{\"Status\":\"DOWN\"},{\"Status\":\"UP\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.0.0.0/16\",\"Source\":\"Static\",\"State\":\"available\"}]}");
	struct trace_result r;
	trace(c, "i-a", "10.0.0.5", "icmp", -1, &r);
	assert_dropped(&r, TRACE_VPN_DOWN);
	assert_contains(last_step(&r)->ts_detail, "to vpn-1, which has no tunnel UP");
	trace(c, "i-a", "10.0.1.5", "icmp", -1, &r);
	assert_reachable(&r);
	assert_true(any_detail(&r, "out through vgw-1 (vpn-2)"));
	cache_free(c);
}

static void test_no_vpn_gateway(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	set(c, "vgw-1", "{\"VpnGatewayId\":\"vgw-1\",\"VpcAttachments\":[{\"State\":\"detached\",\"VpcId\":\"vpc-1\"}]}");
	struct trace_result r;
	trace(c, "10.0.0.5", "eni-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_NO_GATEWAY);
	cache_free(c);
}

/* --- inside the VPC ------------------------------------------------------------------ */

static void test_same_subnet_skips_nacls_and_references_groups(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	/* an ACL denying everything inbound does not matter within a subnet */
	set(c, "acl-1",
	    "{\"NetworkAclId\":\"acl-1\",\"VpcId\":\"vpc-1\",\"IsDefault\":true,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"deny\",\"RuleNumber\":100}]}");
	struct trace_result r;
	trace(c, "i-a", "eni-b", "tcp", 5432, &r);
	assert_reachable(&r);
	assert_null(step_of(&r, TRACE_STEP_NACL_IN));
	assert_null(step_of(&r, TRACE_STEP_NACL_OUT));
	assert_string_equal(must_step(&r, TRACE_STEP_SG_EGRESS)->ts_rule, "sgr-web-out");
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "10.96.0.0/16 -> local");
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_component, "sg-db");
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-pg");
	/* (the model's detail said "members of sg-web"; the router names the rule) */
	assert_contains(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_detail, "sg-db rule sgr-pg allows tcp/5432 from 10.96.1.4");
	/* the other way: sg-web does not admit sg-db on 5432 */
	trace(c, "eni-b", "eni-a", "tcp", 5432, &r);
	assert_dropped(&r, TRACE_SG_INGRESS);
	assert_string_equal(last_step(&r)->ts_component, "eni-a");
	cache_free(c);
}

static void test_cross_subnet_needs_ephemeral_ports_in_nacl(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	/* eni-p (public) to eni-a (private) on 22: the private subnet's own ACL
	 * lets 22 in and only 22 out, so the answer to port 49152 is dropped */
	set(c, "subnet-priv",
	    "{\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-strict\",\"CidrBlock\":\"10.96.1.0/24\"}");
	put(c, "network-acl", "acl-strict",
	    "{\"NetworkAclId\":\"acl-strict\",\"VpcId\":\"vpc-1\",\"IsDefault\":false,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"6\",\"RuleAction\":\"allow\",\"RuleNumber\":100,"
	    "\"PortRange\":{\"From\":22,\"To\":22}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"6\",\"RuleAction\":\"allow\",\"RuleNumber\":100,"
	    "\"PortRange\":{\"From\":22,\"To\":22}}]}");
	set(c, "sgr-ssh",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":22,\"CidrIpv4\":\"10.96.0.0/24\"}");
	struct trace_result r;
	trace(c, "eni-p", "eni-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_REPLY_NACL_OUT);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_REPLY_NACL_OUT);
	assert_string_equal(last_step(&r)->ts_component, "acl-strict");
	assert_string_equal(last_step(&r)->ts_rule, "*");
	/* (the model said "acl-strict (outbound) rule * denies tcp/49152 to 10.96.0.4") */
	assert_contains(last_step(&r)->ts_detail, "acl-strict rule * denies the answer tcp/49152 to 10.96.0.4");
	/* the ephemeral ports out */
	set(c, "acl-strict",
	    "{\"NetworkAclId\":\"acl-strict\",\"VpcId\":\"vpc-1\",\"IsDefault\":false,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"6\",\"RuleAction\":\"allow\",\"RuleNumber\":100,"
	    "\"PortRange\":{\"From\":22,\"To\":22}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"6\",\"RuleAction\":\"allow\",\"RuleNumber\":100,"
	    "\"PortRange\":{\"From\":22,\"To\":22}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"6\",\"RuleAction\":\"allow\",\"RuleNumber\":110,"
	    "\"PortRange\":{\"From\":1024,\"To\":65535}}]}");
	trace(c, "eni-p", "eni-a", "tcp", 22, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_NACL_OUT)->ts_component, "acl-1");
	assert_string_equal(must_step(&r, TRACE_STEP_NACL_IN)->ts_component, "acl-strict");
	assert_string_equal(must_step(&r, TRACE_STEP_REPLY_NACL_OUT)->ts_rule, "110");
	assert_string_equal(must_step(&r, TRACE_STEP_REPLY_NACL_IN)->ts_component, "acl-1");
	/* a chosen source port outside it is dropped again */
	trace_sp(c, "eni-p", "eni-a", "tcp", 22, 1000, &r);
	assert_dropped(&r, TRACE_REPLY_NACL_OUT);
	assert_contains(last_step(&r)->ts_detail, "the answer tcp/1000");
	cache_free(c);
}

static void test_no_destination(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	struct trace_result r;
	trace(c, "eni-a", "10.96.1.99", "tcp", 22, &r);
	assert_dropped(&r, TRACE_NO_DESTINATION);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_DESTINATION);
	assert_contains(last_step(&r)->ts_detail, "10.96.1.99");
	/* from outside to an address no ENI has */
	trace(c, "10.0.0.5", "10.96.1.99", "tcp", 22, &r);
	assert_dropped(&r, TRACE_NO_DESTINATION);
	cache_free(c);
}

/* From an address that is an ENI's: the trace starts at that ENI (the
 * model's rule), not outside the VPC. */
static void test_from_an_eni_address(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	struct trace_result r;
	trace(c, "10.96.1.4", "eni-b", "tcp", 5432, &r);
	assert_reachable(&r);
	assert_int_equal(r.tr_steps[0].ts_kind, TRACE_STEP_SOURCE);
	assert_string_equal(r.tr_steps[0].ts_component, "eni-a");
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-pg");
	trace(c, "10.96.1.4", "10.96.1.5", "tcp", 5432, &r);
	assert_reachable(&r);
	assert_string_equal(r.tr_steps[0].ts_component, "eni-a");
	cache_free(c);
}

static void test_blackhole_and_appliance(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	/* a route to a VPN gateway that is gone */
	set(c, "rtb-main",
	    "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
	    "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-1\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"GatewayId\":\"vgw-old\",\"State\":\"blackhole\"}]}");
	struct trace_result r;
	trace(c, "eni-a", "10.0.0.5", "tcp", 22, &r);
	assert_dropped(&r, TRACE_BLACKHOLE);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_ROUTE);
	assert_string_equal(last_step(&r)->ts_component, "rtb-main");
	assert_string_equal(last_step(&r)->ts_rule, "10.0.0.0/24 -> vgw-old");
	assert_contains(last_step(&r)->ts_detail, "blackhole");

	/* the longest prefix through an appliance ENI (eni-q), which must not
	 * check sources and destinations; sg-web lets the VPC in */
	set(c, "rtb-main",
	    "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
	    "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-1\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"NetworkInterfaceId\":\"eni-q\",\"State\":\"active\"}]}");
	put(c, "security-group-rule", "sgr-fwd",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"-1\",\"FromPort\":-1,\"ToPort\":-1,\"CidrIpv4\":\"10.96.0.0/16\"}");
	trace(c, "eni-a", "10.0.0.5", "tcp", 22, &r);
	assert_dropped(&r, TRACE_SOURCE_DEST_CHECK);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_SOURCE_DEST_CHECK);
	assert_string_equal(last_step(&r)->ts_component, "eni-q");
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "10.0.0.0/24 -> eni-q");
	set(c, "eni-q",
	    "{\"NetworkInterfaceId\":\"eni-q\",\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.0.5\","
	    "\"MacAddress\":\"0e:00:00:00:00:0f\",\"SourceDestCheck\":false,\"Groups\":[{\"GroupId\":\"sg-web\",\"GroupName\":\"web\"}]}");
	trace(c, "eni-a", "10.0.0.5", "tcp", 22, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_DESTINATION)->ts_component, "eni-q");
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-fwd");

	/* the same prefix length as local: local wins */
	set(c, "rtb-main",
	    "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
	    "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-1\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}]}");
	trace(c, "eni-a", "eni-b", "tcp", 5432, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "10.96.0.0/16 -> local");
	cache_free(c);
}

/* --- the internet ---------------------------------------------------------------------- */

static void test_internet_both_ways(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	struct trace_result r;
	trace(c, "eni-p", "203.0.113.9", "tcp", 443, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_component, "rtb-pub");
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "0.0.0.0/0 -> igw-1");
	/* (the model said "10.96.0.4 to 198.51.100.4") */
	assert_true(any_detail(&r, "the source translated to 198.51.100.4 (1:1 NAT)"));
	trace(c, "eni-p", "203.0.113.7", "udp", 53, &r);
	assert_reachable(&r);
	trace(c, "eni-q", "203.0.113.9", "tcp", 443, &r);
	assert_dropped(&r, TRACE_NO_PUBLIC_IP);
	/* in, to the public address */
	trace(c, "203.0.113.9", "198.51.100.4", "tcp", 80, &r);
	assert_reachable(&r);
	assert_int_equal(r.tr_steps[1].ts_kind, TRACE_STEP_GATEWAY);
	assert_string_equal(r.tr_steps[1].ts_component, "igw-1");
	assert_true(any_detail(&r, "translated 198.51.100.4 to 10.96.0.4 (1:1 NAT)"));
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-http");
	assert_string_equal(must_step(&r, TRACE_STEP_DESTINATION)->ts_component, "eni-p");
	trace(c, "203.0.113.9", "198.51.100.4", "tcp", 22, &r);
	assert_dropped(&r, TRACE_SG_INGRESS);	/* SSH only from the office */
	/* no internet gateway on the VPC */
	set(c, "igw-1", "{\"InternetGatewayId\":\"igw-1\",\"Attachments\":[]}");
	trace(c, "203.0.113.9", "198.51.100.4", "tcp", 80, &r);
	assert_dropped(&r, TRACE_NO_GATEWAY);
	cache_free(c);
}

/* From the internet to a public address of an instance whose subnet
 * routes everything to the VPN gateway: the packet arrives, its answer
 * leaves through vgw-1 (as the private address) and never reaches the
 * sender. The model said reply-no-route ("not back through igw-1"). */
static void test_answer_through_another_gateway(void **state)
{
	(void)state;
	struct cache *c = model_cache();
	set(c, "eni-a",
	    "{\"NetworkInterfaceId\":\"eni-a\",\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.1.4\","
	    "\"MacAddress\":\"0e:00:00:00:00:0a\",\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-web\",\"GroupName\":\"web\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-a\",\"DeviceIndex\":0,\"Status\":\"attached\"},"
	    "\"Association\":{\"PublicIp\":\"198.51.100.7\",\"IpOwnerId\":\"amazon\"}}");
	struct trace_result r;
	trace(c, "203.0.113.9", "198.51.100.7", "tcp", 80, &r);
	assert_dropped(&r, TRACE_REPLY_NO_ROUTE);
	assert_true(must_step(&r, TRACE_STEP_DESTINATION)->ts_ok);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_REPLY_ROUTE);
	assert_string_equal(last_step(&r)->ts_component, "rtb-main");
	assert_string_equal(last_step(&r)->ts_rule, "0.0.0.0/0 -> vgw-1");
	assert_contains(last_step(&r)->ts_detail, "leaves through vgw-1, not back through igw-1");
	/* the public subnet's instance answers through igw-1 */
	trace(c, "203.0.113.9", "198.51.100.4", "tcp", 80, &r);
	assert_reachable(&r);
	cache_free(c);
}

/* A route to a target vpcd does not carry (a transit gateway): the model
 * said unsupported-target; the router has it as a blackhole and drops the
 * packet there, naming the target. */
static void test_disagreement_transit_gateway_route(void **state)
{
	(void)state;
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"172.16.0.0/12\",\"TransitGatewayId\":\"tgw-1\",\"State\":\"active\"}",
				     "UP");
	struct trace_result r;
	trace(c, "i-a", "172.16.1.1", "tcp", 443, &r);
	assert_dropped(&r, TRACE_BLACKHOLE);
	assert_string_equal(last_step(&r)->ts_component, "rtb-main");
	assert_string_equal(last_step(&r)->ts_rule, "172.16.0.0/12 -> tgw-1");
	cache_free(c);
}

/* A VPN gateway whose connection has a tunnel UP but no route at all: the
 * model let the packet out ("routes unknown"); the endpoint carries only
 * what a connection's routes cover, so the trace says vpn-down. */
static void test_disagreement_vpn_without_routes(void **state)
{
	(void)state;
	struct cache *c = seed_cache(MAIN_OFFICE_VGW, "UP");
	set(c, "vpn-1",
	    "{\"VpnConnectionId\":\"vpn-1\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"available\","
	    "\"VgwTelemetry\":[{\"Status\":\"UP\"},{\"Status\":\"DOWN\"}],\"Routes\":[]}");
	struct trace_result r;
	trace(c, "i-a", "10.0.0.5", "icmp", -1, &r);
	assert_dropped(&r, TRACE_VPN_DOWN);
	assert_string_equal(last_step(&r)->ts_component, "vgw-1");
	cache_free(c);
}

/* --- the resources as the API stores them (the old api_trace's cases) ------------- */

static void test_route_propagation(void **state)
{
	(void)state;
	struct cache *c = seed_cache("", "UP");
	struct trace_result r;
	trace(c, "10.0.0.5", "i-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_REPLY_NO_ROUTE);
	/* the VPN gateway's propagation brings the connection's static routes */
	set(c, "rtb-main",
	    "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
	    "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-1\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"}],"
	    "\"PropagatingVgws\":[{\"GatewayId\":\"vgw-1\"}]}");
	trace(c, "10.0.0.5", "i-a", "tcp", 22, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_REPLY_ROUTE)->ts_rule, "10.0.0.0/24 -> vgw-1");
	/* ... only while a tunnel is UP */
	set(c, "vpn-1",
	    "{\"VpnConnectionId\":\"vpn-1\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"available\","
	    "\"VgwTelemetry\":[{\"Status\":\"DOWN\"},{\"Status\":\"DOWN\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"Source\":\"Static\",\"State\":\"available\"}]}");
	trace(c, "10.0.0.5", "i-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_VPN_DOWN);
	cache_free(c);
}

static void test_the_result_as_a_doc(void **state)
{
	(void)state;
	struct cache *c = seed_cache(MAIN_OFFICE_VGW, "UP");
	struct trace_result r;
	trace(c, "i-a", "eni-b", "tcp", 5432, &r);
	assert_reachable(&r);
	struct doc *d = trace_result_doc(&r);
	assert_true(doc_get_bool(d, "Reachable", false));
	assert_string_equal(doc_get_str(d, "Cause"), "ok");
	assert_int_equal(doc_get(d, "Steps")->d_count, r.tr_nsteps);
	const struct doc *first = doc_get(d, "Steps")->d_first;
	assert_string_equal(doc_get_str(first, "Step"), "source");
	assert_string_equal(doc_get_str(first, "Component"), "eni-a");
	doc_free(d);
	cache_free(c);
}

static void test_bad_queries(void **state)
{
	(void)state;
	struct cache *c = seed_cache("", "UP");
	refused(c, "i-nope", "eni-a", "tcp", 22, "from: the instance i-nope does not exist");
	refused(c, "i-gone", "eni-a", "tcp", 22, "has no network interface");
	refused(c, "eni-nope", "eni-a", "tcp", 22, "the network interface eni-nope does not exist");
	refused(c, "eni-a", "eni-nope", "tcp", 22, "to: the network interface eni-nope does not exist");
	refused(c, "10.0.0.300", "eni-a", "tcp", 22, "is neither an instance id");
	refused(c, "10.0.0.5", "eni-a", "sctp-ish", 22, "--proto");
	refused(c, "10.0.0.5", "eni-a", "tcp", 0, "--port");
	refused(c, "10.0.0.5", "eni-a", "tcp", 70000, "--port");
	refused(c, "10.0.0.5", "eni-a", "icmp", 256, "--port");
	refused(c, "10.0.0.5", NULL, "tcp", 22, "--to is required");
	refused(c, NULL, "eni-a", "tcp", 22, "--from is required");
	cache_free(c);
}

/* --- where the old model stopped and the router goes on -------------------------- */

/* The model said unsupported-target at a NAT gateway route; the router
 * translates at the NAT gateway and sends the packet out through igw-1 as
 * the Elastic IP. */
static void test_disagreement_nat_gateway(void **state)
{
	(void)state;
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"NatGatewayId\":\"nat-1\",\"State\":\"active\"}", "UP");
	add_nat_gateway(c);
	struct trace_result r;
	trace(c, "i-a", "203.0.113.7", "udp", 53, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "0.0.0.0/0 -> igw-1");
	const struct trace_step *s = NULL;
	for (size_t i = 0; i < r.tr_nsteps && !s; i++)
		if (strcmp(r.tr_steps[i].ts_component, "nat-1") == 0)
			s = &r.tr_steps[i];
	assert_non_null(s);
	assert_contains(s->ts_detail, "nat-1 translates the source to 10.96.0.9, port ");
	struct net_trace_result nr;
	router_walk(c, "eni-a", NULL, "203.0.113.7", 17, 53, false, &nr);
	assert_true(nr.delivered);
	assert_int_equal(router_step(&nr, NET_TRACE_NAT_GATEWAY)->addr, ip("10.96.0.9"));
	assert_int_equal(router_step(&nr, NET_TRACE_NAT_OUT)->addr, ip("198.51.100.9"));
	assert_string_equal(router_step(&nr, NET_TRACE_PORT)->id, "igw-1");
	cache_free(c);
}

/* The network of the NAT gateway's answers: i-a (subnet-priv, no public
 * address) routed to nat-1 in subnet-pub, whose table routes to igw-1. */
static struct cache *nat_cache(void)
{
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"NatGatewayId\":\"nat-1\",\"State\":\"active\"}", "UP");
	add_nat_gateway(c);
	return c;
}

/* The step of kind k whose detail holds want; fails if none. */
static const struct trace_step *step_saying(const struct trace_result *r, enum trace_step_kind k, const char *want)
{
	for (size_t i = 0; i < r->tr_nsteps; i++)
		if (r->tr_steps[i].ts_kind == k && strstr(r->tr_steps[i].ts_detail, want))
			return &r->tr_steps[i];
	fail_msg("no %s step says '%s'", trace_step_name(k), want);
	return NULL;
}

/* The port nat-1 gave the traced flow, as its forward step tells it. */
static unsigned nat_port_of(const struct trace_result *r)
{
	const struct trace_step *s = step_saying(r, TRACE_STEP_GATEWAY, "nat-1 translates the source to 10.96.0.9, port ");
	unsigned port = 0;
	assert_int_equal(sscanf(strstr(s->ts_detail, ", port ") + 7, "%u", &port), 1);
	assert_true(port >= NAT_PORT_MIN && port <= NAT_PORT_MAX);
	return port;
}

/* The answer of a flow through a NAT gateway is walked back through the
 * router's own answer path: to the gateway's mapping (its Elastic IP and
 * the port it gave the flow), the gateway's subnet's NACL in on that port,
 * translated back, the gateway's subnet's NACL out and the instance's
 * subnet's NACL in on the instance's port, and its groups as a tracked
 * flow (sg-web admits nothing from the internet). */
static void test_nat_gateway_answer_walked(void **state)
{
	(void)state;
	struct cache *c = nat_cache();
	struct trace_result r;
	char want[TRACE_DETAIL_MAX];
	trace(c, "i-a", "203.0.113.7", "udp", 53, &r);
	assert_reachable(&r);
	unsigned port = nat_port_of(&r);
	snprintf(want, sizeof(want), "acl-1 rule 100 allows the answer udp/%u from 203.0.113.7", port);
	assert_string_equal(step_saying(&r, TRACE_STEP_REPLY_NACL_IN, want)->ts_component, "acl-1");
	snprintf(want, sizeof(want), "nat-1 translates the answer to 198.51.100.9, port %u back to 10.96.1.4, port 49152",
		 port);
	assert_string_equal(step_saying(&r, TRACE_STEP_GATEWAY, want)->ts_component, "nat-1");
	step_saying(&r, TRACE_STEP_REPLY_NACL_OUT, "acl-1 rule 100 allows the answer udp/49152 to 10.96.1.4");
	assert_string_equal(last_step(&r)->ts_detail, "acl-1 rule 100 allows the answer udp/49152 from 203.0.113.7");
	assert_null(step_of(&r, TRACE_STEP_SG_INGRESS));	/* tracked: no rule of sg-web admits it */
	/* TCP from a chosen port, and a ping (its identifier mapped) */
	trace_sp(c, "i-a", "203.0.113.7", "tcp", 443, 50000, &r);
	assert_reachable(&r);
	port = nat_port_of(&r);
	snprintf(want, sizeof(want), "port %u back to 10.96.1.4, port 50000", port);
	step_saying(&r, TRACE_STEP_GATEWAY, want);
	trace(c, "i-a", "203.0.113.7", "icmp", -1, &r);
	assert_reachable(&r);
	port = nat_port_of(&r);
	snprintf(want, sizeof(want), "allows the answer icmp 0/0 id %u from 203.0.113.7", port);
	step_saying(&r, TRACE_STEP_REPLY_NACL_IN, want);

	/* the router's walk: the answer gets in only through the mapping the
	 * forward packet made in the flow's tables */
	char err[256];
	struct engine_net_plan *p = engine_net_plan_build(c);
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	assert_non_null(s);
	struct net_trace_flow *flow = net_trace_flow_new();
	assert_non_null(flow);
	struct net_trace_query q = { .from_id = "eni-a", .dst = ip("203.0.113.7"), .proto = 17, .sport = 40000,
				     .dport = 53, .plan_only = true, .flow = flow };
	struct net_trace_result nr;
	assert_int_equal(net_snapshot_trace(s, router_mac, &q, &nr, err, sizeof(err)), 0);
	assert_true(nr.delivered);
	uint16_t mapped = router_step(&nr, NET_TRACE_NAT_GATEWAY)->port;
	assert_true(mapped >= NAT_PORT_MIN);
	struct net_trace_query a = { .from_id = "igw-1", .src = ip("203.0.113.7"), .dst = ip("198.51.100.9"), .proto = 17,
				     .sport = 53, .dport = mapped, .plan_only = true, .answer = true };
	assert_int_equal(net_snapshot_trace(s, router_mac, &a, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr.drop, NET_DROP_NAT_NO_MAPPING);	/* without the flow: no mapping */
	a.flow = flow;
	a.dport = (uint16_t)(mapped == NAT_PORT_MAX ? mapped - 1 : mapped + 1);
	assert_int_equal(net_snapshot_trace(s, router_mac, &a, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr.drop, NET_DROP_NAT_NO_MAPPING);	/* another port: none either */
	a.dport = mapped;
	a.sport = 54;
	assert_int_equal(net_snapshot_trace(s, router_mac, &a, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr.drop, NET_DROP_NAT_NO_MAPPING);	/* from another remote port: none */
	a.sport = 53;
	assert_int_equal(net_snapshot_trace(s, router_mac, &a, &nr, err, sizeof(err)), 0);
	assert_true(nr.delivered);
	assert_string_equal(router_step(&nr, NET_TRACE_DELIVER)->id, "eni-a");
	assert_int_equal(router_step(&nr, NET_TRACE_NAT_GATEWAY)->addr, ip("10.96.1.4"));
	assert_int_equal(router_step(&nr, NET_TRACE_NAT_GATEWAY)->port, 40000);
	assert_null(router_step(&nr, NET_TRACE_SG_INGRESS));
	net_trace_flow_free(flow);
	net_snapshot_free(s);
	engine_net_plan_free(p);
	cache_free(c);
}

/* The NAT gateway's subnet's NACL denies the answer on the gateway's
 * ports (inbound rule 90, udp 1024-65535 from anywhere; the forward
 * packet, to port 53, passes it): not reachable, that NACL and rule
 * named; its outbound rule 80 denying the instance's port to the private
 * subnet drops the answer on its way out of the gateway's subnet. */
static void test_nat_gateway_subnet_nacl_denies_the_answer(void **state)
{
	(void)state;
	struct cache *c = nat_cache();
	set(c, "subnet-pub",
	    "{\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-pub\",\"CidrBlock\":\"10.96.0.0/24\"}");
	put(c, "network-acl", "acl-pub",
	    "{\"NetworkAclId\":\"acl-pub\",\"VpcId\":\"vpc-1\",\"IsDefault\":false,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"17\",\"RuleAction\":\"deny\",\"RuleNumber\":90,"
	    "\"PortRange\":{\"From\":1024,\"To\":65535}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}");
	struct trace_result r;
	trace(c, "i-a", "203.0.113.7", "udp", 53, &r);
	assert_dropped(&r, TRACE_REPLY_NACL_IN);
	assert_int_equal(last_step(&r)->ts_kind, TRACE_STEP_REPLY_NACL_IN);
	assert_string_equal(last_step(&r)->ts_component, "acl-pub");
	assert_string_equal(last_step(&r)->ts_rule, "90");
	char want[TRACE_DETAIL_MAX];
	snprintf(want, sizeof(want), "acl-pub rule 90 denies the answer udp/%u from 203.0.113.7", nat_port_of(&r));
	assert_string_equal(last_step(&r)->ts_detail, want);
	/* the forward packet passed acl-pub both ways */
	assert_string_equal(must_step(&r, TRACE_STEP_NACL_IN)->ts_component, "acl-pub");
	assert_true(must_step(&r, TRACE_STEP_NACL_IN)->ts_ok);
	/* TCP is not denied by rule 90 */
	trace(c, "i-a", "203.0.113.7", "tcp", 443, &r);
	assert_reachable(&r);
	/* out of the gateway's subnet toward the instance: outbound rule 80 */
	set(c, "acl-pub",
	    "{\"NetworkAclId\":\"acl-pub\",\"VpcId\":\"vpc-1\",\"IsDefault\":false,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"10.96.1.0/24\",\"Egress\":true,\"Protocol\":\"6\",\"RuleAction\":\"deny\",\"RuleNumber\":80,"
	    "\"PortRange\":{\"From\":49152,\"To\":65535}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}");
	trace(c, "i-a", "203.0.113.7", "tcp", 443, &r);
	assert_dropped(&r, TRACE_REPLY_NACL_OUT);
	assert_string_equal(last_step(&r)->ts_component, "acl-pub");
	assert_string_equal(last_step(&r)->ts_rule, "80");
	assert_string_equal(last_step(&r)->ts_detail, "acl-pub rule 80 denies the answer tcp/49152 to 10.96.1.4");
	trace(c, "i-a", "203.0.113.7", "udp", 53, &r);
	assert_reachable(&r);
	cache_free(c);
}

/* The instance's own subnet's NACL denies the answer on its port (inbound
 * rule 90, udp 49152-65535 from anywhere): not reachable, named. */
static void test_nat_instance_subnet_nacl_denies_the_answer(void **state)
{
	(void)state;
	struct cache *c = nat_cache();
	set(c, "subnet-priv",
	    "{\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-priv\",\"CidrBlock\":\"10.96.1.0/24\"}");
	put(c, "network-acl", "acl-priv",
	    "{\"NetworkAclId\":\"acl-priv\",\"VpcId\":\"vpc-1\",\"IsDefault\":false,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"17\",\"RuleAction\":\"deny\",\"RuleNumber\":90,"
	    "\"PortRange\":{\"From\":49152,\"To\":65535}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}");
	struct trace_result r;
	trace(c, "i-a", "203.0.113.7", "udp", 53, &r);
	assert_dropped(&r, TRACE_REPLY_NACL_IN);
	assert_string_equal(last_step(&r)->ts_component, "acl-priv");
	assert_string_equal(last_step(&r)->ts_rule, "90");
	assert_string_equal(last_step(&r)->ts_detail, "acl-priv rule 90 denies the answer udp/49152 from 203.0.113.7");
	/* the gateway translated it back first */
	step_saying(&r, TRACE_STEP_GATEWAY, "back to 10.96.1.4, port 49152");
	/* from a source port below the denied range it comes back */
	trace_sp(c, "i-a", "203.0.113.7", "udp", 53, 40000, &r);
	assert_reachable(&r);
	assert_string_equal(last_step(&r)->ts_detail, "acl-priv rule 100 allows the answer udp/40000 from 203.0.113.7");
	cache_free(c);
}

/* The model stopped at a peering route (unsupported-target) or, with the
 * peer's ENI named by id, said no-route; the router delivers across the
 * peering and walks the answer back. */
static void test_disagreement_peering(void **state)
{
	(void)state;
	struct cache *c = seed_cache("", "UP");
	add_peering(c);
	struct trace_result r;
	/* it arrives, but vpc-1 has no route back to vpc-2 */
	trace(c, "eni-c", "i-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_REPLY_NO_ROUTE);
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "10.96.0.0/16 -> pcx-1");
	assert_true(must_step(&r, TRACE_STEP_DESTINATION)->ts_ok);
	assert_string_equal(must_step(&r, TRACE_STEP_REPLY_ROUTE)->ts_component, "rtb-main");
	/* a port sg-web does not open to the peer */
	trace(c, "eni-c", "10.96.1.4", "tcp", 80, &r);
	assert_dropped(&r, TRACE_SG_INGRESS);
	/* with the route back in vpc-1's table: reachable */
	set(c, "rtb-main",
	    "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
	    "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-1\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"10.97.0.0/16\",\"VpcPeeringConnectionId\":\"pcx-1\",\"State\":\"active\"}]}");
	trace(c, "eni-c", "i-a", "tcp", 22, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "10.96.0.0/16 -> pcx-1");
	assert_string_equal(must_step(&r, TRACE_STEP_REPLY_ROUTE)->ts_rule, "10.97.0.0/16 -> pcx-1");
	assert_string_equal(must_step(&r, TRACE_STEP_DESTINATION)->ts_component, "eni-a");
	trace(c, "eni-c", "10.96.1.4", "tcp", 22, &r);
	assert_reachable(&r);
	cache_free(c);
}

/* A managed prefix list (the office's two networks) as a route's
 * destination and as a security group rule's peer: one route / rule per
 * CIDR of the list, as the data plane has it. */
static void test_prefix_lists(void **state)
{
	(void)state;
	struct cache *c = seed_cache(",{\"DestinationPrefixListId\":\"pl-office\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}", "UP");
	put(c, RT_PREFIX_LIST, "pl-office",
	    "{\"PrefixListId\":\"pl-office\",\"AddressFamily\":\"IPv4\","
	    "\"_Entries\":[{\"Cidr\":\"10.0.0.0/24\"},{\"Cidr\":\"10.0.8.0/24\"}]}");
	put(c, "security-group-rule", "sgr-pl-http",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":8080,\"ToPort\":8080,"
	    "\"PrefixListId\":\"pl-office\"}");
	struct trace_result r;
	trace(c, "i-a", "10.0.0.7", "icmp", -1, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "10.0.0.0/24 -> vgw-1");
	trace(c, "10.0.0.7", "i-a", "tcp", 8080, &r);
	assert_reachable(&r);
	assert_string_equal(must_step(&r, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-pl-http");
	/* the list's second CIDR, which no route of the VPN connection covers:
	 * the router hands it to vgw-1's port, where no tunnel would carry it */
	trace(c, "i-a", "10.0.8.7", "icmp", -1, &r);
	assert_dropped(&r, TRACE_VPN_DOWN);
	assert_string_equal(must_step(&r, TRACE_STEP_ROUTE)->ts_rule, "10.0.8.0/24 -> vgw-1");
	/* not in the list: no route out */
	trace(c, "i-a", "10.0.9.7", "icmp", -1, &r);
	assert_dropped(&r, TRACE_NO_ROUTE);
	cache_free(c);
}

/* The answer's way back through the stateless parts: security groups pass
 * it as tracked, the NACL decides it. */
static void test_the_answer_is_tracked_by_groups_not_nacls(void **state)
{
	(void)state;
	struct cache *c = seed_cache(MAIN_OFFICE_VGW, "UP");
	/* sg-web lets nothing out to the office on 49152 ... */
	set(c, "sgr-web-out",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":true,\"IpProtocol\":\"udp\",\"FromPort\":53,\"ToPort\":53,\"CidrIpv4\":\"0.0.0.0/0\"}");
	struct trace_result r;
	trace(c, "10.0.0.5", "i-a", "tcp", 22, &r);
	assert_reachable(&r);
	assert_null(step_of(&r, TRACE_STEP_SG_EGRESS));
	struct net_trace_result nr;
	router_walk(c, "eni-a", NULL, "10.0.0.5", 6, 22, false, &nr);
	assert_int_equal(nr.drop, NET_DROP_SG_EGRESS);	/* as a new flow it would not leave */
	/* ... while an outbound NACL deny of the ephemeral ports (rule 50) drops the answer */
	set(c, "acl-1",
	    "{\"NetworkAclId\":\"acl-1\",\"VpcId\":\"vpc-1\",\"IsDefault\":true,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"10.0.0.0/24\",\"Egress\":true,\"Protocol\":\"6\",\"RuleAction\":\"deny\",\"RuleNumber\":50,"
	    "\"PortRange\":{\"From\":1024,\"To\":65535}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}");
	trace(c, "10.0.0.5", "i-a", "tcp", 22, &r);
	assert_dropped(&r, TRACE_REPLY_NACL_OUT);
	assert_string_equal(last_step(&r)->ts_component, "acl-1");
	assert_string_equal(last_step(&r)->ts_rule, "50");
	cache_free(c);
}

/* plan_only off: the same snapshot as a router without TAPs or ports sees
 * it; the trace asks with plan_only, so it answers without the data plane. */
static void test_without_plan_only_nothing_is_attached(void **state)
{
	(void)state;
	struct cache *c = seed_cache(MAIN_OFFICE_VGW, "UP");
	char err[256];
	struct engine_net_plan *p = engine_net_plan_build(c);
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	assert_non_null(s);
	struct net_trace_query q = { .from_id = "eni-a", .dst = ip("10.96.1.5"), .proto = 6, .dport = 5432 };
	struct net_trace_result r;
	assert_int_equal(net_snapshot_trace(s, router_mac, &q, &r, err, sizeof(err)), 0);
	assert_int_equal(r.drop, NET_DROP_NO_ENI);
	q.dst = ip("10.0.0.5");
	assert_int_equal(net_snapshot_trace(s, router_mac, &q, &r, err, sizeof(err)), 0);
	assert_int_equal(r.drop, NET_DROP_NO_PORT);
	q.plan_only = true;
	assert_int_equal(net_snapshot_trace(s, router_mac, &q, &r, err, sizeof(err)), 0);
	assert_true(r.delivered);
	net_snapshot_free(s);
	engine_net_plan_free(p);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_office_to_instance_through_vpn),
		cmocka_unit_test(test_no_route_back_to_vpn),
		cmocka_unit_test(test_disagreement_answer_to_the_internet_gateway),
		cmocka_unit_test(test_nacl_deny_rule_is_named),
		cmocka_unit_test(test_security_group_without_rule),
		cmocka_unit_test(test_vpn_down),
		cmocka_unit_test(test_the_router_picks_the_connection),
		cmocka_unit_test(test_no_vpn_gateway),
		cmocka_unit_test(test_same_subnet_skips_nacls_and_references_groups),
		cmocka_unit_test(test_cross_subnet_needs_ephemeral_ports_in_nacl),
		cmocka_unit_test(test_no_destination),
		cmocka_unit_test(test_from_an_eni_address),
		cmocka_unit_test(test_blackhole_and_appliance),
		cmocka_unit_test(test_internet_both_ways),
		cmocka_unit_test(test_answer_through_another_gateway),
		cmocka_unit_test(test_disagreement_transit_gateway_route),
		cmocka_unit_test(test_disagreement_vpn_without_routes),
		cmocka_unit_test(test_route_propagation),
		cmocka_unit_test(test_the_result_as_a_doc),
		cmocka_unit_test(test_bad_queries),
		cmocka_unit_test(test_disagreement_nat_gateway),
		cmocka_unit_test(test_nat_gateway_answer_walked),
		cmocka_unit_test(test_nat_gateway_subnet_nacl_denies_the_answer),
		cmocka_unit_test(test_nat_instance_subnet_nacl_denies_the_answer),
		cmocka_unit_test(test_disagreement_peering),
		cmocka_unit_test(test_prefix_lists),
		cmocka_unit_test(test_the_answer_is_tracked_by_groups_not_nacls),
		cmocka_unit_test(test_without_plan_only_nothing_is_attached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
