/* test_net_sse.c — the event stream parser: line endings, splits anywhere, fields, limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/sse.h"
#include "common/alloc.h"
#include "common/strbuf.h"

/* Every event as "type|data\n". */
static int collect(const char *event, const char *data, size_t len, void *userdata) {
        struct strbuf *sb = userdata;
        assert_int_equal(strlen(data), len); /* NUL-terminated at len */
        strbuf_printf(sb, "%s|%s\n", event, data);
        return 0;
}

/* Parses text fed in pieces of `piece` bytes (0: all at once) and returns what was dispatched. */
static char *parse(const char *text, size_t piece, int *ret) {
        struct sse_parser p;
        struct strbuf sb = { 0 };
        struct err e = { 0 };
        sse_parser_init(&p, 64);
        size_t len = strlen(text), step = piece ? piece : len ? len : 1;
        int r = 0;
        for (size_t off = 0; off < len && r >= 0; off += step)
                r = sse_parser_feed(&p, text + off, MIN(step, len - off), collect, &sb, &e);
        if (ret)
                *ret = r;
        sse_parser_release(&p);
        err_release(&e);
        strbuf_puts(&sb, "");
        return strbuf_steal(&sb);
}

static void marathons_frames_dispatch_type_and_data(void **state) {
        static const char stream[] = "event: event_stream_attached\r\ndata: {\"remoteAddress\":\"1.2.3.4\"}\r\n\r\n"
                                     "\r\n" /* heartbeat */
                                     "event: deployment_success\r\ndata: {\"id\":\"d1\"}\r\n\r\n";
        static const char want[] = "event_stream_attached|{\"remoteAddress\":\"1.2.3.4\"}\n"
                                   "deployment_success|{\"id\":\"d1\"}\n";
        /* the same events whatever the bytes' split: 1, 2, 3 … bytes per read */
        for (size_t piece = 0; piece <= sizeof stream; piece++) {
                _cleanup_free_ char *got = parse(stream, piece, NULL);
                assert_string_equal(got, want);
        }
}

static void lf_and_cr_alone_end_lines_too(void **state) {
        _cleanup_free_ char *lf = parse("event: a\ndata: 1\n\n", 0, NULL);
        assert_string_equal(lf, "a|1\n");
        _cleanup_free_ char *cr = parse("event: a\rdata: 1\r\r", 0, NULL);
        assert_string_equal(cr, "a|1\n");
        /* CR, then LF in the next read: one line end, not an empty line between */
        _cleanup_free_ char *split = parse("data: x\r\ndata: y\r\n\r\n", 8, NULL);
        assert_string_equal(split, "message|x\ny\n");
}

static void data_lines_join_and_fields_follow_the_spec(void **state) {
        _cleanup_free_ char *multi = parse("data: a\ndata: b\ndata\n\n", 0, NULL);
        assert_string_equal(multi, "message|a\nb\n\n"); /* "data" alone adds an empty line */
        _cleanup_free_ char *nospace = parse("event:x\ndata:1\n\n", 0, NULL);
        assert_string_equal(nospace, "x|1\n");
        _cleanup_free_ char *twospaces = parse("data:  1\n\n", 0, NULL);
        assert_string_equal(twospaces, "message| 1\n"); /* only one space is dropped */
        _cleanup_free_ char *ignored = parse(": comment\nid: 7\nretry: 10\nfoo: bar\ndata: z\n\n", 0, NULL);
        assert_string_equal(ignored, "message|z\n");
}

static void an_event_without_data_is_not_dispatched_and_its_type_is_forgotten(void **state) {
        _cleanup_free_ char *got = parse("event: lonely\n\ndata: 1\n\n", 0, NULL);
        assert_string_equal(got, "message|1\n");
        /* and bytes after the last empty line are no event yet */
        _cleanup_free_ char *partial = parse("event: a\ndata: 1\n", 0, NULL);
        assert_string_equal(partial, "");
}

static void a_leading_byte_order_mark_is_skipped(void **state) {
        _cleanup_free_ char *got = parse("\xEF\xBB\xBF" "event: a\ndata: 1\n\n", 1, NULL);
        assert_string_equal(got, "a|1\n");
        /* only at the very start: later it is part of the field name */
        _cleanup_free_ char *later = parse("data: 1\n\n\xEF\xBB\xBF" "data: 2\n\n", 0, NULL);
        assert_string_equal(later, "message|1\n");
}

static void lines_and_data_are_bounded(void **state) {
        char line[200];
        memset(line, 'x', sizeof line - 1);
        line[sizeof line - 1] = 0;
        int r;
        _cleanup_free_ char *got = parse(line, 7, &r);
        assert_int_equal(r, -EMSGSIZE);
        assert_string_equal(got, "");

        /* many short data lines add up past the limit */
        struct strbuf sb = { 0 };
        for (int i = 0; i < 20; i++)
                strbuf_puts(&sb, "data: 12345\n");
        _cleanup_free_ char *many = strbuf_steal(&sb);
        _cleanup_free_ char *none = parse(many, 0, &r);
        assert_int_equal(r, -EMSGSIZE);

        /* after an error, the parser refuses more */
        struct sse_parser p;
        struct err e = { 0 };
        struct strbuf out = { 0 };
        sse_parser_init(&p, 8);
        assert_int_equal(sse_parser_feed(&p, "data: 123456789\n", 16, collect, &out, &e), -EMSGSIZE);
        assert_non_null(strstr(err_msg(&e), "longer than 8 bytes"));
        assert_int_equal(sse_parser_feed(&p, "\n", 1, collect, &out, &e), -EMSGSIZE);
        sse_parser_release(&p);
        err_release(&e);
        strbuf_release(&out);
}

static int stop_at_first(const char *event, const char *data, size_t len, void *userdata) {
        (*(int *)userdata)++;
        return -ECANCELED;
}

static void a_callback_error_stops_the_feed(void **state) {
        struct sse_parser p;
        struct err e = { 0 };
        int calls = 0;
        sse_parser_init(&p, 64);
        assert_int_equal(sse_parser_feed(&p, "data: 1\n\ndata: 2\n\n", 18, stop_at_first, &calls, &e), -ECANCELED);
        assert_int_equal(calls, 1);
        sse_parser_release(&p);
        err_release(&e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(marathons_frames_dispatch_type_and_data),
                cmocka_unit_test(lf_and_cr_alone_end_lines_too),
                cmocka_unit_test(data_lines_join_and_fields_follow_the_spec),
                cmocka_unit_test(an_event_without_data_is_not_dispatched_and_its_type_is_forgotten),
                cmocka_unit_test(a_leading_byte_order_mark_is_skipped),
                cmocka_unit_test(lines_and_data_are_bounded),
                cmocka_unit_test(a_callback_error_stops_the_feed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
