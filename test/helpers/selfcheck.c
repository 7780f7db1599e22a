/* SPDX-License-Identifier: MIT */
/* The self-checking helpers' plumbing (described in selfcheck.h). */
#include "selfcheck.h"
#include <time.h>
#include <fcntl.h>

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kt.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
/* pidfs, the file system of pidfds from Linux 6.9 (linux/magic.h). */
#define PIDFS_MAGIC 0x50494446u

int failures;

void say(int ok, const char *name, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	printf(ok ? "ok %s %s\n" : "FAIL %s: %s\n", name, buf);
	fflush(stdout);
	if (!ok)
		failures++;
}

void skip(const char *name, const char *why)
{
	printf("skip %s: %s\n", name, why);
	fflush(stdout);
}

int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return (int)n;
}

unsigned long long pidfs_inode(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return 0;
	struct statfs sfs;
	struct stat st;
	unsigned long long ino = 0;
	if (fstatfs(fd, &sfs) == 0 && (unsigned)sfs.f_type == PIDFS_MAGIC && fstat(fd, &st) == 0)
		ino = (unsigned long long)st.st_ino;
	close(fd);
	return ino;
}

int reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

pid_t pausing_child(void)
{
	fflush(stdout);
	pid_t p = fork();
	if (p < 0) {
		perror("fork");
		exit(2);
	}
	if (p == 0) {
		alarm(60);
		for (;;)
			pause();
	}
	return p;
}

void end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	reap(pid);
}

void answer(const char *question, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	printf("%-60s | %s\n", question, buf);
	fflush(stdout);
}

int run_cases(int argc, char **argv, const struct selfcheck_case *cases, size_t n)
{
	int ran = 0;
	for (size_t i = 0; i < n; i++) {
		int want = argc < 2;
		for (int a = 1; a < argc; a++)
			want |= strcmp(argv[a], cases[i].name) == 0;
		if (want) {
			cases[i].run();
			ran++;
		}
	}
	return ran;
}

const char *kt_state_word(pid_t pid, const char *absent)
{
	int (*pid_state)(pid_t) = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
	if (!pid_state)
		return absent;
	switch (pid_state(pid)) {
	case KT_PID_UNTRACKED: return "untracked";
	case KT_PID_LIVE: return "live";
	case KT_PID_REAPED: return "reaped";
	default: return "?";
	}
}

void counted_block(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SELFCHECK_COUNTED);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int counted_drain(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SELFCHECK_COUNTED);
	struct timespec zero = { 0, 0 };
	int n = 0;
	while (sigtimedwait(&set, NULL, &zero) == SELFCHECK_COUNTED)
		n++;
	return n;
}

struct counter counter_start(int leader)
{
	int cmd[2], res[2];
	struct counter c = { -1, -1, -1 };
	if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		return c;
	counted_block();
	c.pid = fork();
	if (c.pid == 0) {
		if (leader)
			setpgid(0, 0);
		char x;
		while (read(cmd[0], &x, 1) < 0 && errno == EINTR)
			;
		int n = counted_drain();
		(void)!write(res[1], &n, sizeof n);
		_exit(0);
	}
	if (leader)
		setpgid(c.pid, c.pid); /* either side may win; both ask the same */
	close(cmd[0]);
	close(res[1]);
	c.cmd = cmd[1];
	c.res = res[0];
	return c;
}

int counter_end(struct counter *c)
{
	int n = -1;
	(void)!write(c->cmd, "x", 1);
	if (read(c->res, &n, sizeof n) != sizeof n)
		n = -1;
	reap(c->pid);
	close(c->cmd);
	close(c->res);
	return n;
}

void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}
