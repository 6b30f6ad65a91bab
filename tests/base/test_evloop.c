/* Tests for base/evloop.h: fd callbacks, a watch deleted by an earlier
 * callback of the same round (never called, never touched: ASan would
 * see it), duplicate and unknown fds refused, timers in deadline order,
 * cancelled, re-armed for "now" without spinning, a timer already due
 * not waiting, wakeups from another thread (merged), stop from another
 * thread, and max_wait honoured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "base/evloop.h"

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
	uint64_t t0 = time_mono_ms();
	assert_int_equal(evloop_run_once(l, EVLOOP_NEVER), 1);
	assert_true(time_mono_ms() - t0 < 500);
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
	uint64_t took = time_mono_ms() - t0;
	assert_true(took >= 45 && took < 5000);
	assert_int_equal(r.calls, 0);
	evloop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_ready),
		cmocka_unit_test(test_delete_during_dispatch),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_timer_rearm_no_spin),
		cmocka_unit_test(test_wakeup_and_stop),
		cmocka_unit_test(test_max_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
