/*
 * sigv4 — verification of AWS Signature Version 4 on EC2 Query requests,
 * in the Authorization header or in the query string (a presigned URL:
 * X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
 * -Signature). Sans-I/O: the HTTP layer passes the method,
 * path, decoded query arguments, a header lookup, the body and the clock.
 * Signatures are compared in constant time; no secret is ever logged.
 */
#ifndef VPCD_API_SIGV4_H
#define VPCD_API_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "api/wire.h"

#define SIGV4_MAX_SKEW_S (15 * 60)
#define SIGV4_ACCESS_KEY_MAX 128
#define SIGV4_SECRET_MAX 128

struct sigv4_key {
	char k_access_key_id[SIGV4_ACCESS_KEY_MAX];
	char k_secret[SIGV4_SECRET_MAX];	/* wiped by sigv4_key_wipe */
	/* cache of the derived signing key for one scope (date/region/service) */
	char k_cached_scope[128];
	uint8_t k_cached_signing_key[32];
};

struct sigv4_request {
	const char *r_method;
	const char *r_path;
	const struct query_params *r_query;	/* URL query arguments, decoded */
	const char *(*r_header)(void *ctx, const char *name);	/* case-insensitive */
	void *r_header_ctx;
	const void *r_body;
	size_t r_body_len;
};

struct sigv4_result {
	const char *v_code;	/* NULL when verified; else the AWS error code */
	char v_message[256];
	char v_access_key_id[SIGV4_ACCESS_KEY_MAX];
	char v_region[32];	/* the credential scope's region (once the head passed) */
	char v_service[8];	/* "ec2" or "sts" */
};

/* What the head of a request (its headers, or a presigned URL's query)
 * says about its signature, checked by sigv4_check_head: everything but
 * the signature itself, which covers the body's hash. */
struct sigv4_auth {
	struct sigv4_key *sa_key;	/* borrowed from the keys given */
	char sa_amz_date[17];		/* YYYYMMDDTHHMMSSZ */
	char sa_date[9];		/* YYYYMMDD of the credential scope */
	char sa_region[32];		/* of the credential scope */
	char sa_service[8];		/* "ec2" or "sts" */
	char sa_signed_headers[512];
	char sa_signature[65];		/* lower-case hex */
	char sa_payload_hash[65];	/* x-amz-content-sha256 when given, else "" */
};

/* Call order: sigv4_check_head as soon as the headers are in (before any
 * body byte is kept), then sigv4_check_body once the body is complete;
 * only then is the request authenticated. check_head refuses whatever
 * the headers alone show to be wrong: no or malformed Authorization, an
 * unknown access key, a credential scope of another date, of a region
 * region_known() refuses or of a service other than ec2 and sts, a date out of the 15-minute window, SignedHeaders without the
 * host (compared token by token) or with a malformed name, an
 * x-amz-content-sha256 that is not 64 hex digits. The request's body is
 * not read. Both return true when the step passes, else fill res. */
bool sigv4_check_head(const struct sigv4_request *req, struct sigv4_key *keys, size_t nkeys,
		      bool (*region_known)(const char *region), time_t now, struct sigv4_auth *auth,
		      struct sigv4_result *res);
bool sigv4_check_body(const struct sigv4_auth *auth, const struct sigv4_request *req,
		      struct sigv4_result *res);

/* Both steps at once: verifies the request against keys[0..nkeys) for
 * service "ec2" or "sts" in the region its credential scope names, which
 * region_known() must accept (vpcd serves every region on one endpoint).
 * Returns true when the signature is valid; res then names the scope's
 * region and service. */
bool sigv4_verify(const struct sigv4_request *req, struct sigv4_key *keys, size_t nkeys,
		  bool (*region_known)(const char *region), time_t now, struct sigv4_result *res);

/* Signs (for vpcctl and tests): fills the Authorization value for a POST of
 * body to host with the given amz_date (YYYYMMDDTHHMMSSZ). */
void sigv4_sign_post(const char *access_key_id, const char *secret, const char *region,
		     const char *host, const char *amz_date, const void *body, size_t body_len,
		     char *authorization, size_t auth_len);

void sigv4_key_wipe(struct sigv4_key *k);

#endif
