/*
 * coremu — Motorola MC146818 real-time clock with its CMOS RAM (the PC's RTC at ports
 * 0x70/0x71), as a device model.
 *
 * The guest sees the index port 0x70 (bits 6-0 select one of 128 bytes; bit 7 is the PC's NMI
 * mask, kept for the board: mc146818_nmi_masked) and the data port 0x71. Bytes 0-9 are the time,
 * alarm and calendar registers of the data sheet (seconds, seconds alarm, minutes, minutes alarm,
 * hours, hours alarm, day of week 1-7 with Sunday 1, date, month, year 0-99), 0xA-0xD the status
 * registers, 0x32 the PC's century byte, and the other 113 bytes from 0xE to 0x7F battery-backed
 * RAM that keeps whatever is written (the board presets the memory-size bytes with
 * mc146818_nvram_write).
 *
 * Time. The clock counts the host's UTC time plus an offset (mc146818_set_offset: the -rtc base
 * as coremu_rtc_base_offset computes it), read from the host's wall clock once, when the offset
 * is set, and advancing with the virtual clock from then on: a paused machine's RTC falls behind
 * the host as a stopped real machine's would not, but never jumps. The second boundaries are
 * those of the host's wall clock at that moment. The registers are computed from that count in
 * the format register B asks for (binary or BCD, 24 or 12 hours with bit 7 for PM); the century
 * byte follows the same format. Day of week follows the date (with whatever offset the guest gave
 * it when it last set the time). Daylight saving (DSE) is stored but never applied; SQWE is
 * stored (a PC does not wire the square-wave pin).
 *
 * Register A: UIP (bit 7, read-only) is 1 during the 244 us before each update cycle, which is
 * modelled as instantaneous at the second boundary (the registers are never seen mid-update).
 * The divider bits 6-4 run the clock only at 010 (the 32.768 kHz time base a PC uses); any other
 * value stops it, and returning to 010 from another value starts the first update half a second
 * later, as the data sheet says of the divider reset. RS3-0 select the periodic interrupt rate
 * (1 and 2 the same as 8 and 9: 256 and 128 Hz; 3-15: 8192 Hz down to 2 Hz).
 * Register B: SET stops updates and lets the guest write the time registers (setting it clears
 * UIE); clearing it restarts the count from the written values, the divider's phase unchanged.
 * Time registers written without SET take effect at once. PIE, AIE and UIE enable the periodic,
 * alarm and update-ended interrupts; DM and 24/12 select the format.
 * Register C: IRQF, PF, AF, UF, read-only, cleared by the read. The flags are set whether or not
 * their interrupt is enabled. An alarm byte with its two top bits set is "don't care".
 * Register D: VRT, always 1 (the battery is good).
 *
 * IRQ8. The irq line is high exactly while C.IRQF is set (the PC inverts the chip's active-low
 * IRQ pin); it is driven only when that changes. A device timer on the I/O thread (coremu_timer)
 * fires at the next periodic tick or second boundary that an enabled interrupt needs, computed
 * from the divider's start (periodic) or the time base (updates), so it does not drift. Register
 * accesses bring the flags up to date first, so polling guests see the same flags.
 *
 * Threads and locks. The device has one mutex, mc146818.lock, and registers its region as
 * COREMU_MMIO_LOCKLESS so that the same mutex serialises both of its callers: core threads
 * through the port callbacks (mc146818_ops) and the I/O thread through the device timer. Under
 * the lock the device re-arms its timer (coremu_timer_mod, a leaf lock) and calls the irq line's
 * set function on level changes, so the interrupt controller must not call back into the RTC. The
 * device never calls coremu_timer_del with its lock held; a stale expiry finds nothing due.
 */
#ifndef COREMU_HW_MC146818_H
#define COREMU_HW_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/iothread.h>
#include <coremu/irq.h>
#include <coremu/physmem.h>

struct mc146818;

#define MC146818_IO_BASE 0x70u
#define MC146818_IO_SIZE 2u
#define MC146818_IRQ     8u
/* The PC's century byte in CMOS RAM. */
#define MC146818_REG_CENTURY 0x32u

/* Creates an RTC counting the host's UTC time, with its timer on io (NULL: the process-wide
 * I/O thread). irq is IRQ8 as the board wires it (see above; may be NULL). name is used in log
 * messages and must outlive the device. NULL on allocation failure. */
struct mc146818 *mc146818_new(const char *name, struct coremu_iothread *io,
                              const struct coremu_irq_line *irq);
/* The clock reads the host's UTC time plus offset_s from now on (coremu_rtc_base_offset's
 * result for -rtc base=). Before the guest runs. */
void mc146818_set_offset(struct mc146818 *rtc, int64_t offset_s);
/* CMOS RAM presets for the board (memory sizes at 0x30/0x31, 0x34/0x35, 0x5b-0x5d...): addr
 * 0xE-0x7F except the century byte, which belongs to the clock. Before the guest runs. */
void mc146818_nvram_write(struct mc146818 *rtc, unsigned addr, uint8_t value);
uint8_t mc146818_nvram_read(struct mc146818 *rtc, unsigned addr);
/* Port 0x70 bit 7 as the guest last wrote it (1: NMIs masked), for the board's NMI logic. */
bool mc146818_nmi_masked(struct mc146818 *rtc);
/* Adds ports 0x70-0x71 to as, the board's port-I/O space. 0 or -errno. */
int mc146818_map(struct mc146818 *rtc, struct coremu_as *as);
/* The chip's RESET pin (machine reset): PIE, AIE, UIE and SQWE cleared, register C cleared and
 * IRQ8 lowered; the time, register A and the RAM are kept. Not from the I/O thread's callbacks. */
void mc146818_reset(struct mc146818 *rtc);
/* Frees the device (its timer first); its region must not be reachable by running cores. */
void mc146818_free(struct mc146818 *rtc);

/* For host-side tests: replaces the virtual clock and the host's wall clock the device reads
 * (defaults coremu_clock_ns and coremu_wall_ns); call right after mc146818_new, then set the
 * offset. The device timer still runs on the real virtual clock, so such a test should give the
 * device an I/O thread it never starts and rely on register accesses. */
void mc146818_set_clock(struct mc146818 *rtc, int64_t (*now_ns)(void), int64_t (*wall_ns)(void));

/* The port callbacks (opaque = struct mc146818 *; offset 0 is port 0x70), byte accesses. */
extern const struct coremu_mmio_ops mc146818_ops;

#endif /* COREMU_HW_MC146818_H */
