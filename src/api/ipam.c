/*
 * ipam.c — address management for network interfaces (eni.h): private
 * addresses inside subnets, public addresses from the public pool.
 *
 * Private addresses: AWS hands out the lowest free address of the subnet
 * after the four reserved at its start; the broadcast address is reserved
 * too. An address named by the caller must lie in the subnet
 * ("Address … does not fall within the subnet's address range"), not be
 * reserved, and not be in use (InvalidIPAddress.InUse, "Address … is in
 * use."). Used addresses are read from the ENIs of the subnet, never
 * counted incrementally, so AvailableIpAddressCount cannot drift.
 *
 * Public addresses: the pool is api_config.ac_public_pool (a CIDR, default
 * API_PUBLIC_POOL_DEFAULT, documentation space); its network and broadcast
 * addresses are never handed out. In use: every Elastic IP and every
 * auto-assigned public address of an ENI.
 *
 * Cost: one pass over the ENIs (or Elastic IPs) of the cache and a bitmap
 * of the subnet (at most a /16: 8 KiB) per pick. A control plane of
 * thousands of interfaces does not notice.
 */
#include "api/api_int.h"
#include "api/eni.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define PUBLIC_POOL_PREFIX_MIN 16	/* a bitmap of at most 64 Ki addresses */

struct addr_bitmap {
	struct cidr4 ab_block;
	uint8_t *ab_bits;	/* one bit per address of the block */
};

static void bitmap_init(struct addr_bitmap *b, const struct cidr4 *block)
{
	b->ab_block = *block;
	b->ab_bits = calloc((size_t)(cidr_size(block) + 7) / 8, 1);
	if (!b->ab_bits)
		abort();
}

static void bitmap_set_text(struct addr_bitmap *b, const char *text)
{
	uint32_t ip;
	if (!text || !ip4_parse(text, &ip) || !cidr_contains_ip(&b->ab_block, ip))
		return;
	uint32_t off = ip - b->ab_block.c_addr;
	b->ab_bits[off / 8] |= (uint8_t)(1u << (off % 8));
}

static bool bitmap_test(const struct addr_bitmap *b, uint32_t ip)
{
	uint32_t off = ip - b->ab_block.c_addr;
	return b->ab_bits[off / 8] & (1u << (off % 8));
}

/* Marks the private addresses of the subnet's ENIs. */
static void subnet_used(struct api_req *rq, const char *subnet_id, struct addr_bitmap *b)
{
	size_t n;
	struct res **enis = cache_list(api_cache(rq), RT_ENI, &n);
	for (size_t i = 0; i < n; i++) {
		const char *s = doc_get_str(enis[i]->r_doc, "SubnetId");
		if (!s || strcmp(s, subnet_id) != 0)
			continue;
		bitmap_set_text(b, doc_get_str(enis[i]->r_doc, "PrivateIpAddress"));
		doc_foreach(p, doc_get(enis[i]->r_doc, "PrivateIpAddresses"))
			bitmap_set_text(b, doc_get_str(p, "PrivateIpAddress"));
	}
}

static bool subnet_block(const struct res *subnet, struct cidr4 *out)
{
	return cidr_parse(doc_get_str(subnet->r_doc, "CidrBlock"), out, NULL);
}

static uint32_t count_free(const struct addr_bitmap *b)
{
	uint32_t free_n = 0;
	uint64_t size = cidr_size(&b->ab_block);
	for (uint64_t off = 0; off < size; off++) {
		uint32_t ip = b->ab_block.c_addr + (uint32_t)off;
		if (!subnet_address_reserved(&b->ab_block, ip) && !bitmap_test(b, ip))
			free_n++;
	}
	return free_n;
}

uint32_t ipam_private_free(struct api_req *rq, const struct res *subnet)
{
	struct cidr4 block;
	if (!subnet_block(subnet, &block))
		return 0;
	struct addr_bitmap b;
	bitmap_init(&b, &block);
	subnet_used(rq, subnet->r_id, &b);
	uint32_t n = count_free(&b);
	free(b.ab_bits);
	return n;
}

int ipam_private_pick(struct api_req *rq, const struct res *subnet, const char *wanted, uint32_t *out)
{
	struct cidr4 block;
	if (!subnet_block(subnet, &block))
		return api_fail(rq, "InternalError", "The subnet %s has no valid CIDR block", subnet->r_id);
	uint32_t want = 0;
	if (wanted) {
		if (!ip4_parse(wanted, &want))
			return api_fail(rq, "InvalidParameterValue", "Invalid value '%.64s' for privateIpAddress: not an IPv4 address",
					wanted);
		if (!cidr_contains_ip(&block, want))
			return api_fail(rq, "InvalidParameterValue", "Address %s does not fall within the subnet's address range",
					wanted);
		if (subnet_address_reserved(&block, want))
			return api_fail(rq, "InvalidParameterValue", "Address %s is in subnet's reserved address range", wanted);
	}
	struct addr_bitmap b;
	bitmap_init(&b, &block);
	subnet_used(rq, subnet->r_id, &b);
	int rc = 0;
	if (wanted) {
		if (bitmap_test(&b, want))
			rc = api_fail(rq, "InvalidIPAddress.InUse", "Address %s is in use.", wanted);
		*out = want;
	} else {
		uint64_t size = cidr_size(&block);
		rc = -1;
		for (uint64_t off = 0; off < size; off++) {
			uint32_t ip = block.c_addr + (uint32_t)off;
			/* explicit subnet CIDR reservations are for addresses given by hand */
			if (!subnet_address_reserved(&block, ip) && !bitmap_test(&b, ip) &&
			    !subnet_reserved_explicit(rq, subnet->r_id, ip)) {
				*out = ip;
				rc = 0;
				break;
			}
		}
		if (rc < 0)
			api_fail(rq, "InsufficientFreeAddressesInSubnet",
				 "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.",
				 subnet->r_id);
	}
	free(b.ab_bits);
	return rc;
}

int ipam_subnet_refresh(struct api_req *rq, const char *subnet_id)
{
	struct res *s = cache_get_typed(api_cache(rq), RT_SUBNET, subnet_id);
	if (!s)
		return 0;	/* deleted meanwhile: nothing to count */
	uint32_t n = ipam_private_free(rq, s);
	if (doc_get_int(s->r_doc, "AvailableIpAddressCount", -1) == (int64_t)n)
		return 0;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", s->r_id);
	struct doc *d = doc_clone(s->r_doc);
	doc_set_int(d, "AvailableIpAddressCount", n);
	return api_put(rq, RT_SUBNET, id, d) ? 0 : -1;
}

static bool public_pool(struct api_req *rq, struct cidr4 *out)
{
	const char *text = rq->rq_api->a_cfg.ac_public_pool;
	if (!text || !*text)
		text = API_PUBLIC_POOL_DEFAULT;
	return cidr_parse(text, out, NULL) && out->c_len >= PUBLIC_POOL_PREFIX_MIN;
}

int ipam_public_pick(struct api_req *rq, const char *wanted, uint32_t *out)
{
	struct cidr4 pool;
	if (!public_pool(rq, &pool))
		return api_fail(rq, "InternalError", "The public address pool is not a CIDR of /%d or longer",
				PUBLIC_POOL_PREFIX_MIN);
	struct addr_bitmap b;
	bitmap_init(&b, &pool);
	size_t n;
	/* one pool for every region: the uplink is one */
	struct res **eips = cache_list_all(api_cache(rq), RT_EIP, &n);
	for (size_t i = 0; i < n; i++)
		bitmap_set_text(&b, doc_get_str(eips[i]->r_doc, "PublicIp"));
	struct res **enis = cache_list_all(api_cache(rq), RT_ENI, &n);
	for (size_t i = 0; i < n; i++)
		bitmap_set_text(&b, doc_get_str(doc_get(enis[i]->r_doc, "Association"), "PublicIp"));
	uint32_t first = pool.c_len >= 31 ? pool.c_addr : pool.c_addr + 1;
	uint32_t last = pool.c_len >= 31 ? pool.c_addr + (uint32_t)(cidr_size(&pool) - 1)
					 : pool.c_addr + (uint32_t)(cidr_size(&pool) - 2);
	int rc = -1;
	if (wanted) {
		uint32_t want;
		if (!ip4_parse(wanted, &want) || want < first || want > last || !cidr_contains_ip(&pool, want))
			api_fail(rq, "InvalidParameterValue", "The address %.64s is not in the public address pool", wanted);
		else if (bitmap_test(&b, want))
			api_fail(rq, "InvalidAddress.InUse", "Address %s is in use.", wanted);
		else
			*out = want, rc = 0;
	} else {
		for (uint32_t ip = first; ip <= last && rc < 0; ip++)
			if (!bitmap_test(&b, ip))
				*out = ip, rc = 0;
		if (rc < 0)
			api_fail(rq, "AddressLimitExceeded", "The maximum number of addresses has been reached.");
	}
	free(b.ab_bits);
	return rc;
}

int ipam_require_igw(struct api_req *rq, const char *vpc_id)
{
	size_t n;
	struct res **igws = cache_list(api_cache(rq), RT_IGW, &n);
	for (size_t i = 0; i < n; i++)
		doc_foreach(a, doc_get(igws[i]->r_doc, "Attachments")) {
			const char *v = doc_get_str(a, "VpcId");
			if (v && strcmp(v, vpc_id) == 0)
				return 0;
		}
	return api_fail(rq, "Gateway.NotAttached", "Network %s is not attached to any internet gateway", vpc_id);
}
