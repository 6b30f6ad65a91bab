/*
 * engine_bgp_side — bgp0 opened once (again with backoff while it
 * cannot be) and the dynamic connections' inside addresses on it
 * (engine_bgp_side.h). Small tables, walked whole: a vpcd
 * has tens of connections, and this runs only when one changes.
 */
#include "engine/engine_bgp_side.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "bgp/bgp_run.h"
#include "bgp/bgp_tun.h"
#include "priv/priv.h"

#define BGP_SIDE_LOG	"engine"
#define BGP_SIDE_ERR_MAX 256

enum {
	SIDE_NEVER = -2,		/* cannot ever run here (no root): not retried */
	SIDE_FAILED = -1,		/* could not be opened: retried at s_retry_ms */
	SIDE_CLOSED = 0,		/* not needed yet */
	SIDE_OPEN = 1,
};

/* One connection's /30s on bgp0. */
struct side_conn {
	char sc_id[ENGINE_VPN_ID_MAX];
	uint32_t sc_nets[ENGINE_VPN_TUNNELS];
	size_t sc_n;
};

/* One /30 on bgp0 and how many connections have it. */
struct side_addr {
	uint32_t sa_net;
	unsigned sa_refs;
};

struct engine_bgp_side {
	struct vpn_endpoint *s_ep;
	int s_state;			/* SIDE_* */
	uint64_t s_retry_ms;		/* SIDE_FAILED: try again then (monotonic) */
	uint64_t s_retry_delay_ms;	/* the wait after the next failure */
	bool s_in_process;		/* made here, not by priv/'s helper */
	char s_netns[BGP_RUN_NETNS_MAX];
	char s_err[BGP_SIDE_ERR_MAX];
	struct side_conn *s_conns;
	size_t s_nconns, s_capconns;
	struct side_addr *s_addrs;
	size_t s_naddrs, s_capaddrs;
};

static void *grow(void *p, size_t *cap, size_t size)
{
	*cap = *cap ? *cap * 2 : 8;
	p = realloc(p, *cap * size);
	if (!p)
		abort();
	return p;
}

struct engine_bgp_side *engine_bgp_side_new(struct vpn_endpoint *ep)
{
	struct engine_bgp_side *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->s_ep = ep;
	return s;
}

void engine_bgp_side_free(struct engine_bgp_side *s)
{
	if (!s)
		return;
	if (s->s_in_process && s->s_netns[0] && bgp_run_netns_delete(s->s_netns) == 0)
		log_info(BGP_SIDE_LOG, "BGP side: namespace %s deleted", s->s_netns);
	free(s->s_conns);
	free(s->s_addrs);
	free(s);
}

const char *engine_bgp_side_error(const struct engine_bgp_side *s)
{
	return s ? s->s_err : "";
}

const char *engine_bgp_side_netns(const struct engine_bgp_side *s)
{
	return s && s->s_state == SIDE_OPEN ? s->s_netns : "";
}

/* bgp0 into the endpoint: once it works; after a failure, only when
 * retried (engine_bgp_side_retry). */
static int side_open(struct engine_bgp_side *s, uint64_t now)
{
	if (s->s_state != SIDE_CLOSED)
		return s->s_state == SIDE_OPEN ? 0 : -1;
	char why[BGP_SIDE_ERR_MAX] = "";
	int fd;
	bool never = false;
	if (priv_remote()) {
		fd = priv_bgp_tun(s->s_netns, why, sizeof(why));
	} else if (geteuid() == 0) {
		bgp_run_netns_name(getpid(), s->s_netns);
		fd = bgp_tun_create(s->s_netns, why, sizeof(why));
		s->s_in_process = true;
	} else {
		fd = -1;
		never = true;
		snprintf(why, sizeof(why), "vpcd runs without root: BIRD's namespace and its TUN cannot be made");
	}
	if (fd >= 0 && vpn_endpoint_set_bgp_tun(s->s_ep, fd) < 0) {
		fd = -1;	/* the endpoint closed it */
		snprintf(why, sizeof(why), "the endpoint cannot take bgp0");
	}
	if (fd < 0) {
		snprintf(s->s_err, sizeof(s->s_err), "BGP unavailable: %.200s", why[0] ? why : "bgp0 cannot be opened");
		s->s_state = never ? SIDE_NEVER : SIDE_FAILED;
		if (never) {
			log_error(BGP_SIDE_LOG, "%s; dynamic connections' tunnels run without BGP", s->s_err);
			return -1;
		}
		uint64_t d = s->s_retry_delay_ms ? s->s_retry_delay_ms : ENGINE_BGP_SIDE_RETRY_MIN_MS;
		s->s_retry_ms = now + d;
		s->s_retry_delay_ms = d * 2 < ENGINE_BGP_SIDE_RETRY_MAX_MS ? d * 2 : ENGINE_BGP_SIDE_RETRY_MAX_MS;
		log_error(BGP_SIDE_LOG, "%s; dynamic connections' tunnels run without BGP; trying again in %llu ms",
			  s->s_err, (unsigned long long)d);
		return -1;
	}
	s->s_state = SIDE_OPEN;
	s->s_err[0] = '\0';
	s->s_retry_delay_ms = 0;
	log_info(BGP_SIDE_LOG, "BGP side: %s in namespace %s, on the VPN endpoint", BGP_TUN_NAME, s->s_netns);
	return 0;
}

/* Adds (add) or deletes net's .1 on bgp0: 0 or -1 (logged). Nothing while
 * bgp0 is not open: the /30s are added when it opens (side_reopened). */
static int addr_change(struct engine_bgp_side *s, bool add, uint32_t net)
{
	if (s->s_state != SIDE_OPEN)
		return 0;
	char why[BGP_SIDE_ERR_MAX] = "";
	uint32_t ours = net + 1;
	int rc = priv_remote() ? priv_bgp_addr(add, ours, BGP_TUN_PREFIX, why, sizeof(why))
			       : bgp_tun_addr(s->s_netns, add, ours, why, sizeof(why));
	char ip[IP4_STR_MAX];
	ip4_format(ours, ip);
	if (rc < 0) {
		log_error(BGP_SIDE_LOG, "BGP side: %s/%d: %s", ip, BGP_TUN_PREFIX, why[0] ? why : strerror(errno));
		return -1;
	}
	log_info(BGP_SIDE_LOG, "BGP side: %s/%d %s %s", ip, BGP_TUN_PREFIX, add ? "added to" : "deleted from",
		 BGP_TUN_NAME);
	return 0;
}

static struct side_addr *addr_find(struct engine_bgp_side *s, uint32_t net)
{
	for (size_t i = 0; i < s->s_naddrs; i++)
		if (s->s_addrs[i].sa_net == net)
			return &s->s_addrs[i];
	return NULL;
}

static int addr_ref(struct engine_bgp_side *s, uint32_t net)
{
	struct side_addr *a = addr_find(s, net);
	if (a) {
		a->sa_refs++;
		return 0;
	}
	if (s->s_naddrs == s->s_capaddrs)
		s->s_addrs = grow(s->s_addrs, &s->s_capaddrs, sizeof(*s->s_addrs));
	s->s_addrs[s->s_naddrs++] = (struct side_addr){ net, 1 };
	return addr_change(s, true, net);
}

static int addr_unref(struct engine_bgp_side *s, uint32_t net)
{
	struct side_addr *a = addr_find(s, net);
	if (!a || --a->sa_refs)
		return 0;
	*a = s->s_addrs[--s->s_naddrs];
	return addr_change(s, false, net);
}

static bool net_in(uint32_t net, const uint32_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == net)
			return true;
	return false;
}

int engine_bgp_side_set(struct engine_bgp_side *s, const char *conn_id, const uint32_t *nets, size_t n)
{
	struct side_conn *c = NULL;
	if (!s)
		return 0;
	for (size_t i = 0; i < s->s_nconns && !c; i++)
		if (strcmp(s->s_conns[i].sc_id, conn_id) == 0)
			c = &s->s_conns[i];
	if (n > ENGINE_VPN_TUNNELS)
		n = ENGINE_VPN_TUNNELS;
	/* each /30 once, and only the kind bgp0 may carry */
	uint32_t want[ENGINE_VPN_TUNNELS];
	size_t nwant = 0;
	for (size_t i = 0; i < n; i++)
		if (bgp_tun_addr_ok(nets[i] + 1, BGP_TUN_PREFIX) && !net_in(nets[i], want, nwant))
			want[nwant++] = nets[i];
	if (!c && !nwant)
		return 0;
	int rc = nwant && side_open(s, time_mono_ms()) < 0 ? -1 : 0;
	if (!c) {
		if (s->s_nconns == s->s_capconns)
			s->s_conns = grow(s->s_conns, &s->s_capconns, sizeof(*s->s_conns));
		c = &s->s_conns[s->s_nconns++];
		memset(c, 0, sizeof(*c));
		snprintf(c->sc_id, sizeof(c->sc_id), "%s", conn_id);
	}
	/* new ones first: a /30 moving between connections never leaves bgp0 */
	for (size_t i = 0; i < nwant; i++)
		if (!net_in(want[i], c->sc_nets, c->sc_n) && addr_ref(s, want[i]) < 0)
			rc = -1;
	for (size_t i = 0; i < c->sc_n; i++)
		if (!net_in(c->sc_nets[i], want, nwant) && addr_unref(s, c->sc_nets[i]) < 0)
			rc = -1;
	memcpy(c->sc_nets, want, nwant * sizeof(*want));
	c->sc_n = nwant;
	if (!nwant)
		*c = s->s_conns[--s->s_nconns];
	return rc;
}

bool engine_bgp_side_retry(struct engine_bgp_side *s, uint64_t now_ms)
{
	if (!s || s->s_state != SIDE_FAILED || !s->s_naddrs || now_ms < s->s_retry_ms)
		return false;
	s->s_state = SIDE_CLOSED;
	if (side_open(s, now_ms) < 0)
		return false;
	for (size_t i = 0; i < s->s_naddrs; i++)
		(void)addr_change(s, true, s->s_addrs[i].sa_net);
	return true;
}

int engine_bgp_side_plan(struct engine_bgp_side *s, const struct engine_vpn_plan *plan)
{
	uint32_t nets[ENGINE_VPN_TUNNELS];
	size_t n = 0;
	for (int i = 0; i < ENGINE_VPN_TUNNELS; i++) {
		const struct vpn_tunnel_spec *t = &plan->vp_tunnel[i];
		if (t->bgp && t->inside.addr && t->inside.prefix_len == BGP_TUN_PREFIX)
			nets[n++] = t->inside.addr & ~3u;
	}
	return engine_bgp_side_set(s, plan->vp_id, nets, n);
}
