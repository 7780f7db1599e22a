/* KT_* environment variables: parsed once, at start-up, strictly.
 * A bad value gets the default and one warning (written only where logging
 * goes).  Pure code: no I/O, so the unit tests can drive it directly. */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <kt.h>

enum kt_mode { KT_MODE_OFF = 0, KT_MODE_AUDIT = 1, KT_MODE_ENFORCE = 2 };
enum kt_log_target { KT_LOG_NONE = 0, KT_LOG_STDERR, KT_LOG_FILE };
enum kt_log_format { KT_LOG_TEXT = 0, KT_LOG_JSON };

#define KT_CONFIG_MAX_WARNINGS 4
#define KT_CONFIG_WARNING_LEN 200

struct kt_config {
	enum kt_mode mode;
	/* KT_IDENTITY: the strongest identity wanted, an enum kt_identity_mode
	 * (kt.h).  How a child is told apart from a later process of the same
	 * number: inode (pidfs, 6.9+), fd (a held pidfd, 5.3+) or none.  The
	 * kernel may offer less than is wanted; then the mode degrades to the
	 * next weaker one (inode, then fd, then none) and a report says so.
	 * "auto" and "inode" both want the strongest, inode, and so mean the
	 * same: there is no mode that insists on an inode and refuses to
	 * degrade.  "fd" and "none" force a weaker mode, so CI can run every
	 * mode on one kernel. */
	enum kt_identity_mode identity;
	enum kt_log_target log_target;
	const char *log_path; /* points into the environment; KT_LOG_FILE only */
	/* KT_MAX_FDS: most pidfds of signalled children kept at once;
	 * KT_MAX_FDS_DEFAULT means heldfd.h's KT_HELD_MAX.  Never more than a
	 * quarter of the soft RLIMIT_NOFILE, read when the first is kept. */
	long max_fds;
	enum kt_log_format log_format;
	int stats;            /* KT_STATS=1: a summary event at exit */
	int exitcode;         /* KT_EXITCODE=N (1-255): a process that sent a
	                         stale kill exits N instead of 0; 0 when unset */
	/* KT_PROVOKE_FD=N:INODE: a SOCK_SEQPACKET socket to a reuse provoker
	 * (kt-run --provoke-reuse) and its inode number: reaped PIDs go out on
	 * it, one ack byte comes back per PID.  The inode proves descriptor N
	 * is still that socket in a process that inherited the variable but
	 * not the descriptor.  -1 when unset. */
	int provoke_fd;
	unsigned long long provoke_ino;
	/* KT_OBSERVE: what a kill of a number the program saw under /proc (and
	 * never registered as a child) gets, as KT_MODE words (observe.h);
	 * default off.  KT_MODE caps it: audit or off there means no more
	 * here. */
	enum kt_mode observe;
	int n_warnings;
	char warnings[KT_CONFIG_MAX_WARNINGS][KT_CONFIG_WARNING_LEN];
};

#define KT_MAX_FDS_DEFAULT (-1L)
/* Largest KT_MAX_FDS accepted: the default fs.nr_open, so no process can
 * hold more fds than this anyway. */
#define KT_MAX_FDS_LIMIT (1L << 20)

/* The defaults: what every hook uses before the constructor has run. */
#define KT_CONFIG_DEFAULTS \
	{ .mode = KT_MODE_ENFORCE, .identity = KT_IDENTITY_INODE, .max_fds = KT_MAX_FDS_DEFAULT, \
	  .provoke_fd = -1 }

/* Fill C from ENVP (a NULL-terminated "NAME=value" array; NULL means empty).
 * SECURE: the process runs in secure-execution mode (AT_SECURE: set-user-ID
 * and the like), where a file named by the environment is never opened. */
void kt_config_parse(struct kt_config *c, char *const *envp, int secure);

#endif
