/* fuzz_agent_event.c — agents (real and simulated) decode every record of their master's event
 * stream with agent_event_decode; a hostile or broken master must not crash or hang them. */
#include <stddef.h>
#include <stdint.h>

#include "agent/agent_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct agent_event ev;
        agent_event_init(&ev);
        struct err e = { 0 };
        if (agent_event_decode(&ev, (const char *)data, size, &e) == 0) {
                size_t pos = 0, n = 0;
                while (agent_event_next_id(&ev, &pos))
                        n++;
                if (n != ev.n_ids)
                        __builtin_trap();
        }
        err_release(&e);
        agent_event_release(&ev);
        return 0;
}
