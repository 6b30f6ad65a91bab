/*
 * test_route_propagation.c — route propagation from a VPN gateway
 * (api/resources.h: vgw_propagated_routes) as its three readers see it,
 * over one cache holding the docs the API stores: DescribeRouteTables'
 * decoration (rtb_decorate_propagated), the packet trace (engine_trace) and
 * the data plane's route tables (engine_net_plan_build). A VPN
 * connection's static routes propagate into a table listing the gateway in
 * PropagatingVgws only while one of its tunnels is UP; not once the
 * connection is deleted; a static route with the same prefix wins; a
 * table without propagation gets nothing.
 *
 * And a dynamic connection's learned routes (_Bgp.Routes, as the engine
 * writes them from BIRD): propagated while the session of the tunnel that
 * carries them is Established and that tunnel is UP, as static routes are
 * (the data plane routes them to the gateway, the trace reaches through
 * it); a static route of the gateway's connections wins over a learned one
 * for the same prefix, the table's own route over both; one route per
 * prefix whatever the number of connections that learned it, in an order
 * that depends on the docs only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/api_int.h"
#include "api/resources.h"
#include "engine/engine_net.h"
#include "engine/engine_trace.h"

static int64_t ord;

static void put(struct cache *c, const char *type, const char *id, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	assert_non_null(d);
	doc_free(cache_put(c, type, id, ++ord, d));
}

/* tunnel 1's status, the connection's state; into c */
static struct cache *seed_into(struct cache *c, const char *status, const char *state)
{
	put(c, "vpc", "vpc-1", "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.0.0/16\"}");
	put(c, "subnet", "subnet-1", "{\"SubnetId\":\"subnet-1\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-1\",\"CidrBlock\":\"10.96.1.0/24\"}");
	put(c, "internet-gateway", "igw-1", "{\"InternetGatewayId\":\"igw-1\",\"Attachments\":[{\"State\":\"available\",\"VpcId\":\"vpc-1\"}]}");
	put(c, "vpn-gateway", "vgw-1", "{\"VpnGatewayId\":\"vgw-1\",\"VpcAttachments\":[{\"State\":\"attached\",\"VpcId\":\"vpc-1\"}]}");
	char vpn[600];
	snprintf(vpn, sizeof(vpn),
		 "{\"VpnConnectionId\":\"vpn-1\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"%s\","
		 "\"VgwTelemetry\":[{\"Status\":\"%s\"},{\"Status\":\"DOWN\"}],"
		 "\"Routes\":[{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"Source\":\"Static\",\"State\":\"%s\"},"
		 "{\"DestinationCidrBlock\":\"172.16.0.0/16\",\"Source\":\"Static\",\"State\":\"%s\"}]}",
		 state, status, strcmp(state, "deleted") ? "available" : "deleted",
		 strcmp(state, "deleted") ? "available" : "deleted");
	put(c, "vpn-connection", "vpn-1", vpn);
	/* the main table propagates; 172.16.0.0/16 is also a static route to the igw */
	put(c, "route-table", "rtb-main",
	    "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
	    "\"Associations\":[{\"Main\":true,\"RouteTableAssociationId\":\"rtbassoc-1\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"Origin\":\"CreateRouteTable\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"172.16.0.0/16\",\"GatewayId\":\"igw-1\",\"Origin\":\"CreateRoute\",\"State\":\"active\"}],"
	    "\"PropagatingVgws\":[{\"GatewayId\":\"vgw-1\"}]}");
	put(c, "route-table", "rtb-quiet",
	    "{\"RouteTableId\":\"rtb-quiet\",\"VpcId\":\"vpc-1\",\"Associations\":[],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"}],"
	    "\"PropagatingVgws\":[]}");
	put(c, "network-acl", "acl-1",
	    "{\"NetworkAclId\":\"acl-1\",\"VpcId\":\"vpc-1\",\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}");
	put(c, "security-group", "sg-1", "{\"GroupId\":\"sg-1\",\"VpcId\":\"vpc-1\",\"GroupName\":\"g\"}");
	put(c, "security-group-rule", "sgr-out",
	    "{\"GroupId\":\"sg-1\",\"IsEgress\":true,\"IpProtocol\":\"-1\",\"FromPort\":-1,\"ToPort\":-1,\"CidrIpv4\":\"0.0.0.0/0\"}");
	put(c, "network-interface", "eni-a",
	    "{\"NetworkInterfaceId\":\"eni-a\",\"SubnetId\":\"subnet-1\",\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":\"10.96.1.4\","
	    "\"MacAddress\":\"02:00:00:00:00:01\",\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-1\",\"GroupName\":\"g\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-a\",\"DeviceIndex\":0,\"Status\":\"attached\"}}");
	return c;
}

static struct cache *seed(const char *status, const char *state)
{
	return seed_into(cache_new(), status, state);
}

/* DescribeRouteTables' view of a table: its routes as "DEST GW ORIGIN" lines. */
static void described(struct cache *c, const char *rtb, char *buf, size_t len)
{
	struct api api;
	memset(&api, 0, sizeof(api));
	api.a_cache = c;
	struct api_req rq;
	memset(&rq, 0, sizeof(rq));
	rq.rq_api = &api;
	struct doc *item = doc_clone(cache_get_typed(c, RT_ROUTE_TABLE, rtb)->r_doc);
	rtb_decorate_propagated(&rq, item);
	buf[0] = '\0';
	size_t used = 0;
	doc_foreach(r, doc_get(item, "Routes"))
		used += (size_t)snprintf(buf + used, len - used, "%s %s %s %s;", doc_get_str(r, "DestinationCidrBlock"),
					 doc_get_str(r, "GatewayId"), doc_get_str(r, "Origin") ? doc_get_str(r, "Origin") : "-",
					 doc_get_str(r, "State"));
	doc_free(item);
}

/* The data plane's table: its routes as "DEST TARGET" lines. */
static void planned(struct cache *c, const char *rtb, char *buf, size_t len)
{
	struct engine_net_plan *p = engine_net_plan_build(c);
	buf[0] = '\0';
	size_t used = 0;
	for (size_t i = 0; i < p->np_cfg.n_route_tables; i++) {
		const struct net_route_table_config *t = &p->np_cfg.route_tables[i];
		if (strcmp(t->id, rtb) != 0)
			continue;
		for (size_t k = 0; k < t->n_routes; k++) {
			char dest[CIDR_STR_MAX];
			cidr_format(&t->routes[k].dest, dest);
			used += (size_t)snprintf(buf + used, len - used, "%s %s;", dest,
						 t->routes[k].target == NET_TARGET_LOCAL ? "local" : t->routes[k].target_id);
		}
	}
	engine_net_plan_free(p);
}

static bool traced(struct cache *c, const char *to)
{
	struct trace_query q = { "i-a", to, "icmp", -1, 0 };
	struct trace_result r;
	char err[200];
	assert_int_equal(engine_trace(c, &q, &r, err, sizeof(err)), 0);
	return r.tr_reachable;
}

static void test_up(void **state)
{
	(void)state;
	struct cache *c = seed("UP", "available");
	assert_int_equal(vgw_propagated_routes(c, "vgw-1", NULL, NULL), 2);
	char buf[1024];
	described(c, "rtb-main", buf, sizeof(buf));
	/* 172.16.0.0/16: the static route wins, the propagated one is not shown */
	assert_string_equal(buf, "10.96.0.0/16 local CreateRouteTable active;"
				 "172.16.0.0/16 igw-1 CreateRoute active;"
				 "10.0.0.0/24 vgw-1 EnableVgwRoutePropagation active;");
	described(c, "rtb-quiet", buf, sizeof(buf));
	assert_string_equal(buf, "10.96.0.0/16 local - active;");
	planned(c, "rtb-main", buf, sizeof(buf));
	assert_string_equal(buf, "10.96.0.0/16 local;172.16.0.0/16 igw-1;10.0.0.0/24 vgw-1;");
	assert_true(traced(c, "10.0.0.5"));
	cache_free(c);
}

static void test_down_or_deleted(void **state)
{
	(void)state;
	const char *cases[][2] = { { "DOWN", "available" }, { "UP", "deleted" }, { "UP", "deleting" } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cache *c = seed(cases[i][0], cases[i][1]);
		assert_int_equal(vgw_propagated_routes(c, "vgw-1", NULL, NULL), 0);
		char buf[1024];
		described(c, "rtb-main", buf, sizeof(buf));
		assert_string_equal(buf, "10.96.0.0/16 local CreateRouteTable active;172.16.0.0/16 igw-1 CreateRoute active;");
		planned(c, "rtb-main", buf, sizeof(buf));
		assert_string_equal(buf, "10.96.0.0/16 local;172.16.0.0/16 igw-1;");
		assert_false(traced(c, "10.0.0.5"));
		cache_free(c);
	}
	struct cache *c = seed("UP", "available");
	assert_int_equal(vgw_propagated_routes(c, "vgw-nope", NULL, NULL), 0);
	cache_free(c);
}

/* --- learned routes (_Bgp) ------------------------------------------------------ */

/* A dynamic connection of vgw-1: tunnel 1's session in state s1 with its
 * telemetry t1, tunnel 2's in s2 / t2; it learned 192.168.10.0/24 and
 * 10.0.0.0/24 (also vpn-1's static route) over tunnel 1, 172.16.0.0/16
 * (also the table's own route to igw-1) over tunnel 1, and 192.168.20.0/24
 * over tunnel 2. */
static void put_dynamic(struct cache *c, const char *id, const char *state, const char *s1, const char *t1,
			const char *s2, const char *t2, const char *extra_route)
{
	char vpn[2048];
	snprintf(vpn, sizeof(vpn),
		 "{\"VpnConnectionId\":\"%s\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"%s\","
		 "\"Options\":{\"StaticRoutesOnly\":false},"
		 "\"VgwTelemetry\":[{\"Status\":\"%s\"},{\"Status\":\"%s\"}],"
		 "\"_Bgp\":{\"Tunnels\":[{\"State\":\"%s\",\"Received\":3},{\"State\":\"%s\",\"Received\":1}],"
		 "\"Routes\":[%s{\"DestinationCidrBlock\":\"192.168.10.0/24\",\"Tunnel\":0,\"AsPathLength\":1},"
		 "{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"Tunnel\":0,\"AsPathLength\":1},"
		 "{\"DestinationCidrBlock\":\"172.16.0.0/16\",\"Tunnel\":0,\"AsPathLength\":1},"
		 "{\"DestinationCidrBlock\":\"192.168.20.0/24\",\"Tunnel\":1,\"AsPathLength\":2,\"Med\":10}]}}",
		 id, state, t1, t2, s1, s2, extra_route);
	put(c, "vpn-connection", id, vpn);
}

static void test_learned_established(void **state)
{
	(void)state;
	struct cache *c = seed("UP", "available");
	put_dynamic(c, "vpn-2", "available", "Established", "UP", "Established", "UP", "");
	/* 10.0.0.0/24 and 172.16.0.0/16 given once (vpn-1's static routes) */
	assert_int_equal(vgw_propagated_routes(c, "vgw-1", NULL, NULL), 4);
	char buf[1024];
	described(c, "rtb-main", buf, sizeof(buf));
	assert_string_equal(buf, "10.96.0.0/16 local CreateRouteTable active;"
				 "172.16.0.0/16 igw-1 CreateRoute active;"
				 "10.0.0.0/24 vgw-1 EnableVgwRoutePropagation active;"
				 "192.168.10.0/24 vgw-1 EnableVgwRoutePropagation active;"
				 "192.168.20.0/24 vgw-1 EnableVgwRoutePropagation active;");
	planned(c, "rtb-main", buf, sizeof(buf));
	assert_string_equal(buf, "10.96.0.0/16 local;172.16.0.0/16 igw-1;10.0.0.0/24 vgw-1;"
				 "192.168.10.0/24 vgw-1;192.168.20.0/24 vgw-1;");
	described(c, "rtb-quiet", buf, sizeof(buf));
	assert_string_equal(buf, "10.96.0.0/16 local - active;");
	/* the data plane and the trace reach the office through the learned route */
	assert_true(traced(c, "192.168.10.5"));
	assert_true(traced(c, "192.168.20.5"));
	assert_false(traced(c, "192.168.30.5"));
	cache_free(c);
}

static void test_learned_only_while_established_and_up(void **state)
{
	(void)state;
	char buf[1024];
	/* tunnel 2's session is not Established: its route goes; tunnel 1's stays */
	struct cache *c = seed("DOWN", "available");
	put_dynamic(c, "vpn-2", "available", "Established", "UP", "Active", "DOWN", "");
	described(c, "rtb-main", buf, sizeof(buf));
	assert_string_equal(buf, "10.96.0.0/16 local CreateRouteTable active;"
				 "172.16.0.0/16 igw-1 CreateRoute active;"
				 "192.168.10.0/24 vgw-1 EnableVgwRoutePropagation active;"
				 "10.0.0.0/24 vgw-1 EnableVgwRoutePropagation active;");
	assert_true(traced(c, "192.168.10.5"));
	assert_false(traced(c, "192.168.20.5"));
	cache_free(c);
	/* Established on paper, its tunnel DOWN (IPsec went, the hold timer has
	 * not run out yet, or a stale _Bgp): nothing */
	c = seed("DOWN", "available");
	put_dynamic(c, "vpn-2", "available", "Established", "DOWN", "Established", "DOWN", "");
	assert_int_equal(vgw_propagated_routes(c, "vgw-1", NULL, NULL), 0);
	planned(c, "rtb-main", buf, sizeof(buf));
	assert_string_equal(buf, "10.96.0.0/16 local;172.16.0.0/16 igw-1;");
	assert_false(traced(c, "192.168.10.5"));
	cache_free(c);
	/* a connection being deleted or deleted propagates nothing */
	const char *gone[] = { "deleting", "deleted" };
	for (size_t i = 0; i < 2; i++) {
		c = seed("DOWN", "available");
		put_dynamic(c, "vpn-2", gone[i], "Established", "UP", "Established", "UP", "");
		assert_int_equal(vgw_propagated_routes(c, "vgw-1", NULL, NULL), 0);
		cache_free(c);
	}
	/* malformed learned routes are passed over, the others kept */
	c = seed("DOWN", "available");
	put_dynamic(c, "vpn-2", "available", "Established", "UP", "Established", "UP",
		    "{\"DestinationCidrBlock\":\"300.1.0.0/16\",\"Tunnel\":0},"
		    "{\"DestinationCidrBlock\":\"192.168.40.0/24\",\"Tunnel\":7},"
		    "{\"DestinationCidrBlock\":\"192.168.41.0/24\",\"Tunnel\":-1},"
		    "{\"DestinationCidrBlock\":\"192.168.42.0/24\",\"Tunnel\":\"0\"},"
		    "{\"DestinationCidrBlock\":\"192.168.43.0/24\"},");
	assert_int_equal(vgw_propagated_routes(c, "vgw-1", NULL, NULL), 4);
	cache_free(c);
}

static void test_static_wins_and_order(void **state)
{
	(void)state;
	char buf[1024];
	/* vpn-0 (dynamic, created before vpn-1) learned 10.0.0.0/24, which
	 * vpn-1 (static) has as a static route: the gateway's statics come
	 * first whatever the creation order; then vpn-0's learned routes, then
	 * vpn-2's (192.168.10.0/24 once) */
	struct cache *c = cache_new();
	put_dynamic(c, "vpn-0", "available", "Established", "UP", "Established", "UP",
		    "{\"DestinationCidrBlock\":\"192.168.9.0/24\",\"Tunnel\":1},");
	seed_into(c, "UP", "available");
	put_dynamic(c, "vpn-2", "available", "Established", "UP", "Established", "UP",
		    "{\"DestinationCidrBlock\":\"192.168.8.0/24\",\"Tunnel\":0},");
	described(c, "rtb-main", buf, sizeof(buf));
	assert_string_equal(buf, "10.96.0.0/16 local CreateRouteTable active;"
				 "172.16.0.0/16 igw-1 CreateRoute active;"
				 "10.0.0.0/24 vgw-1 EnableVgwRoutePropagation active;"
				 "192.168.9.0/24 vgw-1 EnableVgwRoutePropagation active;"
				 "192.168.10.0/24 vgw-1 EnableVgwRoutePropagation active;"
				 "192.168.20.0/24 vgw-1 EnableVgwRoutePropagation active;"
				 "192.168.8.0/24 vgw-1 EnableVgwRoutePropagation active;");
	/* the same routes, the same answer, every time */
	char again[1024];
	described(c, "rtb-main", again, sizeof(again));
	assert_string_equal(buf, again);
	cache_free(c);
	/* vpn-1's static route only while vpn-1 is UP: with vpn-1 DOWN, the
	 * learned 10.0.0.0/24 is given instead (one route, same target) */
	c = seed("DOWN", "available");
	put_dynamic(c, "vpn-2", "available", "Established", "UP", "Established", "UP", "");
	assert_int_equal(vgw_propagated_routes(c, "vgw-1", NULL, NULL), 4);
	assert_true(traced(c, "10.0.0.7"));
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up),
		cmocka_unit_test(test_down_or_deleted),
		cmocka_unit_test(test_learned_established),
		cmocka_unit_test(test_learned_only_while_established_and_up),
		cmocka_unit_test(test_static_wins_and_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
