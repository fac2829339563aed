/*
 * xpcom_module.h — the binary component module descriptor, Gecko 52's
 * `mozilla::Module` written as C structs with the same layout.
 *
 * A binary component is a shared library that exports one data symbol,
 * `NSModule`, of type `const xpcom_module *const` (C++:
 * `mozilla::Module const *const`, declared extern "C"). A manifest line
 * `binary-component libfoo.so` makes the component manager load the library
 * with PR_LoadLibraryWithFlags, find `NSModule` with PR_FindSymbol, check
 * `mVersion == XPCOM_MODULE_VERSION` (52), call `loadProc`, and register
 * every CID, contract ID and category entry the module lists. A library
 * without the symbol, or with another version, is reported with the
 * manifest's file and line and skipped.
 *
 * Differences from Gecko, on purpose:
 *  - Factories are always made from `constructorProc`. The
 *    `getFactoryProc` members (module-level and per CID) are never called:
 *    in C++ they return `already_AddRefed<nsIFactory>`, a class with a
 *    user-declared destructor that the Itanium ABI returns through a hidden
 *    pointer, which a C caller cannot express portably. A CID entry with a
 *    getFactoryProc but no constructorProc is reported and skipped.
 *  - `service` is recorded but not enforced (Gecko does not enforce it
 *    either); any class can be used through getService.
 *  - Libraries stay loaded until the process exits (as in Gecko 52, whose
 *    loader never unloads them); `unloadProc` is called by
 *    NS_ShutdownXPCOM, and `loadProc` again after a re-initialisation.
 *  - Aggregation is not supported: a non-null outer is refused with
 *    NS_ERROR_NO_AGGREGATION before constructorProc is called.
 *
 * The constructor contract (same as Gecko's ConstructorProcPtr):
 * `constructorProc(outer, iid, result)` creates an object, QueryInterfaces
 * it to *iid into *result (AddRef'd, caller releases) and returns NS_OK, or
 * returns a failure with *result set to NULL. It is called on whichever
 * thread asked for the instance (usually the main thread).
 *
 * A C module:
 *
 *     static const nsCID kFooCID = {...};
 *     static const xpcom_module_cid_entry kCIDs[] = {
 *       { &kFooCID, false, NULL, foo_construct, XPCOM_MODULE_ANY_PROCESS },
 *       { NULL }
 *     };
 *     static const xpcom_module_contract_entry kContracts[] = {
 *       { "@example.org/foo;1", &kFooCID, XPCOM_MODULE_ANY_PROCESS },
 *       { NULL }
 *     };
 *     static const xpcom_module kModule = {
 *       XPCOM_MODULE_VERSION, kCIDs, kContracts, NULL, NULL, NULL, NULL,
 *       XPCOM_MODULE_ANY_PROCESS
 *     };
 *     XPCOM_NSMODULE_DEFN(kModule);
 */
#ifndef WSCHANNEL_XPCOM_MODULE_H
#define WSCHANNEL_XPCOM_MODULE_H

#include "nscore.h"

XPCOM_BEGIN_DECLS

/* mozilla::Module::kVersion of Gecko 52. */
#define XPCOM_MODULE_VERSION 52

/* mozilla::Module::ProcessSelector. We are always the main (parent)
 * process: entries marked CONTENT_PROCESS_ONLY are skipped. */
typedef enum xpcom_module_process_selector {
  XPCOM_MODULE_ANY_PROCESS = 0x0,
  XPCOM_MODULE_MAIN_PROCESS_ONLY = 0x1,
  XPCOM_MODULE_CONTENT_PROCESS_ONLY = 0x2,
  XPCOM_MODULE_ALLOW_IN_GPU_PROCESS = 0x4
} xpcom_module_process_selector;

typedef struct xpcom_module xpcom_module;
typedef struct xpcom_module_cid_entry xpcom_module_cid_entry;

#ifdef __cplusplus
class nsISupports;
#else
typedef struct nsISupports nsISupports;
#endif

/* Module::ConstructorProcPtr: (nsISupports *outer, const nsIID &, void **);
 * a C++ reference is a pointer in C. */
typedef nsresult (*xpcom_module_constructor_proc)(nsISupports *outer,
                                                  const nsIID *iid,
                                                  void **result);
/* Module::GetFactoryProcPtr. Opaque here: never called (see above). */
typedef void (*xpcom_module_get_factory_proc)(void);
/* Module::LoadFuncPtr / UnloadFuncPtr. */
typedef nsresult (*xpcom_module_load_proc)(void);
typedef void (*xpcom_module_unload_proc)(void);

/* Module::CIDEntry. Arrays end with an entry whose cid is NULL. */
struct xpcom_module_cid_entry {
  const nsCID *cid;
  bool service;
  xpcom_module_get_factory_proc getFactoryProc; /* must be NULL for C */
  xpcom_module_constructor_proc constructorProc;
  xpcom_module_process_selector processSelector;
};

/* Module::ContractIDEntry. Arrays end with an entry whose contractid is
 * NULL. The CID must be one of this module's CIDs or already registered. */
typedef struct xpcom_module_contract_entry {
  const char *contractid;
  const nsID *cid;
  xpcom_module_process_selector processSelector;
} xpcom_module_contract_entry;

/* Module::CategoryEntry. Arrays end with an entry whose category is NULL.
 * Stored for xpcom_category_get(). */
typedef struct xpcom_module_category_entry {
  const char *category;
  const char *entry;
  const char *value;
} xpcom_module_category_entry;

/* Module. Every pointer member may be NULL except mCIDs' terminator rule. */
struct xpcom_module {
  unsigned int mVersion; /* XPCOM_MODULE_VERSION */
  const xpcom_module_cid_entry *mCIDs;
  const xpcom_module_contract_entry *mContractIDs;
  const xpcom_module_category_entry *mCategoryEntries;
  xpcom_module_get_factory_proc getFactoryProc; /* never called */
  xpcom_module_load_proc loadProc;     /* called once after loading */
  xpcom_module_unload_proc unloadProc; /* called at NS_ShutdownXPCOM */
  xpcom_module_process_selector selector;
};

/* Defines the exported `NSModule` symbol pointing at `module`, a
 * `static const xpcom_module`. Use once per shared library; build the
 * library with -fvisibility=hidden if you like, the symbol stays visible. */
#ifdef __cplusplus
#define XPCOM_NSMODULE_DEFN(module)                                            \
  extern "C" XPCOM_EXPORT const xpcom_module *const NSModule = &(module)
#else
#define XPCOM_NSMODULE_DEFN(module)                                            \
  XPCOM_EXPORT const xpcom_module *const NSModule = &(module)
#endif

/*
 * Categories registered by manifests (`category cat entry value`) and by
 * modules' mCategoryEntries. A later registration of the same (category,
 * entry) replaces the value.
 *
 * xpcom_category_get returns the value, or NULL when absent or when XPCOM
 * is not initialised. The string belongs to the runtime and stays valid
 * until NS_ShutdownXPCOM. Any thread.
 */
XPCOM_API(const char *) xpcom_category_get(const char *category,
                                           const char *entry);

/* Calls fn(entry, value, closure) for every entry of `category` in
 * registration order; returns how many there were. The strings stay valid
 * until NS_ShutdownXPCOM. fn must not register categories. Any thread. */
XPCOM_API(uint32_t)
xpcom_category_foreach(const char *category,
                       void (*fn)(const char *entry, const char *value,
                                  void *closure),
                       void *closure);

XPCOM_END_DECLS

#endif /* WSCHANNEL_XPCOM_MODULE_H */
