/* SPDX-License-Identifier: MIT */
/* The public introspection API (include/kt.h).  Lock-free reads only, so it
 * is as safe in a signal handler as the hooks are. */
#include <kt.h>
#include <string.h>

#include "counters.h"
#include "identity.h"
#include "init.h"
#include "table.h"

#define KT_STR2(x) #x
#define KT_STR(x) KT_STR2(x)

KT_EXPORT const char *kt_version(void)
{
	return KT_STR(KT_VERSION_MAJOR) "." KT_STR(KT_VERSION_MINOR) "." KT_STR(KT_VERSION_PATCH);
}

KT_EXPORT int kt_pid_state(pid_t pid)
{
	struct kt_slot *s = kt_table_find(pid);
	if (!s)
		return KT_PID_UNTRACKED;
	switch (kt_word_state(atomic_load_explicit(&s->word, memory_order_acquire))) {
	case KT_SLOT_LIVE:
	case KT_SLOT_LIVE_UNVERIFIED:
		return KT_PID_LIVE;
	case KT_SLOT_REAPED:
		return KT_PID_REAPED;
	default:
		return KT_PID_UNTRACKED;
	}
}

KT_EXPORT int kt_counters(struct kt_counters *out, size_t size)
{
	if (!out)
		return -1;
	struct kt_counters c = {
#define KT_API_FIELD(id, field, words) .field = kt_counter(KT_N_##id),
		KT_COUNTERS(KT_API_FIELD)
#undef KT_API_FIELD
		.mode = (uint32_t)kt_mode(),
	};
	/* Undecided (no child yet): the mode a first child on pidfs gets. */
	int id = kt_identity_mode();
	c.identity_mode = id == KT_IDENTITY_UNDECIDED ? KT_IDENTITY_INODE : (uint32_t)id;
	memcpy(out, &c, size < sizeof c ? size : sizeof c);
	return (int)sizeof c;
}
