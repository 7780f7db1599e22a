/* SPDX-License-Identifier: MIT */
/* Start-up: read the settings once (libkt.conf, then the environment),
 * resolve the real functions, open the log, hand every room its part of the
 * configuration (init.h).  Kept small: it runs in every process that loads
 * libkt, and most of them never fork. */
#include "init.h"

#include <errno.h>
#include <sys/auxv.h>

#include "caller.h"
#include "conffile.h"
#include "exitcode.h"
#include "heldfd.h"
#include "identity.h"
#include "log.h"
#include "observe.h"
#include "provoke.h"
#include "real.h"
#include "report.h"
#include "story.h"

extern char **environ;

/* KT_* variables kept for the parser; more than this and it reads the whole
 * environment instead (correct, only slower). */
#define KT_ENV_MAX 32

struct kt_started kt_started = { .mode = KT_MODE_ENFORCE };

/* KT_STATS=1, for the destructor. */
static int stats_wanted;

/* The settings in force: the defaults, then libkt.conf, then the
 * environment over both. */
static void read_config(struct kt_config *c)
{
	kt_config_defaults(c);
	kt_conffile_read(c);
	/* One pass over the environment picks out the KT_* entries; the parser
	 * then looks each name up among those few (usually none) instead of
	 * running strncmp over the whole environment once per name, in every
	 * process start.  Pointers into the environment are kept as they are,
	 * so KT_LOG's path still points into it. */
	char *kt_env[KT_ENV_MAX + 1];
	size_t n = 0;
	char **e = environ;
	for (; e && *e && n < KT_ENV_MAX; e++)
		if ((*e)[0] == 'K' && (*e)[1] == 'T' && (*e)[2] == '_')
			kt_env[n++] = *e;
	kt_env[n] = NULL;
	if (e && *e) /* more KT_ entries than we keep: let the parser see them all */
		kt_config_env(c, environ, getauxval(AT_SECURE) != 0);
	else if (n)
		kt_config_env(c, kt_env, getauxval(AT_SECURE) != 0);
}

void kt_init_once(void)
{
	int expected = 0;
	/* The loser of this race (another thread, or a hook in a signal handler
	 * that interrupted the constructor) goes on with the defaults. */
	if (!atomic_compare_exchange_strong(&kt_started.state, &expected, 1))
		return;
	int saved_errno = errno;

	struct kt_config c;
	read_config(&c);
	kt_started.mode = c.mode;
	stats_wanted = c.stats;
	kt_identity_want(c.identity);
	kt_held_configure(c.max_fds);
	kt_real_resolve();
	kt_log_open(&c);
	kt_report_config_warnings(&c);
	/* The map that names a stale kill's caller costs a few pages, and the
	 * children's stories a side table, so only a process whose reports go
	 * somewhere takes them. */
	if (kt_log_wanted()) {
		kt_modules_capture();
		kt_story_open();
	}
	kt_provoke_open(c.provoke_fd, c.provoke_ino);
	kt_exitcode_arm(c.exitcode);
	kt_observe_configure(c.observe, c.mode);

	atomic_store_explicit(&kt_started.state, 2, memory_order_release);
	errno = saved_errno;
}

__attribute__((constructor)) static void kt_constructor(void)
{
	kt_init_once();
}

/* KT_STATS=1: one summary event as the process exits.  Destructors run on
 * exit() and on return from main, not on _exit(), exec or a fatal signal:
 * a forked child that ends with _exit() (the usual way) writes none, and
 * neither does a program killed by a signal. */
__attribute__((destructor)) static void kt_destructor(void)
{
	if (stats_wanted && atomic_load_explicit(&kt_started.state, memory_order_acquire) == 2)
		kt_report_summary(kt_started.mode);
}
