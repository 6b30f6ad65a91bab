/*
 * bgp_run — the BIRD process and its control socket: the I/O half of
 * src/bgp (bgp.h is the sans-I/O half that writes the configuration and
 * reads the answers).
 *
 *   bgp_run_netns_ensure()  the namespace BIRD lives in (`ip netns add`,
 *                     lo up) when it does not exist: vpcd's is
 *                     bgp_run_netns_name(<main pid>), "vpcd-bgp-<pid>".
 *   bgp_run_start()   ensures the namespace and starts
 *                     `bird -f -c bird.conf -s bird.ctl -P bird.pid` in it,
 *                     working in DIR, with TZ=UTC (bgp.h reads BIRD's times
 *                     as UTC) and PR_SET_PDEATHSIG SIGKILL (BIRD dies with
 *                     the process that started it); optionally as another
 *                     user (below) and with its stderr into DIR/bird.log;
 *                     the caller gets its pid and a pidfd that becomes
 *                     readable when BIRD exits (poll it: supervision).
 *   bgp_run_reap()    after the pidfd is readable: its exit status, logged.
 *   bgp_run_stop()    SIGTERM, then SIGKILL after BGP_RUN_STOP_MS; reaped.
 *   bgp_run_netns_delete()  the namespace, once BIRD is stopped.
 *   bgp_ctl_command() one command on the control socket, its whole reply
 *                     (the coded lines bgp_parse_* read), within a timeout.
 *   bgp_run_restart_delay_ms()  how long to wait before restarting a BIRD
 *                     that exited: 1 s doubling to 32 s, as crashes repeat.
 *
 * Needs root (namespaces, BGP's port 179): under privilege separation only
 * priv/'s helper may call bgp_run_start/stop/netns_delete (the main
 * process may neither exec nor setns); the pidfd and the socket path are
 * what the main process needs. The process that called bgp_run_start is
 * BIRD's parent and must be the one that reaps it. Not thread-safe per
 * BIRD; different BIRDs are independent.
 */
#ifndef VPCD_BGP_RUN_H
#define VPCD_BGP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/strbuf.h"

#define BGP_RUN_BIRD_DEFAULT	"/usr/sbin/bird"	/* Debian's bird2 */
#define BGP_RUN_STOP_MS		5000	/* SIGTERM to SIGKILL */
#define BGP_RUN_NETNS_MAX	32	/* a /run/netns/ name, with NUL */
#define BGP_RUN_PATH_MAX	256
#define BGP_CTL_REPLY_MAX	(4u << 20)	/* a reply longer than this is refused */

/* The files in br_dir: */
#define BGP_RUN_CONF		"bird.conf"
#define BGP_RUN_CTL		"bird.ctl"
#define BGP_RUN_PIDFILE		"bird.pid"

#define BGP_RUN_LOG		"bird.log"	/* BIRD's stderr, with br_log */
#define BGP_RUN_LOG_MAX		(4 << 20)	/* bird.log emptied at a start when larger */
#define BGP_RUN_NETNS_PREFIX	"vpcd-bgp-"

struct bgp_run_config {
	const char *br_dir;	/* holds bird.conf (written by the caller) and the socket */
	const char *br_netns;	/* [A-Za-z0-9_-], < BGP_RUN_NETNS_MAX: e.g. "vpcd-bgp-<pid>" */
	const char *br_bird;	/* the bird binary; NULL: BGP_RUN_BIRD_DEFAULT */
	/* Run BIRD as br_uid:br_gid (not 0) instead of root, keeping only
	 * CAP_NET_BIND_SERVICE, CAP_NET_ADMIN, CAP_NET_RAW and
	 * CAP_NET_BROADCAST (ambient capabilities): its control socket is then
	 * that user's. Not BIRD's own -u/-g: its change of user clears
	 * PR_SET_PDEATHSIG (the kernel does on any change of effective ids),
	 * so a BIRD started with -u outlives a killed vpcd; here the ids change
	 * before the death signal is set, and exec keeps both. */
	bool br_drop;
	uid_t br_uid;
	gid_t br_gid;
	bool br_log;		/* BIRD's stdout and stderr appended to DIR/bird.log */
};

/* "vpcd-bgp-<pid>" into name (BGP_RUN_NETNS_MAX): the namespace of the
 * vpcd whose main process is pid (BGP-CONTRACT.md). */
void bgp_run_netns_name(pid_t main_pid, char name[BGP_RUN_NETNS_MAX]);

/* Creates namespace name ([A-Za-z0-9_-]) when it does not exist and brings
 * its lo up. 0, or -1 with the cause in err. Needs root. */
int bgp_run_netns_ensure(const char *name, char *err, size_t errlen);

/* 0 with *pid and *pidfd (the caller's to close) set; -1 with the cause in
 * err: "bird2 is not installed (/usr/sbin/bird not found)", a bad name,
 * the namespace that could not be made, the fork. BIRD refusing its
 * configuration shows later as an exit (the log says why). */
int bgp_run_start(const struct bgp_run_config *c, pid_t *pid, int *pidfd, char *err, size_t errlen);

/* Reaps an exited BIRD (WNOHANG): 1 with *status (waitpid's), 0 when it
 * still runs, -1 on error. */
int bgp_run_reap(pid_t pid, int *status);

/* Stops and reaps BIRD. 0, or -1 when it could not be reaped. */
int bgp_run_stop(pid_t pid);

/* Deletes every namespace vpcd-bgp-<pid> whose vpcd is gone (no process
 * <pid>: one SIGKILLed vpcd left, its helper killed with it). How many. */
int bgp_run_netns_sweep(void);

/* `ip netns del NAME`. 0 (also when it did not exist) or -1 (logged). */
int bgp_run_netns_delete(const char *name);

/* Sends cmd (no newline in it) on the control socket at path and appends
 * BIRD's reply, from after the greeting to its last line, to reply. 0, or
 * -1 with the cause (no socket, timeout, a reply over BGP_CTL_REPLY_MAX).
 * BIRD's own error answers (8xxx/9xxx) are replies: bgp_parse_* name them. */
int bgp_ctl_command(const char *path, const char *cmd, int timeout_ms, struct strbuf *reply,
		    char *err, size_t errlen);

unsigned bgp_run_restart_delay_ms(unsigned consecutive_exits);

#endif
