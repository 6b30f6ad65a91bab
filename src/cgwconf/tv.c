/*
 * The arena and the value tree of a render (tmpl.h).  Small and
 * short-lived: one render allocates a few tens of kilobytes, all freed and
 * wiped together.
 */
#include "cgwconf/tmpl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define ARENA_CHUNK_SIZE	8192

struct arena_chunk {
	struct arena_chunk	*ac_next;
	size_t			 ac_size;	/* bytes in ac_data */
	size_t			 ac_used;
	max_align_t		 ac_data[];
};

void *arena_alloc(struct arena *ar, size_t size)
{
	struct arena_chunk *c = ar->ar_chunks;
	size_t align = sizeof(max_align_t);
	void *p;

	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	if (c == NULL || c->ac_size - c->ac_used < size) {
		size_t data = size > ARENA_CHUNK_SIZE ? size : ARENA_CHUNK_SIZE;

		c = malloc(sizeof(*c) + data);
		if (c == NULL)
			abort();
		c->ac_size = data;
		c->ac_used = 0;
		c->ac_next = ar->ar_chunks;
		ar->ar_chunks = c;
	}
	p = (char *)c->ac_data + c->ac_used;
	c->ac_used += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *ar, const char *s, size_t len)
{
	char *p = arena_alloc(ar, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_strdup(struct arena *ar, const char *s)
{
	return arena_strndup(ar, s, strlen(s));
}

char *arena_printf(struct arena *ar, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	p = arena_alloc(ar, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_free(struct arena *ar)
{
	struct arena_chunk *c = ar->ar_chunks;

	while (c != NULL) {
		struct arena_chunk *next = c->ac_next;

		secret_wipe(c->ac_data, c->ac_size);
		free(c);
		c = next;
	}
	ar->ar_chunks = NULL;
}

static struct tv *tv_new(struct arena *ar, enum tv_kind kind)
{
	struct tv *v = arena_alloc(ar, sizeof(*v));

	v->tv_kind = kind;
	return v;
}

struct tv *tv_new_obj(struct arena *ar)
{
	return tv_new(ar, TV_OBJ);
}

struct tv *tv_new_list(struct arena *ar)
{
	return tv_new(ar, TV_LIST);
}

static struct tv *tv_link(struct tv *parent, const char *key, struct tv *child)
{
	child->tv_key = key;
	child->tv_next = NULL;
	if (parent->tv_last != NULL)
		parent->tv_last->tv_next = child;
	else
		parent->tv_first = child;
	parent->tv_last = child;
	parent->tv_count++;
	return child;
}

struct tv *tv_add_str(struct arena *ar, struct tv *parent, const char *key, const char *s)
{
	struct tv *v = tv_new(ar, TV_STR);

	v->tv_str = arena_strdup(ar, s);
	return tv_link(parent, key, v);
}

struct tv *tv_add_bool(struct arena *ar, struct tv *parent, const char *key, bool b)
{
	struct tv *v = tv_new(ar, TV_BOOL);

	v->tv_bool = b;
	return tv_link(parent, key, v);
}

struct tv *tv_add_obj(struct arena *ar, struct tv *parent, const char *key)
{
	return tv_link(parent, key, tv_new(ar, TV_OBJ));
}

struct tv *tv_add_list(struct arena *ar, struct tv *parent, const char *key)
{
	return tv_link(parent, key, tv_new(ar, TV_LIST));
}

void tv_add_alias(struct arena *ar, struct tv *parent, const char *key,
    const struct tv *child)
{
	/* A shallow copy shares the children, which are never changed after
	 * the tree is built; the copy gets its own key and sibling link. */
	struct tv *alias = arena_alloc(ar, sizeof(*alias));

	*alias = *child;
	tv_link(parent, key, alias);
}

struct tv *tv_get(const struct tv *obj, const char *key, size_t keylen)
{
	if (obj == NULL || obj->tv_kind != TV_OBJ)
		return NULL;
	for (struct tv *f = obj->tv_first; f != NULL; f = f->tv_next)
		if (f->tv_key != NULL && strlen(f->tv_key) == keylen &&
		    memcmp(f->tv_key, key, keylen) == 0)
			return f;
	return NULL;
}
