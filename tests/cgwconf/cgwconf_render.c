/*
 * cgwconf-render — renders a customer gateway configuration to stdout, for
 * tests and for whoever writes a template.  Not installed.
 *
 *   cgwconf-render [options] DEVICE_TYPE_ID    router configuration
 *   cgwconf-render [options] xml               customerGatewayConfiguration
 *   cgwconf-render list                        device types with templates
 *   cgwconf-render [options] --template FILE   a template file not built in
 *
 * The connection is the fixed one of fixture.h, changed by the options.
 * Exit 0, 1 when rendering fails (reason on stderr), 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgwconf/cgwconf.h"
#include "fixture.h"

static void usage(void)
{
	fprintf(stderr,
	    "usage: cgwconf-render [options] (DEVICE_TYPE_ID | xml | list)\n"
	    "       cgwconf-render [options] --template FILE\n"
	    "options (both tunnels unless numbered):\n"
	    "  --ike ikev1|ikev2        IKE version of the configuration\n"
	    "  --bgp                    BGP routing (else static)\n"
	    "  --cgw-ip IP  --vgw1-ip IP  --vgw2-ip IP\n"
	    "  --psk1 KEY  --psk2 KEY  --inside1 CIDR  --inside2 CIDR\n"
	    "  --local-cidr CIDR  --remote-cidr CIDR\n"
	    "  --vpc-cidr CIDR          a VPC block, primary first (repeat; replaces the fixture's)\n"
	    "  --route CIDR             a static route (repeat; replaces the fixture's)\n"
	    "  --phase1-enc L --phase1-integ L --phase1-dh L   comma-separated lists\n"
	    "  --phase2-enc L --phase2-integ L --phase2-dh L\n"
	    "  --ike-versions ikev1,ikev2\n"
	    "  --dpd-action A --startup-action A\n");
}

static int set_str(char *dst, size_t size, const char *src, const char *opt)
{
	if (strlen(src) >= size) {
		fprintf(stderr, "cgwconf-render: %s: too long\n", opt);
		return -1;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int set_algs(struct cgw_vpn_connection *c, int phase, bool encryption, const char *list)
{
	char copy[256], *save = NULL;

	if (set_str(copy, sizeof(copy), list, "algorithm list") < 0)
		return -1;
	for (unsigned t = 0; t < CGW_TUNNELS; t++) {
		struct cgw_algs *a = phase == 1 ?
		    (encryption ? &c->cv_tunnel[t].ct_phase1_encryption : &c->cv_tunnel[t].ct_phase1_integrity) :
		    (encryption ? &c->cv_tunnel[t].ct_phase2_encryption : &c->cv_tunnel[t].ct_phase2_integrity);
		char tmp[256];

		memcpy(tmp, copy, sizeof(tmp));
		a->ca_n = 0;
		for (char *tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
			if (a->ca_n == CGW_MAX_ALGS || set_str(a->ca_name[a->ca_n], CGW_ALG_LEN, tok, "algorithm") < 0)
				return -1;
			a->ca_n++;
		}
	}
	return 0;
}

static int set_dh(struct cgw_vpn_connection *c, int phase, const char *list)
{
	for (unsigned t = 0; t < CGW_TUNNELS; t++) {
		struct cgw_dh_groups *g = phase == 1 ? &c->cv_tunnel[t].ct_phase1_dh : &c->cv_tunnel[t].ct_phase2_dh;
		const char *p = list;

		g->cd_n = 0;
		while (*p != '\0') {
			char *end;
			unsigned long v = strtoul(p, &end, 10);

			if (end == p || (*end != ',' && *end != '\0') || g->cd_n == CGW_MAX_DH) {
				fprintf(stderr, "cgwconf-render: bad DH group list '%s'\n", list);
				return -1;
			}
			g->cd_group[g->cd_n++] = (unsigned)v;
			p = *end == ',' ? end + 1 : end;
		}
	}
	return 0;
}

/* Reads a template file: header lines until "---", then the body. */
static char *read_template(const char *path, unsigned *first_line)
{
	FILE *f = fopen(path, "r");
	char *text = NULL, *body;
	size_t len = 0;
	unsigned line = 1;

	if (f == NULL) {
		perror(path);
		return NULL;
	}
	{
		char chunk[4096];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			char *t = realloc(text, len + n + 1);

			if (t == NULL)
				abort();
			text = t;
			memcpy(text + len, chunk, n);
			len += n;
		}
	}
	fclose(f);
	if (text == NULL)
		return NULL;
	text[len] = '\0';
	for (body = text; *body != '\0';) {
		char *eol = strchr(body, '\n');
		size_t l = eol != NULL ? (size_t)(eol - body) : strlen(body);

		line++;
		if (l == 3 && strncmp(body, "---", 3) == 0) {
			*first_line = line;
			memmove(text, eol != NULL ? eol + 1 : body + l, strlen(eol != NULL ? eol + 1 : body + l) + 1);
			return text;
		}
		body = eol != NULL ? eol + 1 : body + l;
	}
	fprintf(stderr, "%s: no '---' line ends the header\n", path);
	free(text);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ike", required_argument, NULL, 'i' },
		{ "bgp", no_argument, NULL, 'b' },
		{ "cgw-ip", required_argument, NULL, 'c' },
		{ "vgw1-ip", required_argument, NULL, '1' },
		{ "vgw2-ip", required_argument, NULL, '2' },
		{ "psk1", required_argument, NULL, 'p' },
		{ "psk2", required_argument, NULL, 'P' },
		{ "inside1", required_argument, NULL, 'n' },
		{ "inside2", required_argument, NULL, 'N' },
		{ "local-cidr", required_argument, NULL, 'l' },
		{ "remote-cidr", required_argument, NULL, 'r' },
		{ "vpc-cidr", required_argument, NULL, 'v' },
		{ "route", required_argument, NULL, 'R' },
		{ "phase1-enc", required_argument, NULL, 'e' },
		{ "phase1-integ", required_argument, NULL, 'g' },
		{ "phase1-dh", required_argument, NULL, 'd' },
		{ "phase2-enc", required_argument, NULL, 'E' },
		{ "phase2-integ", required_argument, NULL, 'G' },
		{ "phase2-dh", required_argument, NULL, 'D' },
		{ "ike-versions", required_argument, NULL, 'V' },
		{ "dpd-action", required_argument, NULL, 'a' },
		{ "startup-action", required_argument, NULL, 's' },
		{ "template", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cgw_vpn_connection conn;
	struct strbuf out = STRBUF_SECRET_INIT;
	struct cgw_error err = { "" };
	const char *ike = NULL, *template_path = NULL;
	bool bgp = false, routes_given = false, vpc_given = false;
	enum cgw_status st;
	int opt, rc = 0;

	/* Two passes: --bgp decides the fixture, the rest change it. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--bgp") == 0)
			bgp = true;
	fixture_connection(&conn, bgp);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = 0;

		switch (opt) {
		case 'i': ike = optarg; break;
		case 'b': break;
		case 'c': r = set_str(conn.cv_cgw_outside_ip, CGW_IP_LEN, optarg, "--cgw-ip"); break;
		case '1': r = set_str(conn.cv_tunnel[0].ct_vgw_outside_ip, CGW_IP_LEN, optarg, "--vgw1-ip"); break;
		case '2': r = set_str(conn.cv_tunnel[1].ct_vgw_outside_ip, CGW_IP_LEN, optarg, "--vgw2-ip"); break;
		case 'p': r = set_str(conn.cv_tunnel[0].ct_psk, CGW_PSK_LEN, optarg, "--psk1"); break;
		case 'P': r = set_str(conn.cv_tunnel[1].ct_psk, CGW_PSK_LEN, optarg, "--psk2"); break;
		case 'n': r = set_str(conn.cv_tunnel[0].ct_inside_cidr, CGW_CIDR_LEN, optarg, "--inside1"); break;
		case 'N': r = set_str(conn.cv_tunnel[1].ct_inside_cidr, CGW_CIDR_LEN, optarg, "--inside2"); break;
		case 'l': r = set_str(conn.cv_local_ipv4_network_cidr, CGW_CIDR_LEN, optarg, "--local-cidr"); break;
		case 'r': r = set_str(conn.cv_remote_ipv4_network_cidr, CGW_CIDR_LEN, optarg, "--remote-cidr"); break;
		case 'v':
			if (!vpc_given)
				conn.cv_n_vpc_cidrs = 0;
			vpc_given = true;
			if (conn.cv_n_vpc_cidrs == CGW_MAX_VPC_CIDRS)
				r = -1;
			else
				r = set_str(conn.cv_vpc_cidrs[conn.cv_n_vpc_cidrs++], CGW_CIDR_LEN, optarg, "--vpc-cidr");
			break;
		case 'R':
			if (!routes_given)
				conn.cv_n_static_routes = 0;
			routes_given = true;
			if (conn.cv_n_static_routes == CGW_MAX_STATIC_ROUTES)
				r = -1;
			else
				r = set_str(conn.cv_static_routes[conn.cv_n_static_routes++], CGW_CIDR_LEN, optarg, "--route");
			break;
		case 'e': r = set_algs(&conn, 1, true, optarg); break;
		case 'g': r = set_algs(&conn, 1, false, optarg); break;
		case 'd': r = set_dh(&conn, 1, optarg); break;
		case 'E': r = set_algs(&conn, 2, true, optarg); break;
		case 'G': r = set_algs(&conn, 2, false, optarg); break;
		case 'D': r = set_dh(&conn, 2, optarg); break;
		case 'V':
			for (unsigned t = 0; t < CGW_TUNNELS; t++)
				conn.cv_tunnel[t].ct_ike_versions = (strstr(optarg, "ikev1") ? CGW_IKEV1 : 0) |
				    (strstr(optarg, "ikev2") ? CGW_IKEV2 : 0);
			break;
		case 'a':
			for (unsigned t = 0; t < CGW_TUNNELS && r == 0; t++)
				r = set_str(conn.cv_tunnel[t].ct_dpd_action, CGW_ACTION_LEN, optarg, "--dpd-action");
			break;
		case 's':
			for (unsigned t = 0; t < CGW_TUNNELS && r == 0; t++)
				r = set_str(conn.cv_tunnel[t].ct_startup_action, CGW_ACTION_LEN, optarg, "--startup-action");
			break;
		case 't': template_path = optarg; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
		if (r < 0)
			return 2;
	}
	if (template_path != NULL) {
		unsigned first_line = 1;
		char *text = read_template(template_path, &first_line);
		const char *base = strrchr(template_path, '/');

		if (text == NULL || optind != argc) {
			free(text);
			if (text != NULL)
				usage();
			return text != NULL ? 2 : 1;
		}
		st = cgwconf_render_template(&conn, base != NULL ? base + 1 : template_path, first_line,
		    text, ike, &out, &err);
		free(text);
	} else if (optind + 1 != argc) {
		usage();
		return 2;
	} else if (strcmp(argv[optind], "list") == 0) {
		size_t n;
		const struct cgw_device_type *types = cgwconf_device_types(&n);

		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\t%s\t%s\t%s%s\n", types[i].dt_id, types[i].dt_vendor,
			    types[i].dt_platform, types[i].dt_software,
			    (types[i].dt_ike_versions & CGW_IKEV1) ? "ikev1" : "",
			    (types[i].dt_ike_versions & CGW_IKEV2) ?
			    ((types[i].dt_ike_versions & CGW_IKEV1) ? ",ikev2" : "ikev2") : "");
		return 0;
	} else if (strcmp(argv[optind], "xml") == 0) {
		st = cgwconf_render_xml(&conn, &out, &err);
	} else {
		st = cgwconf_render_device(&conn, argv[optind], ike, &out, &err);
	}
	if (st == CGW_OK) {
		fputs(sb_str(&out), stdout);
	} else {
		fprintf(stderr, "cgwconf-render: %s\n", err.ce_msg);
		rc = 1;
	}
	sb_free(&out);
	return rc;
}
