/*
 * test_trace_engines.c — the two packet-decision engines side by side on
 * the same cache (issue 15, "one network picture"): the model's trace
 * (api_trace over src/api/trace.c's builders, src/model/trace.c) and the
 * router's own trace (engine_net_plan_build, the plan the data plane runs
 * on, compiled by net_snapshot_build without TAPs or ports and walked by
 * net_snapshot_trace with plan_only, i.e. src/net/path.c itself).
 *
 * And engine_trace (src/engine/engine_trace.c, what vpcd's VpcdTracePacket
 * and the Reachability Analyzer now answer with): the router's walk and
 * its answer's, told in the model's shape. It says what the model says
 * wherever the model follows the packet (causes, the NACL rule, the
 * refusing ENI and its groups, the sgr- ids; reply-no-route,
 * reply-nacl-out, vpn-down), and follows NAT gateways and peering, where
 * it also walks the answer's way back (reply-no-route without a route
 * back through the peering).
 *
 * Where they agree the test says so case by case (verdict, cause, the NACL
 * rule that decided, the sgr- ids of the security group rules that allowed:
 * the router's steps name a group and a rule index, which the plan maps
 * back with engine_net_sg_rule_id). Where they disagree it pins today's disagreement, so
 * that moving `vpcctl trace` onto the router's trace changes these
 * assertions knowingly:
 *   - a NAT gateway route and a peering route: the router carries the
 *     packet (to the internet through the NAT gateway and the igw; into
 *     the peer VPC); the model stops at "unsupported-target" (or, with the
 *     peer's ENI named by its id, "no-route": another VPC's ENI counts
 *     only by a public address). The router is right.
 *   - the reply's way back: the model walks the reply in the same trace
 *     (stateless NACLs, the route back to a gateway) and drops the
 *     office's packet when the VPC has no route back or the NACL refuses
 *     the answer; the router's trace follows one packet, so the way back
 *     is a second trace, of the answer (net_trace_query.answer: the
 *     groups pass it as tracked), which finds the same drop (no-route,
 *     nacl-out rule 50). A router-based `vpcctl trace` runs both.
 *   - a route to a VPN gateway whose tunnels are all DOWN, or to a
 *     destination that no route of its connections covers (here through a
 *     prefix list): the model says "vpn-down"; the router hands the packet
 *     to the gateway's port and the endpoint drops it later (the packet
 *     decided twice, issue 15's item 1). The model is right.
 * Prefix lists as a route's destination and a rule's peer: both agree.
 * The fixture is the seed's VPC of test_api_trace.c (with MAC addresses,
 * which the plan requires of an ENI).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/resources.h"
#include "api/trace.h"
#include "engine/engine_net.h"
#include "engine/engine_trace.h"
#include "net/net.h"

static int64_t ord;

static struct doc *json(const char *text)
{
	struct doc *d = doc_from_json(text, strlen(text));
	assert_non_null(d);
	return d;
}

static void put(struct cache *c, const char *type, const char *id, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	assert_non_null(d);
	doc_free(cache_put(c, type, id, ++ord, d));
}

/* The seed's VPC: vpc-1 10.96.0.0/16, subnet-pub (routed to igw-1 by
 * rtb-pub) and subnet-priv (the main table rtb-main: local plus
 * main_extra_route), acl-1 on both (inbound: rule 90 denies TCP 23 from
 * the office 10.0.0.0/24, 100 allows all), vgw-1 with vpn-1 (static route
 * 10.0.0.0/24, first tunnel tunnel_status), eni-a (i-a) and eni-b in the
 * private subnet, eni-p with 198.51.100.4 in the public one. */
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
		 "\"Routes\":[{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"Source\":\"Static\"}]}", tunnel_status);
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
	put(c, "network-acl", "acl-1",
	    "{\"NetworkAclId\":\"acl-1\",\"VpcId\":\"vpc-1\",\"IsDefault\":true,\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"10.0.0.0/24\",\"Egress\":false,\"Protocol\":\"6\",\"RuleAction\":\"deny\",\"RuleNumber\":90,"
	    "\"PortRange\":{\"From\":23,\"To\":23}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}");
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
	    "\"Association\":{\"PublicIp\":\"198.51.100.4\",\"IpOwnerId\":\"amazon\"}}");
	put(c, "instance", "i-a", "{\"InstanceId\":\"i-a\"}");
	return c;
}

/* A NAT gateway in the public subnet (its interface eni-nat, Elastic IP
 * 198.51.100.9); the private subnet's default route goes to it. */
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

/* One packet through both engines. */
struct both {
	struct trace_result model;
	struct trace_result engine;	/* engine_trace: the router's walk in the model's words */
	struct net_trace_result router;
	/* the sgr- ids of the router's security group steps that allowed
	 * (engine_net_sg_rule_id), egress and ingress; "" none */
	char router_sgr_out[NET_ID_MAX], router_sgr_in[NET_ID_MAX];
};

static uint32_t ip(const char *s)
{
	uint32_t a;
	assert_true(ip4_parse(s, &a));
	return a;
}

/* The router's answer to a traced packet: from ENI answer_from (src 0)
 * to dst, ports swapped (sport: the port asked for; dport: the trace's
 * default source port), an echo reply for ICMP; with answer false, the
 * same packet as the first of a new flow. */
static void router_walk(struct cache *c, const char *answer_from, const char *dst, const char *proto, int port,
			bool answer, struct net_trace_result *out)
{
	char err[256];
	struct engine_net_plan *p = engine_net_plan_build(c);
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	if (!s)
		fail_msg("the plan does not compile: %s", err);
	struct net_trace_query nq = { .dst = ip(dst), .plan_only = true, .answer = answer };
	snprintf(nq.from_id, sizeof(nq.from_id), "%s", answer_from);
	nq.proto = strcmp(proto, "tcp") == 0 ? 6 : strcmp(proto, "udp") == 0 ? 17 : 1;
	nq.sport = (uint16_t)(port > 0 ? port : 0);
	nq.dport = TRACE_EPHEMERAL_PORT_DEFAULT;
	nq.icmp_given = nq.proto == 1;	/* echo reply 0/0 */
	static const uint8_t mac[6] = { 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01 };
	assert_int_equal(net_snapshot_trace(s, mac, &nq, out, err, sizeof(err)), 0);
	net_snapshot_free(s);
	engine_net_plan_free(p);
	print_message("  %s %s -> %s: router %s\n", answer ? "answer" : "new flow", answer_from, dst,
		      out->delivered ? "delivered" : net_drop_name(out->drop));
}

/* from/to as vpcctl passes them to the model; router_from (an ENI or the
 * gateway an outside address comes in through), src (0: the ENI's) and dst
 * as the router's query needs them. */
static void trace_both(struct cache *c, const char *from, const char *to, const char *proto, int port,
		       const char *router_from, const char *src, const char *dst, struct both *out)
{
	char err[256];
	struct api_trace_query q = { from, to, proto, port, 0 };
	assert_int_equal(api_trace(c, &q, &out->model, err, sizeof(err)), 0);
	if (engine_trace(c, &q, &out->engine, err, sizeof(err)) < 0)
		fail_msg("engine_trace: %s", err);

	struct engine_net_plan *p = engine_net_plan_build(c);
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	if (!s)
		fail_msg("the plan does not compile: %s", err);
	struct net_trace_query nq = { .dst = ip(dst), .plan_only = true };
	snprintf(nq.from_id, sizeof(nq.from_id), "%s", router_from);
	nq.src = src ? ip(src) : 0;
	nq.proto = strcmp(proto, "tcp") == 0 ? 6 : strcmp(proto, "udp") == 0 ? 17 : 1;
	nq.dport = (uint16_t)(port > 0 ? port : 0);
	static const uint8_t mac[6] = { 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01 };
	assert_int_equal(net_snapshot_trace(s, mac, &nq, &out->router, err, sizeof(err)), 0);
	out->router_sgr_out[0] = out->router_sgr_in[0] = '\0';
	for (size_t i = 0; i < out->router.n_steps; i++) {
		const struct net_trace_step *st = &out->router.steps[i];
		const char *id = engine_net_sg_rule_id(p, st->id, st->rule);
		if (st->allowed && id && st->stage == NET_TRACE_SG_EGRESS)
			snprintf(out->router_sgr_out, NET_ID_MAX, "%s", id);
		if (st->allowed && id && st->stage == NET_TRACE_SG_INGRESS)
			snprintf(out->router_sgr_in, NET_ID_MAX, "%s", id);
	}
	net_snapshot_free(s);
	engine_net_plan_free(p);

	print_message("%s -> %s %s/%d: model %s, router %s, engine_trace %s\n", from, to, proto, port,
		      out->model.tr_reachable ? "reachable" : trace_cause_name(out->model.tr_cause),
		      out->router.delivered ? "delivered" : net_drop_name(out->router.drop),
		      trace_cause_name(out->engine.tr_cause));
}

static const struct trace_step *model_step(const struct trace_result *r, enum trace_step_kind k)
{
	for (size_t i = 0; i < r->tr_nsteps; i++)
		if (r->tr_steps[i].ts_kind == k)
			return &r->tr_steps[i];
	return NULL;
}

static const struct net_trace_step *router_step(const struct net_trace_result *r, enum net_trace_stage st)
{
	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].stage == st)
			return &r->steps[i];
	return NULL;
}

/* engine_trace says what the model says: reachable, cause. */
static void assert_engine_is_model(const struct both *b)
{
	assert_int_equal(b->engine.tr_reachable, b->model.tr_reachable);
	assert_string_equal(trace_cause_name(b->engine.tr_cause), trace_cause_name(b->model.tr_cause));
}

/* All deliver, or all drop for the same cause. */
static void assert_agree(const struct both *b)
{
	assert_int_equal(b->model.tr_reachable, b->router.delivered);
	if (!b->router.delivered)
		assert_string_equal(trace_cause_name(b->model.tr_cause), net_drop_name(b->router.drop));
	assert_engine_is_model(b);
}

/* The step of kind k of a model-shaped result (the last one). */
static const struct trace_step *shaped_step(const struct trace_result *r, enum trace_step_kind k)
{
	const struct trace_step *found = NULL;
	for (size_t i = 0; i < r->tr_nsteps; i++)
		if (r->tr_steps[i].ts_kind == k)
			found = &r->tr_steps[i];
	return found;
}

static void test_agree_on_the_seed(void **state)
{
	(void)state;
	struct both b;
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}", "UP");

	/* the office to the instance through the VPN gateway: SSH, ping */
	trace_both(c, "10.0.0.5", "i-a", "tcp", 22, "vgw-1", "10.0.0.5", "10.96.1.4", &b);
	assert_true(b.model.tr_reachable);
	assert_agree(&b);
	assert_string_equal(model_step(&b.model, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-ssh");
	assert_string_equal(b.router_sgr_in, "sgr-ssh");
	trace_both(c, "10.0.0.5", "10.96.1.4", "icmp", -1, "vgw-1", "10.0.0.5", "10.96.1.4", &b);
	assert_true(b.model.tr_reachable);
	assert_agree(&b);
	/* telnet: the NACL's rule 90, named by both */
	trace_both(c, "10.0.0.5", "i-a", "tcp", 23, "vgw-1", "10.0.0.5", "10.96.1.4", &b);
	assert_int_equal(b.model.tr_cause, TRACE_NACL_IN);
	assert_agree(&b);
	assert_string_equal(b.model.tr_steps[b.model.tr_nsteps - 1].ts_rule, "90");
	const struct net_trace_step *st = router_step(&b.router, NET_TRACE_NACL_IN);
	assert_non_null(st);
	assert_false(st->allowed);
	assert_int_equal(st->rule, 90);
	assert_string_equal(st->id, "acl-1");
	const struct trace_step *es = &b.engine.tr_steps[b.engine.tr_nsteps - 1];
	assert_int_equal(es->ts_kind, TRACE_STEP_NACL_IN);
	assert_false(es->ts_ok);
	assert_string_equal(es->ts_component, "acl-1");
	assert_string_equal(es->ts_rule, "90");
	/* the instance to the office: out through the VPN gateway */
	trace_both(c, "i-a", "10.0.0.5", "icmp", -1, "eni-a", NULL, "10.0.0.5", &b);
	assert_true(b.model.tr_reachable);
	assert_agree(&b);
	/* a group referenced by a rule (same subnet: no NACL) */
	trace_both(c, "i-a", "eni-b", "tcp", 5432, "eni-a", NULL, "10.96.1.5", &b);
	assert_true(b.model.tr_reachable);
	assert_agree(&b);
	/* both name the rules that let it through, by their sgr- ids */
	assert_string_equal(model_step(&b.model, TRACE_STEP_SG_EGRESS)->ts_rule, "sgr-web-out");
	assert_string_equal(b.router_sgr_out, "sgr-web-out");
	assert_string_equal(model_step(&b.model, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-pg");
	assert_string_equal(b.router_sgr_in, "sgr-pg");
	assert_string_equal(shaped_step(&b.engine, TRACE_STEP_SG_INGRESS)->ts_component, "sg-db");
	assert_string_equal(shaped_step(&b.engine, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-pg");
	/* ... and a port it does not open */
	trace_both(c, "i-a", "eni-b", "tcp", 5433, "eni-a", NULL, "10.96.1.5", &b);
	assert_int_equal(b.model.tr_cause, TRACE_SG_INGRESS);
	assert_agree(&b);
	es = &b.engine.tr_steps[b.engine.tr_nsteps - 1];
	assert_int_equal(es->ts_kind, TRACE_STEP_SG_INGRESS);
	assert_string_equal(es->ts_component, "eni-b");
	assert_string_equal(es->ts_rule, "");
	assert_non_null(strstr(es->ts_detail, "no ingress rule"));
	assert_non_null(strstr(es->ts_detail, "sg-db"));
	/* the public instance to the internet, and the internet to it */
	trace_both(c, "eni-p", "203.0.113.7", "udp", 53, "eni-p", NULL, "203.0.113.7", &b);
	assert_true(b.model.tr_reachable);
	assert_agree(&b);
	trace_both(c, "203.0.113.7", "198.51.100.4", "tcp", 22, "igw-1", "203.0.113.7", "198.51.100.4", &b);
	assert_int_equal(b.model.tr_cause, TRACE_SG_INGRESS);	/* SSH only from the office */
	assert_agree(&b);
	/* no route from the private subnet to the internet */
	trace_both(c, "i-a", "203.0.113.7", "icmp", -1, "eni-a", NULL, "203.0.113.7", &b);
	assert_int_equal(b.model.tr_cause, TRACE_NO_ROUTE);
	assert_agree(&b);
	cache_free(c);
}

static void test_nat_gateway_only_the_router_follows(void **state)
{
	(void)state;
	struct both b;
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"NatGatewayId\":\"nat-1\",\"State\":\"active\"}", "UP");
	add_nat_gateway(c);
	trace_both(c, "i-a", "203.0.113.7", "udp", 53, "eni-a", NULL, "203.0.113.7", &b);
	/* the model stops at the NAT gateway; engine_trace follows it */
	assert_false(b.model.tr_reachable);
	assert_int_equal(b.model.tr_cause, TRACE_UNSUPPORTED_TARGET);
	assert_true(b.engine.tr_reachable);
	/* the router: translated to the gateway's address, routed by the
	 * public subnet's table to the igw, out as the Elastic IP */
	assert_true(b.router.delivered);
	const struct net_trace_step *st = router_step(&b.router, NET_TRACE_NAT_GATEWAY);
	assert_non_null(st);
	assert_string_equal(st->id, "nat-1");
	assert_int_equal(st->addr, ip("10.96.0.9"));
	st = router_step(&b.router, NET_TRACE_NAT_OUT);
	assert_non_null(st);
	assert_int_equal(st->addr, ip("198.51.100.9"));
	st = router_step(&b.router, NET_TRACE_PORT);
	assert_non_null(st);
	assert_string_equal(st->id, "igw-1");
	cache_free(c);
}

static void test_peering_only_the_router_follows(void **state)
{
	(void)state;
	struct both b;
	struct cache *c = seed_cache("", "UP");
	add_peering(c);
	/* named by its id, an ENI of another VPC is reachable for the model
	 * only by a public address ("no-route") */
	trace_both(c, "eni-c", "i-a", "tcp", 22, "eni-c", NULL, "10.96.1.4", &b);
	assert_false(b.model.tr_reachable);
	assert_int_equal(b.model.tr_cause, TRACE_NO_ROUTE);
	assert_true(b.router.delivered);
	/* engine_trace: it arrives, but vpc-1 has no route back to vpc-2 */
	assert_int_equal(b.engine.tr_cause, TRACE_REPLY_NO_ROUTE);
	assert_string_equal(shaped_step(&b.engine, TRACE_STEP_REPLY_ROUTE)->ts_component, "rtb-main");
	/* named by its address, the model stops at the peering route */
	trace_both(c, "eni-c", "10.96.1.4", "tcp", 22, "eni-c", NULL, "10.96.1.4", &b);
	assert_false(b.model.tr_reachable);
	assert_int_equal(b.model.tr_cause, TRACE_UNSUPPORTED_TARGET);
	assert_true(b.router.delivered);
	const struct net_trace_step *st = router_step(&b.router, NET_TRACE_ROUTE);
	assert_non_null(st);
	assert_int_equal(st->route.target, NET_TARGET_PEERING);
	assert_string_equal(st->route.target_id, "pcx-1");
	st = router_step(&b.router, NET_TRACE_DELIVER);
	assert_non_null(st);
	assert_string_equal(st->id, "eni-a");
	/* a port sg-web does not open to the peer: both would refuse it, but
	 * the model never gets past the route */
	trace_both(c, "eni-c", "10.96.1.4", "tcp", 80, "eni-c", NULL, "10.96.1.4", &b);
	assert_int_equal(b.model.tr_cause, TRACE_UNSUPPORTED_TARGET);
	assert_false(b.router.delivered);
	assert_int_equal(b.router.drop, NET_DROP_SG_INGRESS);
	assert_int_equal(b.engine.tr_cause, TRACE_SG_INGRESS);
	/* with the route back in vpc-1's table, engine_trace: reachable */
	struct res *rtb = cache_get(c, "rtb-main");
	struct doc *d = doc_clone(rtb->r_doc);
	doc_push(doc_get_list(d, "Routes"),
		 json("{\"DestinationCidrBlock\":\"10.97.0.0/16\",\"VpcPeeringConnectionId\":\"pcx-1\",\"State\":\"active\"}"));
	doc_free(cache_put(c, "route-table", "rtb-main", rtb->r_ord, d));
	trace_both(c, "eni-c", "i-a", "tcp", 22, "eni-c", NULL, "10.96.1.4", &b);
	assert_true(b.engine.tr_reachable);
	assert_string_equal(shaped_step(&b.engine, TRACE_STEP_ROUTE)->ts_rule, "10.96.0.0/16 -> pcx-1");
	assert_string_equal(shaped_step(&b.engine, TRACE_STEP_REPLY_ROUTE)->ts_rule, "10.97.0.0/16 -> pcx-1");
	assert_string_equal(shaped_step(&b.engine, TRACE_STEP_DESTINATION)->ts_component, "eni-a");
	cache_free(c);
}

/* A managed prefix list (the office's two networks) as a route's
 * destination and as a security group rule's peer: both engines expand it
 * into one route / rule per CIDR and agree. */
static void test_prefix_lists(void **state)
{
	(void)state;
	struct both b;
	struct cache *c = seed_cache(",{\"DestinationPrefixListId\":\"pl-office\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}", "UP");
	put(c, RT_PREFIX_LIST, "pl-office",
	    "{\"PrefixListId\":\"pl-office\",\"AddressFamily\":\"IPv4\","
	    "\"_Entries\":[{\"Cidr\":\"10.0.0.0/24\"},{\"Cidr\":\"10.0.8.0/24\"}]}");
	put(c, "security-group-rule", "sgr-pl-http",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":8080,\"ToPort\":8080,"
	    "\"PrefixListId\":\"pl-office\"}");
	/* routed to the VPN gateway by the list, allowed in by the list */
	trace_both(c, "i-a", "10.0.0.7", "icmp", -1, "eni-a", NULL, "10.0.0.7", &b);
	assert_true(b.model.tr_reachable);
	assert_agree(&b);
	trace_both(c, "10.0.0.7", "i-a", "tcp", 8080, "vgw-1", "10.0.0.7", "10.96.1.4", &b);
	assert_true(b.model.tr_reachable);
	assert_agree(&b);
	assert_string_equal(model_step(&b.model, TRACE_STEP_SG_INGRESS)->ts_rule, "sgr-pl-http");
	assert_string_equal(b.router_sgr_in, "sgr-pl-http");
	/* the list's second CIDR, which no route of the VPN connection covers:
	 * the model says vpn-down (no tunnel would carry it), the router hands
	 * it to vgw-1's port (the endpoint then finds no tunnel route for it) */
	trace_both(c, "i-a", "10.0.8.7", "icmp", -1, "eni-a", NULL, "10.0.8.7", &b);
	assert_int_equal(b.model.tr_cause, TRACE_VPN_DOWN);
	assert_true(b.router.delivered);
	assert_string_equal(router_step(&b.router, NET_TRACE_PORT)->id, "vgw-1");
	assert_engine_is_model(&b);	/* engine_trace checks the endpoint's decision */
	/* not in the list: no route out, and no rule in */
	trace_both(c, "i-a", "10.0.9.7", "icmp", -1, "eni-a", NULL, "10.0.9.7", &b);
	assert_int_equal(b.model.tr_cause, TRACE_NO_ROUTE);
	assert_agree(&b);
	cache_free(c);
}

static void test_the_way_back(void **state)
{
	(void)state;
	struct both b;
	/* no route back to the office in the private subnet's table */
	struct cache *c = seed_cache("", "UP");
	trace_both(c, "10.0.0.5", "i-a", "tcp", 22, "vgw-1", "10.0.0.5", "10.96.1.4", &b);
	assert_int_equal(b.model.tr_cause, TRACE_REPLY_NO_ROUTE);
	assert_true(b.router.delivered);	/* the first packet arrives; its answer has no way back */
	assert_engine_is_model(&b);
	/* the router's trace of the answer (net_trace_query.answer) finds it */
	struct net_trace_result ans;
	router_walk(c, "eni-a", "10.0.0.5", "tcp", 22, true, &ans);
	assert_false(ans.delivered);
	assert_int_equal(ans.drop, NET_DROP_NO_ROUTE);
	assert_string_equal(router_step(&ans, NET_TRACE_ROUTE)->id, "rtb-main");
	cache_free(c);

	/* with the route, the answer leaves through vgw-1 without a security
	 * group step (tracked), even though sg-web has no rule out to the
	 * office on port 49152 ... */
	c = seed_cache(",{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}", "UP");
	doc_free(cache_put(c, "security-group-rule", "sgr-web-out", cache_get(c, "sgr-web-out")->r_ord,
			   json("{\"GroupId\":\"sg-web\",\"IsEgress\":true,\"IpProtocol\":\"udp\","
				"\"FromPort\":53,\"ToPort\":53,\"CidrIpv4\":\"0.0.0.0/0\"}")));
	router_walk(c, "eni-a", "10.0.0.5", "tcp", 22, false, &ans);
	assert_int_equal(ans.drop, NET_DROP_SG_EGRESS);
	router_walk(c, "eni-a", "10.0.0.5", "tcp", 22, true, &ans);
	assert_true(ans.delivered);
	assert_null(router_step(&ans, NET_TRACE_SG_EGRESS));
	assert_string_equal(router_step(&ans, NET_TRACE_PORT)->id, "vgw-1");
	/* ... while the NACL, stateless, decides the answer too: an outbound
	 * deny of the ephemeral ports (rule 50) drops it, as the model's
	 * reply-nacl-out says */
	struct res *acl = cache_get(c, "acl-1");
	struct doc *d = doc_clone(acl->r_doc);
	doc_push(doc_get_list(d, "Entries"),
		 json("{\"CidrBlock\":\"10.0.0.0/24\",\"Egress\":true,\"Protocol\":\"6\",\"RuleAction\":\"deny\","
		      "\"RuleNumber\":50,\"PortRange\":{\"From\":1024,\"To\":65535}}"));
	doc_free(cache_put(c, "network-acl", "acl-1", acl->r_ord, d));
	trace_both(c, "10.0.0.5", "i-a", "tcp", 22, "vgw-1", "10.0.0.5", "10.96.1.4", &b);
	assert_int_equal(b.model.tr_cause, TRACE_REPLY_NACL_OUT);
	assert_true(b.router.delivered);
	assert_engine_is_model(&b);
	assert_string_equal(shaped_step(&b.engine, TRACE_STEP_REPLY_NACL_OUT)->ts_rule, "50");
	router_walk(c, "eni-a", "10.0.0.5", "tcp", 22, true, &ans);
	assert_int_equal(ans.drop, NET_DROP_NACL_OUT);
	assert_int_equal(router_step(&ans, NET_TRACE_NACL_OUT)->rule, 50);
	cache_free(c);
}

static void test_tunnels_down(void **state)
{
	(void)state;
	struct both b;
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}", "DOWN");
	trace_both(c, "i-a", "10.0.0.5", "icmp", -1, "eni-a", NULL, "10.0.0.5", &b);
	assert_int_equal(b.model.tr_cause, TRACE_VPN_DOWN);
	assert_engine_is_model(&b);
	/* the router hands it to the gateway's port; the endpoint has no tunnel for it */
	assert_true(b.router.delivered);
	const struct net_trace_step *st = router_step(&b.router, NET_TRACE_PORT);
	assert_non_null(st);
	assert_string_equal(st->id, "vgw-1");
	cache_free(c);
}

/* plan_only off: the same snapshot as a router without TAPs or ports
 * sees it (what net_router_trace answers on a vpcd without --dataplane). */
static void test_without_plan_only_nothing_is_attached(void **state)
{
	(void)state;
	struct cache *c = seed_cache(",{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"}", "UP");
	char err[256];
	struct engine_net_plan *p = engine_net_plan_build(c);
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	assert_non_null(s);
	static const uint8_t mac[6] = { 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01 };
	struct net_trace_query q = { .from_id = "eni-a", .dst = ip("10.96.1.5"), .proto = 6, .dport = 5432 };
	struct net_trace_result r;
	assert_int_equal(net_snapshot_trace(s, mac, &q, &r, err, sizeof(err)), 0);
	assert_int_equal(r.drop, NET_DROP_NO_ENI);
	q.dst = ip("10.0.0.5");
	assert_int_equal(net_snapshot_trace(s, mac, &q, &r, err, sizeof(err)), 0);
	assert_int_equal(r.drop, NET_DROP_NO_PORT);
	q.plan_only = true;
	assert_int_equal(net_snapshot_trace(s, mac, &q, &r, err, sizeof(err)), 0);
	assert_true(r.delivered);
	net_snapshot_free(s);
	engine_net_plan_free(p);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agree_on_the_seed),
		cmocka_unit_test(test_nat_gateway_only_the_router_follows),
		cmocka_unit_test(test_peering_only_the_router_follows),
		cmocka_unit_test(test_prefix_lists),
		cmocka_unit_test(test_the_way_back),
		cmocka_unit_test(test_tunnels_down),
		cmocka_unit_test(test_without_plan_only_nothing_is_attached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
