/*
 * store.h — the state part's storage (state.h is the part's contract;
 * this interface and its backend, sqlite.c, are the only place in vpcd
 * that knows SQL). Desired state is a set of
 * resources (type, id, JSON body) plus a change log: every change gets the
 * next sequence number, so a reconciler can ask "what changed since N".
 * SQLite in WAL mode is the embedded backend; the interface is narrow
 * enough for a PostgreSQL backend to serve several hosts later.
 *
 * Not thread-safe: one struct store per thread.
 * Durability: by default a committed transaction is on disk before
 * store_commit() returns (synchronous=FULL), so an acknowledged write
 * survives kill -9 and power loss; store_set_sync(st, false) keeps only
 * the kill -9 guarantee (see there).
 */
#ifndef VPCD_STATE_STORE_H
#define VPCD_STATE_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct store;

/* Opens (creating when needed) DIR/vpcd.db. NULL on failure, logged. */
struct store *store_open(const char *data_dir);
/* Opens an existing DIR/vpcd.db for reading only (a tool beside a running
 * vpcd: WAL lets it read while vpcd writes); never creates nor changes it,
 * writes fail. NULL on failure (no such database), logged. */
struct store *store_open_readonly(const char *data_dir);
/* A second connection, read-only, on st's database: a follower of the
 * change feed on another thread (struct store is one thread's) sees what
 * st commits. NULL on failure, logged. */
struct store *store_open_reader(const struct store *st);
/* full (the default): a commit is on disk before store_commit() returns,
 * surviving power loss. Not full (SQLite's synchronous=NORMAL in WAL mode):
 * a commit survives a crash of vpcd (kill -9) but the last commits may be
 * lost with the machine's power. */
int store_set_sync(struct store *st, bool full);
void store_close(struct store *st);

/* Deferred durability, for a server that can overlap the disk wait of one
 * batch with the work of the next: store_flusher_new() switches the store
 * to synchronous=NORMAL (a commit is written, not yet synced) and
 * store_flush(), called from one other thread, makes every commit that
 * returned before it began durable (fdatasync of the WAL, which holds
 * every commit not yet checkpointed; checkpoints sync the database file
 * themselves). Acknowledge a commit only after such a flush succeeded.
 * NULL (the store stays as it was, logged) when the WAL cannot be opened.
 * Free the flusher before closing the store. */
struct store_flusher;
struct store_flusher *store_flusher_new(struct store *st);
int store_flush(struct store_flusher *f);	/* 0, or -1 with errno */
void store_flusher_free(struct store_flusher *f);

int store_begin(struct store *st);
int store_commit(struct store *st);	/* 0, or -1 (then the transaction is rolled back) */
void store_rollback(struct store *st);

/* Nested undo points inside a transaction (SQL savepoints), so that one
 * failed request of a group commit does not undo the others. */
int store_savepoint(struct store *st);
int store_release(struct store *st);
void store_rollback_to(struct store *st);

/* Inside a transaction. ord is the resource's creation order, unique
 * among the resources present (the cache's r_ord): it is the key, so a
 * put of a new resource must bring a new ord, and a delete names the ord
 * of the resource it removes. */
int store_put(struct store *st, const char *type, const char *id, int64_t ord, const char *json);
int store_delete(struct store *st, const char *type, const char *id, int64_t ord);

typedef void (*store_row_fn)(void *ctx, const char *type, const char *id, int64_t ord,
			     const char *json);
/* Every resource, in ord (creation) order. */
int store_load_all(struct store *st, store_row_fn fn, void *ctx);
/* The same in one read transaction, with in *seq the sequence number of
 * the last change it includes (a follower's cursor after a full read). */
int store_load_snapshot(struct store *st, store_row_fn fn, void *ctx, uint64_t *seq);

/* Changes after seq, in order, the latest of each resource only, with the
 * resource's ord; deleted resources come with json NULL (ord -1). Deletions are remembered for the last
 * 100,000 changes (pruned when the store opens): a reader further behind
 * gets STORE_TOO_OLD and must reload everything (store_load_all). */
typedef void (*store_change_fn)(void *ctx, uint64_t seq, const char *type, const char *id, int64_t ord,
				const char *json);
#define STORE_TOO_OLD (-2)
int store_changes_since(struct store *st, uint64_t seq, store_change_fn fn, void *ctx);
uint64_t store_seq(struct store *st);

/* Small key/value settings (e.g. "account"). get returns a malloc'd copy or NULL. */
char *store_meta_get(struct store *st, const char *key);
int store_meta_put(struct store *st, const char *key, const char *value);

#endif
