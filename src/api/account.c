/*
 * account.c — what an account has before it creates anything: regions,
 * zones, account attributes, and the default VPC (172.31.0.0/16, a /20
 * default subnet per zone, an attached internet gateway and a default
 * route to it), made once when the state is new.
 */
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
	for (size_t i = 0; i < count; i++) {
		if (!wanted(names, regs[i].r_name) || !filter_ok(filters, "region-name", regs[i].r_name) ||
		    !filter_ok(filters, "endpoint", regs[i].r_endpoint) ||
		    !filter_ok(filters, "opt-in-status", "opt-in-not-required"))
			continue;
		struct doc *r = doc_push(out, doc_obj());
		doc_set_str(r, "RegionName", regs[i].r_name);
		doc_set_str(r, "Endpoint", regs[i].r_endpoint);
		doc_set_str(r, "OptInStatus", "opt-in-not-required");
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
	/* what a VPC-only account reports */
	static const struct { const char *name, *value; } attrs[] = {
		{ "supported-platforms", "VPC" },
		{ "vpc-max-security-groups-per-interface", "5" },
		{ "max-elastic-ips", "5" },
		{ "max-instances", "20" },
		{ "vpc-max-elastic-ips", "5" },
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
	if (rc == 0 && api->a_current_savepoint && store_release(api->a_store) < 0)
		rc = -1;
	api->a_current_savepoint = false;
	if (rc == 0 && api->a_txn_open && store_commit(api->a_store) < 0)
		rc = -1;
	if (rc == 0) {
		api->a_txn_open = false;
		api_undo_clear(api);
		return 0;
	}
	if (api->a_txn_open)
		store_rollback(api->a_store);
	api->a_txn_open = false;
	api_undo_to(api, 0);
	return -1;
}

/* State stored before subnets kept their own ACL association (resources.h):
 * moves the associations out of the ACL docs, once. */
static int api_migrate(struct api *api)
{
	struct api_req rq = { .rq_api = api, .rq_request_id = "migrate", .rq_in = doc_obj() };
	int n = nacl_migrate_associations(api->a_cache, migrate_put, &rq);
	int rc = startup_commit(api, n < 0 ? -1 : 0);
	if (rc < 0)
		log_error("api", "cannot migrate the network ACL associations: %s", rq.rq_err_msg);
	else if (n > 0)
		log_info("api", "moved the network ACL associations into the subnets (%d docs)", n);
	doc_free(rq.rq_in);
	return rc;
}

int api_bootstrap(struct api *api)
{
	if (api_migrate(api) < 0)
		return -1;
	char *done = store_meta_get(api->a_store, "bootstrapped");
	free(done);
	if (done)
		return 0;
	struct api_req rq = { .rq_api = api, .rq_request_id = "bootstrap", .rq_in = doc_obj() };
	struct cidr4 cidr;
	cidr_parse(DEFAULT_VPC_CIDR, &cidr, NULL);
	int rc = -1;
	struct doc *vpc = vpc_create(&rq, &cidr, "default", true, doc_list());
	if (!vpc)
		goto out;
	char vpc_id[RESOURCE_ID_MAX], igw_id[RESOURCE_ID_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", doc_get_str(vpc, "VpcId"));
	const struct region_info *reg = region_find(api->a_cfg.ac_region);
	for (size_t i = 0; i < reg->r_nzones; i++) {
		struct cidr4 sub = { cidr.c_addr + ((uint32_t)i << (32 - DEFAULT_SUBNET_PREFIX)), DEFAULT_SUBNET_PREFIX };
		if (!subnet_create(&rq, vpc_id, &sub, &reg->r_zones[i], true, doc_list()))
			goto out;
	}
	new_id("igw", igw_id);
	struct doc *igw = doc_obj();
	doc_set_str(igw, "InternetGatewayId", igw_id);
	doc_set_str(igw, "OwnerId", api->a_cfg.ac_account_id);
	struct doc *att = doc_push(doc_get_list(igw, "Attachments"), doc_obj());
	doc_set_str(att, "State", "available");
	doc_set_str(att, "VpcId", vpc_id);
	doc_get_list(igw, "Tags");
	if (!api_put(&rq, RT_IGW, igw_id, igw))
		goto out;
	struct res *main = vpc_main_route_table(&rq, vpc_id);
	struct doc *rtb = doc_clone(main->r_doc);
	struct doc *route = doc_push(doc_get_list(rtb, "Routes"), doc_obj());
	doc_set_str(route, "DestinationCidrBlock", "0.0.0.0/0");
	doc_set_str(route, "GatewayId", igw_id);
	doc_set_str(route, "Origin", "CreateRoute");
	doc_set_str(route, "State", "active");
	if (!api_put(&rq, RT_ROUTE_TABLE, main->r_id, rtb))
		goto out;
	if (store_meta_put(api->a_store, "bootstrapped", "1") < 0)
		goto out;
	if (api->a_current_savepoint && store_release(api->a_store) < 0)
		goto out;
	api->a_current_savepoint = false;
	if (store_commit(api->a_store) < 0)
		goto out;
	api->a_txn_open = false;
	api_undo_clear(api);
	log_info("api", "created the default VPC %s (%s) in %s", vpc_id, DEFAULT_VPC_CIDR, reg->r_name);
	rc = 0;
out:
	if (rc < 0) {
		log_error("api", "cannot create the default VPC: %s", rq.rq_err_msg);
		if (api->a_txn_open)
			store_rollback(api->a_store);
		api->a_txn_open = api->a_current_savepoint = false;
		api_undo_to(api, 0);
	}
	doc_free(rq.rq_in);
	return rc;
}
