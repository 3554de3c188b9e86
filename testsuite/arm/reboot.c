/*
 * PSCI SYSTEM_RESET without -no-reboot: a real machine reset. The first boot changes state
 * everywhere a reset must restore it (the program's own .data, core 0's CP15 state, the
 * GIC distributor, the UART's interrupt mask), starts every other core spinning on a counter,
 * and resets. The second boot, told apart by a word in RAM that no image covers (RAM keeps its
 * contents across a reset; the images are put back), checks that all of it came back as at
 * power-on and that the other cores are off and stay off. Run with -smp 4.
 */
#include "test.h"

/* RAM + 64 MiB: above the program, below the device tree that the board places at the top
 * of the default 128 MiB. */
#define PERSIST ((volatile uint32_t *)0x44000000u)
#define PERSIST_MAGIC 0x7e5e7b00u
#define P_MAGIC 0
#define P_BOOTS 1
#define P_SPINS 2 /* incremented by every secondary core, forever */
#define P_STARTED 3

#define GICD_CTLR ((volatile uint32_t *)0x08000000u)
#define GICD_ISENABLER1 ((volatile uint32_t *)0x08000104u) /* SPIs 32-63 */
#define UART_IMSC ((volatile uint32_t *)0x09000038u)

#define TPIDRURW_MARK 0x1234abcdu

static volatile uint32_t data_word = 0x5a5a1234u; /* .data: the image restores it */
static volatile uint32_t bss_word;                /* .bss: start.S zeroes it on every boot */

static inline uint32_t read_tpidrurw(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c13, c0, 2" : "=r"(v));
    return v;
}

static inline void write_tpidrurw(uint32_t v)
{
    __asm__ volatile("mcr p15, 0, %0, c13, c0, 2" ::"r"(v));
}

void secondary_main(uint32_t arg)
{
    (void)arg;
    atomic_add(&PERSIST[P_STARTED], 1);
    for (;;) {
        atomic_add(&PERSIST[P_SPINS], 1);
    }
}

static void first_boot(void)
{
    PERSIST[P_MAGIC] = PERSIST_MAGIC;
    PERSIST[P_BOOTS] = 1;
    PERSIST[P_SPINS] = 0;
    PERSIST[P_STARTED] = 0;
    dsb();
    test_check_eq("reboot: .data as loaded on the first boot", data_word, 0x5a5a1234u);
    data_word = 0xdeadbeefu;
    bss_word = 0xfeedu;

    unsigned ncores = 1;
    for (unsigned i = 1; i < TEST_MAX_CORES; i++) {
        if (test_start_core(i, i) != PSCI_SUCCESS) {
            break;
        }
        ncores++;
    }
    while (PERSIST[P_STARTED] != ncores - 1) {
        __asm__ volatile("yield");
    }
    tprintf("cores: %u\n", ncores);

    *GICD_CTLR = 1;
    *GICD_ISENABLER1 = 1u << 1; /* SPI 1, the UART's */
    *UART_IMSC = 0x10;          /* RXIM */
    write_tpidrurw(TPIDRURW_MARK);
    test_check_eq("reboot: GIC distributor enabled before the reset", *GICD_CTLR, 1);
    test_check_eq("reboot: TPIDRURW set before the reset", read_tpidrurw(), TPIDRURW_MARK);
    test_pass("reboot: first boot, resetting");
    psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
    test_fail("reboot: SYSTEM_RESET returned", "the machine is still running");
    for (;;) {
        __asm__ volatile("wfi");
    }
}

static void second_boot(void)
{
    PERSIST[P_BOOTS] = 2;
    test_pass("reboot: second boot");
    test_check_eq("reboot: .data restored from the image", data_word, 0x5a5a1234u);
    test_check_eq("reboot: .bss zero again", bss_word, 0);
    test_check_eq("reboot: core 0 has MPIDR Aff0 0", read_mpidr() & 0xff, 0);
    test_check_eq("reboot: TPIDRURW back to its reset value", read_tpidrurw(), 0);
    test_check_eq("reboot: GICD_CTLR back to 0", *GICD_CTLR, 0);
    test_check_eq("reboot: GICD_ISENABLER1 back to 0", *GICD_ISENABLER1, 0);
    test_check_eq("reboot: UART IMSC back to 0", *UART_IMSC, 0);

    bool all_off = true;
    for (unsigned i = 1; i < TEST_MAX_CORES; i++) {
        int32_t state = psci_call(PSCI_AFFINITY_INFO, i, 0, 0);
        if (state == PSCI_INVALID_PARAMETERS) {
            break;
        }
        if (state != 1) {
            test_fail("reboot: other cores off after the reset", "core %u: AFFINITY_INFO %d", i,
                      state);
            all_off = false;
        }
    }
    if (all_off) {
        test_pass("reboot: other cores off after the reset");
    }
    uint32_t before = PERSIST[P_SPINS];
    for (volatile uint32_t n = 0; n < 2000000u; n++) {
    }
    test_check_eq("reboot: other cores run no more", PERSIST[P_SPINS] - before, 0);
    /* And they can be started again. */
    test_check_eq("reboot: CPU_ON of core 1 after the reset", (uint32_t)test_start_core(1, 1),
                  (uint32_t)PSCI_SUCCESS);
    while (PERSIST[P_STARTED] == 0) {
        __asm__ volatile("yield");
    }
    test_pass("reboot: core 1 started again");
}

int main(void)
{
    if (PERSIST[P_MAGIC] != PERSIST_MAGIC) {
        first_boot();
    } else if (PERSIST[P_BOOTS] == 1) {
        PERSIST[P_STARTED] = 0;
        second_boot();
    } else {
        test_fail("reboot: booted a third time", "boot count %u", PERSIST[P_BOOTS]);
    }
    return 0; /* SYSTEM_OFF */
}
