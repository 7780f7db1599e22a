/* Start-up: read the configuration once, resolve the real functions, open
 * the log.  Kept small: it runs in every process that loads libkt, and most
 * of them never fork. */
#include <errno.h>
#include <sys/auxv.h>
#include <time.h>

#include "state.h"

extern char **environ;

/* KT_* variables kept for the parser; more than this and it reads the whole
 * environment instead (correct, only slower). */
#define KT_ENV_MAX 32

struct kt_state kt_state = {
	.config = KT_CONFIG_DEFAULTS,
	.idmode = KT_IDMODE_UNPROBED,
	.log_fd = -1,
};

void kt_init_once(void)
{
	int expected = 0;
	/* The loser of this race (another thread, or a hook in a signal handler
	 * that interrupted the constructor) goes on with the defaults. */
	if (!atomic_compare_exchange_strong(&kt_state.init_state, &expected, 1))
		return;
	int saved_errno = errno;

	/* One pass over the environment picks out the KT_* entries; the parser
	 * then looks each name up among those few (usually none) instead of
	 * running strncmp over the whole environment once per name: 6,200
	 * instructions of every process start, down to a few hundred
	 * (callgrind, 40-variable environment).  Pointers into the environment
	 * are kept as they are, so KT_LOG's path still points into it. */
	char *kt_env[KT_ENV_MAX + 1];
	size_t n = 0;
	char **e = environ;
	for (; e && *e && n < KT_ENV_MAX; e++)
		if ((*e)[0] == 'K' && (*e)[1] == 'T' && (*e)[2] == '_')
			kt_env[n++] = *e;
	kt_env[n] = NULL;
	struct kt_config c = KT_CONFIG_DEFAULTS;
	if (e && *e) /* more KT_ entries than we keep: let the parser see them all */
		kt_config_parse(&c, environ, getauxval(AT_SECURE) != 0);
	else if (n)
		kt_config_parse(&c, kt_env, getauxval(AT_SECURE) != 0);
	kt_state.config = c;
	if (c.identity == KT_IDPREF_NONE)
		atomic_store(&kt_state.idmode, KT_IDENTITY_NONE);
	kt_real_resolve();
	kt_log_open();
	kt_report_config_warnings();
	/* The map that names a stale kill's caller costs a few pages, so only a
	 * process whose reports go somewhere takes it. */
	if (kt_report_wanted())
		kt_modules_capture();
	kt_provoke_open();

	atomic_store_explicit(&kt_state.init_state, 2, memory_order_release);
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
	if (kt_state.config.stats &&
	    atomic_load_explicit(&kt_state.init_state, memory_order_acquire) == 2)
		kt_report_summary();
}

uint64_t kt_now_ns(void)
{
	/* vDSO: no syscall, async-signal-safe. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
