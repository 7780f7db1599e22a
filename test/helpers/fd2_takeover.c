/*
 * fd2_takeover — a program that closes its stderr, opens a data file (which
 * gets fd 2, the lowest free number), and then sends a stale kill: what a
 * daemon or a tool that redirects its own output does.  libkt's report of
 * that kill (KT_LOG=stderr) and its exit summary (KT_STATS=1) must not end up
 * in the data file.
 *
 *   fd2_takeover DATA_FILE
 *
 * Writes "data 1\n" before the kill and "data 2\n" after it into DATA_FILE,
 * and exits 0 if the data file got fd 2.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int put(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fd2_takeover DATA_FILE\n");
		return 2;
	}
	close(2);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd != 2)
		return 1;
	if (put(fd, "data 1\n") < 0)
		return 1;
	pid_t job = fork();
	if (job == 0)
		_exit(0);
	if (job < 0 || waitpid(job, NULL, 0) != job)
		return 1;
	kill(job, SIGTERM); /* the number is stale: a report is due */
	return put(fd, "data 2\n") < 0;
}
