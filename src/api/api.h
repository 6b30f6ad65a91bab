/*
 * api — the EC2 Query API: HTTP (libmicrohttpd), SigV4, dispatch of
 * actions to behaviour, group commit of their changes.
 *
 * Threading: the thread that runs api_serve() (the API thread) is the only
 * one to touch a handler, the cache or the store; api_serve() adds an I/O
 * thread for HTTP and SigV4, and with ac_durable a syncer thread that
 * flushes the store (server.c). Handlers never touch sockets or devices:
 * they validate through model/ and change state through api_put() and
 * api_delete(), which write the store and the cache together.
 *
 * Durability: a request is answered only after the transaction holding
 * its changes (and every change it could have read) has committed, and
 * with ac_durable only once that commit is on disk. Requests that arrive
 * together are committed together (one flush for the batch).
 */
#ifndef VPCD_API_H
#define VPCD_API_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/sigv4.h"
#include "api/wire.h"
#include "base/doc.h"
#include "model/trace_result.h"
#include "state/cache.h"
#include "state/store.h"

struct state;

#define API_MAX_BODY (1024 * 1024)	/* bytes of form body accepted */
#define API_MAX_PARAMS 4096		/* form parameters accepted */
#define API_MAX_PARAMS_TEXT "4,096"	/* the same, in messages */

/* The HTTP side's limits (guard.h), defaults of the api_config fields. */
#define API_MAX_CONNECTIONS_DEFAULT 4096	/* open at once, in all */
#define API_MAX_CLIENT_CONNECTIONS_DEFAULT 256	/* open at once from one address */
#define API_REQUEST_TIMEOUT_DEFAULT_S 20	/* for a request's head, for its body, idle */
#define API_UNVERIFIED_MAX (64u << 20)		/* bytes of bodies not yet authenticated */
#define API_CLIENT_UNVERIFIED_MAX (16u << 20)	/* the same, from one address */

struct quota_limits;

struct api_config {
	const char *ac_listen;		/* "127.0.0.1:8775" */
	const char *ac_region;
	const char *ac_account_id;	/* 12 digits */
	struct sigv4_key *ac_keys;	/* borrowed */
	size_t ac_nkeys;
	/* --vpn-outside-addresses: host addresses (host order) that tunnels'
	 * outside addresses come from, one tunnel per address; borrowed. */
	const uint32_t *ac_vpn_outside;
	size_t ac_nvpn_outside;
	/* Public addresses (auto-assigned and Elastic IPs) come from this
	 * CIDR; NULL means API_PUBLIC_POOL_DEFAULT. Borrowed. */
	const char *ac_public_pool;
	/* --sync full: answer a change only once it is on disk. The store is
	 * flushed from a thread of the api's own, so that the disk wait of one
	 * batch overlaps the work of the next (store_flusher_new). */
	bool ac_durable;
	/* A listening socket from api_listen() (api_serve takes it over), or
	 * -1: api_serve binds ac_listen itself. */
	int ac_listen_fd;
	/* --tls: HTTPS with this PEM certificate (chain) and key, borrowed
	 * until api_free; NULL: plain HTTP. */
	const char *ac_tls_cert_pem;
	const char *ac_tls_key_pem;
	/* --max-connections, --max-client-connections, --request-timeout;
	 * 0: the API_*_DEFAULT above */
	unsigned ac_max_connections;
	unsigned ac_max_client_connections;
	unsigned ac_request_timeout_s;
	/* --quota: what one account may hold (quota.h); NULL: the defaults.
	 * Copied by api_new. */
	const struct quota_limits *ac_quota;
};

/* --- TLS (tls.c) ------------------------------------------------------------ */

struct api_tls {
	char *at_cert_pem;		/* owned */
	char *at_key_pem;		/* owned, wiped when freed */
	char at_cert_path[4096];	/* where it came from: for the log and clients */
};

/* The certificate and key to serve HTTPS with: cert_path and key_path
 * (PEM files, both or neither), else DIR/tls.crt and DIR/tls.key,
 * generated self-signed (names: localhost, this host, 127.0.0.1, the
 * listen address, this host's IPv4 addresses) when missing, unusable or
 * expired. 0, or -1 (logged). */
int api_tls_load(const char *data_dir, const char *cert_path, const char *key_path, const char *listen,
		 struct api_tls *t);
void api_tls_free(struct api_tls *t);

/* Binds "ADDR:PORT" (IPv4) without listening yet. Returns the socket, or
 * -1 with the cause logged (a malformed address, the port in use...), so
 * that a daemon can refuse to start before it touches its state; clients
 * can connect once api_serve() runs. */
int api_listen(const char *addr);

#define API_PUBLIC_POOL_DEFAULT "198.51.100.0/24"	/* documentation space (RFC 5737) */

struct api;

struct api *api_new(const struct api_config *cfg, struct store *st, struct cache *cache);
void api_free(struct api *api);
/* The state layer the api changes (state/state.h): batches over st and
 * cache, the change feed. Owned by api; vpcd's main hands it to the engine. */
struct state *api_state(struct api *api);
/* Creates what every account has (the default VPC) when the store is new. */
int api_bootstrap(struct api *api);
/* Serves until *stop becomes non-zero. Returns 0, or -1 when the listener
 * cannot be set up (logged). */
int api_serve(struct api *api, volatile sig_atomic_t *stop);

/* --- for behaviour code (the action handlers) ----------------------------- */

struct api_req {
	struct api *rq_api;
	const struct ec2_operation *rq_op;
	const char *rq_request_id;
	struct doc *rq_in;	/* request members; owned by the dispatcher */
	struct doc *rq_out;	/* response members; handlers fill it */
	/* The region of the request (its signature's scope); NULL for changes
	 * from inside vpcd, which are made in each resource's own region. */
	const char *rq_region;
	const char *rq_err_code;
	char rq_err_msg[512];
	int rq_http_status;
};

typedef int (*api_handler_fn)(struct api_req *rq);

/* Records an AWS error for the response; returns -1 for `return api_fail(...)`. */
int api_fail(struct api_req *rq, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The common "not found" error: api_not_found(rq, "InvalidVpcID.NotFound", "vpc", id). */
int api_not_found(struct api_req *rq, const char *code, const char *what, const char *id);

/* The cache, seen from the request's region while its handler runs
 * (cache.h: cache_set_region). */
struct cache *api_cache(struct api_req *rq);
/* The request's region; the default region (--region) for changes from
 * inside vpcd. */
const char *api_region(struct api_req *rq);
const char *api_account(struct api_req *rq);

/* Changes state: the doc (ownership taken) replaces the resource's doc in
 * the cache and the store; a new id gets the next creation order. A doc
 * without CACHE_REGION_KEY gets the resource's region, or the request's
 * for a new one. Never
 * change a cached doc in place (the undo log keeps the old one): edit a
 * doc_clone() and api_put() it. Returns the cached doc (borrowed), or NULL
 * after api_fail. */
struct doc *api_put(struct api_req *rq, const char *type, const char *id, struct doc *doc);
/* Deletes the resource (id may point into the resource itself). */
int api_delete(struct api_req *rq, const char *id);

/* A resource of the given type named by member `member` of the request;
 * fails with MissingParameter or code/NotFound. */
struct res *api_require(struct api_req *rq, const char *member, const char *type,
			const char *notfound_code, const char *what);
const char *api_require_str(struct api_req *rq, const char *member);

/* Describe machinery: ids, filters, paging over one resource type. */
struct filter_def {
	const char *f_name;	/* "vpc-id" */
	const char *f_path;	/* "VpcId", "Attachments.VpcId" (lists fan out) */
};

struct describe_spec {
	const char *ds_type;		/* cache type: "vpc" */
	const char *ds_ids_member;	/* "VpcIds" */
	const char *ds_notfound_code;	/* "InvalidVpcID.NotFound" */
	const char *ds_what;		/* "vpc" for messages */
	const struct filter_def *ds_filters;	/* NULL-terminated */
	const char *ds_out_member;	/* "Vpcs" */
	bool ds_paged;			/* MaxResults/NextToken */
	int ds_max_results_min;		/* usually 5 */
	int ds_max_results_max;		/* usually 1000 */
	/* Optional: decorate a copy of each resource before output. */
	void (*ds_decorate)(struct api_req *rq, struct doc *item);
};

int api_describe(struct api_req *rq, const struct describe_spec *spec);

/* Tags from TagSpecification.N for resource type rtype ("vpc"), as the
 * Tags list to store on the resource (empty list when none). */
struct doc *api_tags_from_spec(struct api_req *rq, const char *rtype);

/* --- the loop's wakeup: observed state in ------------------------------------
 * The engine follows the state's change feed itself (state/state.h:
 * state_on_commit, state_follow) and never includes api/; vpcd's main
 * wires its events queue here. Runs on the API thread. */

/* The API thread's event loop (base/evloop.h), from api_new to api_free
 * (NULL when it could not be made: api_serve then fails, logged). A
 * base/queue.h queue whose consumer is the API thread names it: the loop
 * is woken (evloop_wakeup) when the queue goes from empty to non-empty. */
struct evloop *api_loop(struct api *api);

/* In each round of the loop that was woken (api_loop's evloop_wakeup),
 * fn(arg, api) is called before that round's batch of requests runs;
 * fn takes what its queue holds and may change state (each change between
 * state_change_begin and state_change_end on api_state(api)), which joins
 * the batch and is committed with it. Set before api_serve. */
typedef void (*api_wakeup_fn)(void *arg, struct api *api);
void api_on_wakeup(struct api *api, api_wakeup_fn fn, void *arg);

/* The packet trace of VpcdTracePacket and the Reachability Analyzer's
 * actions: fn (engine_trace, src/engine/engine_trace.h: one synthetic
 * packet through the router's own compiled snapshot; api/ does not link
 * engine/, so vpcd's main hands it over). Called on the API thread with
 * the cache; its contract is engine_trace's. Set before api_serve; without
 * one, those actions answer UnsupportedOperation. */
typedef int (*api_trace_fn)(struct cache *c, const struct trace_query *q, struct trace_result *out, char *err,
			    size_t errlen);
void api_set_tracer(struct api *api, api_trace_fn fn);

/* The handler table, sorted by action name (api/actions.c). */
struct api_action {
	const char *aa_name;
	api_handler_fn aa_handler;
};
const struct api_action *api_action_find(const char *name);

#endif
