/*
 * api_int.h — what the parts of src/api share and nobody else sees: the
 * api object. Its changes go through the state layer (state/state.h: the
 * batch, each request's savepoint and the undo log that puts the cache
 * back as it was after a failed request or a failed batch commit).
 */
#ifndef VPCD_API_INT_H
#define VPCD_API_INT_H

#include "api/api.h"
#include "api/quota.h"
#include "state/state.h"

struct conn_ctx;
struct subnet_index;
struct syncer;
struct io_side;

struct api {
	struct api_config a_cfg;
	struct store *a_store;
	struct cache *a_cache;
	struct state *a_state;		/* owned: batches, undo, the change feed over a_store and a_cache */
	struct conn_ctx *a_pending;	/* answered, waiting for the commit */
	/* --sync full: answers wait in the syncer for a flush that covers
	 * a_committed, the number of commits so far (server.c) */
	struct syncer *a_syncer;
	uint64_t a_committed;
	struct io_side *a_io;		/* the I/O thread and its queues (server.c) */
	/* the API thread's loop (api_loop); a_woken: evloop_wakeup came this
	 * round (its on_wake, api_loop_woken, notes it for the check hook) */
	struct evloop *a_loop;
	bool a_woken;
	/* api_on_wakeup; NULL fn: none */
	api_wakeup_fn a_wakeup_fn;
	void *a_wakeup_arg;
	api_trace_fn a_tracer;		/* api_set_tracer; NULL: none (the trace actions refuse) */
	struct subnet_index *a_subnets;	/* the blocks of each VPC's subnets (subnet.c) */
	struct quota_limits a_quota;	/* in force (quota.h) */
	struct vpc_counts *a_vpc_counts;	/* per-VPC resource counts (quota.c) */
	/* per region of region_all(): its default VPC exists or was deleted
	 * (the meta key says so); NULL until the first request */
	bool *a_region_ready;
};

/* server.c: the API loop's on_wake (api_new makes the loop with it). */
void api_loop_woken(void *arg, uint64_t now_ms);

/* account.c: before a request of region runs, makes the region's default
 * VPC when the region is used for the first time, in its own savepoint of
 * the open batch. 0, or -1 (logged). */
int region_prepare(struct api *api, const char *region);
/* After a failed batch commit: the default VPCs made in it are undone, so
 * every region's readiness is read from the store again. */
void region_forget_prepared(struct api *api);

/* sts.c: answers a request signed for service "sts" (GetCallerIdentity),
 * in STS's own XML; out->sa_xml is the caller's to free. */
struct sts_answer {
	int sa_status;
	struct strbuf sa_xml;
};
void sts_serve(struct api *api, const struct query_params *params, const char *request_id,
	       struct sts_answer *out);

/* The index behind subnet_block_taken (resources.h): set up with the api,
 * kept by a watch on the cache. */
void subnet_index_attach(struct api *api);
void subnet_index_detach(struct api *api);

/* vpcd_actions.c: the tracer api_set_tracer set, or NULL (VpcdTracePacket
 * and the Reachability Analyzer's actions then refuse). */
api_trace_fn api_tracer(const struct api *api);

#endif
