/*
 * ikev2 — the IKEv2 core of vpcd's Site-to-Site VPN endpoint (RFC 7296;
 * NAT-T RFC 3948; fragmentation RFC 7383; AES-GCM RFC 5282). This header
 * is the contract.
 *
 * Sans-I/O like the IKEv1 core (ike.h), and used the same way: one
 * `struct ikev2_peer` serves one tunnel; the engine feeds datagrams
 * and time in and drains the same `struct ike_action`s out (SEND,
 * CHILD_SA_INSTALL, CHILD_SA_DELETE, STATUS), with the same ownership
 * rules (ike.h "Ownership"); ike_action_wipe() wipes them. It takes the
 * same struct ike_tunnel_config (p1_aead adds AES-GCM for the IKE SA).
 * Nothing in here opens a socket, reads a clock or keeps global state.
 *
 * Which core gets a datagram: ike_msg_major_version() (ikev2_wire.h, also
 * declared below) on the bytes after the non-ESP marker: 2 goes here, 1 to
 * ike_input(). A tunnel that allows both versions runs both cores and
 * reports the status of the one that last brought it up.
 *
 * Receive / send / time / ESP activity / seq-number rekey: exactly as in
 * ike.h, with ikev2_ in place of ike_. Sends from port 4500 begin with
 * the 4-byte non-ESP marker.
 *
 * What it does
 * ------------
 *  - IKE_SA_INIT and IKE_AUTH with a pre-shared key and ID_IPV4_ADDR
 *    identities (the tunnel's addresses, or cfg.remote_id), both roles;
 *    the first CHILD SA in IKE_AUTH. INITIAL_CONTACT sent on our first
 *    IKE SA and honoured (older IKE SAs of the peer are dropped).
 *  - CREATE_CHILD_SA: new CHILD SAs, CHILD SA rekeys (REKEY_SA) with PFS
 *    when cfg.p2_dh lists groups (then required), IKE SA rekeys; both
 *    roles. Rekeys are make-before-break: the new SA is installed, the
 *    old one deleted IKEV2_REKEY_DELETE_DELAY_MS later by the side that
 *    rekeyed.
 *  - Collisions: simultaneous CHILD SA rekeys and simultaneous IKE SA
 *    rekeys resolved by the nonce rule of §2.8.1/§2.8.2 (the redundant SA
 *    made with the lowest nonce is deleted by its initiator); a rekey
 *    crossing the peer's Delete; requests of both sides in flight at once
 *    (each side's window is 1, independently).
 *  - INFORMATIONAL: Delete (ESP, IKE), liveness checks (AWS's DPD:
 *    dpd_delay_s idle, the peer is dead dpd_timeout_s after its last sign
 *    of life; dpd_action clear/none/restart), notifications logged.
 *  - Message IDs with a window of 1; our requests retransmitted
 *    (retransmit_base_ms doubling, retransmit_tries); a retransmitted
 *    request answered from the cached response.
 *  - NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD (the initiator retries with
 *    the group asked for, in IKE_SA_INIT and CREATE_CHILD_SA),
 *    TS_UNACCEPTABLE, AUTHENTICATION_FAILED both ways, named in the
 *    status cause.
 *  - Traffic selectors narrowed to cfg.local_ts / cfg.remote_ts.
 *  - NAT detection; IKE floats to 4500 when a NAT is seen; ESP then
 *    UDP-encapsulated (install.udp_encap). When the NAT is in front of
 *    us, a NAT-keepalive (one byte 0xFF, no marker: act.send.len 1) goes
 *    from 4500 every IKEV2_NATT_KEEPALIVE_MS; the peer's are counted
 *    (rx_keepalives) and dropped.
 *  - Cookies (§2.6): once IKEV2_COOKIE_THRESHOLD half-open IKE SAs exist,
 *    IKE_SA_INIT requests without a valid COOKIE get one and no state.
 *  - Fragments (RFC 7383): received ones reassembled (each verified);
 *    ours fragmented above IKEV2_FRAGMENT_MTU when the peer announced
 *    support.
 *  Not implemented: certificates, EAP, configuration payloads, MOBIKE,
 *  IPv6, transport mode, childless IKE SAs, window sizes above 1.
 */
#ifndef VPCD_VPN_IKEV2_H
#define VPCD_VPN_IKEV2_H

#include "vpn/ike/ike.h"

#define IKEV2_COOKIE_THRESHOLD	16	/* half-open IKE SAs before cookies */
#define IKEV2_FRAGMENT_MTU	1280	/* IP datagram size of our fragments */
#define IKEV2_REKEY_DELETE_DELAY_MS 5000
#define IKEV2_NATT_KEEPALIVE_MS	20000	/* RFC 3948 keepalives, when a NAT is in front of us */

struct ikev2_peer;

/* NULL when the configuration is invalid (reason logged). */
struct ikev2_peer *ikev2_peer_new(const struct ike_tunnel_config *cfg);
/* Wipes every key and frees everything; NULL is fine. No actions. */
void ikev2_peer_free(struct ikev2_peer *ep);

void ikev2_input(struct ikev2_peer *ep, uint64_t now_ms, const struct ike_addr *from,
		 bool via_nat_t_port, const uint8_t *pkt, size_t len);
void ikev2_tick(struct ikev2_peer *ep, uint64_t now_ms);
uint64_t ikev2_next_deadline(const struct ikev2_peer *ep);
/* Initiate now (IKE_SA_INIT), whatever the startup action. */
void ikev2_start(struct ikev2_peer *ep, uint64_t now_ms);
/* Delete every SA (Delete payloads sent), report DOWN "stopped", stay
 * idle until ikev2_start() or a peer's IKE_SA_INIT. */
void ikev2_stop(struct ikev2_peer *ep, uint64_t now_ms);
void ikev2_child_sa_used(struct ikev2_peer *ep, uint32_t spi_in, uint64_t now_ms);
/* As ike_child_sa_rekey(). */
bool ikev2_child_sa_rekey(struct ikev2_peer *ep, uint32_t spi_in, uint64_t now_ms);
/* Rekey the current IKE SA now, as at its lifetime's rekey time (CHILD
 * SAs move to the new one). false when no IKE SA is established. */
bool ikev2_ike_sa_rekey(struct ikev2_peer *ep, uint64_t now_ms);
bool ikev2_next_action(struct ikev2_peer *ep, struct ike_action *out);
void ikev2_get_stats(const struct ikev2_peer *ep, struct ike_stats *out);
bool ikev2_is_up(const struct ikev2_peer *ep);
const char *ikev2_status_cause(const struct ikev2_peer *ep);
/* true once a peer's IKEv2 message was authenticated or we initiated:
 * the endpoint has something to report. */
bool ikev2_in_use(const struct ikev2_peer *ep);

/* The IKE SA, as `swanctl --list-sas` shows it. Plain values: fit to be
 * copied to any thread. */
enum ikev2_sa_state {
	IKEV2_SA_NONE = 0,
	IKEV2_SA_CONNECTING,	/* IKE_SA_INIT / IKE_AUTH under way */
	IKEV2_SA_ESTABLISHED,
	IKEV2_SA_REKEYING,	/* established, its replacement under way */
	IKEV2_SA_DELETING,
};
struct ikev2_sa_status {
	enum ikev2_sa_state state;	/* NONE: every other field is zero */
	unsigned serial;		/* "#3" in log lines */
	bool initiator;
	uint8_t spi_i[8], spi_r[8];
	struct ike_addr local, peer;	/* ports 500 or 4500 */
	bool nat_local, nat_peer;
	enum ike_encr encr;
	enum ike_integ integ, prf;
	uint16_t dh_group;
	uint32_t lifetime_s;
	uint32_t established_s, rekey_in_s, remaining_s;
	unsigned n_sas;			/* IKE SAs held (old ones while rekeying) */
	uint32_t msgid_out, msgid_in;	/* next request id we use / expect */
};
void ikev2_get_sa_status(const struct ikev2_peer *ep, uint64_t now_ms,
			 struct ikev2_sa_status *out);
const char *ikev2_sa_state_name(enum ikev2_sa_state s);

/* 1 or 2 from an IKE header (byte 17), 0 when too short. */
int ike_msg_major_version(const uint8_t *pkt, size_t len);

#endif
