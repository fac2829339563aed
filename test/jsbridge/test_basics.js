/* The shell and Components: globals, IDs, results, classes, errors. */
_testName = "test_basics";

check(typeof print === "function" && typeof dump === "function" &&
      typeof quit === "function" && typeof load === "function", "shell functions");
check(Array.isArray(arguments), "arguments is an array");
eq(Cc, Components.classes, "Cc");
eq(Ci, Components.interfaces, "Ci");
eq(Cr, Components.results, "Cr");
eq(Cu, Components.utils, "Cu");

/* interfaces */
eq(Ci.nsISupports.number, "{00000000-0000-0000-c000-000000000046}", "nsISupports IID");
eq(Ci.nsISupports.name, "nsISupports", "interface name");
eq(String(Ci.nsIObserver), "nsIObserver", "interface toString");
eq(Ci.nsITimer.TYPE_REPEATING_PRECISE, 2, "interface constant");
eq(Ci.nsIWebSocketChannel.CLOSE_NORMAL, 1000, "channel constant");
eq(Ci.nsINoSuchInterface, undefined, "unknown interface is undefined");
eq(Ci.nsIIOServiceInternal, undefined, "non-scriptable interface hidden");
eq(Ci.nsIObserver, Ci.nsIObserver, "interface objects are unique");
eq(Components.interfacesByID[Ci.nsIObserver.number], Ci.nsIObserver, "interfacesByID");
check(Object.keys(Ci).includes("nsIWebSocketChannel"), "Ci enumerates");

/* IDs */
const id = Components.ID("{00000000-0000-0000-C000-000000000046}");
check(id.equals(Ci.nsISupports), "Components.ID equals interface");
eq(id.number, "{00000000-0000-0000-c000-000000000046}", "ID number is lower case");
eq(String(Components.ID("12345678-1234-1234-1234-123456789abc")),
   "{12345678-1234-1234-1234-123456789abc}", "ID without braces");
throwsResult(() => Components.ID("nope"), Cr.NS_ERROR_XPC_BAD_ID_STRING, "bad ID string");

/* results */
eq(Cr.NS_OK, 0, "NS_OK");
eq(Cr.NS_ERROR_FAILURE, 0x80004005, "NS_ERROR_FAILURE");
eq(Cr.NS_NOINTERFACE, 0x80004002, "NS_NOINTERFACE");
eq(Cr.NS_ERROR_NO_INTERFACE, 0x80004002, "NS_ERROR_NO_INTERFACE");
eq(Cr.NS_ERROR_XPC_BAD_CONVERT_JS, 0x80570009, "NS_ERROR_XPC_BAD_CONVERT_JS");
check(Components.isSuccessCode(0) && !Components.isSuccessCode(Cr.NS_ERROR_FAILURE),
      "isSuccessCode");

/* classes */
eq(Cc["@mozilla.org/no/such;1"], undefined, "unknown contract is undefined");
const ocls = Cc["@mozilla.org/observer-service;1"];
eq(ocls.name, "@mozilla.org/observer-service;1", "class name");
const obs = ocls.getService(Ci.nsIObserverService);
eq(obs, ocls.getService(Ci.nsIObserverService), "getService gives the same wrapper");
check(obs instanceof Ci.nsIObserverService, "instanceof");
check(!(obs instanceof Ci.nsITimer), "instanceof fails for other interfaces");
eq(String(obs), "[xpconnect wrapped nsIObserverService]", "wrapper toString");
const t1 = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
const t2 = Cc["@mozilla.org/timer;1"].createInstance(Ci.nsITimer);
check(t1 !== t2, "createInstance gives new objects");
const sup = Cc["@mozilla.org/timer;1"].createInstance();
check(!("cancel" in sup) || typeof sup.cancel === "undefined", "nsISupports only before QI");
eq(sup.QueryInterface(Ci.nsITimer), sup, "QueryInterface returns the same object");
eq(typeof sup.cancel, "function", "QI'd members appear (flattening)");
const e = throwsResult(() => sup.QueryInterface(Ci.nsIObserverService), Cr.NS_NOINTERFACE,
                       "QI failure");
eq(e && e.message,
   "Component returned failure code: 0x80004002 (NS_NOINTERFACE) [nsISupports.QueryInterface]",
   "QI failure message");

/* Components.Exception / stack */
const ex = new Components.Exception("boom", Cr.NS_ERROR_ABORT);
eq(ex.result, Cr.NS_ERROR_ABORT, "Exception result");
eq(ex.message, "boom", "Exception message");
eq(ex.name, "NS_ERROR_ABORT", "Exception name");
check(/test_basics\.js$/.test(ex.filename), "Exception filename");
eq(Components.Exception("x").result, Cr.NS_ERROR_FAILURE, "Exception default result");
eq(Components.Exception("x", {result: Cr.NS_ERROR_ABORT}).result, Cr.NS_ERROR_ABORT,
   "Exception options form");
const here = Components.stack;
check(/test_basics\.js$/.test(here.filename) && here.lineNumber > 0, "Components.stack");
function inner() { return Components.stack.caller.lineNumber; }
const callLine = Components.stack.lineNumber + 1;
eq(inner(), callLine, "stack.caller");
eq(Components.stack.name, null, "top-level frame has no name");
eq((function named() { return Components.stack.name; })(), "named", "frame name");

/* modules */
const {Services: S2} = ChromeUtils.import("resource://gre/modules/Services.jsm");
eq(S2, Services, "ChromeUtils.import Services.jsm");
check(typeof XPCOMUtils.defineLazyGetter === "function", "XPCOMUtils");

finish();
