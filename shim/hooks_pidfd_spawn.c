/* SPDX-License-Identifier: MIT */
/* pidfd_spawn and pidfd_spawnp (glibc 2.39): a program that spawns through
 * them gets its child registered, from the very fd glibc's clone3 made with
 * the child, so there is no race to close.  The caller's fd is only read.
 *
 * Exported as the hidden version pidfd_spawn@GLIBC_2.39 (one '@'), never as
 * a default version or unversioned:
 *   - a program linked against glibc >= 2.39 references
 *     pidfd_spawn@GLIBC_2.39, which a hidden version of that name satisfies,
 *     so our hook is called;
 *   - on an older glibc, dlsym(RTLD_DEFAULT, "pidfd_spawn") skips hidden
 *     versions and still answers NULL, so a program probing for the function
 *     (Rust's std does) goes on believing, correctly, that it does not exist.
 *     Only dlvsym(..., "GLIBC_2.39") finds the hook there, which then fails
 *     with ENOSYS, as a glibc without clone3 would;
 *   - the cost: on glibc >= 2.39, a program that finds pidfd_spawn with plain
 *     dlsym gets glibc's, not ours, and its children go unregistered (its
 *     kills then behave exactly as without libkt; a program holding pidfds
 *     usually signals through them anyway).
 *
 * Why the posix_spawn hooks do not spawn through pidfd_spawn, although that
 * would make their registration race-free too: posix_spawn must return the
 * child's PID, and a pidfd only yields it while the child is unreaped
 * (PIDFD_GET_INFO answers ESRCH for the PID of a reaped task; fdinfo says
 * -1).  A child that exits at once under SIGCHLD=SIG_IGN, or that another
 * thread reaps, would leave posix_spawn with no PID to return.  Their
 * after-the-fact registration is verified instead (registry.c): it can
 * never record a stranger, only mark a child that died too soon as gone. */
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "init.h"
#include "real.h"
#include "registry.h"
#include "story.h"
#include "sys.h"

/* PIDFD_GET_INFO (6.13), spelled out: the build machine's headers predate it. */
struct kt_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define KT_PIDFD_INFO_PID 1u
#define KT_PIDFD_GET_INFO _IOWR(0xFF, 11, struct kt_pidfd_info)

/* The PID (in our namespace) of the live process behind PIDFD, or -1. */
static pid_t pid_of_pidfd(int pidfd)
{
	struct kt_pidfd_info info = { .mask = KT_PIDFD_INFO_PID };
	if (kt_syscall(SYS_ioctl, pidfd, (long)KT_PIDFD_GET_INFO, (long)&info, 0, 0) == 0 &&
	    (info.mask & KT_PIDFD_INFO_PID) && info.pid > 0)
		return (pid_t)info.pid;
	/* Before 6.13: glibc reads /proc/self/fdinfo. */
	kt_real_pidfd_getpid_t getpid_of = KT_REAL(pidfd_getpid);
	if (!getpid_of)
		return -1;
	int saved = errno;
	pid_t pid = getpid_of(pidfd);
	errno = saved;
	return pid;
}

static int pidfd_spawn_common(kt_pidfd_spawn_fn real, enum kt_made_by how,
                              const struct kt_origin *origin, int *pidfd, const char *file,
                              const posix_spawn_file_actions_t *fa,
                              const posix_spawnattr_t *attr, char *const argv[],
                              char *const envp[])
{
	if (!real)
		return ENOSYS; /* glibc < 2.39: what a glibc without clone3 answers */
	int r = real(pidfd, file, fa, attr, argv, envp);
	if (r != 0 || !pidfd || kt_mode() == KT_MODE_OFF)
		return r;
	int saved = errno;
	/* No PID: the child has been reaped already, so there is nothing a
	 * kill by number could still reach. */
	pid_t pid = pid_of_pidfd(*pidfd);
	if (pid > 0) {
		kt_register_child_pidfd(pid, *pidfd, how, file, 0);
		if (kt_story_on())
			kt_story_spawned_ino(pid, origin, kt_registered_inode(pid));
	}
	errno = saved;
	return r;
}

int kt_pidfd_spawn_2_39(int *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);
int kt_pidfd_spawnp_2_39(int *, const char *, const posix_spawn_file_actions_t *,
                         const posix_spawnattr_t *, char *const[], char *const[]);

KT_EXPORT int kt_pidfd_spawn_2_39(int *pidfd, const char *path,
                                  const posix_spawn_file_actions_t *fa,
                                  const posix_spawnattr_t *attr, char *const argv[],
                                  char *const envp[])
{
	struct kt_origin origin = KT_ORIGIN;
	return pidfd_spawn_common(KT_REAL(pidfd_spawn), KT_MADE_PIDFD_SPAWN, &origin,
	                          pidfd, path, fa, attr, argv, envp);
}

KT_EXPORT int kt_pidfd_spawnp_2_39(int *pidfd, const char *file,
                                   const posix_spawn_file_actions_t *fa,
                                   const posix_spawnattr_t *attr, char *const argv[],
                                   char *const envp[])
{
	struct kt_origin origin = KT_ORIGIN;
	return pidfd_spawn_common(KT_REAL(pidfd_spawnp), KT_MADE_PIDFD_SPAWNP, &origin,
	                          pidfd, file, fa, attr, argv, envp);
}

/* One '@': hidden versions (see above). */
__asm__(".symver kt_pidfd_spawn_2_39, pidfd_spawn@GLIBC_2.39");
__asm__(".symver kt_pidfd_spawnp_2_39, pidfd_spawnp@GLIBC_2.39");
