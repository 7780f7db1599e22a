/* SPDX-License-Identifier: MIT */
/*
 * scanner — a program that finds a process under /proc and signals it, the
 * way scanners do, through one libc entry point at a time: the cooperating
 * CMD of observe_race (its header says the protocol).
 *
 *   scanner OPEN [SEND [SIG]]
 *   scanner errno
 *   scanner stress
 *
 * OPEN, how the target's /proc entry (/proc/T/stat unless said) is opened
 * (T from KT_OBS_TARGET):
 *   open, open64, openat (AT_FDCWD, absolute path), openat64, __open_2,
 *   __open64_2 (the fortified entry points, called by name), fopen, fopen64
 *   openat_proc     openat(descriptor of /proc, "T/stat"); also __openat_2_proc
 *                   and __openat64_2_proc through the fortified ones
 *   openat_dir      open("/proc/T", O_DIRECTORY), then openat(that, "stat")
 *   cwd             chdir("/proc"), then open("T/stat")
 *   opendir         opendir("/proc/T/fd"), readdir
 *   scan            opendir("/proc"), readdir, openat(dirfd, "N/stat") of every
 *                   process until the one named ktobstarget (T not used)
 *   child           a child of its own instead: fork, open /proc/CHILD/stat,
 *                   reap it, say "freed CHILD" (the kill is then judged by
 *                   the children's rules)
 * SEND: kill (default), sigqueue, killpg, kill_neg (kill(-T)).
 * SIG: a number, or rt for SIGRTMIN+3; default SIGTERM.
 *
 * Prints "seen=PID kill_ret=R kill_errno=E".  "errno" mode instead prints,
 * for each entry point, what it returns and leaves in errno for a path that
 * is missing, one under /proc that is missing, and one that opens (errno
 * set to 1234 before each call): the same with libkt as without.  "stress"
 * mode has four threads and a timer signal's handler look at the live target
 * and kill(T, 0) it over and over, all at once, and prints how many of those
 * kills failed ("stress_failures=N"): observations written and judged
 * concurrently, and from a handler that interrupted one, must never make a
 * live process look gone.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../older_glibc.h"

/* The fortified entry points, called by name as -D_FORTIFY_SOURCE code does. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

enum { CTL_FD = 3, REPLY_FD = 4 };
#define TARGET_NAME "ktobstarget"

static __attribute__((noreturn)) void fail(const char *what)
{
	printf("error=%s:%s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	exit(2);
}

/* Read FD to the end and check it describes PID (a stat line starts with it). */
static void read_check(int fd, pid_t pid)
{
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		fail("read");
	buf[n] = '\0';
	if (atoi(buf) != pid)
		fail("not the target's stat");
	close(fd);
}

static pid_t scan_for_target(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		fail("opendir /proc");
	pid_t found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof path, "%s/stat", e->d_name);
		int fd = openat(dirfd(d), path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (strstr(buf, "(" TARGET_NAME ")"))
				found = atoi(buf);
		}
	}
	closedir(d);
	if (!found)
		fail("no target found");
	return found;
}

/* Look at PID's /proc entry the way OPEN says; returns the PID looked at. */
static pid_t look(const char *open_how, pid_t pid)
{
	char path[64], rel[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	snprintf(rel, sizeof rel, "%d/stat", (int)pid);
	int fd = -1;
	if (strcmp(open_how, "open") == 0) {
		fd = open(path, O_RDONLY);
	} else if (strcmp(open_how, "open64") == 0) {
		fd = open64(path, O_RDONLY);
	} else if (strcmp(open_how, "openat") == 0) {
		fd = openat(AT_FDCWD, path, O_RDONLY);
	} else if (strcmp(open_how, "openat64") == 0) {
		fd = openat64(AT_FDCWD, path, O_RDONLY);
	} else if (strcmp(open_how, "__open_2") == 0) {
		fd = __open_2(path, O_RDONLY);
	} else if (strcmp(open_how, "__open64_2") == 0) {
		fd = __open64_2(path, O_RDONLY);
	} else if (strncmp(open_how, "openat", 6) == 0 || strncmp(open_how, "__openat", 8) == 0) {
		int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (proc < 0)
			fail("open /proc");
		if (strcmp(open_how, "openat_proc") == 0) {
			fd = openat(proc, rel, O_RDONLY);
		} else if (strcmp(open_how, "__openat_2_proc") == 0) {
			fd = __openat_2(proc, rel, O_RDONLY);
		} else if (strcmp(open_how, "__openat64_2_proc") == 0) {
			fd = __openat64_2(proc, rel, O_RDONLY);
		} else if (strcmp(open_how, "openat_dir") == 0) {
			char dir[64];
			snprintf(dir, sizeof dir, "%d", (int)pid);
			int d = openat(proc, dir, O_RDONLY | O_DIRECTORY);
			if (d < 0)
				fail("open /proc/T");
			fd = openat(d, "stat", O_RDONLY);
			close(d);
		} else {
			fail("unknown OPEN");
		}
		close(proc);
	} else if (strcmp(open_how, "cwd") == 0) {
		if (chdir("/proc") < 0)
			fail("chdir /proc");
		fd = open(rel, O_RDONLY);
	} else if (strcmp(open_how, "fopen") == 0 || strcmp(open_how, "fopen64") == 0) {
		FILE *f = open_how[5] ? fopen64(path, "r") : fopen(path, "r");
		if (!f)
			fail("fopen");
		fd = dup(fileno(f));
		fclose(f);
	} else if (strcmp(open_how, "opendir") == 0) {
		char dir[64];
		snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
		DIR *d = opendir(dir);
		if (!d)
			fail("opendir /proc/T/fd");
		int entries = 0;
		while (readdir(d))
			entries++;
		closedir(d);
		if (entries < 3)
			fail("readdir /proc/T/fd");
		return pid;
	} else {
		fail("unknown OPEN");
	}
	if (fd < 0)
		fail(open_how);
	read_check(fd, pid);
	return pid;
}

static void tell(const char *what, pid_t pid)
{
	char line[64], reply[8];
	int n = snprintf(line, sizeof line, "%s %d\n", what, (int)pid);
	if (write(CTL_FD, line, (size_t)n) != n || read(REPLY_FD, reply, sizeof reply) <= 0)
		fail("supervisor");
}

static int send_sig(const char *how, pid_t pid, int sig)
{
	if (strcmp(how, "kill") == 0)
		return kill(pid, sig);
	if (strcmp(how, "sigqueue") == 0)
		return sigqueue(pid, sig, (union sigval){ .sival_int = 7 });
	if (strcmp(how, "killpg") == 0)
		return killpg(pid, sig);
	if (strcmp(how, "kill_neg") == 0)
		return kill(-pid, sig);
	fail("unknown SEND");
	return -1;
}

/* ---- errno mode -------------------------------------------------------------- */

static void show(const char *name, long r)
{
	int e = errno;
	printf("%s=%d,%s ", name, r < 0 ? -1 : 0,
	       e == 1234 ? "kept" : strerrorname_np(e) ? strerrorname_np(e) : "?");
	if (r >= 0)
		close((int)r);
}

#define TRY(name, call)        \
	do {                       \
		errno = 1234;          \
		long r_ = (long)(call); \
		show(name, r_);        \
	} while (0)

static void errno_mode(void)
{
	const char *paths[] = { "/nonexistent/x", "/proc/4194303/stat", "/proc/1/stat" };
	for (int i = 0; i < 3; i++) {
		const char *p = paths[i];
		printf("path%d: ", i);
		TRY("open", open(p, O_RDONLY));
		TRY("open64", open64(p, O_RDONLY));
		TRY("openat", openat(AT_FDCWD, p, O_RDONLY));
		TRY("openat64", openat64(AT_FDCWD, p, O_RDONLY));
		TRY("__open_2", __open_2(p, O_RDONLY));
		TRY("__open64_2", __open64_2(p, O_RDONLY));
		TRY("__openat_2", __openat_2(AT_FDCWD, p, O_RDONLY));
		TRY("__openat64_2", __openat64_2(AT_FDCWD, p, O_RDONLY));
		errno = 1234;
		FILE *f = fopen(p, "r");
		show("fopen", f ? 0 : -1);
		if (f)
			fclose(f);
		errno = 1234;
		f = fopen64(p, "r");
		show("fopen64", f ? 0 : -1);
		if (f)
			fclose(f);
		errno = 1234;
		DIR *d = opendir(p);
		show("opendir", d ? 0 : -1);
		if (d)
			closedir(d);
		printf("\n");
	}
	/* O_CREAT's mode argument reaches the kernel. */
	char tmp[] = "/tmp/kt-scanner-XXXXXX";
	if (!mkdtemp(tmp))
		fail("mkdtemp");
	char file[64];
	snprintf(file, sizeof file, "%s/f", tmp);
	umask(0);
	int fd = open(file, O_CREAT | O_WRONLY | O_EXCL, 0604);
	struct stat st;
	printf("created_mode=%o\n", fd >= 0 && fstat(fd, &st) == 0 ? (unsigned)st.st_mode & 0777 : 0);
	close(fd);
	unlink(file);
	rmdir(tmp);
}

/* ---- stress mode --------------------------------------------------------------- */

static pid_t stress_target;
static _Atomic long stress_failures;

static void look_and_probe(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)stress_target);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		atomic_fetch_add(&stress_failures, 1);
		return;
	}
	close(fd);
	int saved = errno;
	if (kill(stress_target, 0) != 0)
		atomic_fetch_add(&stress_failures, 1);
	errno = saved;
}

static void on_alarm(int sig)
{
	(void)sig;
	look_and_probe();
}

static void *stress_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3000; i++)
		look_and_probe();
	return NULL;
}

static void stress_mode(void)
{
	const char *t = getenv("KT_OBS_TARGET");
	if (!t)
		fail("no KT_OBS_TARGET");
	stress_target = (pid_t)atoi(t);
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	setitimer(ITIMER_REAL, &it, NULL);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, stress_thread, NULL) != 0)
			fail("pthread_create");
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("stress_failures=%ld\n", atomic_load(&stress_failures));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: scanner OPEN [SEND [SIG]] | scanner errno\n");
		return 2;
	}
	if (strcmp(argv[1], "errno") == 0) {
		errno_mode();
		return 0;
	}
	if (strcmp(argv[1], "stress") == 0) {
		stress_mode();
		return 0;
	}
	const char *send = argc > 2 ? argv[2] : "kill";
	int sig = SIGTERM;
	if (argc > 3)
		sig = strcmp(argv[3], "rt") == 0 ? SIGRTMIN + 3 : atoi(argv[3]);
	pid_t pid;
	if (strcmp(argv[1], "child") == 0) {
		pid = fork();
		if (pid < 0)
			fail("fork");
		if (pid == 0)
			_exit(0);
		look("open", pid);
		if (waitpid(pid, NULL, 0) != pid)
			fail("waitpid");
		tell("freed", pid);
	} else {
		const char *t = getenv("KT_OBS_TARGET");
		if (strcmp(argv[1], "scan") == 0)
			pid = scan_for_target();
		else if (t)
			pid = look(argv[1], (pid_t)atoi(t));
		else
			fail("no KT_OBS_TARGET");
		tell("seen", pid);
	}
	errno = 0;
	int r = send_sig(send, pid, sig);
	printf("seen=%d kill_ret=%d kill_errno=%s\n", (int)pid, r,
	       errno ? strerrorname_np(errno) : "0");
	return 0;
}
