/*
 * bgp_run — starts, stops and asks BIRD (bgp_run.h). The only file of
 * src/bgp that runs processes or opens sockets. Runs nothing through a
 * shell: `ip` and `bird` get argument vectors built from checked names.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "bgp/bgp_run.h"

#define RESTART_DELAY_FIRST_MS	1000
#define RESTART_DELAY_MAX_MS	32000

static char *const child_env[] = { "TZ=UTC", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };

static bool netns_name_ok(const char *s)
{
	size_t n = strnlen(s, BGP_RUN_NETNS_MAX);

	if (n == 0 || n >= BGP_RUN_NETNS_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

/* Runs `ip` with argv; 0 when it exits 0. */
static int run_ip(const char *const argv[])
{
	static const char *const dirs[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };
	const char *path = NULL;
	pid_t pid;
	int st;

	for (size_t i = 0; i < ARRAY_LEN(dirs) && !path; i++)
		if (access(dirs[i], X_OK) == 0)
			path = dirs[i];
	if (!path) {
		log_error("bgp", "cannot run ip: not found (install iproute2)");
		return -1;
	}
	int e = posix_spawn(&pid, path, NULL, NULL, (char *const *)argv, child_env);
	if (e != 0) {
		log_error("bgp", "cannot run %s: %s", path, strerror(e));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static bool netns_exists(const char *name)
{
	char path[64 + BGP_RUN_NETNS_MAX];
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

void bgp_run_netns_name(pid_t main_pid, char name[BGP_RUN_NETNS_MAX])
{
	snprintf(name, BGP_RUN_NETNS_MAX, BGP_RUN_NETNS_PREFIX "%ld", (long)main_pid);
}

int bgp_run_netns_ensure(const char *name, char *err, size_t errlen)
{
	if (!name || !netns_name_ok(name)) {
		err_set(err, errlen, "bad namespace name");
		return -1;
	}
	if (!netns_exists(name)) {
		const char *const add[] = { "ip", "netns", "add", name, NULL };
		if (run_ip(add) < 0) {
			err_set(err, errlen, "cannot create namespace %s (ip netns add)", name);
			return -1;
		}
	}
	const char *const lo[] = { "ip", "-n", name, "link", "set", "lo", "up", NULL };
	if (run_ip(lo) < 0) {
		err_set(err, errlen, "cannot bring lo up in namespace %s", name);
		return -1;
	}
	return 0;
}

/* In the child, before exec: become uid:gid keeping only BIRD's network
 * capabilities, as ambient ones so that they survive the exec of a binary
 * without file capabilities. Then the effective ids never change again,
 * and the death signal set afterwards stays. */
static int child_drop(uid_t uid, gid_t gid)
{
	static const int keep[] = { CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST, CAP_NET_ADMIN, CAP_NET_RAW };
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (uid == 0 || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -1;
	memset(data, 0, sizeof(data));
	for (size_t i = 0; i < ARRAY_LEN(keep); i++) {
		uint32_t bit = 1u << (keep[i] % 32);
		data[keep[i] / 32].effective |= bit;
		data[keep[i] / 32].permitted |= bit;
		data[keep[i] / 32].inheritable |= bit;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(keep); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, keep[i], 0, 0) < 0)
			return -1;
	return 0;
}

int bgp_run_start(const struct bgp_run_config *c, pid_t *pid_out, int *pidfd_out, char *err,
		  size_t errlen)
{
	const char *bird = c->br_bird ? c->br_bird : BGP_RUN_BIRD_DEFAULT;
	char conf[BGP_RUN_PATH_MAX], ctl[BGP_RUN_PATH_MAX], pidfile[BGP_RUN_PATH_MAX];
	char nspath[64 + BGP_RUN_NETNS_MAX];

	if (access(bird, X_OK) != 0) {
		err_set(err, errlen, "bird2 is not installed (%s not found)", bird);
		return -1;
	}
	if (!c->br_netns || !netns_name_ok(c->br_netns)) {
		err_set(err, errlen, "bad namespace name");
		return -1;
	}
	if (c->br_drop && c->br_uid == 0) {
		err_set(err, errlen, "BIRD's user must not be root");
		return -1;
	}
	if (!c->br_dir || snprintf(conf, sizeof(conf), "%s/%s", c->br_dir, BGP_RUN_CONF) >= (int)sizeof(conf) ||
	    snprintf(ctl, sizeof(ctl), "%s/%s", c->br_dir, BGP_RUN_CTL) >= (int)sizeof(ctl) ||
	    snprintf(pidfile, sizeof(pidfile), "%s/%s", c->br_dir, BGP_RUN_PIDFILE) >= (int)sizeof(pidfile) ||
	    strlen(ctl) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		err_set(err, errlen, "BIRD's directory path is too long");
		return -1;
	}
	if (access(conf, R_OK) != 0) {
		err_set(err, errlen, "no %s", conf);
		return -1;
	}
	if (bgp_run_netns_ensure(c->br_netns, err, errlen) < 0)
		return -1;
	snprintf(nspath, sizeof(nspath), "/run/netns/%s", c->br_netns);
	int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		err_set(err, errlen, "cannot open %s: %s", nspath, strerror(errno));
		return -1;
	}
	/* a socket left by a BIRD that died would make BIRD refuse to start */
	unlink(ctl);

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		err_set(err, errlen, "fork: %s", strerror(errno));
		close(nsfd);
		return -1;
	}
	if (pid == 0) {
		/* the child: it works in DIR, so BIRD's paths are relative
		 * (DIR's parents need not be open to BIRD's user) */
		const char *const argv[] = { "bird", "-f", "-c", BGP_RUN_CONF, "-s", BGP_RUN_CTL,
					     "-P", BGP_RUN_PIDFILE, NULL };
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (setns(nsfd, CLONE_NEWNET) < 0 || chdir(c->br_dir) < 0)
			_exit(126);
		if (c->br_drop && child_drop(c->br_uid, c->br_gid) < 0)
			_exit(126);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 0);
		if (c->br_log) {
			int log = open(BGP_RUN_LOG, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
			struct stat st;
			/* bounded: a BIRD restarted many times starts it afresh */
			if (log >= 0 && fstat(log, &st) == 0 && st.st_size > BGP_RUN_LOG_MAX)
				(void)ftruncate(log, 0);
			if (log >= 0) {
				dup2(log, 1);
				dup2(log, 2);
			}
		}
		/* BIRD dies with whoever started it (vpcd's helper, which dies
		 * with vpcd) */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent)
			_exit(0);
		/* nothing of the caller's (sockets, the store) reaches BIRD */
		syscall(SYS_close_range, 3u, ~0u, 0u);
		execve(bird, (char *const *)argv, child_env);
		_exit(127);
	}
	close(nsfd);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		err_set(err, errlen, "pidfd_open: %s", strerror(errno));
		bgp_run_stop(pid);
		return -1;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	log_info("bgp", "BIRD started: pid %d in namespace %s, socket %s", (int)pid, c->br_netns, ctl);
	*pid_out = pid;
	*pidfd_out = pidfd;
	return 0;
}

int bgp_run_reap(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	if (WIFEXITED(*status))
		log_warn("bgp", "BIRD (pid %d) exited with status %d", (int)pid, WEXITSTATUS(*status));
	else if (WIFSIGNALED(*status))
		log_warn("bgp", "BIRD (pid %d) killed by signal %d", (int)pid, WTERMSIG(*status));
	return 1;
}

int bgp_run_stop(pid_t pid)
{
	int st;
	uint64_t deadline = time_mono_ms() + BGP_RUN_STOP_MS;

	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return -1;
	for (;;) {
		int r = bgp_run_reap(pid, &st);
		if (r != 0)
			return r > 0 ? 0 : -1;
		if (time_mono_ms() >= deadline)
			break;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	log_warn("bgp", "BIRD (pid %d) ignored SIGTERM for %d ms: SIGKILL", (int)pid, BGP_RUN_STOP_MS);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int bgp_run_netns_delete(const char *name)
{
	if (!netns_name_ok(name))
		return -1;
	if (!netns_exists(name))
		return 0;
	const char *const del[] = { "ip", "netns", "del", name, NULL };
	if (run_ip(del) < 0) {
		log_error("bgp", "cannot delete namespace %s", name);
		return -1;
	}
	return 0;
}

int bgp_run_netns_sweep(void)
{
	const size_t plen = strlen(BGP_RUN_NETNS_PREFIX);
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		const char *num = de->d_name + plen;
		if (strncmp(de->d_name, BGP_RUN_NETNS_PREFIX, plen) != 0 || !*num ||
		    strspn(num, "0123456789") != strlen(num) || strlen(num) > 9)
			continue;
		long pid = strtol(num, NULL, 10);
		if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (bgp_run_netns_delete(de->d_name) == 0) {
			log_info("bgp", "namespace %s deleted: its vpcd is gone", de->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Reads from fd until reply holds a complete reply after offset start: a
 * line "DDDD text" (four digits and a space) ends it. */
static int read_reply(int fd, struct strbuf *sb, size_t start, uint64_t deadline, char *err,
		      size_t errlen)
{
	size_t scan = start;	/* the start of the first line not yet looked at */

	for (;;) {
		/* complete lines from scan on */
		const char *d = sb->sb_data;
		while (d && scan < sb->sb_len) {
			const char *nl = memchr(d + scan, '\n', sb->sb_len - scan);
			if (!nl)
				break;
			size_t len = (size_t)(nl - (d + scan));
			const char *l = d + scan;
			scan += len + 1;
			if (len >= 5 && l[4] == ' ' && l[0] >= '0' && l[0] <= '9' && l[1] >= '0' &&
			    l[1] <= '9' && l[2] >= '0' && l[2] <= '9' && l[3] >= '0' && l[3] <= '9')
				return 0;
		}
		if (sb->sb_len - start > BGP_CTL_REPLY_MAX) {
			err_set(err, errlen, "BIRD's reply is over %u bytes", BGP_CTL_REPLY_MAX);
			return -1;
		}
		uint64_t now = time_mono_ms();
		if (now >= deadline) {
			err_set(err, errlen, "no complete reply from BIRD in time");
			return -1;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR) {
			err_set(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (r <= 0)
			continue;
		char buf[16384];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			err_set(err, errlen, "BIRD closed its socket mid-reply");
			return -1;
		}
		sb_append(sb, buf, (size_t)n);
	}
}

int bgp_ctl_command(const char *path, const char *cmd, int timeout_ms, struct strbuf *reply,
		    char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct strbuf greeting = STRBUF_INIT;
	uint64_t deadline = time_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	int rc = -1;

	if (strlen(path) >= sizeof(sa.sun_path) || strchr(cmd, '\n')) {
		err_set(err, errlen, "bad socket path or command");
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err_set(err, errlen, "cannot reach BIRD at %s: %s", path, strerror(errno));
		goto out;
	}
	/* "0001 BIRD 2.0.12 ready." first */
	if (read_reply(fd, &greeting, 0, deadline, err, errlen) < 0)
		goto out;
	size_t clen = strlen(cmd);
	char line[512];
	if (clen + 1 > sizeof(line)) {
		err_set(err, errlen, "command too long");
		goto out;
	}
	memcpy(line, cmd, clen);
	line[clen] = '\n';
	if (write(fd, line, clen + 1) != (ssize_t)(clen + 1)) {
		err_set(err, errlen, "cannot send to BIRD: %s", strerror(errno));
		goto out;
	}
	/* anything after the greeting's line already read belongs to the reply */
	size_t start = reply->sb_len;
	const char *g = sb_str(&greeting);
	const char *gl = strchr(g, '\n');
	if (gl && gl[1])
		sb_puts(reply, gl + 1);
	rc = read_reply(fd, reply, start, deadline, err, errlen);
out:
	sb_free(&greeting);
	close(fd);
	return rc;
}

unsigned bgp_run_restart_delay_ms(unsigned consecutive_exits)
{
	unsigned d = RESTART_DELAY_FIRST_MS;

	for (unsigned i = 1; i < consecutive_exits && d < RESTART_DELAY_MAX_MS; i++)
		d *= 2;
	return d < RESTART_DELAY_MAX_MS ? d : RESTART_DELAY_MAX_MS;
}
