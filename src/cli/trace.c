/*
 * trace.c — `vpcctl trace`: why a packet is delivered or dropped, step by
 * step. EC2 has no such action; vpcd serves it as its own, VpcdTracePacket
 * (src/api/vpcd_actions.c: src/engine/engine_trace.c over the state vpcd
 * holds, one synthetic packet through the router's compiled snapshot),
 * SigV4-signed like every call, so this works against a vpcd on another
 * host. Read-only: tracing changes nothing.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "model/trace_result.h"

#define TRACE_EPHEMERAL_PORT_DEFAULT_TEXT "49152"
_Static_assert(TRACE_EPHEMERAL_PORT_DEFAULT == 49152, "the help names it");

const char cli_trace_help[] =
	"usage: vpcctl trace --from SRC --to DST --proto tcp|udp|icmp [--port N]\n"
	"                    [--source-port N]\n"
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
	"  --source-port N    TCP/UDP source port (default " TRACE_EPHEMERAL_PORT_DEFAULT_TEXT ")\n"
	"\n"
	"EC2 has no action for this: vpcd serves it as its own, VpcdTracePacket.\n"
	"\n"
	"Exit status: 0 when the packet is delivered, 1 when it is dropped (or on an\n"
	"error), 2 on a usage error. --output json prints {Reachable, Cause, Steps}.\n";

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
	const char *from = NULL, *to = NULL, *proto = NULL;
	int port = -1, src_port = 0;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'p': proto = optarg; break;
		case 'P':
			if (!parse_port(optarg, 0, &port))
				return cli_usage_error("trace", "--port: '%s' is not 0-65535", optarg);
			break;
		case 's':
			if (!parse_port(optarg, 1, &src_port))
				return cli_usage_error("trace", "--source-port: '%s' is not 1-65535", optarg);
			break;
		case ':': return cli_usage_error("trace", "'%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("trace", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("trace", "unexpected argument '%s'", argv[optind]);
	if (!from || !to || !proto)
		return cli_usage_error("trace", "--from, --to and --proto are required");

	struct ec2_params p;
	char num[16];
	ec2_params_init(&p);
	ec2_param(&p, from, "From");
	ec2_param(&p, to, "To");
	ec2_param(&p, proto, "Protocol");
	if (port >= 0) {
		snprintf(num, sizeof(num), "%d", port);
		ec2_param(&p, num, "Port");
	}
	if (src_port > 0) {
		snprintf(num, sizeof(num), "%d", src_port);
		ec2_param(&p, num, "SourcePort");
	}
	struct doc *out = cli_call(cx, "VpcdTracePacket", &p);
	ec2_params_free(&p);
	if (!out)
		return CLI_EXIT_ERROR;
	const char *json = doc_get_str(out, "Document");
	struct doc *d = json ? doc_from_json(json, strlen(json)) : NULL;
	doc_free(out);
	if (!d) {
		fprintf(stderr, "vpcctl trace: vpcd's answer holds no trace\n");
		return CLI_EXIT_ERROR;
	}
	int rc = doc_get_bool(d, "Reachable", false) ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	if (cx->cx_output == CLI_OUTPUT_JSON) {
		doc_remove(d, "Text");
		json_print(d, cx->cx_out);
	} else {
		const char *text = doc_get_str(d, "Text");
		fputs(text ? text : "", cx->cx_out);
	}
	doc_free(d);
	return rc;
}
