/*
 * vpn.c — `vpcctl vpn devices|config|status`: the console's "Download
 * Configuration" dialog and its tunnel status tab (in vpn_status.c). The
 * configuration is written byte for byte as GetVpnConnectionDeviceSampleConfiguration
 * answers it: vpcctl never edits a router's configuration.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/commands.h"
#include "cli/output.h"

const char cli_vpn_help[] =
	"usage: vpcctl vpn devices|config|status ...\n"
	"\n"
	"  vpn devices [--vendor V] [--platform P] [--software S]\n"
	"      the device types vpcd can write a configuration for\n"
	"  vpn config VPN-ID (--vendor V --platform P --software S | --device-type ID)\n"
	"                    [--ike-version ikev1|ikev2] [-o FILE]\n"
	"      the customer gateway's configuration (Download Configuration)\n"
	"  vpn status [VPN-ID]\n"
	"      each tunnel's outside address, status, since when, and why; its ISAKMP\n"
	"      and IPsec SAs (show crypto isakmp sa / ipsec sa) from DIR/vpcd.db\n"
	"\n"
	"Each has its own --help.\n";

const char cli_vpn_devices_help[] =
	"usage: vpcctl vpn devices [--vendor V] [--platform P] [--software S]\n"
	"\n"
	"Lists the device types (GetVpnConnectionDeviceTypes): id, vendor, platform,\n"
	"software. The options keep the rows whose field contains the text (any case).\n"
	"Pass the id, or the three texts, to `vpcctl vpn config`.\n";

const char cli_vpn_config_help[] =
	"usage: vpcctl vpn config VPN-ID (--vendor V --platform P --software S | --device-type ID)\n"
	"                         [--ike-version ikev1|ikev2] [-o FILE]\n"
	"\n"
	"Writes the configuration of VPN connection VPN-ID for a customer gateway\n"
	"device, exactly as GetVpnConnectionDeviceSampleConfiguration returns it: to\n"
	"FILE with -o, else to stdout (--output json prints the API's answer instead).\n"
	"\n"
	"  --vendor, --platform, --software  pick the device as the console's dialog\n"
	"          does (\"Cisco Systems, Inc.\", \"ISR Series Routers\", \"IOS 12.4+\");\n"
	"          each matches exactly (any case), else as a substring, and must\n"
	"          leave one device type (see `vpcctl vpn devices`)\n"
	"  --device-type ID   the device type's id instead\n"
	"  --ike-version V    ikev1 or ikev2 (default: the device's own)\n"
	"  -o, --file FILE    write here (mode 0600: it holds the pre-shared keys)\n";

/* A new or truncated file only the user can read: it holds pre-shared keys. */
static int open_private(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

static bool field_match(const char *have, const char *want, bool exact)
{
	if (!want)
		return true;
	if (!have)
		return false;
	return exact ? strcasecmp(have, want) == 0 : strcasestr(have, want) != NULL;
}

static struct doc *device_types(struct cli_ctx *cx)
{
	return cli_describe(cx, "GetVpnConnectionDeviceTypes", NULL, "VpnConnectionDeviceTypes");
}

static int vpn_devices(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vendor", required_argument, NULL, 'v' }, { "platform", required_argument, NULL, 'p' },
		{ "software", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	const char *vendor = NULL, *platform = NULL, *software = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'v': vendor = optarg; break;
		case 'p': platform = optarg; break;
		case 's': software = optarg; break;
		case ':': return cli_usage_error("vpn devices", "'%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("vpn devices", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("vpn devices", "unexpected argument '%s'", argv[optind]);
	struct doc *all = device_types(cx);
	if (!all)
		return CLI_EXIT_ERROR;
	struct doc *kept = doc_list();
	doc_foreach(t, doc_get(all, "VpnConnectionDeviceTypes"))
		if (field_match(doc_get_str(t, "Vendor"), vendor, false) &&
		    field_match(doc_get_str(t, "Platform"), platform, false) &&
		    field_match(doc_get_str(t, "Software"), software, false))
			doc_push(kept, doc_clone(t));
	if (cx->cx_output == CLI_OUTPUT_JSON) {
		struct doc *o = doc_obj();
		doc_set(o, "VpnConnectionDeviceTypes", kept);
		json_print(o, cx->cx_out);
		doc_free(o);
	} else {
		static const char *const h[] = { "ID", "VENDOR", "PLATFORM", "SOFTWARE" };
		struct table t;
		table_init(&t, NULL, 4, h);
		doc_foreach(d, kept) {
			const char *row[] = { doc_get_str(d, "VpnConnectionDeviceTypeId"), doc_get_str(d, "Vendor"),
					      doc_get_str(d, "Platform"), doc_get_str(d, "Software") };
			table_row(&t, row);
		}
		table_print(&t, cx->cx_out);
		doc_free(kept);
	}
	doc_free(all);
	return CLI_EXIT_OK;
}

/* The one device type matching vendor/platform/software; NULL after an error. */
static char *pick_device(struct cli_ctx *cx, const char *vendor, const char *platform, const char *software)
{
	struct doc *all = device_types(cx);
	if (!all)
		return NULL;
	struct doc *types = doc_get(all, "VpnConnectionDeviceTypes");
	char *id = NULL;
	for (int exact = 1; exact >= 0 && !id; exact--) {
		size_t n = 0;
		const struct doc *found = NULL;
		doc_foreach(t, types)
			if (field_match(doc_get_str(t, "Vendor"), vendor, exact) &&
			    field_match(doc_get_str(t, "Platform"), platform, exact) &&
			    field_match(doc_get_str(t, "Software"), software, exact)) {
				n++;
				found = t;
			}
		if (n == 1) {
			id = strdup(doc_get_str(found, "VpnConnectionDeviceTypeId"));
		} else if (n > 1) {
			fprintf(stderr, "AmbiguousDeviceType: %zu device types match; add --platform/--software or "
				"use --device-type:\n", n);
			doc_foreach(t, types)
				if (field_match(doc_get_str(t, "Vendor"), vendor, exact) &&
				    field_match(doc_get_str(t, "Platform"), platform, exact) &&
				    field_match(doc_get_str(t, "Software"), software, exact))
					fprintf(stderr, "  %s  %s | %s | %s\n", doc_get_str(t, "VpnConnectionDeviceTypeId"),
						doc_get_str(t, "Vendor"), doc_get_str(t, "Platform"),
						doc_get_str(t, "Software"));
			break;
		} else if (!exact) {
			fprintf(stderr, "InvalidDeviceType: no device type matches vendor '%s', platform '%s', "
				"software '%s' (see: vpcctl vpn devices)\n", vendor ? vendor : "*",
				platform ? platform : "*", software ? software : "*");
		}
	}
	doc_free(all);
	return id;
}

static int vpn_config(struct cli_ctx *cx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vendor", required_argument, NULL, 'v' }, { "platform", required_argument, NULL, 'p' },
		{ "software", required_argument, NULL, 's' }, { "device-type", required_argument, NULL, 'd' },
		{ "ike-version", required_argument, NULL, 'i' }, { "file", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *vendor = NULL, *platform = NULL, *software = NULL, *device = NULL, *ike = NULL, *file = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'v': vendor = optarg; break;
		case 'p': platform = optarg; break;
		case 's': software = optarg; break;
		case 'd': device = optarg; break;
		case 'i': ike = optarg; break;
		case 'o': file = optarg; break;
		case ':': return cli_usage_error("vpn config", "'%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("vpn config", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("vpn config", optind >= argc ? "which VPN connection? (VPN-ID)"
							       : "one VPN-ID only, got '%s'", argv[argc - 1]);
	const char *vpn_id = argv[optind];
	if (device && (vendor || platform || software))
		return cli_usage_error("vpn config", "give --device-type or --vendor/--platform/--software, not both");
	if (!device && !vendor && !platform && !software)
		return cli_usage_error("vpn config", "which device? --vendor/--platform/--software or --device-type "
				       "(see: vpcctl vpn devices)");
	if (ike && strcmp(ike, "ikev1") != 0 && strcmp(ike, "ikev2") != 0)
		return cli_usage_error("vpn config", "--ike-version is ikev1 or ikev2, not '%s'", ike);

	char *picked = NULL;
	if (!device) {
		picked = pick_device(cx, vendor, platform, software);
		if (!picked)
			return CLI_EXIT_ERROR;
		device = picked;
	}
	struct ec2_params p;
	ec2_params_init(&p);
	ec2_param(&p, vpn_id, "VpnConnectionId");
	ec2_param(&p, device, "VpnConnectionDeviceTypeId");
	if (ike)
		ec2_param(&p, ike, "InternetKeyExchangeVersion");
	struct doc *out = cli_call(cx, "GetVpnConnectionDeviceSampleConfiguration", &p);
	ec2_params_free(&p);
	int rc = CLI_EXIT_ERROR;
	if (!out)
		goto done;
	const char *conf = doc_get_str(out, "VpnConnectionDeviceSampleConfiguration");
	if (!conf) {
		fprintf(stderr, "MalformedResponse: the answer holds no VpnConnectionDeviceSampleConfiguration\n");
		goto done;
	}
	if (file) {
		FILE *f = NULL;
		int fd = open_private(file);
		if (fd >= 0)
			f = fdopen(fd, "w");
		if (!f || fwrite(conf, 1, strlen(conf), f) != strlen(conf) || fclose(f) != 0) {
			fprintf(stderr, "vpcctl vpn config: cannot write %s: %m\n", file);
			goto done;
		}
		if (cx->cx_output == CLI_OUTPUT_JSON) {
			struct doc *o = doc_obj();
			doc_set_str(o, "VpnConnectionId", vpn_id);
			doc_set_str(o, "VpnConnectionDeviceTypeId", device);
			doc_set_str(o, "File", file);
			doc_set_int(o, "Bytes", (int64_t)strlen(conf));
			json_print(o, cx->cx_out);
			doc_free(o);
		} else {
			fprintf(cx->cx_out, "wrote %s: configuration of %s for device type %s (%zu bytes)\n", file,
				vpn_id, device, strlen(conf));
		}
	} else if (cx->cx_output == CLI_OUTPUT_JSON) {
		json_print(out, cx->cx_out);
	} else {
		fwrite(conf, 1, strlen(conf), cx->cx_out);
	}
	rc = CLI_EXIT_OK;
done:
	doc_free(out);
	free(picked);
	return rc;
}

int cmd_vpn(struct cli_ctx *cx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cli_vpn_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "devices") == 0) {
		if (cli_wants_help(argc - 1, argv + 1)) {
			fputs(cli_vpn_devices_help, stdout);
			return CLI_EXIT_OK;
		}
		return vpn_devices(cx, argc - 1, argv + 1);
	}
	if (strcmp(sub, "config") == 0) {
		if (cli_wants_help(argc - 1, argv + 1)) {
			fputs(cli_vpn_config_help, stdout);
			return CLI_EXIT_OK;
		}
		return vpn_config(cx, argc - 1, argv + 1);
	}
	if (strcmp(sub, "status") == 0) {
		if (cli_wants_help(argc - 1, argv + 1)) {
			fputs(cli_vpn_status_help, stdout);
			return CLI_EXIT_OK;
		}
		return cli_vpn_status(cx, argc - 1, argv + 1);	/* vpn_status.c */
	}
	return cli_usage_error("vpn", "no subcommand '%s' (devices, config, status)", sub);
}
