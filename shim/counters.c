/* SPDX-License-Identifier: MIT */
/* The counters' values (the list is in counters.h). */
#include "counters.h"

#include <stdatomic.h>

#include "table.h"

_Static_assert(KT_N_COUNTERS <= KT_SELF_COUNTERS, "the counters fit the self page's room");

/* The values live in the PID tables' self page (table.h), which a forked
 * child sees zeroed: it counts from zero, and counting a registration copies
 * no page shared with a child. */
void kt_count(enum kt_counter which)
{
	atomic_fetch_add_explicit(&kt_table_counters()[which], 1, memory_order_relaxed);
}

uint64_t kt_counter(enum kt_counter which)
{
	return atomic_load(&kt_table_counters()[which]);
}
