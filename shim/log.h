/* SPDX-License-Identifier: MIT */
/* The log: where KT_LOG sends reports (stderr, a file or syslog), and
 * nowhere else.  No descriptor is held between reports; each line is written
 * whole with raw syscalls, so from inside kill(), and so from signal
 * handlers (log.c says how). */
#ifndef KT_LOG_H
#define KT_LOG_H

#include <stdint.h>

#include "config.h"
#include "fmt.h"

/* The local syslog socket (glibc's _PATH_LOG). */
#define KT_SYSLOG_PATH "/dev/log"

/* Check the sink C names and turn reports on if it can be written
 * (constructor).  A KT_LOG file that cannot be opened is said once, on
 * stderr, and reports stay off. */
void kt_log_open(const struct kt_config *c);
/* 1 if reports go anywhere: callers skip gathering facts otherwise. */
int kt_log_wanted(void);
/* 1 if lines are JSON (KT_LOG_FORMAT=json), 0 for text. */
int kt_log_json(void);
/* Write B as one line (a newline is added; an overlong line is cut short). */
void kt_log_line(struct kt_buf *b);
/* Lines the log could not take (no descriptor left, the start-up stderr
 * gone, no syslog socket or a full one): for the summary. */
uint64_t kt_log_dropped(void);
/* Count a line that could not even be made (no memory for it). */
void kt_log_drop(void);

#endif
