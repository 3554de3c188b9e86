/*
 * coremu — National Semiconductor / TI PC16550D UART (the "16550A" of the PC's COM ports), as a
 * device model.
 *
 * The guest sees the eight byte-wide registers of the PC16550D data sheet: the receiver buffer
 * and transmitter holding registers (RBR/THR), the interrupt enable and identification registers
 * (IER/IIR), the FIFO control register (FCR, write-only, at the IIR's address), the line and
 * modem control registers (LCR/MCR), the line and modem status registers (LSR/MSR), the scratch
 * register (SCR), and the divisor latch (DLL/DLM at offsets 0 and 1 while LCR.DLAB is set).
 * Linux's 8250 driver and its earlyprintk=serial console drive it; its probe writes the scratch
 * and interrupt enable registers, checks the modem lines in loopback mode and identifies a 16550A
 * by the IIR's FIFO bits, so those behave exactly as the data sheet says.
 *
 * The serial line is a coremu character device: transmitted bytes go to it at once, received
 * bytes arrive from it on the I/O thread into the receive FIFO (16 entries with FCR.0 set, the
 * single receiver buffer of 16450 mode otherwise). Transmission is instantaneous: the holding
 * register and the transmitter are empty again as soon as THR is written, so LSR.THRE and
 * LSR.TEMT always read 1 and a THR write re-arms the THRE interrupt at once. Reception is paced
 * by the FIFO and by the line rate, 115200 / divisor baud (the PC's 1.8432 MHz crystal divided by
 * 16 and the divisor latch; a divisor of 0, which the data sheet leaves undefined, runs at the
 * fastest rate, 115200) with the frame the LCR sets: the back end is asked for at most what the
 * FIFO has room for, and after a burst the next characters come when the line would have carried
 * them.
 *
 * What is not modelled: line errors (a character device has no parity, framing errors or
 * breaks, so LSR.PE, LSR.FE, LSR.BI and the FIFO error bit LSR.7 never set; the only error is the
 * overrun of a receive buffer that is overfilled, which sets LSR.OE), LCR's break control and
 * parity settings beyond their share of the character time, the DMA mode (FCR.3 only drives the
 * RXRDY/TXRDY pins, which a PC does not wire), and the modem inputs of a real peer: outside
 * loopback, CTS, DSR and DCD read as asserted (a peer is present and ready) and RI as inactive,
 * and they never change, so only loopback produces modem status changes. The character timeout
 * is approximated: it is indicated as soon as a burst of input from the back end (or a character
 * looped back) leaves the FIFO below its trigger level and not empty, and again after each read
 * that leaves characters in the FIFO, where a real UART waits four character times.
 *
 * Interrupt output. On a PC the UART's INTRPT pin reaches the interrupt controller through a
 * buffer that the UART's own OUT2 output enables (IBM's wiring, kept by every compatible), and
 * in loopback mode the data sheet forces the modem control output pins, OUT2 among them,
 * inactive. The interrupt line given to uart16550_new is therefore the board-side line: it is
 * high only while an interrupt is pending, MCR.OUT2 is set and MCR.LOOP is clear. The IIR shows
 * pending interrupts whatever OUT2 and LOOP say.
 *
 * Accesses. The register window is 8 bytes; byte accesses are the device's own. A 2- or 4-byte
 * access (inw/inl, outw/outl) is carried out as the PC's ISA bus carries it to an 8-bit device:
 * as consecutive byte accesses to consecutive registers, lowest address first, the value
 * assembled little-endian; the device performs them as one, under its lock. An access that runs
 * past the window's end is the address space's to refuse.
 *
 * Threads and locks. The device has one mutex, uart16550.lock, and registers its region as
 * COREMU_MMIO_LOCKLESS so that the same mutex serialises both of its callers:
 *   - core threads, through the register callbacks (uart16550_mmio_ops);
 *   - the I/O thread, through the character device's input handlers (uart16550_can_receive,
 *     uart16550_receive).
 * Under the lock the device writes to the character device (so that output from different cores
 * is never interleaved within one access) and calls the interrupt line's set function whenever
 * the line's level changes (so that level changes reach the interrupt controller in the order
 * they happened). Consequently the interrupt controller's set function must not call back into
 * the UART, and the character device's write must not wait for the I/O thread. The device never
 * calls coremu_chardev_accept_input with its lock held (that would order the chardev's locks
 * after ours while the I/O thread orders them before).
 */
#ifndef COREMU_HW_UART16550_H
#define COREMU_HW_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/irq.h>
#include <coremu/physmem.h>

struct coremu_chardev;
struct uart16550;

/* Size of the register window in the port-I/O address space. */
#define UART16550_IO_SIZE 8u

/* Where a PC BIOS puts the four serial ports, and the ISA interrupts they use (COM3 and COM4
 * share COM1's and COM2's lines). */
#define UART16550_COM1_BASE 0x3f8u
#define UART16550_COM1_IRQ  4u
#define UART16550_COM2_BASE 0x2f8u
#define UART16550_COM2_IRQ  3u
#define UART16550_COM3_BASE 0x3e8u
#define UART16550_COM3_IRQ  4u
#define UART16550_COM4_BASE 0x2e8u
#define UART16550_COM4_IRQ  3u

/* Creates a UART in its reset state. chr may be NULL (output is discarded, no input) and can be
 * given later with uart16550_attach. irq is the board-side interrupt line (gated by MCR.OUT2, see
 * above); it is driven with the UART's lock held, only when the level changes, and may be NULL
 * (no interrupt line). name is used in log messages and must outlive the device. NULL on
 * allocation failure. */
struct uart16550 *uart16550_new(const char *name, struct coremu_chardev *chr,
                                const struct coremu_irq_line *irq);
/* Connects the serial line to chr (and registers the input handlers with it). Call before the
 * guest runs; chr must stay open until uart16550_free, or until it is closed first (which stops
 * its callbacks). */
void uart16550_attach(struct uart16550 *uart, struct coremu_chardev *chr);
/* Adds the register window to as (the board's port-I/O space) at base, e.g.
 * UART16550_COM1_BASE. 0 or -errno (coremu_as_add_mmio). */
int uart16550_map(struct uart16550 *uart, struct coremu_as *as, uint64_t base);
/* Master reset (the board's machine reset): registers to the data sheet's reset values (and the
 * divisor latch and scratch register, which it leaves alone, to 0), FIFOs emptied and disabled,
 * the interrupt line lowered; held input is accepted again. Any thread, with the device's guests
 * stopped. */
void uart16550_reset(struct uart16550 *uart);
/* Frees the device; its region must not be reachable by running cores any more, and its
 * character device must be closed (or never attached). */
void uart16550_free(struct uart16550 *uart);

/* The register callbacks (opaque = struct uart16550 *): sizes 1, 2 and 4 at any offset in the
 * window. The board only uses uart16550_map; host-side tests drive the registers through them. */
extern const struct coremu_mmio_ops uart16550_mmio_ops;

/* The character device's input handlers (opaque = struct uart16550 *), exposed for the same
 * reason: how many bytes the receiver takes now, and the delivery of received bytes. */
size_t uart16550_can_receive(void *opaque);
void uart16550_receive(void *opaque, const uint8_t *buf, size_t len);

#endif /* COREMU_HW_UART16550_H */
