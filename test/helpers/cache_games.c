/* SPDX-License-Identifier: MIT */
/* cache_games: the pidfds libkt keeps for children it has signalled, against
 * a program that plays with its descriptors.
 *
 *   cache_games [NOFILE]
 *
 * With NOFILE, the soft RLIMIT_NOFILE is set to it first.  Then:
 *
 *   1. child A is signalled once (kill(A, 0)), so libkt may keep a pidfd of
 *      it; the number it sits on is found in /proc/self/fd ("kept=N", or
 *      "kept=none");
 *   2. a close-all loop, close_range and closefrom over everything from 3;
 *   3. a decoy's pidfd is parked with fcntl(F_DUPFD, N), which no hook sees,
 *      as near the kept number as the kernel allows ("parked=M");
 *   4. kill(A, SIGTERM) must kill A, and nobody else;
 *   5. child B, never signalled before, is killed straight after another
 *      close-all loop;
 *   6. MANY children, more than libkt keeps, each signalled twice over
 *      (kill(pid, 0)); the pidfds held then are listed ("kept_many=a,b,...");
 *      then each is killed with its own signal, after a close-all loop: each
 *      dies of its own signal, and no other.
 *
 * Prints "games=ok" when every kill reached its own child and the decoy
 * lives, else one line per fault and "games=failed".  Same output with and
 * without libkt, but for the "kept", "kept_many" and "parked" lines. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../older_glibc.h"
#include "selfcheck.h"

#define MANY 100

static int bad;

/* The pidfds in /proc/self/fd, "a,b,c" in OUT, lowest first; returns the
 * lowest, or -1 if there is none. */
static int list_pidfds(char *out, size_t n)
{
	char is_pidfd[8192] = { 0 };
	DIR *d = opendir("/proc/self/fd");
	out[0] = '\0';
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dirfd(d) || fd < 0 || fd >= (int)sizeof is_pidfd)
			continue;
		char path[64], target[128];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		ssize_t len = readlink(path, target, sizeof target - 1);
		target[len > 0 ? len : 0] = '\0';
		is_pidfd[fd] = strstr(target, "pidfd") != NULL;
	}
	closedir(d);
	int lowest = -1;
	size_t o = 0;
	for (int fd = 0; fd < (int)sizeof is_pidfd && o < n; fd++) {
		if (!is_pidfd[fd])
			continue;
		if (lowest < 0)
			lowest = fd;
		o += (size_t)snprintf(out + o, n - o, "%s%d", o ? "," : "", fd);
	}
	return lowest;
}

static void close_everything(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	for (int fd = 3; fd < max; fd++)
		close(fd);
#if HAVE_GLIBC_CLOSE_RANGE
	close_range(3, ~0u, 0);
	closefrom(3);
#else
	/* glibc before 2.34 has neither: libkt's, found as a program built
	 * there would find them. */
	int (*range)(unsigned, unsigned, int);
	void (*from)(int);
	*(void **)&range = dlsym(RTLD_DEFAULT, "close_range");
	*(void **)&from = dlsym(RTLD_DEFAULT, "closefrom");
	if (range)
		range(3, ~0u, 0);
	if (from)
		from(3);
#endif
}

/* kill(PID, SIG) must succeed and PID must die of SIG. */
static void kill_expect(const char *what, pid_t pid, int sig)
{
	if (kill(pid, sig) != 0) {
		printf("%s: kill failed: %s\n", what, strerrorname_np(errno));
		bad++;
		return;
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st) || WTERMSIG(st) != sig) {
		printf("%s: status 0x%x, expected death by signal %d\n", what, st, sig);
		bad++;
	}
}

static void expect_alive(const char *what, pid_t pid)
{
	int st;
	if (waitpid(pid, &st, WNOHANG) != 0) {
		printf("%s: %d died, status 0x%x\n", what, (int)pid, st);
		bad++;
	}
}

static const int fatal[] = { SIGTERM, SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE };

int main(int argc, char **argv)
{
	if (argc > 1) {
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = (rlim_t)atol(argv[1]);
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			perror("setrlimit");
			return 2;
		}
	}
	pid_t decoy = pausing_child();
	pid_t a = pausing_child();
	if (kill(a, 0) != 0) {
		printf("first kill of A failed: %s\n", strerrorname_np(errno));
		bad++;
	}
	char list[8192];
	/* The decoy's and A's pidfds, if any, are libkt's: the program has
	 * opened none yet. */
	int kept = list_pidfds(list, sizeof list);
	if (kept >= 0)
		printf("kept=%d\n", kept);
	else
		printf("kept=none\n");

	close_everything();
	int dfd = (int)syscall(SYS_pidfd_open, decoy, 0);
	if (dfd < 0)
		dfd = open("/dev/null", O_RDONLY); /* pidfds refused here: park a file */
	int parked = fcntl(dfd, F_DUPFD, kept >= 0 ? kept : 3);
	printf("parked=%d\n", parked);
	kill_expect("A after close-all and a parked pidfd", a, SIGTERM);
	expect_alive("decoy after A", decoy);
	close(parked);
	close(dfd);

	pid_t b = pausing_child();
	close_everything();
	kill_expect("B straight after close-all", b, SIGUSR1);
	expect_alive("decoy after B", decoy);

	pid_t many[MANY];
	for (int i = 0; i < MANY; i++)
		many[i] = pausing_child();
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < MANY; i++)
			if (kill(many[i], 0) != 0) {
				printf("kill(0) of child %d failed: %s\n", i, strerrorname_np(errno));
				bad++;
			}
	/* What libkt keeps for them (the program holds no pidfd now). */
	list_pidfds(list, sizeof list);
	printf("kept_many=%s\n", list);
	close_everything();
	for (int i = 0; i < MANY; i++) {
		char what[64];
		snprintf(what, sizeof what, "child %d of %d", i, MANY);
		kill_expect(what, many[i], fatal[i % (int)(sizeof fatal / sizeof fatal[0])]);
		int st;
		pid_t other = waitpid(-1, &st, WNOHANG);
		if (other != 0) {
			printf("after child %d: %d died, status 0x%x\n", i, (int)other, st);
			bad++;
		}
	}
	expect_alive("decoy at the end", decoy);
	kill(decoy, SIGKILL);
	waitpid(decoy, NULL, 0);
	printf("games=%s\n", bad ? "failed" : "ok");
	return 0;
}
