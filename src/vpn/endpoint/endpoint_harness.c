/*
 * vpn-endpoint-harness — runs a vpn_endpoint from a small key=value file,
 * for the interop tests and benchmarks (the engine drives the same API
 * from VPN connections). Never logs or prints the PSK.
 *
 *   tun = vpn0                  # created if missing; caller adds routes
 *   tun_mtu = 1500
 *   udp_gro = yes               # no: NAT-T received one datagram per message
 *   tun_offload = no            # yes: the TUN with IFF_VNET_HDR, TSO4 and
 *                               # checksum offloads (64 KB reads, cut here)
 *   log_level = info            # debug|info|warn|error
 *   [tunnel]                    # one section per tunnel
 *   id = vpn-1#1
 *   local = 203.0.113.1         # our outside address
 *   remote = 198.51.100.2       # customer gateway
 *   psk = ...
 *   inside = 169.254.252.0/30
 *   route = 10.0.0.0/24         # repeatable
 *   ike_versions = ikev1,ikev2  # default ikev1; with both, the peer's choice
 *   phase1_encryption = AES128,AES256      (AES128-GCM-16, AES256-GCM-16: IKEv2
 *                                           or phase 2)
 *   phase1_integrity = SHA1,SHA2-256       (SHA2-384, SHA2-512)
 *   phase1_dh = 2,14  phase2_encryption = ... phase2_integrity = ... phase2_dh = 2
 *   phase1_lifetime = 28800  phase2_lifetime = 3600   (defaults and limits:
 *                                      model/tunnel_limits.h)
 *   rekey_margin = 270  rekey_fuzz = 100  replay_window = 1024
 *   dpd_delay = 10  dpd_timeout = 30  dpd_action = clear|none|restart
 *   startup_action = add|start
 *   force_encap = no            # yes: ESP in UDP even without a NAT (a faked
 *                               # NAT-D, as strongSwan's encap = yes)
 *   local_cidr = 0.0.0.0/0  remote_cidr = 0.0.0.0/0   # selector bounds
 *   tcp_mss = 1379  outer_mtu = 1500
 *   test_short_timers = yes     # TEST ONLY: lifetimes >= 10 s, DPD >= 3 s
 *
 * stdout: "tunnel <id> UP" / "tunnel <id> DOWN <cause>" at every change;
 * on SIGUSR1 a status block per tunnel ("status ..." and "  child ..."
 * lines), the endpoint's "counters gso_sends=N gro_receives=N gro_datagrams=N
 * tun_tso_reads=N tun_tso_segments=N tun_gro_writes=N tun_gro_segments=N", then "end". SIGUSR2 rekeys every tunnel's CHILD SAs now,
 * SIGRTMIN its IKEv2 SA.
 * SIGHUP re-reads the file and reconciles (add,
 * update, remove by id). SIGTERM/SIGINT stop cleanly (Delete payloads).
 */
#include "vpn/endpoint/endpoint.h"

#include "base/base.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPECS 64

struct driver_config {
	struct vpn_endpoint_config ep;
	struct vpn_tunnel_spec specs[MAX_SPECS];
	size_t n;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_status(void *arg, const char *id, bool up, const char *cause, int64_t since)
{
	(void)arg;
	(void)since;
	pthread_mutex_lock(&out_lock);
	if (up)
		printf("tunnel %s UP\n", id);
	else
		printf("tunnel %s DOWN %s\n", id, cause);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static int parse_u32(const char *v, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || *end || end == v || x > UINT32_MAX)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int parse_encr(const char *v, enum ike_encr *e)
{
	static const struct { const char *n; enum ike_encr e; } t[] = {
		{ "AES128", IKE_ENCR_AES128_CBC }, { "AES256", IKE_ENCR_AES256_CBC },
		{ "AES128-GCM-16", IKE_ENCR_AES128_GCM16 }, { "AES256-GCM-16", IKE_ENCR_AES256_GCM16 },
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++)
		if (strcasecmp(v, t[i].n) == 0) {
			*e = t[i].e;
			return 0;
		}
	return -1;
}

static int parse_integ(const char *v, enum ike_integ *e)
{
	static const struct { const char *n; enum ike_integ e; } t[] = {
		{ "SHA1", IKE_INTEG_SHA1 }, { "SHA2-256", IKE_INTEG_SHA256 },
		{ "SHA2-384", IKE_INTEG_SHA384 }, { "SHA2-512", IKE_INTEG_SHA512 },
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++)
		if (strcasecmp(v, t[i].n) == 0) {
			*e = t[i].e;
			return 0;
		}
	return -1;
}

/* Comma-separated list into arr (n items); kind 0 encr, 1 integ, 2 dh. */
static int parse_list(char *v, int kind, void *arr, size_t *n)
{
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tok = trim(tok);
		if (*n >= IKE_MAX_ALGS)
			return -1;
		int rc;
		if (kind == 0) {
			rc = parse_encr(tok, &((enum ike_encr *)arr)[*n]);
		} else if (kind == 1) {
			rc = parse_integ(tok, &((enum ike_integ *)arr)[*n]);
		} else {
			uint32_t g;
			rc = parse_u32(tok, &g);
			if (rc == 0 && g > 0xffff)
				rc = -1;
			((uint16_t *)arr)[*n] = (uint16_t)g;
		}
		if (rc < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

static int tunnel_key(struct vpn_tunnel_spec *s, const char *k, char *v)
{
	struct ike_tunnel_config *c = &s->ike;
	struct vpn_cidr cidr;
	if (!strcmp(k, "id"))
		return snprintf(s->id, sizeof(s->id), "%s", v) < (int)sizeof(s->id) ? 0 : -1;
	if (!strcmp(k, "local"))
		return vpn_parse_ipv4(v, &s->local_ip);
	if (!strcmp(k, "remote"))
		return vpn_parse_ipv4(v, &s->remote_ip);
	if (!strcmp(k, "psk")) {
		size_t n = strlen(v);
		if (!n || n > sizeof(s->psk))
			return -1;
		memcpy(s->psk, v, n);
		s->psk_len = n;
		return 0;
	}
	if (!strcmp(k, "inside"))
		return vpn_parse_cidr(v, &s->inside);
	if (!strcmp(k, "route")) {
		if (s->n_routes >= VPN_MAX_ROUTES || vpn_parse_cidr(v, &cidr) < 0)
			return -1;
		s->routes[s->n_routes++] = cidr;
		return 0;
	}
	if (!strcmp(k, "phase1_encryption")) {
		if (parse_list(v, 0, c->p1_encr, &c->p1_encr_n) < 0)
			return -1;
		/* AES-GCM for the IKE SA goes to the IKEv2-only list */
		size_t n = 0;
		c->p1_aead_n = 0;
		for (size_t i = 0; i < c->p1_encr_n; i++)
			if (c->p1_encr[i] == IKE_ENCR_AES128_GCM16 || c->p1_encr[i] == IKE_ENCR_AES256_GCM16)
				c->p1_aead[c->p1_aead_n++] = c->p1_encr[i];
			else
				c->p1_encr[n++] = c->p1_encr[i];
		c->p1_encr_n = n;
		return 0;
	}
	if (!strcmp(k, "ike_versions")) {
		c->versions = 0;
		char *save = NULL;
		for (char *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (!strcmp(tok, "ikev1"))
				c->versions |= IKE_V1;
			else if (!strcmp(tok, "ikev2"))
				c->versions |= IKE_V2;
			else
				return -1;
		}
		return c->versions ? 0 : -1;
	}
	if (!strcmp(k, "phase1_integrity"))
		return parse_list(v, 1, c->p1_integ, &c->p1_integ_n);
	if (!strcmp(k, "phase1_dh"))
		return parse_list(v, 2, c->p1_dh, &c->p1_dh_n);
	if (!strcmp(k, "phase2_encryption"))
		return parse_list(v, 0, c->p2_encr, &c->p2_encr_n);
	if (!strcmp(k, "phase2_integrity"))
		return parse_list(v, 1, c->p2_integ, &c->p2_integ_n);
	if (!strcmp(k, "phase2_dh"))
		return parse_list(v, 2, c->p2_dh, &c->p2_dh_n);
	if (!strcmp(k, "phase1_lifetime"))
		return parse_u32(v, &c->p1_lifetime_s);
	if (!strcmp(k, "phase2_lifetime"))
		return parse_u32(v, &c->p2_lifetime_s);
	if (!strcmp(k, "rekey_margin"))
		return parse_u32(v, &c->rekey_margin_s);
	if (!strcmp(k, "rekey_fuzz"))
		return parse_u32(v, &c->rekey_fuzz_pct);
	if (!strcmp(k, "replay_window"))
		return parse_u32(v, &c->replay_window);
	if (!strcmp(k, "dpd_delay"))
		return parse_u32(v, &c->dpd_delay_s);
	if (!strcmp(k, "dpd_timeout"))
		return parse_u32(v, &c->dpd_timeout_s);
	if (!strcmp(k, "dpd_action")) {
		if (!strcmp(v, "clear"))
			c->dpd_action = IKE_DPD_CLEAR;
		else if (!strcmp(v, "none"))
			c->dpd_action = IKE_DPD_NONE;
		else if (!strcmp(v, "restart"))
			c->dpd_action = IKE_DPD_RESTART;
		else
			return -1;
		return 0;
	}
	if (!strcmp(k, "force_encap")) {
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return -1;
		c->force_encap = !strcmp(v, "yes");
		return 0;
	}
	if (!strcmp(k, "startup_action")) {
		if (!strcmp(v, "add"))
			c->startup = IKE_STARTUP_ADD;
		else if (!strcmp(v, "start"))
			c->startup = IKE_STARTUP_START;
		else
			return -1;
		return 0;
	}
	if (!strcmp(k, "local_cidr") || !strcmp(k, "remote_cidr")) {
		if (vpn_parse_cidr(v, &cidr) < 0)
			return -1;
		struct ike_subnet *sn = k[0] == 'l' ? &c->local_ts : &c->remote_ts;
		sn->addr = cidr.addr;
		sn->prefix_len = cidr.prefix_len;
		return 0;
	}
	if (!strcmp(k, "tcp_mss")) {
		uint32_t x;
		if (parse_u32(v, &x) < 0 || x > 0xffff)
			return -1;
		s->tcp_mss = (uint16_t)x;
		return 0;
	}
	if (!strcmp(k, "outer_mtu"))
		return parse_u32(v, &s->outer_mtu);
	if (!strcmp(k, "test_short_timers")) {
		s->test_short_timers = !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true");
		return 0;
	}
	return -1;
}

static int global_key(struct driver_config *dc, const char *k, const char *v)
{
	if (!strcmp(k, "tun"))
		return snprintf(dc->ep.tun_name, sizeof(dc->ep.tun_name), "%s", v) <
		       (int)sizeof(dc->ep.tun_name) ? 0 : -1;
	if (!strcmp(k, "tun_mtu"))
		return parse_u32(v, &dc->ep.tun_mtu);
	if (!strcmp(k, "rcvbuf")) {
		uint32_t x;
		if (parse_u32(v, &x) < 0 || x > 1u << 30)
			return -1;
		dc->ep.rcvbuf_bytes = (int)x;
		return 0;
	}
	if (!strcmp(k, "tun_offload")) {
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return -1;
		dc->ep.tun_offload = !strcmp(v, "yes");
		return 0;
	}
	if (!strcmp(k, "udp_gro")) {
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return -1;
		dc->ep.no_udp_gro = !strcmp(v, "no");
		return 0;
	}
	if (!strcmp(k, "log_level")) {
		static const char *const names[] = { "debug", "info", "warn", "error" };
		for (size_t i = 0; i < ARRAY_LEN(names); i++)
			if (!strcmp(v, names[i])) {
				log_set_level((enum log_level)i);
				return 0;
			}
	}
	return -1;
}

static int config_read(const char *path, struct driver_config *dc)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "vpn-endpoint-harness: %s: %s\n", path, strerror(errno));
		return -1;
	}
	memset(dc, 0, sizeof(*dc));
	char line[512];
	int lineno = 0, rc = 0;
	struct vpn_tunnel_spec *cur = NULL;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		if (!strcmp(s, "[tunnel]")) {
			if (dc->n >= MAX_SPECS) {
				rc = -1;
				break;
			}
			cur = &dc->specs[dc->n++];
			vpn_tunnel_spec_defaults(cur);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = -1;
			break;
		}
		*eq = 0;
		char *k = trim(s), *v = trim(eq + 1);
		rc = cur ? tunnel_key(cur, k, v) : global_key(dc, k, v);
		if (rc < 0)
			/* the key's name only: the value may be the PSK */
			fprintf(stderr, "vpn-endpoint-harness: %s:%d: bad value for '%s'\n", path,
				lineno, k);
	}
	if (rc < 0 && dc->n && !cur)
		fprintf(stderr, "vpn-endpoint-harness: %s:%d: syntax error\n", path, lineno);
	secret_wipe(line, sizeof(line));
	fclose(f);
	if (rc == 0 && !dc->ep.tun_name[0]) {
		fprintf(stderr, "vpn-endpoint-harness: %s: 'tun' is required\n", path);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < dc->n; i++) {
		const char *why = vpn_tunnel_spec_check(&dc->specs[i]);
		if (why) {
			fprintf(stderr, "vpn-endpoint-harness: tunnel %s: %s\n", dc->specs[i].id, why);
			rc = -1;
		}
	}
	return rc;
}

static void ts_str(const struct ike_ts *ts, char *buf, size_t len)
{
	char a[16], b[16];
	vpn_format_ipv4(ts->first, a, sizeof(a));
	vpn_format_ipv4(ts->last, b, sizeof(b));
	snprintf(buf, len, "%s-%s", a, b);
}

static void print_status(struct vpn_endpoint *ep)
{
	static char ids[VPN_MAX_TUNNELS][VPN_TUNNEL_ID_MAX];
	size_t n = vpn_endpoint_tunnel_ids(ep, ids, VPN_MAX_TUNNELS);
	pthread_mutex_lock(&out_lock);
	for (size_t i = 0; i < n && i < VPN_MAX_TUNNELS; i++) {
		struct vpn_tunnel_status s;
		if (!vpn_endpoint_tunnel_status(ep, ids[i], &s))
			continue;
		char l[16], r[16], since[32];
		vpn_format_ipv4(s.local_ip, l, sizeof(l));
		vpn_format_ipv4(s.remote_ip, r, sizeof(r));
		time_iso8601(s.since_unix, since, sizeof(since));
		printf("status %s %s since=%s local=%s remote=%s:%u cause=\"%s\" ike_rx=%llu "
		       "ike_tx=%llu retransmits=%llu p1=%llu p2=%llu dpd_sent=%llu "
		       "dpd_timeouts=%llu auth_failures=%llu proposal_mismatches=%llu ike=%u "
		       "ikev2_sa=%s ikev2_sas=%u ikev2_nat=%d",
		       s.id, s.up ? "UP" : "DOWN", since, l, r, s.remote_port, s.cause,
		       (unsigned long long)s.ike.rx_packets, (unsigned long long)s.ike.tx_packets,
		       (unsigned long long)s.ike.retransmits,
		       (unsigned long long)s.ike.p1_established,
		       (unsigned long long)s.ike.p2_established,
		       (unsigned long long)s.ike.dpd_sent, (unsigned long long)s.ike.dpd_timeouts,
		       (unsigned long long)s.ike.auth_failures,
		       (unsigned long long)s.ike.proposal_mismatches, s.ike_version,
		       ikev2_sa_state_name(s.ikev2.state), s.ikev2.n_sas,
		       s.ikev2.nat_local || s.ikev2.nat_peer);
		for (int d = 0; d < VPN_DROP_MAX; d++)
			if (s.drops[d])
				printf(" drop[%s]=%llu", vpn_drop_name((enum vpn_drop)d),
				       (unsigned long long)s.drops[d]);
		if (s.for_other_tunnel)
			printf(" for_other_tunnel=%llu", (unsigned long long)s.for_other_tunnel);
		printf("\n");
		for (size_t c = 0; c < s.n_children; c++) {
			const struct vpn_child_status *cs = &s.children[c];
			char tl[40], tr[40];
			ts_str(&cs->ts_local, tl, sizeof(tl));
			ts_str(&cs->ts_remote, tr, sizeof(tr));
			printf("  child spi_in=%08x spi_out=%08x transform=\"%s\" local_ts=%s "
			       "remote_ts=%s encap=%s:%u pkts_in=%llu bytes_in=%llu pkts_out=%llu "
			       "bytes_out=%llu replay_window=%u soft=%us hard=%us%s",
			       cs->spi_in, cs->spi_out, cs->transform, tl, tr,
			       cs->udp_encap ? "udp" : "none", cs->encap_remote_port,
			       (unsigned long long)cs->pkts_in, (unsigned long long)cs->bytes_in,
			       (unsigned long long)cs->pkts_out, (unsigned long long)cs->bytes_out,
			       cs->replay_window, cs->soft_remaining_s, cs->hard_remaining_s,
			       cs->lingering ? " lingering" : "");
			for (int d = 1; d < ESP_STATUS_COUNT; d++) {
				if (cs->drops_in[d])
					printf(" in_drop[%s]=%llu", esp_status_name((enum esp_status)d),
					       (unsigned long long)cs->drops_in[d]);
				if (cs->drops_out[d])
					printf(" out_drop[%s]=%llu",
					       esp_status_name((enum esp_status)d),
					       (unsigned long long)cs->drops_out[d]);
			}
			printf("\n");
		}
	}
	struct vpn_endpoint_counters ec;
	vpn_endpoint_counters(ep, &ec);
	printf("counters gso_sends=%llu gro_receives=%llu gro_datagrams=%llu tun_tso_reads=%llu "
	       "tun_tso_segments=%llu tun_gro_writes=%llu tun_gro_segments=%llu\n",
	       (unsigned long long)ec.gso_sends, (unsigned long long)ec.gro_receives,
	       (unsigned long long)ec.gro_datagrams, (unsigned long long)ec.tun_tso_reads,
	       (unsigned long long)ec.tun_tso_segments, (unsigned long long)ec.tun_gro_writes,
	       (unsigned long long)ec.tun_gro_segments);
	printf("end\n");
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void reload(struct vpn_endpoint *ep, const char *path, struct driver_config *cur)
{
	static struct driver_config next;
	if (config_read(path, &next) < 0) {
		log_error("driver", "reload of %s refused; keeping the running tunnels", path);
		return;
	}
	for (size_t i = 0; i < cur->n; i++) {
		bool keep = false;
		for (size_t j = 0; j < next.n; j++)
			keep |= strcmp(cur->specs[i].id, next.specs[j].id) == 0;
		if (!keep)
			(void)vpn_endpoint_remove_tunnel(ep, cur->specs[i].id);
	}
	for (size_t j = 0; j < next.n; j++) {
		bool exists = false;
		for (size_t i = 0; i < cur->n; i++)
			exists |= strcmp(cur->specs[i].id, next.specs[j].id) == 0;
		if (exists)
			(void)vpn_endpoint_update_tunnel(ep, &next.specs[j]);
		else
			(void)vpn_endpoint_add_tunnel(ep, &next.specs[j]);
	}
	secret_wipe(cur, sizeof(*cur));
	*cur = next;
	secret_wipe(&next, sizeof(next));
	log_info("driver", "reloaded %s: %zu tunnel(s)", path, cur->n);
}

int main(int argc, char **argv)
{
	static struct driver_config dc;
	if (argc != 2) {
		fprintf(stderr, "usage: vpn-endpoint-harness CONFIG\n");
		return 2;
	}
	if (config_read(argv[1], &dc) < 0)
		return 2;
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	sigaddset(&sigs, SIGRTMIN);
	/* blocked before any thread exists, so only sigwait sees them */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	dc.ep.on_status = on_status;
	struct vpn_endpoint *ep = vpn_endpoint_new(&dc.ep);
	if (!ep)
		return 1;
	for (size_t i = 0; i < dc.n; i++)
		if (vpn_endpoint_add_tunnel(ep, &dc.specs[i]) < 0) {
			vpn_endpoint_free(ep);
			return 1;
		}
	if (vpn_endpoint_start(ep) < 0) {
		vpn_endpoint_free(ep);
		return 1;
	}
	pthread_mutex_lock(&out_lock);
	printf("ready %s\n", dc.ep.tun_name);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			print_status(ep);
		} else if (sig == SIGHUP) {
			reload(ep, argv[1], &dc);
		} else if (sig == SIGUSR2) {
			static char ids[VPN_MAX_TUNNELS][VPN_TUNNEL_ID_MAX];
			size_t n = vpn_endpoint_tunnel_ids(ep, ids, VPN_MAX_TUNNELS);
			for (size_t i = 0; i < n && i < VPN_MAX_TUNNELS; i++)
				vpn_endpoint_rekey_tunnel(ep, ids[i], VPN_REKEY_CHILD);
		} else if (sig == SIGRTMIN) {
			static char ids[VPN_MAX_TUNNELS][VPN_TUNNEL_ID_MAX];
			size_t n = vpn_endpoint_tunnel_ids(ep, ids, VPN_MAX_TUNNELS);
			for (size_t i = 0; i < n && i < VPN_MAX_TUNNELS; i++)
				vpn_endpoint_rekey_tunnel(ep, ids[i], VPN_REKEY_IKE);
		} else {
			log_info("driver", "signal %d: stopping", sig);
			break;
		}
	}
	vpn_endpoint_free(ep);
	secret_wipe(&dc, sizeof(dc));
	pthread_mutex_lock(&out_lock);
	printf("stopped\n");
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	return 0;
}
