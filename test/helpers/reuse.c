/* SPDX-License-Identifier: MIT */
/*
 * reuse — a deterministic PID-reuse scenario: a stranger (a child of another
 * process) placed on a freed PID in a private PID namespace (docs/testing.md).
 *
 *   reuse --creation=C --reap=R [--send=S] [--from=F] [--place=P] [--ids]
 *   reuse [--place=P] -- CMD [ARG...]
 *
 *   C  fork, _Fork, vfork, vfork_exec (vfork, then exec /bin/true, as shells
 *      and CPython do), clone, posix_spawn, posix_spawnp, pidfd_spawn,
 *      syscall_clone, syscall_clone_pidfd, syscall_clone3, syscall_fork
 *      (through syscall()),
 *      pidfd_spawnp (glibc >= 2.39, or test/helpers/libfake_glibc239.so)
 *   R  wait, waitpid, waitpid_any, wait3, wait4, waitid_pid, waitid_all,
 *      waitid_pidfd, sigchld (waitpid(-1, WNOHANG) in a SIGCHLD handler),
 *      thread (waitpid in another pthread), sigign (SIGCHLD ignored: the kernel
 *      reaps)
 *   S  how the stale signal is sent: kill (default), sigqueue, killpg,
 *      kill_neg (kill(-pgid)); for the two group forms the child and the
 *      stranger each lead a process group named by their PID
 *   F  where it is sent from: main (default), or handler (a SIGUSR1 handler,
 *      as coreutils timeout kills from SIGALRM)
 *   P  auto (default: clone3 set_tid, else ns_last_pid), clone3, ns_last_pid
 *   --ids  the result line also gives the pidfs inodes of the child (taken
 *      before its reap) and of the stranger: child_ino=N stranger_ino=N (0
 *      where there is none to take), what a report's PID:INODE must say
 *
 * Three processes take part, in a private PID namespace:
 *
 *   outer       this program as started.  Creates the PID namespace and prints
 *               one result line on stdout.
 *   supervisor  pid 1 of the namespace.  Starts the program under test and, once
 *               the program says a PID is free, puts a "stranger" (a child of the
 *               supervisor, never of the program) exactly on that PID.
 *   program     the program under test.  Creates a child by creation path C,
 *               reaps it by reap path R, reports the freed PID, waits for "ready",
 *               then calls kill(pid, SIGTERM) through the ordinary libc symbol.
 *               In the second form the program is CMD instead (a shell, say),
 *               which speaks the same protocol on fds 3 and 4 (see below).
 *
 * Only the program gets libkt: if LD_PRELOAD is set when the outer process
 * starts, the outer re-executes itself without it (passing the value on as
 * --preload=), so namespace setup, the supervisor and the stranger run plain and
 * the only hooked process is the one under test.
 *
 * Protocol (text lines): program -> supervisor on fd REUSE_CTL_FD (3 in CMD
 * mode): "freed PID", later "result KEY=VALUE...".  Supervisor -> program on
 * REUSE_REPLY_FD (4 in CMD mode): "ready" once the stranger holds PID.
 *
 * Output, on success (exit 0), one line:
 *   creation=C reap=R send=S from=F pid=N kt_born=K kt_state=K kill_ret=R
 *     kill_errno=E stranger=alive|killed|other-STATUS
 * (in CMD mode: creation=cmd reap=cmd, then whatever the command reported
 * after "result", then stranger=).  kill_ret/kill_errno are those of the send,
 * whichever it was; kill_errno=0 after a success proves errno was left alone.
 * kt_born/kt_state are libkt's kt_pid_state() just after creation and just after
 * the reap ("none" when libkt is not loaded); stranger=killed means it died of
 * the program's SIGTERM, alive that it was still there to be SIGKILLed by us.
 *
 * Exit 77 with a message when no PID namespace can be made here; another
 * non-zero status with a message on stderr for any other setup failure.  Every
 * role arms alarm() so no failure can hang the caller.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kt.h"
#include "../older_glibc.h"
#include "selfcheck.h"

#include "../stranger.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

enum {
	EXIT_SETUP = 2,    /* the scenario could not be set up */
	EXIT_NO_PIDNS = 77 /* no PID namespace possible here: the test skips */
};

/* Seconds before each role gives up.  Nested so the inner role fails first and
 * the outer one can still report it; all well under the tests' own timeouts. */
enum { ALARM_OUTER = 10, ALARM_SUPERVISOR = 8, ALARM_PROGRAM = 6, ALARM_STRANGER = 9 };

/* Fixed descriptor numbers for CMD mode, so a shell can say >&3 and <&4. */
enum { CMD_CTL_FD = 3, CMD_REPLY_FD = 4 };

extern char **environ;

struct opts {
	const char *role;     /* NULL (outer) or "program" */
	const char *creation; /* fork, _Fork, vfork, vfork_exec, clone, posix_spawn(p) */
	const char *reap;     /* see reap_child() */
	const char *place;    /* auto, clone3, ns_last_pid */
	const char *send;     /* kill, sigqueue, killpg, kill_neg */
	const char *from;     /* main, handler */
	const char *preload;  /* LD_PRELOAD for the program, or NULL */
	int ids;              /* --ids */
	char **cmd;           /* CMD mode: the program's argv */
};

static const char *role_name = "reuse";

static void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "reuse (%s): ", role_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(code);
}

/* pid 1 of a namespace ignores every signal it has no handler for, SIGALRM from
 * its own alarm() included, so each role installs this handler. */
static void on_alarm(int sig)
{
	static const char msg[] = "reuse: timed out\n";
	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0) {
		/* nothing left to do */
	}
	_exit(EXIT_SETUP);
}

static void arm_alarm(unsigned seconds)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static int env_fd(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		die(EXIT_SETUP, "%s is not set", name);
	return atoi(v);
}

/* ------------------------------------------------------------------ program -- */

/* Set for the group send paths: the child leads a process group of its own, so
 * its PID is also a process-group ID that a killpg can name. */
static int child_leads_group;

static void child_body(void)
{
	if (child_leads_group)
		setpgid(0, 0);
	_exit(0);
}

static int clone_child(void *arg)
{
	(void)arg;
	child_body();
	return 0;
}

/* clone3's argument block, spelled out here because older <linux/sched.h> lack
 * set_tid (5.5) and including it next to <sched.h> clashes. */
struct reuse_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
		tls, set_tid, set_tid_size;
};

static pid_t create_child(const char *how)
{
	pid_t pid = -1;
	if (strcmp(how, "fork") == 0) {
		pid = fork();
		if (pid == 0)
			child_body();
	} else if (strcmp(how, "_Fork") == 0) {
		/* Through dlsym, as a program built against an older glibc header
		 * would; RTLD_DEFAULT still finds libkt's hook first. */
		pid_t (*real_Fork)(void) = (pid_t (*)(void))dlsym(RTLD_DEFAULT, "_Fork");
		if (!real_Fork)
			die(EXIT_SETUP, "_Fork not found");
		pid = real_Fork();
		if (pid == 0)
			child_body();
	} else if (strcmp(how, "vfork") == 0) {
		pid = vfork();
		if (pid == 0)
			child_body(); /* setpgid and _exit only: both fine in a vfork child */
	} else if (strcmp(how, "vfork_exec") == 0) {
		static char *const argv[] = { "true", NULL };
		pid = vfork();
		if (pid == 0) {
			if (child_leads_group)
				setpgid(0, 0);
			execve("/bin/true", argv, environ);
			_exit(127);
		}
	} else if (strcmp(how, "clone") == 0) {
		/* A process-creating clone (no CLONE_VM sharing of threads). */
		static char stack[64 * 1024] __attribute__((aligned(16)));
		pid = clone(clone_child, stack + sizeof stack, SIGCHLD, NULL);
	} else if (strncmp(how, "syscall_", 8) == 0) {
		/* The raw system calls through glibc's syscall(), fork-like (no new
		 * stack): libkt's syscall hook must register these too. */
		long r = -1;
		int pidfd = -1;
		if (strcmp(how + 8, "clone") == 0) {
			r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		} else if (strcmp(how + 8, "clone_pidfd") == 0) {
			/* The caller's own CLONE_PIDFD: libkt takes the identity from
			 * it and must leave the fd alone. */
			r = syscall(SYS_clone, SIGCHLD | CLONE_PIDFD, 0, &pidfd, 0, 0);
		} else if (strcmp(how + 8, "clone3") == 0) {
			struct reuse_clone_args a;
			memset(&a, 0, sizeof a);
			a.exit_signal = SIGCHLD;
			r = syscall(SYS_clone3, &a, (size_t)64);
#ifdef SYS_fork
		} else if (strcmp(how + 8, "fork") == 0) {
			r = syscall(SYS_fork);
#endif
		} else {
			die(EXIT_SETUP, "unknown creation path '%s'", how);
		}
		if (r == 0)
			child_body();
		if (r > 0 && pidfd >= 0 && close(pidfd) < 0)
			die(EXIT_SETUP, "close(pidfd): %s", strerror(errno));
		pid = (pid_t)r;
	} else if (strcmp(how, "pidfd_spawn") == 0 || strcmp(how, "pidfd_spawnp") == 0) {
		/* By version, as a program linked against glibc >= 2.39 binds. */
		typedef int (*pidfd_spawn_fn)(int *, const char *, const posix_spawn_file_actions_t *,
		                              const posix_spawnattr_t *, char *const[], char *const[]);
		pidfd_spawn_fn sp = (pidfd_spawn_fn)dlvsym(RTLD_DEFAULT, how, "GLIBC_2.39");
		pid_t (*getpid_of)(int) = (pid_t (*)(int))dlvsym(RTLD_DEFAULT, "pidfd_getpid",
		                                                  "GLIBC_2.39");
		if (!sp || !getpid_of)
			die(EXIT_SETUP, "%s@GLIBC_2.39 or pidfd_getpid not found", how);
		char *argv[] = { "true", NULL };
		int fd = -1;
		int err = how[11] == 'p' ? sp(&fd, "true", NULL, NULL, argv, environ)
		                         : sp(&fd, "/bin/true", NULL, NULL, argv, environ);
		if (err) {
			errno = err;
			pid = -1;
		} else {
			/* Fails (ESRCH) once the child is reaped: not with --reap=sigign. */
			pid = getpid_of(fd);
			/* Ours to close; libkt must not have touched it. */
			if (close(fd) < 0)
				die(EXIT_SETUP, "close(pidfd): %s", strerror(errno));
		}
	} else if (strcmp(how, "posix_spawn") == 0 || strcmp(how, "posix_spawnp") == 0) {
		char *argv[] = { "true", NULL };
		posix_spawnattr_t attr;
		posix_spawnattr_init(&attr);
		if (child_leads_group) {
			posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
			posix_spawnattr_setpgroup(&attr, 0);
		}
		int err = how[11] == 'p'
			? posix_spawnp(&pid, "true", NULL, &attr, argv, environ)
			: posix_spawn(&pid, "/bin/true", NULL, &attr, argv, environ);
		posix_spawnattr_destroy(&attr);
		if (err) {
			errno = err;
			pid = -1;
		}
	} else {
		die(EXIT_SETUP, "unknown creation path '%s'", how);
	}
	if (pid < 0)
		die(EXIT_SETUP, "%s: %s", how, strerror(errno));
	/* From the parent too, the usual way to leave no window; it may fail
	 * harmlessly if the child got there (or exec'd) first. */
	if (child_leads_group)
		setpgid(pid, pid);
	return pid;
}

static volatile sig_atomic_t handler_reaped; /* pid reaped in the SIGCHLD handler */

static void reap_in_handler(int sig)
{
	/* The bash pattern: drain every finished child, WNOHANG, in the handler. */
	int saved = errno, st;
	pid_t p;
	(void)sig;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		handler_reaped = p;
	errno = saved;
}

static void *reap_in_thread(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	return (void *)(intptr_t)(r == pid ? 0 : -1);
}

/* Before the child exists: set up what the reap path needs to see its exit. */
static void prepare_reap(const char *how, sigset_t *old_mask)
{
	if (strcmp(how, "sigchld") == 0) {
		struct sigaction sa = { .sa_handler = reap_in_handler };
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		sigaction(SIGCHLD, &sa, NULL);
		/* Blocked until we sigsuspend, so the exit cannot be missed. */
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_BLOCK, &chld, old_mask);
	} else if (strcmp(how, "sigign") == 0) {
		/* The kernel reaps by itself: no wait call for libkt to see. */
		signal(SIGCHLD, SIG_IGN);
	}
}

/* Pid really released?  Raw syscalls: libkt's own kill hook must not answer. */
static int pid_is_free(pid_t pid)
{
	return syscall(SYS_kill, pid, 0) < 0 && errno == ESRCH;
}

static void check_status(const char *how, int st)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die(EXIT_SETUP, "reap %s: child status 0x%x, expected exit 0", how, st);
}

static void reap_child(const char *how, pid_t pid, const sigset_t *old_mask)
{
	int st = 0;
	pid_t r = -1;
	siginfo_t si;
	struct rusage ru;

	if (strcmp(how, "wait") == 0) {
		r = wait(&st);
	} else if (strcmp(how, "waitpid") == 0) {
		r = waitpid(pid, &st, 0);
	} else if (strcmp(how, "waitpid_any") == 0) {
		r = waitpid(-1, &st, 0);
	} else if (strcmp(how, "wait3") == 0) {
		r = wait3(&st, 0, &ru);
	} else if (strcmp(how, "wait4") == 0) {
		r = wait4(pid, &st, 0, &ru);
	} else if (strcmp(how, "waitid_pid") == 0 || strcmp(how, "waitid_all") == 0 ||
	           strcmp(how, "waitid_pidfd") == 0) {
		memset(&si, 0, sizeof si);
		int rc;
		if (strcmp(how, "waitid_pidfd") == 0) {
			/* Our own pidfd, by raw syscall so libkt is not involved in it. */
			int fd = (int)syscall(SYS_pidfd_open, pid, 0);
			if (fd < 0)
				die(EXIT_SETUP, "pidfd_open: %s", strerror(errno));
			rc = waitid(P_PIDFD, (id_t)fd, &si, WEXITED);
			close(fd);
		} else if (strcmp(how, "waitid_pid") == 0) {
			rc = waitid(P_PID, (id_t)pid, &si, WEXITED);
		} else {
			rc = waitid(P_ALL, 0, &si, WEXITED);
		}
		if (rc == 0) {
			r = si.si_pid;
			if (si.si_code != CLD_EXITED || si.si_status != 0)
				die(EXIT_SETUP, "reap %s: si_code %d si_status %d", how,
				    si.si_code, si.si_status);
		}
		st = 0;
	} else if (strcmp(how, "sigchld") == 0) {
		while (handler_reaped != pid)
			sigsuspend(old_mask);
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		r = pid;
	} else if (strcmp(how, "thread") == 0) {
		pthread_t t;
		void *ret;
		int err = pthread_create(&t, NULL, reap_in_thread, &pid);
		if (err)
			die(EXIT_SETUP, "pthread_create: %s", strerror(err));
		pthread_join(t, &ret);
		r = ret == NULL ? pid : -1;
	} else if (strcmp(how, "sigign") == 0) {
		struct timespec ms = { 0, 1000000 };
		while (!pid_is_free(pid))
			nanosleep(&ms, NULL);
		r = pid;
	} else {
		die(EXIT_SETUP, "unknown reap path '%s'", how);
	}
	if (r != pid)
		die(EXIT_SETUP, "reap %s: got %d (%s), expected %d", how, (int)r,
		    r < 0 ? strerror(errno) : "another pid", (int)pid);
	if (strcmp(how, "sigchld") != 0)
		check_status(how, st);
	if (!pid_is_free(pid))
		die(EXIT_SETUP, "reap %s: pid %d still in use after the reap", how, (int)pid);
}

/* The send under test, through the ordinary libc symbols so libkt's hooks
 * (if loaded) see it.  Returns the call's result; errno as it left it. */
static int send_signal(const char *how, pid_t pid)
{
	if (strcmp(how, "kill") == 0)
		return kill(pid, SIGTERM);
	if (strcmp(how, "sigqueue") == 0)
		return sigqueue(pid, SIGTERM, (union sigval){ .sival_int = 1 });
	if (strcmp(how, "killpg") == 0)
		return killpg(pid, SIGTERM);
	if (strcmp(how, "kill_neg") == 0)
		return kill(-pid, SIGTERM);
	die(EXIT_SETUP, "unknown send path '%s'", how);
	return -1;
}

/* For --from=handler: the send runs inside a SIGUSR1 handler, where libkt may
 * use only async-signal-safe means: raw system calls and lock-free atomics,
 * no malloc, stdio, locks or dlsym. */
static const char *handler_send;
static pid_t handler_pid;
static volatile sig_atomic_t handler_ret, handler_errno;

static void send_in_handler(int sig)
{
	int saved = errno;
	(void)sig;
	errno = 0;
	handler_ret = send_signal(handler_send, handler_pid);
	handler_errno = errno;
	errno = saved;
}

static int send_from(const char *from, const char *how, pid_t pid, int *err)
{
	if (strcmp(from, "main") == 0) {
		errno = 0;
		int ret = send_signal(how, pid);
		*err = errno;
		return ret;
	}
	if (strcmp(from, "handler") != 0)
		die(EXIT_SETUP, "unknown --from '%s'", from);
	struct sigaction sa = { .sa_handler = send_in_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	handler_send = how;
	handler_pid = pid;
	handler_errno = -1;
	/* raise() delivers to this thread before it returns. */
	raise(SIGUSR1);
	if (handler_errno == -1)
		die(EXIT_SETUP, "SIGUSR1 handler did not run");
	*err = handler_errno;
	return handler_ret;
}

static int program_role(const struct opts *o)
{
	role_name = "program";
	arm_alarm(ALARM_PROGRAM);
	int ctl = env_fd("REUSE_CTL_FD"), reply = env_fd("REUSE_REPLY_FD");
	sigset_t old_mask;
	sigprocmask(SIG_SETMASK, NULL, &old_mask);

	child_leads_group = strcmp(o->send, "killpg") == 0 || strcmp(o->send, "kill_neg") == 0;
	prepare_reap(o->reap, &old_mask);
	pid_t pid = create_child(o->creation);
	const char *born = kt_state_word(pid, "none");
	char ids[64] = "";
	if (o->ids)
		snprintf(ids, sizeof ids, " child_ino=%llu", pidfs_inode(pid));
	reap_child(o->reap, pid, &old_mask);
	const char *state = kt_state_word(pid, "none");

	dprintf(ctl, "freed %d\n", (int)pid);
	char line[64];
	if (read_line(reply, line, sizeof line) < 0 || strcmp(line, "ready") != 0)
		die(EXIT_SETUP, "supervisor did not say ready");

	/* The call under test: an ordinary kill() (or sigqueue, killpg) of the
	 * number we were given. */
	int err;
	int ret = send_from(o->from, o->send, pid, &err);
	const char *ename = err ? strerrorname_np(err) : "0";

	dprintf(ctl, "result pid=%d kt_born=%s kt_state=%s kill_ret=%d kill_errno=%s%s\n",
	        (int)pid, born, state, ret, ename ? ename : "?", ids);
	return 0;
}

/* --------------------------------------------------------------- supervisor -- */

static void stranger_body(void)
{
	/* A raw clone3 child: glibc's per-thread state is stale here, so only raw
	 * syscalls.  Dies of whatever signal it gets; the alarm is a backstop, the
	 * namespace's pid 1 exiting kills it anyway. */
	alarm(ALARM_STRANGER);
	/* So a libkt report naming the PID's new holder says what it is. */
	prctl(PR_SET_NAME, "stranger");
	for (;;)
		pause();
}

static pid_t place_with_clone3(pid_t want)
{
	pid_t tid[1] = { want };
	struct reuse_clone_args a;
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.set_tid = (uint64_t)(uintptr_t)tid;
	a.set_tid_size = 1; /* only the innermost namespace: ours */
	/* EEXIST for a while after the number looked free: the kernel (6.12+)
	 * unhashes a released task, so kill() says ESRCH, before it frees the
	 * number itself, outside tasklist_lock.  Seen under ASan's slower
	 * start-up, about one run in fifteen. */
	long r;
	for (int tries = 0;; tries++) {
		r = syscall(SYS_clone3, &a, sizeof a);
		if (r >= 0 || errno != EEXIST || tries == 1000)
			break;
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	if (r == 0)
		stranger_body();
	return (pid_t)r;
}

/* Set once the supervisor has its own /proc (see mount_private_proc). */
static int private_proc;

/* A /proc of the new PID namespace, as `unshare --mount-proc` gives: the
 * program then sees its namespace's processes under /proc (a libkt report can
 * name who holds a PID now) and ns_last_pid belongs to our namespace.  Mounted
 * in a mount namespace of our own so nobody outside sees it.  Best effort: the
 * reuse scenario itself does not need it unless ns_last_pid placement is used. */
static void mount_private_proc(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return;
	private_proc = 1;
}

static pid_t place_with_ns_last_pid(pid_t want)
{
	if (!private_proc)
		die(EXIT_SETUP, "no /proc of the new PID namespace for ns_last_pid");
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_SETUP, "open ns_last_pid: %s", strerror(errno));
	/* Nothing else forks in the namespace now: the program is blocked waiting
	 * for "ready", so the next PID handed out is want. */
	if (dprintf(fd, "%d", (int)(want - 1)) < 0)
		die(EXIT_SETUP, "write ns_last_pid: %s", strerror(errno));
	close(fd);
	pid_t pid = fork();
	if (pid == 0)
		stranger_body();
	return pid;
}

static pid_t place_stranger(pid_t want, const char *how)
{
	pid_t got = -1;
	if (strcmp(how, "auto") == 0 || strcmp(how, "clone3") == 0) {
		got = place_with_clone3(want);
		if (got < 0 && strcmp(how, "clone3") == 0)
			die(EXIT_SETUP, "clone3(set_tid=%d): %s", (int)want, strerror(errno));
	}
	if (got < 0 && (strcmp(how, "auto") == 0 || strcmp(how, "ns_last_pid") == 0))
		got = place_with_ns_last_pid(want);
	if (got < 0)
		die(EXIT_SETUP, "cannot place a stranger on %d: %s", (int)want, strerror(errno));
	if (got != want) {
		kill(got, SIGKILL);
		die(EXIT_SETUP, "stranger landed on %d, not %d", (int)got, (int)want);
	}
	/* Its own process group, named by the reused number, so the group send
	 * paths (killpg, kill(-pgid)) have a stranger group to hit too.  Done here,
	 * before "ready", so there is no window. */
	if (setpgid(got, got) < 0)
		die(EXIT_SETUP, "setpgid stranger: %s", strerror(errno));
	return got;
}

/* Moves FD to number TO (neither may be 0-2), clearing close-on-exec. */
static void move_fd(int fd, int to)
{
	if (fd == to) {
		fcntl(fd, F_SETFD, 0);
		return;
	}
	if (dup2(fd, to) < 0)
		die(EXIT_SETUP, "dup2: %s", strerror(errno));
	close(fd);
}

static pid_t start_program(const struct opts *o, const char *exe, int ctl_w, int reply_r)
{
	pid_t pid = fork();
	if (pid < 0)
		die(EXIT_SETUP, "fork program: %s", strerror(errno));
	if (pid > 0)
		return pid;

	role_name = "program-exec";
	/* Both to high numbers first so moving one cannot clobber the other. */
	int c = fcntl(ctl_w, F_DUPFD_CLOEXEC, 64), r = fcntl(reply_r, F_DUPFD_CLOEXEC, 64);
	if (c < 0 || r < 0)
		die(EXIT_SETUP, "dup: %s", strerror(errno));
	close(ctl_w);
	close(reply_r);
	move_fd(c, CMD_CTL_FD);
	move_fd(r, CMD_REPLY_FD);
	setenv("REUSE_CTL_FD", "3", 1);
	setenv("REUSE_REPLY_FD", "4", 1);
	if (o->preload)
		setenv("LD_PRELOAD", o->preload, 1);
	/* Timers survive execve: the program, whatever it is, cannot hang us. */
	alarm(ALARM_PROGRAM);
	if (o->cmd) {
		execvp(o->cmd[0], o->cmd);
		die(127, "exec %s: %s", o->cmd[0], strerror(errno));
	}
	char creation[64], reap[64], send[64], from[64];
	snprintf(creation, sizeof creation, "--creation=%s", o->creation);
	snprintf(reap, sizeof reap, "--reap=%s", o->reap);
	snprintf(send, sizeof send, "--send=%s", o->send);
	snprintf(from, sizeof from, "--from=%s", o->from);
	char *argv[] = { (char *)exe, "--role=program", creation, reap, send, from,
		         o->ids ? "--ids" : NULL, NULL };
	execv(exe, argv);
	die(127, "exec %s: %s", exe, strerror(errno));
	return -1;
}

/* Reaps PID, waiting at most until our alarm; returns its wait status. */
static int reap_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die(EXIT_SETUP, "waitpid %d: %s", (int)pid, strerror(errno));
	return st;
}

static int supervisor_role(const struct opts *o, const char *exe, int result_fd)
{
	role_name = "supervisor";
	/* If the outer process dies, take the whole namespace down with us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	arm_alarm(ALARM_SUPERVISOR);
	mount_private_proc();

	int ctl[2], reply[2];
	if (pipe2(ctl, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC) < 0)
		die(EXIT_SETUP, "pipe: %s", strerror(errno));
	pid_t prog = start_program(o, exe, ctl[1], reply[0]);
	close(ctl[1]);
	close(reply[0]);

	char line[512];
	int freed = 0;
	if (read_line(ctl[0], line, sizeof line) < 0 || sscanf(line, "freed %d", &freed) != 1 ||
	    freed <= 1) {
		int st = reap_status(prog);
		die(EXIT_SETUP, "program gave no freed pid (status 0x%x)", st);
	}

	pid_t stranger = place_stranger(freed, o->place);
	char ids[64] = "";
	if (o->ids)
		snprintf(ids, sizeof ids, " stranger_ino=%llu", pidfs_inode(stranger));
	if (write(reply[1], "ready\n", 6) != 6)
		die(EXIT_SETUP, "write ready: %s", strerror(errno));

	if (read_line(ctl[0], line, sizeof line) < 0 || strncmp(line, "result ", 7) != 0) {
		kill(stranger, SIGKILL);
		int st = reap_status(prog);
		die(EXIT_SETUP, "program gave no result (status 0x%x)", st);
	}

	/* A default-action fatal signal fixes the exit code when it is sent, so if
	 * the program's SIGTERM reached the stranger, our SIGKILL below changes
	 * nothing and the status still says SIGTERM. */
	int st;
	pid_t r = waitpid(stranger, &st, WNOHANG);
	/* That holds only for an untraced process.  Under `strace -f` (the race
	 * test) the stranger is traced, and a fatal signal first stops it for
	 * the tracer; our SIGKILL could overtake it.  So when the program says
	 * its kill went out, give the stranger a moment to die of it. */
	for (int i = 0; r == 0 && strstr(line, "kill_ret=0 ") && i < 2000; i++) {
		usleep(1000);
		r = waitpid(stranger, &st, WNOHANG);
	}
	if (r == 0) {
		kill(stranger, SIGKILL);
		st = reap_status(stranger);
	} else if (r < 0) {
		die(EXIT_SETUP, "waitpid stranger: %s", strerror(errno));
	}
	char fate[64];
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
		snprintf(fate, sizeof fate, "killed");
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		snprintf(fate, sizeof fate, "alive");
	else
		snprintf(fate, sizeof fate, "other-0x%x", st);

	int pst = reap_status(prog);
	if (!WIFEXITED(pst) || WEXITSTATUS(pst) != 0)
		die(EXIT_SETUP, "program ended with status 0x%x after: %s", pst, line + 7);
	dprintf(result_fd, "%s stranger=%s%s\n", line + 7, fate, ids);
	return 0;
}

/* -------------------------------------------------------------------- outer -- */

/* New PID namespace for our next child (see stranger_unshare_pidns). */
static void enter_pid_namespace(void)
{
	int made = stranger_unshare_pidns();
	if (made > 0)
		die(EXIT_NO_PIDNS, "no PID namespace possible: unshare(CLONE_NEWPID), and with "
		    "CLONE_NEWUSER: %s", strerror(errno));
	if (made < 0)
		die(EXIT_SETUP, "user namespace setgroups or id maps: %s", strerror(errno));
}

static int outer_role(const struct opts *o)
{
	role_name = "outer";
	arm_alarm(ALARM_OUTER);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		die(EXIT_SETUP, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';

	enter_pid_namespace();
	int res[2];
	if (pipe2(res, O_CLOEXEC) < 0)
		die(EXIT_SETUP, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t sup = fork();
	if (sup < 0)
		die(EXIT_SETUP, "fork supervisor: %s", strerror(errno));
	if (sup == 0) {
		close(res[0]);
		_exit(supervisor_role(o, exe, res[1]));
	}
	close(res[1]);
	char line[1024];
	int got = read_line(res[0], line, sizeof line);
	int st = reap_status(sup);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || got < 0)
		die(WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : EXIT_SETUP,
		    "supervisor failed (status 0x%x)", st);
	if (o->cmd)
		printf("creation=%s reap=%s %s\n", o->creation, o->reap, line);
	else
		printf("creation=%s reap=%s send=%s from=%s %s\n", o->creation, o->reap,
		       o->send, o->from, line);
	return 0;
}

static void usage(void)
{
	die(EXIT_SETUP, "usage: reuse --creation=C --reap=R [--send=S] [--from=F] [--place=P] [--ids]\n"
	    "       reuse [--place=P] -- CMD [ARG...]");
}

int main(int argc, char **argv)
{
	struct opts o = { .place = "auto", .send = "kill", .from = "main" };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			if (i + 1 >= argc)
				usage();
			o.cmd = &argv[i + 1];
			break;
		} else if (strncmp(a, "--role=", 7) == 0) {
			o.role = a + 7;
		} else if (strncmp(a, "--creation=", 11) == 0) {
			o.creation = a + 11;
		} else if (strncmp(a, "--reap=", 7) == 0) {
			o.reap = a + 7;
		} else if (strncmp(a, "--send=", 7) == 0) {
			o.send = a + 7;
		} else if (strncmp(a, "--from=", 7) == 0) {
			o.from = a + 7;
		} else if (strncmp(a, "--place=", 8) == 0) {
			o.place = a + 8;
		} else if (strncmp(a, "--preload=", 10) == 0) {
			o.preload = a + 10;
		} else if (strcmp(a, "--ids") == 0) {
			o.ids = 1;
		} else {
			usage();
		}
	}
	if (o.cmd) {
		o.creation = o.creation ? o.creation : "cmd";
		o.reap = o.reap ? o.reap : "cmd";
	}
	if (!o.creation || !o.reap)
		usage();
	if (o.role && strcmp(o.role, "program") == 0)
		return program_role(&o);
	if (o.role)
		usage();

	/* Started with libkt preloaded: start over without it, handing the value
	 * down to the program role only. */
	const char *pre = getenv("LD_PRELOAD");
	if (pre && *pre && !o.preload) {
		char **nargv = calloc((size_t)argc + 2, sizeof *nargv);
		char *arg = malloc(strlen(pre) + 11);
		if (!nargv || !arg)
			die(EXIT_SETUP, "out of memory");
		sprintf(arg, "--preload=%s", pre);
		nargv[0] = argv[0];
		nargv[1] = arg;
		for (int i = 1; i < argc; i++)
			nargv[i + 1] = argv[i];
		unsetenv("LD_PRELOAD");
		/* By its real path, not /proc/self/exe, so our processes keep their
		 * name ("reuse", not "exe") in ps and in libkt's reports. */
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			die(EXIT_SETUP, "readlink /proc/self/exe: %s", strerror(errno));
		self[n] = '\0';
		execv(self, nargv);
		die(EXIT_SETUP, "re-exec without LD_PRELOAD: %s", strerror(errno));
	}
	return outer_role(&o);
}
