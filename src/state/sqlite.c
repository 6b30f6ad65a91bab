/*
 * sqlite.c — the SQLite backend of store.h.
 *
 * Schema (PRAGMA user_version 2):
 *   resources(ord INTEGER PRIMARY KEY, type, id, seq, body) — the desired
 *     state, keyed by creation order. vpcd's cache knows every resource's
 *     ord, so puts and deletes go by rowid and a new resource appends to
 *     the table's last page: ids are random, and keying by them cost a
 *     random page (written whole into the WAL) per index per change.
 *   resources_seq index on seq — appends too: the change log's reader.
 *   deleted(seq INTEGER PRIMARY KEY, type, id) — one row per deletion, so
 *     that "what changed since N" sees removals; pruned at open to the
 *     newest STORE_KEEP_DELETIONS changes (meta "changes_horizon").
 *   meta(key, value) — settings.
 * Version 0 (resources keyed by id, plus a changes table) is migrated in
 * one transaction at the first read-write open.
 * Statements are prepared once. Writes happen only inside store_begin/
 * store_commit, which the API wraps around each batch of requests.
 */
#include "state/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

#define SCHEMA_VERSION 2
#define STR_(x) #x
#define STR(x) STR_(x)
#define STORE_KEEP_DELETIONS 100000

enum stmt_id { S_BEGIN, S_COMMIT, S_ROLLBACK, S_PUT, S_DEL, S_LOG_DEL, S_LOAD, S_CHANGES,
	       S_META_GET, S_META_PUT, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO, S_READ_BEGIN, S_READ_END,
	       S_MAX_SEQ, S_HORIZON, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_PUT] = "INSERT INTO resources(ord, type, id, seq, body) VALUES(?1, ?2, ?3, ?4, ?5) "
		  "ON CONFLICT(ord) DO UPDATE SET body = excluded.body, seq = excluded.seq",
	[S_DEL] = "DELETE FROM resources WHERE ord = ?1",
	[S_LOG_DEL] = "INSERT INTO deleted(seq, type, id) VALUES(?1, ?2, ?3)",
	[S_LOAD] = "SELECT type, id, ord, body FROM resources ORDER BY ord",
	[S_CHANGES] = "SELECT seq, type, id, body, ord FROM resources WHERE seq > ?1 "
		      "UNION ALL SELECT seq, type, id, NULL, -1 FROM deleted WHERE seq > ?1 ORDER BY 1",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
	[S_SAVEPOINT] = "SAVEPOINT request",
	[S_RELEASE] = "RELEASE request",
	[S_ROLLBACK_TO] = "ROLLBACK TO request",
	[S_READ_BEGIN] = "BEGIN",	/* deferred: one snapshot for the reads until S_READ_END */
	[S_READ_END] = "COMMIT",
	[S_MAX_SEQ] = "SELECT MAX(COALESCE((SELECT MAX(seq) FROM resources), 0),"
		      " COALESCE((SELECT MAX(seq) FROM deleted), 0),"
		      " COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'changes_horizon'), 0))",
	[S_HORIZON] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'changes_horizon'",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS resources(ord INTEGER PRIMARY KEY, type TEXT NOT NULL,"
	" id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS resources_seq ON resources(seq);"
	"CREATE TABLE IF NOT EXISTS deleted(seq INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* From version 0, around the creation of the schema: resources(id PRIMARY
 * KEY, type, ord, seq, body) and changes(id, seq, type, deleted); a
 * reader's old position in the log is dropped. */
static const char migrate_v0_before[] = "ALTER TABLE resources RENAME TO resources_v0;";
static const char migrate_v0_after[] =
	"INSERT INTO resources(ord, type, id, seq, body) SELECT ord, type, id, seq, body FROM resources_v0;"
	"INSERT OR REPLACE INTO meta(key, value) SELECT 'changes_horizon', COALESCE(MAX(seq), 0) FROM changes;"
	"DROP TABLE resources_v0;"
	"DROP TABLE changes;";

struct store {
	sqlite3 *st_db;
	char st_path[4096];		/* DIR/vpcd.db */
	sqlite3_stmt *st_stmt[S_COUNT];
	uint64_t st_seq;		/* last committed sequence number */
	uint64_t st_txn_seq;		/* sequence inside the open transaction */
	uint64_t st_savepoint_seq;	/* st_txn_seq when the savepoint was set */
	uint64_t st_horizon;		/* deletions up to here are forgotten */
	int st_in_txn;
	bool st_readonly;		/* a reader: another connection writes */
};

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	return v;
}

static int exec_logged(sqlite3 *db, const char *path, const char *what, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	log_error("store", "%s: cannot %s: %s", path, what, err ? err : sqlite3_errmsg(db));
	sqlite3_free(err);
	return -1;
}

/* Creates or upgrades the schema; read-write opens only. */
static int schema_ready(sqlite3 *db, const char *path)
{
	if (exec_logged(db, path, "set up", "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;") < 0)
		return -1;
	int64_t version = query_int(db, "PRAGMA user_version");
	if (version > SCHEMA_VERSION) {
		log_error("store", "%s has schema version %lld, newer than this vpcd's (%d)", path, (long long)version,
			  SCHEMA_VERSION);
		return -1;
	}
	if (version == SCHEMA_VERSION)
		return exec_logged(db, path, "check the schema", schema);
	bool old = query_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'changes'") > 0;
	if (exec_logged(db, path, "begin the schema upgrade", "BEGIN IMMEDIATE") < 0)
		return -1;
	if ((old && exec_logged(db, path, "upgrade the schema from version 0", migrate_v0_before) < 0) ||
	    exec_logged(db, path, "create the schema", schema) < 0 ||
	    (old && exec_logged(db, path, "upgrade the schema from version 0", migrate_v0_after) < 0) ||
	    exec_logged(db, path, "record the schema version", "PRAGMA user_version = " STR(SCHEMA_VERSION)) < 0 ||
	    exec_logged(db, path, "commit the schema", "COMMIT") < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (old)
		log_info("store", "%s: state upgraded to schema version %d", path, SCHEMA_VERSION);
	return 0;
}

/* Forgets the oldest deletions beyond STORE_KEEP_DELETIONS changes. */
static void prune_deletions(struct store *st)
{
	if (st->st_seq <= STORE_KEEP_DELETIONS || st->st_seq - STORE_KEEP_DELETIONS <= st->st_horizon)
		return;
	uint64_t horizon = st->st_seq - STORE_KEEP_DELETIONS;
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "BEGIN; DELETE FROM deleted WHERE seq <= %llu;"
		 " INSERT OR REPLACE INTO meta(key, value) VALUES('changes_horizon', %llu); COMMIT;",
		 (unsigned long long)horizon, (unsigned long long)horizon);
	if (sqlite3_exec(st->st_db, sql, NULL, NULL, NULL) == SQLITE_OK)
		st->st_horizon = horizon;
	else
		sqlite3_exec(st->st_db, "ROLLBACK", NULL, NULL, NULL);
}

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
	struct store *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	char *path = st->st_path;
	snprintf(path, sizeof(st->st_path), "%s/vpcd.db", data_dir);
	st->st_readonly = readonly;
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
		    SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->st_db, flags, NULL) != SQLITE_OK) {
		log_error("store", "cannot open %s: %s", path, st->st_db ? sqlite3_errmsg(st->st_db) : "out of memory");
		goto err;
	}
	sqlite3_busy_timeout(st->st_db, 5000);
	/* a reader takes the journal mode and the schema as they are */
	if (!readonly && schema_ready(st->st_db, path) < 0)
		goto err;
	if (readonly && query_int(st->st_db, "PRAGMA user_version") != SCHEMA_VERSION) {
		log_error("store", "%s is not in this version's format (start vpcd once to upgrade it)", path);
		goto err;
	}
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->st_db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->st_stmt[i], NULL) != SQLITE_OK) {
			log_error("store", "cannot prepare '%s': %s", stmt_sql[i], sqlite3_errmsg(st->st_db));
			goto err;
		}
	}
	int64_t horizon = query_int(st->st_db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'changes_horizon'");
	st->st_horizon = horizon > 0 ? (uint64_t)horizon : 0;
	int64_t seq = query_int(st->st_db, "SELECT MAX(COALESCE((SELECT MAX(seq) FROM resources), 0),"
					   " COALESCE((SELECT MAX(seq) FROM deleted), 0))");
	st->st_seq = seq > 0 ? (uint64_t)seq : 0;
	if (st->st_seq < st->st_horizon)
		st->st_seq = st->st_horizon;
	if (!readonly)
		prune_deletions(st);
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

struct store *store_open_reader(const struct store *st)
{
	char dir[sizeof(st->st_path)];
	snprintf(dir, sizeof(dir), "%s", st->st_path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';	/* DIR/vpcd.db -> DIR */
	return store_open_mode(dir, true);
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

int store_put(struct store *st, const char *type, const char *id, int64_t ord, const char *json)
{
	sqlite3_stmt *s = st->st_stmt[S_PUT];
	sqlite3_bind_int64(s, 1, ord);
	sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)++st->st_txn_seq);
	sqlite3_bind_text(s, 5, json, -1, SQLITE_STATIC);
	return store_exec_step(st, S_PUT);
}

int store_delete(struct store *st, const char *type, const char *id, int64_t ord)
{
	sqlite3_stmt *s = st->st_stmt[S_DEL];
	sqlite3_bind_int64(s, 1, ord);
	if (store_exec_step(st, S_DEL) < 0)
		return -1;
	s = st->st_stmt[S_LOG_DEL];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)++st->st_txn_seq);
	sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
	return store_exec_step(st, S_LOG_DEL);
}

/* One value of a one-row statement, or -1. */
static int64_t stmt_int(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->st_stmt[id];
	int64_t v = -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

int store_load_snapshot(struct store *st, store_row_fn fn, void *ctx, uint64_t *seq)
{
	bool own = !st->st_in_txn;
	if (own && store_exec_step(st, S_READ_BEGIN) < 0)
		return -1;
	int64_t max = stmt_int(st, S_MAX_SEQ);
	int rc = max < 0 ? -1 : store_load_all(st, fn, ctx);
	if (own)
		store_exec_step(st, S_READ_END);
	if (rc == 0)
		*seq = (uint64_t)max;
	return rc;
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
	/* a reader learns the horizon (moved by a writer's open) in the same
	 * read transaction as the changes */
	bool own = st->st_readonly && !st->st_in_txn;
	if (own) {
		if (store_exec_step(st, S_READ_BEGIN) < 0)
			return -1;
		int64_t h = stmt_int(st, S_HORIZON);
		if (h > 0 && (uint64_t)h > st->st_horizon)
			st->st_horizon = (uint64_t)h;
	}
	if (seq < st->st_horizon) {
		if (own)
			store_exec_step(st, S_READ_END);
		return STORE_TOO_OLD;
	}
	sqlite3_stmt *s = st->st_stmt[S_CHANGES];
	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ctx, (uint64_t)sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 4),
		   (const char *)sqlite3_column_text(s, 3));
	sqlite3_reset(s);
	if (own)
		store_exec_step(st, S_READ_END);
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

struct store_flusher {
	char sf_path[4112];	/* DIR/vpcd.db-wal */
	int sf_fd;
};

/* The WAL at the size its auto-checkpoint lets it reach (1,000 pages of
 * 4 KiB plus frame headers), written with zeros past SQLite's frames: a
 * commit then overwrites blocks the file already has, so that a flush
 * needs no journal commit of the file system (an append changes the size,
 * and ext4 commits its journal for it, stalling the next write while it
 * does). Zeros are no valid frame: recovery stops at them, as it stops at
 * the stale frames it leaves behind after each checkpoint. Called on the
 * thread that commits, before it commits again. */
#define WAL_PREGROW (1000 * (4096 + 24) + 32 + 64 * 1024)

static void wal_pregrow(int fd)
{
	struct stat stt;
	if (fstat(fd, &stt) < 0 || stt.st_size >= WAL_PREGROW)
		return;
	static const char zeros[65536];
	for (off_t off = stt.st_size; off < WAL_PREGROW;) {
		size_t n = WAL_PREGROW - off < (off_t)sizeof(zeros) ? (size_t)(WAL_PREGROW - off) : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, off);
		if (w <= 0)
			return;	/* only an optimisation */
		off += w;
	}
	if (fdatasync(fd) < 0)
		log_warn("store", "fdatasync of the WAL: %s", strerror(errno));
}

struct store_flusher *store_flusher_new(struct store *st)
{
	struct store_flusher *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	snprintf(f->sf_path, sizeof(f->sf_path), "%s-wal", st->st_path);
	f->sf_fd = open(f->sf_path, O_RDWR | O_CLOEXEC);
	if (f->sf_fd < 0) {
		log_warn("store", "cannot open %s (%s): every commit is synced before it returns", f->sf_path,
			 strerror(errno));
		free(f);
		return NULL;
	}
	if (store_set_sync(st, false) < 0) {
		close(f->sf_fd);
		free(f);
		return NULL;
	}
	wal_pregrow(f->sf_fd);
	return f;
}

int store_flush(struct store_flusher *f)
{
	/* SQLite keeps its WAL file while the database is open; should it
	 * ever be replaced, follow it rather than sync a stale inode */
	struct stat ours, now;
	if (fstat(f->sf_fd, &ours) == 0 && stat(f->sf_path, &now) == 0 &&
	    (ours.st_ino != now.st_ino || ours.st_dev != now.st_dev)) {
		int fd = open(f->sf_path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			close(f->sf_fd);
			f->sf_fd = fd;
		}
	}
	return fdatasync(f->sf_fd);
}

void store_flusher_free(struct store_flusher *f)
{
	if (!f)
		return;
	close(f->sf_fd);
	free(f);
}
