/* SPDX-License-Identifier: MIT */
/* The settings: KT_* environment variables and the lines of libkt.conf,
 * parsed once, at start-up, strictly, by one set of rules.  A bad value gets
 * what was in force before it (the file's value, else the default) and one
 * warning (written only where logging goes).  Pure code: no I/O, so the unit
 * tests and the kt-config helper drive it directly. */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <stddef.h>

#include <kt.h>

enum kt_mode { KT_MODE_OFF = 0, KT_MODE_AUDIT = 1, KT_MODE_ENFORCE = 2 };
enum kt_log_target { KT_LOG_NONE = 0, KT_LOG_STDERR, KT_LOG_FILE, KT_LOG_SYSLOG };
enum kt_log_format { KT_LOG_TEXT = 0, KT_LOG_JSON };

/* Every setting, in the order kt-run --config lists them.  Each has an
 * environment variable; all but the last a key in libkt.conf. */
enum kt_setting {
	KT_SET_MODE,
	KT_SET_LOG,
	KT_SET_LOG_FORMAT,
	KT_SET_STATS,
	KT_SET_IDENTITY,
	KT_SET_MAX_FDS,
	KT_SET_EXITCODE,
	KT_SET_OBSERVE,
	KT_SET_PROVOKE_FD,
	KT_SETTINGS
};

/* Where a setting's value came from. */
enum kt_source { KT_FROM_DEFAULT = 0, KT_FROM_FILE, KT_FROM_ENV };

#define KT_CONFIG_MAX_WARNINGS 8
#define KT_CONFIG_WARNING_LEN 240

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
	/* KT_LOG_FILE only: points into the environment or into the file's
	 * text, both of which live as long as the process. */
	const char *log_path;
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
	 * not the descriptor.  -1 when unset.  Environment only. */
	int provoke_fd;
	unsigned long long provoke_ino;
	/* KT_OBSERVE: what a kill of a number the program saw under /proc (and
	 * never registered as a child) gets, as KT_MODE words (observe.h);
	 * default off.  KT_MODE caps it: audit or off there means no more
	 * here. */
	enum kt_mode observe;
	/* Where each setting came from, and for the file its line number. */
	unsigned char source[KT_SETTINGS];
	unsigned line[KT_SETTINGS];
	/* The file the settings were read from (kt_config_file's PATH). */
	const char *file;
	int n_warnings;
	int warnings_lost; /* beyond KT_CONFIG_MAX_WARNINGS: counted in the last */
	char warnings[KT_CONFIG_MAX_WARNINGS][KT_CONFIG_WARNING_LEN];
};

#define KT_MAX_FDS_DEFAULT (-1L)
/* Largest KT_MAX_FDS accepted.  Every fork copies the descriptor table up to
 * the highest open number and takes a reference on each open descriptor, and
 * the held pidfds live from descriptor 256 up: each one held makes every
 * fork of the process dearer (make bench's section 9 prices it).  At this
 * bound a fork costs a fraction more, not a multiple; past it, a program with
 * more signalled children than that is better served by the cache evicting
 * (an evicted child's next kill proves it again: a few system calls) than by
 * every fork paying for all of them. */
#define KT_MAX_FDS_MAX 1024L
/* The default fs.nr_open: no process holds more descriptors than this. */
#define KT_MAX_FDS_LIMIT (1L << 20)

/* The defaults: what every hook uses before the constructor has run. */
#define KT_CONFIG_DEFAULTS \
	{ .mode = KT_MODE_ENFORCE, .identity = KT_IDENTITY_INODE, .max_fds = KT_MAX_FDS_DEFAULT, \
	  .provoke_fd = -1 }

/* Set C to the defaults: no setting from anywhere, no warning. */
void kt_config_defaults(struct kt_config *c);

/* Apply the text of the configuration file PATH (LEN bytes at TEXT, with
 * room for one more, which must stay in memory as long as C is used: the log
 * path points into it, and lines are cut in place).  One "key = value" per line, keys as in
 * kt_setting_key; blank lines and lines starting with '#' are skipped, and
 * a '#' after a blank ends the value.  A bad line changes nothing and gets
 * one warning. */
void kt_config_file(struct kt_config *c, char *text, size_t len, const char *path);

/* Apply ENVP (a NULL-terminated "NAME=value" array; NULL means empty) over
 * what C holds: the environment wins over the file.  SECURE: the process
 * runs in secure-execution mode (AT_SECURE: set-user-ID and the like),
 * where a log file named by the environment is never opened. */
void kt_config_env(struct kt_config *c, char *const *envp, int secure);

/* kt_config_defaults, then kt_config_env. */
void kt_config_parse(struct kt_config *c, char *const *envp, int secure);

/* One warning about the settings, TEXT after "libkt: " (e.g. that the file
 * could not be trusted). */
void kt_config_warn(struct kt_config *c, const char *text);

/* The names of setting S: its environment variable and its key in the file
 * (NULL for one the file cannot set). */
const char *kt_setting_env(enum kt_setting s);
const char *kt_setting_key(enum kt_setting s);

/* The value in force for setting S, in words ("audit", "64", "no log"),
 * written into BUF (of CAP bytes) or returned as a constant. */
const char *kt_setting_value(const struct kt_config *c, enum kt_setting s, char *buf, size_t cap);

#endif
