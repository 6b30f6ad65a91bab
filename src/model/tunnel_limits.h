/*
 * tunnel_limits — AWS Site-to-Site VPN's tunnel option limits and
 * defaults, written once. Every part that needs one of these numbers or
 * names reads it here: model/tunnel_options (validation, the API's
 * defaults), cgwconf (the configurations' defaults), vpn/ike (its default
 * tunnel config), vpn/endpoint (its spec check), engine/engine_vpn.
 *
 * Constants only: no function, no type, no include. That is why vpn/ and
 * cgwconf/ may include it although they do not link model/ (docs/design.md,
 * "The parts"), and why the web console gets them all as a JavaScript
 * module made from this file at build time (src/console/gen_tunnel_limits.py:
 * every TUNNEL_ define a number, a string or a list of them). Source: AWS's tunnel options (ModifyVpnTunnelOptions,
 * CreateVpnConnection's TunnelOptions); tests/model/test_tunnel_limits.c
 * checks that the API's Describe of a default connection, the cgwconf
 * defaults and the endpoint's defaults agree with these.
 */
#ifndef VPCD_MODEL_TUNNEL_LIMITS_H
#define VPCD_MODEL_TUNNEL_LIMITS_H

/* Lifetimes (seconds). Phase 2's must also be less than phase 1's. */
#define TUNNEL_PHASE1_LIFETIME_MIN	900
#define TUNNEL_PHASE1_LIFETIME_MAX	28800
#define TUNNEL_PHASE1_LIFETIME_DEFAULT	28800
#define TUNNEL_PHASE2_LIFETIME_MIN	900
#define TUNNEL_PHASE2_LIFETIME_MAX	3600
#define TUNNEL_PHASE2_LIFETIME_DEFAULT	3600

/* Rekey at lifetime - margin - up to fuzz % of the margin. The margin is
 * at most half of the phase 2 lifetime. */
#define TUNNEL_REKEY_MARGIN_MIN		60
#define TUNNEL_REKEY_MARGIN_DEFAULT	270
#define TUNNEL_REKEY_FUZZ_MAX		100	/* percent */
#define TUNNEL_REKEY_FUZZ_DEFAULT	100

/* Inbound anti-replay window (packets). */
#define TUNNEL_REPLAY_WINDOW_MIN	64
#define TUNNEL_REPLAY_WINDOW_MAX	2048
#define TUNNEL_REPLAY_WINDOW_DEFAULT	1024

/* Dead peer detection: the peer is dead DPD_TIMEOUT seconds after its
 * last sign of life; R-U-THERE goes out after DPD_DELAY seconds of
 * silence (AWS's side; not a tunnel option). */
#define TUNNEL_DPD_TIMEOUT_MIN		30
#define TUNNEL_DPD_TIMEOUT_MAX		86400	/* vpcd's own bound: a day */
#define TUNNEL_DPD_TIMEOUT_DEFAULT	30
#define TUNNEL_DPD_DELAY		10
/* DPDTimeoutAction's values as the API spells them, in
 * tunnel_options.h's enum order; the first is the default. */
#define TUNNEL_DPD_ACTION_NAMES		"clear", "none", "restart"

/* Pre-shared keys: 8-64 of [A-Za-z0-9._], not starting with '0'. */
#define TUNNEL_PSK_MIN			8
#define TUNNEL_PSK_MAX			64
#define TUNNEL_PSK_GENERATED		32

/* Inside CIDRs are /30s of 169.254.0.0/16; AWS keeps 169.254.0.0/30 ...
 * 169.254.5.0/30 and 169.254.169.252/30 (host byte order). */
#define TUNNEL_INSIDE_PREFIX		30
#define TUNNEL_INSIDE_NET		0xa9fe0000u	/* 169.254.0.0 */
#define TUNNEL_INSIDE_NET_PREFIX	16
#define TUNNEL_INSIDE_RESERVED \
	0xa9fe0000u, 0xa9fe0100u, 0xa9fe0200u, 0xa9fe0300u, 0xa9fe0400u, 0xa9fe0500u, \
	0xa9fea9fcu

/* The TCP MSS the customer gateway configurations set, and the endpoint
 * clamps to (AWS's current configurations: 1379). */
#define TUNNEL_TCP_MSS_DEFAULT		1379

/* Algorithm names as the API spells them, in AWS's "lowest first" order
 * (bit i of a tunnel_options set is name i). The default is all of them. */
#define TUNNEL_ALGS_PER_KIND		4
#define TUNNEL_ENCRYPTION_NAMES		"AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16"
#define TUNNEL_INTEGRITY_NAMES		"SHA1", "SHA2-256", "SHA2-384", "SHA2-512"

/* DH groups, ascending: phase 2 allows all of them, phase 1 all but
 * TUNNEL_DH_PHASE2_ONLY. The default is every allowed group. */
#define TUNNEL_DH_GROUPS		2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24
#define TUNNEL_DH_PHASE2_ONLY		5

#endif
