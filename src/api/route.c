/*
 * route.c — route tables, their routes and their associations:
 * CreateRouteTable, DescribeRouteTables, DeleteRouteTable,
 * AssociateRouteTable, DisassociateRouteTable, ReplaceRouteTableAssociation,
 * CreateRoute, ReplaceRoute, DeleteRoute.
 *
 * A route table doc keeps its associations in "Associations" (rtb_new()):
 * the VPC's main association (Main true, no SubnetId), explicit subnet
 * associations (SubnetId) and gateway (edge) associations (GatewayId). A
 * subnet without an explicit association uses the main table.
 *
 * A route names exactly one target by its botocore member (GatewayId,
 * NatGatewayId, ...). Its State is "active" while the target exists and is
 * attached to the table's VPC, "blackhole" otherwise; whoever detaches or
 * deletes a target calls rtb_refresh_routes() so that the stored state
 * follows (routes are never removed because their target went away, as in
 * AWS). The "local" route (GatewayId "local", Origin CreateRouteTable)
 * can be neither replaced nor deleted.
 *
 * Never touches a cached doc in place: every change is a doc_clone() that
 * is api_put().
 */
#include "api/quota.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define RTB_WHAT "routeTable"	/* as in "The routeTable ID 'rtb-…' does not exist" */
#define ASSOC_STATE_ASSOCIATED "associated"

/* --- route targets ---------------------------------------------------------- */

struct route_target {
	const char *rt_member;		/* request and Route member: "NatGatewayId" */
	const char *rt_param;		/* wire parameter name for messages */
	const char *rt_type;		/* cache type; NULL for GatewayId (by prefix) */
	const char *rt_notfound;	/* error code when the target does not exist */
	const char *rt_what;		/* "The <what> ID '…' does not exist" */
	const char *rt_net_what;	/* "route table … and <net_what> … belong to different networks" */
};

/* Every target CreateRoute/ReplaceRoute accept. The types vpcd does not
 * model yet (NAT, peering, transit, ...) are looked up all the same, so
 * that they answer their proper NotFound code and start working when
 * someone stores them under that cache type. */
static const struct route_target route_targets[] = {
	{ "GatewayId", "gatewayId", NULL, "InvalidGatewayID.NotFound", "gateway", "network gateway" },
	{ "NatGatewayId", "natGatewayId", "natgateway", "InvalidNatGatewayID.NotFound", "natGateway", "nat gateway" },
	{ "NetworkInterfaceId", "networkInterfaceId", "network-interface", "InvalidNetworkInterfaceID.NotFound",
	  "networkInterface", "interface" },
	{ "InstanceId", "instanceId", "instance", "InvalidInstanceID.NotFound", "instance", "instance" },
	{ "VpcPeeringConnectionId", "vpcPeeringConnectionId", "vpc-peering-connection",
	  "InvalidVpcPeeringConnectionID.NotFound", "vpcPeeringConnection", "vpc peering connection" },
	{ "TransitGatewayId", "transitGatewayId", "transit-gateway", "InvalidTransitGatewayID.NotFound",
	  "transitGateway", "transit gateway" },
	{ "EgressOnlyInternetGatewayId", "egressOnlyInternetGatewayId", "egress-only-internet-gateway",
	  "InvalidGatewayID.NotFound", "gateway", "network gateway" },
	{ "LocalGatewayId", "localGatewayId", "local-gateway", "InvalidLocalGatewayID.NotFound", "localGateway",
	  "local gateway" },
	{ "CarrierGatewayId", "carrierGatewayId", "carrier-gateway", "InvalidCarrierGatewayID.NotFound",
	  "carrierGateway", "carrier gateway" },
	{ "VpcEndpointId", "vpcEndpointId", "vpc-endpoint", "InvalidVpcEndpointId.NotFound", "vpcEndpoint",
	  "vpc endpoint" },
	{ "CoreNetworkArn", "coreNetworkArn", "core-network", "InvalidCoreNetworkArn.NotFound", "coreNetwork",
	  "core network" },
	{ "OdbNetworkArn", "odbNetworkArn", "odb-network", "InvalidOdbNetworkArn.NotFound", "odbNetwork",
	  "odb network" },
};

/* The target member a route holds, or NULL (a malformed route). */
static const struct route_target *route_target_of(const struct doc *route, const char **id_out)
{
	for (size_t i = 0; i < ARRAY_LEN(route_targets); i++) {
		const char *id = doc_get_str(route, route_targets[i].rt_member);
		if (id) {
			*id_out = id;
			return &route_targets[i];
		}
	}
	return NULL;
}

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static bool has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Is gateway doc gw (an internet or VPN gateway) attached to vpc_id? */
static bool gateway_attached_to(const struct res *gw, const char *vpc_id)
{
	bool vgw = strcmp(gw->r_type, RT_VGW) == 0;
	doc_foreach(a, doc_get(gw->r_doc, vgw ? "VpcAttachments" : "Attachments")) {
		const char *state = doc_get_str(a, "State");
		if (str_eq(doc_get_str(a, "VpcId"), vpc_id) &&
		    str_eq(state, vgw ? "attached" : "available"))
			return true;
	}
	return false;
}

/* The internet or VPN gateway named by id (by its prefix), or NULL. */
static struct res *gateway_lookup(struct api_req *rq, const char *id)
{
	if (has_prefix(id, "igw-"))
		return cache_get_typed(api_cache(rq), RT_IGW, id);
	if (has_prefix(id, "vgw-")) {
		struct res *vgw = cache_get_typed(api_cache(rq), RT_VGW, id);
		const char *st = vgw ? doc_get_str(vgw->r_doc, "State") : NULL;
		return st && strcmp(st, "deleted") == 0 ? NULL : vgw;	/* kept only to be described */
	}
	if (has_prefix(id, "vpce-"))	/* a gateway endpoint's route (vpc_endpoint.c) */
		return cache_get_typed(api_cache(rq), RT_VPCE, id);
	return NULL;
}

/* Does the target resource t belong to vpc_id? */
static bool target_in_vpc(const struct res *t, const char *vpc_id)
{
	if (strcmp(t->r_type, RT_IGW) == 0 || strcmp(t->r_type, RT_VGW) == 0)
		return gateway_attached_to(t, vpc_id);
	if (str_eq(doc_get_str(t->r_doc, "VpcId"), vpc_id))
		return true;
	/* a peering connection joins two VPCs */
	if (str_eq(doc_get_str(doc_get(t->r_doc, "AccepterVpcInfo"), "VpcId"), vpc_id) ||
	    str_eq(doc_get_str(doc_get(t->r_doc, "RequesterVpcInfo"), "VpcId"), vpc_id))
		return true;
	/* what carries no VPC (a transit gateway) is not checked here */
	return !doc_get(t->r_doc, "VpcId") && !doc_get(t->r_doc, "AccepterVpcInfo");
}

static struct res *target_lookup(struct api_req *rq, const struct route_target *kind, const char *id)
{
	if (!kind->rt_type)
		return gateway_lookup(rq, id);
	if (strcmp(kind->rt_type, RT_PCX) == 0) {
		/* a connection to another region is stored in one of the two
		 * (peering.c); target_in_vpc checks it joins the table's VPC */
		struct res *r = cache_get_any(api_cache(rq), id);
		return r && strcmp(r->r_type, RT_PCX) == 0 ? r : NULL;
	}
	return cache_get_typed(api_cache(rq), kind->rt_type, id);
}

/* "active" or "blackhole" for a route of a table in vpc_id. */
static const char *route_state(struct api_req *rq, const char *vpc_id, const struct doc *route)
{
	const char *id = NULL;
	const struct route_target *kind = route_target_of(route, &id);
	if (!kind)
		return "blackhole";
	if (kind->rt_type == NULL && strcmp(id, "local") == 0)
		return "active";
	struct res *t = target_lookup(rq, kind, id);
	if (t && strcmp(t->r_type, RT_NATGW) == 0 && !natgw_is_live(t->r_doc))
		return "blackhole";	/* deleting, deleted, failed */
	if (t && strcmp(t->r_type, RT_PCX) == 0 && !pcx_is_active(t->r_doc))
		return "blackhole";	/* not (yet, or no longer) active */
	return t && target_in_vpc(t, vpc_id) ? "active" : "blackhole";
}

static bool route_targets_id(const struct doc *route, const char *target_id)
{
	const char *id = NULL;
	return route_target_of(route, &id) && strcmp(id, target_id) == 0;
}

/* A route table whose stored route states differ from the present ones for
 * routes to target_id; NULL when none. */
static struct res *rtb_with_stale_routes(struct api_req *rq, const char *target_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_ROUTE_TABLE, &n);
	for (size_t i = 0; i < n; i++) {
		const char *vpc_id = doc_get_str(list[i]->r_doc, "VpcId");
		doc_foreach(route, doc_get(list[i]->r_doc, "Routes"))
			if (route_targets_id(route, target_id) &&
			    !str_eq(doc_get_str(route, "State"), route_state(rq, vpc_id, route)))
				return list[i];
	}
	return NULL;
}

int rtb_refresh_routes(struct api_req *rq, const char *target_id)
{
	struct res *rtb;
	/* each pass fixes one table, which then no longer matches: O(tables^2)
	 * in the worst case, and a target is in few tables */
	while ((rtb = rtb_with_stale_routes(rq, target_id))) {
		struct doc *d = doc_clone(rtb->r_doc);
		const char *vpc_id = doc_get_str(d, "VpcId");
		doc_foreach(route, doc_get(d, "Routes"))
			if (route_targets_id(route, target_id))
				doc_set_str(route, "State", route_state(rq, vpc_id, route));
		if (!api_put(rq, RT_ROUTE_TABLE, rtb->r_id, d))
			return -1;
	}
	return 0;
}

/* --- route destinations ------------------------------------------------------ */

/* A route's destination as a request names it: the Route member that
 * holds it and its value (a CIDR normalised, host bits cleared, or a
 * prefix list id), and the text the request gave for messages. */
struct route_dest {
	const char *rd_member;		/* "DestinationCidrBlock" or "DestinationPrefixListId" */
	char rd_value[RESOURCE_ID_MAX];
	const char *rd_text;
};

static int route_destination(struct api_req *rq, struct route_dest *out)
{
	const char *text = doc_get_str(rq->rq_in, "DestinationCidrBlock");
	const char *pl = doc_get_str(rq->rq_in, "DestinationPrefixListId");
	if ((text != NULL) + (pl != NULL) + (doc_get_str(rq->rq_in, "DestinationIpv6CidrBlock") != NULL) > 1)
		return api_fail(rq, "InvalidParameterCombination",
				"Only one of destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId may be specified");
	if (doc_get_str(rq->rq_in, "DestinationIpv6CidrBlock"))
		return api_fail(rq, "InvalidParameterValue",
				"vpcd routes IPv4 destinations only (destinationIpv6CidrBlock is not supported yet)");
	if (pl) {
		struct res *list = prefix_list_require(rq, pl);
		if (!list)
			return -1;
		out->rd_member = "DestinationPrefixListId";
		snprintf(out->rd_value, sizeof(out->rd_value), "%s", list->r_id);
		out->rd_text = pl;
		return 0;
	}
	if (!text || !*text)
		return api_fail(rq, "MissingParameter",
				"The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock");
	struct cidr4 c;
	if (!cidr_parse(text, &c, NULL))
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.64s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", text);
	out->rd_member = "DestinationCidrBlock";
	cidr_format(&c, out->rd_value);
	out->rd_text = text;
	return 0;
}

static struct doc *route_find(const struct doc *rtb, const struct route_dest *dest)
{
	doc_foreach(route, doc_get(rtb, "Routes"))
		if (str_eq(doc_get_str(route, dest->rd_member), dest->rd_value))
			return route;
	return NULL;
}

static bool route_is_local(const struct doc *route) { return str_eq(doc_get_str(route, "GatewayId"), "local"); }

/* --- CreateRouteTable / DescribeRouteTables / DeleteRouteTable ---------------- */

int handle_CreateRouteTable(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc || quota_check(rq, Q_ROUTE_TABLES_PER_VPC, vpc->r_id, 1) < 0)
		return -1;
	char id[RESOURCE_ID_MAX];
	const char *cidr = doc_get_str(vpc->r_doc, "CidrBlock");
	struct doc *d = rtb_new(rq, vpc->r_id, cidr, false, id);
	/* one local route per further associated block of the VPC */
	struct doc *routes = doc_get(d, "Routes");
	doc_foreach(a, doc_get(vpc->r_doc, "CidrBlockAssociationSet")) {
		const char *block = doc_get_str(a, "CidrBlock");
		if (!block || str_eq(block, cidr) ||
		    !str_eq(doc_get_str(doc_get(a, "CidrBlockState"), "State"), "associated"))
			continue;
		struct doc *route = doc_push(routes, doc_obj());
		doc_set_str(route, "DestinationCidrBlock", block);
		doc_set_str(route, "GatewayId", "local");
		doc_set_str(route, "Origin", "CreateRouteTable");
		doc_set_str(route, "State", "active");
	}
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_ROUTE_TABLE));
	struct doc *rtb = api_put(rq, RT_ROUTE_TABLE, id, d);
	if (!rtb)
		return -1;
	doc_set(rq->rq_out, "RouteTable", doc_clone(rtb));
	const char *token = doc_get_str(rq->rq_in, "ClientToken");
	if (token)
		doc_set_str(rq->rq_out, "ClientToken", token);
	return 0;
}

static const struct filter_def rtb_filters[] = {
	{ "association.gateway-id", "Associations.GatewayId" },
	{ "association.route-table-association-id", "Associations.RouteTableAssociationId" },
	{ "association.route-table-id", "Associations.RouteTableId" },
	{ "association.subnet-id", "Associations.SubnetId" },
	{ "association.main", "Associations.Main" },
	{ "route-table-id", "RouteTableId" },
	{ "route.destination-cidr-block", "Routes.DestinationCidrBlock" },
	{ "route.destination-ipv6-cidr-block", "Routes.DestinationIpv6CidrBlock" },
	{ "route.destination-prefix-list-id", "Routes.DestinationPrefixListId" },
	{ "route.egress-only-internet-gateway-id", "Routes.EgressOnlyInternetGatewayId" },
	{ "route.gateway-id", "Routes.GatewayId" },
	{ "route.instance-id", "Routes.InstanceId" },
	{ "route.nat-gateway-id", "Routes.NatGatewayId" },
	{ "route.transit-gateway-id", "Routes.TransitGatewayId" },
	{ "route.origin", "Routes.Origin" },
	{ "route.state", "Routes.State" },
	{ "route.vpc-peering-connection-id", "Routes.VpcPeeringConnectionId" },
	{ "vpc-id", "VpcId" },
	{ NULL, NULL },
};

/* The propagated routes beside the table's own (state/propagation.c). */
void rtb_decorate_propagated(struct api_req *rq, struct doc *item)
{
	rtb_add_propagated(api_cache(rq), item);
}

int handle_DescribeRouteTables(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_ROUTE_TABLE, "RouteTableIds", "InvalidRouteTableID.NotFound", RTB_WHAT, rtb_filters, "RouteTables",
		true, 5, 100, rtb_decorate_propagated,
	};
	return api_describe(rq, &spec);
}

static struct res *require_route_table(struct api_req *rq)
{
	return api_require(rq, "RouteTableId", RT_ROUTE_TABLE, "InvalidRouteTableID.NotFound", RTB_WHAT);
}

int handle_DeleteRouteTable(struct api_req *rq)
{
	struct res *rtb = require_route_table(rq);
	if (!rtb)
		return -1;
	/* the main table, and a table still associated with a subnet or a
	 * gateway, are in use */
	if (doc_get(rtb->r_doc, "Associations") && doc_get(rtb->r_doc, "Associations")->d_count)
		return api_fail(rq, "DependencyViolation", "The routeTable '%s' has dependencies and cannot be deleted.",
				rtb->r_id);
	char id[RESOURCE_ID_MAX];	/* api_delete() frees rtb->r_id */
	snprintf(id, sizeof(id), "%s", rtb->r_id);
	return api_delete(rq, id);
}

/* --- associations ------------------------------------------------------------ */

/* The route table holding association assoc_id, or NULL. */
static struct res *rtb_by_association(struct api_req *rq, const char *assoc_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_ROUTE_TABLE, &n);
	for (size_t i = 0; i < n; i++)
		doc_foreach(a, doc_get(list[i]->r_doc, "Associations"))
			if (str_eq(doc_get_str(a, "RouteTableAssociationId"), assoc_id))
				return list[i];
	return NULL;
}

/* The route table explicitly associated with subnet or gateway id (member
 * "SubnetId" or "GatewayId"), or NULL. */
static struct res *rtb_associated_with(struct api_req *rq, const char *member, const char *id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_ROUTE_TABLE, &n);
	for (size_t i = 0; i < n; i++)
		doc_foreach(a, doc_get(list[i]->r_doc, "Associations"))
			if (str_eq(doc_get_str(a, member), id))
				return list[i];
	return NULL;
}

static struct doc *association_new(struct doc *rtb_doc, const char *rtb_id, bool main, const char *member,
				   const char *target, char *assoc_id_out)
{
	model_new_id("rtbassoc", assoc_id_out, RESOURCE_ID_MAX);	/* assoc_id_out: RESOURCE_ID_MAX */
	struct doc *a = doc_push(doc_get_list(rtb_doc, "Associations"), doc_obj());
	doc_set_bool(a, "Main", main);
	doc_set_str(a, "RouteTableAssociationId", assoc_id_out);
	doc_set_str(a, "RouteTableId", rtb_id);
	if (member)
		doc_set_str(a, member, target);
	doc_set_str(doc_get_obj(a, "AssociationState"), "State", ASSOC_STATE_ASSOCIATED);
	return a;
}

/* Unlinks association assoc_id from a clone's list; returns it (owned by
 * the caller) or NULL. */
static struct doc *association_unlink(struct doc *rtb_doc, const char *assoc_id)
{
	struct doc *assocs = doc_get(rtb_doc, "Associations");
	doc_foreach(a, assocs) {
		if (!str_eq(doc_get_str(a, "RouteTableAssociationId"), assoc_id))
			continue;
		struct doc *copy = doc_clone(a);
		doc_delete_child(assocs, a);
		return copy;
	}
	return NULL;
}

static void answer_association(struct api_req *rq, const char *member, const char *assoc_id)
{
	doc_set_str(rq->rq_out, member, assoc_id);
	doc_set_str(doc_get_obj(rq->rq_out, "AssociationState"), "State", ASSOC_STATE_ASSOCIATED);
}

int handle_AssociateRouteTable(struct api_req *rq)
{
	struct res *rtb = require_route_table(rq);
	if (!rtb)
		return -1;
	const char *subnet_id = doc_get_str(rq->rq_in, "SubnetId");
	const char *gateway_id = doc_get_str(rq->rq_in, "GatewayId");
	if (subnet_id && gateway_id)
		return api_fail(rq, "InvalidParameterCombination",
				"The parameter subnetId cannot be used with the parameter gatewayId");
	if (!subnet_id && !gateway_id)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter subnetId or gatewayId");
	const char *vpc_id = doc_get_str(rtb->r_doc, "VpcId");
	const char *member;
	const char *target;
	if (subnet_id) {
		struct res *subnet = cache_get_typed(api_cache(rq), RT_SUBNET, subnet_id);
		if (!subnet)
			return api_not_found(rq, "InvalidSubnetID.NotFound", "subnet", subnet_id);
		if (!str_eq(doc_get_str(subnet->r_doc, "VpcId"), vpc_id))
			return api_fail(rq, "InvalidParameterValue", "Route table %s and subnet %s belong to different networks",
					rtb->r_id, subnet->r_id);
		member = "SubnetId";
		target = subnet->r_id;
	} else {
		struct res *gw = gateway_lookup(rq, gateway_id);
		if (!gw)
			return api_not_found(rq, "InvalidGatewayID.NotFound", "gateway", gateway_id);
		if (!gateway_attached_to(gw, vpc_id))
			return api_fail(rq, "InvalidParameterValue",
					"route table %s and network gateway %s belong to different networks", rtb->r_id,
					gw->r_id);
		member = "GatewayId";
		target = gw->r_id;
	}
	if (rtb_associated_with(rq, member, target))
		return api_fail(rq, "Resource.AlreadyAssociated",
				"the specified association for route table %s conflicts with an existing association",
				rtb->r_id);
	char assoc_id[RESOURCE_ID_MAX];
	struct doc *d = doc_clone(rtb->r_doc);
	association_new(d, rtb->r_id, false, member, target, assoc_id);
	if (!api_put(rq, RT_ROUTE_TABLE, rtb->r_id, d))
		return -1;
	answer_association(rq, "AssociationId", assoc_id);
	return 0;
}

static struct res *require_association(struct api_req *rq, const char **assoc_id_out)
{
	const char *assoc_id = api_require_str(rq, "AssociationId");
	if (!assoc_id)
		return NULL;
	struct res *rtb = rtb_by_association(rq, assoc_id);
	if (!rtb)
		api_not_found(rq, "InvalidAssociationID.NotFound", "association", assoc_id);
	*assoc_id_out = assoc_id;
	return rtb;
}

int handle_DisassociateRouteTable(struct api_req *rq)
{
	const char *assoc_id;
	struct res *rtb = require_association(rq, &assoc_id);
	if (!rtb)
		return -1;
	struct doc *d = doc_clone(rtb->r_doc);
	struct doc *a = association_unlink(d, assoc_id);
	bool main = doc_get_bool(a, "Main", false);
	doc_free(a);
	if (main) {
		doc_free(d);
		return api_fail(rq, "InvalidParameterValue", "cannot disassociate the main route table association %s",
				assoc_id);
	}
	return api_put(rq, RT_ROUTE_TABLE, rtb->r_id, d) ? 0 : -1;
}

int handle_ReplaceRouteTableAssociation(struct api_req *rq)
{
	const char *assoc_id;
	struct res *old = require_association(rq, &assoc_id);
	if (!old)
		return -1;
	struct res *rtb = require_route_table(rq);
	if (!rtb)
		return -1;
	if (!str_eq(doc_get_str(old->r_doc, "VpcId"), doc_get_str(rtb->r_doc, "VpcId")))
		return api_fail(rq, "InvalidParameterValue",
				"Route table association %s and route table %s belong to different networks", assoc_id,
				rtb->r_id);
	/* the association moves: it leaves the old table and a new one, with a
	 * new id, joins the new table (also for the main association, which
	 * makes the new table the VPC's main table) */
	struct doc *old_doc = doc_clone(old->r_doc);
	struct doc *a = association_unlink(old_doc, assoc_id);
	bool main = doc_get_bool(a, "Main", false);
	const char *member = doc_get_str(a, "SubnetId") ? "SubnetId" : doc_get_str(a, "GatewayId") ? "GatewayId" : NULL;
	char target[RESOURCE_ID_MAX] = "";
	if (member)
		snprintf(target, sizeof(target), "%s", doc_get_str(a, member));
	doc_free(a);
	char old_id[RESOURCE_ID_MAX], new_assoc[RESOURCE_ID_MAX];
	snprintf(old_id, sizeof(old_id), "%s", old->r_id);
	if (!api_put(rq, RT_ROUTE_TABLE, old_id, old_doc))
		return -1;
	struct doc *d = doc_clone(rtb->r_doc);	/* after the put: old and new may be one table */
	association_new(d, rtb->r_id, main, member, target, new_assoc);
	if (!api_put(rq, RT_ROUTE_TABLE, rtb->r_id, d))
		return -1;
	answer_association(rq, "NewAssociationId", new_assoc);
	return 0;
}

/* --- CreateRoute / ReplaceRoute / DeleteRoute --------------------------------- */

/* Builds the target part of a route from the request into route; checks
 * that exactly one target is given, that it exists and that it belongs to
 * the table's VPC. */
static int route_target_from_request(struct api_req *rq, const struct res *rtb, struct doc *route)
{
	const struct route_target *kind = NULL;
	const char *id = NULL;
	int given = 0;
	for (size_t i = 0; i < ARRAY_LEN(route_targets); i++) {
		const char *v = doc_get_str(rq->rq_in, route_targets[i].rt_member);
		if (!v || !*v)
			continue;
		given++;
		kind = &route_targets[i];
		id = v;
	}
	if (given != 1)
		return api_fail(rq, given ? "InvalidParameterCombination" : "MissingParameter",
				"The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, instanceId, vpcPeeringConnectionId, transitGatewayId, egressOnlyInternetGatewayId, localGatewayId, carrierGatewayId, vpcEndpointId or coreNetworkArn");
	const char *vpc_id = doc_get_str(rtb->r_doc, "VpcId");
	struct res *t = target_lookup(rq, kind, id);
	/* a deleted NAT gateway is only a record */
	if (t && strcmp(t->r_type, RT_NATGW) == 0 && str_eq(doc_get_str(t->r_doc, "State"), "deleted"))
		t = NULL;
	if (!t)
		return api_not_found(rq, kind->rt_notfound, kind->rt_what, id);
	if (!target_in_vpc(t, vpc_id))
		return api_fail(rq, "InvalidParameterValue", "route table %s and %s %s belong to different networks",
				rtb->r_id, kind->rt_net_what, t->r_id);
	doc_set_str(route, kind->rt_member, t->r_id);
	if (strcmp(kind->rt_member, "InstanceId") == 0) {
		/* AWS shows the instance's owner and primary interface too */
		const char *owner = doc_get_str(t->r_doc, "OwnerId");
		doc_set_str(route, "InstanceOwnerId", owner ? owner : api_account(rq));
		doc_foreach(eni, doc_get(t->r_doc, "NetworkInterfaces")) {
			const char *eni_id = doc_get_str(eni, "NetworkInterfaceId");
			if (eni_id) {
				doc_set_str(route, "NetworkInterfaceId", eni_id);
				break;
			}
		}
	}
	return 0;
}

static int route_set(struct api_req *rq, bool replace)
{
	struct res *rtb = require_route_table(rq);
	if (!rtb)
		return -1;
	struct route_dest dest;
	if (route_destination(rq, &dest) < 0)
		return -1;
	const char *text = dest.rd_text;
	struct doc *existing = route_find(rtb->r_doc, &dest);
	if (!replace && existing)
		return api_fail(rq, "RouteAlreadyExists", "The route identified by %.64s already exists.", text);
	if (replace && !existing)
		return api_fail(rq, "InvalidParameterValue",
				"There is no route defined for '%.64s' in the route table. Use CreateRoute instead.", text);
	if (replace && route_is_local(existing))
		return api_fail(rq, "InvalidParameterValue", "cannot replace local route %.64s in route table %s", text,
				rtb->r_id);
	if (doc_get_bool(rq->rq_in, "LocalTarget", false))
		return api_fail(rq, "InvalidParameterValue",
				"localTarget can only restore the target of a local route; %.64s is not one", text);

	struct doc *route = doc_obj();
	doc_set_str(route, dest.rd_member, dest.rd_value);
	if (route_target_from_request(rq, rtb, route) < 0) {
		doc_free(route);
		return -1;
	}
	doc_set_str(route, "Origin", "CreateRoute");
	doc_set_str(route, "State", route_state(rq, doc_get_str(rtb->r_doc, "VpcId"), route));

	struct doc *d = doc_clone(rtb->r_doc);
	struct doc *routes = doc_get_list(d, "Routes");
	if (replace) {
		/* keep the route's place in the table */
		struct doc *old = route_find(d, &dest);
		for (struct doc *c = old->d_first; c;) {
			struct doc *next = c->d_next;
			if (strcmp(c->d_key, dest.rd_member) != 0)
				doc_delete_child(old, c);
			c = next;
		}
		for (struct doc *c = route->d_first; c; c = c->d_next)
			if (strcmp(c->d_key, dest.rd_member) != 0)
				doc_set(old, c->d_key, doc_clone(c));
		doc_free(route);
	} else {
		doc_push(routes, route);
	}
	if (!api_put(rq, RT_ROUTE_TABLE, rtb->r_id, d))
		return -1;
	if (!replace)
		doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_CreateRoute(struct api_req *rq)
{
	return route_set(rq, false);
}

int handle_ReplaceRoute(struct api_req *rq)
{
	return route_set(rq, true);
}

int handle_DeleteRoute(struct api_req *rq)
{
	struct res *rtb = require_route_table(rq);
	if (!rtb)
		return -1;
	struct route_dest dest;
	if (route_destination(rq, &dest) < 0)
		return -1;
	const char *text = dest.rd_text;
	struct doc *existing = route_find(rtb->r_doc, &dest);
	if (!existing)
		return api_fail(rq, "InvalidRoute.NotFound", "no route with %s %.64s in route table %s",
				strcmp(dest.rd_member, "DestinationPrefixListId") == 0 ? "destination-prefix-list-id"
										       : "destination-cidr-block",
				text, rtb->r_id);
	if (route_is_local(existing))
		return api_fail(rq, "InvalidParameterValue", "cannot remove local route %.64s in route table %s", text,
				rtb->r_id);
	struct doc *d = doc_clone(rtb->r_doc);
	doc_delete_child(doc_get(d, "Routes"), route_find(d, &dest));
	return api_put(rq, RT_ROUTE_TABLE, rtb->r_id, d) ? 0 : -1;
}
