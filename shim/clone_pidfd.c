/* SPDX-License-Identifier: MIT */
/* Whether clone takes CLONE_PIDFD here (clone_pidfd.h). */
#include "clone_pidfd.h"

#include <stdatomic.h>

#include "report.h"

static _Atomic int refused;

int kt_clone_pidfd_usable(void)
{
	return !atomic_load_explicit(&refused, memory_order_relaxed);
}

void kt_clone_pidfd_refused(int err)
{
	if (!atomic_exchange(&refused, 1))
		kt_report_degraded(KT_DEGRADED_NO_CLONE_PIDFD, err);
}
