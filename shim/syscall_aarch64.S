/* SPDX-License-Identifier: MIT */
/* syscall() for aarch64: the entry of libkt's hook.  Why assembly: see
 * syscall_x86_64.S.  Here the point is the link register: glibc's syscall()
 * returns with `ret`, to x30, and a child on a new stack inherits x30; with a
 * C function in between, the child would come back into that function, on a
 * stack holding none of its frame.  So every call libkt does not take over
 * is made here, as glibc makes it:
 *
 *   x0 = number, x1..x6 = the six arguments; the result in x0, or -1 and
 *   errno for -4095..-1 (kt_sys_result).
 *
 * clone and clone3 first ask kt_syscall_makes_child whether the call makes a
 * fork-like child (see the x86_64 file); those are made by
 * kt_syscall_make_child.  aarch64 has no fork system call. */

#define SYS_dup3 24
#define SYS_close 57
#define SYS_clone 220
#define SYS_clone3 435
#define SYS_close_range 436

/* The frame of .Lask: */
#define F_REGS 16	/* x0..x6, after x29 and x30 */
#define F_SNAP 80	/* KT_SYSCALL_SNAPSHOT (256) bytes */
#define F_SIZE 336

	.text
	.globl	syscall
	.type	syscall, %function
	.p2align 4
syscall:
	.cfi_startproc
	cmp	x0, #SYS_clone
	b.eq	.Lask
	cmp	x0, #SYS_clone3
	b.eq	.Lask
	/* close, close_range and dup3 (no dup2 here): kt_syscall_fd guards
	 * fd mode's held pidfds (see the x86_64 file). */
	cmp	x0, #SYS_close
	b.eq	.Lfd
	cmp	x0, #SYS_dup3
	b.eq	.Lfd
	cmp	x0, #SYS_close_range
	b.eq	.Lfd
.Lraw:
	mov	x8, x0
	mov	x0, x1
	mov	x1, x2
	mov	x2, x3
	mov	x3, x4
	mov	x4, x5
	mov	x5, x6
	svc	#0
	cmn	x0, #4095
	b.cs	.Lerror
	ret
.Lerror:
	b	kt_sys_result
.Lfd:
	b	kt_syscall_fd

.Lask:
	sub	sp, sp, #F_SIZE
	.cfi_def_cfa_offset F_SIZE
	stp	x29, x30, [sp]
	.cfi_offset x29, -F_SIZE
	.cfi_offset x30, -F_SIZE+8
	mov	x29, sp
	stp	x0, x1, [sp, #F_REGS]
	stp	x2, x3, [sp, #F_REGS+16]
	stp	x4, x5, [sp, #F_REGS+32]
	str	x6, [sp, #F_REGS+48]
	add	x3, sp, #F_SNAP
	bl	kt_syscall_makes_child
	mov	w9, w0
	ldp	x0, x1, [sp, #F_REGS]
	ldp	x2, x3, [sp, #F_REGS+16]
	ldp	x4, x5, [sp, #F_REGS+32]
	ldr	x6, [sp, #F_REGS+48]
	cbnz	w9, .Lmake
	ldp	x29, x30, [sp]
	add	sp, sp, #F_SIZE
	.cfi_remember_state
	.cfi_restore x29
	.cfi_restore x30
	.cfi_def_cfa_offset 0
	b	.Lraw

	.cfi_restore_state
.Lmake:
	add	x7, sp, #F_SNAP
	bl	kt_syscall_make_child
	/* The parent, or the fork-like child on its copy of this frame. */
	ldp	x29, x30, [sp]
	add	sp, sp, #F_SIZE
	.cfi_restore x29
	.cfi_restore x30
	.cfi_def_cfa_offset 0
	ret
	.cfi_endproc
	.size	syscall, .-syscall

	.section .note.GNU-stack, "", %progbits
