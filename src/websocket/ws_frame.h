/*
 * ws_frame.h — RFC 6455 §5 frame codec: header encoder, masking, and a
 * resumable inbound decoder.
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-------+-+-------------+-------------------------------+
 *     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *     | |1|2|3|       |K|             |                               |
 *     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *     |     Extended payload length continued, if payload len == 127  |
 *     + - - - - - - - - - - - - - - - +-------------------------------+
 *     |                               |Masking-key, if MASK set to 1  |
 *     +-------------------------------+-------------------------------+
 *
 * Everything here is pure: no allocation, no I/O, caller-owned state, any
 * thread (one thread per decoder at a time).
 *
 * Decoder strictness (documented choices):
 *  - A length that is not minimally encoded (126 form for < 126 bytes, 127
 *    form for < 65536) fails with WS_ERR_PROTO_NONMINIMAL_LENGTH. RFC 6455
 *    §5.2 says "the minimal number of bytes MUST be used"; we hold peers to
 *    it, as Gecko does.
 *  - Every violation is reported at the first byte that shows it: reserved
 *    bits, opcode and FIN on a control frame at byte 0; masking and a
 *    control length > 125 at byte 1; length encoding when the extended
 *    length is complete.
 */
#ifndef WSCHANNEL_WS_FRAME_H
#define WSCHANNEL_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_error.h"

WS_BEGIN_DECLS

/* Opcodes (RFC 6455 §5.2, §11.8). */
enum ws_opcode {
  WS_OP_CONTINUATION = 0x0,
  WS_OP_TEXT = 0x1,
  WS_OP_BINARY = 0x2,
  WS_OP_CLOSE = 0x8,
  WS_OP_PING = 0x9,
  WS_OP_PONG = 0xA
};

/* Reserved bits, in their position in the first header byte. RSV1 is the
 * "per-message compressed" bit of RFC 7692. */
#define WS_RSV1 0x40u
#define WS_RSV2 0x20u
#define WS_RSV3 0x10u
#define WS_RSV_MASK (WS_RSV1 | WS_RSV2 | WS_RSV3)

/* Largest header: 2 + 8 (64-bit length) + 4 (mask key). */
#define WS_FRAME_HEADER_MAX 14
/* RFC 6455 §5.5: control frame payloads are at most 125 bytes. */
#define WS_CONTROL_MAX 125

/* True for close, ping, pong and the reserved control opcodes 0xB-0xF. */
static inline bool ws_opcode_is_control(unsigned opcode) { return (opcode & 0x8u) != 0; }

/* ---- encoder ----------------------------------------------------------- */

/* Header size for a frame of `payload_len` bytes, with or without a mask. */
WS_API size_t ws_frame_header_size(uint64_t payload_len, bool masked);

/* Writes a frame header into out[0..WS_FRAME_HEADER_MAX) and returns its
 * length (2 to 14), or 0 when the arguments cannot form a valid header:
 * opcode > 0xF, rsv bits outside WS_RSV_MASK, payload_len >= 2^63, or a
 * control frame (opcode & 8) that is not FIN or is longer than 125 bytes.
 * `mask_key` NULL means an unmasked (server) frame; otherwise its 4 bytes
 * are written as the masking key (the payload is masked separately with
 * ws_frame_mask). Uses the minimal length encoding. Never allocates. */
WS_API size_t ws_frame_header_encode(uint8_t *out, bool fin, unsigned rsv, unsigned opcode,
                                     uint64_t payload_len, const uint8_t *mask_key);

/* RFC 6455 §5.3 masking: dst[i] = src[i] ^ key[(offset + i) % 4] for i in
 * [0, len). `offset` is the position of src[0] within the frame payload, so
 * a payload can be (un)masked in pieces. dst == src (in place) is allowed;
 * other overlaps are not. Works 8 bytes at a time. */
WS_API void ws_frame_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                          uint64_t offset);

/* ---- decoder ----------------------------------------------------------- */

enum ws_frame_role {
  WS_FRAME_CLIENT, /* we are the client: frames from the server must be unmasked (§5.1) */
  WS_FRAME_SERVER  /* we are the server: frames from the client must be masked */
};

enum ws_frame_state {
  WS_FRAME_STATE_HEADER1, /* waiting for byte 0: FIN, RSV, opcode */
  WS_FRAME_STATE_HEADER2, /* waiting for byte 1: MASK, 7-bit length */
  WS_FRAME_STATE_EXTLEN,  /* collecting the 2- or 8-byte extended length */
  WS_FRAME_STATE_MASKKEY, /* collecting the 4-byte masking key */
  WS_FRAME_STATE_PAYLOAD, /* delivering payload bytes */
  WS_FRAME_STATE_FAILED   /* a violation was seen; sticky */
};

struct ws_frame_header {
  uint64_t payload_len;
  bool fin;
  bool masked;
  uint8_t rsv;    /* WS_RSV* bits as in byte 0 */
  uint8_t opcode; /* enum ws_opcode */
  uint8_t mask_key[4];
};

/* Decoder state. Fields are readable; change them only through the API. */
struct ws_frame_decoder {
  enum ws_frame_state state;
  enum ws_frame_role role;
  uint8_t rsv_allowed; /* WS_RSV* bits an extension allows */
  uint8_t need;        /* bytes the EXTLEN/MASKKEY state needs */
  uint8_t have;        /* bytes of them collected so far */
  uint8_t buf[8];
  int error;           /* the failure, once in WS_FRAME_STATE_FAILED */
  struct ws_frame_header hdr; /* current frame, valid from its first chunk */
  uint64_t remaining;  /* payload bytes of the current frame not yet delivered */
};

/* A piece of one frame, as produced by ws_frame_decode. */
struct ws_frame_chunk {
  const uint8_t *data; /* payload bytes: points into the caller's input (zero copy);
                          still masked if hdr.masked (see ws_frame_mask) */
  size_t len;          /* may be 0 (header only, or an empty frame) */
  uint64_t offset;     /* position of data[0] within the frame payload */
  bool first;          /* the header just completed: decoder->hdr is a new frame */
  bool last;           /* the frame's payload is complete with this chunk */
};

/* Starts a decoder at a frame boundary. `rsv_allowed`: RSV bits that are
 * not an error (0 unless an extension was negotiated). */
WS_API void ws_frame_decoder_init(struct ws_frame_decoder *d, enum ws_frame_role role,
                                  unsigned rsv_allowed);

/* Changes the allowed RSV bits (e.g. after the handshake negotiated
 * permessage-deflate); applies from the next frame header. */
WS_API void ws_frame_decoder_set_rsv(struct ws_frame_decoder *d, unsigned rsv_allowed);

/* Consumes bytes from in[0..len) and produces at most one chunk.
 * Returns 1 when *chunk was filled, 0 when all `len` bytes were consumed
 * without completing a header or delivering payload (need more input), or a
 * negative WS_ERR_PROTO_* code (the decoder is then FAILED and returns the
 * same code on every later call). *consumed (always set) counts the bytes
 * used, including the header bytes of a new frame and chunk->len.
 *
 * Header bytes split across calls are kept inside the decoder (at most 13);
 * payload is never copied: chunk->data points into `in` and is valid as long
 * as the caller's buffer is. A chunk is produced as soon as a header is
 * complete (with whatever payload follows in `in`, possibly none), and then
 * for each later call that has payload bytes. Frames of length 0 give one
 * chunk with first and last set. */
WS_API int ws_frame_decode(struct ws_frame_decoder *d, const uint8_t *in, size_t len,
                           size_t *consumed, struct ws_frame_chunk *chunk);

/* Payload bytes the caller received outside the decoder: in the middle of
 * a frame's payload (state PAYLOAD), it read the next `len` bytes of it
 * (1 <= len <= remaining) straight into memory of its own at `data` — for
 * a large frame, straight from the socket into the message buffer. Fills
 * *chunk as ws_frame_decode would have for the same bytes (never `first`)
 * and returns 1; WS_ERR_INVALID_ARGUMENT (nothing changed) when the
 * decoder is not in a payload or len is 0 or more than remains. */
WS_API int ws_frame_decode_external(struct ws_frame_decoder *d, const uint8_t *data, size_t len,
                                    struct ws_frame_chunk *chunk);

WS_END_DECLS

#endif
