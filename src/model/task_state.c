/* task_state.c — names and classes of task states. */
#include "model/task_state.h"

#include <errno.h>
#include <string.h>

static const char *const names[] = {
#define TASK_STATE_NAME(n) #n,
        TASK_STATES(TASK_STATE_NAME)
#undef TASK_STATE_NAME
};

const char *task_state_to_string(enum task_state s) {
        if ((unsigned)s >= _TASK_STATE_MAX)
                return "TASK_UNKNOWN";
        return names[s];
}

int task_state_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (unsigned i = 0; i < _TASK_STATE_MAX; i++)
                if (strcmp(names[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}

bool task_state_is_terminal(enum task_state s) {
        switch (s) {
        case TASK_FINISHED:
        case TASK_FAILED:
        case TASK_KILLED:
        case TASK_ERROR:
        case TASK_LOST:
        case TASK_DROPPED:
        case TASK_GONE:
        case TASK_GONE_BY_OPERATOR:
                return true;
        default:
                return false;
        }
}

bool task_state_is_failure(enum task_state s) {
        switch (s) {
        case TASK_FINISHED:
        case TASK_FAILED:
        case TASK_ERROR:
        case TASK_LOST:
        case TASK_DROPPED:
                return true;
        default:
                return false;
        }
}
