/* SPDX-License-Identifier: MIT */
/* A stranger on a child's number: the only way to tell, by outcome, whether a
 * signal that names a PID reached the caller's child or whoever holds that
 * number now.  Header-only (static functions) for the preload suites and for
 * the helper programs (test/helpers/parity.c) alike.
 *
 * stranger_in_pidns() runs a function as PID 1 of a private PID namespace,
 * where the caller may pick PIDs: clone3 with set_tid needs CAP_SYS_ADMIN over
 * the namespace, which root has, and an ordinary user has in a namespace made
 * inside a user namespace of its own.  The function inherits everything the
 * caller has, libkt and its table included.
 *
 * Inside it, a placer (a child of the caller, so the strangers it makes are
 * never the caller's children) puts a stranger exactly on a given number: at
 * once (stranger_place, after the caller reaped its child), or at the moment
 * the caller signals its live child (stranger_swap_on_signal: a seccomp
 * filter stops that system call, the placer kills the child, waits until the
 * number is free and puts a stranger on it, then lets the call go on).  The
 * swap is the race libkt closes: a PID that changes hands between the
 * identity check and the send.  stranger_fate() ends the placer and says
 * whether the stranger survived. */
#ifndef KT_TEST_STRANGER_H
#define KT_TEST_STRANGER_H

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* clone3's flag for a child born with every handler reset (Linux 5.5), spelled
 * out for older headers. */
#define STRANGER_CLONE_CLEAR_SIGHAND 0x100000000ULL

/* stranger_in_pidns's result when no PID namespace can be made here. */
#define STRANGER_NO_PIDNS 77
/* Seconds any process of the namespace may live: a broken library under
 * test must fail the test, not hang it. */
#define STRANGER_ALARM 10

static inline int stranger_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Makes the next child of this process PID 1 of a new PID namespace: plainly
 * as root, else inside a new user namespace where we are root (a one-id
 * map; setgroups denied first, as the kernel requires).  0 on success; 1
 * when no namespace can be made here, -1 when the user namespace's id maps
 * could not be written (errno says why in both cases). */
static inline int stranger_unshare_pidns(void)
{
	if (unshare(CLONE_NEWPID) == 0)
		return 0;
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
		return 1;
	char map[64];
	if (stranger_write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		return -1;
	snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
	if (stranger_write_file("/proc/self/uid_map", map) < 0)
		return -1;
	snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
	return stranger_write_file("/proc/self/gid_map", map);
}

/* Puts a /proc of this process's PID namespace over /proc, in a mount
 * namespace of its own (nobody outside sees it): the /proc a program in a
 * container reads, and the only one whose numbers libkt's /proc observer
 * believes.  0, or -1 with errno set. */
static inline int stranger_own_proc(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	return mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

static inline int stranger_exit_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* Runs BODY(ARG) as PID 1 of a private PID namespace and returns its exit
 * code (a death by signal N as 128 + N), STRANGER_NO_PIDNS when no namespace
 * can be made here, -1 when fork fails. */
static inline int stranger_in_pidns(int (*body)(void *), void *arg)
{
	fflush(NULL);
	pid_t outer = fork();
	if (outer < 0)
		return -1;
	if (outer == 0) {
		int made = stranger_unshare_pidns();
		if (made != 0)
			_exit(made > 0 ? STRANGER_NO_PIDNS : 2);
		pid_t init = fork();
		if (init == 0) {
			alarm(STRANGER_ALARM);
			_exit(body(arg));
		}
		int st = 0;
		while (init > 0 && waitpid(init, &st, 0) < 0 && errno == EINTR)
			;
		_exit(init < 0 ? 2 : stranger_exit_code(st));
	}
	int st = 0;
	while (waitpid(outer, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return stranger_exit_code(st);
}

/* The placer, seen from its parent (the program under test). */
struct stranger {
	pid_t placer;
	int to_placer, from_placer;
};

struct stranger_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size;
};

/* The placer kills and waits by system call number: it inherited the
 * caller's libkt tables, whose kill and wait hooks would judge the caller's
 * old child's number (refuse a kill of it, say) instead of just doing it.
 * Whether a number is free is asked with getpgid, which no test holds up
 * (the race tests delay kill itself, in the program under test). */
static inline int stranger_pid_free(pid_t pid)
{
	return syscall(SYS_getpgid, pid) < 0 && errno == ESRCH;
}

/* Puts a child of the placer on PID; returns its pid or -1. */
static inline pid_t stranger_make(pid_t pid)
{
	pid_t tid[1] = { pid };
	struct stranger_clone_args a;
	memset(&a, 0, sizeof a);
	/* A stranger dies of what it is sent: born with no handler (a test
	 * framework's SIGTERM handler, say, inherited from the caller). */
	a.flags = STRANGER_CLONE_CLEAR_SIGHAND;
	a.exit_signal = SIGCHLD;
	a.set_tid = (uint64_t)(uintptr_t)tid;
	a.set_tid_size = 1;
	struct timespec ms = { 0, 1000000 };
	for (int i = 0; i < 2000 && !stranger_pid_free(pid); i++)
		nanosleep(&ms, NULL);
	/* The stranger says when it has its name: a report that reads it a
	 * moment too early would find its creator's, or half of each. */
	int named[2];
	if (pipe2(named, O_CLOEXEC) < 0)
		return -1;
	/* The kernel frees a number a moment after kill() stops finding its
	 * holder: EEXIST for a while is normal. */
	long r = -1;
	for (int tries = 0; tries < 2000; tries++) {
		r = syscall(SYS_clone3, &a, sizeof a);
		if (r >= 0 || errno != EEXIST)
			break;
		nanosleep(&ms, NULL);
	}
	if (r == 0) {
		prctl(PR_SET_NAME, "stranger");
		(void)!write(named[1], "n", 1);
		for (;;)
			pause();
	}
	int saved = errno;
	close(named[1]);
	char c;
	if (r > 0)
		while (read(named[0], &c, 1) < 0 && errno == EINTR)
			;
	close(named[0]);
	errno = saved;
	return (pid_t)r;
}

/* Says how the stranger ended: "killed-SIGNAME" if a signal that is not our
 * SIGKILL ended it, "alive" if it was still there for our SIGKILL. */
static inline void stranger_judge(pid_t t, char *buf, size_t size)
{
	int st = 0;
	pid_t r = (pid_t)syscall(SYS_wait4, t, &st, WNOHANG, NULL);
	if (r == 0) {
		syscall(SYS_kill, t, SIGKILL);
		r = (pid_t)syscall(SYS_wait4, t, &st, 0, NULL);
	}
	if (r != t)
		snprintf(buf, size, "lost");
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		snprintf(buf, size, "alive");
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "killed-SIG%s", sigabbrev_np(WTERMSIG(st)));
	else
		snprintf(buf, size, "other-0x%x", st);
}

/* The placer's loop.  Commands, one byte and a pid: 'p' place a stranger on
 * PID now; 'w' on the next notification of LISTENER, kill PID, put a
 * stranger on its number, let the stopped call go on; 'j' judge and exit.
 * Replies: "ok", "err ERRNO", or for 'j' "fate=F swaps=N". */
static inline void stranger_placer(int in, int out, int listener)
{
	pid_t t = 0, watched = 0;
	int swaps = 0;
	char reply[96];
	/* The stranger must stay ours to wait for, whatever the caller ignores,
	 * and must not inherit a blocked signal. */
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		struct pollfd p[2] = { { .fd = in, .events = POLLIN },
			               { .fd = listener, .events = POLLIN } };
		if (poll(p, listener >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(2);
		}
		if (listener >= 0 && (p[1].revents & POLLIN)) {
			struct seccomp_notif req;
			struct seccomp_notif_resp resp;
			memset(&req, 0, sizeof req);
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
				continue;
			if (watched > 0 && t == 0) {
				syscall(SYS_kill, watched, SIGKILL);
				t = stranger_make(watched);
				swaps++;
			}
			memset(&resp, 0, sizeof resp);
			resp.id = req.id;
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
			continue;
		}
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		char cmd;
		pid_t pid;
		if (read(in, &cmd, 1) != 1 || (cmd != 'j' && read(in, &pid, sizeof pid) != sizeof pid))
			_exit(2);
		int n;
		if (cmd == 'p') {
			t = stranger_make(pid);
			n = t > 0 ? snprintf(reply, sizeof reply, "ok")
			          : snprintf(reply, sizeof reply, "err %s", strerrorname_np(errno));
		} else if (cmd == 'w') {
			watched = pid;
			n = snprintf(reply, sizeof reply, "ok");
		} else {
			char fate[48] = "none";
			if (t > 0)
				stranger_judge(t, fate, sizeof fate);
			n = snprintf(reply, sizeof reply, "fate=%s swaps=%d", fate, swaps);
		}
		if (write(out, reply, (size_t)n + 1) != n + 1 || cmd == 'j')
			_exit(0);
	}
}

/* Starts the placer.  LISTENER: a seccomp notification fd for 'w', or -1. */
static inline int stranger_start(struct stranger *s, int listener)
{
	int to[2], from[2];
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
		return -1;
	s->placer = fork();
	if (s->placer < 0)
		return -1;
	if (s->placer == 0) {
		close(to[1]);
		close(from[0]);
		stranger_placer(to[0], from[1], listener);
	}
	close(to[0]);
	close(from[1]);
	s->to_placer = to[1];
	s->from_placer = from[0];
	return 0;
}

/* Sends one command and reads the NUL-terminated reply into BUF. */
static inline const char *stranger_ask(struct stranger *s, char cmd, pid_t pid, char *buf,
                                       size_t size)
{
	char msg[1 + sizeof pid];
	msg[0] = cmd;
	memcpy(msg + 1, &pid, sizeof pid);
	size_t n = 0;
	if (write(s->to_placer, msg, cmd == 'j' ? 1 : sizeof msg) > 0)
		while (n + 1 < size && read(s->from_placer, buf + n, 1) == 1 && buf[n])
			n++;
	buf[n] = '\0';
	return buf;
}

/* 0 once a stranger (not our child) holds PID, which our child freed. */
static inline int stranger_place(struct stranger *s, pid_t pid)
{
	char buf[64];
	return strcmp(stranger_ask(s, 'p', pid, buf, sizeof buf), "ok") == 0 ? 0 : -1;
}

#if defined(__x86_64__)
#define STRANGER_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define STRANGER_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "add this architecture's AUDIT_ARCH_* here"
#endif

/* The start of every seccomp filter here: a system call of another
 * architecture (another numbering) goes through; then the number is loaded. */
#define STRANGER_FILTER_PROLOGUE                                                        \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),        \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, STRANGER_AUDIT_ARCH, 1, 0),                 \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),                                  \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

/* Installs the LEN-statement FILTER in this thread with seccomp(FLAGS):
 * returns 0 (or the notification fd that SECCOMP_FILTER_FLAG_NEW_LISTENER
 * asks for), -1 with errno on failure.  no_new_privs, set first, lets an
 * ordinary user install a filter; it does not stop root's setresuid. */
static inline int stranger_install_filter(struct sock_filter *filter, size_t len,
                                          unsigned flags)
{
	struct sock_fprog prog = { .len = (unsigned short)len, .filter = filter };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* Installs, in this thread, a seccomp filter that stops every kill,
 * rt_sigqueueinfo and pidfd_send_signal of signal SIG, and starts the placer
 * on its notifications: the next such call finds CHILD gone and a stranger
 * on its number.  0, or -1 (errno) where seccomp notifications are refused. */
static inline int stranger_swap_on_signal(struct stranger *s, pid_t child, int sig)
{
	struct sock_filter filter[] = {
		STRANGER_FILTER_PROLOGUE,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kill, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigqueueinfo, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_send_signal, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* The signal is the second argument of all three. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)sig, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	int listener = stranger_install_filter(filter, sizeof filter / sizeof filter[0],
	                                       SECCOMP_FILTER_FLAG_NEW_LISTENER);
	if (listener < 0)
		return -1;
	int r = stranger_start(s, listener);
	close(listener);
	char buf[64];
	if (r == 0 && strcmp(stranger_ask(s, 'w', child, buf, sizeof buf), "ok") != 0)
		r = -1;
	return r;
}

/* Ends the placer; FATE gets "fate=F swaps=N" (F: alive, killed-SIGNAME,
 * none when no stranger was ever placed). */
static inline const char *stranger_fate(struct stranger *s, char *fate, size_t size)
{
	stranger_ask(s, 'j', 0, fate, size);
	close(s->to_placer);
	close(s->from_placer);
	while (waitpid(s->placer, NULL, 0) < 0 && errno == EINTR)
		;
	return fate;
}

#endif
