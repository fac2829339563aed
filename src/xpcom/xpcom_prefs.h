/*
 * xpcom_prefs.h — thread-safe C access to the preferences of the runtime's
 * preferences service ("@mozilla.org/preferences-service;1",
 * nsIPrefService + nsIPrefBranch).
 *
 * A preference has a type (bool, int or string) and a default value and/or
 * a user value; the user value wins unless the preference is locked. The
 * store lives from NS_InitXPCOM2 to NS_ShutdownXPCOM and starts with
 * Gecko's `network.websocket.*` defaults:
 *   max-message-size 2147483647, auto-follow-http-redirects false,
 *   timeout.open 20, timeout.close 20, timeout.ping.request 0,
 *   timeout.ping.response 10, extensions.permessage-deflate true,
 *   extensions.stream-deflate false, max-connections 200,
 *   delay-failed-reconnects true, allowInsecureFromHTTPS false.
 *
 * These functions may be called from any thread (engine code reads prefs on
 * the socket thread). Outside XPCOM's lifetime getters return the fallback
 * and setters NS_ERROR_NOT_INITIALIZED. Observers registered through
 * nsIPrefBranch::addObserver are notified on the main thread (dispatched
 * there when the change happens elsewhere).
 */
#ifndef WSCHANNEL_XPCOM_PREFS_H
#define WSCHANNEL_XPCOM_PREFS_H

#include "nscore.h"

XPCOM_BEGIN_DECLS

/* The effective value of an int / bool pref, or `fallback` when the pref
 * does not exist or has another type. */
XPCOM_API(int32_t) xpcom_prefs_get_int(const char *name, int32_t fallback);
XPCOM_API(bool) xpcom_prefs_get_bool(const char *name, bool fallback);

/* A malloc'd copy of the effective value of a string pref (free() it), or
 * a malloc'd copy of `fallback` when the pref does not exist or has another
 * type; NULL if fallback is NULL in that case, or when out of memory. */
XPCOM_API(char *) xpcom_prefs_get_char(const char *name, const char *fallback);

/*
 * Set the user value (the value is copied). A pref that has a default of
 * another type refuses with NS_ERROR_UNEXPECTED (as Gecko); a pref with only
 * a user value changes type. NS_ERROR_INVALID_ARG for NULL/empty name or
 * NULL value.
 */
XPCOM_API(nsresult) xpcom_prefs_set_int(const char *name, int32_t value);
XPCOM_API(nsresult) xpcom_prefs_set_bool(const char *name, bool value);
XPCOM_API(nsresult) xpcom_prefs_set_char(const char *name, const char *value);

/* Removes the user value (the default, if any, applies again). NS_OK also
 * when there was none. */
XPCOM_API(nsresult) xpcom_prefs_clear(const char *name);

XPCOM_END_DECLS

#endif /* WSCHANNEL_XPCOM_PREFS_H */
