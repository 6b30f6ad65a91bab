/*
 * quota.c — the quotas of quota.h: their table (names, defaults, AWS's
 * error codes), --quota parsing, and the counts they are checked against.
 * API thread only.
 */
#include "api/quota.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/eni.h"
#include "api/resources.h"
#include "base/base.h"

enum quota_scope { SCOPE_REGION, SCOPE_VPC, SCOPE_OBJECT };

struct quota_def {
	const char *qd_name;	/* for --quota */
	enum quota_scope qd_scope;
	const char *qd_type;	/* the cache type counted (region and VPC scopes) */
	const char *qd_gone;	/* a State (or State.Name) that no longer counts; NULL: none */
	long qd_default;
	long qd_aws;		/* AWS's default, for --help */
	const char *qd_code;	/* AWS's error code */
	const char *qd_message;	/* AWS's message */
};

/* Indexed by enum quota_kind. Counts of resources are generous (a
 * self-hosted vpcd is its own account), what AWS fixes per object is
 * AWS's number. */
static const struct quota_def quota_defs[Q_COUNT] = {
	[Q_VPCS] = { "vpcs", SCOPE_REGION, RT_VPC, NULL, 250, 5, "VpcLimitExceeded",
		     "The maximum number of VPCs has been reached." },
	[Q_SUBNETS_PER_VPC] = { "subnets-per-vpc", SCOPE_VPC, RT_SUBNET, NULL, 4096, 200, "SubnetLimitExceeded",
				"The maximum number of subnets has been reached." },
	[Q_ROUTE_TABLES_PER_VPC] = { "route-tables-per-vpc", SCOPE_VPC, RT_ROUTE_TABLE, NULL, 1000, 200,
				     "RouteTableLimitExceeded", "The maximum number of route tables has been reached." },
	[Q_NETWORK_ACLS_PER_VPC] = { "network-acls-per-vpc", SCOPE_VPC, RT_NACL, NULL, 1000, 200,
				     "NetworkAclLimitExceeded", "The maximum number of network ACLs has been reached." },
	[Q_SECURITY_GROUPS] = { "security-groups", SCOPE_REGION, RT_SG, NULL, 10000, 2500,
				"SecurityGroupLimitExceeded", "The maximum number of security groups has been reached." },
	[Q_RULES_PER_SECURITY_GROUP] = { "rules-per-security-group", SCOPE_OBJECT, NULL, NULL, 60, 60,
					 "RulesPerSecurityGroupLimitExceeded",
					 "The maximum number of rules per security group has been reached." },
	[Q_INTERNET_GATEWAYS] = { "internet-gateways", SCOPE_REGION, RT_IGW, NULL, 250, 5,
				  "InternetGatewayLimitExceeded", "The maximum number of internet gateways has been reached." },
	[Q_CUSTOMER_GATEWAYS] = { "customer-gateways", SCOPE_REGION, RT_CGW, "deleted", 1000, 50,
				  "CustomerGatewayLimitExceeded", "The maximum number of customer gateways has been reached." },
	[Q_VPN_GATEWAYS] = { "vpn-gateways", SCOPE_REGION, RT_VGW, "deleted", 250, 5, "VpnGatewayLimitExceeded",
			     "The maximum number of virtual private gateways has been reached." },
	[Q_VPN_CONNECTIONS] = { "vpn-connections", SCOPE_REGION, RT_VPN, "deleted", 1000, 50,
				"VpnConnectionLimitExceeded", "The maximum number of VPN connections has been reached." },
	/* the public pool is a /24 by default: AWS's 5 */
	[Q_ELASTIC_IPS] = { "elastic-ips", SCOPE_REGION, RT_EIP, NULL, 5, 5, "AddressLimitExceeded",
			    "The maximum number of addresses has been reached." },
	[Q_NETWORK_INTERFACES] = { "network-interfaces", SCOPE_REGION, RT_ENI, NULL, 10000, 5000,
				   "NetworkInterfaceLimitExceeded",
				   "The maximum number of network interfaces has been reached." },
	[Q_INSTANCES] = { "instances", SCOPE_REGION, RT_INSTANCE, "terminated", 1000, 0, "InstanceLimitExceeded",
			  "You have requested more instances than your current instance limit allows." },
	[Q_TAGS_PER_RESOURCE] = { "tags-per-resource", SCOPE_OBJECT, NULL, NULL, 50, 50, "TagLimitExceeded",
				  "The maximum number of tags for a resource has been reached." },
};

#define QUOTA_MAX 100000000L	/* a limit above this is a typo */

void quota_defaults(struct quota_limits *q)
{
	for (int k = 0; k < Q_COUNT; k++)
		q->ql_max[k] = quota_defs[k].qd_default;
}

int quota_parse(const char *spec, struct quota_limits *q)
{
	struct quota_limits next = *q;
	const char *p = spec;
	while (*p) {
		size_t n = strcspn(p, ",");
		char item[96];
		if (n == 0 || n >= sizeof(item)) {
			log_error("vpcd", "--quota: expected NAME=N[,NAME=N...], got '%.80s'", spec);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		char *eq = strchr(item, '=');
		int k = 0;
		if (eq) {
			*eq = '\0';
			for (; k < Q_COUNT && strcmp(quota_defs[k].qd_name, item) != 0; k++)
				;
		}
		if (!eq || k == Q_COUNT) {
			log_error("vpcd", "--quota: unknown quota '%s' (vpcd --help lists them)", item);
			return -1;
		}
		char *end;
		errno = 0;
		long v = strtol(eq + 1, &end, 10);
		if (!eq[1] || *end || errno || v < 0 || v > QUOTA_MAX) {
			log_error("vpcd", "--quota %s=%s: expected a number from 0 to %ld", item, eq + 1, QUOTA_MAX);
			return -1;
		}
		next.ql_max[k] = v;
		p += n;
		if (*p == ',')
			p++;
	}
	*q = next;
	return 0;
}

void quota_usage(FILE *f)
{
	fprintf(f, "  --quota NAME=N[,NAME=N...]: what one account may hold in each region (or per VPC,\n"
		   "  per object), refused beyond with AWS's error code. NAME, default (AWS's), error:\n");
	for (int k = 0; k < Q_COUNT; k++) {
		const struct quota_def *d = &quota_defs[k];
		char aws[24];
		if (d->qd_aws)
			snprintf(aws, sizeof(aws), "%ld", d->qd_aws);
		else
			snprintf(aws, sizeof(aws), "by vCPU");
		fprintf(f, "    %-26s %6ld (%s) %s\n", d->qd_name, d->qd_default, aws, d->qd_code);
	}
}

long quota_limit(const struct api *api, enum quota_kind k)
{
	return api->a_quota.ql_max[k];
}

/* --- per-VPC counts, kept by a cache watch --------------------------------- */

#define VPC_COUNT_BUCKETS 1024

enum { VC_SUBNETS, VC_ROUTE_TABLES, VC_NACLS, VC_KINDS };

struct vpc_count {
	char vc_vpc[RESOURCE_ID_MAX];
	long vc_n[VC_KINDS];
	struct vpc_count *vc_next;
};

struct vpc_counts {
	struct vpc_count *vcs_buckets[VPC_COUNT_BUCKETS];
};

static struct vpc_count **vpc_slot(struct vpc_counts *vcs, const char *vpc)
{
	uint32_t h = 2166136261u;
	for (const char *p = vpc; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	struct vpc_count **c = &vcs->vcs_buckets[h % VPC_COUNT_BUCKETS];
	while (*c && strcmp((*c)->vc_vpc, vpc) != 0)
		c = &(*c)->vc_next;
	return c;
}

static void vpc_count_add(struct vpc_counts *vcs, const char *vpc, int kind, long delta)
{
	if (!vpc || strlen(vpc) >= RESOURCE_ID_MAX)
		return;
	struct vpc_count **slot = vpc_slot(vcs, vpc);
	if (!*slot) {
		if (delta < 0)
			return;
		*slot = calloc(1, sizeof(**slot));
		if (!*slot)
			abort();
		snprintf((*slot)->vc_vpc, sizeof((*slot)->vc_vpc), "%s", vpc);
	}
	struct vpc_count *c = *slot;
	c->vc_n[kind] += delta;
	for (int i = 0; i < VC_KINDS; i++)
		if (c->vc_n[i] > 0)
			return;
	*slot = c->vc_next;
	free(c);
}

static long vpc_count_get(struct vpc_counts *vcs, const char *vpc, int kind)
{
	struct vpc_count *c = *vpc_slot(vcs, vpc);
	return c ? c->vc_n[kind] : 0;
}

static int vpc_kind_of(const char *type)
{
	return strcmp(type, RT_SUBNET) == 0 ? VC_SUBNETS : strcmp(type, RT_ROUTE_TABLE) == 0 ? VC_ROUTE_TABLES
											 : VC_NACLS;
}

static void vpc_count_watch(void *ctx, const struct res *r, const struct doc *old, const struct doc *new_doc)
{
	struct vpc_counts *vcs = ctx;
	int kind = vpc_kind_of(r->r_type);
	if (old)
		vpc_count_add(vcs, doc_get_str(old, "VpcId"), kind, -1);
	if (new_doc)
		vpc_count_add(vcs, doc_get_str(new_doc, "VpcId"), kind, 1);
}

void quota_attach(struct api *api)
{
	api->a_vpc_counts = calloc(1, sizeof(*api->a_vpc_counts));
	if (!api->a_vpc_counts)
		abort();
	static const char *const types[] = { RT_SUBNET, RT_ROUTE_TABLE, RT_NACL };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		cache_watch(api->a_cache, types[i], vpc_count_watch, api->a_vpc_counts);
}

void quota_detach(struct api *api)
{
	struct vpc_counts *vcs = api->a_vpc_counts;
	if (!vcs)
		return;
	cache_unwatch(api->a_cache, vpc_count_watch, vcs);
	for (size_t i = 0; i < VPC_COUNT_BUCKETS; i++)
		for (struct vpc_count *c = vcs->vcs_buckets[i], *next; c; c = next) {
			next = c->vc_next;
			free(c);
		}
	free(vcs);
	api->a_vpc_counts = NULL;
}

/* --- counting and checking -------------------------------------------------- */

/* A resource's state name: State, or State.Name (instances). */
static const char *state_of(const struct doc *d)
{
	const struct doc *s = doc_get(d, "State");
	if (s && s->d_type == DOC_OBJ)
		return doc_get_str(s, "Name");
	return s && s->d_type == DOC_STR ? s->d_str : NULL;
}

/* The resources of kind k in the request's region (its cache view), or
 * in vpc_id. O(1), or O(resources of the type in the region) for the
 * types whose gone ones linger (deleted VPN connections, terminated
 * instances). */
static long quota_count(struct api_req *rq, enum quota_kind k, const char *vpc_id)
{
	const struct quota_def *d = &quota_defs[k];
	if (d->qd_scope == SCOPE_VPC) {
		static const int kinds[] = { [Q_SUBNETS_PER_VPC] = VC_SUBNETS,
					     [Q_ROUTE_TABLES_PER_VPC] = VC_ROUTE_TABLES,
					     [Q_NETWORK_ACLS_PER_VPC] = VC_NACLS };
		return vpc_id ? vpc_count_get(rq->rq_api->a_vpc_counts, vpc_id, kinds[k]) : 0;
	}
	size_t n;
	struct res **list = cache_list(api_cache(rq), d->qd_type, &n);
	if (!d->qd_gone)
		return (long)n;
	long live = 0;
	for (size_t i = 0; i < n; i++) {
		const char *st = state_of(list[i]->r_doc);
		live += !st || strcmp(st, d->qd_gone) != 0;
	}
	return live;
}

static int quota_fail(struct api_req *rq, enum quota_kind k)
{
	const struct quota_def *d = &quota_defs[k];
	return api_fail(rq, d->qd_code, "%s (vpcd --quota %s=%ld)", d->qd_message, d->qd_name,
			quota_limit(rq->rq_api, k));
}

long quota_room(struct api_req *rq, enum quota_kind k, const char *vpc_id)
{
	long max = quota_limit(rq->rq_api, k);
	long have = quota_defs[k].qd_scope == SCOPE_OBJECT ? 0 : quota_count(rq, k, vpc_id);
	return have < max ? max - have : 0;
}

int quota_check(struct api_req *rq, enum quota_kind k, const char *vpc_id, size_t adding)
{
	if ((long)adding > quota_room(rq, k, vpc_id))
		return quota_fail(rq, k);
	return 0;
}

int quota_check_tag_specs(struct api_req *rq)
{
	long max = quota_limit(rq->rq_api, Q_TAGS_PER_RESOURCE);
	doc_foreach(spec, doc_get(rq->rq_in, "TagSpecifications")) {
		const struct doc *tags = doc_get(spec, "Tags");
		if (tags && (long)tags->d_count > max)
			return quota_fail(rq, Q_TAGS_PER_RESOURCE);
	}
	return 0;
}
