/* Code a forked child runs between fork() returning and its exec or exit.
 *
 * fork() copies no page-table entries for file-backed text: the child takes
 * a minor fault on each page of code it executes.  Left where the linker
 * happens to put them, the few small functions libkt runs in the child (the
 * hook's return path, forgetting its own PID, a table lookup, a raw getpid)
 * would sit on several pages of libkt, and each fork would pay a fault per
 * page that the child would not have taken without libkt.  One named
 * section keeps them together; GNU ld gathers .text.hot.* input sections
 * side by side. */
#ifndef KT_HOT_H
#define KT_HOT_H

#define KT_CHILD_PATH __attribute__((section(".text.hot.kt_child_path")))

/* Data a registration writes (the table's counters, libkt's counters), kept
 * together in .data.  Right after fork() each page the parent writes costs a
 * page copy while the child lives; in .bss such variables landed on a page
 * of their own, behind other files' large zeroed arrays, and a fork paid one
 * copy more. */
#define KT_FORK_DATA __attribute__((section(".data")))

#endif
