/*
 * test_manifest.c — manifests in Gecko's chrome.manifest syntax: every
 * directive, relative paths and sub-manifests, flags, broken lines (each
 * reported as file:line and skipped), bad binary components (wrong module
 * version, no NSModule, getFactoryProc only, loaded twice), missing files,
 * CRLF line ends, self-inclusion, WSCHANNEL_MANIFEST.
 *
 * TEST_DATA_DIR (test/xpcom/data in the source tree) and TEST_MODULE_DIR
 * (where libtool put testmodule*.so) come from the Makefile.
 */
#include "svc_test_util.h"
#include "xpcom_module.h"

#include <errno.h>
#include <sys/stat.h>

#ifndef TEST_DATA_DIR
#error TEST_DATA_DIR must name test/xpcom/data
#endif
#ifndef TEST_MODULE_DIR
#error TEST_MODULE_DIR must name the directory of testmodule.so
#endif

static void setup(void) { svc_init(); }
static void teardown(void) { svc_shutdown(); }

static const nsCID kJsCID = {
    0x5ee1ac3e, 0x0002, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 0x01}};

static nsIComponentRegistrar *registrar(void) {
  nsIComponentRegistrar *r = NULL;
  ck_assert_uint_eq(NS_GetComponentRegistrar(&r), NS_OK);
  return r;
}

static bool contract_registered(const char *contract) {
  nsIComponentRegistrar *r = registrar();
  bool yes = false;
  ck_assert_uint_eq(nsIComponentRegistrar_IsContractIDRegistered(r, contract,
                                                                 &yes),
                    NS_OK);
  NS_RELEASE(r);
  return yes;
}

/* Registers a manifest while capturing stderr; returns the output. */
static char *register_capturing(const char *path, nsresult expect) {
  svc_capture cap;
  svc_capture_begin(&cap);
  nsresult rv = XPCOM_RegisterManifest(path);
  char *out = svc_capture_end(&cap);
  ck_assert_uint_eq(rv, expect);
  return out;
}

static void assert_contains(const char *text, const char *needle) {
  if (!strstr(text, needle))
    ck_abort_msg("expected \"%s\" in:\n%s", needle, text);
}

/* A scratch directory with files written by the test. */
static char g_tmp[64];

static void make_tmpdir(void) {
  strcpy(g_tmp, "/tmp/wschannel-manifest-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(g_tmp));
}

static char *tmp_path(const char *name) {
  char *p = malloc(strlen(g_tmp) + strlen(name) + 2);
  sprintf(p, "%s/%s", g_tmp, name);
  return p;
}

static char *write_tmp(const char *name, const char *text) {
  char *p = tmp_path(name);
  FILE *f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  return p;
}

static void rm_tmpdir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
  ck_assert_int_eq(system(cmd), 0);
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(test_good_manifest)
{
  char *out = register_capturing(TEST_DATA_DIR "/good.manifest", NS_OK);
  /* The only message: the JavaScript component has no loader (once). */
  assert_contains(out, "good.manifest:6: ");
  assert_contains(out, "no script loader");
  ck_assert_ptr_null(strstr(strstr(out, "no script loader") + 1,
                            "no script loader"));
  free(out);

  ck_assert_str_eq(xpcom_category_get("wschannel-test", "good-entry"),
                   "good-value");
  ck_assert_str_eq(xpcom_category_get("wschannel-test", "tabs"), "separated");
  ck_assert_str_eq(xpcom_category_get("wschannel-test", "replaced"),
                   "second");
  ck_assert_str_eq(xpcom_category_get("wschannel-test", "sub-entry"),
                   "from-sub");
  ck_assert_ptr_null(xpcom_category_get("wschannel-test", "absent"));
  ck_assert_ptr_null(xpcom_category_get("absent", "good-entry"));

  /* The contract preceding its component line, and the sub-manifest's. */
  ck_assert(contract_registered("@wschannel.test/js;1"));
  ck_assert(contract_registered("@wschannel.test/js-alias;1"));
  nsIComponentRegistrar *r = registrar();
  bool yes = false;
  ck_assert_uint_eq(nsIComponentRegistrar_IsCIDRegistered(r, &kJsCID, &yes),
                    NS_OK);
  ck_assert(yes);
  NS_RELEASE(r);

  /* No script loader: creating it fails like an unknown class. */
  nsIComponentManager *cm = NULL;
  ck_assert_uint_eq(NS_GetComponentManager(&cm), NS_OK);
  void *obj = (void *)1;
  ck_assert_uint_eq(nsIComponentManager_CreateInstanceByContractID(
                        cm, "@wschannel.test/js;1", NULL, &nsISupports_IID,
                        &obj),
                    NS_ERROR_FACTORY_NOT_REGISTERED);
  ck_assert_ptr_null(obj);
  NS_RELEASE(cm);

  /* Registering it again: CID already registered, reported by line. */
  out = register_capturing(TEST_DATA_DIR "/good.manifest", NS_OK);
  assert_contains(out, "good.manifest:6: CID {5ee1ac3e-0002-4000-8000-"
                       "000000000001} is already registered");
  free(out);
}
END_TEST

START_TEST(test_broken_lines_reported_and_skipped)
{
  char *out = register_capturing(TEST_DATA_DIR "/broken.manifest", NS_OK);
  assert_contains(out, "broken.manifest:2: unrecognized directive 'frobnicate'");
  assert_contains(out, "broken.manifest:3: not enough arguments for "
                       "'contract': expected 2, got 1");
  assert_contains(out, "broken.manifest:4: malformed CID 'not-a-cid'");
  assert_contains(out, "broken.manifest:5: cannot map contract ID "
                       "'@wschannel.test/nocid;1'");
  assert_contains(out, "broken.manifest:6: unrecognized modifier 'bogus=1'");
  assert_contains(out, "broken.manifest:7: unrecognized modifier 'os'");
  assert_contains(out, "broken.manifest:8: cannot read manifest "
                       "'does-not-exist.manifest'");
  assert_contains(out, "broken.manifest:9: cannot find binary component");
  assert_contains(out, "broken.manifest:11: CID {5ee1ac3e-0002-4000-8000-"
                       "000000000002} is already registered");
  assert_contains(out, "broken.manifest:12: malformed CID");
  /* Line 10 is fine; its only message is the one-time script note. */
  assert_contains(out, "broken.manifest:10: " TEST_DATA_DIR "/first.js: "
                       "JavaScript components are registered but no script "
                       "loader exists yet");
  ck_assert_ptr_null(strstr(out, "broken.manifest:13:"));
  free(out);
  /* The skipped lines registered nothing; the good one did. */
  ck_assert_ptr_null(xpcom_category_get("wschannel-test", "bad-flag"));
  ck_assert_ptr_null(xpcom_category_get("wschannel-test", "no-equals"));
  ck_assert(!contract_registered("@wschannel.test/short;1"));
  ck_assert(!contract_registered("@wschannel.test/nocid;1"));
  ck_assert(!contract_registered("@wschannel.test/badcid;1"));
  ck_assert_str_eq(xpcom_category_get("wschannel-test", "after-errors"),
                   "still-read");
}
END_TEST

START_TEST(test_flags)
{
  char *out = register_capturing(TEST_DATA_DIR "/flags.manifest", NS_OK);
  ck_assert_str_eq(out, ""); /* flags that do not match are not errors */
  free(out);
  static const char *const yes[] = {
      "os-linux",     "os-case",     "os-not-winnt", "os-either",
      "process-main", "not-app",     "platform-ge",  "platform-le",
      "platform-eq",  "platform-pre", "content-flags", "obsolete"};
  static const char *const no[] = {
      "os-winnt", "os-not-linux", "abi-other",   "process-content",
      "app",      "platform-gt",  "platform-lt", "appversion",
      "osversion", "os-and-process"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
    ck_assert_msg(xpcom_category_get("flags", yes[i]) != NULL, "%s", yes[i]);
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    ck_assert_msg(xpcom_category_get("flags", no[i]) == NULL, "%s", no[i]);
}
END_TEST

START_TEST(test_abi_flag)
{
#if defined(__x86_64__)
  make_tmpdir();
  char *m = write_tmp("abi.manifest",
                      "category abi ours yes abi=linux_x86_64-gcc3\n"
                      "category abi bare no abi=x86_64-gcc3\n");
  char *out = register_capturing(m, NS_OK);
  free(out);
  ck_assert_ptr_nonnull(xpcom_category_get("abi", "ours"));
  ck_assert_ptr_null(xpcom_category_get("abi", "bare"));
  free(m);
  rm_tmpdir();
#endif
}
END_TEST

START_TEST(test_missing_manifest)
{
  ck_assert_uint_eq(XPCOM_RegisterManifest(TEST_DATA_DIR "/nope.manifest"),
                    NS_ERROR_FILE_NOT_FOUND);
  ck_assert_uint_eq(XPCOM_RegisterManifest(NULL), NS_ERROR_INVALID_ARG);
  ck_assert_uint_eq(XPCOM_RegisterManifest(""), NS_ERROR_INVALID_ARG);
  /* A directory is not a manifest either. */
  ck_assert_uint_eq(XPCOM_RegisterManifest(TEST_DATA_DIR),
                    NS_ERROR_FILE_NOT_FOUND);
}
END_TEST

START_TEST(test_crlf_and_self_inclusion)
{
  make_tmpdir();
  char *m = write_tmp("crlf.manifest",
                      "# CRLF\r\ncategory crlf one 1\r\n\r\n"
                      "frobnicate\r\ncategory crlf two 2\r\n");
  char *out = register_capturing(m, NS_OK);
  assert_contains(out, "crlf.manifest:4: unrecognized directive");
  free(out);
  ck_assert_str_eq(xpcom_category_get("crlf", "one"), "1");
  ck_assert_str_eq(xpcom_category_get("crlf", "two"), "2");
  free(m);
  rm_tmpdir();

  out = register_capturing(TEST_DATA_DIR "/self.manifest", NS_OK);
  assert_contains(out, "self.manifest:3: manifest 'self.manifest' nested "
                       "too deeply");
  free(out);
  ck_assert_str_eq(xpcom_category_get("wschannel-test", "self"), "seen");
}
END_TEST

START_TEST(test_binary_components)
{
  make_tmpdir();
  /* Relative binary-component path through a symlink in the manifest's
   * directory; the same library again; the three broken variants. */
  char *link = tmp_path("testmodule.so");
  ck_assert_int_eq(symlink(TEST_MODULE_DIR "/testmodule.so", link), 0);
  char *m = write_tmp(
      "bin.manifest",
      "binary-component testmodule.so\n"
      "binary-component " TEST_MODULE_DIR "/testmodule.so\n"
      "binary-component " TEST_MODULE_DIR "/testmodule_badversion.so\n"
      "binary-component " TEST_MODULE_DIR "/testmodule_nosymbol.so\n"
      "binary-component " TEST_MODULE_DIR "/testmodule_factoryonly.so\n"
      "binary-component " TEST_MODULE_DIR "/testmodule.so os=winnt\n");
  char *out = register_capturing(m, NS_OK);
  assert_contains(out, "bin.manifest:2: binary component '");
  assert_contains(out, "testmodule.so' is already registered");
  assert_contains(out, "bin.manifest:3: binary component '");
  assert_contains(out, "testmodule_badversion.so' has module version 51, "
                       "expected 52");
  assert_contains(out, "bin.manifest:4: binary component '");
  assert_contains(out, "testmodule_nosymbol.so' does not export an NSModule");
  assert_contains(out, "bin.manifest:5: binary component '");
  assert_contains(out, "CID {5ee1ac3e-0001-4000-8000-000000000004} has no "
                       "constructorProc");
  ck_assert_ptr_null(strstr(out, "bin.manifest:1:"));
  ck_assert_ptr_null(strstr(out, "bin.manifest:6:"));
  free(out);

  ck_assert(contract_registered("@wschannel.test/runnable;1"));
  ck_assert(contract_registered("@wschannel.test/factory-module;1"));
  ck_assert(!contract_registered("@wschannel.test/content-only;1"));
  ck_assert_str_eq(xpcom_category_get("wschannel-test", "module"), "loaded");
  free(m);
  free(link);
  rm_tmpdir();
}
END_TEST

START_TEST(test_env_manifests_at_init)
{
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  setenv("WSCHANNEL_MANIFEST",
         TEST_DATA_DIR "/missing.manifest::" TEST_DATA_DIR "/flags.manifest",
         1);
  svc_capture cap;
  svc_capture_begin(&cap);
  nsresult rv = NS_InitXPCOM2(NULL, NULL, NULL);
  char *out = svc_capture_end(&cap);
  unsetenv("WSCHANNEL_MANIFEST");
  ck_assert_uint_eq(rv, NS_OK);
  assert_contains(out, "WSCHANNEL_MANIFEST: cannot read manifest '"
                       TEST_DATA_DIR "/missing.manifest'");
  free(out);
  ck_assert_str_eq(xpcom_category_get("flags", "os-linux"), "yes");
}
END_TEST

START_TEST(test_register_needs_xpcom)
{
  ck_assert_uint_eq(NS_ShutdownXPCOM(NULL), NS_OK);
  ck_assert_uint_eq(XPCOM_RegisterManifest(TEST_DATA_DIR "/good.manifest"),
                    NS_ERROR_NOT_INITIALIZED);
  ck_assert_ptr_null(xpcom_category_get("wschannel-test", "good-entry"));
  svc_init();
  /* Categories do not survive a restart. */
  ck_assert_ptr_null(xpcom_category_get("wschannel-test", "good-entry"));
}
END_TEST

static void cat_collect(const char *entry, const char *value, void *closure) {
  char *buf = closure;
  strcat(buf, entry);
  strcat(buf, "=");
  strcat(buf, value);
  strcat(buf, ";");
}

START_TEST(test_category_foreach)
{
  char *out = register_capturing(TEST_DATA_DIR "/good.manifest", NS_OK);
  free(out);
  char buf[512] = "";
  ck_assert_uint_eq(xpcom_category_foreach("wschannel-test", cat_collect, buf),
                    4);
  ck_assert_str_eq(buf, "good-entry=good-value;tabs=separated;"
                        "replaced=second;sub-entry=from-sub;");
}
END_TEST

static Suite *manifest_suite(void) {
  Suite *s = suite_create("manifest");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_good_manifest);
  tcase_add_test(tc, test_broken_lines_reported_and_skipped);
  tcase_add_test(tc, test_flags);
  tcase_add_test(tc, test_abi_flag);
  tcase_add_test(tc, test_missing_manifest);
  tcase_add_test(tc, test_crlf_and_self_inclusion);
  tcase_add_test(tc, test_binary_components);
  tcase_add_test(tc, test_env_manifests_at_init);
  tcase_add_test(tc, test_register_needs_xpcom);
  tcase_add_test(tc, test_category_foreach);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(manifest_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
