/*
 * vpc_endpoint.c — Gateway VPC endpoints: CreateVpcEndpoint,
 * DescribeVpcEndpoints, ModifyVpcEndpoint, DeleteVpcEndpoints.
 *
 * A gateway endpoint serves one AWS service of the region (S3 or DynamoDB:
 * com.amazonaws.<region>.s3 / .dynamodb) to a VPC through routes: in each
 * route table it is associated with, a route whose destination is the
 * service's AWS-managed prefix list (prefix_list.c) and whose GatewayId is
 * the endpoint (Origin CreateRoute, as AWS lists them). Associating a
 * table adds the route, disassociating or deleting the endpoint removes
 * it. The data plane has no S3 or DynamoDB behind the endpoint: those
 * routes are blackholes there (engine_net.c).
 *
 * Doc: botocore's VpcEndpoint (VpcEndpointId, VpcEndpointType "Gateway",
 * VpcId, ServiceName, State "available", PolicyDocument, RouteTableIds,
 * SubnetIds, Groups, IpAddressType, DnsEntries, NetworkInterfaceIds,
 * PrivateDnsEnabled, RequesterManaged, CreationTimestamp, Tags, OwnerId).
 * Interface and other endpoint types are refused.
 */
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define VPCE_WHAT "vpcEndpoint"
#define VPCE_NOTFOUND "InvalidVpcEndpointId.NotFound"
#define VPCE_DEFAULT_POLICY \
	"{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}]}"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* The AWS-managed prefix list of service (its id into pl_out), or false
 * after api_fail (InvalidServiceName). */
static bool service_prefix_list(struct api_req *rq, const char *service, char *pl_out, size_t len)
{
	if (prefix_lists_ensure_aws(rq) < 0)
		return false;
	size_t n;
	struct res **lists = cache_list(api_cache(rq), RT_PREFIX_LIST, &n);
	for (size_t i = 0; service && i < n; i++)
		if (doc_get_bool(lists[i]->r_doc, "_AwsManaged", false) &&
		    str_eq(doc_get_str(lists[i]->r_doc, "PrefixListName"), service)) {
			snprintf(pl_out, len, "%s", lists[i]->r_id);
			return true;
		}
	api_fail(rq, "InvalidServiceName", "The Vpc Endpoint Service '%.128s' does not exist", service ? service : "");
	return false;
}

/* Adds (add) or removes the endpoint's route in table rtb_id. */
static int endpoint_route(struct api_req *rq, const char *rtb_id, const char *vpce_id, const char *pl_id, bool add)
{
	struct res *rtb = cache_get_typed(api_cache(rq), RT_ROUTE_TABLE, rtb_id);
	if (!rtb)
		return 0;
	struct doc *d = doc_clone(rtb->r_doc);
	struct doc *routes = doc_get_list(d, "Routes");
	struct doc *found = NULL;
	doc_foreach(r, routes)
		if (str_eq(doc_get_str(r, "DestinationPrefixListId"), pl_id))
			found = r;
	if (add) {
		if (found) {
			doc_free(d);
			return api_fail(rq, "RouteAlreadyExists", "The route identified by %s already exists.", pl_id);
		}
		struct doc *route = doc_push(routes, doc_obj());
		doc_set_str(route, "DestinationPrefixListId", pl_id);
		doc_set_str(route, "GatewayId", vpce_id);
		doc_set_str(route, "Origin", "CreateRoute");
		doc_set_str(route, "State", "active");
	} else {
		if (!found || !str_eq(doc_get_str(found, "GatewayId"), vpce_id)) {
			doc_free(d);
			return 0;
		}
		doc_delete_child(routes, found);
	}
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", rtb->r_id);
	return api_put(rq, RT_ROUTE_TABLE, id, d) ? 0 : -1;
}

/* Every id of ids must be a route table of vpc_id. */
static int check_tables(struct api_req *rq, const struct doc *ids, const char *vpc_id)
{
	doc_foreach(id, ids) {
		const char *s = id->d_type == DOC_STR ? id->d_str : "";
		struct res *rtb = cache_get_typed(api_cache(rq), RT_ROUTE_TABLE, s);
		if (!rtb)
			return api_not_found(rq, "InvalidRouteTableId.NotFound", "routeTable", s);
		if (!str_eq(doc_get_str(rtb->r_doc, "VpcId"), vpc_id))
			return api_fail(rq, "InvalidParameter", "route table %s does not belong to vpc %s", s, vpc_id);
	}
	return 0;
}

int handle_CreateVpcEndpoint(struct api_req *rq)
{
	const char *type = doc_get_str(rq->rq_in, "VpcEndpointType");
	if (type && !str_eq(type, "Gateway"))
		return api_fail(rq, "InvalidParameterValue", "vpcd serves Gateway VPC endpoints only (VpcEndpointType %.32s)", type);
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	const char *service = api_require_str(rq, "ServiceName");
	char pl[RESOURCE_ID_MAX], vpc_id[RESOURCE_ID_MAX];
	if (!service || !service_prefix_list(rq, service, pl, sizeof(pl)))
		return -1;
	snprintf(vpc_id, sizeof(vpc_id), "%s", vpc->r_id);
	const struct doc *tables = doc_get(rq->rq_in, "RouteTableIds");
	if (check_tables(rq, tables, vpc_id) < 0)
		return -1;
	const struct doc *subnets = doc_get(rq->rq_in, "SubnetIds"), *groups = doc_get(rq->rq_in, "SecurityGroupIds");
	if ((subnets && subnets->d_count) || (groups && groups->d_count))
		return api_fail(rq, "InvalidParameter", "Subnets and security groups are not supported for gateway endpoints");
	char id[RESOURCE_ID_MAX], now[32];
	new_id("vpce", id);
	time_iso8601(time_wall_s(), now, sizeof(now));
	struct doc *d = doc_obj();
	doc_set_str(d, "VpcEndpointId", id);
	doc_set_str(d, "VpcEndpointType", "Gateway");
	doc_set_str(d, "VpcId", vpc_id);
	doc_set_str(d, "ServiceName", service);
	doc_set_str(d, "State", "available");
	const char *policy = doc_get_str(rq->rq_in, "PolicyDocument");
	doc_set_str(d, "PolicyDocument", policy && *policy ? policy : VPCE_DEFAULT_POLICY);
	struct doc *rt = doc_get_list(d, "RouteTableIds");
	doc_foreach(t, tables)
		doc_push(rt, doc_str(t->d_str));
	doc_get_list(d, "SubnetIds");
	doc_get_list(d, "Groups");
	doc_set_str(d, "IpAddressType", "ipv4");
	doc_set_bool(d, "PrivateDnsEnabled", false);
	doc_set_bool(d, "RequesterManaged", false);
	doc_get_list(d, "NetworkInterfaceIds");
	doc_get_list(d, "DnsEntries");
	doc_set_str(d, "CreationTimestamp", now);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_VPCE));
	doc_set_str(d, "OwnerId", api_account(rq));
	doc_set_str(d, "_PrefixListId", pl);
	struct doc *stored = api_put(rq, RT_VPCE, id, d);
	if (!stored)
		return -1;
	doc_foreach(t, tables)
		if (endpoint_route(rq, t->d_str, id, pl, true) < 0)
			return -1;
	doc_set(rq->rq_out, "VpcEndpoint", doc_clone(cache_get_typed(api_cache(rq), RT_VPCE, id)->r_doc));
	const char *token = doc_get_str(rq->rq_in, "ClientToken");
	if (token)
		doc_set_str(rq->rq_out, "ClientToken", token);
	return 0;
}

static bool list_has(const struct doc *list, const char *s)
{
	doc_foreach(x, list)
		if (x->d_type == DOC_STR && str_eq(x->d_str, s))
			return true;
	return false;
}

int handle_ModifyVpcEndpoint(struct api_req *rq)
{
	struct res *e = api_require(rq, "VpcEndpointId", RT_VPCE, VPCE_NOTFOUND, VPCE_WHAT);
	if (!e)
		return -1;
	char id[RESOURCE_ID_MAX], pl[RESOURCE_ID_MAX], vpc_id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", e->r_id);
	snprintf(pl, sizeof(pl), "%s", doc_get_str(e->r_doc, "_PrefixListId"));
	snprintf(vpc_id, sizeof(vpc_id), "%s", doc_get_str(e->r_doc, "VpcId"));
	const struct doc *add = doc_get(rq->rq_in, "AddRouteTableIds"), *remove = doc_get(rq->rq_in, "RemoveRouteTableIds");
	if (check_tables(rq, add, vpc_id) < 0)
		return -1;
	doc_foreach(t, remove)
		if (!list_has(doc_get(e->r_doc, "RouteTableIds"), t->d_str))
			return api_fail(rq, "InvalidParameter", "Route table %.64s is not associated with %s", t->d_str, id);
	struct doc *before = doc_clone(doc_get(e->r_doc, "RouteTableIds"));
	struct doc *d = doc_clone(e->r_doc);
	struct doc *tables = doc_get_list(d, "RouteTableIds");
	doc_foreach(t, remove)
		doc_foreach(x, tables)
			if (str_eq(x->d_str, t->d_str)) {
				doc_delete_child(tables, x);
				break;
			}
	doc_foreach(t, add)
		if (!list_has(tables, t->d_str))
			doc_push(tables, doc_str(t->d_str));
	if (doc_get_bool(rq->rq_in, "ResetPolicy", false))
		doc_set_str(d, "PolicyDocument", VPCE_DEFAULT_POLICY);
	else if (doc_get_str(rq->rq_in, "PolicyDocument"))
		doc_set_str(d, "PolicyDocument", doc_get_str(rq->rq_in, "PolicyDocument"));
	int rc = api_put(rq, RT_VPCE, id, d) ? 0 : -1;
	doc_foreach(t, remove)
		if (rc == 0 && !list_has(add, t->d_str))
			rc = endpoint_route(rq, t->d_str, id, pl, false);
	doc_foreach(t, add)
		if (rc == 0 && !list_has(before, t->d_str))
			rc = endpoint_route(rq, t->d_str, id, pl, true);
	doc_free(before);
	if (rc < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_DeleteVpcEndpoints(struct api_req *rq)
{
	const struct doc *ids = doc_get(rq->rq_in, "VpcEndpointIds");
	if (!ids || !ids->d_count)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter VpcEndpointId");
	struct doc *failed = doc_set(rq->rq_out, "Unsuccessful", doc_list());
	doc_foreach(idd, ids) {
		const char *s = idd->d_type == DOC_STR ? idd->d_str : "";
		struct res *e = cache_get_typed(api_cache(rq), RT_VPCE, s);
		if (!e) {
			/* AWS answers unknown ids per item, not as a request error */
			struct doc *f = doc_push(failed, doc_obj());
			struct doc *err = doc_get_obj(f, "Error");
			char msg[128];
			snprintf(msg, sizeof(msg), "The Vpc Endpoint Id '%.64s' does not exist", s);
			doc_set_str(err, "Code", VPCE_NOTFOUND);
			doc_set_str(err, "Message", msg);
			doc_set_str(f, "ResourceId", s);
			continue;
		}
		char id[RESOURCE_ID_MAX], pl[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", e->r_id);
		snprintf(pl, sizeof(pl), "%s", doc_get_str(e->r_doc, "_PrefixListId"));
		struct doc *tables = doc_clone(doc_get(e->r_doc, "RouteTableIds"));
		int rc = 0;
		doc_foreach(t, tables)
			if (rc == 0)
				rc = endpoint_route(rq, t->d_str, id, pl, false);
		doc_free(tables);
		if (rc < 0 || api_delete(rq, id) < 0)
			return -1;
	}
	return 0;
}

static const struct filter_def vpce_filters[] = {
	{ "ip-address-type", "IpAddressType" },
	{ "service-name", "ServiceName" },
	{ "vpc-id", "VpcId" },
	{ "vpc-endpoint-id", "VpcEndpointId" },
	{ "vpc-endpoint-state", "State" },
	{ "vpc-endpoint-type", "VpcEndpointType" },
	{ NULL, NULL },
};

int handle_DescribeVpcEndpoints(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_VPCE, "VpcEndpointIds", VPCE_NOTFOUND, VPCE_WHAT, vpce_filters, "VpcEndpoints", true, 5, 1000, NULL,
	};
	return api_describe(rq, &spec);
}
