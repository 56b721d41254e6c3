/* task_id.h — Marathon's task ids, current and legacy forms.
 *
 * | form                                   | since       | example                                   |
 * | <app>.instance-<uuid>._app[.<n>]       | Marathon 1.5| prod_web.instance-6c1d…._app              |
 * | <app>.marathon-<uuid>                  | 1.4         | prod_web.marathon-6c1d…                   |
 * | <app>.<uuid>                           | ≤ 1.3       | prod_web.6c1d…                            |
 * <app> is the app id without its leading '/', with '/' replaced by '_' (which is why '_' is
 * not allowed in app ids). */
#pragma once

#include "common/err.h"

/* Parses a task id in any of the forms above and returns the app id ("/prod/web") in *ret_app.
 * Returns 0, or -EINVAL with a message naming the id. */
int task_id_parse(const char *id, char **ret_app, struct err *err);
