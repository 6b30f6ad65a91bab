/*
 * test_engine_plan.c — the network plan (engine_net_plan_build) and its
 * compiled snapshot (net_snapshot_build) over a generated VPC estate of n
 * subnets, each with an ENI and an instance (plus per-VPC gateways, route
 * tables, NACLs, groups with CIDR, group and prefix-list rules, a NAT
 * gateway, a peering connection, a VPN connection whose routes
 * propagate, secondary ENIs, stopped and joined instances).
 *
 * test_plan_golden: the plan and the snapshot for a fixed estate, dumped
 * as text, equal tests/engine/golden/plan_fixed.txt, which was written by
 * the builders before they were made n log n (issue 15): the same plan,
 * the same compiled indices. Regenerate only on purpose:
 *     build/src/engine/test_engine_plan --write-golden FILE
 * test_plan_scales: 4,000 build within a bound (2 s) that the quadratic
 * builders missed five times over (generous for a loaded machine and ASan).
 * Timing: build/src/engine/test_engine_plan --bench prints the build and
 * compile time for 1,000 and 4,000 subnets+ENIs (the median of 5).
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

#include "base/strbuf.h"
#include "engine/engine_net.h"
#include "net/net_int.h"
#include "state/resources.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/engine/golden"
#endif

static int64_t ord;

static void put(struct cache *c, const char *type, const char *id, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	if (!d) {
		fprintf(stderr, "bad JSON for %s: %s\n", id, json);
		abort();
	}
	doc_free(cache_put(c, type, id, ++ord, d));
}

#define PUTF(c, type, id, ...)                                        \
	do {                                                          \
		char json_[2048];                                     \
		snprintf(json_, sizeof(json_), __VA_ARGS__);          \
		put(c, type, id, json_);                              \
	} while (0)

#define PER_VPC 1000	/* subnets per VPC: /26s of a /16 */

/* n subnets over nvpc VPCs (at most PER_VPC each), in an order that mixes
 * the types as the API creates them. */
static struct cache *estate(size_t n, size_t nvpc)
{
	struct cache *c = cache_new();
	ord = 0;
	put(c, RT_PREFIX_LIST, "pl-office",
	    "{\"PrefixListId\":\"pl-office\",\"_Entries\":[{\"Cidr\":\"192.0.2.0/25\"},{\"Cidr\":\"203.0.113.0/24\"}]}");
	for (size_t v = 0; v < nvpc; v++) {
		char vpc[32], b[64];
		snprintf(vpc, sizeof(vpc), "vpc-%04zu", v);
		PUTF(c, RT_VPC, vpc, "{\"VpcId\":\"%s\",\"CidrBlock\":\"10.%zu.0.0/16\"}", vpc, 64 + v);
		snprintf(b, sizeof(b), "igw-%04zu", v);
		PUTF(c, RT_IGW, b, "{\"InternetGatewayId\":\"%s\",\"Attachments\":[{\"State\":\"available\",\"VpcId\":\"%s\"}]}",
		     b, vpc);
		snprintf(b, sizeof(b), "vgw-%04zu", v);
		PUTF(c, RT_VGW, b, "{\"VpnGatewayId\":\"%s\",\"VpcAttachments\":[{\"State\":\"attached\",\"VpcId\":\"%s\"}]}",
		     b, vpc);
		snprintf(b, sizeof(b), "vpn-%04zu", v);
		PUTF(c, RT_VPN, b,
		     "{\"VpnConnectionId\":\"%s\",\"VpnGatewayId\":\"vgw-%04zu\",\"State\":\"available\","
		     "\"VgwTelemetry\":[{\"Status\":\"%s\"},{\"Status\":\"DOWN\"}],"
		     "\"Routes\":[{\"DestinationCidrBlock\":\"172.16.%zu.0/24\",\"State\":\"available\"},"
		     "{\"DestinationCidrBlock\":\"172.17.0.0/16\",\"State\":\"available\"}]}",
		     b, v, v % 2 ? "DOWN" : "UP", v);
		snprintf(b, sizeof(b), "acl-%04zu", v);
		PUTF(c, RT_NACL, b,
		     "{\"NetworkAclId\":\"%s\",\"VpcId\":\"%s\",\"Entries\":["
		     "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":true,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100},"
		     "{\"CidrBlock\":\"10.0.0.0/8\",\"Egress\":false,\"Protocol\":\"6\",\"RuleAction\":\"deny\",\"RuleNumber\":90,"
		     "\"PortRange\":{\"From\":23,\"To\":23}},"
		     "{\"CidrBlock\":\"0.0.0.0/0\",\"Egress\":false,\"Protocol\":\"-1\",\"RuleAction\":\"allow\",\"RuleNumber\":100}]}",
		     b, vpc);
		snprintf(b, sizeof(b), "rtb-main-%04zu", v);
		PUTF(c, RT_ROUTE_TABLE, b,
		     "{\"RouteTableId\":\"%s\",\"VpcId\":\"%s\",\"Associations\":[{\"Main\":true}],"
		     "\"Routes\":[{\"DestinationCidrBlock\":\"10.%zu.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
		     "{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"GatewayId\":\"igw-%04zu\",\"State\":\"active\"},"
		     "{\"DestinationCidrBlock\":\"172.17.0.0/16\",\"GatewayId\":\"vgw-%04zu\",\"State\":\"active\"},"
		     "{\"DestinationCidrBlock\":\"198.18.0.0/15\",\"NatGatewayId\":\"nat-%04zu\",\"State\":\"active\"},"
		     "{\"DestinationCidrBlock\":\"198.19.0.0/16\",\"NatGatewayId\":\"nat-gone\",\"State\":\"active\"},"
		     "{\"DestinationCidrBlock\":\"10.%zu.0.0/16\",\"VpcPeeringConnectionId\":\"pcx-%04zu\",\"State\":\"active\"},"
		     "{\"DestinationPrefixListId\":\"pl-office\",\"GatewayId\":\"vgw-%04zu\",\"State\":\"active\"}],"
		     "\"PropagatingVgws\":[{\"GatewayId\":\"vgw-%04zu\"}]}",
		     b, vpc, 64 + v, v, v, v, 64 + (v + 1) % nvpc, v, v, v);
		snprintf(b, sizeof(b), "sg-default-%04zu", v);
		PUTF(c, RT_SG, b, "{\"GroupId\":\"%s\",\"VpcId\":\"%s\"}", b, vpc);
		char r[64];
		snprintf(r, sizeof(r), "sgr-default-out-%04zu", v);
		PUTF(c, RT_SG_RULE, r, "{\"GroupId\":\"%s\",\"IsEgress\":true,\"IpProtocol\":\"-1\",\"FromPort\":-1,\"ToPort\":-1,"
		     "\"CidrIpv4\":\"0.0.0.0/0\"}", b);
		snprintf(r, sizeof(r), "sgr-default-self-%04zu", v);
		PUTF(c, RT_SG_RULE, r, "{\"GroupId\":\"%s\",\"IsEgress\":false,\"IpProtocol\":\"-1\",\"FromPort\":-1,\"ToPort\":-1,"
		     "\"ReferencedGroupInfo\":{\"GroupId\":\"%s\"}}", b, b);
	}
	if (nvpc > 1)
		for (size_t v = 0; v < nvpc; v++) {
			char b[32];
			snprintf(b, sizeof(b), "pcx-%04zu", v);
			PUTF(c, RT_PCX, b,
			     "{\"VpcPeeringConnectionId\":\"%s\",\"Status\":{\"Code\":\"%s\"},"
			     "\"RequesterVpcInfo\":{\"VpcId\":\"vpc-%04zu\"},\"AccepterVpcInfo\":{\"VpcId\":\"vpc-%04zu\"}}",
			     b, v % 3 == 2 ? "pending-acceptance" : "active", v, (v + 1) % nvpc);
		}
	for (size_t i = 0; i < n; i++) {
		size_t v = i % nvpc, j = i / nvpc;
		unsigned a = (unsigned)(64 + v), third = (unsigned)(j * 64 / 256), fourth = (unsigned)(j * 64 % 256);
		char sn[32], eni[32], inst[32], sg[32], rtb[32];
		snprintf(sn, sizeof(sn), "subnet-%05zu", i);
		snprintf(eni, sizeof(eni), "eni-%05zu", i);
		snprintf(inst, sizeof(inst), "i-%05zu", i);
		size_t gi = (j / 20) * nvpc + v;	/* a group per 20 subnets of a VPC */
		snprintf(sg, sizeof(sg), "sg-%05zu", gi);
		if (j % 20 == 0) {
			PUTF(c, RT_SG, sg, "{\"GroupId\":\"%s\",\"VpcId\":\"vpc-%04zu\"}", sg, v);
			char r[48];
			snprintf(r, sizeof(r), "sgr-%05zu-ssh", gi);
			PUTF(c, RT_SG_RULE, r, "{\"GroupId\":\"%s\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":22,"
			     "\"CidrIpv4\":\"10.%u.0.0/16\"}", sg, a);
			snprintf(r, sizeof(r), "sgr-%05zu-pl", gi);
			PUTF(c, RT_SG_RULE, r, "{\"GroupId\":\"%s\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":443,\"ToPort\":443,"
			     "\"PrefixListId\":\"pl-office\"}", sg);
			snprintf(r, sizeof(r), "sgr-%05zu-db", gi);
			PUTF(c, RT_SG_RULE, r, "{\"GroupId\":\"%s\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":5432,\"ToPort\":5432,"
			     "\"ReferencedGroupInfo\":{\"GroupId\":\"sg-default-%04zu\"}}", sg, v);
			snprintf(r, sizeof(r), "sgr-%05zu-v6", gi);
			PUTF(c, RT_SG_RULE, r, "{\"GroupId\":\"%s\",\"IsEgress\":false,\"IpProtocol\":\"tcp\",\"FromPort\":1,\"ToPort\":2,"
			     "\"CidrIpv6\":\"::/0\"}", sg);
		}
		PUTF(c, RT_SUBNET, sn, "{\"SubnetId\":\"%s\",\"VpcId\":\"vpc-%04zu\",\"_NetworkAclId\":\"acl-%04zu\","
		     "\"CidrBlock\":\"10.%u.%u.%u/26\"}", sn, v, v, a, third, fourth);
		if (i % 10 == 3) {	/* an explicit table, with a route to an ENI of it */
			snprintf(rtb, sizeof(rtb), "rtb-%05zu", i);
			PUTF(c, RT_ROUTE_TABLE, rtb,
			     "{\"RouteTableId\":\"%s\",\"VpcId\":\"vpc-%04zu\",\"Associations\":[{\"Main\":false,\"SubnetId\":\"%s\"}],"
			     "\"Routes\":[{\"DestinationCidrBlock\":\"10.%u.0.0/16\",\"GatewayId\":\"local\",\"State\":\"active\"},"
			     "{\"DestinationCidrBlock\":\"0.0.0.0/0\",\"NetworkInterfaceId\":\"%s\",\"State\":\"active\"},"
			     "{\"DestinationCidrBlock\":\"100.64.0.0/10\",\"NetworkInterfaceId\":\"eni-gone\",\"State\":\"active\"},"
			     "{\"DestinationCidrBlock\":\"100.64.0.0/10\",\"GatewayId\":\"igw-%04zu\",\"State\":\"active\"},"
			     "{\"DestinationCidrBlock\":\"192.0.2.0/24\",\"GatewayId\":\"igw-%04zu\",\"State\":\"blackhole\"},"
			     "{\"DestinationCidrBlock\":\"198.51.100.0/24\",\"TransitGatewayId\":\"tgw-1\",\"State\":\"active\"}]}",
			     rtb, v, sn, a, eni, v, v);
		}
		char pub[64] = "";
		if (i % 13 == 5)
			snprintf(pub, sizeof(pub), "\"Association\":{\"PublicIp\":\"198.18.%u.%u\"},",
				 (unsigned)(i >> 8) & 0xff, (unsigned)i & 0xff);
		PUTF(c, RT_ENI, eni,
		     "{\"NetworkInterfaceId\":\"%s\",\"SubnetId\":\"%s\",\"PrivateIpAddress\":\"10.%u.%u.%u\","
		     "\"MacAddress\":\"02:00:%02x:%02x:%02x:01\",\"SourceDestCheck\":%s,"
		     "\"Groups\":[{\"GroupId\":\"sg-default-%04zu\"},{\"GroupId\":\"%s\"},{\"GroupId\":\"sg-gone\"}],"
		     "%s\"Attachment\":{\"InstanceId\":\"%s\",\"DeviceIndex\":0,\"Status\":\"attached\"}}",
		     eni, sn, a, third, fourth + 4, (unsigned)(i >> 16) & 0xff, (unsigned)(i >> 8) & 0xff,
		     (unsigned)i & 0xff, i % 9 == 4 ? "false" : "true", v, sg,
		     pub, inst);
		if (i % 7 == 1) {	/* a secondary ENI */
			char s2[32];
			snprintf(s2, sizeof(s2), "eni-s%05zu", i);
			PUTF(c, RT_ENI, s2,
			     "{\"NetworkInterfaceId\":\"%s\",\"SubnetId\":\"%s\",\"PrivateIpAddress\":\"10.%u.%u.%u\","
			     "\"MacAddress\":\"02:01:%02x:%02x:%02x:02\",\"Groups\":[{\"GroupId\":\"%s\"}],"
			     "\"Attachment\":{\"InstanceId\":\"%s\",\"DeviceIndex\":%d,\"Status\":\"attached\"}}",
			     s2, sn, a, third, fourth + 5, (unsigned)(i >> 16) & 0xff, (unsigned)(i >> 8) & 0xff,
			     (unsigned)i & 0xff, sg, inst, i % 2 ? 1 : 2);
		}
		if (i % 5 == 2)
			PUTF(c, RT_INSTANCE, inst, "{\"InstanceId\":\"%s\",\"ImageId\":\"" ENGINE_IMAGE_LINUX "\","
			     "\"State\":{\"Code\":80,\"Name\":\"stopped\"}}", inst);
		else if (i % 11 == 6)
			PUTF(c, RT_INSTANCE, inst, "{\"InstanceId\":\"%s\",\"ImageId\":\"" ENGINE_IMAGE_JOIN "\","
			     "\"State\":{\"Code\":16,\"Name\":\"running\"},\"Tags\":[{\"Key\":\"vpcd:netns\",\"Value\":\"ns-%zu\"}]}",
			     inst, i);
		else
			PUTF(c, RT_INSTANCE, inst, "{\"InstanceId\":\"%s\",\"ImageId\":\"" ENGINE_IMAGE_LINUX "\","
			     "\"State\":{\"Code\":16,\"Name\":\"running\"}}", inst);
		if (j == 0) {	/* the VPC's NAT gateway, on an ENI of its first subnet */
			char nat[32], ne[32];
			snprintf(nat, sizeof(nat), "nat-%04zu", v);
			snprintf(ne, sizeof(ne), "eni-nat-%04zu", v);
			PUTF(c, RT_ENI, ne,
			     "{\"NetworkInterfaceId\":\"%s\",\"SubnetId\":\"%s\",\"PrivateIpAddress\":\"10.%u.%u.%u\","
			     "\"MacAddress\":\"02:02:00:00:%02x:03\",\"SourceDestCheck\":false,"
			     "\"Association\":{\"PublicIp\":\"203.0.113.%zu\"}}",
			     ne, sn, a, third, fourth + 9, (unsigned)v, 10 + v);
			PUTF(c, RT_NATGW, nat, "{\"NatGatewayId\":\"%s\",\"State\":\"available\","
			     "\"NatGatewayAddresses\":[{\"NetworkInterfaceId\":\"%s\"}]}", nat, ne);
		}
	}
	return c;
}

/* --- the dump ---------------------------------------------------------------- */

static void cidr_out(struct strbuf *o, const struct cidr4 *c)
{
	sb_printf(o, "%u.%u.%u.%u/%u", c->c_addr >> 24, (c->c_addr >> 16) & 255, (c->c_addr >> 8) & 255,
		  c->c_addr & 255, c->c_len);
}

static void plan_dump(const struct engine_net_plan *p, struct strbuf *o)
{
	const struct net_config *cfg = &p->np_cfg;
	for (size_t i = 0; i < cfg->n_gateways; i++) {
		const struct net_gateway_config *g = &cfg->gateways[i];
		sb_printf(o, "gw %s kind %d vpc %s port %d routes", g->id, g->kind, g->vpc_id, p->np_gw_port[i]);
		for (size_t k = 0; k < g->n_vgw_routes; k++) {
			sb_printf(o, " ");
			cidr_out(o, &g->vgw_routes[k].dest);
			sb_printf(o, "=%llx/%u", (unsigned long long)g->vgw_routes[k].conn_key, g->vgw_routes[k].tunnel);
		}
		sb_printf(o, "\n");
	}
	for (size_t i = 0; i < cfg->n_subnets; i++) {
		const struct net_subnet_config *s = &cfg->subnets[i];
		sb_printf(o, "subnet %s vpc %s ", s->id, s->vpc_id);
		cidr_out(o, &s->cidr);
		sb_printf(o, " rtb %s acl %s\n", s->route_table_id, s->nacl_id);
	}
	for (size_t i = 0; i < cfg->n_nacls; i++) {
		sb_printf(o, "acl %s", cfg->nacls[i].id);
		for (size_t k = 0; k < cfg->nacls[i].n_rules; k++) {
			const struct nacl_rule *r = &cfg->nacls[i].rules[k];
			sb_printf(o, " [%u %d %d %d ", r->nr_number, r->nr_egress, r->nr_allow, r->nr_protocol);
			cidr_out(o, &r->nr_cidr);
			sb_printf(o, " %u-%u %d/%d]", r->nr_port_from, r->nr_port_to, r->nr_icmp_type, r->nr_icmp_code);
		}
		sb_printf(o, "\n");
	}
	for (size_t i = 0; i < cfg->n_sgs; i++) {
		const struct net_sg_config *g = &cfg->sgs[i];
		sb_printf(o, "sg %s vpc %s", g->id, g->vpc_id);
		for (size_t k = 0; k < g->n_rules; k++) {
			const struct net_sg_rule_config *r = &g->rules[k];
			sb_printf(o, " [%s %d %d %d-%d ", r->rule_id, r->egress, r->protocol, r->from_port, r->to_port);
			if (r->group_id[0])
				sb_printf(o, "%s]", r->group_id);
			else {
				cidr_out(o, &r->cidr);
				sb_printf(o, "]");
			}
		}
		sb_printf(o, "\n");
	}
	for (size_t i = 0; i < cfg->n_enis; i++) {
		const struct net_eni_config *e = &cfg->enis[i];
		sb_printf(o, "eni %s subnet %s ip %x mac %02x%02x%02x%02x%02x%02x pub %x sdc %d fd %d groups", e->id,
			  e->subnet_id, e->ip, e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5],
			  e->public_ip, e->src_dst_check, e->tap_fd);
		for (size_t k = 0; k < e->n_groups; k++)
			sb_printf(o, " %s", e->group_ids[k]);
		sb_printf(o, "\n");
	}
	for (size_t i = 0; i < cfg->n_nats; i++)
		sb_printf(o, "nat %s eni %s\n", cfg->nats[i].id, cfg->nats[i].eni_id);
	for (size_t i = 0; i < cfg->n_peerings; i++)
		sb_printf(o, "pcx %s %s %s\n", cfg->peerings[i].id, cfg->peerings[i].vpc_ids[0], cfg->peerings[i].vpc_ids[1]);
	for (size_t i = 0; i < cfg->n_route_tables; i++) {
		const struct net_route_table_config *t = &cfg->route_tables[i];
		sb_printf(o, "rtb %s", t->id);
		for (size_t k = 0; k < t->n_routes; k++) {
			sb_printf(o, " ");
			cidr_out(o, &t->routes[k].dest);
			sb_printf(o, ">%d:%s", t->routes[k].target, t->routes[k].target_id);
		}
		sb_printf(o, "\n");
	}
	const struct engine_net_instance *lists[] = { p->np_instances, p->np_secondary };
	size_t counts[] = { p->np_ninstances, p->np_nsecondary };
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < counts[l]; i++) {
			const struct engine_net_instance *in = &lists[l][i];
			sb_printf(o, "%s %s join '%s' eni %zu dev %d ", l ? "secondary" : "instance", in->ni_id, in->ni_join,
				  in->ni_eni, in->ni_dev);
			cidr_out(o, &in->ni_subnet);
			sb_printf(o, " resolv %zu\n", strlen(in->ni_resolv));
		}
	for (size_t i = 0; i < p->np_nstopped; i++)
		sb_printf(o, "stopped %s\n", p->np_stopped[i]);
	sb_printf(o, "vgw_rx %s\n", p->np_vgw_rx);
}

static void snap_dump(const struct net_snapshot *s, struct strbuf *o)
{
	for (uint32_t i = 0; i < s->n_vpcs; i++)
		sb_printf(o, "S vpc %u %s %x\n", i, s->vpcs[i].v_id, s->vpcs[i].v_zone);
	for (uint32_t i = 0; i < s->n_subnets; i++)
		sb_printf(o, "S subnet %s vpc %u rtb %u acl %u router %x\n", s->subnets[i].s_id, s->subnets[i].s_vpc,
			  s->subnets[i].s_rtb, s->subnets[i].s_nacl, s->subnets[i].s_router_ip);
	for (uint32_t i = 0; i < s->n_sgs; i++) {
		const struct snap_sg *g = &s->sgs[i];
		sb_printf(o, "S sg %s vpc %u out %u in %u refs", g->g_id, g->g_vpc, g->g_nout, g->g_nin);
		for (uint32_t k = 0; k < g->g_nin; k++)
			sb_printf(o, " %d", g->g_in[k].ar_group);
		sb_printf(o, " members");
		for (uint32_t k = 0; k < g->g_nmembers; k++)
			sb_printf(o, " %x", g->g_members[k]);
		sb_printf(o, "\n");
	}
	for (uint32_t i = 0; i < s->n_enis; i++) {
		const struct snap_eni *e = &s->enis[i];
		sb_printf(o, "S eni %s subnet %u vpc %u nat %d groups", e->e_id, e->e_subnet, e->e_vpc, e->e_nat);
		for (uint32_t k = 0; k < e->e_ngroups; k++)
			sb_printf(o, " %u", e->e_groups[k]);
		sb_printf(o, "\n");
	}
	for (uint32_t i = 0; i < s->n_enis; i++)
		sb_printf(o, "S by_ip %u %x %u\n", s->by_ip[i].a_vpc, s->by_ip[i].a_ip, s->by_ip[i].a_eni);
	for (uint32_t i = 0; i < s->n_public; i++)
		sb_printf(o, "S by_public %x %u\n", s->by_public[i].a_ip, s->by_public[i].a_eni);
	for (uint32_t i = 0; i < s->n_gws; i++)
		sb_printf(o, "S gw %s kind %d vpc %d\n", s->gws[i].w_id, s->gws[i].w_kind, s->gws[i].w_vpc);
	for (uint32_t i = 0; i < s->n_nats; i++)
		sb_printf(o, "S nat %s eni %u\n", s->nats[i].n_id, s->nats[i].n_eni);
	for (uint32_t i = 0; i < s->n_peerings; i++)
		sb_printf(o, "S pcx %s %u %u\n", s->peerings[i].p_id, s->peerings[i].p_vpc[0], s->peerings[i].p_vpc[1]);
	for (uint32_t i = 0; i < s->n_rtbs; i++) {
		sb_printf(o, "S rtb %s", s->rtbs[i].t_id);
		for (uint32_t k = 0; k < s->rtbs[i].t_n; k++)
			sb_printf(o, " %d:%d", s->rtbs[i].t_routes[k].r_target, s->rtbs[i].t_routes[k].r_index);
		sb_printf(o, "\n");
	}
}

/* The plan and snapshot of the fixed estate as text (malloc'd). */
static char *fixed_dump(void)
{
	struct cache *c = estate(230, 3);
	struct engine_net_plan *p = engine_net_plan_build(c);
	struct strbuf o = STRBUF_INIT;
	plan_dump(p, &o);
	char err[256];
	struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
	if (s)
		snap_dump(s, &o);
	else
		sb_printf(&o, "\nsnapshot refused: %s\n", err);
	net_snapshot_free(s);
	engine_net_plan_free(p);
	cache_free(c);
	return sb_detach(&o);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct strbuf o = STRBUF_INIT;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_append(&o, buf, n);
	fclose(f);
	return sb_detach(&o);
}

static void test_plan_golden(void **state)
{
	(void)state;
	char *got = fixed_dump();
	char *want = read_file(GOLDEN_DIR "/plan_fixed.txt");
	assert_non_null(want);
	assert_null(strstr(got, "snapshot refused"));
	/* the first differing line, for the reader */
	if (strcmp(got, want) != 0) {
		size_t k = 0, line = 1;
		while (got[k] && got[k] == want[k])
			line += got[k++] == '\n';
		fail_msg("plan differs from the golden at line %zu", line);
	}
	free(got);
	free(want);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median of runs: plan build and snapshot compile, in ms. */
static void time_build(size_t n, int runs, double *plan_ms, double *snap_ms)
{
	struct cache *c = estate(n, (n + PER_VPC - 1) / PER_VPC);
	double pt[16], st[16];
	for (int r = 0; r < runs; r++) {
		double t0 = now_ms();
		struct engine_net_plan *p = engine_net_plan_build(c);
		double t1 = now_ms();
		char err[256];
		struct net_snapshot *s = net_snapshot_build(&p->np_cfg, err, sizeof(err));
		double t2 = now_ms();
		if (!s) {
			fprintf(stderr, "snapshot refused: %s\n", err);
			abort();
		}
		net_snapshot_free(s);
		engine_net_plan_free(p);
		pt[r] = t1 - t0;
		st[r] = t2 - t1;
	}
	qsort(pt, (size_t)runs, sizeof(double), dbl_cmp);
	qsort(st, (size_t)runs, sizeof(double), dbl_cmp);
	*plan_ms = pt[runs / 2];
	*snap_ms = st[runs / 2];
	cache_free(c);
}

/* 4,000 subnets and ENIs: the quadratic builders took about 10 s for this
 * estate (9,883 + 92 ms), the linear ones 40-110 ms at load 6-13; the
 * bound leaves room for a loaded machine and the sanitizers. */
static void test_plan_scales(void **state)
{
	(void)state;
	double p1, s1, p4, s4;
	time_build(1000, 3, &p1, &s1);
	time_build(4000, 3, &p4, &s4);
	print_message("plan+compile: 1,000 %.1f+%.1f ms, 4,000 %.1f+%.1f ms\n", p1, s1, p4, s4);
	assert_true(p4 + s4 < 2000.0);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-golden") == 0) {
		char *d = fixed_dump();
		FILE *f = fopen(argv[2], "w");
		if (!f || fputs(d, f) < 0 || fclose(f) != 0)
			return 1;
		free(d);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--bench") == 0) {
		for (size_t n = 1000; n <= 4000; n *= 4) {
			double p, s;
			time_build(n, 5, &p, &s);
			printf("subnets+ENIs %5zu: plan build %8.2f ms, snapshot compile %8.2f ms, total %8.2f ms\n", n, p,
			       s, p + s);
		}
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_golden),
		cmocka_unit_test(test_plan_scales),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
