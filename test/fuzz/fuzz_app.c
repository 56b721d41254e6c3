/* fuzz_app.c — app definitions arrive in request bodies: POST/PUT/PATCH /v2/apps and group
 * bodies. Normalising one, applying one as a partial update to a stored app, and the helpers the
 * state machine runs on the result must never crash, hang or leak, and must keep their
 * contracts (a canonical app normalises to itself; errors carry Marathon's details). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "model/app.h"

/* A stored canonical app with most parts present, as updates meet it. */
static const char current_src[] =
        "{\"id\":\"/shop/web\",\"cmd\":\"python3 -m http.server $PORT0\",\"instances\":2,\"cpus\":0.5,"
        "\"mem\":64,\"env\":{\"A\":\"1\"},\"labels\":{\"HAPROXY_GROUP\":\"external\"},"
        "\"portDefinitions\":[{\"port\":10000,\"name\":\"http\",\"protocol\":\"tcp\"}],"
        "\"healthChecks\":[{\"protocol\":\"HTTP\",\"path\":\"/\"}],"
        "\"constraints\":[[\"hostname\",\"UNIQUE\"]],\"version\":\"2020-01-01T00:00:00.000Z\"}";

static void fail(const char *what) {
        (void)what;
        abort();
}

static int port_count;

static void count_port(int port, void *data) {
        (void)data;
        if (port <= 0 || port > 65535)
                fail("service port out of range");
        port_count++;
}

static bool taken_even(int port, void *data) {
        (void)data;
        return port % 2 == 0;
}

/* The contracts every successful result must keep. */
static void check_canonical(json_t *app) {
        json_t *again = NULL;
        struct err e = {0};
        if (!json_is_object(app) || !json_is_string(json_object_get(app, "id")))
                fail("result is not an app");
        if (json_string_value(json_object_get(app, "id"))[0] != '/')
                fail("id is not absolute");
        if (app_normalize(app, "/", &again, &e) < 0 || !json_equal(app, again))
                fail("canonical app does not normalise to itself");
        if (app_is_scale_only(app, again))
                fail("an unchanged app is not a scale");
        json_decref(again);
        err_release(&e);

        port_count = 0;
        app_service_ports_foreach(app, count_port, NULL);
        if (app_assign_service_ports(app, 10000, 10100, taken_even, NULL, &e) == 0)
                app_service_ports_foreach(app, count_port, NULL);
        err_release(&e);
}

static void check_error(int r, const struct err *e) {
        if (r != -ERR_INVALID && r != -ERR_BAD_JSON)
                fail("unexpected error code");
        if (!e->msg)
                fail("error without a message");
        if (e->details && !json_is_array(e->details))
                fail("details are not an array");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_error_t je;
        json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
        if (!in)
                return 0;

        json_t *out = NULL;
        struct err e = {0};
        int r = app_normalize(in, "/", &out, &e);
        if (r == 0) {
                check_canonical(out);
                json_decref(out);
        } else {
                check_error(r, &e);
        }
        err_release(&e);

        out = NULL;
        r = app_normalize(in, "/shop", &out, &e);
        if (r == 0)
                json_decref(out);
        err_release(&e);

        json_t *current = json_loads(current_src, 0, NULL);
        json_t *canonical = NULL;
        if (app_normalize(current, "/", &canonical, &e) < 0)
                fail("fixture app is invalid");
        err_release(&e);
        out = NULL;
        r = app_apply_update(canonical, in, &out, &e);
        if (r == 0) {
                check_canonical(out);
                (void)app_is_scale_only(canonical, out);
                json_decref(out);
        } else {
                check_error(r, &e);
        }
        err_release(&e);

        if (json_is_string(in)) {
                char *id = NULL;
                if (app_id_resolve(json_string_value(in), "/shop", &id, &e) == 0) {
                        if (id[0] != '/')
                                fail("resolved id is not absolute");
                        free(id);
                }
                err_release(&e);
        }
        json_decref(canonical);
        json_decref(current);
        json_decref(in);
        return 0;
}
