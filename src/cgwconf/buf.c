/*
 * cgw_buf — the growable output string of the renderers.  Control plane
 * only: it allocates, doubling its capacity.  Since what it holds usually
 * contains pre-shared keys, every buffer it lets go of is wiped first.
 */
#include "cgwconf/cgwconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static void cgw_buf_reserve(struct cgw_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX / 2 - b->cb_len - 1)
		abort();
	need = b->cb_len + extra + 1;
	if (need <= b->cb_cap)
		return;
	cap = b->cb_cap ? b->cb_cap : 256;
	while (cap < need)
		cap *= 2;
	/* Not realloc: the old block would be freed unwiped. */
	p = malloc(cap);
	if (p == NULL)
		abort();
	if (b->cb_data != NULL) {
		memcpy(p, b->cb_data, b->cb_len + 1);
		secret_wipe(b->cb_data, b->cb_cap);
		free(b->cb_data);
	} else {
		p[0] = '\0';
	}
	b->cb_data = p;
	b->cb_cap = cap;
}

void cgw_buf_append(struct cgw_buf *b, const char *s, size_t len)
{
	cgw_buf_reserve(b, len);
	memcpy(b->cb_data + b->cb_len, s, len);
	b->cb_len += len;
	b->cb_data[b->cb_len] = '\0';
}

void cgw_buf_puts(struct cgw_buf *b, const char *s)
{
	cgw_buf_append(b, s, strlen(s));
}

void cgw_buf_printf(struct cgw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	cgw_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->cb_data + b->cb_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->cb_len += (size_t)n;
}

const char *cgw_buf_str(const struct cgw_buf *b)
{
	return b->cb_data != NULL ? b->cb_data : "";
}

char *cgw_buf_detach(struct cgw_buf *b)
{
	char *p = b->cb_data;

	if (p == NULL) {
		p = calloc(1, 1);
		if (p == NULL)
			abort();
	}
	b->cb_data = NULL;
	b->cb_len = b->cb_cap = 0;
	return p;
}

void cgw_buf_free(struct cgw_buf *b)
{
	if (b->cb_data != NULL) {
		secret_wipe(b->cb_data, b->cb_cap);
		free(b->cb_data);
	}
	b->cb_data = NULL;
	b->cb_len = b->cb_cap = 0;
}
