/* Tests for base/queue.h: items come back in push order, each once;
 * several producer threads pushing while the consumer takes on its event
 * loop (each producer's items in its order, none lost or twice, the
 * consumer woken by the queue alone; half of them push batches); batches
 * between single pushes (in order, one wakeup, refused when closed);
 * the consumer's loop woken only when the queue goes from empty to
 * non-empty (evloop_wakeup wrapped at link time and counted); a consumer set after the first pushes woken at once;
 * a closed queue refuses pushes and hands back what was left; a push
 * allocates nothing (malloc and calloc wrapped, plain build only). Also
 * built under ThreadSanitizer (queue_tsan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/evloop.h"
#include "base/queue.h"

/* -Wl,--wrap=evloop_wakeup: the queue's wakeups counted. */
static atomic_int wakeups;
void __real_evloop_wakeup(struct evloop *l);
void __wrap_evloop_wakeup(struct evloop *l);
void __wrap_evloop_wakeup(struct evloop *l)
{
	atomic_fetch_add(&wakeups, 1);
	__real_evloop_wakeup(l);
}

#ifdef QUEUE_TEST_WRAP_MALLOC
static atomic_int allocs;
static atomic_bool counting;
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_malloc(size_t n)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&allocs, 1);
	return __real_malloc(n);
}
void *__wrap_calloc(size_t k, size_t n)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&allocs, 1);
	return __real_calloc(k, n);
}
#endif

struct item {
	int it_producer;
	int it_seq;
	struct queue_node it_node;	/* not first: QUEUE_ITEM must do the arithmetic */
};

#define ITEM(n) QUEUE_ITEM(n, struct item, it_node)

static void test_order(void **state)
{
	(void)state;
	struct queue q;
	queue_init(&q, NULL);
	assert_true(queue_empty(&q));
	assert_null(queue_take_all(&q));
	static struct item items[1000];
	for (int round = 0; round < 3; round++) {
		int n = round == 0 ? 1 : round == 1 ? 2 : 1000;
		for (int i = 0; i < n; i++) {
			items[i] = (struct item){ .it_seq = i };
			assert_true(queue_push(&q, &items[i].it_node));
		}
		assert_false(queue_empty(&q));
		int seen = 0;
		for (struct queue_node *node = queue_take_all(&q); node; node = node->qn_next)
			assert_int_equal(ITEM(node)->it_seq, seen++);
		assert_int_equal(seen, n);
		assert_true(queue_empty(&q));
		assert_null(queue_take_all(&q));
	}
}

static void test_wake_only_when_empty(void **state)
{
	(void)state;
	struct evloop *l = evloop_new(NULL, NULL);
	assert_non_null(l);
	struct queue q;
	queue_init(&q, l);
	struct item it[5] = { 0 };
	atomic_store(&wakeups, 0);
	assert_true(queue_push(&q, &it[0].it_node));	/* empty -> one: wakes */
	assert_int_equal(atomic_load(&wakeups), 1);
	assert_true(queue_push(&q, &it[1].it_node));	/* not empty: no system call */
	assert_true(queue_push(&q, &it[2].it_node));
	assert_int_equal(atomic_load(&wakeups), 1);
	/* the loop sees the one wakeup */
	assert_int_equal(evloop_run_once(l, 0), 0);	/* no on_wake set: no callback, but read */
	assert_int_equal(evloop_run_once(l, 0), 0);
	struct queue_node *n = queue_take_all(&q);
	assert_ptr_equal(n, &it[0].it_node);
	assert_ptr_equal(n->qn_next, &it[1].it_node);
	assert_ptr_equal(n->qn_next->qn_next, &it[2].it_node);
	assert_null(n->qn_next->qn_next->qn_next);
	assert_null(queue_take_all(&q));	/* an empty take wakes nobody */
	assert_int_equal(atomic_load(&wakeups), 1);
	assert_true(queue_push(&q, &it[3].it_node));	/* empty again: wakes */
	assert_true(queue_push(&q, &it[4].it_node));
	assert_int_equal(atomic_load(&wakeups), 2);
	n = queue_take_all(&q);
	assert_ptr_equal(n, &it[3].it_node);
	assert_ptr_equal(n->qn_next, &it[4].it_node);
	assert_null(n->qn_next->qn_next);
	evloop_free(l);
}

static void test_consumer_set_late(void **state)
{
	(void)state;
	struct evloop *l = evloop_new(NULL, NULL);
	assert_non_null(l);
	struct queue q;
	queue_init(&q, NULL);
	struct item it[2] = { 0 };
	atomic_store(&wakeups, 0);
	assert_true(queue_push(&q, &it[0].it_node));	/* nobody to wake yet */
	assert_int_equal(atomic_load(&wakeups), 0);
	queue_set_consumer(&q, l);			/* an item waits: woken now */
	assert_int_equal(atomic_load(&wakeups), 1);
	assert_true(queue_push(&q, &it[1].it_node));
	assert_int_equal(atomic_load(&wakeups), 1);
	assert_non_null(queue_take_all(&q));
	struct queue e;
	queue_init(&e, NULL);
	queue_set_consumer(&e, l);			/* nothing waits: not woken */
	assert_int_equal(atomic_load(&wakeups), 1);
	evloop_free(l);
}

/* Batches between single pushes: every item once, in the order pushed and
 * added; one wakeup for a batch onto an empty queue; refused when closed. */
static void test_batch(void **state)
{
	(void)state;
	struct evloop *l = evloop_new(NULL, NULL);
	assert_non_null(l);
	struct queue q;
	queue_init(&q, l);
	struct item it[8];
	for (int i = 0; i < 8; i++)
		it[i] = (struct item){ .it_seq = i };
	struct queue_batch b = { 0 };
	assert_false(queue_push_batch(&q, &b));	/* empty batch: nothing */
	atomic_store(&wakeups, 0);
	for (int i = 0; i < 3; i++)
		queue_batch_add(&b, &it[i].it_node);
	assert_true(queue_push_batch(&q, &b));		/* onto empty: one wakeup */
	assert_null(b.qb_newest);
	assert_int_equal(atomic_load(&wakeups), 1);
	assert_true(queue_push(&q, &it[3].it_node));
	for (int i = 4; i < 7; i++)
		queue_batch_add(&b, &it[i].it_node);
	assert_true(queue_push_batch(&q, &b));		/* not empty: none */
	assert_int_equal(atomic_load(&wakeups), 1);
	int seen = 0;
	for (struct queue_node *n = queue_take_all(&q); n; n = n->qn_next)
		assert_int_equal(ITEM(n)->it_seq, seen++);
	assert_int_equal(seen, 7);
	queue_batch_add(&b, &it[7].it_node);
	assert_null(queue_close(&q));
	assert_false(queue_push_batch(&q, &b));	/* closed: still the caller's */
	assert_ptr_equal(b.qb_newest, &it[7].it_node);
	evloop_free(l);
}

static void test_close(void **state)
{
	(void)state;
	struct queue q;
	queue_init(&q, NULL);
	struct item it[3] = { { .it_seq = 0 }, { .it_seq = 1 }, { .it_seq = 2 } };
	assert_true(queue_push(&q, &it[0].it_node));
	assert_true(queue_push(&q, &it[1].it_node));
	struct queue_node *left = queue_close(&q);
	assert_non_null(left);
	assert_int_equal(ITEM(left)->it_seq, 0);
	assert_int_equal(ITEM(left->qn_next)->it_seq, 1);
	assert_null(left->qn_next->qn_next);
	assert_false(queue_push(&q, &it[2].it_node));	/* refused: still the caller's */
	assert_true(queue_empty(&q));
	assert_null(queue_take_all(&q));
	assert_null(queue_close(&q));
}

/* ---- several producers, the consumer on its loop ------------------------- */

#define PRODUCERS 4
#define PER_PRODUCER 20000

struct consumer {
	struct queue c_q;
	struct evloop *c_loop;
	int c_next[PRODUCERS];		/* the seq expected next from each */
	int c_total;
	int c_takes;			/* takes that found items */
	bool c_disorder;
};

struct producer {
	struct consumer *p_c;
	int p_id;
	struct item *p_items;
};

static void consumer_woken(void *arg, uint64_t now)
{
	(void)now;
	struct consumer *c = arg;
	struct queue_node *n = queue_take_all(&c->c_q);
	c->c_takes += n != NULL;
	while (n) {
		struct queue_node *next = n->qn_next;
		struct item *it = ITEM(n);
		if (it->it_seq != c->c_next[it->it_producer])
			c->c_disorder = true;
		c->c_next[it->it_producer] = it->it_seq + 1;
		c->c_total++;
		n = next;
	}
	if (c->c_total == PRODUCERS * PER_PRODUCER)
		evloop_stop(c->c_loop);
}

/* Even producers push one item at a time, odd ones in batches of 1 to 7. */
static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct queue_batch b = { 0 };
	int in_batch = 0, want = 1;
	for (int i = 0; i < PER_PRODUCER; i++) {
		p->p_items[i] = (struct item){ .it_producer = p->p_id, .it_seq = i };
		if (p->p_id % 2 == 0) {
			if (!queue_push(&p->p_c->c_q, &p->p_items[i].it_node))
				abort();
		} else {
			queue_batch_add(&b, &p->p_items[i].it_node);
			if (++in_batch == want || i == PER_PRODUCER - 1) {
				if (!queue_push_batch(&p->p_c->c_q, &b))
					abort();
				in_batch = 0;
				want = want % 7 + 1;
			}
		}
		if (i % 1000 == 0)
			sched_yield();	/* let the consumer empty it now and then */
	}
	return NULL;
}

static void test_many_producers(void **state)
{
	(void)state;
	static struct consumer c;
	memset(&c, 0, sizeof(c));
	c.c_loop = evloop_new(consumer_woken, &c);
	assert_non_null(c.c_loop);
	queue_init(&c.c_q, c.c_loop);
	atomic_store(&wakeups, 0);
	struct producer p[PRODUCERS];
	pthread_t t[PRODUCERS];
	for (int k = 0; k < PRODUCERS; k++) {
		p[k] = (struct producer){ &c, k, calloc(PER_PRODUCER, sizeof(struct item)) };
		assert_non_null(p[k].p_items);
	}
	for (int k = 0; k < PRODUCERS; k++)
		assert_int_equal(pthread_create(&t[k], NULL, producer_main, &p[k]), 0);
	/* only the queue's wakeups end the waits: no timeout, no polling (the
	 * test's own timeout catches a lost wakeup) */
	assert_int_equal(evloop_run(c.c_loop), 0);
	for (int k = 0; k < PRODUCERS; k++)
		pthread_join(t[k], NULL);
	assert_false(c.c_disorder);
	assert_int_equal(c.c_total, PRODUCERS * PER_PRODUCER);
	for (int k = 0; k < PRODUCERS; k++)
		assert_int_equal(c.c_next[k], PER_PRODUCER);
	assert_null(queue_take_all(&c.c_q));
	/* one wakeup per empty -> non-empty, at most one per take (plus the
	 * last one, whose items a take of an earlier wakeup may have got) */
	int w = atomic_load(&wakeups);
	assert_true(w >= 1);
	assert_true(w <= c.c_takes + 1);
	assert_true(w < PRODUCERS * PER_PRODUCER);
	evloop_free(c.c_loop);
	for (int k = 0; k < PRODUCERS; k++)
		free(p[k].p_items);
}

#ifdef QUEUE_TEST_WRAP_MALLOC
static void test_push_allocates_nothing(void **state)
{
	(void)state;
	struct evloop *l = evloop_new(NULL, NULL);
	assert_non_null(l);
	struct queue q;
	queue_init(&q, l);
	struct item it[100];
	/* the wrap sees an allocation */
	atomic_store(&allocs, 0);
	atomic_store(&counting, true);
	void *volatile seen = malloc(16);	/* volatile: not optimised away */
	free(seen);
	atomic_store(&counting, false);
	assert_int_equal(atomic_load(&allocs), 1);
	atomic_store(&allocs, 0);
	atomic_store(&counting, true);
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 100; i++)
			queue_push(&q, &it[i].it_node);
		evloop_run_once(l, 0);
		queue_take_all(&q);
	}
	atomic_store(&counting, false);
	assert_int_equal(atomic_load(&allocs), 0);
	evloop_free(l);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_wake_only_when_empty),
		cmocka_unit_test(test_consumer_set_late),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_many_producers),
#ifdef QUEUE_TEST_WRAP_MALLOC
		cmocka_unit_test(test_push_allocates_nothing),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
