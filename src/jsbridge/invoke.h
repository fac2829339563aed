/*
 * invoke.h — calling any vtable slot, and receiving calls on any slot,
 * driven only by type information (the job of Gecko's xptcall).
 *
 * Linux x86-64 SysV only (invoke_x86_64_asm.S / invoke_x86_64.c): integer and
 * pointer arguments travel in rdi, rsi, rdx, rcx, r8, r9 and then on the
 * stack, float/double ones in xmm0-xmm7 and then on the stack, every stack
 * argument taking one 8-byte slot. `this` is always the first integer
 * argument. Return values are nsresult (eax): [notxpcom] slots are never
 * called or implemented through here.
 *
 * Internal to the bridge (src/jsbridge); C, so it is also usable from the
 * C tests. Thread: any (the functions keep no state).
 */
#ifndef WSCHANNEL_JSBRIDGE_INVOKE_H
#define WSCHANNEL_JSBRIDGE_INVOKE_H

#include "nscore.h"

#if !defined(__x86_64__) || !defined(__linux__)
#error "src/jsbridge/invoke: only Linux x86-64 (SysV ABI) is implemented"
#endif

XPCOM_BEGIN_DECLS

/* xpt_variant.flags */
#define XPT_VARIANT_PTR 0x01 /* pass `ptr` (an out/inout/dipper address) */

/*
 * One argument of xpcom_invoke_by_index. `type` is an XPTTypeTag (xpt.h)
 * and selects the register class and how `val` is widened: signed tags are
 * sign-extended, unsigned ones zero-extended to 64 bits (GCC and Clang
 * rely on callers extending sub-int arguments to 32 bits), FLOAT and
 * DOUBLE go to SSE registers, every pointer-like tag passes val.p.
 * With XPT_VARIANT_PTR the argument is `ptr` whatever the type.
 */
typedef struct xpt_variant {
  union {
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f;
    double d;
    bool b;
    char c;
    char16_t wc;
    void *p;
  } val;
  void *ptr;
  uint8_t type;  /* XPTTypeTag */
  uint8_t flags; /* XPT_VARIANT_* */
} xpt_variant;

/*
 * Calls slot `index` of the interface pointer `self` (an object whose first
 * word points at a table of function pointers) with the nargs arguments in
 * args, and returns what the slot returns (an nsresult). The caller
 * guarantees that index is in range and that args match the slot's
 * signature; nothing can be checked here.
 */
nsresult xpcom_invoke_by_index(void *self, uint16_t index, uint32_t nargs,
                               const xpt_variant *args);

/* ---- the reverse: one vtable whose every slot lands in a C function ---- */

/* How many slots the stub vtable has (Gecko's limit is 250 methods per
 * interface; inherited slots come on top). */
#define XPT_STUB_SLOTS 512

/*
 * The incoming registers and stack of a call to a stub slot. gpr[0] is
 * `this`; gpr[1..5] the next integer/pointer arguments; fpr[0..7] the
 * xmm registers (a float sits in the low 4 bytes); stack[] the caller's
 * stack arguments in order (8 bytes each).
 */
typedef struct xpt_stub_frame {
  const uint64_t *gpr;
  const uint64_t *fpr;
  const uint64_t *stack;
} xpt_stub_frame;

/*
 * Every slot i of xpt_stub_vtable (below) calls
 *   xpt_stub_dispatch(self, i, &frame)
 * and returns its result in eax. The bridge defines xpt_stub_dispatch.
 */
nsresult xpt_stub_dispatch(void *self, uint32_t index, const xpt_stub_frame *frame);

/*
 * The shared vtable: XPT_STUB_SLOTS function pointers, preceded (as C++
 * expects of any vtable) by two reserved words for offset-to-top and RTTI,
 * both zero. An object whose first word is xpt_stub_vtable is a stub
 * object; the bridge recognises its own objects this way.
 */
extern void *const *const xpt_stub_vtable;

/*
 * Reads the arguments of a stub call one after the other, in declaration
 * order, as the callee of xpcom_invoke_by_index would: next_int() gives the
 * next integer/pointer argument (64 bits as passed), next_float()/
 * next_double() the next SSE argument. Start with xpt_stub_reader_init,
 * which skips `this`.
 */
typedef struct xpt_stub_reader {
  const xpt_stub_frame *frame;
  unsigned gi, fi, si;
} xpt_stub_reader;

void xpt_stub_reader_init(xpt_stub_reader *r, const xpt_stub_frame *frame);
uint64_t xpt_stub_next_int(xpt_stub_reader *r);
float xpt_stub_next_float(xpt_stub_reader *r);
double xpt_stub_next_double(xpt_stub_reader *r);

XPCOM_END_DECLS

#endif /* WSCHANNEL_JSBRIDGE_INVOKE_H */
