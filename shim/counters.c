/* The counters' values (the list is in counters.h). */
#include "counters.h"

#include <stdatomic.h>

#include "hot.h"

/* Registrations count here: beside the table's counters (hot.h). */
static _Atomic uint64_t values[KT_N_COUNTERS] KT_FORK_DATA;

void kt_count(enum kt_counter which)
{
	atomic_fetch_add_explicit(&values[which], 1, memory_order_relaxed);
}

uint64_t kt_counter(enum kt_counter which)
{
	return atomic_load(&values[which]);
}
