/* fuzz_image_ref.c — image references (app definitions), WWW-Authenticate challenges and token
 * answers (registries), Docker config.json credentials (pullConfig secrets) and tar entry
 * names (layers): none of these parsers may crash, hang or leak on any input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image_ref.h"
#include "agent/image_store.h"
#include "agent/layer_unpack.h"
#include "agent/registry_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = 0;
        struct err e = {0};

        struct image_ref r = {0};
        if (image_ref_parse(text, &r, &e) == 0) {
                free(image_ref_canonical(&r));
                (void)image_ref_api_host(&r);
                (void)image_ref_host_is_loopback(r.host);
                image_ref_release(&r);
        }
        err_release(&e);

        struct auth_challenge c = {0};
        if (auth_challenge_parse(text, &c, &e) == 0)
                auth_challenge_release(&c);
        err_release(&e);

        char *tok = NULL;
        if (auth_token_from_json(text, size, &tok, &e) == 0)
                free(tok);
        err_release(&e);

        char *u = NULL, *p = NULL;
        if (image_auth_from_docker_config(text, "reg.example:5000", &u, &p, &e) == 0) {
                free(u);
                free(p);
        }
        err_release(&e);

        char *path = NULL;
        if (layer_entry_path(text, &path, &e) == 0)
                free(path);
        err_release(&e);

        char *dec = NULL;
        size_t n;
        if (base64_decode(text, &dec, &n) == 0)
                free(dec);
        free(text);
        return 0;
}
