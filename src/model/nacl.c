/* nacl.c — network ACL evaluation: stateless, lowest rule number first. */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool nacl_rule_matches(const struct nacl_rule *r, const struct nacl_packet *p)
{
	if (r->nr_egress != p->np_egress)
		return false;
	if (!cidr_contains_ip(&r->nr_cidr, p->np_addr))
		return false;
	if (r->nr_protocol == -1)
		return true;
	if (r->nr_protocol != p->np_protocol)
		return false;
	if (p->np_protocol == 6 || p->np_protocol == 17)
		return p->np_port >= r->nr_port_from && p->np_port <= r->nr_port_to;
	if (p->np_protocol == 1)
		return (r->nr_icmp_type == -1 || r->nr_icmp_type == p->np_icmp_type) &&
		       (r->nr_icmp_code == -1 || r->nr_icmp_code == p->np_icmp_code);
	return true;
}

int nacl_evaluate(const struct nacl_rule *rules, size_t n, const struct nacl_packet *pkt)
{
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		if (!nacl_rule_matches(&rules[i], pkt))
			continue;
		if (best < 0 || rules[i].nr_number < rules[best].nr_number)
			best = (int)i;
	}
	return best;
}

int protocol_parse(const char *s)
{
	if (!s || !*s)
		return -2;
	if (strcmp(s, "-1") == 0 || strcasecmp(s, "all") == 0)
		return -1;
	if (strcasecmp(s, "tcp") == 0)
		return 6;
	if (strcasecmp(s, "udp") == 0)
		return 17;
	if (strcasecmp(s, "icmp") == 0)
		return 1;
	if (strcasecmp(s, "icmpv6") == 0)
		return 58;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v > 255)
		return -2;
	return (int)v;
}
