/*
 * region.c — the regions vpcd answers for, with their zone names and zone
 * ids as AWS lists them (the name-to-id mapping differs per AWS account;
 * vpcd fixes one), and resource ids.
 */
#include "model/model.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define Z(n, id) { n, id }
static const struct zone_info zones_use1[] = {
	Z("us-east-1a", "use1-az6"), Z("us-east-1b", "use1-az1"), Z("us-east-1c", "use1-az2"),
	Z("us-east-1d", "use1-az4"), Z("us-east-1e", "use1-az3"), Z("us-east-1f", "use1-az5"),
};
static const struct zone_info zones_use2[] = {
	Z("us-east-2a", "use2-az1"), Z("us-east-2b", "use2-az2"), Z("us-east-2c", "use2-az3"),
};
static const struct zone_info zones_usw1[] = {
	Z("us-west-1a", "usw1-az1"), Z("us-west-1c", "usw1-az3"),
};
static const struct zone_info zones_usw2[] = {
	Z("us-west-2a", "usw2-az1"), Z("us-west-2b", "usw2-az2"), Z("us-west-2c", "usw2-az3"),
	Z("us-west-2d", "usw2-az4"),
};
static const struct zone_info zones_euw1[] = {
	Z("eu-west-1a", "euw1-az1"), Z("eu-west-1b", "euw1-az2"), Z("eu-west-1c", "euw1-az3"),
};
static const struct zone_info zones_euc1[] = {
	Z("eu-central-1a", "euc1-az2"), Z("eu-central-1b", "euc1-az3"), Z("eu-central-1c", "euc1-az1"),
};
static const struct zone_info zones_apne1[] = {
	Z("ap-northeast-1a", "apne1-az4"), Z("ap-northeast-1c", "apne1-az1"),
	Z("ap-northeast-1d", "apne1-az2"),
};
static const struct zone_info zones_apne3[] = {
	Z("ap-northeast-3a", "apne3-az3"), Z("ap-northeast-3b", "apne3-az1"),
	Z("ap-northeast-3c", "apne3-az2"),
};
static const struct zone_info zones_apse1[] = {
	Z("ap-southeast-1a", "apse1-az1"), Z("ap-southeast-1b", "apse1-az2"),
	Z("ap-southeast-1c", "apse1-az3"),
};
#undef Z

#define R(name, zones) { name, "ec2." name ".amazonaws.com", zones, ARRAY_LEN(zones) }
static const struct region_info regions[] = {
	R("us-east-1", zones_use1),	R("us-east-2", zones_use2),
	R("us-west-1", zones_usw1),	R("us-west-2", zones_usw2),
	R("eu-west-1", zones_euw1),	R("eu-central-1", zones_euc1),
	R("ap-northeast-1", zones_apne1), R("ap-northeast-3", zones_apne3),
	R("ap-southeast-1", zones_apse1),
};
#undef R

const struct region_info *region_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(regions); i++)
		if (strcmp(regions[i].r_name, name) == 0)
			return &regions[i];
	return NULL;
}

const struct region_info *region_all(size_t *count)
{
	*count = ARRAY_LEN(regions);
	return regions;
}

void model_new_id(const char *prefix, char *buf, size_t len)
{
	uint8_t raw[9];
	char hex[19];
	rand_id_bytes(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), hex);
	hex[17] = '\0';
	snprintf(buf, len, "%s-%s", prefix, hex);
}
