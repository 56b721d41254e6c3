/* cli_http.c — JSON requests to the master over libcurl's easy interface, with Marathon errors
 * turned into one line. */
#include "cli/cli_http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/cli_auth.h"
#include "common/alloc.h"
#include "common/strbuf.h"

#define CLI_USER_AGENT "strata-cli/" CLI_VERSION
/* A message from the server longer than this is cut: the CLI prints one line. */
#define MAX_MESSAGE 2000

void http_reply_release(struct http_reply *r) {
        if (!r)
                return;
        free(r->body);
        free(r->deployment_id);
        json_decref(r->json);
        *r = (struct http_reply){ 0 };
}

int cli_http_init(struct cli_http *h, const char *url, struct err *err) {
        _cleanup_free_ char *base = NULL;
        const char *sep = strstr(url, "://");

        if (!sep)
                base = xasprintf("http://%s", url);
        else if ((sep - url == 4 && strncasecmp(url, "http", 4) == 0) ||
                 (sep - url == 5 && strncasecmp(url, "https", 5) == 0))
                base = xstrdup(url);
        else
                return err_set(err, -EINVAL,
                               "invalid master URL '%s': only http:// and https:// are supported", url);

        size_t host = (size_t)(strstr(base, "://") + 3 - base), n = strlen(base);
        while (n > host && base[n - 1] == '/')
                base[--n] = 0;
        if (base[host] == 0 || base[host] == '/' || strpbrk(base, " \t\r\n"))
                return err_set(err, -EINVAL, "invalid master URL '%s'", url);

        *h = (struct cli_http){
                .base = TAKE_PTR(base),
                .timeout_s = 60,
                .max_body = CLI_HTTP_MAX_BODY,
        };
        return 0;
}

void cli_http_release(struct cli_http *h) {
        if (!h)
                return;
        if (h->curl)
                curl_easy_cleanup(h->curl);
        free(h->base);
        *h = (struct cli_http){ 0 };
}

char *cli_url_escape(const char *s, bool keep_slash) {
        static const char hex[] = "0123456789ABCDEF";
        struct strbuf sb = { 0 };
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (isalnum(*p) || strchr("-._~", *p) || (keep_slash && *p == '/')) {
                        strbuf_append(&sb, p, 1);
                } else {
                        char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
                        strbuf_append(&sb, enc, 3);
                }
        }
        return strbuf_steal(&sb);
}

int cli_http_status_code(long status) {
        switch (status) {
        case 400:
                return -EINVAL;
        case 401:
        case 403:
                return -EACCES;
        case 404:
                return -ERR_NOT_FOUND;
        case 409:
                return -ERR_CONFLICT;
        case 413:
                return -ERR_TOO_LARGE;
        case 422:
                return -ERR_INVALID;
        case 503:
                return -ERR_NO_LEADER;
        default:
                return -EPROTO;
        }
}

/* "path: e1, e2" for one Marathon detail {"path","errors":[…]}; a bare string stays itself. */
static void append_detail(struct strbuf *sb, const json_t *d) {
        if (json_is_string(d)) {
                strbuf_puts(sb, json_string_value(d));
                return;
        }
        const char *path = json_string_value(json_object_get(d, "path"));
        const json_t *errors = json_object_get(d, "errors");
        if (path && *path) {
                strbuf_puts(sb, path);
                if (json_array_size(errors) > 0)
                        strbuf_puts(sb, ": ");
        }
        size_t i;
        const json_t *e;
        json_array_foreach(errors, i, e) {
                if (i > 0)
                        strbuf_puts(sb, ", ");
                if (json_is_string(e))
                        strbuf_puts(sb, json_string_value(e));
                else {
                        _cleanup_free_ char *s = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
                        strbuf_puts(sb, s ? s : "?");
                }
        }
}

/* One line: control characters become spaces, runs of spaces collapse, ends are trimmed. */
static char *one_line(const char *s, size_t max) {
        struct strbuf sb = { 0 };
        bool space = false;
        size_t shown = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f || *p == ' ') {
                        space = sb.len > 0;
                        continue;
                }
                if (shown >= max) {
                        strbuf_puts(&sb, "…");
                        break;
                }
                if (space)
                        strbuf_puts(&sb, " ");
                space = false;
                strbuf_append(&sb, p, 1);
                /* count characters, not UTF-8 continuation bytes */
                if ((*p & 0xc0) != 0x80)
                        shown++;
        }
        return strbuf_steal(&sb);
}

/* Marathon's advice speaks the API; a person at the CLI reads the CLI's words instead. */
static const struct {
        const char *api, *cli;
} advice[] = {
        { "Override with the option '?force=true'.", "Use --force to override." },
        { "Override with the option '?force=true'", "Use --force to override" },
        { "with force=true", "with --force" },
};

/* sb's text with each advice[].api replaced by its cli form, and "View details at
 * '/v2/deployments/ID'." by "See 'strata deployment list'." */
static void cli_words(struct strbuf *sb) {
        for (size_t i = 0; i < ELEMENTSOF(advice); i++) {
                char *at;
                while (sb->buf && (at = strstr(sb->buf, advice[i].api))) {
                        _cleanup_free_ char *rest = xstrdup(at + strlen(advice[i].api));
                        sb->len = (size_t)(at - sb->buf);
                        sb->buf[sb->len] = 0;
                        strbuf_printf(sb, "%s%s", advice[i].cli, rest);
                }
        }
        static const char view[] = "View details at '/v2/deployments/";
        char *at = sb->buf ? strstr(sb->buf, view) : NULL;
        char *end = at ? strstr(at + strlen(view), "'.") : NULL;
        if (at && end) {
                _cleanup_free_ char *rest = xstrdup(end + 2);
                sb->len = (size_t)(at - sb->buf);
                sb->buf[sb->len] = 0;
                strbuf_printf(sb, "See 'strata deployment list'.%s", rest);
        }
}

int cli_http_error(long status, const char *body, size_t len, struct err *err) {
        int code = cli_http_status_code(status);
        _cleanup_(json_decrefp) json_t *doc = json_loadb(body ? body : "", len, JSON_DECODE_ANY, NULL);
        const char *message = json_string_value(json_object_get(doc, "message"));
        struct strbuf sb = { 0 };

        if (message && *message) {
                strbuf_puts(&sb, message);
                const json_t *details = json_object_get(doc, "details");
                if (json_is_string(details) && *json_string_value(details)) {
                        strbuf_printf(&sb, ": %s", json_string_value(details));
                } else if (json_array_size(details) > 0) {
                        size_t i;
                        const json_t *d;
                        strbuf_puts(&sb, ": ");
                        json_array_foreach(details, i, d) {
                                if (i > 0)
                                        strbuf_puts(&sb, "; ");
                                append_detail(&sb, d);
                        }
                }
                cli_words(&sb);
                /* 409 "App is locked by one or more deployments": name them. */
                const json_t *deps = json_object_get(doc, "deployments");
                if (json_array_size(deps) > 0) {
                        size_t i;
                        const json_t *d;
                        strbuf_puts(&sb, " (deployments:");
                        json_array_foreach(deps, i, d) {
                                const char *id = json_string_value(json_object_get(d, "id"));
                                strbuf_printf(&sb, "%s %s", i > 0 ? "," : "", id ? id : "?");
                        }
                        strbuf_puts(&sb, ")");
                }
        } else {
                _cleanup_free_ char *text = xstrndup(body ? body : "", len);
                _cleanup_free_ char *line = one_line(text, 200);
                strbuf_printf(&sb, "master answered HTTP %ld%s%s", status, *line ? ": " : "", line);
        }

        _cleanup_free_ char *raw = strbuf_steal(&sb);
        _cleanup_free_ char *msg = one_line(raw, MAX_MESSAGE);
        return err_set(err, code, "%s", msg);
}

/* --- libcurl transport ----------------------------------------------------------------------- */

struct recv {
        struct strbuf body;
        size_t max;
        bool too_big;
        char *deployment_id;
};

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        struct recv *r = userdata;
        size_t len = size * n;
        if (r->body.len + len > r->max) {
                r->too_big = true;
                return 0; /* CURLE_WRITE_ERROR */
        }
        strbuf_append(&r->body, data, len);
        return len;
}

/* Headers of every response in a redirect chain pass here; a status line starts a new one, so
 * what is kept belongs to the final response. */
static size_t on_header(char *data, size_t size, size_t n, void *userdata) {
        struct recv *r = userdata;
        size_t len = size * n;
        static const char name[] = "Marathon-Deployment-Id:";

        if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                free(r->deployment_id);
                r->deployment_id = NULL;
                r->body.len = 0;
                return len;
        }
        if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
                const char *v = data + sizeof name - 1, *end = data + len;
                while (v < end && (*v == ' ' || *v == '\t'))
                        v++;
                while (end > v && isspace((unsigned char)end[-1]))
                        end--;
                free(r->deployment_id);
                r->deployment_id = xstrndup(v, (size_t)(end - v));
        }
        return len;
}

static void curl_slist_freep(struct curl_slist **l) {
        curl_slist_free_all(*l);
}

static int send_curl(struct cli_http *h, const char *method, const char *url, const char *body,
                     struct http_reply *ret, struct err *err) {
        static bool initialized;
        if (!initialized) {
                curl_global_init(CURL_GLOBAL_DEFAULT);
                initialized = true;
        }
        if (!h->curl)
                h->curl = curl_easy_init();
        if (!h->curl)
                return err_set(err, -ENOMEM, "cannot initialize libcurl");

        CURL *c = h->curl;
        curl_easy_reset(c); /* keeps the connection cache */
        struct recv r = { .max = h->max_body };
        _cleanup_(curl_slist_freep) struct curl_slist *headers = NULL;

        bool sends_body = body || !(streq(method, "GET") || streq(method, "DELETE") || streq(method, "HEAD"));
        headers = curl_slist_append(headers, "Accept: application/json");
        const char *auth = cli_auth_header(h->auth_base ? h->auth_base : h->base); /* cli_auth.h */
        if (auth)
                headers = curl_slist_append(headers, auth);
        if (sends_body) {
                headers = curl_slist_append(headers, "Content-Type: application/json");
                headers = curl_slist_append(headers, "Expect:");
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_USERAGENT, CLI_USER_AGENT);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        /* A follower may redirect (Marathon answers 307 to the leader); keep the method and body. */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        /* the token goes along to the leader a follower redirects to (another port: curl would drop it) */
        curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout_s);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
        if (sends_body) {
                /* a POST/PUT/PATCH without a body still says Content-Length: 0 */
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
                if (!streq(method, "POST"))
                        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        } else if (streq(method, "HEAD")) {
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (!streq(method, "GET")) {
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        }

        CURLcode rc = curl_easy_perform(c);
        /* The handle outlives this call (connection reuse): forget the locals it points to. */
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_off_t connect_us = 0;
        curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us);
        int r_code = 0;
        if (rc == CURLE_WRITE_ERROR && r.too_big)
                r_code = err_set(err, -EFBIG, "answer from master at %s is larger than %zu MiB", h->base,
                                 h->max_body >> 20);
        else if (rc == CURLE_OPERATION_TIMEDOUT && connect_us > 0)
                r_code = err_set(err, -ETIMEDOUT, "no answer from master at %s within %ld s: %s", h->base,
                                 h->timeout_s, curl_easy_strerror(rc));
        else if (rc != CURLE_OK)
                r_code = err_set(err, -EHOSTUNREACH, "cannot reach master at %s: %s", h->base,
                                 curl_easy_strerror(rc));
        if (r_code < 0) {
                strbuf_release(&r.body);
                free(r.deployment_id);
                return r_code;
        }

        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        ret->status = status;
        ret->body_len = r.body.len;
        ret->body = strbuf_steal(&r.body);
        ret->deployment_id = r.deployment_id;
        return 0;
}

int cli_http_call(struct cli_http *h, const char *method, const char *path, const json_t *body,
                  struct http_reply *ret, struct err *err) {
        _cleanup_free_ char *url = xasprintf("%s%s", h->base, path);
        _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        struct http_reply reply = { 0 };
        int r;

        r = (h->send ? h->send : send_curl)(h, method, url, text, &reply, err);
        if (r >= 0 && reply.status == 401 && cli_auth_refused(h->auth_base ? h->auth_base : h->base)) {
                http_reply_release(&reply); /* a stale token: cli_auth.h logged in again, once */
                r = (h->send ? h->send : send_curl)(h, method, url, text, &reply, err);
        }
        if (r < 0)
                return r;
        if (!reply.body)
                reply.body = xstrdup("");

        if (reply.status < 200 || reply.status > 299) {
                r = cli_http_error(reply.status, reply.body, reply.body_len, err);
                *ret = reply;
                return r;
        }
        if (reply.body_len > 0) {
                json_error_t jerr;
                reply.json = json_loadb(reply.body, reply.body_len, JSON_DECODE_ANY, &jerr);
                if (!reply.json) {
                        *ret = reply;
                        return err_set(err, -EBADMSG, "master sent invalid JSON for %s %s: line %d: %s",
                                       method, path, jerr.line, jerr.text);
                }
        }
        *ret = reply;
        return (int)reply.status;
}
