/*
 * test_config.c — src/cli/config.c: endpoint, profile, keys and region in
 * the aws CLI's order of precedence, with a fake environment and files in a
 * temporary directory (HOME points there, as ~ does for botocore).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/config.h"

#define ENV_MAX 16

static struct { const char *name, *value; } env_vars[ENV_MAX];
static char home[256];

static const char *fake_getenv(const char *name)
{
	for (int i = 0; i < ENV_MAX; i++)
		if (env_vars[i].name && strcmp(env_vars[i].name, name) == 0)
			return env_vars[i].value;
	return NULL;
}

static void env_set(const char *name, const char *value)
{
	for (int i = 0; i < ENV_MAX; i++)
		if (!env_vars[i].name || strcmp(env_vars[i].name, name) == 0) {
			env_vars[i].name = name;
			env_vars[i].value = value;
			return;
		}
	fail_msg("too many variables");
}

static void write_file(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", home, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	memset(env_vars, 0, sizeof(env_vars));
	snprintf(home, sizeof(home), "/tmp/vpcctl-config-XXXXXX");
	if (!mkdtemp(home))
		return -1;
	char aws[300];
	snprintf(aws, sizeof(aws), "%s/.aws", home);
	mkdir(aws, 0700);
	snprintf(aws, sizeof(aws), "%s/data", home);
	mkdir(aws, 0700);
	env_set("HOME", home);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	static const char *const files[] = { ".aws/credentials", ".aws/config", "data/credentials", "other", NULL };
	char path[512];
	for (int i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", home, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/.aws", home);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/data", home);
	rmdir(path);
	rmdir(home);
	return 0;
}

static int resolve(const struct cli_options *o, struct cli_config *c, char *code, char *msg)
{
	return cli_config_resolve(o, fake_getenv, c, code, 64, msg, 512);
}

static void test_defaults_and_home_credentials(void **state)
{
	(void)state;
	write_file(".aws/credentials", "# comment\n[other]\naws_access_key_id = AKIAOTHER\n"
		   "aws_secret_access_key = other\n\n[default]\naws_access_key_id = AKIAHOME\n"
		   "aws_secret_access_key=home/secret \n");
	struct cli_options o = { 0 };
	struct cli_config c;
	char code[64], msg[512];
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIAHOME");
	assert_string_equal(c.c_secret, "home/secret");
	assert_string_equal(c.c_endpoint, CLI_DEFAULT_ENDPOINT);
	assert_string_equal(c.c_host, "127.0.0.1");
	assert_string_equal(c.c_port, "8775");
	assert_string_equal(c.c_netloc, "127.0.0.1:8775");
	assert_string_equal(c.c_path, "/");
	assert_string_equal(c.c_region, CLI_DEFAULT_REGION);
	assert_non_null(strstr(c.c_key_source, "shared credentials file"));
	cli_config_wipe(&c);
	assert_int_equal(c.c_secret[0], 0);
}

static void test_environment_wins_unless_profile_given(void **state)
{
	(void)state;
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = h\n"
		   "[ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = o\n");
	env_set("AWS_ACCESS_KEY_ID", "AKIAENV");
	env_set("AWS_SECRET_ACCESS_KEY", "e");
	struct cli_options o = { 0 };
	struct cli_config c;
	char code[64], msg[512];
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIAENV");
	assert_string_equal(c.c_key_source, "environment");
	/* AWS_PROFILE does not beat the environment's keys (botocore) */
	env_set("AWS_PROFILE", "ops");
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIAENV");
	/* --profile does */
	o.o_profile = "ops";
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIAOPS");
	assert_string_equal(c.c_profile, "ops");
	/* only one of the pair in the environment: not used */
	o.o_profile = NULL;
	env_set("AWS_PROFILE", NULL);
	env_set("AWS_SECRET_ACCESS_KEY", "");
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIAHOME");
}

static void test_shared_file_variable_and_profiles(void **state)
{
	(void)state;
	write_file("other", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = f\n"
		   "[lab]\naws_access_key_id = AKIALAB\naws_secret_access_key = l\n  nested = skipped\n");
	char path[400];
	snprintf(path, sizeof(path), "%s/other", home);
	env_set("AWS_SHARED_CREDENTIALS_FILE", path);
	struct cli_options o = { 0 };
	struct cli_config c;
	char code[64], msg[512];
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIAFILE");
	env_set("AWS_PROFILE", "lab");
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIALAB");
	assert_string_equal(c.c_secret, "l");
	/* a profile named but nowhere */
	env_set("AWS_PROFILE", "nope");
	assert_int_equal(resolve(&o, &c, code, msg), -1);
	assert_string_equal(code, "ProfileNotFound");
	assert_string_equal(msg, "The config profile (nope) could not be found");
}

static void test_config_file_keys_region_endpoint(void **state)
{
	(void)state;
	write_file(".aws/config", "[default]\nregion = eu-west-1\n[profile ops]\nregion = ap-northeast-1\n"
		   "endpoint_url = http://10.1.2.3:9000\naws_access_key_id = AKIACONF\naws_secret_access_key = c\n");
	struct cli_options o = { .o_profile = "ops" };
	struct cli_config c;
	char code[64], msg[512];
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIACONF");
	assert_non_null(strstr(c.c_key_source, "config file"));
	assert_string_equal(c.c_region, "ap-northeast-1");
	assert_string_equal(c.c_netloc, "10.1.2.3:9000");
	assert_string_equal(c.c_endpoint_source, "config file");
	/* environment beats the config file, the command line beats both */
	env_set("AWS_DEFAULT_REGION", "us-west-1");
	env_set("AWS_ENDPOINT_URL", "http://localhost:7000/");
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_region, "us-west-1");
	assert_string_equal(c.c_host, "localhost");
	assert_string_equal(c.c_port, "7000");
	env_set("AWS_REGION", "us-west-2");
	env_set("AWS_ENDPOINT_URL_EC2", "http://127.0.0.2:7001");
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_region, "us-west-2");
	assert_string_equal(c.c_netloc, "127.0.0.2:7001");
	o.o_region = "sa-east-1";
	o.o_endpoint_url = "http://[::1]:8000";
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_region, "sa-east-1");
	assert_string_equal(c.c_host, "::1");
	assert_string_equal(c.c_port, "8000");
	assert_string_equal(c.c_netloc, "[::1]:8000");
	/* configured endpoints can be ignored, as botocore allows */
	o.o_endpoint_url = NULL;
	env_set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_endpoint, CLI_DEFAULT_ENDPOINT);
}

static void test_data_dir(void **state)
{
	(void)state;
	write_file("data/credentials", "[default]\naws_access_key_id = AKIAVPCD\naws_secret_access_key = v\n");
	env_set("AWS_ACCESS_KEY_ID", "AKIAENV");
	env_set("AWS_SECRET_ACCESS_KEY", "e");
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/data", home);
	struct cli_options o = { .o_data_dir = dir };
	struct cli_config c;
	char code[64], msg[512];
	assert_int_equal(resolve(&o, &c, code, msg), 0);
	assert_string_equal(c.c_access_key_id, "AKIAVPCD");
	assert_string_equal(c.c_secret, "v");
	assert_string_equal(c.c_endpoint, CLI_DEFAULT_ENDPOINT);
	/* a data dir without credentials says so */
	o.o_data_dir = home;
	assert_int_equal(resolve(&o, &c, code, msg), -1);
	assert_string_equal(code, "NoCredentials");
	assert_non_null(strstr(msg, "credentials"));
}

static void test_no_credentials(void **state)
{
	(void)state;
	struct cli_options o = { 0 };
	struct cli_config c;
	char code[64], msg[512];
	assert_int_equal(resolve(&o, &c, code, msg), -1);
	assert_string_equal(code, "NoCredentials");
}

static void test_endpoint_parse(void **state)
{
	(void)state;
	struct cli_config c;
	char msg[256];
	assert_int_equal(cli_endpoint_parse("http://vpcd.example:80/base/", &c, msg, sizeof(msg)), 0);
	assert_string_equal(c.c_host, "vpcd.example");
	assert_string_equal(c.c_path, "/base/");
	assert_int_equal(cli_endpoint_parse("HTTP://h", &c, msg, sizeof(msg)), 0);
	assert_string_equal(c.c_port, "80");
	assert_string_equal(c.c_netloc, "h");
	assert_int_equal(cli_endpoint_parse("https://h", &c, msg, sizeof(msg)), 0);
	assert_true(c.c_tls);
	assert_string_equal(c.c_port, "443");
	assert_int_equal(cli_endpoint_parse("https://h:8443/", &c, msg, sizeof(msg)), 0);
	assert_string_equal(c.c_port, "8443");
	assert_int_equal(cli_endpoint_parse("http://h", &c, msg, sizeof(msg)), 0);
	assert_false(c.c_tls);
	assert_int_equal(cli_endpoint_parse("ftp://h", &c, msg, sizeof(msg)), -1);
	assert_int_equal(cli_endpoint_parse("h:80", &c, msg, sizeof(msg)), -1);
	assert_int_equal(cli_endpoint_parse("http://h:0", &c, msg, sizeof(msg)), -1);
	assert_int_equal(cli_endpoint_parse("http://h:65536", &c, msg, sizeof(msg)), -1);
	assert_int_equal(cli_endpoint_parse("http://h:8x", &c, msg, sizeof(msg)), -1);
	assert_int_equal(cli_endpoint_parse("http://", &c, msg, sizeof(msg)), -1);
	assert_int_equal(cli_endpoint_parse("http://[::1", &c, msg, sizeof(msg)), -1);
}

static void test_ini_reader(void **state)
{
	(void)state;
	write_file("other", "; top\n[ a ]\nk=1\n[b]\n  k = nested\nk = 2 ; not a comment in botocore either\n");
	char path[400], v[64];
	bool found;
	snprintf(path, sizeof(path), "%s/other", home);
	assert_int_equal(cli_ini_get(path, "a", "k", v, sizeof(v), &found), 1);
	assert_string_equal(v, "1");
	assert_int_equal(cli_ini_get(path, "b", "k", v, sizeof(v), &found), 1);
	assert_string_equal(v, "2 ; not a comment in botocore either");
	assert_int_equal(cli_ini_get(path, "c", "k", v, sizeof(v), &found), 0);
	assert_false(found);
	assert_int_equal(cli_ini_get(path, "a", "z", v, sizeof(v), &found), 0);
	assert_true(found);
	assert_int_equal(cli_ini_get("/nonexistent/x", "a", "k", v, sizeof(v), &found), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_and_home_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_wins_unless_profile_given, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_file_variable_and_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file_keys_region_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ini_reader, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
