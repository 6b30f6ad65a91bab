/*
 * commands — vpcctl's commands, each `int cmd_X(struct cli_ctx *, argc, argv)`
 * with argv[0] the command's own name; each returns the process exit code
 * (CLI_EXIT_*). The context resolves endpoint and keys only when a command
 * first calls the API, so that --help needs neither.
 */
#ifndef VPCD_CLI_COMMANDS_H
#define VPCD_CLI_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/client.h"
#include "cli/config.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_ERROR = 1, CLI_EXIT_USAGE = 2 };

enum cli_output { CLI_OUTPUT_TABLE, CLI_OUTPUT_JSON };

struct cli_ctx {
	struct cli_options cx_opts;
	enum cli_output cx_output;
	bool cx_debug;
	bool cx_interactive;	/* stdin and stdout are terminals: prompts allowed */
	FILE *cx_out;		/* stdout */
	FILE *cx_in;		/* stdin, for prompts */
	bool cx_ready;
	struct ec2_client cx_client;
};

/* The client, resolving the configuration on first use; NULL after printing
 * "CODE: message" when it cannot be resolved. */
struct ec2_client *cli_client(struct cli_ctx *cx);
void cli_ctx_close(struct cli_ctx *cx);

/* Calls action, printing "CODE: message" on stderr on failure (NULL). */
struct doc *cli_call(struct cli_ctx *cx, const char *action, const struct ec2_params *p);
struct doc *cli_describe(struct cli_ctx *cx, const char *action, const struct ec2_params *p, const char *member);
void cli_print_error(const struct ec2_error *e);

/* True when argv has -h or --help (before any "--"). */
bool cli_wants_help(int argc, char **argv);
/* Usage error: "vpcctl CMD: why" and the hint to use --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value of the tag Key=key in a resource's Tags list, or NULL. */
const char *cli_tag(const struct doc *resource, const char *key);

int cmd_wizard(struct cli_ctx *cx, int argc, char **argv);
int cmd_vpn(struct cli_ctx *cx, int argc, char **argv);
/* `vpn status` (vpn_status.c): telemetry through the API, the tunnels'
 * SAs from --data-dir's vpcd.db, read-only. argv[0] is "status". */
int cli_vpn_status(struct cli_ctx *cx, int argc, char **argv);
int cmd_show(struct cli_ctx *cx, int argc, char **argv);
/* No API call: reads the state from --data-dir's vpcd.db, read-only. */
int cmd_trace(struct cli_ctx *cx, int argc, char **argv);
/* `instance exec` (instance.c): no API call; setns into /run/netns/<id>. */
int cmd_instance(struct cli_ctx *cx, int argc, char **argv);
extern const char cli_instance_help[];
/* `dataplane` (dataplane.c): no API call; the router's counters from
 * --data-dir's vpcd.db, read-only. */
int cmd_dataplane(struct cli_ctx *cx, int argc, char **argv);
extern const char cli_dataplane_help[];
/* For `show`: "drops: ..." from --data-dir's vpcd.db; nothing when that
 * cannot be read. */
void cli_dataplane_summary(struct cli_ctx *cx, FILE *f);

extern const char cli_wizard_help[];
extern const char cli_vpn_help[];
extern const char cli_vpn_devices_help[];
extern const char cli_vpn_config_help[];
extern const char cli_vpn_status_help[];
extern const char cli_show_help[];
extern const char cli_trace_help[];

#endif
