/* SPDX-License-Identifier: MIT */
/* Code a forked child runs between fork() returning and its exec or exit.
 *
 * fork() copies no page-table entries for file-backed text: the child takes
 * a minor fault on each page of code it executes.  Left where the linker
 * happens to put them, the few small functions libkt runs in the child (the
 * hook's return path, forgetting the parent's vfork and table) would sit on
 * several pages of libkt, and each fork would pay a fault per
 * page that the child would not have taken without libkt.  One named
 * section keeps them together; GNU ld gathers .text.hot.* input sections
 * side by side. */
#ifndef KT_HOT_H
#define KT_HOT_H

#define KT_CHILD_PATH __attribute__((section(".text.hot.kt_child_path")))

#endif
