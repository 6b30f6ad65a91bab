/*
 * wire.c — form parameters to request docs and response docs to XML, both
 * driven by the generated EC2 model tables (wire.h). Bounded: at most
 * max_params parameters, WIRE_MAX_NAME_PARTS parts to a name,
 * WIRE_MAX_ELEMENTS elements to a request, list indexes as the model (or
 * AWS) allows; recursion only as deep as the model's shapes. Strings in
 * must be clean UTF-8; strings out are escaped so that the XML is
 * well-formed whatever the bytes (a value stored by an older vpcd).
 */
#include "api/wire.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"

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

int query_add(struct query_params *q, const char *name, const char *value, size_t max_params)
{
	if (q->qp_count >= max_params)
		return QUERY_TOO_MANY;
	char *n = strdup(name), *v = strdup(value ? value : "");
	if (!n || !v)
		abort();
	if (q->qp_count == q->qp_cap) {
		q->qp_cap = q->qp_cap ? q->qp_cap * 2 : 16;
		q->qp_items = realloc(q->qp_items, q->qp_cap * sizeof(*q->qp_items));
		if (!q->qp_items)
			abort();
	}
	q->qp_items[q->qp_count].qp_name = n;
	q->qp_items[q->qp_count].qp_value = v;
	q->qp_count++;
	return QUERY_OK;
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
				return QUERY_TOO_MANY;
			const char *eq = memchr(p, '=', (size_t)(stop - p));
			const char *name_end = eq ? eq : stop;
			char *name = form_decode(p, (size_t)(name_end - p));
			char *value = eq ? form_decode(eq + 1, (size_t)(stop - eq - 1)) : strdup("");
			if (!name || !value) {
				free(name);
				free(value);
				return QUERY_BAD_ENCODING;
			}
			if (out->qp_count == out->qp_cap) {
				out->qp_cap = out->qp_cap ? out->qp_cap * 2 : 16;
				out->qp_items = realloc(out->qp_items, out->qp_cap * sizeof(*out->qp_items));
				if (!out->qp_items)
					abort();
			}
			out->qp_items[out->qp_count].qp_name = name;
			out->qp_items[out->qp_count].qp_value = value;
			out->qp_count++;
		}
		p = stop + 1;
	}
	return QUERY_OK;
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
		/* a value may be a pre-shared key (ModifyVpnTunnelOptions...) */
		secret_wipe(q->qp_items[i].qp_value, strlen(q->qp_items[i].qp_value));
		free(q->qp_items[i].qp_value);
	}
	free(q->qp_items);
	memset(q, 0, sizeof(*q));
}

const char *wire_printable(const char *s, char *out, size_t out_len)
{
	size_t n = 0;
	for (; s && *s && n + 1 < out_len; s++)
		out[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	out[n] = '\0';
	return out;
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
#define PATH_MAX_LEN 256	/* of a parameter's path in a message */

/*
 * The parameters as a tree of their dotted names: "Filter.1.Name" is
 * Filter → 1 → Name. The nodes live in one array (freed at once, no
 * recursion, whatever the shape of the names) and are found by a hash of
 * (parent, part), so that building the tree is O(parts) whatever the
 * number of siblings. A part points into its parameter's name (borrowed
 * from the query_params, like the value).
 */
struct pnode {
	const char *pn_seg;
	size_t pn_seg_len;
	const char *pn_value;	/* NULL for inner nodes */
	uint32_t pn_parent;
	uint32_t pn_first_child, pn_last_child, pn_next;	/* 0: none (node 0 is the root) */
	uint32_t pn_nchildren;
	bool pn_used;
};

struct ptree {
	struct pnode *pt_nodes;
	size_t pt_count, pt_cap;
	uint32_t *pt_hash;	/* node index, 0 empty; open addressing */
	size_t pt_hash_cap;	/* a power of two, at least twice pt_count */
};

static uint64_t pnode_hash(uint32_t parent, const char *seg, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ parent;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)seg[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static void ptree_rehash(struct ptree *t, size_t cap)
{
	free(t->pt_hash);
	t->pt_hash = calloc(cap, sizeof(*t->pt_hash));
	if (!t->pt_hash)
		abort();
	t->pt_hash_cap = cap;
	for (uint32_t i = 1; i < t->pt_count; i++) {
		const struct pnode *n = &t->pt_nodes[i];
		size_t h = (size_t)pnode_hash(n->pn_parent, n->pn_seg, n->pn_seg_len) & (cap - 1);
		while (t->pt_hash[h])
			h = (h + 1) & (cap - 1);
		t->pt_hash[h] = i;
	}
}

static void ptree_init(struct ptree *t)
{
	memset(t, 0, sizeof(*t));
	t->pt_cap = 64;
	t->pt_nodes = calloc(t->pt_cap, sizeof(*t->pt_nodes));
	if (!t->pt_nodes)
		abort();
	t->pt_count = 1;	/* the root */
	ptree_rehash(t, 128);
}

static void ptree_free(struct ptree *t)
{
	free(t->pt_nodes);
	free(t->pt_hash);
}

#define PTREE_KEEP_NODES 1024	/* a thread keeps its tree for the next request up to this size */

/* The calling thread's tree, empty: kept from one request to the next
 * (no allocation, no zeroing of its nodes, which ptree_child writes whole
 * before use), made anew after a request that grew it beyond
 * PTREE_KEEP_NODES. */
static struct ptree *ptree_take(void)
{
	static __thread struct ptree kept;
	if (kept.pt_nodes && kept.pt_cap > PTREE_KEEP_NODES) {
		ptree_free(&kept);
		kept.pt_nodes = NULL;
	}
	if (!kept.pt_nodes) {
		ptree_init(&kept);
		return &kept;
	}
	kept.pt_count = 1;
	kept.pt_nodes[0] = (struct pnode){ 0 };
	memset(kept.pt_hash, 0, kept.pt_hash_cap * sizeof(*kept.pt_hash));
	return &kept;
}

/* The child of parent named seg, created when create; 0 when absent. */
static uint32_t ptree_child(struct ptree *t, uint32_t parent, const char *seg, size_t len, bool create)
{
	uint64_t hv = pnode_hash(parent, seg, len);
	size_t h = (size_t)hv & (t->pt_hash_cap - 1);
	for (uint32_t i; (i = t->pt_hash[h]); h = (h + 1) & (t->pt_hash_cap - 1)) {
		const struct pnode *n = &t->pt_nodes[i];
		if (n->pn_parent == parent && n->pn_seg_len == len && memcmp(n->pn_seg, seg, len) == 0)
			return i;
	}
	if (!create)
		return 0;
	if (t->pt_count == t->pt_cap) {
		t->pt_cap *= 2;
		t->pt_nodes = realloc(t->pt_nodes, t->pt_cap * sizeof(*t->pt_nodes));
		if (!t->pt_nodes)
			abort();
	}
	uint32_t i = (uint32_t)t->pt_count++;
	t->pt_nodes[i] = (struct pnode){ .pn_seg = seg, .pn_seg_len = len, .pn_parent = parent };
	struct pnode *p = &t->pt_nodes[parent];
	if (p->pn_last_child)
		t->pt_nodes[p->pn_last_child].pn_next = i;
	else
		p->pn_first_child = i;
	p->pn_last_child = i;
	p->pn_nchildren++;
	t->pt_hash[h] = i;
	if (t->pt_count * 2 > t->pt_hash_cap)
		ptree_rehash(t, t->pt_hash_cap * 2);
	return i;
}

struct parse_ctx {
	struct ptree *pc_tree;
	size_t pc_elements;	/* nodes, values and list items so far */
	char *code, *msg;
	size_t code_len, msg_len;
	int failed;
};

static void parse_fail(struct parse_ctx *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void parse_fail(struct parse_ctx *e, const char *code, const char *fmt, ...)
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

/* Counts n more elements; false (and the error) beyond the bound. */
static bool take_elements(struct parse_ctx *e, size_t n)
{
	e->pc_elements += n;
	if (e->pc_elements <= WIRE_MAX_ELEMENTS)
		return true;
	parse_fail(e, "InvalidParameterValue", "The request has more than %d parameter elements", WIRE_MAX_ELEMENTS);
	return false;
}

/* path + "." + the node's part, printable, for messages. */
static void sub_path(char *sub, const char *path, const struct pnode *n)
{
	size_t o = 0;
	for (; path[o] && o < PATH_MAX_LEN - 2; o++)
		sub[o] = path[o];
	if (o)
		sub[o++] = '.';
	for (size_t i = 0; i < n->pn_seg_len && o < PATH_MAX_LEN - 1; i++)
		sub[o++] = n->pn_seg[i] >= 0x20 && n->pn_seg[i] < 0x7f ? n->pn_seg[i] : '?';
	sub[o] = '\0';
}

/* sub = path "." name (name alone at the top), cut at PATH_MAX_LEN - 1
 * bytes as snprintf would. */
static void path_join(char sub[PATH_MAX_LEN], const char *path, const char *name)
{
	size_t o = 0;
	for (; *path && o < PATH_MAX_LEN - 1; path++)
		sub[o++] = *path;
	if (o && o < PATH_MAX_LEN - 1)
		sub[o++] = '.';
	for (; *name && o < PATH_MAX_LEN - 1; name++)
		sub[o++] = *name;
	sub[o] = '\0';
}

static struct doc *parse_value(int shape, uint32_t node, const char *path, struct parse_ctx *e);

static struct doc *parse_struct(int shape, uint32_t node, const char *path, struct parse_ctx *e)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	struct ptree *t = e->pc_tree;
	struct doc *obj = doc_obj();
	for (int i = 0; i < s->s_nmembers && !e->failed; i++) {
		const struct ec2_member *m = &ec2_members[s->s_first_member + i];
		uint32_t c = ptree_child(t, node, m->m_query, strlen(m->m_query), false);
		if (!c && !m->m_required)
			continue;
		char sub[PATH_MAX_LEN];
		path_join(sub, path, m->m_query);
		if (!c) {
			if (m->m_required)
				parse_fail(e, "MissingParameter", "The request must contain the parameter %s", sub);
			continue;
		}
		t->pt_nodes[c].pn_used = true;
		struct doc *v = parse_value(m->m_shape, c, sub, e);
		if (v)
			doc_set(obj, m->m_name, v);
	}
	return obj;
}

/* A list index: 1 to 999999, no leading zero. */
static long list_index(const struct pnode *n)
{
	if (n->pn_seg_len == 0 || n->pn_seg_len > 6 || n->pn_seg[0] == '0')
		return -1;
	long v = 0;
	for (size_t i = 0; i < n->pn_seg_len; i++) {
		if (n->pn_seg[i] < '0' || n->pn_seg[i] > '9')
			return -1;
		v = v * 10 + (n->pn_seg[i] - '0');
	}
	return v;
}

struct list_item {
	long li_index;
	uint32_t li_node;
};

static int list_item_cmp(const void *a, const void *b)
{
	long x = ((const struct list_item *)a)->li_index, y = ((const struct list_item *)b)->li_index;
	return (x > y) - (x < y);
}

static struct doc *parse_list(int shape, uint32_t node, const char *path, struct parse_ctx *e)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	struct ptree *t = e->pc_tree;
	struct doc *list = doc_list();
	size_t count = t->pt_nodes[node].pn_nchildren;
	if (count == 0)
		return list;	/* "Name=" with no items: an empty list */
	/* Positions matter for lists of structures: boto3 leaves out an
	 * empty {} item, so TunnelOptions.2 alone means "the second tunnel".
	 * Gaps become empty structures, counted as elements. */
	bool keep_positions = ec2_shapes[s->s_list_member].s_type == SH_STRUCT;
	long max_index = s->s_max_items ? s->s_max_items : keep_positions ? LIST_GAP_MAX : 0;
	struct list_item *items = calloc(count, sizeof(*items));
	if (!items)
		abort();
	size_t k = 0;
	for (uint32_t c = t->pt_nodes[node].pn_first_child; c && !e->failed; c = t->pt_nodes[c].pn_next) {
		long at = list_index(&t->pt_nodes[c]);
		char sub[PATH_MAX_LEN];
		if (at < 0) {
			sub_path(sub, path, &t->pt_nodes[c]);
			parse_fail(e, "InvalidParameterValue", "The parameter %s is not a valid list index", sub);
		} else if (max_index && at > max_index) {
			sub_path(sub, path, &t->pt_nodes[c]);
			parse_fail(e, "InvalidParameterValue", "The parameter %s is beyond the %ld items the list %s may have",
				   sub, max_index, path);
		}
		items[k++] = (struct list_item){ at, c };
	}
	if (!e->failed) {
		qsort(items, count, sizeof(*items), list_item_cmp);
		long expect = 1;
		for (size_t i = 0; i < count && !e->failed; i++) {
			char sub[PATH_MAX_LEN];
			sub_path(sub, path, &t->pt_nodes[items[i].li_node]);
			long at = items[i].li_index;
			if (keep_positions && expect < at && !take_elements(e, (size_t)(at - expect)))
				break;
			for (; keep_positions && expect < at; expect++)
				doc_push(list, doc_obj());
			expect = at + 1;
			t->pt_nodes[items[i].li_node].pn_used = true;
			struct doc *v = parse_value(s->s_list_member, items[i].li_node, sub, e);
			if (v)
				doc_push(list, v);
		}
	}
	free(items);
	return list;
}

static struct doc *parse_value(int shape, uint32_t node, const char *path, struct parse_ctx *e)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	if (s->s_type == SH_STRUCT)
		return parse_struct(shape, node, path, e);
	if (s->s_type == SH_LIST)
		return parse_list(shape, node, path, e);
	const struct pnode *n = &e->pc_tree->pt_nodes[node];
	if (!n->pn_value || n->pn_first_child) {
		parse_fail(e, "InvalidParameterValue", "The parameter %s must be a single value", path);
		return NULL;
	}
	const char *v = n->pn_value;
	char shown[68];
	switch (s->s_type) {
	case SH_INT: {
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (!*v || *end || errno) {
			parse_fail(e, "InvalidParameterValue", "Invalid value '%s' for %s: expecting an integer",
				   wire_printable(v, shown, sizeof(shown)), path);
			return NULL;
		}
		return doc_int(x);
	}
	case SH_BOOL:
		if (strcasecmp(v, "true") == 0)
			return doc_bool(true);
		if (strcasecmp(v, "false") == 0)
			return doc_bool(false);
		parse_fail(e, "InvalidParameterValue", "Invalid value '%s' for %s: expecting true or false",
			   wire_printable(v, shown, sizeof(shown)), path);
		return NULL;
	default:
		if (!utf8_text_valid(v)) {
			parse_fail(e, "InvalidParameterValue",
				   "Invalid value for %s: it must be UTF-8 text without control characters", path);
			return NULL;
		}
		return doc_str(v);
	}
}

/* Reports the first parameter no member took, in request order. Depth:
 * the tree is at most WIRE_MAX_NAME_PARTS deep. */
static void find_unused(struct parse_ctx *e, uint32_t node, const char *path)
{
	struct ptree *t = e->pc_tree;
	for (uint32_t c = t->pt_nodes[node].pn_first_child; c && !e->failed; c = t->pt_nodes[c].pn_next) {
		char sub[PATH_MAX_LEN];
		sub_path(sub, path, &t->pt_nodes[c]);
		if (!t->pt_nodes[c].pn_used)
			parse_fail(e, "UnknownParameter", "The parameter %s is not recognized", sub);
		else
			find_unused(e, c, sub);
	}
}

static bool is_protocol_param(const char *name)
{
	return strcmp(name, "Action") == 0 || strcmp(name, "Version") == 0 ||
	       strncmp(name, "X-Amz-", 6) == 0;
}

/* Adds one parameter's name to the tree: its parts are counted and checked
 * before any node is made. */
static void add_param(struct parse_ctx *e, const char *name, const char *value)
{
	char shown[104];
	size_t parts = 1;
	for (const char *p = name; *p; p++)
		if (*p == '.' && ++parts > WIRE_MAX_NAME_PARTS) {
			parse_fail(e, "InvalidParameterValue", "The parameter name '%s...' has more than %d parts",
				   wire_printable(name, shown, sizeof(shown)), WIRE_MAX_NAME_PARTS);
			return;
		}
	if (!take_elements(e, parts))
		return;
	uint32_t n = 0;
	const char *seg = name;
	for (;;) {
		const char *dot = strchr(seg, '.');
		size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
		if (len == 0) {
			parse_fail(e, "InvalidParameterValue", "Malformed parameter name '%s'",
				   wire_printable(name, shown, sizeof(shown)));
			return;
		}
		n = ptree_child(e->pc_tree, n, seg, len, true);
		if (!dot)
			break;
		seg = dot + 1;
	}
	struct pnode *node = &e->pc_tree->pt_nodes[n];
	if (node->pn_value)
		parse_fail(e, "InvalidParameterValue", "The parameter %s is given twice",
			   wire_printable(name, shown, sizeof(shown)));
	node->pn_value = value;
}

struct doc *wire_parse_request(const struct ec2_operation *op, const struct query_params *q,
			       char *code, size_t code_len, char *msg, size_t msg_len)
{
	struct ptree *tree = ptree_take();
	struct parse_ctx e = { tree, 0, code, msg, code_len, msg_len, 0 };
	for (size_t i = 0; i < q->qp_count && !e.failed; i++)
		if (!is_protocol_param(q->qp_items[i].qp_name))
			add_param(&e, q->qp_items[i].qp_name, q->qp_items[i].qp_value);
	struct doc *d = NULL;
	if (!e.failed)
		d = parse_struct(op->o_input, 0, "", &e);
	if (!e.failed)
		find_unused(&e, 0, "");
	if (e.failed) {
		doc_free(d);
		return NULL;
	}
	return d;
}

/* --- doc to XML ------------------------------------------------------------ */

/*
 * The serializer is the hot path of large Describe answers (10,000 subnets
 * are about 9 MB of XML, written in one go on the API thread). So it:
 *  - writes straight into the strbuf's spare room (xw_put), NUL-terminating
 *    once at the end instead of after every piece;
 *  - uses each member's open and close tags, built once (xml_tags_init);
 *  - finds the member of a doc key first by a hint: docs of one shape are
 *    built by the same code and mostly share their key order, so the member
 *    found at position i of the last object of that shape is tried first
 *    (one strcmp), and only a miss costs the bsearch;
 *  - escapes with a table scan that copies runs of plain characters whole;
 *  - reserves the rest of a long list from the size of its first item;
 *  - keeps the members' XML of an object reached through a DOC_REF (a
 *    cached resource, which Describe answers borrow) as the object's memo
 *    (doc.h), so the next answer copies it: any change to the object drops
 *    it. Under AddressSanitizer each copy is checked against a fresh walk.
 * The bytes written are exactly those of the plain tree walk: members in
 * the doc's order, unknown and '_' keys skipped, values of the wrong type
 * left out, an empty list as <name/>.
 */

struct xml_tag {
	char *xt_open;		/* "<name>" */
	char *xt_close;		/* "</name>" */
	size_t xt_open_len, xt_close_len;
};

static struct xml_tag *member_tags;	/* by index into ec2_members */
static struct xml_tag *item_tags;	/* by shape index: a list's item tags */
static pthread_once_t xml_tags_once = PTHREAD_ONCE_INIT;

static void xml_tag_make(struct xml_tag *t, const char *name)
{
	size_t n = strlen(name);
	t->xt_open = malloc(n + 3);
	t->xt_close = malloc(n + 4);
	if (!t->xt_open || !t->xt_close)
		abort();
	t->xt_open[0] = '<';
	memcpy(t->xt_open + 1, name, n);
	memcpy(t->xt_open + 1 + n, ">", 2);
	memcpy(t->xt_close, "</", 2);
	memcpy(t->xt_close + 2, name, n);
	memcpy(t->xt_close + 2 + n, ">", 2);
	t->xt_open_len = n + 2;
	t->xt_close_len = n + 3;
}

/* Built once, kept for the life of the process. */
static void xml_tags_init(void)
{
	size_t nmembers = 0;
	for (size_t i = 0; i < ec2_shape_count; i++) {
		size_t end = (size_t)ec2_shapes[i].s_first_member + (size_t)ec2_shapes[i].s_nmembers;
		if (ec2_shapes[i].s_type == SH_STRUCT && end > nmembers)
			nmembers = end;
	}
	member_tags = calloc(nmembers + 1, sizeof(*member_tags));
	item_tags = calloc(ec2_shape_count, sizeof(*item_tags));
	if (!member_tags || !item_tags)
		abort();
	for (size_t i = 0; i < nmembers; i++)
		xml_tag_make(&member_tags[i], ec2_members[i].m_xml ? ec2_members[i].m_xml : ec2_members[i].m_name);
	for (size_t i = 0; i < ec2_shape_count; i++)
		if (ec2_shapes[i].s_type == SH_LIST)
			xml_tag_make(&item_tags[i], ec2_shapes[i].s_item_xml ? ec2_shapes[i].s_item_xml : "item");
}

/* Appends without terminating: the caller NUL-terminates once it is done
 * (sb_reserve always leaves room for the NUL). */
static inline void xw_put(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->sb_cap - sb->sb_len <= n)
		sb_reserve(sb, n);
	memcpy(sb->sb_data + sb->sb_len, s, n);
	sb->sb_len += n;
}

static inline void xw_end(struct strbuf *sb)
{
	if (sb->sb_data)
		sb->sb_data[sb->sb_len] = '\0';
}

/* 1 for the bytes that stop a run of plain text: NUL, the five that XML
 * escapes, control characters but tab and LF, and bytes >= 0x80 (whose
 * UTF-8 is checked). */
#define XS8 1, 1, 1, 1, 1, 1, 1, 1
#define XS64 XS8, XS8, XS8, XS8, XS8, XS8, XS8, XS8
static const unsigned char xml_stop[256] = {
	[0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1,
	[11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1, [19] = 1,
	[20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1, [27] = 1, [28] = 1,
	[29] = 1, [30] = 1, [31] = 1,
	['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1,
	[0x80] = XS64, XS64,
};
#undef XS64
#undef XS8

/* Same output as sb_xml_escape(): well-formed whatever the bytes (values
 * stored by a vpcd that did not check them yet). */
static void xw_escaped(struct strbuf *sb, const char *s)
{
	for (;;) {
		const char *run = s;
		while (!xml_stop[(unsigned char)*s])
			s++;
		if (s > run)
			xw_put(sb, run, (size_t)(s - run));
		size_t n;
		switch (*s) {
		case '\0': return;
		case '&': xw_put(sb, "&amp;", 5); break;
		case '<': xw_put(sb, "&lt;", 4); break;
		case '>': xw_put(sb, "&gt;", 4); break;
		case '"': xw_put(sb, "&quot;", 6); break;
		case '\'': xw_put(sb, "&apos;", 6); break;
		case '\r': xw_put(sb, "&#13;", 5); break;
		default:
			n = utf8_xml_char(s);
			if (n == 0) {
				xw_put(sb, "\xef\xbf\xbd", 3);	/* U+FFFD */
			} else {
				xw_put(sb, s, n);
				s += n - 1;
			}
			break;
		}
		s++;
	}
}

/* Decimal, as "%" PRId64 writes it; returns the length. */
static size_t int_text(int64_t v, char buf[24])
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	size_t len = 0;
	if (v < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	return len;
}

#define HINT_SLOTS 64	/* structure shapes remembered per answer (direct-mapped) */
#define HINT_POSITIONS 64	/* key positions remembered per shape */

/* For one structure shape: the member (offset in the shape) that the key at
 * each position of the last object of that shape named; -1 unknown. */
struct member_hint {
	int mh_shape;
	int16_t mh_member[HINT_POSITIONS];
};

struct xml_writer {
	struct strbuf *xw_sb;
	size_t xw_refs;		/* DOC_REF nodes met so far */
	struct member_hint xw_hints[HINT_SLOTS];
};

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

static struct member_hint *hint_for(struct xml_writer *w, int shape)
{
	struct member_hint *h = &w->xw_hints[(size_t)shape % HINT_SLOTS];
	if (h->mh_shape != shape) {
		h->mh_shape = shape;
		memset(h->mh_member, 0xff, sizeof(h->mh_member));	/* all -1 */
	}
	return h;
}

/* The index into ec2_members of the member named key, or -1. */
static int member_lookup(struct member_hint *h, const struct ec2_shape *s, const char *key, size_t pos)
{
	if (pos < HINT_POSITIONS) {
		int k = h->mh_member[pos];
		if (k >= 0 && strcmp(ec2_members[s->s_first_member + k].m_name, key) == 0)
			return s->s_first_member + k;
	}
	const struct ec2_member *m = member_find(s, key);
	if (!m)
		return -1;
	int k = (int)(m - &ec2_members[s->s_first_member]);
	if (pos < HINT_POSITIONS)
		h->mh_member[pos] = (int16_t)k;
	return s->s_first_member + k;
}

#define LIST_RESERVE_MIN_ITEMS 16	/* shorter lists grow as they go */
#define LIST_RESERVE_MAX (64u << 20)	/* a guess from one item never reserves more */

static void write_value(struct xml_writer *w, int shape, const struct doc *d, const struct xml_tag *tag);

static void write_members(struct xml_writer *w, int shape, const struct doc *obj, bool skip_private)
{
	const struct ec2_shape *s = &ec2_shapes[shape];
	struct member_hint *h = hint_for(w, shape);
	size_t pos = 0;
	for (const struct doc *c = obj->d_first; c; c = c->d_next, pos++) {
		if (skip_private && c->d_key[0] == '_')
			continue;
		int mi = member_lookup(h, s, c->d_key, pos);
		if (mi >= 0)
			write_value(w, ec2_members[mi].m_shape, c, &member_tags[mi]);
	}
}

static void write_list(struct xml_writer *w, int shape, const struct doc *list, const struct xml_tag *tag)
{
	struct strbuf *sb = w->xw_sb;
	if (!list->d_first) {
		xw_put(sb, tag->xt_open, tag->xt_open_len - 1);	/* "<name" */
		xw_put(sb, "/>", 2);
		return;
	}
	const struct ec2_shape *s = &ec2_shapes[shape];
	const struct xml_tag *item = &item_tags[shape];
	xw_put(sb, tag->xt_open, tag->xt_open_len);
	size_t start = sb->sb_len;
	for (const struct doc *c = list->d_first; c; c = c->d_next) {
		write_value(w, s->s_list_member, c, item);
		if (c == list->d_first && list->d_count >= LIST_RESERVE_MIN_ITEMS) {
			size_t per_item = sb->sb_len - start + 1;
			size_t rest = list->d_count - 1;
			size_t guess = per_item > LIST_RESERVE_MAX / rest ? LIST_RESERVE_MAX : per_item * rest;
			sb_reserve(sb, guess + guess / 16);
		}
	}
	xw_put(sb, tag->xt_close, tag->xt_close_len);
}

#if defined(__SANITIZE_ADDRESS__)
#define XML_MEMO_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XML_MEMO_CHECK 1
#endif
#endif

#ifdef XML_MEMO_CHECK
/* A memo that differs from a fresh walk means that the doc was changed
 * without going through doc.h: that is the bug, found here in the
 * sanitizer builds that run every API test. */
static void memo_check(int shape, const struct doc *obj, const struct doc_memo *m)
{
	struct strbuf fresh = STRBUF_INIT;
	struct xml_writer *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	w->xw_sb = &fresh;
	for (size_t i = 0; i < HINT_SLOTS; i++)
		w->xw_hints[i].mh_shape = -1;
	write_members(w, shape, obj, true);
	xw_end(&fresh);
	if (fresh.sb_len != m->dm_len || memcmp(sb_str(&fresh), m->dm_text, m->dm_len) != 0) {
		fprintf(stderr, "wire: stale XML memo of a %s (changed without doc.h?)\nmemo:  %.*s\nfresh: %.*s\n",
			ec2_shapes[shape].s_name, (int)m->dm_len, m->dm_text, (int)fresh.sb_len, sb_str(&fresh));
		abort();
	}
	free(w);
	sb_free(&fresh);
}
#endif

/* An object reached through a ref: its members from its memo, else
 * written and kept as its memo (unless they hold a ref themselves, whose
 * target could change without telling this object). */
static void write_members_memo(struct xml_writer *w, int shape, const struct doc *obj)
{
	struct strbuf *sb = w->xw_sb;
	const struct doc_memo *m = doc_memo_get(obj, shape);
	if (m) {
#ifdef XML_MEMO_CHECK
		memo_check(shape, obj, m);
#endif
		xw_put(sb, m->dm_text, m->dm_len);
		return;
	}
	size_t start = sb->sb_len, refs = w->xw_refs;
	write_members(w, shape, obj, true);
	if (w->xw_refs == refs)
		doc_memo_set(obj, shape, sb->sb_data + start, sb->sb_len - start);
}

/* Members are written in the doc's order; keys the shape does not know
 * (vpcd's own '_' keys) are skipped. */
static void write_value(struct xml_writer *w, int shape, const struct doc *d, const struct xml_tag *tag)
{
	struct strbuf *sb = w->xw_sb;
	const struct ec2_shape *s = &ec2_shapes[shape];
	bool by_ref = d->d_type == DOC_REF;
	if (by_ref) {
		w->xw_refs++;
		d = d->d_ref;
	}
	switch (s->s_type) {
	case SH_STRUCT:
		if (d->d_type != DOC_OBJ)
			return;
		xw_put(sb, tag->xt_open, tag->xt_open_len);
		if (by_ref)
			write_members_memo(w, shape, d);
		else
			write_members(w, shape, d, true);
		xw_put(sb, tag->xt_close, tag->xt_close_len);
		return;
	case SH_LIST:
		if (d->d_type == DOC_LIST)
			write_list(w, shape, d, tag);
		return;
	default:
		break;
	}
	switch (d->d_type) {
	case DOC_STR:
		xw_put(sb, tag->xt_open, tag->xt_open_len);
		xw_escaped(sb, d->d_str);
		break;
	case DOC_INT: {
		char buf[24];
		size_t n = int_text(d->d_int, buf);
		xw_put(sb, tag->xt_open, tag->xt_open_len);
		xw_put(sb, buf, n);
		break;
	}
	case DOC_BOOL:
		xw_put(sb, tag->xt_open, tag->xt_open_len);
		if (d->d_int)
			xw_put(sb, "true", 4);
		else
			xw_put(sb, "false", 5);
		break;
	default:
		return;
	}
	xw_put(sb, tag->xt_close, tag->xt_close_len);
}

void wire_write_response(const struct ec2_operation *op, const struct doc *out,
			 const char *request_id, struct strbuf *x)
{
	sb_puts(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
	sb_puts(x, op->o_name);
	sb_puts(x, "Response xmlns=\"" EC2_XMLNS "\"><requestId>");
	sb_puts(x, request_id);
	sb_puts(x, "</requestId>");
	if (op->o_output >= 0 && ec2_shapes[op->o_output].s_type == SH_STRUCT && out) {
		pthread_once(&xml_tags_once, xml_tags_init);
		/* the thread's own writer: its hints stay from one answer to the
		 * next (every hint is checked before it is used), and no answer
		 * allocates one (8 KB, faulted in again after each free) */
		static __thread struct xml_writer w;
		static __thread bool w_ready;
		if (!w_ready) {
			for (size_t i = 0; i < HINT_SLOTS; i++)
				w.xw_hints[i].mh_shape = -1;
			w_ready = true;
		}
		w.xw_sb = x;
		w.xw_refs = 0;
		write_members(&w, op->o_output, out, false);
		xw_end(x);
		w.xw_sb = NULL;
	}
	sb_puts(x, "</");
	sb_puts(x, op->o_name);
	sb_puts(x, "Response>");
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
