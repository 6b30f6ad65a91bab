/*
 * sqlite.c — the SQLite backend of store.h.
 *
 * Tables: resources(type, id, ord, seq, body) holds the current desired
 * state; changes(seq, type, id, deleted) is the change log (pruned to the
 * latest change of each resource); meta(key, value) holds settings.
 * Statements are prepared once. Writes happen only inside store_begin/
 * store_commit, which the API wraps around each mutating request.
 */
#include "store/store.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

enum stmt_id { S_BEGIN, S_COMMIT, S_ROLLBACK, S_PUT, S_DEL, S_LOG, S_LOAD, S_CHANGES,
	       S_META_GET, S_META_PUT, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_PUT] = "INSERT INTO resources(type, id, ord, seq, body) VALUES(?1, ?2, ?3, ?4, ?5) "
		  "ON CONFLICT(id) DO UPDATE SET body = excluded.body, seq = excluded.seq",
	[S_DEL] = "DELETE FROM resources WHERE id = ?1",
	[S_LOG] = "INSERT OR REPLACE INTO changes(id, seq, type, deleted) VALUES(?1, ?2, ?3, ?4)",
	[S_LOAD] = "SELECT type, id, ord, body FROM resources ORDER BY type, ord",
	[S_CHANGES] = "SELECT c.seq, c.type, c.id, r.body FROM changes c "
		      "LEFT JOIN resources r ON r.id = c.id AND c.deleted = 0 "
		      "WHERE c.seq > ?1 ORDER BY c.seq",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
	[S_SAVEPOINT] = "SAVEPOINT request",
	[S_RELEASE] = "RELEASE request",
	[S_ROLLBACK_TO] = "ROLLBACK TO request",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS resources(id TEXT PRIMARY KEY, type TEXT NOT NULL,"
	" ord INTEGER NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS resources_type ON resources(type, ord);"
	"CREATE TABLE IF NOT EXISTS changes(id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE,"
	" type TEXT NOT NULL, deleted INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

struct store {
	sqlite3 *st_db;
	sqlite3_stmt *st_stmt[S_COUNT];
	uint64_t st_seq;		/* last committed sequence number */
	uint64_t st_txn_seq;		/* sequence inside the open transaction */
	uint64_t st_savepoint_seq;	/* st_txn_seq when the savepoint was set */
	int st_in_txn;
};

static int store_exec_step(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->st_stmt[id];
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("store", "%s: %s", stmt_sql[id], sqlite3_errmsg(st->st_db));
		return -1;
	}
	return 0;
}

static struct store *store_open_mode(const char *data_dir, bool readonly)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/vpcd.db", data_dir);
	struct store *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
		    SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->st_db, flags, NULL) != SQLITE_OK) {
		log_error("store", "cannot open %s: %s", path, st->st_db ? sqlite3_errmsg(st->st_db) : "out of memory");
		goto err;
	}
	sqlite3_busy_timeout(st->st_db, 5000);
	char *err = NULL;
	/* a reader takes the journal mode and the schema as they are */
	if (!readonly &&
	    (sqlite3_exec(st->st_db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;", NULL, NULL, &err) != SQLITE_OK ||
	     sqlite3_exec(st->st_db, schema, NULL, NULL, &err) != SQLITE_OK)) {
		log_error("store", "cannot prepare %s: %s", path, err ? err : "?");
		sqlite3_free(err);
		goto err;
	}
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->st_db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->st_stmt[i], NULL) != SQLITE_OK) {
			log_error("store", "cannot prepare '%s': %s", stmt_sql[i], sqlite3_errmsg(st->st_db));
			goto err;
		}
	}
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(st->st_db, "SELECT COALESCE(MAX(seq), 0) FROM changes", -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			st->st_seq = (uint64_t)sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	return st;
err:
	store_close(st);
	return NULL;
}

struct store *store_open(const char *data_dir)
{
	return store_open_mode(data_dir, false);
}

struct store *store_open_readonly(const char *data_dir)
{
	return store_open_mode(data_dir, true);
}

int store_set_sync(struct store *st, bool full)
{
	char *err = NULL;
	if (sqlite3_exec(st->st_db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL,
			 &err) != SQLITE_OK) {
		log_error("store", "cannot set synchronous: %s", err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->st_stmt[i]);
	sqlite3_close(st->st_db);
	free(st);
}

int store_begin(struct store *st)
{
	if (store_exec_step(st, S_BEGIN) < 0)
		return -1;
	st->st_in_txn = 1;
	st->st_txn_seq = st->st_seq;
	return 0;
}

int store_commit(struct store *st)
{
	if (store_exec_step(st, S_COMMIT) < 0) {
		store_rollback(st);
		return -1;
	}
	st->st_in_txn = 0;
	st->st_seq = st->st_txn_seq;
	return 0;
}

void store_rollback(struct store *st)
{
	if (!st->st_in_txn)
		return;
	store_exec_step(st, S_ROLLBACK);
	st->st_in_txn = 0;
}

static int store_log(struct store *st, const char *type, const char *id, int deleted)
{
	sqlite3_stmt *s = st->st_stmt[S_LOG];
	st->st_txn_seq++;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)st->st_txn_seq);
	sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, deleted);
	return store_exec_step(st, S_LOG);
}

int store_put(struct store *st, const char *type, const char *id, int64_t ord, const char *json)
{
	if (store_log(st, type, id, 0) < 0)
		return -1;
	sqlite3_stmt *s = st->st_stmt[S_PUT];
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, ord);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)st->st_txn_seq);
	sqlite3_bind_text(s, 5, json, -1, SQLITE_STATIC);
	return store_exec_step(st, S_PUT);
}

int store_delete(struct store *st, const char *type, const char *id)
{
	if (store_log(st, type, id, 1) < 0)
		return -1;
	sqlite3_stmt *s = st->st_stmt[S_DEL];
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return store_exec_step(st, S_DEL);
}

int store_load_all(struct store *st, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *s = st->st_stmt[S_LOAD];
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   sqlite3_column_int64(s, 2), (const char *)sqlite3_column_text(s, 3));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_changes_since(struct store *st, uint64_t seq, store_change_fn fn, void *ctx)
{
	sqlite3_stmt *s = st->st_stmt[S_CHANGES];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ctx, (uint64_t)sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

uint64_t store_seq(struct store *st) { return st->st_seq; }

char *store_meta_get(struct store *st, const char *key)
{
	sqlite3_stmt *s = st->st_stmt[S_META_GET];
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	char *v = NULL;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return v;
}

int store_meta_put(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s = st->st_stmt[S_META_PUT];
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return store_exec_step(st, S_META_PUT);
}

int store_savepoint(struct store *st)
{
	st->st_savepoint_seq = st->st_txn_seq;
	return store_exec_step(st, S_SAVEPOINT);
}

int store_release(struct store *st)
{
	return store_exec_step(st, S_RELEASE);
}

void store_rollback_to(struct store *st)
{
	store_exec_step(st, S_ROLLBACK_TO);
	store_exec_step(st, S_RELEASE);
	st->st_txn_seq = st->st_savepoint_seq;
}
