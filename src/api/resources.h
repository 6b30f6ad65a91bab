/*
 * resources.h — how the action handlers keep each resource: the behaviour
 * they share (constructors of the objects a VPC is born with, lookups that
 * fail with the request's error, route states). The cache types, vpcd's
 * own keys and the pure readers the engine needs too (route propagation
 * among them) are the state part's: state/resources.h, included here.
 */
#ifndef VPCD_API_RESOURCES_H
#define VPCD_API_RESOURCES_H

#include "api/api.h"
#include "model/model.h"
#include "state/resources.h"

/* DeleteVpc: the VPC's pending and active connections (of any region)
 * become "deleted", the routes to them blackholes. 0, or -1 after api_fail. */
int pcx_delete_for_vpc(struct api_req *rq, const char *vpc_id);

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

/* --- managed prefix lists (prefix_list.c) -------------------------------------
 * The AWS-managed lists (com.amazonaws.<region>.s3 / .dynamodb) enter the
 * cache on first use: 0, or -1 after api_fail. */
int prefix_lists_ensure_aws(struct api_req *rq);
/* The list named id (AWS-managed ones included), or NULL after api_fail
 * with InvalidPrefixListID.NotFound. */
struct res *prefix_list_require(struct api_req *rq, const char *id);

/* --- route states (route.c) ------------------------------------------------
 * Recomputes the State ("active" / "blackhole") of every route whose target
 * is target_id (an igw-, vgw-, eni-, ... id). Call it after attaching,
 * detaching or deleting anything a route can point at. 0, or -1 after
 * api_fail. */
int rtb_refresh_routes(struct api_req *rq, const char *target_id);

/* --- route propagation (state/propagation.c) ------------------------------
 * DescribeRouteTables' ds_decorate (route.c): rtb_add_propagated. */
void rtb_decorate_propagated(struct api_req *rq, struct doc *item);

/* --- network ACL associations (state/resources.h: SUBNET_NACL_ID) ---------- */

/* One-time migration of the layout before that: moves every association
 * still listed in an ACL doc's Associations into its subnet, and empties
 * the list. put(arg, type, id, doc) stores a changed doc (taking it) and
 * returns <0 to stop. The number of docs changed, or -1. */
typedef int (*nacl_migrate_put_fn)(void *arg, const char *type, const char *id, struct doc *doc);
int nacl_migrate_associations(struct cache *c, nacl_migrate_put_fn put, void *arg);

/* A route table, NACL or subnet association id etc.: "rtbassoc-…". */
#define new_id(prefix, buf) model_new_id(prefix, buf, sizeof(buf))

#endif
