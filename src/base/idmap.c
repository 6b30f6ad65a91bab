/*
 * idmap.c — string -> uint32 map by open addressing (idmap.h).
 */
#include "base/idmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static void *alloc_zero(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p)
		abort();
	return p;
}

void idmap_init(struct idmap *m, size_t expected)
{
	size_t cap = 16;
	while (cap < expected * 2)
		cap *= 2;
	m->im_keys = alloc_zero(cap, sizeof(*m->im_keys));
	m->im_vals = alloc_zero(cap, sizeof(*m->im_vals));
	m->im_cap = cap;
	m->im_n = 0;
}

void idmap_free(struct idmap *m)
{
	free(m->im_keys);
	free(m->im_vals);
	memset(m, 0, sizeof(*m));
}

/* The slot of key, or the empty slot where it would go. */
static size_t slot_of(const struct idmap *m, const char *key)
{
	size_t mask = m->im_cap - 1, i = (size_t)hash(key) & mask;
	while (m->im_keys[i] && strcmp(m->im_keys[i], key) != 0)
		i = (i + 1) & mask;
	return i;
}

static void grow(struct idmap *m)
{
	struct idmap bigger;
	idmap_init(&bigger, m->im_cap);	/* twice the slots */
	for (size_t i = 0; i < m->im_cap; i++)
		if (m->im_keys[i]) {
			size_t k = slot_of(&bigger, m->im_keys[i]);
			bigger.im_keys[k] = m->im_keys[i];
			bigger.im_vals[k] = m->im_vals[i];
			bigger.im_n++;
		}
	idmap_free(m);
	*m = bigger;
}

static bool put(struct idmap *m, const char *key, uint32_t val, bool replace)
{
	if ((m->im_n + 1) * 2 > m->im_cap)
		grow(m);
	size_t i = slot_of(m, key);
	if (m->im_keys[i]) {
		if (replace)
			m->im_vals[i] = val;
		return false;
	}
	m->im_keys[i] = key;
	m->im_vals[i] = val;
	m->im_n++;
	return true;
}

bool idmap_add(struct idmap *m, const char *key, uint32_t val) { return put(m, key, val, false); }
void idmap_set(struct idmap *m, const char *key, uint32_t val) { put(m, key, val, true); }

int64_t idmap_get(const struct idmap *m, const char *key)
{
	if (!key || !m->im_cap)
		return -1;
	size_t i = slot_of(m, key);
	return m->im_keys[i] ? (int64_t)m->im_vals[i] : -1;
}
