/*
 * invoke_x86_64.c — argument classification for xpcom_invoke_by_index and
 * the stub argument reader (SysV x86-64; see invoke.h). The register
 * loading itself is in invoke_x86_64_asm.S.
 */
#include "invoke.h"

#include <stdlib.h>
#include <string.h>

#include "nsError.h"
#include "xpt.h"

/* invoke_x86_64_asm.S */
uint32_t xpt_invoke_raw(void *fn, const uint64_t *gpr, const uint64_t *fpr,
                        const uint64_t *stack, uint64_t nstack);

/* The 64-bit register image of an integer-class argument, widened as GCC
 * and Clang callers do (sign or zero extension by the declared type). */
static uint64_t int_image(const xpt_variant *v)
{
  switch (v->type) {
  case XPT_TD_INT8: return (uint64_t)(int64_t)v->val.i8;
  case XPT_TD_INT16: return (uint64_t)(int64_t)v->val.i16;
  case XPT_TD_INT32: return (uint64_t)(int64_t)v->val.i32;
  case XPT_TD_INT64: return (uint64_t)v->val.i64;
  case XPT_TD_UINT8: return v->val.u8;
  case XPT_TD_UINT16: return v->val.u16;
  case XPT_TD_UINT32: return v->val.u32;
  case XPT_TD_UINT64: return v->val.u64;
  case XPT_TD_BOOL: return v->val.b ? 1u : 0u;
  case XPT_TD_CHAR: return (uint64_t)(uint8_t)v->val.c;
  case XPT_TD_WCHAR: return v->val.wc;
  default: return (uint64_t)(uintptr_t)v->val.p;
  }
}

nsresult xpcom_invoke_by_index(void *self, uint16_t index, uint32_t nargs,
                               const xpt_variant *args)
{
  uint64_t gpr[6] = {0}, fpr[8] = {0};
  uint64_t small[16] = {0};
  uint64_t *stack = small;
  unsigned gi = 0, fi = 0, si = 0;

  /* At most every argument spills; one allocation for the rare long list. */
  if (nargs > 16) {
    stack = calloc(nargs, sizeof *stack);
    if (!stack)
      return NS_ERROR_OUT_OF_MEMORY;
  }
  gpr[gi++] = (uint64_t)(uintptr_t)self;
  for (uint32_t i = 0; i < nargs; i++) {
    const xpt_variant *v = &args[i];
    uint64_t word;
    if (!(v->flags & XPT_VARIANT_PTR) &&
        (v->type == XPT_TD_FLOAT || v->type == XPT_TD_DOUBLE)) {
      word = 0;
      if (v->type == XPT_TD_FLOAT)
        memcpy(&word, &v->val.f, sizeof v->val.f);
      else
        memcpy(&word, &v->val.d, sizeof v->val.d);
      if (fi < 8)
        fpr[fi++] = word;
      else
        stack[si++] = word;
      continue;
    }
    word = (v->flags & XPT_VARIANT_PTR) ? (uint64_t)(uintptr_t)v->ptr
                                        : int_image(v);
    if (gi < 6)
      gpr[gi++] = word;
    else
      stack[si++] = word;
  }

  void *const *vtbl = *(void *const *const *)self;
  uint32_t rv = xpt_invoke_raw(vtbl[index], gpr, fpr, stack, si);
  if (stack != small)
    free(stack);
  return rv;
}

void xpt_stub_reader_init(xpt_stub_reader *r, const xpt_stub_frame *frame)
{
  r->frame = frame;
  r->gi = 1; /* gpr[0] is `this` */
  r->fi = 0;
  r->si = 0;
}

uint64_t xpt_stub_next_int(xpt_stub_reader *r)
{
  if (r->gi < 6)
    return r->frame->gpr[r->gi++];
  return r->frame->stack[r->si++];
}

double xpt_stub_next_double(xpt_stub_reader *r)
{
  uint64_t word = r->fi < 8 ? r->frame->fpr[r->fi++] : r->frame->stack[r->si++];
  double d;
  memcpy(&d, &word, sizeof d);
  return d;
}

float xpt_stub_next_float(xpt_stub_reader *r)
{
  uint64_t word = r->fi < 8 ? r->frame->fpr[r->fi++] : r->frame->stack[r->si++];
  float f;
  memcpy(&f, &word, sizeof f); /* little-endian: the low 4 bytes */
  return f;
}
