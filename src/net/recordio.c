/* recordio.c — RecordIO decoder and encoder. */
#include "net/recordio.h"

#include <errno.h>
#include <string.h>

void recordio_init(struct recordio *r, size_t max_record) {
        *r = (struct recordio){ .max_record = max_record ? max_record : 16 * 1024 * 1024 };
}

void recordio_release(struct recordio *r) {
        strbuf_release(&r->buf);
        r->off = 0;
}

int recordio_feed(struct recordio *r, const char *chunk, size_t len,
                  int (*cb)(const char *data, size_t len, void *userdata), void *userdata, struct err *err) {
        strbuf_append(&r->buf, chunk, len);
        for (;;) {
                const char *start = r->buf.buf + r->off;
                size_t avail = r->buf.len - r->off;
                const char *nl = memchr(start, '\n', avail);
                if (!nl) {
                        if (avail > 20)
                                return err_set(err, -EBADMSG, "record length line longer than 20 bytes");
                        break;
                }
                size_t n = 0;
                if (nl == start)
                        return err_set(err, -EBADMSG, "empty record length");
                for (const char *p = start; p < nl; p++) {
                        if (*p < '0' || *p > '9')
                                return err_set(err, -EBADMSG, "record length is not a decimal number");
                        n = n * 10 + (size_t)(*p - '0');
                        if (n > r->max_record)
                                return err_set(err, -EBADMSG, "record longer than %zu bytes", r->max_record);
                }
                size_t head = (size_t)(nl - start) + 1;
                if (avail - head < n)
                        break;
                /* NUL-terminate in place for the callback, restoring the byte after. */
                char *data = (char *)nl + 1;
                char saved = data[n];
                data[n] = 0;
                int rc = cb(data, n, userdata);
                data[n] = saved;
                r->off += head + n;
                if (rc)
                        return rc;
        }
        /* Compact once the consumed prefix dominates. */
        if (r->off > 0 && r->off * 2 >= r->buf.len) {
                memmove(r->buf.buf, r->buf.buf + r->off, r->buf.len - r->off);
                r->buf.len -= r->off;
                r->off = 0;
                r->buf.buf[r->buf.len] = 0;
        }
        return 0;
}

void recordio_encode(struct strbuf *out, const char *data, size_t len) {
        strbuf_printf(out, "%zu\n", len);
        strbuf_append(out, data, len);
}
