/*
 * test_doc — the doc tree's parent links and memos (doc.h): every change
 * made through the API drops the memos from the changed node up to its
 * root, and only those; clones and parsed docs have their parents right
 * and no memos. Secret strings, and the memos above them, are wiped before
 * they are freed (free_watch.h sees each free()), however they got in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/doc.h"
#include "free_watch.h"

static void memo(struct doc *d)
{
	doc_memo_set(d, 7, "x", 1);
}

static void test_memo_get_set(void **state)
{
	(void)state;
	struct doc *d = doc_obj();
	assert_null(doc_memo_get(d, 7));
	doc_memo_set(d, 7, "<a>1</a>", 8);
	const struct doc_memo *m = doc_memo_get(d, 7);
	assert_non_null(m);
	assert_int_equal(m->dm_len, 8);
	assert_string_equal(m->dm_text, "<a>1</a>");
	assert_null(doc_memo_get(d, 8));	/* another kind */
	doc_memo_set(d, 8, "", 0);		/* replaces */
	assert_null(doc_memo_get(d, 7));
	assert_non_null(doc_memo_get(d, 8));
	doc_free(d);
}

/* root → list → item → leaf: a change at each level drops the memos at
 * that level and above, not a sibling's. */
static void test_changes_drop_memos_above(void **state)
{
	(void)state;
	struct doc *root = doc_obj();
	struct doc *list = doc_get_list(root, "Items");
	struct doc *item = doc_push(list, doc_obj());
	struct doc *other = doc_push(list, doc_obj());
	doc_set_str(item, "Name", "a");
	assert_ptr_equal(item->d_parent, list);
	assert_ptr_equal(list->d_parent, root);
	assert_null(root->d_parent);

	memo(root), memo(list), memo(item), memo(other);
	doc_set_str(item, "Name", "b");		/* replaces a member */
	assert_null(root->d_memo);
	assert_null(list->d_memo);
	assert_null(item->d_memo);
	assert_non_null(other->d_memo);

	memo(root), memo(list), memo(item);
	doc_set_int(item, "Count", 1);		/* adds a member */
	assert_null(root->d_memo);
	assert_null(item->d_memo);

	memo(root), memo(item);
	assert_true(doc_remove(item, "Count"));
	assert_null(root->d_memo);
	assert_null(item->d_memo);
	memo(root), memo(item);
	assert_false(doc_remove(item, "Count"));	/* nothing changed */
	assert_non_null(root->d_memo);
	assert_non_null(item->d_memo);

	memo(root), memo(list);
	doc_delete_child(list, other);
	assert_null(root->d_memo);
	assert_null(list->d_memo);
	assert_non_null(item->d_memo);

	memo(root), memo(item);
	doc_get_obj(item, "Sub");			/* created by a getter */
	assert_null(root->d_memo);
	memo(root);
	doc_get_obj(item, "Sub");			/* already there: no change */
	assert_non_null(root->d_memo);

	memo(root), memo(item);
	struct doc *sub = doc_get(item, "Sub");
	doc_set_bool(sub, "Deep", true);
	assert_null(root->d_memo);
	assert_null(item->d_memo);
	doc_free(root);
}

static void assert_parents(const struct doc *d)
{
	assert_null(d->d_memo);
	doc_foreach(c, d) {
		assert_ptr_equal(c->d_parent, d);
		assert_parents(c);
	}
}

static void test_clone_and_parse_link_parents(void **state)
{
	(void)state;
	const char *json = "{\"A\":[{\"B\":1},{\"C\":{\"D\":\"x\"}}],\"E\":true}";
	struct doc *d = doc_from_json(json, strlen(json));
	assert_non_null(d);
	assert_parents(d);
	memo(d);
	memo(doc_get(d, "A")->d_first);
	struct doc *c = doc_clone(d);
	assert_null(c->d_parent);
	assert_parents(c);
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	doc_to_json(d, &a);
	doc_to_json(c, &b);
	assert_string_equal(sb_str(&a), sb_str(&b));
	sb_free(&a);
	sb_free(&b);
	doc_free(c);
	doc_free(d);
}

#define KEY1 "Ab3xYz0123456789psk1"
#define KEY2 "Qw9rTy0123456789psk2"

static int watch_str(const struct doc *d)
{
	assert_int_equal(d->d_type, DOC_STR);
	/* a short text lives in its node: the node's free is the one to watch */
	const void *block = d->d_str == d->d_str_inline ? (const void *)d : (const void *)d->d_str;
	return free_watch(block, d->d_str, strlen(d->d_str));
}

static int watch_memo(const struct doc *d, int kind)
{
	const struct doc_memo *m = doc_memo_get(d, kind);
	assert_non_null(m);
	return free_watch(m, m->dm_text, m->dm_len);
}

static void test_secret_str_wiped(void **state)
{
	(void)state;
	free_watch_reset();
	struct doc *d = doc_obj();
	struct doc *k = doc_set_secret_str(d, "Key", KEY1);
	struct doc *plain = doc_set_str(d, "Name", "not a secret");
	assert_true(k->d_secret);
	assert_false(plain->d_secret);
	assert_true(d->d_secret_below);
	int wk = watch_str(k), wp = watch_str(plain);
	doc_free(d);
	assert_int_equal(free_watch_result(wk), FW_WIPED);
	assert_int_equal(free_watch_result(wp), FW_NOT_WIPED);	/* the watch tells them apart */
}

/* PreSharedKey is secret by name: replaced and removed values are wiped. */
static void test_secret_by_key_replaced_and_removed(void **state)
{
	(void)state;
	free_watch_reset();
	assert_true(doc_key_is_secret("PreSharedKey"));
	assert_true(doc_key_is_secret("CustomerGatewayConfiguration"));
	assert_true(doc_key_is_secret("VpnConnectionDeviceSampleConfiguration"));
	assert_false(doc_key_is_secret("PreSharedKeyStorage"));
	assert_false(doc_key_is_secret("P"));
	struct doc *t = doc_obj();
	int w1 = watch_str(doc_set_str(t, "PreSharedKey", KEY1));
	struct doc *k2 = doc_set(t, "PreSharedKey", doc_str(KEY2));
	assert_true(k2->d_secret);
	assert_int_equal(free_watch_result(w1), FW_WIPED);
	int w2 = watch_str(k2);
	assert_true(doc_remove(t, "PreSharedKey"));
	assert_int_equal(free_watch_result(w2), FW_WIPED);
	/* a list item has no key: it is secret only when made so */
	struct doc *l = doc_set(t, "Keys", doc_list());
	int w3 = watch_str(doc_push(l, doc_str_secret(KEY1)));
	doc_delete_child(t, l);
	assert_int_equal(free_watch_result(w3), FW_WIPED);
	doc_free(t);
}

/* doc_str_replace: short texts live in the node, long ones in a block of
 * their own; replacing either way keeps the value right and drops the
 * memos above; a secret's old text, in the node or in its block, is wiped
 * (the block when it is freed, the node's bytes at once). */
static void test_str_replace(void **state)
{
	(void)state;
	char long_text[100];
	memset(long_text, 'L', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	struct doc *o = doc_obj();
	struct doc *v = doc_set_str(o, "Protocol", "tcp");
	assert_ptr_equal(v->d_str, v->d_str_inline);
	doc_memo_set(o, 1, "<x/>", 4);
	doc_str_replace(v, long_text);
	assert_null(doc_memo_get(o, 1));
	assert_string_equal(doc_get_str(o, "Protocol"), long_text);
	assert_ptr_not_equal(v->d_str, v->d_str_inline);
	doc_str_replace(v, "6");
	assert_string_equal(doc_get_str(o, "Protocol"), "6");
	assert_ptr_equal(v->d_str, v->d_str_inline);
	struct doc *c = doc_clone(o);
	assert_string_equal(doc_get_str(c, "Protocol"), "6");
	assert_ptr_equal(doc_get(c, "Protocol")->d_str, doc_get(c, "Protocol")->d_str_inline);
	doc_free(c);

	free_watch_reset();
	struct doc *k = doc_set_secret_str(o, "Key", long_text);
	int w = watch_str(k);
	doc_str_replace(k, KEY1);
	assert_int_equal(free_watch_result(w), FW_WIPED);
	assert_true(k->d_secret);
	assert_string_equal(k->d_str, KEY1);
	doc_str_replace(k, "x");	/* shorter: KEY1's tail must not stay behind it */
	for (size_t i = 2; i < strlen(KEY1); i++)
		assert_int_equal(k->d_str_inline[i], 0);
	doc_str_replace(k, KEY2);
	int w2 = watch_str(k);
	doc_free(o);
	assert_int_equal(free_watch_result(w2), FW_WIPED);
}

/* vpn → Options → TunnelOptions → [0] → PreSharedKey: the memos from the
 * item up to the root may hold the key and are wiped when dropped; a
 * sibling's (Tags) hold none and are merely freed. */
static void test_secret_memos_wiped(void **state)
{
	(void)state;
	free_watch_reset();
	struct doc *vpn = doc_obj();
	struct doc *tags = doc_get_list(vpn, "Tags");
	doc_set_str(doc_push(tags, doc_obj()), "Key", "Name");
	struct doc *list = doc_get_list(doc_get_obj(vpn, "Options"), "TunnelOptions");
	struct doc *item = doc_push(list, doc_obj());
	doc_set_str(item, "OutsideIpAddress", "192.0.2.1");
	doc_set_secret_str(item, "PreSharedKey", KEY1);
	assert_true(item->d_secret_below && list->d_secret_below && vpn->d_secret_below);
	assert_false(tags->d_secret_below);
	doc_memo_set(vpn, 7, "<k>" KEY1 "</k>", strlen(KEY1) + 7);
	doc_memo_set(item, 7, "<k>" KEY1 "</k>", strlen(KEY1) + 7);
	doc_memo_set(tags, 7, "<t>Name</t>", 11);
	int wv = watch_memo(vpn, 7), wi = watch_memo(item, 7), wt = watch_memo(tags, 7);
	doc_set_str(item, "OutsideIpAddress", "192.0.2.2");	/* drops item's and vpn's */
	assert_int_equal(free_watch_result(wv), FW_WIPED);
	assert_int_equal(free_watch_result(wi), FW_WIPED);
	assert_int_equal(free_watch_result(wt), FW_NOT_FREED);
	/* replaced by another memo, and freed with the doc */
	doc_memo_set(item, 7, "<k>" KEY1 "</k>", strlen(KEY1) + 7);
	wi = watch_memo(item, 7);
	doc_memo_set(item, 8, "<k>" KEY2 "</k>", strlen(KEY2) + 7);
	assert_int_equal(free_watch_result(wi), FW_WIPED);
	wi = watch_memo(item, 8);
	doc_free(vpn);
	assert_int_equal(free_watch_result(wi), FW_WIPED);
	assert_int_equal(free_watch_result(wt), FW_NOT_WIPED);
}

/* Parsed docs (the store's load) mark their secrets by name; clones keep
 * them; the JSON of a doc holding one goes to a secret buffer. */
static void test_secret_parse_clone_json(void **state)
{
	(void)state;
	free_watch_reset();
	const char *json = "{\"Options\":{\"TunnelOptions\":[{\"OutsideIpAddress\":\"192.0.2.1\","
			   "\"PreSharedKey\":\"" KEY1 "\"}]},\"CustomerGatewayConfiguration\":\"<x>" KEY1 "</x>\","
			   "\"Tags\":[{\"Key\":\"PreSharedKey\",\"Value\":\"v\"}]}";
	struct doc *d = doc_from_json(json, strlen(json));
	assert_non_null(d);
	struct doc *item = doc_get(doc_get(d, "Options"), "TunnelOptions")->d_first;
	struct doc *k = doc_get(item, "PreSharedKey");
	assert_true(k->d_secret);
	assert_false(doc_get(item, "OutsideIpAddress")->d_secret);
	assert_true(doc_get(d, "CustomerGatewayConfiguration")->d_secret);
	assert_false(doc_get(d, "Tags")->d_secret_below);	/* a value named like a key is not one */
	assert_true(doc_holds_secret(d));

	struct strbuf out = STRBUF_INIT;
	doc_to_json(d, &out);
	assert_true(out.sb_secret);
	assert_string_equal(sb_str(&out), json);
	sb_free(&out);
	struct strbuf plain = STRBUF_INIT;
	doc_to_json(doc_get(d, "Tags"), &plain);
	assert_false(plain.sb_secret);
	sb_free(&plain);

	struct doc *c = doc_clone(d);
	struct doc *ck = doc_get(doc_get(doc_get(c, "Options"), "TunnelOptions")->d_first, "PreSharedKey");
	assert_true(ck->d_secret);
	assert_true(c->d_secret_below);
	/* a ref to a doc holding a secret: its new parents know */
	struct doc *l = doc_list();
	doc_push(l, doc_ref(d));
	assert_true(l->d_secret_below);
	doc_free(l);

	int wk = watch_str(k), wc = watch_str(ck);
	doc_free(d);
	doc_free(c);
	assert_int_equal(free_watch_result(wk), FW_WIPED);
	assert_int_equal(free_watch_result(wc), FW_WIPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo_get_set),
		cmocka_unit_test(test_changes_drop_memos_above),
		cmocka_unit_test(test_clone_and_parse_link_parents),
		cmocka_unit_test(test_secret_str_wiped),
		cmocka_unit_test(test_secret_by_key_replaced_and_removed),
		cmocka_unit_test(test_secret_memos_wiped),
		cmocka_unit_test(test_secret_parse_clone_json),
		cmocka_unit_test(test_str_replace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
