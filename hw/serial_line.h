/*
 * coremu — the line rate of a UART's receiver, shared by the UART models (pl011, uart16550).
 *
 * A UART takes input from its character device no faster than its serial line would carry it
 * at the programmed baud rate and frame: each character takes char_ns on the line, and a burst
 * is at most what the receive FIFO holds. A line idle for a while has a whole burst "in flight"
 * (the host's buffered input, delivered at once, as a real UART would have received it
 * meanwhile); after a burst the credit comes back one character per character time. When the
 * credit is used up, the UART tells its character device when a whole burst is available again
 * (coremu_chardev_accept_input_at with serial_line_full_at), so the hand-over happens once per
 * burst, not once per character, however the guest reads. So a flood of input (stdin from
 * /dev/zero) costs the guest what it costs on real hardware, instead of keeping a core in its
 * interrupt handler for ever.
 *
 * The state belongs to the UART and is used under the UART's lock.
 */
#ifndef COREMU_HW_SERIAL_LINE_H
#define COREMU_HW_SERIAL_LINE_H

#include <stddef.h>
#include <stdint.h>

struct serial_line {
    /* The line has brought one character per character time since base_ns, at most a burst;
     * SERIAL_LINE_IDLE: a whole burst is available. */
    int64_t base_ns;
};

#define SERIAL_LINE_IDLE INT64_MIN

/* An idle line: a whole burst available (reset, power-on). */
static inline void serial_line_reset(struct serial_line *line)
{
    line->base_ns = SERIAL_LINE_IDLE;
}

/* How many characters the line could have brought by now (coremu_clock_ns), at most burst. */
static inline unsigned serial_line_credit(const struct serial_line *line, unsigned burst,
                                          int64_t now, int64_t char_ns)
{
    if (line->base_ns == SERIAL_LINE_IDLE || now - line->base_ns >= (int64_t)burst * char_ns) {
        return burst;
    }
    return now > line->base_ns ? (unsigned)((now - line->base_ns) / char_ns) : 0;
}

/* When the line will have a whole burst again; meaningful while the credit is short of one. */
static inline int64_t serial_line_full_at(const struct serial_line *line, unsigned burst,
                                          int64_t char_ns)
{
    return line->base_ns + (int64_t)burst * char_ns;
}

/* len characters were received at now: they used up that much of the credit. */
static inline void serial_line_consume(struct serial_line *line, unsigned burst, int64_t now,
                                       int64_t char_ns, size_t len)
{
    unsigned credit = serial_line_credit(line, burst, now, char_ns);
    unsigned left = credit > len ? credit - (unsigned)len : 0;
    line->base_ns = now - (int64_t)left * char_ns;
}

#endif /* COREMU_HW_SERIAL_LINE_H */
