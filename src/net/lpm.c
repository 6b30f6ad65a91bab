/*
 * lpm — longest-prefix match for route tables. Route tables are small
 * (AWS: 50 routes by default, 1000 at most) and read far more often than
 * built, so the table is a sorted array: prefixes grouped by length,
 * longest first, each group sorted by address. A lookup binary-searches
 * each length that is present, longest first: O(L log N), L <= 33, no
 * allocation, no pointer chasing beyond one array.
 */
#include "net/net_int.h"

#include <stdlib.h>
#include <string.h>

static int
lpm_entry_cmp(const void *a, const void *b)
{
	const struct lpm_entry *x = a, *y = b;

	if (x->le_len != y->le_len)
		return x->le_len > y->le_len ? -1 : 1;
	if (x->le_addr != y->le_addr)
		return x->le_addr < y->le_addr ? -1 : 1;
	return 0;
}

int
lpm_build(struct lpm *t, const struct lpm_entry *in, uint32_t n, uint32_t *dup)
{
	memset(t, 0, sizeof(*t));
	if (n == 0)
		return 0;
	t->l_entries = malloc(sizeof(*t->l_entries) * n);
	if (!t->l_entries)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (in[i].le_len > 32) {
			lpm_free(t);
			return -1;
		}
		t->l_entries[i] = in[i];
		t->l_entries[i].le_addr &= net_mask(in[i].le_len);
	}
	qsort(t->l_entries, n, sizeof(*t->l_entries), lpm_entry_cmp);
	t->l_n = n;
	for (uint32_t i = 0; i < n; i++) {
		if (i > 0 && lpm_entry_cmp(&t->l_entries[i - 1], &t->l_entries[i]) == 0) {
			if (dup)	/* report the input index of the duplicate */
				for (uint32_t j = 0; j < n; j++)
					if (in[j].le_value == t->l_entries[i].le_value)
						*dup = j;
			lpm_free(t);
			return -1;
		}
		if (i == 0 || t->l_entries[i - 1].le_len != t->l_entries[i].le_len) {
			t->l_levels[t->l_nlevels].len = t->l_entries[i].le_len;
			t->l_levels[t->l_nlevels].mask = net_mask(t->l_entries[i].le_len);
			t->l_levels[t->l_nlevels].off = i;
			t->l_nlevels++;
		}
		t->l_levels[t->l_nlevels - 1].n++;
	}
	return 0;
}

void
lpm_free(struct lpm *t)
{
	free(t->l_entries);
	memset(t, 0, sizeof(*t));
}

const struct lpm_entry *
lpm_lookup(const struct lpm *t, uint32_t ip)
{
	for (uint8_t l = 0; l < t->l_nlevels; l++) {
		uint32_t key = ip & t->l_levels[l].mask;
		const struct lpm_entry *e = t->l_entries + t->l_levels[l].off;
		uint32_t lo = 0, hi = t->l_levels[l].n;

		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (e[mid].le_addr == key)
				return &e[mid];
			if (e[mid].le_addr < key)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return NULL;
}
