/* SPDX-License-Identifier: MIT */
/* libkt's counters: what KT_STATS's summary and kt_counters() (kt.h) show.
 *
 * Each counter is listed once, in KT_COUNTERS; the public struct, the text
 * and JSON summaries and the API are all made from that list.  Counting is
 * one relaxed atomic add: async-signal-safe, fine between threads. */
#ifndef KT_COUNTERS_H
#define KT_COUNTERS_H

#include <stdint.h>

/* X(ID, field, words): ID names the counter here, field is its member of
 * struct kt_counters and its JSON key, words follow its number in the text
 * summary.  The order is the text summary's. */
#define KT_COUNTERS(X)                                                         \
	X(CHILDREN_TRACKED, children_tracked, "children tracked")                  \
	X(REAPS_SEEN, reaps_seen, "reaps seen")                                    \
	X(KILLS_VIA_PIDFD, kills_via_pidfd, "kills delivered through pidfds")      \
	X(STALE_REFUSED, stale_refused, "stale kills refused")                     \
	X(STALE_DELIVERED, stale_delivered, "stale kills let through")             \
	X(FALLBACKS, fallbacks, "fallbacks")

enum kt_counter {
#define KT_COUNTER_ID(id, field, words) KT_N_##id,
	KT_COUNTERS(KT_COUNTER_ID)
#undef KT_COUNTER_ID
	KT_N_COUNTERS
};

void kt_count(enum kt_counter which);
uint64_t kt_counter(enum kt_counter which);

#endif
