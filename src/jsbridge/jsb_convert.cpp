/*
 * jsb_convert.cpp — JS values <-> native values for every XPT type.
 *
 * Choices (Gecko's unless noted):
 *  - 8/16/32-bit integers: ECMAScript ToInt32/ToUint32, truncated.
 *  - 64-bit integers (our choice, no silent rounding): JS -> native takes
 *    a BigInt in range, or a Number whose integer part is within ±2^53;
 *    anything else throws NS_ERROR_XPC_BAD_CONVERT_JS. Native -> JS gives
 *    a Number when |v| <= 2^53 (exact), a BigInt beyond.
 *  - char: the first code unit of ToString(v), which must be <= 0xFF.
 *  - string (char*): UTF-8 both ways; null/undefined <-> NULL.
 *  - AUTF8String: UTF-8 (lone surrogates become U+FFFD; invalid UTF-8 from
 *    native code decodes to U+FFFD); AString/DOMString: UTF-16;
 *    ACString: bytes <-> code units 0-255, each unit's low byte going to
 *    native (Gecko's lossy copy); null/undefined <-> a void string.
 *  - nsID: ID objects (Components.ID(), Ci.nsIFoo, Cc[...]) or strings.
 *  - interfaces: see WrapNative / WrapJS.
 *  - arrays: JS Arrays of at least size_is elements.
 *  - jsval parameters are not supported (no IDL here uses them).
 */
#include "jsb_private.h"

#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>

namespace jsb {

/* ---- text ------------------------------------------------------------------ */

static void AppendUTF8(std::string &out, uint32_t cp)
{
  if (cp < 0x80) {
    out += (char)cp;
  } else if (cp < 0x800) {
    out += (char)(0xC0 | (cp >> 6));
    out += (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += (char)(0xE0 | (cp >> 12));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  } else {
    out += (char)(0xF0 | (cp >> 18));
    out += (char)(0x80 | ((cp >> 12) & 0x3F));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  }
}

static std::string UTF16ToUTF8(const char16_t *s, size_t n)
{
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; i++) {
    uint32_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      i++;
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD; /* lone surrogate */
    }
    AppendUTF8(out, c);
  }
  return out;
}

/* Decodes UTF-8, replacing each maximal invalid subpart with U+FFFD
 * (Unicode §3.9, the WHATWG decoder's behaviour). */
static std::u16string UTF8ToUTF16(const char *p, size_t n)
{
  const unsigned char *s = reinterpret_cast<const unsigned char *>(p);
  std::u16string out;
  out.reserve(n);
  size_t i = 0;
  while (i < n) {
    unsigned b = s[i];
    if (b < 0x80) {
      out += (char16_t)b;
      i++;
      continue;
    }
    unsigned need, lo = 0x80, hi = 0xBF;
    uint32_t cp;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      cp = b & 0x0F;
      if (b == 0xE0)
        lo = 0xA0;
      else if (b == 0xED)
        hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      cp = b & 0x07;
      if (b == 0xF0)
        lo = 0x90;
      else if (b == 0xF4)
        hi = 0x8F;
    } else {
      out += u'\xFFFD';
      i++;
      continue;
    }
    size_t k = 1;
    for (; k <= need; k++) {
      if (i + k >= n)
        break;
      unsigned c = s[i + k];
      if (c < lo || c > hi)
        break;
      lo = 0x80;
      hi = 0xBF;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (k <= need) {
      out += u'\xFFFD';
      i += k;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += (char16_t)(0xD800 + (cp >> 10));
      out += (char16_t)(0xDC00 + (cp & 0x3FF));
    } else {
      out += (char16_t)cp;
    }
    i += need + 1;
  }
  return out;
}

/* 64 (SSE2) or eight bytes at a time: received text is mostly ASCII, and
 * this scan was a quarter of the script path's time per 1 KiB message
 * byte by byte. */
static bool IsAscii(const char *s, size_t len)
{
  const uint64_t high = 0x8080808080808080ull;
  size_t i = 0;
#if defined(__SSE2__)
  /* 64 bytes per step: one movemask tells whether any top bit is set. */
  for (; i + 64 <= len; i += 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(s + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(s + i + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i *>(s + i + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i *>(s + i + 48));
    if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))))
      return false;
  }
#endif
  for (; i + 32 <= len; i += 32) {
    uint64_t a, b, c, d;
    memcpy(&a, s + i, 8);
    memcpy(&b, s + i + 8, 8);
    memcpy(&c, s + i + 16, 8);
    memcpy(&d, s + i + 24, 8);
    if ((a | b | c | d) & high)
      return false;
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t a;
    memcpy(&a, s + i, 8);
    if (a & high)
      return false;
  }
  for (; i < len; i++)
    if ((unsigned char)s[i] >= 0x80)
      return false;
  return true;
}

JSString *NewStringFromUTF8(JSContext *cx, const char *s, size_t len)
{
  if (IsAscii(s, len))
    return JS_NewStringCopyN(cx, s, len);
  std::u16string u = UTF8ToUTF16(s, len);
  return JS_NewUCStringCopyN(cx, u.data(), u.size());
}

static bool StringChars(JSContext *cx, JSString *str, std::u16string *out)
{
  size_t n = JS_GetStringLength(str);
  out->assign(n, u'\0');
  return JS_CopyStringChars(cx, mozilla::Range<char16_t>(&(*out)[0], n), str);
}

static bool ValueToChars(JSContext *cx, JS::HandleValue v, std::u16string *out)
{
  JS::RootedString s(cx, JS::ToString(cx, v));
  return s && StringChars(cx, s, out);
}

char *ValueToUTF8(JSContext *cx, JS::HandleValue v, size_t *len)
{
  std::u16string chars;
  if (!ValueToChars(cx, v, &chars))
    return nullptr;
  std::string u8 = UTF16ToUTF8(chars.data(), chars.size());
  char *r = static_cast<char *>(NS_Alloc(u8.size() + 1));
  if (!r) {
    JS_ReportOutOfMemory(cx);
    return nullptr;
  }
  memcpy(r, u8.data(), u8.size());
  r[u8.size()] = '\0';
  if (len)
    *len = u8.size();
  return r;
}

/* ---- storage ---------------------------------------------------------------- */

void *StorageFor(ParamStorage &s, const XPTTypeDescriptor &t)
{
  switch (t.tag) {
  case XPT_TD_DOMSTRING:
  case XPT_TD_ASTRING:
    if (!s.inited) {
      NS_StringContainerInit(s.str);
      s.inited = true;
    }
    return &s.str;
  case XPT_TD_UTF8STRING:
  case XPT_TD_CSTRING:
    if (!s.inited) {
      NS_CStringContainerInit(s.cstr);
      s.inited = true;
    }
    return &s.cstr;
  case XPT_TD_PNSIID:
    return (t.flags & XPT_TDF_POINTER) ? static_cast<void *>(&s.v.p) : &s.id;
  default:
    return &s.v;
  }
}

void FinishStorage(ParamStorage &s, const XPTTypeDescriptor &t)
{
  if (!s.inited)
    return;
  if (t.tag == XPT_TD_DOMSTRING || t.tag == XPT_TD_ASTRING)
    NS_StringContainerFinish(s.str);
  else
    NS_CStringContainerFinish(s.cstr);
  s.inited = false;
}

bool TypeNeedsLength(const XPTTypeDescriptor &t)
{
  return t.tag == XPT_TD_ARRAY || t.tag == XPT_TD_PSTRING_SIZE_IS ||
         t.tag == XPT_TD_PWSTRING_SIZE_IS;
}

bool SizedStringLength(const XPTTypeDescriptor &t, const void *storage, uint32_t *len)
{
  if (t.tag == XPT_TD_PSTRING_SIZE_IS) {
    const char *s = *static_cast<char *const *>(storage);
    *len = s ? (uint32_t)strlen(s) : 0;
    return true;
  }
  if (t.tag == XPT_TD_PWSTRING_SIZE_IS) {
    const char16_t *s = *static_cast<char16_t *const *>(storage);
    uint32_t n = 0;
    while (s && s[n])
      n++;
    *len = n;
    return true;
  }
  return false;
}

bool TypeNeedsIID(const XPTTypeDescriptor &t)
{
  if (t.tag == XPT_TD_INTERFACE_IS_TYPE)
    return true;
  return t.tag == XPT_TD_ARRAY && t.element && t.element->tag == XPT_TD_INTERFACE_IS_TYPE;
}

static size_t ElementSize(uint8_t tag)
{
  switch (tag) {
  case XPT_TD_INT8: case XPT_TD_UINT8: case XPT_TD_BOOL: case XPT_TD_CHAR:
    return 1;
  case XPT_TD_INT16: case XPT_TD_UINT16: case XPT_TD_WCHAR:
    return 2;
  case XPT_TD_INT32: case XPT_TD_UINT32: case XPT_TD_FLOAT:
    return 4;
  default:
    return 8;
  }
}

static bool ElementTypeSupported(const XPTTypeDescriptor &e)
{
  switch (e.tag) {
  case XPT_TD_DOMSTRING: case XPT_TD_ASTRING: case XPT_TD_UTF8STRING:
  case XPT_TD_CSTRING: case XPT_TD_ARRAY: case XPT_TD_JSVAL: case XPT_TD_VOID:
  case XPT_TD_PSTRING_SIZE_IS: case XPT_TD_PWSTRING_SIZE_IS:
    return false;
  case XPT_TD_PNSIID:
    return (e.flags & XPT_TDF_POINTER) != 0;
  default:
    return true;
  }
}

static const nsID *TypeIID(const XPTTypeDescriptor &t, const nsID *iid)
{
  if (t.tag == XPT_TD_INTERFACE_TYPE && t.iface) {
    const XPTInterfaceInfo *info = XPT_GetInterfaceByName(t.iface);
    return info ? &info->iid : nullptr;
  }
  return iid;
}

/* ---- JS -> native ------------------------------------------------------------ */

static const double kTwo53 = 9007199254740992.0;

static bool To64(JSContext *cx, JS::HandleValue v, bool isSigned, uint64_t *out, nsresult *err)
{
  if (v.isBigInt()) {
    JS::BigInt *bi = v.toBigInt();
    if (isSigned) {
      int64_t r;
      if (!JS::BigIntFits(bi, &r)) {
        *err = NS_ERROR_XPC_BAD_CONVERT_JS;
        return false;
      }
      *out = (uint64_t)r;
    } else {
      if (!JS::BigIntFits(bi, out)) {
        *err = NS_ERROR_XPC_BAD_CONVERT_JS;
        return false;
      }
    }
    return true;
  }
  double d;
  if (!JS::ToNumber(cx, v, &d)) {
    *err = NS_OK;
    return false;
  }
  if (std::isnan(d)) {
    *out = 0;
    return true;
  }
  d = std::trunc(d);
  if (std::fabs(d) > kTwo53) {
    *err = NS_ERROR_XPC_BAD_CONVERT_JS;
    return false;
  }
  /* Negative values wrap for unsigned types, as ToUint32 does. */
  *out = (uint64_t)(int64_t)d;
  return true;
}

static bool AssignUTF16(nsAString *s, const std::u16string &u)
{
  return NS_SUCCEEDED(xpcom_string_assign(s, u.data(), u.size()));
}

bool JSToNative(JSContext *cx, JS::HandleValue v, const XPTTypeDescriptor &t, void *storage,
                uint32_t len, const nsID *iid, nsresult *err)
{
  *err = NS_ERROR_XPC_BAD_CONVERT_JS;
  switch (t.tag) {
  case XPT_TD_INT8: case XPT_TD_INT16: case XPT_TD_INT32:
  case XPT_TD_UINT8: case XPT_TD_UINT16: case XPT_TD_UINT32: {
    if (v.isBigInt())
      return false;
    int32_t i;
    if (!JS::ToInt32(cx, v, &i)) {
      *err = NS_OK;
      return false;
    }
    switch (t.tag) {
    case XPT_TD_INT8: *static_cast<int8_t *>(storage) = (int8_t)i; break;
    case XPT_TD_INT16: *static_cast<int16_t *>(storage) = (int16_t)i; break;
    case XPT_TD_INT32: *static_cast<int32_t *>(storage) = i; break;
    case XPT_TD_UINT8: *static_cast<uint8_t *>(storage) = (uint8_t)i; break;
    case XPT_TD_UINT16: *static_cast<uint16_t *>(storage) = (uint16_t)i; break;
    default: *static_cast<uint32_t *>(storage) = (uint32_t)i; break;
    }
    return true;
  }
  case XPT_TD_INT64:
  case XPT_TD_UINT64: {
    uint64_t u;
    if (!To64(cx, v, t.tag == XPT_TD_INT64, &u, err))
      return false;
    memcpy(storage, &u, sizeof u);
    return true;
  }
  case XPT_TD_FLOAT:
  case XPT_TD_DOUBLE: {
    if (v.isBigInt())
      return false;
    double d;
    if (!JS::ToNumber(cx, v, &d)) {
      *err = NS_OK;
      return false;
    }
    if (t.tag == XPT_TD_FLOAT)
      *static_cast<float *>(storage) = (float)d;
    else
      *static_cast<double *>(storage) = d;
    return true;
  }
  case XPT_TD_BOOL:
    *static_cast<bool *>(storage) = JS::ToBoolean(v);
    return true;
  case XPT_TD_CHAR:
  case XPT_TD_WCHAR: {
    std::u16string u;
    if (!ValueToChars(cx, v, &u)) {
      *err = NS_OK;
      return false;
    }
    char16_t c = u.empty() ? 0 : u[0];
    if (t.tag == XPT_TD_CHAR) {
      if (c > 0xFF)
        return false;
      *static_cast<char *>(storage) = (char)(unsigned char)c;
    } else {
      *static_cast<char16_t *>(storage) = c;
    }
    return true;
  }
  case XPT_TD_PSTRING:
  case XPT_TD_PSTRING_SIZE_IS: {
    char *r = nullptr;
    if (v.isNullOrUndefined()) {
      if (t.tag == XPT_TD_PSTRING_SIZE_IS && len != 0 && len != UINT32_MAX)
        return false;
    } else {
      size_t n = 0;
      r = ValueToUTF8(cx, v, &n);
      if (!r) {
        *err = NS_OK;
        return false;
      }
      if (t.tag == XPT_TD_PSTRING_SIZE_IS && len != UINT32_MAX) {
        if (n < len) {
          NS_Free(r);
          *err = NS_ERROR_XPC_NOT_ENOUGH_CHARS_IN_STRING;
          return false;
        }
        r[len] = '\0';
      }
    }
    *static_cast<char **>(storage) = r;
    return true;
  }
  case XPT_TD_PWSTRING:
  case XPT_TD_PWSTRING_SIZE_IS: {
    char16_t *r = nullptr;
    if (v.isNullOrUndefined()) {
      if (t.tag == XPT_TD_PWSTRING_SIZE_IS && len != 0 && len != UINT32_MAX)
        return false;
    } else {
      std::u16string u;
      if (!ValueToChars(cx, v, &u)) {
        *err = NS_OK;
        return false;
      }
      size_t n = u.size();
      if (t.tag == XPT_TD_PWSTRING_SIZE_IS && len != UINT32_MAX) {
        if (n < len) {
          *err = NS_ERROR_XPC_NOT_ENOUGH_CHARS_IN_STRING;
          return false;
        }
        n = len;
      }
      r = static_cast<char16_t *>(NS_Alloc((n + 1) * sizeof(char16_t)));
      if (!r) {
        *err = NS_ERROR_OUT_OF_MEMORY;
        return false;
      }
      memcpy(r, u.data(), n * sizeof(char16_t));
      r[n] = 0;
    }
    *static_cast<char16_t **>(storage) = r;
    return true;
  }
  case XPT_TD_DOMSTRING:
  case XPT_TD_ASTRING: {
    nsAString *s = static_cast<nsAString *>(storage);
    if (v.isNullOrUndefined()) {
      NS_StringSetIsVoid(*s, true);
      return true;
    }
    std::u16string u;
    if (!ValueToChars(cx, v, &u)) {
      *err = NS_OK;
      return false;
    }
    if (!AssignUTF16(s, u)) {
      *err = NS_ERROR_OUT_OF_MEMORY;
      return false;
    }
    return true;
  }
  case XPT_TD_UTF8STRING:
  case XPT_TD_CSTRING: {
    nsACString *s = static_cast<nsACString *>(storage);
    if (v.isNullOrUndefined()) {
      NS_CStringSetIsVoid(*s, true);
      return true;
    }
    std::u16string u;
    if (!ValueToChars(cx, v, &u)) {
      *err = NS_OK;
      return false;
    }
    std::string bytes;
    if (t.tag == XPT_TD_UTF8STRING) {
      bytes = UTF16ToUTF8(u.data(), u.size());
    } else {
      bytes.resize(u.size());
      for (size_t i = 0; i < u.size(); i++)
        bytes[i] = (char)(unsigned char)(u[i] & 0xFF);
    }
    if (NS_FAILED(xpcom_cstring_assign(s, bytes.data(), bytes.size()))) {
      *err = NS_ERROR_OUT_OF_MEMORY;
      return false;
    }
    NS_CStringSetIsVoid(*s, false);
    return true;
  }
  case XPT_TD_PNSIID: {
    nsID id;
    /* nsIDPtr may be null; a reference (nsIIDRef) may not. */
    if (v.isNullOrUndefined() && (t.flags & XPT_TDF_POINTER) &&
        !(t.flags & XPT_TDF_REFERENCE)) {
      *static_cast<nsID **>(storage) = nullptr;
      return true;
    }
    if (!ValueToID(cx, v, &id))
      return false;
    if (t.flags & XPT_TDF_POINTER) {
      nsID *p = static_cast<nsID *>(NS_Alloc(sizeof(nsID)));
      if (!p) {
        *err = NS_ERROR_OUT_OF_MEMORY;
        return false;
      }
      *p = id;
      *static_cast<nsID **>(storage) = p;
    } else {
      *static_cast<nsID *>(storage) = id;
    }
    return true;
  }
  case XPT_TD_INTERFACE_TYPE:
  case XPT_TD_INTERFACE_IS_TYPE: {
    *static_cast<void **>(storage) = nullptr;
    if (v.isNullOrUndefined())
      return true;
    if (!v.isObject())
      return false;
    const nsID *want = TypeIID(t, iid);
    if (!want) {
      *err = NS_ERROR_XPC_CANT_GET_PARAM_IFACE_INFO;
      return false;
    }
    JS::RootedObject obj(cx, &v.toObject());
    void *p = nullptr;
    nsresult rv = WrapJS(cx, obj, *want, &p);
    if (NS_FAILED(rv)) {
      *err = JS_IsExceptionPending(cx) ? NS_OK : rv;
      return false;
    }
    *static_cast<void **>(storage) = p;
    return true;
  }
  case XPT_TD_ARRAY: {
    *static_cast<void **>(storage) = nullptr;
    const XPTTypeDescriptor *e = t.element;
    if (!e || !ElementTypeSupported(*e)) {
      *err = NS_ERROR_XPC_CANT_GET_ARRAY_INFO;
      return false;
    }
    if (v.isNullOrUndefined()) {
      if (len != 0 && len != UINT32_MAX)
        return false;
      return true;
    }
    if (!v.isObject()) {
      *err = NS_ERROR_XPC_CANT_CONVERT_PRIMITIVE_TO_ARRAY;
      return false;
    }
    JS::RootedObject arr(cx, &v.toObject());
    bool isArray = false;
    if (!JS::IsArrayObject(cx, arr, &isArray)) {
      *err = NS_OK;
      return false;
    }
    if (!isArray) {
      *err = NS_ERROR_XPC_CANT_CONVERT_OBJECT_TO_ARRAY;
      return false;
    }
    uint32_t have = 0;
    if (!JS::GetArrayLength(cx, arr, &have)) {
      *err = NS_OK;
      return false;
    }
    if (len == UINT32_MAX)
      len = have;
    if (have < len) {
      *err = NS_ERROR_XPC_NOT_ENOUGH_ELEMENTS_IN_ARRAY;
      return false;
    }
    size_t esz = ElementSize(e->tag);
    char *buf = static_cast<char *>(NS_Alloc(esz * (len ? len : 1)));
    if (!buf) {
      *err = NS_ERROR_OUT_OF_MEMORY;
      return false;
    }
    memset(buf, 0, esz * (len ? len : 1));
    JS::RootedValue elem(cx);
    for (uint32_t k = 0; k < len; k++) {
      if (!JS_GetElement(cx, arr, k, &elem) ||
          !JSToNative(cx, elem, *e, buf + k * esz, 0, iid, err)) {
        if (!JS_IsExceptionPending(cx) && *err == NS_OK)
          *err = NS_ERROR_XPC_BAD_CONVERT_JS;
        for (uint32_t j = 0; j < k; j++)
          CleanupValue(*e, buf + j * esz, 0);
        NS_Free(buf);
        return false;
      }
    }
    *static_cast<void **>(storage) = buf;
    return true;
  }
  case XPT_TD_JSVAL:
    *err = NS_ERROR_NOT_IMPLEMENTED;
    return false;
  default:
    return false;
  }
}

/* ---- native -> JS ------------------------------------------------------------ */

static bool SetString(JSString *s, JS::MutableHandleValue out, nsresult *err)
{
  if (!s) {
    *err = NS_OK;
    return false;
  }
  out.setString(s);
  return true;
}

static bool From64(JSContext *cx, uint64_t u, bool isSigned, JS::MutableHandleValue out,
                   nsresult *err)
{
  if (isSigned) {
    int64_t i = (int64_t)u;
    if (i >= -(int64_t)9007199254740992LL && i <= (int64_t)9007199254740992LL) {
      out.setNumber((double)i);
      return true;
    }
    JS::BigInt *bi = JS::NumberToBigInt<int64_t>(cx, i);
    if (!bi) {
      *err = NS_OK;
      return false;
    }
    out.setBigInt(bi);
    return true;
  }
  if (u <= 9007199254740992ULL) {
    out.setNumber((double)u);
    return true;
  }
  JS::BigInt *bi = JS::NumberToBigInt<uint64_t>(cx, u);
  if (!bi) {
    *err = NS_OK;
    return false;
  }
  out.setBigInt(bi);
  return true;
}

bool NativeToJS(JSContext *cx, const XPTTypeDescriptor &t, const void *storage, uint32_t len,
                const nsID *iid, JS::MutableHandleValue out, nsresult *err)
{
  *err = NS_ERROR_XPC_BAD_CONVERT_NATIVE;
  switch (t.tag) {
  case XPT_TD_INT8: out.setInt32(*static_cast<const int8_t *>(storage)); return true;
  case XPT_TD_INT16: out.setInt32(*static_cast<const int16_t *>(storage)); return true;
  case XPT_TD_INT32: out.setInt32(*static_cast<const int32_t *>(storage)); return true;
  case XPT_TD_UINT8: out.setInt32(*static_cast<const uint8_t *>(storage)); return true;
  case XPT_TD_UINT16: out.setInt32(*static_cast<const uint16_t *>(storage)); return true;
  case XPT_TD_UINT32: out.setNumber(*static_cast<const uint32_t *>(storage)); return true;
  case XPT_TD_INT64:
  case XPT_TD_UINT64: {
    uint64_t u;
    memcpy(&u, storage, sizeof u);
    return From64(cx, u, t.tag == XPT_TD_INT64, out, err);
  }
  case XPT_TD_FLOAT:
    out.setNumber(JS::CanonicalizeNaN((double)*static_cast<const float *>(storage)));
    return true;
  case XPT_TD_DOUBLE:
    out.setNumber(JS::CanonicalizeNaN(*static_cast<const double *>(storage)));
    return true;
  case XPT_TD_BOOL:
    /* Read the byte: a C caller may pass any non-zero value as true. */
    out.setBoolean(*static_cast<const uint8_t *>(storage) != 0);
    return true;
  case XPT_TD_CHAR: {
    char c = *static_cast<const char *>(storage);
    return SetString(JS_NewStringCopyN(cx, &c, 1), out, err);
  }
  case XPT_TD_WCHAR: {
    char16_t c = *static_cast<const char16_t *>(storage);
    return SetString(JS_NewUCStringCopyN(cx, &c, 1), out, err);
  }
  case XPT_TD_PSTRING:
  case XPT_TD_PSTRING_SIZE_IS: {
    const char *s = *static_cast<char *const *>(storage);
    if (!s) {
      out.setNull();
      return true;
    }
    size_t n = t.tag == XPT_TD_PSTRING ? strlen(s) : len;
    return SetString(NewStringFromUTF8(cx, s, n), out, err);
  }
  case XPT_TD_PWSTRING:
  case XPT_TD_PWSTRING_SIZE_IS: {
    const char16_t *s = *static_cast<char16_t *const *>(storage);
    if (!s) {
      out.setNull();
      return true;
    }
    size_t n = len;
    if (t.tag == XPT_TD_PWSTRING)
      for (n = 0; s[n]; n++) {
      }
    return SetString(JS_NewUCStringCopyN(cx, s, n), out, err);
  }
  case XPT_TD_DOMSTRING:
  case XPT_TD_ASTRING: {
    const nsAString *s = static_cast<const nsAString *>(storage);
    if (NS_StringGetIsVoid(*s)) {
      out.setNull();
      return true;
    }
    const char16_t *d;
    uint32_t n = xpcom_string_get(s, &d);
    return SetString(JS_NewUCStringCopyN(cx, d, n), out, err);
  }
  case XPT_TD_UTF8STRING:
  case XPT_TD_CSTRING: {
    const nsACString *s = static_cast<const nsACString *>(storage);
    if (NS_CStringGetIsVoid(*s)) {
      out.setNull();
      return true;
    }
    const char *d;
    uint32_t n = xpcom_cstring_get(s, &d);
    if (t.tag == XPT_TD_UTF8STRING)
      return SetString(NewStringFromUTF8(cx, d, n), out, err);
    /* Bytes become code units 0-255 (a Latin-1 string). */
    return SetString(JS_NewStringCopyN(cx, d, n), out, err);
  }
  case XPT_TD_PNSIID: {
    const nsID *id = (t.flags & XPT_TDF_POINTER) ? *static_cast<nsID *const *>(storage)
                                                 : static_cast<const nsID *>(storage);
    if (!id) {
      out.setNull();
      return true;
    }
    bool isIID = t.native && strcmp(t.native, "nsIID") == 0;
    if (!(isIID ? IIDToValue(cx, *id, out) : NewIDObject(cx, *id, out))) {
      *err = NS_OK;
      return false;
    }
    return true;
  }
  case XPT_TD_INTERFACE_TYPE:
  case XPT_TD_INTERFACE_IS_TYPE: {
    nsISupports *p = *static_cast<nsISupports *const *>(storage);
    if (!p) {
      out.setNull();
      return true;
    }
    const nsID *want = TypeIID(t, iid);
    if (!WrapNative(cx, p, want ? *want : nsISupports_IID, out)) {
      *err = NS_OK;
      return false;
    }
    return true;
  }
  case XPT_TD_ARRAY: {
    const char *buf = *static_cast<char *const *>(storage);
    const XPTTypeDescriptor *e = t.element;
    if (!e || !ElementTypeSupported(*e)) {
      *err = NS_ERROR_XPC_CANT_GET_ARRAY_INFO;
      return false;
    }
    if (!buf) {
      out.setNull();
      return true;
    }
    JS::RootedObject arr(cx, JS::NewArrayObject(cx, len));
    if (!arr) {
      *err = NS_OK;
      return false;
    }
    size_t esz = ElementSize(e->tag);
    JS::RootedValue elem(cx);
    for (uint32_t k = 0; k < len; k++) {
      if (!NativeToJS(cx, *e, buf + k * esz, 0, iid, &elem, err))
        return false;
      if (!JS_DefineElement(cx, arr, k, elem, JSPROP_ENUMERATE)) {
        *err = NS_OK;
        return false;
      }
    }
    out.setObject(*arr);
    return true;
  }
  case XPT_TD_JSVAL:
    *err = NS_ERROR_NOT_IMPLEMENTED;
    return false;
  default:
    return false;
  }
}

/* ---- cleanup --------------------------------------------------------------- */

void CleanupValue(const XPTTypeDescriptor &t, void *storage, uint32_t len)
{
  switch (t.tag) {
  case XPT_TD_PSTRING: case XPT_TD_PWSTRING:
  case XPT_TD_PSTRING_SIZE_IS: case XPT_TD_PWSTRING_SIZE_IS: {
    void **p = static_cast<void **>(storage);
    NS_Free(*p);
    *p = nullptr;
    break;
  }
  case XPT_TD_PNSIID:
    if (t.flags & XPT_TDF_POINTER) {
      void **p = static_cast<void **>(storage);
      NS_Free(*p);
      *p = nullptr;
    }
    break;
  case XPT_TD_INTERFACE_TYPE:
  case XPT_TD_INTERFACE_IS_TYPE: {
    nsISupports **p = static_cast<nsISupports **>(storage);
    if (*p)
      (*p)->Release();
    *p = nullptr;
    break;
  }
  case XPT_TD_ARRAY: {
    char **p = static_cast<char **>(storage);
    if (*p && t.element) {
      size_t esz = ElementSize(t.element->tag);
      for (uint32_t k = 0; k < len; k++)
        CleanupValue(*t.element, *p + k * esz, 0);
    }
    NS_Free(*p);
    *p = nullptr;
    break;
  }
  default:
    break; /* scalars; string objects are finished by their owner */
  }
}

} /* namespace jsb */
