/* test_common_util.c — timestamps, strbuf, err wrapping, uuid and atomic files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"

static void marathon_timestamps_have_three_fraction_digits_and_z(void **state) {
        char buf[25];
        time_format_ms(1443542391164, buf);
        assert_string_equal(buf, "2015-09-29T15:59:51.164Z");
        time_format_ms(0, buf);
        assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void iso_timestamps_parse_in_every_form(void **state) {
        int64_t ms;
        assert_int_equal(time_parse_iso("2015-09-29T15:59:51.164Z", &ms), 0);
        assert_int_equal(ms, 1443542391164);
        assert_int_equal(time_parse_iso("2015-09-29T15:59:51Z", &ms), 0);
        assert_int_equal(ms, 1443542391000);
        assert_int_equal(time_parse_iso("2015-09-29T17:59:51.164+02:00", &ms), 0);
        assert_int_equal(ms, 1443542391164);
        assert_int_equal(time_parse_iso("2015-09-29T15:59:51.1645678Z", &ms), 0);
        assert_int_equal(ms, 1443542391164);
        assert_int_equal(time_parse_iso("2015-09-29T15:59:51.1Z", &ms), 0);
        assert_int_equal(ms, 1443542391100);
}

static void malformed_timestamps_are_rejected(void **state) {
        int64_t ms = 42;
        const char *bad[] = { "", "2015", "2015-13-01T00:00:00Z", "2015-09-29", "2015-09-29T25:00:00Z",
                              "2015-09-29T15:59:51.Z", "2015-09-29T15:59:51Zjunk", "abcd-ef-ghTij:kl" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(time_parse_iso(bad[i], &ms), -EINVAL);
        assert_int_equal(ms, 42);
}

static void strbuf_grows_and_steals(void **state) {
        struct strbuf sb = { 0 };
        for (int i = 0; i < 1000; i++)
                strbuf_printf(&sb, "%d,", i);
        assert_true(sb.len > 1000);
        assert_int_equal(strncmp(sb.buf, "0,1,2,", 6), 0);
        char *s = strbuf_steal(&sb);
        assert_null(sb.buf);
        assert_int_equal(sb.len, 0);
        free(s);
        s = strbuf_steal(&sb);
        assert_string_equal(s, "");
        free(s);
}

static void errors_wrap_with_context_and_map_to_http(void **state) {
        struct err e = { 0 };
        assert_int_equal(err_set(&e, -ERR_NOT_FOUND, "App '%s' does not exist", "/x"), -ERR_NOT_FOUND);
        assert_int_equal(err_wrap(&e, "cannot scale"), -ERR_NOT_FOUND);
        assert_string_equal(err_msg(&e), "cannot scale: App '/x' does not exist");
        assert_int_equal(err_http_status(&e), 404);
        err_set(&e, -ERR_INVALID, "Object is not valid");
        assert_int_equal(err_http_status(&e), 422);
        err_set(&e, -ERR_CONFLICT, "dup");
        assert_int_equal(err_http_status(&e), 409);
        err_set(&e, -ERR_NO_LEADER, "none");
        assert_int_equal(err_http_status(&e), 503);
        err_set(&e, -EIO, "disk");
        assert_int_equal(err_http_status(&e), 500);
        err_set_details(&e, json_array());
        err_release(&e);
        assert_null(e.msg);
        assert_string_equal(err_msg(&e), "unknown error");
}

static void uuids_are_version_4_and_distinct(void **state) {
        char a[37], b[37];
        uuid_random(a);
        uuid_random(b);
        assert_int_equal(strlen(a), 36);
        assert_int_equal(a[14], '4');
        assert_true(strchr("89ab", a[19]) != NULL);
        assert_string_not_equal(a, b);
}

static void atomic_writes_replace_whole_files(void **state) {
        char dir[] = "/tmp/strata-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char *sub = xasprintf("%s/a/b/c", dir);
        char *path = xasprintf("%s/file", sub);
        struct err e = { 0 };
        assert_int_equal(mkdir_p(sub, &e), 0);
        assert_int_equal(file_write_atomic(path, "hello", 5, &e), 0);
        assert_int_equal(file_write_atomic(path, "bye", 3, &e), 0);
        char *data = NULL;
        size_t len = 0;
        assert_int_equal(file_read_all(path, 1024, &data, &len, &e), 0);
        assert_string_equal(data, "bye");
        assert_int_equal(len, 3);
        free(data);
        assert_int_equal(file_read_all(path, 2, &data, &len, &e), -EFBIG);
        err_release(&e);
        char *missing = xasprintf("%s/nope", dir);
        assert_int_equal(file_read_all(missing, 10, &data, &len, &e), -ENOENT);
        assert_non_null(strstr(err_msg(&e), "nope"));
        err_release(&e);
        char *cmd = xasprintf("rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        free(missing);
        free(path);
        free(sub);
}

static void string_vectors_come_from_arrays_of_strings_only(void **state) {
        json_t *ok = json_pack("[s,s]", "a", "b c"), *bad = json_pack("[s,i]", "a", 1), *obj = json_object();
        char **v = NULL;
        assert_int_equal(strv_from_json(ok, &v), 0);
        assert_string_equal(v[0], "a");
        assert_string_equal(v[1], "b c");
        assert_null(v[2]);
        strv_free(v);
        v = (char **)1;
        assert_int_equal(strv_from_json(bad, &v), -EINVAL);
        assert_int_equal(strv_from_json(obj, &v), -EINVAL);
        assert_ptr_equal(v, (char **)1);
        assert_int_equal(strv_from_json(NULL, &v), 0);
        assert_null(v);
        strv_free(NULL);
        json_decref(ok);
        json_decref(bad);
        json_decref(obj);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(marathon_timestamps_have_three_fraction_digits_and_z),
                cmocka_unit_test(iso_timestamps_parse_in_every_form),
                cmocka_unit_test(malformed_timestamps_are_rejected),
                cmocka_unit_test(strbuf_grows_and_steals),
                cmocka_unit_test(errors_wrap_with_context_and_map_to_http),
                cmocka_unit_test(uuids_are_version_4_and_distinct),
                cmocka_unit_test(atomic_writes_replace_whole_files),
                cmocka_unit_test(string_vectors_come_from_arrays_of_strings_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
