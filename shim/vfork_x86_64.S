/* SPDX-License-Identifier: MIT */
/* vfork for x86_64: clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD|SIGCHLD).
 *
 * Why assembly, and where the pidfd goes: see hooks_vfork.c.  The rule here is
 * glibc's (sysdeps/unix/sysv/linux/x86_64/vfork.S): from the clone until the
 * parent wakes, the child owns the stack below our caller's frame, return
 * address slot included, so the return address lives in a register.  The
 * syscall instruction preserves every register but rax, rcx and r11, in the
 * parent and in the child alike:
 *
 *   r9   the return address (clone takes five arguments: r9 is free)
 *   rdx  clone's parent_tid: the slot kt_vfork_prepare handed us, where the
 *        kernel writes the pidfd; kept for kt_vfork_finish
 *
 * C is called only before the clone and in the parent after it, when the
 * child has exec'd or exited and the stack is ours again.  The child touches
 * no memory: it jumps back to the caller. */

#define SYS_clone 56
#define SYS_vfork 58
#define CLONE_VFORK_PIDFD 0x5111 /* CLONE_VM|CLONE_VFORK|CLONE_PIDFD|SIGCHLD */
#define WANT_PIDFD (-1)          /* KT_VFORK_WANT_PIDFD in hooks_vfork.c */

	.text
	.globl	vfork
	.type	vfork, @function
	.p2align 4
vfork:
	.cfi_startproc
	/* The stack is still ours: ask for a slot (16-byte aligned call). */
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	call	kt_vfork_prepare
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	movq	%rax, %rdx

	popq	%r9
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %r9

	/* No slot (libkt off, nested in a vfork child, too deep), or the
	 * kernel refused CLONE_PIDFD before: the syscall glibc would make. */
	testq	%rdx, %rdx
	jz	.Lplain
	cmpl	$WANT_PIDFD, (%rdx)
	jne	.Lplain

	movl	$CLONE_VFORK_PIDFD, %edi
	xorl	%esi, %esi		/* newsp: the child runs on our stack */
	xorl	%r10d, %r10d		/* child_tid */
	xorl	%r8d, %r8d		/* tls */
	movl	$SYS_clone, %eax
	syscall
	testq	%rax, %rax
	jz	.Lchild
	jg	.Lparent

	/* Refused.  No child exists, so the stack is ours: ask whether to
	 * retry without CLONE_PIDFD (0) or to fail with this error. */
	pushq	%r9
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rip, 0
	pushq	%rdx
	.cfi_adjust_cfa_offset 8
	movq	%rax, %rdi
	call	kt_vfork_refused
	popq	%rdx
	.cfi_adjust_cfa_offset -8
	popq	%r9
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %r9
	testq	%rax, %rax
	jnz	.Lparent

.Lplain:
	movl	$SYS_vfork, %eax
	syscall
	testq	%rax, %rax
	jz	.Lchild

.Lparent:
	/* The child has exec'd or exited: register it, or set errno. */
	pushq	%r9
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rip, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	movq	%rax, %rdi
	movq	%rdx, %rsi
	movq	%r9, %rdx		/* the return address, for reports */
	call	kt_vfork_finish
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	ret

	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %r9
.Lchild:
	/* rax is 0.  Back to the caller by jump, not ret: the child then writes
	 * no memory at all, and where a CET shadow stack is in use (shared with
	 * the parent under CLONE_VFORK) it leaves the parent's entry for this
	 * return in place, as glibc's vfork does. */
	jmp	*%r9
	.cfi_endproc
	.size	vfork, .-vfork

	.section .note.GNU-stack, "", @progbits
