/*
 * jsb_wrappedjs.cpp — XPCWrappedJS: a JS object implementing interfaces
 * for native callers.
 *
 * Each JS object passed to native code gets one WJSRoot (found again
 * through a JS WeakMap, so the same JS object always gives the same
 * identity) holding a tearoff per interface. A tearoff is a C object whose
 * first word is the shared stub vtable (invoke.h): every slot lands in
 * xpt_stub_dispatch, which finds the method from the tearoff's interface
 * and the slot index, reads the arguments by the XPT signature and calls
 * the JS function of that name (or the object itself for [function]
 * interfaces when it is callable).
 *
 * Ownership: all tearoffs of a root share its atomic reference count;
 * while it is non-zero the root keeps the JS object alive (traced as an
 * extra GC root). Native references thus keep JS objects alive, and
 * releasing them lets the GC collect. The count only reaches zero on the
 * main thread: another thread dropping the last reference posts that
 * release to the main thread, so a root is never destroyed off the main
 * thread and never resurrected after reaching zero.
 *
 * Threads: AddRef/Release/QueryInterface work on any thread (off the main
 * thread QI answers only from the tearoffs that already exist); every
 * other method called off the main thread returns NS_ERROR_NOT_SAME_THREAD
 * without running JS.
 */
#include "jsb_private.h"

#include <cstdio>
#include <cstring>
#include <memory>

#include "nsIThread.h"
#include "xpcom_thread.h"

namespace jsb {

struct WJSTearoff {
  void *const *vtbl; /* xpt_stub_vtable: must be first */
  WJSRoot *root;
  const XPTInterfaceInfo *info;
  WJSTearoff *next;
};

struct WJSRoot {
  WJSTearoff identity; /* the nsISupports tearoff */
  std::atomic<uint32_t> refcnt{0};
  JS::Heap<JSObject *> obj;
  WJSRoot *prev = nullptr, *next = nullptr;
  bool linked = false;
  std::atomic<bool> orphan{false};
  std::mutex lock; /* the tearoff chain (identity.next ...) */
};

static WJSRoot *gRoots = nullptr; /* main thread only */

static const XPTInterfaceInfo *SupportsInfo()
{
  static const XPTInterfaceInfo *info = XPT_GetInterfaceByIID(&nsISupports_IID);
  return info;
}

JSObject *UnwrapJS(void *p)
{
  if (!p || *static_cast<void *const *const *>(p) != xpt_stub_vtable)
    return nullptr;
  WJSRoot *root = static_cast<WJSTearoff *>(p)->root;
  if (root->orphan)
    return nullptr;
  return root->obj; /* read barrier */
}

void TraceWrappedJS(JSTracer *trc, void *)
{
  for (WJSRoot *r = gRoots; r; r = r->next)
    if (r->obj)
      JS::TraceEdge(trc, &r->obj, "XPCWrappedJS");
}

bool InitWrappedJS(JSContext *cx)
{
  JSObject *map = JS::NewWeakMapObject(cx);
  if (!map)
    return false;
  gRt->wjsMap.init(cx, map);
  return true;
}

static void Unlink(WJSRoot *r)
{
  if (!r->linked)
    return;
  if (r->prev)
    r->prev->next = r->next;
  else
    gRoots = r->next;
  if (r->next)
    r->next->prev = r->prev;
  r->prev = r->next = nullptr;
  r->linked = false;
}

void OrphanAllWrappedJS()
{
  while (gRoots) {
    WJSRoot *r = gRoots;
    r->orphan = true;
    r->obj = nullptr;
    Unlink(r);
  }
}

/* Main thread (or, once orphaned, whichever thread drops the last ref). */
static void Destroy(WJSRoot *r)
{
  if (!r->orphan && gRt && gRt->cx && !gRt->tornDown && r->obj) {
    JSContext *cx = gRt->cx;
    JSAutoRealm ar(cx, gRt->global);
    /* Often called while an exception is being thrown (releasing a call's
     * arguments): keep it. */
    JS::AutoSaveExceptionState saved(cx);
    JS::RootedObject key(cx, r->obj);
    JS::RootedValue cur(cx);
    /* Forget the mapping unless another root has taken it over. */
    if (JS::GetWeakMapEntry(cx, gRt->wjsMap, key, &cur) && cur.isDouble() &&
        cur.toPrivate() == r)
      JS::SetWeakMapEntry(cx, gRt->wjsMap, key, JS::UndefinedHandleValue);
  }
  Unlink(r);
  r->obj = nullptr;
  WJSTearoff *t = r->identity.next;
  while (t) {
    WJSTearoff *n = t->next;
    delete t;
    t = n;
  }
  xpcom_leak_dtor("XPCWrappedJS", sizeof(WJSRoot));
  delete r;
}

static nsrefcnt RootAddRef(WJSRoot *r) { return ++r->refcnt; }

static nsrefcnt RootRelease(WJSRoot *r);

static void ReleaseOnMain(void *arg) { RootRelease(static_cast<WJSRoot *>(arg)); }

static nsrefcnt RootRelease(WJSRoot *r)
{
  if (NS_IsMainThread()) {
    nsrefcnt n = --r->refcnt;
    if (n == 0)
      Destroy(r);
    return n;
  }
  uint32_t n = r->refcnt.load();
  for (;;) {
    if (n == 1) {
      /* The last reference: drop it on the main thread. */
      nsIThread *main = nullptr;
      if (NS_SUCCEEDED(NS_GetMainThread(&main))) {
        nsresult rv = xpcom_dispatch_fn(main, ReleaseOnMain, r, nullptr);
        main->Release();
        if (NS_SUCCEEDED(rv))
          return 1;
      }
      /* No main thread any more: only an orphan can be freed here. */
      if (--r->refcnt == 0) {
        if (r->orphan)
          Destroy(r);
        else
          fprintf(stderr, "xpcshell: leaking a wrapped JS object released off the main "
                          "thread after the main thread stopped\n");
      }
      return 0;
    }
    if (r->refcnt.compare_exchange_weak(n, n - 1))
      return n - 1;
  }
}

static WJSTearoff *FindTearoff(WJSRoot *r, const nsID &iid, bool inherited)
{
  std::lock_guard<std::mutex> guard(r->lock);
  for (WJSTearoff *t = &r->identity; t; t = t->next)
    if (t->info && nsID_Equals(&t->info->iid, &iid))
      return t;
  if (inherited)
    for (WJSTearoff *t = &r->identity; t; t = t->next)
      if (t->info && InterfaceInherits(t->info, iid))
        return t;
  return nullptr;
}

static WJSTearoff *GetTearoff(WJSRoot *r, const XPTInterfaceInfo *info)
{
  if (WJSTearoff *t = FindTearoff(r, info->iid, false))
    return t;
  WJSTearoff *t = new WJSTearoff{xpt_stub_vtable, r, info, nullptr};
  std::lock_guard<std::mutex> guard(r->lock);
  t->next = r->identity.next;
  r->identity.next = t;
  return t;
}

static WJSRoot *FindRoot(JSContext *cx, JS::HandleObject obj)
{
  JS::RootedValue v(cx);
  if (!JS::GetWeakMapEntry(cx, gRt->wjsMap, obj, &v))
    return nullptr;
  if (!v.isDouble())
    return nullptr;
  return static_cast<WJSRoot *>(v.toPrivate());
}

static WJSRoot *GetRoot(JSContext *cx, JS::HandleObject obj)
{
  if (WJSRoot *r = FindRoot(cx, obj))
    return r;
  WJSRoot *r = new WJSRoot();
  r->identity.vtbl = xpt_stub_vtable;
  r->identity.root = r;
  r->identity.info = SupportsInfo();
  r->identity.next = nullptr;
  r->obj = obj;
  JS::RootedValue priv(cx, JS::PrivateValue(r));
  if (!JS::SetWeakMapEntry(cx, gRt->wjsMap, obj, priv)) {
    r->obj = nullptr;
    delete r;
    return nullptr;
  }
  r->next = gRoots;
  if (gRoots)
    gRoots->prev = r;
  gRoots = r;
  r->linked = true;
  xpcom_leak_ctor("XPCWrappedJS", sizeof(WJSRoot));
  return r;
}

static bool CanImplement(const XPTInterfaceInfo *info)
{
  return info && (info->flags & XPT_ID_SCRIPTABLE) && !(info->flags & XPT_ID_BUILTINCLASS) &&
         SlotCount(info) <= XPT_STUB_SLOTS;
}

nsresult WrapJS(JSContext *cx, JS::HandleObject obj, const nsID &iid, void **out)
{
  *out = nullptr;
  if (NativeWrapper *w = UnwrapNative(obj)) {
    nsISupports *p = nullptr;
    if (NS_FAILED(WrapperQI(w, iid, &p)))
      return NS_ERROR_XPC_BAD_CONVERT_JS;
    p->AddRef();
    *out = p;
    return NS_OK;
  }
  const XPTInterfaceInfo *info = XPT_GetInterfaceByIID(&iid);
  if (!CanImplement(info))
    return NS_ERROR_XPC_BAD_CONVERT_JS;
  WJSRoot *r = GetRoot(cx, obj);
  if (!r)
    return JS_IsExceptionPending(cx) ? NS_ERROR_XPC_BAD_CONVERT_JS : NS_ERROR_OUT_OF_MEMORY;
  WJSTearoff *t = nsID_Equals(&iid, &nsISupports_IID) ? &r->identity : GetTearoff(r, info);
  RootAddRef(r);
  *out = t;
  return NS_OK;
}

/* ---- QueryInterface ------------------------------------------------------------- */

static nsresult QueryInterfaceMain(WJSRoot *r, const nsID &iid, void **result)
{
  const XPTInterfaceInfo *info = XPT_GetInterfaceByIID(&iid);
  if (!CanImplement(info))
    return NS_NOINTERFACE;
  /* A base of an interface the object was wrapped for. */
  if (FindTearoff(r, iid, true)) {
    WJSTearoff *t = GetTearoff(r, info);
    RootAddRef(r);
    *result = t;
    return NS_OK;
  }
  if (!gRt || gRt->tornDown || r->orphan)
    return NS_NOINTERFACE;
  JSContext *cx = gRt->cx;
  JSAutoRealm ar(cx, gRt->global);
  JS::AutoSaveExceptionState saved(cx); /* a caller's exception survives */
  JS::RootedObject obj(cx, r->obj);
  JS::RootedValue fn(cx);
  if (!JS_GetProperty(cx, obj, "QueryInterface", &fn)) {
    JS_ClearPendingException(cx);
    return NS_NOINTERFACE;
  }
  if (!fn.isObject() || !JS::IsCallable(&fn.toObject()))
    return NS_NOINTERFACE;
  JS::RootedValueArray<1> argv(cx);
  if (!IIDToValue(cx, iid, argv[0])) {
    JS_ClearPendingException(cx);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  JS::RootedValue rval(cx);
  JS::RootedValue thisv(cx, JS::ObjectValue(*obj));
  gRt->jsDepth++;
  bool ok = JS::Call(cx, thisv, fn, argv, &rval);
  gRt->jsDepth--;
  if (!ok) {
    /* A refusal, usually by throwing Cr.NS_ERROR_NO_INTERFACE: not an error
     * worth reporting. */
    JS_ClearPendingException(cx);
    return NS_NOINTERFACE;
  }
  if (!rval.isObject())
    return NS_NOINTERFACE;
  JS::RootedObject answer(cx, &rval.toObject());
  if (answer == obj) {
    WJSTearoff *t = GetTearoff(r, info);
    RootAddRef(r);
    *result = t;
    return NS_OK;
  }
  nsresult rv = WrapJS(cx, answer, iid, result);
  return NS_FAILED(rv) ? NS_NOINTERFACE : NS_OK;
}

static nsresult QueryInterface(WJSTearoff *self, const nsID *iid, void **result)
{
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = nullptr;
  if (!iid)
    return NS_ERROR_NULL_POINTER;
  WJSRoot *r = self->root;
  if (nsID_Equals(iid, &nsISupports_IID)) {
    RootAddRef(r);
    *result = &r->identity;
    return NS_OK;
  }
  if (WJSTearoff *t = FindTearoff(r, *iid, false)) {
    RootAddRef(r);
    *result = t;
    return NS_OK;
  }
  if (!NS_IsMainThread()) {
    /* Bases of existing tearoffs need no JS. */
    if (WJSTearoff *t = FindTearoff(r, *iid, true)) {
      RootAddRef(r);
      *result = t;
      return NS_OK;
    }
    return NS_NOINTERFACE;
  }
  return QueryInterfaceMain(r, *iid, result);
}

/* ---- calling JS --------------------------------------------------------------------- */

namespace {

struct JSCall {
  /* Most methods have a few parameters: their storage lives here, not on
   * the heap (four vectors per call were a fifth of a listener call). */
  static const uint8_t kInline = 6;

  const XPTMethodDescriptor *m;
  ParamStorage *in;  /* in values read from registers */
  void **ptr;        /* out / inout / dipper: the caller's storage */
  ParamStorage *tmp; /* out values converted from JS, before commit */
  bool *haveTmp;

  explicit JSCall(const XPTMethodDescriptor *md) : m(md)
  {
    const uint8_t n = md->num_args;
    if (n <= kInline) {
      in = inlineIn;
      ptr = inlinePtr;
      tmp = inlineTmp;
      haveTmp = inlineHave;
    } else {
      heapIn.reset(new ParamStorage[n]);
      heapPtr.reset(new void *[n]);
      heapTmp.reset(new ParamStorage[n]);
      heapHave.reset(new bool[n]);
      in = heapIn.get();
      ptr = heapPtr.get();
      tmp = heapTmp.get();
      haveTmp = heapHave.get();
    }
    memset(static_cast<void *>(in), 0, n * sizeof *in);
    memset(static_cast<void *>(tmp), 0, n * sizeof *tmp);
    memset(static_cast<void *>(ptr), 0, n * sizeof *ptr);
    memset(static_cast<void *>(haveTmp), 0, n * sizeof *haveTmp);
  }
  JSCall(const JSCall &) = delete;
  JSCall &operator=(const JSCall &) = delete;

  ~JSCall()
  {
    for (uint8_t i = 0; i < m->num_args; i++) {
      const XPTTypeDescriptor &t = m->params[i].type;
      if (haveTmp[i])
        CleanupValue(t, StorageFor(tmp[i], t), tmp[i].len);
      FinishStorage(tmp[i], t);
    }
  }

  bool IsOut(uint8_t i) const { return m->params[i].flags & XPT_PD_OUT; }

 private:
  ParamStorage inlineIn[kInline], inlineTmp[kInline];
  void *inlinePtr[kInline];
  bool inlineHave[kInline];
  std::unique_ptr<ParamStorage[]> heapIn, heapTmp;
  std::unique_ptr<void *[]> heapPtr;
  std::unique_ptr<bool[]> heapHave;

 public:
  /* Where param i's incoming value lives (for in and inout). */
  void *Incoming(uint8_t i)
  {
    const XPTTypeDescriptor &t = m->params[i].type;
    if (IsOut(i))
      return ptr[i];
    switch (t.tag) {
    case XPT_TD_DOMSTRING: case XPT_TD_ASTRING:
    case XPT_TD_UTF8STRING: case XPT_TD_CSTRING:
      return ptr[i]; /* passed by reference */
    default:
      return StorageFor(in[i], t);
    }
  }

  uint32_t LengthOf(uint8_t j, void *p)
  {
    switch (m->params[j].type.tag) {
    case XPT_TD_INT8: return (uint32_t)*static_cast<const int8_t *>(p);
    case XPT_TD_UINT8: return *static_cast<const uint8_t *>(p);
    case XPT_TD_INT16: return (uint32_t)*static_cast<const int16_t *>(p);
    case XPT_TD_UINT16: return *static_cast<const uint16_t *>(p);
    case XPT_TD_INT64: case XPT_TD_UINT64: return (uint32_t)*static_cast<const uint64_t *>(p);
    default: return *static_cast<const uint32_t *>(p);
    }
  }

  const nsID *IIDOf(uint8_t j, void *p)
  {
    const XPTTypeDescriptor &t = m->params[j].type;
    if (t.tag != XPT_TD_PNSIID || !p)
      return nullptr;
    return (t.flags & XPT_TDF_POINTER) ? *static_cast<nsID **>(p) : static_cast<nsID *>(p);
  }
};

} /* namespace */

static size_t ValueSize(const XPTTypeDescriptor &t)
{
  switch (t.tag) {
  case XPT_TD_INT8: case XPT_TD_UINT8: case XPT_TD_BOOL: case XPT_TD_CHAR: return 1;
  case XPT_TD_INT16: case XPT_TD_UINT16: case XPT_TD_WCHAR: return 2;
  case XPT_TD_INT32: case XPT_TD_UINT32: case XPT_TD_FLOAT: return 4;
  case XPT_TD_PNSIID: return (t.flags & XPT_TDF_POINTER) ? sizeof(void *) : sizeof(nsID);
  default: return 8;
  }
}

static void StoreInArg(ParamStorage &s, const XPTTypeDescriptor &t, xpt_stub_reader *rd,
                       void **ptr)
{
  if (t.tag == XPT_TD_FLOAT) {
    s.v.f = xpt_stub_next_float(rd);
    return;
  }
  if (t.tag == XPT_TD_DOUBLE) {
    s.v.d = xpt_stub_next_double(rd);
    return;
  }
  uint64_t raw = xpt_stub_next_int(rd);
  switch (t.tag) {
  case XPT_TD_INT8: s.v.i8 = (int8_t)raw; break;
  case XPT_TD_UINT8: s.v.u8 = (uint8_t)raw; break;
  case XPT_TD_INT16: s.v.i16 = (int16_t)raw; break;
  case XPT_TD_UINT16: s.v.u16 = (uint16_t)raw; break;
  case XPT_TD_INT32: s.v.i32 = (int32_t)raw; break;
  case XPT_TD_UINT32: s.v.u32 = (uint32_t)raw; break;
  case XPT_TD_INT64: case XPT_TD_UINT64: s.v.u64 = raw; break;
  case XPT_TD_BOOL: s.v.b = (raw & 0xFF) != 0; break;
  case XPT_TD_CHAR: s.v.c = (char)raw; break;
  case XPT_TD_WCHAR: s.v.wc = (char16_t)raw; break;
  case XPT_TD_DOMSTRING: case XPT_TD_ASTRING:
  case XPT_TD_UTF8STRING: case XPT_TD_CSTRING:
    *ptr = (void *)(uintptr_t)raw;
    break;
  default:
    s.v.p = (void *)(uintptr_t)raw;
    break;
  }
}

/* The property key of method m's name (see Runtime::methodIds); false with
 * an exception pending when it cannot be made. */
static bool MethodKey(JSContext *cx, const XPTMethodDescriptor *m, JS::MutableHandleId out)
{
  auto it = gRt->methodIds.find(m);
  if (it != gRt->methodIds.end() &&
      (it->second.name == m->name || strcmp(it->second.name, m->name) == 0)) {
    out.set(it->second.id);
    return true;
  }
  JSString *atom = JS_AtomizeAndPinString(cx, m->name);
  if (!atom)
    return false;
  jsid id = JS::PropertyKey::fromPinnedString(atom);
  gRt->methodIds[m] = Runtime::MethodId{m->name, id};
  out.set(id);
  return true;
}

static nsresult CallJS(WJSTearoff *self, uint16_t index, const xpt_stub_frame *frame)
{
  WJSRoot *r = self->root;
  const XPTInterfaceInfo *decl = nullptr;
  const XPTMethodDescriptor *m = MethodAt(self->info, index, &decl);
  if (!m)
    return NS_ERROR_XPC_CANT_GET_METHOD_INFO;
  if (r->orphan || !gRt || gRt->tornDown)
    return NS_ERROR_XPC_HAS_BEEN_SHUTDOWN;
  if (!NS_IsMainThread()) {
    fprintf(stderr, "xpcshell: refused to call %s.%s (implemented in JS) off the main thread\n",
            decl->name, m->name);
    return NS_ERROR_NOT_SAME_THREAD;
  }
  if (m->flags & (XPT_MD_NOTXPCOM | XPT_MD_HIDDEN))
    return NS_ERROR_NOT_IMPLEMENTED;
  const uint8_t n = m->num_args;
  for (uint8_t i = 0; i < n; i++) {
    uint8_t tag = m->params[i].type.tag;
    if (tag == XPT_TD_JSVAL || tag == XPT_TD_VOID)
      return NS_ERROR_NOT_IMPLEMENTED;
  }

  JSContext *cx = gRt->cx;
  JSAutoRealm ar(cx, gRt->global);
  JS::AutoSaveExceptionState saved(cx); /* a caller's exception survives */
  JSCall call(m);

  xpt_stub_reader rd;
  xpt_stub_reader_init(&rd, frame);
  bool hasRetval = n > 0 && (m->params[n - 1].flags & XPT_PD_RETVAL);
  for (uint8_t i = 0; i < n; i++) {
    const XPTParamDescriptor &p = m->params[i];
    if (i == (hasRetval ? n - 1 : n)) {
      /* Hidden arguments precede the retval: skip them. */
      if (m->flags & XPT_MD_CONTEXT)
        (void)xpt_stub_next_int(&rd);
      if (m->flags & XPT_MD_OPT_ARGC)
        (void)xpt_stub_next_int(&rd);
    }
    if (p.flags & XPT_PD_OUT)
      call.ptr[i] = (void *)(uintptr_t)xpt_stub_next_int(&rd);
    else
      StoreInArg(call.in[i], p.type, &rd, &call.ptr[i]);
  }

  /* Arguments: every non-retval parameter; out ones as {value} objects. */
  unsigned jsParams = n;
  if (n > 0 && (m->params[n - 1].flags & XPT_PD_RETVAL))
    jsParams--;
  JS::RootedValueVector argv(cx);
  if (!argv.resize(jsParams))
    return NS_ERROR_OUT_OF_MEMORY;
  nsresult err = NS_OK;
  JS::RootedValue val(cx);
  for (uint8_t i = 0; i < jsParams; i++) {
    const XPTParamDescriptor &p = m->params[i];
    const XPTTypeDescriptor &t = p.type;
    bool isIn = p.flags & XPT_PD_IN;
    val.setUndefined();
    if (isIn) {
      uint32_t len = 0;
      const nsID *iid = nullptr;
      if (TypeNeedsLength(t))
        len = call.LengthOf(t.argnum, call.Incoming(t.argnum));
      if (TypeNeedsIID(t))
        iid = call.IIDOf(t.argnum, call.Incoming(t.argnum));
      void *src = call.Incoming(i);
      if (!src || !NativeToJS(cx, t, src, len, iid, &val, &err)) {
        if (JS_IsExceptionPending(cx))
          return PendingExceptionToResult(cx, decl->name, m->name);
        return src ? err : NS_ERROR_NULL_POINTER;
      }
    }
    if (p.flags & XPT_PD_OUT) {
      if (!call.ptr[i] && !(p.flags & XPT_PD_OPTIONAL))
        return NS_ERROR_NULL_POINTER;
      JS::RootedObject o(cx, JS_NewPlainObject(cx));
      if (!o)
        return NS_ERROR_OUT_OF_MEMORY;
      if (isIn && !JS_SetProperty(cx, o, "value", val))
        return PendingExceptionToResult(cx, decl->name, m->name);
      argv[i].setObject(*o);
    } else {
      argv[i].set(val);
    }
  }

  JS::RootedObject obj(cx, r->obj);
  JS::RootedValue thisv(cx, JS::ObjectValue(*obj));
  JS::RootedValue rval(cx);
  bool ok;
  gRt->jsDepth++;
  if (m->flags & XPT_MD_GETTER) {
    ok = JS_GetProperty(cx, obj, m->name, &rval);
  } else if (m->flags & XPT_MD_SETTER) {
    ok = JS_SetProperty(cx, obj, m->name, argv[0]);
  } else {
    JS::RootedValue fval(cx);
    if ((decl->flags & XPT_ID_FUNCTION) && JS::IsCallable(obj)) {
      fval = thisv;
      ok = true;
    } else {
      JS::RootedId id(cx);
      ok = MethodKey(cx, m, &id) && JS_GetPropertyById(cx, obj, id, &fval);
    }
    if (ok && !(fval.isObject() && JS::IsCallable(&fval.toObject()))) {
      gRt->jsDepth--;
      fprintf(stderr, "xpcshell: JS object has no function named %s (%s)\n", m->name,
              decl->name);
      return NS_ERROR_XPC_JSOBJECT_HAS_NO_FUNCTION_NAMED;
    }
    if (ok)
      ok = JS::Call(cx, thisv, fval, JS::HandleValueArray(argv), &rval);
  }
  gRt->jsDepth--;

  nsresult rv = NS_OK;
  if (!ok) {
    rv = PendingExceptionToResult(cx, decl->name, m->name);
  } else {
    /* Out values: non-arrays first (sizes may be overridden by arrays). */
    for (int pass = 0; pass < 2 && NS_SUCCEEDED(rv); pass++) {
      for (uint8_t i = 0; i < n; i++) {
        const XPTParamDescriptor &p = m->params[i];
        const XPTTypeDescriptor &t = p.type;
        if (!(p.flags & XPT_PD_OUT) || !call.ptr[i])
          continue;
        if ((pass == 1) != TypeNeedsLength(t))
          continue;
        if (p.flags & XPT_PD_RETVAL) {
          val = rval;
        } else {
          JS::RootedObject o(cx, &argv[i].toObject());
          if (!JS_GetProperty(cx, o, "value", &val)) {
            rv = PendingExceptionToResult(cx, decl->name, m->name);
            break;
          }
        }
        uint32_t len = 0;
        if (TypeNeedsLength(t)) {
          len = UINT32_MAX;
          if (t.tag == XPT_TD_ARRAY && val.isObject()) {
            JS::RootedObject a(cx, &val.toObject());
            bool isArray = false;
            if (JS::IsArrayObject(cx, a, &isArray) && isArray)
              JS::GetArrayLength(cx, a, &len);
            JS_ClearPendingException(cx);
          }
        }
        const nsID *iid = nullptr;
        if (TypeNeedsIID(t)) {
          uint8_t j = t.argnum;
          iid = call.IsOut(j) ? call.IIDOf(j, StorageFor(call.tmp[j], m->params[j].type))
                              : call.IIDOf(j, call.Incoming(j));
        }
        void *dst = StorageFor(call.tmp[i], t);
        if (!JSToNative(cx, val, t, dst, len, iid, &err)) {
          rv = JS_IsExceptionPending(cx) ? PendingExceptionToResult(cx, decl->name, m->name)
                                         : (err == NS_OK ? NS_ERROR_XPC_BAD_CONVERT_JS : err);
          break;
        }
        call.haveTmp[i] = true;
        if (TypeNeedsLength(t)) {
          if (!SizedStringLength(t, dst, &len) && len == UINT32_MAX)
            len = 0;
          call.tmp[i].len = len;
          /* The size parameter follows the value returned. */
          uint8_t j = t.argnum;
          if (call.IsOut(j) && call.ptr[j]) {
            ParamStorage &sz = call.tmp[j];
            void *sp = StorageFor(sz, m->params[j].type);
            uint64_t wide = len;
            memcpy(sp, &wide, ValueSize(m->params[j].type)); /* little-endian */
            call.haveTmp[j] = true;
          }
        }
      }
    }
    if (NS_SUCCEEDED(rv)) {
      /* Commit: the caller owns what we store (inout: its old value is
       * freed first, as the callee of an inout parameter must; lengths
       * are read before any size parameter is overwritten). */
      std::vector<uint32_t> oldLen(n, 0);
      for (uint8_t i = 0; i < n; i++) {
        const XPTParamDescriptor &p = m->params[i];
        if ((p.flags & XPT_PD_IN) && (p.flags & XPT_PD_OUT) && call.ptr[i] &&
            TypeNeedsLength(p.type) && call.ptr[p.type.argnum])
          oldLen[i] = call.LengthOf(p.type.argnum, call.ptr[p.type.argnum]);
      }
      for (uint8_t i = 0; i < n; i++) {
        const XPTParamDescriptor &p = m->params[i];
        const XPTTypeDescriptor &t = p.type;
        if (!(p.flags & XPT_PD_OUT) || !call.ptr[i] || !call.haveTmp[i])
          continue;
        void *src = StorageFor(call.tmp[i], t);
        switch (t.tag) {
        case XPT_TD_DOMSTRING: case XPT_TD_ASTRING:
          NS_StringCopy(*static_cast<nsAString *>(call.ptr[i]), *static_cast<nsAString *>(src));
          break;
        case XPT_TD_UTF8STRING: case XPT_TD_CSTRING:
          NS_CStringCopy(*static_cast<nsACString *>(call.ptr[i]),
                         *static_cast<nsACString *>(src));
          break;
        default:
          if (p.flags & XPT_PD_IN)
            CleanupValue(t, call.ptr[i], oldLen[i]);
          memcpy(call.ptr[i], src, ValueSize(t));
          memset(src, 0, ValueSize(t));
          call.haveTmp[i] = false;
          break;
        }
      }
    }
  }
  if (gRt->jsDepth == 0)
    RunJobs(cx); /* no script below us: a microtask checkpoint */
  return rv;
}

} /* namespace jsb */

using namespace jsb;

extern "C" nsresult xpt_stub_dispatch(void *self, uint32_t index, const xpt_stub_frame *frame)
{
  WJSTearoff *t = static_cast<WJSTearoff *>(self);
  xpt_stub_reader rd;
  switch (index) {
  case 0: {
    xpt_stub_reader_init(&rd, frame);
    const nsID *iid = (const nsID *)(uintptr_t)xpt_stub_next_int(&rd);
    void **result = (void **)(uintptr_t)xpt_stub_next_int(&rd);
    return QueryInterface(t, iid, result);
  }
  case 1:
    return RootAddRef(t->root);
  case 2:
    return RootRelease(t->root);
  default:
    return CallJS(t, (uint16_t)index, frame);
  }
}
