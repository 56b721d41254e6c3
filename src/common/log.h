/* log.h — leveled logging to stderr, for the edges that decide what to do (STYLE.md).
 *
 * Two formats (--log-format):
 *   text  "2026-12-07T23:09:22.663Z info  task web…: TASK_FAILED (exit code 3): …"
 *   json  {"ts":"2026-12-07T23:09:22.663Z","level":"info","msg":"task web…","request":"r-1f"}
 *         one object per line; "request" while an HTTP request's handler runs (log_request). */
#pragma once

#include "common/macro.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 if unknown. */
int log_level_from_string(const char *s);
void log_set_format(enum log_format format);
/* --log-format's value: "text" or "json"; else prints "PROG: unknown log format 'X' (use text or
 * json)" to stderr and returns -EINVAL. */
int log_format_flag(const char *prog, const char *arg);
/* The request id messages carry until the next call (NULL: none). Copied; the loop thread's. */
void log_request(const char *id);
/* The id of a request into buf: the client's X-Request-Id when it is 1..48 characters of
 * [A-Za-z0-9._:-], else a new one ("<process tag>-<counter>", hex). */
void log_request_id(const char *incoming, char buf[static 64]);
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
