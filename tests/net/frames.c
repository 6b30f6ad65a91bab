/* frames — test frame builder (see frames.h). */
#include "frames.h"

#include "base/csum.h"

#include <string.h>

const uint8_t test_router_mac[6] = { 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01 };

static uint32_t
pseudo_sum(const uint8_t *ip, uint32_t l4len)
{
	uint32_t s = csum_add_bytes(0, ip + 12, 8);
	return s + ip[9] + l4len;
}

uint32_t
tframe_build(uint8_t *out, const struct tframe *t)
{
	uint8_t *ip = out + 14, *l4 = ip + 20;
	uint32_t l4h = t->proto == 6 ? 20 : 8;
	uint32_t l4len = l4h + t->payload;

	memcpy(out, t->dmac, 6);
	memcpy(out + 6, t->smac, 6);
	wr16(out + 12, 0x0800);
	memset(ip, 0, 20 + l4len);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(20 + l4len));
	ip[8] = 64;
	ip[9] = t->proto;
	wr32(ip + 12, t->src);
	wr32(ip + 16, t->dst);
	wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, 20)));
	if (t->proto == 6) {
		wr16(l4, t->sport);
		wr16(l4 + 2, t->dport);
		l4[12] = 5 << 4;
		l4[13] = t->tcp_flags;
		wr16(l4 + 16, csum_finish(csum_add_bytes(pseudo_sum(ip, l4len), l4, l4len)));
	} else if (t->proto == 17) {
		wr16(l4, t->sport);
		wr16(l4 + 2, t->dport);
		wr16(l4 + 4, (uint16_t)l4len);
		wr16(l4 + 6, csum_finish(csum_add_bytes(pseudo_sum(ip, l4len), l4, l4len)));
	} else if (t->proto == 1) {
		l4[0] = t->icmp_type;
		l4[1] = t->icmp_code;
		wr16(l4 + 4, t->sport);
		wr16(l4 + 2, csum_finish(csum_add_bytes(0, l4, l4len)));
	}
	return 14 + 20 + l4len;
}

uint32_t
tarp_request(uint8_t *out, const uint8_t smac[6], uint32_t spa, uint32_t tpa)
{
	uint8_t *a = out + 14;

	memset(out, 0xff, 6);
	memcpy(out + 6, smac, 6);
	wr16(out + 12, 0x0806);
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, 1);
	memcpy(a + 8, smac, 6);
	wr32(a + 14, spa);
	memset(a + 18, 0, 6);
	wr32(a + 24, tpa);
	return 42;
}

int
tl4_csum_ok(const uint8_t *ip, uint32_t len)
{
	uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;
	uint32_t l4len = len - ihl;

	if (csum_fold(csum_add_bytes(0, ip, ihl)) != 0xffff)
		return 0;
	if (ip[9] == 1)
		return csum_fold(csum_add_bytes(0, ip + ihl, l4len)) == 0xffff;
	return csum_fold(csum_add_bytes(pseudo_sum(ip, l4len), ip + ihl, l4len)) == 0xffff;
}
