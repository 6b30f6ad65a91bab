/*
 * engine_kroute — kernel routes into the TUN over rtnetlink, for the static
 * routes of VPN connections (until the VPC data plane takes the packets,
 * the host's stack does). Only the engine thread calls these.
 */
#ifndef VPCD_ENGINE_KROUTE_H
#define VPCD_ENGINE_KROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A NETLINK_ROUTE socket, or -1 (errno set). */
int engine_kroute_open(void);
void engine_kroute_close(int fd);

/* "addr/len dev ifindex proto static" in the main table. add never
 * replaces an existing route (EEXIST comes back); del removes only a
 * route through ifindex. 0, or -errno. */
int engine_kroute_change(int fd, bool add, unsigned ifindex, uint32_t addr, uint8_t prefix_len);

#endif
