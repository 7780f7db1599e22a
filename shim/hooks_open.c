/* SPDX-License-Identifier: MIT */
/* open, openat, fopen, opendir, under every name programs bind them by:
 * how scanners open /proc/N (procps's libproc2 behind pkill, ps and top:
 * open and fopen; psmisc's killall: open and openat on a /proc/N
 * descriptor; CPython: open64 or, fortified, __open64_2, openat64,
 * opendir; a C readdir loop: opendir, openat).  Each does exactly what
 * libc's does, and, when KT_OBSERVE is on and the open of something under
 * /proc/N succeeded, hands the path to observe.c, which records which
 * process N was.  The return value, errno and the descriptor are libc's.
 *
 * glibc's own opens (inside fopen, opendir, scandir) go through internal
 * aliases no preloaded library sees: fopen and opendir need hooks of their
 * own.  open64 and openat64 are open and openat under other names on 64-bit
 * glibc, but a program built with _FILE_OFFSET_BITS=64 binds to them; the
 * fortified __open_2 family is what -D_FORTIFY_SOURCE builds call when the
 * flags are not a constant.  Each name is forwarded to its own function.
 *
 * Any other path costs the check in kt_observe_candidate, and with
 * observation off, one load. */
/* This file defines libc's names itself: no fortified inline wrappers of
 * them, and no redirection of open to open64. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>

#include "init.h"
#include "observe.h"
#include "real.h"

/* glibc declares these only for fortified builds. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* The mode argument is read only when the flags say there is one, as
 * glibc's open does. */
#define KT_OPEN_NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE)

#define KT_OPEN_MODE(flags, mode)                  \
	do {                                           \
		if (KT_OPEN_NEEDS_MODE(flags)) {           \
			va_list ap;                            \
			va_start(ap, flags);                   \
			(mode) = va_arg(ap, mode_t);           \
			va_end(ap);                            \
		}                                          \
	} while (0)

/* PATH, relative to DIRFD, was opened from ORIGIN. */
static inline void opened(int dirfd, const char *path, const struct kt_origin *origin)
{
	if (kt_observe_on() && kt_observe_candidate(path))
		kt_observe_opened(dirfd, path, origin);
}

KT_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	KT_OPEN_MODE(flags, mode);
	struct kt_origin o = KT_ORIGIN;
	int fd = KT_REAL(open)(path, flags, mode);
	if (fd >= 0)
		opened(AT_FDCWD, path, &o);
	return fd;
}

KT_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	KT_OPEN_MODE(flags, mode);
	struct kt_origin o = KT_ORIGIN;
	int fd = KT_REAL(open64)(path, flags, mode);
	if (fd >= 0)
		opened(AT_FDCWD, path, &o);
	return fd;
}

KT_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	KT_OPEN_MODE(flags, mode);
	struct kt_origin o = KT_ORIGIN;
	int fd = KT_REAL(openat)(dirfd, path, flags, mode);
	if (fd >= 0)
		opened(dirfd, path, &o);
	return fd;
}

KT_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	KT_OPEN_MODE(flags, mode);
	struct kt_origin o = KT_ORIGIN;
	int fd = KT_REAL(openat64)(dirfd, path, flags, mode);
	if (fd >= 0)
		opened(dirfd, path, &o);
	return fd;
}

KT_EXPORT int __open_2(const char *path, int flags)
{
	struct kt_origin o = KT_ORIGIN;
	int fd = KT_REAL(__open_2)(path, flags);
	if (fd >= 0)
		opened(AT_FDCWD, path, &o);
	return fd;
}

KT_EXPORT int __open64_2(const char *path, int flags)
{
	struct kt_origin o = KT_ORIGIN;
	int fd = KT_REAL(__open64_2)(path, flags);
	if (fd >= 0)
		opened(AT_FDCWD, path, &o);
	return fd;
}

KT_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	struct kt_origin o = KT_ORIGIN;
	int fd = KT_REAL(__openat_2)(dirfd, path, flags);
	if (fd >= 0)
		opened(dirfd, path, &o);
	return fd;
}

KT_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	struct kt_origin o = KT_ORIGIN;
	int fd = KT_REAL(__openat64_2)(dirfd, path, flags);
	if (fd >= 0)
		opened(dirfd, path, &o);
	return fd;
}

KT_EXPORT FILE *fopen(const char *path, const char *mode)
{
	struct kt_origin o = KT_ORIGIN;
	FILE *f = KT_REAL(fopen)(path, mode);
	if (f)
		opened(AT_FDCWD, path, &o);
	return f;
}

KT_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	struct kt_origin o = KT_ORIGIN;
	FILE *f = KT_REAL(fopen64)(path, mode);
	if (f)
		opened(AT_FDCWD, path, &o);
	return f;
}

KT_EXPORT DIR *opendir(const char *path)
{
	struct kt_origin o = KT_ORIGIN;
	DIR *d = KT_REAL(opendir)(path);
	if (d)
		opened(AT_FDCWD, path, &o);
	return d;
}
