/*
 * engine_net — the pure half of the data-plane engine: the cache's docs
 * (VPCs, subnets, route tables with the routes their propagating VPN
 * gateways learn while a tunnel is UP, network ACLs, security groups and
 * their rules, ENIs, instances, internet and VPN gateways) into one plain
 * description of the network, net.h's struct net_config, plus the
 * instances that must be running. No I/O, no threads.
 *
 * Built on the engine thread from its own view (a state replica's cache)
 * after a committed batch, and on the API thread from its cache for the
 * packet trace (engine_trace); everything in a plan is a copy, so the
 * plan outlives the cache it came from.
 *
 * Mapping, doc -> net (the layouts are at the tops of api/instance.c,
 * eni.c, route.c, nacl.c, sg.c):
 *   subnet       its CidrBlock, its VPC, the route table explicitly
 *                associated (else the VPC's main table), the NACL whose
 *                Associations name it (every subnet has exactly one).
 *   route        "local" -> local; igw-/vgw- -> that gateway;
 *                NetworkInterfaceId -> that ENI; NatGatewayId -> that NAT
 *                gateway; VpcPeeringConnectionId -> that connection;
 *                State "blackhole", a target the plan does not know, or a
 *                target vpcd does not carry (transit...) -> blackhole,
 *                its target_id the id the route names (for the trace).
 *                IPv6 routes are left out; a route to a prefix list is one
 *                route per CIDR of the list (after the CIDR routes, which
 *                win a tie).
 *   NAT gateway  each pending or available one whose interface is in the
 *                plan: its id and that ENI (whose public address is the
 *                gateway's Elastic IP).
 *   peering      each active connection: its two VPCs.
 *   propagated   for each PropagatingVgws entry: the static routes of the
 *                gateway's connections that have a tunnel UP
 *                (VgwTelemetry), after the table's own routes; a static
 *                route wins a tie, as in AWS.
 *   NACL entry   as model's nacl_rule; the "*" rules are implicit.
 *   SG rule      one per security-group-rule resource (CidrIpv4 or a
 *                referenced group; a prefix list: one per CIDR of the
 *                list; IPv6 left out), carrying its sgr- id (rule_id).
 *   ENI          every ENI with an address: MAC, address, subnet, groups,
 *                source/dest check, public address (Association.PublicIp);
 *                tap_fd -1 (the engine thread fills in the TAPs it holds).
 *   gateway      every internet gateway and VPN gateway, attached to its
 *                VPC while attached; ports are the engine thread's.
 *   instance     each instance in state "running" with a primary ENI
 *                (DeviceIndex 0): image vpcd-linux -> a namespace named
 *                after the instance; vpcd-join-netns -> eth0 in the
 *                namespace named by its tag "vpcd:netns".
 *   resolver     a vpcd-linux instance's resolv.conf from its VPC's DHCP
 *                option set (state/resources.h: vpc_resolv_conf).
 *   secondary    each ENI attached to such an instance with DeviceIndex
 *                1..ENGINE_DEV_MAX: eth<DeviceIndex> in the same namespace.
 */
#ifndef VPCD_ENGINE_NET_H
#define VPCD_ENGINE_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "net/net.h"
#include "state/cache.h"

#define ENGINE_IMAGE_LINUX	"ami-0c0dd0e0a0b0c0d01"	/* vpcd-linux (api/image.c) */
#define ENGINE_IMAGE_JOIN	"ami-0c0dd0e0a0b0c0d02"	/* vpcd-join-netns */
#define ENGINE_NETNS_TAG	"vpcd:netns"
#define ENGINE_DEV_MAX		99	/* secondary ENIs: eth1 .. eth99 */
#define ENGINE_RESOLV_MAX	512	/* an instance's resolv.conf */

/* One running instance: where its primary ENI goes (np_instances), or one
 * of its secondary ENIs (np_secondary: ni_dev > 0, eth<ni_dev> in the same
 * namespace). */
struct engine_net_instance {
	char ni_id[NET_ID_MAX];		/* i-…: the namespace's name (vpcd-linux) */
	char ni_join[NET_ID_MAX];	/* vpcd-join-netns: the existing namespace; "" otherwise */
	size_t ni_eni;			/* index into np_enis */
	struct cidr4 ni_subnet;		/* prefix length and router (.1) */
	int ni_dev;			/* DeviceIndex: 0 primary (eth0) */
	/* vpcd-linux primaries: the resolv.conf its VPC's DHCP option set
	 * gives it (vpc_resolv_conf); "" otherwise */
	char ni_resolv[ENGINE_RESOLV_MAX];
};

struct engine_net_plan {
	/* the arrays of np_cfg, owned here (np_cfg points into them) */
	struct net_config np_cfg;
	struct net_subnet_config *np_subnets;
	struct net_route_table_config *np_tables;
	struct net_route_config *np_routes;		/* of every table */
	struct net_nacl_config *np_nacls;
	struct nacl_rule *np_nacl_rules;		/* of every NACL */
	struct net_sg_config *np_sgs;
	struct net_sg_rule_config *np_sg_rules;		/* of every group */
	struct net_eni_config *np_enis;			/* tap_fd -1 */
	struct net_gateway_config *np_gateways;		/* ops NULL */
	struct net_vgw_route *np_vgw_routes;		/* of every VPN gateway */
	struct net_nat_config *np_nats;
	struct net_peering_config *np_peerings;

	struct engine_net_instance *np_instances;
	size_t np_ninstances;
	/* The attached ENIs with DeviceIndex 1..ENGINE_DEV_MAX of the
	 * instances in np_instances (same ni_id/ni_join). */
	struct engine_net_instance *np_secondary;
	size_t np_nsecondary;
	/* vpcd-linux instances that are not running (stopped, terminated,
	 * pending): a namespace by that name is a leftover of vpcd's. */
	char (*np_stopped)[NET_ID_MAX];
	size_t np_nstopped;
	/* The first attached VGW with a VPN connection that is not deleted;
	 * "" none. (Informative: the endpoint has one plaintext side per VPN
	 * gateway, np_gw_port below.) */
	char np_vgw_rx[NET_ID_MAX];
	/* Per np_gateways[i]: the endpoint's plaintext side (vpn_tunnel_spec
	 * plain_port) that is that VPN gateway's port; -1 none (every IGW, and
	 * every VGW until the engine thread fills it in before applying). */
	int *np_gw_port;
};

/* A new plan from cache c (whichever thread owns it). Never fails (aborts when out of
 * memory); what cannot be carried is left out as described above. */
struct engine_net_plan *engine_net_plan_build(struct cache *c);
void engine_net_plan_free(struct engine_net_plan *p);

/* The id ("sgr-…") of rule index of group group_id in p, as a router trace
 * step names a security group rule (net.h's NET_TRACE_SG_*: the group and
 * the rule's index); NULL when p has no such group or rule. A prefix
 * list's rule is one rule per CIDR of the list, each with the rule's id.
 * Borrowed from p. */
const char *engine_net_sg_rule_id(const struct engine_net_plan *p, const char *group_id, int32_t index);

/* --- what the packet trace reads beside the plan (engine_trace) ----------
 * The docs' side of a trace's question, kept here with the one reader of
 * the docs into the network picture. All read the cache they are given. */

/* A trace endpoint as vpcctl gives it: "i-…" is the instance's primary
 * ENI (DeviceIndex 0), "eni-…" an existing ENI (*eni borrowed from the
 * cache), anything else an IPv4 address (*eni NULL, *addr set). 0, or -1
 * with a message in err naming what ("from"/"to") and why (does not
 * exist, has no network interface, not an address). */
int engine_net_trace_endpoint(struct cache *c, const char *what, const char *text, const char **eni, uint32_t *addr,
			      char *err, size_t errlen);

/* The instance eni_id is attached to, or NULL. Borrowed from the cache. */
const char *engine_net_eni_instance(struct cache *c, const char *eni_id);

/* Would the VPN endpoint carry a packet for addr that the router hands to
 * vgw_id's port: does a VPN connection of vgw_id with a tunnel UP have a
 * route covering addr (vgw_propagated_routes)? The endpoint's decision,
 * until the router makes it (issue 15, item 1). */
bool engine_net_vgw_carries(struct cache *c, const char *vgw_id, uint32_t addr);

/* The VPN connection whose key (engine_vpn_conn_key) is key — the one a
 * VPN gateway's own routes chose in the router (net_trace_step.conn_key)
 * — with its tunnels UP in *up; NULL (and *up 0) when none has it.
 * Borrowed from the cache. */
const char *engine_net_conn_of_key(struct cache *c, uint64_t key, size_t *up);

#endif
