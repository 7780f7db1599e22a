/* SPDX-License-Identifier: MIT */
/* The settings: see config.h.  Each name is defined once, here, and each
 * value is judged by one function whether it comes from the environment or
 * from the file. */
#include "config.h"

#include <string.h>

#include "fmt.h"

static const struct {
	const char *env, *key;
} names[KT_SETTINGS] = {
	[KT_SET_MODE] = { "KT_MODE", "mode" },
	[KT_SET_LOG] = { "KT_LOG", "log" },
	[KT_SET_LOG_FORMAT] = { "KT_LOG_FORMAT", "log_format" },
	[KT_SET_STATS] = { "KT_STATS", "stats" },
	[KT_SET_IDENTITY] = { "KT_IDENTITY", "identity" },
	[KT_SET_MAX_FDS] = { "KT_MAX_FDS", "max_fds" },
	[KT_SET_EXITCODE] = { "KT_EXITCODE", "exitcode" },
	[KT_SET_OBSERVE] = { "KT_OBSERVE", "observe" },
	/* Set by kt-run --provoke-reuse for the processes it starts. */
	[KT_SET_PROVOKE_FD] = { "KT_PROVOKE_FD", NULL },
};

const char *kt_setting_env(enum kt_setting s)
{
	return names[s].env;
}

const char *kt_setting_key(enum kt_setting s)
{
	return names[s].key;
}

void kt_config_defaults(struct kt_config *c)
{
	const struct kt_config defaults = KT_CONFIG_DEFAULTS;
	*c = defaults;
}

/* A new warning line, or NULL when there is no room left: then the last
 * line says how many more there were. */
static struct kt_buf *warning_line(struct kt_config *c, struct kt_buf *b)
{
	if (c->n_warnings == KT_CONFIG_MAX_WARNINGS) {
		c->warnings_lost++;
		*b = (struct kt_buf){ c->warnings[KT_CONFIG_MAX_WARNINGS - 1], 0,
		                      KT_CONFIG_WARNING_LEN };
		kt_buf_str(b, "libkt: ");
		kt_buf_u64(b, (uint64_t)c->warnings_lost + 1);
		kt_buf_str(b, " more warnings about the settings, not shown");
		return NULL;
	}
	*b = (struct kt_buf){ c->warnings[c->n_warnings++], 0, KT_CONFIG_WARNING_LEN };
	kt_buf_str(b, "libkt: ");
	return b;
}

void kt_config_warn(struct kt_config *c, const char *text)
{
	struct kt_buf b;
	if (warning_line(c, &b))
		kt_buf_str(&b, text);
}

static const char *mode_word(enum kt_mode m)
{
	return m == KT_MODE_OFF ? "off" : m == KT_MODE_AUDIT ? "audit" : "enforce";
}

const char *kt_setting_value(const struct kt_config *c, enum kt_setting s, char *buf, size_t cap)
{
	struct kt_buf b = { buf, 0, cap };
	switch (s) {
	case KT_SET_MODE:
		return mode_word(c->mode);
	case KT_SET_LOG:
		switch (c->log_target) {
		case KT_LOG_STDERR: return "stderr";
		case KT_LOG_SYSLOG: return "syslog";
		case KT_LOG_FILE: return c->log_path;
		default: return "no log";
		}
	case KT_SET_LOG_FORMAT:
		return c->log_format == KT_LOG_JSON ? "json" : "text";
	case KT_SET_STATS:
		return c->stats ? "1" : "0";
	case KT_SET_IDENTITY:
		/* auto and inode are one wish (config.h): say the usual word. */
		return c->identity == KT_IDENTITY_NONE ? "none" :
		       c->identity == KT_IDENTITY_FD   ? "fd" : "auto";
	case KT_SET_MAX_FDS:
		/* heldfd.h's KT_HELD_MAX (unit_config checks they agree). */
		kt_buf_i64(&b, c->max_fds == KT_MAX_FDS_DEFAULT ? 64 : c->max_fds);
		return buf;
	case KT_SET_EXITCODE:
		if (!c->exitcode)
			return "the program's own exit status";
		kt_buf_i64(&b, c->exitcode);
		return buf;
	case KT_SET_OBSERVE:
		return mode_word(c->observe);
	case KT_SET_PROVOKE_FD:
		if (c->provoke_fd < 0)
			return "no reuse provoker";
		kt_buf_i64(&b, c->provoke_fd);
		kt_buf_char(&b, ':');
		kt_buf_u64(&b, c->provoke_ino);
		return buf;
	default:
		return "?";
	}
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
		if (v >= KT_MAX_FDS_LIMIT)
			return -1;
	}
	if (v < 3)
		return -1;
	*s = p;
	return (int)v;
}

static int take_provoke_fd(struct kt_config *c, const char *v)
{
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
	if (!ok || !ino)
		return 0;
	c->provoke_fd = fd;
	c->provoke_ino = ino;
	return 1;
}

/* Take V as the value of setting S.  Returns NULL when taken, else the
 * values expected, for the warning.  FROM_CALLER: V comes from the
 * environment of a secure-execution process, whose caller may not choose a
 * file for it to write. */
static const char *take(struct kt_config *c, enum kt_setting s, const char *v, int from_caller)
{
	static const char *const modes[] = { "off", "audit", "enforce" };
	static const char *const identities[] = { "auto", "inode", "none", "fd" };
	static const enum kt_identity_mode identity_wanted[] = {
		KT_IDENTITY_INODE, KT_IDENTITY_INODE, KT_IDENTITY_NONE, KT_IDENTITY_FD
	};
	static const char *const formats[] = { "text", "json" };
	static const char *const bits[] = { "0", "1" };
	int i;
	long n;
	switch (s) {
	case KT_SET_MODE:
		if ((i = pick(v, modes, 3)) < 0)
			return "enforce, audit or off";
		c->mode = (enum kt_mode)i; /* same order as enum kt_mode */
		return NULL;
	case KT_SET_LOG:
		if (strcmp(v, "stderr") == 0) {
			c->log_target = KT_LOG_STDERR;
		} else if (strcmp(v, "syslog") == 0) {
			c->log_target = KT_LOG_SYSLOG;
		} else if (from_caller) {
			/* A set-user-ID program must not append to a file its
			 * unprivileged caller names. */
			return "stderr or syslog in secure-execution mode";
		} else if (v[0] != '/') {
			/* A relative path would depend on the program's working
			 * directory at start-up, which surprises more than it helps. */
			return "stderr, syslog or an absolute path";
		} else {
			c->log_target = KT_LOG_FILE;
			c->log_path = v;
			return NULL;
		}
		c->log_path = NULL;
		return NULL;
	case KT_SET_LOG_FORMAT:
		if ((i = pick(v, formats, 2)) < 0)
			return "text or json";
		c->log_format = (enum kt_log_format)i;
		return NULL;
	case KT_SET_STATS:
		if ((i = pick(v, bits, 2)) < 0)
			return "0 or 1";
		c->stats = i;
		return NULL;
	case KT_SET_IDENTITY:
		/* auto and inode are one wish: the strongest mode (config.h). */
		if ((i = pick(v, identities, 4)) < 0)
			return "auto, inode, fd or none";
		c->identity = identity_wanted[i];
		return NULL;
	case KT_SET_MAX_FDS:
		if ((n = parse_count(v, KT_MAX_FDS_MAX)) < 0)
			return "a whole number from 0 to 1024";
		c->max_fds = n;
		return NULL;
	case KT_SET_EXITCODE:
		if ((n = parse_count(v, 255)) < 1)
			return "a number from 1 to 255";
		c->exitcode = (int)n;
		return NULL;
	case KT_SET_OBSERVE:
		if ((i = pick(v, modes, 3)) < 0)
			return "off, audit or enforce";
		c->observe = (enum kt_mode)i; /* same order as enum kt_mode */
		return NULL;
	case KT_SET_PROVOKE_FD:
		return take_provoke_fd(c, v) ? NULL : "FD:INODE, FD 3 or more";
	default:
		return "nothing";
	}
}

/* "; using VALUE", and where VALUE came from when that was the file. */
static void say_using(const struct kt_config *c, struct kt_buf *b, enum kt_setting s)
{
	char tmp[48];
	kt_buf_str(b, "; using ");
	kt_buf_quoted(b, kt_setting_value(c, s, tmp, sizeof tmp), 60);
	if (c->source[s] == KT_FROM_FILE && c->file) {
		kt_buf_str(b, " (from ");
		kt_buf_str(b, c->file);
		kt_buf_char(b, ':');
		kt_buf_u64(b, c->line[s]);
		kt_buf_char(b, ')');
	}
}

/* Set S from V, taken from the environment (LINE 0) or from line LINE of
 * the file; a bad V changes nothing and is warned about. */
static void set(struct kt_config *c, enum kt_setting s, const char *v, unsigned line,
                int from_caller)
{
	/* An empty value of a setting that is unset by default (KT_LOG=,
	 * "exitcode =") is as if it were not there: the file shows those
	 * defaults so. */
	if ((s == KT_SET_LOG || s == KT_SET_EXITCODE) && !*v)
		return;
	const char *expected = take(c, s, v, from_caller);
	if (!expected) {
		c->source[s] = line ? KT_FROM_FILE : KT_FROM_ENV;
		c->line[s] = line;
		return;
	}
	struct kt_buf b;
	if (!warning_line(c, &b))
		return;
	if (line) {
		kt_buf_str(&b, c->file);
		kt_buf_char(&b, ':');
		kt_buf_u64(&b, line);
		kt_buf_str(&b, ": ignoring ");
		kt_buf_str(&b, names[s].key);
		kt_buf_str(&b, " = \"");
	} else {
		kt_buf_str(&b, "ignoring ");
		kt_buf_str(&b, names[s].env);
		kt_buf_str(&b, "=\"");
	}
	kt_buf_quoted(&b, v, 40);
	kt_buf_str(&b, "\" (expected ");
	kt_buf_str(&b, expected);
	kt_buf_char(&b, ')');
	say_using(c, &b, s);
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* A line of the file that is not a setting: one warning naming it. */
static void bad_line(struct kt_config *c, unsigned line, const char *what, const char *text,
                     const char *expected)
{
	struct kt_buf b;
	if (!warning_line(c, &b))
		return;
	kt_buf_str(&b, c->file);
	kt_buf_char(&b, ':');
	kt_buf_u64(&b, line);
	kt_buf_str(&b, ": ignoring ");
	kt_buf_str(&b, what);
	kt_buf_str(&b, "\"");
	kt_buf_quoted(&b, text, 40);
	kt_buf_str(&b, "\" (expected ");
	kt_buf_str(&b, expected);
	kt_buf_char(&b, ')');
}

/* One line, cut in place: "key = value", with blanks around either. */
static void file_line(struct kt_config *c, char *p, char *end, unsigned line)
{
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#')
		return;
	*end = '\0';
	if (memchr(p, '\0', (size_t)(end - p)) != NULL) {
		bad_line(c, line, "a line holding a NUL byte ", p, "text");
		return;
	}
	/* A comment after the value starts with a blank and '#'. */
	for (char *q = p + 1; q < end; q++)
		if (*q == '#' && is_blank(q[-1])) {
			end = q;
			break;
		}
	while (end > p && is_blank(end[-1]))
		end--;
	*end = '\0';
	char *eq = strchr(p, '=');
	if (!eq) {
		bad_line(c, line, "", p, "key = value");
		return;
	}
	char *key_end = eq;
	while (key_end > p && is_blank(key_end[-1]))
		key_end--;
	char *value = eq + 1;
	while (is_blank(*value))
		value++;
	*key_end = '\0';
	for (int s = 0; s < KT_SETTINGS; s++)
		if (names[s].key && strcmp(p, names[s].key) == 0) {
			set(c, (enum kt_setting)s, value, line, 0);
			return;
		}
	bad_line(c, line, "unknown key ", p,
	         "mode, log, log_format, stats, identity, max_fds, exitcode or observe");
}

void kt_config_file(struct kt_config *c, char *text, size_t len, const char *path)
{
	c->file = path;
	unsigned line = 0;
	char *p = text, *end = text + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		/* The last line may lack its newline: TEXT has room for a NUL
		 * after LEN bytes (kt_config_file's contract). */
		char *eol = nl ? nl : end;
		file_line(c, p, eol, ++line);
		p = eol + 1;
	}
}

static const char *lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

void kt_config_env(struct kt_config *c, char *const *envp, int secure)
{
	for (int s = 0; s < KT_SETTINGS; s++) {
		const char *v = lookup(envp, names[s].env);
		if (v)
			set(c, (enum kt_setting)s, v, 0, secure);
	}
}

void kt_config_parse(struct kt_config *c, char *const *envp, int secure)
{
	kt_config_defaults(c);
	kt_config_env(c, envp, secure);
}
