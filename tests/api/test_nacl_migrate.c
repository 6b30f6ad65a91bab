/*
 * test_nacl_migrate.c — nacl_migrate_associations() over a cache in the
 * layout stored before subnets kept their own ACL association: the ACL
 * docs list {NetworkAclAssociationId, NetworkAclId, SubnetId}. After the
 * migration each subnet names its ACL and association (subnet_nacl_id),
 * the ACLs' lists are empty, and a second run changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/resources.h"

static int64_t ord;

static void put(struct cache *c, const char *type, const char *id, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	assert_non_null(d);
	doc_free(cache_put(c, type, id, ++ord, d));
}

static int cache_store(void *arg, const char *type, const char *id, struct doc *doc)
{
	struct cache *c = arg;
	struct res *r = cache_get(c, id);
	assert_non_null(r);
	doc_free(cache_put(c, type, id, r->r_ord, doc));
	return 0;
}

static void test_migrate_old_layout(void **state)
{
	(void)state;
	struct cache *c = cache_new();
	put(c, "vpc", "vpc-1", "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.0.0/16\"}");
	put(c, "subnet", "subnet-a", "{\"SubnetId\":\"subnet-a\",\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.0.0/24\"}");
	put(c, "subnet", "subnet-b", "{\"SubnetId\":\"subnet-b\",\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.1.0/24\"}");
	put(c, "subnet", "subnet-c", "{\"SubnetId\":\"subnet-c\",\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.96.2.0/24\"}");
	put(c, "network-acl", "acl-def",
	    "{\"NetworkAclId\":\"acl-def\",\"VpcId\":\"vpc-1\",\"IsDefault\":true,\"Entries\":[],\"Associations\":["
	    "{\"NetworkAclAssociationId\":\"aclassoc-a\",\"NetworkAclId\":\"acl-def\",\"SubnetId\":\"subnet-a\"},"
	    "{\"NetworkAclAssociationId\":\"aclassoc-b\",\"NetworkAclId\":\"acl-def\",\"SubnetId\":\"subnet-b\"}]}");
	put(c, "network-acl", "acl-custom",
	    "{\"NetworkAclId\":\"acl-custom\",\"VpcId\":\"vpc-1\",\"IsDefault\":false,\"Entries\":[],\"Associations\":["
	    "{\"NetworkAclAssociationId\":\"aclassoc-c\",\"NetworkAclId\":\"acl-custom\",\"SubnetId\":\"subnet-c\"}]}");
	put(c, "network-acl", "acl-empty",
	    "{\"NetworkAclId\":\"acl-empty\",\"VpcId\":\"vpc-1\",\"IsDefault\":false,\"Entries\":[],\"Associations\":[]}");

	assert_int_equal(nacl_migrate_associations(c, cache_store, c), 5);	/* 3 subnets, 2 ACLs */
	static const char *const want[][3] = {
		{ "subnet-a", "acl-def", "aclassoc-a" },
		{ "subnet-b", "acl-def", "aclassoc-b" },
		{ "subnet-c", "acl-custom", "aclassoc-c" },
	};
	for (size_t i = 0; i < 3; i++) {
		struct res *s = cache_get_typed(c, "subnet", want[i][0]);
		assert_non_null(s);
		assert_string_equal(subnet_nacl_id(s->r_doc), want[i][1]);
		assert_string_equal(doc_get_str(s->r_doc, SUBNET_NACL_ASSOC_ID), want[i][2]);
		assert_string_equal(doc_get_str(s->r_doc, "CidrBlock"), i == 0 ? "10.96.0.0/24" : i == 1 ? "10.96.1.0/24" : "10.96.2.0/24");
	}
	static const char *const acls[] = { "acl-def", "acl-custom", "acl-empty" };
	for (size_t i = 0; i < 3; i++) {
		struct res *a = cache_get_typed(c, "network-acl", acls[i]);
		assert_non_null(a);
		const struct doc *l = doc_get(a->r_doc, "Associations");
		assert_non_null(l);
		assert_int_equal(l->d_count, 0);
		assert_non_null(doc_get(a->r_doc, "Entries"));
	}
	/* the new layout is left alone */
	assert_int_equal(nacl_migrate_associations(c, cache_store, c), 0);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_old_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
