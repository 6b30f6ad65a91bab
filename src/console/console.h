/*
 * console.h — the web console: static HTML, CSS and JavaScript modules
 * (src/console/www), built into vpcd by embed_console.py, served at
 * /console/ on the API's port. The console has no API of its own and
 * holds no secret: its pages call the EC2 API at / like any client, with
 * SigV4 signatures made in the browser. This part never reads a request
 * body, never touches the state, and answers only GET and HEAD.
 */
#ifndef VPCD_CONSOLE_H
#define VPCD_CONSOLE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct console_file {
	const char *cf_path;		/* "/console/index.html" */
	const char *cf_type;		/* Content-Type */
	const unsigned char *cf_data;	/* static, NUL-terminated */
	size_t cf_len;			/* without the NUL */
};

extern const struct console_file console_files[];
extern const size_t console_file_count;

/* The file at an exact URL path ("/console/" is index.html), or NULL. */
const struct console_file *console_file_find(const char *url);

/*
 * Called by the HTTP server for every request as soon as its head is in, before
 * anything else judges it. When the request is the console's — a GET or
 * HEAD of /console or below, or a browser's GET / (no SigV4 signature in
 * a header or the URL, no Action, Accept naming text/html) — queues the
 * answer on conn (the file, a redirect, or 404), stores MHD's result in
 * *result and returns true. Otherwise returns false and does nothing.
 */
bool console_answer(struct MHD_Connection *conn, const char *method, const char *url, enum MHD_Result *result);

#endif
