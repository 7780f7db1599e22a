/* SPDX-License-Identifier: MIT */
/*
 * legacy_worker — a tiny job runner written the way a lot of old C code is,
 * with the PID-reuse bug libkt exists to defuse.  scripts/demo drives it.
 *
 * It reads one command per line on stdin (think of a daemon's control socket):
 *
 *   start    fork a worker that does its (very short) job and exits
 *   cancel   the timeout/cancel path: kill(worker_pid, SIGTERM)
 *   quit     exit
 *
 * A SIGCHLD handler reaps finished workers with waitpid(-1, WNOHANG), as bash,
 * many daemons and most "reap zombies" snippets do.  THE BUG: nothing tells the
 * cancel path that the worker is gone, so `cancel` after the worker finished
 * sends SIGTERM to whatever process holds that number now.  Real programs have
 * shipped this exact mistake (docs/design.md); the fix in the program would be
 * to clear worker_pid in the handler under a signal mask, or to use a pidfd.
 *
 * Every line it prints starts with "runner:" so the demo can tell its output
 * from libkt's report lines (which go to stderr).  Output is written with
 * write(2) only, so the handler's lines and main's lines come out in the order
 * they happened, even through a pipe.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set by `start` and never cleared when the worker is reaped: the bug. */
static volatile sig_atomic_t worker_pid;

/* Append the decimal form of V to BUF at *LEN; async-signal-safe (no stdio). */
static void append_int(char *buf, size_t *len, size_t cap, long v)
{
	char digits[24];
	int n = 0;
	int neg = v < 0;
	unsigned long u = neg ? 0UL - (unsigned long)v : (unsigned long)v;
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && n < (int)sizeof digits);
	if (neg && *len + 1 < cap)
		buf[(*len)++] = '-';
	while (n > 0 && *len + 1 < cap)
		buf[(*len)++] = digits[--n];
}

static void append_str(char *buf, size_t *len, size_t cap, const char *s)
{
	while (*s && *len + 1 < cap)
		buf[(*len)++] = *s++;
}

static void write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(STDOUT_FILENO, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

static void on_sigchld(int sig)
{
	int saved_errno = errno;
	int status;
	pid_t pid;
	(void)sig;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char line[160];
		size_t len = 0;
		append_str(line, &len, sizeof line, "runner: worker ");
		append_int(line, &len, sizeof line, pid);
		if (WIFEXITED(status)) {
			append_str(line, &len, sizeof line, " finished (exit ");
			append_int(line, &len, sizeof line, WEXITSTATUS(status));
			append_str(line, &len, sizeof line, ")");
		} else if (WIFSIGNALED(status)) {
			append_str(line, &len, sizeof line, " died of signal ");
			append_int(line, &len, sizeof line, WTERMSIG(status));
		}
		append_str(line, &len, sizeof line,
		           " and was reaped by the SIGCHLD handler\n");
		write_all(line, len);
		/* Here the legacy code "forgets" to clear worker_pid. */
	}
	errno = saved_errno;
}

static void start_worker(void)
{
	sigset_t chld, old;
	char line[160];
	size_t len = 0;

	/* Block SIGCHLD across fork and the bookkeeping, the classic idiom (bash
	 * does it too): the handler cannot run before worker_pid is recorded,
	 * which also keeps the printed order "started" then "finished". */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	pid_t pid = fork();
	if (pid == 0) {
		/* The worker's job is trivial: it is done at once.  That is what makes
		 * the later cancel stale. */
		_exit(0);
	}
	if (pid < 0) {
		append_str(line, &len, sizeof line, "runner: fork failed: ");
		append_str(line, &len, sizeof line, strerror(errno));
		append_str(line, &len, sizeof line, "\n");
	} else {
		worker_pid = pid;
		append_str(line, &len, sizeof line, "runner: started worker, pid ");
		append_int(line, &len, sizeof line, pid);
		append_str(line, &len, sizeof line, "\n");
	}
	write_all(line, len);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void cancel_worker(void)
{
	char line[200];
	size_t len = 0;
	pid_t pid = worker_pid;

	if (pid <= 0) {
		write_all("runner: cancel: no worker\n", 26);
		return;
	}
	/* The stale kill: the worker finished long ago, but the number is all this
	 * code kept. */
	errno = 0;
	int r = kill(pid, SIGTERM);
	int e = errno;
	append_str(line, &len, sizeof line, "runner: cancel: kill(");
	append_int(line, &len, sizeof line, pid);
	append_str(line, &len, sizeof line, ", SIGTERM) = ");
	append_int(line, &len, sizeof line, r);
	if (r < 0) {
		append_str(line, &len, sizeof line, " ");
		append_str(line, &len, sizeof line,
		           e == ESRCH ? "ESRCH" : e == EPERM ? "EPERM" : "errno");
		append_str(line, &len, sizeof line, " (");
		append_str(line, &len, sizeof line, strerror(e));
		append_str(line, &len, sizeof line, ")");
	}
	append_str(line, &len, sizeof line, "\n");
	write_all(line, len);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigchld;
	/* SA_RESTART so the blocking read of the next command survives SIGCHLD. */
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) < 0) {
		perror("sigaction");
		return 1;
	}

	/* The demo sends one command and waits for its answer before the next, so
	 * stdio's input buffering never holds back a command. */
	char cmd[64];
	while (fgets(cmd, sizeof cmd, stdin)) {
		cmd[strcspn(cmd, "\r\n")] = '\0';
		if (strcmp(cmd, "start") == 0)
			start_worker();
		else if (strcmp(cmd, "cancel") == 0)
			cancel_worker();
		else if (strcmp(cmd, "quit") == 0)
			break;
		else if (cmd[0] != '\0')
			write_all("runner: unknown command\n", 24);
	}
	return 0;
}
