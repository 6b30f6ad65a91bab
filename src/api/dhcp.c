/*
 * dhcp.c — DHCP option sets: CreateDhcpOptions, AssociateDhcpOptions,
 * DescribeDhcpOptions, DeleteDhcpOptions, the region's default set, and
 * what an instance's resolver gets from its VPC's set (vpc_resolv_conf,
 * for the data plane's /etc/netns/<ns>/resolv.conf).
 *
 * A set's doc is {DhcpOptionsId, OwnerId, DhcpConfigurations [{Key,
 * Values [{Value}]}], Tags}; "_Default" marks the region's default set
 * (domain-name ec2.internal in us-east-1, <region>.compute.internal
 * elsewhere; domain-name-servers AmazonProvidedDNS), which every new VPC
 * gets, made the first time a VPC needs it. A VPC names its set in
 * DhcpOptionsId; "default" there means no set (AssociateDhcpOptions with
 * DhcpOptionsId=default), whose instances get 169.254.169.253 as their
 * name server (a Nitro instance's, per AWS) and no search domain.
 * Sets are immutable; one in use by a VPC cannot be deleted.
 */
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define DHCP_WHAT "dhcpOptions"		/* "The dhcpOptions ID '…' does not exist" */
#define DHCP_VALUES_MAX 4		/* servers per option */
#define DHCP_LEASE_MIN 140		/* ipv6-address-preferred-lease-time, seconds */
#define DHCP_LEASE_MAX 2147483647

static const char *const dhcp_keys[] = {
	"domain-name", "domain-name-servers", "ntp-servers", "netbios-name-servers", "netbios-node-type",
	"ipv6-address-preferred-lease-time",
};

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static void add_option(struct doc *configs, const char *key, const char *const *values, size_t n)
{
	struct doc *c = doc_push(configs, doc_obj());
	doc_set_str(c, "Key", key);
	struct doc *vals = doc_get_list(c, "Values");
	for (size_t i = 0; i < n; i++)
		doc_set_str(doc_push(vals, doc_obj()), "Value", values[i]);
}

const char *dhcp_default_domain(const char *region, char *buf, size_t len)
{
	if (str_eq(region, "us-east-1"))
		snprintf(buf, len, "ec2.internal");
	else
		snprintf(buf, len, "%s.compute.internal", region);
	return buf;
}

const char *dhcp_default_set(struct api_req *rq)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_DHCP, &n);
	for (size_t i = 0; i < n; i++)
		if (doc_get_bool(list[i]->r_doc, "_Default", false))
			return list[i]->r_id;
	char id[RESOURCE_ID_MAX], domain[96];
	new_id("dopt", id);
	struct doc *d = doc_obj();
	doc_set_str(d, "DhcpOptionsId", id);
	doc_set_str(d, "OwnerId", api_account(rq));
	struct doc *configs = doc_get_list(d, "DhcpConfigurations");
	const char *name[] = { dhcp_default_domain(api_region(rq), domain, sizeof(domain)) };
	const char *dns[] = { "AmazonProvidedDNS" };
	add_option(configs, "domain-name", name, 1);
	add_option(configs, "domain-name-servers", dns, 1);
	doc_get_list(d, "Tags");
	doc_set_bool(d, "_Default", true);
	struct doc *set = api_put(rq, RT_DHCP, id, d);
	return set ? doc_get_str(set, "DhcpOptionsId") : NULL;
}

/* Splits "a, b" values (AWS takes several servers in one value, comma
 * separated) into out; false after api_fail. */
static bool split_values(struct api_req *rq, const char *key, const struct doc *in, struct doc *out)
{
	doc_foreach(v, in) {
		if (v->d_type != DOC_STR)
			continue;
		const char *p = v->d_str;
		while (*p) {
			while (*p == ' ' || *p == ',')
				p++;
			const char *end = p;
			while (*end && *end != ',')
				end++;
			size_t len = (size_t)(end - p);
			while (len && p[len - 1] == ' ')
				len--;
			if (len) {
				char one[256];
				if (len >= sizeof(one)) {
					api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter value is invalid.", p);
					return false;
				}
				memcpy(one, p, len);
				one[len] = '\0';
				doc_push(out, doc_str(one));
			}
			p = end;
		}
	}
	if (out->d_count == 0) {
		api_fail(rq, "InvalidParameterValue", "Value for parameter %s is invalid. Specify at least one value.", key);
		return false;
	}
	return true;
}

/* Checks one option's values (already split); 0 or -1 after api_fail. */
static int check_option(struct api_req *rq, const char *key, const struct doc *vals)
{
	bool servers = str_eq(key, "domain-name-servers") || str_eq(key, "ntp-servers") ||
		       str_eq(key, "netbios-name-servers");
	if (servers && vals->d_count > DHCP_VALUES_MAX)
		return api_fail(rq, "InvalidParameterValue", "Value for parameter %s is invalid. Too many values: %zu (at most %d).",
				key, vals->d_count, DHCP_VALUES_MAX);
	doc_foreach(v, vals) {
		const char *s = v->d_str;
		uint32_t ip;
		if (servers) {
			if (str_eq(key, "domain-name-servers") && str_eq(s, "AmazonProvidedDNS"))
				continue;
			if (!ip4_parse(s, &ip))
				return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter %s is invalid.", s, key);
		} else if (str_eq(key, "netbios-node-type")) {
			if (!str_eq(s, "1") && !str_eq(s, "2") && !str_eq(s, "4") && !str_eq(s, "8"))
				return api_fail(rq, "InvalidParameterValue",
						"Value (%.64s) for parameter netbios-node-type is invalid. Valid values: 1, 2, 4, 8.", s);
		} else if (str_eq(key, "ipv6-address-preferred-lease-time")) {
			char *end;
			long long t = strtoll(s, &end, 10);
			if (*end || end == s || t < DHCP_LEASE_MIN || t > DHCP_LEASE_MAX)
				return api_fail(rq, "InvalidParameterValue",
						"Value (%.64s) for parameter ipv6-address-preferred-lease-time is invalid.", s);
		} else if (str_eq(key, "domain-name")) {
			if (strlen(s) > 255)
				return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter domain-name is invalid.", s);
		}
	}
	if ((str_eq(key, "netbios-node-type") || str_eq(key, "ipv6-address-preferred-lease-time")) && vals->d_count > 1)
		return api_fail(rq, "InvalidParameterValue", "Value for parameter %s is invalid. Specify only one value.", key);
	return 0;
}

int handle_CreateDhcpOptions(struct api_req *rq)
{
	const struct doc *in = doc_get(rq->rq_in, "DhcpConfigurations");
	if (!in || !in->d_count)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter dhcpConfiguration");
	struct doc *d = doc_obj();
	struct doc *configs = doc_get_list(d, "DhcpConfigurations");
	doc_foreach(c, in) {
		const char *key = doc_get_str(c, "Key");
		bool known = false;
		for (size_t i = 0; key && i < ARRAY_LEN(dhcp_keys); i++)
			known |= str_eq(key, dhcp_keys[i]);
		if (!known) {
			doc_free(d);
			return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter name is invalid. Unrecognized DHCP option",
					key ? key : "");
		}
		if (dhcp_option(d, key)) {
			doc_free(d);
			return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter name is invalid. Duplicate DHCP option", key);
		}
		struct doc *vals = doc_list();
		if (!split_values(rq, key, doc_get(c, "Values"), vals) || check_option(rq, key, vals) < 0) {
			doc_free(vals);
			doc_free(d);
			return -1;
		}
		struct doc *out = doc_push(configs, doc_obj());
		doc_set_str(out, "Key", key);
		struct doc *ov = doc_get_list(out, "Values");
		doc_foreach(v, vals)
			doc_set_str(doc_push(ov, doc_obj()), "Value", v->d_str);
		doc_free(vals);
	}
	char id[RESOURCE_ID_MAX];
	new_id("dopt", id);
	/* DhcpOptionsId first, as AWS lists it */
	struct doc *set = doc_obj();
	doc_set_str(set, "DhcpOptionsId", id);
	doc_set_str(set, "OwnerId", api_account(rq));
	doc_set(set, "DhcpConfigurations", doc_clone(configs));
	doc_set(set, "Tags", api_tags_from_spec(rq, RT_DHCP));
	doc_free(d);
	struct doc *stored = api_put(rq, RT_DHCP, id, set);
	if (!stored)
		return -1;
	doc_set(rq->rq_out, "DhcpOptions", doc_clone(stored));
	return 0;
}

int handle_AssociateDhcpOptions(struct api_req *rq)
{
	const char *set_id = api_require_str(rq, "DhcpOptionsId");
	if (!set_id)
		return -1;
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	if (!str_eq(set_id, "default") && !cache_get_typed(api_cache(rq), RT_DHCP, set_id))
		return api_not_found(rq, "InvalidDhcpOptionID.NotFound", DHCP_WHAT, set_id);
	char vpc_id[RESOURCE_ID_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", vpc->r_id);
	struct doc *d = doc_clone(vpc->r_doc);
	doc_set_str(d, "DhcpOptionsId", set_id);
	return api_put(rq, RT_VPC, vpc_id, d) ? 0 : -1;
}

static const char *set_user(struct api_req *rq, const char *set_id)
{
	size_t n;
	struct res **vpcs = cache_list(api_cache(rq), RT_VPC, &n);
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(vpcs[i]->r_doc, "DhcpOptionsId"), set_id))
			return vpcs[i]->r_id;
	return NULL;
}

int handle_DeleteDhcpOptions(struct api_req *rq)
{
	struct res *set = api_require(rq, "DhcpOptionsId", RT_DHCP, "InvalidDhcpOptionsID.NotFound", DHCP_WHAT);
	if (!set)
		return -1;
	if (set_user(rq, set->r_id))
		return api_fail(rq, "DependencyViolation", "The %s '%s' has dependencies and cannot be deleted.", DHCP_WHAT,
				set->r_id);
	if (api_delete(rq, set->r_id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

static const struct filter_def dhcp_filters[] = {
	{ "dhcp-options-id", "DhcpOptionsId" },
	{ "key", "DhcpConfigurations.Key" },
	{ "value", "DhcpConfigurations.Values.Value" },
	{ NULL, NULL },
};

int handle_DescribeDhcpOptions(struct api_req *rq)
{
	/* the region's default set exists once anything looks */
	if (!dhcp_default_set(rq))
		return -1;
	static const struct describe_spec spec = {
		RT_DHCP, "DhcpOptionsIds", "InvalidDhcpOptionID.NotFound", DHCP_WHAT, dhcp_filters, "DhcpOptions",
		true, 5, 1000, NULL,
	};
	return api_describe(rq, &spec);
}
