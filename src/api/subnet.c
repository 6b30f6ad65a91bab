/*
 * subnet.c — CreateSubnet, DescribeSubnets, DeleteSubnet,
 * ModifySubnetAttribute. A subnet lies inside its VPC, overlaps no other
 * subnet of it, and reserves five addresses (model.h).
 */
#include "api/quota.h"
#include "api/handlers.h"
#include "api/api_int.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* --- the blocks of each VPC's subnets ---------------------------------------
 * One disjoint range set per VPC, in an array sorted by VPC id. A cache
 * watch keeps it: creation, deletion, undo and loading at start all pass
 * through cache_put/cache_remove. */

struct vpc_blocks {
	char vb_vpc[RESOURCE_ID_MAX];
	struct cidr_set vb_set;
};

struct subnet_index {
	struct vpc_blocks *si_items;
	size_t si_count, si_cap;
};

static size_t index_find(const struct subnet_index *ix, const char *vpc, bool *found)
{
	size_t a = 0, b = ix->si_count;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int c = strcmp(ix->si_items[m].vb_vpc, vpc);
		if (c == 0) {
			*found = true;
			return m;
		}
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	*found = false;
	return a;
}

static bool block_of(const struct doc *subnet, const char **vpc, struct cidr4 *block)
{
	*vpc = doc_get_str(subnet, "VpcId");
	const char *c = doc_get_str(subnet, "CidrBlock");
	return *vpc && strlen(*vpc) < RESOURCE_ID_MAX && c && cidr_parse(c, block, NULL);
}

static void index_watch(void *ctx, const struct res *r, const struct doc *old, const struct doc *new_doc)
{
	struct subnet_index *ix = ctx;
	const char *vpc;
	struct cidr4 block;
	bool found;
	if (old && block_of(old, &vpc, &block)) {
		size_t i = index_find(ix, vpc, &found);
		if (found && cidr_set_remove(&ix->si_items[i].vb_set, &block) && !ix->si_items[i].vb_set.cs_count) {
			cidr_set_free(&ix->si_items[i].vb_set);
			memmove(&ix->si_items[i], &ix->si_items[i + 1], (ix->si_count - i - 1) * sizeof(*ix->si_items));
			ix->si_count--;
		}
	}
	if (new_doc && block_of(new_doc, &vpc, &block)) {
		size_t i = index_find(ix, vpc, &found);
		if (!found) {
			if (ix->si_count == ix->si_cap) {
				ix->si_cap = ix->si_cap ? ix->si_cap * 2 : 16;
				ix->si_items = realloc(ix->si_items, ix->si_cap * sizeof(*ix->si_items));
				if (!ix->si_items)
					abort();
			}
			memmove(&ix->si_items[i + 1], &ix->si_items[i], (ix->si_count - i) * sizeof(*ix->si_items));
			ix->si_count++;
			snprintf(ix->si_items[i].vb_vpc, sizeof(ix->si_items[i].vb_vpc), "%s", vpc);
			ix->si_items[i].vb_set = (struct cidr_set)CIDR_SET_INIT;
		}
		if (!cidr_set_add(&ix->si_items[i].vb_set, &block))
			log_warn("api", "subnet %s (%s) overlaps another subnet of %s in the stored state", r->r_id,
				 doc_get_str(new_doc, "CidrBlock"), vpc);
	}
}

void subnet_index_attach(struct api *api)
{
	api->a_subnets = calloc(1, sizeof(*api->a_subnets));
	if (!api->a_subnets)
		abort();
	cache_watch(api->a_cache, RT_SUBNET, index_watch, api->a_subnets);
}

void subnet_index_detach(struct api *api)
{
	struct subnet_index *ix = api->a_subnets;
	if (!ix)
		return;
	cache_unwatch(api->a_cache, index_watch, ix);
	for (size_t i = 0; i < ix->si_count; i++)
		cidr_set_free(&ix->si_items[i].vb_set);
	free(ix->si_items);
	free(ix);
	api->a_subnets = NULL;
}

bool subnet_block_taken(struct api_req *rq, const char *vpc_id, const struct cidr4 *block)
{
	const struct subnet_index *ix = rq->rq_api->a_subnets;
	bool found;
	size_t i = index_find(ix, vpc_id, &found);
	return found && cidr_set_overlaps(&ix->si_items[i].vb_set, block);
}

struct doc *subnet_create(struct api_req *rq, const char *vpc_id, const struct cidr4 *cidr,
			  const struct zone_info *zone, bool default_for_az, struct doc *tags)
{
	char id[RESOURCE_ID_MAX], cidr_s[CIDR_STR_MAX], arn[160];
	new_id("subnet", id);
	cidr_format(cidr, cidr_s);
	snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:subnet/%s", api_region(rq), api_account(rq), id);
	struct doc *d = doc_obj();
	doc_set_str(d, "SubnetId", id);
	doc_set_str(d, "SubnetArn", arn);
	doc_set_str(d, "VpcId", vpc_id);
	doc_set_str(d, "CidrBlock", cidr_s);
	doc_set_str(d, "AvailabilityZone", zone->z_name);
	doc_set_str(d, "AvailabilityZoneId", zone->z_id);
	doc_set_int(d, "AvailableIpAddressCount", subnet_available_total(cidr));
	doc_set_bool(d, "DefaultForAz", default_for_az);
	doc_set_bool(d, "MapPublicIpOnLaunch", default_for_az);
	doc_set_bool(d, "MapCustomerOwnedIpOnLaunch", false);
	doc_set_bool(d, "AssignIpv6AddressOnCreation", false);
	doc_set_bool(d, "EnableDns64", false);
	doc_set_bool(d, "Ipv6Native", false);
	doc_set_str(d, "State", "available");
	doc_set_str(d, "OwnerId", api_account(rq));
	doc_get_list(d, "Ipv6CidrBlockAssociationSet");
	struct doc *pdns = doc_get_obj(d, "PrivateDnsNameOptionsOnLaunch");
	doc_set_str(pdns, "HostnameType", "ip-name");
	doc_set_bool(pdns, "EnableResourceNameDnsARecord", false);
	doc_set_bool(pdns, "EnableResourceNameDnsAAAARecord", false);
	doc_set(d, "Tags", tags);
	/* every subnet belongs to a network ACL: the VPC's default one at first
	 * (kept in the subnet's doc, resources.h) */
	struct res *acl = vpc_default_nacl(rq, vpc_id);
	if (acl) {
		char assoc[RESOURCE_ID_MAX];
		new_id("aclassoc", assoc);
		doc_set_str(d, SUBNET_NACL_ID, acl->r_id);
		doc_set_str(d, SUBNET_NACL_ASSOC_ID, assoc);
	}
	return api_put(rq, RT_SUBNET, id, d);
}

const struct zone_info *zone_lookup(const struct region_info *reg, const char *name, const char *zid)
{
	for (size_t i = 0; i < reg->r_nzones; i++)
		if ((name && strcmp(reg->r_zones[i].z_name, name) == 0) ||
		    (zid && strcmp(reg->r_zones[i].z_id, zid) == 0))
			return &reg->r_zones[i];
	return NULL;
}

int handle_CreateSubnet(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	const char *cidr_s = api_require_str(rq, "CidrBlock");
	if (!cidr_s)
		return -1;
	struct cidr4 cidr;
	if (vpc_parse_block(rq, "cidrBlock", cidr_s, &cidr, "InvalidSubnet.Range") < 0)
		return -1;
	/* inside one of the VPC's associated blocks (vpc_cidr.c) */
	if (!vpc_block_holds(vpc->r_doc, &cidr))
		return api_fail(rq, "InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr_s);
	if (subnet_block_taken(rq, vpc->r_id, &cidr))
		return api_fail(rq, "InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", cidr_s);
	if (quota_check(rq, Q_SUBNETS_PER_VPC, vpc->r_id, 1) < 0)
		return -1;
	const struct region_info *reg = region_find(api_region(rq));
	const char *az = doc_get_str(rq->rq_in, "AvailabilityZone");
	const char *azid = doc_get_str(rq->rq_in, "AvailabilityZoneId");
	if (az && !*az)
		az = NULL;	/* AvailabilityZone= : none, as AWS takes it */
	if (azid && !*azid)
		azid = NULL;
	const struct zone_info *zone = (az || azid) ? zone_lookup(reg, az, azid) : &reg->r_zones[0];
	if (!zone) {
		struct strbuf names = STRBUF_INIT;
		for (size_t i = 0; i < reg->r_nzones; i++)
			sb_printf(&names, "%s%s", i ? ", " : "", az ? reg->r_zones[i].z_name : reg->r_zones[i].z_id);
		api_fail(rq, "InvalidParameterValue",
			 "Value (%.32s) for parameter %s is invalid. Subnets can currently only be created in the following availability zones: %s.",
			 az ? az : azid, az ? "availabilityZone" : "availabilityZoneId", names.sb_data);
		sb_free(&names);
		return -1;
	}
	char vpc_id[RESOURCE_ID_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", vpc->r_id);
	struct doc *subnet = subnet_create(rq, vpc_id, &cidr, zone, false, api_tags_from_spec(rq, RT_SUBNET));
	if (!subnet)
		return -1;
	/* the cached doc itself, by ref (State "available" already): no copy,
	 * and its XML is kept as its memo for the Describe answers to come */
	doc_set(rq->rq_out, "Subnet", doc_ref(subnet));
	return 0;
}

static const struct filter_def subnet_filters[] = {
	{ "availability-zone", "AvailabilityZone" },
	{ "availabilityZone", "AvailabilityZone" },	/* AWS takes the attribute names too */
	{ "availability-zone-id", "AvailabilityZoneId" },
	{ "availabilityZoneId", "AvailabilityZoneId" },
	{ "available-ip-address-count", "AvailableIpAddressCount" },
	{ "cidr-block", "CidrBlock" },
	{ "cidr", "CidrBlock" },
	{ "cidrBlock", "CidrBlock" },
	{ "customer-owned-ipv4-pool", "CustomerOwnedIpv4Pool" },
	{ "default-for-az", "DefaultForAz" },
	{ "defaultForAz", "DefaultForAz" },
	{ "enable-dns64", "EnableDns64" },
	{ "ipv6-cidr-block-association.ipv6-cidr-block", "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock" },
	{ "ipv6-cidr-block-association.association-id", "Ipv6CidrBlockAssociationSet.AssociationId" },
	{ "ipv6-cidr-block-association.state", "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State" },
	{ "ipv6-native", "Ipv6Native" },
	{ "map-customer-owned-ip-on-launch", "MapCustomerOwnedIpOnLaunch" },
	{ "map-public-ip-on-launch", "MapPublicIpOnLaunch" },
	{ "outpost-arn", "OutpostArn" },
	{ "private-dns-name-options-on-launch.hostname-type", "PrivateDnsNameOptionsOnLaunch.HostnameType" },
	{ "private-dns-name-options-on-launch.enable-resource-name-dns-a-record", "PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsARecord" },
	{ "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record", "PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsAAAARecord" },
	{ "state", "State" },
	{ "subnet-arn", "SubnetArn" },
	{ "subnet-id", "SubnetId" },
	{ "vpc-id", "VpcId" },
	{ NULL, NULL },
};

int handle_DescribeSubnets(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_SUBNET, "SubnetIds", "InvalidSubnetID.NotFound", "subnet", subnet_filters, "Subnets", true, 5, 1000, NULL,
	};
	return api_describe(rq, &spec);
}

/* Is anything still using the subnet (besides its ACL association)? */
static bool subnet_in_use(struct api_req *rq, const char *subnet_id, char *what, size_t len)
{
	static const char *const types[] = { "network-interface", "instance" };
	for (size_t t = 0; t < ARRAY_LEN(types); t++) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), types[t], &n);
		for (size_t i = 0; i < n; i++) {
			const char *s = doc_get_str(list[i]->r_doc, "SubnetId");
			if (s && strcmp(s, subnet_id) == 0) {
				snprintf(what, len, "%s", list[i]->r_id);
				return true;
			}
		}
	}
	return false;
}

/* Removes the subnet's association from whichever route table has it (its
 * ACL association goes with its doc). */
static int subnet_drop_associations(struct api_req *rq, const char *type, const char *subnet_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), type, &n);
	for (size_t i = 0; i < n; i++) {
		doc_foreach(a, doc_get(list[i]->r_doc, "Associations")) {
			const char *s = doc_get_str(a, "SubnetId");
			if (!s || strcmp(s, subnet_id) != 0)
				continue;
			struct doc *d = doc_clone(list[i]->r_doc);
			struct doc *assocs = doc_get(d, "Associations");
			for (struct doc *c = assocs->d_first; c;) {
				struct doc *next = c->d_next;
				const char *cs = doc_get_str(c, "SubnetId");
				if (cs && strcmp(cs, subnet_id) == 0)
					doc_delete_child(assocs, c);
				c = next;
			}
			return api_put(rq, type, list[i]->r_id, d) ? 0 : -1;
		}
	}
	return 0;
}

static struct res *subnet_first_reservation(struct api_req *rq, const char *subnet_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_SCR, &n);
	for (size_t i = 0; i < n; i++) {
		const char *s = doc_get_str(list[i]->r_doc, "SubnetId");
		if (s && strcmp(s, subnet_id) == 0)
			return list[i];
	}
	return NULL;
}

int handle_DeleteSubnet(struct api_req *rq)
{
	struct res *s = api_require(rq, "SubnetId", RT_SUBNET, "InvalidSubnetID.NotFound", "subnet");
	if (!s)
		return -1;
	char id[RESOURCE_ID_MAX], what[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", s->r_id);
	if (subnet_in_use(rq, id, what, sizeof(what))) {
		/* AWS's words, nothing appended; which dependency goes to the log */
		log_debug("api", "DeleteSubnet %s: in use by %s", id, what);
		return api_fail(rq, "DependencyViolation", "The subnet '%s' has dependencies and cannot be deleted.", id);
	}
	/* its CIDR reservations go with it */
	struct res *scr;
	while ((scr = subnet_first_reservation(rq, id))) {
		char scr_id[RESOURCE_ID_MAX];
		snprintf(scr_id, sizeof(scr_id), "%s", scr->r_id);
		if (api_delete(rq, scr_id) < 0)
			return -1;
	}
	if (subnet_drop_associations(rq, RT_ROUTE_TABLE, id) < 0 || api_delete(rq, id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_ModifySubnetAttribute(struct api_req *rq)
{
	struct res *s = api_require(rq, "SubnetId", RT_SUBNET, "InvalidSubnetID.NotFound", "subnet");
	if (!s)
		return -1;
	static const char *const bool_attrs[] = {
		"MapPublicIpOnLaunch", "AssignIpv6AddressOnCreation", "MapCustomerOwnedIpOnLaunch", "EnableDns64",
	};
	struct doc *d = doc_clone(s->r_doc);
	int given = 0;
	for (size_t i = 0; i < ARRAY_LEN(bool_attrs); i++) {
		struct doc *v = doc_get(rq->rq_in, bool_attrs[i]);
		if (!v)
			continue;
		given++;
		bool on = doc_get_bool(v, "Value", false);
		if (on && strcmp(bool_attrs[i], "AssignIpv6AddressOnCreation") == 0) {
			doc_free(d);
			return api_fail(rq, "InvalidParameterValue", "The subnet '%s' has no IPv6 block", s->r_id);
		}
		doc_set_bool(d, bool_attrs[i], on);
	}
	if (given == 0) {
		doc_free(d);
		return api_fail(rq, "MissingParameter", "The request must contain an attribute to modify, e.g. MapPublicIpOnLaunch");
	}
	return api_put(rq, RT_SUBNET, s->r_id, d) ? 0 : -1;
}
