/* fuzz_sse.c — `--wait` parses the master's event stream with this; a hostile or broken master
 * must not crash, hang or leak it, whatever chunking the bytes arrive in. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/sse.h"

static int on_event(const char *event, const char *data, size_t len, void *userdata) {
        /* what the wait does with an event: parse its data as JSON and read the id */
        if (data[len] != 0) /* NUL-terminated at len (the stream may hold NULs before) */
                __builtin_trap();
        json_t *j = json_loadb(data, len, 0, NULL);
        (void)json_string_value(json_object_get(j, "id"));
        json_decref(j);
        (*(size_t *)userdata)++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sse_parser p;
        sse_parser_init(&p, 4096);
        struct err e = { 0 };
        size_t events = 0;
        /* First byte picks the chunk size, so every split point gets exercised. */
        size_t chunk = size ? (data[0] % 17) + 1 : 1;
        for (size_t off = size ? 1 : 0; off < size; off += chunk) {
                size_t n = size - off < chunk ? size - off : chunk;
                if (sse_parser_feed(&p, (const char *)data + off, n, on_event, &events, &e) < 0)
                        break;
        }
        err_release(&e);
        sse_parser_release(&p);
        return 0;
}
