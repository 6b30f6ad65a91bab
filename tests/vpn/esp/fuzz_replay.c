/*
 * fuzz_replay — runs fuzz_esp.c's LLVMFuzzerTestOneInput without libFuzzer,
 * so that the target builds and runs with gcc in CI.
 *   fuzz_replay FILE...   replay those inputs (a crash corpus, say);
 *   fuzz_replay           self-check: authentic packets for every fuzz SA,
 *                         then deterministic mutations of them (bit flips,
 *                         truncations, extensions, random bytes), in all
 *                         three input modes.
 */
#include "fuzz_esp.h"
#include "base/csum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_MAX	2048
#define ROUNDS		4000

static uint32_t lcg = 0x2545f491;

static uint32_t
next_rand(void)
{
	lcg = lcg * 1664525u + 1013904223u;
	return lcg >> 8;
}

static int
replay_file(const char *path)
{
	static uint8_t data[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	LLVMFuzzerTestOneInput(data, n);
	return 0;
}

/* Mode byte + an inner UDP packet, to be sealed by one of the fuzz SAs. */
static uint32_t
seed_packet(uint8_t *seed, unsigned which, uint32_t inner_len)
{
	static uint8_t b[ESP_HEADROOM + SEED_MAX + ESP_TAILROOM];
	struct esp_sa *out = fuzz_esp_outbound(which);
	struct esp_pkt pkt = { .buf = b, .size = sizeof(b), .off = ESP_HEADROOM,
			       .len = inner_len };
	uint8_t *p = b + ESP_HEADROOM;

	memset(p, 0, inner_len);
	p[0] = 0x45;
	wr16(p + 2, (uint16_t)inner_len);
	p[8] = 64;
	p[9] = (uint8_t)(inner_len & 1 ? 6 : 1);
	wr32(p + 12, 0x0a000001);
	wr32(p + 16, 0x0a000002);
	for (uint32_t i = 20; i < inner_len; i++)
		p[i] = (uint8_t)next_rand();
	if (inner_len >= 40 && p[9] == 6) {
		p[32] = 0x60;		/* TCP, 24-byte header, SYN, MSS 1460 */
		p[33] = 0x02;
		p[40] = 2; p[41] = 4; p[42] = 0x05; p[43] = 0xb4;
	}
	if (out == NULL || esp_encrypt_batch(out, &pkt, 1,
	    inner_len & 2 ? ESP_FRAME_IPV4 : ESP_FRAME_ESP) != 1)
		abort();
	esp_sa_free(out);
	seed[0] = inner_len & 2 ? 1 : 0;
	memcpy(seed + 1, b + pkt.off, pkt.len);
	return pkt.len + 1;
}

int
main(int argc, char **argv)
{
	static uint8_t seed[SEED_MAX + 256], mut[SEED_MAX + 512];
	unsigned runs = 0;

	if (argc > 1) {
		int rc = 0;

		for (int i = 1; i < argc; i++)
			rc |= replay_file(argv[i]);
		return rc;
	}
	for (unsigned round = 0; round < ROUNDS; round++) {
		uint32_t inner_len = 20 + next_rand() % 1500;
		uint32_t len = seed_packet(seed, round % FUZZ_SA_COUNT, inner_len);
		uint32_t mlen = len;

		unsigned before = fuzz_esp_decrypted;

		LLVMFuzzerTestOneInput(seed, len);	/* authentic */
		if (fuzz_esp_decrypted != before + 1) {
			fprintf(stderr, "fuzz_replay: authentic seed %u did not decrypt\n", round);
			return 1;
		}
		memcpy(mut, seed, len);
		switch (next_rand() % 5) {
		case 0:		/* flip a few bits */
			for (unsigned k = 1 + next_rand() % 4; k; k--)
				mut[1 + next_rand() % (len - 1)] ^= (uint8_t)(1u << (next_rand() % 8));
			break;
		case 1:		/* truncate */
			mlen = 1 + next_rand() % len;
			break;
		case 2:		/* extend with junk */
			mlen = len + next_rand() % 64;
			for (uint32_t i = len; i < mlen; i++)
				mut[i] = (uint8_t)next_rand();
			break;
		case 3:		/* random bytes after the SPI */
			for (uint32_t i = 9; i < len; i++)
				mut[i] = (uint8_t)next_rand();
			break;
		default:	/* the same bytes as plaintext of a sealed packet */
			mut[0] = 2;
			mlen = 1 + next_rand() % (len - 1);
			if (mlen > 25) {	/* sometimes a plausible inner header */
				mut[1] = 0x45;
				wr16(mut + 3, (uint16_t)(mlen - 3 - next_rand() % 4));
			}
			break;
		}
		LLVMFuzzerTestOneInput(mut, mlen);
		runs += 2;
	}
	printf("fuzz_replay: %u inputs, %u decrypted, no crash\n", runs, fuzz_esp_decrypted);
	return 0;
}
