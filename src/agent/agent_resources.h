/* agent_resources.h — what an agent offers: Mesos-syntax --resources/--attributes, or detection. */
#pragma once

#include <jansson.h>

#include "common/err.h"

/* Parses "cpus:4;mem:8192;disk:20000;gpus:1;ports:[31000-32000,33000-33100]" into
 * {"cpus":4,"mem":8192,"disk":20000,"gpus":1,"ports":[[31000,32000],[33000,33100]]}.
 * Missing kinds are detected (see agent_resources_detect). -EINVAL with a message on bad input. */
int agent_resources_parse(const char *text, const char *data_dir, json_t **ret, struct err *err);
/* Detects CPUs (online), memory (MemTotal less 1 GiB or 20%, whichever is smaller), disk (free
 * space of data_dir), GPUs (/dev/nvidia[0-9]*) and the default ports 31000–32000. */
json_t *agent_resources_detect(const char *data_dir);
/* Parses "rack:r1;zone:a" into {"rack":"r1","zone":"a"}. -EINVAL on bad input. */
int agent_attributes_parse(const char *text, json_t **ret, struct err *err);
