/*
 * account.c — what an account has before it creates anything: regions,
 * zones, account attributes, and the default VPC (172.31.0.0/16, a /20
 * default subnet per zone, an attached internet gateway and a default
 * route to it), made once when the state is new.
 */
#include "api/quota.h"
#include "api/api_int.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static bool wanted(const struct doc *names, const char *name)
{
	if (!names || names->d_count == 0)
		return true;
	doc_foreach(n, names)
		if (n->d_type == DOC_STR && strcmp(n->d_str, name) == 0)
			return true;
	return false;
}

static bool filter_ok(const struct doc *filters, const char *fname, const char *value)
{
	doc_foreach(f, filters) {
		const char *n = doc_get_str(f, "Name");
		if (!n || strcmp(n, fname) != 0)
			continue;
		bool any = false;
		doc_foreach(v, doc_get(f, "Values"))
			if (v->d_type == DOC_STR && strcmp(v->d_str, value) == 0)
				any = true;
		if (!any)
			return false;
	}
	return true;
}

static int check_filters(struct api_req *rq, const char *const *known)
{
	doc_foreach(f, doc_get(rq->rq_in, "Filters")) {
		const char *n = doc_get_str(f, "Name");
		bool ok = false;
		for (const char *const *k = known; *k && n; k++)
			if (strcmp(*k, n) == 0)
				ok = true;
		if (!ok)
			return api_fail(rq, "InvalidParameterValue", "The filter '%.64s' is invalid", n ? n : "");
	}
	return 0;
}

int handle_DescribeRegions(struct api_req *rq)
{
	static const char *const known[] = { "endpoint", "region-name", "opt-in-status", NULL };
	if (check_filters(rq, known) < 0)
		return -1;
	const struct doc *names = doc_get(rq->rq_in, "RegionNames");
	const struct doc *filters = doc_get(rq->rq_in, "Filters");
	doc_foreach(n, names)
		if (!region_find(n->d_str))
			return api_fail(rq, "InvalidParameterValue", "Invalid region: %.64s", n->d_str);
	size_t count;
	const struct region_info *regs = region_all(&count);
	struct doc *out = doc_set(rq->rq_out, "Regions", doc_list());
	/* every region is enabled (opt-in ones are served as opted in), so
	 * AllRegions lists no more than the enabled ones */
	for (size_t i = 0; i < count; i++) {
		const char *opt = regs[i].r_opt_in ? "opted-in" : "opt-in-not-required";
		if (!wanted(names, regs[i].r_name) || !filter_ok(filters, "region-name", regs[i].r_name) ||
		    !filter_ok(filters, "endpoint", regs[i].r_endpoint) || !filter_ok(filters, "opt-in-status", opt))
			continue;
		struct doc *r = doc_push(out, doc_obj());
		doc_set_str(r, "RegionName", regs[i].r_name);
		doc_set_str(r, "Endpoint", regs[i].r_endpoint);
		doc_set_str(r, "OptInStatus", opt);
	}
	return 0;
}

int handle_DescribeAvailabilityZones(struct api_req *rq)
{
	static const char *const known[] = { "zone-name", "zone-id", "region-name", "state", "zone-type",
					     "group-name", "opt-in-status", NULL };
	if (check_filters(rq, known) < 0)
		return -1;
	const struct region_info *reg = region_find(api_region(rq));
	const struct doc *names = doc_get(rq->rq_in, "ZoneNames");
	const struct doc *ids = doc_get(rq->rq_in, "ZoneIds");
	const struct doc *filters = doc_get(rq->rq_in, "Filters");
	doc_foreach(n, names) {
		bool found = false;
		for (size_t i = 0; i < reg->r_nzones; i++)
			found |= strcmp(reg->r_zones[i].z_name, n->d_str) == 0;
		if (!found)
			return api_fail(rq, "InvalidParameterValue", "The availability zone '%.64s' is not available in this region", n->d_str);
	}
	struct doc *out = doc_set(rq->rq_out, "AvailabilityZones", doc_list());
	for (size_t i = 0; i < reg->r_nzones; i++) {
		const struct zone_info *z = &reg->r_zones[i];
		if ((names && names->d_count && !wanted(names, z->z_name)) || (ids && ids->d_count && !wanted(ids, z->z_id)))
			continue;
		if (!filter_ok(filters, "zone-name", z->z_name) || !filter_ok(filters, "zone-id", z->z_id) ||
		    !filter_ok(filters, "region-name", reg->r_name) || !filter_ok(filters, "state", "available") ||
		    !filter_ok(filters, "zone-type", "availability-zone") || !filter_ok(filters, "group-name", reg->r_name) ||
		    !filter_ok(filters, "opt-in-status", "opt-in-not-required"))
			continue;
		struct doc *a = doc_push(out, doc_obj());
		doc_set_str(a, "ZoneName", z->z_name);
		doc_set_str(a, "ZoneId", z->z_id);
		doc_set_str(a, "State", "available");
		doc_set_str(a, "RegionName", reg->r_name);
		doc_set_str(a, "OptInStatus", "opt-in-not-required");
		doc_set_str(a, "GroupName", reg->r_name);
		doc_set_str(a, "NetworkBorderGroup", reg->r_name);
		doc_set_str(a, "ZoneType", "availability-zone");
		doc_get_list(a, "Messages");
	}
	return 0;
}

int handle_DescribeAccountAttributes(struct api_req *rq)
{
	/* what a VPC-only account reports; the quotas are vpcd's (--quota) */
	char eips[24], instances[24];
	snprintf(eips, sizeof(eips), "%ld", quota_limit(rq->rq_api, Q_ELASTIC_IPS));
	snprintf(instances, sizeof(instances), "%ld", quota_limit(rq->rq_api, Q_INSTANCES));
	const struct { const char *name, *value; } attrs[] = {
		{ "supported-platforms", "VPC" },
		{ "vpc-max-security-groups-per-interface", "5" },
		{ "max-elastic-ips", eips },
		{ "max-instances", instances },
		{ "vpc-max-elastic-ips", eips },
		{ "default-vpc", NULL },
	};
	const struct doc *names = doc_get(rq->rq_in, "AttributeNames");
	doc_foreach(n, names) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(attrs); i++)
			known |= strcmp(attrs[i].name, n->d_str) == 0;
		if (!known)
			return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter attributeName is invalid", n->d_str);
	}
	char default_vpc[RESOURCE_ID_MAX] = "none";
	size_t nv;
	struct res **vpcs = cache_list(api_cache(rq), RT_VPC, &nv);
	for (size_t i = 0; i < nv; i++)
		if (doc_get_bool(vpcs[i]->r_doc, "IsDefault", false))
			snprintf(default_vpc, sizeof(default_vpc), "%s", vpcs[i]->r_id);
	struct doc *out = doc_set(rq->rq_out, "AccountAttributes", doc_list());
	for (size_t i = 0; i < ARRAY_LEN(attrs); i++) {
		if (!wanted(names, attrs[i].name))
			continue;
		struct doc *a = doc_push(out, doc_obj());
		doc_set_str(a, "AttributeName", attrs[i].name);
		struct doc *v = doc_push(doc_get_list(a, "AttributeValues"), doc_obj());
		doc_set_str(v, "AttributeValue", attrs[i].value ? attrs[i].value : default_vpc);
	}
	return 0;
}

#define DEFAULT_VPC_CIDR "172.31.0.0/16"
#define DEFAULT_SUBNET_PREFIX 20

static int migrate_put(void *arg, const char *type, const char *id, struct doc *doc)
{
	return api_put(arg, type, id, doc) ? 0 : -1;
}

/* Commits what a start-up step (rq) put; 0, or -1 with everything undone. */
static int startup_commit(struct api *api, int rc)
{
	rc = state_change_end(api->a_state, rc);
	if (rc == 0 && state_commit(api->a_state) == 0)
		return 0;
	state_abort(api->a_state);
	return -1;
}

/* State stored before subnets kept their own ACL association (resources.h):
 * moves the associations out of the ACL docs, once. */
static int api_migrate(struct api *api)
{
	struct api_req rq = { .rq_api = api, .rq_request_id = "migrate", .rq_in = doc_obj() };
	state_change_begin(api->a_state);
	int n = nacl_migrate_associations(api->a_cache, migrate_put, &rq);
	int rc = startup_commit(api, n < 0 ? -1 : 0);
	if (rc < 0)
		log_error("api", "cannot migrate the network ACL associations: %s", rq.rq_err_msg);
	else if (n > 0)
		log_info("api", "moved the network ACL associations into the subnets (%d docs)", n);
	doc_free(rq.rq_in);
	return rc;
}

/* The meta key saying a region's default VPC was made (it is not made
 * again once deleted). */
static void default_vpc_key(const char *region, char *buf, size_t len)
{
	snprintf(buf, len, "default-vpc:%s", region);
}

struct unregioned {
	struct res **u_list;
	size_t u_count, u_cap;
};

static void collect_unregioned(void *ctx, struct res *r)
{
	struct unregioned *u = ctx;
	if (r->r_region)
		return;
	if (u->u_count == u->u_cap) {
		u->u_cap = u->u_cap ? u->u_cap * 2 : 256;
		u->u_list = realloc(u->u_list, u->u_cap * sizeof(*u->u_list));
		if (!u->u_list)
			abort();
	}
	u->u_list[u->u_count++] = r;
}

/* State stored before vpcd served every region: its resources are the
 * default region's, and so is the default VPC the old key recorded. */
static int api_migrate_regions(struct api *api)
{
	char *done = store_meta_get(api->a_store, "regions");
	free(done);
	if (done)
		return 0;
	struct api_req rq = { .rq_api = api, .rq_request_id = "migrate", .rq_in = doc_obj() };
	state_change_begin(api->a_state);
	size_t moved = 0;
	int rc = 0;
	struct unregioned u = { 0 };
	cache_each(api->a_cache, collect_unregioned, &u);
	struct res **all = u.u_list;
	size_t nall = u.u_count;
	for (size_t i = 0; i < nall && rc == 0; i++) {
		struct doc *d = doc_clone(all[i]->r_doc);
		doc_set_str(d, CACHE_REGION_KEY, api->a_cfg.ac_region);
		if (!api_put(&rq, all[i]->r_type, all[i]->r_id, d))
			rc = -1;
		moved++;
	}
	free(all);
	char *old = store_meta_get(api->a_store, "bootstrapped");
	char key[96];
	default_vpc_key(api->a_cfg.ac_region, key, sizeof(key));
	if (rc == 0 && old && store_meta_put(api->a_store, key, "1") < 0)
		rc = -1;
	free(old);
	if (rc == 0 && state_batch_begin(api->a_state) < 0)
		rc = -1;
	if (rc == 0 && store_meta_put(api->a_store, "regions", "1") < 0)
		rc = -1;
	rc = startup_commit(api, rc);
	if (rc < 0)
		log_error("api", "cannot give the stored resources their region: %s", rq.rq_err_msg);
	else if (moved)
		log_info("api", "%zu stored resources are in region %s", moved, api->a_cfg.ac_region);
	doc_free(rq.rq_in);
	return rc;
}

struct legacy_dhcp {
	struct res **ld_list;
	size_t ld_count, ld_cap;
};

static void collect_legacy_dhcp(void *ctx, struct res *r)
{
	struct legacy_dhcp *l = ctx;
	const char *d = strcmp(r->r_type, RT_VPC) == 0 ? doc_get_str(r->r_doc, "DhcpOptionsId") : NULL;
	if (!d || strcmp(d, "default") != 0)
		return;
	if (l->ld_count == l->ld_cap) {
		l->ld_cap = l->ld_cap ? l->ld_cap * 2 : 64;
		l->ld_list = realloc(l->ld_list, l->ld_cap * sizeof(*l->ld_list));
		if (!l->ld_list)
			abort();
	}
	l->ld_list[l->ld_count++] = r;
}

/* State stored before vpcd had DHCP option sets: its VPCs say "default"
 * (which now means no set), where AWS gives every VPC its region's default
 * set. Once per store (meta "dhcp-default-sets"); a new store has no VPC
 * yet, so afterwards "default" is only ever what a user associated. */
static int api_migrate_dhcp(struct api *api)
{
	char *done = store_meta_get(api->a_store, "dhcp-default-sets");
	free(done);
	if (done)
		return 0;
	struct legacy_dhcp l = { 0 };
	cache_each(api->a_cache, collect_legacy_dhcp, &l);
	int rc = 0;
	state_change_begin(api->a_state);
	char *view = cache_region(api->a_cache) ? strdup(cache_region(api->a_cache)) : NULL;
	for (size_t i = 0; i < l.ld_count && rc == 0; i++) {
		const char *region = l.ld_list[i]->r_region ? l.ld_list[i]->r_region : api->a_cfg.ac_region;
		struct api_req rq = { .rq_api = api, .rq_request_id = "migrate", .rq_in = doc_obj(), .rq_region = region };
		cache_set_region(api->a_cache, region);
		const char *set = dhcp_default_set(&rq);
		struct doc *d = set ? doc_clone(l.ld_list[i]->r_doc) : NULL;
		if (d)
			doc_set_str(d, "DhcpOptionsId", set);
		if (!d || !api_put(&rq, RT_VPC, l.ld_list[i]->r_id, d)) {
			log_error("api", "cannot give %s its region's default DHCP option set: %s", l.ld_list[i]->r_id,
				  rq.rq_err_msg);
			rc = -1;
		}
		doc_free(rq.rq_in);
	}
	cache_set_region(api->a_cache, view);
	free(view);
	free(l.ld_list);
	if (rc == 0 && state_batch_begin(api->a_state) < 0)
		rc = -1;
	if (rc == 0 && store_meta_put(api->a_store, "dhcp-default-sets", "1") < 0)
		rc = -1;
	rc = startup_commit(api, rc);
	if (rc == 0 && l.ld_count)
		log_info("api", "%zu stored VPCs have their region's default DHCP option set", l.ld_count);
	return rc;
}

/* Makes the default VPC of rq's region: 172.31.0.0/16, a /20 default
 * subnet per zone, an internet gateway attached and the main table's
 * default route to it; its id into vpc_out (RESOURCE_ID_MAX) when given.
 * 0, or -1 after api_fail. */
static int default_vpc_create(struct api_req *rq, char *vpc_out)
{
	const struct region_info *reg = region_find(api_region(rq));
	struct cidr4 cidr;
	cidr_parse(DEFAULT_VPC_CIDR, &cidr, NULL);
	struct doc *vpc = vpc_create(rq, &cidr, "default", true, doc_list());
	if (!vpc)
		return -1;
	char vpc_id[RESOURCE_ID_MAX], igw_id[RESOURCE_ID_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", doc_get_str(vpc, "VpcId"));
	for (size_t i = 0; i < reg->r_nzones; i++) {
		struct cidr4 sub = { cidr.c_addr + ((uint32_t)i << (32 - DEFAULT_SUBNET_PREFIX)), DEFAULT_SUBNET_PREFIX };
		if (!subnet_create(rq, vpc_id, &sub, &reg->r_zones[i], true, doc_list()))
			return -1;
	}
	new_id("igw", igw_id);
	struct doc *igw = doc_obj();
	doc_set_str(igw, "InternetGatewayId", igw_id);
	doc_set_str(igw, "OwnerId", api_account(rq));
	struct doc *att = doc_push(doc_get_list(igw, "Attachments"), doc_obj());
	doc_set_str(att, "State", "available");
	doc_set_str(att, "VpcId", vpc_id);
	doc_get_list(igw, "Tags");
	if (!api_put(rq, RT_IGW, igw_id, igw))
		return -1;
	struct res *main = vpc_main_route_table(rq, vpc_id);
	struct doc *rtb = doc_clone(main->r_doc);
	struct doc *route = doc_push(doc_get_list(rtb, "Routes"), doc_obj());
	doc_set_str(route, "DestinationCidrBlock", "0.0.0.0/0");
	doc_set_str(route, "GatewayId", igw_id);
	doc_set_str(route, "Origin", "CreateRoute");
	doc_set_str(route, "State", "active");
	if (!api_put(rq, RT_ROUTE_TABLE, main->r_id, rtb))
		return -1;
	char key[96];
	default_vpc_key(reg->r_name, key, sizeof(key));
	if (store_meta_put(rq->rq_api->a_store, key, "1") < 0)
		return api_fail(rq, "InternalError", "The change could not be stored");
	log_info("api", "created the default VPC %s (%s) in %s", vpc_id, DEFAULT_VPC_CIDR, reg->r_name);
	if (vpc_out)
		snprintf(vpc_out, RESOURCE_ID_MAX, "%s", vpc_id);
	return 0;
}

/* The region's default VPC, or NULL. */
static struct res *default_vpc_of(struct api_req *rq)
{
	size_t n;
	struct res **vpcs = cache_list(api_cache(rq), RT_VPC, &n);
	for (size_t i = 0; i < n; i++)
		if (doc_get_bool(vpcs[i]->r_doc, "IsDefault", false))
			return vpcs[i];
	return NULL;
}

/* CreateDefaultVpc: again, after the region's default VPC was deleted. */
int handle_CreateDefaultVpc(struct api_req *rq)
{
	if (default_vpc_of(rq))
		return api_fail(rq, "DefaultVpcAlreadyExists", "A Default VPC already exists for this account in this region.");
	char vpc_id[RESOURCE_ID_MAX];
	if (default_vpc_create(rq, vpc_id) < 0)
		return -1;
	struct res *vpc = cache_get_typed(api_cache(rq), RT_VPC, vpc_id);
	struct doc *out = doc_set(rq->rq_out, "Vpc", doc_clone(vpc->r_doc));
	doc_set_str(out, "State", "pending");	/* as AWS answers a create */
	return 0;
}

/* CreateDefaultSubnet: the zone's default subnet again, a /20 of the
 * default VPC's block that no subnet uses, the lowest first. */
int handle_CreateDefaultSubnet(struct api_req *rq)
{
	const struct region_info *reg = region_find(api_region(rq));
	const char *az = doc_get_str(rq->rq_in, "AvailabilityZone");
	const char *azid = doc_get_str(rq->rq_in, "AvailabilityZoneId");
	if (az && !*az)
		az = NULL;
	if (azid && !*azid)
		azid = NULL;
	if (!az && !azid)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter availabilityZone");
	if (doc_get_bool(rq->rq_in, "Ipv6Native", false))
		return api_fail(rq, "InvalidParameterValue", "vpcd does not provide IPv6 blocks yet");
	const struct zone_info *zone = zone_lookup(reg, az, azid);
	if (!zone)
		return api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter %s is invalid.", az ? az : azid,
				az ? "availabilityZone" : "availabilityZoneId");
	struct res *vpc = default_vpc_of(rq);
	if (!vpc)
		return api_fail(rq, "DefaultVpcDoesNotExist", "No default VPC exists for this account in this region.");
	char vpc_id[RESOURCE_ID_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", vpc->r_id);
	size_t n;
	struct res **subnets = cache_list(api_cache(rq), RT_SUBNET, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *s = subnets[i]->r_doc;
		if (doc_get_bool(s, "DefaultForAz", false) && doc_get_str(s, "VpcId") && strcmp(doc_get_str(s, "VpcId"), vpc_id) == 0 &&
		    doc_get_str(s, "AvailabilityZone") && strcmp(doc_get_str(s, "AvailabilityZone"), zone->z_name) == 0)
			return api_fail(rq, "DefaultSubnetAlreadyExistsInAvailabilityZone",
					"A default subnet already exists in availability zone %s.", zone->z_name);
	}
	struct cidr4 block;
	if (!cidr_parse(doc_get_str(vpc->r_doc, "CidrBlock"), &block, NULL))
		return api_fail(rq, "InternalError", "The default VPC's block is unreadable");
	uint32_t count = block.c_len <= DEFAULT_SUBNET_PREFIX ? 1u << (DEFAULT_SUBNET_PREFIX - block.c_len) : 0;
	for (uint32_t i = 0; i < count; i++) {
		struct cidr4 sub = { block.c_addr + (i << (32 - DEFAULT_SUBNET_PREFIX)), DEFAULT_SUBNET_PREFIX };
		if (subnet_block_taken(rq, vpc_id, &sub))
			continue;
		struct doc *made = subnet_create(rq, vpc_id, &sub, zone, true, doc_list());
		if (!made)
			return -1;
		doc_set(rq->rq_out, "Subnet", doc_clone(made));
		return 0;
	}
	return api_fail(rq, "InsufficientFreeAddressesInSubnet",
			"The default VPC %s has no free /%d block for a default subnet.", vpc_id, DEFAULT_SUBNET_PREFIX);
}

int region_prepare(struct api *api, const char *region)
{
	size_t count;
	const struct region_info *all = region_all(&count);
	const struct region_info *reg = region_find(region);
	if (!reg)
		return -1;
	size_t idx = (size_t)(reg - all);
	if (!api->a_region_ready) {
		api->a_region_ready = calloc(count, sizeof(*api->a_region_ready));
		if (!api->a_region_ready)
			abort();
	}
	if (api->a_region_ready[idx])
		return 0;
	char key[96];
	default_vpc_key(reg->r_name, key, sizeof(key));
	char *made = store_meta_get(api->a_store, key);
	free(made);
	if (made) {
		api->a_region_ready[idx] = true;
		return 0;
	}
	/* its own savepoint in the open batch, in the region's view */
	struct api_req rq = { .rq_api = api, .rq_request_id = "default-vpc", .rq_in = doc_obj(),
			      .rq_region = reg->r_name };
	char *view = cache_region(api->a_cache) ? strdup(cache_region(api->a_cache)) : NULL;
	cache_set_region(api->a_cache, reg->r_name);
	state_change_begin(api->a_state);
	int rc = state_change_end(api->a_state, default_vpc_create(&rq, NULL));
	cache_set_region(api->a_cache, view);
	free(view);
	if (rc < 0)
		log_error("api", "cannot create the default VPC of %s: %s", reg->r_name, rq.rq_err_msg);
	else
		api->a_region_ready[idx] = true;
	doc_free(rq.rq_in);
	return rc;
}

void region_forget_prepared(struct api *api)
{
	size_t count;
	region_all(&count);
	if (api->a_region_ready)
		memset(api->a_region_ready, 0, count * sizeof(*api->a_region_ready));
}

int api_bootstrap(struct api *api)
{
	if (api_migrate(api) < 0 || api_migrate_regions(api) < 0 || api_migrate_dhcp(api) < 0)
		return -1;
	if (region_prepare(api, api->a_cfg.ac_region) < 0)
		return startup_commit(api, -1);
	return startup_commit(api, 0);
}
