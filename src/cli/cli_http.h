/* cli_http.h — the CLI's HTTP client: one JSON request to the master at a time (libcurl easy).
 *
 * Every noun goes through cli_http_call(): it sends an optional JSON body, follows redirects
 * (keeping the method), bounds what it reads, parses the JSON answer and turns a non-2xx answer
 * into a one-line message from Marathon's error body:
 *
 *   422 {"message":"Object is not valid","details":[{"path":"/cpus","errors":["e1","e2"]}]}
 *       -> "Object is not valid: /cpus: e1, e2"      (details joined with "; ")
 *   400 {"message":"Invalid JSON","details":"parser says"}  -> "Invalid JSON: parser says"
 *   404 {"message":"App '/x' does not exist"}               -> "App '/x' does not exist"
 *   409 {"message":"App is locked …","deployments":[{"id":"d1"}]}
 *       -> "App is locked … (deployments: d1)"
 *   502 <html>… (not JSON)                                 -> "master answered HTTP 502: <html>…"
 *
 * The transport is a function pointer so that unit tests can answer with canned replies. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Largest answer the CLI reads; beyond it the call fails with a clear message. */
#define CLI_HTTP_MAX_BODY (64u << 20)

/* One answer as it came off the wire (plus, after cli_http_call, the parsed body). */
struct http_reply {
        long status;
        char *body; /* owned, NUL-terminated, may be empty */
        size_t body_len;
        char *deployment_id; /* Marathon-Deployment-Id of the final response; owned, may be NULL */
        json_t *json;        /* the body parsed (any JSON value), or NULL when the body is empty */
};

void http_reply_release(struct http_reply *r);

struct cli_http;

/* Performs one exchange: method on url (absolute) with an optional body (Content-Type
 * application/json). Fills status, body and deployment_id of *ret. Returns 0, or a negative code
 * with err saying why no answer came (network, size limit). */
typedef int (*cli_http_send_cb)(struct cli_http *h, const char *method, const char *url, const char *body,
                                struct http_reply *ret, struct err *err);

struct cli_http {
        char *base;            /* "http://host:port[/prefix]" without a trailing '/'; owned */
        long timeout_s;        /* whole exchange; 0 = no limit */
        size_t max_body;       /* largest answer read */
        cli_http_send_cb send; /* NULL: libcurl */
        void *data;            /* for a fake send */
        void *curl;            /* the CURL easy handle, created on first use, reused (keep-alive) */
        const char *auth_base; /* whose token to send (an agent's API: its master's); NULL: base's */
};

/* Sets up h for the master at url ("host:port" gets "http://"; trailing '/' dropped). Returns 0,
 * or -EINVAL with err naming the bad URL (a scheme other than http or https, no host). */
int cli_http_init(struct cli_http *h, const char *url, struct err *err);
/* Frees the base URL and the curl handle. */
void cli_http_release(struct cli_http *h);

/* Sends method path (absolute path with query, e.g. "/v2/apps?label=a%3Db") with body (NULL for
 * none) and fills *ret. Returns the HTTP status (200..299) on success; ret->json holds the parsed
 * answer. On failure returns a negative code and err holds one line:
 *   network:   "cannot reach master at http://h:p: Couldn't connect to server" (-EHOSTUNREACH)
 *   HTTP 4xx/5xx: Marathon's message (code from cli_http_status_code())
 *   2xx that is not JSON: "master sent invalid JSON: …" (-EBADMSG)
 * *ret is filled in every case where an answer arrived (status, raw body), and must be released. */
int cli_http_call(struct cli_http *h, const char *method, const char *path, const json_t *body,
                  struct http_reply *ret, struct err *err);

/* Maps an HTTP error status to the project code the CLI returns (-ERR_NOT_FOUND for 404, …). */
int cli_http_status_code(long status);

/* Builds the one-line message for a non-2xx answer (see the table above) into err and returns
 * cli_http_status_code(status). Pure. */
int cli_http_error(long status, const char *body, size_t len, struct err *err);

/* Percent-encodes s for a URL. keep_slash keeps '/' (for paths such as app ids). Never NULL. */
char *cli_url_escape(const char *s, bool keep_slash);
