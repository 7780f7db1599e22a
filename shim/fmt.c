/* SPDX-License-Identifier: MIT */
/* Allocation-free text building: see fmt.h. */
#include "fmt.h"

#include <signal.h>

void kt_buf_char(struct kt_buf *b, char c)
{
	if (b->cap == 0)
		return;
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void kt_buf_strn(struct kt_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		kt_buf_char(b, s[i]);
}

void kt_buf_str(struct kt_buf *b, const char *s)
{
	kt_buf_strn(b, s, (size_t)-1);
}

void kt_buf_u64(struct kt_buf *b, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		kt_buf_char(b, tmp[--n]);
}

void kt_buf_i64(struct kt_buf *b, int64_t v)
{
	if (v < 0) {
		kt_buf_char(b, '-');
		/* -(INT64_MIN) overflows; go through unsigned. */
		kt_buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		kt_buf_u64(b, (uint64_t)v);
	}
}

void kt_buf_millis(struct kt_buf *b, uint64_t ns)
{
	uint64_t ms = ns / 1000000;
	kt_buf_u64(b, ms / 1000);
	kt_buf_char(b, '.');
	unsigned frac = (unsigned)(ms % 1000);
	kt_buf_char(b, (char)('0' + frac / 100));
	kt_buf_char(b, (char)('0' + frac / 10 % 10));
	kt_buf_char(b, (char)('0' + frac % 10));
}

void kt_buf_secs(struct kt_buf *b, uint64_t ns)
{
	kt_buf_millis(b, ns);
	kt_buf_char(b, 's');
}

void kt_buf_quoted(struct kt_buf *b, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			kt_buf_str(b, "\\x");
			kt_buf_char(b, hex[c >> 4]);
			kt_buf_char(b, hex[c & 15]);
		} else {
			kt_buf_char(b, (char)c);
		}
	}
}

void kt_buf_json(struct kt_buf *b, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			kt_buf_char(b, '\\');
			kt_buf_char(b, (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			kt_buf_str(b, "\\u00");
			kt_buf_char(b, hex[c >> 4]);
			kt_buf_char(b, hex[c & 15]);
		} else {
			kt_buf_char(b, (char)c);
		}
	}
}

void kt_buf_hex(struct kt_buf *b, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;
	do {
		tmp[n++] = hex[v & 15];
		v >>= 4;
	} while (v);
	kt_buf_str(b, "0x");
	while (n)
		kt_buf_char(b, tmp[--n]);
}

const char *kt_signal_name(int sig, char tmp[16])
{
	static const char *const names[32] = {
		[0] = "0", [SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
		[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
		[SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
		[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
		[SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
		[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
		[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
		[SIGSYS] = "SIGSYS",
	};
	if (sig >= 0 && sig < 32 && names[sig])
		return names[sig];
	/* Real-time signals: the kernel's numbering (32..64), which glibc
	 * reserves the first two or three of; name them by offset from 32. */
	if (sig >= 32 && sig <= 64) {
		struct kt_buf b = { tmp, 0, 16 };
		kt_buf_str(&b, "SIGRT");
		kt_buf_u64(&b, (uint64_t)(sig - 32));
		return tmp;
	}
	return NULL;
}
