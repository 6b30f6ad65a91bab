/* Tests for base/evloop.h: fd callbacks, a watch deleted by an earlier
 * callback of the same round (never called, never touched: ASan would
 * see it), duplicate and unknown fds refused, timers in deadline order,
 * cancelled, re-armed for "now" without spinning, a timer already due
 * not waiting, wakeups from another thread (merged), stop from another
 * thread, max_wait honoured; the prepare hook (first in a round, may
 * forbid blocking, its timers count) and the check hook (every round,
 * after the fds, before the timers); evloop_call from other threads
 * (run on the loop's thread, each once, the caller back only after); a
 * round allocates nothing (malloc, calloc and realloc wrapped at link
 * time, in the plain build only). "Does not block" and "max_wait
 * honoured" are checked as the timeout a round gave epoll_wait (wrapped
 * at link time in both builds), not by the wall clock, which a loaded
 * machine stretches at will around a round that did not wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "base/evloop.h"

#ifdef EVLOOP_TEST_WRAP_MALLOC
/* -Wl,--wrap: every allocation of the code linked into this test (evloop
 * and base included) counted while `counting` is set. */
static atomic_int allocs;
static atomic_bool counting;
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
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
void *__wrap_realloc(void *p, size_t n)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&allocs, 1);
	return __real_realloc(p, n);
}
#endif

/* -Wl,--wrap=epoll_wait: the timeout of the last round's wait (only the
 * loop's thread waits). */
static atomic_int last_wait_ms = -2;
int __real_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout);
int __wrap_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout);
int __wrap_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	atomic_store(&last_wait_ms, timeout);
	return __real_epoll_wait(epfd, evs, max, timeout);
}

struct rec {
	int calls;
	int last_fd;
	uint32_t last_events;
	int order[8];
	int norder;
	struct evloop *loop;
	struct evloop_timer *rearm;
};

static void on_fd(void *arg, int fd, uint32_t events, uint64_t now)
{
	(void)now;
	struct rec *r = arg;
	r->calls++;
	r->last_fd = fd;
	r->last_events = events;
	char b[16];
	(void)!read(fd, b, sizeof(b));
}

static void test_fd_ready(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct evloop *l = evloop_new(NULL, NULL);
	assert_non_null(l);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(evloop_add(l, p[0], EPOLLIN, on_fd, &r), 0);
	assert_int_equal(evloop_add(l, p[0], EPOLLIN, on_fd, &r), -EEXIST);
	assert_int_equal(evloop_mod(l, p[1], EPOLLIN), -ENOENT);
	assert_int_equal(evloop_del(l, p[1]), -ENOENT);
	assert_int_equal(evloop_run_once(l, 0), 0);	/* nothing ready */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(l, 1000), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.last_fd, p[0]);
	assert_true(r.last_events & EPOLLIN);
	/* not watched for input any more: no callback though ready */
	assert_int_equal(evloop_mod(l, p[0], 0), 0);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(evloop_run_once(l, 0), 0);
	assert_int_equal(evloop_del(l, p[0]), 0);
	assert_int_equal(evloop_del(l, p[0]), -ENOENT);
	evloop_free(l);
	close(p[0]);
	close(p[1]);
}

/* Both pipes ready in one round; whichever callback runs first deletes
 * the other's watch, whose event of this round is then not delivered. */
struct pair {
	struct evloop *loop;
	int fds[2];
	int calls;
	bool deleted;
};

static void on_fd_delete_other(void *arg, int fd, uint32_t events, uint64_t now)
{
	(void)events;
	(void)now;
	struct pair *p = arg;
	p->calls++;
	char b[8];
	(void)!read(fd, b, sizeof(b));
	if (!p->deleted) {
		assert_int_equal(evloop_del(p->loop, fd == p->fds[0] ? p->fds[1] : p->fds[0]), 0);
		p->deleted = true;
	}
}

static void test_delete_during_dispatch(void **state)
{
	(void)state;
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	struct pair p = { .loop = evloop_new(NULL, NULL), .fds = { a[0], b[0] } };
	assert_non_null(p.loop);
	assert_int_equal(evloop_add(p.loop, a[0], EPOLLIN, on_fd_delete_other, &p), 0);
	assert_int_equal(evloop_add(p.loop, b[0], EPOLLIN, on_fd_delete_other, &p), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(p.loop, 1000), 1);
	assert_int_equal(p.calls, 1);
	/* the deleted one stays unwatched though still readable */
	assert_int_equal(evloop_run_once(p.loop, 0), 0);
	evloop_free(p.loop);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void on_timer(void *arg, uint64_t now)
{
	(void)now;
	struct rec *r = arg;
	r->calls++;
}

struct ordered {
	struct rec *r;
	int id;
};

static void on_timer_ordered(void *arg, uint64_t now)
{
	(void)now;
	struct ordered *o = arg;
	o->r->order[o->r->norder++] = o->id;
}

static void test_timers(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct evloop *l = evloop_new(NULL, NULL);
	struct evloop_timer t[4];
	memset(t, 0, sizeof(t));
	struct ordered o[3] = { { &r, 30 }, { &r, 10 }, { &r, 20 } };
	uint64_t now = time_mono_ms();
	evloop_timer_set(l, &t[0], now + 30, on_timer_ordered, &o[0]);
	evloop_timer_set(l, &t[1], now + 10, on_timer_ordered, &o[1]);
	evloop_timer_set(l, &t[2], now + 20, on_timer_ordered, &o[2]);
	evloop_timer_set(l, &t[3], now + 15, on_timer, &r);
	assert_int_equal(evloop_next_deadline(l), now + 10);
	evloop_timer_cancel(l, &t[3]);
	evloop_timer_cancel(l, &t[3]);		/* twice: nothing */
	while (r.norder < 3)
		assert_true(evloop_run_once(l, EVLOOP_NEVER) >= 1);
	assert_true(time_mono_ms() >= now + 30);
	assert_int_equal(r.order[0], 10);
	assert_int_equal(r.order[1], 20);
	assert_int_equal(r.order[2], 30);
	assert_int_equal(r.calls, 0);		/* the cancelled one */
	assert_int_equal(evloop_next_deadline(l), EVLOOP_NEVER);
	/* re-arming moves it; a timer already due does not wait */
	evloop_timer_set(l, &t[3], now + 100000, on_timer, &r);
	evloop_timer_set(l, &t[3], now, on_timer, &r);
	assert_int_equal(evloop_run_once(l, EVLOOP_NEVER), 1);
	assert_int_equal(atomic_load(&last_wait_ms), 0);
	assert_int_equal(r.calls, 1);
	evloop_free(l);
}

static void rearm_now(void *arg, uint64_t now)
{
	struct rec *r = arg;
	r->calls++;
	evloop_timer_set(r->loop, r->rearm, now, rearm_now, r);
}

/* A timer that re-arms itself for "now" fires once a round. */
static void test_timer_rearm_no_spin(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct evloop_timer t = { 0 };
	struct evloop *l = evloop_new(NULL, NULL);
	r.loop = l;
	r.rearm = &t;
	evloop_timer_set(l, &t, time_mono_ms(), rearm_now, &r);
	assert_int_equal(evloop_run_once(l, 0), 1);
	assert_int_equal(evloop_run_once(l, 0), 1);
	assert_int_equal(r.calls, 2);
	evloop_timer_cancel(l, &t);
	assert_int_equal(evloop_run_once(l, 0), 0);
	evloop_free(l);
}

static void on_wake(void *arg, uint64_t now)
{
	(void)now;
	struct rec *r = arg;
	r->calls++;
}

static void *wake_later(void *arg)
{
	usleep(20000);
	evloop_wakeup(arg);
	return NULL;
}

static void *stop_later(void *arg)
{
	usleep(20000);
	evloop_stop(arg);
	return NULL;
}

static void test_wakeup_and_stop(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct evloop *l = evloop_new(on_wake, &r);
	/* three wakeups before the loop looks: one callback */
	evloop_wakeup(l);
	evloop_wakeup(l);
	evloop_wakeup(l);
	assert_int_equal(evloop_run_once(l, 1000), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(evloop_run_once(l, 0), 0);
	/* from another thread, while the loop waits forever */
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, wake_later, l), 0);
	assert_int_equal(evloop_run_once(l, EVLOOP_NEVER), 1);
	pthread_join(th, NULL);
	assert_int_equal(r.calls, 2);
	/* stop ends evloop_run */
	assert_false(evloop_stopping(l));
	assert_int_equal(pthread_create(&th, NULL, stop_later, l), 0);
	assert_int_equal(evloop_run(l), 0);
	pthread_join(th, NULL);
	assert_true(evloop_stopping(l));
	evloop_free(l);
}

static void test_max_wait(void **state)
{
	(void)state;
	struct evloop *l = evloop_new(NULL, NULL);
	struct evloop_timer t = { 0 };
	struct rec r = { 0 };
	evloop_timer_set(l, &t, time_mono_ms() + 60000, on_timer, &r);
	uint64_t t0 = time_mono_ms();
	assert_int_equal(evloop_run_once(l, 50), 0);
	assert_int_equal(atomic_load(&last_wait_ms), 50);	/* not the timer's minute */
	assert_true(time_mono_ms() - t0 >= 45);
	assert_int_equal(r.calls, 0);
	evloop_free(l);
}

struct hooks {
	struct evloop *loop;
	struct evloop_timer tm;
	int seq;			/* events in order */
	int prepare_at, fd_at, check_at, timer_at;
	int prepares, checks;
	bool block;			/* what prepare answers */
	bool arm_now;			/* prepare arms tm for now */
};

static void hk_timer(void *arg, uint64_t now)
{
	(void)now;
	struct hooks *h = arg;
	h->timer_at = ++h->seq;
}

static bool hk_prepare_arm(void *arg)
{
	struct hooks *h = arg;
	h->prepares++;
	h->prepare_at = ++h->seq;
	if (h->arm_now) {
		h->arm_now = false;
		evloop_timer_set(h->loop, &h->tm, time_mono_ms(), hk_timer, h);
	}
	return h->block;
}

static void hk_check(void *arg, uint64_t now)
{
	(void)now;
	struct hooks *h = arg;
	h->checks++;
	h->check_at = ++h->seq;
}

static void hk_fd(void *arg, int fd, uint32_t events, uint64_t now)
{
	(void)events;
	(void)now;
	struct hooks *h = arg;
	char b[8];
	(void)!read(fd, b, sizeof(b));
	h->fd_at = ++h->seq;
}

static void test_hooks(void **state)
{
	(void)state;
	struct hooks h = { .block = true };
	h.loop = evloop_new(NULL, NULL);
	assert_non_null(h.loop);
	evloop_set_hooks(h.loop, hk_prepare_arm, hk_check, &h);
	/* nothing ready: both hooks still run, prepare first */
	assert_int_equal(evloop_run_once(h.loop, 0), 0);
	assert_int_equal(h.prepares, 1);
	assert_int_equal(h.checks, 1);
	assert_true(h.prepare_at < h.check_at);
	/* prepare says "do not block": a round that would wait forever returns */
	h.block = false;
	assert_int_equal(evloop_run_once(h.loop, EVLOOP_NEVER), 0);
	assert_int_equal(atomic_load(&last_wait_ms), 0);
	assert_int_equal(h.checks, 2);
	/* order in a round: prepare, fd, check, timer; a timer prepare arms
	 * for now counts for this round's wait and fires in it */
	h.block = true;
	h.arm_now = true;
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(evloop_add(h.loop, p[0], EPOLLIN, hk_fd, &h), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(h.loop, EVLOOP_NEVER), 2);	/* the fd, the timer */
	assert_int_equal(atomic_load(&last_wait_ms), 0);
	assert_true(h.prepare_at < h.fd_at);
	assert_true(h.fd_at < h.check_at);
	assert_true(h.check_at < h.timer_at);
	/* unhooked: neither runs */
	evloop_set_hooks(h.loop, NULL, NULL, NULL);
	assert_int_equal(evloop_run_once(h.loop, 0), 0);
	assert_int_equal(h.prepares, 3);
	assert_int_equal(h.checks, 3);
	assert_int_equal(evloop_del(h.loop, p[0]), 0);
	evloop_free(h.loop);
	close(p[0]);
	close(p[1]);
}

struct caller {
	struct evloop *loop;
	pthread_t loop_thread;
	int value;			/* on the caller's stack in real use */
	bool on_loop_thread;
	int start;
	bool back_after_run;
	int *order, *norder;
	pthread_mutex_t *order_lock;
};

static void call_fn(void *arg, uint64_t now)
{
	(void)now;
	struct caller *c = arg;
	c->on_loop_thread = pthread_equal(pthread_self(), c->loop_thread);
	c->value *= 2;
	pthread_mutex_lock(c->order_lock);
	c->order[(*c->norder)++] = c->value;
	pthread_mutex_unlock(c->order_lock);
}

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	evloop_call(c->loop, call_fn, c);
	/* back only once it ran: the answer is there (checked by the main
	 * thread after the join; cmocka asserts belong to it) */
	c->back_after_run = c->on_loop_thread && c->value == c->start * 2;
	return NULL;
}

static void test_call(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct evloop *l = evloop_new(on_wake, &r);
	int order[4], norder = 0;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct caller c[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		c[i] = (struct caller){ .loop = l, .loop_thread = pthread_self(), .value = i + 1,
					.start = i + 1, .order = order, .norder = &norder, .order_lock = &lock };
		assert_int_equal(pthread_create(&th[i], NULL, caller_main, &c[i]), 0);
	}
	/* rounds until the three ran, each once */
	uint64_t t0 = time_mono_ms();
	while (norder < 3 && time_mono_ms() - t0 < 10000)
		assert_true(evloop_run_once(l, 1000) >= 0);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(norder, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c[i].value, 2 * (i + 1));
		assert_true(c[i].on_loop_thread);
		assert_true(c[i].back_after_run);
	}
	assert_true(r.calls >= 1);	/* on_wake too, after the calls */
	/* A caller's wakeup may come after the round that ran its call read
	 * the eventfd: at most the wake callback is left, then nothing. */
	assert_true(evloop_run_once(l, 0) <= 1);
	assert_int_equal(evloop_run_once(l, 0), 0);
	evloop_free(l);
}

#ifdef EVLOOP_TEST_WRAP_MALLOC
static void rearm_later(void *arg, uint64_t now)
{
	struct rec *r = arg;
	r->calls++;
	evloop_timer_set(r->loop, r->rearm, now, rearm_later, r);
}

static bool prep_yes(void *arg)
{
	(void)arg;
	return true;
}

static void check_nothing(void *arg, uint64_t now)
{
	(void)arg;
	(void)now;
}

/* Rounds with an fd ready, a timer firing and re-arming, a wakeup, both
 * hooks, and a watch deleted mid-life: no allocation (the watch's own at
 * evloop_add is the control plane's, before counting). */
static void test_round_allocates_nothing(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct evloop_timer t = { 0 };
	struct evloop *l = evloop_new(on_wake, &r);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(evloop_add(l, p[0], EPOLLIN, on_fd, &r), 0);
	evloop_set_hooks(l, prep_yes, check_nothing, &r);
	r.loop = l;
	r.rearm = &t;
	evloop_timer_set(l, &t, time_mono_ms(), rearm_later, &r);
	/* the wrap sees evloop's own allocations: evloop_add's watch */
	int q[2];
	assert_int_equal(pipe(q), 0);
	atomic_store(&allocs, 0);
	atomic_store(&counting, true);
	assert_int_equal(evloop_add(l, q[0], EPOLLIN, on_fd, &r), 0);
	atomic_store(&counting, false);
	assert_int_equal(atomic_load(&allocs), 1);
	assert_int_equal(evloop_del(l, q[0]), 0);
	assert_true(evloop_run_once(l, 0) >= 0);
	close(q[0]);
	close(q[1]);
	atomic_store(&allocs, 0);
	atomic_store(&counting, true);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(write(p[1], "x", 1), 1);
		evloop_wakeup(l);
		assert_true(evloop_run_once(l, 1000) >= 2);
	}
	assert_int_equal(evloop_del(l, p[0]), 0);
	assert_true(evloop_run_once(l, 0) >= 0);	/* frees the dead watch */
	atomic_store(&counting, false);
	assert_int_equal(atomic_load(&allocs), 0);
	assert_true(r.calls >= 200);	/* the fd and the timer, every round */
	evloop_free(l);
	close(p[0]);
	close(p[1]);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_ready),
		cmocka_unit_test(test_delete_during_dispatch),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_timer_rearm_no_spin),
		cmocka_unit_test(test_wakeup_and_stop),
		cmocka_unit_test(test_max_wait),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_call),
#ifdef EVLOOP_TEST_WRAP_MALLOC
		cmocka_unit_test(test_round_allocates_nothing),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
