/*
 * engine_uplink — the internet gateways' port on a host interface
 * (vpcd --uplink IFNAME).
 *
 * Each internet gateway attached to a VPC gets its own raw AF_PACKET
 * socket on IFNAME (every socket sees every frame; each keeps its VPC's).
 * On that socket the gateway
 *   - answers ARP requests for the public addresses it serves, with
 *     IFNAME's MAC (proxy ARP): an ENI's public address (MapPublicIpOnLaunch,
 *     AssociatePublicIpAddress, an Elastic IP) whose subnet's route table
 *     routes 0.0.0.0/0 to this gateway; none other;
 *   - hands the IPv4 packets sent to those addresses to the router (the
 *     router's 1:1 NAT makes them the private address's);
 *   - sends what the router gives it (source: a public address) to the
 *     MAC its destination was last seen at (learned from ARP and from the
 *     packets received), else asks by ARP for it (on-link, or the
 *     --uplink's gateway when one is given) and drops that packet.
 * IFNAME should carry none of the public addresses, and vpcd's host should
 * not forward between IFNAME and its other interfaces for them.
 *
 * Threads: engine_uplink_fill and engine_uplink_applied on the engine
 * thread (around net_router_apply); the port ops on the router's thread.
 */
#ifndef VPCD_ENGINE_UPLINK_H
#define VPCD_ENGINE_UPLINK_H

#include <stdint.h>

#include "engine/engine_net.h"

/* vpcd --uplink IFNAME[,via=ADDR]: remembered for engine_dataplane_new
 * (call before engine_new). NULL or "" : no uplink. Returns -1 when the
 * value does not parse. */
int engine_uplink_configure(const char *spec);
const char *engine_uplink_configured(void);

struct engine_uplink;

/* Opens nothing yet: checks that IFNAME exists and reads its MAC. NULL
 * (logged) when it cannot. */
struct engine_uplink *engine_uplink_new(const char *spec);
/* Gives each attached igw of the plan its port (opening a socket for a
 * gateway seen the first time) and sets the public addresses each serves. */
void engine_uplink_fill(struct engine_uplink *u, struct engine_net_plan *p);
/* After net_router_apply succeeded: closes the sockets of gateways the plan
 * no longer had. */
void engine_uplink_applied(struct engine_uplink *u);
/* After net_router_stop. */
void engine_uplink_free(struct engine_uplink *u);

/* The privileged step, also for priv/'s helper: a raw AF_PACKET socket
 * (PACKET_VNET_HDR, not seeing its own frames) bound to ifname; -1 logged. */
int engine_uplink_socket(const char *ifname);

#endif
