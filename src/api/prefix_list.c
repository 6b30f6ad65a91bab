/*
 * prefix_list.c — managed prefix lists: CreateManagedPrefixList,
 * ModifyManagedPrefixList, DescribeManagedPrefixLists,
 * DeleteManagedPrefixList, GetManagedPrefixListEntries,
 * GetManagedPrefixListAssociations; DescribePrefixLists (the AWS-managed
 * lists of the gateway endpoints' services); and the lookups the rest of
 * vpcd uses (security group rules' PrefixListIds, routes'
 * DestinationPrefixListId, the data plane's expansion into CIDRs).
 *
 * A list's doc is botocore's ManagedPrefixList (PrefixListId,
 * AddressFamily, State, PrefixListArn, PrefixListName, MaxEntries, Version,
 * Tags, OwnerId) plus vpcd's "_Entries" (the current version's
 * [{Cidr, Description}], sorted by address) and "_History" (earlier
 * versions' [{Version, Entries}], the last PL_HISTORY_MAX kept, for
 * GetManagedPrefixListEntries' TargetVersion). A list starts at version 1;
 * each Modify that adds or removes entries makes a new version (removals
 * first, then additions); renaming or resizing does not.
 *
 * The AWS-managed lists (com.amazonaws.<region>.s3 and .dynamodb, owner
 * "AWS", read-only) enter the cache the first time anything looks for a
 * prefix list (prefix_lists_ensure_aws). Their ids are AWS's in us-east-1
 * and derived from the name elsewhere; their CIDRs are AWS's us-east-1
 * ranges in every region (vpcd keeps no per-region table).
 *
 * Lists are IPv4 or IPv6; the data plane carries the IPv4 entries only.
 */
#include "api/handlers.h"
#include "api/resources.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define PL_WHAT "prefix list"		/* "The prefix list ID 'pl-…' does not exist" */
#define PL_NOTFOUND "InvalidPrefixListID.NotFound"
#define PL_MAX_ENTRIES_MAX 1000		/* MaxEntries: 1..1000 */
#define PL_ENTRIES_PER_REQUEST 100	/* AWS: entries added or removed per request */
#define PL_NAME_MAX 255
#define PL_DESCRIPTION_MAX 255
#define PL_HISTORY_MAX 100		/* earlier versions kept */
#define PL_TOKEN_PREFIX "vpcd1."

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* --- the AWS-managed lists ---------------------------------------------------- */

struct aws_list {
	const char *al_service;		/* "s3": com.amazonaws.<region>.s3 */
	const char *al_id_us_east_1;
	const char *const *al_cidrs;
};

static const char *const s3_cidrs[] = {
	"3.5.0.0/19", "16.15.176.0/20", "16.182.0.0/16", "18.34.0.0/19", "18.34.232.0/21", "52.216.0.0/15",
	"54.231.0.0/16", NULL,
};
static const char *const dynamodb_cidrs[] = {
	"3.218.180.0/23", "3.218.182.0/24", "52.94.0.0/22", "52.119.224.0/20", NULL,
};
static const struct aws_list aws_lists[] = {
	{ "s3", "pl-63a5400a", s3_cidrs },
	{ "dynamodb", "pl-02cd2c6b", dynamodb_cidrs },
};

static void aws_list_id(const struct aws_list *al, const char *region, char *out, size_t len)
{
	if (str_eq(region, "us-east-1")) {
		snprintf(out, len, "%s", al->al_id_us_east_1);
		return;
	}
	/* FNV-1a of the name: stable across restarts and vpcd instances */
	char name[128];
	snprintf(name, sizeof(name), "com.amazonaws.%s.%s", region, al->al_service);
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(out, len, "pl-%08" PRIx32, h);
}

/* Entries sorted by address then length (AWS lists them in order). */
static int entry_cmp(const void *a, const void *b)
{
	const struct doc *x = *(const struct doc *const *)a, *y = *(const struct doc *const *)b;
	struct cidr4 cx, cy;
	bool px = cidr_parse(doc_get_str(x, "Cidr"), &cx, NULL), py = cidr_parse(doc_get_str(y, "Cidr"), &cy, NULL);
	if (px && py) {
		if (cx.c_addr != cy.c_addr)
			return cx.c_addr < cy.c_addr ? -1 : 1;
		return (int)cx.c_len - (int)cy.c_len;
	}
	if (px != py)
		return px ? -1 : 1;	/* IPv4 before IPv6 */
	return strcmp(doc_get_str(x, "Cidr"), doc_get_str(y, "Cidr"));
}

static struct doc *entries_sorted(struct doc *list)
{
	size_t n = list->d_count;
	if (n < 2)
		return list;
	struct doc **v = calloc(n, sizeof(*v));
	if (!v)
		abort();
	size_t i = 0;
	doc_foreach(e, list)
		v[i++] = doc_clone(e);
	qsort(v, n, sizeof(*v), entry_cmp);
	struct doc *out = doc_list();
	for (i = 0; i < n; i++)
		doc_push(out, v[i]);
	free(v);
	doc_free(list);
	return out;
}

int prefix_lists_ensure_aws(struct api_req *rq)
{
	for (size_t i = 0; i < ARRAY_LEN(aws_lists); i++) {
		char id[RESOURCE_ID_MAX], name[128], arn[192];
		aws_list_id(&aws_lists[i], api_region(rq), id, sizeof(id));
		if (cache_get_typed(api_cache(rq), RT_PREFIX_LIST, id))
			continue;
		snprintf(name, sizeof(name), "com.amazonaws.%s.%s", api_region(rq), aws_lists[i].al_service);
		snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:aws:prefix-list/%s", api_region(rq), id);
		struct doc *d = doc_obj();
		doc_set_str(d, "PrefixListId", id);
		doc_set_str(d, "AddressFamily", "IPv4");
		doc_set_str(d, "State", "create-complete");
		doc_set_str(d, "PrefixListArn", arn);
		doc_set_str(d, "PrefixListName", name);
		doc_set_str(d, "OwnerId", "AWS");
		doc_get_list(d, "Tags");
		struct doc *entries = doc_get_list(d, "_Entries");
		for (const char *const *c = aws_lists[i].al_cidrs; *c; c++)
			doc_set_str(doc_push(entries, doc_obj()), "Cidr", *c);
		doc_set_bool(d, "_AwsManaged", true);
		if (!api_put(rq, RT_PREFIX_LIST, id, d))
			return -1;
	}
	return 0;
}

struct res *prefix_list_require(struct api_req *rq, const char *id)
{
	if (prefix_lists_ensure_aws(rq) < 0)
		return NULL;
	struct res *r = id ? cache_get_typed(api_cache(rq), RT_PREFIX_LIST, id) : NULL;
	if (!r)
		api_not_found(rq, PL_NOTFOUND, PL_WHAT, id ? id : "");
	return r;
}

/* --- entries in requests --------------------------------------------------------- */

/* A list entry's CIDR in its family, normalised; false (after api_fail)
 * when malformed or with host bits set (AWS refuses those too). */
static bool entry_cidr(struct api_req *rq, const char *family, const char *text, char *out, size_t len)
{
	static const char fmt[] = "The specified CIDR (%.64s) is not valid. For example, specify a CIDR in the following form: %s.";
	if (!text || !*text) {
		api_fail(rq, "MissingParameter", "The request must contain the parameter cidr");
		return false;
	}
	if (str_eq(family, "IPv4")) {
		struct cidr4 c;
		bool host_bits = false;
		if (!strchr(text, '/') || !cidr_parse(text, &c, &host_bits) || host_bits) {
			api_fail(rq, "InvalidParameterValue", fmt, text, "10.0.0.0/16");
			return false;
		}
		cidr_format(&c, out);
		return true;
	}
	/* IPv6: address/len, no host bits */
	char addr[64];
	const char *slash = strchr(text, '/');
	char *end;
	long plen = slash ? strtol(slash + 1, &end, 10) : -1;
	struct in6_addr a;
	if (!slash || (size_t)(slash - text) >= sizeof(addr) || *end || end == slash + 1 || plen < 0 || plen > 128) {
		api_fail(rq, "InvalidParameterValue", fmt, text, "2001:db8::/32");
		return false;
	}
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET6, addr, &a) != 1) {
		api_fail(rq, "InvalidParameterValue", fmt, text, "2001:db8::/32");
		return false;
	}
	for (int bit = (int)plen; bit < 128; bit++)
		if (a.s6_addr[bit / 8] & (0x80 >> (bit % 8))) {
			api_fail(rq, "InvalidParameterValue", fmt, text, "2001:db8::/32");
			return false;
		}
	char norm[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &a, norm, sizeof(norm));
	snprintf(out, len, "%s/%ld", norm, plen);
	return true;
}

static struct doc *entry_find(struct doc *entries, const char *cidr)
{
	doc_foreach(e, entries)
		if (str_eq(doc_get_str(e, "Cidr"), cidr))
			return e;
	return NULL;
}

/* Adds the request's entries (member: "Entries" or "AddEntries") to
 * entries; false after api_fail. */
static bool entries_add(struct api_req *rq, const char *member, const char *family, struct doc *entries)
{
	const struct doc *in = doc_get(rq->rq_in, member);
	if (in && in->d_count > PL_ENTRIES_PER_REQUEST) {
		api_fail(rq, "InvalidParameterValue", "You can specify up to %d entries per request.", PL_ENTRIES_PER_REQUEST);
		return false;
	}
	doc_foreach(e, in) {
		char cidr[96];
		const char *desc = doc_get_str(e, "Description");
		if (!entry_cidr(rq, family, doc_get_str(e, "Cidr"), cidr, sizeof(cidr)))
			return false;
		if (desc && strlen(desc) > PL_DESCRIPTION_MAX) {
			api_fail(rq, "InvalidParameterValue", "The description can be at most %d characters.", PL_DESCRIPTION_MAX);
			return false;
		}
		if (entry_find(entries, cidr)) {
			api_fail(rq, "InvalidParameterValue", "The prefix list already has an entry for CIDR %s.", cidr);
			return false;
		}
		struct doc *n = doc_push(entries, doc_obj());
		doc_set_str(n, "Cidr", cidr);
		if (desc)
			doc_set_str(n, "Description", desc);
	}
	return true;
}

static bool max_entries_ok(struct api_req *rq, const struct doc *maxd)
{
	if (maxd && (maxd->d_int < 1 || maxd->d_int > PL_MAX_ENTRIES_MAX)) {
		api_fail(rq, "InvalidParameterValue", "The maximum number of entries must be between 1 and %d.", PL_MAX_ENTRIES_MAX);
		return false;
	}
	return true;
}

static bool name_ok(struct api_req *rq, const char *name)
{
	if (!*name || strlen(name) > PL_NAME_MAX) {
		api_fail(rq, "InvalidParameterValue", "The prefix list name must be 1 to %d characters.", PL_NAME_MAX);
		return false;
	}
	if (strncmp(name, "com.amazonaws", strlen("com.amazonaws")) == 0) {
		api_fail(rq, "InvalidParameterValue", "The prefix list name cannot start with com.amazonaws.");
		return false;
	}
	return true;
}

/* The answer: the list without vpcd's keys (they never reach the wire). */
static void answer_list(struct api_req *rq, const struct doc *pl, const char *state)
{
	struct doc *out = doc_set(rq->rq_out, "PrefixList", doc_clone(pl));
	if (state)
		doc_set_str(out, "State", state);
}

int handle_CreateManagedPrefixList(struct api_req *rq)
{
	const char *name = api_require_str(rq, "PrefixListName");
	const char *family = name ? api_require_str(rq, "AddressFamily") : NULL;
	if (!family)
		return -1;
	if (!str_eq(family, "IPv4") && !str_eq(family, "IPv6"))
		return api_fail(rq, "InvalidParameterValue", "The address family must be IPv4 or IPv6.");
	const struct doc *maxd = doc_get(rq->rq_in, "MaxEntries");
	if (!maxd)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter MaxEntries");
	if (!name_ok(rq, name) || !max_entries_ok(rq, maxd))
		return -1;
	struct doc *entries = doc_list();
	if (!entries_add(rq, "Entries", family, entries)) {
		doc_free(entries);
		return -1;
	}
	if ((int64_t)entries->d_count > maxd->d_int) {
		doc_free(entries);
		return api_fail(rq, "InvalidParameterValue", "The number of entries exceeds the maximum number of entries (%" PRId64 ").",
				maxd->d_int);
	}
	char id[RESOURCE_ID_MAX], arn[192];
	new_id("pl", id);
	snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:prefix-list/%s", api_region(rq), api_account(rq), id);
	struct doc *d = doc_obj();
	doc_set_str(d, "PrefixListId", id);
	doc_set_str(d, "AddressFamily", family);
	doc_set_str(d, "State", "create-complete");
	doc_set_str(d, "PrefixListArn", arn);
	doc_set_str(d, "PrefixListName", name);
	doc_set_int(d, "MaxEntries", maxd->d_int);
	doc_set_int(d, "Version", 1);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_PREFIX_LIST));
	doc_set_str(d, "OwnerId", api_account(rq));
	doc_set(d, "_Entries", entries_sorted(entries));
	doc_get_list(d, "_History");
	struct doc *pl = api_put(rq, RT_PREFIX_LIST, id, d);
	if (!pl)
		return -1;
	answer_list(rq, pl, "create-in-progress");
	return 0;
}

static struct res *require_list(struct api_req *rq, bool for_change)
{
	const char *id = api_require_str(rq, "PrefixListId");
	if (!id)
		return NULL;
	struct res *r = prefix_list_require(rq, id);
	if (r && for_change && doc_get_bool(r->r_doc, "_AwsManaged", false)) {
		api_fail(rq, "UnauthorizedOperation", "The prefix list %s is managed by AWS and cannot be changed.", r->r_id);
		return NULL;
	}
	return r;
}

int handle_ModifyManagedPrefixList(struct api_req *rq)
{
	struct res *r = require_list(rq, true);
	if (!r)
		return -1;
	const struct doc *cur = doc_get(r->r_doc, "_Entries");
	int64_t version = doc_get_int(r->r_doc, "Version", 1);
	const struct doc *want = doc_get(rq->rq_in, "CurrentVersion");
	if (want && want->d_int != version)
		return api_fail(rq, "PrefixListVersionMismatch", "The prefix list has the incorrect version number.");
	const struct doc *add = doc_get(rq->rq_in, "AddEntries"), *remove = doc_get(rq->rq_in, "RemoveEntries");
	bool entries_change = (add && add->d_count) || (remove && remove->d_count);
	const struct doc *maxd = doc_get(rq->rq_in, "MaxEntries");
	if (maxd && entries_change)
		return api_fail(rq, "InvalidParameterCombination",
				"You cannot modify the entries and the maximum entries for the prefix list in the same request.");
	if (!max_entries_ok(rq, maxd))
		return -1;
	const char *name = doc_get_str(rq->rq_in, "PrefixListName");
	if (name && !name_ok(rq, name))
		return -1;
	if (remove && remove->d_count > PL_ENTRIES_PER_REQUEST)
		return api_fail(rq, "InvalidParameterValue", "You can specify up to %d entries per request.", PL_ENTRIES_PER_REQUEST);
	const char *family = doc_get_str(r->r_doc, "AddressFamily");
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	struct doc *d = doc_clone(r->r_doc);
	struct doc *entries = doc_clone(cur);
	/* removals first, then additions (a CIDR may be removed and re-added
	 * with a new description in one request) */
	doc_foreach(e, remove) {
		char cidr[96];
		struct doc *found;
		if (!entry_cidr(rq, family, doc_get_str(e, "Cidr"), cidr, sizeof(cidr)))
			goto fail;
		if (!(found = entry_find(entries, cidr))) {
			api_fail(rq, "InvalidParameterValue", "The prefix list has no entry for CIDR %s.", cidr);
			goto fail;
		}
		doc_delete_child(entries, found);
	}
	if (!entries_add(rq, "AddEntries", family, entries))
		goto fail;
	int64_t max = maxd ? maxd->d_int : doc_get_int(d, "MaxEntries", PL_MAX_ENTRIES_MAX);
	if ((int64_t)entries->d_count > max) {
		api_fail(rq, "InvalidParameterValue", "The number of entries exceeds the maximum number of entries (%" PRId64 ").", max);
		goto fail;
	}
	if (maxd)
		doc_set_int(d, "MaxEntries", maxd->d_int);
	if (name)
		doc_set_str(d, "PrefixListName", name);
	if (entries_change) {
		struct doc *history = doc_get_list(d, "_History");
		struct doc *old = doc_push(history, doc_obj());
		doc_set_int(old, "Version", version);
		doc_set(old, "Entries", doc_clone(cur));
		while (history->d_count > PL_HISTORY_MAX)
			doc_delete_child(history, history->d_first);
		doc_set_int(d, "Version", version + 1);
		doc_set(d, "_Entries", entries_sorted(entries));
		entries = NULL;
	} else {
		doc_free(entries);
		entries = NULL;
	}
	doc_set_str(d, "State", "modify-complete");
	struct doc *pl = api_put(rq, RT_PREFIX_LIST, id, d);
	if (!pl)
		return -1;
	answer_list(rq, pl, "modify-in-progress");
	return 0;
fail:
	doc_free(entries);
	doc_free(d);
	return -1;
}

/* Whether a security group rule or a route uses the list; calls fn for each
 * user (group or route table id) when fn is given. The number of users. */
static size_t list_users(struct api_req *rq, const char *id, void (*fn)(struct api_req *, const char *, void *),
			 void *arg)
{
	size_t n, count = 0;
	struct res **rules = cache_list(api_cache(rq), RT_SG_RULE, &n);
	for (size_t i = 0; i < n; i++) {
		if (!str_eq(doc_get_str(rules[i]->r_doc, "PrefixListId"), id))
			continue;
		const char *g = doc_get_str(rules[i]->r_doc, "GroupId");
		bool seen = false;	/* each group once: O(rules^2) over a list's users, few */
		for (size_t k = 0; k < i && !seen; k++)
			seen = str_eq(doc_get_str(rules[k]->r_doc, "PrefixListId"), id) &&
			       str_eq(doc_get_str(rules[k]->r_doc, "GroupId"), g);
		if (seen)
			continue;
		count++;
		if (fn)
			fn(rq, g, arg);
	}
	struct res **tables = cache_list(api_cache(rq), RT_ROUTE_TABLE, &n);
	for (size_t i = 0; i < n; i++)
		doc_foreach(route, doc_get(tables[i]->r_doc, "Routes"))
			if (str_eq(doc_get_str(route, "DestinationPrefixListId"), id)) {
				count++;
				if (fn)
					fn(rq, tables[i]->r_id, arg);
				break;
			}
	return count;
}

int handle_DeleteManagedPrefixList(struct api_req *rq)
{
	struct res *r = require_list(rq, true);
	if (!r)
		return -1;
	if (list_users(rq, r->r_id, NULL, NULL))
		return api_fail(rq, "InvalidPrefixListModification",
				"The prefix list %s is referenced by a security group rule or a route and cannot be deleted.", r->r_id);
	struct doc *gone = doc_clone(r->r_doc);
	if (api_delete(rq, r->r_id) < 0) {
		doc_free(gone);
		return -1;
	}
	answer_list(rq, gone, "delete-in-progress");
	doc_free(gone);
	return 0;
}

static const struct filter_def pl_filters[] = {
	{ "owner-id", "OwnerId" },
	{ "prefix-list-id", "PrefixListId" },
	{ "prefix-list-name", "PrefixListName" },
	{ NULL, NULL },
};

int handle_DescribeManagedPrefixLists(struct api_req *rq)
{
	if (prefix_lists_ensure_aws(rq) < 0)
		return -1;
	static const struct describe_spec spec = {
		RT_PREFIX_LIST, "PrefixListIds", PL_NOTFOUND, PL_WHAT, pl_filters, "PrefixLists", true, 1, 100, NULL,
	};
	return api_describe(rq, &spec);
}

/* --- paged answers of the Get actions ------------------------------------------ */

/* MaxResults (min..max, default max) and NextToken (an offset) of a Get
 * action; false after api_fail. */
static bool page_params(struct api_req *rq, int64_t min, int64_t max, int64_t *limit, size_t *offset)
{
	const struct doc *maxd = doc_get(rq->rq_in, "MaxResults");
	*limit = max;
	if (maxd) {
		if (maxd->d_int < min || maxd->d_int > max) {
			api_fail(rq, "InvalidParameterValue",
				 "Value ( %" PRId64 " ) for parameter maxResults is invalid. Expecting a value between %" PRId64 " and %" PRId64 ".",
				 maxd->d_int, min, max);
			return false;
		}
		*limit = maxd->d_int;
	}
	*offset = 0;
	const char *token = doc_get_str(rq->rq_in, "NextToken");
	if (token && *token) {
		char *end;
		long long v = -1;
		if (strncmp(token, PL_TOKEN_PREFIX, strlen(PL_TOKEN_PREFIX)) == 0)
			v = strtoll(token + strlen(PL_TOKEN_PREFIX), &end, 10);
		if (v <= 0 || *end) {
			api_fail(rq, "InvalidNextToken", "The token '%.80s' is invalid", token);
			return false;
		}
		*offset = (size_t)v;
	}
	return true;
}

static void page_token(struct api_req *rq, size_t next)
{
	char tok[48];
	snprintf(tok, sizeof(tok), PL_TOKEN_PREFIX "%zu", next);
	doc_set_str(rq->rq_out, "NextToken", tok);
}

int handle_GetManagedPrefixListEntries(struct api_req *rq)
{
	struct res *r = require_list(rq, false);
	if (!r)
		return -1;
	int64_t limit;
	size_t offset;
	if (!page_params(rq, 1, 100, &limit, &offset))
		return -1;
	const struct doc *entries = doc_get(r->r_doc, "_Entries");
	const struct doc *target = doc_get(rq->rq_in, "TargetVersion");
	if (target && target->d_int != doc_get_int(r->r_doc, "Version", 1)) {
		entries = NULL;
		doc_foreach(h, doc_get(r->r_doc, "_History"))
			if (doc_get_int(h, "Version", 0) == target->d_int)
				entries = doc_get(h, "Entries");
		if (!entries)
			return api_fail(rq, "InvalidParameterValue", "The prefix list %s has no version %" PRId64 ".", r->r_id,
					target->d_int);
	}
	struct doc *out = doc_set(rq->rq_out, "Entries", doc_list());
	size_t i = 0;
	doc_foreach(e, entries) {
		if (i++ < offset)
			continue;
		if ((int64_t)out->d_count == limit) {
			page_token(rq, i - 1);
			break;
		}
		doc_push(out, doc_clone(e));
	}
	return 0;
}

struct assoc_page {
	struct doc *ap_out;
	size_t ap_index, ap_offset;
	int64_t ap_limit;
	bool ap_more;
};

static void add_association(struct api_req *rq, const char *resource, void *arg)
{
	struct assoc_page *ap = arg;
	size_t i = ap->ap_index++;
	if (i < ap->ap_offset || ap->ap_more)
		return;
	if ((int64_t)ap->ap_out->d_count == ap->ap_limit) {
		ap->ap_more = true;
		page_token(rq, i);
		return;
	}
	struct doc *a = doc_push(ap->ap_out, doc_obj());
	doc_set_str(a, "ResourceId", resource);
	doc_set_str(a, "ResourceOwner", api_account(rq));
}

int handle_GetManagedPrefixListAssociations(struct api_req *rq)
{
	struct res *r = require_list(rq, false);
	if (!r)
		return -1;
	struct assoc_page ap = { .ap_out = doc_set(rq->rq_out, "PrefixListAssociations", doc_list()) };
	if (!page_params(rq, 5, 255, &ap.ap_limit, &ap.ap_offset))
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	list_users(rq, id, add_association, &ap);
	return 0;
}

/* --- DescribePrefixLists: the AWS services' lists ----------------------------- */

int handle_DescribePrefixLists(struct api_req *rq)
{
	if (prefix_lists_ensure_aws(rq) < 0)
		return -1;
	static const char *const known[] = { "prefix-list-id", "prefix-list-name", NULL };
	const struct doc *filters = doc_get(rq->rq_in, "Filters");
	doc_foreach(f, filters) {
		const char *n = doc_get_str(f, "Name");
		bool ok = false;
		for (const char *const *k = known; *k && n; k++)
			ok |= str_eq(*k, n);
		if (!ok)
			return api_fail(rq, "InvalidParameterValue", "The filter '%.64s' is invalid", n ? n : "");
	}
	const struct doc *ids = doc_get(rq->rq_in, "PrefixListIds");
	doc_foreach(id, ids) {
		struct res *r = id->d_type == DOC_STR ? cache_get_typed(api_cache(rq), RT_PREFIX_LIST, id->d_str) : NULL;
		if (!r || !doc_get_bool(r->r_doc, "_AwsManaged", false))
			return api_not_found(rq, PL_NOTFOUND, PL_WHAT, id->d_type == DOC_STR ? id->d_str : "");
	}
	struct doc *out = doc_set(rq->rq_out, "PrefixLists", doc_list());
	size_t n;
	struct res **lists = cache_list(api_cache(rq), RT_PREFIX_LIST, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = lists[i]->r_doc;
		if (!doc_get_bool(d, "_AwsManaged", false))
			continue;
		bool wanted = !ids || !ids->d_count;
		doc_foreach(id, ids)
			wanted |= id->d_type == DOC_STR && str_eq(id->d_str, lists[i]->r_id);
		doc_foreach(f, filters) {
			const char *have = str_eq(doc_get_str(f, "Name"), "prefix-list-id") ? lists[i]->r_id
											  : doc_get_str(d, "PrefixListName");
			bool any = false;
			doc_foreach(v, doc_get(f, "Values"))
				any |= v->d_type == DOC_STR && str_eq(v->d_str, have);
			wanted &= any;
		}
		if (!wanted)
			continue;
		struct doc *item = doc_push(out, doc_obj());
		doc_set_str(item, "PrefixListId", lists[i]->r_id);
		doc_set_str(item, "PrefixListName", doc_get_str(d, "PrefixListName"));
		struct doc *cidrs = doc_get_list(item, "Cidrs");
		doc_foreach(e, doc_get(d, "_Entries"))
			doc_push(cidrs, doc_str(doc_get_str(e, "Cidr")));
	}
	return 0;
}
