/* SPDX-License-Identifier: MIT */
/* libkt.conf: the machine's settings, in SYSCONFDIR (/etc by default), for
 * every process that loads libkt, including those whose environment says
 * nothing (cron, env -i, a container's init).  Read once, at start-up, with
 * raw system calls into a buffer of its own: no stdio, no malloc, so
 * async-signal-safe like the rest of start-up. */
#ifndef KT_CONFFILE_H
#define KT_CONFFILE_H

#include "config.h"

#ifndef KT_SYSCONFDIR
#define KT_SYSCONFDIR "/etc"
#endif
#define KT_CONF_PATH KT_SYSCONFDIR "/libkt.conf"
/* Bytes read: the shipped file, every key explained, is a fraction of it. */
#define KT_CONF_MAX 8192

/* Apply KT_CONF_PATH to C (kt_config_file) if it is there and can be
 * trusted: a regular file, owned by root, writable by nobody else.  A file
 * that exists but cannot be trusted or read is ignored with one warning in
 * C; a missing one costs one failed open and says nothing. */
void kt_conffile_read(struct kt_config *c);

#endif
