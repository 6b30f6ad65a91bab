/*
 * readers.c — small pure readers of stored resources that the API and the
 * engine both need (state/resources.h): whether a NAT gateway or peering
 * connection carries traffic, a managed prefix list's IPv4 CIDRs, the
 * resolv.conf a VPC's DHCP option set gives its instances. They read docs
 * and the cache only; never change either.
 */
#include "state/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "base/strbuf.h"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

bool natgw_is_live(const struct doc *d)
{
	const char *st = doc_get_str(d, "State");
	return str_eq(st, "pending") || str_eq(st, "available");
}

bool pcx_is_active(const struct doc *d)
{
	return str_eq(doc_get_str(doc_get(d, "Status"), "Code"), "active");
}

size_t prefix_list_cidrs(struct cache *c, const char *id, prefix_list_cidr_fn fn, void *arg)
{
	const struct res *r = id ? cache_get_typed(c, RT_PREFIX_LIST, id) : NULL;
	size_t n = 0;
	if (!r)
		return 0;
	doc_foreach(e, doc_get(r->r_doc, "_Entries")) {
		struct cidr4 cidr;
		if (!cidr_parse(doc_get_str(e, "Cidr"), &cidr, NULL))
			continue;	/* IPv6 */
		if (fn)
			fn(arg, &cidr);
		n++;
	}
	return n;
}

const struct doc *dhcp_option(const struct doc *set, const char *key)
{
	doc_foreach(c, doc_get(set, "DhcpConfigurations"))
		if (str_eq(doc_get_str(c, "Key"), key))
			return doc_get(c, "Values");
	return NULL;
}

size_t vpc_resolv_conf(struct cache *c, const char *vpc_id, char *buf, size_t len)
{
	const struct res *vpc = cache_get_typed(c, RT_VPC, vpc_id);
	const char *set_id = vpc ? doc_get_str(vpc->r_doc, "DhcpOptionsId") : NULL;
	const struct res *set = set_id ? cache_get_typed(c, RT_DHCP, set_id) : NULL;
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "# vpcd: DHCP options of %s (%s)\n", vpc_id, set ? set->r_id : "no DHCP option set");
	if (!set) {
		sb_printf(&sb, "nameserver %s\n", DHCP_NO_SET_DNS);
	} else {
		const struct doc *domain = dhcp_option(set->r_doc, "domain-name");
		if (domain && domain->d_count) {
			sb_printf(&sb, "search");
			doc_foreach(v, domain)
				sb_printf(&sb, " %s", doc_get_str(v, "Value") ? doc_get_str(v, "Value") : "");
			sb_printf(&sb, "\n");
		}
		doc_foreach(v, dhcp_option(set->r_doc, "domain-name-servers")) {
			const char *s = doc_get_str(v, "Value");
			struct cidr4 primary;
			if (str_eq(s, "AmazonProvidedDNS")) {
				/* the Amazon DNS server: the VPC's primary block + 2 */
				char ip[IP4_STR_MAX];
				if (!cidr_parse(doc_get_str(vpc->r_doc, "CidrBlock"), &primary, NULL))
					continue;
				ip4_format(primary.c_addr + 2, ip);
				sb_printf(&sb, "nameserver %s\n", ip);
			} else if (s) {
				sb_printf(&sb, "nameserver %s\n", s);
			}
		}
	}
	size_t n = sb.sb_len;
	if (len)
		snprintf(buf, len, "%s", sb.sb_data ? sb.sb_data : "");
	sb_free(&sb);
	return n;
}
