/* SPDX-License-Identifier: MIT */
/* heldrace: the kept pidfds under concurrency (test/preload_held.c).  Each
 * case sets up one interleaving of a kill that keeps or uses a pidfd with
 * another thread, a vfork child, a fork or an fd guard, ordered by pipes, the
 * rest of the window held open from outside where it must be (strace's
 * syscall delay injection, the suite says which), and prints one line:
 *
 *     case=NAME ... (what the program saw: return values, errno, who got
 *                    the signals)
 *
 * The same binary runs without libkt, where the program sees plain libc.
 *
 *     heldrace CASE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../stranger.h"
#include "selfcheck.h"

#define FLOOR 256

static const char *err_name(int ret, int err)
{
	return ret < 0 ? strerrorname_np(err) : "0";
}

/* ---- a vfork child signals a child whose kept pidfd changed since it was
 * born (another thread kept a new one) ---------------------------------- */

struct vfork_job {
	pid_t target;
	int ready, go;
	int status;
};

static void *vforker(void *arg)
{
	struct vfork_job *j = arg;
	pid_t v = vfork();
	if (v == 0) {
		(void)!write(j->ready, "r", 1);
		char x;
		while (read(j->go, &x, 1) < 0 && errno == EINTR)
			;
		int r = kill(j->target, SELFCHECK_COUNTED);
		_exit(r == 0 ? 0 : errno);
	}
	j->status = reap(v);
	return NULL;
}

/* X's pidfd is kept; a vfork child V is born; another thread's first kill
 * of Y then keeps Y's (evicting X's when KT_MAX_FDS=1, at the same number);
 * V's kill of Y must reach Y, as plain kill() does. */
static int case_vfork_after_keep(const char *name)
{
	struct counter x = counter_start(0), y = counter_start(0);
	kill(x.pid, 0); /* X's pidfd kept */
	int ready[2], go[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		return 2;
	struct vfork_job j = { y.pid, ready[1], go[0], -1 };
	pthread_t t;
	pthread_create(&t, NULL, vforker, &j);
	char c;
	(void)!read(ready[0], &c, 1); /* V is running, its fd table copied */
	kill(y.pid, 0);               /* Y's pidfd kept now */
	(void)!write(go[1], "g", 1);
	pthread_join(t, NULL);
	int vr = WIFEXITED(j.status) ? WEXITSTATUS(j.status) : 128;
	printf("case=%s ret=%s x_got=%d y_got=%d\n", name, vr ? strerrorname_np(vr) : "0",
	       counter_end(&x), counter_end(&y));
	return 0;
}

/* ---- a guard and an adoption ----------------------------------------------- */

struct kill_job {
	pid_t target;
	int sig;
	int ret, err;
};

static void *killer(void *arg)
{
	struct kill_job *k = arg;
	k->ret = kill(k->target, k->sig);
	k->err = errno;
	return NULL;
}

/* X's first kill runs in a thread, held between placing its pidfd at 256
 * and claiming it (strace delays fcntl's return); meanwhile the program
 * dup2s its own pidfd of a decoy D onto 256.  Later kills of X must reach X,
 * never D, and 256 is the program's to close. */
static int case_guard_during_adoption(void)
{
	struct counter x = counter_start(0), d = counter_start(0);
	int dfd = (int)syscall(SYS_pidfd_open, d.pid, 0);
	if (dfd < 0)
		return 2;
	struct kill_job k = { x.pid, 0, 0, 0 };
	pthread_t t;
	pthread_create(&t, NULL, killer, &k);
	sleep_ms(200); /* the thread is inside fcntl(F_DUPFD_CLOEXEC) */
	int r = dup2(dfd, FLOOR);
	int derr = errno;
	pthread_join(t, NULL);
	int kr = kill(x.pid, SELFCHECK_COUNTED);
	int cr = close(FLOOR);
	int cerr = errno;
	printf("case=guard_during_adoption dup2=%s kill=%s close=%s x_got=%d decoy_got=%d\n",
	       r == FLOOR ? "256" : strerrorname_np(derr), err_name(kr, errno),
	       err_name(cr, cerr), counter_end(&x), counter_end(&d));
	return 0;
}

/* ---- a guard and a close ------------------------------------------------------ */

struct reap_job {
	pid_t pid;
};

static void *reaper(void *arg)
{
	reap(((struct reap_job *)arg)->pid);
	return NULL;
}

/* X's pidfd is kept at 256; X exits and a thread reaps it, which closes the
 * kept fd (held open inside close() by strace); meanwhile the program dup2s
 * /dev/null onto 256.  Whatever dup2 answers, it must not have installed
 * the program's file at 256 only for libkt's close to take it away. */
static int case_dup2_during_close(void)
{
	struct counter x = counter_start(0);
	kill(x.pid, 0); /* kept at 256 */
	int y = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct stat want;
	fstat(y, &want);
	(void)!write(x.cmd, "x", 1);
	struct reap_job rj = { x.pid };
	sleep_ms(100); /* X has exited */
	pthread_t t;
	pthread_create(&t, NULL, reaper, &rj);
	sleep_ms(200); /* the reaper is inside close(256) */
	int r = dup2(y, FLOOR);
	int derr = errno;
	pthread_join(t, NULL);
	struct stat got;
	int open_after = fstat(FLOOR, &got) == 0 && got.st_ino == want.st_ino &&
	                 got.st_dev == want.st_dev;
	printf("case=dup2_during_close dup2=%s ours_at_256=%d\n",
	       r == FLOOR ? "256" : strerrorname_np(derr), open_after);
	return 0;
}

/* ---- a fork while another thread is inside a kill or a guard ----------------- */

/* Pidfds in [256, 320) in this process's fd table. */
static int pidfds_in_region(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		int fd = atoi(e->d_name);
		char path[64], link[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		ssize_t len = readlink(path, link, sizeof link - 1);
		if (fd >= FLOOR && fd < FLOOR + 64 && len > 0) {
			link[len] = '\0';
			n += strstr(link, "pidfd") != NULL;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* In the forked child: dup2 onto the inherited kept number, then keep a
 * pidfd of its own child Z, signalled five times. */
static void child_after_fork(int out)
{
	int y = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int r = dup2(y, FLOOR);
	int derr = errno;
	struct counter z = counter_start(0);
	for (int i = 0; i < 5; i++)
		kill(z.pid, 0);
	int pidfds = pidfds_in_region();
	counter_end(&z);
	char line[128];
	int n = snprintf(line, sizeof line, "dup2=%s child_pidfds=%d",
	                 r == FLOOR ? "256" : strerrorname_np(derr), pidfds);
	(void)!write(out, line, (size_t)n + 1);
}

static void *guard_closer(void *arg)
{
	close(*(int *)arg); /* held inside close() by strace */
	return NULL;
}

static void *send_through_kept(void *arg)
{
	kill(*(pid_t *)arg, 0); /* held inside pidfd_send_signal by strace */
	return NULL;
}

/* A thread is inside a kill through X's kept pidfd (GUARD 0), or inside a
 * guard, a close of a number above the floor (GUARD 1), held there by
 * strace, when the program forks: the child runs child_after_fork. */
static int case_fork_during(int guard, const char *name)
{
	struct counter x = counter_start(0);
	kill(x.pid, 0); /* kept at 256 */
	int high = fcntl(open("/dev/null", O_RDONLY | O_CLOEXEC), F_DUPFD_CLOEXEC, 300);
	pthread_t t;
	if (guard)
		pthread_create(&t, NULL, guard_closer, &high);
	else
		pthread_create(&t, NULL, send_through_kept, &x.pid);
	sleep_ms(200); /* the thread is inside its call */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return 2;
	pid_t c = fork();
	if (c == 0) {
		child_after_fork(p[1]);
		_exit(0);
	}
	char line[128] = "";
	(void)!read(p[0], line, sizeof line);
	reap(c);
	pthread_join(t, NULL);
	counter_end(&x);
	printf("case=%s %s\n", name, line);
	return 0;
}

/* ---- a vfork child's own child on a tombstoned number ---------------------------- */

static int vfork_own_child_body(void *arg)
{
	(void)arg;
	struct counter s = counter_start(0);
	pid_t n = s.pid;
	counter_end(&s); /* reaped: a tombstone at N */
	char num[16];
	snprintf(num, sizeof num, "%d", (int)n - 1);
	int res[2];
	if (pipe2(res, O_CLOEXEC) < 0)
		return 2;
	pid_t v = vfork();
	if (v == 0) {
		/* The vfork child's own child lands on N; it is the vfork
		 * child's to signal. */
		if (stranger_write_file("/proc/sys/kernel/ns_last_pid", num) < 0)
			_exit(3);
		pid_t c = fork();
		if (c == 0) {
			pause();
			_exit(0);
		}
		int r = c == n ? kill(c, SIGTERM) : -2;
		int e = errno;
		if (r != 0)
			syscall(SYS_kill, c, SIGKILL); /* not by the hook: it refused */
		int st = -1;
		while (waitpid(c, &st, 0) < 0 && errno == EINTR)
			;
		int out[2] = { r, r < 0 ? e : 0 };
		(void)!write(res[1], out, sizeof out);
		_exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? 0 : 4);
	}
	int st = reap(v);
	int out[2] = { -3, 0 };
	(void)!read(res[0], out, sizeof out);
	if (out[0] == -2 || (WIFEXITED(st) && WEXITSTATUS(st) == 3)) {
		printf("setup: the vfork child's child did not get %d\n", (int)n);
		return 2;
	}
	printf("case=vfork_own_child ret=%s child_killed=%d\n", err_name(out[0], out[1]),
	       WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "vfork_after_keep"))
		return case_vfork_after_keep(c);
	if (!strcmp(c, "guard_during_adoption"))
		return case_guard_during_adoption();
	if (!strcmp(c, "dup2_during_close"))
		return case_dup2_during_close();
	if (!strcmp(c, "fork_during_send"))
		return case_fork_during(0, c);
	if (!strcmp(c, "fork_during_guard"))
		return case_fork_during(1, c);
	if (!strcmp(c, "vfork_own_child"))
		return stranger_in_pidns(vfork_own_child_body, NULL);
	fprintf(stderr, "usage: heldrace vfork_after_keep|guard_during_adoption|"
	                "dup2_during_close|fork_during_send|fork_during_guard|vfork_own_child\n");
	return 2;
}
