/*
 * ikev2_internal — the IKEv2 peer's state, shared by the ikev2*.c
 * files. Not part of the contract (ikev2.h is); tests may include it.
 *
 * Shape: an endpoint holds IKE SAs (normally one; two while one replaces
 * the other, or after a collision) and the CHILD SAs, which belong to the
 * endpoint's current IKE SA (they move to its replacement on an IKE SA
 * rekey, and die with it otherwise). Lists are short and searched
 * linearly.
 *
 * An IKE SA walks  INIT_I -> AUTH_I -> ESTABLISHED   (we initiate)
 *              or  INIT_R -> ESTABLISHED             (the peer initiates)
 * then REKEYED (replaced, waiting for its Delete) and DEAD (freed after
 * the current input or tick, so that no caller holds a freed pointer).
 *
 * Each IKE SA has two independent windows of size 1: `req` is the one
 * request we have in flight (retransmitted until answered), `resp_*` the
 * last response we sent (re-sent when the peer repeats its request).
 * Work we owe (rekeys, deletes, liveness checks, a first CHILD SA) waits
 * until `req` is free; ikev2_schedule() picks the next one.
 */
#ifndef VPCD_VPN_IKEV2_INTERNAL_H
#define VPCD_VPN_IKEV2_INTERNAL_H

#include "vpn/ike/ikev2.h"
#include "vpn/ike/ike_actq.h"
#include "vpn/ike/ike_proposal.h"
#include "vpn/ike/ikev2_crypto.h"
#include "vpn/ike/ikev2_proposal.h"
#include "vpn/ike/ikev2_wire.h"

#include "base/base.h"

#define V2_LOG			"ikev2"
#define V2_NONCE_LEN		32	/* ours */
#define V2_HALF_OPEN_MS		30000	/* an IKE_SA_INIT never followed by IKE_AUTH */
#define V2_RETRY_MS		30000	/* startup=start: next try after a failure */
#define V2_OLD_SA_MS		30000	/* a replaced IKE SA waits this long for its Delete */
#define V2_FRAG_MAX		16	/* fragments per message, either way */
#define V2_MSG_MAX		(ISAKMP_MSG_MAX * 4)	/* reassembled message */
#define V2_MAX_SAS		64	/* IKE SAs per endpoint, half-open included */
#define V2_MAX_CHILDREN		32
#define V2_KE_RETRIES		3	/* INVALID_KE_PAYLOAD answers followed */
#define V2_COOKIE_LEN		33	/* secret version + SHA-256 */
#define V2_OUTBOUND_HOLD_MS	2000	/* responder of a rekey: the old SA sends this long at most */

/* One message we sent, as the datagrams (fragments) that carry it,
 * without the non-ESP marker. */
struct v2_msgbuf {
	uint8_t *d[V2_FRAG_MAX];
	size_t len[V2_FRAG_MAX];
	size_t n;
};

enum v2_req_kind {
	REQ_NONE, REQ_INIT, REQ_AUTH, REQ_CHILD_NEW, REQ_CHILD_REKEY, REQ_IKE_REKEY,
	REQ_DELETE_CHILD, REQ_DELETE_IKE, REQ_LIVENESS,
};

struct v2_req {
	enum v2_req_kind kind;
	uint32_t msgid;
	struct v2_msgbuf tx;
	unsigned tries;
	uint64_t first_ms, next_ms;
	/* CREATE_CHILD_SA */
	uint8_t nonce[V2_NONCE_LEN];
	struct ike_dh *dh;
	uint16_t group;
	unsigned ke_retries;
	uint32_t spi_in;		/* new CHILD SA's inbound SPI */
	uint32_t rekey_spi_in;		/* CHILD SA being replaced, 0 = none */
	uint8_t new_spi[8];		/* IKE rekey: our SPI of the new IKE SA */
	struct ike_ts ts_l, ts_r;
	/* INFORMATIONAL Delete */
	uint32_t del_spis[IKEV2_MAX_SPIS];
	size_t n_del;
};

/* A reassembly of a fragmented message (RFC 7383), one per IKE SA. */
struct v2_frags {
	uint32_t msgid;
	bool response;
	uint16_t total;
	uint8_t first_np;
	uint8_t *part[V2_FRAG_MAX];	/* decrypted inner bytes, owned */
	size_t len[V2_FRAG_MAX];
	size_t have;
};

enum v2_state { V2_INIT_I, V2_AUTH_I, V2_INIT_R, V2_ESTABLISHED, V2_REKEYED, V2_DEAD };

struct v2_sa {
	struct v2_sa *next;
	unsigned serial;
	enum v2_state state;
	bool initiator;			/* original initiator: our messages carry I */
	uint8_t spi_i[8], spi_r[8];
	struct v2_choice alg;
	struct ikev2_keys k;
	bool have_keys;
	uint64_t iv_seq;		/* GCM IVs: a counter, never repeated under a key */
	uint8_t ni[IKEV2_NONCE_MAX], nr[IKEV2_NONCE_MAX];
	size_t ni_len, nr_len;
	struct ike_dh *dh;
	uint8_t *init_i, *init_r;	/* IKE_SA_INIT request and response, owned */
	size_t init_i_len, init_r_len;
	uint8_t cookie[64];		/* initiator: the responder's COOKIE */
	size_t cookie_len;
	unsigned ke_retries;
	struct ike_addr peer;
	uint16_t local_port;		/* 500, or 4500 once floated */
	bool nat_here, nat_there;
	bool peer_frag;			/* peer sent IKEV2_FRAGMENTATION_SUPPORTED */
	struct v2_req req;
	uint32_t next_msgid;		/* of our next request */
	uint32_t peer_msgid;		/* of the peer's next request */
	struct v2_msgbuf resp;		/* our last response, for retransmits */
	bool have_resp;
	struct v2_frags frags;
	uint64_t created_ms, established_ms, rekey_ms, expire_ms, last_rx_ms;
	uint64_t delete_ms;		/* REKEYED: delete it (if we must) then */
	uint64_t keepalive_ms;		/* next NAT-keepalive, when nat_here */
	bool we_delete_old;		/* REKEYED: we send the Delete for it */
	/* IKE SA rekey collision (§2.8.2): the SA the peer's rekey made while
	 * ours was in flight, and the lowest nonce of its exchange */
	struct v2_sa *peer_rekey, *our_rekey;
	uint8_t peer_rekey_min[IKEV2_NONCE_MAX], our_rekey_min[IKEV2_NONCE_MAX];
	size_t peer_rekey_min_len, our_rekey_min_len;
	/* the first CHILD SA, proposed in IKE_AUTH (initiator) */
	uint32_t auth_spi_in;
};

/* A CHILD SA's state, for the log: what its flags say (REPLACED: a
 * successor exists; REKEYING: our rekey of it is under way). Set only
 * through v2_child_note_state()/v2_child_remove(). */
enum v2_child_state { V2C_NONE, V2C_INSTALLED, V2C_REKEYING, V2C_REPLACED, V2C_DELETED };

struct v2_child {
	struct v2_child *next;
	enum v2_child_state state;
	uint32_t spi_in, spi_out;
	struct v2_choice alg;
	struct ike_ts ts_local, ts_remote;
	uint64_t installed_ms, rekey_ms, expire_ms;
	uint64_t delete_ms;		/* replaced by our rekey: delete then; 0 = no */
	bool rekeying;			/* our rekey of it is in flight (or done) */
	bool replaced;			/* a successor exists (ours or the peer's) */
	bool used;			/* ESP traffic seen since the last check */
	/* CHILD SA rekey collision (§2.8.1): the successor each side's rekey
	 * made (inbound SPI) and the lowest nonce of that exchange; when both
	 * are set, v2_child_collision() decides which successor goes */
	uint32_t peer_rekey_spi_in;
	uint8_t peer_rekey_min[IKEV2_NONCE_MAX];
	size_t peer_rekey_min_len;
	uint32_t our_rekey_spi_in;
	uint8_t our_rekey_min[IKEV2_NONCE_MAX];
	size_t our_rekey_min_len;
};

/* Rate-limited kinds of log line beyond the drop reasons (0 .. IKE_DROP_COUNT - 1). */
#define V2_LOGK_COOKIE		IKE_DROP_COUNT
#define V2_LOGK_STATE		(IKE_DROP_COUNT + 1)
#define V2_LOGK_MAX		(IKE_DROP_COUNT + 2)

struct ikev2_peer {
	struct ike_tunnel_config cfg;
	struct v2_sa *sas;
	struct v2_child *children;
	struct ike_actq q;		/* actions for ikev2_next_action */
	struct ike_stats st;
	bool up, in_use;
	char cause[IKE_CAUSE_MAX];
	bool active;			/* we want the tunnel up */
	uint64_t start_at_ms;		/* initiate then; UINT64_MAX = no */
	bool initial_contact_sent;
	uint8_t cookie_secret[32];
	unsigned next_serial;
	uint64_t child_retry_ms;		/* no CHILD SA: ask for one then */
	/* Lines a forged packet (or a peer) can cause, rate-limited (base.h):
	 * one limit per drop reason, V2_LOGK_COOKIE for cookie requests,
	 * V2_LOGK_STATE for IKE and CHILD SA state changes. */
	struct log_limit logk[V2_LOGK_MAX];
	uint64_t now_ms;		/* of the call in progress (for the limits) */
};
#define V2_LOG_INTERVAL_MS	10000	/* per kind of line, at most ... */
#define V2_LOG_BURST		5	/* ... this many per interval */
#define V2_LOG_STATE_BURST	40	/* state change lines: a tunnel coming up takes ~6 */

/* ---- ikev2_peer.c -------------------------------------------------- */
void v2_drop(struct ikev2_peer *ep, enum ike_drop why, const char *detail);
void v2_emit(struct ikev2_peer *ep, const struct ike_action *act);
void v2_status(struct ikev2_peer *ep, bool up, const char *cause);
/* UP when an established IKE SA and a CHILD SA exist, else DOWN with cause. */
void v2_update_status(struct ikev2_peer *ep, const char *cause);
void v2_send_raw(struct ikev2_peer *ep, const struct ike_addr *dst, uint16_t src_port,
		 const uint8_t *msg, size_t len);
void v2_msgbuf_free(struct v2_msgbuf *m);
void v2_msgbuf_send(struct ikev2_peer *ep, const struct v2_sa *sa, const struct v2_msgbuf *m);
/* Encrypt `inner` (built with v2_buf_inner) as exchange `exch` into out,
 * fragmenting when the peer allows it and the message is large. */
bool v2_seal(struct ikev2_peer *ep, struct v2_sa *sa, uint8_t exch, bool response,
	     uint32_t msgid, const struct isakmp_buf *inner, struct v2_msgbuf *out);
/* Send a request and keep it for retransmission (the caller filled
 * sa->req's kind and data; msgid = sa->next_msgid++). */
void v2_request(struct ikev2_peer *ep, struct v2_sa *sa, uint8_t exch,
		const struct isakmp_buf *inner, uint64_t now);
/* Send the response to the peer's request sa->peer_msgid and cache it. */
void v2_respond(struct ikev2_peer *ep, struct v2_sa *sa, uint8_t exch,
		const struct isakmp_buf *inner);
void v2_req_clear(struct v2_req *r);
uint64_t v2_rekey_ms(const struct ikev2_peer *ep, uint64_t now, uint32_t lifetime_s);
struct v2_sa *v2_current_sa(const struct ikev2_peer *ep);
/* Start what an established SA owes, if its window is free. */
void ikev2_schedule(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now);
/* Lowest of two nonces (lexicographic, shorter first on a tie). */
int v2_nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

/* ---- ikev2_sa.c -------------------------------------------------------- */
struct v2_sa *v2_sa_new(struct ikev2_peer *ep, bool initiator, uint64_t now);
void v2_sa_free(struct v2_sa *sa);
/* Every IKE SA and CHILD SA state change goes through these: one line
 * (the tunnel, the SA, old -> new, the cause; never a key), at most
 * V2_LOG_STATE_BURST per V2_LOG_INTERVAL_MS per tunnel, the rest counted. */
void v2_sa_set_state(struct ikev2_peer *ep, struct v2_sa *sa, enum v2_state s, const char *cause);
/* After c's flags (rekeying, replaced) or its installation changed: the
 * state they make, logged with cause when it differs. */
void v2_child_note_state(struct ikev2_peer *ep, struct v2_child *c, const char *cause);
const char *v2_child_state_name(enum v2_child_state s);
const char *v2_state_name(enum v2_state s);
/* Give up on sa: DEAD, its children deleted if it was the current SA;
 * status DOWN with cause; a retry scheduled when we are active. */
void v2_sa_fail(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now, const char *cause);
struct v2_sa *v2_initiate(struct ikev2_peer *ep, uint64_t now);
void v2_init_request(struct ikev2_peer *ep, uint64_t now, const struct ike_addr *from,
		     bool natt, const uint8_t *pkt, size_t len, const struct v2_hdr *h,
		     const struct v2_msg *m);
void v2_init_response(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		      const struct ike_addr *from, bool natt, const uint8_t *pkt, size_t len,
		      const struct v2_msg *m);
void v2_auth_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		     const struct v2_msg *m);
void v2_auth_response(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		      const struct v2_msg *m);
/* The peer's retransmit of IKE_SA_INIT: its SA, or NULL. */
struct v2_sa *v2_find_half_open(struct ikev2_peer *ep, const uint8_t spi_i[8],
				const struct ike_addr *from);
/* Derive the SA's keys after IKE_SA_INIT (or an IKE SA rekey). */
bool v2_sa_keys(struct v2_sa *sa, const uint8_t *gir, size_t gir_len, const struct v2_sa *old);

/* ---- ikev2_child.c ----------------------------------------------------- */
/* Install a CHILD SA from an exchange's nonces (we_initiated: our nonce
 * is Ni) and chosen transforms; gir NULL without PFS. outbound_hold_ms:
 * install.outbound_hold_ms (non-zero when we answered a rekey). */
struct v2_child *v2_child_install(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
				  const struct v2_choice *c, uint32_t spi_in, bool we_initiated,
				  const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
				  const uint8_t *gir, size_t gir_len, const struct ike_ts *ts_l,
				  const struct ike_ts *ts_r, uint32_t outbound_hold_ms);
/* Remove a child: CHILD_SA_DELETE action (the peer is told separately). */
void v2_child_remove(struct ikev2_peer *ep, struct v2_child *c, const char *cause);
void v2_children_clear(struct ikev2_peer *ep, const char *cause);
struct v2_child *v2_child_by_in(struct ikev2_peer *ep, uint32_t spi_in);
struct v2_child *v2_child_by_out(struct ikev2_peer *ep, uint32_t spi_out);
uint32_t v2_new_spi(struct ikev2_peer *ep);
/* Narrow the peer's selectors (theirs = TSi when we respond) to our
 * bounds; false when nothing is left (TS_UNACCEPTABLE). */
bool v2_ts_pick(const struct v2_ts_list *l, const struct ike_subnet *bound, struct ike_ts *out);
void v2_child_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		      uint32_t rekey_spi_in);
void v2_ike_rekey_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now);
void v2_create_child_input(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
			   const struct v2_msg *m);
void v2_create_child_response(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
			      const struct v2_msg *m);
void v2_info_input(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		   const struct v2_msg *m);
void v2_info_response(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
		      const struct v2_msg *m);
void v2_delete_children_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now,
				const uint32_t *spis, size_t n);
void v2_delete_ike_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now);
void v2_liveness_request(struct ikev2_peer *ep, struct v2_sa *sa, uint64_t now);
/* Error notify (first one of type < 16384) in m, or 0. */
uint16_t v2_error_notify(const struct v2_msg *m, struct v2_notify *out);

#endif
