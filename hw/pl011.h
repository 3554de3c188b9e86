/*
 * coremu — ARM PrimeCell UART (PL011), revision r1p5, as a device model.
 *
 * The guest sees the register file of the PL011 Technical Reference Manual (ARM DDI 0183G):
 * data, receive status/error clear, flags, IrDA low-power counter, baud divisors, line and
 * control registers, the interrupt registers and the PrimeCell identification registers that
 * Linux's amba-pl011 driver probes. The serial line is a coremu character device: transmitted
 * bytes go to it at once, received bytes arrive from it on the I/O thread into the receive FIFO
 * (16 entries with FIFOs enabled, 1 otherwise).
 *
 * Reception is paced by the FIFO and by the programmed baud rate (UARTIBRD/UARTFBRD of a 24 MHz
 * UARTCLK, and the frame of UARTLCR_H; 115200 baud while the divisor is 0): the back end is
 * asked for at most what the FIFO has room for, and after a burst the next characters come when
 * the line would have carried it, so a flood of input costs the guest no more than it would on
 * hardware. What is not modelled: transmit timing (transmission is instantaneous, so BUSY is
 * never seen and the transmit FIFO is always empty), modem lines (CTS, DSR and DCD read as
 * asserted: a peer is present and ready; RI as inactive; modem interrupts never occur), IrDA,
 * DMA (UARTDMACR is stored only), and line errors (there are none on a character device, except
 * the overrun of a receive FIFO that the back end overfills). The receive timeout
 * interrupt is approximated: it is raised when a burst of input from the back end ends with
 * characters left in the FIFO, which is when a real UART's 32-bit-period timer would start.
 *
 * Threads and locks. The device has one mutex, pl011.lock, and registers its MMIO region as
 * COREMU_MMIO_LOCKLESS so that the same mutex serialises both of its callers:
 *   - core threads, through the MMIO callbacks (pl011_mmio_ops);
 *   - the I/O thread, through the character device's input handlers (pl011_can_receive,
 *     pl011_receive).
 * Under the lock the device writes to the character device (so that output from different
 * cores is never interleaved within one access) and calls the interrupt line's set function
 * whenever the line's level changes (so that level changes reach the interrupt controller in
 * the order they happened). Consequently the interrupt controller's set function must not call
 * back into the UART, and the character device's write must not wait for the I/O thread.
 * The device never calls coremu_chardev_accept_input with its lock held (that would order the
 * chardev's locks after ours while the I/O thread orders them before).
 */
#ifndef COREMU_HW_PL011_H
#define COREMU_HW_PL011_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/irq.h>
#include <coremu/physmem.h>

struct coremu_chardev;
struct pl011;

/* Size of the register window (one 4 KiB page; the ID registers sit at its top). */
#define PL011_MMIO_SIZE 0x1000u

/* Creates a UART in its reset state. chr may be NULL (output is discarded, no input) and can be
 * given later with pl011_attach. irq is its combined interrupt output (UARTINTR), as the board
 * wires it; it is driven with the UART's lock held, only when the level changes, and may be NULL
 * (no interrupt line). name is used in log messages and must outlive the device. NULL on
 * allocation failure. */
struct pl011 *pl011_new(const char *name, struct coremu_chardev *chr,
                        const struct coremu_irq_line *irq);
/* Connects the serial line to chr (and registers the input handlers with it). Call before the
 * guest runs; chr must stay open until pl011_free, or until it is closed first (which stops its
 * callbacks). */
void pl011_attach(struct pl011 *uart, struct coremu_chardev *chr);
/* Adds the register window to as at base. 0 or -errno (coremu_as_add_mmio). */
int pl011_map(struct pl011 *uart, struct coremu_as *as, uint64_t base);
/* Hardware reset (the board's machine reset): registers to their reset values, FIFOs
 * emptied, the interrupt line lowered; held input is accepted again. Any thread, with the
 * device's guests stopped. */
void pl011_reset(struct pl011 *uart);
/* Frees the device; its region must not be reachable by running cores any more, and its
 * character device must be closed (or never attached). */
void pl011_free(struct pl011 *uart);

/* The MMIO callbacks (opaque = struct pl011 *). Exposed for host-side tests that drive the
 * register file directly; the board only uses pl011_map. */
extern const struct coremu_mmio_ops pl011_mmio_ops;

/* The character device's input handlers (opaque = struct pl011 *), exposed for the same
 * reason: how many bytes the receive FIFO takes now, and the delivery of received bytes. */
size_t pl011_can_receive(void *opaque);
void pl011_receive(void *opaque, const uint8_t *buf, size_t len);

#endif /* COREMU_HW_PL011_H */
