/*
 * replay — the ESP anti-replay window (RFC 4303 section 3.4.3), as a small
 * unit of its own so that it can be tested without any cryptography.
 *
 * A bitmap sliding window in the style of RFC 6479: the bitmap is a ring of
 * 64-bit words indexed by the sequence number itself, so that moving the
 * window forward clears whole words and never shifts bits. The ring holds
 * at least one word more than the window, which is what lets a packet
 * exactly `size - 1` behind the highest one still be checked.
 *
 * Two steps, in this order, and never merged:
 *   1. replay_check(): before the ICV is verified. Read-only: a forged
 *      packet must not move the window.
 *   2. replay_advance(): only after the ICV has verified. Marks the number
 *      as seen and slides the window when it is the new highest.
 * Between the two the caller must hold the SA (one thread per inbound SA);
 * nothing here locks.
 *
 * Bounds: window sizes 64..2048 in multiples of 64 (others are rounded up);
 * sequence numbers are 32-bit, 0 is never valid (ESP starts at 1).
 * Cost: check O(1); advance O(words cleared) <= 64 words on a huge jump.
 * Never allocates; the whole state lives inside struct replay_window.
 */
#ifndef VPCD_VPN_ESP_REPLAY_H
#define VPCD_VPN_ESP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_WINDOW_MIN	64u
#define REPLAY_WINDOW_MAX	2048u
#define REPLAY_RING_WORDS_MAX	64u	/* power of two >= MAX/64 + 1 */

struct replay_window {
	uint32_t rw_size;		/* window in sequence numbers */
	uint32_t rw_highest;		/* highest authenticated seq; 0 = none */
	uint32_t rw_ring_mask;		/* ring words - 1 (power of two) */
	uint64_t rw_ring[REPLAY_RING_WORDS_MAX];
};

enum replay_verdict {
	REPLAY_OK = 0,		/* new number inside or ahead of the window */
	REPLAY_ZERO,		/* sequence number 0: never sent by ESP */
	REPLAY_TOO_OLD,		/* behind the window's left edge */
	REPLAY_DUPLICATE,	/* inside the window and already seen */
};

/* size is clamped to [REPLAY_WINDOW_MIN, REPLAY_WINDOW_MAX] and rounded
 * up to a multiple of 64; returns the size actually used. */
uint32_t replay_init(struct replay_window *rw, uint32_t size);

/* Step 1: may seq be accepted? Does not modify the window. */
enum replay_verdict replay_check(const struct replay_window *rw, uint32_t seq);

/* Step 2, after the ICV verified: record seq as seen. Calling it for a
 * number replay_check() would refuse is a no-op that returns false. */
bool replay_advance(struct replay_window *rw, uint32_t seq);

#endif
