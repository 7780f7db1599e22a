/* SPDX-License-Identifier: MIT */
/* Building text without stdio: bounded, allocation-free, async-signal-safe.
 * snprintf is not async-signal-safe, and reports are written from inside
 * kill(), which programs call from signal handlers. */
#ifndef KT_FMT_H
#define KT_FMT_H

#include <stddef.h>
#include <stdint.h>

struct kt_buf {
	char *p;
	size_t len, cap; /* text is always NUL-terminated; overflow truncates */
};

#define KT_BUF(arr) { .p = (arr), .len = 0, .cap = sizeof(arr) }

void kt_buf_str(struct kt_buf *b, const char *s);
void kt_buf_strn(struct kt_buf *b, const char *s, size_t n);
void kt_buf_char(struct kt_buf *b, char c);
void kt_buf_i64(struct kt_buf *b, int64_t v);
void kt_buf_u64(struct kt_buf *b, uint64_t v);
/* NS nanoseconds as seconds with three decimals: "12.345" (JSON times),
 * and with a unit: "12.345s" (text reports). */
void kt_buf_millis(struct kt_buf *b, uint64_t ns);
void kt_buf_secs(struct kt_buf *b, uint64_t ns);
/* S with anything outside printable ASCII, and '"' and '\\', escaped as \xHH:
 * names come from other processes and must not forge report lines. */
void kt_buf_quoted(struct kt_buf *b, const char *s, size_t max);

/* S as the inside of a JSON string (no quotes added): '"', '\\' and every
 * byte outside printable ASCII as \u00XX, so the output is always valid
 * ASCII JSON whatever bytes a process name holds (a byte >= 0x80 comes out
 * as the code point of the same number: unambiguous, if not UTF-8). */
void kt_buf_json(struct kt_buf *b, const char *s, size_t max);
/* V in hexadecimal with a 0x prefix. */
void kt_buf_hex(struct kt_buf *b, uint64_t v);

/* The symbolic name of a signal ("SIGTERM", "SIGRTMIN+3"), or NULL if SIG is
 * not a signal number. */
const char *kt_signal_name(int sig, char tmp[16]);

#endif
