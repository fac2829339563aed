/*
 * ws_handshake.h — RFC 6455 §4 client opening handshake: request builder,
 * incremental response parser and validator, Sec-WebSocket-Accept, and the
 * §9.1 Sec-WebSocket-Extensions grammar.
 *
 * Sans-I/O: the caller writes the request bytes and feeds what it reads.
 * The response may arrive split at any byte; bytes after the header block
 * belong to the first frames and are left to the caller (see
 * ws_handshake_recv's `consumed`).
 *
 * Response parsing choices (documented):
 *  - Lines end in CRLF; a bare LF is accepted too (RFC 7230 §3.5). A CR
 *    anywhere else, NUL or another control character except HT is
 *    malformed.
 *  - Status line: "HTTP/" DIGIT "." DIGIT SP 3DIGIT [SP reason]. Bytes that
 *    cannot start "HTTP/" fail at once (garbage is not waited on). Anything
 *    but HTTP/1.1 101 fails as soon as the status line is complete, with the
 *    code available from ws_handshake_status_code().
 *  - obs-fold (a header line starting with SP or HT) is accepted and
 *    replaced by a single SP, as RFC 7230 §3.2.4 requires of a user agent;
 *    a fold before the first header is malformed. Whitespace between a
 *    field name and its colon is malformed (§3.2.4).
 *  - Limits: 16 KiB for the whole header block (status line included) and
 *    100 header fields; beyond them WS_ERR_HANDSHAKE_TOO_LARGE.
 *  - Names match case-insensitively; values are trimmed of SP/HT. Upgrade,
 *    Connection and Sec-WebSocket-Extensions may repeat (their lists are
 *    combined); Sec-WebSocket-Accept and Sec-WebSocket-Protocol may not.
 *  - Sec-WebSocket-Protocol, when present, must be exactly one value equal
 *    (case-sensitively, as Gecko compares) to one we offered (§4.1).
 *  - Sec-WebSocket-Extensions must parse per §9.1 and name only extensions
 *    we offered, each at most once (else WS_ERR_HANDSHAKE_EXTENSION). A
 *    permessage-deflate element must also satisfy RFC 7692 §7.1 against
 *    our offer (ws_pmd_negotiate, ws_deflate.h), else
 *    WS_ERR_HANDSHAKE_PMD; other extensions' parameters are kept for the
 *    caller to judge.
 *
 * Crypto: SHA-1 is NSS's HASH_HashBuf and base64 NSPR's PL_Base64Encode.
 * NSS must be initialised (NSS_NoDB_Init or NSS_Init) before
 * ws_handshake_new / ws_handshake_accept_key; otherwise they fail with
 * WS_ERR_INTERNAL. The functions are otherwise pure: no I/O, no threads;
 * a handshake object is used by one thread at a time.
 */
#ifndef WSCHANNEL_WS_HANDSHAKE_H
#define WSCHANNEL_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_error.h"
#include "ws_mem.h"

WS_BEGIN_DECLS

#define WS_HANDSHAKE_KEY_LEN 16      /* raw Sec-WebSocket-Key bytes */
#define WS_HANDSHAKE_ACCEPT_LEN 28   /* base64 of a SHA-1 digest */
#define WS_HANDSHAKE_MAX_HEADER_BYTES 16384
#define WS_HANDSHAKE_MAX_HEADERS 100

/* ---- Sec-WebSocket-Extensions (RFC 6455 §9.1) -------------------------- */

struct ws_extension_param {
  const char *name;  /* token, NUL-terminated */
  const char *value; /* token (quoted-string already unescaped), or NULL if absent */
};

struct ws_extension {
  const char *name; /* extension-token */
  size_t nparams;
  const struct ws_extension_param *params;
};

struct ws_extension_list {
  size_t count;
  const struct ws_extension *items;
};

/* Parses `len` bytes of an extension-list:
 *   extension-list = 1#extension
 *   extension = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]
 * with optional whitespace around separators; empty list elements are
 * skipped (RFC 7230 §7); a quoted-string value must unescape to a token.
 * On success *out is one allocation from `mem` (NULL → libc) holding the
 * list and all its strings; free it with ws_extensions_free(*out, mem).
 * An empty or all-blank value gives a list with count 0.
 * Returns 0, WS_ERR_INVALID_ARGUMENT on a syntax error, WS_ERR_NOMEM. */
WS_API int ws_extensions_parse(const char *value, size_t len, const struct ws_mem *mem,
                               struct ws_extension_list **out);

/* Frees a list from ws_extensions_parse with the same allocator; NULL ok. */
WS_API void ws_extensions_free(struct ws_extension_list *list, const struct ws_mem *mem);

/* ---- Sec-WebSocket-Accept --------------------------------------------- */

/* out = base64(SHA-1(base64(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
 * (RFC 6455 §4.2.2 item 5.4), NUL-terminated: out needs 29 bytes.
 * Returns 0 or WS_ERR_INTERNAL (NSS not initialised / hash failure). */
WS_API int ws_handshake_accept_key(const uint8_t key[WS_HANDSHAKE_KEY_LEN],
                                   char out[WS_HANDSHAKE_ACCEPT_LEN + 1]);

/* ---- the handshake ---------------------------------------------------- */

struct ws_handshake_config {
  const char *host;   /* required: ASCII host (IDN already punycode); an IPv6
                         literal is bracketed if the caller did not */
  uint16_t port;      /* 0 = the scheme's default */
  bool secure;        /* wss: default port 443, else 80 */
  const char *path;   /* path and "?query", starting with '/'; NULL or "" = "/" */
  const char *origin; /* Origin header; NULL or "" = none */
  const char *const *protocols; /* subprotocols to offer (tokens, unique) */
  size_t nprotocols;
  const char *extensions; /* Sec-WebSocket-Extensions offer; NULL or "" = none */
  uint8_t key[WS_HANDSHAKE_KEY_LEN]; /* random bytes from the caller (NSS) */
};

struct ws_handshake;

/* Creates a handshake: validates `cfg`, builds the request (§4.1) and
 * computes the expected Sec-WebSocket-Accept. Copies everything it needs:
 * `cfg` and its strings may be freed after the call. `mem` NULL = libc.
 * Returns 0 with *out set (free with ws_handshake_del), or
 * WS_ERR_INVALID_ARGUMENT (missing host; CR/LF/control or non-ASCII bytes
 * in any field; path not starting with '/' or holding '#'; a subprotocol
 * that is not a token or repeats; an extension offer that does not parse),
 * WS_ERR_INTERNAL (NSS), WS_ERR_NOMEM. */
WS_API int ws_handshake_new(struct ws_handshake **out, const struct ws_handshake_config *cfg,
                            const struct ws_mem *mem);

/* Frees the handshake and every string it returned. NULL is ignored. */
WS_API void ws_handshake_del(struct ws_handshake *hs);

/* The request bytes to write: owned by `hs`, valid until ws_handshake_del. */
WS_API void ws_handshake_request(const struct ws_handshake *hs, const uint8_t **data,
                                 size_t *len);

/* Feeds response bytes. *consumed (always set) is how many bytes of `in`
 * belong to the HTTP response; the rest (in + *consumed) are WebSocket
 * frames the caller must hand to the session.
 * Returns 0: need more (all of `in` consumed);
 *         1: the response is complete and valid (101, all checks passed);
 *         a negative WS_ERR_HANDSHAKE_* (or WS_ERR_NOMEM): failed — sticky;
 *           WS_ERR_HANDSHAKE_STATUS means "not HTTP/1.1 101" (see
 *           ws_handshake_status_code), the others a malformed or invalid
 *           response.
 * On an error *consumed counts the bytes up to the one that showed it (for
 * a bad line: up to its LF; for WS_ERR_HANDSHAKE_TOO_LARGE: up to the first
 * byte over the limit).
 * After 1 or an error, further calls consume nothing and return the same. */
WS_API int ws_handshake_recv(struct ws_handshake *hs, const uint8_t *in, size_t len,
                             size_t *consumed);

/* The status code of the response's status line, 0 before it is parsed. */
WS_API int ws_handshake_status_code(const struct ws_handshake *hs);

/* Negotiated subprotocol ("" when none); owned by hs. Meaningful after
 * ws_handshake_recv returned 1. */
WS_API const char *ws_handshake_protocol(const struct ws_handshake *hs);

/* Negotiated extensions as the server sent them (several header fields
 * joined with ", "; "" when none); owned by hs. After recv returned 1. */
WS_API const char *ws_handshake_extensions(const struct ws_handshake *hs);

/* The parsed negotiated extensions (count 0 when none); owned by hs.
 * After recv returned 1. */
WS_API const struct ws_extension_list *ws_handshake_extension_list(const struct ws_handshake *hs);

struct ws_pmd_params; /* ws_deflate.h */

/* True when the response accepted permessage-deflate (RFC 7692); then
 * *out (if not NULL) receives the agreed parameters, ready for
 * ws_session_enable_pmd. False before recv returned 1, or when the server
 * did not accept it (the connection runs uncompressed). */
WS_API bool ws_handshake_pmd(const struct ws_handshake *hs, struct ws_pmd_params *out);

/* Value of the `index`th response header field named `name` (any case),
 * trimmed and unfolded, or NULL. Owned by hs; valid once the header block
 * has been parsed (recv returned 1, or failed after the headers). */
WS_API const char *ws_handshake_header(const struct ws_handshake *hs, const char *name,
                                       size_t index);

WS_END_DECLS

#endif
