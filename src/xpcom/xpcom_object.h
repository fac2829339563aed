/*
 * xpcom_object.h — building XPCOM objects in C: atomic reference counts,
 * table-driven QueryInterface, AddRef/Release helpers, and leak accounting.
 *
 * An object embeds one interface struct (a vtable pointer) per interface
 * it implements, the first being its identity:
 *
 *   typedef struct Foo {
 *     nsIFoo foo;             // identity: QI(nsISupports) answers this
 *     nsIBar bar;
 *     uint32_t refcnt;
 *     ...
 *   } Foo;
 *   static const xpcom_qi_entry foo_qi[] = {
 *     XPCOM_QI_ENTRY(Foo, foo, nsIFoo_IID),
 *     XPCOM_QI_ENTRY(Foo, bar, nsIBar_IID),
 *     XPCOM_QI_END
 *   };
 *   static nsresult Foo_QI(nsIFoo *self, const nsIID *iid, void **out) {
 *     return xpcom_table_qi(self, foo_qi, iid, out);   // self == &foo->foo
 *   }
 *   // from an nsIBar slot: Foo *f = XPCOM_CONTAINER_OF(self, Foo, bar);
 *   //                      return xpcom_table_qi(f, foo_qi, iid, out);
 *
 * Constructors call xpcom_leak_ctor("Foo", sizeof(Foo)) and destructors
 * xpcom_leak_dtor("Foo", sizeof(Foo)), so shutdown can report leaks.
 *
 * All functions here are thread-safe.
 */
#ifndef WSCHANNEL_XPCOM_OBJECT_H
#define WSCHANNEL_XPCOM_OBJECT_H

#include <stdio.h>

#include "nscore.h"
#include "nsError.h"
#include "nsISupports.h" /* generated from idl/nsISupports.idl */

/* The object that contains the interface struct `ptr` points at. */
#define XPCOM_CONTAINER_OF(ptr, type, member)                                 \
  ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---- reference counts -------------------------------------------------- */

/* Atomically increments *cnt and returns the new value. Relaxed ordering
 * suffices: taking a reference needs one already held. */
static inline uint32_t xpcom_refcnt_inc(uint32_t *cnt)
{
  return __atomic_add_fetch(cnt, 1, __ATOMIC_RELAXED);
}

/* Atomically decrements *cnt and returns the new value. Acquire-release,
 * so that the thread seeing 0 also sees every write other threads made
 * before dropping their references, and may destroy the object. */
static inline uint32_t xpcom_refcnt_dec(uint32_t *cnt)
{
  return __atomic_sub_fetch(cnt, 1, __ATOMIC_ACQ_REL);
}

/* ---- QueryInterface from a table --------------------------------------- */

typedef struct xpcom_qi_entry {
  const nsIID *iid;  /* NULL ends the table */
  ptrdiff_t offset;  /* offsetof(object, interface member) */
} xpcom_qi_entry;

#define XPCOM_QI_ENTRY(type, member, iid) {&(iid), (ptrdiff_t)offsetof(type, member)}
#define XPCOM_QI_END {NULL, 0}

XPCOM_BEGIN_DECLS

/*
 * Answers QueryInterface for `object` (the start of the C object) from
 * `table`. The IID of nsISupports matches the first entry (the identity
 * interface) unless the table lists it itself. On a match the interface
 * pointer object+offset is AddRef'd through its own vtable and stored in
 * *result (the caller owns that reference): NS_OK. Otherwise *result =
 * NULL and NS_NOINTERFACE. A NULL iid or result gives
 * NS_ERROR_NULL_POINTER (and *result = NULL when result is not NULL).
 */
XPCOM_API(nsresult)
xpcom_table_qi(void *object, const xpcom_qi_entry *table, const nsIID *iid,
               void **result);

/* ---- leak accounting ---------------------------------------------------- */

/* Record that an instance of class_name (a NUL-terminated name, copied on
 * first use) of `size` bytes was created / destroyed. */
XPCOM_API(void) xpcom_leak_ctor(const char *class_name, size_t size);
XPCOM_API(void) xpcom_leak_dtor(const char *class_name, size_t size);

#define XPCOM_LEAK_CTOR(type) xpcom_leak_ctor(#type, sizeof(type))
#define XPCOM_LEAK_DTOR(type) xpcom_leak_dtor(#type, sizeof(type))

/* Number of objects alive now, summed over all classes. */
XPCOM_API(uint64_t) XPCOM_LeakLiveCount(void);

/*
 * Prints to `out` a table of every class with live objects (class, live
 * count, live bytes, total created) and a verdict line in the form test
 * harnesses grep for:
 *   TEST-PASS | leakcheck | no leaks (N objects of M classes created)
 *   TEST-UNEXPECTED-FAIL | leakcheck | 3 objects leaked: Foo, nsStringBuffer
 * A class destroyed more often than created is listed too and counts as a
 * failure. Returns the number of leaked objects plus the number of excess
 * destructions (0 means clean). out NULL: count only, print nothing.
 */
XPCOM_API(uint64_t) XPCOM_LeakReport(FILE *out);

/*
 * Reads XPCOM_MEM_LEAK_LOG: "1" prints the report to stdout, "2" to
 * stderr, any other non-empty value is a file to append it to; unset or
 * empty prints nothing. Returns what XPCOM_LeakReport returns, either way
 * (clamped to INT_MAX). NS_ShutdownXPCOM calls this.
 */
XPCOM_API(int) XPCOM_LeakReportFromEnv(void);

XPCOM_END_DECLS

/* ---- AddRef / Release / QI on any interface pointer (C only) ----------- */

#ifndef __cplusplus
/* Every interface's vtable starts with nsISupports' three slots, so any
 * interface pointer can be used as an nsISupports*. */
static inline nsrefcnt xpcom_addref(void *iface)
{
  nsISupports *s = (nsISupports *)iface;
  return s->vtbl->AddRef(s);
}

static inline nsrefcnt xpcom_release(void *iface)
{
  nsISupports *s = (nsISupports *)iface;
  return s->vtbl->Release(s);
}

static inline nsresult xpcom_query_interface(void *iface, const nsIID *iid,
                                             void **result)
{
  nsISupports *s = (nsISupports *)iface;
  return s->vtbl->QueryInterface(s, iid, result);
}

/* Gecko's macros. NS_RELEASE / NS_IF_RELEASE also null the variable. */
#define NS_ADDREF(p) ((void)xpcom_addref(p))
#define NS_IF_ADDREF(p)                                                       \
  do {                                                                        \
    if (p)                                                                    \
      (void)xpcom_addref(p);                                                  \
  } while (0)
#define NS_RELEASE(p)                                                         \
  do {                                                                        \
    (void)xpcom_release(p);                                                   \
    (p) = NULL;                                                               \
  } while (0)
#define NS_IF_RELEASE(p)                                                      \
  do {                                                                        \
    if (p) {                                                                  \
      (void)xpcom_release(p);                                                 \
      (p) = NULL;                                                             \
    }                                                                         \
  } while (0)
#endif /* !__cplusplus */

#endif /* WSCHANNEL_XPCOM_OBJECT_H */
