/* SPDX-License-Identifier: MIT */
/*
 * kernel_libkt — what libkt does on this kernel, measured from a program
 * under it: run with LD_PRELOAD=build/libkt.so (scripts/check-kernels runs
 * it on every kernel of the matrix; docs/platforms.md tabulates it).  It
 * says "libkt not loaded" and stops without libkt.
 *
 * One line per question, "QUESTION | ANSWER", as kernel_probe prints them:
 *   - the identity mode KT_IDENTITY's default (auto) settles on;
 *   - a group kill (killpg) of a live group: its result, and whether it went
 *     through a pidfd (libkt's kills_via_pidfd counter) or by number;
 *   - a group kill after the leader's reap, the member alive: reaped by
 *     waitpid or by the kernel (SIGCHLD ignored), the leader's identity
 *     taken before (a kill(leader, 0) while it lived) or not; the result and
 *     how many times the member was signalled (plain libc: 0 and once);
 *   - a stale kill of a reaped child: refused or not;
 *   - the descriptors libkt holds for signalled children made by fork and by
 *     clone, and after they are reaped: how many, and from which number up;
 *     and those it still holds once every group above is gone.
 * Signals with effect go only to this program's own processes.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kt.h"
#include "../older_glibc.h"
#include "../orphan_group.h"
#include "selfcheck.h"

static int (*counters)(struct kt_counters *, size_t);

static struct kt_counters now(void)
{
	struct kt_counters c;
	memset(&c, 0, sizeof c);
	counters(&c, sizeof c);
	return c;
}

static const char *result(int ret, int err)
{
	static char buf[32];
	if (ret == 0)
		return "0";
	snprintf(buf, sizeof buf, "%d %s", ret, strerrorname_np(err) ? strerrorname_np(err) : "?");
	return buf;
}

static void identity_mode(void)
{
	pid_t c = pausing_child();
	kill(c, 0);
	end_child(c);
	static const char *const names[] = { "none", "inode", "fd" };
	unsigned m = now().identity_mode;
	answer("identity mode (KT_IDENTITY unset: auto)", "%s", m < 3 ? names[m] : "?");
}

static void group_kills(void)
{
	int sig = SIGRTMIN + 1;
	struct group g;
	if (group_make(&g, GROUP_SESSION, sig) == 0) {
		uint64_t before = now().kills_via_pidfd;
		errno = 0;
		int r = killpg(g.leader, sig);
		int e = errno;
		uint64_t via = now().kills_via_pidfd - before;
		answer("killpg of a live group", "%s, member signalled %d time(s), %s", result(r, e),
		    group_hits(&g), via ? "through the leader's pidfd" : "by number");
		group_end_leader(&g);
		reap(g.leader);
		group_free(&g);
	}
	static const char *const reaps[] = { "waitpid", "the kernel (SIGCHLD ignored)" };
	for (int unseen = 0; unseen < 2; unseen++)
		for (int taken = 0; taken < 2; taken++) {
			struct group_kill k;
			char q[128];
			snprintf(q, sizeof q, "killpg after the leader's reap by %s%s", reaps[unseen],
			         taken ? ", identity taken" : "");
			if (group_kill_after_reap(unseen, taken, 0, 1, sig, 0, &k) < 0)
				answer(q, "no group: %s", strerrorname_np(errno));
			else
				answer(q, "%s, member signalled %d time(s)", result(k.ret, k.err), k.hits);
		}
}

static void stale_kill(void)
{
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	reap(c);
	uint64_t before = now().stale_refused;
	errno = 0;
	int r = kill(c, 0);
	int e = errno;
	answer("kill(reaped child, 0)", "%s%s", result(r, e),
	    now().stale_refused > before ? ", refused by libkt" : "");
}

/* The open descriptors below FD_LIMIT, as a set. */
#define FD_LIMIT 4096
struct fds {
	unsigned char open[FD_LIMIT];
};

static void open_fds(struct fds *f)
{
	memset(f, 0, sizeof *f);
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd != dirfd(d) && fd >= 0 && fd < FD_LIMIT)
			f->open[fd] = 1;
	}
	closedir(d);
}

/* How many descriptors AFTER has that BEFORE had not; *LOWEST the lowest. */
static int new_fds(const struct fds *before, const struct fds *after, int *lowest)
{
	int n = 0;
	*lowest = -1;
	for (int fd = 0; fd < FD_LIMIT; fd++)
		if (after->open[fd] && !before->open[fd]) {
			if (n++ == 0)
				*lowest = fd;
		}
	return n;
}

static int clone_child_fn(void *arg)
{
	(void)arg;
	alarm(GROUP_ALARM);
	for (;;)
		pause();
	return 0;
}

static char clone_stacks[3][64 * 1024];

static void fd_use(void)
{
	static const char *const how[] = { "fork", "clone" };
	static struct fds before, held, after;
	for (int k = 0; k < 2; k++) {
		open_fds(&before);
		pid_t c[3];
		for (int i = 0; i < 3; i++)
			c[i] = k == 0 ? pausing_child()
			              : clone(clone_child_fn, clone_stacks[i] + sizeof clone_stacks[i],
			                      SIGCHLD, NULL);
		for (int i = 0; i < 3; i++)
			kill(c[i], 0);
		open_fds(&held);
		for (int i = 0; i < 3; i++)
			end_child(c[i]);
		open_fds(&after);
		int low, left;
		int n = new_fds(&before, &held, &low);
		int unused;
		left = new_fds(&before, &after, &unused);
		char q[96];
		snprintf(q, sizeof q, "descriptors held for 3 signalled %s children", how[k]);
		if (n > 0)
			answer(q, "%d, from %d up; %d after their reap", n, low, left);
		else
			answer(q, "0; %d after their reap", left);
	}
}

int main(void)
{
	counters = (int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	if (!counters) {
		answer("libkt", "not loaded");
		return 0;
	}
	identity_mode();
	fd_use();
	stale_kill();
	/* Every group is gone by the end, its leader reaped: libkt should hold
	 * nothing for them. */
	static struct fds before, after;
	open_fds(&before);
	group_kills();
	open_fds(&after);
	int low;
	int left = new_fds(&before, &after, &low);
	if (left > 0)
		answer("descriptors left held after the group kills", "%d, from %d up", left, low);
	else
		answer("descriptors left held after the group kills", "0");
	return 0;
}
