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
 * Control plane only: every node is a heap allocation (its member name
 * with it when shorter than DOC_KEY_INLINE, a string value when shorter
 * than DOC_STR_INLINE; a longer one is one more).
 *
 * Link and change nodes only through these functions: each change drops
 * the memos (below) of the changed node and of every node above it, which
 * it finds through d_parent. A node spliced in by hand has no parent to
 * tell, so it must not be changed by hand inside a doc that may carry
 * memos (the cache's docs, once described).
 *
 * Secrets: a string node may be secret (d_secret: a pre-shared key, or a
 * text holding one). Its text is wiped when the node is freed (doc_free,
 * or a doc_set/doc_remove that replaces or drops it), doc_clone() copies
 * it as secret, and every node above it knows (d_secret_below), so that
 * their memos, which may hold the key too, are wiped when dropped, and
 * doc_to_json() makes its output buffer secret. A string becomes secret
 * through doc_str_secret()/doc_set_secret_str(), or by its member name:
 * doc_set() and doc_from_json() mark every string member whose key
 * doc_key_is_secret() (PreSharedKey, CustomerGatewayConfiguration,
 * VpnConnectionDeviceSampleConfiguration), so that the request parser and
 * the store's load need not know. Never log a secret node's d_str.
 */
#ifndef VPCD_DOC_H
#define VPCD_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

enum doc_type { DOC_NULL, DOC_STR, DOC_INT, DOC_BOOL, DOC_OBJ, DOC_LIST,
		DOC_REF	/* a borrowed view of another doc (d_ref), never freed through it */ };

struct doc_memo;

#define DOC_KEY_INLINE 32	/* a key shorter than this is kept in the node itself */
#define DOC_STR_INLINE 24	/* and a string value shorter than this */

struct doc {
	enum doc_type d_type;
	char *d_key;		/* member name when inside an object: d_key_inline or its own block */
	char *d_str;		/* DOC_STR: d_str_inline or its own block; change through doc_str_replace() */
	int64_t d_int;		/* DOC_INT; DOC_BOOL as 0/1 */
	struct doc *d_first;	/* DOC_OBJ / DOC_LIST children */
	struct doc *d_last;
	struct doc *d_next;	/* sibling */
	size_t d_count;
	const struct doc *d_ref;	/* DOC_REF */
	struct doc *d_parent;	/* the object or list holding it; NULL for a root */
	struct doc_memo *d_memo;	/* owned; NULL when none */
	bool d_secret;		/* DOC_STR: d_str is wiped when freed */
	bool d_secret_below;	/* a secret node was linked below (never cleared) */
	char d_key_inline[DOC_KEY_INLINE];	/* no allocation per member for most keys */
	char d_str_inline[DOC_STR_INLINE];	/* nor for short strings (ids, states, CIDRs) */
};

struct doc *doc_obj(void);
struct doc *doc_list(void);
struct doc *doc_str(const char *s);
struct doc *doc_int(int64_t v);
struct doc *doc_bool(bool v);
/* A secret string (see above): wiped when freed. */
struct doc *doc_str_secret(const char *s);
/* d, a string node, now holds a copy of s (its old text freed, wiped when
 * secret; the memos of d and above dropped). Never assign d_str by hand:
 * a short text lives inside its node. */
void doc_str_replace(struct doc *d, const char *s);
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
struct doc *doc_set_secret_str(struct doc *obj, const char *key, const char *s);
/* Whether a string member of that name is a secret wherever it is set. */
bool doc_key_is_secret(const char *key);
/* d (or a ref's target) is secret or holds a secret below it. */
bool doc_holds_secret(const struct doc *d);
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

/* A memo: one rendering of a node kept with it, so that a writer that
 * renders the same unchanged doc again can copy it (wire.c keeps the XML
 * of a cached resource's members). Owned by the node, freed with it, never
 * copied by doc_clone(), dropped by any change to the node or below it
 * made through this API. A node has at most one; dm_kind is the writer's
 * own tag for what it holds. Memos are not part of the value: setting one
 * on a const doc is allowed (and not thread-safe, like every change). */
struct doc_memo {
	int dm_kind;
	size_t dm_len;
	char dm_text[];		/* dm_len bytes and a NUL */
};

/* NULL when d has no memo of that kind. */
const struct doc_memo *doc_memo_get(const struct doc *d, int kind);
/* Replaces d's memo with a copy of text[0, len). */
void doc_memo_set(const struct doc *d, int kind, const char *text, size_t len);

/* JSON text. Parsing returns NULL on malformed input (nesting <= 64).
 * doc_to_json() of a doc that holds a secret sets out->sb_secret. */
void doc_to_json(const struct doc *d, struct strbuf *out);
struct doc *doc_from_json(const char *text, size_t len);

#endif
