/* cidr.c — IPv4 prefixes and AWS's subnet arithmetic; IPv6 prefixes as
 * text (model.h). */
#include "model/model.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
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

/* --- disjoint range sets ---------------------------------------------------- */

static uint32_t range_hi(const struct cidr4 *c)
{
	return c->c_addr | ~cidr_mask(c->c_len);
}

/* Index of the first member whose hi >= lo: the only one that can overlap
 * a range starting at lo, since members are disjoint and sorted. */
static size_t set_first_reaching(const struct cidr_set *s, uint32_t lo)
{
	size_t a = 0, b = s->cs_count;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (s->cs_items[m].hi < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

bool cidr_set_overlaps(const struct cidr_set *s, const struct cidr4 *c)
{
	uint32_t lo = c->c_addr & cidr_mask(c->c_len), hi = range_hi(c);
	size_t i = set_first_reaching(s, lo);
	return i < s->cs_count && s->cs_items[i].lo <= hi;
}

bool cidr_set_add(struct cidr_set *s, const struct cidr4 *c)
{
	if (cidr_set_overlaps(s, c))
		return false;
	uint32_t lo = c->c_addr & cidr_mask(c->c_len);
	size_t i = set_first_reaching(s, lo);
	if (s->cs_count == s->cs_cap) {
		size_t cap = s->cs_cap ? s->cs_cap * 2 : 8;
		struct cidr_range *n = realloc(s->cs_items, cap * sizeof(*n));
		if (!n)
			abort();
		s->cs_items = n;
		s->cs_cap = cap;
	}
	memmove(&s->cs_items[i + 1], &s->cs_items[i], (s->cs_count - i) * sizeof(*s->cs_items));
	s->cs_items[i].lo = lo;
	s->cs_items[i].hi = range_hi(c);
	s->cs_count++;
	return true;
}

bool cidr_set_remove(struct cidr_set *s, const struct cidr4 *c)
{
	uint32_t lo = c->c_addr & cidr_mask(c->c_len);
	size_t i = set_first_reaching(s, lo);
	if (i == s->cs_count || s->cs_items[i].lo != lo || s->cs_items[i].hi != range_hi(c))
		return false;
	memmove(&s->cs_items[i], &s->cs_items[i + 1], (s->cs_count - i - 1) * sizeof(*s->cs_items));
	s->cs_count--;
	return true;
}

void cidr_set_free(struct cidr_set *s)
{
	free(s->cs_items);
	*s = (struct cidr_set)CIDR_SET_INIT;
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

bool cidr6_normalise(const char *s, char out[CIDR6_STR_MAX])
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || (size_t)(slash - s) >= INET6_ADDRSTRLEN)
		return false;
	char addr[INET6_ADDRSTRLEN];
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	const char *p = slash + 1;
	unsigned len;
	if (!parse_dec(&p, 128, &len) || *p)
		return false;
	uint8_t a[16];
	if (inet_pton(AF_INET6, addr, a) != 1)
		return false;
	for (unsigned i = 0; i < 16; i++) {	/* clear the host bits */
		unsigned keep = len > i * 8 ? (len - i * 8 >= 8 ? 8 : len - i * 8) : 0;
		a[i] &= (uint8_t)(0xff00u >> keep);
	}
	char text[INET6_ADDRSTRLEN];
	if (!inet_ntop(AF_INET6, a, text, sizeof(text)))
		return false;
	snprintf(out, CIDR6_STR_MAX, "%s/%u", text, len);
	return true;
}
