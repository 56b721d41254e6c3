/* fsm_masters.c — the masters registry command: which HTTP address each Raft member serves on. */
#include <errno.h>

#include "store/state_internal.h"
#include "store/store_fsm.h"

/* {"type":"master_set","v":1,"raft_id":N,"raft_addr":"h:p","http_addr":"h:p"} → no result. */
int fsm_master_set(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        json_t *id = json_object_get(cmd, "raft_id");
        const char *raft_addr = json_string_value(json_object_get(cmd, "raft_addr"));
        const char *http_addr = json_string_value(json_object_get(cmd, "http_addr"));

        if (!json_is_integer(id) || json_integer_value(id) <= 0)
                return err_set(err, -EINVAL, "master_set: \"raft_id\" must be a positive integer");
        if (!raft_addr)
                return err_set(err, -EINVAL, "master_set: \"raft_addr\" missing");
        state_master_set(s, (uint64_t)json_integer_value(id), raft_addr, http_addr);
        return 0;
}
