/* SPDX-License-Identifier: MIT */
/*
 * kt-config — libkt's own reading of the settings, for kt-run.  It links the
 * library's parser (shim/config.c) and file reader (shim/conffile.c), so what
 * it says is what libkt does: kt-run keeps no rules of its own.
 *
 *   kt-config [--name=NAME] [--pid PID]
 *   kt-config [--name=NAME] --check-env
 *   kt-config --judge VARIABLE VALUE
 *
 * Without --check-env it prints the settings a process started now with this
 * environment would run with (or, with --pid, the settings of process PID:
 * its environment at start, whether it runs in secure-execution mode, and
 * libkt.conf as it is now), one line each, and where each comes from:
 *
 *   KT_MODE=audit                  # /etc/libkt.conf:3
 *   KT_LOG unset                   # default: no reports
 *
 * Each warning libkt gives about them goes to stderr, its "libkt: " made
 * "NAME: ".  --check-env prints those warnings and, on stdout, the name of
 * each KT_* variable of the environment whose value libkt refuses, one a
 * line, so that kt-run can drop it after saying so once.  --judge says
 * whether libkt takes VALUE for VARIABLE (for kt-run's options): exit 0 if
 * it does, else 1 and what it expects, on stdout.
 *
 * Exit status: 0; 125 if process PID cannot be read; 2 for a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "config.h"

extern char **environ;

static const char *name = "kt-config";

static void print_warnings(const struct kt_config *c)
{
	for (int i = 0; i < c->n_warnings; i++) {
		const char *w = c->warnings[i];
		if (strncmp(w, "libkt: ", 7) == 0)
			w += 7;
		fprintf(stderr, "%s: %s\n", name, w);
	}
}

/* The settings of C, one line each, and where each came from. */
static void print_settings(const struct kt_config *c)
{
	for (int s = 0; s < KT_SETTINGS; s++) {
		char value[64], line[4200], from[300];
		const char *v = kt_setting_value(c, (enum kt_setting)s, value, sizeof value);
		const char *env = kt_setting_env((enum kt_setting)s);
		int unset = (s == KT_SET_LOG && c->log_target == KT_LOG_NONE) ||
		            (s == KT_SET_EXITCODE && !c->exitcode) ||
		            (s == KT_SET_PROVOKE_FD && c->provoke_fd < 0);
		if (s == KT_SET_PROVOKE_FD && unset)
			continue; /* kt-run --provoke-reuse's alone */
		if (unset)
			snprintf(line, sizeof line, "%s unset", env);
		else
			snprintf(line, sizeof line, "%s=%s", env, v);
		switch (c->source[s]) {
		case KT_FROM_FILE:
			snprintf(from, sizeof from, "%s:%u", c->file, c->line[s]);
			break;
		case KT_FROM_ENV:
			snprintf(from, sizeof from, "environment");
			break;
		default:
			snprintf(from, sizeof from, "default%s%s", unset ? ": " : "", unset ? v : "");
		}
		printf("%-30s # %s\n", line, from);
	}
}

/* The whole of a /proc file, NUL-terminated; NULL with errno set. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *more = realloc(buf, cap * 2 + 1);
			if (!more) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = more;
			cap *= 2;
		}
	}
	int err = ferror(f) ? errno : 0;
	fclose(f);
	if (err || !buf) {
		free(buf);
		errno = err ? err : ENOMEM;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Process PID's environment at start, as a NULL-terminated array. */
static char **environ_of(const char *pid)
{
	char path[64];
	size_t len;
	snprintf(path, sizeof path, "/proc/%s/environ", pid);
	char *all = read_all(path, &len);
	if (!all)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += all[i] == '\0';
	char **env = calloc(n + 2, sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	for (char *p = all; p < all + len; p += strlen(p) + 1)
		env[k++] = p;
	env[k] = NULL;
	return env;
}

/* 1 if process PID runs in secure-execution mode (AT_SECURE in its auxv),
 * 0 if not, -1 if that cannot be read. */
static int secure_of(const char *pid)
{
	char path[64];
	size_t len;
	snprintf(path, sizeof path, "/proc/%s/auxv", pid);
	unsigned long *aux = (unsigned long *)read_all(path, &len);
	if (!aux)
		return -1;
	int secure = 0;
	for (size_t i = 0; i + 1 < len / sizeof *aux && aux[i] != 0; i += 2)
		if (aux[i] == 23 /* AT_SECURE */)
			secure = aux[i + 1] != 0;
	free(aux);
	return secure;
}

/* When process PID started, in seconds since the epoch, or -1. */
static double started_at(const char *pid)
{
	char path[64];
	size_t len;
	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	char *stat = read_all(path, &len);
	char *btime = read_all("/proc/stat", &len);
	double at = -1;
	char *p = stat ? strrchr(stat, ')') : NULL, *b = btime ? strstr(btime, "\nbtime ") : NULL;
	if (p && b) {
		/* starttime is field 22; the text after ')' starts at field 3. */
		for (int field = 2; p && field < 22; field++)
			p = strchr(p + 1, ' ');
		if (p)
			at = strtod(b + 7, NULL) + strtod(p + 1, NULL) / (double)sysconf(_SC_CLK_TCK);
	}
	free(stat);
	free(btime);
	return at;
}

static int usage(void)
{
	fprintf(stderr, "usage: kt-config [--name=NAME] [--pid PID | --check-env]\n"
	                "       kt-config --judge VARIABLE VALUE\n");
	return 2;
}

/* VAR=VALUE alone: 0 if libkt takes it, else 1 and the values expected. */
static int judge(const char *var, const char *value)
{
	char kv[4200];
	snprintf(kv, sizeof kv, "%s=%s", var, value);
	char *one[] = { kv, NULL };
	struct kt_config c;
	kt_config_parse(&c, one, 0);
	if (!c.n_warnings)
		return 0;
	/* "... (expected WHAT); using ..." */
	const char *w = strstr(c.warnings[0], "(expected ");
	const char *end = w ? strstr(w, "); using ") : NULL;
	if (w && end)
		printf("%.*s\n", (int)(end - w - 10), w + 10);
	return 1;
}

int main(int argc, char **argv)
{
	const char *pid = NULL;
	int check_env = 0;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--name=", 7) == 0)
			name = argv[i] + 7;
		else if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc)
			pid = argv[++i];
		else if (strcmp(argv[i], "--check-env") == 0)
			check_env = 1;
		else if (strcmp(argv[i], "--judge") == 0 && i + 3 == argc)
			return judge(argv[i + 1], argv[i + 2]);
		else
			return usage();
	}
	if (pid && (check_env || !*pid || strspn(pid, "0123456789") != strlen(pid)))
		return usage();

	char **env = environ;
	int secure = 0;
	if (pid) {
		env = environ_of(pid);
		secure = env ? secure_of(pid) : -1;
		if (!env || secure < 0) {
			fprintf(stderr, "%s: cannot read the environment of process %s: %s\n", name, pid,
			        strerror(errno));
			return 125;
		}
	}
	struct kt_config c;
	kt_config_defaults(&c);
	kt_conffile_read(&c);
	kt_config_env(&c, env, secure);
	print_warnings(&c);
	if (check_env) {
		/* Which variables libkt refuses: each judged alone, as libkt
		 * would judge it (an empty KT_LOG is not refused: it is unset). */
		for (int s = 0; s < KT_SETTINGS; s++) {
			const char *var = kt_setting_env((enum kt_setting)s);
			size_t n = strlen(var);
			for (char **e = env; *e; e++)
				if (strncmp(*e, var, n) == 0 && (*e)[n] == '=') {
					char *one[] = { *e, NULL };
					struct kt_config alone;
					kt_config_parse(&alone, one, secure);
					if (alone.n_warnings)
						printf("%s\n", var);
				}
		}
		return 0;
	}
	print_settings(&c);
	if (pid) {
		struct stat st;
		double at = started_at(pid);
		if (secure)
			printf("# secure-execution mode (set-user-ID or the like): a KT_LOG path from the "
			       "environment is ignored\n");
		if (stat(KT_CONF_PATH, &st) == 0 && at > 0 &&
		    (st.st_mtime > at || st.st_ctime > at))
			printf("# %s changed after the process started: it may run with the settings the "
			       "file had then\n",
			       KT_CONF_PATH);
	}
	return 0;
}
