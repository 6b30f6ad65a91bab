/*
 * bgp_tun — the BGP side of vpcd's VPN endpoint: a TUN device, BGP_TUN_NAME
 * ("bgp0"), inside BIRD's namespace (bgp_run.h), carrying 169.254.x.1/30 for
 * each tunnel of each dynamic VPN connection. BIRD's TCP sessions to the
 * customer's 169.254.x.2 leave through it; the endpoint holds its other end
 * and carries them through the tunnel whose inside /30 it is
 * (vpn_endpoint_set_bgp_tun).
 *
 *   bgp_tun_create()  the namespace ensured (bgp_run_netns_ensure), bgp0
 *                     made in it (IFF_TUN, no packet info, IPv6 off,
 *                     BGP_TUN_MTU, up): its fd.
 *   bgp_tun_addr()    add or delete one inside address on bgp0 (the kernel
 *                     adds the /30's route with it).
 *
 * Needs root (setns, devices, addresses): under privilege separation only
 * priv/'s helper calls these (PRIV_BGP_TUN, PRIV_BGP_ADDR), the main
 * process asks it. The calling thread enters the namespace for a moment
 * and always comes back (setns is per thread). Only addresses that
 * bgp_tun_addr_ok() accepts are ever put on the device.
 */
#ifndef VPCD_BGP_TUN_H
#define VPCD_BGP_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BGP_TUN_NAME	"bgp0"
/* Below every tunnel's inner MTU (1500-byte outer packets, ESP in UDP):
 * BIRD's segments are never fragmented on their way into a tunnel. */
#define BGP_TUN_MTU	1400
#define BGP_TUN_PREFIX	30

/* addr (host order) is the .1 of a /30 of 169.254.0.0/16: AWS's side of a
 * tunnel's inside CIDR, the only kind of address bgp0 carries. */
bool bgp_tun_addr_ok(uint32_t addr, unsigned prefix_len);

/* bgp0 in namespace netns (made when missing, lo up), O_NONBLOCK and
 * O_CLOEXEC: its fd, or -1 with the cause in err. A bgp0 that exists
 * already (another fd holds it) is refused (EBUSY). */
int bgp_tun_create(const char *netns, char *err, size_t errlen);

/* add: addr/30 on bgp0 in netns (present already: fine); !add: deleted
 * (absent: fine). 0, or -1 with the cause in err (a refused address, no
 * namespace, no bgp0, the kernel's answer). */
int bgp_tun_addr(const char *netns, bool add, uint32_t addr, char *err, size_t errlen);

#endif
