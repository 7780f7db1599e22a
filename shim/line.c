/* SPDX-License-Identifier: MIT */
/* The pieces of report lines (line.h). */
#include "line.h"

#include <errno.h>

#include "sys.h"

static int64_t self_pid(void)
{
	return kt_syscall(SYS_getpid, 0, 0, 0, 0, 0);
}

void kt_json_key(struct kt_buf *b, const char *key)
{
	kt_buf_str(b, ",\"");
	kt_buf_str(b, key);
	kt_buf_str(b, "\":");
}

void kt_json_str(struct kt_buf *b, const char *s, size_t max)
{
	kt_buf_char(b, '"');
	kt_buf_json(b, s, max);
	kt_buf_char(b, '"');
}

void kt_json_kv_str(struct kt_buf *b, const char *key, const char *s)
{
	kt_json_key(b, key);
	if (s)
		kt_json_str(b, s, (size_t)-1);
	else
		kt_buf_str(b, "null");
}

void kt_json_kv_u64(struct kt_buf *b, const char *key, uint64_t v)
{
	kt_json_key(b, key);
	kt_buf_u64(b, v);
}

void kt_json_time(struct kt_buf *b, uint64_t wall_ns)
{
	kt_buf_millis(b, wall_ns);
}

void kt_json_begin(struct kt_buf *b, const char *event)
{
	kt_buf_str(b, "{\"event\":\"");
	kt_buf_str(b, event);
	kt_buf_char(b, '"');
	kt_json_key(b, "time");
	kt_json_time(b, kt_wall_ns());
	kt_json_key(b, "process");
	kt_buf_str(b, "{\"pid\":");
	kt_buf_i64(b, self_pid());
	/* glibc's pointer into our own argv[0], set before any constructor: a
	 * plain memory read, unlike /proc/self/comm. */
	kt_json_kv_str(b, "comm", program_invocation_short_name);
	kt_buf_char(b, '}');
}

void kt_text_begin(struct kt_buf *b)
{
	kt_buf_str(b, "libkt: ");
}

void kt_text_end(struct kt_buf *b)
{
	kt_buf_str(b, " [pid ");
	kt_buf_i64(b, self_pid());
	kt_buf_char(b, ' ');
	kt_buf_quoted(b, program_invocation_short_name, 32);
	kt_buf_char(b, ']');
}
