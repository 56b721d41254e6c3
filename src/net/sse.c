/* sse.c — Server-Sent Events parsing (see sse.h for the grammar). */
#include "net/sse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

static const char bom[] = "\xEF\xBB\xBF";

void sse_parser_init(struct sse_parser *p, size_t max) {
        *p = (struct sse_parser){ .max = max };
}

void sse_parser_release(struct sse_parser *p) {
        if (!p)
                return;
        strbuf_release(&p->line);
        strbuf_release(&p->data);
        free(p->event);
        *p = (struct sse_parser){ 0 };
}

static void reset_event(struct sse_parser *p) {
        p->data.len = 0;
        if (p->data.buf)
                p->data.buf[0] = 0;
        free(p->event);
        p->event = NULL;
}

/* "If the line is empty (a blank line): dispatch the event." An event whose data buffer is
 * empty is not dispatched, and its type is forgotten either way. */
static int dispatch(struct sse_parser *p, sse_event_cb cb, void *userdata) {
        if (p->data.len == 0) {
                reset_event(p);
                return 0;
        }
        /* "If the data buffer's last character is a U+000A LINE FEED (LF) character, then remove
         * the last character from the data buffer." */
        p->data.buf[--p->data.len] = 0;
        int r = cb(p->event ? p->event : "message", p->data.buf, p->data.len, userdata);
        reset_event(p);
        return r < 0 ? r : 0;
}

static int process_line(struct sse_parser *p, sse_event_cb cb, void *userdata, struct err *err) {
        const char *line = p->line.buf ? p->line.buf : "";
        size_t len = p->line.len;

        if (len == 0)
                return dispatch(p, cb, userdata);
        if (line[0] == ':')
                return 0; /* a comment: Marathon's heartbeats are empty lines, others send ": ping" */

        const char *colon = memchr(line, ':', len);
        size_t name_len = colon ? (size_t)(colon - line) : len;
        const char *value = colon ? colon + 1 : line + len;
        if (colon && value < line + len && *value == ' ')
                value++;
        size_t value_len = (size_t)(line + len - value);

        if (name_len == 5 && memcmp(line, "event", 5) == 0) {
                free(p->event);
                p->event = xstrndup(value, value_len);
        } else if (name_len == 4 && memcmp(line, "data", 4) == 0) {
                if (p->data.len + value_len + 1 > p->max)
                        return err_set(err, -EMSGSIZE, "event stream: an event's data is longer than %zu bytes",
                                       p->max);
                strbuf_append(&p->data, value, value_len);
                strbuf_append(&p->data, "\n", 1);
        }
        /* "id", "retry" and unknown fields: nothing the CLI needs. */
        return 0;
}

int sse_parser_feed(struct sse_parser *p, const char *buf, size_t len, sse_event_cb cb, void *userdata,
                    struct err *err) {
        if (p->failed)
                return err_set(err, -EMSGSIZE, "event stream: parser stopped after an error");

        for (size_t i = 0; i < len; i++) {
                char ch = buf[i];
                if (p->skip_lf) {
                        p->skip_lf = false;
                        if (ch == '\n')
                                continue;
                }
                if (ch == '\r' || ch == '\n') {
                        p->skip_lf = ch == '\r';
                        p->started = true; /* a line end settles whether a BOM came first */
                        int r = process_line(p, cb, userdata, err);
                        p->line.len = 0;
                        if (p->line.buf)
                                p->line.buf[0] = 0;
                        if (r < 0) {
                                p->failed = true;
                                return r;
                        }
                        continue;
                }
                if (p->line.len + 1 > p->max) {
                        p->failed = true;
                        return err_set(err, -EMSGSIZE, "event stream: a line is longer than %zu bytes", p->max);
                }
                strbuf_append(&p->line, &ch, 1);
                /* The byte order mark is only ever the first three bytes of the stream. */
                if (!p->started && p->line.len <= 3) {
                        if (memcmp(p->line.buf, bom, p->line.len) != 0)
                                p->started = true;
                        else if (p->line.len == 3) {
                                p->line.len = 0;
                                p->line.buf[0] = 0;
                                p->started = true;
                        }
                }
        }
        return 0;
}
