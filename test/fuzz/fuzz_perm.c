/* fuzz_perm.c — permission strings arrive in grant requests (PUT /acs/api/v1/acls/<rid>/…) and
 * action lists in their paths: the parsers may not crash, hang or leak, and what parses matches. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/perm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = 0;
        struct perm p;
        struct err e = {0};
        if (perm_parse(text, &p, &e) == 0) {
                (void)perm_covers(&p, PERM_FULL, "dcos:service:marathon:marathon:services", "/prod/web", PERM_READ);
                (void)perm_covers(&p, PERM_READ, p.resource, p.path, PERM_READ);
                if (!perm_covers(&p, PERM_READ, p.resource, p.path, PERM_READ))
                        abort(); /* a grant covers its own resource and path */
                (void)perm_covers_some(&p, PERM_READ, "strata:cluster", PERM_READ);
                perm_release(&p);
        }
        (void)perm_actions_parse(text);
        err_release(&e);
        free(text);
        return 0;
}
