/* SPDX-License-Identifier: MIT */
/* A library whose constructor holds dlopen() up, for test/helpers/firstfd.c.
 *
 * While a constructor runs, the thread that called dlopen holds the dynamic
 * loader's lock, the one dlsym takes too.  Told by the environment, the
 * constructor
 *
 *   SLOW_CTOR_SIGNAL=raise|process   raises SIGUSR1 in its own thread, or
 *                                    sends it to the process (a thread that
 *                                    has it unblocked takes it);
 *   SLOW_CTOR_READY_FD=N             writes one byte to fd N: "I hold the lock";
 *   SLOW_CTOR_WAIT_FD=N              then waits for a line on fd N.
 *
 * So a test can make another thread, or a vfork child, run while the lock
 * is held, and make the constructor wait for it. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int env_fd(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : -1;
}

__attribute__((constructor)) static void slow_ctor(void)
{
	const char *sig = getenv("SLOW_CTOR_SIGNAL");
	int ready = env_fd("SLOW_CTOR_READY_FD"), wait_fd = env_fd("SLOW_CTOR_WAIT_FD");
	if (sig && strcmp(sig, "raise") == 0)
		raise(SIGUSR1);
	else if (sig && strcmp(sig, "process") == 0)
		kill(getpid(), SIGUSR1);
	if (ready >= 0)
		(void)!write(ready, "r", 1);
	char c = 0;
	while (wait_fd >= 0 && c != '\n' && read(wait_fd, &c, 1) == 1)
		;
}
