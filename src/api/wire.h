/*
 * wire — the EC2 Query protocol's two translations, driven by the generated
 * model tables: form parameters → request doc (keys are member names), and
 * response doc → XML. Neither knows any action's behaviour.
 */
#ifndef VPCD_API_WIRE_H
#define VPCD_API_WIRE_H

#include <stddef.h>

#include "api/ec2_model.h"
#include "base/doc.h"
#include "base/strbuf.h"

struct query_param {
	char *qp_name;	/* decoded */
	char *qp_value;	/* decoded */
};

struct query_params {
	struct query_param *qp_items;	/* owned */
	size_t qp_count;
};

/* Parses application/x-www-form-urlencoded text. Returns 0, or -1 on a
 * malformed escape or more than max_params parameters. */
int query_parse(const char *body, size_t len, size_t max_params, struct query_params *out);
const char *query_get(const struct query_params *q, const char *name);
void query_free(struct query_params *q);

const struct ec2_operation *ec2_operation_find(const char *name);

/* Builds the request doc for an operation's input shape. On a bad value or
 * a missing required member returns NULL and writes the AWS error code and
 * message into code/msg. Unknown parameters are reported as
 * UnknownParameter. Action and Version are not members. */
struct doc *wire_parse_request(const struct ec2_operation *op, const struct query_params *q,
			       char *code, size_t code_len, char *msg, size_t msg_len);

/* Writes <ActionResponse xmlns=...><requestId/>...members...</ActionResponse>.
 * An object reached through a DOC_REF (a cached resource in a Describe
 * answer) gets its members' XML kept as its memo (doc.h), which the next
 * answer copies: so out is not changed, but the refs' targets may gain a
 * memo, and must be changed only through doc.h from then on. API thread
 * only, like the cache whose docs the refs name. */
void wire_write_response(const struct ec2_operation *op, const struct doc *out,
			 const char *request_id, struct strbuf *xml);

void wire_write_error(const char *code, const char *message, const char *request_id,
		      struct strbuf *xml);

#define EC2_XMLNS "http://ec2.amazonaws.com/doc/2016-11-15/"

#endif
