/*
 * test_tls.c — wss:// on NSS, end to end on loopback:
 *   - net_tls driven directly (a TLS client socket, PR_Poll here) against
 *     Python `ssl` servers: negotiated parameters, the verified chain, the
 *     host-name rules (SAN required, whole-label wildcards only);
 *   - net_ws_conn with secure = true against Python `websockets` over TLS
 *     and Node `ws` over https.createServer, TLS 1.2 and 1.3: echo up to
 *     16 MiB both ways, securityInfo fields, session resumption, every
 *     failure mapped into the security module (no on_start), 100
 *     concurrent connections;
 *   - trust anchors: SSL_CERT_FILE, the network.websocket.tls.cafile pref,
 *     none (the test CA is unknown), a profile certificate database, and a
 *     host that initialised NSS itself.
 * Certificates are made at test time (make_certs.py, OpenSSL's command
 * line) in a temporary directory; servers start once in main(). Every test
 * runs in its own process (Check's fork mode), boots XPCOM and checks at
 * the end that nothing leaked and that NSS shut down (NSS_ShutdownContext
 * returned SECSuccess: net_nss_shutdown_status() == NS_OK).
 */
#include <check.h>
#include <errno.h>
#include <nss.h>
#include <pk11pub.h>
#include <poll.h>
#include <prerror.h>
#include <prinit.h>
#include <prthread.h>
#include <prio.h>
#include <prnetdb.h>
#include <secerr.h>
#include <signal.h>
#include <ssl.h>
#include <sslerr.h>
#include <sslproto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsXPCOM.h"
#include "nsXPCOMStrings.h"
#include "nsMemory.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */
#include "nsIEventTarget.h"
#include "nsIServiceManager.h"
#include "nsIThread.h"
#include "nsIWebSocketSecurityInfo.h"
#include "xpcom_object.h"
#include "xpcom_prefs.h"

#include "net/net_nss.h"
#include "net/net_secinfo.h"
#include "net/net_tls.h"
#include "net/net_trust.h"
#include "net/net_ws_conn.h"
#include "../xpcom_harness.h"

#ifndef TLS_TEST_SRCDIR
#define TLS_TEST_SRCDIR "."
#endif

/* ---- peers ----------------------------------------------------------------- */

typedef struct peer {
  pid_t pid;
  int in_fd;
  char line[2048]; /* its first line: "PORTS a=1 b=2" */
} peer;

static peer g_py, g_node;
static bool g_have_node;
static char g_certdir[256];
static char g_cafile[300];
static char g_dbdir[300]; /* an NSS database trusting the test CA */

static bool peer_start(peer *s, const char *const *argv) {
  memset(s, 0, sizeof *s);
  int in[2], out[2];
  if (pipe(in) || pipe(out))
    return false;
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    execv(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  s->pid = pid;
  s->in_fd = in[1];
  size_t len = 0;
  for (;;) {
    struct pollfd pfd = {out[0], POLLIN, 0};
    if (poll(&pfd, 1, 30000) <= 0)
      break;
    ssize_t n = read(out[0], s->line + len, sizeof s->line - 1 - len);
    if (n <= 0)
      break;
    len += (size_t)n;
    s->line[len] = '\0';
    if (strchr(s->line, '\n'))
      break;
  }
  close(out[0]);
  return strncmp(s->line, "PORTS ", 6) == 0;
}

static void peer_stop(peer *s) {
  if (s->in_fd >= 0)
    close(s->in_fd);
  s->in_fd = -1;
  if (s->pid <= 0)
    return;
  for (int i = 0; i < 300; i++) {
    if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
      s->pid = 0;
      return;
    }
    usleep(10000);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  s->pid = 0;
}

/* The port a peer printed for `name`, 0 when none. */
static int port_of(const peer *s, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = s->line; (p = strstr(p, name)) != NULL; p += nl) {
    if ((p == s->line || p[-1] == ' ') && p[nl] == '=')
      return atoi(p + nl + 1);
  }
  return 0;
}

static int py(const char *name) {
  int port = port_of(&g_py, name);
  ck_assert_msg(port > 0 || strcmp(name, "tls10") == 0, "no port for %s", name);
  return port;
}

/* ---- XPCOM and NSS ----------------------------------------------------------------- */

static void boot(void) {
  setenv("SSL_CERT_FILE", g_cafile, 1);
  xh_boot();
}

static void shut(void) {
  xh_shut();
  ck_assert_uint_eq(net_ws_conn_live_count(), 0);
  /* NSS really shut down: every reference was released. */
  ck_assert_msg(net_nss_shutdown_status() == NS_OK, "NSS shutdown: 0x%08x",
                (unsigned)net_nss_shutdown_status());
  ck_assert(!NSS_IsInitialized());
}

static PRIntervalTime elapsed_ms(PRIntervalTime start) {
  return PR_IntervalToMilliseconds(PR_IntervalNow() - start);
}

/* ---- net_tls directly ----------------------------------------------------------------- */

/* A handshake with `host` as the name to verify, over TCP to 127.0.0.1:port,
 * on a thread of its own: NSS keeps per-thread data (error stacks) that
 * NSPR frees when a thread it created ends, as the socket thread does in
 * real use; the main thread never ends, so valgrind would see it lost. */
typedef struct direct_job {
  int port;
  const char *host;
  nsresult rv;
  net_tls_info *info;
  char failure[256]; /* what went wrong outside the handshake itself */
} direct_job;

#define JOB_FAIL(j, ...)                                                    \
  do {                                                                      \
    snprintf((j)->failure, sizeof (j)->failure, __VA_ARGS__);              \
    goto out;                                                               \
  } while (0)

static void direct_thread(void *arg) {
  direct_job *j = arg;
  net_tls *t = NULL;
  PRFileDesc *fd = PR_OpenTCPSocket(PR_AF_INET);
  if (!fd)
    JOB_FAIL(j, "no socket");
  PRNetAddr a;
  PR_InitializeNetAddr(PR_IpAddrLoopback, (PRUint16)j->port, &a);
  if (PR_Connect(fd, &a, PR_SecondsToInterval(10)) != PR_SUCCESS)
    JOB_FAIL(j, "connect to port %d failed", j->port);
  PRSocketOptionData opt = {.option = PR_SockOpt_Nonblocking, .value.non_blocking = PR_TRUE};
  PR_SetSocketOption(fd, &opt);
  nsresult rv = net_tls_start(fd, j->host, &t);
  if (rv != NS_OK)
    JOB_FAIL(j, "net_tls_start: 0x%08x", (unsigned)rv);
  PRIntervalTime t0 = PR_IntervalNow();
  for (;;) {
    PRInt16 flags = 0;
    rv = net_tls_handshake(t, fd, &flags);
    if (rv != NS_BASE_STREAM_WOULD_BLOCK)
      break;
    if (!flags)
      JOB_FAIL(j, "no poll flags");
    if (elapsed_ms(t0) > 10000)
      JOB_FAIL(j, "handshake hangs");
    PRPollDesc pd = {fd, flags, 0};
    PR_Poll(&pd, 1, PR_MillisecondsToInterval(1000));
  }
  j->rv = rv;
  if (net_tls_is_done(t) != (rv == NS_OK))
    JOB_FAIL(j, "net_tls_is_done disagrees");
  j->info = net_tls_get_info(t, fd);
  if (!j->info)
    JOB_FAIL(j, "no info");
out:
  if (fd)
    PR_Close(fd);
  net_tls_free(t);
}

/* Returns the handshake's result; *info_out (when non-NULL) the info. */
static nsresult direct_handshake(int port, const char *host, net_tls_info **info_out) {
  if (info_out)
    *info_out = NULL;
  ck_assert_uint_eq(net_nss_init(), NS_OK);
  direct_job j = {port, host, NS_ERROR_UNEXPECTED, NULL, ""};
  PRThread *th = PR_CreateThread(PR_USER_THREAD, direct_thread, &j, PR_PRIORITY_NORMAL,
                                 PR_GLOBAL_THREAD, PR_JOINABLE_THREAD, 0);
  ck_assert_ptr_nonnull(th);
  ck_assert_int_eq(PR_JoinThread(th), PR_SUCCESS);
  ck_assert_msg(!j.failure[0], "%s: %s", host, j.failure);
  nsresult rv = j.rv;
  net_tls_info *info = j.info;
  ck_assert_int_eq(info->secure, rv == NS_OK);
  if (rv != NS_OK) {
    ck_assert_uint_eq(net_tls_error(info->error), rv);
    ck_assert_str_ne(info->error_name, "");
  }
  if (info_out)
    *info_out = info;
  else
    net_tls_info_free(info);
  return rv;
}

static void expect_direct(int port, const char *host, nsresult want) {
  nsresult rv = direct_handshake(port, host, NULL);
  char got_s[XPCOM_ERROR_FORMAT_MAX], want_s[XPCOM_ERROR_FORMAT_MAX];
  XPCOM_FormatError(rv, got_s, sizeof got_s);
  XPCOM_FormatError(want, want_s, sizeof want_s);
  ck_assert_msg(rv == want, "%s: %s, expected %s", host, got_s, want_s);
}

/* The SHA-256 of der as "AB:CD:…" (computed here, independently). */
static void fingerprint(const uint8_t *der, size_t len, char out[96]) {
  unsigned char d[32];
  ck_assert_int_eq(PK11_HashBuf(SEC_OID_SHA256, d, der, (PRInt32)len), SECSuccess);
  for (int i = 0; i < 32; i++)
    sprintf(out + 3 * i, i < 31 ? "%02X:" : "%02X", d[i]);
}

START_TEST(direct_tls13_parameters_and_chain) {
  boot();
  net_tls_info *info = NULL;
  ck_assert_uint_eq(direct_handshake(py("ok"), "localhost", &info), NS_OK);
  ck_assert(info->secure);
  ck_assert_int_eq(info->error, 0);
  ck_assert_str_eq(info->error_name, "");
  ck_assert_uint_eq(info->version, SSL_LIBRARY_VERSION_TLS_1_3);
  ck_assert_msg(strncmp(info->cipher_name, "TLS_", 4) == 0, "%s", info->cipher_name);
  ck_assert_str_eq(info->kea_group, "x25519");
  ck_assert_str_eq(info->signature_scheme, "ECDSA-P256-SHA256");
  ck_assert_str_eq(info->alpn, "http/1.1");
  ck_assert(!info->resumed);
  /* The verified chain: the server's certificate, then the anchor. */
  ck_assert_uint_eq(info->ncerts, 2);
  ck_assert_str_eq(info->certs[0].subject, "CN=localhost");
  ck_assert_str_eq(info->certs[0].common_name, "localhost");
  ck_assert_str_eq(info->certs[0].issuer, "CN=wschannel test CA");
  ck_assert_str_eq(info->certs[1].subject, "CN=wschannel test CA");
  PRTime now = PR_Now();
  ck_assert(info->certs[0].not_before < now && now < info->certs[0].not_after);
  for (size_t i = 0; i < info->ncerts; i++) {
    char fp[96];
    fingerprint(info->certs[i].der, info->certs[i].der_len, fp);
    ck_assert_str_eq(info->certs[i].sha256, fp);
    ck_assert_uint_gt(strlen(info->certs[i].serial), 0);
  }
  net_tls_info_free(info);
  /* Loaded on first use: the built-in roots and the system store. */
  ck_assert(net_trust_have_builtin_roots());
  ck_assert_uint_ge(net_trust_anchor_count(), 1);
  shut();
}
END_TEST

START_TEST(direct_tls12_rsa) {
  boot();
  net_tls_info *info = NULL;
  ck_assert_uint_eq(direct_handshake(py("tls12"), "localhost", &info), NS_OK);
  ck_assert_uint_eq(info->version, SSL_LIBRARY_VERSION_TLS_1_2);
  ck_assert_msg(strncmp(info->cipher_name, "TLS_ECDHE_RSA_WITH_", 19) == 0, "%s",
                info->cipher_name);
  ck_assert_str_eq(info->signature_scheme, "RSA-PSS-SHA256");
  ck_assert_str_eq(info->kea_group, "x25519");
  ck_assert_str_eq(info->alpn, "http/1.1");
  net_tls_info_free(info);
  shut();
}
END_TEST

START_TEST(direct_intermediate_chain) {
  boot();
  net_tls_info *info = NULL;
  ck_assert_uint_eq(direct_handshake(py("chain"), "localhost", &info), NS_OK);
  ck_assert_uint_eq(info->ncerts, 3);
  ck_assert_str_eq(info->certs[0].subject, "CN=localhost");
  ck_assert_str_eq(info->certs[1].subject, "CN=wschannel test intermediate");
  ck_assert_str_eq(info->certs[2].subject, "CN=wschannel test CA");
  net_tls_info_free(info);
  shut();
}
END_TEST

START_TEST(direct_host_names) {
  boot();
  const nsresult bad_domain = NS_ERROR_FROM_NSS_ERROR(SSL_ERROR_BAD_CERT_DOMAIN);
  ck_assert_uint_eq(bad_domain, 0x805A2FF4);
  /* IP literals against iPAddress entries; case does not matter. */
  expect_direct(py("ok"), "127.0.0.1", NS_OK);
  expect_direct(py("ok"), "::1", NS_OK);
  expect_direct(py("ok"), "LocalHost", NS_OK);
  expect_direct(py("ok"), "127.0.0.2", bad_domain);
  expect_direct(py("ok"), "otherhost", bad_domain);
  /* RFC 6125 §6.4.3: "*" is one whole left-most label. */
  expect_direct(py("wildcard"), "a.example.test", NS_OK);
  expect_direct(py("wildcard"), "b.a.example.test", bad_domain);
  expect_direct(py("wildcard"), "example.test", bad_domain);
  /* NSS alone would take a partial wildcard; Firefox does not. */
  expect_direct(py("partial"), "foo.example.test", bad_domain);
  /* No subjectAltName: no fallback to the CN (Firefox). */
  expect_direct(py("nosan"), "localhost", bad_domain);
  /* The server's certificate must allow serverAuth. */
  expect_direct(py("noserverauth"), "localhost",
                NS_ERROR_FROM_NSS_ERROR(SEC_ERROR_INADEQUATE_CERT_TYPE));
  shut();
}
END_TEST

START_TEST(error_mapping) {
  /* Pure: no XPCOM needed. */
  ck_assert_uint_eq(net_tls_error(SEC_ERROR_UNKNOWN_ISSUER), 0x805A1FF3);
  ck_assert_uint_eq(net_tls_error(SSL_ERROR_BAD_CERT_DOMAIN), 0x805A2FF4);
  ck_assert_uint_eq(net_tls_error(SEC_ERROR_EXPIRED_CERTIFICATE), 0x805A1FF5);
  ck_assert_uint_eq(net_tls_error(PR_CONNECT_RESET_ERROR), NS_ERROR_NET_RESET);
  ck_assert_uint_eq(net_tls_error(PR_END_OF_FILE_ERROR), NS_ERROR_NET_INTERRUPT);
  ck_assert_str_eq(net_tls_group_name(ssl_grp_ec_secp256r1), "P256");
  ck_assert_str_eq(net_tls_group_name(ssl_grp_none), "");
  ck_assert_str_eq(net_tls_signature_scheme_name(ssl_sig_rsa_pss_rsae_sha256), "RSA-PSS-SHA256");
}
END_TEST

/* ---- connections ------------------------------------------------------------------------- */

typedef struct msg {
  bool binary;
  uint8_t *data;
  size_t len;
} msg;

typedef struct rec {
  net_ws_conn *c;
  bool started, stopped, bad_order;
  nsresult status;
  msg *msgs;
  size_t nmsgs, cap;
  uint64_t acks;
  nsISupports *secinfo;
  int nsecinfo;
  bool secinfo_before_start;
  bool echo_then_close;
  int id;
  atomic_int *stopped_counter;
} rec;

static void rec_on_start(void *owner, const char *protocol, const char *extensions) {
  rec *r = owner;
  if (r->started || r->stopped)
    r->bad_order = true;
  r->started = true;
  r->secinfo_before_start = r->secinfo != NULL;
  if (r->echo_then_close) {
    char text[32];
    int n = snprintf(text, sizeof text, "hello %d", r->id);
    ck_assert_uint_eq(net_ws_conn_send(r->c, false, (const uint8_t *)text, (size_t)n), NS_OK);
  }
}

static void rec_on_message(void *owner, net_ws_message *m) {
  rec *r = owner;
  if (!r->started || r->stopped)
    r->bad_order = true;
  if (r->nmsgs == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 16;
    r->msgs = realloc(r->msgs, r->cap * sizeof *r->msgs);
    ck_assert_ptr_nonnull(r->msgs);
  }
  msg *x = &r->msgs[r->nmsgs++];
  x->binary = m->binary;
  x->len = m->len;
  x->data = net_ws_message_take(m);
  if (r->echo_then_close)
    ck_assert_uint_eq(net_ws_conn_close(r->c, 1000, "bye", 3), NS_OK);
}

static void rec_on_ack(void *owner, uint64_t size) { ((rec *)owner)->acks++; }

static void rec_on_server_close(void *owner, uint16_t code, const char *reason, size_t len) {}

static void rec_on_stop(void *owner, nsresult status) {
  rec *r = owner;
  if (r->stopped)
    r->bad_order = true;
  r->stopped = true;
  r->status = status;
  if (r->stopped_counter)
    atomic_fetch_add(r->stopped_counter, 1);
}

static void rec_on_secinfo(void *owner, nsISupports *info) {
  rec *r = owner;
  if (r->started || r->stopped)
    r->bad_order = true;
  r->nsecinfo++;
  NS_IF_RELEASE(r->secinfo);
  r->secinfo = info;
  NS_ADDREF(info);
}

static const net_ws_conn_callbacks g_cb = {rec_on_start, rec_on_message, rec_on_ack,
                                           rec_on_server_close, rec_on_stop};

static void rec_free(rec *r) {
  for (size_t i = 0; i < r->nmsgs; i++)
    free(r->msgs[i].data);
  free(r->msgs);
  r->msgs = NULL;
  r->nmsgs = r->cap = 0;
  NS_IF_RELEASE(r->secinfo);
  if (r->c) {
    net_ws_conn_release(r->c);
    r->c = NULL;
  }
}

static net_ws_conn_params params(int port, const char *host) {
  net_ws_conn_params p;
  memset(&p, 0, sizeof p);
  p.host = host;
  p.port = (uint16_t)port;
  p.secure = true;
  p.path = "/";
  p.open_timeout_ms = 20000;
  p.close_timeout_ms = 20000;
  p.ping_timeout_ms = 10000;
  p.on_security_info = rec_on_secinfo;
  return p;
}

static nsresult open_rec(rec *r, const net_ws_conn_params *p) {
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetCurrentThread(&main), NS_OK);
  nsresult rv = net_ws_conn_open(p, (nsIEventTarget *)(void *)main, &g_cb, r, &r->c);
  NS_RELEASE(main);
  if (NS_SUCCEEDED(rv))
    ck_assert(!r->started && !r->stopped && !r->secinfo);
  return rv;
}

static bool spin(bool (*cond)(rec *), rec *r, uint32_t ms) {
  PRIntervalTime start = PR_IntervalNow();
  while (!cond(r) && elapsed_ms(start) < ms) {
    if (!NS_ProcessNextEvent(NULL, false))
      PR_Sleep(PR_MillisecondsToInterval(1));
  }
  return cond(r);
}

static bool is_started(rec *r) { return r->started || r->stopped; }
static bool is_stopped(rec *r) { return r->stopped; }
static size_t g_want_msgs;
static bool has_msgs(rec *r) { return r->nmsgs >= g_want_msgs || r->stopped; }

static void expect_stop(rec *r, nsresult want, uint32_t ms) {
  ck_assert_msg(spin(is_stopped, r, ms), "no on_stop within %u ms", ms);
  char got_s[XPCOM_ERROR_FORMAT_MAX], want_s[XPCOM_ERROR_FORMAT_MAX];
  XPCOM_FormatError(r->status, got_s, sizeof got_s);
  XPCOM_FormatError(want, want_s, sizeof want_s);
  ck_assert_msg(r->status == want, "status %s, expected %s", got_s, want_s);
  ck_assert(!r->bad_order);
}

/* ---- securityInfo through its interface ------------------------------------------------------ */

static nsIWebSocketSecurityInfo *qi_secinfo(nsISupports *s) {
  ck_assert_ptr_nonnull(s);
  nsIWebSocketSecurityInfo *si = NULL;
  ck_assert_uint_eq(xpcom_query_interface(s, &nsIWebSocketSecurityInfo_IID, (void **)&si), NS_OK);
  return si;
}

/* A string attribute as a malloc'd C string:
 *   char *v = STR_ATTR(obj, GetFoo);  (free() it) */
static nsCStringContainer g_str;

static nsACString *str_attr_begin(void) {
  ck_assert_uint_eq(NS_CStringContainerInit(&g_str), NS_OK);
  return &g_str;
}

static char *str_attr_end(nsresult rv) {
  ck_assert_uint_eq(rv, NS_OK);
  const char *data;
  uint32_t len = xpcom_cstring_get(&g_str, &data);
  char *copy = malloc(len + 1);
  ck_assert_ptr_nonnull(copy);
  memcpy(copy, data, len);
  copy[len] = '\0';
  NS_CStringContainerFinish(&g_str);
  return copy;
}

#define STR_ATTR(obj, Getter) str_attr_end((obj)->vtbl->Getter((obj), str_attr_begin()))

static void expect_str_attr(char *got, const char *want) {
  ck_assert_str_eq(got, want);
  free(got);
}

/* Checks the securityInfo of a connection that succeeded. */
static void check_secure_info(nsISupports *s, uint16_t want_version, uint32_t want_chain,
                              bool want_resumed) {
  nsIWebSocketSecurityInfo *si = qi_secinfo(s);
  uint32_t state = 0;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetSecurityState(si, &state), NS_OK);
  ck_assert_uint_eq(state, nsIWebSocketSecurityInfo_STATE_IS_SECURE);
  int32_t err = -1;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetErrorCode(si, &err), NS_OK);
  ck_assert_int_eq(err, 0);
  expect_str_attr(STR_ATTR(si, GetErrorCodeString), "");
  uint16_t version = 99;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetProtocolVersion(si, &version), NS_OK);
  ck_assert_uint_eq(version, want_version);
  char *cipher = STR_ATTR(si, GetCipherSuite);
  ck_assert_msg(strncmp(cipher, "TLS_", 4) == 0, "cipher %s", cipher);
  if (want_version == nsIWebSocketSecurityInfo_TLS_VERSION_1_3)
    ck_assert_msg(strstr(cipher, "_WITH_") == NULL, "TLS 1.3 suite %s", cipher);
  free(cipher);
  expect_str_attr(STR_ATTR(si, GetKeaGroupName), "x25519");
  char *sig = STR_ATTR(si, GetSignatureSchemeName);
  if (!want_resumed)
    ck_assert_msg(*sig, "no signature scheme");
  free(sig);
  bool resumed = !want_resumed;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetResumed(si, &resumed), NS_OK);
  ck_assert_int_eq(resumed, want_resumed);
  expect_str_attr(STR_ATTR(si, GetAlpn), "http/1.1");

  nsIWebSocketCertInfo *cert = NULL;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetServerCert(si, &cert), NS_OK);
  ck_assert_ptr_nonnull(cert);
  expect_str_attr(STR_ATTR(cert, GetSubject), "CN=localhost");
  expect_str_attr(STR_ATTR(cert, GetCommonName), "localhost");
  nsCStringContainer d; /* DER holds NULs: read it through the container */
  ck_assert_uint_eq(NS_CStringContainerInit(&d), NS_OK);
  ck_assert_uint_eq(nsIWebSocketCertInfo_GetDer(cert, &d), NS_OK);
  const char *bytes;
  size_t der_len = xpcom_cstring_get(&d, &bytes);
  ck_assert_uint_gt(der_len, 100);
  ck_assert_uint_eq((uint8_t)bytes[0], 0x30); /* a DER SEQUENCE */
  char fp[96];
  fingerprint((const uint8_t *)bytes, der_len, fp);
  NS_CStringContainerFinish(&d);
  expect_str_attr(STR_ATTR(cert, GetSha256Fingerprint), fp);
  PRTime nb = 0, na = 0, now = PR_Now();
  ck_assert_uint_eq(nsIWebSocketCertInfo_GetNotBefore(cert, &nb), NS_OK);
  ck_assert_uint_eq(nsIWebSocketCertInfo_GetNotAfter(cert, &na), NS_OK);
  ck_assert(nb < now && now < na);
  NS_RELEASE(cert);

  uint32_t count = 0;
  nsIWebSocketCertInfo **chain = NULL;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetCertChain(si, &count, &chain), NS_OK);
  ck_assert_uint_eq(count, want_chain);
  expect_str_attr(STR_ATTR(chain[count - 1], GetSubject), "CN=wschannel test CA");
  expect_str_attr(STR_ATTR(chain[0], GetIssuer),
                  want_chain == 3 ? "CN=wschannel test intermediate" : "CN=wschannel test CA");
  for (uint32_t i = 0; i < count; i++)
    NS_RELEASE(chain[i]);
  NS_Free(chain);
  NS_RELEASE(si);
}

/* Checks the securityInfo of a handshake that failed. */
static void check_broken_info(nsISupports *s, PRErrorCode want_err, bool want_certs) {
  nsIWebSocketSecurityInfo *si = qi_secinfo(s);
  uint32_t state = 0;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetSecurityState(si, &state), NS_OK);
  ck_assert_uint_eq(state, nsIWebSocketSecurityInfo_STATE_IS_BROKEN);
  int32_t err = 0;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetErrorCode(si, &err), NS_OK);
  ck_assert_int_eq(err, want_err);
  expect_str_attr(STR_ATTR(si, GetErrorCodeString), PR_ErrorToName(want_err));
  expect_str_attr(STR_ATTR(si, GetCipherSuite), "");
  uint32_t count = 99;
  nsIWebSocketCertInfo **chain = NULL;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetCertChain(si, &count, &chain), NS_OK);
  ck_assert_int_eq(count > 0, want_certs);
  nsIWebSocketCertInfo *cert = NULL;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetServerCert(si, &cert), NS_OK);
  ck_assert_int_eq(cert != NULL, want_certs);
  NS_IF_RELEASE(cert);
  for (uint32_t i = 0; i < count; i++)
    NS_RELEASE(chain[i]);
  NS_Free(chain);
  NS_RELEASE(si);
}

/* ---- payloads ---------------------------------------------------------------------------------- */

static uint8_t *make_binary(size_t len, unsigned seed) {
  uint8_t *p = malloc(len ? len : 1);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
  return p;
}

static uint8_t *make_text(size_t len) {
  uint8_t *p = malloc(len ? len : 1);
  static const char *const seqs[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e"};
  size_t i = 0;
  unsigned k = 0;
  while (i < len) {
    if (i % 97 == 13) {
      const char *q = seqs[k++ % 3];
      size_t l = strlen(q);
      if (i + l <= len) {
        memcpy(p + i, q, l);
        i += l;
        continue;
      }
    }
    p[i] = (uint8_t)('a' + i % 26);
    i++;
  }
  return p;
}

/* Echoes text and binary messages of every size up to 16 MiB. */
static void echo_all_sizes(rec *r) {
  static const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 300000, 1u << 20, 16u << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    for (int bin = 0; bin < 2; bin++) {
      size_t len = sizes[i];
      uint8_t *data = bin ? make_binary(len, (unsigned)i) : make_text(len);
      ck_assert_uint_eq(net_ws_conn_send(r->c, bin, data, len), NS_OK);
      g_want_msgs = r->nmsgs + 1;
      ck_assert_msg(spin(has_msgs, r, 60000), "no echo of %zu bytes", len);
      ck_assert(!r->stopped);
      msg *m = &r->msgs[r->nmsgs - 1];
      ck_assert_int_eq(m->binary, bin);
      ck_assert_uint_eq(m->len, len);
      ck_assert(len == 0 || memcmp(m->data, data, len) == 0);
      free(data);
    }
  }
}

/* Open, check securityInfo, echo everything, close cleanly. */
static void echo_session(int port, uint16_t want_version, uint32_t want_chain) {
  rec r = {0};
  net_ws_conn_params p = params(port, "localhost");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  /* Queued before the TLS handshake: sent after the upgrade. */
  ck_assert_uint_eq(net_ws_conn_send(r.c, false, (const uint8_t *)"early", 5), NS_OK);
  ck_assert(spin(is_started, &r, 20000));
  ck_assert_msg(r.started, "failed: 0x%08x", (unsigned)r.status);
  ck_assert(r.secinfo_before_start);
  ck_assert_int_eq(r.nsecinfo, 1);
  check_secure_info(r.secinfo, want_version, want_chain, false);
  g_want_msgs = 1;
  ck_assert(spin(has_msgs, &r, 10000));
  ck_assert_uint_eq(r.msgs[0].len, 5);
  echo_all_sizes(&r);
  ck_assert_uint_eq(net_ws_conn_close(r.c, 1000, "done", 4), NS_OK);
  expect_stop(&r, NS_OK, 20000);
  ck_assert_int_eq(r.nsecinfo, 1);
  rec_free(&r);
}

START_TEST(wss_echo_python_tls13) {
  boot();
  echo_session(py("tls13"), nsIWebSocketSecurityInfo_TLS_VERSION_1_3, 2);
  shut();
}
END_TEST

START_TEST(wss_echo_python_tls12) {
  boot();
  echo_session(py("tls12"), nsIWebSocketSecurityInfo_TLS_VERSION_1_2, 2);
  shut();
}
END_TEST

START_TEST(wss_echo_python_intermediate) {
  boot();
  echo_session(py("chain"), nsIWebSocketSecurityInfo_TLS_VERSION_1_3, 3);
  shut();
}
END_TEST

START_TEST(wss_echo_node) {
  ck_assert_msg(g_have_node, "the Node wss:// server did not start (node and `npm ci` in "
                             "test/xpcshell/servers are needed)");
  boot();
  int port = port_of(&g_node, _i == 0 ? "tls12" : "tls13");
  ck_assert_int_gt(port, 0);
  echo_session(port, _i == 0 ? nsIWebSocketSecurityInfo_TLS_VERSION_1_2
                             : nsIWebSocketSecurityInfo_TLS_VERSION_1_3,
               2);
  shut();
}
END_TEST

static void one_session(int port, const char *host, uint16_t version, bool want_resumed) {
  rec r = {0};
  r.echo_then_close = true;
  net_ws_conn_params p = params(port, host);
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_OK, 20000);
  ck_assert(r.started);
  ck_assert_uint_eq(r.nmsgs, 1);
  nsIWebSocketSecurityInfo *si = qi_secinfo(r.secinfo);
  bool resumed = !want_resumed;
  ck_assert_uint_eq(nsIWebSocketSecurityInfo_GetResumed(si, &resumed), NS_OK);
  ck_assert_int_eq(resumed, want_resumed);
  NS_RELEASE(si);
  if (want_resumed) /* the chain is still reported, from the cached session */
    check_secure_info(r.secinfo, version, 2, true);
  rec_free(&r);
}

/* A reconnect resumes the cached session (TLS 1.3 ticket, TLS 1.2 session
 * ID or ticket); another host name does not share it. */
START_TEST(wss_session_resumption) {
  boot();
  const char *server = _i == 0 ? "tls13" : "tls12";
  uint16_t v = _i == 0 ? nsIWebSocketSecurityInfo_TLS_VERSION_1_3
                       : nsIWebSocketSecurityInfo_TLS_VERSION_1_2;
  one_session(py(server), "localhost", v, false);
  one_session(py(server), "localhost", v, true);
  one_session(py(server), "127.0.0.1", v, false);
  one_session(py(server), "127.0.0.1", v, true);
  shut();
}
END_TEST

/* ---- failures ------------------------------------------------------------------------------------ */

typedef struct failure {
  const char *server; /* tls_server.py name */
  nsresult status;    /* on_stop */
  PRErrorCode secinfo_error; /* 0: no securityInfo expected */
  bool certs;         /* securityInfo lists the presented chain */
  bool opens;         /* on_start comes first (failure after the upgrade) */
} failure;

#define SEC(e) NS_ERROR_FROM_NSS_ERROR(e), e
static const failure g_failures[] = {
    {"selfsigned", SEC(SEC_ERROR_UNKNOWN_ISSUER), true, false},
    {"unknownca", SEC(SEC_ERROR_UNKNOWN_ISSUER), true, false},
    {"wronghost", SEC(SSL_ERROR_BAD_CERT_DOMAIN), true, false},
    {"expired", SEC(SEC_ERROR_EXPIRED_CERTIFICATE), true, false},
    /* NSS's verifier reports not-yet-valid with the same code. */
    {"notyet", SEC(SEC_ERROR_EXPIRED_CERTIFICATE), true, false},
    {"nosan", SEC(SSL_ERROR_BAD_CERT_DOMAIN), true, false},
    {"tls10", SEC(SSL_ERROR_PROTOCOL_VERSION_ALERT), false, false},
    {"plain", SEC(SSL_ERROR_RX_RECORD_TOO_LONG), false, false},
    {"reset", NS_ERROR_NET_RESET, PR_CONNECT_RESET_ERROR, false, false},
    {"stall", NS_ERROR_NET_TIMEOUT, 0, false, false},
    /* A record of an unknown content type after the TLS 1.3 handshake. */
    {"garbage", NS_ERROR_FROM_NSS_ERROR(SSL_ERROR_RX_UNEXPECTED_RECORD_TYPE), 0, false, true},
    {"midreset", NS_ERROR_NET_RESET, 0, false, true},
};
#undef SEC

START_TEST(wss_failure) {
  const failure *f = &g_failures[_i];
  if (strcmp(f->server, "tls10") == 0 && py("tls10") == 0) {
    fprintf(stderr, "SKIP tls10: this Python/OpenSSL cannot serve TLS 1.0\n");
    return;
  }
  boot();
  rec r = {0};
  net_ws_conn_params p = params(py(f->server), "localhost");
  p.open_timeout_ms = 1500; /* the stalled handshake */
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  PRIntervalTime t0 = PR_IntervalNow();
  expect_stop(&r, f->status, 20000);
  ck_assert_int_eq(r.started, f->opens);
  if (f->opens) {
    ck_assert_uint_eq(r.nmsgs, 1); /* the frame before the failure */
    ck_assert_int_eq(r.nsecinfo, 1);
    check_secure_info(r.secinfo, nsIWebSocketSecurityInfo_TLS_VERSION_1_3, 2, false);
  } else if (f->secinfo_error) {
    ck_assert_int_eq(r.nsecinfo, 1);
    check_broken_info(r.secinfo, f->secinfo_error, f->certs);
  } else {
    ck_assert_int_eq(r.nsecinfo, 0);
  }
  if (f->status == NS_ERROR_NET_TIMEOUT)
    ck_assert_uint_ge(elapsed_ms(t0), 1400);
  rec_free(&r);
  shut();
}
END_TEST

/* ws:// has no securityInfo; a wss:// URI on a plain server fails above. */
START_TEST(ws_has_no_security_info) {
  boot();
  rec r = {0};
  r.echo_then_close = true;
  net_ws_conn_params p = params(py("plain"), "localhost");
  p.secure = false;
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, NS_OK, 10000);
  ck_assert(r.started);
  ck_assert_int_eq(r.nsecinfo, 0);
  rec_free(&r);
  shut();
}
END_TEST

/* ---- scale -------------------------------------------------------------------------------------- */

static atomic_int g_nstopped;
static int g_nwant;
static bool all_stopped(rec *r) {
  (void)r;
  return atomic_load(&g_nstopped) >= g_nwant;
}

START_TEST(wss_hundred_concurrent) {
  boot();
  enum { N = 100 };
  rec *rs = calloc(N, sizeof *rs);
  atomic_store(&g_nstopped, 0);
  g_nwant = N;
  net_ws_conn_params p = params(py("ok"), "localhost");
  for (int i = 0; i < N; i++) {
    rs[i].id = i;
    rs[i].echo_then_close = true;
    rs[i].stopped_counter = &g_nstopped;
    ck_assert_uint_eq(open_rec(&rs[i], &p), NS_OK);
  }
  ck_assert_msg(spin(all_stopped, NULL, 120000), "only %d stopped", atomic_load(&g_nstopped));
  int resumed = 0;
  for (int i = 0; i < N; i++) {
    ck_assert_msg(rs[i].status == NS_OK, "%d: 0x%08x", i, (unsigned)rs[i].status);
    ck_assert(!rs[i].bad_order);
    ck_assert_uint_eq(rs[i].nmsgs, 1);
    char text[32];
    int n = snprintf(text, sizeof text, "hello %d", i);
    ck_assert_uint_eq(rs[i].msgs[0].len, (size_t)n);
    ck_assert(memcmp(rs[i].msgs[0].data, text, (size_t)n) == 0);
    nsIWebSocketSecurityInfo *si = qi_secinfo(rs[i].secinfo);
    uint32_t state = 0;
    bool res = false;
    nsIWebSocketSecurityInfo_GetSecurityState(si, &state);
    nsIWebSocketSecurityInfo_GetResumed(si, &res);
    ck_assert_uint_eq(state, nsIWebSocketSecurityInfo_STATE_IS_SECURE);
    resumed += res;
    NS_RELEASE(si);
    rec_free(&rs[i]);
  }
  fprintf(stderr, "100 concurrent wss://: %d resumed\n", resumed);
  free(rs);
  shut();
}
END_TEST

/* ---- trust anchors --------------------------------------------------------------------------------- */

static void expect_session(int port, nsresult want) {
  rec r = {0};
  r.echo_then_close = true;
  net_ws_conn_params p = params(port, "localhost");
  ck_assert_uint_eq(open_rec(&r, &p), NS_OK);
  expect_stop(&r, want, 20000);
  ck_assert_int_eq(r.started, want == NS_OK);
  rec_free(&r);
}

START_TEST(trust_without_the_test_ca) {
  boot();
  unsetenv("SSL_CERT_FILE");
  /* Built-in roots and the system store do not know the test CA. */
  expect_session(py("ok"), NS_ERROR_FROM_NSS_ERROR(SEC_ERROR_UNKNOWN_ISSUER));
  ck_assert(net_trust_have_builtin_roots());
  /* SSL_CERT_FILE named later is read at the next connection. */
  setenv("SSL_CERT_FILE", g_cafile, 1);
  expect_session(py("ok"), NS_OK);
  shut();
}
END_TEST

START_TEST(trust_from_pref) {
  boot();
  unsetenv("SSL_CERT_FILE");
  ck_assert_uint_eq(xpcom_prefs_set_char(NET_TRUST_CAFILE_PREF, g_cafile), NS_OK);
  expect_session(py("ok"), NS_OK);
  shut();
}
END_TEST

START_TEST(trust_self_signed_server_certificate) {
  boot();
  unsetenv("SSL_CERT_FILE");
  char path[400];
  snprintf(path, sizeof path, "%s/selfsigned.pem", g_certdir);
  ck_assert_uint_eq(xpcom_prefs_set_char(NET_TRUST_CAFILE_PREF, path), NS_OK);
  /* Trusted as that server itself (like curl --cacert), nothing more. */
  expect_session(py("selfsigned"), NS_OK);
  expect_session(py("ok"), NS_ERROR_FROM_NSS_ERROR(SEC_ERROR_UNKNOWN_ISSUER));
  shut();
}
END_TEST

/* net_trust_add_pem* on a thread of its own (see direct_thread). */
typedef struct pem_job {
  nsresult missing, junk, empty, good, after;
  unsigned n_missing, n_good;
} pem_job;

static const char k_junk_pem[] = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
                                 "-----END CERTIFICATE-----\n";

static void pem_thread(void *arg) {
  pem_job *j = arg;
  j->n_missing = 99;
  j->missing = net_trust_add_pem_file("/nonexistent/ca.pem", &j->n_missing);
  j->junk = net_trust_add_pem(k_junk_pem, sizeof k_junk_pem - 1, NULL);
  j->empty = net_trust_add_pem("", 0, NULL);
  j->good = net_trust_add_pem_file(g_cafile, &j->n_good);
}

static void run_thread(void (*fn)(void *), void *arg) {
  PRThread *th = PR_CreateThread(PR_USER_THREAD, fn, arg, PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                 PR_JOINABLE_THREAD, 0);
  ck_assert_ptr_nonnull(th);
  ck_assert_int_eq(PR_JoinThread(th), PR_SUCCESS);
}

START_TEST(trust_pem_errors) {
  boot();
  ck_assert_uint_eq(net_nss_init(), NS_OK);
  pem_job j;
  memset(&j, 0, sizeof j);
  run_thread(pem_thread, &j);
  ck_assert_uint_eq(j.missing, NS_ERROR_FILE_NOT_FOUND);
  ck_assert_uint_eq(j.n_missing, 0);
  ck_assert_uint_eq(j.junk, NS_ERROR_FILE_CORRUPTED);
  ck_assert_uint_eq(j.empty, NS_ERROR_FILE_CORRUPTED);
  ck_assert_uint_eq(j.good, NS_OK);
  ck_assert_uint_eq(j.n_good, 1);
  shut();
  unsigned n = 99;
  ck_assert_uint_eq(net_trust_add_pem_file(g_cafile, &n), NS_ERROR_NOT_INITIALIZED);
  ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(trust_profile_database) {
  ck_assert_msg(g_dbdir[0], "certutil could not make the database");
  unsetenv("SSL_CERT_FILE");
  ck_assert_uint_eq(net_nss_set_profile_dir(g_dbdir), NS_OK);
  nsIServiceManager *sm = NULL;
  ck_assert_uint_eq(NS_InitXPCOM2(&sm, NULL, NULL), NS_OK);
  NS_RELEASE(sm);
  expect_session(py("ok"), NS_OK); /* the database trusts the test CA */
  ck_assert(net_nss_is_ours());
  ck_assert_uint_eq(net_nss_set_profile_dir(NULL), NS_ERROR_ALREADY_INITIALIZED);
  shut();
  ck_assert_uint_eq(net_nss_set_profile_dir(NULL), NS_OK);
}
END_TEST

START_TEST(host_initialised_nss_is_respected) {
  /* The host opened NSS before XPCOM: we neither re-initialise nor shut
   * it down, and release every reference of ours. */
  ck_assert_int_eq(NSS_NoDB_Init(NULL), SECSuccess);
  boot();
  expect_session(py("ok"), NS_OK);
  ck_assert(!net_nss_is_ours());
  ck_assert(!net_trust_have_builtin_roots()); /* the host's business */
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), 0);
  ck_assert_uint_eq(net_ws_conn_live_count(), 0);
  ck_assert(NSS_IsInitialized());
  /* What a host does before its own shutdown (Firefox does the same). */
  SSL_ClearSessionCache();
  ck_assert_int_eq(NSS_Shutdown(), SECSuccess);
}
END_TEST

/* ---- main ---------------------------------------------------------------------------------- */

static Suite *tls_suite(void) {
  Suite *s = suite_create("tls");
  TCase *direct = tcase_create("net_tls");
  tcase_set_timeout(direct, 60);
  tcase_add_test(direct, error_mapping);
  tcase_add_test(direct, direct_tls13_parameters_and_chain);
  tcase_add_test(direct, direct_tls12_rsa);
  tcase_add_test(direct, direct_intermediate_chain);
  tcase_add_test(direct, direct_host_names);
  suite_add_tcase(s, direct);
  TCase *echo = tcase_create("echo");
  tcase_set_timeout(echo, 240);
  tcase_add_test(echo, wss_echo_python_tls13);
  tcase_add_test(echo, wss_echo_python_tls12);
  tcase_add_test(echo, wss_echo_python_intermediate);
  tcase_add_loop_test(echo, wss_echo_node, 0, 2);
  tcase_add_loop_test(echo, wss_session_resumption, 0, 2);
  tcase_add_test(echo, ws_has_no_security_info);
  suite_add_tcase(s, echo);
  TCase *fail = tcase_create("failures");
  tcase_set_timeout(fail, 60);
  tcase_add_loop_test(fail, wss_failure, 0, (int)(sizeof g_failures / sizeof g_failures[0]));
  suite_add_tcase(s, fail);
  TCase *scale = tcase_create("scale");
  tcase_set_timeout(scale, 240);
  tcase_add_test(scale, wss_hundred_concurrent);
  suite_add_tcase(s, scale);
  TCase *trust = tcase_create("trust");
  tcase_set_timeout(trust, 60);
  tcase_add_test(trust, trust_without_the_test_ca);
  tcase_add_test(trust, trust_from_pref);
  tcase_add_test(trust, trust_self_signed_server_certificate);
  tcase_add_test(trust, trust_pem_errors);
  tcase_add_test(trust, trust_profile_database);
  tcase_add_test(trust, host_initialised_nss_is_respected);
  suite_add_tcase(s, trust);
  return s;
}

static int run(const char *const *argv) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0)
      dup2(null, 1);
    execv(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* An NSS database that trusts the test CA, made with certutil. */
static void make_db(void) {
  char dir[300], sqldir[310];
  snprintf(dir, sizeof dir, "%s/nssdb", g_certdir);
  snprintf(sqldir, sizeof sqldir, "sql:%s", dir);
  if (mkdir(dir, 0700) != 0)
    return;
  const char *const create[] = {"/usr/bin/certutil", "-N", "-d", sqldir, "--empty-password",
                                NULL};
  const char *const add[] = {"/usr/bin/certutil", "-A", "-d", sqldir, "-n", "wschannel test CA",
                             "-t", "C,,", "-i", g_cafile, NULL};
  if (run(create) == 0 && run(add) == 0)
    snprintf(g_dbdir, sizeof g_dbdir, "%s", dir);
}

int main(void) {
  snprintf(g_certdir, sizeof g_certdir, "%s/wschannel-tls-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(g_certdir)) {
    perror("mkdtemp");
    return EXIT_FAILURE;
  }
  snprintf(g_cafile, sizeof g_cafile, "%s/ca.pem", g_certdir);
  char script[512], node_script[512];
  snprintf(script, sizeof script, "%s/test/tls/make_certs.py", TLS_TEST_SRCDIR);
  const char *const mk[] = {"/usr/bin/python3", script, g_certdir, NULL};
  int failed = 1;
  SRunner *sr = NULL;
  if (run(mk) != 0) {
    fprintf(stderr, "test_tls: make_certs.py failed (is `openssl` installed?)\n");
    goto out;
  }
  make_db();
  snprintf(script, sizeof script, "%s/test/tls/tls_server.py", TLS_TEST_SRCDIR);
  const char *const srv[] = {"/usr/bin/python3", script, g_certdir, NULL};
  if (!peer_start(&g_py, srv)) {
    fprintf(stderr, "test_tls: cannot start %s\n", script);
    goto out;
  }
  snprintf(node_script, sizeof node_script, "%s/test/tls/node_tls_echo.js", TLS_TEST_SRCDIR);
  const char *const node[] = {"/usr/bin/node", node_script, g_certdir, NULL};
  g_have_node = peer_start(&g_node, node);
  sr = srunner_create(tls_suite());
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
out:
  peer_stop(&g_py);
  peer_stop(&g_node);
  const char *const rm[] = {"/bin/rm", "-rf", g_certdir, NULL};
  run(rm);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
