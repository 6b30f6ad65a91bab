/*
 * engine_dataplane.c — instances' namespaces and the router's snapshot
 * from a plan (engine_dataplane.h). Engine thread only, except new, free
 * and counters. Order per plan: create the namespaces that are missing,
 * apply the snapshot (with their TAPs), then delete what the snapshot no
 * longer names (the router no longer reads those fds once apply returned).
 * An instance whose ENI changed (address, MAC, subnet) is deleted first
 * and created again in a second round. Secondary ENIs (eth1.., one entry
 * each, di_dev > 0) are created after their instance's primary and only
 * while it stays; they are deleted (their TAP closed) before it.
 */
#include "engine/engine_dataplane.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "base/doc.h"
#include "engine/engine_uplink.h"
#include "priv/priv.h"
#include "vpn/endpoint/endpoint.h"

#define DP_LOG "engine"
#define DP_ERR_MAX 256

struct dp_instance {
	char di_id[NET_ID_MAX];
	char di_join[NET_ID_MAX];	/* "" : our own namespace di_id */
	char di_eni[NET_ID_MAX];
	uint8_t di_mac[6];
	uint32_t di_ip;
	struct cidr4 di_subnet;
	int di_dev;			/* DeviceIndex: 0 the primary (eth0) */
	int di_fd;
	char di_resolv[ENGINE_RESOLV_MAX];	/* written to /etc/netns/<id>/resolv.conf; "" none yet */
	bool di_keep;			/* scratch: named by the plan being applied */
};

/* The router's nice changes go to the privileged helper from a thread of
 * their own: a request may wait behind another (a namespace being made,
 * BIRD started: milliseconds), and the router's loop must not. Only the
 * latest wish counts. */
struct dp_nicer {
	pthread_t n_thread;
	pthread_mutex_t n_lock;
	pthread_cond_t n_cond;
	pid_t n_tid;
	int n_nice;			/* -1: nothing to do */
	bool n_stop, n_running;
};

struct engine_dataplane {
	struct net_router *dp_router;
	struct ring *dp_to_ep[VPN_PLAIN_PORTS_MAX];	/* by plaintext side; not owned */
	struct ring *dp_to_router[VPN_PLAIN_PORTS_MAX];
	size_t dp_nvgw;
	struct engine_uplink *dp_uplink;	/* --uplink: the igws' port; NULL none */
	bool dp_applied_once;
	char dp_last_err[DP_ERR_MAX];
	struct dp_instance *dp_inst;
	size_t dp_ninst, dp_capinst;
	struct dp_nicer dp_nicer;
};

static int g_shed_nice = NET_SHED_NICE_DEFAULT;

static void *nicer_main(void *arg)
{
	struct dp_nicer *n = arg;
	pthread_setname_np(pthread_self(), "vpcd-nicer");
	pthread_mutex_lock(&n->n_lock);
	while (!n->n_stop) {
		if (n->n_nice < 0) {
			pthread_cond_wait(&n->n_cond, &n->n_lock);
			continue;
		}
		pid_t tid = n->n_tid;
		int nice = n->n_nice;
		n->n_nice = -1;
		pthread_mutex_unlock(&n->n_lock);
		int rc = priv_thread_nice(tid, nice);
		if (rc < 0)
			log_warn(DP_LOG, "the router's nice value %d: %s", nice, strerror(-rc));
		pthread_mutex_lock(&n->n_lock);
	}
	pthread_mutex_unlock(&n->n_lock);
	return NULL;
}

static int nicer_set(void *arg, pid_t tid, int nice, bool wait)
{
	struct dp_nicer *n = arg;
	if (wait || !n->n_running)
		return priv_thread_nice(tid, nice);
	pthread_mutex_lock(&n->n_lock);
	n->n_tid = tid;
	n->n_nice = nice;
	pthread_cond_signal(&n->n_cond);
	pthread_mutex_unlock(&n->n_lock);
	return 0;
}

int engine_dataplane_configure_shed(int nice)
{
	if (nice < 0 || nice > 19)
		return -1;
	g_shed_nice = nice;
	return 0;
}

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

struct engine_dataplane *engine_dataplane_new(struct ring *const *to_ep,
					      struct ring *const *to_router, size_t nsides)
{
	struct engine_dataplane *dp = calloc(1, sizeof(*dp));
	if (!dp)
		abort();
	for (size_t k = 0; k < nsides && k < VPN_PLAIN_PORTS_MAX; k++) {
		dp->dp_to_ep[k] = to_ep[k];
		dp->dp_to_router[k] = to_router[k];
		dp->dp_nvgw++;
	}
	const char *uplink = engine_uplink_configured();
	if (uplink)
		dp->dp_uplink = engine_uplink_new(uplink);	/* NULL (logged): igws without a port */
	struct dp_nicer *n = &dp->dp_nicer;
	pthread_mutex_init(&n->n_lock, NULL);
	pthread_cond_init(&n->n_cond, NULL);
	n->n_nice = -1;
	n->n_running = g_shed_nice > 0 && pthread_create(&n->n_thread, NULL, nicer_main, n) == 0;
	struct net_router_config rc = { .ct_entries = 0, .shed_nice = g_shed_nice, .set_nice = nicer_set,
					.set_nice_arg = n };
	dp->dp_router = net_router_new(&rc);
	if (!dp->dp_router || net_router_start(dp->dp_router) < 0) {
		log_error(DP_LOG, "the virtual router cannot start: no data plane");
		engine_dataplane_free(dp);
		return NULL;
	}
	return dp;
}

static struct dp_instance *inst_find(struct engine_dataplane *dp, const char *id, int dev)
{
	for (size_t i = 0; i < dp->dp_ninst; i++)
		if (str_eq(dp->dp_inst[i].di_id, id) && dp->dp_inst[i].di_dev == dev)
			return &dp->dp_inst[i];
	return NULL;
}

static bool inst_same(const struct dp_instance *d, const struct engine_net_instance *in,
		      const struct net_eni_config *e)
{
	return str_eq(d->di_join, in->ni_join) && str_eq(d->di_eni, e->id) && !memcmp(d->di_mac, e->mac, 6) &&
	       d->di_ip == e->ip && d->di_subnet.c_addr == in->ni_subnet.c_addr &&
	       d->di_subnet.c_len == in->ni_subnet.c_len;
}

static bool netns_exists(const char *name)
{
	char path[64 + NET_ID_MAX];
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

/* The first plan of this run: namespaces named after the store's
 * vpcd-linux instances are leftovers of an earlier vpcd. */
static void remove_leftovers(const struct engine_net_plan *p)
{
	for (size_t i = 0; i < p->np_ninstances + p->np_nstopped; i++) {
		const char *id = i < p->np_ninstances ? p->np_instances[i].ni_id : p->np_stopped[i - p->np_ninstances];
		if (i < p->np_ninstances && p->np_instances[i].ni_join[0])
			continue;
		if (!netns_exists(id))
			continue;
		log_warn(DP_LOG, "%s: namespace left over by an earlier vpcd: deleted%s", id,
			 i < p->np_ninstances ? " (created again)" : "");
		(void)net_instance_destroy(id, -1);
	}
}

static void inst_create(struct engine_dataplane *dp, const struct engine_net_instance *in,
			const struct net_eni_config *e)
{
	int fd = -1;
	int rc;
	if (in->ni_dev > 0) {
		char ifname[16];
		snprintf(ifname, sizeof(ifname), "eth%d", in->ni_dev);
		rc = net_eni_attach_secondary(in->ni_join[0] ? in->ni_join : in->ni_id, ifname, e, &in->ni_subnet, &fd);
	} else {
		rc = in->ni_join[0] ? net_eni_attach_netns(in->ni_join, "eth0", e, &in->ni_subnet, &fd)
				    : net_instance_create(in->ni_id, e, &in->ni_subnet, &fd);
	}
	if (rc < 0) {
		log_error(DP_LOG, "%s: cannot give it its network (%s, eth%d); it has no traffic there", in->ni_id,
			  e->id, in->ni_dev);
		return;
	}
	if (dp->dp_ninst == dp->dp_capinst) {
		dp->dp_capinst = dp->dp_capinst ? dp->dp_capinst * 2 : 16;
		dp->dp_inst = realloc(dp->dp_inst, dp->dp_capinst * sizeof(*dp->dp_inst));
		if (!dp->dp_inst)
			abort();
	}
	struct dp_instance *d = &dp->dp_inst[dp->dp_ninst++];
	memset(d, 0, sizeof(*d));
	memcpy(d->di_id, in->ni_id, sizeof(d->di_id));
	memcpy(d->di_join, in->ni_join, sizeof(d->di_join));
	memcpy(d->di_eni, e->id, sizeof(d->di_eni));
	memcpy(d->di_mac, e->mac, 6);
	d->di_ip = e->ip;
	d->di_subnet = in->ni_subnet;
	d->di_dev = in->ni_dev;
	d->di_fd = fd;
	d->di_keep = true;
	char ip[IP4_STR_MAX];
	ip4_format(e->ip, ip);
	log_info(DP_LOG, "%s: running, %s %s as eth%d in %s%s", in->ni_id, e->id, ip, in->ni_dev,
		 in->ni_join[0] ? "namespace " : "its namespace", in->ni_join);
}

/* The instance's resolv.conf, rewritten when its VPC's DHCP options changed. */
static void resolv_update(struct dp_instance *d, const struct engine_net_instance *in)
{
	if (!in->ni_resolv[0] || strcmp(d->di_resolv, in->ni_resolv) == 0)
		return;
	if (net_instance_set_resolv(d->di_id, in->ni_resolv) < 0)
		return;	/* logged; tried again with the next plan */
	memcpy(d->di_resolv, in->ni_resolv, sizeof(d->di_resolv));
	log_info(DP_LOG, "%s: resolv.conf from its VPC's DHCP options", d->di_id);
}

static void inst_destroy(struct dp_instance *d)
{
	if (d->di_dev > 0) {
		close(d->di_fd);	/* eth<n> goes with its TAP; the namespace stays */
		log_info(DP_LOG, "%s: %s (eth%d) detached", d->di_id, d->di_eni, d->di_dev);
	} else if (d->di_join[0]) {
		close(d->di_fd);	/* the TAP goes; the namespace is not ours */
		log_info(DP_LOG, "%s: %s left namespace %s", d->di_id, d->di_eni, d->di_join);
	} else {
		(void)net_instance_destroy(d->di_id, d->di_fd);
		log_info(DP_LOG, "%s: namespace deleted", d->di_id);
	}
}

static void ports_fill(struct engine_dataplane *dp, struct engine_net_plan *p)
{
	for (size_t i = 0; i < p->np_cfg.n_gateways; i++) {
		struct net_gateway_config *g = &p->np_gateways[i];
		int port = p->np_gw_port ? p->np_gw_port[i] : -1;
		if (g->kind != NET_GW_VGW || port < 0 || (size_t)port >= dp->dp_nvgw)
			continue;
		/* its own side: what its tunnels decrypt comes in on to_router */
		g->ring_out = dp->dp_to_ep[port];
		g->ring_in = dp->dp_to_router[port];
	}
}

/* One round; true when another is needed (an instance changed). */
static bool apply_round(struct engine_dataplane *dp, struct engine_net_plan *p)
{
	bool again = false;
	for (size_t i = 0; i < dp->dp_ninst; i++)
		dp->dp_inst[i].di_keep = false;
	for (size_t i = 0; i < p->np_ninstances + p->np_nsecondary; i++) {
		const struct engine_net_instance *in = i < p->np_ninstances ? &p->np_instances[i]
									     : &p->np_secondary[i - p->np_ninstances];
		const struct net_eni_config *e = &p->np_enis[in->ni_eni];
		if (in->ni_dev > 0) {
			/* only beside a primary that stays (primaries came first) */
			const struct dp_instance *d0 = inst_find(dp, in->ni_id, 0);
			if (!d0 || !d0->di_keep || !str_eq(d0->di_join, in->ni_join)) {
				again = again || d0;
				continue;
			}
		}
		struct dp_instance *d = inst_find(dp, in->ni_id, in->ni_dev);
		if (d && inst_same(d, in, e))
			d->di_keep = true;
		else if (d)
			again = true;	/* deleted below, created next round */
		else
			inst_create(dp, in, e);
		d = inst_find(dp, in->ni_id, in->ni_dev);
		if (d && d->di_keep && in->ni_dev == 0 && !in->ni_join[0])
			resolv_update(d, in);
	}
	for (size_t i = 0; i < p->np_cfg.n_enis; i++) {
		p->np_enis[i].tap_fd = -1;
		for (size_t k = 0; k < dp->dp_ninst; k++)
			if (dp->dp_inst[k].di_keep && str_eq(dp->dp_inst[k].di_eni, p->np_enis[i].id))
				p->np_enis[i].tap_fd = dp->dp_inst[k].di_fd;
	}
	char err[DP_ERR_MAX];
	if (net_router_apply(dp->dp_router, &p->np_cfg, err, sizeof(err)) < 0) {
		if (strcmp(err, dp->dp_last_err) != 0)
			log_error(DP_LOG, "the network cannot be applied (the previous one stays): %s", err);
		snprintf(dp->dp_last_err, sizeof(dp->dp_last_err), "%s", err);
		return false;	/* nothing deleted: the old snapshot may read those fds */
	}
	if (dp->dp_uplink)
		engine_uplink_applied(dp->dp_uplink);
	if (dp->dp_last_err[0])
		log_info(DP_LOG, "the network applies again");
	dp->dp_last_err[0] = '\0';
	/* secondaries first: their TAPs close before a namespace goes */
	for (size_t i = 0; i < dp->dp_ninst; i++)
		if (!dp->dp_inst[i].di_keep && dp->dp_inst[i].di_dev > 0)
			inst_destroy(&dp->dp_inst[i]);
	size_t k = 0;
	for (size_t i = 0; i < dp->dp_ninst; i++) {
		if (dp->dp_inst[i].di_keep)
			dp->dp_inst[k++] = dp->dp_inst[i];
		else if (dp->dp_inst[i].di_dev == 0)
			inst_destroy(&dp->dp_inst[i]);
	}
	dp->dp_ninst = k;
	return again;
}

void engine_dataplane_apply(struct engine_dataplane *dp, struct engine_net_plan *p)
{
	if (!dp->dp_applied_once) {
		remove_leftovers(p);
		dp->dp_applied_once = true;
	}
	ports_fill(dp, p);
	if (dp->dp_uplink)
		engine_uplink_fill(dp->dp_uplink, p);
	if (apply_round(dp, p))
		(void)apply_round(dp, p);
	log_debug(DP_LOG, "network applied: %zu subnets, %zu ENIs, %zu instances running", p->np_cfg.n_subnets,
		  p->np_cfg.n_enis, dp->dp_ninst);
	engine_net_plan_free(p);
}

bool engine_dataplane_counters(struct engine_dataplane *dp, struct net_counters *out)
{
	if (!dp)
		return false;
	net_router_counters(dp->dp_router, out);
	return true;
}

static int64_t i64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

struct doc *engine_dataplane_counters_doc(const struct net_counters *c, int64_t now_unix, int64_t pid)
{
	struct doc *d = doc_obj();
	doc_set_bool(d, "Running", c != NULL);
	doc_set_int(d, "UpdatedAt", now_unix);
	doc_set_int(d, "Pid", pid);
	if (!c)
		return d;
	struct doc *drops = doc_set(d, "Drops", doc_obj());
	for (int i = 0; i < NET_DROP_MAX; i++)
		doc_set_int(drops, net_drop_name((enum net_drop)i), i64(c->drops[i]));
	struct doc *fw = doc_set(d, "Forwarded", doc_obj());
	doc_set_int(fw, "RxFrames", i64(c->rx_frames));
	doc_set_int(fw, "TxFrames", i64(c->tx_frames));
	doc_set_int(fw, "PortRx", i64(c->port_rx));
	doc_set_int(fw, "PortTx", i64(c->port_tx));
	doc_set_int(fw, "GsoRx", i64(c->gso_rx));
	doc_set_int(fw, "SwSegments", i64(c->sw_segments));
	doc_set_int(fw, "TapBatches", i64(c->tap_batches));
	doc_set_int(fw, "UdpTrains", i64(c->udp_trains));
	doc_set_int(fw, "UdpTrainFrames", i64(c->udp_train_frames));
	doc_set_int(fw, "TcpTrains", i64(c->tcp_trains));
	doc_set_int(fw, "TcpTrainSegments", i64(c->tcp_train_segments));
	struct doc *shed = doc_set(d, "Shedding", doc_obj());
	doc_set_int(shed, "Nice", c->shed_nice);
	doc_set_int(shed, "Active", c->shedding ? 1 : 0);
	doc_set_int(shed, "Spells", i64(c->sheds));
	doc_set_int(shed, "Milliseconds", i64(c->shed_ms));
	doc_set_int(shed, "Withdrawn", i64(c->shed_withdrawn));
	struct doc *arp = doc_set(d, "Arp", doc_obj());
	doc_set_int(arp, "Replies", i64(c->arp_replies));
	doc_set_int(arp, "Ignored", i64(c->arp_ignored));
	struct doc *ct = doc_set(d, "Conntrack", doc_obj());
	doc_set_int(ct, "Entries", i64(c->ct_entries));
	doc_set_int(ct, "Evictions", i64(c->ct_evictions));
	doc_set_int(ct, "FragmentEvictions", i64(c->frag_evictions));
	struct doc *nat = doc_set(d, "Nat", doc_obj());
	doc_set_int(nat, "Entries", i64(c->nat_entries));
	doc_set_int(nat, "Refused", i64(c->nat_refused));
	doc_set_int(d, "Snapshots", i64(c->snapshots));
	return d;
}

void engine_dataplane_free(struct engine_dataplane *dp)
{
	if (!dp)
		return;
	if (dp->dp_router) {
		net_router_stop(dp->dp_router);
		net_router_free(dp->dp_router);
	}
	struct dp_nicer *n = &dp->dp_nicer;
	if (n->n_running) {
		pthread_mutex_lock(&n->n_lock);
		n->n_stop = true;
		pthread_cond_signal(&n->n_cond);
		pthread_mutex_unlock(&n->n_lock);
		pthread_join(n->n_thread, NULL);
	}
	pthread_cond_destroy(&n->n_cond);
	pthread_mutex_destroy(&n->n_lock);
	engine_uplink_free(dp->dp_uplink);
	for (size_t i = 0; i < dp->dp_ninst; i++)
		if (dp->dp_inst[i].di_dev > 0)
			inst_destroy(&dp->dp_inst[i]);
	for (size_t i = 0; i < dp->dp_ninst; i++)
		if (dp->dp_inst[i].di_dev == 0)
			inst_destroy(&dp->dp_inst[i]);
	if (dp->dp_ninst)
		log_info(DP_LOG, "%zu instance namespace(s) deleted (created again when vpcd starts)", dp->dp_ninst);
	free(dp->dp_inst);
	free(dp);
}
