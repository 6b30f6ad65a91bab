/*
 * ike_internal — the IKEv1 peer's state (struct ike_peer), shared by the files of src/vpn/ike.
 * Not part of the contract (ike.h is); tests may include it.
 *
 * Shape: an endpoint holds ISAKMP SAs (phase 1; normally one, two while
 * re-authenticating or after a collision), each holding its Quick Mode
 * exchanges in flight, and the CHILD SAs (phase 2) that outlive the ISAKMP
 * SA that made them, as IKEv1 allows. All lists are short (a handful), so
 * they are singly linked and searched linearly.
 *
 * An ISAKMP SA walks  I1 -> I3 -> I5 -> ESTABLISHED  (we initiate Main Mode)
 *                 or  R2 -> R4 -> ESTABLISHED        (the peer initiates),
 * and DEAD when it is to be freed (reaped after the current input/tick, so
 * that no caller is left holding a freed pointer).
 */
#ifndef VPCD_VPN_IKE_INTERNAL_H
#define VPCD_VPN_IKE_INTERNAL_H

#include "vpn/ike/ike.h"
#include "vpn/ike/ike_actq.h"
#include "vpn/ike/ike_crypto.h"
#include "vpn/ike/ike_proposal.h"
#include "vpn/ike/ike_wire.h"

#include "base/base.h"

#define IKE_LOG			"ike"
#define IKE_NONCE_LEN		32	/* what we send */
#define IKE_NONCE_MIN		8	/* RFC 2408 §3.13 bounds for the peer's */
#define IKE_NONCE_MAX		256
#define IKE_HALF_OPEN_MS	60000	/* a Main Mode that never completes */
#define IKE_QM_LINGER_MS	60000	/* a finished QM answers retransmits this long */
#define IKE_QM_MAX		16	/* Quick Modes in flight per ISAKMP SA */
/* ISAKMP SAs per endpoint that the peer began and that proved it receives
 * at its address (it answered our message 2): in Main Mode after message
 * 3, or established. Ours (we initiated) are counted apart, against the
 * same number, so that no flood can refuse them. */
#define IKE_SA_MAX		8
#define IKE_RETRY_MS		30000	/* startup=start: next try after a failure */
#define IKE_INFO_SEEN		32	/* informational message ids remembered */
#define IKE_DIGEST_LEN		32	/* SHA-256 of a received message */
/* A CHILD SA we rekeyed is deleted (CHILD_SA_DELETE and a Delete to the
 * peer) this long after its replacement is installed: a multi-threaded
 * peer may process our Delete before our Quick Mode message 3, and must
 * never be left with neither SA. Until then the old SA still decrypts. */
#define IKE_REKEY_DELETE_DELAY_MS 5000
/* Make-before-break the other way round: the initiator of a rekey
 * installs the new CHILD SA on Quick Mode message 2, its peer on message
 * 3, which a peer that handles IKE on other threads than ESP (charon with
 * libipsec) may install a few hundred ms after our first packets under
 * it arrive. So our new SA's outbound is held (install.outbound_hold_ms)
 * until the peer's traffic arrives on it, the SA it replaces is deleted,
 * or this long. */
#define IKE_REKEY_OUTBOUND_HOLD_MS 2000

/* Defence against floods of Main Mode message 1 (spoofed or not): see
 * ike_halfopen.c. */
#define IKE_HO_MAX		16384	/* unproven exchanges (message 2 sent) per endpoint */
#define IKE_HO_MIN		16	/* the table's first size; doubles up to the max */
#define IKE_HO_BYTES_MAX	(8u << 20)	/* their SA payloads and replies */
#define IKE_SRC_SLOTS		256	/* sources (address, port) rate-limited; power of 2 */
#define IKE_SRC_BURST		5	/* new exchanges a source may start at once ... */
#define IKE_SRC_PER_S		1	/* ... and then per second */
#define IKE_LOG_INTERVAL_MS	10000	/* rate-limited log lines: per kind ... */
#define IKE_LOG_BURST		5	/* ... at most this many per interval */
#define IKE_LOG_STATE_BURST	40	/* state change lines: a tunnel coming up takes ~10 */

/* Vendor IDs. */
extern const uint8_t ike_vid_natt_rfc3947[16];	/* MD5("RFC 3947") */
extern const uint8_t ike_vid_dpd[16];		/* RFC 3706 */

/* One message we sent that may have to be sent again: retransmitted on a
 * timer while `active`, and re-sent as it is when the peer repeats the
 * message it answers. */
struct ike_xmit {
	uint8_t *buf;		/* ISAKMP message, no marker; owned */
	size_t len;
	bool active;		/* retransmit until answered */
	unsigned tries;
	uint64_t next_ms;
};

enum sa_state { SA_I1, SA_I3, SA_I5, SA_R2, SA_R4, SA_ESTABLISHED, SA_DEAD };

/* NONE: not yet (or no longer) on its ISAKMP SA's list; I1: our message 1
 * sent; R2: our message 2 sent; DONE: finished (installed or failed),
 * lingering to answer retransmissions. */
enum qm_state { QM_NONE, QM_I1, QM_R2, QM_DONE };

struct ike_qm {
	struct ike_qm *next;
	uint32_t msgid;
	bool initiator;
	enum qm_state state;
	uint8_t iv[IKE_BLOCK];
	uint8_t ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t ni_len, nr_len;
	struct ike_dh *dh;
	uint16_t group;			/* PFS group, 0 = none */
	uint8_t gxy[IKE_DH_MAX];
	size_t gxy_len;
	struct p2_choice alg;
	uint32_t spi_in, spi_out;
	struct ike_ts ts_local, ts_remote;
	uint32_t rekey_spi_in;		/* child this QM replaces, 0 = none */
	struct ike_xmit tx;
	uint8_t rx_digest[IKE_DIGEST_LEN];
	bool rx_digest_set;
	uint64_t created_ms, done_ms;
};

struct ike_sa {
	struct ike_sa *next;
	unsigned serial;		/* for log lines */
	enum sa_state state;
	bool initiator;
	bool is_rekey;			/* we started it to replace older SAs */
	bool rekey_started;		/* a replacement for it is under way */
	uint8_t ck_i[8], ck_r[8];
	struct p1_choice alg;
	size_t prf_len, key_len;
	struct ike_addr peer;		/* current address and port of the peer */
	uint16_t local_port;		/* 500, or 4500 once floated */
	bool peer_natt, peer_dpd;	/* vendor IDs seen */
	bool nat_here, nat_there;	/* NAT-D: we / the peer are behind NAT */
	uint8_t *sai_b;			/* initiator's SA payload body; owned */
	size_t sai_len;
	struct ike_dh *dh;
	uint8_t gxi[IKE_DH_MAX], gxr[IKE_DH_MAX];
	size_t gx_len;
	uint8_t ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t ni_len, nr_len;
	uint8_t skeyid[IKE_PRF_MAX], skeyid_d[IKE_PRF_MAX], skeyid_a[IKE_PRF_MAX];
	uint8_t enc_key[32];
	uint8_t iv[IKE_BLOCK];		/* phase 1 CBC state; final = QM/info base */
	uint64_t created_ms, established_ms, rekey_ms, expire_ms;
	struct ike_xmit tx;
	uint8_t rx_digest[IKE_DIGEST_LEN];
	bool rx_digest_set;
	uint32_t info_seen[IKE_INFO_SEEN];
	size_t info_seen_next;
	struct ike_qm *qms;
};

/* A CHILD SA's life, as its log lines tell it (child_set_state): installed,
 * being rekeyed by us, replaced by a newer one (ours or the peer's) and
 * waiting for its Delete or expiry, deleted. The flags below decide; the
 * state is what they mean, named as IKEv2's CHILD SAs are (ikev2.h). */
enum child_state { CHILD_NONE, CHILD_INSTALLED, CHILD_REKEYING, CHILD_REPLACED, CHILD_DELETED };

struct ike_child {
	struct ike_child *next;
	enum child_state state;
	uint32_t spi_in, spi_out;
	struct p2_choice alg;
	struct ike_ts ts_local, ts_remote;
	uint64_t qm_started_ms;		/* when the Quick Mode that made it began */
	uint64_t installed_ms, rekey_ms, expire_ms;
	uint64_t delete_ms;		/* replaced: delete it then; 0 = not scheduled */
	bool rekeying;			/* a replacement QM is under way (or done) */
};

/* A Main Mode the peer began that has not yet proven a reachable peer:
 * we answered its message 1 with message 2 and wait for message 3. Kept
 * apart from the ISAKMP SAs, small and bounded (ike_halfopen.c); becomes
 * an ISAKMP SA in state R2 when message 3 arrives with our cookie. */
struct ike_ho {
	bool ho_used;
	uint8_t ho_ck_i[8], ho_ck_r[8];
	struct ike_addr ho_peer;
	uint16_t ho_local_port;		/* 500 or 4500: where message 1 came */
	bool ho_peer_natt, ho_peer_dpd;
	struct p1_choice ho_alg;
	uint8_t ho_digest[IKE_DIGEST_LEN];	/* of message 1: retransmits */
	uint8_t *ho_sai;		/* initiator's SA payload body; owned */
	size_t ho_sai_len;
	uint8_t *ho_reply;		/* our message 2; owned */
	size_t ho_reply_len;
	uint64_t ho_created_ms;
	int32_t ho_next_r, ho_next_i;	/* hash chains (by ck_r, by ck_i+peer); -1 ends */
};

/* The new-exchange budget of one source (address and port): a token
 * bucket, IKE_SRC_BURST deep, refilled IKE_SRC_PER_S a second. */
struct ike_src {
	struct ike_addr src_addr;
	bool src_used;
	uint32_t src_tokens_milli;	/* thousandths of a token */
	uint64_t src_last_ms;
};

/* Log lines an attacker can cause per packet go through these limits. */
enum ike_log_kind {
	IKE_LOGK_DROP,			/* + enum ike_drop: one limit per reason */
	IKE_LOGK_MM1 = IKE_LOGK_DROP + IKE_DROP_COUNT,	/* peer initiated Main Mode */
	IKE_LOGK_HO_EVICT,		/* half-open table full */
	IKE_LOGK_SRC_LIMIT,		/* a source over its budget */
	IKE_LOGK_SA_LIMIT,		/* too many proven ISAKMP SAs */
	IKE_LOGK_MISMATCH,		/* proposal mismatch from message 1 */
	IKE_LOGK_STATE,			/* ISAKMP SA, Quick Mode and CHILD SA state changes */
	IKE_LOGK_MAX
};

struct ike_peer {
	struct ike_tunnel_config cfg;
	struct ike_sa *sas;
	struct ike_child *children;
	struct ike_actq q;		/* actions for ike_next_action */
	struct ike_stats st;
	bool up;
	char cause[IKE_CAUSE_MAX];
	bool active;			/* we want the tunnel up (start action) */
	uint64_t start_at_ms;		/* initiate Main Mode then; UINT64_MAX = no */
	uint64_t last_rx_ms;		/* last authenticated sign of life */
	bool dpd_outstanding;
	uint64_t dpd_first_ms, dpd_sent_ms;
	uint32_t dpd_seq;
	unsigned next_serial;

	/* Unproven responder exchanges (ike_halfopen.c): a ring of
	 * ho_cap slots (IKE_HO_MIN doubling to IKE_HO_MAX), allocated on
	 * first use, freed when empty, oldest overwritten first once at its
	 * largest; two hash indexes. */
	struct ike_ho *ho;
	int32_t *ho_by_r, *ho_by_i;	/* ho_cap heads each; -1 = empty */
	uint32_t ho_cap;		/* slots (and buckets): a power of 2 */
	uint32_t ho_next;		/* slot the next one takes */
	uint32_t ho_count;
	size_t ho_bytes;
	uint64_t ho_hash_key;		/* random: the peer chooses ck_i */
	struct ike_src *srcs;		/* IKE_SRC_SLOTS, allocated on first use */
	struct log_limit logk[IKE_LOGK_MAX];
	uint64_t now_ms;		/* of the call in progress (for log limits) */
};

/* ---- ike_peer.c --------------------------------------------------- */
void ep_drop(struct ike_peer *ep, enum ike_drop why, const char *detail);
void ep_send(struct ike_peer *ep, const struct ike_addr *dst, uint16_t src_port,
	     const uint8_t *msg, size_t len);
void ep_status(struct ike_peer *ep, bool up, const char *cause);
/* Report DOWN with `cause` unless a CHILD SA is still installed. */
void ep_down_unless_children(struct ike_peer *ep, const char *cause);
void ep_emit(struct ike_peer *ep, const struct ike_action *act);
uint64_t ep_rekey_ms(const struct ike_peer *ep, uint64_t now, uint32_t lifetime_s);
void ep_digest(const uint8_t *pkt, size_t len, uint8_t out[IKE_DIGEST_LEN]);
/* Store a copy of msg in x and send it; retransmit it when `retransmit`. */
void xmit_start(struct ike_peer *ep, struct ike_sa *sa, struct ike_xmit *x,
		const struct isakmp_buf *b, bool retransmit, uint64_t now);
void xmit_resend(struct ike_peer *ep, struct ike_sa *sa, struct ike_xmit *x);
void xmit_clear(struct ike_xmit *x);
/* The ISAKMP SA to use for new exchanges: the newest established one. */
struct ike_sa *ep_best_sa(const struct ike_peer *ep);
bool ep_mm_in_progress(const struct ike_peer *ep);
/* After an ISAKMP SA is up: start the Quick Modes we owe. */
void ep_after_established(struct ike_peer *ep, struct ike_sa *sa, uint64_t now);
/* Remove every SA; emit CHILD_SA_DELETE for each child. */
void ep_clear(struct ike_peer *ep, uint64_t now, bool send_deletes, const char *cause);

/* ---- ike_halfopen.c --------------------------------------------------- */
/* Does source `from` have budget for one more new exchange? Takes it. */
bool src_admit(struct ike_peer *ep, const struct ike_addr *from, uint64_t now);
/* The unproven exchange message 1 `digest` (cookie ck_i, from `from`)
 * already made, to answer a retransmission; NULL if none. */
struct ike_ho *ho_find_retransmit(struct ike_peer *ep, const uint8_t ck_i[8],
				  const struct ike_addr *from, const uint8_t *digest);
/* The unproven exchange with these cookies from this peer address. */
struct ike_ho *ho_find(struct ike_peer *ep, const uint8_t ck_i[8], const uint8_t ck_r[8],
		       uint32_t peer_ip);
/* A new entry (the oldest ones make room); its ck_r is filled in, the
 * caller fills the rest, taking ownership of sai and reply buffers
 * through ho_set_buffers. NULL on allocation failure. */
struct ike_ho *ho_insert(struct ike_peer *ep, const uint8_t ck_i[8], const struct ike_addr *from,
			 uint64_t now);
/* Hands sai and reply (malloc'ed) to h; false (h removed, both freed)
 * when the byte budget cannot hold them. */
bool ho_set_buffers(struct ike_peer *ep, struct ike_ho *h, uint8_t *sai, size_t sai_len,
		    uint8_t *reply, size_t reply_len);
/* Removes h and frees its buffers (take them first to keep them). */
void ho_remove(struct ike_peer *ep, struct ike_ho *h);
/* Drops entries older than IKE_HALF_OPEN_MS. */
void ho_expire(struct ike_peer *ep, uint64_t now);
void ho_free_all(struct ike_peer *ep);
/* log_limited() for ep's limit of this kind. */
#define ike_log_limited(ep, kind, now, lvl, ...) \
	log_limited(&(ep)->logk[(kind)], (now), (lvl), IKE_LOG, __VA_ARGS__)

/* ---- ike_crypt_msg (ike_main_mode.c) ---------------------------------- */
/* Decrypt pkt (header included) with iv into plain (same length, header
 * copied); next_iv receives the last ciphertext block. Nothing in sa
 * changes: the caller commits next_iv once the message verified. */
bool sa_decrypt(const struct ike_sa *sa, const uint8_t iv[IKE_BLOCK], const uint8_t *pkt,
		size_t len, uint8_t *plain, uint8_t next_iv[IKE_BLOCK]);
/* Pad, set the length, encrypt b after the header with iv; iv becomes
 * the last ciphertext block. */
bool sa_encrypt(const struct ike_sa *sa, uint8_t iv[IKE_BLOCK], struct isakmp_buf *b);

/* ---- ike_main_mode.c -------------------------------------------------- */
struct ike_sa *mm_initiate(struct ike_peer *ep, uint64_t now, bool rekey);
void mm_input(struct ike_peer *ep, uint64_t now, const struct ike_addr *from,
	      bool nat_port, const uint8_t *pkt, size_t len, const struct isakmp_hdr *h);
void sa_fail(struct ike_peer *ep, struct ike_sa *sa, uint64_t now, const char *cause);
void sa_free(struct ike_sa *sa);
const char *sa_state_name(enum sa_state s);
/* Every state change goes through these: one line (the tunnel, the SA,
 * Quick Mode or CHILD SA, old -> new, the cause; never a key), at most
 * IKE_LOG_STATE_BURST per IKE_LOG_INTERVAL_MS per tunnel (a peer can
 * drive them), the rest counted. */
void sa_set_state(struct ike_peer *ep, struct ike_sa *sa, enum sa_state s, const char *cause);

/* ---- ike_quick_mode.c ------------------------------------------------- */
struct ike_qm *qm_initiate(struct ike_peer *ep, struct ike_sa *sa, uint64_t now,
			   const struct ike_ts *local, const struct ike_ts *remote,
			   uint32_t rekey_spi_in);
void qm_input(struct ike_peer *ep, struct ike_sa *sa, uint64_t now, const uint8_t *pkt,
	      size_t len, const struct isakmp_hdr *h);
void qm_fail(struct ike_peer *ep, struct ike_sa *sa, struct ike_qm *qm, uint64_t now,
	     const char *cause);
void qm_free(struct ike_qm *qm);
const char *qm_state_name(enum qm_state s);
void qm_set_state(struct ike_peer *ep, const struct ike_sa *sa, struct ike_qm *qm, enum qm_state s,
		  enum log_level lvl, const char *cause);
const char *child_state_name(enum child_state s);
/* A CHILD SA's state change, one line like sa_set_state's (the tunnel,
 * the SPIs, old -> new, the cause), under the same per-tunnel limit;
 * nothing when c is in s already. */
void child_set_state(struct ike_peer *ep, struct ike_child *c, enum child_state s, const char *cause);
/* Remove a child (-> DELETED: cause): emit CHILD_SA_DELETE, and tell the
 * peer when send_delete. */
void child_delete(struct ike_peer *ep, struct ike_child *c, uint64_t now, bool send_delete,
		  const char *cause);
/* c was replaced by our rekey: delete it (telling the peer) when
 * IKE_REKEY_DELETE_DELAY_MS has passed, or at its expiry if that is sooner. */
void child_schedule_delete(struct ike_peer *ep, struct ike_child *c, uint64_t now);
bool ep_has_qm_in_flight(const struct ike_peer *ep);

/* ---- ike_info.c ------------------------------------------------------- */
void info_input(struct ike_peer *ep, struct ike_sa *sa, uint64_t now, const uint8_t *pkt,
		size_t len, const struct isakmp_hdr *h);
/* An unencrypted informational (only acted upon before keys exist). */
void info_plain_input(struct ike_peer *ep, uint64_t now, const uint8_t *pkt, size_t len,
		      const struct isakmp_hdr *h);
void info_send_notify(struct ike_peer *ep, struct ike_sa *sa, uint8_t proto,
		      const uint8_t *spi, size_t spi_len, uint16_t type, const uint8_t *data,
		      size_t data_len);
void info_send_delete(struct ike_peer *ep, struct ike_sa *sa, uint8_t proto,
		      const uint8_t *spi, size_t spi_len);
/* Unprotected notify (phase 1 errors before keys exist). */
void info_send_plain_notify(struct ike_peer *ep, const uint8_t ck_i[8], const uint8_t ck_r[8],
			    const struct ike_addr *to, uint16_t src_port, uint16_t type);
void dpd_tick(struct ike_peer *ep, uint64_t now);
uint64_t dpd_deadline(const struct ike_peer *ep);

#endif
