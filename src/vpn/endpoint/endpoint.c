/*
 * endpoint.c — the endpoint's life (new/start/stop/free), its one event
 * loop (base/evloop.h), the control requests that other threads hand to
 * that loop, the status queries, and tunnel spec validation.
 *
 * The loop is the only thread that touches tunnels, SAs and sockets once
 * started; a control call runs its request on the loop's thread with
 * evloop_call and waits for it (between batches). A round: the prepare
 * hook arms one timer at the earliest IKE deadline or housekeeping (an
 * O(tunnels) scan, as before) and, last, tells the rings the loop sleeps
 * (ep_rings_sleep: a ring with packets is never slept on); then the
 * ready fds; the check hook serves every ring side (ep_rings_poll); then
 * the timer, when due, runs every due tunnel's IKE tick.
 * Must never hold ep->lock across I/O or while calling the callback.
 */
#include "vpn/endpoint/ep_internal.h"

#include "base/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static const char *const drop_names[VPN_DROP_MAX] = {
	[VPN_DROP_NO_ROUTE] = "no route",
	[VPN_DROP_NO_SA] = "no SA for the selectors",
	[VPN_DROP_BAD_PACKET] = "not IPv4",
	[VPN_DROP_FRAGMENT] = "cannot fragment",
	[VPN_DROP_ENCRYPT] = "encryption refused",
	[VPN_DROP_SEND] = "send failed",
	[VPN_DROP_SELECTOR] = "outside the SA's selectors",
	[VPN_DROP_TUN_WRITE] = "TUN write failed",
	[VPN_DROP_INSIDE_OTHER] = "to another tunnel's inside address",
	[VPN_DROP_BGP_NOT_PEER] = "BGP side: not between the inside addresses",
	[VPN_DROP_BGP_NO_SIDE] = "BGP side not open",
	[VPN_DROP_BGP_NO_TUNNEL] = "BGP side: no tunnel's inside address",
	[VPN_DROP_BGP_DOWN] = "BGP side: tunnel down",
};

const char *vpn_drop_name(enum vpn_drop why)
{
	return (unsigned)why < VPN_DROP_MAX ? drop_names[why] : "?";
}

/* ---- helpers ------------------------------------------------------------ */

int vpn_parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

int vpn_parse_cidr(const char *s, struct vpn_cidr *out)
{
	char ip[20];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = 0;
	char *end;
	errno = 0;
	long plen = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || plen < 0 || plen > 32 ||
	    vpn_parse_ipv4(ip, &out->addr) < 0)
		return -1;
	out->prefix_len = (uint8_t)plen;
	return 0;
}

void vpn_format_ipv4(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff);
}

void vpn_tunnel_spec_defaults(struct vpn_tunnel_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	ike_tunnel_config_defaults(&spec->ike);
	spec->tcp_mss = VPN_TCP_MSS_DEFAULT;
	spec->outer_mtu = VPN_OUTER_MTU_DEFAULT;
}

const char *vpn_tunnel_spec_check(const struct vpn_tunnel_spec *s)
{
	const struct ike_tunnel_config *c = &s->ike;
	bool test = s->test_short_timers;
	uint32_t p1_min = test ? VPN_TEST_LIFETIME_MIN : TUNNEL_PHASE1_LIFETIME_MIN;
	uint32_t p2_min = test ? VPN_TEST_LIFETIME_MIN : TUNNEL_PHASE2_LIFETIME_MIN;
#define STR_(x) #x
#define STR(x) STR_(x)
	if (!s->id[0] || !memchr(s->id, 0, sizeof(s->id)))
		return "tunnel id missing or too long";
	if (s->plain_port >= VPN_PLAIN_PORTS_MAX)
		return "plaintext side beyond VPN_PLAIN_PORTS_MAX";
	if (!s->local_ip || !s->remote_ip)
		return "local and remote outside addresses are required";
	if (!s->psk_len || s->psk_len > IKE_PSK_MAX)
		return "pre-shared key missing or too long";
	if (s->inside.addr && s->inside.prefix_len != TUNNEL_INSIDE_PREFIX)
		return "inside CIDR must be a /" STR(TUNNEL_INSIDE_PREFIX);
	if (s->n_routes > VPN_MAX_ROUTES)
		return "too many routes";
	if (c->p1_lifetime_s < p1_min || c->p1_lifetime_s > TUNNEL_PHASE1_LIFETIME_MAX)
		return test ? "phase 1 lifetime out of range (test: " STR(VPN_TEST_LIFETIME_MIN) ".."
			      STR(TUNNEL_PHASE1_LIFETIME_MAX) " s)"
			    : "phase 1 lifetime out of range (" STR(TUNNEL_PHASE1_LIFETIME_MIN) ".."
			      STR(TUNNEL_PHASE1_LIFETIME_MAX) " s)";
	if (c->p2_lifetime_s < p2_min || c->p2_lifetime_s > TUNNEL_PHASE2_LIFETIME_MAX)
		return test ? "phase 2 lifetime out of range (test: " STR(VPN_TEST_LIFETIME_MIN) ".."
			      STR(TUNNEL_PHASE2_LIFETIME_MAX) " s)"
			    : "phase 2 lifetime out of range (" STR(TUNNEL_PHASE2_LIFETIME_MIN) ".."
			      STR(TUNNEL_PHASE2_LIFETIME_MAX) " s)";
	if (c->p2_lifetime_s >= c->p1_lifetime_s)
		return "phase 2 lifetime must be less than the phase 1 lifetime";
	if (!test && (c->rekey_margin_s < TUNNEL_REKEY_MARGIN_MIN || c->rekey_margin_s > c->p2_lifetime_s / 2))
		return "rekey margin out of range (" STR(TUNNEL_REKEY_MARGIN_MIN) " s .. half the phase 2 lifetime)";
	if (c->rekey_fuzz_pct > TUNNEL_REKEY_FUZZ_MAX)
		return "rekey fuzz out of range (0.." STR(TUNNEL_REKEY_FUZZ_MAX) " %)";
	if (c->replay_window < TUNNEL_REPLAY_WINDOW_MIN || c->replay_window > TUNNEL_REPLAY_WINDOW_MAX)
		return "replay window out of range (" STR(TUNNEL_REPLAY_WINDOW_MIN) ".." STR(TUNNEL_REPLAY_WINDOW_MAX) ")";
	if (c->dpd_timeout_s < (test ? VPN_TEST_DPD_TIMEOUT_MIN : TUNNEL_DPD_TIMEOUT_MIN))
		return test ? "DPD timeout too short (test: " STR(VPN_TEST_DPD_TIMEOUT_MIN) " s at least)"
			    : "DPD timeout too short (" STR(TUNNEL_DPD_TIMEOUT_MIN) " s at least)";
	if (!c->dpd_delay_s || c->dpd_delay_s > c->dpd_timeout_s)
		return "DPD delay must be positive and at most the DPD timeout";
	if (s->tcp_mss && (s->tcp_mss < 536 || s->tcp_mss > 1460))
		return "TCP MSS out of range (536..1460)";
	if (s->outer_mtu && (s->outer_mtu < 576 || s->outer_mtu > 9000))
		return "outer MTU out of range (576..9000)";
#undef STR
#undef STR_
	return NULL;
}

/* ---- control requests ----------------------------------------------------- */

/* The BGP side becomes fd (owned; -1: none), the old one closed. */
static int bgp_side_set(struct vpn_endpoint *ep, int fd)
{
	if (ep->bgp_fd >= 0) {
		ep_watch_del(ep, ep->bgp_fd);
		close(ep->bgp_fd);
		ep->bgp_fd = -1;
		log_info(EP_LOG, "BGP side closed");
	}
	if (fd < 0)
		return 0;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || ep_watch_add(ep, fd, &ep->w_bgp) < 0) {
		log_error(EP_LOG, "BGP side: cannot watch it: %s", strerror(errno));
		close(fd);
		return -1;
	}
	ep->bgp_fd = fd;
	log_info(EP_LOG, "BGP side open: BGP tunnels' inside pairs go through it");
	return 0;
}

static int apply_request_kind(struct vpn_endpoint *ep, struct ep_request *r, uint64_t now)
{
	switch (r->r_kind) {
	case EP_REQ_ADD:
		return ep_tunnel_add(ep, r->r_spec, now);
	case EP_REQ_UPDATE:
		return ep_tunnel_update(ep, r->r_spec, now);
	case EP_REQ_REMOVE:
		return ep_tunnel_remove(ep, r->r_id, now);
	case EP_REQ_REKEY:
		return ep_tunnel_rekey(ep, r->r_id, r->r_what, now);
	case EP_REQ_BGP_TUN:
		return bgp_side_set(ep, r->r_fd);
	case EP_REQ_STOP:
		ep_tunnel_stop_all(ep, now);
		atomic_store(&ep->quit, true);
		return 0;
	}
	return -1;
}

static int apply_request(struct vpn_endpoint *ep, struct ep_request *r, uint64_t now)
{
	int rc = apply_request_kind(ep, r, now);
	ep_conns_rebuild(ep);	/* the connections the router names, after any change */
	return rc;
}

struct ep_call {
	struct vpn_endpoint *c_ep;
	struct ep_request *c_req;
};

/* On the loop thread, in a round's wakeup phase (evloop_call). */
static void serve_request(void *arg, uint64_t now)
{
	struct ep_call *c = arg;
	c->c_req->r_result = apply_request(c->c_ep, c->c_req, now);
	c->c_req->r_done = true;
}

/* Apply r on the loop thread (waiting for it), or right here when the
 * loop is not running. */
static int control(struct vpn_endpoint *ep, struct ep_request *r)
{
	pthread_mutex_lock(&ep->ctl_lock);
	int rc;
	if (!ep->running) {
		rc = apply_request(ep, r, time_mono_ms());
	} else {
		struct ep_call c = { ep, r };
		evloop_call(ep->loop, serve_request, &c);
		rc = r->r_result;
	}
	pthread_mutex_unlock(&ep->ctl_lock);
	return rc;
}

int vpn_endpoint_add_tunnel(struct vpn_endpoint *ep, const struct vpn_tunnel_spec *spec)
{
	struct ep_request r = { .r_kind = EP_REQ_ADD, .r_spec = spec };
	return control(ep, &r);
}

int vpn_endpoint_update_tunnel(struct vpn_endpoint *ep, const struct vpn_tunnel_spec *spec)
{
	struct ep_request r = { .r_kind = EP_REQ_UPDATE, .r_spec = spec };
	return control(ep, &r);
}

int vpn_endpoint_remove_tunnel(struct vpn_endpoint *ep, const char *id)
{
	struct ep_request r = { .r_kind = EP_REQ_REMOVE, .r_id = id };
	return control(ep, &r);
}

int vpn_endpoint_set_bgp_tun(struct vpn_endpoint *ep, int fd)
{
	struct ep_request r = { .r_kind = EP_REQ_BGP_TUN, .r_fd = fd };
	return control(ep, &r);
}

int vpn_endpoint_rekey_tunnel(struct vpn_endpoint *ep, const char *id, unsigned what)
{
	struct ep_request r = { .r_kind = EP_REQ_REKEY, .r_id = id, .r_what = what };
	return control(ep, &r);
}

/* ---- status ----------------------------------------------------------------- */

bool vpn_endpoint_tunnel_status(struct vpn_endpoint *ep, const char *id,
				struct vpn_tunnel_status *out)
{
	bool found = false;
	pthread_mutex_lock(&ep->lock);
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next)
		if (strcmp(t->t_spec.id, id) == 0) {
			*out = t->t_snap;
			found = true;
			break;
		}
	pthread_mutex_unlock(&ep->lock);
	return found;
}

void vpn_endpoint_counters(struct vpn_endpoint *ep, struct vpn_endpoint_counters *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ep->lock);	/* keeps the address list alive */
	for (int d = 0; d < VPN_DROP_MAX; d++)
		out->drops[d] = ep->drops[d];
	out->bgp_to_side = ep->bgp_to_side;
	out->inside_sibling = ep->inside_sibling;
	out->gso_sends = ep->gso_sends;
	out->gro_receives = ep->gro_receives;
	out->gro_datagrams = ep->gro_datagrams;
	out->tun_tso_reads = ep->tun_tso_reads;
	out->tun_tso_segments = ep->tun_tso_segments;
	out->tun_gro_writes = ep->tun_gro_writes;
	out->tun_gro_segments = ep->tun_gro_segments;
	out->bgp_from_side = ep->bgp_from_side;
	for (struct ep_local *lo = ep->locals; lo; lo = lo->lo_next) {
		out->rx_invalid += lo->lo_rx_invalid;
		out->rx_unknown_peer += lo->lo_rx_unknown_peer;
	}
	pthread_mutex_unlock(&ep->lock);
}

size_t vpn_endpoint_tunnel_ids(struct vpn_endpoint *ep, char (*ids)[VPN_TUNNEL_ID_MAX], size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&ep->lock);
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next, n++)
		if (n < max)
			snprintf(ids[n], VPN_TUNNEL_ID_MAX, "%s", t->t_spec.id);
	pthread_mutex_unlock(&ep->lock);
	return n;
}

/* ---- the loop ------------------------------------------------------------------ */

#define EP_WAIT_MAX_MS	1000	/* longest wait of a round */

static uint64_t next_deadline(struct vpn_endpoint *ep)
{
	uint64_t next = ep->next_housekeeping_ms;
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next) {
		uint64_t d = ep_ike_deadline(t);
		if (d < next)
			next = d;
	}
	return next;
}

/* The deadline timer: every tunnel whose IKE deadline passed, then
 * housekeeping when due. */
static void run_timers(void *arg, uint64_t now)
{
	struct vpn_endpoint *ep = arg;
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next)
		if (now >= ep_ike_deadline(t))
			ep_ike_tick(ep, t, now);
	if (now >= ep->next_housekeeping_ms) {
		ep->next_housekeeping_ms = now + EP_HOUSEKEEPING_MS;
		ep_housekeeping(ep, now);
	}
}

/* A watched fd is ready. A request of this round that closed a socket
 * deleted its watch first: evloop skips that socket's pending event. */
static void watch_ready(void *arg, int fd, uint32_t events, uint64_t now)
{
	struct ep_watch *w = arg;
	struct vpn_endpoint *ep = w->w_ep;
	(void)fd;
	(void)events;
	switch (w->w_kind) {
	case EP_W_TUN:
		ep_tun_readable(ep, w->w_port, now);
		break;
	case EP_W_IKE:
		ep_ike_readable(ep, w->w_local, now);
		break;
	case EP_W_NATT:
		ep_natt_readable(ep, w->w_local, now);
		break;
	case EP_W_ESP:
		ep_esp_readable(ep, w->w_local, now);
		break;
	case EP_W_BGP:
		ep_bgp_readable(ep, now);
		break;
	case EP_W_RING:
		ep_ring_woken(ep, w->w_port);	/* served in the check hook */
		break;
	}
}

int ep_watch_add(struct vpn_endpoint *ep, int fd, struct ep_watch *w)
{
	w->w_ep = ep;
	int rc = evloop_add(ep->loop, fd, EPOLLIN, watch_ready, w);
	if (rc < 0) {
		log_error(EP_LOG, "cannot watch fd %d: %s", fd, strerror(-rc));
		errno = -rc;
		return -1;
	}
	return 0;
}

void ep_watch_del(struct vpn_endpoint *ep, int fd)
{
	if (ep->loop)
		(void)evloop_del(ep->loop, fd);	/* ENOENT: a half-made local */
}

/* Prepare hook: the deadline timer armed (counted in this round's wait),
 * then, last before the wait, the rings told we sleep. */
static bool loop_prepare(void *arg)
{
	struct vpn_endpoint *ep = arg;
	evloop_timer_set(ep->loop, &ep->tm_deadline, next_deadline(ep), run_timers, ep);
	return ep_rings_sleep(ep);	/* false: the router's packets are waiting */
}

/* Check hook: every ring side with packets, whatever fd woke the round. */
static void loop_check(void *arg, uint64_t now)
{
	ep_rings_poll(arg, now);
}

static void *loop_main(void *arg)
{
	struct vpn_endpoint *ep = arg;
	log_info(EP_LOG, "endpoint loop running");
	while (!atomic_load(&ep->quit))
		if (evloop_run_once(ep->loop, EP_WAIT_MAX_MS) < 0) {
			log_error(EP_LOG, "epoll_wait: %s", strerror(errno));
			break;
		}
	evloop_timer_cancel(ep->loop, &ep->tm_deadline);
	log_info(EP_LOG, "endpoint loop stopped");
	return NULL;
}

int vpn_endpoint_start(struct vpn_endpoint *ep)
{
	pthread_mutex_lock(&ep->ctl_lock);
	int rc = -1;
	if (!ep->running) {
		atomic_store(&ep->quit, false);
		uint64_t now = time_mono_ms();
		ep_tunnel_start_all(ep, now);
		ep->next_housekeeping_ms = now + EP_HOUSEKEEPING_MS;
		if (pthread_create(&ep->thread, NULL, loop_main, ep) == 0) {
			ep->running = true;
			rc = 0;
		} else {
			log_error(EP_LOG, "cannot start the endpoint thread");
		}
	}
	pthread_mutex_unlock(&ep->ctl_lock);
	return rc;
}

void vpn_endpoint_stop(struct vpn_endpoint *ep)
{
	if (!ep)
		return;
	struct ep_request r = { .r_kind = EP_REQ_STOP };
	pthread_mutex_lock(&ep->ctl_lock);
	bool running = ep->running;
	pthread_mutex_unlock(&ep->ctl_lock);
	if (!running)
		return;
	(void)control(ep, &r);
	pthread_join(ep->thread, NULL);
	pthread_mutex_lock(&ep->ctl_lock);
	ep->running = false;
	pthread_mutex_unlock(&ep->ctl_lock);
}

/* ---- life ------------------------------------------------------------------------ */

/* The plaintext fds a config hands over (when not taken yet). */
static void cfg_close_plain_fds(const struct vpn_endpoint_config *cfg)
{
	if (!cfg->use_plain_fd)
		return;
	close(cfg->plain_fd);
	for (size_t k = 0; k < cfg->n_more_plain_fds && k < VPN_PLAIN_PORTS_MAX - 1; k++)
		close(cfg->more_plain_fds[k]);
}

struct vpn_endpoint *vpn_endpoint_new(const struct vpn_endpoint_config *cfg)
{
	if (!cfg->tun_name[0] || cfg->tun_mtu > EP_TUN_MTU_MAX ||
	    cfg->n_more_plain_fds > VPN_PLAIN_PORTS_MAX - 1 ||
	    (cfg->n_more_plain_fds && !cfg->use_plain_fd) ||
	    (cfg->use_plain_rings && cfg->use_plain_fd)) {
		log_error(EP_LOG, "endpoint: TUN name missing, MTU above %u or more than %u plaintext "
			  "sides (more only with a plain fd)", EP_TUN_MTU_MAX, VPN_PLAIN_PORTS_MAX);
		cfg_close_plain_fds(cfg);
		return NULL;
	}
	struct vpn_endpoint *ep = calloc(1, sizeof(*ep));
	if (!ep) {
		cfg_close_plain_fds(cfg);
		return NULL;
	}
	ep->cfg = *cfg;
	if (!ep->cfg.tun_mtu)
		ep->cfg.tun_mtu = 1500;
	if (!ep->cfg.rcvbuf_bytes)
		ep->cfg.rcvbuf_bytes = EP_RCVBUF_DEFAULT;
	ep->tun_fd = ep->bgp_fd = -1;
	ep->w_bgp = (struct ep_watch){ EP_W_BGP, NULL, 0, NULL };
	for (unsigned k = 0; k < VPN_PLAIN_PORTS_MAX; k++)
		ep->tun_fds[k] = -1;
	pthread_mutex_init(&ep->lock, NULL);
	pthread_mutex_init(&ep->ctl_lock, NULL);

	uint32_t payload = ep->cfg.tun_mtu > EP_RX_MAX ? ep->cfg.tun_mtu : EP_RX_MAX;
	ep->buf_size = ESP_HEADROOM + payload + ESP_TAILROOM;
	ep->pool = malloc((size_t)EP_POOL * ep->buf_size);
	ep->rxbuf = malloc((size_t)EP_BATCH * ep->buf_size);
	/* UDP GRO's messages: EP_BATCH of up to 64 KB, so that a peer whose
	 * datagrams come one by one (strongSwan's) still fills a batch per
	 * recvmmsg; only the pages a message touches become resident. Without
	 * it, GRO stays off (natt_gro_enable). */
	if (!ep->cfg.no_udp_gro) {
		ep->rxgro = malloc((size_t)EP_BATCH * EP_GRO_SLOT);
		ep->rx_gro_msgs = ep->rxgro ? EP_BATCH : 0;
	}
	ep->loop = evloop_new(NULL, NULL);
	if (!ep->pool || !ep->rxbuf || !ep->loop ||
	    (ep->cfg.use_plain_rings ? ep_rings_open(ep) : ep_tun_open(ep)) < 0)
		goto err;
	evloop_set_hooks(ep->loop, loop_prepare, loop_check, ep);
	for (unsigned k = 0; k < ep->n_ports && !ep->cfg.use_plain_rings; k++) {
		ep->w_ports[k] = (struct ep_watch){ EP_W_TUN, NULL, k, NULL };
		if (ep_watch_add(ep, ep->tun_fds[k], &ep->w_ports[k]) < 0)
			goto err;
	}
	return ep;
err:
	log_error(EP_LOG, "endpoint: cannot start (%s)", strerror(errno));
	vpn_endpoint_free(ep);
	return NULL;
}

void vpn_endpoint_free(struct vpn_endpoint *ep)
{
	if (!ep)
		return;
	vpn_endpoint_stop(ep);
	ep_tunnel_free_all(ep);
	ep_rings_free(ep);
	for (unsigned k = 0; k < ep->n_ports; k++)
		if (ep->tun_fds[k] >= 0)
			close(ep->tun_fds[k]);
	cfg_close_plain_fds(&ep->cfg);	/* new failed before taking them */
	if (ep->bgp_fd >= 0)
		close(ep->bgp_fd);
	evloop_free(ep->loop);	/* after every socket's watch went */
	/* inbound buffers held decrypted traffic; the pool plaintext */
	if (ep->pool)
		secret_wipe(ep->pool, (size_t)EP_POOL * ep->buf_size);
	if (ep->rxbuf)
		secret_wipe(ep->rxbuf, (size_t)EP_BATCH * ep->buf_size);
	if (ep->tun_frame)
		secret_wipe(ep->tun_frame, EP_TUN_FRAME_MAX);
	if (ep->tun_train)
		secret_wipe(ep->tun_train, EP_TUN_FRAME_MAX);
	free(ep->tun_train);
	if (ep->rxgro)
		secret_wipe(ep->rxgro, (size_t)EP_BATCH * EP_GRO_SLOT);
	free(ep->rxgro);
	free(ep->pool);
	free(ep->rxbuf);
	free(ep->tun_frame);
	pthread_mutex_destroy(&ep->ctl_lock);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}
