/*
 * describe.c — the shared part of every Describe action: explicit ids,
 * filters (by AWS's filter names, each mapped to a member path, values
 * ORed, filters ANDed, '*' and '?' wildcards), and MaxResults/NextToken
 * paging in creation order. Cost: O(resources of the type) per page, or
 * O(ids log ids) when ids are named. Items are answered as refs to the
 * cached docs (unless decorated), so the answer copies nothing and the
 * writer can keep each item's XML with its doc (wire.c).
 */
#include "api/api_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILTER_VALUES 200
#define NEXT_TOKEN_PREFIX "vpcd1."

/* '*' any run, '?' one character; "\*" a literal star. */
static bool wildcard_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '\\' && (pat[1] == '*' || pat[1] == '?' || pat[1] == '\\')) {
			if (pat[1] == *s) {
				pat += 2;
				s++;
				continue;
			}
		} else if (*pat == '?' || (*pat && *pat != '*' && *pat == *s)) {
			pat++;
			s++;
			continue;
		} else if (*pat == '*') {
			star = pat++;
			resume = s;
			continue;
		}
		if (!star)
			return false;
		pat = star + 1;
		s = ++resume;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool values_match(const struct doc *values, const char *text)
{
	doc_foreach(v, values)
		if (v->d_type == DOC_STR && wildcard_match(v->d_str, text))
			return true;
	return false;
}

/* Walks path (dot-separated member names) from node; lists fan out. */
static bool path_match(const struct doc *node, const char *path, const struct doc *values)
{
	if (!node)
		return false;
	if (node->d_type == DOC_LIST) {
		doc_foreach(c, node)
			if (path_match(c, path, values))
				return true;
		return false;
	}
	if (!*path) {
		char buf[32];
		const char *text = doc_scalar_text(node, buf, sizeof(buf));
		return text && values_match(values, text);
	}
	const char *dot = strchr(path, '.');
	char seg[64];
	size_t n = dot ? (size_t)(dot - path) : strlen(path);
	if (n >= sizeof(seg))
		return false;
	memcpy(seg, path, n);
	seg[n] = '\0';
	return path_match(doc_get(node, seg), dot ? dot + 1 : "", values);
}

static bool tag_match(const struct doc *item, const char *key, const struct doc *values)
{
	doc_foreach(tag, doc_get(item, "Tags")) {
		const char *k = doc_get_str(tag, "Key");
		const char *v = doc_get_str(tag, "Value");
		if (k && strcmp(k, key) == 0 && values_match(values, v ? v : ""))
			return true;
	}
	return false;
}

struct compiled_filter {
	const char *cf_path;	/* NULL for tag:KEY */
	const char *cf_tag_key;
	const struct doc *cf_values;
};

static bool item_matches(const struct doc *item, const struct compiled_filter *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		bool ok = f[i].cf_tag_key ? tag_match(item, f[i].cf_tag_key, f[i].cf_values)
					  : path_match(item, f[i].cf_path, f[i].cf_values);
		if (!ok)
			return false;
	}
	return true;
}

static const struct filter_def common_filters[] = {
	{ "tag-key", "Tags.Key" },
	{ "tag-value", "Tags.Value" },
	{ "owner-id", "OwnerId" },
	{ NULL, NULL },
};

static const char *filter_path(const struct filter_def *defs, const char *name)
{
	for (const struct filter_def *f = defs; f && f->f_name; f++)
		if (strcmp(f->f_name, name) == 0)
			return f->f_path;
	for (const struct filter_def *f = common_filters; f->f_name; f++)
		if (strcmp(f->f_name, name) == 0)
			return f->f_path;
	return NULL;
}

#define NEXT_TOKEN_SHOWN_MAX 64	/* longer tokens are not echoed */
#define NEXT_TOKEN_HEX_MAX 16	/* an int64 */

/* The creation order a NextToken of ours names ("vpcd1." and up to 16
 * lower-case hex digits, no overflow), or -1. */
static int64_t next_token_ord(const char *token)
{
	size_t plen = strlen(NEXT_TOKEN_PREFIX);
	if (strncmp(token, NEXT_TOKEN_PREFIX, plen) != 0)
		return -1;
	const char *h = token + plen;
	size_t n = strlen(h);
	if (n == 0 || n > NEXT_TOKEN_HEX_MAX)
		return -1;
	uint64_t v = 0;
	for (; *h; h++) {
		int d = *h >= '0' && *h <= '9' ? *h - '0' : *h >= 'a' && *h <= 'f' ? *h - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	return v > INT64_MAX ? -1 : (int64_t)v;
}

static int res_ord_cmp(const void *a, const void *b)
{
	int64_t x = (*(struct res *const *)a)->r_ord, y = (*(struct res *const *)b)->r_ord;
	return (x > y) - (x < y);
}

int api_describe(struct api_req *rq, const struct describe_spec *spec)
{
	struct cache *cache = api_cache(rq);
	const struct doc *filters = doc_get(rq->rq_in, "Filters");
	size_t nf = filters ? filters->d_count : 0;
	struct compiled_filter *cf = nf ? calloc(nf, sizeof(*cf)) : NULL;
	struct res **wanted = NULL;	/* the resources named by ds_ids_member */
	int rc = -1;
	size_t k = 0;
	doc_foreach(f, filters) {
		const char *name = doc_get_str(f, "Name");
		const struct doc *values = doc_get(f, "Values");
		if (!name) {
			api_fail(rq, "InvalidParameterValue", "Every filter needs a Name");
			goto out;
		}
		if (!values || values->d_count == 0) {
			api_fail(rq, "InvalidParameterValue", "The filter '%.64s' needs at least one value", name);
			goto out;
		}
		if (values->d_count > MAX_FILTER_VALUES) {
			api_fail(rq, "FilterLimitExceeded", "The filter '%.64s' has more than %d values", name, MAX_FILTER_VALUES);
			goto out;
		}
		cf[k].cf_values = values;
		if (strncmp(name, "tag:", 4) == 0 && name[4]) {
			cf[k].cf_tag_key = name + 4;
		} else if (!(cf[k].cf_path = filter_path(spec->ds_filters, name))) {
			api_fail(rq, "InvalidParameterValue", "The filter '%.64s' is invalid", name);
			goto out;
		}
		k++;
	}

	const struct doc *ids = spec->ds_ids_member ? doc_get(rq->rq_in, spec->ds_ids_member) : NULL;
	int64_t max = INT64_MAX;
	const struct doc *maxd = doc_get(rq->rq_in, "MaxResults");
	const char *token = doc_get_str(rq->rq_in, "NextToken");
	if (maxd && spec->ds_paged) {
		if (ids && ids->d_count) {
			api_fail(rq, "InvalidParameterCombination",
				 "The parameter %s cannot be used with the parameter maxResults", spec->ds_ids_member);
			goto out;
		}
		if (maxd->d_int < spec->ds_max_results_min || maxd->d_int > spec->ds_max_results_max) {
			api_fail(rq, "InvalidParameterValue",
				 "Value ( %" PRId64 " ) for parameter maxResults is invalid. Expecting a value between %d and %d.",
				 maxd->d_int, spec->ds_max_results_min, spec->ds_max_results_max);
			goto out;
		}
		max = maxd->d_int;
	}
	int64_t start_ord = 0;
	if (token && *token && (start_ord = next_token_ord(token)) <= 0) {
		/* echoed only when it could be one of ours */
		bool plain = strlen(token) <= NEXT_TOKEN_SHOWN_MAX;
		for (const char *p = token; *p && plain; p++)
			plain = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				*p == '.' || *p == '-' || *p == '_';
		if (plain)
			api_fail(rq, "InvalidNextToken", "The token '%s' is invalid", token);
		else
			api_fail(rq, "InvalidNextToken", "The token is invalid");
		goto out;
	}

	struct doc *out = doc_set(rq->rq_out, spec->ds_out_member, doc_list());
	size_t n;
	struct res **list;
	if (ids && ids->d_count) {
		/* the named resources, each once, in creation order like a
		 * listing: O(ids log ids), whatever the number of resources */
		wanted = calloc(ids->d_count, sizeof(*wanted));
		if (!wanted)
			abort();
		n = 0;
		doc_foreach(id, ids) {
			struct res *r = id->d_type == DOC_STR ? cache_get_typed(cache, spec->ds_type, id->d_str) : NULL;
			if (!r) {
				api_fail(rq, spec->ds_notfound_code, "The %s ID '%.64s' does not exist", spec->ds_what,
					 id->d_type == DOC_STR ? id->d_str : "");
				goto out;
			}
			wanted[n++] = r;
		}
		qsort(wanted, n, sizeof(*wanted), res_ord_cmp);
		size_t unique = 0;
		for (size_t j = 0; j < n; j++)
			if (unique == 0 || wanted[unique - 1] != wanted[j])
				wanted[unique++] = wanted[j];
		n = unique;
		list = wanted;
	} else {
		list = cache_list(cache, spec->ds_type, &n);
	}
	size_t i = cache_lower_bound(list, n, start_ord);
	int64_t emitted = 0;
	for (; i < n; i++) {
		const struct res *r = list[i];
		/* filters see the item as it is answered: decorated (e.g. a route
		 * table's propagated routes), else a view of the cached doc
		 * (nothing changes it before the answer is written) */
		struct doc *view = NULL;
		if (spec->ds_decorate) {
			view = doc_clone(r->r_doc);
			spec->ds_decorate(rq, view);
		}
		if (!item_matches(view ? view : r->r_doc, cf, k)) {
			doc_free(view);
			continue;
		}
		if (emitted == max) {
			doc_free(view);
			char tok[64];
			snprintf(tok, sizeof(tok), NEXT_TOKEN_PREFIX "%" PRIx64, (uint64_t)r->r_ord);
			doc_set_str(rq->rq_out, "NextToken", tok);
			break;
		}
		doc_push(out, view ? view : doc_ref(r->r_doc));
		emitted++;
	}
	rc = 0;
out:
	free(wanted);
	free(cf);
	return rc;
}
