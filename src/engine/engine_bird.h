/*
 * engine_bird — BIRD run by the engine for the dynamic VPN connections
 * (BGP-CONTRACT.md): the I/O half of engine_bgp.h, on the engine thread
 * only (not thread-safe; the engine calls it from that thread alone).
 *
 *   - connections in: engine_bird_conn_set() with each handed connection
 *     (the trimmed copy, with the VPC CIDR blocks the API thread added:
 *     ENGINE_BGP_EXPORT_KEY); static or gone ones drop out;
 *   - DATA/bgp/bird.conf written atomically (temporary + rename) from the
 *     dynamic connections whenever the text changes; a connection that
 *     cannot be described or written (overlapping inside /30s across
 *     gateways, ...) is left out and its _Bgp.Error says why;
 *   - BIRD started through priv/'s helper (PRIV_BGP_START: namespace
 *     vpcd-bgp-<pid>, as vpcd's user) while at least one dynamic connection
 *     exists, `configure` on its socket after each change, stopped when none
 *     is left and at engine_bird_free();
 *   - supervised through the pidfd the helper handed back: an exit is
 *     logged, reported in _Bgp.Error, and BIRD started again after
 *     bgp_run_restart_delay_ms(consecutive exits);
 *   - polled every ENGINE_BIRD_POLL_MS (and at once after a change):
 *     `show protocols all`, `show route all table T` per gateway; each
 *     connection's _Bgp posted through hooks.bh_post only when it changed,
 *     and hooks.bh_routes called when a tunnel's learned prefixes (best
 *     path through that tunnel, session Established) changed;
 *   - a session BIRD shut down for the prefix limit enabled again after
 *     engine_bgp_limit_retry_s(hits), its cause kept in _Bgp meanwhile.
 *
 * Every command on BIRD's socket has a timeout (ENGINE_BIRD_CTL_MS): the
 * engine thread is never held long by a BIRD that does not answer.
 * Without privilege separation (vpcd not started as root) BIRD cannot run:
 * each dynamic connection's _Bgp.Error says so.
 */
#ifndef VPCD_ENGINE_BIRD_H
#define VPCD_ENGINE_BIRD_H

#include <stddef.h>
#include <stdint.h>

#include "base/doc.h"
#include "vpn/endpoint/endpoint.h"

#define ENGINE_BIRD_POLL_MS	1000	/* BIRD asked this often while it runs */
#define ENGINE_BIRD_CTL_MS	1500	/* one command's answer, at most */
#define ENGINE_BIRD_STABLE_MS	60000	/* running this long: the restart delay starts over */
#define ENGINE_BIRD_SUBDIR	"bgp"	/* in the data dir: bird.conf, bird.ctl, bird.pid, bird.log */

struct engine_bird_hooks {
	/* vpn_id's _Bgp changed: bgp is the new one (the callee's), NULL
	 * when it is to be removed (the connection is static now) */
	void (*bh_post)(void *arg, const char *vpn_id, struct doc *bgp);
	/* vpn_id's learned prefixes changed (engine_bird_routes) */
	void (*bh_routes)(void *arg, const char *vpn_id);
	/* why BIRD's sessions have no way through the tunnels (the endpoint's
	 * BGP side, engine_bgp_side.h, which the engine retries here when
	 * due), "" when they have: _Bgp.Error when nothing weightier is to be
	 * said. Called at each poll while a connection is BIRD's. */
	const char *(*bh_side_error)(void *arg);
	void *bh_arg;
};

struct engine_bird;

/* data_dir: vpcd's (the main process's working directory under privilege
 * separation: "."). Starts nothing until a dynamic connection comes. */
struct engine_bird *engine_bird_new(const char *data_dir, const struct engine_bird_hooks *hooks);

/* Connection vpn_id is now vpn (a trimmed copy, borrowed for the call);
 * NULL, deleted or static: it is no longer BIRD's. */
void engine_bird_conn_set(struct engine_bird *b, const char *vpn_id, const struct doc *vpn);

/* Does what is due at now_ms (monotonic): write, start, stop, configure,
 * supervise, poll, re-enable. */
void engine_bird_run(struct engine_bird *b, uint64_t now_ms);

/* When engine_bird_run() has something to do next (monotonic ms;
 * UINT64_MAX: nothing until a connection changes). */
uint64_t engine_bird_next_ms(const struct engine_bird *b);

/* The prefixes tunnel t of vpn_id carries for BGP (its learned routes
 * with that tunnel as best path): into out[0..max), how many written. */
size_t engine_bird_routes(const struct engine_bird *b, const char *vpn_id, unsigned t, struct vpn_cidr *out,
			  size_t max);

/* Stops BIRD (if running) and frees. NULL is fine. */
void engine_bird_free(struct engine_bird *b);

#endif
