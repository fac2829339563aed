/*
 * jsb_components.cpp — the Components object and its parts: ID objects
 * (Components.ID, Ci.nsIFoo, Cc["@x;1"]), Components.interfaces /
 * interfacesByID, classes / classesByID, results, manager, isSuccessCode;
 * and XPConnect exceptions in both directions.
 *
 * ID objects share one layout: reserved slots 0-3 hold the 16 bytes of the
 * nsID, slot 4 the interface's XPTInterfaceInfo (static data) for
 * interface objects, slot 5 the contract ID string for class objects.
 */
#include "jsb_private.h"

#include <js/Symbol.h>

#include <cstdio>
#include <cstring>

#include "nsIComponentManager.h"
#include "nsIComponentRegistrar.h"
#include "nsIServiceManager.h"

namespace jsb {

enum { SLOT_ID0, SLOT_ID1, SLOT_ID2, SLOT_ID3, SLOT_INFO, SLOT_CONTRACT, ID_SLOTS };

static const JSClass kIDClass = {"nsJSID", JSCLASS_HAS_RESERVED_SLOTS(ID_SLOTS)};
static const JSClass kIIDClass = {"nsJSIID", JSCLASS_HAS_RESERVED_SLOTS(ID_SLOTS)};
static const JSClass kCIDClass = {"nsJSCID", JSCLASS_HAS_RESERVED_SLOTS(ID_SLOTS)};

static bool IsIDObject(JSObject *obj)
{
  const JSClass *c = JS::GetClass(obj);
  return c == &kIDClass || c == &kIIDClass || c == &kCIDClass;
}

static void StoreID(JSObject *obj, const nsID &id)
{
  uint32_t w[4];
  static_assert(sizeof w == sizeof(nsID), "nsID is 16 bytes");
  memcpy(w, &id, sizeof w);
  for (int i = 0; i < 4; i++)
    JS::SetReservedSlot(obj, SLOT_ID0 + i, JS::Int32Value((int32_t)w[i]));
}

static nsID LoadID(JSObject *obj)
{
  uint32_t w[4];
  for (int i = 0; i < 4; i++)
    w[i] = (uint32_t)JS::GetReservedSlot(obj, SLOT_ID0 + i).toInt32();
  nsID id;
  memcpy(&id, w, sizeof id);
  return id;
}

static const XPTInterfaceInfo *LoadInfo(JSObject *obj)
{
  JS::Value v = JS::GetReservedSlot(obj, SLOT_INFO);
  return v.isUndefined() ? nullptr : static_cast<const XPTInterfaceInfo *>(v.toPrivate());
}

bool ValueToID(JSContext *cx, JS::HandleValue v, nsID *out)
{
  if (v.isObject() && IsIDObject(&v.toObject())) {
    *out = LoadID(&v.toObject());
    return true;
  }
  if (v.isString()) {
    JS::RootedString s(cx, v.toString());
    JS::UniqueChars u = JS_EncodeStringToUTF8(cx, s);
    if (!u) {
      JS_ClearPendingException(cx);
      return false;
    }
    return nsID_Parse(out, u.get());
  }
  return false;
}

static JSObject *NewIDOfClass(JSContext *cx, const JSClass *cls, JS::HandleObject proto,
                              const nsID &id)
{
  JSObject *obj = JS_NewObjectWithGivenProto(cx, cls, proto);
  if (obj)
    StoreID(obj, id);
  return obj;
}

bool NewIDObject(JSContext *cx, const nsID &id, JS::MutableHandleValue out)
{
  JSObject *obj = NewIDOfClass(cx, &kIDClass, gRt->idProto, id);
  if (!obj)
    return false;
  out.setObject(*obj);
  return true;
}

static bool DefineConstants(JSContext *cx, JS::HandleObject obj, const XPTInterfaceInfo *info)
{
  for (const XPTInterfaceInfo *i = info; i; i = XPT_GetParent(i)) {
    for (uint16_t k = 0; k < i->num_constants; k++) {
      const XPTConstDescriptor &c = i->constants[k];
      JS::RootedValue v(cx, JS::NumberValue((double)c.value));
      if (!JS_DefineProperty(cx, obj, c.name, v,
                             JSPROP_ENUMERATE | JSPROP_READONLY | JSPROP_PERMANENT))
        return false;
    }
  }
  return true;
}

static JSObject *CreateInterfaceObject(JSContext *cx, const XPTInterfaceInfo *info)
{
  JS::RootedObject obj(cx, NewIDOfClass(cx, &kIIDClass, gRt->iidProto, info->iid));
  if (!obj)
    return nullptr;
  JS::SetReservedSlot(obj, SLOT_INFO, JS::PrivateValue(const_cast<XPTInterfaceInfo *>(info)));
  if (!DefineConstants(cx, obj, info))
    return nullptr;
  return obj;
}

bool NewInterfaceObject(JSContext *cx, const XPTInterfaceInfo *info, JS::MutableHandleValue out)
{
  /* Scriptable interfaces: the one object Ci holds, so that identity
   * comparisons (iid == Ci.nsIFoo) work in JS QueryInterface functions. */
  if ((info->flags & XPT_ID_SCRIPTABLE) && gRt->interfaces) {
    if (!JS_GetProperty(cx, gRt->interfaces, info->name, out))
      return false;
    if (out.isObject())
      return true;
  }
  JSObject *obj = CreateInterfaceObject(cx, info);
  if (!obj)
    return false;
  out.setObject(*obj);
  return true;
}

bool IIDToValue(JSContext *cx, const nsID &iid, JS::MutableHandleValue out)
{
  const XPTInterfaceInfo *info = XPT_GetInterfaceByIID(&iid);
  if (info)
    return NewInterfaceObject(cx, info, out);
  return NewIDObject(cx, iid, out);
}

/* ---- ID prototype methods ------------------------------------------------ */

static JSObject *ThisID(JSContext *cx, const JS::CallArgs &args, const char *method)
{
  if (!args.thisv().isObject() || !IsIDObject(&args.thisv().toObject())) {
    JS_ReportErrorASCII(cx, "nsJSID.%s called on an incompatible object", method);
    return nullptr;
  }
  return &args.thisv().toObject();
}

static bool SetStringRval(JSContext *cx, const JS::CallArgs &args, const char *s)
{
  JSString *str = JS_NewStringCopyZ(cx, s);
  if (!str)
    return false;
  args.rval().setString(str);
  return true;
}

static bool ID_equals(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JSObject *self = ThisID(cx, args, "equals");
  if (!self)
    return false;
  nsID a = LoadID(self), b;
  args.rval().setBoolean(ValueToID(cx, args.get(0), &b) && nsID_Equals(&a, &b));
  return true;
}

static bool ID_number(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JSObject *self = ThisID(cx, args, "number");
  if (!self)
    return false;
  nsID id = LoadID(self);
  char buf[NSID_LENGTH];
  nsID_ToString(&id, buf);
  return SetStringRval(cx, args, buf);
}

static bool ID_name(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JSObject *self = ThisID(cx, args, "name");
  if (!self)
    return false;
  if (const XPTInterfaceInfo *info = LoadInfo(self))
    return SetStringRval(cx, args, info->name);
  JS::Value c = JS::GetReservedSlot(self, SLOT_CONTRACT);
  if (c.isString()) {
    args.rval().set(c);
    return true;
  }
  nsID id = LoadID(self);
  char buf[NSID_LENGTH];
  nsID_ToString(&id, buf);
  return SetStringRval(cx, args, buf);
}

static bool ID_toString(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JSObject *self = ThisID(cx, args, "toString");
  if (!self)
    return false;
  if (JS::GetClass(self) == &kIDClass)
    return ID_number(cx, argc, vp);
  return ID_name(cx, argc, vp);
}

static bool ID_valid(JSContext *, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  args.rval().setBoolean(true);
  return true;
}

/* Ci.nsIFoo[Symbol.hasInstance](v): v is a wrapped native answering QI. */
static bool IID_hasInstance(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JSObject *self = ThisID(cx, args, "hasInstance");
  if (!self)
    return false;
  bool result = false;
  if (args.get(0).isObject()) {
    nsID iid = LoadID(self);
    JSObject *obj = &args[0].toObject();
    if (NativeWrapper *w = UnwrapNative(obj)) {
      nsISupports *p = nullptr;
      result = NS_SUCCEEDED(WrapperQI(w, iid, &p));
    }
  }
  args.rval().setBoolean(result);
  return true;
}

static bool CID_contract(JSObject *self, JSContext *cx, std::string *contract)
{
  JS::Value c = JS::GetReservedSlot(self, SLOT_CONTRACT);
  if (!c.isString())
    return false;
  JS::RootedString s(cx, c.toString());
  JS::UniqueChars u = JS_EncodeStringToUTF8(cx, s);
  if (!u)
    return false;
  *contract = u.get();
  return true;
}

static bool CID_create(JSContext *cx, unsigned argc, JS::Value *vp, bool service)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  const char *what = service ? "getService" : "createInstance";
  JSObject *self = ThisID(cx, args, what);
  if (!self)
    return false;
  nsID iid = nsISupports_IID;
  if (args.length() > 0 && !args[0].isUndefined() && !ValueToID(cx, args[0], &iid))
    return ThrowResult(cx, NS_ERROR_XPC_BAD_CONVERT_JS,
                       "Could not convert JavaScript argument arg 0", "nsIJSCID", what);
  nsID cid = LoadID(self);
  std::string contract;
  bool haveContract = CID_contract(self, cx, &contract);
  nsISupports *result = nullptr;
  nsresult rv;
  if (service) {
    nsIServiceManager *sm = nullptr;
    rv = NS_GetServiceManager(&sm);
    if (NS_SUCCEEDED(rv)) {
      rv = haveContract ? sm->GetServiceByContractID(contract.c_str(), iid, (void **)&result)
                        : sm->GetService(cid, iid, (void **)&result);
      sm->Release();
    }
  } else {
    nsIComponentManager *cm = nullptr;
    rv = NS_GetComponentManager(&cm);
    if (NS_SUCCEEDED(rv)) {
      rv = haveContract
               ? cm->CreateInstanceByContractID(contract.c_str(), nullptr, iid, (void **)&result)
               : cm->CreateInstance(cid, nullptr, iid, (void **)&result);
      cm->Release();
    }
  }
  if (NS_FAILED(rv) || !result)
    return ThrowResult(cx,
                       service ? NS_ERROR_XPC_GS_RETURNED_FAILURE
                               : NS_ERROR_XPC_CI_RETURNED_FAILURE,
                       nullptr, "nsIJSCID", what);
  bool ok = WrapNative(cx, result, iid, args.rval());
  result->Release();
  return ok;
}

static bool CID_createInstance(JSContext *cx, unsigned argc, JS::Value *vp)
{
  return CID_create(cx, argc, vp, false);
}

static bool CID_getService(JSContext *cx, unsigned argc, JS::Value *vp)
{
  return CID_create(cx, argc, vp, true);
}

static const JSFunctionSpec kIDMethods[] = {
    JS_FN("equals", ID_equals, 1, JSPROP_ENUMERATE),
    JS_FN("toString", ID_toString, 0, 0), JS_FS_END};
static const JSPropertySpec kIDProps[] = {
    JS_PSG("number", ID_number, JSPROP_ENUMERATE),
    JS_PSG("name", ID_name, JSPROP_ENUMERATE),
    JS_PSG("valid", ID_valid, JSPROP_ENUMERATE), JS_PS_END};
static const JSFunctionSpec kCIDMethods[] = {
    JS_FN("createInstance", CID_createInstance, 1, JSPROP_ENUMERATE),
    JS_FN("getService", CID_getService, 1, JSPROP_ENUMERATE), JS_FS_END};

/* ---- Components.interfaces / interfacesByID -------------------------------- */

static bool IsScriptable(const XPTInterfaceInfo *info)
{
  return info && (info->flags & XPT_ID_SCRIPTABLE);
}

static bool IdToUTF8(JSContext *cx, JS::HandleId id, std::string *out)
{
  if (!id.isString())
    return false;
  JS::RootedString s(cx, id.toString());
  JS::UniqueChars u = JS_EncodeStringToUTF8(cx, s);
  if (!u)
    return false;
  *out = u.get();
  return true;
}

static bool DefineIIDProp(JSContext *cx, JS::HandleObject obj, JS::HandleId id,
                          const XPTInterfaceInfo *info, bool *resolved)
{
  JS::RootedObject iface(cx);
  /* interfacesByID shares the objects of interfaces (one per interface). */
  if (obj != gRt->interfaces && gRt->interfaces) {
    JS::RootedValue v(cx);
    if (!JS_GetProperty(cx, gRt->interfaces, info->name, &v))
      return false;
    if (v.isObject())
      iface = &v.toObject();
  }
  if (!iface)
    iface = CreateInterfaceObject(cx, info);
  if (!iface)
    return false;
  if (!JS_DefinePropertyById(cx, obj, id, iface,
                             JSPROP_ENUMERATE | JSPROP_READONLY | JSPROP_PERMANENT))
    return false;
  *resolved = true;
  return true;
}

static bool Interfaces_resolve(JSContext *cx, JS::HandleObject obj, JS::HandleId id,
                               bool *resolved)
{
  *resolved = false;
  std::string name;
  if (!IdToUTF8(cx, id, &name))
    return true;
  const XPTInterfaceInfo *info = XPT_GetInterfaceByName(name.c_str());
  if (!IsScriptable(info))
    return true;
  return DefineIIDProp(cx, obj, id, info, resolved);
}

static bool InterfacesByID_resolve(JSContext *cx, JS::HandleObject obj, JS::HandleId id,
                                   bool *resolved)
{
  *resolved = false;
  std::string name;
  nsID iid;
  if (!IdToUTF8(cx, id, &name) || !nsID_Parse(&iid, name.c_str()))
    return true;
  const XPTInterfaceInfo *info = XPT_GetInterfaceByIID(&iid);
  if (!IsScriptable(info))
    return true;
  return DefineIIDProp(cx, obj, id, info, resolved);
}

struct EnumState {
  std::vector<std::string> names;
  bool byID;
};

static void CollectInterface(const XPTInterfaceInfo *info, void *closure)
{
  EnumState *st = static_cast<EnumState *>(closure);
  if (!IsScriptable(info))
    return;
  if (st->byID) {
    char buf[NSID_LENGTH];
    nsID_ToString(&info->iid, buf);
    st->names.push_back(buf);
  } else {
    st->names.push_back(info->name);
  }
}

static bool EnumerateInterfaces(JSContext *cx, JS::MutableHandleIdVector props, bool byID)
{
  EnumState st;
  st.byID = byID;
  XPT_ForEachInterface(CollectInterface, &st);
  for (const std::string &n : st.names) {
    JS::RootedString s(cx, JS_NewStringCopyZ(cx, n.c_str()));
    JS::RootedId id(cx);
    if (!s || !JS_StringToId(cx, s, &id) || !props.append(id))
      return false;
  }
  return true;
}

static bool Interfaces_enumerate(JSContext *cx, JS::HandleObject, JS::MutableHandleIdVector props,
                                 bool)
{
  return EnumerateInterfaces(cx, props, false);
}

static bool InterfacesByID_enumerate(JSContext *cx, JS::HandleObject,
                                     JS::MutableHandleIdVector props, bool)
{
  return EnumerateInterfaces(cx, props, true);
}

static const JSClassOps kInterfacesOps = {nullptr, nullptr, nullptr, Interfaces_enumerate,
                                          Interfaces_resolve};
static const JSClass kInterfacesClass = {"nsXPCComponents_Interfaces", 0, &kInterfacesOps};
static const JSClassOps kInterfacesByIDOps = {nullptr, nullptr, nullptr,
                                              InterfacesByID_enumerate, InterfacesByID_resolve};
static const JSClass kInterfacesByIDClass = {"nsXPCComponents_InterfacesByID", 0,
                                             &kInterfacesByIDOps};

/* ---- Components.classes / classesByID ----------------------------------------- */

static nsIComponentRegistrar *GetRegistrar()
{
  nsIComponentRegistrar *reg = nullptr;
  if (NS_FAILED(NS_GetComponentRegistrar(&reg)))
    return nullptr;
  return reg;
}

static bool DefineCIDProp(JSContext *cx, JS::HandleObject obj, JS::HandleId id, const nsCID &cid,
                          const char *contract, bool *resolved)
{
  JS::RootedObject c(cx, NewIDOfClass(cx, &kCIDClass, gRt->cidProto, cid));
  if (!c)
    return false;
  if (contract) {
    JSString *s = JS_NewStringCopyZ(cx, contract);
    if (!s)
      return false;
    JS::SetReservedSlot(c, SLOT_CONTRACT, JS::StringValue(s));
  }
  if (!JS_DefinePropertyById(cx, obj, id, c, JSPROP_ENUMERATE | JSPROP_READONLY))
    return false;
  *resolved = true;
  return true;
}

static bool Classes_resolve(JSContext *cx, JS::HandleObject obj, JS::HandleId id, bool *resolved)
{
  *resolved = false;
  std::string name;
  if (!IdToUTF8(cx, id, &name) || name.empty() || name[0] == '{')
    return true;
  nsIComponentRegistrar *reg = GetRegistrar();
  if (!reg)
    return true;
  bool registered = false;
  nsCID *cid = nullptr;
  if (NS_SUCCEEDED(reg->IsContractIDRegistered(name.c_str(), &registered)) && registered)
    reg->ContractIDToCID(name.c_str(), &cid);
  reg->Release();
  if (!cid)
    return true;
  nsCID copy = *cid;
  NS_Free(cid);
  return DefineCIDProp(cx, obj, id, copy, name.c_str(), resolved);
}

static bool ClassesByID_resolve(JSContext *cx, JS::HandleObject obj, JS::HandleId id,
                                bool *resolved)
{
  *resolved = false;
  std::string name;
  nsCID cid;
  if (!IdToUTF8(cx, id, &name) || !nsID_Parse(&cid, name.c_str()))
    return true;
  nsIComponentRegistrar *reg = GetRegistrar();
  if (!reg)
    return true;
  bool registered = false;
  nsresult rv = reg->IsCIDRegistered(cid, &registered);
  reg->Release();
  if (NS_FAILED(rv) || !registered)
    return true;
  return DefineCIDProp(cx, obj, id, cid, nullptr, resolved);
}

static const JSClassOps kClassesOps = {nullptr, nullptr, nullptr, nullptr, Classes_resolve};
static const JSClass kClassesClass = {"nsXPCComponents_Classes", 0, &kClassesOps};
static const JSClassOps kClassesByIDOps = {nullptr, nullptr, nullptr, nullptr,
                                           ClassesByID_resolve};
static const JSClass kClassesByIDClass = {"nsXPCComponents_ClassesByID", 0, &kClassesByIDOps};

/* ---- Components.ID / isSuccessCode ------------------------------------------- */

static bool Components_ID(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  nsID id;
  if (!args.get(0).isString() || !ValueToID(cx, args[0], &id))
    return ThrowResult(cx, NS_ERROR_XPC_BAD_ID_STRING, "Bad ID string", "nsIXPCComponents",
                       "ID");
  return NewIDObject(cx, id, args.rval());
}

static bool Components_isSuccessCode(JSContext *cx, unsigned argc, JS::Value *vp)
{
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  uint32_t rv = 0;
  if (!JS::ToUint32(cx, args.get(0), &rv))
    return false;
  args.rval().setBoolean(NS_SUCCEEDED(rv));
  return true;
}

/* ---- exceptions ---------------------------------------------------------------- */

bool ThrowResult(JSContext *cx, nsresult rv, const char *msg, const char *iface,
                 const char *method)
{
  char buf[512];
  if (!msg) {
    const char *name = XPCOM_ErrorName(rv);
    if (name)
      snprintf(buf, sizeof buf, "Component returned failure code: 0x%08x (%s)", rv, name);
    else
      snprintf(buf, sizeof buf, "Component returned failure code: 0x%08x", rv);
    msg = buf;
  }
  std::string full = msg;
  if (iface) {
    full += " [";
    full += iface;
    if (method) {
      full += ".";
      full += method;
    }
    full += "]";
  }
  if (!gRt || !gRt->makeException) {
    JS_ReportErrorUTF8(cx, "%s", full.c_str());
    return false;
  }
  JS::RootedValueArray<2> argv(cx);
  JSString *s = NewStringFromUTF8(cx, full.data(), full.size());
  if (!s)
    return false;
  argv[0].setString(s);
  argv[1].setNumber((double)rv);
  JS::RootedValue exc(cx);
  JS::RootedValue fn(cx, JS::ObjectValue(*gRt->makeException));
  if (!JS::Call(cx, JS::UndefinedHandleValue, fn, argv, &exc))
    return false;
  JS_SetPendingException(cx, exc);
  return false;
}

nsresult PendingExceptionToResult(JSContext *cx, const char *iface, const char *method)
{
  if (!JS_IsExceptionPending(cx))
    return NS_ERROR_FAILURE; /* uncatchable (quit, out of memory) */
  JS::ExceptionStack es(cx);
  if (!JS::StealPendingExceptionStack(cx, &es)) {
    JS_ClearPendingException(cx);
    return NS_ERROR_FAILURE;
  }
  JS::RootedValue exn(cx, es.exception());
  nsresult rv;
  bool report = true;
  if (exn.isNumber()) {
    double d = exn.toNumber();
    if (d >= 0 && d <= 4294967295.0 && d == (double)(uint32_t)d &&
        NS_FAILED((uint32_t)d)) {
      rv = (uint32_t)d;
      report = false;
    } else {
      rv = NS_ERROR_XPC_JS_THREW_NUMBER;
    }
  } else if (exn.isNullOrUndefined()) {
    rv = NS_ERROR_XPC_JS_THREW_NULL;
  } else if (exn.isString()) {
    rv = NS_ERROR_XPC_JS_THREW_STRING;
  } else if (exn.isObject()) {
    JS::RootedObject obj(cx, &exn.toObject());
    JS::RootedValue r(cx);
    bool hasResult = false;
    if (!JS_ErrorFromException(cx, obj)) {
      if (JS_GetProperty(cx, obj, "result", &r) && r.isNumber()) {
        double d = r.toNumber();
        if (d >= 0 && d <= 4294967295.0 && d == (double)(uint32_t)d) {
          rv = (uint32_t)d;
          hasResult = true;
          report = false;
        }
      }
      JS_ClearPendingException(cx);
    }
    if (!hasResult)
      rv = JS_ErrorFromException(cx, obj) ? NS_ERROR_XPC_JAVASCRIPT_ERROR_WITH_DETAILS
                                          : NS_ERROR_XPC_JS_THREW_JS_OBJECT;
  } else {
    rv = NS_ERROR_XPC_JS_THREW_JS_OBJECT;
  }
  if (report) {
    std::string prefix = "JavaScript error";
    if (iface) {
      prefix += " (in ";
      prefix += iface;
      if (method) {
        prefix += ".";
        prefix += method;
      }
      prefix += ")";
    }
    JS::SetPendingExceptionStack(cx, es);
    ReportPendingException(cx, prefix.c_str());
  }
  if (NS_SUCCEEDED(rv))
    rv = NS_ERROR_FAILURE; /* a thrown success code is still a failure */
  return rv;
}

/* ---- setup --------------------------------------------------------------------- */

static bool DefineResults(JSContext *cx, JS::HandleObject results)
{
#define NS_ERROR_ENTRY(name, value)                                                  \
  if (!JS_DefineProperty(cx, results, #name, (double)(uint32_t)(value),              \
                         JSPROP_ENUMERATE | JSPROP_READONLY | JSPROP_PERMANENT))     \
    return false;
#include "nsErrorList.h"
#undef NS_ERROR_ENTRY
  return true;
}

bool InitComponents(JSContext *cx, JS::HandleObject global)
{
  JS::RootedObject idProto(cx, JS_NewPlainObject(cx));
  if (!idProto || !JS_DefineFunctions(cx, idProto, kIDMethods) ||
      !JS_DefineProperties(cx, idProto, kIDProps))
    return false;
  gRt->idProto.init(cx, idProto);
  JS::RootedObject iidProto(cx, JS_NewObjectWithGivenProto(cx, nullptr, idProto));
  if (!iidProto)
    return false;
  JS::RootedId hasInstance(cx, JS::PropertyKey::Symbol(
                                   JS::GetWellKnownSymbol(cx, JS::SymbolCode::hasInstance)));
  if (!JS_DefineFunctionById(cx, iidProto, hasInstance, IID_hasInstance, 1, 0))
    return false;
  gRt->iidProto.init(cx, iidProto);
  JS::RootedObject cidProto(cx, JS_NewObjectWithGivenProto(cx, nullptr, idProto));
  if (!cidProto || !JS_DefineFunctions(cx, cidProto, kCIDMethods))
    return false;
  gRt->cidProto.init(cx, cidProto);

  JS::RootedObject components(cx, JS_NewPlainObject(cx));
  JS::RootedObject interfaces(cx, JS_NewObject(cx, &kInterfacesClass));
  JS::RootedObject interfacesByID(cx, JS_NewObject(cx, &kInterfacesByIDClass));
  JS::RootedObject classes(cx, JS_NewObject(cx, &kClassesClass));
  JS::RootedObject classesByID(cx, JS_NewObject(cx, &kClassesByIDClass));
  JS::RootedObject results(cx, JS_NewPlainObject(cx));
  if (!components || !interfaces || !interfacesByID || !classes || !classesByID || !results)
    return false;
  gRt->interfaces.init(cx, interfaces);
  gRt->classes.init(cx, classes);
  gRt->results.init(cx, results);
  if (!DefineResults(cx, results))
    return false;
  const unsigned ro = JSPROP_ENUMERATE | JSPROP_READONLY | JSPROP_PERMANENT;
  if (!JS_DefineProperty(cx, components, "interfaces", interfaces, ro) ||
      !JS_DefineProperty(cx, components, "interfacesByID", interfacesByID, ro) ||
      !JS_DefineProperty(cx, components, "classes", classes, ro) ||
      !JS_DefineProperty(cx, components, "classesByID", classesByID, ro) ||
      !JS_DefineProperty(cx, components, "results", results, ro) ||
      !JS_DefineFunction(cx, components, "ID", Components_ID, 1, JSPROP_ENUMERATE) ||
      !JS_DefineFunction(cx, components, "isSuccessCode", Components_isSuccessCode, 1,
                         JSPROP_ENUMERATE))
    return false;

  nsIComponentManager *cm = nullptr;
  if (NS_SUCCEEDED(NS_GetComponentManager(&cm))) {
    JS::RootedValue mgr(cx);
    bool ok = WrapNative(cx, cm, nsIComponentManager::GetIID(), &mgr);
    cm->Release();
    if (!ok || !JS_DefineProperty(cx, components, "manager", mgr, ro))
      return false;
  }
  return JS_DefineProperty(cx, global, "Components", components, JSPROP_ENUMERATE);
}

} /* namespace jsb */
