/*
 * natgw.c — NAT gateways: CreateNatGateway, DescribeNatGateways,
 * DeleteNatGateway.
 *
 * Layout (cache type RT_NATGW "natgateway", id "nat-…"), in the shape of
 * botocore's NatGateway: NatGatewayId, SubnetId, VpcId, State, CreateTime,
 * DeleteTime (once deleting), ConnectivityType "public" | "private",
 * NatGatewayAddresses [{AllocationId, PublicIp, AssociationId (public),
 * NetworkInterfaceId, PrivateIp, IsPrimary true, Status "succeeded"}],
 * FailureCode/FailureMessage (failed), Tags; vpcd's own: _CreateS and
 * _DeleteS (wall seconds), _ClientToken.
 *
 * As in AWS a gateway owns a requester-managed network interface in its
 * subnet (InterfaceType "nat_gateway", no security groups), whose private
 * address comes from the subnet like any ENI's (eni_create), and, when
 * public, its Elastic IP is associated with that interface — which is what
 * the data plane reads: the internet gateway's 1:1 NAT maps the
 * interface's private address to the Elastic IP, and the router's NAT
 * (net/nat.h) maps the private subnet's flows to the interface's address.
 *
 * States: "pending" on create, "available" NATGW_PENDING_S later;
 * DeleteNatGateway makes it "deleting" (interface deleted, Elastic IP
 * disassociated, routes to it blackhole), "deleted" NATGW_DELETING_S
 * later; a failed create (Elastic IP already associated, no internet
 * gateway, no free address) is "failed" with AWS's FailureCode and
 * message. Deleted and failed gateways stay describable for
 * NATGW_GONE_KEEP_S. The transitions are made by the next NAT gateway
 * action (natgw_advance): AWS takes minutes, vpcd a second or two, and
 * `aws ec2 wait nat-gateway-available` sees both states.
 */
#include "api/eni.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define NATGW_PENDING_S 2		/* pending -> available (AWS: a few minutes) */
#define NATGW_DELETING_S 2		/* deleting -> deleted */
#define NATGW_GONE_KEEP_S 3600		/* deleted and failed gateways stay describable */
#define NATGW_ADVANCE_MAX 256		/* gateways changed per request, at most */

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static const char *natgw_eni_id(const struct doc *d)
{
	doc_foreach(a, doc_get(d, "NatGatewayAddresses"))
		if (doc_get_str(a, "NetworkInterfaceId"))
			return doc_get_str(a, "NetworkInterfaceId");
	return NULL;
}

/* The state each gateway has reached by now; forgets the long gone. */
static int natgw_advance(struct api_req *rq)
{
	int64_t now = time_wall_s();
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_NATGW, &n);
	char (*ids)[RESOURCE_ID_MAX] = calloc(n ? n : 1, sizeof(*ids));
	const char **next = calloc(n ? n : 1, sizeof(*next));
	if (!ids || !next)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < n && k < NATGW_ADVANCE_MAX; i++) {
		const struct doc *d = list[i]->r_doc;
		const char *st = doc_get_str(d, "State");
		int64_t created = doc_get_int(d, "_CreateS", now), deleted = doc_get_int(d, "_DeleteS", now);
		const char *to = NULL;
		if (str_eq(st, "pending") && now - created >= NATGW_PENDING_S)
			to = "available";
		else if (str_eq(st, "deleting") && now - deleted >= NATGW_DELETING_S)
			to = "deleted";
		else if ((str_eq(st, "deleted") || str_eq(st, "failed")) && now - deleted > NATGW_GONE_KEEP_S)
			to = "";	/* forgotten */
		if (!to)
			continue;
		snprintf(ids[k], RESOURCE_ID_MAX, "%s", list[i]->r_id);
		next[k++] = to;
	}
	int rc = 0;
	for (size_t i = 0; i < k && rc == 0; i++) {
		struct res *r = cache_get_typed(api_cache(rq), RT_NATGW, ids[i]);
		if (!r)
			continue;
		if (!*next[i]) {
			rc = api_delete(rq, ids[i]);
			continue;
		}
		struct doc *d = doc_clone(r->r_doc);
		doc_set_str(d, "State", next[i]);
		if (!api_put(rq, RT_NATGW, ids[i], d))
			rc = -1;
	}
	free(ids);
	free(next);
	return rc;
}

static bool vpc_has_igw(struct api_req *rq, const char *vpc_id)
{
	size_t n;
	struct res **igws = cache_list(api_cache(rq), RT_IGW, &n);
	for (size_t i = 0; i < n; i++)
		doc_foreach(a, doc_get(igws[i]->r_doc, "Attachments"))
			if (str_eq(doc_get_str(a, "VpcId"), vpc_id))
				return true;
	return false;
}

/* A live gateway other than self whose address is allocation_id. */
static bool eip_used_by_natgw(struct api_req *rq, const char *allocation_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_NATGW, &n);
	for (size_t i = 0; i < n; i++) {
		if (!natgw_is_live(list[i]->r_doc))
			continue;
		doc_foreach(a, doc_get(list[i]->r_doc, "NatGatewayAddresses"))
			if (str_eq(doc_get_str(a, "AllocationId"), allocation_id))
				return true;
	}
	return false;
}

static void natgw_answer(struct api_req *rq, const struct doc *natgw, const char *token)
{
	doc_set(rq->rq_out, "NatGateway", doc_clone(natgw));
	if (token)
		doc_set_str(rq->rq_out, "ClientToken", token);
}

/* Marks d failed with AWS's code and message. */
static void natgw_fail(struct doc *d, const char *code, const char *msg)
{
	doc_set_str(d, "State", "failed");
	doc_set_str(d, "FailureCode", code);
	doc_set_str(d, "FailureMessage", msg);
	doc_set_int(d, "_DeleteS", time_wall_s());
}

/* The gateway's interface, and the Elastic IP associated with it
 * (eip_id NULL: private). Fills the address entry a. */
static int natgw_interface(struct api_req *rq, const struct res *subnet, const char *nat_id, const char *private_ip,
			   const char *eip_id, struct doc *a)
{
	char desc[80], eni_id[RESOURCE_ID_MAX];
	snprintf(desc, sizeof(desc), "Interface for NAT Gateway %s", nat_id);
	struct eni_spec spec = { subnet, private_ip, doc_list(), desc, NULL };
	struct doc *eni = eni_create(rq, &spec, eni_id);
	if (!eni)
		return -1;
	struct doc *ed = doc_clone(eni);
	doc_set_str(ed, "InterfaceType", "nat_gateway");
	doc_set_bool(ed, "RequesterManaged", true);
	doc_set_str(ed, "RequesterId", "amazon");
	doc_set_str(ed, "Status", "in-use");
	doc_set_bool(ed, "SourceDestCheck", false);
	doc_set_str(ed, "_NatGatewayId", nat_id);
	if (!(eni = api_put(rq, RT_ENI, eni_id, ed)))
		return -1;
	doc_set_str(a, "NetworkInterfaceId", eni_id);
	doc_set_str(a, "PrivateIp", doc_get_str(eni, "PrivateIpAddress"));
	doc_set_bool(a, "IsPrimary", true);
	doc_set_str(a, "Status", "succeeded");
	if (!eip_id)
		return 0;
	struct res *eip = cache_get_typed(api_cache(rq), RT_EIP, eip_id);
	char assoc[RESOURCE_ID_MAX];
	new_id("eipassoc", assoc);
	struct doc *d = doc_clone(eip->r_doc);
	doc_set_str(d, "AssociationId", assoc);
	doc_set_str(d, "NetworkInterfaceId", eni_id);
	doc_set_str(d, "NetworkInterfaceOwnerId", api_account(rq));
	doc_set_str(d, "PrivateIpAddress", doc_get_str(eni, "PrivateIpAddress"));
	struct doc *stored = api_put(rq, RT_EIP, eip_id, d);
	uint32_t ip;
	if (!stored || !ip4_parse(doc_get_str(stored, "PublicIp"), &ip))
		return -1;
	doc_set_str(a, "AssociationId", assoc);
	return eni_set_public(rq, eni_id, ip, eip_id, assoc);
}

int handle_CreateNatGateway(struct api_req *rq)
{
	const struct doc *in = rq->rq_in;
	if (natgw_advance(rq) < 0)
		return -1;
	const char *token = doc_get_str(in, "ClientToken");
	if (token) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), RT_NATGW, &n);
		for (size_t i = 0; i < n; i++)
			if (str_eq(doc_get_str(list[i]->r_doc, "_ClientToken"), token)) {
				natgw_answer(rq, list[i]->r_doc, token);
				return 0;
			}
	}
	if (!doc_get_str(in, "SubnetId") && doc_get_str(in, "VpcId"))
		return api_fail(rq, "InvalidParameterValue",
				"vpcd creates zonal NAT gateways only: give SubnetId (regional NAT gateways are not supported)");
	struct res *subnet = api_require(rq, "SubnetId", RT_SUBNET, "InvalidSubnetID.NotFound", "subnet");
	if (!subnet)
		return -1;
	const char *mode = doc_get_str(in, "AvailabilityMode");
	if (mode && strcmp(mode, "zonal") != 0)
		return api_fail(rq, "InvalidParameterValue", "vpcd creates zonal NAT gateways only (AvailabilityMode '%.32s')",
				mode);
	const char *type = doc_get_str(in, "ConnectivityType");
	if (!type)
		type = "public";
	if (strcmp(type, "public") != 0 && strcmp(type, "private") != 0)
		return api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter connectivityType is invalid.", type);
	bool public = strcmp(type, "public") == 0;
	const char *alloc = doc_get_str(in, "AllocationId");
	const struct doc *more[] = { doc_get(in, "SecondaryAllocationIds"), doc_get(in, "SecondaryPrivateIpAddresses") };
	for (size_t i = 0; i < ARRAY_LEN(more); i++)
		if (more[i] && more[i]->d_count)
			return api_fail(rq, "InvalidParameterValue",
					"vpcd gives a NAT gateway one address (secondary addresses are not supported yet)");
	if (doc_get_int(in, "SecondaryPrivateIpAddressCount", 0) > 0)
		return api_fail(rq, "InvalidParameterValue",
				"vpcd gives a NAT gateway one address (secondary addresses are not supported yet)");
	if (public && !alloc)
		return api_fail(rq, "MissingParameter",
				"The request must include the AllocationId parameter. Add the required parameter and retry the request.");
	if (!public && alloc)
		return api_fail(rq, "InvalidParameterCombination",
				"A private NAT gateway cannot have an Elastic IP address (AllocationId)");
	struct res *eip = NULL;
	if (alloc && !(eip = cache_get_typed(api_cache(rq), RT_EIP, alloc)))
		return api_fail(rq, "InvalidAllocationID.NotFound", "The allocation ID '%.64s' does not exist", alloc);

	char id[RESOURCE_ID_MAX], now[32], subnet_id[RESOURCE_ID_MAX], vpc_id[RESOURCE_ID_MAX], eip_id[RESOURCE_ID_MAX] = "";
	new_id("nat", id);
	snprintf(subnet_id, sizeof(subnet_id), "%s", subnet->r_id);
	snprintf(vpc_id, sizeof(vpc_id), "%s", doc_get_str(subnet->r_doc, "VpcId"));
	if (eip)
		snprintf(eip_id, sizeof(eip_id), "%s", eip->r_id);
	time_iso8601(time_wall_s(), now, sizeof(now));
	struct doc *d = doc_obj();
	doc_set_str(d, "NatGatewayId", id);
	doc_set_str(d, "SubnetId", subnet_id);
	doc_set_str(d, "VpcId", vpc_id);
	doc_set_str(d, "State", "pending");
	doc_set_str(d, "CreateTime", now);
	doc_set_str(d, "ConnectivityType", type);
	doc_set_int(d, "_CreateS", time_wall_s());
	if (token)
		doc_set_str(d, "_ClientToken", token);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_NATGW));
	struct doc *a = doc_push(doc_get_list(d, "NatGatewayAddresses"), doc_obj());
	if (eip) {
		doc_set_str(a, "AllocationId", eip_id);
		doc_set_str(a, "PublicIp", doc_get_str(eip->r_doc, "PublicIp"));
	}
	/* what AWS finds out while it creates the gateway: a failed gateway */
	char msg[160];
	if (eip && (doc_get_str(eip->r_doc, "AssociationId") || eip_used_by_natgw(rq, eip_id))) {
		snprintf(msg, sizeof(msg), "Elastic IP address %s is already associated", eip_id);
		natgw_fail(d, "Resource.AlreadyAssociated", msg);
	} else if (public && !vpc_has_igw(rq, vpc_id)) {
		snprintf(msg, sizeof(msg), "Network %s has no Internet gateway attached", vpc_id);
		natgw_fail(d, "Gateway.NotAttached", msg);
	} else if (!doc_get_str(in, "PrivateIpAddress") && ipam_private_free(rq, subnet) == 0) {
		natgw_fail(d, "InsufficientFreeAddressesInSubnet", "Subnet has insufficient free addresses to create this NAT gateway");
	} else if (natgw_interface(rq, subnet, id, doc_get_str(in, "PrivateIpAddress"), eip ? eip_id : NULL, a) < 0) {
		doc_free(d);
		return -1;
	}
	struct doc *stored = api_put(rq, RT_NATGW, id, d);
	if (!stored)
		return -1;
	natgw_answer(rq, stored, token);
	return 0;
}

/* A gateway named by NatGatewayId; fails NatGatewayNotFound. */
static struct res *natgw_require(struct api_req *rq)
{
	const char *id = api_require_str(rq, "NatGatewayId");
	if (!id)
		return NULL;
	struct res *r = cache_get_typed(api_cache(rq), RT_NATGW, id);
	if (!r)
		api_fail(rq, "NatGatewayNotFound", "The Nat Gateway %.64s was not found", id);
	return r;
}

int handle_DeleteNatGateway(struct api_req *rq)
{
	if (natgw_advance(rq) < 0)
		return -1;
	struct res *r = natgw_require(rq);
	if (!r)
		return -1;
	const char *st = doc_get_str(r->r_doc, "State");
	if (str_eq(st, "deleted"))
		return api_fail(rq, "NatGatewayNotFound", "The Nat Gateway %s was not found", r->r_id);
	char id[RESOURCE_ID_MAX], eni_id[RESOURCE_ID_MAX] = "";
	snprintf(id, sizeof(id), "%s", r->r_id);
	if (natgw_eni_id(r->r_doc))
		snprintf(eni_id, sizeof(eni_id), "%s", natgw_eni_id(r->r_doc));
	if (!str_eq(st, "deleting") && !str_eq(st, "failed")) {
		char now[32];
		time_iso8601(time_wall_s(), now, sizeof(now));
		struct doc *d = doc_clone(r->r_doc);
		doc_set_str(d, "State", "deleting");
		doc_set_str(d, "DeleteTime", now);
		doc_set_int(d, "_DeleteS", time_wall_s());
		if (!api_put(rq, RT_NATGW, id, d))
			return -1;
		/* the interface goes, its Elastic IP is free again; routes to
		 * the gateway stay, as blackholes */
		if (*eni_id && eni_delete(rq, eni_id) < 0)
			return -1;
		if (rtb_refresh_routes(rq, id) < 0)
			return -1;
	}
	doc_set_str(rq->rq_out, "NatGatewayId", id);
	return 0;
}

static const struct filter_def natgw_filters[] = {
	{ "nat-gateway-id", "NatGatewayId" },
	{ "state", "State" },
	{ "subnet-id", "SubnetId" },
	{ "vpc-id", "VpcId" },
	{ NULL, NULL },
};

int handle_DescribeNatGateways(struct api_req *rq)
{
	if (natgw_advance(rq) < 0)
		return -1;
	/* this action's filter list is "Filter", not "Filters" */
	struct doc *f = doc_get(rq->rq_in, "Filter");
	if (f)
		doc_set(rq->rq_in, "Filters", doc_clone(f));
	doc_foreach(id, doc_get(rq->rq_in, "NatGatewayIds"))
		if (id->d_type != DOC_STR || !cache_get_typed(api_cache(rq), RT_NATGW, id->d_str))
			return api_fail(rq, "NatGatewayNotFound", "NAT gateway %.64s was not found",
					id->d_type == DOC_STR ? id->d_str : "");
	static const struct describe_spec spec = {
		RT_NATGW, "NatGatewayIds", "NatGatewayNotFound", "natGateway", natgw_filters, "NatGateways", true, 5, 1000,
		NULL,
	};
	return api_describe(rq, &spec);
}
