/*
 * fuzz_ikev2 — hostile bytes into the IKEv2 parsers and state machine.
 *
 * libFuzzer entry point LLVMFuzzerTestOneInput; built with -fsanitize=fuzzer
 * when the compiler is clang (IKE_LIBFUZZER). Otherwise main() replays the
 * files and directories named on the command line, or, with no arguments,
 * a deterministic set of mutations of the messages of a real negotiation,
 * so that gcc CI runs it too.
 *
 * Byte 0 picks the target; the rest is a sequence of records, each a
 * 2-byte big-endian length and that many bytes.
 *   target 0: a fresh responder; each record is a whole datagram (bit 15
 *             of the length: "arrived on port 4500"): IKE_SA_INIT parsing,
 *             proposals, cookies, KE checks.
 *   target 1: a responder with an established IKE SA and CHILD SA; each
 *             record is [exchange, flags, first payload, inner payloads...]
 *             that the harness seals with the live SA's keys (as the peer
 *             would), so that hostile inner payloads reach IKE_AUTH,
 *             CREATE_CHILD_SA and INFORMATIONAL handling, not just the ICV
 *             check.
 *   target 2: the parsers alone (header, payload chain, SA payloads, TS,
 *             Notify, Delete, KE, ID, AUTH, SKF, the SK payload's opening).
 */
#include "ikev2_harness.h"

#include "base/base.h"
#include "vpn/ike/ikev2_internal.h"

#include <dirent.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Next record: 2-byte length, then the bytes (clipped to what is left). */
static bool next_record(const uint8_t **data, size_t *size, const uint8_t **rec, size_t *len,
			bool *flag)
{
	if (*size < 2)
		return false;
	*len = ((size_t)((*data)[0] & 0x7f) << 8) | (*data)[1];
	*flag = (*data)[0] & 0x80;
	*data += 2;
	*size -= 2;
	if (*len > *size)
		*len = *size;
	*rec = *data;
	*data += *len;
	*size -= *len;
	return true;
}

static void drain(struct ikev2_peer *ep)
{
	struct ike_action a;
	while (ikev2_next_action(ep, &a))
		ike_action_wipe(&a);
}

static void fuzz_fresh(const uint8_t *data, size_t size)
{
	struct ike_tunnel_config cb;
	v_config(&cb, 1);
	struct ikev2_peer *ep = ikev2_peer_new(&cb);
	uint64_t now = 2000;
	const uint8_t *rec;
	size_t len;
	bool natt;
	uint8_t pkt[4200];
	while (next_record(&data, &size, &rec, &len, &natt)) {
		struct ike_addr from = { V_IP_A, natt ? 4500 : 500 };
		size_t off = natt ? 4 : 0;
		if (len > sizeof(pkt) - off)
			len = sizeof(pkt) - off;
		memset(pkt, 0, off);
		memcpy(pkt + off, rec, len);
		ikev2_input(ep, now, &from, natt, pkt, off + len);
		drain(ep);
		now += 1500;
		ikev2_tick(ep, now);
		drain(ep);
	}
	ikev2_peer_free(ep);
}

/* Seal inner payloads as the peer (the original initiator) would. */
static size_t seal_as_peer(struct v2_sa *sa, uint8_t exch, uint8_t flags, uint8_t np,
			   const uint8_t *inner, size_t len, uint8_t *out, size_t cap)
{
	size_t body = ikev2_sk_len(sa->alg.encr, sa->alg.integ, len);
	size_t whole = IKEV2_HDR_LEN + 4 + body;
	if (whole > cap)
		return 0;
	bool response = flags & 1;
	struct isakmp_buf b;
	v2_buf_header(&b, sa->spi_i, sa->spi_r, exch,
		      (uint8_t)(V2_FLAG_I | (response ? V2_FLAG_R : 0)),
		      response ? sa->req.msgid : sa->peer_msgid - ((flags & 2) ? 1 : 0));
	size_t s = isakmp_buf_begin(&b, V2_PL_SK);
	b.b[s] = np;
	put_be16(b.b + s + 2, (uint16_t)(4 + body));
	put_be32(b.b + 24, (uint32_t)whole);
	memcpy(out, b.b, b.len);
	static const uint8_t iv[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	if (!ikev2_sk_seal(sa->alg.encr, sa->alg.integ, sa->k.sk_ei, sa->k.sk_ai, out, b.len, inner,
			   len, iv))
		return 0;
	return whole;
}

static void fuzz_established(const uint8_t *data, size_t size)
{
	struct ike_tunnel_config ca, cb;
	struct v_net n;
	v_config(&ca, 0);
	v_config(&cb, 1);
	if (!v_init(&n, &ca, &cb))
		abort();
	v_run(&n, n.now + 3000);
	if (!n.s[1].up)
		abort();	/* the harness itself must work */
	const uint8_t *rec;
	size_t len;
	bool unused;
	static uint8_t pkt[ISAKMP_MSG_MAX + 256];
	struct ike_addr from = { V_IP_A, 500 };
	while (next_record(&data, &size, &rec, &len, &unused)) {
		struct v2_sa *sa = v2_current_sa(n.s[1].ep);
		if (!sa || len < 3)
			break;
		static const uint8_t exch[4] = { V2_IKE_AUTH, V2_CREATE_CHILD_SA, V2_INFORMATIONAL,
						 V2_IKE_SA_INIT };
		size_t m = seal_as_peer(sa, exch[rec[0] & 3], rec[1], rec[2], rec + 3, len - 3, pkt,
					sizeof(pkt));
		if (m)
			ikev2_input(n.s[1].ep, n.now, &from, false, pkt, m);
		drain(n.s[1].ep);
		n.now += 700;
		ikev2_tick(n.s[1].ep, n.now);
		drain(n.s[1].ep);
	}
	v_free(&n);
}

static void fuzz_parsers(const uint8_t *data, size_t size)
{
	struct ike_tunnel_config cfg;
	v_config(&cfg, 1);
	cfg.p1_aead[cfg.p1_aead_n++] = IKE_ENCR_AES128_GCM16;
	cfg.p2_dh[cfg.p2_dh_n++] = 19;
	if (size < 1)
		return;
	struct v2_hdr h;
	struct v2_msg m = { .n = 0 };
	v2_hdr_parse(data, size, &h);
	v2_payloads_parse(data[0], data + 1, size - 1, &m);
	struct v2_payload p = { .type = 0, .body = data, .len = size, .raw = data, .raw_len = size };
	struct v2_ke ke;
	struct v2_id id;
	struct v2_auth au;
	struct v2_notify no;
	struct v2_delete de;
	struct v2_ts_list ts;
	uint16_t num, total;
	v2_parse_ke(&p, &ke);
	v2_parse_id(&p, &id);
	v2_parse_auth(&p, &au);
	v2_parse_notify(&p, &no);
	v2_parse_delete(&p, &de);
	v2_parse_ts(&p, &ts);
	v2_parse_skf(&p, &num, &total);
	struct v2_choice c;
	char offered[IKEV2_OFFERED_MAX];
	for (int mode = 0; mode < 3; mode++) {
		v2_sa_select(data, size, &cfg, V2_PROTO_IKE, (enum v2_dh_mode)mode, 2, &c, offered,
			     sizeof(offered));
		v2_sa_select(data, size, &cfg, V2_PROTO_ESP, (enum v2_dh_mode)mode, 19, &c, offered,
			     sizeof(offered));
		v2_sa_check_reply(data, size, &cfg, V2_PROTO_IKE, (enum v2_dh_mode)mode, 2, &c);
		v2_sa_check_reply(data, size, &cfg, V2_PROTO_ESP, (enum v2_dh_mode)mode, 19, &c);
	}
	static uint8_t plain[1 << 16];
	static const uint8_t key[64];
	size_t pl;
	if (size > 32) {
		ikev2_sk_open(IKE_ENCR_AES128_CBC, IKE_INTEG_SHA1, key, key, data, 32, size - 32, plain, &pl);
		ikev2_sk_open(IKE_ENCR_AES256_GCM16, IKE_INTEG_NONE, key, key, data, 32, size - 32, plain,
			      &pl);
	}
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
	switch (data[0] % 3) {
	case 0: fuzz_fresh(data + 1, size - 1); break;
	case 1: fuzz_established(data + 1, size - 1); break;
	default: fuzz_parsers(data + 1, size - 1); break;
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

/* Real messages to mutate: everything both sides send in a negotiation
 * with rekeys of both kinds. */
static uint8_t seeds[64][1400];
static size_t seed_len[64], nseeds;

static bool record(struct v_net *n, int from, struct v_pkt *p, int idx)
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
	struct v_net n;
	v_config(&ca, 0);
	v_config(&cb, 1);
	if (!v_init(&n, &ca, &cb))
		return 1;
	n.filter = record;
	v_run(&n, n.now + 3000);
	ikev2_child_sa_rekey(n.s[0].ep, n.s[0].sas[0].in.spi, n.now);
	v_run(&n, n.now + 3000);
	v_free(&n);
	if (nseeds < 4)
		return 1;
	/* inner payload chains for target 1: a CREATE_CHILD_SA-like one
	 * (SA, Nonce, TS) made of real payload bodies */
	static uint8_t in[1 + 2 + 3 + 1400];
	for (int iter = 0; iter < 3000; iter++) {
		size_t s = next_rand() % nseeds, len = seed_len[s];
		int target = iter % 3;
		in[0] = (uint8_t)target;
		size_t hdr = target == 1 ? 3 : 0;
		if (target == 1) {
			in[3] = (uint8_t)next_rand();
			in[4] = (uint8_t)(next_rand() & 3);
			in[5] = (uint8_t)(33 + next_rand() % 13);
			/* the body of a real message as inner payloads */
			memcpy(in + 6, seeds[s] + 28, len - 28);
			len -= 28;
		} else {
			memcpy(in + 3, seeds[s], len);
		}
		int muts = 1 + (int)(next_rand() % 4);
		for (int k = 0; k < muts && len; k++) {
			size_t at = next_rand() % len;
			switch (next_rand() % 4) {
			case 0: in[3 + hdr + at] ^= (uint8_t)(1u << (next_rand() % 8)); break;
			case 1: in[3 + hdr + at] = (uint8_t)next_rand(); break;
			case 2: len = at ? at : 1; break;		/* truncate */
			default: in[3 + hdr + at] = (uint8_t)(next_rand() % 2 ? 0 : 0xff); break;
			}
		}
		in[1] = (uint8_t)((len + hdr) >> 8);
		in[2] = (uint8_t)(len + hdr);
		LLVMFuzzerTestOneInput(in, 3 + hdr + len);
	}
	printf("fuzz_ikev2: %d mutated inputs from %zu real messages, no crash\n", 3000, nseeds);
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
			fprintf(stderr, "fuzz_ikev2: cannot read %s\n", argv[i]);
			rc = 1;
		}
	return rc;
}
#endif
