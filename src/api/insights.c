/*
 * insights.c — Reachability Analyzer: CreateNetworkInsightsPath,
 * DescribeNetworkInsightsPaths, DeleteNetworkInsightsPath,
 * StartNetworkInsightsAnalysis, DescribeNetworkInsightsAnalyses,
 * DeleteNetworkInsightsAnalysis.
 *
 * A path names a source (instance, network interface, internet or VPN
 * gateway), a destination (the same, or only DestinationIp), a protocol
 * (tcp or udp, as AWS's API allows; vpcctl trace does icmp too) and a
 * destination port. StartNetworkInsightsAnalysis runs the packet trace
 * (api_set_tracer's: engine_trace, the router's own code) synchronously and stores the analysis already
 * "succeeded": NetworkPathFound, the steps that passed as
 * ForwardPathComponents (the reply's checks through network ACLs and
 * routes back as ReturnPathComponents) and, when the packet is dropped,
 * one Explanation with AWS's code for the step that drops it, naming the
 * route table, network ACL rule or security groups involved. An analysis
 * vpcd cannot run (no destination port for tcp, a source that went away)
 * is stored "failed" with a StatusMessage, as AWS does.
 *
 * Stored docs (cache types as AWS's TagSpecification resource types):
 *   network-insights-path     the NetworkInsightsPath item as described
 *   network-insights-analysis the NetworkInsightsAnalysis item as described
 * Deleting a path deletes its analyses.
 */
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "api/eni.h"
#include "base/base.h"

#define RT_NI_PATH "network-insights-path"
#define RT_NI_ANALYSIS "network-insights-analysis"
#define PATH_NOTFOUND "InvalidNetworkInsightsPathId.NotFound"
#define ANALYSIS_NOTFOUND "InvalidNetworkInsightsAnalysisId.NotFound"
/* Where a packet from or to "the internet" is traced from/to when the path
 * names an internet gateway without an address (TEST-NET-3, RFC 5737). */
#define INTERNET_ADDR_DEFAULT "203.0.113.10"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* --- ids, ARNs, components ----------------------------------------------------- */

static const struct {
	const char *prefix, *arn_type;
} arn_types[] = {
	{ "i-", "instance" }, { "eni-", "network-interface" }, { "igw-", "internet-gateway" },
	{ "vgw-", "vpn-gateway" }, { "sgr-", "security-group-rule" }, { "sg-", "security-group" },
	{ "acl-", "network-acl" }, { "rtb-", "route-table" }, { "subnet-", "subnet" }, { "vpc-", "vpc" },
	{ "vpn-", "vpn-connection" }, { "nip-", "network-insights-path" }, { "nia-", "network-insights-analysis" },
};

static void arn_of(struct api_req *rq, const char *id, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(arn_types); i++)
		if (strncmp(id, arn_types[i].prefix, strlen(arn_types[i].prefix)) == 0) {
			snprintf(buf, len, "arn:aws:ec2:%s:%s:%s/%s", api_region(rq), api_account(rq), arn_types[i].arn_type,
				 id);
			return;
		}
}

/* parent[key] = {Id, Arn} (nothing for an empty id). */
static void component(struct api_req *rq, struct doc *parent, const char *key, const char *id)
{
	if (!id || !*id)
		return;
	struct doc *c = doc_set(parent, key, doc_obj());
	doc_set_str(c, "Id", id);
	char arn[160];
	arn_of(rq, id, arn, sizeof(arn));
	if (arn[0])
		doc_set_str(c, "Arn", arn);
}

/* --- endpoints of a path ----------------------------------------------------------- */

/* The resource a path's Source/Destination names: instance, ENI, igw, vgw. */
static struct res *endpoint_lookup(struct api_req *rq, const char *member, const char *id)
{
	static const struct {
		const char *prefix, *type, *code, *what;
	} kinds[] = {
		{ "i-", RT_INSTANCE, "InvalidInstanceID.NotFound", "instance" },
		{ "eni-", RT_ENI, "InvalidNetworkInterfaceID.NotFound", "networkInterface" },
		{ "igw-", RT_IGW, "InvalidInternetGatewayID.NotFound", "internetGateway" },
		{ "vgw-", RT_VGW, "InvalidVpnGatewayID.NotFound", "vpnGateway" },
	};
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
		if (strncmp(id, kinds[i].prefix, strlen(kinds[i].prefix)) != 0)
			continue;
		struct res *r = cache_get_typed(api_cache(rq), kinds[i].type, id);
		if (!r)
			api_not_found(rq, kinds[i].code, kinds[i].what, id);
		return r;
	}
	api_fail(rq, "InvalidParameterValue",
		 "The %s '%.64s' is not supported: vpcd analyses instances, network interfaces, internet gateways and VPN gateways",
		 member, id);
	return NULL;
}

static int check_ip(struct api_req *rq, const struct doc *obj, const char *member, const char *wire)
{
	const char *ip = doc_get_str(obj, member);
	uint32_t a;
	if (ip && !ip4_parse(ip, &a))
		return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter %s is invalid. It must be an IPv4 address.",
				ip, wire);
	return 0;
}

static int check_port(struct api_req *rq, const struct doc *obj, const char *member, const char *wire)
{
	const struct doc *p = doc_get(obj, member);
	if (p && (p->d_int < 0 || p->d_int > 65535))
		return api_fail(rq, "InvalidParameterValue", "Value (%lld) for parameter %s is invalid. Ports are 0-65535.",
				(long long)p->d_int, wire);
	return 0;
}

static int check_filter(struct api_req *rq, const char *member)
{
	const struct doc *f = doc_get(rq->rq_in, member);
	if (!f)
		return 0;
	if (check_ip(rq, f, "SourceAddress", "SourceAddress") < 0 ||
	    check_ip(rq, f, "DestinationAddress", "DestinationAddress") < 0)
		return -1;
	static const char *const ranges[] = { "SourcePortRange", "DestinationPortRange" };
	for (size_t i = 0; i < ARRAY_LEN(ranges); i++) {
		const struct doc *r = doc_get(f, ranges[i]);
		if (check_port(rq, r, "FromPort", "FromPort") < 0 || check_port(rq, r, "ToPort", "ToPort") < 0)
			return -1;
		if (doc_get_int(r, "FromPort", 0) > doc_get_int(r, "ToPort", 65535))
			return api_fail(rq, "InvalidParameterValue", "%s: FromPort is above ToPort", ranges[i]);
	}
	return 0;
}

/* --- CreateNetworkInsightsPath / Describe / Delete --------------------------------- */

int handle_CreateNetworkInsightsPath(struct api_req *rq)
{
	const char *source = api_require_str(rq, "Source");
	if (!source)
		return -1;
	const char *proto = api_require_str(rq, "Protocol");
	if (!proto)
		return -1;
	if (strcasecmp(proto, "tcp") != 0 && strcasecmp(proto, "udp") != 0)
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.32s) for parameter protocol is invalid. Valid values: tcp, udp (vpcctl trace does icmp).",
				proto);
	const char *dest = doc_get_str(rq->rq_in, "Destination");
	const char *dest_ip = doc_get_str(rq->rq_in, "DestinationIp");
	if (!dest && !dest_ip)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter destination or destinationIp");
	struct res *src = endpoint_lookup(rq, "source", source);
	if (!src)
		return -1;
	struct res *dst = dest ? endpoint_lookup(rq, "destination", dest) : NULL;
	if (dest && !dst)
		return -1;
	if (check_ip(rq, rq->rq_in, "SourceIp", "SourceIp") < 0 || check_ip(rq, rq->rq_in, "DestinationIp", "DestinationIp") < 0 ||
	    check_port(rq, rq->rq_in, "DestinationPort", "DestinationPort") < 0 || check_filter(rq, "FilterAtSource") < 0 ||
	    check_filter(rq, "FilterAtDestination") < 0)
		return -1;

	char id[RESOURCE_ID_MAX], arn[160], now[32];
	new_id("nip", id);
	time_iso8601(time_wall_s(), now, sizeof(now));
	struct doc *d = doc_obj();
	doc_set_str(d, "NetworkInsightsPathId", id);
	arn_of(rq, id, arn, sizeof(arn));
	doc_set_str(d, "NetworkInsightsPathArn", arn);
	doc_set_str(d, "CreatedDate", now);
	doc_set_str(d, "Source", src->r_id);
	arn_of(rq, src->r_id, arn, sizeof(arn));
	doc_set_str(d, "SourceArn", arn);
	if (dst) {
		doc_set_str(d, "Destination", dst->r_id);
		arn_of(rq, dst->r_id, arn, sizeof(arn));
		doc_set_str(d, "DestinationArn", arn);
	}
	if (doc_get_str(rq->rq_in, "SourceIp"))
		doc_set_str(d, "SourceIp", doc_get_str(rq->rq_in, "SourceIp"));
	if (dest_ip)
		doc_set_str(d, "DestinationIp", dest_ip);
	doc_set_str(d, "Protocol", strcasecmp(proto, "tcp") == 0 ? "tcp" : "udp");
	if (doc_get(rq->rq_in, "DestinationPort"))
		doc_set_int(d, "DestinationPort", doc_get_int(rq->rq_in, "DestinationPort", 0));
	static const char *const filters[] = { "FilterAtSource", "FilterAtDestination" };
	for (size_t i = 0; i < ARRAY_LEN(filters); i++)
		if (doc_get(rq->rq_in, filters[i]))
			doc_set(d, filters[i], doc_clone(doc_get(rq->rq_in, filters[i])));
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_NI_PATH));
	struct doc *path = api_put(rq, RT_NI_PATH, id, d);
	if (!path)
		return -1;
	doc_set(rq->rq_out, "NetworkInsightsPath", doc_clone(path));
	return 0;
}

static const struct filter_def path_filters[] = {
	{ "destination", "Destination" },
	{ "destination-ip", "DestinationIp" },
	{ "destination-port", "DestinationPort" },
	{ "protocol", "Protocol" },
	{ "source", "Source" },
	{ "source-ip", "SourceIp" },
	{ "filter-at-source.source-address", "FilterAtSource.SourceAddress" },
	{ "filter-at-source.destination-address", "FilterAtSource.DestinationAddress" },
	{ "filter-at-destination.source-address", "FilterAtDestination.SourceAddress" },
	{ "filter-at-destination.destination-address", "FilterAtDestination.DestinationAddress" },
	{ NULL, NULL },
};

int handle_DescribeNetworkInsightsPaths(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_NI_PATH, "NetworkInsightsPathIds", PATH_NOTFOUND, "networkInsightsPath", path_filters,
		"NetworkInsightsPaths", true, 1, 100, NULL,
	};
	return api_describe(rq, &spec);
}

static int delete_by_id(struct api_req *rq, const char *id)
{
	char copy[RESOURCE_ID_MAX];	/* api_delete() frees the resource's id */
	snprintf(copy, sizeof(copy), "%s", id);
	return api_delete(rq, copy);
}

int handle_DeleteNetworkInsightsPath(struct api_req *rq)
{
	struct res *path = api_require(rq, "NetworkInsightsPathId", RT_NI_PATH, PATH_NOTFOUND, "networkInsightsPath");
	if (!path)
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", path->r_id);
	/* its analyses go with it; collect the ids first (deleting changes the list) */
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_NI_ANALYSIS, &n);
	char (*ids)[RESOURCE_ID_MAX] = calloc(n ? n : 1, sizeof(*ids));
	if (!ids)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(list[i]->r_doc, "NetworkInsightsPathId"), id))
			snprintf(ids[k++], RESOURCE_ID_MAX, "%s", list[i]->r_id);
	int rc = 0;
	for (size_t i = 0; i < k && rc == 0; i++)
		rc = delete_by_id(rq, ids[i]);
	free(ids);
	if (rc < 0 || delete_by_id(rq, id) < 0)
		return -1;
	doc_set_str(rq->rq_out, "NetworkInsightsPathId", id);
	return 0;
}

/* --- the analysis -------------------------------------------------------------------- */

/* The first host of the first route a VPN gateway's connections hold: an
 * address "behind" it. */
static bool vgw_remote_addr(struct api_req *rq, const char *vgw_id, char *buf)
{
	size_t n;
	struct res **vpns = cache_list(api_cache(rq), RT_VPN, &n);
	for (size_t i = 0; i < n; i++) {
		if (!str_eq(doc_get_str(vpns[i]->r_doc, "VpnGatewayId"), vgw_id))
			continue;
		doc_foreach(r, doc_get(vpns[i]->r_doc, "Routes")) {
			struct cidr4 c;
			if (!cidr_parse(doc_get_str(r, "DestinationCidrBlock"), &c, NULL))
				continue;
			ip4_format(c.c_len >= 31 ? c.c_addr : c.c_addr + 1, buf);
			return true;
		}
		const char *remote = doc_get_str(doc_get(vpns[i]->r_doc, "Options"), "LocalIpv4NetworkCidr");
		struct cidr4 c;
		if (remote && cidr_parse(remote, &c, NULL) && c.c_len > 0) {
			ip4_format(c.c_len >= 31 ? c.c_addr : c.c_addr + 1, buf);
			return true;
		}
	}
	return false;
}

/* The primary ENI's public address of an instance or an ENI, or NULL. */
static const char *public_addr_of(struct api_req *rq, const char *id)
{
	size_t n;
	struct res **enis = cache_list(api_cache(rq), RT_ENI, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *a = doc_get(enis[i]->r_doc, "Attachment");
		if (str_eq(enis[i]->r_id, id) ||
		    (str_eq(doc_get_str(a, "InstanceId"), id) && doc_get_int(a, "DeviceIndex", -1) == 0))
			return doc_get_str(doc_get(enis[i]->r_doc, "Association"), "PublicIp");
	}
	return NULL;
}

/* One end of the trace query from a path; false with msg when it cannot. */
static bool query_end(struct api_req *rq, const struct doc *path, bool source, char *buf,
		      const char **out, char *msg, size_t msglen)
{
	const char *id = doc_get_str(path, source ? "Source" : "Destination");
	const char *ip = doc_get_str(path, source ? "SourceIp" : "DestinationIp");
	const char *filter_ip = doc_get_str(doc_get(path, source ? "FilterAtSource" : "FilterAtDestination"),
					    source ? "SourceAddress" : "DestinationAddress");
	if (!ip)
		ip = filter_ip;
	if (!id || strncmp(id, "i-", 2) == 0 || strncmp(id, "eni-", 4) == 0) {
		*out = id ? id : ip;
		return *out != NULL;
	}
	if (ip) {
		*out = ip;
		return true;
	}
	if (strncmp(id, "igw-", 4) == 0) {
		*out = INTERNET_ADDR_DEFAULT;
		return true;
	}
	if (vgw_remote_addr(rq, id, buf)) {
		*out = buf;
		return true;
	}
	snprintf(msg, msglen, "%s has no VPN connection with a route: give %s the address to trace %s", id,
		 source ? "SourceIp" : "DestinationIp", source ? "from" : "to");
	return false;
}

static int64_t filter_port(const struct doc *path, const char *range)
{
	static const char *const filters[] = { "FilterAtSource", "FilterAtDestination" };
	for (size_t i = 0; i < ARRAY_LEN(filters); i++) {
		const struct doc *r = doc_get(doc_get(path, filters[i]), range);
		if (doc_get(r, "FromPort"))
			return doc_get_int(r, "FromPort", 0);
	}
	return -1;
}

static bool step_egress(enum trace_step_kind k)
{
	return k == TRACE_STEP_SG_EGRESS || k == TRACE_STEP_NACL_OUT || k == TRACE_STEP_REPLY_NACL_OUT ||
	       k == TRACE_STEP_ROUTE;
}

static bool step_return(enum trace_step_kind k)
{
	return k == TRACE_STEP_REPLY_NACL_OUT || k == TRACE_STEP_REPLY_ROUTE || k == TRACE_STEP_REPLY_NACL_IN;
}

static void port_range(struct doc *parent, int64_t from, int64_t to)
{
	struct doc *pr = doc_set(parent, "PortRange", doc_obj());
	doc_set_int(pr, "From", from);
	doc_set_int(pr, "To", to);
}

/* AclRule of a NACL step: the entry numbered rule ("*": the implicit deny). */
static void acl_rule(struct api_req *rq, struct doc *parent, const struct trace_step *s)
{
	struct doc *ar = doc_set(parent, "AclRule", doc_obj());
	bool egress = s->ts_kind == TRACE_STEP_NACL_OUT || s->ts_kind == TRACE_STEP_REPLY_NACL_OUT;
	if (str_eq(s->ts_rule, "*") || !s->ts_rule[0]) {
		doc_set_str(ar, "Cidr", "0.0.0.0/0");
		doc_set_bool(ar, "Egress", egress);
		doc_set_str(ar, "Protocol", "-1");
		doc_set_str(ar, "RuleAction", "deny");
		doc_set_int(ar, "RuleNumber", NACL_RULE_DEFAULT_DENY);
		return;
	}
	int64_t number = strtoll(s->ts_rule, NULL, 10);
	struct res *acl = cache_get_typed(api_cache(rq), RT_NACL, s->ts_component);
	doc_foreach(e, doc_get(acl ? acl->r_doc : NULL, "Entries")) {
		if (doc_get_int(e, "RuleNumber", -1) != number || doc_get_bool(e, "Egress", false) != egress)
			continue;
		doc_set_str(ar, "Cidr", doc_get_str(e, "CidrBlock") ? doc_get_str(e, "CidrBlock") : "");
		doc_set_bool(ar, "Egress", egress);
		if (doc_get(e, "PortRange"))
			port_range(ar, doc_get_int(doc_get(e, "PortRange"), "From", 0),
				   doc_get_int(doc_get(e, "PortRange"), "To", 65535));
		doc_set_str(ar, "Protocol", doc_get_str(e, "Protocol") ? doc_get_str(e, "Protocol") : "-1");
		doc_set_str(ar, "RuleAction", doc_get_str(e, "RuleAction") ? doc_get_str(e, "RuleAction") : "deny");
		doc_set_int(ar, "RuleNumber", number);
		return;
	}
	doc_set_bool(ar, "Egress", egress);
	doc_set_int(ar, "RuleNumber", number);
}

/* SecurityGroupRule of a passing security group step (ts_rule: "sgr-…"). */
static void sg_rule(struct api_req *rq, struct doc *parent, const struct trace_step *s)
{
	struct doc *sr = doc_set(parent, "SecurityGroupRule", doc_obj());
	doc_set_str(sr, "Direction", s->ts_kind == TRACE_STEP_SG_EGRESS ? "egress" : "ingress");
	doc_set_str(sr, "SecurityGroupId", s->ts_component);
	struct res *r = cache_get_typed(api_cache(rq), RT_SG_RULE, s->ts_rule);
	if (!r)
		return;
	const struct doc *d = r->r_doc;
	if (doc_get_str(d, "CidrIpv4"))
		doc_set_str(sr, "Cidr", doc_get_str(d, "CidrIpv4"));
	if (doc_get_str(d, "IpProtocol"))
		doc_set_str(sr, "Protocol", doc_get_str(d, "IpProtocol"));
	if (doc_get_int(d, "FromPort", -1) >= 0)
		port_range(sr, doc_get_int(d, "FromPort", 0), doc_get_int(d, "ToPort", 65535));
}

/* RouteTableRoute of a route step (ts_rule: "DEST -> TARGET"). */
/* AnalysisRouteTableRoute's member for a route target, by its id's prefix. */
static const char *route_target_member(const char *target)
{
	static const struct {
		const char *prefix, *member;
	} members[] = {
		{ "eni-", "NetworkInterfaceId" }, { "nat-", "NatGatewayId" }, { "pcx-", "VpcPeeringConnectionId" },
		{ "tgw-", "TransitGatewayId" }, { "eigw-", "EgressOnlyInternetGatewayId" }, { "i-", "InstanceId" },
		{ "lgw-", "LocalGatewayId" }, { "cagw-", "CarrierGatewayId" },
	};
	for (size_t i = 0; i < ARRAY_LEN(members); i++)
		if (strncmp(target, members[i].prefix, strlen(members[i].prefix)) == 0)
			return members[i].member;
	return "GatewayId";	/* local, igw-, vgw-, vpce- */
}

struct in_list {
	struct cidr4 il_want;
	bool il_yes;
};

static void in_list_add(void *arg, const struct cidr4 *cidr)
{
	struct in_list *il = arg;
	if (cidr->c_addr == il->il_want.c_addr && cidr->c_len == il->il_want.c_len)
		il->il_yes = true;
}

/* The route of the step's table the trace matched ("dest -> target"): one
 * with that destination block, else a prefix-list route whose list holds
 * it (the router has one route per CIDR of a list); NULL: propagated. */
static const struct doc *matched_route(struct api_req *rq, const char *table_id, const char *dest)
{
	struct res *t = cache_get_typed(api_cache(rq), RT_ROUTE_TABLE, table_id);
	doc_foreach(r, doc_get(t ? t->r_doc : NULL, "Routes"))
		if (str_eq(doc_get_str(r, "DestinationCidrBlock"), dest))
			return r;
	struct in_list il = { .il_yes = false };
	if (!cidr_parse(dest, &il.il_want, NULL))
		return NULL;
	doc_foreach(r, doc_get(t ? t->r_doc : NULL, "Routes")) {
		prefix_list_cidrs(api_cache(rq), doc_get_str(r, "DestinationPrefixListId"), in_list_add, &il);
		if (il.il_yes)
			return r;
	}
	return NULL;
}

static void route_rule(struct api_req *rq, struct doc *parent, const struct trace_step *s)
{
	const char *arrow = strstr(s->ts_rule, " -> ");
	if (!arrow)
		return;
	char dest[CIDR_STR_MAX];
	snprintf(dest, sizeof(dest), "%.*s", (int)(arrow - s->ts_rule), s->ts_rule);
	const char *target = arrow + 4;
	struct doc *rr = doc_set(parent, "RouteTableRoute", doc_obj());
	doc_set_str(rr, "DestinationCidr", dest);
	doc_set_str(rr, route_target_member(target), target);
	const char *origin = "EnableVgwRoutePropagation", *state = "active";
	const struct doc *r = matched_route(rq, s->ts_component, dest);
	if (r) {
		origin = doc_get_str(r, "Origin") ? doc_get_str(r, "Origin") : "CreateRoute";
		state = doc_get_str(r, "State") ? doc_get_str(r, "State") : "active";
		if (doc_get_str(r, "DestinationPrefixListId"))
			doc_set_str(rr, "DestinationPrefixListId", doc_get_str(r, "DestinationPrefixListId"));
	}
	doc_set_str(rr, "Origin", origin);
	doc_set_str(rr, "State", state);
}

/* Subnet and Vpc of an ENI, into a component. */
static void eni_place(struct api_req *rq, struct doc *parent, const char *eni_id)
{
	struct res *e = cache_get_typed(api_cache(rq), RT_ENI, eni_id);
	if (!e)
		return;
	component(rq, parent, "Subnet", doc_get_str(e->r_doc, "SubnetId"));
	component(rq, parent, "Vpc", doc_get_str(e->r_doc, "VpcId"));
}

static void path_component(struct api_req *rq, struct doc *list, const struct trace_step *s, const struct doc *path,
			   int seq)
{
	struct doc *pc = doc_push(list, doc_obj());
	doc_set_int(pc, "SequenceNumber", seq);
	const char *id = s->ts_component;
	if (!id[0] && s->ts_kind == TRACE_STEP_SOURCE)
		id = doc_get_str(path, "Source");
	if (!id[0] && s->ts_kind == TRACE_STEP_DESTINATION)
		id = doc_get_str(path, "Destination");
	component(rq, pc, "Component", id);
	switch (s->ts_kind) {
	case TRACE_STEP_SOURCE:
	case TRACE_STEP_DESTINATION:
		if (id && strncmp(id, "eni-", 4) == 0)
			eni_place(rq, pc, id);
		break;
	case TRACE_STEP_SG_EGRESS:
	case TRACE_STEP_SG_INGRESS:
		sg_rule(rq, pc, s);
		break;
	case TRACE_STEP_ROUTE:
	case TRACE_STEP_REPLY_ROUTE:
		route_rule(rq, pc, s);
		break;
	case TRACE_STEP_NACL_OUT:
	case TRACE_STEP_NACL_IN:
	case TRACE_STEP_REPLY_NACL_OUT:
	case TRACE_STEP_REPLY_NACL_IN:
		acl_rule(rq, pc, s);
		break;
	default:
		break;
	}
}

/* AWS's explanation code for a drop (Reachability Analyzer explanation codes). */
static const char *explanation_code(enum trace_cause c)
{
	switch (c) {
	case TRACE_NACL_OUT:
	case TRACE_NACL_IN:
	case TRACE_REPLY_NACL_OUT:
	case TRACE_REPLY_NACL_IN: return "SUBNET_ACL_RESTRICTION";
	case TRACE_SG_EGRESS:
	case TRACE_SG_INGRESS: return "ENI_SG_RULES_MISMATCH";
	case TRACE_NO_ROUTE:
	case TRACE_REPLY_NO_ROUTE:
	case TRACE_NO_GATEWAY:
	case TRACE_NO_DESTINATION: return "NO_ROUTE_TO_DESTINATION";
	case TRACE_BLACKHOLE: return "BAD_STATE_ROUTE";
	case TRACE_VPN_DOWN: return "BAD_STATE_VPN";
	case TRACE_NO_PUBLIC_IP: return "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS";
	case TRACE_SOURCE_DEST_CHECK: return "ENI_SOURCE_DEST_CHECK_RESTRICTION";
	case TRACE_UNSUPPORTED_TARGET: return "CANNOT_ROUTE";
	case TRACE_NO_SOURCE: return "BAD_STATE";
	case TRACE_OK:
	case TRACE_CAUSE_COUNT: break;
	}
	return "BAD_STATE";
}

static void explanation(struct api_req *rq, struct doc *list, const struct trace_result *r)
{
	const struct trace_step *s = r->tr_nsteps ? &r->tr_steps[r->tr_nsteps - 1] : NULL;
	struct doc *e = doc_push(list, doc_obj());
	doc_set_str(e, "ExplanationCode", explanation_code(r->tr_cause));
	if (!s)
		return;
	doc_set_str(e, "Direction", step_egress(s->ts_kind) ? "egress" : "ingress");
	component(rq, e, "Component", s->ts_component);
	switch (s->ts_kind) {
	case TRACE_STEP_NACL_OUT:
	case TRACE_STEP_NACL_IN:
	case TRACE_STEP_REPLY_NACL_OUT:
	case TRACE_STEP_REPLY_NACL_IN:
		if (strncmp(s->ts_component, "acl-", 4) == 0) {
			component(rq, e, "Acl", s->ts_component);
			acl_rule(rq, e, s);
		} else {
			component(rq, e, "Subnet", s->ts_component);
		}
		break;
	case TRACE_STEP_SG_EGRESS:
	case TRACE_STEP_SG_INGRESS: {
		/* the component is the ENI none of whose groups allows it */
		component(rq, e, "NetworkInterface", s->ts_component);
		struct res *eni = cache_get_typed(api_cache(rq), RT_ENI, s->ts_component);
		struct doc *groups = doc_get_list(e, "SecurityGroups");
		doc_foreach(g, doc_get(eni ? eni->r_doc : NULL, "Groups")) {
			const char *gid = doc_get_str(g, "GroupId");
			if (!gid)
				continue;
			struct doc *c = doc_push(groups, doc_obj());
			doc_set_str(c, "Id", gid);
			char arn[160];
			arn_of(rq, gid, arn, sizeof(arn));
			doc_set_str(c, "Arn", arn);
			if (doc_get_str(g, "GroupName"))
				doc_set_str(c, "Name", doc_get_str(g, "GroupName"));
		}
		if (groups->d_count == 1)
			doc_set(e, "SecurityGroup", doc_clone(groups->d_first));
		break;
	}
	case TRACE_STEP_ROUTE:
	case TRACE_STEP_REPLY_ROUTE:
		if (strncmp(s->ts_component, "rtb-", 4) == 0) {
			component(rq, e, "RouteTable", s->ts_component);
			route_rule(rq, e, s);
		} else {
			component(rq, e, "Subnet", s->ts_component);
		}
		break;
	case TRACE_STEP_GATEWAY:
		if (strncmp(s->ts_component, "igw-", 4) == 0)
			component(rq, e, "InternetGateway", s->ts_component);
		else if (strncmp(s->ts_component, "vgw-", 4) == 0)
			component(rq, e, "VpnGateway", s->ts_component);
		else if (strncmp(s->ts_component, "vpc-", 4) == 0)
			component(rq, e, "Vpc", s->ts_component);
		else if (strncmp(s->ts_component, "eni-", 4) == 0)
			component(rq, e, "NetworkInterface", s->ts_component);
		break;
	case TRACE_STEP_SOURCE_DEST_CHECK:
		component(rq, e, "NetworkInterface", s->ts_component);
		break;
	default:
		break;
	}
}

/* Runs the trace for path into the analysis doc d. */
static void analyse(struct api_req *rq, const struct doc *path, struct doc *d)
{
	char msg[300] = "", from_buf[IP4_STR_MAX], to_buf[IP4_STR_MAX], pub_buf[IP4_STR_MAX];
	struct trace_query q = { 0 };
	q.tq_proto = doc_get_str(path, "Protocol");
	bool ok = query_end(rq, path, true, from_buf, &q.tq_from, msg, sizeof(msg)) &&
		  query_end(rq, path, false, to_buf, &q.tq_to, msg, sizeof(msg));
	/* from an internet gateway to an instance: to its public address */
	const char *src = doc_get_str(path, "Source");
	if (ok && src && strncmp(src, "igw-", 4) == 0 && q.tq_to &&
	    (strncmp(q.tq_to, "i-", 2) == 0 || strncmp(q.tq_to, "eni-", 4) == 0)) {
		const char *pub = public_addr_of(rq, q.tq_to);
		if (pub) {
			snprintf(pub_buf, sizeof(pub_buf), "%s", pub);
			q.tq_to = pub_buf;
		}
	}
	int64_t port = doc_get_int(path, "DestinationPort", -1);
	if (port < 0)
		port = filter_port(path, "DestinationPortRange");
	if (ok && port < 0 && str_eq(q.tq_proto, "tcp")) {
		snprintf(msg, sizeof(msg),
			 "vpcd analyses one destination port: give the path a DestinationPort (or a DestinationPortRange filter)");
		ok = false;
	}
	q.tq_port = port < 0 ? 0 : (int)port;
	int64_t sport = filter_port(path, "SourcePortRange");
	q.tq_src_port = sport < 0 ? 0 : (int)sport;
	struct trace_result r;
	api_trace_fn tracer = api_tracer(rq->rq_api);
	if (ok && !tracer) {
		snprintf(msg, sizeof(msg), "this vpcd runs no packet trace");
		ok = false;
	}
	if (ok && tracer(api_cache(rq), &q, &r, msg, sizeof(msg)) < 0)
		ok = false;
	if (!ok) {
		doc_set_str(d, "Status", "failed");
		doc_set_str(d, "StatusMessage", msg);
		return;
	}
	doc_set_str(d, "Status", "succeeded");
	doc_set_bool(d, "NetworkPathFound", r.tr_reachable);
	struct doc *fwd = doc_get_list(d, "ForwardPathComponents");
	struct doc *ret = doc_get_list(d, "ReturnPathComponents");
	int fseq = 0, rseq = 0;
	for (size_t i = 0; i < r.tr_nsteps; i++) {
		const struct trace_step *s = &r.tr_steps[i];
		if (!s->ts_ok)
			continue;
		if (step_return(s->ts_kind))
			path_component(rq, ret, s, path, ++rseq);
		else
			path_component(rq, fwd, s, path, ++fseq);
	}
	struct doc *ex = doc_get_list(d, "Explanations");
	if (!r.tr_reachable)
		explanation(rq, ex, &r);
}

int handle_StartNetworkInsightsAnalysis(struct api_req *rq)
{
	struct res *path = api_require(rq, "NetworkInsightsPathId", RT_NI_PATH, PATH_NOTFOUND, "networkInsightsPath");
	if (!path)
		return -1;
	char id[RESOURCE_ID_MAX], arn[160], now[32];
	new_id("nia", id);
	time_iso8601(time_wall_s(), now, sizeof(now));
	struct doc *d = doc_obj();
	doc_set_str(d, "NetworkInsightsAnalysisId", id);
	arn_of(rq, id, arn, sizeof(arn));
	doc_set_str(d, "NetworkInsightsAnalysisArn", arn);
	doc_set_str(d, "NetworkInsightsPathId", path->r_id);
	static const char *const lists[] = { "AdditionalAccounts", "FilterInArns", "FilterOutArns" };
	for (size_t i = 0; i < ARRAY_LEN(lists); i++)
		doc_set(d, lists[i], doc_get(rq->rq_in, lists[i]) ? doc_clone(doc_get(rq->rq_in, lists[i])) : doc_list());
	doc_set_str(d, "StartDate", now);
	analyse(rq, path->r_doc, d);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_NI_ANALYSIS));
	struct doc *a = api_put(rq, RT_NI_ANALYSIS, id, d);
	if (!a)
		return -1;
	doc_set(rq->rq_out, "NetworkInsightsAnalysis", doc_clone(a));
	return 0;
}

#define PATH_ID_FILTER "_network-insights-path-id"	/* the NetworkInsightsPathId member, as a filter */

static const struct filter_def analysis_filters[] = {
	{ "path-found", "NetworkPathFound" },
	{ "status", "Status" },
	{ PATH_ID_FILTER, "NetworkInsightsPathId" },
	{ NULL, NULL },
};

int handle_DescribeNetworkInsightsAnalyses(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_NI_ANALYSIS, "NetworkInsightsAnalysisIds", ANALYSIS_NOTFOUND, "networkInsightsAnalysis",
		analysis_filters, "NetworkInsightsAnalyses", true, 1, 100, NULL,
	};
	doc_foreach(f, doc_get(rq->rq_in, "Filters"))
		if (str_eq(doc_get_str(f, "Name"), PATH_ID_FILTER))
			return api_fail(rq, "InvalidParameterValue", "The filter '%s' is invalid", PATH_ID_FILTER);
	const char *path_id = doc_get_str(rq->rq_in, "NetworkInsightsPathId");
	if (path_id) {
		if (!cache_get_typed(api_cache(rq), RT_NI_PATH, path_id))
			return api_not_found(rq, PATH_NOTFOUND, "networkInsightsPath", path_id);
		struct doc *f = doc_push(doc_get_list(rq->rq_in, "Filters"), doc_obj());
		doc_set_str(f, "Name", PATH_ID_FILTER);
		doc_push(doc_get_list(f, "Values"), doc_str(path_id));
	}
	return api_describe(rq, &spec);
}

int handle_DeleteNetworkInsightsAnalysis(struct api_req *rq)
{
	struct res *a = api_require(rq, "NetworkInsightsAnalysisId", RT_NI_ANALYSIS, ANALYSIS_NOTFOUND,
				    "networkInsightsAnalysis");
	if (!a)
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", a->r_id);
	if (delete_by_id(rq, id) < 0)
		return -1;
	doc_set_str(rq->rq_out, "NetworkInsightsAnalysisId", id);
	return 0;
}
