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
	size_t qp_count, qp_cap;
};

/* Bounds of one request's parameters (each beyond is refused with its own
 * error, never dropped): the dotted parts of a name (the model's deepest
 * input, CreateVpnConnection's Options.TunnelOptions.N.<list>.N.Value, has
 * 6), and the elements built from them (tree nodes, values, list items,
 * the empty items a list of structures gets for the indexes it skips). */
#define WIRE_MAX_NAME_PARTS 16
#define WIRE_MAX_ELEMENTS 32768

enum query_status {
	QUERY_OK = 0,
	QUERY_BAD_ENCODING = -1,	/* a malformed %-escape, or %00 */
	QUERY_TOO_MANY = -2,		/* more than max_params parameters */
};

/* Parses application/x-www-form-urlencoded text into out (freed with
 * query_free, also after an error). Returns an enum query_status. */
int query_parse(const char *body, size_t len, size_t max_params, struct query_params *out);
/* Appends one (copied) parameter; QUERY_TOO_MANY when q has max_params. */
int query_add(struct query_params *q, const char *name, const char *value, size_t max_params);
const char *query_get(const struct query_params *q, const char *name);
void query_free(struct query_params *q);

/* Writes s into out (out_len > 0) as it may appear in an error message or
 * a log line: printable ASCII kept, any other byte as '?', cut at
 * out_len - 1 bytes. Returns out. */
const char *wire_printable(const char *s, char *out, size_t out_len);

const struct ec2_operation *ec2_operation_find(const char *name);

/* Builds the request doc for an operation's input shape. On a bad value or
 * a missing required member returns NULL and writes the AWS error code and
 * message into code/msg. Unknown parameters are reported as
 * UnknownParameter. Action and Version are not members. Every string
 * value must be UTF-8 without control characters (utf8_text_valid), else
 * InvalidParameterValue. Cost: O(parameters x parts), bounded by
 * WIRE_MAX_NAME_PARTS and WIRE_MAX_ELEMENTS; no recursion deeper than the
 * model's shapes. */
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
