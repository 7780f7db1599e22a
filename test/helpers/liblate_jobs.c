/* SPDX-License-Identifier: MIT */
/* The job runner's three calls in a library that stale_kill --late=PATH
 * loads with dlopen() after start-up, as CPython loads _posixsubprocess:
 * a report must name this library and the function in it, though the
 * start-up map of loaded objects (shim/caller.c) does not hold it.  The job
 * is spawned with posix_spawn, which the sanitizer runtimes leave to libkt
 * (they keep vfork to themselves).  Built with frame pointers (see the
 * Makefile). */
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t late_start_job(void);
int late_reap_job(pid_t job);
int late_cancel_job(pid_t job, int sig);

extern char **environ;

__attribute__((noinline)) pid_t late_start_job(void)
{
	pid_t job;
	char *argv[] = { "true", NULL };
	int e = posix_spawn(&job, "/bin/true", NULL, NULL, argv, environ);
	__asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
	return e ? -1 : job;
}

__attribute__((noinline)) int late_reap_job(pid_t job)
{
	siginfo_t si;
	int r = waitid(P_PID, (id_t)job, &si, WEXITED);
	__asm__ volatile("" ::: "memory");
	return r;
}

__attribute__((noinline)) int late_cancel_job(pid_t job, int sig)
{
	int r = kill(job, sig);
	__asm__ volatile("" ::: "memory");
	return r;
}
