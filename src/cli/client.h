/*
 * client — one EC2 Query call: form-encode the parameters, sign them with
 * SigV4 (api/sigv4.h's signer, the one vpcd's tests trust), POST them over
 * the kept-alive connection, and turn the answer into a doc or an AWS error.
 *
 * Call order: ec2_client_init (with a resolved cli_config) → ec2_call ... →
 * ec2_client_close (wipes the secret).
 */
#ifndef VPCD_CLI_CLIENT_H
#define VPCD_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/doc.h"
#include "cli/config.h"
#include "cli/ec2_response.h"
#include "cli/http.h"

#define EC2_API_VERSION "2016-11-15"
#define EC2_PARAMS_MAX 256

/* Request parameters in wire form ("Filter.1.Value.1"), in order. */
struct ec2_params {
	char *p_names[EC2_PARAMS_MAX];	/* owned */
	char *p_values[EC2_PARAMS_MAX];	/* owned */
	size_t p_count;
};

void ec2_params_init(struct ec2_params *p);
/* Adds name=value; names are printf formats so that lists read naturally:
 * ec2_param(p, "abc", "Filter.%d.Name", 1). Aborts beyond EC2_PARAMS_MAX
 * (a programming error: vpcctl's requests are small). */
void ec2_param(struct ec2_params *p, const char *value, const char *name_fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ec2_params_free(struct ec2_params *p);
/* The form body, percent-encoded as SigV4 expects (RFC 3986 unreserved kept). */
void ec2_params_encode(const struct ec2_params *p, const char *action, struct strbuf *body);

struct ec2_client {
	struct cli_config ec_cfg;
	struct http_conn ec_conn;
	bool ec_debug;		/* one line per call on stderr (never the secret) */
	unsigned ec_calls;
};

void ec2_client_init(struct ec2_client *c, const struct cli_config *cfg);
void ec2_client_close(struct ec2_client *c);

/* Calls action. Returns the answer as a doc (caller frees), or NULL with err
 * filled (the service's code and message, or EndpointConnectionError). */
struct doc *ec2_call(struct ec2_client *c, const char *action, const struct ec2_params *p, struct ec2_error *err);

/* Describe* through every page (NextToken), concatenating list_member.
 * Returns {list_member: [...]} or NULL with err. */
struct doc *ec2_describe_all(struct ec2_client *c, const char *action, const struct ec2_params *p,
			     const char *list_member, struct ec2_error *err);

#endif
