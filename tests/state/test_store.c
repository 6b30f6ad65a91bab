/*
 * test_store — the SQLite store: what is put is loaded back in creation
 * order after a reopen, deletes are seen by the change log, a rolled-back
 * savepoint leaves nothing, a version 0 state is upgraded in place, and a
 * read-only open neither creates nor changes anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/store.h"

struct rows {
	char text[4096];
	int n;
};

static void collect(void *ctx, const char *type, const char *id, int64_t ord, const char *json)
{
	struct rows *r = ctx;
	size_t len = strlen(r->text);
	snprintf(r->text + len, sizeof(r->text) - len, "%s%s/%s/%lld/%s", r->n++ ? " " : "", type, id,
		 (long long)ord, json);
}

static void count_rows(void *ctx, const char *type, const char *id, int64_t ord, const char *json)
{
	(void)type, (void)id, (void)json;
	struct rows *r = ctx;
	assert_int_equal(ord, r->n + 1);	/* all, in order */
	r->n++;
}

static void collect_change(void *ctx, uint64_t seq, const char *type, const char *id, int64_t ord,
			   const char *json)
{
	assert_true(json ? ord > 0 : ord == -1);	/* a resource's creation order; none for a deletion */
	struct rows *r = ctx;
	size_t len = strlen(r->text);
	snprintf(r->text + len, sizeof(r->text) - len, "%s%llu:%s/%s=%s", r->n++ ? " " : "",
		 (unsigned long long)seq, type, id, json ? json : "deleted");
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/vpcd-store-test.XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void rmtree(char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

static void test_put_delete_reopen(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct store *st = store_open(dir);
	assert_non_null(st);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_put(st, "vpc", "vpc-1", 1, "{\"a\":1}"), 0);
	assert_int_equal(store_put(st, "subnet", "subnet-2", 2, "{\"b\":2}"), 0);
	assert_int_equal(store_put(st, "subnet", "subnet-3", 3, "{\"c\":3}"), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_seq(st), 3);

	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_put(st, "vpc", "vpc-1", 1, "{\"a\":10}"), 0);	/* replaces */
	assert_int_equal(store_delete(st, "subnet", "subnet-2", 2), 0);
	/* a request that fails leaves nothing behind */
	assert_int_equal(store_savepoint(st), 0);
	assert_int_equal(store_put(st, "subnet", "subnet-4", 4, "{\"d\":4}"), 0);
	assert_int_equal(store_delete(st, "subnet", "subnet-3", 3), 0);
	store_rollback_to(st);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_seq(st), 5);

	struct rows ch = { "", 0 };
	assert_int_equal(store_changes_since(st, 2, collect_change, &ch), 0);
	assert_string_equal(ch.text, "3:subnet/subnet-3={\"c\":3} 4:vpc/vpc-1={\"a\":10} 5:subnet/subnet-2=deleted");
	store_close(st);

	st = store_open(dir);
	assert_non_null(st);
	assert_int_equal(store_seq(st), 5);
	struct rows all = { "", 0 };
	assert_int_equal(store_load_all(st, collect, &all), 0);
	assert_string_equal(all.text, "vpc/vpc-1/1/{\"a\":10} subnet/subnet-3/3/{\"c\":3}");
	/* the next transaction goes on from the stored sequence */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_put(st, "subnet", "subnet-5", 5, "{}"), 0);
	assert_int_equal(store_commit(st), 0);
	struct rows ch2 = { "", 0 };
	assert_int_equal(store_changes_since(st, 5, collect_change, &ch2), 0);
	assert_string_equal(ch2.text, "6:subnet/subnet-5={}");
	store_close(st);
	rmtree(dir);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

/* A state written by the first vpcd (schema version 0) loads unchanged. */
static void test_upgrade_from_version_0(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[128];
	snprintf(path, sizeof(path), "%s/vpcd.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL;"
		 "CREATE TABLE resources(id TEXT PRIMARY KEY, type TEXT NOT NULL, ord INTEGER NOT NULL,"
		 " seq INTEGER NOT NULL, body TEXT NOT NULL);"
		 "CREATE INDEX resources_type ON resources(type, ord);"
		 "CREATE TABLE changes(id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, type TEXT NOT NULL,"
		 " deleted INTEGER NOT NULL);"
		 "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
		 "INSERT INTO resources VALUES('vpc-b', 'vpc', 7, 9, '{\"x\":1}'), ('subnet-a', 'subnet', 8, 10, '{}');"
		 "INSERT INTO changes VALUES('vpc-b', 9, 'vpc', 0), ('subnet-a', 10, 'subnet', 0), ('igw-c', 11, 'internet-gateway', 1);"
		 "INSERT INTO meta VALUES('account', '123456789012');");
	sqlite3_close(db);

	struct store *ro = store_open_readonly(dir);	/* not upgraded yet: refused, untouched */
	assert_null(ro);

	struct store *st = store_open(dir);
	assert_non_null(st);
	assert_int_equal(store_seq(st), 11);
	struct rows all = { "", 0 };
	assert_int_equal(store_load_all(st, collect, &all), 0);
	assert_string_equal(all.text, "vpc/vpc-b/7/{\"x\":1} subnet/subnet-a/8/{}");
	char *acct = store_meta_get(st, "account");
	assert_string_equal(acct, "123456789012");
	free(acct);
	/* the old log is gone: a reader from before the upgrade must reload */
	struct rows ch = { "", 0 };
	assert_int_equal(store_changes_since(st, 3, collect_change, &ch), STORE_TOO_OLD);
	assert_int_equal(store_changes_since(st, 11, collect_change, &ch), 0);
	assert_int_equal(ch.n, 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_delete(st, "subnet", "subnet-a", 8), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);

	ro = store_open_readonly(dir);
	assert_non_null(ro);
	struct rows after = { "", 0 };
	assert_int_equal(store_load_all(ro, collect, &after), 0);
	assert_string_equal(after.text, "vpc/vpc-b/7/{\"x\":1}");
	assert_int_equal(store_begin(ro), 0);
	assert_int_not_equal(store_put(ro, "vpc", "vpc-z", 99, "{}"), 0);	/* writes fail */
	store_rollback(ro);
	store_close(ro);
	rmtree(dir);
}

static void test_readonly_never_creates(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[128];
	assert_null(store_open_readonly(dir));
	snprintf(path, sizeof(path), "%s/vpcd.db", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	rmtree(dir);
}

/* Deletions older than the last 100,000 changes are forgotten at open. */
static void test_old_deletions_pruned(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct store *st = store_open(dir);
	assert_non_null(st);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_put(st, "vpc", "vpc-gone", 1, "{}"), 0);
	assert_int_equal(store_delete(st, "vpc", "vpc-gone", 1), 0);
	for (int i = 0; i < 100010; i++)
		assert_int_equal(store_put(st, "vpc", "vpc-busy", 2, i % 2 ? "{\"v\":1}" : "{\"v\":2}"), 0);
	assert_int_equal(store_commit(st), 0);
	struct rows ch = { "", 0 };
	assert_int_equal(store_changes_since(st, 0, collect_change, &ch), 0);
	assert_string_equal(ch.text, "2:vpc/vpc-gone=deleted 100012:vpc/vpc-busy={\"v\":1}");
	store_close(st);

	st = store_open(dir);
	assert_non_null(st);
	struct rows ch2 = { "", 0 };
	assert_int_equal(store_changes_since(st, 0, collect_change, &ch2), STORE_TOO_OLD);
	assert_int_equal(store_changes_since(st, 12, collect_change, &ch2), 0);
	assert_string_equal(ch2.text, "100012:vpc/vpc-busy={\"v\":1}");
	store_close(st);
	rmtree(dir);
}

/* Deferred durability: a child commits through a flusher (which grows the
 * WAL with zeros first), flushes, and dies without closing anything, after
 * enough commits for SQLite to checkpoint and start its WAL over several
 * times; every flushed row is there when the store opens again. */
static void test_flusher_crash_recovery(void **state)
{
	(void)state;
	char *dir = tmpdir();
	enum { ROWS = 3000 };
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *st = store_open(dir);
		struct store_flusher *f = st ? store_flusher_new(st) : NULL;
		if (!f)
			_exit(3);
		char wal[256];
		struct stat sb;
		snprintf(wal, sizeof(wal), "%s/vpcd.db-wal", dir);
		if (stat(wal, &sb) < 0 || sb.st_size < 4000000)
			_exit(4);	/* not grown */
		char id[32], body[1200];
		memset(body, 'x', sizeof(body));
		body[0] = '"';
		body[sizeof(body) - 2] = '"';
		body[sizeof(body) - 1] = '\0';
		for (int i = 0; i < ROWS; i++) {
			snprintf(id, sizeof(id), "subnet-%05d", i);
			if (store_begin(st) < 0 || store_put(st, "subnet", id, i + 1, body) < 0 || store_commit(st) < 0)
				_exit(5);
			if (i % 100 == 99 && store_flush(f) < 0)
				_exit(6);
		}
		if (store_flush(f) < 0)
			_exit(6);
		_exit(0);	/* no close, no checkpoint: as if killed */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct store *st = store_open(dir);
	assert_non_null(st);
	struct rows all = { "", 0 };
	assert_int_equal(store_load_all(st, count_rows, &all), 0);
	assert_int_equal(all.n, ROWS);
	assert_int_equal(store_seq(st), ROWS);
	store_close(st);
	rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_delete_reopen),
		cmocka_unit_test(test_upgrade_from_version_0),
		cmocka_unit_test(test_readonly_never_creates),
		cmocka_unit_test(test_old_deletions_pruned),
		cmocka_unit_test(test_flusher_crash_recovery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
