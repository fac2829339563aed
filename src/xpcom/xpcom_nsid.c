/*
 * xpcom_nsid.c — nsID parse / format / compare.
 */
#include <stdio.h>
#include <string.h>

#include "nsID.h"

/* Value of a hex digit, or -1. */
static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads exactly `digits` hex digits at *p, advancing it. */
static bool read_hex(const char **p, int digits, uint32_t *out)
{
  uint32_t v = 0;
  for (int i = 0; i < digits; i++) {
    int d = hex_value((*p)[i]);
    if (d < 0)
      return false;
    v = (v << 4) | (uint32_t)d;
  }
  *p += digits;
  *out = v;
  return true;
}

static bool expect(const char **p, char c)
{
  if (**p != c)
    return false;
  (*p)++;
  return true;
}

XPCOM_API(bool) nsID_Parse(nsID *out, const char *str)
{
  if (!out || !str)
    return false;

  const char *p = str;
  bool braced = (*p == '{');
  if (braced)
    p++;

  nsID id;
  uint32_t v;
  /* read_hex stops at the first non-hex character, so a short string (its
   * NUL) fails before anything past its end is read. */
  if (!read_hex(&p, 8, &v))
    return false;
  id.m0 = v;
  if (!expect(&p, '-') || !read_hex(&p, 4, &v))
    return false;
  id.m1 = (uint16_t)v;
  if (!expect(&p, '-') || !read_hex(&p, 4, &v))
    return false;
  id.m2 = (uint16_t)v;
  if (!expect(&p, '-'))
    return false;
  for (int i = 0; i < 8; i++) {
    if (i == 2 && !expect(&p, '-'))
      return false;
    if (!read_hex(&p, 2, &v))
      return false;
    id.m3[i] = (uint8_t)v;
  }
  if (braced && !expect(&p, '}'))
    return false;
  if (*p != '\0')
    return false;

  *out = id;
  return true;
}

XPCOM_API(void) nsID_ToString(const nsID *id, char out[NSID_LENGTH])
{
  snprintf(out, NSID_LENGTH,
           "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
           (unsigned)id->m0, (unsigned)id->m1, (unsigned)id->m2,
           (unsigned)id->m3[0], (unsigned)id->m3[1], (unsigned)id->m3[2],
           (unsigned)id->m3[3], (unsigned)id->m3[4], (unsigned)id->m3[5],
           (unsigned)id->m3[6], (unsigned)id->m3[7]);
}

XPCOM_API(bool) nsID_Equals(const nsID *a, const nsID *b)
{
  return a->m0 == b->m0 && a->m1 == b->m1 && a->m2 == b->m2 &&
         memcmp(a->m3, b->m3, sizeof a->m3) == 0;
}
