/* test_agent_fetch.c — Marathon `fetch`: file:// and http:// downloads, destPath, executable,
 * archive extraction, failures, and a native task that uses what was fetched. */
#include "test_agent_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "agent/fetch.h"

static char *tmpdir(void) {
        char *d = xstrdup("/tmp/strata-fetch-XXXXXX");
        assert_non_null(mkdtemp(d));
        return d;
}

static void put(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void slurp(const char *path, char *buf, size_t size) {
        FILE *f = fopen(path, "re");
        if (!f)
                fail_msg("'%s' was not fetched", path);
        size_t n = fread(buf, 1, size - 1, f);
        buf[n] = 0;
        fclose(f);
}

static struct fetch_result *run(const struct task_fetch *f, size_t n, const char *sandbox) {
        struct fetch_result *res = NULL;
        fetch_run(f, n, sandbox, false, 0, 0, &res);
        assert_non_null(res);
        return res;
}

static void files_are_copied_named_and_made_executable(void **state) {
        char *src = tmpdir(), *sandbox = tmpdir();
        char *a = xasprintf("%s/config.json", src), *b = xasprintf("%s/tool.sh", src);
        put(a, "{\"k\": 1}\n");
        put(b, "#!/bin/sh\necho tool\n");
        char *uri_a = xasprintf("file://%s?version=3", a);
        struct task_fetch f[] = {
                {.uri = uri_a},
                {.uri = b, .executable = true, .dest_path = "bin/tool"},
        };
        struct fetch_result *res = run(f, 2, sandbox);
        if (res->code < 0)
                fail_msg("%s", res->message);
        fetch_result_free(res);
        char buf[256], *p = xasprintf("%s/config.json", sandbox);
        slurp(p, buf, sizeof buf);
        assert_string_equal(buf, "{\"k\": 1}\n");
        free(p);
        p = xasprintf("%s/bin/tool", sandbox);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0755);
        free(p);
        free(uri_a);
        free(a);
        free(b);
        rm_rf(src);
        rm_rf(sandbox);
        free(src);
        free(sandbox);
}

static void bad_uris_and_destinations_fail_with_the_reason(void **state) {
        char *sandbox = tmpdir();
        struct task_fetch missing = {.uri = "file:///nonexistent/strata/x.bin"};
        struct fetch_result *res = run(&missing, 1, sandbox);
        assert_true(res->code < 0);
        assert_non_null(strstr(res->message, "cannot fetch 'file:///nonexistent/strata/x.bin'"));
        fetch_result_free(res);
        struct task_fetch escape = {.uri = "/etc/hostname", .dest_path = "../outside"};
        res = run(&escape, 1, sandbox);
        assert_int_equal(res->code, -EINVAL);
        assert_non_null(strstr(res->message, "is not a path inside the sandbox"));
        fetch_result_free(res);
        struct task_fetch ftp = {.uri = "ftp://example.com/x"};
        res = run(&ftp, 1, sandbox);
        assert_int_equal(res->code, -EINVAL);
        assert_non_null(strstr(res->message, "unsupported scheme"));
        fetch_result_free(res);
        rm_rf(sandbox);
        free(sandbox);
}

static void archives_are_extracted_into_the_sandbox(void **state) {
        if (!fetch_can_extract())
                fail_msg("this build cannot extract archives: link the agent library with libarchive "
                         "(dependency('libarchive') and -DSTRATA_LIBARCHIVE in meson.build)");
        char *src = tmpdir(), *sandbox = tmpdir();
        char *cmd = xasprintf("cd %s && mkdir -p app/bin && echo hi > app/bin/run.txt && "
                              "tar -czf app.tar.gz app && echo plain > notes.txt && gzip notes.txt",
                              src);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        char *tgz = xasprintf("file://%s/app.tar.gz", src), *gz = xasprintf("%s/notes.txt.gz", src);
        struct task_fetch f[] = {{.uri = tgz, .extract = true}, {.uri = gz, .extract = true}};
        struct fetch_result *res = run(f, 2, sandbox);
        if (res->code < 0)
                fail_msg("%s", res->message);
        fetch_result_free(res);
        char buf[64], *p = xasprintf("%s/app/bin/run.txt", sandbox);
        slurp(p, buf, sizeof buf);
        assert_string_equal(buf, "hi\n");
        free(p);
        p = xasprintf("%s/notes.txt", sandbox);
        slurp(p, buf, sizeof buf);
        assert_string_equal(buf, "plain\n");
        free(p);
        /* An entry climbing out of the sandbox is refused. */
        cmd = xasprintf("cd %s && mkdir -p sub && echo x > outside.txt && cd sub && "
                        "tar -P -czf ../evil.tgz ../outside.txt",
                        src);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        char *evil = xasprintf("%s/evil.tgz", src);
        struct task_fetch e = {.uri = evil, .extract = true};
        res = run(&e, 1, sandbox);
        assert_int_equal(res->code, -EINVAL);
        assert_non_null(strstr(res->message, "entry '../outside.txt' points outside the sandbox"));
        fetch_result_free(res);
        free(evil);
        assert_true(fetch_is_archive("x.tgz") && fetch_is_archive("x.zip") && !fetch_is_archive("x.txt"));
        free(tgz);
        free(gz);
        rm_rf(src);
        rm_rf(sandbox);
        free(src);
        free(sandbox);
}

/* A one-request-at-a-time HTTP server on 127.0.0.1: /data.txt is 200, anything else 404. */
struct server {
        int fd;
        int port;
        int requests;
        pthread_t thread;
};

static void *serve(void *arg) {
        struct server *s = arg;
        for (int i = 0; i < s->requests; i++) {
                int c = accept(s->fd, NULL, NULL);
                if (c < 0)
                        break;
                char req[2048];
                ssize_t n = read(c, req, sizeof req - 1);
                req[n > 0 ? n : 0] = 0;
                const char *body = "served over http\n";
                char resp[512];
                if (strncmp(req, "GET /data.txt ", 14) == 0)
                        snprintf(resp, sizeof resp,
                                 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                 strlen(body), body);
                else
                        snprintf(resp, sizeof resp,
                                 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                if (write(c, resp, strlen(resp)) < 0)
                        break;
                close(c);
        }
        return NULL;
}

static void server_start(struct server *s, int requests) {
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
        socklen_t len = sizeof a;
        assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
        assert_int_equal(listen(s->fd, 8), 0);
        s->port = ntohs(a.sin_port);
        s->requests = requests;
        assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s) {
        pthread_join(s->thread, NULL);
        close(s->fd);
}

static void http_downloads_and_http_errors(void **state) {
        struct server s;
        server_start(&s, 2);
        char *sandbox = tmpdir();
        char *ok = xasprintf("http://127.0.0.1:%d/data.txt", s.port);
        char *missing = xasprintf("http://127.0.0.1:%d/missing.bin", s.port);
        struct task_fetch f = {.uri = ok};
        struct fetch_result *res = run(&f, 1, sandbox);
        if (res->code < 0)
                fail_msg("%s", res->message);
        fetch_result_free(res);
        char buf[64], *p = xasprintf("%s/data.txt", sandbox);
        slurp(p, buf, sizeof buf);
        assert_string_equal(buf, "served over http\n");
        free(p);
        f.uri = missing;
        res = run(&f, 1, sandbox);
        assert_int_equal(res->code, -EIO);
        assert_non_null(strstr(res->message, "404"));
        fetch_result_free(res);
        p = xasprintf("%s/missing.bin", sandbox);
        assert_int_equal(access(p, F_OK), -1); /* no half file left */
        free(p);
        server_stop(&s);
        free(ok);
        free(missing);
        rm_rf(sandbox);
        free(sandbox);
}

static void a_task_starts_after_its_fetch_or_fails_with_the_fetch_error(void **state) {
        struct harness *h = harness_new();
        char *src = xasprintf("%s/greeting.txt", h->work_dir);
        put(src, "fetched before start\n");
        struct task_fetch f = {.uri = src, .dest_path = "hello.txt"};
        struct task_spec spec = {
                .task_id = "fetcher", .cmd = "cat hello.txt", .fetch = &f, .n_fetch = 1, .kill_grace_ms = -1};
        struct err err = {0};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        const struct seen *fin = harness_wait(h, "fetcher", _TASK_STATE_MAX, 10000);
        assert_int_equal(fin->state, TASK_FINISHED);
        assert_non_null(harness_find(h, "fetcher", TASK_RUNNING));
        char out[128];
        harness_read_sandbox(h, "fetcher", "stdout", out, sizeof out);
        assert_string_equal(out, "fetched before start\n");

        struct task_fetch bad = {.uri = "file:///nonexistent/strata/app.tgz"};
        spec.task_id = "fetch-fails";
        spec.fetch = &bad;
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        fin = harness_wait(h, "fetch-fails", _TASK_STATE_MAX, 10000);
        assert_int_equal(fin->state, TASK_FAILED);
        assert_string_equal(fin->reason, TASK_REASON_FETCH_FAILED);
        assert_non_null(strstr(fin->message, "cannot fetch 'file:///nonexistent/strata/app.tgz'"));
        assert_null(harness_find(h, "fetch-fails", TASK_RUNNING));

        /* Killed while fetching: it never starts. */
        spec.task_id = "fetch-killed";
        spec.fetch = &f;
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        assert_int_equal(runtime_kill(h->rt, "fetch-killed", 0, &err), 0);
        fin = harness_wait(h, "fetch-killed", _TASK_STATE_MAX, 10000);
        assert_int_equal(fin->state, TASK_KILLED);
        assert_null(harness_find(h, "fetch-killed", TASK_RUNNING));
        free(src);
        err_release(&err);
        harness_free(h);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(files_are_copied_named_and_made_executable),
        cmocka_unit_test(bad_uris_and_destinations_fail_with_the_reason),
        cmocka_unit_test(archives_are_extracted_into_the_sandbox),
        cmocka_unit_test(http_downloads_and_http_errors),
        cmocka_unit_test(a_task_starts_after_its_fetch_or_fails_with_the_fetch_error),
};

AGENT_TEST_MAIN(tests)
