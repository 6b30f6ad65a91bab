/*
 * vpn_gw.c — the two ends a VPN connection joins: customer gateways
 * (CreateCustomerGateway, DescribeCustomerGateways, DeleteCustomerGateway)
 * and virtual private gateways (CreateVpnGateway, AttachVpnGateway,
 * DetachVpnGateway, DeleteVpnGateway, DescribeVpnGateways), and route
 * propagation from a VPN gateway into route tables
 * (EnableVgwRoutePropagation, DisableVgwRoutePropagation).
 *
 * Doc layouts (keys are botocore member names of the Describe items):
 *   customer-gateway: CustomerGatewayId, IpAddress, BgpAsn (a string, as
 *     AWS answers), Type "ipsec.1", State "available", DeviceName?, Tags.
 *   vpn-gateway: VpnGatewayId, Type, State "available", AmazonSideAsn,
 *     AvailabilityZone?, VpcAttachments [{VpcId, State "attached" or
 *     "detached"}] (at most one: a VPC has one VPN gateway, a VPN gateway
 *     one VPC; a detached gateway keeps its attachment as "detached", as
 *     AWS shows it), Tags.
 * A deleted gateway stays describable as State "deleted" (with vpcd's
 * "_DeleteTime") for GW_DELETED_KEEP_S, as AWS keeps it; every other
 * action treats it as gone (gw_require_live: NotFound).
 *   route-table: PropagatingVgws [{GatewayId}] is changed here.
 * Never touches route tables' routes: the router (route.c) owns them.
 */
#include "api/quota.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define GATEWAY_TYPE "ipsec.1"
#define CGW_BGP_ASN_DEFAULT 65000
#define CGW_BGP_ASN_MAX 2147483647LL		/* BgpAsn; larger ones go in BgpAsnExtended */
#define CGW_BGP_ASN_EXT_MIN 2147483648LL
#define CGW_BGP_ASN_EXT_MAX 4294967294LL
#define VGW_ASN_DEFAULT 64512
#define VGW_ASN16_MIN 64512			/* private 16-bit ASNs */
#define VGW_ASN16_MAX 65534
#define VGW_ASN32_MIN 4200000000LL		/* private 32-bit ASNs */
#define VGW_ASN32_MAX 4294967294LL
#define GW_DELETED_KEEP_S 3600			/* a deleted gateway stays describable this long */
#define CGW_WHAT "customerGateway"		/* "The customerGateway ID '…' does not exist" */
#define VGW_WHAT "vpnGateway"

static bool gw_deleted(const struct doc *d)
{
	const char *st = doc_get_str(d, "State");
	return st && strcmp(st, "deleted") == 0;
}

struct res *gw_require_live(struct api_req *rq, const char *member, const char *type)
{
	bool cgw = strcmp(type, RT_CGW) == 0;
	const char *code = cgw ? "InvalidCustomerGatewayID.NotFound" : "InvalidVpnGatewayID.NotFound";
	struct res *r = api_require(rq, member, type, code, cgw ? CGW_WHAT : VGW_WHAT);
	if (r && gw_deleted(r->r_doc)) {
		api_not_found(rq, code, cgw ? CGW_WHAT : VGW_WHAT, r->r_id);
		return NULL;
	}
	return r;
}

/* Marks the gateway deleted (kept describable), ownership of nothing. */
static int gw_mark_deleted(struct api_req *rq, const char *type, const char *id)
{
	struct res *r = cache_get_typed(api_cache(rq), type, id);
	struct doc *d = doc_clone(r->r_doc);
	doc_set_str(d, "State", "deleted");
	doc_set_int(d, "_DeleteTime", time_wall_s());
	return api_put(rq, type, id, d) ? 0 : -1;
}

/* Forgets gateways of type deleted more than GW_DELETED_KEEP_S ago. */
static int gw_purge_deleted(struct api_req *rq, const char *type)
{
	int64_t now = time_wall_s();
	for (;;) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), type, &n);
		char victim[RESOURCE_ID_MAX] = "";	/* a copy: api_delete frees r_id */
		for (size_t i = 0; i < n && !victim[0]; i++)
			if (gw_deleted(list[i]->r_doc) && now - doc_get_int(list[i]->r_doc, "_DeleteTime", now) > GW_DELETED_KEEP_S)
				snprintf(victim, sizeof(victim), "%s", list[i]->r_id);
		if (!victim[0])
			return 0;
		if (api_delete(rq, victim) < 0)
			return -1;
	}
}

static int check_gateway_type(struct api_req *rq)
{
	const char *type = api_require_str(rq, "Type");
	if (!type)
		return -1;
	if (strcmp(type, GATEWAY_TYPE) != 0)
		return api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter type is invalid. Valid values: ipsec.1",
				type);
	return 0;
}

/* A VPN connection (not deleted) that uses the gateway, or NULL. */
static const char *vpn_connection_using(struct api_req *rq, const char *member, const char *gw_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_VPN, &n);
	for (size_t i = 0; i < n; i++) {
		const char *g = doc_get_str(list[i]->r_doc, member);
		const char *st = doc_get_str(list[i]->r_doc, "State");
		if (g && strcmp(g, gw_id) == 0 && !(st && strcmp(st, "deleted") == 0))
			return list[i]->r_id;
	}
	return NULL;
}

/* --- customer gateways ------------------------------------------------------ */

int handle_CreateCustomerGateway(struct api_req *rq)
{
	if (check_gateway_type(rq) < 0 || quota_check(rq, Q_CUSTOMER_GATEWAYS, NULL, 1) < 0)
		return -1;
	const char *ip_s = doc_get_str(rq->rq_in, "IpAddress");
	const char *member = "ipAddress";
	if (!ip_s) {
		ip_s = doc_get_str(rq->rq_in, "PublicIp");
		member = "publicIp";
	}
	if (!ip_s || !*ip_s)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter IpAddress");
	uint32_t ip;
	if (!ip4_parse(ip_s, &ip))
		return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter %s is invalid. It is not a valid IPv4 address.",
				ip_s, member);
	if (doc_get(rq->rq_in, "CertificateArn"))
		return api_fail(rq, "InvalidParameterValue", "Certificate-based customer gateways are not supported by vpcd; use a pre-shared key");
	const struct doc *asn_d = doc_get(rq->rq_in, "BgpAsn");
	const struct doc *ext_d = doc_get(rq->rq_in, "BgpAsnExtended");
	int64_t asn = CGW_BGP_ASN_DEFAULT;
	if (asn_d && ext_d)
		return api_fail(rq, "InvalidParameterCombination", "BgpAsn and BgpAsnExtended cannot both be given");
	if (asn_d) {
		asn = asn_d->d_int;
		if (asn < 1 || asn > CGW_BGP_ASN_MAX)
			return api_fail(rq, "InvalidParameterValue",
					"Value (%" PRId64 ") for parameter bgpAsn is invalid. Expecting 1 to %lld (use BgpAsnExtended above that).",
					asn, CGW_BGP_ASN_MAX);
	} else if (ext_d) {
		asn = ext_d->d_int;
		if (asn < CGW_BGP_ASN_EXT_MIN || asn > CGW_BGP_ASN_EXT_MAX)
			return api_fail(rq, "InvalidParameterValue",
					"Value (%" PRId64 ") for parameter bgpAsnExtended is invalid. Expecting %lld to %lld.", asn,
					CGW_BGP_ASN_EXT_MIN, CGW_BGP_ASN_EXT_MAX);
	}
	char ip_norm[IP4_STR_MAX], asn_s[24];
	ip4_format(ip, ip_norm);
	snprintf(asn_s, sizeof(asn_s), "%" PRId64, asn);
	const char *device = doc_get_str(rq->rq_in, "DeviceName");

	/* an identical create answers the existing gateway */
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_CGW, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = list[i]->r_doc;
		const char *dd = doc_get_str(d, "DeviceName");
		if (!gw_deleted(d) && strcmp(doc_get_str(d, "IpAddress"), ip_norm) == 0 && strcmp(doc_get_str(d, "BgpAsn"), asn_s) == 0 &&
		    strcmp(device ? device : "", dd ? dd : "") == 0) {
			doc_set(rq->rq_out, "CustomerGateway", doc_clone(d));
			return 0;
		}
	}

	char id[RESOURCE_ID_MAX];
	new_id("cgw", id);
	struct doc *d = doc_obj();
	doc_set_str(d, "CustomerGatewayId", id);
	doc_set_str(d, "IpAddress", ip_norm);
	doc_set_str(d, "BgpAsn", asn_s);
	if (ext_d)
		doc_set_str(d, "BgpAsnExtended", asn_s);
	doc_set_str(d, "Type", GATEWAY_TYPE);
	doc_set_str(d, "State", "available");
	if (device)
		doc_set_str(d, "DeviceName", device);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_CGW));
	struct doc *cgw = api_put(rq, RT_CGW, id, d);
	if (!cgw)
		return -1;
	doc_set(rq->rq_out, "CustomerGateway", doc_clone(cgw));
	return 0;
}

static const struct filter_def cgw_filters[] = {
	{ "bgp-asn", "BgpAsn" },
	{ "customer-gateway-id", "CustomerGatewayId" },
	{ "ip-address", "IpAddress" },
	{ "state", "State" },
	{ "type", "Type" },
	{ "device-name", "DeviceName" },
	{ NULL, NULL },
};

int handle_DescribeCustomerGateways(struct api_req *rq)
{
	if (gw_purge_deleted(rq, RT_CGW) < 0)
		return -1;
	static const struct describe_spec spec = {
		RT_CGW, "CustomerGatewayIds", "InvalidCustomerGatewayID.NotFound", CGW_WHAT, cgw_filters,
		"CustomerGateways", false, 5, 1000, NULL,
	};
	return api_describe(rq, &spec);
}

int handle_DeleteCustomerGateway(struct api_req *rq)
{
	struct res *cgw = gw_require_live(rq, "CustomerGatewayId", RT_CGW);
	if (!cgw)
		return -1;
	const char *vpn = vpn_connection_using(rq, "CustomerGatewayId", cgw->r_id);
	if (vpn)
		return api_fail(rq, "IncorrectState", "The customer gateway '%s' is in use by the VPN connection '%s'.",
				cgw->r_id, vpn);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", cgw->r_id);
	if (gw_mark_deleted(rq, RT_CGW, id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

/* --- VPN gateways -------------------------------------------------------------- */

int handle_CreateVpnGateway(struct api_req *rq)
{
	if (check_gateway_type(rq) < 0 || quota_check(rq, Q_VPN_GATEWAYS, NULL, 1) < 0)
		return -1;
	const struct doc *asn_d = doc_get(rq->rq_in, "AmazonSideAsn");
	int64_t asn = asn_d ? asn_d->d_int : VGW_ASN_DEFAULT;
	if (!((asn >= VGW_ASN16_MIN && asn <= VGW_ASN16_MAX) || (asn >= VGW_ASN32_MIN && asn <= VGW_ASN32_MAX)))
		return api_fail(rq, "InvalidParameterValue",
				"Value (%" PRId64 ") for parameter amazonSideAsn is invalid. Expecting a private ASN: %d to %d or %lld to %lld.",
				asn, VGW_ASN16_MIN, VGW_ASN16_MAX, VGW_ASN32_MIN, VGW_ASN32_MAX);
	const char *az = doc_get_str(rq->rq_in, "AvailabilityZone");
	if (az && !*az)
		az = NULL;	/* AvailabilityZone= : none, as AWS takes it */
	if (az) {
		const struct region_info *reg = region_find(api_region(rq));
		bool known = false;
		for (size_t i = 0; i < reg->r_nzones; i++)
			known = known || strcmp(reg->r_zones[i].z_name, az) == 0;
		if (!known)
			return api_fail(rq, "InvalidParameterValue", "Value (%.32s) for parameter availabilityZone is invalid.", az);
	}
	char id[RESOURCE_ID_MAX];
	new_id("vgw", id);
	struct doc *d = doc_obj();
	doc_set_str(d, "VpnGatewayId", id);
	doc_set_str(d, "Type", GATEWAY_TYPE);
	doc_set_str(d, "State", "available");
	doc_set_int(d, "AmazonSideAsn", asn);
	if (az)
		doc_set_str(d, "AvailabilityZone", az);
	doc_get_list(d, "VpcAttachments");
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_VGW));
	struct doc *vgw = api_put(rq, RT_VGW, id, d);
	if (!vgw)
		return -1;
	doc_set(rq->rq_out, "VpnGateway", doc_clone(vgw));
	return 0;
}

/* The VPC the VPN gateway is attached to, or NULL. */
static const char *vgw_attached_vpc(const struct doc *vgw)
{
	doc_foreach(a, doc_get(vgw, "VpcAttachments")) {
		const char *st = doc_get_str(a, "State");
		if (st && strcmp(st, "attached") == 0)
			return doc_get_str(a, "VpcId");
	}
	return NULL;
}

int handle_AttachVpnGateway(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	struct res *vgw = gw_require_live(rq, "VpnGatewayId", RT_VGW);
	if (!vgw)
		return -1;
	const char *cur = vgw_attached_vpc(vgw->r_doc);
	if (cur && strcmp(cur, vpc->r_id) == 0)
		return api_fail(rq, "InvalidParameterValue", "The vpn gateway '%s' is already attached to the vpc '%s'.", vgw->r_id,
				vpc->r_id);
	if (cur)
		return api_fail(rq, "VpnGatewayAttachmentLimitExceeded",
				"The vpn gateway '%s' is already attached to the vpc '%s'; detach it first.", vgw->r_id, cur);
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_VGW, &n);
	for (size_t i = 0; i < n; i++) {
		const char *v = vgw_attached_vpc(list[i]->r_doc);
		if (v && strcmp(v, vpc->r_id) == 0)
			return api_fail(rq, "InvalidVpcState", "VPC %s is currently attached to the Virtual Private Gateway %s.",
					vpc->r_id, list[i]->r_id);
	}
	struct doc *d = doc_clone(vgw->r_doc);
	struct doc *atts = doc_set(d, "VpcAttachments", doc_list());
	struct doc *a = doc_push(atts, doc_obj());
	doc_set_str(a, "VpcId", vpc->r_id);
	doc_set_str(a, "State", "attached");
	if (!api_put(rq, RT_VGW, vgw->r_id, d))
		return -1;
	struct doc *out = doc_set(rq->rq_out, "VpcAttachment", doc_obj());
	doc_set_str(out, "VpcId", vpc->r_id);
	doc_set_str(out, "State", "attaching");	/* as AWS answers; attached at once */
	return 0;
}

/* Removes gateway_id from PropagatingVgws of every route table of vpc_id
 * (vpc_id NULL: of every route table). */
static int propagation_remove_all(struct api_req *rq, const char *vpc_id, const char *gateway_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_ROUTE_TABLE, &n);
	for (size_t i = 0; i < n; i++) {
		const char *v = doc_get_str(list[i]->r_doc, "VpcId");
		if (vpc_id && (!v || strcmp(v, vpc_id) != 0))
			continue;
		bool has = false;
		doc_foreach(p, doc_get(list[i]->r_doc, "PropagatingVgws")) {
			const char *g = doc_get_str(p, "GatewayId");
			has = has || (g && strcmp(g, gateway_id) == 0);
		}
		if (!has)
			continue;
		struct doc *d = doc_clone(list[i]->r_doc);
		struct doc *pv = doc_get(d, "PropagatingVgws");
		for (struct doc *c = pv->d_first; c;) {
			struct doc *next = c->d_next;
			const char *g = doc_get_str(c, "GatewayId");
			if (g && strcmp(g, gateway_id) == 0)
				doc_delete_child(pv, c);
			c = next;
		}
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", list[i]->r_id);
		if (!api_put(rq, RT_ROUTE_TABLE, id, d))
			return -1;
	}
	return 0;
}

int handle_DetachVpnGateway(struct api_req *rq)
{
	const char *vpc_arg = api_require_str(rq, "VpcId");
	if (!vpc_arg)
		return -1;
	struct res *vgw = gw_require_live(rq, "VpnGatewayId", RT_VGW);
	if (!vgw)
		return -1;
	/* the attachment is what is looked for: a VPC that is gone has none
	 * (Terraform detaches again while it deletes the gateway, perhaps
	 * after the VPC) */
	struct res *vpc = cache_get_typed(api_cache(rq), RT_VPC, vpc_arg);
	const char *cur = vgw_attached_vpc(vgw->r_doc);
	if (!vpc || !cur || strcmp(cur, vpc->r_id) != 0)
		return api_fail(rq, "InvalidVpnGatewayAttachment.NotFound",
				"The attachment with vpn gateway ID '%s' and vpc ID '%.64s' does not exist", vgw->r_id, vpc_arg);
	char vgw_id[RESOURCE_ID_MAX], vpc_id[RESOURCE_ID_MAX];
	snprintf(vgw_id, sizeof(vgw_id), "%s", vgw->r_id);
	snprintf(vpc_id, sizeof(vpc_id), "%s", vpc->r_id);
	struct doc *d = doc_clone(vgw->r_doc);
	struct doc *atts = doc_set(d, "VpcAttachments", doc_list());
	struct doc *a = doc_push(atts, doc_obj());	/* AWS keeps it, "detached" */
	doc_set_str(a, "VpcId", vpc_id);
	doc_set_str(a, "State", "detached");
	if (!api_put(rq, RT_VGW, vgw_id, d))
		return -1;
	if (propagation_remove_all(rq, vpc_id, vgw_id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_DeleteVpnGateway(struct api_req *rq)
{
	struct res *vgw = gw_require_live(rq, "VpnGatewayId", RT_VGW);
	if (!vgw)
		return -1;
	const char *vpc = vgw_attached_vpc(vgw->r_doc);
	if (vpc)
		return api_fail(rq, "IncorrectState", "The vpn gateway '%s' is attached to the vpc '%s'; detach it first.",
				vgw->r_id, vpc);
	const char *vpn = vpn_connection_using(rq, "VpnGatewayId", vgw->r_id);
	if (vpn)
		return api_fail(rq, "IncorrectState", "The vpn gateway '%s' is in use by the VPN connection '%s'.", vgw->r_id, vpn);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", vgw->r_id);
	if (propagation_remove_all(rq, NULL, id) < 0 || gw_mark_deleted(rq, RT_VGW, id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

static const struct filter_def vgw_filters[] = {
	{ "amazon-side-asn", "AmazonSideAsn" },
	{ "attachment.state", "VpcAttachments.State" },
	{ "attachment.vpc-id", "VpcAttachments.VpcId" },
	{ "availability-zone", "AvailabilityZone" },
	{ "state", "State" },
	{ "type", "Type" },
	{ "vpn-gateway-id", "VpnGatewayId" },
	{ NULL, NULL },
};

int handle_DescribeVpnGateways(struct api_req *rq)
{
	if (gw_purge_deleted(rq, RT_VGW) < 0)
		return -1;
	static const struct describe_spec spec = {
		RT_VGW, "VpnGatewayIds", "InvalidVpnGatewayID.NotFound", VGW_WHAT, vgw_filters, "VpnGateways", false, 5,
		1000, NULL,
	};
	return api_describe(rq, &spec);
}

/* --- route propagation ------------------------------------------------------- */

static int propagation_change(struct api_req *rq, bool enable)
{
	struct res *rtb = api_require(rq, "RouteTableId", RT_ROUTE_TABLE, "InvalidRouteTableID.NotFound", "routeTable");
	if (!rtb)
		return -1;
	struct res *vgw = gw_require_live(rq, "GatewayId", RT_VGW);
	if (!vgw)
		return -1;
	const char *rtb_vpc = doc_get_str(rtb->r_doc, "VpcId");
	const char *vgw_vpc = vgw_attached_vpc(vgw->r_doc);
	if (enable && (!vgw_vpc || !rtb_vpc || strcmp(vgw_vpc, rtb_vpc) != 0))
		return api_fail(rq, "Gateway.NotAttached", "resource %s is not attached to network %s", vgw->r_id,
				rtb_vpc ? rtb_vpc : "-");
	struct doc *d = doc_clone(rtb->r_doc);
	struct doc *pv = doc_get_list(d, "PropagatingVgws");
	struct doc *found = NULL;
	doc_foreach(p, pv) {
		const char *g = doc_get_str(p, "GatewayId");
		if (g && strcmp(g, vgw->r_id) == 0)
			found = p;
	}
	if (enable == (found != NULL)) {
		doc_free(d);	/* already so: nothing changes */
	} else {
		if (enable)
			doc_set_str(doc_push(pv, doc_obj()), "GatewayId", vgw->r_id);
		else
			doc_delete_child(pv, found);
		if (!api_put(rq, RT_ROUTE_TABLE, rtb->r_id, d))
			return -1;
	}
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_EnableVgwRoutePropagation(struct api_req *rq) { return propagation_change(rq, true); }
int handle_DisableVgwRoutePropagation(struct api_req *rq) { return propagation_change(rq, false); }
