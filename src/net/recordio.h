/* recordio.h — Mesos RecordIO framing: each record is "<decimal length>\n<bytes>".
 *
 * The decoder takes arbitrary chunks of a stream from an untrusted peer and yields whole records;
 * a record longer than max_record or a malformed length ends the stream with an error. */
#pragma once

#include <stddef.h>

#include "common/err.h"
#include "common/strbuf.h"

struct recordio {
        struct strbuf buf;
        size_t off;
        size_t max_record;
};

void recordio_init(struct recordio *r, size_t max_record);
void recordio_release(struct recordio *r);
/* Appends a chunk and calls cb for every complete record (data not NUL-terminated beyond len;
 * it is NUL-terminated in fact, for convenience). cb returning non-zero stops decoding and is
 * returned. Returns 0, the callback's value, or -EBADMSG with err for a malformed stream. */
int recordio_feed(struct recordio *r, const char *chunk, size_t len,
                  int (*cb)(const char *data, size_t len, void *userdata), void *userdata, struct err *err);
/* Appends one encoded record to out. */
void recordio_encode(struct strbuf *out, const char *data, size_t len);
