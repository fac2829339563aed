/*
 * xpcom_errors.c — nsresult names for messages.
 */
#include <prerror.h>
#include <stdio.h>

#include "nsError.h"

/* Every name in the list must have the same value as its macro. */
#define NS_ERROR_ENTRY(name, value)                                           \
  _Static_assert((uint32_t)(name) == (uint32_t)(value), #name " mismatch");
#include "nsErrorList.h"
#undef NS_ERROR_ENTRY

typedef struct error_name {
  nsresult value;
  const char *name;
} error_name;

static const error_name kErrorNames[] = {
#define NS_ERROR_ENTRY(name, value) {(nsresult)(value), #name},
#include "nsErrorList.h"
#undef NS_ERROR_ENTRY
};

XPCOM_API(const char *) XPCOM_ErrorName(nsresult rv)
{
  /* A linear scan in list order: the first match is the canonical name,
   * and the list is short enough that this costs nothing noticeable. */
  for (size_t i = 0; i < sizeof kErrorNames / sizeof kErrorNames[0]; i++) {
    if (kErrorNames[i].value == rv)
      return kErrorNames[i].name;
  }
  return NULL;
}

XPCOM_API(void) XPCOM_FormatError(nsresult rv, char *buf, size_t len)
{
  if (!buf || len == 0)
    return;
  const char *name = XPCOM_ErrorName(rv);
  if (name) {
    snprintf(buf, len, "%s (0x%08x)", name, (unsigned)rv);
    return;
  }
  if (NS_ERROR_IS_NSS_ERROR(rv)) {
    /* NSS registers its error names with NSPR when it initialises; before
     * that (or for a code it does not know) this is NULL. */
    const char *nss = PR_ErrorToName((PRErrorCode)NS_ERROR_TO_NSS_ERROR(rv));
    if (nss) {
      snprintf(buf, len, "0x%08x (%s)", (unsigned)rv, nss);
      return;
    }
  }
  snprintf(buf, len, "0x%08x", (unsigned)rv);
}
