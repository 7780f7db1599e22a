/* SPDX-License-Identifier: MIT */
/* The reuse provoker's side inside libkt (kt-run --provoke-reuse).
 *
 * kt-run starts the program under a supervisor (kt-decoy, pid 1 of a private
 * PID namespace) and hands it one end of a SOCK_SEQPACKET socketpair, named
 * with its inode number in KT_PROVOKE_FD=FD:INODE.  Whenever a wait hook
 * reaps a child, we send the freed PID ("1234\n", one message) and wait
 * for one ack byte: by then the supervisor has put a decoy process of its
 * own on that PID, so a stale kill that follows always meets a stranger
 * instead of, usually, nobody.
 *
 * Why this shape:
 *  - a socket, not a pipe: send(MSG_NOSIGNAL) gives EPIPE instead of a
 *    SIGPIPE that would kill the program if the supervisor is gone;
 *  - SEQPACKET: each PID is one message, whole, even when several threads
 *    or processes (the descriptor is inherited across fork and exec, so the
 *    program's own children report their reaps too) send at once;
 *  - the wait is bounded (KT_PROVOKE_ACK_MS) and retried across EINTR, so a
 *    stuck supervisor slows the program down but never hangs it, and a wait
 *    hook running in a signal handler only ever does send/ppoll/recv, which
 *    are async-signal-safe system calls;
 *  - acks carry no PID: with one reaper at a time (the usual case) each
 *    reaper reads its own; with concurrent reapers one may resume a moment
 *    before its decoy is in place.  Every request still gets exactly one ack,
 *    so nobody waits forever for an ack another reaper consumed;
 *  - the descriptor is checked (device and inode, recorded at start-up)
 *    before each use: a program that closed it and reused the number for a
 *    file of its own must not receive our PIDs.
 * Nothing here runs unless KT_PROVOKE_FD is set. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "provoke.h"

#include "fmt.h"
#include "sys.h"

/* How long a reaper waits for the decoy; placing one takes well under 1 ms. */
#define KT_PROVOKE_ACK_MS 2000

static int provoke_fd = -1;             /* -1: no provoker */
static uint64_t provoke_dev, provoke_ino; /* what provoke_fd must still be */

static int provoke_fd_ok(int fd)
{
	struct stat st;
	return kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0) == 0 && S_ISSOCK(st.st_mode) &&
	       st.st_dev == provoke_dev && st.st_ino == provoke_ino;
}

void kt_provoke_open(int fd, unsigned long long ino)
{
	if (fd < 0)
		return;
	struct stat st;
	if (kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0) != 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_ino != ino) {
		/* Not the socket kt-decoy handed down: closed, or the number
		 * reused by a process that inherited the variable but closed our
		 * descriptor (a daemon's close-all loop).  No provoking. */
		return;
	}
	provoke_dev = st.st_dev;
	provoke_ino = st.st_ino;
	provoke_fd = fd;
}

void kt_provoke_reaped(pid_t pid)
{
	int fd = provoke_fd;
	if (fd < 0 || pid <= 0 || !provoke_fd_ok(fd))
		return;
	int saved = errno;
	char msg[24];
	struct kt_buf b = KT_BUF(msg);
	kt_buf_i64(&b, pid);
	kt_buf_char(&b, '\n');
	long r;
	do
		r = kt_syscall(SYS_sendto, fd, (long)msg, (long)b.len, MSG_NOSIGNAL, 0);
	while (r == -EINTR);
	if (r != (long)b.len)
		goto out;

	uint64_t deadline = kt_now_ns() + (uint64_t)KT_PROVOKE_ACK_MS * 1000000u;
	for (;;) {
		char ack;
		r = kt_syscall(SYS_recvfrom, fd, (long)&ack, 1, MSG_DONTWAIT, 0);
		if (r >= 0 || (r != -EAGAIN && r != -EINTR))
			break; /* the ack, end of file, or a broken socket: go on */
		uint64_t now = kt_now_ns();
		if (now >= deadline)
			break;
		uint64_t left = deadline - now;
		struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
		struct pollfd p = { .fd = fd, .events = POLLIN };
		kt_syscall(SYS_ppoll, (long)&p, 1, (long)&ts, 0, 8);
	}
out:
	errno = saved;
}
