/* actions.c — the dispatch table, built from handlers.h (sorted by name). */
#include "api/handlers.h"

#include <stdlib.h>
#include <string.h>

#define API_ENTRY(name) { #name, handle_##name },
static const struct api_action actions[] = { API_ACTIONS(API_ENTRY) };

static int action_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct api_action *)elem)->aa_name);
}

const struct api_action *api_action_find(const char *name)
{
	return bsearch(name, actions, sizeof(actions) / sizeof(actions[0]), sizeof(actions[0]), action_cmp);
}
