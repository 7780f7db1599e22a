/* SPDX-License-Identifier: MIT */
/* vfork for aarch64: clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD|SIGCHLD).
 *
 * Why assembly, and where the pidfd goes: see hooks_vfork.c.  As in glibc's
 * sysdeps/unix/sysv/linux/aarch64/vfork.S, the return address is in x30 and
 * stays there: `svc` preserves every register but x0, in the parent and in
 * the child, so neither needs the stack after the clone.  We keep:
 *
 *   x30  the return address (reloaded before the clone)
 *   x2   clone's parent_tid: the slot from kt_vfork_prepare, where the
 *        kernel writes the pidfd; kept for kt_vfork_finish
 *
 * C is called only before the clone and in the parent after it, when the
 * child has exec'd or exited and the stack is ours again.  The child returns
 * straight from registers and touches no memory. */

#define SYS_clone 220
#define CLONE_VFORK_PLAIN 0x4111 /* CLONE_VM|CLONE_VFORK|SIGCHLD, as glibc */
#define CLONE_VFORK_PIDFD 0x5111 /* ... |CLONE_PIDFD */

	.text
	.globl	vfork
	.type	vfork, %function
	.p2align 4
vfork:
	.cfi_startproc
	stp	x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset x29, -16
	.cfi_offset x30, -8
	mov	x29, sp
	bl	kt_vfork_prepare
	ldp	x29, x30, [sp], #16
	.cfi_restore x29
	.cfi_restore x30
	.cfi_def_cfa_offset 0
	mov	x2, x0

	/* No slot (libkt off, nested in a vfork child, too deep), or the
	 * kernel refused CLONE_PIDFD before: what glibc would do. */
	cbz	x2, .Lplain
	ldr	w9, [x2]
	cmn	w9, #1			/* KT_VFORK_WANT_PIDFD */
	b.ne	.Lplain

	mov	x0, #CLONE_VFORK_PIDFD
	mov	x1, #0			/* newsp: the child runs on our stack */
	mov	x3, #0
	mov	x4, #0
	mov	x8, #SYS_clone
	svc	#0
	cbz	x0, .Lchild
	cmp	x0, #0
	b.gt	.Lparent

	/* Refused.  No child exists, so the stack is ours: ask whether to
	 * retry without CLONE_PIDFD (0) or to fail with this error. */
	stp	x29, x30, [sp, #-32]!
	.cfi_def_cfa_offset 32
	.cfi_offset x29, -32
	.cfi_offset x30, -24
	str	x2, [sp, #16]
	mov	x29, sp
	bl	kt_vfork_refused
	ldr	x2, [sp, #16]
	ldp	x29, x30, [sp], #32
	.cfi_restore x29
	.cfi_restore x30
	.cfi_def_cfa_offset 0
	cbnz	x0, .Lparent

.Lplain:
	mov	x0, #CLONE_VFORK_PLAIN
	mov	x1, #0
	mov	x3, #0
	mov	x4, #0
	mov	x8, #SYS_clone
	svc	#0
	cbz	x0, .Lchild

.Lparent:
	/* The child has exec'd or exited: register it, or set errno. */
	stp	x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset x29, -16
	.cfi_offset x30, -8
	mov	x29, sp
	mov	x1, x2
	mov	x2, x30			/* the return address, for reports */
	bl	kt_vfork_finish
	ldp	x29, x30, [sp], #16
	.cfi_restore x29
	.cfi_restore x30
	.cfi_def_cfa_offset 0
.Lchild:
	/* Child: x0 is 0, x30 the caller's return address. */
	ret
	.cfi_endproc
	.size	vfork, .-vfork

	.section .note.GNU-stack, "", %progbits
