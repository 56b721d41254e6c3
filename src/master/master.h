/* master.h — the master daemon: API, replicated state, leader duties. */
#pragma once

/* Runs `strata master …` or `strata dev …` (argv[0] is "master" or "dev"). Returns the exit code. */
int master_main(int argc, char **argv);
