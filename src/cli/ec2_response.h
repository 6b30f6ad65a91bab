/*
 * ec2_response — an EC2 Query answer (XML) turned into a doc shaped the way
 * boto3 and the aws CLI show it: keys are botocore member names
 * ("VpcId"), lists are lists, integers and booleans are typed. The
 * generated model tables (api/ec2_model.h) say which element is what; an
 * action outside those tables is converted by shape alone (elements named
 * "item" or ending in "Set" are lists, the rest objects or strings).
 *
 * Error answers become an AWS code and message, as the aws CLI shows them.
 */
#ifndef VPCD_CLI_EC2_RESPONSE_H
#define VPCD_CLI_EC2_RESPONSE_H

#include <stddef.h>

#include "base/doc.h"
#include "cli/xml.h"

struct ec2_error {
	int e_http_status;	/* 0 when no HTTP answer came */
	char e_code[128];	/* "InvalidVpcID.NotFound", "AuthFailure", ... */
	char e_message[1024];
};

/* Converts the answer to action. Returns the doc (owned by the caller), or
 * NULL with err filled: the service's error, or a code of vpcctl's own
 * ("MalformedResponse") when the answer cannot be read. */
struct doc *ec2_response_parse(const char *action, int http_status, const char *body, size_t len,
			       struct ec2_error *err);

/* Converts one element by shape alone (no model); for tests and fallbacks. */
struct doc *ec2_xml_to_doc_generic(const struct xml_node *n);

#endif
