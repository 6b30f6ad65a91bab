/*
 * test_ring — the SPSC ring of packet slots (base/ring.h): order, wrap-around
 * of the indices, a full ring counting its drops, the wakeup (the eventfd is
 * written only while the consumer sleeps, never lost), and two threads
 * passing a million numbered packets through a small ring with the consumer
 * sleeping in poll(2) whenever it is empty. Built a second time with
 * ThreadSanitizer (ring_tsan) where the compiler has it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/ring.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Producer side: n packets numbered from *next, each its number in 4 bytes
 * at RING_HEADROOM and in rm_conn; returns how many went in. */
static unsigned put(struct ring *r, uint32_t *next, unsigned n)
{
	struct ring_slot *s[64];
	assert_true(n <= 64);
	unsigned got = ring_reserve(r, s, n);
	for (unsigned i = 0; i < got; i++) {
		uint32_t v = (*next)++;
		s[i]->rs_off = RING_HEADROOM;
		s[i]->rs_len = sizeof(v);
		memcpy(s[i]->rs_buf + RING_HEADROOM, &v, sizeof(v));
		s[i]->rs_meta = (struct ring_meta){ .rm_conn = v, .rm_tunnel = (uint8_t)(v & 1) + 1 };
	}
	ring_commit(r, got, n - got);
	return got;
}

/* Consumer side: up to n packets, each must be *expect (then the next). */
static unsigned take(struct ring *r, uint32_t *expect, unsigned n)
{
	struct ring_slot *s[64];
	unsigned got = ring_peek(r, s, n);
	for (unsigned i = 0; i < got; i++) {
		uint32_t v;
		assert_int_equal(s[i]->rs_off, RING_HEADROOM);
		assert_int_equal(s[i]->rs_len, sizeof(v));
		memcpy(&v, s[i]->rs_buf + RING_HEADROOM, sizeof(v));
		assert_int_equal(v, *expect);
		assert_int_equal(s[i]->rs_meta.rm_conn, *expect);
		assert_int_equal(s[i]->rs_meta.rm_tunnel, (*expect & 1) + 1);
		(*expect)++;
	}
	ring_release(r, got);
	return got;
}

static void test_sizes(void **state)
{
	(void)state;
	assert_null(ring_new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(ring_new(1));
	assert_null(ring_new(12));
	assert_null(ring_new(RING_SLOTS_MAX * 2));
	struct ring *r = ring_new(2);
	assert_non_null(r);
	assert_true(ring_wake_fd(r) >= 0);
	ring_free(r);
	ring_free(NULL);
}

static void test_order(void **state)
{
	(void)state;
	struct ring *r = ring_new(64);
	uint32_t next = 0, expect = 0;
	assert_int_equal(ring_peek(r, (struct ring_slot *[1]){ 0 }, 1), 0);
	assert_false(ring_pending(r));
	assert_int_equal(put(r, &next, 10), 10);
	assert_true(ring_pending(r));
	assert_int_equal(put(r, &next, 5), 5);
	assert_int_equal(take(r, &expect, 3), 3);
	assert_int_equal(take(r, &expect, 64), 12);
	assert_int_equal(expect, 15);
	assert_false(ring_pending(r));
	struct ring_stats st;
	ring_stats(r, &st);
	assert_int_equal(st.produced, 15);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.slots, 64);
	ring_free(r);
}

/* Peeking twice before a release gives the same slots; reserving twice
 * before a commit too. */
static void test_repeat_without_release(void **state)
{
	(void)state;
	struct ring *r = ring_new(8);
	struct ring_slot *a[4], *b[4];
	assert_int_equal(ring_reserve(r, a, 4), 4);
	assert_int_equal(ring_reserve(r, b, 4), 4);
	assert_memory_equal(a, b, sizeof(a));
	ring_commit(r, 0, 0);
	assert_int_equal(ring_peek(r, a, 4), 0);
	uint32_t next = 0, expect = 0;
	put(r, &next, 3);
	assert_int_equal(ring_peek(r, a, 4), 3);
	assert_int_equal(ring_peek(r, b, 4), 3);
	assert_memory_equal(a, b, 3 * sizeof(a[0]));
	assert_int_equal(take(r, &expect, 4), 3);
	ring_free(r);
}

/* One slot at a time: the nth after those already filled, NULL when the
 * ring has no room for it; one commit publishes them all, in order. */
static void test_reserve_nth(void **state)
{
	(void)state;
	struct ring *r = ring_new(4);
	struct ring_slot *s[4];
	uint32_t expect = 0, next = 0;
	for (unsigned i = 0; i < 4; i++) {
		struct ring_slot *sl = ring_reserve_nth(r, i);
		assert_non_null(sl);
		uint32_t v = next++;
		sl->rs_off = RING_HEADROOM;
		sl->rs_len = sizeof(v);
		memcpy(sl->rs_buf + RING_HEADROOM, &v, sizeof(v));
		sl->rs_meta = (struct ring_meta){ .rm_conn = v, .rm_tunnel = (uint8_t)(v & 1) + 1 };
	}
	assert_null(ring_reserve_nth(r, 4));
	assert_int_equal(ring_peek(r, s, 4), 0);	/* not published yet */
	ring_commit(r, 4, 1);
	assert_null(ring_reserve_nth(r, 0));
	assert_int_equal(take(r, &expect, 2), 2);
	assert_non_null(ring_reserve_nth(r, 1));
	assert_null(ring_reserve_nth(r, 2));
	assert_int_equal(take(r, &expect, 4), 2);
	ring_free(r);
}

/* Uneven batches through a ring of 8: the slot positions wrap thousands
 * of times (the 32-bit indices themselves wrap by unsigned arithmetic,
 * not reached here); every packet comes out once, in order, and what
 * did not fit is counted. */
static void test_wrap_around(void **state)
{
	(void)state;
	struct ring *r = ring_new(8);
	uint32_t next = 0, expect = 0;
	uint64_t offered = 0;
	for (unsigned round = 0; round < 5000; round++) {
		unsigned want = 1 + round % 7;
		offered += want;
		put(r, &next, want);
		take(r, &expect, 1 + (round * 5) % 8);
	}
	while (take(r, &expect, 8))
		;
	assert_int_equal(expect, next);
	assert_true(next > 8 * 1000);
	struct ring_stats st;
	ring_stats(r, &st);
	assert_int_equal(st.produced, next);
	assert_int_equal(st.produced + st.dropped, offered);
	assert_true(st.dropped > 0);
	ring_free(r);
}

/* A full ring takes nothing more and counts what was offered as dropped;
 * a release makes room again. */
static void test_full(void **state)
{
	(void)state;
	struct ring *r = ring_new(8);
	uint32_t next = 0, expect = 0;
	assert_int_equal(put(r, &next, 10), 8);
	struct ring_stats st;
	ring_stats(r, &st);
	assert_int_equal(st.produced, 8);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.queued, 8);
	assert_int_equal(put(r, &next, 1), 0);
	ring_stats(r, &st);
	assert_int_equal(st.dropped, 3);
	assert_int_equal(take(r, &expect, 3), 3);
	assert_int_equal(put(r, &next, 5), 3);
	ring_stats(r, &st);
	assert_int_equal(st.dropped, 5);
	assert_int_equal(take(r, &expect, 64), 8);
	assert_int_equal(expect, next);
	ring_free(r);
}

/* The eventfd is written only after the consumer said it sleeps, once per
 * sleep; cleared by ring_wake_clear. */
static void test_wakeup(void **state)
{
	(void)state;
	struct ring *r = ring_new(16);
	int fd = ring_wake_fd(r);
	uint32_t next = 0, expect = 0;
	struct ring_stats st;

	/* awake consumer: commits write nothing */
	put(r, &next, 4);
	assert_false(fd_readable(fd));
	/* packets waiting: not allowed to sleep */
	assert_false(ring_sleep_prepare(r));
	put(r, &next, 1);
	assert_false(fd_readable(fd));
	take(r, &expect, 16);
	/* empty: may sleep; the next commit wakes it, once */
	assert_true(ring_sleep_prepare(r));
	assert_false(fd_readable(fd));
	put(r, &next, 2);
	assert_true(fd_readable(fd));
	put(r, &next, 2);
	ring_stats(r, &st);
	assert_int_equal(st.wakeups, 1);
	ring_wake_clear(r);
	assert_false(fd_readable(fd));
	ring_wake_clear(r);	/* nothing to read: harmless */
	take(r, &expect, 16);
	/* a drop alone (full ring, nothing committed) wakes nobody */
	assert_true(ring_sleep_prepare(r));
	ring_commit(r, 0, 3);
	assert_false(fd_readable(fd));
	put(r, &next, 1);
	assert_true(fd_readable(fd));
	ring_stats(r, &st);
	assert_int_equal(st.wakeups, 2);
	assert_int_equal(st.dropped, 3);
	ring_free(r);
}

#define THREAD_PACKETS	1000000u

struct thread_arg {
	struct ring *r;
	unsigned full_retries;
};

static void *producer(void *p)
{
	struct thread_arg *a = p;
	uint32_t next = 0;
	unsigned batch = 1;
	while (next < THREAD_PACKETS) {
		unsigned want = batch;
		if (want > THREAD_PACKETS - next)
			want = THREAD_PACKETS - next;
		struct ring_slot *s[64];
		unsigned got = ring_reserve(a->r, s, want);
		for (unsigned i = 0; i < got; i++) {
			uint32_t v = next++;
			s[i]->rs_off = RING_HEADROOM;
			s[i]->rs_len = sizeof(v);
			memcpy(s[i]->rs_buf + RING_HEADROOM, &v, sizeof(v));
			s[i]->rs_meta = (struct ring_meta){ .rm_conn = v, .rm_tunnel = (uint8_t)(v & 1) + 1 };
		}
		ring_commit(a->r, got, 0);	/* retried below, not dropped */
		if (got < want) {
			a->full_retries++;
			sched_yield();
		}
		batch = batch % 64 + 1;
	}
	return NULL;
}

/* Two threads; the consumer sleeps in poll() whenever the ring is empty.
 * A lost wakeup would leave it asleep with packets waiting: poll's
 * timeout (10 s, far beyond any scheduling delay) fails the test. */
static void test_threads_no_lost_wakeup(void **state)
{
	(void)state;
	struct thread_arg a = { .r = ring_new(32) };
	pthread_t t;
	uint32_t expect = 0;
	unsigned prepares = 0, sleeps = 0, timeouts = 0;

	assert_int_equal(pthread_create(&t, NULL, producer, &a), 0);
	while (expect < THREAD_PACKETS) {
		if (take(a.r, &expect, 1 + expect % 64))
			continue;
		prepares++;
		if (!ring_sleep_prepare(a.r))
			continue;
		sleeps++;
		struct pollfd p = { .fd = ring_wake_fd(a.r), .events = POLLIN };
		int n = poll(&p, 1, 10000);
		if (n == 0 && !ring_pending(a.r)) {
			timeouts++;
			break;
		}
		if (n == 1)
			ring_wake_clear(a.r);
	}
	pthread_join(t, NULL);
	assert_int_equal(timeouts, 0);
	assert_int_equal(expect, THREAD_PACKETS);
	struct ring_stats st;
	ring_stats(a.r, &st);
	assert_int_equal(st.produced, THREAD_PACKETS);
	assert_int_equal(st.dropped, 0);
	/* one write at most per prepare (a prepare that finds packets may
	 * still have been taken by the producer): never one per packet */
	assert_true(st.wakeups <= prepares);
	assert_true(st.wakeups < THREAD_PACKETS / 4);
	print_message("%u sleeps, %llu wakeups, %u producer retries on a full ring\n", sleeps,
		      (unsigned long long)st.wakeups, a.full_retries);
	ring_free(a.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_repeat_without_release),
		cmocka_unit_test(test_reserve_nth),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_wakeup),
		cmocka_unit_test(test_threads_no_lost_wakeup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
