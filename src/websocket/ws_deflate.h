/*
 * ws_deflate.h — permessage-deflate (RFC 7692) on zlib: the offer, the
 * validation of the server's answer (§7.1), and the per-connection
 * compressor/decompressor the session drives (§7.2).
 *
 * How the connection uses it (socket-transport thread):
 *   1. If pref network.websocket.extensions.permessage-deflate is true, put
 *      ws_pmd_offer() ("permessage-deflate; client_max_window_bits") in
 *      ws_handshake_config.extensions.
 *   2. When ws_handshake_recv returns 1, ws_handshake_pmd(hs, &params) says
 *      whether the server accepted it; an invalid answer already failed the
 *      handshake with WS_ERR_HANDSHAKE_PMD (→ NS_ERROR_ILLEGAL_VALUE). The
 *      channel's `extensions` attribute is ws_handshake_extensions(hs), the
 *      response header value exactly as agreed.
 *   3. If accepted, call ws_session_enable_pmd(session, &params) before
 *      handing the session any bytes (including those that arrived with the
 *      101). Everything else is automatic: sends are compressed, received
 *      compressed messages are inflated, on_acknowledge still reports the
 *      size given to send.
 *
 * Choices (documented here, enforced in ws_deflate.c / ws_session.c):
 *  - Client window 8. zlib's raw deflate refuses an 8-bit window (zlib.h:
 *    "a request for a 256-byte window is rejected as invalid"), and 9 would
 *    break the agreement (§7.1.2.2: distances up to 512 that a 2^8-window
 *    inflater cannot follow). Since we offer client_max_window_bits without
 *    a value we must accept 8, so for 8 we compress with windowBits 9 and
 *    strategy Z_RLE, whose matches all have distance 1 (zlib.h: "Z_RLE to
 *    limit match distances to one"): every reference stays inside any
 *    window, and repeated bytes and Huffman coding still compress. (zlib's
 *    9-bit deflate happens to keep distances <= 250 today, but that is an
 *    implementation detail, not a documented promise, so we do not rely
 *    on it.) Sending uncompressed would also be correct, but saves nothing.
 *  - Server window. We inflate with max(9, server_max_window_bits) bits: a
 *    window at least as large as the sender's is always safe, and 9 for 8
 *    also accepts zlib-based servers that were told 8 but use 9.
 *  - What we send: empty messages go uncompressed; without context takeover
 *    a message goes uncompressed whenever deflate did not make it smaller
 *    (RSV1 is per message, §6); with context takeover messages shorter than
 *    WS_PMD_MIN_COMPRESS go uncompressed without touching the compressor
 *    (the peer's window then lacks them too, so both stay in step), the
 *    rest are always sent compressed (the compressor's history already
 *    holds them). If compressing fails half-way (out of memory), the send
 *    fails and compression is switched off for the rest of the connection,
 *    which keeps both windows consistent.
 *  - Receiving: the 00 00 ff ff tail is appended after the last frame
 *    (§7.2.2); output goes straight into the message buffer, limited to
 *    max_message_size + 1 bytes, so a bomb fails with 1009 after at most the
 *    limit is produced and memory never exceeds the limit. Text is validated
 *    as it is inflated (fail-fast, 1007). A message must decode to the end
 *    of a DEFLATE block; bad data or a message ending mid-block is
 *    WS_ERR_INVALID_DEFLATE (close 1007). A compressed message with an
 *    empty payload is an empty message. A block with BFINAL set (§7.2.3.4)
 *    ends the message's data: what follows it in the message (e.g. the
 *    empty block a sender appended per §7.2.1) is skipped, and the next
 *    message starts a new stream that keeps the window (unless
 *    server_no_context_takeover).
 *
 * Memory per connection (measured by test_ws_deflate's test_memory_figures
 * through the ws_mem allocator; zlib 1.2.13, x86-64):
 *  - struct ws_pmd: 304 bytes, from ws_session_enable_pmd until del.
 *  - compressor, created by the first compressed send: about
 *    (1 << (w + 2)) + (1 << (m + 9)) + 6 KiB for client window bits w (9
 *    for 8) and memLevel m = clamp(w - 7, 1, 8): 262 KiB for w = 15
 *    (zlib's defaults, as Firefox and Node `ws` use), 14 KiB for w = 10,
 *    10 KiB for w = 9 or 8.
 *  - decompressor, created by the first compressed message received:
 *    about 7 KiB + (1 << w) for w = max(9, server window bits): 39 KiB
 *    for w = 15, 8 KiB for w = 10.
 *  With client_no_context_takeover the compressor lives only inside the
 *  send call; with server_no_context_takeover the decompressor only while
 *  a compressed message is coming in. An idle connection therefore holds
 *  304 bytes with both flags, ~39 KiB with only the client flag, ~262 KiB
 *  with only the server flag, and ~303 KiB with both windows kept (the
 *  RFC 7692 default; every window kept costs what the peer may refer to).
 *  The session's own idle buffers (at most 4 KiB each) come on top.
 *
 * Threading: like the session, one thread at a time; no globals.
 */
#ifndef WSCHANNEL_WS_DEFLATE_H
#define WSCHANNEL_WS_DEFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_error.h"
#include "ws_handshake.h"
#include "ws_mem.h"

WS_BEGIN_DECLS

#define WS_PMD_NAME "permessage-deflate"
#define WS_PMD_OFFER WS_PMD_NAME "; client_max_window_bits"

/* With context takeover, messages shorter than this are sent uncompressed. */
#define WS_PMD_MIN_COMPRESS 8

/* The agreed parameters (RFC 7692 §7.1), as the client honours them. */
struct ws_pmd_params {
  bool server_no_context_takeover; /* the server resets its window per message */
  bool client_no_context_takeover; /* we reset ours per message */
  uint8_t server_max_window_bits;  /* 8..15; 15 when the response set no limit */
  uint8_t client_max_window_bits;  /* 8..15; 15 when no limit; the smaller of
                                      the offered hint and the response's value */
};

/* The default offer, "permessage-deflate; client_max_window_bits" (static
 * string). Any thread. */
WS_API const char *ws_pmd_offer(void);

/* Validates one permessage-deflate element of the server's
 * Sec-WebSocket-Extensions (`response`, from ws_extensions_parse) against
 * our offer (`offered`: the parsed offer header; every permessage-deflate
 * element in it is an alternative, RFC 7692 §5) — RFC 7692 §7.1:
 *  - parameters: server_no_context_takeover and client_no_context_takeover
 *    (no value), server_max_window_bits (value required) and
 *    client_max_window_bits (value required; only if that offer had it);
 *    values are decimal 8..15 without leading zeros ("08" fails), token or
 *    quoted-string (§9.1 of RFC 6455) alike;
 *  - an unknown or repeated parameter fails;
 *  - if the offer had server_no_context_takeover the response must have it;
 *    if it had server_max_window_bits=N the response must have one <= N.
 * On success fills *out (defaults: no flags, 15/15) and returns 0.
 * Returns WS_ERR_HANDSHAKE_PMD when no offer admits the response, or
 * WS_ERR_INVALID_ARGUMENT if `response` is not a permessage-deflate element.
 * Pure; any thread. (ws_handshake_recv calls this itself.) */
WS_API int ws_pmd_negotiate(const struct ws_extension_list *offered,
                            const struct ws_extension *response, struct ws_pmd_params *out);

/* ---- engine-internal: the codec the session drives ---------------------
 * Not exported from libwschannel. All functions run on the session's
 * thread; zlib allocates through the session's ws_mem. */

struct ws_pmd;

/* Step results of ws_pmd_inflate / ws_pmd_deflate. */
enum ws_pmd_step {
  WS_PMD_NEED_INPUT = 0, /* all input consumed, output space left */
  WS_PMD_OUTPUT_FULL = 1, /* call again with more output space */
  WS_PMD_DONE = 2         /* the message is finished */
};

/* Creates the codec for validated params (ws_pmd_negotiate's output);
 * allocates only the small struct. Returns 0, WS_ERR_INVALID_ARGUMENT
 * (window bits outside 8..15) or WS_ERR_NOMEM. */
int ws_pmd_new(struct ws_pmd **out, const struct ws_pmd_params *params,
               const struct ws_mem *mem);

/* Frees the codec and any zlib state. NULL ok. */
void ws_pmd_del(struct ws_pmd *p);

/* Inflates the next compressed payload bytes of a message: consumes from
 * *in and *in_len (advancing them), writes up to out_cap bytes to `out`, sets
 * *out_len. `last`: these are the message's final payload bytes (the FIN
 * frame's end), so the 00 00 ff ff tail follows them. Returns
 * WS_PMD_NEED_INPUT (not with last), WS_PMD_OUTPUT_FULL, WS_PMD_DONE (with
 * last: the whole message is out; the next call starts a new message),
 * WS_ERR_INVALID_DEFLATE or WS_ERR_NOMEM. After an error the codec must
 * not be used for receiving again. */
int ws_pmd_inflate(struct ws_pmd *p, const uint8_t **in, size_t *in_len, bool last,
                   uint8_t *out, size_t out_cap, size_t *out_len);

/* True if a message of `len` bytes should go through the compressor (see
 * "What we send" above); false: send it uncompressed, no state changes. */
bool ws_pmd_want_compress(const struct ws_pmd *p, size_t len);

/* True if a compressed message may still be replaced by the uncompressed
 * one (no client context takeover). */
bool ws_pmd_may_discard(const struct ws_pmd *p);

/* Starts compressing a message of `len` bytes: creates the compressor if
 * needed and sets *bound to an output size that suffices for the whole
 * message with its flush (deflateBound + the flush block; ws_pmd_deflate
 * asks for more room if not). Returns 0 or WS_ERR_NOMEM (nothing changed). */
int ws_pmd_deflate_begin(struct ws_pmd *p, size_t len, size_t *bound);

/* Compresses the message (call with the whole message, then keep calling
 * with what is left): consumes *in and *in_len, writes up to out_cap bytes.
 * Returns WS_PMD_OUTPUT_FULL or WS_PMD_DONE; at DONE the output so far is
 * the message's DEFLATE data ending in the Z_SYNC_FLUSH block
 * 00 00 ff ff, which the caller strips (§7.2.1). WS_ERR_INTERNAL if zlib
 * refuses (then call ws_pmd_deflate_abort). */
int ws_pmd_deflate(struct ws_pmd *p, const uint8_t **in, size_t *in_len, uint8_t *out,
                   size_t out_cap, size_t *out_len);

/* The message was queued (or, before any input was consumed, dropped):
 * frees the compressor with client_no_context_takeover, else keeps it. */
void ws_pmd_deflate_end(struct ws_pmd *p);

/* Compression failed after the compressor took input: frees it and, with
 * context takeover, turns compression off for good (ws_pmd_want_compress
 * then says false), since the peer's window no longer matches ours. */
void ws_pmd_deflate_abort(struct ws_pmd *p);

WS_END_DECLS

#endif
