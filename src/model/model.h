/*
 * model — the rules of a VPC, as pure functions over data: CIDR arithmetic,
 * AWS's limits and reserved addresses, network ACL evaluation, the default
 * objects of a new VPC, regions and zones, resource ids.
 * Never does I/O; the api layer validates through it.
 */
#ifndef VPCD_MODEL_H
#define VPCD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/doc.h"

/* --- IPv4 prefixes ------------------------------------------------------ */

struct cidr4 {
	uint32_t c_addr;	/* host order, host bits cleared when normalised */
	uint8_t c_len;		/* 0..32 */
};

#define CIDR_STR_MAX 19		/* "255.255.255.255/32" + NUL */
#define IP4_STR_MAX 16

/* Parses "a.b.c.d/n" strictly (no leading zeros beyond "0", n <= 32).
 * Host bits are cleared; *had_host_bits (if not NULL) tells whether they
 * were set. */
bool cidr_parse(const char *s, struct cidr4 *out, bool *had_host_bits);
bool ip4_parse(const char *s, uint32_t *out);
void cidr_format(const struct cidr4 *c, char *buf);	/* CIDR_STR_MAX */
void ip4_format(uint32_t a, char *buf);			/* IP4_STR_MAX */
uint32_t cidr_mask(uint8_t len);
uint64_t cidr_size(const struct cidr4 *c);
bool cidr_contains(const struct cidr4 *outer, const struct cidr4 *inner);
bool cidr_contains_ip(const struct cidr4 *c, uint32_t ip);
bool cidr_overlaps(const struct cidr4 *a, const struct cidr4 *b);

/* --- IPv6 prefixes (security group rules only: the data plane carries no
 * IPv6 yet) ------------------------------------------------------------- */

#define CIDR6_STR_MAX 50	/* 45 characters of address (INET6_ADDRSTRLEN), "/128", NUL */

/* Parses "addr/n" (n <= 128) into its canonical text (RFC 5952: lower
 * case, the longest run of zeros compressed) with host bits cleared, as
 * AWS returns IPv6 ranges. false when malformed. */
bool cidr6_normalise(const char *s, char out[CIDR6_STR_MAX]);

/* A set of disjoint IPv4 ranges kept sorted, e.g. the subnets of one VPC:
 * "does this block overlap any member" is a binary search (O(log n)),
 * adding or removing one moves the tail of an array (O(n) bytes, no
 * per-member allocation). Ranges are [lo, hi], inclusive. */
struct cidr_set {
	struct cidr_range { uint32_t lo, hi; } *cs_items;
	size_t cs_count, cs_cap;
};
#define CIDR_SET_INIT { NULL, 0, 0 }
/* True when c shares an address with a member. */
bool cidr_set_overlaps(const struct cidr_set *s, const struct cidr4 *c);
/* Adds c; returns false (and adds nothing) when it overlaps a member. */
bool cidr_set_add(struct cidr_set *s, const struct cidr4 *c);
/* Removes the member that is exactly c; false when there is none. */
bool cidr_set_remove(struct cidr_set *s, const struct cidr4 *c);
void cidr_set_free(struct cidr_set *s);

/* VPC and subnet blocks: /16 to /28. */
#define VPC_PREFIX_MIN 16
#define VPC_PREFIX_MAX 28

/* Every subnet reserves its network address, +1 (router), +2 (DNS),
 * +3 (future) and its broadcast address. */
#define SUBNET_RESERVED_ADDRESSES 5
uint32_t subnet_available_total(const struct cidr4 *subnet);
bool subnet_address_reserved(const struct cidr4 *subnet, uint32_t ip);
uint32_t subnet_router_address(const struct cidr4 *subnet);

/* --- network ACLs --------------------------------------------------------- */

#define NACL_RULE_MIN 1
#define NACL_RULE_MAX 32766
#define NACL_RULE_DEFAULT_DENY 32767	/* the "*" rule every ACL ends with */

struct nacl_rule {
	uint16_t nr_number;
	bool nr_egress;
	bool nr_allow;
	int16_t nr_protocol;		/* -1 all, else IP protocol number */
	struct cidr4 nr_cidr;
	uint16_t nr_port_from, nr_port_to;	/* TCP/UDP; 0..65535 when unset */
	int16_t nr_icmp_type, nr_icmp_code;	/* -1 any */
};

struct nacl_packet {
	bool np_egress;
	uint8_t np_protocol;
	uint32_t np_addr;	/* the remote address: destination when egress, source when ingress */
	uint16_t np_port;	/* destination port (TCP/UDP) */
	uint8_t np_icmp_type, np_icmp_code;
};

/* Lowest rule number that matches wins; returns the index of the matching
 * rule, or -1 when none matches (the implicit "*" deny). rules need not be
 * sorted. */
int nacl_evaluate(const struct nacl_rule *rules, size_t n, const struct nacl_packet *pkt);

/* Protocol argument as AWS takes it: "-1"/"all", a number 0..255, or
 * "tcp"/"udp"/"icmp"/"icmpv6". Returns -1 for all, -2 when invalid. */
int protocol_parse(const char *s);

/* --- regions, zones, ids -------------------------------------------------- */

struct zone_info {
	const char *z_name;	/* us-east-1a */
	const char *z_id;	/* use1-az6 */
};

struct region_info {
	const char *r_name;
	const char *r_endpoint;
	const struct zone_info *r_zones;
	size_t r_nzones;
	bool r_opt_in;		/* opened only on request: OptInStatus "opted-in" */
};

const struct region_info *region_find(const char *name);
const struct region_info *region_all(size_t *count);

/* "vpc-" + 17 lower-case hex digits, into buf (>= strlen(prefix) + 19). */
void model_new_id(const char *prefix, char *buf, size_t len);
#define RESOURCE_ID_MAX 40

#endif
