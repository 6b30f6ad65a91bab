/*
 * test_doc — the doc tree's parent links and memos (doc.h): every change
 * made through the API drops the memos from the changed node up to its
 * root, and only those; clones and parsed docs have their parents right
 * and no memos.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/doc.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo_get_set),
		cmocka_unit_test(test_changes_drop_memos_above),
		cmocka_unit_test(test_clone_and_parse_link_parents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
