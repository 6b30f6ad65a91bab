/*
 * The template engine: parses a device template (language described in
 * templates/README.md) into a small tree, then renders it with the
 * variables of vars.c.  The whole template is parsed before anything is
 * rendered, so a syntax error anywhere, an unknown filter or map, or a
 * misplaced {{/if}} fails every render, not only the ones that reach it.
 * Unknown variables are errors too (not empty output), with file:line.
 *
 * Bounded: nesting depth TMPL_MAX_DEPTH, filters per value
 * TMPL_MAX_FILTERS.  Everything lives in one arena per render.
 */
#include "cgwconf/cgwconf_int.h"
#include "cgwconf/tmpl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define TMPL_MAX_DEPTH		16	/* nested #if / #each */
#define TMPL_MAX_FILTERS	8	/* per {{value | f | g}} */

struct tmap_entry {
	const char		*me_key;
	const char		*me_value;
	struct tmap_entry	*me_next;
};

struct tmap {
	const char		*tm_name;
	unsigned		 tm_line;
	struct tmap_entry	*tm_entries;
	const char		*tm_default;	/* the "*" entry, or NULL */
	struct tmap		*tm_next;
};

enum filter_kind { F_MAP, F_UPPER, F_LOWER, F_XML, F_NETWORK, F_NETMASK, F_PREFIX, F_WILDCARD };

static const struct {
	const char	*name;
	enum filter_kind kind;
} builtin_filters[] = {
	{ "upper", F_UPPER }, { "lower", F_LOWER }, { "xml", F_XML },
	{ "network", F_NETWORK }, { "netmask", F_NETMASK }, { "prefix", F_PREFIX },
	{ "wildcard", F_WILDCARD },
};

struct filter {
	const char		*fi_name;
	enum filter_kind	 fi_kind;
	const struct tmap	*fi_map;
};

/* A value: a variable path or a "literal", then filters. */
struct vexpr {
	const char	*ve_path;	/* NULL for a literal */
	const char	*ve_literal;
	unsigned	 ve_nfilters;
	struct filter	 ve_filters[TMPL_MAX_FILTERS];
	unsigned	 ve_line;
};

enum cond_op { C_VALUE, C_EQ, C_NE, C_NOT, C_AND, C_OR };

struct cond {
	enum cond_op	 co_op;
	struct vexpr	*co_a, *co_b;	/* C_VALUE, C_EQ, C_NE */
	struct cond	*co_l, *co_r;	/* C_NOT (l), C_AND, C_OR */
};

enum node_kind { N_TEXT, N_VALUE, N_IF, N_EACH, N_FAIL };

struct branch {
	struct cond	*br_cond;	/* NULL for {{#else}} */
	struct node	*br_body;
	struct branch	*br_next;
};

struct node {
	enum node_kind	 nd_kind;
	unsigned	 nd_line;
	struct node	*nd_next;
	const char	*nd_text;	/* N_TEXT; N_FAIL: the message */
	size_t		 nd_len;
	struct vexpr	*nd_value;	/* N_VALUE; N_EACH: the list */
	struct branch	*nd_branches;	/* N_IF */
	const char	*nd_var;	/* N_EACH */
	struct node	*nd_body;	/* N_EACH */
};

/* How a block ended: the tag that closed it. */
enum end_kind { E_EOF, E_ENDIF, E_ELIF, E_ELSE, E_ENDEACH };

struct end_tag {
	enum end_kind	 et_kind;
	unsigned	 et_line;
	const char	*et_arg;	/* E_ELIF: its condition */
	size_t		 et_arglen;
};

struct parser {
	struct arena		*ps_ar;
	const char		*ps_name;
	const char		*ps_p;		/* next unread byte */
	unsigned		 ps_line;	/* line of ps_p */
	unsigned		 ps_depth;
	struct tmap		*ps_maps;
	struct cgw_error	*ps_err;
	bool			 ps_failed;
};

static bool parse_error(struct parser *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool parse_error(struct parser *ps, unsigned line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (ps->ps_failed)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cgw_fail(ps->ps_err, CGW_ERR_TEMPLATE, "%s:%u: %s", ps->ps_name, line, msg);
	ps->ps_failed = true;
	return false;
}

static unsigned count_lines(const char *s, const char *e)
{
	unsigned n = 0;

	for (; s < e; s++)
		n += *s == '\n';
	return n;
}

static void advance(struct parser *ps, const char *to)
{
	ps->ps_line += count_lines(ps->ps_p, to);
	ps->ps_p = to;
}

/* ---- expressions inside a tag ---- */

enum tok_kind { T_END, T_WORD, T_STR, T_EQ, T_NE, T_NOT, T_PIPE, T_BAD };

struct lexer {
	const char	*lx_p, *lx_e;
	enum tok_kind	 lx_kind;
	const char	*lx_tok;	/* T_WORD: start; T_STR: decoded (arena) */
	size_t		 lx_len;
};

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static void lex_next(struct parser *ps, struct lexer *lx)
{
	while (lx->lx_p < lx->lx_e && isspace((unsigned char)*lx->lx_p))
		lx->lx_p++;
	lx->lx_tok = lx->lx_p;
	lx->lx_len = 0;
	if (lx->lx_p >= lx->lx_e) {
		lx->lx_kind = T_END;
	} else if (word_char(*lx->lx_p)) {
		while (lx->lx_p < lx->lx_e && word_char(*lx->lx_p))
			lx->lx_p++;
		lx->lx_kind = T_WORD;
		lx->lx_len = (size_t)(lx->lx_p - lx->lx_tok);
	} else if (*lx->lx_p == '"') {
		/* "text", with \" and \\ as the only escapes */
		char *s = arena_alloc(ps->ps_ar, (size_t)(lx->lx_e - lx->lx_p));
		size_t n = 0;

		lx->lx_p++;
		while (lx->lx_p < lx->lx_e && *lx->lx_p != '"') {
			if (*lx->lx_p == '\\' && lx->lx_p + 1 < lx->lx_e)
				lx->lx_p++;
			s[n++] = *lx->lx_p++;
		}
		if (lx->lx_p >= lx->lx_e) {
			lx->lx_kind = T_BAD;
			return;
		}
		lx->lx_p++;
		s[n] = '\0';
		lx->lx_kind = T_STR;
		lx->lx_tok = s;
		lx->lx_len = n;
	} else if (lx->lx_e - lx->lx_p >= 2 && memcmp(lx->lx_p, "==", 2) == 0) {
		lx->lx_kind = T_EQ;
		lx->lx_p += 2;
	} else if (lx->lx_e - lx->lx_p >= 2 && memcmp(lx->lx_p, "!=", 2) == 0) {
		lx->lx_kind = T_NE;
		lx->lx_p += 2;
	} else if (*lx->lx_p == '!') {
		lx->lx_kind = T_NOT;
		lx->lx_p++;
	} else if (*lx->lx_p == '|') {
		lx->lx_kind = T_PIPE;
		lx->lx_p++;
	} else {
		lx->lx_kind = T_BAD;
		lx->lx_len = 1;
	}
}

static bool tok_is(const struct lexer *lx, const char *word)
{
	return lx->lx_kind == T_WORD && lx->lx_len == strlen(word) &&
	    memcmp(lx->lx_tok, word, lx->lx_len) == 0;
}

static bool is_keyword(const struct lexer *lx)
{
	return tok_is(lx, "and") || tok_is(lx, "or") || tok_is(lx, "not") || tok_is(lx, "as");
}

static struct vexpr *parse_vexpr(struct parser *ps, struct lexer *lx, unsigned line)
{
	struct vexpr *ve = arena_alloc(ps->ps_ar, sizeof(*ve));

	ve->ve_line = line;
	if (lx->lx_kind == T_STR) {
		ve->ve_literal = lx->lx_tok;
	} else if (lx->lx_kind == T_WORD && !is_keyword(lx)) {
		if (isdigit((unsigned char)lx->lx_tok[0]))
			ve->ve_literal = arena_strndup(ps->ps_ar, lx->lx_tok, lx->lx_len);
		else
			ve->ve_path = arena_strndup(ps->ps_ar, lx->lx_tok, lx->lx_len);
	} else if (lx->lx_kind == T_BAD && lx->lx_len == 0) {
		parse_error(ps, line, "unterminated string literal");
		return NULL;
	} else {
		parse_error(ps, line, "expected a variable or a \"string\"");
		return NULL;
	}
	lex_next(ps, lx);
	while (lx->lx_kind == T_PIPE) {
		lex_next(ps, lx);
		if (lx->lx_kind != T_WORD || is_keyword(lx)) {
			parse_error(ps, line, "expected a filter name after '|'");
			return NULL;
		}
		if (ve->ve_nfilters == TMPL_MAX_FILTERS) {
			parse_error(ps, line, "more than %d filters", TMPL_MAX_FILTERS);
			return NULL;
		}
		ve->ve_filters[ve->ve_nfilters++].fi_name =
		    arena_strndup(ps->ps_ar, lx->lx_tok, lx->lx_len);
		lex_next(ps, lx);
	}
	return ve;
}

static struct cond *parse_or(struct parser *ps, struct lexer *lx, unsigned line);

static struct cond *new_cond(struct parser *ps, enum cond_op op)
{
	struct cond *c = arena_alloc(ps->ps_ar, sizeof(*c));

	c->co_op = op;
	return c;
}

static struct cond *parse_unary(struct parser *ps, struct lexer *lx, unsigned line)
{
	struct cond *c;

	if (lx->lx_kind == T_NOT || tok_is(lx, "not")) {
		lex_next(ps, lx);
		c = new_cond(ps, C_NOT);
		c->co_l = parse_unary(ps, lx, line);
		return c->co_l != NULL ? c : NULL;
	}
	c = new_cond(ps, C_VALUE);
	if ((c->co_a = parse_vexpr(ps, lx, line)) == NULL)
		return NULL;
	if (lx->lx_kind == T_EQ || lx->lx_kind == T_NE) {
		c->co_op = lx->lx_kind == T_EQ ? C_EQ : C_NE;
		lex_next(ps, lx);
		if ((c->co_b = parse_vexpr(ps, lx, line)) == NULL)
			return NULL;
	}
	return c;
}

static struct cond *parse_and(struct parser *ps, struct lexer *lx, unsigned line)
{
	struct cond *l = parse_unary(ps, lx, line);

	while (l != NULL && tok_is(lx, "and")) {
		struct cond *c = new_cond(ps, C_AND);

		lex_next(ps, lx);
		c->co_l = l;
		if ((c->co_r = parse_unary(ps, lx, line)) == NULL)
			return NULL;
		l = c;
	}
	return l;
}

static struct cond *parse_or(struct parser *ps, struct lexer *lx, unsigned line)
{
	struct cond *l = parse_and(ps, lx, line);

	while (l != NULL && tok_is(lx, "or")) {
		struct cond *c = new_cond(ps, C_OR);

		lex_next(ps, lx);
		c->co_l = l;
		if ((c->co_r = parse_and(ps, lx, line)) == NULL)
			return NULL;
		l = c;
	}
	return l;
}

static struct cond *parse_condition(struct parser *ps, const char *s, size_t len, unsigned line)
{
	struct lexer lx = { .lx_p = s, .lx_e = s + len };
	struct cond *c;

	lex_next(ps, &lx);
	if (lx.lx_kind == T_END) {
		parse_error(ps, line, "missing condition");
		return NULL;
	}
	c = parse_or(ps, &lx, line);
	if (c != NULL && lx.lx_kind != T_END) {
		parse_error(ps, line, "unexpected '%.*s' in condition",
		    (int)(lx.lx_len ? lx.lx_len : 1), lx.lx_tok);
		return NULL;
	}
	return c;
}

/* ---- the text: tags and the text between them ---- */

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * A block tag ({{#…}}, {{/…}}, {{!…}}) alone on its line takes the whole
 * line with it, so that templates can indent their logic freely.  floor
 * is where the current text run started: a tag with another tag before it
 * on the same line does not stand alone.
 */
static bool standalone(const char *floor, const char *open, const char *after,
    const char **line_start, const char **next)
{
	const char *s = open, *e = after;

	while (s > floor && blank(s[-1]))
		s--;
	/* floor[-1] exists: the text is copied after a '\n' (see below). */
	if (s > floor ? s[-1] != '\n' : floor[-1] != '\n')
		return false;
	while (*e != '\0' && blank(*e))
		e++;
	if (*e != '\n' && *e != '\0')
		return false;
	*line_start = s;
	*next = *e == '\n' ? e + 1 : e;
	return true;
}

static struct node *new_node(struct parser *ps, enum node_kind kind, unsigned line)
{
	struct node *n = arena_alloc(ps->ps_ar, sizeof(*n));

	n->nd_kind = kind;
	n->nd_line = line;
	return n;
}

static struct node *parse_nodes(struct parser *ps, struct end_tag *end);

static bool trim_range(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
	return *s < *e;
}

/* {{#map NAME}} KEY = VALUE lines {{/map}} */
static bool parse_map(struct parser *ps, const char *name, size_t namelen, unsigned line)
{
	const char *close = strstr(ps->ps_p, "{{/map}}");
	const char *ls, *next;
	struct tmap *m;
	unsigned l;

	if (close == NULL)
		return parse_error(ps, line, "{{#map}} without {{/map}}");
	for (size_t i = 0; i < namelen; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return parse_error(ps, line, "bad map name '%.*s'", (int)namelen, name);
	m = arena_alloc(ps->ps_ar, sizeof(*m));
	m->tm_name = arena_strndup(ps->ps_ar, name, namelen);
	m->tm_line = line;
	for (size_t i = 0; i < ARRAY_LEN(builtin_filters); i++)
		if (strcmp(builtin_filters[i].name, m->tm_name) == 0)
			return parse_error(ps, line, "map '%s' has the name of a built-in filter", m->tm_name);
	for (const struct tmap *o = ps->ps_maps; o != NULL; o = o->tm_next)
		if (strcmp(o->tm_name, m->tm_name) == 0)
			return parse_error(ps, line, "map '%s' defined twice (first on line %u)",
			    m->tm_name, o->tm_line);
	l = ps->ps_line;
	for (const char *s = ps->ps_p; s < close; l++) {
		const char *eol = memchr(s, '\n', (size_t)(close - s));
		const char *le = eol != NULL ? eol : close;
		const char *ks = s, *ke, *vs, *ve, *eq;
		struct tmap_entry *en;

		s = eol != NULL ? eol + 1 : close;
		if (!trim_range(&ks, &le) || *ks == '#')
			continue;
		eq = memchr(ks, '=', (size_t)(le - ks));
		if (eq == NULL)
			return parse_error(ps, l, "map '%s': expected KEY = VALUE", m->tm_name);
		ke = eq;
		vs = eq + 1;
		ve = le;
		if (!trim_range(&ks, &ke))
			return parse_error(ps, l, "map '%s': empty key", m->tm_name);
		trim_range(&vs, &ve);
		if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
			vs++;
			ve--;
		}
		if (ke - ks == 1 && *ks == '*') {
			m->tm_default = arena_strndup(ps->ps_ar, vs, (size_t)(ve - vs));
			continue;
		}
		en = arena_alloc(ps->ps_ar, sizeof(*en));
		en->me_key = arena_strndup(ps->ps_ar, ks, (size_t)(ke - ks));
		en->me_value = arena_strndup(ps->ps_ar, vs, (size_t)(ve - vs));
		for (const struct tmap_entry *o = m->tm_entries; o != NULL; o = o->me_next)
			if (strcmp(o->me_key, en->me_key) == 0)
				return parse_error(ps, l, "map '%s': key '%s' twice", m->tm_name, en->me_key);
		en->me_next = m->tm_entries;
		m->tm_entries = en;
	}
	m->tm_next = ps->ps_maps;
	ps->ps_maps = m;
	if (standalone(ps->ps_p, close, close + 8, &ls, &next))
		advance(ps, next);
	else
		advance(ps, close + 8);
	return true;
}

static struct node *parse_if(struct parser *ps, const char *arg, size_t len, unsigned line)
{
	struct node *n = new_node(ps, N_IF, line);
	struct branch **tail = &n->nd_branches;
	struct cond *c = parse_condition(ps, arg, len, line);
	bool seen_else = false;

	if (c == NULL)
		return NULL;
	for (;;) {
		struct end_tag end;
		struct branch *br = arena_alloc(ps->ps_ar, sizeof(*br));

		br->br_cond = c;
		br->br_body = parse_nodes(ps, &end);
		if (ps->ps_failed)
			return NULL;
		*tail = br;
		tail = &br->br_next;
		switch (end.et_kind) {
		case E_ENDIF:
			return n;
		case E_ELIF:
		case E_ELSE:
			if (seen_else) {
				parse_error(ps, end.et_line, "{{#%s}} after {{#else}} (the #if is on line %u)",
				    end.et_kind == E_ELSE ? "else" : "elif", line);
				return NULL;
			}
			if (end.et_kind == E_ELSE) {
				seen_else = true;
				c = NULL;
			} else if ((c = parse_condition(ps, end.et_arg, end.et_arglen, end.et_line)) == NULL) {
				return NULL;
			}
			break;
		case E_ENDEACH:
			parse_error(ps, end.et_line, "{{/each}} closes the {{#if}} of line %u", line);
			return NULL;
		case E_EOF:
			parse_error(ps, line, "{{#if}} without {{/if}}");
			return NULL;
		}
	}
}

static struct node *parse_each(struct parser *ps, const char *arg, size_t len, unsigned line)
{
	struct node *n = new_node(ps, N_EACH, line);
	struct lexer lx = { .lx_p = arg, .lx_e = arg + len };
	struct end_tag end;

	lex_next(ps, &lx);
	if ((n->nd_value = parse_vexpr(ps, &lx, line)) == NULL)
		return NULL;
	if (n->nd_value->ve_path == NULL || n->nd_value->ve_nfilters != 0) {
		parse_error(ps, line, "{{#each}} takes a list variable, without filters");
		return NULL;
	}
	if (!tok_is(&lx, "as")) {
		parse_error(ps, line, "expected {{#each LIST as NAME}}");
		return NULL;
	}
	lex_next(ps, &lx);
	if (lx.lx_kind != T_WORD || is_keyword(&lx) || memchr(lx.lx_tok, '.', lx.lx_len) != NULL ||
	    isdigit((unsigned char)lx.lx_tok[0]) || (lx.lx_len == 4 && memcmp(lx.lx_tok, "loop", 4) == 0)) {
		parse_error(ps, line, "expected a plain name (not 'loop') after 'as'");
		return NULL;
	}
	n->nd_var = arena_strndup(ps->ps_ar, lx.lx_tok, lx.lx_len);
	lex_next(ps, &lx);
	if (lx.lx_kind != T_END) {
		parse_error(ps, line, "unexpected text after {{#each ... as %s", n->nd_var);
		return NULL;
	}
	n->nd_body = parse_nodes(ps, &end);
	if (ps->ps_failed)
		return NULL;
	if (end.et_kind != E_ENDEACH) {
		if (end.et_kind == E_EOF)
			parse_error(ps, line, "{{#each}} without {{/each}}");
		else
			parse_error(ps, end.et_line, "this tag does not belong to the {{#each}} of line %u (missing {{/each}}?)", line);
		return NULL;
	}
	return n;
}

/* Is the tag content "word" or "word ARG"? */
static bool directive(const char *s, size_t len, const char *word, const char **arg, size_t *arglen)
{
	size_t w = strlen(word);

	if (len < w || memcmp(s, word, w) != 0 || (len > w && !isspace((unsigned char)s[w])))
		return false;
	*arg = s + w;
	*arglen = len - w;
	return true;
}

/*
 * Parses text and tags until a closing tag or the end; *end says which.
 * Returns the list of nodes (NULL when empty or on error: see ps_failed).
 */
static struct node *parse_nodes(struct parser *ps, struct end_tag *end)
{
	struct node *head = NULL, **tail = &head;

	if (++ps->ps_depth > TMPL_MAX_DEPTH) {
		parse_error(ps, ps->ps_line, "blocks nested deeper than %d", TMPL_MAX_DEPTH);
		return NULL;
	}
	memset(end, 0, sizeof(*end));
	for (;;) {
		const char *open = strstr(ps->ps_p, "{{");
		const char *close, *text_end, *next, *c, *ce, *arg;
		size_t clen, arglen;
		unsigned line;
		bool block;

		if (open == NULL) {
			size_t len = strlen(ps->ps_p);

			if (len > 0) {
				struct node *t = new_node(ps, N_TEXT, ps->ps_line);

				t->nd_text = ps->ps_p;
				t->nd_len = len;
				*tail = t;
			}
			advance(ps, ps->ps_p + len);
			end->et_kind = E_EOF;
			break;
		}
		line = ps->ps_line + count_lines(ps->ps_p, open);
		close = strstr(open + 2, "}}");
		if (close == NULL) {
			parse_error(ps, line, "'{{' without '}}'");
			break;
		}
		c = open + 2;
		ce = close;
		trim_range(&c, &ce);
		clen = (size_t)(ce - c);
		block = clen > 0 && (*c == '#' || *c == '/' || *c == '!');
		text_end = open;
		next = close + 2;
		if (block) {
			const char *ls, *nx;

			if (standalone(ps->ps_p, open, close + 2, &ls, &nx)) {
				text_end = ls;
				next = nx;
			}
		}
		if (text_end > ps->ps_p) {
			struct node *t = new_node(ps, N_TEXT, ps->ps_line);

			t->nd_text = ps->ps_p;
			t->nd_len = (size_t)(text_end - ps->ps_p);
			*tail = t;
			tail = &t->nd_next;
		}
		advance(ps, next);

		if (clen == 0) {
			parse_error(ps, line, "empty tag '{{}}'");
			break;
		}
		if (*c == '!')
			continue;
		if (directive(c, clen, "/if", &arg, &arglen) || directive(c, clen, "/each", &arg, &arglen) ||
		    directive(c, clen, "#else", &arg, &arglen)) {
			const char *arg_end = arg + arglen;

			if (trim_range(&arg, &arg_end)) {
				parse_error(ps, line, "'{{%.*s}}' takes no argument", (int)clen, c);
				break;
			}
			end->et_kind = c[1] == 'i' ? E_ENDIF : c[1] == 'e' && c[0] == '/' ? E_ENDEACH : E_ELSE;
			end->et_line = line;
			break;
		}
		if (directive(c, clen, "#elif", &arg, &arglen)) {
			end->et_kind = E_ELIF;
			end->et_line = line;
			end->et_arg = arg;
			end->et_arglen = arglen;
			break;
		}
		if (directive(c, clen, "#if", &arg, &arglen)) {
			struct node *n = parse_if(ps, arg, arglen, line);

			if (n == NULL)
				break;
			*tail = n;
			tail = &n->nd_next;
			continue;
		}
		if (directive(c, clen, "#each", &arg, &arglen)) {
			struct node *n = parse_each(ps, arg, arglen, line);

			if (n == NULL)
				break;
			*tail = n;
			tail = &n->nd_next;
			continue;
		}
		if (directive(c, clen, "#map", &arg, &arglen)) {
			const char *ae = arg + arglen;

			if (ps->ps_depth != 1) {
				parse_error(ps, line, "{{#map}} inside a block");
				break;
			}
			if (!trim_range(&arg, &ae)) {
				parse_error(ps, line, "{{#map}} needs a name");
				break;
			}
			if (!parse_map(ps, arg, (size_t)(ae - arg), line))
				break;
			continue;
		}
		if (directive(c, clen, "#fail", &arg, &arglen)) {
			struct lexer lx = { .lx_p = arg, .lx_e = arg + arglen };
			struct node *n = new_node(ps, N_FAIL, line);

			lex_next(ps, &lx);
			if (lx.lx_kind != T_STR) {
				parse_error(ps, line, "{{#fail}} takes a \"message\"");
				break;
			}
			n->nd_text = lx.lx_tok;
			lex_next(ps, &lx);
			if (lx.lx_kind != T_END) {
				parse_error(ps, line, "unexpected text after {{#fail \"...\"");
				break;
			}
			*tail = n;
			tail = &n->nd_next;
			continue;
		}
		if (*c == '#' || *c == '/') {
			size_t w = 1;

			while (w < clen && !isspace((unsigned char)c[w]))
				w++;
			parse_error(ps, line, "unknown directive '{{%.*s}}'", (int)w, c);
			break;
		} else {
			struct lexer lx = { .lx_p = c, .lx_e = ce };
			struct node *n = new_node(ps, N_VALUE, line);

			lex_next(ps, &lx);
			if ((n->nd_value = parse_vexpr(ps, &lx, line)) == NULL)
				break;
			if (lx.lx_kind != T_END) {
				parse_error(ps, line, "unexpected '%.*s' in '{{%.*s}}'",
				    (int)(lx.lx_len ? lx.lx_len : 1), lx.lx_tok, (int)clen, c);
				break;
			}
			*tail = n;
			tail = &n->nd_next;
		}
	}
	ps->ps_depth--;
	return ps->ps_failed ? NULL : head;
}

/* ---- binding filter names to filters, once maps are all known ---- */

static bool bind_vexpr(struct parser *ps, struct vexpr *ve)
{
	if (ve == NULL)
		return true;
	for (unsigned i = 0; i < ve->ve_nfilters; i++) {
		struct filter *f = &ve->ve_filters[i];
		bool found = false;

		for (size_t b = 0; b < ARRAY_LEN(builtin_filters) && !found; b++)
			if (strcmp(builtin_filters[b].name, f->fi_name) == 0) {
				f->fi_kind = builtin_filters[b].kind;
				found = true;
			}
		for (const struct tmap *m = ps->ps_maps; m != NULL && !found; m = m->tm_next)
			if (strcmp(m->tm_name, f->fi_name) == 0) {
				f->fi_kind = F_MAP;
				f->fi_map = m;
				found = true;
			}
		if (!found)
			return parse_error(ps, ve->ve_line, "unknown filter or map '%s'", f->fi_name);
	}
	return true;
}

static bool bind_cond(struct parser *ps, struct cond *c)
{
	if (c == NULL)
		return true;
	return bind_vexpr(ps, c->co_a) && bind_vexpr(ps, c->co_b) &&
	    bind_cond(ps, c->co_l) && bind_cond(ps, c->co_r);
}

static bool bind_nodes(struct parser *ps, struct node *n)
{
	for (; n != NULL; n = n->nd_next) {
		if (!bind_vexpr(ps, n->nd_value) || !bind_nodes(ps, n->nd_body))
			return false;
		for (struct branch *b = n->nd_branches; b != NULL; b = b->br_next)
			if (!bind_cond(ps, b->br_cond) || !bind_nodes(ps, b->br_body))
				return false;
	}
	return true;
}

/* ---- rendering ---- */

struct scope {
	const char	*sc_name;
	const struct tv	*sc_value;
};

struct renderer {
	struct arena		*rn_ar;
	const char		*rn_name;
	struct cgw_error	*rn_err;
	struct strbuf		*rn_out;
	const struct tv		*rn_root;
	struct scope		 rn_scopes[2 * TMPL_MAX_DEPTH];
	unsigned		 rn_nscopes;
	enum cgw_status		 rn_status;	/* of a failed render */
};

static bool render_error(struct renderer *rn, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool render_error(struct renderer *rn, unsigned line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cgw_fail(rn->rn_err, CGW_ERR_TEMPLATE, "%s:%u: %s", rn->rn_name, line, msg);
	return false;
}

static const struct tv *resolve(struct renderer *rn, const struct vexpr *ve)
{
	const char *path = ve->ve_path, *dot = strchr(path, '.');
	size_t seg = dot != NULL ? (size_t)(dot - path) : strlen(path);
	const struct tv *v = NULL;

	for (unsigned i = rn->rn_nscopes; i-- > 0 && v == NULL;)
		if (strlen(rn->rn_scopes[i].sc_name) == seg &&
		    memcmp(rn->rn_scopes[i].sc_name, path, seg) == 0)
			v = rn->rn_scopes[i].sc_value;
	if (v == NULL)
		v = tv_get(rn->rn_root, path, seg);
	while (v != NULL && dot != NULL) {
		const char *s = dot + 1;

		dot = strchr(s, '.');
		seg = dot != NULL ? (size_t)(dot - s) : strlen(s);
		v = tv_get(v, s, seg);
	}
	if (v == NULL)
		render_error(rn, ve->ve_line, "unknown variable '%s'", path);
	return v;
}

static const char *apply_filter(struct renderer *rn, const struct vexpr *ve,
    const struct filter *f, const char *s)
{
	uint32_t net, mask;
	unsigned prefix;
	char ip[CGW_IP_LEN];
	char *r;

	switch (f->fi_kind) {
	case F_MAP:
		for (const struct tmap_entry *e = f->fi_map->tm_entries; e != NULL; e = e->me_next)
			if (strcmp(e->me_key, s) == 0)
				return e->me_value;
		if (f->fi_map->tm_default != NULL)
			return f->fi_map->tm_default;
		render_error(rn, ve->ve_line, "map '%s' (line %u) has no entry for '%s'",
		    f->fi_map->tm_name, f->fi_map->tm_line, s);
		return NULL;
	case F_UPPER:
	case F_LOWER:
		r = arena_strdup(rn->rn_ar, s);
		for (char *p = r; *p != '\0'; p++)
			*p = (char)(f->fi_kind == F_UPPER ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
		return r;
	case F_XML: {
		struct strbuf b = STRBUF_SECRET_INIT;

		sb_xml_escape(&b, s);
		r = arena_strdup(rn->rn_ar, sb_str(&b));
		sb_free(&b);
		return r;
	}
	case F_NETWORK:
	case F_NETMASK:
	case F_PREFIX:
	case F_WILDCARD:
		if (!cgw_parse_cidr(s, &net, &prefix)) {
			render_error(rn, ve->ve_line, "filter '%s': '%s' is not an IPv4 CIDR", f->fi_name, s);
			return NULL;
		}
		mask = cgw_prefix_mask(prefix);
		if (f->fi_kind == F_PREFIX)
			return arena_printf(rn->rn_ar, "%u", prefix);
		cgw_format_ip(f->fi_kind == F_NETWORK ? (net & mask) :
		    f->fi_kind == F_NETMASK ? mask : ~mask, ip);
		return arena_strdup(rn->rn_ar, ip);
	}
	return NULL;
}

/* The text of a value; NULL on error (reported). */
static const char *eval_text(struct renderer *rn, const struct vexpr *ve)
{
	const char *s = ve->ve_literal;

	if (ve->ve_path != NULL) {
		const struct tv *v = resolve(rn, ve);

		if (v == NULL)
			return NULL;
		switch (v->tv_kind) {
		case TV_STR:
			s = v->tv_str;
			break;
		case TV_BOOL:
			s = v->tv_bool ? "true" : "false";
			break;
		case TV_LIST:
			render_error(rn, ve->ve_line, "'%s' is a list: use {{#each %s as NAME}}",
			    ve->ve_path, ve->ve_path);
			return NULL;
		case TV_OBJ:
			render_error(rn, ve->ve_line, "'%s' is a group of variables, not a value",
			    ve->ve_path);
			return NULL;
		}
	}
	for (unsigned i = 0; i < ve->ve_nfilters && s != NULL; i++)
		s = apply_filter(rn, ve, &ve->ve_filters[i], s);
	return s;
}

/* 1 true, 0 false, -1 error. */
static int eval_cond(struct renderer *rn, const struct cond *c)
{
	const char *a, *b;
	int l, r;

	switch (c->co_op) {
	case C_VALUE:
		if (c->co_a->ve_path != NULL && c->co_a->ve_nfilters == 0) {
			const struct tv *v = resolve(rn, c->co_a);

			if (v == NULL)
				return -1;
			switch (v->tv_kind) {
			case TV_BOOL: return v->tv_bool;
			case TV_STR:  return v->tv_str[0] != '\0';
			case TV_LIST: return v->tv_count > 0;
			case TV_OBJ:  return 1;
			}
		}
		a = eval_text(rn, c->co_a);
		return a == NULL ? -1 : a[0] != '\0';
	case C_EQ:
	case C_NE:
		if ((a = eval_text(rn, c->co_a)) == NULL || (b = eval_text(rn, c->co_b)) == NULL)
			return -1;
		return (strcmp(a, b) == 0) == (c->co_op == C_EQ);
	case C_NOT:
		l = eval_cond(rn, c->co_l);
		return l < 0 ? -1 : !l;
	case C_AND:
	case C_OR:
		if ((l = eval_cond(rn, c->co_l)) < 0)
			return -1;
		if (l == (c->co_op == C_OR))
			return l;
		r = eval_cond(rn, c->co_r);
		return r;
	}
	return -1;
}

static bool render_nodes(struct renderer *rn, const struct node *n);

static bool render_each(struct renderer *rn, const struct node *n)
{
	const struct tv *list = resolve(rn, n->nd_value);
	unsigned i = 0;

	if (list == NULL)
		return false;
	if (list->tv_kind != TV_LIST)
		return render_error(rn, n->nd_line, "'%s' is not a list", n->nd_value->ve_path);
	for (const struct tv *item = list->tv_first; item != NULL; item = item->tv_next, i++) {
		struct tv *loop = tv_new_obj(rn->rn_ar);
		bool ok;

		tv_add_str(rn->rn_ar, loop, "index", arena_printf(rn->rn_ar, "%u", i));
		tv_add_str(rn->rn_ar, loop, "number", arena_printf(rn->rn_ar, "%u", i + 1));
		tv_add_bool(rn->rn_ar, loop, "first", i == 0);
		tv_add_bool(rn->rn_ar, loop, "last", item->tv_next == NULL);
		rn->rn_scopes[rn->rn_nscopes++] = (struct scope){ n->nd_var, item };
		rn->rn_scopes[rn->rn_nscopes++] = (struct scope){ "loop", loop };
		ok = render_nodes(rn, n->nd_body);
		rn->rn_nscopes -= 2;
		if (!ok)
			return false;
	}
	return true;
}

static bool render_nodes(struct renderer *rn, const struct node *n)
{
	for (; n != NULL; n = n->nd_next) {
		const char *s;

		switch (n->nd_kind) {
		case N_TEXT:
			sb_append(rn->rn_out, n->nd_text, n->nd_len);
			break;
		case N_VALUE:
			if ((s = eval_text(rn, n->nd_value)) == NULL)
				return false;
			sb_puts(rn->rn_out, s);
			break;
		case N_IF:
			for (const struct branch *b = n->nd_branches; b != NULL; b = b->br_next) {
				int t = b->br_cond != NULL ? eval_cond(rn, b->br_cond) : 1;

				if (t < 0)
					return false;
				if (t) {
					if (!render_nodes(rn, b->br_body))
						return false;
					break;
				}
			}
			break;
		case N_EACH:
			if (!render_each(rn, n))
				return false;
			break;
		case N_FAIL:
			/* The template's own verdict: the device cannot do this. */
			cgw_fail(rn->rn_err, CGW_ERR_UNSUPPORTED, "%s", n->nd_text);
			rn->rn_status = CGW_ERR_UNSUPPORTED;
			return false;
		}
	}
	return true;
}

enum cgw_status cgw_template_render(const struct cgw_vpn_connection *conn,
    unsigned ike_version, const char *name, unsigned first_line,
    const char *text, struct strbuf *out, struct cgw_error *err)
{
	struct arena ar = { NULL };
	/* A leading '\n' makes "start of text" look like "start of a line". */
	char *src = arena_alloc(&ar, strlen(text) + 2);
	struct parser ps = { .ps_ar = &ar, .ps_name = name, .ps_line = first_line, .ps_err = err };
	struct renderer rn = { .rn_ar = &ar, .rn_name = name, .rn_err = err, .rn_out = out,
	    .rn_status = CGW_ERR_TEMPLATE };
	struct end_tag end;
	struct node *doc;
	bool ok = false;

	out->sb_secret = true;	/* it will hold the keys */
	src[0] = '\n';
	strcpy(src + 1, text);
	ps.ps_p = src + 1;
	doc = parse_nodes(&ps, &end);
	if (!ps.ps_failed && end.et_kind != E_EOF)
		parse_error(&ps, end.et_line, "'%s' without a matching opening tag",
		    end.et_kind == E_ENDIF ? "{{/if}}" : end.et_kind == E_ENDEACH ? "{{/each}}" :
		    end.et_kind == E_ELSE ? "{{#else}}" : "{{#elif}}");
	if (!ps.ps_failed && bind_nodes(&ps, doc)) {
		rn.rn_root = cgw_vars_build(&ar, conn, ike_version);
		ok = render_nodes(&rn, doc);
	}
	arena_free(&ar);
	return ok ? CGW_OK : rn.rn_status;
}
