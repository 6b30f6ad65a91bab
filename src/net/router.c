/*
 * router — the virtual router's thread: one event loop (base/evloop.h)
 * over every ENI's TAP and every gateway port's fd, reading up to NET_BATCH frames per fd
 * per wakeup (until EAGAIN: a TAP fd gives one frame per read), deciding
 * each with path.c and writing it where it goes. A busy fd is left, still
 * readable, after NET_BATCH frames: the others ready in the same wakeup
 * get theirs first (one instance cannot starve the rest).
 *
 * TAP I/O is batched (tapio.c): the reads of one TAP's batch go into the
 * kernel in one io_uring_enter(2), and the frames the batch sends to
 * ENIs are queued (eni_write) and written together at its end
 * (eni_flush) in another, instead of one read(2) and one write(2) per
 * frame; without io_uring the same calls make one system call per frame.
 * A frame larger than one MTU (a GSO frame: its copy costs far more than
 * its system call) is written at once, with what was queued before it,
 * so the receiving instance works on it while the batch goes on.
 * A queued frame's buffer (and the header room before it) is not touched
 * again until the flush; a path that writes directly (software TSO into
 * r_segs) flushes the queue first, so frames to one TAP keep their order.
 *
 * Offloads: a TAP opened with IFF_VNET_HDR gives (and takes) a
 * virtio_net_hdr before each frame, and its frames may be 64 KB GSO TCP
 * frames with a partial checksum: one read and one write then move up to
 * 44 MSS-sized segments. Each frame buffer leaves VNET_HDR_MAX bytes of
 * room in front, so a header is read and written in place with the frame
 * (one read(2), one write(2), no copy, no writev needed). ENI -> ENI with
 * headers on both: the header goes on unchanged. Towards a port or a
 * plain ENI: offload.c completes the checksum or cuts the frame into
 * segments (into r_segs, flushed to ports when full), then the NAT.
 * The inverse, towards an ENI with headers: a batch's consecutive UDP
 * datagrams of one flow go as one UDP train (offload.c), its TCP
 * segments of one flow (from a port's ring above all) as one TCP train
 * (base/gso.h's gso_tcp_train_*), one GSO frame and one write each.
 *
 * Ring ports (a VPN gateway in the same process, base/ring.h): packets
 * to it are copied into the ring's slots with the router's decision (the
 * connection its own routes chose) and the facts it parsed, a batch
 * published with one store; packets from it are decided in place in the
 * ring's slots (their headroom takes the Ethernet and virtio_net_hdr
 * headers) and written to the ENI's TAP from there. The ring's eventfd
 * is written only while the loop sleeps: in the loop's prepare hook,
 * right before it waits, the router tells each ring it sleeps
 * (ring_sleep_prepare) and says "do not block" when one has packets; in
 * its check hook, after the fds of every round, every ring port is
 * looked at.
 *
 * The snapshot is swapped RCU-style: net_router_apply() publishes the new
 * pointer, then waits for a quiescent state — the prepare hook bumps
 * r_epoch as the last thing before the loop waits, and a round's
 * snapshot is loaded only after the wait (round_snap) and dropped in the
 * next prepare, so none is held across the bump — and the old one is
 * freed only when no batch can still read it. The same hook, seeing a
 * new snapshot before it bumps, makes the loop watch exactly its fds
 * (router_watch_fds), so the fds an apply removed are out of the loop
 * when it returns and the caller may close them. The loop takes no lock
 * and allocates nothing; counters are per-batch sums added to relaxed
 * atomics, so another thread reads whole values without stopping it.
 * The connection table belongs to the loop thread alone and outlives
 * snapshots (flows survive rule changes; new flows see new rules).
 */
#include "net/net_int.h"

#include "base/base.h"
#include "base/evloop.h"
#include "base/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define ROUTER_IDLE_WAIT_MS	1000	/* longest wait of a round; affects nothing but latency of stop */
#define ROUTER_DEFAULT_MAC	{ 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01 }
#define ROUTER_FRAME_OFF	VNET_HDR_MAX	/* room for a virtio_net_hdr before each frame */
#define ROUTER_BUF_SIZE		((ROUTER_FRAME_OFF + NET_GSO_FRAME_MAX + 63) & ~63u)
#define ROUTER_SEGS		64	/* software-TSO segments queued for ports per flush */
#define ROUTER_OUT_MAX		(NET_BATCH + ROUTER_SEGS)
#define ROUTER_WRITE_NOW	NET_FRAME_MAX	/* a frame larger than this is written at once */

struct port_out {
	uint32_t po_gw;
	uint8_t *po_pkt;
	uint32_t po_len;
	struct ring_meta po_meta;	/* ring ports: decision and facts */
};

/* A ring slot holds a packet of one MTU with room for the endpoint's ESP
 * header before it and its trailer after it, and for our Ethernet and
 * virtio_net_hdr headers before a packet the endpoint put there. */
_Static_assert(RING_SLOT_BYTES >= RING_HEADROOM + NET_PKT_MAX + 64, "ring slot too small");
_Static_assert(RING_HEADROOM >= ETH_HLEN_ + VNET_HDR_MAX, "ring headroom too small");

struct net_router {
	uint8_t r_mac[6];
	_Atomic(struct net_snapshot *) r_snap;
	pthread_mutex_t r_apply_lock;
	_Atomic uint64_t r_epoch;		/* bumped right before each wait */
	atomic_bool r_running;
	atomic_bool r_stop;
	pthread_t r_thread;
	struct evloop *r_loop;			/* its wakeup: any thread */

	/* loop thread only */
	const struct net_snapshot *r_round;	/* this round's, once loaded */
	bool r_round_loaded;
	const struct net_snapshot *r_watch_snap;	/* whose fds the loop watches */
	uint8_t *r_watched;			/* per fd: watched */
	uint32_t r_watch_cap;
	struct batch_counts *r_bc;		/* this round's sums */
	struct conntrack r_ct;
	struct nat_table r_nat;			/* r_ct.ct_nat points here */
	uint8_t *r_bufs;			/* NET_BATCH x ROUTER_BUF_SIZE */
	uint32_t r_lens[NET_BATCH];
	struct port_out r_out[ROUTER_OUT_MAX];
	unsigned r_nout;
	uint8_t (*r_segs)[NET_FRAME_MAX];	/* ROUTER_SEGS software-TSO segments */
	unsigned r_nsegs;
	struct tapio r_io;			/* TAP reads and writes in batches */
	bool r_syscall_io;			/* config: no io_uring */
	/* the UDP train open in this batch (ut_frame NULL: none): its
	 * write is queued in r_io at r_train_widx, to r_train_fd */
	struct udp_train r_train;
	unsigned r_train_widx;
	int r_train_fd;
	uint8_t r_train_hl;
	bool r_trains;				/* UDP trains on (see net_router_config) */
	/* the TCP train open in this batch (gtt_len 0: none): its first
	 * frame's write is queued at r_tt_widx to r_tt_fd; from a second
	 * segment on it lives in r_tt_buf (VNET_HDR_MAX bytes of room in
	 * front), so a train of more than one is written before the next
	 * starts (r_tt_queued: its write's index until then, else -1) */
	struct gso_tcp_train r_tt;
	uint8_t *r_tt_mem;			/* VNET_HDR_MAX + NET_GSO_FRAME_MAX */
	uint8_t *r_tt_buf;			/* r_tt_mem + VNET_HDR_MAX */
	unsigned r_tt_widx;
	int r_tt_queued;
	int r_tt_fd;
	uint8_t r_tt_hl;
	bool r_tcp_on;				/* TCP trains on (see net_router_config) */

	/* counters: written by the loop, read by anyone */
	_Atomic uint64_t r_drops[NET_DROP_MAX];
	_Atomic uint64_t r_rx, r_tx, r_port_rx, r_port_tx, r_arp_replies, r_arp_ignored;
	_Atomic uint64_t r_ct_live, r_ct_evictions, r_snapshots;
	_Atomic uint64_t r_gso_rx, r_sw_segments, r_frag_evictions;
	_Atomic uint64_t r_nat_live, r_nat_refused;
	_Atomic uint64_t r_tap_batches;
	_Atomic uint64_t r_sheds, r_shed_ms;
	_Atomic bool r_shed_active;
	_Atomic int r_shed_nice_pub;		/* r_shed_nice, for the counters */
	/* overload shedding (router_shed; loop thread only): the nice value
	 * while shedding (0: off), whether shedding now, the window's start
	 * and its TAP batches (all, full), overloaded or calm windows in a row */
	int r_shed_nice;
	int r_base_nice;			/* the thread's nice value outside spells */
	int (*r_set_nice)(void *arg, pid_t tid, int nice, bool wait);	/* NULL: setpriority */
	void *r_set_nice_arg;
	pid_t r_tid;
	bool r_shedding;
	uint64_t r_win_start;
	uint32_t r_win_reads, r_win_full;
	unsigned r_over, r_calm;
	/* the spell's probe: its start (ms), the thread's CPU and run-queue
	 * ns then (r_schedstat: /proc/thread-self/schedstat, -1: none); no
	 * spell before r_shed_after (ms) once one was withdrawn,
	 * r_shed_backoff apart */
	int r_schedstat;
	uint64_t r_probe_start, r_probe_cpu, r_probe_wait;
	unsigned r_starved;			/* starved probes in a row */
	uint64_t r_shed_after, r_shed_backoff;
	_Atomic uint64_t r_shed_withdrawn;
	_Atomic uint64_t r_udp_trains, r_udp_train_frames;
	_Atomic uint64_t r_tcp_trains, r_tcp_train_segments;
};

/* Per-batch sums, added to the atomics once per batch. */
struct batch_counts {
	uint64_t drops[NET_DROP_MAX];
	uint64_t rx, tx, port_rx, port_tx, arp_replies, arp_ignored;
	uint64_t gso_rx, sw_segments;
	uint64_t udp_trains, udp_train_frames;
	uint64_t tcp_trains, tcp_train_segments;
	uint32_t eni_reads, eni_full;		/* TAP batches read, those that came back full */
};

static const char *const drop_names[NET_DROP_MAX] = {
	[NET_DROP_BAD_FRAME] = "bad-frame",
	[NET_DROP_UNSUPPORTED] = "unsupported",
	[NET_DROP_SRC_DST_CHECK] = "src-dst-check",
	[NET_DROP_NACL_OUT] = "nacl-out",
	[NET_DROP_SG_EGRESS] = "sg-egress",
	[NET_DROP_NO_ROUTE] = "no-route",
	[NET_DROP_BLACKHOLE] = "blackhole",
	[NET_DROP_NO_ENI] = "no-eni",
	[NET_DROP_NACL_IN] = "nacl-in",
	[NET_DROP_SG_INGRESS] = "sg-ingress",
	[NET_DROP_NO_PORT] = "no-port",
	[NET_DROP_NO_PUBLIC_IP] = "no-public-ip",
	[NET_DROP_TX_ERROR] = "tx-error",
	[NET_DROP_FRAGMENT] = "fragment",
	[NET_DROP_NAT_NO_MAPPING] = "nat-no-mapping",
	[NET_DROP_NAT_REFUSED] = "nat-refused",
	[NET_DROP_PORT_FULL] = "port-full",
};

const char *
net_drop_name(enum net_drop why)
{
	return (unsigned)why < NET_DROP_MAX ? drop_names[why] : "?";
}

/* --- the fd port ------------------------------------------------------------ */

static unsigned
fd_port_tx(void *arg, uint8_t *const *pkts, const uint32_t *lens, unsigned n)
{
	int fd = (int)(intptr_t)arg;
	unsigned sent = 0;

	for (unsigned i = 0; i < n; i++)
		if (write(fd, pkts[i], lens[i]) == (ssize_t)lens[i])
			sent++;
	return sent;
}

static unsigned
fd_port_rx(void *arg, uint8_t *const *bufs, uint32_t *lens, unsigned max)
{
	int fd = (int)(intptr_t)arg;
	unsigned n = 0;

	while (n < max) {
		ssize_t got = read(fd, bufs[n], NET_PKT_MAX);
		if (got <= 0)
			break;
		lens[n++] = (uint32_t)got;
	}
	return n;
}

const struct net_port_ops net_port_fd_ops = { fd_port_tx, fd_port_rx };

/* --- the loop ------------------------------------------------------------------ */

/* The frame of buffer i; ROUTER_FRAME_OFF bytes before it are free. */
static uint8_t *
frame_at(const struct net_router *r, unsigned i)
{
	return r->r_bufs + (size_t)i * ROUTER_BUF_SIZE + ROUTER_FRAME_OFF;
}

/* The translations a verdict asks for, on the IPv4 packet parsed into m
 * (complete checksums: the updates are incremental). */
static void
verdict_rewrite(uint8_t *f, struct pkt_meta *m, const struct verdict *v)
{
	if (v->v_nat_src)
		ipv4_rewrite_src(f, m, v->v_nat_src);
	if (v->v_nat_dst)
		ipv4_rewrite_dst(f, m, v->v_nat_dst);
	if (v->v_nat_sport_set)
		l4_rewrite_sport(f, m, v->v_nat_sport);
	if (v->v_nat_dport_set)
		l4_rewrite_dport(f, m, v->v_nat_dport);
	if (v->v_nat_inner_sport_set)
		l4_rewrite_inner_sport(f, m, v->v_nat_inner_sport);
}

static bool
verdict_rewrites(const struct verdict *v)
{
	return v->v_nat_src || v->v_nat_dst || v->v_nat_sport_set || v->v_nat_dport_set ||
	       v->v_nat_inner_sport_set;
}

/* n packets into gateway w's ring, one slot each: what does not fit is
 * dropped and counted (port-full); one publish for the lot. */
static void
ring_port_tx(const struct snap_gw *w, uint8_t *const *pkts, const uint32_t *lens,
	     const struct ring_meta *metas, unsigned n, struct batch_counts *bc)
{
	struct ring_slot *slots[ROUTER_OUT_MAX];
	unsigned got = ring_reserve(w->w_ring_out, slots, n);

	for (unsigned i = 0; i < got; i++) {
		slots[i]->rs_off = RING_HEADROOM;
		slots[i]->rs_len = lens[i];
		slots[i]->rs_meta = metas[i];
		memcpy(slots[i]->rs_buf + RING_HEADROOM, pkts[i], lens[i]);
	}
	ring_commit(w->w_ring_out, got, n - got);
	bc->port_tx += got;
	bc->drops[NET_DROP_PORT_FULL] += n - got;
}

static void
ports_flush(struct net_router *r, const struct net_snapshot *s, struct batch_counts *bc)
{
	uint8_t *pkts[ROUTER_OUT_MAX];
	uint32_t lens[ROUTER_OUT_MAX];
	struct ring_meta metas[ROUTER_OUT_MAX];

	/* Group by gateway: O(n * gateways in the batch), n <= ROUTER_OUT_MAX. */
	while (r->r_nout > 0) {
		uint32_t gw = r->r_out[0].po_gw;
		unsigned n = 0, keep = 0;

		for (unsigned i = 0; i < r->r_nout; i++) {
			if (r->r_out[i].po_gw == gw) {
				pkts[n] = r->r_out[i].po_pkt;
				metas[n] = r->r_out[i].po_meta;
				lens[n++] = r->r_out[i].po_len;
			} else {
				r->r_out[keep++] = r->r_out[i];
			}
		}
		r->r_nout = keep;
		const struct snap_gw *w = &s->gws[gw];
		if (w->w_ring_out) {
			ring_port_tx(w, pkts, lens, metas, n, bc);
			continue;
		}
		unsigned sent = w->w_ops->tx(w->w_arg, pkts, lens, n);
		if (sent > n)
			sent = n;
		bc->port_tx += sent;
		bc->drops[NET_DROP_TX_ERROR] += n - sent;
	}
	r->r_nsegs = 0;
}

/* Ends the open UDP train: a train of one is the frame as it was queued;
 * a longer one becomes a GSO frame with its header, and its queued write
 * grows to it (counted as the datagrams it carries). The same for the
 * open TCP train, whose queued write then takes r_tt_buf: true when it
 * did (r_tt_buf is in use until the next eni_flush). */
static bool
train_close(struct net_router *r, struct batch_counts *bc)
{
	struct udp_train *t = &r->r_train;
	bool tcp_queued = false;

	(void)bc;
	if (t->ut_frame) {
		if (t->ut_segs > 1) {
			struct vnet_hdr h;
			udp_train_finish(t, &h);
			vnet_hdr_write(t->ut_frame - r->r_train_hl, r->r_train_hl, &h);
			tapio_resize(&r->r_io, r->r_train_widx, r->r_train_hl + t->ut_len, t->ut_segs);
		}
		t->ut_frame = NULL;
	}
	if (r->r_tt.gtt_len) {
		uint16_t n = r->r_tt.gtt_n;
		uint32_t len;
		struct vnet_hdr h;
		(void)gso_tcp_train_finish(&r->r_tt, &len, &h);
		if (n > 1) {
			uint8_t *f = r->r_tt_buf - r->r_tt_hl;
			vnet_hdr_write(f, r->r_tt_hl, &h);
			tapio_retarget(&r->r_io, r->r_tt_widx, f, r->r_tt_hl + len, n);
			r->r_tt_queued = (int)r->r_tt_widx;
			tcp_queued = true;
		}
	}
	return tcp_queued;
}

/* Writes the frames queued for ENIs (eni_write) and counts them. */
static void
eni_flush(struct net_router *r, struct batch_counts *bc)
{
	uint64_t ok[TAPIO_TAGS] = { 0 };
	uint64_t failed = 0;

	train_close(r, bc);
	unsigned n = r->r_io.t_nw;
	if (n == 0)
		return;
	tapio_flush(&r->r_io, ok, &failed);
	/* The trains: counted when written; one the TAP refuses (a kernel
	 * that takes no UDP GSO frame from a TAP) turns them off for good,
	 * and its datagrams count as failed writes. The same for a TCP
	 * train (which every kernel's TAP takes). */
	int tcp = r->r_tt_queued;
	r->r_tt_queued = -1;
	for (unsigned i = 0; i < n; i++) {
		if (r->r_io.t_wframes[i] < 2)
			continue;
		if ((int)i == tcp) {
			if (r->r_io.t_wres[i] == (int32_t)r->r_io.t_wlen[i]) {
				bc->tcp_trains++;
				bc->tcp_train_segments += r->r_io.t_wframes[i];
			} else if (r->r_io.t_wres[i] == -EINVAL && r->r_tcp_on) {
				r->r_tcp_on = false;
				log_warn("net", "router: a TAP refused a TCP GSO frame: TCP segments "
					 "written one by one from now");
			}
			continue;
		}
		if (r->r_io.t_wres[i] == (int32_t)r->r_io.t_wlen[i]) {
			bc->udp_trains++;
			bc->udp_train_frames += r->r_io.t_wframes[i];
		} else if (r->r_io.t_wres[i] == -EINVAL && r->r_trains) {
			r->r_trains = false;
			log_warn("net", "router: a TAP refused a UDP GSO frame: UDP datagrams "
				 "written one by one from now");
		}
	}
	bc->tx += ok[TAPIO_TAG_TX];
	bc->arp_replies += ok[TAPIO_TAG_ARP];
	bc->drops[NET_DROP_TX_ERROR] += failed;
}

/* Queues the frame at f (len bytes) for ENI e, behind the header h (NULL:
 * none, i.e. zeroes) when its TAP takes one; it is written (and counted
 * as tag says) at the next eni_flush, which every batch ends with: f and
 * the header room before it stay untouched until then. */
static void
eni_write(struct net_router *r, const struct snap_eni *e, uint8_t *f, uint32_t len,
	  const struct vnet_hdr *h, uint8_t tag, struct batch_counts *bc)
{
	static const struct vnet_hdr none;
	uint32_t hl = e->e_vnet_hdr;

	/* a write that did not join the open train ends it: what follows
	 * on that fd goes after it, in order; a TCP train of more than one
	 * goes now (its buffer is the next train's) */
	if (train_close(r, bc))
		eni_flush(r, bc);
	if (hl)
		vnet_hdr_write(f - hl, hl, h ? h : &none);
	if (!tapio_write(&r->r_io, e->e_fd, f - hl, hl + len, tag)) {
		eni_flush(r, bc);
		(void)tapio_write(&r->r_io, e->e_fd, f - hl, hl + len, tag);
	}
	/* A large (GSO) frame costs its copy, not its system call: it goes
	 * at once (with what was queued before it) rather than waiting for
	 * the rest of the batch, so the receiver works on it meanwhile. */
	if (len > ROUTER_WRITE_NOW)
		eni_flush(r, bc);
}

/* How a TCP segment that came with header vh (NULL: none) may be in a
 * train, as far as its checksum goes: -1 not (a GSO frame, a partial
 * checksum elsewhere than TCP's field); 0 its checksum is complete and
 * must verify; 1 partial at TCP's field (gso_tcp_train_eligible checks
 * it holds the pseudo header's sum). */
static int
tcp_train_csum(const struct pkt_meta *m, const struct vnet_hdr *vh)
{
	if (!vh)
		return 0;
	if (vh->vh_gso_type != VNET_GSO_NONE)
		return -1;
	if (!(vh->vh_flags & VNET_F_NEEDS_CSUM))
		return 0;
	return vh->vh_csum_start == m->pm_l4_off && vh->vh_csum_offset == 16 ? 1 : -1;
}

/* To ENI d: MACs rewritten; vh is the header the frame came with (NULL:
 * none, the frame is complete and at most one MTU). */
static void
to_eni(struct net_router *r, const struct net_snapshot *s, uint32_t d, uint8_t *frame,
       uint32_t len, const struct pkt_meta *m, const struct vnet_hdr *vh,
       struct batch_counts *bc)
{
	const struct snap_eni *de = &s->enis[d];

	memcpy(frame, de->e_mac, 6);
	memcpy(frame + 6, r->r_mac, 6);
	if (vh && !de->e_vnet_hdr) {
		/* A plain TAP takes complete frames of one MTU. */
		if ((vh->vh_gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE) {
			struct gso_tcp_iter it;
			uint32_t sl;
			if (!tso_init(&it, frame, m, vh->vh_gso_size)) {
				bc->drops[NET_DROP_BAD_FRAME]++;
				return;
			}
			eni_flush(r, bc);	/* the frames queued before go first */
			/* r_segs may hold segments waiting for a port */
			ports_flush(r, s, bc);
			while ((sl = gso_tcp_next(&it, r->r_segs[0])) > 0) {
				bc->sw_segments++;
				if (write(de->e_fd, r->r_segs[0], sl) == (ssize_t)sl)
					bc->tx++;
				else
					bc->drops[NET_DROP_TX_ERROR]++;
			}
			return;
		}
		vnet_csum_complete(frame, m, vh);
		vh = NULL;
	}
	/* A UDP datagram with a partial checksum (vh: a frame of ours, read
	 * into r_bufs, whose slot has room for a whole GSO frame) joins the
	 * train to the same ENI, or queues and starts one. */
	bool train = r->r_trains && vh && de->e_vnet_hdr && len <= ROUTER_WRITE_NOW &&
		     udp_train_eligible(frame, m, vh);
	if (train && r->r_train.ut_frame && r->r_train_fd == de->e_fd &&
	    udp_train_append(&r->r_train, frame, m))
		return;
	/* A TCP segment of one MTU (from a port's ring or an instance), its
	 * checksum complete and verified or partial and known good, joins
	 * the TCP train to the same ENI, or queues and starts one. */
	int csum = r->r_tcp_on && de->e_vnet_hdr && len <= ROUTER_WRITE_NOW &&
		   m->pm_proto == IPPROTO_TCP_ ? tcp_train_csum(m, vh) : -1;
	bool tcp = csum >= 0 && gso_tcp_train_eligible(frame, m->pm_l3_off, len, csum == 1);
	if (tcp && r->r_tt.gtt_len && r->r_tt_fd == de->e_fd &&
	    gso_tcp_train_append(&r->r_tt, frame, m->pm_l3_off, len))
		return;
	eni_write(r, de, frame, len, vh, TAPIO_TAG_TX, bc);
	if (train) {
		udp_train_start(&r->r_train, frame, m);
		r->r_train_widx = r->r_io.t_nw - 1;
		r->r_train_fd = de->e_fd;
		r->r_train_hl = de->e_vnet_hdr;
	} else if (tcp) {
		gso_tcp_train_start(&r->r_tt, r->r_tt_buf, frame, m->pm_l3_off, len);
		r->r_tt_widx = r->r_io.t_nw - 1;
		r->r_tt_fd = de->e_fd;
		r->r_tt_hl = de->e_vnet_hdr;
	}
}

/* To ENI v->v_index with the verdict's translations (a private NAT
 * gateway's flows inside the VPC): a GSO frame is cut and each segment
 * translated; a partial checksum is completed first. */
static void
to_eni_rewritten(struct net_router *r, const struct net_snapshot *s, const struct verdict *v, uint8_t *f,
		 struct pkt_meta *m, const struct vnet_hdr *vh, struct batch_counts *bc)
{
	const struct snap_eni *de = &s->enis[v->v_index];

	if (vh && (vh->vh_gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE) {
		struct gso_tcp_iter it;
		uint32_t sl;
		if (!tso_init(&it, f, m, vh->vh_gso_size)) {
			bc->drops[NET_DROP_BAD_FRAME]++;
			return;
		}
		eni_flush(r, bc);	/* the frames queued before go first */
		ports_flush(r, s, bc);	/* r_segs may hold segments waiting for a port */
		while ((sl = gso_tcp_next(&it, r->r_segs[0])) > 0) {
			uint8_t *seg = r->r_segs[0];
			struct pkt_meta sm;
			bc->sw_segments++;
			if (ipv4_parse(seg, sl, ETH_HLEN_, &sm) != FRAME_IPV4) {
				bc->drops[NET_DROP_BAD_FRAME]++;
				continue;
			}
			verdict_rewrite(seg, &sm, v);
			memcpy(seg, de->e_mac, 6);
			memcpy(seg + 6, r->r_mac, 6);
			/* the segment buffer has no room in front: a header-less write */
			if (de->e_vnet_hdr) {
				uint8_t tmp[VNET_HDR_MAX + NET_FRAME_MAX];
				vnet_hdr_write(tmp, de->e_vnet_hdr, &(struct vnet_hdr){ 0 });
				memcpy(tmp + de->e_vnet_hdr, seg, sl);
				if (write(de->e_fd, tmp, de->e_vnet_hdr + sl) == (ssize_t)(de->e_vnet_hdr + sl))
					bc->tx++;
				else
					bc->drops[NET_DROP_TX_ERROR]++;
			} else if (write(de->e_fd, seg, sl) == (ssize_t)sl) {
				bc->tx++;
			} else {
				bc->drops[NET_DROP_TX_ERROR]++;
			}
		}
		return;
	}
	if (vh)
		vnet_csum_complete(f, m, vh);
	verdict_rewrite(f, m, v);
	to_eni(r, s, v->v_index, f, (uint32_t)m->pm_l3_off + m->pm_ip_len, m, NULL, bc);
}

/* What a ring port's consumer needs of the IPv4 packet at ip, parsed
 * into m (lengths checked by ipv4_parse): the verdict's connection and
 * the facts, so that it neither routes nor parses again. */
static void
port_meta(const struct verdict *v, const uint8_t *ip, const struct pkt_meta *m,
	  struct ring_meta *out)
{
	out->rm_conn = v->v_conn;
	out->rm_tunnel = v->v_tunnel;
	out->rm_proto = m->pm_proto;
	out->rm_hlen = (uint8_t)((ip[0] & 0x0f) * 4);
	out->rm_flags = RING_F_PARSED;
	if (ip[6] & 0x40)
		out->rm_flags |= RING_F_DF;
	if (m->pm_frag != PM_FRAG_NONE)
		out->rm_flags |= RING_F_FRAGMENT;
	/* ipv4_parse checked the TCP header to its data offset when it set
	 * the flags (unfragmented or first fragment) */
	if (m->pm_proto == IPPROTO_TCP_ && m->pm_l4_off && (m->pm_tcp_flags & 0x02))
		out->rm_flags |= RING_F_TCP_SYN;
}

static void
port_queue(struct net_router *r, const struct net_snapshot *s, const struct verdict *v,
	   uint8_t *pkt, const struct pkt_meta *m, struct batch_counts *bc)
{
	if (r->r_nout == ROUTER_OUT_MAX)
		ports_flush(r, s, bc);
	struct port_out *o = &r->r_out[r->r_nout++];
	o->po_gw = v->v_index;
	o->po_pkt = pkt;
	o->po_len = m->pm_ip_len;
	if (s->gws[v->v_index].w_ring_out)
		port_meta(v, pkt, m, &o->po_meta);
}

/* To a port: plain IPv4 packets of one MTU, so a GSO frame is cut here
 * and a partial checksum completed, before the NAT (whose incremental
 * update needs a complete checksum). */
static void
to_port(struct net_router *r, const struct net_snapshot *s, const struct verdict *v,
	uint8_t *f, struct pkt_meta *m, const struct vnet_hdr *vh, struct batch_counts *bc)
{
	if (vh && (vh->vh_gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE) {
		struct gso_tcp_iter it;
		if (!tso_init(&it, f, m, vh->vh_gso_size)) {
			bc->drops[NET_DROP_BAD_FRAME]++;
			return;
		}
		for (;;) {
			if (r->r_nsegs == ROUTER_SEGS)
				ports_flush(r, s, bc);
			uint8_t *seg = r->r_segs[r->r_nsegs];
			struct pkt_meta sm;
			uint32_t sl = gso_tcp_next(&it, seg);
			if (sl == 0)
				break;
			bc->sw_segments++;
			if (ipv4_parse(seg, sl, ETH_HLEN_, &sm) != FRAME_IPV4) {
				bc->drops[NET_DROP_BAD_FRAME]++;
				continue;
			}
			r->r_nsegs++;
			verdict_rewrite(seg, &sm, v);
			port_queue(r, s, v, seg + ETH_HLEN_, &sm, bc);
		}
		return;
	}
	if (vh)
		vnet_csum_complete(f, m, vh);
	if (m->pm_ip_len > NET_PKT_MAX) {
		bc->drops[NET_DROP_BAD_FRAME]++;	/* over one MTU and not GSO */
		return;
	}
	verdict_rewrite(f, m, v);
	port_queue(r, s, v, f + m->pm_l3_off, m, bc);
}

static void
eni_rx(struct net_router *r, const struct net_snapshot *s, uint32_t eni, uint64_t now,
       struct batch_counts *bc)
{
	const struct snap_eni *e = &s->enis[eni];
	uint32_t hl = e->e_vnet_hdr;
	uint32_t cap = hl ? NET_GSO_FRAME_MAX : NET_FRAME_MAX;
	uint8_t *bufs[NET_BATCH];
	int32_t res[NET_BATCH];
	uint8_t got[NET_BATCH];		/* the slots that hold a frame */
	unsigned n = 0;

	for (unsigned i = 0; i < NET_BATCH; i++)
		bufs[i] = frame_at(r, i) - hl;
	unsigned used = tapio_read_batch(&r->r_io, e->e_fd, bufs, hl + cap, res, NET_BATCH);
	for (unsigned i = 0; i < used; i++) {
		if (res[i] <= 0)
			continue;
		if ((uint32_t)res[i] < hl) {	/* no room for the header: not a TAP frame */
			bc->rx++;
			bc->drops[NET_DROP_BAD_FRAME]++;
			continue;
		}
		r->r_lens[i] = (uint32_t)res[i] - hl;
		got[n++] = (uint8_t)i;
	}
	bc->rx += n;
	bc->eni_reads++;
	if (n == NET_BATCH)
		bc->eni_full++;
	for (unsigned j = 0; j < n; j++) {
		unsigned i = got[j];
		uint8_t *f = frame_at(r, i);
		struct pkt_meta m;
		struct verdict v;
		struct vnet_hdr vh;
		const struct vnet_hdr *vhp = NULL;

		if (j + 1 < n)
			__builtin_prefetch(frame_at(r, got[j + 1]));
		path_from_eni(s, &r->r_ct, r->r_mac, eni, f, r->r_lens[i], now, &m, &v);
		if (hl && (v.v_kind == V_TO_ENI || v.v_kind == V_TO_PORT)) {
			vnet_hdr_read(f - hl, &vh);
			if (!vnet_hdr_check(&vh, &m)) {
				bc->drops[NET_DROP_BAD_FRAME]++;
				continue;
			}
			vhp = &vh;
			if ((vh.vh_gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE)
				bc->gso_rx++;
		}
		switch (v.v_kind) {
		case V_DROP:
			bc->drops[v.v_drop]++;
			break;
		case V_IGNORE:
			bc->arp_ignored++;
			break;
		case V_ARP_REPLY: {
			/* sender hardware address at 22, protocol address in m */
			uint32_t l = arp_build_reply(f, r->r_mac, m.pm_dst, f + 22, m.pm_src);
			eni_write(r, e, f, l, NULL, TAPIO_TAG_ARP, bc);
			break;
		}
		case V_TO_ENI:
			if (verdict_rewrites(&v))
				to_eni_rewritten(r, s, &v, f, &m, vhp, bc);
			else
				to_eni(r, s, v.v_index, f, (uint32_t)m.pm_l3_off + m.pm_ip_len, &m, vhp, bc);
			break;
		case V_TO_PORT:
			to_port(r, s, &v, f, &m, vhp, bc);
			break;
		}
	}
	eni_flush(r, bc);
	ports_flush(r, s, bc);
}

/* One packet a gateway delivered: the IPv4 packet at f + ETH_HLEN_, len
 * bytes, with room before f for a virtio_net_hdr. */
static void
port_packet(struct net_router *r, const struct net_snapshot *s, uint32_t gw, uint8_t *f,
	    uint32_t len, uint64_t now, struct batch_counts *bc)
{
	struct pkt_meta m;
	struct verdict v;

	if (len > NET_PKT_MAX)
		len = NET_PKT_MAX;
	path_from_port(s, &r->r_ct, gw, f, ETH_HLEN_ + len, ETH_HLEN_, now, &m, &v);
	if (v.v_kind != V_TO_ENI) {
		bc->drops[v.v_kind == V_DROP ? v.v_drop : NET_DROP_UNSUPPORTED]++;
		return;
	}
	verdict_rewrite(f, &m, &v);
	f[12] = ETHERTYPE_IPV4_ >> 8;
	f[13] = ETHERTYPE_IPV4_ & 0xff;
	to_eni(r, s, v.v_index, f, ETH_HLEN_ + m.pm_ip_len, &m, NULL, bc);
}

static void
port_rx(struct net_router *r, const struct net_snapshot *s, uint32_t gw, uint64_t now,
	struct batch_counts *bc)
{
	const struct snap_gw *w = &s->gws[gw];
	uint8_t *bufs[NET_BATCH];

	for (unsigned i = 0; i < NET_BATCH; i++)
		bufs[i] = frame_at(r, i) + ETH_HLEN_;
	unsigned n = w->w_ops->rx(w->w_arg, bufs, r->r_lens, NET_BATCH);
	if (n > NET_BATCH)
		n = NET_BATCH;
	bc->port_rx += n;
	for (unsigned i = 0; i < n; i++)
		port_packet(r, s, gw, frame_at(r, i), r->r_lens[i], now, bc);
	eni_flush(r, bc);
}

/* A ring port: up to NET_BATCH packets decided in place in the ring's
 * slots (no copy), then handed back. */
static void
ring_port_rx(struct net_router *r, const struct net_snapshot *s, uint32_t gw, uint64_t now,
	     struct batch_counts *bc)
{
	struct ring *ring = s->gws[gw].w_ring_in;
	struct ring_slot *slots[NET_BATCH];
	unsigned n = ring_peek(ring, slots, NET_BATCH);

	bc->port_rx += n;
	for (unsigned i = 0; i < n; i++) {
		struct ring_slot *sl = slots[i];
		/* room for the headers before it, the packet within the slot */
		if (sl->rs_off < ETH_HLEN_ + VNET_HDR_MAX || sl->rs_off > RING_SLOT_BYTES ||
		    sl->rs_len > RING_SLOT_BYTES - sl->rs_off) {
			bc->drops[NET_DROP_BAD_FRAME]++;
			continue;
		}
		if (i + 1 < n)
			__builtin_prefetch(slots[i + 1]->rs_buf + slots[i + 1]->rs_off);
		port_packet(r, s, gw, sl->rs_buf + sl->rs_off - ETH_HLEN_, sl->rs_len, now, bc);
	}
	eni_flush(r, bc);	/* the slots are written from: before they go back */
	ring_release(ring, n);
}

static void
counts_publish(struct net_router *r, const struct batch_counts *bc)
{
	for (unsigned i = 0; i < NET_DROP_MAX; i++)
		if (bc->drops[i])
			atomic_fetch_add_explicit(&r->r_drops[i], bc->drops[i], memory_order_relaxed);
#define ADD(field, v) if (v) atomic_fetch_add_explicit(&r->field, v, memory_order_relaxed)
	ADD(r_rx, bc->rx);
	ADD(r_tx, bc->tx);
	ADD(r_port_rx, bc->port_rx);
	ADD(r_port_tx, bc->port_tx);
	ADD(r_arp_replies, bc->arp_replies);
	ADD(r_arp_ignored, bc->arp_ignored);
	ADD(r_gso_rx, bc->gso_rx);
	ADD(r_sw_segments, bc->sw_segments);
	ADD(r_udp_trains, bc->udp_trains);
	ADD(r_udp_train_frames, bc->udp_train_frames);
	ADD(r_tcp_trains, bc->tcp_trains);
	ADD(r_tcp_train_segments, bc->tcp_train_segments);
#undef ADD
	atomic_store_explicit(&r->r_ct_live, r->r_ct.ct_live, memory_order_relaxed);
	atomic_store_explicit(&r->r_ct_evictions, r->r_ct.ct_evictions, memory_order_relaxed);
	atomic_store_explicit(&r->r_frag_evictions, r->r_ct.ct_frag_evictions, memory_order_relaxed);
	atomic_store_explicit(&r->r_nat_live, r->r_nat.nt_live, memory_order_relaxed);
	atomic_store_explicit(&r->r_nat_refused, r->r_nat.nt_refused, memory_order_relaxed);
	atomic_store_explicit(&r->r_tap_batches, r->r_io.t_enters, memory_order_relaxed);
}

/* --- the loop ----------------------------------------------------------------- */

/* The snapshot this round works on: loaded at its first use after the
 * wait, held until the next prepare hook (never across the epoch bump). */
static inline const struct net_snapshot *
round_snap(struct net_router *r)
{
	if (!r->r_round_loaded) {
		r->r_round = atomic_load(&r->r_snap);
		r->r_round_loaded = true;
	}
	return r->r_round;
}

static void router_fd_ready(void *arg, int fd, uint32_t events, uint64_t now);

/* Makes the loop watch exactly the fds of s (its TAPs and ports; NULL:
 * none): adds the new, deletes the gone. A control-plane step, on the
 * loop's thread, only when the published snapshot changed; an fd the
 * kernel refuses is logged and tried again with the next snapshot. */
static void
router_watch_fds(struct net_router *r, const struct net_snapshot *s)
{
	uint32_t n = s ? s->n_fds : 0;

	if (n > r->r_watch_cap) {
		uint8_t *w = realloc(r->r_watched, n);
		if (!w) {
			log_error("net", "router: no memory to watch %u fds; tried again next round", n);
			return;
		}
		memset(w + r->r_watch_cap, 0, n - r->r_watch_cap);
		r->r_watched = w;
		r->r_watch_cap = n;
	}
	for (uint32_t fd = 0; fd < r->r_watch_cap; fd++) {
		bool want = fd < n && s->fds[fd].f_kind != FD_NONE;
		if (r->r_watched[fd] && !want) {
			/* the fd may be closed already: gone from epoll then */
			(void)evloop_del(r->r_loop, (int)fd);
			r->r_watched[fd] = 0;
		} else if (!r->r_watched[fd] && want) {
			int rc = evloop_add(r->r_loop, (int)fd, EPOLLIN, router_fd_ready, r);
			if (rc == 0)
				r->r_watched[fd] = 1;
			else
				log_warn("net", "watch fd %u: %s", fd, strerror(-rc));
		}
	}
	r->r_watch_snap = s;
}

/* The prepare hook, the last thing before the loop waits: the fds of a
 * new snapshot watched; ring ports told we sleep ("do not block" when one
 * has packets already); then the epoch bump. The snapshot loaded here is
 * not used after the bump (the rings themselves outlive every snapshot
 * that names them). */
static bool
router_prepare(void *arg)
{
	struct net_router *r = arg;
	bool may_block = true;
	const struct net_snapshot *s0 = atomic_load(&r->r_snap);

	if (s0 != r->r_watch_snap)
		router_watch_fds(r, s0);
	for (uint32_t k = 0; s0 && k < s0->n_ring_gws; k++)
		if (!ring_sleep_prepare(s0->gws[s0->ring_gws[k]].w_ring_in))
			may_block = false;
	r->r_round_loaded = false;
	/* Quiescent: no snapshot is held from here to round_snap's load. */
	atomic_fetch_add(&r->r_epoch, 1);
	return may_block;
}

static void
router_fd_ready(void *arg, int fd, uint32_t events, uint64_t now)
{
	struct net_router *r = arg;
	const struct net_snapshot *s = round_snap(r);

	(void)events;
	/* An fd no longer in the snapshot: only between an apply's swap and
	 * the next prepare hook, which stops watching it. */
	if (!s || fd < 0 || (uint32_t)fd >= s->n_fds)
		return;
	const struct snap_fd *sf = &s->fds[fd];
	if (sf->f_kind == FD_ENI)
		eni_rx(r, s, sf->f_index, now, r->r_bc);
	else if (sf->f_kind == FD_PORT && s->gws[sf->f_index].w_ring_in)
		ring_wake_clear(s->gws[sf->f_index].w_ring_in);	/* read in the check hook */
	else if (sf->f_kind == FD_PORT)
		port_rx(r, s, sf->f_index, now, r->r_bc);
}

/* Overload shedding. When most of the TAP batches the router reads come
 * back full (NET_BATCH frames: the senders' queues are never empty) for
 * SHED_AFTER windows in a row, the router cannot forward all that is
 * sent, and on a machine whose CPUs it shares with the instances it then
 * also takes the CPU the receiving instances need to drain what it
 * forwards: their sockets overflow and every frame dropped there cost a
 * read, a decision and a write for nothing. So while overloaded it
 * lowers its own thread's priority to nice r_shed_nice: whoever is
 * runnable on its CPU (a receiving instance above all) runs first, the
 * router takes the CPU left over, and the excess is dropped where it
 * costs least, at the sending instance's own TAP queue. SHED_CALM calm
 * windows in a row (an idle round counts as the windows it spans) give
 * it back the nice value it started with (0 unless vpcd was started
 * niced; a shedding nice value not above that one sheds nothing). TCP through the router rarely fills a batch (its
 * frames are 64 KB GSO frames), so bulk TCP never sheds.
 * Shedding helps only when what runs instead of the router is what
 * drains it: a receiver runs until its socket is empty and sleeps, so
 * the router still gets a good part of the time it is runnable (about
 * 40 % in bench/dataplane). When its CPU goes to processes that never
 * sleep (busy loops of nice 0), it gets its weight's share, under 10 %,
 * and forwards far less than the receivers could take. So every
 * SHED_PROBE_MS of a spell the thread's time on a CPU is compared with
 * its time runnable (/proc/thread-self/schedstat: run time and
 * run-queue wait; 34-43 % seen with receivers, 5-9 % beside one or two
 * busy loops): under SHED_SHARE_MIN_PCT in SHED_STARVED probes in a
 * row, the spell is withdrawn
 * (nice 0 again, counted) and none starts for SHED_BACKOFF_MIN_MS,
 * doubling with each withdrawal up to SHED_BACKOFF_MAX_MS (a spell that
 * ends calm resets it). Without schedstat there is no probe. Going back to
 * 0 needs privileges (vpcd's privileged helper does it for the router
 * thread, net_router_config.set_nice, from a thread of the engine's so
 * that the router never waits for the helper): router_loop tries both
 * ways once and turns shedding off, logged, when it cannot. */
#define SHED_WINDOW_MS	10	/* overload is judged per window of this long */
#define SHED_AFTER	3	/* overloaded windows in a row before shedding */
#define SHED_CALM	10	/* calm windows in a row before taking the CPU back */
#define SHED_PROBE_MS	50	/* a spell's CPU share is judged this often */
#define SHED_SHARE_MIN_PCT	15	/* of its runnable time on a CPU, or starved */
#define SHED_STARVED	2	/* starved probes in a row: withdrawn */
#define SHED_BACKOFF_MIN_MS	1000	/* no spell for this long after one withdrawn, */
#define SHED_BACKOFF_MAX_MS	32000	/* doubling up to this */

static int
set_nice(struct net_router *r, int nice, bool wait)
{
	if (r->r_set_nice)
		return r->r_set_nice(r->r_set_nice_arg, r->r_tid, nice, wait);
	return setpriority(PRIO_PROCESS, (id_t)r->r_tid, nice) < 0 ? -errno : 0;
}

static void
shed_set(struct net_router *r, bool on)
{
	int nice = on ? r->r_shed_nice : r->r_base_nice;
	int rc = set_nice(r, nice, false);

	if (rc < 0) {
		log_warn("net", "router: cannot set its nice value to %d (%s); no overload shedding from now on",
			 nice, strerror(-rc));
		r->r_shed_nice = 0;
		atomic_store_explicit(&r->r_shed_nice_pub, 0, memory_order_relaxed);
		return;
	}
	r->r_shedding = on;
	r->r_starved = 0;
	atomic_store_explicit(&r->r_shed_active, on, memory_order_relaxed);
	if (on)
		atomic_fetch_add_explicit(&r->r_sheds, 1, memory_order_relaxed);
}

/* The thread's ns on a CPU and waiting for one, so far; false: unknown. */
static bool
sched_times(struct net_router *r, uint64_t *cpu, uint64_t *wait)
{
	char buf[96];
	ssize_t n;

	if (r->r_schedstat < 0 || (n = pread(r->r_schedstat, buf, sizeof(buf) - 1, 0)) <= 0)
		return false;
	buf[n] = '\0';
	unsigned long long c, w;
	if (sscanf(buf, "%llu %llu", &c, &w) != 2)
		return false;
	*cpu = c;
	*wait = w;
	return true;
}

static void
probe_start(struct net_router *r, uint64_t now)
{
	r->r_probe_start = now;
	if (!sched_times(r, &r->r_probe_cpu, &r->r_probe_wait))
		r->r_probe_start = 0;
}

/* A spell's probe period is over: starved (its share of its runnable
 * time under SHED_SHARE_MIN_PCT), withdrawn and backed off. */
static void
shed_probe(struct net_router *r, uint64_t now)
{
	uint64_t cpu, wait;

	if (!r->r_probe_start || now - r->r_probe_start < SHED_PROBE_MS || !sched_times(r, &cpu, &wait))
		return;
	uint64_t dc = cpu - r->r_probe_cpu, dw = wait - r->r_probe_wait;
	probe_start(r, now);
	if (dc * 100 >= (dc + dw) * SHED_SHARE_MIN_PCT) {
		r->r_starved = 0;
		return;
	}
	if (++r->r_starved < SHED_STARVED)
		return;
	shed_set(r, false);
	atomic_fetch_add_explicit(&r->r_shed_withdrawn, 1, memory_order_relaxed);
	r->r_shed_backoff = r->r_shed_backoff ? r->r_shed_backoff * 2 : SHED_BACKOFF_MIN_MS;
	if (r->r_shed_backoff > SHED_BACKOFF_MAX_MS)
		r->r_shed_backoff = SHED_BACKOFF_MAX_MS;
	r->r_shed_after = now + r->r_shed_backoff;
	r->r_over = 0;
}

/* The check hook's part: this round's TAP batches into the window; at
 * the window's end, overloaded or calm, and the nice value follows. */
static void
router_shed(struct net_router *r, const struct batch_counts *bc, uint64_t now)
{
	if (!r->r_shed_nice)
		return;
	r->r_win_reads += bc->eni_reads;
	r->r_win_full += bc->eni_full;
	if (now - r->r_win_start < SHED_WINDOW_MS)
		return;
	/* A window may be longer than SHED_WINDOW_MS: the loop slept (no
	 * frames: calm for as many windows as it spans) or did not get a
	 * CPU (its reads then come back full: overloaded). */
	uint64_t windows = (now - r->r_win_start) / SHED_WINDOW_MS;
	bool over = r->r_win_reads && 2 * r->r_win_full >= r->r_win_reads;

	if (r->r_shedding)
		atomic_fetch_add_explicit(&r->r_shed_ms, now - r->r_win_start, memory_order_relaxed);
	r->r_win_start = now;
	r->r_win_reads = r->r_win_full = 0;
	if (over) {
		r->r_calm = 0;
		if (++r->r_over >= SHED_AFTER && !r->r_shedding && now >= r->r_shed_after) {
			shed_set(r, true);
			probe_start(r, now);
		} else if (r->r_shedding) {
			shed_probe(r, now);
		}
	} else {
		r->r_over = 0;
		r->r_calm += windows > SHED_CALM ? SHED_CALM : (unsigned)windows;
		if (r->r_calm >= SHED_CALM && r->r_shedding) {
			shed_set(r, false);
			r->r_shed_backoff = 0;
		}
	}
}

/* The check hook, after the fds of every round: each ring port with
 * packets served, then the round's counts published. */
static void
router_check(void *arg, uint64_t now)
{
	struct net_router *r = arg;
	const struct net_snapshot *s = round_snap(r);

	for (uint32_t k = 0; s && k < s->n_ring_gws; k++)
		if (ring_pending(s->gws[s->ring_gws[k]].w_ring_in))
			ring_port_rx(r, s, s->ring_gws[k], now, r->r_bc);
	counts_publish(r, r->r_bc);
	router_shed(r, r->r_bc, now);
	memset(r->r_bc, 0, sizeof(*r->r_bc));
}

static void *
router_loop(void *arg)
{
	struct net_router *r = arg;

	tapio_init(&r->r_io, !r->r_syscall_io);	/* on this thread: it is the ring's only user */
	r->r_tid = (pid_t)syscall(SYS_gettid);
	r->r_schedstat = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (r->r_shed_nice && r->r_schedstat < 0)
		log_info("net", "router: no /proc/thread-self/schedstat (%s): a shedding spell is not "
			 "withdrawn when the router starves", strerror(errno));
	/* the nice value vpcd was started with (nice -n 5 vpcd: 5) is the
	 * one outside spells; a shedding nice not above it sheds nothing */
	errno = 0;
	int base = getpriority(PRIO_PROCESS, (id_t)r->r_tid);
	r->r_base_nice = errno || base < 0 ? 0 : base;
	if (r->r_shed_nice && r->r_shed_nice <= r->r_base_nice) {
		log_info("net", "router: started at nice %d, not below the shedding nice value %d: "
			 "no overload shedding", r->r_base_nice, r->r_shed_nice);
		r->r_shed_nice = 0;
	}
	if (r->r_shed_nice) {
		/* shedding must be able to end: tried once */
		int rc = set_nice(r, r->r_base_nice + 1, true);
		if (rc == 0)
			rc = set_nice(r, r->r_base_nice, true);
		if (rc < 0) {
			log_info("net", "router: cannot lower its priority and raise it back (%s): "
				 "no overload shedding", strerror(-rc));
			r->r_shed_nice = 0;
		}
	}
	atomic_store_explicit(&r->r_shed_nice_pub, r->r_shed_nice, memory_order_relaxed);
	pthread_setname_np(pthread_self(), "vpcd-router");	/* top -H, /proc/PID/task/TID/comm */
	while (!atomic_load(&r->r_stop))
		if (evloop_run_once(r->r_loop, ROUTER_IDLE_WAIT_MS) < 0) {
			log_error("net", "epoll_wait: %s; router stops", strerror(errno));
			break;
		}
	router_watch_fds(r, NULL);	/* a later start watches the snapshot's afresh */
	tapio_free(&r->r_io);
	if (r->r_schedstat >= 0)
		close(r->r_schedstat);
	r->r_schedstat = -1;
	return NULL;
}

/* --- control ------------------------------------------------------------------- */

struct net_router *
net_router_new(const struct net_router_config *cfg)
{
	static const uint8_t def_mac[6] = ROUTER_DEFAULT_MAC;
	struct net_router *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	memcpy(r->r_mac, cfg && (cfg->router_mac[0] | cfg->router_mac[1] | cfg->router_mac[2] |
				 cfg->router_mac[3] | cfg->router_mac[4] | cfg->router_mac[5]) ?
		cfg->router_mac : def_mac, 6);
	pthread_mutex_init(&r->r_apply_lock, NULL);
	r->r_syscall_io = cfg && cfg->syscall_io;
	struct utsname uts;
	r->r_trains = !(cfg && cfg->no_udp_trains) && uname(&uts) == 0 &&
		      udp_trains_supported(uts.release);
	if (!r->r_trains && !(cfg && cfg->no_udp_trains))
		log_info("net", "router: this kernel's TAPs take no UDP GSO frames (before 6.2): "
			 "UDP datagrams written one by one");
	r->r_tcp_on = !(cfg && cfg->no_tcp_trains);
	r->r_shed_nice = cfg && cfg->shed_nice > 0 ? (cfg->shed_nice > 19 ? 19 : cfg->shed_nice) : 0;
	r->r_set_nice = cfg ? cfg->set_nice : NULL;
	r->r_set_nice_arg = cfg ? cfg->set_nice_arg : NULL;
	r->r_schedstat = -1;
	atomic_store_explicit(&r->r_shed_nice_pub, r->r_shed_nice, memory_order_relaxed);
	r->r_tt_queued = -1;
	r->r_io.t_fd = -1;
	r->r_tt_mem = malloc(VNET_HDR_MAX + NET_GSO_FRAME_MAX);
	r->r_tt_buf = r->r_tt_mem ? r->r_tt_mem + VNET_HDR_MAX : NULL;
	r->r_bufs = malloc((size_t)ROUTER_BUF_SIZE * NET_BATCH);
	r->r_segs = malloc(sizeof(*r->r_segs) * ROUTER_SEGS);
	r->r_bc = calloc(1, sizeof(*r->r_bc));
	if (!r->r_bufs || !r->r_segs || !r->r_tt_mem || !r->r_bc || ct_init(&r->r_ct, cfg ? cfg->ct_entries : 0) < 0 ||
	    nat_init(&r->r_nat, NAT_DEFAULT_ENTRIES) < 0)
		goto err;
	r->r_ct.ct_nat = &r->r_nat;
	r->r_loop = evloop_new(NULL, NULL);
	if (!r->r_loop)
		goto err;
	evloop_set_hooks(r->r_loop, router_prepare, router_check, r);
	return r;
err:
	log_error("net", "router: cannot set up: %s", strerror(errno));
	net_router_free(r);
	return NULL;
}

void
net_router_free(struct net_router *r)
{
	if (!r)
		return;
	net_router_stop(r);
	net_snapshot_free(atomic_load(&r->r_snap));
	ct_free(&r->r_ct);
	nat_free(&r->r_nat);
	evloop_free(r->r_loop);
	free(r->r_watched);
	free(r->r_bc);
	free(r->r_bufs);
	free(r->r_segs);
	free(r->r_tt_mem);
	pthread_mutex_destroy(&r->r_apply_lock);
	free(r);
}

static bool
snap_has_fd(const struct net_snapshot *s, uint32_t fd)
{
	return s && fd < s->n_fds && s->fds[fd].f_kind != FD_NONE;
}

/* Returns when the loop has passed a quiescent state after the swap (its
 * prepare hook, which watched the new snapshot's fds before the bump). */
static void
router_grace(struct net_router *r)
{
	if (!atomic_load(&r->r_running))
		return;
	uint64_t e0 = atomic_load(&r->r_epoch);
	evloop_wakeup(r->r_loop);
	while (atomic_load(&r->r_epoch) == e0 && atomic_load(&r->r_running)) {
		struct timespec ts = { 0, 50 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* Which ENI fds carry a virtio_net_hdr: the config says so, or the TAP
 * does (TUNGETIFF, TUNGETVNETHDRSZ; anything else, e.g. a socket, is
 * plain). On the new snapshot, before it is published. */
static int
snapshot_probe_vnet(struct net_snapshot *s, const struct net_config *cfg, char *err,
		    size_t errlen)
{
	for (uint32_t i = 0; i < s->n_enis; i++) {
		struct snap_eni *e = &s->enis[i];
		int want = cfg->enis[i].vnet_hdr;
		struct ifreq ifr;

		e->e_vnet_hdr = 0;
		if (want < 0 || e->e_fd < 0)
			continue;
		if (want == 0) {
			memset(&ifr, 0, sizeof(ifr));
			if (ioctl(e->e_fd, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_VNET_HDR))
				continue;
			if (ioctl(e->e_fd, TUNGETVNETHDRSZ, &want) < 0) {
				snprintf(err, errlen, "%s: TUNGETVNETHDRSZ: %s", e->e_id, strerror(errno));
				return -1;
			}
		}
		if (want < VNET_HDR_MIN || want > VNET_HDR_MAX) {
			snprintf(err, errlen, "%s: virtio_net_hdr of %d bytes (%d..%d supported)",
				 e->e_id, want, VNET_HDR_MIN, VNET_HDR_MAX);
			return -1;
		}
		e->e_vnet_hdr = (uint8_t)want;
	}
	return 0;
}

int
net_router_apply(struct net_router *r, const struct net_config *cfg, char *err, size_t errlen)
{
	struct net_snapshot *s = net_snapshot_build(cfg, err, errlen);

	if (!s)
		return -1;
	if (snapshot_probe_vnet(s, cfg, err, errlen) < 0) {
		net_snapshot_free(s);
		return -1;
	}
	pthread_mutex_lock(&r->r_apply_lock);
	struct net_snapshot *old = atomic_load(&r->r_snap);
	for (uint32_t fd = 0; fd < s->n_fds; fd++) {
		if (s->fds[fd].f_kind == FD_NONE || snap_has_fd(old, fd))
			continue;
		int fl = fcntl((int)fd, F_GETFL);
		if (fl >= 0 && !(fl & O_NONBLOCK))
			(void)fcntl((int)fd, F_SETFL, fl | O_NONBLOCK);
	}
	atomic_store(&r->r_snap, s);
	/* The loop watches s's fds (and no longer old's) once this returns;
	 * a stopped loop does so when it starts. */
	router_grace(r);
	net_snapshot_free(old);
	atomic_fetch_add(&r->r_snapshots, 1);
	pthread_mutex_unlock(&r->r_apply_lock);
	return 0;
}

int
net_router_start(struct net_router *r)
{
	if (atomic_load(&r->r_running))
		return -1;
	atomic_store(&r->r_stop, false);
	atomic_store(&r->r_running, true);
	if (pthread_create(&r->r_thread, NULL, router_loop, r) != 0) {
		atomic_store(&r->r_running, false);
		log_error("net", "router: cannot start its thread");
		return -1;
	}
	return 0;
}

void
net_router_stop(struct net_router *r)
{
	if (!atomic_load(&r->r_running))
		return;
	atomic_store(&r->r_stop, true);
	evloop_wakeup(r->r_loop);
	pthread_join(r->r_thread, NULL);
	atomic_store(&r->r_running, false);
}

void
net_router_counters(struct net_router *r, struct net_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < NET_DROP_MAX; i++)
		out->drops[i] = atomic_load_explicit(&r->r_drops[i], memory_order_relaxed);
	out->rx_frames = atomic_load_explicit(&r->r_rx, memory_order_relaxed);
	out->tx_frames = atomic_load_explicit(&r->r_tx, memory_order_relaxed);
	out->port_rx = atomic_load_explicit(&r->r_port_rx, memory_order_relaxed);
	out->port_tx = atomic_load_explicit(&r->r_port_tx, memory_order_relaxed);
	out->arp_replies = atomic_load_explicit(&r->r_arp_replies, memory_order_relaxed);
	out->arp_ignored = atomic_load_explicit(&r->r_arp_ignored, memory_order_relaxed);
	out->ct_entries = atomic_load_explicit(&r->r_ct_live, memory_order_relaxed);
	out->ct_evictions = atomic_load_explicit(&r->r_ct_evictions, memory_order_relaxed);
	out->snapshots = atomic_load_explicit(&r->r_snapshots, memory_order_relaxed);
	out->gso_rx = atomic_load_explicit(&r->r_gso_rx, memory_order_relaxed);
	out->sw_segments = atomic_load_explicit(&r->r_sw_segments, memory_order_relaxed);
	out->frag_evictions = atomic_load_explicit(&r->r_frag_evictions, memory_order_relaxed);
	out->nat_entries = atomic_load_explicit(&r->r_nat_live, memory_order_relaxed);
	out->nat_refused = atomic_load_explicit(&r->r_nat_refused, memory_order_relaxed);
	out->tap_batches = atomic_load_explicit(&r->r_tap_batches, memory_order_relaxed);
	out->sheds = atomic_load_explicit(&r->r_sheds, memory_order_relaxed);
	out->shed_ms = atomic_load_explicit(&r->r_shed_ms, memory_order_relaxed);
	out->shed_withdrawn = atomic_load_explicit(&r->r_shed_withdrawn, memory_order_relaxed);
	out->shedding = atomic_load_explicit(&r->r_shed_active, memory_order_relaxed);
	out->shed_nice = atomic_load_explicit(&r->r_shed_nice_pub, memory_order_relaxed);
	out->udp_trains = atomic_load_explicit(&r->r_udp_trains, memory_order_relaxed);
	out->udp_train_frames = atomic_load_explicit(&r->r_udp_train_frames, memory_order_relaxed);
	out->tcp_trains = atomic_load_explicit(&r->r_tcp_trains, memory_order_relaxed);
	out->tcp_train_segments = atomic_load_explicit(&r->r_tcp_train_segments, memory_order_relaxed);
}

int
net_router_trace(struct net_router *r, const struct net_trace_query *q,
		 struct net_trace_result *out, char *err, size_t errlen)
{
	/* The apply lock keeps the snapshot from being freed under us. */
	pthread_mutex_lock(&r->r_apply_lock);
	int rc = net_snapshot_trace(atomic_load(&r->r_snap), r->r_mac, q, out, err, errlen);
	pthread_mutex_unlock(&r->r_apply_lock);
	return rc;
}
