/*
 * eip.c — Elastic IP addresses: AllocateAddress, AssociateAddress,
 * DisassociateAddress, ReleaseAddress, DescribeAddresses,
 * DescribeAddressesAttribute.
 *
 * Layout (cache type RT_EIP, id "eipalloc-…"), in the shape of botocore's
 * Address: AllocationId, PublicIp, Domain "vpc", PublicIpv4Pool "amazon",
 * NetworkBorderGroup (the region), Tags; while associated also
 * AssociationId "eipassoc-…", NetworkInterfaceId, NetworkInterfaceOwnerId,
 * PrivateIpAddress and InstanceId (when the ENI is attached). The ENI's
 * Association mirrors it (eni_set_public), which is what the data plane's
 * 1:1 NAT reads.
 *
 * Rules: an address is associated only with an ENI of a VPC that has an
 * internet gateway attached (Gateway.NotAttached); an associated address
 * moves only with AllowReassociation (Resource.AlreadyAssociated); an
 * ENI's auto-assigned public address gives way to an Elastic IP; an
 * associated address cannot be released (InvalidIPAddress.InUse).
 */
#include "api/quota.h"
#include "api/eni.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"


static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static struct res *eip_by(struct api_req *rq, const char *member, const char *value)
{
	size_t n;
	struct res **eips = cache_list(api_cache(rq), RT_EIP, &n);
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(eips[i]->r_doc, member), value))
			return eips[i];
	return NULL;
}

/* The address a request names by AllocationId or PublicIp. */
static struct res *eip_from_request(struct api_req *rq)
{
	const char *alloc = doc_get_str(rq->rq_in, "AllocationId");
	const char *ip = doc_get_str(rq->rq_in, "PublicIp");
	struct res *r;
	if (alloc) {
		if (!(r = cache_get_typed(api_cache(rq), RT_EIP, alloc)))
			api_fail(rq, "InvalidAllocationID.NotFound", "The allocation ID '%.64s' does not exist", alloc);
		return r;
	}
	if (ip) {
		if (!(r = eip_by(rq, "PublicIp", ip)))
			api_fail(rq, "InvalidAddress.NotFound", "The address '%.64s' does not exist.", ip);
		return r;
	}
	api_fail(rq, "MissingParameter", "Either public IP or allocation id must be specified");
	return NULL;
}

int handle_AllocateAddress(struct api_req *rq)
{
	const char *domain = doc_get_str(rq->rq_in, "Domain");
	if (domain && strcmp(domain, "vpc") != 0 && strcmp(domain, "standard") != 0)
		return api_fail(rq, "InvalidParameterValue", "Invalid value '%.32s' for domain.", domain);
	const char *pool = doc_get_str(rq->rq_in, "PublicIpv4Pool");
	if (pool && strcmp(pool, "amazon") != 0)
		return api_fail(rq, "InvalidPublicIpv4PoolID.NotFound", "The pool ID '%.64s' does not exist", pool);
	if (doc_get_str(rq->rq_in, "CustomerOwnedIpv4Pool") || doc_get_str(rq->rq_in, "IpamPoolId"))
		return api_fail(rq, "InvalidParameterValue", "vpcd allocates from its public pool only");
	if (quota_check(rq, Q_ELASTIC_IPS, NULL, 1) < 0)
		return -1;
	uint32_t ip;
	if (ipam_public_pick(rq, doc_get_str(rq->rq_in, "Address"), &ip) < 0)
		return -1;
	char id[RESOURCE_ID_MAX], ip_s[IP4_STR_MAX];
	new_id("eipalloc", id);
	ip4_format(ip, ip_s);
	struct doc *d = doc_obj();
	doc_set_str(d, "AllocationId", id);
	doc_set_str(d, "PublicIp", ip_s);
	doc_set_str(d, "Domain", "vpc");
	doc_set_str(d, "PublicIpv4Pool", "amazon");
	doc_set_str(d, "NetworkBorderGroup", api_region(rq));
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_EIP));
	struct doc *eip = api_put(rq, RT_EIP, id, d);
	if (!eip)
		return -1;
	static const char *const out[] = { "AllocationId", "PublicIp", "Domain", "PublicIpv4Pool", "NetworkBorderGroup" };
	for (size_t i = 0; i < ARRAY_LEN(out); i++)
		doc_set_str(rq->rq_out, out[i], doc_get_str(eip, out[i]));
	return 0;
}

/* Removes the association from the address doc and the ENI. */
static int eip_disassociate(struct api_req *rq, struct res *eip)
{
	char id[RESOURCE_ID_MAX], eni_id[RESOURCE_ID_MAX] = "";
	snprintf(id, sizeof(id), "%s", eip->r_id);
	const char *e = doc_get_str(eip->r_doc, "NetworkInterfaceId");
	if (e)
		snprintf(eni_id, sizeof(eni_id), "%s", e);
	struct doc *d = doc_clone(eip->r_doc);
	static const char *const drop[] = { "AssociationId", "NetworkInterfaceId", "NetworkInterfaceOwnerId",
					    "PrivateIpAddress", "InstanceId" };
	for (size_t i = 0; i < ARRAY_LEN(drop); i++)
		doc_remove(d, drop[i]);
	if (!api_put(rq, RT_EIP, id, d))
		return -1;
	return *eni_id ? eni_set_public(rq, eni_id, 0, NULL, NULL) : 0;
}

int eip_disassociate_eni(struct api_req *rq, const char *eni_id)
{
	struct res *eip = eip_by(rq, "NetworkInterfaceId", eni_id);
	return eip ? eip_disassociate(rq, eip) : 0;
}

int handle_AssociateAddress(struct api_req *rq)
{
	struct res *eip = eip_from_request(rq);
	if (!eip)
		return -1;
	const char *inst_id = doc_get_str(rq->rq_in, "InstanceId");
	const char *eni_arg = doc_get_str(rq->rq_in, "NetworkInterfaceId");
	struct res *eni;
	if (eni_arg) {
		eni = cache_get_typed(api_cache(rq), RT_ENI, eni_arg);
		if (!eni)
			return api_not_found(rq, "InvalidNetworkInterfaceID.NotFound", "networkInterface", eni_arg);
		if (inst_id && !str_eq(doc_get_str(doc_get(eni->r_doc, "Attachment"), "InstanceId"), inst_id))
			return api_fail(rq, "InvalidParameterCombination",
					"The network interface %s is not attached to instance %.64s", eni->r_id, inst_id);
	} else if (inst_id) {
		struct res *inst = cache_get_typed(api_cache(rq), RT_INSTANCE, inst_id);
		if (!inst)
			return api_not_found(rq, "InvalidInstanceID.NotFound", "instance", inst_id);
		const char *state = doc_get_str(doc_get(inst->r_doc, "State"), "Name");
		if (!str_eq(state, "running") && !str_eq(state, "stopped") && !str_eq(state, "pending"))
			return api_fail(rq, "IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.",
					inst->r_id);
		if (!(eni = eni_primary_of(rq, inst->r_id)))
			return api_fail(rq, "InvalidInstanceID", "The instance %s has no network interface", inst->r_id);
	} else {
		return api_fail(rq, "MissingParameter", "Either instance ID or network interface id must be specified");
	}
	const char *priv = doc_get_str(rq->rq_in, "PrivateIpAddress");
	if (priv && !str_eq(priv, doc_get_str(eni->r_doc, "PrivateIpAddress")))
		return api_fail(rq, "InvalidParameterValue", "The private IP address %.64s is not on network interface %s", priv,
				eni->r_id);
	if (ipam_require_igw(rq, doc_get_str(eni->r_doc, "VpcId")) < 0)
		return -1;
	char eip_id[RESOURCE_ID_MAX], eni_id[RESOURCE_ID_MAX];
	snprintf(eip_id, sizeof(eip_id), "%s", eip->r_id);
	snprintf(eni_id, sizeof(eni_id), "%s", eni->r_id);
	const char *current = doc_get_str(eip->r_doc, "NetworkInterfaceId");
	if (str_eq(current, eni_id)) {	/* already there: AWS answers the same association */
		doc_set_str(rq->rq_out, "AssociationId", doc_get_str(eip->r_doc, "AssociationId"));
		return 0;
	}
	if (current) {
		if (!doc_get_bool(rq->rq_in, "AllowReassociation", false))
			return api_fail(rq, "Resource.AlreadyAssociated", "resource %s is already associated with associate-id %s",
					eip_id, doc_get_str(eip->r_doc, "AssociationId"));
		if (eip_disassociate(rq, eip) < 0)
			return -1;
	}
	/* another Elastic IP on the interface gives way, as does an auto-assigned address */
	if (eip_disassociate_eni(rq, eni_id) < 0)
		return -1;
	eni = cache_get_typed(api_cache(rq), RT_ENI, eni_id);
	eip = cache_get_typed(api_cache(rq), RT_EIP, eip_id);
	char assoc[RESOURCE_ID_MAX];
	new_id("eipassoc", assoc);
	struct doc *d = doc_clone(eip->r_doc);
	doc_set_str(d, "AssociationId", assoc);
	doc_set_str(d, "NetworkInterfaceId", eni_id);
	doc_set_str(d, "NetworkInterfaceOwnerId", api_account(rq));
	doc_set_str(d, "PrivateIpAddress", doc_get_str(eni->r_doc, "PrivateIpAddress"));
	const char *att_inst = doc_get_str(doc_get(eni->r_doc, "Attachment"), "InstanceId");
	if (att_inst)
		doc_set_str(d, "InstanceId", att_inst);
	struct doc *stored = api_put(rq, RT_EIP, eip_id, d);
	uint32_t ip;
	if (!stored || !ip4_parse(doc_get_str(stored, "PublicIp"), &ip))
		return -1;
	if (eni_set_public(rq, eni_id, ip, eip_id, assoc) < 0)
		return -1;
	doc_set_str(rq->rq_out, "AssociationId", assoc);
	return 0;
}

int handle_DisassociateAddress(struct api_req *rq)
{
	const char *assoc = doc_get_str(rq->rq_in, "AssociationId");
	struct res *eip;
	if (assoc) {
		if (!(eip = eip_by(rq, "AssociationId", assoc)))
			return api_fail(rq, "InvalidAssociationID.NotFound", "The association ID '%.64s' does not exist", assoc);
	} else if (doc_get_str(rq->rq_in, "PublicIp")) {
		if (!(eip = eip_from_request(rq)))
			return -1;
		if (!doc_get_str(eip->r_doc, "AssociationId"))
			return 0;
	} else {
		return api_fail(rq, "MissingParameter", "Either public IP or association id must be specified");
	}
	return eip_disassociate(rq, eip);
}

int handle_ReleaseAddress(struct api_req *rq)
{
	struct res *eip = eip_from_request(rq);
	if (!eip)
		return -1;
	if (doc_get_str(eip->r_doc, "AssociationId"))
		return api_fail(rq, "InvalidIPAddress.InUse", "Address %s is in use.", doc_get_str(eip->r_doc, "PublicIp"));
	const char *nbg = doc_get_str(rq->rq_in, "NetworkBorderGroup");
	if (nbg && !str_eq(nbg, doc_get_str(eip->r_doc, "NetworkBorderGroup")))
		return api_fail(rq, "InvalidParameterValue", "The network border group '%.64s' is not the address's", nbg);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", eip->r_id);
	return api_delete(rq, id);
}

static const struct filter_def eip_filters[] = {
	{ "allocation-id", "AllocationId" },
	{ "association-id", "AssociationId" },
	{ "domain", "Domain" },
	{ "instance-id", "InstanceId" },
	{ "network-border-group", "NetworkBorderGroup" },
	{ "network-interface-id", "NetworkInterfaceId" },
	{ "network-interface-owner-id", "NetworkInterfaceOwnerId" },
	{ "private-ip-address", "PrivateIpAddress" },
	{ "public-ip", "PublicIp" },
	{ "public-ipv4-pool", "PublicIpv4Pool" },
	{ NULL, NULL },
};

int handle_DescribeAddresses(struct api_req *rq)
{
	/* public addresses named become a public-ip filter after a check */
	const struct doc *ips = doc_get(rq->rq_in, "PublicIps");
	if (ips && ips->d_count) {
		doc_foreach(ip, ips)
			if (ip->d_type != DOC_STR || !eip_by(rq, "PublicIp", ip->d_str))
				return api_fail(rq, "InvalidAddress.NotFound", "Address '%.64s' not found.",
						ip->d_type == DOC_STR ? ip->d_str : "");
		struct doc *f = doc_push(doc_get_list(rq->rq_in, "Filters"), doc_obj());
		doc_set_str(f, "Name", "public-ip");
		doc_set(f, "Values", doc_clone(ips));
	}
	static const struct describe_spec spec = {
		RT_EIP, "AllocationIds", "InvalidAllocationID.NotFound", "allocation", eip_filters, "Addresses", false, 0, 0,
		NULL,
	};
	return api_describe(rq, &spec);
}

/* DescribeAddressesAttribute (domain-name): each Elastic IP's reverse DNS
 * record, AWS's default name for the address (vpcd sets no other: there
 * is no ModifyAddressAttribute). Paging MaxResults 1..1000. */
int handle_DescribeAddressesAttribute(struct api_req *rq)
{
	const char *attr = doc_get_str(rq->rq_in, "Attribute");
	if (attr && strcmp(attr, "domain-name") != 0)
		return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter attribute is invalid. Valid values: domain-name",
				attr);
	const struct doc *ids = doc_get(rq->rq_in, "AllocationIds");
	doc_foreach(id, ids)
		if (id->d_type != DOC_STR || !cache_get_typed(api_cache(rq), RT_EIP, id->d_str))
			return api_not_found(rq, "InvalidAllocationID.NotFound", "allocation", id->d_type == DOC_STR ? id->d_str : "");
	int64_t limit = doc_get_int(rq->rq_in, "MaxResults", 1000);
	if (limit < 1 || limit > 1000)
		return api_fail(rq, "InvalidParameterValue",
				"Value ( %lld ) for parameter maxResults is invalid. Expecting a value between 1 and 1000.", (long long)limit);
	int64_t after = 0;
	const char *token = doc_get_str(rq->rq_in, "NextToken");
	if (token && *token) {
		char *end;
		after = strncmp(token, "vpcd1.", 6) == 0 ? strtoll(token + 6, &end, 16) : -1;
		if (after <= 0 || *end)
			return api_fail(rq, "InvalidNextToken", "The token '%.80s' is invalid", token);
	}
	struct doc *out = doc_set(rq->rq_out, "Addresses", doc_list());
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_EIP, &n);
	for (size_t i = 0; i < n; i++) {
		if (list[i]->r_ord < after)
			continue;
		bool wanted = !ids || !ids->d_count;
		doc_foreach(id, ids)
			wanted |= str_eq(id->d_str, list[i]->r_id);
		const char *ip = doc_get_str(list[i]->r_doc, "PublicIp");
		if (!wanted || !ip)
			continue;
		if ((int64_t)out->d_count == limit) {
			char tok[48];
			snprintf(tok, sizeof(tok), "vpcd1.%llx", (unsigned long long)list[i]->r_ord);
			doc_set_str(rq->rq_out, "NextToken", tok);
			break;
		}
		char ptr[128], dashed[IP4_STR_MAX];
		snprintf(dashed, sizeof(dashed), "%s", ip);
		for (char *c = dashed; *c; c++)
			if (*c == '.')
				*c = '-';
		if (strcmp(api_region(rq), "us-east-1") == 0)
			snprintf(ptr, sizeof(ptr), "ec2-%s.compute-1.amazonaws.com.", dashed);
		else
			snprintf(ptr, sizeof(ptr), "ec2-%s.%s.compute.amazonaws.com.", dashed, api_region(rq));
		struct doc *a = doc_push(out, doc_obj());
		doc_set_str(a, "PublicIp", ip);
		doc_set_str(a, "AllocationId", list[i]->r_id);
		doc_set_str(a, "PtrRecord", ptr);
	}
	return 0;
}
