/*
 * region.c — the regions vpcd answers for (every region of botocore's
 * endpoint data for EC2 in partition aws), with their zone names and zone
 * ids as AWS lists them, and resource ids. Regions opened before 2013 map
 * zone names to zone ids per AWS account: vpcd fixes one mapping that
 * accounts show; the later ones map a, b, c to az1, az2, az3 everywhere.
 * Regions AWS opens only on request (opt-in) are served as opted in.
 */
#include "model/model.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define Z(n, id) { n, id }
static const struct zone_info zones_af_south_1[] = {
	Z("af-south-1a", "afs1-az1"), Z("af-south-1b", "afs1-az2"), Z("af-south-1c", "afs1-az3"),
};
static const struct zone_info zones_ap_east_1[] = {
	Z("ap-east-1a", "ape1-az1"), Z("ap-east-1b", "ape1-az2"), Z("ap-east-1c", "ape1-az3"),
};
static const struct zone_info zones_ap_east_2[] = {
	Z("ap-east-2a", "ape2-az1"), Z("ap-east-2b", "ape2-az2"), Z("ap-east-2c", "ape2-az3"),
};
static const struct zone_info zones_ap_northeast_1[] = {
	Z("ap-northeast-1a", "apne1-az4"), Z("ap-northeast-1c", "apne1-az1"), Z("ap-northeast-1d", "apne1-az2"),
};
static const struct zone_info zones_ap_northeast_2[] = {
	Z("ap-northeast-2a", "apne2-az1"), Z("ap-northeast-2b", "apne2-az2"), Z("ap-northeast-2c", "apne2-az3"), Z("ap-northeast-2d", "apne2-az4"),
};
static const struct zone_info zones_ap_northeast_3[] = {
	Z("ap-northeast-3a", "apne3-az3"), Z("ap-northeast-3b", "apne3-az1"), Z("ap-northeast-3c", "apne3-az2"),
};
static const struct zone_info zones_ap_south_1[] = {
	Z("ap-south-1a", "aps1-az1"), Z("ap-south-1b", "aps1-az3"), Z("ap-south-1c", "aps1-az2"),
};
static const struct zone_info zones_ap_south_2[] = {
	Z("ap-south-2a", "aps2-az1"), Z("ap-south-2b", "aps2-az2"), Z("ap-south-2c", "aps2-az3"),
};
static const struct zone_info zones_ap_southeast_1[] = {
	Z("ap-southeast-1a", "apse1-az1"), Z("ap-southeast-1b", "apse1-az2"), Z("ap-southeast-1c", "apse1-az3"),
};
static const struct zone_info zones_ap_southeast_2[] = {
	Z("ap-southeast-2a", "apse2-az1"), Z("ap-southeast-2b", "apse2-az3"), Z("ap-southeast-2c", "apse2-az2"),
};
static const struct zone_info zones_ap_southeast_3[] = {
	Z("ap-southeast-3a", "apse3-az1"), Z("ap-southeast-3b", "apse3-az2"), Z("ap-southeast-3c", "apse3-az3"),
};
static const struct zone_info zones_ap_southeast_4[] = {
	Z("ap-southeast-4a", "apse4-az1"), Z("ap-southeast-4b", "apse4-az2"), Z("ap-southeast-4c", "apse4-az3"),
};
static const struct zone_info zones_ap_southeast_5[] = {
	Z("ap-southeast-5a", "apse5-az1"), Z("ap-southeast-5b", "apse5-az2"), Z("ap-southeast-5c", "apse5-az3"),
};
static const struct zone_info zones_ap_southeast_6[] = {
	Z("ap-southeast-6a", "apse6-az1"), Z("ap-southeast-6b", "apse6-az2"), Z("ap-southeast-6c", "apse6-az3"),
};
static const struct zone_info zones_ap_southeast_7[] = {
	Z("ap-southeast-7a", "apse7-az1"), Z("ap-southeast-7b", "apse7-az2"), Z("ap-southeast-7c", "apse7-az3"),
};
static const struct zone_info zones_ca_central_1[] = {
	Z("ca-central-1a", "cac1-az1"), Z("ca-central-1b", "cac1-az2"), Z("ca-central-1d", "cac1-az4"),
};
static const struct zone_info zones_ca_west_1[] = {
	Z("ca-west-1a", "caw1-az1"), Z("ca-west-1b", "caw1-az2"), Z("ca-west-1c", "caw1-az3"),
};
static const struct zone_info zones_eu_central_1[] = {
	Z("eu-central-1a", "euc1-az2"), Z("eu-central-1b", "euc1-az3"), Z("eu-central-1c", "euc1-az1"),
};
static const struct zone_info zones_eu_central_2[] = {
	Z("eu-central-2a", "euc2-az1"), Z("eu-central-2b", "euc2-az2"), Z("eu-central-2c", "euc2-az3"),
};
static const struct zone_info zones_eu_north_1[] = {
	Z("eu-north-1a", "eun1-az1"), Z("eu-north-1b", "eun1-az2"), Z("eu-north-1c", "eun1-az3"),
};
static const struct zone_info zones_eu_south_1[] = {
	Z("eu-south-1a", "eus1-az1"), Z("eu-south-1b", "eus1-az2"), Z("eu-south-1c", "eus1-az3"),
};
static const struct zone_info zones_eu_south_2[] = {
	Z("eu-south-2a", "eus2-az1"), Z("eu-south-2b", "eus2-az2"), Z("eu-south-2c", "eus2-az3"),
};
static const struct zone_info zones_eu_west_1[] = {
	Z("eu-west-1a", "euw1-az1"), Z("eu-west-1b", "euw1-az2"), Z("eu-west-1c", "euw1-az3"),
};
static const struct zone_info zones_eu_west_2[] = {
	Z("eu-west-2a", "euw2-az2"), Z("eu-west-2b", "euw2-az3"), Z("eu-west-2c", "euw2-az1"),
};
static const struct zone_info zones_eu_west_3[] = {
	Z("eu-west-3a", "euw3-az1"), Z("eu-west-3b", "euw3-az2"), Z("eu-west-3c", "euw3-az3"),
};
static const struct zone_info zones_il_central_1[] = {
	Z("il-central-1a", "ilc1-az1"), Z("il-central-1b", "ilc1-az2"), Z("il-central-1c", "ilc1-az3"),
};
static const struct zone_info zones_me_central_1[] = {
	Z("me-central-1a", "mec1-az1"), Z("me-central-1b", "mec1-az2"), Z("me-central-1c", "mec1-az3"),
};
static const struct zone_info zones_me_south_1[] = {
	Z("me-south-1a", "mes1-az1"), Z("me-south-1b", "mes1-az2"), Z("me-south-1c", "mes1-az3"),
};
static const struct zone_info zones_mx_central_1[] = {
	Z("mx-central-1a", "mxc1-az1"), Z("mx-central-1b", "mxc1-az2"), Z("mx-central-1c", "mxc1-az3"),
};
static const struct zone_info zones_sa_east_1[] = {
	Z("sa-east-1a", "sae1-az1"), Z("sa-east-1b", "sae1-az2"), Z("sa-east-1c", "sae1-az3"),
};
static const struct zone_info zones_us_east_1[] = {
	Z("us-east-1a", "use1-az6"), Z("us-east-1b", "use1-az1"), Z("us-east-1c", "use1-az2"), Z("us-east-1d", "use1-az4"), Z("us-east-1e", "use1-az3"), Z("us-east-1f", "use1-az5"),
};
static const struct zone_info zones_us_east_2[] = {
	Z("us-east-2a", "use2-az1"), Z("us-east-2b", "use2-az2"), Z("us-east-2c", "use2-az3"),
};
static const struct zone_info zones_us_west_1[] = {
	Z("us-west-1a", "usw1-az1"), Z("us-west-1c", "usw1-az3"),
};
static const struct zone_info zones_us_west_2[] = {
	Z("us-west-2a", "usw2-az1"), Z("us-west-2b", "usw2-az2"), Z("us-west-2c", "usw2-az3"), Z("us-west-2d", "usw2-az4"),
};
#undef Z

/* botocore's endpoint data, partition aws, service ec2 (sorted by name) */
#define R(name, zones, opt_in) { name, "ec2." name ".amazonaws.com", zones, ARRAY_LEN(zones), opt_in }
static const struct region_info regions[] = {
	R("af-south-1", zones_af_south_1, true),
	R("ap-east-1", zones_ap_east_1, true),
	R("ap-east-2", zones_ap_east_2, true),
	R("ap-northeast-1", zones_ap_northeast_1, false),
	R("ap-northeast-2", zones_ap_northeast_2, false),
	R("ap-northeast-3", zones_ap_northeast_3, false),
	R("ap-south-1", zones_ap_south_1, false),
	R("ap-south-2", zones_ap_south_2, true),
	R("ap-southeast-1", zones_ap_southeast_1, false),
	R("ap-southeast-2", zones_ap_southeast_2, false),
	R("ap-southeast-3", zones_ap_southeast_3, true),
	R("ap-southeast-4", zones_ap_southeast_4, true),
	R("ap-southeast-5", zones_ap_southeast_5, true),
	R("ap-southeast-6", zones_ap_southeast_6, true),
	R("ap-southeast-7", zones_ap_southeast_7, true),
	R("ca-central-1", zones_ca_central_1, false),
	R("ca-west-1", zones_ca_west_1, true),
	R("eu-central-1", zones_eu_central_1, false),
	R("eu-central-2", zones_eu_central_2, true),
	R("eu-north-1", zones_eu_north_1, false),
	R("eu-south-1", zones_eu_south_1, true),
	R("eu-south-2", zones_eu_south_2, true),
	R("eu-west-1", zones_eu_west_1, false),
	R("eu-west-2", zones_eu_west_2, false),
	R("eu-west-3", zones_eu_west_3, false),
	R("il-central-1", zones_il_central_1, true),
	R("me-central-1", zones_me_central_1, true),
	R("me-south-1", zones_me_south_1, true),
	R("mx-central-1", zones_mx_central_1, true),
	R("sa-east-1", zones_sa_east_1, false),
	R("us-east-1", zones_us_east_1, false),
	R("us-east-2", zones_us_east_2, false),
	R("us-west-1", zones_us_west_1, false),
	R("us-west-2", zones_us_west_2, false),
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
