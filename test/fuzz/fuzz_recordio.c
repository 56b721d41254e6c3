/* fuzz_recordio.c — the agent decodes its master's event stream with this; a hostile or broken
 * peer must not crash, hang or leak it, whatever chunking the bytes arrive in. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "net/recordio.h"

static int on_record(const char *data, size_t len, void *userdata) {
        json_t *j = json_loadb(data, len, 0, NULL);
        json_decref(j);
        (*(size_t *)userdata)++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct recordio r;
        recordio_init(&r, 4096);
        struct err e = { 0 };
        size_t records = 0;
        /* First byte picks the chunk size, so every split point gets exercised. */
        size_t chunk = size ? (data[0] % 17) + 1 : 1;
        for (size_t off = size ? 1 : 0; off < size; off += chunk) {
                size_t n = size - off < chunk ? size - off : chunk;
                if (recordio_feed(&r, (const char *)data + off, n, on_record, &records, &e) < 0)
                        break;
        }
        err_release(&e);
        recordio_release(&r);
        return 0;
}
