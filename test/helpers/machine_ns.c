/* SPDX-License-Identifier: MIT */
/*
 * machine_ns — run a command in a private mount namespace where the machine's
 * libkt settings and system log are the test's: /etc/libkt.conf is a given
 * file, and /dev/log is a datagram socket this program reads (or is absent,
 * or is full).  Nothing outside the namespace changes.
 *
 *   machine_ns [--conf FILE [--conf-mode OCTAL] [--conf-uid UID] | --conf-fifo]
 *              [--syslog OUT | --syslog-full OUT | --no-syslog] -- COMMAND [ARG]...
 *
 *   --conf FILE     /etc/libkt.conf is a copy of FILE (mode 0644, owned by root
 *                   unless --conf-mode/--conf-uid say otherwise), on an overlay
 *                   of /etc
 *   --conf-fifo     /etc/libkt.conf is a FIFO nobody writes to
 *   --syslog OUT    /dev/log is a socket bound here and bind-mounted over the
 *                   path; every datagram it receives while COMMAND runs is
 *                   written to OUT, one per line, in order
 *   --syslog-full OUT
 *                   the same, but the socket's queue is full when COMMAND
 *                   starts, and nothing is read until COMMAND writes a line to
 *                   its fd 3 (a stream socket): then the queue is emptied (the
 *                   filler thrown away) and "drained\n" comes back on fd 3
 *   --no-syslog     there is no /dev/log
 *
 * /dev is a tmpfs copy of the real one (the same devices, bind-mounted, its
 * sub-mounts too) whenever /dev/log is the test's, so the real /dev/log, if
 * any, is out of reach.  As root the namespace is a mount namespace; as
 * another user, a user namespace with that user as root (where files it
 * creates are root's).  Exits with COMMAND's status (128 + N when a signal
 * N killed it), or 77 after a "SKIP: ..." line when the namespace, tmpfs or
 * overlayfs is refused here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILLER "machine_ns filler"

static char scratch[] = "/tmp/machine_ns.XXXXXX";

static __attribute__((noreturn, format(printf, 1, 2))) void skip_all(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("SKIP: machine_ns: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(77);
}

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "machine_ns: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	va_end(ap);
	exit(2);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("%s", path);
	close(fd);
}

/* A private mount namespace: as root, or as root of a new user namespace. */
static void enter_namespace(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (uid == 0) {
		if (unshare(CLONE_NEWNS) < 0)
			skip_all("no mount namespace here (%s)", strerror(errno));
	} else {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			skip_all("no user namespace for a mount namespace here (%s)", strerror(errno));
		char map[64];
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
		write_file("/proc/self/gid_map", map);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("making / private");
	if (!mkdtemp(scratch))
		die("mkdtemp");
	if (mount("tmpfs", scratch, "tmpfs", 0, "mode=0755") < 0)
		skip_all("tmpfs refused here (%s)", strerror(errno));
}

static void path_in(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* /etc/libkt.conf: a copy of FILE (MODE, owner UID), or a FIFO when FILE is
 * NULL, in the upper layer of an overlay of /etc. */
static void place_conf(const char *file, mode_t mode, uid_t uid)
{
	char upper[256], work[256], conf[300], opts[700];
	path_in(upper, sizeof upper, scratch, "etc-upper");
	path_in(work, sizeof work, scratch, "etc-work");
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0755) < 0)
		die("mkdir in %s", scratch);
	path_in(conf, sizeof conf, upper, "libkt.conf");
	if (file) {
		int in = open(file, O_RDONLY | O_CLOEXEC);
		int out = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (in < 0 || out < 0)
			die("copying %s", file);
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof buf)) > 0)
			if (write(out, buf, (size_t)n) != n)
				die("writing %s", conf);
		close(in);
		close(out);
		if (chown(conf, uid, 0) < 0)
			die("chown %s to %u", conf, (unsigned)uid);
		if (chmod(conf, mode) < 0)
			die("chmod %s", conf);
	} else if (mkfifo(conf, 0644) < 0) {
		die("mkfifo %s", conf);
	}
	snprintf(opts, sizeof opts, "lowerdir=/etc,upperdir=%s,workdir=%s", upper, work);
	if (mount("overlay", "/etc", "overlay", 0, opts) < 0)
		skip_all("overlayfs over /etc refused here (%s)", strerror(errno));
}

/* /dev as a tmpfs holding what the real /dev holds, less log. */
static void copy_dev(void)
{
	char old[256];
	path_in(old, sizeof old, scratch, "dev");
	if (mkdir(old, 0755) < 0 || mount("/dev", old, NULL, MS_BIND | MS_REC, NULL) < 0)
		die("binding /dev to %s", old);
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755") < 0)
		skip_all("tmpfs over /dev refused here (%s)", strerror(errno));
	DIR *d = opendir(old);
	if (!d)
		die("opendir %s", old);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "log"))
			continue;
		char from[600], to[600];
		path_in(from, sizeof from, old, e->d_name);
		path_in(to, sizeof to, "/dev", e->d_name);
		struct stat st;
		if (lstat(from, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[512];
			ssize_t n = readlink(from, target, sizeof target - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			if (symlink(target, to) < 0)
				die("symlink %s", to);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(to, st.st_mode & 07777) < 0)
				die("mkdir %s", to);
		} else {
			int fd = open(to, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			if (fd < 0)
				die("creating %s", to);
			close(fd);
		}
		/* A device a user namespace may not bind is left out. */
		mount(from, to, NULL, MS_BIND | MS_REC, NULL);
	}
	closedir(d);
	umount2(old, MNT_DETACH);
}

/* The test's /dev/log: a datagram socket bound in the scratch directory and
 * bind-mounted over the path, as one would hide a real syslog socket. */
static int make_log_socket(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s/log", scratch);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0)
		die("binding %s", a.sun_path);
	chmod(a.sun_path, 0666);
	int fd = open("/dev/log", O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		die("creating /dev/log");
	close(fd);
	if (mount(a.sun_path, "/dev/log", NULL, MS_BIND, NULL) < 0)
		die("binding %s over /dev/log", a.sun_path);
	return s;
}

/* Fill the socket's queue: a fresh socket's datagram is then refused. */
static void fill_queue(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	for (int senders = 0; senders < 1000; senders++) {
		int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			die("socket");
		int sent = 0;
		while (sendto(s, FILLER, sizeof FILLER - 1, MSG_DONTWAIT, (struct sockaddr *)&a,
		              sizeof a) > 0)
			sent++;
		if (errno != EAGAIN)
			die("filling /dev/log");
		/* Kept open: its datagrams stay queued either way. */
		if (sent == 0)
			return;
	}
	fprintf(stderr, "machine_ns: /dev/log never filled\n");
	exit(2);
}

/* Every queued datagram: written to OUT (one per line) unless it is filler. */
static void drain(int s, FILE *out)
{
	char buf[65536];
	ssize_t n;
	while ((n = recv(s, buf, sizeof buf, MSG_DONTWAIT)) >= 0) {
		if ((size_t)n == sizeof FILLER - 1 && memcmp(buf, FILLER, (size_t)n) == 0)
			continue;
		fwrite(buf, 1, (size_t)n, out);
		fputc('\n', out);
	}
	fflush(out);
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *out_path = NULL;
	int conf_fifo = 0, syslog_mode = 0; /* 1 socket, 2 full, 3 absent */
	mode_t conf_mode = 0644;
	uid_t conf_uid = 0;
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (!strcmp(argv[i], "--conf") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "--conf-mode") && i + 1 < argc)
			conf_mode = (mode_t)strtoul(argv[++i], NULL, 8);
		else if (!strcmp(argv[i], "--conf-uid") && i + 1 < argc)
			conf_uid = (uid_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--conf-fifo"))
			conf_fifo = 1;
		else if (!strcmp(argv[i], "--syslog") && i + 1 < argc)
			syslog_mode = 1, out_path = argv[++i];
		else if (!strcmp(argv[i], "--syslog-full") && i + 1 < argc)
			syslog_mode = 2, out_path = argv[++i];
		else if (!strcmp(argv[i], "--no-syslog"))
			syslog_mode = 3;
		else
			break;
	}
	if (i >= argc - 1 || strcmp(argv[i], "--") != 0) {
		fprintf(stderr, "usage: machine_ns [--conf FILE [--conf-mode OCTAL] [--conf-uid UID] | "
		                "--conf-fifo] [--syslog OUT | --syslog-full OUT | --no-syslog] "
		                "-- COMMAND [ARG]...\n");
		return 2;
	}
	char **cmd = argv + i + 1;
	FILE *out = NULL;
	if (out_path && !(out = fopen(out_path, "we")))
		die("%s", out_path);

	enter_namespace();
	if (conf || conf_fifo)
		place_conf(conf, conf_mode, conf_uid);
	int log = -1, control[2] = { -1, -1 };
	if (syslog_mode) {
		copy_dev();
		if (syslog_mode != 3)
			log = make_log_socket();
	}
	if (syslog_mode == 2) {
		fill_queue();
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, control) < 0)
			die("socketpair");
	}
	fflush(stdout);

	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (control[1] >= 0 && dup2(control[1], 3) < 0)
			_exit(126);
		execvp(cmd[0], cmd);
		fprintf(stderr, "machine_ns: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	if (control[1] >= 0)
		close(control[1]);
	int reading = syslog_mode == 1, status;
	for (;;) {
		struct pollfd p[2] = { { reading ? log : -1, POLLIN, 0 }, { control[0], POLLIN, 0 } };
		poll(p, 2, 50);
		if (p[0].revents & POLLIN)
			drain(log, out);
		if (p[1].revents & (POLLIN | POLLHUP)) {
			char line[64];
			ssize_t n = read(control[0], line, sizeof line);
			if (n > 0) {
				drain(log, out);
				reading = 1;
				if (write(control[0], "drained\n", 8) != 8)
					die("answering on fd 3");
			} else {
				close(control[0]);
				control[0] = -1;
			}
		}
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			die("waitpid");
	}
	if (log >= 0)
		drain(log, out);
	if (out)
		fclose(out);
	/* The directory itself is in the real /tmp. */
	umount2(scratch, MNT_DETACH);
	rmdir(scratch);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
