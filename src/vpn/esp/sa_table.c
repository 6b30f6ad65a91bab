/*
 * sa_table — inbound SPI -> SA map for the decrypt path.
 *
 * Fixed-size open addressing with linear probing, sized at creation for
 * max_sas and never grown: a lookup is a hash and a few adjacent slots, no
 * allocation, no lock. Insert and remove are control-plane operations the
 * caller serialises with lookups. SPIs are chosen by us (IKE picks inbound
 * SPIs at random), but the hash still mixes them so that a peer-chosen or
 * sequential SPI space does not cluster. The table borrows SAs.
 */
#include "vpn/esp/esp_internal.h"

#include <stdlib.h>

static inline uint32_t
spi_hash(uint32_t spi)
{
	/* murmur3's finaliser: every input bit affects every output bit */
	spi ^= spi >> 16;
	spi *= 0x85ebca6bu;
	spi ^= spi >> 13;
	spi *= 0xc2b2ae35u;
	spi ^= spi >> 16;
	return spi;
}

struct esp_sa_table *
esp_sa_table_new(uint32_t max_sas)
{
	struct esp_sa_table *t;
	uint32_t slots = 8;

	if (max_sas == 0 || max_sas > (1u << 24))
		return NULL;
	while (slots < 2 * max_sas)
		slots <<= 1;
	t = calloc(1, sizeof(*t) + (size_t)slots * sizeof(t->tb_slots[0]));
	if (t == NULL)
		return NULL;
	t->tb_mask = slots - 1;
	t->tb_max = max_sas;
	return t;
}

void
esp_sa_table_free(struct esp_sa_table *t)
{
	free(t);
}

struct esp_sa *
esp_sa_table_lookup(const struct esp_sa_table *t, uint32_t spi)
{
	/* Terminates: the table is never more than half full. */
	for (uint32_t i = spi_hash(spi) & t->tb_mask;; i = (i + 1) & t->tb_mask) {
		const struct esp_sa_slot *sl = &t->tb_slots[i];

		if (sl->sl_sa == NULL)
			return NULL;
		if (sl->sl_spi == spi)
			return sl->sl_sa;
	}
}

int
esp_sa_table_insert(struct esp_sa_table *t, struct esp_sa *sa)
{
	uint32_t i;

	if (sa == NULL || sa->sa_dir != ESP_DIR_IN || t->tb_count >= t->tb_max)
		return -1;
	for (i = spi_hash(sa->sa_spi) & t->tb_mask; t->tb_slots[i].sl_sa != NULL;
	     i = (i + 1) & t->tb_mask)
		if (t->tb_slots[i].sl_spi == sa->sa_spi)
			return -1;
	t->tb_slots[i].sl_spi = sa->sa_spi;
	t->tb_slots[i].sl_sa = sa;
	t->tb_count++;
	return 0;
}

struct esp_sa *
esp_sa_table_remove(struct esp_sa_table *t, uint32_t spi)
{
	struct esp_sa *sa;
	uint32_t i, j;

	for (i = spi_hash(spi) & t->tb_mask;; i = (i + 1) & t->tb_mask) {
		if (t->tb_slots[i].sl_sa == NULL)
			return NULL;
		if (t->tb_slots[i].sl_spi == spi)
			break;
	}
	sa = t->tb_slots[i].sl_sa;
	/* Backward-shift deletion: move later members of the probe run into
	 * the hole when their home slot is not between the hole and them. */
	for (j = (i + 1) & t->tb_mask; t->tb_slots[j].sl_sa != NULL; j = (j + 1) & t->tb_mask) {
		uint32_t home = spi_hash(t->tb_slots[j].sl_spi) & t->tb_mask;

		if (((j - home) & t->tb_mask) >= ((j - i) & t->tb_mask)) {
			t->tb_slots[i] = t->tb_slots[j];
			i = j;
		}
	}
	t->tb_slots[i].sl_sa = NULL;
	t->tb_slots[i].sl_spi = 0;
	t->tb_count--;
	return sa;
}

uint32_t
esp_sa_table_count(const struct esp_sa_table *t)
{
	return t->tb_count;
}

const struct esp_table_stats *
esp_sa_table_stats(const struct esp_sa_table *t)
{
	return &t->tb_stats;
}
