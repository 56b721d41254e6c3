/* fuzz_image_manifest.c — manifests, image indexes and image configs come from registries:
 * neither parser may crash, hang or leak on any input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct manifest m = {0};
        struct err e = {0};
        if (manifest_parse((const char *)data, size, NULL, "linux", "amd64", &m, &e) == 0)
                manifest_release(&m);
        err_release(&e);
        if (manifest_parse((const char *)data, size, "application/vnd.oci.image.index.v1+json", "linux",
                           "amd64", &m, &e) == 0)
                manifest_release(&m);
        err_release(&e);
        json_t *cfg = NULL;
        if (image_config_parse((const char *)data, size, &cfg, &e) == 0)
                json_decref(cfg);
        err_release(&e);
        return 0;
}
