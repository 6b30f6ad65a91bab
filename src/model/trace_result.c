/*
 * trace_result.c — the names of a trace's steps and causes, and the two
 * forms its answer leaves vpcd in (trace_result.h): lines for people and
 * a JSON-shaped doc. Pure; decides nothing about a packet.
 */
#include "model/trace_result.h"

const char *trace_cause_name(enum trace_cause c)
{
	static const char *const names[TRACE_CAUSE_COUNT] = {
		[TRACE_OK] = "ok",
		[TRACE_NO_SOURCE] = "no-source",
		[TRACE_NO_ROUTE] = "no-route",
		[TRACE_BLACKHOLE] = "blackhole",
		[TRACE_NACL_OUT] = "nacl-out",
		[TRACE_NACL_IN] = "nacl-in",
		[TRACE_SG_EGRESS] = "sg-egress",
		[TRACE_SG_INGRESS] = "sg-ingress",
		[TRACE_NO_PUBLIC_IP] = "no-public-ip",
		[TRACE_NO_GATEWAY] = "no-gateway",
		[TRACE_VPN_DOWN] = "vpn-down",
		[TRACE_NO_DESTINATION] = "no-destination",
		[TRACE_SOURCE_DEST_CHECK] = "source-dest-check",
		[TRACE_UNSUPPORTED_TARGET] = "unsupported-target",
		[TRACE_REPLY_NO_ROUTE] = "reply-no-route",
		[TRACE_REPLY_NACL_OUT] = "reply-nacl-out",
		[TRACE_REPLY_NACL_IN] = "reply-nacl-in",
	};
	return (unsigned)c < TRACE_CAUSE_COUNT ? names[c] : "unknown";
}

const char *trace_step_name(enum trace_step_kind k)
{
	switch (k) {
	case TRACE_STEP_SOURCE: return "source";
	case TRACE_STEP_SG_EGRESS: return "security-group-egress";
	case TRACE_STEP_ROUTE: return "route";
	case TRACE_STEP_NACL_OUT: return "network-acl-outbound";
	case TRACE_STEP_GATEWAY: return "gateway";
	case TRACE_STEP_NACL_IN: return "network-acl-inbound";
	case TRACE_STEP_SG_INGRESS: return "security-group-ingress";
	case TRACE_STEP_SOURCE_DEST_CHECK: return "source-dest-check";
	case TRACE_STEP_REPLY_NACL_OUT: return "reply-network-acl-outbound";
	case TRACE_STEP_REPLY_ROUTE: return "reply-route";
	case TRACE_STEP_REPLY_NACL_IN: return "reply-network-acl-inbound";
	case TRACE_STEP_DESTINATION: return "destination";
	}
	return "step";
}

void trace_format(const struct trace_result *r, struct strbuf *out)
{
	for (size_t i = 0; i < r->tr_nsteps; i++) {
		const struct trace_step *s = &r->tr_steps[i];
		sb_printf(out, "%2zu. %-4s  %-26s %s\n", i + 1, s->ts_ok ? "ok" : "DROP", trace_step_name(s->ts_kind),
			  s->ts_detail);
	}
	if (r->tr_reachable)
		sb_printf(out, "=> reachable\n");
	else
		sb_printf(out, "=> dropped: %s\n", trace_cause_name(r->tr_cause));
}

struct doc *trace_result_doc(const struct trace_result *r)
{
	struct doc *d = doc_obj();
	doc_set_bool(d, "Reachable", r->tr_reachable);
	doc_set_str(d, "Cause", trace_cause_name(r->tr_cause));
	struct doc *steps = doc_get_list(d, "Steps");
	for (size_t i = 0; i < r->tr_nsteps; i++) {
		const struct trace_step *s = &r->tr_steps[i];
		struct doc *o = doc_push(steps, doc_obj());
		doc_set_str(o, "Step", trace_step_name(s->ts_kind));
		doc_set_bool(o, "Ok", s->ts_ok);
		doc_set_str(o, "Component", s->ts_component);
		doc_set_str(o, "Rule", s->ts_rule);
		doc_set_str(o, "Detail", s->ts_detail);
	}
	return d;
}
