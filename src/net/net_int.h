/*
 * net_int — net's insides, shared by its files and its unit tests: the
 * compiled snapshot, the LPM, compiled ACL rules, the connection table,
 * frame parsing and the per-packet decision (path.c). Nothing here does
 * I/O; router.c and instance.c do.
 */
#ifndef VPCD_NET_INT_H
#define VPCD_NET_INT_H

#include "net/nat.h"
#include "base/gso.h"
#include "net/net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_HLEN_		14
#define ETHERTYPE_IPV4_		0x0800
#define ETHERTYPE_ARP_		0x0806
#define ARP_FRAME_LEN		42	/* Ethernet + ARP for IPv4 over Ethernet */
#define IPV4_HLEN_MIN		20
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17

/* --- frames ---------------------------------------------------------------- */

/* What parsing a frame (or a bare IPv4 packet) found. Offsets are from the
 * start of the buffer that was parsed. */
struct pkt_meta {
	uint32_t pm_src, pm_dst;	/* host order */
	uint16_t pm_sport, pm_dport;	/* ICMP query: both the identifier */
	uint8_t pm_proto;
	uint8_t pm_icmp_type, pm_icmp_code;
	uint8_t pm_tcp_flags;
	uint16_t pm_l3_off;		/* IPv4 header */
	uint16_t pm_l4_off;		/* 0 when the packet carries no L4 header (later fragment) */
	uint16_t pm_ip_len;		/* IPv4 total length */
	uint16_t pm_ip_id;		/* IPv4 identification */
	uint8_t pm_frag;		/* PM_FRAG_* */
	bool pm_more_frags;		/* MF set: not the last fragment */
	/* ICMP errors (3, 4, 5, 11, 12): the packet they are about. */
	bool pm_icmp_error;
	bool pm_inner_ok;		/* embedded IPv4 + 8 bytes of L4 present */
	uint8_t pm_inner_proto;
	uint32_t pm_inner_src, pm_inner_dst;	/* host order */
	uint16_t pm_inner_sport, pm_inner_dport;
	uint16_t pm_inner_off;		/* embedded IPv4 header */
	uint16_t pm_inner_l4_off;	/* its L4 header */
};

enum { PM_FRAG_NONE, PM_FRAG_FIRST, PM_FRAG_LATER };

enum frame_kind {
	FRAME_IPV4,
	FRAME_ARP_REQUEST,	/* for pm_dst (target), from pm_src (sender) */
	FRAME_ARP_OTHER,	/* replies, announcements: ignored */
	FRAME_BAD,		/* truncated or malformed: bad-frame */
	FRAME_UNSUPPORTED,	/* IPv6, VLAN, later fragments: unsupported */
};

/* Parses an Ethernet frame of len bytes; never reads past len. */
enum frame_kind frame_parse(const uint8_t *f, uint32_t len, struct pkt_meta *m);
/* The same for a bare IPv4 packet (from a port); FRAME_IPV4/BAD/UNSUPPORTED. */
enum frame_kind ipv4_parse(const uint8_t *p, uint32_t len, uint32_t off, struct pkt_meta *m);

/* Writes the ARP reply to a request (sender sha/spa) for tpa, answered
 * with our_mac, into out (ARP_FRAME_LEN bytes, which it returns). */
uint32_t arp_build_reply(uint8_t *out, const uint8_t our_mac[6], uint32_t tpa,
			 const uint8_t req_sha[6], uint32_t req_spa);

/* Rewrites the IPv4 source (or destination) address of the packet at
 * p + m->pm_l3_off to addr, fixing the header and L4 checksums
 * incrementally (RFC 1624); updates m. */
void ipv4_rewrite_src(uint8_t *p, struct pkt_meta *m, uint32_t addr);
void ipv4_rewrite_dst(uint8_t *p, struct pkt_meta *m, uint32_t addr);
/* Rewrites the TCP/UDP source (or destination) port, or for ICMP echo
 * the identifier (both: pm_sport/pm_dport), fixing the L4 checksum
 * incrementally; updates m (nat.c). Nothing when there is no L4 header. */
void l4_rewrite_sport(uint8_t *p, struct pkt_meta *m, uint16_t port);
void l4_rewrite_dport(uint8_t *p, struct pkt_meta *m, uint16_t port);
/* In an ICMP error, the quoted packet's source port (ICMP echo: its
 * identifier): its L4 checksum when quoted and the ICMP checksum follow. */
void l4_rewrite_inner_sport(uint8_t *p, struct pkt_meta *m, uint16_t port);

static inline uint32_t
net_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

/* --- longest-prefix match ---------------------------------------------------- */

/* Prefixes grouped by length, longest first; within a length sorted by
 * address, found by binary search: O(L log N) for L distinct lengths.
 * Built once per snapshot, read-only after. */
struct lpm_entry {
	uint32_t le_addr;	/* host bits clear */
	uint8_t le_len;
	uint32_t le_value;	/* the caller's (index of the route) */
};

struct lpm {
	struct lpm_entry *l_entries;
	uint32_t l_n;
	uint8_t l_nlevels;
	struct { uint8_t len; uint32_t mask, off, n; } l_levels[33];
};

/* Copies and sorts in[]; -1 on a duplicate prefix (index in *dup) or no
 * memory. */
int lpm_build(struct lpm *t, const struct lpm_entry *in, uint32_t n, uint32_t *dup);
void lpm_free(struct lpm *t);
/* The longest prefix covering ip, or NULL. */
const struct lpm_entry *lpm_lookup(const struct lpm *t, uint32_t ip);

/* --- ACLs -------------------------------------------------------------------- */

/* One compiled NACL or SG rule. Ports: TCP/UDP destination port range.
 * ICMP: type/code, -1 any. */
struct acl_rule {
	uint32_t ar_addr, ar_mask;	/* peer CIDR (ignored when ar_group >= 0) */
	int32_t ar_group;		/* SG rules: referenced group index, else -1 */
	uint16_t ar_number;		/* NACL rule number (SG: index) */
	int16_t ar_proto;		/* -1 all */
	uint16_t ar_port_from, ar_port_to;
	int16_t ar_icmp_type, ar_icmp_code;
	bool ar_allow;
};

/* The packet as rules see it: peer = remote address. */
struct acl_pkt {
	uint32_t ap_peer;
	uint8_t ap_proto;
	uint16_t ap_port;
	uint8_t ap_icmp_type, ap_icmp_code;
};

bool acl_rule_matches(const struct acl_rule *r, const struct acl_pkt *p);
/* NACL: rules sorted by number; index of the first that matches, or -1
 * (the "*" deny). */
int nacl_rules_first_match(const struct acl_rule *rules, uint32_t n, const struct acl_pkt *p);

/* --- the compiled snapshot --------------------------------------------------- */

struct snap_vpc {
	char v_id[NET_ID_MAX];
	uint32_t v_zone;		/* stable across snapshots: hash of the id */
};

struct snap_route {
	enum net_target r_target;
	int32_t r_index;		/* ENI or gateway index; -1 */
};

struct snap_rtb {
	char t_id[NET_ID_MAX];
	struct lpm t_lpm;		/* le_value: index into t_routes */
	struct snap_route *t_routes;
	uint32_t t_n;
};

struct snap_nacl {
	char n_id[NET_ID_MAX];
	struct acl_rule *n_out, *n_in;	/* sorted by number */
	uint32_t n_nout, n_nin;
};

struct snap_sg {
	char g_id[NET_ID_MAX];
	uint32_t g_vpc;
	struct acl_rule *g_out, *g_in;
	uint32_t g_nout, g_nin;
	uint32_t *g_members;		/* member ENIs' addresses, sorted */
	uint32_t g_nmembers;
};

struct snap_subnet {
	char s_id[NET_ID_MAX];
	uint32_t s_vpc;
	struct cidr4 s_cidr;
	uint32_t s_router_ip;
	uint32_t s_rtb, s_nacl;
};

struct snap_eni {
	char e_id[NET_ID_MAX];
	uint32_t e_subnet, e_vpc;
	uint8_t e_mac[6];
	uint32_t e_ip, e_public_ip;
	bool e_src_dst_check;
	uint8_t e_vnet_hdr;		/* bytes of virtio_net_hdr before each frame; 0 none */
	uint32_t e_groups[NET_ENI_MAX_GROUPS];
	uint32_t e_ngroups;
	int e_fd;
	int32_t e_nat;			/* the NAT gateway whose interface it is; -1 */
};

struct snap_nat {
	char n_id[NET_ID_MAX];
	uint32_t n_eni;			/* its interface: address, subnet, public address */
};

struct snap_peering {
	char p_id[NET_ID_MAX];
	uint32_t p_vpc[2];
	uint32_t p_zone;		/* connection-tracking zone of flows across it */
};

struct snap_vgw_route {
	uint64_t vr_conn;		/* 0: two connections route the prefix: none chosen */
	uint8_t vr_tunnel;
};

struct snap_gw {
	char w_id[NET_ID_MAX];
	enum net_gateway_kind w_kind;
	int32_t w_vpc;			/* -1 detached */
	const struct net_port_ops *w_ops;
	void *w_arg;
	int w_fd;
	struct ring *w_ring_out, *w_ring_in;	/* an in-process port (base/ring.h) */
	struct lpm w_vgw_lpm;		/* le_value: index into w_vgw_routes */
	struct snap_vgw_route *w_vgw_routes;
};

/* Has gateway w a port (fd ops or a ring)? */
static inline bool
snap_gw_has_port(const struct snap_gw *w)
{
	return w->w_ops != NULL || w->w_ring_out != NULL;
}

/* (vpc, address) -> ENI, sorted; and public address -> ENI, sorted. */
struct snap_addr {
	uint32_t a_vpc, a_ip, a_eni;
};

/* What a polled fd is. */
enum fd_kind { FD_NONE, FD_ENI, FD_PORT };
struct snap_fd {
	uint8_t f_kind;
	uint32_t f_index;
};

struct net_snapshot {
	struct snap_vpc *vpcs;		uint32_t n_vpcs;
	struct snap_subnet *subnets;	uint32_t n_subnets;
	struct snap_rtb *rtbs;		uint32_t n_rtbs;
	struct snap_nacl *nacls;	uint32_t n_nacls;
	struct snap_sg *sgs;		uint32_t n_sgs;
	struct snap_eni *enis;		uint32_t n_enis;
	struct snap_gw *gws;		uint32_t n_gws;
	struct snap_addr *by_ip;	/* n_enis entries */
	struct snap_addr *by_public;	uint32_t n_public;
	struct snap_fd *fds;		uint32_t n_fds;	/* indexed by fd */
	struct snap_nat *nats;		uint32_t n_nats;
	struct snap_peering *peerings;	uint32_t n_peerings;
	uint32_t *ring_gws;		uint32_t n_ring_gws;	/* gateways with a ring port */
};

/* -1 when absent. */
int32_t snap_eni_by_ip(const struct net_snapshot *s, uint32_t vpc, uint32_t ip);
int32_t snap_eni_by_public(const struct net_snapshot *s, uint32_t public_ip);
/* Do the groups of an ENI allow this packet (any rule of any group)? */
bool sg_allows(const struct net_snapshot *s, const struct snap_eni *e, bool egress,
	       const struct acl_pkt *p);
/* The same, naming the group (index) and rule (ar_number) that allowed. */
bool sg_match(const struct net_snapshot *s, const struct snap_eni *e, bool egress,
	      const struct acl_pkt *p, int32_t *group, int32_t *rule);

/* --- connection tracking ----------------------------------------------------- */

/* A fixed table of CT_BUCKET-way buckets, allocated once. A flow lives in
 * the bucket of its direction-independent hash; a full bucket evicts the
 * entry that expires first. Expiry is lazy (checked at lookup). One
 * thread (the router's) reads and writes it. */
#define CT_BUCKET		4
#define CT_TCP_SYN_MS		(60u * 1000)		/* until the reply is seen */
#define CT_TCP_EST_MS		(432000ull * 1000)	/* AWS: 5 days idle */
#define CT_TCP_CLOSING_MS	(120u * 1000)		/* after a FIN */
#define CT_TCP_RST_MS		(10u * 1000)
#define CT_UDP_MS		(30u * 1000)
#define CT_UDP_STREAM_MS	(180u * 1000)		/* after a reply */
#define CT_ICMP_MS		(30u * 1000)

struct ct_key {
	uint32_t k_zone;
	uint32_t k_src, k_dst;
	uint16_t k_sport, k_dport;
	uint8_t k_proto;
};

struct ct_entry {
	struct ct_key c_key;		/* as the first packet had it */
	uint64_t c_expires_ms;		/* 0: free */
	bool c_replied;
	bool c_fin;
};

/* Fragment trains: (zone, src, dst, IP id, proto) of first fragments
 * that passed, so later fragments follow them. A fixed table of
 * CT_FRAG_BUCKETS x CT_BUCKET entries beside the flows; a full bucket
 * evicts the entry closest to expiry. A train lives CT_FRAG_TRAIN_MS from
 * its first fragment (Linux's ipfrag_time is 30 s), and CT_FRAG_TAIL_MS
 * after its last (MF clear) was seen, for fragments reordered behind it. */
#define CT_FRAG_BUCKETS		1024
#define CT_FRAG_TRAIN_MS	(30u * 1000)
#define CT_FRAG_TAIL_MS		(2u * 1000)

struct ct_frag_key {
	uint32_t f_zone;
	uint32_t f_src, f_dst;
	uint16_t f_id;
	uint8_t f_proto;
};

struct ct_frag {
	struct ct_frag_key fr_key;
	uint64_t fr_expires_ms;		/* 0: free */
};

struct conntrack {
	struct ct_entry *ct_slots;
	uint32_t ct_nbuckets;		/* power of two */
	uint64_t ct_seed;
	uint64_t ct_live;
	uint64_t ct_evictions;
	struct ct_frag *ct_frags;	/* CT_FRAG_BUCKETS * CT_BUCKET */
	uint64_t ct_frag_evictions;
	/* The NAT gateways' translations (the router's, beside the flows;
	 * NULL: NAT gateways translate nothing and drop). */
	struct nat_table *ct_nat;
};

int ct_init(struct conntrack *ct, uint32_t entries);
void ct_free(struct conntrack *ct);
/* The live entry for k in either direction (*reply: k is the reverse of
 * the entry's key), or NULL. */
struct ct_entry *ct_lookup(struct conntrack *ct, const struct ct_key *k, uint64_t now_ms,
			   bool *reply);
/* A new entry for k (k must not be tracked). Never fails: evicts. */
struct ct_entry *ct_insert(struct conntrack *ct, const struct ct_key *k, uint64_t now_ms);
/* Refreshes the timeout from the packet that just passed. */
void ct_touch(struct ct_entry *e, bool reply, uint8_t tcp_flags, uint64_t now_ms);
/* A first fragment passed: its train is remembered (again, if the id
 * came round). Never fails: evicts. */
void ct_frag_note(struct conntrack *ct, const struct ct_frag_key *k, uint64_t now_ms);
/* A later fragment: does its train exist? last: MF is clear (the train
 * then ends after CT_FRAG_TAIL_MS). */
bool ct_frag_follows(struct conntrack *ct, const struct ct_frag_key *k, bool last,
		     uint64_t now_ms);

/* --- offloads: virtio_net_hdr, checksum completion, software TSO ------------ */

/* The header a TAP with IFF_VNET_HDR puts before each frame (and takes
 * before each frame written): struct vnet_hdr, its flags and GSO types,
 * reading and writing it, checksum completion and the TCP segmenter are
 * base/gso.h's (shared with the VPN endpoint's TUN); here, what the
 * router adds: the check against its own parse and the room it leaves. */
#define VNET_HDR_MIN		NET_VNET_HDR_LEN	/* 10: the legacy header */
#define VNET_HDR_MAX		16	/* the room router.c leaves before a frame */
#define NET_GSO_FRAME_MAX	(ETH_HLEN_ + 65535)	/* one GSO frame */

/* Is h consistent with the parsed frame (m from frame_parse, the frame
 * ends at m->pm_l3_off + m->pm_ip_len)? gso_vnet_check on that parse. */
bool vnet_hdr_check(const struct vnet_hdr *h, const struct pkt_meta *m);
/* Completes a partial checksum (VNET_F_NEEDS_CSUM) of the frame in place
 * (gso_csum_complete; h checked by vnet_hdr_check first). */
void vnet_csum_complete(uint8_t *frame, const struct pkt_meta *m, const struct vnet_hdr *h);

/* Software TSO of a parsed GSO TCP/IPv4 frame (gso_tcp_init on m's
 * offsets, segments of at most NET_FRAME_MAX bytes: take each with
 * gso_tcp_next into a NET_FRAME_MAX buffer). false when mss is 0 or the
 * headers would not leave room for one byte of payload. */
bool tso_init(struct gso_tcp_iter *it, const uint8_t *frame, const struct pkt_meta *m, uint16_t mss);

/* UDP trains (the inverse of software TSO, for ENI -> ENI with headers
 * on both sides): consecutive datagrams of one flow that one batch sends
 * to one ENI are written as one GSO frame (VNET_GSO_UDP_L4, gso_size the
 * datagrams' payload), which the receiving kernel cuts back into the
 * same datagrams (its UDP receive path segments what the socket did not
 * ask to get whole): one write, one skb built and one IPv4/UDP lookup for
 * the train instead of one per datagram. A datagram joins only when the
 * segments will be exactly what was sent: the same headers but for the
 * IPv4 id (the next one: segmentation numbers them from the first), the
 * lengths and the checksum field, which holds the pseudo-header sum
 * (a partial checksum, as the sender's kernel left it); a payload no
 * longer than the first's, and nothing after a shorter one. */
#define UDP_TRAIN_MAX		64	/* datagrams per train (the kernel takes up to 128) */

struct udp_train {
	uint8_t *ut_frame;		/* the first datagram's frame, the others' payloads after it */
	uint32_t ut_len;		/* frame bytes so far */
	uint16_t ut_l3_off, ut_l4_off;
	uint16_t ut_mss;		/* payload bytes of each datagram but a shorter last */
	uint16_t ut_segs;
	uint16_t ut_next_id;		/* the IPv4 id the next datagram must carry */
	bool ut_ended;			/* a shorter datagram came: nothing may follow */
};

/* Can this frame (parsed into m, read with header h) be in a train? UDP
 * in IPv4 without options or fragments, the UDP length the packet's, a
 * payload, the checksum partial at UDP's field holding the pseudo-header
 * sum, no GSO. */
bool udp_train_eligible(const uint8_t *frame, const struct pkt_meta *m, const struct vnet_hdr *h);
/* Starts a train with the eligible frame at frame, which must have room
 * for NET_GSO_FRAME_MAX bytes. */
void udp_train_start(struct udp_train *t, uint8_t *frame, const struct pkt_meta *m);
/* Appends the eligible frame's payload when it continues t (see above):
 * true; false and t unchanged when it does not. Never writes the frame. */
bool udp_train_append(struct udp_train *t, const uint8_t *frame, const struct pkt_meta *m);
/* A train of more than one datagram: writes its IPv4 and UDP lengths,
 * IPv4 checksum and the UDP field's pseudo-header sum for the whole,
 * and into h the header to write before it. */
void udp_train_finish(struct udp_train *t, struct vnet_hdr *h);
/* Does a kernel of this release (uname's, e.g. "6.1.0-18-amd64") take a
 * UDP GSO frame written to a TAP (VIRTIO_NET_HDR_GSO_UDP_L4: 6.2 on)? */
bool udp_trains_supported(const char *release);

/* --- batched TAP I/O (tapio.c) ----------------------------------------------- */

/* Reads and writes on TAP fds in batches, one io_uring_enter(2) for many
 * frames; read(2)/write(2) per frame where io_uring is not available.
 * Every request has completed when a call returns (the fds are
 * non-blocking): buffers are the caller's again. Loop thread only. */
#define TAPIO_DEPTH		(2 * NET_BATCH)	/* requests per batch, at most */
#define TAPIO_HINT_FDS		1024	/* fds whose last batch size is kept */
enum { TAPIO_TAG_TX, TAPIO_TAG_ARP, TAPIO_TAGS };	/* what a write counts as */

struct io_uring_sqe;
struct io_uring_cqe;

struct tapio {
	int t_fd;				/* the io_uring; -1: system calls */
	void *t_sq_map, *t_cq_map;		/* t_cq_map NULL: one mapping */
	size_t t_sq_map_len, t_cq_map_len;
	struct io_uring_sqe *t_sqes;
	size_t t_sqes_len;
	_Atomic uint32_t *t_sq_tail, *t_cq_head, *t_cq_tail;
	uint32_t t_sq_mask, t_cq_mask;
	struct io_uring_cqe *t_cqes;
	uint64_t t_enters;			/* io_uring_enter calls made */
	uint8_t t_hint[TAPIO_HINT_FDS];		/* by fd: frames its last read batch gave */
	/* writes queued until tapio_flush */
	unsigned t_nw;
	int t_wfd[TAPIO_DEPTH];
	uint8_t *t_wbuf[TAPIO_DEPTH];
	uint32_t t_wlen[TAPIO_DEPTH];
	uint8_t t_wtag[TAPIO_DEPTH];
	uint16_t t_wframes[TAPIO_DEPTH];	/* what each write counts as (a UDP train: many) */
	int32_t t_wres[TAPIO_DEPTH];		/* the last flush's results: bytes or -errno */
};

/* Sets t up on the calling thread (the one that will use it); with
 * allow_uring false, or when io_uring is unavailable, t makes one system
 * call per frame. Always 0. */
int tapio_init(struct tapio *t, bool allow_uring);
void tapio_free(struct tapio *t);
bool tapio_uses_uring(const struct tapio *t);
/* Reads up to max (<= TAPIO_DEPTH) frames from fd, bufs[i] taking up to
 * cap bytes, until the fd's queue runs dry. Returns the slots used;
 * res[i] of each: the frame's length (> 0), or 0 / -errno (no frame in
 * bufs[i]; a frame may still follow in a later slot). */
unsigned tapio_read_batch(struct tapio *t, int fd, uint8_t *const *bufs, uint32_t cap,
			  int32_t *res, unsigned max);
/* Queues one frame for fd; p must stay unchanged until tapio_flush.
 * false when TAPIO_DEPTH writes are queued (flush first). */
bool tapio_write(struct tapio *t, int fd, uint8_t *p, uint32_t len, uint8_t tag);
/* The queued write idx (< t_nw) now takes len bytes from the same p
 * (which has the room) and counts as frames. */
void tapio_resize(struct tapio *t, unsigned idx, uint32_t len, unsigned frames);
/* The same, the write now from p (which must stay unchanged until
 * tapio_flush): a TCP train moved into its own buffer. */
void tapio_retarget(struct tapio *t, unsigned idx, uint8_t *p, uint32_t len, unsigned frames);
/* Writes what is queued, in order: ok[tag] counts each whole write (as
 * the frames it carries), *failed the others; each one's result stays in
 * t_wres (and its length, frames in t_wlen, t_wframes) until the next
 * tapio_write. */
void tapio_flush(struct tapio *t, uint64_t ok[TAPIO_TAGS], uint64_t *failed);

/* --- the decision -------------------------------------------------------------- */

enum verdict_kind { V_DROP, V_TO_ENI, V_TO_PORT, V_ARP_REPLY, V_IGNORE };

struct verdict {
	enum verdict_kind v_kind;
	enum net_drop v_drop;
	uint32_t v_index;		/* ENI or gateway */
	uint32_t v_nat_src;		/* igw out: rewrite the source to this (0: none) */
	uint32_t v_nat_dst;		/* igw in: rewrite the destination to this (0: none) */
	/* NAT gateway: the port (ICMP echo id) rewritten with the address */
	bool v_nat_sport_set, v_nat_dport_set, v_nat_inner_sport_set;
	uint16_t v_nat_sport, v_nat_dport;
	uint16_t v_nat_inner_sport;	/* an ICMP error's quoted source port, back */
	/* to a VPN gateway's port: the connection its own routes chose
	 * (net_vgw_route; 0 none) and the tunnel preferred (0 either) */
	uint64_t v_conn;
	uint8_t v_tunnel;
	/* for tests and traces: */
	int32_t v_route;		/* route index in the table, -1 */
	int32_t v_nacl_rule;		/* rule number that decided, -1 */
};

/* The whole decision for a frame of len bytes that ENI eni sent: parses
 * it into m (every length checked), checks MACs and addresses, NACLs,
 * security groups with the connection table (which it updates when the
 * packet passes), routes. Reads the frame, never writes it. */
void path_from_eni(const struct net_snapshot *s, struct conntrack *ct,
		   const uint8_t router_mac[6], uint32_t eni, const uint8_t *frame,
		   uint32_t len, uint64_t now_ms, struct pkt_meta *m, struct verdict *v);
/* The same for a bare IPv4 packet of len bytes at p + off that gateway gw
 * delivered; an igw's packets are decided on the private address that
 * v_nat_dst then names. */
void path_from_port(const struct net_snapshot *s, struct conntrack *ct, uint32_t gw,
		    const uint8_t *p, uint32_t len, uint32_t off, uint64_t now_ms,
		    struct pkt_meta *m, struct verdict *v);
/* Both with each step recorded into tr (NULL: none). ct NULL: no
 * connection tracking (every packet a new flow; trace). */
void path_from_eni_traced(const struct net_snapshot *s, struct conntrack *ct,
			  const uint8_t router_mac[6], uint32_t eni, const uint8_t *frame,
			  uint32_t len, uint64_t now_ms, struct pkt_meta *m, struct verdict *v,
			  struct net_trace_result *tr);
void path_from_port_traced(const struct net_snapshot *s, struct conntrack *ct, uint32_t gw,
			   const uint8_t *p, uint32_t len, uint32_t off, uint64_t now_ms,
			   struct pkt_meta *m, struct verdict *v, struct net_trace_result *tr);

#endif
