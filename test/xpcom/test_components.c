/*
 * test_components.c — the component manager, service manager and
 * registrar: built-in classes by contract and CID, unknown classes
 * (0x80040154), aggregation, service singletons (also under concurrency and
 * re-entrancy), registerFactory and friends, a binary module loaded through
 * a manifest, the shutdown sequence, init/shutdown/re-init cycles.
 */
#include "svc_test_util.h"
#include "xpcom_module.h"
#include "xpcom_prefs.h"
#include "nsIFactory.h"
#include "nsIObserver.h"
#include "nsIObserverService.h"
#include "nsIPrefBranch.h"
#include "nsIPrefService.h"
#include "nsITimer.h"

#include <dlfcn.h>

#ifndef TEST_MODULE_DIR
#error TEST_MODULE_DIR must name the directory of testmodule.so
#endif

static void setup(void) { svc_init(); }
static void teardown(void) { svc_shutdown(); }

static const nsCID kTimerCID = {
    0x5ff24248, 0x1dd2, 0x11b2, {0x84, 0x27, 0xfb, 0xab, 0x44, 0xf2, 0x9b, 0xc8}};
static const nsCID kUnknownCID = {
    0x5ee1ac3e, 0x0003, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0xee}};
static const nsCID kTestCID = {
    0x5ee1ac3e, 0x0003, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0x01}};
static const nsCID kTestCID2 = {
    0x5ee1ac3e, 0x0003, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0x02}};

static nsIComponentManager *cm_get(void) {
  nsIComponentManager *cm = NULL;
  ck_assert_uint_eq(NS_GetComponentManager(&cm), NS_OK);
  return cm;
}
static nsIServiceManager *sm_get(void) {
  nsIServiceManager *sm = NULL;
  ck_assert_uint_eq(NS_GetServiceManager(&sm), NS_OK);
  return sm;
}
static nsIComponentRegistrar *reg_get(void) {
  nsIComponentRegistrar *r = NULL;
  ck_assert_uint_eq(NS_GetComponentRegistrar(&r), NS_OK);
  return r;
}

/* ---- a C factory whose products are plain nsISupports objects ------------ */

typedef struct product {
  nsISupports iface;
  uint32_t refcnt;
  void (*on_destroy)(void);
} product;

static nsresult pr_qi(nsISupports *self, const nsIID *iid, void **r) {
  static const xpcom_qi_entry t[] = {
      XPCOM_QI_ENTRY(product, iface, nsISupports_IID), XPCOM_QI_END};
  return xpcom_table_qi(self, t, iid, r);
}
static nsrefcnt pr_addref(nsISupports *self) {
  return xpcom_refcnt_inc(&((product *)self)->refcnt);
}
static nsrefcnt pr_release(nsISupports *self) {
  product *p = (product *)self;
  nsrefcnt n = xpcom_refcnt_dec(&p->refcnt);
  if (n == 0) {
    void (*hook)(void) = p->on_destroy;
    xpcom_leak_dtor("TestProduct", sizeof *p);
    free(p);
    if (hook)
      hook();
  }
  return n;
}
static const nsISupportsVtbl product_vtbl = {pr_qi, pr_addref, pr_release};

typedef struct test_factory {
  nsIFactory iface;
  uint32_t refcnt;
  atomic_int created;
  int delay_ms;                 /* slow constructor */
  const nsCID *reenter_cid;     /* getService(this) from the constructor */
  nsresult reenter_rv;
  void (*product_destroyed)(void);
} test_factory;

static nsresult tf_qi(nsIFactory *self, const nsIID *iid, void **r) {
  static const xpcom_qi_entry t[] = {
      XPCOM_QI_ENTRY(test_factory, iface, nsIFactory_IID), XPCOM_QI_END};
  return xpcom_table_qi(self, t, iid, r);
}
static nsrefcnt tf_addref(nsIFactory *self) {
  return xpcom_refcnt_inc(&((test_factory *)self)->refcnt);
}
static nsrefcnt tf_release(nsIFactory *self) {
  test_factory *f = (test_factory *)self;
  nsrefcnt n = xpcom_refcnt_dec(&f->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("TestFactory", sizeof *f);
    free(f);
  }
  return n;
}
static nsresult tf_create(nsIFactory *self, nsISupports *outer,
                          const nsIID *iid, void **result) {
  test_factory *f = (test_factory *)self;
  *result = NULL;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  if (f->delay_ms)
    PR_Sleep(PR_MillisecondsToInterval((PRUint32)f->delay_ms));
  if (f->reenter_cid) {
    nsIServiceManager *sm = sm_get();
    void *again = NULL;
    f->reenter_rv = nsIServiceManager_GetService(sm, f->reenter_cid,
                                                 &nsISupports_IID, &again);
    if (again)
      xpcom_release(again);
    NS_RELEASE(sm);
  }
  product *p = calloc(1, sizeof *p);
  p->iface.vtbl = &product_vtbl;
  p->refcnt = 1;
  p->on_destroy = f->product_destroyed;
  xpcom_leak_ctor("TestProduct", sizeof *p);
  atomic_fetch_add(&f->created, 1);
  nsresult rv = pr_qi(&p->iface, iid, result);
  pr_release(&p->iface);
  return rv;
}
static nsresult tf_lock(nsIFactory *self, bool lock) { return NS_OK; }
static const nsIFactoryVtbl factory_vtbl = {tf_qi, tf_addref, tf_release,
                                            tf_create, tf_lock};

static test_factory *factory_new(void) {
  test_factory *f = calloc(1, sizeof *f);
  f->iface.vtbl = &factory_vtbl;
  f->refcnt = 1;
  xpcom_leak_ctor("TestFactory", sizeof *f);
  return f;
}

/* ---- tests ----------------------------------------------------------------- */

START_TEST(test_manager_identity)
{
  nsIComponentManager *cm = cm_get();
  nsIServiceManager *sm = sm_get();
  nsIComponentRegistrar *reg = reg_get();
  nsISupports *a = NULL, *b = NULL, *c = NULL;
  ck_assert_uint_eq(xpcom_query_interface(cm, &nsISupports_IID, (void **)&a),
                    NS_OK);
  ck_assert_uint_eq(xpcom_query_interface(sm, &nsISupports_IID, (void **)&b),
                    NS_OK);
  ck_assert_uint_eq(xpcom_query_interface(reg, &nsISupports_IID, (void **)&c),
                    NS_OK);
  ck_assert_ptr_eq(a, b);
  ck_assert_ptr_eq(b, c);
  void *other = (void *)1;
  ck_assert_uint_eq(xpcom_query_interface(cm, &nsIFactory_IID, &other),
                    NS_NOINTERFACE);
  ck_assert_ptr_null(other);
  NS_RELEASE(a);
  NS_RELEASE(b);
  NS_RELEASE(c);
  NS_RELEASE(cm);
  NS_RELEASE(sm);
  NS_RELEASE(reg);
}
END_TEST

START_TEST(test_create_builtin_and_unknown)
{
  nsIComponentManager *cm = cm_get();
  nsITimer *t = NULL;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@mozilla.org/timer;1", NULL, &nsITimer_IID,
                        (void **)&t),
                    NS_OK);
  nsITimer *t2 = NULL;
  ck_assert_uint_eq(nsIComponentManager_CreateInstance(
                        cm, &kTimerCID, NULL, &nsITimer_IID, (void **)&t2),
                    NS_OK);
  ck_assert_ptr_ne(t, t2); /* instances, not a service */
  NS_RELEASE(t);
  NS_RELEASE(t2);

  void *obj = (void *)1;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@wschannel.test/nothing;1", NULL,
                        &nsISupports_IID, &obj),
                    0x80040154u);
  ck_assert_ptr_null(obj);
  obj = (void *)1;
  ck_assert_uint_eq(nsIComponentManager_CreateInstance(
                        cm, &kUnknownCID, NULL, &nsISupports_IID, &obj),
                    NS_ERROR_FACTORY_NOT_REGISTERED);
  ck_assert_ptr_null(obj);
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, NULL, NULL, &nsISupports_IID, &obj),
                    NS_ERROR_INVALID_ARG);
  /* Aggregation is refused. */
  obj = (void *)1;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@mozilla.org/timer;1", (nsISupports *)cm,
                        &nsITimer_IID, &obj),
                    NS_ERROR_NO_AGGREGATION);
  ck_assert_ptr_null(obj);
  /* An interface the class lacks. */
  obj = (void *)1;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@mozilla.org/timer;1", NULL, &nsIFactory_IID,
                        &obj),
                    NS_NOINTERFACE);
  ck_assert_ptr_null(obj);
  /* Not implementable without nsIFile / nsIArray. */
  ck_assert_uint_eq(nsIComponentManager_AddBootstrappedManifestLocation(cm,
                                                                        NULL),
                    NS_ERROR_NOT_IMPLEMENTED);
  NS_RELEASE(cm);
}
END_TEST

START_TEST(test_class_object)
{
  nsIComponentManager *cm = cm_get();
  nsIFactory *f = NULL;
  ck_assert_uint_eq(nsIComponentManager_GetClassObjectByContractID(
                        cm, "@mozilla.org/timer;1", &nsIFactory_IID,
                        (void **)&f),
                    NS_OK);
  nsIFactory *f2 = NULL;
  ck_assert_uint_eq(nsIComponentManager_GetClassObject(cm, &kTimerCID,
                                                       &nsIFactory_IID,
                                                       (void **)&f2),
                    NS_OK);
  ck_assert_ptr_eq(f, f2); /* made once per class */
  nsITimer *t = NULL;
  ck_assert_uint_eq(nsIFactory_CreateInstance(f, NULL, &nsITimer_IID,
                                              (void **)&t),
                    NS_OK);
  NS_RELEASE(t);
  void *obj = (void *)1;
  ck_assert_uint_eq(nsIFactory_CreateInstance(f, (nsISupports *)f,
                                              &nsITimer_IID, &obj),
                    NS_ERROR_NO_AGGREGATION);
  ck_assert_ptr_null(obj);
  ck_assert_uint_eq(nsIFactory_LockFactory(f, true), NS_OK);
  ck_assert_uint_eq(nsIComponentManager_GetClassObject(
                        cm, &kUnknownCID, &nsIFactory_IID, &obj),
                    NS_ERROR_FACTORY_NOT_REGISTERED);
  NS_RELEASE(f);
  NS_RELEASE(f2);
  NS_RELEASE(cm);
}
END_TEST

START_TEST(test_services_are_singletons)
{
  nsIServiceManager *sm = sm_get();
  bool inst = true;
  ck_assert_uint_eq(nsIServiceManager_IsServiceInstantiatedByContractID(
                        sm, "@mozilla.org/preferences-service;1",
                        &nsIPrefService_IID, &inst),
                    NS_ERROR_SERVICE_NOT_AVAILABLE);
  nsIPrefService *ps = NULL;
  nsIPrefBranch *pb = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@mozilla.org/preferences-service;1",
                        &nsIPrefService_IID, (void **)&ps),
                    NS_OK);
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@mozilla.org/preferences-service;1",
                        &nsIPrefBranch_IID, (void **)&pb),
                    NS_OK);
  nsISupports *a = NULL, *b = NULL;
  xpcom_query_interface(ps, &nsISupports_IID, (void **)&a);
  xpcom_query_interface(pb, &nsISupports_IID, (void **)&b);
  ck_assert_ptr_eq(a, b);
  NS_RELEASE(a);
  NS_RELEASE(b);
  ck_assert_uint_eq(nsIServiceManager_IsServiceInstantiatedByContractID(
                        sm, "@mozilla.org/preferences-service;1",
                        &nsIPrefBranch_IID, &inst),
                    NS_OK);
  ck_assert(inst);
  ck_assert_uint_eq(nsIServiceManager_IsServiceInstantiatedByContractID(
                        sm, "@mozilla.org/preferences-service;1",
                        &nsITimer_IID, &inst),
                    NS_NOINTERFACE);
  ck_assert(!inst);

  nsIObserverService *o1 = NULL, *o2 = NULL;
  static const nsCID kObsCID = {
      0xd07f5195, 0xe3d1, 0x11d2, {0x8a, 0xcd, 0x0, 0x10, 0x5a, 0x1b, 0x88, 0x60}};
  ck_assert_uint_eq(nsIServiceManager_GetService(sm, &kObsCID,
                                                 &nsIObserverService_IID,
                                                 (void **)&o1),
                    NS_OK);
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@mozilla.org/observer-service;1",
                        &nsIObserverService_IID, (void **)&o2),
                    NS_OK);
  ck_assert_ptr_eq(o1, o2);
  void *none = (void *)1;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@wschannel.test/nothing;1", &nsISupports_IID,
                        &none),
                    NS_ERROR_FACTORY_NOT_REGISTERED);
  ck_assert_ptr_null(none);
  NS_RELEASE(o1);
  NS_RELEASE(o2);
  NS_RELEASE(ps);
  NS_RELEASE(pb);
  NS_RELEASE(sm);
}
END_TEST

START_TEST(test_registrar)
{
  nsIComponentRegistrar *reg = reg_get();
  nsIComponentManager *cm = cm_get();
  test_factory *f = factory_new();
  ck_assert_uint_eq(nsIComponentRegistrar_RegisterFactory(
                        reg, &kTestCID, "Test", "@wschannel.test/made;1",
                        &f->iface),
                    NS_OK);
  ck_assert_uint_eq(nsIComponentRegistrar_RegisterFactory(
                        reg, &kTestCID, "Test", NULL, &f->iface),
                    NS_ERROR_FACTORY_EXISTS);
  bool yes = false;
  ck_assert_uint_eq(nsIComponentRegistrar_IsCIDRegistered(reg, &kTestCID,
                                                          &yes), NS_OK);
  ck_assert(yes);
  ck_assert_uint_eq(nsIComponentRegistrar_IsContractIDRegistered(
                        reg, "@wschannel.test/made;1", &yes), NS_OK);
  ck_assert(yes);
  nsCID *cid = NULL;
  ck_assert_uint_eq(nsIComponentRegistrar_ContractIDToCID(
                        reg, "@wschannel.test/made;1", &cid), NS_OK);
  ck_assert(nsID_Equals(cid, &kTestCID));
  NS_Free(cid);
  char *contract = NULL;
  ck_assert_uint_eq(nsIComponentRegistrar_CIDToContractID(reg, &kTestCID,
                                                          &contract), NS_OK);
  ck_assert_str_eq(contract, "@wschannel.test/made;1");
  NS_Free(contract);
  ck_assert_uint_eq(nsIComponentRegistrar_ContractIDToCID(
                        reg, "@wschannel.test/nothing;1", &cid),
                    NS_ERROR_FACTORY_NOT_REGISTERED);

  nsISupports *obj = NULL;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@wschannel.test/made;1", NULL, &nsISupports_IID,
                        (void **)&obj),
                    NS_OK);
  ck_assert_int_eq(atomic_load(&f->created), 1);
  NS_RELEASE(obj);

  /* A null factory re-points a contract at a registered CID. */
  ck_assert_uint_eq(nsIComponentRegistrar_RegisterFactory(
                        reg, &kTimerCID, NULL, "@wschannel.test/alias;1",
                        NULL),
                    NS_OK);
  nsITimer *t = NULL;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@wschannel.test/alias;1", NULL, &nsITimer_IID,
                        (void **)&t),
                    NS_OK);
  NS_RELEASE(t);
  ck_assert_uint_eq(nsIComponentRegistrar_RegisterFactory(
                        reg, &kUnknownCID, NULL, "@wschannel.test/x;1", NULL),
                    NS_ERROR_FACTORY_NOT_REGISTERED);

  /* Unregistering needs the same factory. */
  test_factory *other = factory_new();
  ck_assert_uint_eq(nsIComponentRegistrar_UnregisterFactory(reg, &kTestCID,
                                                            &other->iface),
                    NS_ERROR_FACTORY_NOT_REGISTERED);
  tf_release(&other->iface);
  ck_assert_uint_eq(nsIComponentRegistrar_UnregisterFactory(reg, &kTestCID,
                                                            &f->iface),
                    NS_OK);
  ck_assert_uint_eq(nsIComponentRegistrar_IsCIDRegistered(reg, &kTestCID,
                                                          &yes), NS_OK);
  ck_assert(!yes);
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@wschannel.test/made;1", NULL, &nsISupports_IID,
                        (void **)&obj),
                    NS_ERROR_FACTORY_NOT_REGISTERED);
  ck_assert_uint_eq(__atomic_load_n(&f->refcnt, __ATOMIC_RELAXED), 1);
  tf_release(&f->iface);

  nsISimpleEnumerator *e = NULL;
  ck_assert_uint_eq(nsIComponentRegistrar_EnumerateCIDs(reg, &e),
                    NS_ERROR_NOT_IMPLEMENTED);
  ck_assert_uint_eq(nsIComponentRegistrar_AutoRegister(reg, NULL),
                    NS_ERROR_NOT_IMPLEMENTED);
  NS_RELEASE(cm);
  NS_RELEASE(reg);
}
END_TEST

START_TEST(test_service_reentrancy_is_refused)
{
  nsIComponentRegistrar *reg = reg_get();
  test_factory *f = factory_new();
  f->reenter_cid = &kTestCID;
  ck_assert_uint_eq(nsIComponentRegistrar_RegisterFactory(reg, &kTestCID,
                                                          NULL, NULL,
                                                          &f->iface),
                    NS_OK);
  nsIServiceManager *sm = sm_get();
  nsISupports *svc = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetService(sm, &kTestCID,
                                                 &nsISupports_IID,
                                                 (void **)&svc),
                    NS_OK);
  ck_assert_uint_eq(f->reenter_rv, NS_ERROR_NOT_AVAILABLE); /* the cycle */
  ck_assert_int_eq(atomic_load(&f->created), 1);
  NS_RELEASE(svc);
  NS_RELEASE(sm);
  tf_release(&f->iface); /* the registrar keeps its own reference */
  NS_RELEASE(reg);
}
END_TEST

typedef struct svc_race {
  nsISupports *got;
  nsresult rv;
} svc_race;

static void get_service_main(void *arg) {
  svc_race *r = arg;
  nsIServiceManager *sm = NULL;
  NS_GetServiceManager(&sm);
  r->rv = nsIServiceManager_GetService(sm, &kTestCID2, &nsISupports_IID,
                                       (void **)&r->got);
  NS_RELEASE(sm);
}

START_TEST(test_service_created_once_under_concurrency)
{
  nsIComponentRegistrar *reg = reg_get();
  test_factory *f = factory_new();
  f->delay_ms = 50;
  ck_assert_uint_eq(nsIComponentRegistrar_RegisterFactory(reg, &kTestCID2,
                                                          NULL, NULL,
                                                          &f->iface),
                    NS_OK);
  svc_race races[4];
  PRThread *threads[4];
  for (int i = 0; i < 4; i++) {
    races[i] = (svc_race){NULL, NS_ERROR_FAILURE};
    threads[i] = PR_CreateThread(PR_USER_THREAD, get_service_main, &races[i],
                                 PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                 PR_JOINABLE_THREAD, 0);
  }
  for (int i = 0; i < 4; i++)
    PR_JoinThread(threads[i]);
  ck_assert_int_eq(atomic_load(&f->created), 1);
  for (int i = 0; i < 4; i++) {
    ck_assert_uint_eq(races[i].rv, NS_OK);
    ck_assert_ptr_eq(races[i].got, races[0].got);
  }
  for (int i = 0; i < 4; i++)
    NS_RELEASE(races[i].got);
  tf_release(&f->iface);
  NS_RELEASE(reg);
}
END_TEST

/* ---- the binary test module ------------------------------------------------ */

static int *module_counter(const char *name) {
  void *h = dlopen(TEST_MODULE_DIR "/testmodule.so", RTLD_NOW | RTLD_NOLOAD);
  ck_assert_ptr_nonnull(h);
  int *p = dlsym(h, name);
  ck_assert_ptr_nonnull(p);
  dlclose(h);
  return p;
}

static void load_test_module(void) {
  char path[] = "/tmp/wschannel-components-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  const char *text = "binary-component " TEST_MODULE_DIR "/testmodule.so\n";
  ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
  close(fd);
  ck_assert_uint_eq(XPCOM_RegisterManifest(path), NS_OK);
  unlink(path);
}

START_TEST(test_binary_module)
{
  load_test_module();
  int *loads = module_counter("testmodule_loads");
  int *unloads = module_counter("testmodule_unloads");
  int *runs = module_counter("testmodule_runs");
  int *svcs = module_counter("testmodule_service_constructions");
  ck_assert_int_eq(*loads, 1);
  ck_assert_int_eq(*unloads, 0);

  nsIComponentManager *cm = cm_get();
  nsIRunnable *r = NULL;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@wschannel.test/runnable;1", NULL,
                        &nsIRunnable_IID, (void **)&r),
                    NS_OK);
  ck_assert_uint_eq(nsIRunnable_Run(r), NS_OK);
  ck_assert_int_eq(*runs, 1);
  NS_RELEASE(r);
  void *obj = (void *)1;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@wschannel.test/runnable;1", (nsISupports *)cm,
                        &nsIRunnable_IID, &obj),
                    NS_ERROR_NO_AGGREGATION);
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@wschannel.test/content-only;1", NULL,
                        &nsIRunnable_IID, &obj),
                    NS_ERROR_FACTORY_NOT_REGISTERED);
  NS_RELEASE(cm);

  nsIServiceManager *sm = sm_get();
  nsIRunnable *s1 = NULL, *s2 = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@wschannel.test/service;1", &nsIRunnable_IID,
                        (void **)&s1), NS_OK);
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@wschannel.test/service;1", &nsIRunnable_IID,
                        (void **)&s2), NS_OK);
  ck_assert_ptr_eq(s1, s2);
  ck_assert_int_eq(*svcs, 1);
  NS_RELEASE(s1);
  NS_RELEASE(s2);
  NS_RELEASE(sm);
  ck_assert_str_eq(xpcom_category_get("wschannel-test", "module"), "loaded");

  /* Shutdown calls unloadProc (the library stays mapped); a restart loads
   * it again. */
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  ck_assert_int_eq(*unloads, 1);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), 0);
  svc_init();
  load_test_module();
  ck_assert_int_eq(*loads, 2);
}
END_TEST

/* ---- shutdown -------------------------------------------------------------------- */

static nsresult g_late_rv;
static atomic_bool g_late_ran;

static void late_create(void *arg) {
  nsIComponentManager *cm = arg;
  void *obj = NULL;
  g_late_rv = nsIComponentManager_CreateInstanceByContractID(
      cm, "@mozilla.org/timer;1", NULL, &nsITimer_IID, &obj);
  if (obj)
    xpcom_release(obj);
  atomic_store(&g_late_ran, true);
}

static nsIComponentManager *g_cm_plain;

/* A service's destructor posts an event: it runs while shutdown drains the
 * main queue, when instances are refused. */
static void service_destroyed(void) {
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)main, late_create,
                                      g_cm_plain, NULL), NS_OK);
  NS_RELEASE(main);
}

typedef struct shutdown_observer {
  nsIObserver iface;
  uint32_t refcnt;
} shutdown_observer;

static char g_topics[256];
static nsresult g_svc_rv_during_shutdown = NS_ERROR_FAILURE;
static bool g_subject_is_sm;

static nsresult so_qi(nsIObserver *self, const nsIID *iid, void **r) {
  static const xpcom_qi_entry t[] = {
      XPCOM_QI_ENTRY(shutdown_observer, iface, nsIObserver_IID), XPCOM_QI_END};
  return xpcom_table_qi(self, t, iid, r);
}
static nsrefcnt so_addref(nsIObserver *self) {
  return xpcom_refcnt_inc(&((shutdown_observer *)self)->refcnt);
}
static nsrefcnt so_release(nsIObserver *self) {
  shutdown_observer *o = (shutdown_observer *)self;
  nsrefcnt n = xpcom_refcnt_dec(&o->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("ShutdownObserver", sizeof *o);
    free(o);
  }
  return n;
}
static nsresult so_observe(nsIObserver *self, nsISupports *subject,
                           const char *topic, const char16_t *data) {
  strcat(g_topics, topic);
  strcat(g_topics, ",");
  if (!strcmp(topic, "xpcom-shutdown")) {
    nsIServiceManager *sm = NULL;
    if (subject && NS_SUCCEEDED(xpcom_query_interface(
                       subject, &nsIServiceManager_IID, (void **)&sm))) {
      g_subject_is_sm = true;
      NS_RELEASE(sm);
    }
  }
  if (!strcmp(topic, "xpcom-shutdown-threads")) {
    /* Services still work for the shutdown observers. */
    nsIServiceManager *sm = NULL;
    NS_GetServiceManager(&sm);
    void *p = NULL;
    g_svc_rv_during_shutdown = nsIServiceManager_GetServiceByContractID(
        sm, "@mozilla.org/preferences-service;1", &nsIPrefBranch_IID, &p);
    if (p)
      xpcom_release(p);
    NS_IF_RELEASE(sm);
  }
  return NS_OK;
}
static const nsIObserverVtbl so_vtbl = {so_qi, so_addref, so_release,
                                        so_observe};

START_TEST(test_shutdown_sequence)
{
  /* Observe the three shutdown topics. */
  nsIServiceManager *sm = sm_get();
  nsIObserverService *os = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@mozilla.org/observer-service;1",
                        &nsIObserverService_IID, (void **)&os), NS_OK);
  shutdown_observer *o = calloc(1, sizeof *o);
  o->iface.vtbl = &so_vtbl;
  o->refcnt = 1;
  xpcom_leak_ctor("ShutdownObserver", sizeof *o);
  static const char *const topics[] = {
      "xpcom-shutdown-threads", "xpcom-shutdown", "xpcom-will-shutdown"};
  for (int i = 0; i < 3; i++)
    ck_assert_uint_eq(nsIObserverService_AddObserver(os, &o->iface, topics[i],
                                                     false), NS_OK);
  so_release(&o->iface);
  NS_RELEASE(os);

  /* A service whose destruction posts an event that tries to create an
   * instance: shutdown has begun by then. */
  nsIComponentRegistrar *reg = reg_get();
  test_factory *f = factory_new();
  f->product_destroyed = service_destroyed;
  ck_assert_uint_eq(nsIComponentRegistrar_RegisterFactory(reg, &kTestCID,
                                                          NULL, NULL,
                                                          &f->iface), NS_OK);
  tf_release(&f->iface);
  NS_RELEASE(reg);
  nsISupports *svc = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetService(sm, &kTestCID,
                                                 &nsISupports_IID,
                                                 (void **)&svc), NS_OK);
  NS_RELEASE(svc);
  nsIComponentManager *cm = cm_get();
  g_cm_plain = cm;
  NS_RELEASE(cm); /* static object: the pointer stays valid */

  /* Shut down, handing back the init reference (NS_ShutdownXPCOM
   * releases it, as Gecko's does). */
  nsIServiceManager *extra = sm_get();
  NS_RELEASE(sm);
  ck_assert_uint_eq(NS_ShutdownXPCOM(extra), NS_OK);
  ck_assert_str_eq(g_topics,
                   "xpcom-will-shutdown,xpcom-shutdown,xpcom-shutdown-threads,");
  ck_assert(g_subject_is_sm);
  ck_assert_uint_eq(g_svc_rv_during_shutdown, NS_OK);
  ck_assert(atomic_load(&g_late_ran));
  ck_assert_uint_eq(g_late_rv, NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), 0);

  /* After shutdown the (static) manager refuses politely. */
  void *obj = (void *)1;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        g_cm_plain, "@mozilla.org/timer;1", NULL,
                        &nsITimer_IID, &obj),
                    NS_ERROR_UNEXPECTED);
  ck_assert_ptr_null(obj);
  svc_init();
}
END_TEST

static nsresult g_offmain_rv;
static void shutdown_off_main(void *arg) { g_offmain_rv = NS_ShutdownXPCOM(NULL); }

START_TEST(test_init_shutdown_cycles)
{
  ck_assert_uint_eq(NS_InitXPCOM2(NULL, NULL, NULL),
                    NS_ERROR_ALREADY_INITIALIZED);
  PRThread *t = PR_CreateThread(PR_USER_THREAD, shutdown_off_main, NULL,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, 0);
  PR_JoinThread(t);
  ck_assert_uint_eq(g_offmain_rv, NS_ERROR_UNEXPECTED);
  for (int i = 0; i < 3; i++) {
    ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
    ck_assert_uint_eq(XPCOM_LeakLiveCount(), 0);
    ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_ERROR_NOT_INITIALIZED);
    nsIComponentManager *cm = (nsIComponentManager *)1;
    ck_assert_uint_eq(NS_GetComponentManager(&cm), NS_ERROR_NOT_INITIALIZED);
    ck_assert_ptr_null(cm);
    nsIServiceManager *sm = NULL;
    ck_assert_uint_eq(NS_InitXPCOM2(&sm, NULL, NULL), NS_OK);
    load_test_module();
    /* Use a bit of everything in each cycle. */
    cm = cm_get();
    nsIRunnable *r = NULL;
    ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                          cm, "@wschannel.test/runnable;1", NULL,
                          &nsIRunnable_IID, (void **)&r), NS_OK);
    NS_RELEASE(r);
    nsIPrefBranch *pb = NULL;
    ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                          sm, "@mozilla.org/preferences-service;1",
                          &nsIPrefBranch_IID, (void **)&pb), NS_OK);
    /* A pref set in the previous cycle is gone. */
    ck_assert_int_eq(xpcom_prefs_get_int("test.cycle", -1), -1);
    ck_assert_uint_eq(nsIPrefBranch_SetIntPref(pb, "test.cycle", i), NS_OK);
    NS_RELEASE(pb);
    nsIThread *worker = NULL;
    ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
    NS_RELEASE(worker);
    nsITimer *timer = NULL;
    ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                          cm, "@mozilla.org/timer;1", NULL, &nsITimer_IID,
                          (void **)&timer), NS_OK);
    NS_RELEASE(timer);
    NS_RELEASE(cm);
    ck_assert_int_eq(xpcom_prefs_get_int("test.cycle", -1), i);
    NS_RELEASE(sm);
  }
}
END_TEST

static Suite *components_suite(void) {
  Suite *s = suite_create("components");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_manager_identity);
  tcase_add_test(tc, test_create_builtin_and_unknown);
  tcase_add_test(tc, test_class_object);
  tcase_add_test(tc, test_services_are_singletons);
  tcase_add_test(tc, test_registrar);
  tcase_add_test(tc, test_service_reentrancy_is_refused);
  tcase_add_test(tc, test_service_created_once_under_concurrency);
  tcase_add_test(tc, test_binary_module);
  tcase_add_test(tc, test_shutdown_sequence);
  tcase_add_test(tc, test_init_shutdown_cycles);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(components_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
