/*
 * instance_type.c — DescribeInstanceTypes over vpcd's table of common
 * instance types (t2, t3, t3a, t4g, m5, m6i, c5, c6i, r5; nano to
 * 32xlarge as each family has them): vCPUs and cores, memory, network
 * performance, interfaces and addresses per interface, architectures,
 * hypervisor, burstable and free-tier flags, as AWS publishes them. Every
 * type gets the same namespace in the data plane; the figures are what a
 * client reads (Terraform's aws_instance, capacity planners), not limits
 * vpcd enforces. Types of other families are accepted by RunInstances
 * (instance.c) but not described here.
 *
 * Filters: the common ones of AWS's list (instance-type, current-
 * generation, free-tier-eligible, burstable-performance-supported,
 * bare-metal, hypervisor, processor-info.supported-architecture,
 * processor-info.manufacturer, vcpu-info.default-vcpus,
 * vcpu-info.default-cores, memory-info.size-in-mib,
 * network-info.network-performance, network-info.maximum-network-
 * interfaces, network-info.ipv4-addresses-per-interface), '*' and '?'
 * wildcards. Paging: MaxResults 5..100, NextToken, in table order.
 */
#include "api/eni.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define IT_TOKEN_PREFIX "vpcd1."
#define IT_MAX_RESULTS_MIN 5
#define IT_MAX_RESULTS_MAX 100

enum it_cpu { CPU_INTEL, CPU_AMD, CPU_GRAVITON2 };

struct instance_type_info {
	const char *it_name;
	int it_vcpus, it_cores;		/* threads per core = vcpus / cores */
	int it_mem_mib;
	const char *it_net;		/* "Up to 5 Gigabit" */
	int it_enis, it_ipv4;		/* interfaces, IPv4 addresses per interface */
	enum it_cpu it_cpu;
	bool it_xen;			/* t2: Xen, else Nitro */
	bool it_i386;			/* also 32-bit (t2 up to medium) */
	bool it_free_tier;
	double it_ghz;
};

static const struct instance_type_info types[] = {
	/* T2: burstable, Xen, Intel */
	{ "t2.nano", 1, 1, 512, "Low to Moderate", 2, 2, CPU_INTEL, true, true, false, 2.4 },
	{ "t2.micro", 1, 1, 1024, "Low to Moderate", 2, 2, CPU_INTEL, true, true, true, 2.5 },
	{ "t2.small", 1, 1, 2048, "Low to Moderate", 3, 4, CPU_INTEL, true, true, false, 2.5 },
	{ "t2.medium", 2, 2, 4096, "Low to Moderate", 3, 6, CPU_INTEL, true, true, false, 2.3 },
	{ "t2.large", 2, 2, 8192, "Low to Moderate", 3, 12, CPU_INTEL, true, false, false, 2.3 },
	{ "t2.xlarge", 4, 4, 16384, "Moderate", 3, 15, CPU_INTEL, true, false, false, 2.3 },
	{ "t2.2xlarge", 8, 8, 32768, "Moderate", 3, 15, CPU_INTEL, true, false, false, 2.3 },
	/* T3: burstable, Nitro, Intel */
	{ "t3.nano", 2, 1, 512, "Up to 5 Gigabit", 2, 2, CPU_INTEL, false, false, false, 2.5 },
	{ "t3.micro", 2, 1, 1024, "Up to 5 Gigabit", 2, 2, CPU_INTEL, false, false, true, 2.5 },
	{ "t3.small", 2, 1, 2048, "Up to 5 Gigabit", 3, 4, CPU_INTEL, false, false, true, 2.5 },
	{ "t3.medium", 2, 1, 4096, "Up to 5 Gigabit", 3, 6, CPU_INTEL, false, false, false, 2.5 },
	{ "t3.large", 2, 1, 8192, "Up to 5 Gigabit", 3, 12, CPU_INTEL, false, false, false, 2.5 },
	{ "t3.xlarge", 4, 2, 16384, "Up to 5 Gigabit", 4, 15, CPU_INTEL, false, false, false, 2.5 },
	{ "t3.2xlarge", 8, 4, 32768, "Up to 5 Gigabit", 4, 15, CPU_INTEL, false, false, false, 2.5 },
	/* T3a: burstable, AMD */
	{ "t3a.nano", 2, 1, 512, "Up to 5 Gigabit", 2, 2, CPU_AMD, false, false, false, 2.2 },
	{ "t3a.micro", 2, 1, 1024, "Up to 5 Gigabit", 2, 2, CPU_AMD, false, false, false, 2.2 },
	{ "t3a.small", 2, 1, 2048, "Up to 5 Gigabit", 2, 4, CPU_AMD, false, false, false, 2.2 },
	{ "t3a.medium", 2, 1, 4096, "Up to 5 Gigabit", 3, 6, CPU_AMD, false, false, false, 2.2 },
	{ "t3a.large", 2, 1, 8192, "Up to 5 Gigabit", 3, 12, CPU_AMD, false, false, false, 2.2 },
	{ "t3a.xlarge", 4, 2, 16384, "Up to 5 Gigabit", 4, 15, CPU_AMD, false, false, false, 2.2 },
	{ "t3a.2xlarge", 8, 4, 32768, "Up to 5 Gigabit", 4, 15, CPU_AMD, false, false, false, 2.2 },
	/* T4g: burstable, Graviton2 (arm64, one thread per core) */
	{ "t4g.nano", 2, 2, 512, "Up to 5 Gigabit", 2, 2, CPU_GRAVITON2, false, false, false, 2.5 },
	{ "t4g.micro", 2, 2, 1024, "Up to 5 Gigabit", 2, 2, CPU_GRAVITON2, false, false, true, 2.5 },
	{ "t4g.small", 2, 2, 2048, "Up to 5 Gigabit", 3, 4, CPU_GRAVITON2, false, false, false, 2.5 },
	{ "t4g.medium", 2, 2, 4096, "Up to 5 Gigabit", 3, 6, CPU_GRAVITON2, false, false, false, 2.5 },
	{ "t4g.large", 2, 2, 8192, "Up to 5 Gigabit", 3, 12, CPU_GRAVITON2, false, false, false, 2.5 },
	{ "t4g.xlarge", 4, 4, 16384, "Up to 5 Gigabit", 4, 15, CPU_GRAVITON2, false, false, false, 2.5 },
	{ "t4g.2xlarge", 8, 8, 32768, "Up to 5 Gigabit", 4, 15, CPU_GRAVITON2, false, false, false, 2.5 },
	/* M5: general purpose, Intel */
	{ "m5.large", 2, 1, 8192, "Up to 10 Gigabit", 3, 10, CPU_INTEL, false, false, false, 3.1 },
	{ "m5.xlarge", 4, 2, 16384, "Up to 10 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.1 },
	{ "m5.2xlarge", 8, 4, 32768, "Up to 10 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.1 },
	{ "m5.4xlarge", 16, 8, 65536, "Up to 10 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.1 },
	{ "m5.8xlarge", 32, 16, 131072, "10 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.1 },
	{ "m5.12xlarge", 48, 24, 196608, "12 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.1 },
	{ "m5.16xlarge", 64, 32, 262144, "20 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.1 },
	{ "m5.24xlarge", 96, 48, 393216, "25 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.1 },
	/* M6i */
	{ "m6i.large", 2, 1, 8192, "Up to 12.5 Gigabit", 3, 10, CPU_INTEL, false, false, false, 3.5 },
	{ "m6i.xlarge", 4, 2, 16384, "Up to 12.5 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.5 },
	{ "m6i.2xlarge", 8, 4, 32768, "Up to 12.5 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.5 },
	{ "m6i.4xlarge", 16, 8, 65536, "Up to 12.5 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.5 },
	{ "m6i.8xlarge", 32, 16, 131072, "12.5 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.5 },
	{ "m6i.12xlarge", 48, 24, 196608, "18.75 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.5 },
	{ "m6i.16xlarge", 64, 32, 262144, "25 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.5 },
	{ "m6i.24xlarge", 96, 48, 393216, "37.5 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.5 },
	{ "m6i.32xlarge", 128, 64, 524288, "50 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.5 },
	/* C5: compute optimised */
	{ "c5.large", 2, 1, 4096, "Up to 10 Gigabit", 3, 10, CPU_INTEL, false, false, false, 3.4 },
	{ "c5.xlarge", 4, 2, 8192, "Up to 10 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.4 },
	{ "c5.2xlarge", 8, 4, 16384, "Up to 10 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.4 },
	{ "c5.4xlarge", 16, 8, 32768, "Up to 10 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.4 },
	{ "c5.9xlarge", 36, 18, 73728, "12 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.4 },
	{ "c5.12xlarge", 48, 24, 98304, "12 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.6 },
	{ "c5.18xlarge", 72, 36, 147456, "25 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.4 },
	{ "c5.24xlarge", 96, 48, 196608, "25 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.6 },
	/* C6i */
	{ "c6i.large", 2, 1, 4096, "Up to 12.5 Gigabit", 3, 10, CPU_INTEL, false, false, false, 3.5 },
	{ "c6i.xlarge", 4, 2, 8192, "Up to 12.5 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.5 },
	{ "c6i.2xlarge", 8, 4, 16384, "Up to 12.5 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.5 },
	{ "c6i.4xlarge", 16, 8, 32768, "Up to 12.5 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.5 },
	{ "c6i.8xlarge", 32, 16, 65536, "12.5 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.5 },
	{ "c6i.12xlarge", 48, 24, 98304, "18.75 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.5 },
	{ "c6i.16xlarge", 64, 32, 131072, "25 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.5 },
	{ "c6i.24xlarge", 96, 48, 196608, "37.5 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.5 },
	{ "c6i.32xlarge", 128, 64, 262144, "50 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.5 },
	/* R5: memory optimised */
	{ "r5.large", 2, 1, 16384, "Up to 10 Gigabit", 3, 10, CPU_INTEL, false, false, false, 3.1 },
	{ "r5.xlarge", 4, 2, 32768, "Up to 10 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.1 },
	{ "r5.2xlarge", 8, 4, 65536, "Up to 10 Gigabit", 4, 15, CPU_INTEL, false, false, false, 3.1 },
	{ "r5.4xlarge", 16, 8, 131072, "Up to 10 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.1 },
	{ "r5.8xlarge", 32, 16, 262144, "10 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.1 },
	{ "r5.12xlarge", 48, 24, 393216, "12 Gigabit", 8, 30, CPU_INTEL, false, false, false, 3.1 },
	{ "r5.16xlarge", 64, 32, 524288, "20 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.1 },
	{ "r5.24xlarge", 96, 48, 786432, "25 Gigabit", 15, 50, CPU_INTEL, false, false, false, 3.1 },
};

const struct instance_type_info *instance_type_find(const char *type)
{
	for (size_t i = 0; type && i < ARRAY_LEN(types); i++)
		if (strcmp(types[i].it_name, type) == 0)
			return &types[i];
	return NULL;
}

const char *instance_type_default_credits(const char *type)
{
	if (!type)
		return NULL;
	if (strncmp(type, "t2.", 3) == 0)
		return "standard";
	if (strncmp(type, "t3.", 3) == 0 || strncmp(type, "t3a.", 4) == 0 || strncmp(type, "t4g.", 4) == 0)
		return "unlimited";
	return NULL;
}

static bool burstable(const struct instance_type_info *t) { return t->it_name[0] == 't'; }

static void str_list(struct doc *obj, const char *key, const char *const *values)
{
	struct doc *l = doc_get_list(obj, key);
	for (; *values; values++)
		doc_push(l, doc_str(*values));
}

/* The InstanceTypeInfo of t, as DescribeInstanceTypes answers it. */
static struct doc *type_doc(const struct instance_type_info *t)
{
	struct doc *d = doc_obj();
	doc_set_str(d, "InstanceType", t->it_name);
	doc_set_bool(d, "CurrentGeneration", true);
	doc_set_bool(d, "FreeTierEligible", t->it_free_tier);
	static const char *const usage[] = { "on-demand", "spot", NULL };
	static const char *const root[] = { "ebs", NULL };
	static const char *const virt[] = { "hvm", NULL };
	str_list(d, "SupportedUsageClasses", usage);
	str_list(d, "SupportedRootDeviceTypes", root);
	str_list(d, "SupportedVirtualizationTypes", virt);
	doc_set_bool(d, "BareMetal", false);
	doc_set_str(d, "Hypervisor", t->it_xen ? "xen" : "nitro");
	struct doc *p = doc_get_obj(d, "ProcessorInfo");
	static const char *const x86[] = { "x86_64", NULL }, *const x86_i386[] = { "i386", "x86_64", NULL },
				 *const arm[] = { "arm64", NULL };
	str_list(p, "SupportedArchitectures", t->it_cpu == CPU_GRAVITON2 ? arm : t->it_i386 ? x86_i386 : x86);
	char ghz[16];
	snprintf(ghz, sizeof(ghz), "%.1f", t->it_ghz);
	doc_set(p, "SustainedClockSpeedInGhz", doc_str(ghz));
	doc_set_str(p, "Manufacturer", t->it_cpu == CPU_INTEL ? "Intel" : t->it_cpu == CPU_AMD ? "AMD" : "AWS");
	struct doc *v = doc_get_obj(d, "VCpuInfo");
	doc_set_int(v, "DefaultVCpus", t->it_vcpus);
	doc_set_int(v, "DefaultCores", t->it_cores);
	doc_set_int(v, "DefaultThreadsPerCore", t->it_vcpus / t->it_cores);
	doc_set_int(doc_get_obj(d, "MemoryInfo"), "SizeInMiB", t->it_mem_mib);
	doc_set_bool(d, "InstanceStorageSupported", false);
	struct doc *ebs = doc_get_obj(d, "EbsInfo");
	doc_set_str(ebs, "EbsOptimizedSupport", t->it_xen ? "unsupported" : "default");
	doc_set_str(ebs, "EncryptionSupport", "supported");
	doc_set_str(ebs, "NvmeSupport", t->it_xen ? "unsupported" : "required");
	struct doc *n = doc_get_obj(d, "NetworkInfo");
	doc_set_str(n, "NetworkPerformance", t->it_net);
	doc_set_int(n, "MaximumNetworkInterfaces", t->it_enis);
	doc_set_int(n, "MaximumNetworkCards", 1);
	doc_set_int(n, "DefaultNetworkCardIndex", 0);
	struct doc *card = doc_push(doc_get_list(n, "NetworkCards"), doc_obj());
	doc_set_int(card, "NetworkCardIndex", 0);
	doc_set_str(card, "NetworkPerformance", t->it_net);
	doc_set_int(card, "MaximumNetworkInterfaces", t->it_enis);
	doc_set_int(n, "Ipv4AddressesPerInterface", t->it_ipv4);
	doc_set_int(n, "Ipv6AddressesPerInterface", t->it_ipv4);
	doc_set_bool(n, "Ipv6Supported", true);
	doc_set_str(n, "EnaSupport", t->it_xen ? "unsupported" : "required");
	doc_set_bool(n, "EfaSupported", false);
	doc_set_bool(n, "EncryptionInTransitSupported", false);
	doc_set_bool(n, "EnaSrdSupported", false);
	static const char *const strategies[] = { "partition", "spread", NULL };
	static const char *const all_strategies[] = { "cluster", "partition", "spread", NULL };
	str_list(doc_get_obj(d, "PlacementGroupInfo"), "SupportedStrategies", burstable(t) ? strategies : all_strategies);
	doc_set_bool(d, "HibernationSupported", true);
	doc_set_bool(d, "BurstablePerformanceSupported", burstable(t));
	doc_set_bool(d, "DedicatedHostsSupported", !burstable(t));
	doc_set_bool(d, "AutoRecoverySupported", true);
	static const char *const legacy[] = { "legacy-bios", NULL }, *const both[] = { "legacy-bios", "uefi", NULL },
				 *const uefi[] = { "uefi", NULL };
	str_list(d, "SupportedBootModes", t->it_xen ? legacy : t->it_cpu == CPU_GRAVITON2 ? uefi : both);
	return d;
}

/* filter name -> path of the InstanceTypeInfo (lists fan out) */
static const struct {
	const char *name, *path;
} type_filters[] = {
	{ "instance-type", "InstanceType" },
	{ "current-generation", "CurrentGeneration" },
	{ "free-tier-eligible", "FreeTierEligible" },
	{ "burstable-performance-supported", "BurstablePerformanceSupported" },
	{ "bare-metal", "BareMetal" },
	{ "hypervisor", "Hypervisor" },
	{ "dedicated-hosts-supported", "DedicatedHostsSupported" },
	{ "hibernation-supported", "HibernationSupported" },
	{ "auto-recovery-supported", "AutoRecoverySupported" },
	{ "instance-storage-supported", "InstanceStorageSupported" },
	{ "supported-usage-class", "SupportedUsageClasses" },
	{ "supported-root-device-type", "SupportedRootDeviceTypes" },
	{ "supported-virtualization-type", "SupportedVirtualizationTypes" },
	{ "supported-boot-mode", "SupportedBootModes" },
	{ "processor-info.supported-architecture", "ProcessorInfo.SupportedArchitectures" },
	{ "processor-info.sustained-clock-speed-in-ghz", "ProcessorInfo.SustainedClockSpeedInGhz" },
	{ "processor-info.manufacturer", "ProcessorInfo.Manufacturer" },
	{ "vcpu-info.default-vcpus", "VCpuInfo.DefaultVCpus" },
	{ "vcpu-info.default-cores", "VCpuInfo.DefaultCores" },
	{ "vcpu-info.default-threads-per-core", "VCpuInfo.DefaultThreadsPerCore" },
	{ "memory-info.size-in-mib", "MemoryInfo.SizeInMiB" },
	{ "network-info.network-performance", "NetworkInfo.NetworkPerformance" },
	{ "network-info.maximum-network-interfaces", "NetworkInfo.MaximumNetworkInterfaces" },
	{ "network-info.ipv4-addresses-per-interface", "NetworkInfo.Ipv4AddressesPerInterface" },
	{ "network-info.ipv6-supported", "NetworkInfo.Ipv6Supported" },
	{ "network-info.ena-support", "NetworkInfo.EnaSupport" },
	{ "ebs-info.ebs-optimized-support", "EbsInfo.EbsOptimizedSupport" },
	{ "ebs-info.encryption-support", "EbsInfo.EncryptionSupport" },
	{ "ebs-info.nvme-support", "EbsInfo.NvmeSupport" },
};

static bool value_matches(const struct doc *node, const char *path, const struct doc *values)
{
	if (!node)
		return false;
	if (node->d_type == DOC_LIST) {
		doc_foreach(c, node)
			if (value_matches(c, path, values))
				return true;
		return false;
	}
	if (*path) {
		const char *dot = strchr(path, '.');
		char seg[64];
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(seg))
			return false;
		memcpy(seg, path, len);
		seg[len] = '\0';
		return value_matches(doc_get(node, seg), dot ? dot + 1 : "", values);
	}
	char buf[32];
	const char *text = doc_scalar_text(node, buf, sizeof(buf));
	doc_foreach(v, values)
		if (text && v->d_type == DOC_STR && fnmatch(v->d_str, text, 0) == 0)
			return true;
	return false;
}

int handle_DescribeInstanceTypes(struct api_req *rq)
{
	const struct doc *filters = doc_get(rq->rq_in, "Filters");
	const char *paths[64];
	size_t nf = 0;
	doc_foreach(f, filters) {
		const char *name = doc_get_str(f, "Name");
		const char *path = NULL;
		for (size_t i = 0; name && i < ARRAY_LEN(type_filters); i++)
			if (strcmp(type_filters[i].name, name) == 0)
				path = type_filters[i].path;
		if (!path)
			return api_fail(rq, "InvalidParameterValue", "The filter '%.64s' is invalid", name ? name : "");
		if (nf == ARRAY_LEN(paths))
			return api_fail(rq, "FilterLimitExceeded", "The request has too many filters");
		paths[nf++] = path;
	}
	const struct doc *names = doc_get(rq->rq_in, "InstanceTypes");
	struct strbuf unknown = STRBUF_INIT;
	doc_foreach(n, names)
		if (n->d_type == DOC_STR && !instance_type_find(n->d_str))
			sb_printf(&unknown, "%s%.64s", unknown.sb_len ? ", " : "", n->d_str);
	if (unknown.sb_len) {
		api_fail(rq, "InvalidInstanceType", "The following supplied instance types do not exist: [%.400s]", unknown.sb_data);
		sb_free(&unknown);
		return -1;
	}
	int64_t limit = INT64_MAX;
	const struct doc *maxd = doc_get(rq->rq_in, "MaxResults");
	if (maxd) {
		if (maxd->d_int < IT_MAX_RESULTS_MIN || maxd->d_int > IT_MAX_RESULTS_MAX)
			return api_fail(rq, "InvalidParameterValue",
					"Value ( %" PRId64 " ) for parameter maxResults is invalid. Expecting a value between %d and %d.",
					maxd->d_int, IT_MAX_RESULTS_MIN, IT_MAX_RESULTS_MAX);
		limit = maxd->d_int;
	}
	size_t start = 0;
	const char *token = doc_get_str(rq->rq_in, "NextToken");
	if (token && *token) {
		char *end = NULL;
		long long v = -1;
		if (strncmp(token, IT_TOKEN_PREFIX, strlen(IT_TOKEN_PREFIX)) == 0)
			v = strtoll(token + strlen(IT_TOKEN_PREFIX), &end, 10);
		if (v <= 0 || !end || *end || (size_t)v >= ARRAY_LEN(types))
			return api_fail(rq, "InvalidNextToken", "The token '%.80s' is invalid", token);
		start = (size_t)v;
	}
	struct doc *out = doc_set(rq->rq_out, "InstanceTypes", doc_list());
	for (size_t i = start; i < ARRAY_LEN(types); i++) {
		bool wanted = !names || !names->d_count;
		doc_foreach(n, names)
			wanted |= n->d_type == DOC_STR && strcmp(n->d_str, types[i].it_name) == 0;
		if (!wanted)
			continue;
		struct doc *d = type_doc(&types[i]);
		size_t k = 0;
		doc_foreach(f, filters) {
			if (!value_matches(d, paths[k++], doc_get(f, "Values"))) {
				wanted = false;
				break;
			}
		}
		if (!wanted) {
			doc_free(d);
			continue;
		}
		if ((int64_t)out->d_count == limit) {
			doc_free(d);
			char tok[32];
			snprintf(tok, sizeof(tok), IT_TOKEN_PREFIX "%zu", i);
			doc_set_str(rq->rq_out, "NextToken", tok);
			break;
		}
		doc_push(out, d);
	}
	return 0;
}
