/*
 * igw.c — internet gateways: CreateInternetGateway, AttachInternetGateway,
 * DetachInternetGateway, DeleteInternetGateway, DescribeInternetGateways.
 *
 * An internet gateway is attached to at most one VPC and a VPC has at most
 * one. Its doc is {InternetGatewayId, OwnerId, Attachments, Tags}; while
 * attached, Attachments holds one {State "available", VpcId} (AWS shows
 * "available", not the documented "attached"), and is empty otherwise —
 * the layout api_bootstrap() (account.c) gives the default VPC's gateway.
 * Routes to a gateway stay when it is detached or deleted and turn
 * "blackhole" (rtb_refresh_routes()).
 */
#include "api/quota.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define IGW_WHAT "internetGateway"	/* "The internetGateway ID '…' does not exist" */
#define IGW_ATTACHED "available"

static struct res *require_igw(struct api_req *rq)
{
	return api_require(rq, "InternetGatewayId", RT_IGW, "InvalidInternetGatewayID.NotFound", IGW_WHAT);
}

/* The VPC the gateway is attached to, or NULL. */
static const char *igw_vpc(const struct doc *igw)
{
	doc_foreach(a, doc_get(igw, "Attachments"))
		if (doc_get_str(a, "VpcId"))
			return doc_get_str(a, "VpcId");
	return NULL;
}

/* The internet gateway attached to vpc_id, or NULL. */
static struct res *vpc_igw(struct api_req *rq, const char *vpc_id)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_IGW, &n);
	for (size_t i = 0; i < n; i++) {
		const char *v = igw_vpc(list[i]->r_doc);
		if (v && strcmp(v, vpc_id) == 0)
			return list[i];
	}
	return NULL;
}

int handle_CreateInternetGateway(struct api_req *rq)
{
	if (quota_check(rq, Q_INTERNET_GATEWAYS, NULL, 1) < 0)
		return -1;
	char id[RESOURCE_ID_MAX];
	new_id("igw", id);
	struct doc *d = doc_obj();
	doc_set_str(d, "InternetGatewayId", id);
	doc_set_str(d, "OwnerId", api_account(rq));
	doc_get_list(d, "Attachments");
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_IGW));
	struct doc *igw = api_put(rq, RT_IGW, id, d);
	if (!igw)
		return -1;
	doc_set(rq->rq_out, "InternetGateway", doc_clone(igw));
	return 0;
}

int handle_AttachInternetGateway(struct api_req *rq)
{
	struct res *igw = require_igw(rq);
	if (!igw)
		return -1;
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	const char *attached = igw_vpc(igw->r_doc);
	if (attached)
		return api_fail(rq, "Resource.AlreadyAssociated", "resource %s is already attached to network %s",
				igw->r_id, attached);
	if (vpc_igw(rq, vpc->r_id))
		return api_fail(rq, "InvalidParameterValue", "Network %s already has an internet gateway attached",
				vpc->r_id);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", igw->r_id);
	struct doc *d = doc_clone(igw->r_doc);
	struct doc *atts = doc_set(d, "Attachments", doc_list());
	struct doc *a = doc_push(atts, doc_obj());
	doc_set_str(a, "State", IGW_ATTACHED);
	doc_set_str(a, "VpcId", vpc->r_id);
	if (!api_put(rq, RT_IGW, id, d))
		return -1;
	/* routes that pointed at it from this VPC work again */
	return rtb_refresh_routes(rq, id);
}

/* Addresses that need the gateway: AWS refuses to detach it while an
 * instance in the VPC has a public address. */
static const char *vpc_public_address_user(struct api_req *rq, const char *vpc_id)
{
	/* every public address is on a network interface: an instance's, an
	 * unattached one's with an Elastic IP, a NAT gateway's */
	size_t n;
	struct res **list = cache_list(api_cache(rq), "network-interface", &n);
	for (size_t i = 0; i < n; i++) {
		const char *v = doc_get_str(list[i]->r_doc, "VpcId");
		const char *ip = doc_get_str(doc_get(list[i]->r_doc, "Association"), "PublicIp");
		if (v && strcmp(v, vpc_id) == 0 && ip && *ip)
			return list[i]->r_id;
	}
	return NULL;
}

int handle_DetachInternetGateway(struct api_req *rq)
{
	struct res *igw = require_igw(rq);
	if (!igw)
		return -1;
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	const char *attached = igw_vpc(igw->r_doc);
	if (!attached || strcmp(attached, vpc->r_id) != 0)
		return api_fail(rq, "Gateway.NotAttached", "resource %s is not attached to network %s", igw->r_id,
				vpc->r_id);
	if (vpc_public_address_user(rq, vpc->r_id))
		return api_fail(rq, "DependencyViolation",
				"Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.",
				vpc->r_id);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", igw->r_id);
	struct doc *d = doc_clone(igw->r_doc);
	doc_set(d, "Attachments", doc_list());
	if (!api_put(rq, RT_IGW, id, d))
		return -1;
	/* the VPC's routes to it become blackholes */
	return rtb_refresh_routes(rq, id);
}

int handle_DeleteInternetGateway(struct api_req *rq)
{
	struct res *igw = require_igw(rq);
	if (!igw)
		return -1;
	if (igw_vpc(igw->r_doc))
		return api_fail(rq, "DependencyViolation", "The %s '%s' has dependencies and cannot be deleted.", IGW_WHAT,
				igw->r_id);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", igw->r_id);
	if (api_delete(rq, id) < 0)
		return -1;
	return rtb_refresh_routes(rq, id);
}

static const struct filter_def igw_filters[] = {
	{ "attachment.state", "Attachments.State" },
	{ "attachment.vpc-id", "Attachments.VpcId" },
	{ "internet-gateway-id", "InternetGatewayId" },
	{ NULL, NULL },
};

int handle_DescribeInternetGateways(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_IGW, "InternetGatewayIds", "InvalidInternetGatewayID.NotFound", IGW_WHAT, igw_filters,
		"InternetGateways", true, 5, 1000, NULL,
	};
	return api_describe(rq, &spec);
}
