/* fsm_vips.c — the VIP allocation commands (vips.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "model/vip.h"
#include "store/store_fsm.h"
#include "store/vips.h"

int fsm_vip_alloc(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *cidr = json_string_value(json_object_get(cmd, "cidr"));
        const json_t *names = json_object_get(cmd, "names");
        uint32_t base, count;
        int r = vip_cidr_parse(cidr, &base, &count, err);
        if (r < 0)
                return r;
        if (!json_is_array(names))
                return err_set(err, -EINVAL, "vip_alloc: \"names\" must be an array");
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n) {
                struct vip_label l;
                char value[VIP_MAX_NAME + 8];
                if (!json_is_string(n) ||
                    snprintf(value, sizeof value, "%s:1", json_string_value(n)) >= (int)sizeof value ||
                    vip_parse(value, &l, NULL) < 0 || !l.name[0])
                        return err_set(err, -EINVAL, "vip_alloc: names[%zu] is not a VIP name", i);
        }
        /* Checked whole first: the command is atomic. Count what is free before allocating. */
        struct vip_records *v = state_vip_records(s);
        size_t want = 0;
        json_array_foreach(names, i, n)
                if (!json_object_get(v->names, json_string_value(n)))
                        want++;
        if (json_object_size(v->ips) + want > count)
                return err_set(err, -ENOSPC, "VIP CIDR %s is exhausted (%u addresses)", cidr, count);
        json_t *result = json_object();
        uint32_t next = 0;
        json_array_foreach(names, i, n) {
                const char *name = json_string_value(n);
                json_t *have = json_object_get(v->names, name);
                if (!have) {
                        char ip[INET_ADDRSTRLEN];
                        for (;; next++) {
                                uint32_t a = vip_cidr_at(base, next);
                                inet_ntop(AF_INET, &a, ip, sizeof ip);
                                if (!json_object_get(v->ips, ip))
                                        break;
                        }
                        json_object_set_new(v->names, name, json_string(ip));
                        json_object_set_new(v->ips, ip, json_string(name));
                        have = json_object_get(v->names, name);
                }
                json_object_set(result, name, have);
        }
        if (ret_result)
                *ret_result = result;
        else
                json_decref(result);
        return 0;
}

int fsm_vip_release(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const json_t *names = json_object_get(cmd, "names");
        if (!json_is_array(names))
                return err_set(err, -EINVAL, "vip_release: \"names\" must be an array");
        struct vip_records *v = state_vip_records(s);
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n) {
                const char *ip = json_string_value(json_object_get(v->names, json_string_value(n)));
                if (!ip)
                        continue;
                json_object_del(v->ips, ip);
                json_object_del(v->names, json_string_value(n));
        }
        return 0;
}
