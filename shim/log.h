/* The log: where KT_LOG sends reports, and nowhere else.  Opened once by
 * the constructor; written one whole line at a time with raw syscalls, so
 * from inside kill(), and so from signal handlers. */
#ifndef KT_LOG_H
#define KT_LOG_H

#include "config.h"
#include "fmt.h"

/* Open the sink C names (constructor); remember its format. */
void kt_log_open(const struct kt_config *c);
/* 1 if reports go anywhere: callers skip gathering facts otherwise. */
int kt_log_wanted(void);
/* 1 if lines are JSON (KT_LOG_FORMAT=json), 0 for text. */
int kt_log_json(void);
/* Write B as one line (a newline is added; an overlong line is cut short). */
void kt_log_line(struct kt_buf *b);

#endif
