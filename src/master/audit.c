/* audit.c — the audit trail: one JSON line per write or denial, and its tail over the API. */
#include "master/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/auth_internal.h"
#include "master/master_internal.h"

#define TAIL_BYTES (1024 * 1024)
#define MAX_LIMIT 10000

void audit_open(struct master *m) {
        _cleanup_free_ char *path = xasprintf("%s/audit.log", m->cfg.data_dir);
        m->auth->audit_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (m->auth->audit_fd < 0)
                log_warn("cannot open the audit log '%s': %m (no audit trail)", path);
}

void audit_close(struct master *m) {
        if (m->auth && m->auth->audit_fd >= 0) {
                close(m->auth->audit_fd);
                m->auth->audit_fd = -1;
        }
}

void audit_record(struct api_call *call, int status) {
        struct master *m = call->m;
        if (!m->auth || m->auth->audit_fd < 0)
                return;
        char ts[25];
        time_format_ms(time_now_ms(), ts);
        const char *query = http_request_query(call->req);
        json_t *line = json_pack("{s:s,s:s?,s:s?,s:s,s:s,s:i,s:s}", "ts", ts, "uid", call->who ? call->who->uid : NULL,
                                 "from", http_request_peer(call->req), "method", http_request_method(call->req),
                                 "path", http_request_path(call->req), "status", status, "result",
                                 status == 401 || status == 403 ? "denied" : status < 400 ? "allowed" : "failed");
        if (query && *query)
                json_object_set_new(line, "query", json_string(query));
        _cleanup_free_ char *text = json_compact(line);
        json_decref(line);
        _cleanup_free_ char *l = xasprintf("%s\n", text);
        if (write(m->auth->audit_fd, l, strlen(l)) < 0 && !m->auth->audit_warned) {
                log_warn("audit log write failed: %m");
                m->auth->audit_warned = true;
        }
}

/* GET /v1/audit?limit=N → {"entries": [newest last]} */
void api_audit(struct api_call *call) {
        const char *lim = http_request_arg(call->req, "limit");
        long limit = lim ? strtol(lim, NULL, 10) : 100;
        if (limit <= 0 || limit > MAX_LIMIT)
                limit = limit <= 0 ? 100 : MAX_LIMIT;
        _cleanup_free_ char *path = xasprintf("%s/audit.log", call->m->cfg.data_dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        json_t *entries = json_array();
        if (fd >= 0) {
                struct stat st;
                if (fstat(fd, &st) == 0) {
                        off_t from = st.st_size > TAIL_BYTES ? st.st_size - TAIL_BYTES : 0;
                        size_t n = (size_t)(st.st_size - from);
                        char *buf = xmalloc(n + 1);
                        ssize_t got = pread(fd, buf, n, from);
                        buf[got > 0 ? got : 0] = 0;
                        /* the newest `limit` complete lines */
                        char *end = buf + (got > 0 ? got : 0);
                        char *start = end;
                        long count = 0;
                        while (start > buf && count <= limit) {
                                start--;
                                if (*start == '\n' && start + 1 < end)
                                        count++;
                        }
                        if (count > limit || (from > 0 && start == buf)) {
                                char *nl = strchr(start, '\n');
                                start = nl ? nl + 1 : end;
                        }
                        for (char *p = start; p < end;) {
                                char *nl = memchr(p, '\n', (size_t)(end - p));
                                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                                json_t *j = json_loadb(p, len, 0, NULL);
                                if (j)
                                        json_array_append_new(entries, j);
                                p += len + 1;
                        }
                        free(buf);
                }
                close(fd);
        }
        while (json_array_size(entries) > (size_t)limit)
                json_array_remove(entries, 0);
        api_reply_json(call, 200, json_pack("{s:o}", "entries", entries));
}
