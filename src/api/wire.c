/*
 * wire.c — form parameters to request docs and response docs to XML, both
 * driven by the generated EC2 model tables (wire.h). Bounded: at most
 * max_params parameters, nesting as deep as the model's shapes.
 */
#include "api/wire.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- form decoding ------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Decodes [s, s+len) into a new string; NULL on a bad %-escape or NUL. */
static char *form_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	if (!out)
		abort();
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				goto bad;
			c = (char)(hi << 4 | lo);
			if (c == '\0')
				goto bad;
			i += 2;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

int query_parse(const char *body, size_t len, size_t max_params, struct query_params *out)
{
	memset(out, 0, sizeof(*out));
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if (stop > p) {
			if (out->qp_count >= max_params)
				goto bad;
			const char *eq = memchr(p, '=', (size_t)(stop - p));
			const char *name_end = eq ? eq : stop;
			char *name = form_decode(p, (size_t)(name_end - p));
			char *value = eq ? form_decode(eq + 1, (size_t)(stop - eq - 1)) : strdup("");
			if (!name || !value) {
				free(name);
				free(value);
				goto bad;
			}
			struct query_param *items = realloc(out->qp_items, (out->qp_count + 1) * sizeof(*items));
			if (!items)
				abort();
			out->qp_items = items;
			items[out->qp_count].qp_name = name;
			items[out->qp_count].qp_value = value;
			out->qp_count++;
		}
		p = stop + 1;
	}
	return 0;
bad:
	query_free(out);
	return -1;
}

const char *query_get(const struct query_params *q, const char *name)
{
	for (size_t i = 0; i < q->qp_count; i++)
		if (strcmp(q->qp_items[i].qp_name, name) == 0)
			return q->qp_items[i].qp_value;
	return NULL;
}

void query_free(struct query_params *q)
{
	for (size_t i = 0; i < q->qp_count; i++) {
		free(q->qp_items[i].qp_name);
		free(q->qp_items[i].qp_value);
	}
	free(q->qp_items);
	memset(q, 0, sizeof(*q));
}

static int op_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ec2_operation *)elem)->o_name);
}

const struct ec2_operation *ec2_operation_find(const char *name)
{
	return bsearch(name, ec2_operations, ec2_operation_count, sizeof(ec2_operations[0]), op_cmp);
}

/* --- parameters to doc ---------------------------------------------------- */

#define LIST_GAP_MAX 1000	/* highest index of a list of structures with gaps */

/* The parameters as a tree of their dotted names: "Filter.1.Name" is
 * Filter → 1 → Name. */
struct pnode {
	char *pn_seg;
	const char *pn_value;	/* borrowed from query_params; NULL for inner nodes */
	struct pnode *pn_child, *pn_next;
	int pn_used;
};

static struct pnode *pnode_child(struct pnode *parent, const char *seg, size_t len, int create)
{
	for (struct pnode *c = parent->pn_child; c; c = c->pn_next)
		if (strlen(c->pn_seg) == len && memcmp(c->pn_seg, seg, len) == 0)
			return c;
	if (!create)
		return NULL;
	struct pnode *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->pn_seg = strndup(seg, len);
	c->pn_next = parent->pn_child;
	parent->pn_child = c;
	return c;
}

static void pnode_free(struct pnode *n)
{
	while (n) {
		struct pnode *next = n->pn_next;
		pnode_free(n->pn_child);
		free(n->pn_seg);
		free(n);
		n = next;
	}
}

struct parse_err {
	char *code, *msg;
	size_t code_len, msg_len;
	int failed;
};

static void parse_fail(struct parse_err *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void parse_fail(struct parse_err *e, const char *code, const char *fmt, ...)
{
	if (e->failed)
		return;
	e->failed = 1;
	snprintf(e->code, e->code_len, "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, e->msg_len, fmt, ap);
	va_end(ap);
}

static struct doc *parse_value(int shape, struct pnode *n, const char *path, struct parse_err *e);

static struct doc *parse_struct(int shape, struct pnode *n, const char *path, struct parse_err *e)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	struct doc *obj = doc_obj();
	for (int i = 0; i < s->s_nmembers && !e->failed; i++) {
		const struct ec2_member *m = &ec2_members[s->s_first_member + i];
		struct pnode *c = pnode_child(n, m->m_query, strlen(m->m_query), 0);
		char sub[512];
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", m->m_query);
		if (!c) {
			if (m->m_required)
				parse_fail(e, "MissingParameter", "The request must contain the parameter %s", sub);
			continue;
		}
		c->pn_used = 1;
		struct doc *v = parse_value(m->m_shape, c, sub, e);
		if (v)
			doc_set(obj, m->m_name, v);
	}
	return obj;
}

static int index_cmp(const void *a, const void *b)
{
	long x = strtol((*(struct pnode *const *)a)->pn_seg, NULL, 10);
	long y = strtol((*(struct pnode *const *)b)->pn_seg, NULL, 10);
	return (x > y) - (x < y);
}

static bool is_list_index(const char *s)
{
	if (!*s || *s == '0' || strlen(s) > 6)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static struct doc *parse_list(int shape, struct pnode *n, const char *path, struct parse_err *e)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	struct doc *list = doc_list();
	size_t count = 0;
	for (struct pnode *c = n->pn_child; c; c = c->pn_next)
		count++;
	if (count == 0)
		return list;	/* "Name=" with no items: an empty list */
	struct pnode **items = calloc(count, sizeof(*items));
	if (!items)
		abort();
	size_t k = 0;
	for (struct pnode *c = n->pn_child; c; c = c->pn_next) {
		if (!is_list_index(c->pn_seg)) {
			parse_fail(e, "InvalidParameterValue", "The parameter %s.%s is not a valid list index", path, c->pn_seg);
			break;
		}
		items[k++] = c;
	}
	if (!e->failed) {
		qsort(items, count, sizeof(*items), index_cmp);
		/* Positions matter for lists of structures: boto3 leaves out an
		 * empty {} item, so TunnelOptions.2 alone means "the second
		 * tunnel". Gaps become empty structures (bounded). */
		bool keep_positions = ec2_shapes[s->s_list_member].s_type == SH_STRUCT;
		long last = strtol(items[count - 1]->pn_seg, NULL, 10);
		if (keep_positions && last > LIST_GAP_MAX) {
			parse_fail(e, "InvalidParameterValue", "The list %s has an index above %d", path, LIST_GAP_MAX);
			count = 0;
		}
		long expect = 1;
		for (size_t i = 0; i < count && !e->failed; i++) {
			char sub[512];
			snprintf(sub, sizeof(sub), "%s.%s", path, items[i]->pn_seg);
			long at = strtol(items[i]->pn_seg, NULL, 10);
			for (; keep_positions && expect < at; expect++)
				doc_push(list, doc_obj());
			expect = at + 1;
			items[i]->pn_used = 1;
			struct doc *v = parse_value(s->s_list_member, items[i], sub, e);
			if (v)
				doc_push(list, v);
		}
	}
	free(items);
	return list;
}

static struct doc *parse_value(int shape, struct pnode *n, const char *path, struct parse_err *e)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	if (s->s_type == SH_STRUCT)
		return parse_struct(shape, n, path, e);
	if (s->s_type == SH_LIST)
		return parse_list(shape, n, path, e);
	if (!n->pn_value || n->pn_child) {
		parse_fail(e, "InvalidParameterValue", "The parameter %s must be a single value", path);
		return NULL;
	}
	const char *v = n->pn_value;
	switch (s->s_type) {
	case SH_INT: {
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (!*v || *end || errno) {
			parse_fail(e, "InvalidParameterValue", "Invalid value '%.64s' for %s: expecting an integer", v, path);
			return NULL;
		}
		return doc_int(x);
	}
	case SH_BOOL:
		if (strcasecmp(v, "true") == 0)
			return doc_bool(true);
		if (strcasecmp(v, "false") == 0)
			return doc_bool(false);
		parse_fail(e, "InvalidParameterValue", "Invalid value '%.64s' for %s: expecting true or false", v, path);
		return NULL;
	default:
		return doc_str(v);
	}
}

static void find_unused(struct pnode *n, const char *path, struct parse_err *e)
{
	for (struct pnode *c = n->pn_child; c && !e->failed; c = c->pn_next) {
		char sub[512];
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", c->pn_seg);
		if (!c->pn_used)
			parse_fail(e, "UnknownParameter", "The parameter %s is not recognized", sub);
		else
			find_unused(c, sub, e);
	}
}

static bool is_protocol_param(const char *name)
{
	return strcmp(name, "Action") == 0 || strcmp(name, "Version") == 0 ||
	       strncmp(name, "X-Amz-", 6) == 0;
}

struct doc *wire_parse_request(const struct ec2_operation *op, const struct query_params *q,
			       char *code, size_t code_len, char *msg, size_t msg_len)
{
	struct parse_err e = { code, msg, code_len, msg_len, 0 };
	struct pnode root = { 0 };
	for (size_t i = 0; i < q->qp_count && !e.failed; i++) {
		const char *name = q->qp_items[i].qp_name;
		if (is_protocol_param(name))
			continue;
		struct pnode *n = &root;
		const char *seg = name;
		for (;;) {
			const char *dot = strchr(seg, '.');
			size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
			if (len == 0) {
				parse_fail(&e, "InvalidParameterValue", "Malformed parameter name '%.100s'", name);
				break;
			}
			n = pnode_child(n, seg, len, 1);
			if (!dot)
				break;
			seg = dot + 1;
		}
		if (!e.failed) {
			if (n->pn_value)
				parse_fail(&e, "InvalidParameterValue", "The parameter %.100s is given twice", name);
			n->pn_value = q->qp_items[i].qp_value;
		}
	}
	struct doc *d = NULL;
	if (!e.failed)
		d = parse_struct(op->o_input, &root, "", &e);
	if (!e.failed)
		find_unused(&root, "", &e);
	pnode_free(root.pn_child);
	if (e.failed) {
		doc_free(d);
		return NULL;
	}
	return d;
}

/* --- doc to XML ------------------------------------------------------------ */

static int member_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ec2_member *)elem)->m_name);
}

/* The generator sorts each structure's members by name. */
static const struct ec2_member *member_find(const struct ec2_shape *s, const char *name)
{
	return bsearch(name, &ec2_members[s->s_first_member], (size_t)s->s_nmembers, sizeof(struct ec2_member),
		       member_cmp);
}

static void open_tag(struct strbuf *x, const char *name)
{
	sb_putc(x, '<');
	sb_puts(x, name);
	sb_putc(x, '>');
}

static void close_tag(struct strbuf *x, const char *name)
{
	sb_append(x, "</", 2);
	sb_puts(x, name);
	sb_putc(x, '>');
}

/* Members are written in the doc's order; keys the shape does not know
 * (vpcd's own '_' keys) are skipped. */
static void write_value(int shape, const struct doc *d, const char *name, struct strbuf *x)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	d = doc_deref(d);
	if (s->s_type == SH_STRUCT) {
		if (d->d_type != DOC_OBJ)
			return;
		open_tag(x, name);
		doc_foreach(c, d) {
			const struct ec2_member *m = c->d_key[0] == '_' ? NULL : member_find(s, c->d_key);
			if (m)
				write_value(m->m_shape, c, m->m_xml, x);
		}
		close_tag(x, name);
		return;
	}
	if (s->s_type == SH_LIST) {
		if (d->d_type != DOC_LIST)
			return;
		if (!d->d_first) {
			sb_printf(x, "<%s/>", name);
			return;
		}
		open_tag(x, name);
		doc_foreach(c, d)
			write_value(s->s_list_member, c, s->s_item_xml, x);
		close_tag(x, name);
		return;
	}
	char buf[32];
	const char *text = doc_scalar_text(d, buf, sizeof(buf));
	if (!text)
		return;
	open_tag(x, name);
	sb_xml_escape(x, text);
	close_tag(x, name);
}

void wire_write_response(const struct ec2_operation *op, const struct doc *out,
			 const char *request_id, struct strbuf *x)
{
	sb_printf(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=\"" EC2_XMLNS "\">"
		  "<requestId>%s</requestId>", op->o_name, request_id);
	const struct ec2_shape *s = &ec2_shapes[op->o_output];
	if (op->o_output >= 0 && s->s_type == SH_STRUCT && out) {
		doc_foreach(c, out) {
			const struct ec2_member *m = member_find(s, c->d_key);
			if (m)
				write_value(m->m_shape, c, m->m_xml, x);
		}
	}
	sb_printf(x, "</%sResponse>", op->o_name);
}

void wire_write_error(const char *code, const char *message, const char *request_id, struct strbuf *x)
{
	sb_puts(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>");
	sb_xml_escape(x, code);
	sb_puts(x, "</Code><Message>");
	sb_xml_escape(x, message);
	sb_puts(x, "</Message></Error></Errors><RequestID>");
	sb_xml_escape(x, request_id);
	sb_puts(x, "</RequestID></Response>");
}
