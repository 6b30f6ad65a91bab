/*
 * vpcd — the daemon: opens the state, loads it into memory, makes sure the
 * account has its default VPC and a root key, starts the engine (the VPN
 * tunnels, when --vpn-outside-addresses names addresses of this host), and
 * serves the EC2 API until SIGTERM or SIGINT.
 *
 *   vpcd [--listen ADDR:PORT] [--data-dir DIR] [--region NAME] [--account-id ID]
 *        [--vpn-outside-addresses ADDR[,ADDR...]] [--vpn-tun NAME] [--no-vpn-routes]
 *        [--dataplane [--uplink IFNAME[,via=ADDR]]] [--tls [--tls-cert FILE --tls-key FILE]]
 *        [--max-connections N] [--max-client-connections N] [--request-timeout S]
 *        [--quota NAME=N[,NAME=N...]]
 *        [--user NAME]
 *
 * Started as root, vpcd splits in two (priv.h): a helper keeps root for
 * what needs it, and this process goes on as an unprivileged user.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/quota.h"
#include "base/base.h"
#include "base/fs.h"
#include "engine/engine_trace.h"
#include "engine/engine.h"
#include "engine/engine_dataplane.h"
#include "engine/engine_uplink.h"
#include "model/model.h"
#include "priv/priv.h"
#include "state/cache.h"
#include "state/store.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vpcd [--listen ADDR:PORT] [--data-dir DIR] [--region NAME] [--account-id ID] [--debug]\n"
		   "            [--vpn-outside-addresses ADDR[,ADDR...]] [--vpn-tun NAME] [--no-vpn-routes]\n"
		   "            [--dataplane [--uplink IFNAME[,via=ADDR]] [--router-shed-nice N]]\n"
		   "            [--sync full|normal]\n"
		   "            [--tls [--tls-cert FILE --tls-key FILE]]\n"
		   "            [--max-connections N] [--max-client-connections N] [--request-timeout S]\n"
		   "            [--quota NAME=N[,NAME=N...]]\n"
		   "            [--user NAME]\n"
		   "  defaults: --listen 127.0.0.1:8775 --data-dir ./var --region us-east-1 --sync full\n"
		   "  --sync: full answers a change only once it is on disk (survives power loss);\n"
		   "  normal once it is in the OS (survives a crash of vpcd, kill -9; the last\n"
		   "  changes may be lost with the machine's power), several times faster\n"
		   "  --vpn-outside-addresses: this host's addresses for VPN tunnels (one tunnel each,\n"
		   "  two per VPN connection); without it no VPN connection can be created. With it\n"
		   "  vpcd runs the tunnels (as root: a TUN device, UDP 500/4500, raw ESP)\n"
		   "  --vpn-tun: the plaintext TUN device of the tunnels (default " ENGINE_TUN_DEFAULT ");\n"
		   "  vpcd routes each VPN connection's static routes into it, unless --no-vpn-routes\n"
		   "  --dataplane: the VPC data plane (needs root: CAP_NET_ADMIN and CAP_SYS_ADMIN;\n"
		   "  without them vpcd says so once and serves the API only). Each running instance\n"
		   "  is a network namespace named after its id (eth0: a TAP held by vpcd, the ENI's\n"
		   "  MAC and address, default route via the subnet's .1); vpcd's virtual router\n"
		   "  applies route tables, network ACLs and security groups between them, and the\n"
		   "  VPN tunnels' plaintext side is the VPN gateway's port of that router (no TUN,\n"
		   "  no host routes: --vpn-tun and --no-vpn-routes do not apply). vpcd deletes the\n"
		   "  namespaces when it stops and creates them again when it starts (and deletes\n"
		   "  leftovers of a vpcd that died). Off by default: the API alone needs no root\n"
		   "  --uplink: with --dataplane, the internet gateways' port on interface IFNAME:\n"
		   "  public addresses (MapPublicIpOnLaunch, AssociatePublicIpAddress, Elastic IPs)\n"
		   "  are a 1:1 NAT there, answered by proxy ARP while the ENI's subnet routes\n"
		   "  0.0.0.0/0 to its VPC's attached igw; replies go to the MAC a destination was\n"
		   "  seen at (or ARP for it, or for the gateway ADDR given by via=)\n"
		   "  --router-shed-nice: with --dataplane, the virtual router's nice value while it\n"
		   "  is overloaded (most of what it reads comes in full batches): instances that\n"
		   "  receive what it forwards get the CPU first, and the excess is dropped at the\n"
		   "  sending instance's own queue instead of after the router paid for it; given\n"
		   "  up when the router itself starves (busy processes on its CPU). Back to the\n"
		   "  nice value vpcd started with when calm; 1..19, 0: never (default %d)\n"
		   "  --tls: HTTPS instead of HTTP on the --listen port, with the PEM certificate\n"
		   "  (chain) and key of --tls-cert and --tls-key (which imply --tls), else with a\n"
		   "  self-signed certificate generated into DIR/tls.crt and DIR/tls.key on first\n"
		   "  start (give DIR/tls.crt to clients: aws --ca-bundle, AWS_CA_BUNDLE, boto3's\n"
		   "  verify=, vpcctl --ca-bundle). Without it vpcd warns when it listens beyond\n"
		   "  loopback: requests and answers (pre-shared keys too) would cross in clear\n"
		   "  --max-connections: API connections open at once (default %u); when nearly\n"
		   "  full, the connection waiting longest for a request is closed to make room\n"
		   "  --max-client-connections: the same from one address (default %u)\n"
		   "  --request-timeout: seconds a client has to send a request's head, then its\n"
		   "  body; also how long an idle connection is kept (default %u). Bodies not yet\n"
		   "  authenticated are held up to %u MiB in all, %u MiB per address (then 503\n"
		   "  RequestLimitExceeded); a request without a valid signature head (key, scope,\n"
		   "  date, SignedHeaders) is refused before its body is read\n"
		   "  --user: started as root, vpcd serves the API, IKE, ESP and the virtual router\n"
		   "  as this user (default " PRIV_USER_DEFAULT " if it exists, else " PRIV_USER_FALLBACK "), with no capabilities;\n"
		   "  a helper process keeps root for namespaces, TAP/TUN devices, routes and the\n"
		   "  IKE/ESP sockets only. The data dir becomes that user's\n"
		   "  credentials: VPCD_ACCESS_KEY_ID and VPCD_SECRET_ACCESS_KEY, else DIR/credentials\n"
		   "  (generated on first start)\n",
		NET_SHED_NICE_DEFAULT, API_MAX_CONNECTIONS_DEFAULT, API_MAX_CLIENT_CONNECTIONS_DEFAULT,
		API_REQUEST_TIMEOUT_DEFAULT_S,
		API_UNVERIFIED_MAX >> 20, API_CLIENT_UNVERIFIED_MAX >> 20);
	quota_usage(f);
}

/* A whole number in [min, max] for option name; false (logged) else. */
static bool parse_count(const char *name, const char *text, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (!*text || *end || errno || *text == '-' || v < min || v > max) {
		log_error("vpcd", "--%s %s: expected a number from %u to %u", name, text, min, max);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static void load_row(void *ctx, const char *type, const char *id, int64_t ord, const char *json)
{
	struct cache *cache = ctx;
	struct doc *d = doc_from_json(json, strlen(json));
	if (!d) {
		log_error("vpcd", "stored %s %s is not valid JSON; skipped", type, id);
		return;
	}
	cache_put(cache, type, id, ord, d);
}

/* Reads aws_access_key_id / aws_secret_access_key of [default] in path. */
static int read_credentials(const char *path, struct sigv4_key *key)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	bool in_default = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			in_default = strcmp(line, "[default]") == 0;
			continue;
		}
		char *eq = strchr(line, '=');
		if (!in_default || !eq)
			continue;
		*eq = '\0';
		char *k = line, *v = eq + 1;
		while (*k == ' ') k++;
		for (char *e = k + strlen(k); e > k && e[-1] == ' ';) *--e = '\0';
		while (*v == ' ') v++;
		for (char *e = v + strlen(v); e > v && e[-1] == ' ';) *--e = '\0';
		if (strcmp(k, "aws_access_key_id") == 0)
			snprintf(key->k_access_key_id, sizeof(key->k_access_key_id), "%s", v);
		else if (strcmp(k, "aws_secret_access_key") == 0)
			snprintf(key->k_secret, sizeof(key->k_secret), "%s", v);
	}
	secret_wipe(line, sizeof(line));
	fclose(f);
	return key->k_access_key_id[0] && key->k_secret[0] ? 0 : -1;
}

static void random_chars(char *out, size_t n, const char *alphabet)
{
	size_t alen = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rand_uniform((uint32_t)alen)];
	out[n] = '\0';
}

#define VPN_OUTSIDE_MAX 1024	/* addresses accepted by --vpn-outside-addresses */

/* "ADDR[,ADDR...]" into a new array (host order); NULL after a logged error. */
static uint32_t *parse_outside_addresses(const char *text, size_t *count)
{
	uint32_t *addrs = calloc(VPN_OUTSIDE_MAX, sizeof(*addrs));
	if (!addrs)
		abort();
	size_t n = 0;
	const char *p = text;
	for (;;) {
		size_t len = strcspn(p, ",");
		char item[IP4_STR_MAX];
		uint32_t a;
		if (len == 0 || len >= sizeof(item)) {
			log_error("vpcd", "--vpn-outside-addresses: expected ADDR[,ADDR...], got '%s'", text);
			goto bad;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (!ip4_parse(item, &a) || a == 0) {
			log_error("vpcd", "--vpn-outside-addresses: '%s' is not an IPv4 address", item);
			goto bad;
		}
		for (size_t i = 0; i < n; i++)
			if (addrs[i] == a) {
				log_error("vpcd", "--vpn-outside-addresses: %s is given twice", item);
				goto bad;
			}
		if (n == VPN_OUTSIDE_MAX) {
			log_error("vpcd", "--vpn-outside-addresses: more than %d addresses", VPN_OUTSIDE_MAX);
			goto bad;
		}
		addrs[n++] = a;
		if (!p[len])
			break;
		p += len + 1;
	}
	*count = n;
	return addrs;
bad:
	free(addrs);
	return NULL;
}

static int write_credentials(const char *path, const struct sigv4_key *key)
{
	char text[512];
	int n = snprintf(text, sizeof(text), "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
			 key->k_access_key_id, key->k_secret);
	int rc = n > 0 && (size_t)n < sizeof(text) ? fs_write_private(path, text, (size_t)n) : -1;
	secret_wipe(text, sizeof(text));
	return rc;
}

extern char **environ;

/* Secrets vpcd may find in its environment: taken out of it (the bytes
 * overwritten in place, so that /proc/PID/environ no longer shows them,
 * then unset), so that no program vpcd runs inherits them. */
static const char *const env_secrets[] = { "VPCD_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY",
					   "AWS_SESSION_TOKEN" };

/* name's value into out (size bytes), then wiped from the environment;
 * true when it was set and not empty. */
static bool env_take(const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	bool found = false;
	if (size)
		out[0] = '\0';
	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, name, nl) && (*e)[nl] == '=') {
			char *v = *e + nl + 1;
			if (!found && size)
				snprintf(out, size, "%s", v);
			found = true;
			secret_wipe(v, strlen(v));
		}
	unsetenv(name);
	return found && size && out[0];
}

/* The key named by VPCD_ACCESS_KEY_ID and VPCD_SECRET_ACCESS_KEY, if both
 * are set; every secret of env_secrets is gone from environ afterwards. */
static bool env_key_take(struct sigv4_key *key)
{
	const char *id = getenv("VPCD_ACCESS_KEY_ID");
	bool have = id && *id;
	if (have)
		snprintf(key->k_access_key_id, sizeof(key->k_access_key_id), "%s", id);
	have = env_take("VPCD_SECRET_ACCESS_KEY", key->k_secret, sizeof(key->k_secret)) && have;
	for (size_t i = 1; i < ARRAY_LEN(env_secrets); i++)
		env_take(env_secrets[i], NULL, 0);
	if (!have)
		sigv4_key_wipe(key);
	return have;
}

/* key: the environment's (env_key_take), or empty. */
static int setup_key(const char *data_dir, struct sigv4_key *key)
{
	if (key->k_access_key_id[0] && key->k_secret[0]) {
		log_info("vpcd", "root access key %s from the environment", key->k_access_key_id);
		return 0;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/credentials", data_dir);
	if (read_credentials(path, key) == 0) {
		log_info("vpcd", "root access key %s from %s", key->k_access_key_id, path);
		return 0;
	}
	memcpy(key->k_access_key_id, "AKIA", 4);
	random_chars(key->k_access_key_id + 4, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
	random_chars(key->k_secret, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	if (write_credentials(path, key) < 0) {
		log_error("vpcd", "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	log_info("vpcd", "generated root access key %s; written to %s (mode 0600)", key->k_access_key_id, path);
	return 0;
}

/* true when the --listen address is not in 127.0.0.0/8 */
static bool listen_beyond_loopback(const char *listen)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
	struct in_addr in;
	if (n >= sizeof(host))
		return true;
	memcpy(host, listen, n);
	host[n] = '\0';
	return inet_pton(AF_INET, host, &in) != 1 || (ntohl(in.s_addr) >> 24) != 127;
}

/* The API thread's wakeup hook for the engine: its observed state in. */
static void engine_wakeup(void *arg, struct api *api)
{
	(void)api;
	engine_observe(arg);
}

int main(int argc, char **argv)
{
	/* everything vpcd creates is its own alone (the database, its WAL,
	 * keys); the secrets in the environment are taken out of it at once */
	umask(077);
	struct sigv4_key key;
	memset(&key, 0, sizeof(key));
	(void)env_key_take(&key);
	const char *listen = "127.0.0.1:8775", *data_dir = "./var", *region = "us-east-1";
	const char *account = "123456789012";
	const char *vpn_outside = NULL, *vpn_tun = ENGINE_TUN_DEFAULT;
	bool vpn_routes = true, dataplane = false, sync_full = true, tls = false;
	const char *tls_cert = NULL, *tls_key = NULL, *user = NULL;
	unsigned max_conns = 0, max_client_conns = 0, request_timeout = 0;
	struct quota_limits quotas;
	quota_defaults(&quotas);
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "region", required_argument, NULL, 'r' },
		{ "account-id", required_argument, NULL, 'a' },
		{ "vpn-outside-addresses", required_argument, NULL, 'o' },
		{ "vpn-tun", required_argument, NULL, 't' },
		{ "no-vpn-routes", no_argument, NULL, 'R' },
		{ "dataplane", no_argument, NULL, 'P' },
		{ "uplink", required_argument, NULL, 'U' },
		{ "router-shed-nice", required_argument, NULL, 'N' },
		{ "sync", required_argument, NULL, 'S' },
		{ "tls", no_argument, NULL, 'T' },
		{ "user", required_argument, NULL, 'u' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "max-connections", required_argument, NULL, 'M' },
		{ "max-client-connections", required_argument, NULL, 'm' },
		{ "request-timeout", required_argument, NULL, 'W' },
		{ "quota", required_argument, NULL, 'Q' },
		{ "debug", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'r': region = optarg; break;
		case 'a': account = optarg; break;
		case 'o': vpn_outside = optarg; break;
		case 't': vpn_tun = optarg; break;
		case 'R': vpn_routes = false; break;
		case 'P': dataplane = true; break;
		case 'U':
			if (engine_uplink_configure(optarg) < 0) {
				log_error("vpcd", "--uplink %s: expected IFNAME or IFNAME,via=ADDR", optarg);
				return 2;
			}
			break;
		case 'N': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (!optarg[0] || *end || engine_dataplane_configure_shed(n < 0 || n > 19 ? -1 : (int)n) < 0) {
				log_error("vpcd", "--router-shed-nice %s: expected 0..19", optarg);
				return 2;
			}
			break;
		}
		case 'S':
			if (strcmp(optarg, "full") != 0 && strcmp(optarg, "normal") != 0) {
				log_error("vpcd", "--sync %s: expected full or normal", optarg);
				return 2;
			}
			sync_full = strcmp(optarg, "full") == 0;
			break;
		case 'T': tls = true; break;
		case 'u': user = optarg; break;
		case 'C': tls_cert = optarg; tls = true; break;
		case 'K': tls_key = optarg; tls = true; break;
		case 'M':
			if (!parse_count("max-connections", optarg, 16, 1000000, &max_conns))
				return 2;
			break;
		case 'm':
			if (!parse_count("max-client-connections", optarg, 1, 1000000, &max_client_conns))
				return 2;
			break;
		case 'W':
			if (!parse_count("request-timeout", optarg, 1, 3600, &request_timeout))
				return 2;
			break;
		case 'Q':
			if (quota_parse(optarg, &quotas) < 0)
				return 2;
			break;
		case 'D': log_set_level(LOG_DEBUG); break;
		case 'V': printf("vpcd %s\n", VPCD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!region_find(region)) {
		log_error("vpcd", "unknown region '%s'", region);
		return 2;
	}
	if (strlen(account) != 12 || strspn(account, "0123456789") != 12) {
		log_error("vpcd", "--account-id must be 12 digits");
		return 2;
	}
	uint32_t *outside = NULL;
	size_t noutside = 0;
	if (vpn_outside && !(outside = parse_outside_addresses(vpn_outside, &noutside)))
		return 2;
	/* SIGTERM from here on ends vpcd cleanly, also while it starts */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* the port first: a vpcd that cannot serve must not touch the state
	 * (another vpcd may own it) */
	int listen_fd = api_listen(listen);
	if (listen_fd < 0) {
		free(outside);
		return 1;
	}
	/* 0700, and every file in it 0600, whatever an earlier run left */
	if (fs_private_dir(data_dir) < 0)
		return 1;
	if (setup_key(data_dir, &key) < 0)
		return 1;
	struct api_tls tls_pair;
	memset(&tls_pair, 0, sizeof(tls_pair));
	if (tls && api_tls_load(data_dir, tls_cert, tls_key, listen, &tls_pair) < 0)
		return 1;
	if (!tls && listen_beyond_loopback(listen))
		log_warn("vpcd", "the API listens on %s, beyond loopback, without TLS: requests, answers and the "
			 "pre-shared keys in them cross the network in clear; use --tls", listen);
	/* as root: the helper forked, this process unprivileged once the store
	 * is open (priv_drop), working inside the data dir */
	const char *uplink = engine_uplink_configured();
	char uplink_if[32] = "";
	if (uplink)
		snprintf(uplink_if, sizeof(uplink_if), "%.*s", (int)strcspn(uplink, ","), uplink);
	struct priv_config pcfg = {
		.pc_user = user, .pc_data_dir = data_dir, .pc_helper = noutside || dataplane,
		.pc_outside = outside, .pc_noutside = noutside, .pc_tun = vpn_tun,
		.pc_uplink_ifname = uplink_if[0] ? uplink_if : NULL,
		.pc_wipe = { &key, tls_pair.at_key_pem },
		.pc_wipe_len = { sizeof(key), tls_pair.at_key_pem ? strlen(tls_pair.at_key_pem) : 0 },
		.pc_close_fd = listen_fd,
	};
	const char *state_dir;
	if (priv_separate(&pcfg, &state_dir) < 0)
		return 1;
	struct store *st = store_open(state_dir);
	/* the engine's own view of the state (a second connection), opened
	 * while the data dir's parents can still be entered: SQLite opens
	 * the database by its full path */
	struct state_replica *engine_view = st && (noutside || dataplane) ? state_replica_open(st) : NULL;
	if (!st || store_set_sync(st, sync_full) < 0 || priv_drop() < 0)
		return 1;
	struct cache *cache = cache_new();
	if (store_load_all(st, load_row, cache) < 0) {
		log_error("vpcd", "cannot load the state from %s", data_dir);
		return 1;
	}
	struct api_config cfg = { listen, region, account, &key, 1, outside, noutside, NULL, sync_full, listen_fd,
				  tls_pair.at_cert_pem, tls_pair.at_key_pem, max_conns, max_client_conns, request_timeout,
				  &quotas };
	struct api *api = api_new(&cfg, st, cache);
	if (api_bootstrap(api) < 0)
		return 1;
	/* vpcctl trace: one synthetic packet through the router's own code */
	api_set_tracer(api, engine_trace);
	/* the tunnels and the data plane: without them (no address of this
	 * host, no TUN, not root) the API still serves */
	struct engine *engine = NULL;
	if (noutside || dataplane) {
		struct engine_config ecfg = { vpn_tun, outside, noutside, vpn_routes, dataplane, state_dir };
		if ((engine = engine_new(&ecfg))) {
			/* the engine follows the state's change feed and writes
			 * observed state through it when its events queue wakes
			 * the API thread's loop */
			engine_attach(engine, api_state(api), engine_view, api_loop(api));
			engine_view = NULL;
			api_on_wakeup(api, engine_wakeup, engine);
		}
	}

	state_replica_free(engine_view);	/* no engine runs */
	log_info("vpcd", "vpcd %s: state in %s, point the aws CLI at it with:", VPCD_VERSION, data_dir);
	if (tls)
		log_info("vpcd", "  AWS_SHARED_CREDENTIALS_FILE=%s/credentials aws --region %s --endpoint-url https://%s "
			 "--ca-bundle %s ec2 describe-vpcs", data_dir, region, listen, tls_pair.at_cert_path);
	else
		log_info("vpcd", "  AWS_SHARED_CREDENTIALS_FILE=%s/credentials aws --region %s --endpoint-url http://%s ec2 describe-vpcs",
			 data_dir, region, listen);
	int rc = api_serve(api, &stop_requested);
	engine_free(engine);
	api_free(api);
	cache_free(cache);
	store_close(st);
	sigv4_key_wipe(&key);
	api_tls_free(&tls_pair);
	free(outside);
	priv_finish();
	log_info("vpcd", "stopped");
	return rc < 0 ? 1 : 0;
}
