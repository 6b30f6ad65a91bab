/*
 * sigv4.c — AWS Signature Version 4 (sigv4.h). Follows the canonical
 * request of AWS's documentation: method, URI, sorted query, signed
 * headers (lower-cased, values trimmed and inner spaces collapsed), the
 * signed-header list and the payload hash.
 */
#include "api/sigv4.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/strbuf.h"

/* dst = src cut at size - 1 bytes, as snprintf(dst, size, "%s", src)
 * writes it, without the formatting. */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* SHA-256 through one explicitly fetched EVP_MD: OpenSSL 3's one-shot
 * HMAC() and EVP_Digest(EVP_sha256()) look the algorithm up on every call,
 * which cost more than the hashing of a request. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_md)
		abort();
}

static EVP_MD_CTX *digest_ctx(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c)
		abort();
	return c;
}

static void sha256_2(EVP_MD_CTX *c, const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	if (!EVP_DigestInit_ex2(c, sha256_md, NULL) || !EVP_DigestUpdate(c, a, alen) ||
	    (blen && !EVP_DigestUpdate(c, b, blen)) || !EVP_DigestFinal_ex(c, out, NULL))
		abort();
}

static void sha256_hex(EVP_MD_CTX *c, const void *data, size_t len, char out[65])
{
	uint8_t md[32];
	sha256_2(c, data, len, NULL, 0, md);
	hex_encode(md, 32, out);
}

/* HMAC-SHA256 (RFC 2104). */
static void hmac256(EVP_MD_CTX *c, const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
	uint8_t k0[64] = { 0 }, pad[64], inner[32];
	if (klen > sizeof(k0))
		sha256_2(c, key, klen, NULL, 0, k0);
	else
		memcpy(k0, key, klen);
	for (size_t i = 0; i < 64; i++)
		pad[i] = k0[i] ^ 0x36;
	sha256_2(c, pad, 64, msg, mlen, inner);
	for (size_t i = 0; i < 64; i++)
		pad[i] = k0[i] ^ 0x5c;
	sha256_2(c, pad, 64, inner, 32, out);
	secret_wipe(k0, sizeof(k0));
	secret_wipe(pad, sizeof(pad));
	secret_wipe(inner, sizeof(inner));
}

static void signing_key(EVP_MD_CTX *c, const char *secret, const char *date, const char *region,
			const char *service, uint8_t out[32])
{
	char k[SIGV4_SECRET_MAX + 8];
	uint8_t a[32], b[32];
	int n = snprintf(k, sizeof(k), "AWS4%s", secret);
	hmac256(c, k, (size_t)n, date, strlen(date), a);
	hmac256(c, a, 32, region, strlen(region), b);
	hmac256(c, b, 32, service, strlen(service), a);
	hmac256(c, a, 32, "aws4_request", 12, out);
	secret_wipe(k, sizeof(k));
	secret_wipe(a, sizeof(a));
	secret_wipe(b, sizeof(b));
}

static void uri_encode(struct strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			sb_putc(sb, (char)*p);
		else
			sb_printf(sb, "%%%02X", *p);
	}
}

struct encoded_pair {
	char *name, *value;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct encoded_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static void canonical_query(const struct query_params *q, struct strbuf *sb)
{
	if (!q || q->qp_count == 0)
		return;
	struct encoded_pair *pairs = calloc(q->qp_count, sizeof(*pairs));
	if (!pairs)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < q->qp_count; i++) {
		if (strcmp(q->qp_items[i].qp_name, "X-Amz-Signature") == 0)
			continue;
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
		uri_encode(&a, q->qp_items[i].qp_name);
		uri_encode(&b, q->qp_items[i].qp_value);
		pairs[n].name = sb_detach(&a);
		pairs[n].value = sb_detach(&b);
		n++;
	}
	qsort(pairs, n, sizeof(*pairs), pair_cmp);
	for (size_t i = 0; i < n; i++) {
		sb_printf(sb, "%s%s=%s", i ? "&" : "", pairs[i].name, pairs[i].value);
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

/* Trims and collapses runs of spaces, as the canonical header form wants. */
static void canonical_header_value(struct strbuf *sb, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	bool space = false;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			sb_putc(sb, ' ');
		space = false;
		sb_putc(sb, *v);
	}
}

static bool fail(struct sigv4_result *res, const char *code, const char *msg)
{
	res->v_code = code;
	copy_cut(res->v_message, sizeof(res->v_message), msg);
	return false;
}

/* Finds "key=" in the comma-separated Authorization parameters; copies the
 * value (up to a comma) into out. */
static bool auth_param(const char *auth, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = auth;
	while ((p = strstr(p, key)) != NULL) {
		if ((p == auth || p[-1] == ' ' || p[-1] == ',') && p[klen] == '=') {
			p += klen + 1;
			size_t n = strcspn(p, ", ");
			if (n >= len)
				return false;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p += klen;
	}
	return false;
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* YYYYMMDDTHHMMSSZ, digits only, fields in range. */
static time_t parse_amz_date(const char *s)
{
	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return (time_t)-1;
	struct tm tm = { .tm_year = digits(s, 4), .tm_mon = digits(s + 4, 2), .tm_mday = digits(s + 6, 2),
			 .tm_hour = digits(s + 9, 2), .tm_min = digits(s + 11, 2), .tm_sec = digits(s + 13, 2) };
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return (time_t)-1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static void build_string_to_sign(EVP_MD_CTX *c, const struct sigv4_request *req, const char *signed_headers,
				 const char *amz_date, const char *scope, const char *payload_hash,
				 struct strbuf *sts)
{
	struct strbuf cr = STRBUF_INIT;
	sb_printf(&cr, "%s\n%s\n", req->r_method, req->r_path && *req->r_path ? req->r_path : "/");
	canonical_query(req->r_query, &cr);
	sb_putc(&cr, '\n');
	/* canonical headers, in the order of the (sorted) signed-header list */
	const char *h = signed_headers;
	while (*h) {
		size_t n = strcspn(h, ";");
		char name[128];
		if (n < sizeof(name)) {
			memcpy(name, h, n);
			name[n] = '\0';
			const char *v = req->r_header(req->r_header_ctx, name);
			sb_printf(&cr, "%s:", name);
			if (v)
				canonical_header_value(&cr, v);
			sb_putc(&cr, '\n');
		}
		h += n;
		if (*h == ';')
			h++;
	}
	sb_printf(&cr, "\n%s\n%s", signed_headers, payload_hash);
	char cr_hash[65];
	sha256_hex(c, cr.sb_data, cr.sb_len, cr_hash);
	sb_free(&cr);
	sb_printf(sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, cr_hash);
}

/* SignedHeaders: lower-case header names joined by ';', compared token by
 * token (a substring search would take "x-ghost" for "host"). */
static bool signed_headers_valid(const char *list, bool need_date, struct sigv4_result *res)
{
	bool host = false, date = false;
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ";");
		if (n == 0 || n >= 128)
			return fail(res, "IncompleteSignature", "SignedHeaders must be header names separated by ';'");
		for (size_t i = 0; i < n; i++) {
			char c = p[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
				return fail(res, "IncompleteSignature", "SignedHeaders must be lower-case header names separated by ';'");
		}
		host |= n == 4 && memcmp(p, "host", 4) == 0;
		date |= n == 10 && memcmp(p, "x-amz-date", 10) == 0;
		if (!p[n])
			break;
		p += n + 1;
	}
	if (!host)
		return fail(res, "SignatureDoesNotMatch", "SignedHeaders must include host");
	if (need_date && !date)
		return fail(res, "SignatureDoesNotMatch", "SignedHeaders must include x-amz-date");
	return true;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

/* An access key id as AWS makes them: letters and digits. */
static bool access_key_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 4 || n >= SIGV4_ACCESS_KEY_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s))
			return false;
	return true;
}

bool sigv4_check_head(const struct sigv4_request *req, struct sigv4_key *keys, size_t nkeys,
		      bool (*region_known)(const char *region), time_t now, struct sigv4_auth *a,
		      struct sigv4_result *res)
{
	memset(res, 0, sizeof(*res));
	memset(a, 0, sizeof(*a));
	const char *auth = req->r_header(req->r_header_ctx, "authorization");
	char credential[512], signed_headers[512], signature[80];
	const char *amz_date;
	long expires = -1;	/* a presigned URL's lifetime; -1 for the header form */
	if (auth && *auth) {
		if (strncmp(auth, "AWS4-HMAC-SHA256 ", 17) != 0)
			return fail(res, "IncompleteSignature", "Unsupported Authorization scheme: only AWS4-HMAC-SHA256 is accepted");
		if (!auth_param(auth, "Credential", credential, sizeof(credential)) ||
		    !auth_param(auth, "SignedHeaders", signed_headers, sizeof(signed_headers)) ||
		    !auth_param(auth, "Signature", signature, sizeof(signature)))
			return fail(res, "IncompleteSignature", "Authorization header requires Credential, SignedHeaders and Signature");
		amz_date = req->r_header(req->r_header_ctx, "x-amz-date");
	} else if (req->r_query && query_get(req->r_query, "X-Amz-Algorithm")) {
		/* a presigned URL: the same signature over the query string */
		if (strcmp(query_get(req->r_query, "X-Amz-Algorithm"), "AWS4-HMAC-SHA256") != 0)
			return fail(res, "IncompleteSignature", "Unsupported X-Amz-Algorithm: only AWS4-HMAC-SHA256 is accepted");
		const char *c = query_get(req->r_query, "X-Amz-Credential");
		const char *h = query_get(req->r_query, "X-Amz-SignedHeaders");
		const char *sig = query_get(req->r_query, "X-Amz-Signature");
		const char *e = query_get(req->r_query, "X-Amz-Expires");
		amz_date = query_get(req->r_query, "X-Amz-Date");
		if (!c || !h || !sig || !e || !amz_date || strlen(c) >= sizeof(credential) ||
		    strlen(h) >= sizeof(signed_headers) || strlen(sig) >= sizeof(signature))
			return fail(res, "IncompleteSignature",
				    "A presigned request requires X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature");
		char *end = NULL;
		expires = strtol(e, &end, 10);
		if (!*e || *end || expires < 1 || expires > 604800)
			return fail(res, "IncompleteSignature", "X-Amz-Expires must be a number of seconds from 1 to 604800");
		copy_cut(credential, sizeof(credential), c);
		copy_cut(signed_headers, sizeof(signed_headers), h);
		copy_cut(signature, sizeof(signature), sig);
	} else {
		return fail(res, "MissingAuthenticationToken", "Request is missing Authentication Token");
	}
	if (!is_hex64(signature))
		return fail(res, "IncompleteSignature", "Signature must be 64 hexadecimal characters");

	/* Credential = AKID/date/region/service/aws4_request */
	char *parts[5];
	char credcopy[512];
	copy_cut(credcopy, sizeof(credcopy), credential);
	char *save = NULL, *tok = strtok_r(credcopy, "/", &save);
	int np = 0;
	while (tok && np < 5) {
		parts[np++] = tok;
		tok = strtok_r(NULL, "/", &save);
	}
	if (np != 5 || tok)
		return fail(res, "IncompleteSignature", "Credential must have the form AKID/YYYYMMDD/region/ec2/aws4_request");
	/* the key id reaches the log: letters and digits only */
	if (!access_key_valid(parts[0]))
		return fail(res, "IncompleteSignature", "The access key id in Credential must be letters and digits");
	copy_cut(res->v_access_key_id, sizeof(res->v_access_key_id), parts[0]);

	time_t t = parse_amz_date(amz_date);
	if (t == (time_t)-1)
		return fail(res, "IncompleteSignature", "X-Amz-Date is missing or not of the form YYYYMMDDTHHMMSSZ");
	if (strncmp(amz_date, parts[1], 8) != 0 || strlen(parts[1]) != 8)
		return fail(res, "SignatureDoesNotMatch", "Credential date does not match X-Amz-Date");
	if (t > now + SIGV4_MAX_SKEW_S)
		return fail(res, "RequestExpired", "Request is not yet valid: X-Amz-Date is more than 15 minutes ahead of the server's time");
	if (expires < 0 && t < now - SIGV4_MAX_SKEW_S)
		return fail(res, "RequestExpired", "Request has expired: X-Amz-Date is more than 15 minutes from the server's time");
	/* AWS: a presigned request is refused 15 minutes after it expired */
	if (expires >= 0 && now > t + expires + SIGV4_MAX_SKEW_S)
		return fail(res, "RequestExpired", "Request has expired: the presigned URL's X-Amz-Expires has passed");
	if (strlen(parts[2]) >= sizeof(a->sa_region) || !region_known(parts[2])) {
		bool printable = strlen(parts[2]) <= 40;
		for (const char *p = parts[2]; *p && printable; p++)
			printable = isalnum((unsigned char)*p) || *p == '-';
		char m[200];
		snprintf(m, sizeof(m), "Credential should be scoped to a valid region, not '%s'",
			 printable ? parts[2] : "(not a region name)");
		return fail(res, "SignatureDoesNotMatch", m);
	}
	if ((strcmp(parts[3], "ec2") != 0 && strcmp(parts[3], "sts") != 0) || strcmp(parts[4], "aws4_request") != 0)
		return fail(res, "SignatureDoesNotMatch",
			    "Credential should be scoped to the service 'ec2' or 'sts' and terminated by 'aws4_request'");
	if (!signed_headers_valid(signed_headers, expires < 0, res))
		return false;
	const char *declared = req->r_header(req->r_header_ctx, "x-amz-content-sha256");
	if (declared && !is_hex64(declared))
		return fail(res, "IncompleteSignature", "x-amz-content-sha256 must be 64 hexadecimal characters");

	struct sigv4_key *key = NULL;
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].k_access_key_id, parts[0]) == 0)
			key = &keys[i];
	if (!key)
		return fail(res, "AuthFailure", "AWS was not able to validate the provided access credentials");

	a->sa_key = key;
	copy_cut(a->sa_amz_date, sizeof(a->sa_amz_date), amz_date);
	copy_cut(a->sa_date, sizeof(a->sa_date), parts[1]);
	copy_cut(a->sa_region, sizeof(a->sa_region), parts[2]);
	copy_cut(a->sa_service, sizeof(a->sa_service), parts[3]);
	copy_cut(res->v_region, sizeof(res->v_region), parts[2]);
	copy_cut(res->v_service, sizeof(res->v_service), parts[3]);
	copy_cut(a->sa_signed_headers, sizeof(a->sa_signed_headers), signed_headers);
	for (size_t i = 0; i < 64; i++)
		a->sa_signature[i] = (char)tolower((unsigned char)signature[i]);
	if (declared)
		for (size_t i = 0; i < 64; i++)
			a->sa_payload_hash[i] = (char)tolower((unsigned char)declared[i]);
	return true;
}

bool sigv4_check_body(const struct sigv4_auth *a, const struct sigv4_request *req, struct sigv4_result *res)
{
	memset(res, 0, sizeof(*res));
	copy_cut(res->v_access_key_id, sizeof(res->v_access_key_id), a->sa_key->k_access_key_id);
	copy_cut(res->v_region, sizeof(res->v_region), a->sa_region);
	copy_cut(res->v_service, sizeof(res->v_service), a->sa_service);
	char payload_hash[65];
	EVP_MD_CTX *c = digest_ctx();
	sha256_hex(c, req->r_body ? req->r_body : "", req->r_body_len, payload_hash);
	if (a->sa_payload_hash[0] && strcmp(a->sa_payload_hash, payload_hash) != 0) {
		EVP_MD_CTX_free(c);
		return fail(res, "SignatureDoesNotMatch", "The x-amz-content-sha256 header does not match the request body");
	}

	char scope[128];
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", a->sa_date, a->sa_region, a->sa_service);
	struct strbuf sts = STRBUF_INIT;
	build_string_to_sign(c, req, a->sa_signed_headers, a->sa_amz_date, scope, payload_hash, &sts);

	struct sigv4_key *key = a->sa_key;
	/* the derived key depends on date, region and service: one cached */
	if (strcmp(key->k_cached_scope, scope) != 0) {
		signing_key(c, key->k_secret, a->sa_date, a->sa_region, a->sa_service, key->k_cached_signing_key);
		copy_cut(key->k_cached_scope, sizeof(key->k_cached_scope), scope);
	}
	uint8_t mac[32];
	char mac_hex[65];
	hmac256(c, key->k_cached_signing_key, 32, sts.sb_data, sts.sb_len, mac);
	EVP_MD_CTX_free(c);
	sb_free(&sts);
	hex_encode(mac, 32, mac_hex);
	if (!ct_equal(mac_hex, a->sa_signature, 64))
		return fail(res, "AuthFailure", "AWS was not able to validate the provided access credentials");
	return true;
}

bool sigv4_verify(const struct sigv4_request *req, struct sigv4_key *keys, size_t nkeys,
		  bool (*region_known)(const char *region), time_t now, struct sigv4_result *res)
{
	struct sigv4_auth a;
	return sigv4_check_head(req, keys, nkeys, region_known, now, &a, res) && sigv4_check_body(&a, req, res);
}

static const char *sign_header(void *ctx, const char *name)
{
	const char **h = ctx;
	if (strcmp(name, "host") == 0)
		return h[0];
	if (strcmp(name, "x-amz-date") == 0)
		return h[1];
	return NULL;
}

void sigv4_sign_post(const char *access_key_id, const char *secret, const char *region,
		     const char *host, const char *amz_date, const void *body, size_t body_len,
		     char *authorization, size_t auth_len)
{
	const char *hdrs[2] = { host, amz_date };
	struct sigv4_request req = { "POST", "/", NULL, sign_header, hdrs, body, body_len };
	char date[9], scope[128], payload_hash[65];
	snprintf(date, sizeof(date), "%.8s", amz_date);
	snprintf(scope, sizeof(scope), "%s/%s/ec2/aws4_request", date, region);
	EVP_MD_CTX *c = digest_ctx();
	sha256_hex(c, body, body_len, payload_hash);
	struct strbuf sts = STRBUF_INIT;
	build_string_to_sign(c, &req, "host;x-amz-date", amz_date, scope, payload_hash, &sts);
	uint8_t k[32], mac[32];
	char mac_hex[65];
	signing_key(c, secret, date, region, "ec2", k);
	hmac256(c, k, 32, sts.sb_data, sts.sb_len, mac);
	EVP_MD_CTX_free(c);
	secret_wipe(k, sizeof(k));
	sb_free(&sts);
	hex_encode(mac, 32, mac_hex);
	snprintf(authorization, auth_len,
		 "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=host;x-amz-date, Signature=%s",
		 access_key_id, scope, mac_hex);
}

void sigv4_key_wipe(struct sigv4_key *k)
{
	secret_wipe(k, sizeof(*k));
}
