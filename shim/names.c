/* SPDX-License-Identifier: MIT */
/* The words of the reports (names.h). */
#include "names.h"

const char kt_made_by_name[KT_MADE_BY_COUNT][16] = {
	[KT_MADE_FORK] = "fork",
	[KT_MADE__FORK] = "_Fork",
	[KT_MADE_POSIX_SPAWN] = "posix_spawn",
	[KT_MADE_POSIX_SPAWNP] = "posix_spawnp",
	[KT_MADE_VFORK] = "vfork",
	[KT_MADE_CLONE] = "clone",
	[KT_MADE_PIDFD_SPAWN] = "pidfd_spawn",
	[KT_MADE_PIDFD_SPAWNP] = "pidfd_spawnp",
	[KT_MADE_SYSCALL] = "syscall",
};

/* JSON keys */
const char kt_reaped_by_key[KT_REAPED_BY_COUNT][24] = {
	[KT_REAPED_WAIT] = "wait",
	[KT_REAPED_WAITPID] = "waitpid",
	[KT_REAPED_WAIT3] = "wait3",
	[KT_REAPED_WAIT4] = "wait4",
	[KT_REAPED_WAITID] = "waitid",
	[KT_REAPED_UNSEEN] = "unseen",
	[KT_REAPED_BEFORE_REGISTRATION] = "before_registration",
};

/* The same as the prose of text reports */
const char kt_reaped_by_text[KT_REAPED_BY_COUNT][72] = {
	[KT_REAPED_WAIT] = "by wait()",
	[KT_REAPED_WAITPID] = "by waitpid()",
	[KT_REAPED_WAIT3] = "by wait3()",
	[KT_REAPED_WAIT4] = "by wait4()",
	[KT_REAPED_WAITID] = "by waitid()",
	[KT_REAPED_UNSEEN] = "outside libkt's hooks (SIGCHLD ignored, or a libc-internal wait)",
	[KT_REAPED_BEFORE_REGISTRATION] = "before fork returned",
};

const char kt_degraded_key[KT_DEGRADED_REASONS][16] = {
	[KT_DEGRADED_NO_PIDFD] = "no_pidfd",
	[KT_DEGRADED_NO_PIDFS] = "no_pidfs",
	[KT_DEGRADED_FD_EXHAUSTED] = "fd_exhausted",
	[KT_DEGRADED_NO_MEMORY] = "no_memory",
	[KT_DEGRADED_NO_CLONE_PIDFD] = "no_clone_pidfd",
	[KT_DEGRADED_NO_PGRP_SIGNAL] = "no_pgrp_signal",
	[KT_DEGRADED_FD_BUDGET] = "fd_budget",
};

const char kt_degraded_text[KT_DEGRADED_REASONS][168] = {
	[KT_DEGRADED_NO_PIDFD] =
		"pidfd_open is unavailable (kernel < 5.3 or a seccomp filter): "
		"children are told apart only by libkt's own wait hooks",
	[KT_DEGRADED_NO_PIDFS] =
		"this kernel has no pidfs (< 6.9): pidfds carry no process identity, "
		"so a child made with one is proven at its first kill like a fork's child",
	[KT_DEGRADED_FD_EXHAUSTED] =
		"could not open a pidfd for a child (no descriptor free): its kill is judged by number",
	[KT_DEGRADED_NO_MEMORY] =
		"no memory for the PID table; a child goes untracked",
	[KT_DEGRADED_NO_CLONE_PIDFD] =
		"clone refuses CLONE_PIDFD (kernel < 5.2, an emulator, or seccomp): "
		"vfork and clone children are registered after the fact, like fork's",
	[KT_DEGRADED_NO_PGRP_SIGNAL] =
		"pidfd_send_signal lacks PIDFD_SIGNAL_PROCESS_GROUP (kernel < 6.9): "
		"killpg and kill(-pgid) of a live group go by number",
	[KT_DEGRADED_FD_BUDGET] =
		"no room to hold another pidfd (KT_MAX_FDS, RLIMIT_NOFILE): "
		"further children are tracked without one",
};

const char kt_mode_name[KT_MODE_ENFORCE + 1][8] = {
	[KT_MODE_OFF] = "off",
	[KT_MODE_AUDIT] = "audit",
	[KT_MODE_ENFORCE] = "enforce",
};
