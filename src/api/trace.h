/*
 * api/trace.h — the packet trace (model/trace.h) over the resources in a
 * cache: api_trace() assembles the plain structs the model walks from the
 * docs (VPCs, subnets, route tables with their propagated VPN routes,
 * network ACLs, security group rules, ENIs, VPN gateways and their
 * connections' telemetry) and walks the packet.
 *
 * For `vpcctl trace` and any daemon endpoint: EC2 has no such action.
 * Reads the cache only; call it on the thread that owns the cache (the
 * API thread in vpcd), or on a cache of one's own (loaded from the store
 * with store_load_all, as a read-only tool may).
 */
#ifndef VPCD_API_TRACE_H
#define VPCD_API_TRACE_H

#include <stddef.h>

#include "base/doc.h"
#include "model/trace.h"
#include "store/cache.h"

struct api_trace_query {
	const char *aq_from;	/* "i-…" (its primary ENI), "eni-…", or an IPv4 address */
	const char *aq_to;	/* the same */
	const char *aq_proto;	/* "tcp", "udp", "icmp", or an IP protocol number */
	int aq_port;		/* TCP/UDP: destination port (required); ICMP: type, -1 for echo request */
	int aq_src_port;	/* TCP/UDP source port; 0: TRACE_EPHEMERAL_PORT_DEFAULT */
};

/* The query checked and resolved into the model's packet: an instance to
 * its primary ENI, ENI ids to the cache's (borrowed from it), addresses
 * parsed, the protocol and ports checked (ICMP: echo request unless a
 * type is given). 0, or -1 with a message in err. */
int api_trace_packet(struct cache *c, const struct api_trace_query *q, struct trace_packet *out, char *err,
		     size_t errlen);

/* A tracer: api_trace, or one with the same contract (engine_trace: the
 * router's own code). */
typedef int (*api_trace_fn)(struct cache *c, const struct api_trace_query *q, struct trace_result *out, char *err,
			    size_t errlen);

struct api;
/* The tracer of VpcdTracePacket and the Reachability Analyzer's actions
 * from now on (vpcd's main sets engine_trace; api/ does not link
 * engine/). Call before api_serve. api_tracer: the one set, else
 * api_trace. */
void api_set_tracer(struct api *api, api_trace_fn fn);
api_trace_fn api_tracer(const struct api *api);

/* 0 with *out filled (reachable or not), or -1 with a message in err
 * (an instance without interfaces, an unknown id, a bad protocol or port). */
int api_trace(struct cache *c, const struct api_trace_query *q, struct trace_result *out, char *err, size_t errlen);

/* The result as a doc: {Reachable, Cause, Steps [{Step, Ok, Component,
 * Rule, Detail}]}, for JSON output. Caller owns it. */
struct doc *api_trace_doc(const struct trace_result *r);

#endif
