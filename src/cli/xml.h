/*
 * xml — a small, strict, bounded XML parser for what the EC2 Query API
 * answers: one root element, nested elements, text, the five predefined
 * entities and character references, attributes, comments, an optional
 * <?xml ...?> declaration and CDATA sections. It refuses DOCTYPEs (no
 * entity expansion, ever), mismatched or unclosed tags, text beside child
 * elements, anything after the root, and nesting deeper than XML_MAX_DEPTH.
 *
 * Control plane only: every node is a heap allocation. Namespaces are not
 * interpreted: an element's name is its qualified name as written.
 */
#ifndef VPCD_CLI_XML_H
#define VPCD_CLI_XML_H

#include <stddef.h>

#define XML_MAX_DEPTH 64
#define XML_MAX_INPUT (64u << 20)	/* 64 MiB: bigger than any EC2 answer */

struct xml_attr {
	char *xa_name;
	char *xa_value;	/* entities decoded */
	struct xml_attr *xa_next;
};

struct xml_node {
	char *x_name;
	char *x_text;		/* decoded character data; "" for elements with children */
	struct xml_attr *x_attrs;
	struct xml_node *x_first;	/* children, in document order */
	struct xml_node *x_last;
	struct xml_node *x_next;	/* sibling */
	size_t x_nchildren;
};

/* Parses text[0..len). Returns the root (free with xml_free), or NULL with a
 * one-line reason and the byte offset in err. */
struct xml_node *xml_parse(const char *text, size_t len, char *err, size_t err_len);
void xml_free(struct xml_node *n);

/* First child named name, or NULL. Borrowed. */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* Text of the first child named name, or NULL. */
const char *xml_child_text(const struct xml_node *n, const char *name);
const char *xml_attr(const struct xml_node *n, const char *name);

#define xml_foreach(child, parent) \
	for (const struct xml_node *child = (parent)->x_first; child; child = child->x_next)

#endif
