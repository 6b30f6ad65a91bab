/*
 * free_watch — tells whether a block was wiped before it was freed. The
 * test binaries that use it link with -Wl,--wrap=free: every free() of the
 * code under test (libbase's too) comes to __wrap_free first, which looks
 * at the watched blocks' bytes while they are still allocated (so that
 * ASan has nothing to say), then frees through __real_free.
 */
#ifndef VPCD_TEST_FREE_WATCH_H
#define VPCD_TEST_FREE_WATCH_H

#include <stddef.h>

enum free_watch_result {
	FW_NOT_FREED,	/* not freed since watched */
	FW_WIPED,	/* the watched bytes were all zero when it was freed */
	FW_NOT_WIPED,
};

/* Watches bytes[0, len), which lie inside the block that free() will be
 * given as block; returns the watch's slot. At most FREE_WATCH_SLOTS
 * watches between resets. */
#define FREE_WATCH_SLOTS 8
int free_watch(const void *block, const void *bytes, size_t len);
/* What became of the watched block. */
enum free_watch_result free_watch_result(int slot);
/* Forgets every watch. */
void free_watch_reset(void);

#endif
