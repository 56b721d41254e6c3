/* test_cli_http.c — Marathon error bodies become one line; master URLs; URL escaping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_args.h"
#include "cli/cli_http.h"
#include "common/alloc.h"

static const char *error_line(long status, const char *body, int *ret_code) {
        static struct err e;
        err_release(&e);
        int code = cli_http_error(status, body, strlen(body), &e);
        if (ret_code)
                *ret_code = code;
        return err_msg(&e);
}

static void invalid_definition_joins_path_and_errors(void **state) {
        int code;
        assert_string_equal(
                error_line(422,
                           "{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/cpus\","
                           "\"errors\":[\"got -1.0, expected 0.0 or more\"]}]}",
                           &code),
                "Object is not valid: /cpus: got -1.0, expected 0.0 or more");
        assert_int_equal(code, -ERR_INVALID);
}

static void several_details_and_errors_are_joined(void **state) {
        assert_string_equal(error_line(422,
                                       "{\"message\":\"Object is not valid\",\"details\":["
                                       "{\"path\":\"/cpus\",\"errors\":[\"e1\",\"e2\"]},"
                                       "{\"path\":\"/healthChecks(0)/portIndex\",\"errors\":[\"e3\"]}]}",
                                       NULL),
                            "Object is not valid: /cpus: e1, e2; /healthChecks(0)/portIndex: e3");
}

static void string_details_follow_the_message(void **state) {
        int code;
        assert_string_equal(error_line(400,
                                       "{\"message\":\"Invalid JSON\",\"details\":\"'[' expected near 'x'\"}",
                                       &code),
                            "Invalid JSON: '[' expected near 'x'");
        assert_int_equal(code, -EINVAL);
}

static void plain_message_stands_alone(void **state) {
        int code;
        assert_string_equal(error_line(404, "{\"message\":\"App '/x' does not exist\"}", &code),
                            "App '/x' does not exist");
        assert_int_equal(code, -ERR_NOT_FOUND);
        assert_string_equal(error_line(409, "{\"message\":\"An app with id [/x] already exists.\"}", &code),
                            "An app with id [/x] already exists.");
        assert_int_equal(code, -ERR_CONFLICT);
        error_line(503, "{\"message\":\"Could not determine the current leader\"}", &code);
        assert_int_equal(code, -ERR_NO_LEADER);
}

static void locked_app_names_its_deployments(void **state) {
        assert_string_equal(error_line(409,
                                       "{\"message\":\"App is locked by one or more deployments.\","
                                       "\"deployments\":[{\"id\":\"d1\"},{\"id\":\"d2\"}]}",
                                       NULL),
                            "App is locked by one or more deployments. (deployments: d1, d2)");
        /* Marathon's own words, with the API's advice turned into the CLI's */
        assert_string_equal(error_line(409,
                                       "{\"message\":\"App is locked by one or more deployments. Override with the "
                                       "option '?force=true'. View details at '/v2/deployments/d1'.\","
                                       "\"deployments\":[{\"id\":\"d1\"}]}",
                                       NULL),
                            "App is locked by one or more deployments. Use --force to override. See 'strata "
                            "deployment list'. (deployments: d1)");
}

static void body_that_is_not_json_gives_status_and_first_text(void **state) {
        int code;
        assert_string_equal(error_line(502, "<html>\n<body>Bad gateway</body>\n</html>\n", &code),
                            "master answered HTTP 502: <html> <body>Bad gateway</body> </html>");
        assert_int_equal(code, -EPROTO);
        assert_string_equal(error_line(500, "", NULL), "master answered HTTP 500");
        assert_string_equal(error_line(500, "{\"message\":\"\"}", NULL),
                            "master answered HTTP 500: {\"message\":\"\"}");
}

static void message_is_always_one_line(void **state) {
        const char *line = error_line(
                422, "{\"message\":\"a\\nb\",\"details\":[{\"path\":\"/x\",\"errors\":[\"c\\r\\nd\"]}]}",
                NULL);
        assert_string_equal(line, "a b: /x: c d");
        assert_null(strchr(line, '\n'));
}

static void huge_message_is_cut(void **state) {
        static char msg[10100];
        size_t n = 10000;
        strcpy(msg, "{\"message\":\"");
        memset(msg + 12, 'x', n);
        strcpy(msg + 12 + n, "\"}");
        const char *line = error_line(400, msg, NULL);
        assert_true(strlen(line) < 2100);
        assert_non_null(strstr(line, "…"));
}

static void master_url_gets_a_scheme_and_loses_trailing_slashes(void **state) {
        struct cli_http h;
        struct err e = { 0 };
        assert_int_equal(cli_http_init(&h, "localhost:8080", &e), 0);
        assert_string_equal(h.base, "http://localhost:8080");
        assert_int_equal(h.max_body, CLI_HTTP_MAX_BODY);
        cli_http_release(&h);
        assert_int_equal(cli_http_init(&h, "https://m.example.com/service/marathon//", &e), 0);
        assert_string_equal(h.base, "https://m.example.com/service/marathon");
        cli_http_release(&h);
        assert_int_equal(cli_http_init(&h, "HTTP://10.0.0.1:8080", &e), 0);
        cli_http_release(&h);
}

static void bad_master_urls_are_refused(void **state) {
        struct cli_http h = { 0 };
        struct err e = { 0 };
        assert_int_equal(cli_http_init(&h, "ftp://x", &e), -EINVAL);
        assert_non_null(strstr(err_msg(&e), "ftp://x"));
        assert_int_equal(cli_http_init(&h, "http://", &e), -EINVAL);
        assert_int_equal(cli_http_init(&h, "http:///path", &e), -EINVAL);
        assert_int_equal(cli_http_init(&h, "http://a b", &e), -EINVAL);
        assert_null(h.base);
        err_release(&e);
}

static void url_escape_keeps_unreserved_and_optionally_slashes(void **state) {
        char *s = cli_url_escape("/prod/web-1.v2_x~", true);
        assert_string_equal(s, "/prod/web-1.v2_x~");
        free(s);
        s = cli_url_escape("team==a,env in (x, y)", false);
        assert_string_equal(s, "team%3D%3Da%2Cenv%20in%20%28x%2C%20y%29");
        free(s);
        s = cli_url_escape("a/b?c#d&é", false);
        assert_string_equal(s, "a%2Fb%3Fc%23d%26%C3%A9");
        free(s);
}

/* A transport that answers with one canned reply, for cli_http_call's own logic. */
struct canned {
        long status;
        const char *body;
        const char *deployment;
        int fail; /* a negative code: the network failed */
        char *url, *method, *sent;
};

static int canned_send(struct cli_http *h, const char *method, const char *url, const char *body,
                       struct http_reply *ret, struct err *err) {
        struct canned *c = h->data;
        c->url = xstrdup(url);
        c->method = xstrdup(method);
        c->sent = body ? xstrdup(body) : NULL;
        if (c->fail)
                return err_set(err, c->fail, "cannot reach master at %s: Couldn't connect to server",
                               h->base);
        ret->status = c->status;
        ret->body = xstrdup(c->body);
        ret->body_len = strlen(c->body);
        ret->deployment_id = c->deployment ? xstrdup(c->deployment) : NULL;
        return 0;
}

static void canned_release(struct canned *c) {
        free(c->url);
        free(c->method);
        free(c->sent);
}

static void call_sends_compact_json_and_parses_the_answer(void **state) {
        struct cli_http h;
        struct err e = { 0 };
        struct canned c = { .status = 201, .body = "{\"id\":\"/web\"}", .deployment = "d-1" };
        struct http_reply reply = { 0 };
        assert_int_equal(cli_http_init(&h, "http://m:8080", &e), 0);
        h.send = canned_send;
        h.data = &c;
        json_t *body = json_pack("{s:s,s:i}", "id", "web", "instances", 2);
        assert_int_equal(cli_http_call(&h, "POST", "/v2/apps", body, &reply, &e), 201);
        assert_string_equal(c.url, "http://m:8080/v2/apps");
        assert_string_equal(c.method, "POST");
        assert_string_equal(c.sent, "{\"id\":\"web\",\"instances\":2}");
        assert_string_equal(json_string_value(json_object_get(reply.json, "id")), "/web");
        assert_string_equal(reply.deployment_id, "d-1");
        json_decref(body);
        http_reply_release(&reply);
        canned_release(&c);
        cli_http_release(&h);
}

static void call_turns_error_status_into_message(void **state) {
        struct cli_http h;
        struct err e = { 0 };
        struct canned c = { .status = 404, .body = "{\"message\":\"App '/x' does not exist\"}" };
        struct http_reply reply = { 0 };
        assert_int_equal(cli_http_init(&h, "m:1", &e), 0);
        h.send = canned_send;
        h.data = &c;
        assert_int_equal(cli_http_call(&h, "GET", "/v2/apps/x", NULL, &reply, &e), -ERR_NOT_FOUND);
        assert_string_equal(err_msg(&e), "App '/x' does not exist");
        assert_int_equal(reply.status, 404);
        assert_null(c.sent);
        http_reply_release(&reply);
        canned_release(&c);
        cli_http_release(&h);
        err_release(&e);
}

static void call_rejects_a_success_that_is_not_json(void **state) {
        struct cli_http h;
        struct err e = { 0 };
        struct canned c = { .status = 200, .body = "pong" };
        struct http_reply reply = { 0 };
        assert_int_equal(cli_http_init(&h, "m:1", &e), 0);
        h.send = canned_send;
        h.data = &c;
        assert_int_equal(cli_http_call(&h, "GET", "/v2/apps", NULL, &reply, &e), -EBADMSG);
        assert_non_null(strstr(err_msg(&e), "master sent invalid JSON for GET /v2/apps"));
        http_reply_release(&reply);
        canned_release(&c);
        cli_http_release(&h);
        err_release(&e);
}

static void call_passes_network_errors_through(void **state) {
        struct cli_http h;
        struct err e = { 0 };
        struct canned c = { .fail = -EHOSTUNREACH };
        struct http_reply reply = { 0 };
        assert_int_equal(cli_http_init(&h, "localhost:8080", &e), 0);
        h.send = canned_send;
        h.data = &c;
        assert_int_equal(cli_http_call(&h, "GET", "/v1/cluster", NULL, &reply, &e), -EHOSTUNREACH);
        assert_string_equal(err_msg(&e),
                            "cannot reach master at http://localhost:8080: Couldn't connect to server");
        assert_int_equal(reply.status, 0);
        canned_release(&c);
        cli_http_release(&h);
        err_release(&e);
}

static void unreachable_master_is_reported_by_curl(void **state) {
        /* Port 1 on loopback: nothing listens, so curl's connect fails at once. */
        struct cli_http h;
        struct err e = { 0 };
        struct http_reply reply = { 0 };
        assert_int_equal(cli_http_init(&h, "http://127.0.0.1:1", &e), 0);
        assert_int_equal(cli_http_call(&h, "GET", "/v2/apps", NULL, &reply, &e), -EHOSTUNREACH);
        assert_string_equal(err_msg(&e),
                            "cannot reach master at http://127.0.0.1:1: Couldn't connect to server");
        cli_http_release(&h);
        err_release(&e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(invalid_definition_joins_path_and_errors),
                cmocka_unit_test(several_details_and_errors_are_joined),
                cmocka_unit_test(string_details_follow_the_message),
                cmocka_unit_test(plain_message_stands_alone),
                cmocka_unit_test(locked_app_names_its_deployments),
                cmocka_unit_test(body_that_is_not_json_gives_status_and_first_text),
                cmocka_unit_test(message_is_always_one_line),
                cmocka_unit_test(huge_message_is_cut),
                cmocka_unit_test(master_url_gets_a_scheme_and_loses_trailing_slashes),
                cmocka_unit_test(bad_master_urls_are_refused),
                cmocka_unit_test(url_escape_keeps_unreserved_and_optionally_slashes),
                cmocka_unit_test(call_sends_compact_json_and_parses_the_answer),
                cmocka_unit_test(call_turns_error_status_into_message),
                cmocka_unit_test(call_rejects_a_success_that_is_not_json),
                cmocka_unit_test(call_passes_network_errors_through),
                cmocka_unit_test(unreachable_master_is_reported_by_curl),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
