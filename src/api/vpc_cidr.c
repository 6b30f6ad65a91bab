/*
 * vpc_cidr.c — secondary IPv4 CIDR blocks of a VPC: AssociateVpcCidrBlock,
 * DisassociateVpcCidrBlock.
 *
 * A VPC doc lists its blocks in CidrBlockAssociationSet ({AssociationId,
 * CidrBlock, CidrBlockState {State}}); the first is the primary block
 * (CidrBlock), which cannot be disassociated. A block is associated at
 * once (the answer says "associating", as AWS's does; Describe shows
 * "associated") and leaves the set when disassociated (the answer says
 * "disassociating"). Each associated block has a local route (GatewayId
 * "local", Origin CreateRouteTable) in every route table of the VPC, the
 * data plane's route to the VPC itself (CreateRouteTable adds them to a
 * new table, route.c).
 *
 * AWS's rules for a new block (vpc-cidr-blocks.html, "IPv4 CIDR block
 * association restrictions"): /16 to /28; at most VPC_CIDR_BLOCKS_MAX
 * blocks; no overlap with a block of the VPC; not the same as or larger
 * than the destination of a route in one of the VPC's route tables; and by
 * the range of the primary block:
 *   10.0.0.0/8       not 172.16.0.0/12, 192.168.0.0/16, 198.19.0.0/16;
 *                    not in 10.0.0.0/16 when the primary is in 10.0.0.0/15
 *   172.16.0.0/12    not 10.0.0.0/8, 192.168.0.0/16, 172.31.0.0/16,
 *                    198.19.0.0/16
 *   192.168.0.0/16   not 10.0.0.0/8, 172.16.0.0/12, 198.19.0.0/16
 *   198.19.0.0/16    not from the RFC 1918 ranges
 *   anything else    (publicly routable, 100.64.0.0/10): not from the
 *                    RFC 1918 ranges nor 198.19.0.0/16
 */
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define VPC_CIDR_BLOCKS_MAX 5	/* AWS's default quota, primary included */
#define VPC_CIDR_DOCS "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static bool within(const struct cidr4 *c, const char *range)
{
	struct cidr4 r;
	return cidr_parse(range, &r, NULL) && cidr_overlaps(&r, c);
}

static bool rfc1918(const struct cidr4 *c)
{
	return within(c, "10.0.0.0/8") || within(c, "172.16.0.0/12") || within(c, "192.168.0.0/16");
}

/* AWS's restriction table (top of the file): may a VPC whose primary
 * block is primary add block? */
static bool block_permitted(const struct cidr4 *primary, const struct cidr4 *block)
{
	if (within(primary, "10.0.0.0/8")) {
		if (within(primary, "10.0.0.0/15") && within(block, "10.0.0.0/16"))
			return false;
		return !within(block, "172.16.0.0/12") && !within(block, "192.168.0.0/16") && !within(block, "198.19.0.0/16");
	}
	if (within(primary, "172.16.0.0/12"))
		return !within(block, "10.0.0.0/8") && !within(block, "192.168.0.0/16") && !within(block, "172.31.0.0/16") &&
		       !within(block, "198.19.0.0/16");
	if (within(primary, "192.168.0.0/16"))
		return !within(block, "10.0.0.0/8") && !within(block, "172.16.0.0/12") && !within(block, "198.19.0.0/16");
	if (within(primary, "198.19.0.0/16"))
		return !rfc1918(block);
	return !rfc1918(block) && !within(block, "198.19.0.0/16");
}

static bool block_associated(const struct doc *a)
{
	return str_eq(doc_get_str(doc_get(a, "CidrBlockState"), "State"), "associated");
}

/* A non-local route of one of vpc_id's tables whose destination block
 * holds or equals block; its table id, or NULL. */
static const char *route_conflict(struct api_req *rq, const char *vpc_id, const struct cidr4 *block)
{
	size_t n;
	struct res **tables = cache_list(api_cache(rq), RT_ROUTE_TABLE, &n);
	for (size_t i = 0; i < n; i++) {
		if (!str_eq(doc_get_str(tables[i]->r_doc, "VpcId"), vpc_id))
			continue;
		doc_foreach(r, doc_get(tables[i]->r_doc, "Routes")) {
			struct cidr4 dest;
			if (str_eq(doc_get_str(r, "GatewayId"), "local") ||
			    !cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &dest, NULL))
				continue;
			if (cidr_contains(block, &dest))
				return tables[i]->r_id;
		}
	}
	return NULL;
}

/* Adds (add) or removes the local route to block in every table of vpc_id. */
static int local_routes_set(struct api_req *rq, const char *vpc_id, const char *block, bool add)
{
	size_t n;
	struct res **tables = cache_list(api_cache(rq), RT_ROUTE_TABLE, &n);
	for (size_t i = 0; i < n; i++) {
		if (!str_eq(doc_get_str(tables[i]->r_doc, "VpcId"), vpc_id))
			continue;
		struct doc *d = doc_clone(tables[i]->r_doc);
		struct doc *routes = doc_get_list(d, "Routes");
		struct doc *found = NULL;
		doc_foreach(r, routes)
			if (str_eq(doc_get_str(r, "DestinationCidrBlock"), block) && str_eq(doc_get_str(r, "GatewayId"), "local"))
				found = r;
		if (add == (found != NULL)) {
			doc_free(d);
			continue;
		}
		if (add) {
			struct doc *route = doc_push(routes, doc_obj());
			doc_set_str(route, "DestinationCidrBlock", block);
			doc_set_str(route, "GatewayId", "local");
			doc_set_str(route, "Origin", "CreateRouteTable");
			doc_set_str(route, "State", "active");
		} else {
			doc_delete_child(routes, found);
		}
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", tables[i]->r_id);
		if (!api_put(rq, RT_ROUTE_TABLE, id, d))
			return -1;
		tables = cache_list(api_cache(rq), RT_ROUTE_TABLE, &n);
	}
	return 0;
}

static void answer(struct api_req *rq, const char *vpc_id, const char *assoc, const char *block, const char *state)
{
	doc_set_str(rq->rq_out, "VpcId", vpc_id);
	struct doc *a = doc_set(rq->rq_out, "CidrBlockAssociation", doc_obj());
	doc_set_str(a, "AssociationId", assoc);
	doc_set_str(a, "CidrBlock", block);
	doc_set_str(doc_get_obj(a, "CidrBlockState"), "State", state);
}

int handle_AssociateVpcCidrBlock(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	if (doc_get_bool(rq->rq_in, "AmazonProvidedIpv6CidrBlock", false) || doc_get_str(rq->rq_in, "Ipv6CidrBlock") ||
	    doc_get_str(rq->rq_in, "Ipv6Pool") || doc_get_str(rq->rq_in, "Ipv6IpamPoolId"))
		return api_fail(rq, "InvalidParameterValue", "vpcd does not provide IPv6 blocks yet");
	if (doc_get_str(rq->rq_in, "Ipv4IpamPoolId"))
		return api_fail(rq, "InvalidParameterValue", "vpcd does not allocate from IPAM pools yet; give CidrBlock");
	const char *text = doc_get_str(rq->rq_in, "CidrBlock");
	if (!text || !*text)
		return api_fail(rq, "MissingParameter",
				"Either 'amazonProvidedIpv6CidrBlock' or 'cidrBlock' or 'ipv6Pool' or 'ipv4IpamPoolId' or 'ipv6IpamPoolId' must be specified.");
	struct cidr4 block, primary;
	if (vpc_parse_block(rq, "cidrBlock", text, &block, "InvalidVpc.Range") < 0)
		return -1;
	char block_s[CIDR_STR_MAX];
	cidr_format(&block, block_s);
	if (!cidr_parse(doc_get_str(vpc->r_doc, "CidrBlock"), &primary, NULL))
		return api_fail(rq, "InternalError", "The VPC's primary block is unreadable");
	size_t count = 0;
	doc_foreach(a, doc_get(vpc->r_doc, "CidrBlockAssociationSet")) {
		struct cidr4 have;
		if (!block_associated(a) || !cidr_parse(doc_get_str(a, "CidrBlock"), &have, NULL))
			continue;
		count++;
		if (cidr_overlaps(&have, &block))
			return api_fail(rq, "InvalidVpc.Range", "The CIDR '%s' conflicts with another CIDR block of the VPC (%s).",
					block_s, doc_get_str(a, "CidrBlock"));
	}
	if (count >= VPC_CIDR_BLOCKS_MAX)
		return api_fail(rq, "CidrLimitExceeded", "This network '%s' has met its maximum number of allowed CIDRs: %d",
				vpc->r_id, VPC_CIDR_BLOCKS_MAX);
	if (!block_permitted(&primary, &block))
		return api_fail(rq, "InvalidVpc.Range",
				"The CIDR '%s' is restricted. Use a CIDR from the same private address range as the current VPC CIDR, or use a publicly-routable CIDR. For additional restrictions, see " VPC_CIDR_DOCS,
				block_s);
	const char *rtb = route_conflict(rq, vpc->r_id, &block);
	if (rtb)
		return api_fail(rq, "InvalidVpc.Range", "The CIDR '%s' conflicts with a route in route table %s.", block_s, rtb);
	char vpc_id[RESOURCE_ID_MAX], assoc[RESOURCE_ID_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", vpc->r_id);
	new_id("vpc-cidr-assoc", assoc);
	struct doc *d = doc_clone(vpc->r_doc);
	struct doc *a = doc_push(doc_get_list(d, "CidrBlockAssociationSet"), doc_obj());
	doc_set_str(a, "AssociationId", assoc);
	doc_set_str(a, "CidrBlock", block_s);
	doc_set_str(doc_get_obj(a, "CidrBlockState"), "State", "associated");
	if (!api_put(rq, RT_VPC, vpc_id, d) || local_routes_set(rq, vpc_id, block_s, true) < 0)
		return -1;
	answer(rq, vpc_id, assoc, block_s, "associating");
	return 0;
}

/* The VPC holding association assoc_id, or NULL. */
static struct res *association_vpc(struct api_req *rq, const char *assoc_id, const struct doc **assoc)
{
	size_t n;
	struct res **vpcs = cache_list(api_cache(rq), RT_VPC, &n);
	for (size_t i = 0; i < n; i++)
		doc_foreach(a, doc_get(vpcs[i]->r_doc, "CidrBlockAssociationSet"))
			if (str_eq(doc_get_str(a, "AssociationId"), assoc_id)) {
				*assoc = a;
				return vpcs[i];
			}
	return NULL;
}

/* A subnet of vpc_id inside block, or NULL. */
static const char *block_subnet(struct api_req *rq, const char *vpc_id, const struct cidr4 *block)
{
	size_t n;
	struct res **subnets = cache_list(api_cache(rq), RT_SUBNET, &n);
	for (size_t i = 0; i < n; i++) {
		struct cidr4 c;
		if (str_eq(doc_get_str(subnets[i]->r_doc, "VpcId"), vpc_id) &&
		    cidr_parse(doc_get_str(subnets[i]->r_doc, "CidrBlock"), &c, NULL) && cidr_overlaps(block, &c))
			return subnets[i]->r_id;
	}
	return NULL;
}

int handle_DisassociateVpcCidrBlock(struct api_req *rq)
{
	const char *assoc_id = api_require_str(rq, "AssociationId");
	if (!assoc_id)
		return -1;
	const struct doc *a = NULL;
	struct res *vpc = association_vpc(rq, assoc_id, &a);
	if (!vpc)
		return api_fail(rq, "InvalidVpcCidrBlockAssociationID.NotFound",
				"The vpc CIDR block association ID '%.64s' does not exist", assoc_id);
	const char *block_s = doc_get_str(a, "CidrBlock");
	if (str_eq(block_s, doc_get_str(vpc->r_doc, "CidrBlock")))
		return api_fail(rq, "OperationNotPermitted",
				"The vpc CIDR block with association ID %s may not be disassociated. It is the primary IPv4 CIDR block of the VPC",
				assoc_id);
	struct cidr4 block;
	if (!cidr_parse(block_s, &block, NULL))
		return api_fail(rq, "InternalError", "The association's block is unreadable");
	const char *subnet = block_subnet(rq, vpc->r_id, &block);
	if (subnet)
		return api_fail(rq, "DependencyViolation",
				"The vpc CIDR block with association ID %s may not be disassociated. It has subnets (%s).", assoc_id,
				subnet);
	char vpc_id[RESOURCE_ID_MAX], assoc[RESOURCE_ID_MAX], cidr_s[CIDR_STR_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", vpc->r_id);
	snprintf(assoc, sizeof(assoc), "%s", assoc_id);
	snprintf(cidr_s, sizeof(cidr_s), "%s", block_s);
	struct doc *d = doc_clone(vpc->r_doc);
	struct doc *set = doc_get_list(d, "CidrBlockAssociationSet");
	doc_foreach(x, set)
		if (str_eq(doc_get_str(x, "AssociationId"), assoc)) {
			doc_delete_child(set, x);
			break;
		}
	if (!api_put(rq, RT_VPC, vpc_id, d) || local_routes_set(rq, vpc_id, cidr_s, false) < 0)
		return -1;
	answer(rq, vpc_id, assoc, cidr_s, "disassociating");
	return 0;
}

bool vpc_block_holds(const struct doc *vpc, const struct cidr4 *c)
{
	doc_foreach(a, doc_get(vpc, "CidrBlockAssociationSet")) {
		struct cidr4 have;
		if (block_associated(a) && cidr_parse(doc_get_str(a, "CidrBlock"), &have, NULL) && cidr_contains(&have, c))
			return true;
	}
	return false;
}
