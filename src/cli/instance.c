/*
 * instance.c — `vpcctl instance exec i-… -- CMD [ARGS]`: runs CMD inside the
 * instance's network namespace (/run/netns/<id>, made by vpcd --dataplane on
 * this host), as `ip netns exec` does: setns, then a private mount namespace
 * with /sys remounted for the instance's network and each file of
 * /etc/netns/<id>/ bind-mounted over its namesake in /etc (vpcd writes the
 * instance's resolv.conf there, from its VPC's DHCP options). No API call;
 * needs root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cli/commands.h"

const char cli_instance_help[] =
	"usage: vpcctl instance exec INSTANCE-ID -- CMD [ARGS...]\n"
	"\n"
	"Runs CMD inside the instance's network namespace (vpcd --dataplane names it\n"
	"after the instance, /run/netns/INSTANCE-ID, on the host vpcd runs on), as\n"
	"`ip netns exec` does. CMD's exit status is vpcctl's; 127 when CMD cannot be\n"
	"run. Needs root (CAP_SYS_ADMIN). Makes no API call.\n"
	"\n"
	"  vpcctl instance exec i-0123456789abcdef0 -- ip addr\n"
	"  vpcctl instance exec i-0123456789abcdef0 -- ping -c 3 10.0.0.10\n";

static bool instance_id_ok(const char *id)
{
	size_t n = strlen(id);
	return n > 2 && n < 40 && strncmp(id, "i-", 2) == 0 && strspn(id + 2, "0123456789abcdef") == n - 2;
}

/* /etc/netns/<id>/NAME over /etc/NAME, as `ip netns exec` does (best
 * effort: a file that cannot be bound is said and skipped). Inside the
 * private mount namespace only. */
static void bind_netns_etc(const char *id)
{
	char dir[96];
	snprintf(dir, sizeof(dir), "/etc/netns/%s", id);
	DIR *d = opendir(dir);
	if (!d)
		return;	/* nothing of its own */
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;	/* ".", "..", and vpcd's temporary files */
		char src[384], dst[320];
		snprintf(src, sizeof(src), "%s/%s", dir, e->d_name);
		snprintf(dst, sizeof(dst), "/etc/%s", e->d_name);
		if (mount(src, dst, "none", MS_BIND, NULL) < 0)
			fprintf(stderr, "vpcctl: cannot bind %s over %s: %s\n", src, dst, strerror(errno));
	}
	closedir(d);
}

static int instance_exec(int argc, char **argv)
{
	/* argv[0] "exec", argv[1] the id, then "--" and the command */
	if (argc < 2)
		return cli_usage_error("instance exec", "an instance id is needed");
	const char *id = argv[1];
	if (!instance_id_ok(id))
		return cli_usage_error("instance exec", "'%s' is not an instance id (i-...)", id);
	int cmd = 2;
	if (cmd < argc && strcmp(argv[cmd], "--") == 0)
		cmd++;
	if (cmd >= argc)
		return cli_usage_error("instance exec", "a command is needed after --");
	char path[64];
	snprintf(path, sizeof(path), "/run/netns/%s", id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			fprintf(stderr, "vpcctl: %s has no network namespace on this host (%s): is it running, "
				"and vpcd running here with --dataplane?\n", id, path);
		else
			fprintf(stderr, "vpcctl: %s: %s\n", path, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "vpcctl: cannot enter %s's network namespace: %s%s\n", id, strerror(errno),
			errno == EPERM ? " (needs root)" : "");
		close(fd);
		return CLI_EXIT_ERROR;
	}
	close(fd);
	/* /sys showing the instance's interfaces, as ip netns exec does; best
	 * effort (the network namespace is what matters) */
	if (unshare(CLONE_NEWNS) == 0 && mount("", "/", "none", MS_SLAVE | MS_REC, NULL) == 0) {
		if (umount2("/sys", MNT_DETACH) == 0)
			(void)mount(id, "/sys", "sysfs", 0, NULL);
		bind_netns_etc(id);
	}
	fflush(NULL);
	execvp(argv[cmd], argv + cmd);
	fprintf(stderr, "vpcctl: %s: %s\n", argv[cmd], strerror(errno));
	return 127;
}

int cmd_instance(struct cli_ctx *cx, int argc, char **argv)
{
	(void)cx;
	/* help only before the command: `-- CMD --help` is CMD's */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(cli_instance_help, stdout);
			return CLI_EXIT_OK;
		}
	if (argc < 2)
		return cli_usage_error("instance", "a subcommand is needed (exec)");
	if (strcmp(argv[1], "exec") == 0)
		return instance_exec(argc - 1, argv + 1);
	return cli_usage_error("instance", "no subcommand '%s' (exec)", argv[1]);
}
