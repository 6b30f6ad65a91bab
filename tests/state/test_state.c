/*
 * test_state — the state layer (state/state.h) over a real SQLite store:
 * a change kept or undone as a whole (store and cache), the commit
 * listeners, and the change feed as the engine follows it: every committed
 * change delivered once, in sequence order, with the doc as it is now
 * (NULL once deleted); nothing of an undone change; nothing twice; a
 * follower behind what the feed keeps told to resync; and the replica, a
 * follower's own view filled from the feed's records (another writer's
 * too), which reads the whole state when it is too far behind, and
 * keeps its view and cursor when a read fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/doc.h"
#include "state/state.h"

static char *tmpdir(void)
{
	char *d = strdup("/tmp/vpcd-state-test.XXXXXX");
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

struct fixture {
	char *f_dir;
	struct store *f_store;
	struct cache *f_cache;
	struct state *f_state;
};

static int setup(void **ts)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->f_dir = tmpdir();
	f->f_store = store_open(f->f_dir);
	assert_non_null(f->f_store);
	f->f_cache = cache_new();
	f->f_state = state_new(f->f_store, f->f_cache, "us-east-1");
	*ts = f;
	return 0;
}

static int teardown(void **ts)
{
	struct fixture *f = *ts;
	state_free(f->f_state);
	cache_free(f->f_cache);
	store_close(f->f_store);
	rmtree(f->f_dir);
	free(f);
	return 0;
}

static struct doc *doc_n(int64_t n)
{
	struct doc *d = doc_obj();
	doc_set_int(d, "N", n);
	return d;
}

/* One change: puts of (type, id, n) pairs; n < 0 deletes id. */
static int change(struct state *s, int rc, const char *type, const char *id, int64_t n)
{
	state_change_begin(s);
	int r = n < 0 ? state_delete(s, id) : state_put(s, type, id, doc_n(n), NULL) ? 0 : -1;
	assert_int_equal(r, 0);
	return state_change_end(s, rc);
}

/* What a follower saw: "type/id=N" or "type/id=deleted", space separated. */
struct seen {
	char text[1024];
	uint64_t last_seq;
	int n;
	int triggers;
	struct state_cursor cur;
};

static void seen_change(void *arg, uint64_t seq, const char *type, const char *id, const struct doc *doc)
{
	struct seen *sn = arg;
	assert_true(seq > sn->last_seq);	/* in order, never twice */
	sn->last_seq = seq;
	size_t len = strlen(sn->text);
	if (doc)
		snprintf(sn->text + len, sizeof(sn->text) - len, "%s%s/%s=%lld", sn->n++ ? " " : "", type, id,
			 (long long)doc_get_int(doc, "N", -1));
	else
		snprintf(sn->text + len, sizeof(sn->text) - len, "%s%s/%s=deleted", sn->n++ ? " " : "", type, id);
}

static void on_commit(void *arg, struct state *s)
{
	struct seen *sn = arg;
	sn->triggers++;
	assert_int_equal(state_follow(s, &sn->cur, seen_change, sn), 0);
	assert_int_equal(sn->cur.sc_seq, state_seq(s));
}

static void seen_reset(struct seen *sn)
{
	sn->text[0] = 0;
	sn->n = 0;
}

static void test_change_undone_whole(void **ts)
{
	struct fixture *f = *ts;
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 1), 0);
	/* a failed change: both its puts go, from the cache and the store */
	state_change_begin(f->f_state);
	assert_non_null(state_put(f->f_state, "vpc", "vpc-1", doc_n(2), NULL));
	assert_non_null(state_put(f->f_state, "subnet", "subnet-2", doc_n(2), NULL));
	assert_int_equal(state_change_end(f->f_state, -1), -1);
	assert_int_equal(state_batch_len(f->f_state), 1);
	assert_int_equal(doc_get_int(cache_get(f->f_cache, "vpc-1")->r_doc, "N", 0), 1);
	assert_null(cache_get(f->f_cache, "subnet-2"));
	/* the region a new resource gets */
	assert_string_equal(cache_get(f->f_cache, "vpc-1")->r_region, "us-east-1");
	assert_int_equal(state_commit(f->f_state), 0);
	assert_false(state_batch_open(f->f_state));
	assert_int_equal(state_seq(f->f_state), 1);
	/* an aborted batch: undone in the cache, nothing in the store */
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", -1), 0);
	assert_null(cache_get(f->f_cache, "vpc-1"));
	state_abort(f->f_state);
	assert_int_equal(doc_get_int(cache_get(f->f_cache, "vpc-1")->r_doc, "N", 0), 1);
	assert_int_equal(state_seq(f->f_state), 1);
}

static void test_feed_each_change_once(void **ts)
{
	struct fixture *f = *ts;
	struct seen sn = { 0 };
	state_cursor_init(f->f_state, &sn.cur);
	state_on_commit(f->f_state, on_commit, &sn);

	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 1), 0);
	assert_int_equal(change(f->f_state, 0, "subnet", "subnet-2", 1), 0);
	assert_int_equal(sn.triggers, 0);	/* not before the commit */
	assert_int_equal(state_follow(f->f_state, &sn.cur, seen_change, &sn), -1);	/* not inside a batch */
	assert_int_equal(state_commit(f->f_state), 0);
	assert_int_equal(sn.triggers, 1);
	assert_string_equal(sn.text, "vpc/vpc-1=1 subnet/subnet-2=1");

	/* a resource put twice in a batch comes once, as it is now; a
	 * deletion comes as NULL; an undone change's put not at all */
	seen_reset(&sn);
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 2), 0);
	assert_int_equal(change(f->f_state, -1, "vpc", "vpc-9", 9), -1);
	assert_int_equal(change(f->f_state, 0, "subnet", "subnet-2", -1), 0);
	assert_int_equal(change(f->f_state, 0, "subnet", "subnet-3", 3), 0);
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 4), 0);
	assert_int_equal(state_commit(f->f_state), 0);
	assert_int_equal(sn.triggers, 2);
	assert_string_equal(sn.text, "subnet/subnet-2=deleted subnet/subnet-3=3 vpc/vpc-1=4");

	/* nothing new: nothing delivered; a commit with nothing open runs no listener */
	seen_reset(&sn);
	assert_int_equal(state_follow(f->f_state, &sn.cur, seen_change, &sn), 0);
	assert_int_equal(state_commit(f->f_state), 0);
	assert_int_equal(sn.triggers, 2);
	assert_string_equal(sn.text, "");

	/* an aborted batch is never delivered */
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-5", 5), 0);
	state_abort(f->f_state);
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-6", 6), 0);
	assert_int_equal(state_commit(f->f_state), 0);
	assert_string_equal(sn.text, "vpc/vpc-6=6");

	/* a follower that did not listen catches up with the latest of each */
	state_unlisten(f->f_state, on_commit, &sn);
	struct seen late = { 0 };
	late.cur.sc_seq = 0;
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-6", 7), 0);
	assert_int_equal(state_commit(f->f_state), 0);
	assert_int_equal(sn.triggers, 3);	/* unlistened */
	assert_int_equal(state_follow(f->f_state, &late.cur, seen_change, &late), 0);
	assert_string_equal(late.text, "subnet/subnet-2=deleted subnet/subnet-3=3 vpc/vpc-1=4 vpc/vpc-6=7");
	assert_int_equal(late.cur.sc_seq, state_seq(f->f_state));
}

/* Deletions are kept for the last 100,000 changes (store.h): a follower
 * behind that resyncs, its cursor at the end. */
static void test_feed_too_old_resyncs(void **ts)
{
	struct fixture *f = *ts;
	assert_int_equal(store_begin(f->f_store), 0);
	for (int i = 0; i < 100005; i++)
		assert_int_equal(store_put(f->f_store, "vpc", "vpc-1", 1, "{\"N\":1}"), 0);
	assert_int_equal(store_commit(f->f_store), 0);
	state_free(f->f_state);
	store_close(f->f_store);
	f->f_store = store_open(f->f_dir);	/* prunes at open */
	assert_non_null(f->f_store);
	f->f_state = state_new(f->f_store, f->f_cache, NULL);
	struct seen sn = { 0 };
	sn.cur.sc_seq = 1;
	assert_int_equal(state_follow(f->f_state, &sn.cur, seen_change, &sn), STATE_RESYNC);
	assert_int_equal(sn.cur.sc_seq, 100005);
	assert_string_equal(sn.text, "");
	assert_int_equal(state_follow(f->f_state, &sn.cur, seen_change, &sn), 0);
}

/* --- the replica: a follower's own view -------------------------------------- */

static int64_t view_n(struct state_replica *r, const char *type, const char *id)
{
	const struct res *res = cache_get_typed(state_replica_cache(r), type, id);
	return res ? doc_get_int(res->r_doc, "N", -1) : -1;
}

/* The replica's view comes from the feed's records (its own docs, the
 * same creation order), committed batches only, whoever wrote them: a
 * second struct state on the same file that the first one's cache never
 * sees. */
static void test_replica_own_view(void **ts)
{
	struct fixture *f = *ts;
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 1), 0);
	assert_int_equal(change(f->f_state, 0, "subnet", "subnet-2", 2), 0);
	assert_int_equal(state_commit(f->f_state), 0);
	struct state_replica *r = state_replica_open(f->f_store);
	assert_non_null(r);
	struct seen sn = { 0 };
	assert_int_equal(state_replica_follow(r, seen_change, &sn), STATE_RESYNC);	/* loaded whole */
	assert_string_equal(sn.text, "");
	assert_int_equal(state_replica_seq(r), state_seq(f->f_state));
	assert_int_equal(view_n(r, "vpc", "vpc-1"), 1);
	assert_int_equal(view_n(r, "subnet", "subnet-2"), 2);
	const struct res *mine = cache_get(state_replica_cache(r), "subnet-2");
	const struct res *owners = cache_get(f->f_cache, "subnet-2");
	assert_ptr_not_equal(mine->r_doc, owners->r_doc);	/* parsed, not shared */
	assert_int_equal(mine->r_ord, owners->r_ord);
	assert_string_equal(mine->r_region, "us-east-1");	/* the body as committed */

	/* a batch: seen in sequence order once committed, not before */
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 5), 0);
	assert_int_equal(change(f->f_state, 0, "subnet", "subnet-2", -1), 0);
	assert_int_equal(change(f->f_state, -1, "vpc", "vpc-3", 3), -1);	/* undone */
	assert_int_equal(state_replica_follow(r, seen_change, &sn), 0);
	assert_string_equal(sn.text, "");
	assert_int_equal(view_n(r, "vpc", "vpc-1"), 1);
	assert_int_equal(state_commit(f->f_state), 0);
	assert_int_equal(state_replica_follow(r, seen_change, &sn), 0);
	assert_string_equal(sn.text, "vpc/vpc-1=5 subnet/subnet-2=deleted");
	assert_int_equal(view_n(r, "vpc", "vpc-1"), 5);
	assert_null(cache_get(state_replica_cache(r), "subnet-2"));
	assert_null(cache_get(state_replica_cache(r), "vpc-3"));
	assert_int_equal(state_replica_seq(r), state_seq(f->f_state));

	/* another writer on the same file (its own store and cache) */
	struct store *st2 = store_open(f->f_dir);
	assert_non_null(st2);
	struct cache *c2 = cache_new();
	struct state *s2 = state_new(st2, c2, "eu-west-1");
	cache_put(c2, "vpc", "vpc-1", cache_get(f->f_cache, "vpc-1")->r_ord, doc_n(5));
	assert_int_equal(change(s2, 0, "vpn-connection", "vpn-9", 9), 0);
	assert_int_equal(state_commit(s2), 0);
	seen_reset(&sn);
	assert_int_equal(state_replica_follow(r, seen_change, &sn), 0);
	assert_string_equal(sn.text, "vpn-connection/vpn-9=9");
	assert_int_equal(view_n(r, "vpn-connection", "vpn-9"), 9);
	assert_null(cache_get(f->f_cache, "vpn-9"));	/* never in the first state's cache */
	assert_string_equal(cache_get(state_replica_cache(r), "vpn-9")->r_region, "eu-west-1");
	assert_int_equal(state_replica_follow(r, seen_change, &sn), 0);	/* nothing twice */
	assert_string_equal(sn.text, "vpn-connection/vpn-9=9");
	state_free(s2);
	cache_free(c2);
	store_close(st2);
	state_replica_free(r);
}

/* A replica whose cursor is older than the feed remembers (a writer's
 * open pruned the deletions after the replica opened) reads the whole
 * state: a resource deleted meanwhile is gone from its view. */
static void test_replica_resyncs(void **ts)
{
	struct fixture *f = *ts;
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 1), 0);
	assert_int_equal(change(f->f_state, 0, "subnet", "subnet-2", 2), 0);
	assert_int_equal(state_commit(f->f_state), 0);
	struct state_replica *r = state_replica_open(f->f_store);
	assert_non_null(r);
	struct seen sn = { 0 };
	assert_int_equal(state_replica_follow(r, seen_change, &sn), STATE_RESYNC);
	assert_int_equal(view_n(r, "subnet", "subnet-2"), 2);
	uint64_t applied = state_replica_applied(r);
	int64_t ord2 = cache_get(f->f_cache, "subnet-2")->r_ord;
	assert_int_equal(store_begin(f->f_store), 0);
	assert_int_equal(store_delete(f->f_store, "subnet", "subnet-2", ord2), 0);
	for (int i = 0; i < 100005; i++)
		assert_int_equal(store_put(f->f_store, "vpc", "vpc-1", cache_get(f->f_cache, "vpc-1")->r_ord,
					   "{\"N\":7}"), 0);
	assert_int_equal(store_commit(f->f_store), 0);
	state_free(f->f_state);
	store_close(f->f_store);
	f->f_store = store_open(f->f_dir);	/* prunes at open */
	assert_non_null(f->f_store);
	f->f_state = state_new(f->f_store, f->f_cache, NULL);
	assert_int_equal(state_replica_follow(r, seen_change, &sn), STATE_RESYNC);
	assert_string_equal(sn.text, "");
	assert_null(cache_get(state_replica_cache(r), "subnet-2"));
	assert_int_equal(view_n(r, "vpc", "vpc-1"), 7);
	assert_int_equal(state_replica_seq(r), 100008);
	assert_int_equal(state_replica_applied(r), applied + 1);	/* one resource read */
	assert_int_equal(state_replica_follow(r, seen_change, &sn), 0);
	assert_string_equal(sn.text, "");
	state_replica_free(r);
}

/* A read of the feed that fails (a real SQLite error: another connection
 * renamed the table of deletions the feed's query reads) leaves the view
 * and the cursor as they were, as often as it is tried; once the table
 * is back, the next follow delivers what was committed meanwhile, once. */
static void test_replica_read_fails(void **ts)
{
	struct fixture *f = *ts;
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 1), 0);
	assert_int_equal(state_commit(f->f_state), 0);
	struct state_replica *r = state_replica_open(f->f_store);
	assert_non_null(r);
	struct seen sn = { 0 };
	assert_int_equal(state_replica_follow(r, seen_change, &sn), STATE_RESYNC);
	uint64_t seq = state_replica_seq(r), applied = state_replica_applied(r);
	char path[256];
	snprintf(path, sizeof(path), "%s/vpcd.db", f->f_dir);
	sqlite3 *other;
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "ALTER TABLE deleted RENAME TO deleted_away", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(change(f->f_state, 0, "vpc", "vpc-1", 2), 0);
	assert_int_equal(state_commit(f->f_state), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(state_replica_follow(r, seen_change, &sn), -1);
		assert_string_equal(sn.text, "");
		assert_int_equal(state_replica_seq(r), seq);
		assert_int_equal(state_replica_applied(r), applied);
		assert_int_equal(view_n(r, "vpc", "vpc-1"), 1);
	}
	assert_int_equal(sqlite3_exec(other, "ALTER TABLE deleted_away RENAME TO deleted", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(state_replica_follow(r, seen_change, &sn), 0);
	assert_string_equal(sn.text, "vpc/vpc-1=2");
	assert_int_equal(view_n(r, "vpc", "vpc-1"), 2);
	assert_int_equal(state_replica_seq(r), state_seq(f->f_state));
	assert_int_equal(state_replica_follow(r, seen_change, &sn), 0);	/* nothing twice */
	assert_string_equal(sn.text, "vpc/vpc-1=2");
	state_replica_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_change_undone_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_each_change_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_too_old_resyncs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replica_own_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replica_resyncs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replica_read_fails, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
