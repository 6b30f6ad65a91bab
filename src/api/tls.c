/*
 * tls.c — the certificate and key vpcd serves HTTPS with (api.h, --tls):
 * the ones given (--tls-cert, --tls-key: PEM files, checked to belong
 * together), or a self-signed pair of vpcd's own, generated into the data
 * directory on first start as the credentials are (tls.crt, tls.key, both
 * 0600) and generated again when it has expired or does not parse.
 *
 * The generated certificate: ECDSA P-256, SHA-256, valid 825 days (the
 * longest clients such as macOS accept for a server), a CA of its own
 * (basicConstraints CA:TRUE, keyCertSign) so that clients take it as
 * their CA bundle (aws --ca-bundle, boto3 verify=, vpcctl --ca-bundle);
 * names: localhost, this host's name, 127.0.0.1, the listen address and
 * every IPv4 address of this host at the time.
 *
 * Never logs the key; the key's PEM is wiped when freed.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/fs.h"

#define TLS_LOG		"tls"
#define TLS_DAYS	825		/* validity of a generated certificate */
#define TLS_PEM_MAX	(256 * 1024)	/* a certificate chain or key file, at most */
#define TLS_SAN_MAX	4096

static void openssl_error(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof(buf));
	log_error(TLS_LOG, "%s: %s", what, e ? buf : "unknown error");
	ERR_clear_error();
}

static char *bio_to_string(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	if (n <= 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		abort();
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

/* "IP:a" appended to san unless there already (sizes bounded). */
static void san_add(char *san, const char *kind, const char *value)
{
	char item[300];
	snprintf(item, sizeof(item), "%s:%s", kind, value);
	size_t il = strlen(item), sl = strlen(san);
	for (const char *p = san; (p = strstr(p, item)); p += il)
		if ((p == san || p[-1] == ',') && (p[il] == ',' || p[il] == '\0'))
			return;
	if (sl + il + 2 < TLS_SAN_MAX)
		snprintf(san + sl, TLS_SAN_MAX - sl, "%s%s", sl ? "," : "", item);
}

static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < 254 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n &&
	       s[0] != '.' && s[0] != '-';
}

static void san_build(const char *listen, char *san)
{
	san[0] = '\0';
	san_add(san, "DNS", "localhost");
	char host[256];
	if (gethostname(host, sizeof(host)) == 0 && (host[sizeof(host) - 1] = '\0', dns_name_ok(host)))
		san_add(san, "DNS", host);
	san_add(san, "IP", "127.0.0.1");
	char addr[64];
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : 0;
	struct in_addr in;
	if (n > 0 && n < sizeof(addr)) {
		memcpy(addr, listen, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, &in) == 1 && in.s_addr != htonl(INADDR_ANY))
			san_add(san, "IP", addr);
	}
	struct ifaddrs *ifs;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof(addr)))
				san_add(san, "IP", addr);
		freeifaddrs(ifs);
	}
}

static bool add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	bool ok = ext && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A new self-signed certificate and key as PEM; false (logged) on failure. */
static bool generate(const char *listen, char **cert_pem, char **key_pem, char *san)
{
	bool ok = false;
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	if (!pkey || !x || !serial || !cb || !kb)
		goto out;
	san_build(listen, san);
	char cn[300];
	char host[256] = "localhost";
	if (gethostname(host, sizeof(host)) < 0 || (host[sizeof(host) - 1] = '\0', !dns_name_ok(host)))
		snprintf(host, sizeof(host), "localhost");
	snprintf(cn, sizeof(cn), "vpcd %s", host);
	X509_NAME *name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) || !BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)TLS_DAYS * 86400) || !X509_set_pubkey(x, pkey) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"vpcd self-signed", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) ||
	    !add_ext(x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") ||
	    !add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(x, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, NID_authority_key_identifier, "keyid:always") ||
	    !add_ext(x, NID_subject_alt_name, san) || !X509_sign(x, pkey, EVP_sha256()) ||
	    !PEM_write_bio_X509(cb, x) || !PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL))
		goto out;
	*cert_pem = bio_to_string(cb);
	*key_pem = bio_to_string(kb);
	ok = *cert_pem && *key_pem;
out:
	if (!ok)
		openssl_error("cannot generate a self-signed certificate");
	if (kb) {
		char *data;
		long n = BIO_get_mem_data(kb, &data);
		if (n > 0)
			secret_wipe(data, (size_t)n);
	}
	BIO_free(cb);
	BIO_free(kb);
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ok;
}

/* The certificate (first of the chain) and key parse and belong together;
 * *expired when its notAfter has passed. false (why logged by the caller
 * through openssl_error when log_why) otherwise. */
static bool pair_ok(const char *cert_pem, const char *key_pem, bool *expired, const char *what)
{
	bool ok = false;
	*expired = false;
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	if (!x)
		log_error(TLS_LOG, "%s: the certificate is not PEM X.509", what);
	else if (!k)
		log_error(TLS_LOG, "%s: the key is not an unencrypted PEM private key", what);
	else if (X509_check_private_key(x, k) != 1)
		log_error(TLS_LOG, "%s: the key does not belong to the certificate", what);
	else {
		*expired = X509_cmp_current_time(X509_get0_notAfter(x)) <= 0;
		ok = true;
	}
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(cb);
	BIO_free(kb);
	return ok;
}

static void pem_free(char **p, bool secret)
{
	if (*p && secret)
		secret_wipe(*p, strlen(*p));
	free(*p);
	*p = NULL;
}

void api_tls_free(struct api_tls *t)
{
	pem_free(&t->at_cert_pem, false);
	pem_free(&t->at_key_pem, true);
}

int api_tls_load(const char *data_dir, const char *cert_path, const char *key_path, const char *listen,
		 struct api_tls *t)
{
	memset(t, 0, sizeof(*t));
	size_t len;
	bool expired;
	if (cert_path || key_path) {
		if (!cert_path || !key_path) {
			log_error(TLS_LOG, "--tls-cert and --tls-key go together");
			return -1;
		}
		if (!(t->at_cert_pem = fs_read_file(cert_path, TLS_PEM_MAX, &len))) {
			log_error(TLS_LOG, "--tls-cert %s: %s", cert_path, strerror(errno));
			return -1;
		}
		if (!(t->at_key_pem = fs_read_file(key_path, TLS_PEM_MAX, &len))) {
			log_error(TLS_LOG, "--tls-key %s: %s", key_path, strerror(errno));
			api_tls_free(t);
			return -1;
		}
		if (!pair_ok(t->at_cert_pem, t->at_key_pem, &expired, cert_path)) {
			api_tls_free(t);
			return -1;
		}
		if (expired)
			log_warn(TLS_LOG, "%s has expired: clients will refuse it", cert_path);
		snprintf(t->at_cert_path, sizeof(t->at_cert_path), "%s", cert_path);
		log_info(TLS_LOG, "HTTPS with the certificate %s", cert_path);
		return 0;
	}
	char crt[4096], key[4096];
	snprintf(crt, sizeof(crt), "%s/tls.crt", data_dir);
	snprintf(key, sizeof(key), "%s/tls.key", data_dir);
	snprintf(t->at_cert_path, sizeof(t->at_cert_path), "%s", crt);
	t->at_cert_pem = fs_read_file(crt, TLS_PEM_MAX, &len);
	t->at_key_pem = fs_read_file(key, TLS_PEM_MAX, &len);
	if (t->at_cert_pem && t->at_key_pem) {
		if (pair_ok(t->at_cert_pem, t->at_key_pem, &expired, crt) && !expired) {
			log_info(TLS_LOG, "HTTPS with vpcd's self-signed certificate %s (give it to clients as their "
				 "CA bundle)", crt);
			return 0;
		}
		log_warn(TLS_LOG, "%s %s: generating a new one", crt, expired ? "has expired" : "is not usable");
	}
	api_tls_free(t);
	char *san = malloc(TLS_SAN_MAX);
	if (!san)
		abort();
	if (!generate(listen, &t->at_cert_pem, &t->at_key_pem, san)) {
		free(san);
		return -1;
	}
	/* the key first: a certificate on disk always has its key */
	if (fs_write_private(key, t->at_key_pem, strlen(t->at_key_pem)) < 0 ||
	    fs_write_private(crt, t->at_cert_pem, strlen(t->at_cert_pem)) < 0) {
		log_error(TLS_LOG, "cannot write %s: %s", crt, strerror(errno));
		free(san);
		api_tls_free(t);
		return -1;
	}
	log_info(TLS_LOG, "generated a self-signed certificate for %s, valid %d days: %s (key %s, mode 0600); "
		 "give %s to clients as their CA bundle", san, TLS_DAYS, crt, key, crt);
	free(san);
	return 0;
}
