/*
 * test_engine_net.c — engine_net_plan_build() over a cache holding the
 * docs the API stores (the seed's VPC: a private subnet routed to the VPN
 * gateway, a public one to the internet gateway, a VPN connection whose
 * telemetry decides the propagated routes, instances running and stopped).
 * Checks the mapping of engine_net.h, and that net/ compiles the plan into
 * a snapshot that delivers the office's ping to the instance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine_net.h"
#include "engine/engine_vpn.h"

static int64_t ord;

static void put(struct cache *c, const char *type, const char *id, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	assert_non_null(d);
	doc_free(cache_put(c, type, id, ++ord, d));
}

/* tunnel: "UP" or "DOWN"; propagate: the main table propagates vgw-1. */
static struct cache *seed_cache(const char *tunnel, bool propagate)
{
	struct cache *c = cache_new();
	put(c, "vpc", "vpc-1", "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.0.0/16\"}");
	put(c, "subnet", "subnet-pub", "{\"SubnetId\":\"subnet-pub\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-1\",\"CidrBlock\":\"10.96.0.0/24\"}");
	put(c, "subnet", "subnet-priv", "{\"SubnetId\":\"subnet-priv\",\"VpcId\":\"vpc-1\",\"_NetworkAclId\":\"acl-1\",\"CidrBlock\":\"10.96.1.0/24\"}");
	put(c, "internet-gateway", "igw-1", "{\"InternetGatewayId\":\"igw-1\",\"Attachments\":[{\"State\":\"available\",\"VpcId\":\"vpc-1\"}]}");
	put(c, "vpn-gateway", "vgw-1", "{\"VpnGatewayId\":\"vgw-1\",\"VpcAttachments\":[{\"State\":\"attached\",\"VpcId\":\"vpc-1\"}]}");
	put(c, "vpn-gateway", "vgw-loose", "{\"VpnGatewayId\":\"vgw-loose\",\"VpcAttachments\":[]}");
	char vpn[512];
	snprintf(vpn, sizeof(vpn),
		 "{\"VpnConnectionId\":\"vpn-1\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"available\","
		 "\"VgwTelemetry\":[{\"Status\":\"%s\"},{\"Status\":\"DOWN\"}],"
		 "\"Routes\":[{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"State\":\"available\"},"
		 "{\"DestinationCidrBlock\":\"10.0.1.0/24\",\"State\":\"available\"}]}", tunnel);
	put(c, "vpn-connection", "vpn-1", vpn);
	char rtb[640];
	snprintf(rtb, sizeof(rtb),
		 "{\"RouteTableId\":\"rtb-main\",\"VpcId\":\"vpc-1\","
		 "\"Associations\":[{\"Main\":true}],"
		 "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
		 "{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"},"
		 "{\"DestinationCidrBlock\":\"192.0.2.0/24\",\"GatewayId\":\"igw-1\",\"State\":\"blackhole\"},"
		 "{\"DestinationCidrBlock\":\"198.18.0.0/15\",\"NatGatewayId\":\"nat-1\",\"State\":\"active\"},"
		 "{\"DestinationIpv6CidrBlock\":\"::/0\",\"GatewayId\":\"igw-1\",\"State\":\"active\"}],"
		 "\"PropagatingVgws\":[%s]}", propagate ? "{\"GatewayId\":\"vgw-1\"}" : "");
	put(c, "route-table", "rtb-main", rtb);
	put(c, "route-table", "rtb-pub",
	    "{\"RouteTableId\":\"rtb-pub\",\"VpcId\":\"vpc-1\",\"Associations\":[{\"Main\":false,\"SubnetId\":\"subnet-pub\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"igw-1\",\"State\":\"active\"}]}");
	put(c, "network-acl", "acl-1",
	    "{\"NetworkAclId\":\"acl-1\",\"VpcId\":\"vpc-1\",\"Associations\":[],"
	    "\"Entries\":[{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"deny\",\"RuleNumber\":32767},"
	    "{\"CidrBlock\":\"10.0.0.0/24\",\"Egress\":false,\"Protocol\":\"6\",\"RuleAction\":\"deny\",\"RuleNumber\":90,"
	    "\"PortRange\":{\"From\":23,\"To\":23}},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
	    "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"deny\",\"RuleNumber\":32767}]}");
	put(c, "security-group", "sg-web", "{\"GroupId\":\"sg-web\",\"VpcId\":\"vpc-1\"}");
	put(c, "security-group", "sg-db", "{\"GroupId\":\"sg-db\",\"VpcId\":\"vpc-1\"}");
	put(c, "security-group-rule", "sgr-ping",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"icmp\",\"FromPort\":-1,\"ToPort\":-1,\"CidrIpv4\":\"10.0.0.0/24\"}");
	put(c, "security-group-rule", "sgr-web-out",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":true,\"IpProtocol\":\"-1\",\"FromPort\":-1,\"ToPort\":-1,\"CidrIpv4\":\"0.0.0.0/0\"}");
	put(c, "security-group-rule", "sgr-pg",
	    "{\"GroupId\":\"sg-db\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":5432,\"ToPort\":5432,"
	    "\"ReferencedGroupInfo\":{\"GroupId\":\"sg-web\"}}");
	put(c, "security-group-rule", "sgr-v6",
	    "{\"GroupId\":\"sg-db\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":1,\"ToPort\":2,\"CidrIpv6\":\"::/0\"}");
	put(c, "network-interface", "eni-a",
	    "{\"NetworkInterfaceId\":\"eni-a\",\"SubnetId\":\"subnet-priv\",\"PrivateIpAddress\":\"10.96.1.4\","
	    "\"MacAddress\":\"02:00:00:00:00:0a\",\"SourceDestCheck\":true,\"Groups\":[{\"GroupId\":\"sg-web\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-a\",\"DeviceIndex\":0,\"Status\":\"attached\"}}");
	put(c, "network-interface", "eni-b",
	    "{\"NetworkInterfaceId\":\"eni-b\",\"SubnetId\":\"subnet-priv\",\"PrivateIpAddress\":\"10.96.1.5\","
	    "\"MacAddress\":\"02:00:00:00:00:0b\",\"SourceDestCheck\":false,\"Groups\":[{\"GroupId\":\"sg-db\"}],"
	    "\"Attachment\":{\"InstanceId\":\"i-b\",\"DeviceIndex\":0,\"Status\":\"attached\"}}");
	put(c, "network-interface", "eni-p",
	    "{\"NetworkInterfaceId\":\"eni-p\",\"SubnetId\":\"subnet-pub\",\"PrivateIpAddress\":\"10.96.0.4\","
	    "\"MacAddress\":\"02:00:00:00:00:0c\",\"Groups\":[{\"GroupId\":\"sg-web\"}],"
	    "\"Association\":{\"PublicIp\":\"198.51.100.4\"},"
	    "\"Attachment\":{\"InstanceId\":\"i-j\",\"DeviceIndex\":0,\"Status\":\"attached\"}}");
	put(c, "instance", "i-a", "{\"InstanceId\":\"i-a\",\"ImageId\":\"" ENGINE_IMAGE_LINUX "\",\"State\":{\"Code\":16,\"Name\":\"running\"}}");
	put(c, "instance", "i-b", "{\"InstanceId\":\"i-b\",\"ImageId\":\"" ENGINE_IMAGE_LINUX "\",\"State\":{\"Code\":80,\"Name\":\"stopped\"}}");
	put(c, "instance", "i-j", "{\"InstanceId\":\"i-j\",\"ImageId\":\"" ENGINE_IMAGE_JOIN "\",\"State\":{\"Code\":16,\"Name\":\"running\"},"
	    "\"Tags\":[{\"Key\":\"vpcd:netns\",\"Value\":\"web1\"}]}");
	return c;
}

static const struct net_route_table_config *table(const struct engine_net_plan *p, const char *id)
{
	for (size_t i = 0; i < p->np_cfg.n_route_tables; i++)
		if (strcmp(p->np_tables[i].id, id) == 0)
			return &p->np_tables[i];
	fail_msg("no table %s", id);
	return NULL;
}

static const struct net_route_config *route(const struct net_route_table_config *t, const char *dest)
{
	struct cidr4 d;
	assert_true(cidr_parse(dest, &d, NULL));
	for (size_t i = 0; i < t->n_routes; i++)
		if (t->routes[i].dest.c_addr == d.c_addr && t->routes[i].dest.c_len == d.c_len)
			return &t->routes[i];
	return NULL;
}

static void test_mapping(void **state)
{
	(void)state;
	struct cache *c = seed_cache("UP", true);
	struct engine_net_plan *p = engine_net_plan_build(c);
	assert_int_equal(p->np_cfg.n_subnets, 2);
	assert_int_equal(p->np_cfg.n_gateways, 3);
	assert_string_equal(p->np_vgw_rx, "vgw-1");
	for (size_t i = 0; i < p->np_cfg.n_subnets; i++) {
		assert_string_equal(p->np_subnets[i].nacl_id, "acl-1");
		assert_string_equal(p->np_subnets[i].route_table_id,
				    strcmp(p->np_subnets[i].id, "subnet-pub") == 0 ? "rtb-pub" : "rtb-main");
	}
	const struct net_route_table_config *t = table(p, "rtb-main");
	assert_int_equal(route(t, "10.96.0.0/16")->target, NET_TARGET_LOCAL);
	/* the static route wins the tie with the propagated one */
	assert_int_equal(route(t, "10.0.0.0/24")->target, NET_TARGET_VGW);
	assert_non_null(route(t, "10.0.1.0/24"));	/* propagated while UP */
	assert_string_equal(route(t, "10.0.1.0/24")->target_id, "vgw-1");
	assert_int_equal(route(t, "192.0.2.0/24")->target, NET_TARGET_BLACKHOLE);
	assert_int_equal(route(t, "198.18.0.0/15")->target, NET_TARGET_BLACKHOLE);	/* NAT: not carried */
	assert_int_equal(t->n_routes, 5);		/* no IPv6 */
	assert_int_equal(p->np_cfg.n_nacls, 1);
	assert_int_equal(p->np_nacls[0].n_rules, 3);	/* "*" implicit */
	assert_int_equal(p->np_cfg.n_sgs, 2);
	size_t rules = p->np_sgs[0].n_rules + p->np_sgs[1].n_rules;
	assert_int_equal(rules, 3);			/* IPv6 rule left out */
	assert_int_equal(p->np_cfg.n_enis, 3);
	for (size_t i = 0; i < p->np_cfg.n_enis; i++) {
		const struct net_eni_config *e = &p->np_enis[i];
		assert_int_equal(e->tap_fd, -1);
		if (strcmp(e->id, "eni-b") == 0)
			assert_false(e->src_dst_check);
		if (strcmp(e->id, "eni-p") == 0)
			assert_int_equal(e->public_ip, (198u << 24) | (51u << 16) | (100u << 8) | 4);
		if (strcmp(e->id, "eni-a") == 0)
			assert_int_equal(e->mac[5], 0x0a);
	}
	/* i-a (own namespace) and i-j (joins web1) run; i-b is stopped */
	assert_int_equal(p->np_ninstances, 2);
	for (size_t i = 0; i < p->np_ninstances; i++) {
		const struct engine_net_instance *in = &p->np_instances[i];
		if (strcmp(in->ni_id, "i-a") == 0) {
			assert_string_equal(in->ni_join, "");
			assert_string_equal(p->np_enis[in->ni_eni].id, "eni-a");
			assert_int_equal(in->ni_subnet.c_len, 24);
		} else {
			assert_string_equal(in->ni_id, "i-j");
			assert_string_equal(in->ni_join, "web1");
		}
	}
	assert_int_equal(p->np_nstopped, 1);
	assert_string_equal(p->np_stopped[0], "i-b");

	/* net/ takes it, and the office's ping reaches i-a through the vgw
	 * (once i-a's TAP is there: the engine thread fills it in) */
	for (size_t i = 0; i < p->np_cfg.n_enis; i++)
		if (strcmp(p->np_enis[i].id, "eni-a") == 0) {
			p->np_enis[i].tap_fd = 100;	/* not read: the snapshot only maps it */
			p->np_enis[i].vnet_hdr = -1;
		}
	char err[256];
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	assert_non_null(s);
	struct net_trace_query q = { .from_id = "vgw-1", .src = (10u << 24) | 10, .dst = (10u << 24) | (96u << 16) | (1u << 8) | 4,
				     .proto = 1 };
	struct net_trace_result r;
	static const uint8_t mac[6] = { 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01 };
	assert_int_equal(net_snapshot_trace(s, mac, &q, &r, err, sizeof(err)), 0);
	if (!r.delivered)
		fail_msg("dropped: %s", net_drop_name(r.drop));
	net_snapshot_free(s);
	engine_net_plan_free(p);
	cache_free(c);
}

static void test_propagation_follows_tunnels(void **state)
{
	(void)state;
	struct cache *c = seed_cache("DOWN", true);
	struct engine_net_plan *p = engine_net_plan_build(c);
	assert_null(route(table(p, "rtb-main"), "10.0.1.0/24"));
	assert_non_null(route(table(p, "rtb-main"), "10.0.0.0/24"));	/* static stays */
	engine_net_plan_free(p);
	cache_free(c);
	c = seed_cache("UP", false);
	p = engine_net_plan_build(c);
	assert_null(route(table(p, "rtb-main"), "10.0.1.0/24"));	/* not propagating */
	engine_net_plan_free(p);
	cache_free(c);
}

/* A VPN gateway's own routes: the available static routes of each live
 * connection with a tunnel UP, named by the connection's key; then the
 * learned routes that propagate (session Established, tunnel UP) with the
 * tunnel BIRD chose, unless a route before has the prefix; then the static
 * routes of live connections whose tunnels are all DOWN (the endpoint
 * fails over when one comes up), unless a route before has the prefix — a
 * static route wins over a learned one only while its connection is UP,
 * as propagation.c says; an internet gateway has none; a deleted
 * connection's routes go. */
static void test_vgw_routes(void **state)
{
	(void)state;
	struct cache *c = seed_cache("DOWN", true);
	put(c, "vpn-connection", "vpn-2",
	    "{\"VpnConnectionId\":\"vpn-2\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"available\","
	    "\"Routes\":[{\"DestinationCidrBlock\":\"172.16.0.0/12\",\"State\":\"available\"},"
	    "{\"DestinationCidrBlock\":\"172.31.0.0/16\",\"State\":\"deleted\"}]}");
	put(c, "vpn-connection", "vpn-4",
	    "{\"VpnConnectionId\":\"vpn-4\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"available\","
	    "\"VgwTelemetry\":[{\"Status\":\"DOWN\"},{\"Status\":\"UP\"}],"
	    "\"_Bgp\":{\"Tunnels\":[{\"State\":\"Active\"},{\"State\":\"Established\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"192.168.7.0/24\",\"Tunnel\":1},"
	    "{\"DestinationCidrBlock\":\"192.168.8.0/24\",\"Tunnel\":0},"
	    "{\"DestinationCidrBlock\":\"10.0.0.0/24\",\"Tunnel\":1}]}}");
	put(c, "vpn-connection", "vpn-3",
	    "{\"VpnConnectionId\":\"vpn-3\",\"VpnGatewayId\":\"vgw-1\",\"State\":\"deleted\","
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.9.0.0/16\",\"State\":\"available\"}]}");
	struct engine_net_plan *p = engine_net_plan_build(c);
	const struct net_gateway_config *vgw = NULL, *igw = NULL;
	for (size_t i = 0; i < p->np_cfg.n_gateways; i++) {
		if (strcmp(p->np_gateways[i].id, "vgw-1") == 0)
			vgw = &p->np_gateways[i];
		if (strcmp(p->np_gateways[i].id, "igw-1") == 0)
			igw = &p->np_gateways[i];
	}
	assert_non_null(vgw);
	assert_non_null(igw);
	assert_int_equal(igw->n_vgw_routes, 0);
	assert_int_equal(vgw->n_vgw_routes, 4);
	uint64_t k1 = engine_vpn_conn_key("vpn-1"), k2 = engine_vpn_conn_key("vpn-2");
	uint64_t k4 = engine_vpn_conn_key("vpn-4");
	/* no connection with static routes has a tunnel UP (vpn-2 has no
	 * telemetry): the learned routes first (192.168.8.0/24 is on tunnel 1,
	 * whose session is not up), 10.0.0.0/24 to vpn-4 although vpn-1 routes
	 * it statically (vpn-1 is DOWN); then vpn-1's and vpn-2's statics */
	struct { const char *dest; uint64_t key; uint8_t tunnel; } want[] = {
		{ "192.168.7.0/24", k4, 2 }, { "10.0.0.0/24", k4, 2 }, { "10.0.1.0/24", k1, 0 },
		{ "172.16.0.0/12", k2, 0 } };
	for (size_t i = 0; i < 4; i++) {
		struct cidr4 d;
		assert_true(cidr_parse(want[i].dest, &d, NULL));
		assert_int_equal(vgw->vgw_routes[i].dest.c_addr, d.c_addr);
		assert_int_equal(vgw->vgw_routes[i].dest.c_len, d.c_len);
		assert_true(vgw->vgw_routes[i].conn_key == want[i].key);
		assert_int_equal(vgw->vgw_routes[i].tunnel, want[i].tunnel);
	}
	/* and net/ compiles them */
	char err[160];
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	net_snapshot_free(s);
	engine_net_plan_free(p);
	/* vpn-1 UP: its static 10.0.0.0/24 comes first and wins over vpn-4's
	 * learned one */
	struct res *v1 = cache_get(c, "vpn-1");
	struct doc *d = doc_clone(v1->r_doc);
	doc_set_str(doc_get_list(d, "VgwTelemetry")->d_first, "Status", "UP");
	doc_free(cache_put(c, "vpn-connection", "vpn-1", v1->r_ord, d));
	p = engine_net_plan_build(c);
	for (size_t i = 0; i < p->np_cfg.n_gateways; i++)
		if (strcmp(p->np_gateways[i].id, "vgw-1") == 0)
			vgw = &p->np_gateways[i];
	assert_int_equal(vgw->n_vgw_routes, 4);
	struct cidr4 office;
	assert_true(cidr_parse("10.0.0.0/24", &office, NULL));
	assert_int_equal(vgw->vgw_routes[0].dest.c_addr, office.c_addr);
	assert_true(vgw->vgw_routes[0].conn_key == k1);
	assert_true(vgw->vgw_routes[2].conn_key == k4);	/* after 10.0.1.0/24: 192.168.7.0/24 */
	engine_net_plan_free(p);
	cache_free(c);
}

/* Prefix lists become one rule / route per CIDR; an instance gets the
 * resolv.conf of its VPC's DHCP option set. */
static void test_prefix_lists_and_resolv(void **state)
{
	(void)state;
	struct cache *c = seed_cache("DOWN", false);
	put(c, "prefix-list", "pl-1",
	    "{\"PrefixListId\":\"pl-1\",\"_Entries\":[{\"Cidr\":\"192.0.2.0/25\"},{\"Cidr\":\"203.0.113.0/24\"},"
	    "{\"Cidr\":\"2001:db8::/32\"}]}");
	put(c, "security-group-rule", "sgr-pl",
	    "{\"GroupId\":\"sg-web\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":443,\"ToPort\":443,"
	    "\"PrefixListId\":\"pl-1\"}");
	put(c, "route-table", "rtb-pub",
	    "{\"RouteTableId\":\"rtb-pub\",\"VpcId\":\"vpc-1\",\"Associations\":[{\"Main\":false,\"SubnetId\":\"subnet-pub\"}],"
	    "\"Routes\":[{\"DestinationCidrBlock\":\"10.96.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
	    "{\"DestinationCidrBlock\":\"203.0.113.0/24\",\"GatewayId\":\"vgw-1\",\"State\":\"active\"},"
	    "{\"DestinationPrefixListId\":\"pl-1\",\"GatewayId\":\"igw-1\",\"State\":\"active\"}]}");
	put(c, "dhcp-options", "dopt-1",
	    "{\"DhcpOptionsId\":\"dopt-1\",\"DhcpConfigurations\":[{\"Key\":\"domain-name\",\"Values\":[{\"Value\":\"corp.example\"}]},"
	    "{\"Key\":\"domain-name-servers\",\"Values\":[{\"Value\":\"AmazonProvidedDNS\"},{\"Value\":\"192.0.2.53\"}]}]}");
	put(c, "vpc", "vpc-1", "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.0.0/16\",\"DhcpOptionsId\":\"dopt-1\"}");
	struct engine_net_plan *p = engine_net_plan_build(c);
	const struct net_route_table_config *t = table(p, "rtb-pub");
	assert_int_equal(t->n_routes, 3);	/* local, 203.0.113.0/24 (its own route wins), 192.0.2.0/25 */
	assert_int_equal(route(t, "192.0.2.0/25")->target, NET_TARGET_IGW);
	assert_string_equal(route(t, "192.0.2.0/25")->target_id, "igw-1");
	assert_int_equal(route(t, "203.0.113.0/24")->target, NET_TARGET_VGW);
	size_t pl_rules = 0;
	for (size_t i = 0; i < p->np_cfg.n_sgs; i++)
		for (size_t k = 0; k < p->np_sgs[i].n_rules; k++)
			if (p->np_sgs[i].rules[k].from_port == 443) {
				assert_string_equal(p->np_sgs[i].id, "sg-web");
				pl_rules++;
			}
	assert_int_equal(pl_rules, 2);		/* the IPv4 entries */
	for (size_t i = 0; i < p->np_ninstances; i++)
		if (strcmp(p->np_instances[i].ni_id, "i-a") == 0) {
			const char *rc = p->np_instances[i].ni_resolv;
			assert_non_null(strstr(rc, "search corp.example\n"));
			assert_non_null(strstr(rc, "nameserver 10.96.0.2\nnameserver 192.0.2.53\n"));
		} else {
			assert_string_equal(p->np_instances[i].ni_resolv, "");	/* a namespace not ours */
		}
	engine_net_plan_free(p);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_propagation_follows_tunnels),
		cmocka_unit_test(test_vgw_routes),
		cmocka_unit_test(test_prefix_lists_and_resolv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
