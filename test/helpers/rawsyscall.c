/* SPDX-License-Identifier: MIT */
/* rawsyscall: syscall() as programs call it, with and without libkt, natively
 * and (built for aarch64) under qemu-user.  libkt's syscall() is an assembly
 * entry of its own (shim/syscall_ARCH.S); these cases check it is glibc's in
 * every answer, and that the children it registers are the fork-like ones.
 *
 *   errno      results and errno: a plain call, EBADF, ENOSYS, errno kept on
 *              success, six arguments passed through (a pipe2-free check via
 *              prctl);
 *   clone      syscall(SYS_clone, SIGCHLD): the child runs on a copy of the
 *              stack and returns 0; libkt registers it (live, then reaped);
 *   clone3     the same through clone3 (skipped where the kernel lacks it);
 *   newstack   syscall(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, new
 *              stack): the child starts on the new stack, the way glibc's
 *              syscall() hands it over (on x86_64 it returns through the
 *              address at the top of that stack, on aarch64 to the caller),
 *              and exits 42; libkt leaves it unregistered.  (CLONE_VFORK:
 *              qemu-user refuses CLONE_VM alone and runs this as a fork.)
 *
 * Prints "libkt=yes|no", then "ok CASE ..." / "FAIL CASE: why" / "skip CASE:
 * why" per case, and exits 0 only if nothing failed. */
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kt.h"
#include "selfcheck.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static int (*pid_state)(pid_t);
/* kt_pid_state's answer as a word, "-" without libkt. */
static const char *state_of(pid_t pid)
{
	return kt_state_word(pid, "-");
}

static int exit_code(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, __WALL) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + (st & 0x7f);
}

static void case_errno(void)
{
	errno = 4242;
	long me = syscall(SYS_getpid);
	int kept = errno == 4242;
	long bad = syscall(SYS_close, -1);
	int ebadf = errno;
	long none = syscall(100000);
	int enosys = errno;
	/* prctl(PR_SET_NAME, name, 0, 0, 0) then PR_GET_NAME: five arguments
	 * reach the kernel in order. */
	char name[16] = "";
	long set = syscall(SYS_prctl, PR_SET_NAME, "rawsys", 0L, 0L, 0L);
	long get = syscall(SYS_prctl, PR_GET_NAME, name, 0L, 0L, 0L);
	say(me == getpid() && kept && bad == -1 && ebadf == EBADF && none == -1 &&
	        enosys == ENOSYS && set == 0 && get == 0 && strcmp(name, "rawsys") == 0,
	    "errno", "getpid=%s kept=%d close(-1)=%ld/%d nr100000=%ld/%d prctl=%ld,%ld,%s",
	    me == getpid() ? "same" : "differs", kept, bad, ebadf, none, enosys, set, get, name);
}

static void check_forklike(const char *name, long r)
{
	if (r == 0)
		_exit(7); /* the child, back from syscall() on its copy of our stack */
	if (r < 0) {
		if (errno == ENOSYS) {
			printf("skip %s: ENOSYS here\n", name);
			return;
		}
		say(0, name, "failed: %s", strerror(errno));
		return;
	}
	const char *born = state_of((pid_t)r);
	int code = exit_code((pid_t)r);
	const char *after = state_of((pid_t)r);
	int ok = code == 7 && (!pid_state || (strcmp(born, "live") == 0 &&
	                                      strcmp(after, "reaped") == 0));
	say(ok, name, "exit=%d born=%s after_wait=%s", code, born, after);
}

static void case_clone(void)
{
	check_forklike("clone", syscall(SYS_clone, SIGCHLD, 0L, 0L, 0L, 0L));
}

static void case_clone3(void)
{
	/* struct clone_args, version 0: eight 64-bit fields, exit_signal 5th. */
	uint64_t args[8];
	memset(args, 0, sizeof args);
	args[4] = SIGCHLD;
	check_forklike("clone3", syscall(SYS_clone3, args, sizeof args));
}

static unsigned char child_stack[64 * 1024] __attribute__((aligned(16)));

static __attribute__((noreturn, used)) void newstack_child(void)
{
	syscall(SYS_exit, 42);
	for (;;)
		;
}

/* On aarch64 the child comes back here, on the new stack, and must touch no
 * memory on the way to its exit: nothing but registers after the call. */
static __attribute__((noinline)) long clone_newstack(void *sp)
{
	long r = syscall(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, sp, 0L, 0L, 0L);
	if (r == 0)
		syscall(SYS_exit, 42);
	return r;
}

static void case_newstack(void)
{
	uintptr_t *sp = (uintptr_t *)(child_stack + sizeof child_stack) - 2;
#if defined(__x86_64__)
	/* The child's `ret` finds this address; the rest of the stack is zero,
	 * so a return through any other frame would jump to 0. */
	sp[0] = (uintptr_t)newstack_child;
#endif
	long r = clone_newstack(sp);
	if (r < 0) {
		say(0, "newstack", "failed: %s", strerror(errno));
		return;
	}
	int code = exit_code((pid_t)r);
	const char *state = state_of((pid_t)r);
	say(code == 42 && (!pid_state || strcmp(state, "untracked") == 0), "newstack",
	    "exit=%d state=%s", code, state);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_state = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
	printf("libkt=%s\n", pid_state ? "yes" : "no");
	case_errno();
	case_clone();
	case_clone3();
	case_newstack();
	return failures ? 1 : 0;
}
