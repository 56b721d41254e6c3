/* auth_tokens.c — the per-user token file of the CLI (and of `strata dev`, which writes its admin's). */
#include "common/auth_tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/macro.h"
#include "common/util.h"

#define MAX_FILE (1024 * 1024)

const char *auth_tokens_path(void) {
        static char path[PATH_MAX];
        const char *env = getenv("STRATA_CONFIG");
        const char *xdg = getenv("XDG_CONFIG_HOME");
        const char *home = getenv("HOME");
        if (env && *env)
                snprintf(path, sizeof path, "%s", env);
        else if (xdg && *xdg)
                snprintf(path, sizeof path, "%s/strata/auth.json", xdg);
        else
                snprintf(path, sizeof path, "%s/.config/strata/auth.json", home && *home ? home : "/root");
        return path;
}

char *auth_tokens_normalize(const char *url) {
        const char *rest = url;
        if (strncmp(rest, "http://", 7) == 0)
                rest += 7;
        else if (strncmp(rest, "https://", 8) == 0)
                rest += 8;
        const char *scheme = strncmp(url, "https://", 8) == 0 ? "https" : "http";
        _cleanup_free_ char *hp = xstrdup(rest);
        size_t n = strlen(hp);
        while (n > 0 && hp[n - 1] == '/')
                hp[--n] = 0;
        char *slash = strchr(hp, '/');
        if (slash)
                *slash = 0;
        const char *colon = strrchr(hp, ':');
        const char *port = colon ? colon + 1 : "";
        _cleanup_free_ char *host = colon ? xstrndup(hp, (size_t)(colon - hp)) : xstrdup(hp);
        if (streq(host, "localhost") || streq(host, "0.0.0.0") || streq(host, "[::1]") || streq(host, "[::]") ||
            streq(host, ""))
                return xasprintf("%s://127.0.0.1%s%s", scheme, *port ? ":" : "", port);
        return xasprintf("%s://%s%s%s", scheme, host, *port ? ":" : "", port);
}

static json_t *load(const char *path) {
        char *text = NULL;
        size_t n;
        struct err e = {0};
        if (file_read_all(path, MAX_FILE, &text, &n, &e) < 0) {
                err_release(&e);
                return json_pack("{s:{}}", "tokens");
        }
        json_t *doc = json_loadb(text, n, 0, NULL);
        free(text);
        if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "tokens"))) {
                json_decref(doc);
                return json_pack("{s:{}}", "tokens");
        }
        return doc;
}

char *auth_tokens_get(const char *url) {
        _cleanup_free_ char *key = auth_tokens_normalize(url);
        _cleanup_(json_decrefp) json_t *doc = load(auth_tokens_path());
        const char *t = json_string_value(json_object_get(json_object_get(doc, "tokens"), key));
        return t ? xstrdup(t) : NULL;
}

/* The file's directory (the file itself is 0600; that is what keeps the tokens private). */
static int make_dir(const char *path, struct err *err) {
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = 0;
        return mkdir_p(dir, err);
}

int auth_tokens_put(const char *url, const char *token, struct err *err) {
        const char *path = auth_tokens_path();
        int r = make_dir(path, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *lock_path = xasprintf("%s.lock", path);
        int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0)
                return err_set(err, -errno, "cannot open '%s': %m", lock_path);
        if (flock(lock, LOCK_EX) < 0) {
                r = err_set(err, -errno, "cannot lock '%s': %m", lock_path);
                close(lock);
                return r;
        }
        _cleanup_(json_decrefp) json_t *doc = load(path);
        _cleanup_free_ char *key = auth_tokens_normalize(url);
        json_t *tokens = json_object_get(doc, "tokens");
        if (token)
                json_object_set_new(tokens, key, json_string(token));
        else
                json_object_del(tokens, key);
        _cleanup_free_ char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        r = 0;
        if (fd < 0) {
                r = err_set(err, -errno, "cannot write '%s': %m", tmp);
        } else {
                size_t n = strlen(text);
                if (write(fd, text, n) != (ssize_t)n || fsync(fd) < 0)
                        r = err_set(err, -EIO, "cannot write '%s': %m", tmp);
                close(fd);
                if (r == 0 && rename(tmp, path) < 0)
                        r = err_set(err, -errno, "cannot replace '%s': %m", path);
                if (r < 0)
                        unlink(tmp);
        }
        close(lock); /* releases the lock */
        return r;
}
