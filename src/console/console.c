/*
 * console.c — answers the browser's requests for the console's files
 * (console.h). The files are static data: a response points at them, no
 * copy; every answer says not to guess types, not to be framed, and to
 * run only the console's own scripts (Content-Security-Policy), so that
 * nothing else on the page can reach the key the user typed.
 */
#include "console/console.h"

#include <string.h>
#include <strings.h>


#define CONSOLE_PREFIX "/console"
#define CONSOLE_CSP \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " \
	"form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

const struct console_file *console_file_find(const char *url)
{
	if (strcmp(url, CONSOLE_PREFIX "/") == 0)
		url = CONSOLE_PREFIX "/index.html";
	for (size_t i = 0; i < console_file_count; i++)
		if (strcmp(console_files[i].cf_path, url) == 0)
			return &console_files[i];
	return NULL;
}

static void common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy", CONSOLE_CSP);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *text,
				   const char *location)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	common_headers(r);
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	if (location)
		MHD_add_response_header(r, "Location", location);
	enum MHD_Result res = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return res;
}

/* A browser's plain GET /: no signature anywhere, no Action, wants HTML. */
static bool browser_root(struct MHD_Connection *conn, const char *url)
{
	if (strcmp(url, "/") != 0)
		return false;
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	return accept && strstr(accept, "text/html") &&
	       !MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization") &&
	       !MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "X-Amz-Signature") &&
	       !MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "X-Amz-Algorithm") &&
	       !MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "Action");
}

bool console_answer(struct MHD_Connection *conn, const char *method, const char *url, enum MHD_Result *result)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool ours = strncmp(url, CONSOLE_PREFIX, strlen(CONSOLE_PREFIX)) == 0 &&
		    (url[strlen(CONSOLE_PREFIX)] == '\0' || url[strlen(CONSOLE_PREFIX)] == '/');
	if (!get || !(ours || browser_root(conn, url)))
		return false;
	if (!ours || strcmp(url, CONSOLE_PREFIX) == 0) {
		*result = answer_text(conn, MHD_HTTP_FOUND, "The console is at /console/\n", CONSOLE_PREFIX "/");
		return true;
	}
	const struct console_file *f = console_file_find(url);
	if (!f) {
		*result = answer_text(conn, MHD_HTTP_NOT_FOUND, "No such file in the console\n", NULL);
		return true;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(f->cf_len, (void *)f->cf_data, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		*result = MHD_NO;
		return true;
	}
	common_headers(r);
	MHD_add_response_header(r, "Content-Type", f->cf_type);
	*result = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return true;
}
