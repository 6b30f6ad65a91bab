/*
 * doc — a small JSON-shaped tree: the form in which vpcd's API layer passes
 * requests to behaviour code and gets responses back, and in which resources
 * are kept in memory and stored (as JSON text) in SQLite.
 *
 * Object keys are the botocore member names ("VpcId", "CidrBlock"); the wire
 * names are applied by api/ from the generated model tables.
 *
 * Ownership: a node owns its children; doc_free() frees a whole subtree.
 * doc_set()/doc_push() take ownership of the child they are given. Getters
 * return borrowed pointers, valid while the parent lives and is unchanged.
 * Lookups are linear in the number of members (objects here are small).
 * Control plane only: every node is a heap allocation.
 */
#ifndef VPCD_DOC_H
#define VPCD_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

enum doc_type { DOC_NULL, DOC_STR, DOC_INT, DOC_BOOL, DOC_OBJ, DOC_LIST,
		DOC_REF	/* a borrowed view of another doc (d_ref), never freed through it */ };

struct doc {
	enum doc_type d_type;
	char *d_key;		/* member name when inside an object */
	char *d_str;		/* DOC_STR */
	int64_t d_int;		/* DOC_INT; DOC_BOOL as 0/1 */
	struct doc *d_first;	/* DOC_OBJ / DOC_LIST children */
	struct doc *d_last;
	struct doc *d_next;	/* sibling */
	size_t d_count;
	const struct doc *d_ref;	/* DOC_REF */
};

struct doc *doc_obj(void);
struct doc *doc_list(void);
struct doc *doc_str(const char *s);
struct doc *doc_int(int64_t v);
struct doc *doc_bool(bool v);
void doc_free(struct doc *d);
/* A node that stands for target without copying it: the serialisers follow
 * it. The target must outlive the ref. doc_clone() of a ref copies the
 * target. */
struct doc *doc_ref(const struct doc *target);
/* The node itself, or the target of a ref. */
const struct doc *doc_deref(const struct doc *d);
struct doc *doc_clone(const struct doc *d);

/* Objects: set replaces a member of the same key (freeing it). Return child. */
struct doc *doc_set(struct doc *obj, const char *key, struct doc *child);
struct doc *doc_set_str(struct doc *obj, const char *key, const char *s);
struct doc *doc_set_int(struct doc *obj, const char *key, int64_t v);
struct doc *doc_set_bool(struct doc *obj, const char *key, bool v);
bool doc_remove(struct doc *obj, const char *key);
struct doc *doc_get(const struct doc *obj, const char *key);
/* Typed getters: NULL / dflt when absent or of another type. */
const char *doc_get_str(const struct doc *obj, const char *key);
int64_t doc_get_int(const struct doc *obj, const char *key, int64_t dflt);
bool doc_get_bool(const struct doc *obj, const char *key, bool dflt);
/* Get the member, creating an empty object/list when absent. */
struct doc *doc_get_obj(struct doc *obj, const char *key);
struct doc *doc_get_list(struct doc *obj, const char *key);

/* Lists. */
struct doc *doc_push(struct doc *list, struct doc *child);
/* Unlinks and frees child (a direct child of parent). */
void doc_delete_child(struct doc *parent, struct doc *child);

#define doc_foreach(child, parent) \
	for (struct doc *child = (parent) ? (parent)->d_first : NULL; child; child = child->d_next)

/* Scalar as text ("true"/"false" for booleans, decimal for ints);
 * writes into buf (>= 24 bytes) when needed. NULL for objects and lists. */
const char *doc_scalar_text(const struct doc *d, char *buf, size_t len);

/* JSON text. Parsing returns NULL on malformed input (nesting <= 64). */
void doc_to_json(const struct doc *d, struct strbuf *out);
struct doc *doc_from_json(const char *text, size_t len);

#endif
