/*
 * coremu — the stdio character device (the console of -nographic) and the C-a escape of mux
 * chardevs (mon:stdio).
 *
 * stdin and stdout are shared with the shell that started us, so their file descriptions are
 * never made non-blocking: where possible we open our own descriptions of the same terminal or
 * pipe (rt_reopen_nonblock) and make those non-blocking. A terminal on stdin is put in raw mode
 * and restored on every way out (close, exit, fatal signals: see rt_term_enter_raw).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <coremu/chardev.h>

#include "chardev_internal.h"

#define ESC_CHAR 0x01 /* C-a */

/* Only one chardev may own stdio: two would steal each other's input and terminal mode. */
static atomic_bool stdio_busy;
/* The open stdio chardev, for the atexit flush; set at open, cleared at close. */
static _Atomic(struct coremu_chardev *) stdio_chr;
static pthread_once_t stdio_once = PTHREAD_ONCE_INIT;
/* Whether this chardev put the terminal in raw mode; written at open, read at close. */
static bool stdio_raw;

static void stdio_atexit(void)
{
    struct coremu_chardev *chr = atomic_load(&stdio_chr);
    if (chr) {
        rt_chr_flush_at_exit(chr);
    }
    coremu_chardev_restore_terminal();
}

static void stdio_install(void)
{
    atexit(stdio_atexit);
}

static int stdio_open(struct coremu_chardev *chr, const struct rt_chardev_opts *o, char *err,
                      size_t errlen)
{
    if (atomic_exchange(&stdio_busy, true)) {
        return rt_chr_error(err, errlen, "stdio is already used by another character device");
    }
    chr->owns_stdio = true;
    pthread_once(&stdio_once, stdio_install);
    chr->outcap = RT_CHR_OUTBUF_STDIO;
    stdio_raw = false;

    if (fcntl(0, F_GETFL) >= 0) {
        int in = rt_reopen_nonblock(0, O_RDONLY);
        if (in >= 0) {
            chr->owned_in_fd = in;
        } else {
            in = 0; /* read only after POLLIN: a blocking read returns at once */
        }
        chr->in_fd = in;
        if (isatty(0)) {
            /* Plain stdio keeps C-c as a signal (QEMU's signal=on); mon:stdio passes it to the
             * guest, since C-a x is the way out. */
            bool allow_signals = o->signal >= 0 ? o->signal == 1 : !chr->mux;
            stdio_raw = rt_term_enter_raw(0, allow_signals) == 0;
        }
    }

    int fl = fcntl(1, F_GETFL);
    if (fl >= 0) {
        struct stat st;
        int out;
        if (fstat(1, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
            chr->out_fd = 1;
            chr->out_mode = RT_OUT_BLOCKING; /* files never keep us waiting for a reader */
        } else if ((out = rt_reopen_nonblock(1, O_WRONLY)) >= 0) {
            chr->out_fd = chr->owned_out_fd = out;
            chr->out_mode = RT_OUT_NONBLOCK;
        } else if (S_ISSOCK(st.st_mode)) {
            chr->out_fd = 1;
            chr->out_mode = RT_OUT_SOCKET; /* send(MSG_DONTWAIT): no shared flag to change */
        } else {
            chr->out_fd = 1;
            chr->out_mode = (fl & O_NONBLOCK) ? RT_OUT_NONBLOCK : RT_OUT_BLOCKING;
        }
    }
    atomic_store(&stdio_chr, chr);
    return 0;
}

static void stdio_close(struct coremu_chardev *chr)
{
    if (!chr->owns_stdio) {
        return; /* open failed because another chardev has stdio */
    }
    atomic_store(&stdio_chr, NULL);
    if (stdio_raw) {
        coremu_chardev_restore_terminal();
        stdio_raw = false;
    }
    if (chr->owned_in_fd >= 0) {
        close(chr->owned_in_fd);
    }
    if (chr->owned_out_fd >= 0) {
        close(chr->owned_out_fd);
    }
    atomic_store(&stdio_busy, false);
}

const struct rt_chardev_backend rt_chardev_stdio = {
    .name = "stdio",
    .open = stdio_open,
    .close = stdio_close,
};

/* ---- the C-a escape -------------------------------------------------------------------------- */

static const char esc_help[] = "\r\n"
                               "C-a h    print this help\r\n"
                               "C-a x    quit the emulator\r\n"
                               "C-a c    switch to the monitor\r\n"
                               "C-a a    send C-a to the guest (C-a C-a too)\r\n";

static void esc_say(struct coremu_chardev *chr, const char *msg)
{
    coremu_chardev_write(chr, (const uint8_t *)msg, strlen(msg));
}

bool rt_chr_mux_feed(struct coremu_chardev *chr, const uint8_t *buf, size_t len)
{
    size_t run = 0; /* start of the plain bytes not yet appended */
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (chr->esc_state == 0) {
            if (c == ESC_CHAR) {
                rt_chr_input_append(chr, buf + run, i - run);
                run = i + 1;
                chr->esc_state = 1;
            }
            continue;
        }
        chr->esc_state = 0;
        run = i + 1;
        switch (c) {
        case 'a':
        case ESC_CHAR: {
            static const uint8_t esc = ESC_CHAR;
            rt_chr_input_append(chr, &esc, 1);
            break;
        }
        case 'x':
            esc_say(chr, "\r\ncoremu: quit (C-a x)\r\n");
            rt_chr_quit(chr, 0);
            pthread_mutex_lock(&chr->lock);
            bool closing = chr->closing;
            pthread_mutex_unlock(&chr->lock);
            if (closing) {
                return false;
            }
            break;
        case 'h':
        case '?':
            esc_say(chr, esc_help);
            break;
        case 'c':
            esc_say(chr, "\r\ncoremu: the monitor is not available yet\r\n");
            break;
        default:
            break; /* an unknown escape is swallowed, as a terminal server would */
        }
    }
    if (chr->esc_state == 0) {
        rt_chr_input_append(chr, buf + run, len - run);
    }
    return true;
}
