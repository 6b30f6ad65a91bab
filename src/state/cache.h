/*
 * cache.h — the state part's in-memory mirror of the store's resources
 * (state.h is the part's contract), so that reads
 * (Describe*) never touch SQLite. Each resource is a doc in the shape of
 * its Describe item, with keys as botocore member names.
 *
 * Lookup by id is O(1) (open-addressing hash); listing a type walks an
 * array kept in creation order (ord), so paging is a binary search.
 * Not thread-safe: the API thread owns it.
 *
 * Regions: a resource belongs to the region its doc names under
 * CACHE_REGION_KEY (vpcd's own key, never on the wire); one without it
 * belongs to none. The cache keeps, beside each type's array, one array
 * per type and region (same order), so that a region's listing and paging
 * cost what they would if it were alone. While a region view is set
 * (cache_set_region), cache_get/cache_get_typed see only that region's
 * resources and cache_list lists that region's array: every handler of a request runs in its region's view and cannot
 * see, change or collide with another region's resources by id. With no
 * view (NULL, the engine's and the start-up's) everything is seen;
 * cache_get_any/cache_list_all ignore the view (address pools, MAC
 * addresses and other things unique across regions).
 */
#ifndef VPCD_STATE_CACHE_H
#define VPCD_STATE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/doc.h"

#define CACHE_REGION_KEY "_Region"

struct res {
	char *r_id;		/* owned */
	char *r_type;		/* owned */
	const char *r_region;	/* the doc's CACHE_REGION_KEY, interned by the cache; NULL: none */
	int64_t r_ord;		/* creation order; unique */
	struct doc *r_doc;	/* owned */
};

struct cache;

struct cache *cache_new(void);
void cache_free(struct cache *c);

/* NULL when absent or outside the region view. */
struct res *cache_get(const struct cache *c, const char *id);
/* NULL when absent, outside the region view or of another type. */
struct res *cache_get_typed(const struct cache *c, const char *type, const char *id);
/* Borrowed array of the type's resources in ord order (of the region
 * view's region when one is set); valid until the next put of a new id, a
 * remove or a put that moves a resource to another region (replacing the
 * doc of an existing id keeps it valid, though the old doc is gone). *n is
 * 0 (and NULL returned) when there are none. */
struct res **cache_list(const struct cache *c, const char *type, size_t *n);
/* The same, whatever the region view. */
struct res *cache_get_any(const struct cache *c, const char *id);
struct res **cache_list_all(const struct cache *c, const char *type, size_t *n);

/* Calls fn for every resource, whatever the region view, in no order; fn
 * must not put or remove. */
void cache_each(const struct cache *c, void (*fn)(void *ctx, struct res *r), void *ctx);

/* Sets the region view (the string is copied; NULL: every region). */
void cache_set_region(struct cache *c, const char *region);
/* The region view, NULL when none. */
const char *cache_region(const struct cache *c);
/* Index of the first resource with ord >= ord in that array. */
size_t cache_lower_bound(struct res **list, size_t n, int64_t ord);

/* Inserts or replaces (taking ownership of doc), whatever the region view;
 * the resource's region is the new doc's. Returns the previous doc, now
 * owned by the caller, or NULL when the id is new. */
struct doc *cache_put(struct cache *c, const char *type, const char *id, int64_t ord, struct doc *doc);
/* Removes and returns the doc (caller owns it), NULL when absent; whatever
 * the region view. */
struct doc *cache_remove(struct cache *c, const char *id, int64_t *ord_out, char **type_out);

int64_t cache_next_ord(struct cache *c);

/* Derived indexes (e.g. the blocks of each VPC's subnets) follow the cache
 * through watches: fn runs after every put or remove of a resource of the
 * type (old NULL for a new id, new NULL for a removal; both docs valid
 * during the call), and at once for every resource already there, so a
 * watch set after loading sees the same as one set before. Undo goes
 * through put and remove too, so indexes never drift from the docs. */
typedef void (*cache_watch_fn)(void *ctx, const struct res *r, const struct doc *old,
			       const struct doc *new_doc);
#define CACHE_WATCH_MAX 8
void cache_watch(struct cache *c, const char *type, cache_watch_fn fn, void *ctx);
void cache_unwatch(struct cache *c, cache_watch_fn fn, void *ctx);

#endif
