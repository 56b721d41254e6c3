/* task_id.c — parsing Marathon task ids (current and legacy forms). */
#include "model/task_id.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/alloc.h"

/* 8-4-4-4-12 hex digits. */
static bool is_uuid(const char *p, size_t n) {
        static const int groups[] = { 8, 4, 4, 4, 12 };
        if (n != 36)
                return false;
        for (size_t g = 0, i = 0; g < 5; g++) {
                for (int k = 0; k < groups[g]; k++, i++)
                        if (!isxdigit((unsigned char)p[i]))
                                return false;
                if (g < 4 && p[i++] != '-')
                        return false;
        }
        return true;
}

int task_id_parse(const char *id, char **ret_app, struct err *err) {
        size_t len = id ? strlen(id) : 0;
        if (len == 0 || len > 1024)
                return err_set(err, -EINVAL, "Invalid task id '%s'", id ? id : "");
        const char *app_end = NULL;
        const char *inst = strstr(id, ".instance-");
        if (inst && is_uuid(inst + 10, MIN(strlen(inst + 10), 36)) && strncmp(inst + 46, "._app", 5) == 0) {
                const char *rest = inst + 51;
                if (*rest == '.') {
                        for (rest++; isdigit((unsigned char)*rest); rest++)
                                ;
                }
                if (!*rest)
                        app_end = inst;
        }
        const char *m = strstr(id, ".marathon-");
        if (!app_end && m && is_uuid(m + 10, strlen(m + 10)))
                app_end = m;
        const char *dot = strrchr(id, '.');
        if (!app_end && dot && is_uuid(dot + 1, strlen(dot + 1)))
                app_end = dot;
        if (!app_end || app_end == id)
                return err_set(err, -EINVAL, "Invalid task id '%s'", id);
        char *app = xmalloc((size_t)(app_end - id) + 2);
        app[0] = '/';
        for (size_t i = 0; id + i < app_end; i++)
                app[i + 1] = id[i] == '_' ? '/' : id[i];
        app[app_end - id + 1] = 0;
        *ret_app = app;
        return 0;
}
