/* KT_* variables: see config.h.  Each name is defined once, here. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "fmt.h"

static void warn(struct kt_config *c, const char *name, const char *value,
                 const char *expected, const char *using)
{
	if (c->n_warnings >= KT_CONFIG_MAX_WARNINGS)
		return;
	char *w = c->warnings[c->n_warnings++];
	struct kt_buf b = { w, 0, KT_CONFIG_WARNING_LEN };
	kt_buf_str(&b, "libkt: ignoring ");
	kt_buf_str(&b, name);
	kt_buf_str(&b, "=\"");
	kt_buf_quoted(&b, value, 40);
	kt_buf_str(&b, "\" (expected ");
	kt_buf_str(&b, expected);
	kt_buf_str(&b, "); using ");
	kt_buf_str(&b, using);
}

/* Exact, case-sensitive match against a list of words: "Enforce" or
 * "enforce " is a typo worth a warning, not a guess. */
static int pick(const char *value, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(value, words[i]) == 0)
			return i;
	return -1;
}

/* A plain decimal count in [0, MAX]: digits only, no sign, no spaces, no
 * suffix, no hex ("0x10" and "1e3" are typos here, not numbers).  Returns -1
 * for anything else, overflow included. */
static long parse_count(const char *v, long max)
{
	if (!*v)
		return -1;
	long n = 0;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		n = n * 10 + (*v - '0');
		if (n > max)
			return -1;
	}
	return n;
}

/* A descriptor number written in decimal, nothing else: 3 or more (0-2 are
 * the program's own) and below 2^20 (no RLIMIT_NOFILE goes higher by
 * default).  Returns the number and moves *S past it, or -1. */
static int parse_fd(const char **s)
{
	const char *p = *s;
	long v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p++ - '0');
		if (v >= (1L << 20))
			return -1;
	}
	if (v < 3)
		return -1;
	*s = p;
	return (int)v;
}

static const char *lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

void kt_config_parse(struct kt_config *c, char *const *envp, int secure)
{
	const struct kt_config defaults = KT_CONFIG_DEFAULTS;
	*c = defaults;

	const char *v = lookup(envp, "KT_MODE");
	if (v) {
		static const char *const words[] = { "off", "audit", "enforce" };
		int i = pick(v, words, 3);
		if (i >= 0)
			c->mode = (enum kt_mode)i; /* same order as enum kt_mode */
		else
			warn(c, "KT_MODE", v, "enforce, audit or off", "enforce");
	}

	v = lookup(envp, "KT_OBSERVE");
	if (v) {
		static const char *const words[] = { "off", "audit", "enforce" };
		int i = pick(v, words, 3);
		if (i >= 0)
			c->observe = (enum kt_mode)i; /* same order as enum kt_mode */
		else
			warn(c, "KT_OBSERVE", v, "off, audit or enforce", "off");
	}

	v = lookup(envp, "KT_IDENTITY");
	if (v) {
		/* auto and inode are one wish: the strongest mode (config.h). */
		static const char *const words[] = { "auto", "inode", "none", "fd" };
		static const enum kt_identity_mode wanted[] = {
			KT_IDENTITY_INODE, KT_IDENTITY_INODE, KT_IDENTITY_NONE, KT_IDENTITY_FD
		};
		int i = pick(v, words, 4);
		if (i >= 0)
			c->identity = wanted[i];
		else
			warn(c, "KT_IDENTITY", v, "auto, inode, fd or none", "auto");
	}

	v = lookup(envp, "KT_MAX_FDS");
	if (v) {
		long n = parse_count(v, KT_MAX_FDS_LIMIT);
		if (n >= 0)
			c->max_fds = n;
		else
			warn(c, "KT_MAX_FDS", v, "a whole number from 0 to 1048576", "64");
	}

	v = lookup(envp, "KT_LOG");
	if (v && *v) {
		if (strcmp(v, "stderr") == 0) {
			c->log_target = KT_LOG_STDERR;
		} else if (secure) {
			/* A set-user-ID program must not append to a file its
			 * unprivileged caller names. */
			warn(c, "KT_LOG", v, "stderr in secure-execution mode", "no log file");
		} else if (v[0] != '/') {
			/* A relative path would depend on the program's working
			 * directory at start-up, which surprises more than it helps. */
			warn(c, "KT_LOG", v, "stderr or an absolute path", "no log");
		} else {
			c->log_target = KT_LOG_FILE;
			c->log_path = v;
		}
	}

	v = lookup(envp, "KT_LOG_FORMAT");
	if (v) {
		static const char *const words[] = { "text", "json" };
		int i = pick(v, words, 2);
		if (i >= 0)
			c->log_format = (enum kt_log_format)i;
		else
			warn(c, "KT_LOG_FORMAT", v, "text or json", "text");
	}

	v = lookup(envp, "KT_STATS");
	if (v) {
		static const char *const words[] = { "0", "1" };
		int i = pick(v, words, 2);
		if (i >= 0)
			c->stats = i;
		else
			warn(c, "KT_STATS", v, "0 or 1", "0");
	}

	v = lookup(envp, "KT_EXITCODE");
	if (v) {
		long n = parse_count(v, 255);
		if (n >= 1)
			c->exitcode = (int)n;
		else
			warn(c, "KT_EXITCODE", v, "a number from 1 to 255",
			     "the program's own exit status");
	}

	v = lookup(envp, "KT_PROVOKE_FD");
	if (v) {
		const char *p = v;
		int fd = parse_fd(&p);
		unsigned long long ino = 0;
		int ok = fd >= 0 && *p == ':' && p[1] >= '0' && p[1] <= '9';
		for (p += ok; ok && *p; p++) {
			if (*p < '0' || *p > '9' || ino > (~0ULL - 9) / 10)
				ok = 0;
			else
				ino = ino * 10 + (unsigned)(*p - '0');
		}
		if (ok && ino) {
			c->provoke_fd = fd;
			c->provoke_ino = ino;
		} else {
			warn(c, "KT_PROVOKE_FD", v, "FD:INODE, FD 3 or more", "no reuse provoker");
		}
	}
}
