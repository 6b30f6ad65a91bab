/*
 * core.c — the api object, errors, and the state changes of handlers
 * (api.h, api_int.h): api_put/api_delete are the state layer's
 * state_put/state_delete (state/state.h) with the request's errors.
 */
#include "api/api_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/evloop.h"
#include "model/model.h"

struct api *api_new(const struct api_config *cfg, struct store *st, struct cache *cache)
{
	struct api *api = calloc(1, sizeof(*api));
	if (!api)
		abort();
	api->a_cfg = *cfg;
	api->a_store = st;
	api->a_cache = cache;
	api->a_state = state_new(st, cache, cfg->ac_region);
	if (cfg->ac_quota)
		api->a_quota = *cfg->ac_quota;
	else
		quota_defaults(&api->a_quota);
	subnet_index_attach(api);
	quota_attach(api);
	api->a_loop = evloop_new(api_loop_woken, api);
	if (!api->a_loop)
		log_error("api", "the API thread's event loop: %s", strerror(errno));
	return api;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	state_free(api->a_state);	/* a batch still open is undone */
	subnet_index_detach(api);
	quota_detach(api);
	free(api->a_region_ready);
	evloop_free(api->a_loop);
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

struct doc *api_put(struct api_req *rq, const char *type, const char *id, struct doc *doc)
{
	struct state *st = rq->rq_api->a_state;
	struct doc *d = state_put(st, type, id, doc, api_region(rq));
	if (!d)
		api_fail(rq, "InternalError", "%s", state_error(st));
	return d;
}

int api_delete(struct api_req *rq, const char *id)
{
	struct state *st = rq->rq_api->a_state;
	if (state_delete(st, id) < 0)
		return api_fail(rq, "InternalError", "%s", state_error(st));
	return 0;
}

struct state *api_state(struct api *api) { return api->a_state; }

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
