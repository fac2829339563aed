/*
 * jsb_private.h — internals of the JavaScript bridge (C++17, SpiderMonkey
 * 102). Nothing here is visible outside src/jsbridge; the rest of the
 * project sees only jsbridge.h.
 *
 * Pieces (one file each):
 *   jsb_runtime.cpp  engine, global, shell functions, jobs, errors, GC,
 *                    deferred releases, teardown
 *   jsb_components.cpp  Components / Cc / Ci / Cr / Cu, ID objects
 *   jsb_native.cpp   XPCWrappedNative: native objects seen from JS, and
 *                    calling their methods through the type information
 *   jsb_wrappedjs.cpp  XPCWrappedJS: JS objects seen from native code
 *                    through the stub vtable (invoke.h)
 *   jsb_convert.cpp  value conversion for every XPT type, both ways
 *   jsb_prelude.cpp  the part written in JavaScript (Exception, Services,
 *                    Components.stack, XPCOMUtils/ChromeUtils helpers)
 *
 * Threads: everything here runs on the main thread (the thread that
 * called NS_InitXPCOM2 and jsbridge_create), except the AddRef / Release /
 * QueryInterface slots of wrapped JS objects, which may be called from any
 * thread and never touch the engine there.
 */
#ifndef WSCHANNEL_JSBRIDGE_PRIVATE_H
#define WSCHANNEL_JSBRIDGE_PRIVATE_H

/* SpiderMonkey's headers trip two GCC warnings: Rooted<T> links itself
 * into the context's root list (GCC 12's -Wdangling-pointer false
 * positive), and JSClass has trailing members that static class
 * definitions leave zero (-Wmissing-field-initializers). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#if __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#elif defined(__clang__)
#pragma clang diagnostic ignored "-Wmissing-field-initializers"
#endif

#include <jsapi.h>
#include <jsfriendapi.h>
#include <js/BigInt.h>
#include <js/CallAndConstruct.h>
#include <js/CharacterEncoding.h>
#include <js/CompilationAndEvaluation.h>
#include <js/Conversions.h>
#include <js/ErrorReport.h>
#include <js/Exception.h>
#include <js/GCAPI.h>
#include <js/GCVector.h>
#include <js/Initialization.h>
#include <js/Object.h>
#include <js/Promise.h>
#include <js/PropertyAndElement.h>
#include <js/SourceText.h>
#include <js/Stack.h>
#include <js/Array.h>
#include <js/WeakMap.h>

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "nscore.h"
#include "nsError.h"
#include "nsID.h"
#include "nsMemory.h"
#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "nsISupports.h"
#include "xpcom_object.h"
#include "xpt.h"

#include "invoke.h"

namespace jsb {

/* ---- runtime (jsb_runtime.cpp) ----------------------------------------- */

struct NativeWrapper;
struct WJSRoot;

struct Runtime {
  JSContext *cx = nullptr;
  JS::PersistentRootedObject global;
  /* JS object -> PrivateValue(WJSRoot*), for one wrapper per JS object. */
  JS::PersistentRootedObject wjsMap;
  /* Prototypes of the ID objects (jsb_components.cpp). */
  JS::PersistentRootedObject idProto, iidProto, cidProto;
  /* Ci, Cc, Cr (for lookups from C++) and the prelude's helpers. */
  JS::PersistentRootedObject interfaces, classes, results;
  JS::PersistentRootedObject makeException; /* prelude: (msg, rv, iface, method) */
  /* Rejected promises without a handler yet (reported at script ends). */
  JS::PersistentRooted<JS::GCVector<JSObject *, 0, js::SystemAllocPolicy>> rejections;
  /* FinalizationRegistry cleanup functions waiting for the next jobs. */
  JS::PersistentRooted<JS::GCVector<JSObject *, 0, js::SystemAllocPolicy>> cleanups;
  /* nsISupports identity -> wrapper whose JS object is (weakly) alive. */
  std::unordered_map<nsISupports *, NativeWrapper *> natives;
  /* Method descriptor -> its name as a pinned atom (JS-implemented calls
   * look the function up by id instead of atomizing the name each time).
   * Pinned atoms live as long as the runtime, so ids need no rooting. */
  struct MethodId {
    const char *name;
    jsid id;
  };
  std::unordered_map<const void *, MethodId> methodIds;
  /* Natives whose JS wrappers were finalized, released after the GC. */
  std::vector<nsISupports *> deferred;
  bool releasePosted = false;
  bool inGC = false;
  bool tornDown = false;
  /* quit() */
  bool quitRequested = false;
  int exitCode = 0;
  /* How many native->JS entries are active (0: no script on the stack). */
  int jsDepth = 0;
  nsISupports *mainThread = nullptr; /* nsIEventTarget, AddRef'd */
  std::string preludeFile;
};

extern Runtime *gRt;

/* Releases what finalizers left behind (main thread, outside GC). */
void DrainDeferredReleases();
/* Called by finalizers: release `p` later. */
void DeferRelease(nsISupports *p);
/* Runs pending promise jobs (and FinalizationRegistry cleanups). May be
 * called from inside a job (a nested event loop): the inner call keeps
 * draining the same FIFO, as Gecko's microtask checkpoints do. */
void RunJobs(JSContext *cx);
/* True when promise jobs are waiting. */
bool JobsPending();
/* Reports a pending exception on stderr like an uncaught one, clearing it;
 * `prefix` e.g. "JavaScript error" / "uncaught exception". */
void ReportPendingException(JSContext *cx, const char *prefix);
/* The JS source file name used by the prelude (frames to skip). */
const char *PreludeFileName();

/* ---- exceptions (jsb_components.cpp) ----------------------------------- */

/* Throws an XPConnect exception object: message `msg` (NULL: Gecko's
 * "Component returned failure code: 0x… (NAME)"), .result rv, suffix
 * " [iface.method]" when iface is not NULL. Always returns false. */
bool ThrowResult(JSContext *cx, nsresult rv, const char *msg,
                 const char *iface = nullptr, const char *method = nullptr);
/* Maps a pending JS exception to an nsresult the way Gecko does, clearing
 * it; reports it on stderr unless it carries an nsresult (a thrown number
 * or an object with a numeric .result). */
nsresult PendingExceptionToResult(JSContext *cx, const char *iface,
                                  const char *method);

/* ---- ID objects (jsb_components.cpp) ----------------------------------- */

bool InitComponents(JSContext *cx, JS::HandleObject global);
/* Reads an ID from an nsJSID / nsJSIID / nsJSCID object or an ID string. */
bool ValueToID(JSContext *cx, JS::HandleValue v, nsID *out);
/* The interface object (Ci.nsIFoo) for info, or a plain nsJSID for an IID
 * without type information. */
bool NewInterfaceObject(JSContext *cx, const XPTInterfaceInfo *info,
                        JS::MutableHandleValue out);
bool IIDToValue(JSContext *cx, const nsID &iid, JS::MutableHandleValue out);
bool NewIDObject(JSContext *cx, const nsID &id, JS::MutableHandleValue out);

/* ---- type information helpers (jsb_native.cpp) -------------------------- */

/* The method at absolute vtable `index` of info (own or inherited); the
 * declaring interface in *decl when non-NULL. NULL if out of range. */
const XPTMethodDescriptor *MethodAt(const XPTInterfaceInfo *info,
                                    uint16_t index,
                                    const XPTInterfaceInfo **decl = nullptr);
/* info is iid or derives from it. */
bool InterfaceInherits(const XPTInterfaceInfo *info, const nsID &iid);
uint16_t SlotCount(const XPTInterfaceInfo *info);

/* ---- wrapped natives (jsb_native.cpp) ---------------------------------- */

struct Tearoff {
  const XPTInterfaceInfo *info;
  nsISupports *ptr; /* AddRef'd, an interface pointer of type info */
};

struct NativeWrapper {
  nsISupports *identity = nullptr; /* AddRef'd */
  std::vector<Tearoff> tearoffs;
  JS::Heap<JSObject *> flat;       /* weak: updated / cleared after GC */
};

extern const JSClass WrappedNativeClass;

/* JS value for a native pointer of interface iid (NULL -> null); one JS
 * object per identity. A pointer to one of our wrapped-JS tearoffs gives
 * back the original JS object. */
bool WrapNative(JSContext *cx, nsISupports *p, const nsID &iid,
                JS::MutableHandleValue out);
/* The wrapper behind a JS object, or NULL. */
NativeWrapper *UnwrapNative(JSObject *obj);
/* QueryInterface on the wrapped identity, adding a tearoff; NS_OK with a
 * non-owning pointer in *out (valid while the wrapper lives). */
nsresult WrapperQI(NativeWrapper *w, const nsID &iid, nsISupports **out,
                   const XPTInterfaceInfo **outInfo = nullptr);
/* Weak-pointer sweep of `natives` (registered by the runtime). */
void SweepNatives(JSTracer *trc);
/* After an event-loop call from JS (nsIThread.processNextEvent). */
bool IsEventLoopMethod(const XPTInterfaceInfo *info, const XPTMethodDescriptor *m);

/* ---- wrapped JS (jsb_wrappedjs.cpp) ------------------------------------- */

/* An interface pointer of interface iid implemented by JS object obj,
 * AddRef'd in *out. A wrapped native gives its own native object (QI'd).
 * Errors: NS_ERROR_XPC_BAD_CONVERT_JS (not scriptable / builtinclass /
 * unknown interface), NS_NOINTERFACE (wrapped native refuses iid). */
nsresult WrapJS(JSContext *cx, JS::HandleObject obj, const nsID &iid,
                void **out);
/* If p is one of our wrapped-JS tearoffs, its JS object (else NULL). */
JSObject *UnwrapJS(void *p);
bool InitWrappedJS(JSContext *cx);
/* Teardown: forget every JS object (roots become inert shells that
 * answer NS_ERROR_XPC_HAS_BEEN_SHUTDOWN until released). */
void OrphanAllWrappedJS();
void TraceWrappedJS(JSTracer *trc, void *data);

/* ---- conversions (jsb_convert.cpp) -------------------------------------- */

/*
 * Storage convention: `storage` points at the value in its C form, as the
 * pointee of an out parameter would be: int32_t* for an int32, char** for
 * string, nsISupports** for interfaces, void** for arrays (elements as
 * NS_Alloc'd C array), nsACString* / nsAString* for string classes (an
 * initialised object), nsID** for PNSIID with XPT_TDF_POINTER (nsID* for
 * a by-value nsID), JS::Value* for jsval.
 *
 * JSToNative writes an owned value (NS_Alloc'd strings and arrays,
 * AddRef'd interfaces; string objects assigned into). On failure it
 * returns false and sets *err to an nsresult, or to NS_OK when a JS
 * exception is pending. `len` is the size_is length (arrays, sized
 * strings), `iid` the iid_is IID.
 */
bool JSToNative(JSContext *cx, JS::HandleValue v, const XPTTypeDescriptor &t,
                void *storage, uint32_t len, const nsID *iid, nsresult *err);
bool NativeToJS(JSContext *cx, const XPTTypeDescriptor &t, const void *storage,
                uint32_t len, const nsID *iid, JS::MutableHandleValue out,
                nsresult *err);
/* Frees what the storage owns (strings, arrays, interface references) and
 * finishes string objects; leaves the storage zeroed. */
void CleanupValue(const XPTTypeDescriptor &t, void *storage, uint32_t len);
/* Whether the type's value needs a size_is length / an iid_is IID. */
bool TypeNeedsLength(const XPTTypeDescriptor &t);
/* For a sized string (string / wstring with size_is) in `storage`: sets
 * *len to the length up to its terminator (0 for NULL) and returns true.
 * Other types: false, *len untouched. */
bool SizedStringLength(const XPTTypeDescriptor &t, const void *storage, uint32_t *len);
bool TypeNeedsIID(const XPTTypeDescriptor &t);
/* String helpers. */
JSString *NewStringFromUTF8(JSContext *cx, const char *s, size_t len);
/* UTF-8 copy of a JS value converted with ToString (NS_Alloc'd). */
char *ValueToUTF8(JSContext *cx, JS::HandleValue v, size_t *len = nullptr);

/* ---- the storage of one parameter ---------------------------------------- */

struct ParamStorage {
  union {
    int8_t i8; int16_t i16; int32_t i32; int64_t i64;
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
    float f; double d; bool b; char c; char16_t wc; void *p;
  } v;
  nsID id;           /* target of v.p for in nsID parameters */
  nsACString cstr;   /* ACString / AUTF8String */
  nsAString str;     /* AString / DOMString */
  uint32_t len;      /* size_is length, when known */
  bool owned;        /* CleanupValue applies */
  bool inited;       /* string objects initialised */
};

/* The storage pointer for type t in s (see the convention above);
 * initialises string objects on first use. */
void *StorageFor(ParamStorage &s, const XPTTypeDescriptor &t);
void FinishStorage(ParamStorage &s, const XPTTypeDescriptor &t);

/* ---- prelude (jsb_prelude.cpp) -------------------------------------------- */

extern const char kPreludeSource[];

} /* namespace jsb */

#endif /* WSCHANNEL_JSBRIDGE_PRIVATE_H */
