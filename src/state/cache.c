/*
 * cache.c — see cache.h. The hash table holds pointers to struct res and
 * is rebuilt at 50 % load; removal uses backward-shift deletion so no
 * tombstones accumulate. Per-type arrays (one for every region, one per
 * region) are sorted by ord: puts of new resources append (ord only
 * grows), removals memmove (O(n), fine for the tens of thousands of
 * resources a VPC host holds). Region names are interned (a handful; they
 * live as long as the cache), so that a resource's region is compared by
 * pointer.
 */
#include "state/cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct type_list {
	char *tl_type;
	const char *tl_region;	/* interned; NULL: the type's array over every region */
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
	char **c_regions;	/* interned region names */
	size_t c_nregions;
	const char *c_view;	/* the region view (interned), NULL: none */
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
	for (size_t i = 0; i < c->c_nregions; i++)
		free(c->c_regions[i]);
	free(c->c_regions);
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

/* The interned copy of name; NULL when it is not interned and !create. */
static const char *region_intern(struct cache *c, const char *name, bool create)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < c->c_nregions; i++)
		if (strcmp(c->c_regions[i], name) == 0)
			return c->c_regions[i];
	if (!create)
		return NULL;
	char **r = realloc(c->c_regions, (c->c_nregions + 1) * sizeof(*r));
	if (!r)
		abort();
	c->c_regions = r;
	r[c->c_nregions] = strdup(name);
	if (!r[c->c_nregions])
		abort();
	return r[c->c_nregions++];
}

void cache_each(const struct cache *c, void (*fn)(void *ctx, struct res *r), void *ctx)
{
	for (size_t i = 0; i < c->c_nslots; i++)
		if (c->c_slots[i])
			fn(ctx, c->c_slots[i]);
}

void cache_set_region(struct cache *c, const char *region)
{
	c->c_view = region_intern(c, region, true);
}

const char *cache_region(const struct cache *c)
{
	return c->c_view;
}

static bool in_view(const struct cache *c, const struct res *r)
{
	return !c->c_view || r->r_region == c->c_view;
}

struct res *cache_get_any(const struct cache *c, const char *id)
{
	return c->c_slots[slot_of(c, id)];
}

struct res *cache_get(const struct cache *c, const char *id)
{
	struct res *r = cache_get_any(c, id);
	return r && in_view(c, r) ? r : NULL;
}

struct res *cache_get_typed(const struct cache *c, const char *type, const char *id)
{
	struct res *r = cache_get(c, id);
	return r && strcmp(r->r_type, type) == 0 ? r : NULL;
}

static struct type_list *type_list_of(struct cache *c, const char *type, const char *region, int create)
{
	for (size_t i = 0; i < c->c_ntypes; i++)
		if (c->c_types[i].tl_region == region && strcmp(c->c_types[i].tl_type, type) == 0)
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
	t->tl_region = region;
	return t;
}

struct res **cache_list_all(const struct cache *c, const char *type, size_t *n)
{
	struct type_list *t = type_list_of((struct cache *)c, type, NULL, 0);
	*n = t ? t->tl_count : 0;
	return t && t->tl_count ? t->tl_items : NULL;
}

struct res **cache_list(const struct cache *c, const char *type, size_t *n)
{
	if (!c->c_view)
		return cache_list_all(c, type, n);
	struct type_list *t = type_list_of((struct cache *)c, type, c->c_view, 0);
	size_t nreg = t ? t->tl_count : 0;
	*n = nreg;
	return nreg ? t->tl_items : NULL;
}

static void list_insert(struct type_list *t, struct res *r)
{
	if (t->tl_count == t->tl_cap) {
		t->tl_cap = t->tl_cap ? t->tl_cap * 2 : 64;
		t->tl_items = realloc(t->tl_items, t->tl_cap * sizeof(*t->tl_items));
		if (!t->tl_items)
			abort();
	}
	size_t pos = cache_lower_bound(t->tl_items, t->tl_count, r->r_ord);
	memmove(&t->tl_items[pos + 1], &t->tl_items[pos], (t->tl_count - pos) * sizeof(*t->tl_items));
	t->tl_items[pos] = r;
	t->tl_count++;
}

static void list_remove(struct type_list *t, const struct res *r)
{
	size_t pos = cache_lower_bound(t->tl_items, t->tl_count, r->r_ord);
	memmove(&t->tl_items[pos], &t->tl_items[pos + 1], (t->tl_count - pos - 1) * sizeof(*t->tl_items));
	t->tl_count--;
}

static const char *doc_region(struct cache *c, const struct doc *doc)
{
	return region_intern(c, doc ? doc_get_str(doc, CACHE_REGION_KEY) : NULL, true);
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
		const char *region = doc_region(c, doc);
		if (region != r->r_region) {	/* moved (the start-up migration) */
			if (r->r_region)
				list_remove(type_list_of(c, r->r_type, r->r_region, 0), r);
			r->r_region = region;
			if (region)
				list_insert(type_list_of(c, r->r_type, region, 1), r);
		}
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
	r->r_region = doc_region(c, doc);
	c->c_slots[i] = r;
	c->c_count++;
	if (ord >= c->c_next_ord)
		c->c_next_ord = ord + 1;

	list_insert(type_list_of(c, type, NULL, 1), r);
	if (r->r_region)
		list_insert(type_list_of(c, type, r->r_region, 1), r);
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
	list_remove(type_list_of(c, r->r_type, NULL, 0), r);
	if (r->r_region)
		list_remove(type_list_of(c, r->r_type, r->r_region, 0), r);
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
	struct res **list = cache_list_all(c, type, &n);
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
