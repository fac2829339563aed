/*
 * net_uri_object.h — the nsIURI object for ws, wss, http and https URIs
 * (Gecko 52 nsIURI, IID 92073a54-6d78-4f30-913a-b871813208c6), a thin
 * XPCOM wrapper over the pure module net_uri.h, and NS_NewURI.
 *
 * Behaviour is Gecko's nsStandardURL with the normal form described in
 * net_uri.h. Differences a caller may notice:
 *  - `host` is the ASCII (punycode) form, like `asciiHost`;
 *  - URIs are always escaped in UTF-8: an origin charset is accepted and
 *    ignored, and `originCharset` is always "UTF-8" (what Gecko returns
 *    for a UTF-8 URI);
 *  - `equals` is true only between two objects of this implementation
 *    (as Gecko's nsStandardURL::Equals, which QIs to its own class).
 *
 * Threads: the refcount is atomic and every method may be called on any
 * thread; each object guards its value with a lock, and setters replace
 * the value whole, so a reader never sees a half-made URI.
 *
 * Errors: NS_ERROR_MALFORMED_URI (0x804B000A) for anything that does not
 * parse, NS_ERROR_UNKNOWN_PROTOCOL for a scheme other than the four,
 * NS_ERROR_UNEXPECTED for an empty scheme or host, NS_ERROR_FAILURE for a
 * password without a username, NS_ERROR_OUT_OF_MEMORY, and
 * NS_ERROR_NULL_POINTER for a NULL out pointer or argument. On failure a
 * setter leaves the URI unchanged.
 */
#ifndef WSCHANNEL_NET_URI_OBJECT_H
#define WSCHANNEL_NET_URI_OBJECT_H

#include "nscore.h"
#include "nsIURI.h" /* generated from idl/nsIURI.idl */
#include "net/net_uri.h"

XPCOM_BEGIN_DECLS

/*
 * Creates an nsIURI from the UTF-8 `spec`, resolved against `base` when
 * the spec is relative (Gecko's NS_NewURI shape). `base` may be NULL or
 * any nsIURI implementation: ours is used directly; another's spec is
 * parsed, and if that fails the base's own resolve() is asked for the
 * absolute spec. `charset` is ignored (URIs are escaped in UTF-8).
 * On success *result holds the new URI, AddRef'd (the caller releases it);
 * on failure *result is NULL. Any thread.
 */
XPCOM_API(nsresult)
NS_NewURI(nsIURI **result, const nsACString *spec, const char *charset, nsIURI *base);

/*
 * Wraps `uri` (ownership passes to the new object, even on failure) in a
 * new nsIURI, AddRef'd into *result. Any thread.
 */
XPCOM_API(nsresult) net_uri_object_wrap(net_uri *uri, nsIURI **result);

/*
 * The parsed value of any nsIURI, for C code such as the channel: a copy
 * of ours, or the other implementation's spec parsed. *out is the caller's
 * to net_uri_free. NS_ERROR_MALFORMED_URI / NS_ERROR_UNKNOWN_PROTOCOL when
 * a foreign URI is not a ws/wss/http/https URI. Any thread.
 */
XPCOM_API(nsresult) net_uri_from_nsIURI(nsIURI *uri, net_uri **out);

/* True when `uri` is an object of this implementation. */
XPCOM_API(bool) net_uri_object_is_ours(nsIURI *uri);

/* Maps a NET_URI_ERR_* code to its nsresult (see above). */
XPCOM_API(nsresult) net_uri_error_to_nsresult(int err);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_URI_OBJECT_H */
