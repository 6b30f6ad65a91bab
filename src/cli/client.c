/*
 * client.c — form encoding, signing and one call (client.h).
 */
#include "cli/client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/sigv4.h"
#include "base/base.h"

void ec2_params_init(struct ec2_params *p)
{
	memset(p, 0, sizeof(*p));
}

void ec2_param(struct ec2_params *p, const char *value, const char *name_fmt, ...)
{
	if (p->p_count == EC2_PARAMS_MAX)
		abort();
	char name[256];
	va_list ap;
	va_start(ap, name_fmt);
	vsnprintf(name, sizeof(name), name_fmt, ap);
	va_end(ap);
	p->p_names[p->p_count] = strdup(name);
	p->p_values[p->p_count] = strdup(value ? value : "");
	if (!p->p_names[p->p_count] || !p->p_values[p->p_count])
		abort();
	p->p_count++;
}

void ec2_params_free(struct ec2_params *p)
{
	for (size_t i = 0; i < p->p_count; i++) {
		free(p->p_names[i]);
		free(p->p_values[i]);
	}
	p->p_count = 0;
}

static void put_encoded(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		    *c == '_' || *c == '.' || *c == '~') {
			sb_putc(sb, (char)*c);
		} else {
			sb_putc(sb, '%');
			sb_putc(sb, hex[*c >> 4]);
			sb_putc(sb, hex[*c & 15]);
		}
	}
}

void ec2_params_encode(const struct ec2_params *p, const char *action, struct strbuf *body)
{
	sb_puts(body, "Action=");
	put_encoded(body, action);
	sb_puts(body, "&Version=" EC2_API_VERSION);
	for (size_t i = 0; p && i < p->p_count; i++) {
		sb_putc(body, '&');
		put_encoded(body, p->p_names[i]);
		sb_putc(body, '=');
		put_encoded(body, p->p_values[i]);
	}
}

void ec2_client_init(struct ec2_client *c, const struct cli_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->ec_cfg = *cfg;
	http_conn_init(&c->ec_conn, cfg->c_host, cfg->c_port);
	if (cfg->c_tls)
		http_conn_tls(&c->ec_conn, cfg->c_ca_bundle);
}

void ec2_client_close(struct ec2_client *c)
{
	http_conn_close(&c->ec_conn);
	cli_config_wipe(&c->ec_cfg);
}

struct doc *ec2_call(struct ec2_client *c, const char *action, const struct ec2_params *p, struct ec2_error *err)
{
	memset(err, 0, sizeof(*err));
	struct strbuf body = STRBUF_INIT;
	ec2_params_encode(p, action, &body);
	sb_str(&body);

	char amz_date[20], auth[512];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	sigv4_sign_post(c->ec_cfg.c_access_key_id, c->ec_cfg.c_secret, c->ec_cfg.c_region, c->ec_cfg.c_netloc,
			amz_date, body.sb_data, body.sb_len, auth, sizeof(auth));
	const struct http_header headers[] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "X-Amz-Date", amz_date },
		{ "Authorization", auth },
		{ "User-Agent", "vpcctl/" VPCD_VERSION },
	};
	struct http_response resp;
	char why[256];
	c->ec_calls++;
	uint64_t t0 = time_mono_ms();
	int rc = http_post(&c->ec_conn, c->ec_cfg.c_netloc, c->ec_cfg.c_path, headers, ARRAY_LEN(headers),
			   body.sb_data, body.sb_len, &resp, why, sizeof(why));
	sb_free(&body);
	if (rc < 0) {
		snprintf(err->e_code, sizeof(err->e_code), "EndpointConnectionError");
		snprintf(err->e_message, sizeof(err->e_message), "Could not connect to the endpoint URL: \"%s\": %s",
			 c->ec_cfg.c_endpoint, why);
		if (c->ec_debug)
			fprintf(stderr, "vpcctl: %s -> %s\n", action, why);
		return NULL;
	}
	struct doc *out = ec2_response_parse(action, resp.r_status, resp.r_body.sb_data, resp.r_body.sb_len, err);
	if (c->ec_debug)
		fprintf(stderr, "vpcctl: %s -> HTTP %d, %zu bytes, %llu ms, connection #%u%s%s\n", action,
			resp.r_status, resp.r_body.sb_len, (unsigned long long)(time_mono_ms() - t0),
			c->ec_conn.hc_connects, out ? "" : ", ", out ? "" : err->e_code);
	http_response_free(&resp);
	return out;
}

struct doc *ec2_describe_all(struct ec2_client *c, const char *action, const struct ec2_params *p,
			     const char *list_member, struct ec2_error *err)
{
	struct doc *all = doc_obj();
	struct doc *items = doc_get_list(all, list_member);
	char *token = NULL;
	for (int page = 0; page < 1000; page++) {
		struct ec2_params q;
		ec2_params_init(&q);
		for (size_t i = 0; p && i < p->p_count; i++)
			ec2_param(&q, p->p_values[i], "%s", p->p_names[i]);
		if (token)
			ec2_param(&q, token, "NextToken");
		struct doc *out = ec2_call(c, action, &q, err);
		ec2_params_free(&q);
		free(token);
		token = NULL;
		if (!out) {
			doc_free(all);
			return NULL;
		}
		struct doc *l = doc_get(out, list_member);
		if (l && l->d_type == DOC_LIST)
			doc_foreach(item, l)
				doc_push(items, doc_clone(item));
		const char *next = doc_get_str(out, "NextToken");
		if (next && *next) {
			token = strdup(next);
			if (!token)
				abort();
		}
		doc_free(out);
		if (!token)
			break;
	}
	free(token);
	return all;
}
