/* SPDX-License-Identifier: MIT */
/*
 * bystander PID — put an innocent process on PID, a number that was just freed,
 * and later say whether anything signalled it.  Used by scripts/demo (and any
 * PID-reuse test) to make reuse deterministic instead of waiting for pid_max
 * to wrap.
 *
 * It must run inside a PID namespace where it holds CAP_CHECKPOINT_RESTORE or
 * CAP_SYS_ADMIN (root, or `unshare --user --map-root-user`), because choosing a
 * PID is a checkpoint/restore privilege.  The innocent process is a child of
 * THIS program, never of the program under test, so the program under test has
 * no legitimate claim on it.
 *
 * Protocol (stdout is line-oriented, unbuffered):
 *   prints  "bystander: pid N is now an innocent process (placed with HOW)"
 *   reads a line "check" on stdin, then prints one of
 *           "bystander: alive, no signal received"
 *           "bystander: KILLED by SIG..."  /  "bystander: hit by a signal ..."
 *   then kills its innocent process and exits 0 (alive), 1 (hit), 2 (error).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../older_glibc.h"

static void innocent_life(void)
{
	/* A recognisable name for ps and for libkt's "now belongs to" report. */
	prctl(PR_SET_NAME, "bystander", 0, 0, 0);
	for (;;)
		pause();
}

/* clone3 with set_tid (kernel 5.5+): the kernel gives the child exactly PID or
 * fails; no race with other forks.  Returns the pid, 0 in the child, -1 with
 * errno on failure. */
static pid_t clone_at(pid_t pid)
{
	struct clone_args args;
	pid_t tid = pid;
	memset(&args, 0, sizeof args);
	args.exit_signal = SIGCHLD;
	args.set_tid = (uint64_t)(uintptr_t)&tid;
	args.set_tid_size = 1;
	/* stack == 0: the child runs on a copy of our stack, like fork(). */
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

/* Fallback for kernels or sandboxes without clone3: ns_last_pid makes the next
 * fork in this namespace get PID.  Racy in general, exact in the quiet private
 * namespace the demo uses; the result is checked either way. */
static pid_t fork_at(pid_t pid)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char num[24];
	int len = snprintf(num, sizeof num, "%d", (int)pid - 1);
	ssize_t w = write(fd, num, (size_t)len);
	int e = errno;
	close(fd);
	if (w != len) {
		errno = w < 0 ? e : EIO;
		return -1;
	}
	pid_t got = fork();
	if (got == 0 && getpid() != pid)
		_exit(0); /* lost a race: not the number we wanted */
	if (got > 0 && got != pid) {
		waitpid(got, NULL, 0);
		errno = EAGAIN;
		return -1;
	}
	return got;
}

/* 1 if the innocent process has exited or has any signal pending.  Nobody else
 * in the namespace signals it, so any pending signal was the stray one.  This is
 * exact, not a timing guess: from the moment kill() returns, a SIGTERM with the
 * default action sits in ShdPnd (and the kernel's fatal-signal shortcut adds
 * SIGKILL to SigPnd) until the process is reaped, which only we do. */
static int was_hit(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == pid)
		return 1;
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 1;
	int hit = 0;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "SigPnd:", 7) == 0 || strncmp(line, "ShdPnd:", 7) == 0)
			if (strtoull(line + 7, NULL, 16) != 0)
				hit = 1;
	}
	fclose(f);
	return hit;
}

int main(int argc, char **argv)
{
	if (argc != 2 || atoi(argv[1]) <= 1) {
		fprintf(stderr, "usage: bystander PID   (PID > 1, free, in this PID namespace)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t want = (pid_t)atoi(argv[1]);

	const char *how = "clone3 set_tid";
	pid_t child = clone_at(want);
	if (child < 0) {
		int e = errno;
		how = "/proc/sys/kernel/ns_last_pid";
		child = fork_at(want);
		if (child < 0) {
			fprintf(stderr, "bystander: cannot create a process with pid %d: "
			        "clone3(set_tid): %s; ns_last_pid: %s\n"
			        "bystander: this needs a private PID namespace where we are root "
			        "(unshare --pid --fork, plus --user --map-root-user when not root)\n",
			        (int)want, strerror(e), strerror(errno));
			return 2;
		}
	}
	if (child == 0)
		innocent_life();

	printf("bystander: pid %d is now an innocent process (placed with %s)\n",
	       (int)child, how);

	char cmd[64];
	int rc = 2;
	while (fgets(cmd, sizeof cmd, stdin)) {
		if (strncmp(cmd, "check", 5) != 0)
			continue;
		if (!was_hit(child)) {
			printf("bystander: alive, no signal received\n");
			rc = 0;
			break;
		}
		/* It was hit: wait for it to finish dying (it will, quickly; the alarm
		 * only guards against a signal that stops instead of kills). */
		alarm(5);
		int st;
		if (waitpid(child, &st, 0) == child) {
			if (WIFSIGNALED(st)) {
				const char *abbrev = sigabbrev_np(WTERMSIG(st));
				printf("bystander: KILLED by SIG%s\n", abbrev ? abbrev : "?");
			}
			else
				printf("bystander: exited with status %d\n", WEXITSTATUS(st));
			return 1;
		}
		printf("bystander: hit by a signal but did not die\n");
		rc = 1;
		break;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return rc;
}
