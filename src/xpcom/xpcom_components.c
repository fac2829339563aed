/*
 * xpcom_components.c — the component manager: one object implementing
 * nsIComponentManager, nsIServiceManager and nsIComponentRegistrar (Gecko's
 * slot orders come from the generated headers), the CID and contract ID
 * tables, service singletons, and the category table.
 *
 * The tables are small linked lists under one lock. Entries are never
 * freed before shutdown (unregistered ones move to a graveyard), so a
 * pointer found under the lock stays valid after it is released. Service
 * creation happens outside the lock; an entry being created records the
 * creating thread, so a re-entrant request from that thread fails (cycle)
 * while other threads wait on a condition variable.
 */
#include "xpcom_services_int.h"
#include "nsIFactory.h"
#include "nsIComponentManager.h"
#include "nsIServiceManager.h"
#include "nsIComponentRegistrar.h"
#include "nsIObserverService.h"
#include "nsIPrefService.h"
#include "nsIThreadManager.h"

#include <prcvar.h>
#include <prinit.h>
#include <stdlib.h>
#include <string.h>

XPCOM_LOG_MODULE(g_log, XPCOM_SERVICES_LOG_NAME);

typedef enum entry_kind {
  ENTRY_CTOR,    /* constructorProc (built-in or binary module) */
  ENTRY_FACTORY, /* nsIFactory given to registerFactory */
  ENTRY_SCRIPT   /* `component {CID} file.js`: needs a script loader */
} entry_kind;

typedef struct class_entry {
  struct class_entry *next;
  nsCID cid;
  char *name;
  entry_kind kind;
  xpcom_module_constructor_proc ctor;
  nsIFactory *factory; /* ENTRY_FACTORY: owned; ENTRY_CTOR: made lazily */
  char *script;        /* ENTRY_SCRIPT: path of the script */
  bool service_flag;   /* CIDEntry.service, informational */
  nsISupports *service;  /* the singleton once created (owned) */
  PRThread *creating;    /* thread creating the singleton, or NULL */
} class_entry;

typedef struct contract_entry {
  struct contract_entry *next;
  char *contract;
  class_entry *cls;
} contract_entry;

typedef struct category_entry {
  struct category_entry *next;
  char *category, *entry, *value;
  bool active; /* false once replaced; kept alive until shutdown */
} category_entry;

typedef struct component_manager {
  nsIComponentManager cm; /* identity */
  nsIServiceManager sm;
  nsIComponentRegistrar reg;
  uint32_t refcnt;
} component_manager;

static PRCallOnceType g_once;
static PRLock *g_lock;
static PRCondVar *g_cv; /* a service finished being created */

/* g_lock: */
static class_entry *g_classes, *g_dead_classes;
static contract_entry *g_contracts;
static category_entry *g_categories, *g_categories_tail;
static bool g_script_note_given;

static component_manager g_cm;
static bool g_cm_live; /* between init and shutdown (main thread) */

static PRStatus cm_once(void) {
  g_lock = PR_NewLock();
  g_cv = g_lock ? PR_NewCondVar(g_lock) : NULL;
  return g_cv ? PR_SUCCESS : PR_FAILURE;
}

char *xpcom_strdup(const char *s) {
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* Allocates a string result with NS_Alloc, as XPCOM callers free it. */
static char *xpcom_alloc_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = NS_Alloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

static void report_at(const xpcom_reg_origin *origin, const char *fmt,
                      const char *arg) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, arg);
  if (origin && origin->file)
    xpcom_report("%s:%d: %s", origin->file, origin->line, msg);
  else
    xpcom_report("%s", msg);
}

/* ---- tables (g_lock held) ------------------------------------------------ */

static class_entry *find_class(const nsCID *cid) {
  for (class_entry *e = g_classes; e; e = e->next)
    if (nsID_Equals(&e->cid, cid))
      return e;
  return NULL;
}

static contract_entry *find_contract(const char *contract) {
  for (contract_entry *c = g_contracts; c; c = c->next)
    if (strcmp(c->contract, contract) == 0)
      return c;
  return NULL;
}

static class_entry *new_class(const nsCID *cid, const char *name,
                              entry_kind kind) {
  class_entry *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  e->cid = *cid;
  e->kind = kind;
  if (name && !(e->name = xpcom_strdup(name))) {
    free(e);
    return NULL;
  }
  return e;
}

static void free_class(class_entry *e) {
  free(e->name);
  free(e->script);
  free(e);
}

/* Maps contract → cls, replacing an older mapping (as Gecko: last wins). */
static nsresult put_contract(const char *contract, class_entry *cls) {
  contract_entry *c = find_contract(contract);
  if (c) {
    c->cls = cls;
    return NS_OK;
  }
  c = calloc(1, sizeof *c);
  if (!c || !(c->contract = xpcom_strdup(contract))) {
    free(c);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  c->cls = cls;
  c->next = g_contracts;
  g_contracts = c;
  return NS_OK;
}

/* ---- registration (internal API) ---------------------------------------- */

nsresult xpcom_components_add_class(const nsCID *cid, const char *name,
                                    xpcom_module_constructor_proc ctor,
                                    bool service,
                                    const xpcom_reg_origin *origin) {
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  if (find_class(cid)) {
    PR_Unlock(g_lock);
    char id[NSID_LENGTH];
    nsID_ToString(cid, id);
    report_at(origin, "CID %s is already registered; entry ignored", id);
    return NS_ERROR_FACTORY_EXISTS;
  }
  class_entry *e = new_class(cid, name, ENTRY_CTOR);
  if (!e) {
    PR_Unlock(g_lock);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  e->ctor = ctor;
  e->service_flag = service;
  e->next = g_classes;
  g_classes = e;
  PR_Unlock(g_lock);
  return NS_OK;
}

nsresult xpcom_components_add_js(const nsCID *cid, const char *path,
                                 const xpcom_reg_origin *origin) {
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  char id[NSID_LENGTH];
  nsID_ToString(cid, id);
  PR_Lock(g_lock);
  if (find_class(cid)) {
    PR_Unlock(g_lock);
    report_at(origin, "CID %s is already registered; entry ignored", id);
    return NS_ERROR_FACTORY_EXISTS;
  }
  class_entry *e = new_class(cid, NULL, ENTRY_SCRIPT);
  if (!e || !(e->script = xpcom_strdup(path))) {
    if (e)
      free_class(e);
    PR_Unlock(g_lock);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  e->next = g_classes;
  g_classes = e;
  bool note = !g_script_note_given;
  g_script_note_given = true;
  PR_Unlock(g_lock);
  if (note)
    report_at(origin,
              "%s: JavaScript components are registered but no script "
              "loader exists yet; creating them fails with "
              "NS_ERROR_FACTORY_NOT_REGISTERED",
              path);
  return NS_OK;
}

nsresult xpcom_components_add_contract(const char *contract, const nsCID *cid,
                                       const xpcom_reg_origin *origin) {
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  PR_Lock(g_lock);
  class_entry *e = find_class(cid);
  nsresult rv = e ? put_contract(contract, e) : NS_ERROR_FACTORY_NOT_REGISTERED;
  PR_Unlock(g_lock);
  if (rv == NS_ERROR_FACTORY_NOT_REGISTERED) {
    char id[NSID_LENGTH], msg[256];
    nsID_ToString(cid, id);
    snprintf(msg, sizeof msg, "%.150s", contract);
    char text[512];
    snprintf(text, sizeof text,
             "cannot map contract ID '%s' to %s: no such CID is registered",
             msg, id);
    report_at(origin, "%s", text);
  }
  return rv;
}

/* ---- categories ---------------------------------------------------------- */

nsresult xpcom_category_add(const char *category, const char *entry,
                            const char *value) {
  if (!g_lock)
    return NS_ERROR_NOT_INITIALIZED;
  category_entry *c = calloc(1, sizeof *c);
  if (!c)
    return NS_ERROR_OUT_OF_MEMORY;
  c->category = xpcom_strdup(category);
  c->entry = xpcom_strdup(entry);
  c->value = xpcom_strdup(value ? value : "");
  if (!c->category || !c->entry || !c->value) {
    free(c->category);
    free(c->entry);
    free(c->value);
    free(c);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  c->active = true;
  PR_Lock(g_lock);
  for (category_entry *o = g_categories; o; o = o->next)
    if (o->active && !strcmp(o->category, category) && !strcmp(o->entry, entry))
      o->active = false;
  if (g_categories_tail)
    g_categories_tail->next = c;
  else
    g_categories = c;
  g_categories_tail = c;
  PR_Unlock(g_lock);
  return NS_OK;
}

XPCOM_API(const char *) xpcom_category_get(const char *category,
                                           const char *entry) {
  if (!g_lock || !category || !entry)
    return NULL;
  const char *value = NULL;
  PR_Lock(g_lock);
  for (category_entry *c = g_categories; c; c = c->next)
    if (c->active && !strcmp(c->category, category) && !strcmp(c->entry, entry))
      value = c->value;
  PR_Unlock(g_lock);
  return value;
}

XPCOM_API(uint32_t)
xpcom_category_foreach(const char *category,
                       void (*fn)(const char *, const char *, void *),
                       void *closure) {
  if (!g_lock || !category || !fn)
    return 0;
  /* Snapshot under the lock, call out without it. */
  uint32_t n = 0, cap = 0;
  category_entry **list = NULL;
  PR_Lock(g_lock);
  for (category_entry *c = g_categories; c; c = c->next) {
    if (!c->active || strcmp(c->category, category))
      continue;
    if (n == cap) {
      uint32_t ncap = cap ? cap * 2 : 8;
      category_entry **nl = realloc(list, ncap * sizeof *nl);
      if (!nl)
        break;
      list = nl;
      cap = ncap;
    }
    list[n++] = c;
  }
  PR_Unlock(g_lock);
  for (uint32_t i = 0; i < n; i++)
    fn(list[i]->entry, list[i]->value, closure);
  free(list);
  return n;
}

/* ---- a factory made from a constructor ----------------------------------- */

typedef struct generic_factory {
  nsIFactory iface;
  uint32_t refcnt;
  xpcom_module_constructor_proc ctor;
} generic_factory;

static const xpcom_qi_entry generic_factory_qi[] = {
    XPCOM_QI_ENTRY(generic_factory, iface, nsISupports_IID),
    XPCOM_QI_ENTRY(generic_factory, iface, nsIFactory_IID), XPCOM_QI_END};

static nsresult gf_QueryInterface(nsIFactory *self, const nsIID *iid,
                                  void **result) {
  return xpcom_table_qi(self, generic_factory_qi, iid, result);
}
static nsrefcnt gf_AddRef(nsIFactory *self) {
  return xpcom_refcnt_inc(&((generic_factory *)self)->refcnt);
}
static nsrefcnt gf_Release(nsIFactory *self) {
  generic_factory *f = (generic_factory *)self;
  nsrefcnt n = xpcom_refcnt_dec(&f->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("mozilla::GenericFactory", sizeof *f);
    free(f);
  }
  return n;
}
static nsresult gf_CreateInstance(nsIFactory *self, nsISupports *outer,
                                  const nsIID *iid, void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!iid)
    return NS_ERROR_NULL_POINTER;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  return ((generic_factory *)self)->ctor(NULL, iid, result);
}
static nsresult gf_LockFactory(nsIFactory *self, bool lock) { return NS_OK; }
static const nsIFactoryVtbl generic_factory_vtbl = {
    .QueryInterface = gf_QueryInterface,
    .AddRef = gf_AddRef,
    .Release = gf_Release,
    .CreateInstance = gf_CreateInstance,
    .LockFactory = gf_LockFactory,
};

/* The factory of entry e, AddRef'd, made on first use for constructor
 * entries. NS_ERROR_FACTORY_NOT_REGISTERED for script entries. */
static nsresult entry_factory(class_entry *e, nsIFactory **result) {
  *result = NULL;
  PR_Lock(g_lock);
  if (e->factory) {
    *result = e->factory;
    NS_ADDREF(*result);
    PR_Unlock(g_lock);
    return NS_OK;
  }
  entry_kind kind = e->kind;
  PR_Unlock(g_lock);
  if (kind != ENTRY_CTOR || !e->ctor)
    return NS_ERROR_FACTORY_NOT_REGISTERED;
  generic_factory *f = calloc(1, sizeof *f);
  if (!f)
    return NS_ERROR_OUT_OF_MEMORY;
  f->iface.vtbl = &generic_factory_vtbl;
  f->refcnt = 1; /* the entry's */
  f->ctor = e->ctor;
  xpcom_leak_ctor("mozilla::GenericFactory", sizeof *f);
  PR_Lock(g_lock);
  if (!e->factory) {
    e->factory = &f->iface;
    f = NULL;
  }
  *result = e->factory;
  NS_ADDREF(*result);
  PR_Unlock(g_lock);
  if (f)
    gf_Release(&f->iface); /* another thread won the race */
  return NS_OK;
}

/* Creates an instance of e (no aggregation). */
static nsresult entry_create(class_entry *e, const nsIID *iid, void **result) {
  *result = NULL;
  PR_Lock(g_lock);
  entry_kind kind = e->kind;
  xpcom_module_constructor_proc ctor = e->ctor;
  nsIFactory *factory = e->factory;
  if (kind == ENTRY_FACTORY && factory)
    NS_ADDREF(factory);
  PR_Unlock(g_lock);
  nsresult rv;
  switch (kind) {
  case ENTRY_CTOR:
    rv = ctor ? ctor(NULL, iid, result) : NS_ERROR_FACTORY_NOT_REGISTERED;
    break;
  case ENTRY_FACTORY:
    if (!factory)
      return NS_ERROR_FACTORY_NOT_REGISTERED;
    rv = nsIFactory_CreateInstance(factory, NULL, iid, result);
    NS_RELEASE(factory);
    break;
  default:
    rv = NS_ERROR_FACTORY_NOT_REGISTERED;
    break;
  }
  if (NS_SUCCEEDED(rv) && !*result)
    rv = NS_ERROR_SERVICE_NOT_AVAILABLE; /* success without an object */
  if (NS_FAILED(rv) && *result)
    *result = NULL; /* a failing constructor must not hand out an object */
  return rv;
}

static class_entry *lookup_cid(const nsCID *cid) {
  PR_Lock(g_lock);
  class_entry *e = find_class(cid);
  PR_Unlock(g_lock);
  return e;
}

static class_entry *lookup_contract(const char *contract) {
  PR_Lock(g_lock);
  contract_entry *c = find_contract(contract);
  class_entry *e = c ? c->cls : NULL;
  PR_Unlock(g_lock);
  return e;
}

static nsresult check_running(void) {
  int st = xpcom_state();
  if (st == XPCOM_STATE_RUNNING)
    return NS_OK;
  return NS_ERROR_UNEXPECTED; /* shutting down, or a stale pointer */
}

/* ---- nsIComponentManager --------------------------------------------------- */

static const xpcom_qi_entry cm_qi[] = {
    XPCOM_QI_ENTRY(component_manager, cm, nsISupports_IID),
    XPCOM_QI_ENTRY(component_manager, cm, nsIComponentManager_IID),
    XPCOM_QI_ENTRY(component_manager, sm, nsIServiceManager_IID),
    XPCOM_QI_ENTRY(component_manager, reg, nsIComponentRegistrar_IID),
    XPCOM_QI_END};

/* The manager is static: references are counted for diagnostics only. */
static nsresult cm_qi_any(const nsIID *iid, void **result) {
  return xpcom_table_qi(&g_cm, cm_qi, iid, result);
}
static nsrefcnt cm_addref_any(void) { return xpcom_refcnt_inc(&g_cm.refcnt); }
static nsrefcnt cm_release_any(void) { return xpcom_refcnt_dec(&g_cm.refcnt); }

static nsresult cm_QueryInterface(nsIComponentManager *self, const nsIID *iid,
                                  void **result) {
  return cm_qi_any(iid, result);
}
static nsrefcnt cm_AddRef(nsIComponentManager *self) { return cm_addref_any(); }
static nsrefcnt cm_Release(nsIComponentManager *self) {
  return cm_release_any();
}

static nsresult get_class_object(class_entry *e, const nsIID *iid,
                                 void **result) {
  if (!e)
    return NS_ERROR_FACTORY_NOT_REGISTERED;
  nsIFactory *f;
  nsresult rv = entry_factory(e, &f);
  if (NS_FAILED(rv))
    return rv;
  rv = xpcom_query_interface(f, iid, result);
  NS_RELEASE(f);
  return rv;
}

static nsresult cm_GetClassObject(nsIComponentManager *self, const nsCID *cid,
                                  const nsIID *iid, void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!cid || !iid)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  return get_class_object(lookup_cid(cid), iid, result);
}

static nsresult cm_GetClassObjectByContractID(nsIComponentManager *self,
                                              const char *contract,
                                              const nsIID *iid,
                                              void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!contract || !iid)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  return get_class_object(lookup_contract(contract), iid, result);
}

static nsresult create_instance(class_entry *e, nsISupports *outer,
                                const nsIID *iid, void **result) {
  if (!e)
    return NS_ERROR_FACTORY_NOT_REGISTERED;
  if (outer) /* no class of this runtime supports aggregation */
    return NS_ERROR_NO_AGGREGATION;
  return entry_create(e, iid, result);
}

static nsresult cm_CreateInstance(nsIComponentManager *self, const nsCID *cid,
                                  nsISupports *outer, const nsIID *iid,
                                  void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  if (!cid || !iid)
    return NS_ERROR_INVALID_ARG;
  return create_instance(lookup_cid(cid), outer, iid, result);
}

static nsresult cm_CreateInstanceByContractID(nsIComponentManager *self,
                                              const char *contract,
                                              nsISupports *outer,
                                              const nsIID *iid,
                                              void **result) {
  if (result)
    *result = NULL;
  if (!contract)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  if (!result)
    return NS_ERROR_NULL_POINTER;
  if (!iid)
    return NS_ERROR_INVALID_ARG;
  return create_instance(lookup_contract(contract), outer, iid, result);
}

static nsresult cm_AddBootstrappedManifestLocation(nsIComponentManager *self,
                                                   nsIFile *location) {
  return NS_ERROR_NOT_IMPLEMENTED; /* no nsIFile here */
}
static nsresult cm_RemoveBootstrappedManifestLocation(
    nsIComponentManager *self, nsIFile *location) {
  return NS_ERROR_NOT_IMPLEMENTED;
}
static nsresult cm_GetManifestLocations(nsIComponentManager *self,
                                        nsIArray **result) {
  if (result)
    *result = NULL;
  return NS_ERROR_NOT_IMPLEMENTED; /* no nsIArray here */
}

static const nsIComponentManagerVtbl cm_vtbl = {
    .QueryInterface = cm_QueryInterface,
    .AddRef = cm_AddRef,
    .Release = cm_Release,
    .GetClassObject = cm_GetClassObject,
    .GetClassObjectByContractID = cm_GetClassObjectByContractID,
    .CreateInstance = cm_CreateInstance,
    .CreateInstanceByContractID = cm_CreateInstanceByContractID,
    .AddBootstrappedManifestLocation = cm_AddBootstrappedManifestLocation,
    .RemoveBootstrappedManifestLocation = cm_RemoveBootstrappedManifestLocation,
    .GetManifestLocations = cm_GetManifestLocations,
};

/* ---- nsIServiceManager ------------------------------------------------------ */

static nsresult sm_QueryInterface(nsIServiceManager *self, const nsIID *iid,
                                  void **result) {
  return cm_qi_any(iid, result);
}
static nsrefcnt sm_AddRef(nsIServiceManager *self) { return cm_addref_any(); }
static nsrefcnt sm_Release(nsIServiceManager *self) {
  return cm_release_any();
}

static nsresult get_service(class_entry *e, const nsIID *iid, void **result) {
  if (!e)
    return NS_ERROR_FACTORY_NOT_REGISTERED;
  PRThread *me = PR_GetCurrentThread();
  nsISupports *inst = NULL;
  PR_Lock(g_lock);
  for (;;) {
    if (e->service) {
      inst = e->service;
      NS_ADDREF(inst);
      break;
    }
    if (!e->creating)
      break;
    if (e->creating == me) {
      PR_Unlock(g_lock);
      char id[NSID_LENGTH];
      nsID_ToString(&e->cid, id);
      XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                ("cyclic dependency creating service %s", id));
      return NS_ERROR_NOT_AVAILABLE;
    }
    PR_WaitCondVar(g_cv, PR_INTERVAL_NO_TIMEOUT);
  }
  if (!inst)
    e->creating = me;
  PR_Unlock(g_lock);

  if (!inst) {
    nsresult rv = entry_create(e, &nsISupports_IID, (void **)&inst);
    PR_Lock(g_lock);
    e->creating = NULL;
    if (NS_SUCCEEDED(rv)) {
      if (e->service) { /* unregistered and re-created meanwhile: keep one */
        nsISupports *extra = inst;
        inst = e->service;
        NS_ADDREF(inst);
        PR_NotifyAllCondVar(g_cv);
        PR_Unlock(g_lock);
        NS_RELEASE(extra);
        PR_Lock(g_lock);
      } else {
        e->service = inst;
        NS_ADDREF(inst); /* ours; the entry keeps the creation reference */
        PR_NotifyAllCondVar(g_cv);
      }
    } else {
      PR_NotifyAllCondVar(g_cv);
    }
    PR_Unlock(g_lock);
    if (NS_FAILED(rv))
      return rv;
  }
  nsresult rv = xpcom_query_interface(inst, iid, result);
  NS_RELEASE(inst);
  return rv;
}

static nsresult sm_GetService(nsIServiceManager *self, const nsCID *cid,
                              const nsIID *iid, void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!cid || !iid)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  return get_service(lookup_cid(cid), iid, result);
}

static nsresult sm_GetServiceByContractID(nsIServiceManager *self,
                                          const char *contract,
                                          const nsIID *iid, void **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!contract || !iid)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  return get_service(lookup_contract(contract), iid, result);
}

/* Gecko: NS_ERROR_SERVICE_NOT_AVAILABLE unless instantiated; then true iff
 * it implements iid. */
static nsresult is_instantiated(class_entry *e, const nsIID *iid,
                                bool *result) {
  nsISupports *inst = NULL;
  if (e) {
    PR_Lock(g_lock);
    inst = e->service;
    if (inst)
      NS_ADDREF(inst);
    PR_Unlock(g_lock);
  }
  if (!inst)
    return NS_ERROR_SERVICE_NOT_AVAILABLE;
  void *p = NULL;
  nsresult rv = xpcom_query_interface(inst, iid, &p);
  *result = NS_SUCCEEDED(rv);
  if (p)
    xpcom_release(p);
  NS_RELEASE(inst);
  return rv;
}

static nsresult sm_IsServiceInstantiated(nsIServiceManager *self,
                                         const nsCID *cid, const nsIID *iid,
                                         bool *result) {
  if (!cid || !iid || !result)
    return NS_ERROR_INVALID_ARG;
  *result = false;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  return is_instantiated(lookup_cid(cid), iid, result);
}

static nsresult sm_IsServiceInstantiatedByContractID(nsIServiceManager *self,
                                                     const char *contract,
                                                     const nsIID *iid,
                                                     bool *result) {
  if (!contract || !iid || !result)
    return NS_ERROR_INVALID_ARG;
  *result = false;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  return is_instantiated(lookup_contract(contract), iid, result);
}

static const nsIServiceManagerVtbl sm_vtbl = {
    .QueryInterface = sm_QueryInterface,
    .AddRef = sm_AddRef,
    .Release = sm_Release,
    .GetService = sm_GetService,
    .GetServiceByContractID = sm_GetServiceByContractID,
    .IsServiceInstantiated = sm_IsServiceInstantiated,
    .IsServiceInstantiatedByContractID = sm_IsServiceInstantiatedByContractID,
};

/* ---- nsIComponentRegistrar ----------------------------------------------------- */

static nsresult reg_QueryInterface(nsIComponentRegistrar *self,
                                   const nsIID *iid, void **result) {
  return cm_qi_any(iid, result);
}
static nsrefcnt reg_AddRef(nsIComponentRegistrar *self) {
  return cm_addref_any();
}
static nsrefcnt reg_Release(nsIComponentRegistrar *self) {
  return cm_release_any();
}

static nsresult reg_AutoRegister(nsIComponentRegistrar *self, nsIFile *spec) {
  return NS_ERROR_NOT_IMPLEMENTED; /* use XPCOM_RegisterManifest */
}
static nsresult reg_AutoUnregister(nsIComponentRegistrar *self,
                                   nsIFile *spec) {
  return NS_ERROR_NOT_IMPLEMENTED;
}

static nsresult reg_RegisterFactory(nsIComponentRegistrar *self,
                                    const nsCID *cid, const char *name,
                                    const char *contract,
                                    nsIFactory *factory) {
  if (!cid)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = check_running();
  if (NS_FAILED(rv))
    return rv;
  PR_Lock(g_lock);
  if (!factory) {
    /* Gecko: a null factory re-points the contract at an existing CID. */
    class_entry *e = contract ? find_class(cid) : NULL;
    rv = !contract ? NS_ERROR_INVALID_ARG
         : e       ? put_contract(contract, e)
                   : NS_ERROR_FACTORY_NOT_REGISTERED;
    PR_Unlock(g_lock);
    return rv;
  }
  if (find_class(cid)) {
    PR_Unlock(g_lock);
    return NS_ERROR_FACTORY_EXISTS;
  }
  class_entry *e = new_class(cid, name, ENTRY_FACTORY);
  if (!e) {
    PR_Unlock(g_lock);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  if (contract && NS_FAILED(rv = put_contract(contract, e))) {
    PR_Unlock(g_lock);
    free_class(e);
    return rv;
  }
  NS_ADDREF(factory);
  e->factory = factory;
  e->next = g_classes;
  g_classes = e;
  PR_Unlock(g_lock);
  return NS_OK;
}

static nsresult reg_UnregisterFactory(nsIComponentRegistrar *self,
                                      const nsCID *cid, nsIFactory *factory) {
  if (!cid)
    return NS_ERROR_INVALID_ARG;
  PR_Lock(g_lock);
  class_entry **pp = &g_classes;
  while (*pp && !nsID_Equals(&(*pp)->cid, cid))
    pp = &(*pp)->next;
  class_entry *e = *pp;
  if (!e || e->kind != ENTRY_FACTORY || e->factory != factory) {
    PR_Unlock(g_lock);
    return NS_ERROR_FACTORY_NOT_REGISTERED;
  }
  *pp = e->next;
  for (contract_entry **cp = &g_contracts; *cp;) {
    if ((*cp)->cls == e) {
      contract_entry *dead = *cp;
      *cp = dead->next;
      free(dead->contract);
      free(dead);
    } else {
      cp = &(*cp)->next;
    }
  }
  nsIFactory *f = e->factory;
  nsISupports *svc = e->service;
  e->factory = NULL;
  e->service = NULL;
  e->next = g_dead_classes; /* other threads may still hold e */
  g_dead_classes = e;
  PR_Unlock(g_lock);
  NS_IF_RELEASE(svc);
  NS_IF_RELEASE(f);
  return NS_OK;
}

static nsresult reg_RegisterFactoryLocation(nsIComponentRegistrar *self,
                                            const nsCID *cid,
                                            const char *name,
                                            const char *contract,
                                            nsIFile *file, const char *loader,
                                            const char *type) {
  return NS_ERROR_NOT_IMPLEMENTED;
}
static nsresult reg_UnregisterFactoryLocation(nsIComponentRegistrar *self,
                                              const nsCID *cid,
                                              nsIFile *file) {
  return NS_ERROR_NOT_IMPLEMENTED;
}

static nsresult reg_IsCIDRegistered(nsIComponentRegistrar *self,
                                    const nsCID *cid, bool *result) {
  if (!cid || !result)
    return NS_ERROR_INVALID_ARG;
  *result = lookup_cid(cid) != NULL;
  return NS_OK;
}

static nsresult reg_IsContractIDRegistered(nsIComponentRegistrar *self,
                                           const char *contract,
                                           bool *result) {
  if (!contract || !result)
    return NS_ERROR_INVALID_ARG;
  *result = lookup_contract(contract) != NULL;
  return NS_OK;
}

static nsresult reg_EnumerateCIDs(nsIComponentRegistrar *self,
                                  nsISimpleEnumerator **result) {
  if (result)
    *result = NULL;
  return NS_ERROR_NOT_IMPLEMENTED; /* needs nsISupportsID objects */
}
static nsresult reg_EnumerateContractIDs(nsIComponentRegistrar *self,
                                         nsISimpleEnumerator **result) {
  if (result)
    *result = NULL;
  return NS_ERROR_NOT_IMPLEMENTED; /* needs nsISupportsCString objects */
}

static nsresult reg_CIDToContractID(nsIComponentRegistrar *self,
                                    const nsCID *cid, char **result) {
  if (!cid || !result)
    return NS_ERROR_INVALID_ARG;
  *result = NULL;
  nsresult rv = NS_ERROR_FACTORY_NOT_REGISTERED;
  PR_Lock(g_lock);
  class_entry *e = find_class(cid);
  for (contract_entry *c = g_contracts; e && c; c = c->next) {
    if (c->cls == e) {
      *result = xpcom_alloc_strdup(c->contract);
      rv = *result ? NS_OK : NS_ERROR_OUT_OF_MEMORY;
      break;
    }
  }
  PR_Unlock(g_lock);
  return rv;
}

static nsresult reg_ContractIDToCID(nsIComponentRegistrar *self,
                                    const char *contract, nsCID **result) {
  if (!contract || !result)
    return NS_ERROR_INVALID_ARG;
  *result = NULL;
  class_entry *e = lookup_contract(contract);
  if (!e)
    return NS_ERROR_FACTORY_NOT_REGISTERED;
  nsCID *cid = NS_Alloc(sizeof *cid);
  if (!cid)
    return NS_ERROR_OUT_OF_MEMORY;
  *cid = e->cid; /* immutable once registered */
  *result = cid;
  return NS_OK;
}

static const nsIComponentRegistrarVtbl reg_vtbl = {
    .QueryInterface = reg_QueryInterface,
    .AddRef = reg_AddRef,
    .Release = reg_Release,
    .AutoRegister = reg_AutoRegister,
    .AutoUnregister = reg_AutoUnregister,
    .RegisterFactory = reg_RegisterFactory,
    .UnregisterFactory = reg_UnregisterFactory,
    .RegisterFactoryLocation = reg_RegisterFactoryLocation,
    .UnregisterFactoryLocation = reg_UnregisterFactoryLocation,
    .IsCIDRegistered = reg_IsCIDRegistered,
    .IsContractIDRegistered = reg_IsContractIDRegistered,
    .EnumerateCIDs = reg_EnumerateCIDs,
    .EnumerateContractIDs = reg_EnumerateContractIDs,
    .CIDToContractID = reg_CIDToContractID,
    .ContractIDToCID = reg_ContractIDToCID,
};

/* ---- lifecycle ----------------------------------------------------------------- */

/* Gecko's CIDs for the built-in classes. */
static const nsCID kTimerCID = {
    0x5ff24248, 0x1dd2, 0x11b2, {0x84, 0x27, 0xfb, 0xab, 0x44, 0xf2, 0x9b, 0xc8}};
static const nsCID kObserverServiceCID = {
    0xd07f5195, 0xe3d1, 0x11d2, {0x8a, 0xcd, 0x00, 0x10, 0x5a, 0x1b, 0x88, 0x60}};
static const nsCID kPrefServiceCID = {
    0x1cd91b88, 0x1dd2, 0x11b2, {0x92, 0xe1, 0xed, 0x22, 0xed, 0x29, 0x80, 0x00}};
static const nsCID kThreadManagerCID = {
    0x7a4204c6, 0xe45a, 0x4c37, {0x8e, 0xbb, 0x67, 0x09, 0xa2, 0x2c, 0x91, 0x7c}};

static const struct builtin {
  const nsCID *cid;
  const char *name;
  const char *contract;
  xpcom_module_constructor_proc ctor;
  bool service;
} kBuiltins[] = {
    {&kTimerCID, "Timer", "@mozilla.org/timer;1", xpcom_timer_construct,
     false},
    {&kObserverServiceCID, "Observer Service",
     "@mozilla.org/observer-service;1", xpcom_observers_construct, true},
    {&kPrefServiceCID, "Preferences Server",
     "@mozilla.org/preferences-service;1", xpcom_prefs_construct, true},
    {&kThreadManagerCID, "nsThreadManager", "@mozilla.org/thread-manager;1",
     xpcom_thread_manager_construct, true},
};

nsresult xpcom_components_init(void) {
  if (PR_CallOnce(&g_once, cm_once) != PR_SUCCESS)
    return NS_ERROR_OUT_OF_MEMORY;
  g_cm.cm.vtbl = &cm_vtbl;
  g_cm.sm.vtbl = &sm_vtbl;
  g_cm.reg.vtbl = &reg_vtbl;
  g_cm.refcnt = 1; /* the runtime's own */
  g_script_note_given = false;
  xpcom_leak_ctor("nsComponentManagerImpl", sizeof g_cm);
  g_cm_live = true;
  for (size_t i = 0; i < sizeof kBuiltins / sizeof kBuiltins[0]; i++) {
    const struct builtin *b = &kBuiltins[i];
    nsresult rv =
        xpcom_components_add_class(b->cid, b->name, b->ctor, b->service, NULL);
    if (NS_SUCCEEDED(rv))
      rv = xpcom_components_add_contract(b->contract, b->cid, NULL);
    if (NS_FAILED(rv))
      return rv;
  }
  return NS_OK;
}

nsISupports *xpcom_components_manager(void) {
  return (nsISupports *)&g_cm.cm;
}

void xpcom_components_begin_shutdown(void) {
  /* xpcom_state() already says so; nothing else to flip. */
}

void xpcom_components_release_services(void) {
  if (!g_lock)
    return;
  /* Releasing one service may release (never create: we are shutting
   * down) others; loop until none is left. */
  for (;;) {
    nsISupports *svc = NULL;
    PR_Lock(g_lock);
    for (class_entry *e = g_classes; e && !svc; e = e->next) {
      if (e->service) {
        svc = e->service;
        e->service = NULL;
      }
    }
    PR_Unlock(g_lock);
    if (!svc)
      break;
    NS_RELEASE(svc);
  }
}

static void free_class_list(class_entry *list) {
  while (list) {
    class_entry *next = list->next;
    NS_IF_RELEASE(list->factory);
    NS_IF_RELEASE(list->service);
    free_class(list);
    list = next;
  }
}

void xpcom_components_shutdown(void) {
  if (!g_lock)
    return;
  PR_Lock(g_lock);
  class_entry *classes = g_classes, *dead = g_dead_classes;
  contract_entry *contracts = g_contracts;
  category_entry *cats = g_categories;
  g_classes = g_dead_classes = NULL;
  g_contracts = NULL;
  g_categories = g_categories_tail = NULL;
  PR_Unlock(g_lock);
  free_class_list(classes);
  free_class_list(dead);
  while (contracts) {
    contract_entry *next = contracts->next;
    free(contracts->contract);
    free(contracts);
    contracts = next;
  }
  while (cats) {
    category_entry *next = cats->next;
    free(cats->category);
    free(cats->entry);
    free(cats->value);
    free(cats);
    cats = next;
  }
  if (!g_cm_live)
    return;
  g_cm_live = false;
  nsrefcnt held = __atomic_load_n(&g_cm.refcnt, __ATOMIC_ACQUIRE);
  if (held > 1)
    xpcom_report("NS_ShutdownXPCOM: %u reference(s) to the component "
                 "manager are still held",
                 (unsigned)(held - 1));
  xpcom_leak_dtor("nsComponentManagerImpl", sizeof g_cm);
}
