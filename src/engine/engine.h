/*
 * engine — reconciles desired state (the store's resources, as the change
 * feed's records give them to the engine's own view) into running state,
 * and writes observed state back through the state layer. It runs the tunnels of VPN connections on a vpn_endpoint
 * (vpn/endpoint/endpoint.h) and reports their status in VgwTelemetry; with
 * --dataplane (ec_dataplane) it also runs the VPC data plane (net/): the
 * instances' namespaces and the virtual router (engine_dataplane.h), from
 * a plain picture of the network built from its view (engine_net.h).
 *
 * Data plane (ec_dataplane, and vpcd has CAP_NET_ADMIN and CAP_SYS_ADMIN;
 * otherwise logged once and off): after every committed batch that
 * touched a VPC, subnet, route table, NACL, security group or rule, ENI,
 * instance, Elastic IP, internet or VPN gateway or VPN connection (whose
 * telemetry decides the propagated routes), and once at engine_attach(),
 * the engine thread builds an engine_net_plan from its view, creates and
 * deletes namespaces and swaps the router's snapshot (net_router_apply);
 * batches committed while it works are followed together afterwards. The VPN endpoint's
 * plaintext sides are then pairs of in-process rings (base/ring.h), one
 * per VPN gateway (up to VPN_PLAIN_PORTS_MAX, given out by the engine thread as gateways
 * and connections appear, freed when a gateway is gone), whose other end
 * is that gateway's port in the router: routes to a vgw (and routes
 * propagated while a tunnel is UP) go into the tunnels, and packets out of
 * the tunnels enter the VPC through the gateway (NACL in, SG ingress) —
 * no TUN and no kernel routes then. A connection's tunnels are on its
 * gateway's side (vpn_tunnel_spec.plain_port): what they decrypt enters
 * that gateway's VPC only, and what a gateway's port sends goes into that
 * gateway's tunnels only. Without --dataplane the TUN and its kernel
 * routes are as below (one side, every tunnel on it).
 *
 * Threads and who owns what
 * -------------------------
 *   API thread     owns the state (state/state.h: the cache and its store
 *                  connection). engine_attach() gives the engine its own
 *                  view (a state_replica: a read-only connection on the
 *                  same database, opened before the privileges are
 *                  dropped, and a cache of the engine's own) and listens
 *                  for commits; the listener only rings the engine
 *                  thread's doorbell. engine_observe() (called by vpcd's
 *                  main when the API thread's loop was woken: the events
 *                  queue, a base/queue.h one, wakes it when it goes from
 *                  empty to non-empty) takes the events queued so far and
 *                  writes each as a state change
 *                  (doc_clone, VgwTelemetry[i], state_put), committed with
 *                  the loop's batch like a request's. The engine never
 *                  includes api/.
 *   engine thread  follows the feed: at the start its view reads the
 *                  whole state; at each doorbell it reads the records
 *                  after its cursor (type, id, ord and the JSON body as
 *                  committed: what another process would read), applies
 *                  them to the view (state_replica_follow; the whole state
 *                  again when the cursor is older than the feed keeps) and
 *                  reconciles each VPN connection that changed (a trimmed
 *                  copy: no CustomerGatewayConfiguration, no telemetry;
 *                  skipped when its _ConfigVersion and VPC blocks did not
 *                  move, e.g. our own telemetry coming back): two
 *                  vpn_tunnel_specs per live connection (engine_vpn.h),
 *                  vpn_endpoint add/update/remove by tunnel id
 *                  "<vpn-id>#<n>", one kernel route per static route into
 *                  the TUN (reference-counted across connections); then,
 *                  when a network type changed, the plan. A read that
 *                  fails is tried again on its loop's timer (10 ms
 *                  doubling to 1 s) until one works, with no further
 *                  commit needed. It never touches the API's cache or
 *                  its store connection.
 *   endpoint loop  calls on_status at every UP/DOWN change; the engine
 *                  queues it and wakes the API thread (eventfd).
 *
 * Changing one connection never touches the tunnels of another; changing
 * one tunnel's options restarts that tunnel only (the endpoint compares
 * the IKE fields; routes, MSS and MTU change in place).
 *
 * Observed state (VgwTelemetry[i], which the API creates and never changes
 * afterwards): Status "UP"/"DOWN"; LastStatusChange when Status changes;
 * StatusMessage "IPSEC IS UP" when up, else the cause ("waiting for the
 * peer", "DPD timeout", "deleted by peer", "authentication failed: ...",
 * "proposal mismatch: ...", "no response ...", or why vpcd cannot run the
 * tunnel; "removed" once the connection is deleted); AcceptedRouteCount =
 * the connection's static routes while UP, 0 while DOWN. Written only when
 * something in it changes.
 *
 * Observed detail (_TunnelDetail, engine_vpn.h): per tunnel the ISAKMP SA,
 * the IPsec SAs (SPIs, transforms, selectors, lifetimes, counters, replay
 * window, drops), for `vpcctl vpn status`, which reads it from the store:
 * EC2 has no action for it and '_' keys never reach the wire. Written the
 * same way as the telemetry, at every UP/DOWN change and otherwise at most
 * every ENGINE_VPN_DETAIL_PERIOD_S when it changed; removed when the
 * engine stops running the connection.
 *
 * Data plane counters (engine_dataplane.h: one internal resource, type
 * "_dataplane", id "_dataplane-counters", in the store like any other but
 * listed by no EC2 action): the router's drops per cause (net_drop_name:
 * bad-frame, src-dst-check, nacl-out, sg-egress, no-route, blackhole,
 * no-eni, nacl-in, sg-ingress, no-port, no-public-ip, tx-error, fragment,
 * ...), frames forwarded (ENI side, gateway ports), ARP, GSO frames and
 * software segments, connection-table entries and evictions, with
 * UpdatedAt and vpcd's Pid, for `vpcctl dataplane` (and the "drops:" line
 * of `vpcctl show`), which read it from --data-dir's vpcd.db read-only.
 * The engine thread reads net_router_counters() at start and then every
 * ENGINE_DP_COUNTERS_PERIOD_S (5 s) and posts the record only when a
 * counter changed; the API thread writes it (engine_observe, the same
 * eventfd and event queue as the telemetry). A record left by an earlier run
 * stays; vpcctl tells it by its Pid (that vpcd no longer runs).
 *
 * Start-up and failures: engine_new() runs only the outside addresses that
 * are addresses of this host (each is checked by binding it); the others
 * are logged, and their tunnels are DOWN with the reason. When none is, or
 * the TUN cannot be created, the tunnels are off (logged); when neither
 * tunnels nor data plane can run, engine_new() returns NULL: vpcd serves
 * the API alone. A restart brings every tunnel back from
 * the store (the stored telemetry goes DOWN "waiting for the peer" until
 * the peer is back, or "connecting" with startup action start).
 *
 * Kernel routes: until the VPC data plane exists, packets from a tunnel
 * leave through the TUN into the host's stack, and the engine adds
 * "<static route> dev <tun> proto static" for each static route of a live
 * connection (and removes it with the last connection that has it). A
 * route that already exists (not the engine's) is left alone and logged.
 *
 * BGP (engine_bird.h, engine_bgp.h, BGP-CONTRACT.md): the trimmed copy of
 * a dynamic connection (Options.StaticRoutesOnly false) also carries its
 * gateway's VPC CIDR blocks (ENGINE_BGP_EXPORT_KEY), which the engine
 * thread reads from its view at each reconcile and, after every batch
 * that touched a VPC or gateway, reconciles the connection again when
 * they changed. The engine thread runs BIRD for them (engine_bird.h), posts
 * each connection's _Bgp when it changed (an event applied like
 * _TunnelDetail), and gives each tunnel, beside the static routes, the
 * learned prefixes whose best path is that tunnel (and, without the data
 * plane, kernel routes for them into the TUN).
 *
 * Secrets: the trimmed copies hold the pre-shared keys; they are wiped
 * before they are freed, and never logged.
 */
#ifndef VPCD_ENGINE_H
#define VPCD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/evloop.h"
#include "state/cache.h"
#include "state/state.h"
#include "vpn/endpoint/endpoint.h"

#define ENGINE_TUN_DEFAULT "vpcd0"

struct engine_config {
	const char *ec_tun_name;	/* --vpn-tun; ENGINE_TUN_DEFAULT */
	const uint32_t *ec_outside;	/* --vpn-outside-addresses, host order; copied */
	size_t ec_noutside;
	bool ec_kernel_routes;		/* add the static routes into the TUN */
	bool ec_dataplane;		/* --dataplane: instances, the virtual router */
	const char *ec_data_dir;	/* vpcd's data dir (BIRD's files in its bgp/); NULL: "." */
};

struct engine;

/* Opens the TUN and starts the endpoint and the engine thread. NULL when
 * the engine cannot run (logged); vpcd then serves without tunnels. */
struct engine *engine_new(const struct engine_config *cfg);

/* On the thread that owns st (the API thread), before it serves: resets
 * the stored tunnels' telemetry (committed) and listens for st's commits
 * (state_on_commit: a doorbell only); the engine thread then reads the
 * whole state into view, its own view of st's store (state_replica_open;
 * taken; NULL: the engine follows nothing, logged), runs every VPN
 * connection and the network it holds, and follows the feed from there.
 * Open view before vpcd drops its privileges: SQLite opens the database
 * by its full path, whose parents the unprivileged user may not enter. */
void engine_attach(struct engine *e, struct state *st, struct state_replica *view, struct evloop *observer);

/* Observed state in: statuses, tunnel detail, BGP pictures and counters
 * wait in a queue (base/queue.h) whose consumer is engine_attach's
 * observer, the loop of the state's thread: it is woken (evloop_wakeup)
 * when the queue goes from empty to non-empty, and that thread then calls
 * engine_observe(), which takes everything queued so far and writes each,
 * in order, as one state change (state_change_begin/state_put/
 * state_change_end) into the state's open batch, committed with it. On
 * the state's thread only, after engine_attach. The observer is not woken
 * any more once engine_free has begun. */
void engine_observe(struct engine *e);

/* The full picture of tunnel index (0, 1) of VPN connection vpn_id, as
 * `vpcctl vpn status` prints it (SPIs, transforms, lifetimes, counters).
 * Any thread. false when vpcd does not run that tunnel. */
bool engine_vpn_tunnel_status(struct engine *e, const char *vpn_id, int index,
			      struct vpn_tunnel_status *out);

/* After api_serve() has returned (engine_observe is not called any more;
 * the commit listener is removed here):
 * stops the engine thread, deletes every SA (Delete payloads sent), closes
 * the TUN (its routes go with it), stops the router and deletes the
 * instances' namespaces (created again at the next start), and wipes every
 * key. NULL is fine. */
void engine_free(struct engine *e);

/* The privileged step of starting, also for priv/'s helper: whether the
 * data plane may run here (false: why). */
bool engine_dataplane_capable(char *why, size_t len);

#endif
