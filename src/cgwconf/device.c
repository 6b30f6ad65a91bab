/*
 * Device types and their router configurations: the embedded templates
 * (cgwconf_templates.c, generated at build time from the templates/ folder)
 * rendered by the template engine.  A device type exists here only when
 * it has a template; there is no placeholder output.
 */
#include "cgwconf/cgwconf_int.h"

#include <string.h>

const struct cgw_device_type *cgwconf_device_types(size_t *count)
{
	*count = cgw_template_count;
	return cgw_device_type_list;
}

static size_t device_index(const char *id)
{
	for (size_t i = 0; i < cgw_template_count; i++)
		if (strcmp(cgw_device_type_list[i].dt_id, id) == 0)
			return i;
	return cgw_template_count;
}

const struct cgw_device_type *cgwconf_device_type_find(const char *id)
{
	size_t i = id != NULL ? device_index(id) : cgw_template_count;

	return i < cgw_template_count ? &cgw_device_type_list[i] : NULL;
}

enum cgw_status cgwconf_render_device(const struct cgw_vpn_connection *conn,
    const char *device_type_id, const char *ike_version,
    struct strbuf *out, struct cgw_error *err)
{
	size_t i = device_type_id != NULL ? device_index(device_type_id) : cgw_template_count;
	const struct cgw_template_src *src;
	enum cgw_status st;
	unsigned version;

	if (i == cgw_template_count)
		return cgw_fail(err, CGW_ERR_DEVICE, "no configuration template for device type '%.16s'",
		    device_type_id != NULL ? device_type_id : "");
	if ((st = cgwconf_validate(conn, err)) != CGW_OK)
		return st;
	if ((st = cgw_choose_ike_version(conn, ike_version, cgw_device_type_list[i].dt_ike_versions,
	    &version, err)) != CGW_OK)
		return st;
	src = &cgw_template_srcs[i];
	return cgw_template_render(conn, version, src->ts_file, src->ts_first_line, src->ts_body,
	    out, err);
}

enum cgw_status cgwconf_render_template(const struct cgw_vpn_connection *conn,
    const char *name, unsigned first_line, const char *text,
    const char *ike_version, struct strbuf *out, struct cgw_error *err)
{
	enum cgw_status st;
	unsigned version;

	if ((st = cgwconf_validate(conn, err)) != CGW_OK)
		return st;
	if ((st = cgw_choose_ike_version(conn, ike_version, CGW_IKEV1 | CGW_IKEV2, &version, err)) != CGW_OK)
		return st;
	return cgw_template_render(conn, version, name, first_line, text, out, err);
}
