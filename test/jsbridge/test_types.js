/* JS -> native: every XPIDL type as in, inout and retval (the C test
 * component: result = b's old value, b = a), out parameters, arrays,
 * sized strings, iid_is, attributes, optional arguments, bad conversions. */
_testName = "test_types";

const t = Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest);
check(t instanceof Ci.nsIJSBridgeTest, "test component");
eq(Ci.nsIJSBridgeTest.ULONG_CONST, 4000000000, "unsigned long constant");
eq(Ci.nsIJSBridgeTest.SHORT_CONST, -2, "short constant");
eq(t.LONGLONG_CONST, -1, "constants on instances");

function roundtrip(method, a, b, expectA, expectB, label) {
  const box = {value: b};
  const r = t[method](a, box);
  eq(r, expectB === undefined ? b : expectB, `${label || method}: retval`);
  eq(box.value, expectA === undefined ? a : expectA, `${label || method}: inout`);
}

roundtrip("testBoolean", true, false);
roundtrip("testBoolean", 0, "x", false, true, "testBoolean ToBoolean");
roundtrip("testOctet", 200, 7);
roundtrip("testOctet", 257, -1, 1, 255, "testOctet wraps");
roundtrip("testShort", -300, 5);
roundtrip("testShort", 40000, 0, 40000 - 65536, 0, "testShort wraps");
roundtrip("testLong", -100000, 42);
roundtrip("testLong", 2 ** 31, 1.9, -(2 ** 31), 1, "testLong ToInt32");
roundtrip("testUnsignedShort", 65000, 3);
roundtrip("testUnsignedLong", 4000000000, 1);
roundtrip("testUnsignedLong", -1, 0, 4294967295, 0, "testUnsignedLong wraps");
roundtrip("testFloat", 1.5, 2.5);
roundtrip("testFloat", 0.1, 0, Math.fround(0.1), 0, "testFloat rounds to float");
roundtrip("testDouble", 0.1, 3.25, Math.fround(0.1), 3.25);
roundtrip("testDouble", NaN, Infinity, NaN, Infinity, "testDouble NaN/Infinity");

/* 64-bit: Numbers up to 2^53, BigInt beyond; nothing rounds silently. */
roundtrip("testLongLong", -(2 ** 53), 2 ** 40);
roundtrip("testLongLong", -(2n ** 63n), 5n, -(2n ** 63n), 5, "testLongLong BigInt");
roundtrip("testLongLong", 2n ** 63n - 1n, 0, 2n ** 63n - 1n, 0, "testLongLong max");
roundtrip("testUnsignedLongLong", 2n ** 64n - 1n, 2 ** 53, 2n ** 64n - 1n, 2 ** 53,
          "testUnsignedLongLong max");
roundtrip("testUnsignedLongLong", 2n ** 53n + 1n, 0, 2n ** 53n + 1n, 0,
          "testUnsignedLongLong above 2^53 comes back as BigInt");
roundtrip("testUnsignedLongLong", 2 ** 53, 0, 2 ** 53, 0, "2^53 is still a Number");
throwsResult(() => t.testUnsignedLongLong(2 ** 53 + 2, {value: 0}),
             Cr.NS_ERROR_XPC_BAD_CONVERT_JS, "Number above 2^53 refused (may be rounded)");
throwsResult(() => t.testLongLong(2 ** 60, {value: 0}), Cr.NS_ERROR_XPC_BAD_CONVERT_JS,
             "Number beyond 2^53 refused");
throwsResult(() => t.testLongLong(2n ** 63n, {value: 0}), Cr.NS_ERROR_XPC_BAD_CONVERT_JS,
             "BigInt beyond int64 refused");
throwsResult(() => t.testUnsignedLongLong(-1n, {value: 0}), Cr.NS_ERROR_XPC_BAD_CONVERT_JS,
             "negative BigInt refused for unsigned");
throwsResult(() => t.testLong(1n, {value: 0}), Cr.NS_ERROR_XPC_BAD_CONVERT_JS,
             "BigInt refused for 32-bit");

roundtrip("testChar", "x", "y");
roundtrip("testChar", "\xff", "\0");
throwsResult(() => t.testChar("\u263a", {value: "a"}), Cr.NS_ERROR_XPC_BAD_CONVERT_JS,
             "char beyond 0xFF refused");
roundtrip("testWchar", "\u263a", "\u20ac");

roundtrip("testString", "h\u00e9 \u263a", "old");
roundtrip("testString", null, "x");
roundtrip("testString", undefined, "x", null, "x", "testString undefined is NULL");
roundtrip("testString", 42, null, "42", null, "testString ToString");
roundtrip("testWstring", "w\u263a\ud83d\ude00", "o");
roundtrip("testWstring", null, "");
roundtrip("testAString", "ab\u263a\ud83d\ude00", "old");
roundtrip("testAString", null, "", null, "", "testAString void <-> null");
roundtrip("testAString", "lone \ud800 surrogate", "");
roundtrip("testDOMString", "dom", "x");
roundtrip("testUTF8String", "\u00e9\u20ac\ud83d\ude00", "x");
roundtrip("testUTF8String", "", null);
// The ASCII check reads 64, 32 and 8 bytes at a time: one non-ASCII character
// at every position of strings around those sizes takes the UTF-8 path.
for (const n of [1, 7, 8, 9, 31, 32, 33, 40, 63, 64, 65, 70, 130]) {
  const ascii = "a".repeat(n);
  roundtrip("testUTF8String", ascii, "x");
  for (let at = 0; at < n; at++)
    roundtrip("testUTF8String", ascii.slice(0, at) + "\u00e9" + ascii.slice(at + 1), "x");
}
roundtrip("testUTF8String", "lone \ud800", "", "lone \ufffd", "",
          "testUTF8String lone surrogate becomes U+FFFD");
let bytes = "";
for (let i = 0; i < 256; i++)
  bytes += String.fromCharCode(i);
roundtrip("testACString", bytes, "zz");
roundtrip("testACString", "\u0141", "", "\x41", "", "testACString keeps the low byte (Gecko)");

/* nsID */
{
  const box = {value: Ci.nsISupports};
  const r = t.testID(Ci.nsIJSBridgeTest, box);
  check(r.equals(Ci.nsISupports), "testID: retval");
  check(box.value.equals(Ci.nsIJSBridgeTest), "testID: inout");
  const s = t.testID("{ba2d7219-b9fd-44fa-a72b-995afc0bb61d}", {value: null});
  eq(s, null, "testID: null inout comes back null");
  throwsResult(() => t.testID(5, {value: null}), Cr.NS_ERROR_XPC_BAD_CONVERT_JS,
               "testID bad value");
}

/* interfaces: identity both ways */
{
  const other = Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest);
  const box = {value: other};
  const r = t.testInterface(t, box);
  eq(r, other, "testInterface: native comes back as the same wrapper");
  eq(box.value, t, "testInterface: inout");
  const js = {foo: 1};
  const box2 = {value: null};
  t.testInterface(js, box2);
  eq(box2.value, js, "testInterface: a JS object comes back as itself");
  throwsResult(() => t.testInterface(5, {value: null}), Cr.NS_ERROR_XPC_BAD_CONVERT_JS,
               "testInterface primitive refused");
}

/* outs */
{
  const b = {}, c = {}, d = {}, e = {}, f = {}, g = {}, h = {};
  t.testOuts(9, b, c, d, e, f, g, h);
  eq(b.value, true, "out boolean");
  eq(c.value, 9 * 2 ** 40, "out long long");
  eq(d.value, 9.5, "out double");
  eq(e.value, "9", "out string");
  eq(f.value, "9", "out AString");
  eq(g.value, "\x00\xff\x09", "out ACString bytes");
  eq(h.value, t, "out interface (identity)");
  throwsResult(() => t.testOuts(1, 5, c, d, e, f, g, h), Cr.NS_ERROR_XPC_NEED_OUT_OBJECT,
               "out parameter needs an object");
}

/* more arguments than registers */
eq(t.testMixed(1, 2.5, 3.5, 4, 5, 6.5, 7.5, 8.5, 9.5, 10.5, 11, 12.5, 13, 14.5, -15),
   1 + 2.5 + 3.5 + 4 + 5 + 6.5 + 7.5 + 8.5 + 9.5 + 10.5 + 11 + 12.5 + 13 + 14.5 - 15,
   "testMixed");

/* arrays */
{
  const bLen = {value: 2}, b = {value: [9, 8]}, rvLen = {};
  const rv = t.testLongArray(3, [1, -2, 3], bLen, b, rvLen);
  deq(rv, [9, 8], "long array retval");
  eq(rvLen.value, 2, "long array retval length");
  deq(b.value, [1, -2, 3], "long array inout");
  eq(bLen.value, 3, "long array inout length");
  deq(t.testDoubleArray(3, [0.5, 1.5, -2], {}), [-2, 1.5, 0.5], "double array");
  deq(t.testStringArray(3, ["a", "\u263a", null], {}), [null, "\u263a", "a"], "string array");
  deq(t.testLongArray(0, [], {value: 0}, {value: []}, {}), [], "empty array");
  const arr = t.testInterfaceArray(2, [t, null], {});
  eq(arr.length, 2, "interface array length");
  eq(arr[0], null, "interface array null");
  eq(arr[1], t, "interface array element identity");
  throwsResult(() => t.testDoubleArray(3, [1, 2], {}), Cr.NS_ERROR_XPC_NOT_ENOUGH_ELEMENTS_IN_ARRAY,
               "array shorter than size_is");
  throwsResult(() => t.testDoubleArray(1, 5, {}), Cr.NS_ERROR_XPC_CANT_CONVERT_PRIMITIVE_TO_ARRAY,
               "primitive for an array");
  throwsResult(() => t.testDoubleArray(1, {}, {}), Cr.NS_ERROR_XPC_CANT_CONVERT_OBJECT_TO_ARRAY,
               "non-array object for an array");
  eq(t.testSizedString(3, "abc", {}), "cba", "sized string");
  eq(t.testSizedString(3, "a\0b", {}), "b\0a", "sized string with NUL");
  eq(t.testSizedWstring(2, "\u263a\u20ac", {}), "\u20ac\u263a", "sized wstring");
  const iid = {};
  const same = t.testInterfaceIs(Ci.nsIJSBridgeTest, t, iid);
  eq(same, t, "iid_is retval identity");
  check(iid.value.equals(Ci.nsIJSBridgeTest), "iid_is out IID");
  const obs = {observe() {}};
  eq(t.testInterfaceIs(Ci.nsIObserver, obs, {}), obs, "iid_is with a JS object");
}

/* attributes */
eq(t.longAttr, 0, "attribute initial");
t.longAttr = -7;
eq(t.longAttr, -7, "attribute set");
eq(t.readonlyAttr, "read only \u263a", "readonly attribute");
throwsResult(() => { t.readonlyAttr = "x"; }, Cr.NS_ERROR_XPC_CANT_SET_READ_ONLY_ATTRIBUTE,
             "readonly attribute refuses assignment");
eq(t.readonlyAttr, "read only \u263a", "readonly attribute unchanged");
t.utf8Attr = "\u00e9t\u00e9 \ud83d\ude00";
eq(t.utf8Attr, "\u00e9t\u00e9 \ud83d\ude00", "AUTF8String attribute");

/* failures and arguments */
const e = throwsResult(() => t.fail(Cr.NS_ERROR_NOT_AVAILABLE), Cr.NS_ERROR_NOT_AVAILABLE,
                       "failure code");
eq(e && e.message,
   "Component returned failure code: 0x80040111 (NS_ERROR_NOT_AVAILABLE) [nsIJSBridgeTest.fail]",
   "failure message");
eq(e && e.name, "NS_ERROR_NOT_AVAILABLE", "failure name");
check(e && /test_types\.js$/.test(e.filename) && e.lineNumber > 0, "failure location");
t.fail(0); /* success codes do not throw */
t.fail(0x00460001); /* nor do other success codes */
throwsResult(() => t.testLong(1), Cr.NS_ERROR_XPC_NOT_ENOUGH_ARGS, "missing argument");
eq(t.optionalArg(2), 2, "optional argument omitted");
eq(t.optionalArg(2, 3), 5, "optional argument given");
throwsResult(() => t.testAString.call({}, "a", {}), Cr.NS_ERROR_XPC_BAD_OP_ON_WN_PROTO,
             "method on a foreign this");

/* methods move between wrappers of the same interface */
const t2 = Cc["@wschannel.test/jsbridge;1"].createInstance(Ci.nsIJSBridgeTest);
t2.longAttr = 3;
eq(Object.getOwnPropertyDescriptor(t, "longAttr").get.call(t2), 3, "getter on another wrapper");

finish();
