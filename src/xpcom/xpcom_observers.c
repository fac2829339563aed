/*
 * xpcom_observers.c — the observer service (nsIObserverService) and a
 * small array-backed nsISimpleEnumerator.
 *
 * Main thread only, as in Gecko (elsewhere: NS_ERROR_UNEXPECTED rather than
 * Gecko's crash). Observers are held strongly; a weak registration
 * (ownsWeak) is also held strongly, since this runtime has no weak
 * references. Notification follows Gecko: the observers of the topic, most
 * recently added first, then those of "*"; it works on a snapshot, so
 * observers may add or remove observers (themselves included) while being
 * notified — a removed observer that is still in the snapshot is called
 * this one last time, as in Gecko.
 */
#include "xpcom_services_int.h"
#include "nsIObserverService.h"
#include "nsISimpleEnumerator.h"

#include <stdlib.h>
#include <string.h>

XPCOM_LOG_MODULE(g_log, XPCOM_SERVICES_LOG_NAME);

typedef struct observer_entry {
  struct observer_entry *next; /* newest first */
  char *topic;
  nsIObserver *observer; /* strong */
} observer_entry;

/* Main thread only. */
static observer_entry *g_entries;
static bool g_live;

nsresult xpcom_observers_init(void) {
  g_live = true;
  return NS_OK;
}

void xpcom_observers_shutdown(void) {
  g_live = false;
  /* Releasing one observer may remove others: detach the list first. */
  while (g_entries) {
    observer_entry *list = g_entries;
    g_entries = NULL;
    while (list) {
      observer_entry *next = list->next;
      NS_RELEASE(list->observer);
      free(list->topic);
      free(list);
      list = next;
    }
  }
}

/* Snapshot of the observers of `topic`, newest first, each AddRef'd. */
static nsIObserver **snapshot(const char *topic, uint32_t *count) {
  uint32_t n = 0;
  for (observer_entry *e = g_entries; e; e = e->next)
    if (!strcmp(e->topic, topic))
      n++;
  *count = 0;
  if (!n)
    return NULL;
  nsIObserver **list = malloc(n * sizeof *list);
  if (!list)
    return NULL;
  for (observer_entry *e = g_entries; e; e = e->next) {
    if (!strcmp(e->topic, topic)) {
      NS_ADDREF(e->observer);
      list[(*count)++] = e->observer;
    }
  }
  return list;
}

static void notify_list(const char *list_topic, nsISupports *subject,
                        const char *topic, const char16_t *data) {
  uint32_t n;
  nsIObserver **list = snapshot(list_topic, &n);
  for (uint32_t i = 0; i < n; i++) {
    (void)nsIObserver_Observe(list[i], subject, topic, data);
    NS_RELEASE(list[i]);
  }
  free(list);
}

void xpcom_observers_notify(nsISupports *subject, const char *topic,
                            const char16_t *data) {
  if (!g_live || !topic)
    return;
  XPCOM_LOG(g_log, XPCOM_LOG_DEBUG, ("notify observers of %s", topic));
  notify_list(topic, subject, topic, data);
  notify_list("*", subject, topic, data);
}

/* ---- nsIObserverService ------------------------------------------------- */

typedef struct observer_service {
  nsIObserverService iface;
  uint32_t refcnt;
} observer_service;

static const xpcom_qi_entry service_qi[] = {
    XPCOM_QI_ENTRY(observer_service, iface, nsIObserverService_IID),
    XPCOM_QI_END};

static nsresult os_QueryInterface(nsIObserverService *self, const nsIID *iid,
                                  void **result) {
  return xpcom_table_qi(self, service_qi, iid, result);
}
static nsrefcnt os_AddRef(nsIObserverService *self) {
  return xpcom_refcnt_inc(&((observer_service *)self)->refcnt);
}
static nsrefcnt os_Release(nsIObserverService *self) {
  observer_service *s = (observer_service *)self;
  nsrefcnt n = xpcom_refcnt_dec(&s->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("nsObserverService", sizeof *s);
    free(s);
  }
  return n;
}

static nsresult check_call(void) {
  if (!NS_IsMainThread())
    return NS_ERROR_UNEXPECTED;
  if (!g_live)
    return NS_ERROR_FAILURE; /* Gecko: used after XPCOM shutdown */
  return NS_OK;
}

static nsresult os_AddObserver(nsIObserverService *self,
                               nsIObserver *observer, const char *topic,
                               bool owns_weak) {
  nsresult rv = check_call();
  if (NS_FAILED(rv))
    return rv;
  if (!observer || !topic)
    return NS_ERROR_INVALID_ARG;
  observer_entry *e = calloc(1, sizeof *e);
  if (!e || !(e->topic = xpcom_strdup(topic))) {
    free(e);
    return NS_ERROR_OUT_OF_MEMORY;
  }
  if (owns_weak)
    XPCOM_LOG(g_log, XPCOM_LOG_DEBUG,
              ("observer of %s held strongly (weak requested)", topic));
  NS_ADDREF(observer);
  e->observer = observer;
  e->next = g_entries;
  g_entries = e;
  return NS_OK;
}

static nsresult os_RemoveObserver(nsIObserverService *self,
                                  nsIObserver *observer, const char *topic) {
  nsresult rv = check_call();
  if (NS_FAILED(rv))
    return rv;
  if (!observer || !topic)
    return NS_ERROR_INVALID_ARG;
  for (observer_entry **pp = &g_entries; *pp; pp = &(*pp)->next) {
    observer_entry *e = *pp;
    if (e->observer == observer && !strcmp(e->topic, topic)) {
      *pp = e->next;
      NS_RELEASE(e->observer);
      free(e->topic);
      free(e);
      return NS_OK;
    }
  }
  return NS_ERROR_FAILURE; /* Gecko: not registered */
}

static nsresult os_NotifyObservers(nsIObserverService *self,
                                   nsISupports *subject, const char *topic,
                                   const char16_t *data) {
  nsresult rv = check_call();
  if (NS_FAILED(rv))
    return rv;
  if (!topic)
    return NS_ERROR_INVALID_ARG;
  xpcom_observers_notify(subject, topic, data);
  return NS_OK;
}

static nsresult os_EnumerateObservers(nsIObserverService *self,
                                      const char *topic,
                                      nsISimpleEnumerator **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  *result = NULL;
  nsresult rv = check_call();
  if (NS_FAILED(rv))
    return rv;
  if (!topic)
    return NS_ERROR_INVALID_ARG;
  uint32_t n;
  nsIObserver **list = snapshot(topic, &n);
  rv = xpcom_array_enumerator_new((nsISupports *const *)list, n,
                                  (void **)result);
  for (uint32_t i = 0; i < n; i++)
    NS_RELEASE(list[i]);
  free(list);
  return rv;
}

static const nsIObserverServiceVtbl service_vtbl = {
    .QueryInterface = os_QueryInterface,
    .AddRef = os_AddRef,
    .Release = os_Release,
    .AddObserver = os_AddObserver,
    .RemoveObserver = os_RemoveObserver,
    .NotifyObservers = os_NotifyObservers,
    .EnumerateObservers = os_EnumerateObservers,
};

/* The service object is a thin handle: the observer list is global, so
 * NS_ShutdownXPCOM can notify without it. */
nsresult xpcom_observers_construct(nsISupports *outer, const nsIID *iid,
                                   void **result) {
  *result = NULL;
  if (outer)
    return NS_ERROR_NO_AGGREGATION;
  observer_service *s = calloc(1, sizeof *s);
  if (!s)
    return NS_ERROR_OUT_OF_MEMORY;
  s->iface.vtbl = &service_vtbl;
  s->refcnt = 1;
  xpcom_leak_ctor("nsObserverService", sizeof *s);
  nsresult rv = os_QueryInterface(&s->iface, iid, result);
  os_Release(&s->iface);
  return rv;
}

/* ---- nsISimpleEnumerator over an array ------------------------------------ */

typedef struct array_enumerator {
  nsISimpleEnumerator iface;
  uint32_t refcnt;
  uint32_t count, next; /* next: only the owning caller advances it */
  nsISupports *items[];
} array_enumerator;

static const xpcom_qi_entry enum_qi[] = {
    XPCOM_QI_ENTRY(array_enumerator, iface, nsISimpleEnumerator_IID),
    XPCOM_QI_END};

static nsresult en_QueryInterface(nsISimpleEnumerator *self,
                                  const nsIID *iid, void **result) {
  return xpcom_table_qi(self, enum_qi, iid, result);
}
static nsrefcnt en_AddRef(nsISimpleEnumerator *self) {
  return xpcom_refcnt_inc(&((array_enumerator *)self)->refcnt);
}
static nsrefcnt en_Release(nsISimpleEnumerator *self) {
  array_enumerator *e = (array_enumerator *)self;
  nsrefcnt n = xpcom_refcnt_dec(&e->refcnt);
  if (n == 0) {
    for (uint32_t i = 0; i < e->count; i++)
      NS_IF_RELEASE(e->items[i]);
    xpcom_leak_dtor("nsArrayEnumerator", sizeof *e);
    free(e);
  }
  return n;
}
static nsresult en_HasMoreElements(nsISimpleEnumerator *self, bool *result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  array_enumerator *e = (array_enumerator *)self;
  *result = e->next < e->count;
  return NS_OK;
}
static nsresult en_GetNext(nsISimpleEnumerator *self, nsISupports **result) {
  if (!result)
    return NS_ERROR_NULL_POINTER;
  array_enumerator *e = (array_enumerator *)self;
  if (e->next >= e->count) {
    *result = NULL;
    return NS_ERROR_FAILURE; /* Gecko's nsArrayEnumerator at the end */
  }
  *result = e->items[e->next++];
  NS_ADDREF(*result);
  return NS_OK;
}
static const nsISimpleEnumeratorVtbl enum_vtbl = {
    .QueryInterface = en_QueryInterface,
    .AddRef = en_AddRef,
    .Release = en_Release,
    .HasMoreElements = en_HasMoreElements,
    .GetNext = en_GetNext,
};

nsresult xpcom_array_enumerator_new(nsISupports *const *items, uint32_t count,
                                    void **result) {
  array_enumerator *e =
      calloc(1, sizeof *e + (size_t)count * sizeof e->items[0]);
  if (!e)
    return NS_ERROR_OUT_OF_MEMORY;
  e->iface.vtbl = &enum_vtbl;
  e->refcnt = 1;
  e->count = count;
  for (uint32_t i = 0; i < count; i++) {
    e->items[i] = items[i];
    NS_ADDREF(e->items[i]);
  }
  xpcom_leak_ctor("nsArrayEnumerator", sizeof *e);
  *result = &e->iface;
  return NS_OK;
}
