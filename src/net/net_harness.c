/*
 * net-harness — runs the virtual router from a small key=value file, for
 * the data-plane integration test and bench (the engine drives the same
 * net.h API from the API's documents). Creates each [instance]'s network
 * namespace and TAP, applies the config, starts the router.
 *
 *   log_level = info                 # debug|info|warn|error
 *   router_mac = 0e:76:70:63:64:01
 *   offload = yes                    # no: instances' TAPs without virtio_net_hdr/TSO
 *   tap_io = batched                 # syscalls: one read/write per frame (no io_uring)
 *   udp_trains = yes                 # no: every UDP datagram written alone
 *   tcp_trains = yes                 # no: every TCP segment written alone
 *   shed_nice = 10                   # overload shedding's nice value (vpcd's default); 0: off
 *   [subnet]      id, vpc, cidr, route_table, nacl
 *   [route_table] id; route = CIDR local|blackhole|igw ID|vgw ID|eni ID (repeatable)
 *   [nacl]        id; rule = NUM ingress|egress allow|deny PROTO CIDR [FROM-TO | TYPE CODE]
 *   [sg]          id, vpc; rule = ingress|egress PROTO FROM TO CIDR|GROUP-ID
 *   [instance]    id (the namespace's name), eni, subnet, ip, mac (default
 *                 02:00:<ip>), groups = a,b, src_dst_check = yes|no, public_ip
 *   [gateway]     id, kind = igw|vgw, vpc, tun = IFNAME (a TUN here as its port)
 *   PROTO: all|-1|tcp|udp|icmp|NUMBER
 *
 * stdout: "ready" once running; on SIGUSR1 one "counters k=v ..." line
 * then "end"; "applied" after SIGHUP re-read the file (instances added
 * or removed by id, everything else replaced), or "error <why>".
 * SIGTERM/SIGINT: stop, remove every instance namespace, exit 0.
 */
#include "net/net.h"

#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_OBJ		64
#define MAX_RULES	64

struct drv_rtb { struct net_route_table_config c; struct net_route_config r[MAX_RULES]; };
struct drv_nacl { struct net_nacl_config c; struct nacl_rule r[MAX_RULES]; };
struct drv_sg { struct net_sg_config c; struct net_sg_rule_config r[MAX_RULES]; };
struct drv_gw { struct net_gateway_config c; char tun[IFNAMSIZ]; };

struct drv_conf {
	uint8_t router_mac[6];
	bool no_offload;
	bool syscall_io;
	bool no_udp_trains;
	bool no_tcp_trains;
	int shed_nice;
	struct net_subnet_config subnets[MAX_OBJ]; size_t n_subnets;
	struct drv_rtb rtbs[MAX_OBJ]; size_t n_rtbs;
	struct drv_nacl nacls[MAX_OBJ]; size_t n_nacls;
	struct drv_sg sgs[MAX_OBJ]; size_t n_sgs;
	struct net_eni_config enis[MAX_OBJ]; size_t n_enis;
	char inst_ids[MAX_OBJ][NET_ID_MAX];
	struct drv_gw gws[MAX_OBJ]; size_t n_gws;
};

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static bool
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return true;
}

static bool
parse_proto(const char *s, int16_t *out)
{
	int p = protocol_parse(s);

	if (p < -1)
		return false;
	*out = (int16_t)p;
	return true;
}

static bool
parse_nacl_rule(char *v, struct nacl_rule *r)
{
	char *tok[8];
	int n = 0;

	for (char *t = strtok(v, " \t"); t && n < 8; t = strtok(NULL, " \t"))
		tok[n++] = t;
	if (n < 5)
		return false;
	memset(r, 0, sizeof(*r));
	r->nr_number = (uint16_t)atoi(tok[0]);
	r->nr_egress = strcmp(tok[1], "egress") == 0;
	r->nr_allow = strcmp(tok[2], "allow") == 0;
	r->nr_port_from = 0;
	r->nr_port_to = 65535;
	r->nr_icmp_type = r->nr_icmp_code = -1;
	if (!parse_proto(tok[3], &r->nr_protocol) || !cidr_parse(tok[4], &r->nr_cidr, NULL))
		return false;
	if (n == 6) {
		unsigned a, b;
		if (sscanf(tok[5], "%u-%u", &a, &b) != 2 || a > b || b > 65535)
			return false;
		r->nr_port_from = (uint16_t)a;
		r->nr_port_to = (uint16_t)b;
	} else if (n == 7) {
		r->nr_icmp_type = (int16_t)atoi(tok[5]);
		r->nr_icmp_code = (int16_t)atoi(tok[6]);
	}
	return true;
}

static bool
parse_sg_rule(char *v, struct net_sg_rule_config *r)
{
	char *tok[5];
	int n = 0;

	for (char *t = strtok(v, " \t"); t && n < 5; t = strtok(NULL, " \t"))
		tok[n++] = t;
	if (n != 5)
		return false;
	memset(r, 0, sizeof(*r));
	r->egress = strcmp(tok[0], "egress") == 0;
	if (!parse_proto(tok[1], &r->protocol))
		return false;
	r->from_port = atoi(tok[2]);
	r->to_port = atoi(tok[3]);
	if (strchr(tok[4], '/'))
		return cidr_parse(tok[4], &r->cidr, NULL);
	snprintf(r->group_id, NET_ID_MAX, "%s", tok[4]);
	return true;
}

static bool
parse_route(char *v, struct net_route_config *r)
{
	char *tok[3];
	int n = 0;

	for (char *t = strtok(v, " \t"); t && n < 3; t = strtok(NULL, " \t"))
		tok[n++] = t;
	if (n < 2 || !cidr_parse(tok[0], &r->dest, NULL))
		return false;
	memset(r->target_id, 0, sizeof(r->target_id));
	if (strcmp(tok[1], "local") == 0)
		r->target = NET_TARGET_LOCAL;
	else if (strcmp(tok[1], "blackhole") == 0)
		r->target = NET_TARGET_BLACKHOLE;
	else if (n == 3 && strcmp(tok[1], "igw") == 0)
		r->target = NET_TARGET_IGW;
	else if (n == 3 && strcmp(tok[1], "vgw") == 0)
		r->target = NET_TARGET_VGW;
	else if (n == 3 && strcmp(tok[1], "eni") == 0)
		r->target = NET_TARGET_ENI;
	else
		return false;
	if (n == 3)
		snprintf(r->target_id, NET_ID_MAX, "%s", tok[2]);
	return true;
}

#define SET_ID(dst, v) snprintf((dst), NET_ID_MAX, "%s", (v))

static int
conf_read(const char *path, struct drv_conf *c)
{
	FILE *f = fopen(path, "r");
	char line[512];
	enum { S_TOP, S_SUBNET, S_RTB, S_NACL, S_SG, S_INST, S_GW } sec = S_TOP;
	int lineno = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->shed_nice = NET_SHED_NICE_DEFAULT;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			size_t *count = NULL;
			if (strcmp(s, "[subnet]") == 0) sec = S_SUBNET, count = &c->n_subnets;
			else if (strcmp(s, "[route_table]") == 0) sec = S_RTB, count = &c->n_rtbs;
			else if (strcmp(s, "[nacl]") == 0) sec = S_NACL, count = &c->n_nacls;
			else if (strcmp(s, "[sg]") == 0) sec = S_SG, count = &c->n_sgs;
			else if (strcmp(s, "[instance]") == 0) sec = S_INST, count = &c->n_enis;
			else if (strcmp(s, "[gateway]") == 0) sec = S_GW, count = &c->n_gws;
			else
				goto bad;
			if (*count >= MAX_OBJ)
				goto bad;
			(*count)++;
			if (sec == S_INST) {
				struct net_eni_config *e = &c->enis[c->n_enis - 1];
				e->src_dst_check = true;
				e->tap_fd = -1;
			}
			if (sec == S_GW)
				c->gws[c->n_gws - 1].c.fd = -1;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			goto bad;
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		switch (sec) {
		case S_TOP:
			if (strcmp(k, "log_level") == 0)
				log_set_level(strcmp(v, "debug") == 0 ? LOG_DEBUG : strcmp(v, "warn") == 0 ?
					      LOG_WARN : strcmp(v, "error") == 0 ? LOG_ERROR : LOG_INFO);
			else if (strcmp(k, "offload") == 0)
				c->no_offload = strcmp(v, "no") == 0;
			else if (strcmp(k, "tap_io") == 0)
				c->syscall_io = strcmp(v, "syscalls") == 0;
			else if (strcmp(k, "udp_trains") == 0)
				c->no_udp_trains = strcmp(v, "no") == 0;
			else if (strcmp(k, "tcp_trains") == 0)
				c->no_tcp_trains = strcmp(v, "no") == 0;
			else if (strcmp(k, "shed_nice") == 0) {
				char *end;
				long n = strtol(v, &end, 10);
				if (*end || n < 0 || n > 19)
					goto bad;
				c->shed_nice = (int)n;
			}
			else if (strcmp(k, "router_mac") != 0 || !parse_mac(v, c->router_mac))
				goto bad;
			break;
		case S_SUBNET: {
			struct net_subnet_config *sn = &c->subnets[c->n_subnets - 1];
			if (strcmp(k, "id") == 0) SET_ID(sn->id, v);
			else if (strcmp(k, "vpc") == 0) SET_ID(sn->vpc_id, v);
			else if (strcmp(k, "route_table") == 0) SET_ID(sn->route_table_id, v);
			else if (strcmp(k, "nacl") == 0) SET_ID(sn->nacl_id, v);
			else if (strcmp(k, "cidr") != 0 || !cidr_parse(v, &sn->cidr, NULL)) goto bad;
			break;
		}
		case S_RTB: {
			struct drv_rtb *t = &c->rtbs[c->n_rtbs - 1];
			if (strcmp(k, "id") == 0) SET_ID(t->c.id, v);
			else if (strcmp(k, "route") != 0 || t->c.n_routes >= MAX_RULES ||
				 !parse_route(v, &t->r[t->c.n_routes++])) goto bad;
			break;
		}
		case S_NACL: {
			struct drv_nacl *n = &c->nacls[c->n_nacls - 1];
			if (strcmp(k, "id") == 0) SET_ID(n->c.id, v);
			else if (strcmp(k, "rule") != 0 || n->c.n_rules >= MAX_RULES ||
				 !parse_nacl_rule(v, &n->r[n->c.n_rules++])) goto bad;
			break;
		}
		case S_SG: {
			struct drv_sg *g = &c->sgs[c->n_sgs - 1];
			if (strcmp(k, "id") == 0) SET_ID(g->c.id, v);
			else if (strcmp(k, "vpc") == 0) SET_ID(g->c.vpc_id, v);
			else if (strcmp(k, "rule") != 0 || g->c.n_rules >= MAX_RULES ||
				 !parse_sg_rule(v, &g->r[g->c.n_rules++])) goto bad;
			break;
		}
		case S_INST: {
			struct net_eni_config *e = &c->enis[c->n_enis - 1];
			char *id = c->inst_ids[c->n_enis - 1];
			if (strcmp(k, "id") == 0) {
				SET_ID(id, v);
				if (!e->id[0])
					snprintf(e->id, NET_ID_MAX, "eni-%.40s", v);
			} else if (strcmp(k, "eni") == 0) SET_ID(e->id, v);
			else if (strcmp(k, "subnet") == 0) SET_ID(e->subnet_id, v);
			else if (strcmp(k, "ip") == 0) {
				if (!ip4_parse(v, &e->ip)) goto bad;
				if (!e->mac[0] && !e->mac[1])
					memcpy(e->mac, (uint8_t[6]){ 0x02, 0x00, (uint8_t)(e->ip >> 24),
						(uint8_t)(e->ip >> 16), (uint8_t)(e->ip >> 8), (uint8_t)e->ip }, 6);
			} else if (strcmp(k, "public_ip") == 0) {
				if (!ip4_parse(v, &e->public_ip)) goto bad;
			} else if (strcmp(k, "mac") == 0) {
				if (!parse_mac(v, e->mac)) goto bad;
			} else if (strcmp(k, "src_dst_check") == 0) {
				e->src_dst_check = strcmp(v, "no") != 0;
			} else if (strcmp(k, "groups") == 0) {
				for (char *t = strtok(v, ", "); t; t = strtok(NULL, ", ")) {
					if (e->n_groups >= NET_ENI_MAX_GROUPS) goto bad;
					SET_ID(e->group_ids[e->n_groups++], t);
				}
			} else goto bad;
			break;
		}
		case S_GW: {
			struct drv_gw *w = &c->gws[c->n_gws - 1];
			if (strcmp(k, "id") == 0) SET_ID(w->c.id, v);
			else if (strcmp(k, "vpc") == 0) SET_ID(w->c.vpc_id, v);
			else if (strcmp(k, "kind") == 0) w->c.kind = strcmp(v, "igw") == 0 ? NET_GW_IGW : NET_GW_VGW;
			else if (strcmp(k, "tun") == 0) snprintf(w->tun, IFNAMSIZ, "%s", v);
			else goto bad;
			break;
		}
		}
	}
	fclose(f);
	for (size_t i = 0; i < c->n_enis; i++)
		c->enis[i].no_offload = c->no_offload;
	for (size_t i = 0; i < c->n_rtbs; i++)
		c->rtbs[i].c.routes = c->rtbs[i].r;
	for (size_t i = 0; i < c->n_nacls; i++)
		c->nacls[i].c.rules = c->nacls[i].r;
	for (size_t i = 0; i < c->n_sgs; i++)
		c->sgs[i].c.rules = c->sgs[i].r;
	return 0;
bad:
	fprintf(stderr, "%s:%d: cannot use this line\n", path, lineno);
	fclose(f);
	return -1;
}

static int
tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static const struct net_subnet_config *
subnet_of(const struct drv_conf *c, const char *id)
{
	for (size_t i = 0; i < c->n_subnets; i++)
		if (strcmp(c->subnets[i].id, id) == 0)
			return &c->subnets[i];
	return NULL;
}

static int
find_inst(const struct drv_conf *c, const char *id)
{
	for (size_t i = 0; i < c->n_enis; i++)
		if (strcmp(c->inst_ids[i], id) == 0)
			return (int)i;
	return -1;
}

static int
find_gw(const struct drv_conf *c, const char *id)
{
	for (size_t i = 0; i < c->n_gws; i++)
		if (strcmp(c->gws[i].c.id, id) == 0)
			return (int)i;
	return -1;
}

/* Carries instances and ports over from old (by id), creates new ones. */
static int
conf_realise(struct drv_conf *c, const struct drv_conf *old)
{
	for (size_t i = 0; i < c->n_enis; i++) {
		int o = old ? find_inst(old, c->inst_ids[i]) : -1;
		if (o >= 0 && old->enis[o].tap_fd >= 0) {
			c->enis[i].tap_fd = old->enis[o].tap_fd;
			continue;
		}
		const struct net_subnet_config *sn = subnet_of(c, c->enis[i].subnet_id);
		if (!sn || net_instance_create(c->inst_ids[i], &c->enis[i], &sn->cidr, &c->enis[i].tap_fd) < 0) {
			fprintf(stderr, "instance %s: cannot create\n", c->inst_ids[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < c->n_gws; i++) {
		struct drv_gw *w = &c->gws[i];
		int o = old ? find_gw(old, w->c.id) : -1;
		if (o >= 0 && old->gws[o].c.fd >= 0)
			w->c.fd = old->gws[o].c.fd;
		else if (w->tun[0] && (w->c.fd = tun_open(w->tun)) < 0) {
			fprintf(stderr, "gateway %s: cannot open TUN %s\n", w->c.id, w->tun);
			return -1;
		}
		if (w->c.fd >= 0) {
			w->c.ops = &net_port_fd_ops;
			w->c.arg = (void *)(intptr_t)w->c.fd;
		}
	}
	return 0;
}

/* Removes what old had and c does not (c NULL: everything). */
static void
conf_release(const struct drv_conf *old, const struct drv_conf *c)
{
	for (size_t i = 0; i < old->n_enis; i++)
		if (!c || find_inst(c, old->inst_ids[i]) < 0)
			net_instance_destroy(old->inst_ids[i], old->enis[i].tap_fd);
	for (size_t i = 0; i < old->n_gws; i++)
		if (old->gws[i].c.fd >= 0 && (!c || find_gw(c, old->gws[i].c.id) < 0))
			close(old->gws[i].c.fd);
}

static int
conf_apply(struct net_router *r, struct drv_conf *c)
{
	struct net_route_table_config rtbs[MAX_OBJ];
	struct net_nacl_config nacls[MAX_OBJ];
	struct net_sg_config sgs[MAX_OBJ];
	struct net_gateway_config gws[MAX_OBJ];
	char err[256];

	for (size_t i = 0; i < c->n_rtbs; i++) rtbs[i] = c->rtbs[i].c;
	for (size_t i = 0; i < c->n_nacls; i++) nacls[i] = c->nacls[i].c;
	for (size_t i = 0; i < c->n_sgs; i++) sgs[i] = c->sgs[i].c;
	for (size_t i = 0; i < c->n_gws; i++) gws[i] = c->gws[i].c;
	struct net_config cfg = {
		c->subnets, c->n_subnets, rtbs, c->n_rtbs, nacls, c->n_nacls, sgs, c->n_sgs,
		c->enis, c->n_enis, gws, c->n_gws, NULL, 0, NULL, 0,
	};
	if (net_router_apply(r, &cfg, err, sizeof(err)) < 0) {
		printf("error %s\n", err);
		fflush(stdout);
		return -1;
	}
	return 0;
}

static void
print_counters(struct net_router *r)
{
	struct net_counters k;

	net_router_counters(r, &k);
	printf("counters rx=%llu tx=%llu port_rx=%llu port_tx=%llu arp_replies=%llu arp_ignored=%llu "
	       "ct_entries=%llu ct_evictions=%llu snapshots=%llu gso_rx=%llu sw_segments=%llu "
	       "frag_evictions=%llu tap_batches=%llu udp_trains=%llu udp_train_frames=%llu "
	       "tcp_trains=%llu tcp_train_segments=%llu sheds=%llu shed_ms=%llu shedding=%d "
	       "shed_withdrawn=%llu",
	       (unsigned long long)k.rx_frames, (unsigned long long)k.tx_frames,
	       (unsigned long long)k.port_rx, (unsigned long long)k.port_tx,
	       (unsigned long long)k.arp_replies, (unsigned long long)k.arp_ignored,
	       (unsigned long long)k.ct_entries, (unsigned long long)k.ct_evictions,
	       (unsigned long long)k.snapshots, (unsigned long long)k.gso_rx,
	       (unsigned long long)k.sw_segments, (unsigned long long)k.frag_evictions,
	       (unsigned long long)k.tap_batches, (unsigned long long)k.udp_trains,
	       (unsigned long long)k.udp_train_frames, (unsigned long long)k.tcp_trains,
	       (unsigned long long)k.tcp_train_segments, (unsigned long long)k.sheds,
	       (unsigned long long)k.shed_ms, k.shedding ? 1 : 0, (unsigned long long)k.shed_withdrawn);
	for (unsigned i = 0; i < NET_DROP_MAX; i++)
		printf(" %s=%llu", net_drop_name(i), (unsigned long long)k.drops[i]);
	printf("\nend\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	static struct drv_conf confs[2];
	struct drv_conf *cur = &confs[0], *next = &confs[1];
	sigset_t set;
	int sig, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: net-harness CONFIG\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (conf_read(argv[1], cur) < 0)
		return 1;
	struct net_router_config rc_cfg = { .ct_entries = 0 };
	memcpy(rc_cfg.router_mac, cur->router_mac, 6);
	rc_cfg.syscall_io = cur->syscall_io;
	rc_cfg.no_udp_trains = cur->no_udp_trains;
	rc_cfg.no_tcp_trains = cur->no_tcp_trains;
	rc_cfg.shed_nice = cur->shed_nice;
	struct net_router *r = net_router_new(&rc_cfg);
	if (!r)
		return 1;
	if (conf_realise(cur, NULL) < 0 || conf_apply(r, cur) < 0 || net_router_start(r) < 0)
		goto out;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			print_counters(r);
		} else if (sig == SIGHUP) {
			if (conf_read(argv[1], next) < 0 || conf_realise(next, cur) < 0) {
				printf("error cannot read or realise %s\n", argv[1]);
				fflush(stdout);
				continue;	/* what conf_realise made stays until exit */
			}
			if (conf_apply(r, next) < 0)
				continue;
			conf_release(cur, next);
			struct drv_conf *t = cur;
			cur = next;
			next = t;
			printf("applied\n");
			fflush(stdout);
		} else {
			rc = 0;
			break;
		}
	}
out:
	net_router_stop(r);
	net_router_free(r);
	conf_release(cur, NULL);
	return rc;
}
