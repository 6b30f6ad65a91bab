/*
 * dataplane.c — `vpcctl dataplane`: the virtual router's counters, dropped
 * packets per cause first (bad-frame, src-dst-check, nacl-out, sg-egress,
 * no-route, blackhole, nacl-in, sg-ingress, no-port, fragment, ...), then
 * frames forwarded, ARP, offloads and the connection table.
 *
 * EC2 has no action for them. vpcd's engine keeps them in one internal
 * record of its store (engine_dataplane.h: type "_dataplane", id
 * "_dataplane-counters"), written at most every 5 s when they changed;
 * this command reads it from DIR/vpcd.db (--data-dir, default ./var),
 * read-only, beside a running vpcd, as `vpcctl vpn status` reads the
 * tunnels' detail. It says so when the store cannot be read (exit 1), and
 * when the data plane is off: no record (vpcd never ran with
 * --dataplane there), a record saying so, or the vpcd that wrote it is no
 * longer running (its last counters are still shown).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "store/store.h"

#define DP_DEFAULT_DATA_DIR "./var"		/* vpcd's default --data-dir */
#define DP_TYPE "_dataplane"			/* engine_dataplane.h's ENGINE_DP_COUNTERS_TYPE */
#define DP_ID "_dataplane-counters"		/* ENGINE_DP_COUNTERS_ID */

const char cli_dataplane_help[] =
	"usage: vpcctl dataplane [--data-dir DIR]\n"
	"\n"
	"The virtual router's counters (vpcd --dataplane): packets dropped per cause\n"
	"(bad-frame, src-dst-check, nacl-out, sg-egress, no-route, blackhole, no-eni,\n"
	"nacl-in, sg-ingress, no-port, no-public-ip, fragment, ...), frames forwarded\n"
	"(ENI side and gateway ports), ARP replies, GSO frames and software segments,\n"
	"connection-table entries and evictions. Counted since vpcd started.\n"
	"\n"
	"EC2 has no action for this: vpcctl reads them from the local vpcd's\n"
	"DIR/vpcd.db (--data-dir, default " DP_DEFAULT_DATA_DIR "), read-only, also while vpcd runs;\n"
	"vpcd writes them at most every 5 seconds, when they changed. When the data\n"
	"plane is off (vpcd runs without --dataplane, or is not running) it says so;\n"
	"when the state cannot be read, it says why and exits 1.\n"
	"\n"
	"--output json: {\"DataPlane\": {\"State\": \"running\"|\"off\"|\"stopped\",\n"
	"\"Reason\" (unless running), \"UpdatedAt\", \"Pid\", \"Drops\": {cause: n},\n"
	"\"Forwarded\", \"Arp\", \"Conntrack\", \"Snapshots\"}}.\n";

/* ---- the record from the store -------------------------------------------------- */

static void load_row(void *ctx, const char *type, const char *id, int64_t ord, const char *json)
{
	(void)ord;
	struct doc **found = ctx;
	if (strcmp(type, DP_TYPE) != 0 || strcmp(id, DP_ID) != 0 || *found)
		return;
	*found = doc_from_json(json, strlen(json));
}

/* 0 with *rec the stored record (NULL: none), or -1 with why. */
static int record_read(const char *dir, struct doc **rec, char *why, size_t len)
{
	*rec = NULL;
	char path[4200];
	snprintf(path, sizeof(path), "%s/vpcd.db", dir);
	if (access(path, R_OK) != 0) {
		snprintf(why, len, "cannot read %.400s: %s (give the local vpcd's --data-dir DIR)", path,
			 strerror(errno));
		return -1;
	}
	struct store *st = store_open_readonly(dir);
	if (!st) {
		snprintf(why, len, "cannot open %.400s read-only", path);
		return -1;
	}
	int rc = store_load_all(st, load_row, rec);
	store_close(st);
	if (rc < 0) {
		doc_free(*rec);
		*rec = NULL;
		snprintf(why, len, "cannot load the state from %.400s", path);
		return -1;
	}
	return 0;
}

static bool pid_alive(int64_t pid)
{
	if (pid <= 0 || pid > INT32_MAX)
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* The view printed: {"State", "Reason"?, and the record's members}. A new
 * doc; rec may be NULL. */
static struct doc *view_of(const struct doc *rec, const char *dir)
{
	struct doc *v = doc_obj();
	char reason[640];
	if (!rec) {
		doc_set_str(v, "State", "off");
		snprintf(reason, sizeof(reason), "no data plane counters in %.400s/vpcd.db: the vpcd there has not "
			 "run with --dataplane", dir);
		doc_set_str(v, "Reason", reason);
		return v;
	}
	int64_t pid = doc_get_int(rec, "Pid", 0);
	if (!doc_get_bool(rec, "Running", false)) {
		doc_set_str(v, "State", "off");
		snprintf(reason, sizeof(reason), "the data plane is off: vpcd (pid %lld) runs without --dataplane "
			 "or could not start it (see its log)", (long long)pid);
		doc_set_str(v, "Reason", reason);
	} else if (!pid_alive(pid)) {
		doc_set_str(v, "State", "stopped");
		snprintf(reason, sizeof(reason), "the vpcd that ran the data plane (pid %lld) is no longer "
			 "running: these are its last counters", (long long)pid);
		doc_set_str(v, "Reason", reason);
	} else {
		doc_set_str(v, "State", "running");
	}
	doc_foreach(m, rec)
		if (strcmp(m->d_key, "Running") != 0)
			doc_set(v, m->d_key, doc_clone(m));
	return v;
}

/* The data plane's view from --data-dir (default ./var): 0, or -1 with why. */
static int view_load(struct cli_ctx *cx, struct doc **view, char *why, size_t len)
{
	const char *dir = cx->cx_opts.o_data_dir ? cx->cx_opts.o_data_dir : DP_DEFAULT_DATA_DIR;
	struct doc *rec;
	if (record_read(dir, &rec, why, len) < 0)
		return -1;
	*view = view_of(rec, dir);
	doc_free(rec);
	return 0;
}

/* ---- printing ------------------------------------------------------------------- */

static void add_rows(struct table *t, const char *group, const struct doc *obj)
{
	doc_foreach(m, obj) {
		char num[32];
		snprintf(num, sizeof(num), "%lld", (long long)doc_get_int(obj, m->d_key, 0));
		const char *row[] = { group, m->d_key, num };
		table_row(t, row);
	}
}

static void print_view(FILE *f, const struct doc *v)
{
	const char *state = doc_get_str(v, "State");
	if (doc_get_str(v, "Reason"))
		fprintf(f, "data plane %s: %s\n", state, doc_get_str(v, "Reason"));
	if (!doc_get(v, "Drops"))
		return;
	int64_t at = doc_get_int(v, "UpdatedAt", 0), now = (int64_t)time(NULL);
	time_t t = (time_t)at;
	struct tm tm;
	char when[32];
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "data plane counters of vpcd pid %lld, as of %s (%lld s ago; written when they change, "
		"at most every 5 s)\n\n", (long long)doc_get_int(v, "Pid", 0), when,
		(long long)(now > at ? now - at : 0));
	static const char *const h[] = { "GROUP", "COUNTER", "VALUE" };
	struct table tb;
	table_init(&tb, NULL, 3, h);
	add_rows(&tb, "drops", doc_get(v, "Drops"));
	add_rows(&tb, "forwarded", doc_get(v, "Forwarded"));
	add_rows(&tb, "arp", doc_get(v, "Arp"));
	add_rows(&tb, "conntrack", doc_get(v, "Conntrack"));
	char num[32];
	snprintf(num, sizeof(num), "%lld", (long long)doc_get_int(v, "Snapshots", 0));
	const char *row[] = { "router", "Snapshots", num };
	table_row(&tb, row);
	table_print(&tb, f);
}

/* "nacl-in 3, sg-ingress 2" (non-zero causes only) or "none". */
static void drops_line(const struct doc *drops, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	doc_foreach(d, drops) {
		long long v = (long long)doc_get_int(drops, d->d_key, 0);
		if (v && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s %lld", n ? ", " : "", d->d_key, v);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

void cli_dataplane_summary(struct cli_ctx *cx, FILE *f)
{
	struct doc *v = NULL;
	char why[512];
	if (view_load(cx, &v, why, sizeof(why)) < 0)
		return;		/* no local vpcd state: nothing to add */
	if (!doc_get(v, "Pid")) {
		/* no vpcd there ever ran a data plane */
	} else if (doc_get(v, "Drops")) {
		char line[1024];
		drops_line(doc_get(v, "Drops"), line, sizeof(line));
		fprintf(f, "\ndrops: %s%s (vpcctl dataplane for every counter)\n", line,
			strcmp(doc_get_str(v, "State"), "running") == 0 ? "" : " [vpcd no longer running]");
	} else {
		fprintf(f, "\ndrops: data plane off\n");
	}
	doc_free(v);
}

/* ---- the command ------------------------------------------------------------------ */

int cmd_dataplane(struct cli_ctx *cx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(cli_dataplane_help, stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error("dataplane", "%s '%s'", argv[1][0] == '-' ? "unknown option" :
				       "unexpected argument", argv[1]);
	struct doc *v = NULL;
	char why[512];
	if (view_load(cx, &v, why, sizeof(why)) < 0) {
		fprintf(stderr, "vpcctl dataplane: the data plane's state is unreadable: %s\n", why);
		return CLI_EXIT_ERROR;
	}
	if (cx->cx_output == CLI_OUTPUT_JSON) {
		struct doc *o = doc_obj();
		doc_set(o, "DataPlane", v);
		json_print(o, cx->cx_out);
		doc_free(o);
		return CLI_EXIT_OK;
	}
	print_view(cx->cx_out, v);
	doc_free(v);
	return CLI_EXIT_OK;
}
