/*
 * test_prefs.c — the preferences service: network.websocket.* defaults,
 * user values over defaults, Gecko's type rules, branches and the default
 * branch, child lists, deleteBranch, locking, observers (also for changes
 * made on other threads), the thread-safe C helpers.
 */
#include "svc_test_util.h"
#include "xpcom_prefs.h"
#include "nsIObserver.h"
#include "nsIPrefBranch.h"
#include "nsIPrefService.h"

static void setup(void) { svc_init(); }
static void teardown(void) { svc_shutdown(); }

static nsIPrefService *prefs_service(void) {
  nsIServiceManager *sm = NULL;
  ck_assert_uint_eq(NS_GetServiceManager(&sm), NS_OK);
  nsIPrefService *ps = NULL;
  ck_assert_uint_eq(nsIServiceManager_GetServiceByContractID(
                        sm, "@mozilla.org/preferences-service;1",
                        &nsIPrefService_IID, (void **)&ps),
                    NS_OK);
  NS_RELEASE(sm);
  return ps;
}

static nsIPrefBranch *branch(const char *root) {
  nsIPrefService *ps = prefs_service();
  nsIPrefBranch *b = NULL;
  ck_assert_uint_eq(nsIPrefService_GetBranch(ps, root, &b), NS_OK);
  NS_RELEASE(ps);
  return b;
}

static nsIPrefBranch *default_branch(const char *root) {
  nsIPrefService *ps = prefs_service();
  nsIPrefBranch *b = NULL;
  ck_assert_uint_eq(nsIPrefService_GetDefaultBranch(ps, root, &b), NS_OK);
  NS_RELEASE(ps);
  return b;
}

static int32_t get_int(nsIPrefBranch *b, const char *name) {
  int32_t v = -12345;
  ck_assert_uint_eq(nsIPrefBranch_GetIntPref(b, name, &v), NS_OK);
  return v;
}

static bool get_bool(nsIPrefBranch *b, const char *name) {
  bool v = false;
  ck_assert_uint_eq(nsIPrefBranch_GetBoolPref(b, name, &v), NS_OK);
  return v;
}

START_TEST(test_websocket_defaults)
{
  /* gecko-websocket-facts.md, network.websocket.* prefs. */
  nsIPrefBranch *b = branch("network.websocket.");
  ck_assert_int_eq(get_int(b, "max-message-size"), 2147483647);
  ck_assert_int_eq(get_int(b, "timeout.open"), 20);
  ck_assert_int_eq(get_int(b, "timeout.close"), 20);
  ck_assert_int_eq(get_int(b, "timeout.ping.request"), 0);
  ck_assert_int_eq(get_int(b, "timeout.ping.response"), 10);
  ck_assert_int_eq(get_int(b, "max-connections"), 200);
  ck_assert(!get_bool(b, "auto-follow-http-redirects"));
  ck_assert(get_bool(b, "extensions.permessage-deflate"));
  ck_assert(!get_bool(b, "extensions.stream-deflate"));
  ck_assert(get_bool(b, "delay-failed-reconnects"));
  ck_assert(!get_bool(b, "allowInsecureFromHTTPS"));
  bool user = true;
  ck_assert_uint_eq(nsIPrefBranch_PrefHasUserValue(b, "timeout.open", &user),
                    NS_OK);
  ck_assert(!user);
  char *root = NULL;
  ck_assert_uint_eq(nsIPrefBranch_GetRoot(b, &root), NS_OK);
  ck_assert_str_eq(root, "network.websocket.");
  NS_Free(root);
  NS_RELEASE(b);

  /* The same through the C helpers. */
  ck_assert_int_eq(xpcom_prefs_get_int("network.websocket.timeout.close", 0),
                   20);
  ck_assert(xpcom_prefs_get_bool(
      "network.websocket.extensions.permessage-deflate", false));
  ck_assert_int_eq(xpcom_prefs_get_int("network.websocket.nothing", 77), 77);
  ck_assert_int_eq(xpcom_prefs_get_int(
                       "network.websocket.delay-failed-reconnects", 77),
                   77); /* wrong type → fallback */
}
END_TEST

START_TEST(test_user_values_and_types)
{
  nsIPrefBranch *root = branch("");
  const char *open = "network.websocket.timeout.open";
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(root, open, 5), NS_OK);
  ck_assert_int_eq(get_int(root, open), 5);
  bool user = false;
  ck_assert_uint_eq(nsIPrefBranch_PrefHasUserValue(root, open, &user), NS_OK);
  ck_assert(user);
  ck_assert_int_eq(xpcom_prefs_get_int(open, 0), 5);

  /* The default branch still sees the default. */
  nsIPrefBranch *def = default_branch("");
  ck_assert_int_eq(get_int(def, open), 20);

  /* Wrong type: refused for prefs with a default (Gecko). */
  ck_assert_uint_eq(nsIPrefBranch_SetBoolPref(root, open, true),
                    NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(xpcom_prefs_set_char(open, "x"), NS_ERROR_UNEXPECTED);
  bool b;
  ck_assert_uint_eq(nsIPrefBranch_GetBoolPref(root, open, &b),
                    NS_ERROR_UNEXPECTED);
  char *s = NULL;
  ck_assert_uint_eq(nsIPrefBranch_GetCharPref(root, open, &s),
                    NS_ERROR_UNEXPECTED);
  ck_assert_ptr_null(s);
  int32_t type = -1;
  ck_assert_uint_eq(nsIPrefBranch_GetPrefType(root, open, &type), NS_OK);
  ck_assert_int_eq(type, nsIPrefBranch_PREF_INT);

  /* Missing prefs fail; the optional default applies. */
  int32_t v = 0;
  ck_assert_uint_eq(nsIPrefBranch_GetIntPref(root, "test.missing", &v),
                    NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(nsIPrefBranch_GetIntPrefWithDefault(root, "test.missing",
                                                        42, 1, &v), NS_OK);
  ck_assert_int_eq(v, 42);
  ck_assert_uint_eq(nsIPrefBranch_GetIntPrefWithDefault(root, "test.missing",
                                                        42, 0, &v),
                    NS_ERROR_UNEXPECTED);
  ck_assert_uint_eq(nsIPrefBranch_GetPrefType(root, "test.missing", &type),
                    NS_OK);
  ck_assert_int_eq(type, nsIPrefBranch_PREF_INVALID);

  /* Clearing brings the default back; clearing again is fine. */
  ck_assert_uint_eq(nsIPrefBranch_ClearUserPref(root, open), NS_OK);
  ck_assert_int_eq(get_int(root, open), 20);
  ck_assert_uint_eq(nsIPrefBranch_ClearUserPref(root, open), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_ClearUserPref(root, "test.missing"), NS_OK);

  /* A user value equal to the default is no user value (Gecko). */
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(root, open, 20), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_PrefHasUserValue(root, open, &user), NS_OK);
  ck_assert(!user);

  /* A user-only pref may change type; clearing removes it. */
  ck_assert_uint_eq(nsIPrefBranch_SetBoolPref(root, "test.flex", true), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_SetCharPref(root, "test.flex", "now text"),
                    NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_GetCharPref(root, "test.flex", &s), NS_OK);
  ck_assert_str_eq(s, "now text");
  NS_Free(s);
  ck_assert_uint_eq(nsIPrefBranch_ClearUserPref(root, "test.flex"), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_GetPrefType(root, "test.flex", &type),
                    NS_OK);
  ck_assert_int_eq(type, nsIPrefBranch_PREF_INVALID);

  /* Strings, the C helper's copy, defaults for char prefs, floats. */
  ck_assert_uint_eq(xpcom_prefs_set_char("test.str", "hello"), NS_OK);
  char *copy = xpcom_prefs_get_char("test.str", NULL);
  ck_assert_str_eq(copy, "hello");
  free(copy);
  copy = xpcom_prefs_get_char("test.nostr", "fb");
  ck_assert_str_eq(copy, "fb");
  free(copy);
  ck_assert_ptr_null(xpcom_prefs_get_char("test.nostr", NULL));
  ck_assert_uint_eq(nsIPrefBranch_GetCharPrefWithDefault(root, "test.nostr",
                                                         "dflt", 1, &s),
                    NS_OK);
  ck_assert_str_eq(s, "dflt");
  NS_Free(s);
  ck_assert_uint_eq(xpcom_prefs_set_char("test.float", "1.5"), NS_OK);
  float f = 0;
  ck_assert_uint_eq(nsIPrefBranch_GetFloatPref(root, "test.float", &f), NS_OK);
  ck_assert(f == 1.5f);
  ck_assert_uint_eq(nsIPrefBranch_GetFloatPref(root, "test.str", &f),
                    NS_ERROR_ILLEGAL_VALUE);
  ck_assert_uint_eq(nsIPrefBranch_SetCharPref(root, "test.str", NULL),
                    NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(xpcom_prefs_set_int(NULL, 1), NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(xpcom_prefs_set_bool("", true), NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(nsIPrefBranch_GetComplexValue(root, "test.str",
                                                  &nsISupports_IID,
                                                  (void **)&s),
                    NS_ERROR_NOT_IMPLEMENTED);
  NS_RELEASE(def);
  NS_RELEASE(root);
}
END_TEST

START_TEST(test_default_branch_and_lock)
{
  nsIPrefBranch *def = default_branch("test.");
  nsIPrefBranch *user = branch("test.");
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(def, "d", 1), NS_OK);
  ck_assert_int_eq(get_int(user, "d"), 1);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(user, "d", 2), NS_OK);
  ck_assert_int_eq(get_int(user, "d"), 2);
  ck_assert_int_eq(get_int(def, "d"), 1);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(def, "d", 3), NS_OK);
  ck_assert_int_eq(get_int(user, "d"), 2); /* user value still wins */

  /* A user-only pref has no default to read on the default branch. */
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(user, "u", 9), NS_OK);
  int32_t v;
  ck_assert_uint_eq(nsIPrefBranch_GetIntPref(def, "u", &v),
                    NS_ERROR_UNEXPECTED);

  /* Locked: reads the default. */
  bool locked = true;
  ck_assert_uint_eq(nsIPrefBranch_PrefIsLocked(user, "d", &locked), NS_OK);
  ck_assert(!locked);
  ck_assert_uint_eq(nsIPrefBranch_LockPref(user, "d"), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_PrefIsLocked(user, "d", &locked), NS_OK);
  ck_assert(locked);
  ck_assert_int_eq(get_int(user, "d"), 3);
  ck_assert_uint_eq(nsIPrefBranch_UnlockPref(user, "d"), NS_OK);
  ck_assert_int_eq(get_int(user, "d"), 2);
  ck_assert_uint_eq(nsIPrefBranch_LockPref(user, "nothing"),
                    NS_ERROR_UNEXPECTED);
  NS_RELEASE(def);
  NS_RELEASE(user);
}
END_TEST

START_TEST(test_child_list_and_delete_branch)
{
  nsIPrefBranch *root = branch(NULL);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(root, "tree.a", 1), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(root, "tree.b.c", 2), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(root, "tree.b.d", 3), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(root, "tree.bb", 4), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(root, "treehouse", 5), NS_OK);

  nsIPrefBranch *tree = branch("tree.");
  uint32_t n = 0;
  char **list = NULL;
  ck_assert_uint_eq(nsIPrefBranch_GetChildList(tree, "", &n, &list), NS_OK);
  ck_assert_uint_eq(n, 4);
  ck_assert_str_eq(list[0], "a"); /* relative to the branch, sorted */
  ck_assert_str_eq(list[1], "b.c");
  ck_assert_str_eq(list[2], "b.d");
  ck_assert_str_eq(list[3], "bb");
  for (uint32_t i = 0; i < n; i++)
    NS_Free(list[i]);
  NS_Free(list);
  ck_assert_uint_eq(nsIPrefBranch_GetChildList(tree, "zzz", &n, &list),
                    NS_OK);
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_null(list);

  /* deleteBranch("b") removes b and b.*, not bb. */
  ck_assert_uint_eq(nsIPrefBranch_DeleteBranch(tree, "b"), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_GetChildList(tree, "", &n, &list), NS_OK);
  ck_assert_uint_eq(n, 2);
  ck_assert_str_eq(list[0], "a");
  ck_assert_str_eq(list[1], "bb");
  for (uint32_t i = 0; i < n; i++)
    NS_Free(list[i]);
  NS_Free(list);
  ck_assert_int_eq(xpcom_prefs_get_int("treehouse", 0), 5);
  ck_assert_uint_eq(nsIPrefBranch_ResetBranch(tree, ""),
                    NS_ERROR_NOT_IMPLEMENTED);
  NS_RELEASE(tree);
  NS_RELEASE(root);
}
END_TEST

START_TEST(test_service_interfaces)
{
  nsIPrefService *ps = prefs_service();
  nsIPrefBranch *pb = NULL;
  ck_assert_uint_eq(nsIPrefService_QueryInterface(ps, &nsIPrefBranch_IID,
                                                  (void **)&pb), NS_OK);
  ck_assert_int_eq(get_int(pb, "network.websocket.max-connections"), 200);
  bool dirty = true;
  ck_assert_uint_eq(nsIPrefService_GetDirty(ps, &dirty), NS_OK);
  ck_assert(!dirty);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(pb, "test.x", 1), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(
                        pb, "network.websocket.max-connections", 5), NS_OK);
  ck_assert_uint_eq(nsIPrefService_GetDirty(ps, &dirty), NS_OK);
  ck_assert(dirty);
  ck_assert_uint_eq(nsIPrefService_ResetUserPrefs(ps), NS_OK);
  ck_assert_int_eq(xpcom_prefs_get_int("test.x", -1), -1);
  ck_assert_int_eq(get_int(pb, "network.websocket.max-connections"), 200);
  nsIPrefBranch *def = NULL;
  ck_assert_uint_eq(nsIPrefService_GetDefaultBranch(ps, "", &def), NS_OK);
  ck_assert_uint_eq(nsIPrefBranch_SetIntPref(def, "test.def", 1), NS_OK);
  ck_assert_uint_eq(nsIPrefService_ResetPrefs(ps), NS_OK);
  ck_assert_int_eq(xpcom_prefs_get_int("test.def", -1), -1);
  ck_assert_int_eq(get_int(pb, "network.websocket.max-connections"), 200);
  ck_assert_uint_eq(nsIPrefService_SavePrefFile(ps, NULL),
                    NS_ERROR_NOT_IMPLEMENTED);
  NS_RELEASE(def);
  NS_RELEASE(pb);
  NS_RELEASE(ps);
}
END_TEST

/* ---- observers ------------------------------------------------------------- */

typedef struct pref_watch {
  nsIObserver iface;
  uint32_t refcnt;
  char last[128];
  atomic_int calls;
  void *last_subject;
  atomic_bool on_main;
} pref_watch;

static nsresult pw_qi(nsIObserver *self, const nsIID *iid, void **r) {
  static const xpcom_qi_entry t[] = {
      XPCOM_QI_ENTRY(pref_watch, iface, nsIObserver_IID), XPCOM_QI_END};
  return xpcom_table_qi(self, t, iid, r);
}
static nsrefcnt pw_addref(nsIObserver *self) {
  return xpcom_refcnt_inc(&((pref_watch *)self)->refcnt);
}
static nsrefcnt pw_release(nsIObserver *self) {
  pref_watch *w = (pref_watch *)self;
  nsrefcnt n = xpcom_refcnt_dec(&w->refcnt);
  if (n == 0) {
    xpcom_leak_dtor("PrefWatch", sizeof *w);
    free(w);
  }
  return n;
}
static nsresult pw_observe(nsIObserver *self, nsISupports *subject,
                           const char *topic, const char16_t *data) {
  pref_watch *w = (pref_watch *)self;
  ck_assert_str_eq(topic, "nsPref:changed");
  size_t i = 0;
  for (; data && data[i] && i + 1 < sizeof w->last; i++)
    w->last[i] = (char)data[i];
  w->last[i] = '\0';
  w->last_subject = subject;
  atomic_store(&w->on_main, NS_IsMainThread());
  atomic_fetch_add(&w->calls, 1);
  return NS_OK;
}
static const nsIObserverVtbl pw_vtbl = {pw_qi, pw_addref, pw_release,
                                        pw_observe};

static pref_watch *watch_new(void) {
  pref_watch *w = calloc(1, sizeof *w);
  w->iface.vtbl = &pw_vtbl;
  w->refcnt = 1;
  xpcom_leak_ctor("PrefWatch", sizeof *w);
  return w;
}

static void set_from_thread(void *arg) {
  (void)xpcom_prefs_set_int("obs.remote", *(int *)arg);
}

START_TEST(test_observers)
{
  nsIPrefBranch *obs = branch("obs.");
  pref_watch *w = watch_new();
  ck_assert_uint_eq(nsIPrefBranch_AddObserver(obs, "", &w->iface, false),
                    NS_OK);
  ck_assert_uint_eq(xpcom_prefs_set_int("obs.one", 1), NS_OK);
  ck_assert_int_eq(atomic_load(&w->calls), 1);
  ck_assert_str_eq(w->last, "one"); /* relative to the branch's root */
  ck_assert_ptr_eq(w->last_subject, (void *)obs);
  ck_assert_uint_eq(xpcom_prefs_set_int("obs.one", 1), NS_OK);
  ck_assert_int_eq(atomic_load(&w->calls), 1); /* no change, no call */
  ck_assert_uint_eq(xpcom_prefs_set_int("other.one", 1), NS_OK);
  ck_assert_int_eq(atomic_load(&w->calls), 1);
  ck_assert_uint_eq(xpcom_prefs_clear("obs.one"), NS_OK);
  ck_assert_int_eq(atomic_load(&w->calls), 2);

  /* A change made on another thread is reported on the main thread. */
  int value = 7;
  PRThread *t = PR_CreateThread(PR_USER_THREAD, set_from_thread, &value,
                                PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                                PR_JOINABLE_THREAD, 0);
  PR_JoinThread(t);
  ck_assert_int_eq(atomic_load(&w->calls), 2);
  ck_assert_uint_eq(NS_ProcessPendingEvents(NULL), NS_OK);
  ck_assert_int_eq(atomic_load(&w->calls), 3);
  ck_assert_str_eq(w->last, "remote");
  ck_assert(atomic_load(&w->on_main));

  ck_assert_uint_eq(nsIPrefBranch_RemoveObserver(obs, "", &w->iface), NS_OK);
  ck_assert_uint_eq(xpcom_prefs_set_int("obs.one", 2), NS_OK);
  ck_assert_int_eq(atomic_load(&w->calls), 3);

  /* Observers go away with their branch object, as in Gecko. */
  nsIPrefBranch *tmp = branch("obs.");
  ck_assert_uint_eq(nsIPrefBranch_AddObserver(tmp, "x", &w->iface, true),
                    NS_OK);
  ck_assert_uint_eq(w->refcnt, 2);
  NS_RELEASE(tmp);
  ck_assert_uint_eq(w->refcnt, 1);
  ck_assert_uint_eq(xpcom_prefs_set_int("obs.x", 2), NS_OK);
  ck_assert_int_eq(atomic_load(&w->calls), 3);

  /* One left registered is released at shutdown (leak check). */
  ck_assert_uint_eq(nsIPrefBranch_AddObserver(obs, "", &w->iface, false),
                    NS_OK);
  pw_release(&w->iface);
  NS_RELEASE(obs);
}
END_TEST

typedef struct hammer_arg {
  int id;
  atomic_int bad;
} hammer_arg;

static void hammer(void *arg) {
  hammer_arg *h = arg;
  char name[32];
  snprintf(name, sizeof name, "hammer.%d", h->id);
  for (int i = 0; i < 2000; i++) {
    if (NS_FAILED(xpcom_prefs_set_int(name, i)) ||
        xpcom_prefs_get_int(name, -1) != i ||
        xpcom_prefs_get_int("network.websocket.timeout.open", 0) != 20)
      atomic_fetch_add(&h->bad, 1);
  }
}

START_TEST(test_c_helpers_from_many_threads)
{
  hammer_arg args[4];
  PRThread *t[4];
  for (int i = 0; i < 4; i++) {
    args[i].id = i;
    atomic_init(&args[i].bad, 0);
    t[i] = PR_CreateThread(PR_USER_THREAD, hammer, &args[i],
                           PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                           PR_JOINABLE_THREAD, 0);
  }
  for (int i = 0; i < 4; i++) {
    PR_JoinThread(t[i]);
    ck_assert_int_eq(atomic_load(&args[i].bad), 0);
  }
}
END_TEST

START_TEST(test_helpers_outside_xpcom)
{
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  ck_assert_int_eq(xpcom_prefs_get_int("network.websocket.timeout.open", 3),
                   3);
  ck_assert_uint_eq(xpcom_prefs_set_int("x", 1), NS_ERROR_NOT_INITIALIZED);
  char *s = xpcom_prefs_get_char("x", "fb");
  ck_assert_str_eq(s, "fb");
  free(s);
  svc_init();
}
END_TEST

static Suite *prefs_suite(void) {
  Suite *s = suite_create("prefs");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_websocket_defaults);
  tcase_add_test(tc, test_user_values_and_types);
  tcase_add_test(tc, test_default_branch_and_lock);
  tcase_add_test(tc, test_child_list_and_delete_branch);
  tcase_add_test(tc, test_service_interfaces);
  tcase_add_test(tc, test_observers);
  tcase_add_test(tc, test_c_helpers_from_many_threads);
  tcase_add_test(tc, test_helpers_outside_xpcom);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(prefs_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
