/*
 * coremu-system-arm — the ARMv7-A emulator binary.
 *
 * This file registers what the ARM architecture provides with the runtime and runs a machine.
 * The CPU core does not exist yet (it arrives with the ARM CPU work), so after validating the
 * command line the binary reports that no CPU is available for the requested machine and exits
 * with status 1, rather than pretending to run anything.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/coremu.h>

static const char *const arm_machines[] = {"virt", NULL};
static const char *const arm_machine_help[] = {
    "ARM virtual machine (GICv2, PL011, PL031, PSCI, virtio-mmio)",
    NULL,
};

static const struct coremu_binary_info arm_binary = {
    .name = "coremu-system-arm",
    .default_machine = "virt",
    .machines = arm_machines,
    .machine_help = arm_machine_help,
    .max_cpus = 8, /* GICv2 */
};

static bool arm_machine_known(const char *name)
{
    for (const char *const *m = arm_machines; *m != NULL; m++) {
        if (strcmp(*m, name) == 0) {
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    struct coremu_options opts;
    enum coremu_parse_result r = coremu_options_parse(&opts, &arm_binary, argc, argv);
    if (r != COREMU_PARSE_OK) {
        coremu_options_free(&opts);
        return r == COREMU_PARSE_EXIT ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    const char *machine = opts.machine != NULL ? opts.machine : arm_binary.default_machine;
    int status = EXIT_FAILURE;
    if (!arm_machine_known(machine)) {
        coremu_error("unsupported machine type '%s' (use -machine help to list them)", machine);
    } else {
        coremu_error("machine '%s': no CPU is available yet for this machine", machine);
    }
    coremu_options_free(&opts);
    return status;
}
