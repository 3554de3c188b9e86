/*
 * coremu — the stdio character device (the console of -nographic).
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
            /* Plain stdio keeps C-c as a signal (QEMU's signal=on); behind a filter with its own
             * way out (mon:stdio's C-a x) it goes to the guest. */
            bool quit_key = chr->filter != NULL && chr->filter->has_quit_key;
            bool allow_signals = o->signal >= 0 ? o->signal == 1 : !quit_key;
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
    .close_flush_ms = 1000, /* the last words of a console matter */
};
