/*
 * test_actions — the dispatch table (api/actions.c) finds every action of
 * handlers.h: it is searched by bisection, so an action listed out of
 * order answers InvalidAction (this happened once when two additions met
 * in a rebase).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "api/handlers.h"

static void
test_every_action_is_found(void **state)
{
	(void)state;
#define CHECK(name) do { \
		const struct api_action *a_ = api_action_find(#name); \
		if (!a_ || strcmp(a_->aa_name, #name) != 0) \
			fail_msg("%s is not found: handlers.h must list actions in strcmp order", #name); \
	} while (0);
	API_ACTIONS(CHECK)
#undef CHECK
	assert_null(api_action_find("NoSuchAction"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_every_action_is_found) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
