/*
 * ep_socket.c — the endpoint's file descriptors: the TUN device (plaintext
 * side) and, per outside address, UDP 500 (IKE), UDP 4500 (NAT-T: IKE
 * behind the non-ESP marker, ESP, keepalives) and a raw IPPROTO_ESP socket.
 *
 * Control plane only. Never touches packets; never configures addresses
 * or routes on the TUN (the caller does), only its MTU and UP flag.
 * vpn_tun_create and vpn_outside_sockets are the privileged part: in a
 * privilege-separated vpcd (priv.h) the helper runs them and hands the
 * descriptors over.
 */
#include "vpn/endpoint/ep_internal.h"

#include "base/base.h"
#include "priv/priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int tun_create(char name[16], uint32_t mtu, bool offload);

int ep_tun_open(struct vpn_endpoint *ep)
{
	if (ep->cfg.use_plain_fd) {
		/* every given fd is ep->tun_fds[] from here on: closed once */
		ep->tun_fds[0] = ep->tun_fd = ep->cfg.plain_fd;
		for (size_t k = 0; k < ep->cfg.n_more_plain_fds; k++)
			ep->tun_fds[k + 1] = ep->cfg.more_plain_fds[k];
		ep->n_ports = 1 + (unsigned)ep->cfg.n_more_plain_fds;
		ep->cfg.use_plain_fd = false;
		ep->cfg.n_more_plain_fds = 0;
		for (unsigned k = 0; k < ep->n_ports; k++) {
			int fl = fcntl(ep->tun_fds[k], F_GETFL);
			if (fl < 0 || fcntl(ep->tun_fds[k], F_SETFL, fl | O_NONBLOCK) < 0) {
				log_error(EP_LOG, "plaintext fd %u: %s", k, strerror(errno));
				return -1;
			}
		}
		log_info(EP_LOG, "plaintext side: the given fd%s (%s, %u)", ep->n_ports > 1 ? "s" : "",
			 ep->cfg.tun_name, ep->n_ports);
		return 0;
	}
	int fd = -1;
	if (ep->cfg.tun_offload) {
		/* vpcd as root: its helper opens it (priv_tun_open), the same way */
		ep->tun_frame = malloc(EP_TUN_FRAME_MAX);
		ep->tun_train = malloc(EP_TUN_FRAME_MAX);
		if (ep->tun_frame && ep->tun_train)
			fd = vpn_tun_create(ep->cfg.tun_name, ep->cfg.tun_mtu, true);
		ep->tun_vnet = fd >= 0;
		if (fd < 0) {
			free(ep->tun_frame);
			free(ep->tun_train);
			ep->tun_frame = ep->tun_train = NULL;
			log_info(EP_LOG, "TUN %s: no offloads (%s): a plain TUN, one packet per read and write",
				 ep->cfg.tun_name, strerror(errno));
		}
	}
	if (fd < 0)
		fd = vpn_tun_create(ep->cfg.tun_name, ep->cfg.tun_mtu, false);
	if (fd < 0)
		return -1;
	ep->tun_fds[0] = ep->tun_fd = fd;
	ep->n_ports = 1;
	log_info(EP_LOG, "TUN %s ready (MTU %u%s)", ep->cfg.tun_name, ep->cfg.tun_mtu,
		 ep->tun_vnet ? ", checksum and TCP segmentation offloads" : "");
	return 0;
}

int vpn_tun_create(char name[16], uint32_t mtu, bool offload)
{
	if (priv_remote())
		return priv_tun_open(name, mtu, offload ? PRIV_TUN_OFFLOAD : 0);
	return tun_create(name, mtu, offload);
}

/* The TUN name (IFF_TUN | IFF_NO_PI, O_NONBLOCK), MTU set and up; with
 * offloads also IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4)
 * (ep_tunoff.c reads it): -1 when the kernel refuses either, logged at
 * info (the caller then opens a plain one). */
static int tun_create(char name[16], uint32_t mtu, bool offload)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		log_error(EP_LOG, "cannot open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		if (offload)
			log_info(EP_LOG, "TUN %s with a virtio_net_hdr refused (%s): no offloads",
				 name, strerror(errno));
		else
			log_error(EP_LOG, "cannot create TUN %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	int hdr = EP_VNET_HDR_LEN;
	if (offload && (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
			ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)) {
		log_info(EP_LOG, "TUN %s: offloads refused (%s): none", name, strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(name, 16, "%s", ifr.ifr_name);

	/* MTU and UP go through an ordinary socket's interface ioctls */
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
		log_error(EP_LOG, "TUN %s: cannot set MTU %u: %s", name, mtu, strerror(errno));
		close(s);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			log_warn(EP_LOG, "TUN %s: cannot bring it up: %s", name, strerror(errno));
	}
	close(s);
	return fd;
fail:
	close(fd);
	return -1;
}

static void set_rcvbuf(int fd, int bytes)
{
	/* FORCE passes net.core.rmem_max (needs CAP_NET_ADMIN); else the
	 * capped request is the best we can do. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes));
}

static int bound_socket(uint32_t ip, int type, int proto, uint16_t port, int rcvbuf)
{
	char a[16];
	vpn_format_ipv4(ip, a, sizeof(a));
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, proto);
	if (fd < 0) {
		log_error(EP_LOG, "%s: socket(%s): %s", a, proto == IPPROTO_ESP ? "ESP" : "UDP",
			  strerror(errno));
		return -1;
	}
	int one = 1;
	/* the address may be configured a moment after we start */
	(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	/* outer packets may be fragmented on the path: never set DF */
	int pmtu = IP_PMTUDISC_DONT;
	(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	if (type == SOCK_DGRAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_rcvbuf(fd, rcvbuf);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(ip) };
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		log_error(EP_LOG, "%s: bind %s port %u: %s", a,
			  proto == IPPROTO_ESP ? "ESP" : "UDP", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int vpn_outside_sockets(uint32_t ip, int rcvbuf, int fds[3])
{
	if (priv_remote())
		return priv_vpn_sockets(ip, rcvbuf, fds);
	/* 2 MB: the peer's messages must not be lost behind a burst of
	 * forged ones while the endpoint thread is busy (thousands of datagrams) */
	fds[0] = bound_socket(ip, SOCK_DGRAM, IPPROTO_UDP, IKE_PORT, 2 * 1024 * 1024);
	fds[1] = bound_socket(ip, SOCK_DGRAM, IPPROTO_UDP, IKE_NATT_PORT, rcvbuf);
	fds[2] = bound_socket(ip, SOCK_RAW, IPPROTO_ESP, 0, rcvbuf);
	if (fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0)
		return 0;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return -1;
}

static void local_close(struct vpn_endpoint *ep, struct ep_local *lo)
{
	int *fds[3] = { &lo->lo_fd_ike, &lo->lo_fd_natt, &lo->lo_fd_esp };
	for (int i = 0; i < 3; i++)
		if (*fds[i] >= 0) {
			ep_watch_del(ep, *fds[i]);
			close(*fds[i]);
			*fds[i] = -1;
		}
	esp_sa_table_free(lo->lo_table);
	free(lo);
}

/* UDP GRO on lo's 4500 socket (Linux 5.0+): the kernel hands a run of
 * one peer's datagrams as one message (a UDP GSO send from a peer on this
 * host arrives so without being cut at all), which ep_natt_readable cuts
 * back by the UDP_GRO segment size. Refused (an older kernel, a policy)
 * or turned off by the configuration: one datagram per message, as
 * before. Needs no privilege, so the unprivileged side sets it on the
 * descriptors the helper opened. */
static void natt_gro_enable(struct vpn_endpoint *ep, struct ep_local *lo)
{
	int one = 1;
	char a[16];
	lo->lo_gro = false;
	if (ep->cfg.no_udp_gro || !ep->rx_gro_msgs)
		return;
	vpn_format_ipv4(lo->lo_ip, a, sizeof(a));
	if (setsockopt(lo->lo_fd_natt, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0) {
		log_info(EP_LOG, "%s: UDP GRO refused on port 4500 (%s): one datagram per "
			 "message", a, strerror(errno));
		return;
	}
	lo->lo_gro = true;
}

/* The sockets of outside address ip, opened on first use; NULL on failure
 * (logged). Every get is paired with an ep_local_put(). */
struct ep_local *ep_local_get(struct vpn_endpoint *ep, uint32_t ip)
{
	for (struct ep_local *lo = ep->locals; lo; lo = lo->lo_next)
		if (lo->lo_ip == ip) {
			lo->lo_refs++;
			return lo;
		}
	struct ep_local *lo = calloc(1, sizeof(*lo));
	if (!lo)
		return NULL;
	lo->lo_ip = ip;
	lo->lo_fd_ike = lo->lo_fd_natt = lo->lo_fd_esp = -1;
	/* SPIs are random: 4096 slots keep the table sparse for hundreds
	 * of tunnels on one address, rekeys included */
	lo->lo_table = esp_sa_table_new(4096);
	int fds[3];
	if (vpn_outside_sockets(ip, ep->cfg.rcvbuf_bytes, fds) == 0) {
		lo->lo_fd_ike = fds[0];
		lo->lo_fd_natt = fds[1];
		lo->lo_fd_esp = fds[2];
	}
	lo->lo_w_ike = (struct ep_watch){ EP_W_IKE, lo, 0, NULL };
	lo->lo_w_natt = (struct ep_watch){ EP_W_NATT, lo, 0, NULL };
	lo->lo_w_esp = (struct ep_watch){ EP_W_ESP, lo, 0, NULL };
	if (!lo->lo_table || lo->lo_fd_ike < 0 || lo->lo_fd_natt < 0 || lo->lo_fd_esp < 0 ||
	    ep_watch_add(ep, lo->lo_fd_ike, &lo->lo_w_ike) < 0 ||
	    ep_watch_add(ep, lo->lo_fd_natt, &lo->lo_w_natt) < 0 ||
	    ep_watch_add(ep, lo->lo_fd_esp, &lo->lo_w_esp) < 0) {
		local_close(ep, lo);
		return NULL;
	}
	lo->lo_refs = 1;
	natt_gro_enable(ep, lo);
	pthread_mutex_lock(&ep->lock);	/* vpn_endpoint_counters() walks the list */
	lo->lo_next = ep->locals;
	ep->locals = lo;
	pthread_mutex_unlock(&ep->lock);
	char a[16];
	vpn_format_ipv4(ip, a, sizeof(a));
	log_info(EP_LOG, "listening on %s: UDP 500, UDP 4500%s, ESP", a,
		 lo->lo_gro ? " (GRO)" : "");
	return lo;
}

void ep_local_put(struct vpn_endpoint *ep, struct ep_local *lo)
{
	if (!lo || --lo->lo_refs > 0)
		return;
	pthread_mutex_lock(&ep->lock);
	for (struct ep_local **pp = &ep->locals; *pp; pp = &(*pp)->lo_next)
		if (*pp == lo) {
			*pp = lo->lo_next;
			break;
		}
	pthread_mutex_unlock(&ep->lock);
	char a[16];
	vpn_format_ipv4(lo->lo_ip, a, sizeof(a));
	log_info(EP_LOG, "closing the sockets of %s (no tunnel uses it)", a);
	local_close(ep, lo);
}
