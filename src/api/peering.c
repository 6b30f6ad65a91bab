/*
 * peering.c — VPC peering connections: CreateVpcPeeringConnection,
 * AcceptVpcPeeringConnection, RejectVpcPeeringConnection,
 * DescribeVpcPeeringConnections, DeleteVpcPeeringConnection,
 * ModifyVpcPeeringConnectionOptions.
 *
 * Layout (cache type RT_PCX "vpc-peering-connection", id "pcx-…"), in the
 * shape of botocore's VpcPeeringConnection: VpcPeeringConnectionId,
 * RequesterVpcInfo and AccepterVpcInfo {CidrBlock, CidrBlockSet
 * [{CidrBlock}], OwnerId, VpcId, Region, PeeringOptions (while active)},
 * Status {Code, Message}, ExpirationTime (while pending), Tags; vpcd's
 * own: _GoneS (when it was deleted, rejected or failed).
 *
 * Life (AWS's codes and messages): Create answers "initiating-request"
 * and the connection is "pending-acceptance" at once, or "failed" when
 * the two VPCs' CIDR blocks overlap; Accept makes it "active" (answered
 * as "provisioning"); Reject a pending one "rejected"; Delete a pending
 * or active one "deleted"; a pending request expires after 7 days.
 * Gone connections stay describable for PCX_GONE_KEEP_S. Routes to a
 * connection are "active" only while it is (route.c), and the data plane
 * carries a route whose target is an active connection between its two
 * VPCs (engine_net.c).
 *
 * Regions: PeerRegion names the accepter VPC's region (default: the
 * request's). A connection is stored in the requester's region and seen
 * from both (pcx_find, Describe without a region view restricted to the
 * connections naming the request's region); Accept and Reject belong to
 * the accepter's region, as on AWS; the route states of both regions'
 * tables follow it (refresh_routes). Security group rules may name a peer
 * VPC's group within one region only (sg.c), as on AWS.
 */
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define PCX_WHAT "vpcPeeringConnection"
#define PCX_NOTFOUND "InvalidVpcPeeringConnectionID.NotFound"
#define PCX_EXPIRY_S (7 * 24 * 3600)	/* a request not accepted expires */
#define PCX_GONE_KEEP_S (2 * 3600)
#define PCX_REGION_FILTER "_vpcd-region"	/* Describe: the connections naming a region */	/* deleted, rejected, failed: still describable */

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static const char *side_region(const struct doc *d, const char *side)
{
	return doc_get_str(doc_get(d, side), "Region");
}

/* A connection the request's region may see: stored there, or naming it
 * as the requester's or the accepter's region. NULL otherwise. */
static struct res *pcx_find(struct api_req *rq, const char *id)
{
	struct res *r = cache_get_any(api_cache(rq), id);
	const char *mine = api_region(rq);
	if (!r || strcmp(r->r_type, RT_PCX) != 0)
		return NULL;
	if (str_eq(r->r_region, mine) || str_eq(side_region(r->r_doc, "RequesterVpcInfo"), mine) ||
	    str_eq(side_region(r->r_doc, "AccepterVpcInfo"), mine))
		return r;
	return NULL;
}

/* rtb_refresh_routes over every region's tables (a connection joins two). */
static int refresh_routes(struct api_req *rq, const char *id)
{
	struct cache *c = api_cache(rq);
	char view[64] = "";
	if (cache_region(c))
		snprintf(view, sizeof(view), "%s", cache_region(c));
	cache_set_region(c, NULL);
	int rc = rtb_refresh_routes(rq, id);
	cache_set_region(c, view[0] ? view : NULL);
	return rc;
}

static const char *pcx_code(const struct doc *d)
{
	return doc_get_str(doc_get(d, "Status"), "Code");
}

static void pcx_status(struct doc *d, const char *code, const char *message)
{
	struct doc *st = doc_set(d, "Status", doc_obj());
	doc_set_str(st, "Code", code);
	doc_set_str(st, "Message", message);
}

/* Ends a connection in one of the gone states. */
static void pcx_gone(struct doc *d, const char *code, const char *message)
{
	pcx_status(d, code, message);
	doc_remove(d, "ExpirationTime");
	doc_remove(doc_get(d, "RequesterVpcInfo"), "PeeringOptions");
	doc_remove(doc_get(d, "AccepterVpcInfo"), "PeeringOptions");
	doc_set_int(d, "_GoneS", time_wall_s());
}

/* Expires pending requests and forgets connections gone long enough. */
static int pcx_advance(struct api_req *rq)
{
	int64_t now = time_wall_s();
	for (;;) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), RT_PCX, &n);
		char id[RESOURCE_ID_MAX] = "";
		bool forget = false;
		for (size_t i = 0; i < n && !id[0]; i++) {
			const struct doc *d = list[i]->r_doc;
			const char *code = pcx_code(d);
			if (str_eq(code, "pending-acceptance") && now - doc_get_int(d, "_CreateS", now) >= PCX_EXPIRY_S) {
				snprintf(id, sizeof(id), "%s", list[i]->r_id);
			} else if (doc_get(d, "_GoneS") && now - doc_get_int(d, "_GoneS", now) > PCX_GONE_KEEP_S) {
				snprintf(id, sizeof(id), "%s", list[i]->r_id);
				forget = true;
			}
		}
		if (!id[0])
			return 0;
		if (forget) {
			if (api_delete(rq, id) < 0)
				return -1;
			continue;
		}
		struct doc *d = doc_clone(cache_get_typed(api_cache(rq), RT_PCX, id)->r_doc);
		pcx_gone(d, "expired", "Expired");
		if (!api_put(rq, RT_PCX, id, d))
			return -1;
	}
}

static void vpc_info(struct api_req *rq, struct doc *info, const struct res *vpc, const char *region)
{
	doc_set_str(info, "CidrBlock", doc_get_str(vpc->r_doc, "CidrBlock"));
	struct doc *set = doc_get_list(info, "CidrBlockSet");
	doc_foreach(a, doc_get(vpc->r_doc, "CidrBlockAssociationSet")) {
		const char *block = doc_get_str(a, "CidrBlock");
		const char *st = doc_get_str(doc_get(a, "CidrBlockState"), "State");
		if (block && (!st || str_eq(st, "associated")))
			doc_set_str(doc_push(set, doc_obj()), "CidrBlock", block);
	}
	if (set->d_count == 0)
		doc_set_str(doc_push(set, doc_obj()), "CidrBlock", doc_get_str(vpc->r_doc, "CidrBlock"));
	doc_set_str(info, "OwnerId", api_account(rq));
	doc_set_str(info, "VpcId", vpc->r_id);
	doc_set_str(info, "Region", region);
}

/* Does a block of one VPC's info overlap a block of the other's? */
static bool infos_overlap(const struct doc *a, const struct doc *b)
{
	doc_foreach(x, doc_get(a, "CidrBlockSet")) {
		struct cidr4 cx, cy;
		if (!cidr_parse(doc_get_str(x, "CidrBlock"), &cx, NULL))
			continue;
		doc_foreach(y, doc_get(b, "CidrBlockSet"))
			if (cidr_parse(doc_get_str(y, "CidrBlock"), &cy, NULL) && cidr_overlaps(&cx, &cy))
				return true;
	}
	return false;
}

static void peering_options(struct doc *info)
{
	struct doc *o = doc_set(info, "PeeringOptions", doc_obj());
	doc_set_bool(o, "AllowDnsResolutionFromRemoteVpc", false);
	doc_set_bool(o, "AllowEgressFromLocalClassicLinkToRemoteVpc", false);
	doc_set_bool(o, "AllowEgressFromLocalVpcToRemoteClassicLink", false);
}

int handle_CreateVpcPeeringConnection(struct api_req *rq)
{
	if (pcx_advance(rq) < 0)
		return -1;
	struct res *vpc = api_require(rq, "VpcId", RT_VPC, "InvalidVpcID.NotFound", "vpc");
	if (!vpc)
		return -1;
	const char *peer_id = doc_get_str(rq->rq_in, "PeerVpcId");
	if (!peer_id)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter peerVpcId");
	const char *owner = doc_get_str(rq->rq_in, "PeerOwnerId");
	if (owner && !str_eq(owner, api_account(rq)))
		return api_fail(rq, "InvalidParameterValue",
				"vpcd serves one account (%s): the peer VPC's owner must be it, not %.32s", api_account(rq), owner);
	const char *region = doc_get_str(rq->rq_in, "PeerRegion");
	if (region && !region_find(region))
		return api_fail(rq, "InvalidRegion", "The region '%.64s' does not exist", region);
	if (!region)
		region = api_region(rq);
	/* the peer VPC in its region (another region's is outside the view) */
	struct res *peer = cache_get_any(api_cache(rq), peer_id);
	if (!peer || strcmp(peer->r_type, RT_VPC) != 0 || !str_eq(peer->r_region, region))
		return api_fail(rq, "InvalidVpcID.NotFound", "The vpc ID '%.64s' does not exist", peer_id);
	if (peer == vpc)
		return api_fail(rq, "InvalidVpcPeeringConnection.Duplicate",
				"A VPC peering connection cannot be created between a VPC and itself: %s", vpc->r_id);
	/* one live connection per pair of VPCs (made from either region) */
	size_t n;
	struct res **list = cache_list_all(api_cache(rq), RT_PCX, &n);
	for (size_t i = 0; i < n; i++) {
		const char *code = pcx_code(list[i]->r_doc);
		if (!str_eq(code, "pending-acceptance") && !str_eq(code, "active"))
			continue;
		const char *a = doc_get_str(doc_get(list[i]->r_doc, "RequesterVpcInfo"), "VpcId");
		const char *b = doc_get_str(doc_get(list[i]->r_doc, "AccepterVpcInfo"), "VpcId");
		if ((str_eq(a, vpc->r_id) && str_eq(b, peer->r_id)) || (str_eq(a, peer->r_id) && str_eq(b, vpc->r_id)))
			return api_fail(rq, "VpcPeeringConnectionAlreadyExists",
					"A VPC peering connection between %s and %s already exists: %s", vpc->r_id, peer->r_id,
					list[i]->r_id);
	}
	char id[RESOURCE_ID_MAX], msg[96], exp[32];
	new_id("pcx", id);
	struct doc *d = doc_obj();
	doc_set_str(d, "VpcPeeringConnectionId", id);
	struct doc *req = doc_set(d, "RequesterVpcInfo", doc_obj());
	vpc_info(rq, req, vpc, api_region(rq));
	struct doc *acc = doc_set(d, "AccepterVpcInfo", doc_obj());
	vpc_info(rq, acc, peer, region);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_PCX));
	doc_set_int(d, "_CreateS", time_wall_s());
	bool overlap = infos_overlap(req, acc);
	if (overlap) {
		pcx_gone(d, "failed", "Overlapping CIDR range");
	} else {
		snprintf(msg, sizeof(msg), "Pending Acceptance by %s", api_account(rq));
		pcx_status(d, "pending-acceptance", msg);
		time_iso8601(time_wall_s() + PCX_EXPIRY_S, exp, sizeof(exp));
		doc_set_str(d, "ExpirationTime", exp);
	}
	struct doc *stored = api_put(rq, RT_PCX, id, d);
	if (!stored)
		return -1;
	/* AWS answers the request as it starts out */
	struct doc *o = doc_set(rq->rq_out, "VpcPeeringConnection", doc_clone(stored));
	snprintf(msg, sizeof(msg), "Initiating Request to %s", api_account(rq));
	pcx_status(o, "initiating-request", msg);
	doc_remove(doc_get(o, "AccepterVpcInfo"), "CidrBlock");
	doc_remove(doc_get(o, "AccepterVpcInfo"), "CidrBlockSet");
	return 0;
}

/* A connection named by VpcPeeringConnectionId; fails NotFound. */
static struct res *pcx_require(struct api_req *rq)
{
	const char *id = api_require_str(rq, "VpcPeeringConnectionId");
	if (!id)
		return NULL;
	struct res *r = pcx_find(rq, id);
	if (!r)
		api_not_found(rq, PCX_NOTFOUND, PCX_WHAT, id);
	return r;
}

/* Accept and Reject belong to the accepter's region. */
static int accepter_region_only(struct api_req *rq, const struct res *r)
{
	const char *acc = side_region(r->r_doc, "AccepterVpcInfo");
	if (acc && !str_eq(acc, api_region(rq)))
		return api_fail(rq, "OperationNotPermitted",
				"The VPC peering connection %s must be accepted or rejected in the accepter's region, %s",
				r->r_id, acc);
	return 0;
}

static int bad_transition(struct api_req *rq, const struct res *r, const char *to)
{
	return api_fail(rq, "InvalidStateTransition",
			"Invalid state transition for %s, attempted to transition from %s to %s", r->r_id,
			pcx_code(r->r_doc) ? pcx_code(r->r_doc) : "?", to);
}

int handle_AcceptVpcPeeringConnection(struct api_req *rq)
{
	if (pcx_advance(rq) < 0)
		return -1;
	struct res *r = pcx_require(rq);
	if (!r)
		return -1;
	if (accepter_region_only(rq, r) < 0)
		return -1;
	if (!str_eq(pcx_code(r->r_doc), "pending-acceptance"))
		return bad_transition(rq, r, "active");
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	struct doc *d = doc_clone(r->r_doc);
	pcx_status(d, "active", "Active");
	doc_remove(d, "ExpirationTime");
	peering_options(doc_get(d, "RequesterVpcInfo"));
	peering_options(doc_get(d, "AccepterVpcInfo"));
	struct doc *stored = api_put(rq, RT_PCX, id, d);
	if (!stored || refresh_routes(rq, id) < 0)
		return -1;
	struct doc *o = doc_set(rq->rq_out, "VpcPeeringConnection", doc_clone(stored));
	pcx_status(o, "provisioning", "Provisioning");
	return 0;
}

int handle_RejectVpcPeeringConnection(struct api_req *rq)
{
	if (pcx_advance(rq) < 0)
		return -1;
	struct res *r = pcx_require(rq);
	if (!r)
		return -1;
	if (accepter_region_only(rq, r) < 0)
		return -1;
	if (!str_eq(pcx_code(r->r_doc), "pending-acceptance"))
		return bad_transition(rq, r, "rejected");
	char id[RESOURCE_ID_MAX], msg[64];
	snprintf(id, sizeof(id), "%s", r->r_id);
	snprintf(msg, sizeof(msg), "Rejected by %s", api_account(rq));
	struct doc *d = doc_clone(r->r_doc);
	pcx_gone(d, "rejected", msg);
	if (!api_put(rq, RT_PCX, id, d))
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int handle_DeleteVpcPeeringConnection(struct api_req *rq)
{
	if (pcx_advance(rq) < 0)
		return -1;
	struct res *r = pcx_require(rq);
	if (!r)
		return -1;
	const char *code = pcx_code(r->r_doc);
	if (!str_eq(code, "pending-acceptance") && !str_eq(code, "active"))
		return bad_transition(rq, r, "deleted");
	char id[RESOURCE_ID_MAX], msg[64];
	snprintf(id, sizeof(id), "%s", r->r_id);
	snprintf(msg, sizeof(msg), "Deleted by %s", api_account(rq));
	struct doc *d = doc_clone(r->r_doc);
	pcx_gone(d, "deleted", msg);
	if (!api_put(rq, RT_PCX, id, d) || refresh_routes(rq, id) < 0)
		return -1;
	doc_set_bool(rq->rq_out, "Return", true);
	return 0;
}

int pcx_delete_for_vpc(struct api_req *rq, const char *vpc_id)
{
	char msg[64];
	snprintf(msg, sizeof(msg), "Deleted by %s", api_account(rq));
	for (;;) {
		size_t n;
		struct res **list = cache_list_all(api_cache(rq), RT_PCX, &n);
		char id[RESOURCE_ID_MAX] = "";
		for (size_t i = 0; i < n && !id[0]; i++) {
			const struct doc *d = list[i]->r_doc;
			const char *code = pcx_code(d);
			if ((str_eq(code, "pending-acceptance") || str_eq(code, "active")) &&
			    (str_eq(doc_get_str(doc_get(d, "RequesterVpcInfo"), "VpcId"), vpc_id) ||
			     str_eq(doc_get_str(doc_get(d, "AccepterVpcInfo"), "VpcId"), vpc_id)))
				snprintf(id, sizeof(id), "%s", list[i]->r_id);
		}
		if (!id[0])
			return 0;
		struct doc *d = doc_clone(cache_get_any(api_cache(rq), id)->r_doc);
		pcx_gone(d, "deleted", msg);
		if (!api_put(rq, RT_PCX, id, d) || refresh_routes(rq, id) < 0)
			return -1;
	}
}

static const char *const option_names[] = {
	"AllowDnsResolutionFromRemoteVpc",
	"AllowEgressFromLocalClassicLinkToRemoteVpc",
	"AllowEgressFromLocalVpcToRemoteClassicLink",
};

int handle_ModifyVpcPeeringConnectionOptions(struct api_req *rq)
{
	if (pcx_advance(rq) < 0)
		return -1;
	struct res *r = pcx_require(rq);
	if (!r)
		return -1;
	const struct doc *want[2] = { doc_get(rq->rq_in, "RequesterPeeringConnectionOptions"),
				      doc_get(rq->rq_in, "AccepterPeeringConnectionOptions") };
	if (!want[0] && !want[1])
		return api_fail(rq, "MissingParameter",
				"The request must contain the parameter requesterPeeringConnectionOptions or accepterPeeringConnectionOptions");
	if (!pcx_is_active(r->r_doc))
		return api_fail(rq, "OperationNotPermitted",
				"Peering connection %s is not active; its options can be modified only while it is", r->r_id);
	static const char *const side[2] = { "RequesterVpcInfo", "AccepterVpcInfo" };
	static const char *const answer[2] = { "RequesterPeeringConnectionOptions", "AccepterPeeringConnectionOptions" };
	for (int s = 0; s < 2; s++)
		for (const struct doc *o = want[s] ? want[s]->d_first : NULL; o; o = o->d_next) {
			bool known = false;
			for (size_t k = 0; k < ARRAY_LEN(option_names); k++)
				known |= str_eq(o->d_key, option_names[k]);
			if (!known)
				return api_fail(rq, "InvalidParameterValue", "Unknown peering option %.64s", o->d_key);
			if (o->d_type != DOC_BOOL)
				return api_fail(rq, "InvalidParameterValue", "The peering option %s takes true or false", o->d_key);
			if (!str_eq(o->d_key, "AllowDnsResolutionFromRemoteVpc") && (o->d_int != 0))
				return api_fail(rq, "InvalidParameterValue",
						"%s: EC2-Classic and ClassicLink are retired; only AllowDnsResolutionFromRemoteVpc can be enabled",
						o->d_key);
		}
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	struct doc *d = doc_clone(r->r_doc);
	for (int s = 0; s < 2; s++) {
		if (!want[s])
			continue;
		struct doc *opts = doc_get(doc_get(d, side[s]), "PeeringOptions");
		for (const struct doc *o = want[s]->d_first; o; o = o->d_next)
			doc_set_bool(opts, o->d_key, (o->d_int != 0));
	}
	struct doc *stored = api_put(rq, RT_PCX, id, d);
	if (!stored)
		return -1;
	for (int s = 0; s < 2; s++)
		if (want[s])
			doc_set(rq->rq_out, answer[s], doc_clone(doc_get(doc_get(stored, side[s]), "PeeringOptions")));
	return 0;
}

static const struct filter_def pcx_filters[] = {
	{ "accepter-vpc-info.cidr-block", "AccepterVpcInfo.CidrBlockSet.CidrBlock" },
	{ "accepter-vpc-info.owner-id", "AccepterVpcInfo.OwnerId" },
	{ "accepter-vpc-info.vpc-id", "AccepterVpcInfo.VpcId" },
	{ "expiration-time", "ExpirationTime" },
	{ "requester-vpc-info.cidr-block", "RequesterVpcInfo.CidrBlockSet.CidrBlock" },
	{ "requester-vpc-info.owner-id", "RequesterVpcInfo.OwnerId" },
	{ "requester-vpc-info.vpc-id", "RequesterVpcInfo.VpcId" },
	{ "status-code", "Status.Code" },
	{ "status-message", "Status.Message" },
	{ "vpc-peering-connection-id", "VpcPeeringConnectionId" },
	{ PCX_REGION_FILTER, "_Regions" },	/* vpcd's own: set by Describe below */
	{ NULL, NULL },
};

/* The regions a connection belongs to, for the region filter (never on
 * the wire: '_' keys are vpcd's). */
static void pcx_decorate(struct api_req *rq, struct doc *item)
{
	(void)rq;
	struct doc *regions = doc_set(item, "_Regions", doc_list());
	doc_push(regions, doc_str(doc_get_str(item, CACHE_REGION_KEY) ? doc_get_str(item, CACHE_REGION_KEY) : ""));
	doc_push(regions, doc_str(side_region(item, "RequesterVpcInfo") ? side_region(item, "RequesterVpcInfo") : ""));
	doc_push(regions, doc_str(side_region(item, "AccepterVpcInfo") ? side_region(item, "AccepterVpcInfo") : ""));
}

int handle_DescribeVpcPeeringConnections(struct api_req *rq)
{
	if (pcx_advance(rq) < 0)
		return -1;
	doc_foreach(id, doc_get(rq->rq_in, "VpcPeeringConnectionIds"))
		if (id->d_type != DOC_STR || !pcx_find(rq, id->d_str))
			return api_not_found(rq, PCX_NOTFOUND, PCX_WHAT, id->d_type == DOC_STR ? id->d_str : "");
	/* every region's connections, those naming this region kept */
	struct doc *f = doc_push(doc_get_list(rq->rq_in, "Filters"), doc_obj());
	doc_set_str(f, "Name", PCX_REGION_FILTER);
	doc_push(doc_get_list(f, "Values"), doc_str(api_region(rq)));
	static const struct describe_spec spec = {
		RT_PCX, "VpcPeeringConnectionIds", PCX_NOTFOUND, PCX_WHAT, pcx_filters, "VpcPeeringConnections", true, 5,
		1000, pcx_decorate,
	};
	struct cache *c = api_cache(rq);
	char view[64] = "";
	if (cache_region(c))
		snprintf(view, sizeof(view), "%s", cache_region(c));
	cache_set_region(c, NULL);
	int rc = api_describe(rq, &spec);
	cache_set_region(c, view[0] ? view : NULL);
	return rc;
}
