/*
 * vpc.c — VPCs and the objects each one is born with: CreateVpc,
 * DescribeVpcs, DeleteVpc, ModifyVpcAttribute, DescribeVpcAttribute,
 * ModifyVpcTenancy, and
 * the account's default VPC.
 */
#include "api/quota.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

struct doc *rtb_new(struct api_req *rq, const char *vpc_id, const char *vpc_cidr, bool main, char *id_out)
{
	char id[RESOURCE_ID_MAX], assoc[RESOURCE_ID_MAX];
	new_id("rtb", id);
	struct doc *d = doc_obj();
	doc_set_str(d, "RouteTableId", id);
	doc_set_str(d, "VpcId", vpc_id);
	doc_set_str(d, "OwnerId", api_account(rq));
	struct doc *route = doc_push(doc_get_list(d, "Routes"), doc_obj());
	doc_set_str(route, "DestinationCidrBlock", vpc_cidr);
	doc_set_str(route, "GatewayId", "local");
	doc_set_str(route, "Origin", "CreateRouteTable");
	doc_set_str(route, "State", "active");
	struct doc *assocs = doc_get_list(d, "Associations");
	if (main) {
		new_id("rtbassoc", assoc);
		struct doc *a = doc_push(assocs, doc_obj());
		doc_set_bool(a, "Main", true);
		doc_set_str(a, "RouteTableAssociationId", assoc);
		doc_set_str(a, "RouteTableId", id);
		doc_set_str(doc_get_obj(a, "AssociationState"), "State", "associated");
	}
	doc_get_list(d, "PropagatingVgws");
	doc_get_list(d, "Tags");
	strcpy(id_out, id);
	return d;
}

static void nacl_add_entry(struct doc *entries, int number, bool egress, bool allow)
{
	struct doc *e = doc_push(entries, doc_obj());
	doc_set_str(e, "CidrBlock", "0.0.0.0/0");
	doc_set_bool(e, "Egress", egress);
	doc_set_str(e, "Protocol", "-1");
	doc_set_str(e, "RuleAction", allow ? "allow" : "deny");
	doc_set_int(e, "RuleNumber", number);
}

struct doc *nacl_new(struct api_req *rq, const char *vpc_id, bool is_default, char *id_out)
{
	char id[RESOURCE_ID_MAX];
	new_id("acl", id);
	struct doc *d = doc_obj();
	doc_set_str(d, "NetworkAclId", id);
	doc_set_str(d, "VpcId", vpc_id);
	doc_set_bool(d, "IsDefault", is_default);
	doc_set_str(d, "OwnerId", api_account(rq));
	struct doc *entries = doc_get_list(d, "Entries");
	/* AWS lists egress entries first, each direction in rule order */
	for (int egress = 1; egress >= 0; egress--) {
		if (is_default)
			nacl_add_entry(entries, 100, egress, true);
		nacl_add_entry(entries, NACL_RULE_DEFAULT_DENY, egress, false);
	}
	doc_get_list(d, "Associations");
	doc_get_list(d, "Tags");
	strcpy(id_out, id);
	return d;
}

/* sg_new() lives in sg.c, beside the rules it creates. */

static struct res *vpc_find_child(struct api_req *rq, const char *type, const char *vpc_id,
				  bool (*pred)(const struct doc *))
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), type, &n);
	for (size_t i = 0; i < n; i++) {
		const char *v = doc_get_str(list[i]->r_doc, "VpcId");
		if (v && strcmp(v, vpc_id) == 0 && pred(list[i]->r_doc))
			return list[i];
	}
	return NULL;
}

static bool rtb_is_main(const struct doc *d)
{
	doc_foreach(a, doc_get(d, "Associations"))
		if (doc_get_bool(a, "Main", false))
			return true;
	return false;
}

static bool nacl_is_default(const struct doc *d) { return doc_get_bool(d, "IsDefault", false); }

static bool sg_is_default(const struct doc *d)
{
	const char *n = doc_get_str(d, "GroupName");
	return n && strcmp(n, "default") == 0;
}

struct res *vpc_main_route_table(struct api_req *rq, const char *vpc_id)
{
	return vpc_find_child(rq, RT_ROUTE_TABLE, vpc_id, rtb_is_main);
}

struct res *vpc_default_nacl(struct api_req *rq, const char *vpc_id)
{
	return vpc_find_child(rq, RT_NACL, vpc_id, nacl_is_default);
}

struct res *vpc_default_sg(struct api_req *rq, const char *vpc_id)
{
	return vpc_find_child(rq, RT_SG, vpc_id, sg_is_default);
}

struct doc *vpc_create(struct api_req *rq, const struct cidr4 *cidr, const char *tenancy, bool is_default,
		       struct doc *tags)
{
	char id[RESOURCE_ID_MAX], assoc[RESOURCE_ID_MAX], cidr_s[CIDR_STR_MAX], child[RESOURCE_ID_MAX];
	const char *dhcp = dhcp_default_set(rq);
	if (!dhcp) {
		doc_free(tags);
		return NULL;
	}
	new_id("vpc", id);
	new_id("vpc-cidr-assoc", assoc);
	cidr_format(cidr, cidr_s);
	struct doc *d = doc_obj();
	doc_set_str(d, "VpcId", id);
	doc_set_str(d, "OwnerId", api_account(rq));
	doc_set_str(d, "InstanceTenancy", tenancy);
	doc_set_str(d, "CidrBlock", cidr_s);
	doc_set_str(d, "DhcpOptionsId", dhcp);
	doc_set_str(d, "State", "available");
	doc_set_bool(d, "IsDefault", is_default);
	struct doc *a = doc_push(doc_get_list(d, "CidrBlockAssociationSet"), doc_obj());
	doc_set_str(a, "AssociationId", assoc);
	doc_set_str(a, "CidrBlock", cidr_s);
	doc_set_str(doc_get_obj(a, "CidrBlockState"), "State", "associated");
	doc_get_list(d, "Ipv6CidrBlockAssociationSet");
	doc_set(d, "Tags", tags);
	/* attributes that DescribeVpcAttribute answers */
	doc_set_bool(d, "_EnableDnsSupport", true);
	doc_set_bool(d, "_EnableDnsHostnames", is_default);
	doc_set_bool(d, "_EnableNetworkAddressUsageMetrics", false);
	struct doc *vpc = api_put(rq, RT_VPC, id, d);
	if (!vpc)
		return NULL;
	struct doc *rtb = rtb_new(rq, id, cidr_s, true, child);
	if (!api_put(rq, RT_ROUTE_TABLE, child, rtb))
		return NULL;
	if (!api_put(rq, RT_NACL, child, nacl_new(rq, id, true, child)))
		return NULL;
	if (!api_put(rq, RT_SG, child, sg_new(rq, id, "default", "default VPC security group", true, child)))
		return NULL;
	return vpc;
}

int vpc_parse_block(struct api_req *rq, const char *member, const char *text, struct cidr4 *out,
		       const char *range_code)
{
	if (!cidr_parse(text, out, NULL))
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.64s) for parameter %s is invalid. This is not a valid CIDR block.", text, member);
	if (out->c_len < VPC_PREFIX_MIN || out->c_len > VPC_PREFIX_MAX)
		return api_fail(rq, range_code, "The CIDR '%.64s' is invalid.", text);
	return 0;
}


int handle_CreateVpc(struct api_req *rq)
{
	const char *cidr_s = api_require_str(rq, "CidrBlock");
	if (!cidr_s)
		return -1;
	struct cidr4 cidr;
	if (vpc_parse_block(rq, "cidrBlock", cidr_s, &cidr, "InvalidVpc.Range") < 0)
		return -1;
	const char *tenancy = doc_get_str(rq->rq_in, "InstanceTenancy");
	if (!tenancy)
		tenancy = "default";
	if (strcmp(tenancy, "default") != 0 && strcmp(tenancy, "dedicated") != 0)
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.32s) for parameter instanceTenancy is invalid. Valid values: default, dedicated", tenancy);
	if (doc_get_bool(rq->rq_in, "AmazonProvidedIpv6CidrBlock", false))
		return api_fail(rq, "InvalidParameterValue", "vpcd does not provide IPv6 blocks yet");
	if (quota_check(rq, Q_VPCS, NULL, 1) < 0)
		return -1;
	struct doc *vpc = vpc_create(rq, &cidr, tenancy, false, api_tags_from_spec(rq, RT_VPC));
	if (!vpc)
		return -1;
	doc_set(rq->rq_out, "Vpc", doc_clone(vpc));
	doc_set_str(doc_get(rq->rq_out, "Vpc"), "State", "pending");	/* as AWS answers a create */
	return 0;
}

static const struct filter_def vpc_filters[] = {
	{ "vpc-id", "VpcId" },
	{ "cidr", "CidrBlock" },
	{ "cidr-block-association.cidr-block", "CidrBlockAssociationSet.CidrBlock" },
	{ "cidr-block-association.association-id", "CidrBlockAssociationSet.AssociationId" },
	{ "cidr-block-association.state", "CidrBlockAssociationSet.CidrBlockState.State" },
	{ "dhcp-options-id", "DhcpOptionsId" },
	{ "ipv6-cidr-block-association.ipv6-cidr-block", "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock" },
	{ "ipv6-cidr-block-association.ipv6-pool", "Ipv6CidrBlockAssociationSet.Ipv6Pool" },
	{ "ipv6-cidr-block-association.association-id", "Ipv6CidrBlockAssociationSet.AssociationId" },
	{ "ipv6-cidr-block-association.state", "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State" },
	{ "is-default", "IsDefault" },
	{ "isDefault", "IsDefault" },	/* the attribute's name, as AWS also takes it (Terraform's aws_default_vpc) */
	{ "state", "State" },
	{ "instance-tenancy", "InstanceTenancy" },
	{ NULL, NULL },
};

int handle_DescribeVpcs(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_VPC, "VpcIds", "InvalidVpcID.NotFound", "vpc", vpc_filters, "Vpcs", true, 5, 1000, NULL,
	};
	return api_describe(rq, &spec);
}

/* Children that keep a VPC from being deleted (besides its defaults). */
static const char *vpc_dependent(struct api_req *rq, const char *vpc_id)
{
	static const char *const types[] = { RT_SUBNET, RT_ROUTE_TABLE, RT_NACL, RT_SG, RT_VPCE };
	for (size_t t = 0; t < ARRAY_LEN(types); t++) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), types[t], &n);
		for (size_t i = 0; i < n; i++) {
			const char *v = doc_get_str(list[i]->r_doc, "VpcId");
			if (!v || strcmp(v, vpc_id) != 0)
				continue;
			if ((strcmp(types[t], RT_ROUTE_TABLE) == 0 && rtb_is_main(list[i]->r_doc)) ||
			    (strcmp(types[t], RT_NACL) == 0 && nacl_is_default(list[i]->r_doc)) ||
			    (strcmp(types[t], RT_SG) == 0 && sg_is_default(list[i]->r_doc)))
				continue;
			return list[i]->r_id;
		}
	}
	static const char *const attached[] = { RT_IGW, RT_VGW, RT_EIGW };
	for (size_t t = 0; t < ARRAY_LEN(attached); t++) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), attached[t], &n);
		for (size_t i = 0; i < n; i++) {
			doc_foreach(a, doc_get(list[i]->r_doc, attached[t] == attached[1] ? "VpcAttachments" : "Attachments")) {
				const char *v = doc_get_str(a, "VpcId");
				const char *st = doc_get_str(a, "State");
				if (v && strcmp(v, vpc_id) == 0 && (!st || strcmp(st, "detached") != 0))
					return list[i]->r_id;
			}
		}
	}
	return NULL;
}

int handle_DeleteVpc(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", vpc->r_id);
	const char *dep = vpc_dependent(rq, id);
	if (dep) {
		/* AWS's words, nothing appended; which dependency goes to the log */
		log_debug("api", "DeleteVpc %s: %s depends on it", id, dep);
		return api_fail(rq, "DependencyViolation", "The vpc '%s' has dependencies and cannot be deleted.", id);
	}
	struct res *r;
	/* the default group's rules are resources of their own (sg.c) */
	if ((r = vpc_default_sg(rq, id))) {
		char sg_id[RESOURCE_ID_MAX];
		snprintf(sg_id, sizeof(sg_id), "%s", r->r_id);
		size_t n;
		struct res **rules;
		while ((rules = cache_list(api_cache(rq), RT_SG_RULE, &n)) && n) {
			const char *victim = NULL;
			for (size_t i = 0; i < n && !victim; i++) {
				const char *g = doc_get_str(rules[i]->r_doc, "GroupId");
				if (g && strcmp(g, sg_id) == 0)
					victim = rules[i]->r_id;
			}
			if (!victim)
				break;
			char rule_id[RESOURCE_ID_MAX];	/* api_delete frees the cached id */
			snprintf(rule_id, sizeof(rule_id), "%s", victim);
			if (api_delete(rq, rule_id) < 0)
				return -1;
		}
	}
	while ((r = vpc_main_route_table(rq, id)) || (r = vpc_default_nacl(rq, id)) || (r = vpc_default_sg(rq, id))) {
		char child[RESOURCE_ID_MAX];	/* api_delete frees the cached id */
		snprintf(child, sizeof(child), "%s", r->r_id);
		if (api_delete(rq, child) < 0)
			return -1;
	}
	if (api_delete(rq, id) < 0)
		return -1;
	/* its peering connections go with it, as on AWS */
	if (pcx_delete_for_vpc(rq, id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

static const struct {
	const char *va_member;	/* request member and DescribeVpcAttribute Attribute value */
	const char *va_attr;	/* Attribute value */
	const char *va_key;	/* doc key */
} vpc_attrs[] = {
	{ "EnableDnsSupport", "enableDnsSupport", "_EnableDnsSupport" },
	{ "EnableDnsHostnames", "enableDnsHostnames", "_EnableDnsHostnames" },
	{ "EnableNetworkAddressUsageMetrics", "enableNetworkAddressUsageMetrics", "_EnableNetworkAddressUsageMetrics" },
};

int handle_ModifyVpcAttribute(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	int given = 0;
	struct doc *d = doc_clone(vpc->r_doc);
	for (size_t i = 0; i < ARRAY_LEN(vpc_attrs); i++) {
		struct doc *v = doc_get(rq->rq_in, vpc_attrs[i].va_member);
		if (!v)
			continue;
		given++;
		doc_set_bool(d, vpc_attrs[i].va_key, doc_get_bool(v, "Value", false));
	}
	if (given != 1) {
		doc_free(d);
		return api_fail(rq, "InvalidParameterCombination",
				"Exactly one attribute must be modified per request (EnableDnsSupport, EnableDnsHostnames or EnableNetworkAddressUsageMetrics)");
	}
	if (doc_get_bool(d, "_EnableDnsHostnames", false) && !doc_get_bool(d, "_EnableDnsSupport", true)) {
		doc_free(d);
		return api_fail(rq, "InvalidParameterValue",
				"enableDnsHostnames cannot be true while enableDnsSupport is false");
	}
	if (!api_put(rq, RT_VPC, vpc->r_id, d))
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_DescribeVpcAttribute(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	const char *attr = api_require_str(rq, "Attribute");
	if (!attr)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(vpc_attrs); i++) {
		if (strcmp(attr, vpc_attrs[i].va_attr) != 0)
			continue;
		doc_set_str(rq->rq_out, "VpcId", vpc->r_id);
		doc_set_bool(doc_set(rq->rq_out, vpc_attrs[i].va_member, doc_obj()), "Value",
			     doc_get_bool(vpc->r_doc, vpc_attrs[i].va_key, false));
		return 0;
	}
	return api_fail(rq, "InvalidParameterValue",
			"Value (%.64s) for parameter attribute is invalid. Valid values: enableDnsSupport, enableDnsHostnames, enableNetworkAddressUsageMetrics",
			attr);
}


/* ModifyVpcTenancy: only dedicated -> default, as AWS allows; instances
 * launched before keep theirs. */
int handle_ModifyVpcTenancy(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	const char *tenancy = api_require_str(rq, "InstanceTenancy");
	if (!tenancy)
		return -1;
	if (strcmp(tenancy, "default") != 0)
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.32s) for parameter instanceTenancy is invalid. Valid values: default", tenancy);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", vpc->r_id);
	struct doc *d = doc_clone(vpc->r_doc);
	doc_set_str(d, "InstanceTenancy", "default");
	if (!api_put(rq, RT_VPC, id, d))
		return -1;
	doc_set_bool(rq->rq_out, "ReturnValue", true);
	return 0;
}
