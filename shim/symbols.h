/* SPDX-License-Identifier: MIT */
/* A cheaper dlsym(RTLD_NEXT) for the constructor's lookups (real.c): the
 * objects loaded after libkt are listed once, and a name is found in their
 * GNU hash tables, without the loader's lock.  Only an answer that must be
 * dlsym's is given (libc's own default-version function, with nothing
 * before it defining the name); otherwise NULL, and the caller asks dlsym.
 * Start-up only: between open and close no other thread may dlclose. */
#ifndef KT_SYMBOLS_H
#define KT_SYMBOLS_H

void kt_symbols_open(void);
void *kt_symbols_next(const char *name);
void kt_symbols_close(void);

#endif
