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
 * A packet the router hands to a VPN gateway's port goes with the
 * connection the gateway's own routes chose (net_vgw_route; the trace
 * step's conn_key); the VPN endpoint then sends it into one of that
 * connection's tunnels that is UP, which is checked here (cause vpn-down,
 * naming the connection). Without a chosen connection (no route of the
 * gateway covers the destination, or two connections route the same
 * prefix) the endpoint looks among the tunnels' routes, checked as it does
 * (engine_net_vgw_carries). Traffic from the office comes in through the
 * VPN gateway when a connection with a tunnel UP routes its source.
 *
 * The question and the answer have model/trace_result.h's shape (struct
 * trace_query in; struct trace_result out, which trace_format and
 * trace_result_doc print), so vpcctl and the API's clients see the same
 * steps and causes whatever asks. It is the only packet trace in vpcd:
 * the API reaches it through api_set_tracer (vpcd's main sets it; api/
 * does not link engine/), with or without the data plane running (the
 * trace needs the compiled tables, not TAPs or ports).
 *
 * Pure: reads the cache (call it on the thread that owns it: the API
 * thread), allocates the plan and the snapshot for the duration of the
 * call. Cost: one plan build and one compile, O(resources), per trace.
 */
#ifndef VPCD_ENGINE_TRACE_H
#define VPCD_ENGINE_TRACE_H

#include <stddef.h>

#include "model/trace_result.h"
#include "state/cache.h"

/* 0 with *out filled, reachable or not; -1 with a message in err for a
 * query that names nothing known or is malformed (an instance without
 * interfaces, an unknown id, a bad protocol or port), or a network that
 * does not compile. api_trace_fn's contract (api/api.h). */
int engine_trace(struct cache *c, const struct trace_query *q, struct trace_result *out, char *err, size_t errlen);

#endif
