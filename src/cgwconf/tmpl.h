/*
 * Internal to src/cgwconf: the values a template sees (a small tree of
 * strings, booleans, lists and objects) and the arena they live in.
 * vars.c builds the tree from a connection; tmpl.c reads it.
 */
#ifndef VPCD_CGWCONF_TMPL_H
#define VPCD_CGWCONF_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "cgwconf/cgwconf.h"

/* Bump allocator: everything of one render is freed (and wiped, as it
 * holds PSKs) at once by arena_free().  Allocation failure aborts. */
struct arena_chunk;
struct arena {
	struct arena_chunk *ar_chunks;
};

void *arena_alloc(struct arena *ar, size_t size);
char *arena_strndup(struct arena *ar, const char *s, size_t len);
char *arena_strdup(struct arena *ar, const char *s);
char *arena_printf(struct arena *ar, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void arena_free(struct arena *ar);

enum tv_kind { TV_STR, TV_BOOL, TV_LIST, TV_OBJ };

struct tv {
	enum tv_kind	 tv_kind;
	const char	*tv_key;	/* name within its object; NULL in lists */
	struct tv	*tv_next;	/* next field or item */
	const char	*tv_str;	/* TV_STR */
	bool		 tv_bool;	/* TV_BOOL */
	struct tv	*tv_first;	/* TV_LIST items, TV_OBJ fields */
	struct tv	*tv_last;
	unsigned	 tv_count;
};

struct tv *tv_new_obj(struct arena *ar);
struct tv *tv_new_list(struct arena *ar);
/* Add to parent: key for objects, NULL for lists.  Return the child. */
struct tv *tv_add_str(struct arena *ar, struct tv *parent, const char *key, const char *s);
struct tv *tv_add_bool(struct arena *ar, struct tv *parent, const char *key, bool b);
struct tv *tv_add_obj(struct arena *ar, struct tv *parent, const char *key);
struct tv *tv_add_list(struct arena *ar, struct tv *parent, const char *key);
/* Add another name for an existing node (tunnel1 is tunnels' first item). */
void tv_add_alias(struct arena *ar, struct tv *parent, const char *key,
    const struct tv *child);
/* A field of an object, or NULL. */
struct tv *tv_get(const struct tv *obj, const char *key, size_t keylen);

/* The variables of a render, described in templates/README.md. */
struct tv *cgw_vars_build(struct arena *ar, const struct cgw_vpn_connection *conn,
    unsigned ike_version);

#endif
