/*
 * An INIT IPI to the bootstrap processor (Intel SDM Vol. 3A 8.4.1): after the MP initialisation
 * protocol, an INIT makes each processor look at its BSP flag; the BSP runs the firmware's
 * bootstrap code from the reset vector rather than waiting for a STARTUP IPI like an
 * application processor. On a PC whose CMOS holds no shutdown code (register 0x0F: 0) the
 * firmware then reboots the machine. baremetal.exp runs this program without -no-reboot:
 *   - first boot: a marker is left in RAM that the loader does not touch, the xAPIC page is
 *     moved to MOVED_BASE (so that the reset also has a moved page to put back), and the INIT
 *     goes by physical destination to the BSP's own APIC ID (the ICR's "self" shorthand is not
 *     valid for INIT). A BSP that goes on after it fails; one that waits for a STARTUP, which
 *     nobody sends, runs into the timeout;
 *   - second boot (the marker found): the machine came back through its reset, the local APIC
 *     in its power-up state: IA32_APIC_BASE at 0xFEE00000, the page answering there and not at
 *     MOVED_BASE.
 */
#include "test.h"

#define MSR_APIC_BASE 0x1b
#define DEFAULT_BASE  0xfee00000ull
#define MOVED_BASE    0xfef00000ull
#define R_ID          0x020
#define R_VERSION     0x030
#define R_SVR         0x0f0
#define R_ICR_LO      0x300
#define R_ICR_HI      0x310

/* Above the program and its page_alloc pages, below the 128 MiB both PCs have by default; RAM
 * keeps its contents across a reset (the loaders rewrite only the image). */
#define MARKER       ((volatile uint64_t *)0x3000000ull)
#define MARKER_VALUE 0x494e495442535030ull /* "0PSBTINI" */

static uint32_t rd(uint64_t base, unsigned reg)
{
    return *(volatile uint32_t *)(base + reg);
}

static void wr(uint64_t base, unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(base + reg) = v;
}

static void cmos_write(uint8_t reg, uint8_t v)
{
    outb(0x70, reg);
    outb(0x71, v);
}

static int second_boot(void)
{
    *MARKER = 0;
    test_pass("apic-init: the machine came back through its reset after the INIT to the BSP");
    test_check_eq("apic-init: after the reset: IA32_APIC_BASE is 0xFEE00000, enabled, BSP",
                  rdmsr(MSR_APIC_BASE) & 0xfffffffffffull, DEFAULT_BASE | 0x900);
    uint32_t version = rd(DEFAULT_BASE, R_VERSION);
    test_check("apic-init: after the reset: the version register answers at 0xFEE00030",
               (version & 0xf0) == 0x10);
    test_check("apic-init: after the reset: the page at the moved base is not the APIC",
               rd(MOVED_BASE, R_VERSION) != version);
    return 0;
}

int main(void)
{
    if (*MARKER == MARKER_VALUE) {
        return second_boot();
    }
    *MARKER = MARKER_VALUE;
    uint8_t id = (uint8_t)(rd(DEFAULT_BASE, R_ID) >> 24);
    uint32_t version = rd(DEFAULT_BASE, R_VERSION);
    cmos_write(0x0f, 0); /* shutdown status: none (a plain warm boot) */
    wrmsr(MSR_APIC_BASE, MOVED_BASE | 0x900);
    /* QEMU 7.2 leaves the page at 0xFEE00000 (apic.c's XFAILs): then the INIT goes from there */
    uint64_t page = rd(MOVED_BASE, R_VERSION) == version ? MOVED_BASE : DEFAULT_BASE;
    wr(page, R_SVR, 0x1ff);
    tprintf("apic-init: sending INIT to the bootstrap processor (APIC ID %u), its xAPIC page at "
            "%p\n",
            id, (void *)page);
    wr(page, R_ICR_HI, (uint32_t)id << 24);
    wr(page, R_ICR_LO, 0x0500u | 0x4000u | 0x8000u); /* INIT, level assert */
    /* the reset takes effect at once on a real core; give an emulator a moment */
    for (unsigned i = 0; i < 1000000; i++) {
        __asm__ volatile("pause" ::: "memory");
    }
    *MARKER = 0;
    test_fail("apic-init: INIT to the bootstrap processor",
              "it went on running the program (expected: the firmware's reboot)");
    return 1;
}
