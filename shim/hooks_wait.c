/* SPDX-License-Identifier: MIT */
/* The wait family: note every reap of a registered child.
 *
 * Each public entry point has its own hook because glibc's wait() calls its
 * internal waitpid, not the interposable one.  Hooks call the real function
 * (it is a cancellation point; a raw syscall would not be) and mark the
 * child reaped before returning, so a kill() issued after the wait returns is
 * always judged stale.  errno is the real call's: bookkeeping saves it.
 *
 * With reports on, each hook also records where the reap came from and the
 * child's name, read just before the reap: the wait is first asked with
 * WNOWAIT (story.c), which costs a second wait system call per reap, paid
 * only while KT_LOG is set. */
#include <errno.h>
#include <string.h>

#include "init.h"
#include "provoke.h"
#include "real.h"
#include "registry.h"
#include "story.h"
#include "sys.h"

/* Did this wait status report a death (a reap), not a stop or continue? */
static int status_is_reap(int status)
{
	return WIFEXITED(status) || WIFSIGNALED(status);
}

/* A reap by the hook at ORIGIN: for the table, the child's story (PEEK:
 * whom the wait was about to reap, and its name), and the provoker. */
static void reaped(pid_t r, uint64_t seq, enum kt_reaped_by how, const struct kt_origin *origin,
                   const struct kt_peek *peek)
{
	int saved = errno;
	kt_note_reaped(r, seq, how);
	if (kt_story_on())
		kt_story_reaped(r, origin, peek->pid == r ? peek->name : NULL);
	kt_provoke_reaped(r);
	KT_ERRNO_RESTORE(saved);
}

static void after_wait(pid_t r, const int *status, uint64_t seq, enum kt_reaped_by how,
                       const struct kt_origin *origin, const struct kt_peek *peek)
{
	if (r > 0 && status_is_reap(*status))
		reaped(r, seq, how, origin, peek);
}

/* With stories kept, a wait is first asked with WNOWAIT (story.c).  R is
 * that question's answer: 1 if it was interrupted, errno then EINTR, as the
 * wait itself would have been. */
static int interrupted(int r)
{
	if (r == 0)
		return 0;
	errno = EINTR;
	return 1;
}

/* The status word is needed to tell a reap from a stop report, so when the
 * caller passes NULL we pass our own: the kernel fills it, nobody sees it. */
#define STATUS_PTR(user, local) ((user) ? (user) : &(local))

KT_EXPORT pid_t wait(int *wstatus)
{
	if (kt_mode() == KT_MODE_OFF)
		return KT_REAL(wait)(wstatus);
	int local;
	int *sp = STATUS_PTR(wstatus, local);
	struct kt_origin origin = KT_ORIGIN;
	struct kt_peek peek = { 0 };
	if (kt_story_on() && interrupted(kt_story_peek_waitpid(-1, 0, &peek)))
		return -1;
	uint64_t seq = kt_table_last_seq();
	pid_t r = KT_REAL(wait)(sp);
	after_wait(r, sp, seq, KT_REAPED_WAIT, &origin, &peek);
	return r;
}

KT_EXPORT pid_t waitpid(pid_t pid, int *wstatus, int options)
{
	if (kt_mode() == KT_MODE_OFF)
		return KT_REAL(waitpid)(pid, wstatus, options);
	int local;
	int *sp = STATUS_PTR(wstatus, local);
	struct kt_origin origin = KT_ORIGIN;
	struct kt_peek peek = { 0 };
	if (kt_story_on() && interrupted(kt_story_peek_waitpid(pid, options, &peek)))
		return -1;
	uint64_t seq = kt_table_last_seq();
	pid_t r = KT_REAL(waitpid)(pid, sp, options);
	after_wait(r, sp, seq, KT_REAPED_WAITPID, &origin, &peek);
	return r;
}

KT_EXPORT pid_t wait3(int *wstatus, int options, struct rusage *ru)
{
	if (kt_mode() == KT_MODE_OFF)
		return KT_REAL(wait3)(wstatus, options, ru);
	int local;
	int *sp = STATUS_PTR(wstatus, local);
	struct kt_origin origin = KT_ORIGIN;
	struct kt_peek peek = { 0 };
	if (kt_story_on() && interrupted(kt_story_peek_waitpid(-1, options, &peek)))
		return -1;
	uint64_t seq = kt_table_last_seq();
	pid_t r = KT_REAL(wait3)(sp, options, ru);
	after_wait(r, sp, seq, KT_REAPED_WAIT3, &origin, &peek);
	return r;
}

KT_EXPORT pid_t wait4(pid_t pid, int *wstatus, int options, struct rusage *ru)
{
	if (kt_mode() == KT_MODE_OFF)
		return KT_REAL(wait4)(pid, wstatus, options, ru);
	int local;
	int *sp = STATUS_PTR(wstatus, local);
	struct kt_origin origin = KT_ORIGIN;
	struct kt_peek peek = { 0 };
	if (kt_story_on() && interrupted(kt_story_peek_waitpid(pid, options, &peek)))
		return -1;
	uint64_t seq = kt_table_last_seq();
	pid_t r = KT_REAL(wait4)(pid, sp, options, ru);
	after_wait(r, sp, seq, KT_REAPED_WAIT4, &origin, &peek);
	return r;
}

KT_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *infop, int options)
{
	if (kt_mode() == KT_MODE_OFF)
		return KT_REAL(waitid)(idtype, id, infop, options);
	/* The kernel accepts a NULL infop; we need si_pid, so lend it ours. */
	siginfo_t local;
	siginfo_t *ip = infop;
	if (!ip) {
		memset(&local, 0, sizeof local);
		ip = &local;
	}
	struct kt_origin origin = KT_ORIGIN;
	struct kt_peek peek = { 0 };
	if (kt_story_on() && interrupted(kt_story_peek(idtype, id, options, &peek)))
		return -1;
	uint64_t seq = kt_table_last_seq();
	int r = KT_REAL(waitid)(idtype, id, ip, options);
	/* WNOWAIT leaves the child waitable: not a reap.  With WNOHANG and
	 * nothing ready, si_pid is 0. */
	if (r == 0 && !(options & WNOWAIT) && ip->si_pid > 0 &&
	    (ip->si_code == CLD_EXITED || ip->si_code == CLD_KILLED ||
	     ip->si_code == CLD_DUMPED))
		reaped(ip->si_pid, seq, KT_REAPED_WAITID, &origin, &peek);
	return r;
}
