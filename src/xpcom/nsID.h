/*
 * nsID.h — parsing, formatting and comparing nsIDs (IIDs and CIDs).
 *
 * The nsID struct itself is in nscore.h (Gecko's 16-byte layout). The
 * string form is Gecko's: "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", the
 * first three groups being m0, m1, m2 in hex and the last two the eight
 * bytes of m3 in order.
 *
 * All functions are pure (no allocation, no global state): any thread.
 */
#ifndef WSCHANNEL_NSID_H
#define WSCHANNEL_NSID_H

#include "nscore.h"

XPCOM_BEGIN_DECLS

/*
 * Parses str, which must be exactly an nsID in either hex case, with both
 * braces or none (36 or 38 characters, nothing before or after).
 * On success stores the value in *out and returns true; on failure returns
 * false and leaves *out untouched. NULL out or str → false.
 */
XPCOM_API(bool) nsID_Parse(nsID *out, const char *str);

/*
 * Writes the lower-case braced form of *id and a NUL into out
 * (NSID_LENGTH = 39 bytes, all of them written).
 */
XPCOM_API(void) nsID_ToString(const nsID *id, char out[NSID_LENGTH]);

/* True when both IDs have the same 16 bytes. Both must be non-NULL. */
XPCOM_API(bool) nsID_Equals(const nsID *a, const nsID *b);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NSID_H */
