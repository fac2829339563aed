/*
 * jsb_native.cpp — XPCWrappedNative: a native object as seen from JS.
 *
 * One JS object per native identity (the pointer QueryInterface gives for
 * nsISupports). It holds a reference to the identity and one "tearoff"
 * per interface it was used or QueryInterface'd as; its members (methods,
 * attributes as accessor properties, constants) are resolved lazily from
 * the type information of those interfaces, so `obj.QueryInterface(Ci.X)`
 * makes X's members appear on the same object (Gecko's flattening).
 *
 * Lifetime: the map identity -> wrapper is weak. When the JS object dies
 * its finalizer hands the native references to DeferRelease (released
 * after the GC, never during it), so native destructors never run inside
 * the collector.
 *
 * Calls: a method or accessor is a JS function carrying (interface info,
 * vtable index) in reserved slots; calling it marshals the JS arguments by
 * the method's XPT parameters into xpt_variants, calls the slot through
 * xpcom_invoke_by_index, throws on a failure nsresult, and converts out
 * parameters back ({value} objects, retval as the return value).
 */
#include "jsb_private.h"

#include <cstring>
#include <string>

#include "nsIThread.h"
#include "xpcom_thread.h"

namespace jsb {

/* ---- type information helpers ------------------------------------------------- */

const XPTMethodDescriptor *MethodAt(const XPTInterfaceInfo *info, uint16_t index,
                                    const XPTInterfaceInfo **decl)
{
  for (const XPTInterfaceInfo *i = info; i; i = XPT_GetParent(i)) {
    if (index >= i->method_base) {
      if (index - i->method_base >= i->num_methods)
        return nullptr;
      if (decl)
        *decl = i;
      return &i->methods[index - i->method_base];
    }
  }
  return nullptr;
}

bool InterfaceInherits(const XPTInterfaceInfo *info, const nsID &iid)
{
  for (const XPTInterfaceInfo *i = info; i; i = XPT_GetParent(i))
    if (nsID_Equals(&i->iid, &iid))
      return true;
  return false;
}

uint16_t SlotCount(const XPTInterfaceInfo *info)
{
  return (uint16_t)(info->method_base + info->num_methods);
}

bool IsEventLoopMethod(const XPTInterfaceInfo *decl, const XPTMethodDescriptor *m)
{
  return decl && strcmp(decl->name, "nsIThread") == 0 &&
         strcmp(m->name, "processNextEvent") == 0;
}

/* ---- the class ------------------------------------------------------------------- */

enum { WN_SLOT_WRAPPER, WN_SLOTS };
/* Reserved slots of member functions. */
enum { FN_SLOT_INFO, FN_SLOT_INDEX };

NativeWrapper *UnwrapNative(JSObject *obj)
{
  if (!obj || JS::GetClass(obj) != &WrappedNativeClass)
    return nullptr;
  JS::Value v = JS::GetReservedSlot(obj, WN_SLOT_WRAPPER);
  return v.isUndefined() ? nullptr : static_cast<NativeWrapper *>(v.toPrivate());
}

static void WN_finalize(JS::GCContext *, JSObject *obj)
{
  NativeWrapper *w = UnwrapNative(obj);
  if (!w || !gRt)
    return;
  auto it = gRt->natives.find(w->identity);
  if (it != gRt->natives.end() && it->second == w)
    gRt->natives.erase(it);
  for (Tearoff &t : w->tearoffs)
    DeferRelease(t.ptr);
  DeferRelease(w->identity);
  xpcom_leak_dtor("XPCWrappedNative", sizeof(NativeWrapper));
  delete w;
}

void SweepNatives(JSTracer *trc)
{
  if (!gRt)
    return;
  for (auto it = gRt->natives.begin(); it != gRt->natives.end();) {
    if (!JS_UpdateWeakPointerAfterGC(trc, &it->second->flat))
      it = gRt->natives.erase(it);
    else
      ++it;
  }
}

nsresult WrapperQI(NativeWrapper *w, const nsID &iid, nsISupports **out,
                   const XPTInterfaceInfo **outInfo)
{
  for (Tearoff &t : w->tearoffs) {
    if (t.info && nsID_Equals(&t.info->iid, &iid)) {
      *out = t.ptr;
      if (outInfo)
        *outInfo = t.info;
      return NS_OK;
    }
  }
  nsISupports *p = nullptr;
  nsresult rv = w->identity->QueryInterface(iid, (void **)&p);
  if (NS_FAILED(rv) || !p)
    return NS_FAILED(rv) ? rv : NS_NOINTERFACE;
  const XPTInterfaceInfo *info = XPT_GetInterfaceByIID(&iid);
  w->tearoffs.push_back(Tearoff{info, p}); /* keeps the reference */
  *out = p;
  if (outInfo)
    *outInfo = info;
  return NS_OK;
}

/* The interface pointer to call info's methods on. */
static nsresult PointerFor(NativeWrapper *w, const XPTInterfaceInfo *info, nsISupports **out)
{
  for (Tearoff &t : w->tearoffs) {
    if (t.info == info || (t.info && InterfaceInherits(t.info, info->iid))) {
      *out = t.ptr;
      return NS_OK;
    }
  }
  return WrapperQI(w, info->iid, out);
}

/* ---- calling a native method ------------------------------------------------------ */

namespace {

struct NativeCall {
  JSContext *cx;
  const XPTInterfaceInfo *decl;
  const XPTMethodDescriptor *m;
  std::vector<ParamStorage> st;
  std::vector<xpt_variant> vars;
  std::vector<bool> have; /* a value sits in st[i] that CleanupValue must free */

  NativeCall(JSContext *c, const XPTInterfaceInfo *d, const XPTMethodDescriptor *md)
      : cx(c), decl(d), m(md), st(md->num_args), vars(md->num_args), have(md->num_args)
  {
    for (ParamStorage &s : st)
      memset(static_cast<void *>(&s), 0, sizeof s);
    for (xpt_variant &v : vars)
      memset(static_cast<void *>(&v), 0, sizeof v);
  }

  ~NativeCall()
  {
    for (uint8_t i = 0; i < m->num_args; i++) {
      const XPTTypeDescriptor &t = m->params[i].type;
      if (have[i])
        CleanupValue(t, StorageFor(st[i], t), st[i].len);
      FinishStorage(st[i], t);
    }
  }

  uint32_t LengthOf(uint8_t j)
  {
    const XPTTypeDescriptor &t = m->params[j].type;
    const void *p = StorageFor(st[j], t);
    switch (t.tag) {
    case XPT_TD_INT8: return (uint32_t)*static_cast<const int8_t *>(p);
    case XPT_TD_UINT8: return *static_cast<const uint8_t *>(p);
    case XPT_TD_INT16: return (uint32_t)*static_cast<const int16_t *>(p);
    case XPT_TD_UINT16: return *static_cast<const uint16_t *>(p);
    case XPT_TD_INT64: case XPT_TD_UINT64: return (uint32_t)*static_cast<const uint64_t *>(p);
    default: return *static_cast<const uint32_t *>(p);
    }
  }

  void SetLength(uint8_t j, uint32_t len)
  {
    const XPTTypeDescriptor &t = m->params[j].type;
    void *p = StorageFor(st[j], t);
    switch (t.tag) {
    case XPT_TD_INT8: case XPT_TD_UINT8: *static_cast<uint8_t *>(p) = (uint8_t)len; break;
    case XPT_TD_INT16: case XPT_TD_UINT16: *static_cast<uint16_t *>(p) = (uint16_t)len; break;
    case XPT_TD_INT64: case XPT_TD_UINT64: *static_cast<uint64_t *>(p) = len; break;
    default: *static_cast<uint32_t *>(p) = len; break;
    }
  }

  const nsID *IIDOf(uint8_t j)
  {
    const XPTTypeDescriptor &t = m->params[j].type;
    if (t.tag != XPT_TD_PNSIID)
      return nullptr;
    void *p = StorageFor(st[j], t);
    return (t.flags & XPT_TDF_POINTER) ? *static_cast<nsID **>(p) : static_cast<nsID *>(p);
  }
};

} /* namespace */

/* The argument value of an `in` parameter from its storage. */
static void LoadInArg(xpt_variant &var, ParamStorage &s, const XPTTypeDescriptor &t)
{
  var.type = t.tag;
  switch (t.tag) {
  case XPT_TD_DOMSTRING: case XPT_TD_ASTRING:
  case XPT_TD_UTF8STRING: case XPT_TD_CSTRING:
    var.val.p = StorageFor(s, t); /* passed by reference */
    break;
  case XPT_TD_PNSIID:
    var.val.p = (t.flags & XPT_TDF_POINTER) ? s.v.p : &s.id;
    break;
  default:
    memcpy(&var.val, &s.v, sizeof var.val);
    break;
  }
}

static bool ThrowConvert(JSContext *cx, nsresult err, unsigned argIndex, const char *iface,
                         const char *method)
{
  if (err == NS_OK)
    return false; /* a JS exception is already pending */
  char msg[128];
  switch (err) {
  case NS_ERROR_XPC_BAD_CONVERT_JS:
    snprintf(msg, sizeof msg, "Could not convert JavaScript argument arg %u", argIndex);
    break;
  case NS_ERROR_XPC_NEED_OUT_OBJECT:
    snprintf(msg, sizeof msg, "Need an object for out parameter arg %u", argIndex);
    break;
  case NS_ERROR_XPC_NOT_ENOUGH_ELEMENTS_IN_ARRAY:
    snprintf(msg, sizeof msg, "Not enough elements in array arg %u", argIndex);
    break;
  case NS_ERROR_XPC_CANT_CONVERT_PRIMITIVE_TO_ARRAY:
  case NS_ERROR_XPC_CANT_CONVERT_OBJECT_TO_ARRAY:
    snprintf(msg, sizeof msg, "Cannot convert arg %u to an array", argIndex);
    break;
  case NS_ERROR_XPC_NOT_ENOUGH_CHARS_IN_STRING:
    snprintf(msg, sizeof msg, "Not enough characters in string arg %u", argIndex);
    break;
  default:
    snprintf(msg, sizeof msg, "Could not convert JavaScript argument arg %u (0x%08x)",
             argIndex, err);
    break;
  }
  return ThrowResult(cx, err, msg, iface, method);
}

static bool CallNativeMethod(JSContext *cx, const JS::CallArgs &args, nsISupports *self,
                             const XPTInterfaceInfo *decl, uint16_t index,
                             const XPTMethodDescriptor *m)
{
  const char *ifname = decl->name;
  const uint8_t n = m->num_args;
  NativeCall call(cx, decl, m);

  /* Required JS arguments: every non-retval parameter up to the last one
   * that is not optional. */
  unsigned jsParams = n;
  if (n > 0 && (m->params[n - 1].flags & XPT_PD_RETVAL))
    jsParams--;
  unsigned required = jsParams;
  while (required > 0 && (m->params[required - 1].flags & XPT_PD_OPTIONAL))
    required--;
  if (args.length() < required)
    return ThrowResult(cx, NS_ERROR_XPC_NOT_ENOUGH_ARGS, "Not enough arguments", ifname,
                       m->name);

  std::vector<bool> inferLen(n, false);
  JS::RootedValue arg(cx);
  for (int pass = 0; pass < 2; pass++) {
    for (uint8_t i = 0; i < n; i++) {
      const XPTParamDescriptor &p = m->params[i];
      const XPTTypeDescriptor &t = p.type;
      bool dependent = TypeNeedsLength(t) || TypeNeedsIID(t);
      if ((pass == 1) != dependent)
        continue;
      if (t.tag == XPT_TD_JSVAL || t.tag == XPT_TD_VOID)
        return ThrowResult(cx, NS_ERROR_XPC_CANT_GET_PARAM_IFACE_INFO,
                           "Parameter type not callable from script", ifname, m->name);
      bool isRetval = p.flags & XPT_PD_RETVAL;
      bool present = !isRetval && i < args.length();
      arg.setUndefined();
      if (present)
        arg = args[i];
      void *storage = StorageFor(call.st[i], t);
      xpt_variant &var = call.vars[i];
      var.type = t.tag;

      uint32_t len = 0;
      const nsID *iid = nullptr;
      if (TypeNeedsLength(t)) {
        uint8_t j = t.argnum;
        bool sizeGiven = j < args.length() && !(m->params[j].flags & XPT_PD_OUT);
        if ((p.flags & XPT_PD_IN) && !(m->params[j].flags & XPT_PD_OUT) && !sizeGiven) {
          len = UINT32_MAX; /* infer from the value, then store it */
          inferLen[i] = true;
        } else {
          len = call.LengthOf(j);
        }
      }
      if (TypeNeedsIID(t)) {
        iid = call.IIDOf(t.argnum);
        if (!iid && (p.flags & XPT_PD_IN))
          return ThrowResult(cx, NS_ERROR_XPC_BAD_IID, "Missing iid_is IID", ifname, m->name);
      }

      nsresult err = NS_OK;
      if (p.flags & XPT_PD_OUT) {
        var.flags = XPT_VARIANT_PTR;
        var.ptr = storage;
        if (!isRetval && present && !arg.isObject()) {
          if (!(arg.isNullOrUndefined() && (p.flags & XPT_PD_OPTIONAL)))
            return ThrowConvert(cx, NS_ERROR_XPC_NEED_OUT_OBJECT, i, ifname, m->name);
        }
        if (p.flags & XPT_PD_IN) { /* inout: the value goes in first */
          JS::RootedValue inval(cx);
          if (arg.isObject()) {
            JS::RootedObject o(cx, &arg.toObject());
            if (!JS_GetProperty(cx, o, "value", &inval))
              return false;
          }
          if (len == UINT32_MAX && t.tag == XPT_TD_ARRAY && inval.isObject()) {
            JS::RootedObject a(cx, &inval.toObject());
            if (!JS::GetArrayLength(cx, a, &len))
              return false;
          }
          if (!JSToNative(cx, inval, t, storage, len, iid, &err))
            return ThrowConvert(cx, err, i, ifname, m->name);
          call.have[i] = true;
          call.st[i].len = len;
        }
        continue;
      }
      /* in */
      if (len == UINT32_MAX && t.tag == XPT_TD_ARRAY) {
        len = 0;
        if (arg.isObject()) {
          JS::RootedObject a(cx, &arg.toObject());
          bool isArray = false;
          if (!JS::IsArrayObject(cx, a, &isArray))
            return false;
          if (isArray && !JS::GetArrayLength(cx, a, &len))
            return false;
        }
      }
      if (!JSToNative(cx, arg, t, storage, len, iid, &err))
        return ThrowConvert(cx, err, i, ifname, m->name);
      call.have[i] = true;
      if (inferLen[i]) {
        (void)SizedStringLength(t, storage, &len);
        call.SetLength(t.argnum, len);
        LoadInArg(call.vars[t.argnum], call.st[t.argnum], m->params[t.argnum].type);
      }
      call.st[i].len = len;
      LoadInArg(var, call.st[i], t);
    }
  }

  /* [implicit_jscontext] and [optional_argc] add hidden arguments before
   * the retval (or at the end): the context, then how many optional
   * arguments the script passed. */
  std::vector<xpt_variant> callvars;
  bool hasRetval = n > 0 && (m->params[n - 1].flags & XPT_PD_RETVAL);
  for (uint8_t i = 0; i <= n; i++) {
    if (i == (hasRetval ? n - 1 : n)) {
      if (m->flags & XPT_MD_CONTEXT) {
        xpt_variant v;
        memset(&v, 0, sizeof v);
        v.type = XPT_TD_VOID;
        v.val.p = cx;
        callvars.push_back(v);
      }
      if (m->flags & XPT_MD_OPT_ARGC) {
        xpt_variant v;
        memset(&v, 0, sizeof v);
        v.type = XPT_TD_UINT8;
        unsigned passed = args.length() > required ? args.length() - required : 0;
        v.val.u8 = (uint8_t)(passed < jsParams - required ? passed : jsParams - required);
        callvars.push_back(v);
      }
    }
    if (i < n)
      callvars.push_back(call.vars[i]);
  }
  nsresult rv = xpcom_invoke_by_index(self, index, (uint32_t)callvars.size(), callvars.data());
  if (NS_FAILED(rv)) {
    /* Out values are undefined after a failure: only ours are freed. */
    for (uint8_t i = 0; i < n; i++)
      if ((m->params[i].flags & XPT_PD_OUT) && !(m->params[i].flags & XPT_PD_IN))
        call.have[i] = false;
    if (gRt->quitRequested)
      return false;
    return ThrowResult(cx, rv, nullptr, ifname, m->name);
  }
  /* Whatever the callee stored in out parameters is now ours. */
  for (uint8_t i = 0; i < n; i++)
    if (m->params[i].flags & XPT_PD_OUT)
      call.have[i] = true;
  for (uint8_t i = 0; i < n; i++) {
    const XPTParamDescriptor &p = m->params[i];
    const XPTTypeDescriptor &t = p.type;
    if (TypeNeedsLength(t) && (p.flags & XPT_PD_OUT))
      call.st[i].len = call.LengthOf(t.argnum);
  }

  args.rval().setUndefined();
  JS::RootedValue val(cx);
  for (uint8_t i = 0; i < n; i++) {
    const XPTParamDescriptor &p = m->params[i];
    if (!(p.flags & XPT_PD_OUT))
      continue;
    bool isRetval = p.flags & XPT_PD_RETVAL;
    bool present = !isRetval && i < args.length() && args[i].isObject();
    if (!isRetval && !present)
      continue; /* an omitted optional out parameter */
    const XPTTypeDescriptor &t = p.type;
    nsresult err = NS_OK;
    const nsID *iid = TypeNeedsIID(t) ? call.IIDOf(t.argnum) : nullptr;
    if (!NativeToJS(cx, t, StorageFor(call.st[i], t), call.st[i].len, iid, &val, &err)) {
      if (err == NS_OK)
        return false;
      return ThrowResult(cx, err, "Could not convert native value to JavaScript", ifname,
                         m->name);
    }
    if (isRetval) {
      args.rval().set(val);
    } else {
      JS::RootedObject o(cx, &args[i].toObject());
      if (!JS_SetProperty(cx, o, "value", val))
        return false;
    }
  }
  if (gRt->quitRequested)
    return false;
  return true;
}

/* ---- member functions -------------------------------------------------------------- */

static NativeWrapper *ThisWrapper(JSContext *cx, const JS::CallArgs &args)
{
  NativeWrapper *w = args.thisv().isObject() ? UnwrapNative(&args.thisv().toObject()) : nullptr;
  if (!w)
    ThrowResult(cx, NS_ERROR_XPC_BAD_OP_ON_WN_PROTO,
                "Illegal operation on WrappedNative prototype object");
  return w;
}

static bool WN_Call(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JSObject *callee = &args.callee();
  const XPTInterfaceInfo *info = static_cast<const XPTInterfaceInfo *>(
      js::GetFunctionNativeReserved(callee, FN_SLOT_INFO).toPrivate());
  uint16_t index = (uint16_t)js::GetFunctionNativeReserved(callee, FN_SLOT_INDEX).toInt32();
  NativeWrapper *w = ThisWrapper(cx, args);
  if (!w)
    return false;
  const XPTInterfaceInfo *decl = nullptr;
  const XPTMethodDescriptor *m = MethodAt(info, index, &decl);
  if (!m)
    return ThrowResult(cx, NS_ERROR_XPC_CANT_GET_METHOD_INFO, nullptr, info->name);
  nsISupports *self = nullptr;
  nsresult rv = PointerFor(w, info, &self);
  if (NS_FAILED(rv))
    return ThrowResult(cx, rv, nullptr, decl->name, m->name);
  if (IsEventLoopMethod(decl, m) && JobsPending()) {
    /* Gecko runs pending jobs before the loop may block, and then makes
     * sure it does not (the jobs may be what the caller waits for). */
    RunJobs(cx);
    if (gRt->quitRequested)
      return false;
    if (JS::ToBoolean(args.get(0)) && gRt->mainThread)
      xpcom_dispatch_fn(static_cast<nsIEventTarget *>(static_cast<nsIThread *>(gRt->mainThread)),
                        [](void *) {}, nullptr, nullptr);
  }
  /* Keep the object alive across the call even if JS drops the wrapper. */
  self->AddRef();
  bool ok = CallNativeMethod(cx, args, self, decl, index, m);
  self->Release();
  if (ok && IsEventLoopMethod(decl, m))
    RunJobs(cx); /* promise jobs run after each event */
  if (gRt->quitRequested)
    return false;
  return ok;
}

static bool WN_ReadOnlySetter(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JSObject *callee = &args.callee();
  const XPTInterfaceInfo *info = static_cast<const XPTInterfaceInfo *>(
      js::GetFunctionNativeReserved(callee, FN_SLOT_INFO).toPrivate());
  uint16_t index = (uint16_t)js::GetFunctionNativeReserved(callee, FN_SLOT_INDEX).toInt32();
  const XPTInterfaceInfo *decl = info;
  const XPTMethodDescriptor *m = MethodAt(info, index, &decl);
  return ThrowResult(cx, NS_ERROR_XPC_CANT_SET_READ_ONLY_ATTRIBUTE,
                     "Cannot set a read-only attribute", decl ? decl->name : info->name,
                     m ? m->name : nullptr);
}

static JSObject *NewMemberFunction(JSContext *cx, JSNative native, unsigned nargs,
                                   const char *name, const XPTInterfaceInfo *info,
                                   uint16_t index)
{
  JSFunction *fun = js::NewFunctionWithReserved(cx, native, nargs, 0, name);
  if (!fun)
    return nullptr;
  JSObject *obj = JS_GetFunctionObject(fun);
  js::SetFunctionNativeReserved(obj, FN_SLOT_INFO,
                                JS::PrivateValue(const_cast<XPTInterfaceInfo *>(info)));
  js::SetFunctionNativeReserved(obj, FN_SLOT_INDEX, JS::Int32Value(index));
  return obj;
}

static bool WN_QueryInterface(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  NativeWrapper *w = ThisWrapper(cx, args);
  if (!w)
    return false;
  nsID iid;
  if (!ValueToID(cx, args.get(0), &iid))
    return ThrowResult(cx, NS_ERROR_XPC_BAD_CONVERT_JS,
                       "Could not convert JavaScript argument arg 0", "nsISupports",
                       "QueryInterface");
  nsISupports *p = nullptr;
  nsresult rv = WrapperQI(w, iid, &p);
  if (NS_FAILED(rv))
    return ThrowResult(cx, rv, nullptr, "nsISupports", "QueryInterface");
  args.rval().set(args.thisv());
  return true;
}

static bool WN_toString(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  NativeWrapper *w = ThisWrapper(cx, args);
  if (!w)
    return false;
  std::vector<const char *> names;
  for (Tearoff &t : w->tearoffs)
    if (t.info && strcmp(t.info->name, "nsISupports") != 0)
      names.push_back(t.info->name);
  std::string s = "[xpconnect wrapped ";
  if (names.empty()) {
    s += "nsISupports";
  } else if (names.size() == 1) {
    s += names[0];
  } else {
    s += "(";
    for (size_t i = 0; i < names.size(); i++) {
      if (i)
        s += ", ";
      s += names[i];
    }
    s += ")";
  }
  s += "]";
  JSString *str = JS_NewStringCopyN(cx, s.data(), s.size());
  if (!str)
    return false;
  args.rval().setString(str);
  return true;
}

static unsigned JSArgCount(const XPTMethodDescriptor *m)
{
  unsigned n = m->num_args;
  if (n > 0 && (m->params[n - 1].flags & XPT_PD_RETVAL))
    n--;
  return n;
}

static bool Scriptable(const XPTMethodDescriptor *m)
{
  return !(m->flags & (XPT_MD_HIDDEN | XPT_MD_NOTXPCOM));
}

static bool ResolveMember(JSContext *cx, JS::HandleObject obj, JS::HandleId id,
                          const XPTInterfaceInfo *info, const char *name, bool *resolved)
{
  uint16_t index = 0;
  const XPTMethodDescriptor *m = XPT_FindMethod(info, name, false, &index);
  if (m && Scriptable(m)) {
    if (m->flags & XPT_MD_GETTER) {
      JS::RootedObject getter(cx, NewMemberFunction(cx, WN_Call, 0, name, info, index));
      if (!getter)
        return false;
      uint16_t sindex = 0;
      const XPTMethodDescriptor *sm = XPT_FindMethod(info, name, true, &sindex);
      JS::RootedObject setter(cx);
      if (sm && (sm->flags & XPT_MD_SETTER) && Scriptable(sm))
        setter = NewMemberFunction(cx, WN_Call, 1, name, info, sindex);
      else
        setter = NewMemberFunction(cx, WN_ReadOnlySetter, 1, name, info, index);
      if (!setter)
        return false;
      if (!JS_DefinePropertyById(cx, obj, id, getter, setter, JSPROP_ENUMERATE))
        return false;
    } else {
      JS::RootedObject fn(cx, NewMemberFunction(cx, WN_Call, JSArgCount(m), name, info, index));
      if (!fn || !JS_DefinePropertyById(cx, obj, id, fn, JSPROP_ENUMERATE))
        return false;
    }
    *resolved = true;
    return true;
  }
  if (const XPTConstDescriptor *c = XPT_FindConstant(info, name)) {
    JS::RootedValue v(cx, JS::NumberValue((double)c->value));
    if (!JS_DefinePropertyById(cx, obj, id, v, JSPROP_ENUMERATE | JSPROP_READONLY))
      return false;
    *resolved = true;
  }
  return true;
}

static bool WN_resolve(JSContext *cx, JS::HandleObject obj, JS::HandleId id, bool *resolved)
{
  *resolved = false;
  if (!id.isString())
    return true;
  NativeWrapper *w = UnwrapNative(obj);
  if (!w)
    return true;
  JS::RootedString str(cx, id.toString());
  JS::UniqueChars name = JS_EncodeStringToUTF8(cx, str);
  if (!name)
    return false;
  if (strcmp(name.get(), "QueryInterface") == 0 || strcmp(name.get(), "toString") == 0) {
    bool qi = name.get()[0] == 'Q';
    JSFunction *f = JS_DefineFunctionById(cx, obj, id, qi ? WN_QueryInterface : WN_toString,
                                          qi ? 1 : 0, 0);
    if (!f)
      return false;
    *resolved = true;
    return true;
  }
  /* Index loop: resolving may QI and grow the vector. */
  for (size_t i = 0; i < w->tearoffs.size(); i++) {
    const XPTInterfaceInfo *info = w->tearoffs[i].info;
    if (!info)
      continue;
    if (!ResolveMember(cx, obj, id, info, name.get(), resolved))
      return false;
    if (*resolved)
      return true;
  }
  return true;
}

static bool WN_enumerate(JSContext *cx, JS::HandleObject obj, JS::MutableHandleIdVector props,
                         bool)
{
  NativeWrapper *w = UnwrapNative(obj);
  if (!w)
    return true;
  std::vector<std::string> names;
  auto add = [&names](const char *n) {
    for (const std::string &s : names)
      if (s == n)
        return;
    names.push_back(n);
  };
  add("QueryInterface");
  for (Tearoff &t : w->tearoffs)
    for (const XPTInterfaceInfo *i = t.info; i; i = XPT_GetParent(i)) {
      for (uint16_t k = 0; k < i->num_methods; k++)
        if (Scriptable(&i->methods[k]))
          add(i->methods[k].name);
      for (uint16_t k = 0; k < i->num_constants; k++)
        add(i->constants[k].name);
    }
  for (const std::string &n : names) {
    JS::RootedString s(cx, JS_NewStringCopyZ(cx, n.c_str()));
    JS::RootedId pid(cx);
    if (!s || !JS_StringToId(cx, s, &pid) || !props.append(pid))
      return false;
  }
  return true;
}

static const JSClassOps kWrappedNativeOps = {
    nullptr, nullptr, nullptr, WN_enumerate, WN_resolve, nullptr, WN_finalize,
    nullptr, nullptr, nullptr};

const JSClass WrappedNativeClass = {
    "XPCWrappedNative", JSCLASS_HAS_RESERVED_SLOTS(WN_SLOTS) | JSCLASS_FOREGROUND_FINALIZE,
    &kWrappedNativeOps};

/* ---- wrapping ------------------------------------------------------------------------ */

bool WrapNative(JSContext *cx, nsISupports *p, const nsID &iid, JS::MutableHandleValue out)
{
  if (!p) {
    out.setNull();
    return true;
  }
  if (JSObject *obj = UnwrapJS(p)) {
    out.setObject(*obj);
    return JS_WrapValue(cx, out);
  }
  nsISupports *ident = nullptr;
  if (NS_FAILED(p->QueryInterface(nsISupports_IID, (void **)&ident)) || !ident) {
    ident = p; /* a broken QI: use the pointer itself */
    p->AddRef();
  }
  const XPTInterfaceInfo *info = XPT_GetInterfaceByIID(&iid);
  auto it = gRt->natives.find(ident);
  if (it != gRt->natives.end()) {
    NativeWrapper *w = it->second;
    JSObject *obj = w->flat; /* read barrier: the object may be handed out */
    if (obj) {
      ident->Release(); /* the wrapper holds its own reference */
      if (info) {
        bool found = false;
        for (Tearoff &t : w->tearoffs)
          if (t.info == info) {
            found = true;
            break;
          }
        if (!found) {
          p->AddRef();
          w->tearoffs.push_back(Tearoff{info, p});
        }
      }
      out.setObject(*obj);
      return true;
    }
  }
  NativeWrapper *w = new NativeWrapper();
  w->identity = ident;
  if (info) {
    p->AddRef();
    w->tearoffs.push_back(Tearoff{info, p});
  }
  JSObject *obj = JS_NewObject(cx, &WrappedNativeClass);
  if (!obj) {
    for (Tearoff &t : w->tearoffs)
      t.ptr->Release();
    ident->Release();
    delete w;
    return false;
  }
  xpcom_leak_ctor("XPCWrappedNative", sizeof(NativeWrapper));
  JS::SetReservedSlot(obj, WN_SLOT_WRAPPER, JS::PrivateValue(w));
  w->flat = obj;
  gRt->natives[ident] = w;
  out.setObject(*obj);
  return true;
}

} /* namespace jsb */
