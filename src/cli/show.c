/*
 * show.c — `vpcctl show`: the seed's troubleshooting list on one screen.
 * VPCs, subnets with their available addresses and route table, route
 * tables with routes, associations and propagation, gateways, VPN
 * connections with each tunnel's status, and instances when vpcd serves
 * DescribeInstances (an InvalidAction answer leaves that section out).
 * Read-only: it only calls Describe* actions.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/output.h"

const char cli_show_help[] =
	"usage: vpcctl show [--vpc-id VPC-ID]\n"
	"\n"
	"Prints the VPCs at a glance: VPCs; subnets with available addresses and the\n"
	"route table in force; route tables with routes, subnet associations and\n"
	"propagating VPN gateways; internet, VPN and customer gateways; VPN\n"
	"connections with static routes and each tunnel's status; instances with\n"
	"their addresses (when vpcd serves DescribeInstances). Deleted VPN\n"
	"connections are left out. When vpcd runs the data plane, a last line\n"
	"\"drops: CAUSE N, ...\" (see vpcctl dataplane).\n"
	"\n"
	"  --vpc-id VPC-ID   only what belongs to (or is attached to) this VPC\n"
	"\n"
	"--output json prints the Describe answers: {\"Vpcs\": [...], \"Subnets\": [...], ...}.\n";

struct show_data {
	struct doc *sd_all;	/* {"Vpcs": [...], ...}, as printed by --output json */
	bool sd_instances;	/* DescribeInstances is served */
};

static const char *first_str(const struct doc *d, const char *const *keys)
{
	for (; *keys; keys++) {
		const char *v = doc_get_str(d, *keys);
		if (v && *v)
			return v;
	}
	return NULL;
}

static bool attached_to(const struct doc *gw, const char *key, const char *vpc)
{
	doc_foreach(a, doc_get(gw, key)) {
		const char *v = doc_get_str(a, "VpcId"), *st = doc_get_str(a, "State");
		if (v && strcmp(v, vpc) == 0 && !(st && strcmp(st, "detached") == 0))
			return true;
	}
	return false;
}

static const struct doc *find_by(const struct doc *list, const char *key, const char *value)
{
	doc_foreach(d, list) {
		const char *v = doc_get_str(d, key);
		if (v && value && strcmp(v, value) == 0)
			return d;
	}
	return NULL;
}

/* Fetches one section; drops what --vpc-id excludes. */
static bool fetch(struct cli_ctx *cx, struct show_data *sd, const char *action, const char *member,
		  const char *vpc)
{
	struct doc *got = cli_describe(cx, action, NULL, member);
	if (!got)
		return false;
	struct doc *list = doc_get(got, member);
	struct doc *kept = doc_list();
	const struct doc *vgws = doc_get(sd->sd_all, "VpnGateways");
	const struct doc *vpns = doc_get(sd->sd_all, "VpnConnections");
	doc_foreach(d, list) {
		bool keep = true;
		const char *state = doc_get_str(d, "State");
		if (state && strcmp(state, "deleted") == 0 && strcmp(member, "Vpcs") != 0) {
			keep = false;	/* deleted gateways stay describable for an hour: not shown */
		} else if (strcmp(member, "VpnConnections") == 0) {
			const char *st = doc_get_str(d, "State");
			keep = !(st && strcmp(st, "deleted") == 0) &&
			       (!vpc || find_by(vgws, "VpnGatewayId", doc_get_str(d, "VpnGatewayId")));
		} else if (vpc && strcmp(member, "InternetGateways") == 0) {
			keep = attached_to(d, "Attachments", vpc);
		} else if (vpc && strcmp(member, "VpnGateways") == 0) {
			keep = attached_to(d, "VpcAttachments", vpc);
		} else if (vpc && strcmp(member, "CustomerGateways") == 0) {
			keep = find_by(vpns, "CustomerGatewayId", doc_get_str(d, "CustomerGatewayId")) != NULL;
		} else if (vpc) {
			const char *v = doc_get_str(d, "VpcId");
			keep = v && strcmp(v, vpc) == 0;
		}
		if (keep) {
			struct doc *c = doc_clone(d);
			doc_remove(c, "CustomerGatewayConfiguration");	/* long, and it holds the keys */
			doc_push(kept, c);
		}
	}
	doc_set(sd->sd_all, member, kept);
	doc_free(got);
	return true;
}

/* Instances flattened out of their reservations; false only on a real error. */
static bool fetch_instances(struct cli_ctx *cx, struct show_data *sd, const char *vpc)
{
	struct ec2_client *c = cli_client(cx);
	if (!c)
		return false;
	struct ec2_error err;
	struct doc *got = ec2_describe_all(c, "DescribeInstances", NULL, "Reservations", &err);
	if (!got) {
		if (strcmp(err.e_code, "InvalidAction") == 0 || strcmp(err.e_code, "UnsupportedOperation") == 0)
			return true;	/* not served (yet): the section is left out */
		cli_print_error(&err);
		return false;
	}
	struct doc *kept = doc_list();
	doc_foreach(r, doc_get(got, "Reservations"))
		doc_foreach(i, doc_get(r, "Instances")) {
			const char *v = doc_get_str(i, "VpcId");
			if (!vpc || (v && strcmp(v, vpc) == 0))
				doc_push(kept, doc_clone(i));
		}
	doc_set(sd->sd_all, "Instances", kept);
	sd->sd_instances = true;
	doc_free(got);
	return true;
}

static const char *rtb_of_subnet(const struct doc *rtbs, const char *subnet, const char *vpc)
{
	const char *main_rtb = NULL;
	doc_foreach(rt, rtbs) {
		const char *v = doc_get_str(rt, "VpcId");
		doc_foreach(a, doc_get(rt, "Associations")) {
			const char *s = doc_get_str(a, "SubnetId");
			if (s && strcmp(s, subnet) == 0)
				return doc_get_str(rt, "RouteTableId");
			if (doc_get_bool(a, "Main", false) && v && vpc && strcmp(v, vpc) == 0)
				main_rtb = doc_get_str(rt, "RouteTableId");
		}
	}
	return main_rtb;
}

static void print_tables(struct cli_ctx *cx, const struct show_data *sd)
{
	FILE *f = cx->cx_out;
	const struct doc *all = sd->sd_all;
	struct table t;
	char buf[512], buf2[512];

	static const char *const h_vpc[] = { "ID", "NAME", "CIDR", "STATE", "TENANCY", "DEFAULT" };
	table_init(&t, "VPCS", 6, h_vpc);
	doc_foreach(d, doc_get(all, "Vpcs")) {
		const char *row[] = { doc_get_str(d, "VpcId"), cli_tag(d, "Name"), doc_get_str(d, "CidrBlock"),
				      doc_get_str(d, "State"), doc_get_str(d, "InstanceTenancy"),
				      doc_get_bool(d, "IsDefault", false) ? "yes" : "no" };
		table_row(&t, row);
	}
	table_print(&t, f);

	static const char *const h_sub[] = { "ID", "NAME", "VPC", "CIDR", "AZ", "AVAILABLE", "ROUTE TABLE" };
	table_init(&t, "\nSUBNETS", 7, h_sub);
	doc_foreach(d, doc_get(all, "Subnets")) {
		snprintf(buf, sizeof(buf), "%lld", (long long)doc_get_int(d, "AvailableIpAddressCount", 0));
		const char *row[] = { doc_get_str(d, "SubnetId"), cli_tag(d, "Name"), doc_get_str(d, "VpcId"),
				      doc_get_str(d, "CidrBlock"), doc_get_str(d, "AvailabilityZone"), buf,
				      rtb_of_subnet(doc_get(all, "RouteTables"), doc_get_str(d, "SubnetId"),
						    doc_get_str(d, "VpcId")) };
		table_row(&t, row);
	}
	table_print(&t, f);

	static const char *const h_rtb[] = { "ID", "NAME", "VPC", "MAIN", "SUBNETS", "PROPAGATING" };
	table_init(&t, "\nROUTE TABLES", 6, h_rtb);
	doc_foreach(d, doc_get(all, "RouteTables")) {
		bool is_main = false;
		buf[0] = buf2[0] = '\0';
		doc_foreach(a, doc_get(d, "Associations")) {
			if (doc_get_bool(a, "Main", false))
				is_main = true;
			const char *s = doc_get_str(a, "SubnetId");
			if (s)
				snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? "," : "", s);
		}
		doc_foreach(p, doc_get(d, "PropagatingVgws")) {
			const char *g = doc_get_str(p, "GatewayId");
			if (g)
				snprintf(buf2 + strlen(buf2), sizeof(buf2) - strlen(buf2), "%s%s", buf2[0] ? "," : "", g);
		}
		const char *row[] = { doc_get_str(d, "RouteTableId"), cli_tag(d, "Name"), doc_get_str(d, "VpcId"),
				      is_main ? "yes" : "no", buf, buf2 };
		table_row(&t, row);
	}
	table_print(&t, f);

	static const char *const dest_keys[] = { "DestinationCidrBlock", "DestinationIpv6CidrBlock",
						 "DestinationPrefixListId", NULL };
	static const char *const target_keys[] = { "GatewayId", "NatGatewayId", "InstanceId", "NetworkInterfaceId",
						   "VpcPeeringConnectionId", "TransitGatewayId", "EgressOnlyInternetGatewayId",
						   "LocalGatewayId", "CarrierGatewayId", NULL };
	static const char *const h_route[] = { "ROUTE TABLE", "DESTINATION", "TARGET", "STATE", "ORIGIN" };
	table_init(&t, "\nROUTES", 5, h_route);
	doc_foreach(d, doc_get(all, "RouteTables"))
		doc_foreach(r, doc_get(d, "Routes")) {
			const char *row[] = { doc_get_str(d, "RouteTableId"), first_str(r, dest_keys),
					      first_str(r, target_keys), doc_get_str(r, "State"), doc_get_str(r, "Origin") };
			table_row(&t, row);
		}
	table_print(&t, f);

	static const char *const h_igw[] = { "ID", "NAME", "ATTACHED TO" };
	table_init(&t, "\nINTERNET GATEWAYS", 3, h_igw);
	doc_foreach(d, doc_get(all, "InternetGateways")) {
		buf[0] = '\0';
		doc_foreach(a, doc_get(d, "Attachments"))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s (%s)", buf[0] ? ", " : "",
				 doc_get_str(a, "VpcId"), doc_get_str(a, "State"));
		const char *row[] = { doc_get_str(d, "InternetGatewayId"), cli_tag(d, "Name"), buf };
		table_row(&t, row);
	}
	table_print(&t, f);

	static const char *const h_vgw[] = { "ID", "NAME", "STATE", "AMAZON ASN", "ATTACHED TO" };
	table_init(&t, "\nVPN GATEWAYS", 5, h_vgw);
	doc_foreach(d, doc_get(all, "VpnGateways")) {
		buf[0] = '\0';
		doc_foreach(a, doc_get(d, "VpcAttachments"))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s (%s)", buf[0] ? ", " : "",
				 doc_get_str(a, "VpcId"), doc_get_str(a, "State"));
		snprintf(buf2, sizeof(buf2), "%lld", (long long)doc_get_int(d, "AmazonSideAsn", 0));
		const char *row[] = { doc_get_str(d, "VpnGatewayId"), cli_tag(d, "Name"), doc_get_str(d, "State"), buf2,
				      buf };
		table_row(&t, row);
	}
	table_print(&t, f);

	static const char *const h_cgw[] = { "ID", "NAME", "IP ADDRESS", "BGP ASN", "STATE" };
	table_init(&t, "\nCUSTOMER GATEWAYS", 5, h_cgw);
	doc_foreach(d, doc_get(all, "CustomerGateways")) {
		const char *row[] = { doc_get_str(d, "CustomerGatewayId"), cli_tag(d, "Name"), doc_get_str(d, "IpAddress"),
				      doc_get_str(d, "BgpAsn"), doc_get_str(d, "State") };
		table_row(&t, row);
	}
	table_print(&t, f);

	static const char *const h_vpn[] = { "ID", "NAME", "STATE", "CUSTOMER GW", "VPN GW", "ROUTING",
					     "STATIC ROUTES" };
	table_init(&t, "\nVPN CONNECTIONS", 7, h_vpn);
	doc_foreach(d, doc_get(all, "VpnConnections")) {
		buf[0] = '\0';
		doc_foreach(r, doc_get(d, "Routes")) {
			const char *st = doc_get_str(r, "State");
			if (st && strcmp(st, "deleted") == 0)
				continue;
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? "," : "",
				 doc_get_str(r, "DestinationCidrBlock"));
		}
		bool is_static = doc_get_bool(doc_get(d, "Options"), "StaticRoutesOnly", false);
		const char *row[] = { doc_get_str(d, "VpnConnectionId"), cli_tag(d, "Name"), doc_get_str(d, "State"),
				      doc_get_str(d, "CustomerGatewayId"), doc_get_str(d, "VpnGatewayId"),
				      is_static ? "static" : "bgp", buf };
		table_row(&t, row);
	}
	table_print(&t, f);

	static const char *const h_tun[] = { "VPN CONNECTION", "TUNNEL", "OUTSIDE ADDRESS", "STATUS", "SINCE",
					     "MESSAGE" };
	table_init(&t, "\nVPN TUNNELS", 6, h_tun);
	doc_foreach(d, doc_get(all, "VpnConnections")) {
		int n = 0;
		doc_foreach(tu, doc_get(d, "VgwTelemetry")) {
			snprintf(buf, sizeof(buf), "%d", ++n);
			const char *row[] = { doc_get_str(d, "VpnConnectionId"), buf, doc_get_str(tu, "OutsideIpAddress"),
					      doc_get_str(tu, "Status"), doc_get_str(tu, "LastStatusChange"),
					      doc_get_str(tu, "StatusMessage") };
			table_row(&t, row);
		}
	}
	table_print(&t, f);

	if (!sd->sd_instances)
		return;
	static const char *const h_i[] = { "ID", "NAME", "STATE", "SUBNET", "PRIVATE IP", "PUBLIC IP" };
	table_init(&t, "\nINSTANCES", 6, h_i);
	doc_foreach(d, doc_get(all, "Instances")) {
		const char *row[] = { doc_get_str(d, "InstanceId"), cli_tag(d, "Name"),
				      doc_get_str(doc_get(d, "State"), "Name"), doc_get_str(d, "SubnetId"),
				      doc_get_str(d, "PrivateIpAddress"), doc_get_str(d, "PublicIpAddress") };
		table_row(&t, row);
	}
	table_print(&t, f);
}

int cmd_show(struct cli_ctx *cx, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(cli_show_help, stdout);
		return CLI_EXIT_OK;
	}
	static const struct option opts[] = { { "vpc-id", required_argument, NULL, 'v' }, { NULL, 0, NULL, 0 } };
	const char *vpc = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'v')
			vpc = optarg;
		else if (c == ':')
			return cli_usage_error("show", "'%s' needs a value", argv[optind - 1]);
		else
			return cli_usage_error("show", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("show", "unexpected argument '%s'", argv[optind]);

	struct show_data sd = { doc_obj(), false };
	/* gateways before VPN connections, VPN connections before customer
	 * gateways: --vpc-id follows attachments */
	static const char *const sections[][2] = {
		{ "DescribeVpcs", "Vpcs" }, { "DescribeSubnets", "Subnets" }, { "DescribeRouteTables", "RouteTables" },
		{ "DescribeInternetGateways", "InternetGateways" }, { "DescribeVpnGateways", "VpnGateways" },
		{ "DescribeVpnConnections", "VpnConnections" }, { "DescribeCustomerGateways", "CustomerGateways" },
	};
	int rc = CLI_EXIT_ERROR;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (!fetch(cx, &sd, sections[i][0], sections[i][1], vpc))
			goto done;
	if (vpc && doc_get(sd.sd_all, "Vpcs")->d_count == 0) {
		fprintf(stderr, "InvalidVpcID.NotFound: The vpc ID '%s' does not exist\n", vpc);
		goto done;
	}
	if (!fetch_instances(cx, &sd, vpc))
		goto done;
	if (cx->cx_output == CLI_OUTPUT_JSON)
		json_print(sd.sd_all, cx->cx_out);
	else
		print_tables(cx, &sd);
	if (cx->cx_output != CLI_OUTPUT_JSON)
		cli_dataplane_summary(cx, cx->cx_out);
	rc = CLI_EXIT_OK;
done:
	doc_free(sd.sd_all);
	return rc;
}
