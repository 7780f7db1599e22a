/* SPDX-License-Identifier: MIT */
/* seccomp_launch --errno=ENOSYS|EPERM [--syscalls=pidfd] -- CMD [ARG...]
 *
 * Runs CMD under a seccomp filter that answers pidfd_open and
 * pidfd_send_signal with the given errno, the way a kernel older than 5.3
 * (ENOSYS) or a container's seccomp profile (EPERM) does.  Everything else is
 * allowed.  A classic BPF program through prctl(PR_SET_SECCOMP), so no
 * libseccomp.  The filter is inherited by every child and kept across exec.
 *
 * As root the filter goes on without no_new_privs (so set-user-ID programs
 * keep working under it); otherwise no_new_privs is set first, as the kernel
 * requires of an unprivileged filter. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#else
#error "add this architecture's AUDIT_ARCH value"
#endif

static int install(int err)
{
	struct sock_filter code[] = {
		/* Another ABI's numbers mean other calls: refuse it outright. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_send_signal, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
		return 0;
	if (errno != EACCES)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
	int err = 0, i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--errno=ENOSYS") == 0)
			err = ENOSYS;
		else if (strcmp(argv[i], "--errno=EPERM") == 0)
			err = EPERM;
		else if (strcmp(argv[i], "--") == 0)
			break;
		else
			err = -1;
	}
	if (err <= 0 || i + 1 >= argc) {
		fprintf(stderr, "usage: seccomp_launch --errno=ENOSYS|EPERM -- CMD [ARG...]\n");
		return 2;
	}
	if (install(err) < 0) {
		perror("seccomp_launch: PR_SET_SECCOMP");
		return 2;
	}
	execvp(argv[i + 1], &argv[i + 1]);
	perror("seccomp_launch: exec");
	return 127;
}
