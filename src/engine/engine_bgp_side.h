/*
 * engine_bgp_side — the engine's half of the VPN endpoint's BGP side: the
 * TUN bgp0 in BIRD's namespace (bgp/bgp_tun.h), opened once, when the
 * first dynamic connection (Options.StaticRoutesOnly false) is reconciled,
 * and handed to the endpoint (vpn_endpoint_set_bgp_tun); when that fails
 * it is tried again (engine_bgp_side_retry) after ENGINE_BGP_SIDE_RETRY_MIN_MS,
 * doubling to ENGINE_BGP_SIDE_RETRY_MAX_MS, while a dynamic connection
 * wants it, the reason kept meanwhile; then, per
 * dynamic connection, its tunnels' inside addresses (169.254.x.1/30) on
 * bgp0 while the engine runs it, deleted when it goes or turns static. An
 * address two connections share (two gateways may reuse a /30) stays until
 * the last one goes.
 *
 * Privileges: through priv/ (PRIV_BGP_TUN, PRIV_BGP_ADDR) in a separated
 * vpcd; in-process as root otherwise (tests), the namespace then deleted
 * by engine_bgp_side_free; a vpcd that is not root has no BGP side (never
 * retried), and engine_bgp_side_error says why (for _Bgp.Error and the
 * tunnels' status).
 *
 * Engine thread only (not thread-safe). Logs what it changes and why it
 * cannot; never fails a connection: its tunnels run whether or not BGP's
 * side does.
 */
#ifndef VPCD_ENGINE_BGP_SIDE_H
#define VPCD_ENGINE_BGP_SIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine_vpn.h"
#include "vpn/endpoint/endpoint.h"

#define ENGINE_BGP_SIDE_RETRY_MIN_MS	1000	/* after the first failure to open bgp0 */
#define ENGINE_BGP_SIDE_RETRY_MAX_MS	60000	/* doubling up to this */

struct engine_bgp_side;

/* For ep (not owned); nothing is opened yet. */
struct engine_bgp_side *engine_bgp_side_new(struct vpn_endpoint *ep);
/* Forgets everything; in-process, deletes the namespace it made (under
 * priv/, the helper does when vpcd stops). The endpoint keeps (and
 * closes) bgp0's fd. NULL is fine. */
void engine_bgp_side_free(struct engine_bgp_side *s);

/* Connection conn_id's BGP inside /30s become nets[0..n) (network
 * addresses, host order; n 0: none, e.g. static or gone). Opens bgp0 at
 * the first /30 anyone has. 0; -1 when BGP's side cannot run (see
 * engine_bgp_side_error; the /30s are kept and added once bgp0 opens), or
 * an address could not be changed (logged). */
int engine_bgp_side_set(struct engine_bgp_side *s, const char *conn_id, const uint32_t *nets,
			size_t n);

/* The same from a connection's plan: the inside /30s of its tunnels whose
 * spec is a BGP one (vpn_tunnel_spec.bgp), runnable or not. */
int engine_bgp_side_plan(struct engine_bgp_side *s, const struct engine_vpn_plan *plan);

/* When bgp0 could not be opened, a /30 wants it and its retry is due at
 * now_ms (monotonic): tries again, and once open adds every wanted /30.
 * true when bgp0 opened now. Cheap when nothing is due: the engine calls
 * it at each of engine_bird's polls (ENGINE_BIRD_POLL_MS). */
bool engine_bgp_side_retry(struct engine_bgp_side *s, uint64_t now_ms);

/* "" while the side runs or was never needed; else why BGP's side cannot
 * run ("BGP needs vpcd started as root ...", the helper's reason), kept
 * until a retry works. */
const char *engine_bgp_side_error(const struct engine_bgp_side *s);

/* BIRD's namespace once bgp0 is open ("" before). */
const char *engine_bgp_side_netns(const struct engine_bgp_side *s);

#endif
