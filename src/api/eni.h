/*
 * eni.h — what instances, network interfaces and Elastic IPs share inside
 * src/api: their cache types, the network interface (ENI) as the one
 * holder of addresses, and the address management behind it (ipam.c).
 *
 * Ownership of addresses. A private address belongs to exactly one ENI
 * (PrivateIpAddresses[].PrivateIpAddress); a subnet's used addresses are
 * those of the ENIs whose SubnetId is the subnet, so its
 * AvailableIpAddressCount is recomputed from them (ipam_subnet_refresh)
 * after every allocation or release. A public address belongs to an
 * Elastic IP (RT_EIP doc) or, when auto-assigned at launch, to the ENI
 * itself (Association.IpOwnerId "amazon", _PublicIpAuto true); both come
 * from the public pool (api_config.ac_public_pool, default
 * API_PUBLIC_POOL_DEFAULT).
 *
 * The instance doc's network members (NetworkInterfaces, PrivateIpAddress,
 * PublicIpAddress, SecurityGroups, SourceDestCheck) are derived from its
 * ENIs by instance_sync(), which every ENI change calls: ENIs are the
 * truth, as a security group's rules are the truth of its permissions.
 */
#ifndef VPCD_API_ENI_H
#define VPCD_API_ENI_H

#include "api/api.h"
#include "model/model.h"
#include "state/resources.h"

/* Their cache types (RT_INSTANCE, RT_ENI, RT_EIP, RT_IMAGE) are in
 * state/resources.h. */
#define ENI_GROUPS_MAX 5		/* security groups per interface (AWS's quota) */
#define ENI_PER_INSTANCE_MAX 8		/* device indexes 0..7 */
#define MAC_STR_MAX 18			/* "02:ab:cd:ef:01:23" + NUL */

/* --- addresses (ipam.c) ------------------------------------------------------ */

/* A private address for an ENI in subnet: the lowest free one when wanted
 * is NULL, else wanted after AWS's checks (inside the subnet, not one of
 * the five reserved, not in use). 0, or -1 after api_fail. */
int ipam_private_pick(struct api_req *rq, const struct res *subnet, const char *wanted, uint32_t *out);
/* Free addresses of the subnet right now. */
uint32_t ipam_private_free(struct api_req *rq, const struct res *subnet);
/* Recomputes the subnet's AvailableIpAddressCount from its ENIs. */
int ipam_subnet_refresh(struct api_req *rq, const char *subnet_id);
/* A free public address from the pool (wanted: a given one). 0, or -1
 * after api_fail (AddressLimitExceeded when the pool is exhausted). */
int ipam_public_pick(struct api_req *rq, const char *wanted, uint32_t *out);
/* Fails with Gateway.NotAttached unless an internet gateway is attached to vpc_id. */
int ipam_require_igw(struct api_req *rq, const char *vpc_id);

/* --- network interfaces (eni.c) --------------------------------------------- */

struct eni_spec {
	const struct res *es_subnet;
	const char *es_private_ip;	/* NULL: the next free one */
	struct doc *es_groups;		/* list of {GroupId, GroupName}; ownership taken */
	const char *es_description;	/* NULL: "" */
	struct doc *es_tags;		/* Tags list; ownership taken (NULL: none) */
};

/* Security groups named by ids (a list of strings; empty or NULL: the
 * VPC's default group), checked to exist, to be in vpc_id and to number
 * at most ENI_GROUPS_MAX. Returns the GroupIdentifier list, or NULL after
 * api_fail. names (optional): group names, resolved in vpc_id. */
struct doc *eni_groups_resolve(struct api_req *rq, const struct doc *ids, const struct doc *names, const char *vpc_id);
/* Creates an available ENI; returns the cached doc (borrowed) or NULL
 * after api_fail. id_out: RESOURCE_ID_MAX. */
struct doc *eni_create(struct api_req *rq, const struct eni_spec *spec, char *id_out);
/* Attaches an available ENI to an instance at device_index. */
struct doc *eni_attach(struct api_req *rq, const char *eni_id, const char *instance_id, int device_index,
		       bool delete_on_termination, char *attachment_id_out);
/* Detaches it (the instance's doc follows). */
int eni_detach(struct api_req *rq, const char *eni_id);
/* Deletes it: addresses released, an associated Elastic IP disassociated,
 * routes to it turned blackhole. */
int eni_delete(struct api_req *rq, const char *eni_id);
/* Sets (ip != 0) or clears the ENI's public address. allocation_id NULL:
 * auto-assigned (owner "amazon"). */
int eni_set_public(struct api_req *rq, const char *eni_id, uint32_t ip, const char *allocation_id,
		   const char *association_id);
/* The ENI at device index 0 of the instance, or NULL. */
struct res *eni_primary_of(struct api_req *rq, const char *instance_id);

/* --- instances (instance.c) -------------------------------------------------- */

/* vpcd's keys of an instance doc for its attributes (instance_attr.c):
 * termination and stop protection (bool), the shutdown behaviour ("stop"
 * or "terminate"), the user data (base64, as given) and the CPU credit
 * option of a burstable type ("standard" / "unlimited"; absent: the
 * type's default). */
#define INSTANCE_DISABLE_TERMINATION "_DisableApiTermination"
#define INSTANCE_DISABLE_STOP "_DisableApiStop"
#define INSTANCE_SHUTDOWN_BEHAVIOR "_InstanceInitiatedShutdownBehavior"
#define INSTANCE_USER_DATA "_UserData"
#define INSTANCE_CPU_CREDITS "_CpuCredits"
/* Instance type facts (instance_type.c): NULL when vpcd's table does not
 * know the type. */
struct instance_type_info;
const struct instance_type_info *instance_type_find(const char *type);
/* The default CPU credit option of a burstable type ("standard" for T2,
 * "unlimited" for T3/T3a/T4g), NULL for the others. */
const char *instance_type_default_credits(const char *type);

/* Rewrites the instance's network members from its ENIs. */
int instance_sync(struct api_req *rq, const char *instance_id);

/* --- Elastic IPs (eip.c) ------------------------------------------------------ */

/* Disassociates whatever Elastic IP is associated with the ENI. */
int eip_disassociate_eni(struct api_req *rq, const char *eni_id);

/* --- images (image.c) ---------------------------------------------------------- */

/* The image, or NULL after api_fail (InvalidAMIID.*). */
struct res *image_require(struct api_req *rq, const char *image_id);

#endif
