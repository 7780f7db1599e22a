/* The public introspection API (include/kt.h).  Lock-free reads only, so it
 * is as safe in a signal handler as the hooks are. */
#include <kt.h>
#include <string.h>

#include "state.h"

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
		.children_tracked = atomic_load(&kt_state.n.children_tracked),
		.kills_via_pidfd = atomic_load(&kt_state.n.kills_via_pidfd),
		.stale_refused = atomic_load(&kt_state.n.stale_refused),
		.stale_delivered = atomic_load(&kt_state.n.stale_delivered),
		.fallbacks = atomic_load(&kt_state.n.fallbacks),
		.reaps_seen = atomic_load(&kt_state.n.reaps_seen),
		.mode = (uint32_t)kt_mode(),
	};
	int id = kt_identity_mode();
	c.identity_mode = id == KT_IDMODE_UNPROBED ? KT_IDENTITY_INODE : (uint32_t)id;
	memcpy(out, &c, size < sizeof c ? size : sizeof c);
	return (int)sizeof c;
}
