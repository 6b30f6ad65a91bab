/*
 * context.c — what every command shares (commands.h): the lazily resolved
 * client, error printing in the aws CLI's "CODE: message" form, help and
 * usage errors, tag lookup.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"

static const char *process_getenv(const char *name)
{
	return getenv(name);
}

struct ec2_client *cli_client(struct cli_ctx *cx)
{
	if (cx->cx_ready)
		return &cx->cx_client;
	struct cli_config cfg;
	char code[64], msg[512];
	if (cli_config_resolve(&cx->cx_opts, process_getenv, &cfg, code, sizeof(code), msg, sizeof(msg)) < 0) {
		fprintf(stderr, "%s: %s\n", code, msg);
		cli_config_wipe(&cfg);
		return NULL;
	}
	ec2_client_init(&cx->cx_client, &cfg);
	cli_config_wipe(&cfg);
	cx->cx_client.ec_debug = cx->cx_debug;
	if (cx->cx_debug)
		fprintf(stderr, "vpcctl: endpoint %s (%s), region %s, key %s from %s\n", cx->cx_client.ec_cfg.c_endpoint,
			cx->cx_client.ec_cfg.c_endpoint_source, cx->cx_client.ec_cfg.c_region,
			cx->cx_client.ec_cfg.c_access_key_id, cx->cx_client.ec_cfg.c_key_source);
	cx->cx_ready = true;
	return &cx->cx_client;
}

void cli_ctx_close(struct cli_ctx *cx)
{
	if (cx->cx_ready)
		ec2_client_close(&cx->cx_client);
	cx->cx_ready = false;
}

void cli_print_error(const struct ec2_error *e)
{
	fprintf(stderr, "%s: %s\n", e->e_code, e->e_message);
}

struct doc *cli_call(struct cli_ctx *cx, const char *action, const struct ec2_params *p)
{
	struct ec2_client *c = cli_client(cx);
	if (!c)
		return NULL;
	struct ec2_error err;
	struct doc *out = ec2_call(c, action, p, &err);
	if (!out)
		cli_print_error(&err);
	return out;
}

struct doc *cli_describe(struct cli_ctx *cx, const char *action, const struct ec2_params *p, const char *member)
{
	struct ec2_client *c = cli_client(cx);
	if (!c)
		return NULL;
	struct ec2_error err;
	struct doc *out = ec2_describe_all(c, action, p, member, &err);
	if (!out)
		cli_print_error(&err);
	return out;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vpcctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see: vpcctl %s --help)\n", cmd);
	return CLI_EXIT_USAGE;
}

const char *cli_tag(const struct doc *resource, const char *key)
{
	doc_foreach(t, doc_get(resource, "Tags")) {
		const char *k = doc_get_str(t, "Key");
		if (k && strcmp(k, key) == 0)
			return doc_get_str(t, "Value");
	}
	return NULL;
}
