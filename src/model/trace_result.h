/*
 * trace_result — the shape of a packet trace's question and answer, shared
 * by what asks (vpcctl trace and VpcdTracePacket, the Reachability
 * Analyzer's actions, the console through them) and what answers
 * (src/engine/engine_trace.c: one synthetic packet through the router's
 * own compiled snapshot). Pure: no I/O; nothing here decides a packet.
 *
 * The question (struct trace_query) is text as clients give it; the
 * answer (struct trace_result) is a verdict, the cause of a drop, and the
 * steps the packet took, each naming its component (rtb-, acl-, sg-, igw-,
 * eni-…), the rule that decided (a NACL rule number, an sgr- id, a route)
 * and one sentence for people. The result holds copies of every name.
 * trace_format and trace_result_doc are the two ways it leaves vpcd (the
 * text vpcctl prints, the JSON document VpcdTracePacket answers); the
 * Reachability Analyzer's Explanations are built from the same steps
 * (src/api/insights.c).
 */
#ifndef VPCD_MODEL_TRACE_RESULT_H
#define VPCD_MODEL_TRACE_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/doc.h"
#include "base/strbuf.h"
#include "model/model.h"

#define TRACE_STEPS_MAX 24
#define TRACE_NAME_MAX 48		/* ids: "rtb-0123…", "acl-…", "sgr-…" */
#define TRACE_DETAIL_MAX 200
#define TRACE_EPHEMERAL_PORT_DEFAULT 49152	/* in Linux's and Windows' ephemeral ranges */

/* --- the question ---------------------------------------------------------------- */

/* As clients give it (VpcdTracePacket's parameters, an analysis's path);
 * the tracer checks it and names what is wrong. */
struct trace_query {
	const char *tq_from;	/* "i-…" (its primary ENI), "eni-…", or an IPv4 address */
	const char *tq_to;	/* the same */
	const char *tq_proto;	/* "tcp", "udp", "icmp", or an IP protocol number */
	int tq_port;		/* TCP/UDP: destination port (required); ICMP: type, -1 for echo request */
	int tq_src_port;	/* TCP/UDP source port; 0: TRACE_EPHEMERAL_PORT_DEFAULT */
};

/* --- the result ------------------------------------------------------------------ */

enum trace_step_kind {
	TRACE_STEP_SOURCE,		/* where the packet starts */
	TRACE_STEP_SG_EGRESS,
	TRACE_STEP_ROUTE,		/* route table and matching route */
	TRACE_STEP_NACL_OUT,
	TRACE_STEP_GATEWAY,		/* internet or VPN gateway, appliance ENI */
	TRACE_STEP_NACL_IN,
	TRACE_STEP_SG_INGRESS,
	TRACE_STEP_SOURCE_DEST_CHECK,
	TRACE_STEP_REPLY_NACL_OUT,	/* the reply leaving the destination's subnet */
	TRACE_STEP_REPLY_ROUTE,		/* the reply's route back to a gateway */
	TRACE_STEP_REPLY_NACL_IN,	/* the reply entering the source's subnet */
	TRACE_STEP_DESTINATION,
};

/* Why a packet is dropped; the data plane counts its drops by the same
 * causes (trace_cause_name() gives the counter names). */
enum trace_cause {
	TRACE_OK,
	TRACE_NO_SOURCE,		/* the source names no known ENI */
	TRACE_NO_ROUTE,
	TRACE_BLACKHOLE,
	TRACE_NACL_OUT,
	TRACE_NACL_IN,
	TRACE_SG_EGRESS,
	TRACE_SG_INGRESS,
	TRACE_NO_PUBLIC_IP,		/* to the internet without a public address */
	TRACE_NO_GATEWAY,		/* no internet/VPN gateway on the VPC */
	TRACE_VPN_DOWN,			/* no tunnel UP, or no VPN route covers it */
	TRACE_NO_DESTINATION,		/* no ENI has the address */
	TRACE_SOURCE_DEST_CHECK,
	TRACE_UNSUPPORTED_TARGET,	/* a target the trace does not follow */
	TRACE_REPLY_NO_ROUTE,
	TRACE_REPLY_NACL_OUT,
	TRACE_REPLY_NACL_IN,
	TRACE_CAUSE_COUNT
};

struct trace_step {
	enum trace_step_kind ts_kind;
	bool ts_ok;
	char ts_component[TRACE_NAME_MAX];	/* "rtb-…", "acl-…", "sg-…", "igw-…", "eni-…" */
	char ts_rule[TRACE_NAME_MAX];		/* "100", "sgr-…", "10.0.0.0/24 -> vgw-…", "" */
	char ts_detail[TRACE_DETAIL_MAX];	/* one sentence for people */
};

struct trace_result {
	bool tr_reachable;
	enum trace_cause tr_cause;		/* TRACE_OK when reachable */
	size_t tr_nsteps;
	struct trace_step tr_steps[TRACE_STEPS_MAX];
};

const char *trace_cause_name(enum trace_cause c);	/* "nacl-out", "sg-ingress", … */
const char *trace_step_name(enum trace_step_kind k);	/* "security-group-egress", … */

/* The result as lines for people:
 *   1. ok    source               eni-…            10.96.1.4 in subnet-…
 *   2. DROP  network-acl-inbound  acl-… rule 90    …
 *   => dropped: nacl-in */
void trace_format(const struct trace_result *r, struct strbuf *out);

/* The result as a doc: {Reachable, Cause, Steps [{Step, Ok, Component,
 * Rule, Detail}]}, for JSON output. Caller owns it. */
struct doc *trace_result_doc(const struct trace_result *r);

#endif
