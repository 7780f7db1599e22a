/* SPDX-License-Identifier: MIT */
/* syscall() for x86_64: the entry of libkt's hook (hooks_syscall.c says why
 * syscall() is hooked at all).
 *
 * Why assembly.  A clone onto a new stack returns, in the child, to whatever
 * the return instruction finds on that stack; glibc's syscall() is a leaf, so
 * the child goes where the caller arranged, never back into glibc.  A C
 * function in between would be returned into by such a child, on a stack that
 * holds none of its frame.  So every call libkt does not take over is made
 * here, as glibc makes it, with no frame of ours on the stack:
 *
 *   rdi = number; rsi, rdx, rcx, r8, r9, 8(%rsp) = the six arguments;
 *   the result in rax, or -1 and errno for -4095..-1 (kt_sys_result).
 *
 * clone, clone3 and fork first ask kt_syscall_makes_child whether the call
 * makes a fork-like child (one that carries on from a copy of this stack,
 * frames and all); for clone3 it also leaves a checked copy of the
 * arguments in our frame.  Those calls are made by kt_syscall_make_child,
 * which registers the child.  close, close_range, dup2 and dup3 go to
 * kt_syscall_fd (hooks_fd.c), which guards fd mode's held pidfds as libc's
 * wrappers are guarded; a tail jump, since none of them makes a child.
 * Everything else goes the raw way. */

#define SYS_dup2 33
#define SYS_clone 56
#define SYS_fork 57
#define SYS_close 3
#define SYS_dup3 292
#define SYS_clone3 435
#define SYS_close_range 436

/* The frame of .Lask, below a frame record (the caller's rbp pushed, rbp
 * pointing at it, as a compiler's frame would), so that a walk of frame
 * records from kt_syscall_make_child reaches the program that called
 * syscall() (a report's "spawned from").  16-byte aligned at the calls: */
#define F_ARG7 0	/* kt_syscall_make_child's 7th and 8th arguments */
#define F_ARG8 8
#define F_REGS 16	/* rdi rsi rdx rcx r8 r9 */
#define F_SNAP 64	/* KT_SYSCALL_SNAPSHOT (256) bytes */
#define F_SIZE 320	/* 64 + 256 */

	.text
	.globl	syscall
	.type	syscall, @function
	.p2align 4
syscall:
	.cfi_startproc
	cmpq	$SYS_clone, %rdi
	je	.Lask
	cmpq	$SYS_fork, %rdi
	je	.Lask
	cmpq	$SYS_clone3, %rdi
	je	.Lask
	cmpq	$SYS_close, %rdi
	je	.Lfd
	cmpq	$SYS_dup2, %rdi
	je	.Lfd
	cmpq	$SYS_dup3, %rdi
	je	.Lfd
	cmpq	$SYS_close_range, %rdi
	je	.Lfd
.Lraw:
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	movq	%r8, %r10
	movq	%r9, %r8
	movq	8(%rsp), %r9
	syscall
	cmpq	$-4095, %rax
	jae	.Lerror
	ret
.Lerror:
	movq	%rax, %rdi
	jmp	kt_sys_result
.Lfd:
	jmp	kt_syscall_fd

.Lask:
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	movq	%rsp, %rbp
	subq	$F_SIZE, %rsp
	.cfi_adjust_cfa_offset F_SIZE
	movq	%rdi, F_REGS+0(%rsp)
	movq	%rsi, F_REGS+8(%rsp)
	movq	%rdx, F_REGS+16(%rsp)
	movq	%rcx, F_REGS+24(%rsp)
	movq	%r8, F_REGS+32(%rsp)
	movq	%r9, F_REGS+40(%rsp)
	leaq	F_SNAP(%rsp), %rcx
	call	kt_syscall_makes_child
	movq	F_REGS+0(%rsp), %rdi
	movq	F_REGS+8(%rsp), %rsi
	movq	F_REGS+16(%rsp), %rdx
	movq	F_REGS+24(%rsp), %rcx
	movq	F_REGS+32(%rsp), %r8
	movq	F_REGS+40(%rsp), %r9
	testl	%eax, %eax
	jnz	.Lmake
	addq	$F_SIZE, %rsp
	.cfi_adjust_cfa_offset -F_SIZE
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	jmp	.Lraw

	.cfi_adjust_cfa_offset F_SIZE+8
	.cfi_rel_offset %rbp, F_SIZE
.Lmake:
	movq	F_SIZE+16(%rsp), %rax	/* the sixth argument, the caller's */
	movq	%rax, F_ARG7(%rsp)
	leaq	F_SNAP(%rsp), %rax
	movq	%rax, F_ARG8(%rsp)
	call	kt_syscall_make_child
	/* The parent, or the fork-like child on its copy of this frame. */
	addq	$F_SIZE, %rsp
	.cfi_adjust_cfa_offset -F_SIZE
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	ret
	.cfi_endproc
	.size	syscall, .-syscall

	.section .note.GNU-stack, "", @progbits
