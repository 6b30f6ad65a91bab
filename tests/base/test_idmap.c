/*
 * test_idmap.c — base/idmap.h against a linear scan over 20,000 ids
 * (present, absent, first-wins add, last-wins set, growth from a small
 * start, lookups after every growth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/idmap.h"

#define N 20000

static char ids[N][24];

static void test_against_scan(void **state)
{
	(void)state;
	struct idmap m;
	idmap_init(&m, 1);	/* grows many times */
	for (size_t i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "subnet-%08zx", i * 2654435761u);
		assert_true(idmap_add(&m, ids[i], (uint32_t)i));
	}
	assert_int_equal(m.im_n, N);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(idmap_get(&m, ids[i]), (int64_t)i);
	/* an equal string at another address finds the same entry */
	char copy[24];
	memcpy(copy, ids[777], sizeof(copy));
	assert_int_equal(idmap_get(&m, copy), 777);
	assert_false(idmap_add(&m, copy, 1));	/* the first wins */
	assert_int_equal(idmap_get(&m, ids[777]), 777);
	idmap_set(&m, copy, 5);			/* the last wins */
	assert_int_equal(idmap_get(&m, ids[777]), 5);
	assert_int_equal(m.im_n, N);
	assert_int_equal(idmap_get(&m, "subnet-absent"), -1);
	assert_int_equal(idmap_get(&m, ""), -1);
	assert_int_equal(idmap_get(&m, NULL), -1);
	idmap_free(&m);
	assert_int_equal(idmap_get(&m, "x"), -1);	/* freed: empty */
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_against_scan) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
