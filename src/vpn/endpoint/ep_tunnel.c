/*
 * ep_tunnel.c — tunnels on the control plane: creating one from a spec,
 * running its IKE peer's actions (send, CHILD SA install/delete,
 * status), make-before-break SA replacement, status snapshots.
 *
 * Runs on the loop thread (or the caller's before start). May allocate
 * and log; must never log a key or the PSK, and must never free an SA the
 * data path may still use in the current batch (it runs between batches).
 */
#include "vpn/endpoint/ep_internal.h"

#include "base/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ep_tunnel *ep_tunnel_find(struct vpn_endpoint *ep, const char *id)
{
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next)
		if (strcmp(t->t_spec.id, id) == 0)
			return t;
	return NULL;
}

struct ep_tunnel *ep_tunnel_by_peer(struct vpn_endpoint *ep, uint32_t local, uint32_t remote)
{
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next)
		if (t->t_spec.local_ip == local && t->t_spec.remote_ip == remote)
			return t;
	return NULL;
}

/* ---- status ----------------------------------------------------------- */

static const char *encr_name(enum ike_encr e)
{
	switch (e) {
	case IKE_ENCR_AES128_CBC: return "esp-aes";
	case IKE_ENCR_AES256_CBC: return "esp-256-aes";
	case IKE_ENCR_AES128_GCM16: return "esp-gcm";
	case IKE_ENCR_AES256_GCM16: return "esp-gcm 256";
	}
	return "?";
}

static const char *integ_name(enum ike_integ i)
{
	switch (i) {
	case IKE_INTEG_NONE: return "";
	case IKE_INTEG_SHA1: return " esp-sha-hmac";
	case IKE_INTEG_SHA256: return " esp-sha256-hmac";
	case IKE_INTEG_SHA384: return " esp-sha384-hmac";
	case IKE_INTEG_SHA512: return " esp-sha512-hmac";
	}
	return " ?";
}

static uint32_t remaining_s(uint64_t start_ms, uint32_t life_s, uint64_t now)
{
	uint64_t end = start_ms + (uint64_t)life_s * 1000;
	return end > now ? (uint32_t)((end - now) / 1000) : 0;
}

static void stats_add(struct ike_stats *d, const struct ike_stats *a)
{
	d->rx_packets += a->rx_packets;
	d->tx_packets += a->tx_packets;
	d->rx_keepalives += a->rx_keepalives;
	d->retransmits += a->retransmits;
	d->duplicates_answered += a->duplicates_answered;
	d->p1_established += a->p1_established;
	d->p2_established += a->p2_established;
	d->auth_failures += a->auth_failures;
	d->proposal_mismatches += a->proposal_mismatches;
	d->dpd_sent += a->dpd_sent;
	d->dpd_answered += a->dpd_answered;
	d->dpd_timeouts += a->dpd_timeouts;
	for (int i = 0; i < IKE_DROP_COUNT; i++)
		d->dropped[i] += a->dropped[i];
}

/* Rebuild t's snapshot from the live objects; readers see it whole. */
void ep_snapshot(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now)
{
	struct vpn_tunnel_status s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", t->t_spec.id);
	s.local_ip = t->t_spec.local_ip;
	s.remote_ip = t->t_spec.remote_ip;
	s.remote_port = t->t_peer_port;
	s.up = t->t_up;
	s.since_unix = t->t_since_unix;
	snprintf(s.cause, sizeof(s.cause), "%s", t->t_cause);
	if (t->t_ike) {
		ike_get_stats(t->t_ike, &s.ike);
		ike_get_isakmp_status(t->t_ike, now, &s.isakmp);
	}
	if (t->t_ikev2) {
		/* the counters of both cores, added: one tunnel's IKE traffic */
		struct ike_stats v2;
		ikev2_get_stats(t->t_ikev2, &v2);
		stats_add(&s.ike, &v2);
		ikev2_get_sa_status(t->t_ikev2, now, &s.ikev2);
	}
	s.ike_version = t->t_ike_version ? t->t_ike_version :
			t->t_ike && !t->t_ikev2 ? 1 : !t->t_ike ? 2 : 0;
	memcpy(s.drops, t->t_drops, sizeof(s.drops));
	s.for_other_tunnel = t->t_for_other;
	for (struct ep_child *c = t->t_children; c && s.n_children < VPN_MAX_CHILDREN;
	     c = c->ch_next) {
		struct vpn_child_status *cs = &s.children[s.n_children++];
		cs->spi_in = c->ch_spi_in;
		cs->spi_out = c->ch_spi_out;
		cs->encr = c->ch_encr;
		cs->integ = c->ch_integ;
		snprintf(cs->transform, sizeof(cs->transform), "%s%s", encr_name(c->ch_encr),
			 integ_name(c->ch_integ));
		cs->ts_local = c->ch_ts_local;
		cs->ts_remote = c->ch_ts_remote;
		cs->udp_encap = c->ch_udp_encap;
		cs->encap_remote_port = c->ch_encap_rport;
		cs->lingering = c->ch_linger_until_ms != 0;
		cs->installed_unix = c->ch_installed_unix;
		cs->soft_remaining_s = remaining_s(c->ch_installed_ms, c->ch_soft_s, now);
		cs->hard_remaining_s = remaining_s(c->ch_installed_ms, c->ch_hard_s, now);
		cs->replay_window = c->ch_replay_window;
		const struct esp_sa_stats *in = esp_sa_stats(c->ch_in);
		const struct esp_sa_stats *out = esp_sa_stats(c->ch_out);
		cs->pkts_in = in->st_packets;
		cs->bytes_in = in->st_bytes;
		cs->pkts_out = out->st_packets;
		cs->bytes_out = out->st_bytes;
		memcpy(cs->drops_in, in->st_drops, sizeof(cs->drops_in));
		memcpy(cs->drops_out, out->st_drops, sizeof(cs->drops_out));
		cs->seq_in = esp_sa_seq(c->ch_in);
		cs->seq_out = esp_sa_seq(c->ch_out);
	}
	pthread_mutex_lock(&ep->lock);
	t->t_snap = s;
	pthread_mutex_unlock(&ep->lock);
}

static void set_status(struct vpn_endpoint *ep, struct ep_tunnel *t, bool up, const char *cause,
		       uint64_t now)
{
	if (up)
		cause = "";
	if (t->t_up == up && strcmp(t->t_cause, cause) == 0)
		return;
	bool changed = t->t_up != up;
	t->t_up = up;
	snprintf(t->t_cause, sizeof(t->t_cause), "%s", cause);
	/* "since" is the last UP/DOWN change; a new cause for a tunnel that
	 * stays down is news, but not a new "since" */
	if (changed || !t->t_since_unix)
		t->t_since_unix = time_wall_s();
	/* ike/ logs the change (and its cause) already */
	log_debug(EP_LOG, "tunnel %s %s%s%s", t->t_spec.id, up ? "UP" : "DOWN", up ? "" : ": ",
		  cause);
	ep_snapshot(ep, t, now);
	if (ep->cfg.on_status)
		ep->cfg.on_status(ep->cfg.on_status_arg, t->t_spec.id, up, cause, t->t_since_unix);
}

/* ---- CHILD SAs -------------------------------------------------------- */

static enum esp_integ esp_integ_of(enum ike_integ i)
{
	switch (i) {
	case IKE_INTEG_SHA1: return ESP_INTEG_HMAC_SHA1_96;
	case IKE_INTEG_SHA256: return ESP_INTEG_HMAC_SHA2_256_128;
	case IKE_INTEG_SHA384: return ESP_INTEG_HMAC_SHA2_384_192;
	case IKE_INTEG_SHA512: return ESP_INTEG_HMAC_SHA2_512_256;
	case IKE_INTEG_NONE: break;
	}
	return ESP_INTEG_NONE;
}

static struct esp_sa *sa_from_keys(const struct ike_child_sa_install *in,
				   const struct ike_sa_keys *k, enum esp_dir dir)
{
	bool gcm = in->encr == IKE_ENCR_AES128_GCM16 || in->encr == IKE_ENCR_AES256_GCM16;
	struct esp_sa_config c = {
		.cfg_spi = k->spi,
		.cfg_dir = dir,
		.cfg_encr = gcm ? ESP_ENCR_AES_GCM16 : ESP_ENCR_AES_CBC,
		.cfg_integ = gcm ? ESP_INTEG_NONE : esp_integ_of(in->integ),
		.cfg_encr_key = k->enc_key,
		.cfg_encr_key_len = k->enc_key_len,
		.cfg_integ_key = k->auth_key_len ? k->auth_key : NULL,
		.cfg_integ_key_len = k->auth_key_len,
		.cfg_replay_window = in->replay_window,
		.cfg_encap_sport = in->udp_encap ? in->encap_local_port : 0,
		.cfg_encap_dport = in->udp_encap ? in->encap_remote_port : 0,
		.cfg_outer_src = in->local_ip,
		.cfg_outer_dst = in->remote_ip,
	};
	return esp_sa_new(&c);
}

static void child_free(struct vpn_endpoint *ep, struct ep_tunnel *t, struct ep_child *c)
{
	ep_datapath_forget_child(ep, c);
	if (c->ch_in_table)
		(void)esp_sa_table_remove(t->t_local->lo_table, c->ch_spi_in);
	esp_sa_free(c->ch_in);
	esp_sa_free(c->ch_out);
	secret_wipe(c, sizeof(*c));
	free(c);
}

static void child_install(struct vpn_endpoint *ep, struct ep_tunnel *t,
			  const struct ike_child_sa_install *in, uint8_t version, uint64_t now)
{
	struct ep_child *c = calloc(1, sizeof(*c));
	if (!c) {
		log_error(EP_LOG, "tunnel %s: out of memory installing CHILD SA", t->t_spec.id);
		return;
	}
	c->ch_tunnel = t;
	c->ch_ike_version = version;
	c->ch_spi_in = in->in.spi;
	c->ch_spi_out = in->out.spi;
	c->ch_encr = in->encr;
	c->ch_integ = in->integ;
	c->ch_ts_local = in->ts_local;
	c->ch_ts_remote = in->ts_remote;
	c->ch_udp_encap = in->udp_encap;
	c->ch_encap_rport = in->udp_encap ? in->encap_remote_port : 0;
	c->ch_soft_s = in->soft_lifetime_s;
	c->ch_hard_s = in->hard_lifetime_s;
	c->ch_replay_window = in->replay_window;
	c->ch_installed_ms = now;
	c->ch_installed_unix = time_wall_s();
	c->ch_out_held = in->outbound_hold_ms != 0;
	c->ch_hold_until_ms = now + in->outbound_hold_ms;
	c->ch_peer = (struct sockaddr_in){ .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(in->remote_ip),
		.sin_port = htons(in->udp_encap ? in->encap_remote_port : 0) };
	c->ch_in = sa_from_keys(in, &in->in, ESP_DIR_IN);
	c->ch_out = sa_from_keys(in, &in->out, ESP_DIR_OUT);
	if (!c->ch_in || !c->ch_out) {
		log_error(EP_LOG, "tunnel %s: ESP refused CHILD SA %08x/%08x", t->t_spec.id,
			  c->ch_spi_in, c->ch_spi_out);
		child_free(ep, t, c);
		return;
	}
	if (esp_sa_table_insert(t->t_local->lo_table, c->ch_in) < 0) {
		log_error(EP_LOG, "tunnel %s: inbound SPI %08x already in use on this address",
			  t->t_spec.id, c->ch_spi_in);
		child_free(ep, t, c);
		return;
	}
	c->ch_in_table = true;
	uint32_t mtu = t->t_spec.outer_mtu ? t->t_spec.outer_mtu : VPN_OUTER_MTU_DEFAULT;
	c->ch_inner_mtu = esp_sa_inner_mtu(c->ch_out, mtu);
	/* newest first: the data path sends into the first live child whose
	 * selectors cover a packet, so the new SA carries traffic from now
	 * on, while the old one (if any) still decrypts what is in flight */
	c->ch_next = t->t_children;
	t->t_children = c;
	log_info(EP_LOG, "tunnel %s: ESP SA in %08x out %08x %s%s, %s, inner MTU %u",
		 t->t_spec.id, c->ch_spi_in, c->ch_spi_out, encr_name(c->ch_encr),
		 integ_name(c->ch_integ),
		 c->ch_udp_encap ? "UDP-encapsulated" : "raw ESP", c->ch_inner_mtu);
}

/* IKE deleted the pair: stop sending into it now, keep decrypting with it
 * for VPN_SA_LINGER_MS (packets the peer sent before it switched). */
static void child_retire(struct ep_tunnel *t, uint32_t spi_in, uint32_t spi_out, uint64_t now)
{
	for (struct ep_child *c = t->t_children; c; c = c->ch_next)
		if (c->ch_spi_in == spi_in && c->ch_spi_out == spi_out && !c->ch_linger_until_ms) {
			c->ch_linger_until_ms = now + VPN_SA_LINGER_MS;
			/* the SA it replaced is gone: a held successor sends now */
			for (struct ep_child *o = t->t_children; o; o = o->ch_next)
				o->ch_out_held = false;
			log_info(EP_LOG, "tunnel %s: ESP SA in %08x out %08x retired (inbound "
				 "kept %u ms)", t->t_spec.id, spi_in, spi_out, VPN_SA_LINGER_MS);
			return;
		}
}

static void children_free_all(struct vpn_endpoint *ep, struct ep_tunnel *t)
{
	while (t->t_children) {
		struct ep_child *c = t->t_children;
		t->t_children = c->ch_next;
		child_free(ep, t, c);
	}
}

static void children_reap(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now)
{
	for (struct ep_child **pp = &t->t_children; *pp;) {
		struct ep_child *c = *pp;
		if (c->ch_linger_until_ms && now >= c->ch_linger_until_ms) {
			*pp = c->ch_next;
			child_free(ep, t, c);
			continue;
		}
		pp = &c->ch_next;
	}
}

/* ---- IKE actions -------------------------------------------------------- */

static void ike_send(struct ep_tunnel *t, const struct ike_action *a, uint64_t now)
{
	int fd = a->send.src_port == IKE_NATT_PORT ? t->t_local->lo_fd_natt : t->t_local->lo_fd_ike;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(a->send.dst.port),
				  .sin_addr.s_addr = htonl(a->send.dst.ip) };
	t->t_peer_port = a->send.dst.port;
	if (sendto(fd, a->send.data, a->send.len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		log_limited(&t->t_log_send, now, LOG_WARN, EP_LOG, "tunnel %s: IKE send to port %u "
			    "failed: %s", t->t_spec.id, a->send.dst.port, strerror(errno));
}

/* A core's status: the tunnel is UP while either core is; a core's DOWN
 * counts only while the other one is not UP. */
static void core_status(struct vpn_endpoint *ep, struct ep_tunnel *t, uint8_t version, bool up,
			const char *cause, uint64_t now)
{
	t->t_core_up[version] = up;
	if (up || !t->t_ike_version)
		t->t_ike_version = version;
	if (!up && t->t_core_up[version == 1 ? 2 : 1])
		return;
	set_status(ep, t, up, cause, now);
}

static bool next_action(struct ep_tunnel *t, uint8_t version, struct ike_action *a)
{
	return version == 1 ? t->t_ike && ike_next_action(t->t_ike, a)
			    : t->t_ikev2 && ikev2_next_action(t->t_ikev2, a);
}

void ep_ike_drain(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now)
{
	struct ike_action a;
	bool changed = false;
	for (uint8_t v = 1; v <= 2; v++)
		while (next_action(t, v, &a)) {
			switch (a.kind) {
			case IKE_ACT_SEND:
				ike_send(t, &a, now);
				break;
			case IKE_ACT_CHILD_SA_INSTALL:
				child_install(ep, t, &a.install, v, now);
				changed = true;
				break;
			case IKE_ACT_CHILD_SA_DELETE:
				child_retire(t, a.del.spi_in, a.del.spi_out, now);
				changed = true;
				break;
			case IKE_ACT_STATUS:
				if (!t->t_removing)
					core_status(ep, t, v, a.status.up, a.status.cause, now);
				break;
			case IKE_ACT_NONE:
				break;
			}
			ike_action_wipe(&a);
		}
	if (changed)
		ep_snapshot(ep, t, now);
}

void ep_ike_input(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now,
		  const struct ike_addr *from, bool natt, const uint8_t *p, size_t len)
{
	size_t off = natt && len >= IKE_NON_ESP_MARKER_LEN ? IKE_NON_ESP_MARKER_LEN : 0;
	int version = ike_msg_major_version(p + off, len - off);
	if (version == 0 && !t->t_ike)
		version = 2;	/* a NAT-keepalive (or runt): the IKEv2 core counts it */
	if (version == 2 && t->t_ikev2) {
		ikev2_input(t->t_ikev2, now, from, natt, p, len);
	} else if (version == 2 || (version == 1 && !t->t_ike)) {
		/* the tunnel does not speak it: say so once, drop the rest */
		if (!t->t_refused_reported && !t->t_up) {
			t->t_refused_reported = true;
			set_status(ep, t, false, version == 1 ?
				   "peer offered IKEv1; tunnel allows ikev2 only" :
				   "peer offered IKEv2; tunnel allows ikev1 only", now);
		}
		return;
	} else if (t->t_ike) {
		ike_input(t->t_ike, now, from, natt, p, len);	/* IKEv1, keepalives */
	}
	ep_ike_drain(ep, t, now);
}

uint64_t ep_ike_deadline(const struct ep_tunnel *t)
{
	uint64_t a = t->t_ike ? ike_next_deadline(t->t_ike) : UINT64_MAX;
	uint64_t b = t->t_ikev2 ? ikev2_next_deadline(t->t_ikev2) : UINT64_MAX;
	return a < b ? a : b;
}

void ep_ike_tick(struct vpn_endpoint *ep, struct ep_tunnel *t, uint64_t now)
{
	if (t->t_ike)
		ike_tick(t->t_ike, now);
	if (t->t_ikev2)
		ikev2_tick(t->t_ikev2, now);
	ep_ike_drain(ep, t, now);
}

static void cores_stop(struct ep_tunnel *t, uint64_t now)
{
	if (t->t_ike)
		ike_stop(t->t_ike, now);
	if (t->t_ikev2)
		ikev2_stop(t->t_ikev2, now);
}

/* An outbound SA past its soft sequence number limit: ask IKE for a new
 * CHILD SA now (once), long before the sequence numbers run out. */
static void child_rekey_if_seq_soft(struct ep_tunnel *t, struct ep_child *c, uint64_t now)
{
	if (c->ch_rekey_asked || c->ch_linger_until_ms ||
	    esp_sa_rekey_state(c->ch_out) == ESP_REKEY_NONE)
		return;
	c->ch_rekey_asked = true;
	log_info(EP_LOG, "tunnel %s: ESP SA out %08x at sequence number %u, rekeying",
		 t->t_spec.id, c->ch_spi_out, esp_sa_seq(c->ch_out));
	if (c->ch_ike_version == 2 && t->t_ikev2)
		(void)ikev2_child_sa_rekey(t->t_ikev2, c->ch_spi_in, now);
	else if (t->t_ike)
		(void)ike_child_sa_rekey(t->t_ike, c->ch_spi_in, now);
}

/* Once a second: DPD signs of life, sequence number rekeys, lingering
 * SAs, snapshots. */
void ep_housekeeping(struct vpn_endpoint *ep, uint64_t now)
{
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next) {
		for (struct ep_child *c = t->t_children; c; c = c->ch_next) {
			if (c->ch_out_held && now >= c->ch_hold_until_ms)
				c->ch_out_held = false;
			if (c->ch_rx_seen) {
				c->ch_rx_seen = false;
				if (c->ch_ike_version == 2 && t->t_ikev2)
					ikev2_child_sa_used(t->t_ikev2, c->ch_spi_in, now);
				else if (t->t_ike)
					ike_child_sa_used(t->t_ike, c->ch_spi_in, now);
			}
			child_rekey_if_seq_soft(t, c, now);
		}
		ep_ike_drain(ep, t, now);
		children_reap(ep, t, now);
		ep_snapshot(ep, t, now);
	}
}

/* ---- tunnels ------------------------------------------------------------ */

static void ike_config_from_spec(const struct vpn_tunnel_spec *s, struct ike_tunnel_config *c)
{
	*c = s->ike;
	/* ike's log name: the id, cut to fit */
	size_t n = strnlen(s->id, sizeof(c->name) - 1);
	memcpy(c->name, s->id, n);
	c->name[n] = 0;
	c->local_ip = s->local_ip;
	c->remote_ip = s->remote_ip;
	memcpy(c->psk, s->psk, s->psk_len);
	c->psk_len = s->psk_len;
}

static uint32_t inside_ours(const struct vpn_cidr *inside)
{
	if (!inside->addr || inside->prefix_len > 30)
		return 0;
	uint32_t mask = inside->prefix_len ? ~0u << (32 - inside->prefix_len) : 0;
	return (inside->addr & mask) + 1;	/* first usable: ours (AWS's side) */
}

static void apply_soft_fields(struct ep_tunnel *t, const struct vpn_tunnel_spec *spec)
{
	memcpy(t->t_spec.routes, spec->routes, sizeof(spec->routes));
	t->t_spec.n_routes = spec->n_routes;
	t->t_spec.tcp_mss = spec->tcp_mss ? spec->tcp_mss : VPN_TCP_MSS_DEFAULT;
	t->t_spec.outer_mtu = spec->outer_mtu ? spec->outer_mtu : VPN_OUTER_MTU_DEFAULT;
	t->t_spec.inside = spec->inside;
	t->t_spec.plain_port = spec->plain_port;
	t->t_spec.bgp = spec->bgp;
	t->t_inside_ours = inside_ours(&spec->inside);
	for (struct ep_child *c = t->t_children; c; c = c->ch_next)
		c->ch_inner_mtu = esp_sa_inner_mtu(c->ch_out, t->t_spec.outer_mtu);
}

/* One core per IKE version the tunnel allows. With both, only IKEv2
 * initiates (AWS initiates only with IKEv2); IKEv1 answers. */
static int tunnel_ike_new(struct ep_tunnel *t)
{
	struct ike_tunnel_config ic;
	ike_config_from_spec(&t->t_spec, &ic);
	unsigned versions = ic.versions ? ic.versions : IKE_V1;
	bool ok = true;
	t->t_ike_version = 0;
	memset(t->t_core_up, 0, sizeof(t->t_core_up));
	t->t_refused_reported = false;
	if (versions & IKE_V2) {
		t->t_ikev2 = ikev2_peer_new(&ic);
		ok = t->t_ikev2 != NULL;
		ic.startup = IKE_STARTUP_ADD;
	}
	if (ok && (versions & IKE_V1)) {
		t->t_ike = ike_peer_new(&ic);
		ok = t->t_ike != NULL;
	}
	secret_wipe(&ic, sizeof(ic));
	return ok ? 0 : -1;
}

static void tunnel_free(struct vpn_endpoint *ep, struct ep_tunnel *t)
{
	children_free_all(ep, t);
	ike_peer_free(t->t_ike);
	ikev2_peer_free(t->t_ikev2);
	ep_local_put(ep, t->t_local);
	secret_wipe(t, sizeof(*t));
	free(t);
}

int ep_tunnel_add(struct vpn_endpoint *ep, const struct vpn_tunnel_spec *spec, uint64_t now)
{
	const char *why = vpn_tunnel_spec_check(spec);
	if (why) {
		log_error(EP_LOG, "tunnel %.*s: refused: %s", VPN_TUNNEL_ID_MAX, spec->id, why);
		return -1;
	}
	if (ep_tunnel_find(ep, spec->id)) {
		log_error(EP_LOG, "tunnel %s: refused: id already exists", spec->id);
		return -1;
	}
	if (ep_tunnel_by_peer(ep, spec->local_ip, spec->remote_ip)) {
		log_error(EP_LOG, "tunnel %s: refused: another tunnel joins the same two "
			  "addresses", spec->id);
		return -1;
	}
	struct ep_tunnel *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->t_spec = *spec;
	t->t_log_send = (struct log_limit)LOG_LIMIT_INIT(10000, 5);
	apply_soft_fields(t, spec);
	t->t_local = ep_local_get(ep, spec->local_ip);
	if (!t->t_local || tunnel_ike_new(t) < 0) {
		tunnel_free(ep, t);
		return -1;
	}
	snprintf(t->t_cause, sizeof(t->t_cause), "%s",
		 spec->ike.startup == IKE_STARTUP_START ? "connecting" : "waiting for the peer");
	t->t_since_unix = time_wall_s();
	ep_snapshot(ep, t, now);
	pthread_mutex_lock(&ep->lock);
	struct ep_tunnel **pp = &ep->tunnels;
	while (*pp)
		pp = &(*pp)->t_next;
	*pp = t;
	pthread_mutex_unlock(&ep->lock);
	char l[16], r[16];
	vpn_format_ipv4(spec->local_ip, l, sizeof(l));
	vpn_format_ipv4(spec->remote_ip, r, sizeof(r));
	log_info(EP_LOG, "tunnel %s added: %s <-> %s, startup %s, %zu route(s)", spec->id, l, r,
		 spec->ike.startup == IKE_STARTUP_START ? "start" : "add", spec->n_routes);
	if (ep->cfg.on_status)
		ep->cfg.on_status(ep->cfg.on_status_arg, t->t_spec.id, false, t->t_cause,
				  t->t_since_unix);
	return 0;
}

static bool ike_fields_equal(const struct vpn_tunnel_spec *a, const struct vpn_tunnel_spec *b)
{
	struct ike_tunnel_config ca, cb;
	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	ike_config_from_spec(a, &ca);
	ike_config_from_spec(b, &cb);
	bool eq = memcmp(&ca, &cb, sizeof(ca)) == 0 && a->test_short_timers == b->test_short_timers;
	secret_wipe(&ca, sizeof(ca));
	secret_wipe(&cb, sizeof(cb));
	return eq;
}

int ep_tunnel_update(struct vpn_endpoint *ep, const struct vpn_tunnel_spec *spec, uint64_t now)
{
	struct ep_tunnel *t = ep_tunnel_find(ep, spec->id);
	const char *why = vpn_tunnel_spec_check(spec);
	if (!t || why) {
		log_error(EP_LOG, "tunnel %.*s: update refused: %s", VPN_TUNNEL_ID_MAX, spec->id,
			  t ? why : "no such tunnel");
		return -1;
	}
	if (ike_fields_equal(&t->t_spec, spec)) {
		apply_soft_fields(t, spec);
		log_info(EP_LOG, "tunnel %s updated in place (routes, MSS, MTU, inside, BGP)", spec->id);
		ep_snapshot(ep, t, now);
		return 0;
	}
	struct ep_tunnel *other = ep_tunnel_by_peer(ep, spec->local_ip, spec->remote_ip);
	if (other && other != t) {
		log_error(EP_LOG, "tunnel %s: update refused: another tunnel joins the same two "
			  "addresses", spec->id);
		return -1;
	}
	struct ep_local *lo = ep_local_get(ep, spec->local_ip);
	if (!lo)
		return -1;
	log_info(EP_LOG, "tunnel %s: IKE options changed, renegotiating", spec->id);
	t->t_removing = true;	/* its "stopped" is not news */
	cores_stop(t, now);
	ep_ike_drain(ep, t, now);
	t->t_removing = false;
	children_free_all(ep, t);
	ike_peer_free(t->t_ike);
	ikev2_peer_free(t->t_ikev2);
	t->t_ike = NULL;
	t->t_ikev2 = NULL;
	ep_local_put(ep, t->t_local);
	t->t_local = lo;
	secret_wipe(&t->t_spec, sizeof(t->t_spec));
	t->t_spec = *spec;
	apply_soft_fields(t, spec);
	if (tunnel_ike_new(t) < 0) {
		set_status(ep, t, false, "invalid IKE configuration", now);
		return -1;
	}
	set_status(ep, t, false, "reconfigured", now);
	return 0;
}

static void tunnel_unlink(struct vpn_endpoint *ep, struct ep_tunnel *t)
{
	pthread_mutex_lock(&ep->lock);
	for (struct ep_tunnel **pp = &ep->tunnels; *pp; pp = &(*pp)->t_next)
		if (*pp == t) {
			*pp = t->t_next;
			break;
		}
	pthread_mutex_unlock(&ep->lock);
}

int ep_tunnel_remove(struct vpn_endpoint *ep, const char *id, uint64_t now)
{
	struct ep_tunnel *t = ep_tunnel_find(ep, id);
	if (!t) {
		log_error(EP_LOG, "tunnel %.*s: remove: no such tunnel", VPN_TUNNEL_ID_MAX, id);
		return -1;
	}
	t->t_removing = true;
	cores_stop(t, now);	/* Delete payloads for every SA */
	ep_ike_drain(ep, t, now);
	t->t_removing = false;
	set_status(ep, t, false, "removed", now);
	tunnel_unlink(ep, t);
	log_info(EP_LOG, "tunnel %s removed", t->t_spec.id);
	tunnel_free(ep, t);
	return 0;
}

int ep_tunnel_rekey(struct vpn_endpoint *ep, const char *id, unsigned what, uint64_t now)
{
	struct ep_tunnel *t = ep_tunnel_find(ep, id);
	if (!t)
		return -1;
	log_info(EP_LOG, "tunnel %s: rekeying its %s on request", id,
		 what & VPN_REKEY_IKE ? "IKE SA" : "CHILD SAs");
	if ((what & VPN_REKEY_IKE) && t->t_ikev2)
		(void)ikev2_ike_sa_rekey(t->t_ikev2, now);
	for (struct ep_child *c = (what & VPN_REKEY_CHILD) ? t->t_children : NULL; c;
	     c = c->ch_next) {
		if (c->ch_linger_until_ms)
			continue;
		if (c->ch_ike_version == 2 && t->t_ikev2)
			(void)ikev2_child_sa_rekey(t->t_ikev2, c->ch_spi_in, now);
		else if (t->t_ike)
			(void)ike_child_sa_rekey(t->t_ike, c->ch_spi_in, now);
	}
	ep_ike_drain(ep, t, now);
	return 0;
}

void ep_tunnel_stop_all(struct vpn_endpoint *ep, uint64_t now)
{
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next) {
		cores_stop(t, now);
		ep_ike_drain(ep, t, now);
		children_free_all(ep, t);
		ep_snapshot(ep, t, now);
	}
}

void ep_tunnel_start_all(struct vpn_endpoint *ep, uint64_t now)
{
	for (struct ep_tunnel *t = ep->tunnels; t; t = t->t_next) {
		if (t->t_spec.ike.startup != IKE_STARTUP_START)
			continue;
		if (t->t_ikev2) {	/* the initiating core when both exist */
			if (!ikev2_is_up(t->t_ikev2) &&
			    strcmp(ikev2_status_cause(t->t_ikev2), "stopped") == 0)
				ikev2_start(t->t_ikev2, now);
		} else if (t->t_ike && !ike_is_up(t->t_ike) &&
			   strcmp(ike_status_cause(t->t_ike), "stopped") == 0) {
			ike_start(t->t_ike, now);
		}
		ep_ike_drain(ep, t, now);
	}
}

void ep_tunnel_free_all(struct vpn_endpoint *ep)
{
	while (ep->tunnels) {
		struct ep_tunnel *t = ep->tunnels;
		tunnel_unlink(ep, t);
		tunnel_free(ep, t);
	}
}
