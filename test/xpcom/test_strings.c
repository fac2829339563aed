/*
 * test_strings.c — the frozen string API and the runtime's string helpers.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "nsXPCOMStrings.h"

#define C_F_TERMINATED NS_STRING_F_TERMINATED
#define C_F_OWNED NS_STRING_F_OWNED

/* Contents of an 8-bit string as a NUL-terminated copy in a static
 * buffer, for ck_assert_str_eq. */
static const char *cstr(const nsACString *s)
{
  static char buf[4096];
  const char *p;
  uint32_t n = NS_CStringGetData(s, &p, NULL);
  ck_assert_uint_lt(n, sizeof buf);
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

static void assert_u16(const nsAString *s, const char16_t *want, size_t want_len)
{
  const char16_t *p;
  uint32_t n = NS_StringGetData(s, &p, NULL);
  ck_assert_uint_eq(n, want_len);
  ck_assert_mem_eq(p, want, want_len * sizeof(char16_t));
}

static size_t u16len(const char16_t *s)
{
  size_t n = 0;
  while (s[n])
    n++;
  return n;
}

/* ---- containers ----------------------------------------------------------- */

START_TEST(test_init_empty)
{
  nsCStringContainer s;
  memset(&s, 0xAB, sizeof s);
  ck_assert_uint_eq(NS_CStringContainerInit(&s), NS_OK);
  const char *p;
  bool term = false;
  ck_assert_uint_eq(NS_CStringGetData(&s, &p, &term), 0);
  ck_assert(term);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(p[0], '\0');
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED);
  ck_assert(!NS_CStringGetIsVoid(&s));
  NS_CStringContainerFinish(&s);
  NS_CStringContainerFinish(&s); /* harmless twice */
}
END_TEST

START_TEST(test_init2_copy)
{
  char src[] = "hello";
  nsCStringContainer s;
  ck_assert_uint_eq(NS_CStringContainerInit2(&s, src, UINT32_MAX, 0), NS_OK);
  ck_assert_ptr_ne(s.mData, src);
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED | C_F_OWNED);
  src[0] = 'j';
  ck_assert_str_eq(cstr(&s), "hello");
  NS_CStringContainerFinish(&s);

  ck_assert_uint_eq(NS_CStringContainerInit2(&s, "hello", 3, 0), NS_OK);
  ck_assert_str_eq(cstr(&s), "hel");
  ck_assert_int_eq(s.mData[3], '\0');
  NS_CStringContainerFinish(&s);

  ck_assert_uint_eq(NS_CStringContainerInit2(&s, NULL, 5, 0), NS_OK);
  ck_assert_uint_eq(s.mLength, 0);
  NS_CStringContainerFinish(&s);
}
END_TEST

START_TEST(test_init2_depend)
{
  static const char lit[] = "dependent";
  nsCStringContainer s;
  ck_assert_uint_eq(NS_CStringContainerInit2(&s, lit, UINT32_MAX,
                                             NS_CSTRING_CONTAINER_INIT_DEPEND),
                    NS_OK);
  ck_assert_ptr_eq(s.mData, lit);
  ck_assert_uint_eq(s.mLength, 9);
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED);
  bool term = false;
  const char *p;
  NS_CStringGetData(&s, &p, &term);
  ck_assert(term);
  /* Modifying copies out of the caller's (here read-only) buffer. */
  ck_assert_uint_eq(NS_CStringAppendData(&s, "!", 1), NS_OK);
  ck_assert_ptr_ne(s.mData, lit);
  ck_assert_str_eq(cstr(&s), "dependent!");
  ck_assert_str_eq(lit, "dependent");
  NS_CStringContainerFinish(&s);
}
END_TEST

START_TEST(test_init2_substring)
{
  char buf[] = "abcdef";
  nsCStringContainer s;
  ck_assert_uint_eq(NS_CStringContainerInit2(&s, buf + 1, 3,
                                             NS_CSTRING_CONTAINER_INIT_DEPEND |
                                                 NS_CSTRING_CONTAINER_INIT_SUBSTRING),
                    NS_OK);
  ck_assert_uint_eq(s.mFlags, 0);
  bool term = true;
  const char *p;
  ck_assert_uint_eq(NS_CStringGetData(&s, &p, &term), 3);
  ck_assert(!term);
  ck_assert_ptr_eq(p, buf + 1);

  char *clone = NS_CStringCloneData(&s);
  ck_assert_str_eq(clone, "bcd");
  NS_Free(clone);

  /* Writable access must not write into buf (would put a NUL at buf[4]). */
  char *w;
  ck_assert_uint_eq(NS_CStringGetMutableData(&s, UINT32_MAX, &w), 3);
  ck_assert_ptr_ne(w, buf + 1);
  w[0] = 'X';
  ck_assert_str_eq(buf, "abcdef");
  ck_assert_str_eq(cstr(&s), "Xcd");
  NS_CStringContainerFinish(&s);

  /* SUBSTRING without a length is refused, leaving a valid empty string. */
  ck_assert_uint_eq(NS_CStringContainerInit2(&s, buf, UINT32_MAX,
                                             NS_CSTRING_CONTAINER_INIT_DEPEND |
                                                 NS_CSTRING_CONTAINER_INIT_SUBSTRING),
                    NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(s.mLength, 0);
  NS_CStringContainerFinish(&s);
}
END_TEST

START_TEST(test_init2_adopt)
{
  char *heap = NS_Alloc(6);
  memcpy(heap, "owned", 6);
  nsCStringContainer s;
  ck_assert_uint_eq(NS_CStringContainerInit2(&s, heap, UINT32_MAX,
                                             NS_CSTRING_CONTAINER_INIT_ADOPT),
                    NS_OK);
  ck_assert_ptr_eq(s.mData, heap);
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED | C_F_OWNED);
  ck_assert_str_eq(cstr(&s), "owned");
  NS_CStringContainerFinish(&s); /* frees heap: ASan reports a leak otherwise */

  /* Adopted, not terminated: appending reallocates it. */
  char *raw = NS_Alloc(3);
  memcpy(raw, "xyz", 3);
  ck_assert_uint_eq(NS_CStringContainerInit2(&s, raw, 3,
                                             NS_CSTRING_CONTAINER_INIT_ADOPT |
                                                 NS_CSTRING_CONTAINER_INIT_SUBSTRING),
                    NS_OK);
  ck_assert_uint_eq(s.mFlags, C_F_OWNED);
  ck_assert_uint_eq(NS_CStringAppendData(&s, "!", UINT32_MAX), NS_OK);
  ck_assert_str_eq(cstr(&s), "xyz!");
  ck_assert_int_eq(s.mData[4], '\0');
  NS_CStringContainerFinish(&s);
}
END_TEST

/* ---- data access ------------------------------------------------------------ */

START_TEST(test_get_mutable)
{
  nsCStringContainer s;
  NS_CStringContainerInit2(&s, "abc", UINT32_MAX, 0);
  char *w;
  ck_assert_uint_eq(NS_CStringGetMutableData(&s, 6, &w), 6);
  ck_assert_mem_eq(w, "abc\0\0\0\0", 7); /* grown part zeroed, terminated */
  memcpy(w + 3, "def", 3);
  ck_assert_str_eq(cstr(&s), "abcdef");
  ck_assert_uint_eq(NS_CStringGetMutableData(&s, 2, &w), 2);
  ck_assert_str_eq(w, "ab");
  ck_assert_uint_eq(NS_CStringGetMutableData(&s, UINT32_MAX, &w), 2);
  ck_assert_uint_eq(NS_CStringGetMutableData(&s, 0, &w), 0);
  ck_assert_ptr_nonnull(w);
  ck_assert_int_eq(w[0], '\0');
  ck_assert_uint_eq(NS_CStringGetMutableData(&s, 0, NULL), 0);
  NS_CStringContainerFinish(&s);

  /* A literal must be copied before writing. */
  static const char lit[] = "lit";
  nsACString l = {(char *)(uintptr_t)lit, 3, C_F_TERMINATED | NS_STRING_F_LITERAL};
  ck_assert_uint_eq(NS_CStringGetMutableData(&l, UINT32_MAX, &w), 3);
  ck_assert_ptr_ne(w, lit);
  w[0] = 'L';
  ck_assert_str_eq(lit, "lit");
  ck_assert_uint_eq(l.mFlags, C_F_TERMINATED | C_F_OWNED);
  NS_CStringContainerFinish(&l);
}
END_TEST

START_TEST(test_clone)
{
  nsCStringContainer s;
  NS_CStringContainerInit(&s);
  char *c = NS_CStringCloneData(&s);
  ck_assert_str_eq(c, "");
  NS_Free(c);
  NS_CStringSetData(&s, "a\0b", 3);
  c = NS_CStringCloneData(&s);
  ck_assert_mem_eq(c, "a\0b\0", 4);
  NS_Free(c);
  NS_CStringContainerFinish(&s);
  ck_assert_ptr_null(NS_CStringCloneData(NULL));
}
END_TEST

START_TEST(test_set_data)
{
  nsCStringContainer s;
  NS_CStringContainerInit(&s);
  ck_assert_uint_eq(NS_CStringSetData(&s, "first", UINT32_MAX), NS_OK);
  ck_assert_str_eq(cstr(&s), "first");
  ck_assert_uint_eq(NS_CStringSetData(&s, "second", 3), NS_OK);
  ck_assert_str_eq(cstr(&s), "sec");
  ck_assert_uint_eq(NS_CStringSetData(&s, NULL, 7), NS_OK);
  ck_assert_uint_eq(s.mLength, 0);
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED);
  ck_assert_uint_eq(NS_CStringSetData(&s, "", UINT32_MAX), NS_OK);
  ck_assert_uint_eq(s.mLength, 0);
  /* Assigning a string its own tail. */
  NS_CStringSetData(&s, "0123456789", UINT32_MAX);
  ck_assert_uint_eq(NS_CStringSetData(&s, s.mData + 4, 3), NS_OK);
  ck_assert_str_eq(cstr(&s), "456");
  NS_CStringContainerFinish(&s);
  ck_assert_uint_eq(NS_CStringSetData(NULL, "x", 1), NS_ERROR_NULL_POINTER);
}
END_TEST

/* ---- SetDataRange ------------------------------------------------------------ */

START_TEST(test_set_range)
{
  nsCStringContainer s;
  NS_CStringContainerInit2(&s, "hello world", UINT32_MAX, 0);

  /* replace a middle part */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, 6, 5, "there", UINT32_MAX), NS_OK);
  ck_assert_str_eq(cstr(&s), "hello there");
  /* append: offset UINT32_MAX, cut length ignored */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, UINT32_MAX, 99, "!", 1), NS_OK);
  ck_assert_str_eq(cstr(&s), "hello there!");
  /* append of NULL is a no-op */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, UINT32_MAX, 0, NULL, 0), NS_OK);
  ck_assert_str_eq(cstr(&s), "hello there!");
  /* insert at the start */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, 0, 0, ">> ", 3), NS_OK);
  ck_assert_str_eq(cstr(&s), ">> hello there!");
  /* cut to the end */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, 8, UINT32_MAX, NULL, 0), NS_OK);
  ck_assert_str_eq(cstr(&s), ">> hello");
  /* cut length past the end is clamped */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, 5, 1000, "p", 1), NS_OK);
  ck_assert_str_eq(cstr(&s), ">> hep");
  /* offset past the end is clamped to the end */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, 1000, 4, "!", 1), NS_OK);
  ck_assert_str_eq(cstr(&s), ">> hep!");
  /* NULL data: pure cut */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, 0, 3, NULL, 77), NS_OK);
  ck_assert_str_eq(cstr(&s), "hep!");
  /* cutting everything leaves the static empty string */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, 0, UINT32_MAX, NULL, 0), NS_OK);
  ck_assert_uint_eq(s.mLength, 0);
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED);
  NS_CStringContainerFinish(&s);
}
END_TEST

START_TEST(test_set_range_self_reference)
{
  nsCStringContainer s;
  NS_CStringContainerInit2(&s, "abc", UINT32_MAX, 0);
  /* Insert the string's own prefix into the middle of it. */
  ck_assert_uint_eq(NS_CStringInsertData(&s, 1, s.mData, 2), NS_OK);
  ck_assert_str_eq(cstr(&s), "aabbc");
  /* Append the string to itself (realloc must not be used here). */
  ck_assert_uint_eq(NS_CStringAppendData(&s, s.mData, s.mLength), NS_OK);
  ck_assert_str_eq(cstr(&s), "aabbcaabbc");
  /* Replace a range with an overlapping range of the string. */
  ck_assert_uint_eq(NS_CStringSetDataRange(&s, 2, 4, s.mData + 4, 4), NS_OK);
  ck_assert_str_eq(cstr(&s), "aacaababbc");
  NS_CStringContainerFinish(&s);
}
END_TEST

START_TEST(test_inline_helpers)
{
  nsCStringContainer s;
  NS_CStringContainerInit(&s);
  ck_assert_uint_eq(NS_CStringAppendData(&s, "world", UINT32_MAX), NS_OK);
  ck_assert_uint_eq(NS_CStringInsertData(&s, 0, "hello ", UINT32_MAX), NS_OK);
  ck_assert_str_eq(cstr(&s), "hello world");
  ck_assert_uint_eq(NS_CStringCutData(&s, 5, 6), NS_OK);
  ck_assert_str_eq(cstr(&s), "hello");
  NS_CStringContainerFinish(&s);
}
END_TEST

START_TEST(test_many_appends)
{
  nsCStringContainer s;
  NS_CStringContainerInit(&s);
  for (int i = 0; i < 2000; i++)
    ck_assert_uint_eq(NS_CStringAppendData(&s, "0123456789", 10), NS_OK);
  ck_assert_uint_eq(s.mLength, 20000);
  ck_assert_int_eq(s.mData[20000], '\0');
  ck_assert_mem_eq(s.mData + 19990, "0123456789", 10);
  NS_CStringContainerFinish(&s);
}
END_TEST

/* ---- copy and void ------------------------------------------------------------ */

START_TEST(test_copy_and_void)
{
  nsCStringContainer a, b;
  NS_CStringContainerInit2(&a, "source", UINT32_MAX, 0);
  NS_CStringContainerInit2(&b, "dest", UINT32_MAX, 0);
  ck_assert_uint_eq(NS_CStringCopy(&b, &a), NS_OK);
  ck_assert_str_eq(cstr(&b), "source");
  ck_assert_ptr_ne(a.mData, b.mData);
  ck_assert_uint_eq(NS_CStringCopy(&b, &b), NS_OK);
  ck_assert_str_eq(cstr(&b), "source");

  NS_CStringSetIsVoid(&a, true);
  ck_assert(NS_CStringGetIsVoid(&a));
  ck_assert_uint_eq(a.mLength, 0);
  ck_assert_uint_eq(NS_CStringCopy(&b, &a), NS_OK);
  ck_assert(NS_CStringGetIsVoid(&b));
  ck_assert_uint_eq(b.mLength, 0);

  /* Setting data clears voidness; so does SetIsVoid(false). */
  NS_CStringSetData(&b, "x", 1);
  ck_assert(!NS_CStringGetIsVoid(&b));
  NS_CStringSetIsVoid(&a, false);
  ck_assert(!NS_CStringGetIsVoid(&a));
  NS_CStringSetIsVoid(&a, true);
  NS_CStringAppendData(&a, "y", 1);
  ck_assert(!NS_CStringGetIsVoid(&a));
  ck_assert_str_eq(cstr(&a), "y");

  NS_CStringContainerFinish(&a);
  NS_CStringContainerFinish(&b);
  ck_assert(!NS_CStringGetIsVoid(NULL));
}
END_TEST

/* ---- buffers owned by a Gecko host -------------------------------------------- */

/* A Gecko nsStringBuffer: {int32 refcount; uint32 storageSize} + chars. */
static char *make_shared(const char *text, int32_t refs, int32_t **refcnt_out)
{
  size_t n = strlen(text);
  char *block = malloc(8 + n + 1);
  int32_t rc = refs;
  uint32_t storage = (uint32_t)(n + 1);
  memcpy(block, &rc, 4);
  memcpy(block + 4, &storage, 4);
  memcpy(block + 8, text, n + 1);
  *refcnt_out = (int32_t *)(void *)block;
  return block + 8;
}

START_TEST(test_shared_buffer_released)
{
  /* Two references: the "host" keeps one after we let go of ours. */
  int32_t *rc;
  char *data = make_shared("shared", 2, &rc);
  nsACString s = {data, 6, C_F_TERMINATED | NS_STRING_F_SHARED};
  ck_assert_str_eq(cstr(&s), "shared");
  ck_assert_uint_eq(NS_CStringSetData(&s, "mine", 4), NS_OK);
  ck_assert_int_eq(*rc, 1);
  ck_assert_str_eq(data, "shared"); /* never written */
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED | C_F_OWNED);
  NS_CStringContainerFinish(&s);
  free(rc); /* the host's reference */

  /* Last reference: dropping it frees the block (ASan would report a
   * leak otherwise). */
  data = make_shared("only", 1, &rc);
  nsACString t = {data, 4, C_F_TERMINATED | NS_STRING_F_SHARED};
  char *w;
  ck_assert_uint_eq(NS_CStringGetMutableData(&t, UINT32_MAX, &w), 4);
  ck_assert_ptr_ne(w, data);
  ck_assert_str_eq(w, "only");
  NS_CStringContainerFinish(&t);
}
END_TEST

START_TEST(test_fixed_buffer_and_class_flags)
{
  /* An nsAutoCString-like string: F_FIXED data and F_CLASS_FIXED (0x10000). */
  char fixed[16] = "auto";
  nsACString s = {fixed, 4, C_F_TERMINATED | NS_STRING_F_FIXED | 0x10000u};
  ck_assert_uint_eq(NS_CStringAppendData(&s, "-grown", UINT32_MAX), NS_OK);
  ck_assert_str_eq(cstr(&s), "auto-grown");
  ck_assert_str_eq(fixed, "auto");
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED | C_F_OWNED | 0x10000u);
  NS_CStringSetIsVoid(&s, true);
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED | NS_STRING_F_VOIDED | 0x10000u);
  NS_CStringContainerFinish(&s);
  ck_assert_uint_eq(s.mFlags, C_F_TERMINATED | 0x10000u);
}
END_TEST

START_TEST(test_zeroed_struct)
{
  /* A zero-filled string (never initialised) reads as empty. */
  nsACString z = {NULL, 0, 0};
  const char *p;
  ck_assert_uint_eq(NS_CStringGetData(&z, &p, NULL), 0);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(NS_CStringAppendData(&z, "ok", 2), NS_OK);
  ck_assert_str_eq(cstr(&z), "ok");
  NS_CStringContainerFinish(&z);
}
END_TEST

/* ---- UTF-16 twins -------------------------------------------------------------- */

START_TEST(test_string_twins)
{
  nsStringContainer s;
  ck_assert_uint_eq(NS_StringContainerInit(&s), NS_OK);
  assert_u16(&s, u"", 0);
  ck_assert_uint_eq(NS_StringSetData(&s, u"hello", UINT32_MAX), NS_OK);
  assert_u16(&s, u"hello", 5);
  ck_assert_uint_eq(NS_StringAppendData(&s, u" world", UINT32_MAX), NS_OK);
  ck_assert_uint_eq(NS_StringInsertData(&s, 0, u"> ", 2), NS_OK);
  assert_u16(&s, u"> hello world", 13);
  ck_assert_uint_eq(NS_StringCutData(&s, 7, UINT32_MAX), NS_OK);
  assert_u16(&s, u"> hello", 7);
  ck_assert_uint_eq(NS_StringSetDataRange(&s, 2, 5, u"bye", UINT32_MAX), NS_OK);
  assert_u16(&s, u"> bye", 5);

  char16_t *c = NS_StringCloneData(&s);
  ck_assert_uint_eq(u16len(c), 5);
  ck_assert_mem_eq(c, u"> bye", 6 * sizeof(char16_t));
  NS_Free(c);

  char16_t *w;
  ck_assert_uint_eq(NS_StringGetMutableData(&s, 7, &w), 7);
  ck_assert_uint_eq(w[5], 0);
  ck_assert_uint_eq(w[7], 0);
  w[5] = u'!';
  w[6] = u'!';
  assert_u16(&s, u"> bye!!", 7);

  nsStringContainer d;
  NS_StringContainerInit2(&d, u"dep", UINT32_MAX, NS_STRING_CONTAINER_INIT_DEPEND);
  bool term = false;
  const char16_t *p;
  ck_assert_uint_eq(NS_StringGetData(&d, &p, &term), 3);
  ck_assert(term);
  ck_assert_uint_eq(NS_StringCopy(&s, &d), NS_OK);
  assert_u16(&s, u"dep", 3);
  NS_StringSetIsVoid(&d, true);
  ck_assert(NS_StringGetIsVoid(&d));
  NS_StringCopy(&s, &d);
  ck_assert(NS_StringGetIsVoid(&s));

  char16_t *adopt = NS_Alloc(3 * sizeof(char16_t));
  memcpy(adopt, u"ad", 3 * sizeof(char16_t));
  NS_StringContainerFinish(&d);
  ck_assert_uint_eq(NS_StringContainerInit2(&d, adopt, UINT32_MAX,
                                            NS_STRING_CONTAINER_INIT_ADOPT), NS_OK);
  ck_assert_ptr_eq(d.mData, adopt);
  ck_assert_uint_eq(NS_StringContainerInit2(&s, u"xyz", UINT32_MAX,
                                            NS_STRING_CONTAINER_INIT_SUBSTRING |
                                                NS_STRING_CONTAINER_INIT_DEPEND),
                    NS_ERROR_INVALID_ARG);
  NS_StringContainerFinish(&d);
  NS_StringContainerFinish(&s);
}
END_TEST

/* ---- encodings ------------------------------------------------------------------ */

START_TEST(test_ascii_conversions)
{
  nsCStringContainer c;
  nsStringContainer u;
  NS_CStringContainerInit2(&c, "A\xe9z", UINT32_MAX, 0);
  NS_StringContainerInit(&u);
  ck_assert_uint_eq(NS_CStringToUTF16(&c, NS_CSTRING_ENCODING_ASCII, &u), NS_OK);
  assert_u16(&u, u"A\u00e9z", 3);

  NS_StringSetData(&u, u"a\u0141\u00ffb", UINT32_MAX);
  ck_assert_uint_eq(NS_UTF16ToCString(&u, NS_CSTRING_ENCODING_ASCII, &c), NS_OK);
  ck_assert_uint_eq(c.mLength, 4);
  ck_assert_mem_eq(c.mData, "a\x41\xff" "b", 4); /* low 8 bits */

  ck_assert_uint_eq(NS_UTF16ToCString(&u, (nsCStringEncoding)7, &c),
                    NS_ERROR_NOT_IMPLEMENTED);
  ck_assert_uint_eq(NS_CStringToUTF16(&c, (nsCStringEncoding)7, &u),
                    NS_ERROR_NOT_IMPLEMENTED);
  NS_CStringContainerFinish(&c);
  NS_StringContainerFinish(&u);
}
END_TEST

START_TEST(test_utf8_round_trip)
{
  /* 1-, 2-, 3- and 4-byte sequences: A, e-acute, euro, U+1F600. */
  static const char utf8[] = "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80.";
  static const char16_t want[] = {0x41, 0xe9, 0x20ac, 0xd83d, 0xde00, 0x2e};
  nsCStringContainer c;
  nsStringContainer u;
  NS_CStringContainerInit2(&c, utf8, UINT32_MAX, 0);
  NS_StringContainerInit(&u);
  ck_assert_uint_eq(NS_CStringToUTF16(&c, NS_CSTRING_ENCODING_UTF8, &u), NS_OK);
  assert_u16(&u, want, 6);

  NS_CStringSetData(&c, "garbage", UINT32_MAX);
  ck_assert_uint_eq(NS_UTF16ToCString(&u, NS_CSTRING_ENCODING_UTF8, &c), NS_OK);
  ck_assert_str_eq(cstr(&c), utf8);

  /* NATIVE_FILESYSTEM is UTF-8 too. */
  ck_assert_uint_eq(NS_UTF16ToCString(&u, NS_CSTRING_ENCODING_NATIVE_FILESYSTEM, &c), NS_OK);
  ck_assert_str_eq(cstr(&c), utf8);
  ck_assert_uint_eq(NS_CStringToUTF16(&c, NS_CSTRING_ENCODING_NATIVE_FILESYSTEM, &u), NS_OK);
  assert_u16(&u, want, 6);

  /* Boundaries: U+007F, U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF. */
  static const char edges[] = "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"
                              "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";
  static const char16_t edges16[] = {0x7f, 0x80, 0x7ff, 0x800, 0xffff,
                                     0xd800, 0xdc00, 0xdbff, 0xdfff};
  NS_CStringSetData(&c, edges, UINT32_MAX);
  ck_assert_uint_eq(NS_CStringToUTF16(&c, NS_CSTRING_ENCODING_UTF8, &u), NS_OK);
  assert_u16(&u, edges16, 9);
  ck_assert_uint_eq(NS_UTF16ToCString(&u, NS_CSTRING_ENCODING_UTF8, &c), NS_OK);
  ck_assert_str_eq(cstr(&c), edges);

  /* Empty in, empty out. */
  NS_CStringSetData(&c, "", 0);
  ck_assert_uint_eq(NS_CStringToUTF16(&c, NS_CSTRING_ENCODING_UTF8, &u), NS_OK);
  ck_assert_uint_eq(u.mLength, 0);
  NS_CStringContainerFinish(&c);
  NS_StringContainerFinish(&u);
}
END_TEST

static const char *const kInvalidUtf8[] = {
    "\x80",                 /* stray continuation */
    "a\xbf",
    "\xc0\x80",             /* overlong NUL */
    "\xc1\xbf",             /* overlong */
    "\xe0\x80\x80",         /* overlong 3-byte */
    "\xe0\x9f\xbf",
    "\xf0\x80\x80\x80",     /* overlong 4-byte */
    "\xf0\x8f\xbf\xbf",
    "\xed\xa0\x80",         /* U+D800 */
    "\xed\xbf\xbf",         /* U+DFFF */
    "\xf4\x90\x80\x80",     /* U+110000 */
    "\xf5\x80\x80\x80",
    "\xf8\x88\x80\x80\x80", /* 5-byte form */
    "\xff",
    "\xe2\x82",             /* truncated */
    "\xf0\x9f\x98",
    "\xc3",
    "\xc3\x28",             /* bad continuation */
    "\xe2\x28\xa1",
    "ok\xe2\x82\xac\xe2\x82",
};

START_TEST(test_utf8_invalid)
{
  nsCStringContainer c;
  nsStringContainer u;
  NS_CStringContainerInit(&c);
  NS_StringContainerInit2(&u, u"keep", UINT32_MAX, 0);
  for (size_t i = 0; i < sizeof kInvalidUtf8 / sizeof kInvalidUtf8[0]; i++) {
    NS_CStringSetData(&c, kInvalidUtf8[i], UINT32_MAX);
    ck_assert_msg(!xpcom_utf8_valid(c.mData, c.mLength), "case %zu valid", i);
    ck_assert_uint_eq(NS_CStringToUTF16(&c, NS_CSTRING_ENCODING_UTF8, &u),
                      NS_ERROR_ILLEGAL_VALUE);
    assert_u16(&u, u"keep", 4); /* destination unchanged */
    ck_assert_uint_eq(xpcom_string_assign_utf8(&u, c.mData, c.mLength),
                      NS_ERROR_ILLEGAL_VALUE);
  }
  /* Valid input of every length class. */
  ck_assert(xpcom_utf8_valid("", 0));
  ck_assert(xpcom_utf8_valid(NULL, 0));
  ck_assert(xpcom_utf8_valid("plain ascii", 11));
  ck_assert(xpcom_utf8_valid("\xed\x9f\xbf", 3)); /* U+D7FF */
  ck_assert(xpcom_utf8_valid("\xee\x80\x80", 3)); /* U+E000 */
  ck_assert(xpcom_utf8_valid("a\0b", 3));          /* NUL is a character */
  NS_CStringContainerFinish(&c);
  NS_StringContainerFinish(&u);
}
END_TEST

START_TEST(test_utf16_lone_surrogates)
{
  static const char16_t in[] = {u'a', 0xd800, u'b', 0xdc00, 0xdbff, 0xd83d, 0xde00, 0xd800};
  nsStringContainer u;
  nsCStringContainer c;
  NS_StringContainerInit2(&u, in, 8, 0);
  NS_CStringContainerInit(&c);
  ck_assert_uint_eq(NS_UTF16ToCString(&u, NS_CSTRING_ENCODING_UTF8, &c), NS_OK);
  /* a FFFD b FFFD FFFD(high before high) U+1F600 FFFD(high at end) */
  ck_assert_str_eq(cstr(&c), "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
                             "\xf0\x9f\x98\x80\xef\xbf\xbd");
  ck_assert(xpcom_utf8_valid(c.mData, c.mLength));
  ck_assert_uint_eq(xpcom_cstring_assign_utf16(&c, in + 3, 1), NS_OK);
  ck_assert_str_eq(cstr(&c), "\xef\xbf\xbd");
  NS_StringContainerFinish(&u);
  NS_CStringContainerFinish(&c);
}
END_TEST

/* ---- runtime helpers --------------------------------------------------------------- */

START_TEST(test_helpers)
{
  nsCStringContainer c;
  NS_CStringContainerInit(&c);
  ck_assert_uint_eq(xpcom_cstring_assign(&c, "abc", 3), NS_OK);
  ck_assert_uint_eq(xpcom_cstring_append(&c, "def", 3), NS_OK);
  const char *p;
  ck_assert_uint_eq(xpcom_cstring_get(&c, &p), 6);
  ck_assert_mem_eq(p, "abcdef", 6);
  ck_assert(xpcom_cstring_equals(&c, "abcdef", 6));
  ck_assert(!xpcom_cstring_equals(&c, "abcde", 5));
  ck_assert(!xpcom_cstring_equals(&c, "abcdeF", 6));
  ck_assert_uint_eq(xpcom_cstring_assign(&c, NULL, 0), NS_OK);
  ck_assert(xpcom_cstring_equals(&c, NULL, 0));
  ck_assert_uint_eq(xpcom_cstring_assign(&c, NULL, 1), NS_ERROR_NULL_POINTER);

  /* Lengths that do not fit the 32-bit length field are refused up front,
   * leaving the string as it was. */
  xpcom_cstring_assign(&c, "keep", 4);
  if (SIZE_MAX > UINT32_MAX) {
    ck_assert_uint_eq(xpcom_cstring_assign(&c, "x", (size_t)UINT32_MAX), NS_ERROR_OUT_OF_MEMORY);
    ck_assert_uint_eq(xpcom_cstring_append(&c, "x", (size_t)UINT32_MAX + 5), NS_ERROR_OUT_OF_MEMORY);
  }
  ck_assert(xpcom_cstring_equals(&c, "keep", 4));

  nsStringContainer u;
  NS_StringContainerInit(&u);
  ck_assert_uint_eq(xpcom_string_assign(&u, u"ab", 2), NS_OK);
  ck_assert_uint_eq(xpcom_string_append(&u, u"cd", 2), NS_OK);
  const char16_t *q;
  ck_assert_uint_eq(xpcom_string_get(&u, &q), 4);
  ck_assert(xpcom_string_equals(&u, u"abcd", 4));
  ck_assert(!xpcom_string_equals(&u, u"abce", 4));
  ck_assert_uint_eq(xpcom_string_assign_utf8(&u, "\xc3\xa9t\xc3\xa9", 5), NS_OK);
  ck_assert(xpcom_string_equals(&u, u"\u00e9t\u00e9", 3));
  ck_assert_uint_eq(xpcom_cstring_assign_utf16(&c, q, 0), NS_OK);
  ck_assert_uint_eq(c.mLength, 0);
  if (SIZE_MAX > UINT32_MAX)
    ck_assert_uint_eq(xpcom_string_append(&u, u"x", (size_t)UINT32_MAX), NS_ERROR_OUT_OF_MEMORY);

  NS_CStringContainerFinish(&c);
  NS_StringContainerFinish(&u);
}
END_TEST

START_TEST(test_null_arguments)
{
  ck_assert_uint_eq(NS_CStringContainerInit(NULL), NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(NS_StringContainerInit(NULL), NS_ERROR_NULL_POINTER);
  NS_CStringContainerFinish(NULL);
  const char *p = "x";
  ck_assert_uint_eq(NS_CStringGetData(NULL, &p, NULL), 0);
  ck_assert_ptr_null(p);
  char *w = (char *)"x";
  ck_assert_uint_eq(NS_CStringGetMutableData(NULL, 3, &w), 0);
  ck_assert_ptr_null(w);
  ck_assert_uint_eq(NS_CStringSetDataRange(NULL, 0, 0, "a", 1), NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(NS_CStringCopy(NULL, NULL), NS_ERROR_NULL_POINTER);
  ck_assert_uint_eq(NS_CStringToUTF16(NULL, NS_CSTRING_ENCODING_UTF8, NULL),
                    NS_ERROR_NULL_POINTER);
}
END_TEST

static Suite *strings_suite(void)
{
  Suite *s = suite_create("strings");
  TCase *c = tcase_create("containers");
  tcase_add_test(c, test_init_empty);
  tcase_add_test(c, test_init2_copy);
  tcase_add_test(c, test_init2_depend);
  tcase_add_test(c, test_init2_substring);
  tcase_add_test(c, test_init2_adopt);
  tcase_add_test(c, test_get_mutable);
  tcase_add_test(c, test_clone);
  tcase_add_test(c, test_set_data);
  tcase_add_test(c, test_set_range);
  tcase_add_test(c, test_set_range_self_reference);
  tcase_add_test(c, test_inline_helpers);
  tcase_add_test(c, test_many_appends);
  tcase_add_test(c, test_copy_and_void);
  tcase_add_test(c, test_shared_buffer_released);
  tcase_add_test(c, test_fixed_buffer_and_class_flags);
  tcase_add_test(c, test_zeroed_struct);
  tcase_add_test(c, test_string_twins);
  tcase_add_test(c, test_null_arguments);
  suite_add_tcase(s, c);
  TCase *e = tcase_create("encodings");
  tcase_add_test(e, test_ascii_conversions);
  tcase_add_test(e, test_utf8_round_trip);
  tcase_add_test(e, test_utf8_invalid);
  tcase_add_test(e, test_utf16_lone_surrogates);
  tcase_add_test(e, test_helpers);
  suite_add_tcase(s, e);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(strings_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
