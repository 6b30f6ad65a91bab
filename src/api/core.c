/*
 * core.c — the api object, errors, and the state changes of handlers with
 * their undo log (api.h, api_int.h).
 */
#include "api/api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"

struct api *api_new(const struct api_config *cfg, struct store *st, struct cache *cache)
{
	struct api *api = calloc(1, sizeof(*api));
	if (!api)
		abort();
	api->a_cfg = *cfg;
	api->a_store = st;
	api->a_cache = cache;
	if (cfg->ac_quota)
		api->a_quota = *cfg->ac_quota;
	else
		quota_defaults(&api->a_quota);
	subnet_index_attach(api);
	quota_attach(api);
	return api;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	api_undo_clear(api);
	subnet_index_detach(api);
	quota_detach(api);
	free(api->a_region_ready);
	free(api->a_undo);
	free(api);
}

int api_fail(struct api_req *rq, const char *code, const char *fmt, ...)
{
	if (rq->rq_err_code)
		return -1;	/* the first error is the one reported */
	rq->rq_err_code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rq->rq_err_msg, sizeof(rq->rq_err_msg), fmt, ap);
	va_end(ap);
	return -1;
}

int api_not_found(struct api_req *rq, const char *code, const char *what, const char *id)
{
	return api_fail(rq, code, "The %s ID '%.64s' does not exist", what, id);
}

struct cache *api_cache(struct api_req *rq) { return rq->rq_api->a_cache; }
const char *api_region(struct api_req *rq)
{
	return rq->rq_region ? rq->rq_region : rq->rq_api->a_cfg.ac_region;
}
const char *api_account(struct api_req *rq) { return rq->rq_api->a_cfg.ac_account_id; }

static int ensure_txn(struct api_req *rq)
{
	struct api *api = rq->rq_api;
	if (!api->a_txn_open) {
		if (store_begin(api->a_store) < 0)
			return api_fail(rq, "InternalError", "The state store is unavailable");
		api->a_txn_open = true;
	}
	if (!api->a_current_savepoint) {
		if (store_savepoint(api->a_store) < 0)
			return api_fail(rq, "InternalError", "The state store is unavailable");
		api->a_current_savepoint = true;
	}
	return 0;
}

static void undo_push(struct api *api, const char *type, const char *id, int64_t ord,
		      struct doc *old, bool existed)
{
	if (api->a_undo_len == api->a_undo_cap) {
		api->a_undo_cap = api->a_undo_cap ? api->a_undo_cap * 2 : 64;
		api->a_undo = realloc(api->a_undo, api->a_undo_cap * sizeof(*api->a_undo));
		if (!api->a_undo)
			abort();
	}
	struct undo_entry *u = &api->a_undo[api->a_undo_len++];
	u->u_id = strdup(id);
	u->u_type = strdup(type);
	u->u_ord = ord;
	u->u_old = old;
	u->u_existed = existed;
}

struct doc *api_put(struct api_req *rq, const char *type, const char *id, struct doc *doc)
{
	struct api *api = rq->rq_api;
	if (ensure_txn(rq) < 0) {
		doc_free(doc);
		return NULL;
	}
	struct res *r = cache_get_any(api->a_cache, id);
	if (!doc_get_str(doc, CACHE_REGION_KEY))
		doc_set_str(doc, CACHE_REGION_KEY, r && r->r_region ? r->r_region : api_region(rq));
	int64_t ord = r ? r->r_ord : cache_next_ord(api->a_cache);
	struct strbuf json = STRBUF_INIT;
	doc_to_json(doc, &json);
	int rc = store_put(api->a_store, type, id, ord, json.sb_data);
	sb_free(&json);
	if (rc < 0) {
		doc_free(doc);
		api_fail(rq, "InternalError", "The change could not be stored");
		return NULL;
	}
	struct doc *old = cache_put(api->a_cache, type, id, ord, doc);
	undo_push(api, type, id, ord, old, r != NULL);
	return doc;
}

int api_delete(struct api_req *rq, const char *id_arg)
{
	struct api *api = rq->rq_api;
	struct res *r = cache_get(api->a_cache, id_arg);
	if (!r)
		return 0;
	/* id_arg may be the resource's own r_id, which cache_remove frees */
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", id_arg);
	if (ensure_txn(rq) < 0)
		return -1;
	if (store_delete(api->a_store, r->r_type, id, r->r_ord) < 0)
		return api_fail(rq, "InternalError", "The change could not be stored");
	int64_t ord;
	char *type = NULL;
	struct doc *old = cache_remove(api->a_cache, id, &ord, &type);
	undo_push(api, type, id, ord, old, true);
	free(type);
	return 0;
}

void api_undo_to(struct api *api, size_t mark)
{
	while (api->a_undo_len > mark) {
		struct undo_entry *u = &api->a_undo[--api->a_undo_len];
		if (u->u_existed) {
			doc_free(cache_put(api->a_cache, u->u_type, u->u_id, u->u_ord, u->u_old));
		} else {
			doc_free(cache_remove(api->a_cache, u->u_id, NULL, NULL));
			doc_free(u->u_old);
		}
		free(u->u_id);
		free(u->u_type);
	}
}

void api_undo_clear(struct api *api)
{
	for (size_t i = 0; i < api->a_undo_len; i++) {
		doc_free(api->a_undo[i].u_old);
		free(api->a_undo[i].u_id);
		free(api->a_undo[i].u_type);
	}
	api->a_undo_len = 0;
}

const char *api_require_str(struct api_req *rq, const char *member)
{
	const char *v = doc_get_str(rq->rq_in, member);
	if (!v || !*v) {
		api_fail(rq, "MissingParameter", "The request must contain the parameter %s", member);
		return NULL;
	}
	return v;
}

struct res *api_require(struct api_req *rq, const char *member, const char *type,
			const char *notfound_code, const char *what)
{
	const char *id = api_require_str(rq, member);
	if (!id)
		return NULL;
	struct res *r = cache_get_typed(rq->rq_api->a_cache, type, id);
	if (!r)
		api_not_found(rq, notfound_code, what, id);
	return r;
}

struct doc *api_tags_from_spec(struct api_req *rq, const char *rtype)
{
	struct doc *tags = doc_list();
	doc_foreach(spec, doc_get(rq->rq_in, "TagSpecifications")) {
		const char *t = doc_get_str(spec, "ResourceType");
		if (t && strcmp(t, rtype) != 0)
			continue;
		doc_foreach(tag, doc_get(spec, "Tags")) {
			const char *k = doc_get_str(tag, "Key");
			if (!k)
				continue;
			struct doc *nt = doc_obj();
			doc_set_str(nt, "Key", k);
			doc_set_str(nt, "Value", doc_get_str(tag, "Value") ? doc_get_str(tag, "Value") : "");
			doc_push(tags, nt);
		}
	}
	return tags;
}
