// libFuzzer's driver, called from each target's entry point. SwiftPM links an executable's entry point as
// <Module>_main (and defines `main` as that symbol), so libFuzzer's own `main` is not used: each target defines
// <Module>_main itself and hands control to this function, which parses libFuzzer's flags and runs the loop.
#ifndef C_FUZZER_DRIVER_H
#define C_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
