/*
 * PSCI SYSTEM_RESET under -no-reboot: the emulator must exit (status 0) instead of resetting
 * (reboot.c tests the reset itself).
 * The harness runs this with -no-reboot; a reset that returns, or that restarts the program
 * (which would print the PASS line again and loop), is a failure.
 */
#include "test.h"

int main(void)
{
    static volatile uint32_t runs; /* in .bss: a restart that reloads the image clears it */
    runs++;
    test_check(runs == 1, "reset: first run", "the program ran %u times", runs);
    test_pass("reset: SYSTEM_RESET is called");
    psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
    test_fail("reset: SYSTEM_RESET returned", "the machine is still running");
    return 0;
}
