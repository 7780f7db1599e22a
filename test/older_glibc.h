/* SPDX-License-Identifier: MIT */
/* Stand-ins for the glibc functions the suites and helpers use that an
 * older glibc (libkt supports 2.28 and later) does not have.
 *
 * The tests are built where they run, so the glibc headers they are built
 * against say what the libc they will meet has.  Where it has the function,
 * this header adds nothing; where not:
 *
 *   SYS_close_range (glibc 2.34's headers): the number, the same on every
 *     architecture;
 *   gettid (2.30): the system call;
 *   strerrorname_np, sigabbrev_np (2.32): the same names from our own tables
 *     (the errno values and signals the helpers print; NULL for others, as
 *     glibc answers for a number it does not know);
 *   close_range, closefrom, _Fork (2.34): HAVE_GLIBC_CLOSE_RANGE and
 *     HAVE_GLIBC__FORK say whether a program can call them through glibc.
 *     A helper leaves out what it cannot call and says so: a raw system call
 *     would go past libc, and so past libkt's hooks, which are what the
 *     helpers exist to exercise. */
#ifndef KT_TEST_OLDER_GLIBC_H
#define KT_TEST_OLDER_GLIBC_H

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#if !__GLIBC_PREREQ(2, 30)
static inline pid_t gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}
#endif

#if !__GLIBC_PREREQ(2, 32)
#define KT_NAME_CASE_(v) \
	case v: \
		return #v + skip
static inline const char *kt_errno_or_signal_name_(int n, int is_signal)
{
	size_t skip = is_signal ? 3 : 0; /* "SIGKILL" -> "KILL", as sigabbrev_np */
	if (!is_signal) {
		switch (n) {
			KT_NAME_CASE_(EPERM); KT_NAME_CASE_(ENOENT); KT_NAME_CASE_(ESRCH);
			KT_NAME_CASE_(EINTR); KT_NAME_CASE_(EIO); KT_NAME_CASE_(ENOEXEC);
			KT_NAME_CASE_(EBADF); KT_NAME_CASE_(ECHILD); KT_NAME_CASE_(EAGAIN);
			KT_NAME_CASE_(ENOMEM); KT_NAME_CASE_(EACCES); KT_NAME_CASE_(EFAULT);
			KT_NAME_CASE_(EBUSY); KT_NAME_CASE_(EEXIST); KT_NAME_CASE_(EINVAL);
			KT_NAME_CASE_(ENFILE); KT_NAME_CASE_(EMFILE); KT_NAME_CASE_(ENOSPC);
			KT_NAME_CASE_(EPIPE); KT_NAME_CASE_(ERANGE); KT_NAME_CASE_(ENOSYS);
			KT_NAME_CASE_(EOPNOTSUPP); KT_NAME_CASE_(ETIMEDOUT); KT_NAME_CASE_(E2BIG);
		}
		return NULL;
	}
	switch (n) {
		KT_NAME_CASE_(SIGHUP); KT_NAME_CASE_(SIGINT); KT_NAME_CASE_(SIGQUIT);
		KT_NAME_CASE_(SIGILL); KT_NAME_CASE_(SIGTRAP); KT_NAME_CASE_(SIGABRT);
		KT_NAME_CASE_(SIGBUS); KT_NAME_CASE_(SIGFPE); KT_NAME_CASE_(SIGKILL);
		KT_NAME_CASE_(SIGUSR1); KT_NAME_CASE_(SIGSEGV); KT_NAME_CASE_(SIGUSR2);
		KT_NAME_CASE_(SIGPIPE); KT_NAME_CASE_(SIGALRM); KT_NAME_CASE_(SIGTERM);
		KT_NAME_CASE_(SIGSTKFLT); KT_NAME_CASE_(SIGCHLD); KT_NAME_CASE_(SIGCONT);
		KT_NAME_CASE_(SIGSTOP); KT_NAME_CASE_(SIGTSTP); KT_NAME_CASE_(SIGTTIN);
		KT_NAME_CASE_(SIGTTOU); KT_NAME_CASE_(SIGURG); KT_NAME_CASE_(SIGXCPU);
		KT_NAME_CASE_(SIGXFSZ); KT_NAME_CASE_(SIGVTALRM); KT_NAME_CASE_(SIGPROF);
		KT_NAME_CASE_(SIGWINCH); KT_NAME_CASE_(SIGIO); KT_NAME_CASE_(SIGPWR);
		KT_NAME_CASE_(SIGSYS);
	}
	return NULL;
}
#undef KT_NAME_CASE_

static inline const char *strerrorname_np(int e)
{
	return kt_errno_or_signal_name_(e, 0);
}

static inline const char *sigabbrev_np(int sig)
{
	return kt_errno_or_signal_name_(sig, 1);
}
#endif

#if __GLIBC_PREREQ(2, 34)
#define HAVE_GLIBC_CLOSE_RANGE 1
#define HAVE_GLIBC__FORK 1
#else
#define HAVE_GLIBC_CLOSE_RANGE 0
#define HAVE_GLIBC__FORK 0
#endif

#endif
