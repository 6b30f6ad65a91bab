/* free_watch.c — see free_watch.h. Single-threaded, like the tests. */
#include "free_watch.h"

#include <stdbool.h>
#include <stdlib.h>

void __real_free(void *p);
void __wrap_free(void *p);

struct watch {
	const void *w_block;	/* NULL once freed */
	const unsigned char *w_bytes;
	size_t w_len;
	enum free_watch_result w_result;
};

static struct watch watches[FREE_WATCH_SLOTS];
static int watch_count;	/* slots are handed out in order until a reset */

void __wrap_free(void *p)
{
	for (size_t i = 0; p && i < FREE_WATCH_SLOTS; i++) {
		struct watch *w = &watches[i];
		if (w->w_block != p || w->w_result != FW_NOT_FREED)
			continue;
		bool zero = true;
		for (size_t k = 0; k < w->w_len; k++)
			zero = zero && w->w_bytes[k] == 0;
		w->w_result = zero ? FW_WIPED : FW_NOT_WIPED;
		w->w_block = NULL;
	}
	__real_free(p);
}

int free_watch(const void *block, const void *bytes, size_t len)
{
	if (watch_count == FREE_WATCH_SLOTS)
		abort();	/* more watches than slots: a bug in the test */
	watches[watch_count] = (struct watch){ block, bytes, len, FW_NOT_FREED };
	return watch_count++;
}

enum free_watch_result free_watch_result(int slot)
{
	return watches[slot].w_result;
}

void free_watch_reset(void)
{
	for (int i = 0; i < FREE_WATCH_SLOTS; i++)
		watches[i] = (struct watch){ NULL, NULL, 0, FW_NOT_FREED };
	watch_count = 0;
}
