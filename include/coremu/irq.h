/*
 * coremu — an interrupt line from a device to whatever the board wires it to (an interrupt
 * controller's input, a test's probe, nothing).
 *
 * The device owns the line's level and calls coremu_irq_set when it changes; the board fills in
 * set and opaque when it creates the device. Devices call set with their own lock held (so that
 * level changes arrive in the order they happened), on whichever thread changed the level, so
 * the receiver must not call back into the device. A line whose set is NULL is not connected.
 */
#ifndef COREMU_IRQ_H
#define COREMU_IRQ_H

#include <stdbool.h>
#include <stddef.h>

struct coremu_irq_line {
    void (*set)(void *opaque, bool level);
    void *opaque;
};

/* Drives line to level; does nothing when line is NULL or not connected. */
static inline void coremu_irq_set(const struct coremu_irq_line *line, bool level)
{
    if (line != NULL && line->set != NULL) {
        line->set(line->opaque, level);
    }
}

#endif /* COREMU_IRQ_H */
