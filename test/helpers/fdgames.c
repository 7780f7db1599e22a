/* SPDX-License-Identifier: MIT */
/* fdgames: a program that plays with its fds while it has live children, run
 * by preload_fds with and without libkt.  Everything it prints is a fact the
 * program itself can see, so "identical output" means "libkt is invisible".
 *
 *   fdgames fds N          N live children; the fds in /proc/self/fd, and
 *                          the number the next open() returns
 *   fdgames nofile LIM N   soft RLIMIT_NOFILE=LIM, N live children: how many
 *                          files open() can still open
 *   fdgames games N        N live children; a close-all loop, close_range,
 *                          closefrom, dup2 and dup3 over every number below
 *                          the soft limit; then each child is killed with a
 *                          signal of its own: it must die of that signal
 *                          while every other child lives on
 *   fdgames rawgames N     the same games through syscall(): SYS_close,
 *                          SYS_close_range, SYS_dup2 (where the architecture
 *                          has it) and SYS_dup3
 *   fdgames exec N         N live children, then exec `fdgames list PIDS`
 *   fdgames list PIDS...   what the new image sees: fds, environment,
 *                          libkt's counters and what it knows of PIDS
 *
 * Every run first sets the soft RLIMIT_NOFILE to 1024 (unless told a limit),
 * so the loops over "every number" stay short; libkt reserves its fd region
 * from the limit in force when its first child is born. */
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

#include <kt.h>
#include "../older_glibc.h"

#define MAX_CHILDREN 64

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "fdgames: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void set_nofile(rlim_t soft)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = soft;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit");
}

static int n_children;
static pid_t children[MAX_CHILDREN];

static void spawn_children(int n)
{
	if (n > MAX_CHILDREN)
		n = MAX_CHILDREN;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0)
			die("fork");
		if (p == 0) {
			for (;;)
				pause();
		}
		children[n_children++] = p;
	}
}

static void kill_children(void)
{
	for (int i = 0; i < n_children; i++) {
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
	}
	n_children = 0;
}

/* "0,1,2,..." of /proc/self/fd, without the directory's own fd.  Fds that
 * are pidfds are listed separately in PIDFDS (when not NULL). */
static void list_fds(char *out, size_t n, char *pidfds, size_t pn)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		die("opendir");
	int self = dirfd(d);
	char seen[4096] = { 0 };
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == self || fd < 0 || fd >= (int)sizeof seen)
			continue;
		char path[64], target[128];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		ssize_t len = readlink(path, target, sizeof target - 1);
		target[len > 0 ? len : 0] = '\0';
		seen[fd] = strstr(target, "pidfd") ? 2 : 1;
	}
	closedir(d);
	size_t o = 0, po = 0;
	out[0] = '\0';
	if (pidfds)
		pidfds[0] = '\0';
	for (int fd = 0; fd < (int)sizeof seen; fd++) {
		if (seen[fd] == 2 && pidfds) {
			po += (size_t)snprintf(pidfds + po, pn - po, "%s%d", po ? "," : "", fd);
			if (po >= pn)
				po = pn - 1;
		}
		if (seen[fd] && !(seen[fd] == 2 && pidfds)) {
			o += (size_t)snprintf(out + o, n - o, "%s%d", o ? "," : "", fd);
			if (o >= n)
				o = n - 1;
		}
	}
}

static int cmd_fds(int n)
{
	spawn_children(n);
	char fds[8192], pidfds[8192];
	list_fds(fds, sizeof fds, pidfds, sizeof pidfds);
	int fd = open("/dev/null", O_RDONLY);
	printf("fds=%s\nnext_open=%d\n", fds, fd);
	/* Only the fd-mode test looks at this line. */
	fprintf(stderr, "pidfds=%s\n", pidfds);
	close(fd);
	kill_children();
	list_fds(fds, sizeof fds, pidfds, sizeof pidfds);
	fprintf(stderr, "pidfds_after_reap=%s\n", pidfds);
	return 0;
}

static int cmd_nofile(int n)
{
	spawn_children(n);
	int count = 0;
	while (open("/dev/null", O_RDONLY) >= 0)
		count++;
	printf("opened=%d errno=%s\n", count, strerrorname_np(errno));
	kill_children();
	return 0;
}

/* Signals that kill by default without a core dump. */
static const int fatal[] = { SIGTERM, SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE,
                             SIGVTALRM, SIGPROF, SIGKILL };

/* The fd calls of the games, through libc or (rawgames) through syscall(),
 * as a program that bypasses libc's wrappers makes them. */
static int raw_fd_calls;

static int g_close(int fd)
{
	return raw_fd_calls ? (int)syscall(SYS_close, fd) : close(fd);
}

/* close_range and closefrom through libc: glibc's from 2.34 on.  Before,
 * a program may look them up (as portable ones do): with libkt preloaded it
 * finds libkt's, which must work with no glibc function behind them; without
 * libkt there are none (NULL). */
static int (*libc_close_range)(unsigned, unsigned, int);
static void (*libc_closefrom)(int);

static void find_close_range(void)
{
#if HAVE_GLIBC_CLOSE_RANGE
	libc_close_range = close_range;
	libc_closefrom = closefrom;
#else
	*(void **)&libc_close_range = dlsym(RTLD_DEFAULT, "close_range");
	*(void **)&libc_closefrom = dlsym(RTLD_DEFAULT, "closefrom");
#endif
}

static int g_close_range(unsigned first, unsigned last, int flags)
{
	if (raw_fd_calls)
		return (int)syscall(SYS_close_range, first, last, flags);
	if (libc_close_range)
		return libc_close_range(first, last, flags);
	/* No libkt and a glibc before 2.34: the loop such a program uses. */
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = first; fd <= (long)last && fd < max; fd++)
		close((int)fd);
	return 0;
}

static int g_dup2(int oldfd, int newfd)
{
	if (!raw_fd_calls)
		return dup2(oldfd, newfd);
#ifdef SYS_dup2
	return (int)syscall(SYS_dup2, oldfd, newfd);
#else
	return (int)syscall(SYS_dup3, oldfd, newfd, 0);
#endif
}

static int g_dup3(int oldfd, int newfd, int flags)
{
	return raw_fd_calls ? (int)syscall(SYS_dup3, oldfd, newfd, flags) : dup3(oldfd, newfd, flags);
}

static int cmd_games(int n)
{
	find_close_range();
	spawn_children(n);
	long max = sysconf(_SC_OPEN_MAX);
	int bad = 0;

	/* A close-all loop over every number, then the modern forms. */
	for (int fd = 3; fd < max; fd++)
		g_close(fd);
	if (!raw_fd_calls && !libc_close_range)
		printf("close_range=absent (glibc before 2.34, and no libkt)\n");
	if (g_close_range(3, ~0u, 0) < 0)
		die("close_range");
	if (raw_fd_calls)
		g_close_range(3, ~0u, 0); /* closefrom has no system call of its own */
	else if (libc_closefrom)
		libc_closefrom(3);
	/* dup2 and dup3 over every number: each is then closed again.  The fd
	 * copied is a pidfd of a decoy child, so a kill that went through a
	 * number we dup2'd over would reach the decoy. */
	pid_t decoy = fork();
	if (decoy < 0)
		die("fork");
	if (decoy == 0) {
		for (;;)
			pause();
	}
	int src = (int)syscall(SYS_pidfd_open, decoy, 0);
	if (src < 0)
		src = open("/dev/null", O_RDONLY | O_CLOEXEC); /* pidfds refused here */
	if (src < 0)
		die("open /dev/null");
	for (int fd = 3; fd < max; fd++) {
		if (fd == src)
			continue;
		int r = (fd & 1) ? g_dup2(src, fd) : g_dup3(src, fd, O_CLOEXEC);
		if (r != fd) {
			printf("dup_failed=%d errno=%s\n", fd, strerrorname_np(errno));
			bad++;
			continue;
		}
		g_close(fd);
	}
	/* And close everything again, for good measure, with close_range split
	 * into uneven pieces. */
	for (long a = 3; a < max; a += 97)
		g_close_range((unsigned)a, (unsigned)(a + 96), 0);

	for (int i = 0; i < n_children; i++) {
		int sig = fatal[i % (int)(sizeof fatal / sizeof fatal[0])];
		if (kill(children[i], sig) < 0) {
			printf("kill_failed=%d errno=%s\n", i, strerrorname_np(errno));
			bad++;
			continue;
		}
		int st;
		if (waitpid(children[i], &st, 0) != children[i]) {
			printf("wait_failed=%d\n", i);
			bad++;
			continue;
		}
		if (!WIFSIGNALED(st) || WTERMSIG(st) != sig) {
			printf("child=%d status=0x%x expected_signal=%d\n", i, st, sig);
			bad++;
		}
		/* No other child was touched: all later ones still run. */
		pid_t other = waitpid(-1, &st, WNOHANG);
		if (other != 0) {
			printf("after_child=%d another_died=%d status=0x%x\n", i, (int)other, st);
			bad++;
		}
	}
	n_children = 0;
	int st;
	if (waitpid(decoy, &st, WNOHANG) != 0) {
		printf("decoy_died status=0x%x\n", st);
		bad++;
	}
	kill(decoy, SIGKILL);
	waitpid(decoy, NULL, 0);
	close(src);
	printf("games=%s\n", bad ? "failed" : "ok");
	struct kt_counters c = { 0 };
	int (*counters)(struct kt_counters *, size_t) =
		(int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	if (counters)
		counters(&c, sizeof c);
	char fds[8192], pidfds[8192];
	list_fds(fds, sizeof fds, pidfds, sizeof pidfds);
	fprintf(stderr, "kills_via_pidfd=%llu identity=%u pidfds_left=%s\n",
	        (unsigned long long)c.kills_via_pidfd, c.identity_mode, pidfds);
	return 0;
}

/* N children reaped by the kernel (SIGCHLD ignored): no wait call for
 * libkt to see.  Their held fds (fd mode) must still go, at the latest
 * when a new child needs the room. */
#define AUTOREAP_NEXT 4

static int cmd_autoreap(int n)
{
	signal(SIGCHLD, SIG_IGN);
	pid_t first[MAX_CHILDREN];
	if (n > MAX_CHILDREN)
		n = MAX_CHILDREN;
	for (int i = 0; i < n; i++) {
		first[i] = fork();
		if (first[i] < 0)
			die("fork");
		if (first[i] == 0)
			_exit(0);
	}
	for (int i = 0; i < n; i++)
		while (syscall(SYS_kill, first[i], 0) == 0)
			usleep(1000);
	char fds[8192], pidfds[8192];
	list_fds(fds, sizeof fds, pidfds, sizeof pidfds);
	fprintf(stderr, "held_after_autoreap=%s\n", pidfds);
	/* Four more children, never signalled yet: libkt holds nothing for
	 * them, nor for the dead ones. */
	spawn_children(AUTOREAP_NEXT);
	list_fds(fds, sizeof fds, pidfds, sizeof pidfds);
	fprintf(stderr, "held_after_next_children=%s\n", pidfds);
	int r = 0;
	for (int i = 0; i < n_children; i++)
		if (kill(children[i], SIGTERM) != 0)
			r = -1;
	printf("kill_live=%d\n", r);
	/* SIGCHLD ignored: the kernel reaps them; wait until it has. */
	for (int i = 0; i < n_children; i++)
		while (syscall(SYS_kill, children[i], 0) == 0)
			usleep(1000);
	n_children = 0;
	/* Stale kills of auto-reaped children: refused with libkt whatever the
	 * mode, or plain ESRCH without (nobody holds the PIDs). */
	int stale_ok = 1;
	for (int i = 0; i < n; i++)
		if (kill(first[i], SIGTERM) == 0)
			stale_ok = 0;
	printf("stale_kills_failed=%d\n", stale_ok);
	list_fds(fds, sizeof fds, pidfds, sizeof pidfds);
	fprintf(stderr, "held_at_end=%s\n", pidfds);
	return 0;
}

static int cmd_exec(int n, const char *self)
{
	spawn_children(n);
	char *argv[MAX_CHILDREN + 3];
	char pids[MAX_CHILDREN][16];
	int k = 0;
	argv[k++] = (char *)self;
	argv[k++] = "list";
	for (int i = 0; i < n_children; i++) {
		snprintf(pids[i], sizeof pids[i], "%d", (int)children[i]);
		argv[k++] = pids[i];
	}
	argv[k] = NULL;
	/* The children outlive the exec: the new image is still their parent,
	 * and kills them at the end of `list`. */
	execv(self, argv);
	die("execv");
	return 2;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_list(int argc, char **argv)
{
	char fds[8192];
	list_fds(fds, sizeof fds, NULL, 0);
	printf("fds=%s\n", fds);
	/* The environment, as the new image got it, minus the one variable that
	 * differs between the two runs on purpose. */
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 1, sizeof *env);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[k++] = environ[i];
	qsort(env, k, sizeof *env, by_str);
	for (size_t i = 0; i < k; i++)
		printf("env %s\n", env[i]);
	free(env);
	/* libkt in the new image, if loaded: it must start clean. */
	int (*counters)(struct kt_counters *, size_t) =
		(int (*)(struct kt_counters *, size_t))dlsym(RTLD_DEFAULT, "kt_counters");
	int (*pid_state)(pid_t) = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
	if (counters) {
		struct kt_counters c;
		counters(&c, sizeof c);
		fprintf(stderr, "kt tracked=%llu kills=%llu reaps=%llu\n",
		        (unsigned long long)c.children_tracked,
		        (unsigned long long)c.kills_via_pidfd, (unsigned long long)c.reaps_seen);
	}
	for (int i = 2; i < argc; i++) {
		pid_t p = atoi(argv[i]);
		if (pid_state)
			fprintf(stderr, "kt pid_state %d\n", pid_state(p));
		/* Inherited children are ours to end and reap, tracked or not. */
		if (kill(p, SIGKILL) < 0)
			printf("kill_inherited_failed=%d errno=%s\n", i, strerrorname_np(errno));
		waitpid(p, NULL, 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *cmd = argv[1];
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc, argv);
	if (strcmp(cmd, "nofile") == 0 && argc == 4) {
		set_nofile((rlim_t)atol(argv[2]));
		return cmd_nofile(atoi(argv[3]));
	}
	set_nofile(1024);
	int n = argc > 2 ? atoi(argv[2]) : 40;
	if (strcmp(cmd, "fds") == 0)
		return cmd_fds(n);
	if (strcmp(cmd, "games") == 0)
		return cmd_games(n);
	if (strcmp(cmd, "rawgames") == 0) {
		raw_fd_calls = 1;
		return cmd_games(n);
	}
	if (strcmp(cmd, "autoreap") == 0)
		return cmd_autoreap(n);
	if (strcmp(cmd, "exec") == 0) {
		char self[4096];
		ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
		if (len <= 0)
			die("readlink");
		self[len] = '\0';
		return cmd_exec(n, self);
	}
	return 2;
}
