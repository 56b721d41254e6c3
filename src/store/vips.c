/* vips.c — named VIP allocations in the replicated state (vips.h). */
#include "store/vips.h"

#include <errno.h>

void vip_records_init(struct vip_records *v) {
        v->names = json_object();
        v->ips = json_object();
}

void vip_records_release(struct vip_records *v) {
        json_decref(v->names);
        json_decref(v->ips);
        v->names = v->ips = NULL;
}

json_t *vip_records_to_json(const struct vip_records *v) {
        return json_pack("{s:O}", "names", v->names);
}

int vip_records_from_json(struct vip_records *v, const json_t *doc, struct err *err) {
        if (!doc)
                return 0;
        const json_t *names = json_object_get(doc, "names");
        if (!json_is_object(names))
                return err_set(err, -EINVAL, "state: \"vips\" has no \"names\" object");
        json_t *ips = json_object();
        const char *name;
        json_t *ip;
        json_object_foreach((json_t *)names, name, ip) {
                if (!json_is_string(ip) || json_object_get(ips, json_string_value(ip))) {
                        json_decref(ips);
                        return err_set(err, -EINVAL, "state: vips['%s'] malformed or shared", name);
                }
                json_object_set_new(ips, json_string_value(ip), json_string(name));
        }
        json_decref(v->names);
        json_decref(v->ips);
        v->names = json_deep_copy(names);
        v->ips = ips;
        return 0;
}

const char *state_vip_address(const struct state *s, const char *name) {
        return name ? json_string_value(json_object_get(state_vip_names(s), name)) : NULL;
}
