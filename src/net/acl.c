/*
 * acl — compiled NACL and security-group rules and their evaluation.
 * NACLs: stateless, the rule with the lowest number that matches decides
 * (rules are kept sorted, so the first match is it), no match is the "*"
 * deny. Security groups: allow-only; a packet passes when any rule of any
 * of the ENI's groups matches; a rule's peer is a CIDR or the members of a
 * referenced group (their addresses, sorted at build time).
 * O(rules) per packet; rule sets are small (AWS: 20 NACL rules, 60 SG rules
 * per direction by default). Nothing is allocated here.
 */
#include "net/net_int.h"

bool
acl_rule_matches(const struct acl_rule *r, const struct acl_pkt *p)
{
	if (r->ar_group < 0 && (p->ap_peer & r->ar_mask) != r->ar_addr)
		return false;
	if (r->ar_proto == -1)
		return true;
	if (r->ar_proto != p->ap_proto)
		return false;
	if (p->ap_proto == IPPROTO_TCP_ || p->ap_proto == IPPROTO_UDP_)
		return p->ap_port >= r->ar_port_from && p->ap_port <= r->ar_port_to;
	if (p->ap_proto == IPPROTO_ICMP_)
		return (r->ar_icmp_type == -1 || r->ar_icmp_type == p->ap_icmp_type) &&
		       (r->ar_icmp_code == -1 || r->ar_icmp_code == p->ap_icmp_code);
	return true;
}

int
nacl_rules_first_match(const struct acl_rule *rules, uint32_t n, const struct acl_pkt *p)
{
	for (uint32_t i = 0; i < n; i++)
		if (acl_rule_matches(&rules[i], p))
			return (int)i;
	return -1;
}

static bool
sorted_contains(const uint32_t *a, uint32_t n, uint32_t v)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (a[mid] == v)
			return true;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool
sg_match(const struct net_snapshot *s, const struct snap_eni *e, bool egress,
	 const struct acl_pkt *p, int32_t *group, int32_t *rule)
{
	for (uint32_t g = 0; g < e->e_ngroups; g++) {
		const struct snap_sg *sg = &s->sgs[e->e_groups[g]];
		const struct acl_rule *r = egress ? sg->g_out : sg->g_in;
		uint32_t n = egress ? sg->g_nout : sg->g_nin;

		for (uint32_t i = 0; i < n; i++) {
			if (!acl_rule_matches(&r[i], p))
				continue;
			if (r[i].ar_group >= 0) {
				const struct snap_sg *ref = &s->sgs[r[i].ar_group];
				if (!sorted_contains(ref->g_members, ref->g_nmembers, p->ap_peer))
					continue;
			}
			*group = (int32_t)e->e_groups[g];
			*rule = r[i].ar_number;
			return true;
		}
	}
	*group = *rule = -1;
	return false;
}

bool
sg_allows(const struct net_snapshot *s, const struct snap_eni *e, bool egress,
	  const struct acl_pkt *p)
{
	int32_t g, r;

	return sg_match(s, e, egress, p, &g, &r);
}
