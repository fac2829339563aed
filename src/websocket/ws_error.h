/*
 * ws_error.h — error codes of the sans-I/O WebSocket engine (src/websocket).
 *
 * Every engine function that can fail returns an int: 0 (or a documented
 * non-negative count) on success, a negative `enum ws_error` on failure.
 * The codes are grouped by hundreds:
 *
 *   -1xx  API misuse by the caller. Nothing changed; the object is usable.
 *   -2xx  opening-handshake failures (the connection never opened; no close
 *         frame is sent, the caller closes TCP).
 *   -3xx  RFC 6455 protocol violations by the peer (close code 1002).
 *   -4xx  peer data the application cannot accept (1007 bad UTF-8, 1009 too
 *         big) or local failures (1011).
 *   <= WS_ERR_FATAL (-900)  resource failures (out of memory). A send that
 *         fails this way left the session unchanged; a receive that fails
 *         this way has failed the session.
 *
 * Each code carries the RFC 6455 §7.4.1 close code the session sends when
 * the error fails an established connection (0 = none). Only the component
 * maps these codes to nsresult values; the engine never sees XPCOM.
 *
 * permessage-deflate (RFC 7692, ws_deflate.h) adds two codes:
 *   WS_ERR_HANDSHAKE_PMD   the response's permessage-deflate element breaks
 *                          §7.1 (unknown/repeated parameter, bad value, a
 *                          parameter we did not offer). Map to
 *                          NS_ERROR_ILLEGAL_VALUE, like every bad response
 *                          header. An extension we did not offer, or
 *                          permessage-deflate twice, stays
 *                          WS_ERR_HANDSHAKE_EXTENSION (RFC 6455 §9.1).
 *   WS_ERR_INVALID_DEFLATE a compressed message is not valid DEFLATE data
 *                          (RFC 7692 §6.2 "fail the connection"). RFC 7692
 *                          names no close code; we send 1007 (data not
 *                          consistent with the message type), as Node's
 *                          `ws` does. Map to NS_ERROR_INVALID_CONTENT_ENCODING,
 *                          which modern Gecko reports for an inflate error.
 * A decompressed message over the limit is WS_ERR_MESSAGE_TOO_BIG (1009,
 * NS_ERROR_FILE_TOO_BIG), invalid decompressed text WS_ERR_INVALID_UTF8.
 *
 * This header also defines WS_API, the export attribute of the engine's
 * public functions (libwschannel is built with -fvisibility=hidden).
 */
#ifndef WSCHANNEL_WS_ERROR_H
#define WSCHANNEL_WS_ERROR_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
#define WS_BEGIN_DECLS extern "C" {
#define WS_END_DECLS }
#else
#define WS_BEGIN_DECLS
#define WS_END_DECLS
#endif

#define WS_API __attribute__((visibility("default")))

WS_BEGIN_DECLS

/* X(name, value, close code, message) */
#define WS_ERROR_MAP(X)                                                        \
  X(INVALID_ARGUMENT, -101, 0, "invalid argument")                             \
  X(INVALID_STATE, -102, 0, "operation not allowed in the session's state")    \
  X(HANDSHAKE_STATUS, -201, 0, "server did not answer 101 Switching Protocols") \
  X(HANDSHAKE_MALFORMED, -202, 0, "malformed HTTP response")                   \
  X(HANDSHAKE_TOO_LARGE, -203, 0, "HTTP response header block too large")      \
  X(HANDSHAKE_UPGRADE, -204, 0, "Upgrade header missing or not websocket")     \
  X(HANDSHAKE_CONNECTION, -205, 0, "Connection header missing or not Upgrade") \
  X(HANDSHAKE_ACCEPT, -206, 0, "Sec-WebSocket-Accept missing or wrong")        \
  X(HANDSHAKE_PROTOCOL, -207, 0, "server chose a subprotocol not offered")     \
  X(HANDSHAKE_EXTENSION, -208, 0, "server chose an extension not offered or malformed") \
  X(HANDSHAKE_PMD, -209, 0, "invalid permessage-deflate parameters in the response") \
  X(PROTO_RSV, -301, 1002, "reserved bit set without a negotiated extension")  \
  X(PROTO_OPCODE, -302, 1002, "reserved opcode")                               \
  X(PROTO_CONTROL_TOO_LONG, -303, 1002, "control frame payload over 125 bytes") \
  X(PROTO_CONTROL_FRAGMENTED, -304, 1002, "fragmented control frame")          \
  X(PROTO_NONMINIMAL_LENGTH, -305, 1002, "payload length not minimally encoded") \
  X(PROTO_LENGTH_MSB, -306, 1002, "64-bit payload length with the top bit set") \
  X(PROTO_MASK, -307, 1002, "frame masking does not match the sender's role")   \
  X(PROTO_CONTINUATION, -308, 1002, "continuation frame without a message")    \
  X(PROTO_FRAGMENT, -309, 1002, "new data frame inside a fragmented message")  \
  X(PROTO_CLOSE_PAYLOAD, -310, 1002, "close frame with a 1-byte payload")      \
  X(PROTO_CLOSE_CODE, -311, 1002, "invalid close code")                        \
  X(INVALID_UTF8, -401, 1007, "invalid UTF-8 in a text message or close reason") \
  X(MESSAGE_TOO_BIG, -402, 1009, "message exceeds the maximum message size")   \
  X(INTERNAL, -403, 1011, "internal error")                                    \
  X(CALLBACK_FAILURE, -404, 1011, "a callback reported failure")               \
  X(INVALID_DEFLATE, -405, 1007, "corrupt permessage-deflate data")             \
  X(NOMEM, -901, 1011, "out of memory")

enum ws_error {
  WS_OK = 0,
#define WS__ERROR_ENUM(name, value, code, msg) WS_ERR_##name = value,
  WS_ERROR_MAP(WS__ERROR_ENUM)
#undef WS__ERROR_ENUM
};

/* Errors at or below this value are resource failures (see above). */
#define WS_ERR_FATAL (-900)

/* True for codes <= WS_ERR_FATAL. Pure; any thread. */
WS_API bool ws_error_is_fatal(int err);

/* "WS_ERR_PROTO_RSV" etc.; "WS_OK" for 0; "WS_ERR_UNKNOWN" for anything else.
 * Returns a static string (never NULL, never freed). Any thread. */
WS_API const char *ws_error_name(int err);

/* Human-readable English message; static string, never NULL. Any thread. */
WS_API const char *ws_error_message(int err);

/* The RFC 6455 §7.4.1 close code to send when `err` fails an open
 * connection: 1002, 1007, 1009 or 1011; 0 when no close frame applies
 * (WS_OK, API misuse, handshake errors, unknown codes). Any thread. */
WS_API uint16_t ws_error_close_code(int err);

WS_END_DECLS

#endif
