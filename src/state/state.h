/*
 * state — the state between the API and the engine: the stored resources
 * (store.h: SQLite, the change log) and their in-memory mirror (cache.h),
 * changed in batches with an undo log, and read back as a change feed by
 * sequence number. The API's handlers change it (api_put/api_delete are
 * state_put/state_delete with the request's errors); the engine follows the
 * feed to learn of desired state and writes observed state (telemetry,
 * tunnel detail, the BGP picture, data-plane counters) through
 * state_change_begin/state_put/state_change_end like any change.
 * The resource types and the readers both sides share are
 * state/resources.h.
 *
 * Threads: not thread-safe. One thread owns a struct state (in vpcd, the
 * API thread); everything here runs there, listeners included.
 *
 * Call order of a batch (group commit): any number of changes, each
 *     state_change_begin(s);
 *     state_put(...) / state_delete(...)   (the first opens the store's
 *                                          transaction and the change's
 *                                          savepoint)
 *     rc = state_change_end(s, rc);        (kept, or undone as a whole:
 *                                          store rolled back to the
 *                                          savepoint, cache from the
 *                                          undo log)
 * then state_commit(s): one store commit for all of them, after which the
 * commit listeners run (state_on_commit); a failed commit undoes every
 * change of the batch in the cache too. Never change a cached doc in
 * place: the undo log keeps the old doc; edit a doc_clone and put it.
 *
 * The change feed: every committed put or delete has a sequence number
 * (store.h). A follower keeps the last one it applied (struct
 * state_cursor) and, when a listener tells it a batch committed, takes
 * what came after with state_follow: each changed resource once, in
 * sequence order, never one of a change undone or a batch not committed.
 * Nothing is missed (the cursor moves only over what was delivered) nor
 * delivered twice (the cursor moved past it). A follower too far behind
 * (deletions are kept for the last 100,000 changes) is told to resync from
 * the whole state instead.
 */
#ifndef VPCD_STATE_H
#define VPCD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/doc.h"
#include "state/cache.h"
#include "state/store.h"

struct state;

/* Borrows st and c (the caller frees them after state_free). A new
 * resource put without CACHE_REGION_KEY gets region when no region is
 * given (copied). */
struct state *state_new(struct store *st, struct cache *c, const char *default_region);
/* Undoes a batch still open (rolled back), then frees. NULL is fine. */
void state_free(struct state *s);
struct store *state_store(struct state *s);
struct cache *state_cache(struct state *s);

/* --- changes ------------------------------------------------------------------ */

/* Starts a change (one request's, or one observed fact's). */
void state_change_begin(struct state *s);
/* Ends it: rc 0 keeps it (its savepoint released), rc < 0 undoes every put
 * and delete since state_change_begin. Returns rc, or -1 (undone, and
 * state_error says why) when keeping it failed. */
int state_change_end(struct state *s, int rc);
/* The doc (ownership taken) replaces the resource's doc in the cache and
 * the store; a new id gets the next creation order. Without
 * CACHE_REGION_KEY the doc gets the resource's region, or for a new one
 * region (NULL: the default region). Returns the cached doc (borrowed),
 * or NULL (state_error says why; the doc is freed). */
struct doc *state_put(struct state *s, const char *type, const char *id, struct doc *doc,
		      const char *region);
/* Deletes the resource (id may point into the resource itself); 0 also
 * when absent from the cache's view; -1 (state_error says why). */
int state_delete(struct state *s, const char *id);
/* Why the last state_put/state_delete/state_change_end failed, as the API
 * tells a client ("The change could not be stored"). */
const char *state_error(const struct state *s);

/* Opens the batch's store transaction when none is (for store_meta_put
 * beside the batch's changes). 0, or -1. */
int state_batch_begin(struct state *s);
/* Whether a batch is open, and how many puts and deletes it holds. */
bool state_batch_open(const struct state *s);
size_t state_batch_len(const struct state *s);
/* Commits the open batch (nothing open: 0), then runs the commit
 * listeners. -1: the commit failed and every change of the batch is undone
 * in the cache (logged). */
int state_commit(struct state *s);
/* Rolls the open batch back and undoes it in the cache. */
void state_abort(struct state *s);

/* --- the change feed ---------------------------------------------------------- */

/* After every successful state_commit, fn(arg, s) runs (on the owning
 * thread; it may read, state_follow, copy and hand over, but must not
 * change state). Up to STATE_LISTENERS_MAX; removed with state_unlisten. */
#define STATE_LISTENERS_MAX 4
typedef void (*state_commit_fn)(void *arg, struct state *s);
void state_on_commit(struct state *s, state_commit_fn fn, void *arg);
void state_unlisten(struct state *s, state_commit_fn fn, void *arg);

/* The sequence number of the last committed change. */
uint64_t state_seq(struct state *s);

struct state_cursor {
	uint64_t sc_seq;	/* the last change applied */
};
/* A cursor at the current end of the feed (the follower has the state as
 * it is now, e.g. read from the cache). */
void state_cursor_init(struct state *s, struct state_cursor *cur);

/* One change of the feed: the resource's type and id and its doc as it is
 * now (the cache's, borrowed for the call; NULL: deleted). In process the
 * doc is the cache's, which equals the feed's JSON body right after the
 * commit; a follower with a view of its own reads the body (the replica
 * below: the engine's). */
typedef void (*state_change_fn)(void *arg, uint64_t seq, const char *type, const char *id,
				const struct doc *doc);
#define STATE_RESYNC (-2)
/* Calls fn for each resource changed after cur (in sequence order, each
 * once) and moves cur past them. 0; STATE_RESYNC when cur is older than
 * the feed remembers (cur then moves to the end: the follower must take
 * the whole state from the cache); -1 when the store cannot be read (cur
 * unchanged, logged). Not inside an open batch (its changes are not
 * committed yet): -1. */
int state_follow(struct state *s, struct state_cursor *cur, state_change_fn fn, void *arg);


/* --- a follower's own view: the replica ----------------------------------------
 * What a follower in another process or on another host would keep: its
 * own store connection (read-only, store_open_reader) and its own cache,
 * filled only from the records the feed carries — each change's type, id,
 * creation order and JSON body as committed (store_changes_since), parsed
 * into a doc — never from the owner's cache. Loaded whole at the start and
 * again when the feed no longer reaches back to its cursor (deletions are
 * kept for the last 100,000 changes).
 *
 * Threads: one thread owns a replica (the engine thread in vpcd); it
 * shares nothing with the struct state it follows but the database file,
 * so it runs beside the owner's thread without a lock. It sees what was
 * committed, in whole batches (SQLite's snapshot isolation), whoever
 * committed it: another struct state on the same file too. */
struct state_replica;
/* A replica of the state whose store is st (a second connection on the
 * same file; st itself is not used afterwards, any thread may then own
 * the replica). Empty until state_replica_follow loads it. NULL when the
 * database cannot be opened (logged). */
struct state_replica *state_replica_open(const struct store *st);
void state_replica_free(struct state_replica *r);
/* Its view: a cache of its own (no region view), changed only by
 * state_replica_follow. Borrowed. */
struct cache *state_replica_cache(struct state_replica *r);
/* The last change applied (its cursor). */
uint64_t state_replica_seq(const struct state_replica *r);
/* Applies what the feed has after the cursor to the view, in sequence
 * order (a put replaces the doc, a delete removes it), then calls fn for
 * each change with the view's doc (borrowed for the call; NULL: deleted).
 * 0; STATE_RESYNC when the view was (re)loaded whole (the first call, or
 * the cursor older than the feed remembers: fn is not called, the
 * follower takes everything from the view); -1 when the store cannot be
 * read (the view and the cursor as they were; the caller tries again when
 * it likes). Failures are logged once per spell: the first, then the read
 * that works again, not each failed retry. */
int state_replica_follow(struct state_replica *r, state_change_fn fn, void *arg);
/* How many records the replica has parsed and applied since it opened
 * (loads included): what following cost, for tests and logs. */
uint64_t state_replica_applied(const struct state_replica *r);

#endif
