/*
 * ring — a bounded single-producer, single-consumer ring of packet slots
 * between two threads of vpcd (the virtual router's and the VPN
 * endpoint's: one ring each way per VPN gateway port), with an eventfd
 * that wakes the consumer only when it sleeps.
 *
 * Workload: batches of up to 64 packets of at most one MTU, at line rate,
 * each carrying what its producer decided about it (struct ring_meta).
 * No system call per packet: the producer copies a packet into a slot and
 * publishes a batch with one store; the consumer works on the slots in
 * place (it may write into a slot's head- and tailroom, e.g. to encrypt)
 * and hands them back with one store. Bounded: nslots fixed at creation,
 * allocated once; when the ring is full the producer drops and counts
 * (ring_commit's dropped), memory never grows.
 *
 * Call order
 *   producer:  n = ring_reserve(r, slots, want);  fill slots[0..n)
 *              (rs_off, rs_len, rs_meta, bytes in rs_buf);
 *              ring_commit(r, n, want - n)   -- publishes, counts drops,
 *              and writes the eventfd when (only when) the consumer sleeps.
 *   consumer:  n = ring_peek(r, slots, max);  work on slots[0..n);
 *              ring_release(r, n).
 *              Before it blocks (epoll_wait with the ring's fd among
 *              others): ring_sleep_prepare(r); false means packets are
 *              waiting (do not block; peek again). When epoll reports the
 *              fd readable: ring_wake_clear(r).
 * A slot is the producer's from ring_reserve until ring_commit, then the
 * consumer's from ring_peek until ring_release; nobody else touches it.
 * ring_reserve and ring_peek may be called again before commit/release:
 * they return the same slots first.
 *
 * Invariants: 0 <= head - tail <= nslots (unsigned arithmetic, indices
 * wrap at 2^32, nslots a power of two); slots [tail, head) are the
 * consumer's, [head, tail + nslots) the producer's. head is written by the
 * producer alone, tail by the consumer alone; each publishes with release
 * and reads the other's with acquire. The wakeup is Dekker's handshake on
 * seq_cst operations: the consumer stores r_sleeping then loads head; the
 * producer stores head then loads r_sleeping; one of the two sees the
 * other's store, so a batch is never left unseen by a sleeping consumer.
 *
 * Threads: one producer thread and one consumer thread per ring (each may
 * change over time with a happens-before between, e.g. a thread join).
 * ring_stats from any thread.
 */
#ifndef VPCD_BASE_RING_H
#define VPCD_BASE_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define RING_SLOT_BYTES		2304	/* one slot's buffer: headroom + MTU packet + tailroom */
#define RING_HEADROOM		128	/* where producers put a packet: room before it */
#define RING_SLOTS_MAX		(1u << 20)

/* What the router decided about a packet for a VPN gateway port, and the
 * facts it parsed (so the endpoint neither routes nor parses it again).
 * Filled by the producer; the endpoint trusts it (same process). From the
 * endpoint to the router everything is zero: the router parses what a
 * tunnel decrypted itself (it is outside input). */
#define RING_F_DF		0x01	/* IPv4 Don't Fragment set */
#define RING_F_TCP_SYN		0x02	/* TCP with SYN, its header (data offset) within the
					 * packet, unfragmented or the first fragment */
#define RING_F_FRAGMENT		0x04	/* a fragment (MF set or offset != 0) */
#define RING_F_PARSED		0x80	/* the facts below are set */

struct ring_meta {
	uint64_t rm_conn;	/* the connection the router chose (a key the engine gives
				 * both sides); 0: none, the consumer chooses */
	uint8_t rm_tunnel;	/* 0: either tunnel of the connection; 1, 2: that one first */
	uint8_t rm_flags;	/* RING_F_* */
	uint8_t rm_proto;	/* IPv4 protocol */
	uint8_t rm_hlen;	/* IPv4 header length, 20..60 */
};

struct ring_slot {
	uint32_t rs_off;	/* packet at rs_buf + rs_off ... */
	uint32_t rs_len;	/* ... of rs_len bytes (IPv4 total length) */
	struct ring_meta rs_meta;
	alignas(64) uint8_t rs_buf[RING_SLOT_BYTES];
};

struct ring_stats {
	uint64_t produced;	/* packets committed */
	uint64_t dropped;	/* packets the producer could not put: full */
	uint64_t wakeups;	/* eventfd writes (the consumer was asleep) */
	uint32_t queued;	/* in the ring now (approximate) */
	uint32_t slots;
};

struct ring;

/* A ring of nslots slots (a power of two, 2..RING_SLOTS_MAX), all
 * allocated now, and its eventfd (non-blocking, close-on-exec). NULL with
 * errno on failure (EINVAL for a bad size). */
struct ring *ring_new(uint32_t nslots);
/* Closes the eventfd and frees the slots. Neither side may use it after.
 * NULL is fine. */
void ring_free(struct ring *r);
/* The eventfd the consumer polls (EPOLLIN). */
int ring_wake_fd(const struct ring *r);

/* Producer: up to want free slots, in ring order, into slots[]; returns
 * how many (0 when full). */
unsigned ring_reserve(struct ring *r, struct ring_slot **slots, unsigned want);
/* Producer: the slot after the nth already reserved in this batch (0:
 * the first ring_reserve would give), NULL when the ring has no room for
 * nth + 1; for producers that fill one slot at a time. */
struct ring_slot *ring_reserve_nth(struct ring *r, unsigned nth);
/* Producer: publishes the first n slots ring_reserve gave (in order) and
 * counts dropped packets that found no slot; wakes a sleeping consumer. */
void ring_commit(struct ring *r, unsigned n, unsigned dropped);

/* Consumer: up to max filled slots, oldest first; returns how many. */
unsigned ring_peek(struct ring *r, struct ring_slot **slots, unsigned max);
/* Consumer: the first n slots ring_peek gave go back to the producer. */
void ring_release(struct ring *r, unsigned n);
/* Consumer, before blocking: true when the ring is empty and the producer
 * will write the eventfd for its next commit; false when packets wait. */
bool ring_sleep_prepare(struct ring *r);
/* Consumer: after the eventfd was reported readable; reads it. */
void ring_wake_clear(struct ring *r);
/* Consumer: is anything waiting? (one acquire load) */
bool ring_pending(struct ring *r);

/* Any thread: counters (each value whole, the set not one instant). */
void ring_stats(const struct ring *r, struct ring_stats *out);

#endif
