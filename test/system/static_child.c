/* SPDX-License-Identifier: MIT */
/* static_child — a statically linked program for check-system: the loader
 * never runs for it, so /etc/ld.so.preload cannot reach it.  It shows that it
 * works unchanged on a machine where every dynamic program has libkt: it
 * forks, kills and reaps a child with plain libc, and says whether anything
 * named libkt is in its memory (it must not be). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	int libkt = 0;
	char line[4096];
	FILE *maps = fopen("/proc/self/maps", "re");
	if (!maps) {
		perror("static_child: /proc/self/maps");
		return 2;
	}
	while (fgets(line, sizeof line, maps))
		if (strstr(line, "libkt"))
			libkt = 1;
	fclose(maps);

	pid_t pid = fork();
	if (pid < 0) {
		perror("static_child: fork");
		return 2;
	}
	if (pid == 0) {
		pause();
		_exit(0);
	}
	int st;
	if (kill(pid, SIGTERM) < 0 || waitpid(pid, &st, 0) != pid) {
		perror("static_child: kill/waitpid");
		return 2;
	}
	printf("libkt %s, child %s\n", libkt ? "mapped" : "absent",
	       WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? "killed by SIGTERM" : "not killed");
	return 0;
}
