/*
 * tapio — batched I/O on the instances' TAP fds for the router thread:
 * many reads, or many writes, per system call.
 *
 * A TAP fd moves one frame per read(2) or write(2), and a small frame
 * costs the router little more than those two calls and their entry and
 * exit. With io_uring (raw system calls, no library) a batch of reads on
 * one fd, or every frame written during a batch, goes into the kernel in
 * one io_uring_enter(2). The TAP fds are non-blocking and the tun driver
 * honours IOCB_NOWAIT, so every request completes inline during that
 * call (a read with nothing queued completes with -EAGAIN): the call
 * returns with all completions posted, nothing is left in flight, and a
 * buffer is the caller's again when tapio_read_batch() or tapio_flush()
 * returns. When io_uring is not there (an old kernel, io_uring_disabled,
 * a container's seccomp policy), the same calls use read(2)/write(2) one
 * frame at a time, with the same results.
 *
 * Reads on one fd go in rounds: the first as many requests as the fd
 * gave frames last time plus TAPIO_READ_SLACK (TAPIO_READ_FIRST for a
 * new fd), each next one twice as many while every request of a round
 * found a frame (the TAP's queue is long), up to the caller's bound; a round that meets -EAGAIN (or an
 * error) ends it. Each request past the last queued frame costs an
 * -EAGAIN completion, not a system call.
 *
 * The ring is restricted to reads and writes (IORING_REGISTER_RESTRICTIONS)
 * before it is enabled. Loop thread only (the ring is created by, and
 * used from, the thread that calls tapio_init). Nothing is allocated
 * after tapio_init.
 */
#include "net/net_int.h"

#include "base/base.h"

#include <errno.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/time_types.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Flags newer than some kernel headers (the kernel refuses what it does
 * not know with EINVAL; tapio_init then retries without them). */
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL		(1U << 7)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN	(1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif

#define TAPIO_READ_FIRST	16	/* requests in a read batch's first round */
#define TAPIO_READ_SLACK	2	/* requests beyond the last count */
#define TAPIO_WAIT_MAX_NS	(100 * 1000 * 1000)	/* never reached: requests complete inline */

static int
uring_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

/* Submits to_submit requests and waits for min_complete completions, at
 * most TAPIO_WAIT_MAX_NS (they complete inline: waiting at all means
 * something is wrong, and the router must not hang on it). */
static int
uring_enter(int fd, unsigned to_submit, unsigned min_complete)
{
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = TAPIO_WAIT_MAX_NS };
	struct io_uring_getevents_arg arg = { .ts = (uint64_t)(uintptr_t)&ts };

	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			    IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
}

int
tapio_init(struct tapio *t, bool allow_uring)
{
	static const unsigned flag_sets[] = {
		IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
			IORING_SETUP_SINGLE_ISSUER,
		IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL,
		IORING_SETUP_R_DISABLED,
	};
	struct io_uring_params p;
	int fd = -1;

	memset(t, 0, sizeof(*t));
	t->t_fd = -1;
	if (!allow_uring)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(flag_sets) && fd < 0; i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		fd = uring_setup(TAPIO_DEPTH, &p);
		if (fd < 0 && errno != EINVAL)
			break;		/* ENOSYS, EPERM: no io_uring here */
	}
	if (fd < 0) {
		log_info("net", "router: no io_uring (%s): one system call per TAP frame",
			 strerror(errno));
		return 0;
	}
	/* EXT_ARG (5.11): the bounded wait; NODROP: no completion is lost */
	if (p.sq_entries < TAPIO_DEPTH || p.cq_entries < TAPIO_DEPTH ||
	    !(p.features & IORING_FEAT_EXT_ARG) || !(p.features & IORING_FEAT_NODROP)) {
		errno = ENOTSUP;
		goto fail;
	}
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
	size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
	if (single && cq_len > sq_len)
		sq_len = cq_len;
	void *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		goto fail;
	t->t_sq_map = sq;
	t->t_sq_map_len = sq_len;
	void *cq = sq;
	if (!single) {
		cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			  IORING_OFF_CQ_RING);
		if (cq == MAP_FAILED)
			goto fail;
		t->t_cq_map = cq;
		t->t_cq_map_len = cq_len;
	}
	size_t sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	void *sqes = mmap(NULL, sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			  IORING_OFF_SQES);
	if (sqes == MAP_FAILED)
		goto fail;
	t->t_sqes = sqes;
	t->t_sqes_len = sqes_len;

	uint8_t *s8 = sq, *c8 = cq;
	t->t_sq_tail = (_Atomic uint32_t *)(void *)(s8 + p.sq_off.tail);
	t->t_sq_mask = *(uint32_t *)(void *)(s8 + p.sq_off.ring_mask);
	uint32_t *array = (uint32_t *)(void *)(s8 + p.sq_off.array);
	t->t_cq_head = (_Atomic uint32_t *)(void *)(c8 + p.cq_off.head);
	t->t_cq_tail = (_Atomic uint32_t *)(void *)(c8 + p.cq_off.tail);
	t->t_cq_mask = *(uint32_t *)(void *)(c8 + p.cq_off.ring_mask);
	t->t_cqes = (struct io_uring_cqe *)(void *)(c8 + p.cq_off.cqes);
	/* Slot i of the submission queue always names entry i. */
	for (uint32_t i = 0; i < p.sq_entries; i++)
		array[i] = i;
	/* The ring reads and writes, nothing else: a request of any other
	 * kind (open, connect, ...) is refused by the kernel, whatever
	 * lands in the queue. Then it is enabled (and this thread becomes
	 * its only submitter). */
	struct io_uring_restriction rs[2];
	memset(rs, 0, sizeof(rs));
	rs[0].opcode = IORING_RESTRICTION_SQE_OP;
	rs[0].sqe_op = IORING_OP_READ;
	rs[1].opcode = IORING_RESTRICTION_SQE_OP;
	rs[1].sqe_op = IORING_OP_WRITE;
	if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_RESTRICTIONS, rs, 2) < 0 ||
	    syscall(__NR_io_uring_register, fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		goto fail;
	t->t_fd = fd;
	return 0;
fail:
	log_warn("net", "router: io_uring set up but not usable (%s): one system call per TAP frame",
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	tapio_free(t);
	return 0;
}

void
tapio_free(struct tapio *t)
{
	uint64_t enters = t->t_enters;	/* a count of the whole run */

	if (t->t_sqes)
		munmap(t->t_sqes, t->t_sqes_len);
	if (t->t_cq_map)
		munmap(t->t_cq_map, t->t_cq_map_len);
	if (t->t_sq_map)
		munmap(t->t_sq_map, t->t_sq_map_len);
	if (t->t_fd >= 0)
		close(t->t_fd);
	memset(t, 0, sizeof(*t));
	t->t_fd = -1;
	t->t_enters = enters;
}

bool
tapio_uses_uring(const struct tapio *t)
{
	return t->t_fd >= 0;
}

/* Queues n requests (op, fds[i], bufs[i], lens[i]); submits them, waits
 * for all n completions (inline: the fds are non-blocking) and puts
 * each result into res[i] (bytes, or -errno). false: the ring failed
 * (nothing of this batch is in flight then); the caller falls back. */
static bool
uring_run(struct tapio *t, uint8_t op, const int *fds, uint8_t *const *bufs,
	  const uint32_t *lens, int32_t *res, unsigned n)
{
	struct io_uring_sqe *sqes = t->t_sqes;
	uint32_t tail = atomic_load_explicit(t->t_sq_tail, memory_order_relaxed);

	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *e = &sqes[(tail + i) & t->t_sq_mask];
		memset(e, 0, sizeof(*e));
		e->opcode = op;
		e->fd = fds[i];
		e->addr = (uint64_t)(uintptr_t)bufs[i];
		e->len = lens[i];
		e->off = (uint64_t)-1;		/* the file position: none for a TAP */
		/* -EAGAIN when the queue is empty (or, writing, no memory
		 * now), as read(2)/write(2) on the non-blocking fd: without
		 * it io_uring would wait for the fd to become ready */
		e->rw_flags = RWF_NOWAIT;
		e->user_data = i;
		res[i] = -ECANCELED;
	}
	atomic_store_explicit(t->t_sq_tail, tail + n, memory_order_release);

	unsigned done = 0;
	unsigned to_submit = n;
	while (done < n) {
		int rc = uring_enter(t->t_fd, to_submit, n - done);
		if (rc < 0 && errno == ETIME)
			return false;	/* requests in flight: the caller closes the ring */
		if (rc < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
			return false;
		if (rc > 0)
			to_submit -= (unsigned)rc < to_submit ? (unsigned)rc : to_submit;
		uint32_t head = atomic_load_explicit(t->t_cq_head, memory_order_relaxed);
		uint32_t ctail = atomic_load_explicit(t->t_cq_tail, memory_order_acquire);
		for (; head != ctail; head++) {
			const struct io_uring_cqe *c = &t->t_cqes[head & t->t_cq_mask];
			if (c->user_data < n) {
				res[c->user_data] = c->res;
				done++;
			}
		}
		atomic_store_explicit(t->t_cq_head, head, memory_order_release);
	}
	t->t_enters++;
	return true;
}

/* The fallback: the same requests, one system call each. */
static void
syscall_run(uint8_t op, const int *fds, uint8_t *const *bufs, const uint32_t *lens,
	    int32_t *res, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ssize_t rc = op == IORING_OP_READ ? read(fds[i], bufs[i], lens[i]) :
			     write(fds[i], bufs[i], lens[i]);
		res[i] = rc < 0 ? -errno : (int32_t)rc;
		/* a read that found the queue empty: the rest would too */
		if (op == IORING_OP_READ && rc < 0) {
			for (unsigned k = i + 1; k < n; k++)
				res[k] = -EAGAIN;
			return;
		}
	}
}

static void
run_batch(struct tapio *t, uint8_t op, const int *fds, uint8_t *const *bufs,
	  const uint32_t *lens, int32_t *res, unsigned n)
{
	if (n == 0)
		return;
	if (t->t_fd >= 0 && uring_run(t, op, fds, bufs, lens, res, n))
		return;
	if (t->t_fd >= 0) {
		/* Closing the ring cancels what is still in flight; a request
		 * that completed already is done again below (a frame read
		 * then is lost, one written is sent twice: only here). */
		log_warn("net", "router: io_uring_enter: %s; one system call per TAP frame from now",
			 strerror(errno));
		tapio_free(t);
	}
	syscall_run(op, fds, bufs, lens, res, n);
}

unsigned
tapio_read_batch(struct tapio *t, int fd, uint8_t *const *bufs, uint32_t cap, int32_t *res,
		 unsigned max)
{
	int fds[TAPIO_DEPTH];
	uint32_t lens[TAPIO_DEPTH];
	unsigned n = 0, frames = 0;
	/* The first round: what this fd gave last time, and a little more
	 * (its queue tends to hold about as much at each wakeup). */
	uint8_t *hint = fd >= 0 && fd < TAPIO_HINT_FDS ? &t->t_hint[fd] : NULL;
	unsigned round = hint && *hint ? *hint + TAPIO_READ_SLACK : TAPIO_READ_FIRST;

	if (max > TAPIO_DEPTH)
		max = TAPIO_DEPTH;
	for (unsigned i = 0; i < max; i++) {
		fds[i] = fd;
		lens[i] = cap;
	}
	while (n < max) {
		unsigned k = round < max - n ? round : max - n;
		bool full = true;
		run_batch(t, IORING_OP_READ, fds + n, bufs + n, lens + n, res + n, k);
		/* Within a round a frame may follow an -EAGAIN (it arrived
		 * between two reads): every slot says for itself. */
		for (unsigned i = 0; i < k; i++) {
			if (res[n + i] <= 0)
				full = false;
			else
				frames++;
		}
		n += k;
		if (!full)
			break;
		round *= 2;
	}
	if (hint)
		*hint = (uint8_t)(frames < TAPIO_DEPTH ? frames : TAPIO_DEPTH);
	return n;
}

bool
tapio_write(struct tapio *t, int fd, uint8_t *p, uint32_t len, uint8_t tag)
{
	if (t->t_nw == TAPIO_DEPTH)
		return false;
	t->t_wfd[t->t_nw] = fd;
	t->t_wbuf[t->t_nw] = p;
	t->t_wlen[t->t_nw] = len;
	t->t_wtag[t->t_nw] = tag;
	t->t_wframes[t->t_nw] = 1;
	t->t_nw++;
	return true;
}

void
tapio_resize(struct tapio *t, unsigned idx, uint32_t len, unsigned frames)
{
	if (idx >= t->t_nw)
		return;
	t->t_wlen[idx] = len;
	t->t_wframes[idx] = (uint16_t)frames;
}

void
tapio_retarget(struct tapio *t, unsigned idx, uint8_t *p, uint32_t len, unsigned frames)
{
	if (idx >= t->t_nw)
		return;
	t->t_wbuf[idx] = p;
	t->t_wlen[idx] = len;
	t->t_wframes[idx] = (uint16_t)frames;
}

void
tapio_flush(struct tapio *t, uint64_t ok[TAPIO_TAGS], uint64_t *failed)
{
	int32_t *res = t->t_wres;

	run_batch(t, IORING_OP_WRITE, t->t_wfd, t->t_wbuf, t->t_wlen, res, t->t_nw);
	for (unsigned i = 0; i < t->t_nw; i++) {
		if (res[i] == (int32_t)t->t_wlen[i])
			ok[t->t_wtag[i]] += t->t_wframes[i];
		else
			*failed += t->t_wframes[i];
	}
	t->t_nw = 0;
}
