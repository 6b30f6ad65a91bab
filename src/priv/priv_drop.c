/*
 * priv_drop.c — splitting vpcd in two and giving up root (priv.h): the
 * user chosen, the data dir handed to it, the helper forked, then this
 * process's groups, uids, capabilities (effective, permitted, inheritable,
 * ambient and the bounding set) dropped and no_new_privs set, and each of
 * those checked afterwards: vpcd refuses to go on half-dropped. Last, a
 * seccomp filter answers EPERM to the system calls the network side never
 * needs and an attacker would want (ptrace, exec, mount, namespaces and
 * user namespaces, kernel modules, BPF, keyrings, ...).
 */
#include "priv/priv_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "base/fs.h"

#define PRIV_LOG "priv"

void priv_client_set_channel(int fd);

static pid_t helper_pid = -1;
static int helper_fd = -1;
static char user_name[64];
static struct passwd drop_user;		/* between priv_separate and priv_drop */
static bool drop_pending;

const char *priv_user(void)
{
	return user_name;
}

static int cap_last(void)
{
	int last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

/* true when every capability set of this process is empty */
static bool caps_empty(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return false;
	return true;
}

static int drop_to(const struct passwd *pw)
{
	/* the bounding set first: that needs CAP_SETPCAP, which goes next */
	for (int cap = 0; cap <= cap_last(); cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			log_error(PRIV_LOG, "cannot drop capability %d from the bounding set: %s", cap, strerror(errno));
			return -1;
		}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_error(PRIV_LOG, "cannot become %s: %s", pw->pw_name, strerror(errno));
		return -1;
	}
	/* setresuid away from 0 cleared them; say so explicitly all the same */
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
	memset(none, 0, sizeof(none));
	if (syscall(SYS_capset, &hdr, none) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_error(PRIV_LOG, "cannot clear the capabilities or set no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* checked, not assumed */
	uid_t r, e, s;
	if (getresuid(&r, &e, &s) < 0 || r == 0 || e == 0 || s == 0 || setuid(0) == 0 || !caps_empty() ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		log_error(PRIV_LOG, "privileges are not all dropped; refusing to go on");
		return -1;
	}
	return 0;
}

#if defined(__x86_64__)
#define PRIV_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PRIV_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* Under ASan/LSan the leak check at exit ptraces our own threads and a
 * report execs the symbolizer: those two stay allowed in such builds. */
#if defined(__SANITIZE_ADDRESS__)
#define PRIV_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIV_SANITIZED 1
#endif
#endif

/* What the network side never calls. */
static const int denied_syscalls[] = {
#ifndef PRIV_SANITIZED
	SYS_ptrace, SYS_execve, SYS_execveat,
#endif
	SYS_process_vm_readv, SYS_process_vm_writev, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,
	SYS_setns, SYS_unshare, SYS_kexec_load, SYS_kexec_file_load, SYS_init_module, SYS_finit_module,
	SYS_delete_module, SYS_bpf, SYS_perf_event_open, SYS_keyctl, SYS_add_key, SYS_request_key,
	SYS_userfaultfd, SYS_swapon, SYS_swapoff, SYS_reboot, SYS_acct, SYS_settimeofday, SYS_clock_settime,
	SYS_adjtimex, SYS_personality, SYS_quotactl, SYS_open_by_handle_at, SYS_name_to_handle_at,
	SYS_fanotify_init, SYS_syslog,
#ifdef SYS_iopl
	SYS_iopl, SYS_ioperm,
#endif
};

/* clone() flags that would make namespaces (a user namespace gives back
 * every capability inside it) */
#define PRIV_NS_FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | \
		       CLONE_NEWUTS | CLONE_NEWCGROUP)

int priv_seccomp_install(void)
{
#ifdef PRIV_AUDIT_ARCH
	enum { N = ARRAY_LEN(denied_syscalls) };
	struct sock_filter f[2 * N + 16];
	size_t k = 0;
	const unsigned deny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PRIV_AUDIT_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* x32 system calls: none of ours */
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
#endif
	for (size_t i = 0; i < N; i++) {
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied_syscalls[i], 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
	}
	/* clone3 hides its flags in memory: ENOSYS, and glibc falls back to clone */
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PRIV_NS_FLAGS, 0, 1);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = (unsigned short)k, .filter = f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		log_error(PRIV_LOG, "cannot install the seccomp filter: %s", strerror(errno));
		return -1;
	}
#endif
	return 0;
}

int priv_separate(const struct priv_config *cfg, const char **data_dir_out)
{
	*data_dir_out = cfg->pc_data_dir;
	if (geteuid() != 0)
		return 0;	/* a user's vpcd: nothing to give up */
	const char *name = cfg->pc_user ? cfg->pc_user : PRIV_USER_DEFAULT;
	struct passwd *pw = getpwnam(name);
	if (!pw && !cfg->pc_user)
		pw = getpwnam(name = PRIV_USER_FALLBACK);
	if (!pw) {
		log_error(PRIV_LOG, "no user %s to run as (--user NAME)", name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_error(PRIV_LOG, "--user %s is root: vpcd runs its network side without privileges", name);
		return -1;
	}
	struct passwd user = *pw;
	snprintf(user_name, sizeof(user_name), "%s", user.pw_name);
	user.pw_name = user_name;
	int dirfd = open(cfg->pc_data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		log_error(PRIV_LOG, "%s: %s", cfg->pc_data_dir, strerror(errno));
		return -1;
	}
	if (cfg->pc_helper) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			log_error(PRIV_LOG, "socketpair: %s", strerror(errno));
			close(dirfd);
			return -1;
		}
		pid_t parent = getpid();
		pid_t pid = fork();
		if (pid < 0) {
			log_error(PRIV_LOG, "fork: %s", strerror(errno));
			close(sv[0]);
			close(sv[1]);
			close(dirfd);
			return -1;
		}
		if (pid == 0) {
			/* the helper: root, no secrets, no listener, nothing but requests */
			close(sv[0]);
			close(dirfd);
			if (cfg->pc_close_fd >= 0)
				close(cfg->pc_close_fd);
			for (size_t i = 0; i < ARRAY_LEN(cfg->pc_wipe); i++)
				if (cfg->pc_wipe[i])
					secret_wipe(cfg->pc_wipe[i], cfg->pc_wipe_len[i]);
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			if (getppid() != parent)
				_exit(0);
			/* Ctrl-C and SIGTERM are for the main process, which
			 * still needs the helper while it stops */
			signal(SIGINT, SIG_IGN);
			signal(SIGTERM, SIG_IGN);
			signal(SIGHUP, SIG_IGN);
			signal(SIGPIPE, SIG_IGN);
			prctl(PR_SET_NAME, "vpcd-priv", 0, 0, 0);
			priv_helper_main(sv[1], cfg);
		}
		close(sv[1]);
		helper_pid = pid;
		helper_fd = sv[0];
		priv_client_set_channel(helper_fd);
	}
	if (fchdir(dirfd) < 0) {
		log_error(PRIV_LOG, "cannot enter %s: %s", cfg->pc_data_dir, strerror(errno));
		close(dirfd);
		return -1;
	}
	close(dirfd);
	*data_dir_out = ".";
	drop_user = user;
	drop_pending = true;
	return 0;
}

int priv_drop(void)
{
	if (!drop_pending)
		return 0;
	drop_pending = false;
	struct passwd user = drop_user;
	/* the data dir is the user's, with what was made in it as root (its
	 * parents need not be: this process works from inside it) */
	if (fs_private_dir_chown(".", user.pw_uid, user.pw_gid) < 0 || drop_to(&user) < 0 ||
	    priv_seccomp_install() < 0)
		return -1;
	if (helper_pid > 0)
		log_info(PRIV_LOG, "running as %s (uid %u), no capabilities, no_new_privs, seccomp; helper %d keeps root for "
			 "namespaces, TAP/TUN devices, routes and the IKE/ESP sockets", user_name,
			 (unsigned)user.pw_uid, (int)helper_pid);
	else
		log_info(PRIV_LOG, "running as %s (uid %u), no capabilities, no_new_privs, seccomp (nothing needs root)",
			 user_name, (unsigned)user.pw_uid);
	return 0;
}

void priv_finish(void)
{
	if (helper_fd >= 0) {
		priv_client_set_channel(-1);
		close(helper_fd);
		helper_fd = -1;
	}
	if (helper_pid > 0) {
		int st;
		while (waitpid(helper_pid, &st, 0) < 0 && errno == EINTR)
			;
		helper_pid = -1;
	}
}
