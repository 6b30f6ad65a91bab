/*
 * server.c — the HTTP side of the API and the request lifecycle:
 * accumulate the body, verify SigV4, parse through the generated model,
 * dispatch to the action's handler, and answer once the request's
 * changes are committed.
 *
 * Two threads. The I/O thread drives libmicrohttpd (external epoll mode):
 * it reads requests, verifies their signatures and answers what fails
 * before any handler (auth, size, path); what the head of a request
 * shows to be wrong (no or a malformed signature, an unknown key, a
 * body too large or too many unauthenticated bytes held already) is
 * answered before a byte of its body is kept, and the guard (guard.h)
 * bounds connections and their time; every other request is suspended
 * and handed to the API thread through the inbox (a base/queue.h queue:
 * its loop is woken by the first request it has not taken yet, not by
 * every one). The API thread
 * (the one that called api_serve, owner of the cache, the store and the
 * state layer's batches) takes everything the inbox holds as one batch: each
 * request runs inside a savepoint of the batch transaction, the batch
 * commits, and the answers go back through the outbox, where the I/O
 * thread resumes their connections. Requests that arrive during a commit
 * form the next batch; nobody reads a change that might still be rolled
 * back, since every answer that ran after a change of its batch waits for
 * the batch's commit. The answers of requests that ran while the batch
 * had changed nothing yet (reads, refusals) saw committed state only:
 * they go out while the batch is still running (answer_early), so that
 * the I/O thread sends one answer while this thread builds the next
 * rather than the two taking turns. Large answers are built in buffers
 * kept for reuse (the answer pool).
 *
 * With --sync full the commit itself does not wait for the disk: a syncer
 * thread flushes the store (store_flush) while the API thread serves the
 * next batch, and an answer goes out only once a flush that began after
 * every commit it could have seen is done. Several batches committed
 * during one flush share the next one. A failed flush stops vpcd: what
 * it acknowledged is on disk, what it had not may be lost.
 */
#include "api/api.h"
#include "api/api_int.h"
#include "base/evloop.h"
#include "base/queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/guard.h"
#include "base/base.h"
#include "console/console.h"
#include "model/model.h"

struct conn_ctx {
	struct strbuf cc_body;
	bool cc_too_large;
	bool cc_answered;		/* response ready, waiting for resume */
	bool cc_get;			/* parameters in the URL */
	bool cc_url_args_overflow;	/* more than API_MAX_PARAMS in the URL */
	bool cc_draining;		/* refused at the head: the body is read and dropped */
	struct sigv4_auth cc_auth;	/* the signature's head, checked */
	struct query_params cc_url_args, cc_form;
	int cc_status;
	char *cc_xml;			/* owned until queued */
	size_t cc_xml_len;
	size_t cc_xml_cap;		/* > 0: a buffer of the answer pool of that size */
	bool cc_xml_secret;		/* holds a pre-shared key: wiped when freed */
	struct MHD_Connection *cc_conn;
	struct conn_ctx *cc_next_pending;	/* the API thread's and the syncer's own lists */
	struct queue_node cc_qnode;	/* on the inbox or the outbox (base/queue.h) */
	uint64_t cc_durable_after;	/* --sync full: the commit its answer waits for */
	char cc_request_id[40];
	char cc_action[64];
	char cc_region[32];		/* the signature's scope: the request's region */
	char cc_service[8];		/* and service: "ec2" or "sts" */
	uint64_t cc_start_us;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void new_request_id(char *buf)
{
	uint8_t r[16];
	rand_id_bytes(r, sizeof(r));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	char h[33];
	hex_encode(r, 16, h);
	/* 8-4-4-4-12, as a UUID is written */
	static const uint8_t group_end[] = { 8, 12, 16, 20, 32 };
	size_t o = 0, from = 0;
	for (size_t g = 0; g < ARRAY_LEN(group_end); g++) {
		if (g)
			buf[o++] = '-';
		memcpy(buf + o, h + from, group_end[g] - from);
		o += group_end[g] - from;
		from = group_end[g];
	}
	buf[o] = '\0';
}

static const char *header_lookup(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct conn_ctx *cc = cls;
	if (query_add(&cc->cc_url_args, key, value, API_MAX_PARAMS) != QUERY_OK) {
		cc->cc_url_args_overflow = true;
		return MHD_NO;
	}
	return MHD_YES;
}

static void wipe_free(void *xml)
{
	secret_wipe(xml, strlen(xml));
	free(xml);
}

/* --- answer buffers ---------------------------------------------------------
 * A large answer (a page of 1,000 subnets is about 1 MB of XML) is built
 * into a buffer that is kept, once libmicrohttpd has sent it, for the
 * next large answer instead of being freed: malloc gives a freed block
 * of that size back to the kernel (munmap, or a trim of the heap's top),
 * so that the next answer faulted every page of its buffer in again;
 * with 64 clients paging DescribeSubnets that was a quarter of vpcd's
 * time. At most ANSWER_POOL_COUNT buffers and ANSWER_POOL_BYTES in all
 * are kept, each of at least ANSWER_POOL_MIN and at most
 * ANSWER_POOL_LARGEST, and all are freed once none was taken for
 * ANSWER_POOL_IDLE_MS (a burst of large answers leaves no memory behind);
 * answers that hold a secret never use them (they are wiped and freed).
 * The API thread takes, the I/O thread gives back and trims. */
#define ANSWER_POOL_COUNT 64
#define ANSWER_POOL_BYTES ((size_t)128 << 20)
#define ANSWER_POOL_MIN ((size_t)64 << 10)
#define ANSWER_POOL_LARGEST ((size_t)16 << 20)
#define ANSWER_POOL_IDLE_MS 2000

struct answer_buf {
	char *ab_data;
	size_t ab_cap;
};

static struct {
	pthread_mutex_t ap_lock;
	struct answer_buf ap_buf[ANSWER_POOL_COUNT];	/* the last given back on top */
	size_t ap_count, ap_bytes;
	uint64_t ap_taken_ms;	/* when a buffer was last taken */
} answer_pool = { .ap_lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t now_ms(void);

/* An empty strbuf for an answer, on a kept buffer when there is one. */
static void answer_buf_take(struct strbuf *sb)
{
	*sb = (struct strbuf)STRBUF_INIT;
	pthread_mutex_lock(&answer_pool.ap_lock);
	answer_pool.ap_taken_ms = now_ms();
	if (answer_pool.ap_count) {
		struct answer_buf *b = &answer_pool.ap_buf[--answer_pool.ap_count];
		answer_pool.ap_bytes -= b->ab_cap;
		sb->sb_data = b->ab_data;
		sb->sb_cap = b->ab_cap;
		sb->sb_data[0] = '\0';
	}
	pthread_mutex_unlock(&answer_pool.ap_lock);
}

/* Keeps data (of cap bytes) for another answer, or frees it. */
static void answer_buf_give(char *data, size_t cap)
{
	if (!data)
		return;
	if (cap >= ANSWER_POOL_MIN && cap <= ANSWER_POOL_LARGEST) {
		pthread_mutex_lock(&answer_pool.ap_lock);
		if (answer_pool.ap_count < ANSWER_POOL_COUNT && answer_pool.ap_bytes + cap <= ANSWER_POOL_BYTES) {
			answer_pool.ap_buf[answer_pool.ap_count++] = (struct answer_buf){ data, cap };
			answer_pool.ap_bytes += cap;
			data = NULL;
		}
		pthread_mutex_unlock(&answer_pool.ap_lock);
	}
	free(data);
}

/* Frees what the pool keeps: all of it (when the server stops), or when
 * idle, once no buffer was taken for ANSWER_POOL_IDLE_MS. */
static void answer_pool_drain(bool idle_only)
{
	pthread_mutex_lock(&answer_pool.ap_lock);
	if (!idle_only || now_ms() - answer_pool.ap_taken_ms >= ANSWER_POOL_IDLE_MS) {
		while (answer_pool.ap_count)
			free(answer_pool.ap_buf[--answer_pool.ap_count].ab_data);
		answer_pool.ap_bytes = 0;
	}
	pthread_mutex_unlock(&answer_pool.ap_lock);
}

/* libmicrohttpd's free callback of a response on a pool buffer. */
static void answer_buf_sent(void *cls)
{
	struct answer_buf *b = cls;
	answer_buf_give(b->ab_data, b->ab_cap);
	free(b);
}

/* cc's answer from sb (detached): a large one keeps its buffer for the
 * pool; a small one moves into a block of its size, and the buffer it
 * was written in goes back at once. */
static void answer_set(struct conn_ctx *cc, struct strbuf *sb)
{
	cc->cc_xml_len = sb->sb_len;
	cc->cc_xml_cap = 0;
	if (sb->sb_secret || sb->sb_cap < ANSWER_POOL_MIN) {
		cc->cc_xml = sb_detach(sb);
		return;
	}
	if (sb->sb_len >= ANSWER_POOL_MIN / 4) {
		cc->cc_xml_cap = sb->sb_cap;
		cc->cc_xml = sb_detach(sb);
		return;
	}
	cc->cc_xml = malloc(sb->sb_len + 1);
	if (!cc->cc_xml)
		abort();
	memcpy(cc->cc_xml, sb->sb_data, sb->sb_len + 1);
	answer_buf_give(sb->sb_data, sb->sb_cap);
	*sb = (struct strbuf)STRBUF_INIT;
}

static void xml_free(struct conn_ctx *cc)
{
	if (cc->cc_xml && cc->cc_xml_secret)
		wipe_free(cc->cc_xml);
	else if (cc->cc_xml_cap)
		answer_buf_give(cc->cc_xml, cc->cc_xml_cap);
	else
		free(cc->cc_xml);
	cc->cc_xml = NULL;
	cc->cc_xml_cap = 0;
	cc->cc_xml_secret = false;
}

static void answer_error(struct conn_ctx *cc, int status, const char *code, const char *msg)
{
	xml_free(cc);
	struct strbuf x = STRBUF_INIT;
	wire_write_error(code, msg, cc->cc_request_id, &x);
	cc->cc_status = status;
	cc->cc_xml_len = x.sb_len;
	cc->cc_xml = sb_detach(&x);
}

static int status_for(const char *code)
{
	if (strcmp(code, "AuthFailure") == 0 || strcmp(code, "MissingAuthenticationToken") == 0 ||
	    strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "IncompleteSignature") == 0)
		return 401;
	if (strcmp(code, "RequestExpired") == 0)
		return 400;
	if (strcmp(code, "DryRunOperation") == 0)
		return 412;
	if (strcmp(code, "InternalError") == 0)
		return 500;
	return 400;
}

static bool region_served(const char *name)
{
	return region_find(name) != NULL;
}

/* Lines that any client can make vpcd write at request rate (refusals
 * on the I/O thread, before any handler): at most API_LOG_BURST of each
 * kind per API_LOG_INTERVAL_MS, the rest counted ("N similar messages
 * suppressed"). I/O thread only. */
#define API_LOG_INTERVAL_MS 10000
#define API_LOG_BURST 20
enum io_log_kind { IO_LOG_AUTH, IO_LOG_BUDGET, IO_LOG_REFUSED, IO_LOG_HTTP, IO_LOG_KINDS };
static struct log_limit io_log[IO_LOG_KINDS] = {
	LOG_LIMIT_INIT(API_LOG_INTERVAL_MS, API_LOG_BURST),
	LOG_LIMIT_INIT(API_LOG_INTERVAL_MS, API_LOG_BURST),
	LOG_LIMIT_INIT(API_LOG_INTERVAL_MS, API_LOG_BURST),
	LOG_LIMIT_INIT(API_LOG_INTERVAL_MS, API_LOG_BURST),
};
static const char *const io_log_what[IO_LOG_KINDS] = { "api: refused signatures", "api: refused bodies",
							"api: requests answered before the API",
							"api: libmicrohttpd messages" };

static uint64_t now_ms(void)
{
	return now_us() / 1000;
}

static void io_log_flush(void)
{
	for (int k = 0; k < IO_LOG_KINDS; k++)
		log_limit_flush(&io_log[k], now_ms(), LOG_INFO, "api", io_log_what[k]);
}

/* libmicrohttpd's own messages (malformed requests, heads too large for
 * a connection's memory...), one log line each, through a limit. Called
 * on the I/O thread, or before it starts and after it stopped. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\r\n")] = '\0';
	char shown[512];
	log_limited(&io_log[IO_LOG_HTTP], now_ms(), LOG_INFO, "api", "http: %s", wire_printable(line, shown, sizeof(shown)));
}

static void log_auth_failure(const struct conn_ctx *cc, const struct sigv4_result *sres)
{
	log_limited(&io_log[IO_LOG_AUTH], now_ms(), LOG_INFO, "api", "req=%s auth %s: %s (key %s)", cc->cc_request_id,
		    sres->v_code, sres->v_message, sres->v_access_key_id[0] ? sres->v_access_key_id : "-");
}

/* The Content-Length of the request: 0 when absent; -1 when malformed. */
static long long content_length(struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!v)
		return 0;
	long long n = 0;
	if (!*v || strlen(v) > 12)
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		n = n * 10 + (*v - '0');
	}
	return n;
}

/* I/O thread, as soon as a request's head is in: what the head alone
 * shows (path, method, size, the signature's head, room for the body).
 * Returns true when cc holds the answer: no byte of the body is kept. */
static bool judge_head(struct api *api, struct guard *g, struct conn_ctx *cc, struct MHD_Connection *conn,
		       const char *method, const char *url)
{
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, cc);
	if (cc->cc_url_args_overflow) {
		answer_error(cc, 400, "InvalidParameterValue", "The URL has more than " API_MAX_PARAMS_TEXT " query parameters");
		return true;
	}
	if (strcmp(url, "/") != 0) {
		answer_error(cc, 404, "InvalidAction", "The requested path is not served: the EC2 API is at /");
		return true;
	}
	if (strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0) {
		answer_error(cc, 405, "InvalidAction", "Only POST and GET are served");
		return true;
	}
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		answer_error(cc, 411, "MissingContentLength", "A request body must come with a Content-Length");
		return true;
	}
	long long length = content_length(conn);
	if (length < 0) {
		answer_error(cc, 400, "InvalidParameterValue", "The Content-Length is not a number");
		return true;
	}
	if (length > API_MAX_BODY) {
		answer_error(cc, 413, "RequestEntityTooLarge", "The request body exceeds 1 MiB");
		return true;
	}
	struct sigv4_request sreq = { method, url, &cc->cc_url_args, header_lookup, conn, NULL, 0 };
	struct sigv4_result sres;
	if (!sigv4_check_head(&sreq, api->a_cfg.ac_keys, api->a_cfg.ac_nkeys, region_served, time(NULL),
			      &cc->cc_auth, &sres)) {
		log_auth_failure(cc, &sres);
		answer_error(cc, status_for(sres.v_code), sres.v_code, sres.v_message);
		return true;
	}
	if (!guard_reserve(g, conn, (size_t)length)) {
		log_limited(&io_log[IO_LOG_BUDGET], now_ms(), LOG_INFO, "api",
			    "req=%s refused: too many bytes of unauthenticated bodies are held (%zu)", cc->cc_request_id,
			    guard_unverified(g));
		answer_error(cc, 503, "RequestLimitExceeded", "Request limit exceeded.");
		return true;
	}
	if (length)
		sb_reserve(&cc->cc_body, (size_t)length);	/* once: no growth, no copies */
	return false;
}

#define API_DRAIN_MAX (2 * API_MAX_BODY)	/* a refused body read (and dropped) so that its answer is read */

/* Whether the body of a request refused at its head is read (and dropped)
 * before the answer, so that a client that sends its body without
 * waiting (no Expect: 100-continue) reads the answer rather than a reset
 * connection. Only up to API_DRAIN_MAX, within the request timeout: it
 * costs reading, never memory. */
static bool drain_refused_body(struct MHD_Connection *conn)
{
	const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
	long long length = content_length(conn);
	return length > 0 && length <= API_DRAIN_MAX && !(expect && strcasecmp(expect, "100-continue") == 0);
}

/* I/O thread, once the body is in: the signature over it, the form's
 * syntax. Returns true when cc holds the answer. */
static bool judge_body(struct api *api, struct conn_ctx *cc, struct MHD_Connection *conn, const char *method,
		       const char *url)
{
	if (cc->cc_too_large) {
		answer_error(cc, 413, "RequestEntityTooLarge", "The request body exceeds 1 MiB");
		return true;
	}
	struct sigv4_request sreq = { method, url, &cc->cc_url_args, header_lookup, conn,
				      cc->cc_body.sb_data, cc->cc_body.sb_len };
	struct sigv4_result sres;
	if (!sigv4_check_body(&cc->cc_auth, &sreq, &sres)) {
		log_auth_failure(cc, &sres);
		answer_error(cc, status_for(sres.v_code), sres.v_code, sres.v_message);
		return true;
	}
	snprintf(cc->cc_region, sizeof(cc->cc_region), "%s", sres.v_region);
	snprintf(cc->cc_service, sizeof(cc->cc_service), "%s", sres.v_service);
	int qs = query_parse(cc->cc_body.sb_data ? cc->cc_body.sb_data : "", cc->cc_body.sb_len, API_MAX_PARAMS,
			     &cc->cc_form);
	if (qs == QUERY_TOO_MANY) {
		answer_error(cc, 400, "InvalidParameterValue", "The request has more than " API_MAX_PARAMS_TEXT " parameters");
		return true;
	}
	if (qs != QUERY_OK) {
		answer_error(cc, 400, "InvalidParameterValue",
			     "The request body is not valid form-urlencoded data (a malformed %-escape, or %00)");
		return true;
	}
	cc->cc_get = strcmp(method, "GET") == 0;
	return false;
}

/* Removes the query-string signature's parameters (X-Amz-*). */
static void drop_auth_params(struct query_params *q)
{
	size_t n = 0;
	for (size_t i = 0; i < q->qp_count; i++) {
		if (strncmp(q->qp_items[i].qp_name, "X-Amz-", 6) == 0) {
			free(q->qp_items[i].qp_name);
			free(q->qp_items[i].qp_value);
		} else {
			q->qp_items[n++] = q->qp_items[i];
		}
	}
	q->qp_count = n;
}

/* API thread: runs one verified request; leaves the answer in cc. */
static void run_request(struct api *api, struct conn_ctx *cc)
{
	struct doc *in = NULL;
	/* GET requests carry their parameters in the URL, and so does a
	 * presigned POST with no body; the URL of a presigned request also
	 * holds its signature, which is no parameter of the action */
	drop_auth_params(&cc->cc_url_args);
	bool in_url = cc->cc_get || (cc->cc_form.qp_count == 0 && query_get(&cc->cc_url_args, "Action"));
	const struct query_params *params = in_url ? &cc->cc_url_args : &cc->cc_form;
	const char *action = query_get(params, "Action");
	if (!action) {
		answer_error(cc, 400, "MissingAction", "The request must contain the parameter Action");
		goto out;
	}
	wire_printable(action, cc->cc_action, sizeof(cc->cc_action));	/* logged */
	if (strcmp(cc->cc_service, "sts") == 0) {
		struct sts_answer sa = { 0 };
		sts_serve(api, params, cc->cc_request_id, &sa);
		xml_free(cc);
		cc->cc_status = sa.sa_status;
		cc->cc_xml_len = sa.sa_xml.sb_len;
		cc->cc_xml = sb_detach(&sa.sa_xml);
		goto out;
	}
	const char *version = query_get(params, "Version");
	if (!version) {
		answer_error(cc, 400, "MissingParameter", "The request must contain the parameter Version");
		goto out;
	}
	const struct ec2_operation *op = ec2_operation_find(action);
	const struct api_action *aa = api_action_find(action);
	if (!op || !aa) {
		char m[200], shown[65];
		snprintf(m, sizeof(m), "The action %s is not valid for this web service.",
			 wire_printable(action, shown, sizeof(shown)));
		answer_error(cc, 400, "InvalidAction", m);
		goto out;
	}
	char code[64], msg[512];
	in = wire_parse_request(op, params, code, sizeof(code), msg, sizeof(msg));
	if (!in) {
		answer_error(cc, 400, code, msg);
		goto out;
	}
	if (doc_get_bool(in, "DryRun", false)) {
		answer_error(cc, 412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
		goto out;
	}

	if (region_prepare(api, cc->cc_region) < 0) {
		answer_error(cc, 500, "InternalError", "The region's default VPC could not be created");
		goto out;
	}
	struct api_req rq = { .rq_api = api, .rq_op = op, .rq_request_id = cc->cc_request_id,
			      .rq_in = in, .rq_out = doc_obj(), .rq_region = cc->cc_region };
	state_change_begin(api->a_state);
	cache_set_region(api->a_cache, cc->cc_region);	/* the handler sees its region only */
	int rc = quota_check_tag_specs(&rq) < 0 ? -1 : aa->aa_handler(&rq);
	cache_set_region(api->a_cache, NULL);
	if (state_change_end(api->a_state, rc) < 0 && rc == 0)
		rc = api_fail(&rq, "InternalError", "%s", state_error(api->a_state));
	if (rc < 0) {
		if (!rq.rq_err_code)
			api_fail(&rq, "InternalError", "An internal error has occurred");
		answer_error(cc, rq.rq_http_status ? rq.rq_http_status : status_for(rq.rq_err_code),
			     rq.rq_err_code, rq.rq_err_msg);
	} else {
		struct strbuf x = STRBUF_INIT;
		x.sb_secret = doc_holds_secret(rq.rq_out);	/* e.g. a VPN connection's configuration */
		if (!x.sb_secret)
			answer_buf_take(&x);
		wire_write_response(op, rq.rq_out, cc->cc_request_id, &x);
		xml_free(cc);
		cc->cc_status = 200;
		cc->cc_xml_secret = x.sb_secret;
		answer_set(cc, &x);
	}
	doc_free(rq.rq_out);
out:
	doc_free(in);
	query_free(&cc->cc_url_args);
	query_free(&cc->cc_form);
	sb_free(&cc->cc_body);
}

/* --- the inbox and the outbox between the two threads ------------------------ */

/* Requests in order, linked by cc_next_pending. */
struct cc_list {
	struct conn_ctx *l_head, *l_tail;
};

/* Appends first..last (already linked). */
static void cc_list_append(struct cc_list *l, struct conn_ctx *first, struct conn_ctx *last)
{
	last->cc_next_pending = NULL;
	if (l->l_tail)
		l->l_tail->cc_next_pending = first;
	else
		l->l_head = first;
	l->l_tail = last;
}

/* The inbox (I/O thread -> API thread: requests to run; its consumer
 * is the API thread's loop, api_loop) and the outbox (API thread and
 * syncer -> I/O thread: answered requests to resume; its consumer is the
 * I/O thread's loop) are base/queue.h queues of conn_ctx (cc_qnode): a
 * push wakes the other thread only when it had taken everything before,
 * so a batch of requests or answers costs one eventfd write, not one
 * each. A conn_ctx is on one of them at a time, and nobody else touches
 * it while it is. */
struct io_side {
	struct MHD_Daemon *io_daemon;
	struct guard *io_guard;
	pthread_t io_thread;
	atomic_bool io_stop;
	struct queue io_inbox, io_outbox;
	struct evloop *io_loop;		/* MHD's epoll fd; its wakeup: the outbox (base/evloop.h) */
};

#define CC_OF(n) QUEUE_ITEM(n, struct conn_ctx, cc_qnode)

/* What a take returned, relinked by cc_next_pending (NULL-terminated). */
static struct conn_ctx *cc_from_nodes(struct queue_node *n)
{
	struct conn_ctx *first = NULL, **tail = &first;
	for (; n; n = n->qn_next) {
		*tail = CC_OF(n);
		tail = &(*tail)->cc_next_pending;
	}
	*tail = NULL;
	return first;
}

/* API thread or syncer: answers first..last (linked by cc_next_pending)
 * to the I/O thread, in order, as one batch: one wakeup at most (once
 * pushed, the I/O thread may resume, answer and free them). */
static void outbox_push(struct queue *out, struct conn_ctx *first, struct conn_ctx *last)
{
	struct queue_batch b = { 0 };
	for (struct conn_ctx *cc = first; cc; cc = cc == last ? NULL : cc->cc_next_pending)
		queue_batch_add(&b, &cc->cc_qnode);
	(void)queue_push_batch(out, &b);	/* never closed */
}

/* API thread: hands answers back to the I/O thread. */
static void release(struct api *api, struct conn_ctx *first, struct conn_ctx *last)
{
	if (first)
		outbox_push(&api->a_io->io_outbox, first, last);
}

static enum MHD_Result queue_answer(struct conn_ctx *cc, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	if (cc->cc_xml_secret) {
		resp = MHD_create_response_from_buffer_with_free_callback(cc->cc_xml_len, cc->cc_xml, wipe_free);
	} else if (cc->cc_xml_cap) {
		struct answer_buf *b = malloc(sizeof(*b));
		if (!b)
			abort();
		*b = (struct answer_buf){ cc->cc_xml, cc->cc_xml_cap };
		resp = MHD_create_response_from_buffer_with_free_callback_cls(cc->cc_xml_len, cc->cc_xml,
									      answer_buf_sent, b);
	} else {
		resp = MHD_create_response_from_buffer(cc->cc_xml_len, cc->cc_xml, MHD_RESPMEM_MUST_FREE);
	}
	cc->cc_xml = NULL;
	cc->cc_xml_cap = 0;
	cc->cc_xml_secret = false;
	MHD_add_response_header(resp, "Content-Type", "text/xml;charset=UTF-8");
	MHD_add_response_header(resp, "x-amzn-RequestId", cc->cc_request_id);
	enum MHD_Result r = MHD_queue_response(conn, (unsigned)cc->cc_status, resp);
	MHD_destroy_response(resp);
	double ms = (double)(now_us() - cc->cc_start_us) / 1000.0;
	if (!cc->cc_action[0])	/* refused on the I/O thread: any client can make these */
		log_limited(&io_log[IO_LOG_REFUSED], now_ms(), cc->cc_status >= 500 ? LOG_ERROR : LOG_INFO, "api",
			    "req=%s - %d %.2fms", cc->cc_request_id, cc->cc_status, ms);
	else if (cc->cc_status >= 500)
		log_error("api", "req=%s %s %d %.2fms", cc->cc_request_id, cc->cc_action[0] ? cc->cc_action : "-", cc->cc_status, ms);
	else	/* one a request: kept, written once per wakeup of the I/O loop */
		log_keep(LOG_INFO, "api", "req=%s %s %d %.2fms", cc->cc_request_id, cc->cc_action[0] ? cc->cc_action : "-",
			 cc->cc_status, ms);
	return r;
}

static void eventfd_kick(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("api", "eventfd: %s", strerror(errno));
}

/* --- the syncer (--sync full) -----------------------------------------------
 * The API thread hands it each batch's answers with the number of the
 * last commit they could have seen; the syncer flushes, then passes the
 * answers its flush covers straight to the outbox. */

struct syncer {
	pthread_t sy_thread;
	pthread_mutex_t sy_lock;
	pthread_cond_t sy_cond;
	uint64_t sy_wanted;	/* the latest commit */
	uint64_t sy_done;	/* every commit up to here is flushed */
	int sy_errno;		/* of a failed flush; 0 while all is well */
	bool sy_stop;
	int sy_event;		/* eventfd: readable when a flush failed */
	struct cc_list sy_waiting;	/* answers, oldest first */
	struct queue *sy_out;	/* the outbox (base/queue.h) */
	struct store_flusher *sy_flusher;
};

/* Under sy_lock: detaches the answers that may go (all of them, as
 * errors, once a flush failed). */
static struct conn_ctx *syncer_ready(struct syncer *sy, struct conn_ctx **last)
{
	struct cc_list *w = &sy->sy_waiting;
	struct conn_ctx *first = w->l_head;
	*last = NULL;
	while (w->l_head && (sy->sy_errno || w->l_head->cc_durable_after <= sy->sy_done)) {
		*last = w->l_head;
		w->l_head = (*last)->cc_next_pending;
		if (sy->sy_errno) {
			answer_error(*last, 500, "InternalError", "The change could not be stored");
		}
	}
	if (!w->l_head)
		w->l_tail = NULL;
	return *last ? first : NULL;
}

static void *syncer_main(void *arg)
{
	struct syncer *sy = arg;
	pthread_mutex_lock(&sy->sy_lock);
	for (;;) {
		while (!sy->sy_stop && sy->sy_wanted == sy->sy_done)
			pthread_cond_wait(&sy->sy_cond, &sy->sy_lock);
		if (sy->sy_wanted == sy->sy_done)
			break;	/* stopping, nothing left */
		uint64_t target = sy->sy_wanted;	/* committed before this flush begins */
		pthread_mutex_unlock(&sy->sy_lock);
		int rc = store_flush(sy->sy_flusher), err = errno;
		pthread_mutex_lock(&sy->sy_lock);
		bool failed_now = rc < 0 && !sy->sy_errno;
		if (failed_now)
			sy->sy_errno = err ? err : EIO;
		sy->sy_done = target;
		struct conn_ctx *last, *first = syncer_ready(sy, &last);
		pthread_mutex_unlock(&sy->sy_lock);
		if (first)
			outbox_push(sy->sy_out, first, last);
		if (failed_now)
			eventfd_kick(sy->sy_event);
		pthread_mutex_lock(&sy->sy_lock);
	}
	pthread_mutex_unlock(&sy->sy_lock);
	return NULL;
}

static struct syncer *syncer_start(struct store *st, struct queue *out)
{
	struct store_flusher *f = store_flusher_new(st);
	if (!f)
		return NULL;	/* logged; commits stay synchronous */
	struct syncer *sy = calloc(1, sizeof(*sy));
	if (!sy)
		abort();
	sy->sy_flusher = f;
	sy->sy_out = out;
	pthread_mutex_init(&sy->sy_lock, NULL);
	pthread_cond_init(&sy->sy_cond, NULL);
	sy->sy_event = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sy->sy_event < 0 || pthread_create(&sy->sy_thread, NULL, syncer_main, sy) != 0) {
		log_error("api", "cannot start the syncer thread: every commit is synced before it returns");
		if (sy->sy_event >= 0)
			close(sy->sy_event);
		store_flusher_free(f);
		store_set_sync(st, true);
		free(sy);
		return NULL;
	}
	return sy;
}

/* Flushes what is left, passes on the last answers and stops the thread. */
static void syncer_stop(struct syncer *sy)
{
	pthread_mutex_lock(&sy->sy_lock);
	sy->sy_stop = true;
	pthread_cond_signal(&sy->sy_cond);
	pthread_mutex_unlock(&sy->sy_lock);
	pthread_join(sy->sy_thread, NULL);
	close(sy->sy_event);
	store_flusher_free(sy->sy_flusher);
	pthread_mutex_destroy(&sy->sy_lock);
	pthread_cond_destroy(&sy->sy_cond);
	free(sy);
}

/* API thread: answers first..last may have read every commit up to
 * `commit`; flush_it when that commit is new. */
static void syncer_hand(struct syncer *sy, uint64_t commit, bool flush_it, struct conn_ctx *first,
			struct conn_ctx *last)
{
	pthread_mutex_lock(&sy->sy_lock);
	if (flush_it) {
		sy->sy_wanted = commit;
		pthread_cond_signal(&sy->sy_cond);
	}
	for (struct conn_ctx *cc = first; cc; cc = cc == last ? NULL : cc->cc_next_pending)
		cc->cc_durable_after = commit;
	if (first)
		cc_list_append(&sy->sy_waiting, first, last);
	struct conn_ctx *rlast, *ready = syncer_ready(sy, &rlast);	/* already flushed */
	pthread_mutex_unlock(&sy->sy_lock);
	if (ready)
		outbox_push(sy->sy_out, ready, rlast);
}

/* API thread: the errno of a failed flush, or 0. */
static int syncer_failed(struct syncer *sy)
{
	uint64_t ev;
	if (read(sy->sy_event, &ev, sizeof(ev)) < 0 && errno != EAGAIN)
		log_error("api", "syncer: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&sy->sy_lock);
	int err = sy->sy_errno;
	pthread_mutex_unlock(&sy->sy_lock);
	return err;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct api *api = cls;
	struct guard *g = api->a_io->io_guard;
	struct conn_ctx *cc = *con_cls;
	if (!cc) {
		/* the head is in */
		cc = calloc(1, sizeof(*cc));
		if (!cc)
			return MHD_NO;
		cc->cc_conn = conn;
		cc->cc_body.sb_secret = true;	/* may carry a pre-shared key */
		cc->cc_start_us = now_us();
		new_request_id(cc->cc_request_id);
		*con_cls = cc;
		guard_head_in(g, conn);
		enum MHD_Result console_result;	/* the console's files; its API calls come back signed */
		if (console_answer(conn, method, url, &console_result)) {
			guard_body_in(g, conn);
			return console_result;
		}
		if (judge_head(api, g, cc, conn, method, url)) {
			if (drain_refused_body(conn)) {
				cc->cc_draining = true;
				return MHD_YES;
			}
			guard_body_in(g, conn);	/* none will be read */
			return queue_answer(cc, conn);
		}
		return MHD_YES;
	}
	if (cc->cc_draining) {
		if (*upload_data_size) {
			*upload_data_size = 0;	/* dropped */
			return MHD_YES;
		}
		guard_body_in(g, conn);
		return queue_answer(cc, conn);
	}
	if (*upload_data_size) {
		if (cc->cc_body.sb_len + *upload_data_size > API_MAX_BODY)
			cc->cc_too_large = true;
		else
			sb_append(&cc->cc_body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (cc->cc_answered)
		return queue_answer(cc, conn);
	guard_body_in(g, conn);
	if (judge_body(api, cc, conn, method, url))
		return queue_answer(cc, conn);
	/* to the API thread (woken by the first request it has not taken
	 * yet; those that come while it runs wait for its next take). From
	 * the push on, cc is the API thread's: only conn is touched here.
	 * Suspended after the push, yet always before its resume: that is
	 * this thread's too (from the outbox), after this callback returns. */
	if (!queue_push(&api->a_io->io_inbox, &cc->cc_qnode)) {	/* closed */
		answer_error(cc, 503, "Unavailable", "vpcd is stopping");
		return queue_answer(cc, conn);
	}
	MHD_suspend_connection(conn);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api *api = cls;
	if (api->a_io)
		guard_request_done(api->a_io->io_guard, conn);
	struct conn_ctx *cc = *con_cls;
	if (!cc)
		return;
	sb_free(&cc->cc_body);
	query_free(&cc->cc_url_args);
	query_free(&cc->cc_form);
	xml_free(cc);
	secret_wipe(&cc->cc_auth, sizeof(cc->cc_auth));
	free(cc);
	*con_cls = NULL;
}

void api_on_wakeup(struct api *api, api_wakeup_fn fn, void *arg)
{
	api->a_wakeup_fn = fn;
	api->a_wakeup_arg = arg;
}

/* Commits the open batch and releases every answer of it (after the next
 * flush with --sync full); when the commit fails every answer of the
 * batch becomes an error. */
static void finish_batch(struct api *api)
{
	bool flush_it = false;
	if (state_batch_open(api->a_state)) {
		if (state_commit(api->a_state) < 0) {	/* undone, logged */
			region_forget_prepared(api);	/* a default VPC made in it is undone too */
			for (struct conn_ctx *cc = api->a_pending; cc; cc = cc->cc_next_pending)
				answer_error(cc, 500, "InternalError", "The change could not be stored");
		} else if (api->a_syncer) {
			/* the commit listeners (the engine's) have run */
			api->a_committed++;
			flush_it = true;
		}
	}
	/* in the order they came */
	struct conn_ctx *cc = api->a_pending, *first = NULL, *last = api->a_pending;
	api->a_pending = NULL;
	while (cc) {
		struct conn_ctx *next = cc->cc_next_pending;
		cc->cc_next_pending = first;
		first = cc;
		cc = next;
	}
	if (api->a_syncer)
		/* with every commit they could have seen flushed */
		syncer_hand(api->a_syncer, api->a_committed, flush_it, first, last);
	else
		release(api, first, last);
}

/* Answers that saw committed state only, released before their batch
 * ends (answer_early): they wait for no commit, and with --sync full for
 * the flush of the commits before them only. Kept in order, handed on in
 * runs so that the I/O thread writes one while this thread builds the
 * next, without a wake-up per small answer. */
struct early {
	struct conn_ctx *e_first, *e_last;
	size_t e_bytes;		/* of the answers held */
	uint64_t e_since_us;	/* when the oldest held answer was built */
};

#define EARLY_BYTES (64 * 1024)	/* a run this large goes at once */
#define EARLY_US 200		/* and none waits longer than this */

static void early_flush(struct api *api, struct early *e)
{
	if (!e->e_first)
		return;
	if (api->a_syncer)
		syncer_hand(api->a_syncer, api->a_committed, false, e->e_first, e->e_last);
	else
		release(api, e->e_first, e->e_last);
	*e = (struct early){ 0 };
}

/* API thread, after run_request: a request that ran while this batch had
 * changed nothing (no transaction open: no handler before it, nor it,
 * wrote) read only what earlier batches committed, so its answer need not
 * wait for this batch's commit. Returns false when it must (it is then
 * the caller's to queue on a_pending). */
static bool answer_early(struct api *api, struct early *e, struct conn_ctx *cc)
{
	if (state_batch_open(api->a_state))
		return false;
	cc->cc_next_pending = NULL;
	if (e->e_last)
		e->e_last->cc_next_pending = cc;
	else {
		e->e_first = cc;
		e->e_since_us = now_us();
	}
	e->e_last = cc;
	e->e_bytes += cc->cc_xml_len;
	if (e->e_bytes >= EARLY_BYTES || now_us() - e->e_since_us >= EARLY_US)
		early_flush(api, e);
	return true;
}

/* I/O thread: resumes the connections whose answers are in the outbox. */
static void io_resume_answered(struct io_side *io)
{
	for (struct queue_node *n = queue_take_all(&io->io_outbox), *next; n; n = next) {
		next = n->qn_next;
		struct conn_ctx *cc = CC_OF(n);
		cc->cc_answered = true;
		MHD_resume_connection(cc->cc_conn);
	}
}

/* The I/O loop's wakeup: the outbox went from empty to non-empty (or the
 * server stops). */
static void on_outbox_woken(void *arg, uint64_t now_ms)
{
	(void)now_ms;
	io_resume_answered(arg);
}

/* MHD's epoll fd is readable: MHD_run, which every round makes, serves it.
 * (Watching it in our own epoll set is safe: only an epoll_wait on MHD's
 * fd itself would consume its edge-triggered events.) */
static void on_mhd_ready(void *arg, int fd, uint32_t events, uint64_t now_ms)
{
	(void)arg;
	(void)fd;
	(void)events;
	(void)now_ms;
}

/* The I/O thread: libmicrohttpd, and the resumption of answered requests.
 * One round: the guard's sweep, at most 500 ms (or MHD's timeout) of
 * waiting in the event loop, answered connections resumed, MHD_run. */
static void *io_main(void *arg)
{
	struct io_side *io = arg;
	struct MHD_Daemon *d = io->io_daemon;
	for (;;) {
		bool stopping = atomic_load(&io->io_stop);
		MHD_UNSIGNED_LONG_LONG timeout_ms = 0;
		int sweep_ms = guard_sweep(io->io_guard);	/* closes what is past its deadline */
		io_log_flush();
		answer_pool_drain(true);
		int wait_ms = stopping ? 0 : sweep_ms < 500 ? sweep_ms : 500;
		if (MHD_get_timeout(d, &timeout_ms) == MHD_YES && timeout_ms < (MHD_UNSIGNED_LONG_LONG)wait_ms)
			wait_ms = (int)timeout_ms;
		if (evloop_run_once(io->io_loop, wait_ms > 0 ? (uint64_t)wait_ms : 0) < 0) {
			log_error("api", "epoll_wait: %s", strerror(errno));
			break;
		}
		if (stopping)
			io_resume_answered(io);
		MHD_run(d);
		if (stopping) {
			MHD_run(d);	/* the last answers out */
			break;
		}
		log_flush_kept();	/* the access lines of this wakeup, in one write */
	}
	log_flush_kept();
	return NULL;
}

static bool parse_listen(const char *listen, struct sockaddr_in *sin)
{
	char host[64];
	unsigned port;
	const char *colon = strrchr(listen, ':');
	if (!colon || (size_t)(colon - listen) >= sizeof(host) || sscanf(colon + 1, "%u", &port) != 1 ||
	    port > 65535) {
		log_error("api", "bad --listen '%s': expected ADDR:PORT", listen);
		return false;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	*sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		log_error("api", "bad --listen address '%s'", host);
		return false;
	}
	return true;
}

int api_listen(const char *addr)
{
	struct sockaddr_in sin;
	if (!parse_listen(addr, &sin))
		return -1;
	/* bound, not listening: the port is ours (a socket listening on it
	 * makes bind fail even with SO_REUSEADDR) but nobody can connect
	 * before api_serve listens, so that an open port means ready */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		log_error("api", "cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

#define API_FD_SPARE 256	/* descriptors kept for the store, the engine, the tunnels */

/* Raises the soft limit on open files so that max connections fit beside
 * API_FD_SPARE others; returns the connections that fit. */
static unsigned fd_room(unsigned max)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return max;
	rlim_t want = (rlim_t)max + API_FD_SPARE;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return max;
	}
	if (rl.rlim_cur < want) {
		unsigned fit = rl.rlim_cur > 2 * API_FD_SPARE ? (unsigned)(rl.rlim_cur - API_FD_SPARE) : API_FD_SPARE;
		log_warn("api", "the open-file limit (%llu) leaves room for %u API connections, not %u",
			 (unsigned long long)rl.rlim_cur, fit, max);
		return fit;
	}
	return max;
}

/* --- the API thread's loop ---------------------------------------------------
 * A base/evloop.h loop (api_loop, made by api_new) over the syncer's
 * failure eventfd; its wakeup is the inbox's and the engine's events
 * queue's (api_on_wakeup). The callbacks only note what is ready;
 * the check hook then works in a fixed order, as one round of the poll
 * loop before it did: a failed flush first (vpcd stops, nothing more
 * runs), the engine's events (changes of the coming batch), the requests
 * that came (one batch), the batch's end. */

struct api_round {
	struct api *ar_api;
	struct io_side *ar_io;
	bool ar_sync;			/* readable this round (the wakeup: a_woken) */
	bool ar_failed;				/* a flush failed: stop */
};

struct evloop *api_loop(struct api *api) { return api->a_loop; }

void api_loop_woken(void *arg, uint64_t now_ms)
{
	struct api *api = arg;
	(void)now_ms;
	api->a_woken = true;
}

static void on_api_fd(void *arg, int fd, uint32_t events, uint64_t now)
{
	struct api_round *ar = arg;
	(void)events;
	(void)now;
	(void)fd;
	ar->ar_sync = true;	/* the syncer's failure eventfd, the only fd */
}

static void api_round_check(void *arg, uint64_t now)
{
	struct api_round *ar = arg;
	struct api *api = ar->ar_api;
	(void)now;
	if (!api->a_woken && !ar->ar_sync)
		return;
	bool wake = api->a_woken, sync = ar->ar_sync;
	api->a_woken = ar->ar_sync = false;
	if (sync) {
		int err = syncer_failed(api->a_syncer);
		if (err) {
			log_error("api", "the state could not be flushed to disk: %s; stopping (changes not yet acknowledged may be lost)",
				  strerror(err));
			ar->ar_failed = true;
			return;
		}
	}
	if (wake && api->a_wakeup_fn)
		api->a_wakeup_fn(api->a_wakeup_arg, api);
	/* one batch: everything that arrived since the last one */
	if (wake) {
		struct conn_ctx *cc = cc_from_nodes(queue_take_all(&ar->ar_io->io_inbox));
		struct early early = { 0 };
		while (cc) {
			struct conn_ctx *next = cc->cc_next_pending;
			run_request(api, cc);
			if (!answer_early(api, &early, cc)) {
				cc->cc_next_pending = api->a_pending;
				api->a_pending = cc;
			}
			cc = next;
		}
		early_flush(api, &early);
	}
	finish_batch(api);
}

int api_serve(struct api *api, volatile sig_atomic_t *stop)
{
	int lfd = api->a_cfg.ac_listen_fd;
	if (lfd < 0 && (lfd = api_listen(api->a_cfg.ac_listen)) < 0)
		return -1;
	if (listen(lfd, SOMAXCONN) < 0) {
		log_error("api", "cannot listen on %s: %s", api->a_cfg.ac_listen, strerror(errno));
		close(lfd);
		return -1;
	}
	/* --tls: libmicrohttpd's TLS (GnuTLS) on the same socket */
	bool tls = api->a_cfg.ac_tls_cert_pem && api->a_cfg.ac_tls_key_pem;
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)api->a_cfg.ac_tls_key_pem },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)api->a_cfg.ac_tls_cert_pem },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		log_error("api", "--tls: this libmicrohttpd was built without TLS");
		close(lfd);
		return -1;
	}
	struct guard_limits limits = {
		.gl_max_connections = api->a_cfg.ac_max_connections ? api->a_cfg.ac_max_connections
								     : API_MAX_CONNECTIONS_DEFAULT,
		.gl_max_client_connections = api->a_cfg.ac_max_client_connections
						     ? api->a_cfg.ac_max_client_connections
						     : API_MAX_CLIENT_CONNECTIONS_DEFAULT,
		.gl_request_timeout_s = api->a_cfg.ac_request_timeout_s ? api->a_cfg.ac_request_timeout_s
									 : API_REQUEST_TIMEOUT_DEFAULT_S,
		.gl_unverified_max = API_UNVERIFIED_MAX,
		.gl_client_unverified_max = API_CLIENT_UNVERIFIED_MAX,
	};
	limits.gl_max_connections = fd_room(limits.gl_max_connections);
	struct guard *guard = guard_new(&limits);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0), 0, NULL, NULL,
		on_request, api,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
		MHD_OPTION_ARRAY, tls ? tls_opts : &tls_opts[2],
		MHD_OPTION_LISTEN_SOCKET, lfd,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
		MHD_OPTION_NOTIFY_CONNECTION, guard_on_connection, guard,
		MHD_OPTION_CONNECTION_TIMEOUT, limits.gl_request_timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, limits.gl_max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.gl_max_client_connections,
		MHD_OPTION_END);
	if (!d) {
		log_error("api", "cannot serve on %s: %s", api->a_cfg.ac_listen, strerror(errno));
		close(lfd);
		guard_free(guard);
		return -1;
	}
	struct io_side io = { .io_daemon = d, .io_guard = guard };
	io.io_loop = evloop_new(on_outbox_woken, &io);
	int mhd_fd = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
	int lrc = io.io_loop ? evloop_add(io.io_loop, mhd_fd, EPOLLIN, on_mhd_ready, &io) : -errno;
	if (lrc == 0 && !api->a_loop)
		lrc = -ENOMEM;	/* api_new logged why */
	if (lrc < 0) {
		log_error("api", "the I/O thread's event loop: %s", strerror(-lrc));
		evloop_free(io.io_loop);
		MHD_stop_daemon(d);
		guard_free(guard);
		return -1;
	}
	queue_init(&io.io_inbox, api->a_loop);
	queue_init(&io.io_outbox, io.io_loop);
	api->a_io = &io;
	if (api->a_cfg.ac_durable)
		api->a_syncer = syncer_start(api->a_store, &io.io_outbox);
	if (pthread_create(&io.io_thread, NULL, io_main, &io) != 0) {
		log_error("api", "cannot start the I/O thread");
		if (api->a_syncer)
			syncer_stop(api->a_syncer);
		api->a_syncer = NULL;
		MHD_stop_daemon(d);
		evloop_free(io.io_loop);
		api->a_io = NULL;
		guard_free(guard);
		return -1;
	}
	log_info("api", "listening on %s://%s (region %s; at most %u connections, %u per client, %u s per request)",
		 tls ? "https" : "http", api->a_cfg.ac_listen, api->a_cfg.ac_region, limits.gl_max_connections,
		 limits.gl_max_client_connections, limits.gl_request_timeout_s);
	int rc = 0;
	struct api_round ar = { .ar_api = api, .ar_io = &io };
	struct evloop *loop = api->a_loop;
	int arc = 0;
	if (api->a_syncer)
		arc = evloop_add(loop, api->a_syncer->sy_event, EPOLLIN, on_api_fd, &ar);
	if (arc < 0) {
		log_error("api", "the API thread's event loop: %s", strerror(-arc));
		rc = -1;
	} else {
		evloop_set_hooks(loop, NULL, api_round_check, &ar);
	}
	/* *stop is set by a signal handler: looked at every 500 ms at least */
	while (rc == 0 && !*stop && !ar.ar_failed)
		if (evloop_run_once(loop, 500) < 0) {
			log_error("api", "epoll_wait: %s", strerror(errno));
			break;
		}
	if (ar.ar_failed)
		rc = -1;
	/* the loop stays the api's (the engine's queue may still wake it) */
	if (api->a_syncer)
		evloop_del(loop, api->a_syncer->sy_event);
	evloop_set_hooks(loop, NULL, NULL, NULL);
	log_info("api", "stopping");
	/* what came in and was not run is answered: vpcd is stopping */
	for (struct conn_ctx *cc = cc_from_nodes(queue_close(&io.io_inbox)), *next; cc; cc = next) {
		next = cc->cc_next_pending;
		answer_error(cc, 503, "Unavailable", "vpcd is stopping");
		cc->cc_next_pending = api->a_pending;
		api->a_pending = cc;
	}
	finish_batch(api);
	if (api->a_syncer) {
		syncer_stop(api->a_syncer);	/* flushes and answers what is left */
		api->a_syncer = NULL;
	}
	atomic_store(&io.io_stop, true);
	evloop_wakeup(io.io_loop);
	pthread_join(io.io_thread, NULL);
	MHD_stop_daemon(d);
	answer_pool_drain(false);
	evloop_free(io.io_loop);	/* the outbox is empty: nothing wakes it */
	api->a_io = NULL;
	guard_free(guard);
	return rc;
}
