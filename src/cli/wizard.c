/*
 * wizard.c — `vpcctl wizard`: the console's "Launch VPC Wizard", the four
 * patterns of AWS's VPC scenarios, made of ordinary EC2 API calls:
 *
 *  1 public              VPC, public subnet, IGW (attached), a custom table
 *                        local + 0.0.0.0/0 → igw associated with the subnet
 *  2 public-private      as 1, plus a private subnet on the main table and
 *                        a NAT gateway (with a new Elastic IP) in the public
 *                        subnet, main table 0.0.0.0/0 → nat (the console's
 *                        wizard of today; the 2013 one launched a NAT
 *                        instance)
 *  3 public-private-vpn  as 2, plus a VGW (attached), main table
 *                        0.0.0.0/0 → vgw, CGW, VPN connection and its static
 *                        routes, VGW route propagation into the main table
 *  4 private-vpn         VPC, private subnet on the main table, VGW, main
 *                        table 0.0.0.0/0 → vgw, CGW, VPN, propagation
 *
 * Every resource made is tagged Name=<name> and recorded with the call that
 * undoes it. When a step fails, the undo calls run in reverse order and the
 * user is told which step failed and why. A customer gateway that existed
 * before (CreateCustomerGateway answers an identical one) is used, never
 * tagged nor deleted. The wizard never changes anything it did not make,
 * except tagging the new VPC's main route table.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/output.h"

const char cli_wizard_help[] =
	"usage: vpcctl wizard --pattern PATTERN --name NAME [options]\n"
	"\n"
	"Creates a VPC the way the console's VPC wizard does. PATTERN is one of:\n"
	"  public              one public subnet (custom table: local, 0.0.0.0/0 -> igw)\n"
	"  public-private      public subnet as above, private subnet on the main table\n"
	"                      (0.0.0.0/0 -> a NAT gateway, with a new Elastic IP, in the\n"
	"                      public subnet)\n"
	"  public-private-vpn  as public-private, plus a VPN: main table 0.0.0.0/0 -> vgw,\n"
	"                      VPN gateway, customer gateway, VPN connection\n"
	"  private-vpn         one private subnet on the main table (0.0.0.0/0 -> vgw)\n"
	"                      and the VPN, no internet gateway\n"
	"\n"
	"options (defaults as the console's):\n"
	"  --name NAME                  tag Name=NAME on everything made (required)\n"
	"  --vpc-cidr CIDR              default 10.0.0.0/16\n"
	"  --public-subnet CIDR         default 10.0.0.0/24\n"
	"  --private-subnet CIDR        default 10.0.1.0/24\n"
	"  --public-az AZ, --private-az AZ   default: vpcd's choice (\"No Preference\")\n"
	"  --tenancy default|dedicated  default: default\n"
	"VPN patterns:\n"
	"  --customer-gateway-ip ADDR   the router's public address (required)\n"
	"  --static-route CIDR          a network behind the router (repeatable), or\n"
	"  --bgp-asn N                  dynamic routing with the router's ASN\n"
	"  (neither: static routing with no routes yet)\n"
	"\n"
	"On a terminal, missing inputs are asked for; otherwise flags only. On a failure\n"
	"halfway everything made so far is removed (in reverse order) and the failed\n"
	"step is named with the API's error. Exit 0 when made, 1 when rolled back.\n";

#define WIZARD_ROUTES_MAX 100	/* static routes per VPN connection (AWS's limit) */
#define WIZARD_UNDO_MAX 64
#define WIZARD_RETRIES 20	/* undo calls answered IncorrectState / DependencyViolation */
#define WIZARD_RETRY_MS 250
#define WIZARD_NAT_WAIT_S 120	/* a NAT gateway becomes available (AWS: minutes) */

enum wizard_pattern { PAT_PUBLIC, PAT_PUBLIC_PRIVATE, PAT_PUBLIC_PRIVATE_VPN, PAT_PRIVATE_VPN, PAT_NONE };

static const char *const pattern_names[] = { "public", "public-private", "public-private-vpn", "private-vpn" };

struct wizard_input {
	enum wizard_pattern wi_pattern;
	char *wi_name, *wi_vpc_cidr, *wi_public_subnet, *wi_private_subnet, *wi_public_az, *wi_private_az;
	char *wi_tenancy, *wi_cgw_ip, *wi_bgp_asn;
	char *wi_routes[WIZARD_ROUTES_MAX];
	size_t wi_nroutes;
};

struct wizard_undo {
	char u_action[48];
	char u_what[160];	/* "delete VPC vpc-…" */
	struct ec2_params u_params;
};

struct wizard_run {
	struct cli_ctx *wr_cx;
	const struct wizard_input *wr_in;
	struct wizard_undo wr_undo[WIZARD_UNDO_MAX];
	size_t wr_nundo;
	struct doc *wr_steps;	/* [{Step, Action, Id, Detail}] */
	struct doc *wr_ids;	/* {VpcId: …, …} */
	int wr_step;
	char wr_failed[256];
	struct ec2_error wr_err;
};

static bool has_public(enum wizard_pattern p) { return p != PAT_PRIVATE_VPN; }
static bool has_private(enum wizard_pattern p) { return p != PAT_PUBLIC; }
static bool has_vpn(enum wizard_pattern p) { return p == PAT_PUBLIC_PRIVATE_VPN || p == PAT_PRIVATE_VPN; }

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

static void set(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

static void input_free(struct wizard_input *in)
{
	char **all[] = { &in->wi_name, &in->wi_vpc_cidr, &in->wi_public_subnet, &in->wi_private_subnet,
			 &in->wi_public_az, &in->wi_private_az, &in->wi_tenancy, &in->wi_cgw_ip, &in->wi_bgp_asn };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		set(all[i], NULL);
	for (size_t i = 0; i < in->wi_nroutes; i++)
		free(in->wi_routes[i]);
	in->wi_nroutes = 0;
}

static enum wizard_pattern pattern_parse(const char *s)
{
	for (int i = 0; i < PAT_NONE; i++)
		if (strcmp(s, pattern_names[i]) == 0)
			return (enum wizard_pattern)i;
	/* the console's numbering works too */
	if (s[0] >= '1' && s[0] <= '4' && !s[1])
		return (enum wizard_pattern)(s[0] - '1');
	return PAT_NONE;
}

/* --- prompts (terminal only) --------------------------------------------- */

/* Asks question; an empty answer takes dflt. Returns a new string, or NULL at
 * end of input. */
static char *prompt(struct cli_ctx *cx, const char *question, const char *dflt)
{
	char line[512];
	if (dflt && *dflt)
		fprintf(cx->cx_out, "%s [%s]: ", question, dflt);
	else
		fprintf(cx->cx_out, "%s: ", question);
	fflush(cx->cx_out);
	if (!fgets(line, sizeof(line), cx->cx_in))
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	char *s = line;
	while (*s == ' ' || *s == '\t')
		s++;
	for (char *e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t');)
		*--e = '\0';
	return xstrdup(*s ? s : (dflt ? dflt : ""));
}

/* Fills what is missing by asking; false when the input ended. */
static bool ask_missing(struct cli_ctx *cx, struct wizard_input *in, bool routing_given)
{
	char *a;
	while (in->wi_pattern == PAT_NONE) {
		fprintf(cx->cx_out, "VPC patterns:\n  1 public              one public subnet\n"
			"  2 public-private      public and private subnets\n"
			"  3 public-private-vpn  public and private subnets, hardware VPN\n"
			"  4 private-vpn         private subnet only, hardware VPN\n");
		if (!(a = prompt(cx, "Pattern (1-4 or name)", "3")))
			return false;
		in->wi_pattern = pattern_parse(a);
		free(a);
	}
	while (!in->wi_name || !*in->wi_name) {
		if (!(a = prompt(cx, "Name (tag for everything made)", NULL)))
			return false;
		set(&in->wi_name, a);
		free(a);
	}
	if (has_vpn(in->wi_pattern)) {
		while (!in->wi_cgw_ip || !*in->wi_cgw_ip) {
			if (!(a = prompt(cx, "Customer gateway IP (the router's public address)", NULL)))
				return false;
			set(&in->wi_cgw_ip, a);
			free(a);
		}
		if (!routing_given) {
			if (!(a = prompt(cx, "Routing: static or bgp", "static")))
				return false;
			bool bgp = strcmp(a, "bgp") == 0 || strcmp(a, "dynamic") == 0;
			free(a);
			if (bgp) {
				if (!(a = prompt(cx, "Router's BGP ASN", "65000")))
					return false;
				set(&in->wi_bgp_asn, a);
				free(a);
			} else {
				if (!(a = prompt(cx, "Static routes: networks behind the router (CIDR, comma-separated)",
						 NULL)))
					return false;
				for (char *save, *tok = strtok_r(a, ", ", &save); tok && in->wi_nroutes < WIZARD_ROUTES_MAX;
				     tok = strtok_r(NULL, ", ", &save))
					in->wi_routes[in->wi_nroutes++] = xstrdup(tok);
				free(a);
			}
		}
	}
	struct { char **slot; const char *q; bool wanted; } asks[] = {
		{ &in->wi_vpc_cidr, "VPC CIDR", true },
		{ &in->wi_public_subnet, "Public subnet CIDR", has_public(in->wi_pattern) },
		{ &in->wi_public_az, "Public subnet AZ (empty: no preference)", has_public(in->wi_pattern) },
		{ &in->wi_private_subnet, "Private subnet CIDR", has_private(in->wi_pattern) },
		{ &in->wi_private_az, "Private subnet AZ (empty: no preference)", has_private(in->wi_pattern) },
		{ &in->wi_tenancy, "Tenancy (default or dedicated)", true },
	};
	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		if (!asks[i].wanted)
			continue;
		if (!(a = prompt(cx, asks[i].q, *asks[i].slot)))
			return false;
		set(asks[i].slot, *a ? a : NULL);
		free(a);
	}
	return true;
}

/* --- steps and their undoing --------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void progress(struct wizard_run *wr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(struct wizard_run *wr, const char *fmt, ...)
{
	if (!wr->wr_cx->cx_interactive)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Set by SIGINT/SIGTERM: the step under way finishes, the next one fails
 * and what was made is rolled back. */
static volatile sig_atomic_t wizard_interrupted;

static void wizard_on_signal(int sig)
{
	(void)sig;
	wizard_interrupted = 1;
}

/* Runs one step. On success records it ({Step, Action, Id, Detail}); on
 * failure remembers which and why. The caller owns the answer. */
static struct doc *step(struct wizard_run *wr, const char *what, const char *action, const struct ec2_params *p)
{
	struct ec2_client *c = cli_client(wr->wr_cx);
	wr->wr_step++;
	if (!c) {
		snprintf(wr->wr_failed, sizeof(wr->wr_failed), "%s", what);
		snprintf(wr->wr_err.e_code, sizeof(wr->wr_err.e_code), "NoCredentials");
		snprintf(wr->wr_err.e_message, sizeof(wr->wr_err.e_message), "no endpoint or keys (see above)");
		return NULL;
	}
	if (wizard_interrupted) {
		snprintf(wr->wr_failed, sizeof(wr->wr_failed), "%s", what);
		snprintf(wr->wr_err.e_code, sizeof(wr->wr_err.e_code), "Interrupted");
		snprintf(wr->wr_err.e_message, sizeof(wr->wr_err.e_message), "stopped by a signal before this step");
		return NULL;
	}
	progress(wr, "[%d] %s ...", wr->wr_step, what);
	struct doc *out = ec2_call(c, action, p, &wr->wr_err);
	if (!out)
		snprintf(wr->wr_failed, sizeof(wr->wr_failed), "%s", what);
	return out;
}

static void record(struct wizard_run *wr, const char *what, const char *action, const char *id, const char *detail)
{
	struct doc *s = doc_push(wr->wr_steps, doc_obj());
	doc_set_int(s, "Number", wr->wr_step);
	doc_set_str(s, "Step", what);
	doc_set_str(s, "Action", action);
	if (id)
		doc_set_str(s, "Id", id);
	if (detail && *detail)
		doc_set_str(s, "Detail", detail);
}

/* Pushes the call that undoes a step; the params are taken over. */
static void push_undo(struct wizard_run *wr, const char *action, struct ec2_params *p, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void push_undo(struct wizard_run *wr, const char *action, struct ec2_params *p, const char *fmt, ...)
{
	if (wr->wr_nundo == WIZARD_UNDO_MAX)
		abort();	/* bounded by the steps below */
	struct wizard_undo *u = &wr->wr_undo[wr->wr_nundo++];
	snprintf(u->u_action, sizeof(u->u_action), "%s", action);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->u_what, sizeof(u->u_what), fmt, ap);
	va_end(ap);
	u->u_params = *p;
	ec2_params_init(p);
}

/* Undoes everything, newest first. Returns how many undo calls failed. */
static int rollback(struct wizard_run *wr)
{
	int failed = 0;
	struct ec2_client *c = cli_client(wr->wr_cx);
	while (wr->wr_nundo > 0) {
		struct wizard_undo *u = &wr->wr_undo[--wr->wr_nundo];
		struct ec2_error err;
		struct doc *out = NULL;
		for (int attempt = 0; c && attempt < WIZARD_RETRIES; attempt++) {
			out = ec2_call(c, u->u_action, &u->u_params, &err);
			if (out || (strcmp(err.e_code, "IncorrectState") != 0 &&
				    strcmp(err.e_code, "DependencyViolation") != 0))
				break;
			sleep_ms(WIZARD_RETRY_MS);	/* a detach or delete still in progress */
		}
		if (out) {
			fprintf(stderr, "  rolled back: %s\n", u->u_what);
		} else if (c) {
			fprintf(stderr, "  could not %s: %s: %s\n", u->u_what, err.e_code, err.e_message);
			failed++;
		}
		doc_free(out);
		ec2_params_free(&u->u_params);
	}
	return failed;
}

static bool tag(struct wizard_run *wr, const char *id)
{
	struct ec2_params p;
	ec2_params_init(&p);
	ec2_param(&p, id, "ResourceId.1");
	ec2_param(&p, "Name", "Tag.1.Key");
	ec2_param(&p, wr->wr_in->wi_name, "Tag.1.Value");
	char what[160];
	snprintf(what, sizeof(what), "tag %s Name=%s", id, wr->wr_in->wi_name);
	struct doc *out = step(wr, what, "CreateTags", &p);
	ec2_params_free(&p);
	wr->wr_step--;	/* tagging is part of the step it follows */
	doc_free(out);
	return out != NULL;
}

/* Creates a resource: the call, its id at answer.obj.id_key, a Name tag and
 * the undo call delete_action(id_param=id). Returns the id (in wr_ids under
 * ids_key) or NULL. */
static const char *create(struct wizard_run *wr, const char *what, const char *action, struct ec2_params *p,
			  const char *obj, const char *id_key, const char *ids_key, const char *delete_action,
			  const char *detail)
{
	struct doc *out = step(wr, what, action, p);
	ec2_params_free(p);
	if (!out)
		return NULL;
	const char *id = doc_get_str(doc_get(out, obj), id_key);
	if (!id) {
		snprintf(wr->wr_failed, sizeof(wr->wr_failed), "%s", what);
		snprintf(wr->wr_err.e_code, sizeof(wr->wr_err.e_code), "MalformedResponse");
		snprintf(wr->wr_err.e_message, sizeof(wr->wr_err.e_message), "%s answered no %s.%s", action, obj,
			 id_key);
		doc_free(out);
		return NULL;
	}
	doc_set_str(wr->wr_ids, ids_key, id);
	id = doc_get_str(wr->wr_ids, ids_key);
	doc_free(out);
	struct ec2_params u;
	ec2_params_init(&u);
	ec2_param(&u, id, "%s", id_key);
	push_undo(wr, delete_action, &u, "delete %s %s", what + strlen("create "), id);
	record(wr, what, action, id, detail);
	return tag(wr, id) ? id : NULL;
}

/* A call whose answer only says it worked (attach, route, propagation). */
static bool change(struct wizard_run *wr, const char *what, const char *action, struct ec2_params *p,
		   const char *undo_action, struct ec2_params *undo, const char *undo_what)
{
	struct doc *out = step(wr, what, action, p);
	ec2_params_free(p);
	if (!out) {
		ec2_params_free(undo);
		return false;
	}
	doc_free(out);
	push_undo(wr, undo_action, undo, "%s", undo_what);
	record(wr, what, action, NULL, NULL);
	return true;
}

static bool add_route(struct wizard_run *wr, const char *rtb, const char *dest, const char *target_key,
		      const char *target)
{
	struct ec2_params p, u;
	ec2_params_init(&p);
	ec2_param(&p, rtb, "RouteTableId");
	ec2_param(&p, dest, "DestinationCidrBlock");
	ec2_param(&p, target, "%s", target_key);
	ec2_params_init(&u);
	ec2_param(&u, rtb, "RouteTableId");
	ec2_param(&u, dest, "DestinationCidrBlock");
	char what[160], undo_what[160];
	snprintf(what, sizeof(what), "route %s -> %s in %s", dest, target, rtb);
	snprintf(undo_what, sizeof(undo_what), "delete route %s -> %s in %s", dest, target, rtb);
	return change(wr, what, "CreateRoute", &p, "DeleteRoute", &u, undo_what);
}

static const char *create_subnet(struct wizard_run *wr, const char *vpc, const char *cidr, const char *az,
				 const char *what, const char *ids_key)
{
	struct ec2_params p;
	ec2_params_init(&p);
	ec2_param(&p, vpc, "VpcId");
	ec2_param(&p, cidr, "CidrBlock");
	if (az && *az)
		ec2_param(&p, az, "AvailabilityZone");
	char detail[160];
	snprintf(detail, sizeof(detail), "%s%s%s", cidr, az && *az ? " in " : "", az && *az ? az : "");
	return create(wr, what, "CreateSubnet", &p, "Subnet", "SubnetId", ids_key, "DeleteSubnet", detail);
}

/* The public-private pattern's way out for the private subnet: a new
 * Elastic IP, a NAT gateway with it in the public subnet (waited for until
 * available), and the main table's 0.0.0.0/0 to it. Rolled back as the
 * rest: the gateway deleted, then the address released. */
static bool nat_gateway(struct wizard_run *wr, const char *pub, const char *main_rtb)
{
	struct ec2_params p, u;
	ec2_params_init(&p);
	ec2_param(&p, "vpc", "Domain");
	struct doc *out = step(wr, "allocate Elastic IP", "AllocateAddress", &p);
	ec2_params_free(&p);
	if (!out)
		return false;
	const char *alloc = doc_get_str(out, "AllocationId");
	if (!alloc) {
		doc_free(out);
		snprintf(wr->wr_failed, sizeof(wr->wr_failed), "allocate Elastic IP");
		snprintf(wr->wr_err.e_code, sizeof(wr->wr_err.e_code), "MalformedResponse");
		snprintf(wr->wr_err.e_message, sizeof(wr->wr_err.e_message), "no AllocationId in the answer");
		return false;
	}
	doc_set_str(wr->wr_ids, "AllocationId", alloc);
	alloc = doc_get_str(wr->wr_ids, "AllocationId");
	ec2_params_init(&u);
	ec2_param(&u, alloc, "AllocationId");
	push_undo(wr, "ReleaseAddress", &u, "release Elastic IP %s", alloc);
	record(wr, "allocate Elastic IP", "AllocateAddress", alloc, doc_get_str(out, "PublicIp"));
	doc_free(out);
	if (!tag(wr, alloc))
		return false;

	ec2_params_init(&p);
	ec2_param(&p, pub, "SubnetId");
	ec2_param(&p, alloc, "AllocationId");
	const char *nat = create(wr, "create NAT gateway", "CreateNatGateway", &p, "NatGateway", "NatGatewayId",
				 "NatGatewayId", "DeleteNatGateway", "in the public subnet, with the Elastic IP");
	if (!nat)
		return false;
	/* as the console does: wait until it is available (or failed) */
	for (int waited = 0;; waited++) {
		ec2_params_init(&p);
		ec2_param(&p, nat, "NatGatewayId.1");
		out = step(wr, "wait for the NAT gateway", "DescribeNatGateways", &p);
		ec2_params_free(&p);
		wr->wr_step--;
		if (!out)
			return false;
		const struct doc *g = doc_get(out, "NatGateways") ? doc_get(out, "NatGateways")->d_first : NULL;
		const char *state = doc_get_str(g, "State");
		if (state && strcmp(state, "available") == 0) {
			doc_free(out);
			break;
		}
		if (!state || strcmp(state, "pending") != 0 || waited >= WIZARD_NAT_WAIT_S) {
			snprintf(wr->wr_failed, sizeof(wr->wr_failed), "wait for NAT gateway %s", nat);
			snprintf(wr->wr_err.e_code, sizeof(wr->wr_err.e_code), "%s",
				 doc_get_str(g, "FailureCode") ? doc_get_str(g, "FailureCode") : "NatGatewayNotAvailable");
			snprintf(wr->wr_err.e_message, sizeof(wr->wr_err.e_message), "%s",
				 doc_get_str(g, "FailureMessage") ? doc_get_str(g, "FailureMessage") :
				 state ? state : "no state");
			doc_free(out);
			return false;
		}
		doc_free(out);
		sleep_ms(1000);
	}
	return add_route(wr, main_rtb, "0.0.0.0/0", "NatGatewayId", nat);
}

/* The whole build; false at the first failed step (wr says which). */
static bool build(struct wizard_run *wr)
{
	const struct wizard_input *in = wr->wr_in;
	struct ec2_params p, u;
	char detail[256], what[200];

	ec2_params_init(&p);
	ec2_param(&p, in->wi_vpc_cidr, "CidrBlock");
	ec2_param(&p, in->wi_tenancy, "InstanceTenancy");
	snprintf(detail, sizeof(detail), "%s, tenancy %s", in->wi_vpc_cidr, in->wi_tenancy);
	const char *vpc = create(wr, "create VPC", "CreateVpc", &p, "Vpc", "VpcId", "VpcId", "DeleteVpc", detail);
	if (!vpc)
		return false;

	/* the main route table came with the VPC: found, tagged, not undone */
	ec2_params_init(&p);
	ec2_param(&p, "vpc-id", "Filter.1.Name");
	ec2_param(&p, vpc, "Filter.1.Value.1");
	ec2_param(&p, "association.main", "Filter.2.Name");
	ec2_param(&p, "true", "Filter.2.Value.1");
	struct doc *out = step(wr, "find the main route table", "DescribeRouteTables", &p);
	ec2_params_free(&p);
	wr->wr_step--;
	if (!out)
		return false;
	const char *main_rtb = doc_get_str(doc_get(out, "RouteTables") ? doc_get(out, "RouteTables")->d_first : NULL,
					   "RouteTableId");
	if (!main_rtb) {
		doc_free(out);
		snprintf(wr->wr_failed, sizeof(wr->wr_failed), "find the main route table");
		snprintf(wr->wr_err.e_code, sizeof(wr->wr_err.e_code), "MalformedResponse");
		snprintf(wr->wr_err.e_message, sizeof(wr->wr_err.e_message), "%s has no main route table", vpc);
		return false;
	}
	doc_set_str(wr->wr_ids, "MainRouteTableId", main_rtb);
	main_rtb = doc_get_str(wr->wr_ids, "MainRouteTableId");
	doc_free(out);
	if (!tag(wr, main_rtb))
		return false;

	const char *pub = NULL, *igw = NULL;
	if (has_public(in->wi_pattern) &&
	    !(pub = create_subnet(wr, vpc, in->wi_public_subnet, in->wi_public_az, "create public subnet",
				  "PublicSubnetId")))
		return false;
	if (has_private(in->wi_pattern) &&
	    !create_subnet(wr, vpc, in->wi_private_subnet, in->wi_private_az, "create private subnet",
			   "PrivateSubnetId"))
		return false;

	if (has_public(in->wi_pattern)) {
		ec2_params_init(&p);
		igw = create(wr, "create internet gateway", "CreateInternetGateway", &p, "InternetGateway",
			     "InternetGatewayId", "InternetGatewayId", "DeleteInternetGateway", NULL);
		if (!igw)
			return false;
		ec2_params_init(&p);
		ec2_param(&p, igw, "InternetGatewayId");
		ec2_param(&p, vpc, "VpcId");
		ec2_params_init(&u);
		ec2_param(&u, igw, "InternetGatewayId");
		ec2_param(&u, vpc, "VpcId");
		snprintf(what, sizeof(what), "attach %s to %s", igw, vpc);
		snprintf(detail, sizeof(detail), "detach %s from %s", igw, vpc);
		if (!change(wr, what, "AttachInternetGateway", &p, "DetachInternetGateway", &u, detail))
			return false;

		ec2_params_init(&p);
		ec2_param(&p, vpc, "VpcId");
		const char *rtb = create(wr, "create public route table", "CreateRouteTable", &p, "RouteTable",
					 "RouteTableId", "PublicRouteTableId", "DeleteRouteTable", "local, 0.0.0.0/0 -> igw");
		if (!rtb || !add_route(wr, rtb, "0.0.0.0/0", "GatewayId", igw))
			return false;
		ec2_params_init(&p);
		ec2_param(&p, rtb, "RouteTableId");
		ec2_param(&p, pub, "SubnetId");
		snprintf(what, sizeof(what), "associate %s with %s", pub, rtb);
		out = step(wr, what, "AssociateRouteTable", &p);
		ec2_params_free(&p);
		if (!out)
			return false;
		const char *assoc = doc_get_str(out, "AssociationId");
		if (assoc) {
			ec2_params_init(&u);
			ec2_param(&u, assoc, "AssociationId");
			push_undo(wr, "DisassociateRouteTable", &u, "disassociate %s from %s", pub, rtb);
		}
		record(wr, what, "AssociateRouteTable", assoc, NULL);
		doc_free(out);
	}
	if (in->wi_pattern == PAT_PUBLIC_PRIVATE && !nat_gateway(wr, pub, main_rtb))
		return false;
	if (!has_vpn(in->wi_pattern))
		return true;

	ec2_params_init(&p);
	ec2_param(&p, "ipsec.1", "Type");
	const char *vgw = create(wr, "create VPN gateway", "CreateVpnGateway", &p, "VpnGateway", "VpnGatewayId",
				 "VpnGatewayId", "DeleteVpnGateway", NULL);
	if (!vgw)
		return false;
	ec2_params_init(&p);
	ec2_param(&p, vgw, "VpnGatewayId");
	ec2_param(&p, vpc, "VpcId");
	ec2_params_init(&u);
	ec2_param(&u, vgw, "VpnGatewayId");
	ec2_param(&u, vpc, "VpcId");
	snprintf(what, sizeof(what), "attach %s to %s", vgw, vpc);
	snprintf(detail, sizeof(detail), "detach %s from %s", vgw, vpc);
	if (!change(wr, what, "AttachVpnGateway", &p, "DetachVpnGateway", &u, detail))
		return false;
	if (!add_route(wr, main_rtb, "0.0.0.0/0", "GatewayId", vgw))
		return false;

	/* customer gateway: an identical one that exists is used as it is */
	out = step(wr, "list customer gateways", "DescribeCustomerGateways", NULL);
	wr->wr_step--;
	if (!out)
		return false;
	struct doc *before = out;
	ec2_params_init(&p);
	ec2_param(&p, "ipsec.1", "Type");
	ec2_param(&p, in->wi_cgw_ip, "IpAddress");
	ec2_param(&p, in->wi_bgp_asn ? in->wi_bgp_asn : "65000", "BgpAsn");
	snprintf(what, sizeof(what), "create customer gateway %s", in->wi_cgw_ip);
	out = step(wr, what, "CreateCustomerGateway", &p);
	ec2_params_free(&p);
	if (!out) {
		doc_free(before);
		return false;
	}
	const char *cgw_id = doc_get_str(doc_get(out, "CustomerGateway"), "CustomerGatewayId");
	if (!cgw_id) {
		snprintf(wr->wr_failed, sizeof(wr->wr_failed), "%s", what);
		snprintf(wr->wr_err.e_code, sizeof(wr->wr_err.e_code), "MalformedResponse");
		snprintf(wr->wr_err.e_message, sizeof(wr->wr_err.e_message), "no CustomerGatewayId in the answer");
		doc_free(out);
		doc_free(before);
		return false;
	}
	bool existed = false;
	doc_foreach(g, doc_get(before, "CustomerGateways")) {
		const char *gid = doc_get_str(g, "CustomerGatewayId"), *st = doc_get_str(g, "State");
		if (gid && strcmp(gid, cgw_id) == 0 && !(st && strcmp(st, "deleted") == 0))
			existed = true;
	}
	doc_free(before);
	doc_set_str(wr->wr_ids, "CustomerGatewayId", cgw_id);
	cgw_id = doc_get_str(wr->wr_ids, "CustomerGatewayId");
	snprintf(detail, sizeof(detail), "%s, BGP ASN %s%s", in->wi_cgw_ip, in->wi_bgp_asn ? in->wi_bgp_asn : "65000",
		 existed ? " (existed already: used, not tagged)" : "");
	doc_free(out);
	if (!existed) {
		ec2_params_init(&u);
		ec2_param(&u, cgw_id, "CustomerGatewayId");
		push_undo(wr, "DeleteCustomerGateway", &u, "delete customer gateway %s", cgw_id);
	}
	record(wr, what, "CreateCustomerGateway", cgw_id, detail);
	if (!existed && !tag(wr, cgw_id))
		return false;

	ec2_params_init(&p);
	ec2_param(&p, "ipsec.1", "Type");
	ec2_param(&p, cgw_id, "CustomerGatewayId");
	ec2_param(&p, vgw, "VpnGatewayId");
	ec2_param(&p, in->wi_bgp_asn ? "false" : "true", "Options.StaticRoutesOnly");
	snprintf(detail, sizeof(detail), "%s routing", in->wi_bgp_asn ? "dynamic (BGP)" : "static");
	const char *vpn = create(wr, "create VPN connection", "CreateVpnConnection", &p, "VpnConnection",
				 "VpnConnectionId", "VpnConnectionId", "DeleteVpnConnection", detail);
	if (!vpn)
		return false;
	for (size_t i = 0; i < in->wi_nroutes; i++) {
		ec2_params_init(&p);
		ec2_param(&p, vpn, "VpnConnectionId");
		ec2_param(&p, in->wi_routes[i], "DestinationCidrBlock");
		ec2_params_init(&u);
		ec2_param(&u, vpn, "VpnConnectionId");
		ec2_param(&u, in->wi_routes[i], "DestinationCidrBlock");
		snprintf(what, sizeof(what), "static route %s via %s", in->wi_routes[i], vpn);
		snprintf(detail, sizeof(detail), "delete static route %s of %s", in->wi_routes[i], vpn);
		if (!change(wr, what, "CreateVpnConnectionRoute", &p, "DeleteVpnConnectionRoute", &u, detail))
			return false;
	}

	ec2_params_init(&p);
	ec2_param(&p, main_rtb, "RouteTableId");
	ec2_param(&p, vgw, "GatewayId");
	ec2_params_init(&u);
	ec2_param(&u, main_rtb, "RouteTableId");
	ec2_param(&u, vgw, "GatewayId");
	snprintf(what, sizeof(what), "propagate %s routes into %s", vgw, main_rtb);
	snprintf(detail, sizeof(detail), "stop propagating %s into %s", vgw, main_rtb);
	return change(wr, what, "EnableVgwRoutePropagation", &p, "DisableVgwRoutePropagation", &u, detail);
}

static void print_made(struct cli_ctx *cx, const struct wizard_input *in, const struct wizard_run *wr)
{
	if (cx->cx_output == CLI_OUTPUT_JSON) {
		struct doc *o = doc_obj();
		doc_set_str(o, "Name", in->wi_name);
		doc_set_str(o, "Pattern", pattern_names[in->wi_pattern]);
		doc_foreach(id, wr->wr_ids)
			doc_set_str(o, id->d_key, id->d_str);
		doc_set(o, "Steps", doc_clone(wr->wr_steps));
		json_print(o, cx->cx_out);
		doc_free(o);
		return;
	}
	char title[300];
	snprintf(title, sizeof(title), "Made VPC \"%s\" (pattern %s):", in->wi_name, pattern_names[in->wi_pattern]);
	static const char *const h[] = { "STEP", "ID", "DETAIL" };
	struct table t;
	table_init(&t, title, 3, h);
	doc_foreach(s, wr->wr_steps) {
		const char *row[] = { doc_get_str(s, "Step"), doc_get_str(s, "Id"), doc_get_str(s, "Detail") };
		table_row(&t, row);
	}
	table_print(&t, cx->cx_out);
	const char *vpn = doc_get_str(wr->wr_ids, "VpnConnectionId");
	if (vpn) {
		fprintf(cx->cx_out, "\nNext: the router's configuration (see: vpcctl vpn devices), e.g.\n"
			"  vpcctl vpn config %s --vendor Cisco --platform \"ISR Series Routers\" "
			"--software \"IOS 12.4+\" -o router.conf\n", vpn);
		if (!in->wi_bgp_asn && in->wi_nroutes == 0)
			fprintf(cx->cx_out, "No static routes were given: add them with\n"
				"  aws ec2 create-vpn-connection-route --vpn-connection-id %s --destination-cidr-block CIDR\n",
				vpn);
	}
}

static int usage(const char *fmt, const char *arg)
{
	return cli_usage_error("wizard", fmt, arg);
}

int cmd_wizard(struct cli_ctx *cx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(cli_wizard_help, stdout);
		return CLI_EXIT_OK;
	}
	enum { O_PATTERN = 1, O_NAME, O_VPC, O_PUB, O_PRIV, O_PUBAZ, O_PRIVAZ, O_TEN, O_CGW, O_ROUTE, O_ASN, O_YES };
	static const struct option opts[] = {
		{ "pattern", required_argument, NULL, O_PATTERN }, { "name", required_argument, NULL, O_NAME },
		{ "vpc-cidr", required_argument, NULL, O_VPC }, { "public-subnet", required_argument, NULL, O_PUB },
		{ "private-subnet", required_argument, NULL, O_PRIV }, { "public-az", required_argument, NULL, O_PUBAZ },
		{ "private-az", required_argument, NULL, O_PRIVAZ }, { "tenancy", required_argument, NULL, O_TEN },
		{ "customer-gateway-ip", required_argument, NULL, O_CGW },
		{ "static-route", required_argument, NULL, O_ROUTE }, { "bgp-asn", required_argument, NULL, O_ASN },
		{ NULL, 0, NULL, 0 },
	};
	struct wizard_input in;
	memset(&in, 0, sizeof(in));
	in.wi_pattern = PAT_NONE;
	bool pub_given = false, priv_given = false;
	int c, rc = CLI_EXIT_USAGE;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_PATTERN:
			in.wi_pattern = pattern_parse(optarg);
			if (in.wi_pattern == PAT_NONE) {
				rc = usage("--pattern is public, public-private, public-private-vpn or private-vpn, not '%s'",
					   optarg);
				goto out;
			}
			break;
		case O_NAME: set(&in.wi_name, optarg); break;
		case O_VPC: set(&in.wi_vpc_cidr, optarg); break;
		case O_PUB: set(&in.wi_public_subnet, optarg); pub_given = true; break;
		case O_PRIV: set(&in.wi_private_subnet, optarg); priv_given = true; break;
		case O_PUBAZ: set(&in.wi_public_az, optarg); pub_given = true; break;
		case O_PRIVAZ: set(&in.wi_private_az, optarg); priv_given = true; break;
		case O_TEN: set(&in.wi_tenancy, optarg); break;
		case O_CGW: set(&in.wi_cgw_ip, optarg); break;
		case O_ROUTE:
			if (in.wi_nroutes == WIZARD_ROUTES_MAX) {
				rc = usage("at most %s static routes per VPN connection", "100");
				goto out;
			}
			in.wi_routes[in.wi_nroutes++] = xstrdup(optarg);
			break;
		case O_ASN: set(&in.wi_bgp_asn, optarg); break;
		case ':': rc = usage("'%s' needs a value", argv[optind - 1]); goto out;
		default: rc = usage("unknown option '%s'", argv[optind - 1]); goto out;
		}
	}
	if (optind < argc) {
		rc = usage("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (in.wi_bgp_asn && in.wi_nroutes) {
		rc = usage("%s", "--static-route and --bgp-asn: choose static or dynamic routing, not both");
		goto out;
	}
	bool routing_given = in.wi_bgp_asn || in.wi_nroutes;
	if (cx->cx_interactive) {
		if (!in.wi_vpc_cidr) set(&in.wi_vpc_cidr, "10.0.0.0/16");
		if (!in.wi_public_subnet) set(&in.wi_public_subnet, "10.0.0.0/24");
		if (!in.wi_private_subnet) set(&in.wi_private_subnet, "10.0.1.0/24");
		if (!in.wi_tenancy) set(&in.wi_tenancy, "default");
		if (!ask_missing(cx, &in, routing_given)) {
			fprintf(stderr, "vpcctl wizard: input ended; nothing was made\n");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (in.wi_pattern == PAT_NONE) {
		rc = usage("%s", "--pattern is needed (public, public-private, public-private-vpn, private-vpn)");
		goto out;
	}
	if (!in.wi_name || !*in.wi_name) {
		rc = usage("%s", "--name is needed (every resource made is tagged Name=NAME)");
		goto out;
	}
	const char *pat = pattern_names[in.wi_pattern];
	if (!has_vpn(in.wi_pattern) && (in.wi_cgw_ip || routing_given)) {
		rc = usage("pattern %s has no VPN: --customer-gateway-ip, --static-route and --bgp-asn do not apply", pat);
		goto out;
	}
	if (has_vpn(in.wi_pattern) && (!in.wi_cgw_ip || !*in.wi_cgw_ip)) {
		rc = usage("pattern %s needs --customer-gateway-ip (the router's public address)", pat);
		goto out;
	}
	if (!has_public(in.wi_pattern) && pub_given) {
		rc = usage("pattern %s has no public subnet", pat);
		goto out;
	}
	if (!has_private(in.wi_pattern) && priv_given) {
		rc = usage("pattern %s has no private subnet", pat);
		goto out;
	}
	if (in.wi_bgp_asn && (strspn(in.wi_bgp_asn, "0123456789") != strlen(in.wi_bgp_asn) || !*in.wi_bgp_asn)) {
		rc = usage("--bgp-asn is a number, not '%s'", in.wi_bgp_asn);
		goto out;
	}
	if (!in.wi_vpc_cidr) set(&in.wi_vpc_cidr, "10.0.0.0/16");
	if (!in.wi_public_subnet) set(&in.wi_public_subnet, "10.0.0.0/24");
	if (!in.wi_private_subnet) set(&in.wi_private_subnet, "10.0.1.0/24");
	if (!in.wi_tenancy) set(&in.wi_tenancy, "default");
	if (strcmp(in.wi_tenancy, "default") != 0 && strcmp(in.wi_tenancy, "dedicated") != 0) {
		rc = usage("--tenancy is default or dedicated, not '%s'", in.wi_tenancy);
		goto out;
	}
	if (!cli_client(cx)) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}

	struct wizard_run *wr = calloc(1, sizeof(*wr));
	if (!wr)
		abort();
	wr->wr_cx = cx;
	wr->wr_in = &in;
	wr->wr_steps = doc_list();
	wr->wr_ids = doc_obj();
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wizard_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;	/* the call under way completes; the next step sees the flag */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	bool made = build(wr);
	if (!made)
		signal(SIGINT, SIG_IGN);	/* let the rollback finish */
	if (made) {
		print_made(cx, &in, wr);
		for (size_t i = 0; i < wr->wr_nundo; i++)
			ec2_params_free(&wr->wr_undo[i].u_params);
		rc = CLI_EXIT_OK;
	} else {
		fprintf(stderr, "%s: %s\n", wr->wr_err.e_code, wr->wr_err.e_message);
		fprintf(stderr, "vpcctl wizard: step %d (%s) failed; removing the %zu change%s made so far\n",
			wr->wr_step, wr->wr_failed, wr->wr_nundo, wr->wr_nundo == 1 ? "" : "s");
		int left = rollback(wr);
		if (left)
			fprintf(stderr, "vpcctl wizard: %d change%s could not be undone (listed above)\n", left,
				left == 1 ? "" : "s");
		else
			fprintf(stderr, "vpcctl wizard: rolled back; nothing was left behind\n");
		rc = CLI_EXIT_ERROR;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	doc_free(wr->wr_steps);
	doc_free(wr->wr_ids);
	free(wr);
out:
	input_free(&in);
	return rc;
}
