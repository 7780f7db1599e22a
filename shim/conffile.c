/* SPDX-License-Identifier: MIT */
/* libkt.conf (conffile.h). */
#include "conffile.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "fmt.h"
#include "sys.h"


/* "ignoring PATH: WHY". */
static void ignore_file(struct kt_config *c, const char *why, long err)
{
	char text[160];
	struct kt_buf b = KT_BUF(text);
	kt_buf_str(&b, "ignoring " KT_CONF_PATH ": ");
	kt_buf_str(&b, why);
	if (err) {
		kt_buf_str(&b, err == -EACCES ? " (permission denied)" : " (errno ");
		if (err != -EACCES) {
			kt_buf_i64(&b, -err);
			kt_buf_char(&b, ')');
		}
	}
	kt_config_warn(c, text);
}

void kt_conffile_read(struct kt_config *c)
{
	/* O_NONBLOCK: a FIFO put there must not hang every process start. */
	int fd = (int)kt_syscall(SYS_openat, AT_FDCWD, (long)KT_CONF_PATH,
	                         O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0, 0);
	if (fd == -ENOENT)
		return;
	if (fd < 0) {
		ignore_file(c, "it cannot be opened", fd);
		return;
	}
	struct stat st;
	long r = kt_syscall(SYS_fstat, fd, (long)&st, 0, 0, 0);
	/* Only root may set what every process on the machine does, set-user-ID
	 * programs included. */
	const char *distrust = r < 0                           ? "it cannot be examined" :
	                       !S_ISREG(st.st_mode)            ? "it is not a regular file" :
	                       st.st_uid != 0                  ? "it is not owned by root" :
	                       (st.st_mode & (S_IWGRP | S_IWOTH)) ? "it is writable by group or others" :
	                                                         NULL;
	size_t len = 0;
	/* The file's text, for the life of the process: the log path points
	 * into it.  Pages of their own, mapped only when there is a file to
	 * read: in .bss it pushed start-up's variables onto a page more, which
	 * every process paid for. */
	char *conf_text = NULL;
	if (!distrust && !(conf_text = kt_zeroed_pages(KT_CONF_MAX + 1)))
		distrust = "no memory to read it into";
	if (!distrust) {
		size_t want = st.st_size > KT_CONF_MAX ? KT_CONF_MAX : (size_t)st.st_size;
		while (len < want) {
			r = kt_syscall(SYS_read, fd, (long)(conf_text + len), (long)(want - len), 0, 0);
			if (r == -EINTR)
				continue;
			if (r <= 0)
				break;
			len += (size_t)r;
		}
		if (r < 0)
			distrust = "it cannot be read";
	}
	kt_close(fd);
	if (distrust) {
		ignore_file(c, distrust, r < 0 ? r : 0);
		return;
	}
	if (st.st_size > KT_CONF_MAX) {
		/* Whole lines only: half a line would be a different setting. */
		while (len > 0 && conf_text[len - 1] != '\n')
			len--;
		kt_config_warn(c, KT_CONF_PATH ": longer than 8192 bytes; the lines past that are ignored");
	}
	kt_config_file(c, conf_text, len, KT_CONF_PATH);
}
