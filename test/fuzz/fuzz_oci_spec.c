/* fuzz_oci_spec.c — an image's config and its /etc/passwd come from a registry: building a
 * container's config.json from them (user resolution included) must not crash, hang or leak.
 * Input: "<user>\n<passwd file>\n--\n<image config JSON>". */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/oci_spec.h"

static char rootfs[] = "/tmp/fuzz_oci_spec.XXXXXX";
static char passwd[300];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        if (!mkdtemp(rootfs))
                abort();
        char etc[300];
        snprintf(etc, sizeof etc, "%s/etc", rootfs);
        mkdir(etc, 0755);
        snprintf(passwd, sizeof passwd, "%s/etc/passwd", rootfs);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = 0;
        char *user = text;
        char *pw = strchr(text, '\n');
        char *json = NULL;
        if (pw) {
                *pw++ = 0;
                json = strstr(pw, "\n--\n");
                if (json) {
                        *json = 0;
                        json += 4;
                }
                FILE *f = fopen(passwd, "w");
                if (f) {
                        fputs(pw, f);
                        fclose(f);
                }
        }
        json_t *config = json ? json_loads(json, 0, NULL) : NULL;
        struct oci_spec_input in = {
                .task_id = "fuzz.instance-1",
                .rootfs = rootfs,
                .image_config = config,
                .user = *user ? user : NULL,
                .sandbox = "/sandbox",
                .cgroups_path = "/strata/fuzz",
        };
        json_t *spec = NULL;
        struct err e = { 0 };
        if (oci_spec_build(&in, &spec, &e) == 0)
                json_decref(spec);
        err_release(&e);
        json_decref(config);
        free(text);
        return 0;
}
