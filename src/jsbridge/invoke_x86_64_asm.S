/*
 * invoke_x86_64_asm.S — the two machine-level halves of calling through a
 * vtable by type information on Linux x86-64 (SysV ABI). See invoke.h.
 *
 *   xpt_invoke_raw(fn, gpr[6], fpr[8], stack, nstack)
 *       loads the six integer registers, the eight SSE registers and
 *       nstack 8-byte stack slots, then calls fn; returns its eax.
 *
 *   xpt_stub_vtable: XPT_STUB_SLOTS stubs; stub i puts i in eax and jumps
 *       to a common routine that spills the argument registers and calls
 *       xpt_stub_dispatch(self, i, &frame) (C), returning its eax.
 */
#if !defined(__x86_64__) || !defined(__linux__)
#error "invoke_x86_64_asm.S is for Linux x86-64 only"
#endif

#define XPT_STUB_SLOTS 512

        .text

/* uint32_t xpt_invoke_raw(void *fn, const uint64_t *gpr, const uint64_t *fpr,
 *                         const uint64_t *stack, uint64_t nstack) */
        .globl  xpt_invoke_raw
        .hidden xpt_invoke_raw
        .type   xpt_invoke_raw, @function
        .p2align 4
xpt_invoke_raw:
        .cfi_startproc
        endbr64
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        movq    %rsp, %rbp
        .cfi_def_cfa_register %rbp
        pushq   %rbx
        pushq   %r12
        .cfi_offset %rbx, -24
        .cfi_offset %r12, -32
        movq    %rdi, %rbx              /* fn, kept across the copy loop */
        movq    %rsi, %r12              /* gpr[] */
        movq    %r8, %rax               /* room for the stack arguments */
        shlq    $3, %rax
        subq    %rax, %rsp
        andq    $-16, %rsp              /* 16-byte aligned at the call */
        xorq    %r10, %r10
1:      cmpq    %r8, %r10
        jae     2f
        movq    (%rcx,%r10,8), %r11
        movq    %r11, (%rsp,%r10,8)
        incq    %r10
        jmp     1b
2:      movsd   0(%rdx), %xmm0
        movsd   8(%rdx), %xmm1
        movsd   16(%rdx), %xmm2
        movsd   24(%rdx), %xmm3
        movsd   32(%rdx), %xmm4
        movsd   40(%rdx), %xmm5
        movsd   48(%rdx), %xmm6
        movsd   56(%rdx), %xmm7
        movq    0(%r12), %rdi
        movq    8(%r12), %rsi
        movq    16(%r12), %rdx
        movq    24(%r12), %rcx
        movq    32(%r12), %r8
        movq    40(%r12), %r9
        movl    $8, %eax                /* al: SSE registers used (varargs) */
        call    *%rbx
        leaq    -16(%rbp), %rsp
        popq    %r12
        popq    %rbx
        popq    %rbp
        .cfi_def_cfa %rsp, 8
        ret
        .cfi_endproc
        .size   xpt_invoke_raw, .-xpt_invoke_raw

/* Common part of every stub: eax = slot index, registers = the call. */
        .type   xpt_stub_common, @function
        .p2align 4
xpt_stub_common:
        .cfi_startproc
        movl    %eax, %r10d
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        movq    %rsp, %rbp
        .cfi_def_cfa_register %rbp
        subq    $144, %rsp              /* gpr[6], fpr[8], frame{3}, pad */
        movq    %rdi, 0(%rsp)
        movq    %rsi, 8(%rsp)
        movq    %rdx, 16(%rsp)
        movq    %rcx, 24(%rsp)
        movq    %r8, 32(%rsp)
        movq    %r9, 40(%rsp)
        movsd   %xmm0, 48(%rsp)
        movsd   %xmm1, 56(%rsp)
        movsd   %xmm2, 64(%rsp)
        movsd   %xmm3, 72(%rsp)
        movsd   %xmm4, 80(%rsp)
        movsd   %xmm5, 88(%rsp)
        movsd   %xmm6, 96(%rsp)
        movsd   %xmm7, 104(%rsp)
        leaq    0(%rsp), %r11
        movq    %r11, 112(%rsp)         /* frame.gpr */
        leaq    48(%rsp), %r11
        movq    %r11, 120(%rsp)         /* frame.fpr */
        leaq    16(%rbp), %r11
        movq    %r11, 128(%rsp)         /* frame.stack: above the return address */
        movl    %r10d, %esi
        leaq    112(%rsp), %rdx
        call    xpt_stub_dispatch@PLT   /* rdi is still `self` */
        leave
        .cfi_def_cfa %rsp, 8
        ret
        .cfi_endproc
        .size   xpt_stub_common, .-xpt_stub_common

/* The stubs: 16 bytes each, so stub i is at xpt_stubs + 16 * i. */
        .p2align 4
xpt_stubs:
        .set    slot, 0
        .rept   XPT_STUB_SLOTS
        .p2align 4
        endbr64
        movl    $slot, %eax
        jmp     xpt_stub_common
        .set    slot, slot + 1
        .endr

/* The vtable: two reserved words (offset-to-top, RTTI), then the slots. */
        .section .data.rel.ro, "aw"
        .p2align 3
xpt_stub_vtable_data:
        .quad   0
        .quad   0
xpt_stub_slots:
        .set    slot, 0
        .rept   XPT_STUB_SLOTS
        .quad   xpt_stubs + 16 * slot
        .set    slot, slot + 1
        .endr

        .globl  xpt_stub_vtable
        .hidden xpt_stub_vtable
        .p2align 3
xpt_stub_vtable:
        .quad   xpt_stub_slots

        .section .note.GNU-stack, "", @progbits
