/*
 * output — how vpcctl prints: aligned tables for people (a title line, a
 * header row, columns padded to the widest cell), and indented JSON for
 * scripts (--output json, keys as the aws CLI prints them).
 */
#ifndef VPCD_CLI_OUTPUT_H
#define VPCD_CLI_OUTPUT_H

#include <stdio.h>

#include "base/doc.h"

#define TABLE_COLS_MAX 12

struct table {
	const char *t_title;	/* borrowed; printed above the header when set */
	size_t t_ncols;
	const char *t_headers[TABLE_COLS_MAX];	/* borrowed */
	char **t_cells;		/* owned, row-major */
	size_t t_nrows, t_cap;
};

/* headers: ncols strings. */
void table_init(struct table *t, const char *title, size_t ncols, const char *const *headers);
/* Adds a row of t_ncols cells (NULL or "" prints as "-"); copies them. */
void table_row(struct table *t, const char *const *cells);
/* Prints and frees. An empty table prints its title and "(none)". */
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

/* JSON with 4-space indentation and a final newline, as `aws --output json`. */
void json_print(const struct doc *d, FILE *f);

#endif
