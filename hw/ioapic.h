/*
 * coremu — Intel 82093AA I/O APIC (the PC's I/O interrupt controller), as a device model.
 *
 * The guest sees the data sheet's indirect register window: IOREGSEL at offset 0x00 selects a
 * register, IOWIN at offset 0x10 reads or writes it, both as 32-bit accesses; later I/O APICs'
 * EOI register at offset 0x40 (version 0x20, which this model reports) is there too. Registers:
 * IOAPICID (0x00, ID in bits 27-24), IOAPICVER (0x01, 0x00170020: 24 pins, version 0x20),
 * IOAPICARB (0x02, read-only, loaded with the ID whenever the ID is written) and the 24 64-bit
 * redirection entries (0x10 + 2n low half, 0x11 + 2n high half): vector (7-0), delivery mode
 * (10-8: fixed, lowest priority, SMI, NMI, INIT, ExtINT), destination mode (11, logical when
 * set), delivery status (12, read-only), polarity (13, active low when set), remote IRR (14,
 * read-only), trigger mode (15, level when set), mask (16) and destination (63-56). Reserved bits
 * read 0. Other registers read 0 and ignore writes; so do other offsets of the window.
 *
 * Inputs. Each pin has an input level set by ioapic_set_irq (any thread; devices reach it
 * through the coremu_irq_line of ioapic_irq_line). An active-low pin (polarity bit) sees the
 * inverse of its input. An edge-triggered pin delivers once per inactive-to-active change while
 * unmasked; an edge that arrives while the pin is masked is lost, as on the chip. A
 * level-triggered pin delivers while it is active, unmasked and its remote IRR is clear, and
 * sets remote IRR when it does; the EOI broadcast for its vector (ioapic_eoi from a local APIC,
 * or a write of the vector to the EOI register) clears remote IRR, and the pin delivers again at
 * once if it is still active. Unmasking an active level-triggered pin delivers it. SMI, NMI and
 * INIT are edge-triggered whatever the trigger bit says (the data sheet's rule) and never set
 * remote IRR. Delivery is instantaneous: the delivery status bit always reads 0 (idle).
 * Reprogramming a pin's polarity is not itself an edge.
 *
 * Output. Every delivery is one call of the board's deliver callback with the entry's
 * destination, destination mode, delivery mode (IOAPIC_DELIVERY_*), vector and whether it is
 * level-triggered (the local APIC then sends an EOI broadcast for it). The board routes it to
 * the local APICs; this model knows nothing of them.
 *
 * Threads and locks. The device has one mutex, ioapic.lock, and registers its window as
 * COREMU_MMIO_LOCKLESS so that the same mutex serialises all of its callers: core threads
 * through the register callbacks, device threads through ioapic_set_irq (typically with that
 * device's own lock held, see coremu/irq.h), local APICs through ioapic_eoi, and the board
 * through ioapic_reset. The deliver callback is called after ioapic.lock is released (the
 * deliveries an operation causes are collected under the lock, in the order they happened, and
 * made after it), so the lock order is: a device's lock, then ioapic.lock; the deliver callback
 * runs under the device's lock only, never under ioapic.lock. The callback must therefore not
 * take the lock of a device that raises interrupts, and must not call back into the I/O APIC
 * (the board's callback only queues the interrupt on the target cores' event queues). Two
 * deliveries made by different threads at once may reach the callback in either order.
 */
#ifndef COREMU_HW_IOAPIC_H
#define COREMU_HW_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/irq.h>
#include <coremu/physmem.h>

struct ioapic;

/* Where the PC puts its I/O APIC, and the size of its window. */
#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_MMIO_SIZE    0x1000u

#define IOAPIC_NUM_PINS 24u

/* Register offsets in the window and register indices behind IOWIN. */
#define IOAPIC_IOREGSEL   0x00u
#define IOAPIC_IOWIN      0x10u
#define IOAPIC_EOI        0x40u
#define IOAPIC_REG_ID     0x00u
#define IOAPIC_REG_VER    0x01u
#define IOAPIC_REG_ARB    0x02u
#define IOAPIC_REG_REDTBL 0x10u /* + 2 * pin: low half; + 1: high half */

#define IOAPIC_VERSION_VALUE 0x00170020u

/* Redirection entry fields (low half unless noted). */
#define IOAPIC_RTE_VECTOR         0x000000ffu
#define IOAPIC_RTE_DELIVERY_MASK  0x00000700u
#define IOAPIC_RTE_DELIVERY_SHIFT 8
#define IOAPIC_RTE_DEST_LOGICAL   0x00000800u
#define IOAPIC_RTE_DELIVS         0x00001000u
#define IOAPIC_RTE_ACTIVE_LOW     0x00002000u
#define IOAPIC_RTE_REMOTE_IRR     0x00004000u
#define IOAPIC_RTE_LEVEL          0x00008000u
#define IOAPIC_RTE_MASKED         0x00010000u
#define IOAPIC_RTE_DEST_SHIFT     56 /* of the 64-bit entry: bits 63-56 */

enum ioapic_delivery_mode {
    IOAPIC_DELIVERY_FIXED = 0,
    IOAPIC_DELIVERY_LOWEST = 1,
    IOAPIC_DELIVERY_SMI = 2,
    IOAPIC_DELIVERY_NMI = 4,
    IOAPIC_DELIVERY_INIT = 5,
    IOAPIC_DELIVERY_EXTINT = 7,
};

/* One interrupt message to the local APICs (see above for the threading rules). */
typedef void (*ioapic_deliver_fn)(void *opaque, uint8_t dest, bool dest_logical,
                                  unsigned delivery_mode, uint8_t vector, bool level_triggered);

/* Creates an I/O APIC in its reset state (every entry masked, edge, active high, vector 0), with
 * IOAPICID id (0-15). deliver must not be NULL. name is used in log messages and must outlive
 * the device. NULL on allocation failure. */
struct ioapic *ioapic_new(const char *name, uint8_t id, ioapic_deliver_fn deliver, void *opaque);
/* Adds the register window to as (guest physical) at base, e.g. IOAPIC_DEFAULT_BASE. 0 or -errno
 * (coremu_as_add_mmio). */
int ioapic_map(struct ioapic *ioapic, struct coremu_as *as, uint64_t base);
/* Reset (the board's machine reset): the ID given to ioapic_new, IOREGSEL 0, every entry masked
 * with its other fields 0. Input levels are kept (the devices still drive them). */
void ioapic_reset(struct ioapic *ioapic);
void ioapic_free(struct ioapic *ioapic);

/* Sets the input level of pin (< IOAPIC_NUM_PINS; others are logged and ignored). Any thread. */
void ioapic_set_irq(struct ioapic *ioapic, unsigned pin, bool level);
/* The EOI broadcast of a local APIC for vector: clears remote IRR of every level-triggered entry
 * with that vector and delivers again those still active. Any thread. */
void ioapic_eoi(struct ioapic *ioapic, uint8_t vector);
/* A line whose set calls ioapic_set_irq for pin; valid until ioapic_free. */
struct coremu_irq_line ioapic_irq_line(struct ioapic *ioapic, unsigned pin);

/* The register callbacks (opaque = struct ioapic *): 32-bit aligned accesses only. The board
 * only uses ioapic_map; host-side tests drive the registers through them. */
extern const struct coremu_mmio_ops ioapic_mmio_ops;

#endif /* COREMU_HW_IOAPIC_H */
