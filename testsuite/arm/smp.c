/*
 * Several cores: core 0 starts every other core with PSCI CPU_ON (finding how many there are
 * by the INVALID_PARAMETERS answer past the last one), each prints its MPIDR, all of them
 * increment one shared counter with LDREX/STREX, and core 0 waits for them, then for each to
 * switch itself off (CPU_OFF, when secondary_main returns), before powering the machine off.
 * Run with any -smp from 1 to 8; the harness also checks the "cores: N" line.
 */
#include "test.h"

#define ITERATIONS 20000u
#define CONTEXT(i) (0xc0de0000u + (i))

static volatile uint32_t go;          /* core 0: every CPU_ON has been issued */
static volatile uint32_t checked_in;  /* LDREX/STREX: secondaries that finished their work */
static volatile uint32_t counter;     /* LDREX/STREX by every core, ITERATIONS each */
static volatile uint32_t seen_mpidr[TEST_MAX_CORES];
static volatile uint32_t seen_context[TEST_MAX_CORES];

void secondary_main(uint32_t context)
{
    uint32_t mpidr = read_mpidr();
    unsigned i = mpidr & 0xff;
    seen_mpidr[i] = mpidr;
    seen_context[i] = context;
    tprintf("core %u: MPIDR 0x%08x\n", i, mpidr);
    /* Stay on until core 0 has tried its second CPU_ON on every core, so that the answer
     * cannot be SUCCESS for a core that already ran and switched itself off. */
    while (go == 0) {
        __asm__ volatile("yield");
    }
    dmb();
    for (uint32_t n = 0; n < ITERATIONS; n++) {
        atomic_add(&counter, 1);
    }
    atomic_add(&checked_in, 1);
}

int main(void)
{
    unsigned ncores = 1;
    bool on_ok = true, again_ok = true;
    for (unsigned i = 1; i <= TEST_MAX_CORES; i++) {
        int32_t r = test_start_core(i, CONTEXT(i));
        if (r == PSCI_INVALID_PARAMETERS) {
            break;
        }
        if (r != PSCI_SUCCESS) {
            test_fail("smp: CPU_ON", "core %u: %d", i, r);
            on_ok = false;
            continue;
        }
        ncores++;
        /* The core is on or on its way: a second CPU_ON must be refused (DEN0022 5.6). QEMU
         * 7.2 answers SUCCESS here while its first start is still queued; coremu must not. */
        r = test_start_core(i, CONTEXT(i));
        if (r != PSCI_ALREADY_ON && r != PSCI_ON_PENDING) {
            test_fail("smp: CPU_ON of a started core is refused", "core %u: %d", i, r);
            again_ok = false;
        }
    }
    dmb();
    go = 1;
    tprintf("cores: %u\n", ncores);
    tprintf("core 0: MPIDR 0x%08x\n", read_mpidr());
    if (on_ok) {
        test_pass("smp: CPU_ON");
    }
    if (again_ok) {
        test_pass("smp: CPU_ON of a started core is refused");
    }

    for (uint32_t n = 0; n < ITERATIONS; n++) {
        atomic_add(&counter, 1);
    }
    while (checked_in != ncores - 1) {
        __asm__ volatile("yield");
    }
    dmb();

    bool ids_ok = true;
    for (unsigned i = 1; i < ncores; i++) {
        if ((seen_mpidr[i] & 0xffffff) != i) {
            test_fail("smp: each core has its own MPIDR", "core %u reads 0x%08x", i,
                      seen_mpidr[i]);
            ids_ok = false;
        }
        if (seen_context[i] != CONTEXT(i)) {
            test_fail("smp: CPU_ON passes the context id in r0", "core %u got 0x%08x", i,
                      seen_context[i]);
            ids_ok = false;
        }
    }
    if (ids_ok) {
        test_pass("smp: each core has its own MPIDR and context id");
    }
    test_check(counter == ncores * ITERATIONS, "smp: LDREX/STREX counter",
               "%u, expected %u", counter, ncores * ITERATIONS);

    /* Every secondary switches itself off once secondary_main returns. */
    for (unsigned i = 1; i < ncores; i++) {
        while (psci_call(PSCI_AFFINITY_INFO, i, 0, 0) != 1) {
            __asm__ volatile("yield");
        }
    }
    test_pass("smp: every other core switched itself off");
    test_check_eq("smp: AFFINITY_INFO of core 0 is ON",
                  (uint32_t)psci_call(PSCI_AFFINITY_INFO, 0, 0, 0), 0);
    return 0;
}
