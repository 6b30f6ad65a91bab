/*
 * engine_bird.c — BIRD run by the engine (engine_bird.h): its
 * configuration file, its process through priv/'s helper, its control
 * socket, and what it says turned into _Bgp and the tunnels' learned
 * prefixes (engine_bgp.h does the turning). Engine thread only.
 *
 * Never logs a doc; the trimmed copies it reads hold pre-shared keys, of
 * which nothing is copied here.
 */
#include "engine/engine_bird.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "bgp/bgp.h"
#include "bgp/bgp_run.h"
#include "engine/engine_bgp.h"
#include "engine/engine_vpn.h"
#include "priv/priv.h"

#define BIRD_LOG		"bgp"
#define BIRD_WHY_MAX		256
#define BIRD_ANSWER_GRACE_MS	5000	/* a BIRD just started may not answer yet */
#define BIRD_ROUTES_PER_CONN	(4 * BGP_IMPORT_LIMIT + 16)	/* two sessions, a best and an alternative each */

/* One dynamic connection. */
struct bird_conn {
	char bc_id[ENGINE_VPN_ID_MAX];
	bool bc_described;		/* bc_desc is good */
	struct bgp_conn_desc bc_desc;	/* cd_export set at each use (the array moves) */
	struct bgp_prefix bc_export[ENGINE_BGP_EXPORT_MAX];
	char bc_why[BIRD_WHY_MAX];	/* why BGP cannot run for it ("": it can) */
	bool bc_in_conf;		/* in the bird.conf last written */
	struct doc *bc_view;		/* Options.TunnelOptions[].OutsideIpAddress only */
	char *bc_sig;			/* JSON of the _Bgp last posted */
	struct bgp_prefix bc_learned[BGP_TUNNELS][VPN_MAX_ROUTES];
	size_t bc_nlearned[BGP_TUNNELS];
	struct engine_bgp_limit bc_limit[BGP_TUNNELS];
};

struct engine_bird {
	struct engine_bird_hooks b_hooks;
	char b_dir[256];		/* DATA/bgp */
	char b_conf[300], b_ctl[300];
	char b_netns[BGP_RUN_NETNS_MAX];
	bool b_available;		/* privilege-separated: the helper can start BIRD */

	struct bird_conn *b_conns;
	size_t b_nconns, b_capconns;
	bool b_dirty;			/* the connections changed: rewrite, reconfigure */
	uint64_t b_conf_retry_ms;	/* bird.conf could not be written: not before then */
	char *b_conf_text;		/* as last written */
	bool b_configure_due;		/* written while BIRD ran: `configure` it */

	int b_pid;			/* BIRD's, 0: not running */
	int b_pidfd;
	uint64_t b_started_ms;
	unsigned b_exits;		/* consecutive exits or failed starts */
	uint64_t b_restart_at_ms;
	char b_error[BIRD_WHY_MAX];	/* why BIRD does not run now ("": it does, or need not) */
	bool b_answer_logged;

	uint64_t b_poll_at_ms;
	/* the last answers, for connections that change between polls */
	struct bgp_session *b_sessions;
	size_t b_nsessions;
	struct bgp_route *b_routes;
	size_t b_nroutes;
};

static void *grow(void *p, size_t *cap, size_t size)
{
	*cap = *cap ? *cap * 2 : 8;
	p = realloc(p, *cap * size);
	if (!p)
		abort();
	return p;
}

struct engine_bird *engine_bird_new(const char *data_dir, const struct engine_bird_hooks *hooks)
{
	struct engine_bird *b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->b_hooks = *hooks;
	b->b_pidfd = -1;
	b->b_available = priv_remote();
	snprintf(b->b_dir, sizeof(b->b_dir), "%s/%s", data_dir, ENGINE_BIRD_SUBDIR);
	snprintf(b->b_conf, sizeof(b->b_conf), "%s/%s", b->b_dir, BGP_RUN_CONF);
	snprintf(b->b_ctl, sizeof(b->b_ctl), "%s/%s", b->b_dir, BGP_RUN_CTL);
	bgp_run_netns_name(getpid(), b->b_netns);
	b->b_poll_at_ms = UINT64_MAX;
	return b;
}

static struct bird_conn *conn_find(struct engine_bird *b, const char *id)
{
	for (size_t i = 0; i < b->b_nconns; i++)
		if (strcmp(b->b_conns[i].bc_id, id) == 0)
			return &b->b_conns[i];
	return NULL;
}

static void conn_free(struct bird_conn *c)
{
	doc_free(c->bc_view);
	free(c->bc_sig);
}

/* The tunnels' outside addresses, and nothing else of the doc. */
static struct doc *conn_view(const struct doc *vpn)
{
	struct doc *v = doc_obj();
	struct doc *tl = doc_get_list(doc_get_obj(v, "Options"), "TunnelOptions");
	doc_foreach(t, doc_get(doc_get(vpn, "Options"), "TunnelOptions")) {
		struct doc *o = doc_push(tl, doc_obj());
		const char *ip = doc_get_str(t, "OutsideIpAddress");
		if (ip)
			doc_set_str(o, "OutsideIpAddress", ip);
	}
	return v;
}

void engine_bird_conn_set(struct engine_bird *b, const char *vpn_id, const struct doc *vpn)
{
	struct bird_conn *c = conn_find(b, vpn_id);
	struct bgp_conn_desc desc;
	char why[BIRD_WHY_MAX] = "";
	int kind = vpn && !engine_vpn_is_deleted(vpn) ? engine_bgp_conn_desc(vpn, &desc, why, sizeof(why)) : 0;

	if (kind == 0) {
		if (!c)
			return;
		log_info(BIRD_LOG, "%s: no longer a dynamic connection: its BGP sessions go", vpn_id);
		bool had_routes = c->bc_nlearned[0] || c->bc_nlearned[1];
		if (c->bc_sig && vpn && !engine_vpn_is_deleted(vpn))
			b->b_hooks.bh_post(b->b_hooks.bh_arg, vpn_id, NULL);
		conn_free(c);
		*c = b->b_conns[--b->b_nconns];
		if (had_routes)
			b->b_hooks.bh_routes(b->b_hooks.bh_arg, vpn_id);
		b->b_dirty = true;
		b->b_poll_at_ms = 0;
		return;
	}
	if (!c) {
		if (b->b_nconns == b->b_capconns)
			b->b_conns = grow(b->b_conns, &b->b_capconns, sizeof(*b->b_conns));
		c = &b->b_conns[b->b_nconns++];
		memset(c, 0, sizeof(*c));
		snprintf(c->bc_id, sizeof(c->bc_id), "%s", vpn_id);
		log_info(BIRD_LOG, "%s: dynamic connection (BGP)", vpn_id);
	}
	c->bc_described = kind > 0;
	snprintf(c->bc_why, sizeof(c->bc_why), "%s", kind > 0 ? "" : why);
	if (kind > 0) {
		c->bc_desc = desc;
		c->bc_desc.cd_nexport = engine_bgp_exports(vpn, c->bc_export, ENGINE_BGP_EXPORT_MAX);
		c->bc_desc.cd_export = NULL;
	}
	doc_free(c->bc_view);
	c->bc_view = conn_view(vpn);
	b->b_dirty = true;
	b->b_conf_retry_ms = 0;
	b->b_poll_at_ms = 0;
}

/* ---- bird.conf ----------------------------------------------------------- */

/* The configuration of every connection that can be written; those that
 * cannot (bgp_conf_write refuses them with the others) get its reason. */
static void conf_build(struct engine_bird *b, struct strbuf *out)
{
	struct bgp_conn_desc *list = calloc(b->b_nconns ? b->b_nconns : 1, sizeof(*list));
	struct bird_conn **who = calloc(b->b_nconns ? b->b_nconns : 1, sizeof(*who));
	if (!list || !who)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < b->b_nconns; i++) {
		struct bird_conn *c = &b->b_conns[i];
		c->bc_in_conf = false;
		if (!c->bc_described)
			continue;
		list[n] = c->bc_desc;
		list[n].cd_export = c->bc_export;
		struct bgp_conf_desc d = { list, n + 1, NULL };
		struct strbuf trial = STRBUF_INIT;
		char err[BIRD_WHY_MAX];
		if (bgp_conf_write(&d, &trial, err, sizeof(err)) < 0) {
			snprintf(c->bc_why, sizeof(c->bc_why), "BGP: %.200s", err);
			log_error(BIRD_LOG, "%s: left out of BIRD's configuration: %s", c->bc_id, err);
		} else {
			c->bc_why[0] = '\0';
			c->bc_in_conf = true;
			who[n++] = c;
		}
		sb_free(&trial);
	}
	struct bgp_conf_desc d = { list, n, NULL };	/* log stderr: the helper sends it to bird.log */
	char err[BIRD_WHY_MAX];
	if (bgp_conf_write(&d, out, err, sizeof(err)) < 0)
		log_error(BIRD_LOG, "BIRD's configuration: %s", err);	/* each was accepted: not seen */
	free(list);
	free(who);
}

static size_t conns_in_conf(const struct engine_bird *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->b_nconns; i++)
		n += b->b_conns[i].bc_in_conf;
	return n;
}

/* Rewrites bird.conf when its text changed. 0, or -1 (b_error set). */
static int conf_sync(struct engine_bird *b)
{
	struct strbuf text = STRBUF_INIT;
	conf_build(b, &text);
	if (b->b_conf_text && strcmp(b->b_conf_text, sb_str(&text)) == 0) {
		sb_free(&text);
		return 0;
	}
	if (fs_private_dir(b->b_dir) < 0 || fs_write_private(b->b_conf, text.sb_data, text.sb_len) < 0) {
		snprintf(b->b_error, sizeof(b->b_error), "vpcd cannot write bird.conf: %.160s", strerror(errno));
		log_error(BIRD_LOG, "%s", b->b_error);
		sb_free(&text);
		return -1;
	}
	free(b->b_conf_text);
	b->b_conf_text = strdup(sb_str(&text));
	if (!b->b_conf_text)
		abort();
	sb_free(&text);
	log_info(BIRD_LOG, "%s written: %zu dynamic connection(s)", b->b_conf, conns_in_conf(b));
	b->b_configure_due = b->b_pid > 0;
	return 0;
}

/* ---- the process ------------------------------------------------------------ */

static void bird_forget(struct engine_bird *b)
{
	if (b->b_pidfd >= 0)
		close(b->b_pidfd);
	b->b_pidfd = -1;
	b->b_pid = 0;
	b->b_configure_due = false;
	free(b->b_sessions);
	free(b->b_routes);
	b->b_sessions = NULL;
	b->b_routes = NULL;
	b->b_nsessions = b->b_nroutes = 0;
}

static void bird_stop(struct engine_bird *b)
{
	if (b->b_pid <= 0)
		return;
	log_info(BIRD_LOG, "stopping BIRD (pid %d)", b->b_pid);
	if (priv_bgp_stop(b->b_pid) < 0)
		log_error(BIRD_LOG, "cannot stop BIRD (pid %d): %s", b->b_pid, strerror(errno));
	bird_forget(b);
}

static void bird_start(struct engine_bird *b, uint64_t now)
{
	if (!b->b_available) {
		snprintf(b->b_error, sizeof(b->b_error), "BGP needs vpcd started as root: BIRD runs in a "
			 "network namespace of vpcd's, started by its privileged helper");
		return;
	}
	char err[BIRD_WHY_MAX] = "";
	int pid = 0, pidfd = -1;
	if (priv_bgp_start(b->b_netns, &pid, &pidfd, err, sizeof(err)) < 0) {
		b->b_exits++;
		unsigned delay = bgp_run_restart_delay_ms(b->b_exits);
		snprintf(b->b_error, sizeof(b->b_error), "%s", err);
		log_error(BIRD_LOG, "cannot start BIRD: %s (trying again in %u ms)", err, delay);
		b->b_restart_at_ms = now + delay;
		return;
	}
	b->b_pid = pid;
	b->b_pidfd = pidfd;
	b->b_started_ms = now;
	b->b_error[0] = '\0';
	b->b_configure_due = false;	/* it reads the file as it is now */
	b->b_answer_logged = false;
	b->b_poll_at_ms = now + 200;
	log_info(BIRD_LOG, "BIRD running: pid %d in namespace %s, socket %s", pid, b->b_netns, b->b_ctl);
}

/* The pidfd is readable once BIRD has exited (the helper reaps it). */
static void bird_supervise(struct engine_bird *b, uint64_t now)
{
	if (b->b_pid <= 0 || b->b_pidfd < 0)
		return;
	struct pollfd p = { .fd = b->b_pidfd, .events = POLLIN };
	if (poll(&p, 1, 0) <= 0)
		return;
	if (now - b->b_started_ms >= ENGINE_BIRD_STABLE_MS)
		b->b_exits = 0;
	b->b_exits++;
	unsigned delay = bgp_run_restart_delay_ms(b->b_exits);
	log_error(BIRD_LOG, "BIRD (pid %d) exited (see %s/%s); starting it again in %u ms (exit %u in a row)",
		  b->b_pid, b->b_dir, BGP_RUN_LOG, delay, b->b_exits);
	snprintf(b->b_error, sizeof(b->b_error), "BIRD (vpcd's BGP speaker) exited; vpcd starts it again "
		 "in %u s", (delay + 999) / 1000);
	bird_forget(b);
	b->b_restart_at_ms = now + delay;
	b->b_poll_at_ms = now;	/* report the sessions down */
}

/* One command; its reply in r. false when BIRD did not answer (logged
 * once per start, after the grace a starting BIRD gets). */
static bool bird_ask(struct engine_bird *b, const char *cmd, struct strbuf *r, uint64_t now)
{
	char err[BIRD_WHY_MAX];
	if (bgp_ctl_command(b->b_ctl, cmd, ENGINE_BIRD_CTL_MS, r, err, sizeof(err)) == 0)
		return true;
	if (now - b->b_started_ms >= BIRD_ANSWER_GRACE_MS && !b->b_answer_logged) {
		log_error(BIRD_LOG, "BIRD (pid %d) does not answer '%s': %s", b->b_pid, cmd, err);
		b->b_answer_logged = true;
	}
	return false;
}

/* A line of BIRD's reply coded 8xxx or 9xxx: an error. */
static const char *reply_error(const char *r)
{
	for (const char *l = r; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if ((l[0] == '8' || l[0] == '9') && strlen(l) > 5 && l[4] == ' ')
			return l;
	return NULL;
}

static void bird_configure(struct engine_bird *b, uint64_t now)
{
	struct strbuf r = STRBUF_INIT;
	if (!bird_ask(b, "configure", &r, now)) {
		sb_free(&r);
		return;		/* due still: the next run tries again */
	}
	b->b_configure_due = false;
	const char *e = reply_error(sb_str(&r));
	if (e)
		log_error(BIRD_LOG, "BIRD refused its new configuration: %.*s", (int)strcspn(e, "\n"), e);
	else
		log_info(BIRD_LOG, "BIRD reconfigured");
	sb_free(&r);
}

/* ---- polling ------------------------------------------------------------------ */

static bool tables_seen(const struct engine_bird *b, size_t upto, const char *vgw)
{
	for (size_t i = 0; i < upto; i++)
		if (b->b_conns[i].bc_in_conf && strcmp(b->b_conns[i].bc_desc.cd_vgw_id, vgw) == 0)
			return true;
	return false;
}

/* BIRD's sessions and every gateway table's routes into b_sessions and
 * b_routes. false when BIRD did not answer. */
static bool bird_poll(struct engine_bird *b, uint64_t now)
{
	size_t nconf = conns_in_conf(b);
	size_t smax = 2 * nconf + 8, rmax = BIRD_ROUTES_PER_CONN * (nconf ? nconf : 1);
	struct bgp_session *s = calloc(smax, sizeof(*s));
	struct bgp_route *routes = calloc(rmax, sizeof(*routes));
	size_t ns = 0, nr = 0;
	char err[BIRD_WHY_MAX];
	if (!s || !routes)
		abort();
	struct strbuf r = STRBUF_INIT;
	if (!bird_ask(b, "show protocols all", &r, now))
		goto fail;
	if (bgp_parse_protocols(sb_str(&r), r.sb_len, s, smax, &ns, err, sizeof(err)) < 0) {
		log_error(BIRD_LOG, "BIRD's answer to show protocols all: %s", err);
		goto fail;
	}
	for (size_t i = 0; i < b->b_nconns; i++) {
		const struct bird_conn *c = &b->b_conns[i];
		char table[BGP_NAME_MAX], cmd[BGP_NAME_MAX + 32];
		size_t got = 0;
		if (!c->bc_in_conf || tables_seen(b, i, c->bc_desc.cd_vgw_id) ||
		    bgp_table_name(c->bc_desc.cd_vgw_id, table, sizeof(table)) < 0)
			continue;
		snprintf(cmd, sizeof(cmd), "show route all table %s", table);
		sb_reset(&r);
		if (!bird_ask(b, cmd, &r, now))
			goto fail;
		if (bgp_parse_routes(sb_str(&r), r.sb_len, routes + nr, rmax - nr, &got, err, sizeof(err)) < 0) {
			/* a table BIRD does not have yet (reconfiguring): no routes */
			log_debug(BIRD_LOG, "BIRD's answer to %s: %s", cmd, err);
			continue;
		}
		nr += got;
	}
	sb_free(&r);
	free(b->b_sessions);
	free(b->b_routes);
	b->b_sessions = s;
	b->b_nsessions = ns;
	b->b_routes = routes;
	b->b_nroutes = nr;
	b->b_answer_logged = false;
	return true;
fail:
	sb_free(&r);
	free(s);
	free(routes);
	return false;
}

/* The prefix limit on tunnel t of c (session s, BIRD's): enabled again
 * when its time has come; *shown: the session as _Bgp shows it. */
static void limit_track(struct engine_bird *b, struct bird_conn *c, unsigned t, const struct bgp_session *s,
			struct bgp_session *shown, uint64_t now)
{
	struct engine_bgp_limit *l = &c->bc_limit[t];
	unsigned hits = l->bl_hits;
	bool held = l->bl_held;
	bool enable = engine_bgp_limit_step(l, s, now, shown);
	if (l->bl_held && (!held || l->bl_hits != hits))
		log_warn(BIRD_LOG, "%s tunnel %u: more than %d prefixes from the customer: session shut down; "
			 "vpcd enables it again in %u s", c->bc_id, t + 1, BGP_IMPORT_LIMIT,
			 engine_bgp_limit_retry_s(l->bl_hits));
	if (!enable)
		return;
	char name[BGP_NAME_MAX], cmd[BGP_NAME_MAX + 16];
	struct strbuf r = STRBUF_INIT;
	if (bgp_protocol_name(c->bc_id, t, name, sizeof(name)) == 0) {
		snprintf(cmd, sizeof(cmd), "enable %s", name);
		if (bird_ask(b, cmd, &r, now)) {
			const char *e = reply_error(sb_str(&r));
			if (e)
				log_error(BIRD_LOG, "%s: BIRD answered %.*s", cmd, (int)strcspn(e, "\n"), e);
			log_info(BIRD_LOG, "%s tunnel %u: session enabled again after the prefix limit", c->bc_id, t + 1);
			engine_bgp_limit_enabled(l, now);
			b->b_poll_at_ms = now + 500;
		}
	}
	sb_free(&r);
}

/* Each connection's _Bgp and learned prefixes from the last answers (none
 * when BIRD does not run), posted or handed over when they changed. */
static void conns_report(struct engine_bird *b, bool answered, uint64_t now)
{
	const struct bgp_route *routes = answered ? b->b_routes : NULL;
	size_t nroutes = answered ? b->b_nroutes : 0;
	for (size_t i = 0; i < b->b_nconns; i++) {
		struct bird_conn *c = &b->b_conns[i];
		const struct bgp_session *found[BGP_TUNNELS] = { NULL, NULL };
		struct bgp_session shown[BGP_TUNNELS];
		const struct bgp_session *sess[BGP_TUNNELS] = { NULL, NULL };
		if (answered && c->bc_in_conf)
			engine_bgp_sessions_of(c->bc_id, b->b_sessions, b->b_nsessions, found);
		for (unsigned t = 0; t < BGP_TUNNELS; t++)
			if (found[t]) {
				limit_track(b, c, t, found[t], &shown[t], now);
				sess[t] = &shown[t];
			}
		const char *side = b->b_hooks.bh_side_error ? b->b_hooks.bh_side_error(b->b_hooks.bh_arg) : "";
		const char *error = c->bc_why[0] ? c->bc_why : b->b_error[0] ? b->b_error : side;
		struct doc *d = engine_bgp_doc(c->bc_view, c->bc_described ? &c->bc_desc : NULL, error, sess,
					       c->bc_in_conf ? routes : NULL, c->bc_in_conf ? nroutes : 0);
		struct strbuf json = STRBUF_INIT;
		doc_to_json(d, &json);
		if (c->bc_sig && strcmp(c->bc_sig, sb_str(&json)) == 0) {
			doc_free(d);
		} else {
			free(c->bc_sig);
			c->bc_sig = strdup(sb_str(&json));
			if (!c->bc_sig)
				abort();
			b->b_hooks.bh_post(b->b_hooks.bh_arg, c->bc_id, d);
		}
		sb_free(&json);

		bool changed = false;
		for (unsigned t = 0; t < BGP_TUNNELS; t++) {
			struct bgp_prefix now_p[VPN_MAX_ROUTES];
			size_t n = c->bc_in_conf ? engine_bgp_tunnel_prefixes(c->bc_id, sess, routes, nroutes, t, now_p,
									      VPN_MAX_ROUTES) : 0;
			if (n > VPN_MAX_ROUTES) {
				log_warn(BIRD_LOG, "%s tunnel %u: %zu learned prefixes, the endpoint carries %d",
					 c->bc_id, t + 1, n, VPN_MAX_ROUTES);
				n = VPN_MAX_ROUTES;
			}
			if (n != c->bc_nlearned[t] || (n && memcmp(now_p, c->bc_learned[t], n * sizeof(*now_p)))) {
				memcpy(c->bc_learned[t], now_p, n * sizeof(*now_p));
				c->bc_nlearned[t] = n;
				changed = true;
			}
		}
		if (changed)
			b->b_hooks.bh_routes(b->b_hooks.bh_arg, c->bc_id);
	}
}

void engine_bird_run(struct engine_bird *b, uint64_t now)
{
	bird_supervise(b, now);
	if (b->b_dirty && now >= b->b_conf_retry_ms) {
		b->b_dirty = false;
		if (b->b_nconns && conf_sync(b) < 0) {
			b->b_dirty = true;	/* try again in a while */
			b->b_conf_retry_ms = now + ENGINE_BIRD_POLL_MS;
		}
	}
	bool wanted = conns_in_conf(b) > 0;
	if (!wanted) {
		bird_stop(b);
		b->b_exits = 0;
		b->b_restart_at_ms = 0;
		if (b->b_nconns)
			b->b_error[0] = '\0';
	} else if (b->b_pid <= 0 && now >= b->b_restart_at_ms && !b->b_dirty) {
		bird_start(b, now);
	}
	if (b->b_pid > 0 && b->b_configure_due)
		bird_configure(b, now);
	if (now < b->b_poll_at_ms)
		return;
	bool answered = b->b_pid > 0 && bird_poll(b, now);
	if (b->b_pid > 0) {
		if (answered)
			b->b_error[0] = '\0';
		else if (now - b->b_started_ms >= BIRD_ANSWER_GRACE_MS)
			snprintf(b->b_error, sizeof(b->b_error), "BIRD (vpcd's BGP speaker) does not answer on "
				 "its control socket");
	}
	conns_report(b, answered, now);
	b->b_poll_at_ms = b->b_nconns ? now + ENGINE_BIRD_POLL_MS : UINT64_MAX;
}

uint64_t engine_bird_next_ms(const struct engine_bird *b)
{
	uint64_t next = b->b_poll_at_ms;
	if (b->b_dirty && b->b_conf_retry_ms < next)
		next = b->b_conf_retry_ms;
	if (conns_in_conf(b) && b->b_pid <= 0 && b->b_available && b->b_restart_at_ms < next)
		next = b->b_restart_at_ms;
	/* the pidfd is looked at whenever the engine runs us: at each poll */
	return next;
}

size_t engine_bird_routes(const struct engine_bird *b, const char *vpn_id, unsigned t, struct vpn_cidr *out,
			  size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < b->b_nconns && t < BGP_TUNNELS; i++) {
		const struct bird_conn *c = &b->b_conns[i];
		if (strcmp(c->bc_id, vpn_id) != 0)
			continue;
		for (size_t k = 0; k < c->bc_nlearned[t] && n < max; k++) {
			out[n].addr = c->bc_learned[t][k].bp_addr;
			out[n++].prefix_len = c->bc_learned[t][k].bp_len;
		}
	}
	return n;
}

void engine_bird_free(struct engine_bird *b)
{
	if (!b)
		return;
	bird_stop(b);
	for (size_t i = 0; i < b->b_nconns; i++)
		conn_free(&b->b_conns[i]);
	free(b->b_conns);
	free(b->b_conf_text);
	free(b);
}
