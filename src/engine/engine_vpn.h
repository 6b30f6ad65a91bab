/*
 * engine_vpn — the pure half of the VPN engine: a vpn-connection doc (the
 * layout at the top of api/vpn.c) into the two vpn_tunnel_specs that run
 * it, and a tunnel status into the doc's VgwTelemetry. No I/O, no threads,
 * no logging of the doc (it holds the pre-shared keys); unit-tested in
 * tests/engine/.
 */
#ifndef VPCD_ENGINE_VPN_H
#define VPCD_ENGINE_VPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/doc.h"
#include "vpn/endpoint/endpoint.h"

#define ENGINE_VPN_TUNNELS	2
#define ENGINE_VPN_ID_MAX	48
#define ENGINE_DPD_DELAY_S	TUNNEL_DPD_DELAY	/* R-U-THERE after this much silence */
#define ENGINE_STATUS_UP	"IPSEC IS UP"
#define ENGINE_STATUS_DOWN	"IPSEC IS DOWN"	/* DOWN without a known cause */
#define ENGINE_VPN_ERROR_MAX	112	/* why a tunnel cannot run, with its NUL */
#define ENGINE_VPN_MESSAGE_MAX	192	/* a StatusMessage, with its NUL */

/* What one live VPN connection asks for. */
struct engine_vpn_plan {
	char vp_id[ENGINE_VPN_ID_MAX];
	int64_t vp_version;			/* _ConfigVersion */
	struct vpn_tunnel_spec vp_tunnel[ENGINE_VPN_TUNNELS];	/* PSKs: wipe */
	/* Per tunnel: why it cannot run ("" when it can); its spec is then
	 * not to be used. */
	char vp_error[ENGINE_VPN_TUNNELS][ENGINE_VPN_ERROR_MAX];
	/* Customer-side prefixes (the static routes that are "available"),
	 * also copied into each spec's routes (at most VPN_MAX_ROUTES). */
	struct vpn_cidr vp_routes[VPN_MAX_ROUTES];
	size_t vp_nroutes;
	size_t vp_routes_dropped;		/* beyond VPN_MAX_ROUTES */
	/* (Every DH group the options allow fits a list: engine_vpn.c's
	 * static assertion on IKE_MAX_ALGS; nothing is left out there.) */
};

/* The connection is "deleted" (or not a connection at all). */
bool engine_vpn_is_deleted(const struct doc *vpn);

/* Fills plan from a live connection doc. 0, or -1 with why (a malformed
 * doc: no id, no peer address, not two tunnels). A tunnel that cannot run
 * (IKEv2 only, no usable algorithm, bad option) is not an error of the
 * connection: plan->vp_error[i] says why. */
int engine_vpn_plan(const struct doc *vpn, struct engine_vpn_plan *plan, char *why, size_t why_len);
void engine_vpn_plan_wipe(struct engine_vpn_plan *plan);

/* The key by which the VPC router names a connection to the VPN endpoint
 * (net_vgw_route.conn_key, vpn_tunnel_spec.conn_key): FNV-1a 64 of the
 * id, never 0. Both halves compute it from the id, so neither needs the
 * other's state. */
uint64_t engine_vpn_conn_key(const char *vpn_id);

/* Tunnel ids: "<vpn-id>#<n>", n = index + 1. */
void engine_vpn_tunnel_id(const char *vpn_id, int index, char out[VPN_TUNNEL_ID_MAX]);
bool engine_vpn_tunnel_id_parse(const char *tunnel_id, char vpn_id[ENGINE_VPN_ID_MAX], int *index);

/* Writes one tunnel's IPsec status into VgwTelemetry[index] of vpn (a doc
 * the caller owns, e.g. a doc_clone of the cached one): Status,
 * StatusMessage, AcceptedRouteCount, and LastStatusChange (since_unix) when
 * Status changes. routes_only: keep the status, recompute
 * AcceptedRouteCount (after the static routes changed). true when the doc
 * changed.
 *
 * A static connection shows IPsec's status: UP "IPSEC IS UP" with its
 * available static routes counted, or DOWN with the cause. A dynamic one
 * (engine_vpn_is_dynamic) keeps IPsec's status in the entry's own keys
 * (ENGINE_TEL_IPSEC "UP"|"DOWN", ENGINE_TEL_IPSEC_MESSAGE the cause: '_'
 * keys, never on the wire) and shows IPsec and the tunnel's BGP session
 * (ENGINE_VPN_BGP_KEY) together, as AWS does:
 *   - IPsec up, session Established: UP, "N BGP ROUTES", AcceptedRouteCount
 *     N (the prefixes received);
 *   - IPsec up, session not Established: DOWN, "IPSEC IS UP", or the cause
 *     when BGP gives one: "BGP cannot run: <_Bgp.Error>", "BGP session
 *     dropped: more than 100 prefixes received", "BGP session refused: the
 *     customer gateway's ASN is not N: <BIRD's words>", "BGP session
 *     dropped: hold timer expired (no keepalive for 30 s)", "BGP session
 *     down: <BIRD's last error>"; 0 routes;
 *   - IPsec down: DOWN with IPsec's cause, 0 routes.
 * A dynamic tunnel's LastStatusChange also moves when IPsec comes up or
 * goes down while the tunnel stays DOWN (AWS stamps IKE, IPsec and BGP
 * changes alike). */
bool engine_vpn_telemetry_apply(struct doc *vpn, int index, bool up, const char *cause,
				int64_t since_unix, bool routes_only);

/* At start: each tunnel of vpn the store says is UP (or, dynamic, whose
 * IPsec is UP) becomes DOWN ENGINE_STATUS_DOWN as of now_unix. That UP is
 * an earlier vpcd's (it sent every peer a Delete when it stopped, or it
 * died); this one has no IKE SA yet, and the UP must not be served while
 * the endpoint is still adding the tunnels (its own DOWN "waiting for the
 * peer" or "connecting", then UP, follow as events). A tunnel already
 * DOWN keeps its message and LastStatusChange; a deleted connection keeps
 * its telemetry. true when the doc changed. */
bool engine_vpn_telemetry_restart(struct doc *vpn, int64_t now_unix);

/* At start: vpn's _TunnelDetail (ENGINE_VPN_DETAIL_KEY) is an earlier
 * vpcd's SAs, SPIs and counters; this one has none yet, and its own
 * detail comes with the endpoint's first status (within
 * ENGINE_VPN_DETAIL_PERIOD_S): removed, so that no Describe serves the
 * earlier process's SAs meanwhile. true when the doc changed. */
bool engine_vpn_detail_restart(struct doc *vpn);

/* A dynamic connection: Options.StaticRoutesOnly false (or absent, as
 * CreateVpnConnection defaults it). */
bool engine_vpn_is_dynamic(const struct doc *vpn);

/* ---- _Bgp: a dynamic connection's BGP, as the engine reads it from BIRD ----
 *
 * The layout is at the top of api/vpn.c (per tunnel index: State, Since,
 * LocalAsn, NeighborAsn, Received, Advertised, LastError, Cause; the
 * learned Routes; Error when BGP cannot run at all). state/propagation.c
 * propagates its Routes; VpcdDescribeTunnelDetails serves it to vpcctl.
 *
 * engine_vpn_bgp_apply: bgp (a doc of that layout; NULL removes it) into
 * vpn's ENGINE_VPN_BGP_KEY (a copy), and both tunnels' VgwTelemetry
 * re-derived from it as engine_vpn_telemetry_apply says; a Status that
 * changes because of the session takes the session's Since (else now_unix)
 * as LastStatusChange. true when the doc changed (then state_put it). Call it
 * on the API thread with a doc_clone of the cached connection whenever the
 * engine's picture of the connection's BGP changes. */
#define ENGINE_VPN_BGP_KEY		"_Bgp"
#define ENGINE_TEL_IPSEC		"_Ipsec"
#define ENGINE_TEL_IPSEC_MESSAGE	"_IpsecMessage"
bool engine_vpn_bgp_apply(struct doc *vpn, const struct doc *bgp, int64_t now_unix);

/* ---- _TunnelDetail: what `vpcctl vpn status` prints beyond VgwTelemetry ----
 *
 * EC2 has no action for `show crypto isakmp sa` / `show crypto ipsec sa`,
 * so the engine keeps that picture in the connection's doc under
 * ENGINE_VPN_DETAIL_KEY (a '_' key: stored, never on the EC2 wire), and
 * vpcctl reads it from the store (--data-dir, read-only). Layout:
 *
 *   { "UpdatedAt": unix s,
 *     "Tunnels": [ per tunnel index, { "Running": false } when vpcd does
 *       not run it (VgwTelemetry says why), else
 *       { "Running": true, "OutsideIpAddress", "PeerIpAddress",
 *         "PeerPort" (0: unknown), "Status" UP|DOWN, "StatusMessage",
 *         "Isakmp": { "State" (QM_IDLE, MM_NO_STATE, ..., NONE), and unless
 *           NONE: "ConnId", "Role" initiator|responder, "CookieI",
 *           "CookieR" (hex), "LocalAddress", "PeerAddress" ("ip:port"),
 *           "NatLocal", "NatPeer", "PeerDpd", "Encryption", "Hash", "Auth",
 *           "DhGroup", "LifetimeSeconds", "QuickModesInFlight", "IsakmpSas";
 *           QM_IDLE also "EstablishedAt", "ExpiresAt", "ReauthAt" (unix s) },
 *         "Ike": { "PacketsIn", "PacketsOut", "Retransmits", "DpdSent",
 *           "DpdAnswered", "DpdTimeouts", "AuthFailures",
 *           "ProposalMismatches", "Phase1Established", "Phase2Established" },
 *         "IpsecSas": [ newest first, { "SpiIn", "SpiOut" ("0x%08X"),
 *           "Transform" ("esp-aes esp-sha-hmac"), "LocalSelector",
 *           "RemoteSelector", "UdpEncap", "EncapPort", "Lingering",
 *           "ReplayWindow", "PacketsIn", "BytesIn", "PacketsOut", "BytesOut",
 *           "SeqIn", "SeqOut", "DropsIn"/"DropsOut" {cause: n, non-zero only},
 *           "InstalledAt", "RekeyAt", "ExpiresAt" (unix s) } ],
 *         "Drops": { cause: n, the tunnel's own, non-zero only } } ] }
 *
 * Times are absolute so that a reader computes the remaining lifetimes at
 * its own "now". The engine writes it (through the API thread, like the
 * telemetry) at every UP/DOWN change and otherwise at most every
 * ENGINE_VPN_DETAIL_PERIOD_S, only when something but the times changed
 * (with_times false gives that comparison doc); removes it when it stops
 * running the connection. */
#define ENGINE_VPN_DETAIL_KEY		"_TunnelDetail"
#define ENGINE_VPN_DETAIL_PERIOD_S	5

/* st[i]: tunnel i's status, NULL when vpcd does not run it. A new doc. */
struct doc *engine_vpn_detail(const struct vpn_tunnel_status *const st[ENGINE_VPN_TUNNELS],
			      int64_t now_unix, bool with_times);

/* The members of a connection doc that the engine reads (a new doc): no
 * CustomerGatewayConfiguration, telemetry or tags. Its pre-shared keys
 * stay secret strings (doc.h): doc_free() wipes them. */
struct doc *engine_vpn_trim(const struct doc *vpn);

#endif
