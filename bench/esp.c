/*
 * bench/esp — throughput of vpcd's userspace ESP on one core, in memory:
 * batches of 1400-byte inner IPv4 packets encapsulated (UDP-encapsulated
 * tunnel mode, outer IPv4 header from the SA template) and decapsulated
 * (outer parse, table lookup, replay, ICV, decrypt, checks), in place, no
 * system call inside the timed region (clock_gettime is the vDSO).
 *
 * Not a test. Run bench/esp.sh, which also measures `openssl speed -evp`
 * for the same ciphers and passes the figures in so that they print side
 * by side:  esp_bench [--seconds S] [--batch N] [--ref NAME=GBPS]...
 * Gbit/s counts inner packet bytes (what the tunnel carries).
 */
#include "vpn/esp/esp.h"
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INNER_LEN	1400u
#define BATCH_MAX	256u
#define BUF_LEN		(ESP_HEADROOM + INNER_LEN + ESP_TAILROOM)
#define REF_MAX		8

struct bench_suite {
	const char	*name;
	enum esp_encr	encr;
	enum esp_integ	integ;
	size_t		encr_key_len;
	size_t		integ_key_len;
	const char	*ref_enc;	/* --ref names for the side-by-side */
	const char	*ref_dec;
};

static const struct bench_suite bench_suites[] = {
	{ "aes128-cbc+hmac-sha1-96", ESP_ENCR_AES_CBC, ESP_INTEG_HMAC_SHA1_96, 16, 20,
	  "cbc-sha1-enc", "cbc-sha1-dec" },
	{ "aes128-gcm16", ESP_ENCR_AES_GCM16, ESP_INTEG_NONE, 20, 0,
	  "gcm", "gcm" },
};

struct ref { char name[32]; double gbps; };
static struct ref refs[REF_MAX];
static unsigned ref_count;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const struct ref *
ref_find(const char *name)
{
	for (unsigned i = 0; i < ref_count; i++)
		if (strcmp(refs[i].name, name) == 0)
			return &refs[i];
	return NULL;
}

static void
inner_fill(uint8_t *p)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = INNER_LEN >> 8;
	p[3] = INNER_LEN & 0xff;
	p[8] = 64;
	p[9] = 17;
	p[12] = 10; p[15] = 10;
	p[16] = 10; p[19] = 5;
}

static void
print_row(const char *what, double gbps, const struct ref *r)
{
	if (r != NULL)
		printf("  %-8s %7.2f Gbit/s   openssl speed %7.2f Gbit/s   ratio %4.0f%%\n",
		       what, gbps, r->gbps, 100.0 * gbps / r->gbps);
	else
		printf("  %-8s %7.2f Gbit/s\n", what, gbps);
}

static int
bench_one(const struct bench_suite *su, double seconds, unsigned batch)
{
	static uint8_t bufs[BATCH_MAX][BUF_LEN];
	static struct esp_pkt pkts[BATCH_MAX];
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
	double t_enc = 0, t_dec = 0, start;
	uint64_t packets = 0;

	rand_bytes(encr_key, sizeof(encr_key));
	rand_bytes(integ_key, sizeof(integ_key));
	cfg.cfg_dir = ESP_DIR_OUT;
	out = esp_sa_new(&cfg);
	cfg.cfg_dir = ESP_DIR_IN;
	in = esp_sa_new(&cfg);
	secret_wipe(encr_key, sizeof(encr_key));
	secret_wipe(integ_key, sizeof(integ_key));
	if (out == NULL || in == NULL || table == NULL || esp_sa_table_insert(table, in) != 0) {
		fprintf(stderr, "esp_bench: SA setup failed\n");
		return 1;
	}
	for (unsigned i = 0; i < batch; i++) {
		pkts[i].buf = bufs[i];
		pkts[i].size = BUF_LEN;
		inner_fill(bufs[i] + ESP_HEADROOM);
		for (unsigned k = 28; k < INNER_LEN; k++)
			bufs[i][ESP_HEADROOM + k] = (uint8_t)(k * 13 + i);
	}

	start = now_s();
	while (now_s() - start < seconds) {
		double t0, t1, t2;

		/* Decryption put each inner packet back at ESP_HEADROOM. */
		for (unsigned i = 0; i < batch; i++) {
			pkts[i].off = ESP_HEADROOM;
			pkts[i].len = INNER_LEN;
		}
		t0 = now_s();
		if (esp_encrypt_batch(out, pkts, batch, ESP_FRAME_IPV4) != batch)
			goto failed;
		t1 = now_s();
		for (unsigned i = 0; i < batch; i++) {
			struct esp_outer o;

			if (esp_outer_parse(pkts[i].buf + pkts[i].off, pkts[i].len, &o) != 0)
				goto failed;
			pkts[i].off += o.out_esp_off;
			pkts[i].len = o.out_esp_len;
		}
		if (esp_decrypt_batch(table, pkts, batch) != batch)
			goto failed;
		t2 = now_s();
		t_enc += t1 - t0;
		t_dec += t2 - t1;
		packets += batch;
	}

	printf("%s, %u-byte inner packets, batches of %u, %.1f s:\n", su->name, INNER_LEN,
	       batch, seconds);
	print_row("encap", (double)packets * INNER_LEN * 8 / t_enc / 1e9, ref_find(su->ref_enc));
	print_row("decap", (double)packets * INNER_LEN * 8 / t_dec / 1e9, ref_find(su->ref_dec));
	printf("  %.0f ns/packet encap, %.0f ns/packet decap, %llu packets each way\n",
	       t_enc / (double)packets * 1e9, t_dec / (double)packets * 1e9,
	       (unsigned long long)packets);
	esp_sa_table_free(table);
	esp_sa_free(in);
	esp_sa_free(out);
	return 0;
failed:
	fprintf(stderr, "esp_bench: a packet failed: %s\n", esp_status_name(pkts[0].status));
	return 1;
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
		} else if (strcmp(argv[i], "--ref") == 0 && i + 1 < argc && ref_count < REF_MAX) {
			const char *eq = strchr(argv[++i], '=');

			if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof(refs[0].name))
				continue;
			memcpy(refs[ref_count].name, argv[i], (size_t)(eq - argv[i]));
			refs[ref_count].name[eq - argv[i]] = '\0';
			refs[ref_count].gbps = atof(eq + 1);
			ref_count++;
		} else {
			fprintf(stderr, "usage: %s [--seconds S] [--batch N] [--ref NAME=GBPS]...\n",
				argv[0]);
			return 2;
		}
	}
	for (unsigned i = 0; i < ARRAY_LEN(bench_suites); i++)
		rc |= bench_one(&bench_suites[i], seconds, batch);
	return rc;
}
