/* image_cmd.h — `strata image pull|list|rm|gc`: the agent's image store used in process, for
 * operators (pre-pulling, cleaning up) and tests. src/main.c dispatches argv[1] == "image" here
 * with argv shifted by one (argv[0] is "image"). */
#pragma once

int image_main(int argc, char **argv);
