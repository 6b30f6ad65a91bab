/*
 * engine_bgp — the pure half of running BGP for dynamic VPN connections: a
 * vpn-connection doc (the layout at the top of api/vpn.c) into the
 * description bgp_conf_write() turns into BIRD's configuration (bgp/bgp.h).
 * No I/O, no threads; unit-tested in tests/engine/test_engine_bgp.c.
 *
 * The VPC's CIDR blocks (what the gateway advertises) are not in the
 * connection's doc: the caller adds them (cd_export), from the VPC the
 * connection's gateway is attached to.
 */
#ifndef VPCD_ENGINE_BGP_H
#define VPCD_ENGINE_BGP_H

#include <stddef.h>

#include "base/doc.h"
#include "bgp/bgp.h"

/* 1: the connection is dynamic (Options.StaticRoutesOnly false) and out
 * describes it (cd_export NULL, cd_nexport 0); 0: it is static, BGP has
 * nothing to do with it; -1: dynamic, but BGP cannot run for it, why says
 * so (no customer gateway ASN, no gateway ASN, a tunnel without an inside
 * /30 of 169.254.0.0/16): for the tunnels' StatusMessage. */
int engine_bgp_conn_desc(const struct doc *vpn, struct bgp_conn_desc *out, char *why, size_t why_len);

#endif
