/* Code a forked child runs between fork() returning and its exec or exit.
 *
 * fork() copies no page-table entries for file-backed text: the child takes
 * a minor fault on each page of code it executes.  Left where the linker
 * happens to put them, the few small functions libkt runs in the child (the
 * hook's return path, forgetting its own PID, a table lookup, a raw getpid)
 * sat on four different pages of libkt, and each fork paid four faults the
 * child would not have taken without libkt (perf's minor-faults events,
 * children included).  One named section keeps them together; GNU ld
 * gathers .text.hot.* input sections side by side. */
#ifndef KT_HOT_H
#define KT_HOT_H

#define KT_CHILD_PATH __attribute__((section(".text.hot.kt_child_path")))

#endif
