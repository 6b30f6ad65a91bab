/*
 * resources.h — the stored resources as every part that reads them sees
 * them (the API's handlers, the engine, the packet trace): the cache types,
 * vpcd's own keys ('_'-prefixed, never on the wire), and the pure readers
 * of the resources' docs that more than the API needs — route
 * propagation (propagation.c) and a few facts of NAT gateways, peering
 * connections, managed prefix lists and DHCP option sets (readers.c).
 *
 * Everything here reads docs or the cache and changes nothing; the
 * behaviour that changes resources is the API's (src/api/resources.h).
 * Keys are botocore member names of the Describe item.
 */
#ifndef VPCD_STATE_RESOURCES_H
#define VPCD_STATE_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/doc.h"
#include "model/model.h"
#include "state/cache.h"

/* Cache types (also the TagSpecification resource types). */
#define RT_VPC "vpc"
#define RT_SUBNET "subnet"
#define RT_ROUTE_TABLE "route-table"
#define RT_IGW "internet-gateway"
#define RT_NACL "network-acl"
#define RT_SG "security-group"
#define RT_SG_RULE "security-group-rule"
#define RT_CGW "customer-gateway"
#define RT_VGW "vpn-gateway"
#define RT_VPN "vpn-connection"
#define RT_DHCP "dhcp-options"
#define RT_NATGW "natgateway"
#define RT_PCX "vpc-peering-connection"
#define RT_PREFIX_LIST "prefix-list"
#define RT_VPCE "vpc-endpoint"
#define RT_EIGW "egress-only-internet-gateway"
#define RT_SCR "subnet-cidr-reservation"
#define RT_INSTANCE "instance"
#define RT_ENI "network-interface"
#define RT_EIP "elastic-ip"
#define RT_IMAGE "image"

/* A NAT gateway that carries traffic (pending or available). */
bool natgw_is_live(const struct doc *natgw);
/* A peering connection that carries traffic ("active"). */
bool pcx_is_active(const struct doc *pcx);

/* --- managed prefix lists ------------------------------------------------------
 * Calls fn(arg, cidr) for each IPv4 entry of list id's current version
 * (vpcd's "_Entries"; fn may be NULL: only counts); the count, 0 for an
 * unknown list. */
typedef void (*prefix_list_cidr_fn)(void *arg, const struct cidr4 *cidr);
size_t prefix_list_cidrs(struct cache *c, const char *id, prefix_list_cidr_fn fn, void *arg);

/* --- DHCP option sets ----------------------------------------------------------
 * The resolv.conf an instance of vpc_id gets from the VPC's DHCP option
 * set (search: domain-name; nameserver: each domain-name-server, with
 * AmazonProvidedDNS as the VPC's primary block + 2; no set:
 * DHCP_NO_SET_DNS), written into buf (truncated to len); the full length. */
#define DHCP_NO_SET_DNS "169.254.169.253"
size_t vpc_resolv_conf(struct cache *c, const char *vpc_id, char *buf, size_t len);
/* The values of option key of a DHCP option set doc, or NULL. */
const struct doc *dhcp_option(const struct doc *set, const char *key);

/* --- route propagation (propagation.c) --------------------------------------
 * A VPN gateway propagates into the route tables listing it in
 * PropagatingVgws: the static routes (State "available") of each of its VPN
 * connections that is neither deleting nor deleted and has a tunnel UP in
 * its VgwTelemetry; and the routes its dynamic connections learned by BGP
 * (VPN_BGP_KEY's Routes) whose tunnel's session is Established and whose
 * tunnel is UP. For one prefix a static route wins over a learned one (AWS's
 * route priority); each prefix is given once, statics first, connections in
 * creation order. The one definition for DescribeRouteTables, the trace and
 * the data plane; a table's own route with the same prefix wins. */

/* A dynamic VPN connection's BGP picture, written by the engine from BIRD
 * (the layout at the top of api/vpn.c): {Error?, Tunnels: [per tunnel index {State, Since,
 * LocalAsn, NeighborAsn, Received, Advertised, LastError, Cause,
 * OutsideIpAddress}], Routes: [{DestinationCidrBlock, Tunnel, AsPathLength,
 * Med?}]}. Absent: a static connection, or BGP has not run yet. */
#define VPN_BGP_KEY "_Bgp"

/* Whether route (an item of vpn's VPN_BGP_KEY Routes) propagates now: the
 * connection is live, the session of its Tunnel is Established and that
 * tunnel's VgwTelemetry is UP. Its prefix into dest. */
bool vpn_bgp_route_live(const struct doc *vpn, const struct doc *route, struct cidr4 *dest);
/* Tunnels UP of a VPN connection; 0 when it is deleting or deleted. */
size_t vpn_tunnels_up(const struct doc *vpn);
/* Calls fn(arg, dest) for each route vgw_id propagates now (fn may be
 * NULL: only counts); the count. 0 for an unknown gateway. */
typedef void (*vgw_route_fn)(void *arg, const struct cidr4 *dest);
size_t vgw_propagated_routes(struct cache *c, const char *vgw_id, vgw_route_fn fn, void *arg);
/* Appends to a route table doc's Routes (a copy being described) the
 * propagated routes {DestinationCidrBlock, GatewayId vgw-…, Origin
 * EnableVgwRoutePropagation, State active} of the gateways in its
 * PropagatingVgws whose prefix the table does not hold already. */
void rtb_add_propagated(struct cache *c, struct doc *table);

/* --- network ACL associations ------------------------------------------------
 * Each subnet keeps its ACL association in its own doc under vpcd's keys
 * "_NetworkAclId" and "_NetworkAclAssociationId" (so that creating a subnet
 * costs O(1) whatever the size of its VPC); an ACL's Associations list is
 * built when it is described (api/nacl.c). */
#define SUBNET_NACL_ID "_NetworkAclId"
#define SUBNET_NACL_ASSOC_ID "_NetworkAclAssociationId"

/* The network ACL a subnet is associated with (NULL when none). */
static inline const char *subnet_nacl_id(const struct doc *subnet)
{
	return doc_get_str(subnet, SUBNET_NACL_ID);
}

#endif
