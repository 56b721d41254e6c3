/* fuzz_pod.c — pod definitions arrive in POST/PUT /v2/pods bodies. Normalising one must never
 * crash, hang or leak, and must keep its contract: errors carry Marathon's details, and a
 * canonical pod normalises to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/err.h"
#include "model/pod.h"

static void fail(const char *what) {
        (void)what;
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
        if (!in)
                return 0;
        json_t *pod = NULL;
        struct err e = { 0 };
        int r = pod_normalize(in, &pod, &e);
        if (r < 0) {
                if (r != -ERR_INVALID && r != -ERR_BAD_JSON)
                        fail("unexpected error code");
                if (pod)
                        fail("result on failure");
                if (json_is_object(in) && (!json_is_array(e.details) || json_array_size(e.details) == 0))
                        fail("error without details");
        } else {
                json_t *again = NULL;
                struct err e2 = { 0 };
                if (pod_normalize(pod, &again, &e2) < 0 || !json_equal(pod, again))
                        fail("a canonical pod does not normalise to itself");
                json_decref(again);
                err_release(&e2);
        }
        json_decref(pod);
        err_release(&e);
        json_decref(in);
        return 0;
}
