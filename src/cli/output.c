/*
 * output.c — tables and JSON (output.h).
 */
#include "cli/output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

void table_init(struct table *t, const char *title, size_t ncols, const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	if (ncols > TABLE_COLS_MAX)
		abort();
	t->t_title = title;
	t->t_ncols = ncols;
	for (size_t i = 0; i < ncols; i++)
		t->t_headers[i] = headers[i];
}

void table_row(struct table *t, const char *const *cells)
{
	if (t->t_nrows == t->t_cap) {
		t->t_cap = t->t_cap ? t->t_cap * 2 : 16;
		t->t_cells = realloc(t->t_cells, t->t_cap * t->t_ncols * sizeof(*t->t_cells));
		if (!t->t_cells)
			abort();
	}
	for (size_t i = 0; i < t->t_ncols; i++) {
		const char *c = cells[i] && *cells[i] ? cells[i] : "-";
		char *copy = strdup(c);
		if (!copy)
			abort();
		t->t_cells[t->t_nrows * t->t_ncols + i] = copy;
	}
	t->t_nrows++;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void table_print(struct table *t, FILE *f)
{
	if (t->t_title)
		fprintf(f, "%s\n", t->t_title);
	if (t->t_nrows == 0) {
		fprintf(f, "  (none)\n");
		table_free(t);
		return;
	}
	size_t w[TABLE_COLS_MAX];
	for (size_t c = 0; c < t->t_ncols; c++) {
		w[c] = width(t->t_headers[c]);
		for (size_t r = 0; r < t->t_nrows; r++) {
			size_t cw = width(t->t_cells[r * t->t_ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (size_t r = 0; r <= t->t_nrows; r++) {
		fputs(t->t_title ? "  " : "", f);
		for (size_t c = 0; c < t->t_ncols; c++) {
			const char *s = r == 0 ? t->t_headers[c] : t->t_cells[(r - 1) * t->t_ncols + c];
			if (c + 1 == t->t_ncols)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%s%*s", s, (int)(w[c] - width(s) + 2), "");
		}
	}
	table_free(t);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->t_nrows * t->t_ncols; i++)
		free(t->t_cells[i]);
	free(t->t_cells);
	t->t_cells = NULL;
	t->t_nrows = t->t_cap = 0;
}

static void json_write(const struct doc *d, struct strbuf *sb, int indent)
{
	d = doc_deref(d);
	switch (d->d_type) {
	case DOC_NULL: sb_puts(sb, "null"); return;
	case DOC_STR: sb_json_string(sb, d->d_str); return;
	case DOC_INT: sb_printf(sb, "%" PRId64, d->d_int); return;
	case DOC_BOOL: sb_puts(sb, d->d_int ? "true" : "false"); return;
	case DOC_REF: return;	/* deref'd above */
	case DOC_OBJ:
	case DOC_LIST: {
		bool obj = d->d_type == DOC_OBJ;
		if (!d->d_first) {
			sb_puts(sb, obj ? "{}" : "[]");
			return;
		}
		sb_puts(sb, obj ? "{\n" : "[\n");
		for (const struct doc *c = d->d_first; c; c = c->d_next) {
			sb_printf(sb, "%*s", indent + 4, "");
			if (obj) {
				sb_json_string(sb, c->d_key);
				sb_puts(sb, ": ");
			}
			json_write(c, sb, indent + 4);
			sb_puts(sb, c->d_next ? ",\n" : "\n");
		}
		sb_printf(sb, "%*s%c", indent, "", obj ? '}' : ']');
		return;
	}
	}
}

void json_print(const struct doc *d, FILE *f)
{
	struct strbuf sb = STRBUF_INIT;
	json_write(d, &sb, 0);
	sb_putc(&sb, '\n');
	fwrite(sb.sb_data, 1, sb.sb_len, f);
	sb_free(&sb);
}
