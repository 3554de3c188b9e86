/*
 * coremu — Intel 8254 Programmable Interval Timer (the PC's PIT) and the PC's port 0x61 (NMI
 * status and control), as a device model.
 *
 * The guest sees the four ports of the 8254 data sheet at 0x40-0x43: the three counters' data
 * ports and the control word register, with counter select, the counter latch command, the
 * read-back command (count and status), the access modes LSB, MSB and LSB-then-MSB, modes 0 to
 * 5 and binary or BCD counting. The input clock of every counter is the PC's 1.193182 MHz,
 * derived from the virtual clock (coremu_clock_ns): the counters are never stepped; a counter's
 * value and OUT are computed from the virtual time at which its count was loaded, so they do not
 * drift however long they run.
 *
 * Wiring on a PC. Counter 0's gate is tied high and its OUT drives IRQ0 (the irq0 line given to
 * i8254_new). Counter 1's gate is tied high and its OUT (the DRAM refresh request of the original
 * PC) goes nowhere: it is modelled as fully as the others, but nothing observes it. Counter 2's
 * gate is port 0x61 bit 0 and its OUT is readable at port 0x61 bit 5 (and drives the speaker
 * with bit 1, which is only stored: there is no sound). Port 0x61 also reads the refresh toggle
 * in bit 4, which flips every 15.085 us of virtual time, as the refresh cycles of a PC do; bits
 * 2 and 3 (parity and channel check enables) are stored, and bits 6 and 7 (channel check and
 * parity error) read 0 since no NMI source is modelled.
 *
 * IRQ0. The line follows counter 0's OUT where OUT stays at a level for a useful time: mode 0
 * lowers it when the control word or the count is written and raises it at terminal count. In
 * modes 2 and 3 OUT is high except for one input clock (mode 2) or half the period (mode 3);
 * rather than waking the I/O thread twice per period the model collapses the low phase to the
 * period's end: at the instant OUT rises (every N input clocks, N the count) the line is pulsed
 * low then high, so the interrupt controller sees exactly one rising edge per period and the line
 * rests high between edges. Mode 4 pulses the same way once, when the count expires. The edges
 * are produced by a device timer on the I/O thread (coremu_timer), armed for the virtual time of
 * the next edge computed from the moment counting started (never by adding periods, so rounding
 * does not accumulate); when the I/O thread is late by several periods, the missed edges are
 * coalesced into one pulse (an edge-triggered controller would have merged them too). Registers
 * accessed in the meantime bring the line up to date first, so a guest that polls sees the same
 * thing as one that waits for the interrupt. Counter 0 in modes 1 and 5 is never triggered
 * (its gate never rises).
 *
 * Simplifications. A new count written to a counter already running in mode 2 or 3 restarts the
 * period at once (the data sheet waits for the current period to end); operating systems write
 * the control word first, which stops the counter anyway. A count is loaded at the write, not at
 * the next input clock. Gate-low periods in modes 0 and 4 suspend the count but lose the fraction
 * of an input clock in progress. In mode 3 an odd count reads as the even count below it,
 * stepping down by two in each half period (the data sheet's loading of N - 1 on alternate halves
 * is not reproduced in the value read); OUT's timing is exact.
 *
 * Threads and locks. The device has one mutex, i8254.lock, and registers its two regions as
 * COREMU_MMIO_LOCKLESS so that the same mutex serialises both of its callers:
 *   - core threads, through the port callbacks (i8254_pit_ops, i8254_port61_ops);
 *   - the I/O thread, through the device timer that produces IRQ0's edges.
 * Under the lock the device re-arms its timer (coremu_timer_mod, whose lock is a leaf) and calls
 * IRQ0's set function on every level change, so the interrupt controller's set function must not
 * call back into the PIT. The device never calls coremu_timer_del with its lock held (that waits
 * for a running callback, which may be waiting for the lock): a stale expiry finds nothing due.
 */
#ifndef COREMU_HW_I8254_H
#define COREMU_HW_I8254_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/iothread.h>
#include <coremu/irq.h>
#include <coremu/physmem.h>

struct i8254;

/* The input clock of the PC's PIT: 14.31818 MHz / 12. */
#define I8254_CLOCK_HZ 1193182u

/* Port windows in the PC's port-I/O space. */
#define I8254_PIT_BASE    0x40u
#define I8254_PIT_SIZE    4u
#define I8254_PORT61_BASE 0x61u
#define I8254_PORT61_SIZE 1u
/* The ISA interrupt counter 0 drives. */
#define I8254_IRQ 0u

/* Port 0x61 bits. */
#define I8254_P61_GATE2   0x01u /* counter 2's gate (read/write) */
#define I8254_P61_SPEAKER 0x02u /* speaker data enable (read/write, stored only) */
#define I8254_P61_PARITY  0x04u /* parity check enable (read/write, stored only) */
#define I8254_P61_IOCHK   0x08u /* channel check enable (read/write, stored only) */
#define I8254_P61_REFRESH 0x10u /* refresh toggle (read-only) */
#define I8254_P61_OUT2    0x20u /* counter 2's OUT (read-only) */

/* Creates a PIT in its reset state, with its timer on io (NULL: the process-wide I/O thread,
 * coremu_iothread_default). irq0 is counter 0's output as the board wires it; it is driven with
 * the PIT's lock held, only when its level changes, and may be NULL. name is used in log
 * messages and must outlive the device. NULL on allocation failure. */
struct i8254 *i8254_new(const char *name, struct coremu_iothread *io,
                        const struct coremu_irq_line *irq0);
/* Adds the PIT's ports (I8254_PIT_BASE) and port 0x61 to as, the board's port-I/O space. 0 or
 * -errno (coremu_as_add_mmio). */
int i8254_map(struct i8254 *pit, struct coremu_as *as);
/* Hardware reset: every counter back to mode 0 with no count loaded and OUT low (the data sheet
 * leaves the power-on state undefined; this is the quiet choice), IRQ0 lowered, port 0x61's
 * stored bits cleared (counter 2's gate low). Any thread except the I/O thread's callbacks. */
void i8254_reset(struct i8254 *pit);
/* Frees the device (its timer first); its regions must not be reachable by running cores any
 * more. Not from the I/O thread's own callbacks. */
void i8254_free(struct i8254 *pit);

/* For host-side tests: replaces the virtual clock the device reads (default coremu_clock_ns), so
 * that a test can step time exactly. Call before any other use; the device timer still runs on
 * the I/O thread's virtual clock, so such a test should give the device an I/O thread it never
 * starts and rely on the register accesses, which bring the device up to date. */
void i8254_set_clock(struct i8254 *pit, int64_t (*now_ns)(void));

/* The port callbacks (opaque = struct i8254 *): byte accesses only. The board only uses
 * i8254_map; host-side tests drive the ports through them. */
extern const struct coremu_mmio_ops i8254_pit_ops;
extern const struct coremu_mmio_ops i8254_port61_ops;

#endif /* COREMU_HW_I8254_H */
