/*
 * tags.c — CreateTags, DeleteTags, DescribeTags over every taggable
 * resource. Tags live in each resource's "Tags" list.
 */
#include "api/quota.h"
#include "api/eni.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256

static const struct {
	const char *prefix, *type, *code, *what;
} id_kinds[] = {
	{ "vpc-", RT_VPC, "InvalidVpcID.NotFound", "vpc" },
	{ "subnet-", RT_SUBNET, "InvalidSubnetID.NotFound", "subnet" },
	{ "rtb-", RT_ROUTE_TABLE, "InvalidRouteTableID.NotFound", "routeTable" },
	{ "igw-", RT_IGW, "InvalidInternetGatewayID.NotFound", "internetGateway" },
	{ "acl-", RT_NACL, "InvalidNetworkAclID.NotFound", "networkAcl" },
	{ "sg-", RT_SG, "InvalidGroup.NotFound", "security group" },
	{ "sgr-", RT_SG_RULE, "InvalidSecurityGroupRuleId.NotFound", "security group rule" },
	{ "cgw-", RT_CGW, "InvalidCustomerGatewayID.NotFound", "customerGateway" },
	{ "vgw-", RT_VGW, "InvalidVpnGatewayID.NotFound", "vpnGateway" },
	{ "vpn-", RT_VPN, "InvalidVpnConnectionID.NotFound", "vpnConnection" },
	{ "i-", RT_INSTANCE, "InvalidInstanceID.NotFound", "instance" },
	{ "eni-", RT_ENI, "InvalidNetworkInterfaceID.NotFound", "networkInterface" },
	{ "eipalloc-", RT_EIP, "InvalidAllocationID.NotFound", "allocation" },
	{ "dopt-", RT_DHCP, "InvalidDhcpOptionID.NotFound", "dhcpOptions" },
	{ "nat-", RT_NATGW, "NatGatewayNotFound", "nat gateway" },
	{ "pcx-", RT_PCX, "InvalidVpcPeeringConnectionID.NotFound", "vpcPeeringConnection" },
	{ "pl-", RT_PREFIX_LIST, "InvalidPrefixListID.NotFound", "prefix list" },
	{ "vpce-", RT_VPCE, "InvalidVpcEndpointId.NotFound", "vpcEndpoint" },
	{ "eigw-", RT_EIGW, "InvalidGatewayID.NotFound", "egressOnlyInternetGateway" },
	{ "scr-", RT_SCR, "InvalidSubnetCidrReservationID.NotFound", "subnetCidrReservation" },
};

static struct res *tag_target(struct api_req *rq, const char *id)
{
	/* images enter the cache on first use; this may be it */
	if (strncmp(id, "ami-", 4) == 0)
		return image_require(rq, id);
	struct res *r = cache_get(api_cache(rq), id);
	if (r && doc_get(r->r_doc, "Tags"))
		return r;
	for (size_t i = 0; i < ARRAY_LEN(id_kinds); i++)
		if (strncmp(id, id_kinds[i].prefix, strlen(id_kinds[i].prefix)) == 0) {
			api_fail(rq, id_kinds[i].code, "The %s ID '%.64s' does not exist", id_kinds[i].what, id);
			return NULL;
		}
	api_fail(rq, "InvalidID", "The ID '%.64s' is not valid", id);
	return NULL;
}

static int check_tag(struct api_req *rq, const char *key, const char *value)
{
	if (!key || !*key)
		return api_fail(rq, "InvalidParameterValue", "Tag keys must not be empty");
	if (strlen(key) > TAG_KEY_MAX)
		return api_fail(rq, "InvalidParameterValue", "Tag key exceeds the maximum length of %d characters", TAG_KEY_MAX);
	if (value && strlen(value) > TAG_VALUE_MAX)
		return api_fail(rq, "InvalidParameterValue", "Tag value exceeds the maximum length of %d characters", TAG_VALUE_MAX);
	if (strncmp(key, "aws:", 4) == 0)
		return api_fail(rq, "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
	return 0;
}

int handle_CreateTags(struct api_req *rq)
{
	const struct doc *ids = doc_get(rq->rq_in, "Resources");
	const struct doc *tags = doc_get(rq->rq_in, "Tags");
	if (!ids || !ids->d_count)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter ResourceId");
	if (!tags || !tags->d_count)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter Tag");
	doc_foreach(t, tags)
		if (check_tag(rq, doc_get_str(t, "Key"), doc_get_str(t, "Value")) < 0)
			return -1;
	doc_foreach(id, ids)
		if (!tag_target(rq, id->d_str))
			return -1;
	doc_foreach(id, ids) {
		struct res *r = cache_get(api_cache(rq), id->d_str);
		struct doc *d = doc_clone(r->r_doc);
		struct doc *list = doc_get_list(d, "Tags");
		doc_foreach(t, tags) {
			const char *k = doc_get_str(t, "Key");
			const char *v = doc_get_str(t, "Value");
			struct doc *found = NULL;
			doc_foreach(e, list)
				if (strcmp(doc_get_str(e, "Key"), k) == 0)
					found = e;
			if (!found) {
				found = doc_push(list, doc_obj());
				doc_set_str(found, "Key", k);
			}
			doc_set_str(found, "Value", v ? v : "");
		}
		if ((long)list->d_count > quota_limit(rq->rq_api, Q_TAGS_PER_RESOURCE)) {
			doc_free(d);
			return api_fail(rq, "TagLimitExceeded", "The maximum number of tags for the resource '%s' is %d",
					id->d_str, (int)quota_limit(rq->rq_api, Q_TAGS_PER_RESOURCE));
		}
		if (!api_put(rq, r->r_type, id->d_str, d))
			return -1;
	}
	doc_set_bool(rq->rq_out, "Return", true);	/* not in the model's output; ignored */
	return 0;
}

int handle_DeleteTags(struct api_req *rq)
{
	const struct doc *ids = doc_get(rq->rq_in, "Resources");
	const struct doc *tags = doc_get(rq->rq_in, "Tags");
	if (!ids || !ids->d_count)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter ResourceId");
	doc_foreach(id, ids)
		if (!tag_target(rq, id->d_str))
			return -1;
	doc_foreach(id, ids) {
		struct res *r = cache_get(api_cache(rq), id->d_str);
		struct doc *d = doc_clone(r->r_doc);
		struct doc *list = doc_get_list(d, "Tags");
		for (struct doc *e = list->d_first; e;) {
			struct doc *next = e->d_next;
			bool drop = !tags || !tags->d_count;
			doc_foreach(t, tags) {
				const char *k = doc_get_str(t, "Key");
				const char *v = doc_get_str(t, "Value");
				if (k && strcmp(k, doc_get_str(e, "Key")) == 0 &&
				    (!v || strcmp(v, doc_get_str(e, "Value")) == 0))
					drop = true;
			}
			if (drop)
				doc_delete_child(list, e);
			e = next;
		}
		if (!api_put(rq, r->r_type, id->d_str, d))
			return -1;
	}
	return 0;
}

static bool values_contain(const struct doc *values, const char *s)
{
	doc_foreach(v, values)
		if (v->d_type == DOC_STR && strcmp(v->d_str, s) == 0)
			return true;
	return false;
}

int handle_DescribeTags(struct api_req *rq)
{
	/* cache types, and the names AWS gives them in ResourceType */
	static const struct {
		const char *cache, *aws;
	} types[] = {
		{ RT_VPC, "vpc" }, { RT_SUBNET, "subnet" }, { RT_ROUTE_TABLE, "route-table" },
		{ RT_IGW, "internet-gateway" }, { RT_NACL, "network-acl" }, { RT_SG, "security-group" },
		{ RT_SG_RULE, "security-group-rule" }, { RT_CGW, "customer-gateway" },
		{ RT_VGW, "vpn-gateway" }, { RT_VPN, "vpn-connection" }, { RT_INSTANCE, "instance" },
		{ RT_ENI, "network-interface" }, { RT_EIP, "elastic-ip" }, { RT_IMAGE, "image" },
		{ RT_NATGW, "natgateway" }, { RT_PCX, "vpc-peering-connection" },
		{ RT_DHCP, "dhcp-options" }, { RT_PREFIX_LIST, "prefix-list" }, { RT_VPCE, "vpc-endpoint" },
		{ RT_EIGW, "egress-only-internet-gateway" }, { RT_SCR, "subnet-cidr-reservation" },
	};
	const struct doc *filters = doc_get(rq->rq_in, "Filters");
	doc_foreach(f, filters) {
		const char *n = doc_get_str(f, "Name");
		if (!n || (strcmp(n, "key") && strcmp(n, "value") && strcmp(n, "resource-id") && strcmp(n, "resource-type")))
			return api_fail(rq, "InvalidParameterValue", "The filter '%.64s' is invalid", n ? n : "");
	}
	int64_t max = doc_get_int(rq->rq_in, "MaxResults", 1000);
	if (doc_get(rq->rq_in, "MaxResults") && (max < 5 || max > 1000))
		return api_fail(rq, "InvalidParameterValue",
				"Value ( %" PRId64 " ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", max);
	const char *token = doc_get_str(rq->rq_in, "NextToken");
	long skip = 0;
	if (token) {
		char *end;
		skip = strtol(token, &end, 10);
		if (*end || skip < 0)
			return api_fail(rq, "InvalidNextToken", "The token '%.80s' is invalid", token);
	}
	struct doc *out = doc_set(rq->rq_out, "Tags", doc_list());
	long index = 0;
	int64_t emitted = 0;
	for (size_t t = 0; t < ARRAY_LEN(types); t++) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), types[t].cache, &n);
		for (size_t i = 0; i < n; i++) {
			doc_foreach(tag, doc_get(list[i]->r_doc, "Tags")) {
				const char *k = doc_get_str(tag, "Key"), *v = doc_get_str(tag, "Value");
				bool ok = true;
				doc_foreach(f, filters) {
					const char *fn = doc_get_str(f, "Name");
					const char *what = strcmp(fn, "key") == 0 ? k : strcmp(fn, "value") == 0 ? v
							 : strcmp(fn, "resource-id") == 0 ? list[i]->r_id : types[t].aws;
					if (!values_contain(doc_get(f, "Values"), what))
						ok = false;
				}
				if (!ok || index++ < skip)
					continue;
				if (emitted == max) {
					char tok[32];
					snprintf(tok, sizeof(tok), "%ld", index - 1);
					doc_set_str(rq->rq_out, "NextToken", tok);
					return 0;
				}
				struct doc *td = doc_push(out, doc_obj());
				doc_set_str(td, "Key", k);
				doc_set_str(td, "ResourceId", list[i]->r_id);
				doc_set_str(td, "ResourceType", types[t].aws);
				doc_set_str(td, "Value", v ? v : "");
				emitted++;
			}
		}
	}
	return 0;
}
