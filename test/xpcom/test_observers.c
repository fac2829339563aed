/*
 * test_observers.c — the observer service: notification order (newest
 * first, then "*"), subject/topic/data, removal (also during a
 * notification), enumerateObservers, main-thread-only use, weak requests
 * held strongly, observers released at shutdown.
 */
#include "svc_test_util.h"
#include "nsIObserver.h"
#include "nsIObserverService.h"
#include "nsISimpleEnumerator.h"

static void setup(void) { svc_init(); }
static void teardown(void) { svc_shutdown(); }

static nsIObserverService *obs_service(void) {
  nsIServiceManager *sm = NULL;
  ck_assert_uint_eq(NS_GetServiceManager(&sm), NS_OK);
  nsIObserverService *os = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@mozilla.org/observer-service;1",
                        &nsIObserverService_IID, (void **)&os),
                    NS_OK);
  NS_RELEASE(sm);
  return os;
}

/* An observer appending "<name>:<topic>[:<data>]" to a shared log. */
typedef struct rec_observer {
  nsIObserver iface;
  uint32_t refcnt;
  char name[16];
  char *log;
  nsISupports *last_subject;
  /* Optional action during Observe: remove these from the service. */
  nsIObserverService *os;
  struct rec_observer *remove[2];
} rec_observer;

static nsresult ro_qi(nsIObserver *self, const nsIID *iid, void **r) {
  static const xpcom_qi_entry t[] = {
      XPCOM_QI_ENTRY(rec_observer, iface, nsIObserver_IID), XPCOM_QI_END};
  return xpcom_table_qi(self, t, iid, r);
}
static nsrefcnt ro_addref(nsIObserver *self) {
  return xpcom_refcnt_inc(&((rec_observer *)self)->refcnt);
}
static nsrefcnt ro_release(nsIObserver *self) {
  rec_observer *o = (rec_observer *)self;
  nsrefcnt n = xpcom_refcnt_dec(&o->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("RecObserver", sizeof *o);
    free(o);
  }
  return n;
}
static nsresult ro_observe(nsIObserver *self, nsISupports *subject,
                           const char *topic, const char16_t *data) {
  rec_observer *o = (rec_observer *)self;
  strcat(o->log, o->name);
  strcat(o->log, ":");
  strcat(o->log, topic);
  if (data) {
    strcat(o->log, ":");
    size_t n = strlen(o->log);
    for (size_t i = 0; data[i]; i++)
      o->log[n++] = (char)data[i];
    o->log[n] = '\0';
  }
  strcat(o->log, " ");
  o->last_subject = subject;
  for (int i = 0; i < 2; i++) {
    if (o->os && o->remove[i])
      ck_assert_uint_eq(nsIObserverService_RemoveObserver(
                            o->os, &o->remove[i]->iface, topic),
                        NS_OK);
  }
  return NS_OK;
}
static const nsIObserverVtbl ro_vtbl = {ro_qi, ro_addref, ro_release,
                                        ro_observe};

static rec_observer *rec_new(const char *name, char *log) {
  rec_observer *o = calloc(1, sizeof *o);
  o->iface.vtbl = &ro_vtbl;
  o->refcnt = 1;
  strcpy(o->name, name);
  o->log = log;
  xpcom_leak_ctor("RecObserver", sizeof *o);
  return o;
}

START_TEST(test_notify_order_and_arguments)
{
  /* static: observers left registered write here during shutdown */
  static char log[1024];
  log[0] = '\0';
  nsIObserverService *os = obs_service();
  rec_observer *a = rec_new("a", log), *b = rec_new("b", log),
               *star = rec_new("star", log), *other = rec_new("other", log);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &star->iface, "*",
                                                   false), NS_OK);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &a->iface, "topic",
                                                   false), NS_OK);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &b->iface, "topic",
                                                   true), NS_OK);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &other->iface,
                                                   "other", false), NS_OK);
  static const char16_t data[] = {'d', 'a', 't', 'a', 0};
  ck_assert_uint_eq(nsIObserverService_NotifyObservers(
                        os, (nsISupports *)&a->iface, "topic", data),
                    NS_OK);
  /* Newest first, then the wildcard observers. */
  ck_assert_str_eq(log, "b:topic:data a:topic:data star:topic:data ");
  ck_assert_ptr_eq(b->last_subject, (nsISupports *)&a->iface);
  log[0] = '\0';
  ck_assert_uint_eq(nsIObserverService_NotifyObservers(os, NULL, "nobody",
                                                       NULL), NS_OK);
  ck_assert_str_eq(log, "star:nobody ");

  /* The weak request (b) is held strongly: it survives our release. */
  ck_assert_uint_eq(ro_release(&b->iface), 1);
  log[0] = '\0';
  ck_assert_uint_eq(nsIObserverService_RemoveObserver(os, &a->iface, "topic"),
                    NS_OK);
  ck_assert_uint_eq(nsIObserverService_RemoveObserver(os, &a->iface, "topic"),
                    NS_ERROR_FAILURE);
  ck_assert_uint_eq(nsIObserverService_NotifyObservers(os, NULL, "topic",
                                                       NULL), NS_OK);
  ck_assert_str_eq(log, "b:topic star:topic ");

  ck_assert_uint_eq(nsIObserverService_AddObserver(os, NULL, "x", false),
                    NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &a->iface, NULL,
                                                   false),
                    NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(nsIObserverService_NotifyObservers(os, NULL, NULL, NULL),
                    NS_ERROR_INVALID_ARG);
  ro_release(&a->iface);
  ro_release(&star->iface);
  ro_release(&other->iface); /* b, star, other: released at shutdown */
  NS_RELEASE(os);
}
END_TEST

START_TEST(test_remove_during_notification)
{
  /* static: observers left registered write here during shutdown */
  static char log[1024];
  log[0] = '\0';
  nsIObserverService *os = obs_service();
  rec_observer *a = rec_new("a", log), *b = rec_new("b", log),
               *c = rec_new("c", log);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &a->iface, "t", false),
                    NS_OK);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &b->iface, "t", false),
                    NS_OK);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &c->iface, "t", false),
                    NS_OK);
  /* c (notified first) removes itself and a. */
  c->os = os;
  c->remove[0] = c;
  c->remove[1] = a;
  ck_assert_uint_eq(nsIObserverService_NotifyObservers(os, NULL, "t", NULL),
                    NS_OK);
  /* A snapshot is notified, as in Gecko: a still hears this one. */
  ck_assert_str_eq(log, "c:t b:t a:t ");
  log[0] = '\0';
  c->os = NULL;
  ck_assert_uint_eq(nsIObserverService_NotifyObservers(os, NULL, "t", NULL),
                    NS_OK);
  ck_assert_str_eq(log, "b:t ");
  ck_assert_uint_eq(a->refcnt, 1);
  ck_assert_uint_eq(c->refcnt, 1);
  ro_release(&a->iface);
  ro_release(&b->iface);
  ro_release(&c->iface);
  NS_RELEASE(os);
}
END_TEST

START_TEST(test_enumerate_observers)
{
  static char log[1024];
  log[0] = '\0';
  nsIObserverService *os = obs_service();
  rec_observer *a = rec_new("a", log), *b = rec_new("b", log);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &a->iface, "e", false),
                    NS_OK);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &b->iface, "e", false),
                    NS_OK);
  nsISimpleEnumerator *en = NULL;
  ck_assert_uint_eq(nsIObserverService_EnumerateObservers(os, "e", &en),
                    NS_OK);
  nsISupports *seen[2] = {NULL, NULL};
  bool more = false;
  for (int i = 0; i < 2; i++) {
    ck_assert_uint_eq(nsISimpleEnumerator_HasMoreElements(en, &more), NS_OK);
    ck_assert(more);
    ck_assert_uint_eq(nsISimpleEnumerator_GetNext(en, &seen[i]), NS_OK);
  }
  ck_assert_uint_eq(nsISimpleEnumerator_HasMoreElements(en, &more), NS_OK);
  ck_assert(!more);
  nsISupports *none = (nsISupports *)1;
  ck_assert_uint_eq(nsISimpleEnumerator_GetNext(en, &none), NS_ERROR_FAILURE);
  ck_assert_ptr_null(none);
  ck_assert_ptr_eq(seen[0], (nsISupports *)&b->iface);
  ck_assert_ptr_eq(seen[1], (nsISupports *)&a->iface);
  NS_RELEASE(seen[0]);
  NS_RELEASE(seen[1]);
  NS_RELEASE(en);
  ck_assert_uint_eq(nsIObserverService_EnumerateObservers(os, "none", &en),
                    NS_OK);
  ck_assert_uint_eq(nsISimpleEnumerator_HasMoreElements(en, &more), NS_OK);
  ck_assert(!more);
  NS_RELEASE(en);
  ro_release(&a->iface);
  ro_release(&b->iface);
  NS_RELEASE(os);
}
END_TEST

typedef struct offmain {
  nsIObserverService *os;
  nsIObserver *o;
  nsresult add, notify;
} offmain;

static void offmain_run(void *arg) {
  offmain *m = arg;
  m->add = nsIObserverService_AddObserver(m->os, m->o, "t", false);
  m->notify = nsIObserverService_NotifyObservers(m->os, NULL, "t", NULL);
}

START_TEST(test_main_thread_only)
{
  static char log[1024];
  log[0] = '\0';
  nsIObserverService *os = obs_service();
  rec_observer *a = rec_new("a", log);
  offmain m = {os, &a->iface, NS_OK, NS_OK};
  PRThread *t = PR_CreateThread(PR_USER_THREAD, offmain_run, &m,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, 0);
  PR_JoinThread(t);
  ck_assert_uint_eq(m.add, NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(m.notify, NS_ERROR_UNEXPECTED);
  ck_assert_str_eq(log, "");
  ro_release(&a->iface);
  NS_RELEASE(os);
}
END_TEST

static char g_shutdown_log[512];

START_TEST(test_shutdown_topics_and_release)
{
  nsIObserverService *os = obs_service();
  rec_observer *a = rec_new("a", g_shutdown_log);
  ck_assert_uint_eq(nsIObserverService_AddObserver(os, &a->iface, "*", false),
                    NS_OK);
  ro_release(&a->iface);
  /* We keep `os` on purpose: no leak report line for it. */
  char *leak_log = getenv("XPCOM_MEM_LEAK_LOG");
  leak_log = leak_log ? strdup(leak_log) : NULL;
  unsetenv("XPCOM_MEM_LEAK_LOG");
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  if (leak_log)
    setenv("XPCOM_MEM_LEAK_LOG", leak_log, 1);
  free(leak_log);
  ck_assert_str_eq(g_shutdown_log,
                   "a:xpcom-will-shutdown a:xpcom-shutdown "
                   "a:xpcom-shutdown-threads ");
  /* Only the service handle we still hold is alive: the observer went. */
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), 1);
  /* A service pointer kept past shutdown refuses. */
  ck_assert_uint_eq(nsIObserverService_NotifyObservers(os, NULL, "t", NULL),
                    NS_ERROR_UNEXPECTED); /* no main thread any more */
  NS_RELEASE(os);
  ck_assert_uint_eq(XPCOM_LeakLiveCount(), 0);
  svc_init();
}
END_TEST

static Suite *observers_suite(void) {
  Suite *s = suite_create("observers");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_notify_order_and_arguments);
  tcase_add_test(tc, test_remove_during_notification);
  tcase_add_test(tc, test_enumerate_observers);
  tcase_add_test(tc, test_main_thread_only);
  tcase_add_test(tc, test_shutdown_topics_and_release);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(observers_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
