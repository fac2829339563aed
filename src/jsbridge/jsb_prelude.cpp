/*
 * jsb_prelude.cpp — the part of the bridge written in JavaScript, run once
 * in the global at start: Components.Exception / stack / Constructor /
 * utils, the Cc/Ci/Cr/Cu shorthands, ChromeUtils, XPCOMUtils and Services.
 *
 * It is a function expression called with (natives, global); natives are
 * the few C++ helpers it needs (captureStack, errorName, forceGC,
 * printErr, engineVersion, preludeFile). It returns {makeException} for
 * the C++ side (XPConnect exceptions thrown from C++). Globals it defines are writable and configurable, so a test
 * saying `const Cc = Components.classes;` at top level (as Gecko's older
 * tests do) simply shadows them.
 */
#include "jsb_private.h"

namespace jsb {

const char kPreludeSource[] = R"JS((function (N, global) {
"use strict";
const C = global.Components;
const Ci = C.interfaces, Cr = C.results, Cc = C.classes;
const PRELUDE = N.preludeFile;

/* The innermost frame that is not ours. */
function userFrame() {
  let f = N.captureStack();
  while (f && f.source === PRELUDE)
    f = f.parent;
  return f;
}

/* nsIStackFrame, over a SavedFrame. */
class StackFrame {
  constructor(f) { Object.defineProperty(this, "_f", {value: f}); }
  get filename() { return this._f.source; }
  get fileName() { return this._f.source; }
  get lineNumber() { return this._f.line; }
  get columnNumber() { return this._f.column; }
  get name() { return this._f.functionDisplayName; }
  get caller() { return this._f.parent ? new StackFrame(this._f.parent) : null; }
  get asyncCaller() { return this._f.asyncParent ? new StackFrame(this._f.asyncParent) : null; }
  get language() { return 2; }
  get languageName() { return "JavaScript"; }
  get sourceLine() { return ""; }
  get formattedStack() { return String(this._f); }
  toString() {
    return `JS frame :: ${this.filename} :: ${this.name || "anonymous"} :: line ${this.lineNumber}`;
  }
}

function hex(rv) { return "0x" + (rv >>> 0).toString(16).padStart(8, "0"); }

/* Components.Exception(message = "exception", result = NS_ERROR_FAILURE
 * | {result, stack, data}, stack, data). */
function Exception(message, result, stack, data) {
  if (!new.target)
    return new Exception(message, result, stack, data);
  if (result !== null && typeof result === "object") {
    const o = result;
    result = o.result; stack = o.stack; data = o.data;
  }
  const frame = stack instanceof StackFrame ? stack._f : userFrame();
  const rv = result === undefined ? Cr.NS_ERROR_FAILURE : result >>> 0;
  const props = {
    message: message === undefined ? "exception" : String(message),
    result: rv,
    name: N.errorName(rv) || "",
    filename: frame ? frame.source : "",
    lineNumber: frame ? frame.line : 0,
    columnNumber: frame ? frame.column : 0,
    location: frame ? new StackFrame(frame) : null,
    stack: frame ? String(frame) : "",
    data: data === undefined ? null : data,
    inner: null,
  };
  for (const k of Object.keys(props))
    Object.defineProperty(this, k, {value: props[k], writable: true, configurable: true,
                                    enumerable: true});
}
Exception.prototype.toString = function () {
  const loc = this.location ? String(this.location) : "<unknown>";
  return `[Exception... "${this.message}"  nsresult: "${hex(this.result)} (${this.name})"  ` +
         `location: "${loc}"  data: ${this.data ? "yes" : "no"}]`;
};
Object.defineProperty(Exception.prototype, Symbol.toStringTag, {value: "Exception"});

function makeException(message, result) { return new Exception(message, result); }

function describe(e) {
  if (e && typeof e === "object") {
    const file = e.filename || e.fileName || "";
    const line = e.lineNumber || 0;
    return `${file}, line ${line}: ${e.message !== undefined ? e.message : String(e)}`;
  }
  return String(e);
}
function reportError(e) {
  N.printErr("JavaScript error: " + describe(e) + "\n");
  if (e && typeof e === "object" && e.stack)
    N.printErr(String(e.stack).replace(/^(?=.)/gm, "  ") + "\n");
}

function Constructor(cls, iface, init) {
  const c = typeof cls === "string" ? Cc[cls] : cls;
  if (!c)
    throw new Exception("Unknown class " + cls, Cr.NS_ERROR_XPC_BAD_CID);
  const iid = typeof iface === "string" ? Ci[iface] : (iface || Ci.nsISupports);
  return function (...args) {
    const o = c.createInstance(iid);
    if (init)
      o[init](...args);
    return o;
  };
}

function generateQI(list) {
  const iids = (list || []).map(i => typeof i === "string" ? Ci[i] : i).filter(Boolean);
  return function QueryInterface(iid) {
    if (iid && (iid.equals(Ci.nsISupports) || iids.some(x => iid.equals(x))))
      return this;
    throw new Exception("Component does not support " + iid, Cr.NS_ERROR_NO_INTERFACE);
  };
}

function defineLazyGetter(obj, name, fn) {
  Object.defineProperty(obj, name, {
    get() {
      const value = fn.call(obj);
      Object.defineProperty(obj, name, {value, writable: true, configurable: true,
                                        enumerable: true});
      return value;
    },
    set(value) {
      Object.defineProperty(obj, name, {value, writable: true, configurable: true,
                                        enumerable: true});
    },
    configurable: true,
    enumerable: true,
  });
}

/* ---- Services ---- */
const Services = {};
function service(contract, ...ifaces) {
  const cls = Cc[contract];
  if (!cls)
    throw new Exception("No service " + contract, Cr.NS_ERROR_FACTORY_NOT_REGISTERED);
  const s = cls.getService(Ci[ifaces[0]]);
  for (const i of ifaces.slice(1))
    if (Ci[i])
      try { s.QueryInterface(Ci[i]); } catch (e) {}
  return s;
}
defineLazyGetter(Services, "io", () => service("@mozilla.org/network/io-service;1", "nsIIOService"));
defineLazyGetter(Services, "prefs", () =>
  service("@mozilla.org/preferences-service;1", "nsIPrefBranch", "nsIPrefService"));
defineLazyGetter(Services, "obs", () =>
  service("@mozilla.org/observer-service;1", "nsIObserverService"));
defineLazyGetter(Services, "tm", () => {
  const tm = service("@mozilla.org/thread-manager;1", "nsIThreadManager");
  /* Helpers of later Gecko versions, as expandos (Services keeps tm alive). */
  tm.spinEventLoopUntil = function (reasonOrCondition, condition) {
    const cond = typeof reasonOrCondition === "function" ? reasonOrCondition : condition;
    const thread = tm.currentThread;
    while (!cond())
      thread.processNextEvent(true);
  };
  tm.spinEventLoopUntilOrQuit = tm.spinEventLoopUntil;
  tm.spinEventLoopUntilEmpty = function () {
    const thread = tm.currentThread;
    while (thread.hasPendingEvents())
      thread.processNextEvent(false);
  };
  tm.dispatchToMainThread = function (runnable) {
    tm.mainThread.dispatch(runnable, Ci.nsIEventTarget.DISPATCH_NORMAL);
  };
  tm.idleDispatchToMainThread = function (runnable) { tm.dispatchToMainThread(runnable); };
  return tm;
});
defineLazyGetter(Services, "appinfo", () => ({
  name: "xpcshell", ID: "xpcshell@tests.mozilla.org", version: "1.0",
  platformVersion: N.engineVersion, appBuildID: "0", platformBuildID: "0",
  OS: "Linux", XPCOMABI: "x86_64-gcc3", widgetToolkit: "headless",
  processType: 0, PROCESS_TYPE_DEFAULT: 0, inSafeMode: false,
  QueryInterface: generateQI([]),
}));

/* ---- modules ---- */
const XPCOMUtils = {
  generateQI,
  defineLazyGetter,
  defineLazyServiceGetter(obj, name, contract, iface) {
    defineLazyGetter(obj, name, () => Cc[contract].getService(Ci[iface] || iface));
  },
  defineLazyServiceGetters(obj, map) {
    for (const [name, [contract, iface]] of Object.entries(map))
      XPCOMUtils.defineLazyServiceGetter(obj, name, contract, iface);
  },
  defineLazyModuleGetter(obj, name, url, symbol) {
    defineLazyGetter(obj, name, () => ChromeUtils.import(url)[symbol || name]);
  },
  defineLazyModuleGetters(obj, map) {
    for (const [name, url] of Object.entries(map))
      XPCOMUtils.defineLazyModuleGetter(obj, name, url);
  },
  defineLazyPreferenceGetter(obj, name, pref, dflt) {
    defineLazyGetter(obj, name, () => {
      const p = Services.prefs;
      try {
        switch (p.getPrefType(pref)) {
          case p.PREF_BOOL: return p.getBoolPref(pref);
          case p.PREF_INT: return p.getIntPref(pref);
          case p.PREF_STRING: return p.getCharPref(pref);
        }
      } catch (e) {}
      return dflt;
    });
  },
};

const modules = {
  "Services": () => ({Services}),
  "XPCOMUtils": () => ({XPCOMUtils}),
};
function moduleExports(url) {
  const m = /([A-Za-z0-9_]+)\.(jsm|sys\.mjs|js)$/.exec(String(url));
  const f = m && modules[m[1]];
  if (!f)
    throw new Exception("Failed to load " + url, Cr.NS_ERROR_FILE_NOT_FOUND);
  return f();
}

const ChromeUtils = {
  import(url, target) {
    const exports = moduleExports(url);
    if (target)
      Object.assign(target, exports);
    return exports;
  },
  importESModule(url) { return moduleExports(url); },
  generateQI,
  defineLazyGetter,
  defineModuleGetter(obj, name, url) { XPCOMUtils.defineLazyModuleGetter(obj, name, url); },
  defineESModuleGetters(obj, map) {
    for (const [name, url] of Object.entries(map))
      defineLazyGetter(obj, name, () => moduleExports(url)[name]);
  },
};

const Cu = {
  import(url, target) {
    /* Gecko's old form: without a target the symbols land in the global. */
    return ChromeUtils.import(url, target === undefined ? global : target);
  },
  reportError,
  forceGC() { N.forceGC(); },
  forceCC() {},
  forceShrinkingGC() { N.forceGC(); },
  schedulePreciseGC(callback) {
    N.forceGC();
    if (callback)
      Services.tm.dispatchToMainThread(callback);
  },
  now() { return Date.now(); },
  getGlobalForObject() { return global; },
  isDeadWrapper() { return false; },
  waiveXrays(o) { return o; },
  unwaiveXrays(o) { return o; },
  get Sandbox() { throw new Exception("Sandbox is not supported", Cr.NS_ERROR_NOT_IMPLEMENTED); },
};

function define(obj, name, value) {
  Object.defineProperty(obj, name, {value, writable: true, configurable: true, enumerable: true});
}
define(C, "Exception", Exception);
define(C, "Constructor", Constructor);
define(C, "utils", Cu);
Object.defineProperty(C, "stack", {
  get() { const f = userFrame(); return f ? new StackFrame(f) : null; },
  configurable: true, enumerable: true,
});
for (const [name, value] of Object.entries({
       Cc, Ci, Cr, Cu, Cm: C.manager, Services, ChromeUtils, XPCOMUtils}))
  define(global, name, value);

return {makeException};
}))JS";

} /* namespace jsb */
