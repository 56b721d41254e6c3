/* app_update.c — partial updates (PUT/PATCH), the rules an update must keep for resident apps, and
 * what counts as a scale rather than a restart. */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "model/app.h"
#include "model/app_internal.h"

/* Legacy update keys and the canonical keys they replace wholesale. */
static const struct {
        const char *legacy, *canonical;
} update_replaces[] = {
        {"ports", "portDefinitions"},
        {"uris", "fetch"},
        {"ipAddress", "networks"},
};

#define PV_RESOURCES_CHANGED                                                                       \
        "Services with persistent volumes configured may not change resource requirements. If you "  \
        "need to make this change, please create a new service."
#define PV_HOST_PORTS_CHANGED                                                                      \
        "Services with persistent volumes configured may not change host ports. If you need to make " \
        "this change, please create a new service."

/* The persistent volumes of a canonical app (borrowed references in a new array). */
static json_t *persistent_volumes(const json_t *app) {
        json_t *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(json_object_get(app, "container"), "volumes"), i, v)
                if (json_object_get(v, "persistent"))
                        json_array_append(out, v);
        return out;
}

/* Non-zero host ports, as Marathon's AppDefinition.hostPorts sees them: the port mappings' host
 * ports, else the port definitions' ports. */
static void host_ports(const json_t *app, json_t *out) {
        json_t *pm = json_object_get(json_object_get(app, "container"), "portMappings");
        bool mappings = json_array_size(pm) > 0;
        json_t *list = mappings ? pm : json_object_get(app, "portDefinitions");
        size_t i;
        json_t *el;
        json_array_foreach(list, i, el) {
                json_t *p = json_object_get(el, mappings ? "hostPort" : "port");
                if (p && json_int_or(p, 0) != 0)
                        json_array_append(out, p);
        }
}

static bool same_port_set(const json_t *a, const json_t *b) {
        size_t i, j;
        json_t *x, *y;
        json_array_foreach(a, i, x) {
                bool found = false;
                json_array_foreach(b, j, y)
                        found |= json_equal(x, y);
                if (!found)
                        return false;
        }
        json_array_foreach(b, i, x) {
                bool found = false;
                json_array_foreach(a, j, y)
                        found |= json_equal(x, y);
                if (!found)
                        return false;
        }
        return true;
}

/* Marathon's residentUpdateIsValid: a resident app keeps its volumes, resources and host ports. */
static void check_resident_update(const json_t *from, const json_t *to, struct verrs *v) {
        _cleanup_(json_decrefp) json_t *fv = persistent_volumes(from);
        _cleanup_(json_decrefp) json_t *tv = persistent_volumes(to);
        if (json_array_size(fv) == 0 && json_array_size(tv) == 0)
                return;

        bool same = json_array_size(fv) == json_array_size(tv);
        size_t i, j;
        json_t *a, *b;
        json_array_foreach(fv, i, a) {
                bool found = false;
                json_array_foreach(tv, j, b)
                        if (json_equal(json_object_get(a, "containerPath"), json_object_get(b, "containerPath")))
                                found = json_equal(a, b);
                same &= found;
        }
        if (!same)
                verr(v, "", "Persistent volumes can not be changed!");

        static const char *const resources[] = {"cpus", "mem", "disk", "gpus", "requirePorts"};
        for (i = 0; i < ELEMENTSOF(resources); i++)
                if (!json_equal(json_object_get(from, resources[i]), json_object_get(to, resources[i]))) {
                        _cleanup_free_ char *p = path_key("", resources[i]);
                        verr(v, p, PV_RESOURCES_CHANGED);
                }
        _cleanup_(json_decrefp) json_t *fp = json_array();
        _cleanup_(json_decrefp) json_t *tp = json_array();
        host_ports(from, fp);
        host_ports(to, tp);
        if (!same_port_set(fp, tp))
                verr(v, "", PV_HOST_PORTS_CHANGED);
        double moc = json_num(json_object_get(json_object_get(to, "upgradeStrategy"), "maximumOverCapacity"));
        if (moc != 0) {
                char got[32];
                app_format_double(moc, got);
                verr(v, "/upgradeStrategy/maximumOverCapacity", "got %s, expected 0.0", got);
        }
}

int app_apply_update(const json_t *current, const json_t *update, json_t **ret, struct err *err) {
        struct verrs v;
        int r;

        if (!json_is_object(update)) {
                verrs_init(&v);
                verr(&v, "", "error.expected.jsobject");
                r = verrs_fail(&v, err, -ERR_BAD_JSON, "Invalid JSON");
                verrs_release(&v);
                return r;
        }
        if (!json_is_object(current))
                return err_set(err, -EINVAL, "app_apply_update: the current app is not an object");

        _cleanup_(json_decrefp) json_t *merged = json_deep_copy(current);
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)update, k, val) {
                if (streq(k, "id") || streq(k, "version") || streq(k, "versionInfo"))
                        continue;
                json_object_set(merged, k, val);
        }
        /* A legacy key in the update replaces its canonical counterpart of the stored app. */
        for (size_t i = 0; i < ELEMENTSOF(update_replaces); i++)
                if (json_object_get(update, update_replaces[i].legacy) &&
                    !json_object_get(update, update_replaces[i].canonical))
                        json_object_del(merged, update_replaces[i].canonical);
        /* The same for the deprecated container fields: docker.network replaces networks,
         * docker.portMappings replaces container.portMappings of the new container. */
        json_t *uc = json_object_get(update, "container");
        json_t *ud = json_object_get(uc, "docker");
        if (json_is_object(ud) && json_object_get(ud, "network") && !json_object_get(update, "networks"))
                json_object_del(merged, "networks");
        json_t *out = NULL;
        r = app_normalize(merged, "/", &out, err);
        if (r < 0)
                return r;
        /* Like Marathon, ports the app held before and no longer names are handed out first to
         * its new zero service ports, so re-posting a definition keeps its ports. */
        app_reuse_service_ports(out, current);

        verrs_init(&v);
        check_resident_update(current, out, &v);
        if (verrs_any(&v)) {
                r = verrs_fail(&v, err, -ERR_INVALID, "Object is not valid");
                verrs_release(&v);
                json_decref(out);
                return r;
        }
        verrs_release(&v);
        *ret = out;
        return 0;
}

/* Members that do not change what runs. */
static bool ignored_for_scale(const char *k) {
        return streq(k, "instances") || streq(k, "version") || streq(k, "versionInfo");
}

bool app_is_scale_only(const json_t *a, const json_t *b) {
        const char *k;
        json_t *v;

        if (!json_is_object(a) || !json_is_object(b))
                return false;
        if (json_equal(json_object_get(a, "instances"), json_object_get(b, "instances")))
                return false;
        json_object_foreach((json_t *)a, k, v) {
                if (ignored_for_scale(k))
                        continue;
                json_t *w = json_object_get(b, k);
                if (!w || !json_equal(v, w))
                        return false;
        }
        json_object_foreach((json_t *)b, k, v)
                if (!ignored_for_scale(k) && !json_object_get(a, k))
                        return false;
        return true;
}
