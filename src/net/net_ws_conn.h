/*
 * net_ws_conn.h — one client WebSocket connection (RFC 6455) on the
 * socket-transport thread, driven from its owner's thread.
 *
 * The owner (the channel) creates the connection on its own thread and
 * from then on talks to it only by commands (send, close, abort) and
 * events (start, message, acknowledge, server close, stop) that cross
 * threads as queued events; no state is shared but two atomic byte
 * counters: net_ws_conn_buffered()'s (sent, not yet written) and the
 * receive backlog (received, not yet delivered to the owner; with a resume
 * flag, see max_undelivered).
 *
 * On the socket thread the connection runs:
 *   resolve (net_dns) → admission (net_admission: one CONNECTING per
 *   address, reconnect delay) → non-blocking PR_Connect, each address in
 *   turn → TLS for wss:// (net_tls: SSL layer on the socket, handshake
 *   and certificate verification driven by the same PR_Poll loop) →
 *   opening handshake (ws_handshake; the
 *   16-byte key from net_random; bytes after the response headers are the
 *   first frames) → open: frames through ws_session → close handshake →
 *   lingering close (a short wait for the server's FIN, RFC 6455 §7.1.1) →
 *   stop.
 * Output is written with PR_Writev straight from the session's queue, so
 * many queued messages leave in one system call; input is read 256 KiB at
 * a time into a buffer the socket thread shares between connections, except
 * the payload of a large frame (64 KiB or more still to come), which is
 * read straight into its message's buffer. Reading pauses while the owner
 * is max_undelivered bytes behind (see net_ws_conn_params).
 *
 * Events reach the owner in order, batched: the socket thread appends them
 * to a list and posts one event to the owner's target only when the list
 * was empty; that event delivers everything queued so far.
 *   - on_security_info: wss:// only, once, when the TLS handshake has
 *     ended — before on_start when it succeeded, before on_stop when it
 *     failed (then the object says why: state broken, errorCode).
 *   - on_start: once, after a valid 101 and before any message; never after
 *     a failure.
 *   - on_message, on_acknowledge, on_server_close: while open. A message
 *     sent but not yet begun on the wire when the server's close arrives
 *     (or the connection fails) is dropped and never acknowledged: the
 *     owner learns which messages left from on_acknowledge alone.
 *   - on_stop: exactly once, last. Nothing follows it.
 *
 * Final status (Gecko 8, see ../../shared/reference and issue 4):
 *   NS_OK                       clean close (both close frames exchanged)
 *   NS_ERROR_UNKNOWN_HOST       DNS found no address
 *   NS_ERROR_CONNECTION_REFUSED connect refused / unreachable, a response
 *                               that is not HTTP/1.1 101 or not HTTP at
 *                               all, or the peer closed or reset the
 *                               connection before answering
 *   NS_ERROR_ILLEGAL_VALUE      invalid handshake response (Upgrade,
 *                               Connection, Accept, subprotocol or
 *                               extension not offered), protocol
 *                               violation (close 1002 sent), invalid UTF-8
 *                               (close 1007 sent)
 *   NS_ERROR_FILE_TOO_BIG       message over max_message_size (close 1009)
 *   NS_ERROR_NET_TIMEOUT        open, close or ping timeout
 *   NS_BASE_STREAM_CLOSED       TCP EOF before the close handshake
 *   NS_ERROR_NET_RESET, …       socket errors, as Gecko's
 *                               ErrorAccordingToNSPR maps PRErrorCodes
 *                               (net_error_from_pr)
 *   NSS errors (wss://)         NS_ERROR_GENERATE_FAILURE(
 *                               NS_ERROR_MODULE_SECURITY, -PRErrorCode) via
 *                               net_tls_error: a certificate the checks
 *                               reject (SEC_ERROR_UNKNOWN_ISSUER
 *                               0x805A1FF3, SSL_ERROR_BAD_CERT_DOMAIN
 *                               0x805A2FF4, SEC_ERROR_EXPIRED_CERTIFICATE,
 *                               …), a handshake failure or alert
 *                               (SSL_ERROR_PROTOCOL_VERSION_ALERT, a plain
 *                               HTTP server: SSL_ERROR_RX_RECORD_TOO_LONG),
 *                               and a TLS alert or record error later on.
 *                               A reset or EOF during the TLS handshake is
 *                               a socket error (NS_ERROR_NET_RESET,
 *                               NS_ERROR_NET_INTERRUPT); a stalled one is
 *                               the open timeout.
 *   NS_ERROR_ABORT              the socket-transport service stopped
 *                               (XPCOM shutdown)
 *   the owner's status          net_ws_conn_abort(status)
 *
 * Logging: NSPR module "nsWebSocket" (NSPR_LOG_MODULES=nsWebSocket:5):
 * state changes and errors at 4, every message/frame size at 5.
 */
#ifndef WSCHANNEL_NET_WS_CONN_H
#define WSCHANNEL_NET_WS_CONN_H

#include <prerror.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net_sts.h"

#ifdef __cplusplus
class nsIEventTarget;
#else
typedef struct nsIEventTarget nsIEventTarget;
#endif
#ifndef XPCOM_FWD_nsISupports
#define XPCOM_FWD_nsISupports
#ifdef __cplusplus
class nsISupports;
#else
typedef struct nsISupports nsISupports;
#endif
#endif

XPCOM_BEGIN_DECLS

typedef struct net_ws_conn net_ws_conn;

/* What to connect to; read by net_ws_conn_open, which copies it all. */
typedef struct net_ws_conn_params {
  const char *host;      /* ASCII host (IDN already punycode), or an IP
                            literal; IPv6 with or without brackets. Used
                            for DNS and for the Host header. */
  uint16_t port;         /* TCP port (the caller applies 80/443) */
  bool secure;           /* wss://: TLS to `host` (SNI and the name the
                            certificate must carry) */
  const char *path;      /* path and "?query"; NULL or "" = "/" */
  const char *origin;    /* Origin header value; NULL or "" = none */
  const char *protocols; /* offered subprotocols, comma-separated tokens
                            ("chat, superchat"); NULL or "" = none */
  const char *extensions; /* Sec-WebSocket-Extensions offer; NULL or "" =
                             none. ws_pmd_offer() (websocket/ws_deflate.h)
                             offers permessage-deflate, which is then used
                             when the server accepts it (RFC 7692). */
  uint64_t max_message_size; /* 0 = 2147483647 (Gecko's default) */
  /* Receive backpressure: while this many bytes of received messages (each
   * counted with its record, 24 bytes more) wait for the owner's thread to
   * deliver them, the socket thread stops reading, so TCP flow control
   * holds the server back and a slow listener never makes memory grow
   * without bound; it reads on once the owner is below it again. A message
   * larger than the limit still arrives whole (one at a time). 0 = 1 MiB. */
  uint64_t max_undelivered;
  /* Timeouts in milliseconds, read from prefs by the caller at asyncOpen.
   * 0 disables a timer. ping_interval: send a ping (payload "PING") after
   * that much time without inbound data; ping_timeout: how long to wait
   * for any inbound data after it (then NS_ERROR_NET_TIMEOUT; 0 = no
   * limit). The caller applies Gecko's defaults and clamps. */
  uint32_t open_timeout_ms;
  uint32_t close_timeout_ms;
  uint32_t ping_interval_ms;
  uint32_t ping_timeout_ms;
  /* wss:// only, may be NULL: the TLS handshake has ended (event order
   * above); called on the owner's thread like the callbacks, with the same
   * `owner`. info is an nsIWebSocketSecurityInfo object's nsISupports,
   * borrowed for the call: AddRef it to keep it (the channel's
   * securityInfo). A parameter rather than a member of
   * net_ws_conn_callbacks, which callers initialise positionally. */
  void (*on_security_info)(void *owner, nsISupports *info);
} net_ws_conn_params;

/* A received message, valid during on_message only. */
typedef struct net_ws_message {
  bool binary;         /* false: text, already validated UTF-8 */
  const uint8_t *data; /* len bytes (not NUL-terminated) */
  size_t len;
  /* private */
  void *rec_;
} net_ws_message;

/*
 * Takes the message's bytes over: returns a malloc'd buffer of msg->len
 * bytes (free() it) — the connection's own buffer when the message was
 * assembled in one (no copy), else a copy; NULL when out of memory (or
 * len is 0). msg->data stays valid until on_message returns either way.
 * Owner thread, inside on_message only.
 */
NET_API(uint8_t *) net_ws_message_take(net_ws_message *msg);

/* Callbacks, all on the owner's thread, with the `owner` pointer given to
 * net_ws_conn_open. on_stop is required; the others may be NULL. Strings
 * are valid during the call only. A callback may call any net_ws_conn_*
 * function, including net_ws_conn_release (then nothing more is
 * delivered). */
typedef struct net_ws_conn_callbacks {
  /* The handshake succeeded: negotiated subprotocol and extensions ("" when
   * none). */
  void (*on_start)(void *owner, const char *protocol, const char *extensions);
  void (*on_message)(void *owner, net_ws_message *msg);
  /* A message given to net_ws_conn_send* has been written to the socket
   * completely (once per message, in order); size = its length. */
  void (*on_acknowledge)(void *owner, uint64_t size);
  /* The server's close frame: code (1005 when it had none) and UTF-8 reason
   * (reason_len may be 0). Reported whoever started the close. */
  void (*on_server_close)(void *owner, uint16_t code, const char *reason, size_t reason_len);
  /* The connection is over (socket closed); status as in the table above. */
  void (*on_stop)(void *owner, nsresult status);
} net_ws_conn_callbacks;

/*
 * Creates a connection and starts it on the socket-transport thread.
 * owner_target: the thread (event target) where callbacks run; AddRef'd.
 * cb is copied; owner must stay valid until on_stop was delivered or
 * net_ws_conn_release was called. No callback runs before this returns.
 * *out gets the owner's handle (release it with net_ws_conn_release).
 * Builds the handshake request now, so bad parameters fail here:
 * NS_ERROR_ILLEGAL_VALUE (missing host; control or non-ASCII bytes in a
 * field; path not starting with '/' or with a '#'; a subprotocol that is
 * not a token or repeats), errors of net_nss_init / net_sts_dispatch
 * (XPCOM not running), OUT_OF_MEMORY.
 * Any thread with an event queue (the owner's).
 */
NET_API(nsresult)
net_ws_conn_open(const net_ws_conn_params *params, nsIEventTarget *owner_target,
                 const net_ws_conn_callbacks *cb, void *owner, net_ws_conn **out);

/*
 * Queues one message (sent as a single FIN frame, masked, RFC 6455 §5.3).
 * _send copies data; _send_adopt takes the malloc'd `data` over in every
 * case (it is freed on failure too). Messages queued before the handshake
 * completes are sent after it. The connection checks text again and never
 * sends invalid UTF-8 (such a message is dropped and logged; the owner
 * validates first). len is added to net_ws_conn_buffered() until written.
 * NS_OK or NS_ERROR_OUT_OF_MEMORY, NS_ERROR_NOT_AVAILABLE (the socket
 * thread is gone). After the connection has stopped the message is
 * silently dropped. Owner thread.
 */
NET_API(nsresult) net_ws_conn_send(net_ws_conn *c, bool binary, const uint8_t *data, size_t len);
NET_API(nsresult) net_ws_conn_send_adopt(net_ws_conn *c, bool binary, uint8_t *data, size_t len);

/*
 * Starts the close handshake after the messages already queued (queued
 * until open if not open yet): sends Close(code, reason), waits up to
 * close_timeout_ms for the server's close (else NS_ERROR_NET_TIMEOUT), then
 * the lingering close, then on_stop(NS_OK). code 0 sends 1000 and 1004
 * (Gecko 8's CLOSE_TOO_LARGE) sends 1009; any other code an endpoint may
 * not send (RFC 6455 §7.4) becomes 1000. reason: UTF-8, at most 123 bytes
 * (copied; the owner checks; an invalid one is replaced by none). A close
 * after the first is ignored. NS_OK, NS_ERROR_OUT_OF_MEMORY,
 * NS_ERROR_NOT_AVAILABLE. Owner thread.
 */
NET_API(nsresult) net_ws_conn_close(net_ws_conn *c, uint16_t code, const char *reason,
                                    size_t reason_len);

/*
 * Ends the connection now with `status` (a failure code; NS_OK is taken as
 * NS_BINDING_ABORTED): queued messages are dropped; when open, a Close
 * 1001 is written if the socket takes it at once; the socket is closed and
 * on_stop(status) follows (unless released). Owner thread.
 */
NET_API(void) net_ws_conn_abort(net_ws_conn *c, nsresult status);

/* Bytes handed to net_ws_conn_send* and not yet completely written (nor
 * dropped). Lets a sender respect backpressure. Any thread. */
NET_API(uint64_t) net_ws_conn_buffered(const net_ws_conn *c);

/*
 * The owner lets go: no callback runs after this returns (events already
 * queued are discarded), and a connection still running is aborted with
 * NS_BINDING_ABORTED. The handle is invalid afterwards. Owner thread
 * (also from inside a callback).
 */
NET_API(void) net_ws_conn_release(net_ws_conn *c);

/* Connections alive in this process (handles or socket-side work not yet
 * destroyed). Any thread; for tests and leak checks. */
NET_API(uint32_t) net_ws_conn_live_count(void);

/*
 * Gecko's ErrorAccordingToNSPR: PR_WOULD_BLOCK_ERROR →
 * NS_BASE_STREAM_WOULD_BLOCK; CONNECT_ABORTED / CONNECT_RESET →
 * NS_ERROR_NET_RESET; END_OF_FILE → NS_ERROR_NET_INTERRUPT; CONNECT_REFUSED,
 * NETWORK_ / HOST_UNREACHABLE, ADDRESS_NOT_AVAILABLE, NO_ACCESS_RIGHTS →
 * NS_ERROR_CONNECTION_REFUSED; IO_TIMEOUT / CONNECT_TIMEOUT →
 * NS_ERROR_NET_TIMEOUT; descriptor or memory exhaustion →
 * NS_ERROR_OUT_OF_MEMORY; ADDRESS_IN_USE → NS_ERROR_SOCKET_ADDRESS_IN_USE;
 * NSS/SSL codes → NS_ERROR_FROM_NSS_ERROR; anything else NS_ERROR_FAILURE.
 * Pure; any thread.
 */
NET_API(nsresult) net_error_from_pr(PRErrorCode err);

XPCOM_END_DECLS

#endif /* WSCHANNEL_NET_WS_CONN_H */
