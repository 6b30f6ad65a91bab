/*
 * idmap — a map from strings (resource ids) to uint32 values, for the
 * control plane's builders that resolve thousands of ids against each
 * other (engine_net's plan, net's snapshot): O(1) expected per lookup
 * instead of a scan of an array.
 *
 * Open addressing with linear probing, FNV-1a, kept at most half full
 * (doubles as it fills). Keys are borrowed: each must stay valid and
 * unchanged while the map holds it (the builders key by the ids of the
 * arrays they read, which outlive the map). Not thread-safe; allocation
 * failure aborts, as elsewhere in the control plane.
 */
#ifndef VPCD_BASE_IDMAP_H
#define VPCD_BASE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idmap {
	const char **im_keys;	/* NULL: an empty slot */
	uint32_t *im_vals;
	size_t im_cap;		/* a power of two */
	size_t im_n;
};

/* An empty map with room for about expected keys before it grows. */
void idmap_init(struct idmap *m, size_t expected);
void idmap_free(struct idmap *m);
/* Adds key -> val unless key is there: true when added, false when
 * present (its value unchanged: the first one wins). */
bool idmap_add(struct idmap *m, const char *key, uint32_t val);
/* Adds key -> val, or replaces its value (the last one wins). */
void idmap_set(struct idmap *m, const char *key, uint32_t val);
/* The value of key, or -1 when absent (key NULL: absent). */
int64_t idmap_get(const struct idmap *m, const char *key);

#endif
