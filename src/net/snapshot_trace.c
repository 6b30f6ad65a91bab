/*
 * snapshot_trace — one synthetic packet through a snapshot, for `vpcctl trace`
 * (the engine's Reachability-Analyzer-like answer): builds the frame an
 * ENI (or the packet a gateway) would deliver, runs path.c on it with
 * steps recorded, without a connection table or with the traced flow's
 * own (net_trace_flow: a packet's answer meets what the packet left, a
 * NAT gateway's mapping above all), and returns the steps.
 * Control plane only: nothing is sent, nothing in the router changes.
 */
#include "net/net_int.h"

#include "base/base.h"
#include "base/csum.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_SPORT_DEFAULT	49152	/* the first ephemeral port (IANA) */
#define TRACE_FLOW_ENTRIES	64	/* a traced flow's tables: a packet and its answer */
#define TRACE_NOW_MS		1	/* the one instant a traced flow's packets share */

struct net_trace_flow {
	struct conntrack tf_ct;		/* tf_ct.ct_nat -> tf_nat */
	struct nat_table tf_nat;
};

struct net_trace_flow *
net_trace_flow_new(void)
{
	struct net_trace_flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (ct_init(&f->tf_ct, TRACE_FLOW_ENTRIES) < 0) {
		free(f);
		return NULL;
	}
	if (nat_init(&f->tf_nat, TRACE_FLOW_ENTRIES) < 0) {
		ct_free(&f->tf_ct);
		free(f);
		return NULL;
	}
	f->tf_ct.ct_nat = &f->tf_nat;
	return f;
}

void
net_trace_flow_free(struct net_trace_flow *f)
{
	if (!f)
		return;
	ct_free(&f->tf_ct);
	nat_free(&f->tf_nat);
	free(f);
}

static const char *const stage_names[] = {
	[NET_TRACE_SOURCE] = "source",
	[NET_TRACE_GATEWAY_IN] = "gateway-in",
	[NET_TRACE_NAT_IN] = "nat-in",
	[NET_TRACE_NACL_OUT] = "nacl-out",
	[NET_TRACE_SG_EGRESS] = "sg-egress",
	[NET_TRACE_ROUTE] = "route",
	[NET_TRACE_NAT_OUT] = "nat-out",
	[NET_TRACE_NACL_IN] = "nacl-in",
	[NET_TRACE_SG_INGRESS] = "sg-ingress",
	[NET_TRACE_DELIVER] = "deliver",
	[NET_TRACE_PORT] = "port",
	[NET_TRACE_NAT_GATEWAY] = "nat-gateway",
};

const char *
net_trace_stage_name(enum net_trace_stage st)
{
	return (unsigned)st < ARRAY_LEN(stage_names) && stage_names[st] ? stage_names[st] : "?";
}

static int
trace_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
trace_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The IPv4 packet of q at ip (room: 60 bytes); its length. */
static uint32_t
trace_packet(uint8_t *ip, const struct net_trace_query *q, uint32_t src)
{
	uint8_t *l4 = ip + IPV4_HLEN_MIN;
	uint32_t l4len = q->proto == IPPROTO_TCP_ ? 20 : q->proto == IPPROTO_UDP_ ||
			 q->proto == IPPROTO_ICMP_ ? 8 : 0;
	uint16_t sport = q->sport ? q->sport : TRACE_SPORT_DEFAULT;

	memset(ip, 0, IPV4_HLEN_MIN + l4len);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(IPV4_HLEN_MIN + l4len));
	wr16(ip + 4, 1);
	ip[8] = 64;
	ip[9] = q->proto;
	wr32(ip + 12, src);
	wr32(ip + 16, q->dst);
	wr16(ip + 10, csum_finish(csum_add_bytes(0, ip, IPV4_HLEN_MIN)));
	if (q->proto == IPPROTO_TCP_) {
		wr16(l4, sport);
		wr16(l4 + 2, q->dport);
		l4[12] = 5 << 4;
		l4[13] = q->answer ? 0x12 : 0x02;	/* SYN-ACK answers; SYN: a new connection */
	} else if (q->proto == IPPROTO_UDP_) {
		wr16(l4, sport);
		wr16(l4 + 2, q->dport);
		wr16(l4 + 4, 8);
	} else if (q->proto == IPPROTO_ICMP_) {
		l4[0] = q->icmp_given ? q->icmp_type : 8;
		l4[1] = q->icmp_given ? q->icmp_code : 0;
		wr16(l4 + 4, sport);	/* identifier */
	}
	/* Checksums other than IPv4's are not checked on the path. */
	return IPV4_HLEN_MIN + l4len;
}

int
net_snapshot_trace(const struct net_snapshot *s, const uint8_t router_mac[6],
		   const struct net_trace_query *q, struct net_trace_result *out,
		   char *err, size_t errlen)
{
	uint8_t f[ETH_HLEN_ + 64];
	struct pkt_meta m;
	struct verdict v;

	memset(out, 0, sizeof(*out));
	out->plan_only = q->plan_only;
	out->answer = q->answer;
	if (err && errlen)
		err[0] = '\0';
	if (!s)
		return trace_fail(err, errlen, "no configuration applied yet");
	int32_t eni = -1, gw = -1;
	for (uint32_t i = 0; i < s->n_enis && eni < 0; i++)
		if (strncmp(s->enis[i].e_id, q->from_id, NET_ID_MAX) == 0)
			eni = (int32_t)i;
	for (uint32_t i = 0; i < s->n_gws && eni < 0 && gw < 0; i++)
		if (strncmp(s->gws[i].w_id, q->from_id, NET_ID_MAX) == 0)
			gw = (int32_t)i;
	if (eni < 0 && gw < 0)
		return trace_fail(err, errlen, "%.*s: no such ENI or gateway", NET_ID_MAX, q->from_id);
	struct conntrack *ct = q->flow ? &q->flow->tf_ct : NULL;
	uint64_t now_ms = q->flow ? TRACE_NOW_MS : 0;
	if (eni >= 0) {
		const struct snap_eni *e = &s->enis[eni];
		memcpy(f, router_mac, 6);
		memcpy(f + 6, e->e_mac, 6);
		wr16(f + 12, ETHERTYPE_IPV4_);
		uint32_t len = trace_packet(f + ETH_HLEN_, q, q->src ? q->src : e->e_ip);
		path_from_eni_traced(s, ct, router_mac, (uint32_t)eni, f, ETH_HLEN_ + len, now_ms,
				     &m, &v, out);
	} else {
		if (!q->src)
			return trace_fail(err, errlen, "from a gateway: the source address is needed");
		uint32_t len = trace_packet(f + ETH_HLEN_, q, q->src);
		path_from_port_traced(s, ct, (uint32_t)gw, f, ETH_HLEN_ + len, ETH_HLEN_, now_ms,
				      &m, &v, out);
	}
	out->delivered = v.v_kind == V_TO_ENI || v.v_kind == V_TO_PORT;
	out->drop = out->delivered ? NET_DROP_MAX : v.v_drop;
	return 0;
}
