/*
 * xpcom_strings.c — the frozen string API over Gecko's 16-byte string
 * layout, for 8-bit (nsACString) and 16-bit (nsAString) strings.
 *
 * Both layouts are {pointer; uint32 length; uint32 flags}. The work is done
 * once, on a local copy (`xstr`) that holds the data pointer as char* and
 * knows its unit size; the public functions load a string into an xstr,
 * operate, and store it back. Nothing here is shared between threads
 * except a Gecko host's nsStringBuffer reference count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nsXPCOMStrings.h"

/* The low 16 bits of mFlags describe the data; Gecko <= 56 keeps class
 * flags (F_CLASS_FIXED = 0x10000) in the high 16, which we preserve. */
#define DATA_FLAGS_MASK 0xffffu
#define CLASS_FLAGS(f) ((f) & ~DATA_FLAGS_MASK)

/* Longest string we make: the length must stay below the UINT32_MAX
 * "count it" sentinel. */
#define MAX_LENGTH ((size_t)UINT32_MAX - 1)

static char empty_cbuf[1];
static char16_t empty_ubuf[1];

typedef struct xstr {
  char *data;    /* first unit; NULL only in a zero-filled, never-inited string */
  uint32_t len;  /* in units */
  uint32_t flags;
  size_t unit;   /* 1 or 2 */
} xstr;

static xstr load_c(const nsACString *s)
{
  xstr x = {s->mData, s->mLength, s->mFlags, 1};
  return x;
}

static xstr load_u(const nsAString *s)
{
  xstr x = {(char *)s->mData, s->mLength, s->mFlags, sizeof(char16_t)};
  return x;
}

static void store_c(nsACString *s, const xstr *x)
{
  s->mData = x->data;
  s->mLength = x->len;
  s->mFlags = x->flags;
}

static void store_u(nsAString *s, const xstr *x)
{
  s->mData = (char16_t *)(void *)x->data;
  s->mLength = x->len;
  s->mFlags = x->flags;
}

static char *empty_for(size_t unit)
{
  return unit == 1 ? empty_cbuf : (char *)empty_ubuf;
}

static const char *data_or_empty(const xstr *x)
{
  return x->data ? x->data : empty_for(x->unit);
}

/* Drops our hold on the current buffer, according to its flags. */
static void release_buffer(xstr *x)
{
  if (!x->data)
    return;
  if (x->flags & NS_STRING_F_SHARED) {
    /* A Gecko nsStringBuffer: {int32 refcount; uint32 storageSize} right
     * before the characters. Other threads may hold references too. */
    char *hdr = x->data - 2 * sizeof(uint32_t);
    int32_t *refcnt = (int32_t *)(void *)hdr;
    if (__atomic_sub_fetch(refcnt, 1, __ATOMIC_ACQ_REL) == 0)
      free(hdr);
  } else if (x->flags & NS_STRING_F_OWNED) {
    free(x->data);
  }
  /* FIXED, LITERAL and dependent buffers belong to someone else. */
}

static void set_empty(xstr *x, uint32_t extra_flags)
{
  release_buffer(x);
  x->data = empty_for(x->unit);
  x->len = 0;
  x->flags = CLASS_FLAGS(x->flags) | NS_STRING_F_TERMINATED | extra_flags;
}

/* Installs buf (malloc'd, len units plus a terminator) as the new buffer. */
static void install_buffer(xstr *x, char *buf, uint32_t len)
{
  if (len == 0) {
    free(buf);
    set_empty(x, 0);
    return;
  }
  release_buffer(x);
  x->data = buf;
  x->len = len;
  x->flags = CLASS_FLAGS(x->flags) | NS_STRING_F_TERMINATED | NS_STRING_F_OWNED;
}

static void terminate(char *buf, size_t unit, size_t len)
{
  memset(buf + len * unit, 0, unit);
}

/* Bytes for len units plus a terminator, or 0 if that is too large. */
static size_t alloc_size(size_t len, size_t unit)
{
  if (len > MAX_LENGTH || len + 1 > SIZE_MAX / unit)
    return 0;
  return (len + 1) * unit;
}

static bool points_into(const xstr *x, const void *p)
{
  if (!x->data || !p)
    return false;
  uintptr_t lo = (uintptr_t)x->data;
  uintptr_t hi = lo + ((size_t)x->len + 1) * x->unit;
  return (uintptr_t)p >= lo && (uintptr_t)p < hi;
}

/*
 * The one mutation: replace units [off, off+cut) with src[0..n).
 * off and cut must already be clamped to the string. src may point into
 * the string itself. On failure *x is unchanged.
 */
static nsresult splice(xstr *x, uint32_t off, uint32_t cut, const void *src,
                       size_t n)
{
  size_t unit = x->unit;
  size_t old_len = x->len;
  if (n > MAX_LENGTH || old_len - cut > MAX_LENGTH - n)
    return NS_ERROR_OUT_OF_MEMORY;
  size_t new_len = old_len - cut + n;
  if (new_len == 0) {
    set_empty(x, 0);
    return NS_OK;
  }
  size_t bytes = alloc_size(new_len, unit);
  if (!bytes)
    return NS_ERROR_OUT_OF_MEMORY;

  /* Appending to a buffer we own, from elsewhere: grow it in place. */
  if ((x->flags & NS_STRING_F_OWNED) && !(x->flags & NS_STRING_F_SHARED) &&
      off == old_len && cut == 0 && !points_into(x, src)) {
    char *grown = realloc(x->data, bytes);
    if (!grown)
      return NS_ERROR_OUT_OF_MEMORY;
    memcpy(grown + old_len * unit, src, n * unit);
    terminate(grown, unit, new_len);
    x->data = grown;
    x->len = (uint32_t)new_len;
    x->flags = CLASS_FLAGS(x->flags) | NS_STRING_F_TERMINATED | NS_STRING_F_OWNED;
    return NS_OK;
  }

  /* Otherwise build the result in a fresh buffer before letting go of the
   * old one, which keeps self-referencing sources valid throughout. */
  char *buf = malloc(bytes);
  if (!buf)
    return NS_ERROR_OUT_OF_MEMORY;
  const char *old = data_or_empty(x);
  memcpy(buf, old, (size_t)off * unit);
  if (n)
    memcpy(buf + (size_t)off * unit, src, n * unit);
  memcpy(buf + ((size_t)off + n) * unit, old + ((size_t)off + cut) * unit,
         (old_len - off - cut) * unit);
  terminate(buf, unit, new_len);
  install_buffer(x, buf, (uint32_t)new_len);
  return NS_OK;
}

static nsresult assign(xstr *x, const void *src, size_t n)
{
  return splice(x, 0, x->len, src, n);
}

/* Resizes to n units (new units zeroed) in a buffer we own. */
static nsresult set_length(xstr *x, size_t n)
{
  size_t unit = x->unit;
  size_t bytes = alloc_size(n, unit);
  if (!bytes)
    return NS_ERROR_OUT_OF_MEMORY;
  size_t old_len = x->len;
  if ((x->flags & NS_STRING_F_OWNED) && !(x->flags & NS_STRING_F_SHARED)) {
    char *buf = realloc(x->data, bytes);
    if (!buf)
      return NS_ERROR_OUT_OF_MEMORY;
    if (n > old_len)
      memset(buf + old_len * unit, 0, (n - old_len) * unit);
    terminate(buf, unit, n);
    x->data = buf;
    x->len = (uint32_t)n;
    x->flags = CLASS_FLAGS(x->flags) | NS_STRING_F_TERMINATED | NS_STRING_F_OWNED;
    return NS_OK;
  }
  char *buf = malloc(bytes);
  if (!buf)
    return NS_ERROR_OUT_OF_MEMORY;
  size_t keep = n < old_len ? n : old_len;
  memcpy(buf, data_or_empty(x), keep * unit);
  memset(buf + keep * unit, 0, (n - keep) * unit);
  terminate(buf, unit, n);
  /* Unlike install_buffer, keep a real buffer even for n == 0: the caller
   * asked for something it may write its terminator into. */
  release_buffer(x);
  x->data = buf;
  x->len = (uint32_t)n;
  x->flags = CLASS_FLAGS(x->flags) | NS_STRING_F_TERMINATED | NS_STRING_F_OWNED;
  return NS_OK;
}

static size_t unit_strlen(const void *p, size_t unit)
{
  if (unit == 1)
    return strlen(p);
  const char16_t *u = p;
  size_t n = 0;
  while (u[n])
    n++;
  return n;
}

/* ---- generic implementations of the public functions ------------------- */

static void g_init(xstr *x)
{
  x->data = empty_for(x->unit);
  x->len = 0;
  x->flags = NS_STRING_F_TERMINATED;
}

static nsresult g_init2(xstr *x, const void *data, uint32_t len, uint32_t flags)
{
  g_init(x);
  if (!data)
    return NS_OK;
  size_t n = len;
  if (len == UINT32_MAX) {
    /* A substring needs its length: its data need not be terminated. */
    if (flags & NS_CSTRING_CONTAINER_INIT_SUBSTRING)
      return NS_ERROR_INVALID_ARG;
    n = unit_strlen(data, x->unit);
    if (n > MAX_LENGTH)
      return NS_ERROR_OUT_OF_MEMORY;
  }
  if (flags & (NS_CSTRING_CONTAINER_INIT_DEPEND | NS_CSTRING_CONTAINER_INIT_ADOPT)) {
    uint32_t f = (flags & NS_CSTRING_CONTAINER_INIT_SUBSTRING) ? 0 : NS_STRING_F_TERMINATED;
    if (flags & NS_CSTRING_CONTAINER_INIT_ADOPT)
      f |= NS_STRING_F_OWNED;
    x->data = (char *)(uintptr_t)data; /* not written: see "copy first" */
    x->len = (uint32_t)n;
    x->flags = f;
    return NS_OK;
  }
  return assign(x, data, n);
}

static uint32_t g_get_mutable(xstr *x, uint32_t len, void **out)
{
  nsresult rv = NS_OK;
  if (len != UINT32_MAX)
    rv = set_length(x, len);
  else if ((x->flags & (NS_STRING_F_OWNED | NS_STRING_F_SHARED | NS_STRING_F_TERMINATED)) !=
           (NS_STRING_F_OWNED | NS_STRING_F_TERMINATED))
    rv = set_length(x, x->len); /* not ours to write: copy first */
  if (NS_FAILED(rv)) {
    *out = NULL;
    return 0;
  }
  x->flags &= ~(uint32_t)NS_STRING_F_VOIDED;
  *out = x->data;
  return x->len;
}

static void *g_clone(const xstr *x)
{
  size_t bytes = alloc_size(x->len, x->unit);
  char *buf = bytes ? malloc(bytes) : NULL;
  if (!buf)
    return NULL;
  memcpy(buf, data_or_empty(x), (size_t)x->len * x->unit);
  terminate(buf, x->unit, x->len);
  return buf;
}

static nsresult g_set_data(xstr *x, const void *data, uint32_t len)
{
  if (!data) {
    set_empty(x, 0);
    return NS_OK;
  }
  size_t n = len == UINT32_MAX ? unit_strlen(data, x->unit) : len;
  return assign(x, data, n);
}

static nsresult g_set_range(xstr *x, uint32_t off, uint32_t cut,
                            const void *data, uint32_t len)
{
  if (off == UINT32_MAX) {
    if (!data)
      return NS_OK; /* appending nothing */
    off = x->len;
    cut = 0;
  }
  if (off > x->len)
    off = x->len;
  if (cut > x->len - off)
    cut = x->len - off;
  size_t n = 0;
  if (data)
    n = len == UINT32_MAX ? unit_strlen(data, x->unit) : len;
  return splice(x, off, cut, data, n);
}

static void g_set_void(xstr *x, bool is_void)
{
  if (is_void)
    set_empty(x, NS_STRING_F_VOIDED);
  else
    x->flags &= ~(uint32_t)NS_STRING_F_VOIDED;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

/*
 * Decodes one code point from s[*i..len), advancing *i. Returns -1 for
 * anything RFC 3629 forbids: stray continuation bytes, C0/C1 and F5..FF
 * lead bytes, overlong forms, surrogates (U+D800..DFFF), values above
 * U+10FFFF, or a sequence cut short by the end of input.
 */
static int32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
  size_t p = *i;
  unsigned c = s[p];
  if (c < 0x80) {
    *i = p + 1;
    return (int32_t)c;
  }
  size_t need;
  unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    cp = c & 0x0F;
    if (c == 0xE0)
      lo = 0xA0; /* overlong */
    else if (c == 0xED)
      hi = 0x9F; /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    cp = c & 0x07;
    if (c == 0xF0)
      lo = 0x90; /* overlong */
    else if (c == 0xF4)
      hi = 0x8F; /* above U+10FFFF */
  } else {
    return -1;
  }
  if (len - p - 1 < need)
    return -1;
  for (size_t k = 1; k <= need; k++) {
    unsigned b = s[p + k];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
      return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  *i = p + 1 + need;
  return (int32_t)cp;
}

XPCOM_API(bool) xpcom_utf8_valid(const char *data, size_t len)
{
  if (!data)
    return len == 0;
  const unsigned char *s = (const unsigned char *)data;
  size_t i = 0;
  while (i < len) {
    /* Skip ASCII quickly; most text is. */
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    if (utf8_next(s, len, &i) < 0)
      return false;
  }
  return true;
}

/* UTF-8 → UTF-16 into x; NS_ERROR_ILLEGAL_VALUE (x unchanged) if invalid. */
static nsresult assign_from_utf8(xstr *x, const char *data, size_t len)
{
  const unsigned char *s = (const unsigned char *)data;
  size_t units = 0;
  for (size_t i = 0; i < len;) {
    int32_t cp = utf8_next(s, len, &i);
    if (cp < 0)
      return NS_ERROR_ILLEGAL_VALUE;
    units += cp >= 0x10000 ? 2 : 1;
  }
  /* units <= len: every unit comes from at least two bytes but ASCII. */
  size_t bytes = alloc_size(units, sizeof(char16_t));
  if (!bytes)
    return NS_ERROR_OUT_OF_MEMORY;
  char16_t *buf = malloc(bytes);
  if (!buf)
    return NS_ERROR_OUT_OF_MEMORY;
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    uint32_t cp = (uint32_t)utf8_next(s, len, &i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      buf[o++] = (char16_t)(0xD800 + (cp >> 10));
      buf[o++] = (char16_t)(0xDC00 + (cp & 0x3FF));
    } else {
      buf[o++] = (char16_t)cp;
    }
  }
  buf[o] = 0;
  install_buffer(x, (char *)buf, (uint32_t)units);
  return NS_OK;
}

static bool is_high(char16_t u) { return u >= 0xD800 && u <= 0xDBFF; }
static bool is_low(char16_t u) { return u >= 0xDC00 && u <= 0xDFFF; }

/* UTF-16 → UTF-8 into x; lone surrogates become U+FFFD. */
static nsresult assign_from_utf16(xstr *x, const char16_t *u, size_t len)
{
  size_t bytes_out = 0;
  for (size_t i = 0; i < len; i++) {
    char16_t c = u[i];
    if (c < 0x80)
      bytes_out += 1;
    else if (c < 0x800)
      bytes_out += 2;
    else if (is_high(c) && i + 1 < len && is_low(u[i + 1])) {
      bytes_out += 4;
      i++;
    } else
      bytes_out += 3; /* BMP, or U+FFFD for a lone surrogate */
    if (bytes_out > MAX_LENGTH)
      return NS_ERROR_OUT_OF_MEMORY;
  }
  size_t bytes = alloc_size(bytes_out, 1);
  if (!bytes)
    return NS_ERROR_OUT_OF_MEMORY;
  unsigned char *buf = malloc(bytes);
  if (!buf)
    return NS_ERROR_OUT_OF_MEMORY;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    uint32_t cp = u[i];
    if (is_high(u[i]) && i + 1 < len && is_low(u[i + 1])) {
      cp = 0x10000 + (((cp - 0xD800) << 10) | (uint32_t)(u[i + 1] - 0xDC00));
      i++;
    } else if (is_high(u[i]) || is_low(u[i])) {
      cp = 0xFFFD;
    }
    if (cp < 0x80) {
      buf[o++] = (unsigned char)cp;
    } else if (cp < 0x800) {
      buf[o++] = (unsigned char)(0xC0 | (cp >> 6));
      buf[o++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      buf[o++] = (unsigned char)(0xE0 | (cp >> 12));
      buf[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
      buf[o++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
      buf[o++] = (unsigned char)(0xF0 | (cp >> 18));
      buf[o++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
      buf[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
      buf[o++] = (unsigned char)(0x80 | (cp & 0x3F));
    }
  }
  buf[o] = 0;
  install_buffer(x, (char *)buf, (uint32_t)bytes_out);
  return NS_OK;
}

/* ---- nsACString ----------------------------------------------------------- */

XPCOM_API(nsresult) NS_CStringContainerInit(nsCStringContainer *aContainer)
{
  if (!aContainer)
    return NS_ERROR_NULL_POINTER;
  xstr x = {NULL, 0, 0, 1};
  g_init(&x);
  store_c(aContainer, &x);
  return NS_OK;
}

XPCOM_API(nsresult)
NS_CStringContainerInit2(nsCStringContainer *aContainer, const char *aData,
                         uint32_t aDataLength, uint32_t aFlags)
{
  if (!aContainer)
    return NS_ERROR_NULL_POINTER;
  xstr x = {NULL, 0, 0, 1};
  nsresult rv = g_init2(&x, aData, aDataLength, aFlags);
  store_c(aContainer, &x);
  return rv;
}

XPCOM_API(void) NS_CStringContainerFinish(nsCStringContainer *aContainer)
{
  if (!aContainer)
    return;
  xstr x = load_c(aContainer);
  set_empty(&x, 0);
  store_c(aContainer, &x);
}

XPCOM_API(uint32_t)
NS_CStringGetData(const nsACString *aStr, const char **aData, bool *aTerminated)
{
  if (!aStr || !aData) {
    if (aData)
      *aData = NULL;
    return 0;
  }
  xstr x = load_c(aStr);
  if (aTerminated)
    *aTerminated = !x.data || (x.flags & NS_STRING_F_TERMINATED);
  *aData = data_or_empty(&x);
  return x.len;
}

XPCOM_API(uint32_t)
NS_CStringGetMutableData(nsACString *aStr, uint32_t aDataLength, char **aData)
{
  if (!aData)
    return 0;
  if (!aStr) {
    *aData = NULL;
    return 0;
  }
  xstr x = load_c(aStr);
  void *p;
  uint32_t n = g_get_mutable(&x, aDataLength, &p);
  store_c(aStr, &x);
  *aData = p;
  return n;
}

XPCOM_API(char *) NS_CStringCloneData(const nsACString *aStr)
{
  if (!aStr)
    return NULL;
  xstr x = load_c(aStr);
  return g_clone(&x);
}

XPCOM_API(nsresult)
NS_CStringSetData(nsACString *aStr, const char *aData, uint32_t aDataLength)
{
  if (!aStr)
    return NS_ERROR_NULL_POINTER;
  xstr x = load_c(aStr);
  nsresult rv = g_set_data(&x, aData, aDataLength);
  store_c(aStr, &x);
  return rv;
}

XPCOM_API(nsresult)
NS_CStringSetDataRange(nsACString *aStr, uint32_t aCutOffset, uint32_t aCutLength,
                       const char *aData, uint32_t aDataLength)
{
  if (!aStr)
    return NS_ERROR_NULL_POINTER;
  xstr x = load_c(aStr);
  nsresult rv = g_set_range(&x, aCutOffset, aCutLength, aData, aDataLength);
  store_c(aStr, &x);
  return rv;
}

XPCOM_API(nsresult) NS_CStringCopy(nsACString *aDestStr, const nsACString *aSrcStr)
{
  if (!aDestStr || !aSrcStr)
    return NS_ERROR_NULL_POINTER;
  if (aDestStr == aSrcStr)
    return NS_OK;
  xstr src = load_c(aSrcStr);
  xstr x = load_c(aDestStr);
  nsresult rv;
  if (src.flags & NS_STRING_F_VOIDED) {
    g_set_void(&x, true);
    rv = NS_OK;
  } else {
    rv = assign(&x, data_or_empty(&src), src.len);
  }
  store_c(aDestStr, &x);
  return rv;
}

XPCOM_API(void) NS_CStringSetIsVoid(nsACString *aStr, const bool aIsVoid)
{
  if (!aStr)
    return;
  xstr x = load_c(aStr);
  g_set_void(&x, aIsVoid);
  store_c(aStr, &x);
}

XPCOM_API(bool) NS_CStringGetIsVoid(const nsACString *aStr)
{
  return aStr && (aStr->mFlags & NS_STRING_F_VOIDED);
}

/* ---- nsAString ------------------------------------------------------------ */

XPCOM_API(nsresult) NS_StringContainerInit(nsStringContainer *aContainer)
{
  if (!aContainer)
    return NS_ERROR_NULL_POINTER;
  xstr x = {NULL, 0, 0, sizeof(char16_t)};
  g_init(&x);
  store_u(aContainer, &x);
  return NS_OK;
}

XPCOM_API(nsresult)
NS_StringContainerInit2(nsStringContainer *aContainer, const char16_t *aData,
                        uint32_t aDataLength, uint32_t aFlags)
{
  if (!aContainer)
    return NS_ERROR_NULL_POINTER;
  xstr x = {NULL, 0, 0, sizeof(char16_t)};
  nsresult rv = g_init2(&x, aData, aDataLength, aFlags);
  store_u(aContainer, &x);
  return rv;
}

XPCOM_API(void) NS_StringContainerFinish(nsStringContainer *aContainer)
{
  if (!aContainer)
    return;
  xstr x = load_u(aContainer);
  set_empty(&x, 0);
  store_u(aContainer, &x);
}

XPCOM_API(uint32_t)
NS_StringGetData(const nsAString *aStr, const char16_t **aData, bool *aTerminated)
{
  if (!aStr || !aData) {
    if (aData)
      *aData = NULL;
    return 0;
  }
  xstr x = load_u(aStr);
  if (aTerminated)
    *aTerminated = !x.data || (x.flags & NS_STRING_F_TERMINATED);
  *aData = (const char16_t *)(const void *)data_or_empty(&x);
  return x.len;
}

XPCOM_API(uint32_t)
NS_StringGetMutableData(nsAString *aStr, uint32_t aDataLength, char16_t **aData)
{
  if (!aData)
    return 0;
  if (!aStr) {
    *aData = NULL;
    return 0;
  }
  xstr x = load_u(aStr);
  void *p;
  uint32_t n = g_get_mutable(&x, aDataLength, &p);
  store_u(aStr, &x);
  *aData = p;
  return n;
}

XPCOM_API(char16_t *) NS_StringCloneData(const nsAString *aStr)
{
  if (!aStr)
    return NULL;
  xstr x = load_u(aStr);
  return g_clone(&x);
}

XPCOM_API(nsresult)
NS_StringSetData(nsAString *aStr, const char16_t *aData, uint32_t aDataLength)
{
  if (!aStr)
    return NS_ERROR_NULL_POINTER;
  xstr x = load_u(aStr);
  nsresult rv = g_set_data(&x, aData, aDataLength);
  store_u(aStr, &x);
  return rv;
}

XPCOM_API(nsresult)
NS_StringSetDataRange(nsAString *aStr, uint32_t aCutOffset, uint32_t aCutLength,
                      const char16_t *aData, uint32_t aDataLength)
{
  if (!aStr)
    return NS_ERROR_NULL_POINTER;
  xstr x = load_u(aStr);
  nsresult rv = g_set_range(&x, aCutOffset, aCutLength, aData, aDataLength);
  store_u(aStr, &x);
  return rv;
}

XPCOM_API(nsresult) NS_StringCopy(nsAString *aDestStr, const nsAString *aSrcStr)
{
  if (!aDestStr || !aSrcStr)
    return NS_ERROR_NULL_POINTER;
  if (aDestStr == aSrcStr)
    return NS_OK;
  xstr src = load_u(aSrcStr);
  xstr x = load_u(aDestStr);
  nsresult rv;
  if (src.flags & NS_STRING_F_VOIDED) {
    g_set_void(&x, true);
    rv = NS_OK;
  } else {
    rv = assign(&x, data_or_empty(&src), src.len);
  }
  store_u(aDestStr, &x);
  return rv;
}

XPCOM_API(void) NS_StringSetIsVoid(nsAString *aStr, const bool aIsVoid)
{
  if (!aStr)
    return;
  xstr x = load_u(aStr);
  g_set_void(&x, aIsVoid);
  store_u(aStr, &x);
}

XPCOM_API(bool) NS_StringGetIsVoid(const nsAString *aStr)
{
  return aStr && (aStr->mFlags & NS_STRING_F_VOIDED);
}

/* ---- conversions ----------------------------------------------------------- */

XPCOM_API(nsresult)
NS_CStringToUTF16(const nsACString *aSource, nsCStringEncoding aSrcEncoding,
                  nsAString *aDest)
{
  if (!aSource || !aDest)
    return NS_ERROR_NULL_POINTER;
  xstr src = load_c(aSource);
  const char *s = data_or_empty(&src);
  xstr x = load_u(aDest);
  nsresult rv;
  switch (aSrcEncoding) {
  case NS_CSTRING_ENCODING_ASCII: {
    size_t bytes = alloc_size(src.len, sizeof(char16_t));
    char16_t *buf = bytes ? malloc(bytes) : NULL;
    if (!buf)
      return NS_ERROR_OUT_OF_MEMORY;
    for (uint32_t i = 0; i < src.len; i++)
      buf[i] = (char16_t)(unsigned char)s[i];
    buf[src.len] = 0;
    install_buffer(&x, (char *)buf, src.len);
    rv = NS_OK;
    break;
  }
  case NS_CSTRING_ENCODING_UTF8:
  case NS_CSTRING_ENCODING_NATIVE_FILESYSTEM:
    rv = assign_from_utf8(&x, s, src.len);
    break;
  default:
    return NS_ERROR_NOT_IMPLEMENTED;
  }
  store_u(aDest, &x);
  return rv;
}

XPCOM_API(nsresult)
NS_UTF16ToCString(const nsAString *aSource, nsCStringEncoding aDestEncoding,
                  nsACString *aDest)
{
  if (!aSource || !aDest)
    return NS_ERROR_NULL_POINTER;
  xstr src = load_u(aSource);
  const char16_t *u = (const char16_t *)(const void *)data_or_empty(&src);
  xstr x = load_c(aDest);
  nsresult rv;
  switch (aDestEncoding) {
  case NS_CSTRING_ENCODING_ASCII: {
    size_t bytes = alloc_size(src.len, 1);
    char *buf = bytes ? malloc(bytes) : NULL;
    if (!buf)
      return NS_ERROR_OUT_OF_MEMORY;
    for (uint32_t i = 0; i < src.len; i++)
      buf[i] = (char)(unsigned char)(u[i] & 0xFF);
    buf[src.len] = 0;
    install_buffer(&x, buf, src.len);
    rv = NS_OK;
    break;
  }
  case NS_CSTRING_ENCODING_UTF8:
  case NS_CSTRING_ENCODING_NATIVE_FILESYSTEM:
    rv = assign_from_utf16(&x, u, src.len);
    break;
  default:
    return NS_ERROR_NOT_IMPLEMENTED;
  }
  store_c(aDest, &x);
  return rv;
}

/* ---- runtime helpers ------------------------------------------------------- */

XPCOM_API(nsresult) xpcom_cstring_assign(nsACString *str, const char *data, size_t len)
{
  if (!str || (!data && len))
    return NS_ERROR_NULL_POINTER;
  if (len > MAX_LENGTH)
    return NS_ERROR_OUT_OF_MEMORY;
  xstr x = load_c(str);
  nsresult rv = assign(&x, data, len);
  store_c(str, &x);
  return rv;
}

XPCOM_API(nsresult) xpcom_cstring_append(nsACString *str, const char *data, size_t len)
{
  if (!str || (!data && len))
    return NS_ERROR_NULL_POINTER;
  if (len > MAX_LENGTH)
    return NS_ERROR_OUT_OF_MEMORY;
  xstr x = load_c(str);
  nsresult rv = splice(&x, x.len, 0, data, len);
  store_c(str, &x);
  return rv;
}

XPCOM_API(uint32_t) xpcom_cstring_get(const nsACString *str, const char **data)
{
  return NS_CStringGetData(str, data, NULL);
}

XPCOM_API(bool) xpcom_cstring_equals(const nsACString *str, const char *data, size_t len)
{
  if (!str)
    return false;
  xstr x = load_c(str);
  return x.len == len && (len == 0 || memcmp(x.data, data, len) == 0);
}

XPCOM_API(nsresult) xpcom_string_assign(nsAString *str, const char16_t *data, size_t len)
{
  if (!str || (!data && len))
    return NS_ERROR_NULL_POINTER;
  if (len > MAX_LENGTH)
    return NS_ERROR_OUT_OF_MEMORY;
  xstr x = load_u(str);
  nsresult rv = assign(&x, data, len);
  store_u(str, &x);
  return rv;
}

XPCOM_API(nsresult) xpcom_string_append(nsAString *str, const char16_t *data, size_t len)
{
  if (!str || (!data && len))
    return NS_ERROR_NULL_POINTER;
  if (len > MAX_LENGTH)
    return NS_ERROR_OUT_OF_MEMORY;
  xstr x = load_u(str);
  nsresult rv = splice(&x, x.len, 0, data, len);
  store_u(str, &x);
  return rv;
}

XPCOM_API(uint32_t) xpcom_string_get(const nsAString *str, const char16_t **data)
{
  return NS_StringGetData(str, data, NULL);
}

XPCOM_API(bool) xpcom_string_equals(const nsAString *str, const char16_t *data, size_t len)
{
  if (!str)
    return false;
  xstr x = load_u(str);
  return x.len == len &&
         (len == 0 || memcmp(x.data, data, len * sizeof(char16_t)) == 0);
}

XPCOM_API(nsresult) xpcom_string_assign_utf8(nsAString *str, const char *utf8, size_t len)
{
  if (!str || (!utf8 && len))
    return NS_ERROR_NULL_POINTER;
  xstr x = load_u(str);
  nsresult rv = assign_from_utf8(&x, utf8 ? utf8 : "", len);
  store_u(str, &x);
  return rv;
}

XPCOM_API(nsresult)
xpcom_cstring_assign_utf16(nsACString *str, const char16_t *utf16, size_t len)
{
  if (!str || (!utf16 && len))
    return NS_ERROR_NULL_POINTER;
  xstr x = load_c(str);
  nsresult rv = assign_from_utf16(&x, utf16 ? utf16 : u"", len);
  store_c(str, &x);
  return rv;
}
