/*
 * coremu — High Precision Event Timer (IA-PC HPET specification 1.0a), as a device model.
 *
 * The guest sees one timer block of 1 KiB (at HPET_BASE on a PC): the general capabilities and
 * ID register (revision 1, three timers, a 64-bit main counter, legacy replacement capable,
 * vendor 0x8086, a period of 100,000,000 fs: the counter runs at 10 MHz of virtual time), the
 * general configuration (ENABLE_CNF, LEG_RT_CNF), the general interrupt status (level-triggered
 * timers' status bits, write 1 to clear), the main counter, and per timer its configuration and
 * capability register, comparator and FSB route register.
 *
 * Timers. All three are 64-bit (SIZE_CAP) and periodic capable (PER_INT_CAP); 32MODE_CNF makes
 * one a 32-bit timer (comparator and match on the counter's low 32 bits, wrapping). INT_TYPE_CNF
 * selects edge or level; INT_ENB_CNF gates the interrupt (in level mode the status bit is set
 * whether or not it is enabled, as the specification says). A one-shot timer interrupts when the
 * counter reaches its comparator (again after a wrap of 2^32 in 32-bit mode; a 64-bit one never
 * wraps). A periodic timer adds its period to the comparator at every match; in periodic mode a
 * comparator write sets the period, and, while VAL_SET_CNF is set, the comparator too (VAL_SET
 * then clears itself): the sequence Linux uses. When the I/O thread is late by more than a
 * period, the comparator is advanced past the counter and the missed periods are coalesced into
 * one interrupt. A period of 0 interrupts once.
 *
 * Interrupt routing. INT_ROUTE_CAP allows I/O APIC inputs 20-23 for every timer; INT_ROUTE_CNF
 * keeps what the guest writes, but a route outside the capability delivers nothing (the
 * specification leaves it undefined). With LEG_RT_CNF set, timer 0 drives input 2 (where the
 * PC's I/O APIC sees IRQ0) and timer 1 input 8 (IRQ8), whatever their routes say; the board is
 * expected to disconnect the PIT and RTC from those inputs meanwhile (hpet_legacy_mode tells it).
 * FSB (message) interrupt delivery is not supported: FSB_INT_DEL_CAP reads 0, FSB_EN_CNF is
 * read-only 0 and the FSB route registers read 0 and ignore writes.
 *
 * Interrupt outputs. The board gives an array of HPET_NUM_IRQS coremu_irq_line, indexed by I/O
 * APIC input (entries may be unconnected). A level-triggered timer holds its line high while its
 * status bit is set and it is enabled (lines shared by several timers are the OR); an
 * edge-triggered one pulses the line (high, then low) at each match, unless a level-triggered
 * timer holds it high. Lines are driven only when their level changes.
 *
 * Time. The main counter runs only while ENABLE_CNF is set: counter = value when last enabled
 * (or written) + (virtual time since then) / 100 ns; it is never stepped, so it does not drift.
 * A device timer on the I/O thread (coremu_timer) fires at the virtual time of the earliest
 * pending match. Register accesses bring the device up to date first, so a guest polling the
 * status register sees the same as one taking the interrupt.
 *
 * Accesses: 4 or 8 bytes, naturally aligned (the specification's 32- and 64-bit accesses).
 *
 * Threads and locks. The device has one mutex, hpet.lock, and registers its region as
 * COREMU_MMIO_LOCKLESS so that the same mutex serialises core threads (hpet_mmio_ops) and the I/O
 * thread (the device timer). Under the lock the device re-arms its timer (coremu_timer_mod, a
 * leaf lock) and calls the lines' set functions on level changes, so the interrupt controller
 * must not call back into the HPET. It never calls coremu_timer_del with its lock held; a stale
 * expiry finds nothing due.
 */
#ifndef COREMU_HW_HPET_H
#define COREMU_HW_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/iothread.h>
#include <coremu/irq.h>
#include <coremu/physmem.h>

struct hpet;

#define HPET_BASE      0xfed00000u
#define HPET_MMIO_SIZE 0x400u
#define HPET_NUM_TIMERS 3u
/* I/O APIC inputs the interrupt outputs are indexed by. */
#define HPET_NUM_IRQS 24u
/* Main counter tick in femtoseconds (10 MHz) and nanoseconds. */
#define HPET_PERIOD_FS 100000000u
#define HPET_TICK_NS   100
/* Inputs every timer may be routed to (INT_ROUTE_CAP). */
#define HPET_ROUTE_CAP 0x00f00000u

/* Creates an HPET in its reset state (counter halted at 0), with its timer on io (NULL: the
 * process-wide I/O thread). irqs is an array of HPET_NUM_IRQS lines by I/O APIC input (copied;
 * NULL: none connected). name is used in log messages and must outlive the device. NULL on
 * allocation failure. */
struct hpet *hpet_new(const char *name, struct coremu_iothread *io,
                      const struct coremu_irq_line *irqs);
/* Adds the register block to as at base (HPET_BASE on a PC). 0 or -errno. */
int hpet_map(struct hpet *hpet, struct coremu_as *as, uint64_t base);
/* True while the guest has LEG_RT_CNF and ENABLE_CNF set (the PIT's and RTC's interrupts are to
 * be disconnected). Any thread. */
bool hpet_legacy_mode(struct hpet *hpet);
/* Hardware reset: registers to their reset values, counter halted at 0, lines lowered. Not from
 * the I/O thread's callbacks. */
void hpet_reset(struct hpet *hpet);
/* Frees the device (its timer first); its region must not be reachable by running cores. */
void hpet_free(struct hpet *hpet);

/* For host-side tests: replaces the virtual clock the device reads (default coremu_clock_ns).
 * Call before any other use; the device timer still runs on the real virtual clock, so such a
 * test should give the device an I/O thread it never starts and rely on register accesses. */
void hpet_set_clock(struct hpet *hpet, int64_t (*now_ns)(void));

/* The register callbacks (opaque = struct hpet *), exposed for host-side tests. */
extern const struct coremu_mmio_ops hpet_mmio_ops;

#endif /* COREMU_HW_HPET_H */
