/*
 * nat — the NAT gateways' translation table: source NAT with port
 * translation, as the router's NAT gateway step (path.c) applies it.
 *
 * A mapping says: the flow (proto, internal address:port -> remote
 * address:port) leaves NAT gateway nat_ip of VPC zone as nat_ip:ext_port.
 * TCP and UDP translate the source port, ICMP echo the identifier (which
 * pm_sport/pm_dport carry). Each flow gets its own external port, so the
 * inbound lookup is exact: (zone, nat_ip, proto, ext_port) and the
 * remote end must be the one the flow was sent to — anything else coming
 * in to the gateway is unsolicited and dropped, as on AWS.
 *
 * Bounds: a fixed pool of entries (nat_init), two bucketed hash indexes
 * of NAT_BUCKET slots (outbound by flow, inbound by external port), all
 * allocated once; nothing is allocated per packet. Expiry is lazy: an
 * expired entry is reclaimed when a lookup meets it in a bucket, or by a
 * bounded sweep (NAT_SWEEP_MAX entries) when the pool is empty. When no
 * entry, slot or port is free the new flow is refused (nat_create NULL),
 * never an old one evicted: a live connection keeps its port.
 *
 * Timeouts: AWS closes a NAT gateway connection idle for 350 s; TCP
 * before the first answer and after FIN/RST, and ICMP, go sooner.
 *
 * One thread (the router's) reads and writes a table.
 */
#ifndef VPCD_NET_NAT_H
#define VPCD_NET_NAT_H

#include <stdbool.h>
#include <stdint.h>

#define NAT_DEFAULT_ENTRIES	(1u << 16)
#define NAT_BUCKET		8
#define NAT_PORT_MIN		1024	/* external ports (and ICMP ids) handed out */
#define NAT_PORT_MAX		65535
#define NAT_PORT_TRIES		64	/* candidate ports looked at per new flow */
#define NAT_SWEEP_MAX		64	/* entries looked at for expiry when the pool is empty */
#define NAT_TCP_SYN_MS		(60u * 1000)	/* until the remote end answers */
#define NAT_IDLE_MS		(350u * 1000)	/* AWS: idle connections time out after 350 s */
#define NAT_TCP_CLOSING_MS	(30u * 1000)	/* after a FIN or RST */
#define NAT_ICMP_MS		(30u * 1000)

struct nat_flow {
	uint32_t nf_zone;		/* the VPC's connection-tracking zone */
	uint32_t nf_nat_ip;		/* the gateway's private address */
	uint32_t nf_int_ip, nf_rem_ip;	/* host order */
	uint16_t nf_int_port, nf_rem_port;
	uint8_t nf_proto;
};

struct nat_entry {
	struct nat_flow ne_flow;
	uint16_t ne_ext_port;
	bool ne_replied;
	bool ne_closing;
	uint64_t ne_expires_ms;		/* 0: free */
	uint32_t ne_out_slot, ne_in_slot;	/* where the two indexes hold it */
};

struct nat_table {
	struct nat_entry *nt_entries;
	uint32_t nt_cap;
	uint32_t *nt_out;		/* nt_nbuckets * NAT_BUCKET: entry index + 1, 0 empty */
	uint32_t *nt_in;
	uint32_t nt_nbuckets;		/* power of two */
	uint32_t *nt_free;		/* stack of free entry indices */
	uint32_t nt_nfree;
	uint32_t nt_sweep;		/* the sweep's next entry */
	uint64_t nt_seed;
	uint64_t nt_live;		/* entries in use (expired ones not yet reclaimed included) */
	uint64_t nt_refused;		/* new flows refused: no entry, slot or port */
};

/* entries: rounded up to a power of two; 0: NAT_DEFAULT_ENTRIES. 0, or -1
 * when out of memory. */
int nat_init(struct nat_table *t, uint32_t entries);
void nat_free(struct nat_table *t);

/* The live mapping of an outbound flow, or NULL. */
struct nat_entry *nat_lookup_out(struct nat_table *t, const struct nat_flow *f, uint64_t now_ms);
/* A new mapping for f (which has none): an external port no live mapping
 * of (zone, nat_ip, proto) uses. NULL when refused (counted). */
struct nat_entry *nat_create(struct nat_table *t, const struct nat_flow *f, uint64_t now_ms);
/* The live mapping that ext_port of (zone, nat_ip, proto) belongs to, if
 * the packet comes from that mapping's remote end; else NULL. */
struct nat_entry *nat_lookup_in(struct nat_table *t, uint32_t zone, uint32_t nat_ip, uint8_t proto,
				uint16_t ext_port, uint32_t rem_ip, uint16_t rem_port, uint64_t now_ms);
/* A packet of the mapping passed (inbound: from the remote end). */
void nat_touch(struct nat_entry *e, bool inbound, uint8_t tcp_flags, uint64_t now_ms);

#endif
