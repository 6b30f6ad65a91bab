/*
 * ring — the bounded SPSC ring of packet slots (ring.h: the call order,
 * the invariants and the wakeup handshake).
 *
 * Each side keeps a cached copy of the other's index on its own cache
 * line and reloads it (acquire) only when the cache says there is no
 * room / nothing to read, so a batch costs each side one acquire load at
 * most and one store. Nothing here allocates after ring_new, takes a lock
 * or makes a system call, except ring_commit's eventfd write (only when
 * the consumer said it sleeps) and ring_wake_clear's read.
 */
#include "base/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct ring {
	/* producer's line */
	alignas(64) _Atomic uint32_t r_head;
	uint32_t r_tail_cache;
	_Atomic uint64_t r_produced, r_dropped, r_wakeups;
	/* consumer's line */
	alignas(64) _Atomic uint32_t r_tail;
	uint32_t r_head_cache;
	/* both write it: the consumer sets it, the producer takes it */
	alignas(64) _Atomic int r_sleeping;
	/* read-only after ring_new */
	alignas(64) uint32_t r_mask;
	int r_fd;
	struct ring_slot *r_slots;
};

struct ring *
ring_new(uint32_t nslots)
{
	if (nslots < 2 || nslots > RING_SLOTS_MAX || (nslots & (nslots - 1))) {
		errno = EINVAL;
		return NULL;
	}
	struct ring *r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->r_mask = nslots - 1;
	/* Large: mmap'd by malloc, pages touched only as slots are used. */
	r->r_slots = aligned_alloc(64, (size_t)nslots * sizeof(struct ring_slot));
	r->r_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!r->r_slots || r->r_fd < 0) {
		int e = errno;
		if (r->r_fd >= 0)
			close(r->r_fd);
		free(r->r_slots);
		free(r);
		errno = e;
		return NULL;
	}
	atomic_init(&r->r_head, 0);
	atomic_init(&r->r_tail, 0);
	atomic_init(&r->r_sleeping, 0);
	return r;
}

void
ring_free(struct ring *r)
{
	if (!r)
		return;
	close(r->r_fd);
	free(r->r_slots);
	free(r);
}

int
ring_wake_fd(const struct ring *r)
{
	return r->r_fd;
}

/* --- producer ------------------------------------------------------------- */

unsigned
ring_reserve(struct ring *r, struct ring_slot **slots, unsigned want)
{
	uint32_t head = atomic_load_explicit(&r->r_head, memory_order_relaxed);
	uint32_t size = r->r_mask + 1;
	uint32_t room = size - (head - r->r_tail_cache);

	if (room < want) {
		r->r_tail_cache = atomic_load_explicit(&r->r_tail, memory_order_acquire);
		room = size - (head - r->r_tail_cache);
	}
	if (want > room)
		want = room;
	for (unsigned i = 0; i < want; i++)
		slots[i] = &r->r_slots[(head + i) & r->r_mask];
	return want;
}

struct ring_slot *
ring_reserve_nth(struct ring *r, unsigned nth)
{
	uint32_t head = atomic_load_explicit(&r->r_head, memory_order_relaxed);
	uint32_t size = r->r_mask + 1;

	if (head - r->r_tail_cache + nth >= size) {
		r->r_tail_cache = atomic_load_explicit(&r->r_tail, memory_order_acquire);
		if (head - r->r_tail_cache + nth >= size)
			return NULL;
	}
	return &r->r_slots[(head + nth) & r->r_mask];
}

void
ring_commit(struct ring *r, unsigned n, unsigned dropped)
{
	if (dropped)
		atomic_fetch_add_explicit(&r->r_dropped, dropped, memory_order_relaxed);
	if (!n)
		return;
	atomic_fetch_add_explicit(&r->r_produced, n, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->r_head, memory_order_relaxed);
	/* seq_cst (release and more): the store half of the handshake */
	atomic_store_explicit(&r->r_head, head + n, memory_order_seq_cst);
	if (atomic_load_explicit(&r->r_sleeping, memory_order_seq_cst) &&
	    atomic_exchange_explicit(&r->r_sleeping, 0, memory_order_seq_cst)) {
		uint64_t one = 1;
		atomic_fetch_add_explicit(&r->r_wakeups, 1, memory_order_relaxed);
		/* EAGAIN only at a counter of 2^64 - 2: already readable */
		(void)!write(r->r_fd, &one, sizeof(one));
	}
}

/* --- consumer ------------------------------------------------------------- */

unsigned
ring_peek(struct ring *r, struct ring_slot **slots, unsigned max)
{
	uint32_t tail = atomic_load_explicit(&r->r_tail, memory_order_relaxed);
	uint32_t avail = r->r_head_cache - tail;

	if (avail < max) {
		r->r_head_cache = atomic_load_explicit(&r->r_head, memory_order_acquire);
		avail = r->r_head_cache - tail;
	}
	if (max > avail)
		max = avail;
	for (unsigned i = 0; i < max; i++)
		slots[i] = &r->r_slots[(tail + i) & r->r_mask];
	return max;
}

void
ring_release(struct ring *r, unsigned n)
{
	uint32_t tail = atomic_load_explicit(&r->r_tail, memory_order_relaxed);
	atomic_store_explicit(&r->r_tail, tail + n, memory_order_release);
}

bool
ring_pending(struct ring *r)
{
	uint32_t tail = atomic_load_explicit(&r->r_tail, memory_order_relaxed);
	if (r->r_head_cache != tail)
		return true;
	r->r_head_cache = atomic_load_explicit(&r->r_head, memory_order_acquire);
	return r->r_head_cache != tail;
}

bool
ring_sleep_prepare(struct ring *r)
{
	uint32_t tail = atomic_load_explicit(&r->r_tail, memory_order_relaxed);

	atomic_store_explicit(&r->r_sleeping, 1, memory_order_seq_cst);
	/* the load half of the handshake: after our store in the one order */
	r->r_head_cache = atomic_load_explicit(&r->r_head, memory_order_seq_cst);
	if (r->r_head_cache != tail) {
		atomic_store_explicit(&r->r_sleeping, 0, memory_order_relaxed);
		return false;
	}
	return true;
}

void
ring_wake_clear(struct ring *r)
{
	uint64_t v;
	(void)!read(r->r_fd, &v, sizeof(v));	/* EAGAIN: already cleared */
}

void
ring_stats(const struct ring *r, struct ring_stats *out)
{
	struct ring *w = (struct ring *)r;	/* atomic loads only */
	uint32_t head = atomic_load_explicit(&w->r_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&w->r_tail, memory_order_relaxed);

	out->produced = atomic_load_explicit(&w->r_produced, memory_order_relaxed);
	out->dropped = atomic_load_explicit(&w->r_dropped, memory_order_relaxed);
	out->wakeups = atomic_load_explicit(&w->r_wakeups, memory_order_relaxed);
	out->queued = head - tail;
	out->slots = r->r_mask + 1;
}
