/*
 * state.c — batches of changes over the store and the cache with their
 * undo log, the commit listeners and the change feed (state.h).
 *
 * The undo log holds, per put or delete of the open batch, the resource's
 * doc before it (NULL when it did not exist); undoing walks it backwards
 * and puts those docs back through the cache (so the cache's watches and
 * derived indexes follow). A change's mark is the log's length when it
 * began. Cost: O(1) per put or delete, O(k) to undo or clear k entries.
 */
#include "state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"

#define STATE_LOG "state"

struct undo_entry {
	char *u_id;
	char *u_type;
	int64_t u_ord;
	struct doc *u_old;	/* owned; NULL when the resource did not exist */
	bool u_existed;
};

struct state_listener {
	state_commit_fn sl_fn;
	void *sl_arg;
};

struct state {
	struct store *s_store;		/* borrowed */
	struct cache *s_cache;		/* borrowed */
	char *s_region;			/* the default region of new resources */
	bool s_txn_open;		/* the batch's store transaction */
	bool s_savepoint;		/* the running change has set its savepoint */
	size_t s_mark;			/* undo length when the running change began */
	struct undo_entry *s_undo;
	size_t s_undo_len, s_undo_cap;
	struct strbuf s_json;		/* state_put's JSON of a doc, kept for the next */
	const char *s_error;
	struct state_listener s_listeners[STATE_LISTENERS_MAX];
};

#define ERR_UNAVAILABLE "The state store is unavailable"
#define ERR_NOT_STORED "The change could not be stored"

struct state *state_new(struct store *st, struct cache *c, const char *default_region)
{
	struct state *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->s_store = st;
	s->s_cache = c;
	s->s_region = default_region ? strdup(default_region) : NULL;
	return s;
}

static void undo_to(struct state *s, size_t mark)
{
	while (s->s_undo_len > mark) {
		struct undo_entry *u = &s->s_undo[--s->s_undo_len];
		if (u->u_existed) {
			doc_free(cache_put(s->s_cache, u->u_type, u->u_id, u->u_ord, u->u_old));
		} else {
			doc_free(cache_remove(s->s_cache, u->u_id, NULL, NULL));
			doc_free(u->u_old);
		}
		free(u->u_id);
		free(u->u_type);
	}
}

static void undo_clear(struct state *s)
{
	for (size_t i = 0; i < s->s_undo_len; i++) {
		doc_free(s->s_undo[i].u_old);
		free(s->s_undo[i].u_id);
		free(s->s_undo[i].u_type);
	}
	s->s_undo_len = 0;
}

void state_free(struct state *s)
{
	if (!s)
		return;
	state_abort(s);
	free(s->s_undo);
	sb_free(&s->s_json);
	free(s->s_region);
	free(s);
}

struct store *state_store(struct state *s) { return s->s_store; }
struct cache *state_cache(struct state *s) { return s->s_cache; }
const char *state_error(const struct state *s) { return s->s_error ? s->s_error : ERR_NOT_STORED; }
bool state_batch_open(const struct state *s) { return s->s_txn_open; }
size_t state_batch_len(const struct state *s) { return s->s_undo_len; }
uint64_t state_seq(struct state *s) { return store_seq(s->s_store); }

int state_batch_begin(struct state *s)
{
	if (s->s_txn_open)
		return 0;
	if (store_begin(s->s_store) < 0) {
		s->s_error = ERR_UNAVAILABLE;
		return -1;
	}
	s->s_txn_open = true;
	return 0;
}

void state_change_begin(struct state *s)
{
	s->s_mark = s->s_undo_len;
	s->s_savepoint = false;
	s->s_error = NULL;
}

int state_change_end(struct state *s, int rc)
{
	if (rc == 0 && s->s_savepoint && store_release(s->s_store) < 0) {
		s->s_error = ERR_NOT_STORED;
		rc = -1;
	}
	if (rc < 0 && s->s_savepoint) {
		store_rollback_to(s->s_store);
		undo_to(s, s->s_mark);
	}
	s->s_savepoint = false;
	return rc;
}

/* The batch's transaction and the running change's savepoint, opened at
 * its first put or delete. */
static int change_open(struct state *s)
{
	if (state_batch_begin(s) < 0)
		return -1;
	if (!s->s_savepoint) {
		if (store_savepoint(s->s_store) < 0) {
			s->s_error = ERR_UNAVAILABLE;
			return -1;
		}
		s->s_savepoint = true;
	}
	return 0;
}

static void undo_push(struct state *s, const char *type, const char *id, int64_t ord, struct doc *old,
		      bool existed)
{
	if (s->s_undo_len == s->s_undo_cap) {
		s->s_undo_cap = s->s_undo_cap ? s->s_undo_cap * 2 : 64;
		s->s_undo = realloc(s->s_undo, s->s_undo_cap * sizeof(*s->s_undo));
		if (!s->s_undo)
			abort();
	}
	struct undo_entry *u = &s->s_undo[s->s_undo_len++];
	u->u_id = strdup(id);
	u->u_type = strdup(type);
	if (!u->u_id || !u->u_type)
		abort();
	u->u_ord = ord;
	u->u_old = old;
	u->u_existed = existed;
}

struct doc *state_put(struct state *s, const char *type, const char *id, struct doc *doc, const char *region)
{
	if (change_open(s) < 0) {
		doc_free(doc);
		return NULL;
	}
	struct res *r = cache_get_any(s->s_cache, id);
	if (!doc_get_str(doc, CACHE_REGION_KEY)) {
		const char *reg = r && r->r_region ? r->r_region : region ? region : s->s_region;
		if (reg)
			doc_set_str(doc, CACHE_REGION_KEY, reg);
	}
	int64_t ord = r ? r->r_ord : cache_next_ord(s->s_cache);
	/* one buffer for every put (no growth from empty each time); a doc
	 * that holds a secret gets a secret buffer of its own, wiped when freed */
	struct strbuf secret = STRBUF_SECRET_INIT, *json = doc_holds_secret(doc) ? &secret : &s->s_json;
	sb_reset(json);
	doc_to_json(doc, json);
	int rc = store_put(s->s_store, type, id, ord, sb_str(json));
	sb_free(&secret);
	if (rc < 0) {
		doc_free(doc);
		s->s_error = ERR_NOT_STORED;
		return NULL;
	}
	struct doc *old = cache_put(s->s_cache, type, id, ord, doc);
	undo_push(s, type, id, ord, old, r != NULL);
	return doc;
}

int state_delete(struct state *s, const char *id_arg)
{
	struct res *r = cache_get(s->s_cache, id_arg);
	if (!r)
		return 0;
	/* id_arg may be the resource's own r_id, which cache_remove frees */
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", id_arg);
	if (change_open(s) < 0)
		return -1;
	if (store_delete(s->s_store, r->r_type, id, r->r_ord) < 0) {
		s->s_error = ERR_NOT_STORED;
		return -1;
	}
	int64_t ord;
	char *type = NULL;
	struct doc *old = cache_remove(s->s_cache, id, &ord, &type);
	undo_push(s, type, id, ord, old, true);
	free(type);
	return 0;
}

int state_commit(struct state *s)
{
	if (!s->s_txn_open)
		return 0;
	s->s_savepoint = false;
	s->s_txn_open = false;
	if (store_commit(s->s_store) < 0) {
		log_error(STATE_LOG, "commit of a batch failed; %zu changes undone", s->s_undo_len);
		undo_to(s, 0);
		return -1;
	}
	undo_clear(s);
	for (size_t i = 0; i < STATE_LISTENERS_MAX; i++)
		if (s->s_listeners[i].sl_fn)
			s->s_listeners[i].sl_fn(s->s_listeners[i].sl_arg, s);
	return 0;
}

void state_abort(struct state *s)
{
	if (s->s_txn_open)
		store_rollback(s->s_store);
	s->s_txn_open = false;
	s->s_savepoint = false;
	undo_to(s, 0);
}

/* --- the change feed ---------------------------------------------------------- */

void state_on_commit(struct state *s, state_commit_fn fn, void *arg)
{
	for (size_t i = 0; i < STATE_LISTENERS_MAX; i++)
		if (!s->s_listeners[i].sl_fn) {
			s->s_listeners[i].sl_fn = fn;
			s->s_listeners[i].sl_arg = arg;
			return;
		}
	log_error(STATE_LOG, "more than %d commit listeners", STATE_LISTENERS_MAX);
	abort();
}

void state_unlisten(struct state *s, state_commit_fn fn, void *arg)
{
	for (size_t i = 0; i < STATE_LISTENERS_MAX; i++)
		if (s->s_listeners[i].sl_fn == fn && s->s_listeners[i].sl_arg == arg)
			s->s_listeners[i].sl_fn = NULL;
}

void state_cursor_init(struct state *s, struct state_cursor *cur)
{
	cur->sc_seq = store_seq(s->s_store);
}

struct follow_ctx {
	struct state *fc_state;
	state_change_fn fc_fn;
	void *fc_arg;
	uint64_t fc_last;
};

static void follow_row(void *ctx, uint64_t seq, const char *type, const char *id, int64_t ord,
		       const char *json)
{
	(void)ord;
	struct follow_ctx *fc = ctx;
	const struct res *r = json ? cache_get_any(fc->fc_state->s_cache, id) : NULL;
	if (r && strcmp(r->r_type, type) != 0)
		r = NULL;
	fc->fc_fn(fc->fc_arg, seq, type, id, r ? r->r_doc : NULL);
	fc->fc_last = seq;
}

int state_follow(struct state *s, struct state_cursor *cur, state_change_fn fn, void *arg)
{
	if (s->s_txn_open) {
		log_error(STATE_LOG, "the change feed read inside an open batch");
		return -1;
	}
	uint64_t end = store_seq(s->s_store);
	if (cur->sc_seq >= end)
		return 0;	/* nothing committed since: no query */
	struct follow_ctx fc = { s, fn, arg, cur->sc_seq };
	int rc = store_changes_since(s->s_store, cur->sc_seq, follow_row, &fc);
	if (rc == STORE_TOO_OLD) {
		log_info(STATE_LOG, "a follower at change %llu is behind what the feed keeps: resync at %llu",
			 (unsigned long long)cur->sc_seq, (unsigned long long)end);
		cur->sc_seq = end;
		return STATE_RESYNC;
	}
	if (rc < 0) {
		log_error(STATE_LOG, "cannot read the change feed after %llu", (unsigned long long)cur->sc_seq);
		cur->sc_seq = fc.fc_last;	/* what was delivered stays delivered */
		return -1;
	}
	cur->sc_seq = fc.fc_last > end ? fc.fc_last : end;
	return 0;
}
