/* SPDX-License-Identifier: MIT */
/*
 * libwrap_next.so: a shim of another project, preloaded after libkt.so
 *
 *     LD_PRELOAD="libkt.so:libwrap_next.so" WRAPNEXT_FILE=/abs/path program ...
 *
 * It wraps close, open, open64, openat, openat64 and fork the way
 * interposers do (count, then the next definition by dlsym(RTLD_NEXT)), and
 * at a normal exit appends "close=N open=N fork=N" to $WRAPNEXT_FILE.  libkt
 * hooks the same calls first: the counts say whether it handed each call on
 * to the next definition, this library, as dlsym would have it, or went to
 * libc past it.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int closes, opens, forks;

#define NEXT(type, name) ((type)dlsym(RTLD_NEXT, name))

int close(int fd)
{
	closes++;
	return NEXT(int (*)(int), "close")(fd);
}

static mode_t mode_of(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

/* NAME with parameters PARAMS (ending "int flags, ...") handed on as ARGS,
 * the mode last. */
#define WRAP_OPEN(name, params, args)                                      \
	int name params                                                    \
	{                                                                  \
		va_list ap;                                                \
		va_start(ap, flags);                                       \
		mode_t mode = mode_of(flags, ap);                          \
		va_end(ap);                                                \
		opens++;                                                   \
		return NEXT(__typeof__(&name), #name) args;                \
	}
WRAP_OPEN(open, (const char *path, int flags, ...), (path, flags, mode))
WRAP_OPEN(open64, (const char *path, int flags, ...), (path, flags, mode))
WRAP_OPEN(openat, (int dirfd, const char *path, int flags, ...), (dirfd, path, flags, mode))
WRAP_OPEN(openat64, (int dirfd, const char *path, int flags, ...), (dirfd, path, flags, mode))

pid_t fork(void)
{
	forks++;
	return NEXT(pid_t (*)(void), "fork")();
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("WRAPNEXT_FILE");
	if (!path || !*path)
		return;
	char line[96];
	int n = snprintf(line, sizeof line, "close=%d open=%d fork=%d\n", closes, opens, forks);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	                      0600);
	if (fd >= 0) {
		(void)!write(fd, line, (size_t)n);
		syscall(SYS_close, fd);
	}
}
