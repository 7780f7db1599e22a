/* SPDX-License-Identifier: MIT */
/* posix_spawn and posix_spawnp.
 *
 * Each hook calls the real function and registers the child in the parent
 * after the fact, verified as fork's children are (registry.c).  fork and
 * _Fork are hooks_fork.c, vfork hooks_vfork.c, clone hooks_clone.c, glibc
 * 2.39's pidfd_spawn hooks_pidfd_spawn.c. */
#include <errno.h>

#include "init.h"
#include "real.h"
#include "registry.h"
#include "story.h"
#include "sys.h"

static int spawn_common(kt_spawn_fn real, enum kt_made_by how, const struct kt_origin *origin,
                        pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
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
	if (r == 0) {
		kt_register_child(*out, how, file);
		if (kt_story_on())
			kt_story_spawned(*out, origin);
	}
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

KT_EXPORT int kt_posix_spawn_2_15(pid_t *pid, const char *path,
                                  const posix_spawn_file_actions_t *fa,
                                  const posix_spawnattr_t *attr, char *const argv[],
                                  char *const envp[])
{
	struct kt_origin origin = KT_ORIGIN;
	return spawn_common(KT_REAL(posix_spawn),
	                    KT_MADE_POSIX_SPAWN, &origin, pid, path, fa, attr, argv, envp);
}

KT_EXPORT int kt_posix_spawn_2_2_5(pid_t *pid, const char *path,
                                   const posix_spawn_file_actions_t *fa,
                                   const posix_spawnattr_t *attr, char *const argv[],
                                   char *const envp[])
{
	struct kt_origin origin = KT_ORIGIN;
	return spawn_common(KT_REAL(posix_spawn_compat),
	                    KT_MADE_POSIX_SPAWN, &origin, pid, path, fa, attr, argv, envp);
}

KT_EXPORT int kt_posix_spawnp_2_15(pid_t *pid, const char *file,
                                   const posix_spawn_file_actions_t *fa,
                                   const posix_spawnattr_t *attr, char *const argv[],
                                   char *const envp[])
{
	struct kt_origin origin = KT_ORIGIN;
	return spawn_common(KT_REAL(posix_spawnp),
	                    KT_MADE_POSIX_SPAWNP, &origin, pid, file, fa, attr, argv, envp);
}

KT_EXPORT int kt_posix_spawnp_2_2_5(pid_t *pid, const char *file,
                                    const posix_spawn_file_actions_t *fa,
                                    const posix_spawnattr_t *attr, char *const argv[],
                                    char *const envp[])
{
	struct kt_origin origin = KT_ORIGIN;
	return spawn_common(KT_REAL(posix_spawnp_compat),
	                    KT_MADE_POSIX_SPAWNP, &origin, pid, file, fa, attr, argv, envp);
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
	struct kt_origin origin = KT_ORIGIN;
	return spawn_common(KT_REAL(posix_spawn), KT_MADE_POSIX_SPAWN, &origin, pid, path, fa,
	                    attr, argv, envp);
}

KT_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[],
                           char *const envp[])
{
	struct kt_origin origin = KT_ORIGIN;
	return spawn_common(KT_REAL(posix_spawnp), KT_MADE_POSIX_SPAWNP, &origin, pid, file, fa,
	                    attr, argv, envp);
}
#endif
