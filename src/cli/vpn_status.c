/*
 * vpn_status.c — `vpcctl vpn status [VPN-ID]`: the console's tunnel
 * status tab (VgwTelemetry, through the EC2 API) and, per tunnel, what a
 * Cisco router's `show crypto isakmp sa` and `show crypto ipsec sa` print
 * (peer and local addresses, ISAKMP state, SPIs in and out, transforms,
 * remaining lifetimes, packets and bytes each way, replay window, drops by
 * cause); and for a dynamic connection, what `show ip bgp summary` prints
 * for its two BGP sessions (neighbor, AS, up/down time, state or prefixes
 * received, prefixes advertised, the last error) and the routes it learned.
 *
 * EC2 has no action for that detail: vpcd serves it as its own action,
 * VpcdDescribeTunnelDetails (src/api/vpcd_actions.c), SigV4-signed like
 * every call, so this works against a vpcd on another host. vpcd's engine
 * refreshes the detail at every UP/DOWN change and at most every few
 * seconds. When there is none (vpcd runs no tunnel for the connection) it
 * says so, and prints the telemetry alone. Times in the detail are
 * absolute, so the remaining lifetimes printed are as of now.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"

const char cli_vpn_status_help[] =
	"usage: vpcctl vpn status [VPN-ID]\n"
	"\n"
	"Per tunnel of each VPN connection (or of VPN-ID): outside address, status\n"
	"(UP/DOWN), since when, the status message and accepted routes, from the\n"
	"connection's VgwTelemetry (DescribeVpnConnections). Deleted connections are\n"
	"left out unless named.\n"
	"\n"
	"Then, per tunnel, what `show crypto isakmp sa` and `show crypto ipsec sa`\n"
	"print on a Cisco router: the ISAKMP SA (peer and local address, state such\n"
	"as QM_IDLE, cookies, algorithms, remaining lifetime) and each IPsec SA (SPIs\n"
	"in and out, transform, selectors, remaining lifetime, packets and bytes each\n"
	"way, replay window, drops by cause). EC2 has no action for this: vpcd\n"
	"serves it as its own action, VpcdDescribeTunnelDetails, and refreshes it\n"
	"every few seconds and at every status change. When there is none, vpcctl\n"
	"says why and prints the telemetry alone.\n"
	"\n"
	"A dynamic (BGP) connection's tunnel is UP only while IPsec is up and its BGP\n"
	"session is Established, as on AWS; its sessions are printed as `show ip bgp\n"
	"summary` prints them: neighbor (the router's inside address), AS, up/down\n"
	"time, state (or the prefixes received once Established; Idle (PfxCt) after\n"
	"the 100-prefix limit), prefixes advertised, the last error; then the routes\n"
	"learned, each with the tunnel that carries it.\n"
	"\n"
	"--output json: {VpnConnections: [{..., VgwTelemetry, TunnelDetail: [per\n"
	"tunnel], TunnelDetailUpdatedAt} or TunnelDetailUnavailable: why, Dynamic\n"
	"(true for BGP routing), and for a dynamic connection whose BGP vpcd has\n"
	"run Bgp: {Error?, Tunnels: [per tunnel {NeighborAddress,\n"
	"State, Since, UpDownSeconds, LocalAsn, NeighborAsn, Received, Advertised,\n"
	"LastError, Cause}], Routes}]}; the remaining lifetimes are in\n"
	"RemainingSeconds.\n";

/* ---- the detail from vpcd ---------------------------------------------------- */

/* What vpcd keeps of the connections in kept (VpcdDescribeTunnelDetails):
 * an object id -> {"Detail": the tunnel detail, absent when vpcd runs no
 * tunnel of it; "Bgp": the BGP picture, absent for a static connection or
 * before BGP ran}; NULL with why when vpcd would not say. */
static struct doc *detail_fetch(struct cli_ctx *cx, const struct doc *kept, char *why, size_t len)
{
	struct ec2_client *c = cli_client(cx);
	if (!c) {
		snprintf(why, len, "no client");
		return NULL;
	}
	struct ec2_params p;
	ec2_params_init(&p);
	int n = 0;
	doc_foreach(v, kept)
		if (doc_get_str(v, "VpnConnectionId"))
			ec2_param(&p, doc_get_str(v, "VpnConnectionId"), "VpnConnectionId.%d", ++n);
	struct ec2_error err;
	struct doc *out = ec2_call(c, "VpcdDescribeTunnelDetails", &p, &err);
	ec2_params_free(&p);
	if (!out) {
		snprintf(why, len, "VpcdDescribeTunnelDetails: %.64s: %.300s", err.e_code, err.e_message);
		return NULL;
	}
	struct doc *found = doc_obj();
	doc_foreach(item, doc_get(out, "TunnelDetails")) {
		const char *id = doc_get_str(item, "VpnConnectionId");
		if (!id)
			continue;
		struct doc *entry = doc_set(found, id, doc_obj());
		static const char *const members[][2] = { { "Document", "Detail" }, { "BgpDocument", "Bgp" } };
		for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
			const char *json = doc_get_str(item, members[i][0]);
			struct doc *d = json ? doc_from_json(json, strlen(json)) : NULL;
			if (d && d->d_type == DOC_OBJ)
				doc_set(entry, members[i][1], d);
			else
				doc_free(d);
		}
	}
	doc_free(out);
	return found;
}

static int64_t remaining(const struct doc *o, const char *key, int64_t now)
{
	int64_t at = doc_get_int(o, key, 0);
	return at > now ? at - now : 0;
}

/* One tunnel's detail as vpcd keeps it, with the remaining times as of now. */
static struct doc *tunnel_view(const struct doc *stored, int64_t now)
{
	struct doc *t = doc_clone(stored);
	struct doc *is = doc_get(t, "Isakmp");
	if (is && doc_get(is, "ExpiresAt")) {
		doc_set_int(is, "RemainingSeconds", remaining(is, "ExpiresAt", now));
		doc_set_int(is, "ReauthInSeconds", remaining(is, "ReauthAt", now));
	}
	if (is)
		doc_set_str(is, "Status", strcmp(doc_get_str(is, "State") ? doc_get_str(is, "State") : "",
						 "QM_IDLE") == 0 ? "ACTIVE" : "NEGOTIATING");
	struct doc *v2 = doc_get(t, "IkeSa");
	if (v2 && doc_get(v2, "ExpiresAt")) {
		doc_set_int(v2, "RemainingSeconds", remaining(v2, "ExpiresAt", now));
		doc_set_int(v2, "RekeyInSeconds", remaining(v2, "RekeyAt", now));
	}
	doc_foreach(sa, doc_get(t, "IpsecSas")) {
		doc_set_int(sa, "RemainingSeconds", remaining(sa, "ExpiresAt", now));
		doc_set_int(sa, "RekeyInSeconds", remaining(sa, "RekeyAt", now));
	}
	return t;
}

/* ---- printing ------------------------------------------------------------------ */

static void print_time(FILE *f, int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fputs(buf, f);
}

static const char *s_or(const struct doc *o, const char *key, const char *dflt)
{
	const char *s = doc_get_str(o, key);
	return s && *s ? s : dflt;
}

static long long ival(const struct doc *o, const char *key)
{
	return (long long)doc_get_int(o, key, 0);
}

static void print_drops(FILE *f, const char *what, const struct doc *drops)
{
	fprintf(f, "%s", what);
	bool any = false;
	doc_foreach(d, drops) {
		char buf[32];
		fprintf(f, "%s%s %s", any ? ", " : " ", d->d_key, doc_scalar_text(d, buf, sizeof(buf)));
		any = true;
	}
	fprintf(f, "%s\n", any ? "" : " none");
}

static void print_isakmp(FILE *f, const struct doc *t)
{
	const struct doc *is = doc_get(t, "Isakmp");
	fprintf(f, "  IPv4 Crypto ISAKMP SA\n");
	fprintf(f, "  %-16s %-16s %-14s %7s %s\n", "dst", "src", "state", "conn-id", "status");
	const char *state = s_or(is, "State", "NONE");
	if (strcmp(state, "NONE") == 0) {
		fprintf(f, "  (no ISAKMP SA)\n");
		return;
	}
	fprintf(f, "  %-16s %-16s %-14s %7lld %s\n", s_or(t, "PeerIpAddress", "-"),
		s_or(t, "OutsideIpAddress", "-"), state, ival(is, "ConnId"), s_or(is, "Status", "-"));
	fprintf(f, "    %s, local %s, peer %s%s%s\n", s_or(is, "Role", "-"), s_or(is, "LocalAddress", "-"),
		s_or(is, "PeerAddress", "-"), doc_get_bool(is, "NatPeer", false) ? ", peer behind NAT" : "",
		doc_get_bool(is, "NatLocal", false) ? ", we are behind NAT" : "");
	fprintf(f, "    cookies %s/%s\n", s_or(is, "CookieI", "-"), s_or(is, "CookieR", "-"));
	if (doc_get_str(is, "Encryption"))
		fprintf(f, "    encr %s, hash %s, auth %s, DH group %lld, lifetime %lld s", s_or(is, "Encryption", "-"),
			s_or(is, "Hash", "-"), s_or(is, "Auth", "-"), ival(is, "DhGroup"), ival(is, "LifetimeSeconds"));
	if (doc_get(is, "RemainingSeconds"))
		fprintf(f, ", remaining %lld s (re-authentication in %lld s)", ival(is, "RemainingSeconds"),
			ival(is, "ReauthInSeconds"));
	if (doc_get_str(is, "Encryption"))
		fputc('\n', f);
}

/* The IKEv2 SA, in the style of `swanctl --list-sas`. */
static void print_ikev2(FILE *f, const struct doc *t)
{
	const struct doc *is = doc_get(t, "IkeSa");
	const char *state = s_or(is, "State", "NONE");
	fprintf(f, "  IKEv2 SA\n");
	if (strcmp(state, "NONE") == 0) {
		fprintf(f, "  (no IKE SA)\n");
		return;
	}
	fprintf(f, "  #%lld: %s, IKEv2, %s_i%s %s_r%s\n", ival(is, "Serial"), state,
		s_or(is, "SpiI", "-"), strcmp(s_or(is, "Role", ""), "initiator") ? "" : "*",
		s_or(is, "SpiR", "-"), strcmp(s_or(is, "Role", ""), "responder") ? "" : "*");
	fprintf(f, "    local  '%s' @ %s%s\n", s_or(t, "OutsideIpAddress", "-"), s_or(is, "LocalAddress", "-"),
		doc_get_bool(is, "NatLocal", false) ? " (behind NAT)" : "");
	fprintf(f, "    remote '%s' @ %s%s\n", s_or(t, "PeerIpAddress", "-"), s_or(is, "PeerAddress", "-"),
		doc_get_bool(is, "NatPeer", false) ? " (behind NAT)" : "");
	if (doc_get_str(is, "Encryption")) {
		fprintf(f, "    %s", s_or(is, "Encryption", "-"));
		if (doc_get_str(is, "Integrity"))
			fprintf(f, "/%s", s_or(is, "Integrity", "-"));
		fprintf(f, "/%s/DH group %lld, auth %s\n", s_or(is, "Prf", "-"), ival(is, "DhGroup"),
			s_or(is, "Auth", "-"));
	}
	if (doc_get(is, "RemainingSeconds"))
		fprintf(f, "    lifetime %lld s, rekeying in %lld s, expires in %lld s\n",
			ival(is, "LifetimeSeconds"), ival(is, "RekeyInSeconds"), ival(is, "RemainingSeconds"));
	fprintf(f, "    message ids: next request %lld, next expected %lld; %lld IKE SA(s) held\n",
		ival(is, "MessageIdOut"), ival(is, "MessageIdIn"), ival(is, "IkeSas"));
}

static void print_sa(FILE *f, const struct doc *sa, bool in)
{
	const char *spi = s_or(sa, in ? "SpiIn" : "SpiOut", "0x0");
	unsigned long v = strtoul(spi, NULL, 16);
	fprintf(f, "      spi: %s(%lu)\n", spi, v);
	fprintf(f, "        transform: %s ,\n", s_or(sa, "Transform", "-"));
	fprintf(f, "        in use settings ={Tunnel%s, }\n", doc_get_bool(sa, "UdpEncap", false) ? " UDP-Encaps" : "");
	fprintf(f, "        sa timing: remaining key lifetime (sec): (%lld), rekey in %lld s\n",
		ival(sa, "RemainingSeconds"), ival(sa, "RekeyInSeconds"));
	if (in)
		fprintf(f, "        replay detection support: Y  replay window size: %lld\n", ival(sa, "ReplayWindow"));
	fprintf(f, "        Status: %s\n", doc_get_bool(sa, "Lingering", false) ? "DELETED (inbound kept a moment)"
									 : "ACTIVE");
}

static void print_ipsec(FILE *f, const struct doc *t)
{
	const struct doc *sas = doc_get(t, "IpsecSas");
	if (!sas || !sas->d_first) {
		fprintf(f, "  no IPsec SA\n");
	}
	doc_foreach(sa, sas) {
		fprintf(f, "  local  ident (addr/mask/prot/port): %s\n", s_or(sa, "LocalSelector", "-"));
		fprintf(f, "  remote ident (addr/mask/prot/port): %s\n", s_or(sa, "RemoteSelector", "-"));
		fprintf(f, "  current_peer %s port %lld\n", s_or(t, "PeerIpAddress", "-"),
			doc_get_bool(sa, "UdpEncap", false) ? ival(sa, "EncapPort") : 0LL);
		fprintf(f, "    #pkts encaps: %lld, #bytes encaps: %lld, #seq out: %lld\n", ival(sa, "PacketsOut"),
			ival(sa, "BytesOut"), ival(sa, "SeqOut"));
		fprintf(f, "    #pkts decaps: %lld, #bytes decaps: %lld, #seq in: %lld\n", ival(sa, "PacketsIn"),
			ival(sa, "BytesIn"), ival(sa, "SeqIn"));
		print_drops(f, "    #drops in:", doc_get(sa, "DropsIn"));
		print_drops(f, "    #drops out:", doc_get(sa, "DropsOut"));
		fprintf(f, "     inbound esp sas:\n");
		print_sa(f, sa, true);
		fprintf(f, "     outbound esp sas:\n");
		print_sa(f, sa, false);
	}
	print_drops(f, "  tunnel drops:", doc_get(t, "Drops"));
	if (ival(t, "PacketsForOtherTunnel"))
		fprintf(f, "  the other tunnel's inside pair taken from this tunnel's SAs: %lld packets\n",
			ival(t, "PacketsForOtherTunnel"));
}

static void print_detail(FILE *f, const struct doc *v, int64_t now)
{
	const char *id = doc_get_str(v, "VpnConnectionId");
	const char *why = doc_get_str(v, "TunnelDetailUnavailable");
	if (why) {
		fprintf(f, "\n%s: tunnel detail unavailable: %s\n", id, why);
		return;
	}
	int64_t at = doc_get_int(v, "TunnelDetailUpdatedAt", 0);
	int n = 0;
	doc_foreach(t, doc_get(v, "TunnelDetail")) {
		n++;
		fprintf(f, "\n%s tunnel %d (detail as of ", id, n);
		print_time(f, at);
		fprintf(f, ", %lld s ago)\n", (long long)(now > at ? now - at : 0));
		if (!doc_get_bool(t, "Running", false)) {
			fprintf(f, "  vpcd does not run this tunnel (see its status message)\n");
			continue;
		}
		fprintf(f, "  status %s%s%s\n", s_or(t, "Status", "-"),
			strcmp(s_or(t, "Status", ""), "UP") ? ": " : "",
			strcmp(s_or(t, "Status", ""), "UP") ? s_or(t, "StatusMessage", "") : "");
		if (ival(t, "IkeVersion") == 2)
			print_ikev2(f, t);
		else
			print_isakmp(f, t);
		print_ipsec(f, t);
	}
}

/* ---- BGP (dynamic connections) --------------------------------------------------- */

/* The router's inside address (.2 of the tunnel's /30) of the tunnel with
 * outside address ip, from the connection's TunnelOptions; "" when unknown. */
static void neighbor_address(const struct doc *vpn, const char *ip, char out[INET_ADDRSTRLEN])
{
	out[0] = '\0';
	doc_foreach(t, doc_get(doc_get(vpn, "Options"), "TunnelOptions")) {
		const char *outside = doc_get_str(t, "OutsideIpAddress");
		const char *cidr = doc_get_str(t, "TunnelInsideCidr");
		char net[32];	/* "169.254.100.100/30" */
		struct in_addr a;
		if (!outside || !ip || strcmp(outside, ip) != 0 || !cidr || strlen(cidr) >= sizeof(net))
			continue;
		snprintf(net, sizeof(net), "%s", cidr);
		char *slash = strchr(net, '/');
		if (!slash || strcmp(slash, "/30") != 0)
			return;
		*slash = '\0';
		if (inet_pton(AF_INET, net, &a) != 1)
			return;
		a.s_addr = htonl((ntohl(a.s_addr) & ~3u) + 2);
		inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
		return;
	}
}

/* The BGP picture as vpcctl shows it: per tunnel its neighbor address
 * and how long its state has lasted (UpDownSeconds, as of now). */
static struct doc *bgp_view(const struct doc *vpn, const struct doc *stored, int64_t now)
{
	struct doc *b = doc_clone(stored);
	int n = 0;
	doc_foreach(t, doc_get(b, "Tunnels")) {
		char addr[INET_ADDRSTRLEN];
		const char *ip = doc_get_str(t, "OutsideIpAddress");
		if (!ip) {	/* by index: the n-th tunnel */
			int k = 0;
			doc_foreach(to, doc_get(doc_get(vpn, "Options"), "TunnelOptions"))
				if (k++ == n)
					ip = doc_get_str(to, "OutsideIpAddress");
		}
		neighbor_address(vpn, ip, addr);
		if (addr[0])
			doc_set_str(t, "NeighborAddress", addr);
		int64_t since = doc_get_int(t, "Since", 0);
		if (since > 0)
			doc_set_int(t, "UpDownSeconds", now > since ? now - since : 0);
		n++;
	}
	return b;
}

/* Cisco's Up/Down column: hh:mm:ss under a day, then 1d02h, 5w3d; "never". */
static void updown_text(const struct doc *t, char *buf, size_t len)
{
	const struct doc *s = doc_get(t, "UpDownSeconds");
	if (!s) {
		snprintf(buf, len, "never");
		return;
	}
	long long v = s->d_int > 0 ? (long long)s->d_int : 0;
	if (v < 86400)
		snprintf(buf, len, "%02lld:%02lld:%02lld", v / 3600, v / 60 % 60, v % 60);
	else if (v < 7 * 86400)
		snprintf(buf, len, "%lldd%02lldh", v / 86400, v / 3600 % 24);
	else
		snprintf(buf, len, "%lldw%lldd", v / (7 * 86400), v / 86400 % 7);
}

/* The State/PfxRcd column: the prefixes received once Established, else
 * the state, "Idle (PfxCt)" after the prefix limit as IOS shows it. */
static void state_text(const struct doc *t, char *buf, size_t len)
{
	const char *state = s_or(t, "State", "-");
	if (strcmp(state, "Established") == 0)
		snprintf(buf, len, "%lld", ival(t, "Received"));
	else if (strcmp(s_or(t, "Cause", ""), "prefix-limit") == 0)
		snprintf(buf, len, "Idle (PfxCt)");
	else
		snprintf(buf, len, "%s", state);
}

static void print_bgp(FILE *f, const struct doc *v)
{
	const struct doc *b = doc_get(v, "Bgp");
	const char *id = doc_get_str(v, "VpnConnectionId");
	if (!b) {
		if (doc_get_bool(v, "Dynamic", false))
			fprintf(f, "\n%s BGP: no session information from vpcd yet (its BGP has not run)\n", id);
		return;
	}
	long long local = 0;
	doc_foreach(t, doc_get(b, "Tunnels"))
		if (!local)
			local = ival(t, "LocalAsn");
	fprintf(f, "\n%s BGP (show ip bgp summary)\n", id);
	if (local)
		fprintf(f, "  local AS number %lld\n", local);
	if (doc_get_str(b, "Error"))
		fprintf(f, "  BGP cannot run: %s\n", doc_get_str(b, "Error"));
	const struct doc *tunnels = doc_get(b, "Tunnels");
	if (tunnels && tunnels->d_first) {
		fprintf(f, "  %-15s %1s %10s %8s %-12s %6s %6s  %s\n", "Neighbor", "V", "AS", "Up/Down", "State/PfxRcd",
			"PfxSnt", "Tunnel", "Last error");
		int n = 0;
		doc_foreach(t, tunnels) {
			char updown[64], state[40];
			updown_text(t, updown, sizeof(updown));
			state_text(t, state, sizeof(state));
			fprintf(f, "  %-15s %1d %10lld %8s %-12s %6lld %6d  %s\n", s_or(t, "NeighborAddress", "-"), 4,
				ival(t, "NeighborAsn"), updown, state, ival(t, "Advertised"), ++n, s_or(t, "LastError", "-"));
		}
	}
	const struct doc *routes = doc_get(b, "Routes");
	fprintf(f, "  routes learned: %zu\n", routes ? routes->d_count : (size_t)0);
	doc_foreach(r, routes) {
		fprintf(f, "    %-18s via tunnel %lld, AS path length %lld", s_or(r, "DestinationCidrBlock", "-"),
			ival(r, "Tunnel") + 1, ival(r, "AsPathLength"));
		if (doc_get(r, "Med"))
			fprintf(f, ", MED %lld", ival(r, "Med"));
		fputc('\n', f);
	}
}

/* ---- the command ------------------------------------------------------------------ */

int cli_vpn_status(struct cli_ctx *cx, int argc, char **argv)
{
	if (argc > 1 && argv[1][0] == '-')
		return cli_usage_error("vpn status", "unknown option '%s'", argv[1]);
	if (argc > 2)
		return cli_usage_error("vpn status", "one VPN-ID at most");
	const char *vpn_id = argc > 1 ? argv[1] : NULL;
	struct ec2_params p;
	ec2_params_init(&p);
	if (vpn_id)
		ec2_param(&p, vpn_id, "VpnConnectionId.1");
	struct doc *all = cli_describe(cx, "DescribeVpnConnections", &p, "VpnConnections");
	ec2_params_free(&p);
	if (!all)
		return CLI_EXIT_ERROR;
	struct doc *kept = doc_list();
	doc_foreach(v, doc_get(all, "VpnConnections")) {
		const char *st = doc_get_str(v, "State");
		if (!vpn_id && st && strcmp(st, "deleted") == 0)
			continue;
		struct doc *o = doc_obj();
		static const char *const keep[] = { "VpnConnectionId", "State", "CustomerGatewayId", "VpnGatewayId" };
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (doc_get_str(v, keep[i]))
				doc_set_str(o, keep[i], doc_get_str(v, keep[i]));
		if (cli_tag(v, "Name"))
			doc_set_str(o, "Name", cli_tag(v, "Name"));
		struct doc *tel = doc_get(v, "VgwTelemetry");
		doc_set(o, "VgwTelemetry", tel ? doc_clone(tel) : doc_list());
		const struct doc *opts = doc_get(v, "Options");
		/* DescribeVpnConnections' answer: a boolean member comes back as text */
		const char *sro = doc_get_str(opts, "StaticRoutesOnly");
		bool is_static = sro ? strcmp(sro, "true") == 0 : doc_get_bool(opts, "StaticRoutesOnly", false);
		doc_set_bool(o, "Dynamic", opts && !is_static);
		if (opts && doc_get(opts, "TunnelOptions"))
			doc_set(doc_set(o, "Options", doc_obj()), "TunnelOptions", doc_clone(doc_get(opts, "TunnelOptions")));
		doc_push(kept, o);
	}
	doc_free(all);

	/* the detail, from vpcd's own action */
	char why[512] = "";
	struct doc *stored = kept->d_first ? detail_fetch(cx, kept, why, sizeof(why)) : NULL;
	int64_t now = (int64_t)time(NULL);
	doc_foreach(v, kept) {
		const char *id = doc_get_str(v, "VpnConnectionId");
		const struct doc *entry = stored && id ? doc_get(stored, id) : NULL;
		const struct doc *detail = doc_get(entry, "Detail");
		if (doc_get(entry, "Bgp"))
			doc_set(v, "Bgp", bgp_view(v, doc_get(entry, "Bgp"), now));
		char reason[640];
		if (!stored)
			snprintf(reason, sizeof(reason), "%s", why);
		else if (!detail)
			snprintf(reason, sizeof(reason), "vpcd runs no tunnel of %s (deleted, not available, or no "
				 "usable outside address; see the status messages)", id);
		if (!detail) {
			doc_set_str(v, "TunnelDetailUnavailable", reason);
			continue;
		}
		doc_set_int(v, "TunnelDetailUpdatedAt", doc_get_int(detail, "UpdatedAt", 0));
		struct doc *list = doc_set(v, "TunnelDetail", doc_list());
		doc_foreach(t, doc_get(detail, "Tunnels"))
			doc_push(list, tunnel_view(t, now));
	}
	doc_free(stored);
	/* the tunnel options were for the inside addresses: not printed (they
	 * hold the pre-shared keys) */
	doc_foreach(v, kept)
		doc_remove(v, "Options");

	if (cx->cx_output == CLI_OUTPUT_JSON) {
		struct doc *o = doc_obj();
		doc_set(o, "VpnConnections", kept);
		json_print(o, cx->cx_out);
		doc_free(o);
		return CLI_EXIT_OK;
	}
	static const char *const h[] = { "VPN CONNECTION", "STATE", "TUNNEL", "OUTSIDE ADDRESS", "STATUS", "SINCE",
					  "ROUTES", "MESSAGE" };
	struct table t;
	table_init(&t, NULL, 8, h);
	doc_foreach(v, kept) {
		int n = 0;
		doc_foreach(tu, doc_get(v, "VgwTelemetry")) {
			char num[16], routes[24];
			snprintf(num, sizeof(num), "%d", ++n);
			snprintf(routes, sizeof(routes), "%lld", (long long)doc_get_int(tu, "AcceptedRouteCount", 0));
			const char *row[] = { doc_get_str(v, "VpnConnectionId"), doc_get_str(v, "State"), num,
					      doc_get_str(tu, "OutsideIpAddress"), doc_get_str(tu, "Status"),
					      doc_get_str(tu, "LastStatusChange"), routes, doc_get_str(tu, "StatusMessage") };
			table_row(&t, row);
		}
		if (n == 0) {
			const char *row[] = { doc_get_str(v, "VpnConnectionId"), doc_get_str(v, "State"), NULL, NULL,
					      NULL, NULL, NULL, "no tunnel telemetry" };
			table_row(&t, row);
		}
	}
	table_print(&t, cx->cx_out);
	doc_foreach(v, kept)
		print_bgp(cx->cx_out, v);
	doc_foreach(v, kept)
		print_detail(cx->cx_out, v, now);
	doc_free(kept);
	return CLI_EXIT_OK;
}
