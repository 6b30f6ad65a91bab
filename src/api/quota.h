/*
 * quota — how much state one account may hold, per region (and per VPC
 * or per resource where AWS counts so), refused with AWS's error codes
 * (VpcLimitExceeded, SubnetLimitExceeded, ...) so that no client grows
 * the store without bound. The defaults are generous (self-hosted: far
 * above AWS's starting quotas for counts of resources, AWS's own numbers
 * for what it fixes per object, like 50 tags); --quota NAME=N changes one.
 *
 * Counting: a region's resources of a type are the cache's array for the
 * region (cache_list in the request's region view: O(1)); per VPC, a
 * count kept by a cache watch (O(1) per change and per check).
 */
#ifndef VPCD_API_QUOTA_H
#define VPCD_API_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum quota_kind {
	Q_VPCS,			/* per region */
	Q_SUBNETS_PER_VPC,
	Q_ROUTE_TABLES_PER_VPC,
	Q_NETWORK_ACLS_PER_VPC,
	Q_SECURITY_GROUPS,	/* per region */
	Q_RULES_PER_SECURITY_GROUP,	/* per direction */
	Q_INTERNET_GATEWAYS,	/* per region */
	Q_CUSTOMER_GATEWAYS,	/* per region */
	Q_VPN_GATEWAYS,		/* per region */
	Q_VPN_CONNECTIONS,	/* per region */
	Q_ELASTIC_IPS,		/* per region */
	Q_NETWORK_INTERFACES,	/* per region */
	Q_INSTANCES,		/* per region, not terminated */
	Q_TAGS_PER_RESOURCE,
	Q_COUNT
};

struct quota_limits {
	long ql_max[Q_COUNT];
};

/* The defaults. */
void quota_defaults(struct quota_limits *q);
/* Applies "NAME=N[,NAME=N...]" (names as quota_usage lists them) to q;
 * -1 (logged, q unchanged) on an unknown name or a bad number. */
int quota_parse(const char *spec, struct quota_limits *q);
/* The table of quotas (name, default, AWS's default, error code) for
 * --help. */
void quota_usage(FILE *f);

struct api;
struct api_req;

/* The limit in force for the api. */
long quota_limit(const struct api *api, enum quota_kind k);
/* Fails the request with the quota's error when `adding` more resources
 * of kind k (in the request's region; in vpc_id for the per-VPC kinds)
 * would pass the limit. 0, or -1 after api_fail. */
int quota_check(struct api_req *rq, enum quota_kind k, const char *vpc_id, size_t adding);
/* How many more resources of kind k the request's region (or vpc_id)
 * may hold; 0 when full. */
long quota_room(struct api_req *rq, enum quota_kind k, const char *vpc_id);
/* Every TagSpecifications item of the request holds at most the tag
 * quota (TagLimitExceeded). 0, or -1 after api_fail. */
int quota_check_tag_specs(struct api_req *rq);

/* The per-VPC counts, kept by a cache watch (api_new / api_free). */
void quota_attach(struct api *api);
void quota_detach(struct api *api);

#endif
