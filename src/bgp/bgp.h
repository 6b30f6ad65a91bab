/*
 * bgp — vpcd's side of BGP for dynamic VPN connections (StaticRoutesOnly
 * false). BIRD 2 is the BGP speaker; this part is what vpcd knows about it:
 *
 *   - bgp_conf_write() turns a plain description of the dynamic connections
 *     (gateway and customer ASNs, each tunnel's inside /30, the VPC CIDR
 *     blocks to advertise) into the text of bird.conf, with AWS's session
 *     parameters: keepalive 10 s, hold time 30 s, at most 100 prefixes
 *     accepted (more shuts the session down), no graceful restart (a dead
 *     tunnel's routes go when its session goes, as on AWS), and prompt
 *     reconnection after an error with a bounded backoff;
 *   - bgp_parse_protocols() and bgp_parse_routes() read BIRD's answers to
 *     `show protocols all` and `show route all ...` (the control socket's
 *     coded replies, which is also what `birdc -v` prints) into session
 *     states and learned prefixes.
 *
 * Sans-I/O: no process, socket, file or clock here. Whoever runs BIRD
 * writes the text to a file, asks the socket and passes the replies in.
 * BIRD must run with TZ=UTC: the configuration asks for ISO times, which
 * BIRD prints in its local time, and the parser reads them as UTC.
 *
 * One BIRD serves every dynamic connection of a vpcd: one routing table and
 * one static protocol (the VPC CIDRs) per virtual private gateway, one BGP
 * protocol per tunnel in its gateway's table, so BIRD's best-path choice
 * (AS-path length, then MED, ...) decides between the tunnels of a gateway
 * as AWS does. Every inside address lives on one interface of BIRD's
 * namespace, so inside /30s must not overlap across all connections.
 */
#ifndef VPCD_BGP_H
#define VPCD_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* AWS's session parameters (its downloaded router configurations set them). */
#define BGP_KEEPALIVE_S		10
#define BGP_HOLD_S		30
/* Prefixes accepted per session; one more and BIRD shuts the session down
 * ("Route limit exceeded"), as AWS drops a session beyond 100. */
#define BGP_IMPORT_LIMIT	100
/* Reconnecting, as AWS's gateway does: promptly, not after BIRD's defaults
 * (error wait 60..300 s, connect retry 120 s), so a session is back within
 * seconds of its tunnel. After a session error (hold timer expired, wrong
 * ASN, ...) BIRD waits BGP_ERROR_WAIT_MIN_S, doubled for each further error
 * up to BGP_ERROR_WAIT_MAX_S while errors come less than
 * BGP_ERROR_FORGET_S apart (a flapping peer is not hammered), and neither
 * connects nor accepts meanwhile; then it connects after
 * BGP_CONNECT_DELAY_S and retries every BGP_CONNECT_RETRY_S (a SYN into a
 * dead tunnel), accepting the peer's connection all along. The prefix
 * limit's re-enable (engine_bird) has its own backoff. */
#define BGP_ERROR_WAIT_MIN_S	1
#define BGP_ERROR_WAIT_MAX_S	30
#define BGP_ERROR_FORGET_S	60
#define BGP_CONNECT_DELAY_S	1
#define BGP_CONNECT_RETRY_S	5

#define BGP_TUNNELS		2	/* per VPN connection */
#define BGP_ID_MAX		32	/* "vpn-0123456789abcdef0" and NUL */
#define BGP_NAME_MAX		64	/* BIRD symbol names (SYM_MAX_LEN) */
#define BGP_ERROR_MAX		128
#define BGP_INSIDE_LEN		30	/* every inside CIDR is a /30 */

/* An IPv4 prefix, host byte order, host bits zero. */
struct bgp_prefix {
	uint32_t bp_addr;
	uint8_t bp_len;
};

/* One dynamic VPN connection, as bgp_conf_write() needs it. Connections of
 * one gateway must agree on cd_vgw_asn and cd_export (they are the
 * gateway's). */
struct bgp_conn_desc {
	char cd_vpn_id[BGP_ID_MAX];	/* "vpn-..." ([a-z0-9-]) */
	char cd_vgw_id[BGP_ID_MAX];	/* "vgw-..." ([a-z0-9-]) */
	uint32_t cd_vgw_asn;		/* AmazonSideAsn: local AS */
	uint32_t cd_cgw_asn;		/* the customer gateway's BgpAsn: neighbor AS */
	/* Each tunnel's inside /30, network address (host order): the gateway
	 * is .1 (BIRD's local address), the customer .2 (the neighbor). */
	uint32_t cd_inside_net[BGP_TUNNELS];
	const struct bgp_prefix *cd_export;	/* the VPC's CIDR blocks; borrowed */
	size_t cd_nexport;
};

struct bgp_conf_desc {
	const struct bgp_conn_desc *bc_conns;	/* borrowed */
	size_t bc_nconns;
	/* BIRD's log file (absolute path), or NULL to log to stderr. */
	const char *bc_log_path;
};

/* Appends bird.conf for desc to out. 0, or -1 with a specific reason in err
 * (a bad id, ASN 0, equal ASNs, an inside CIDR that is not a /30 of
 * 169.254.0.0/16, inside CIDRs that overlap, connections of one gateway
 * that disagree, a bad export prefix) and out unchanged. No connection at
 * all is valid: BIRD then runs no protocol but keeps its socket. */
int bgp_conf_write(const struct bgp_conf_desc *desc, struct strbuf *out, char *err, size_t errlen);

/* The BIRD protocol name of a connection's tunnel (tunnel 0 or 1, named
 * "..._t1"/"..._t2" after AWS's tunnel numbers): "vpn_0123abcd_t1".
 * 0, or -1 when vpn_id is not a valid id or name too small. */
int bgp_protocol_name(const char *vpn_id, unsigned tunnel, char *name, size_t size);
/* The BIRD table of a VPN gateway ("vgw_0123abcd"): what
 * `show route all table T` names. 0, or -1 when vgw_id is not a valid id
 * or name too small. */
int bgp_table_name(const char *vgw_id, char *name, size_t size);
/* The reverse: 0 with vpn_id and *tunnel set, or -1 when name is not one
 * of bgp_protocol_name's (BIRD's own device protocol, a static one). */
int bgp_protocol_parse_name(const char *name, char vpn_id[BGP_ID_MAX], unsigned *tunnel);

/* BGP's finite state machine (RFC 4271 8.2.2), as BIRD names it, plus
 * BGP_FSM_DOWN: BIRD shows "Down" for a protocol that is shut down
 * (disabled, or the import limit hit), which never tries to connect. */
enum bgp_fsm_state {
	BGP_FSM_UNKNOWN,
	BGP_FSM_DOWN,
	BGP_FSM_IDLE,
	BGP_FSM_CONNECT,
	BGP_FSM_ACTIVE,
	BGP_FSM_OPENSENT,
	BGP_FSM_OPENCONFIRM,
	BGP_FSM_ESTABLISHED,
};
const char *bgp_fsm_state_name(enum bgp_fsm_state s);	/* "Established" */

/* Why a session is not up, classified from BIRD's "Last error". */
enum bgp_session_error {
	BGP_ERR_NONE,
	BGP_ERR_PREFIX_LIMIT,	/* "Route limit exceeded": more than 100 prefixes */
	BGP_ERR_BAD_PEER_AS,	/* the customer's OPEN named another ASN */
	BGP_ERR_HOLD_EXPIRED,	/* nothing heard for the hold time */
	BGP_ERR_OTHER,		/* another error, text in bs_last_error */
};

/* One BGP protocol of `show protocols all`. */
struct bgp_session {
	char bs_protocol[BGP_NAME_MAX];
	enum bgp_fsm_state bs_state;
	int64_t bs_since;		/* unix seconds of the last change (BIRD's "Since") */
	uint32_t bs_neighbor;		/* host order */
	uint32_t bs_neighbor_as;
	uint32_t bs_local_as;
	uint32_t bs_imported;		/* routes accepted from the neighbor */
	uint32_t bs_exported;		/* routes advertised to it */
	bool bs_limit_hit;		/* "Import limit: 100 [HIT]" */
	enum bgp_session_error bs_error;
	char bs_last_error[BGP_ERROR_MAX];	/* BIRD's text, "" when none */
};

/* Reads a reply to `show protocols all` (from the greeting's end to the
 * final "0000" line, both optional) into out[0..max), BGP protocols only,
 * in BIRD's order. 0 with *n set, or -1 with err: BIRD answered an error
 * (8xxx/9xxx, its text), more than max BGP protocols, or a line that is
 * not BIRD's coded format. */
int bgp_parse_protocols(const char *reply, size_t len, struct bgp_session *out, size_t max,
			size_t *n, char *err, size_t errlen);

/* One route learned through BGP, from `show route all ...`. */
struct bgp_route {
	struct bgp_prefix br_prefix;
	char br_protocol[BGP_NAME_MAX];	/* the session it came from */
	bool br_best;			/* BIRD's choice for the prefix ("*") */
	uint32_t br_next_hop;		/* host order (BGP.next_hop) */
	uint32_t br_as_path_len;	/* ASNs in BGP.as_path */
	bool br_has_med;
	uint32_t br_med;
	uint32_t br_local_pref;
};

/* Reads a reply to `show route all [table T | protocol P]` into
 * out[0..max): every route learned through BGP (the static VPC routes
 * and other non-BGP routes are skipped), alternatives for one prefix each
 * on their own. 0 with *n set, or -1 with err as bgp_parse_protocols. */
int bgp_parse_routes(const char *reply, size_t len, struct bgp_route *out, size_t max,
		     size_t *n, char *err, size_t errlen);

#endif
