/* SPDX-License-Identifier: MIT */
/* start.S - entry of the bare-metal test guests (64-bit, paging on). */
	.section .text.start, "ax"
	.globl _start
_start:
	/* loom-vmm --raw enters here with RSP set and interrupts off. */
	cld
	call	guest_main
	/* Exit code: 0x501 <- main's return value. */
	movw	$0x501, %dx
	outb	%al, %dx
1:	cli
	hlt
	jmp	1b
	.section .note.GNU-stack, "", @progbits
