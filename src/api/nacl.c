/*
 * nacl.c — network ACLs: CreateNetworkAcl, DescribeNetworkAcls,
 * DeleteNetworkAcl, CreateNetworkAclEntry, ReplaceNetworkAclEntry,
 * DeleteNetworkAclEntry, ReplaceNetworkAclAssociation.
 *
 * Layout (resources.h): an ACL doc holds its Entries (botocore
 * NetworkAclEntry shape); its Associations (one per subnet) live in the
 * subnets' docs (subnet_nacl_id) and are listed when the ACL is described
 * (nacl_decorate, before the filters). Entries are
 * kept in the order AWS lists them: egress before ingress, each direction
 * by rule number; the "*" rule (32767) of each direction is an ordinary
 * entry that no action may touch. Protocols are stored as AWS stores them,
 * as number strings ("6", "-1"). Every subnet is associated with exactly
 * one ACL of its VPC; this file only ever moves an association, never drops
 * one (DeleteSubnet does that).
 */
#include "api/quota.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"

#define NACL_ENTRIES_PER_DIRECTION_MAX 20	/* AWS's default quota, "*" excluded */
#define PORT_MAX 65535

static struct res *nacl_require(struct api_req *rq)
{
	return api_require(rq, "NetworkAclId", RT_NACL, "InvalidNetworkAclID.NotFound", "networkAcl");
}

int handle_CreateNetworkAcl(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	const char *token = doc_get_str(rq->rq_in, "ClientToken");
	if (token) {
		/* idempotent retry: the ACL this token made before */
		size_t n;
		struct res **list = cache_list(api_cache(rq), RT_NACL, &n);
		for (size_t i = 0; i < n; i++) {
			const char *t = doc_get_str(list[i]->r_doc, "_ClientToken");
			if (t && strcmp(t, token) == 0) {
				doc_set(rq->rq_out, "NetworkAcl", doc_clone(list[i]->r_doc));
				doc_set_str(rq->rq_out, "ClientToken", token);
				return 0;
			}
		}
	}
	if (quota_check(rq, Q_NETWORK_ACLS_PER_VPC, vpc->r_id, 1) < 0)
		return -1;
	char id[RESOURCE_ID_MAX];
	struct doc *d = nacl_new(rq, vpc->r_id, false, id);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_NACL));
	if (token)
		doc_set_str(d, "_ClientToken", token);
	struct doc *acl = api_put(rq, RT_NACL, id, d);
	if (!acl)
		return -1;
	doc_set(rq->rq_out, "NetworkAcl", doc_clone(acl));
	if (token)
		doc_set_str(rq->rq_out, "ClientToken", token);
	return 0;
}

static const struct filter_def nacl_filters[] = {
	{ "association.association-id", "Associations.NetworkAclAssociationId" },
	{ "association.network-acl-id", "Associations.NetworkAclId" },
	{ "association.subnet-id", "Associations.SubnetId" },
	{ "default", "IsDefault" },
	{ "entry.cidr", "Entries.CidrBlock" },
	{ "entry.icmp.code", "Entries.IcmpTypeCode.Code" },
	{ "entry.icmp.type", "Entries.IcmpTypeCode.Type" },
	{ "entry.ipv6-cidr", "Entries.Ipv6CidrBlock" },
	{ "entry.port-range.from", "Entries.PortRange.From" },
	{ "entry.port-range.to", "Entries.PortRange.To" },
	{ "entry.protocol", "Entries.Protocol" },
	{ "entry.rule-action", "Entries.RuleAction" },
	{ "entry.egress", "Entries.Egress" },
	{ "entry.rule-number", "Entries.RuleNumber" },
	{ "network-acl-id", "NetworkAclId" },
	{ "vpc-id", "VpcId" },
	{ NULL, NULL },
};

/* entry.protocol takes names ("tcp") as well as numbers; entries hold
 * numbers, so names in the request's filter values become numbers. The
 * request doc is the dispatcher's, not a cached one: editing it is fine. */
static void nacl_normalise_protocol_filter(struct api_req *rq)
{
	doc_foreach(f, doc_get(rq->rq_in, "Filters")) {
		const char *name = doc_get_str(f, "Name");
		if (!name || strcmp(name, "entry.protocol") != 0)
			continue;
		doc_foreach(v, doc_get(f, "Values")) {
			if (v->d_type != DOC_STR || strchr(v->d_str, '*') || strchr(v->d_str, '?'))
				continue;
			int p = protocol_parse(v->d_str);
			if (p == -2)
				continue;
			char num[8];
			snprintf(num, sizeof(num), "%d", p);
			doc_str_replace(v, num);
		}
	}
}

/* Is any subnet associated with acl_id? */
static bool nacl_has_subnets(struct cache *c, const char *acl_id)
{
	size_t n;
	struct res **subnets = cache_list(c, RT_SUBNET, &n);
	for (size_t i = 0; i < n; i++) {
		const char *a = subnet_nacl_id(subnets[i]->r_doc);
		if (a && strcmp(a, acl_id) == 0)
			return true;
	}
	return false;
}

/* The ACL's Associations, from the subnets of its VPC, in their order. */
static void nacl_decorate(struct api_req *rq, struct doc *item)
{
	const char *acl_id = doc_get_str(item, "NetworkAclId");
	const char *vpc_id = doc_get_str(item, "VpcId");
	struct doc *list = doc_list();
	size_t n;
	struct res **subnets = cache_list(api_cache(rq), RT_SUBNET, &n);
	for (size_t i = 0; acl_id && i < n; i++) {
		const struct doc *sd = subnets[i]->r_doc;
		const char *a = subnet_nacl_id(sd);
		const char *v = doc_get_str(sd, "VpcId");
		if (!a || strcmp(a, acl_id) != 0 || (vpc_id && v && strcmp(v, vpc_id) != 0))
			continue;
		struct doc *e = doc_push(list, doc_obj());
		doc_set_str(e, "NetworkAclAssociationId", doc_get_str(sd, SUBNET_NACL_ASSOC_ID));
		doc_set_str(e, "NetworkAclId", acl_id);
		doc_set_str(e, "SubnetId", subnets[i]->r_id);
	}
	doc_set(item, "Associations", list);
}

int nacl_migrate_associations(struct cache *c, nacl_migrate_put_fn put, void *arg)
{
	int changed = 0;
	size_t n;
	struct res **acls = cache_list(c, RT_NACL, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *assocs = doc_get(acls[i]->r_doc, "Associations");
		if (!assocs || !assocs->d_count)
			continue;
		doc_foreach(a, assocs) {
			struct res *s = cache_get_typed(c, RT_SUBNET, doc_get_str(a, "SubnetId"));
			const char *assoc_id = doc_get_str(a, "NetworkAclAssociationId");
			if (!s)
				continue;
			struct doc *sd = doc_clone(s->r_doc);
			doc_set_str(sd, SUBNET_NACL_ID, acls[i]->r_id);
			doc_set_str(sd, SUBNET_NACL_ASSOC_ID, assoc_id ? assoc_id : "");
			if (put(arg, RT_SUBNET, s->r_id, sd) < 0)
				return -1;
			changed++;
		}
		struct doc *ad = doc_clone(acls[i]->r_doc);
		doc_set(ad, "Associations", doc_list());
		if (put(arg, RT_NACL, acls[i]->r_id, ad) < 0)
			return -1;
		changed++;
	}
	return changed;
}

int handle_DescribeNetworkAcls(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_NACL, "NetworkAclIds", "InvalidNetworkAclID.NotFound", "networkAcl", nacl_filters, "NetworkAcls",
		true, 5, 1000, nacl_decorate,
	};
	nacl_normalise_protocol_filter(rq);
	return api_describe(rq, &spec);
}

int handle_DeleteNetworkAcl(struct api_req *rq)
{
	struct res *acl = nacl_require(rq);
	if (!acl)
		return -1;
	if (doc_get_bool(acl->r_doc, "IsDefault", false))
		return api_fail(rq, "InvalidParameterValue", "cannot delete default network ACL %s", acl->r_id);
	if (nacl_has_subnets(api_cache(rq), acl->r_id))
		return api_fail(rq, "DependencyViolation", "The networkAcl '%s' has dependencies and cannot be deleted.",
				acl->r_id);
	char id[RESOURCE_ID_MAX];	/* api_delete frees the cached id */
	snprintf(id, sizeof(id), "%s", acl->r_id);
	if (api_delete(rq, id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

/* --- entries ---------------------------------------------------------------- */

/* AWS's listing order: egress first, then by rule number. */
static bool entry_before(const struct doc *a, bool egress, int64_t number)
{
	bool ae = doc_get_bool(a, "Egress", false);
	if (ae != egress)
		return ae;
	return doc_get_int(a, "RuleNumber", 0) < number;
}

static struct doc *entry_find(const struct doc *entries, bool egress, int64_t number)
{
	doc_foreach(e, entries)
		if (doc_get_bool(e, "Egress", false) == egress && doc_get_int(e, "RuleNumber", 0) == number)
			return e;
	return NULL;
}

/* Inserts entry (ownership taken) into entries at its sorted place. */
static void entry_insert(struct doc *entries, struct doc *entry)
{
	bool egress = doc_get_bool(entry, "Egress", false);
	int64_t number = doc_get_int(entry, "RuleNumber", 0);
	struct doc *prev = NULL;
	doc_foreach(e, entries) {
		if (!entry_before(e, egress, number))
			break;
		prev = e;
	}
	/* doc.h has no insert: splice by hand, keeping d_last and d_count right */
	if (!prev) {
		entry->d_next = entries->d_first;
		entries->d_first = entry;
		if (!entries->d_last)
			entries->d_last = entry;
		entries->d_count++;
	} else if (prev == entries->d_last) {
		doc_push(entries, entry);
	} else {
		entry->d_next = prev->d_next;
		prev->d_next = entry;
		entries->d_count++;
	}
}

static int parse_rule_number(struct api_req *rq, int64_t *out)
{
	int64_t n = doc_get_int(rq->rq_in, "RuleNumber", -1);
	if (n < NACL_RULE_MIN || n > NACL_RULE_MAX)
		return api_fail(rq, "InvalidParameterValue",
				"Value (%lld) for parameter ruleNumber is invalid. Rule number must be in the range %d to %d.",
				(long long)n, NACL_RULE_MIN, NACL_RULE_MAX);
	*out = n;
	return 0;
}

/* Builds the entry that Create/ReplaceNetworkAclEntry describe, validated. */
static struct doc *entry_from_request(struct api_req *rq)
{
	const struct doc *in = rq->rq_in;
	int64_t number = 0;
	if (parse_rule_number(rq, &number) < 0)
		return NULL;
	const char *proto_s = doc_get_str(in, "Protocol");
	int proto = protocol_parse(proto_s);
	if (proto == -2 || proto == 58) {
		api_fail(rq, "InvalidParameterValue",
			 "Value (%.32s) for parameter protocol is invalid. Valid values: tcp, udp, icmp, -1 or a protocol number from 0 to 255",
			 proto_s ? proto_s : "");
		return NULL;
	}
	const char *action = doc_get_str(in, "RuleAction");
	if (!action || (strcasecmp(action, "allow") != 0 && strcasecmp(action, "deny") != 0)) {
		api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter ruleAction is invalid. Valid values: allow, deny",
			 action ? action : "");
		return NULL;
	}
	if (doc_get(in, "Ipv6CidrBlock")) {
		api_fail(rq, "InvalidParameterValue", "vpcd does not support IPv6 network ACL entries yet");
		return NULL;
	}
	const char *cidr_s = doc_get_str(in, "CidrBlock");
	if (!cidr_s) {
		api_fail(rq, "MissingParameter", "The request must contain the parameter cidrBlock or ipv6CidrBlock");
		return NULL;
	}
	struct cidr4 cidr;
	if (!cidr_parse(cidr_s, &cidr, NULL)) {
		api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter cidrBlock is invalid. This is not a valid CIDR block.",
			 cidr_s);
		return NULL;
	}
	char cidr_norm[CIDR_STR_MAX], proto_num[8];
	cidr_format(&cidr, cidr_norm);
	snprintf(proto_num, sizeof(proto_num), "%d", proto);

	struct doc *e = doc_obj();
	doc_set_str(e, "CidrBlock", cidr_norm);
	doc_set_bool(e, "Egress", doc_get_bool(in, "Egress", false));
	doc_set_str(e, "Protocol", proto_num);
	doc_set_str(e, "RuleAction", strcasecmp(action, "allow") == 0 ? "allow" : "deny");
	doc_set_int(e, "RuleNumber", number);
	if (proto == 6 || proto == 17) {
		const struct doc *pr = doc_get(in, "PortRange");
		if (!pr || !doc_get(pr, "From") || !doc_get(pr, "To")) {
			doc_free(e);
			api_fail(rq, "InvalidParameterValue",
				 "TCP and UDP entries need a port range: PortRange.From and PortRange.To (0-65535)");
			return NULL;
		}
		int64_t from = doc_get_int(pr, "From", -1), to = doc_get_int(pr, "To", -1);
		if (from < 0 || from > PORT_MAX || to < 0 || to > PORT_MAX || from > to) {
			doc_free(e);
			api_fail(rq, "InvalidParameterValue",
				 "Value (%lld-%lld) for parameter portRange is invalid: ports are 0-65535 and From must not exceed To",
				 (long long)from, (long long)to);
			return NULL;
		}
		struct doc *p = doc_get_obj(e, "PortRange");
		doc_set_int(p, "From", from);
		doc_set_int(p, "To", to);
	} else if (proto == 1) {
		const struct doc *ic = doc_get(in, "IcmpTypeCode");
		if (!ic || !doc_get(ic, "Type") || !doc_get(ic, "Code")) {
			doc_free(e);
			api_fail(rq, "InvalidParameterValue",
				 "ICMP entries need IcmpTypeCode.Type and IcmpTypeCode.Code (-1 for any)");
			return NULL;
		}
		int64_t type = doc_get_int(ic, "Type", -2), code = doc_get_int(ic, "Code", -2);
		if (type < -1 || type > 255 || code < -1 || code > 255) {
			doc_free(e);
			api_fail(rq, "InvalidParameterValue",
				 "Value (%lld/%lld) for parameter icmpTypeCode is invalid: type and code are -1 (any) or 0-255",
				 (long long)type, (long long)code);
			return NULL;
		}
		struct doc *t = doc_get_obj(e, "IcmpTypeCode");
		doc_set_int(t, "Code", code);
		doc_set_int(t, "Type", type);
	}
	return e;
}

static size_t entries_in_direction(const struct doc *entries, bool egress)
{
	size_t n = 0;
	doc_foreach(e, entries)
		if (doc_get_bool(e, "Egress", false) == egress && doc_get_int(e, "RuleNumber", 0) != NACL_RULE_DEFAULT_DENY)
			n++;
	return n;
}

int handle_CreateNetworkAclEntry(struct api_req *rq)
{
	struct res *acl = nacl_require(rq);
	if (!acl)
		return -1;
	struct doc *entry = entry_from_request(rq);
	if (!entry)
		return -1;
	bool egress = doc_get_bool(entry, "Egress", false);
	int64_t number = doc_get_int(entry, "RuleNumber", 0);
	const struct doc *entries = doc_get(acl->r_doc, "Entries");
	if (entry_find(entries, egress, number)) {
		doc_free(entry);
		return api_fail(rq, "NetworkAclEntryAlreadyExists", "The network acl entry identified by %lld already exists.",
				(long long)number);
	}
	if (entries_in_direction(entries, egress) >= NACL_ENTRIES_PER_DIRECTION_MAX) {
		doc_free(entry);
		return api_fail(rq, "NetworkAclEntryLimitExceeded",
				"The maximum number of %s entries (%d) for network acl '%s' has been reached.",
				egress ? "egress" : "ingress", NACL_ENTRIES_PER_DIRECTION_MAX, acl->r_id);
	}
	struct doc *d = doc_clone(acl->r_doc);
	entry_insert(doc_get_list(d, "Entries"), entry);
	if (!api_put(rq, RT_NACL, acl->r_id, d))
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

static int entry_not_found(struct api_req *rq, const char *acl_id, int64_t number, bool egress)
{
	return api_fail(rq, "InvalidNetworkAclEntry.NotFound",
			"The network acl entry identified by %lld (%s) does not exist in network acl '%s'.", (long long)number,
			egress ? "egress" : "ingress", acl_id);
}

int handle_ReplaceNetworkAclEntry(struct api_req *rq)
{
	struct res *acl = nacl_require(rq);
	if (!acl)
		return -1;
	struct doc *entry = entry_from_request(rq);
	if (!entry)
		return -1;
	bool egress = doc_get_bool(entry, "Egress", false);
	int64_t number = doc_get_int(entry, "RuleNumber", 0);
	struct doc *d = doc_clone(acl->r_doc);
	struct doc *entries = doc_get_list(d, "Entries");
	struct doc *old = entry_find(entries, egress, number);
	if (!old) {
		doc_free(entry);
		doc_free(d);
		return entry_not_found(rq, acl->r_id, number, egress);
	}
	doc_delete_child(entries, old);
	entry_insert(entries, entry);
	if (!api_put(rq, RT_NACL, acl->r_id, d))
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_DeleteNetworkAclEntry(struct api_req *rq)
{
	struct res *acl = nacl_require(rq);
	if (!acl)
		return -1;
	int64_t number = 0;
	if (parse_rule_number(rq, &number) < 0)
		return -1;
	bool egress = doc_get_bool(rq->rq_in, "Egress", false);
	struct doc *d = doc_clone(acl->r_doc);
	struct doc *entries = doc_get_list(d, "Entries");
	struct doc *old = entry_find(entries, egress, number);
	if (!old) {
		doc_free(d);
		return entry_not_found(rq, acl->r_id, number, egress);
	}
	doc_delete_child(entries, old);
	if (!api_put(rq, RT_NACL, acl->r_id, d))
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

/* --- associations ----------------------------------------------------------- */

/* The subnet whose ACL association is assoc_id. */
static struct res *nacl_find_association(struct api_req *rq, const char *assoc_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_SUBNET, &n);
	for (size_t i = 0; i < n; i++) {
		const char *id = doc_get_str(list[i]->r_doc, SUBNET_NACL_ASSOC_ID);
		if (id && strcmp(id, assoc_id) == 0 && subnet_nacl_id(list[i]->r_doc))
			return list[i];
	}
	return NULL;
}

int handle_ReplaceNetworkAclAssociation(struct api_req *rq)
{
	const char *assoc_id = api_require_str(rq, "AssociationId");
	if (!assoc_id)
		return -1;
	struct res *target = nacl_require(rq);
	if (!target)
		return -1;
	struct res *subnet = nacl_find_association(rq, assoc_id);
	if (!subnet)
		return api_fail(rq, "InvalidAssociationID.NotFound", "The association ID '%.64s' does not exist", assoc_id);
	const char *sv = doc_get_str(subnet->r_doc, "VpcId"), *tv = doc_get_str(target->r_doc, "VpcId");
	if (!sv || !tv || strcmp(sv, tv) != 0)
		return api_fail(rq, "InvalidParameterValue",
				"Network ACL %s and subnet %s belong to different networks", target->r_id, subnet->r_id);
	char new_assoc[RESOURCE_ID_MAX];
	new_id("aclassoc", new_assoc);
	struct doc *sd = doc_clone(subnet->r_doc);
	doc_set_str(sd, SUBNET_NACL_ID, target->r_id);
	doc_set_str(sd, SUBNET_NACL_ASSOC_ID, new_assoc);
	if (!api_put(rq, RT_SUBNET, subnet->r_id, sd))
		return -1;
	doc_set_str(rq->rq_out, "NewAssociationId", new_assoc);
	return 0;
}
