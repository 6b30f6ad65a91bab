/*
 * frame — Ethernet, ARP and IPv4 parsing for the router, the ARP reply it
 * sends for the subnet router address, and the 1:1 NAT address rewrite.
 *
 * Input is hostile: an instance writes whatever it wants into its TAP.
 * Every read is preceded by a length check; nothing here allocates, logs
 * or reads past len. The callers count what these functions reject.
 */
#include "net/net_int.h"

#include "base/csum.h"

#include <string.h>

enum frame_kind
frame_parse(const uint8_t *f, uint32_t len, struct pkt_meta *m)
{
	memset(m, 0, sizeof(*m));
	/* Destination MAC, source MAC, EtherType. */
	if (len < ETH_HLEN_)
		return FRAME_BAD;
	uint16_t type = rd16(f + 12);

	if (type == ETHERTYPE_IPV4_)
		return ipv4_parse(f, len, ETH_HLEN_, m);
	if (type != ETHERTYPE_ARP_)
		return FRAME_UNSUPPORTED;	/* IPv6, 802.1Q, LLDP, ... */

	/* ARP for IPv4 over Ethernet is 28 bytes after the Ethernet header. */
	if (len < ARP_FRAME_LEN)
		return FRAME_BAD;
	const uint8_t *a = f + ETH_HLEN_;
	if (rd16(a) != 1 || rd16(a + 2) != ETHERTYPE_IPV4_ || a[4] != 6 || a[5] != 4)
		return FRAME_BAD;
	m->pm_src = rd32(a + 14);	/* sender protocol address */
	m->pm_dst = rd32(a + 24);	/* target protocol address */
	return rd16(a + 6) == 1 ? FRAME_ARP_REQUEST : FRAME_ARP_OTHER;
}

static bool
icmp_is_query(uint8_t type)
{
	/* echo reply/request, timestamp, information, address mask: these
	 * carry an identifier that pairs a reply with its request. */
	return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

static bool
icmp_is_error(uint8_t type)
{
	/* unreachable, source quench, redirect, time exceeded, parameter
	 * problem: these carry the header of the packet they are about. */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The embedded packet of an ICMP error: its IPv4 header and the first 8
 * bytes of its L4 header (RFC 792), enough for the ports. When either is
 * missing, malformed or a later fragment, pm_inner_ok stays false and the
 * error is judged as a packet of its own. */
static void
icmp_error_parse(const uint8_t *ip, uint32_t ihl, uint32_t l4len, uint32_t off,
		 struct pkt_meta *m)
{
	m->pm_icmp_error = true;
	/* ICMP header (8), then the embedded fixed IPv4 header. */
	if (l4len < 8 + IPV4_HLEN_MIN)
		return;
	const uint8_t *in = ip + ihl + 8;
	uint32_t avail = l4len - 8;
	uint32_t in_ihl = (uint32_t)(in[0] & 0x0f) * 4;
	/* Version 4, its header within what we have, plus 8 bytes of L4. */
	if (in[0] >> 4 != 4 || in_ihl < IPV4_HLEN_MIN || in_ihl + 8 > avail)
		return;
	if ((rd16(in + 6) & 0x1fff) != 0)
		return;
	const uint8_t *l4 = in + in_ihl;
	m->pm_inner_proto = in[9];
	m->pm_inner_src = rd32(in + 12);
	m->pm_inner_dst = rd32(in + 16);
	if (in[9] == IPPROTO_TCP_ || in[9] == IPPROTO_UDP_) {
		m->pm_inner_sport = rd16(l4);
		m->pm_inner_dport = rd16(l4 + 2);
	} else if (in[9] == IPPROTO_ICMP_ && icmp_is_query(l4[0])) {
		m->pm_inner_sport = m->pm_inner_dport = rd16(l4 + 4);
	} else if (in[9] == IPPROTO_ICMP_) {
		return;		/* no error about an error */
	}
	m->pm_inner_off = (uint16_t)(off + ihl + 8);
	m->pm_inner_l4_off = (uint16_t)(off + ihl + 8 + in_ihl);
	m->pm_inner_ok = true;
}

enum frame_kind
ipv4_parse(const uint8_t *p, uint32_t len, uint32_t off, struct pkt_meta *m)
{
	memset(m, 0, sizeof(*m));
	/* The fixed IPv4 header. */
	if (off > len || len - off < IPV4_HLEN_MIN)
		return FRAME_BAD;
	const uint8_t *ip = p + off;
	uint32_t avail = len - off;
	if (ip[0] >> 4 == 6)
		return FRAME_UNSUPPORTED;
	if (ip[0] >> 4 != 4)
		return FRAME_BAD;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	/* Options, if any, within what we have. */
	if (ihl < IPV4_HLEN_MIN || ihl > avail)
		return FRAME_BAD;
	uint32_t tot = rd16(ip + 2);
	/* Total length covers the header and fits (Ethernet may pad). */
	if (tot < ihl || tot > avail)
		return FRAME_BAD;
	if (csum_fold(csum_add_bytes(0, ip, ihl)) != 0xffff)
		return FRAME_BAD;

	m->pm_l3_off = (uint16_t)off;
	m->pm_ip_len = (uint16_t)tot;
	m->pm_proto = ip[9];
	m->pm_src = rd32(ip + 12);
	m->pm_dst = rd32(ip + 16);
	m->pm_ip_id = rd16(ip + 4);
	uint16_t frag = rd16(ip + 6);
	uint32_t frag_off = (uint32_t)(frag & 0x1fff) * 8;
	m->pm_more_frags = (frag & 0x2000) != 0;
	if (frag_off != 0) {
		/* A later fragment has no L4 header, so no ports to match: it
		 * follows its first (path.c). One that would overlap the
		 * first's TCP/UDP header could rewrite the ports the first
		 * was judged by (RFC 1858): refused. */
		if ((m->pm_proto == IPPROTO_TCP_ && frag_off < 20) ||
		    (m->pm_proto == IPPROTO_UDP_ && frag_off < 8))
			return FRAME_BAD;
		m->pm_frag = PM_FRAG_LATER;
		return FRAME_IPV4;
	}
	if (m->pm_more_frags)
		m->pm_frag = PM_FRAG_FIRST;

	const uint8_t *l4 = ip + ihl;
	uint32_t l4len = tot - ihl;
	switch (m->pm_proto) {
	case IPPROTO_TCP_: {
		/* Fixed TCP header, then data offset within the segment. */
		if (l4len < 20)
			return FRAME_BAD;
		uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
		if (doff < 20 || doff > l4len)
			return FRAME_BAD;
		m->pm_sport = rd16(l4);
		m->pm_dport = rd16(l4 + 2);
		m->pm_tcp_flags = l4[13];
		break;
	}
	case IPPROTO_UDP_:
		/* UDP header; its length field must agree with IP's. */
		if (l4len < 8 || rd16(l4 + 4) < 8 || rd16(l4 + 4) > l4len)
			return FRAME_BAD;
		m->pm_sport = rd16(l4);
		m->pm_dport = rd16(l4 + 2);
		break;
	case IPPROTO_ICMP_:
		/* Type, code, checksum, and the 4 bytes every ICMP message has. */
		if (l4len < 8)
			return FRAME_BAD;
		m->pm_icmp_type = l4[0];
		m->pm_icmp_code = l4[1];
		if (icmp_is_query(l4[0]))
			m->pm_sport = m->pm_dport = rd16(l4 + 4);
		else if (icmp_is_error(l4[0]))
			icmp_error_parse(ip, ihl, l4len, off, m);
		break;
	default:
		break;
	}
	m->pm_l4_off = (uint16_t)(off + ihl);
	return FRAME_IPV4;
}

uint32_t
arp_build_reply(uint8_t *out, const uint8_t our_mac[6], uint32_t tpa,
		const uint8_t req_sha[6], uint32_t req_spa)
{
	uint8_t *a = out + ETH_HLEN_;

	memmove(out, req_sha, 6);	/* req_sha may point into out */
	memcpy(out + 6, our_mac, 6);
	wr16(out + 12, ETHERTYPE_ARP_);
	wr16(a, 1);
	wr16(a + 2, ETHERTYPE_IPV4_);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, 2);			/* reply */
	memmove(a + 18, out, 6);	/* target hardware address = requester */
	memcpy(a + 8, our_mac, 6);
	wr32(a + 14, tpa);
	wr32(a + 24, req_spa);
	return ARP_FRAME_LEN;
}

/* The L4 checksum over a pseudo header changes with the address. */
static void
l4_csum_address(uint8_t *p, const struct pkt_meta *m, uint32_t old, uint32_t new_addr)
{
	if (m->pm_l4_off == 0)
		return;
	uint8_t *l4 = p + m->pm_l4_off;
	uint8_t *c;
	if (m->pm_proto == IPPROTO_TCP_)
		c = l4 + 16;
	else if (m->pm_proto == IPPROTO_UDP_) {
		c = l4 + 6;
		if (rd16(c) == 0)	/* no checksum: stays none */
			return;
	} else
		return;			/* ICMP has no pseudo header */
	uint16_t v = rd16(c);
	v = csum_replace32(v, old, new_addr);
	if (m->pm_proto == IPPROTO_UDP_ && v == 0)
		v = 0xffff;
	wr16(c, v);
}

static void
ipv4_rewrite_at(uint8_t *p, struct pkt_meta *m, uint32_t field, uint32_t addr)
{
	uint8_t *ip = p + m->pm_l3_off;
	uint32_t old = rd32(ip + field);
	uint16_t h = rd16(ip + 10);

	h = csum_replace32(h, old, addr);
	wr16(ip + 10, h);
	wr32(ip + field, addr);
	l4_csum_address(p, m, old, addr);
}

/* In an ICMP error the embedded packet's address (field: 12 source, 16
 * destination) goes from old to addr: its header checksum, its L4
 * checksum when the error quotes it, and the ICMP checksum over all of
 * these follow, incrementally. Every word touched is at an even offset
 * from the ICMP header, so the 16-bit updates line up. */
static void
icmp_inner_rewrite(uint8_t *p, struct pkt_meta *m, uint32_t field, uint32_t addr)
{
	uint8_t *icmp = p + m->pm_l4_off;
	uint8_t *in = p + m->pm_inner_off;
	uint32_t old = rd32(in + field);
	uint16_t ic = rd16(icmp + 2);
	uint32_t end = (uint32_t)m->pm_l3_off + m->pm_ip_len;

#define WORD(at, nv) do { 		uint16_t ov_ = rd16(at); 		ic = csum_replace16(ic, ov_, (uint16_t)(nv)); 		wr16(at, (uint16_t)(nv)); 	} while (0)
	WORD(in + field, addr >> 16);
	WORD(in + field + 2, addr & 0xffff);
	uint16_t h = rd16(in + 10);
	h = csum_replace32(h, old, addr);
	WORD(in + 10, h);
	uint32_t cpos = m->pm_inner_proto == IPPROTO_TCP_ ? 16 : m->pm_inner_proto == IPPROTO_UDP_ ? 6 : 0;
	/* The quoted L4 checksum, when the quote reaches it. */
	if (cpos && (uint32_t)m->pm_inner_l4_off + cpos + 2 <= end) {
		uint8_t *c = p + m->pm_inner_l4_off + cpos;
		uint16_t v = rd16(c);
		if (!(m->pm_inner_proto == IPPROTO_UDP_ && v == 0)) {
			v = csum_replace32(v, old, addr);
			if (m->pm_inner_proto == IPPROTO_UDP_ && v == 0)
				v = 0xffff;
			WORD(c, v);
		}
	}
#undef WORD
	wr16(icmp + 2, ic);
	if (field == 12)
		m->pm_inner_src = addr;
	else
		m->pm_inner_dst = addr;
}

void
ipv4_rewrite_src(uint8_t *p, struct pkt_meta *m, uint32_t addr)
{
	uint32_t old = m->pm_src;

	ipv4_rewrite_at(p, m, 12, addr);
	m->pm_src = addr;
	/* An error about a packet sent to old quotes old as its destination. */
	if (m->pm_inner_ok && m->pm_inner_dst == old)
		icmp_inner_rewrite(p, m, 16, addr);
}

void
ipv4_rewrite_dst(uint8_t *p, struct pkt_meta *m, uint32_t addr)
{
	uint32_t old = m->pm_dst;

	ipv4_rewrite_at(p, m, 16, addr);
	m->pm_dst = addr;
	/* An error about a packet old sent quotes old as its source. */
	if (m->pm_inner_ok && m->pm_inner_src == old)
		icmp_inner_rewrite(p, m, 12, addr);
}
