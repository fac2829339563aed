/*
 * jsbridge_test_component.c — a test-only XPCOM component implementing
 * nsIJSBridgeTest (test/jsbridge/nsIJSBridgeTest.idl) in C, for the bridge
 * tests: contract @wschannel.test/jsbridge;1. Its module registers the
 * interface's type information when loaded, so scripts see
 * Ci.nsIJSBridgeTest.
 *
 * It also calls JS implementations of the same interface (exercise) with
 * fixed values of every type, which tests the native -> JS direction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <prthread.h>

#include "nsError.h"
#include "nsID.h"
#include "nsMemory.h"
#include "nsXPCOMStrings.h"
#include "xpcom_module.h"
#include "xpcom_object.h"
#include "xpt.h"

#include "nsIJSBridgeTest.h"
#include "nsIRunnable.h"

extern const XPTInterfaceInfo xpt_nsIJSBridgeTest;

typedef struct BridgeTest {
  nsIJSBridgeTest iface;
  uint32_t refcnt;
  int32_t longAttr;
  nsCStringContainer utf8Attr;
  nsISupports *held;
} BridgeTest;

#define SELF(p) XPCOM_CONTAINER_OF(p, BridgeTest, iface)

static uint32_t live_count; /* instances alive (atomic) */

static const xpcom_qi_entry bt_qi[] = {
    XPCOM_QI_ENTRY(BridgeTest, iface, nsIJSBridgeTest_IID), XPCOM_QI_END};

static nsresult bt_QueryInterface(nsIJSBridgeTest *self, const nsIID *iid, void **out)
{
  return xpcom_table_qi(SELF(self), bt_qi, iid, out);
}

static nsrefcnt bt_AddRef(nsIJSBridgeTest *self) { return xpcom_refcnt_inc(&SELF(self)->refcnt); }

static nsrefcnt bt_Release(nsIJSBridgeTest *self)
{
  BridgeTest *t = SELF(self);
  uint32_t n = xpcom_refcnt_dec(&t->refcnt);
  if (n == 0) {
    NS_CStringContainerFinish(&t->utf8Attr);
    if (t->held)
      xpcom_release(t->held);
    XPCOM_LEAK_DTOR(BridgeTest);
    __atomic_sub_fetch(&live_count, 1, __ATOMIC_RELAXED);
    free(t);
  }
  return n;
}

/* ---- the testX convention: *ret = old *b, *b = a ---- */

#define SIMPLE(Name, T)                                                       \
  static nsresult bt_Test##Name(nsIJSBridgeTest *self, T a, T *b, T *ret)     \
  {                                                                           \
    *ret = *b;                                                                \
    *b = a;                                                                   \
    return NS_OK;                                                             \
  }
SIMPLE(Boolean, bool)
SIMPLE(Octet, uint8_t)
SIMPLE(Short, int16_t)
SIMPLE(Long, int32_t)
SIMPLE(LongLong, int64_t)
SIMPLE(UnsignedShort, uint16_t)
SIMPLE(UnsignedLong, uint32_t)
SIMPLE(UnsignedLongLong, uint64_t)
SIMPLE(Float, float)
SIMPLE(Char, char)
SIMPLE(Wchar, char16_t)

static nsresult bt_TestDouble(nsIJSBridgeTest *self, double a, float *b, double *ret)
{
  *ret = *b;
  *b = (float)a;
  return NS_OK;
}

static char *dup_str(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *r = NS_Alloc(n + 1);
  if (r)
    memcpy(r, s, n + 1);
  return r;
}

static char16_t *dup_wstr(const char16_t *s)
{
  if (!s)
    return NULL;
  size_t n = 0;
  while (s[n])
    n++;
  char16_t *r = NS_Alloc((n + 1) * sizeof *r);
  if (r)
    memcpy(r, s, (n + 1) * sizeof *r);
  return r;
}

static nsresult bt_TestString(nsIJSBridgeTest *self, const char *a, char **b, char **ret)
{
  *ret = *b;
  *b = dup_str(a);
  return NS_OK;
}

static nsresult bt_TestWstring(nsIJSBridgeTest *self, const char16_t *a, char16_t **b,
                               char16_t **ret)
{
  *ret = *b;
  *b = dup_wstr(a);
  return NS_OK;
}

static nsresult bt_TestAString(nsIJSBridgeTest *self, const nsAString *a, nsAString *b,
                               nsAString *ret)
{
  nsresult rv = NS_StringCopy(ret, b);
  return NS_FAILED(rv) ? rv : NS_StringCopy(b, a);
}

static nsresult bt_TestCString(nsIJSBridgeTest *self, const nsACString *a, nsACString *b,
                               nsACString *ret)
{
  nsresult rv = NS_CStringCopy(ret, b);
  return NS_FAILED(rv) ? rv : NS_CStringCopy(b, a);
}

static nsresult bt_TestID(nsIJSBridgeTest *self, const nsID *a, nsID **b, nsID **ret)
{
  *ret = *b;
  *b = NULL;
  if (a) {
    *b = NS_Alloc(sizeof(nsID));
    if (!*b)
      return NS_ERROR_OUT_OF_MEMORY;
    **b = *a;
  }
  return NS_OK;
}

static nsresult bt_TestInterface(nsIJSBridgeTest *self, nsISupports *a, nsISupports **b,
                                 nsISupports **ret)
{
  *ret = *b;
  if (a)
    xpcom_addref(a);
  *b = a;
  return NS_OK;
}

static nsresult bt_TestOuts(nsIJSBridgeTest *self, int32_t a, bool *b, int64_t *c, double *d,
                            char **e, nsAString *f, nsACString *g, nsISupports **h)
{
  char buf[32];
  *b = a != 0;
  *c = (int64_t)a << 40;
  *d = a + 0.5;
  snprintf(buf, sizeof buf, "%d", (int)a);
  *e = dup_str(buf);
  xpcom_string_assign_utf8(f, buf, strlen(buf));
  char bytes[3] = {0, (char)0xff, (char)a};
  xpcom_cstring_assign(g, bytes, 3);
  xpcom_addref(self);
  *h = (nsISupports *)self;
  return NS_OK;
}

static nsresult bt_TestMixed(nsIJSBridgeTest *self, int32_t a, double b, float c, int64_t d,
                             uint8_t e, double f, float g, double h, float i, double j,
                             int32_t k, double l, uint64_t m, float n, int16_t o, double *ret)
{
  *ret = a + b + c + (double)d + e + f + g + h + i + j + k + l + (double)m + n + o;
  return NS_OK;
}

static nsresult bt_TestLongArray(nsIJSBridgeTest *self, uint32_t aLength, int32_t *a,
                                 uint32_t *bLength, int32_t **b, uint32_t *rvLength,
                                 int32_t **rv)
{
  *rv = *b;
  *rvLength = *bLength;
  *b = NS_Alloc(sizeof(int32_t) * (aLength ? aLength : 1));
  if (!*b)
    return NS_ERROR_OUT_OF_MEMORY;
  if (aLength)
    memcpy(*b, a, sizeof(int32_t) * aLength);
  *bLength = aLength;
  return NS_OK;
}

/* The other arrays come back reversed (so order bugs show). */
static nsresult bt_TestDoubleArray(nsIJSBridgeTest *self, uint32_t len, double *a,
                                   uint32_t *rvLength, double **rv)
{
  *rv = NS_Alloc(sizeof(double) * (len ? len : 1));
  if (!*rv)
    return NS_ERROR_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < len; i++)
    (*rv)[i] = a[len - 1 - i];
  *rvLength = len;
  return NS_OK;
}

static nsresult bt_TestStringArray(nsIJSBridgeTest *self, uint32_t len, const char **a,
                                   uint32_t *rvLength, char ***rv)
{
  *rv = NS_Alloc(sizeof(char *) * (len ? len : 1));
  if (!*rv)
    return NS_ERROR_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < len; i++)
    (*rv)[i] = dup_str(a[len - 1 - i]);
  *rvLength = len;
  return NS_OK;
}

static nsresult bt_TestInterfaceArray(nsIJSBridgeTest *self, uint32_t len, nsISupports **a,
                                      uint32_t *rvLength, nsISupports ***rv)
{
  *rv = NS_Alloc(sizeof(nsISupports *) * (len ? len : 1));
  if (!*rv)
    return NS_ERROR_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < len; i++) {
    (*rv)[i] = a[len - 1 - i];
    if ((*rv)[i])
      xpcom_addref((*rv)[i]);
  }
  *rvLength = len;
  return NS_OK;
}

static nsresult bt_TestSizedString(nsIJSBridgeTest *self, uint32_t len, const char *a,
                                   uint32_t *rvLength, char **rv)
{
  *rv = NS_Alloc(len + 1);
  if (!*rv)
    return NS_ERROR_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < len; i++)
    (*rv)[i] = a[len - 1 - i];
  (*rv)[len] = 0;
  *rvLength = len;
  return NS_OK;
}

static nsresult bt_TestSizedWstring(nsIJSBridgeTest *self, uint32_t len, const char16_t *a,
                                    uint32_t *rvLength, char16_t **rv)
{
  *rv = NS_Alloc((len + 1) * sizeof(char16_t));
  if (!*rv)
    return NS_ERROR_OUT_OF_MEMORY;
  for (uint32_t i = 0; i < len; i++)
    (*rv)[i] = a[len - 1 - i];
  (*rv)[len] = 0;
  *rvLength = len;
  return NS_OK;
}

static nsresult bt_TestInterfaceIs(nsIJSBridgeTest *self, const nsIID *aIID, void *a,
                                   nsIID **rvIID, void **rv)
{
  *rvIID = NS_Alloc(sizeof(nsIID));
  if (!*rvIID)
    return NS_ERROR_OUT_OF_MEMORY;
  **rvIID = *aIID;
  if (a)
    xpcom_addref(a);
  *rv = a;
  return NS_OK;
}

static nsresult bt_GetLongAttr(nsIJSBridgeTest *self, int32_t *v)
{
  *v = SELF(self)->longAttr;
  return NS_OK;
}

static nsresult bt_SetLongAttr(nsIJSBridgeTest *self, int32_t v)
{
  SELF(self)->longAttr = v;
  return NS_OK;
}

static nsresult bt_GetReadonlyAttr(nsIJSBridgeTest *self, nsAString *v)
{
  static const char s[] = "read only \xe2\x98\xba";
  return xpcom_string_assign_utf8(v, s, sizeof s - 1);
}

static nsresult bt_GetUtf8Attr(nsIJSBridgeTest *self, nsACString *v)
{
  return NS_CStringCopy(v, &SELF(self)->utf8Attr);
}

static nsresult bt_SetUtf8Attr(nsIJSBridgeTest *self, const nsACString *v)
{
  return NS_CStringCopy(&SELF(self)->utf8Attr, v);
}

static nsresult bt_Fail(nsIJSBridgeTest *self, nsresult rv) { return rv; }

static nsresult bt_GetLiveCount(nsIJSBridgeTest *self, uint32_t *n)
{
  *n = __atomic_load_n(&live_count, __ATOMIC_RELAXED);
  return NS_OK;
}

static nsresult bt_OptionalArg(nsIJSBridgeTest *self, int32_t a, int32_t b, int32_t *ret)
{
  *ret = a + b;
  return NS_OK;
}

static nsresult bt_Hold(nsIJSBridgeTest *self, nsISupports *obj)
{
  BridgeTest *t = SELF(self);
  if (obj)
    xpcom_addref(obj);
  if (t->held)
    xpcom_release(t->held);
  t->held = obj;
  return NS_OK;
}

static nsresult bt_Held(nsIJSBridgeTest *self, nsISupports **ret)
{
  BridgeTest *t = SELF(self);
  *ret = t->held;
  if (*ret)
    xpcom_addref(*ret);
  return NS_OK;
}

static nsresult bt_Drop(nsIJSBridgeTest *self) { return bt_Hold(self, NULL); }

static nsresult bt_QueryInterfaceOf(nsIJSBridgeTest *self, nsISupports *obj, const nsIID *iid,
                                    nsresult *ret)
{
  void *p = NULL;
  if (!obj)
    return NS_ERROR_INVALID_ARG;
  *ret = xpcom_query_interface(obj, iid, &p);
  if (p)
    xpcom_release(p);
  return NS_OK;
}

static nsresult bt_CallRunnable(nsIJSBridgeTest *self, nsIRunnable *r, nsresult *ret)
{
  if (!r)
    return NS_ERROR_INVALID_ARG;
  *ret = nsIRunnable_Run(r);
  return NS_OK;
}

typedef struct ThreadCall {
  nsIRunnable *r;
  nsresult runRv;
  nsresult qiRv;
} ThreadCall;

static void thread_main(void *arg)
{
  ThreadCall *tc = arg;
  nsISupports *s = NULL;
  xpcom_addref(tc->r);
  tc->qiRv = xpcom_query_interface(tc->r, &nsISupports_IID, (void **)&s);
  if (s)
    xpcom_release(s);
  tc->runRv = nsIRunnable_Run(tc->r);
  xpcom_release(tc->r);
}

static nsresult bt_CallRunnableOnThread(nsIJSBridgeTest *self, nsIRunnable *r, nsresult *ret)
{
  if (!r)
    return NS_ERROR_INVALID_ARG;
  ThreadCall tc = {r, NS_OK, NS_OK};
  PRThread *th = PR_CreateThread(PR_USER_THREAD, thread_main, &tc, PR_PRIORITY_NORMAL,
                                 PR_GLOBAL_THREAD, PR_JOINABLE_THREAD, 0);
  if (!th)
    return NS_ERROR_OUT_OF_MEMORY;
  PR_JoinThread(th);
  if (NS_FAILED(tc.qiRv))
    return tc.qiRv;
  *ret = tc.runRv;
  return NS_OK;
}

/* ---- exercise: call a JS implementation ---- */

static int failures;

#define EXPECT(cond)                                                          \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "exercise: check failed at %s:%d: %s\n", __FILE__,      \
              __LINE__, #cond);                                               \
      failures++;                                                             \
    }                                                                         \
  } while (0)

#define EXPECT_OK(call) EXPECT(NS_SUCCEEDED(call))

static bool ident_equal(void *x, void *y)
{
  nsISupports *a = NULL, *b = NULL;
  if (x)
    xpcom_query_interface(x, &nsISupports_IID, (void **)&a);
  if (y)
    xpcom_query_interface(y, &nsISupports_IID, (void **)&b);
  bool eq = a == b;
  if (a)
    xpcom_release(a);
  if (b)
    xpcom_release(b);
  return eq;
}

static bool u16_equals(const nsAString *s, const char *utf8)
{
  nsStringContainer tmp;
  NS_StringContainerInit(&tmp);
  xpcom_string_assign_utf8(&tmp, utf8, strlen(utf8));
  const char16_t *d;
  uint32_t n = xpcom_string_get(&tmp, &d);
  bool eq = xpcom_string_equals(s, d, n);
  NS_StringContainerFinish(&tmp);
  return eq;
}

static nsresult bt_Exercise(nsIJSBridgeTest *self, nsIJSBridgeTest *t, uint32_t *ret)
{
  failures = 0;
  if (!t)
    return NS_ERROR_INVALID_ARG;
  {
    bool b = false, r = true;
    EXPECT_OK(nsIJSBridgeTest_TestBoolean(t, true, &b, &r));
    EXPECT(b == true && r == false);
  }
  {
    uint8_t b = 7, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestOctet(t, 200, &b, &r));
    EXPECT(b == 200 && r == 7);
  }
  {
    int16_t b = 5, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestShort(t, -300, &b, &r));
    EXPECT(b == -300 && r == 5);
  }
  {
    int32_t b = 42, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestLong(t, -100000, &b, &r));
    EXPECT(b == -100000 && r == 42);
  }
  {
    int64_t b = (int64_t)1 << 40, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestLongLong(t, INT64_MIN + 1, &b, &r));
    EXPECT(b == INT64_MIN + 1 && r == (int64_t)1 << 40);
  }
  {
    uint16_t b = 3, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestUnsignedShort(t, 65000, &b, &r));
    EXPECT(b == 65000 && r == 3);
  }
  {
    uint32_t b = 1, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestUnsignedLong(t, 4000000000u, &b, &r));
    EXPECT(b == 4000000000u && r == 1);
  }
  {
    uint64_t b = 2, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestUnsignedLongLong(t, UINT64_MAX, &b, &r));
    EXPECT(b == UINT64_MAX && r == 2);
  }
  {
    float b = 2.5f, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestFloat(t, 1.5f, &b, &r));
    EXPECT(b == 1.5f && r == 2.5f);
  }
  {
    float b = 3.25f;
    double r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestDouble(t, 0.1, &b, &r));
    EXPECT(b == (float)0.1 && r == 3.25);
  }
  {
    char b = 'y', r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestChar(t, 'x', &b, &r));
    EXPECT(b == 'x' && r == 'y');
  }
  {
    char16_t b = 0x20AC, r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestWchar(t, 0x263A, &b, &r));
    EXPECT(b == 0x263A && r == 0x20AC);
  }
  {
    char *b = dup_str("old"), *r = NULL;
    EXPECT_OK(nsIJSBridgeTest_TestString(t, "h\xc3\xa9", &b, &r));
    EXPECT(b && strcmp(b, "h\xc3\xa9") == 0 && r && strcmp(r, "old") == 0);
    NS_Free(b);
    NS_Free(r);
  }
  {
    static const char16_t a[] = {'w', 0x263A, 0};
    static const char16_t old[] = {'o', 0};
    char16_t *b = dup_wstr(old), *r = NULL;
    EXPECT_OK(nsIJSBridgeTest_TestWstring(t, a, &b, &r));
    EXPECT(b && b[0] == 'w' && b[1] == 0x263A && b[2] == 0 && r && r[0] == 'o' && r[1] == 0);
    NS_Free(b);
    NS_Free(r);
  }
  {
    nsStringContainer a, b, r;
    NS_StringContainerInit(&a);
    NS_StringContainerInit(&b);
    NS_StringContainerInit(&r);
    xpcom_string_assign_utf8(&a, "ab\xe2\x98\xba", 5);
    xpcom_string_assign_utf8(&b, "old", 3);
    EXPECT_OK(nsIJSBridgeTest_TestAString(t, &a, &b, &r));
    EXPECT(u16_equals(&b, "ab\xe2\x98\xba") && u16_equals(&r, "old"));
    NS_StringSetIsVoid(&a, true);
    EXPECT_OK(nsIJSBridgeTest_TestAString(t, &a, &b, &r));
    EXPECT(NS_StringGetIsVoid(&b)); /* void <-> null */
    NS_StringContainerFinish(&a);
    NS_StringContainerFinish(&b);
    NS_StringContainerFinish(&r);
  }
  {
    static const char u8[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    nsCStringContainer a, b, r;
    NS_CStringContainerInit(&a);
    NS_CStringContainerInit(&b);
    NS_CStringContainerInit(&r);
    xpcom_cstring_assign(&a, u8, sizeof u8 - 1);
    xpcom_cstring_assign(&b, "x", 1);
    EXPECT_OK(nsIJSBridgeTest_TestUTF8String(t, &a, &b, &r));
    EXPECT(xpcom_cstring_equals(&b, u8, sizeof u8 - 1) && xpcom_cstring_equals(&r, "x", 1));
    char bytes[256];
    for (int i = 0; i < 256; i++)
      bytes[i] = (char)i;
    xpcom_cstring_assign(&a, bytes, 256);
    EXPECT_OK(nsIJSBridgeTest_TestACString(t, &a, &b, &r));
    EXPECT(xpcom_cstring_equals(&b, bytes, 256) && xpcom_cstring_equals(&r, u8, sizeof u8 - 1));
    NS_CStringContainerFinish(&a);
    NS_CStringContainerFinish(&b);
    NS_CStringContainerFinish(&r);
  }
  {
    nsID a = nsIJSBridgeTest_IID;
    nsID *b = NS_Alloc(sizeof *b), *r = NULL;
    *b = nsISupports_IID;
    EXPECT_OK(nsIJSBridgeTest_TestID(t, &a, &b, &r));
    EXPECT(b && nsID_Equals(b, &a) && r && nsID_Equals(r, &nsISupports_IID));
    NS_Free(b);
    NS_Free(r);
  }
  {
    /* a: the JS object itself; b: this native object. */
    nsISupports *b = (nsISupports *)self, *r = NULL;
    xpcom_addref(b);
    EXPECT_OK(nsIJSBridgeTest_TestInterface(t, (nsISupports *)t, &b, &r));
    EXPECT(ident_equal(b, t));    /* the JS object came back as itself */
    EXPECT(r == (nsISupports *)self); /* the native one too */
    if (b)
      xpcom_release(b);
    if (r)
      xpcom_release(r);
  }
  {
    bool b = false;
    int64_t c = 0;
    double d = 0;
    char *e = NULL;
    nsStringContainer f;
    nsCStringContainer g;
    nsISupports *h = NULL;
    NS_StringContainerInit(&f);
    NS_CStringContainerInit(&g);
    EXPECT_OK(nsIJSBridgeTest_TestOuts(t, 9, &b, &c, &d, &e, &f, &g, &h));
    EXPECT(b && c == (int64_t)9 << 40 && d == 9.5 && e && strcmp(e, "9") == 0);
    EXPECT(u16_equals(&f, "9") && xpcom_cstring_equals(&g, "\x00\xff\x09", 3));
    EXPECT(h && ident_equal(h, t));
    NS_Free(e);
    NS_StringContainerFinish(&f);
    NS_CStringContainerFinish(&g);
    if (h)
      xpcom_release(h);
  }
  {
    double r = 0;
    EXPECT_OK(nsIJSBridgeTest_TestMixed(t, 1, 2.5, 3.5f, 4, 5, 6.5, 7.5f, 8.5, 9.5f, 10.5, 11,
                                        12.5, 13, 14.5f, -15, &r));
    EXPECT(r == 1 + 2.5 + 3.5 + 4 + 5 + 6.5 + 7.5 + 8.5 + 9.5 + 10.5 + 11 + 12.5 + 13 + 14.5 - 15);
  }
  {
    int32_t a[3] = {1, -2, 3};
    uint32_t bLen = 2, rvLen = 0;
    int32_t *b = NS_Alloc(2 * sizeof *b), *rv = NULL;
    b[0] = 9;
    b[1] = 8;
    EXPECT_OK(nsIJSBridgeTest_TestLongArray(t, 3, a, &bLen, &b, &rvLen, &rv));
    EXPECT(bLen == 3 && b && b[0] == 1 && b[1] == -2 && b[2] == 3);
    EXPECT(rvLen == 2 && rv && rv[0] == 9 && rv[1] == 8);
    NS_Free(b);
    NS_Free(rv);
  }
  {
    const char *a[2] = {"x", "yy"};
    uint32_t rvLen = 0;
    char **rv = NULL;
    EXPECT_OK(nsIJSBridgeTest_TestStringArray(t, 2, a, &rvLen, &rv));
    EXPECT(rvLen == 2 && rv && strcmp(rv[0], "yy") == 0 && strcmp(rv[1], "x") == 0);
    for (uint32_t i = 0; rv && i < rvLen; i++)
      NS_Free(rv[i]);
    NS_Free(rv);
  }
  {
    uint32_t rvLen = 0;
    char *rv = NULL;
    EXPECT_OK(nsIJSBridgeTest_TestSizedString(t, 3, "abc", &rvLen, &rv));
    EXPECT(rvLen == 3 && rv && memcmp(rv, "cba", 3) == 0);
    NS_Free(rv);
  }
  {
    nsIID *rvIID = NULL;
    void *rv = NULL;
    EXPECT_OK(nsIJSBridgeTest_TestInterfaceIs(t, &nsIJSBridgeTest_IID, t, &rvIID, &rv));
    EXPECT(rvIID && nsID_Equals(rvIID, &nsIJSBridgeTest_IID) && rv && ident_equal(rv, t));
    NS_Free(rvIID);
    if (rv)
      xpcom_release(rv);
  }
  {
    int32_t v = 0;
    EXPECT_OK(nsIJSBridgeTest_SetLongAttr(t, 77));
    EXPECT_OK(nsIJSBridgeTest_GetLongAttr(t, &v));
    EXPECT(v == 77);
    nsStringContainer s;
    NS_StringContainerInit(&s);
    EXPECT_OK(nsIJSBridgeTest_GetReadonlyAttr(t, &s));
    EXPECT(u16_equals(&s, "js \xe2\x98\xba"));
    NS_StringContainerFinish(&s);
  }
  EXPECT(nsIJSBridgeTest_Fail(t, NS_ERROR_ABORT) == NS_ERROR_ABORT);
  {
    /* A method the JS object lacks. */
    nsISupports *r = NULL;
    EXPECT(nsIJSBridgeTest_Held(t, &r) == NS_ERROR_XPC_JSOBJECT_HAS_NO_FUNCTION_NAMED);
  }
  *ret = (uint32_t)failures;
  return NS_OK;
}

static const nsIJSBridgeTestVtbl bt_vtbl = {
    bt_QueryInterface, bt_AddRef, bt_Release,
    bt_TestBoolean, bt_TestOctet, bt_TestShort, bt_TestLong, bt_TestLongLong,
    bt_TestUnsignedShort, bt_TestUnsignedLong, bt_TestUnsignedLongLong,
    bt_TestFloat, bt_TestDouble, bt_TestChar, bt_TestWchar,
    bt_TestString, bt_TestWstring, bt_TestAString, bt_TestAString,
    bt_TestCString, bt_TestCString, bt_TestID, bt_TestInterface,
    bt_TestOuts, bt_TestMixed,
    bt_TestLongArray, bt_TestDoubleArray, bt_TestStringArray, bt_TestInterfaceArray,
    bt_TestSizedString, bt_TestSizedWstring, bt_TestInterfaceIs,
    bt_GetLongAttr, bt_SetLongAttr, bt_GetReadonlyAttr, bt_GetUtf8Attr, bt_SetUtf8Attr,
    bt_Fail, bt_OptionalArg, bt_GetLiveCount, bt_Hold, bt_Held, bt_Drop, bt_QueryInterfaceOf,
    bt_CallRunnable, bt_CallRunnableOnThread, bt_Exercise,
};

static nsresult bt_construct(nsISupports *outer, const nsIID *iid, void **result)
{
  *result = NULL;
  BridgeTest *t = calloc(1, sizeof *t);
  if (!t)
    return NS_ERROR_OUT_OF_MEMORY;
  t->iface.vtbl = &bt_vtbl;
  NS_CStringContainerInit(&t->utf8Attr);
  XPCOM_LEAK_CTOR(BridgeTest);
  __atomic_add_fetch(&live_count, 1, __ATOMIC_RELAXED);
  bt_AddRef(&t->iface);
  nsresult rv = bt_QueryInterface(&t->iface, iid, result);
  bt_Release(&t->iface);
  return rv;
}

static const XPTInterfaceInfo *const test_interfaces[] = {&xpt_nsIJSBridgeTest, NULL};

static nsresult bt_load(void) { return XPT_RegisterInterfaces(test_interfaces); }

static const nsCID kBridgeTestCID = {
    0xc439a13d, 0xa733, 0x4a6e, {0x9f, 0xa8, 0xc8, 0xeb, 0xf9, 0x2e, 0x08, 0xba}};

static const xpcom_module_cid_entry kCIDs[] = {
    {&kBridgeTestCID, false, NULL, bt_construct, XPCOM_MODULE_ANY_PROCESS},
    {NULL, false, NULL, NULL, XPCOM_MODULE_ANY_PROCESS}};
static const xpcom_module_contract_entry kContracts[] = {
    {"@wschannel.test/jsbridge;1", &kBridgeTestCID, XPCOM_MODULE_ANY_PROCESS},
    {NULL, NULL, XPCOM_MODULE_ANY_PROCESS}};
static const xpcom_module kModule = {
    XPCOM_MODULE_VERSION, kCIDs, kContracts, NULL, NULL, bt_load, NULL,
    XPCOM_MODULE_ANY_PROCESS};
XPCOM_NSMODULE_DEFN(kModule);
