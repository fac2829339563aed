/* ws_error.c — name/message/close-code tables generated from WS_ERROR_MAP. */
#include "ws_error.h"

#include <stddef.h>

struct ws_error_info {
  int value;
  uint16_t close_code;
  const char *name;
  const char *message;
};

static const struct ws_error_info ws_error_table[] = {
#define WS__ERROR_ROW(name, value, code, msg) {value, code, "WS_ERR_" #name, msg},
    WS_ERROR_MAP(WS__ERROR_ROW)
#undef WS__ERROR_ROW
};

static const struct ws_error_info *ws_error_find(int err) {
  for (size_t i = 0; i < sizeof ws_error_table / sizeof ws_error_table[0]; i++)
    if (ws_error_table[i].value == err)
      return &ws_error_table[i];
  return NULL;
}

bool ws_error_is_fatal(int err) { return err <= WS_ERR_FATAL; }

const char *ws_error_name(int err) {
  if (err == WS_OK)
    return "WS_OK";
  const struct ws_error_info *e = ws_error_find(err);
  return e ? e->name : "WS_ERR_UNKNOWN";
}

const char *ws_error_message(int err) {
  if (err == WS_OK)
    return "success";
  const struct ws_error_info *e = ws_error_find(err);
  return e ? e->message : "unknown error";
}

uint16_t ws_error_close_code(int err) {
  const struct ws_error_info *e = ws_error_find(err);
  return e ? e->close_code : 0;
}
