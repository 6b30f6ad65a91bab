/*
 * fuzz_sigv4 — hostile signatures into SigV4 verification (api/sigv4.c):
 * the Authorization header (algorithm, Credential scope, SignedHeaders
 * list, Signature), X-Amz-Date, Host, X-Amz-Content-Sha256, and the
 * presigned-URL form in the query string (X-Amz-Algorithm, -Credential,
 * -Date, -Expires, -SignedHeaders, -Signature). Must answer every input
 * with a verdict and an error code, never crash.
 *
 * Input: a flags byte, then seven fields separated by '\n' (Authorization,
 * X-Amz-Date, Host, X-Amz-Content-Sha256, method, path, URL query
 * string), then the body. An empty field is an absent header. Flag bit 0:
 * the harness signs the request itself (the fuzzer's body, host and
 * date, with the test key) and uses that Authorization, so that the
 * accepted path and everything after the signature check are reached too;
 * bits 1-3 move the clock around the date; bit 4 signs for eu-west-1.
 *
 * libFuzzer target with clang; with gcc it links tests/fuzz/replay_main.c
 * and replays tests/fuzz/corpus/sigv4.
 */
#include "api/sigv4.h"
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELDS 7
#define KEY_ID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
static const time_t signed_at = 1795835833;	/* 2026-11-28T03:17:13Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* vpcd serves every region; here two, so that an unknown one is refused */
static bool region_known(const char *region)
{
	return strcmp(region, "us-east-1") == 0 || strcmp(region, "eu-west-1") == 0;
}

struct fuzz_hdrs {
	const char *h[4];	/* authorization, x-amz-date, host, x-amz-content-sha256 */
};

static const char *lookup(void *ctx, const char *name)
{
	static const char *const names[4] = { "authorization", "x-amz-date", "host",
					      "x-amz-content-sha256" };
	const struct fuzz_hdrs *h = ctx;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(name, names[i]) == 0)
			return h->h[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		log_set_level(LOG_ERROR);
		quiet = 1;
	}
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	/* fields as NUL-terminated copies; the body as exact bytes */
	char *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = 0;
	char *field[FIELDS] = { 0 };
	size_t pos = 0, n = size - 1;
	for (int f = 0; f < FIELDS; f++) {
		field[f] = copy + pos;
		char *nl = memchr(copy + pos, '\n', n - pos);
		if (!nl) {
			pos = n;
			for (int g = f + 1; g < FIELDS; g++)
				field[g] = copy + n;	/* "" */
			break;
		}
		*nl = 0;
		pos = (size_t)(nl - copy) + 1;
	}
	const uint8_t *body = data + 1 + pos;
	size_t body_len = n - pos;

	struct fuzz_hdrs h;
	for (int i = 0; i < 4; i++)
		h.h[i] = field[i][0] ? field[i] : NULL;
	char auth[512];
	if (flags & 1) {
		const char *date = h.h[1] ? h.h[1] : "20261128T031713Z";
		sigv4_sign_post(KEY_ID, SECRET, flags & 16 ? "eu-west-1" : "us-east-1",
				h.h[2] ? h.h[2] : "127.0.0.1:8775", date, body, body_len, auth,
				sizeof(auth));
		h.h[0] = auth;
	}
	struct query_params q = { 0 };
	bool have_q = field[6][0] && query_parse(field[6], strlen(field[6]), 4096, &q) == 0;
	struct sigv4_request rq = {
		.r_method = field[4][0] ? field[4] : "POST",
		.r_path = field[5][0] ? field[5] : "/",
		.r_query = have_q ? &q : NULL,
		.r_header = lookup,
		.r_header_ctx = &h,
		.r_body = body,
		.r_body_len = body_len,
	};
	static struct sigv4_key keys[2] = {
		{ .k_access_key_id = "AKIDOTHER", .k_secret = "other" },
		{ .k_access_key_id = KEY_ID, .k_secret = SECRET },
	};
	static const int64_t skew[8] = { 0, 1, -1, 899, -899, 901, -901, 7 * 86400 + 1 };
	struct sigv4_result res;
	bool ok = sigv4_verify(&rq, keys, 2, region_known, signed_at + skew[(flags >> 1) & 7], &res);
	if (ok != (res.v_code == NULL))
		abort();	/* the contract: a code exactly when refused */
	if (ok && (!region_known(res.v_region) ||
		   (strcmp(res.v_service, "ec2") != 0 && strcmp(res.v_service, "sts") != 0)))
		abort();	/* accepted: a region and a service we serve */
	if (!ok && !memchr(res.v_message, 0, sizeof(res.v_message)))
		abort();	/* the message must be a string */
	query_free(&q);		/* also after a refused query (wire.h) */
	free(copy);
	return 0;
}
