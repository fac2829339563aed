/*
 * test_errors.c — nsresult values, macros, names and formatting; logging.
 */
#include <check.h>
#include <prerror.h>
#include <prio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <prthread.h>

#include "nsError.h"
#include "xpcom_log.h"

START_TEST(test_severity_macros)
{
  ck_assert(NS_SUCCEEDED(NS_OK));
  ck_assert(!NS_FAILED(NS_OK));
  ck_assert(NS_FAILED(NS_ERROR_FAILURE));
  ck_assert(NS_FAILED(NS_ERROR_NOT_INITIALIZED)); /* 0xC1F3.... */
  ck_assert(NS_SUCCEEDED(NS_SUCCESS_ADOPTED_DATA));
  ck_assert_uint_eq(NS_ERROR_GET_SEVERITY(NS_ERROR_FAILURE), 1);
  ck_assert_uint_eq(NS_ERROR_GET_SEVERITY(NS_SUCCESS_AUTH_FINISHED), 0);
}
END_TEST

START_TEST(test_generate_and_inspect)
{
  ck_assert_uint_eq(NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_NETWORK, 14), 0x804B000Eu);
  ck_assert_uint_eq(NS_ERROR_GENERATE_SUCCESS(NS_ERROR_MODULE_NETWORK, 90), 0x004B005Au);
  ck_assert_uint_eq(NS_ERROR_GET_MODULE(NS_ERROR_NET_TIMEOUT), NS_ERROR_MODULE_NETWORK);
  ck_assert_uint_eq(NS_ERROR_GET_CODE(NS_ERROR_NET_TIMEOUT), 14);
  ck_assert_uint_eq(NS_ERROR_GET_MODULE(NS_ERROR_FILE_NOT_FOUND), NS_ERROR_MODULE_FILES);
  ck_assert_uint_eq(NS_ERROR_GET_MODULE(NS_ERROR_XPC_BAD_IID), NS_ERROR_MODULE_XPCONNECT);
  ck_assert_uint_eq(NS_ERROR_GET_MODULE(0x805A1FF3u), NS_ERROR_MODULE_SECURITY);
}
END_TEST

/* The values of xpcom-facts.md §1 and the WebSocket codes, literally. */
START_TEST(test_known_values)
{
  ck_assert_uint_eq(NS_OK, 0);
  ck_assert_uint_eq(NS_ERROR_NOT_IMPLEMENTED, 0x80004001u);
  ck_assert_uint_eq(NS_ERROR_NO_INTERFACE, 0x80004002u);
  ck_assert_uint_eq(NS_NOINTERFACE, 0x80004002u);
  ck_assert_uint_eq(NS_ERROR_ABORT, 0x80004004u);
  ck_assert_uint_eq(NS_ERROR_FAILURE, 0x80004005u);
  ck_assert_uint_eq(NS_ERROR_UNEXPECTED, 0x8000FFFFu);
  ck_assert_uint_eq(NS_ERROR_OUT_OF_MEMORY, 0x8007000Eu);
  ck_assert_uint_eq(NS_ERROR_ILLEGAL_VALUE, 0x80070057u);
  ck_assert_uint_eq(NS_ERROR_INVALID_ARG, 0x80070057u);
  ck_assert_uint_eq(NS_ERROR_NULL_POINTER, 0x80070057u);
  ck_assert_uint_eq(NS_ERROR_INVALID_POINTER, 0x80070057u);
  ck_assert_uint_eq(NS_ERROR_NO_AGGREGATION, 0x80040110u);
  ck_assert_uint_eq(NS_ERROR_NOT_AVAILABLE, 0x80040111u);
  ck_assert_uint_eq(NS_ERROR_FACTORY_NOT_REGISTERED, 0x80040154u);
  ck_assert_uint_eq(NS_ERROR_NOT_INITIALIZED, 0xC1F30001u);
  ck_assert_uint_eq(NS_ERROR_ALREADY_INITIALIZED, 0xC1F30002u);
  ck_assert_uint_eq(NS_BASE_STREAM_CLOSED, 0x80470002u);
  ck_assert_uint_eq(NS_BASE_STREAM_WOULD_BLOCK, 0x80470007u);
  ck_assert_uint_eq(NS_ERROR_FILE_NOT_FOUND, 0x80520012u);
  ck_assert_uint_eq(NS_ERROR_FILE_TOO_BIG, 0x8052000Fu);
  ck_assert_uint_eq(NS_ERROR_CANNOT_CONVERT_DATA, 0x80460001u);
  ck_assert_uint_eq(NS_BINDING_FAILED, 0x804B0001u);
  ck_assert_uint_eq(NS_BINDING_ABORTED, 0x804B0002u);
  ck_assert_uint_eq(NS_ERROR_MALFORMED_URI, 0x804B000Au);
  ck_assert_uint_eq(NS_ERROR_NOT_CONNECTED, 0x804B000Cu);
  ck_assert_uint_eq(NS_ERROR_CONNECTION_REFUSED, 0x804B000Du);
  ck_assert_uint_eq(NS_ERROR_NET_TIMEOUT, 0x804B000Eu);
  ck_assert_uint_eq(NS_ERROR_IN_PROGRESS, 0x804B000Fu);
  ck_assert_uint_eq(NS_ERROR_OFFLINE, 0x804B0010u);
  ck_assert_uint_eq(NS_ERROR_UNKNOWN_PROTOCOL, 0x804B0012u);
  ck_assert_uint_eq(NS_ERROR_PORT_ACCESS_NOT_ALLOWED, 0x804B0013u);
  ck_assert_uint_eq(NS_ERROR_NET_RESET, 0x804B0014u);
  ck_assert_uint_eq(NS_ERROR_UNKNOWN_HOST, 0x804B001Eu);
  ck_assert_uint_eq(NS_ERROR_SOCKET_CREATE_FAILED, 0x804B0034u);
  ck_assert_uint_eq(NS_ERROR_SOCKET_ADDRESS_IN_USE, 0x804B0036u);
  ck_assert_uint_eq(NS_ERROR_NET_INTERRUPT, 0x804B0047u);
  ck_assert_uint_eq(NS_ERROR_PROXY_CONNECTION_REFUSED, 0x804B0048u);
  ck_assert_uint_eq(NS_ERROR_ALREADY_OPENED, 0x804B0049u);
  ck_assert_uint_eq(NS_ERROR_NET_INADEQUATE_SECURITY, 0x804B0052u);
  ck_assert_uint_eq(NS_ERROR_NET_TIMEOUT_EXTERNAL, 0x804B0055u);
  ck_assert_uint_eq(NS_ERROR_WEBSOCKET_CONNECTION_REFUSED, 0x804B0057u);
  ck_assert_uint_eq(NS_ERROR_XPC_NOT_ENOUGH_ARGS, 0x80570001u);
  ck_assert_uint_eq(NS_ERROR_XPC_NATIVE_RETURNED_FAILURE, 0x80570004u);
  ck_assert_uint_eq(NS_ERROR_XPC_BAD_CONVERT_JS, 0x80570009u);
  ck_assert_uint_eq(NS_ERROR_XPC_BAD_CONVERT_NATIVE, 0x8057000Au);
  ck_assert_uint_eq(NS_ERROR_XPC_CI_RETURNED_FAILURE, 0x80570015u);
  ck_assert_uint_eq(NS_ERROR_XPC_GS_RETURNED_FAILURE, 0x80570016u);
  ck_assert_uint_eq(NS_ERROR_XPC_BAD_CID, 0x80570017u);
  ck_assert_uint_eq(NS_ERROR_XPC_BAD_IID, 0x80570018u);
  ck_assert_uint_eq(NS_ERROR_XPC_CANT_CREATE_WN, 0x80570019u);
  ck_assert_uint_eq(NS_ERROR_XPC_JS_THREW_JS_OBJECT, 0x8057001Cu);
  ck_assert_uint_eq(NS_ERROR_XPC_JS_THREW_NULL, 0x8057001Du);
  ck_assert_uint_eq(NS_ERROR_XPC_JS_THREW_STRING, 0x8057001Eu);
  ck_assert_uint_eq(NS_ERROR_XPC_JS_THREW_NUMBER, 0x8057001Fu);
  ck_assert_uint_eq(NS_ERROR_XPC_JAVASCRIPT_ERROR_WITH_DETAILS, 0x80570021u);
  ck_assert_uint_eq(NS_ERROR_XPC_INTERFACE_NOT_SCRIPTABLE, 0x80570028u);
  ck_assert_uint_eq(NS_ERROR_XPC_CANT_SET_READ_ONLY_ATTRIBUTE, 0x8057002Cu);
  ck_assert_uint_eq(NS_ERROR_XPC_JSOBJECT_HAS_NO_FUNCTION_NAMED, 0x80570030u);
  ck_assert_uint_eq(NS_ERROR_XPC_BAD_ID_STRING, 0x80570031u);
}
END_TEST

START_TEST(test_canonical_names)
{
  ck_assert_str_eq(XPCOM_ErrorName(NS_OK), "NS_OK");
  ck_assert_str_eq(XPCOM_ErrorName(0x80004005u), "NS_ERROR_FAILURE");
  ck_assert_str_eq(XPCOM_ErrorName(NS_ERROR_NO_INTERFACE), "NS_NOINTERFACE");
  ck_assert_str_eq(XPCOM_ErrorName(NS_ERROR_NULL_POINTER), "NS_ERROR_ILLEGAL_VALUE");
  ck_assert_str_eq(XPCOM_ErrorName(NS_ERROR_INVALID_ARG), "NS_ERROR_ILLEGAL_VALUE");
  ck_assert_str_eq(XPCOM_ErrorName(NS_ERROR_ILLEGAL_INPUT), "NS_ERROR_UDEC_ILLEGALINPUT");
  ck_assert_str_eq(XPCOM_ErrorName(0x804B0057u), "NS_ERROR_WEBSOCKET_CONNECTION_REFUSED");
  ck_assert_str_eq(XPCOM_ErrorName(0x80040154u), "NS_ERROR_FACTORY_NOT_REGISTERED");
  ck_assert_str_eq(XPCOM_ErrorName(0xC1F30001u), "NS_ERROR_NOT_INITIALIZED");
  ck_assert_str_eq(XPCOM_ErrorName(NS_SUCCESS_ADOPTED_DATA), "NS_SUCCESS_ADOPTED_DATA");
}
END_TEST

START_TEST(test_unnamed)
{
  ck_assert_ptr_null(XPCOM_ErrorName(0x805A1FF3u)); /* SEC_ERROR_UNKNOWN_ISSUER */
  ck_assert_ptr_null(XPCOM_ErrorName(0x805A2FF4u));
  ck_assert_ptr_null(XPCOM_ErrorName(0x804B7777u));
  ck_assert_ptr_null(XPCOM_ErrorName(1));
}
END_TEST

/* Every list entry resolves to a name whose value is its own. */
START_TEST(test_list_consistent)
{
  struct {
    const char *name;
    nsresult value;
  } all[] = {
#define NS_ERROR_ENTRY(n, v) {#n, (nsresult)(v)},
#include "nsErrorList.h"
#undef NS_ERROR_ENTRY
  };
  size_t n = sizeof all / sizeof all[0];
  ck_assert_uint_ge(n, 150);
  for (size_t i = 0; i < n; i++) {
    const char *canon = XPCOM_ErrorName(all[i].value);
    ck_assert_ptr_nonnull(canon);
    /* The canonical name is the first entry carrying the value. */
    size_t first = 0;
    while (all[first].value != all[i].value)
      first++;
    ck_assert_str_eq(canon, all[first].name);
    /* Names are unique. */
    for (size_t j = i + 1; j < n; j++)
      ck_assert_str_ne(all[i].name, all[j].name);
  }
}
END_TEST

START_TEST(test_format)
{
  char buf[XPCOM_ERROR_FORMAT_MAX];
  XPCOM_FormatError(NS_ERROR_FAILURE, buf, sizeof buf);
  ck_assert_str_eq(buf, "NS_ERROR_FAILURE (0x80004005)");
  XPCOM_FormatError(NS_ERROR_INVALID_ARG, buf, sizeof buf);
  ck_assert_str_eq(buf, "NS_ERROR_ILLEGAL_VALUE (0x80070057)");
  XPCOM_FormatError(NS_OK, buf, sizeof buf);
  ck_assert_str_eq(buf, "NS_OK (0x00000000)");
  XPCOM_FormatError(0x804B7777u, buf, sizeof buf);
  ck_assert_str_eq(buf, "0x804b7777");
}
END_TEST

START_TEST(test_format_truncation)
{
  char buf[8];
  memset(buf, 'x', sizeof buf);
  XPCOM_FormatError(NS_ERROR_FAILURE, buf, sizeof buf);
  ck_assert_str_eq(buf, "NS_ERRO");
  char one = 'x';
  XPCOM_FormatError(NS_ERROR_FAILURE, &one, 0); /* writes nothing */
  ck_assert_int_eq(one, 'x');
  XPCOM_FormatError(NS_ERROR_FAILURE, NULL, 10);
}
END_TEST

START_TEST(test_nss_mapping)
{
  ck_assert_uint_eq(NS_ERROR_FROM_NSS_ERROR(-8179), 0x805A1FF3u);
  ck_assert_uint_eq(NS_ERROR_FROM_NSS_ERROR(-12276), 0x805A2FF4u);
  ck_assert_int_eq(NS_ERROR_TO_NSS_ERROR(0x805A1FF3u), -8179);
  ck_assert(NS_ERROR_IS_NSS_ERROR(0x805A2FF4u));
  ck_assert(!NS_ERROR_IS_NSS_ERROR(NS_ERROR_FAILURE));

  char buf[XPCOM_ERROR_FORMAT_MAX];
  /* NSS is not initialised here, so its names are unknown to NSPR. */
  XPCOM_FormatError(0x805A1FF3u, buf, sizeof buf);
  if (!PR_ErrorToName(-8179))
    ck_assert_str_eq(buf, "0x805a1ff3");
  /* NSPR's own table is registered once NSPR is up: an NSPR error mapped
   * the same way is named through it. */
  PR_GetCurrentThread();
  const char *prname = PR_ErrorToName(PR_OUT_OF_MEMORY_ERROR);
  XPCOM_FormatError(NS_ERROR_FROM_NSS_ERROR(PR_OUT_OF_MEMORY_ERROR), buf, sizeof buf);
  if (prname) {
    char want[XPCOM_ERROR_FORMAT_MAX];
    snprintf(want, sizeof want, "0x%08x (%s)",
             (unsigned)NS_ERROR_FROM_NSS_ERROR(PR_OUT_OF_MEMORY_ERROR), prname);
    ck_assert_str_eq(buf, want);
  }
}
END_TEST

/* ---- logging ------------------------------------------------------------ */

static char g_log_path[256];

XPCOM_LOG_MODULE(g_on, "xpcomtest");
XPCOM_LOG_MODULE(g_on_again, "xpcomtest");
XPCOM_LOG_MODULE(g_off, "xpcomtest_off");

static int g_evaluated;
static int side_effect(void)
{
  return ++g_evaluated;
}

START_TEST(test_log_levels_and_sharing)
{
  ck_assert(XPCOM_LOG_ENABLED(g_on, XPCOM_LOG_DEBUG));
  ck_assert(!XPCOM_LOG_ENABLED(g_on, XPCOM_LOG_VERBOSE));
  ck_assert(!XPCOM_LOG_ENABLED(g_off, XPCOM_LOG_ERROR));
  ck_assert_ptr_eq(xpcom_log_get(&g_on), xpcom_log_get(&g_on_again));
  ck_assert_ptr_ne(xpcom_log_get(&g_on), xpcom_log_get(&g_off));

  g_evaluated = 0;
  XPCOM_LOG(g_off, XPCOM_LOG_ERROR, ("never %d", side_effect()));
  XPCOM_LOG(g_on, XPCOM_LOG_VERBOSE, ("never %d", side_effect()));
  ck_assert_int_eq(g_evaluated, 0);
  XPCOM_LOG(g_on, XPCOM_LOG_DEBUG, ("log-line-%d", side_effect()));
  ck_assert_int_eq(g_evaluated, 1);
  PR_LogFlush();

  FILE *f = fopen(g_log_path, "r");
  ck_assert_ptr_nonnull(f);
  char text[4096] = "";
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  ck_assert_ptr_nonnull(strstr(text, "log-line-1"));
  ck_assert_ptr_null(strstr(text, "never"));
}
END_TEST

typedef struct log_thread_arg {
  xpcom_log_module *m;
  PRLogModuleInfo *got;
} log_thread_arg;

static void log_thread_main(void *arg)
{
  log_thread_arg *a = arg;
  a->got = xpcom_log_get(a->m);
}

START_TEST(test_log_lazy_from_threads)
{
  XPCOM_LOG_MODULE(local, "xpcomtest_threads");
  PRThread *t[4];
  log_thread_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i].m = &local;
    args[i].got = NULL;
    t[i] = PR_CreateThread(PR_USER_THREAD, log_thread_main, &args[i],
                           PR_PRIORITY_NORMAL, PR_GLOBAL_THREAD,
                           PR_JOINABLE_THREAD, 0);
    ck_assert_ptr_nonnull(t[i]);
  }
  for (int i = 0; i < 4; i++)
    PR_JoinThread(t[i]);
  ck_assert_ptr_nonnull(args[0].got);
  for (int i = 1; i < 4; i++)
    ck_assert_ptr_eq(args[i].got, args[0].got);
  ck_assert_ptr_eq(xpcom_log_get(&local), args[0].got);
}
END_TEST

static Suite *errors_suite(void)
{
  Suite *s = suite_create("errors");
  TCase *tc = tcase_create("nsresult");
  tcase_add_test(tc, test_severity_macros);
  tcase_add_test(tc, test_generate_and_inspect);
  tcase_add_test(tc, test_known_values);
  tcase_add_test(tc, test_canonical_names);
  tcase_add_test(tc, test_unnamed);
  tcase_add_test(tc, test_list_consistent);
  tcase_add_test(tc, test_format);
  tcase_add_test(tc, test_format_truncation);
  tcase_add_test(tc, test_nss_mapping);
  suite_add_tcase(s, tc);
  TCase *log = tcase_create("log");
  tcase_add_test(log, test_log_levels_and_sharing);
  tcase_add_test(log, test_log_lazy_from_threads);
  suite_add_tcase(s, log);
  return s;
}

int main(void)
{
  /* NSPR reads these when it initialises, which has not happened yet. */
  snprintf(g_log_path, sizeof g_log_path, "/tmp/test_errors_log.%ld", (long)getpid());
  setenv("NSPR_LOG_MODULES", "xpcomtest:4", 1);
  setenv("NSPR_LOG_FILE", g_log_path, 1);

  SRunner *sr = srunner_create(errors_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  remove(g_log_path);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
