/* fuzz_label_selector.c — label selectors (GET /v2/apps?label=) and ISO timestamps (version
 * paths) come straight from URLs: neither parser may crash, hang or leak on any input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "master/label_selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = 0;

        struct label_selector *sel = NULL;
        struct err e = { 0 };
        if (label_selector_parse(text, &sel, &e) == 0) {
                json_t *labels = json_pack("{s:s,s:s}", "env", "prod", "a", "");
                (void)label_selector_match(sel, labels);
                json_decref(labels);
                label_selector_free(sel);
        }
        err_release(&e);

        int64_t ms;
        if (time_parse_iso(text, &ms) == 0) {
                char buf[25];
                time_format_ms(ms, buf);
        }
        free(text);
        return 0;
}
