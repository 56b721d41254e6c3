/* test_net_recordio.c — RecordIO framing of the agent event stream. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "net/recordio.h"

struct seen {
        char *records[16];
        size_t n;
};

static int collect(const char *data, size_t len, void *userdata) {
        struct seen *s = userdata;
        assert_int_equal(strlen(data), len);
        s->records[s->n++] = xstrndup(data, len);
        return 0;
}

static void seen_free(struct seen *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->records[i]);
}

static void records_survive_any_chunking(void **state) {
        struct strbuf enc = { 0 };
        recordio_encode(&enc, "{\"a\":1}", 7);
        recordio_encode(&enc, "", 0);
        recordio_encode(&enc, "hello world", 11);
        for (size_t chunk = 1; chunk <= enc.len; chunk++) {
                struct recordio r;
                struct seen s = { 0 };
                struct err e = { 0 };
                recordio_init(&r, 100);
                for (size_t off = 0; off < enc.len; off += chunk)
                        assert_int_equal(recordio_feed(&r, enc.buf + off, MIN(chunk, enc.len - off), collect, &s, &e), 0);
                assert_int_equal(s.n, 3);
                assert_string_equal(s.records[0], "{\"a\":1}");
                assert_string_equal(s.records[1], "");
                assert_string_equal(s.records[2], "hello world");
                seen_free(&s);
                recordio_release(&r);
        }
        strbuf_release(&enc);
}

static void malformed_streams_are_errors(void **state) {
        const char *bad[] = { "x\n", "\n", "12a\n", "999999999999\n", "123456789012345678901234" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct recordio r;
                struct seen s = { 0 };
                struct err e = { 0 };
                recordio_init(&r, 1000);
                assert_int_equal(recordio_feed(&r, bad[i], strlen(bad[i]), collect, &s, &e), -EBADMSG);
                assert_int_equal(s.n, 0);
                err_release(&e);
                recordio_release(&r);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(records_survive_any_chunking),
                cmocka_unit_test(malformed_streams_are_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
