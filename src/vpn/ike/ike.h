/*
 * ike — the IKEv1 core of vpcd's Site-to-Site VPN endpoint (RFC 2407, 2408,
 * 2409; NAT-T RFC 3947; DPD RFC 3706). This header is the contract.
 *
 * Sans-I/O: the engine feeds bytes and time in and drains actions out
 * (bytes to send, CHILD SAs to install or delete, status changes). Nothing in
 * here opens a socket, reads a clock or keeps global state; one
 * `struct ike_peer` serves one tunnel (one local address, one peer): it is
 * our side of that tunnel's IKE, not the VPN endpoint (`struct vpn_endpoint`,
 * vpn/endpoint, which holds every tunnel and its sockets).
 *
 * How the engine uses it
 * ----------------------
 *  Sockets: one UDP socket on <local_ip>:500 and one on <local_ip>:4500 per
 *  local address (several tunnels may share them; see "Demultiplexing").
 *
 *  Receive: for a datagram on port 500 call
 *      ike_input(ep, now_ms, &from, false, payload, len);
 *  for a datagram on port 4500 whose first four bytes are zero (the RFC 3948
 *  non-ESP marker) call
 *      ike_input(ep, now_ms, &from, true, payload, len);
 *  passing the payload WITH the marker (ike strips and checks it). A 4500
 *  datagram whose first four bytes are not zero is ESP and goes to esp/; a
 *  one-byte 0xFF datagram is a NAT-keepalive: pass it or drop it, both fine.
 *
 *  Send: after every ike_input()/ike_tick()/ike_start() drain
 *      while (ike_next_action(ep, &act)) ...
 *  IKE_ACT_SEND: sendto(act.send.dst) from the socket bound to
 *  <local_ip>:act.send.src_port. When src_port is 4500 the bytes already
 *  begin with the 4-byte non-ESP marker: send them as they are.
 *
 *  Time: call ike_tick(ep, now_ms) when now_ms >= ike_next_deadline(ep)
 *  (and it is harmless to call it more often). now_ms is any monotonic
 *  millisecond clock, the same one for every call.
 *
 *  Rekey: a new CHILD SA for the same selectors is installed first
 *  (IKE_ACT_CHILD_SA_INSTALL; send with it from then on). When we made it,
 *  the old one's IKE_ACT_CHILD_SA_DELETE (and the Delete to the peer)
 *  follows 5 s later, so that the peer has surely installed the new SA
 *  before it hears of the Delete; until then keep decrypting with the old.
 *
 *  ESP sequence numbers: when an outbound SA nears their end, call
 *  ike_child_sa_rekey(ep, spi_in, now_ms) with the pair's inbound SPI.
 *
 *  ESP activity: call ike_child_sa_used(ep, spi_in, now_ms) now and then
 *  (once a second is plenty) for an inbound SA that received authenticated
 *  traffic; it counts as a sign of life for DPD.
 *
 * Demultiplexing: inbound ESP SPIs are random 32-bit values chosen per
 * endpoint, so the ESP engine should look SAs up by (local address, SPI).
 * IKE datagrams go to the endpoint whose (local_ip, remote_ip) matches
 * (destination address of the datagram via IP_PKTINFO, source address).
 *
 * Ownership
 * ---------
 *  - ike_peer_new() copies the configuration (PSK included); the caller
 *    may wipe and free its copy right after. The endpoint wipes its copy.
 *  - ike_input() only reads `pkt` and `from` during the call.
 *  - ike_next_action() fills *out by value. act.send.data points into memory
 *    owned by the endpoint, valid until the next ike_next_action() or
 *    ike_peer_free() on that endpoint. CHILD SA keys are copied into
 *    *out: call ike_action_wipe(out) when done with them.
 *  - Strings in actions (status cause) are arrays inside *out.
 * Not thread-safe: one endpoint is used by one thread at a time.
 *
 * Scope and limits
 * ----------------
 *  IKEv1 Main Mode with pre-shared keys and ID_IPV4_ADDR identities, both
 *  roles; Quick Mode with PFS, ESP tunnel mode (plain or UDP-encapsulated,
 *  RFC 3947 encapsulation 3; the draft value 61443 is accepted), several
 *  CHILD SAs per tunnel; Informational (Delete, notifications, DPD). Not
 *  implemented: Aggressive Mode, certificates, XAUTH/mode-config (IKEv2 is
 *  its own core, ikev2.h, sharing this header's types),
 *  IPv6, commit bit, kilobyte lifetimes enforcement (passed to ESP as
 *  life_kbytes), sending NAT keepalives (the peer behind NAT sends them).
 *  Retransmission: 2 s doubling, 5 tries (configurable); a peer's Main
 *  Mode that stalls is dropped after 60 s; at most 16 Quick Modes in
 *  flight per ISAKMP SA.
 *
 * Under attack (ike_halfopen.c): a Main Mode the peer begins is kept in a
 * bounded table (16,384, oldest pushed out) until the peer answers our
 * message 2, which proves it receives at its address; only then does it
 * become an ISAKMP SA (at most 8 such per endpoint, never pushed out by
 * an unanswered one). Each source (address and port) may begin 5 Main
 * Modes at once and 1 a second after that. Our own Main Modes are never
 * refused because of a flood. Log lines that a packet can cause are
 * rate-limited per kind (5 per 10 s) and the rest counted ("N similar
 * messages suppressed").
 */
#ifndef VPCD_VPN_IKE_H
#define VPCD_VPN_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_PORT		500
#define IKE_NATT_PORT		4500
#define IKE_NON_ESP_MARKER_LEN	4

/* Per list in the configuration: AWS allows 12 DH groups in phase 1 and
 * 13 in phase 2 by default. */
#define IKE_MAX_ALGS		16
/* Transforms in our offers (encr x integ x DH in phase 1, encr x integ in
 * phase 2, one PFS group): AWS's widest, 2 x 4 x 12 and 4 x 4. Main Mode
 * message 1 with 96 transforms is 3.5 KB (ISAKMP_MSG_MAX is 4 KB). */
#define IKE_P1_MAX_OFFER	96
#define IKE_P2_MAX_OFFER	16
#define IKE_PSK_MAX		128	/* bytes */
#define IKE_NAME_MAX		32
#define IKE_CAUSE_MAX		160
#define IKE_KEY_MAX		36	/* AES-256 + 4-byte GCM salt */
#define IKE_AUTH_KEY_MAX	64	/* HMAC-SHA2-512 */

/* IPv4 addresses are in host byte order throughout this API. */
struct ike_addr {
	uint32_t ip;
	uint16_t port;
};

struct ike_subnet {
	uint32_t addr;
	uint8_t prefix_len;	/* 0..32; 0.0.0.0/0 is "anything" */
};

/* A traffic selector as IKEv1 expresses it: an address range, an IP
 * protocol (0 = any) and a port (0 = any). */
struct ike_ts {
	uint32_t first, last;	/* inclusive */
	uint8_t protocol;
	uint16_t port;
};

enum ike_encr {
	IKE_ENCR_AES128_CBC = 1,
	IKE_ENCR_AES256_CBC,
	IKE_ENCR_AES128_GCM16,	/* phase 2 only */
	IKE_ENCR_AES256_GCM16,	/* phase 2 only */
};

enum ike_integ {
	IKE_INTEG_NONE = 0,	/* with GCM only */
	IKE_INTEG_SHA1,		/* HMAC-SHA1-96 in ESP */
	IKE_INTEG_SHA256,	/* HMAC-SHA2-256-128 */
	IKE_INTEG_SHA384,	/* HMAC-SHA2-384-192 */
	IKE_INTEG_SHA512,	/* HMAC-SHA2-512-256 */
};

#define IKE_V1	(1u << 0)
#define IKE_V2	(1u << 1)

enum ike_dpd_action { IKE_DPD_CLEAR, IKE_DPD_NONE, IKE_DPD_RESTART };
enum ike_startup { IKE_STARTUP_ADD, IKE_STARTUP_START };

struct ike_tunnel_config {
	char name[IKE_NAME_MAX];		/* for log lines, e.g. "vpn-1/tun1" */
	uint32_t local_ip, remote_ip;
	uint32_t remote_id;			/* peer's ID_IPV4_ADDR; 0 = remote_ip */
	uint8_t psk[IKE_PSK_MAX];
	size_t psk_len;

	/* Allowed algorithms, in order of preference. DH groups are RFC
	 * numbers: phase 1 allows 2, 14..24; phase 2 also 5. An empty
	 * p2_dh list means no PFS. */
	enum ike_encr p1_encr[IKE_MAX_ALGS];	size_t p1_encr_n;
	enum ike_integ p1_integ[IKE_MAX_ALGS];	size_t p1_integ_n;
	uint16_t p1_dh[IKE_MAX_ALGS];		size_t p1_dh_n;
	enum ike_encr p2_encr[IKE_MAX_ALGS];	size_t p2_encr_n;
	enum ike_integ p2_integ[IKE_MAX_ALGS];	size_t p2_integ_n;
	uint16_t p2_dh[IKE_MAX_ALGS];		size_t p2_dh_n;
	/* IKEv2 only (ikev2.h): AES-GCM-16 for the IKE SA, which IKEv1's
	 * phase 1 cannot use; p1_integ is then also the PRF list. */
	enum ike_encr p1_aead[IKE_MAX_ALGS];	size_t p1_aead_n;
	/* IKE versions the tunnel speaks (IKE_V1 | IKE_V2); 0 means IKEv1
	 * only. With both, the version of the peer's first message decides;
	 * when we initiate, IKEv2 (AWS initiates only with IKEv2). */
	unsigned versions;

	/* Defaults and AWS's limits: model/tunnel_limits.h (TUNNEL_*). */
	uint32_t p1_lifetime_s;
	uint32_t p2_lifetime_s;
	uint32_t rekey_margin_s;	/* rekey at lifetime - margin ... */
	uint32_t rekey_fuzz_pct;	/* ... minus up to fuzz% of the margin */
	uint32_t replay_window;		/* passed to ESP */
	uint32_t dpd_delay_s;		/* idle time before R-U-THERE, and between
					 * unanswered ones; at most timeout / 2 */
	uint32_t dpd_timeout_s;		/* the peer is dead this long after its
					 * last sign of life (no later) */
	enum ike_dpd_action dpd_action;
	enum ike_startup startup;

	struct ike_subnet local_ts, remote_ts;	/* bounds; default 0.0.0.0/0 */

	uint32_t retransmit_base_ms;	/* 0 = 2000; doubles on every try */
	uint32_t retransmit_tries;	/* 0 = 5 retransmissions */

	/* Force ESP in UDP (strongSwan's encap = yes): our own NAT-D hash is
	 * sent faked, so the peer sees a NAT in front of us, and we act as if
	 * behind one (float to 4500, UDP-encapsulated CHILD SAs, keepalives).
	 * A customer router's option (vpn-endpoint-harness' force_encap, the
	 * office side of bench/tunnel's NAT-T column); vpcd's own tunnels
	 * never set it, as AWS's do not. */
	bool force_encap;
};

/* AWS's numeric defaults (model/tunnel_limits.h: lifetimes, rekey margin
 * and fuzz, replay window, DPD delay and timeout), DPD action clear,
 * startup add, selectors 0.0.0.0/0, and the seed's algorithms only
 * (AES128, SHA1, group 2 in both phases; AWS's default is every allowed
 * algorithm, which the engine sets from model/tunnel_options). Addresses
 * and PSK are left zero. */
void ike_tunnel_config_defaults(struct ike_tunnel_config *cfg);

enum ike_action_kind {
	IKE_ACT_NONE = 0,
	IKE_ACT_SEND,
	IKE_ACT_CHILD_SA_INSTALL,
	IKE_ACT_CHILD_SA_DELETE,
	IKE_ACT_STATUS,
};

/* One direction of a CHILD SA: its SPI and keys. For GCM, enc_key is the
 * AES key followed by the 4-byte salt (RFC 4106) and auth_key_len is 0. */
struct ike_sa_keys {
	uint32_t spi;
	uint8_t enc_key[IKE_KEY_MAX];
	size_t enc_key_len;
	uint8_t auth_key[IKE_AUTH_KEY_MAX];
	size_t auth_key_len;
};

struct ike_child_sa_install {
	struct ike_sa_keys in, out;	/* in.spi: we receive; out.spi: we send */
	enum ike_encr encr;
	enum ike_integ integ;
	size_t icv_len;			/* 12, 16, 24, 32 (HMAC) or 16 (GCM) */
	uint32_t local_ip, remote_ip;	/* tunnel endpoints (outer header) */
	struct ike_ts ts_local, ts_remote;
	uint32_t soft_lifetime_s;	/* ike rekeys around here */
	uint32_t hard_lifetime_s;	/* ike deletes it here */
	uint64_t life_kbytes;		/* 0 = none; informational, not enforced */
	uint32_t replay_window;
	bool udp_encap;			/* RFC 3948 ESP-in-UDP */
	uint16_t encap_local_port;	/* 4500 */
	uint16_t encap_remote_port;	/* peer's NAT-T port */
	/* Make-before-break for the responder of a rekey: 0 = send with the
	 * new SA at once; else keep sending with the SAs it replaces until
	 * the peer's traffic arrives on it, one of them is deleted, or this
	 * many ms have passed (the peer may not have installed it yet). */
	uint32_t outbound_hold_ms;
};

struct ike_action {
	enum ike_action_kind kind;
	union {
		struct {
			struct ike_addr dst;
			uint16_t src_port;	/* 500 or 4500 */
			const uint8_t *data;	/* endpoint-owned, see above */
			size_t len;
		} send;
		struct ike_child_sa_install install;
		struct {
			uint32_t spi_in, spi_out;
		} del;
		struct {
			bool up;
			char cause[IKE_CAUSE_MAX];	/* "" when up */
		} status;
	};
};

/* Why an input was dropped; one counter each in ike_stats. */
enum ike_drop {
	IKE_DROP_TOO_SHORT,	/* shorter than an ISAKMP header / marker */
	IKE_DROP_BAD_MARKER,	/* 4500 datagram without the non-ESP marker */
	IKE_DROP_BAD_VERSION,
	IKE_DROP_BAD_LENGTH,	/* header length != datagram length */
	IKE_DROP_BAD_PAYLOAD,	/* payload length short/overrun, chain broken */
	IKE_DROP_TOO_MANY_PAYLOADS,
	IKE_DROP_UNKNOWN_PEER,	/* source address is not the tunnel's peer */
	IKE_DROP_UNSUPPORTED,	/* exchange type we do not speak (aggressive) */
	IKE_DROP_NO_SA,		/* cookies / message id match nothing */
	IKE_DROP_UNEXPECTED,	/* valid message in the wrong state */
	IKE_DROP_DECRYPT,	/* ciphertext not a block multiple, E flag missing */
	IKE_DROP_BAD_HASH,	/* HASH / HASH_I / HASH_R did not verify */
	IKE_DROP_MISSING_PAYLOAD,
	IKE_DROP_BAD_PROPOSAL,	/* malformed SA/proposal/transform */
	IKE_DROP_NO_PROPOSAL,	/* well-formed but nothing acceptable */
	IKE_DROP_BAD_ID,	/* identity or selector unacceptable */
	IKE_DROP_BAD_KE,	/* KE size or value wrong, nonce size wrong */
	IKE_DROP_REPLAY,	/* informational message id seen before */
	IKE_DROP_SOURCE_LIMIT,	/* Main Mode 1 from a source (address, port) over
				 * its budget of new exchanges */
	IKE_DROP_COUNT,		/* how many reasons there are: array sizes, bounds */
	/* What a check returns when the message passes: nothing dropped.
	 * Never a reason, never counted, never an index. */
	IKE_DROP_NONE = -1
};

const char *ike_drop_name(enum ike_drop why);

struct ike_stats {
	uint64_t rx_packets, tx_packets;
	uint64_t rx_keepalives;
	uint64_t retransmits;		/* our requests sent again */
	uint64_t duplicates_answered;	/* peer's retransmits answered from cache */
	uint64_t p1_established, p2_established;
	uint64_t auth_failures, proposal_mismatches;
	uint64_t dpd_sent, dpd_answered, dpd_timeouts;
	uint64_t halfopen_evicted;	/* unanswered Main Modes pushed out by newer */
	uint64_t dropped[IKE_DROP_COUNT];
};

struct ike_peer;

/* NULL when the configuration is invalid (reason logged). */
struct ike_peer *ike_peer_new(const struct ike_tunnel_config *cfg);
/* Wipes every key and frees everything; NULL is fine. No actions are
 * emitted: the engine removes the tunnel's SAs itself. */
void ike_peer_free(struct ike_peer *ep);

void ike_input(struct ike_peer *ep, uint64_t now_ms, const struct ike_addr *from,
	       bool via_nat_t_port, const uint8_t *pkt, size_t len);
void ike_tick(struct ike_peer *ep, uint64_t now_ms);
/* Earliest now_ms at which ike_tick() has work; UINT64_MAX when none. */
uint64_t ike_next_deadline(const struct ike_peer *ep);

/* Initiate now (Main Mode, then Quick Mode), whatever the startup action.
 * With startup = start, the first ike_tick() does this by itself. */
void ike_start(struct ike_peer *ep, uint64_t now_ms);

/* Delete every SA (sending Delete payloads), report DOWN with cause
 * "stopped" and stay idle until ike_start() or a peer's Main Mode. */
void ike_stop(struct ike_peer *ep, uint64_t now_ms);

/* Signs of ESP life for DPD; unknown SPIs are ignored. */
void ike_child_sa_used(struct ike_peer *ep, uint32_t spi_in, uint64_t now_ms);

/* Rekey the CHILD SA whose inbound SPI is spi_in now, before its soft
 * lifetime: for the ESP layer when an SA's sequence numbers run out
 * (esp_sa_rekey_state() says SOFT). Starts a Quick Mode (or the Main Mode
 * it needs) like a lifetime rekey: drain the actions, the new SA arrives
 * as IKE_ACT_CHILD_SA_INSTALL and the old one's DELETE follows as after
 * any rekey. Calling it again while that runs changes nothing. false when
 * no CHILD SA has that SPI; true when a rekey is now under way (or the SA
 * was already replaced). */
bool ike_child_sa_rekey(struct ike_peer *ep, uint32_t spi_in, uint64_t now_ms);

/* false when the queue is empty (then out->kind = IKE_ACT_NONE). */
bool ike_next_action(struct ike_peer *ep, struct ike_action *out);
void ike_action_wipe(struct ike_action *act);

void ike_get_stats(const struct ike_peer *ep, struct ike_stats *out);

/* Main Mode progress of an ISAKMP SA, named as Cisco's `show crypto isakmp
 * sa` names it (ike_isakmp_state_name). */
enum ike_isakmp_state {
	IKE_ISAKMP_NONE = 0,	/* no ISAKMP SA at all */
	IKE_ISAKMP_MM_NO_STATE,	/* we sent Main Mode 1, no answer yet */
	IKE_ISAKMP_MM_SA_SETUP,	/* proposal agreed (messages 1-2 done) */
	IKE_ISAKMP_MM_KEY_EXCH,	/* DH done (messages 3-4), authenticating */
	IKE_ISAKMP_QM_IDLE,	/* established: Quick Modes may run */
};

/* One ISAKMP SA, as plain values (no pointers): fit to be copied to and
 * read by any thread. */
struct ike_isakmp_status {
	enum ike_isakmp_state state;	/* NONE: every other field is zero */
	unsigned conn_id;		/* per endpoint, as in its log lines ("#3") */
	bool initiator;			/* we began its Main Mode */
	uint8_t cookie_i[8], cookie_r[8];	/* cookie_r zero until the responder's */
	struct ike_addr local;		/* local_ip, port 500 or 4500 (floated) */
	struct ike_addr peer;		/* the peer's current address and port */
	bool nat_local, nat_peer;	/* NAT-D: we / the peer are behind a NAT */
	bool peer_dpd;			/* the peer announced DPD */
	/* Chosen in Main Mode messages 1-2; zero in MM_NO_STATE. */
	enum ike_encr encr;
	enum ike_integ integ;
	uint16_t dh_group;
	uint32_t lifetime_s;		/* negotiated lifetime */
	/* QM_IDLE only, else 0: */
	uint32_t established_s;		/* seconds since it was established */
	uint32_t remaining_s;		/* until it expires (then it is deleted) */
	uint32_t reauth_in_s;		/* until re-authentication starts; 0 = due or
					 * under way */
	unsigned qm_in_flight;		/* Quick Modes it is running */
	unsigned n_sas;			/* ISAKMP SAs the endpoint holds now (an old
					 * one while re-authenticating, half-open);
					 * not the peer's Main Modes that have not
					 * answered our message 2 (a flood's) */
};

/* The ISAKMP SA that new exchanges use (the newest established one), else
 * the newest one in Main Mode; state NONE when there is none. Reads ep
 * only, emits nothing: call it where ep is used (its thread), and hand the
 * filled struct to whichever thread shows it. */
void ike_get_isakmp_status(const struct ike_peer *ep, uint64_t now_ms,
			   struct ike_isakmp_status *out);
/* "QM_IDLE", "MM_NO_STATE", ...; "NONE" for IKE_ISAKMP_NONE. */
const char *ike_isakmp_state_name(enum ike_isakmp_state s);

/* The tunnel's current status, as last reported by IKE_ACT_STATUS. */
bool ike_is_up(const struct ike_peer *ep);
const char *ike_status_cause(const struct ike_peer *ep);

#endif
