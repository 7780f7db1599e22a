/* SPDX-License-Identifier: MIT */
/* tree: the process-tree scenarios of test/preload_tree.c.  A process (A, PID
 * 1 of a private PID namespace) makes a child S; a forked process of A's (W,
 * the "watchdog", or W's own child G) later signals S's number, after S has
 * lived, died, been reaped, or been replaced by a stranger (a child of a
 * placer, never of A) or by a new child of A's.  One result line says what
 * the call returned and who got the signal:
 *
 *     case=NAME ret=R errno=E got=N stranger=FATE
 *
 * got: how many of the real-time signals sent the intended receiver (S, or
 * the process the case names) received (they queue, so a double delivery
 * shows); stranger: alive, killed-SIGNAME, or none.
 *
 *     tree [--preload=LIB] CASE
 *     tree [--preload=LIB] script INTERPRETER FILE
 *
 * --preload: run the scenario with LD_PRELOAD=LIB (re-executed), so that a
 * tracer around this helper (strace, for the race cases) runs without it.
 * script: FILE, run by INTERPRETER, makes a child, reaps it, writes its pid
 * on fd 3 and waits on fd 4 for a stranger to be put there, then has a
 * forked process of its own kill that number; the stranger's fate follows
 * its output. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../older_glibc.h"
#include "../stranger.h"
#include "selfcheck.h"


struct result {
	int ret, err, got;
};

/* Sets the next PID this namespace hands out. */
static int next_pid_is(pid_t pid)
{
	char num[16];
	snprintf(num, sizeof num, "%d", (int)pid - 1);
	return stranger_write_file("/proc/sys/kernel/ns_last_pid", num);
}

/* ---- the sender ----------------------------------------------------------------
 * A forked process of A's (W), or W's child (G), that waits for 'g' on GO,
 * then makes CALL on TARGET and writes the result to RES. */
enum call { CALL_KILL, CALL_KILLPG, CALL_SIGQUEUE, CALL_KILL_PARENT };

struct sender {
	pid_t pid;
	int go, res;
};

static struct result make_call(enum call call, pid_t target, int sig)
{
	struct result r = { 0, 0, -1 };
	if (call == CALL_KILL)
		r.ret = kill(target, sig);
	else if (call == CALL_KILLPG)
		r.ret = killpg(target, sig);
	else if (call == CALL_KILL_PARENT)
		r.ret = kill(getppid(), sig);
	else
		r.ret = sigqueue(target, sig, (union sigval){ .sival_int = 42 });
	r.err = r.ret < 0 ? errno : 0;
	return r;
}

static void sender_body(int go, int res, enum call call, pid_t target, int sig)
{
	char x;
	while (read(go, &x, 1) < 0 && errno == EINTR)
		;
	struct result r = make_call(call, target, sig);
	(void)!write(res, &r, sizeof r);
}

/* Set by the case reaped_observed: W reads /proc/TARGET/stat while TARGET
 * lives, before it says it is ready, as a scanner would (KT_OBSERVE). */
static int sender_observes;

/* W's look at TARGET under /proc, then one byte on RES: "seen". */
static void sender_observe(pid_t target, int res)
{
	char path[48], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)target);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!read(fd, buf, sizeof buf);
		close(fd);
	}
	(void)!write(res, "s", 1);
}

/* GRANDCHILD: the call is made by a child of the forked process, which
 * registers a child of its own first (so its own table stands between). */
static struct sender sender_start(enum call call, pid_t target, int sig, int grandchild)
{
	int go[2], res[2];
	struct sender s = { -1, -1, -1 };
	if (pipe(go) < 0 || pipe(res) < 0)
		return s;
	s.pid = fork();
	if (s.pid == 0) {
		close(go[1]);
		close(res[0]);
		if (!grandchild) {
			if (sender_observes)
				sender_observe(target, res[1]);
			sender_body(go[0], res[1], call, target, sig);
			_exit(0);
		}
		pid_t g = fork();
		if (g == 0) {
			sender_body(go[0], res[1], call, target, sig);
			_exit(0);
		}
		reap(g);
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	s.go = go[1];
	s.res = res[0];
	char seen;
	if (sender_observes && !grandchild && read(s.res, &seen, 1) != 1)
		s.pid = -1;
	return s;
}

/* The result CHILD wrote on FD (ret -2 if none), once CHILD is reaped. */
static struct result result_of(int fd, pid_t child)
{
	struct result r = { -2, 0, -1 };
	if (read(fd, &r, sizeof r) != sizeof r)
		r.ret = -2;
	reap(child);
	return r;
}

static struct result sender_go(struct sender *s)
{
	(void)!write(s->go, "g", 1);
	struct result r = result_of(s->res, s->pid);
	close(s->go);
	close(s->res);
	return r;
}

/* ---- the cases ------------------------------------------------------------------ */

static void print_result(const char *name, struct result r, const char *fate)
{
	printf("case=%s ret=%d errno=%s got=%d stranger=%s\n", name, r.ret,
	       r.err ? strerrorname_np(r.err) : "0", r.got, fate);
	fflush(stdout);
}

static const char *fate_of(struct stranger *pl, char *buf, size_t size)
{
	stranger_fate(pl, buf, size);
	/* "fate=F swaps=N" */
	char *f = buf + 5;
	f[strcspn(f, " ")] = '\0';
	return f;
}

/* S lives; W (or G) signals it: delivered once, from the sender. */
static int case_live(enum call call, int grandchild, const char *name)
{
	struct counter s = counter_start(call == CALL_KILLPG);
	struct sender w = sender_start(call, s.pid, SELFCHECK_COUNTED, grandchild);
	struct result r = sender_go(&w);
	r.got = counter_end(&s);
	print_result(name, r, "none");
	return 0;
}

/* S is reaped by A (BEFORE W was forked, or after), a stranger takes its
 * number, W (or G) signals it. */
static int case_reaped(int before, int grandchild, int ignore_sigchld, const char *name)
{
	struct stranger pl;
	if (stranger_start(&pl, -1) < 0)
		return 2;
	if (ignore_sigchld)
		signal(SIGCHLD, SIG_IGN); /* the kernel reaps: A's hooks never see it */
	struct counter s = counter_start(0);
	pid_t n = s.pid;
	struct sender w = { -1, -1, -1 };
	if (!before)
		w = sender_start(CALL_KILL, n, SIGTERM, grandchild);
	(void)!write(s.cmd, "x", 1);
	if (ignore_sigchld) {
		while (!stranger_pid_free(n))
			sleep_ms(1);
	} else {
		reap(n);
	}
	if (before)
		w = sender_start(CALL_KILL, n, SIGTERM, grandchild);
	if (stranger_place(&pl, n) < 0) {
		printf("setup: no stranger on %d\n", (int)n);
		return 2;
	}
	struct result r = sender_go(&w);
	char buf[96];
	print_result(name, r, fate_of(&pl, buf, sizeof buf));
	return 0;
}

/* S is reaped after W was forked, and A's next child S2 gets its number:
 * W's kill of that number meant S, and must not reach S2. */
static int case_reused_by_sibling(void)
{
	struct counter s = counter_start(0);
	pid_t n = s.pid;
	struct sender w = sender_start(CALL_KILL, n, SELFCHECK_COUNTED, 0);
	counter_end(&s);
	if (next_pid_is(n) < 0)
		return 2;
	struct counter s2 = counter_start(0);
	if (s2.pid != n) {
		printf("setup: the sibling got %d, not %d\n", (int)s2.pid, (int)n);
		return 2;
	}
	struct result r = sender_go(&w);
	r.got = counter_end(&s2);
	print_result("reused_by_sibling", r, "none");
	return 0;
}

/* A reaped S; W's own child C gets S's number: W's kill of C is W's own. */
static int case_own_child_on_number(void)
{
	struct counter s = counter_start(0);
	pid_t n = s.pid;
	counter_end(&s);
	int res[2];
	if (pipe(res) < 0)
		return 2;
	pid_t w = fork();
	if (w == 0) {
		close(res[0]);
		if (next_pid_is(n) < 0)
			_exit(2);
		struct counter c = counter_start(0);
		struct result r = { -2, 0, -1 };
		if (c.pid == n) {
			r = make_call(CALL_KILL, n, SELFCHECK_COUNTED);
			r.got = counter_end(&c);
		}
		(void)!write(res[1], &r, sizeof r);
		_exit(0);
	}
	close(res[1]);
	struct result r = result_of(res[0], w);
	if (r.ret == -2) {
		printf("setup: W's child did not get %d\n", (int)n);
		return 2;
	}
	print_result("own_child_on_number", r, "none");
	return 0;
}

/* A reaped S; W is forked onto S's number, and W's child G kills its parent
 * (kill(getppid())): W is on G's own line, whatever A's table says of the
 * number. */
static int case_parent_on_number(void)
{
	struct counter s = counter_start(0);
	pid_t n = s.pid;
	counter_end(&s);
	int res[2];
	if (pipe(res) < 0 || next_pid_is(n) < 0)
		return 2;
	pid_t w = fork();
	if (w == 0) {
		close(res[0]);
		counted_block();
		int gres[2];
		if (pipe(gres) < 0)
			_exit(2);
		pid_t g = fork();
		if (g == 0) {
			struct result r = make_call(CALL_KILL_PARENT, 0, SELFCHECK_COUNTED);
			(void)!write(gres[1], &r, sizeof r);
			_exit(0);
		}
		struct result r = result_of(gres[0], g);
		r.got = counted_drain();
		(void)!write(res[1], &r, sizeof r);
		_exit(0);
	}
	close(res[1]);
	struct result r = result_of(res[0], w);
	if (w != n) {
		printf("setup: W got %d, not %d\n", (int)w, (int)n);
		return 2;
	}
	print_result("parent_on_number", r, "none");
	return 0;
}

/* S leads a group with a member M, S dies and is reaped: W's killpg of the
 * group reaches M, which pins the number (no process holds it). */
static int case_group_after_leader(void)
{
	int cmd[2], res[2];
	if (pipe(cmd) < 0 || pipe(res) < 0)
		return 2;
	counted_block();
	pid_t s = fork();
	if (s == 0) {
		setpgid(0, 0);
		pid_t m = fork();
		if (m == 0) {
			char x;
			while (read(cmd[0], &x, 1) < 0 && errno == EINTR)
				;
			int n = counted_drain();
			(void)!write(res[1], &n, sizeof n);
			_exit(0);
		}
		_exit(0); /* the leader goes; M stays in its group */
	}
	setpgid(s, s);
	reap(s);
	struct sender w = sender_start(CALL_KILLPG, s, SELFCHECK_COUNTED, 0);
	struct result r = sender_go(&w);
	(void)!write(cmd[1], "x", 1);
	int n = -1;
	if (read(res[0], &n, sizeof n) != sizeof n)
		n = -1;
	r.got = n;
	print_result("group_after_leader", r, "none");
	return 0;
}

/* The race: W's kill is under way (held open by a tracer's delay on one of
 * its system calls) when A reaps S and a stranger takes the number. */
static int case_race(void)
{
	struct stranger pl;
	if (stranger_start(&pl, -1) < 0)
		return 2;
	struct counter s = counter_start(0);
	pid_t n = s.pid;
	struct sender w = sender_start(CALL_KILL, n, SIGTERM, 0);
	(void)!write(w.go, "g", 1);
	sleep_ms(150); /* W is inside its kill now */
	(void)!write(s.cmd, "x", 1);
	reap(n);
	if (stranger_place(&pl, n) < 0)
		return 2;
	struct result r = { -2, 0, -1 };
	if (read(w.res, &r, sizeof r) != sizeof r)
		r.ret = -2;
	reap(w.pid);
	char buf[96];
	print_result("race", r, fate_of(&pl, buf, sizeof buf));
	return 0;
}

/* ---- the rule's premise --------------------------------------------------------------
 * pidfs hands out inode numbers in creation order (tree.h).  Two threads on
 * different CPUs take turns making children; each child's pidfd inode must
 * be above the one made just before it, whichever CPU made it. */

#define ORDER_CHILDREN 200

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t order_turn = PTHREAD_COND_INITIALIZER;
static int order_next; /* index of the next child to make */
static pid_t order_pid[ORDER_CHILDREN];

static void *order_maker(void *arg)
{
	long me = (long)arg;
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	CPU_SET((int)me, &cpus);
	sched_setaffinity(0, sizeof cpus, &cpus); /* best effort: one CPU machines */
	pthread_mutex_lock(&order_lock);
	for (;;) {
		while (order_next < ORDER_CHILDREN && order_next % 2 != me)
			pthread_cond_wait(&order_turn, &order_lock);
		if (order_next >= ORDER_CHILDREN)
			break;
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		order_pid[order_next++] = p;
		pthread_cond_broadcast(&order_turn);
	}
	pthread_mutex_unlock(&order_lock);
	return NULL;
}

static int case_creation_order(void)
{
	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, order_maker, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	unsigned long long last = 0;
	int ordered = 1, pidfs = 1;
	for (int i = 0; i < ORDER_CHILDREN; i++) {
		int fd = (int)syscall(SYS_pidfd_open, order_pid[i], 0);
		struct statfs sfs;
		struct stat st;
		if (fd < 0 || fstatfs(fd, &sfs) < 0 || (unsigned)sfs.f_type != 0x50494446u ||
		    fstat(fd, &st) < 0) {
			pidfs = 0;
		} else {
			if ((unsigned long long)st.st_ino <= last)
				ordered = 0;
			last = st.st_ino;
		}
		if (fd >= 0)
			close(fd);
		syscall(SYS_kill, order_pid[i], SIGKILL);
		syscall(SYS_wait4, order_pid[i], NULL, 0, NULL);
	}
	printf("case=creation_order pidfs=%d ordered=%d children=%d cpus=%ld\n", pidfs, ordered,
	       ORDER_CHILDREN, sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}

/* ---- scripts -------------------------------------------------------------------- */

static const char *script_interp, *script_file;

static int run_script(void)
{
	struct stranger pl;
	int to_helper[2], to_script[2];
	if (stranger_start(&pl, -1) < 0 || pipe(to_helper) < 0 || pipe(to_script) < 0)
		return 2;
	pid_t sh = fork();
	if (sh == 0) {
		dup2(to_helper[1], 3);
		dup2(to_script[0], 4);
		execl(script_interp, script_interp, script_file, (char *)NULL);
		_exit(127);
	}
	close(to_helper[1]);
	close(to_script[0]);
	char line[32] = "";
	size_t len = 0;
	while (len + 1 < sizeof line && read(to_helper[0], line + len, 1) == 1 && line[len] != '\n')
		len++;
	line[len] = '\0';
	pid_t n = (pid_t)atoi(line);
	if (n <= 1 || stranger_place(&pl, n) < 0) {
		printf("setup: no stranger on '%s'\n", line);
		return 2;
	}
	(void)!write(to_script[1], "ok\n", 3);
	int st = reap(sh);
	char buf[96];
	printf("script_status=%d stranger=%s\n", stranger_exit_code(st), fate_of(&pl, buf, sizeof buf));
	fflush(stdout);
	return 0;
}

/* ---- main ------------------------------------------------------------------------ */

static const char *case_name;

static int body(void *arg)
{
	(void)arg;
	const char *c = case_name;
	if (!strcmp(c, "live"))
		return case_live(CALL_KILL, 0, c);
	if (!strcmp(c, "live_grandchild"))
		return case_live(CALL_KILL, 1, c);
	if (!strcmp(c, "live_sigqueue"))
		return case_live(CALL_SIGQUEUE, 0, c);
	if (!strcmp(c, "live_group"))
		return case_live(CALL_KILLPG, 0, c);
	if (!strcmp(c, "reaped_after_fork"))
		return case_reaped(0, 0, 0, c);
	if (!strcmp(c, "reaped_before_fork"))
		return case_reaped(1, 0, 0, c);
	if (!strcmp(c, "reaped_grandchild"))
		return case_reaped(0, 1, 0, c);
	if (!strcmp(c, "reaped_unseen"))
		return case_reaped(0, 0, 1, c);
	if (!strcmp(c, "reaped_observed")) {
		if (stranger_own_proc() < 0) {
			printf("no /proc of its own here: %s\n", strerror(errno));
			return STRANGER_NO_PIDNS;
		}
		sender_observes = 1;
		return case_reaped(0, 0, 0, c);
	}
	if (!strcmp(c, "reused_by_sibling"))
		return case_reused_by_sibling();
	if (!strcmp(c, "own_child_on_number"))
		return case_own_child_on_number();
	if (!strcmp(c, "parent_on_number"))
		return case_parent_on_number();
	if (!strcmp(c, "group_after_leader"))
		return case_group_after_leader();
	if (!strcmp(c, "race"))
		return case_race();
	if (!strcmp(c, "creation_order"))
		return case_creation_order();
	if (!strcmp(c, "script"))
		return run_script();
	fprintf(stderr, "tree: unknown case %s\n", c);
	return 2;
}

int main(int argc, char **argv)
{
	int a = 1;
	if (a < argc && strncmp(argv[a], "--preload=", 10) == 0) {
		setenv("LD_PRELOAD", argv[a] + 10, 1);
		argv[1] = argv[0];
		execv("/proc/self/exe", argv + 1);
		perror("tree: exec");
		return 2;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: tree [--preload=LIB] CASE | script INTERPRETER FILE\n");
		return 2;
	}
	case_name = argv[a];
	if (!strcmp(case_name, "script")) {
		if (a + 2 >= argc)
			return 2;
		script_interp = argv[a + 1];
		script_file = argv[a + 2];
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	int r = stranger_in_pidns(body, NULL);
	if (r == STRANGER_NO_PIDNS)
		printf("setup: no PID namespace here\n");
	return r;
}
