/*
 * coremu — the ACPI fixed hardware of a PC: PM1a event and control blocks, the PM timer, GPE0,
 * the SCI and the reset register, as the ACPI 6.x specification (chapter 4) defines them.
 *
 * Register block (I/O ports, ACPI_PM_BLOCK_SIZE bytes from the board's base):
 *   +0x0 PM1_STS (16 bits, write 1 to clear): TMR_STS, GBL_STS, PWRBTN_STS, SLPBTN_STS,
 *        RTC_STS, WAK_STS
 *   +0x2 PM1_EN  (16 bits): TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN
 *   +0x4 PM1_CNT (16 bits): SCI_EN (set at reset: there is no SMI command port, the machine is
 *        always in ACPI mode), BM_RLD, GBL_RLS (write-only, sets GBL_STS), SLP_TYP (12:10),
 *        SLP_EN (write-only). Writing SLP_EN with SLP_TYP == ACPI_PM_S5_SLP_TYP calls the
 *        board's power_off callback; the other sleep states are not modelled (the write is
 *        ignored, and the DSDT only offers \_S5).
 *   +0x8 PM_TMR (32 bits read-only; a 24-bit counter at 3.579545 MHz derived from the virtual
 *        clock, coremu_clock_ns, so it stops while the machine is paused)
 *   +0xC GPE0_STS (16 bits, write 1 to clear), +0xE GPE0_EN (16 bits)
 * Accesses of any size and alignment inside the block work byte by byte, as ACPICA's byte-wide
 * GPE accesses expect; a multi-byte read of PM_TMR samples the counter once.
 *
 * TMR_STS is set whenever bit 23 of the counter has changed since the guest last cleared it; it
 * is computed when read, and the SCI for TMR_EN is re-evaluated at every access to the block and
 * at acpi_pm_poll (the device schedules no timer of its own: Linux uses the PM timer only as a
 * clock source and never enables TMR_EN).
 *
 * The SCI is a level: high while SCI_EN is set and an enabled PM1 or GPE0 status bit is set.
 *
 * The reset register (ACPI_PM_RESET_PORT, one byte, the ICH's RST_CNT): a write with bit 2
 * (RST_CPU) set, 0x06 or 0x0E as Linux writes it, calls the board's reset callback; bits 1 and 3
 * read back as written. The PC's 0xCF9 lies inside the PCI configuration address register's
 * dword (0xCF8), so on a board with hw/pci_host.h the host forwards byte accesses at 0xCF9 to
 * acpi_pm_reset_ops (pci_host_set_cf9); without one, the board maps acpi_pm_reset_ops at 0xCF9.
 *
 * Callbacks (power_off, reset) are called with no device lock held, after the access that
 * requested them; the SCI's set function is called under the device lock and must not call
 * back into the device.
 */
#ifndef COREMU_HW_ACPI_PM_H
#define COREMU_HW_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/irq.h>
#include <coremu/physmem.h>

#define ACPI_PM_DEFAULT_BASE 0x600u
#define ACPI_PM_BLOCK_SIZE   0x10u
#define ACPI_PM_EVT_OFFSET   0x0u
#define ACPI_PM_CNT_OFFSET   0x4u
#define ACPI_PM_TMR_OFFSET   0x8u
#define ACPI_PM_GPE0_OFFSET  0xcu
#define ACPI_PM_GPE0_LEN     4u
#define ACPI_PM_RESET_PORT   0xcf9u
#define ACPI_PM_S5_SLP_TYP   5u
#define ACPI_PM_TIMER_HZ     3579545u

/* PM1 status/enable bits. */
#define ACPI_PM1_TMR     (1u << 0)
#define ACPI_PM1_BM_STS  (1u << 4)
#define ACPI_PM1_GBL     (1u << 5)
#define ACPI_PM1_PWRBTN  (1u << 8)
#define ACPI_PM1_SLPBTN  (1u << 9)
#define ACPI_PM1_RTC     (1u << 10)
#define ACPI_PM1_WAK_STS (1u << 15)
/* PM1 control bits. */
#define ACPI_PM1_SCI_EN        (1u << 0)
#define ACPI_PM1_BM_RLD        (1u << 1)
#define ACPI_PM1_GBL_RLS       (1u << 2)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK  (7u << 10)
#define ACPI_PM1_SLP_EN        (1u << 13)

struct acpi_pm;

struct acpi_pm_board {
    void (*power_off)(void *opaque); /* S5 entered */
    void (*reset)(void *opaque);     /* the reset register was written */
    void *opaque;
    struct coremu_irq_line sci;
};

extern const struct coremu_mmio_ops acpi_pm_ops;       /* the block; opaque: struct acpi_pm */
extern const struct coremu_mmio_ops acpi_pm_reset_ops; /* the one-byte reset register */

struct acpi_pm *acpi_pm_new(const struct acpi_pm_board *board);
void acpi_pm_free(struct acpi_pm *pm);
/* Maps the block at base and, when reset_port is not 0, the reset register there, in the
 * port-I/O space io (both COREMU_MMIO_LOCKLESS). 0 or a negative errno. */
int acpi_pm_map(struct acpi_pm *pm, struct coremu_as *io, uint16_t base, uint16_t reset_port);
/* Machine reset: registers to their power-on values (SCI_EN set); the timer runs on. */
void acpi_pm_reset(struct acpi_pm *pm);
/* The power button was pressed: PWRBTN_STS, and the SCI when enabled. */
void acpi_pm_press_power_button(struct acpi_pm *pm);
/* Sets GPE0 status bit (0-15), as a device's wake event or hot-plug notification would. */
void acpi_pm_raise_gpe(struct acpi_pm *pm, unsigned bit);
/* Re-evaluates TMR_STS and the SCI (for a board that wants the timer carry interrupt). */
void acpi_pm_poll(struct acpi_pm *pm);
/* The PM timer's 24-bit value at virtual time ns. */
uint32_t acpi_pm_timer_at(int64_t ns);

#endif /* COREMU_HW_ACPI_PM_H */
