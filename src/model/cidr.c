/* cidr.c — IPv4 prefixes and AWS's subnet arithmetic (model.h). */
#include "model/model.h"

#include <stdio.h>
#include <string.h>

static bool parse_dec(const char **pp, unsigned max, unsigned *out)
{
	const char *p = *pp;
	if (*p < '0' || *p > '9')
		return false;
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return false;	/* no leading zeros: "010" is ambiguous */
	unsigned v = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned)(*p - '0');
		if (++digits > 3 || v > max)
			return false;
		p++;
	}
	*pp = p;
	*out = v;
	return true;
}

static bool parse_ip(const char **pp, uint32_t *out)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		unsigned octet;
		if (!parse_dec(pp, 255, &octet))
			return false;
		a = (a << 8) | octet;
		if (i < 3) {
			if (**pp != '.')
				return false;
			(*pp)++;
		}
	}
	*out = a;
	return true;
}

bool ip4_parse(const char *s, uint32_t *out)
{
	if (!s)
		return false;
	return parse_ip(&s, out) && *s == '\0';
}

uint32_t cidr_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

bool cidr_parse(const char *s, struct cidr4 *out, bool *had_host_bits)
{
	if (!s)
		return false;
	uint32_t a;
	unsigned len;
	if (!parse_ip(&s, &a) || *s++ != '/' || !parse_dec(&s, 32, &len) || *s != '\0')
		return false;
	out->c_len = (uint8_t)len;
	out->c_addr = a & cidr_mask(out->c_len);
	if (had_host_bits)
		*had_host_bits = out->c_addr != a;
	return true;
}

void ip4_format(uint32_t a, char *buf)
{
	snprintf(buf, IP4_STR_MAX, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

void cidr_format(const struct cidr4 *c, char *buf)
{
	uint32_t a = c->c_addr;
	snprintf(buf, CIDR_STR_MAX, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		 a & 255, (unsigned)(c->c_len & 63));
}

uint64_t cidr_size(const struct cidr4 *c)
{
	return (uint64_t)1 << (32 - c->c_len);
}

bool cidr_contains_ip(const struct cidr4 *c, uint32_t ip)
{
	return (ip & cidr_mask(c->c_len)) == c->c_addr;
}

bool cidr_contains(const struct cidr4 *outer, const struct cidr4 *inner)
{
	return inner->c_len >= outer->c_len && cidr_contains_ip(outer, inner->c_addr);
}

bool cidr_overlaps(const struct cidr4 *a, const struct cidr4 *b)
{
	return cidr_contains(a, b) || cidr_contains(b, a);
}

uint32_t subnet_available_total(const struct cidr4 *subnet)
{
	uint64_t n = cidr_size(subnet);
	return n > SUBNET_RESERVED_ADDRESSES ? (uint32_t)(n - SUBNET_RESERVED_ADDRESSES) : 0;
}

bool subnet_address_reserved(const struct cidr4 *subnet, uint32_t ip)
{
	uint32_t off = ip - subnet->c_addr;
	return off <= 3 || off == (uint32_t)(cidr_size(subnet) - 1);
}

uint32_t subnet_router_address(const struct cidr4 *subnet)
{
	return subnet->c_addr + 1;
}
