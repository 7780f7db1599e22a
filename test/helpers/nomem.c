/* SPDX-License-Identifier: MIT */
/* nomem: children forked when no address space is left for libkt's PID
 * table (RLIMIT_AS at the current size): the child goes untracked and
 * counted, and the program notices nothing.  Prints what the program sees
 * on stdout, libkt's side (if loaded) on stderr. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kt.h>

static unsigned long vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long kb = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int (*pid_state)(pid_t) = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
	int (*counters)(struct kt_counters *, size_t) =
		(int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	struct rlimit rl = { vm_size(), RLIM_INFINITY };
	if (setrlimit(RLIMIT_AS, &rl) < 0)
		return 2;
	/* Proof that nothing more can be mapped. */
	void *probe = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap_refused=%d\n", probe == MAP_FAILED);
	for (int i = 0; i < 3; i++) {
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			printf("fork failed: %s\n", strerror(errno));
			return 1;
		}
		if (pid_state)
			fprintf(stderr, "kt_state=%d\n", pid_state(p));
		errno = 1234;
		int r = kill(p, SIGKILL);
		int kept = errno == 1234;
		printf("kill=%d errno_kept=%d\n", r, kept);
		int st = 0;
		int w = waitpid(p, &st, 0) == p;
		printf("waitpid=%d signaled=%d\n", w, WIFSIGNALED(st));
		errno = 0;
		r = kill(p, SIGTERM);
		int e = errno;
		/* Nobody holds the number (the stranger tests are elsewhere):
		 * ESRCH from the kernel, or from libkt if it tracked the child. */
		printf("stale_kill=%d errno=%d\n", r, e);
	}
	if (counters) {
		struct kt_counters c;
		counters(&c, sizeof c);
		fprintf(stderr, "fallbacks=%llu tracked=%llu\n", (unsigned long long)c.fallbacks,
		        (unsigned long long)c.children_tracked);
	}
	return 0;
}
