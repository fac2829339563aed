/*
 * xpcom_object.c — table-driven QueryInterface.
 */
#include "xpcom_object.h"
#include "nsID.h"

XPCOM_API(nsresult)
xpcom_table_qi(void *object, const xpcom_qi_entry *table, const nsIID *iid,
               void **result)
{
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  if (!iid || !object || !table)
    return NS_ERROR_NULL_POINTER;

  const xpcom_qi_entry *match = NULL;
  for (const xpcom_qi_entry *e = table; e->iid; e++) {
    if (nsID_Equals(e->iid, iid)) {
      match = e;
      break;
    }
  }
  /* nsISupports is the identity: always the first interface, so that
   * every QI(nsISupports) on one object yields one pointer. */
  if (!match && table[0].iid && nsID_Equals(iid, &nsISupports_IID))
    match = &table[0];
  if (!match)
    return NS_NOINTERFACE;

  nsISupports *iface = (nsISupports *)(void *)((char *)object + match->offset);
  iface->vtbl->AddRef(iface);
  *result = iface;
  return NS_OK;
}
