/*
 * bench/esp — the CPU cost of vpcd's userspace ESP on one core, in memory,
 * beside the same cryptographic work done by OpenSSL in the plainest way,
 * in the same run.
 *
 * Cells: AES-128-GCM-16 and AES-128-CBC + HMAC-SHA1-96; 1400-byte and
 * 64-byte inner IPv4 packets; encrypt (esp_encrypt_batch, ESP_FRAME_ESP:
 * what the endpoint sends on UDP 4500) and decrypt (esp_decrypt_batch: SA
 * table lookup, replay, ICV, decrypt, padding and inner checks), in place,
 * in batches, no system call in the timed region (clock_gettime is the
 * vDSO).
 *
 * The peer ("openssl"): the same bytes (SPI | SEQ | IV | the padded
 * plaintext of the same length) through OpenSSL's EVP as its manual pages
 * show it, with contexts keyed once: GCM: EVP_EncryptInit_ex2 with the
 * nonce, an AAD update, the data update, Final, the tag by
 * EVP_CIPHER_CTX_ctrl (decrypt: the tag set, then Final verifies it).
 * CBC/SHA1: EVP_EncryptInit_ex2 with the IV, one update; the HMAC by
 * EVP_MAC_init (the key kept), update, final; decrypt verifies the HMAC
 * (CRYPTO_memcmp) before it decrypts. CBC IVs: one RAND_bytes per batch
 * for the peer; vpcd draws from its SA's pool (esp_encrypt.c). No ESP
 * framing, no replay window, no checks on the peer's side.
 *
 * The machine is shared: each cell runs in slices that alternate vpcd and
 * the peer, and prints the median of the slices' ns per packet.
 *
 * Not a test; judges nothing. Run bench/esp.sh (or build/bench/esp_bench
 * [--seconds S per cell] [--batch N]).
 */
#include "vpn/esp/esp.h"
#include "base/base.h"
#include "base/be.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INNER_MAX	1400u
#define BATCH_MAX	256u
#define BUF_LEN		(ESP_HEADROOM + INNER_MAX + ESP_TAILROOM)
#define SLICES_MAX	4096u
#define SLICE_BATCHES	16u	/* batches per side per slice */

struct bench_suite {
	const char	*name;
	enum esp_encr	encr;
	enum esp_integ	integ;
	size_t		encr_key_len;	/* GCM: AES key + 4-byte salt */
	size_t		integ_key_len;
};

static const struct bench_suite bench_suites[] = {
	{ "aes128gcm16", ESP_ENCR_AES_GCM16, ESP_INTEG_NONE, 20, 0 },
	{ "aes128-sha1", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA1_96, 16, 20 },
};

static const uint32_t bench_sizes[] = { 1400, 64 };

static uint8_t bufs[BATCH_MAX][BUF_LEN];
static struct esp_pkt pkts[BATCH_MAX];
static uint8_t ref_bufs[BATCH_MAX][BUF_LEN];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A UDP/IPv4 packet of len bytes (>= 28). */
static void
inner_fill(uint8_t *p, uint32_t len, unsigned seed)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	p[12] = 10; p[15] = 10;
	p[16] = 10; p[19] = 5;
	for (uint32_t k = 28; k < len; k++)
		p[k] = (uint8_t)(k * 13 + seed);
}

/* ---- The peer: OpenSSL's EVP, the plainest way ---- */

struct ref {
	bool		gcm;
	EVP_CIPHER	*alg;
	EVP_CIPHER_CTX	*enc, *dec;
	EVP_MAC		*mac_alg;
	EVP_MAC_CTX	*mac;
	uint8_t		salt[4];
	uint32_t	seq;
};

static bool
ref_init(struct ref *r, const struct bench_suite *su, const uint8_t *ekey,
	const uint8_t *ikey)
{
	memset(r, 0, sizeof(*r));
	r->gcm = su->encr == ESP_ENCR_AES_GCM16;
	r->alg = EVP_CIPHER_fetch(NULL, r->gcm ? "AES-128-GCM" : "AES-128-CBC", NULL);
	r->enc = EVP_CIPHER_CTX_new();
	r->dec = EVP_CIPHER_CTX_new();
	if (r->alg == NULL || r->enc == NULL || r->dec == NULL ||
	    !EVP_EncryptInit_ex2(r->enc, r->alg, ekey, NULL, NULL) ||
	    !EVP_DecryptInit_ex2(r->dec, r->alg, ekey, NULL, NULL))
		return false;
	if (r->gcm) {
		memcpy(r->salt, ekey + 16, 4);
		return true;
	}
	if (!EVP_CIPHER_CTX_set_padding(r->enc, 0) || !EVP_CIPHER_CTX_set_padding(r->dec, 0))
		return false;
	{
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0),
			OSSL_PARAM_construct_end(),
		};

		r->mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
		r->mac = r->mac_alg ? EVP_MAC_CTX_new(r->mac_alg) : NULL;
		return r->mac != NULL && EVP_MAC_init(r->mac, ikey, su->integ_key_len, params);
	}
}

static void
ref_free(struct ref *r)
{
	EVP_CIPHER_CTX_free(r->enc);
	EVP_CIPHER_CTX_free(r->dec);
	EVP_CIPHER_free(r->alg);
	EVP_MAC_CTX_free(r->mac);
	EVP_MAC_free(r->mac_alg);
}

/* The ciphered part of an inner packet of len bytes, as ESP pads it. */
static uint32_t
ref_ct_len(const struct ref *r, uint32_t len)
{
	uint32_t align = r->gcm ? 4 : 16;

	return (len + 2 + align - 1) / align * align;
}

/* Each buffer: SPI | SEQ | IV (8 or 16) | ct_len bytes | ICV, from 0. */
static bool
ref_encrypt(struct ref *r, unsigned n, uint32_t len)
{
	uint32_t ct_len = ref_ct_len(r, len);
	uint8_t ivs[BATCH_MAX][16];
	int outl;

	if (!r->gcm && RAND_bytes(ivs[0], (int)(n * 16)) != 1)
		return false;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = ref_bufs[i];
		uint32_t seq = ++r->seq;

		wr32(p, 0xb0000002);
		wr32(p + 4, seq);
		if (r->gcm) {
			uint8_t nonce[12], *ct = p + 16;

			wr32(p + 8, 0);
			wr32(p + 12, seq);
			memcpy(nonce, r->salt, 4);
			memcpy(nonce + 4, p + 8, 8);
			if (!EVP_EncryptInit_ex2(r->enc, NULL, NULL, nonce, NULL) ||
			    !EVP_EncryptUpdate(r->enc, NULL, &outl, p, 8) ||
			    !EVP_EncryptUpdate(r->enc, ct, &outl, ct, (int)ct_len) ||
			    !EVP_EncryptFinal_ex(r->enc, ct + outl, &outl) ||
			    !EVP_CIPHER_CTX_ctrl(r->enc, EVP_CTRL_AEAD_GET_TAG, 16, ct + ct_len))
				return false;
		} else {
			uint8_t *ct = p + 24, mac[EVP_MAX_MD_SIZE];
			size_t mac_len;

			memcpy(p + 8, ivs[i], 16);
			if (!EVP_EncryptInit_ex2(r->enc, NULL, NULL, ivs[i], NULL) ||
			    !EVP_EncryptUpdate(r->enc, ct, &outl, ct, (int)ct_len) ||
			    !EVP_MAC_init(r->mac, NULL, 0, NULL) ||
			    !EVP_MAC_update(r->mac, p, 24 + ct_len) ||
			    !EVP_MAC_final(r->mac, mac, &mac_len, sizeof(mac)))
				return false;
			memcpy(ct + ct_len, mac, 12);
		}
	}
	return true;
}

static bool
ref_decrypt(struct ref *r, unsigned n, uint32_t len)
{
	uint32_t ct_len = ref_ct_len(r, len);
	int outl;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = ref_bufs[i];

		if (r->gcm) {
			uint8_t nonce[12], *ct = p + 16;

			memcpy(nonce, r->salt, 4);
			memcpy(nonce + 4, p + 8, 8);
			if (!EVP_DecryptInit_ex2(r->dec, NULL, NULL, nonce, NULL) ||
			    !EVP_DecryptUpdate(r->dec, NULL, &outl, p, 8) ||
			    !EVP_DecryptUpdate(r->dec, ct, &outl, ct, (int)ct_len) ||
			    !EVP_CIPHER_CTX_ctrl(r->dec, EVP_CTRL_AEAD_SET_TAG, 16, ct + ct_len) ||
			    EVP_DecryptFinal_ex(r->dec, ct + outl, &outl) <= 0)
				return false;
		} else {
			uint8_t *ct = p + 24, mac[EVP_MAX_MD_SIZE];
			size_t mac_len;

			if (!EVP_MAC_init(r->mac, NULL, 0, NULL) ||
			    !EVP_MAC_update(r->mac, p, 24 + ct_len) ||
			    !EVP_MAC_final(r->mac, mac, &mac_len, sizeof(mac)) ||
			    CRYPTO_memcmp(mac, ct + ct_len, 12) != 0 ||
			    !EVP_DecryptInit_ex2(r->dec, NULL, NULL, p + 8, NULL) ||
			    !EVP_DecryptUpdate(r->dec, ct, &outl, ct, (int)ct_len))
				return false;
		}
	}
	return true;
}

/* ---- One cell: a suite and a size, vpcd and the peer in alternating slices ---- */

struct cell_result {
	double	enc_ns, dec_ns;		/* vpcd */
	double	ref_enc_ns, ref_dec_ns;	/* the peer */
	unsigned slices;
};

static double slice_v[4][SLICES_MAX];

static int
bench_cell(const struct bench_suite *su, uint32_t len, double seconds, unsigned batch,
	struct cell_result *res)
{
	uint8_t encr_key[36], integ_key[64];
	struct esp_sa_config cfg = {
		.cfg_spi = 0xb0000001, .cfg_encr = su->encr, .cfg_integ = su->integ,
		.cfg_encr_key = encr_key, .cfg_encr_key_len = su->encr_key_len,
		.cfg_integ_key = integ_key, .cfg_integ_key_len = su->integ_key_len,
		.cfg_replay_window = 1024, .cfg_encap_sport = ESP_NAT_T_PORT,
		.cfg_encap_dport = ESP_NAT_T_PORT,
		.cfg_outer_src = 0xc6336402, .cfg_outer_dst = 0xcb007101,
	};
	struct esp_sa *out, *in;
	struct esp_sa_table *table = esp_sa_table_new(16);
	struct ref ref;
	double start;
	unsigned ns = 0;
	int rc = 1;

	rand_bytes(encr_key, sizeof(encr_key));
	rand_bytes(integ_key, sizeof(integ_key));
	cfg.cfg_dir = ESP_DIR_OUT;
	out = esp_sa_new(&cfg);
	cfg.cfg_dir = ESP_DIR_IN;
	in = esp_sa_new(&cfg);
	if (!ref_init(&ref, su, encr_key, integ_key)) {
		fprintf(stderr, "esp_bench: OpenSSL reference setup failed\n");
		goto done;
	}
	if (out == NULL || in == NULL || table == NULL || esp_sa_table_insert(table, in) != 0) {
		fprintf(stderr, "esp_bench: SA setup failed\n");
		goto done;
	}
	for (unsigned i = 0; i < batch; i++) {
		pkts[i].buf = bufs[i];
		pkts[i].size = BUF_LEN;
		inner_fill(bufs[i] + ESP_HEADROOM, len, i);
		inner_fill(ref_bufs[i] + 24, len, i);
	}

	start = now_s();
	while (now_s() - start < seconds && ns < SLICES_MAX) {
		double t_enc = 0, t_dec = 0, t0, t1, t2;

		for (unsigned b = 0; b < SLICE_BATCHES; b++) {
			/* Decryption put each inner packet back at ESP_HEADROOM. */
			for (unsigned i = 0; i < batch; i++) {
				pkts[i].off = ESP_HEADROOM;
				pkts[i].len = len;
			}
			t0 = now_s();
			if (esp_encrypt_batch(out, pkts, batch, ESP_FRAME_ESP) != batch)
				goto failed;
			t1 = now_s();
			if (esp_decrypt_batch(table, pkts, batch) != batch)
				goto failed;
			t2 = now_s();
			t_enc += t1 - t0;
			t_dec += t2 - t1;
		}
		slice_v[0][ns] = t_enc * 1e9 / (SLICE_BATCHES * batch);
		slice_v[1][ns] = t_dec * 1e9 / (SLICE_BATCHES * batch);
		t_enc = t_dec = 0;
		for (unsigned b = 0; b < SLICE_BATCHES; b++) {
			t0 = now_s();
			if (!ref_encrypt(&ref, batch, len))
				goto ref_failed;
			t1 = now_s();
			if (!ref_decrypt(&ref, batch, len))
				goto ref_failed;
			t2 = now_s();
			t_enc += t1 - t0;
			t_dec += t2 - t1;
		}
		slice_v[2][ns] = t_enc * 1e9 / (SLICE_BATCHES * batch);
		slice_v[3][ns] = t_dec * 1e9 / (SLICE_BATCHES * batch);
		ns++;
	}
	res->enc_ns = median(slice_v[0], ns);
	res->dec_ns = median(slice_v[1], ns);
	res->ref_enc_ns = median(slice_v[2], ns);
	res->ref_dec_ns = median(slice_v[3], ns);
	res->slices = ns;
	rc = 0;
	goto done;
failed:
	fprintf(stderr, "esp_bench: %s %u bytes: a packet failed: %s\n", su->name, len,
		esp_status_name(pkts[0].status));
	goto done;
ref_failed:
	fprintf(stderr, "esp_bench: %s %u bytes: the OpenSSL reference failed\n", su->name, len);
done:
	secret_wipe(encr_key, sizeof(encr_key));
	secret_wipe(integ_key, sizeof(integ_key));
	ref_free(&ref);
	esp_sa_table_free(table);
	esp_sa_free(in);
	esp_sa_free(out);
	return rc;
}

static void
load_print(const char *when)
{
	double l[3];

	if (getloadavg(l, 3) == 3)
		printf("load average %s: %.2f %.2f %.2f\n", when, l[0], l[1], l[2]);
}

int
main(int argc, char **argv)
{
	double seconds = 2.0;
	unsigned batch = 32;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			seconds = atof(argv[++i]);
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			batch = (unsigned)atoi(argv[++i]);
			if (batch == 0 || batch > BATCH_MAX)
				batch = 32;
		} else {
			fprintf(stderr, "usage: %s [--seconds S per cell] [--batch N]\n", argv[0]);
			return 2;
		}
	}
	load_print("at start");
	printf("ns per packet, median of alternating slices (%u batches of %u each), "
	       "%.1f s per cell; Gbit/s of inner bytes on one core\n", SLICE_BATCHES, batch,
	       seconds);
	printf("%-12s %5s %-7s %9s %9s %7s %9s %9s\n", "suite", "bytes", "dir", "vpcd ns",
	       "openssl", "vpcd/os", "vpcd Gb/s", "os Gb/s");
	for (unsigned s = 0; s < ARRAY_LEN(bench_suites); s++) {
		for (unsigned z = 0; z < ARRAY_LEN(bench_sizes); z++) {
			const struct bench_suite *su = &bench_suites[s];
			uint32_t len = bench_sizes[z];
			struct cell_result r;

			if (bench_cell(su, len, seconds, batch, &r) != 0) {
				rc = 1;
				continue;
			}
			printf("%-12s %5u %-7s %9.0f %9.0f %6.0f%% %9.2f %9.2f\n", su->name, len,
			       "encrypt", r.enc_ns, r.ref_enc_ns, 100 * r.enc_ns / r.ref_enc_ns,
			       len * 8 / r.enc_ns, len * 8 / r.ref_enc_ns);
			printf("%-12s %5u %-7s %9.0f %9.0f %6.0f%% %9.2f %9.2f\n", su->name, len,
			       "decrypt", r.dec_ns, r.ref_dec_ns, 100 * r.dec_ns / r.ref_dec_ns,
			       len * 8 / r.dec_ns, len * 8 / r.ref_dec_ns);
			fflush(stdout);
		}
	}
	load_print("at end");
	return rc;
}
