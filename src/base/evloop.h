/*
 * evloop — one thread's event loop: file descriptors (epoll,
 * level-triggered), one-shot timers at absolute monotonic milliseconds,
 * and a wakeup that any other thread may call (an eventfd). The three
 * loops of vpcd (the API's I/O thread, the engine, the VPN endpoint) had
 * each written this by hand; this is the one to use.
 *
 * Calls come in pairs: evloop_new/evloop_free, evloop_add/evloop_del,
 * evloop_timer_set/evloop_timer_cancel. Everything but evloop_wakeup and
 * evloop_stop belongs to the loop's thread (or to its owner before the
 * loop runs and after it stopped).
 *
 * Dispatch order in one round (evloop_run_once): the prepare hook (it may
 * say "do not block"); wait until an fd is ready, the earliest timer is
 * due, a wakeup came, or max_wait_ms passed; then the calls other threads
 * made with evloop_call, in order, and the wakeup callback (once however
 * many wakeups came); then each ready fd's callback; then the check hook;
 * then every timer that is due. A callback may add, change or delete any
 * fd (a deleted fd's pending events of this round are not delivered) and
 * set or cancel any timer, its own included.
 *
 * The hooks are for work that no fd announces, such as base/ring.h's
 * rings, which the producer signals only while the consumer sleeps: the
 * prepare hook tells each ring "I sleep" and returns false when one has
 * packets already (then the round does not block), the check hook serves
 * every ring. Nothing runs on the loop's thread between the prepare
 * hook's return and the wait, so a loop that keeps state valid only
 * "until it blocks" (the router's snapshot epoch) bumps it there.
 *
 * Cost, honestly: timers are an unsorted list, so finding the next
 * deadline and the due ones is O(timers) per round, fine for the handful
 * a loop has (per-tunnel deadlines belong in the caller's own structure,
 * behind one timer). An fd's watch is one small allocation at evloop_add
 * (control plane); a round allocates nothing, and costs one epoll_wait,
 * one or two clock reads (two when a timer is armed), one read of the
 * eventfd when woken, and an indirect call per hook and ready fd.
 * evloop_call takes a mutex and a condition variable, no allocation.
 */
#ifndef VPCD_BASE_EVLOOP_H
#define VPCD_BASE_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

#define EVLOOP_BATCH	32	/* ready fds taken per epoll_wait */
#define EVLOOP_NEVER	UINT64_MAX

struct evloop;

/* events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP as epoll reports them. */
typedef void (*evloop_fd_fn)(void *arg, int fd, uint32_t events, uint64_t now_ms);
typedef void (*evloop_timer_fn)(void *arg, uint64_t now_ms);
typedef void (*evloop_wake_fn)(void *arg, uint64_t now_ms);
/* true: the round may block; false: poll (wait 0) this round. */
typedef bool (*evloop_prepare_fn)(void *arg);
typedef void (*evloop_check_fn)(void *arg, uint64_t now_ms);
typedef void (*evloop_call_fn)(void *arg, uint64_t now_ms);

/* A timer: storage is the caller's (embed it); zero it, or let
 * evloop_timer_set fill it. Armed until it fires or is cancelled. */
struct evloop_timer {
	struct evloop_timer *tm_next;	/* the loop's list of armed timers */
	uint64_t tm_at_ms;
	evloop_timer_fn tm_fn;
	void *tm_arg;
	uint64_t tm_gen;		/* the loop's timer round it was armed in */
	bool tm_armed;
};

/* A loop with its epoll set and wakeup eventfd; on_wake (may be NULL) is
 * called on the loop's thread after evloop_wakeup. NULL with errno set
 * when the kernel refuses an fd. */
struct evloop *evloop_new(evloop_wake_fn on_wake, void *arg);
/* Closes the loop's own fds and frees its watches; never closes the fds
 * that were added (they are the caller's). */
void evloop_free(struct evloop *l);

/* Watch fd for events (EPOLLIN...): fn(arg, fd, revents, now) when ready.
 * 0, or -errno (EEXIST when fd is watched already, ENOMEM). */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fd_fn fn, void *arg);
/* Change what fd is watched for. 0, or -errno (ENOENT: not watched). */
int evloop_mod(struct evloop *l, int fd, uint32_t events);
/* Stop watching fd (before the caller closes it). 0, or -ENOENT. */
int evloop_del(struct evloop *l, int fd);

/* Arm t to fire once at at_ms (time_mono_ms's clock); re-arming an armed
 * timer moves it. Cancelling a timer that is not armed does nothing. */
void evloop_timer_set(struct evloop *l, struct evloop_timer *t, uint64_t at_ms, evloop_timer_fn fn, void *arg);
void evloop_timer_cancel(struct evloop *l, struct evloop_timer *t);
/* The earliest armed timer's time, EVLOOP_NEVER when none. */
uint64_t evloop_next_deadline(const struct evloop *l);

/* The round's hooks (see the file comment), either NULL: prepare(arg)
 * first in every round, before the wait is computed (timers it arms count
 * for this round); check(arg, now) after the fd callbacks and before the
 * timers of every round, whether anything was ready or not. */
void evloop_set_hooks(struct evloop *l, evloop_prepare_fn prepare, evloop_check_fn check,
		      void *arg);

/* Any thread but the loop's own: run fn(arg, now) on the loop's thread
 * and return when it has returned (a synchronous request: the caller's
 * arguments may live on its stack). Calls run in the order they came,
 * each once, in the wakeup phase of a round. The loop must be running, or
 * be run later: nothing else completes the call. */
void evloop_call(struct evloop *l, evloop_call_fn fn, void *arg);

/* Any thread: make the loop's thread run on_wake soon (one write to the
 * eventfd; wakeups before the loop reads it are merged). */
void evloop_wakeup(struct evloop *l);
/* Any thread: evloop_run returns after the current round. */
void evloop_stop(struct evloop *l);
bool evloop_stopping(const struct evloop *l);

/* One round (see the file comment), waiting at most max_wait_ms (0: do
 * not wait; EVLOOP_NEVER: until something happens). The number of
 * callbacks made, or -1 with errno when epoll_wait failed (not EINTR). */
int evloop_run_once(struct evloop *l, uint64_t max_wait_ms);
/* Rounds until evloop_stop. 0, or -1 when epoll_wait failed. */
int evloop_run(struct evloop *l);

#endif
