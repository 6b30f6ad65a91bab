/*
 * evloop.c — the event loop of evloop.h: an epoll set of watches (one
 * small struct per fd, its pointer in epoll's data), an eventfd for
 * wakeups, an unsorted list of armed timers, and a queue of other
 * threads' synchronous calls (nodes on the callers' stacks).
 *
 * A watch deleted while a round dispatches is marked dead and freed at
 * the round's end, so an event of this round that still points to it is
 * skipped, never followed into freed memory. A timer armed during the
 * timer phase of a round fires in a later round, never in the same phase:
 * a callback that re-arms itself for "now" cannot spin the loop.
 */
#include "base/evloop.h"

#include "base/base.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct ev_watch {
	struct ev_watch *w_next;
	int w_fd;
	uint32_t w_events;
	evloop_fd_fn w_fn;
	void *w_arg;
	bool w_dead;
};

/* A pending evloop_call, on the calling thread's stack. */
struct ev_call {
	struct ev_call *c_next;
	evloop_call_fn c_fn;
	void *c_arg;
	bool c_done;			/* under l_call_lock */
};

struct evloop {
	int l_epfd;
	int l_wake_fd;
	evloop_wake_fn l_on_wake;
	void *l_wake_arg;
	struct ev_watch *l_watches;	/* live */
	struct ev_watch *l_dead;	/* deleted this round, freed at its end */
	struct evloop_timer *l_timers;	/* armed */
	uint64_t l_timer_gen;		/* odd while the timer phase runs */
	atomic_bool l_stop;
	char l_wake_tag;		/* its address marks the eventfd in epoll */
	evloop_prepare_fn l_prepare;
	evloop_check_fn l_check;
	void *l_hook_arg;
	pthread_mutex_t l_call_lock;
	pthread_cond_t l_call_done;
	struct ev_call *l_calls;	/* under l_call_lock, in arrival order */
	struct ev_call **l_calls_tail;
};

struct evloop *evloop_new(evloop_wake_fn on_wake, void *arg)
{
	struct evloop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->l_on_wake = on_wake;
	l->l_wake_arg = arg;
	l->l_wake_fd = -1;
	atomic_init(&l->l_stop, false);
	pthread_mutex_init(&l->l_call_lock, NULL);
	pthread_cond_init(&l->l_call_done, NULL);
	l->l_calls_tail = &l->l_calls;
	l->l_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->l_epfd < 0)
		goto err;
	l->l_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->l_wake_fd < 0)
		goto err;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->l_wake_tag };
	if (epoll_ctl(l->l_epfd, EPOLL_CTL_ADD, l->l_wake_fd, &ev) < 0)
		goto err;
	return l;
err:;
	int saved = errno;
	evloop_free(l);
	errno = saved;
	return NULL;
}

static void free_list(struct ev_watch *w)
{
	while (w) {
		struct ev_watch *next = w->w_next;
		free(w);
		w = next;
	}
}

void evloop_free(struct evloop *l)
{
	if (!l)
		return;
	free_list(l->l_watches);
	free_list(l->l_dead);
	if (l->l_wake_fd >= 0)
		close(l->l_wake_fd);
	if (l->l_epfd >= 0)
		close(l->l_epfd);
	pthread_cond_destroy(&l->l_call_done);
	pthread_mutex_destroy(&l->l_call_lock);
	free(l);
}

static struct ev_watch **watch_find(struct evloop *l, int fd)
{
	for (struct ev_watch **pp = &l->l_watches; *pp; pp = &(*pp)->w_next)
		if ((*pp)->w_fd == fd)
			return pp;
	return NULL;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fd_fn fn, void *arg)
{
	if (fd < 0 || !fn)
		return -EINVAL;
	if (watch_find(l, fd))
		return -EEXIST;
	struct ev_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct ev_watch){ .w_fd = fd, .w_events = events, .w_fn = fn, .w_arg = arg };
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(l->l_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		free(w);
		return -e;
	}
	w->w_next = l->l_watches;
	l->l_watches = w;
	return 0;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	struct ev_watch **pp = watch_find(l, fd);
	if (!pp)
		return -ENOENT;
	struct epoll_event ev = { .events = events, .data.ptr = *pp };
	if (epoll_ctl(l->l_epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	(*pp)->w_events = events;
	return 0;
}

int evloop_del(struct evloop *l, int fd)
{
	struct ev_watch **pp = watch_find(l, fd);
	if (!pp)
		return -ENOENT;
	struct ev_watch *w = *pp;
	*pp = w->w_next;
	/* EBADF/ENOENT when the caller closed it first: gone from the set anyway */
	(void)epoll_ctl(l->l_epfd, EPOLL_CTL_DEL, fd, NULL);
	w->w_dead = true;
	w->w_next = l->l_dead;
	l->l_dead = w;
	return 0;
}

void evloop_timer_cancel(struct evloop *l, struct evloop_timer *t)
{
	if (!t->tm_armed)
		return;
	for (struct evloop_timer **pp = &l->l_timers; *pp; pp = &(*pp)->tm_next)
		if (*pp == t) {
			*pp = t->tm_next;
			break;
		}
	t->tm_next = NULL;
	t->tm_armed = false;
}

void evloop_timer_set(struct evloop *l, struct evloop_timer *t, uint64_t at_ms, evloop_timer_fn fn, void *arg)
{
	evloop_timer_cancel(l, t);
	t->tm_at_ms = at_ms;
	t->tm_fn = fn;
	t->tm_arg = arg;
	t->tm_gen = l->l_timer_gen;
	t->tm_armed = true;
	t->tm_next = l->l_timers;
	l->l_timers = t;
}

uint64_t evloop_next_deadline(const struct evloop *l)
{
	uint64_t next = EVLOOP_NEVER;
	for (const struct evloop_timer *t = l->l_timers; t; t = t->tm_next)
		if (t->tm_at_ms < next)
			next = t->tm_at_ms;
	return next;
}

void evloop_wakeup(struct evloop *l)
{
	uint64_t one = 1;
	/* EAGAIN: the counter is full, so a wakeup is pending anyway */
	if (write(l->l_wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("evloop", "wakeup: %s", strerror(errno));
}

void evloop_set_hooks(struct evloop *l, evloop_prepare_fn prepare, evloop_check_fn check,
		      void *arg)
{
	l->l_prepare = prepare;
	l->l_check = check;
	l->l_hook_arg = arg;
}

void evloop_call(struct evloop *l, evloop_call_fn fn, void *arg)
{
	struct ev_call c = { .c_fn = fn, .c_arg = arg };
	pthread_mutex_lock(&l->l_call_lock);
	*l->l_calls_tail = &c;
	l->l_calls_tail = &c.c_next;
	pthread_mutex_unlock(&l->l_call_lock);
	evloop_wakeup(l);
	pthread_mutex_lock(&l->l_call_lock);
	while (!c.c_done)
		pthread_cond_wait(&l->l_call_done, &l->l_call_lock);
	pthread_mutex_unlock(&l->l_call_lock);
}

/* The calls pending when the eventfd was read (a later one wrote it
 * again after queueing, so the next round takes it). */
static int run_calls(struct evloop *l, uint64_t now)
{
	pthread_mutex_lock(&l->l_call_lock);
	struct ev_call *c = l->l_calls;
	l->l_calls = NULL;
	l->l_calls_tail = &l->l_calls;
	pthread_mutex_unlock(&l->l_call_lock);
	int calls = 0;
	while (c) {
		struct ev_call *next = c->c_next;	/* c is gone once done */
		c->c_fn(c->c_arg, now);
		calls++;
		pthread_mutex_lock(&l->l_call_lock);
		c->c_done = true;
		pthread_cond_broadcast(&l->l_call_done);
		pthread_mutex_unlock(&l->l_call_lock);
		c = next;
	}
	return calls;
}

void evloop_stop(struct evloop *l)
{
	atomic_store(&l->l_stop, true);
	evloop_wakeup(l);
}

bool evloop_stopping(const struct evloop *l)
{
	return atomic_load(&((struct evloop *)l)->l_stop);
}

/* Fires the due timers armed before this phase, earliest first. */
static int run_timers(struct evloop *l, uint64_t now)
{
	int calls = 0;
	uint64_t phase = ++l->l_timer_gen;	/* timers armed from here on wait */
	for (;;) {
		struct evloop_timer **due = NULL;
		for (struct evloop_timer **pp = &l->l_timers; *pp; pp = &(*pp)->tm_next)
			if ((*pp)->tm_at_ms <= now && (*pp)->tm_gen != phase &&
			    (!due || (*pp)->tm_at_ms < (*due)->tm_at_ms))
				due = pp;
		if (!due)
			break;
		struct evloop_timer *t = *due;
		*due = t->tm_next;
		t->tm_next = NULL;
		t->tm_armed = false;
		t->tm_fn(t->tm_arg, now);
		calls++;
	}
	++l->l_timer_gen;
	return calls;
}

int evloop_run_once(struct evloop *l, uint64_t max_wait_ms)
{
	bool may_block = !l->l_prepare || l->l_prepare(l->l_hook_arg);
	uint64_t next = evloop_next_deadline(l), wait = EVLOOP_NEVER;
	if (next != EVLOOP_NEVER) {	/* the clock is read only when a timer is armed */
		uint64_t now = time_mono_ms();
		wait = next <= now ? 0 : next - now;
	}
	if (max_wait_ms < wait)
		wait = max_wait_ms;
	if (!may_block || atomic_load(&l->l_stop))
		wait = 0;
	int timeout = wait == EVLOOP_NEVER ? -1 : wait > INT_MAX ? INT_MAX : (int)wait;
	struct epoll_event evs[EVLOOP_BATCH];
	int n = epoll_wait(l->l_epfd, evs, EVLOOP_BATCH, timeout);
	if (n < 0) {
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	uint64_t now = time_mono_ms();
	int calls = 0;
	for (int i = 0; i < n; i++)
		if (evs[i].data.ptr == &l->l_wake_tag) {
			uint64_t v;
			if (read(l->l_wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_error("evloop", "wakeup read: %s", strerror(errno));
			calls += run_calls(l, now);
			if (l->l_on_wake) {
				l->l_on_wake(l->l_wake_arg, now);
				calls++;
			}
		}
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == &l->l_wake_tag)
			continue;
		struct ev_watch *w = evs[i].data.ptr;
		if (w->w_dead)
			continue;	/* deleted by an earlier callback of this round */
		w->w_fn(w->w_arg, w->w_fd, evs[i].events, now);
		calls++;
	}
	if (l->l_check)
		l->l_check(l->l_hook_arg, now);
	if (l->l_timers)
		calls += run_timers(l, now);
	if (l->l_dead) {
		free_list(l->l_dead);
		l->l_dead = NULL;
	}
	return calls;
}

int evloop_run(struct evloop *l)
{
	while (!atomic_load(&l->l_stop))
		if (evloop_run_once(l, EVLOOP_NEVER) < 0)
			return -1;
	return 0;
}
