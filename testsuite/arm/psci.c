/*
 * PSCI as the virt board's firmware provides it (DEN0022, PSCI 1.0 over HVC), seen from core
 * 0 of a machine with at least two cores; core 1 is left off. Checks version and features, the
 * error codes of CPU_ON and AFFINITY_INFO, and unknown function ids. (CPU_SUSPEND waits for an
 * interrupt, which needs the GIC; SYSTEM_RESET has its own test.)
 */
#include "test.h"

#define UNKNOWN_SMC32 0x8400001fu /* in the PSCI range, not allocated */
#define CPU_ON_SMC64 0xc4000003u  /* SMC64 ids do not exist for an AArch32 caller */

void secondary_main(uint32_t arg)
{
    test_fail("psci: core 1 must not start", "it did, with context 0x%x", arg);
}

int main(void)
{
    /* coremu implements 1.0; any 1.x is compatible (QEMU, the reference, says 1.1). */
    test_check_eq("psci: PSCI_VERSION is 1.x", (uint32_t)psci_call(PSCI_VERSION, 0, 0, 0) >> 16,
                  1);
    test_check_eq("psci: PSCI_FEATURES(CPU_ON)", (uint32_t)psci_call(PSCI_FEATURES, PSCI_CPU_ON,
                                                                     0, 0), 0);
    test_check_eq("psci: PSCI_FEATURES(SYSTEM_OFF)",
                  (uint32_t)psci_call(PSCI_FEATURES, PSCI_SYSTEM_OFF, 0, 0), 0);
    test_check_eq("psci: PSCI_FEATURES(MIGRATE) is NOT_SUPPORTED",
                  (uint32_t)psci_call(PSCI_FEATURES, PSCI_MIGRATE, 0, 0),
                  (uint32_t)PSCI_NOT_SUPPORTED);
    test_check_eq("psci: PSCI_FEATURES(unknown id) is NOT_SUPPORTED",
                  (uint32_t)psci_call(PSCI_FEATURES, UNKNOWN_SMC32, 0, 0),
                  (uint32_t)PSCI_NOT_SUPPORTED);
    test_check_eq("psci: unknown function id", (uint32_t)psci_call(UNKNOWN_SMC32, 0, 0, 0),
                  (uint32_t)PSCI_NOT_SUPPORTED);
    test_check_eq("psci: SMC64 function id", (uint32_t)psci_call(CPU_ON_SMC64, 1, 0, 0),
                  (uint32_t)PSCI_NOT_SUPPORTED);
    test_check_eq("psci: MIGRATE_INFO_TYPE", (uint32_t)psci_call(PSCI_MIGRATE_INFO_TYPE, 0, 0, 0),
                  2);

    uint32_t self = read_mpidr();
    test_check_eq("psci: core 0 has MPIDR Aff0 0", self & 0xff, 0);
    test_check_eq("psci: CPU_ON of the calling core is ALREADY_ON",
                  (uint32_t)test_start_core(0, 0), (uint32_t)PSCI_ALREADY_ON);
    test_check_eq("psci: CPU_ON of a core that does not exist",
                  (uint32_t)test_start_core(TEST_MAX_CORES, 0),
                  (uint32_t)PSCI_INVALID_PARAMETERS);
    test_check_eq("psci: CPU_ON of a core in another cluster",
                  (uint32_t)psci_cpu_on(0x101, (uintptr_t)_secondary_start, 0),
                  (uint32_t)PSCI_INVALID_PARAMETERS);
    test_check_eq("psci: AFFINITY_INFO of the calling core is ON",
                  (uint32_t)psci_call(PSCI_AFFINITY_INFO, self & 0xffffff, 0, 0), 0);
    test_check_eq("psci: AFFINITY_INFO of core 1 is OFF",
                  (uint32_t)psci_call(PSCI_AFFINITY_INFO, 1, 0, 0), 1);
    test_check_eq("psci: AFFINITY_INFO of a core that does not exist",
                  (uint32_t)psci_call(PSCI_AFFINITY_INFO, TEST_MAX_CORES, 0, 0),
                  (uint32_t)PSCI_INVALID_PARAMETERS);
    /* Last, because an implementation that starts core 1 anyway loses it: DEN0022 makes this
     * check optional ("known by the implementation to be invalid"); coremu makes it (QEMU does
     * not). 0x30000000 is a hole in the virt memory map. */
    test_check_eq("psci: CPU_ON with an entry point outside memory",
                  (uint32_t)psci_cpu_on(1, 0x30000000u, 0), (uint32_t)PSCI_INVALID_ADDRESS);
    return 0;
}
