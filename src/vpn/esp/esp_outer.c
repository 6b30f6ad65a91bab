/*
 * esp_outer — recognising ESP on the receive side before decryption: the
 * outer IPv4 header of a raw socket's datagram, and the three kinds of
 * payload that share UDP port 4500 (RFC 3948 2.2). Pure parsing over the
 * caller's bytes: never writes, never allocates, never reads past len.
 */
#include "vpn/esp/esp_internal.h"
#include "base/csum.h"

#include <string.h>

enum esp_udp_kind
esp_udp_classify(const uint8_t *p, uint32_t len)
{
	/* A lone 0xff is a NAT-keepalive (RFC 3948 2.3). */
	if (len == 1 && p[0] == 0xff)
		return ESP_UDP_KEEPALIVE;
	/* Both the non-ESP marker and an SPI are 4 bytes. */
	if (len < 4)
		return ESP_UDP_INVALID;
	if (rd32(p) == 0)
		return ESP_UDP_IKE;
	/* An ESP packet carries at least SPI + SEQ. */
	if (len < ESP_HDR_LEN)
		return ESP_UDP_INVALID;
	return ESP_UDP_ESP;
}

int
esp_outer_parse(const uint8_t *p, uint32_t len, struct esp_outer *out)
{
	uint32_t ihl, total, off;

	memset(out, 0, sizeof(*out));
	/* A minimal IPv4 header must be there before any field is read. */
	if (len < ESP_IPV4_HDR_LEN || p[0] >> 4 != 4)
		return -1;
	ihl = (uint32_t)(p[0] & 0xf) * 4;
	total = rd16(p + 2);
	/* Header length within the total length, total within what we got. */
	if (ihl < ESP_IPV4_HDR_LEN || total < ihl || total > len)
		return -1;
	/* Fragments (MF set or an offset) must be reassembled first. */
	if (rd16(p + 6) & 0x3fff)
		return -1;
	out->out_src = rd32(p + 12);
	out->out_dst = rd32(p + 16);
	off = ihl;
	if (p[9] == ESP_IPPROTO_UDP) {
		uint32_t udp_len;

		/* UDP header present and its length within the datagram. */
		if (total - off < ESP_UDP_HDR_LEN)
			return -1;
		udp_len = rd16(p + off + 4);
		if (udp_len < ESP_UDP_HDR_LEN || udp_len > total - off)
			return -1;
		out->out_sport = rd16(p + off);
		out->out_dport = rd16(p + off + 2);
		total = off + udp_len;
		off += ESP_UDP_HDR_LEN;
		if (esp_udp_classify(p + off, total - off) != ESP_UDP_ESP)
			return -1;
	} else if (p[9] != ESP_IPPROTO_ESP) {
		return -1;
	}
	/* SPI + SEQ at least. */
	if (total - off < ESP_HDR_LEN)
		return -1;
	out->out_esp_off = off;
	out->out_esp_len = total - off;
	return 0;
}
