/* SPDX-License-Identifier: MIT */
/*
 * kernel_probe — what this kernel answers to the calls libkt builds on, asked
 * directly by system call (no libkt needed; run it without LD_PRELOAD).
 * scripts/check-kernels runs it on every kernel of the matrix, and
 * docs/platforms.md tabulates the answers.
 *
 * One line per question, "QUESTION | ANSWER": an answer is "fd" or "0" for
 * success, else the errno's name; a few add what was observed.  The
 * questions:
 *   pidfd_open(N, 0) of a live process, a zombie, a reaped number nobody
 *     holds, a number that is only a process group's (its leader reaped, a
 *     member alive), only a session's, a thread that is not the leader (and
 *     the same with PIDFD_THREAD);
 *   waitid(P_PIDFD, WEXITED|WNOHANG|WNOWAIT|__WALL) of our live child, our
 *     zombie, a process that is not our child, our reaped child;
 *   pidfd_send_signal(fd, sig, NULL, PIDFD_SIGNAL_PROCESS_GROUP) of a live
 *     group leader, a live child that leads no group, a zombie leader whose
 *     group lives, a leader's pidfd taken while it lived and used after its
 *     reap while the group lives (does the member get the signal?), and after
 *     the whole group is gone; plain pidfd_send_signal of a reaped process;
 *   kill(N, 0) and kill(-N, 0) of a number only a group holds;
 *   pidfs (fstatfs of a pidfd), and whether pidfd inode numbers follow
 *     creation order, also for a process put on a reused number (in a PID
 *     namespace: root, or an unprivileged user namespace);
 *   PIDFD_GET_INFO, CLONE_PIDFD, MADV_WIPEONFORK, close_range and
 *     CLOSE_RANGE_CLOEXEC.
 * Signals that are sent with effect go only to this program's own processes
 * (signal 0 everywhere else).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../older_glibc.h"
#include "../orphan_group.h"
#include "../stranger.h"
#include "selfcheck.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#define KP_P_PIDFD 3                          /* waitid's idtype (5.4) */
#define KP_PIDFD_THREAD 00000200              /* O_EXCL (6.9) */
#define KP_PIDFD_SIGNAL_PROCESS_GROUP 4u      /* 6.9 */
#define KP_CLOSE_RANGE_CLOEXEC 4u             /* 5.11 */
#define KP_PIDFS_MAGIC 0x50494446u            /* 6.9 */
#define KP_ANON_INODE_FS_MAGIC 0x09041934u

/* The first version of struct pidfd_info (6.13): 64 bytes. */
struct kp_pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid, spare0;
};
#define KP_PIDFD_GET_INFO _IOWR(0xFF, 11, struct kp_pidfd_info)
#define KP_PIDFD_INFO_PID 1ull

static const char *err_name(int e)
{
	static char buf[16];
	const char *n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

/* "fd" (closing it) or the errno of a call returning an fd. */
static const char *fd_answer(long fd)
{
	if (fd >= 0) {
		close((int)fd);
		return "fd";
	}
	return err_name(errno);
}

static const char *ret_answer(long r)
{
	return r == 0 ? "0" : r > 0 ? "positive" : err_name(errno);
}

static int pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send(int fd, int sig, unsigned flags)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, flags);
}

static void wait_zombie(pid_t p)
{
	siginfo_t si;
	while (waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
}

/* Waits (bounded) until no process holds number N. */
static void wait_number_free(pid_t n)
{
	for (int i = 0; i < 5000 && kill(n, 0) == 0; i++)
		usleep(1000);
}

/* ---- pidfd_open ------------------------------------------------------------- */

static void *thread_pause(void *arg)
{
	*(volatile pid_t *)arg = gettid();
	for (;;)
		pause();
	return NULL;
}

/* A group whose leader is reaped while its member lives: the leader's number
 * names only the group (or, GROUP_SESSION_ONLY, only the session).  The
 * caller frees G. */
static int orphaned(struct group *g, enum group_kind kind)
{
	if (group_make(g, kind, SIGUSR1) < 0)
		return -1;
	group_end_leader(g);
	reap(g->leader);
	return 0;
}

static void probe_pidfd_open(void)
{
	const char *q = "pidfd_open: ";
	char name[96];
	pid_t c = pausing_child();
	snprintf(name, sizeof name, "%slive process", q);
	answer(name, "%s", fd_answer(pidfd_open(c, 0)));
	kill(c, SIGKILL);
	wait_zombie(c);
	snprintf(name, sizeof name, "%szombie", q);
	answer(name, "%s", fd_answer(pidfd_open(c, 0)));
	reap(c);
	wait_number_free(c);
	snprintf(name, sizeof name, "%sreaped, number free", q);
	answer(name, "%s", fd_answer(pidfd_open(c, 0)));

	struct group g;
	snprintf(name, sizeof name, "%sonly a group's number (leader reaped)", q);
	if (orphaned(&g, GROUP_PGRP) == 0) {
		answer(name, "%s (kill(N, 0) %s, kill(-N, 0) %s)", fd_answer(pidfd_open(g.leader, 0)),
		    ret_answer(kill(g.leader, 0)), ret_answer(kill(-g.leader, 0)));
		group_free(&g);
	} else {
		answer(name, "no group: %s", err_name(errno));
	}
	snprintf(name, sizeof name, "%sonly a session's number (leader reaped)", q);
	if (orphaned(&g, GROUP_SESSION_ONLY) == 0) {
		answer(name, "%s (kill(-N, 0) %s)", fd_answer(pidfd_open(g.leader, 0)),
		    ret_answer(kill(-g.leader, 0)));
		group_free(&g);
	} else {
		answer(name, "no session: %s", err_name(errno));
	}

	volatile pid_t tid = 0;
	pthread_t t;
	if (pthread_create(&t, NULL, thread_pause, (void *)&tid) == 0) {
		while (tid == 0)
			sched_yield();
		snprintf(name, sizeof name, "%sa thread, not the leader", q);
		answer(name, "%s", fd_answer(pidfd_open(tid, 0)));
		answer("pidfd_open(PIDFD_THREAD): a thread, not the leader", "%s",
		    fd_answer(pidfd_open(tid, KP_PIDFD_THREAD)));
		pthread_cancel(t);
		pthread_join(t, NULL);
	}
}

/* ---- waitid(P_PIDFD) ---------------------------------------------------------- */

static const char *waitid_answer(int fd, pid_t child)
{
	static char buf[64];
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long r = syscall(SYS_waitid, KP_P_PIDFD, fd, &si, WEXITED | WNOHANG | WNOWAIT | __WALL,
	                 NULL);
	if (r < 0)
		return err_name(errno);
	snprintf(buf, sizeof buf, "0, %s", si.si_pid == 0 ? "nothing to report"
	                                   : si.si_pid == child ? "the child exited" : "another pid");
	return buf;
}

static void probe_waitid(void)
{
	const char *q = "waitid(P_PIDFD): ";
	char name[96];
	pid_t c = pausing_child();
	int fd = pidfd_open(c, 0);
	snprintf(name, sizeof name, "%sour live child", q);
	answer(name, "%s", waitid_answer(fd, c));
	kill(c, SIGKILL);
	wait_zombie(c);
	snprintf(name, sizeof name, "%sour zombie", q);
	answer(name, "%s", waitid_answer(fd, c));
	reap(c);
	snprintf(name, sizeof name, "%sour reaped child", q);
	answer(name, "%s", waitid_answer(fd, c));
	close(fd);

	/* A grandchild: alive, and not ours to wait for. */
	struct group g;
	snprintf(name, sizeof name, "%snot our child", q);
	if (group_make(&g, GROUP_PGRP, SIGUSR1) == 0) {
		fd = pidfd_open(g.member, 0);
		answer(name, "%s", waitid_answer(fd, g.member));
		close(fd);
		group_end_leader(&g);
		reap(g.leader);
		group_free(&g);
	}
}

/* ---- pidfd_send_signal ---------------------------------------------------------- */

static void probe_group_signal(void)
{
	const char *q = "group signal: ";
	char name[128];
	struct group g;
	int hit = SIGRTMIN + 1;

	/* As a subreaper we inherit the member when its leader dies, and so
	 * can tell when it is gone and nothing is left of the group. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (group_make(&g, GROUP_SESSION, hit) < 0) {
		answer(q, "no group: %s", err_name(errno));
		return;
	}
	int fd = pidfd_open(g.leader, 0);
	snprintf(name, sizeof name, "%slive group leader", q);
	answer(name, "%s", ret_answer(pidfd_send(fd, 0, KP_PIDFD_SIGNAL_PROCESS_GROUP)));
	group_end_leader(&g);
	snprintf(name, sizeof name, "%szombie leader, group alive", q);
	answer(name, "%s", ret_answer(pidfd_send(fd, 0, KP_PIDFD_SIGNAL_PROCESS_GROUP)));
	reap(g.leader);
	/* The leader's pidfd still names its struct pid, which the group's
	 * member keeps in use as its process group. */
	snprintf(name, sizeof name, "%sthe leader's pidfd after its reap, group alive", q);
	errno = 0;
	long r = pidfd_send(fd, hit, KP_PIDFD_SIGNAL_PROCESS_GROUP);
	int e = errno;
	int hits = group_hits(&g);
	errno = e;
	answer(name, "%s, member signalled %d time(s)", ret_answer(r), hits);
	answer("pidfd_send_signal: the reaped leader's pidfd", "%s", ret_answer(pidfd_send(fd, 0, 0)));

	pid_t member = g.member;
	group_free(&g);
	reap(member);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	snprintf(name, sizeof name, "%sthe same pidfd, whole group gone", q);
	answer(name, "%s", ret_answer(pidfd_send(fd, 0, KP_PIDFD_SIGNAL_PROCESS_GROUP)));
	close(fd);

	pid_t c = pausing_child();
	fd = pidfd_open(c, 0);
	snprintf(name, sizeof name, "%slive child leading no group", q);
	answer(name, "%s", ret_answer(pidfd_send(fd, 0, KP_PIDFD_SIGNAL_PROCESS_GROUP)));
	end_child(c);
	answer("pidfd_send_signal: a reaped process", "%s", ret_answer(pidfd_send(fd, 0, 0)));
	close(fd);
}

/* ---- pidfs ------------------------------------------------------------------- */

static int64_t pidfd_ino(pid_t pid)
{
	int fd = pidfd_open(pid, 0);
	struct stat st;
	int64_t ino = fd >= 0 && fstat(fd, &st) == 0 ? (int64_t)st.st_ino : -1;
	if (fd >= 0)
		close(fd);
	return ino;
}

/* In a PID namespace (as its PID 1): the inode of a process on number 2,
 * then of another put on the same number after the first was reaped.
 * Exit code 0: the second is newer; 1: older; 2: the same; 3: failed. */
static int reused_number_body(void *arg)
{
	(void)arg;
	pid_t a = pausing_child();
	int64_t ia = pidfd_ino(a);
	end_child(a);
	struct stranger s;
	if (ia < 0 || stranger_start(&s, -1) < 0 || stranger_place(&s, a) < 0)
		return 3;
	int64_t ib = pidfd_ino(a);
	char fate[64];
	stranger_fate(&s, fate, sizeof fate);
	if (ib < 0)
		return 3;
	return ib > ia ? 0 : ib < ia ? 1 : 2;
}

static void probe_pidfs(void)
{
	int fd = pidfd_open(getpid(), 0);
	struct statfs sfs;
	if (fd < 0 || fstatfs(fd, &sfs) < 0) {
		answer("pidfd file system (fstatfs)", "%s", err_name(errno));
		return;
	}
	close(fd);
	unsigned magic = (unsigned)sfs.f_type;
	answer("pidfd file system (fstatfs)", "%s (0x%x)",
	    magic == KP_PIDFS_MAGIC ? "pidfs" : magic == KP_ANON_INODE_FS_MAGIC ? "anon_inode" : "other",
	    magic);

	/* Four children in order; their pidfds opened in the reverse order, so
	 * an inode that followed the opening would show. */
	pid_t c[4];
	int64_t ino[4];
	for (int i = 0; i < 4; i++)
		c[i] = pausing_child();
	for (int i = 3; i >= 0; i--)
		ino[i] = pidfd_ino(c[i]);
	for (int i = 0; i < 4; i++)
		end_child(c[i]);
	int same = 1, ascending = 1;
	for (int i = 1; i < 4; i++) {
		same &= ino[i] == ino[0];
		ascending &= ino[i] > ino[i - 1];
	}
	answer("pidfd inode numbers of four processes", "%s",
	    same ? "one inode shared by every pidfd"
	         : ascending ? "distinct, growing in creation order"
	                     : "distinct, not in creation order");
	int code = stranger_in_pidns(reused_number_body, NULL);
	static const char *const said[] = { "newer than the old holder's", "older than the old holder's",
		                            "the same as the old holder's", "could not be made" };
	if (code == STRANGER_NO_PIDNS)
		answer("pidfd inode of a process on a reused number", "not asked: no PID namespace here");
	else
		answer("pidfd inode of a process on a reused number", "%s",
		    code >= 0 && code <= 3 ? said[code] : "could not be made");
}

/* ---- features ------------------------------------------------------------------ */

static void probe_features(void)
{
	int fd = pidfd_open(getpid(), 0);
	struct kp_pidfd_info info;
	memset(&info, 0, sizeof info);
	info.mask = KP_PIDFD_INFO_PID;
	long r = fd >= 0 ? ioctl(fd, KP_PIDFD_GET_INFO, &info) : -1;
	if (r == 0)
		answer("ioctl(PIDFD_GET_INFO)", "0, pid %s", info.pid == (uint32_t)getpid() ? "right" : "wrong");
	else
		answer("ioctl(PIDFD_GET_INFO)", "%s", err_name(errno));
	if (fd >= 0)
		close(fd);

	int pidfd = -1;
	long c = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, NULL);
	if (c == 0)
		_exit(0);
	if (c > 0) {
		reap((pid_t)c);
		answer("clone(CLONE_PIDFD)", "%s", pidfd >= 0 ? "pidfd" : "no pidfd");
		if (pidfd >= 0)
			close(pidfd);
	} else {
		answer("clone(CLONE_PIDFD)", "%s", err_name(errno));
	}

	long page = sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED) {
		answer("madvise(MADV_WIPEONFORK)", "%s", ret_answer(madvise(m, (size_t)page, MADV_WIPEONFORK)));
		munmap(m, (size_t)page);
	}
	/* A range with nothing open in it. */
	answer("close_range(4000, 4010, 0)", "%s", ret_answer(syscall(SYS_close_range, 4000, 4010, 0)));
	answer("close_range(4000, 4010, CLOSE_RANGE_CLOEXEC)", "%s",
	    ret_answer(syscall(SYS_close_range, 4000, 4010, KP_CLOSE_RANGE_CLOEXEC)));
}

int main(void)
{
	struct utsname u;
	uname(&u);
	answer("kernel", "%s %s", u.release, u.machine);
	printf("# group signal: pidfd_send_signal(pidfd, 0, NULL, PIDFD_SIGNAL_PROCESS_GROUP);\n"
	       "# waitid(P_PIDFD): with WEXITED|WNOHANG|WNOWAIT|__WALL\n");
	probe_pidfd_open();
	probe_waitid();
	probe_group_signal();
	probe_pidfs();
	probe_features();
	return 0;
}
