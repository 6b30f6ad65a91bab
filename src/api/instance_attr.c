/*
 * instance_attr.c — an instance's attributes: DescribeInstanceAttribute,
 * ModifyInstanceAttribute, DescribeInstanceCreditSpecifications.
 *
 * Where each attribute lives (eni.h names vpcd's keys):
 *   groupSet, sourceDestCheck   the primary ENI's Groups / SourceDestCheck
 *                               (the instance doc's copies follow through
 *                               instance_sync; the router reads the ENI:
 *                               with the check on, a packet neither from
 *                               nor to the instance's address is dropped)
 *   disableApiTermination       INSTANCE_DISABLE_TERMINATION (TerminateInstances
 *                               refuses with OperationNotPermitted)
 *   disableApiStop              INSTANCE_DISABLE_STOP (StopInstances)
 *   instanceInitiatedShutdownBehavior  INSTANCE_SHUTDOWN_BEHAVIOR
 *   userData                    INSTANCE_USER_DATA (base64, as given)
 *   instanceType                InstanceType; changed only while stopped
 *   rootDeviceName, blockDeviceMapping, productCodes, ebsOptimized,
 *   enaSupport, sriovNetSupport, kernel, ramdisk: read from the doc (or
 *   AWS's values for an instance without them); kernel and ramdisk are
 *   never set.
 * A Modify changes one attribute per request, as AWS's does.
 */
#include "api/eni.h"
#include "api/handlers.h"
#include "api/resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define USER_DATA_MAX (16 * 1024 * 4 / 3 + 4)	/* 16 KB of user data, base64 */

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static struct res *require_instance(struct api_req *rq)
{
	const char *id = api_require_str(rq, "InstanceId");
	if (!id)
		return NULL;
	struct res *r = cache_get_typed(api_cache(rq), RT_INSTANCE, id);
	if (!r)
		api_fail(rq, "InvalidInstanceID.NotFound", "The instance ID '%.64s' does not exist", id);
	return r;
}

static const char *state_of(const struct doc *inst)
{
	return doc_get_str(doc_get(inst, "State"), "Name");
}

static void value_str(struct doc *out, const char *member, const char *v)
{
	struct doc *o = doc_set(out, member, doc_obj());
	if (v)
		doc_set_str(o, "Value", v);
}

static void value_bool(struct doc *out, const char *member, bool v)
{
	doc_set_bool(doc_set(out, member, doc_obj()), "Value", v);
}

int handle_DescribeInstanceAttribute(struct api_req *rq)
{
	struct res *inst = require_instance(rq);
	if (!inst)
		return -1;
	const char *attr = api_require_str(rq, "Attribute");
	if (!attr)
		return -1;
	const struct doc *d = inst->r_doc;
	struct doc *out = rq->rq_out;
	doc_set_str(out, "InstanceId", inst->r_id);
	if (str_eq(attr, "instanceType")) {
		value_str(out, "InstanceType", doc_get_str(d, "InstanceType"));
	} else if (str_eq(attr, "userData")) {
		value_str(out, "UserData", doc_get_str(d, INSTANCE_USER_DATA));
	} else if (str_eq(attr, "disableApiTermination")) {
		value_bool(out, "DisableApiTermination", doc_get_bool(d, INSTANCE_DISABLE_TERMINATION, false));
	} else if (str_eq(attr, "disableApiStop")) {
		value_bool(out, "DisableApiStop", doc_get_bool(d, INSTANCE_DISABLE_STOP, false));
	} else if (str_eq(attr, "instanceInitiatedShutdownBehavior")) {
		const char *b = doc_get_str(d, INSTANCE_SHUTDOWN_BEHAVIOR);
		value_str(out, "InstanceInitiatedShutdownBehavior", b ? b : "stop");
	} else if (str_eq(attr, "sourceDestCheck")) {
		value_bool(out, "SourceDestCheck", doc_get_bool(d, "SourceDestCheck", true));
	} else if (str_eq(attr, "groupSet")) {
		struct doc *groups = doc_set(out, "Groups", doc_list());
		doc_foreach(g, doc_get(d, "SecurityGroups")) {
			struct doc *o = doc_push(groups, doc_obj());
			doc_set_str(o, "GroupId", doc_get_str(g, "GroupId"));
			doc_set_str(o, "GroupName", doc_get_str(g, "GroupName"));
		}
	} else if (str_eq(attr, "rootDeviceName")) {
		value_str(out, "RootDeviceName", doc_get_str(d, "RootDeviceName"));
	} else if (str_eq(attr, "blockDeviceMapping")) {
		doc_set(out, "BlockDeviceMappings", doc_clone(doc_get(d, "BlockDeviceMappings")));
		if (!doc_get(out, "BlockDeviceMappings"))
			doc_set(out, "BlockDeviceMappings", doc_list());
	} else if (str_eq(attr, "productCodes")) {
		doc_set(out, "ProductCodes", doc_list());
	} else if (str_eq(attr, "ebsOptimized")) {
		value_bool(out, "EbsOptimized", doc_get_bool(d, "EbsOptimized", false));
	} else if (str_eq(attr, "enaSupport")) {
		value_bool(out, "EnaSupport", doc_get_bool(d, "EnaSupport", true));
	} else if (str_eq(attr, "sriovNetSupport")) {
		value_str(out, "SriovNetSupport", NULL);
	} else if (str_eq(attr, "kernel")) {
		value_str(out, "KernelId", NULL);
	} else if (str_eq(attr, "ramdisk")) {
		value_str(out, "RamdiskId", NULL);
	} else if (str_eq(attr, "enclaveOptions")) {
		doc_set_bool(doc_set(out, "EnclaveOptions", doc_obj()), "Enabled", false);
	} else {
		return api_fail(rq, "InvalidParameterValue",
				"Value (%.64s) for parameter attribute is invalid. Unknown attribute.", attr);
	}
	return 0;
}

/* The attribute a Modify request changes: "Attribute" + "Value", or one of
 * the typed members. Returns the typed member name and sets *value to the
 * node holding Value (or the Groups list); NULL after api_fail. */
static const char *modified_attribute(struct api_req *rq, const struct doc **value, const char **plain)
{
	static const struct {
		const char *member, *attr;
	} attrs[] = {
		{ "SourceDestCheck", "sourceDestCheck" },
		{ "DisableApiTermination", "disableApiTermination" },
		{ "DisableApiStop", "disableApiStop" },
		{ "InstanceType", "instanceType" },
		{ "UserData", "userData" },
		{ "InstanceInitiatedShutdownBehavior", "instanceInitiatedShutdownBehavior" },
		{ "Groups", "groupSet" },
		{ "EbsOptimized", "ebsOptimized" },
		{ "EnaSupport", "enaSupport" },
		{ "SriovNetSupport", "sriovNetSupport" },
		{ "Kernel", "kernel" },
		{ "Ramdisk", "ramdisk" },
		{ "BlockDeviceMappings", "blockDeviceMapping" },
	};
	const char *found = NULL;
	int given = 0;
	*plain = NULL;
	const char *attr = doc_get_str(rq->rq_in, "Attribute");
	for (size_t i = 0; i < ARRAY_LEN(attrs); i++) {
		const struct doc *v = doc_get(rq->rq_in, attrs[i].member);
		if (v) {
			given++;
			found = attrs[i].member;
			*value = v;
		} else if (attr && str_eq(attr, attrs[i].attr)) {
			given++;
			found = attrs[i].member;
			*plain = doc_get_str(rq->rq_in, "Value");
			*value = NULL;
			if (!*plain && strcmp(found, "Groups") != 0) {
				api_fail(rq, "MissingParameter", "The request must contain the parameter value");
				return NULL;
			}
		}
	}
	if (attr && !found) {
		api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter attribute is invalid. Unknown attribute.", attr);
		return NULL;
	}
	if (given != 1) {
		api_fail(rq, given ? "InvalidParameterCombination" : "MissingParameter",
			 given ? "Only one attribute can be modified at a time" : "The request must contain the parameter attribute");
		return NULL;
	}
	return found;
}

static bool bool_text(const char *s, bool *out)
{
	if (str_eq(s, "true") || str_eq(s, "True")) {
		*out = true;
		return true;
	}
	if (str_eq(s, "false") || str_eq(s, "False")) {
		*out = false;
		return true;
	}
	return false;
}

/* The Boolean of a typed member ({Value}) or of the plain Value text. */
static int bool_value(struct api_req *rq, const struct doc *v, const char *plain, const char *attr, bool *out)
{
	if (v) {
		*out = doc_get_bool(v, "Value", false);
		return 0;
	}
	if (!bool_text(plain, out))
		return api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter %s is invalid. Expecting true or false.",
				plain, attr);
	return 0;
}

static int set_primary_eni(struct api_req *rq, const char *instance_id, const char *key, struct doc *value)
{
	struct res *eni = eni_primary_of(rq, instance_id);
	if (!eni) {
		doc_free(value);
		return api_fail(rq, "IncorrectInstanceState", "The instance '%s' has no network interface.", instance_id);
	}
	char eni_id[RESOURCE_ID_MAX], inst[RESOURCE_ID_MAX];
	snprintf(eni_id, sizeof(eni_id), "%s", eni->r_id);
	snprintf(inst, sizeof(inst), "%s", instance_id);
	struct doc *d = doc_clone(eni->r_doc);
	doc_set(d, key, value);
	if (!api_put(rq, RT_ENI, eni_id, d))
		return -1;
	return instance_sync(rq, inst);
}

int handle_ModifyInstanceAttribute(struct api_req *rq)
{
	struct res *inst = require_instance(rq);
	if (!inst)
		return -1;
	const struct doc *v = NULL;
	const char *plain = NULL;
	const char *member = modified_attribute(rq, &v, &plain);
	if (!member)
		return -1;
	char id[RESOURCE_ID_MAX];
	snprintf(id, sizeof(id), "%s", inst->r_id);
	const char *state = state_of(inst->r_doc);
	if (str_eq(state, "terminated") || str_eq(state, "shutting-down"))
		return api_fail(rq, "IncorrectInstanceState", "The instance '%s' is not in a state from which it can be modified.", id);
	bool b;
	if (strcmp(member, "SourceDestCheck") == 0) {
		if (bool_value(rq, v, plain, "sourceDestCheck", &b) < 0)
			return -1;
		return set_primary_eni(rq, id, "SourceDestCheck", doc_bool(b));
	}
	if (strcmp(member, "Groups") == 0) {
		const struct doc *ids = v;
		struct doc *one = NULL;
		if (!ids && plain) {
			one = doc_list();
			doc_push(one, doc_str(plain));
			ids = one;
		}
		if (!ids || !ids->d_count) {
			doc_free(one);
			return api_fail(rq, "MissingParameter", "The request must contain the parameter groupId");
		}
		struct doc *groups = eni_groups_resolve(rq, ids, NULL, doc_get_str(inst->r_doc, "VpcId"));
		doc_free(one);
		if (!groups)
			return -1;
		return set_primary_eni(rq, id, "Groups", groups);
	}
	struct doc *d = doc_clone(inst->r_doc);
	if (strcmp(member, "DisableApiTermination") == 0 || strcmp(member, "DisableApiStop") == 0 ||
	    strcmp(member, "EbsOptimized") == 0 || strcmp(member, "EnaSupport") == 0) {
		const char *key = strcmp(member, "DisableApiTermination") == 0 ? INSTANCE_DISABLE_TERMINATION
				: strcmp(member, "DisableApiStop") == 0 ? INSTANCE_DISABLE_STOP : member;
		if (bool_value(rq, v, plain, member, &b) < 0)
			goto fail;
		if ((strcmp(member, "EbsOptimized") == 0 || strcmp(member, "EnaSupport") == 0) && !str_eq(state, "stopped")) {
			api_fail(rq, "IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id);
			goto fail;
		}
		doc_set_bool(d, key, b);
	} else if (strcmp(member, "InstanceInitiatedShutdownBehavior") == 0) {
		const char *s = v ? doc_get_str(v, "Value") : plain;
		if (!str_eq(s, "stop") && !str_eq(s, "terminate")) {
			api_fail(rq, "InvalidParameterValue",
				 "Value (%.64s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values: stop, terminate.",
				 s ? s : "");
			goto fail;
		}
		doc_set_str(d, INSTANCE_SHUTDOWN_BEHAVIOR, s);
	} else if (strcmp(member, "InstanceType") == 0) {
		const char *s = v ? doc_get_str(v, "Value") : plain;
		if (!s || !*s) {
			api_fail(rq, "MissingParameter", "The request must contain the parameter instanceType");
			goto fail;
		}
		if (!str_eq(state, "stopped")) {
			api_fail(rq, "IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id);
			goto fail;
		}
		if (!instance_type_find(s) && !strchr(s, '.')) {
			api_fail(rq, "InvalidParameterValue", "Value (%.64s) for parameter instanceType is invalid.", s);
			goto fail;
		}
		doc_set_str(d, "InstanceType", s);
		/* a burstable type's credit default follows the new type */
		if (!instance_type_default_credits(s))
			doc_remove(d, INSTANCE_CPU_CREDITS);
	} else if (strcmp(member, "UserData") == 0) {
		const char *s = v ? doc_get_str(v, "Value") : plain;
		if (!str_eq(state, "stopped")) {
			api_fail(rq, "IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id);
			goto fail;
		}
		if (s && strlen(s) > USER_DATA_MAX) {
			api_fail(rq, "InvalidParameterValue", "User data is limited to 16384 bytes");
			goto fail;
		}
		if (s && *s)
			doc_set_str(d, INSTANCE_USER_DATA, s);
		else
			doc_remove(d, INSTANCE_USER_DATA);
	} else {
		api_fail(rq, "InvalidParameterValue", "vpcd does not modify the attribute %s of an instance", member);
		goto fail;
	}
	return api_put(rq, RT_INSTANCE, id, d) ? 0 : -1;
fail:
	doc_free(d);
	return -1;
}

/* --- DescribeInstanceCreditSpecifications -------------------------------------- */

static const char *credits_of(const struct doc *inst)
{
	const char *c = doc_get_str(inst, INSTANCE_CPU_CREDITS);
	return c ? c : instance_type_default_credits(doc_get_str(inst, "InstanceType"));
}

static bool instance_listed(const struct doc *inst)
{
	const char *st = state_of(inst);
	return !str_eq(st, "terminated") && !str_eq(st, "shutting-down");
}

int handle_DescribeInstanceCreditSpecifications(struct api_req *rq)
{
	const struct doc *ids = doc_get(rq->rq_in, "InstanceIds");
	const struct doc *filters = doc_get(rq->rq_in, "Filters");
	doc_foreach(f, filters)
		if (!str_eq(doc_get_str(f, "Name"), "instance-id"))
			return api_fail(rq, "InvalidParameterValue", "The filter '%.64s' is invalid",
					doc_get_str(f, "Name") ? doc_get_str(f, "Name") : "");
	doc_foreach(id, ids) {
		const struct res *r = id->d_type == DOC_STR ? cache_get_typed(api_cache(rq), RT_INSTANCE, id->d_str) : NULL;
		if (!r)
			return api_fail(rq, "InvalidInstanceID.NotFound", "The instance ID '%.64s' does not exist",
					id->d_type == DOC_STR ? id->d_str : "");
		if (!credits_of(r->r_doc))
			return api_fail(rq, "InvalidInstanceType",
					"The specified instance %s does not support burstable performance (its type is %s).", r->r_id,
					doc_get_str(r->r_doc, "InstanceType"));
	}
	if (ids && ids->d_count && doc_get(rq->rq_in, "MaxResults"))
		return api_fail(rq, "InvalidParameterCombination",
				"The parameter instancesSet cannot be used with the parameter maxResults");
	int64_t limit = doc_get_int(rq->rq_in, "MaxResults", INT64_MAX);
	if (doc_get(rq->rq_in, "MaxResults") && (limit < 5 || limit > 1000))
		return api_fail(rq, "InvalidParameterValue",
				"Value ( %lld ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.",
				(long long)limit);
	const char *token = doc_get_str(rq->rq_in, "NextToken");
	int64_t after = 0;
	if (token && *token) {
		char *end;
		after = strncmp(token, "vpcd1.", 6) == 0 ? strtoll(token + 6, &end, 16) : -1;
		if (after <= 0 || *end)
			return api_fail(rq, "InvalidNextToken", "The token '%.80s' is invalid", token);
	}
	struct doc *out = doc_set(rq->rq_out, "InstanceCreditSpecifications", doc_list());
	size_t n;
	struct res **list = cache_list(api_cache(rq), RT_INSTANCE, &n);
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = list[i]->r_doc;
		if (list[i]->r_ord < after || !credits_of(d) || !instance_listed(d))
			continue;
		bool wanted = !ids || !ids->d_count;
		doc_foreach(id, ids)
			wanted |= id->d_type == DOC_STR && str_eq(id->d_str, list[i]->r_id);
		doc_foreach(f, filters) {
			bool any = false;
			doc_foreach(v, doc_get(f, "Values"))
				any |= v->d_type == DOC_STR && str_eq(v->d_str, list[i]->r_id);
			wanted &= any;
		}
		if (!wanted)
			continue;
		if ((int64_t)out->d_count == limit) {
			char tok[48];
			snprintf(tok, sizeof(tok), "vpcd1.%llx", (unsigned long long)list[i]->r_ord);
			doc_set_str(rq->rq_out, "NextToken", tok);
			break;
		}
		struct doc *c = doc_push(out, doc_obj());
		doc_set_str(c, "InstanceId", list[i]->r_id);
		doc_set_str(c, "CpuCredits", credits_of(d));
	}
	return 0;
}
