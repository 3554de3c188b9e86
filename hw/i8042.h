/*
 * coremu — the PC's 8042 keyboard controller (data port 0x60, status/command port 0x64), with
 * a PS/2 keyboard that is present and never has a key pressed.
 *
 * Controller. The status register (0x64 read): OBF (bit 0) while the output buffer holds a byte,
 * IBF always 0 (commands complete at once), SYS (bit 2, from the command byte), A2 (bit 3: the
 * last write went to 0x64), the keylock bit 4 set (not inhibited), AUXB (bit 5: the byte in the
 * output buffer comes from the auxiliary port). Commands (0x64 write):
 *   0x20 read / 0x60 write the command byte (CTR: KBDINT, AUXINT, SYS, KBDDIS, AUXDIS, XLATE),
 *   0x21-0x3F read controller RAM (reads 0), 0xA7/0xA8 disable/enable the aux port,
 *   0xA9 aux interface test -> 0x00, 0xAA self-test -> 0x55, 0xAB keyboard interface test ->
 *   0x00, 0xAD/0xAE disable/enable the keyboard port, 0xC0 read input port, 0xD0/0xD1 read/write
 *   the output port (bit 0 low: system reset, bit 1: A20), 0xD2/0xD3 write the keyboard/aux
 *   output buffer (Linux's AUX loopback test), 0xD4 write to the aux device (there is none: the
 *   byte is dropped and nothing answers, as with no mouse plugged in), 0xDD/0xDF A20 off/on,
 *   0xF0-0xFF pulse output port bits (0xFE pulses reset). Unknown commands are ignored.
 * A system reset (0xFE, or 0xD1 with bit 0 clear) calls the board's reset callback, with no
 * device lock held, after the access. The A20 bit is recorded and reported (i8042_a20) but the
 * gate itself is the board's business.
 *
 * Keyboard (bytes written to 0x60 with no controller command pending): answers as a PS/2 MF2
 * keyboard: 0xFF reset -> 0xFA 0xAA; 0xF2 identify -> 0xFA 0xAB 0x83 (0x41 for the second ID byte
 * while CTR.XLATE is set, as the controller's translation makes it); 0xEE echo -> 0xEE; 0xED LEDs,
 * 0xF3 typematic and 0xF0 scan code set take one argument byte (0xF0 0 -> 0xFA 0xFA and the set,
 * 2); everything else -> 0xFA. No key is ever pressed (there is no host input yet), so the only
 * bytes the keyboard produces are these answers, and no scan code translation is needed
 * beyond the ID byte.
 *
 * Output. The controller's output buffer is fed from a queue of answers, each tagged keyboard or
 * aux. IRQ1 is high while the output buffer holds a keyboard byte and CTR.KBDINT is set, IRQ12
 * likewise for aux bytes and CTR.AUXINT; reading 0x60 drops the line before the next byte is
 * loaded, so an edge-triggered input sees one edge per byte. The keyboard sends nothing unasked,
 * so CTR.KBDDIS holds nothing back: a byte written to it is answered at once (the controller
 * clocks it out whatever the bit says).
 *
 * Threads: one mutex; the regions are registered COREMU_MMIO_LOCKLESS. The IRQ lines' set
 * functions are called under it and must not call back into the device.
 */
#ifndef COREMU_HW_I8042_H
#define COREMU_HW_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/irq.h>
#include <coremu/physmem.h>

#define I8042_DATA_PORT 0x60u
#define I8042_CMD_PORT  0x64u

#define I8042_STR_OBF     0x01u
#define I8042_STR_IBF     0x02u
#define I8042_STR_SYS     0x04u
#define I8042_STR_CMD     0x08u
#define I8042_STR_KEYLOCK 0x10u
#define I8042_STR_AUXDATA 0x20u

#define I8042_CTR_KBDINT 0x01u
#define I8042_CTR_AUXINT 0x02u
#define I8042_CTR_SYS    0x04u
#define I8042_CTR_KBDDIS 0x10u
#define I8042_CTR_AUXDIS 0x20u
#define I8042_CTR_XLATE  0x40u

struct i8042;

struct i8042_board {
    void (*reset)(void *opaque); /* the controller pulsed the reset line */
    void *opaque;
    struct coremu_irq_line irq1;  /* keyboard */
    struct coremu_irq_line irq12; /* aux */
};

extern const struct coremu_mmio_ops i8042_data_ops; /* port 0x60; opaque: struct i8042 */
extern const struct coremu_mmio_ops i8042_cmd_ops;  /* port 0x64 */

struct i8042 *i8042_new(const struct i8042_board *board);
void i8042_free(struct i8042 *kbc);
/* Maps ports 0x60 and 0x64 in the port-I/O space io. 0 or a negative errno. */
int i8042_map(struct i8042 *kbc, struct coremu_as *io);
/* Machine reset: the state a BIOS leaves (CTR = KBDINT | SYS | XLATE, A20 on, buffers empty). */
void i8042_reset(struct i8042 *kbc);
/* The output port's A20 bit. */
bool i8042_a20(struct i8042 *kbc);

#endif /* COREMU_HW_I8042_H */
