/* SPDX-License-Identifier: MIT */
/* A process group that outlives its leader: the fixture of the group-kill
 * cases (test/helpers/parity.c, and the kernel probes kernel_probe.c and
 * kernel_libkt.c).  Header-only, plain libc: under libkt the fixture's own
 * forks and waits go through the hooks like any program's.
 *
 * group_make() forks a leader (our child) that makes a group of its own
 * (setpgid) or a session (setsid) and forks a member (its child, not ours)
 * that stays in the group, or, for GROUP_SESSION_ONLY, moves to a group of
 * its own so the leader's number is left naming only a session.  The member
 * counts the signals SIG it receives; group_hits() asks it for the count.
 * The leader exits when told (group_end_leader) and is then a zombie for the
 * caller to reap, or, with SIGCHLD ignored, is reaped by the kernel.
 *
 * The count is exact: a signal sent by kill() is queued on the member before
 * kill() returns, and the member runs its handler before it can read the
 * request that follows, so group_hits() counts every signal sent before it.
 * With a real-time SIG, two sends are two deliveries, so "exactly once" can
 * be told from "twice".
 *
 * One group at a time: a leader and a member inherit every descriptor their
 * parent has, a second group's pipes included, and a pipe whose write end
 * another group's process holds never tells its reader to exit. */
#ifndef KT_TEST_ORPHAN_GROUP_H
#define KT_TEST_ORPHAN_GROUP_H

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum group_kind {
	GROUP_PGRP,         /* the leader calls setpgid(0, 0) */
	GROUP_SESSION,      /* the leader calls setsid() */
	GROUP_SESSION_ONLY, /* setsid(), and the member leaves for a group of its own */
};

struct group {
	pid_t leader, member;
	int to_leader;   /* closed: the leader exits */
	int to_member;   /* 'c': the member answers its count; closed: it exits */
	int from_member;
};

/* Seconds the leader and the member may live: a broken library under test
 * must fail the test, not leave processes behind. */
#define GROUP_ALARM 60

static volatile sig_atomic_t group_member_hits;

static void group_member_count(int sig)
{
	(void)sig;
	group_member_hits++;
}

static void group_member_loop(int in, int out, int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = group_member_count;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	char c;
	for (;;) {
		ssize_t n = read(in, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			_exit(0);
		unsigned char hits = (unsigned char)group_member_hits;
		if (write(out, &hits, 1) != 1)
			_exit(0);
	}
}

static inline void group_close_pair(int p[2])
{
	close(p[0]);
	close(p[1]);
}

/* Makes the group; 0, or -1 with errno. */
static inline int group_make(struct group *g, enum group_kind kind, int sig)
{
	int lead[2], req[2], ans[2], born[2];
	if (pipe(lead) < 0 || pipe(req) < 0 || pipe(ans) < 0 || pipe(born) < 0)
		return -1;
	pid_t leader = fork();
	if (leader < 0)
		return -1;
	if (leader == 0) {
		alarm(GROUP_ALARM);
		close(lead[1]);
		close(born[0]);
		if ((kind == GROUP_PGRP ? setpgid(0, 0) : setsid()) < 0)
			_exit(2);
		pid_t m = fork();
		if (m == 0) {
			close(lead[0]);
			close(born[1]);
			close(req[1]);
			close(ans[0]);
			if (kind == GROUP_SESSION_ONLY && setpgid(0, 0) < 0)
				_exit(2);
			group_member_loop(req[0], ans[1], sig);
		}
		group_close_pair(req);
		group_close_pair(ans);
		/* The member is ready once it answers; only then is the group
		 * (or session) what the caller asked for. */
		if (m < 0 || write(born[1], &m, sizeof m) != sizeof m)
			_exit(3);
		char c;
		while (read(lead[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(lead[0]);
	close(born[1]);
	close(req[0]);
	close(ans[1]);
	g->leader = leader;
	g->to_leader = lead[1];
	g->to_member = req[1];
	g->from_member = ans[0];
	ssize_t n;
	while ((n = read(born[0], &g->member, sizeof g->member)) < 0 && errno == EINTR)
		;
	close(born[0]);
	if (n != sizeof g->member)
		return -1;
	/* One round trip: the member has its handler, and has moved groups. */
	char c = 'c';
	unsigned char hits;
	if (write(g->to_member, &c, 1) != 1 || read(g->from_member, &hits, 1) != 1)
		return -1;
	return 0;
}

/* The signals SIG the member received so far, or -1 if it did not answer. */
static inline int group_hits(struct group *g)
{
	char c = 'c';
	unsigned char hits;
	if (write(g->to_member, &c, 1) != 1)
		return -1;
	ssize_t n;
	while ((n = read(g->from_member, &hits, 1)) < 0 && errno == EINTR)
		;
	return n == 1 ? hits : -1;
}

/* Tells the leader to exit and waits until it is a zombie (not reaped), or,
 * with SIGCHLD ignored, until the kernel has reaped it and its number names
 * no process any more (asked by system call: a hook would judge it). */
static inline void group_end_leader(struct group *g)
{
	close(g->to_leader);
	g->to_leader = -1;
	siginfo_t si;
	while (waitid(P_PID, (id_t)g->leader, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	struct timespec ms = { 0, 1000000 };
	for (int i = 0; i < 5000 && syscall(SYS_kill, g->leader, 0) == 0; i++) {
		struct sigaction cur;
		if (sigaction(SIGCHLD, NULL, &cur) == 0 && cur.sa_handler != SIG_IGN)
			break; /* a zombie, as asked */
		nanosleep(&ms, NULL);
	}
}

/* Ends the member (and the leader if it still runs); the caller reaps the
 * leader itself if it is still its child. */
static inline void group_free(struct group *g)
{
	if (g->to_leader >= 0)
		close(g->to_leader);
	close(g->to_member);
	close(g->from_member);
	g->to_leader = g->to_member = g->from_member = -1;
}

/* What a group kill after the leader's reap did. */
struct group_kill {
	int ret, err; /* the call's return value and errno */
	int hits;     /* signals the member received (-1: it did not answer) */
};

/* The kill of a living group whose leader is gone (GROUP_SESSION, as
 * Python's start_new_session makes): the leader exits and is reaped by
 * waitpid, or with UNSEEN by the kernel (SIGCHLD ignored meanwhile); then
 * killpg(leader, SIG), or with !BY_KILLPG kill(-leader, SIG).  Before the
 * leader exits: with TAKEN, kill(leader, 0) (where libkt takes a child's
 * identity), then, if FILLER > 0, kill(FILLER, 0) (with KT_MAX_FDS=1 that
 * child takes the one kept pidfd, and the leader's is given up).  errno is
 * ERRNO_BEFORE when the kill starts.  0 with *OUT filled, or -1 when the
 * group could not be made. */
static inline int group_kill_after_reap(int unseen, int taken, pid_t filler, int by_killpg,
                                        int sig, int errno_before, struct group_kill *out)
{
	struct group g;
	if (group_make(&g, GROUP_SESSION, sig) < 0)
		return -1;
	if (taken)
		kill(g.leader, 0);
	if (filler > 0)
		kill(filler, 0);
	struct sigaction ign, old;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (unseen)
		sigaction(SIGCHLD, &ign, &old);
	group_end_leader(&g);
	if (unseen)
		sigaction(SIGCHLD, &old, NULL);
	else
		while (waitpid(g.leader, NULL, 0) < 0 && errno == EINTR)
			;
	errno = errno_before;
	out->ret = by_killpg ? killpg(g.leader, sig) : kill(-g.leader, sig);
	out->err = errno;
	out->hits = group_hits(&g);
	group_free(&g);
	return 0;
}

#endif
