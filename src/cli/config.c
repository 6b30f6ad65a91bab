/*
 * config.c — endpoint, profile, keys and region (config.h). Reads at most
 * two small files, line by line; never logs a secret and wipes the lines
 * it read a secret from.
 */
#include "cli/config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/base.h"

#define INI_LINE_MAX 4096

static void trim(char **s)
{
	char *p = *s;
	while (*p == ' ' || *p == '\t')
		p++;
	char *e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	*s = p;
}

int cli_ini_get(const char *path, const char *section, const char *key, char *value, size_t value_len,
		bool *section_found)
{
	if (section_found)
		*section_found = false;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[INI_LINE_MAX];
	bool in_section = false;
	int found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (line[0] == ' ' || line[0] == '\t')
			continue;	/* a nested sub-setting ("s3 =\n  addressing_style = path") */
		char *s = line;
		trim(&s);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strrchr(s, ']');
			if (!close)
				continue;
			*close = '\0';
			char *name = s + 1;
			trim(&name);
			in_section = strcmp(name, section) == 0;
			if (in_section && section_found)
				*section_found = true;
			continue;
		}
		if (!in_section)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *k = s, *v = eq + 1;
		trim(&k);
		trim(&v);
		if (strcmp(k, key) == 0) {
			snprintf(value, value_len, "%s", v);
			found = 1;
		}
	}
	secret_wipe(line, sizeof(line));
	fclose(f);
	return found;
}

static const char *env_nonempty(cli_getenv_fn env, const char *name)
{
	const char *v = env(name);
	return v && *v ? v : NULL;
}

static const char *env_or(cli_getenv_fn env, const char *name, const char *dflt)
{
	const char *v = env_nonempty(env, name);
	return v ? v : dflt;
}

/* "~/x" → "$HOME/x" as Python's expanduser does. */
static void expand_home(cli_getenv_fn env, const char *path, char *out, size_t out_len)
{
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
		const char *home = env_nonempty(env, "HOME");
		if (!home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : "";
		}
		snprintf(out, out_len, "%s%s", home, path + 1);
	} else {
		snprintf(out, out_len, "%s", path);
	}
}

int cli_endpoint_parse(const char *url, struct cli_config *out, char *msg, size_t msg_len)
{
	const char *rest;
	if (strncasecmp(url, "http://", 7) == 0) {
		rest = url + 7;
		out->c_tls = false;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		rest = url + 8;
		out->c_tls = true;
	} else {
		snprintf(msg, msg_len, "Invalid endpoint: %s (expected http://HOST[:PORT] or https://HOST[:PORT])", url);
		return -1;
	}
	size_t hostport = strcspn(rest, "/?#");
	if (hostport == 0 || hostport >= sizeof(out->c_netloc)) {
		snprintf(msg, msg_len, "Invalid endpoint: %s", url);
		return -1;
	}
	memcpy(out->c_netloc, rest, hostport);
	out->c_netloc[hostport] = '\0';
	const char *path = rest + hostport;
	snprintf(out->c_path, sizeof(out->c_path), "%s", *path == '/' ? path : "/");
	char *p = out->c_path + strcspn(out->c_path, "?#");
	*p = '\0';

	const char *nl = out->c_netloc, *colon;
	size_t hlen;
	if (nl[0] == '[') {	/* [v6]:port */
		const char *close = strchr(nl, ']');
		if (!close) {
			snprintf(msg, msg_len, "Invalid endpoint: %s", url);
			return -1;
		}
		hlen = (size_t)(close - nl - 1);
		if (hlen >= sizeof(out->c_host))
			goto bad;
		memcpy(out->c_host, nl + 1, hlen);
		out->c_host[hlen] = '\0';
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			goto bad;
	} else {
		colon = strchr(nl, ':');
		hlen = colon ? (size_t)(colon - nl) : strlen(nl);
		if (hlen == 0 || hlen >= sizeof(out->c_host))
			goto bad;
		memcpy(out->c_host, nl, hlen);
		out->c_host[hlen] = '\0';
	}
	if (colon) {
		const char *port = colon + 1;
		size_t plen = strlen(port);
		if (plen == 0 || plen >= sizeof(out->c_port) || strspn(port, "0123456789") != plen ||
		    atoi(port) < 1 || atoi(port) > 65535)
			goto bad;
		snprintf(out->c_port, sizeof(out->c_port), "%s", port);
	} else {
		snprintf(out->c_port, sizeof(out->c_port), "%s", out->c_tls ? "443" : "80");
	}
	snprintf(out->c_endpoint, sizeof(out->c_endpoint), "%s", url);
	return 0;
bad:
	snprintf(msg, msg_len, "Invalid endpoint: %s", url);
	return -1;
}

/* The config file's section for a profile. */
static void config_section(const char *profile, char *out, size_t len)
{
	if (strcmp(profile, "default") == 0)
		snprintf(out, len, "default");
	else
		snprintf(out, len, "profile %s", profile);
}

int cli_config_resolve(const struct cli_options *o, cli_getenv_fn env, struct cli_config *out,
		       char *code, size_t code_len, char *msg, size_t msg_len)
{
	memset(out, 0, sizeof(*out));
	char creds_path[1024], config_path[1024], section[160], value[512];

	/* profile */
	bool explicit_profile = true;
	const char *profile = o->o_profile;
	if (!profile)
		profile = env_nonempty(env, "AWS_PROFILE");
	if (!profile)
		profile = env_nonempty(env, "AWS_DEFAULT_PROFILE");
	if (!profile) {
		profile = "default";
		explicit_profile = false;
	}
	snprintf(out->c_profile, sizeof(out->c_profile), "%s", profile);

	if (o->o_data_dir)
		snprintf(creds_path, sizeof(creds_path), "%s/credentials", o->o_data_dir);
	else
		expand_home(env, env_or(env, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
			    creds_path, sizeof(creds_path));
	expand_home(env, env_or(env, "AWS_CONFIG_FILE", "~/.aws/config"), config_path, sizeof(config_path));
	config_section(profile, section, sizeof(section));

	bool in_creds = false, in_config = false;
	(void)cli_ini_get(creds_path, profile, "aws_access_key_id", value, sizeof(value), &in_creds);
	(void)cli_ini_get(config_path, section, "region", value, sizeof(value), &in_config);
	if (!in_config && strcmp(profile, "default") == 0)
		(void)cli_ini_get(config_path, "profile default", "region", value, sizeof(value), &in_config);
	if (explicit_profile && !in_creds && !in_config) {
		snprintf(code, code_len, "ProfileNotFound");
		snprintf(msg, msg_len, "The config profile (%s) could not be found", profile);
		return -1;
	}

	/* endpoint */
	const char *endpoint = o->o_endpoint_url;
	snprintf(out->c_endpoint_source, sizeof(out->c_endpoint_source), "--endpoint-url");
	const char *ignore = env_nonempty(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	bool configured_ok = !(ignore && strcasecmp(ignore, "true") == 0);
	if (!endpoint && configured_ok && (endpoint = env_nonempty(env, "AWS_ENDPOINT_URL_EC2")))
		snprintf(out->c_endpoint_source, sizeof(out->c_endpoint_source), "AWS_ENDPOINT_URL_EC2");
	if (!endpoint && configured_ok && (endpoint = env_nonempty(env, "AWS_ENDPOINT_URL")))
		snprintf(out->c_endpoint_source, sizeof(out->c_endpoint_source), "AWS_ENDPOINT_URL");
	if (!endpoint && configured_ok && !o->o_data_dir &&
	    cli_ini_get(config_path, section, "endpoint_url", value, sizeof(value), NULL) == 1) {
		endpoint = value;
		snprintf(out->c_endpoint_source, sizeof(out->c_endpoint_source), "config file");
	}
	if (!endpoint) {
		endpoint = CLI_DEFAULT_ENDPOINT;
		snprintf(out->c_endpoint_source, sizeof(out->c_endpoint_source), "default");
	}
	if (cli_endpoint_parse(endpoint, out, msg, msg_len) < 0) {
		snprintf(code, code_len, "InvalidEndpoint");
		return -1;
	}

	/* TLS: the CA bundle, as the aws CLI finds it, then vpcd's own */
	const char *ca = o->o_ca_bundle;
	if (!ca)
		ca = env_nonempty(env, "AWS_CA_BUNDLE");
	if (!ca && cli_ini_get(config_path, section, "ca_bundle", value, sizeof(value), NULL) == 1 && *value)
		ca = value;
	char own_ca[1024];
	if (!ca && o->o_data_dir && out->c_tls) {
		snprintf(own_ca, sizeof(own_ca), "%s/tls.crt", o->o_data_dir);
		if (access(own_ca, R_OK) == 0)
			ca = own_ca;
	}
	if (ca) {
		if (strlen(ca) >= sizeof(out->c_ca_bundle)) {
			snprintf(code, code_len, "InvalidCABundle");
			snprintf(msg, msg_len, "CA bundle path longer than %zu characters", sizeof(out->c_ca_bundle) - 1);
			return -1;
		}
		expand_home(env, ca, out->c_ca_bundle, sizeof(out->c_ca_bundle));
	}

	/* region */
	const char *region = o->o_region;
	if (!region)
		region = env_nonempty(env, "AWS_REGION");
	if (!region)
		region = env_nonempty(env, "AWS_DEFAULT_REGION");
	if (!region && cli_ini_get(config_path, section, "region", value, sizeof(value), NULL) == 1 && *value)
		region = value;
	if (!region)
		region = CLI_DEFAULT_REGION;
	if (strlen(region) >= sizeof(out->c_region)) {
		snprintf(code, code_len, "InvalidRegion");
		snprintf(msg, msg_len, "region name longer than %zu characters", sizeof(out->c_region) - 1);
		return -1;
	}
	memcpy(out->c_region, region, strlen(region) + 1);

	/* keys */
	const char *id = env_nonempty(env, "AWS_ACCESS_KEY_ID");
	const char *secret = env_nonempty(env, "AWS_SECRET_ACCESS_KEY");
	if (!o->o_profile && !o->o_data_dir && id && secret) {
		snprintf(out->c_access_key_id, sizeof(out->c_access_key_id), "%s", id);
		snprintf(out->c_secret, sizeof(out->c_secret), "%s", secret);
		snprintf(out->c_key_source, sizeof(out->c_key_source), "environment");
		return 0;
	}
	static const struct { bool creds; } order[] = { { true }, { false } };
	for (size_t i = 0; i < ARRAY_LEN(order); i++) {
		const char *path = order[i].creds ? creds_path : config_path;
		const char *sec = order[i].creds ? profile : section;
		if (cli_ini_get(path, sec, "aws_access_key_id", out->c_access_key_id, sizeof(out->c_access_key_id),
				NULL) == 1 &&
		    cli_ini_get(path, sec, "aws_secret_access_key", out->c_secret, sizeof(out->c_secret), NULL) == 1 &&
		    out->c_access_key_id[0] && out->c_secret[0]) {
			snprintf(out->c_key_source, sizeof(out->c_key_source), "%s %.400s (profile %.100s)",
				 order[i].creds ? "shared credentials file" : "config file", path, profile);
			return 0;
		}
		secret_wipe(out->c_secret, sizeof(out->c_secret));
		out->c_access_key_id[0] = '\0';
	}
	snprintf(code, code_len, "NoCredentials");
	if (o->o_data_dir)
		snprintf(msg, msg_len, "Unable to locate credentials in %s (has vpcd run with --data-dir %s?)",
			 creds_path, o->o_data_dir);
	else
		snprintf(msg, msg_len, "Unable to locate credentials. You can configure credentials by running "
			 "\"aws configure\", or use --data-dir DIR for a local vpcd's DIR/credentials.");
	return -1;
}

void cli_config_wipe(struct cli_config *c)
{
	secret_wipe(c->c_secret, sizeof(c->c_secret));
}
