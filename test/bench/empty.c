/* SPDX-License-Identifier: MIT */
/* The floor of any LD_PRELOAD shim: a shared library with nothing in it.
 * Whatever a process pays to load this (one more open/mmap/relocate, one more
 * hash table in every symbol lookup) libkt pays too; the bench compares libkt
 * against this, not against no preload at all.  ISO C wants at least one
 * declaration in a translation unit, hence the typedef, which emits nothing. */
typedef int kt_bench_empty_library;
