/*
 * testmodule.c — a binary component for the component and manifest tests,
 * loaded through `binary-component` lines like any real module.
 *
 * Built four times (see test/xpcom/Makefile-services.inc):
 *   testmodule.la                        the good module:
 *       CID {5ee1ac3e-...-01}: an nsIRunnable whose Run() counts,
 *           contract "@wschannel.test/runnable;1";
 *       CID {5ee1ac3e-...-02}: a service (counts its constructions),
 *           contract "@wschannel.test/service;1";
 *       a CONTENT_PROCESS_ONLY CID and contract that must be skipped;
 *       category "wschannel-test" entry "module" value "loaded".
 *   testmodule_badversion.la  (-DTESTMODULE_VERSION=51)  wrong mVersion
 *   testmodule_nosymbol.la    (-DTESTMODULE_NO_NSMODULE)  no NSModule
 *   testmodule_factoryonly.la (-DTESTMODULE_FACTORY_ONLY) a CID entry with
 *       only a getFactoryProc (reported and skipped) and one good CID.
 *
 * The test reads the counters through dlsym on the loaded library.
 */
#include "xpcom_module.h"
#include "xpcom_object.h"
#include "nsIRunnable.h"

#include <stdlib.h>

#ifndef TESTMODULE_VERSION
#define TESTMODULE_VERSION XPCOM_MODULE_VERSION
#endif

/* Counters for the tests (exported data, found with dlsym). */
XPCOM_EXPORT int testmodule_loads;
XPCOM_EXPORT int testmodule_unloads;
XPCOM_EXPORT int testmodule_runs;
XPCOM_EXPORT int testmodule_service_constructions;

typedef struct test_runnable {
  nsIRunnable iface;
  uint32_t refcnt;
} test_runnable;

static const xpcom_qi_entry runnable_qi[] = {
    XPCOM_QI_ENTRY(test_runnable, iface, nsIRunnable_IID), XPCOM_QI_END};

static nsresult tr_QueryInterface(nsIRunnable *self, const nsIID *iid,
                                  void **result) {
  return xpcom_table_qi(self, runnable_qi, iid, result);
}
static nsrefcnt tr_AddRef(nsIRunnable *self) {
  return xpcom_refcnt_inc(&((test_runnable *)self)->refcnt);
}
static nsrefcnt tr_Release(nsIRunnable *self) {
  test_runnable *r = (test_runnable *)self;
  nsrefcnt n = xpcom_refcnt_dec(&r->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("TestModuleRunnable", sizeof *r);
    free(r);
  }
  return n;
}
static nsresult tr_Run(nsIRunnable *self) {
  __atomic_add_fetch(&testmodule_runs, 1, __ATOMIC_RELAXED);
  return NS_OK;
}
static const nsIRunnableVtbl runnable_vtbl = {
    .QueryInterface = tr_QueryInterface,
    .AddRef = tr_AddRef,
    .Release = tr_Release,
    .Run = tr_Run,
};

/* Module::ConstructorProcPtr: QI the new object to *iid. */
static nsresult runnable_construct(nsISupports *outer, const nsIID *iid,
                                   void **result) {
  *result = NULL;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  test_runnable *r = calloc(1, sizeof *r);
  if (!r)
    return NS_ERROR_OUT_OF_MEMORY;
  r->iface.vtbl = &runnable_vtbl;
  r->refcnt = 1;
  xpcom_leak_ctor("TestModuleRunnable", sizeof *r);
  nsresult rv = tr_QueryInterface(&r->iface, iid, result);
  tr_Release(&r->iface);
  return rv;
}


static nsresult module_load(void) {
  testmodule_loads++;
  return NS_OK;
}
static void module_unload(void) { testmodule_unloads++; }

#ifdef TESTMODULE_FACTORY_ONLY
static const nsCID kFactoryOnlyCID = {
    0x5ee1ac3e, 0x0001, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0x04}};
static const nsCID kFactoryModuleGoodCID = {
    0x5ee1ac3e, 0x0001, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0x05}};

/* Stands for a C++ GetFactoryProcPtr; the runtime must never call it. */
static void never_called(void) { abort(); }

static const xpcom_module_cid_entry kCIDs[] = {
    {&kFactoryOnlyCID, false, never_called, NULL, XPCOM_MODULE_ANY_PROCESS},
    {&kFactoryModuleGoodCID, false, NULL, runnable_construct,
     XPCOM_MODULE_ANY_PROCESS},
    {NULL, false, NULL, NULL, XPCOM_MODULE_ANY_PROCESS}};
static const xpcom_module_contract_entry kContracts[] = {
    {"@wschannel.test/factory-module;1", &kFactoryModuleGoodCID,
     XPCOM_MODULE_ANY_PROCESS},
    {NULL, NULL, XPCOM_MODULE_ANY_PROCESS}};
#else
static const nsCID kRunnableCID = {
    0x5ee1ac3e, 0x0001, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0x01}};
static const nsCID kServiceCID = {
    0x5ee1ac3e, 0x0001, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0x02}};
static const nsCID kContentOnlyCID = {
    0x5ee1ac3e, 0x0001, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0x03}};

static nsresult service_construct(nsISupports *outer, const nsIID *iid,
                                  void **result) {
  __atomic_add_fetch(&testmodule_service_constructions, 1, __ATOMIC_RELAXED);
  return runnable_construct(outer, iid, result);
}

static const xpcom_module_cid_entry kCIDs[] = {
    {&kRunnableCID, false, NULL, runnable_construct, XPCOM_MODULE_ANY_PROCESS},
    {&kServiceCID, true, NULL, service_construct,
     XPCOM_MODULE_MAIN_PROCESS_ONLY},
    {&kContentOnlyCID, false, NULL, runnable_construct,
     XPCOM_MODULE_CONTENT_PROCESS_ONLY},
    {NULL, false, NULL, NULL, XPCOM_MODULE_ANY_PROCESS}};
static const xpcom_module_contract_entry kContracts[] = {
    {"@wschannel.test/runnable;1", &kRunnableCID, XPCOM_MODULE_ANY_PROCESS},
    {"@wschannel.test/service;1", &kServiceCID, XPCOM_MODULE_ANY_PROCESS},
    {"@wschannel.test/content-only;1", &kContentOnlyCID,
     XPCOM_MODULE_CONTENT_PROCESS_ONLY},
    {NULL, NULL, XPCOM_MODULE_ANY_PROCESS}};
#endif

static const xpcom_module_category_entry kCategories[] = {
    {"wschannel-test", "module", "loaded"}, {NULL, NULL, NULL}};

static const xpcom_module kModule = {
    TESTMODULE_VERSION, kCIDs,         kContracts,   kCategories,
    NULL,               module_load,   module_unload, XPCOM_MODULE_ANY_PROCESS};

#ifndef TESTMODULE_NO_NSMODULE
XPCOM_NSMODULE_DEFN(kModule);
#else
/* Keep the descriptor referenced so the compiler does not complain. */
XPCOM_EXPORT const xpcom_module *const NotTheNSModule = &kModule;
#endif
