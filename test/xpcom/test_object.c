/*
 * test_object.c — table QueryInterface, AddRef/Release helpers, atomic
 * reference counts across NSPR threads, and leak accounting.
 */
#include <check.h>
#include <prthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsID.h"
#include "nsIInterfaceRequestor.h"
#include "nsIRunnable.h"
#include "xpcom_object.h"

/* ---- a C object with two interfaces -------------------------------------- */

typedef struct TestObj {
  nsIRunnable runnable;            /* identity */
  nsIInterfaceRequestor requestor;
  uint32_t refcnt;
  int runs;
  int *destroyed;                  /* incremented by the destructor */
} TestObj;

static const xpcom_qi_entry kTestObjQI[] = {
    XPCOM_QI_ENTRY(TestObj, runnable, nsIRunnable_IID),
    XPCOM_QI_ENTRY(TestObj, requestor, nsIInterfaceRequestor_IID),
    XPCOM_QI_END,
};

static void testobj_destroy(TestObj *o)
{
  if (o->destroyed)
    (*o->destroyed)++;
  XPCOM_LEAK_DTOR(TestObj);
  free(o);
}

static nsrefcnt testobj_addref(TestObj *o)
{
  return xpcom_refcnt_inc(&o->refcnt);
}

static nsrefcnt testobj_release(TestObj *o)
{
  uint32_t n = xpcom_refcnt_dec(&o->refcnt);
  if (n == 0)
    testobj_destroy(o);
  return n;
}

static nsresult r_qi(nsIRunnable *self, const nsIID *iid, void **out)
{
  return xpcom_table_qi(XPCOM_CONTAINER_OF(self, TestObj, runnable), kTestObjQI, iid, out);
}
static nsrefcnt r_addref(nsIRunnable *self)
{
  return testobj_addref(XPCOM_CONTAINER_OF(self, TestObj, runnable));
}
static nsrefcnt r_release(nsIRunnable *self)
{
  return testobj_release(XPCOM_CONTAINER_OF(self, TestObj, runnable));
}
static nsresult r_run(nsIRunnable *self)
{
  XPCOM_CONTAINER_OF(self, TestObj, runnable)->runs++;
  return NS_OK;
}

static nsresult ir_qi(nsIInterfaceRequestor *self, const nsIID *iid, void **out)
{
  return xpcom_table_qi(XPCOM_CONTAINER_OF(self, TestObj, requestor), kTestObjQI, iid, out);
}
static nsrefcnt ir_addref(nsIInterfaceRequestor *self)
{
  return testobj_addref(XPCOM_CONTAINER_OF(self, TestObj, requestor));
}
static nsrefcnt ir_release(nsIInterfaceRequestor *self)
{
  return testobj_release(XPCOM_CONTAINER_OF(self, TestObj, requestor));
}
static nsresult ir_get(nsIInterfaceRequestor *self, const nsIID *iid, void **out)
{
  return ir_qi(self, iid, out);
}

static const nsIRunnableVtbl kRunnableVtbl = {r_qi, r_addref, r_release, r_run};
static const nsIInterfaceRequestorVtbl kRequestorVtbl = {ir_qi, ir_addref, ir_release, ir_get};

static TestObj *testobj_new(int *destroyed)
{
  TestObj *o = calloc(1, sizeof *o);
  ck_assert_ptr_nonnull(o);
  o->runnable.vtbl = &kRunnableVtbl;
  o->requestor.vtbl = &kRequestorVtbl;
  o->refcnt = 1;
  o->destroyed = destroyed;
  XPCOM_LEAK_CTOR(TestObj);
  return o;
}

static const nsIID kUnknownIID = {0x12345678, 0x1234, 0x5678,
                                  {1, 2, 3, 4, 5, 6, 7, 8}};

/* ---- QueryInterface ---------------------------------------------------------- */

START_TEST(test_qi_identity)
{
  int destroyed = 0;
  TestObj *o = testobj_new(&destroyed);
  void *a = NULL, *b = NULL;
  /* QI(nsISupports) through either interface gives the first one. */
  ck_assert_uint_eq(xpcom_query_interface(&o->requestor, &nsISupports_IID, &a), NS_OK);
  ck_assert_ptr_eq(a, &o->runnable);
  ck_assert_uint_eq(xpcom_query_interface(&o->runnable, &nsISupports_IID, &b), NS_OK);
  ck_assert_ptr_eq(a, b);
  ck_assert_uint_eq(o->refcnt, 3);
  NS_RELEASE(a);
  ck_assert_ptr_null(a);
  NS_RELEASE(b);
  ck_assert_uint_eq(o->refcnt, 1);

  nsIInterfaceRequestor *ir = NULL;
  ck_assert_uint_eq(nsIRunnable_QueryInterface(&o->runnable, &nsIInterfaceRequestor_IID,
                                               (void **)&ir), NS_OK);
  ck_assert_ptr_eq(ir, &o->requestor);
  nsIRunnable *r = NULL;
  ck_assert_uint_eq(nsIInterfaceRequestor_GetInterface(ir, &nsIRunnable_IID, (void **)&r), NS_OK);
  ck_assert_ptr_eq(r, &o->runnable);
  nsIRunnable_Run(r);
  ck_assert_int_eq(o->runs, 1);
  NS_RELEASE(r);
  NS_RELEASE(ir);

  ck_assert_int_eq(destroyed, 0);
  nsIRunnable *last = &o->runnable;
  NS_RELEASE(last);
  ck_assert_int_eq(destroyed, 1);
}
END_TEST

START_TEST(test_qi_nointerface_nulls)
{
  TestObj *o = testobj_new(NULL);
  void *out = (void *)0x1;
  ck_assert_uint_eq(xpcom_query_interface(&o->runnable, &kUnknownIID, &out), NS_NOINTERFACE);
  ck_assert_ptr_null(out);
  ck_assert_uint_eq(o->refcnt, 1);

  out = (void *)0x1;
  ck_assert_uint_eq(xpcom_table_qi(o, kTestObjQI, NULL, &out), NS_ERROR_NULL_POINTER);
  ck_assert_ptr_null(out);
  ck_assert_uint_eq(xpcom_table_qi(o, kTestObjQI, &nsIRunnable_IID, NULL), NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(o->refcnt, 1);

  /* An empty table answers nothing, not even nsISupports. */
  static const xpcom_qi_entry empty[] = {XPCOM_QI_END};
  out = (void *)0x1;
  ck_assert_uint_eq(xpcom_table_qi(o, empty, &nsISupports_IID, &out), NS_NOINTERFACE);
  ck_assert_ptr_null(out);

  nsIRunnable *r = &o->runnable;
  NS_IF_RELEASE(r);
  ck_assert_ptr_null(r);
  NS_IF_RELEASE(r); /* NULL: nothing happens */
  NS_IF_ADDREF(r);
}
END_TEST

START_TEST(test_qi_explicit_nsisupports_entry)
{
  /* A table that names nsISupports itself is obeyed. */
  static const xpcom_qi_entry table[] = {
      XPCOM_QI_ENTRY(TestObj, runnable, nsIRunnable_IID),
      XPCOM_QI_ENTRY(TestObj, requestor, nsISupports_IID),
      XPCOM_QI_END,
  };
  TestObj *o = testobj_new(NULL);
  void *out = NULL;
  ck_assert_uint_eq(xpcom_table_qi(o, table, &nsISupports_IID, &out), NS_OK);
  ck_assert_ptr_eq(out, &o->requestor);
  NS_RELEASE(out);
  nsIRunnable *r = &o->runnable;
  NS_ADDREF(r);
  ck_assert_uint_eq(o->refcnt, 2);
  NS_RELEASE(r);
  r = &o->runnable;
  NS_RELEASE(r);
}
END_TEST

/* ---- reference counts across threads ---------------------------------------- */

#define NTHREADS 8
#define NITER 20000

static void refcount_worker(void *arg)
{
  nsIRunnable *r = arg;
  for (int i = 0; i < NITER; i++) {
    NS_ADDREF(r);
    void *tmp = NULL;
    if (i % 16 == 0 && NS_SUCCEEDED(xpcom_query_interface(r, &nsIInterfaceRequestor_IID, &tmp)))
      NS_RELEASE(tmp);
    xpcom_release(r);
  }
  xpcom_release(r); /* the reference the main thread gave this worker */
}

START_TEST(test_refcount_threads)
{
  int destroyed = 0;
  TestObj *o = testobj_new(&destroyed);
  PRThread *t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    NS_ADDREF(&o->runnable);
    t[i] = PR_CreateThread(PR_USER_THREAD, refcount_worker, &o->runnable,
                           PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD, PR_JOINABLE_THREAD, 0);
    ck_assert_ptr_nonnull(t[i]);
  }
  for (int i = 0; i < NTHREADS; i++)
    PR_JoinThread(t[i]);
  ck_assert_uint_eq(__atomic_load_n(&o->refcnt, __ATOMIC_ACQUIRE), 1);
  ck_assert_int_eq(destroyed, 0);
  nsIRunnable *r = &o->runnable;
  NS_RELEASE(r);
  ck_assert_int_eq(destroyed, 1);
}
END_TEST

START_TEST(test_refcnt_helpers)
{
  uint32_t c = 0;
  ck_assert_uint_eq(xpcom_refcnt_inc(&c), 1);
  ck_assert_uint_eq(xpcom_refcnt_inc(&c), 2);
  ck_assert_uint_eq(xpcom_refcnt_dec(&c), 1);
  ck_assert_uint_eq(xpcom_refcnt_dec(&c), 0);
}
END_TEST

/* ---- leak accounting ------------------------------------------------------------ */

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  static char text[16384];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

static char *report_text(void)
{
  static char path[64];
  snprintf(path, sizeof path, "/tmp/test_object_leak.%ld", (long)getpid());
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  XPCOM_LeakReport(f);
  fclose(f);
  char *text = read_file(path);
  remove(path);
  return text;
}

START_TEST(test_leak_counts)
{
  uint64_t base = XPCOM_LeakLiveCount();
  ck_assert_uint_eq(XPCOM_LeakReport(NULL), 0);
  ck_assert_ptr_nonnull(strstr(report_text(), "TEST-PASS | leakcheck | no leaks"));

  xpcom_leak_ctor("LeakyA", 24);
  xpcom_leak_ctor("LeakyA", 24);
  xpcom_leak_ctor("LeakyA", 24);
  xpcom_leak_dtor("LeakyA", 24);
  xpcom_leak_ctor("LeakyB", 100);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), base + 3);
  ck_assert_uint_eq(XPCOM_LeakReport(NULL), 3);

  char *text = report_text();
  ck_assert_ptr_nonnull(strstr(text, "TEST-UNEXPECTED-FAIL | leakcheck | 3 objects leaked: LeakyA, LeakyB\n"));
  /* table row: class, live, live bytes, created */
  ck_assert_ptr_nonnull(strstr(text, "LeakyA"));
  char *row = strstr(text, "LeakyB");
  ck_assert_ptr_nonnull(row);
  unsigned long long live, bytes, created;
  ck_assert_int_eq(sscanf(row, "LeakyB %llu %llu %llu", &live, &bytes, &created), 3);
  ck_assert_uint_eq(live, 1);
  ck_assert_uint_eq(bytes, 100);
  ck_assert_uint_eq(created, 1);

  xpcom_leak_dtor("LeakyA", 24);
  xpcom_leak_dtor("LeakyA", 24);
  xpcom_leak_dtor("LeakyB", 100);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), base);
  ck_assert_ptr_nonnull(strstr(report_text(), "TEST-PASS | leakcheck | no leaks"));
}
END_TEST

START_TEST(test_leak_over_release)
{
  xpcom_leak_dtor("OverReleased", 8);
  ck_assert_uint_eq(XPCOM_LeakReport(NULL), 1);
  char *text = report_text();
  ck_assert_ptr_nonnull(strstr(text, "TEST-UNEXPECTED-FAIL | leakcheck | 0 objects leaked: "
                                     "OverReleased (over-released)"));
  xpcom_leak_ctor("OverReleased", 8); /* balance again */
  ck_assert_uint_eq(XPCOM_LeakReport(NULL), 0);
}
END_TEST

START_TEST(test_leak_report_from_env)
{
  char path[64];
  snprintf(path, sizeof path, "/tmp/test_object_env.%ld", (long)getpid());
  remove(path);
  const char *orig = getenv("XPCOM_MEM_LEAK_LOG");
  char *saved = orig ? strdup(orig) : NULL;
  xpcom_leak_ctor("EnvLeak", 1);

  unsetenv("XPCOM_MEM_LEAK_LOG");
  ck_assert_int_eq(XPCOM_LeakReportFromEnv(), 1);
  setenv("XPCOM_MEM_LEAK_LOG", path, 1);
  ck_assert_int_eq(XPCOM_LeakReportFromEnv(), 1);
  ck_assert_int_eq(XPCOM_LeakReportFromEnv(), 1); /* appends */
  char *text = read_file(path);
  char *first = strstr(text, "1 objects leaked: EnvLeak");
  ck_assert_ptr_nonnull(first);
  ck_assert_ptr_nonnull(strstr(first + 1, "1 objects leaked: EnvLeak"));
  setenv("XPCOM_MEM_LEAK_LOG", "2", 1);
  ck_assert_int_eq(XPCOM_LeakReportFromEnv(), 1);

  xpcom_leak_dtor("EnvLeak", 1);
  setenv("XPCOM_MEM_LEAK_LOG", path, 1);
  ck_assert_int_eq(XPCOM_LeakReportFromEnv(), 0);
  ck_assert_ptr_nonnull(strstr(read_file(path), "TEST-PASS | leakcheck"));
  remove(path);
  if (saved)
    setenv("XPCOM_MEM_LEAK_LOG", saved, 1);
  else
    unsetenv("XPCOM_MEM_LEAK_LOG");
  free(saved);
}
END_TEST

static void leak_worker(void *arg)
{
  const char *name = arg;
  for (int i = 0; i < 5000; i++) {
    xpcom_leak_ctor(name, 16);
    xpcom_leak_ctor("SharedClass", 8);
    xpcom_leak_dtor(name, 16);
    xpcom_leak_dtor("SharedClass", 8);
  }
  xpcom_leak_ctor("SharedClass", 8); /* one left alive per thread */
}

START_TEST(test_leak_threads)
{
  static const char *names[] = {"T0", "T1", "T2", "T3", "T4", "T5"};
  PRThread *t[6];
  uint64_t base = XPCOM_LeakLiveCount();
  for (int i = 0; i < 6; i++) {
    t[i] = PR_CreateThread(PR_USER_THREAD, leak_worker, (void *)names[i],
                           PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD, PR_JOINABLE_THREAD, 0);
    ck_assert_ptr_nonnull(t[i]);
  }
  for (int i = 0; i < 6; i++)
    PR_JoinThread(t[i]);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), base + 6);
  for (int i = 0; i < 6; i++)
    xpcom_leak_dtor("SharedClass", 8);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), base);
}
END_TEST

static Suite *object_suite(void)
{
  Suite *s = suite_create("object");
  TCase *qi = tcase_create("qi");
  tcase_add_test(qi, test_qi_identity);
  tcase_add_test(qi, test_qi_nointerface_nulls);
  tcase_add_test(qi, test_qi_explicit_nsisupports_entry);
  tcase_add_test(qi, test_refcount_threads);
  tcase_add_test(qi, test_refcnt_helpers);
  suite_add_tcase(s, qi);
  TCase *leak = tcase_create("leak");
  tcase_add_test(leak, test_leak_counts);
  tcase_add_test(leak, test_leak_over_release);
  tcase_add_test(leak, test_leak_report_from_env);
  tcase_add_test(leak, test_leak_threads);
  suite_add_tcase(s, leak);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(object_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  /* Every test balances what it creates: nothing may be left. */
  if (XPCOM_LeakReportFromEnv() != 0)
    failed++;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
