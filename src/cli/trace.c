/*
 * trace.c — `vpcctl trace`: why a packet is delivered or dropped, step by
 * step (api/trace.h over model/trace.h). EC2 has no such action, so this
 * command does not call the API: it reads the state a vpcd keeps in
 * DIR/vpcd.db into a cache of its own and walks the packet there.
 *
 * Read-only: the database is opened read-only (SQLite's WAL lets it read
 * while vpcd writes), never created nor changed; what it sees is the last
 * committed state.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "api/trace.h"
#include "base/base.h"
#include "base/strbuf.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "store/cache.h"
#include "store/store.h"

#define TRACE_DEFAULT_DATA_DIR "./var"	/* vpcd's default --data-dir */
_Static_assert(TRACE_EPHEMERAL_PORT_DEFAULT == 49152, "the help names it");

const char cli_trace_help[] =
	"usage: vpcctl trace --from SRC --to DST --proto tcp|udp|icmp [--port N]\n"
	"                    [--source-port N] [--data-dir DIR]\n"
	"\n"
	"Walks one packet through the VPC the way AWS's Reachability Analyzer does:\n"
	"security group egress, the source subnet's route table and route, network\n"
	"ACL out, the gateway, network ACL in, security group ingress, and the\n"
	"reply's way back through the (stateless) network ACLs. Each step names the\n"
	"component and the rule (ACL rule number, sgr-..., route); the step that\n"
	"drops the packet says why.\n"
	"\n"
	"  --from SRC         i-... (its primary interface), eni-... or an IPv4 address\n"
	"  --to DST           the same\n"
	"  --proto P          tcp, udp, icmp or an IP protocol number\n"
	"  --port N           TCP/UDP destination port (required for tcp); for icmp the\n"
	"                     ICMP type (default: echo request)\n"
	"  --source-port N    TCP/UDP source port (default 49152)\n"
	"  --data-dir DIR     the vpcd's data directory (default " TRACE_DEFAULT_DATA_DIR "): reads\n"
	"                     DIR/vpcd.db, read-only, also while vpcd runs\n"
	"\n"
	"Exit status: 0 when the packet is delivered, 1 when it is dropped (or on an\n"
	"error), 2 on a usage error. --output json prints {Reachable, Cause, Steps}.\n";

static void load_row(void *ctx, const char *type, const char *id, int64_t ord, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	if (!d) {
		fprintf(stderr, "vpcctl trace: stored %s %s is not valid JSON; left out\n", type, id);
		return;
	}
	cache_put(ctx, type, id, ord, d);
}

/* A port or ICMP type: a whole number in [min, 65535]. */
static bool parse_port(const char *s, int min, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < min || v > 65535)
		return false;
	*out = (int)v;
	return true;
}

int cmd_trace(struct cli_ctx *cx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(cli_trace_help, stdout);
		return CLI_EXIT_OK;
	}
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ "proto", required_argument, NULL, 'p' }, { "port", required_argument, NULL, 'P' },
		{ "source-port", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	struct api_trace_query q = { NULL, NULL, NULL, -1, 0 };
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'f': q.aq_from = optarg; break;
		case 't': q.aq_to = optarg; break;
		case 'p': q.aq_proto = optarg; break;
		case 'P':
			if (!parse_port(optarg, 0, &q.aq_port))
				return cli_usage_error("trace", "--port: '%s' is not 0-65535", optarg);
			break;
		case 's':
			if (!parse_port(optarg, 1, &q.aq_src_port))
				return cli_usage_error("trace", "--source-port: '%s' is not 1-65535", optarg);
			break;
		case ':': return cli_usage_error("trace", "'%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("trace", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("trace", "unexpected argument '%s'", argv[optind]);
	if (!q.aq_from || !q.aq_to || !q.aq_proto)
		return cli_usage_error("trace", "--from, --to and --proto are required");

	const char *dir = cx->cx_opts.o_data_dir ? cx->cx_opts.o_data_dir : TRACE_DEFAULT_DATA_DIR;
	struct store *st = store_open_readonly(dir);
	if (!st) {
		fprintf(stderr, "vpcctl trace: cannot read %s/vpcd.db (is DIR a vpcd's --data-dir?)\n", dir);
		return CLI_EXIT_ERROR;
	}
	int rc = CLI_EXIT_ERROR;
	struct cache *cache = cache_new();
	struct trace_result r;
	char err[256];
	if (store_load_all(st, load_row, cache) < 0) {
		fprintf(stderr, "vpcctl trace: cannot load the state from %s/vpcd.db\n", dir);
		goto done;
	}
	if (api_trace(cache, &q, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "vpcctl trace: %s\n", err);
		goto done;
	}
	if (cx->cx_output == CLI_OUTPUT_JSON) {
		struct doc *d = api_trace_doc(&r);
		json_print(d, cx->cx_out);
		doc_free(d);
	} else {
		struct strbuf sb = STRBUF_INIT;
		trace_format(&r, &sb);
		fputs(sb_str(&sb), cx->cx_out);
		sb_free(&sb);
	}
	rc = r.tr_reachable ? CLI_EXIT_OK : CLI_EXIT_ERROR;
done:
	cache_free(cache);
	store_close(st);
	return rc;
}
