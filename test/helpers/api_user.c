/* SPDX-License-Identifier: MIT */
/*
 * api_user — a program that uses include/kt.h the way the header tells users
 * to: no link against libkt, every function looked up at run time.  It must
 * build and run the same with and without libkt loaded.
 *
 * Prints one line:
 *   loaded=0|1 version=V header=V untracked=S live=S reaped=S tracked=N reaps=N mode=M
 * where S are kt_pid_state() answers for a never-seen PID, a live child and a
 * reaped child (KT_PID_NOT_LOADED, -1, without libkt).
 *
 * Built as plain POSIX C (no _GNU_SOURCE), to prove the header asks for none.
 */
#undef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <kt.h>

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define STR2(x) #x
#define STR(x) STR2(x)

int main(void)
{
	struct kt_api kt;
	int loaded = kt_api_load(&kt);

	/* PID 1 is never our child. */
	int untracked = kt_pid_state_or_not_loaded(1);
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		pause();
		_exit(0);
	}
	int live = kt_pid_state_or_not_loaded(child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	int reaped = kt_pid_state_or_not_loaded(child);

	struct kt_counters c = { 0 };
	if (loaded && kt.counters(&c, sizeof c) != (int)sizeof c)
		return 1;
	printf("loaded=%d version=%s header=%s untracked=%d live=%d reaped=%d tracked=%llu "
	       "reaps=%llu mode=%u\n",
	       loaded, loaded ? kt.version() : "none",
	       STR(KT_VERSION_MAJOR) "." STR(KT_VERSION_MINOR) "." STR(KT_VERSION_PATCH),
	       untracked, live, reaped, (unsigned long long)c.children_tracked,
	       (unsigned long long)c.reaps_seen, c.mode);
	return 0;
}
