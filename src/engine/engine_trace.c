/*
 * engine_trace.c — the packet trace on the router's own code
 * (engine_trace.h): the question checked and its endpoints resolved
 * (engine_net_trace_endpoint), the router's query chosen (an ENI, or the
 * gateway an outside address comes in through), the forward packet and its
 * answer walked by net_snapshot_trace on a snapshot compiled from
 * engine_net's plan, and the router's steps told in the shape of
 * model/trace_result.h.
 */
#include "engine/engine_trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "engine/engine_net.h"
#include "net/net.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define ICMP_ECHO_REQUEST 8

/* The router MAC a trace's frames are addressed to (net.h's default). */
static const uint8_t trace_router_mac[6] = { 0x0e, 0x76, 0x70, 0x63, 0x64, 0x01 };

/* The question resolved: ENIs by id (borrowed from the cache), or addresses. */
struct trace_endpoint {
	const char *te_eni;	/* an ENI id, or NULL for an address */
	uint32_t te_addr;	/* when te_eni is NULL: any IPv4 address */
};

struct trace_packet {
	struct trace_endpoint tp_from, tp_to;
	uint8_t tp_protocol;	/* 6, 17, 1 (or any other number) */
	uint16_t tp_port;	/* TCP/UDP destination port */
	uint16_t tp_src_port;	/* TCP/UDP source port (the answer's destination); 0: TRACE_EPHEMERAL_PORT_DEFAULT */
	uint8_t tp_icmp_type, tp_icmp_code;
};

struct walk {
	struct cache *w_cache;
	const struct engine_net_plan *w_plan;
	const struct trace_packet *w_pkt;
	struct trace_result *w_out;
	char w_flow[48];		/* "tcp/22", "icmp 8/0", "protocol 47" */
	char w_answer_flow[48];		/* its answer's, as the NACLs see it: "tcp/49152", "icmp 0/0" */
	char w_mapped_flow[48];		/* "": none; else the answer's as it reaches a NAT
					 * gateway's mapping: "tcp/<the mapping's port>" */
	struct net_trace_flow *w_flowtab;	/* the flow's tables: the forward packet's, then
						 * its answer through a NAT gateway */
};

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static void step(struct walk *w, enum trace_step_kind kind, bool ok, const char *component, const char *rule,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void step(struct walk *w, enum trace_step_kind kind, bool ok, const char *component, const char *rule,
		 const char *fmt, ...)
{
	struct trace_result *r = w->w_out;
	if (r->tr_nsteps >= TRACE_STEPS_MAX)
		return;
	struct trace_step *s = &r->tr_steps[r->tr_nsteps++];
	memset(s, 0, sizeof(*s));
	s->ts_kind = kind;
	s->ts_ok = ok;
	snprintf(s->ts_component, sizeof(s->ts_component), "%s", component ? component : "");
	snprintf(s->ts_rule, sizeof(s->ts_rule), "%s", rule ? rule : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->ts_detail, sizeof(s->ts_detail), fmt, ap);
	va_end(ap);
}

static bool dropped(struct walk *w, enum trace_cause cause)
{
	w->w_out->tr_reachable = false;
	w->w_out->tr_cause = cause;
	return false;
}

/* --- the plan ------------------------------------------------------------------ */

static const struct net_eni_config *plan_eni(const struct engine_net_plan *p, const char *id)
{
	for (size_t i = 0; id && i < p->np_cfg.n_enis; i++)
		if (str_eq(p->np_enis[i].id, id))
			return &p->np_enis[i];
	return NULL;
}

/* The ENI with private (or, public, public) address a; NULL none. */
static const struct net_eni_config *plan_eni_by_addr(const struct engine_net_plan *p, uint32_t a, bool public)
{
	for (size_t i = 0; i < p->np_cfg.n_enis; i++)
		if ((public ? p->np_enis[i].public_ip : p->np_enis[i].ip) == a)
			return &p->np_enis[i];
	return NULL;
}

static const char *plan_eni_vpc(const struct engine_net_plan *p, const struct net_eni_config *e)
{
	for (size_t i = 0; i < p->np_cfg.n_subnets; i++)
		if (str_eq(p->np_subnets[i].id, e->subnet_id))
			return p->np_subnets[i].vpc_id;
	return "";
}

/* The ENI whose private address a is, preferring one in vpc (VPCs may
 * overlap; NULL: any); NULL none. */
static const struct net_eni_config *plan_eni_in_vpc(const struct engine_net_plan *p, uint32_t a, const char *vpc)
{
	const struct net_eni_config *any = NULL;
	for (size_t i = 0; i < p->np_cfg.n_enis; i++) {
		const struct net_eni_config *e = &p->np_enis[i];
		if (e->ip != a)
			continue;
		if (!vpc || str_eq(plan_eni_vpc(p, e), vpc))
			return e;
		if (!any)
			any = e;
	}
	return any;
}

static const struct net_gateway_config *plan_gateway(const struct engine_net_plan *p, const char *vpc,
						     enum net_gateway_kind kind)
{
	for (size_t i = 0; i < p->np_cfg.n_gateways; i++)
		if (p->np_gateways[i].kind == kind && str_eq(p->np_gateways[i].vpc_id, vpc))
			return &p->np_gateways[i];
	return NULL;
}

/* --- the question ------------------------------------------------------------- */

/* q checked and resolved into *out: an instance to its primary ENI, ENI ids
 * to the cache's, addresses parsed, the protocol and ports checked (ICMP:
 * echo request unless a type is given). 0, or -1 with a message in err. */
static int packet_resolve(struct cache *c, const struct trace_query *q, struct trace_packet *out, char *err,
			  size_t errlen)
{
	struct trace_packet pkt;
	memset(&pkt, 0, sizeof(pkt));
	if (engine_net_trace_endpoint(c, "from", q->tq_from, &pkt.tp_from.te_eni, &pkt.tp_from.te_addr, err, errlen) < 0 ||
	    engine_net_trace_endpoint(c, "to", q->tq_to, &pkt.tp_to.te_eni, &pkt.tp_to.te_addr, err, errlen) < 0)
		return -1;
	int proto = protocol_parse(q->tq_proto);
	if (proto < 0) {
		snprintf(err, errlen, "--proto: '%.32s' is not tcp, udp, icmp or a protocol number",
			 q->tq_proto ? q->tq_proto : "");
		return -1;
	}
	pkt.tp_protocol = (uint8_t)proto;
	if (proto == PROTO_TCP || proto == PROTO_UDP) {
		if (q->tq_port < 0 || q->tq_port > 65535 || (q->tq_port == 0 && proto == PROTO_TCP)) {
			snprintf(err, errlen, "--port: %s needs a destination port 1-65535", proto == PROTO_TCP ? "tcp" : "udp");
			return -1;
		}
		if (q->tq_src_port < 0 || q->tq_src_port > 65535) {
			snprintf(err, errlen, "--source-port: 1-65535");
			return -1;
		}
		pkt.tp_port = (uint16_t)q->tq_port;
		pkt.tp_src_port = (uint16_t)q->tq_src_port;
	} else if (proto == PROTO_ICMP) {
		if (q->tq_port > 255) {
			snprintf(err, errlen, "--port: for icmp, the ICMP type 0-255");
			return -1;
		}
		pkt.tp_icmp_type = q->tq_port < 0 ? ICMP_ECHO_REQUEST : (uint8_t)q->tq_port;
	}
	*out = pkt;
	return 0;
}

/* --- the router's steps in the model's words ------------------------------------ */

static enum trace_cause cause_of(enum net_drop d, bool answer)
{
	switch (d) {
	case NET_DROP_NACL_OUT: return answer ? TRACE_REPLY_NACL_OUT : TRACE_NACL_OUT;
	case NET_DROP_NACL_IN: return answer ? TRACE_REPLY_NACL_IN : TRACE_NACL_IN;
	case NET_DROP_NO_ROUTE: return answer ? TRACE_REPLY_NO_ROUTE : TRACE_NO_ROUTE;
	case NET_DROP_BLACKHOLE: return answer ? TRACE_REPLY_NO_ROUTE : TRACE_BLACKHOLE;
	case NET_DROP_SG_EGRESS: return TRACE_SG_EGRESS;
	case NET_DROP_SG_INGRESS: return TRACE_SG_INGRESS;
	case NET_DROP_SRC_DST_CHECK: return TRACE_SOURCE_DEST_CHECK;
	case NET_DROP_NO_ENI: return TRACE_NO_DESTINATION;
	case NET_DROP_NO_PORT: return TRACE_NO_GATEWAY;
	case NET_DROP_NO_PUBLIC_IP: return TRACE_NO_PUBLIC_IP;
	case NET_DROP_NAT_NO_MAPPING:
	case NET_DROP_NAT_REFUSED: return TRACE_UNSUPPORTED_TARGET;
	default: return TRACE_NO_SOURCE;
	}
}

/* The id a blackhole route of table_id to dest names in the plan (the
 * router's step does not carry it); "" none. */
static const char *blackhole_target(const struct engine_net_plan *p, const char *table_id, const struct cidr4 *dest)
{
	for (size_t i = 0; i < p->np_cfg.n_route_tables; i++) {
		const struct net_route_table_config *t = &p->np_cfg.route_tables[i];
		if (!str_eq(t->id, table_id))
			continue;
		for (size_t k = 0; k < t->n_routes; k++)
			if (t->routes[k].target == NET_TARGET_BLACKHOLE && t->routes[k].dest.c_addr == dest->c_addr &&
			    t->routes[k].dest.c_len == dest->c_len)
				return t->routes[k].target_id;
	}
	return "";
}

static void route_text(const struct walk *w, const char *table_id, const struct net_route_config *r, char *rule,
		       size_t len)
{
	char dest[CIDR_STR_MAX];
	cidr_format(&r->dest, dest);
	const char *target = r->target_id;
	if (r->target == NET_TARGET_LOCAL)
		target = "local";
	else if (r->target == NET_TARGET_BLACKHOLE)
		target = blackhole_target(w->w_plan, table_id, &r->dest);
	snprintf(rule, len, "%s -> %s", dest, target[0] ? target : "blackhole");
}

static void groups_text(const struct net_eni_config *e, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t g = 0; g < e->n_groups && used < len; g++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", g ? ", " : "", e->group_ids[g]);
	if (!e->n_groups)
		snprintf(out, len, "no groups");
}

/* One router step of a packet src -> dst (the forward packet, or its
 * answer: then only the stateless parts, named reply-…); the rules see
 * dst going out and src coming in. */
static void tell(struct walk *w, const struct net_trace_step *s, bool answer, uint32_t src, uint32_t dst)
{
	char ip[IP4_STR_MAX], rule[TRACE_NAME_MAX * 2], groups[TRACE_DETAIL_MAX / 2];
	bool outward = s->stage == NET_TRACE_NACL_OUT || s->stage == NET_TRACE_SG_EGRESS || s->stage == NET_TRACE_ROUTE;
	uint32_t peer = outward ? dst : src;
	ip4_format(peer, ip);
	const struct net_eni_config *e = plan_eni(w->w_plan, s->id);
	const char *flow = !answer ? w->w_flow : w->w_mapped_flow[0] ? w->w_mapped_flow : w->w_answer_flow;
	switch (s->stage) {
	case NET_TRACE_NACL_OUT:
	case NET_TRACE_NACL_IN: {
		bool out = s->stage == NET_TRACE_NACL_OUT;
		if (s->rule == NACL_RULE_DEFAULT_DENY)
			snprintf(rule, sizeof(rule), "*");
		else
			snprintf(rule, sizeof(rule), "%d", (int)s->rule);
		enum trace_step_kind k = answer ? (out ? TRACE_STEP_REPLY_NACL_OUT : TRACE_STEP_REPLY_NACL_IN)
						: (out ? TRACE_STEP_NACL_OUT : TRACE_STEP_NACL_IN);
		step(w, k, s->allowed, s->id, rule, "%s rule %s %s %s%s %s %s", s->id, rule,
		     s->allowed ? "allows" : "denies", answer ? "the answer " : "", flow, out ? "to" : "from", ip);
		return;
	}
	case NET_TRACE_SG_EGRESS:
	case NET_TRACE_SG_INGRESS: {
		bool out = s->stage == NET_TRACE_SG_EGRESS;
		enum trace_step_kind k = out ? TRACE_STEP_SG_EGRESS : TRACE_STEP_SG_INGRESS;
		if (s->allowed) {
			const char *id = engine_net_sg_rule_id(w->w_plan, s->id, s->rule);
			step(w, k, true, s->id, id ? id : "", "%s rule %s allows %s %s %s", s->id, id ? id : "?",
			     w->w_flow, out ? "to" : "from", ip);
		} else {
			if (e)
				groups_text(e, groups, sizeof(groups));
			step(w, k, false, s->id, "", "no %s rule of %s (%s) allows %s %s %s", out ? "egress" : "ingress",
			     s->id, e ? groups : "?", w->w_flow, out ? "to" : "from", ip);
		}
		return;
	}
	case NET_TRACE_ROUTE: {
		enum trace_step_kind k = answer ? TRACE_STEP_REPLY_ROUTE : TRACE_STEP_ROUTE;
		if (s->allowed) {
			route_text(w, s->id, &s->route, rule, sizeof(rule));
			step(w, k, true, s->id, rule, "%s: %s is the longest match for %s%s", s->id, rule, ip,
			     answer ? " (the answer)" : "");
		} else if (s->route.target == NET_TARGET_BLACKHOLE) {
			route_text(w, s->id, &s->route, rule, sizeof(rule));
			step(w, k, false, s->id, rule, "%s: the route %s for %s is a blackhole (its target is gone, or "
			     "not one vpcd carries)", s->id, rule, ip);
		} else {
			step(w, k, false, s->id, "", "%s has no route to %s%s", s->id, ip, answer ? " (the answer)" : "");
		}
		return;
	}
	default:
		return;	/* source, gateways, NAT and delivery: told by the walks */
	}
}

/* --- the walks ------------------------------------------------------------------ */

/* The packet's flow (answer false) or its answer's: the destination port
 * is the packet's source port, an echo request is answered by a reply. */
static void flow_text(const struct trace_packet *pkt, bool answer, char *out, size_t len)
{
	if (pkt->tp_protocol == PROTO_TCP || pkt->tp_protocol == PROTO_UDP)
		snprintf(out, len, "%s/%u", pkt->tp_protocol == PROTO_TCP ? "tcp" : "udp",
			 !answer ? pkt->tp_port : pkt->tp_src_port ? pkt->tp_src_port : TRACE_EPHEMERAL_PORT_DEFAULT);
	else if (pkt->tp_protocol == PROTO_ICMP && answer && pkt->tp_icmp_type == ICMP_ECHO_REQUEST)
		snprintf(out, len, "icmp 0/0");
	else if (pkt->tp_protocol == PROTO_ICMP)
		snprintf(out, len, "icmp %u/%u", pkt->tp_icmp_type, pkt->tp_icmp_code);
	else
		snprintf(out, len, "protocol %u", pkt->tp_protocol);
}

static const struct net_trace_step *last_of(const struct net_trace_result *r, enum net_trace_stage st)
{
	const struct net_trace_step *found = NULL;
	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].stage == st)
			found = &r->steps[i];
	return found;
}

static int run(const struct net_snapshot *snap, const struct net_trace_query *q, struct net_trace_result *r,
	       char *err, size_t errlen)
{
	return net_snapshot_trace(snap, trace_router_mac, q, r, err, errlen);
}

/* The answer to a packet that arrived: from (an ENI id, or a gateway id
 * with the answer's source address src), to dst. Tells its stateless
 * steps; false (with the cause) when it cannot come back. back_through:
 * the gateway the packet came in by, which the answer must leave through
 * (else it never reaches the sender); NULL: the answer must reach an ENI. */
static bool walk_answer(struct walk *w, const struct net_snapshot *snap, const char *from, uint32_t src, uint32_t dst,
			uint32_t seen_src, const char *back_through, char *err, size_t errlen)
{
	const struct trace_packet *pkt = w->w_pkt;
	if (pkt->tp_protocol == PROTO_ICMP && pkt->tp_icmp_type != ICMP_ECHO_REQUEST)
		return true;	/* no answer expected */
	struct net_trace_query q = { .src = src, .dst = dst, .proto = pkt->tp_protocol, .plan_only = true,
				     .answer = true };
	snprintf(q.from_id, sizeof(q.from_id), "%s", from);
	q.sport = pkt->tp_port;
	q.dport = pkt->tp_src_port ? pkt->tp_src_port : TRACE_EPHEMERAL_PORT_DEFAULT;
	q.icmp_given = pkt->tp_protocol == PROTO_ICMP;	/* echo reply 0/0 */
	struct net_trace_result r;
	if (run(snap, &q, &r, err, errlen) < 0)
		return true;	/* nothing to say about the way back */
	uint32_t asrc = src ? src : seen_src;
	for (size_t i = 0; i < r.n_steps; i++) {
		const struct net_trace_step *s = &r.steps[i];
		if (s->stage == NET_TRACE_NAT_OUT && !s->allowed)
			step(w, TRACE_STEP_GATEWAY, false, s->id, "", "%s has no public address: the answer cannot "
			     "leave through the internet gateway", s->id);
		else
			tell(w, s, true, asrc, dst);
	}
	const struct net_trace_step *port = last_of(&r, NET_TRACE_PORT);
	if (r.delivered && (back_through ? port && str_eq(port->id, back_through) : !port))
		return true;
	if (r.delivered) {
		/* the answer goes elsewhere: the sender never sees it */
		const struct net_trace_step *rt = last_of(&r, NET_TRACE_ROUTE);
		char rule[TRACE_NAME_MAX * 2] = "", ip[IP4_STR_MAX];
		ip4_format(dst, ip);
		if (rt)
			route_text(w, rt->id, &rt->route, rule, sizeof(rule));
		if (back_through && port)
			step(w, TRACE_STEP_REPLY_ROUTE, false, rt ? rt->id : "", rule, "the answer to %s leaves through "
			     "%s, not back through %s", ip, port->id, back_through);
		else if (back_through)
			step(w, TRACE_STEP_REPLY_ROUTE, false, rt ? rt->id : "", rule, "the answer to %s stays in the VPC, "
			     "not back through %s", ip, back_through);
		else
			step(w, TRACE_STEP_REPLY_ROUTE, false, rt ? rt->id : "", rule, "the answer to %s leaves through "
			     "%s instead of reaching it", ip, port->id);
		return dropped(w, TRACE_REPLY_NO_ROUTE);
	}
	if (r.drop == NET_DROP_NO_ENI || r.drop == NET_DROP_NO_PORT) {
		char ip[IP4_STR_MAX];
		ip4_format(dst, ip);
		step(w, TRACE_STEP_REPLY_ROUTE, false, "", "", "the answer cannot reach %s", ip);
		return dropped(w, TRACE_REPLY_NO_ROUTE);
	}
	return dropped(w, cause_of(r.drop, true));
}

/* The answer to a packet a NAT gateway translated (r: its forward walk,
 * which made the gateway's mapping in w's flow tables): from where the
 * packet arrived (a gateway's port, or an ENI of the VPC) to the address
 * and port the gateway gave the flow (its Elastic IP through an internet
 * gateway, else its private address), through the router's own answer
 * path: the gateway's subnet's NACL in (the mapping's port), the mapping
 * (the instance's address and port back), the gateway's subnet's NACL
 * out, the instance's subnet's NACL in, its groups as the flow tracked
 * in the flow tables. Tells its steps; false (with the cause) when it
 * would not reach src_eni. */
static bool walk_nat_answer(struct walk *w, const struct net_snapshot *snap, const struct net_trace_result *r,
			    const struct net_eni_config *src_eni, uint32_t src, uint32_t dst, char *err, size_t errlen)
{
	const struct trace_packet *pkt = w->w_pkt;
	const struct net_trace_step *nat = last_of(r, NET_TRACE_NAT_GATEWAY);
	const struct net_trace_step *port = last_of(r, NET_TRACE_PORT);
	const struct net_trace_step *nat_out = last_of(r, NET_TRACE_NAT_OUT);
	const struct net_trace_step *d = last_of(r, NET_TRACE_DELIVER);
	if (!src_eni || !nat->port || (!port && !d))
		return true;	/* no mapping made (no flow tables): nothing to walk */
	char nip[IP4_STR_MAX], sip[IP4_STR_MAX];
	uint32_t mapped = port && nat_out && nat_out->allowed ? nat_out->addr : nat->addr;
	ip4_format(mapped, nip);
	ip4_format(src, sip);
	struct net_trace_query q = { .src = port ? dst : 0, .dst = mapped, .proto = pkt->tp_protocol, .plan_only = true,
				     .answer = true, .flow = w->w_flowtab };
	snprintf(q.from_id, sizeof(q.from_id), "%s", port ? port->id : d->id);
	if (pkt->tp_protocol == PROTO_ICMP) {
		q.icmp_given = true;	/* echo reply 0/0, its identifier the mapping's */
		q.sport = nat->port;
		snprintf(w->w_mapped_flow, sizeof(w->w_mapped_flow), "icmp 0/0 id %u", nat->port);
	} else {
		q.sport = pkt->tp_port;
		snprintf(w->w_mapped_flow, sizeof(w->w_mapped_flow), "%s/%u", pkt->tp_protocol == PROTO_TCP ? "tcp" :
			 "udp", nat->port);
	}
	q.dport = nat->port;
	struct net_trace_result a;
	if (run(snap, &q, &a, err, errlen) < 0) {
		w->w_mapped_flow[0] = '\0';
		return true;	/* nothing to say about the way back */
	}
	for (size_t i = 0; i < a.n_steps; i++) {
		const struct net_trace_step *s = &a.steps[i];
		if (s->stage == NET_TRACE_GATEWAY_IN || s->stage == NET_TRACE_NAT_IN)
			continue;	/* in through the gateway the packet left by, to the mapping's address */
		if (s->stage == NET_TRACE_NAT_GATEWAY) {
			w->w_mapped_flow[0] = '\0';	/* from here on, the instance's port */
			char ip[IP4_STR_MAX];
			ip4_format(s->addr, ip);
			if (s->allowed)
				step(w, TRACE_STEP_GATEWAY, true, s->id, "", "%s translates the answer to %s, port %u "
				     "back to %s, port %u", s->id, nip, nat->port, ip, s->port);
			else
				step(w, TRACE_STEP_GATEWAY, false, s->id, "", "%s has no mapping for the answer to %s, "
				     "port %u", s->id, nip, nat->port);
			continue;
		}
		if (s->stage == NET_TRACE_DELIVER || s->stage == NET_TRACE_SOURCE)
			continue;	/* told below */
		tell(w, s, true, dst, src);	/* from the packet's destination, back to the instance */
	}
	w->w_mapped_flow[0] = '\0';
	const struct net_trace_step *back = last_of(&a, NET_TRACE_DELIVER);
	if (a.delivered && back && str_eq(back->id, src_eni->id))
		return true;
	if (a.delivered || a.drop == NET_DROP_NO_ENI || a.drop == NET_DROP_NO_PORT) {
		step(w, TRACE_STEP_REPLY_ROUTE, false, nat->id, "", "the answer through %s does not reach %s (%s)",
		     nat->id, src_eni->id, sip);
		return dropped(w, TRACE_REPLY_NO_ROUTE);
	}
	return dropped(w, cause_of(a.drop, true));
}

/* The forward packet's result, told; then its answer. src_eni: the source
 * ENI (NULL from outside); src: the source address; dst_seen: the
 * destination as the sender addresses it. */
static bool tell_forward(struct walk *w, const struct net_snapshot *snap, const struct net_trace_result *r,
			 const struct net_eni_config *src_eni, uint32_t src, uint32_t dst, char *err, size_t errlen)
{
	char sip[IP4_STR_MAX], dip[IP4_STR_MAX];
	ip4_format(src, sip);
	ip4_format(dst, dip);
	uint32_t to_vpc = dst;	/* the destination as the VPC sees it (after an igw's NAT) */
	const struct net_trace_step *nat_in = last_of(r, NET_TRACE_NAT_IN);
	if (nat_in && nat_in->allowed)
		to_vpc = nat_in->addr;
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct net_trace_step *s = &r->steps[i];
		char a[IP4_STR_MAX];
		ip4_format(s->addr, a);
		switch (s->stage) {
		case NET_TRACE_SOURCE:
			if (s->allowed) {
				const char *inst = engine_net_eni_instance(w->w_cache, s->id);
				step(w, TRACE_STEP_SOURCE, true, s->id, "", "%s%s%s%s (%s) in %s", s->id, inst ? " (" : "",
				     inst ? inst : "", inst ? ")" : "", sip, src_eni ? src_eni->subnet_id : "?");
			} else {
				step(w, TRACE_STEP_SOURCE_DEST_CHECK, false, s->id, "",
				     "%s does not own %s and checks sources (source/destination check)", s->id, sip);
			}
			break;
		case NET_TRACE_GATEWAY_IN:
			step(w, TRACE_STEP_SOURCE, true, "", "", "%s, outside the VPC", sip);
			step(w, TRACE_STEP_GATEWAY, s->allowed, s->id, "", s->allowed ? "in through %s" : "%s is not attached",
			     s->id);
			break;
		case NET_TRACE_NAT_IN:
			if (s->allowed)
				step(w, TRACE_STEP_GATEWAY, true, "", "", "translated %s to %s (1:1 NAT)", dip, a);
			else
				step(w, TRACE_STEP_DESTINATION, false, "", "", "no network interface of the VPC has the public "
				     "address %s", dip);
			break;
		case NET_TRACE_NAT_OUT:
			if (s->allowed)
				step(w, TRACE_STEP_GATEWAY, true, "", "", "the source translated to %s (1:1 NAT)", a);
			else
				step(w, TRACE_STEP_GATEWAY, false, s->id, "", "%s has no public address", s->id);
			break;
		case NET_TRACE_NAT_GATEWAY:
			if (s->allowed && s->port)
				step(w, TRACE_STEP_GATEWAY, true, s->id, "", "%s translates the source to %s, port %u", s->id,
				     a, s->port);
			else
				step(w, TRACE_STEP_GATEWAY, s->allowed, s->id, "", s->allowed ? "%s translates the source to %s" :
				     "%s refuses it (%s)", s->id, s->allowed ? a : "no mapping for this protocol");
			break;
		case NET_TRACE_DELIVER: {
			const char *inst = s->id[0] ? engine_net_eni_instance(w->w_cache, s->id) : NULL;
			char at[IP4_STR_MAX];
			ip4_format(to_vpc, at);
			if (s->allowed)
				step(w, TRACE_STEP_DESTINATION, true, s->id, "", "delivered to %s (%s%s%s)", s->id, at,
				     inst ? ", " : "", inst ? inst : "");
			else if (r->drop == NET_DROP_SRC_DST_CHECK && s->id[0])
				step(w, TRACE_STEP_SOURCE_DEST_CHECK, false, s->id, "", "%s checks destinations (source/"
				     "destination check) and %s is not its address", s->id, at);
			else
				step(w, TRACE_STEP_DESTINATION, false, s->id, "", "no network interface has the address %s",
				     at);
			break;
		}
		case NET_TRACE_PORT:
			if (!s->allowed) {
				step(w, TRACE_STEP_GATEWAY, false, s->id, "", "%s is not attached to the VPC", s->id);
				break;
			}
			if (strncmp(s->id, "vgw-", 4) == 0 && s->conn_key) {
				/* the router chose the connection by the gateway's own
				 * routes; the endpoint sends it into one of its tunnels UP */
				size_t up = 0;
				const char *conn = engine_net_conn_of_key(w->w_cache, s->conn_key, &up);
				if (!up) {
					step(w, TRACE_STEP_GATEWAY, false, s->id, "", "%s routes %s to %s, which has no tunnel "
					     "UP", s->id, dip, conn ? conn : "a connection that is gone");
					return dropped(w, TRACE_VPN_DOWN);
				}
				step(w, TRACE_STEP_GATEWAY, true, s->id, "", "out through %s (%s)", s->id, conn);
			} else if (strncmp(s->id, "vgw-", 4) == 0 && !engine_net_vgw_carries(w->w_cache, s->id, dst)) {
				/* no route of the gateway's chose: the endpoint looks
				 * among the gateway's tunnels' routes */
				step(w, TRACE_STEP_GATEWAY, false, s->id, "", "no VPN connection of %s has a tunnel UP with a "
				     "route to %s", s->id, dip);
				return dropped(w, TRACE_VPN_DOWN);
			} else {
				step(w, TRACE_STEP_GATEWAY, true, s->id, "", "out through %s", s->id);
			}
			step(w, TRACE_STEP_DESTINATION, true, "", "", "delivered to %s %s", dip,
			     strncmp(s->id, "vgw-", 4) == 0 ? "through the VPN" : "on the internet");
			break;
		default:
			tell(w, s, false, src, to_vpc);
			break;
		}
	}
	if (!r->delivered)
		return dropped(w, cause_of(r->drop, false));
	/* the way back */
	if (last_of(r, NET_TRACE_NAT_GATEWAY))
		return walk_nat_answer(w, snap, r, src_eni, src, dst, err, errlen);
	const struct net_trace_step *port = last_of(r, NET_TRACE_PORT);
	if (port) {
		/* from outside, to the source ENI as the outside sees it */
		const struct net_trace_step *nat_out = last_of(r, NET_TRACE_NAT_OUT);
		return walk_answer(w, snap, port->id, dst, nat_out ? nat_out->addr : src, dst, NULL, err, errlen);
	}
	const struct net_trace_step *d = last_of(r, NET_TRACE_DELIVER);
	if (!d)
		return true;
	const struct net_trace_step *in = last_of(r, NET_TRACE_GATEWAY_IN);
	return walk_answer(w, snap, d->id, 0, src, to_vpc, in ? in->id : NULL, err, errlen);
}

int engine_trace(struct cache *c, const struct trace_query *q, struct trace_result *out, char *err, size_t errlen)
{
	struct trace_packet pkt;
	if (packet_resolve(c, q, &pkt, err, errlen) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	struct engine_net_plan *plan = engine_net_plan_build(c);
	char why[200];
	struct net_snapshot *snap = net_snapshot_build(&plan->np_cfg, why, sizeof(why));
	if (!snap) {
		snprintf(err, errlen, "the router cannot compile this network: %s", why);
		engine_net_plan_free(plan);
		return -1;
	}
	struct walk w = { c, plan, &pkt, out, "", "", "", net_trace_flow_new() };
	if (!w.w_flowtab) {
		snprintf(err, errlen, "out of memory");
		net_snapshot_free(snap);
		engine_net_plan_free(plan);
		return -1;
	}
	flow_text(&pkt, false, w.w_flow, sizeof(w.w_flow));
	flow_text(&pkt, true, w.w_answer_flow, sizeof(w.w_answer_flow));
	struct net_trace_query nq = { .proto = pkt.tp_protocol, .plan_only = true };
	nq.sport = pkt.tp_src_port;
	nq.dport = pkt.tp_port;
	nq.icmp_given = pkt.tp_protocol == PROTO_ICMP;
	nq.icmp_type = pkt.tp_icmp_type;
	nq.icmp_code = pkt.tp_icmp_code;
	nq.flow = w.w_flowtab;

	const struct net_eni_config *src_eni = plan_eni(plan, pkt.tp_from.te_eni);
	const struct net_eni_config *dst_eni = plan_eni(plan, pkt.tp_to.te_eni);
	/* from an address an ENI has: from that ENI (in the destination's VPC
	 * when the destination is an ENI) */
	if (!pkt.tp_from.te_eni)
		src_eni = plan_eni_in_vpc(plan, pkt.tp_from.te_addr, dst_eni ? plan_eni_vpc(plan, dst_eni) : NULL);
	int rc = 0;
	if (pkt.tp_from.te_eni && !src_eni) {
		step(&w, TRACE_STEP_SOURCE, false, pkt.tp_from.te_eni, "", "%s has no address in a subnet the router "
		     "knows", pkt.tp_from.te_eni);
		dropped(&w, TRACE_NO_SOURCE);
		goto done;
	}
	if (pkt.tp_to.te_eni && !dst_eni) {
		step(&w, TRACE_STEP_DESTINATION, false, pkt.tp_to.te_eni, "", "%s has no address in a subnet the "
		     "router knows", pkt.tp_to.te_eni);
		dropped(&w, TRACE_NO_DESTINATION);
		goto done;
	}
	struct net_trace_result r;
	uint32_t src, dst;
	if (src_eni) {
		snprintf(nq.from_id, sizeof(nq.from_id), "%s", src_eni->id);
		src = src_eni->ip;
		dst = dst_eni ? dst_eni->ip : pkt.tp_to.te_addr;
	} else {
		/* from outside: through the VPN gateway when a tunnel carries the
		 * source's network, else the internet gateway to a public address */
		src = pkt.tp_from.te_addr;
		bool public = false;
		if (!dst_eni && !(dst_eni = plan_eni_by_addr(plan, pkt.tp_to.te_addr, false)) &&
		    (dst_eni = plan_eni_by_addr(plan, pkt.tp_to.te_addr, true)))
			public = true;
		char dip[IP4_STR_MAX];
		ip4_format(pkt.tp_to.te_addr, dip);
		if (!dst_eni) {
			step(&w, TRACE_STEP_DESTINATION, false, "", "", "no network interface has the address %s", dip);
			dropped(&w, TRACE_NO_DESTINATION);
			goto done;
		}
		const char *vpc = plan_eni_vpc(plan, dst_eni);
		const struct net_gateway_config *vgw = plan_gateway(plan, vpc, NET_GW_VGW);
		const struct net_gateway_config *igw = plan_gateway(plan, vpc, NET_GW_IGW);
		const struct net_gateway_config *gw = NULL;
		if (!public && vgw && engine_net_vgw_carries(c, vgw->id, src))
			gw = vgw;
		else if (igw && dst_eni->public_ip && (public || !vgw))
			gw = igw, public = true;
		else if (!public && vgw)
			gw = vgw;
		char sip[IP4_STR_MAX];
		ip4_format(src, sip);
		if (!gw) {
			/* addressed publicly without an internet gateway, or
			 * privately without a VPN gateway */
			step(&w, TRACE_STEP_SOURCE, true, "", "", "%s, outside the VPC", sip);
			if (public)
				step(&w, TRACE_STEP_GATEWAY, false, vpc, "", "%s has no internet gateway", vpc);
			else
				step(&w, TRACE_STEP_GATEWAY, false, vpc, "", "%s has no VPN gateway that reaches %s (an "
				     "internet gateway reaches public addresses only)", vpc, dst_eni->id);
			dropped(&w, TRACE_NO_GATEWAY);
			goto done;
		}
		if (gw == vgw && !engine_net_vgw_carries(c, vgw->id, src)) {
			step(&w, TRACE_STEP_SOURCE, true, "", "", "%s, outside the VPC", sip);
			step(&w, TRACE_STEP_GATEWAY, false, vgw->id, "", "no VPN connection of %s has a tunnel UP with a "
			     "route to %s", vgw->id, sip);
			dropped(&w, TRACE_VPN_DOWN);
			goto done;
		}
		snprintf(nq.from_id, sizeof(nq.from_id), "%s", gw->id);
		dst = public ? dst_eni->public_ip : dst_eni->ip;
	}
	nq.src = src_eni ? 0 : src;
	nq.dst = dst;
	if (run(snap, &nq, &r, err, errlen) < 0) {
		rc = -1;
		goto done;
	}
	out->tr_reachable = tell_forward(&w, snap, &r, src_eni, src, dst, err, errlen);
	if (out->tr_reachable)
		out->tr_cause = TRACE_OK;
done:
	net_trace_flow_free(w.w_flowtab);
	net_snapshot_free(snap);
	engine_net_plan_free(plan);
	return rc;
}
