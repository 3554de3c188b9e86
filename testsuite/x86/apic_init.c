/*
 * An INIT IPI to the bootstrap processor (Intel SDM Vol. 3A 8.4.1): after the MP initialisation
 * protocol, an INIT makes each processor look at its BSP flag; the BSP runs the firmware's
 * bootstrap code from the reset vector rather than waiting for a STARTUP IPI like an
 * application processor. On a PC whose CMOS holds no shutdown code (register 0x0F: 0) the
 * firmware then reboots the machine: under -no-reboot the emulator exits with status 0, which
 * baremetal.exp expects. A BSP that goes on after its INIT (or waits for a STARTUP, which nobody
 * sends, until the timeout) fails.
 *
 * The INIT is sent by physical destination to the BSP's own APIC ID: the ICR's "self" shorthand
 * is not valid for INIT.
 */
#include "test.h"

#define LAPIC_BASE   0xfee00000ul
#define LAPIC_ID     0x020
#define LAPIC_SVR    0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310

static void lapic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

static uint32_t lapic_read(unsigned reg)
{
    return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
    outb(0x70, reg);
    outb(0x71, v);
}

int main(void)
{
    uint8_t id = (uint8_t)(lapic_read(LAPIC_ID) >> 24);
    cmos_write(0x0f, 0); /* shutdown status: none (a plain warm boot) */
    lapic_write(LAPIC_SVR, 0x1ff);
    tprintf("apic-init: sending INIT to the bootstrap processor (APIC ID %u)\n", id);
    lapic_write(LAPIC_ICR_HI, (uint32_t)id << 24);
    lapic_write(LAPIC_ICR_LO, 0x0500u | 0x4000u | 0x8000u); /* INIT, level assert */
    /* the reset takes effect at once on a real core; give an emulator a moment */
    for (unsigned i = 0; i < 1000000; i++) {
        __asm__ volatile("pause" ::: "memory");
    }
    test_fail("apic-init: INIT to the bootstrap processor",
              "it went on running the program (expected: the firmware's reboot)");
    return 1;
}
