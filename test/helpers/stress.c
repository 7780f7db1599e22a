/* SPDX-License-Identifier: MIT */
/* stress [SECONDS] [THREADS]: children created, signalled and reaped from
 * every direction at once, for a bounded time, inside a private PID
 * namespace (so a stale kill, if one ever got through, could only hit the
 * sentinels below, never the machine's processes).
 *
 *   worker threads  fork, vfork+exec, posix_spawn children; kill each with a
 *                   signal of its own, or leave the kill to the timer; reap
 *                   it with waitpid(pid), or leave the reap to the handler
 *   SIGCHLD handler reaps whatever has died (waitid WNOWAIT to look, then
 *                   waitpid(pid, WNOHANG)), the way shells do
 *   ITIMER_REAL     its handler sends the pending kills, and "stale" SIGTERMs
 *                   to the PIDs of children already reaped
 *   sentinels       a separate process keeps short-lived processes of its
 *                   own coming and going; a stale kill that got through
 *                   would kill one (they die of SIGTERM, while the program
 *                   and so its children ignore SIGTERM)
 *
 * Checks: every kill of a live child returns 0; every child dies of exactly
 * the signal it was sent; no sentinel ever dies of a signal; no fd is left
 * behind.  Prints "stress=ok children=N ..." or the failures.  Exit 77: no
 * PID namespace here. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PID_SLOTS (1u << 22)
#define MAX_THREADS 8

enum { R_FREE = 0, R_LIVE, R_TIMER, R_KILLED, R_REAPED };

/* One word per PID, written whole, so that a reaper's verdict reads the
 * state and the signal of one and the same child: state in bits 0-7, the
 * signal in 8-15, "tracked" in bit 16, and in 32-63 a generation that each
 * new child at the PID increments (two children in a row at one PID may
 * well have the same state and signal).  tracked: libkt registered it
 * (kt_pid_state): stale kills go only to those.  A creation path libkt does
 * not hook yet (vfork before its trampoline) leaves its children as
 * unprotected as plain libc does. */
struct rec {
	_Atomic uint64_t word;
};
#define W_STATE(w) ((int)((w) & 0xff))
#define W_SIG(w) ((int)(((w) >> 8) & 0xff))
#define W_TRACKED(w) ((int)(((w) >> 16) & 1))
#define W_GEN(w) ((uint32_t)((w) >> 32))
#define W_MAKE(gen, sig, tracked, state) \
	(((uint64_t)(gen) << 32) | ((uint64_t)((tracked) != 0) << 16) | \
	 ((uint64_t)(sig) << 8) | (uint64_t)(state))
#define W_WITH_STATE(w, state) (((w) & ~(uint64_t)0xff) | (uint64_t)(state))
static int (*kt_pid_state_fn)(pid_t);

static struct rec *recs;
static _Atomic int failures, children, stale_sent, stale_refused, timer_kills;
static _Atomic int stop;
static char self_exe[4096];
static char fail_log[4096];
static _Atomic size_t fail_len;

/* Fatal by default in the children (the program handles SIGALRM and
 * SIGCHLD, and a forked child inherits those handlers). */
/* Kills left to the timer, and numbers of reaped children for stale
 * kills: small rings the handler can scan quickly. */
#define RING 64
static _Atomic pid_t timer_ring[RING];
static _Atomic pid_t reaped_ring[RING];
static _Atomic unsigned reaped_next;

static const int sigs[] = { SIGKILL, SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGQUIT, SIGPIPE };

/* The process the handlers below belong to.  Under ThreadSanitizer a signal
 * that reaches a thread inside an intercepted call is only queued (in the
 * thread's runtime state) and its handler runs when the call returns.  If
 * that call is fork, the queue is copied into the child, and the child runs
 * the parent's handler on its copy of the parent's memory: it would send the
 * timer's pending kills (the parent's record still says R_TIMER there, so
 * the kill goes out twice, once from a process that is not ours to judge)
 * and reap nothing.  perf showed exactly that: a fresh fork child, before it
 * reached child_body, sending SIGHUP to a sibling whose record said R_TIMER
 * ("died-unsent").  Had the parent's own timer kill come after the reap, it
 * would have been refused as stale, rightly ("timer-kill ... ESRCH").
 * Without TSan a child never runs a handler for a signal sent to its parent
 * (fork does not copy pending signals).  A handler that finds itself in
 * another process does nothing. */
static pid_t program_pid;

static int in_program(void)
{
	return (pid_t)syscall(SYS_getpid) == program_pid;
}

/* ThreadSanitizer's runtime (gcc 12's libtsan here) also, now and then,
 * returns from an intercepted call (waitid, fork, posix_spawn were seen)
 * with every signal left blocked in the calling thread, for good; it does so
 * without libkt too, and neither libkt nor this program blocks a signal.
 * (It blocks them all while it runs the handlers it queued; presumably a
 * nested run, from a handler's own intercepted call, saves that full mask
 * as the one to restore.)  A worker waiting in waitid with signals
 * unblocked does not help either: TSan only queues what reaches it there.
 * Once no thread runs the timer's handler, its pending kills are never sent
 * and a worker waits in waitid forever: the hangs.  So the threads put their
 * mask back to the one the program starts with (empty) at every turn.  A
 * no-op without TSan. */
static void unblock_signals(void)
{
#if defined(__SANITIZE_THREAD__)
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
#endif
}

/* Async-signal-safe failure note. */
static void fail(const char *what, int pid, int a, int b)
{
	atomic_fetch_add(&failures, 1);
	char line[160];
	int n = snprintf(line, sizeof line, "FAIL %s pid=%d %d %d\n", what, pid, a, b);
	size_t at = atomic_fetch_add(&fail_len, (size_t)n);
	if (at + (size_t)n < sizeof fail_log)
		memcpy(fail_log + at, line, (size_t)n);
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Is the death SI still waiting to be reaped?  Two reapers (the SIGCHLD
 * handler and a worker) can both look at one death with WNOWAIT; if the
 * other one judges and reaps it first and a new child takes the number
 * (the sentinels steer PIDs onto low numbers), the look is stale and must
 * not be judged against the new child's record.  TSan delays signal
 * handlers, which widens that window. */
static int still_waiting(const siginfo_t *si)
{
	siginfo_t now;
	memset(&now, 0, sizeof now);
	if (waitid(P_PID, (id_t)si->si_pid, &now, WEXITED | WNOHANG | WNOWAIT) < 0)
		return 0;
	return now.si_pid == si->si_pid && now.si_code == si->si_code &&
	       now.si_status == si->si_status;
}

/* A death seen by a reaper, judged before the reap (WNOWAIT), while the
 * PID cannot be anybody else's yet: once per child, by the one reaper that
 * wins the record, and that reaper alone then reaps it (reap below).
 * Returns J_STALE if the look was stale (see still_waiting) or the record
 * changed under us (look again), J_MINE if we judged it (the caller must
 * reap it), J_THEIRS if another reaper judged it (and reaps it).
 *
 * Both halves matter.  The stress test failed, rarely and only under TSan
 * (about 1 run in 70), with "wrong-death" for children that had died of
 * exactly their own signal: the verdict set one child's death against the
 * record of the next child at the same PID.  A reaper looked at child A's
 * death (still_waiting: yes), then stalled (a handler under TSan runs its
 * intercepted calls slowly, and may run other queued handlers at their
 * end); meanwhile another reaper judged and reaped A, a worker forked B at
 * the PID (the sentinels steer PIDs there), recorded, killed it, and B
 * died; the stalled reaper then read B's record, won it, and judged A's
 * death by B's signal.  perf (signal_generate, with the window widened by a
 * sleep) showed every kill going to the process it was meant for; the same
 * stale look also gave "died-unsent" when B's record still said R_TIMER,
 * and left B unjudged.  The same could happen between winning a record and
 * reading its signal, since the loser used to reap at once.  Now the word
 * is read before still_waiting and the verdict is a CAS on that very word
 * (state, signal and generation), and no reaper reaps a death it did not
 * judge, so the PID cannot change hands between the look and the verdict. */
enum { J_STALE, J_MINE, J_THEIRS };
static int judge(const siginfo_t *si)
{
	pid_t pid = si->si_pid;
	int status = si->si_code == CLD_EXITED ? (si->si_status & 0xff) << 8
	                                       : (si->si_status & 0x7f);
	struct rec *r = &recs[pid];
	uint64_t w = atomic_load(&r->word);
	if (!still_waiting(si))
		return J_STALE;
	/* The zombie is still at PID, and the record unchanged since before
	 * we looked (checked by the CAS) is its own: its child was recorded
	 * before being killed, so before dying. */
	int st = W_STATE(w);
	if (st == R_REAPED)
		return J_THEIRS;
	if (!atomic_compare_exchange_strong(&r->word, &w, W_WITH_STATE(w, R_REAPED)))
		return J_STALE;
	if (st != R_KILLED) {
		fail("died-unsent", pid, st, status);
		return J_MINE;
	}
	atomic_store(&reaped_ring[atomic_fetch_add(&reaped_next, 1) % RING], pid);
	int sig = W_SIG(w);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != sig)
		fail("wrong-death", pid, status, sig);
	return J_MINE;
}

/* Reap a death we judged: nobody else may, so it is there to be reaped. */
static void reap(pid_t pid)
{
	int st;
	pid_t w = waitpid(pid, &st, WNOHANG);
	if (w != pid)
		fail("reap", pid, w, w < 0 ? errno : 0);
}

static void on_sigchld(int s)
{
	(void)s;
	int saved = errno;
	if (!in_program()) {
		errno = saved;
		return;
	}
	/* Bounded: a handler must end even if stale looks kept coming. */
	for (int looks = 0; looks < 256; looks++) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
			break;
		int j = judge(&si);
		if (j == J_STALE)
			continue; /* another reaper took that one: look again */
		if (j == J_THEIRS)
			break; /* being reaped by another; the next look would be it again */
		reap(si.si_pid);
	}
	errno = saved;
}

static _Atomic unsigned timer_seed = 1;

static void on_timer(int s)
{
	(void)s;
	int saved = errno;
	if (!in_program()) {
		errno = saved;
		return;
	}
	unsigned seed = atomic_fetch_add(&timer_seed, 2654435761u);
	/* The pending kills. */
	for (unsigned i = 0; i < RING; i++) {
		pid_t p = atomic_exchange(&timer_ring[i], 0);
		if (p <= 0)
			continue;
		uint64_t w = atomic_load(&recs[p].word);
		if (W_STATE(w) == R_TIMER &&
		    atomic_compare_exchange_strong(&recs[p].word, &w, W_WITH_STATE(w, R_KILLED))) {
			if (kill(p, W_SIG(w)) != 0)
				fail("timer-kill", p, errno, 0);
			atomic_fetch_add(&timer_kills, 1);
		}
	}
	/* A stale kill of some reaped child's number. */
	pid_t p = atomic_load(&reaped_ring[rnd(&seed) % RING]);
	uint64_t w = p > 0 ? atomic_load(&recs[p].word) : 0;
	if (p > 0 && W_STATE(w) == R_REAPED && W_TRACKED(w)) {
		atomic_fetch_add(&stale_sent, 1);
		if (kill(p, SIGTERM) < 0)
			atomic_fetch_add(&stale_refused, 1);
	}
	errno = saved;
}

/* A child waits for its signal.  With an empty mask: under TSan a fork
 * returns with every signal blocked in the child, and exec keeps masks. */
static void child_body(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;)
		pause();
}

static pid_t create(unsigned *seed)
{
	char *argv[] = { self_exe, "--child", NULL };
	pid_t p = -1;
	switch (rnd(seed) % 3) {
	case 0:
		p = fork();
		if (p == 0)
			child_body();
		break;
	case 1:
#if defined(__SANITIZE_THREAD__)
		/* Under ThreadSanitizer, vfork resolves to libkt's trampoline
		 * (preloaded ahead of TSan's runtime), so TSan never learns of it,
		 * and the child's execv interceptor would run on the parent's TSan
		 * state in the shared memory.  TSan's own vfork is a fork for that
		 * reason; so is this one.  The plain stress run covers the
		 * trampoline. */
		p = fork();
#else
		p = vfork();
#endif
		if (p == 0) {
			execv(self_exe, argv);
			_exit(127);
		}
		break;
	default: {
		int e = posix_spawn(&p, self_exe, NULL, NULL, argv, NULL);
		if (e) {
			errno = e;
			p = -1;
		}
	}
	}
	return p;
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 17u;
	while (!atomic_load(&stop)) {
		unblock_signals();
		pid_t p = create(&seed);
		if (p < 0) {
			if (errno == EAGAIN || errno == ENOMEM) {
				usleep(1000);
				continue;
			}
			fail("create", 0, errno, 0);
			break;
		}
		atomic_fetch_add(&children, 1);
		struct rec *r = &recs[p];
		int sig = sigs[rnd(&seed) % (sizeof sigs / sizeof sigs[0])];
		uint64_t old = atomic_load(&r->word);
		if (W_STATE(old) != R_FREE && W_STATE(old) != R_REAPED)
			fail("pid-busy", p, W_STATE(old), 0);
		int tracked = !kt_pid_state_fn || kt_pid_state_fn(p) != 0;
		int by_timer = rnd(&seed) % 4 == 0;
		int reap_self = rnd(&seed) % 2;
		uint64_t w = W_MAKE(W_GEN(old) + 1, sig, tracked, by_timer ? R_TIMER : R_KILLED);
		atomic_store(&r->word, w);
		if (by_timer) {
			int queued = 0;
			for (unsigned i = 0; i < RING && !queued; i++) {
				pid_t none = 0;
				queued = atomic_compare_exchange_strong(&timer_ring[i], &none, p);
			}
			if (!queued &&
			    atomic_compare_exchange_strong(&r->word, &w, W_WITH_STATE(w, R_KILLED)) &&
			    kill(p, sig) != 0)
				fail("kill", p, errno, sig);
		} else {
			if (kill(p, sig) != 0)
				fail("kill", p, errno, sig);
		}
		while (reap_self) {
			unblock_signals(); /* create() may have left it all blocked */
			siginfo_t si;
			int wr;
			memset(&si, 0, sizeof si);
			while ((wr = waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT)) < 0 &&
			       errno == EINTR)
				;
			if (wr < 0) {
				/* ECHILD: the handler reaped (and judged) it first. */
				if (errno != ECHILD)
					fail("waitid", p, errno, 0);
				break;
			}
			int j = judge(&si);
			if (j == J_MINE)
				reap(p);
			if (j != J_STALE)
				break;
		}
	}
	return NULL;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1;
}

/* A process of its own (not the program's child: a grandchild whose parent
 * exits at once) keeping short-lived sentinels around; writes to FD how
 * many died of a signal. */
static void sentinels(int seconds, int fd)
{
	signal(SIGTERM, SIG_DFL);
	time_t end = time(NULL) + seconds + 1;
	int killed = 0;
	/* Root in the namespace: steer the next PID onto low numbers, where
	 * the program's reaped children were, so PIDs are reused within
	 * milliseconds instead of after a wrap of pid_max. */
	int last = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	unsigned seed = 99;
	while (time(NULL) < end) {
		if (last >= 0) {
			char v[16];
			int n = snprintf(v, sizeof v, "%u", 20 + rnd(&seed) % 400);
			(void)!pwrite(last, v, (size_t)n, 0);
		}
		pid_t p = fork();
		if (p == 0) {
			struct timespec t = { 0, 2000000 };
			nanosleep(&t, NULL);
			_exit(0);
		}
		int st;
		if (p > 0 && waitpid(p, &st, 0) == p && WIFSIGNALED(st))
			killed++;
	}
	dprintf(fd, "%d\n", killed);
	_exit(0);
}

static int program(int seconds, int threads)
{
	recs = mmap(NULL, PID_SLOTS * sizeof *recs, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (recs == MAP_FAILED)
		return 2;
	/* Children inherit the ignore, across exec too: a stale SIGTERM that
	 * reached one of our own later children would be harmless, and only a
	 * sentinel can show a stale kill getting through. */
	signal(SIGTERM, SIG_IGN);
	int sp[2];
	if (pipe(sp) < 0)
		return 2;
	pid_t mid = fork();
	if (mid == 0) {
		close(sp[0]);
		if (fork() == 0)
			sentinels(seconds, sp[1]);
		_exit(0);
	}
	close(sp[1]);
	waitpid(mid, NULL, 0);
	int fds_before = count_fds();
	program_pid = (pid_t)syscall(SYS_getpid);

	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	struct sigaction ta = { .sa_handler = on_timer, .sa_flags = SA_RESTART };
	sigemptyset(&ta.sa_mask);
	sigaction(SIGALRM, &ta, NULL);
	struct itimerval it = { { 0, 500 }, { 0, 500 } };
	setitimer(ITIMER_REAL, &it, NULL);

	pthread_t t[MAX_THREADS];
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	/* In slices, so that the main thread, where the kernel prefers to send
	 * the process's SIGALRM and SIGCHLD, never stays long with them blocked
	 * (see unblock_signals): a signal ends a nanosleep early, a blocked one
	 * does not.  (Not paced by clock_gettime: under TSan, a loop paced that
	 * way made about half as many children in the same time.) */
	for (int slice = 0; slice < seconds * 20; slice++) {
		struct timespec d = { 0, 50000000 };
		unblock_signals();
		while (nanosleep(&d, &d) < 0 && errno == EINTR)
			unblock_signals();
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);

	/* Drain: the timer sends what is pending, the handler reaps. */
	for (int spin = 0; spin < 5000; spin++) {
		int busy = 0;
		for (pid_t p = 1; p <= 32768 && !busy; p++) {
			int st = W_STATE(atomic_load(&recs[p].word));
			busy = st == R_TIMER || st == R_KILLED || st == R_LIVE;
		}
		if (!busy)
			break;
		unblock_signals();
		/* Seen once under TSan: "never-reaped" for a child killed at the
		 * very end, its death never handled; presumably its SIGCHLD was
		 * queued by TSan in a worker that then ended.  And a handler that
		 * finds the first death being reaped by another reaper stops there
		 * (see on_sigchld), leaving later ones to the next SIGCHLD, which at
		 * the end may never come.  Look for deaths here too, the handler's
		 * way (same judge, same checks). */
		if (spin % 10 == 9)
			on_sigchld(SIGCHLD);
		usleep(1000);
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGCHLD, SIG_DFL);
	for (pid_t p = 1; p <= 32768; p++) {
		int st = W_STATE(atomic_load(&recs[p].word));
		if (st == R_TIMER || st == R_KILLED || st == R_LIVE)
			fail("never-reaped", p, st, 0);
	}
	char buf[32] = "";
	ssize_t got = read(sp[0], buf, sizeof buf - 1);
	if (got <= 0 || atoi(buf) != 0)
		fail("sentinels-killed", 0, (int)got, atoi(buf));
	int fds_after = count_fds();
	if (fds_after != fds_before)
		fail("fds-left", 0, fds_before, fds_after);

	if (fail_len)
		fputs(fail_log, stdout);
	printf("stress=%s children=%d timer_kills=%d stale_sent=%d stale_refused=%d failures=%d\n",
	       atomic_load(&failures) ? "failed" : "ok", atomic_load(&children),
	       atomic_load(&timer_kills), atomic_load(&stale_sent), atomic_load(&stale_refused),
	       atomic_load(&failures));
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		child_body();
	int seconds = argc > 1 ? atoi(argv[1]) : 3;
	int threads = argc > 2 ? atoi(argv[2]) : 3;
	if (threads < 1 || threads > MAX_THREADS)
		threads = 3;
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	if (n <= 0)
		return 2;
	self_exe[n] = '\0';
	kt_pid_state_fn = (int (*)(pid_t))dlsym(RTLD_DEFAULT, "kt_pid_state");
	if (getenv("STRESS_NO_PIDNS") == NULL) {
		if (unshare(CLONE_NEWPID) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
			return 77;
		fflush(stdout);
		pid_t init = fork();
		if (init < 0)
			return 2;
		if (init > 0) {
			int st;
			alarm((unsigned)seconds + 240);
			while (waitpid(init, &st, 0) < 0 && errno == EINTR)
				;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
		}
		/* pid 1 of the namespace: the program runs as its child, so the
		 * program's orphans are reaped by us, not seen by it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pid_t prog = fork();
		if (prog == 0)
			_exit(program(seconds, threads));
		int st;
		while (waitpid(prog, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 3);
	}
	return program(seconds, threads);
}
