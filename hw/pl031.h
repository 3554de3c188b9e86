/*
 * coremu — ARM PrimeCell Real Time Clock (PL031), as a device model.
 *
 * The guest sees the register file of the PL031 Technical Reference Manual (ARM DDI 0224):
 * the 32-bit seconds counter RTCDR, the match register RTCMR, the load register RTCLR, the
 * control register RTCCR, the interrupt mask, raw and masked status and clear registers, and
 * the PrimeCell identification registers that Linux's rtc-pl031 driver probes.
 *
 * Time source. The counter is the host's wall clock (coremu_wall_ns) in whole seconds plus an
 * offset that a write to RTCLR sets, so a guest that never loads it reads the host's UTC time,
 * and one that does keeps its own. The counter runs from power-on: RTCCR reads 1 (started) and
 * writes to it have no effect, which is what the TRM specifies once the RTC has been started and
 * what guests expect of a board whose firmware started its battery-backed RTC.
 *
 * The match interrupt. When the counter reaches RTCMR, RTCRIS is set; RTCINTR is RTCRIS masked
 * by RTCIMSC. A device timer on the I/O thread (coremu_timer, on the virtual clock, which runs
 * at the host's rate) fires at the second the counter should reach the match value; it checks
 * the counter itself and re-arms when the host clock was adjusted meanwhile. A match value equal
 * to the counter when it is written matches at once.
 *
 * Threads and locks. One mutex, pl031.lock, serialises the MMIO callbacks (core threads; the
 * region is registered COREMU_MMIO_LOCKLESS) and the timer callback (I/O thread). Under the lock
 * the device re-arms its timer (coremu_timer_mod, whose own lock is a leaf) and calls the
 * interrupt line's set function whenever the line's level changes, so the interrupt controller's
 * set function must not call back into the RTC. The device never calls coremu_timer_del with its
 * lock held (that waits for a running callback, which may be waiting for the lock): a stale
 * expiry is harmless because the callback re-reads the state.
 */
#ifndef COREMU_HW_PL031_H
#define COREMU_HW_PL031_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/iothread.h>
#include <coremu/irq.h>
#include <coremu/physmem.h>

struct pl031;

/* Size of the register window (one 4 KiB page; the ID registers sit at its top). */
#define PL031_MMIO_SIZE 0x1000u

/* Creates an RTC in its reset state, with its match timer on io (NULL: the process-wide I/O
 * thread, coremu_iothread_default). irq is its interrupt output (RTCINTR), as the board wires
 * it; it is driven with the RTC's lock held, only when the level changes, and may be NULL (no
 * interrupt line). name is used in log messages and must outlive the device. NULL on
 * allocation failure. */
struct pl031 *pl031_new(const char *name, struct coremu_iothread *io,
                        const struct coremu_irq_line *irq);
/* Sets what the counter reads: the host's UTC time in seconds plus offset_s (modulo 2^32, as
 * the 32-bit counter wraps), e.g. -rtc base=localtime or base=DATE. Before the guest runs. */
void pl031_set_offset(struct pl031 *rtc, int64_t offset_s);
/* Adds the register window to as at base. 0 or -errno (coremu_as_add_mmio). */
int pl031_map(struct pl031 *rtc, struct coremu_as *as, uint64_t base);
/* Hardware reset (the board's machine reset): match register, mask and interrupt cleared, the
 * line lowered; the time keeps counting. Any thread except the I/O thread's callbacks. */
void pl031_reset(struct pl031 *rtc);
/* Frees the device (its timer first); its region must not be reachable by running cores any
 * more. Not from the I/O thread's own callbacks. */
void pl031_free(struct pl031 *rtc);

/* The MMIO callbacks (opaque = struct pl031 *), exposed for host-side tests. */
extern const struct coremu_mmio_ops pl031_mmio_ops;

#endif /* COREMU_HW_PL031_H */
