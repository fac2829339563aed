/*
 * net_trust.c — trust anchors for wss:// (see net_trust.h).
 */
#include "net_trust.h"

#include <cert.h>
#include <certdb.h>
#include <certt.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <prinit.h>
#include <prlink.h>
#include <prlock.h>
#include <prmem.h>
#include <secmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_nss.h"
#include "xpcom_log.h"
#include "xpcom_prefs.h"

XPCOM_LOG_MODULE(g_log, "nsWebSocket");

#define MAX_PEM_FILE (64u << 20)

/* Debian's ca-certificates first; then where other systems keep theirs. */
static const char *const k_system_bundles[] = {
    "/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Gentoo, Arch */
    "/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL */
    "/etc/ssl/ca-bundle.pem",             /* openSUSE */
    "/etc/ssl/cert.pem",                  /* Alpine, BSDs */
};

static PRCallOnceType g_once;
static PRLock *g_lock;

/* All guarded by g_lock. */
static bool g_defaults_done;     /* builtin roots and system store tried */
static SECMODModule *g_roots;    /* the module we loaded, or NULL */
static CERTCertificate **g_certs; /* references we hold (anchors) */
static size_t g_ncerts, g_capcerts;
static char **g_paths;           /* files already loaded */
static size_t g_npaths;

static PRStatus trust_once(void) {
  g_lock = PR_NewLock();
  return g_lock ? PR_SUCCESS : PR_FAILURE;
}

static bool lock_module(void) {
  if (PR_CallOnce(&g_once, trust_once) != PR_SUCCESS)
    return false;
  PR_Lock(g_lock);
  return true;
}

/* ---- base64 (RFC 4648 §4), skipping whitespace ---------------------------- */

static int b64_value(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+')
    return 62;
  if (ch == '/')
    return 63;
  return -1;
}

/* Decodes src[0..len) into out (at least len * 3 / 4 bytes); returns the
 * number of bytes, or -1 on a character that is neither base64, '=' at
 * the end, nor whitespace. */
static long b64_decode(const char *src, size_t len, unsigned char *out) {
  uint32_t acc = 0;
  int bits = 0;
  long n = 0;
  bool pad = false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)src[i];
    if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
      continue;
    if (ch == '=') {
      pad = true;
      continue;
    }
    int v = b64_value(ch);
    if (v < 0 || pad)
      return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  return n;
}

/* ---- anchors ----------------------------------------------------------------- */

static bool hold_cert(CERTCertificate *cert) {
  if (g_ncerts == g_capcerts) {
    size_t cap = g_capcerts ? g_capcerts * 2 : 64;
    CERTCertificate **v = realloc(g_certs, cap * sizeof *v);
    if (!v)
      return false;
    g_certs = v;
    g_capcerts = cap;
  }
  g_certs[g_ncerts++] = cert;
  return true;
}

/* One DER certificate. Returns 1 when it is now an anchor (or already on a
 * token), 0 when it could not be decoded, -1 when out of memory. */
static int add_der(unsigned char *der, size_t len) {
  SECItem item = {siDERCertBuffer, der, (unsigned int)len};
  CERTCertificate *cert =
      CERT_NewTempCertificate(CERT_GetDefaultCertDB(), &item, NULL, PR_FALSE, PR_TRUE);
  if (!cert) {
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
              ("trust: a certificate could not be decoded (%d)", (int)PR_GetError()));
    return 0;
  }
  if (!cert->istemp || cert->isperm || cert->slot) {
    /* Already on a token (typically a built-in root): its trust there
     * stands; changing it would write to that token. */
    CERT_DestroyCertificate(cert);
    return 1;
  }
  CERTCertTrust trust;
  memset(&trust, 0, sizeof trust);
  if (CERT_IsCACert(cert, NULL))
    trust.sslFlags = CERTDB_VALID_CA | CERTDB_TRUSTED_CA;
  else
    trust.sslFlags = CERTDB_TERMINAL_RECORD | CERTDB_TRUSTED;
  if (CERT_ChangeCertTrust(CERT_GetDefaultCertDB(), cert, &trust) != SECSuccess) {
    XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
              ("trust: cannot trust %s (%d)", cert->subjectName ? cert->subjectName : "?",
               (int)PR_GetError()));
    CERT_DestroyCertificate(cert);
    return 0;
  }
  /* The temporary certificate (and its trust) lives while referenced. */
  if (!hold_cert(cert)) {
    CERT_DestroyCertificate(cert);
    return -1;
  }
  return 1;
}

static const char k_begin[] = "-----BEGIN CERTIFICATE-----";
static const char k_end[] = "-----END CERTIFICATE-----";

/* Caller holds g_lock. */
static nsresult add_pem_locked(const char *pem, size_t len, unsigned *added) {
  unsigned count = 0, blocks = 0;
  const char *p = pem, *end = pem + len;
  nsresult rv = NS_OK;
  while (p < end) {
    const char *b = memmem(p, (size_t)(end - p), k_begin, sizeof k_begin - 1);
    if (!b)
      break;
    const char *body = b + sizeof k_begin - 1;
    const char *e = memmem(body, (size_t)(end - body), k_end, sizeof k_end - 1);
    if (!e)
      break;
    p = e + sizeof k_end - 1;
    blocks++;
    size_t blen = (size_t)(e - body);
    unsigned char *der = malloc(blen / 4 * 3 + 3);
    if (!der) {
      rv = NS_ERROR_OUT_OF_MEMORY;
      break;
    }
    long n = b64_decode(body, blen, der);
    int r = n > 0 ? add_der(der, (size_t)n) : 0;
    free(der);
    if (r < 0) {
      rv = NS_ERROR_OUT_OF_MEMORY;
      break;
    }
    count += (unsigned)r;
  }
  if (added)
    *added = count;
  if (NS_SUCCEEDED(rv) && count == 0)
    rv = NS_ERROR_FILE_CORRUPTED;
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
            ("trust: %u of %u PEM certificates are anchors", count, blocks));
  return rv;
}

static bool path_loaded(const char *path) {
  for (size_t i = 0; i < g_npaths; i++)
    if (strcmp(g_paths[i], path) == 0)
      return true;
  return false;
}

static void remember_path(const char *path) {
  char **v = realloc(g_paths, (g_npaths + 1) * sizeof *v);
  if (!v)
    return;
  g_paths = v;
  char *copy = strdup(path);
  if (copy)
    g_paths[g_npaths++] = copy;
}

/* Reads a whole file (malloc'd, *len bytes). */
static nsresult read_file(const char *path, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NS_ERROR_FILE_NOT_FOUND;
  size_t cap = 0, n = 0;
  char *buf = NULL;
  nsresult rv = NS_OK;
  for (;;) {
    if (n == cap) {
      if (cap >= MAX_PEM_FILE) {
        rv = NS_ERROR_FILE_TOO_BIG;
        break;
      }
      cap = cap ? cap * 2 : 65536;
      char *nb = realloc(buf, cap);
      if (!nb) {
        rv = NS_ERROR_OUT_OF_MEMORY;
        break;
      }
      buf = nb;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) {
      if (ferror(f))
        rv = NS_ERROR_FILE_NOT_FOUND;
      break;
    }
  }
  fclose(f);
  if (NS_FAILED(rv)) {
    free(buf);
    return rv;
  }
  *out = buf;
  *len = n;
  return NS_OK;
}

/* Caller holds g_lock. */
static nsresult add_file_locked(const char *path, unsigned *added) {
  if (added)
    *added = 0;
  if (path_loaded(path))
    return NS_OK;
  char *data;
  size_t len;
  nsresult rv = read_file(path, &data, &len);
  if (NS_SUCCEEDED(rv)) {
    rv = add_pem_locked(data, len, added);
    free(data);
  }
  /* A failing path is not retried at every connection either. */
  if (rv != NS_ERROR_OUT_OF_MEMORY)
    remember_path(path);
  return rv;
}

/* ---- the built-in roots module ------------------------------------------------ */

/* Where libnssckbi.so is: beside libnss3 (Debian: /usr/lib/<triplet>/),
 * else NSS's own subdirectory, else the loader's search path. */
static char *builtin_roots_path(void) {
  char *self = PR_GetLibraryFilePathname("libnss3.so", (PRFuncPtr)NSS_IsInitialized);
  if (self) {
    char *slash = strrchr(self, '/');
    if (slash) {
      const char *const subdirs[] = {"/", "/nss/"};
      for (size_t i = 0; i < 2; i++) {
        size_t dl = (size_t)(slash - self);
        size_t need = dl + strlen(subdirs[i]) + sizeof "libnssckbi.so";
        char *cand = malloc(need);
        if (!cand)
          break;
        snprintf(cand, need, "%.*s%slibnssckbi.so", (int)dl, self, subdirs[i]);
        if (access(cand, R_OK) == 0) {
          PR_Free(self);
          return cand;
        }
        free(cand);
      }
    }
    PR_Free(self);
  }
  return strdup("libnssckbi.so");
}

/* Caller holds g_lock. */
static void load_builtin_roots(void) {
  if (SECMOD_HasRootCerts()) {
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("trust: a root module is already loaded"));
    return;
  }
  char *path = builtin_roots_path();
  if (!path || strchr(path, '"')) {
    free(path);
    return;
  }
  size_t need = strlen(path) + 64;
  char *spec = malloc(need);
  if (spec) {
    snprintf(spec, need, "name=\"Builtin Roots\" library=\"%s\"", path);
    SECMODModule *mod = SECMOD_LoadUserModule(spec, NULL, PR_FALSE);
    if (mod && mod->loaded) {
      g_roots = mod;
      XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("trust: built-in roots loaded from %s", path));
    } else {
      XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                ("trust: cannot load the built-in roots module %s (%d)", path,
                 (int)PR_GetError()));
      if (mod)
        SECMOD_DestroyModule(mod);
    }
    free(spec);
  }
  free(path);
}

/* ---- public --------------------------------------------------------------------- */

NET_API(nsresult) net_trust_ensure(void) {
  if (!net_nss_ready())
    return NS_ERROR_NOT_INITIALIZED;
  /* Read outside the lock: the pref store has its own. */
  /* Outside our lock: net_nss runs the hook under its own. */
  nsresult hrv = net_nss_at_shutdown(net_trust_shutdown);
  if (NS_FAILED(hrv))
    return hrv;
  char *pref = xpcom_prefs_get_char(NET_TRUST_CAFILE_PREF, NULL);
  const char *env = getenv("SSL_CERT_FILE");
  if (!lock_module()) {
    free(pref);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  if (!g_defaults_done) {
    g_defaults_done = true;
    if (net_nss_is_ours()) {
      load_builtin_roots();
      for (size_t i = 0; i < sizeof k_system_bundles / sizeof k_system_bundles[0]; i++) {
        if (access(k_system_bundles[i], R_OK) != 0)
          continue;
        unsigned n = 0;
        nsresult rv = add_file_locked(k_system_bundles[i], &n);
        XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
                  ("trust: system store %s: %u certificates (0x%08x)", k_system_bundles[i], n,
                   (unsigned)rv));
        break;
      }
    }
  }
  const char *extra[2] = {env, pref};
  for (size_t i = 0; i < 2; i++) {
    if (!extra[i] || !*extra[i] || path_loaded(extra[i]))
      continue;
    unsigned n = 0;
    nsresult rv = add_file_locked(extra[i], &n);
    if (NS_FAILED(rv)) {
      char buf[XPCOM_ERROR_FORMAT_MAX];
      XPCOM_FormatError(rv, buf, sizeof buf);
      XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                ("trust: %s %s: no anchors added (%s)", i ? NET_TRUST_CAFILE_PREF : "SSL_CERT_FILE",
                 extra[i], buf));
    } else
      XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("trust: %s: %u anchors", extra[i], n));
  }
  PR_Unlock(g_lock);
  free(pref);
  return NS_OK;
}

/* What adding certificates needs: NSS up, our shutdown hook registered
 * with it (the added certificates must go before NSS does), the module
 * lock taken (the caller unlocks). */
static nsresult lock_for_adding(void) {
  if (!net_nss_ready())
    return NS_ERROR_NOT_INITIALIZED;
  nsresult rv = net_nss_at_shutdown(net_trust_shutdown);
  if (NS_FAILED(rv))
    return rv;
  return lock_module() ? NS_OK : NS_ERROR_OUT_OF_MEMORY;
}

NET_API(nsresult) net_trust_add_pem_file(const char *path, unsigned *added) {
  if (added)
    *added = 0;
  if (!path || !*path)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = lock_for_adding();
  if (NS_FAILED(rv))
    return rv;
  rv = add_file_locked(path, added);
  PR_Unlock(g_lock);
  return rv;
}

NET_API(nsresult) net_trust_add_pem(const char *pem, size_t len, unsigned *added) {
  if (added)
    *added = 0;
  if (!pem && len)
    return NS_ERROR_INVALID_ARG;
  nsresult rv = lock_for_adding();
  if (NS_FAILED(rv))
    return rv;
  rv = add_pem_locked(pem ? pem : "", len, added);
  PR_Unlock(g_lock);
  return rv;
}

NET_API(void) net_trust_shutdown(void) {
  if (!lock_module())
    return;
  for (size_t i = 0; i < g_ncerts; i++)
    CERT_DestroyCertificate(g_certs[i]);
  free(g_certs);
  g_certs = NULL;
  g_ncerts = g_capcerts = 0;
  for (size_t i = 0; i < g_npaths; i++)
    free(g_paths[i]);
  free(g_paths);
  g_paths = NULL;
  g_npaths = 0;
  if (g_roots) {
    if (SECMOD_UnloadUserModule(g_roots) != SECSuccess)
      XPCOM_LOG(g_log, XPCOM_LOG_ERROR,
                ("trust: unloading the built-in roots failed (%d)", (int)PR_GetError()));
    SECMOD_DestroyModule(g_roots);
    g_roots = NULL;
  }
  g_defaults_done = false;
  PR_Unlock(g_lock);
}

NET_API(bool) net_trust_have_builtin_roots(void) {
  if (!lock_module())
    return false;
  bool r = g_roots != NULL;
  PR_Unlock(g_lock);
  return r;
}

NET_API(unsigned) net_trust_anchor_count(void) {
  if (!lock_module())
    return 0;
  unsigned n = (unsigned)g_ncerts;
  PR_Unlock(g_lock);
  return n;
}
