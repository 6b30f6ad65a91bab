/*
 * sg.c — security groups and their rules: CreateSecurityGroup,
 * DescribeSecurityGroups, DeleteSecurityGroup, Authorize/Revoke
 * SecurityGroupIngress/Egress, DescribeSecurityGroupRules,
 * ModifySecurityGroupRules, UpdateSecurityGroupRuleDescriptionsIngress/
 * Egress; and sg_new(),
 * the constructor of a VPC's default group and of every new group.
 *
 * Layout. Each rule is its own resource (RT_SG_RULE, id "sgr-…") in the
 * shape of botocore's SecurityGroupRule: GroupId, IsEgress, IpProtocol,
 * FromPort/ToPort (-1 when the protocol has no ports), one peer (CidrIpv4,
 * CidrIpv6, PrefixListId or ReferencedGroupInfo), Description, Tags. The
 * data plane expands a prefix list into its CIDRs. The rules are the truth; a
 * group's IpPermissions/IpPermissionsEgress are derived from them
 * (sg_rebuild_permissions) after every change, grouped by protocol and
 * port range in rule creation order as AWS groups them, so that Describe
 * and its ip-permission.* filters read the group doc alone. A rule's peer
 * may be an IPv6 range (CidrIpv6): stored, described and revoked as AWS
 * does, though the data plane and the trace, which carry no IPv6 yet,
 * match nothing with it. A rule being
 * a resource gives it tags (CreateTags sgr-…) and paging for free.
 *
 * Protocols are kept as AWS returns them: "tcp", "udp", "icmp", "icmpv6",
 * "-1", or the number as text for any other protocol.
 *
 * A group's rules may only reference groups of the same VPC (no peering),
 * so a referenced group is found in the cache, never across accounts.
 * Cost: every change walks all rules once (O(rules)); fine for a control
 * plane of thousands.
 */
#include "api/quota.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define SG_NAME_MAX 255
#define SG_DESCRIPTION_MAX 255
#define PORT_MAX 65535

/* --- protocol and rule helpers -------------------------------------------- */

/* The protocol as AWS stores it in a group; false when invalid. */
static bool sg_protocol_name(const char *s, char *out, size_t len, int *num)
{
	int p = protocol_parse(s);
	if (p == -2)
		return false;
	*num = p;
	switch (p) {
	case -1: snprintf(out, len, "-1"); break;
	case 6: snprintf(out, len, "tcp"); break;
	case 17: snprintf(out, len, "udp"); break;
	case 1: snprintf(out, len, "icmp"); break;
	case 58: snprintf(out, len, "icmpv6"); break;
	default: snprintf(out, len, "%d", p); break;
	}
	return true;
}

static bool protocol_has_ports(const char *proto)
{
	return strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 || strcmp(proto, "icmp") == 0 ||
	       strcmp(proto, "icmpv6") == 0;
}

static const char *rule_ref_group(const struct doc *rule)
{
	return doc_get_str(doc_get(rule, "ReferencedGroupInfo"), "GroupId");
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Same rule as far as AWS's duplicate check goes (description aside). */
static bool rule_same(const struct doc *a, const struct doc *b)
{
	return doc_get_bool(a, "IsEgress", false) == doc_get_bool(b, "IsEgress", false) &&
	       str_eq(doc_get_str(a, "IpProtocol"), doc_get_str(b, "IpProtocol")) &&
	       doc_get_int(a, "FromPort", -1) == doc_get_int(b, "FromPort", -1) &&
	       doc_get_int(a, "ToPort", -1) == doc_get_int(b, "ToPort", -1) &&
	       str_eq(doc_get_str(a, "CidrIpv4"), doc_get_str(b, "CidrIpv4")) &&
	       str_eq(doc_get_str(a, "CidrIpv6"), doc_get_str(b, "CidrIpv6")) &&
	       str_eq(doc_get_str(a, "PrefixListId"), doc_get_str(b, "PrefixListId")) &&
	       str_eq(rule_ref_group(a), rule_ref_group(b));
}

/* The rule's peer: its CIDR, prefix list or referenced group. */
static const char *rule_peer(const struct doc *rule)
{
	static const char *const keys[] = { "CidrIpv4", "CidrIpv6", "PrefixListId" };
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (doc_get_str(rule, keys[i]))
			return doc_get_str(rule, keys[i]);
	return rule_ref_group(rule);
}

/* "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW", as AWS words it. */
static void rule_describe(const struct doc *rule, char *buf, size_t len)
{
	const char *peer = rule_peer(rule);
	const char *proto = doc_get_str(rule, "IpProtocol");
	long long from = (long long)doc_get_int(rule, "FromPort", -1), to = (long long)doc_get_int(rule, "ToPort", -1);
	char up[16];
	size_t i = 0;
	for (; proto[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(proto[i] >= 'a' && proto[i] <= 'z' ? proto[i] - 32 : proto[i]);
	up[i] = '\0';
	if (strcmp(proto, "-1") == 0)
		snprintf(buf, len, "peer: %s, ALL, ALLOW", peer);
	else if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0)
		snprintf(buf, len, "peer: %s, %s, from port: %lld, to port: %lld, ALLOW", peer, up, from, to);
	else if (strcmp(proto, "icmp") == 0 || strcmp(proto, "icmpv6") == 0)
		snprintf(buf, len, "peer: %s, %s, type: %lld, code: %lld, ALLOW", peer, up, from, to);
	else
		snprintf(buf, len, "peer: %s, %s, ALLOW", peer, up);
}

/* --- groups ------------------------------------------------------------------ */

static struct res *default_vpc(struct api_req *rq)
{
	size_t n;
	struct res **vpcs = cache_list(api_cache(rq), RT_VPC, &n);
	for (size_t i = 0; i < n; i++)
		if (doc_get_bool(vpcs[i]->r_doc, "IsDefault", false))
			return vpcs[i];
	return NULL;
}

static struct res *sg_by_name(struct api_req *rq, const char *vpc_id, const char *name)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_SG, &n);
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(list[i]->r_doc, "VpcId"), vpc_id) &&
		    str_eq(doc_get_str(list[i]->r_doc, "GroupName"), name))
			return list[i];
	return NULL;
}

static struct res *sg_by_id(struct api_req *rq, const char *id)
{
	struct res *g = cache_get_typed(api_cache(rq), RT_SG, id);
	if (!g)
		api_fail(rq, "InvalidGroup.NotFound", "The security group '%.64s' does not exist", id);
	return g;
}

/* A group named in the default VPC (EC2-Classic's heritage: names only
 * mean something there). */
static struct res *sg_by_default_vpc_name(struct api_req *rq, const char *name)
{
	struct res *vpc = default_vpc(rq);
	struct res *g = vpc ? sg_by_name(rq, vpc->r_id, name) : NULL;
	if (!g) {
		if (vpc)
			api_fail(rq, "InvalidGroup.NotFound", "The security group '%.64s' does not exist in default VPC '%s'",
				 name, vpc->r_id);
		else
			api_fail(rq, "VPCIdNotSpecified", "No default VPC for this user");
	}
	return g;
}

/* The group a request names by GroupId, or by GroupName when allowed. */
static struct res *sg_from_request(struct api_req *rq, bool by_name_allowed)
{
	const char *id = doc_get_str(rq->rq_in, "GroupId");
	if (id)
		return sg_by_id(rq, id);
	const char *name = by_name_allowed ? doc_get_str(rq->rq_in, "GroupName") : NULL;
	if (name)
		return sg_by_default_vpc_name(rq, name);
	api_fail(rq, "MissingParameter", "The request must contain the parameter groupName or groupId");
	return NULL;
}

/* Rewrites the group's IpPermissions/IpPermissionsEgress from its rules. */
static void sg_rebuild_permissions(struct api_req *rq, struct doc *group, const char *group_id)
{
	struct doc *lists[2] = { doc_set(group, "IpPermissions", doc_list()),
				 doc_set(group, "IpPermissionsEgress", doc_list()) };
	size_t n;
	struct res **rules = cache_list(api_cache(rq), RT_SG_RULE, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *r = rules[i]->r_doc;
		if (!str_eq(doc_get_str(r, "GroupId"), group_id))
			continue;
		struct doc *list = lists[doc_get_bool(r, "IsEgress", false) ? 1 : 0];
		const char *proto = doc_get_str(r, "IpProtocol");
		bool ports = protocol_has_ports(proto);
		int64_t from = doc_get_int(r, "FromPort", -1), to = doc_get_int(r, "ToPort", -1);
		struct doc *perm = NULL;
		doc_foreach(p, list)
			if (str_eq(doc_get_str(p, "IpProtocol"), proto) &&
			    (!ports || (doc_get_int(p, "FromPort", -1) == from && doc_get_int(p, "ToPort", -1) == to)))
				perm = p;
		if (!perm) {
			perm = doc_push(list, doc_obj());
			doc_set_str(perm, "IpProtocol", proto);
			if (ports) {
				doc_set_int(perm, "FromPort", from);
				doc_set_int(perm, "ToPort", to);
			}
			doc_get_list(perm, "IpRanges");
			doc_get_list(perm, "Ipv6Ranges");
			doc_get_list(perm, "PrefixListIds");
			doc_get_list(perm, "UserIdGroupPairs");
		}
		const char *desc = doc_get_str(r, "Description");
		const char *cidr = doc_get_str(r, "CidrIpv4"), *cidr6 = doc_get_str(r, "CidrIpv6");
		struct doc *item;
		if (cidr) {
			item = doc_push(doc_get_list(perm, "IpRanges"), doc_obj());
			doc_set_str(item, "CidrIp", cidr);
		} else if (cidr6) {
			item = doc_push(doc_get_list(perm, "Ipv6Ranges"), doc_obj());
			doc_set_str(item, "CidrIpv6", cidr6);
		} else if (doc_get_str(r, "PrefixListId")) {
			item = doc_push(doc_get_list(perm, "PrefixListIds"), doc_obj());
			doc_set_str(item, "PrefixListId", doc_get_str(r, "PrefixListId"));
		} else {
			const struct doc *ref = doc_get(r, "ReferencedGroupInfo");
			item = doc_push(doc_get_list(perm, "UserIdGroupPairs"), doc_obj());
			doc_set_str(item, "GroupId", doc_get_str(ref, "GroupId"));
			doc_set_str(item, "UserId", doc_get_str(ref, "UserId"));
			if (doc_get_str(ref, "VpcPeeringConnectionId")) {	/* a peer VPC's group */
				doc_set_str(item, "VpcId", doc_get_str(ref, "VpcId"));
				doc_set_str(item, "VpcPeeringConnectionId", doc_get_str(ref, "VpcPeeringConnectionId"));
				doc_set_str(item, "PeeringStatus", "active");
			}
			/* for the group-name filters; never on the wire */
			const char *gname = doc_get_str(ref, "_GroupName");
			if (gname)
				doc_set_str(item, "_GroupName", gname);
		}
		if (desc)
			doc_set_str(item, "Description", desc);
	}
}

/* Stores rule (ownership taken) under a new id; returns the cached doc. */
static struct doc *rule_put(struct api_req *rq, struct doc *rule)
{
	char id[RESOURCE_ID_MAX], arn[160];
	new_id("sgr", id);
	snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:security-group-rule/%s", api_region(rq), api_account(rq), id);
	doc_set_str(rule, "SecurityGroupRuleId", id);
	doc_set_str(rule, "SecurityGroupRuleArn", arn);
	if (!doc_get(rule, "Tags"))
		doc_get_list(rule, "Tags");
	return api_put(rq, RT_SG_RULE, id, rule);
}

static struct doc *rule_new(struct api_req *rq, const char *group_id, bool egress, const char *proto, int64_t from,
			    int64_t to)
{
	struct doc *r = doc_obj();
	doc_set_str(r, "GroupId", group_id);
	doc_set_str(r, "GroupOwnerId", api_account(rq));
	doc_set_bool(r, "IsEgress", egress);
	doc_set_str(r, "IpProtocol", proto);
	doc_set_int(r, "FromPort", from);
	doc_set_int(r, "ToPort", to);
	return r;
}

struct doc *sg_new(struct api_req *rq, const char *vpc_id, const char *name, const char *description,
		   bool is_default, char *id_out)
{
	char id[RESOURCE_ID_MAX], arn[160];
	new_id("sg", id);
	snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:security-group/%s", api_region(rq), api_account(rq), id);
	struct doc *d = doc_obj();
	doc_set_str(d, "GroupId", id);
	doc_set_str(d, "GroupName", name);
	doc_set_str(d, "Description", description);
	doc_set_str(d, "VpcId", vpc_id);
	doc_set_str(d, "OwnerId", api_account(rq));
	doc_set_str(d, "SecurityGroupArn", arn);
	/* the default group admits its own members; every group may send anywhere */
	if (is_default) {
		struct doc *self = rule_new(rq, id, false, "-1", -1, -1);
		struct doc *ref = doc_get_obj(self, "ReferencedGroupInfo");
		doc_set_str(ref, "GroupId", id);
		doc_set_str(ref, "UserId", api_account(rq));
		doc_set_str(ref, "_GroupName", name);
		rule_put(rq, self);
	}
	struct doc *out = rule_new(rq, id, true, "-1", -1, -1);
	doc_set_str(out, "CidrIpv4", "0.0.0.0/0");
	rule_put(rq, out);
	sg_rebuild_permissions(rq, d, id);
	doc_get_list(d, "Tags");
	strcpy(id_out, id);
	return d;
}

int handle_CreateSecurityGroup(struct api_req *rq)
{
	const char *name = api_require_str(rq, "GroupName");
	const char *desc = name ? api_require_str(rq, "Description") : NULL;
	if (!name || !desc)
		return -1;
	if (!*name || strlen(name) > SG_NAME_MAX)
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.64s) for parameter GroupName is invalid. Group names must be 1 to %d characters.",
				name, SG_NAME_MAX);
	if (strlen(desc) > SG_DESCRIPTION_MAX)
		return api_fail(rq, "InvalidParameterValue",
				"Value for parameter GroupDescription is invalid. Descriptions are at most %d characters.",
				SG_DESCRIPTION_MAX);
	if (quota_check(rq, Q_SECURITY_GROUPS, NULL, 1) < 0)
		return -1;
	if (strcmp(name, "default") == 0)
		return api_fail(rq, "InvalidParameterValue", "Cannot use reserved security group name: default");
	if (strncmp(name, "sg-", 3) == 0)
		return api_fail(rq, "InvalidParameterValue", "Group names may not be in the format sg-*.");
	struct res *vpc;
	if (doc_get_str(rq->rq_in, "VpcId")) {
		vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
		if (!vpc)
			return -1;
	} else if (!(vpc = default_vpc(rq))) {
		return api_fail(rq, "VPCIdNotSpecified", "No default VPC for this user");
	}
	if (sg_by_name(rq, vpc->r_id, name))
		return api_fail(rq, "InvalidGroup.Duplicate", "The security group '%.255s' already exists for VPC '%s'", name,
				vpc->r_id);
	char vpc_id[RESOURCE_ID_MAX], id[RESOURCE_ID_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", vpc->r_id);
	struct doc *d = sg_new(rq, vpc_id, name, desc, false, id);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_SG));
	struct doc *g = api_put(rq, RT_SG, id, d);
	if (!g)
		return -1;
	doc_set_str(rq->rq_out, "GroupId", id);
	doc_set_str(rq->rq_out, "SecurityGroupArn", doc_get_str(g, "SecurityGroupArn"));
	const struct doc *tags = doc_get(g, "Tags");
	if (tags && tags->d_count)
		doc_set(rq->rq_out, "Tags", doc_clone(tags));
	return 0;
}

/* --- DescribeSecurityGroups ------------------------------------------------ */

static const struct filter_def sg_filters[] = {
	{ "description", "Description" },
	{ "egress.ip-permission.cidr", "IpPermissionsEgress.IpRanges.CidrIp" },
	{ "egress.ip-permission.from-port", "IpPermissionsEgress.FromPort" },
	{ "egress.ip-permission.group-id", "IpPermissionsEgress.UserIdGroupPairs.GroupId" },
	{ "egress.ip-permission.group-name", "IpPermissionsEgress.UserIdGroupPairs._GroupName" },
	{ "egress.ip-permission.ipv6-cidr", "IpPermissionsEgress.Ipv6Ranges.CidrIpv6" },
	{ "egress.ip-permission.prefix-list-id", "IpPermissionsEgress.PrefixListIds.PrefixListId" },
	{ "egress.ip-permission.protocol", "IpPermissionsEgress.IpProtocol" },
	{ "egress.ip-permission.to-port", "IpPermissionsEgress.ToPort" },
	{ "egress.ip-permission.user-id", "IpPermissionsEgress.UserIdGroupPairs.UserId" },
	{ "group-id", "GroupId" },
	{ "group-name", "GroupName" },
	{ "ip-permission.cidr", "IpPermissions.IpRanges.CidrIp" },
	{ "ip-permission.from-port", "IpPermissions.FromPort" },
	{ "ip-permission.group-id", "IpPermissions.UserIdGroupPairs.GroupId" },
	{ "ip-permission.group-name", "IpPermissions.UserIdGroupPairs._GroupName" },
	{ "ip-permission.ipv6-cidr", "IpPermissions.Ipv6Ranges.CidrIpv6" },
	{ "ip-permission.prefix-list-id", "IpPermissions.PrefixListIds.PrefixListId" },
	{ "ip-permission.protocol", "IpPermissions.IpProtocol" },
	{ "ip-permission.to-port", "IpPermissions.ToPort" },
	{ "ip-permission.user-id", "IpPermissions.UserIdGroupPairs.UserId" },
	{ "vpc-id", "VpcId" },
	{ NULL, NULL },
};

/* Protocol filters take "6" as well as "tcp": values become the stored form.
 * The request doc is the dispatcher's own, not a cached doc. */
static void sg_normalise_protocol_filters(struct api_req *rq)
{
	doc_foreach(f, doc_get(rq->rq_in, "Filters")) {
		const char *name = doc_get_str(f, "Name");
		if (!name || (strcmp(name, "ip-permission.protocol") != 0 && strcmp(name, "egress.ip-permission.protocol") != 0))
			continue;
		doc_foreach(v, doc_get(f, "Values")) {
			char proto[16];
			int num;
			if (v->d_type != DOC_STR || strchr(v->d_str, '*') || strchr(v->d_str, '?') ||
			    !sg_protocol_name(v->d_str, proto, sizeof(proto), &num))
				continue;
			doc_str_replace(v, proto);
		}
	}
}

int handle_DescribeSecurityGroups(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_SG, "GroupIds", "InvalidGroup.NotFound", "security group", sg_filters, "SecurityGroups", true, 5, 1000, NULL,
	};
	doc_foreach(id, doc_get(rq->rq_in, "GroupIds"))
		if (id->d_type == DOC_STR && !sg_by_id(rq, id->d_str))
			return -1;
	/* names (default VPC) become ids */
	const struct doc *names = doc_get(rq->rq_in, "GroupNames");
	if (names && names->d_count) {
		struct doc *ids = doc_get_list(rq->rq_in, "GroupIds");
		doc_foreach(name, names) {
			struct res *g = name->d_type == DOC_STR ? sg_by_default_vpc_name(rq, name->d_str) : NULL;
			if (!g)
				return -1;
			doc_push(ids, doc_str(g->r_id));
		}
		doc_remove(rq->rq_in, "GroupNames");
	}
	sg_normalise_protocol_filters(rq);
	return api_describe(rq, &spec);
}

/* --- DeleteSecurityGroup ----------------------------------------------------- */

/* Anything besides the group itself that names it: a rule of another group,
 * a network interface or an instance. */
static const char *sg_dependent(struct api_req *rq, const char *group_id)
{
	size_t n;
	struct res **rules = cache_list(api_cache(rq), RT_SG_RULE, &n);
	for (size_t i = 0; i < n; i++) {
		const char *ref = rule_ref_group(rules[i]->r_doc);
		if (ref && strcmp(ref, group_id) == 0 && !str_eq(doc_get_str(rules[i]->r_doc, "GroupId"), group_id))
			return doc_get_str(rules[i]->r_doc, "GroupId");
	}
	static const struct {
		const char *type, *path;
	} users[] = { { "network-interface", "Groups" }, { "instance", "SecurityGroups" } };
	for (size_t t = 0; t < ARRAY_LEN(users); t++) {
		struct res **list = cache_list(api_cache(rq), users[t].type, &n);
		for (size_t i = 0; i < n; i++)
			doc_foreach(g, doc_get(list[i]->r_doc, users[t].path))
				if (str_eq(doc_get_str(g, "GroupId"), group_id))
					return list[i]->r_id;
	}
	return NULL;
}

/* Deletes every rule of the group (restarting the walk: the list moves). */
static int sg_delete_rules(struct api_req *rq, const char *group_id)
{
	for (;;) {
		size_t n;
		struct res **rules = cache_list(api_cache(rq), RT_SG_RULE, &n);
		const char *victim = NULL;
		for (size_t i = 0; i < n && !victim; i++)
			if (str_eq(doc_get_str(rules[i]->r_doc, "GroupId"), group_id))
				victim = rules[i]->r_id;
		if (!victim)
			return 0;
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", victim);
		if (api_delete(rq, id) < 0)
			return -1;
	}
}

int handle_DeleteSecurityGroup(struct api_req *rq)
{
	struct res *g = sg_from_request(rq, true);
	if (!g)
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", g->r_id);
	if (str_eq(doc_get_str(g->r_doc, "GroupName"), "default"))
		return api_fail(rq, "CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", id);
	if (sg_dependent(rq, id))
		return api_fail(rq, "DependencyViolation", "resource %s has a dependent object", id);
	if (sg_delete_rules(rq, id) < 0 || api_delete(rq, id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	doc_set_str(rq->rq_out, "GroupId", id);
	return 0;
}

/* --- permissions in requests ----------------------------------------------- */

/* The active peering connection between two VPCs (want: the one the
 * request names, else any), or NULL. */
static struct res *peering_between(struct api_req *rq, const char *a, const char *b, const char *want)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_PCX, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = list[i]->r_doc;
		const char *x = doc_get_str(doc_get(d, "RequesterVpcInfo"), "VpcId");
		const char *y = doc_get_str(doc_get(d, "AccepterVpcInfo"), "VpcId");
		if (pcx_is_active(d) && (!want || str_eq(want, list[i]->r_id)) &&
		    ((str_eq(x, a) && str_eq(y, b)) || (str_eq(x, b) && str_eq(y, a))))
			return list[i];
	}
	return NULL;
}

/* Resolves a UserIdGroupPair of a request to a group of the same VPC, or
 * of a VPC peered with it (*pcx_out: that connection's id, else NULL). */
static struct res *pair_group(struct api_req *rq, const struct doc *pair, const char *vpc_id, const char **pcx_out)
{
	*pcx_out = NULL;
	const char *gid = doc_get_str(pair, "GroupId");
	const char *gname = doc_get_str(pair, "GroupName");
	struct res *ref;
	if (gid) {
		if (!(ref = sg_by_id(rq, gid)))
			return NULL;
	} else if (gname) {
		if (!(ref = sg_by_name(rq, vpc_id, gname))) {
			api_fail(rq, "InvalidGroup.NotFound", "The security group '%.64s' does not exist in VPC '%s'", gname, vpc_id);
			return NULL;
		}
	} else {
		api_fail(rq, "MissingParameter", "A UserIdGroupPair must name a group: GroupId or GroupName");
		return NULL;
	}
	if (!str_eq(doc_get_str(ref->r_doc, "VpcId"), vpc_id)) {
		/* a group of a peer VPC (same region), as AWS allows */
		struct res *pcx = peering_between(rq, vpc_id, doc_get_str(ref->r_doc, "VpcId"),
						  doc_get_str(pair, "VpcPeeringConnectionId"));
		if (!pcx) {
			api_fail(rq, "InvalidGroup.NotFound", "You have specified two resources that belong to different networks.");
			return NULL;
		}
		*pcx_out = pcx->r_id;
	}
	return ref;
}

static int check_description(struct api_req *rq, const char *desc)
{
	if (desc && strlen(desc) > SG_DESCRIPTION_MAX)
		return api_fail(rq, "InvalidParameterValue", "Rule descriptions are at most %d characters", SG_DESCRIPTION_MAX);
	return 0;
}

/* Turns one IpPermission of a request into rules (appended to out, each in
 * rule shape without an id). */
static int perm_to_rules(struct api_req *rq, const struct doc *perm, const struct res *group, bool egress,
			 struct doc *out)
{
	const char *proto_s = doc_get_str(perm, "IpProtocol");
	if (!proto_s)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter ipProtocol");
	char proto[16];
	int num;
	if (!sg_protocol_name(proto_s, proto, sizeof(proto), &num))
		return api_fail(rq, "InvalidParameterValue", "Invalid value '%.32s' for IP protocol. Unknown protocol.", proto_s);
	bool has_from = doc_get(perm, "FromPort") != NULL, has_to = doc_get(perm, "ToPort") != NULL;
	int64_t from = doc_get_int(perm, "FromPort", -1), to = doc_get_int(perm, "ToPort", -1);
	if (num == 6 || num == 17) {
		if (!has_from || !has_to)
			return api_fail(rq, "InvalidParameterValue",
					"Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange");
		if (from < 0 || from > PORT_MAX || to < 0 || to > PORT_MAX || from > to)
			return api_fail(rq, "InvalidParameterValue", "Invalid TCP/UDP port range %lld-%lld: ports are 0-65535, from <= to",
					(long long)from, (long long)to);
	} else if (num == 1 || num == 58) {
		if (from < -1 || from > 255 || to < -1 || to > 255)
			return api_fail(rq, "InvalidParameterValue", "Invalid ICMP type %lld or code %lld: -1 (any) or 0-255",
					(long long)from, (long long)to);
		if (from == -1 && to != -1)
			return api_fail(rq, "InvalidParameterValue", "Invalid ICMP code %lld: a code needs a type", (long long)to);
	} else {
		from = to = -1;	/* all ports of the protocol */
	}
	const struct doc *v6 = doc_get(perm, "Ipv6Ranges"), *pl = doc_get(perm, "PrefixListIds");
	const struct doc *ranges = doc_get(perm, "IpRanges"), *pairs = doc_get(perm, "UserIdGroupPairs");
	if ((!ranges || !ranges->d_count) && (!pairs || !pairs->d_count) && (!v6 || !v6->d_count) && (!pl || !pl->d_count))
		return api_fail(rq, "MissingParameter",
				"The request must contain the parameter ipPermissions.ipRanges or ipPermissions.groups (a source or destination)");
	doc_foreach(item, pl) {
		struct res *list = prefix_list_require(rq, doc_get_str(item, "PrefixListId"));
		if (!list)
			return -1;
		const char *desc = doc_get_str(item, "Description");
		if (check_description(rq, desc) < 0)
			return -1;
		struct doc *r = doc_push(out, rule_new(rq, group->r_id, egress, proto, from, to));
		doc_set_str(r, "PrefixListId", list->r_id);
		if (desc)
			doc_set_str(r, "Description", desc);
	}
	const char *vpc_id = doc_get_str(group->r_doc, "VpcId");
	doc_foreach(range, ranges) {
		const char *cidr_s = doc_get_str(range, "CidrIp");
		struct cidr4 cidr;
		if (!cidr_s)
			return api_fail(rq, "MissingParameter", "The request must contain the parameter cidrIp");
		if (!cidr_parse(cidr_s, &cidr, NULL))
			return api_fail(rq, "InvalidParameterValue", "CIDR block %.64s is malformed", cidr_s);
		const char *desc = doc_get_str(range, "Description");
		if (check_description(rq, desc) < 0)
			return -1;
		char norm[CIDR_STR_MAX];
		cidr_format(&cidr, norm);
		struct doc *r = doc_push(out, rule_new(rq, group->r_id, egress, proto, from, to));
		doc_set_str(r, "CidrIpv4", norm);
		if (desc)
			doc_set_str(r, "Description", desc);
	}
	doc_foreach(range, v6) {
		const char *cidr_s = doc_get_str(range, "CidrIpv6");
		char norm[CIDR6_STR_MAX];
		if (!cidr_s)
			return api_fail(rq, "MissingParameter", "The request must contain the parameter cidrIpv6");
		if (!cidr6_normalise(cidr_s, norm))
			return api_fail(rq, "InvalidParameterValue", "CIDR block %.64s is malformed", cidr_s);
		const char *desc = doc_get_str(range, "Description");
		if (check_description(rq, desc) < 0)
			return -1;
		struct doc *r = doc_push(out, rule_new(rq, group->r_id, egress, proto, from, to));
		doc_set_str(r, "CidrIpv6", norm);
		if (desc)
			doc_set_str(r, "Description", desc);
	}
	doc_foreach(pair, pairs) {
		const char *pcx;
		struct res *ref = pair_group(rq, pair, vpc_id, &pcx);
		if (!ref)
			return -1;
		const char *desc = doc_get_str(pair, "Description");
		if (check_description(rq, desc) < 0)
			return -1;
		struct doc *r = doc_push(out, rule_new(rq, group->r_id, egress, proto, from, to));
		struct doc *info = doc_get_obj(r, "ReferencedGroupInfo");
		doc_set_str(info, "GroupId", ref->r_id);
		doc_set_str(info, "UserId", doc_get_str(ref->r_doc, "OwnerId"));
		doc_set_str(info, "_GroupName", doc_get_str(ref->r_doc, "GroupName"));
		if (pcx) {
			doc_set_str(info, "VpcId", doc_get_str(ref->r_doc, "VpcId"));
			doc_set_str(info, "VpcPeeringConnectionId", pcx);
			doc_set_str(info, "PeeringStatus", "active");
		}
		if (desc)
			doc_set_str(r, "Description", desc);
	}
	return 0;
}

/* All rules a request describes: IpPermissions and the older flat members
 * (CidrIp, IpProtocol, FromPort, ToPort, SourceSecurityGroupName). A flat
 * source group without a protocol means ICMP, TCP and UDP in full. */
static struct doc *request_rules(struct api_req *rq, const struct res *group, bool egress, bool need_some)
{
	struct doc *out = doc_list();
	doc_foreach(perm, doc_get(rq->rq_in, "IpPermissions"))
		if (perm_to_rules(rq, perm, group, egress, out) < 0)
			goto fail;
	const struct doc *in = rq->rq_in;
	const char *cidr = doc_get_str(in, "CidrIp"), *src = doc_get_str(in, "SourceSecurityGroupName");
	const char *proto = doc_get_str(in, "IpProtocol");
	if (cidr || src || proto) {
		if (cidr && src) {
			api_fail(rq, "InvalidParameterCombination", "You may specify either CidrIp or SourceSecurityGroupName, not both");
			goto fail;
		}
		static const char *const full[] = { "icmp", "tcp", "udp" };
		size_t nproto = (!proto && src) ? ARRAY_LEN(full) : 1;
		for (size_t i = 0; i < nproto; i++) {
			struct doc *perm = doc_obj();
			doc_set_str(perm, "IpProtocol", proto ? proto : src ? full[i] : "");
			if (!proto && src) {
				doc_set_int(perm, "FromPort", i == 0 ? -1 : 0);
				doc_set_int(perm, "ToPort", i == 0 ? -1 : PORT_MAX);
			} else {
				if (doc_get(in, "FromPort"))
					doc_set_int(perm, "FromPort", doc_get_int(in, "FromPort", -1));
				if (doc_get(in, "ToPort"))
					doc_set_int(perm, "ToPort", doc_get_int(in, "ToPort", -1));
			}
			if (cidr)
				doc_set_str(doc_push(doc_get_list(perm, "IpRanges"), doc_obj()), "CidrIp", cidr);
			if (src)
				doc_set_str(doc_push(doc_get_list(perm, "UserIdGroupPairs"), doc_obj()), "GroupName", src);
			int rc = perm_to_rules(rq, perm, group, egress, out);
			doc_free(perm);
			if (rc < 0)
				goto fail;
		}
	}
	if (need_some && !out->d_count) {
		api_fail(rq, "MissingParameter", "The request must contain the parameter ipPermissions");
		goto fail;
	}
	return out;
fail:
	doc_free(out);
	return NULL;
}

/* The group's existing rule equal to rule, or NULL. */
static struct res *rule_find(struct api_req *rq, const struct doc *rule)
{
	size_t n;
	struct res **rules = cache_list(api_cache(rq), RT_SG_RULE, &n);
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(rules[i]->r_doc, "GroupId"), doc_get_str(rule, "GroupId")) &&
		    rule_same(rules[i]->r_doc, rule))
			return rules[i];
	return NULL;
}

static size_t rules_in_direction(struct api_req *rq, const char *group_id, bool egress)
{
	size_t n, count = 0;
	struct res **rules = cache_list(api_cache(rq), RT_SG_RULE, &n);
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(rules[i]->r_doc, "GroupId"), group_id) &&
		    doc_get_bool(rules[i]->r_doc, "IsEgress", false) == egress)
			count++;
	return count;
}

static int sg_store_rebuilt(struct api_req *rq, const char *group_id)
{
	struct res *g = cache_get_typed(api_cache(rq), RT_SG, group_id);
	struct doc *d = doc_clone(g->r_doc);
	sg_rebuild_permissions(rq, d, group_id);
	return api_put(rq, RT_SG, group_id, d) ? 0 : -1;
}

/* --- Authorize --------------------------------------------------------------- */

static int sg_authorize(struct api_req *rq, bool egress)
{
	struct res *g = sg_from_request(rq, !egress);
	if (!g)
		return -1;
	char group_id[RESOURCE_ID_MAX];
	snprintf(group_id, sizeof(group_id), "%s", g->r_id);
	struct doc *wanted = request_rules(rq, g, egress, true);
	if (!wanted)
		return -1;
	int rc = -1;
	doc_foreach(r, wanted) {
		bool dup = rule_find(rq, r) != NULL;
		for (struct doc *o = wanted->d_first; o != r && !dup; o = o->d_next)
			dup = rule_same(o, r);
		if (dup) {
			char what[160];
			rule_describe(r, what, sizeof(what));
			api_fail(rq, "InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", what);
			goto out;
		}
	}
	if ((long)(rules_in_direction(rq, group_id, egress) + wanted->d_count) >
	    quota_limit(rq->rq_api, Q_RULES_PER_SECURITY_GROUP)) {
		api_fail(rq, "RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.");
		goto out;
	}
	struct doc *outlist = doc_set(rq->rq_out, "SecurityGroupRules", doc_list());
	doc_foreach(r, wanted) {
		struct doc *rule = doc_clone(r);
		doc_set(rule, "Tags", api_tags_from_spec(rq, RT_SG_RULE));
		struct doc *stored = rule_put(rq, rule);
		if (!stored)
			goto out;
		doc_push(outlist, doc_clone(stored));
	}
	if (sg_store_rebuilt(rq, group_id) < 0)
		goto out;
	doc_set_bool(rq->rq_out, "Return", true);
	rc = 0;
out:
	doc_free(wanted);
	return rc;
}

int handle_AuthorizeSecurityGroupIngress(struct api_req *rq)
{
	return sg_authorize(rq, false);
}

int handle_AuthorizeSecurityGroupEgress(struct api_req *rq)
{
	return sg_authorize(rq, true);
}

/* --- Revoke -------------------------------------------------------------------- */

static struct doc *revoked_item(const struct doc *rule)
{
	struct doc *d = doc_obj();
	static const char *const copy[] = { "SecurityGroupRuleId", "GroupId", "IpProtocol", "CidrIpv4", "CidrIpv6",
					    "PrefixListId", "Description" };
	for (size_t i = 0; i < ARRAY_LEN(copy); i++)
		if (doc_get_str(rule, copy[i]))
			doc_set_str(d, copy[i], doc_get_str(rule, copy[i]));
	doc_set_bool(d, "IsEgress", doc_get_bool(rule, "IsEgress", false));
	doc_set_int(d, "FromPort", doc_get_int(rule, "FromPort", -1));
	doc_set_int(d, "ToPort", doc_get_int(rule, "ToPort", -1));
	if (rule_ref_group(rule))
		doc_set_str(d, "ReferencedGroupId", rule_ref_group(rule));
	return d;
}

/* An IpPermission (as AWS lists unknown ones) for a rule that matched nothing. */
static struct doc *unknown_permission(const struct doc *rule)
{
	struct doc *p = doc_obj();
	const char *proto = doc_get_str(rule, "IpProtocol");
	doc_set_str(p, "IpProtocol", proto);
	if (protocol_has_ports(proto)) {
		doc_set_int(p, "FromPort", doc_get_int(rule, "FromPort", -1));
		doc_set_int(p, "ToPort", doc_get_int(rule, "ToPort", -1));
	}
	if (doc_get_str(rule, "CidrIpv4"))
		doc_set_str(doc_push(doc_get_list(p, "IpRanges"), doc_obj()), "CidrIp", doc_get_str(rule, "CidrIpv4"));
	if (doc_get_str(rule, "CidrIpv6"))
		doc_set_str(doc_push(doc_get_list(p, "Ipv6Ranges"), doc_obj()), "CidrIpv6", doc_get_str(rule, "CidrIpv6"));
	if (doc_get_str(rule, "PrefixListId"))
		doc_set_str(doc_push(doc_get_list(p, "PrefixListIds"), doc_obj()), "PrefixListId",
			    doc_get_str(rule, "PrefixListId"));
	if (rule_ref_group(rule))
		doc_set_str(doc_push(doc_get_list(p, "UserIdGroupPairs"), doc_obj()), "GroupId", rule_ref_group(rule));
	return p;
}

static int sg_revoke(struct api_req *rq, bool egress)
{
	const struct doc *rule_ids = doc_get(rq->rq_in, "SecurityGroupRuleIds");
	struct res *g;
	if (!doc_get_str(rq->rq_in, "GroupId") && !doc_get_str(rq->rq_in, "GroupName") && rule_ids && rule_ids->d_count &&
	    rule_ids->d_first->d_type == DOC_STR) {
		/* rule ids alone name their group */
		struct res *r = cache_get_typed(api_cache(rq), RT_SG_RULE, rule_ids->d_first->d_str);
		if (!r)
			return api_fail(rq, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%.64s' does not exist",
					rule_ids->d_first->d_str);
		g = sg_by_id(rq, doc_get_str(r->r_doc, "GroupId"));
	} else {
		g = sg_from_request(rq, !egress);
	}
	if (!g)
		return -1;
	char group_id[RESOURCE_ID_MAX];
	snprintf(group_id, sizeof(group_id), "%s", g->r_id);
	struct res *vpc = cache_get_typed(api_cache(rq), RT_VPC, doc_get_str(g->r_doc, "VpcId"));
	bool lenient = vpc && doc_get_bool(vpc->r_doc, "IsDefault", false);

	struct doc *victims = doc_list();	/* rule ids to delete */
	struct doc *unknown = doc_list();
	int rc = -1;
	doc_foreach(id, rule_ids) {
		struct res *r = id->d_type == DOC_STR ? cache_get_typed(api_cache(rq), RT_SG_RULE, id->d_str) : NULL;
		if (!r || !str_eq(doc_get_str(r->r_doc, "GroupId"), group_id) ||
		    doc_get_bool(r->r_doc, "IsEgress", false) != egress) {
			api_fail(rq, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%.64s' does not exist",
				 id->d_type == DOC_STR ? id->d_str : "");
			goto out;
		}
		doc_push(victims, doc_str(r->r_id));
	}
	struct doc *wanted = request_rules(rq, g, egress, !(rule_ids && rule_ids->d_count));
	if (!wanted)
		goto out;
	doc_foreach(w, wanted) {
		struct res *r = rule_find(rq, w);
		if (r) {
			doc_push(victims, doc_str(r->r_id));
		} else if (lenient) {
			doc_push(unknown, unknown_permission(w));
		} else {
			doc_free(wanted);
			api_fail(rq, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.");
			goto out;
		}
	}
	doc_free(wanted);
	struct doc *revoked = doc_list();
	doc_foreach(id, victims) {
		struct res *r = cache_get_typed(api_cache(rq), RT_SG_RULE, id->d_str);
		if (!r)
			continue;	/* named twice */
		doc_push(revoked, revoked_item(r->r_doc));
		if (api_delete(rq, id->d_str) < 0) {
			doc_free(revoked);
			goto out;
		}
	}
	doc_set(rq->rq_out, "RevokedSecurityGroupRules", revoked);
	if (sg_store_rebuilt(rq, group_id) < 0)
		goto out;
	doc_set_bool(rq->rq_out, "Return", true);
	if (unknown->d_count) {
		doc_set(rq->rq_out, "UnknownIpPermissions", unknown);
		unknown = NULL;
	}
	rc = 0;
out:
	doc_free(victims);
	doc_free(unknown);
	return rc;
}

int handle_RevokeSecurityGroupIngress(struct api_req *rq)
{
	return sg_revoke(rq, false);
}

int handle_RevokeSecurityGroupEgress(struct api_req *rq)
{
	return sg_revoke(rq, true);
}

/* --- DescribeSecurityGroupRules -------------------------------------------- */

static const struct filter_def sgr_filters[] = {
	{ "group-id", "GroupId" },
	{ "security-group-rule-id", "SecurityGroupRuleId" },
	{ NULL, NULL },
};

int handle_DescribeSecurityGroupRules(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_SG_RULE, "SecurityGroupRuleIds", "InvalidSecurityGroupRuleId.NotFound", "security group rule", sgr_filters,
		"SecurityGroupRules", true, 5, 1000, NULL,
	};
	return api_describe(rq, &spec);
}

/* --- ModifySecurityGroupRules, UpdateSecurityGroupRuleDescriptions* ---------- */

/* A SecurityGroupRuleRequest as the IpPermission perm_to_rules reads. */
static struct doc *rule_request_permission(const struct doc *req)
{
	struct doc *p = doc_obj();
	const char *proto = doc_get_str(req, "IpProtocol");
	if (proto)
		doc_set_str(p, "IpProtocol", proto);
	if (doc_get(req, "FromPort"))
		doc_set_int(p, "FromPort", doc_get_int(req, "FromPort", -1));
	if (doc_get(req, "ToPort"))
		doc_set_int(p, "ToPort", doc_get_int(req, "ToPort", -1));
	static const struct {
		const char *member, *list, *key;
	} peers[] = {
		{ "CidrIpv4", "IpRanges", "CidrIp" },
		{ "CidrIpv6", "Ipv6Ranges", "CidrIpv6" },
		{ "PrefixListId", "PrefixListIds", "PrefixListId" },
		{ "ReferencedGroupId", "UserIdGroupPairs", "GroupId" },
	};
	for (size_t i = 0; i < ARRAY_LEN(peers); i++) {
		const char *v = doc_get_str(req, peers[i].member);
		if (!v)
			continue;
		struct doc *item = doc_push(doc_get_list(p, peers[i].list), doc_obj());
		doc_set_str(item, peers[i].key, v);
		if (doc_get_str(req, "Description"))
			doc_set_str(item, "Description", doc_get_str(req, "Description"));
	}
	return p;
}

static size_t rule_peer_count(const struct doc *req)
{
	static const char *const keys[] = { "CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupId" };
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		n += doc_get_str(req, keys[i]) != NULL;
	return n;
}

int handle_ModifySecurityGroupRules(struct api_req *rq)
{
	const char *gid = api_require_str(rq, "GroupId");
	if (!gid)
		return -1;
	struct res *g = sg_by_id(rq, gid);
	if (!g)
		return -1;
	char group_id[RESOURCE_ID_MAX];
	snprintf(group_id, sizeof(group_id), "%s", g->r_id);
	const struct doc *updates = doc_get(rq->rq_in, "SecurityGroupRules");
	if (!updates || !updates->d_count)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter SecurityGroupRule");
	doc_foreach(u, updates) {
		const char *rid = doc_get_str(u, "SecurityGroupRuleId");
		const struct doc *req = doc_get(u, "SecurityGroupRule");
		if (!rid)
			return api_fail(rq, "MissingParameter", "The request must contain the parameter SecurityGroupRuleId");
		struct res *r = cache_get_typed(api_cache(rq), RT_SG_RULE, rid);
		if (!r || !str_eq(doc_get_str(r->r_doc, "GroupId"), group_id))
			return api_fail(rq, "InvalidSecurityGroupRuleId.NotFound",
					"The security group rule ID '%.64s' does not exist", rid);
		if (!req)
			return api_fail(rq, "MissingParameter", "The request must contain the parameter SecurityGroupRule");
		if (rule_peer_count(req) != 1)
			return api_fail(rq, "InvalidParameterCombination",
					"Exactly one of CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId must be specified.");
		bool egress = doc_get_bool(r->r_doc, "IsEgress", false);
		struct doc *perm = rule_request_permission(req);
		struct doc *made = doc_list();
		int rc = perm_to_rules(rq, perm, g, egress, made);
		doc_free(perm);
		if (rc < 0 || made->d_count != 1) {
			doc_free(made);
			return rc < 0 ? -1 : api_fail(rq, "InvalidParameterValue", "The rule must have exactly one peer.");
		}
		struct doc *rule = made->d_first;
		struct res *same = rule_find(rq, rule);
		if (same && !str_eq(same->r_id, rid)) {
			char what[160];
			rule_describe(rule, what, sizeof(what));
			doc_free(made);
			return api_fail(rq, "InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", what);
		}
		/* the rule keeps its id, ARN and tags; the rest is the request's */
		struct doc *d = doc_clone(rule);
		doc_free(made);
		static const char *const keep[] = { "SecurityGroupRuleId", "SecurityGroupRuleArn" };
		for (size_t i = 0; i < ARRAY_LEN(keep); i++)
			if (doc_get_str(r->r_doc, keep[i]))
				doc_set_str(d, keep[i], doc_get_str(r->r_doc, keep[i]));
		doc_set(d, "Tags", doc_clone(doc_get(r->r_doc, "Tags")));
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", r->r_id);
		if (!api_put(rq, RT_SG_RULE, id, d))
			return -1;
	}
	if (sg_store_rebuilt(rq, group_id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

static int sg_update_descriptions(struct api_req *rq, bool egress)
{
	struct res *g = sg_from_request(rq, true);
	if (!g)
		return -1;
	char group_id[RESOURCE_ID_MAX];
	snprintf(group_id, sizeof(group_id), "%s", g->r_id);
	const struct doc *by_id = doc_get(rq->rq_in, "SecurityGroupRuleDescriptions");
	const struct doc *perms = doc_get(rq->rq_in, "IpPermissions");
	if ((!by_id || !by_id->d_count) && (!perms || !perms->d_count))
		return api_fail(rq, "MissingParameter", "The request must contain the parameter ipPermissions");
	doc_foreach(item, by_id) {
		const char *rid = doc_get_str(item, "SecurityGroupRuleId");
		struct res *r = rid ? cache_get_typed(api_cache(rq), RT_SG_RULE, rid) : NULL;
		if (!r || !str_eq(doc_get_str(r->r_doc, "GroupId"), group_id) ||
		    doc_get_bool(r->r_doc, "IsEgress", false) != egress)
			return api_fail(rq, "InvalidSecurityGroupRuleId.NotFound",
					"The security group rule ID '%.64s' does not exist", rid ? rid : "");
		const char *desc = doc_get_str(item, "Description");
		if (check_description(rq, desc) < 0)
			return -1;
		struct doc *d = doc_clone(r->r_doc);
		if (desc && *desc)
			doc_set_str(d, "Description", desc);
		else
			doc_remove(d, "Description");
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", r->r_id);
		if (!api_put(rq, RT_SG_RULE, id, d))
			return -1;
	}
	struct doc *wanted = doc_list();
	doc_foreach(perm, perms)
		if (perm_to_rules(rq, perm, g, egress, wanted) < 0) {
			doc_free(wanted);
			return -1;
		}
	doc_foreach(w, wanted) {
		struct res *r = rule_find(rq, w);
		if (!r) {
			doc_free(wanted);
			return api_fail(rq, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.");
		}
		struct doc *d = doc_clone(r->r_doc);
		const char *desc = doc_get_str(w, "Description");
		if (desc && *desc)
			doc_set_str(d, "Description", desc);
		else
			doc_remove(d, "Description");
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", r->r_id);
		if (!api_put(rq, RT_SG_RULE, id, d)) {
			doc_free(wanted);
			return -1;
		}
	}
	doc_free(wanted);
	if (sg_store_rebuilt(rq, group_id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_UpdateSecurityGroupRuleDescriptionsIngress(struct api_req *rq)
{
	return sg_update_descriptions(rq, false);
}

int handle_UpdateSecurityGroupRuleDescriptionsEgress(struct api_req *rq)
{
	return sg_update_descriptions(rq, true);
}
