/* SPDX-License-Identifier: MIT */
/* The pieces every report line is made of, in both formats.  Every line
 * names the process that wrote it, since one log collects the reports of
 * every process that inherited KT_LOG.  Allocation-free (fmt.h). */
#ifndef KT_LINE_H
#define KT_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"

/* {"event":EVENT,"time":...,"process":{"pid":...,"comm":...} (unclosed). */
void kt_json_begin(struct kt_buf *b, const char *event);
/* ,"KEY": */
void kt_json_key(struct kt_buf *b, const char *key);
/* S as a JSON string, at most MAX bytes of it. */
void kt_json_str(struct kt_buf *b, const char *s, size_t max);
/* ,"KEY":"S" (null for a NULL S) and ,"KEY":V */
void kt_json_kv_str(struct kt_buf *b, const char *key, const char *s);
void kt_json_kv_u64(struct kt_buf *b, const char *key, uint64_t v);
/* Wall-clock time as a JSON number of seconds with milliseconds. */
void kt_json_time(struct kt_buf *b, uint64_t wall_ns);

/* "libkt: " (what people and scripts grep for) ... " [pid 1234 name]" */
void kt_text_begin(struct kt_buf *b);
void kt_text_end(struct kt_buf *b);

#endif
