/* SPDX-License-Identifier: MIT */
/*
 * stale_kill — a small job runner with a latent PID-reuse bug, for the report
 * and kt-run tests.
 *
 *   stale_kill [--emfile] [--deny-pidfd] [--depth=N] [--exit=return|exit|_exit] [--sig=N]
 *              [--exec=PATH] [--code=N] [--fork-after] [--late=LIB]
 *
 * It starts a job (fork, from start_job(); the job exits at once), reaps it
 * with waitpid from reap_job(), then "cancels" it: kill(job_pid, SIG) with
 * the old number, from cancel_job().  A report's three stacks name those
 * three functions.
 * On an ordinary run nobody has taken the number yet, kill() fails with ESRCH
 * and nothing visible happens: the bug is latent.  Under kt-run
 * --provoke-reuse a decoy holds the number by the time of the cancel.
 *
 * Prints one line: "job=PID kill=RET errno=NAME".
 *   --emfile   lower RLIMIT_NOFILE to the descriptors already open before the
 *              fork, so libkt cannot open a pidfd (its "degraded" event)
 *   --depth=N  call cancel_job through N more frames (nest), so a report has
 *              more caller frames to name
 *   --deny-pidfd  a seccomp filter makes pidfd_open fail with ENOSYS, as on a
 *              kernel without pidfds (libkt's "degraded" event, reason no_pidfd)
 *   --exit=    how the program ends: return from main (default), exit(0),
 *              or _exit(0) (which runs no destructor: no summary event)
 *   --exec=PATH  the job execs PATH (no arguments) instead of exiting, so it
 *              ends under another name
 *   --code=N   end with status N instead of 0
 *   --fork-after  after the kill, fork a child that ends with exit(0), and
 *              print its status too ("after=STATUS"): a child does not carry
 *              its parent's stale kill
 *   --late=LIB  load LIB (test/helpers/liblate_jobs.so) with dlopen once
 *              running, and start (posix_spawn /bin/true), reap and cancel the job
 *              through its late_start_job, late_reap_job and late_cancel_job;
 *              first prints "late_base=ADDR" (where LIB is loaded) and each
 *              function's address ("late_start_job=ADDR" ...)
 *
 * Built with -rdynamic and frame pointers (see the Makefile), so a report's
 * frames can name cancel_job, start_job, reap_job and main; built a second
 * time as stale_kill_nodyn, with -g and frame pointers but no -rdynamic, for
 * kt-symbolize to name them from the debug information.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../older_glibc.h"

int cancel_job(pid_t pid, int sig);

__attribute__((noinline)) int cancel_job(pid_t pid, int sig)
{
	errno = 0;
	int r = kill(pid, sig);
	/* Keeps this frame from becoming a tail call (its return address is
	 * what the report must name). */
	__asm__ volatile("" ::: "memory");
	return r;
}

int nest(int depth, pid_t pid, int sig);
pid_t start_job(const char *exec_path);
int reap_job(pid_t job);

__attribute__((noinline)) pid_t start_job(const char *exec_path)
{
	pid_t job = fork();
	if (job == 0) {
		if (exec_path)
			execl(exec_path, exec_path, (char *)NULL);
		_exit(0);
	}
	__asm__ volatile("" ::: "memory");
	return job;
}

__attribute__((noinline)) int reap_job(pid_t job)
{
	int st;
	int r = waitpid(job, &st, 0) == job ? 0 : -1;
	__asm__ volatile("" ::: "memory");
	return r;
}

__attribute__((noinline)) int nest(int depth, pid_t pid, int sig)
{
	int r = depth > 0 ? nest(depth - 1, pid, sig) : cancel_job(pid, sig);
	__asm__ volatile("" ::: "memory"); /* a real frame each, no tail call */
	return r;
}

static void limit_fds(void)
{
	/* A new descriptor takes the lowest free number, and fails with EMFILE
	 * when that number is at or above the soft limit: so the limit is set to
	 * the lowest free number, and no fd that is open now is disturbed. */
	int lowest = dup(0);
	if (lowest < 0)
		return;
	close(lowest);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = (rlim_t)lowest;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static int deny_pidfd_open(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* --late=LIB: the same job, run by code loaded after start-up. */
static int run_late(const char *lib, int sig)
{
	void *h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	pid_t (*start)(void) = (pid_t (*)(void))dlsym(h, "late_start_job");
	int (*reap)(pid_t) = (int (*)(pid_t))dlsym(h, "late_reap_job");
	int (*cancel)(pid_t, int) = (int (*)(pid_t, int))dlsym(h, "late_cancel_job");
	Dl_info info;
	if (!start || !reap || !cancel || !dladdr((void *)cancel, &info)) {
		fprintf(stderr, "%s: no late_*_job functions\n", lib);
		return 1;
	}
	printf("late_base=%p late_start_job=%p late_reap_job=%p late_cancel_job=%p\n",
	       info.dli_fbase, (void *)start, (void *)reap, (void *)cancel);
	pid_t job = start();
	if (job < 0 || reap(job) < 0) {
		perror("late job");
		return 1;
	}
	errno = 0;
	int r = cancel(job, sig);
	int e = errno;
	printf("job=%d kill=%d errno=%s\n", (int)job, r, e ? strerrorname_np(e) : "0");
	return 0;
}

int main(int argc, char **argv)
{
	const char *how_exit = "return";
	const char *exec_path = NULL;
	const char *late = NULL;
	int sig = SIGTERM, emfile = 0, deny = 0, depth = 0, code = 0, fork_after = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--emfile") == 0)
			emfile = 1;
		else if (strcmp(argv[i], "--deny-pidfd") == 0)
			deny = 1;
		else if (strncmp(argv[i], "--exit=", 7) == 0)
			how_exit = argv[i] + 7;
		else if (strncmp(argv[i], "--depth=", 8) == 0)
			depth = atoi(argv[i] + 8);
		else if (strncmp(argv[i], "--sig=", 6) == 0)
			sig = atoi(argv[i] + 6);
		else if (strncmp(argv[i], "--exec=", 7) == 0)
			exec_path = argv[i] + 7;
		else if (strncmp(argv[i], "--code=", 7) == 0)
			code = atoi(argv[i] + 7);
		else if (strcmp(argv[i], "--fork-after") == 0)
			fork_after = 1;
		else if (strncmp(argv[i], "--late=", 7) == 0)
			late = argv[i] + 7;
		else {
			fprintf(stderr, "usage: stale_kill [--emfile] [--deny-pidfd] [--depth=N] [--exit=return|exit|_exit] "
			        "[--sig=N] [--exec=PATH] [--code=N] [--fork-after] [--late=LIB]\n");
			return 2;
		}
	}
	if (emfile)
		limit_fds();
	if (deny && deny_pidfd_open() < 0) {
		perror("seccomp");
		return 1;
	}
	if (late)
		return run_late(late, sig);
	pid_t job = start_job(exec_path);
	if (job < 0) {
		perror("fork");
		return 1;
	}
	if (reap_job(job) < 0) {
		perror("waitpid");
		return 1;
	}
	int r = depth > 0 ? nest(depth - 1, job, sig) : cancel_job(job, sig);
	int e = errno;
	printf("job=%d kill=%d errno=%s\n", (int)job, r, e ? strerrorname_np(e) : "0");
	fflush(stdout);
	if (fork_after) {
		pid_t after = fork();
		if (after == 0)
			exit(0);
		int st = -1;
		waitpid(after, &st, 0);
		printf("after=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		fflush(stdout);
	}
	if (strcmp(how_exit, "exit") == 0)
		exit(code);
	if (strcmp(how_exit, "_exit") == 0)
		_exit(code);
	return code;
}
