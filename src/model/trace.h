/*
 * trace — why a packet is delivered or dropped, walked through the model
 * the way AWS's Reachability Analyzer does it: pure functions over plain
 * structs, no I/O, no allocation.
 *
 * The caller describes the network (one or more VPCs: subnets, route
 * tables with their associations and routes, network ACLs with theirs,
 * security groups and their rules, ENIs, VPN gateways) and a packet
 * (from an ENI or an address, to an ENI or an address, protocol, port).
 * trace_walk() names each step — security group egress, the source
 * subnet's route table and matching route, the outbound network ACL rule,
 * the gateway, the inbound network ACL rule, security group ingress — and
 * the step that drops it. Because network ACLs are stateless, the reply's
 * way through them (and, for traffic entering from a gateway, the reply's
 * route back) is checked too; security groups are stateful and let the
 * reply through.
 *
 * Rules the walk follows (AWS's):
 *  - the route table is the subnet's explicit association, else its VPC's
 *    main table; the longest matching prefix wins, "local" on a tie;
 *  - network ACLs apply where a packet crosses a subnet boundary, not
 *    between two ENIs of the same subnet; lowest rule number wins;
 *  - security groups allow only; a rule matches by CIDR or by referenced
 *    group (the peer is an ENI that has that group);
 *  - to the internet the source ENI needs a public address; from it the
 *    destination is an ENI's public address (1:1 NAT at the gateway);
 *  - a VPN gateway carries the packet when a tunnel is UP and a route of
 *    its connection covers the destination.
 *
 * Call order: fill a struct trace_net (all borrowed; it must outlive the
 * call only), a struct trace_packet, then trace_walk(); read the result.
 * The result holds copies of every name, so it outlives the net.
 */
#ifndef VPCD_MODEL_TRACE_H
#define VPCD_MODEL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "model/model.h"

#define TRACE_STEPS_MAX 16
#define TRACE_NAME_MAX 48		/* ids: "rtb-0123…", "acl-…", "sgr-…" */
#define TRACE_DETAIL_MAX 200
#define TRACE_EPHEMERAL_PORT_DEFAULT 49152	/* in Linux's and Windows' ephemeral ranges */

/* --- the network ------------------------------------------------------------- */

enum trace_target {
	TRACE_TARGET_LOCAL,	/* the VPC's own block */
	TRACE_TARGET_IGW,	/* internet gateway */
	TRACE_TARGET_VGW,	/* VPN gateway */
	TRACE_TARGET_ENI,	/* a network interface (an appliance) */
	TRACE_TARGET_OTHER,	/* NAT, peering, transit...: not followed */
};

struct trace_route {
	struct cidr4 tr_dest;
	enum trace_target tr_kind;
	const char *tr_target;		/* "local", "igw-…", "vgw-…", "eni-…" */
	bool tr_blackhole;		/* the target is gone or detached */
};

struct trace_route_table {
	const char *rt_id;
	const char *rt_vpc;
	bool rt_main;
	const char *const *rt_subnets;	/* explicitly associated subnets */
	size_t rt_nsubnets;
	const struct trace_route *rt_routes;
	size_t rt_nroutes;
};

struct trace_nacl {
	const char *na_id;
	const char *const *na_subnets;	/* associated subnets */
	size_t na_nsubnets;
	const struct nacl_rule *na_rules;	/* both directions; "*" implicit */
	size_t na_nrules;
};

struct trace_sg_rule {
	const char *sr_id;		/* "sgr-…" */
	bool sr_egress;
	int16_t sr_protocol;		/* -1 all, else IP protocol number */
	int32_t sr_from, sr_to;		/* ports, or ICMP type/code (-1 any) */
	bool sr_has_cidr;
	struct cidr4 sr_cidr;
	const char *sr_group;		/* referenced group, when !sr_has_cidr */
};

struct trace_sg {
	const char *sg_id;
	const struct trace_sg_rule *sg_rules;
	size_t sg_nrules;
};

struct trace_eni {
	const char *en_id;
	const char *en_instance;	/* attached instance, or NULL */
	const char *en_subnet;
	uint32_t en_addr;		/* private, host order */
	uint32_t en_public;		/* public (1:1 NAT), 0 when none */
	bool en_source_dest_check;
	const char *const *en_groups;
	size_t en_ngroups;
};

struct trace_subnet {
	const char *su_id;
	const char *su_vpc;
	struct cidr4 su_cidr;
};

struct trace_vpc {
	const char *vp_id;
	const struct cidr4 *vp_cidrs;
	size_t vp_ncidrs;
	const char *vp_igw;		/* attached internet gateway, or NULL */
	const char *vp_vgw;		/* attached VPN gateway, or NULL */
};

struct trace_vgw {
	const char *vg_id;
	size_t vg_tunnels_up;		/* over all its VPN connections */
	const struct cidr4 *vg_routes;	/* static (or learnt) routes of connections with a tunnel UP */
	size_t vg_nroutes;
};

struct trace_net {
	const struct trace_vpc *tn_vpcs;	size_t tn_nvpcs;
	const struct trace_subnet *tn_subnets;	size_t tn_nsubnets;
	const struct trace_route_table *tn_tables; size_t tn_ntables;
	const struct trace_nacl *tn_nacls;	size_t tn_nnacls;
	const struct trace_sg *tn_sgs;		size_t tn_nsgs;
	const struct trace_eni *tn_enis;	size_t tn_nenis;
	const struct trace_vgw *tn_vgws;	size_t tn_nvgws;
};

/* --- the packet ---------------------------------------------------------------- */

struct trace_endpoint {
	const char *te_eni;	/* an ENI id, or NULL for an address */
	uint32_t te_addr;	/* when te_eni is NULL: any IPv4 address */
};

struct trace_packet {
	struct trace_endpoint tp_from, tp_to;
	uint8_t tp_protocol;	/* 6, 17, 1 (or any other number) */
	uint16_t tp_port;	/* TCP/UDP destination port */
	uint16_t tp_src_port;	/* TCP/UDP source port (the reply's destination); 0: TRACE_EPHEMERAL_PORT_DEFAULT */
	uint8_t tp_icmp_type, tp_icmp_code;
};

/* --- the result ------------------------------------------------------------------ */

enum trace_step_kind {
	TRACE_STEP_SOURCE,		/* where the packet starts */
	TRACE_STEP_SG_EGRESS,
	TRACE_STEP_ROUTE,		/* route table and matching route */
	TRACE_STEP_NACL_OUT,
	TRACE_STEP_GATEWAY,		/* internet or VPN gateway, appliance ENI */
	TRACE_STEP_NACL_IN,
	TRACE_STEP_SG_INGRESS,
	TRACE_STEP_SOURCE_DEST_CHECK,
	TRACE_STEP_REPLY_NACL_OUT,	/* the reply leaving the destination's subnet */
	TRACE_STEP_REPLY_ROUTE,		/* the reply's route back to a gateway */
	TRACE_STEP_REPLY_NACL_IN,	/* the reply entering the source's subnet */
	TRACE_STEP_DESTINATION,
};

/* Why a packet is dropped; the data plane counts its drops by the same
 * causes (trace_cause_name() gives the counter names). */
enum trace_cause {
	TRACE_OK,
	TRACE_NO_SOURCE,		/* the source names no known ENI */
	TRACE_NO_ROUTE,
	TRACE_BLACKHOLE,
	TRACE_NACL_OUT,
	TRACE_NACL_IN,
	TRACE_SG_EGRESS,
	TRACE_SG_INGRESS,
	TRACE_NO_PUBLIC_IP,		/* to the internet without a public address */
	TRACE_NO_GATEWAY,		/* no internet/VPN gateway on the VPC */
	TRACE_VPN_DOWN,			/* no tunnel UP, or no VPN route covers it */
	TRACE_NO_DESTINATION,		/* no ENI has the address */
	TRACE_SOURCE_DEST_CHECK,
	TRACE_UNSUPPORTED_TARGET,	/* a target the trace does not follow */
	TRACE_REPLY_NO_ROUTE,
	TRACE_REPLY_NACL_OUT,
	TRACE_REPLY_NACL_IN,
	TRACE_CAUSE_COUNT
};

struct trace_step {
	enum trace_step_kind ts_kind;
	bool ts_ok;
	char ts_component[TRACE_NAME_MAX];	/* "rtb-…", "acl-…", "sg-…", "igw-…", "eni-…" */
	char ts_rule[TRACE_NAME_MAX];		/* "100", "sgr-…", "10.0.0.0/24 -> vgw-…", "" */
	char ts_detail[TRACE_DETAIL_MAX];	/* one sentence for people */
};

struct trace_result {
	bool tr_reachable;
	enum trace_cause tr_cause;		/* TRACE_OK when reachable */
	size_t tr_nsteps;
	struct trace_step tr_steps[TRACE_STEPS_MAX];
};

/* Walks pkt through net into *out (overwritten). Returns 0, or -1 when the
 * trace cannot start (an endpoint names an unknown ENI): then out holds a
 * single step saying so and tr_cause TRACE_NO_SOURCE/TRACE_NO_DESTINATION. */
int trace_walk(const struct trace_net *net, const struct trace_packet *pkt, struct trace_result *out);

const char *trace_cause_name(enum trace_cause c);	/* "nacl-out", "sg-ingress", … */
const char *trace_step_name(enum trace_step_kind k);	/* "security-group-egress", … */

/* The result as lines for people:
 *   1. ok    source               eni-…            10.96.1.4 in subnet-…
 *   2. DROP  network-acl-inbound  acl-… rule 90    …
 *   => dropped: nacl-in */
void trace_format(const struct trace_result *r, struct strbuf *out);

#endif
