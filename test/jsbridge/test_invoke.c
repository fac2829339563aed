/*
 * test_invoke.c — the machine-level call layer of the bridge
 * (src/jsbridge/invoke_x86_64.*), without JavaScript: calling vtable slots
 * with every argument class (more than six integer and eight SSE arguments,
 * so that both spill to the stack), and receiving calls through the stub
 * vtable. Prints PASS/FAIL lines; exits non-zero on failure.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "invoke.h"
#include "nsError.h"
#include "xpt.h"

static int failures;

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      printf("FAIL | %s:%d | %s\n", __FILE__, __LINE__, #cond);               \
      failures++;                                                             \
    }                                                                         \
  } while (0)

typedef struct Obj {
  const void *const *vtbl;
  int calls;
} Obj;

static int8_t g_i8;
static uint16_t g_u16;
static int64_t g_i64;
static uint64_t g_u64;
static float g_f[10];
static double g_d;
static bool g_b;
static const char *g_s;
static char16_t g_wc;
static int32_t g_i32s[4];
static uint32_t *g_out;

static nsresult slot0(Obj *self, int8_t a, uint16_t b, int64_t c, uint64_t d,
                      float f0, double d1, bool e, const char *s, char16_t wc,
                      float f1, float f2, float f3, float f4, float f5,
                      float f6, float f7, float f8, int32_t x0, int32_t x1,
                      int32_t x2, int32_t x3, uint32_t *out)
{
  self->calls++;
  g_i8 = a; g_u16 = b; g_i64 = c; g_u64 = d; g_f[0] = f0; g_d = d1; g_b = e;
  g_s = s; g_wc = wc; g_f[1] = f1; g_f[2] = f2; g_f[3] = f3; g_f[4] = f4;
  g_f[5] = f5; g_f[6] = f6; g_f[7] = f7; g_f[8] = f8;
  g_i32s[0] = x0; g_i32s[1] = x1; g_i32s[2] = x2; g_i32s[3] = x3;
  g_out = out;
  *out = 0xdeadbeef;
  return NS_ERROR_NOT_AVAILABLE;
}

static nsresult slot1(Obj *self) { self->calls += 10; return NS_OK; }

static const void *const obj_vtbl[] = {(const void *)slot0, (const void *)slot1};

static void test_invoke(void)
{
  Obj o = {obj_vtbl, 0};
  uint32_t out = 0;
  xpt_variant a[22];
  memset(a, 0, sizeof a);
  int n = 0;
  a[n].type = XPT_TD_INT8; a[n++].val.i8 = -5;
  a[n].type = XPT_TD_UINT16; a[n++].val.u16 = 65535;
  a[n].type = XPT_TD_INT64; a[n++].val.i64 = INT64_MIN + 7;
  a[n].type = XPT_TD_UINT64; a[n++].val.u64 = UINT64_MAX - 1;
  a[n].type = XPT_TD_FLOAT; a[n++].val.f = 1.5f;
  a[n].type = XPT_TD_DOUBLE; a[n++].val.d = -2.25e300;
  a[n].type = XPT_TD_BOOL; a[n++].val.b = true;
  a[n].type = XPT_TD_PSTRING; a[n++].val.p = (void *)"hello";
  a[n].type = XPT_TD_WCHAR; a[n++].val.wc = 0x263a;
  for (int i = 1; i <= 8; i++) {
    a[n].type = XPT_TD_FLOAT;
    a[n++].val.f = (float)i * 0.5f;
  }
  for (int i = 0; i < 4; i++) {
    a[n].type = XPT_TD_INT32;
    a[n++].val.i32 = -1000 * (i + 1);
  }
  a[n].type = XPT_TD_UINT32;
  a[n].flags = XPT_VARIANT_PTR;
  a[n++].ptr = &out;

  nsresult rv = xpcom_invoke_by_index(&o, 0, (uint32_t)n, a);
  CHECK(rv == NS_ERROR_NOT_AVAILABLE);
  CHECK(o.calls == 1);
  CHECK(g_i8 == -5);
  CHECK(g_u16 == 65535);
  CHECK(g_i64 == INT64_MIN + 7);
  CHECK(g_u64 == UINT64_MAX - 1);
  CHECK(g_f[0] == 1.5f);
  CHECK(g_d == -2.25e300);
  CHECK(g_b);
  CHECK(g_s && strcmp(g_s, "hello") == 0);
  CHECK(g_wc == 0x263a);
  for (int i = 1; i <= 8; i++)
    CHECK(g_f[i] == (float)i * 0.5f);
  for (int i = 0; i < 4; i++)
    CHECK(g_i32s[i] == -1000 * (i + 1));
  CHECK(g_out == &out && out == 0xdeadbeef);

  rv = xpcom_invoke_by_index(&o, 1, 0, NULL);
  CHECK(rv == NS_OK && o.calls == 11);
  printf("%s | invoke\n", failures ? "FAIL" : "PASS");
}

/* ---- stubs ---- */

typedef struct StubObj {
  void *const *vtbl;
  uint32_t last_index;
  int64_t ints[12];
  double dbls[12];
  float flts[12];
} StubObj;

nsresult xpt_stub_dispatch(void *self, uint32_t index, const xpt_stub_frame *frame)
{
  StubObj *o = self;
  xpt_stub_reader r;
  o->last_index = index;
  xpt_stub_reader_init(&r, frame);
  /* signature used below: (int32 x8, double x9, float x3) interleaved */
  for (int i = 0; i < 12; i++) {
    o->ints[i] = (int64_t)xpt_stub_next_int(&r);
    if (i < 9)
      o->dbls[i] = xpt_stub_next_double(&r);
    else
      o->flts[i] = xpt_stub_next_float(&r);
  }
  return 0x80000000u | index;
}

typedef nsresult (*stub_fn)(void *, int64_t, double, int64_t, double, int64_t,
                            double, int64_t, double, int64_t, double, int64_t,
                            double, int64_t, double, int64_t, double, int64_t,
                            double, int64_t, float, int64_t, float, int64_t,
                            float);

static void test_stubs(void)
{
  StubObj o;
  memset(&o, 0, sizeof o);
  o.vtbl = xpt_stub_vtable;
  int failed_before = failures;
  for (uint32_t slot = 0; slot < XPT_STUB_SLOTS; slot += 73) {
    stub_fn fn = (stub_fn)o.vtbl[slot];
    nsresult rv = fn(&o, 1, 1.5, -2, 2.5, 3, 3.5, -4, 4.5, 5, 5.5, 6, 6.5,
                     INT64_MAX, 7.5, INT64_MIN, 8.5, 9, 9.5, 10, 10.25f, 11,
                     11.25f, 12, 12.25f);
    CHECK(rv == (0x80000000u | slot));
    CHECK(o.last_index == slot);
  }
  CHECK(o.ints[0] == 1 && o.ints[1] == -2 && o.ints[6] == INT64_MAX);
  CHECK(o.ints[7] == INT64_MIN && o.ints[11] == 12);
  CHECK(o.dbls[0] == 1.5 && o.dbls[8] == 9.5);
  CHECK(o.flts[9] == 10.25f && o.flts[11] == 12.25f);
  /* the two words before the slots exist and are zero (C++ RTTI area) */
  CHECK(xpt_stub_vtable[-1] == NULL && xpt_stub_vtable[-2] == NULL);
  printf("%s | stubs\n", failures > failed_before ? "FAIL" : "PASS");
}

int main(void)
{
  test_invoke();
  test_stubs();
  printf("%s | test_invoke | %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
