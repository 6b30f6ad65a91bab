/*
 * fuzz_ike — hostile bytes into an IKE peer (struct ike_peer).
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
 *   target 0: a fresh responder (Main Mode 1 parsing, proposals, the
 *             half-open table)
 *   target 1: a responder with an established ISAKMP SA; each packet gets
 *             its cookies patched in, so it reaches decryption, HASH
 *             checks and the parsers
 *   target 2: the parsers alone (payload chain, SA payloads, IDs)
 *   target 3: the same established responder, but the harness seals what
 *             the fuzzer writes as the peer would: each record is
 *             [kind][next payload][2-byte length][bytes]; kind 0: a Quick
 *             Mode message 1 (the first 4 bytes are its message id), 1: an
 *             informational (same), 2: Quick Mode message 3 for the
 *             newest Quick Mode the responder answered (HASH(3) computed,
 *             the bytes appended), 3: bytes encrypted as they are under
 *             that Quick Mode's IV; kinds 0-2 get the HASH payload the
 *             peer would compute. So the fuzzer reaches everything behind
 *             authentication: proposals, selectors, KE, Delete, DPD,
 *             notifications, rekeys, CHILD SA installs.
 * Targets 1 and 3 do not negotiate per input: the responder is negotiated
 * once and cloned for every input (clone_endpoint). Built as fuzz_ike_fast
 * (IKE_FUZZ_CHEAP_DH, fuzz builds only) Diffie-Hellman costs nothing too,
 * for the KE payloads of the fuzzer's Quick Modes.
 */
#include "ike_harness.h"

#include "vpn/ike/ike_proposal.h"
#include "base/base.h"

#include <dirent.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "vpn/ike/ike_internal.h"

static uint8_t live_cookies[16];
static int have_cookies;

/* ---- the established responder, negotiated once ---------------------- */

static struct h_net snap;
static bool snap_ready;

static void *dup_bytes(const void *p, size_t len)
{
	if (!p)
		return NULL;
	void *c = malloc(len ? len : 1);
	if (!c)
		abort();
	memcpy(c, p, len);
	return c;
}

/* A deep copy of an endpoint between calls (its action queue drained):
 * ISAKMP SAs with their Quick Modes, CHILD SAs. Key exchanges in flight
 * are not copied (an exchange that needs one fails: the snapshot has
 * none); the half-open table and source budgets start empty. */
static struct ike_peer *clone_endpoint(const struct ike_peer *src)
{
	struct ike_peer *ep = dup_bytes(src, sizeof(*src));
	ep->q = (struct ike_actq){ NULL, NULL, NULL };	/* the source's nodes stay its own */
	ep->ho = NULL;
	ep->ho_by_r = ep->ho_by_i = NULL;
	ep->ho_count = 0;
	ep->ho_next = 0;
	ep->ho_bytes = 0;
	ep->srcs = NULL;
	struct ike_sa **sp = &ep->sas;
	for (const struct ike_sa *s = src->sas; s; s = s->next) {
		struct ike_sa *sa = dup_bytes(s, sizeof(*s));
		sa->sai_b = dup_bytes(s->sai_b, s->sai_len);
		sa->tx.buf = dup_bytes(s->tx.buf, s->tx.len);
		sa->dh = NULL;
		struct ike_qm **qp = &sa->qms;
		for (const struct ike_qm *q = s->qms; q; q = q->next) {
			struct ike_qm *qm = dup_bytes(q, sizeof(*q));
			qm->tx.buf = dup_bytes(q->tx.buf, q->tx.len);
			qm->dh = NULL;
			*qp = qm;
			qp = &qm->next;
		}
		*qp = NULL;
		*sp = sa;
		sp = &sa->next;
	}
	*sp = NULL;
	struct ike_child **cp = &ep->children;
	for (const struct ike_child *c = src->children; c; c = c->next) {
		struct ike_child *cc = dup_bytes(c, sizeof(*c));
		*cp = cc;
		cp = &cc->next;
	}
	*cp = NULL;
	return ep;
}

static void snapshot_ready(void)
{
	if (snap_ready)
		return;
	struct ike_tunnel_config ca, cb;
	h_config(&ca, 0);
	h_config(&cb, 1);
	ca.startup = IKE_STARTUP_START;
	if (!h_init(&snap, &ca, &cb))
		abort();
	h_run(&snap, snap.now + 3000);
	struct ike_sa *sa = ep_best_sa(snap.s[1].ep);
	if (!snap.s[1].up || !sa)
		abort();	/* the harness itself must work */
	memcpy(live_cookies, sa->ck_i, 8);
	memcpy(live_cookies + 8, sa->ck_r, 8);
	have_cookies = 1;
	snap_ready = true;
}

static void drain(struct ike_peer *ep)
{
	struct ike_action a;
	while (ike_next_action(ep, &a))
		ike_action_wipe(&a);
}

/* ---- target 3: messages sealed as the peer would seal them ------------- */

static void send_sealed(struct ike_peer *ep, uint64_t now, uint8_t kind, uint8_t np,
			const uint8_t *p, size_t len)
{
	struct ike_sa *sa = ep_best_sa(ep);
	if (!sa)
		return;
	uint32_t msgid = 0;
	struct ike_qm *last = NULL;	/* newest Quick Mode we answered */
	for (struct ike_qm *q = sa->qms; q; q = q->next)
		if (!q->initiator && (!last || q->created_ms >= last->created_ms))
			last = q;
	if (kind <= 1) {
		if (len < 4)
			return;
		msgid = get_be32(p);
		p += 4;
		len -= 4;
	} else {
		if (!last)
			return;
		msgid = last->msgid;
	}
	struct isakmp_buf b;
	isakmp_buf_header(&b, sa->ck_i, sa->ck_r, kind == 1 ? EXCH_INFO : EXCH_QUICK, 0, msgid);
	uint8_t iv[IKE_BLOCK];
	if (kind == 3) {
		b.b[16] = np;
		isakmp_buf_put(&b, p, len);
		memcpy(iv, last->iv, IKE_BLOCK);
	} else {
		static const uint8_t zeros[IKE_PRF_MAX];
		size_t hs = isakmp_buf_simple(&b, PL_HASH, zeros, sa->prf_len);
		b.b[hs] = np;			/* the fuzzer's chain follows */
		isakmp_buf_put(&b, p, len);
		size_t rest = hs + ISAKMP_GENERIC_LEN + sa->prf_len;
		uint8_t *hash = b.b + hs + ISAKMP_GENERIC_LEN;
		bool ok = kind == 2
			? ike_qm_hash3(sa->alg.integ, sa->skeyid_a, msgid, last->ni, last->ni_len,
				       last->nr, last->nr_len, hash)
			: ike_qm_hash1(sa->alg.integ, sa->skeyid_a, msgid, b.b + rest, b.len - rest,
				       hash);
		if (!ok)
			return;
		if (kind == 2)
			memcpy(iv, last->iv, IKE_BLOCK);
		else if (!ike_iv_phase2(sa->alg.integ, sa->iv, msgid, iv))
			return;
	}
	if (b.overflow || !sa_encrypt(sa, iv, &b))
		return;
	struct ike_addr from = sa->peer;
	bool natt = sa->local_port == IKE_NATT_PORT;
	uint8_t pkt[IKE_NON_ESP_MARKER_LEN + ISAKMP_MSG_MAX];
	size_t off = natt ? IKE_NON_ESP_MARKER_LEN : 0;
	memset(pkt, 0, off);
	memcpy(pkt + off, b.b, b.len);
	ike_input(ep, now, &from, natt, pkt, off + b.len);
}

static void feed_sealed(struct ike_peer *ep, const uint8_t *data, size_t size)
{
	uint64_t now = snap.now + 1000;
	while (size >= 4) {
		uint8_t kind = data[0] & 3, np = data[1];
		size_t len = (size_t)data[2] << 8 | data[3];
		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		if (len > ISAKMP_MSG_MAX - 256)
			len = ISAKMP_MSG_MAX - 256;
		send_sealed(ep, now, kind, np, data, len);
		drain(ep);
		now += 700;
		ike_tick(ep, now);
		drain(ep);
		data += len;
		size -= len;
	}
}

static void feed(struct ike_peer *ep, uint64_t now, const uint8_t *data, size_t size,
		 bool patch)
{
	struct ike_addr from = { H_IP_A, 500 };
	uint8_t pkt[4100];
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
		if (!getenv("FUZZ_IKE_VERBOSE"))	/* what the endpoint says, to debug an input */
			log_set_level(LOG_ERROR);
		quiet = 1;
	}
	if (size < 1)
		return 0;
	struct ike_tunnel_config ca, cb;
	h_config(&ca, 0);
	h_config(&cb, 1);
	switch (data[0] % 4) {
	case 0: {
		struct ike_peer *ep = ike_peer_new(&cb);
		feed(ep, 2000, data + 1, size - 1, false);
		ike_peer_free(ep);
		break;
	}
	case 1: {
		snapshot_ready();
		struct ike_peer *ep = clone_endpoint(snap.s[1].ep);
		feed(ep, snap.now + 1000, data + 1, size - 1, true);
		ike_peer_free(ep);
		break;
	}
	case 3: {
		snapshot_ready();
		struct ike_peer *ep = clone_endpoint(snap.s[1].ep);
		feed_sealed(ep, data + 1, size - 1);
		ike_peer_free(ep);
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
		in[0] = (uint8_t)(iter % 4);
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
	if (!getenv("FUZZ_IKE_VERBOSE"))
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
