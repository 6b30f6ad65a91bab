/*
 * test_trace_result.c — a packet trace's answer as it leaves vpcd
 * (src/model/trace_result.c): the lines vpcctl prints, the doc
 * VpcdTracePacket answers, and the names of every step and cause (the
 * Reachability Analyzer and clients match on them). The answers
 * themselves come from the router's trace: tests/engine/test_engine_trace.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "model/trace_result.h"

static void add(struct trace_result *r, enum trace_step_kind k, bool ok, const char *component, const char *rule,
		const char *detail)
{
	struct trace_step *s = &r->tr_steps[r->tr_nsteps++];
	s->ts_kind = k;
	s->ts_ok = ok;
	snprintf(s->ts_component, sizeof(s->ts_component), "%s", component);
	snprintf(s->ts_rule, sizeof(s->ts_rule), "%s", rule);
	snprintf(s->ts_detail, sizeof(s->ts_detail), "%s", detail);
}

/* The office's SSH to an instance whose group does not open 3389. */
static void dropped_at_the_group(struct trace_result *r)
{
	memset(r, 0, sizeof(*r));
	add(r, TRACE_STEP_SOURCE, true, "", "", "10.0.0.5, outside the VPC");
	add(r, TRACE_STEP_GATEWAY, true, "vgw-1", "", "in through vgw-1");
	add(r, TRACE_STEP_NACL_IN, true, "acl-1", "100", "acl-1 rule 100 allows tcp/3389 from 10.0.0.5");
	add(r, TRACE_STEP_SG_INGRESS, false, "eni-a", "", "no ingress rule of eni-a (sg-web) allows tcp/3389 from 10.0.0.5");
	r->tr_cause = TRACE_SG_INGRESS;
}

static void test_format(void **state)
{
	(void)state;
	struct trace_result r;
	dropped_at_the_group(&r);
	struct strbuf sb = STRBUF_INIT;
	trace_format(&r, &sb);
	assert_string_equal(sb_str(&sb),
			    " 1. ok    source                     10.0.0.5, outside the VPC\n"
			    " 2. ok    gateway                    in through vgw-1\n"
			    " 3. ok    network-acl-inbound        acl-1 rule 100 allows tcp/3389 from 10.0.0.5\n"
			    " 4. DROP  security-group-ingress     no ingress rule of eni-a (sg-web) allows tcp/3389 from 10.0.0.5\n"
			    "=> dropped: sg-ingress\n");
	sb_free(&sb);
	r.tr_nsteps = 3;
	r.tr_reachable = true;
	r.tr_cause = TRACE_OK;
	struct strbuf ok = STRBUF_INIT;
	trace_format(&r, &ok);
	assert_non_null(strstr(sb_str(&ok), "=> reachable\n"));
	sb_free(&ok);
}

static void test_doc(void **state)
{
	(void)state;
	struct trace_result r;
	dropped_at_the_group(&r);
	struct doc *d = trace_result_doc(&r);
	assert_false(doc_get_bool(d, "Reachable", true));
	assert_string_equal(doc_get_str(d, "Cause"), "sg-ingress");
	const struct doc *steps = doc_get(d, "Steps");
	assert_int_equal(steps->d_count, 4);
	const struct doc *last = steps->d_first;
	while (last->d_next)
		last = last->d_next;
	assert_string_equal(doc_get_str(last, "Step"), "security-group-ingress");
	assert_false(doc_get_bool(last, "Ok", true));
	assert_string_equal(doc_get_str(last, "Component"), "eni-a");
	assert_string_equal(doc_get_str(last, "Rule"), "");
	assert_non_null(strstr(doc_get_str(last, "Detail"), "sg-web"));
	doc_free(d);
}

static void test_names(void **state)
{
	(void)state;
	for (int c = 0; c < TRACE_CAUSE_COUNT; c++)
		assert_string_not_equal(trace_cause_name((enum trace_cause)c), "unknown");
	assert_string_equal(trace_cause_name(TRACE_CAUSE_COUNT), "unknown");
	assert_string_equal(trace_cause_name(TRACE_REPLY_NACL_OUT), "reply-nacl-out");
	for (int k = TRACE_STEP_SOURCE; k <= TRACE_STEP_DESTINATION; k++)
		assert_string_not_equal(trace_step_name((enum trace_step_kind)k), "step");
	assert_string_equal(trace_step_name(TRACE_STEP_REPLY_ROUTE), "reply-route");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_doc),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
