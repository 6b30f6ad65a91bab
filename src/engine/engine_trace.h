/*
 * engine_trace — the packet trace (`vpcctl trace`, vpcd's VpcdTracePacket)
 * on the router's own code: the plan engine_net builds from the cache,
 * compiled as the router compiles it (net_snapshot_build, without TAPs or
 * ports), one synthetic packet walked through src/net/path.c
 * (net_snapshot_trace with plan_only), then, when it arrives, its answer
 * (net_trace_query.answer) for the way back through the stateless parts.
 * The explanation therefore cannot disagree with the data plane about
 * routes, NACLs, security groups, NAT gateways or peering.
 *
 * One decision is not the router's yet: which tunnel carries a packet the
 * router hands to a VPN gateway's port is the VPN endpoint's (a connection
 * of that gateway with a tunnel UP whose routes cover the far address:
 * vgw_propagated_routes); it is checked here as the endpoint makes it
 * (cause vpn-down) until the router decides it (issue 15, item 1).
 *
 * The answer keeps the model's shape (model/trace.h's struct trace_result,
 * trace_format, api_trace_doc), so vpcctl and the API's clients see the
 * same steps and causes; a NAT gateway's or a peering route is followed
 * instead of "unsupported-target".
 *
 * Pure: reads the cache (call it on the thread that owns it: the API
 * thread), allocates the plan and the snapshot for the duration of the
 * call. Cost: one plan build and one compile, O(resources), per trace.
 */
#ifndef VPCD_ENGINE_TRACE_H
#define VPCD_ENGINE_TRACE_H

#include <stddef.h>

#include "api/trace.h"
#include "model/trace.h"
#include "store/cache.h"

/* api_trace's contract (api/trace.h): 0 with *out filled, reachable or
 * not; -1 with a message in err for a query that names nothing known or
 * is malformed, or a network that does not compile. */
int engine_trace(struct cache *c, const struct api_trace_query *q, struct trace_result *out, char *err,
		 size_t errlen);

#endif
