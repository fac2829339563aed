/*
 * ws_session.h — the RFC 6455 message layer of a client connection, after
 * the opening handshake: message assembly, control frames, the close
 * handshake, limits, and an output queue the socket layer drains.
 *
 * Sans-I/O. The caller (the socket-transport thread) feeds every byte it
 * reads to ws_session_recv, which reports events through callbacks, and
 * writes what ws_session_peek_output shows, then ws_session_consume_output
 * the bytes the socket took. The session never touches sockets, threads,
 * timers or XPCOM.
 *
 * Threading: a session belongs to one thread at a time; no locking.
 * Reentrancy: callbacks run inside ws_session_recv (on_message, on_ping,
 * on_pong, on_close, on_error) or ws_session_consume_output
 * (on_acknowledge). From a callback the caller may call the send functions,
 * ws_session_state/error/want_write and (in on_message)
 * ws_session_take_message_buffer; it must not call ws_session_recv,
 * ws_session_consume_output or ws_session_del.
 *
 * Receiving (RFC 6455 §5, §6.2, §8.1):
 *  - Whole messages are delivered to on_message. A message that arrives as
 *    one frame within one recv call is delivered straight from the input
 *    buffer (zero copy); fragmented or split messages are assembled in a
 *    buffer that grows with what arrived (never by what a header claims,
 *    except that a final frame of up to 4 MiB is given its size at once).
 *    The caller may read a large frame's payload straight into that buffer
 *    (ws_session_direct_buffer / ws_session_recv_direct).
 *  - Text is validated as bytes arrive and fails at the first invalid byte
 *    (1007), even mid-frame. Close reasons likewise.
 *  - A message longer than max_message_size fails with 1009 as soon as a
 *    frame header makes it so.
 *  - Ping: a pong with the same payload is queued ahead of queued data
 *    frames, then on_ping runs. Pong: on_pong (unsolicited pongs are fine).
 *  - Close: empty → code 1005 reported; 1 byte → 1002; a code outside
 *    1000-1003, 1007-1014, 3000-4999 (the codes Autobahn|Testsuite accepts)
 *    → 1002; a reason that is not UTF-8 → 1007. Otherwise we echo the code
 *    (an empty close for an empty one) unless we already sent a close, and
 *    report on_close. Everything after the server's close is ignored. The
 *    echo goes out at once (§5.5.1): data messages queued but not yet
 *    begun are dropped then, as on a failure, and get no on_acknowledge
 *    (the rest of a partly written frame still goes first).
 *  - Any violation fails the connection: a close frame with the error's
 *    code (ws_error_close_code: 1002, 1007, 1009, 1011) is queued — unsent
 *    data is dropped, except the rest of a frame already partly written —
 *    on_error runs, recv returns the error, and the caller drains the output
 *    and closes TCP.
 *
 * Sending: each message is one FIN frame, masked with a fresh key (§5.3)
 * taken from the caller's random callback (fetched 64 bytes at a time).
 * Frames are copied (masked) into one output queue, so many small messages
 * leave in one write. Output order: the rest of a partly written data
 * frame, then control frames (pongs, pings) in order, then data frames, then
 * our close frame.
 *
 * Extensions: permessage-deflate (RFC 7692) is turned on by
 * ws_session_enable_pmd with the parameters the handshake agreed (see
 * ws_deflate.h for the whole sequence). Then:
 *  - RSV1 on the first frame of a data message marks it compressed (§6);
 *    RSV1 on a continuation or control frame, or on any frame when the
 *    extension is off, fails with 1002 (WS_ERR_PROTO_RSV).
 *  - A compressed message is inflated as its bytes arrive, directly into
 *    the assembly buffer; max_message_size applies to the inflated size
 *    (1009 as soon as it is exceeded, memory never above the limit) and
 *    text is validated as it is inflated (1007 at the first bad byte).
 *    Corrupt DEFLATE data fails with WS_ERR_INVALID_DEFLATE (1007).
 *  - send_text / send_binary compress the message into one FIN frame with
 *    RSV1 (or send it uncompressed when that is better, see ws_deflate.h);
 *    on_acknowledge still reports the size given to send.
 * options.rsv_allowed still lets RSV bits through the frame decoder for an
 * extension the session does not implement; an RSV1 message without
 * ws_session_enable_pmd then fails with WS_ERR_INTERNAL (1011).
 */
#ifndef WSCHANNEL_WS_SESSION_H
#define WSCHANNEL_WS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_error.h"
#include "ws_frame.h"
#include "ws_mem.h"

WS_BEGIN_DECLS

enum ws_message_type { WS_MESSAGE_TEXT = WS_OP_TEXT, WS_MESSAGE_BINARY = WS_OP_BINARY };

enum ws_session_state {
  WS_SESSION_OPEN,       /* both directions open */
  WS_SESSION_CLOSE_SENT, /* our close is queued; still receiving until the server's */
  WS_SESSION_CLOSED,     /* closes exchanged; drain the output, then close TCP */
  WS_SESSION_FAILED      /* we failed the connection (ws_session_error); drain, close TCP */
};

#define WS_SESSION_DEFAULT_MAX_MESSAGE UINT64_C(2147483647)

/* Close codes from RFC 6455 §7.4.1. */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL_ERROR 1002
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_NO_STATUS 1005 /* reported only, never sent */
#define WS_CLOSE_ABNORMAL 1006  /* reported only, never sent */
#define WS_CLOSE_INVALID_DATA 1007
#define WS_CLOSE_POLICY 1008
#define WS_CLOSE_TOO_BIG 1009
#define WS_CLOSE_EXTENSION 1010
#define WS_CLOSE_INTERNAL 1011

struct ws_session_callbacks {
  /* Required. Fill buf[0..len) with cryptographically random bytes (NSS's
   * PK11_GenerateRandom); return 0, or non-zero on failure (the send fails
   * with WS_ERR_CALLBACK_FAILURE). */
  int (*rand)(void *user_data, uint8_t *buf, size_t len);
  /* A complete message. `data` is valid only during the call (it points
   * into the caller's input or the session's buffer); len may be 0. */
  void (*on_message)(void *user_data, enum ws_message_type type, const uint8_t *data,
                     size_t len);
  /* A ping (its pong is already queued). */
  void (*on_ping)(void *user_data, const uint8_t *data, size_t len);
  /* A pong, solicited or not. */
  void (*on_pong)(void *user_data, const uint8_t *data, size_t len);
  /* The server's close: code (1005 if none) and UTF-8 reason (len may be
   * 0). The session is CLOSED (or stays FAILED) when this runs. */
  void (*on_close)(void *user_data, uint16_t code, const uint8_t *reason, size_t len);
  /* We failed the connection with `error` (a negative ws_error). */
  void (*on_error)(void *user_data, int error);
  /* The last byte of a message left through consume_output; `size` is the
   * message's size as given to send (before compression). Once per
   * message, in order. Not called for messages dropped by a failure. */
  void (*on_acknowledge)(void *user_data, uint64_t size);
};

struct ws_session_options {
  uint64_t max_message_size; /* 0 = WS_SESSION_DEFAULT_MAX_MESSAGE */
  unsigned rsv_allowed;      /* WS_RSV* bits negotiated extensions use; 0 normally */
};

/* Scatter element for ws_session_peek_output (convert to PRIOVec/iovec). */
struct ws_iovec {
  const uint8_t *base;
  size_t len;
};

struct ws_session;

/* Creates a client session in state OPEN. `cb` is copied (cb->rand is
 * required; other callbacks may be NULL), `opt` may be NULL (defaults),
 * `mem` NULL = libc. user_data is passed to every callback.
 * Returns 0 with *out set, WS_ERR_INVALID_ARGUMENT (no rand callback),
 * WS_ERR_CALLBACK_FAILURE (rand failed) or WS_ERR_NOMEM. */
WS_API int ws_session_new(struct ws_session **out, const struct ws_session_callbacks *cb,
                          const struct ws_session_options *opt, const struct ws_mem *mem,
                          void *user_data);

/* Frees the session and everything queued (zlib state included); no
 * callbacks run. NULL ok. Never from inside a callback. */
WS_API void ws_session_del(struct ws_session *s);

struct ws_pmd_params; /* ws_deflate.h */

/* Turns on permessage-deflate (RFC 7692) with the agreed parameters (from
 * ws_handshake_pmd; copied). Call at most once, before the first
 * ws_session_recv that carries bytes and the first send_text/send_binary —
 * i.e. right after the handshake, before feeding the session the bytes
 * that came with the 101. Allocates ~300 bytes; zlib state is created on
 * first use and freed by ws_session_del (see ws_deflate.h for the memory
 * figures). Returns 0; WS_ERR_INVALID_STATE (already enabled, data already
 * received or sent, not OPEN, or from a callback); WS_ERR_INVALID_ARGUMENT
 * (window bits outside 8..15); WS_ERR_NOMEM. On error nothing changed. */
WS_API int ws_session_enable_pmd(struct ws_session *s, const struct ws_pmd_params *params);

/* Processes `len` received bytes (all of them are always taken; a partial
 * frame header is kept inside). Returns 0, or the negative error that
 * failed the connection (then, and on every later call, the session is
 * FAILED and recv returns the same error). After the server's close,
 * returns 0 and ignores the bytes. Input may be split at any byte.
 * WS_ERR_NOMEM means a buffer could not grow: the session has failed
 * (close 1011 queued). WS_ERR_INVALID_STATE if called from a callback. */
WS_API int ws_session_recv(struct ws_session *s, const uint8_t *in, size_t len);

/* Direct receive, for large frames without the copy out of the caller's
 * read buffer. While the next bytes on the wire are at least `min` (>= 1)
 * payload bytes of an uncompressed data frame, returns where the caller
 * may read up to *len of them (the message's assembly buffer, grown for
 * them: a final frame of up to 4 MiB at once, else by at least as much as
 * arrived, so memory still follows what arrives). The caller reads at
 * most *len bytes there and reports how many with ws_session_recv_direct
 * before any other call on the session. Returns NULL (and *len = 0) when
 * the next bytes must go through ws_session_recv: between frames, inside
 * a header or a control frame, a compressed message, a buffer that cannot
 * grow, or from a callback. */
WS_API uint8_t *ws_session_direct_buffer(struct ws_session *s, size_t min, size_t *len);

/* The caller read n (1 <= n <= the *len just returned) payload bytes into
 * the buffer from ws_session_direct_buffer: processes them exactly as
 * ws_session_recv would (UTF-8 validation, delivery when the message
 * completes, which may hand the buffer over through
 * ws_session_take_message_buffer). Returns 0, the negative error that
 * failed the connection, WS_ERR_INVALID_ARGUMENT (n out of range or no
 * direct receive under way: nothing done) or WS_ERR_INVALID_STATE from a
 * callback. */
WS_API int ws_session_recv_direct(struct ws_session *s, size_t n);

/* Whether a final frame's buffer may be sized from its header at once
 * (on by default, up to 4 MiB). Off, buffers grow only with what arrived:
 * a caller that has stopped reading (backpressure) turns it off so that
 * a message beginning in its last read does not take a whole buffer
 * before the previous one is given back. Any time, also from callbacks. */
WS_API void ws_session_set_prealloc(struct ws_session *s, bool on);

/* Queue one text / binary message (copied, masked; returns at once).
 * Returns 0; WS_ERR_INVALID_STATE unless OPEN; WS_ERR_INVALID_ARGUMENT for
 * text that is not valid UTF-8; WS_ERR_CALLBACK_FAILURE (rand);
 * WS_ERR_NOMEM. On any error nothing was queued. */
WS_API int ws_session_send_text(struct ws_session *s, const uint8_t *data, size_t len);
WS_API int ws_session_send_binary(struct ws_session *s, const uint8_t *data, size_t len);

/* Queue a ping / an unsolicited pong (payload <= 125 bytes) among the
 * control frames. Same returns as send_text (INVALID_ARGUMENT if > 125). */
WS_API int ws_session_send_ping(struct ws_session *s, const uint8_t *data, size_t len);
WS_API int ws_session_send_pong(struct ws_session *s, const uint8_t *data, size_t len);

/* Starts the close handshake: queues a close frame after all queued data
 * and moves OPEN → CLOSE_SENT; then data can no longer be sent.
 * code 0 sends an empty close body (reason must then be empty); otherwise
 * code must satisfy ws_close_code_is_valid and the reason be valid UTF-8 of
 * at most 123 bytes. Returns 0, WS_ERR_INVALID_STATE (not OPEN: already
 * closing, closed or failed), WS_ERR_INVALID_ARGUMENT. Never allocates. */
WS_API int ws_session_send_close(struct ws_session *s, uint16_t code, const uint8_t *reason,
                                 size_t reason_len);

/* True for close codes an endpoint may put on the wire and accept:
 * 1000-1003, 1007-1014, 3000-4999. */
WS_API bool ws_close_code_is_valid(uint16_t code);

/* Bytes waiting to be written (0 when nothing). */
WS_API size_t ws_session_want_write(const struct ws_session *s);

/* Fills up to `max` elements of iov with the pending output, in order, and
 * returns how many it used (0 when nothing is pending; at most 4 are ever
 * needed for all of it). The memory is the session's and stays valid until
 * the next call to recv, a send function, consume_output or del. */
WS_API size_t ws_session_peek_output(const struct ws_session *s, struct ws_iovec *iov,
                                     size_t max);

/* Marks the first n pending bytes as written. Fires on_acknowledge for each
 * message whose last byte was among them. Returns 0, or
 * WS_ERR_INVALID_ARGUMENT (n > ws_session_want_write; nothing done), or
 * WS_ERR_INVALID_STATE from inside a callback. */
WS_API int ws_session_consume_output(struct ws_session *s, size_t n);

/* False once input is ignored (server's close received) or failed. */
WS_API bool ws_session_want_read(const struct ws_session *s);

/* True when the caller should close TCP now: CLOSED or FAILED and the
 * output drained. (RFC 6455 §7.1.1 prefers the server to close first; the
 * caller may wait a little for its FIN.) */
WS_API bool ws_session_is_finished(const struct ws_session *s);

WS_API enum ws_session_state ws_session_state(const struct ws_session *s);

/* The error that failed the session, 0 if it has not failed. */
WS_API int ws_session_error(const struct ws_session *s);

/* Inside on_message only, for a message delivered from the session's own
 * assembly buffer: hands that buffer to the caller (no copy) and returns
 * it; *capacity receives its allocated size (>= the message length). The
 * caller frees it with the allocator given to ws_session_new. Returns NULL
 * (keep using `data`, copy if needed) for zero-copy messages or outside
 * on_message. */
WS_API uint8_t *ws_session_take_message_buffer(struct ws_session *s, size_t *capacity);

WS_END_DECLS

#endif
