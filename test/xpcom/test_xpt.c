/*
 * test_xpt.c — the interface type-information registry (src/xpcom/xpt.c).
 *
 * This program links xpt.c directly with its own hand-made
 * xpt_builtin_interfaces, instead of the generated index the library
 * carries, so every value below is known.
 */
#include <check.h>
#include <prthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsError.h"
#include "nsID.h"
#include "xpt.h"

/* ---- hand-made type information -------------------------------------- */

#define TD(tag_) {(uint8_t)(tag_), 0, 0, 0, NULL, NULL, NULL}
#define RESULT_NSRESULT {NULL, XPT_PD_OUT, TD(XPT_TD_UINT32)}

static const XPTParamDescriptor kQIParams[] = {
    {"uuid", XPT_PD_IN, {XPT_TD_PNSIID, XPT_TDF_POINTER | XPT_TDF_REFERENCE, 0, 0, NULL, NULL, NULL}},
    {"result", XPT_PD_OUT | XPT_PD_RETVAL,
     {XPT_TD_INTERFACE_IS_TYPE, XPT_TDF_POINTER, 0, 0, NULL, NULL, NULL}},
};

static const XPTMethodDescriptor kSupportsMethods[] = {
    {"QueryInterface", 0, 2, kQIParams, RESULT_NSRESULT},
    {"AddRef", XPT_MD_NOTXPCOM | XPT_MD_HIDDEN, 0, NULL, {NULL, XPT_PD_OUT, TD(XPT_TD_UINT32)}},
    {"Release", XPT_MD_NOTXPCOM | XPT_MD_HIDDEN, 0, NULL, {NULL, XPT_PD_OUT, TD(XPT_TD_UINT32)}},
};

static const XPTInterfaceInfo kSupports = {
    "nsISupports", {0, 0, 0, {0xc0, 0, 0, 0, 0, 0, 0, 0x46}}, NULL,
    XPT_ID_SCRIPTABLE, 0, 3, kSupportsMethods, 0, NULL};

static const XPTParamDescriptor kValueGet[] = {
    {"aValue", XPT_PD_OUT | XPT_PD_RETVAL, TD(XPT_TD_INT32)}};
static const XPTParamDescriptor kValueSet[] = {{"aValue", XPT_PD_IN, TD(XPT_TD_INT32)}};
static const XPTParamDescriptor kNameGet[] = {
    {"aName", XPT_PD_IN | XPT_PD_DIPPER | XPT_PD_RETVAL, TD(XPT_TD_CSTRING)}};

static const XPTMethodDescriptor kBaseMethods[] = {
    {"value", XPT_MD_GETTER, 1, kValueGet, RESULT_NSRESULT},  /* slot 3 */
    {"value", XPT_MD_SETTER, 1, kValueSet, RESULT_NSRESULT},  /* slot 4 */
    {"name", XPT_MD_GETTER, 1, kNameGet, RESULT_NSRESULT},    /* slot 5, readonly */
    {"doIt", 0, 0, NULL, RESULT_NSRESULT},                    /* slot 6 */
};

static const XPTConstDescriptor kBaseConsts[] = {
    {"FOO", TD(XPT_TD_UINT16), 1},
    {"NEGATIVE", TD(XPT_TD_INT32), -2},
};

static const XPTInterfaceInfo kBase = {
    "nsITestBase", {0x11111111, 0x2222, 0x3333, {0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55}},
    "nsISupports", XPT_ID_SCRIPTABLE, 3, 4, kBaseMethods, 2, kBaseConsts};

static const XPTMethodDescriptor kDerivedMethods[] = {
    {"extra", 0, 0, NULL, RESULT_NSRESULT}, /* slot 7 */
};
static const XPTConstDescriptor kDerivedConsts[] = {{"BAZ", TD(XPT_TD_UINT32), 1000}};

static const XPTInterfaceInfo kDerived = {
    "nsITestDerived", {0xaaaaaaaa, 0xbbbb, 0xcccc, {0xdd, 0xdd, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee}},
    "nsITestBase", XPT_ID_SCRIPTABLE | XPT_ID_BUILTINCLASS, 7, 1, kDerivedMethods, 1, kDerivedConsts};

static const XPTMethodDescriptor kOrphanMethods[] = {{"lonely", 0, 0, NULL, RESULT_NSRESULT}};
static const XPTInterfaceInfo kOrphan = {
    "nsITestOrphan", {0x0badf00d, 0, 1, {0, 0, 0, 0, 0, 0, 0, 1}},
    "nsINotRegistered", 0, 5, 1, kOrphanMethods, 0, NULL};

/* What xpidl's index would be for this test. */
const XPTInterfaceInfo *const xpt_builtin_interfaces[] = {
    &kSupports, &kBase, &kDerived, &kOrphan, NULL};

/* Interfaces a "host" adds later. */
static const XPTInterfaceInfo kExtraA = {
    "nsITestExtraA", {0xe0000001, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0xa}}, "nsITestBase",
    XPT_ID_SCRIPTABLE, 7, 0, NULL, 0, NULL};
static const XPTInterfaceInfo kExtraB = {
    "nsITestExtraB", {0xe0000002, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0xb}}, "nsITestExtraA",
    XPT_ID_SCRIPTABLE, 7, 0, NULL, 0, NULL};
/* Conflicts: the IID of nsITestBase under another name, and the name
 * nsITestBase under another IID. */
static const XPTInterfaceInfo kImposterIID = {
    "nsITestImposter", {0x11111111, 0x2222, 0x3333, {0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55}},
    "nsISupports", 0, 3, 0, NULL, 0, NULL};
static const XPTInterfaceInfo kImposterName = {
    "nsITestBase", {0xe0000003, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0xc}}, "nsISupports",
    0, 3, 0, NULL, 0, NULL};
static const XPTInterfaceInfo kExtraC = {
    "nsITestExtraC", {0xe0000004, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0xd}}, "nsISupports",
    0, 3, 0, NULL, 0, NULL};

/* ---- helpers --------------------------------------------------------------- */

typedef struct collect {
  const XPTInterfaceInfo *seen[32];
  size_t n;
  bool lookups_ok;
} collect;

static void collect_fn(const XPTInterfaceInfo *info, void *closure)
{
  collect *c = closure;
  if (c->n < 32)
    c->seen[c->n] = info;
  c->n++;
  /* Looking up from inside the callback must not deadlock. */
  if (XPT_GetInterfaceByName(info->name) != info)
    c->lookups_ok = false;
}

static size_t count_interfaces(void)
{
  collect c = {.n = 0, .lookups_ok = true};
  XPT_ForEachInterface(collect_fn, &c);
  ck_assert(c.lookups_ok);
  return c.n;
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(test_lookup_builtin)
{
  ck_assert_ptr_eq(XPT_GetInterfaceByName("nsITestDerived"), &kDerived);
  ck_assert_ptr_eq(XPT_GetInterfaceByName("nsISupports"), &kSupports);
  nsIID iid;
  ck_assert(nsID_Parse(&iid, "{11111111-2222-3333-4444-555555555555}"));
  ck_assert_ptr_eq(XPT_GetInterfaceByIID(&iid), &kBase);
  ck_assert(nsID_Parse(&iid, "00000000-0000-0000-c000-000000000046"));
  ck_assert_ptr_eq(XPT_GetInterfaceByIID(&iid), &kSupports);

  ck_assert_ptr_null(XPT_GetInterfaceByName("nsINothing"));
  ck_assert_ptr_null(XPT_GetInterfaceByName(""));
  ck_assert_ptr_null(XPT_GetInterfaceByName(NULL));
  ck_assert(nsID_Parse(&iid, "00000000-0000-0000-c000-000000000047"));
  ck_assert_ptr_null(XPT_GetInterfaceByIID(&iid));
  ck_assert_ptr_null(XPT_GetInterfaceByIID(NULL));
}
END_TEST

START_TEST(test_parent)
{
  ck_assert_ptr_eq(XPT_GetParent(&kDerived), &kBase);
  ck_assert_ptr_eq(XPT_GetParent(&kBase), &kSupports);
  ck_assert_ptr_null(XPT_GetParent(&kSupports));
  ck_assert_ptr_null(XPT_GetParent(&kOrphan)); /* parent not registered */
  ck_assert_ptr_null(XPT_GetParent(NULL));
}
END_TEST

START_TEST(test_find_method)
{
  uint16_t idx = 999;
  const XPTMethodDescriptor *m;

  m = XPT_FindMethod(&kDerived, "QueryInterface", false, &idx);
  ck_assert_ptr_eq(m, &kSupportsMethods[0]);
  ck_assert_uint_eq(idx, 0);
  m = XPT_FindMethod(&kDerived, "Release", false, &idx);
  ck_assert_ptr_eq(m, &kSupportsMethods[2]);
  ck_assert_uint_eq(idx, 2);

  /* attribute: getter by default, setter on request */
  m = XPT_FindMethod(&kDerived, "value", false, &idx);
  ck_assert_ptr_eq(m, &kBaseMethods[0]);
  ck_assert_uint_eq(idx, 3);
  m = XPT_FindMethod(&kDerived, "value", true, &idx);
  ck_assert_ptr_eq(m, &kBaseMethods[1]);
  ck_assert_uint_eq(idx, 4);
  /* readonly attribute has no setter; a plain method is not settable */
  idx = 999;
  ck_assert_ptr_null(XPT_FindMethod(&kDerived, "name", true, &idx));
  ck_assert_uint_eq(idx, 999);
  ck_assert_ptr_eq(XPT_FindMethod(&kDerived, "name", false, &idx), &kBaseMethods[2]);
  ck_assert_uint_eq(idx, 5);
  ck_assert_ptr_null(XPT_FindMethod(&kDerived, "doIt", true, NULL));
  ck_assert_ptr_eq(XPT_FindMethod(&kDerived, "doIt", false, &idx), &kBaseMethods[3]);
  ck_assert_uint_eq(idx, 6);

  ck_assert_ptr_eq(XPT_FindMethod(&kDerived, "extra", false, &idx), &kDerivedMethods[0]);
  ck_assert_uint_eq(idx, 7);
  /* a base interface does not see its descendants' methods */
  ck_assert_ptr_null(XPT_FindMethod(&kBase, "extra", false, &idx));
  ck_assert_ptr_null(XPT_FindMethod(&kDerived, "nothing", false, &idx));
  ck_assert_ptr_null(XPT_FindMethod(&kDerived, "Value", false, &idx)); /* case matters */
  ck_assert_ptr_null(XPT_FindMethod(&kDerived, NULL, false, &idx));
  ck_assert_ptr_null(XPT_FindMethod(NULL, "value", false, &idx));

  /* With an unregistered parent, only its own methods are found. */
  ck_assert_ptr_eq(XPT_FindMethod(&kOrphan, "lonely", false, &idx), &kOrphanMethods[0]);
  ck_assert_uint_eq(idx, 5);
  ck_assert_ptr_null(XPT_FindMethod(&kOrphan, "QueryInterface", false, &idx));
}
END_TEST

START_TEST(test_find_constant)
{
  const XPTConstDescriptor *c = XPT_FindConstant(&kDerived, "BAZ");
  ck_assert_ptr_eq(c, &kDerivedConsts[0]);
  ck_assert_int_eq(c->value, 1000);
  c = XPT_FindConstant(&kDerived, "NEGATIVE");
  ck_assert_ptr_eq(c, &kBaseConsts[1]);
  ck_assert_int_eq(c->value, -2);
  ck_assert_ptr_eq(XPT_FindConstant(&kBase, "FOO"), &kBaseConsts[0]);
  ck_assert_ptr_null(XPT_FindConstant(&kBase, "BAZ"));
  ck_assert_ptr_null(XPT_FindConstant(&kSupports, "FOO"));
  ck_assert_ptr_null(XPT_FindConstant(&kDerived, NULL));
}
END_TEST

START_TEST(test_for_each_order)
{
  collect c = {.n = 0, .lookups_ok = true};
  XPT_ForEachInterface(collect_fn, &c);
  ck_assert(c.lookups_ok);
  ck_assert_uint_eq(c.n, 4);
  ck_assert_ptr_eq(c.seen[0], &kSupports);
  ck_assert_ptr_eq(c.seen[1], &kBase);
  ck_assert_ptr_eq(c.seen[2], &kDerived);
  ck_assert_ptr_eq(c.seen[3], &kOrphan);
  XPT_ForEachInterface(NULL, NULL); /* ignored */
}
END_TEST

START_TEST(test_register)
{
  const XPTInterfaceInfo *const list[] = {&kExtraA, &kExtraB, NULL};
  ck_assert_uint_eq(XPT_RegisterInterfaces(list), NS_OK);
  ck_assert_uint_eq(count_interfaces(), 6);
  ck_assert_ptr_eq(XPT_GetInterfaceByName("nsITestExtraB"), &kExtraB);
  ck_assert_ptr_eq(XPT_GetInterfaceByIID(&kExtraA.iid), &kExtraA);
  /* inherited look-ups through a registered chain */
  uint16_t idx;
  ck_assert_ptr_eq(XPT_FindMethod(&kExtraB, "doIt", false, &idx), &kBaseMethods[3]);
  ck_assert_uint_eq(idx, 6);
  ck_assert_ptr_eq(XPT_FindConstant(&kExtraB, "FOO"), &kBaseConsts[0]);

  /* Registering the same again (and repeats in one list) is a no-op. */
  const XPTInterfaceInfo *const again[] = {&kExtraA, &kBase, &kExtraA, NULL};
  ck_assert_uint_eq(XPT_RegisterInterfaces(again), NS_OK);
  ck_assert_uint_eq(count_interfaces(), 6);

  const XPTInterfaceInfo *const empty[] = {NULL};
  ck_assert_uint_eq(XPT_RegisterInterfaces(empty), NS_OK);
  ck_assert_uint_eq(XPT_RegisterInterfaces(NULL), NS_ERROR_NULL_POINTER);

  /* for-each sees registration order */
  collect c = {.n = 0, .lookups_ok = true};
  XPT_ForEachInterface(collect_fn, &c);
  ck_assert_ptr_eq(c.seen[4], &kExtraA);
  ck_assert_ptr_eq(c.seen[5], &kExtraB);
}
END_TEST

START_TEST(test_register_conflicts)
{
  /* Each list has a good entry first: on error nothing at all is added. */
  const XPTInterfaceInfo *const bad_iid[] = {&kExtraC, &kImposterIID, NULL};
  ck_assert_uint_eq(XPT_RegisterInterfaces(bad_iid), NS_ERROR_ILLEGAL_VALUE);
  const XPTInterfaceInfo *const bad_name[] = {&kExtraC, &kImposterName, NULL};
  ck_assert_uint_eq(XPT_RegisterInterfaces(bad_name), NS_ERROR_ILLEGAL_VALUE);
  /* Conflict inside the list itself. */
  static const XPTInterfaceInfo kTwinIID = {
      "nsITestTwin", {0xe0000004, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0xd}}, "nsISupports",
      0, 3, 0, NULL, 0, NULL};
  const XPTInterfaceInfo *const twins[] = {&kExtraC, &kTwinIID, NULL};
  ck_assert_uint_eq(XPT_RegisterInterfaces(twins), NS_ERROR_ILLEGAL_VALUE);
  /* Malformed entry. */
  static const XPTInterfaceInfo kNoName = {
      NULL, {0xe0000005, 0, 0, {0}}, "nsISupports", 0, 3, 0, NULL, 0, NULL};
  const XPTInterfaceInfo *const noname[] = {&kExtraC, &kNoName, NULL};
  ck_assert_uint_eq(XPT_RegisterInterfaces(noname), NS_ERROR_ILLEGAL_VALUE);

  ck_assert_ptr_null(XPT_GetInterfaceByName("nsITestExtraC"));
  ck_assert_ptr_null(XPT_GetInterfaceByName("nsITestImposter"));
  ck_assert_ptr_eq(XPT_GetInterfaceByName("nsITestBase"), &kBase);
  ck_assert_ptr_eq(XPT_GetInterfaceByIID(&kBase.iid), &kBase);
  ck_assert_uint_eq(count_interfaces(), 4);
}
END_TEST

/* Many interfaces: forces the tables to grow and rehash. */
START_TEST(test_register_many)
{
  enum { N = 300 };
  static XPTInterfaceInfo infos[N];
  static char names[N][32];
  static const XPTInterfaceInfo *list[N + 1];
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "nsITestMany%d", i);
    XPTInterfaceInfo info = {names[i], {0x70000000u + (uint32_t)i, 1, 2, {3}}, "nsISupports",
                             0, 3, 0, NULL, 0, NULL};
    infos[i] = info;
    list[i] = &infos[i];
  }
  list[N] = NULL;
  ck_assert_uint_eq(XPT_RegisterInterfaces(list), NS_OK);
  ck_assert_uint_eq(count_interfaces(), 4 + N);
  for (int i = 0; i < N; i++) {
    ck_assert_ptr_eq(XPT_GetInterfaceByName(names[i]), &infos[i]);
    ck_assert_ptr_eq(XPT_GetInterfaceByIID(&infos[i].iid), &infos[i]);
  }
  ck_assert_ptr_eq(XPT_GetInterfaceByName("nsITestDerived"), &kDerived);
}
END_TEST

/* ---- threads ------------------------------------------------------------------ */

typedef struct racer {
  int id;
  const XPTInterfaceInfo *got;
  bool ok;
} racer;

static void racer_main(void *arg)
{
  racer *r = arg;
  /* All threads race for the lazy initialisation. */
  r->got = XPT_GetInterfaceByName("nsITestDerived");
  r->ok = true;
  for (int i = 0; i < 2000; i++) {
    if (XPT_GetInterfaceByIID(&kBase.iid) != &kBase ||
        XPT_FindMethod(&kDerived, "value", true, NULL) != &kBaseMethods[1])
      r->ok = false;
  }
  if (r->id == 0) {
    const XPTInterfaceInfo *const list[] = {&kExtraA, NULL};
    if (XPT_RegisterInterfaces(list) != NS_OK)
      r->ok = false;
  }
}

START_TEST(test_threads)
{
  enum { NT = 8 };
  PRThread *t[NT];
  racer r[NT];
  for (int i = 0; i < NT; i++) {
    r[i].id = i;
    r[i].got = NULL;
    r[i].ok = false;
    t[i] = PR_CreateThread(PR_USER_THREAD, racer_main, &r[i], PR_PRIORITY_NORMAL,
                           PR_GLOBAL_THREAD, PR_JOINABLE_THREAD, 0);
    ck_assert_ptr_nonnull(t[i]);
  }
  for (int i = 0; i < NT; i++) {
    PR_JoinThread(t[i]);
    ck_assert(r[i].ok);
    ck_assert_ptr_eq(r[i].got, &kDerived);
  }
  ck_assert_ptr_eq(XPT_GetInterfaceByName("nsITestExtraA"), &kExtraA);
  ck_assert_uint_eq(count_interfaces(), 5);
}
END_TEST

static Suite *xpt_suite(void)
{
  Suite *s = suite_create("xpt");
  TCase *tc = tcase_create("registry");
  tcase_add_test(tc, test_lookup_builtin);
  tcase_add_test(tc, test_parent);
  tcase_add_test(tc, test_find_method);
  tcase_add_test(tc, test_find_constant);
  tcase_add_test(tc, test_for_each_order);
  tcase_add_test(tc, test_register);
  tcase_add_test(tc, test_register_conflicts);
  tcase_add_test(tc, test_register_many);
  tcase_add_test(tc, test_threads);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(xpt_suite());
  /* Each test starts from a fresh registry: it runs in its own process. */
  srunner_set_fork_status(sr, CK_FORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
