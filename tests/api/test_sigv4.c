/*
 * test_sigv4 — Signature Version 4 as botocore computes it: signatures
 * made by sigv4_sign_post equal botocore's for the same request (a secret
 * short enough for one HMAC block and one longer than a block), and
 * sigv4_verify accepts them and names what is wrong with altered ones.
 * The expected values were printed by botocore's SigV4Auth (service ec2).
 * The head of a request is judged before its body (sigv4_check_head):
 * SignedHeaders token by token ("x-ghost" is not "host"), key id syntax.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/sigv4.h"

#define BODY "Action=DescribeVpcs&Version=2016-11-15"
#define AMZ_DATE "20261128T031713Z"
#define HOST "127.0.0.1:8775"
#define SHORT_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
static const char short_auth[] =
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/ec2/aws4_request, "
	"SignedHeaders=host;x-amz-date, Signature=8109c9d17e36caa146b98e0a7d6dc48752d39db00cdc14e19e60f92f75ade5fb";
static const char long_auth[] =
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/ec2/aws4_request, "
	"SignedHeaders=host;x-amz-date, Signature=988c1cf0412de799aaca69d52e8b56b8be37136460e9ab957155f1807ba3a5fe";
static const time_t signed_at = 1795835833;	/* 2026-11-28T03:17:13Z */

static void test_signatures_match_botocore(void **state)
{
	(void)state;
	char auth[512], long_secret[101];
	sigv4_sign_post("AKIDEXAMPLE", SHORT_SECRET, "us-east-1", HOST, AMZ_DATE, BODY, strlen(BODY), auth, sizeof(auth));
	assert_string_equal(auth, short_auth);
	memset(long_secret, 's', 100);
	long_secret[100] = '\0';
	sigv4_sign_post("AKIDEXAMPLE", long_secret, "us-east-1", HOST, AMZ_DATE, BODY, strlen(BODY), auth, sizeof(auth));
	assert_string_equal(auth, long_auth);
}

struct hdrs {
	const char *auth, *date, *host;
};

static const char *lookup(void *ctx, const char *name)
{
	const struct hdrs *h = ctx;
	if (strcasecmp(name, "authorization") == 0)
		return h->auth;
	if (strcasecmp(name, "x-amz-date") == 0)
		return h->date;
	if (strcasecmp(name, "host") == 0)
		return h->host;
	return NULL;
}

/* the one region the verifying side serves in these tests */
static const char *served_region;

static bool region_served(const char *region)
{
	return strcmp(region, served_region) == 0;
}

static const char *verify(const char *auth, const char *body, const char *region, time_t now)
{
	served_region = region;
	static struct sigv4_key keys[2] = { { .k_access_key_id = "AKIDOTHER", .k_secret = "other" },
					    { .k_access_key_id = "AKIDEXAMPLE", .k_secret = SHORT_SECRET } };
	struct hdrs h = { auth, AMZ_DATE, HOST };
	struct sigv4_request rq = { "POST", "/", NULL, lookup, &h, body, strlen(body) };
	struct sigv4_result res;
	bool ok = sigv4_verify(&rq, keys, 2, region_served, now, &res);
	if (ok) {
		assert_string_equal(res.v_region, "us-east-1");	/* the scope's */
		assert_string_equal(res.v_service, "ec2");
	}
	assert_true(ok == (res.v_code == NULL));
	return ok ? "ok" : res.v_code;
}

static void test_verify(void **state)
{
	(void)state;
	assert_string_equal(verify(short_auth, BODY, "us-east-1", signed_at), "ok");
	assert_string_equal(verify(short_auth, BODY, "us-east-1", signed_at), "ok");	/* cached signing key */
	assert_string_equal(verify(short_auth, BODY "&DryRun=true", "us-east-1", signed_at), "AuthFailure");
	assert_string_equal(verify(long_auth, BODY, "us-east-1", signed_at), "AuthFailure");	/* another secret */
	assert_string_equal(verify(short_auth, BODY, "eu-west-1", signed_at), "SignatureDoesNotMatch");
	assert_string_equal(verify(short_auth, BODY, "us-east-1", signed_at + 16 * 60), "RequestExpired");
	assert_string_equal(verify(short_auth, BODY, "us-east-1", signed_at - 16 * 60), "RequestExpired");
	assert_string_equal(verify(NULL, BODY, "us-east-1", signed_at), "MissingAuthenticationToken");
	char other[sizeof(short_auth)];
	snprintf(other, sizeof(other), "%s", short_auth);
	memcpy(strstr(other, "AKIDEXAMPLE"), "AKIDUNKNOWN", 11);
	assert_string_equal(verify(other, BODY, "us-east-1", signed_at), "AuthFailure");
	snprintf(other, sizeof(other), "%s", short_auth);
	other[strlen(other) - 1] = '0';	/* one hex digit of the signature */
	assert_string_equal(verify(other, BODY, "us-east-1", signed_at), "AuthFailure");
	snprintf(other, sizeof(other), "%s", short_auth);
	other[strlen(other) - 1] = '\0';
	assert_string_equal(verify(other, BODY, "us-east-1", signed_at), "IncompleteSignature");
}

static const char *verify_date(const char *date)
{
	static struct sigv4_key key = { .k_access_key_id = "AKIDEXAMPLE", .k_secret = SHORT_SECRET };
	struct hdrs h = { short_auth, date, HOST };
	struct sigv4_request rq = { "POST", "/", NULL, lookup, &h, BODY, strlen(BODY) };
	struct sigv4_result res;
	served_region = "us-east-1";
	return sigv4_verify(&rq, &key, 1, region_served, signed_at, &res) ? "ok" : res.v_code;
}

static void test_amz_date_strict(void **state)
{
	(void)state;
	assert_string_equal(verify_date(AMZ_DATE), "ok");
	const char *bad[] = { "20261128T031713", "20261128 031713Z", "2026112xT031713Z", "+0261128T031713Z",
			      "20261328T031713Z", "20261100T031713Z", "20261128T241713Z", "20261128T036013Z",
			      " 0261128T031713Z", "", NULL };
	for (const char **d = bad; *d; d++)
		assert_string_equal(verify_date(*d), "IncompleteSignature");
	assert_string_equal(verify_date(NULL), "IncompleteSignature");
}

/* The same Authorization with its SignedHeaders replaced. */
static const char *verify_signed_headers(const char *list)
{
	char auth[512];
	snprintf(auth, sizeof(auth),
		 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/ec2/aws4_request, "
		 "SignedHeaders=%s, Signature=8109c9d17e36caa146b98e0a7d6dc48752d39db00cdc14e19e60f92f75ade5fb", list);
	return verify(auth, BODY, "us-east-1", signed_at);
}

static void test_signed_headers_tokens(void **state)
{
	(void)state;
	assert_string_equal(verify_signed_headers("host;x-amz-date"), "ok");
	/* "host" only inside another name: not signed */
	assert_string_equal(verify_signed_headers("x-amz-date;x-ghost"), "SignatureDoesNotMatch");
	assert_string_equal(verify_signed_headers("hostx;x-amz-date"), "SignatureDoesNotMatch");
	assert_string_equal(verify_signed_headers("ghost;x-amz-date"), "SignatureDoesNotMatch");
	/* the header form's date must be signed */
	assert_string_equal(verify_signed_headers("host"), "SignatureDoesNotMatch");
	assert_string_equal(verify_signed_headers("host;;x-amz-date"), "IncompleteSignature");
	assert_string_equal(verify_signed_headers("host;x-amz-date;"), "IncompleteSignature");
	assert_string_equal(verify_signed_headers("Host;x-amz-date"), "IncompleteSignature");
	assert_string_equal(verify_signed_headers("host;x-amz\001date"), "IncompleteSignature");
}

static void test_head_before_body(void **state)
{
	(void)state;
	static struct sigv4_key key = { .k_access_key_id = "AKIDEXAMPLE", .k_secret = SHORT_SECRET };
	struct hdrs h = { short_auth, AMZ_DATE, HOST };
	/* the head is judged without the body */
	struct sigv4_request rq = { "POST", "/", NULL, lookup, &h, NULL, 0 };
	struct sigv4_auth a;
	struct sigv4_result res;
	served_region = "us-east-1";
	assert_true(sigv4_check_head(&rq, &key, 1, region_served, signed_at, &a, &res));
	assert_ptr_equal(a.sa_key, &key);
	assert_string_equal(a.sa_date, "20261128");
	assert_string_equal(a.sa_signed_headers, "host;x-amz-date");
	assert_string_equal(a.sa_region, "us-east-1");
	assert_string_equal(a.sa_service, "ec2");
	rq.r_body = BODY "&x=1";
	rq.r_body_len = strlen(rq.r_body);
	assert_false(sigv4_check_body(&a, &rq, &res));
	assert_string_equal(res.v_code, "AuthFailure");
	rq.r_body = BODY;
	rq.r_body_len = strlen(BODY);
	assert_true(sigv4_check_body(&a, &rq, &res));
	/* an unknown key or a key id that is no key id: refused at the head */
	char other[sizeof(short_auth)];
	snprintf(other, sizeof(other), "%s", short_auth);
	memcpy(strstr(other, "AKIDEXAMPLE"), "AKID\nXAMPLE", 11);
	h.auth = other;
	assert_false(sigv4_check_head(&rq, &key, 1, region_served, signed_at, &a, &res));
	assert_string_equal(res.v_code, "IncompleteSignature");
	assert_string_equal(res.v_access_key_id, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signatures_match_botocore),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_amz_date_strict),
		cmocka_unit_test(test_signed_headers_tokens),
		cmocka_unit_test(test_head_before_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
