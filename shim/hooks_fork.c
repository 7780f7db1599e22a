/* SPDX-License-Identifier: MIT */
/* fork and _Fork.
 *
 * Each hook calls the real function and registers the child in the parent
 * (how registration is made race-free is explained in registry.c); just
 * before, it notes what the child is to know of our own children (the fork
 * mark, table.h).  fork
 * stays glibc's own: a raw clone would skip the program's atfork handlers
 * and glibc's child-side bookkeeping. */
#include <errno.h>
#include <unistd.h>

#include "heldfd.h"
#include "hot.h"
#include "init.h"
#include "real.h"
#include "registry.h"
#include "story.h"
#include "sys.h"
#include "table.h"
#include "vfork_child.h"

static KT_CHILD_PATH pid_t fork_common(pid_t (*real)(void), enum kt_made_by how,
                                       const struct kt_origin *origin)
{
	if (!real) {
		errno = ENOSYS; /* _Fork on a glibc older than 2.34 */
		return -1;
	}
	if (kt_mode() == KT_MODE_OFF)
		return real();
	/* What the child will know of our children (table.h). */
	kt_table_before_fork();
	pid_t pid = real();
	if (pid == 0) {
		/* Raw syscalls only: errno stays as fork left it, and the child
		 * does not fault in the page of libc's __errno_location. */
		kt_vfork_forget();
		kt_table_forget();
		kt_held_forget_guards();
		return 0;
	}
	/* errno as the real call left it, whatever registration does. */
	int saved = errno;
	if (pid > 0) {
		kt_register_child(pid, how, NULL);
		if (kt_story_on())
			kt_story_spawned(pid, origin);
	}
	KT_ERRNO_RESTORE(saved);
	return pid;
}

KT_EXPORT KT_CHILD_PATH pid_t fork(void)
{
	struct kt_origin origin = KT_ORIGIN;
	return fork_common(KT_REAL(fork), KT_MADE_FORK, &origin);
}

/* Declared by <unistd.h> from glibc 2.34 on; defined here on every glibc. */
pid_t _Fork(void);

/* _Fork (glibc 2.34) is the async-signal-safe fork without atfork handlers;
 * fork() itself calls glibc's internal _Fork, so nothing registers twice. */
KT_EXPORT KT_CHILD_PATH pid_t _Fork(void)
{
	struct kt_origin origin = KT_ORIGIN;
	return fork_common(KT_REAL(_Fork), KT_MADE__FORK, &origin);
}
