/*
 * sts.c — the one AWS STS action that tools ask an EC2 endpoint's
 * neighbour for: GetCallerIdentity (Terraform's AWS provider learns the
 * account from it, and builds ARNs with it). Served on the same endpoint
 * when the signature's scope names service "sts": the Query protocol of
 * STS 2011-06-15, answered in its own XML namespace and error shape
 * (<ErrorResponse><Error><Type/><Code/><Message/></Error>), not EC2's.
 *
 * vpcd has one identity per account: every key is the account's root
 * user's (arn:aws:iam::ACCOUNT:root, whose UserId is the account id, as
 * AWS answers for root credentials). Never writes state.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#define STS_VERSION "2011-06-15"
#define STS_XMLNS "https://sts.amazonaws.com/doc/" STS_VERSION "/"

static void sts_error(struct sts_answer *out, int status, const char *code, const char *message,
		      const char *request_id)
{
	out->sa_status = status;
	sb_puts(&out->sa_xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"" STS_XMLNS
			      "\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>");
	sb_xml_escape(&out->sa_xml, code);
	sb_puts(&out->sa_xml, "</Code>\n    <Message>");
	sb_xml_escape(&out->sa_xml, message);
	sb_printf(&out->sa_xml, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", request_id);
}

void sts_serve(struct api *api, const struct query_params *params, const char *request_id,
	       struct sts_answer *out)
{
	const char *action = query_get(params, "Action");
	const char *version = query_get(params, "Version");
	char m[160];
	if (!action) {
		sts_error(out, 400, "MissingAction", "The request must contain the parameter Action", request_id);
		return;
	}
	if (!version) {
		sts_error(out, 400, "MissingParameter", "The request must contain the parameter Version", request_id);
		return;
	}
	if (strcmp(action, "GetCallerIdentity") != 0 || strcmp(version, STS_VERSION) != 0) {
		snprintf(m, sizeof(m), "Could not find operation %.64s for version %.16s", action, version);
		sts_error(out, 400, "InvalidAction", m, request_id);
		return;
	}
	const char *account = api->a_cfg.ac_account_id;
	out->sa_status = 200;
	sb_printf(&out->sa_xml,
		  "<GetCallerIdentityResponse xmlns=\"" STS_XMLNS "\">\n"
		  "  <GetCallerIdentityResult>\n"
		  "    <Arn>arn:aws:iam::%s:root</Arn>\n"
		  "    <UserId>%s</UserId>\n"
		  "    <Account>%s</Account>\n"
		  "  </GetCallerIdentityResult>\n"
		  "  <ResponseMetadata>\n"
		  "    <RequestId>%s</RequestId>\n"
		  "  </ResponseMetadata>\n"
		  "</GetCallerIdentityResponse>\n",
		  account, account, account, request_id);
}
