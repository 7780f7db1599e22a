/* Child creation: fork, _Fork, posix_spawn, posix_spawnp (and pidfd_spawn*).
 *
 * Each hook calls the real function and registers the child in the parent
 * (how registration is made race-free is explained in registry.c).  fork
 * stays glibc's own: a raw clone would skip the program's atfork handlers
 * and glibc's child-side bookkeeping.  vfork is an assembly trampoline
 * (vfork_*.S, vfork.c); clone is hooks_clone.c. */
#include <errno.h>

#include "hot.h"
#include "state.h"

static KT_CHILD_PATH pid_t fork_common(pid_t (*real)(void), enum kt_made_by how)
{
	if (!real) {
		errno = ENOSYS; /* _Fork on a glibc older than 2.34 */
		return -1;
	}
	if (kt_mode() == KT_MODE_OFF)
		return real();
	pid_t pid = real();
	if (pid == 0) {
		/* Raw syscalls only: errno stays as fork left it, and the child
		 * does not fault in the page of libc's __errno_location. */
		kt_vfork_forget();
		kt_child_forget_self();
		return 0;
	}
	/* errno as the real call left it, whatever registration does. */
	int saved = errno;
	if (pid > 0)
		kt_register_child(pid, how, NULL);
	KT_ERRNO_RESTORE(saved);
	return pid;
}

KT_EXPORT KT_CHILD_PATH pid_t fork(void)
{
	return fork_common(KT_REAL(fork), KT_MADE_FORK);
}

/* _Fork (glibc 2.34) is the async-signal-safe fork without atfork handlers;
 * fork() itself calls glibc's internal _Fork, so nothing registers twice. */
KT_EXPORT KT_CHILD_PATH pid_t _Fork(void)
{
	return fork_common(KT_REAL(_Fork), KT_MADE__FORK);
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

static int spawn_common(spawn_fn real, enum kt_made_by how, pid_t *pid, const char *file,
                        const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                        char *const argv[], char *const envp[])
{
	if (!real)
		return ENOSYS;
	if (kt_mode() == KT_MODE_OFF)
		return real(pid, file, fa, attr, argv, envp);
	/* POSIX lets pid be NULL; we still need the number to register it. */
	pid_t local;
	pid_t *out = pid ? pid : &local;
	int r = real(out, file, fa, attr, argv, envp);
	int saved = errno; /* as the real call left it, whatever registration does */
	if (r == 0)
		kt_register_child(*out, how, file);
	KT_ERRNO_RESTORE(saved);
	return r;
}

#if defined(__x86_64__)
/* Two versions each, as glibc has them: GLIBC_2.15 (current) and
 * GLIBC_2.2.5 (old binaries; retries ENOEXEC through /bin/sh).  Each hook
 * forwards to its own version, so old binaries keep their behaviour. */
int kt_posix_spawn_2_15(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);
int kt_posix_spawn_2_2_5(pid_t *, const char *, const posix_spawn_file_actions_t *,
                         const posix_spawnattr_t *, char *const[], char *const[]);
int kt_posix_spawnp_2_15(pid_t *, const char *, const posix_spawn_file_actions_t *,
                         const posix_spawnattr_t *, char *const[], char *const[]);
int kt_posix_spawnp_2_2_5(pid_t *, const char *, const posix_spawn_file_actions_t *,
                          const posix_spawnattr_t *, char *const[], char *const[]);

#define REAL_V(slot, name, ver) \
	((spawn_fn)kt_real_get((void *_Atomic *)&kt_real.slot, name, ver))

KT_EXPORT int kt_posix_spawn_2_15(pid_t *pid, const char *path,
                                  const posix_spawn_file_actions_t *fa,
                                  const posix_spawnattr_t *attr, char *const argv[],
                                  char *const envp[])
{
	return spawn_common(REAL_V(posix_spawn, "posix_spawn", "GLIBC_2.15"),
	                    KT_MADE_POSIX_SPAWN, pid, path, fa, attr, argv, envp);
}

KT_EXPORT int kt_posix_spawn_2_2_5(pid_t *pid, const char *path,
                                   const posix_spawn_file_actions_t *fa,
                                   const posix_spawnattr_t *attr, char *const argv[],
                                   char *const envp[])
{
	return spawn_common(REAL_V(posix_spawn_compat, "posix_spawn", "GLIBC_2.2.5"),
	                    KT_MADE_POSIX_SPAWN, pid, path, fa, attr, argv, envp);
}

KT_EXPORT int kt_posix_spawnp_2_15(pid_t *pid, const char *file,
                                   const posix_spawn_file_actions_t *fa,
                                   const posix_spawnattr_t *attr, char *const argv[],
                                   char *const envp[])
{
	return spawn_common(REAL_V(posix_spawnp, "posix_spawnp", "GLIBC_2.15"),
	                    KT_MADE_POSIX_SPAWNP, pid, file, fa, attr, argv, envp);
}

KT_EXPORT int kt_posix_spawnp_2_2_5(pid_t *pid, const char *file,
                                    const posix_spawn_file_actions_t *fa,
                                    const posix_spawnattr_t *attr, char *const argv[],
                                    char *const envp[])
{
	return spawn_common(REAL_V(posix_spawnp_compat, "posix_spawnp", "GLIBC_2.2.5"),
	                    KT_MADE_POSIX_SPAWNP, pid, file, fa, attr, argv, envp);
}

__asm__(".symver kt_posix_spawn_2_15, posix_spawn@@GLIBC_2.15");
__asm__(".symver kt_posix_spawn_2_2_5, posix_spawn@GLIBC_2.2.5");
__asm__(".symver kt_posix_spawnp_2_15, posix_spawnp@@GLIBC_2.15");
__asm__(".symver kt_posix_spawnp_2_2_5, posix_spawnp@GLIBC_2.2.5");
#else
KT_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[])
{
	return spawn_common(KT_REAL(posix_spawn), KT_MADE_POSIX_SPAWN, pid, path, fa, attr,
	                    argv, envp);
}

KT_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[],
                           char *const envp[])
{
	return spawn_common(KT_REAL(posix_spawnp), KT_MADE_POSIX_SPAWNP, pid, file, fa, attr,
	                    argv, envp);
}
#endif
