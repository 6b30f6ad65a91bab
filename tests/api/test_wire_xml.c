/*
 * test_wire_xml — wire_write_response() must write exactly the bytes of the
 * plain tree walk it replaced (kept here as the reference): random docs for
 * every operation's output shape, with members in random orders (the member
 * hints miss), unknown and '_' keys, values of the wrong type, refs, empty
 * and long lists (the list reserve), and text that needs escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/wire.h"

/* --- the reference: the serializer as it was --------------------------- */

static int ref_member_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ec2_member *)elem)->m_name);
}

static const struct ec2_member *ref_member_find(const struct ec2_shape *s, const char *name)
{
	return bsearch(name, &ec2_members[s->s_first_member], (size_t)s->s_nmembers, sizeof(struct ec2_member),
		       ref_member_cmp);
}

static void ref_write_value(int shape, const struct doc *d, const char *name, struct strbuf *x)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	d = doc_deref(d);
	if (s->s_type == SH_STRUCT) {
		if (d->d_type != DOC_OBJ)
			return;
		sb_printf(x, "<%s>", name);
		doc_foreach(c, d) {
			const struct ec2_member *m = c->d_key[0] == '_' ? NULL : ref_member_find(s, c->d_key);
			if (m)
				ref_write_value(m->m_shape, c, m->m_xml, x);
		}
		sb_printf(x, "</%s>", name);
		return;
	}
	if (s->s_type == SH_LIST) {
		if (d->d_type != DOC_LIST)
			return;
		if (!d->d_first) {
			sb_printf(x, "<%s/>", name);
			return;
		}
		sb_printf(x, "<%s>", name);
		doc_foreach(c, d)
			ref_write_value(s->s_list_member, c, s->s_item_xml, x);
		sb_printf(x, "</%s>", name);
		return;
	}
	char buf[32];
	const char *text = doc_scalar_text(d, buf, sizeof(buf));
	if (!text)
		return;
	sb_printf(x, "<%s>", name);
	sb_xml_escape(x, text);
	sb_printf(x, "</%s>", name);
}

static void ref_write_response(const struct ec2_operation *op, const struct doc *out, const char *request_id,
			       struct strbuf *x)
{
	sb_printf(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=\"" EC2_XMLNS "\">"
		  "<requestId>%s</requestId>", op->o_name, request_id);
	if (op->o_output >= 0 && ec2_shapes[op->o_output].s_type == SH_STRUCT && out) {
		const struct ec2_shape *s = &ec2_shapes[op->o_output];
		doc_foreach(c, out) {
			const struct ec2_member *m = ref_member_find(s, c->d_key);
			if (m)
				ref_write_value(m->m_shape, c, m->m_xml, x);
		}
	}
	sb_printf(x, "</%sResponse>", op->o_name);
}

/* --- random docs ----------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33) % n;
}

static const char *const texts[] = {
	"", "a", "subnet-0123456789abcdef0", "10.0.0.0/24", "us-east-1a", "<&>\"'", "a&b", "x<y>z",
	"it's \"quoted\"", "&amp;", "trailing&", "<", "unicode é ü ✓", "tab\tnew\nline",
	"arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef0",
};

static struct doc *pool;	/* targets of refs, freed at the end */

static struct doc *random_scalar(void)
{
	switch (rnd(8)) {
	case 0: return doc_int((int64_t)rnd(100000));
	case 1: return doc_int(rnd(2) ? INT64_MIN : INT64_MAX);
	case 2: return doc_int(-(int64_t)rnd(1000));
	case 3: return doc_bool(rnd(2));
	default: return doc_str(texts[rnd(sizeof(texts) / sizeof(texts[0]))]);
	}
}

static struct doc *random_doc(int shape, int depth);

/* Sometimes a ref to a copy kept in the pool, sometimes a node of the
 * wrong type, else the value itself. */
static struct doc *random_member(int shape, int depth)
{
	uint32_t r = rnd(20);
	if (r == 0)
		return doc_obj();
	if (r == 1)
		return doc_list();
	if (r == 2) {
		struct doc *null = doc_obj();
		null->d_type = DOC_NULL;
		return null;
	}
	struct doc *v = random_doc(shape, depth);
	if (r == 3) {
		doc_push(pool, v);
		return doc_ref(v);
	}
	return v;
}

static struct doc *random_doc(int shape, int depth)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	if (s->s_type == SH_STRUCT) {
		struct doc *obj = doc_obj();
		if (depth > 5)
			return obj;
		int n = s->s_nmembers;
		int order[512];
		for (int i = 0; i < n && i < 512; i++)
			order[i] = i;
		/* mostly the generator's order, sometimes shuffled */
		if (rnd(3) == 0)
			for (int i = n - 1; i > 0 && i < 512; i--) {
				int j = (int)rnd((uint32_t)i + 1);
				int t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
		for (int i = 0; i < n && i < 512; i++) {
			if (rnd(4) == 0)
				continue;
			const struct ec2_member *m = &ec2_members[s->s_first_member + order[i]];
			doc_set(obj, m->m_name, random_member(m->m_shape, depth + 1));
			if (rnd(10) == 0)
				doc_set_str(obj, "_private", "hidden");
			if (rnd(15) == 0)
				doc_set_str(obj, "NotAMember", "x");
		}
		return obj;
	}
	if (s->s_type == SH_LIST) {
		struct doc *list = doc_list();
		if (depth > 5)
			return list;
		uint32_t n = rnd(6) == 0 ? 20 + rnd(20) : rnd(4);
		for (uint32_t i = 0; i < n; i++)
			doc_push(list, random_member(s->s_list_member, depth + 1));
		return list;
	}
	return random_scalar();
}

static void assert_same(const struct ec2_operation *op, const struct doc *out)
{
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	ref_write_response(op, out, "req-1", &want);
	wire_write_response(op, out, "req-1", &got);
	if (want.sb_len != got.sb_len || memcmp(want.sb_data, got.sb_data, want.sb_len) != 0)
		fail_msg("%s differs:\nwant %s\ngot  %s", op->o_name, want.sb_data, got.sb_data);
	assert_int_equal(strlen(got.sb_data), got.sb_len);
	sb_free(&want);
	sb_free(&got);
}

static void test_random_outputs(void **state)
{
	(void)state;
	rng_state = 42;
	for (int round = 0; round < 40; round++) {
		for (size_t i = 0; i < ec2_operation_count; i++) {
			const struct ec2_operation *op = &ec2_operations[i];
			pool = doc_list();
			struct doc *out = op->o_output >= 0 ? random_doc(op->o_output, 0) : doc_obj();
			assert_same(op, out);
			assert_same(op, out);	/* the refs' targets now have memos */
			doc_free(out);
			doc_free(pool);
		}
	}
}

/* A long list of refs to docs of one shape, as DescribeSubnets answers
 * them: the hints hit from the second item on, the list reserve runs. */
static void test_describe_subnets_refs(void **state)
{
	(void)state;
	const struct ec2_operation *op = ec2_operation_find("DescribeSubnets");
	assert_non_null(op);
	struct doc *subnets = doc_list();
	struct doc *out = doc_obj();
	struct doc *list = doc_set(out, "Subnets", doc_list());
	for (int i = 0; i < 3000; i++) {
		char id[32];
		snprintf(id, sizeof(id), "subnet-%08x", i);
		struct doc *d = doc_push(subnets, doc_obj());
		doc_set_str(d, "SubnetId", id);
		doc_set_str(d, "CidrBlock", "10.0.0.0/28");
		doc_set_int(d, "AvailableIpAddressCount", 11);
		doc_set_bool(d, "DefaultForAz", i % 2);
		doc_set_str(d, "_NetworkAclId", "acl-1");
		if (i % 7 == 0)
			doc_set_str(d, "OwnerId", "<&>");	/* the hint at this position misses */
		doc_get_list(d, "Ipv6CidrBlockAssociationSet");
		struct doc *tag = doc_push(doc_get_list(d, "Tags"), doc_obj());
		doc_set_str(tag, "Key", "Name");
		doc_set_str(tag, "Value", id);
		doc_push(list, doc_ref(d));
	}
	doc_set_str(out, "NextToken", "vpcd1.abc");
	assert_same(op, out);
	doc_free(out);
	doc_free(subnets);
}

/* The memo of a described doc follows every change made through doc.h,
 * at any depth. */
static void test_memo_follows_changes(void **state)
{
	(void)state;
	const struct ec2_operation *op = ec2_operation_find("DescribeSubnets");
	struct doc *subnet = doc_obj();
	doc_set_str(subnet, "SubnetId", "subnet-1");
	doc_set_str(subnet, "CidrBlock", "10.0.0.0/28");
	struct doc *tags = doc_get_list(subnet, "Tags");
	struct doc *tag = doc_push(tags, doc_obj());
	doc_set_str(tag, "Key", "Name");
	doc_set_str(tag, "Value", "one");
	struct doc *out = doc_obj();
	doc_push(doc_set(out, "Subnets", doc_list()), doc_ref(subnet));

	assert_same(op, out);
	assert_non_null(subnet->d_memo);
	assert_same(op, out);

	doc_set_str(tag, "Value", "two & <three>");		/* replace, two levels down */
	assert_null(subnet->d_memo);
	assert_same(op, out);
	struct doc *tag2 = doc_push(tags, doc_obj());		/* push */
	doc_set_str(tag2, "Key", "k");
	assert_same(op, out);
	assert_true(doc_remove(tag2, "Key"));			/* remove */
	assert_same(op, out);
	doc_delete_child(tags, tag2);				/* delete a child */
	assert_same(op, out);
	doc_set_bool(subnet, "DefaultForAz", true);		/* a new member */
	assert_same(op, out);
	doc_get_obj(subnet, "PrivateDnsNameOptionsOnLaunch");	/* created by a getter */
	assert_same(op, out);
	doc_set(subnet, "Tags", doc_list());			/* a subtree replaced */
	assert_same(op, out);
	assert_non_null(subnet->d_memo);

	struct doc *copy = doc_clone(subnet);			/* clones carry no memo */
	assert_null(copy->d_memo);
	doc_free(copy);
	doc_free(out);
	doc_free(subnet);
}

static void test_no_output_members(void **state)
{
	(void)state;
	const struct ec2_operation *op = ec2_operation_find("DeleteSubnet");
	assert_non_null(op);
	struct doc *out = doc_obj();
	assert_same(op, out);
	assert_same(op, NULL);
	doc_free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_outputs),
		cmocka_unit_test(test_describe_subnets_refs),
		cmocka_unit_test(test_memo_follows_changes),
		cmocka_unit_test(test_no_output_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
