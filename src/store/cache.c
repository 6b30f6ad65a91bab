/*
 * cache.c — see cache.h. The hash table holds pointers to struct res and
 * is rebuilt at 50 % load; removal uses backward-shift deletion so no
 * tombstones accumulate. Per-type arrays are sorted by ord: puts of new
 * resources append (ord only grows), removals memmove (O(n), fine for the
 * tens of thousands of resources a VPC host holds).
 */
#include "store/cache.h"

#include <stdlib.h>
#include <string.h>

struct type_list {
	char *tl_type;
	struct res **tl_items;
	size_t tl_count, tl_cap;
};

struct cache {
	struct res **c_slots;
	size_t c_nslots;	/* power of two */
	size_t c_count;
	struct type_list *c_types;
	size_t c_ntypes;
	int64_t c_next_ord;
	struct watch {
		char *w_type;
		cache_watch_fn w_fn;
		void *w_ctx;
	} c_watch[CACHE_WATCH_MAX];
	size_t c_nwatch;
};

static void notify(const struct cache *c, const struct res *r, const struct doc *old, const struct doc *new_doc)
{
	for (size_t i = 0; i < c->c_nwatch; i++)
		if (strcmp(c->c_watch[i].w_type, r->r_type) == 0)
			c->c_watch[i].w_fn(c->c_watch[i].w_ctx, r, old, new_doc);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct cache *cache_new(void)
{
	struct cache *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->c_nslots = 1024;
	c->c_slots = calloc(c->c_nslots, sizeof(*c->c_slots));
	if (!c->c_slots)
		abort();
	c->c_next_ord = 1;
	return c;
}

static void res_free(struct res *r)
{
	free(r->r_id);
	free(r->r_type);
	doc_free(r->r_doc);
	free(r);
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->c_nslots; i++)
		if (c->c_slots[i])
			res_free(c->c_slots[i]);
	for (size_t i = 0; i < c->c_ntypes; i++) {
		free(c->c_types[i].tl_type);
		free(c->c_types[i].tl_items);
	}
	for (size_t i = 0; i < c->c_nwatch; i++)
		free(c->c_watch[i].w_type);
	free(c->c_types);
	free(c->c_slots);
	free(c);
}

static size_t slot_of(const struct cache *c, const char *id)
{
	size_t mask = c->c_nslots - 1;
	size_t i = (size_t)hash_str(id) & mask;
	while (c->c_slots[i] && strcmp(c->c_slots[i]->r_id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

struct res *cache_get(const struct cache *c, const char *id)
{
	return c->c_slots[slot_of(c, id)];
}

struct res *cache_get_typed(const struct cache *c, const char *type, const char *id)
{
	struct res *r = cache_get(c, id);
	return r && strcmp(r->r_type, type) == 0 ? r : NULL;
}

static struct type_list *type_list_of(struct cache *c, const char *type, int create)
{
	for (size_t i = 0; i < c->c_ntypes; i++)
		if (strcmp(c->c_types[i].tl_type, type) == 0)
			return &c->c_types[i];
	if (!create)
		return NULL;
	struct type_list *t = realloc(c->c_types, (c->c_ntypes + 1) * sizeof(*t));
	if (!t)
		abort();
	c->c_types = t;
	t = &c->c_types[c->c_ntypes++];
	memset(t, 0, sizeof(*t));
	t->tl_type = strdup(type);
	return t;
}

struct res **cache_list(const struct cache *c, const char *type, size_t *n)
{
	struct type_list *t = type_list_of((struct cache *)c, type, 0);
	*n = t ? t->tl_count : 0;
	return t && t->tl_count ? t->tl_items : NULL;
}

size_t cache_lower_bound(struct res **list, size_t n, int64_t ord)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (list[mid]->r_ord < ord)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void cache_grow(struct cache *c)
{
	struct res **old = c->c_slots;
	size_t oldn = c->c_nslots;
	c->c_nslots *= 2;
	c->c_slots = calloc(c->c_nslots, sizeof(*c->c_slots));
	if (!c->c_slots)
		abort();
	for (size_t i = 0; i < oldn; i++)
		if (old[i])
			c->c_slots[slot_of(c, old[i]->r_id)] = old[i];
	free(old);
}

struct doc *cache_put(struct cache *c, const char *type, const char *id, int64_t ord, struct doc *doc)
{
	size_t i = slot_of(c, id);
	struct res *r = c->c_slots[i];
	if (r) {
		struct doc *old = r->r_doc;
		r->r_doc = doc;
		notify(c, r, old, doc);
		return old;
	}
	if ((c->c_count + 1) * 2 > c->c_nslots) {
		cache_grow(c);
		i = slot_of(c, id);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->r_id = strdup(id);
	r->r_type = strdup(type);
	r->r_ord = ord;
	r->r_doc = doc;
	c->c_slots[i] = r;
	c->c_count++;
	if (ord >= c->c_next_ord)
		c->c_next_ord = ord + 1;

	struct type_list *t = type_list_of(c, type, 1);
	if (t->tl_count == t->tl_cap) {
		t->tl_cap = t->tl_cap ? t->tl_cap * 2 : 64;
		t->tl_items = realloc(t->tl_items, t->tl_cap * sizeof(*t->tl_items));
		if (!t->tl_items)
			abort();
	}
	size_t pos = cache_lower_bound(t->tl_items, t->tl_count, ord);
	memmove(&t->tl_items[pos + 1], &t->tl_items[pos], (t->tl_count - pos) * sizeof(*t->tl_items));
	t->tl_items[pos] = r;
	t->tl_count++;
	notify(c, r, NULL, doc);
	return NULL;
}

struct doc *cache_remove(struct cache *c, const char *id, int64_t *ord_out, char **type_out)
{
	size_t mask = c->c_nslots - 1;
	size_t i = slot_of(c, id);
	struct res *r = c->c_slots[i];
	if (!r)
		return NULL;
	notify(c, r, r->r_doc, NULL);
	/* backward-shift deletion keeps every probe chain unbroken */
	size_t j = i;
	for (;;) {
		c->c_slots[i] = NULL;
		for (;;) {
			j = (j + 1) & mask;
			if (!c->c_slots[j])
				goto removed;
			size_t home = (size_t)hash_str(c->c_slots[j]->r_id) & mask;
			/* move j back to i unless its home lies cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		c->c_slots[i] = c->c_slots[j];
		i = j;
	}
removed:
	c->c_count--;
	struct type_list *t = type_list_of(c, r->r_type, 0);
	size_t pos = cache_lower_bound(t->tl_items, t->tl_count, r->r_ord);
	memmove(&t->tl_items[pos], &t->tl_items[pos + 1], (t->tl_count - pos - 1) * sizeof(*t->tl_items));
	t->tl_count--;
	struct doc *d = r->r_doc;
	if (ord_out)
		*ord_out = r->r_ord;
	if (type_out)
		*type_out = strdup(r->r_type);
	r->r_doc = NULL;
	res_free(r);
	return d;
}

int64_t cache_next_ord(struct cache *c)
{
	return c->c_next_ord++;
}

void cache_watch(struct cache *c, const char *type, cache_watch_fn fn, void *ctx)
{
	if (c->c_nwatch == CACHE_WATCH_MAX)
		abort();	/* a programming error: raise CACHE_WATCH_MAX */
	c->c_watch[c->c_nwatch++] = (struct watch){ strdup(type), fn, ctx };
	size_t n;
	struct res **list = cache_list(c, type, &n);
	for (size_t i = 0; i < n; i++)
		fn(ctx, list[i], NULL, list[i]->r_doc);
}

void cache_unwatch(struct cache *c, cache_watch_fn fn, void *ctx)
{
	for (size_t i = 0; i < c->c_nwatch; i++)
		if (c->c_watch[i].w_fn == fn && c->c_watch[i].w_ctx == ctx) {
			free(c->c_watch[i].w_type);
			c->c_watch[i] = c->c_watch[--c->c_nwatch];
			return;
		}
}
