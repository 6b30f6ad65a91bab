/*
 * engine_uplink.c — the internet gateways' port on a host interface
 * (engine_uplink.h): one raw AF_PACKET socket per attached igw, proxy ARP
 * for the public addresses it serves, a small neighbour table per socket.
 *
 * Offloads: the socket has PACKET_VNET_HDR, so each frame comes with a
 * virtio_net_hdr. What the kernel hands over unfinished (a local sender
 * over a veth: a partial checksum, a GSO TCP frame of up to 64 KB; GRO on a
 * real NIC: one large frame) is finished by the router's own code
 * (net_offload_finish, net.h: the partial checksum completed, the GSO
 * frame cut into gso_size segments with their own IPv4 and TCP
 * checksums), as the router takes plain packets of one MTU. Frames sent
 * carry a header of zeros (complete, no GSO).
 */
#include "engine/engine_uplink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "base/be.h"
#include "priv/priv.h"

#define UL_LOG "uplink"
#define UL_NEIGH 256			/* direct-mapped neighbour table, per gateway */
#define UL_RX_BUDGET 4			/* frames read per packet handed on, at most */
#define ETH_HDR 14
#define ARP_LEN 28
#define ETHT_IP 0x0800
#define ETHT_ARP 0x0806
#define UL_VNET sizeof(struct virtio_net_hdr)
#define UL_GSO_MAX (ETH_HDR + 65535)	/* one GSO frame */
#define UL_SEGS_MAX 48			/* slots kept free before reading a frame */

_Static_assert(UL_VNET == NET_VNET_HDR_LEN, "PACKET_VNET_HDR's header is net_offload_finish's");

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct ul_neigh {
	uint32_t n_ip;			/* 0: empty */
	uint8_t n_mac[6];
};

struct ul_gw {
	struct engine_uplink *g_u;
	char g_id[NET_ID_MAX];
	int g_fd;
	bool g_keep;			/* scratch: named by the plan being filled */
	pthread_mutex_t g_mu;		/* g_pubs: engine thread writes, router thread reads */
	uint32_t *g_pubs;
	size_t g_npubs, g_cappubs;
	struct ul_neigh g_neigh[UL_NEIGH];	/* router thread only */
	uint8_t g_frame[UL_VNET + UL_GSO_MAX];	/* router thread only */
};

struct engine_uplink {
	char u_ifname[IF_NAMESIZE];
	unsigned u_ifindex;
	uint8_t u_mac[6];
	uint32_t u_via;			/* 0: destinations are on-link */
	struct ul_gw **u_gws;
	size_t u_ngws, u_capgws;
};

static char g_spec[IF_NAMESIZE + 32];

static int parse_spec(const char *spec, char *ifname, uint32_t *via)
{
	*via = 0;
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	if (n == 0 || n >= IF_NAMESIZE)
		return -1;
	memcpy(ifname, spec, n);
	ifname[n] = '\0';
	if (comma && (strncmp(comma + 1, "via=", 4) != 0 || !ip4_parse(comma + 5, via) || *via == 0))
		return -1;
	return 0;
}

int engine_uplink_configure(const char *spec)
{
	char ifname[IF_NAMESIZE];
	uint32_t via;
	if (!spec || !spec[0]) {
		g_spec[0] = '\0';
		return 0;
	}
	if (strlen(spec) >= sizeof(g_spec) || parse_spec(spec, ifname, &via) < 0)
		return -1;
	snprintf(g_spec, sizeof(g_spec), "%s", spec);
	return 0;
}

const char *engine_uplink_configured(void)
{
	return g_spec[0] ? g_spec : NULL;
}

struct engine_uplink *engine_uplink_new(const char *spec)
{
	struct engine_uplink *u = calloc(1, sizeof(*u));
	if (!u)
		abort();
	if (parse_spec(spec, u->u_ifname, &u->u_via) < 0) {
		log_error(UL_LOG, "--uplink %s: expected IFNAME or IFNAME,via=ADDR", spec);
		free(u);
		return NULL;
	}
	u->u_ifindex = if_nametoindex(u->u_ifname);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", u->u_ifname);
	if (u->u_ifindex == 0 || s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0 ||
	    ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */) {
		log_error(UL_LOG, "--uplink %s: not an Ethernet interface here (%s); public addresses are "
			  "not reachable", u->u_ifname, strerror(errno));
		if (s >= 0)
			close(s);
		free(u);
		return NULL;
	}
	close(s);
	memcpy(u->u_mac, ifr.ifr_hwaddr.sa_data, 6);
	log_info(UL_LOG, "internet gateways on %s (%02x:%02x:%02x:%02x:%02x:%02x)%s", u->u_ifname, u->u_mac[0],
		 u->u_mac[1], u->u_mac[2], u->u_mac[3], u->u_mac[4], u->u_mac[5], u->u_via ? ", via a gateway" : "");
	return u;
}

/* --- the port (router thread) --------------------------------------------- */

/* One frame out, after a virtio_net_hdr of zeros (complete, no GSO). */
static bool ul_send(const struct ul_gw *g, const void *frame, size_t len)
{
	struct virtio_net_hdr vh;
	memset(&vh, 0, sizeof(vh));
	struct iovec iov[2] = { { &vh, sizeof(vh) }, { (void *)frame, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	return sendmsg(g->g_fd, &msg, MSG_DONTWAIT) == (ssize_t)(sizeof(vh) + len);
}

static unsigned neigh_slot(uint32_t ip) { return (ip * 2654435761u) >> 24; }

static void neigh_learn(struct ul_gw *g, uint32_t ip, const uint8_t *mac)
{
	if (ip == 0 || (mac[0] & 1))
		return;
	struct ul_neigh *n = &g->g_neigh[neigh_slot(ip) % UL_NEIGH];
	n->n_ip = ip;
	memcpy(n->n_mac, mac, 6);
}

static const uint8_t *neigh_find(const struct ul_gw *g, uint32_t ip)
{
	const struct ul_neigh *n = &g->g_neigh[neigh_slot(ip) % UL_NEIGH];
	return n->n_ip == ip ? n->n_mac : NULL;
}

static bool serves(const struct ul_gw *g, uint32_t ip)
{
	for (size_t i = 0; i < g->g_npubs; i++)
		if (g->g_pubs[i] == ip)
			return true;
	return false;
}

/* An ARP frame into f (60 bytes, padded): op 1 request, 2 reply. */
static size_t arp_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *sha, uint32_t spa, uint16_t op,
			const uint8_t *tha, uint32_t tpa)
{
	memset(f, 0, 60);
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, sha, 6);
	wr16(f + 12, ETHT_ARP);
	uint8_t *a = f + ETH_HDR;
	wr16(a, 1);
	wr16(a + 2, ETHT_IP);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, sha, 6);
	wr32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	wr32(a + 24, tpa);
	return 60;
}

static void on_arp(struct ul_gw *g, const uint8_t *f, size_t len)
{
	if (len < ETH_HDR + ARP_LEN)
		return;
	const uint8_t *a = f + ETH_HDR;
	if (a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0 || a[4] != 6 || a[5] != 4)
		return;
	unsigned op = (unsigned)a[6] << 8 | a[7];
	uint32_t spa = rd32(a + 14), tpa = rd32(a + 24);
	if (!serves(g, tpa))
		return;
	neigh_learn(g, spa, a + 8);
	if (op != 1 || spa == tpa)
		return;
	uint8_t out[60];
	size_t n = arp_frame(out, a + 8, g->g_u->u_mac, tpa, 2, a + 8, spa);
	(void)ul_send(g, out, n);
}

static unsigned ul_rx(void *arg, uint8_t *const *bufs, uint32_t *lens, unsigned max)
{
	struct ul_gw *g = arg;
	unsigned n = 0;
	pthread_mutex_lock(&g->g_mu);
	for (unsigned reads = 0; n < max && reads < max * UL_RX_BUDGET; reads++) {
		if (n > 0 && max - n < UL_SEGS_MAX)
			break;	/* room for the segments of one GSO frame */
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(g->g_fd, g->g_frame, sizeof(g->g_frame), MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);
		if (r < 0)
			break;
		if ((size_t)r > sizeof(g->g_frame) || r < (ssize_t)(UL_VNET + ETH_HDR) ||
		    from.sll_pkttype == PACKET_OUTGOING)
			continue;
		uint8_t *f = g->g_frame + UL_VNET;	/* after the virtio_net_hdr */
		r -= (ssize_t)UL_VNET;
		unsigned type = (unsigned)f[12] << 8 | f[13];
		if (type == ETHT_ARP) {
			on_arp(g, f, (size_t)r);
			continue;
		}
		if (type != ETHT_IP || (size_t)r < ETH_HDR + 20 || (f[ETH_HDR] >> 4) != 4)
			continue;
		const uint8_t *ip = f + ETH_HDR;
		if (!serves(g, rd32(ip + 16)))
			continue;
		/* finished (checksum, segments) into bufs[n..), or dropped */
		unsigned got = net_offload_finish(f, (uint32_t)r, ETH_HDR, g->g_frame, bufs + n, lens + n, max - n);
		if (got == 0)
			continue;
		neigh_learn(g, rd32(ip + 12), f + 6);
		n += got;
	}
	pthread_mutex_unlock(&g->g_mu);
	return n;
}

static unsigned ul_tx(void *arg, uint8_t *const *pkts, const uint32_t *lens, unsigned n)
{
	struct ul_gw *g = arg;
	struct engine_uplink *u = g->g_u;
	unsigned sent = 0;
	for (unsigned i = 0; i < n; i++) {
		if (lens[i] < 20 || lens[i] > NET_PKT_MAX)
			continue;
		uint32_t src = rd32(pkts[i] + 12), dst = rd32(pkts[i] + 16);
		uint32_t hop = u->u_via ? u->u_via : dst;
		const uint8_t *mac = neigh_find(g, hop);
		if (!mac) {
			static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6] = { 0 };
			uint8_t req[60];
			size_t rn = arp_frame(req, bcast, u->u_mac, src, 1, zero, hop);
			(void)ul_send(g, req, rn);
			continue;	/* this one is lost; the next finds the answer */
		}
		uint8_t *f = g->g_frame;
		memcpy(f, mac, 6);
		memcpy(f + 6, u->u_mac, 6);
		wr16(f + 12, ETHT_IP);
		memcpy(f + ETH_HDR, pkts[i], lens[i]);
		if (ul_send(g, f, ETH_HDR + lens[i]))
			sent++;
	}
	return sent;
}

static const struct net_port_ops ul_ops = { ul_tx, ul_rx };

/* --- the engine thread ------------------------------------------------------ */

int engine_uplink_socket(const char *ifname)
{
	if (priv_remote())
		return priv_uplink_socket(ifname);
	unsigned ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		log_error(UL_LOG, "no port on %s: %s", ifname, strerror(errno));
		return -1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		log_error(UL_LOG, "no port on %s: socket: %s", ifname, strerror(errno));
		return -1;
	}
	int one = 1;
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
		log_error(UL_LOG, "no port on %s: PACKET_VNET_HDR: %s", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_error(UL_LOG, "no port on %s: bind: %s", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static struct ul_gw *gw_open(struct engine_uplink *u, const char *id)
{
	int fd = engine_uplink_socket(u->u_ifname);
	if (fd < 0) {
		log_error(UL_LOG, "%s: no port on %s", id, u->u_ifname);
		return NULL;
	}
	struct ul_gw *g = calloc(1, sizeof(*g));
	if (!g)
		abort();
	g->g_u = u;
	snprintf(g->g_id, sizeof(g->g_id), "%s", id);
	g->g_fd = fd;
	pthread_mutex_init(&g->g_mu, NULL);
	if (u->u_ngws == u->u_capgws) {
		u->u_capgws = u->u_capgws ? u->u_capgws * 2 : 4;
		u->u_gws = realloc(u->u_gws, u->u_capgws * sizeof(*u->u_gws));
		if (!u->u_gws)
			abort();
	}
	u->u_gws[u->u_ngws++] = g;
	log_info(UL_LOG, "%s: port on %s", id, u->u_ifname);
	return g;
}

static void gw_close(struct ul_gw *g)
{
	close(g->g_fd);
	pthread_mutex_destroy(&g->g_mu);
	free(g->g_pubs);
	free(g);
}

static const struct net_subnet_config *plan_subnet(const struct engine_net_plan *p, const char *id)
{
	for (size_t i = 0; i < p->np_cfg.n_subnets; i++)
		if (strcmp(p->np_subnets[i].id, id) == 0)
			return &p->np_subnets[i];
	return NULL;
}

/* The subnet's table routes 0.0.0.0/0 to igw gw_id. */
static bool default_to(const struct engine_net_plan *p, const struct net_subnet_config *s, const char *gw_id)
{
	for (size_t i = 0; i < p->np_cfg.n_route_tables; i++) {
		const struct net_route_table_config *t = &p->np_tables[i];
		if (strcmp(t->id, s->route_table_id) != 0)
			continue;
		for (size_t k = 0; k < t->n_routes; k++)
			if (t->routes[k].dest.c_len == 0 && t->routes[k].target == NET_TARGET_IGW &&
			    strcmp(t->routes[k].target_id, gw_id) == 0)
				return true;
	}
	return false;
}

void engine_uplink_fill(struct engine_uplink *u, struct engine_net_plan *p)
{
	for (size_t i = 0; i < u->u_ngws; i++)
		u->u_gws[i]->g_keep = false;
	for (size_t i = 0; i < p->np_cfg.n_gateways; i++) {
		struct net_gateway_config *gc = &p->np_gateways[i];
		if (gc->kind != NET_GW_IGW || !gc->vpc_id[0])
			continue;
		struct ul_gw *g = NULL;
		for (size_t k = 0; k < u->u_ngws && !g; k++)
			if (strcmp(u->u_gws[k]->g_id, gc->id) == 0)
				g = u->u_gws[k];
		if (!g && !(g = gw_open(u, gc->id)))
			continue;
		g->g_keep = true;
		gc->ops = &ul_ops;
		gc->arg = g;
		gc->fd = g->g_fd;
		/* the public addresses it serves */
		size_t n = 0;
		for (size_t e = 0; e < p->np_cfg.n_enis; e++) {
			const struct net_eni_config *eni = &p->np_enis[e];
			const struct net_subnet_config *s = eni->public_ip ? plan_subnet(p, eni->subnet_id) : NULL;
			if (s && strcmp(s->vpc_id, gc->vpc_id) == 0 && default_to(p, s, gc->id))
				n++;
		}
		pthread_mutex_lock(&g->g_mu);
		if (n > g->g_cappubs) {
			g->g_cappubs = n;
			g->g_pubs = realloc(g->g_pubs, n * sizeof(*g->g_pubs));
			if (!g->g_pubs)
				abort();
		}
		g->g_npubs = 0;
		for (size_t e = 0; e < p->np_cfg.n_enis; e++) {
			const struct net_eni_config *eni = &p->np_enis[e];
			const struct net_subnet_config *s = eni->public_ip ? plan_subnet(p, eni->subnet_id) : NULL;
			if (s && strcmp(s->vpc_id, gc->vpc_id) == 0 && default_to(p, s, gc->id))
				g->g_pubs[g->g_npubs++] = eni->public_ip;
		}
		pthread_mutex_unlock(&g->g_mu);
		log_debug(UL_LOG, "%s: %zu public address(es) on %s", g->g_id, n, u->u_ifname);
	}
}

void engine_uplink_applied(struct engine_uplink *u)
{
	size_t k = 0;
	for (size_t i = 0; i < u->u_ngws; i++) {
		if (u->u_gws[i]->g_keep) {
			u->u_gws[k++] = u->u_gws[i];
		} else {
			log_info(UL_LOG, "%s: port on %s closed", u->u_gws[i]->g_id, u->u_ifname);
			gw_close(u->u_gws[i]);
		}
	}
	u->u_ngws = k;
}

void engine_uplink_free(struct engine_uplink *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->u_ngws; i++)
		gw_close(u->u_gws[i]);
	free(u->u_gws);
	free(u);
}
