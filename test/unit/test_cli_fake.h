/* test_cli_fake.h — runs whole CLI command lines against a scripted master, for the CLI's tests.
 *
 * A script lists the exchanges a command should make, in order: the method and path the CLI
 * must send, and the answer the fake master gives. run_cli() runs argv through cli_run() with
 * standard output captured and checks that every scripted exchange happened. */
#pragma once

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/cli_internal.h"
#include "common/alloc.h"

struct exchange {
        const char *method, *url; /* expected */
        long status;              /* answer; 0: the network fails */
        const char *body;
        const char *deployment; /* Marathon-Deployment-Id, or NULL */
        char *sent;             /* recorded request body */
};

struct fake {
        struct exchange *script;
        size_t n, next;
};

static int fake_send(struct cli_http *h, const char *method, const char *url, const char *body,
                     struct http_reply *ret, struct err *err) {
        struct fake *f = h->data;
        assert_true(f->next < f->n); /* an exchange nobody scripted */
        struct exchange *x = &f->script[f->next++];
        assert_string_equal(method, x->method);
        assert_string_equal(url, x->url);
        x->sent = body ? xstrdup(body) : NULL;
        if (x->status == 0)
                return err_set(err, -EHOSTUNREACH, "cannot reach master at %s: Couldn't connect to server",
                               h->base);
        ret->status = x->status;
        ret->body = xstrdup(x->body ? x->body : "");
        ret->body_len = strlen(ret->body);
        ret->deployment_id = x->deployment ? xstrdup(x->deployment) : NULL;
        return 0;
}

/* --- a scripted event stream and clock (for --wait) ------------------------------------------ */

/* One piece of the stream: bytes the master sends once the fake clock reaches at_ms. */
struct chunk {
        int64_t at_ms;
        const char *bytes;
};

struct fake_stream {
        long open_status;   /* 0: the stream opens; else open fails with this HTTP status */
        struct chunk *chunks;
        size_t n, next;
        bool close_at_end;  /* after the last chunk the master closes the stream */
        int64_t now_ms;     /* the fake monotonic clock; reads and sleeps advance it */
        bool opened, closed;
        char *path;         /* what open() asked for */
};

/* The stream the next run_cli uses; NULL: every open fails with 404 (no test reaches curl). */
static struct fake_stream *next_stream;
/* The next run_cli's standard output counts as a terminal. */
static bool next_tty;

static int64_t fake_now(void *data) {
        return ((struct fake_stream *)data)->now_ms;
}

static void fake_sleep(void *data, int ms) {
        ((struct fake_stream *)data)->now_ms += ms;
}

static int fake_open(void *data, struct cli_http *h, const char *path, struct cli_stream **ret, struct err *err) {
        struct fake_stream *f = data;
        free(f->path);
        f->path = xstrdup(path);
        static const char not_found[] = "{\"message\":\"URI not found: /v2/events\"}";
        if (f->open_status)
                return cli_http_error(f->open_status, not_found, strlen(not_found), err);
        f->opened = true;
        *ret = (struct cli_stream *)f;
        return 0;
}

static int fake_read(struct cli_stream *s, int timeout_ms, cli_stream_bytes_cb cb, void *userdata,
                     struct err *err) {
        struct fake_stream *f = (struct fake_stream *)s;
        assert_true(timeout_ms > 0);
        /* bytes due within the timeout arrive then (the clock moves to them) */
        if (f->next < f->n && f->chunks[f->next].at_ms <= f->now_ms + timeout_ms) {
                f->now_ms = MAX(f->now_ms, f->chunks[f->next].at_ms);
                const char *b = f->chunks[f->next++].bytes;
                return cb(b, strlen(b), userdata);
        }
        if (f->next == f->n && f->close_at_end)
                return 1;
        f->now_ms += timeout_ms; /* nothing came */
        return 0;
}

static void fake_close(struct cli_stream *s) {
        if (s)
                ((struct fake_stream *)s)->closed = true;
}

static const struct cli_stream_ops fake_stream_ops = {
        .now_ms = fake_now, .sleep_ms = fake_sleep, .open = fake_open, .read = fake_read, .close = fake_close,
};

/* What one command line did. */
struct run {
        int code;
        char *out;   /* standard output */
        char *error; /* the line after "strata: ", or NULL on success */
};

_unused_ static void run_release(struct run *r) {
        free(r->out);
        free(r->error);
        *r = (struct run){ 0 };
}

/* Runs argv (NULL-terminated, without argv[0]) against the script, with stdin as standard
 * input (may be NULL). Every scripted exchange must have happened. */
_unused_ static struct run run_cli_in(struct exchange *script, size_t n, const char *stdin_text,
                                      char **argv) {
        struct fake f = { script, n, 0 };
        struct run r = { 0 };
        size_t out_len = 0;
        int argc = 1;
        char *full[64] = { "strata" };
        for (; argv[argc - 1]; argc++) {
                assert_true(argc < 63);
                full[argc] = argv[argc - 1];
        }
        full[argc] = NULL;

        struct cli c = { 0 };
        c.out = open_memstream(&r.out, &out_len);
        c.in = stdin_text ? fmemopen((void *)stdin_text, strlen(stdin_text), "r") : NULL;
        c.http.send = fake_send;
        c.http.data = &f;
        struct fake_stream no_stream = { .open_status = 404 };
        c.stream_ops = &fake_stream_ops;
        c.stream_data = next_stream ? next_stream : &no_stream;
        c.tty = next_tty;
        next_stream = NULL;
        next_tty = false;
        struct err e = { 0 };
        r.code = cli_run(&c, argc, full, "http://master.test:8080", &e);
        fclose(c.out);
        if (c.in)
                fclose(c.in);
        free(no_stream.path);
        if (r.code != 0)
                r.error = xstrdup(err_msg(&e));
        err_release(&e);
        assert_int_equal(f.next, f.n); /* every scripted exchange happened */
        return r;
}

#define ARGS(...) ((char *[]){ __VA_ARGS__, NULL })
#define run_cli(script, ...)                                                                                 \
        run_cli_in((script), sizeof(script) / sizeof((script)[0]), NULL, ARGS(__VA_ARGS__))
#define run_cli_none(...) run_cli_in(NULL, 0, NULL, ARGS(__VA_ARGS__))

_unused_ static void exchanges_release(struct exchange *x, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(x[i].sent);
                x[i].sent = NULL;
        }
}
