/*
 * resources.h — how each resource is kept: the doc layouts shared by the
 * action handlers (keys are botocore member names of the Describe item;
 * keys starting with '_' are vpcd's own and never reach the wire), and the
 * constructors of the objects a VPC is born with.
 */
#ifndef VPCD_API_RESOURCES_H
#define VPCD_API_RESOURCES_H

#include "api/api.h"
#include "model/model.h"

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

/* A NAT gateway that carries traffic (pending or available), natgw.c. */
bool natgw_is_live(const struct doc *natgw);
/* A peering connection that carries traffic ("active"), peering.c. */
bool pcx_is_active(const struct doc *pcx);
/* DeleteVpc: the VPC's pending and active connections (of any region)
 * become "deleted", the routes to them blackholes. 0, or -1 after api_fail. */
int pcx_delete_for_vpc(struct api_req *rq, const char *vpc_id);
#define RT_PREFIX_LIST "prefix-list"
#define RT_VPCE "vpc-endpoint"
#define RT_EIGW "egress-only-internet-gateway"
#define RT_SCR "subnet-cidr-reservation"

/* The main route table of a new VPC, with its local route. */
struct doc *rtb_new(struct api_req *rq, const char *vpc_id, const char *vpc_cidr, bool main,
		    char *id_out);
/* The default network ACL (allow all, then deny) or a custom one (deny). */
struct doc *nacl_new(struct api_req *rq, const char *vpc_id, bool is_default, char *id_out);
/* The default security group of a VPC, or a new group (outbound all only). */
struct doc *sg_new(struct api_req *rq, const char *vpc_id, const char *name, const char *description,
		   bool is_default, char *id_out);

/* The VPC's main route table / default network ACL / default security group. */
struct res *vpc_main_route_table(struct api_req *rq, const char *vpc_id);
struct res *vpc_default_nacl(struct api_req *rq, const char *vpc_id);
struct res *vpc_default_sg(struct api_req *rq, const char *vpc_id);

/* Creates a VPC with its default objects; is_default for the account's
 * default VPC. Returns the cached VPC doc or NULL after api_fail. */
struct doc *vpc_create(struct api_req *rq, const struct cidr4 *cidr, const char *tenancy, bool is_default,
		       struct doc *tags);
/* Whether c lies inside one of the VPC's associated IPv4 blocks (its
 * CidrBlockAssociationSet; vpc_cidr.c). */
bool vpc_block_holds(const struct doc *vpc, const struct cidr4 *c);
/* Creates a subnet in vpc (validated by the caller). */
struct doc *subnet_create(struct api_req *rq, const char *vpc_id, const struct cidr4 *cidr,
			  const struct zone_info *zone, bool default_for_az, struct doc *tags);

/* Whether ip lies in an "explicit" CIDR reservation of the subnet
 * (subnet_reservation.c): automatic assignment passes over it. */
bool subnet_reserved_explicit(struct api_req *rq, const char *subnet_id, uint32_t ip);

/* The zone of reg named name or with id zid, or NULL (subnet.c). */
const struct zone_info *zone_lookup(const struct region_info *reg, const char *name, const char *zid);

/* Whether block shares an address with a subnet of vpc_id: O(log n) in
 * the VPC's subnets (an index the cache keeps current, subnet.c). */
bool subnet_block_taken(struct api_req *rq, const char *vpc_id, const struct cidr4 *block);
/* Parses a VPC or subnet block (/16 to /28); range_code is the error for a
 * size outside that ("InvalidVpc.Range", "InvalidSubnet.Range"). */
int vpc_parse_block(struct api_req *rq, const char *member, const char *text, struct cidr4 *out,
		    const char *range_code);

/* --- customer and VPN gateways (vpn_gw.c) ----------------------------------------
 * The gateway of type RT_CGW / RT_VGW named by member of the request, unless
 * deleted (a deleted one stays describable for an hour): NULL after
 * api_fail with InvalidCustomerGatewayID.NotFound / InvalidVpnGatewayID.NotFound. */
struct res *gw_require_live(struct api_req *rq, const char *member, const char *type);

/* --- DHCP option sets (dhcp.c) ----------------------------------------------
 * The region's default set (made on first use): its id, or NULL after
 * api_fail. Every new VPC gets it. */
const char *dhcp_default_set(struct api_req *rq);
/* "ec2.internal" in us-east-1, "<region>.compute.internal" elsewhere. */
const char *dhcp_default_domain(const char *region, char *buf, size_t len);
/* The resolv.conf an instance of vpc_id gets from the VPC's DHCP option
 * set (search: domain-name; nameserver: each domain-name-server, with
 * AmazonProvidedDNS as the VPC's primary block + 2), written into buf
 * (truncated to len); the full length. */
size_t vpc_resolv_conf(struct cache *c, const char *vpc_id, char *buf, size_t len);

/* --- managed prefix lists (prefix_list.c) -------------------------------------
 * The AWS-managed lists (com.amazonaws.<region>.s3 / .dynamodb) enter the
 * cache on first use: 0, or -1 after api_fail. */
int prefix_lists_ensure_aws(struct api_req *rq);
/* The list named id (AWS-managed ones included), or NULL after api_fail
 * with InvalidPrefixListID.NotFound. */
struct res *prefix_list_require(struct api_req *rq, const char *id);
/* Calls fn(arg, cidr) for each IPv4 entry of list id's current version
 * (fn may be NULL: only counts); the count, 0 for an unknown list. */
typedef void (*prefix_list_cidr_fn)(void *arg, const struct cidr4 *cidr);
size_t prefix_list_cidrs(struct cache *c, const char *id, prefix_list_cidr_fn fn, void *arg);

/* --- route states (route.c) ------------------------------------------------
 * Recomputes the State ("active" / "blackhole") of every route whose target
 * is target_id (an igw-, vgw-, eni-, ... id). Call it after attaching,
 * detaching or deleting anything a route can point at. 0, or -1 after
 * api_fail. */
int rtb_refresh_routes(struct api_req *rq, const char *target_id);

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
/* DescribeRouteTables' ds_decorate: appends the propagated routes
 * {DestinationCidrBlock, GatewayId vgw-…, Origin EnableVgwRoutePropagation,
 * State active} whose prefix the table does not hold already. */
void rtb_decorate_propagated(struct api_req *rq, struct doc *item);

/* --- network ACL associations ------------------------------------------------
 * Each subnet keeps its ACL association in its own doc under vpcd's keys
 * "_NetworkAclId" and "_NetworkAclAssociationId" (so that creating a subnet
 * costs O(1) whatever the size of its VPC); an ACL's Associations list is
 * built when it is described (nacl.c). */
#define SUBNET_NACL_ID "_NetworkAclId"
#define SUBNET_NACL_ASSOC_ID "_NetworkAclAssociationId"

/* The network ACL a subnet is associated with (NULL when none). */
static inline const char *subnet_nacl_id(const struct doc *subnet)
{
	return doc_get_str(subnet, SUBNET_NACL_ID);
}

/* One-time migration of the layout before that: moves every association
 * still listed in an ACL doc's Associations into its subnet, and empties
 * the list. put(arg, type, id, doc) stores a changed doc (taking it) and
 * returns <0 to stop. The number of docs changed, or -1. */
typedef int (*nacl_migrate_put_fn)(void *arg, const char *type, const char *id, struct doc *doc);
int nacl_migrate_associations(struct cache *c, nacl_migrate_put_fn put, void *arg);

/* A route table, NACL or subnet association id etc.: "rtbassoc-…". */
#define new_id(prefix, buf) model_new_id(prefix, buf, sizeof(buf))

#endif
