/* SPDX-License-Identifier: MIT */
/*
 * fd2_takeover — a program that closes its stderr, opens a data file (which
 * gets fd 2, the lowest free number), and then sends a stale kill: what a
 * daemon or a tool that redirects its own output does.  libkt's report of
 * that kill (KT_LOG=stderr) and its exit summary (KT_STATS=1) must not end up
 * in the data file.
 *
 *   fd2_takeover DATA_FILE
 *   fd2_takeover --stdout
 *
 * Writes "data 1\n" before the kill and "data 2\n" after it into DATA_FILE,
 * and exits 0 if the data file got fd 2.  With --stdout, /dev/null takes
 * fd 2 instead and the two lines go to stdout: run as `fd2_takeover --stdout
 * >out 2>&1`, the program writes into the file that was its stderr at its
 * own offset, and a report appended there would be overwritten.
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
		fprintf(stderr, "usage: fd2_takeover DATA_FILE | --stdout\n");
		return 2;
	}
	int to_stdout = strcmp(argv[1], "--stdout") == 0;
	close(2);
	int fd2 = to_stdout ? open("/dev/null", O_WRONLY)
	                    : open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd2 != 2)
		return 1;
	int fd = to_stdout ? 1 : 2;
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
