/*
 * net_dns.c — the resolver pool: a FIFO of requests served by up to two
 * NSPR threads, results posted back as events.
 *
 * A request holds two references: the requester's (dropped by cancel or
 * once the callback ran) and the job's (dropped when the completion event
 * ran or was discarded). Cancellation is a flag the requester sets on its
 * own thread, where the completion also runs, so the two never race; the
 * pool only reads the flag to skip work that nobody wants any more.
 */
#include "net_dns.h"

#include <prcvar.h>
#include <prerror.h>
#include <prinit.h>
#include <prlock.h>
#include <prnetdb.h>
#include <prthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nsXPCOM.h"
#include "xpcom_thread.h" /* before the generated headers (C natives) */
#include "nsIEventTarget.h"
#include "nsIThread.h"
#include "xpcom_log.h"
#include "xpcom_object.h"

XPCOM_LOG_MODULE(g_log, "nsHostResolver");

#define DNS_MAX_WORKERS 2

struct net_dns_request {
  atomic_uint refcnt;
  atomic_bool cancelled;    /* set on the requester's thread */
  nsIEventTarget *target;   /* requester's thread (owned reference) */
  net_dns_callback cb;
  void *closure;
  uint16_t port;
  nsresult status;          /* written before the completion is posted */
  net_addr_list *addrs;
  struct net_dns_request *next; /* pool queue (g_lock) */
  char host[];
};

static PRCallOnceType g_once;
static PRLock *g_lock;
static PRCondVar *g_cv;
/* Under g_lock: */
static net_dns_request *g_head, *g_tail;
static PRThread *g_workers[DNS_MAX_WORKERS];
static int g_nworkers, g_nidle;
static bool g_stopping, g_hooked;

static PRStatus dns_once(void) {
  g_lock = PR_NewLock();
  g_cv = g_lock ? PR_NewCondVar(g_lock) : NULL;
  return g_cv ? PR_SUCCESS : PR_FAILURE;
}

static void req_release(net_dns_request *req) {
  if (atomic_fetch_sub_explicit(&req->refcnt, 1, memory_order_acq_rel) != 1)
    return;
  free(req->addrs);
  NS_IF_RELEASE(req->target);
  free(req);
}

static void req_release_cb(void *arg) { req_release(arg); }

/* On the requester's thread. */
static void req_complete(void *arg) {
  net_dns_request *req = arg;
  if (!atomic_load(&req->cancelled)) {
    atomic_store(&req->cancelled, true); /* the handle is spent */
    net_addr_list *addrs = req->addrs;
    req->addrs = NULL;
    req->cb(req->closure, req->status, addrs);
    req_release(req); /* the requester's reference */
  }
  req_release(req); /* the job's reference */
}

/* Hands the job's reference to a completion event. */
static void req_post(net_dns_request *req) {
  if (NS_FAILED(xpcom_dispatch_fn(req->target, req_complete, req, req_release_cb)))
    req_release(req); /* the requester's thread is gone */
}

static bool addr_equal(const PRNetAddr *a, const PRNetAddr *b) {
  if (a->raw.family != b->raw.family)
    return false;
  if (a->raw.family == PR_AF_INET)
    return a->inet.ip == b->inet.ip && a->inet.port == b->inet.port;
  if (a->raw.family == PR_AF_INET6)
    return memcmp(&a->ipv6.ip, &b->ipv6.ip, sizeof a->ipv6.ip) == 0 &&
           a->ipv6.port == b->ipv6.port && a->ipv6.scope_id == b->ipv6.scope_id;
  return memcmp(a, b, sizeof *a) == 0;
}

/* Blocking lookup, on a pool thread. */
static void resolve_now(net_dns_request *req) {
  PRAddrInfo *ai = PR_GetAddrInfoByName(req->host, PR_AF_UNSPEC, PR_AI_ADDRCONFIG);
  if (!ai) {
    PRErrorCode err = PR_GetError();
    req->status = err == PR_OUT_OF_MEMORY_ERROR ? NS_ERROR_OUT_OF_MEMORY : NS_ERROR_UNKNOWN_HOST;
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("dns: %s failed (%d)", req->host, (int)err));
    return;
  }
  size_t n = 0;
  PRNetAddr a;
  for (void *it = PR_EnumerateAddrInfo(NULL, ai, req->port, &a); it;
       it = PR_EnumerateAddrInfo(it, ai, req->port, &a))
    n++;
  net_addr_list *list = n ? malloc(sizeof *list + n * sizeof(PRNetAddr)) : NULL;
  if (!list) {
    req->status = n ? NS_ERROR_OUT_OF_MEMORY : NS_ERROR_UNKNOWN_HOST;
    PR_FreeAddrInfo(ai);
    return;
  }
  list->count = 0;
  for (void *it = PR_EnumerateAddrInfo(NULL, ai, req->port, &a); it;
       it = PR_EnumerateAddrInfo(it, ai, req->port, &a)) {
    bool dup = false;
    for (size_t i = 0; i < list->count && !dup; i++)
      dup = addr_equal(&list->addrs[i], &a);
    if (!dup)
      list->addrs[list->count++] = a;
  }
  PR_FreeAddrInfo(ai);
  if (XPCOM_LOG_ENABLED(g_log, XPCOM_LOG_DEBUG)) {
    char buf[80] = "";
    PR_NetAddrToString(&list->addrs[0], buf, sizeof buf);
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
              ("dns: %s -> %s (%zu addresses)", req->host, buf, list->count));
  }
  req->status = NS_OK;
  req->addrs = list;
}

static void worker_main(void *arg) {
  (void)arg;
  PR_Lock(g_lock);
  for (;;) {
    while (!g_head && !g_stopping) {
      g_nidle++;
      PR_WaitCondVar(g_cv, PR_INTERVAL_NO_TIMEOUT);
      g_nidle--;
    }
    if (g_stopping)
      break;
    net_dns_request *req = g_head;
    g_head = req->next;
    if (!g_head)
      g_tail = NULL;
    req->next = NULL;
    PR_Unlock(g_lock);
    if (atomic_load(&req->cancelled))
      req_release(req); /* nobody waits: no lookup, no event */
    else {
      resolve_now(req);
      req_post(req);
    }
    PR_Lock(g_lock);
  }
  PR_Unlock(g_lock);
}

static void dns_stop_hook(void) { net_dns_shutdown(); }

/* A literal address: "1.2.3.4", "::1" or "[::1]". */
static bool parse_literal(const char *host, uint16_t port, PRNetAddr *out) {
  char buf[64];
  size_t len = strlen(host);
  if (len >= sizeof buf)
    return false;
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
    memcpy(buf, host + 1, len - 2);
    buf[len - 2] = '\0';
  } else {
    memcpy(buf, host, len + 1);
  }
  /* Only dotted-quad or IPv6 text: NSPR would also take "127.1". */
  bool v6 = strchr(buf, ':') != NULL;
  if (!v6) {
    int dots = 0;
    for (const char *p = buf; *p; p++) {
      if (*p == '.')
        dots++;
      else if (*p < '0' || *p > '9')
        return false;
    }
    if (dots != 3)
      return false;
  }
  memset(out, 0, sizeof *out); /* NSPR leaves flowinfo / scope_id alone */
  if (PR_StringToNetAddr(buf, out) != PR_SUCCESS)
    return false;
  if (out->raw.family == PR_AF_INET)
    out->inet.port = PR_htons(port);
  else if (out->raw.family == PR_AF_INET6)
    out->ipv6.port = PR_htons(port);
  else
    return false;
  return true;
}

NET_API(nsresult)
net_dns_resolve(const char *host, uint16_t port, net_dns_callback cb, void *closure,
                net_dns_request **out) {
  if (out)
    *out = NULL;
  if (!host || !*host || !cb)
    return NS_ERROR_INVALID_ARG;
  if (PR_CallOnce(&g_once, dns_once) != PR_SUCCESS)
    return NS_ERROR_OUT_OF_MEMORY;
  nsIThread *cur = NULL;
  if (NS_FAILED(NS_GetCurrentThread(&cur)))
    return NS_ERROR_NOT_AVAILABLE;
  size_t hlen = strlen(host);
  net_dns_request *req = calloc(1, sizeof *req + hlen + 1);
  if (!req) {
    NS_RELEASE(cur);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  atomic_init(&req->refcnt, 2);
  atomic_init(&req->cancelled, false);
  req->target = (nsIEventTarget *)(void *)cur; /* takes cur's reference */
  req->cb = cb;
  req->closure = closure;
  req->port = port;
  memcpy(req->host, host, hlen + 1);

  PRNetAddr lit;
  if (parse_literal(host, port, &lit)) {
    req->addrs = malloc(sizeof *req->addrs + sizeof(PRNetAddr));
    if (!req->addrs) {
      free(req);
      NS_RELEASE(cur);
      return NS_ERROR_OUT_OF_MEMORY;
    }
    req->addrs->count = 1;
    req->addrs->addrs[0] = lit;
    req->status = NS_OK;
    nsresult rv = xpcom_dispatch_fn(req->target, req_complete, req, req_release_cb);
    if (NS_FAILED(rv)) {
      free(req->addrs);
      free(req);
      NS_RELEASE(cur);
      return rv;
    }
    if (out)
      *out = req;
    return NS_OK;
  }

  nsresult rv = NS_OK;
  PR_Lock(g_lock);
  if (g_stopping)
    rv = NS_ERROR_NOT_AVAILABLE;
  if (NS_SUCCEEDED(rv) && !g_hooked) {
    rv = net_sts_at_stop(dns_stop_hook, NET_STS_STOP_SERVICES);
    if (NS_SUCCEEDED(rv))
      g_hooked = true;
    else
      rv = NS_ERROR_NOT_AVAILABLE;
  }
  if (NS_SUCCEEDED(rv) && g_nidle == 0 && g_nworkers < DNS_MAX_WORKERS) {
    PRThread *t = PR_CreateThread(PR_USER_THREAD, worker_main, NULL, PR_PRIORITY_NORMAL,
                                  PR_GLOBAL_THREAD, PR_JOINABLE_THREAD, 0);
    if (t)
      g_workers[g_nworkers++] = t;
    else if (g_nworkers == 0)
      rv = NS_ERROR_OUT_OF_MEMORY;
  }
  if (NS_SUCCEEDED(rv)) {
    if (g_tail)
      g_tail->next = req;
    else
      g_head = req;
    g_tail = req;
    PR_NotifyCondVar(g_cv);
  }
  PR_Unlock(g_lock);
  if (NS_FAILED(rv)) {
    free(req);
    NS_RELEASE(cur);
    return rv;
  }
  XPCOM_LOG(g_log, XPCOM_LOG_VERBOSE, ("dns: resolving %s", host));
  if (out)
    *out = req;
  return NS_OK;
}

NET_API(void) net_dns_cancel(net_dns_request *req) {
  if (!req || atomic_load(&req->cancelled))
    return;
  atomic_store(&req->cancelled, true);
  req_release(req); /* the requester's reference */
}

NET_API(void) net_dns_shutdown(void) {
  if (PR_CallOnce(&g_once, dns_once) != PR_SUCCESS)
    return;
  PRThread *workers[DNS_MAX_WORKERS];
  PR_Lock(g_lock);
  g_stopping = true;
  int n = g_nworkers;
  memcpy(workers, g_workers, sizeof workers);
  PR_NotifyAllCondVar(g_cv);
  PR_Unlock(g_lock);
  for (int i = 0; i < n; i++)
    PR_JoinThread(workers[i]);
  PR_Lock(g_lock);
  net_dns_request *q = g_head;
  g_head = g_tail = NULL;
  g_nworkers = 0;
  g_stopping = false;
  g_hooked = false;
  PR_Unlock(g_lock);
  while (q) {
    net_dns_request *next = q->next;
    q->next = NULL;
    if (atomic_load(&q->cancelled)) {
      req_release(q);
    } else {
      q->status = NS_ERROR_ABORT;
      req_post(q);
    }
    q = next;
  }
  if (n)
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("dns: pool stopped (%d threads)", n));
}
