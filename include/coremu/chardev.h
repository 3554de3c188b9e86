/*
 * coremu — character devices: the back ends of UARTs, consoles and the monitor.
 *
 * Back ends, in QEMU's spelling (-serial, -chardev, -monitor):
 *   stdio, mon:stdio (stdio with the Ctrl-A escape: "C-a x" quits, "C-a h" prints help,
 *   "C-a a" sends a literal Ctrl-A), null, file:PATH, pty, tcp:HOST:PORT[,server=on|off]
 *   [,wait=on|off][,nodelay=on], and for -chardev: BACKEND,id=ID,... (path=, host=, port=).
 * Input is delivered on the I/O thread to the front end's handlers; output may be written from
 * any thread and never blocks a guest core for long (a slow or absent peer drops data, as a
 * disconnected serial line would).
 * Whatever mode the host terminal is put in is restored on every exit path (normal exit, exit()
 * from anywhere, fatal signals).
 */
#ifndef COREMU_CHARDEV_H
#define COREMU_CHARDEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct coremu_chardev;
struct coremu_iothread;

/* Front end callbacks, run on the I/O thread. can_read returns how many bytes the front end
 * accepts now (0: hold the input until coremu_chardev_accept_input is called). */
struct coremu_chardev_handlers {
    size_t (*can_read)(void *opaque);
    void (*read)(void *opaque, const uint8_t *buf, size_t len);
};

/* Called when the user asks to quit through the escape (C-a x); status is the exit status. */
typedef void (*coremu_chardev_quit_fn)(void *opaque, int status);

/* Parses spec and opens the back end. On error returns NULL and writes a one-line message into
 * err. id may be NULL. */
struct coremu_chardev *coremu_chardev_open(struct coremu_iothread *io, const char *spec,
                                           char *err, size_t errlen);
const char *coremu_chardev_id(const struct coremu_chardev *chr);
/* Path of the pty's slave, for "char device redirected to /dev/pts/N". NULL otherwise. */
const char *coremu_chardev_pty_path(const struct coremu_chardev *chr);

void coremu_chardev_set_handlers(struct coremu_chardev *chr,
                                 const struct coremu_chardev_handlers *h, void *opaque);
void coremu_chardev_set_quit(struct coremu_chardev *chr, coremu_chardev_quit_fn fn, void *opaque);
/* The front end can take input again (its FIFO drained). Any thread. */
void coremu_chardev_accept_input(struct coremu_chardev *chr);
/* Writes bytes; any thread. Returns bytes accepted (all of them unless the back end is gone). */
ssize_t coremu_chardev_write(struct coremu_chardev *chr, const uint8_t *buf, size_t len);
void coremu_chardev_close(struct coremu_chardev *chr);

/* Restores the host terminal if a back end changed it (idempotent, async-signal-safe). */
void coremu_chardev_restore_terminal(void);

#endif /* COREMU_CHARDEV_H */
