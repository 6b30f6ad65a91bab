/*
 * engine_bgp — the pure half of running BGP for dynamic VPN connections: a
 * vpn-connection doc (the layout at the top of api/vpn.c) into the
 * description bgp_conf_write() turns into BIRD's configuration (bgp/bgp.h);
 * BIRD's answers (bgp_parse_*) into the connection's _Bgp (BGP-CONTRACT.md,
 * api/vpn.c) and into each tunnel's learned prefixes for the endpoint; the
 * prefix limit's retry delay. engine_bird.h is the I/O half (BIRD itself).
 * No I/O, no threads; unit-tested in tests/engine/test_engine_bgp.c.
 *
 * The VPC's CIDR blocks (what the gateway advertises) are not in the
 * connection's doc: the API thread adds them to the trimmed copy it hands
 * the engine (ENGINE_BGP_EXPORT_KEY), from the VPC the connection's gateway
 * is attached to (primary and secondary blocks, associated ones);
 * engine_bgp_exports() reads them back into cd_export.
 */
#ifndef VPCD_ENGINE_BGP_H
#define VPCD_ENGINE_BGP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/doc.h"
#include "bgp/bgp.h"

/* 1: the connection is dynamic (Options.StaticRoutesOnly false) and out
 * describes it (cd_export NULL, cd_nexport 0); 0: it is static, BGP has
 * nothing to do with it; -1: dynamic, but BGP cannot run for it, why says
 * so (no customer gateway ASN, no gateway ASN, a tunnel without an inside
 * /30 of 169.254.0.0/16): for the tunnels' StatusMessage. */
int engine_bgp_conn_desc(const struct doc *vpn, struct bgp_conn_desc *out, char *why, size_t why_len);

/* The trimmed copy's list of the VPC CIDR blocks ("10.0.0.0/16", ...),
 * added by the API thread; the engine never reads the store. */
#define ENGINE_BGP_EXPORT_KEY	"_BgpExport"
#define ENGINE_BGP_EXPORT_MAX	8	/* AWS allows 5 IPv4 blocks per VPC */

/* The blocks of vpn's ENGINE_BGP_EXPORT_KEY into out[0..max) (malformed
 * ones passed over): how many. */
size_t engine_bgp_exports(const struct doc *vpn, struct bgp_prefix *out, size_t max);

/* ---- _Bgp: what BIRD says, in the connection's doc ------------------------ */

#define ENGINE_BGP_KEY		"_Bgp"	/* state/resources.h's VPN_BGP_KEY */

/* "" | "prefix-limit" | "bad-peer-as" | "hold-expired" | "other" */
const char *engine_bgp_cause_name(enum bgp_session_error e);

/* The two sessions of connection vpn_id among BIRD's (by protocol name,
 * bgp_protocol_name): out[t] NULL when BIRD has none for tunnel t. */
void engine_bgp_sessions_of(const char *vpn_id, const struct bgp_session *all, size_t n,
			    const struct bgp_session *out[BGP_TUNNELS]);

/* The _Bgp doc (a new one) of a connection: vpn is its doc (the tunnels'
 * OutsideIpAddress), cd its description (NULL when it has none: ASNs then
 * 0), error the connection-level reason BGP cannot run (NULL or "": none),
 * sess its sessions as engine_bgp_sessions_of found them (NULL: "Down"),
 * routes BIRD's routes of the gateway's table: Routes lists those whose
 * best path is one of this connection's sessions and that session is
 * Established, with the tunnel. */
struct doc *engine_bgp_doc(const struct doc *vpn, const struct bgp_conn_desc *cd, const char *error,
			   const struct bgp_session *const sess[BGP_TUNNELS], const struct bgp_route *routes,
			   size_t nroutes);

/* What the endpoint carries into tunnel t of vpn_id: of routes, the
 * prefixes whose best path is that tunnel's session while it is
 * Established (as engine_bgp_doc lists them), into out[0..max); how many
 * there were (those beyond max are not written). */
size_t engine_bgp_tunnel_prefixes(const char *vpn_id, const struct bgp_session *const sess[BGP_TUNNELS],
				  const struct bgp_route *routes, size_t nroutes, unsigned t,
				  struct bgp_prefix *out, size_t max);

/* The prefix limit: AWS drops a session that sends more than 100
 * prefixes, and the customer may come back with fewer. BIRD shuts such a
 * session down (import limit action disable); the engine enables it again
 * after this many seconds: ENGINE_BGP_LIMIT_RETRY_S at the first hit,
 * doubling with each hit that follows (a session that comes back and hits
 * the limit again), at most ENGINE_BGP_LIMIT_RETRY_MAX_S. A session
 * Established for ENGINE_BGP_LIMIT_FORGET_S starts again from the first. */
#define ENGINE_BGP_LIMIT_RETRY_S	20
#define ENGINE_BGP_LIMIT_RETRY_MAX_S	320
#define ENGINE_BGP_LIMIT_FORGET_S	120
unsigned engine_bgp_limit_retry_s(unsigned hits);

/* One tunnel's session under the prefix limit, as the engine follows it
 * from poll to poll (zeroed at first). */
#define ENGINE_BGP_ENABLE_SETTLE_MS	5000	/* after `enable`, BIRD's old "Down" is no new hit */
struct engine_bgp_limit {
	unsigned bl_hits;		/* consecutive hits */
	bool bl_held;			/* down for the limit, to be enabled at bl_enable_at_ms */
	uint64_t bl_enable_at_ms;	/* monotonic */
	uint64_t bl_enabled_ms;		/* when it was last enabled (0: never) */
	uint64_t bl_established_ms;	/* Established since (0: not) */
	char bl_last_error[BGP_ERROR_MAX];
};

/* One poll's view of the session s (BIRD's, at now_ms): the limit's state
 * moves on; *shown is s as _Bgp shows it (Cause prefix-limit and BIRD's
 * text kept from the hit until the session is Established again). true:
 * enable the session now (then engine_bgp_limit_enabled()). */
bool engine_bgp_limit_step(struct engine_bgp_limit *l, const struct bgp_session *s, uint64_t now_ms,
			   struct bgp_session *shown);
void engine_bgp_limit_enabled(struct engine_bgp_limit *l, uint64_t now_ms);

#endif
