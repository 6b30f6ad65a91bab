/*
 * net — the VPC data plane: a userspace virtual router between instances'
 * TAP ENIs and gateway ports, as a hypervisor's vswitch does it. This
 * header is the contract for the engine (and for the test harness,
 * net_harness.c).
 *
 * What the engine does with it
 * ----------------------------
 *   1. net_router_new(&rcfg): router MAC, connection-table size. Nothing
 *      runs yet.
 *   2. For each instance: net_instance_create(id, &eni, &tap_fd) creates
 *      the network namespace <id>, its eth0 (a TAP held by vpcd, with the
 *      ENI's MAC and private address, default route via the subnet's
 *      router .1). The engine owns tap_fd; it goes into the ENI's
 *      net_eni_config.tap_fd. net_eni_attach_netns() does the same for a
 *      namespace that already exists (a container's).
 *   3. net_router_apply(r, &cfg): compiles the plain description below
 *      (VPCs, subnets, route tables, NACLs, security groups, ENIs,
 *      gateways and their ports) into an immutable snapshot and swaps it
 *      in atomically; traffic never stops. Call it again with the whole
 *      new description after every API change: it returns when the old
 *      snapshot is no longer in use (one batch at most), so the caller
 *      may then close the fds of ENIs and ports it removed. Everything
 *      in cfg is copied; cfg's arrays may be freed after the call.
 *   4. net_router_start(r): one thread, one base/evloop.h loop over every ENI's
 *      TAP fd and every port's fd; TAP frames read and written in
 *      batches (io_uring where the kernel allows it).
 *   5. net_router_counters(r, &c) from any thread: drops per cause,
 *      frames in and out.
 *   6. net_router_stop(r), net_router_free(r); net_instance_destroy(id,
 *      tap_fd) after the ENI left the config (closes the fd, deletes the
 *      namespace).
 *
 * The packet path (router thread; batches; nothing allocated per packet)
 *   frame from an ENI's TAP
 *     -> Ethernet/ARP/IPv4/L4 parsed, every length checked   (bad-frame)
 *     -> ARP request for the subnet's router address: answered;
 *        any other ARP: ignored (no L2 flooding between instances)
 *     -> source MAC and (if source/dest check) source IP are the ENI's
 *                                                             (src-dst-check)
 *     -> source subnet's NACL, egress, by rule number         (nacl-out)
 *     -> ENI's security groups, egress, unless a tracked flow (sg-egress)
 *     -> source subnet's route table, longest prefix          (no-route,
 *                                                              blackhole)
 *     -> local / eni target: the destination ENI (no-eni; src-dst-check
 *        when an eni target has the check on and the address is not its),
 *        destination subnet's NACL, ingress (only when it is another
 *        subnet, as in AWS)                                   (nacl-in)
 *        destination ENI's security groups, ingress, unless tracked
 *                                                             (sg-ingress)
 *        -> MACs rewritten (router -> ENI), written to its TAP
 *     -> igw target: source address translated 1:1 to the ENI's public
 *        address (no-public-ip when it has none), to the igw's port;
 *        vgw target: to the vgw's port, untranslated           (no-port)
 *     -> peering target: the peer VPC's ENI with the address, as a local
 *        one (NACL in, SG in); no transit through the peer    (no-eni)
 *     -> NAT gateway target: into the gateway's subnet (its NACL in),
 *        source translated to the gateway interface's address and a port
 *        of its own (net/nat.h; TCP, UDP, ICMP echo)   (nat-refused),
 *        then routed by that subnet's table (its NACL out) as if the
 *        interface sent it: igw (1:1 to the Elastic IP), vgw, an ENI
 *   packet to a NAT gateway interface's address (from its igw, a vgw or
 *   an ENI of the VPC): an answer to a translated flow goes back to the
 *   ENI that began it (gateway subnet's NACL in and out, then that ENI's
 *   NACL in and groups, as a tracked flow), and so does an ICMP error
 *   quoting such a flow (its quote translated back); others (nat-no-mapping)
 *   packet from a port: (igw: public -> private address) -> the VPC's
 *   local route -> destination ENI as above (NACL in, SG ingress).
 *   Connection tracking: a flow is admitted when the source ENI's egress
 *   groups and the destination ENI's ingress groups allow its first
 *   packet; its replies (and its later packets) then pass both without
 *   evaluation. A rule change applies to new flows at once; flows already
 *   tracked live on until they time out, as in AWS.
 *   IPv4 fragments: the first (it carries the ports) is decided as above;
 *   when it passes, (VPC, src, dst, IP id, protocol) is remembered for the
 *   fragment train (bounded table, CT_FRAG_*_MS), and the later fragments
 *   follow its verdict: routed like it, no NACL/SG evaluation of their
 *   own. A later fragment whose first was not seen or not allowed: drop
 *   (fragment). Fragments that overlap the first's L4 header: bad-frame.
 *   ICMP errors (unreachable incl. fragmentation-needed, time exceeded,
 *   parameter problem, source quench) whose embedded header belongs to a
 *   tracked flow, sent to that flow's sender, pass the security groups as
 *   part of the flow (NACLs still apply: they are stateless); the igw's
 *   1:1 NAT also translates the embedded header.
 *
 * Offloads (TAP ENIs): net_instance_create() opens the TAP with
 *   IFF_VNET_HDR, TUNSETVNETHDRSZ and TUNSETOFFLOAD(CSUM, TSO4, TSO_ECN),
 *   so the instance's TCP sends up to 64 KB GSO frames with a partial
 *   checksum, one read each. The router learns per fd whether it carries
 *   a virtio_net_hdr (net_eni_config.vnet_hdr, or TUNGETIFF at apply).
 *   ENI -> ENI with headers on both: the frame and its header are handed
 *   on unchanged (the receiving kernel takes the GSO frame whole). Towards
 *   a port (plain IPv4 packets) or an ENI without the header, the router
 *   completes partial checksums and cuts GSO TCP into MSS-sized segments
 *   in software, then NATs each. Policy is evaluated once per frame (one
 *   GSO frame is one TCP segment train of one flow). IPv6 is not carried,
 *   so TSO6 stays off.
 *
 * Ownership: the router never closes an fd it is given; TAP and port fds
 * belong to the caller, who closes them after a net_router_apply() that
 * no longer names them.
 */
#ifndef VPCD_NET_H
#define VPCD_NET_H

#include "model/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NET_ID_MAX		48	/* "subnet-0123456789abcdef0", "pcx-..." + NUL */
#define NET_ENI_MAX_GROUPS	16	/* AWS: 5 by default, 16 at most */
#define NET_FRAME_MAX		2048	/* one Ethernet frame: MTU 1500 + header, rounded */
#define NET_PKT_MAX		(NET_FRAME_MAX - 14)	/* one IPv4 packet to/from a port */
#define NET_BATCH		64	/* frames read per fd per wakeup */
#define NET_CT_DEFAULT_ENTRIES	(1u << 16)

/* --- the plain description the engine fills ----------------------------- */

enum net_target {
	NET_TARGET_LOCAL,	/* the VPC itself: the ENI that has the address */
	NET_TARGET_IGW,		/* target_id: an igw in cfg.gateways */
	NET_TARGET_VGW,		/* target_id: a vgw in cfg.gateways */
	NET_TARGET_ENI,		/* target_id: an ENI id (NAT instance, appliance) */
	NET_TARGET_BLACKHOLE,	/* the target is gone */
	NET_TARGET_NAT,		/* target_id: a NAT gateway in cfg.nats */
	NET_TARGET_PEERING,	/* target_id: a peering connection in cfg.peerings */
};

struct net_route_config {
	struct cidr4 dest;
	enum net_target target;
	char target_id[NET_ID_MAX];	/* unused for local; blackhole: the gone target's id, or "" (for the trace) */
};

struct net_route_table_config {
	char id[NET_ID_MAX];
	const struct net_route_config *routes;
	size_t n_routes;
};

/* Both directions in one array (nr_egress); the implicit "*" deny is not
 * listed. struct nacl_rule is model.h's. */
struct net_nacl_config {
	char id[NET_ID_MAX];
	const struct nacl_rule *rules;
	size_t n_rules;
};

/* One permission of a security group, AWS's shape: protocol -1 (all), 6,
 * 17, 1 or another number; TCP/UDP: from_port..to_port; ICMP: from_port is
 * the type and to_port the code, -1 meaning any. The peer is either cidr
 * or, when group_id is not empty, any ENI that is a member of that group
 * (in the same VPC). */
struct net_sg_rule_config {
	bool egress;
	int16_t protocol;
	int32_t from_port, to_port;
	struct cidr4 cidr;
	char group_id[NET_ID_MAX];
	/* The rule's own id ("sgr-…"; "" none), for the caller's reading of a
	 * trace step (group id + rule index -> this id). Not compiled: the
	 * router never reads it. */
	char rule_id[NET_ID_MAX];
};

struct net_sg_config {
	char id[NET_ID_MAX];
	char vpc_id[NET_ID_MAX];
	const struct net_sg_rule_config *rules;
	size_t n_rules;
};

struct net_subnet_config {
	char id[NET_ID_MAX];
	char vpc_id[NET_ID_MAX];
	struct cidr4 cidr;			/* router: cidr + 1 */
	char route_table_id[NET_ID_MAX];	/* the main table when not associated */
	char nacl_id[NET_ID_MAX];
};

struct net_eni_config {
	char id[NET_ID_MAX];
	char subnet_id[NET_ID_MAX];
	uint8_t mac[6];
	uint32_t ip;			/* host order */
	uint32_t public_ip;		/* 0: none; 1:1 NAT at the igw */
	bool src_dst_check;
	char group_ids[NET_ENI_MAX_GROUPS][NET_ID_MAX];
	size_t n_groups;
	int tap_fd;			/* -1: not attached (no traffic); set O_NONBLOCK */
	/* Added for offloads; zero (the default) keeps the old meaning. */
	int vnet_hdr;			/* 0: ask the fd (TUNGETIFF); -1: plain frames;
					 * 10..16: each frame starts with a virtio_net_hdr
					 * of this many bytes */
	bool no_offload;		/* net_instance_create: plain TAP, no virtio_net_hdr */
};

/* A port: where packets for a gateway go, and where the gateway's packets
 * come from. Plain IPv4 packets, no link header. The router calls both on
 * its thread; neither may block or call back into the router.
 *   tx: send n packets (pkts[i], lens[i]); return how many were sent (the
 *       rest are counted as tx-error). The bytes are the router's: copy
 *       what you keep.
 *   rx: called when fd is readable (a port with fd -1 only sends):
 *       copy up to max packets into bufs[i] (NET_PKT_MAX bytes each),
 *       set lens[i], return the count.
 * net_port_fd_ops is a ready implementation over an fd that carries one
 * packet per read/write (a TUN fd with IFF_NO_PI, one end of a
 * SOCK_SEQPACKET/SOCK_DGRAM socketpair); arg is (void *)(intptr_t)fd. */
struct net_port_ops {
	unsigned (*tx)(void *arg, uint8_t *const *pkts, const uint32_t *lens, unsigned n);
	unsigned (*rx)(void *arg, uint8_t *const *bufs, uint32_t *lens, unsigned max);
};
extern const struct net_port_ops net_port_fd_ops;

/* Offloads a port's reader finishes (the engine's uplink reads frames with
 * a virtio_net_hdr from an AF_PACKET socket with PACKET_VNET_HDR): the
 * same code the router runs for its TAPs (src/net/offload.c), so that
 * what a sender left unfinished is finished in one place. frame: len
 * bytes, an IPv4 packet at l3_off (after its link header); vnet: the
 * NET_VNET_HDR_LEN-byte header read with it (native byte order). Writes
 * what a port's rx hands the router, bare IPv4 packets of at most
 * NET_PKT_MAX bytes, into out[0..max), lens set: a partial checksum
 * completed (in the frame, then copied), a GSO TCP/IPv4 frame cut into
 * segments of at most the header's gso_size payload bytes with their own
 * IPv4 and TCP checksums (as many as max holds), a frame without offload
 * copied as it is (without link padding; the router parses it). Returns
 * how many; 0 drops it: no IPv4 packet, a malformed one where an offload
 * must be read, a header the packet contradicts (vnet_hdr_check), or a
 * single packet above NET_PKT_MAX. Any thread; allocates nothing. */
#define NET_VNET_HDR_LEN	10
unsigned net_offload_finish(uint8_t *frame, uint32_t len, uint32_t l3_off,
			    const uint8_t vnet[NET_VNET_HDR_LEN], uint8_t *const *out, uint32_t *lens,
			    unsigned max);

enum net_gateway_kind { NET_GW_IGW, NET_GW_VGW };

/* A VPN gateway's own routes: which of its VPN connections carries a
 * destination (the connections' static routes, and later the routes
 * learned over BGP), as AWS's virtual private gateway chooses. The router
 * looks them up (longest prefix) after the route table picked the
 * gateway, and hands the packet to the port with the connection's key
 * (struct ring_meta.rm_conn); the endpoint then only chooses between the
 * connection's two tunnels (the UP one, tunnel first when both are).
 * A destination no route covers, or a prefix two connections both route,
 * goes with key 0: the endpoint decides among the gateway's tunnels. */
struct net_vgw_route {
	struct cidr4 dest;
	uint64_t conn_key;		/* the engine's key of the connection; not 0 */
	uint8_t tunnel;			/* 0: either tunnel; 1, 2: that one first (BGP's choice) */
};

struct ring;	/* base/ring.h */

struct net_gateway_config {
	char id[NET_ID_MAX];		/* igw-..., vgw-... */
	char vpc_id[NET_ID_MAX];	/* attached to; "" = detached (drops: no-port) */
	enum net_gateway_kind kind;
	const struct net_port_ops *ops;	/* NULL: no port yet (drops: no-port) */
	void *arg;
	int fd;				/* polled for rx; -1 none; set O_NONBLOCK */
	/* Added with the VPN gateway as a router port (zero: none):
	 * an in-process port instead of ops/arg/fd: ring_out carries the
	 * packets the router sends through the gateway, each with its
	 * decision and parsed facts (base/ring.h), ring_in the packets the
	 * gateway delivers (its eventfd is polled). Both outlive every
	 * snapshot that names them (the caller frees them after the router
	 * stopped). The router is ring_out's only producer and ring_in's only
	 * consumer. */
	struct ring *ring_out, *ring_in;
	const struct net_vgw_route *vgw_routes;	/* kind NET_GW_VGW */
	size_t n_vgw_routes;
};

/* A NAT gateway (source NAT with port translation, net/nat.h): its
 * interface eni_id (an ENI of cfg.enis without a TAP) gives its private
 * address, subnet and, for a public gateway, its Elastic IP (the ENI's
 * public_ip, the igw's 1:1 NAT). Flows routed to it leave with the
 * interface's address and a port of its own, routed by the interface's
 * subnet's table; only their answers come back in. */
struct net_nat_config {
	char id[NET_ID_MAX];		/* nat-... */
	char eni_id[NET_ID_MAX];
};

/* An active VPC peering connection between two VPCs: a route to it in
 * one VPC's table delivers to the other VPC's ENIs (no transit). */
struct net_peering_config {
	char id[NET_ID_MAX];		/* pcx-... */
	char vpc_ids[2][NET_ID_MAX];
};

struct net_config {
	const struct net_subnet_config *subnets;	size_t n_subnets;
	const struct net_route_table_config *route_tables; size_t n_route_tables;
	const struct net_nacl_config *nacls;		size_t n_nacls;
	const struct net_sg_config *sgs;		size_t n_sgs;
	const struct net_eni_config *enis;		size_t n_enis;
	const struct net_gateway_config *gateways;	size_t n_gateways;
	/* added with NAT gateways and peering; zero (none) by default */
	const struct net_nat_config *nats;		size_t n_nats;
	const struct net_peering_config *peerings;	size_t n_peerings;
};

/* --- the compiled snapshot ---------------------------------------------- */

struct net_snapshot;

/* Compiles cfg (copied; nothing in it is kept). NULL with a reason in err
 * when it is inconsistent: unknown subnet/table/NACL/group/gateway id,
 * duplicate id, two ENIs with one address in a VPC, an ENI outside its
 * subnet, a bad CIDR. */
struct net_snapshot *net_snapshot_build(const struct net_config *cfg, char *err, size_t errlen);
void net_snapshot_free(struct net_snapshot *s);

/* --- the router --------------------------------------------------------- */

enum net_drop {
	NET_DROP_BAD_FRAME,	/* truncated, bad IPv4 header or checksum */
	NET_DROP_UNSUPPORTED,	/* not IPv4/ARP, not for the router MAC, later fragment */
	NET_DROP_SRC_DST_CHECK,
	NET_DROP_NACL_OUT,
	NET_DROP_SG_EGRESS,
	NET_DROP_NO_ROUTE,
	NET_DROP_BLACKHOLE,
	NET_DROP_NO_ENI,	/* local address that no ENI has, or ENI unattached */
	NET_DROP_NACL_IN,
	NET_DROP_SG_INGRESS,
	NET_DROP_NO_PORT,	/* gateway not attached or without a port */
	NET_DROP_NO_PUBLIC_IP,	/* to the igw from an ENI without a public address */
	NET_DROP_TX_ERROR,	/* write to a TAP or port failed */
	NET_DROP_FRAGMENT,	/* later IPv4 fragment whose first was not seen or not allowed */
	NET_DROP_NAT_NO_MAPPING,	/* to a NAT gateway, not an answer to a flow it translated */
	NET_DROP_NAT_REFUSED,	/* NAT gateway: no free mapping or port; or a protocol it does
				 * not translate (not TCP, UDP, ICMP echo), or a fragment */
	NET_DROP_PORT_FULL,	/* a ring port (VPN gateway) had no free slot */
	NET_DROP_MAX
};
/* "bad-frame", "nacl-out", ... */
const char *net_drop_name(enum net_drop why);

struct net_counters {
	uint64_t drops[NET_DROP_MAX];
	uint64_t rx_frames, tx_frames;	/* ENI side */
	uint64_t port_rx, port_tx;	/* packets from/to gateway ports */
	uint64_t arp_replies, arp_ignored;
	uint64_t ct_entries;		/* live connection-table entries (approx.) */
	uint64_t ct_evictions;		/* flows pushed out of a full bucket */
	uint64_t snapshots;		/* applied so far */
	/* added with offloads and fragments: */
	uint64_t gso_rx;		/* GSO frames read from ENIs */
	uint64_t sw_segments;		/* segments cut in software (to ports, plain ENIs) */
	uint64_t frag_evictions;	/* fragment trains pushed out of a full bucket */
	/* added with NAT gateways: */
	uint64_t nat_entries;		/* live NAT mappings (approx.) */
	uint64_t nat_refused;		/* new flows a full NAT table refused */
	/* added with batched TAP I/O: */
	uint64_t tap_batches;		/* io_uring_enter calls that read or wrote TAP frames
					 * (0: one read/write per frame, no io_uring) */
	/* added with UDP trains: */
	uint64_t udp_trains;		/* GSO UDP frames written to ENIs (trains of datagrams) */
	uint64_t udp_train_frames;	/* the datagrams in them (tx_frames counts each) */
	uint64_t sheds, shed_ms;	/* overload shedding (router.c): spells, ms spent in them */
	uint64_t shed_withdrawn;	/* spells ended because the router starved (its CPU share) */
	bool shedding;			/* in a spell now */
	int shed_nice;			/* the nice value while shedding; 0: shedding off */
	/* added with TCP trains: */
	uint64_t tcp_trains;		/* GSO TCP frames written to ENIs (trains of segments) */
	uint64_t tcp_train_segments;	/* the segments in them (tx_frames counts each) */
};

#define NET_SHED_NICE_DEFAULT	10	/* vpcd's --router-shed-nice unless told */

struct net_router_config {
	uint8_t router_mac[6];		/* all zero: 0e:76:70:63:64:01 */
	uint32_t ct_entries;		/* rounded up to a power of two; 0: default */
	bool syscall_io;		/* true: TAP frames by read(2)/write(2) one at a
					 * time, not batched through io_uring (tests, benches) */
	bool no_udp_trains;		/* true: every UDP datagram written alone (tests,
					 * benches); also so on kernels before 6.2, whose
					 * TAPs refuse UDP GSO frames, and after a TAP
					 * refused one (EINVAL) */
	int shed_nice;			/* overload shedding (router.c): the router thread's
					 * nice value while overloaded, 1..19; 0: off */
	/* How the router thread sets its own nice value: 0 or -errno. With
	 * wait false it must not block (a spell's start and end: the change
	 * may land a little later, failures are the callee's to log); with
	 * wait true (the router's check at its start) it says whether it
	 * worked. NULL: setpriority(2), which cannot take nice 0 back
	 * without privileges (vpcd passes a path to its privileged helper). */
	int (*set_nice)(void *arg, pid_t tid, int nice, bool wait);
	void *set_nice_arg;
	bool no_tcp_trains;		/* true: every TCP segment written alone (tests,
					 * benches); also so after a TAP refused a TCP GSO
					 * frame (EINVAL) */
};

struct net_router;

struct net_router *net_router_new(const struct net_router_config *cfg);
/* Stops it if running. The snapshot in use is freed; no fd is closed. */
void net_router_free(struct net_router *r);

/* Builds a snapshot from cfg and swaps it in; see step 3 above. 0, or -1
 * with the reason in err (the old snapshot stays). Any thread, but one
 * at a time (calls are serialised by a lock). */
int net_router_apply(struct net_router *r, const struct net_config *cfg, char *err, size_t errlen);

int net_router_start(struct net_router *r);
void net_router_stop(struct net_router *r);

/* Any thread, no lock: each value is whole, the set is not one instant. */
void net_router_counters(struct net_router *r, struct net_counters *out);

/* --- tracing one packet (control plane; for `vpcctl trace`) --------------- */

/* A synthetic packet is run through the current snapshot as the first
 * packet of a new flow (or, with answer, as an answer of a tracked one,
 * for the way back): the connection table is neither read nor written,
 * nothing is sent, no counter moves. Each stage the packet passes (or
 * fails) is one step, in path order; the first step with allowed false is
 * where it is dropped, and drop names the cause. */
#define NET_TRACE_STEPS_MAX	16

enum net_trace_stage {
	NET_TRACE_SOURCE,	/* id: the ENI; its MAC/source-address check */
	NET_TRACE_GATEWAY_IN,	/* id: the gateway the packet came in through */
	NET_TRACE_NAT_IN,	/* igw: public address -> addr (private) */
	NET_TRACE_NACL_OUT,	/* id: source subnet's NACL; rule: number that decided */
	NET_TRACE_SG_EGRESS,	/* id: the group whose rule allowed, rule: its index
				 * in that group's rules (net_sg_config.rules, both
				 * directions; its rule_id names it); denied: id is the
				 * ENI, rule -1 */
	NET_TRACE_ROUTE,	/* id: route table; route: the longest match */
	NET_TRACE_NAT_OUT,	/* igw: private -> addr (the ENI's public address) */
	NET_TRACE_NACL_IN,	/* id: destination subnet's NACL; rule: number */
	NET_TRACE_SG_INGRESS,	/* like SG_EGRESS, on the destination ENI */
	NET_TRACE_DELIVER,	/* id: the destination ENI */
	NET_TRACE_PORT,		/* id: the gateway whose port it leaves through */
	NET_TRACE_NAT_GATEWAY,	/* id: the NAT gateway; addr: its private address
				 * (the new source out, the flow's address in) */
};
/* "source", "nacl-out", "sg-egress", "route", ... */
const char *net_trace_stage_name(enum net_trace_stage st);

struct net_trace_step {
	enum net_trace_stage stage;
	bool allowed;
	char id[NET_ID_MAX];
	int32_t rule;			/* NACL: rule number (NACL_RULE_DEFAULT_DENY: "*");
					 * SG: rule index; -1 otherwise */
	struct net_route_config route;	/* NET_TRACE_ROUTE when a route matched */
	uint32_t addr;			/* NET_TRACE_NAT_*: the address after translation */
	uint16_t port;			/* NET_TRACE_NAT_GATEWAY traced with a flow (and
					 * TCP, UDP or an echo): out, the mapping's port
					 * (the new source port, or echo id); in, the
					 * instance's port the answer goes back to; 0
					 * otherwise */
	uint64_t conn_key;		/* NET_TRACE_PORT of a VPN gateway: the connection its
					 * own routes chose (net_vgw_route); 0: none, the
					 * endpoint decides */
};

struct net_trace_query {
	/* An ENI id (the packet leaves that ENI) or a gateway id (it comes
	 * in from outside through that gateway, e.g. the office LAN through
	 * the vgw: the caller picks the gateway for an outside address). */
	char from_id[NET_ID_MAX];
	uint32_t src;			/* host order; 0 from an ENI: its address */
	uint32_t dst;
	uint8_t proto;			/* 6, 17, 1, or another protocol number */
	uint16_t sport, dport;		/* TCP/UDP; sport 0: 49152 */
	bool icmp_given;		/* false: an echo request (8/0) */
	uint8_t icmp_type, icmp_code;
	/* The snapshot was compiled from a plan without TAPs or ports (the
	 * control plane's picture, no data plane needed): an ENI without a
	 * TAP counts as attached and a gateway attached to the VPC counts as
	 * having its port. false: the running router's view (no-eni, no-port). */
	bool plan_only;
	/* The packet answers a flow the router already tracks (the way back
	 * of a traced packet: addresses and ports swapped, an ICMP echo reply
	 * for an echo): the security groups let it pass unevaluated (stateful;
	 * no sg- step), network ACLs and routes still decide it (stateless),
	 * as they do for a real answer. An answer through a NAT gateway
	 * (addressed to its mapping) needs the flow its packet was traced
	 * with: the gateway looks its mapping up there, and the groups then
	 * pass it only if that flow's table tracks it, as the router does. */
	bool answer;
	/* NULL: no connection or NAT table (a NAT gateway translates but
	 * keeps no mapping, so no answer comes back through it). Else the
	 * trace's own tables (net_trace_flow_new), which the packet reads
	 * and writes as the router's own: a forward packet leaves its flow
	 * tracked and a NAT gateway's mapping made, which its answer, traced
	 * with the same flow, then meets. */
	struct net_trace_flow *flow;
};

struct net_trace_result {
	struct net_trace_step steps[NET_TRACE_STEPS_MAX];
	size_t n_steps;
	bool delivered;			/* reached an ENI, or left through a port */
	enum net_drop drop;		/* the cause; NET_DROP_MAX when delivered */
	bool plan_only;			/* the query's, as the walk reads it */
	bool answer;			/* the query's, as the walk reads it */
};

/* The tables of one traced flow (a small connection table and NAT table
 * of its own: the router's are never read or written), empty when made.
 * NULL when out of memory. */
struct net_trace_flow *net_trace_flow_new(void);
void net_trace_flow_free(struct net_trace_flow *f);

/* Against the router's current snapshot (serialised with apply; any
 * thread). 0, or -1 with the reason in err (unknown from_id, no snapshot,
 * a source address missing). A dropped packet is a result (0), not an
 * error. */
int net_router_trace(struct net_router *r, const struct net_trace_query *q,
		     struct net_trace_result *out, char *err, size_t errlen);
/* The same against a snapshot the caller holds (tests, dry runs). */
int net_snapshot_trace(const struct net_snapshot *s, const uint8_t router_mac[6],
		       const struct net_trace_query *q, struct net_trace_result *out,
		       char *err, size_t errlen);

/* --- instances: namespaces and TAPs (control plane only) ----------------- */

/* Creates the network namespace `id` (/run/netns/<id>; must not exist), a
 * TAP (IFF_TAP|IFF_NO_PI; unless eni->no_offload also IFF_VNET_HDR with
 * checksum and TSO offloads, see "Offloads") named eth0 inside it with
 * eni->mac, address
 * eni->ip with the subnet's prefix length (no on-link subnet route: every
 * packet goes to the router, as in AWS), a route to the router address
 * and the default route via it, lo up, IPv6 off. subnet_cidr gives the
 * prefix and the router (.1). *tap_fd: non-blocking, owned by the caller.
 * 0, or -1 (logged; everything created is removed again). */
int net_instance_create(const char *id, const struct net_eni_config *eni,
			const struct cidr4 *subnet_cidr, int *tap_fd);
/* Closes tap_fd (if >= 0) and deletes the namespace (and its
 * /etc/netns/<id>). 0, or -1 (logged). */
int net_instance_destroy(const char *id, int tap_fd);

/* The namespace's resolver configuration: text becomes
 * /etc/netns/<id>/resolv.conf, which `ip netns exec <id>` bind-mounts over
 * /etc/resolv.conf (replaced whole, by rename). 0, or -1 (logged). */
int net_instance_set_resolv(const char *id, const char *text);

/* The same inside a namespace that already exists (ns_name under
 * /run/netns), as interface ifname; the namespace is left alone when the
 * fd is closed. */
int net_eni_attach_netns(const char *ns_name, const char *ifname,
			 const struct net_eni_config *eni, const struct cidr4 *subnet_cidr,
			 int *tap_fd);

/* A secondary ENI (DeviceIndex > 0) in a namespace that already exists:
 * the same TAP, MAC and address, but no default route; a route to the
 * router address and one to the ENI's subnet via it, both metric 100 (an
 * ENI in the primary's subnet leaves the primary's routes first). The
 * interface goes away when the fd is closed. */
int net_eni_attach_secondary(const char *ns_name, const char *ifname,
			     const struct net_eni_config *eni, const struct cidr4 *subnet_cidr,
			     int *tap_fd);

#endif
