/*
 * instance.c — RunInstances, DescribeInstances, TerminateInstances (not
 * while termination protection is on), StopInstances (not while stop
 * protection is on), StartInstances.
 *
 * Here an instance is API state only; the data plane (src/net, through the
 * engine) makes it real. What the data plane reads — the desired state:
 *
 *   instance (cache type "instance", id "i-…"):
 *     State.Name      "running": the instance exists (its namespace is up);
 *                     "stopped": it exists but is down (namespace removed,
 *                     ENIs kept, private addresses kept);
 *                     "terminated": gone (its docs remain describable for
 *                     INSTANCE_TERMINATED_VISIBLE_S, without network members).
 *                     Stored states are settled: RunInstances/StartInstances
 *                     answer "pending" and StopInstances "stopping", but the
 *                     doc already says running/stopped (pending → running
 *                     by the next Describe, as the waiters expect).
 *     ImageId         what the instance is (image.c): vpcd-linux, a new
 *                     network namespace named after InstanceId;
 *                     vpcd-join-netns, the existing namespace named by the
 *                     tag "vpcd:netns".
 *     NetworkInterfaces  copies of its ENIs in device-index order (eth0 is
 *                     DeviceIndex 0), rebuilt by instance_sync() after every
 *                     ENI change; the ENI docs themselves are the truth.
 *     SubnetId, VpcId, PrivateIpAddress, PublicIpAddress, SecurityGroups,
 *                     SourceDestCheck: those of the primary ENI.
 *   network interface (cache type "network-interface", eni.c has the layout):
 *     MacAddress, PrivateIpAddress, SubnetId (its CidrBlock gives the prefix
 *     length and the router .1), VpcId, Groups[].GroupId, SourceDestCheck,
 *     Association.PublicIp (1:1 NAT at the internet gateway),
 *     Attachment.InstanceId / DeviceIndex / Status "attached".
 *   Elastic IP (cache type "elastic-ip", eip.c): PublicIp, NetworkInterfaceId.
 *
 * Addresses: each instance gets a new ENI per interface (or an existing one
 * by NetworkInterfaceId); private addresses are the subnet's next free ones
 * (ipam.c); a public address is assigned when AssociatePublicIpAddress says
 * so or, without it, when the subnet has MapPublicIpOnLaunch — and needs an
 * internet gateway on the VPC. Stop releases an auto-assigned public
 * address and Start assigns a new one, as AWS does; Terminate deletes the
 * ENIs with DeleteOnTermination (releasing their addresses, disassociating
 * Elastic IPs) and detaches the others.
 */
#include "api/quota.h"
#include "api/eni.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

#define INSTANCE_TERMINATED_VISIBLE_S 3600	/* AWS keeps terminated instances visible about an hour */
#define INSTANCE_LAUNCH_MAX 100			/* MaxCount accepted in one request */
#define INSTANCE_TYPE_DEFAULT "m1.small"	/* AWS's default when InstanceType is absent */

enum instance_state {
	STATE_PENDING = 0,
	STATE_RUNNING = 16,
	STATE_SHUTTING_DOWN = 32,
	STATE_TERMINATED = 48,
	STATE_STOPPING = 64,
	STATE_STOPPED = 80,
};

static const char *state_name(enum instance_state s)
{
	switch (s) {
	case STATE_PENDING: return "pending";
	case STATE_RUNNING: return "running";
	case STATE_SHUTTING_DOWN: return "shutting-down";
	case STATE_TERMINATED: return "terminated";
	case STATE_STOPPING: return "stopping";
	case STATE_STOPPED: return "stopped";
	}
	return "pending";
}

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static struct doc *state_doc(enum instance_state s)
{
	struct doc *d = doc_obj();
	doc_set_int(d, "Code", s);
	doc_set_str(d, "Name", state_name(s));
	return d;
}

static enum instance_state instance_state(const struct doc *inst)
{
	return (enum instance_state)doc_get_int(doc_get(inst, "State"), "Code", STATE_PENDING);
}

/* "User initiated (2026-11-27 12:00:00 GMT)" */
static void user_initiated_reason(char *buf, size_t len)
{
	time_t now = (time_t)time_wall_s();
	struct tm tm;
	gmtime_r(&now, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S GMT", &tm);
	snprintf(buf, len, "User initiated (%s)", when);
}

/* --- instance_sync: the network members from the ENIs ------------------------ */

int instance_sync(struct api_req *rq, const char *instance_id)
{
	struct res *inst = cache_get_typed(api_cache(rq), RT_INSTANCE, instance_id);
	if (!inst || instance_state(inst->r_doc) == STATE_TERMINATED)
		return 0;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", inst->r_id);
	/* the instance's ENIs by device index (at most ENI_PER_INSTANCE_MAX) */
	const struct doc *by_index[ENI_PER_INSTANCE_MAX] = { 0 };
	size_t n;
	struct res **enis = cache_list(api_cache(rq), RT_ENI, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *a = doc_get(enis[i]->r_doc, "Attachment");
		int64_t idx = doc_get_int(a, "DeviceIndex", -1);
		if (str_eq(doc_get_str(a, "InstanceId"), id) && idx >= 0 && idx < ENI_PER_INSTANCE_MAX)
			by_index[idx] = enis[i]->r_doc;
	}
	struct doc *d = doc_clone(inst->r_doc);
	struct doc *list = doc_set(d, "NetworkInterfaces", doc_list());
	for (size_t i = 0; i < ENI_PER_INSTANCE_MAX; i++) {
		if (!by_index[i])
			continue;
		struct doc *c = doc_push(list, doc_clone(by_index[i]));
		doc_remove(c, "Tags");
		doc_remove(c, "_ClientToken");
	}
	static const char *const derived[] = { "PrivateIpAddress", "PublicIpAddress", "SubnetId", "VpcId" };
	for (size_t i = 0; i < ARRAY_LEN(derived); i++)
		doc_remove(d, derived[i]);
	const struct doc *primary = by_index[0];
	if (primary) {
		doc_set_str(d, "SubnetId", doc_get_str(primary, "SubnetId"));
		doc_set_str(d, "VpcId", doc_get_str(primary, "VpcId"));
		doc_set_str(d, "PrivateIpAddress", doc_get_str(primary, "PrivateIpAddress"));
		doc_set_str(d, "PrivateDnsName", doc_get_str(primary, "PrivateDnsName"));
		const char *pub = doc_get_str(doc_get(primary, "Association"), "PublicIp");
		if (pub)
			doc_set_str(d, "PublicIpAddress", pub);
		doc_set(d, "SecurityGroups", doc_clone(doc_get(primary, "Groups")));
		doc_set_bool(d, "SourceDestCheck", doc_get_bool(primary, "SourceDestCheck", true));
	}
	return api_put(rq, RT_INSTANCE, id, d) ? 0 : -1;
}

/* --- RunInstances -------------------------------------------------------------- */

/* The instance types vpcd accepts: the common families and sizes. Every
 * type gets the same namespace; the type is recorded, not enforced. */
static bool instance_type_known(const char *type)
{
	static const char *const families[] = {
		"t1", "t2", "t3", "t3a", "t4g", "m1", "m3", "m4", "m5", "m5a", "m5n", "m6a", "m6g", "m6i", "m7a", "m7g",
		"m7i", "c4", "c5", "c5a", "c5n", "c6a", "c6g", "c6i", "c7a", "c7g", "c7i", "r4", "r5", "r5a", "r6a",
		"r6g", "r6i", "r7a", "r7g", "r7i", "a1", "x1", "x2idn", "i3", "i4i", "z1d",
	};
	static const char *const sizes[] = {
		"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "9xlarge",
		"12xlarge", "16xlarge", "18xlarge", "24xlarge", "32xlarge", "48xlarge", "metal",
	};
	const char *dot = strchr(type, '.');
	if (!dot)
		return false;
	bool fam = false, size = false;
	for (size_t i = 0; i < ARRAY_LEN(families) && !fam; i++)
		fam = strlen(families[i]) == (size_t)(dot - type) && strncmp(families[i], type, (size_t)(dot - type)) == 0;
	for (size_t i = 0; i < ARRAY_LEN(sizes) && !size; i++)
		size = strcmp(sizes[i], dot + 1) == 0;
	return fam && size;
}

/* One interface of the instances to launch. */
struct launch_if {
	int li_device;
	struct res *li_subnet;		/* for a new ENI */
	struct res *li_eni;		/* an existing ENI */
	const char *li_private_ip;
	const struct doc *li_group_ids, *li_group_names;
	const char *li_description;
	int li_public;			/* -1 unset, 0 no, 1 yes */
	bool li_delete_on_termination;
};

static struct res *default_subnet(struct api_req *rq, const char *az)
{
	size_t n;
	struct res **vpcs = cache_list(api_cache(rq), RT_VPC, &n);
	const char *vpc_id = NULL;
	for (size_t i = 0; i < n && !vpc_id; i++)
		if (doc_get_bool(vpcs[i]->r_doc, "IsDefault", false))
			vpc_id = vpcs[i]->r_id;
	if (!vpc_id) {
		api_fail(rq, "VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.");
		return NULL;
	}
	struct res **subnets = cache_list(api_cache(rq), RT_SUBNET, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *s = subnets[i]->r_doc;
		if (str_eq(doc_get_str(s, "VpcId"), vpc_id) && doc_get_bool(s, "DefaultForAz", false) &&
		    (!az || str_eq(doc_get_str(s, "AvailabilityZone"), az)))
			return subnets[i];
	}
	api_fail(rq, "MissingInput", "No subnets found for the default VPC '%s'. Please specify a subnet.", vpc_id);
	return NULL;
}

static struct res *subnet_named(struct api_req *rq, const char *id)
{
	struct res *s = cache_get_typed(api_cache(rq), RT_SUBNET, id);
	if (!s)
		api_not_found(rq, "InvalidSubnetID.NotFound", "subnet", id);
	return s;
}

/* Reads the interfaces from NetworkInterface.N or from the instance-level
 * members. Returns the number of interfaces, or -1 after api_fail. */
static int launch_interfaces(struct api_req *rq, struct launch_if *out)
{
	const struct doc *in = rq->rq_in;
	const char *az = doc_get_str(doc_get(in, "Placement"), "AvailabilityZone");
	if (az && !*az)
		az = NULL;	/* AvailabilityZone= : none, as AWS takes it */
	const struct doc *specs = doc_get(in, "NetworkInterfaces");
	if (!specs || !specs->d_count) {
		const char *sid = doc_get_str(in, "SubnetId");
		struct launch_if *li = &out[0];
		memset(li, 0, sizeof(*li));
		li->li_subnet = sid ? subnet_named(rq, sid) : default_subnet(rq, az);
		if (!li->li_subnet)
			return -1;
		li->li_private_ip = doc_get_str(in, "PrivateIpAddress");
		li->li_group_ids = doc_get(in, "SecurityGroupIds");
		li->li_group_names = doc_get(in, "SecurityGroups");
		li->li_public = -1;
		li->li_delete_on_termination = true;
		return 1;
	}
	if (doc_get_str(in, "SubnetId"))
		return api_fail(rq, "InvalidParameterCombination",
				"Network interfaces and an instance-level subnet ID may not be specified on the same request");
	const struct doc *g = doc_get(in, "SecurityGroupIds"), *gn = doc_get(in, "SecurityGroups");
	if ((g && g->d_count) || (gn && gn->d_count))
		return api_fail(rq, "InvalidParameterCombination",
				"Network interfaces and an instance-level security groups may not be specified on the same request");
	if (doc_get_str(in, "PrivateIpAddress"))
		return api_fail(rq, "InvalidParameterCombination",
				"Network interfaces and an instance-level private IP address may not be specified on the same request");
	if (specs->d_count > ENI_PER_INSTANCE_MAX)
		return api_fail(rq, "InvalidParameterValue", "At most %d network interfaces per instance", ENI_PER_INSTANCE_MAX);
	int count = 0;
	bool have_primary = false;
	doc_foreach(s, specs) {
		struct launch_if *li = &out[count];
		memset(li, 0, sizeof(*li));
		const struct doc *idx = doc_get(s, "DeviceIndex");
		if (!idx)
			return api_fail(rq, "InvalidParameterValue", "Each network interface requires a device index.");
		if (idx->d_int < 0 || idx->d_int >= ENI_PER_INSTANCE_MAX)
			return api_fail(rq, "InvalidParameterValue", "Invalid value '%lld' for deviceIndex: 0 to %d",
					(long long)idx->d_int, ENI_PER_INSTANCE_MAX - 1);
		li->li_device = (int)idx->d_int;
		for (int k = 0; k < count; k++)
			if (out[k].li_device == li->li_device)
				return api_fail(rq, "InvalidParameterValue", "Each network interface requires a unique device index.");
		have_primary |= li->li_device == 0;
		const char *eni_id = doc_get_str(s, "NetworkInterfaceId");
		const char *sid = doc_get_str(s, "SubnetId");
		const struct doc *v6 = doc_get(s, "Ipv6Addresses");
		if ((v6 && v6->d_count) || doc_get_int(s, "Ipv6AddressCount", 0) > 0 ||
		    doc_get_int(s, "SecondaryPrivateIpAddressCount", 0) > 0)
			return api_fail(rq, "InvalidParameterValue",
					"vpcd gives a network interface one private IPv4 address (no IPv6, no secondary addresses)");
		li->li_public = doc_get(s, "AssociatePublicIpAddress") ? doc_get_bool(s, "AssociatePublicIpAddress", false) : -1;
		if (eni_id) {
			if (sid || doc_get_str(s, "PrivateIpAddress") || doc_get(s, "Groups"))
				return api_fail(rq, "InvalidParameterCombination",
						"A network interface ID may not be specified with a subnet, private IP address or security groups");
			if (li->li_public >= 0)
				return api_fail(rq, "InvalidParameterCombination",
						"The associatePublicIPAddress parameter can only be specified for a new network interface.");
			li->li_eni = cache_get_typed(api_cache(rq), RT_ENI, eni_id);
			if (!li->li_eni)
				return api_not_found(rq, "InvalidNetworkInterfaceID.NotFound", "networkInterface", eni_id);
			if (doc_get(li->li_eni->r_doc, "Attachment"))
				return api_fail(rq, "InvalidNetworkInterface.InUse", "Interface: [%s] in use.", li->li_eni->r_id);
			li->li_subnet = cache_get_typed(api_cache(rq), RT_SUBNET, doc_get_str(li->li_eni->r_doc, "SubnetId"));
			li->li_delete_on_termination = doc_get_bool(s, "DeleteOnTermination", false);
		} else {
			li->li_subnet = sid ? subnet_named(rq, sid) : li->li_device == 0 ? default_subnet(rq, az) : NULL;
			if (!li->li_subnet)
				return sid || li->li_device == 0 ? -1
					: api_fail(rq, "MissingParameter", "The network interface at device index %d needs a subnet",
						   li->li_device);
			li->li_private_ip = doc_get_str(s, "PrivateIpAddress");
			doc_foreach(p, doc_get(s, "PrivateIpAddresses"))
				if (doc_get_bool(p, "Primary", false) || !li->li_private_ip)
					li->li_private_ip = doc_get_str(p, "PrivateIpAddress");
			li->li_group_ids = doc_get(s, "Groups");
			li->li_description = doc_get_str(s, "Description");
			li->li_delete_on_termination = doc_get_bool(s, "DeleteOnTermination", true);
		}
		count++;
	}
	if (!have_primary)
		return api_fail(rq, "InvalidParameterValue",
				"When specifying network interfaces, you must include a device at index 0.");
	for (int k = 0; k < count; k++) {
		if (out[k].li_public >= 0 && (count > 1 || out[k].li_device != 0))
			return api_fail(rq, "InvalidParameterCombination",
					"The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.");
	}
	/* the primary first */
	for (int k = 1; k < count; k++)
		if (out[k].li_device == 0) {
			struct launch_if t = out[0];
			out[0] = out[k];
			out[k] = t;
		}
	return count;
}

static struct doc *reservation_out(struct api_req *rq, struct doc *out, const char *reservation_id)
{
	doc_set_str(out, "ReservationId", reservation_id);
	doc_set_str(out, "OwnerId", api_account(rq));
	doc_get_list(out, "Groups");
	return doc_get_list(out, "Instances");
}

/* A ClientToken seen before answers with the instances it launched. */
static bool run_idempotent(struct api_req *rq, const char *token)
{
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_INSTANCE, &n);
	struct doc *instances = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = list[i]->r_doc;
		if (!str_eq(doc_get_str(d, "ClientToken"), token))
			continue;
		if (!instances)
			instances = reservation_out(rq, rq->rq_out, doc_get_str(d, "_ReservationId"));
		doc_push(instances, doc_clone(d));
	}
	return instances != NULL;
}

static int check_tag_specs(struct api_req *rq)
{
	static const char *const allowed[] = { RT_INSTANCE, RT_ENI, "volume", "spot-instances-request", "elastic-gpu" };
	doc_foreach(spec, doc_get(rq->rq_in, "TagSpecifications")) {
		const char *t = doc_get_str(spec, "ResourceType");
		bool ok = false;
		for (size_t i = 0; i < ARRAY_LEN(allowed) && t; i++)
			ok |= strcmp(allowed[i], t) == 0;
		if (!ok)
			return api_fail(rq, "InvalidParameterValue", "'%.64s' is not a valid taggable resource type for this operation.",
					t ? t : "");
	}
	return 0;
}

static struct doc *instance_new(struct api_req *rq, const char *id, const char *reservation_id, const struct res *image,
				const char *type, int launch_index, const struct res *subnet)
{
	const struct doc *in = rq->rq_in;
	char now[32];
	time_iso8601(time_wall_s(), now, sizeof(now));
	struct doc *d = doc_obj();
	doc_set_str(d, "InstanceId", id);
	doc_set_str(d, "ImageId", image->r_id);
	doc_set(d, "State", state_doc(STATE_RUNNING));
	doc_set_str(d, "PrivateDnsName", "");
	doc_set_str(d, "PublicDnsName", "");
	doc_set_str(d, "StateTransitionReason", "");
	if (doc_get_str(in, "KeyName"))
		doc_set_str(d, "KeyName", doc_get_str(in, "KeyName"));
	doc_set_int(d, "AmiLaunchIndex", launch_index);
	doc_get_list(d, "ProductCodes");
	doc_set_str(d, "InstanceType", type);
	doc_set_str(d, "LaunchTime", now);
	struct doc *pl = doc_get_obj(d, "Placement");
	doc_set_str(pl, "AvailabilityZone", doc_get_str(subnet->r_doc, "AvailabilityZone"));
	doc_set_str(pl, "GroupName", "");
	doc_set_str(pl, "Tenancy", "default");
	doc_set_str(doc_get_obj(d, "Monitoring"), "State", "disabled");
	doc_set_str(d, "Architecture", doc_get_str(image->r_doc, "Architecture"));
	doc_set_str(d, "RootDeviceType", "ebs");
	doc_set_str(d, "RootDeviceName", "/dev/xvda");
	doc_get_list(d, "BlockDeviceMappings");
	doc_set_str(d, "VirtualizationType", "hvm");
	doc_set_str(d, "Hypervisor", "xen");
	doc_set_bool(d, "EbsOptimized", false);
	doc_set_bool(d, "EnaSupport", true);
	doc_set_str(d, "PlatformDetails", "Linux/UNIX");
	doc_set_str(d, "UsageOperation", "RunInstances");
	doc_set_str(d, "BootMode", "uefi-preferred");
	doc_set_str(d, "CurrentInstanceBootMode", "uefi");
	if (doc_get_str(in, "ClientToken"))
		doc_set_str(d, "ClientToken", doc_get_str(in, "ClientToken"));
	doc_get_list(d, "SecurityGroups");
	doc_get_list(d, "NetworkInterfaces");
	doc_set_bool(d, "SourceDestCheck", true);
	doc_set(d, "Tags", api_tags_from_spec(rq, RT_INSTANCE));
	doc_set_str(d, "OwnerId", api_account(rq));
	doc_set_str(d, "_ReservationId", reservation_id);
	/* the attributes DescribeInstanceAttribute answers (instance_attr.c) */
	doc_set_bool(d, INSTANCE_DISABLE_TERMINATION, doc_get_bool(in, "DisableApiTermination", false));
	doc_set_bool(d, INSTANCE_DISABLE_STOP, doc_get_bool(in, "DisableApiStop", false));
	const char *shutdown = doc_get_str(in, "InstanceInitiatedShutdownBehavior");
	doc_set_str(d, INSTANCE_SHUTDOWN_BEHAVIOR, shutdown ? shutdown : "stop");
	if (doc_get_str(in, "UserData"))
		doc_set_str(d, INSTANCE_USER_DATA, doc_get_str(in, "UserData"));
	const char *credits = doc_get_str(doc_get(in, "CreditSpecification"), "CpuCredits");
	if (credits)
		doc_set_str(d, INSTANCE_CPU_CREDITS, credits);
	return d;
}

/* Gives the instance's primary ENI a public address from the pool. */
static int assign_public(struct api_req *rq, const char *instance_id)
{
	struct res *eni = eni_primary_of(rq, instance_id);
	uint32_t ip;
	if (!eni || ipam_public_pick(rq, NULL, &ip) < 0)
		return eni ? -1 : 0;
	char eni_id[RESOURCE_ID_MAX];
	snprintf(eni_id, sizeof(eni_id), "%s", eni->r_id);
	return eni_set_public(rq, eni_id, ip, NULL, NULL);
}

static int launch_one(struct api_req *rq, const struct launch_if *ifs, int nifs, const struct doc *groups0,
		      const char *reservation_id, const struct res *image, const char *type, int launch_index,
		      bool want_public, struct doc *out_list)
{
	char id[RESOURCE_ID_MAX];
	new_id("i", id);
	struct doc *d = instance_new(rq, id, reservation_id, image, type, launch_index, ifs[0].li_subnet);
	if (want_public)
		doc_set_bool(d, "_PublicIpAuto", true);
	if (!api_put(rq, RT_INSTANCE, id, d))
		return -1;
	for (int k = 0; k < nifs; k++) {
		const struct launch_if *li = &ifs[k];
		char eni_id[RESOURCE_ID_MAX];
		if (li->li_eni) {
			snprintf(eni_id, sizeof(eni_id), "%s", li->li_eni->r_id);
		} else {
			const char *vpc_id = doc_get_str(li->li_subnet->r_doc, "VpcId");
			struct doc *groups = k == 0 ? doc_clone(groups0)
						    : eni_groups_resolve(rq, li->li_group_ids, li->li_group_names, vpc_id);
			if (!groups)
				return -1;
			struct eni_spec spec = { li->li_subnet, li->li_private_ip, groups, li->li_description,
						 api_tags_from_spec(rq, RT_ENI) };
			if (!eni_create(rq, &spec, eni_id))
				return -1;
		}
		if (!eni_attach(rq, eni_id, id, li->li_device, li->li_delete_on_termination, NULL))
			return -1;
	}
	if (want_public && assign_public(rq, id) < 0)
		return -1;
	struct res *inst = cache_get_typed(api_cache(rq), RT_INSTANCE, id);
	struct doc *o = doc_push(out_list, doc_clone(inst->r_doc));
	doc_set(o, "State", state_doc(STATE_PENDING));
	return 0;
}

int handle_RunInstances(struct api_req *rq)
{
	const struct doc *in = rq->rq_in;
	const char *token = doc_get_str(in, "ClientToken");
	if (token && run_idempotent(rq, token))
		return 0;
	if (doc_get(in, "LaunchTemplate"))
		return api_fail(rq, "InvalidParameterValue", "vpcd does not support launch templates yet");
	const struct doc *v6 = doc_get(in, "Ipv6Addresses");
	if ((v6 && v6->d_count) || doc_get_int(in, "Ipv6AddressCount", 0) > 0)
		return api_fail(rq, "InvalidParameterValue", "vpcd subnets have no IPv6 blocks");
	struct res *image = image_require(rq, doc_get_str(in, "ImageId"));
	if (!image)
		return -1;
	int64_t min = doc_get_int(in, "MinCount", 1), max = doc_get_int(in, "MaxCount", 1);
	if (min < 1)
		return api_fail(rq, "InvalidParameterValue", "Value (%lld) for parameter minCount is invalid. Expected a positive integer.",
				(long long)min);
	if (max < 1)
		return api_fail(rq, "InvalidParameterValue", "Value (%lld) for parameter maxCount is invalid. Expected a positive integer.",
				(long long)max);
	if (min > max)
		return api_fail(rq, "InvalidParameterValue", "Value (%lld) for parameter minCount is invalid. Expected a value less than or equal to maxCount (%lld).",
				(long long)min, (long long)max);
	if (min > INSTANCE_LAUNCH_MAX)
		return api_fail(rq, "InstanceLimitExceeded",
				"You have requested more instances (%lld) than your current instance limit of %d allows for the specified instance type.",
				(long long)min, INSTANCE_LAUNCH_MAX);
	if (max > INSTANCE_LAUNCH_MAX)
		max = INSTANCE_LAUNCH_MAX;
	/* the region's instances (not terminated) within the quota: at least
	 * MinCount more, else refused; MaxCount cut to the room left */
	long room = quota_room(rq, Q_INSTANCES, NULL);
	if (min > room)
		return api_fail(rq, "InstanceLimitExceeded",
				"You have requested more instances (%lld) than your current instance limit of %ld allows (vpcd --quota instances=%ld).",
				(long long)min, quota_limit(rq->rq_api, Q_INSTANCES), quota_limit(rq->rq_api, Q_INSTANCES));
	if (max > room)
		max = room;
	const char *type = doc_get_str(in, "InstanceType");
	if (!type)
		type = INSTANCE_TYPE_DEFAULT;
	if (!instance_type_known(type))
		return api_fail(rq, "InvalidParameterValue", "Invalid value '%.64s' for InstanceType.", type);
	if (check_tag_specs(rq) < 0)
		return -1;

	struct launch_if ifs[ENI_PER_INSTANCE_MAX];
	int nifs = launch_interfaces(rq, ifs);
	if (nifs < 0)
		return -1;
	struct res *subnet = ifs[0].li_subnet;
	const char *vpc_id = doc_get_str(subnet->r_doc, "VpcId");
	const char *az = doc_get_str(subnet->r_doc, "AvailabilityZone");
	const char *want_az = doc_get_str(doc_get(in, "Placement"), "AvailabilityZone");
	if (want_az && *want_az && !str_eq(want_az, az))
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.64s) for parameter availabilityZone is invalid. Subnet '%s' is in the availability zone %s",
				want_az, subnet->r_id, az);
	for (int k = 1; k < nifs; k++) {
		const struct doc *sd = ifs[k].li_subnet ? ifs[k].li_subnet->r_doc : NULL;
		if (!sd || !str_eq(doc_get_str(sd, "VpcId"), vpc_id) || !str_eq(doc_get_str(sd, "AvailabilityZone"), az))
			return api_fail(rq, "InvalidParameterValue",
					"The network interfaces of an instance must be in subnets of one VPC and one availability zone");
	}
	bool fixed = false;	/* an address or an existing ENI can serve one instance only */
	for (int k = 0; k < nifs; k++)
		fixed |= ifs[k].li_private_ip || ifs[k].li_eni;
	if (fixed && min > 1)
		return api_fail(rq, "InvalidParameterCombination",
				"A private IP address or a network interface ID can only be specified when launching one instance");
	if (fixed)
		max = 1;
	/* the primary interface's groups, checked once for all instances */
	struct doc *groups0 = NULL;
	if (!ifs[0].li_eni &&
	    !(groups0 = eni_groups_resolve(rq, ifs[0].li_group_ids, ifs[0].li_group_names, vpc_id)))
		return -1;
	/* a public address: asked for, or the subnet's default for one new interface */
	bool want_public = ifs[0].li_public >= 0 ? ifs[0].li_public == 1
			 : nifs == 1 && !ifs[0].li_eni && doc_get_bool(subnet->r_doc, "MapPublicIpOnLaunch", false);
	int rc = -1;
	if (want_public && ipam_require_igw(rq, vpc_id) < 0)
		goto out;
	int64_t count = max;
	if (!ifs[0].li_eni) {
		uint32_t free_n = ipam_private_free(rq, subnet);
		if (free_n < (uint64_t)min) {
			api_fail(rq, "InsufficientFreeAddressesInSubnet",
				 "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.",
				 subnet->r_id);
			goto out;
		}
		if (count > (int64_t)free_n)
			count = free_n;
	}
	char reservation_id[RESOURCE_ID_MAX];
	new_id("r", reservation_id);
	struct doc *instances = reservation_out(rq, rq->rq_out, reservation_id);
	for (int64_t i = 0; i < count; i++)
		if (launch_one(rq, ifs, nifs, groups0, reservation_id, image, type, (int)i, want_public, instances) < 0)
			goto out;
	rc = 0;
out:
	doc_free(groups0);
	return rc;
}

/* --- DescribeInstances ------------------------------------------------------------ */

/* Forgets terminated instances after INSTANCE_TERMINATED_VISIBLE_S. */
static int instances_expire(struct api_req *rq)
{
	int64_t now = time_wall_s();
	for (;;) {
		size_t n;
		struct res **list = cache_list(api_cache(rq), RT_INSTANCE, &n);
		const char *victim = NULL;
		for (size_t i = 0; i < n && !victim; i++) {
			int64_t at = doc_get_int(list[i]->r_doc, "_TerminatedAt", -1);
			if (at >= 0 && now - at > INSTANCE_TERMINATED_VISIBLE_S)
				victim = list[i]->r_id;
		}
		if (!victim)
			return 0;
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", victim);
		if (api_delete(rq, id) < 0 || rtb_refresh_routes(rq, id) < 0)
			return -1;
	}
}

static const struct filter_def instance_filters[] = {
	{ "architecture", "Architecture" },
	{ "availability-zone", "Placement.AvailabilityZone" },
	{ "client-token", "ClientToken" },
	{ "dns-name", "PublicDnsName" },
	{ "group-id", "SecurityGroups.GroupId" },
	{ "group-name", "SecurityGroups.GroupName" },
	{ "hypervisor", "Hypervisor" },
	{ "image-id", "ImageId" },
	{ "instance-id", "InstanceId" },
	{ "instance-state-code", "State.Code" },
	{ "instance-state-name", "State.Name" },
	{ "instance-type", "InstanceType" },
	{ "instance.group-id", "SecurityGroups.GroupId" },
	{ "instance.group-name", "SecurityGroups.GroupName" },
	{ "ip-address", "PublicIpAddress" },
	{ "key-name", "KeyName" },
	{ "launch-index", "AmiLaunchIndex" },
	{ "launch-time", "LaunchTime" },
	{ "monitoring-state", "Monitoring.State" },
	{ "network-interface.addresses.association.public-ip", "NetworkInterfaces.PrivateIpAddresses.Association.PublicIp" },
	{ "network-interface.addresses.association.ip-owner-id", "NetworkInterfaces.PrivateIpAddresses.Association.IpOwnerId" },
	{ "network-interface.addresses.primary", "NetworkInterfaces.PrivateIpAddresses.Primary" },
	{ "network-interface.addresses.private-ip-address", "NetworkInterfaces.PrivateIpAddresses.PrivateIpAddress" },
	{ "network-interface.association.allocation-id", "NetworkInterfaces.Association.AllocationId" },
	{ "network-interface.association.association-id", "NetworkInterfaces.Association.AssociationId" },
	{ "network-interface.association.ip-owner-id", "NetworkInterfaces.Association.IpOwnerId" },
	{ "network-interface.association.public-ip", "NetworkInterfaces.Association.PublicIp" },
	{ "network-interface.attachment.attach-time", "NetworkInterfaces.Attachment.AttachTime" },
	{ "network-interface.attachment.attachment-id", "NetworkInterfaces.Attachment.AttachmentId" },
	{ "network-interface.attachment.delete-on-termination", "NetworkInterfaces.Attachment.DeleteOnTermination" },
	{ "network-interface.attachment.device-index", "NetworkInterfaces.Attachment.DeviceIndex" },
	{ "network-interface.attachment.instance-id", "NetworkInterfaces.Attachment.InstanceId" },
	{ "network-interface.attachment.instance-owner-id", "NetworkInterfaces.Attachment.InstanceOwnerId" },
	{ "network-interface.attachment.status", "NetworkInterfaces.Attachment.Status" },
	{ "network-interface.availability-zone", "NetworkInterfaces.AvailabilityZone" },
	{ "network-interface.description", "NetworkInterfaces.Description" },
	{ "network-interface.group-id", "NetworkInterfaces.Groups.GroupId" },
	{ "network-interface.group-name", "NetworkInterfaces.Groups.GroupName" },
	{ "network-interface.mac-address", "NetworkInterfaces.MacAddress" },
	{ "network-interface.network-interface-id", "NetworkInterfaces.NetworkInterfaceId" },
	{ "network-interface.owner-id", "NetworkInterfaces.OwnerId" },
	{ "network-interface.private-dns-name", "NetworkInterfaces.PrivateDnsName" },
	{ "network-interface.source-dest-check", "NetworkInterfaces.SourceDestCheck" },
	{ "network-interface.status", "NetworkInterfaces.Status" },
	{ "network-interface.subnet-id", "NetworkInterfaces.SubnetId" },
	{ "network-interface.vpc-id", "NetworkInterfaces.VpcId" },
	{ "placement-group-name", "Placement.GroupName" },
	{ "platform-details", "PlatformDetails" },
	{ "private-dns-name", "PrivateDnsName" },
	{ "private-ip-address", "PrivateIpAddress" },
	{ "reason", "StateTransitionReason" },
	{ "reservation-id", "_ReservationId" },
	{ "root-device-name", "RootDeviceName" },
	{ "root-device-type", "RootDeviceType" },
	{ "source-dest-check", "SourceDestCheck" },
	{ "state-reason-code", "StateReason.Code" },
	{ "state-reason-message", "StateReason.Message" },
	{ "subnet-id", "SubnetId" },
	{ "tenancy", "Placement.Tenancy" },
	{ "usage-operation", "UsageOperation" },
	{ "virtualization-type", "VirtualizationType" },
	{ "vpc-id", "VpcId" },
	{ NULL, NULL },
};

#define DESCRIBE_TMP_MEMBER "_Instances"	/* never on the wire */

int handle_DescribeInstances(struct api_req *rq)
{
	if (instances_expire(rq) < 0)
		return -1;
	static const struct describe_spec spec = {
		RT_INSTANCE, "InstanceIds", "InvalidInstanceID.NotFound", "instance", instance_filters, DESCRIBE_TMP_MEMBER,
		true, 5, 1000, NULL,
	};
	if (api_describe(rq, &spec) < 0)
		return -1;
	/* instances into their reservations (launched together, so adjacent
	 * in creation order; a page may split one reservation) */
	struct doc *reservations = doc_set(rq->rq_out, "Reservations", doc_list());
	struct doc *instances = NULL;
	const char *current = NULL;
	doc_foreach(item, doc_get(rq->rq_out, DESCRIBE_TMP_MEMBER)) {
		const struct doc *inst = doc_deref(item);
		const char *rid = doc_get_str(inst, "_ReservationId");
		if (!instances || !str_eq(rid, current)) {
			instances = reservation_out(rq, doc_push(reservations, doc_obj()), rid ? rid : "");
			current = rid;
		}
		doc_push(instances, doc_ref(inst));
	}
	doc_remove(rq->rq_out, DESCRIBE_TMP_MEMBER);
	return 0;
}

/* --- Terminate / Stop / Start ---------------------------------------------------- */

/* Every id of InstanceIds must exist; AWS names all the missing ones. */
static int require_instances(struct api_req *rq, const struct doc **ids_out)
{
	const struct doc *ids = doc_get(rq->rq_in, "InstanceIds");
	if (!ids || !ids->d_count)
		return api_fail(rq, "MissingParameter", "The request must contain the parameter InstanceId");
	struct strbuf missing = STRBUF_INIT;
	int nmissing = 0;
	doc_foreach(id, ids) {
		if (id->d_type != DOC_STR)
			continue;
		if (strncmp(id->d_str, "i-", 2) != 0) {
			sb_free(&missing);
			return api_fail(rq, "InvalidInstanceID.Malformed", "Invalid id: \"%.64s\"", id->d_str);
		}
		if (!cache_get_typed(api_cache(rq), RT_INSTANCE, id->d_str)) {
			sb_printf(&missing, "%s%.64s", nmissing ? ", " : "", id->d_str);
			nmissing++;
		}
	}
	int rc = 0;
	if (nmissing == 1)
		rc = api_fail(rq, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing.sb_data);
	else if (nmissing > 1)
		rc = api_fail(rq, "InvalidInstanceID.NotFound", "The instance IDs '%.400s' do not exist", missing.sb_data);
	sb_free(&missing);
	*ids_out = ids;
	return rc;
}

static void state_change_out(struct doc *list, const char *id, enum instance_state prev, enum instance_state cur)
{
	struct doc *c = doc_push(list, doc_obj());
	doc_set_str(c, "InstanceId", id);
	doc_set(c, "CurrentState", state_doc(cur));
	doc_set(c, "PreviousState", state_doc(prev));
}

/* Stores the instance in state s, with the reason AWS gives a user's action. */
static int instance_set_state(struct api_req *rq, const char *id, enum instance_state s, bool strip_network)
{
	struct res *inst = cache_get_typed(api_cache(rq), RT_INSTANCE, id);
	struct doc *d = doc_clone(inst->r_doc);
	doc_set(d, "State", state_doc(s));
	char reason[80];
	if (s == STATE_STOPPED || s == STATE_TERMINATED) {
		user_initiated_reason(reason, sizeof(reason));
		doc_set_str(d, "StateTransitionReason", reason);
		struct doc *sr = doc_set(d, "StateReason", doc_obj());
		doc_set_str(sr, "Code", "Client.UserInitiatedShutdown");
		doc_set_str(sr, "Message", "Client.UserInitiatedShutdown: User initiated shutdown");
	} else {
		doc_set_str(d, "StateTransitionReason", "");
		doc_remove(d, "StateReason");
	}
	if (strip_network) {
		/* a terminated instance keeps no network, as in AWS */
		static const char *const drop[] = { "SubnetId", "VpcId", "PrivateIpAddress", "PublicIpAddress" };
		for (size_t i = 0; i < ARRAY_LEN(drop); i++)
			doc_remove(d, drop[i]);
		doc_set_str(d, "PrivateDnsName", "");
		doc_set_str(d, "PublicDnsName", "");
		doc_set(d, "NetworkInterfaces", doc_list());
		doc_set(d, "SecurityGroups", doc_list());
		doc_set_int(d, "_TerminatedAt", time_wall_s());
	}
	return api_put(rq, RT_INSTANCE, id, d) ? 0 : -1;
}

/* An ENI attached to the instance, or NULL. */
static struct res *attached_eni(struct api_req *rq, const char *instance_id)
{
	size_t n;
	struct res **enis = cache_list(api_cache(rq), RT_ENI, &n);
	for (size_t i = 0; i < n; i++)
		if (str_eq(doc_get_str(doc_get(enis[i]->r_doc, "Attachment"), "InstanceId"), instance_id))
			return enis[i];
	return NULL;
}

static int instance_terminate(struct api_req *rq, const char *id)
{
	struct res *eni;
	while ((eni = attached_eni(rq, id))) {
		char eni_id[RESOURCE_ID_MAX];
		snprintf(eni_id, sizeof(eni_id), "%s", eni->r_id);
		bool del = doc_get_bool(doc_get(eni->r_doc, "Attachment"), "DeleteOnTermination", false);
		if ((del ? eni_delete(rq, eni_id) : eni_detach(rq, eni_id)) < 0)
			return -1;
	}
	if (instance_set_state(rq, id, STATE_TERMINATED, true) < 0)
		return -1;
	return rtb_refresh_routes(rq, id);
}

int handle_TerminateInstances(struct api_req *rq)
{
	const struct doc *ids;
	if (require_instances(rq, &ids) < 0)
		return -1;
	/* termination protection: nothing is terminated when one is protected */
	doc_foreach(idd, ids) {
		const struct res *r = cache_get_typed(api_cache(rq), RT_INSTANCE, idd->d_str);
		if (doc_get_bool(r->r_doc, INSTANCE_DISABLE_TERMINATION, false) &&
		    instance_state(r->r_doc) != STATE_TERMINATED)
			return api_fail(rq, "OperationNotPermitted",
					"The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
					r->r_id);
	}
	struct doc *out = doc_set(rq->rq_out, "TerminatingInstances", doc_list());
	doc_foreach(idd, ids) {
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", idd->d_str);
		enum instance_state prev = instance_state(cache_get_typed(api_cache(rq), RT_INSTANCE, id)->r_doc);
		if (prev == STATE_TERMINATED) {
			state_change_out(out, id, prev, STATE_TERMINATED);
			continue;
		}
		if (instance_terminate(rq, id) < 0)
			return -1;
		state_change_out(out, id, prev, STATE_SHUTTING_DOWN);
	}
	return 0;
}

int handle_StopInstances(struct api_req *rq)
{
	const struct doc *ids;
	if (require_instances(rq, &ids) < 0)
		return -1;
	doc_foreach(idd, ids) {
		enum instance_state s = instance_state(cache_get_typed(api_cache(rq), RT_INSTANCE, idd->d_str)->r_doc);
		if (s == STATE_TERMINATED || s == STATE_SHUTTING_DOWN)
			return api_fail(rq, "IncorrectInstanceState",
					"This instance '%s' is not in a state from which it can be stopped.", idd->d_str);
		if (doc_get_bool(cache_get_typed(api_cache(rq), RT_INSTANCE, idd->d_str)->r_doc, INSTANCE_DISABLE_STOP, false))
			return api_fail(rq, "OperationNotPermitted",
					"The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.",
					idd->d_str);
	}
	struct doc *out = doc_set(rq->rq_out, "StoppingInstances", doc_list());
	doc_foreach(idd, ids) {
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", idd->d_str);
		enum instance_state prev = instance_state(cache_get_typed(api_cache(rq), RT_INSTANCE, id)->r_doc);
		if (prev == STATE_STOPPED || prev == STATE_STOPPING) {
			state_change_out(out, id, prev, prev);
			continue;
		}
		/* an auto-assigned public address does not survive a stop */
		struct res *eni = eni_primary_of(rq, id);
		if (eni && doc_get_bool(eni->r_doc, "_PublicIpAuto", false)) {
			char eni_id[RESOURCE_ID_MAX];
			snprintf(eni_id, sizeof(eni_id), "%s", eni->r_id);
			if (eni_set_public(rq, eni_id, 0, NULL, NULL) < 0)
				return -1;
		}
		if (instance_set_state(rq, id, STATE_STOPPED, false) < 0)
			return -1;
		state_change_out(out, id, prev, STATE_STOPPING);
	}
	return 0;
}

int handle_StartInstances(struct api_req *rq)
{
	const struct doc *ids;
	if (require_instances(rq, &ids) < 0)
		return -1;
	doc_foreach(idd, ids) {
		enum instance_state s = instance_state(cache_get_typed(api_cache(rq), RT_INSTANCE, idd->d_str)->r_doc);
		if (s == STATE_TERMINATED || s == STATE_SHUTTING_DOWN)
			return api_fail(rq, "IncorrectInstanceState",
					"The instance '%s' is not in a state from which it can be started.", idd->d_str);
	}
	struct doc *out = doc_set(rq->rq_out, "StartingInstances", doc_list());
	doc_foreach(idd, ids) {
		char id[RESOURCE_ID_MAX];
		snprintf(id, sizeof(id), "%s", idd->d_str);
		struct res *inst = cache_get_typed(api_cache(rq), RT_INSTANCE, id);
		enum instance_state prev = instance_state(inst->r_doc);
		if (prev == STATE_RUNNING || prev == STATE_PENDING) {
			state_change_out(out, id, prev, prev);
			continue;
		}
		bool want_public = doc_get_bool(inst->r_doc, "_PublicIpAuto", false);
		if (instance_set_state(rq, id, STATE_RUNNING, false) < 0)
			return -1;
		/* a new auto-assigned address, unless an Elastic IP holds the place
		 * or the internet gateway has gone meanwhile */
		struct res *eni = eni_primary_of(rq, id);
		if (want_public && eni && !doc_get(eni->r_doc, "Association")) {
			size_t n;
			bool igw = false;
			struct res **igws = cache_list(api_cache(rq), RT_IGW, &n);
			for (size_t i = 0; i < n && !igw; i++)
				doc_foreach(a, doc_get(igws[i]->r_doc, "Attachments"))
					igw |= str_eq(doc_get_str(a, "VpcId"), doc_get_str(eni->r_doc, "VpcId"));
			if (igw && assign_public(rq, id) < 0)
				return -1;
		}
		state_change_out(out, id, prev, STATE_PENDING);
	}
	return 0;
}
