/*
 * replay — ESP anti-replay bitmap window; see replay.h for the design.
 * Never called with a lock held by it, never allocates, never logs.
 */
#include "vpn/esp/replay.h"

#include <assert.h>
#include <string.h>

#define WORD_BITS	64u
#define WORD_SHIFT	6u

uint32_t
replay_init(struct replay_window *rw, uint32_t size)
{
	uint32_t words, ring = 1;

	if (size < REPLAY_WINDOW_MIN)
		size = REPLAY_WINDOW_MIN;
	if (size > REPLAY_WINDOW_MAX)
		size = REPLAY_WINDOW_MAX;
	size = (size + WORD_BITS - 1) & ~(WORD_BITS - 1);

	/* One spare word so that the word holding the left edge is never the
	 * word the right edge is about to clear. */
	words = size / WORD_BITS + 1;
	while (ring < words)
		ring <<= 1;
	assert(ring <= REPLAY_RING_WORDS_MAX);

	memset(rw, 0, sizeof(*rw));
	rw->rw_size = size;
	rw->rw_ring_mask = ring - 1;
	return size;
}

static inline uint64_t
bit_of(uint32_t seq)
{
	return (uint64_t)1 << (seq & (WORD_BITS - 1));
}

static inline uint32_t
word_of(const struct replay_window *rw, uint32_t seq)
{
	return (seq >> WORD_SHIFT) & rw->rw_ring_mask;
}

enum replay_verdict
replay_check(const struct replay_window *rw, uint32_t seq)
{
	if (seq == 0)
		return REPLAY_ZERO;
	if (seq > rw->rw_highest)
		return REPLAY_OK;
	/* Left edge: highest - size + 1 is the oldest number still inside. */
	if (rw->rw_highest - seq >= rw->rw_size)
		return REPLAY_TOO_OLD;
	if (rw->rw_ring[word_of(rw, seq)] & bit_of(seq))
		return REPLAY_DUPLICATE;
	return REPLAY_OK;
}

bool
replay_advance(struct replay_window *rw, uint32_t seq)
{
	if (replay_check(rw, seq) != REPLAY_OK)
		return false;

	if (seq > rw->rw_highest) {
		uint32_t cur = rw->rw_highest >> WORD_SHIFT;
		uint32_t next = seq >> WORD_SHIFT;
		uint32_t span = next - cur;

		/* Clear every word the right edge moves over; a jump longer
		 * than the ring clears the whole ring once. */
		if (span > rw->rw_ring_mask + 1)
			span = rw->rw_ring_mask + 1;
		for (uint32_t i = 1; i <= span; i++)
			rw->rw_ring[(cur + i) & rw->rw_ring_mask] = 0;
		rw->rw_highest = seq;
	}
	rw->rw_ring[word_of(rw, seq)] |= bit_of(seq);
	return true;
}
