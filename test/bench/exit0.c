/* SPDX-License-Identifier: MIT */
/* The program the vfork+exec and posix_spawn cycles execute: static, no libc,
 * one exit_group syscall.  Static, so LD_PRELOAD does not load anything into
 * it and the cycle measures the spawning side's hooks rather than start-up
 * (start-up has its own row).  x86_64 only, like the rest of the bench's
 * assumptions; elsewhere the bench falls back to /bin/true. */
#if defined(__x86_64__)
__attribute__((noreturn)) void _start(void);
__attribute__((noreturn)) void _start(void)
{
	__asm__ volatile("mov $231, %%eax\n\txor %%edi, %%edi\n\tsyscall" ::: "memory");
	__builtin_unreachable();
}
#else
int main(void)
{
	return 0;
}
#endif
