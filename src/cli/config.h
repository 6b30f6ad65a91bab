/*
 * config — where vpcctl sends its requests and with which key, found the
 * way the aws CLI (botocore) finds them, plus vpcd's own --data-dir:
 *
 *  endpoint  --endpoint-url, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, the
 *            profile's endpoint_url in the config file, then vpcd's default
 *            http://127.0.0.1:8775. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
 *            skips the environment and the config file.
 *  profile   --profile, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default". A
 *            profile named explicitly must exist (ProfileNotFound).
 *  keys      AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY — unless --profile
 *            or --data-dir was given, which negate the environment as
 *            botocore's explicit profile does; then the shared credentials
 *            file (--data-dir DIR → DIR/credentials, written by vpcd; else
 *            AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) section
 *            [profile]; then the config file (AWS_CONFIG_FILE, else
 *            ~/.aws/config) section [default] / [profile NAME].
 *  TLS       an https:// endpoint is verified against --ca-bundle, else
 *            AWS_CA_BUNDLE, else the profile's ca_bundle in the config file,
 *            else (with --data-dir DIR) DIR/tls.crt when vpcd made one, else
 *            the system's CA store.
 *  region    --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region
 *            in the config file, then us-east-1 (vpcd's default region;
 *            the aws CLI would refuse to go on).
 *
 * Sans-I/O apart from reading the two files: the environment is passed in
 * as a lookup so that tests can give their own. The secret is wiped by
 * cli_config_wipe() and never printed.
 */
#ifndef VPCD_CLI_CONFIG_H
#define VPCD_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_DEFAULT_ENDPOINT "http://127.0.0.1:8775"
#define CLI_DEFAULT_REGION "us-east-1"

struct cli_options {
	const char *o_endpoint_url;	/* NULL when not given on the command line */
	const char *o_profile;
	const char *o_region;
	const char *o_data_dir;
	const char *o_ca_bundle;
};

typedef const char *(*cli_getenv_fn)(const char *name);

struct cli_config {
	char c_endpoint[512];	/* as given: "http://127.0.0.1:8775" */
	char c_host[256];	/* "127.0.0.1" */
	char c_port[8];		/* "8775" */
	char c_netloc[300];	/* Host header and signed host: "127.0.0.1:8775" */
	char c_path[256];	/* "/" */
	char c_region[64];
	char c_profile[128];
	char c_access_key_id[128];
	char c_secret[128];	/* wiped by cli_config_wipe */
	char c_key_source[600];	/* "environment", "shared credentials file /x (profile p)", ... */
	char c_endpoint_source[64];
	bool c_tls;		/* https:// */
	char c_ca_bundle[1024];	/* "" : the system's CA store */
};

/* Resolves everything. Returns 0, or -1 with an AWS-style code and a
 * message ("NoCredentials", "ProfileNotFound", "InvalidEndpoint"). */
int cli_config_resolve(const struct cli_options *o, cli_getenv_fn env, struct cli_config *out,
		       char *code, size_t code_len, char *msg, size_t msg_len);

/* Splits "http://host[:port][/path]" into out's host, port, netloc and path.
 * Returns 0, or -1 with a message (https is refused: vpcctl speaks plain
 * HTTP to a vpcd on the same host or network). */
int cli_endpoint_parse(const char *url, struct cli_config *out, char *msg, size_t msg_len);

/* Looks key up in section of an INI file as botocore reads it ("[name]",
 * "key = value", '#' and ';' comments, indented lines are sub-settings and
 * skipped). Returns 1 found, 0 not found (section_found says whether the
 * section exists), -1 when the file cannot be read. */
int cli_ini_get(const char *path, const char *section, const char *key, char *value, size_t value_len,
		bool *section_found);

void cli_config_wipe(struct cli_config *c);

#endif
