/* sse.h — an incremental parser for Server-Sent Events (the WHATWG "event stream
 * interpretation"), as Marathon's GET /v2/events sends them (api.md §4.1):
 *
 *   | bytes on the wire                     | effect                                            |
 *   | event: deployment_success\r\n          | the next event's type                             |
 *   | data: {"id":"d1"}\r\n                   | appends to the data ("\n" between data lines)     |
 *   | \r\n (an empty line)                   | dispatches the event if it has data, then resets  |
 *   | : anything                             | a comment (heartbeat): ignored                    |
 *   | id: …, retry: …, other fields          | ignored                                           |
 *
 * Lines end in CRLF, LF or CR, and bytes may arrive split anywhere (a CR at the end of one chunk
 * and the LF at the start of the next are one line end). "field:value" drops one space after the
 * colon; a line without a colon is a field with an empty value. A UTF-8 byte order mark at the
 * start of the stream is skipped. An event without an "event:" line has the type "message".
 *
 * The stream comes from the network, so every size is bounded: a line or an event's data longer
 * than the limit is an error, not an allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/strbuf.h"

struct sse_parser {
        size_t max;          /* longest line, and longest data of one event, in bytes */
        struct strbuf line;  /* the line being read */
        struct strbuf data;  /* the event's data so far ("\n" after each data line) */
        char *event;         /* the event's type, or NULL for "message"; owned */
        bool skip_lf;        /* the last byte was a CR: an LF next belongs to it */
        bool started;        /* past the optional byte order mark */
        bool failed;         /* an error was returned: the parser refuses more input */
};

/* Called for each complete event: its type and data (len bytes without the last "\n", then a NUL;
 * bytes from the network may hold NULs before len, so use len). Both are borrowed for the call. A negative return stops the feed and is returned by it. */
typedef int (*sse_event_cb)(const char *event, const char *data, size_t len, void *userdata);

/* An empty parser accepting lines and event data of at most max bytes. */
void sse_parser_init(struct sse_parser *p, size_t max);
void sse_parser_release(struct sse_parser *p);

/* Parses len bytes of the stream, calling cb for every event they complete. Returns 0, the
 * callback's negative return, or -EMSGSIZE with err saying which limit was passed; after a
 * failure every later call fails too. */
int sse_parser_feed(struct sse_parser *p, const char *buf, size_t len, sse_event_cb cb, void *userdata,
                    struct err *err);
