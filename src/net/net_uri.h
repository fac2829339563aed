/*
 * net_uri.h — parse and normalise ws, wss, http and https URIs the way
 * Gecko's nsStandardURL does. Pure C: no XPCOM types, no threads, no I/O.
 *
 * Parsing and reference resolution follow RFC 3986 and are done with
 * liburiparser; internationalised host names become A-labels with libidn2
 * (UTS #46 non-transitional processing, as Firefox does since bug 1218179).
 * The nsIURI object (net_uri_object.c) is a thin XPCOM wrapper over this.
 *
 * Normal form (what every accessor returns):
 *   scheme://[username[:password]@]host[:port]/path[?query][#ref]
 * - scheme and host are lower case;
 * - an internationalised host is in its ASCII (punycode) form: `host` and
 *   `asciiHost` are the same string. Gecko returns the Unicode form in
 *   `host` for whitelisted TLDs; we never do (no display policy here);
 * - an IPv6 literal is written in brackets in spec/prePath/hostPort, and
 *   without them in `host`, in RFC 5952 canonical text; zone ids are
 *   refused; IPv4 literals are normalised to dotted decimal, including
 *   Gecko's (WHATWG) short, octal and hex forms ("0x7f.1" -> 127.0.0.1);
 * - a port equal to the scheme's default is dropped (port() returns -1);
 * - the path is never empty ("/"), dot segments are removed (RFC 3986
 *   §5.2.4); characters RFC 3986 does not allow in a component (space,
 *   controls, non-ASCII bytes, "<>\"^`{|}[]", a '%' not followed by two
 *   hex digits, a second '#') are percent-encoded; `\` counts as `/` before
 *   the query (Gecko bug 652186); tab, CR and LF are removed and leading or
 *   trailing C0 controls and spaces stripped (Gecko net_FilterURIString);
 * - userinfo is kept only when the username is non-empty (Gecko);
 * - an empty query ("?") or ref ("#") is kept.
 *
 * Values are immutable once built: "setters" return a new URI. A net_uri
 * may therefore be read from any number of threads at once; each function
 * here is reentrant and may be called on any thread.
 */
#ifndef WSCHANNEL_NET_URI_H
#define WSCHANNEL_NET_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Export attribute: libwschannel is built with -fvisibility=hidden, and the
 * component and tests call these functions from outside it. */
#ifndef NET_URI_API
#define NET_URI_API __attribute__((visibility("default")))
#endif

/* Results: 0 or one of these negative codes. */
enum {
  NET_URI_OK = 0,
  NET_URI_ERR_MALFORMED = -1,      /* not a URI we can parse (Gecko: MALFORMED_URI) */
  NET_URI_ERR_UNKNOWN_SCHEME = -2, /* a scheme other than ws/wss/http/https */
  NET_URI_ERR_NOMEM = -3,          /* an allocation failed; nothing changed */
  NET_URI_ERR_INVALID = -4,        /* setter value refused (empty scheme/host, bad scheme
                                      characters); Gecko: NS_ERROR_UNEXPECTED */
  NET_URI_ERR_STATE = -5           /* setter impossible in this state (password
                                      without username); Gecko: NS_ERROR_FAILURE */
};

/* Gecko's network.standard-url.max-length default: longer input or a
 * longer normalised spec is NET_URI_ERR_MALFORMED. */
#define NET_URI_MAX_LENGTH 1048576u

typedef struct net_uri net_uri;

/* A view into a URI's storage: valid while the URI lives; not
 * NUL-terminated unless stated. */
typedef struct net_uri_str {
  const char *data;
  size_t len;
} net_uri_str;

/* The parts a setter may replace (nsIURI's writable attributes). */
typedef enum net_uri_part {
  NET_URI_SPEC,      /* whole URI, parsed again (may change scheme) */
  NET_URI_SCHEME,    /* must be a known scheme; an explicit port equal to the
                        new default is dropped, a default port follows the
                        new scheme */
  NET_URI_USERPASS,  /* "user[:pass]"; empty removes; empty user removes */
  NET_URI_USERNAME,  /* empty removes username and password */
  NET_URI_PASSWORD,  /* needs a username (else ERR_STATE); empty removes */
  NET_URI_HOSTPORT,  /* "host[:port]" / "[v6][:port]"; no port keeps the port */
  NET_URI_HOSTANDPORT, /* like HOSTPORT, but no port means the default port */
  NET_URI_HOST,      /* cut at the first / \ ? #; empty → ERR_INVALID */
  NET_URI_PATH,      /* path[?query][#ref]; '/' prepended; empty → "/" */
  NET_URI_FILEPATH,  /* path only, query and ref kept; '?' '#' are escaped */
  NET_URI_QUERY,     /* leading '?' optional; empty removes the query */
  NET_URI_REF        /* leading '#' optional; empty removes the ref */
} net_uri_part;

/*
 * Parses `len` bytes at `spec` (need not be NUL-terminated; NULL with len 0
 * is the empty string), relative to `base` when `base` is non-NULL and the
 * spec is not absolute (RFC 3986 §5.2; like Gecko, "ws:foo" with a ws base
 * is relative, and a spec that is only "#ref" keeps the base's path).
 * On success returns 0 and stores a new URI in *out (free with
 * net_uri_free); on failure returns a NET_URI_ERR_* code and sets *out to
 * NULL. `base` is only read.
 */
NET_URI_API int net_uri_parse(const char *spec, size_t len, const net_uri *base, net_uri **out);

/* Frees a URI; NULL is ignored. */
NET_URI_API void net_uri_free(net_uri *uri);

/* Copies `uri` into *out (one allocation). 0 or NET_URI_ERR_NOMEM. */
NET_URI_API int net_uri_clone(const net_uri *uri, net_uri **out);

/* ---- accessors: views into `uri`, valid while it lives ------------- */

/* The whole spec, NUL-terminated, and its length. asciiSpec is the same
 * string (everything is ASCII in the normal form). */
NET_URI_API const char *net_uri_spec(const net_uri *uri);
NET_URI_API size_t net_uri_spec_len(const net_uri *uri);
NET_URI_API net_uri_str net_uri_scheme(const net_uri *uri);         /* "ws" */
NET_URI_API net_uri_str net_uri_prepath(const net_uri *uri);        /* "ws://u:p@host:81" */
NET_URI_API net_uri_str net_uri_userpass(const net_uri *uri);       /* "u:p", "" if none */
NET_URI_API net_uri_str net_uri_username(const net_uri *uri);       /* "u" */
NET_URI_API net_uri_str net_uri_password(const net_uri *uri);       /* "p" */
NET_URI_API net_uri_str net_uri_hostport(const net_uri *uri);       /* "host:81", "[::1]" */
NET_URI_API net_uri_str net_uri_host(const net_uri *uri);           /* "host", "::1" (= asciiHost) */
NET_URI_API net_uri_str net_uri_path(const net_uri *uri);           /* "/p?q#r" (Gecko 52 path) */
NET_URI_API net_uri_str net_uri_filepath(const net_uri *uri);       /* "/p" */
NET_URI_API net_uri_str net_uri_query(const net_uri *uri);          /* "q", "" if none */
NET_URI_API net_uri_str net_uri_ref(const net_uri *uri);            /* "r", "" if none */
NET_URI_API net_uri_str net_uri_spec_ignoring_ref(const net_uri *uri);
/* The request target of an HTTP/WebSocket request line: path and query,
 * never the ref ("/p?q"). */
NET_URI_API net_uri_str net_uri_request_target(const net_uri *uri);
NET_URI_API bool net_uri_has_ref(const net_uri *uri);
NET_URI_API bool net_uri_has_query(const net_uri *uri);
NET_URI_API bool net_uri_has_password(const net_uri *uri);
NET_URI_API bool net_uri_host_is_ipv6(const net_uri *uri);
/* Explicit port, or -1 when the scheme's default applies (Gecko). */
NET_URI_API int32_t net_uri_port(const net_uri *uri);
/* The port to connect to: explicit or the scheme's default. */
NET_URI_API int32_t net_uri_effective_port(const net_uri *uri);
NET_URI_API int32_t net_uri_default_port(const net_uri *uri);
/* True for wss and https. */
NET_URI_API bool net_uri_is_secure(const net_uri *uri);
/* Case-insensitive comparison of the scheme with a NUL-terminated name;
 * NULL compares false. */
NET_URI_API bool net_uri_scheme_is(const net_uri *uri, const char *scheme);

/* Equality of normal forms; with _except_ref the refs are ignored
 * (Gecko: "http://foo.com/#" equalsExceptRef "http://foo.com/"). */
NET_URI_API bool net_uri_equals(const net_uri *a, const net_uri *b);
NET_URI_API bool net_uri_equals_except_ref(const net_uri *a, const net_uri *b);

/*
 * nsIURI.resolve: resolves `rel` against `base` and returns the absolute
 * spec in *out (malloc'd, NUL-terminated, length in *out_len if non-NULL;
 * free with free()). As in Gecko, an absolute spec with a scheme we do not
 * handle is returned as given (after the tab/CR/LF filter), and an empty
 * `rel` gives the base without its ref. Returns 0 or NET_URI_ERR_*.
 */
NET_URI_API int net_uri_resolve(const net_uri *base, const char *rel, size_t len, char **out,
                    size_t *out_len);

/*
 * Setters of nsIURI's writable attributes, as pure functions: build a new
 * URI from `uri` with `part` replaced by `len` bytes at `value`, normalised
 * again. On success 0 and *out is new (free it); on failure an error and
 * *out is NULL. `uri` is unchanged either way. Semantics follow Gecko's
 * nsStandardURL setters (see net_uri_part).
 */
NET_URI_API int net_uri_with(const net_uri *uri, net_uri_part part, const char *value, size_t len,
                 net_uri **out);
/* port -1 = default; 0..65535; anything else NET_URI_ERR_MALFORMED. */
NET_URI_API int net_uri_with_port(const net_uri *uri, int32_t port, net_uri **out);

/* ---- schemes -------------------------------------------------------- */

/* Default port of a known scheme (case-insensitive, `len` bytes), or -1. */
NET_URI_API int32_t net_uri_scheme_default_port(const char *scheme, size_t len);

/*
 * Gecko's net_ExtractURLScheme: skips leading C0 controls and spaces, then
 * reads ALPHA *(ALPHA / DIGIT / "+" / "-" / ".") followed by ':'. Stores
 * its offset in *start and length in *slen and returns 0, or
 * NET_URI_ERR_MALFORMED when there is none. Callers lower-case it.
 */
NET_URI_API int net_uri_extract_scheme(const char *spec, size_t len, size_t *start, size_t *slen);

/* Static English text for a NET_URI_* code. */
NET_URI_API const char *net_uri_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* WSCHANNEL_NET_URI_H */
