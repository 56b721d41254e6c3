/* fuzz_lb_view.c — `strata lb` turns whatever a master answers for /v2/apps?embed=apps.tasks into
 * HAProxy's configuration: any JSON must neither crash it nor put a line break, comment or stray
 * directive from a label into that configuration. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_config.h"
#include "lb/lb_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *apps = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
        if (!apps)
                return 0;
        static const struct lb_options o = { .group = "*", .domain = "cluster", .http_port = 80 };
        static const struct lb_config_options co = { .admin_socket = "/run/x.sock", .http_port = 80,
                                                     .https_port = 443, .ssl_cert = "/c.pem" };
        json_t *view = lb_view_build(json_is_array(apps) ? apps : json_object_get(apps, "apps"), NULL, &o);
        struct lb_slots s;
        lb_slots_init(&s);
        struct strbuf cmds = { 0 };
        lb_slots_update(&s, view, &cmds);
        char *text = lb_config_render(view, &s, &co, true, NULL);
        /* every label-derived line is one HAProxy line: no control characters but '\n' */
        for (const char *p = text; *p; p++)
                if ((unsigned char)*p < 0x20 && *p != '\n')
                        __builtin_trap();
        for (const char *p = cmds.buf; p && *p; p++)
                if ((unsigned char)*p < 0x20 && *p != '\n')
                        __builtin_trap();
        free(text);
        strbuf_release(&cmds);
        lb_slots_release(&s);
        json_decref(view);
        json_decref(apps);
        return 0;
}
