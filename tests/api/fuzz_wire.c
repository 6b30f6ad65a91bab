/*
 * fuzz_wire — hostile request bodies into the EC2 Query wire layer, as the
 * HTTP side hands them over: form text -> query_parse (percent-decoding,
 * limits) -> the parameter tree of wire_parse_request (dotted names,
 * list indexes, nesting, types) -> the action's request doc, then the
 * doc serialised (JSON) and an error answer that quotes a parameter
 * (XML escaping). Every step must refuse bad input with an error, never
 * crash, leak or loop.
 *
 * Input: the form body. The operation is the body's Action when it names
 * one (as the server does); otherwise the first two bytes pick one of
 * the model's operations, so that a fuzzer without a valid Action still
 * reaches every input shape.
 *
 * libFuzzer target with clang (-fsanitize=fuzzer); with gcc it links
 * tests/fuzz/replay_main.c and replays tests/fuzz/corpus/wire.
 */
#include "api/wire.h"
#include "base/base.h"
#include "base/doc.h"
#include "base/strbuf.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_PARAMS 4096	/* what the server passes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		log_set_level(LOG_ERROR);
		quiet = 1;
	}
	if (size < 2 || !ec2_operation_count)
		return 0;
	size_t pick = ((size_t)data[0] << 8 | data[1]) % ec2_operation_count;
	const char *body = (const char *)data + 2;
	size_t len = size - 2;

	struct query_params q;
	if (query_parse(body, len, FUZZ_MAX_PARAMS, &q) != 0) {
		query_free(&q);		/* wire.h: freed also after an error */
		return 0;
	}
	const char *action = query_get(&q, "Action");
	const struct ec2_operation *op = action ? ec2_operation_find(action) : NULL;
	if (!op)
		op = &ec2_operations[pick];
	char code[64], msg[512];
	struct doc *d = wire_parse_request(op, &q, code, sizeof(code), msg, sizeof(msg));
	struct strbuf sb = STRBUF_INIT;
	if (d) {
		doc_to_json(d, &sb);
		doc_free(d);
	} else {
		/* the error answer, with the message wire_parse_request wrote */
		code[sizeof(code) - 1] = msg[sizeof(msg) - 1] = 0;
		wire_write_error(code, msg, "fuzz-request", &sb);
	}
	sb_free(&sb);
	if (q.qp_count) {
		struct strbuf e = STRBUF_INIT;
		wire_write_error("InvalidParameterValue", q.qp_items[q.qp_count - 1].qp_value,
				 "fuzz-request", &e);
		sb_free(&e);
	}
	query_free(&q);
	return 0;
}
