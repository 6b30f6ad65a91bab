/*
 * test_engine_feed — the engine following the change feed when a read of
 * it fails (engine.c: feed_try, the retry timer): a whole engine (the VPN
 * endpoint on its own TUN, as root in a private network namespace;
 * skipped otherwise) attached to a real state over a real SQLite file.
 *
 * One commit whose feed read fails is caught up by the engine's own
 * retries, with no further commit to ring its doorbell: the connection
 * committed meanwhile gets its tunnels once the feed reads again. The
 * failure is a real SQLite error, made from another connection on the
 * same file: the feed's query names the `deleted` table, which that
 * connection renames away and back (SQLITE_BUSY cannot be made for the
 * engine's WAL reader alone: a lock that stops its read stops the
 * commit too). Each failed read shows in SQLite's error log
 * (SQLITE_CONFIG_LOG, process-wide), which the test counts to wait for
 * retries instead of sleeping; vpcd's log (stderr, captured) must say
 * the failure once for the whole spell and its end once, and the
 * retries must back off (at most a handful in the first second).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "base/evloop.h"
#include "engine/engine.h"
#include "state/resources.h"
#include "state/state.h"

#define WAIT_MS 20000		/* a loaded machine's bound on any one wait */

/* SQLite's error log: the engine's failed feed reads ("no such table"). */
static atomic_int feed_errors;

static void sqlite_log(void *arg, int code, const char *msg)
{
	(void)arg;
	(void)code;
	if (strstr(msg, "no such table: deleted"))
		atomic_fetch_add(&feed_errors, 1);
}

/* lo up in a namespace of our own, with the tunnels' outside addresses. */
static bool private_netns(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return false;
	return system("ip link set lo up && ip addr add 203.0.113.1/32 dev lo && "
		      "ip addr add 203.0.113.2/32 dev lo") == 0;
}

/* A static VPN connection as CreateVpnConnection stores it (the fields the
 * engine reads; the tunnels' options AWS's defaults, startup "add": no
 * packet leaves the namespace), to the customer gateway cgw. */
static struct doc *vpn_doc(const char *id, const char *cgw)
{
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"VpnConnectionId\":\"%s\",\"State\":\"available\",\"VpnGatewayId\":\"vgw-1\","
		 "\"Options\":{\"StaticRoutesOnly\":true,\"LocalIpv4NetworkCidr\":\"0.0.0.0/0\",\"RemoteIpv4NetworkCidr\":\"0.0.0.0/0\",\"TunnelOptions\":["
		 "{\"OutsideIpAddress\":\"203.0.113.1\",\"TunnelInsideCidr\":\"169.254.252.0/30\","
		 "\"PreSharedKey\":\"Kp4x9_bT2mQ7.vLz3NcR8wYhE6sJ1uAf\"},"
		 "{\"OutsideIpAddress\":\"203.0.113.2\",\"TunnelInsideCidr\":\"169.254.253.4/30\","
		 "\"PreSharedKey\":\"r7Gd2.Wq_9ZxHc4TnBv6LsKj1PyMe8Ua\"}]},"
		 "\"Routes\":[],\"_CustomerGatewayIpAddress\":\"%s\",\"_ConfigVersion\":1}",
		 id, cgw);
	struct doc *d = doc_from_json(json, strlen(json));
	assert_non_null(d);
	return d;
}

static void commit_vpn(struct state *st, const char *id, const char *cgw)
{
	state_change_begin(st);
	assert_non_null(state_put(st, RT_VPN, id, vpn_doc(id, cgw), NULL));
	assert_int_equal(state_change_end(st, 0), 0);
	assert_int_equal(state_commit(st), 0);
}

/* Whether the engine runs both tunnels of connection id. */
static bool runs(struct engine *e, const char *id)
{
	struct vpn_tunnel_status s;
	return engine_vpn_tunnel_status(e, id, 0, &s) && engine_vpn_tunnel_status(e, id, 1, &s);
}

static bool wait_runs(struct engine *e, const char *id)
{
	for (uint64_t t0 = time_mono_ms(); time_mono_ms() - t0 < WAIT_MS; usleep(5000))
		if (runs(e, id))
			return true;
	return false;
}

static bool wait_feed_errors(int n)
{
	for (uint64_t t0 = time_mono_ms(); time_mono_ms() - t0 < WAIT_MS; usleep(2000))
		if (atomic_load(&feed_errors) >= n)
			return true;
	return false;
}

/* stderr into a file while the test runs (vpcd's log lines); written
 * back to the real stderr at the end, whatever happened. */
static char log_path[] = "/tmp/vpcd-engine-feed-log.XXXXXX";
static int saved_stderr = -1;

static void log_capture(void)
{
	int fd = mkstemp(log_path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

/* How many lines of the captured log hold needle; the last in last. */
static int log_count(const char *needle, char *last, size_t len)
{
	FILE *f = fopen(log_path, "r");
	assert_non_null(f);
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle)) {
			n++;
			if (last)
				snprintf(last, len, "%s", line);
		}
	fclose(f);
	return n;
}

static int log_restore(void **state)
{
	(void)state;
	if (saved_stderr < 0)
		return 0;
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	FILE *f = fopen(log_path, "r");
	char buf[4096];
	size_t n;
	while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	if (f)
		fclose(f);
	unlink(log_path);
	return 0;
}

static void test_failed_read_retried_without_commit(void **state)
{
	(void)state;
	if (!private_netns())
		skip();	/* needs root: a TUN and outside addresses in a private network namespace */
	log_capture();
	char dir[] = "/tmp/vpcd-engine-feed.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct store *store = store_open(dir);
	assert_non_null(store);
	struct cache *cache = cache_new();
	struct state *st = state_new(store, cache, "us-east-1");
	commit_vpn(st, "vpn-0000000000000000a", "198.51.100.2");

	uint32_t outside[] = { 0xcb007101, 0xcb007102 };	/* 203.0.113.1, .2 */
	struct engine_config cfg = { .ec_tun_name = "tfeed0", .ec_outside = outside, .ec_noutside = 2,
				     .ec_data_dir = dir };
	struct engine *e = engine_new(&cfg);
	assert_non_null(e);
	struct evloop *observer = evloop_new(NULL, NULL);	/* the API's loop: events wait */
	assert_non_null(observer);
	engine_attach(e, st, state_replica_open(store), observer);
	assert_true(wait_runs(e, "vpn-0000000000000000a"));	/* the first read, whole */

	/* the feed cannot be read: another connection takes its table away */
	char db_path[sizeof(dir) + 16];
	snprintf(db_path, sizeof(db_path), "%s/vpcd.db", dir);
	sqlite3 *other;
	assert_int_equal(sqlite3_open(db_path, &other), SQLITE_OK);
	sqlite3_busy_timeout(other, 5000);
	assert_int_equal(sqlite3_exec(other, "ALTER TABLE deleted RENAME TO deleted_away", NULL, NULL, NULL),
			 SQLITE_OK);
	/* one commit: the doorbell's follow fails, then the engine's retries */
	commit_vpn(st, "vpn-0000000000000000b", "198.51.100.3");
	uint64_t spell_start = time_mono_ms();
	assert_true(wait_feed_errors(3));
	assert_false(runs(e, "vpn-0000000000000000b"));	/* behind while it cannot read */

	/* the table back, and no commit after it */
	assert_int_equal(sqlite3_exec(other, "ALTER TABLE deleted_away RENAME TO deleted", NULL, NULL, NULL),
			 SQLITE_OK);
	uint64_t spell_ms = time_mono_ms() - spell_start;
	int failures = atomic_load(&feed_errors);
	assert_true(wait_runs(e, "vpn-0000000000000000b"));
	assert_true(runs(e, "vpn-0000000000000000a"));

	/* the spell logged at its start and its end, not per retry */
	char last[1024] = "";
	assert_int_equal(log_count("cannot read the change feed", NULL, 0), 1);
	assert_int_equal(log_count("reads the change feed again", last, sizeof(last)), 1);
	unsigned long long logged = 0;
	const char *after = strstr(last, "after ");
	assert_non_null(after);
	assert_int_equal(sscanf(after, "after %llu failed", &logged), 1);
	assert_true(logged >= 3);
	/* bounded backoff, not a busy loop: 10 ms doubling to 1 s is at most
	 * 7 tries in the first 1.27 s, then one a second (counted up to the
	 * rename back; the try that read the feed again comes after) */
	assert_true(failures <= 8 + (int)(spell_ms / 1000));

	sqlite3_close(other);
	engine_free(e);
	evloop_free(observer);
	state_free(st);
	cache_free(cache);
	store_close(store);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	/* before SQLite initialises: its error log, process-wide */
	sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_failed_read_retried_without_commit, log_restore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
