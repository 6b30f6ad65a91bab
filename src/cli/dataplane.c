/*
 * dataplane.c — `vpcctl dataplane`: the virtual router's counters, dropped
 * packets per cause first (bad-frame, src-dst-check, nacl-out, sg-egress,
 * no-route, blackhole, nacl-in, sg-ingress, no-port, fragment, ...), then
 * frames forwarded, ARP, offloads and the connection table.
 *
 * EC2 has no action for them: vpcd serves them as its own action,
 * VpcdDescribeDataPlane (src/api/vpcd_actions.c), SigV4-signed like every
 * call, so this works against a vpcd on another host. vpcd's engine writes
 * them at most every 5 s when they changed. vpcd says when the data plane
 * is off (it runs without --dataplane) or the counters are an earlier
 * run's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"

const char cli_dataplane_help[] =
	"usage: vpcctl dataplane\n"
	"\n"
	"The virtual router's counters (vpcd --dataplane): packets dropped per cause\n"
	"(bad-frame, src-dst-check, nacl-out, sg-egress, no-route, blackhole, no-eni,\n"
	"nacl-in, sg-ingress, no-port, no-public-ip, fragment, ...), frames forwarded\n"
	"(ENI side and gateway ports), ARP replies, GSO frames and software segments,\n"
	"connection-table entries and evictions, the router's overload shedding (its\n"
	"nice value while shedding, whether it sheds now, spells, milliseconds, and\n"
	"spells withdrawn because the router starved).\n"
	"Counted since vpcd started.\n"
	"\n"
	"EC2 has no action for this: vpcd serves them as its own action,\n"
	"VpcdDescribeDataPlane, and refreshes them at most every 5 seconds, when they\n"
	"changed. When the data plane is off (vpcd runs without --dataplane) it says\n"
	"so; when vpcd cannot be asked, vpcctl says why and exits 1.\n"
	"\n"
	"--output json: {\"DataPlane\": {\"State\": \"running\"|\"off\"|\"stopped\",\n"
	"\"Reason\" (unless running), \"UpdatedAt\", \"Pid\", \"Drops\": {cause: n},\n"
	"\"Forwarded\", \"Shedding\", \"Arp\", \"Conntrack\", \"Snapshots\"}}.\n";

/* ---- the view from vpcd ----------------------------------------------------------- */

/* The data plane's view (VpcdDescribeDataPlane): 0, or -1 with err. */
static int view_load(struct cli_ctx *cx, struct doc **view, struct ec2_error *err)
{
	struct ec2_client *c = cli_client(cx);
	if (!c) {
		snprintf(err->e_code, sizeof(err->e_code), "NoClient");
		snprintf(err->e_message, sizeof(err->e_message), "no client");
		return -1;
	}
	struct ec2_params p;
	ec2_params_init(&p);
	struct doc *out = ec2_call(c, "VpcdDescribeDataPlane", &p, err);
	ec2_params_free(&p);
	if (!out)
		return -1;
	const char *json = doc_get_str(out, "Document");
	*view = json ? doc_from_json(json, strlen(json)) : NULL;
	doc_free(out);
	if (!*view) {
		snprintf(err->e_code, sizeof(err->e_code), "InvalidAnswer");
		snprintf(err->e_message, sizeof(err->e_message), "vpcd's answer holds no data plane view");
		return -1;
	}
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
	add_rows(&tb, "shedding", doc_get(v, "Shedding"));
	add_rows(&tb, "arp", doc_get(v, "Arp"));
	add_rows(&tb, "conntrack", doc_get(v, "Conntrack"));
	add_rows(&tb, "nat", doc_get(v, "Nat"));
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
	struct ec2_error err;
	if (view_load(cx, &v, &err) < 0)
		return;		/* vpcd would not say: nothing to add */
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
	struct ec2_error err;
	if (view_load(cx, &v, &err) < 0) {
		cli_print_error(&err);
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
