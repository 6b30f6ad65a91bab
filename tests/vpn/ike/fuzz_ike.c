/*
 * fuzz_ike — hostile bytes into an IKE endpoint.
 *
 * libFuzzer entry point LLVMFuzzerTestOneInput; built with -fsanitize=fuzzer
 * when the compiler is clang (IKE_LIBFUZZER). Otherwise main() replays the
 * files and directories named on the command line, or, with no arguments,
 * replays a deterministic set of mutations of real Main Mode and Quick Mode
 * messages, so that gcc CI runs it too.
 *
 * Input layout: byte 0 picks the target, the rest is a sequence of
 * packets, each a 2-byte big-endian length and the bytes; bit 15 of the
 * length says "arrived on port 4500".
 *   target 0: a fresh responder (Main Mode 1 parsing, proposals)
 *   target 1: a responder with an established ISAKMP SA; each packet gets
 *             its cookies (and, if long enough, a live message id) patched
 *             in, so it reaches decryption, HASH checks and the parsers
 *   target 2: the parsers alone (payload chain, SA payloads, IDs)
 */
#include "ike_harness.h"

#include "vpn/ike/ike_proposal.h"
#include "base/base.h"

#include <dirent.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t live_cookies[16];
static int have_cookies;

static bool grab_cookies(struct h_net *n, int from, struct h_pkt *p, int idx)
{
	size_t off = p->natt ? 4 : 0;
	if (from == 0 && p->len >= off + 28 && p->data[off + 18] == 32) {
		memcpy(live_cookies, p->data + off, 16);
		have_cookies = 1;
	}
	return true;
}

static void feed(struct ike_endpoint *ep, const uint8_t *data, size_t size, bool patch)
{
	struct ike_addr from = { H_IP_A, 500 };
	uint8_t pkt[4100];
	uint64_t now = 2000;
	while (size >= 2) {
		size_t len = ((size_t)(data[0] & 0x7f) << 8) | data[1];
		bool natt = data[0] & 0x80;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len > sizeof(pkt) - 4)
			len = sizeof(pkt) - 4;
		size_t off = 0;
		if (natt) {
			memset(pkt, 0, 4);
			off = 4;
			from.port = 4500;
		}
		memcpy(pkt + off, data, len);
		if (patch && have_cookies && len >= 16)
			memcpy(pkt + off, live_cookies, 16);
		ike_input(ep, now, &from, natt, pkt, off + len);
		struct ike_action a;
		while (ike_next_action(ep, &a))
			ike_action_wipe(&a);
		now += 1500;
		ike_tick(ep, now);
		data += len;
		size -= len;
	}
}

static void fuzz_parsers(const uint8_t *data, size_t size)
{
	struct isakmp_msg m;
	struct ike_tunnel_config cfg;
	h_config(&cfg, 1);
	if (size < 1)
		return;
	isakmp_payloads_parse(data[0], data + 1, size - 1, &m);
	struct p1_choice c1;
	struct p2_choice c2;
	struct sa_pick pick;
	char offered[IKE_CAUSE_MAX];
	uint32_t spi;
	p1_sa_select(data, size, &cfg, &c1, &pick, offered, sizeof(offered));
	p1_sa_check_reply(data, size, &cfg, &c1);
	p2_sa_select(data, size, &cfg, true, &c2, &pick, offered, sizeof(offered));
	p2_sa_check_reply(data, size, &cfg, false, &c2, &spi);
	struct ike_ts ts;
	ts_parse_id(data, size, &ts);
	struct isakmp_attr at;
	size_t off = 0;
	while (isakmp_attr_next(data, size, &off, &at) == 1)
		;
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
	struct ike_tunnel_config ca, cb;
	h_config(&ca, 0);
	h_config(&cb, 1);
	switch (data[0] % 3) {
	case 0: {
		struct ike_endpoint *ep = ike_endpoint_new(&cb);
		feed(ep, data + 1, size - 1, false);
		ike_endpoint_free(ep);
		break;
	}
	case 1: {
		struct h_net n;
		ca.startup = IKE_STARTUP_START;
		if (!h_init(&n, &ca, &cb))
			abort();
		have_cookies = 0;
		n.filter = grab_cookies;
		h_run(&n, n.now + 3000);
		if (!n.s[1].up)
			abort();	/* the harness itself must work */
		feed(n.s[1].ep, data + 1, size - 1, true);
		h_free(&n);
		break;
	}
	default:
		fuzz_parsers(data + 1, size - 1);
		break;
	}
	return 0;
}

#ifndef IKE_LIBFUZZER
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	static uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static int replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		rc |= replay_path(p);
	}
	closedir(d);
	return rc;
}

/* Real messages to mutate: everything both sides send in a negotiation. */
static uint8_t seeds[64][1200];
static size_t seed_len[64], nseeds;

static bool record(struct h_net *n, int from, struct h_pkt *p, int idx)
{
	size_t off = p->natt ? 4 : 0;
	if (nseeds < 64 && p->len - off <= sizeof(seeds[0])) {
		memcpy(seeds[nseeds], p->data + off, p->len - off);
		seed_len[nseeds++] = p->len - off;
	}
	return true;
}

static uint32_t prng = 0x12345678;
static uint32_t next_rand(void)
{
	prng ^= prng << 13;
	prng ^= prng >> 17;
	prng ^= prng << 5;
	return prng;
}

static int self_test(void)
{
	struct ike_tunnel_config ca, cb;
	struct h_net n;
	h_config(&ca, 0);
	h_config(&cb, 1);
	ca.startup = IKE_STARTUP_START;
	if (!h_init(&n, &ca, &cb))
		return 1;
	n.filter = record;
	h_run(&n, n.now + 3000);
	h_free(&n);
	if (nseeds < 6)
		return 1;
	uint8_t in[1 + 2 + 1200];
	for (int iter = 0; iter < 3000; iter++) {
		size_t s = next_rand() % nseeds, len = seed_len[s];
		in[0] = (uint8_t)(iter % 3);
		memcpy(in + 3, seeds[s], len);
		int muts = 1 + (int)(next_rand() % 4);
		for (int k = 0; k < muts; k++) {
			size_t at = next_rand() % len;
			switch (next_rand() % 4) {
			case 0: in[3 + at] ^= (uint8_t)(1u << (next_rand() % 8)); break;
			case 1: in[3 + at] = (uint8_t)next_rand(); break;
			case 2: len = at ? at : 1; break;		/* truncate */
			default: in[3 + at] = (uint8_t)(next_rand() % 2 ? 0 : 0xff); break;
			}
		}
		in[1] = (uint8_t)(len >> 8);
		in[2] = (uint8_t)len;
		LLVMFuzzerTestOneInput(in, 3 + len);
	}
	printf("fuzz_ike: %d mutated inputs from %zu real messages, no crash\n", 3000, nseeds);
	return 0;
}

int main(int argc, char **argv)
{
	log_set_level(LOG_ERROR);
	if (argc < 2)
		return self_test();
	int rc = 0;
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i]) != 0) {
			fprintf(stderr, "fuzz_ike: cannot read %s\n", argv[i]);
			rc = 1;
		}
	return rc;
}
#endif
