/*
 * replica.c — a follower's own view of the state (state.h, "the
 * replica"): a read-only store connection and a cache of its own, filled
 * from the change feed's records only.
 *
 * Following is two steps, so that a failed read changes nothing: the
 * records after the cursor are collected (type, id, ord, JSON, in
 * sequence order) while SQLite's statement runs, then parsed and applied
 * to the cache, and only then are the caller's callbacks run (the view is
 * whole when they read it). A record whose JSON does not parse is logged
 * and the resource dropped from the view (never half a doc). A full load
 * builds a new cache and swaps it in. Cost: one indexed query per follow,
 * O(k) parsing for k changes; a load is O(resources).
 *
 * A read that fails is logged once per spell of failures: the first (at
 * error), then nothing however often the follower tries again, until a
 * read works (at info, with how many failed). The follower decides when
 * to try again (the engine: a timer with backoff).
 */
#include "state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define REPLICA_LOG "state"

struct replica_rec {
	uint64_t rr_seq;
	int64_t rr_ord;
	char *rr_type, *rr_id;
	char *rr_json;		/* NULL: deleted */
};

struct state_replica {
	struct store *sr_store;		/* owned: read-only, this replica's thread */
	struct cache *sr_cache;		/* owned */
	uint64_t sr_seq;
	bool sr_loaded;
	uint64_t sr_applied;
	uint64_t sr_failures;		/* reads failed since the last that worked */
	struct replica_rec *sr_recs;	/* the records of one follow */
	size_t sr_nrecs, sr_caprecs;
};

struct state_replica *state_replica_open(const struct store *st)
{
	struct store *reader = store_open_reader(st);
	if (!reader)
		return NULL;
	struct state_replica *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->sr_store = reader;
	r->sr_cache = cache_new();
	return r;
}

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

/* JSON text may hold a pre-shared key: wiped before it is freed. */
static void free_json(char *json)
{
	if (json) {
		secret_wipe(json, strlen(json));
		free(json);
	}
}

static void recs_clear(struct state_replica *r)
{
	for (size_t i = 0; i < r->sr_nrecs; i++) {
		free(r->sr_recs[i].rr_type);
		free(r->sr_recs[i].rr_id);
		free_json(r->sr_recs[i].rr_json);
	}
	r->sr_nrecs = 0;
}

void state_replica_free(struct state_replica *r)
{
	if (!r)
		return;
	recs_clear(r);
	free(r->sr_recs);
	cache_free(r->sr_cache);
	store_close(r->sr_store);
	free(r);
}

struct cache *state_replica_cache(struct state_replica *r) { return r->sr_cache; }
uint64_t state_replica_seq(const struct state_replica *r) { return r->sr_seq; }
uint64_t state_replica_applied(const struct state_replica *r) { return r->sr_applied; }

/* A read failed: logged at the first of a spell. */
static void read_failed(struct state_replica *r, const char *what)
{
	if (!r->sr_failures++)
		log_error(REPLICA_LOG, "a follower cannot read %s after change %llu: it keeps its view and tries "
			  "again (logged again when a read works)", what, (unsigned long long)r->sr_seq);
}

/* A read worked: the end of a spell of failures, if any, logged. */
static void read_worked(struct state_replica *r)
{
	if (r->sr_failures)
		log_info(REPLICA_LOG, "a follower reads the change feed again, at change %llu, after %llu failed "
			 "read(s)", (unsigned long long)r->sr_seq, (unsigned long long)r->sr_failures);
	r->sr_failures = 0;
}

/* A record's doc, or NULL (logged) when its JSON does not parse. */
static struct doc *parse(const char *type, const char *id, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	if (!d)
		log_error(REPLICA_LOG, "the change feed's %s %s does not parse: left out of the follower's view", type,
			  id);
	return d;
}

struct load_ctx {
	struct cache *lc_cache;
	uint64_t lc_n;
};

static void load_row(void *ctx, const char *type, const char *id, int64_t ord, const char *json)
{
	struct load_ctx *lc = ctx;
	struct doc *d = parse(type, id, json);
	if (d)
		doc_free(cache_put(lc->lc_cache, type, id, ord, d));
	lc->lc_n++;
}

/* The whole state into a new view. */
static int replica_load(struct state_replica *r)
{
	struct load_ctx lc = { cache_new(), 0 };
	uint64_t seq = 0;
	if (store_load_snapshot(r->sr_store, load_row, &lc, &seq) < 0) {
		read_failed(r, "the whole state");
		cache_free(lc.lc_cache);
		return -1;
	}
	cache_free(r->sr_cache);
	r->sr_cache = lc.lc_cache;
	r->sr_seq = seq;
	r->sr_loaded = true;
	r->sr_applied += lc.lc_n;
	read_worked(r);
	return 0;
}

static void collect(void *ctx, uint64_t seq, const char *type, const char *id, int64_t ord, const char *json)
{
	struct state_replica *r = ctx;
	if (r->sr_nrecs == r->sr_caprecs) {
		r->sr_caprecs = r->sr_caprecs ? r->sr_caprecs * 2 : 64;
		r->sr_recs = realloc(r->sr_recs, r->sr_caprecs * sizeof(*r->sr_recs));
		if (!r->sr_recs)
			abort();
	}
	r->sr_recs[r->sr_nrecs++] = (struct replica_rec){ seq, ord, dup_or_null(type), dup_or_null(id),
							  dup_or_null(json) };
}

int state_replica_follow(struct state_replica *r, state_change_fn fn, void *arg)
{
	if (!r->sr_loaded)
		return replica_load(r) < 0 ? -1 : STATE_RESYNC;
	recs_clear(r);
	int rc = store_changes_since(r->sr_store, r->sr_seq, collect, r);
	if (rc == STORE_TOO_OLD) {
		recs_clear(r);
		log_info(REPLICA_LOG, "a follower at change %llu is behind what the feed keeps: it reads the whole "
			 "state", (unsigned long long)r->sr_seq);
		return replica_load(r) < 0 ? -1 : STATE_RESYNC;
	}
	if (rc < 0) {
		recs_clear(r);
		read_failed(r, "the change feed");
		return -1;
	}
	for (size_t i = 0; i < r->sr_nrecs; i++) {
		struct replica_rec *rec = &r->sr_recs[i];
		struct doc *d = rec->rr_json ? parse(rec->rr_type, rec->rr_id, rec->rr_json) : NULL;
		if (d)
			doc_free(cache_put(r->sr_cache, rec->rr_type, rec->rr_id, rec->rr_ord, d));
		else
			doc_free(cache_remove(r->sr_cache, rec->rr_id, NULL, NULL));
		if (rec->rr_seq > r->sr_seq)
			r->sr_seq = rec->rr_seq;
		r->sr_applied++;
	}
	read_worked(r);
	for (size_t i = 0; fn && i < r->sr_nrecs; i++) {
		const struct replica_rec *rec = &r->sr_recs[i];
		const struct res *res = rec->rr_json ? cache_get_any(r->sr_cache, rec->rr_id) : NULL;
		if (res && strcmp(res->r_type, rec->rr_type) != 0)
			res = NULL;
		fn(arg, rec->rr_seq, rec->rr_type, rec->rr_id, res ? res->r_doc : NULL);
	}
	recs_clear(r);
	return 0;
}
