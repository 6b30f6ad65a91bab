/*
 * eigw.c — egress-only internet gateways: CreateEgressOnlyInternetGateway,
 * DescribeEgressOnlyInternetGateways, DeleteEgressOnlyInternetGateway.
 *
 * API state only: an egress-only gateway lets a VPC's IPv6 traffic out and
 * nothing in, and vpcd's data plane carries no IPv6 yet, so nothing reaches
 * one (routes to it are blackholes there). Doc: {EgressOnlyInternetGatewayId,
 * Attachments [{State "attached", VpcId}], Tags}; attached to its VPC from
 * creation to deletion, as on AWS (there is no attach or detach action).
 */
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define EIGW_WHAT "egressOnlyInternetGateway"
#define EIGW_NOTFOUND "InvalidGatewayID.NotFound"

int handle_CreateEgressOnlyInternetGateway(struct api_req *rq)
{
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	char id[RESOURCE_ID_MAX];
	new_id("eigw", id);
	struct doc *d = doc_obj();
	struct doc *a = doc_push(doc_get_list(d, "Attachments"), doc_obj());
	doc_set_str(a, "State", "attached");
	doc_set_str(a, "VpcId", vpc->r_id);
	doc_set_str(d, "EgressOnlyInternetGatewayId", id);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_EIGW));
	struct doc *g = api_put(rq, RT_EIGW, id, d);
	if (!g)
		return -1;
	doc_set(rq->rq_out, "EgressOnlyInternetGateway", doc_clone(g));
	const char *token = doc_get_str(rq->rq_in, "ClientToken");
	if (token)
		doc_set_str(rq->rq_out, "ClientToken", token);
	return 0;
}

int handle_DeleteEgressOnlyInternetGateway(struct api_req *rq)
{
	struct res *g = api_require(rq, "EgressOnlyInternetGatewayId", RT_EIGW, EIGW_NOTFOUND, EIGW_WHAT);
	if (!g)
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", g->r_id);
	if (api_delete(rq, id) < 0 || rtb_refresh_routes(rq, id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "ReturnCode", true);
	return 0;
}

static const struct filter_def eigw_filters[] = {
	{ "egress-only-internet-gateway-id", "EgressOnlyInternetGatewayId" },
	{ "attachment.state", "Attachments.State" },
	{ "attachment.vpc-id", "Attachments.VpcId" },
	{ NULL, NULL },
};

int handle_DescribeEgressOnlyInternetGateways(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_EIGW, "EgressOnlyInternetGatewayIds", EIGW_NOTFOUND, EIGW_WHAT, eigw_filters, "EgressOnlyInternetGateways",
		true, 5, 255, NULL,
	};
	return api_describe(rq, &spec);
}
