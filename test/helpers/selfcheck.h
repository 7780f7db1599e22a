/* SPDX-License-Identifier: MIT */
/* Plumbing shared by the helper programs: the ones that check themselves
 * (vforker, rawsyscall, signaller), and the others that read lines from a
 * supervisor or report libkt's view of a child.
 * Plain C without a test framework, so these helpers also cross-build for
 * aarch64 and run under qemu-user.  Built once as an object and linked into
 * every helper program. */
#ifndef KT_HELPER_SELFCHECK_H
#define KT_HELPER_SELFCHECK_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* Cases that failed so far: say() counts them, main() exits 1 if any did. */
extern int failures;

/* Prints "ok NAME DETAIL" or "FAIL NAME: DETAIL" and flushes stdout (the
 * suite reads it even when the helper is killed later); counts a failure. */
void say(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints "skip NAME: WHY": what this platform cannot show. */
void skip(const char *name, const char *why);

/* One '\n'-terminated line from FD into BUF (without the '\n', NUL-
 * terminated, cut to SIZE-1 bytes; the rest of a longer line is read and
 * dropped), one byte at a time so nothing past the line is consumed; reads
 * through EINTR.  Async-signal-safe.  Its length, or -1 at EOF or an error
 * before a whole line. */
int read_line(int fd, char *buf, size_t size);

/* The pidfs inode of process PID (PID:INODE names the process for good), or
 * 0 where no pidfd can be taken or pidfds have no inode of their own (before
 * Linux 6.9). */
unsigned long long pidfs_inode(pid_t pid);

/* waitpid(PID) through EINTR: the wait status, or -1. */
int reap(pid_t pid);

/* A child that pauses until it is killed (or for at most a minute: a broken
 * library under test must not leave it behind); exits 2 if fork fails. */
pid_t pausing_child(void);

/* SIGKILL to PID, then reap it. */
void end_child(pid_t pid);

/* Prints "QUESTION | ANSWER", the question padded to a column: the lines of
 * kernel_probe and kernel_libkt, which docs/platforms.md tabulates. */
void answer(const char *question, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A child that counts a real-time signal (they queue: a double delivery
 * shows): it blocks SELFCHECK_COUNTED, and on counter_end writes how many it
 * got and exits.  LEADER: it makes a process group of its own first.  The
 * caller's SELFCHECK_COUNTED is blocked too (counter_start does it), so a
 * signal that misses the child stays queued here rather than killing us. */
#define SELFCHECK_COUNTED (SIGRTMIN + 2)
struct counter {
	pid_t pid;
	int cmd, res;
};
struct counter counter_start(int leader);
/* Ends the counter (reaps it): its count, or -1. */
int counter_end(struct counter *c);
/* Blocks SELFCHECK_COUNTED in this thread; how many are queued here. */
void counted_block(void);
int counted_drain(void);

/* Sleeps MS milliseconds, through EINTR. */
void sleep_ms(long ms);

struct selfcheck_case {
	const char *name;
	void (*run)(void);
};

/* Runs, in table order, the N CASES named in ARGV[1..ARGC-1], or all of them
 * when none is named.  Returns how many ran. */
int run_cases(int argc, char **argv, const struct selfcheck_case *cases, size_t n);

/* libkt's kt_pid_state(PID) as a word ("untracked", "live", "reaped", "?"),
 * or ABSENT when libkt is not loaded: looked up with dlsym at run time, so
 * the same binary runs with and without libkt. */
const char *kt_state_word(pid_t pid, const char *absent);

#endif
