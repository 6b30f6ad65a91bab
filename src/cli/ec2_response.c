/*
 * ec2_response.c — EC2 XML answers into docs (ec2_response.h), driven by the
 * generated model tables. It never trusts the answer: a malformed document,
 * a root that names another action, or an unreadable number is reported as
 * MalformedResponse rather than half-converted.
 */
#include "cli/ec2_response.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ec2_model.h"
#include "api/wire.h"

static void set_error(struct ec2_error *err, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_error(struct ec2_error *err, int status, const char *code, const char *fmt, ...)
{
	err->e_http_status = status;
	snprintf(err->e_code, sizeof(err->e_code), "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->e_message, sizeof(err->e_message), fmt, ap);
	va_end(ap);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "vpcSet" → "VpcSet": how botocore names a member it does not know. */
static char *member_name_of(const char *xml_name)
{
	char *k = strdup(xml_name);
	if (!k)
		abort();
	k[0] = (char)toupper((unsigned char)k[0]);
	return k;
}

struct doc *ec2_xml_to_doc_generic(const struct xml_node *n)
{
	if (!n->x_first) {
		if (ends_with(n->x_name, "Set"))
			return doc_list();
		return doc_str(n->x_text);
	}
	bool list = ends_with(n->x_name, "Set");
	if (!list) {
		list = true;
		xml_foreach(c, n)
			if (strcmp(c->x_name, "item") != 0)
				list = false;
	}
	if (list) {
		struct doc *l = doc_list();
		xml_foreach(c, n)
			doc_push(l, ec2_xml_to_doc_generic(c));
		return l;
	}
	struct doc *o = doc_obj();
	xml_foreach(c, n) {
		char *k = member_name_of(c->x_name);
		doc_set(o, k, ec2_xml_to_doc_generic(c));
		free(k);
	}
	return o;
}

static const struct ec2_member *struct_member_by_xml(const struct ec2_shape *sh, const char *xml)
{
	for (int i = 0; i < sh->s_nmembers; i++) {
		const struct ec2_member *m = &ec2_members[sh->s_first_member + i];
		if (strcmp(m->m_xml ? m->m_xml : m->m_name, xml) == 0)
			return m;
	}
	return NULL;
}

/* One element as shape; NULL (with why) when its text does not fit. */
static struct doc *convert(const struct xml_node *n, int shape, char *why, size_t why_len)
{
	if (shape < 0 || (size_t)shape >= ec2_shape_count)
		return ec2_xml_to_doc_generic(n);
	const struct ec2_shape *sh = &ec2_shapes[shape];
	switch (sh->s_type) {
	case SH_STRUCT: {
		struct doc *o = doc_obj();
		xml_foreach(c, n) {
			const struct ec2_member *m = struct_member_by_xml(sh, c->x_name);
			struct doc *v;
			if (m) {
				v = convert(c, m->m_shape, why, why_len);
				if (!v) {
					doc_free(o);
					return NULL;
				}
				doc_set(o, m->m_name, v);
			} else {
				/* newer than the model vpcctl was built with: keep it */
				char *k = member_name_of(c->x_name);
				doc_set(o, k, ec2_xml_to_doc_generic(c));
				free(k);
			}
		}
		return o;
	}
	case SH_LIST: {
		struct doc *l = doc_list();
		const char *item = sh->s_item_xml ? sh->s_item_xml : "item";
		xml_foreach(c, n) {
			if (strcmp(c->x_name, item) != 0) {
				snprintf(why, why_len, "<%s> holds <%s> where <%s> items were expected", n->x_name,
					 c->x_name, item);
				doc_free(l);
				return NULL;
			}
			struct doc *v = convert(c, sh->s_list_member, why, why_len);
			if (!v) {
				doc_free(l);
				return NULL;
			}
			doc_push(l, v);
		}
		return l;
	}
	case SH_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(n->x_text, &end, 10);
		if (errno || end == n->x_text || *end) {
			snprintf(why, why_len, "<%s> is not an integer: '%.40s'", n->x_name, n->x_text);
			return NULL;
		}
		return doc_int(v);
	}
	case SH_BOOL:
		if (strcmp(n->x_text, "true") == 0)
			return doc_bool(true);
		if (strcmp(n->x_text, "false") == 0)
			return doc_bool(false);
		snprintf(why, why_len, "<%s> is not a boolean: '%.40s'", n->x_name, n->x_text);
		return NULL;
	default:	/* strings, timestamps (kept as sent), doubles */
		if (n->x_first) {
			snprintf(why, why_len, "<%s> holds elements where text was expected", n->x_name);
			return NULL;
		}
		return doc_str(n->x_text);
	}
}

/* <Response><Errors><Error><Code/><Message/></Error></Errors>...</Response>,
 * or <ErrorResponse><Error>...</Error></ErrorResponse> (other AWS services). */
static bool read_error(const struct xml_node *root, int status, struct ec2_error *err)
{
	const struct xml_node *e = NULL;
	if (strcmp(root->x_name, "Response") == 0)
		e = xml_child(xml_child(root, "Errors"), "Error");
	else if (strcmp(root->x_name, "ErrorResponse") == 0)
		e = xml_child(root, "Error");
	const char *code = e ? xml_child_text(e, "Code") : NULL;
	if (!code || !*code)
		return false;
	const char *msg = xml_child_text(e, "Message");
	set_error(err, status, code, "%s", msg ? msg : "");
	return true;
}

struct doc *ec2_response_parse(const char *action, int http_status, const char *body, size_t len,
			       struct ec2_error *err)
{
	char why[256];
	memset(err, 0, sizeof(*err));
	struct xml_node *root = xml_parse(body, len, why, sizeof(why));
	if (!root) {
		if (http_status >= 300)
			set_error(err, http_status, "HttpError", "HTTP %d: %.200s", http_status, len ? body : "(no body)");
		else
			set_error(err, http_status, "MalformedResponse", "the answer to %s is not XML: %s", action, why);
		return NULL;
	}
	struct doc *out = NULL;
	if (read_error(root, http_status, err))
		goto done;
	if (http_status >= 300) {
		set_error(err, http_status, "HttpError", "HTTP %d with an answer that names no error", http_status);
		goto done;
	}
	char expect[160];
	snprintf(expect, sizeof(expect), "%sResponse", action);
	if (strcmp(root->x_name, expect) != 0) {
		set_error(err, http_status, "MalformedResponse", "expected <%s>, got <%s>", expect, root->x_name);
		goto done;
	}
	const struct ec2_operation *op = ec2_operation_find(action);
	if (!op || op->o_output < 0) {
		out = doc_obj();
		xml_foreach(c, root) {
			if (strcmp(c->x_name, "requestId") == 0)
				continue;
			char *k = member_name_of(c->x_name);
			doc_set(out, k, ec2_xml_to_doc_generic(c));
			free(k);
		}
		goto done;
	}
	const struct ec2_shape *sh = &ec2_shapes[op->o_output];
	out = doc_obj();
	xml_foreach(c, root) {
		const struct ec2_member *m = struct_member_by_xml(sh, c->x_name);
		if (!m)
			continue;	/* requestId, and anything newer than the model */
		struct doc *v = convert(c, m->m_shape, why, sizeof(why));
		if (!v) {
			set_error(err, http_status, "MalformedResponse", "%s: %s", action, why);
			doc_free(out);
			out = NULL;
			goto done;
		}
		doc_set(out, m->m_name, v);
	}
done:
	xml_free(root);
	return out;
}
