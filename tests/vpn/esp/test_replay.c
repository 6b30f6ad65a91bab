/*
 * Tests for src/vpn/esp/replay.c: the anti-replay window on its own, with
 * no cryptography. Each test drives check-then-advance as the decrypt path
 * does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vpn/esp/replay.h"

/* What the decrypt path does for an authentic packet. */
static enum replay_verdict
receive(struct replay_window *rw, uint32_t seq)
{
	enum replay_verdict v = replay_check(rw, seq);

	if (v == REPLAY_OK)
		assert_true(replay_advance(rw, seq));
	return v;
}

static void
test_sizes(void **state)
{
	struct replay_window rw;

	(void)state;
	assert_int_equal(replay_init(&rw, 0), 64);
	assert_int_equal(replay_init(&rw, 64), 64);
	assert_int_equal(replay_init(&rw, 65), 128);
	assert_int_equal(replay_init(&rw, 1024), 1024);
	assert_int_equal(replay_init(&rw, 2048), 2048);
	assert_int_equal(replay_init(&rw, 5000), 2048);
}

static void
test_in_order(void **state)
{
	struct replay_window rw;

	(void)state;
	replay_init(&rw, 64);
	assert_int_equal(replay_check(&rw, 0), REPLAY_ZERO);
	for (uint32_t s = 1; s <= 10000; s++)
		assert_int_equal(receive(&rw, s), REPLAY_OK);
	assert_int_equal(rw.rw_highest, 10000);
	/* every one of them is now a duplicate or too old */
	for (uint32_t s = 10000 - 63; s <= 10000; s++)
		assert_int_equal(replay_check(&rw, s), REPLAY_DUPLICATE);
	assert_int_equal(replay_check(&rw, 10000 - 64), REPLAY_TOO_OLD);
	assert_int_equal(replay_check(&rw, 1), REPLAY_TOO_OLD);
}

static void
test_out_of_order_within_window(void **state)
{
	struct replay_window rw;

	(void)state;
	replay_init(&rw, 64);
	assert_int_equal(receive(&rw, 100), REPLAY_OK);
	/* 100 - 63 = 37 is the oldest still inside a 64 window */
	assert_int_equal(receive(&rw, 37), REPLAY_OK);
	assert_int_equal(receive(&rw, 36), REPLAY_TOO_OLD);
	for (uint32_t s = 99; s > 37; s -= 3)
		assert_int_equal(receive(&rw, s), REPLAY_OK);
	for (uint32_t s = 99; s > 37; s -= 3)
		assert_int_equal(receive(&rw, s), REPLAY_DUPLICATE);
	/* ones skipped above are still accepted, once */
	assert_int_equal(receive(&rw, 98), REPLAY_OK);
	assert_int_equal(receive(&rw, 98), REPLAY_DUPLICATE);
	assert_int_equal(rw.rw_highest, 100);
}

static void
test_duplicates(void **state)
{
	struct replay_window rw;

	(void)state;
	replay_init(&rw, 128);
	assert_int_equal(receive(&rw, 1), REPLAY_OK);
	assert_int_equal(receive(&rw, 1), REPLAY_DUPLICATE);
	assert_int_equal(receive(&rw, 2), REPLAY_OK);
	assert_int_equal(receive(&rw, 1), REPLAY_DUPLICATE);
	assert_int_equal(receive(&rw, 2), REPLAY_DUPLICATE);
	/* advancing a refused number is a no-op */
	assert_false(replay_advance(&rw, 2));
	assert_false(replay_advance(&rw, 0));
}

static void
test_check_does_not_advance(void **state)
{
	struct replay_window rw;

	(void)state;
	replay_init(&rw, 64);
	assert_int_equal(receive(&rw, 5), REPLAY_OK);
	/* a forged packet far ahead: checked but never advanced */
	assert_int_equal(replay_check(&rw, 1000000), REPLAY_OK);
	assert_int_equal(rw.rw_highest, 5);
	assert_int_equal(receive(&rw, 4), REPLAY_OK);
}

static void
test_window_2048(void **state)
{
	struct replay_window rw;

	(void)state;
	replay_init(&rw, 2048);
	assert_int_equal(receive(&rw, 5000), REPLAY_OK);
	/* left edge: 5000 - 2047 */
	assert_int_equal(receive(&rw, 5000 - 2047), REPLAY_OK);
	assert_int_equal(receive(&rw, 5000 - 2048), REPLAY_TOO_OLD);
	/* every number inside, in reverse, once */
	for (uint32_t s = 4999; s > 5000 - 2047; s--)
		assert_int_equal(receive(&rw, s), REPLAY_OK);
	for (uint32_t s = 5000; s >= 5000 - 2047; s--)
		assert_int_equal(receive(&rw, s), REPLAY_DUPLICATE);
	/* slide by one word's worth and by less than a word */
	assert_int_equal(receive(&rw, 5064), REPLAY_OK);
	assert_int_equal(replay_check(&rw, 5064 - 2047), REPLAY_DUPLICATE);
	assert_int_equal(replay_check(&rw, 5064 - 2048), REPLAY_TOO_OLD);
	assert_int_equal(receive(&rw, 5063), REPLAY_OK);
	assert_int_equal(receive(&rw, 5001), REPLAY_OK);
}

static void
test_large_jumps(void **state)
{
	static const uint32_t sizes[] = { 64, 128, 1024, 2048 };

	(void)state;
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct replay_window rw;
		uint32_t w = sizes[k];

		replay_init(&rw, w);
		for (uint32_t s = 1; s <= 3 * w; s++)
			assert_int_equal(receive(&rw, s), REPLAY_OK);
		/* jump by far more than the ring: nothing old survives as "seen" */
		assert_int_equal(receive(&rw, 1000000), REPLAY_OK);
		for (uint32_t s = 1000000 - w + 1; s < 1000000; s++)
			assert_int_equal(replay_check(&rw, s), REPLAY_OK);
		assert_int_equal(replay_check(&rw, 1000000 - w), REPLAY_TOO_OLD);
		/* jump by exactly the window, and by window + 1 */
		assert_int_equal(receive(&rw, 1000000 + w), REPLAY_OK);
		assert_int_equal(replay_check(&rw, 1000000), REPLAY_TOO_OLD);
		assert_int_equal(receive(&rw, 1000000 + 2 * w + 1), REPLAY_OK);
		/* the window is now [1000000 + w + 2, 1000000 + 2w + 1] */
		assert_int_equal(replay_check(&rw, 1000000 + w + 2), REPLAY_OK);
		assert_int_equal(replay_check(&rw, 1000000 + w + 1), REPLAY_TOO_OLD);
		/* up to the top of the 32-bit space */
		assert_int_equal(receive(&rw, UINT32_MAX), REPLAY_OK);
		assert_int_equal(receive(&rw, UINT32_MAX), REPLAY_DUPLICATE);
		assert_int_equal(receive(&rw, UINT32_MAX - w + 1), REPLAY_OK);
		assert_int_equal(receive(&rw, UINT32_MAX - w), REPLAY_TOO_OLD);
	}
}

/* Against a naive model: a set of seen numbers and the highest one. */
static void
test_against_model(void **state)
{
	static uint8_t seen[1u << 20];
	struct replay_window rw;
	uint32_t highest = 0, x = 12345;

	(void)state;
	replay_init(&rw, 256);
	for (int i = 0; i < 60000; i++) {
		uint32_t s;
		enum replay_verdict want, got;

		x = x * 1103515245u + 12345u;
		/* mostly forward with jitter, sometimes far back */
		s = highest + ((x >> 8) % 300) - 200;
		if (s == 0 || s >= sizeof(seen))
			continue;
		if (s > highest)
			want = REPLAY_OK;
		else if (highest - s >= 256)
			want = REPLAY_TOO_OLD;
		else
			want = seen[s] ? REPLAY_DUPLICATE : REPLAY_OK;
		got = receive(&rw, s);
		assert_int_equal(got, want);
		if (got == REPLAY_OK) {
			seen[s] = 1;
			if (s > highest)
				highest = s;
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order_within_window),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_check_does_not_advance),
		cmocka_unit_test(test_window_2048),
		cmocka_unit_test(test_large_jumps),
		cmocka_unit_test(test_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
