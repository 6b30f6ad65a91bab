/*
 * vpcd_actions.c — vpcd's own actions, for what EC2 has no action for and
 * vpcctl needs from a vpcd that may run on another host: the tunnels'
 * detail (what `show crypto isakmp sa` / `show crypto ipsec sa` print) and
 * a dynamic connection's BGP sessions and learned routes (what `show ip bgp
 * summary` prints: resources.h's VPN_BGP_KEY, in BgpDocument), the data
 * plane's counters, and the packet trace. Their shapes are in
 * vpcd_model.json (merged into the EC2 model at build time); each answers a
 * Document member holding JSON, as IAM answers policy documents.
 *
 * Read-only: none of them changes state. SigV4-signed like every action;
 * there is no other way in.
 */
#include "api/api_int.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/strbuf.h"

/* Where the engine keeps what these actions serve (engine_vpn.h's
 * ENGINE_VPN_DETAIL_KEY, engine_dataplane.h's ENGINE_DP_COUNTERS_TYPE/_ID;
 * api/ does not include engine/). */
#define TUNNEL_DETAIL_KEY "_TunnelDetail"
#define DATAPLANE_TYPE "_dataplane"
#define DATAPLANE_ID "_dataplane-counters"

/* d as a JSON text into out's member (Document, BgpDocument); nothing when
 * d is NULL. */
static void set_json(struct doc *out, const char *member, const struct doc *d)
{
	if (!d)
		return;
	struct strbuf sb = STRBUF_INIT;
	doc_to_json(d, &sb);
	doc_set_str(out, member, sb_str(&sb));
	sb_free(&sb);
}

static void set_document(struct doc *out, const struct doc *d)
{
	set_json(out, "Document", d);
}

static void tunnel_detail_item(struct doc *list, const struct res *r)
{
	struct doc *item = doc_push(list, doc_obj());
	doc_set_str(item, "VpnConnectionId", r->r_id);
	doc_set_str(item, "State", doc_get_str(r->r_doc, "State"));
	set_document(item, doc_get(r->r_doc, TUNNEL_DETAIL_KEY));
	set_json(item, "BgpDocument", doc_get(r->r_doc, VPN_BGP_KEY));
}

int handle_VpcdDescribeTunnelDetails(struct api_req *rq)
{
	struct cache *c = api_cache(rq);
	struct doc *list = doc_set(rq->rq_out, "TunnelDetails", doc_list());
	const struct doc *ids = doc_get(rq->rq_in, "VpnConnectionIds");
	if (ids && ids->d_count) {
		/* every id first: an unknown one fails the whole call, as Describe does */
		doc_foreach(id, ids)
			if (id->d_type != DOC_STR || !cache_get_typed(c, RT_VPN, id->d_str))
				return api_not_found(rq, "InvalidVpnConnectionID.NotFound", "vpnConnection",
						     id->d_type == DOC_STR ? id->d_str : "");
		doc_foreach(id, ids)
			tunnel_detail_item(list, cache_get_typed(c, RT_VPN, id->d_str));
		return 0;
	}
	size_t n;
	struct res **all = cache_list(c, RT_VPN, &n);
	for (size_t i = 0; i < n; i++) {
		const char *state = doc_get_str(all[i]->r_doc, "State");
		if (!state || strcmp(state, "deleted") != 0)
			tunnel_detail_item(list, all[i]);
	}
	return 0;
}

/* The data plane as vpcctl shows it: {State running|off|stopped, Reason
 * (unless running), and the counters record's members but Running}. The
 * record outlives the vpcd that wrote it (it is stored): one whose Pid is
 * not this process's is an earlier run's. */
static struct doc *dataplane_view(const struct doc *rec)
{
	struct doc *v = doc_obj();
	char reason[256];
	if (!rec) {
		doc_set_str(v, "State", "off");
		doc_set_str(v, "Reason", "no data plane counters: this vpcd has not run with --dataplane");
		return v;
	}
	int64_t pid = doc_get_int(rec, "Pid", 0);
	if (pid != (int64_t)getpid()) {
		doc_set_str(v, "State", "stopped");
		snprintf(reason, sizeof(reason), "the vpcd that ran the data plane (pid %lld) is no longer "
			 "running: these are its last counters", (long long)pid);
		doc_set_str(v, "Reason", reason);
	} else if (!doc_get_bool(rec, "Running", false)) {
		doc_set_str(v, "State", "off");
		doc_set_str(v, "Reason", "the data plane is off: vpcd runs without --dataplane or could not "
			    "start it (see its log)");
	} else {
		doc_set_str(v, "State", "running");
	}
	doc_foreach(m, rec)
		if (strcmp(m->d_key, "Running") != 0)
			doc_set(v, m->d_key, doc_clone(m));
	return v;
}

int handle_VpcdDescribeDataPlane(struct api_req *rq)
{
	const struct res *r = cache_get_typed(api_cache(rq), DATAPLANE_TYPE, DATAPLANE_ID);
	struct doc *v = dataplane_view(r ? r->r_doc : NULL);
	set_document(rq->rq_out, v);
	doc_free(v);
	return 0;
}

void api_set_tracer(struct api *api, api_trace_fn fn)
{
	api->a_tracer = fn;
}

api_trace_fn api_tracer(const struct api *api)
{
	return api->a_tracer;
}

int handle_VpcdTracePacket(struct api_req *rq)
{
	const struct doc *port = doc_get(rq->rq_in, "Port");
	const struct doc *sport = doc_get(rq->rq_in, "SourcePort");
	if (port && (port->d_int < 0 || port->d_int > 65535))
		return api_fail(rq, "InvalidParameterValue", "Port: %lld is not 0-65535", (long long)port->d_int);
	if (sport && (sport->d_int < 1 || sport->d_int > 65535))
		return api_fail(rq, "InvalidParameterValue", "SourcePort: %lld is not 1-65535",
				(long long)sport->d_int);
	api_trace_fn tracer = api_tracer(rq->rq_api);
	if (!tracer)
		return api_fail(rq, "UnsupportedOperation", "This vpcd runs no packet trace.");
	struct trace_query q = {
		.tq_from = doc_get_str(rq->rq_in, "From"),
		.tq_to = doc_get_str(rq->rq_in, "To"),
		.tq_proto = doc_get_str(rq->rq_in, "Protocol"),
		.tq_port = port ? (int)port->d_int : -1,
		.tq_src_port = sport ? (int)sport->d_int : 0,
	};
	struct trace_result r;
	char err[256];
	if (tracer(api_cache(rq), &q, &r, err, sizeof(err)) < 0)
		return api_fail(rq, "InvalidParameterValue", "%s", err);
	doc_set_bool(rq->rq_out, "Reachable", r.tr_reachable);
	struct doc *d = trace_result_doc(&r);
	struct strbuf text = STRBUF_INIT;	/* as vpcctl prints it: one formatter */
	trace_format(&r, &text);
	doc_set_str(d, "Text", sb_str(&text));
	sb_free(&text);
	set_document(rq->rq_out, d);
	doc_free(d);
	return 0;
}
