/*
 * esp — vpcd's userspace ESP (RFC 4303), tunnel mode, IPv4 inside and out,
 * over raw IP protocol 50 or UDP-encapsulated on port 4500 (RFC 3948).
 * This kernel has no ESP module; this is the whole data path between the
 * plain side of a VPN connection and the wire.
 *
 * What it is for: turning batches of inner IPv4 packets into ESP packets
 * and back, in place, in buffers the caller owns, with one keyed OpenSSL
 * context per SA. What it must never do: allocate, log or make a system
 * call per packet; log or keep a key beyond the SA; move the replay window
 * for a packet whose ICV has not verified.
 *
 * Suites (IKE's ESP transforms):
 *   AES-CBC (128/256) with HMAC-SHA1-96, HMAC-SHA2-256-128, -384-192,
 *   -512-256 (RFC 3602, 2404, 4868): random 16-byte IV per packet, ICV =
 *   truncated HMAC over SPI | SEQ | IV | ciphertext (encrypt-then-MAC).
 *   AES-GCM-16 (128/256) (RFC 4106): nonce = 4-byte salt | 8-byte explicit
 *   IV; the explicit IV is the 64-bit sequence number (unique per key, never
 *   random), AAD = SPI | SEQ, 16-byte ICV.
 * Extended sequence numbers are not supported: sequence numbers are 32-bit
 * and an outbound SA refuses to send past ESP_SEQ_LAST (it never wraps).
 *
 * ---- Life of an SA (control plane; may allocate, may log) ----
 *   1. Fill a struct esp_sa_config; esp_sa_new() copies what it needs and
 *      keys one OpenSSL cipher context that every packet of the SA reuses
 *      (GCM: only the nonce is set per packet, through the provider's own
 *      functions, esp_gcm.c; CBC: never re-initialised, each packet's IV
 *      enters through the context's chaining value) and,
 *      for the CBC suites, computes the HMAC's inner and outer digest
 *      states once (copied per packet: no OpenSSL object, no allocation).
 *      The config and its key buffers stay the caller's: wipe them when
 *      done.
 *   2. Inbound SAs go into an esp_sa_table (by SPI); outbound SAs are held
 *      by the tunnel glue (by traffic selector / tunnel).
 *   3. Use it from one data-path thread at a time: the SA carries the
 *      sequence counter, the replay window, the OpenSSL contexts and the
 *      counters, none of which is locked.
 *   4. Watch esp_sa_rekey_state(): SOFT means "negotiate a new CHILD_SA
 *      now", HARD means this outbound SA will send nothing more. When IKE
 *      sees the peer float behind a NAT, esp_sa_update_peer().
 *   5. Remove it from the table (if inbound), make sure no data-path thread
 *      still holds it, then esp_sa_free(): it wipes key material (salt,
 *      HMAC states, OpenSSL key schedules) and frees the context.
 *
 * ---- Packets (data plane) ----
 * A struct esp_pkt describes one packet inside a buffer the caller owns and
 * keeps owning: [buf, buf + size) with the packet at [buf + off, + len).
 * Calls rewrite the bytes in place and move off/len; they never keep a
 * pointer to a packet after they return and never allocate.
 *
 *   Outbound: put the inner IPv4 packet at off >= ESP_HEADROOM with at least
 *   ESP_TAILROOM bytes free after it, then esp_encrypt_batch(sa, pkts, n,
 *   frame). On ESP_OK, [off, off+len) is the packet to send:
 *     ESP_FRAME_ESP:  starts at the SPI. Send it on a UDP socket bound to
 *                     4500 (the kernel adds IP+UDP) or a raw IPPROTO_ESP
 *                     socket without IP_HDRINCL.
 *     ESP_FRAME_IPV4: a whole outer IPv4 datagram from the SA's template:
 *                     IPv4 (+ UDP with the SA's ports, checksum 0, when the
 *                     SA is UDP-encapsulated) + ESP. For IP_HDRINCL raw
 *                     sockets, packet sockets or a test harness.
 *   Inner packets larger than the tunnel allows must be fragmented first
 *   (inner.h: inner_fragment() with esp_sa_inner_mtu()).
 *
 *   Inbound: strip the outer IPv4 (+ UDP) header, e.g. with esp_outer_parse()
 *   (raw sockets hand you the IP header) or esp_udp_classify() (UDP sockets
 *   do not), so that off points at the SPI, then esp_decrypt_batch(table,
 *   pkts, n). Per packet, in this order: exact length checks; SPI lookup
 *   (cached across a run of the same SPI); replay check (read-only); ICV
 *   verification in constant time; only then the replay window advances;
 *   decryption (GCM decrypts in the same pass as its tag check; nothing
 *   is used unless the tag verifies); padding and next-header checks;
 *   inner IPv4 checks. On
 *   ESP_OK, [off, off+len) is the inner IPv4 packet (TFC padding removed)
 *   and pkt->sa is the SA it came in on, for the caller's traffic selector
 *   check. Every other status is a drop, counted once (per SA, or in the
 *   table for packets that never reached an SA).
 *
 * Errors are per packet in pkt->status; batch calls return the number of
 * packets left ESP_OK. A failed packet's buffer content is unspecified (it
 * may hold unauthenticated plaintext): drop it, never forward it.
 */
#ifndef VPCD_VPN_ESP_ESP_H
#define VPCD_VPN_ESP_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes an outbound packet needs before its inner IPv4 header: outer IPv4
 * (20) + UDP (8) + ESP header (8) + IV (16) = 52, rounded up to 64. */
#define ESP_HEADROOM		64u
/* Bytes it needs free after the inner packet: padding (<= 15) + pad length
 * and next header (2) + ICV (<= 32) = 49, rounded up to 64. */
#define ESP_TAILROOM		64u
/* The last sequence number an outbound SA uses; the next packet is refused
 * with ESP_E_SEQ_EXHAUSTED (RFC 4303 3.3.3: the counter must not cycle). */
#define ESP_SEQ_LAST		0xfffffffeu
/* Default soft limit: past it esp_sa_rekey_state() says SOFT. */
#define ESP_SEQ_SOFT_DEFAULT	0xf0000000u
#define ESP_NAT_T_PORT		4500u
#define ESP_NEXT_HEADER_IPV4	4u
#define ESP_NEXT_HEADER_NONE	59u	/* TFC dummy packet (RFC 4303 2.6) */

enum esp_dir { ESP_DIR_IN, ESP_DIR_OUT };

enum esp_encr {
	ESP_ENCR_AES_CBC,	/* key 16 or 32 bytes; needs an integ */
	ESP_ENCR_AES_GCM16,	/* key 16 or 32 bytes + 4-byte salt; integ NONE */
};

enum esp_integ {
	ESP_INTEG_NONE,			/* only with AES-GCM */
	ESP_INTEG_HMAC_SHA1_96,		/* key 20 bytes */
	ESP_INTEG_HMAC_SHA2_256_128,	/* key 32 bytes */
	ESP_INTEG_HMAC_SHA2_384_192,	/* key 48 bytes */
	ESP_INTEG_HMAC_SHA2_512_256,	/* key 64 bytes */
};

/* What IKE hands over for one direction of a CHILD_SA. Addresses and ports
 * are host byte order. Keys are borrowed for the duration of esp_sa_new()
 * only. */
struct esp_sa_config {
	uint32_t	cfg_spi;		/* non-zero, values 1..255 reserved */
	enum esp_dir	cfg_dir;
	enum esp_encr	cfg_encr;
	enum esp_integ	cfg_integ;
	/* AES-CBC: the AES key (16/32). AES-GCM: KEYMAT as RFC 4106 8.1
	 * defines it, the AES key followed by the 4-byte salt (20/36). */
	const uint8_t	*cfg_encr_key;
	size_t		cfg_encr_key_len;
	const uint8_t	*cfg_integ_key;
	size_t		cfg_integ_key_len;
	uint32_t	cfg_replay_window;	/* inbound: 64..2048 (0 = 64) */
	uint32_t	cfg_seq_soft_limit;	/* outbound: 0 = default */
	/* UDP encapsulation (RFC 3948): both zero for raw ESP (proto 50). */
	uint16_t	cfg_encap_sport;
	uint16_t	cfg_encap_dport;
	/* Tunnel endpoints: outbound, our address and the peer's. */
	uint32_t	cfg_outer_src;
	uint32_t	cfg_outer_dst;
};

/* Per-packet result; also the index of the per-cause drop counters. */
enum esp_status {
	ESP_OK = 0,
	ESP_E_BAD_LENGTH,	/* too short / ciphertext not block aligned */
	ESP_E_UNKNOWN_SPI,	/* no inbound SA (table counter) */
	ESP_E_REPLAY,		/* seq 0, behind the window, or a duplicate */
	ESP_E_AUTH,		/* ICV did not verify */
	ESP_E_BAD_PADDING,	/* pad length too long or pad bytes not 1,2,.. */
	ESP_E_BAD_INNER,	/* next header not IPv4, or inner not IPv4 */
	ESP_E_DUMMY,		/* next header 59: TFC dummy, dropped quietly */
	ESP_E_SEQ_EXHAUSTED,	/* outbound: would pass ESP_SEQ_LAST */
	ESP_E_NO_ROOM,		/* caller's buffer lacks headroom/tailroom */
	ESP_E_WRONG_DIR,	/* packet given to an SA of the other direction */
	ESP_E_CRYPTO,		/* OpenSSL refused (should not happen) */
	ESP_STATUS_COUNT
};

const char *esp_status_name(enum esp_status st);

struct esp_sa;

/* One packet in a caller-owned buffer; see "Packets" above. */
struct esp_pkt {
	uint8_t		*buf;
	uint32_t	size;		/* bytes at buf */
	uint32_t	off;		/* packet start within buf */
	uint32_t	len;		/* packet length */
	uint16_t	status;		/* out: enum esp_status */
	struct esp_sa	*sa;		/* out (inbound): SA that accepted it */
};

enum esp_frame {
	ESP_FRAME_ESP,		/* SPI first: for UDP sockets / raw ESP sockets */
	ESP_FRAME_IPV4,		/* outer IPv4 [+ UDP] + ESP, from the template */
};

/* Plain counters written by the data-path thread that owns the SA; a
 * telemetry reader on another thread sees each aligned 64-bit value whole
 * but not the set as one snapshot. */
struct esp_sa_stats {
	uint64_t	st_packets;	/* packets passed (ESP_OK) */
	uint64_t	st_bytes;	/* inner IPv4 bytes passed */
	uint64_t	st_drops[ESP_STATUS_COUNT];	/* indexed by status */
};

enum esp_rekey { ESP_REKEY_NONE, ESP_REKEY_SOFT, ESP_REKEY_HARD };

/* NULL if the config is invalid (logged, without key material) or OpenSSL
 * fails. The SA is the caller's; free it with esp_sa_free(). */
struct esp_sa *esp_sa_new(const struct esp_sa_config *cfg);
/* Wipes keys and frees. NULL is fine. The SA must be out of every table. */
void esp_sa_free(struct esp_sa *sa);

uint32_t esp_sa_spi(const struct esp_sa *sa);
enum esp_dir esp_sa_dir(const struct esp_sa *sa);
const struct esp_sa_stats *esp_sa_stats(const struct esp_sa *sa);
enum esp_rekey esp_sa_rekey_state(const struct esp_sa *sa);
/* Last sequence number sent (outbound) / highest accepted (inbound). */
uint32_t esp_sa_seq(const struct esp_sa *sa);
/* Largest inner IPv4 packet that, once encapsulated by this SA in the
 * frame the SA sends (IPv4 [+ UDP] + ESP), fits in outer_mtu. */
uint32_t esp_sa_inner_mtu(const struct esp_sa *sa, uint32_t outer_mtu);

/* Outbound, NAT traversal: the peer's address or UDP port changed (IKE saw
 * it float, RFC 7296 2.23); rebuild the header template. Between batches
 * only, on the thread that owns the SA. Ports are refused (-1) when the SA
 * is not UDP-encapsulated and dport is non-zero, or the reverse. */
int esp_sa_update_peer(struct esp_sa *sa, uint32_t outer_dst, uint16_t encap_dport);

/* Outbound. Each pkt holds an inner IPv4 packet (see "Packets"); returns
 * how many are ESP_OK. Packets past ESP_SEQ_LAST get ESP_E_SEQ_EXHAUSTED
 * and consume no sequence number. */
unsigned esp_encrypt_batch(struct esp_sa *sa, struct esp_pkt *pkts, unsigned n,
	enum esp_frame frame);

/* ---- Inbound SA table: SPI -> SA, fixed-size open addressing ----
 * Created with a capacity (rounded up to a power of two, at most half
 * full); lookups never allocate and never lock. The table borrows SAs: it
 * never frees one. Insert/remove must not run concurrently with a batch
 * that uses the table (the glue serialises them on the data-path thread). */
struct esp_sa_table;

struct esp_table_stats {
	uint64_t	ts_drop_unknown_spi;
	uint64_t	ts_drop_bad_length;	/* shorter than SPI + SEQ */
};

struct esp_sa_table *esp_sa_table_new(uint32_t max_sas);
void esp_sa_table_free(struct esp_sa_table *t);
/* 0, or -1 when full, the SPI is taken, or the SA is not inbound. */
int esp_sa_table_insert(struct esp_sa_table *t, struct esp_sa *sa);
/* The SA that was removed (still the caller's), or NULL. */
struct esp_sa *esp_sa_table_remove(struct esp_sa_table *t, uint32_t spi);
struct esp_sa *esp_sa_table_lookup(const struct esp_sa_table *t, uint32_t spi);
uint32_t esp_sa_table_count(const struct esp_sa_table *t);
const struct esp_table_stats *esp_sa_table_stats(const struct esp_sa_table *t);

/* Inbound. Each pkt starts at its SPI; returns how many are ESP_OK. */
unsigned esp_decrypt_batch(struct esp_sa_table *t, struct esp_pkt *pkts, unsigned n);
/* Inbound, out of place where the caller says: when dst (may be NULL) has
 * dst[i] != NULL, pkts[i]'s plaintext is written there instead of in place
 * (room for pkts[i].len bytes: padding and trailer land there too; not
 * overlapping the packet) and, on ESP_OK, pkts[i] then describes it there
 * (buf = dst[i], off = 0, size = the ESP packet's length). Otherwise as
 * esp_decrypt_batch, counters and order of checks included. */
unsigned esp_decrypt_batch_to(struct esp_sa_table *t, struct esp_pkt *pkts,
	uint8_t *const *dst, unsigned n);
/* Inbound with a known SA (all packets must carry its SPI). */
unsigned esp_decrypt_batch_sa(struct esp_sa *sa, struct esp_pkt *pkts, unsigned n);

/* ---- Outer framing helpers for the receive path ---- */

enum esp_udp_kind {
	ESP_UDP_ESP,		/* an ESP packet: hand it to esp_decrypt_batch */
	ESP_UDP_IKE,		/* non-ESP marker (4 zero bytes): IKE after it */
	ESP_UDP_KEEPALIVE,	/* NAT-keepalive, a single 0xff (RFC 3948 2.3) */
	ESP_UDP_INVALID,	/* too short to be any of them */
};

/* Classify a UDP/4500 payload (RFC 3948 2.2). */
enum esp_udp_kind esp_udp_classify(const uint8_t *p, uint32_t len);

struct esp_outer {
	uint32_t	out_src;	/* host order */
	uint32_t	out_dst;
	uint16_t	out_sport;	/* 0 unless UDP */
	uint16_t	out_dport;
	uint32_t	out_esp_off;	/* offset of the SPI from p */
	uint32_t	out_esp_len;
};

/* Parse an outer IPv4 datagram carrying ESP (protocol 50) or UDP with an
 * ESP payload; 0 on success, -1 if it is not that (IKE, keepalive,
 * fragment, bad lengths...). Reads only [p, p + len). */
int esp_outer_parse(const uint8_t *p, uint32_t len, struct esp_outer *out);

#endif
