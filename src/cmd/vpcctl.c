/*
 * vpcctl — the operator's CLI. It talks to vpcd only through the public EC2
 * Query API, SigV4-signed, exactly as the aws CLI does; endpoint and keys
 * are found the same way (src/cli/config.h).
 *
 *   vpcctl [GLOBAL OPTIONS] COMMAND [ARGS]   (global options go anywhere)
 *
 * What EC2 has no action for (`vpcctl trace`, `vpn status`, `dataplane`)
 * comes from vpcd's own signed actions (VpcdTracePacket and the others,
 * src/api/vpcd_actions.c), never from vpcd's data directory.
 *
 * This file only splits the command line and dispatches; the commands live
 * in src/cli/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"

static const char main_help[] =
	"usage: vpcctl [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"The operator's CLI for vpcd: the console's VPC wizard, the customer gateway's\n"
	"configuration, VPN tunnel status and the whole VPC at a glance, through the\n"
	"EC2 API (SigV4-signed, like the aws CLI).\n"
	"\n"
	"commands:\n"
	"  wizard        create a VPC the way the console wizard does (4 patterns)\n"
	"  vpn devices   list the device types a configuration can be made for\n"
	"  vpn config    write a VPN connection's configuration for a device\n"
	"  vpn status    each tunnel's outside address, status, since when and why\n"
	"  show          VPCs, subnets, route tables, gateways, VPNs, instances\n"
	"  trace         why a packet is delivered or dropped (VpcdTracePacket)\n"
	"  instance exec run a command inside an instance's network namespace (root)\n"
	"  dataplane     the virtual router's counters: drops per cause\n"
	"  version       print vpcctl's version\n"
	"  help [CMD]    this text, or a command's\n"
	"\n"
	"global options (as the aws CLI's):\n"
	"  --endpoint-url URL   else AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, the profile's\n"
	"                       endpoint_url, then " CLI_DEFAULT_ENDPOINT "\n"
	"  --profile NAME       else AWS_PROFILE, then \"default\"\n"
	"  --region NAME        else AWS_REGION, AWS_DEFAULT_REGION, the profile's region,\n"
	"                       then " CLI_DEFAULT_REGION "\n"
	"  --data-dir DIR       use a local vpcd's DIR/credentials (instead of the\n"
	"                       environment's keys and ~/.aws/credentials)\n"
	"  --ca-bundle FILE     the CA certificates an https:// endpoint is verified\n"
	"                       with; else AWS_CA_BUNDLE, the profile's ca_bundle, with\n"
	"                       --data-dir DIR vpcd's DIR/tls.crt, then the system's\n"
	"  --output table|json  aligned tables (default) or JSON for scripts\n"
	"  --debug              one line per API call on stderr\n"
	"  --version            print the version\n"
	"  --help, -h           help (also after any command)\n"
	"\n"
	"keys: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the shared credentials file\n"
	"(AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), else the config file\n"
	"(AWS_CONFIG_FILE, else ~/.aws/config). Errors print \"CODE: message\" and exit 1;\n"
	"usage errors exit 2.\n";

/* Global options taking a value; each can be written "--opt VALUE" or "--opt=VALUE". */
static const char *const global_valued[] = { "--endpoint-url", "--profile", "--region", "--data-dir", "--output",
					     "--ca-bundle" };

static const char **global_slot(struct cli_ctx *cx, const char *name, const char **output)
{
	if (strcmp(name, "--endpoint-url") == 0) return &cx->cx_opts.o_endpoint_url;
	if (strcmp(name, "--profile") == 0) return &cx->cx_opts.o_profile;
	if (strcmp(name, "--region") == 0) return &cx->cx_opts.o_region;
	if (strcmp(name, "--data-dir") == 0) return &cx->cx_opts.o_data_dir;
	if (strcmp(name, "--ca-bundle") == 0) return &cx->cx_opts.o_ca_bundle;
	return output;
}

/* Takes the global options out of argv wherever they are; the rest stays in
 * order. Returns the new argc, or -1 after a usage message. */
static int take_global_options(struct cli_ctx *cx, int argc, char **argv, bool *version)
{
	const char *output = NULL;
	int out = 1;
	bool rest = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (rest || a[0] != '-' || a[1] != '-') {
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			rest = true;
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(a, "--debug") == 0) {
			cx->cx_debug = true;
			continue;
		}
		if (strcmp(a, "--version") == 0) {
			*version = true;
			continue;
		}
		bool taken = false;
		for (size_t g = 0; g < sizeof(global_valued) / sizeof(global_valued[0]); g++) {
			size_t n = strlen(global_valued[g]);
			if (strncmp(a, global_valued[g], n) != 0 || (a[n] != '\0' && a[n] != '='))
				continue;
			const char *value;
			if (a[n] == '=') {
				value = a + n + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				fprintf(stderr, "vpcctl: %s needs a value\n", global_valued[g]);
				return -1;
			}
			*global_slot(cx, global_valued[g], &output) = value;
			taken = true;
			break;
		}
		if (!taken)
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	if (output) {
		if (strcmp(output, "json") == 0) {
			cx->cx_output = CLI_OUTPUT_JSON;
		} else if (strcmp(output, "table") == 0 || strcmp(output, "text") == 0) {
			cx->cx_output = CLI_OUTPUT_TABLE;
		} else {
			fprintf(stderr, "vpcctl: --output must be table or json, not '%s'\n", output);
			return -1;
		}
	}
	return out;
}

static int print_help_for(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : NULL;
	const char *sub = argc > 2 ? argv[2] : NULL;
	if (!what)
		fputs(main_help, stdout);
	else if (strcmp(what, "wizard") == 0)
		fputs(cli_wizard_help, stdout);
	else if (strcmp(what, "show") == 0)
		fputs(cli_show_help, stdout);
	else if (strcmp(what, "trace") == 0)
		fputs(cli_trace_help, stdout);
	else if (strcmp(what, "instance") == 0)
		fputs(cli_instance_help, stdout);
	else if (strcmp(what, "dataplane") == 0)
		fputs(cli_dataplane_help, stdout);
	else if (strcmp(what, "vpn") == 0 && sub && strcmp(sub, "devices") == 0)
		fputs(cli_vpn_devices_help, stdout);
	else if (strcmp(what, "vpn") == 0 && sub && strcmp(sub, "config") == 0)
		fputs(cli_vpn_config_help, stdout);
	else if (strcmp(what, "vpn") == 0 && sub && strcmp(sub, "status") == 0)
		fputs(cli_vpn_status_help, stdout);
	else if (strcmp(what, "vpn") == 0)
		fputs(cli_vpn_help, stdout);
	else if (strcmp(what, "version") == 0 || strcmp(what, "help") == 0)
		fputs(main_help, stdout);
	else {
		fprintf(stderr, "vpcctl: no command '%s' (see: vpcctl --help)\n", what);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli_ctx cx;
	memset(&cx, 0, sizeof(cx));
	cx.cx_out = stdout;
	cx.cx_in = stdin;
	cx.cx_interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	bool version = false;
	argc = take_global_options(&cx, argc, argv, &version);
	if (argc < 0)
		return CLI_EXIT_USAGE;
	if (version) {
		printf("vpcctl %s\n", VPCD_VERSION);
		return CLI_EXIT_OK;
	}
	if (argc == 1) {
		fputs(main_help, stderr);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		return print_help_for(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0)
		return print_help_for(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0) {
		if (cli_wants_help(argc - 1, argv + 1)) {
			fputs(main_help, stdout);
			return CLI_EXIT_OK;
		}
		printf("vpcctl %s\n", VPCD_VERSION);
		return CLI_EXIT_OK;
	}
	int rc;
	if (strcmp(cmd, "wizard") == 0)
		rc = cmd_wizard(&cx, argc - 1, argv + 1);
	else if (strcmp(cmd, "vpn") == 0)
		rc = cmd_vpn(&cx, argc - 1, argv + 1);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(&cx, argc - 1, argv + 1);
	else if (strcmp(cmd, "trace") == 0)
		rc = cmd_trace(&cx, argc - 1, argv + 1);
	else if (strcmp(cmd, "instance") == 0)
		rc = cmd_instance(&cx, argc - 1, argv + 1);
	else if (strcmp(cmd, "dataplane") == 0)
		rc = cmd_dataplane(&cx, argc - 1, argv + 1);
	else {
		fprintf(stderr, "vpcctl: no command '%s' (see: vpcctl --help)\n", cmd);
		rc = CLI_EXIT_USAGE;
	}
	cli_ctx_close(&cx);
	return rc;
}
