/*
 * test_timers.c — nsITimer on the arming thread's loop: one-shot order by
 * deadline, repeating kinds, cancel (also from the callback), re-arming
 * from the callback, references held while armed, firing on the arming
 * thread, timers of a thread that shuts down, the C helpers.
 */
#include "svc_test_util.h"
#include "nsITimer.h"
#include "nsIObserver.h"

static void setup(void) { svc_init(); }
static void teardown(void) { svc_shutdown(); }

static nsITimer *new_timer(void) {
  nsIComponentManager *cm = NULL;
  ck_assert_uint_eq(NS_GetComponentManager(&cm), NS_OK);
  nsITimer *t = NULL;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@mozilla.org/timer;1", NULL, &nsITimer_IID,
                        (void **)&t),
                    NS_OK);
  NS_RELEASE(cm);
  return t;
}

static void spin_ms(uint32_t ms) {
  PRIntervalTime start = PR_IntervalNow();
  while (PR_IntervalToMilliseconds(PR_IntervalNow() - start) < ms) {
    if (!NS_ProcessNextEvent(NULL, false))
      PR_Sleep(PR_MillisecondsToInterval(1));
  }
}

/* ---- a C object that is both nsITimerCallback and nsIObserver ------------ */

typedef struct probe {
  nsITimerCallback cb;
  nsIObserver obs;
  uint32_t refcnt;
  atomic_int notified, observed;
  atomic_bool topic_ok, subject_ok;
  nsITimer *expected; /* not owned */
  int log_id;
  int *log;
  atomic_int *log_n;
} probe;

static const xpcom_qi_entry probe_qi[] = {
    XPCOM_QI_ENTRY(probe, cb, nsITimerCallback_IID),
    XPCOM_QI_ENTRY(probe, obs, nsIObserver_IID), XPCOM_QI_END};

static nsresult probe_cb_qi(nsITimerCallback *self, const nsIID *iid,
                            void **r) {
  return xpcom_table_qi(XPCOM_CONTAINER_OF(self, probe, cb), probe_qi, iid, r);
}
static nsrefcnt probe_addref(probe *p) { return xpcom_refcnt_inc(&p->refcnt); }
static nsrefcnt probe_release(probe *p) {
  nsrefcnt n = xpcom_refcnt_dec(&p->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("probe", sizeof *p);
    free(p);
  }
  return n;
}
static nsrefcnt probe_cb_addref(nsITimerCallback *self) {
  return probe_addref(XPCOM_CONTAINER_OF(self, probe, cb));
}
static nsrefcnt probe_cb_release(nsITimerCallback *self) {
  return probe_release(XPCOM_CONTAINER_OF(self, probe, cb));
}
static nsresult probe_notify(nsITimerCallback *self, nsITimer *timer) {
  probe *p = XPCOM_CONTAINER_OF(self, probe, cb);
  if (timer == p->expected)
    atomic_store(&p->subject_ok, true);
  if (p->log)
    p->log[atomic_fetch_add(p->log_n, 1)] = p->log_id;
  atomic_fetch_add(&p->notified, 1);
  return NS_OK;
}
static const nsITimerCallbackVtbl probe_cb_vtbl = {
    .QueryInterface = probe_cb_qi,
    .AddRef = probe_cb_addref,
    .Release = probe_cb_release,
    .Notify = probe_notify,
};

static nsresult probe_obs_qi(nsIObserver *self, const nsIID *iid, void **r) {
  return xpcom_table_qi(XPCOM_CONTAINER_OF(self, probe, obs), probe_qi, iid,
                        r);
}
static nsrefcnt probe_obs_addref(nsIObserver *self) {
  return probe_addref(XPCOM_CONTAINER_OF(self, probe, obs));
}
static nsrefcnt probe_obs_release(nsIObserver *self) {
  return probe_release(XPCOM_CONTAINER_OF(self, probe, obs));
}
static nsresult probe_observe(nsIObserver *self, nsISupports *subject,
                              const char *topic, const char16_t *data) {
  probe *p = XPCOM_CONTAINER_OF(self, probe, obs);
  if (topic && !strcmp(topic, "timer-callback") && !data)
    atomic_store(&p->topic_ok, true);
  if ((void *)subject == (void *)p->expected)
    atomic_store(&p->subject_ok, true);
  atomic_fetch_add(&p->observed, 1);
  return NS_OK;
}
static const nsIObserverVtbl probe_obs_vtbl = {
    .QueryInterface = probe_obs_qi,
    .AddRef = probe_obs_addref,
    .Release = probe_obs_release,
    .Observe = probe_observe,
};

static probe *probe_new(void) {
  probe *p = calloc(1, sizeof *p);
  p->cb.vtbl = &probe_cb_vtbl;
  p->obs.vtbl = &probe_obs_vtbl;
  p->refcnt = 1;
  xpcom_leak_ctor("probe", sizeof *p);
  return p;
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(test_one_shot_order_by_deadline)
{
  int log[3];
  atomic_int n = 0;
  static const uint32_t delays[3] = {60, 20, 40};
  nsITimer *timers[3];
  probe *probes[3];
  for (int i = 0; i < 3; i++) {
    probes[i] = probe_new();
    probes[i]->log = log;
    probes[i]->log_n = &n;
    probes[i]->log_id = (int)delays[i];
    timers[i] = new_timer();
    probes[i]->expected = timers[i];
    ck_assert_uint_eq(nsITimer_InitWithCallback(timers[i], &probes[i]->cb,
                                                delays[i],
                                                nsITimer_TYPE_ONE_SHOT),
                      NS_OK);
  }
  while (atomic_load(&n) < 3)
    ck_assert(NS_ProcessNextEvent(NULL, true)); /* sleeps until the next */
  ck_assert_int_eq(log[0], 20);
  ck_assert_int_eq(log[1], 40);
  ck_assert_int_eq(log[2], 60);
  spin_ms(80);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(atomic_load(&probes[i]->notified), 1); /* once */
    ck_assert(atomic_load(&probes[i]->subject_ok));
    NS_RELEASE(timers[i]);
    ck_assert_uint_eq(probe_release(probes[i]), 0); /* timer let go */
  }
}
END_TEST

START_TEST(test_observer_callback_and_attributes)
{
  probe *p = probe_new();
  nsITimer *t = new_timer();
  p->expected = t;
  ck_assert_uint_eq(nsITimer_Init(t, &p->obs, 10, nsITimer_TYPE_ONE_SHOT),
                    NS_OK);
  uint32_t v = 0;
  ck_assert_uint_eq(nsITimer_GetDelay(t, &v), NS_OK);
  ck_assert_uint_eq(v, 10);
  ck_assert_uint_eq(nsITimer_GetType(t, &v), NS_OK);
  ck_assert_uint_eq(v, nsITimer_TYPE_ONE_SHOT);
  nsITimerCallback *cb = (nsITimerCallback *)1;
  ck_assert_uint_eq(nsITimer_GetCallback(t, &cb), NS_OK);
  ck_assert_ptr_null(cb); /* an observer is not an nsITimerCallback slot */
  nsIEventTarget *target = NULL;
  ck_assert_uint_eq(nsITimer_GetTarget(t, &target), NS_OK);
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  ck_assert_ptr_eq((void *)target, (void *)main);
  NS_RELEASE(target);
  NS_RELEASE(main);
  while (atomic_load(&p->observed) == 0)
    ck_assert(NS_ProcessNextEvent(NULL, true));
  ck_assert(atomic_load(&p->topic_ok));
  ck_assert(atomic_load(&p->subject_ok));
  /* Bad arguments. */
  ck_assert_uint_eq(nsITimer_Init(t, NULL, 10, 0), NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(nsITimer_InitWithCallback(t, &p->cb, 10, 7),
                    NS_ERROR_INVALID_ARG);
  NS_RELEASE(t);
  ck_assert_uint_eq(probe_release(p), 0);
}
END_TEST

START_TEST(test_armed_timer_keeps_itself_alive)
{
  probe *p = probe_new();
  nsITimer *t = new_timer();
  ck_assert_uint_eq(nsITimer_InitWithCallback(t, &p->cb, 5,
                                              nsITimer_TYPE_ONE_SHOT),
                    NS_OK);
  NS_RELEASE(t); /* only the armed timer itself holds it now */
  ck_assert_uint_eq(__atomic_load_n(&p->refcnt, __ATOMIC_RELAXED), 2);
  while (atomic_load(&p->notified) == 0)
    ck_assert(NS_ProcessNextEvent(NULL, true));
  /* After firing the timer died and released the callback. */
  ck_assert_uint_eq(probe_release(p), 0);
}
END_TEST

START_TEST(test_cancel_before_firing)
{
  probe *p = probe_new();
  nsITimer *t = new_timer();
  ck_assert_uint_eq(nsITimer_InitWithCallback(t, &p->cb, 10,
                                              nsITimer_TYPE_REPEATING_SLACK),
                    NS_OK);
  ck_assert_uint_eq(nsITimer_Cancel(t), NS_OK);
  ck_assert_uint_eq(nsITimer_Cancel(t), NS_OK); /* twice is fine */
  ck_assert_uint_eq(__atomic_load_n(&p->refcnt, __ATOMIC_RELAXED), 1);
  spin_ms(40);
  ck_assert_int_eq(atomic_load(&p->notified), 0);
  NS_RELEASE(t);
  ck_assert_uint_eq(probe_release(p), 0);
}
END_TEST

typedef struct rep_state {
  atomic_int fired;
  int stop_at;
  nsITimer *self;
  int rearm_left; /* one-shot re-armed from its own callback */
  uint64_t stamps[16];
} rep_state;

static void rep_fire(nsITimer *timer, void *closure) {
  rep_state *s = closure;
  int n = atomic_fetch_add(&s->fired, 1) + 1;
  if (n <= 16)
    s->stamps[n - 1] = PR_IntervalToMilliseconds(PR_IntervalNow());
  if (n == s->stop_at)
    ck_assert_uint_eq(nsITimer_Cancel(timer), NS_OK);
  if (s->rearm_left > 0) {
    s->rearm_left--;
    ck_assert_uint_eq(nsITimer_InitWithFuncCallback(timer, rep_fire, s, 5,
                                                    nsITimer_TYPE_ONE_SHOT),
                      NS_OK);
  }
}

static void check_repeating(uint32_t type) {
  rep_state s;
  memset(&s, 0, sizeof s);
  s.stop_at = 4; /* cancelled from its own callback at the 4th firing */
  nsITimer *t = new_timer();
  uint64_t armed = PR_IntervalToMilliseconds(PR_IntervalNow());
  ck_assert_uint_eq(nsITimer_InitWithFuncCallback(t, rep_fire, &s, 10, type),
                    NS_OK);
  void *closure = NULL;
  ck_assert_uint_eq(nsITimer_GetClosure(t, &closure), NS_OK);
  ck_assert_ptr_eq(closure, &s);
  while (atomic_load(&s.fired) < 4)
    ck_assert(NS_ProcessNextEvent(NULL, true));
  spin_ms(50);
  ck_assert_int_eq(atomic_load(&s.fired), 4);
  /* Never early: slack counts from the end of the previous callback,
   * precise from the previous deadline (ms clock: allow 1 ms). */
  for (int i = 0; i < 4; i++) {
    ck_assert_uint_ge(s.stamps[i] - armed + 1, 10u * (uint64_t)(i + 1));
    if (i && type == nsITimer_TYPE_REPEATING_SLACK)
      ck_assert_uint_ge(s.stamps[i] - s.stamps[i - 1] + 1, 10);
  }
  NS_RELEASE(t);
}

START_TEST(test_repeating_slack_cancel_from_callback)
{
  check_repeating(nsITimer_TYPE_REPEATING_SLACK);
}
END_TEST

START_TEST(test_repeating_precise)
{
  check_repeating(nsITimer_TYPE_REPEATING_PRECISE);
  check_repeating(nsITimer_TYPE_REPEATING_PRECISE_CAN_SKIP);
}
END_TEST

START_TEST(test_rearm_from_callback)
{
  rep_state s;
  memset(&s, 0, sizeof s);
  s.rearm_left = 2;
  nsITimer *t = NULL;
  ck_assert_uint_eq(xpcom_timer_arm(&t, 5, nsITimer_TYPE_ONE_SHOT, rep_fire,
                                    &s),
                    NS_OK);
  ck_assert_ptr_nonnull(t);
  NS_RELEASE(t);
  while (atomic_load(&s.fired) < 3)
    ck_assert(NS_ProcessNextEvent(NULL, true));
  spin_ms(30);
  ck_assert_int_eq(atomic_load(&s.fired), 3);
}
END_TEST

START_TEST(test_set_delay_reschedules)
{
  rep_state s;
  memset(&s, 0, sizeof s);
  nsITimer *t = NULL;
  ck_assert_uint_eq(xpcom_timer_arm(&t, 10000, nsITimer_TYPE_ONE_SHOT,
                                    rep_fire, &s),
                    NS_OK);
  nsIThread *main = NULL;
  ck_assert_uint_eq(NS_GetMainThread(&main), NS_OK);
  PRIntervalTime to = xpcom_thread_next_timeout(main);
  ck_assert_uint_gt(PR_IntervalToMilliseconds(to), 9000);
  ck_assert_uint_eq(nsITimer_SetDelay(t, 5), NS_OK);
  ck_assert_uint_le(PR_IntervalToMilliseconds(xpcom_thread_next_timeout(main)),
                    5);
  while (atomic_load(&s.fired) == 0)
    ck_assert(NS_ProcessNextEvent(NULL, true));
  ck_assert_uint_eq(xpcom_thread_next_timeout(main), PR_INTERVAL_NO_TIMEOUT);
  /* xpcom_timer_release cancels and drops. */
  ck_assert_uint_eq(xpcom_timer_arm(&t, 5, nsITimer_TYPE_REPEATING_SLACK,
                                    rep_fire, &s),
                    NS_OK);
  xpcom_timer_release(&t);
  ck_assert_ptr_null(t);
  spin_ms(20);
  ck_assert_int_eq(atomic_load(&s.fired), 1);
  NS_RELEASE(main);
}
END_TEST

/* ---- timers on another thread ------------------------------------------------- */

typedef struct worker_timer {
  PRThread *worker;
  atomic_bool wrong_thread;
  atomic_int fired;
  nsITimer *timer; /* owned by the worker's events */
} worker_timer;

static void wt_fire(nsITimer *timer, void *closure) {
  worker_timer *w = closure;
  if (PR_GetCurrentThread() != w->worker)
    atomic_store(&w->wrong_thread, true);
  atomic_fetch_add(&w->fired, 1);
}

static void wt_arm(void *arg) {
  worker_timer *w = arg;
  w->worker = PR_GetCurrentThread();
  ck_assert_uint_eq(xpcom_timer_arm(&w->timer, 10, nsITimer_TYPE_ONE_SHOT,
                                    wt_fire, w),
                    NS_OK);
}

static void wt_arm_long(void *arg) {
  worker_timer *w = arg;
  nsITimer *t = NULL;
  ck_assert_uint_eq(xpcom_timer_arm(&t, 60000, nsITimer_TYPE_REPEATING_SLACK,
                                    wt_fire, w),
                    NS_OK);
  NS_RELEASE(t); /* armed: it lives until its thread shuts down */
}

static void wt_release(void *arg) {
  worker_timer *w = arg;
  NS_IF_RELEASE(w->timer);
}

START_TEST(test_fires_on_arming_thread)
{
  worker_timer w;
  memset(&w, 0, sizeof w);
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)worker, wt_arm, &w,
                                      NULL), NS_OK);
  for (int i = 0; i < 5000 && atomic_load(&w.fired) == 0; i++)
    PR_Sleep(PR_MillisecondsToInterval(1));
  ck_assert_int_eq(atomic_load(&w.fired), 1);
  ck_assert(!atomic_load(&w.wrong_thread));
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)worker, wt_release,
                                      &w, NULL), NS_OK);
  /* A timer armed on a thread that then shuts down is cancelled and
   * released with it (the leak check in teardown covers it). */
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)worker, wt_arm_long,
                                      &w, NULL), NS_OK);
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  ck_assert_int_eq(atomic_load(&w.fired), 1);
  NS_RELEASE(worker);
}
END_TEST

/* Cancelling from another thread while the owner sleeps. */
START_TEST(test_cancel_from_other_thread)
{
  worker_timer w;
  memset(&w, 0, sizeof w);
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)worker, wt_arm, &w,
                                      NULL), NS_OK);
  /* Sync no-op: after it, w.timer is armed. */
  nsIRunnable *r = xpcom_runnable_new(svc_count_run, &(svc_counter){0, 0},
                                      NULL);
  ck_assert_uint_eq(nsIThread_DispatchFromScript(
                        worker, r, nsIEventTarget_DISPATCH_SYNC),
                    NS_OK);
  NS_RELEASE(r);
  ck_assert_uint_eq(nsITimer_Cancel(w.timer), NS_OK);
  PR_Sleep(PR_MillisecondsToInterval(40));
  ck_assert_int_eq(atomic_load(&w.fired), 0);
  ck_assert_uint_eq(xpcom_dispatch_fn((nsIEventTarget *)worker, wt_release,
                                      &w, NULL), NS_OK);
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  NS_RELEASE(worker);
}
END_TEST

/* SetTarget: armed from main, fires on the target thread. */
START_TEST(test_set_target)
{
  worker_timer w;
  memset(&w, 0, sizeof w);
  nsIThread *worker = NULL;
  ck_assert_uint_eq(NS_NewThread(&worker, NULL, 0), NS_OK);
  ck_assert_uint_eq(nsIThread_GetPRThread(worker, &w.worker), NS_OK);
  nsITimer *t = new_timer();
  ck_assert_uint_eq(nsITimer_SetTarget(t, (nsIEventTarget *)worker), NS_OK);
  ck_assert_uint_eq(nsITimer_InitWithFuncCallback(t, wt_fire, &w, 5,
                                                  nsITimer_TYPE_ONE_SHOT),
                    NS_OK);
  for (int i = 0; i < 5000 && atomic_load(&w.fired) == 0; i++)
    PR_Sleep(PR_MillisecondsToInterval(1));
  ck_assert_int_eq(atomic_load(&w.fired), 1);
  ck_assert(!atomic_load(&w.wrong_thread));
  ck_assert_uint_eq(nsIThread_Shutdown(worker), NS_OK);
  /* A closed target refuses new timers. */
  ck_assert_uint_eq(nsITimer_InitWithFuncCallback(t, wt_fire, &w, 5,
                                                  nsITimer_TYPE_ONE_SHOT),
                    NS_ERROR_UNEXPECTED);
  NS_RELEASE(t);
  NS_RELEASE(worker);
}
END_TEST

/* A thread without a queue cannot arm timers. */
static void queueless_arm(void *arg) {
  nsITimer *t = NULL;
  *(nsresult *)arg = xpcom_timer_arm(&t, 5, 0, wt_fire, NULL);
}

START_TEST(test_arm_needs_a_queue)
{
  nsresult rv = NS_OK;
  PRThread *th = PR_CreateThread(PR_USER_THREAD, queueless_arm, &rv,
                                 PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                 PR_JOINABLE_THREAD, 0);
  PR_JoinThread(th);
  ck_assert_uint_eq(rv, NS_ERROR_NOT_INITIALIZED);
}
END_TEST

START_TEST(test_pending_timers_at_shutdown)
{
  probe *p = probe_new();
  nsITimer *t = new_timer();
  ck_assert_uint_eq(nsITimer_InitWithCallback(t, &p->cb, 60000,
                                              nsITimer_TYPE_ONE_SHOT),
                    NS_OK);
  NS_RELEASE(t);
  ck_assert_uint_eq(probe_release(p), 1); /* the armed timer holds it */
  /* teardown: NS_ShutdownXPCOM cancels it; the leak check proves the timer
   * and the probe were both released. */
}
END_TEST

static Suite *timers_suite(void) {
  Suite *s = suite_create("timers");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_one_shot_order_by_deadline);
  tcase_add_test(tc, test_observer_callback_and_attributes);
  tcase_add_test(tc, test_armed_timer_keeps_itself_alive);
  tcase_add_test(tc, test_cancel_before_firing);
  tcase_add_test(tc, test_repeating_slack_cancel_from_callback);
  tcase_add_test(tc, test_repeating_precise);
  tcase_add_test(tc, test_rearm_from_callback);
  tcase_add_test(tc, test_set_delay_reschedules);
  tcase_add_test(tc, test_fires_on_arming_thread);
  tcase_add_test(tc, test_cancel_from_other_thread);
  tcase_add_test(tc, test_set_target);
  tcase_add_test(tc, test_arm_needs_a_queue);
  tcase_add_test(tc, test_pending_timers_at_shutdown);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(timers_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
