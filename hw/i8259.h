/*
 * coremu — the PC's pair of Intel 8259A programmable interrupt controllers (master at ports
 * 0x20/0x21, slave at 0xa0/0xa1 cascaded into the master's IR2) with the PIIX edge/level control
 * registers (ELCR at 0x4d0/0x4d1), as one device model.
 *
 * Each 8259A is programmed as its data sheet says: ICW1 (port A0=0, bit 4 set) starts the
 * initialization sequence and ICW2 (vector base, bits 7-3), ICW3 (unless ICW1 asked for single
 * mode) and ICW4 (when ICW1.IC4 asks for it: 8086 mode, auto-EOI, special fully nested mode)
 * follow at port A0=1. Afterwards port A0=1 is OCW1 (the interrupt mask register, also read
 * back there), and port A0=0 takes OCW2 (non-specific and specific EOI, the rotate commands,
 * set priority) and OCW3 (select IRR or ISR for reads of port A0=0, the poll command, special
 * mask mode). Priority is resolved in the rotating order (IR7 lowest after initialization) and
 * against the in-service register (fully nested mode: a request is taken only above every level
 * in service; in special mask mode any unmasked level not in service is taken; in the master's
 * special fully nested mode the cascade input is taken while IR2 is in service). ICW1's LTIM bit
 * and ICW4's buffered mode bits are kept but have no effect: edge or level sensing is the ELCR's
 * per input, as on the PIIX (whose ELCR keeps IRQ0, 1, 2, 8 and 13 edge-triggered: those bits
 * read 0), and there are no buffers. MCS-80/85 mode (ICW4 bit 0 clear) is logged as unimplemented
 * and runs as 8086 mode.
 *
 * Inputs. i8259_set_irq(pic, irq, level) sets the level of ISA interrupt irq (0-7 on the master,
 * 8-15 on the slave) from any thread; devices reach it through i8259_irq_line. As on the chip, an
 * edge-triggered input makes a request on its rising edge, a level-triggered one while it is
 * high, and in both modes the input must still be high when the CPU acknowledges it: a request
 * that goes away first leaves the chip with nothing to give and it answers with IR7 (a spurious
 * IRQ7 on the master, IRQ15 on the slave), without setting an in-service bit. A device that
 * only pulses its line is therefore lost, as on the chip. The slave's INT output drives the
 * master's IR2 as a level (the cascade wire; ELCR bit 2 is reserved on the PIIX), so a slave
 * request withdrawn before the acknowledge also withdraws the master's IR2 request and the
 * master answers IRQ7; the slave's own IR7 answer (a spurious IRQ15) would need the request to
 * vanish between the master's and the slave's INTA cycles, which i8259_ack performs under one
 * hold of the lock, so here it does not happen.
 *
 * Output and acknowledge. The master's INT output is the intr line given to i8259_new, driven
 * (with the device's lock held, only when it changes) high while the master has a request the
 * CPU should take. When the CPU takes it (its local APIC's LINT0 in ExtINT mode, or no APIC), it
 * calls i8259_ack, the two INTA cycles: the highest request moves from IRR to ISR (or is
 * acknowledged and forgotten in auto-EOI mode, rotating when that was asked for) and the vector is
 * the chip's base plus the level; a request of the master's IR2 is passed to the slave, which
 * answers in the same way. The poll command (OCW3 P) acknowledges in the same way on the next
 * read of port A0=0, whose value is 0x80 | level, or 0 with no request.
 *
 * Threads and locks. The pair has one mutex, i8259.lock, and registers its three port regions as
 * COREMU_MMIO_LOCKLESS so that the same mutex serialises all of its callers: core threads
 * through the port callbacks and i8259_ack, device threads through i8259_set_irq (typically
 * with their own lock held, see coremu/irq.h), and the board through i8259_reset. The intr
 * line's set is called under i8259.lock, so that its level changes arrive in order: lock order
 * a device's lock, then i8259.lock, then whatever intr's receiver takes; that receiver must not
 * call back into the PIC (it notes the level, typically on the boot core's event queue, and the
 * core calls i8259_ack later from its own loop).
 */
#ifndef COREMU_HW_I8259_H
#define COREMU_HW_I8259_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/irq.h>
#include <coremu/physmem.h>

struct i8259;

/* The PC's ports and the size of each region. */
#define I8259_MASTER_BASE 0x20u
#define I8259_SLAVE_BASE  0xa0u
#define I8259_ELCR_BASE   0x4d0u
#define I8259_IO_SIZE     2u
#define I8259_NUM_IRQS    16u
#define I8259_CASCADE_IRQ 2u

/* Creates the pair in its reset state: not initialised (the guest's ICW sequence follows),
 * vector bases 0, every input masked, IR7 lowest priority, every ELCR bit 0 (edge). intr is
 * the master's INT output (may be NULL: not connected). name is used in log messages and must
 * outlive the device. NULL on allocation failure. */
struct i8259 *i8259_new(const char *name, const struct coremu_irq_line *intr);
/* Adds the three port regions (master, slave, ELCR) to as, the board's port-I/O space, at the
 * PC's addresses. 0 or -errno (coremu_as_add_mmio); after a failure the regions added before it
 * stay (the board gives up on the machine). */
int i8259_map(struct i8259 *pic, struct coremu_as *as);
/* Reset (the board's machine reset): the state of i8259_new; input levels are kept (the devices
 * still drive them) but make no request until they rise again. */
void i8259_reset(struct i8259 *pic);
void i8259_free(struct i8259 *pic);

/* Sets the input level of irq (< I8259_NUM_IRQS; others are logged and ignored; irq 2 is the
 * cascade and ignores devices). Any thread. */
void i8259_set_irq(struct i8259 *pic, unsigned irq, bool level);
/* A line whose set calls i8259_set_irq for irq; valid until i8259_free. */
struct coremu_irq_line i8259_irq_line(struct i8259 *pic, unsigned irq);
/* The interrupt acknowledge cycles: the vector of the highest request (see above). Any thread. */
uint8_t i8259_ack(struct i8259 *pic);
/* The master's INT output now (what intr was last driven to). */
bool i8259_intr_level(struct i8259 *pic);

/* The port callbacks (opaque = struct i8259 *), each for a 2-byte region: byte accesses, and
 * 16-bit ones carried out as two byte accesses to consecutive ports. The board only uses
 * i8259_map; host-side tests drive the ports through them. */
extern const struct coremu_mmio_ops i8259_master_ops;
extern const struct coremu_mmio_ops i8259_slave_ops;
extern const struct coremu_mmio_ops i8259_elcr_ops;

#endif /* COREMU_HW_I8259_H */
