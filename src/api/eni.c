/*
 * eni.c — elastic network interfaces: CreateNetworkInterface,
 * AttachNetworkInterface, DetachNetworkInterface, DeleteNetworkInterface,
 * DescribeNetworkInterfaces, ModifyNetworkInterfaceAttribute; and the
 * helpers instances and Elastic IPs use (eni.h).
 *
 * Layout (cache type RT_ENI, id "eni-…"), in the shape of botocore's
 * NetworkInterface — the data plane reads it (see instance.c):
 *   NetworkInterfaceId, SubnetId, VpcId, AvailabilityZone(Id), OwnerId,
 *   Description, InterfaceType "interface", RequesterManaged false,
 *   Status "available" | "in-use",
 *   MacAddress "02:xx:xx:xx:xx:xx" (unique among the ENIs),
 *   PrivateIpAddress, PrivateDnsName, PrivateIpAddresses [{Primary,
 *   PrivateIpAddress, PrivateDnsName, Association?}],
 *   SourceDestCheck, Groups [{GroupId, GroupName}] (1..5, same VPC),
 *   Association {PublicIp, PublicDnsName, IpOwnerId, AllocationId?,
 *   AssociationId?} only while it has a public address,
 *   Attachment {AttachmentId "eni-attach-…", InstanceId, InstanceOwnerId,
 *   DeviceIndex, NetworkCardIndex 0, Status "attached", AttachTime,
 *   DeleteOnTermination} only while attached,
 *   Tags (TagSet on the wire), Ipv6Addresses [],
 *   _PublicIpAuto true when the public address was assigned at launch
 *   (released when the instance stops or the ENI goes).
 * Never touches a cached doc in place.
 */
#include "api/quota.h"
#include "api/eni.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

/* The attachment DetachNetworkInterface ended (vpcd's keys, never on the
 * wire) and when: shown as "detached" for ENI_DETACHED_SHOWN_S. */
#define ENI_DETACHED_KEY "_DetachedAttachment"
#define ENI_DETACH_TIME_KEY "_DetachTime"
#define ENI_DETACHED_SHOWN_S 60

#define ENI_WHAT "networkInterface"	/* "The networkInterface ID '…' does not exist" */
#define MAC_TRIES 64

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static struct res *require_eni(struct api_req *rq)
{
	return api_require(rq, "NetworkInterfaceId", RT_ENI, "InvalidNetworkInterfaceID.NotFound", ENI_WHAT);
}

/* "ip-10-96-1-4.ec2.internal" (us-east-1) or "ip-….<region>.compute.internal". */
static void private_dns_name(struct api_req *rq, uint32_t ip, char *buf, size_t len)
{
	const char *region = api_region(rq);
	if (strcmp(region, "us-east-1") == 0)
		snprintf(buf, len, "ip-%u-%u-%u-%u.ec2.internal", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	else
		snprintf(buf, len, "ip-%u-%u-%u-%u.%s.compute.internal", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
			 ip & 255, region);
}

static bool mac_in_use(struct api_req *rq, const char *mac)
{
	size_t n;	/* one data plane for every region */
	struct res **enis = cache_list_all(api_cache(rq), RT_ENI, &n);
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(enis[i]->r_doc, "MacAddress"), mac))
			return true;
	return false;
}

/* A locally administered unicast MAC (02:…) no other ENI has. */
static int mac_new(struct api_req *rq, char *mac)
{
	for (int t = 0; t < MAC_TRIES; t++) {
		uint8_t b[5];
		rand_id_bytes(b, sizeof(b));
		snprintf(mac, MAC_STR_MAX, "02:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4]);
		if (!mac_in_use(rq, mac))
			return 0;
	}
	return api_fail(rq, "InternalError", "Could not find a free MAC address");
}

struct doc *eni_groups_resolve(struct api_req *rq, const struct doc *ids, const struct doc *names, const char *vpc_id)
{
	struct doc *out = doc_list();
	doc_foreach(id, ids) {
		if (id->d_type != DOC_STR)
			continue;
		struct res *g = cache_get_typed(api_cache(rq), RT_SG, id->d_str);
		if (!g) {
			api_fail(rq, "InvalidGroup.NotFound", "The security group '%.64s' does not exist", id->d_str);
			goto fail;
		}
		if (!str_eq(doc_get_str(g->r_doc, "VpcId"), vpc_id)) {
			api_fail(rq, "InvalidParameter", "Security group %s and subnet belong to different networks.", g->r_id);
			goto fail;
		}
		bool dup = false;
		doc_foreach(o, out)
			dup |= str_eq(doc_get_str(o, "GroupId"), g->r_id);
		if (dup)
			continue;
		struct doc *gi = doc_push(out, doc_obj());
		doc_set_str(gi, "GroupId", g->r_id);
		doc_set_str(gi, "GroupName", doc_get_str(g->r_doc, "GroupName"));
	}
	doc_foreach(name, names) {
		if (name->d_type != DOC_STR)
			continue;
		size_t n;
		struct res **sgs = cache_list(api_cache(rq), RT_SG, &n), *g = NULL;
		for (size_t i = 0; i < n && !g; i++)
			if (str_eq(doc_get_str(sgs[i]->r_doc, "VpcId"), vpc_id) &&
			    str_eq(doc_get_str(sgs[i]->r_doc, "GroupName"), name->d_str))
				g = sgs[i];
		if (!g) {
			api_fail(rq, "InvalidGroup.NotFound", "The security group '%.64s' does not exist in VPC '%s'", name->d_str,
				 vpc_id);
			goto fail;
		}
		bool dup = false;
		doc_foreach(o, out)
			dup |= str_eq(doc_get_str(o, "GroupId"), g->r_id);
		if (dup)
			continue;
		struct doc *gi = doc_push(out, doc_obj());
		doc_set_str(gi, "GroupId", g->r_id);
		doc_set_str(gi, "GroupName", doc_get_str(g->r_doc, "GroupName"));
	}
	if (out->d_count > ENI_GROUPS_MAX) {
		api_fail(rq, "SecurityGroupsPerInterfaceLimitExceeded",
			 "The maximum number of security groups per interface has been reached.");
		goto fail;
	}
	if (out->d_count == 0) {
		struct res *g = vpc_default_sg(rq, vpc_id);
		if (!g) {
			api_fail(rq, "InvalidGroup.NotFound", "The VPC %s has no default security group", vpc_id);
			goto fail;
		}
		struct doc *gi = doc_push(out, doc_obj());
		doc_set_str(gi, "GroupId", g->r_id);
		doc_set_str(gi, "GroupName", doc_get_str(g->r_doc, "GroupName"));
	}
	return out;
fail:
	doc_free(out);
	return NULL;
}

struct doc *eni_create(struct api_req *rq, const struct eni_spec *spec, char *id_out)
{
	const struct res *subnet = spec->es_subnet;
	struct doc *groups = spec->es_groups, *tags = spec->es_tags;
	uint32_t ip;
	char mac[MAC_STR_MAX];
	if (ipam_private_pick(rq, subnet, spec->es_private_ip, &ip) < 0 || mac_new(rq, mac) < 0) {
		doc_free(groups);
		doc_free(tags);
		return NULL;
	}
	char id[RESOURCE_ID_MAX], subnet_id[RESOURCE_ID_MAX], ip_s[IP4_STR_MAX], dns[96];
	new_id("eni", id);
	snprintf(subnet_id, sizeof(subnet_id), "%s", subnet->r_id);
	ip4_format(ip, ip_s);
	private_dns_name(rq, ip, dns, sizeof(dns));
	const struct doc *sd = subnet->r_doc;
	struct doc *d = doc_obj();
	doc_set_str(d, "NetworkInterfaceId", id);
	doc_set_str(d, "SubnetId", subnet_id);
	doc_set_str(d, "VpcId", doc_get_str(sd, "VpcId"));
	doc_set_str(d, "AvailabilityZone", doc_get_str(sd, "AvailabilityZone"));
	doc_set_str(d, "AvailabilityZoneId", doc_get_str(sd, "AvailabilityZoneId"));
	doc_set_str(d, "OwnerId", api_account(rq));
	doc_set_str(d, "RequesterId", api_account(rq));
	doc_set_bool(d, "RequesterManaged", false);
	doc_set_str(d, "Description", spec->es_description ? spec->es_description : "");
	doc_set_str(d, "InterfaceType", "interface");
	doc_set_str(d, "Status", "available");
	doc_set_str(d, "MacAddress", mac);
	doc_set_str(d, "PrivateIpAddress", ip_s);
	doc_set_str(d, "PrivateDnsName", dns);
	struct doc *p = doc_push(doc_get_list(d, "PrivateIpAddresses"), doc_obj());
	doc_set_bool(p, "Primary", true);
	doc_set_str(p, "PrivateIpAddress", ip_s);
	doc_set_str(p, "PrivateDnsName", dns);
	doc_set_bool(d, "SourceDestCheck", true);
	doc_set(d, "Groups", groups);
	doc_get_list(d, "Ipv6Addresses");
	doc_set(d, "Tags", tags ? tags : doc_list());
	struct doc *eni = api_put(rq, RT_ENI, id, d);
	if (!eni || ipam_subnet_refresh(rq, subnet_id) < 0)
		return NULL;
	strcpy(id_out, id);
	return eni;
}

struct res *eni_primary_of(struct api_req *rq, const char *instance_id)
{
	size_t n;
	struct res **enis = cache_list(api_cache(rq), RT_ENI, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *a = doc_get(enis[i]->r_doc, "Attachment");
		if (str_eq(doc_get_str(a, "InstanceId"), instance_id) && doc_get_int(a, "DeviceIndex", -1) == 0)
			return enis[i];
	}
	return NULL;
}

struct doc *eni_attach(struct api_req *rq, const char *eni_id, const char *instance_id, int device_index,
		       bool delete_on_termination, char *attachment_id_out)
{
	struct res *r = cache_get_typed(api_cache(rq), RT_ENI, eni_id);
	char attach_id[RESOURCE_ID_MAX], now[32], inst[RESOURCE_ID_MAX];
	snprintf(inst, sizeof(inst), "%s", instance_id);
	new_id("eni-attach", attach_id);
	time_iso8601(time_wall_s(), now, sizeof(now));
	struct doc *d = doc_clone(r->r_doc);
	doc_remove(d, ENI_DETACHED_KEY);
	doc_remove(d, ENI_DETACH_TIME_KEY);
	struct doc *a = doc_set(d, "Attachment", doc_obj());
	doc_set_str(a, "AttachmentId", attach_id);
	doc_set_str(a, "InstanceId", inst);
	doc_set_str(a, "InstanceOwnerId", api_account(rq));
	doc_set_int(a, "DeviceIndex", device_index);
	doc_set_int(a, "NetworkCardIndex", 0);
	doc_set_str(a, "Status", "attached");
	doc_set_str(a, "AttachTime", now);
	doc_set_bool(a, "DeleteOnTermination", delete_on_termination);
	doc_set_str(d, "Status", "in-use");
	struct doc *eni = api_put(rq, RT_ENI, r->r_id, d);
	if (!eni)
		return NULL;
	/* an Elastic IP on the interface now reaches the instance */
	size_t n;
	struct res **eips = cache_list(api_cache(rq), RT_EIP, &n);
	for (size_t i = 0; i < n; i++) {
		if (!str_eq(doc_get_str(eips[i]->r_doc, "NetworkInterfaceId"), eni_id))
			continue;
		struct doc *ed = doc_clone(eips[i]->r_doc);
		doc_set_str(ed, "InstanceId", inst);
		if (!api_put(rq, RT_EIP, eips[i]->r_id, ed))
			return NULL;
	}
	if (attachment_id_out)
		strcpy(attachment_id_out, attach_id);
	if (instance_sync(rq, inst) < 0)
		return NULL;
	return eni;
}

int eni_detach(struct api_req *rq, const char *eni_id)
{
	struct res *r = cache_get_typed(api_cache(rq), RT_ENI, eni_id);
	if (!r)
		return 0;
	char inst[RESOURCE_ID_MAX] = "", id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	const char *i = doc_get_str(doc_get(r->r_doc, "Attachment"), "InstanceId");
	if (i)
		snprintf(inst, sizeof(inst), "%s", i);
	struct doc *d = doc_clone(r->r_doc);
	struct doc *gone = doc_get(d, "Attachment");
	if (gone) {	/* shown as "detached" for a while, as AWS does (eni_decorate) */
		struct doc *kept = doc_clone(gone);
		doc_set_str(kept, "Status", "detached");
		doc_set(d, ENI_DETACHED_KEY, kept);
		doc_set_int(d, ENI_DETACH_TIME_KEY, time_wall_s());
	}
	doc_remove(d, "Attachment");
	doc_set_str(d, "Status", "available");
	if (!api_put(rq, RT_ENI, id, d))
		return -1;
	size_t n;
	struct res **eips = cache_list(api_cache(rq), RT_EIP, &n);
	for (size_t k = 0; k < n; k++) {
		if (!str_eq(doc_get_str(eips[k]->r_doc, "NetworkInterfaceId"), id))
			continue;
		struct doc *ed = doc_clone(eips[k]->r_doc);
		doc_remove(ed, "InstanceId");
		if (!api_put(rq, RT_EIP, eips[k]->r_id, ed))
			return -1;
	}
	return *inst ? instance_sync(rq, inst) : 0;
}

int eni_set_public(struct api_req *rq, const char *eni_id, uint32_t ip, const char *allocation_id,
		   const char *association_id)
{
	struct res *r = cache_get_typed(api_cache(rq), RT_ENI, eni_id);
	if (!r)
		return 0;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", r->r_id);
	struct doc *d = doc_clone(r->r_doc);
	if (ip) {
		char ip_s[IP4_STR_MAX];
		ip4_format(ip, ip_s);
		struct doc *a = doc_obj();
		doc_set_str(a, "IpOwnerId", allocation_id ? api_account(rq) : "amazon");
		doc_set_str(a, "PublicDnsName", "");
		doc_set_str(a, "PublicIp", ip_s);
		if (allocation_id) {
			doc_set_str(a, "AllocationId", allocation_id);
			doc_set_str(a, "AssociationId", association_id);
		}
		doc_set(d, "Association", a);
		/* the primary private address carries the association too */
		doc_foreach(p, doc_get(d, "PrivateIpAddresses"))
			if (doc_get_bool(p, "Primary", false))
				doc_set(p, "Association", doc_clone(a));
		doc_set_bool(d, "_PublicIpAuto", allocation_id == NULL);
	} else {
		doc_remove(d, "Association");
		doc_foreach(p, doc_get(d, "PrivateIpAddresses"))
			doc_remove(p, "Association");
		doc_remove(d, "_PublicIpAuto");
	}
	struct doc *eni = api_put(rq, RT_ENI, id, d);
	if (!eni)
		return -1;
	const char *inst = doc_get_str(doc_get(eni, "Attachment"), "InstanceId");
	if (inst) {
		char inst_id[RESOURCE_ID_MAX];
		snprintf(inst_id, sizeof(inst_id), "%s", inst);
		return instance_sync(rq, inst_id);
	}
	return 0;
}

int eni_delete(struct api_req *rq, const char *eni_id_arg)
{
	char eni_id[RESOURCE_ID_MAX], subnet_id[RESOURCE_ID_MAX] = "";
	snprintf(eni_id, sizeof(eni_id), "%s", eni_id_arg);
	struct res *r = cache_get_typed(api_cache(rq), RT_ENI, eni_id);
	if (!r)
		return 0;
	const char *s = doc_get_str(r->r_doc, "SubnetId");
	if (s)
		snprintf(subnet_id, sizeof(subnet_id), "%s", s);
	if (eip_disassociate_eni(rq, eni_id) < 0 || api_delete(rq, eni_id) < 0)
		return -1;
	if (*subnet_id && ipam_subnet_refresh(rq, subnet_id) < 0)
		return -1;
	return rtb_refresh_routes(rq, eni_id);
}

/* --- CreateNetworkInterface ------------------------------------------------ */

int handle_CreateNetworkInterface(struct api_req *rq)
{
	struct res *subnet = api_require(rq, "SubnetId", RT_SUBNET, "InvalidSubnetID.NotFound", "subnet");
	if (!subnet || quota_check(rq, Q_NETWORK_INTERFACES, NULL, 1) < 0)
		return -1;
	const struct doc *in = rq->rq_in;
	const struct doc *v6 = doc_get(in, "Ipv6Addresses");
	if ((v6 && v6->d_count) || doc_get_int(in, "Ipv6AddressCount", 0) > 0)
		return api_fail(rq, "InvalidParameterValue", "The subnet %s has no IPv6 block", subnet->r_id);
	if (doc_get_int(in, "SecondaryPrivateIpAddressCount", 0) > 0 ||
	    (doc_get(in, "PrivateIpAddresses") && doc_get(in, "PrivateIpAddresses")->d_count > 1))
		return api_fail(rq, "InvalidParameterValue",
				"vpcd gives a network interface one private address (secondary addresses are not supported yet)");
	const char *ip = doc_get_str(in, "PrivateIpAddress");
	if (!ip)
		doc_foreach(p, doc_get(in, "PrivateIpAddresses"))
			ip = doc_get_str(p, "PrivateIpAddress");
	const char *type = doc_get_str(in, "InterfaceType");
	if (type && strcmp(type, "interface") != 0)
		return api_fail(rq, "InvalidParameterValue", "Invalid value '%.32s' for interfaceType: vpcd creates 'interface' only",
				type);
	const char *desc = doc_get_str(in, "Description");
	const char *token = doc_get_str(in, "ClientToken");
	if (token) {
		size_t n;
		struct res **enis = cache_list(api_cache(rq), RT_ENI, &n);
		for (size_t i = 0; i < n; i++)
			if (str_eq(doc_get_str(enis[i]->r_doc, "_ClientToken"), token)) {
				struct doc *o = doc_set(rq->rq_out, "NetworkInterface", doc_clone(enis[i]->r_doc));
				doc_set(o, "TagSet", doc_clone(doc_get(o, "Tags")));
				doc_set_str(rq->rq_out, "ClientToken", token);
				return 0;
			}
	}
	char vpc_id[RESOURCE_ID_MAX];
	snprintf(vpc_id, sizeof(vpc_id), "%s", doc_get_str(subnet->r_doc, "VpcId"));
	struct doc *groups = eni_groups_resolve(rq, doc_get(in, "Groups"), NULL, vpc_id);
	if (!groups)
		return -1;
	struct eni_spec spec = { subnet, ip, groups, desc, api_tags_from_spec(rq, RT_ENI) };
	char id[RESOURCE_ID_MAX];
	struct doc *eni = eni_create(rq, &spec, id);
	if (!eni)
		return -1;
	if (token) {
		struct doc *d = doc_clone(eni);
		doc_set_str(d, "_ClientToken", token);
		if (!(eni = api_put(rq, RT_ENI, id, d)))
			return -1;
		doc_set_str(rq->rq_out, "ClientToken", token);
	}
	struct doc *o = doc_set(rq->rq_out, "NetworkInterface", doc_clone(eni));
	doc_set(o, "TagSet", doc_clone(doc_get(o, "Tags")));
	return 0;
}

/* --- Attach / Detach ------------------------------------------------------------ */

int handle_AttachNetworkInterface(struct api_req *rq)
{
	struct res *eni = require_eni(rq);
	if (!eni)
		return -1;
	struct res *inst = api_require(rq, "InstanceId", RT_INSTANCE, "InvalidInstanceID.NotFound", "instance");
	if (!inst)
		return -1;
	const struct doc *idx = doc_get(rq->rq_in, "DeviceIndex");
	if (!idx)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter DeviceIndex");
	int64_t device = idx->d_int;
	if (device < 0 || device >= ENI_PER_INSTANCE_MAX)
		return api_fail(rq, "InvalidParameterValue", "Invalid value '%lld' for deviceIndex: 0 to %d", (long long)device,
				ENI_PER_INSTANCE_MAX - 1);
	if (doc_get_int(rq->rq_in, "NetworkCardIndex", 0) != 0)
		return api_fail(rq, "InvalidParameterValue", "Invalid value for networkCardIndex: vpcd instances have one network card");
	if (doc_get(eni->r_doc, "Attachment"))
		return api_fail(rq, "InvalidNetworkInterface.InUse", "Interface: [%s] in use.", eni->r_id);
	const char *state = doc_get_str(doc_get(inst->r_doc, "State"), "Name");
	if (!str_eq(state, "running") && !str_eq(state, "stopped"))
		return api_fail(rq, "IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.",
				inst->r_id);
	if (!str_eq(doc_get_str(eni->r_doc, "VpcId"), doc_get_str(inst->r_doc, "VpcId")))
		return api_fail(rq, "InvalidParameterValue", "Network interface %s and instance %s belong to different networks.",
				eni->r_id, inst->r_id);
	if (!str_eq(doc_get_str(eni->r_doc, "AvailabilityZone"),
		    doc_get_str(doc_get(inst->r_doc, "Placement"), "AvailabilityZone")))
		return api_fail(rq, "InvalidParameterCombination",
				"You may not attach a network interface to an instance if they are not in the same availability zone");
	doc_foreach(ni, doc_get(inst->r_doc, "NetworkInterfaces"))
		if (doc_get_int(doc_get(ni, "Attachment"), "DeviceIndex", -1) == device)
			return api_fail(rq, "InvalidParameterValue", "Instance '%s' already has an interface attached at device index '%lld'.",
					inst->r_id, (long long)device);
	char eni_id[RESOURCE_ID_MAX], inst_id[RESOURCE_ID_MAX], attach_id[RESOURCE_ID_MAX];
	snprintf(eni_id, sizeof(eni_id), "%s", eni->r_id);
	snprintf(inst_id, sizeof(inst_id), "%s", inst->r_id);
	if (!eni_attach(rq, eni_id, inst_id, (int)device, false, attach_id))
		return -1;
	doc_set_str(rq->rq_out, "AttachmentId", attach_id);
	doc_set_int(rq->rq_out, "NetworkCardIndex", 0);
	return 0;
}

static struct res *eni_by_attachment(struct api_req *rq, const char *attach_id)
{
	size_t n;
	struct res **enis = cache_list(api_cache(rq), RT_ENI, &n);
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(doc_get(enis[i]->r_doc, "Attachment"), "AttachmentId"), attach_id))
			return enis[i];
	return NULL;
}

int handle_DetachNetworkInterface(struct api_req *rq)
{
	const char *attach_id = api_require_str(rq, "AttachmentId");
	if (!attach_id)
		return -1;
	struct res *eni = eni_by_attachment(rq, attach_id);
	if (!eni)
		return api_fail(rq, "InvalidAttachmentID.NotFound", "Interface attachment '%.64s' does not exist", attach_id);
	if (doc_get_int(doc_get(eni->r_doc, "Attachment"), "DeviceIndex", -1) == 0)
		return api_fail(rq, "OperationNotPermitted", "The network interface at device index 0 cannot be detached.");
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", eni->r_id);
	return eni_detach(rq, id);
}

int handle_DeleteNetworkInterface(struct api_req *rq)
{
	struct res *eni = require_eni(rq);
	if (!eni)
		return -1;
	/* a NAT gateway's interface goes with its gateway */
	if (doc_get(eni->r_doc, "Attachment") || doc_get_str(eni->r_doc, "_NatGatewayId"))
		return api_fail(rq, "InvalidNetworkInterface.InUse", "The network interface '%s' is currently in use.",
				eni->r_id);
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", eni->r_id);
	return eni_delete(rq, id);
}

/* --- ModifyNetworkInterfaceAttribute ---------------------------------------- */

int handle_ModifyNetworkInterfaceAttribute(struct api_req *rq)
{
	struct res *eni = require_eni(rq);
	if (!eni)
		return -1;
	const struct doc *in = rq->rq_in;
	const struct doc *groups = doc_get(in, "Groups"), *sdc = doc_get(in, "SourceDestCheck");
	const struct doc *desc = doc_get(in, "Description"), *att = doc_get(in, "Attachment");
	int given = (groups != NULL) + (sdc != NULL) + (desc != NULL) + (att != NULL);
	if (given == 0)
		return api_fail(rq, "MissingParameter",
				"The request must contain one of description, sourceDestCheck, groupSet or attachment");
	if (given > 1)
		return api_fail(rq, "InvalidParameterCombination", "Only one attribute can be modified at a time");
	if (doc_get(in, "AssociatePublicIpAddress") || doc_get(in, "EnaSrdSpecification") ||
	    doc_get(in, "ConnectionTrackingSpecification") || doc_get(in, "AssociatedSubnetIds"))
		return api_fail(rq, "InvalidParameterValue", "vpcd modifies description, sourceDestCheck, groupSet and attachment only");
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", eni->r_id);
	struct doc *d = doc_clone(eni->r_doc);
	if (groups) {
		if (!groups->d_count) {
			doc_free(d);
			return api_fail(rq, "MissingParameter", "The request must contain the parameter groupSet");
		}
		struct doc *g = eni_groups_resolve(rq, groups, NULL, doc_get_str(eni->r_doc, "VpcId"));
		if (!g) {
			doc_free(d);
			return -1;
		}
		doc_set(d, "Groups", g);
	} else if (sdc) {
		doc_set_bool(d, "SourceDestCheck", doc_get_bool(sdc, "Value", true));
	} else if (desc) {
		const char *v = doc_get_str(desc, "Value");
		doc_set_str(d, "Description", v ? v : "");
	} else {
		struct doc *a = doc_get(d, "Attachment");
		const char *want = doc_get_str(att, "AttachmentId");
		if (!a || !str_eq(doc_get_str(a, "AttachmentId"), want)) {
			doc_free(d);
			return api_fail(rq, "InvalidAttachmentID.NotFound", "Interface attachment '%.64s' does not exist",
					want ? want : "");
		}
		if (doc_get(att, "DeleteOnTermination"))
			doc_set_bool(a, "DeleteOnTermination", doc_get_bool(att, "DeleteOnTermination", false));
	}
	struct doc *stored = api_put(rq, RT_ENI, id, d);
	if (!stored)
		return -1;
	const char *inst = doc_get_str(doc_get(stored, "Attachment"), "InstanceId");
	if (inst) {
		char inst_id[RESOURCE_ID_MAX];
		snprintf(inst_id, sizeof(inst_id), "%s", inst);
		return instance_sync(rq, inst_id);
	}
	return 0;
}

/* --- DescribeNetworkInterfaces --------------------------------------------------- */

static const struct filter_def eni_filters[] = {
	{ "addresses.private-ip-address", "PrivateIpAddresses.PrivateIpAddress" },
	{ "addresses.primary", "PrivateIpAddresses.Primary" },
	{ "addresses.association.public-ip", "PrivateIpAddresses.Association.PublicIp" },
	{ "addresses.association.owner-id", "PrivateIpAddresses.Association.IpOwnerId" },
	{ "association.allocation-id", "Association.AllocationId" },
	{ "association.association-id", "Association.AssociationId" },
	{ "association.ip-owner-id", "Association.IpOwnerId" },
	{ "association.public-ip", "Association.PublicIp" },
	{ "association.public-dns-name", "Association.PublicDnsName" },
	{ "attachment.attachment-id", "Attachment.AttachmentId" },
	{ "attachment.attach-time", "Attachment.AttachTime" },
	{ "attachment.delete-on-termination", "Attachment.DeleteOnTermination" },
	{ "attachment.device-index", "Attachment.DeviceIndex" },
	{ "attachment.instance-id", "Attachment.InstanceId" },
	{ "attachment.instance-owner-id", "Attachment.InstanceOwnerId" },
	{ "attachment.network-card-index", "Attachment.NetworkCardIndex" },
	{ "attachment.status", "Attachment.Status" },
	{ "availability-zone", "AvailabilityZone" },
	{ "availability-zone-id", "AvailabilityZoneId" },
	{ "description", "Description" },
	{ "group-id", "Groups.GroupId" },
	{ "group-name", "Groups.GroupName" },
	{ "interface-type", "InterfaceType" },
	{ "mac-address", "MacAddress" },
	{ "network-interface-id", "NetworkInterfaceId" },
	{ "private-dns-name", "PrivateDnsName" },
	{ "private-ip-address", "PrivateIpAddress" },
	{ "requester-id", "RequesterId" },
	{ "requester-managed", "RequesterManaged" },
	{ "source-dest-check", "SourceDestCheck" },
	{ "status", "Status" },
	{ "subnet-id", "SubnetId" },
	{ "vpc-id", "VpcId" },
	{ NULL, NULL },
};

/* Tags are kept as "Tags" (CreateTags, tag filters); the wire calls them
 * tagSet. An attachment that ended less than ENI_DETACHED_SHOWN_S ago is
 * shown with Status "detached", as AWS shows it: Terraform waits for that
 * status (by the attachment-id filter) after DetachNetworkInterface. */
static void eni_decorate(struct api_req *rq, struct doc *item)
{
	(void)rq;
	doc_set(item, "TagSet", doc_clone(doc_get(item, "Tags")));
	const struct doc *kept = doc_get(item, ENI_DETACHED_KEY);
	if (kept && !doc_get(item, "Attachment") &&
	    time_wall_s() - doc_get_int(item, ENI_DETACH_TIME_KEY, 0) < ENI_DETACHED_SHOWN_S)
		doc_set(item, "Attachment", doc_clone(kept));
}

int handle_DescribeNetworkInterfaces(struct api_req *rq)
{
	static const struct describe_spec spec = {
		RT_ENI, "NetworkInterfaceIds", "InvalidNetworkInterfaceID.NotFound", ENI_WHAT, eni_filters,
		"NetworkInterfaces", true, 5, 1000, eni_decorate,
	};
	return api_describe(rq, &spec);
}
