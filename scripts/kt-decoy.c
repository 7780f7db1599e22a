/* SPDX-License-Identifier: MIT */
/*
 * kt-decoy — the reuse provoker behind `kt-run --provoke-reuse`.
 *
 *   kt-decoy [--preload=LD_PRELOAD_VALUE] [--] COMMAND [ARG...]
 *
 * Runs COMMAND in a private PID namespace and, every time a process of it
 * reaps a child, immediately puts a decoy process on the freed PID.  A stale
 * kill() that follows then always meets a stranger, where an ordinary run
 * almost always meets nobody: a PID-reuse bug that is latent in ordinary
 * runs shows up every time.
 *
 * Three processes:
 *
 *   outer       this program as kt-run exec'd it, with the PID the caller
 *               knows.  Creates the namespaces, passes on signals sent to it,
 *               and ends exactly as COMMAND ended: same exit code, or killed
 *               by the same signal.
 *   supervisor  pid 1 of the new PID namespace.  Mounts a /proc of that
 *               namespace (so libkt's reports can name who holds a PID),
 *               starts COMMAND, and serves the provoke socket: each message
 *               is a reaped PID, answered with one byte ('y' a decoy holds it
 *               now, 'n' it could not be placed) once clone3(set_tid) has put
 *               a decoy there.
 *   decoys      children of the supervisor, never of COMMAND, named
 *               "kt-decoy" (libkt's reports mark a holder with that name as
 *               a decoy).  They pause until killed; the newest
 *               KT_DECOY_MAX are kept, older ones are retired so a
 *               spawn-heavy program cannot fill the PID space with them.
 *
 * libkt in COMMAND (and in every process of it that inherits the socket and
 * LD_PRELOAD) finds the socket through KT_PROVOKE_FD; see shim/provoke.c for
 * its side of the protocol.
 *
 * As root only a PID and a mount namespace are needed.  An ordinary user gets
 * them inside a new user namespace that maps the user's own uid and gid to
 * themselves (COMMAND sees its usual ids, not root); where the system forbids
 * unprivileged user namespaces, kt-decoy says so and exits 125.
 *
 * When COMMAND exits, whatever it left running in the namespace is killed with
 * it (the namespace ends with its pid 1).
 *
 * Exit status: COMMAND's; 125 if the namespace could not be set up; 126/127
 * if COMMAND could not be executed / found.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define DECOY_COMM "kt-decoy"
#define EXIT_SETUP 125
/* Decoys kept alive at once; the oldest is retired past this. */
#define KT_DECOY_MAX 128

/* Signals passed on to COMMAND when sent to us by a process (kill, timeout,
 * a service manager).  Terminal-generated ones already reach COMMAND, which
 * shares our process group, and are not passed on twice. */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                 SIGALRM, SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU };
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

static const char *prog = "kt-run";
/* The signal mask we were started with: COMMAND gets it back. */
static sigset_t orig_mask;

static void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: --provoke-reuse: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(code);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void explain_userns(void)
{
	static const char *const knobs[] = {
		"/proc/sys/user/max_user_namespaces",
		"/proc/sys/kernel/unprivileged_userns_clone",
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
	};
	fprintf(stderr, "%s: --provoke-reuse needs a private PID namespace: run as root, or allow "
	        "unprivileged user namespaces:\n", prog);
	for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
		char v[32] = "";
		int fd = open(knobs[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, v, sizeof v - 1);
		close(fd);
		if (n > 0) {
			v[n] = '\0';
			v[strcspn(v, "\n")] = '\0';
			fprintf(stderr, "%s:   %s = %s\n", prog, knobs[i], v);
		}
	}
	fprintf(stderr, "%s: (max_user_namespaces must be > 0, unprivileged_userns_clone 1 and "
	        "apparmor_restrict_unprivileged_userns 0 where they exist; a seccomp "
	        "filter may also forbid unshare)\n", prog);
}

/* The next child we fork is pid 1 of a new PID namespace. */
static void enter_namespaces(void)
{
	if (unshare(CLONE_NEWPID) == 0)
		return;
	int first = errno;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0) {
		int e = errno;
		explain_userns();
		die(EXIT_SETUP, "unshare(CLONE_NEWPID): %s; unshare(CLONE_NEWUSER|CLONE_NEWPID): %s",
		    strerror(first), strerror(e));
	}
	/* Our own ids, mapped to themselves: the one mapping an unprivileged
	 * process may write, and COMMAND keeps seeing who it runs as.  Writing
	 * gid_map needs setgroups denied first. */
	char map[64];
	if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		die(EXIT_SETUP, "setgroups deny: %s", strerror(errno));
	snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		die(EXIT_SETUP, "uid_map: %s", strerror(errno));
	snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		die(EXIT_SETUP, "gid_map: %s", strerror(errno));
}

/* ------------------------------------------------------------- supervisor -- */

struct clone_args_v2 { /* clone3's block up to set_tid (5.5), spelled out */
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size;
};

static pid_t decoys[KT_DECOY_MAX];
static unsigned n_decoys_made;

static void decoy_life(void)
{
	/* A raw clone3 child: glibc's view of this process is stale, so raw
	 * system calls only.  Our signals were blocked for the signalfd; a decoy
	 * must die of a stray signal like any process would. */
	uint64_t none = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
	syscall(SYS_close_range, 3, ~0U, 0);
	syscall(SYS_prctl, PR_SET_NAME, DECOY_COMM, 0, 0, 0);
	for (;;)
		syscall(SYS_pause);
}

/* Put a decoy on PID; 1 if it is there now. */
static int place_decoy(pid_t pid)
{
	if (pid <= 1)
		return 0;
	pid_t tid[1] = { pid };
	struct clone_args_v2 a;
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.set_tid = (uint64_t)(uintptr_t)tid;
	a.set_tid_size = 1; /* the innermost namespace only: ours */
	long r = syscall(SYS_clone3, &a, sizeof a);
	if (r == 0)
		decoy_life();
	if (r < 0)
		return 0; /* EEXIST: something else took it first */
	/* Keep the newest KT_DECOY_MAX; retire the one this slot held. */
	pid_t *slot = &decoys[n_decoys_made++ % KT_DECOY_MAX];
	if (*slot > 0)
		kill(*slot, SIGKILL); /* reaped with everything else below */
	*slot = (pid_t)r;
	return 1;
}

static void forget_decoy(pid_t pid)
{
	for (int i = 0; i < KT_DECOY_MAX; i++)
		if (decoys[i] == pid)
			decoys[i] = 0;
}

/* A /proc of the new namespace in a mount namespace of our own, as
 * `unshare --mount-proc` does.  Without it libkt's reports cannot say who
 * holds a PID; the provoking itself still works. */
static void mount_private_proc(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fprintf(stderr, "%s: --provoke-reuse: warning: no /proc of the new PID namespace "
		        "(%s): reports cannot name the process that holds a PID\n",
		        prog, strerror(errno));
}

/* The program's end of the socket: high, out of the way of its own open()s,
 * and inherited across exec (every process of COMMAND reports its reaps). */
static int high_fd(int fd)
{
	struct rlimit rl;
	long want = 1000;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur - 24 < want)
		want = (long)rl.rlim_cur - 24;
	if (want <= fd)
		return fd;
	int high = fcntl(fd, F_DUPFD, (int)want);
	if (high < 0)
		return fd;
	close(fd);
	return high;
}

static pid_t start_command(char **cmd, const char *preload, int sock)
{
	pid_t pid = fork();
	if (pid < 0)
		die(EXIT_SETUP, "fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
	prctl(PR_SET_PDEATHSIG, 0);
	/* FD:INODE, so libkt can tell our socket from whatever later takes the
	 * number in a process that closed it. */
	struct stat st;
	char num[48];
	if (fstat(sock, &st) < 0)
		die(EXIT_SETUP, "fstat: %s", strerror(errno));
	snprintf(num, sizeof num, "%d:%llu", sock, (unsigned long long)st.st_ino);
	setenv("KT_PROVOKE_FD", num, 1);
	if (preload && *preload)
		setenv("LD_PRELOAD", preload, 1);
	execvp(cmd[0], cmd);
	int e = errno;
	fprintf(stderr, "%s: %s: %s\n", prog, cmd[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

static int supervisor(char **cmd, const char *preload, int result_fd)
{
	/* If the outer process dies, take the namespace down with us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, DECOY_COMM, 0, 0, 0); /* decoys inherit it from birth */
	mount_private_proc();

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die(EXIT_SETUP, "socketpair: %s", strerror(errno));
	int theirs = high_fd(sv[1]);
	fcntl(theirs, F_SETFD, 0); /* not close-on-exec: see high_fd */

	/* pid 1 gets no default action for signals; take them all as data. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&mask, forwarded[i]);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		die(EXIT_SETUP, "signalfd: %s", strerror(errno));

	pid_t child = start_command(cmd, preload, theirs);
	close(theirs);

	int status = 0, done = 0;
	while (!done) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
			               { .fd = sv[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_SETUP, "poll: %s", strerror(errno));
		}
		if (p[1].revents & POLLIN) {
			char msg[32];
			ssize_t n = recv(sv[0], msg, sizeof msg - 1, MSG_DONTWAIT);
			if (n > 0) {
				msg[n] = '\0';
				char ack = place_decoy((pid_t)atoi(msg)) ? 'y' : 'n';
				(void)!send(sv[0], &ack, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			}
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) != sizeof si)
				continue;
			if (si.ssi_signo != SIGCHLD) {
				/* Terminal signals reached COMMAND already. */
				if (si.ssi_code != SI_KERNEL)
					kill(child, (int)si.ssi_signo);
				continue;
			}
			/* Reap everything: COMMAND, retired decoys, decoys a stale
			 * kill hit, and orphans the namespace hands to pid 1. */
			int st;
			pid_t r;
			while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
				if (r == child) {
					status = st;
					done = 1;
				} else {
					forget_decoy(r);
				}
			}
		}
	}
	dprintf(result_fd, "%d\n", status);
	return 0;
}

/* ------------------------------------------------------------------ outer -- */

static volatile pid_t supervisor_pid;

static void pass_on(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	/* From a process (kill(1), timeout, systemd): pass it on.  From the
	 * terminal: COMMAND, in our process group, got it already. */
	if (si->si_code != SI_KERNEL && supervisor_pid > 0)
		kill(supervisor_pid, sig);
	errno = saved;
}

/* End the way COMMAND ended, so `$?` and a parent's wait status are its. */
static void end_like(int status)
{
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		/* No core file of ours in the user's directory. */
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);
		signal(sig, SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, sig);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		raise(sig);
		exit(128 + sig); /* a signal that does not kill (SIGCHLD...) */
	}
	exit(EXIT_SETUP);
}

int main(int argc, char **argv)
{
	const char *preload = NULL;
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strncmp(argv[i], "--preload=", 10) == 0)
			preload = argv[i] + 10;
		else if (strncmp(argv[i], "--name=", 7) == 0)
			prog = argv[i] + 7;
		else if (argv[i][0] == '-')
			die(2, "kt-decoy: unknown option %s", argv[i]);
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: kt-decoy [--preload=VALUE] [--name=NAME] [--] COMMAND [ARG...]\n");
		return 2;
	}
	char **cmd = &argv[i];

	enter_namespaces();
	int res[2];
	if (pipe2(res, O_CLOEXEC) < 0)
		die(EXIT_SETUP, "pipe: %s", strerror(errno));

	/* Install the forwarders before the fork, with the signals blocked until
	 * supervisor_pid is known, so none sent in between is lost. */
	sigset_t mask, old;
	sigemptyset(&mask);
	for (size_t k = 0; k < N_FORWARDED; k++)
		sigaddset(&mask, forwarded[k]);
	sigprocmask(SIG_BLOCK, &mask, &old);
	orig_mask = old;
	fflush(NULL);
	pid_t sup = fork();
	if (sup < 0)
		die(EXIT_SETUP, "fork: %s", strerror(errno));
	if (sup == 0) {
		close(res[0]);
		_exit(supervisor(cmd, preload, res[1]));
	}
	close(res[1]);
	supervisor_pid = sup;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = pass_on;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < N_FORWARDED; k++)
		if (forwarded[k] != SIGTSTP && forwarded[k] != SIGTTIN && forwarded[k] != SIGTTOU &&
		    forwarded[k] != SIGCONT)
			sigaction(forwarded[k], &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	char line[32] = "";
	size_t n = 0;
	for (;;) {
		ssize_t r = read(res[0], line + n, sizeof line - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	line[n] = '\0';
	int st;
	while (waitpid(sup, &st, 0) < 0 && errno == EINTR)
		;
	if (n == 0)
		die(EXIT_SETUP, "the supervisor ended without COMMAND's status (wait status 0x%x)", st);
	end_like(atoi(line));
	return EXIT_SETUP;
}
