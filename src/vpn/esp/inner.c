/*
 * inner — plaintext-side IPv4 helpers for the tunnel; see inner.h.
 * Every function validates the IPv4 header against len before it reads a
 * field further in, and changes nothing on a packet it does not accept.
 */
#include "vpn/esp/inner.h"
#include "base/csum.h"

#include <string.h>

#define IPV4_MIN_HDR	20u
#define IPV4_DF		0x4000u
#define IPV4_MF		0x2000u
#define IPV4_OFFMASK	0x1fffu
#define IPPROTO_ICMP_	1u
#define IPPROTO_TCP_	6u
#define TCP_MIN_HDR	20u
#define TCP_FLAG_SYN	0x02u
#define TCPOPT_EOL	0u
#define TCPOPT_NOP	1u
#define TCPOPT_MSS	2u
#define TCPOLEN_MSS	4u
#define ICMP_ECHO_REPLY	0u
#define ICMP_ECHO	8u
#define ICMP_HDR	8u
#define REPLY_TTL	64u
#define IPOPT_COPIED	0x80u
#define IPOPT_EOL	0u
#define IPOPT_NOP	1u

static inline uint32_t
ihl_of(const uint8_t *p)
{
	return (uint32_t)(p[0] & 0xf) * 4;
}

bool
inner_ipv4_ok(const uint8_t *p, uint32_t len)
{
	/* The fixed header before any field is read. */
	if (len < IPV4_MIN_HDR || p[0] >> 4 != 4)
		return false;
	/* Header length: at least 20, within the packet. */
	if (ihl_of(p) < IPV4_MIN_HDR || ihl_of(p) > len)
		return false;
	/* Total length is exactly what we hold. */
	return rd16(p + 2) == len;
}

static void
ip_checksum_set(uint8_t *p)
{
	wr16(p + 10, 0);
	wr16(p + 10, csum_finish(csum_add_bytes(0, p, ihl_of(p))));
}

bool
inner_facts_parse(const uint8_t *p, uint32_t len, struct inner_facts *f)
{
	memset(f, 0, sizeof(*f));
	if (!inner_ipv4_ok(p, len))
		return false;
	uint16_t frag = rd16(p + 6);
	uint32_t hl = ihl_of(p);

	f->if_len = (uint16_t)len;
	f->if_hlen = (uint8_t)hl;
	f->if_proto = p[9];
	f->if_df = (frag & IPV4_DF) != 0;
	f->if_fragment = (frag & (IPV4_MF | IPV4_OFFMASK)) != 0;
	/* A SYN's options: only an unfragmented packet or a first fragment,
	 * the fixed TCP header, then its data offset within the packet. */
	if (p[9] == IPPROTO_TCP_ && !(frag & IPV4_OFFMASK) && len - hl >= TCP_MIN_HDR &&
	    (p[hl + 13] & TCP_FLAG_SYN)) {
		uint32_t doff = (uint32_t)(p[hl + 12] >> 4) * 4;
		f->if_tcp_syn = doff >= TCP_MIN_HDR && doff <= len - hl;
	}
	return true;
}

bool
inner_clamp_mss(uint8_t *p, uint32_t len, uint16_t mss)
{
	struct inner_facts f;

	return inner_facts_parse(p, len, &f) && inner_clamp_mss_known(p, &f, mss);
}

bool
inner_clamp_mss_known(uint8_t *p, const struct inner_facts *f, uint16_t mss)
{
	uint32_t hl = f->if_hlen, len = f->if_len, doff, i;
	uint8_t *tcp;

	if (!f->if_tcp_syn)
		return false;
	/* The facts' promise, kept cheaply: the TCP header within len. */
	if (hl < IPV4_MIN_HDR || hl > len || len - hl < TCP_MIN_HDR)
		return false;
	tcp = p + hl;
	doff = (uint32_t)(tcp[12] >> 4) * 4;
	if (doff < TCP_MIN_HDR || doff > len - hl)
		return false;

	for (i = TCP_MIN_HDR; i < doff;) {
		uint8_t kind = tcp[i], olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		/* Every other option has a length byte, >= 2, within doff. */
		if (i + 1 >= doff)
			break;
		olen = tcp[i + 1];
		if (olen < 2 || i + olen > doff)
			break;
		if (kind == TCPOPT_MSS && olen == TCPOLEN_MSS) {
			uint32_t at = i + 2;
			uint8_t old[4];

			if (rd16(tcp + at) <= mss)
				return false;
			memcpy(old, tcp + (at & ~1u), (at & 1) ? 4 : 2);
			wr16(tcp + at, mss);
			wr16(tcp + 16, csum_replace_span(rd16(tcp + 16), tcp, at, 2, old));
			return true;
		}
		i += olen;
	}
	return false;
}

bool
inner_clear_df(uint8_t *p, uint32_t len)
{
	struct inner_facts f;

	return inner_facts_parse(p, len, &f) && inner_clear_df_known(p, &f);
}

bool
inner_clear_df_known(uint8_t *p, struct inner_facts *f)
{
	uint16_t frag, check;

	if (!f->if_df)
		return false;
	frag = rd16(p + 6);
	check = csum_replace16(rd16(p + 10), frag, (uint16_t)(frag & ~IPV4_DF));
	wr16(p + 6, (uint16_t)(frag & ~IPV4_DF));
	wr16(p + 10, check);
	f->if_df = false;
	return true;
}

/* Options of later fragments: only those with the copied flag (RFC 791),
 * padded with EOL to a multiple of 4. Returns the new header length. */
static uint32_t
later_header(const uint8_t *p, uint8_t *out)
{
	uint32_t hl = ihl_of(p), n = IPV4_MIN_HDR;

	memcpy(out, p, IPV4_MIN_HDR);
	for (uint32_t i = IPV4_MIN_HDR; i < hl;) {
		uint8_t type = p[i], olen;

		if (type == IPOPT_EOL)
			break;
		if (type == IPOPT_NOP) {
			i++;
			continue;
		}
		/* Length byte present, >= 2, option within the header. */
		if (i + 1 >= hl)
			break;
		olen = p[i + 1];
		if (olen < 2 || i + olen > hl)
			break;
		if (type & IPOPT_COPIED) {
			memcpy(out + n, p + i, olen);
			n += olen;
		}
		i += olen;
	}
	while (n % 4)
		out[n++] = IPOPT_EOL;
	out[0] = (uint8_t)(0x40 | n / 4);
	return n;
}

int
inner_fragment(struct esp_pkt *pkt, uint32_t mtu, struct esp_pkt *more, unsigned max_more)
{
	struct inner_facts f;

	if (pkt->off > pkt->size || pkt->len > pkt->size - pkt->off ||
	    !inner_facts_parse(pkt->buf + pkt->off, pkt->len, &f))
		return -1;
	return inner_fragment_known(pkt, &f, mtu, more, max_more);
}

int
inner_fragment_known(struct esp_pkt *pkt, const struct inner_facts *f, uint32_t mtu,
	struct esp_pkt *more, unsigned max_more)
{
	uint8_t *p = pkt->buf + pkt->off;
	uint8_t hdr2[60];
	uint32_t len = pkt->len, hl, hl2, first_data, data_len, pos;
	uint16_t frag, base_off;
	unsigned count = 0;

	/* The facts' promise, kept cheaply: they describe these bytes. */
	if (pkt->off > pkt->size || len > pkt->size - pkt->off || len != f->if_len ||
	    f->if_hlen < IPV4_MIN_HDR || f->if_hlen > len || ihl_of(p) != f->if_hlen)
		return -1;
	if (len <= mtu)
		return 0;
	if (f->if_df)
		return -1;
	frag = rd16(p + 6);
	hl = f->if_hlen;
	hl2 = later_header(p, hdr2);
	/* Every fragment must carry at least 8 bytes of data. */
	if (mtu < hl + 8 || mtu < hl2 + 8)
		return -1;
	base_off = frag & IPV4_OFFMASK;
	data_len = len - hl;
	first_data = (mtu - hl) & ~7u;

	/* Check the whole plan before touching anything, so -1 leaves pkt
	 * unchanged. */
	for (pos = first_data; pos < data_len; count++) {
		uint32_t chunk = (mtu - hl2) & ~7u;

		if (chunk > data_len - pos)
			chunk = data_len - pos;
		if (count >= max_more || more[count].off > more[count].size ||
		    more[count].size - more[count].off < hl2 + chunk)
			return -1;
		pos += chunk;
	}
	/* Offsets are 13 bits of 8-byte units. */
	if (base_off + (data_len >> 3) > IPV4_OFFMASK)
		return -1;

	count = 0;
	for (pos = first_data; pos < data_len; count++) {
		uint32_t chunk = (mtu - hl2) & ~7u;
		uint8_t *piece = more[count].buf + more[count].off;
		bool last;

		if (chunk > data_len - pos)
			chunk = data_len - pos;
		last = pos + chunk == data_len;
		memcpy(piece, hdr2, hl2);
		memcpy(piece + hl2, p + hl + pos, chunk);
		wr16(piece + 2, (uint16_t)(hl2 + chunk));
		/* MF on all but the last piece, and on the last one too if the
		 * packet we split was itself not the last fragment. */
		wr16(piece + 6, (uint16_t)((base_off + pos / 8) |
			((!last || (frag & IPV4_MF)) ? IPV4_MF : 0)));
		ip_checksum_set(piece);
		more[count].len = hl2 + chunk;
		more[count].status = ESP_OK;
		more[count].sa = NULL;
		pos += chunk;
	}

	wr16(p + 2, (uint16_t)(hl + first_data));
	wr16(p + 6, (uint16_t)(base_off | IPV4_MF));
	ip_checksum_set(p);
	pkt->len = hl + first_data;
	return (int)count;
}

bool
inner_icmp_echo_reply(uint8_t *p, uint32_t len, uint32_t our_addr)
{
	uint8_t *icmp;
	uint32_t src;

	if (!inner_ipv4_ok(p, len) || p[9] != IPPROTO_ICMP_)
		return false;
	/* No options: a reply would have to process them (RFC 1122 3.2.2.6). */
	if (ihl_of(p) != IPV4_MIN_HDR)
		return false;
	/* Not a fragment: we answer only whole requests. */
	if (rd16(p + 6) & (IPV4_MF | IPV4_OFFMASK))
		return false;
	if (rd32(p + 16) != our_addr)
		return false;
	/* The ICMP echo header. */
	if (len - IPV4_MIN_HDR < ICMP_HDR)
		return false;
	icmp = p + IPV4_MIN_HDR;
	if (icmp[0] != ICMP_ECHO || icmp[1] != 0)
		return false;
	/* A corrupted request gets no answer. */
	if (csum_fold(csum_add_bytes(0, icmp, len - IPV4_MIN_HDR)) != 0xffff)
		return false;

	src = rd32(p + 12);
	wr32(p + 12, our_addr);
	wr32(p + 16, src);
	p[8] = REPLY_TTL;
	wr16(p + 6, 0);
	ip_checksum_set(p);
	/* Type 8 -> 0 changes the first word only. */
	wr16(icmp + 2, csum_replace16(rd16(icmp + 2), (uint16_t)(ICMP_ECHO << 8),
		(uint16_t)(ICMP_ECHO_REPLY << 8)));
	icmp[0] = ICMP_ECHO_REPLY;
	return true;
}
