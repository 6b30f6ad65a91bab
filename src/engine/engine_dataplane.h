/*
 * engine_dataplane — the engine thread's half of the data plane: the
 * virtual router (net.h) and the instances' namespaces and TAPs, brought
 * to what an engine_net_plan says. Only the engine thread calls
 * engine_dataplane_apply(); new/free run where engine_new/engine_free do.
 *
 * Instances: a running vpcd-linux instance is the namespace named after
 * its id with eth0 a TAP vpcd holds (net_instance_create); a running
 * vpcd-join-netns instance is eth0 in the namespace its tag names
 * (net_eni_attach_netns; the namespace is never created nor deleted).
 * An instance that stops, terminates or goes away leaves the snapshot
 * first, then its namespace is deleted (its TAP closed).
 *
 * Life across vpcd restarts: vpcd deletes every namespace it created when
 * it stops (SIGTERM/SIGINT), and creates them again from the store when it
 * starts; the instances' processes do not survive a vpcd restart (their
 * network would not either: the TAPs are vpcd's). The first plan after
 * start also deletes leftovers of a vpcd that died without cleaning up:
 * a namespace named after an instance of the store (running or not) that
 * vpcd did not create in this run.
 */
#ifndef VPCD_ENGINE_DATAPLANE_H
#define VPCD_ENGINE_DATAPLANE_H

#include <stddef.h>
#include <stdint.h>

#include "base/doc.h"
#include "engine/engine_net.h"

struct engine_dataplane;

struct ring;

/* Starts the router. Side k (plain_port k) of the VPN endpoint is the
 * pair of rings to_ep[k] (the router produces) and to_router[k] (the
 * router consumes), nsides of them (not owned: the caller frees them
 * after engine_dataplane_free), 0 when no tunnel runs. A VPN gateway
 * whose plan entry np_gw_port[i] is k is given side k as its port (a
 * ring port, net_gateway_config.ring_out/ring_in, with its own routes
 * from the plan). NULL when the router cannot start (logged). */
struct engine_dataplane *engine_dataplane_new(struct ring *const *to_ep,
					      struct ring *const *to_router, size_t nsides);

/* Before engine_dataplane_new (vpcd's --router-shed-nice): the router's
 * nice value while it sheds overload (net.h, shed_nice), 0..19, 0 off;
 * NET_SHED_NICE_DEFAULT unless called. 0, or -1 out of range. */
int engine_dataplane_configure_shed(int nice);

/* Engine thread: namespaces created and deleted, the snapshot swapped.
 * Takes plan (freed here). */
void engine_dataplane_apply(struct engine_dataplane *dp, struct engine_net_plan *plan);

/* Any thread; NULL dp: false. */
bool engine_dataplane_counters(struct engine_dataplane *dp, struct net_counters *out);

/* ---- the counters in the store, for `vpcctl dataplane` (engine.h) ---------
 * One internal resource, type ENGINE_DP_COUNTERS_TYPE and id
 * ENGINE_DP_COUNTERS_ID (a '_' type: no EC2 action lists it, nothing can
 * tag it). Layout:
 *
 *   { "Running": true, "UpdatedAt": unix s, "Pid": vpcd's pid,
 *     "Drops": { cause (net_drop_name: "bad-frame", "src-dst-check",
 *       "nacl-out", ...): n, every cause, in net_drop order },
 *     "Forwarded": { "RxFrames", "TxFrames" (ENI side), "PortRx",
 *       "PortTx" (gateway ports), "GsoRx", "SwSegments", "TapBatches"
 *       (io_uring rounds of TAP frames), "UdpTrains", "UdpTrainFrames",
 *       "TcpTrains", "TcpTrainSegments" (GSO frames written to ENIs and
 *       the datagrams or segments in them) },
 *     "Shedding": { "Nice" (while shedding; 0: shedding off), "Active"
 *       (1 in a spell now), "Spells", "Milliseconds" (spent in them),
 *       "Withdrawn" (spells ended because the router's rate collapsed) },
 *     "Arp": { "Replies", "Ignored" },
 *     "Conntrack": { "Entries", "Evictions", "FragmentEvictions" },
 *     "Snapshots": n }
 *
 * (engine_dataplane_counters_doc(NULL, ...) gives { "Running": false,
 * "UpdatedAt", "Pid" }; not posted for now: a record left by an earlier
 * run stays, and vpcctl tells by its Pid.) Counters are since that vpcd
 * started. */
#define ENGINE_DP_COUNTERS_TYPE		"_dataplane"
#define ENGINE_DP_COUNTERS_ID		"_dataplane-counters"
#define ENGINE_DP_COUNTERS_PERIOD_S	5

/* The record above (c NULL: not running). A new doc; pure. */
struct doc *engine_dataplane_counters_doc(const struct net_counters *c, int64_t now_unix, int64_t pid);

/* After the engine thread has stopped: stops the router, deletes the
 * namespaces of the instances (TAPs closed), closes the vgw_fds. NULL is fine. */
void engine_dataplane_free(struct engine_dataplane *dp);

#endif
