/* SPDX-License-Identifier: MIT */
/* firstfd: a program whose first close/dup2/dup3/close_range/closefrom, or
 * first open of any name (the open family libkt hooks to observe /proc),
 * runs where the dynamic loader must not be entered, run by preload_fds with
 * and without libkt; the two outputs must be the same.
 *
 *   firstfd CASE LIB      LIB: the path of libslow_ctor.so
 *
 * Cases (each in a fresh process: what counts is the process's first call):
 *   vfork-close, vfork-dup2, vfork-dup3, vfork-close_range, vfork-closefrom,
 *   vfork-open, vfork-open64, vfork-openat, vfork-openat64, vfork-__open_2,
 *   vfork-__open64_2, vfork-__openat_2, vfork-__openat64_2
 *       a thread dlopen()s LIB, whose constructor holds the loader's lock
 *       until the vfork child has exec'd `echo` and `echo` has written to
 *       it; the child's first fd call is the one named, then it execs;
 *   handler-same-thread, handler-same-thread-open
 *       LIB's constructor raises SIGUSR1, whose handler closes an fd (opens
 *       /dev/null): the handler interrupts dlopen in the thread that holds
 *       the lock;
 *   handler-other-thread, handler-other-thread-open, -fopen, -opendir
 *       a thread's dlopen of LIB signals the process; the main thread's
 *       handler closes an fd (opens /dev/null, fopens it, opendirs /) and
 *       tells the constructor, which waits for it.  fopen and opendir are
 *       not async-signal-safe, but nothing else in this process is in
 *       malloc or stdio then, and a program that calls them there must
 *       behave as without libkt.
 *
 * A hook that asked the loader for the real function at that moment (dlsym)
 * would wait for the lock the constructor holds while the constructor waits
 * for it: the program would hang (the suite's timeout then kills it). */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../older_glibc.h"
#include "selfcheck.h"

static const char *lib;

/* glibc declares these only for fortified builds; programs built so call
 * them. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* /dev/null opened by the open-family function NAME, or -2 if NAME is none
 * of them.  What a program's first open is, whichever name it binds to. */
static int open_by_name(const char *name)
{
	const char *p = "/dev/null";
	int flags = O_RDONLY | O_CLOEXEC;
	if (strcmp(name, "open") == 0)
		return open(p, flags);
	if (strcmp(name, "open64") == 0)
		return open64(p, flags);
	if (strcmp(name, "openat") == 0)
		return openat(AT_FDCWD, p, flags);
	if (strcmp(name, "openat64") == 0)
		return openat64(AT_FDCWD, p, flags);
	if (strcmp(name, "__open_2") == 0)
		return __open_2(p, flags);
	if (strcmp(name, "__open64_2") == 0)
		return __open64_2(p, flags);
	if (strcmp(name, "__openat_2") == 0)
		return __openat_2(AT_FDCWD, p, flags);
	if (strcmp(name, "__openat64_2") == 0)
		return __openat64_2(AT_FDCWD, p, flags);
	return -2;
}

static void die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(2);
}

static void set_fd_env(const char *name, int fd)
{
	char v[16];
	snprintf(v, sizeof v, "%d", fd);
	if (setenv(name, v, 1) != 0)
		die("setenv");
}

static void *open_lib(void *arg)
{
	(void)arg;
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		printf("FAIL dlopen: %s\n", dlerror());
	return h;
}

static pthread_t start_loader(void)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, open_lib, NULL);
	if (e) {
		errno = e;
		die("pthread_create");
	}
	return t;
}

static void join_loader(pthread_t t)
{
	void *h;
	pthread_join(t, &h);
	printf("dlopen=%s\n", h ? "ok" : "failed");
}

/* The vfork cases: FIRST names the call the child makes first. */
static void vfork_first(const char *first)
{
#if !HAVE_GLIBC_CLOSE_RANGE
	if (strcmp(first, "close_range") == 0 || strcmp(first, "closefrom") == 0) {
		/* Without libkt there is no such function to call. */
		skip(first, "this glibc has no close_range or closefrom (2.34 has them)");
		return;
	}
#endif
	int ready[2], out[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die("pipe2");
	set_fd_env("SLOW_CTOR_READY_FD", ready[1]);
	set_fd_env("SLOW_CTOR_WAIT_FD", out[0]);
	pthread_t loader = start_loader();
	char c;
	if (read(ready[0], &c, 1) != 1)
		die("read ready");
	/* The loader thread is inside the constructor, holding the lock. */
	char *argv[] = { "/bin/echo", "exec'd", NULL };
	pid_t pid = vfork();
	if (pid == 0) {
		if (strcmp(first, "close") == 0) {
			close(out[0]);
			dup2(out[1], 1);
		} else if (strcmp(first, "dup2") == 0) {
			dup2(out[1], 1);
		} else if (strcmp(first, "dup3") == 0) {
			dup3(out[1], 1, 0);
		} else if (strncmp(first, "open", 4) == 0 || strncmp(first, "__open", 6) == 0) {
			/* The raw call makes fd 1 the pipe without a libc fd call. */
			syscall(SYS_dup3, out[1], 1, 0);
			if (open_by_name(first) < 0)
				_exit(3);
#if HAVE_GLIBC_CLOSE_RANGE
		} else {
			/* The raw call makes fd 1 the pipe without a libc fd call. */
			syscall(SYS_dup3, out[1], 1, 0);
			if (strcmp(first, "close_range") == 0)
				close_range(3, 1023, 0);
			else
				closefrom(3);
#endif
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		die("vfork");
	int st = reap(pid);
	join_loader(loader);
	printf("%s first in a vfork child: child status 0x%x\n", first, st);
}

static int handler_fd = -1, handler_result = -2, handler_errno, handler_tell_fd = -1;
static const char *handler_call = "close";

/* The handler's call: HANDLER_CALL; 0 or -1, errno set. */
static int handler_does(void)
{
	if (strcmp(handler_call, "close") == 0)
		return close(handler_fd);
	if (strcmp(handler_call, "fopen") == 0) {
		FILE *f = fopen("/dev/null", "re");
		return f ? fclose(f) : -1;
	}
	if (strcmp(handler_call, "opendir") == 0) {
		DIR *d = opendir("/");
		return d ? closedir(d) : -1;
	}
	int fd = open_by_name(handler_call);
	return fd < 0 ? -1 : close(fd);
}

static void on_usr1(int sig)
{
	(void)sig;
	int saved = errno;
	handler_result = handler_does();
	handler_errno = handler_result < 0 ? errno : 0;
	if (handler_tell_fd >= 0)
		(void)!write(handler_tell_fd, "\n", 1);
	errno = saved;
}

/* CALL is the process's first of its kind: the fd to close comes from a
 * pipe, not an open. */
static void handler_case(int other_thread, const char *call)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe2");
	handler_fd = p[0];
	handler_call = call;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		die("sigaction");
	if (!other_thread) {
		setenv("SLOW_CTOR_SIGNAL", "raise", 1);
		void *h = open_lib(NULL);
		printf("dlopen=%s\n", h ? "ok" : "failed");
	} else {
		int done[2];
		if (pipe2(done, O_CLOEXEC) < 0)
			die("pipe2");
		handler_tell_fd = done[1];
		setenv("SLOW_CTOR_SIGNAL", "process", 1);
		set_fd_env("SLOW_CTOR_WAIT_FD", done[0]);
		/* Only the main thread may take the signal. */
		sigset_t usr1, old;
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &usr1, &old);
		pthread_t loader = start_loader();
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		join_loader(loader);
	}
	printf("%s in the handler: %d errno %d\n", call, handler_result, handler_errno);
}

static void vfork_close(void) { vfork_first("close"); }
static void vfork_dup2(void) { vfork_first("dup2"); }
static void vfork_dup3(void) { vfork_first("dup3"); }
static void vfork_close_range(void) { vfork_first("close_range"); }
static void vfork_closefrom(void) { vfork_first("closefrom"); }
static void vfork_open(void) { vfork_first("open"); }
static void vfork_open64(void) { vfork_first("open64"); }
static void vfork_openat(void) { vfork_first("openat"); }
static void vfork_openat64(void) { vfork_first("openat64"); }
static void vfork_open_2(void) { vfork_first("__open_2"); }
static void vfork_open64_2(void) { vfork_first("__open64_2"); }
static void vfork_openat_2(void) { vfork_first("__openat_2"); }
static void vfork_openat64_2(void) { vfork_first("__openat64_2"); }
static void handler_same_thread(void) { handler_case(0, "close"); }
static void handler_other_thread(void) { handler_case(1, "close"); }
static void handler_same_thread_open(void) { handler_case(0, "open"); }
static void handler_other_thread_open(void) { handler_case(1, "open"); }
static void handler_other_thread_fopen(void) { handler_case(1, "fopen"); }
static void handler_other_thread_opendir(void) { handler_case(1, "opendir"); }

int main(int argc, char **argv)
{
	static const struct selfcheck_case cases[] = {
		{ "vfork-close", vfork_close },
		{ "vfork-dup2", vfork_dup2 },
		{ "vfork-dup3", vfork_dup3 },
		{ "vfork-close_range", vfork_close_range },
		{ "vfork-closefrom", vfork_closefrom },
		{ "vfork-open", vfork_open },
		{ "vfork-open64", vfork_open64 },
		{ "vfork-openat", vfork_openat },
		{ "vfork-openat64", vfork_openat64 },
		{ "vfork-__open_2", vfork_open_2 },
		{ "vfork-__open64_2", vfork_open64_2 },
		{ "vfork-__openat_2", vfork_openat_2 },
		{ "vfork-__openat64_2", vfork_openat64_2 },
		{ "handler-same-thread", handler_same_thread },
		{ "handler-other-thread", handler_other_thread },
		{ "handler-same-thread-open", handler_same_thread_open },
		{ "handler-other-thread-open", handler_other_thread_open },
		{ "handler-other-thread-fopen", handler_other_thread_fopen },
		{ "handler-other-thread-opendir", handler_other_thread_opendir },
	};
	if (argc != 3) {
		fprintf(stderr, "usage: firstfd CASE LIB\n");
		return 2;
	}
	lib = argv[2];
	setvbuf(stdout, NULL, _IONBF, 0);
	if (run_cases(2, argv, cases, sizeof cases / sizeof cases[0]) != 1) {
		fprintf(stderr, "firstfd: no case %s\n", argv[1]);
		return 2;
	}
	return failures ? 1 : 0;
}
