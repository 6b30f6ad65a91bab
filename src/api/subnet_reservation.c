/*
 * subnet_reservation.c — subnet CIDR reservations:
 * CreateSubnetCidrReservation, DeleteSubnetCidrReservation,
 * GetSubnetCidrReservations.
 *
 * A reservation sets a block of a subnet aside ("prefix": for prefixes
 * assigned to interfaces; "explicit": for addresses given by hand): it
 * lies inside the subnet and overlaps no other reservation of it. vpcd
 * keeps "explicit" blocks out of automatic private-address assignment
 * (ipam.c asks subnet_reserved_explicit). IPv4 only. Doc: botocore's
 * SubnetCidrReservation (SubnetCidrReservationId "scr-…", SubnetId, Cidr,
 * ReservationType, OwnerId, Description, Tags).
 */
#include "api/handlers.h"
#include "api/resources.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define SCR_TOKEN_PREFIX "vpcd1."

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

int handle_CreateSubnetCidrReservation(struct api_req *rq)
{
	struct res *subnet = api_require(rq, "SubnetId", RT_SUBNET, "InvalidSubnetID.NotFound", "subnet");
	if (!subnet)
		return -1;
	const char *text = api_require_str(rq, "Cidr");
	const char *type = text ? api_require_str(rq, "ReservationType") : NULL;
	if (!type)
		return -1;
	if (!str_eq(type, "prefix") && !str_eq(type, "explicit"))
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.32s) for parameter reservationType is invalid. Valid values: prefix, explicit", type);
	struct cidr4 c, sub;
	bool host_bits = false;
	if (!cidr_parse(text, &c, &host_bits) || host_bits)
		return api_fail(rq, "InvalidParameterValue", "The CIDR '%.64s' is invalid.", text);
	if (!cidr_parse(doc_get_str(subnet->r_doc, "CidrBlock"), &sub, NULL) || !cidr_contains(&sub, &c))
		return api_fail(rq, "InvalidParameterValue", "The CIDR '%.64s' is not within the subnet's CIDR block %s.", text,
				doc_get_str(subnet->r_doc, "CidrBlock"));
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_SCR, &n);
	for (size_t i = 0; i < n; i++) {
		struct cidr4 have;
		if (str_eq(doc_get_str(list[i]->r_doc, "SubnetId"), subnet->r_id) &&
		    cidr_parse(doc_get_str(list[i]->r_doc, "Cidr"), &have, NULL) && cidr_overlaps(&have, &c))
			return api_fail(rq, "InvalidSubnetCidrReservation.Conflict",
					"The CIDR '%.64s' overlaps the reservation %s.", text, list[i]->r_id);
	}
	const char *desc = doc_get_str(rq->rq_in, "Description");
	char id[RESOURCE_ID_MAX], norm[CIDR_STR_MAX];
	new_id("scr", id);
	cidr_format(&c, norm);
	struct doc *d = doc_obj();
	doc_set_str(d, "SubnetCidrReservationId", id);
	doc_set_str(d, "SubnetId", subnet->r_id);
	doc_set_str(d, "Cidr", norm);
	doc_set_str(d, "ReservationType", type);
	doc_set_str(d, "OwnerId", api_account(rq));
	if (desc)
		doc_set_str(d, "Description", desc);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_SCR));
	struct doc *r = api_put(rq, RT_SCR, id, d);
	if (!r)
		return -1;
	doc_set(rq->rq_out, "SubnetCidrReservation", doc_clone(r));
	return 0;
}

int handle_DeleteSubnetCidrReservation(struct api_req *rq)
{
	struct res *r = api_require(rq, "SubnetCidrReservationId", RT_SCR, "InvalidSubnetCidrReservationID.NotFound",
				    "subnetCidrReservation");
	if (!r)
		return -1;
	struct doc *gone = doc_clone(r->r_doc);
	if (api_delete(rq, r->r_id) < 0) {
		doc_free(gone);
		return -1;
	}
	doc_set(rq->rq_out, "DeletedSubnetCidrReservation", gone);
	return 0;
}

static bool filter_matches(const struct doc *filters, const struct doc *d)
{
	static const struct {
		const char *name, *key;
	} keys[] = {
		{ "reservationType", "ReservationType" },
		{ "subnet-id", "SubnetId" },
		{ "owner-id", "OwnerId" },
	};
	doc_foreach(f, filters) {
		const char *name = doc_get_str(f, "Name");
		const char *have = NULL;
		for (size_t i = 0; name && i < ARRAY_LEN(keys); i++)
			if (str_eq(name, keys[i].name))
				have = doc_get_str(d, keys[i].key);
		if (name && strncmp(name, "tag:", 4) == 0) {
			doc_foreach(t, doc_get(d, "Tags"))
				if (str_eq(doc_get_str(t, "Key"), name + 4))
					have = doc_get_str(t, "Value");
		}
		bool any = false;
		doc_foreach(v, doc_get(f, "Values"))
			any |= v->d_type == DOC_STR && str_eq(v->d_str, have);
		if (!any)
			return false;
	}
	return true;
}

int handle_GetSubnetCidrReservations(struct api_req *rq)
{
	struct res *subnet = api_require(rq, "SubnetId", RT_SUBNET, "InvalidSubnetID.NotFound", "subnet");
	if (!subnet)
		return -1;
	const struct doc *filters = doc_get(rq->rq_in, "Filters");
	doc_foreach(f, filters) {
		const char *name = doc_get_str(f, "Name");
		if (!name || (strncmp(name, "tag:", 4) != 0 && !str_eq(name, "reservationType") &&
			      !str_eq(name, "subnet-id") && !str_eq(name, "owner-id")))
			return api_fail(rq, "InvalidParameterValue", "The filter '%.64s' is invalid", name ? name : "");
	}
	int64_t limit = doc_get_int(rq->rq_in, "MaxResults", 1000);
	if (limit < 5 || limit > 1000)
		return api_fail(rq, "InvalidParameterValue",
				"Value ( %" PRId64 " ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", limit);
	int64_t after = 0;
	const char *token = doc_get_str(rq->rq_in, "NextToken");
	if (token && *token) {
		char *end;
		after = strncmp(token, SCR_TOKEN_PREFIX, 6) == 0 ? strtoll(token + 6, &end, 16) : -1;
		if (after <= 0 || *end)
			return api_fail(rq, "InvalidNextToken", "The token '%.80s' is invalid", token);
	}
	struct doc *out = doc_set(rq->rq_out, "SubnetIpv4CidrReservations", doc_list());
	doc_set(rq->rq_out, "SubnetIpv6CidrReservations", doc_list());
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_SCR, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = list[i]->r_doc;
		if (list[i]->r_ord < after || !str_eq(doc_get_str(d, "SubnetId"), subnet->r_id) || !filter_matches(filters, d))
			continue;
		if ((int64_t)out->d_count == limit) {
			char tok[48];
			snprintf(tok, sizeof(tok), SCR_TOKEN_PREFIX "%" PRIx64, (uint64_t)list[i]->r_ord);
			doc_set_str(rq->rq_out, "NextToken", tok);
			break;
		}
		doc_push(out, doc_ref(d));
	}
	return 0;
}

bool subnet_reserved_explicit(struct api_req *rq, const char *subnet_id, uint32_t ip)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_SCR, &n);
	for (size_t i = 0; i < n; i++) {
		struct cidr4 c;
		if (str_eq(doc_get_str(list[i]->r_doc, "SubnetId"), subnet_id) &&
		    str_eq(doc_get_str(list[i]->r_doc, "ReservationType"), "explicit") &&
		    cidr_parse(doc_get_str(list[i]->r_doc, "Cidr"), &c, NULL) && cidr_contains_ip(&c, ip))
			return true;
	}
	return false;
}
