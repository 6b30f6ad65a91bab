/*
 * seed_trace — the seed story's "why": api_trace() (api/trace.h) over the
 * resources a vpcd data directory holds, printed as api_trace_doc() JSON.
 * Read-only: loads the store into a cache of its own (SQLite WAL lets it
 * read while vpcd runs) and never writes.
 *
 *   seed-trace DATA_DIR FROM TO PROTO PORT
 *     FROM, TO: i-…, eni-… or an IPv4 address; PROTO: tcp, udp, icmp or a
 *     number; PORT: TCP/UDP destination port, ICMP type (-1: echo request).
 * Exit 0 when traced (reachable or not), 1 on an error (printed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/trace.h"
#include "base/doc.h"
#include "base/strbuf.h"
#include "store/cache.h"
#include "store/store.h"

static void load_row(void *ctx, const char *type, const char *id, int64_t ord, const char *json)
{
	struct doc *d = doc_from_json(json, strlen(json));
	if (d)
		cache_put(ctx, type, id, ord, d);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: seed-trace DATA_DIR FROM TO PROTO PORT\n");
		return 2;
	}
	struct store *st = store_open(argv[1]);
	if (!st)
		return 1;
	struct cache *c = cache_new();
	if (store_load_all(st, load_row, c) < 0) {
		fprintf(stderr, "cannot load %s\n", argv[1]);
		return 1;
	}
	struct api_trace_query q = { argv[2], argv[3], argv[4], atoi(argv[5]), 0 };
	struct trace_result r;
	char err[256];
	int rc = 0;
	if (api_trace(c, &q, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		rc = 1;
	} else {
		struct doc *d = api_trace_doc(&r);
		struct strbuf sb = { 0 };
		doc_to_json(d, &sb);
		printf("%.*s\n", (int)sb.sb_len, sb.sb_data);
		sb_free(&sb);
		doc_free(d);
	}
	cache_free(c);
	store_close(st);
	return rc;
}
