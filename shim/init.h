/* SPDX-License-Identifier: MIT */
/* Start-up, and the question every hook asks first: is libkt on?
 *
 * The constructor reads the configuration once and hands each room its part
 * (the log its sink, the identity room the mode wanted, the fd room its
 * budget, the provoker its socket); nothing is configured after it.  Until
 * it has run, hooks use the defaults, held in static initialisers, so a hook
 * called from another library's constructor still behaves. */
#ifndef KT_INIT_H
#define KT_INIT_H

#include <stdatomic.h>

#include "config.h"

/* The mark of libkt's exported functions: the hooks and the kt_* API. */
#define KT_EXPORT __attribute__((visibility("default")))

/* Written by kt_init_once only: STATE 0 not started, 1 running, 2 done;
 * MODE the configured KT_MODE, valid once STATE is 2. */
struct kt_started {
	_Atomic int state;
	enum kt_mode mode;
};
extern struct kt_started kt_started;

/* Run the constructor's work now if it has not run yet (a hook called before
 * it, e.g. from another library's constructor).  Cheap once done. */
void kt_init_once(void);

static inline enum kt_mode kt_mode(void)
{
	if (atomic_load_explicit(&kt_started.state, memory_order_acquire) != 2) {
		kt_init_once();
		/* Still not done: we interrupted the constructor itself. */
		if (atomic_load_explicit(&kt_started.state, memory_order_acquire) != 2)
			return KT_MODE_ENFORCE;
	}
	return kt_started.mode;
}

#endif
