/*
 * coremu — the C-a escape ("mon:" prefix or mux=on), as an input filter that any back end can
 * carry (mon:stdio is the console of -nographic): "C-a x" quits, "C-a h" prints help, "C-a a"
 * or "C-a C-a" sends a literal C-a, "C-a c" is kept for the monitor, any other escape is
 * swallowed.
 *
 * The generic code hands the filter every byte read and reads ahead of the front end for it
 * (reads_ahead), so that C-a x still gets through when the guest stops reading.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <coremu/chardev.h>

#include "chardev_internal.h"

#define ESC_CHAR 0x01 /* C-a */

/* chr->filter_state: what the previous bytes left the escape in. */
enum { MUX_PLAIN = 0, MUX_AFTER_ESC = 1 };

static const char esc_help[] = "\r\n"
                               "C-a h    print this help\r\n"
                               "C-a x    quit the emulator\r\n"
                               "C-a c    switch to the monitor (not yet)\r\n"
                               "C-a a    send C-a to the guest (C-a C-a too)\r\n";

static void mux_say(struct coremu_chardev *chr, const char *msg)
{
    coremu_chardev_write(chr, (const uint8_t *)msg, strlen(msg));
}

/* Carries out the command c that followed C-a. False if the chardev is closing (C-a x from a
 * quit callback that closed it). */
static bool mux_command(struct coremu_chardev *chr, uint8_t c)
{
    switch (c) {
    case 'a':
    case ESC_CHAR: {
        static const uint8_t esc = ESC_CHAR;
        rt_chr_input_append(chr, &esc, 1);
        return true;
    }
    case 'x': {
        mux_say(chr, "\r\ncoremu: quit (C-a x)\r\n");
        rt_chr_quit(chr, 0);
        pthread_mutex_lock(&chr->lock);
        bool closing = chr->closing;
        pthread_mutex_unlock(&chr->lock);
        return !closing;
    }
    case 'h':
    case '?':
        mux_say(chr, esc_help);
        return true;
    case 'c':
        mux_say(chr, "\r\ncoremu: the monitor is not available yet\r\n");
        return true;
    default:
        return true; /* an unknown escape is swallowed, as a terminal server would */
    }
}

static bool mux_feed(struct coremu_chardev *chr, const uint8_t *buf, size_t len)
{
    size_t run = 0; /* start of the plain bytes not yet appended */
    for (size_t i = 0; i < len; i++) {
        if (chr->filter_state == MUX_PLAIN) {
            if (buf[i] == ESC_CHAR) {
                rt_chr_input_append(chr, buf + run, i - run);
                run = i + 1;
                chr->filter_state = MUX_AFTER_ESC;
            }
            continue;
        }
        chr->filter_state = MUX_PLAIN;
        run = i + 1;
        if (!mux_command(chr, buf[i])) {
            return false;
        }
    }
    if (chr->filter_state == MUX_PLAIN) {
        rt_chr_input_append(chr, buf + run, len - run);
    }
    return true;
}

const struct rt_chardev_filter rt_chardev_mux = {
    .name = "mux",
    .reads_ahead = true,
    .has_quit_key = true,
    .feed = mux_feed,
};
