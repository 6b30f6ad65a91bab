/*
 * test_cache — the in-memory mirror of the store: lookup by id, listing in
 * creation order, and watches, which derived indexes rely on to see every
 * put, replace and remove exactly once; region views.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/doc.h"
#include "state/cache.h"

static struct doc *named(const char *name)
{
	struct doc *d = doc_obj();
	doc_set_str(d, "Name", name);
	return d;
}

static void test_put_get_list_remove(void **state)
{
	(void)state;
	struct cache *c = cache_new();
	char id[32];
	for (int i = 0; i < 3000; i++) {	/* several rehashes */
		snprintf(id, sizeof(id), "subnet-%05d", i);
		assert_null(cache_put(c, "subnet", id, cache_next_ord(c), named(id)));
	}
	assert_null(cache_put(c, "vpc", "vpc-1", cache_next_ord(c), named("v")));
	size_t n;
	struct res **list = cache_list(c, "subnet", &n);
	assert_int_equal(n, 3000);
	for (size_t i = 1; i < n; i++)
		assert_true(list[i - 1]->r_ord < list[i]->r_ord);
	assert_null(cache_get_typed(c, "vpc", "subnet-00007"));
	assert_string_equal(doc_get_str(cache_get(c, "subnet-00007")->r_doc, "Name"), "subnet-00007");
	for (int i = 0; i < 3000; i += 2) {
		snprintf(id, sizeof(id), "subnet-%05d", i);
		doc_free(cache_remove(c, id, NULL, NULL));
	}
	for (int i = 0; i < 3000; i++) {	/* backward-shift deletion kept every chain */
		snprintf(id, sizeof(id), "subnet-%05d", i);
		assert_true((cache_get(c, id) != NULL) == (i % 2 == 1));
	}
	list = cache_list(c, "subnet", &n);
	assert_int_equal(n, 1500);
	cache_free(c);
}

static struct doc *in_region(const char *name, const char *region)
{
	struct doc *d = named(name);
	if (region)
		doc_set_str(d, CACHE_REGION_KEY, region);
	return d;
}

/* A region view sees and lists its region's resources only, in creation
 * order; no view sees all; a put that changes the region moves it. */
static void test_region_views(void **state)
{
	(void)state;
	struct cache *c = cache_new();
	char id[32];
	for (int i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "vpc-%02d", i);
		cache_put(c, "vpc", id, cache_next_ord(c), in_region(id, i % 3 == 0 ? "us-west-2" : "us-east-1"));
	}
	cache_put(c, "vpc", "vpc-none", cache_next_ord(c), in_region("none", NULL));
	size_t n;
	cache_list(c, "vpc", &n);
	assert_int_equal(n, 31);
	cache_set_region(c, "us-west-2");
	assert_string_equal(cache_region(c), "us-west-2");
	struct res **list = cache_list(c, "vpc", &n);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(list[i]->r_region, "us-west-2");
		assert_true(i == 0 || list[i - 1]->r_ord < list[i]->r_ord);
	}
	assert_non_null(cache_get(c, "vpc-03"));
	assert_null(cache_get(c, "vpc-01"));
	assert_null(cache_get_typed(c, "vpc", "vpc-01"));
	assert_null(cache_get(c, "vpc-none"));
	assert_non_null(cache_get_any(c, "vpc-01"));
	cache_list_all(c, "vpc", &n);
	assert_int_equal(n, 31);
	cache_list(c, "subnet", &n);
	assert_int_equal(n, 0);
	/* moved to us-west-2 (the start-up migration's case), then removed */
	doc_free(cache_put(c, "vpc", "vpc-none", 0, in_region("none", "us-west-2")));
	assert_non_null(cache_get(c, "vpc-none"));
	list = cache_list(c, "vpc", &n);
	assert_int_equal(n, 11);
	assert_string_equal(list[10]->r_id, "vpc-none");
	doc_free(cache_remove(c, "vpc-03", NULL, NULL));
	cache_list(c, "vpc", &n);
	assert_int_equal(n, 10);
	cache_set_region(c, "eu-west-1");
	cache_list(c, "vpc", &n);
	assert_int_equal(n, 0);
	cache_set_region(c, NULL);
	assert_null(cache_region(c));
	cache_list(c, "vpc", &n);
	assert_int_equal(n, 30);
	cache_free(c);
}

struct seen {
	int puts, replaces, removes;
	char last[64];
};

static void watch_fn(void *ctx, const struct res *r, const struct doc *old, const struct doc *new_doc)
{
	struct seen *s = ctx;
	assert_true(old || new_doc);
	if (!old)
		s->puts++;
	else if (new_doc)
		s->replaces++;
	else
		s->removes++;
	/* both docs are alive during the call */
	snprintf(s->last, sizeof(s->last), "%s %s>%s", r->r_id, old ? doc_get_str(old, "Name") : "-",
		 new_doc ? doc_get_str(new_doc, "Name") : "-");
}

static void test_watch_sees_every_change(void **state)
{
	(void)state;
	struct cache *c = cache_new();
	cache_put(c, "subnet", "subnet-a", cache_next_ord(c), named("a1"));
	cache_put(c, "vpc", "vpc-a", cache_next_ord(c), named("v"));
	struct seen s = { 0 }, other = { 0 };
	cache_watch(c, "subnet", watch_fn, &s);		/* replays what is there */
	assert_int_equal(s.puts, 1);
	assert_string_equal(s.last, "subnet-a ->a1");
	cache_watch(c, "vpc", watch_fn, &other);
	assert_int_equal(other.puts, 1);

	doc_free(cache_put(c, "subnet", "subnet-a", 0, named("a2")));
	assert_int_equal(s.replaces, 1);
	assert_string_equal(s.last, "subnet-a a1>a2");
	cache_put(c, "subnet", "subnet-b", cache_next_ord(c), named("b1"));
	assert_int_equal(s.puts, 2);
	doc_free(cache_remove(c, "subnet-a", NULL, NULL));
	assert_int_equal(s.removes, 1);
	assert_string_equal(s.last, "subnet-a a2>-");
	assert_null(cache_remove(c, "subnet-a", NULL, NULL));	/* absent: no call */
	assert_int_equal(s.removes, 1);
	assert_int_equal(other.puts + other.replaces + other.removes, 1);	/* other types only */

	cache_unwatch(c, watch_fn, &s);
	cache_put(c, "subnet", "subnet-c", cache_next_ord(c), named("c1"));
	assert_int_equal(s.puts, 2);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_list_remove),
		cmocka_unit_test(test_watch_sees_every_change),
		cmocka_unit_test(test_region_views),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
