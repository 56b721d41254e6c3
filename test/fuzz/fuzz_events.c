/* fuzz_events.c — GET /v2/events takes its Accept header and its event_type= values from the
 * client: neither the Accept check nor the filter may crash, hang or leak, and whatever the
 * filter accepted must frame into one well-formed SSE event. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/event_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = 0;

        (void)event_accept_ok(text);

        /* The rest as a query's values: "a&b&c" → event_type=a, event_type=b, … */
        struct event_filter f = { 0 };
        char *save = NULL;
        for (char *tok = strtok_r(text, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
                if (event_filter_add(&f, tok) < 0)
                        continue;
                if (!event_filter_accepts(&f, tok))
                        abort();
                json_t *fields = json_object();
                size_t len;
                char *frame = event_frame(tok, fields, 0, &len);
                /* exactly three CRLFs' worth of lines: "event:", "data:", blank */
                if (len < 4 || memcmp(frame + len - 4, "\r\n\r\n", 4) != 0 || strlen(frame) != len)
                        abort();
                size_t newlines = 0;
                for (size_t i = 0; i < len; i++)
                        newlines += frame[i] == '\n';
                if (newlines != 3)
                        abort();
                free(frame);
                json_decref(fields);
        }
        event_filter_release(&f);
        free(text);
        return 0;
}
