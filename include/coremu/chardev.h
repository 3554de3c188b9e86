/*
 * coremu — character devices: the back ends of UARTs, consoles and the monitor.
 *
 * Back ends, in QEMU's spelling (-serial, -chardev, -monitor):
 *   stdio, mon:stdio (stdio with the Ctrl-A escape: "C-a x" quits, "C-a h" prints help,
 *   "C-a a" sends a literal Ctrl-A, "C-a c" is kept for the monitor), null, file:PATH, pty,
 *   tcp:HOST:PORT[,server=on|off][,wait=on|off][,nodelay=on] (also QEMU's older "server",
 *   "nowait", "nodelay"; an empty HOST is every address for a server, localhost for a client),
 *   and for -chardev: BACKEND,id=ID,... with path= (file), host= and port= (socket or tcp),
 *   append=on (file), signal=on|off (stdio: whether C-c stays a signal; on for stdio, off for
 *   mon:stdio), mux=on (the escape, as mon:). A "mon:" prefix gives any back end the escape.
 *   Unix sockets: unix:PATH[,server=on|off][,wait=on|off], or -chardev socket,path=PATH,...
 *   (a server replaces a stale socket file and removes its own when it closes).
 *   A tcp server waits for its first client inside coremu_chardev_open unless wait=off, and
 *   serves one client at a time. Only one chardev may use stdio at a time.
 * Input is delivered on the I/O thread to the front end's handlers; output may be written from
 * any thread and never blocks a guest core for long (a slow or absent peer drops data, as a
 * disconnected serial line would).
 * Whatever mode the host terminal is put in is restored on every exit path (close, exit() from
 * anywhere, and the fatal signals whose action was the default when the terminal was switched:
 * SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGPIPE; a
 * program with its own handlers calls coremu_chardev_restore_terminal from them).
 */
#ifndef COREMU_CHARDEV_H
#define COREMU_CHARDEV_H

#include <stdbool.h>
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

/* Parses spec and opens the back end, served by io (NULL: coremu_iothread_default()). On error
 * returns NULL and writes a one-line message (no newline) into err. */
struct coremu_chardev *coremu_chardev_open(struct coremu_iothread *io, const char *spec,
                                           char *err, size_t errlen);
/* The -chardev form as parsed into a key=value list (the back end under "backend", as
 * coremu/options.h's -chardev list has it): the same as coremu_chardev_open of the spec it
 * spells. A value with a comma in it is refused. */
struct coremu_kv;
struct coremu_chardev *coremu_chardev_open_kv(struct coremu_iothread *io,
                                              const struct coremu_kv *kv, char *err, size_t errlen);

/* What a specification asks for, checked without opening anything (for command-line checks
 * before the machine is built). */
struct coremu_chardev_info {
    bool stdio; /* the stdio back end, which only one chardev may use */
    bool mux;   /* mon: prefix or mux=on: the C-a escape */
};
/* 0 and *info, or -1 with a one-line message in err (a kv as for coremu_chardev_open_kv). */
int coremu_chardev_check(const char *spec, struct coremu_chardev_info *info, char *err,
                         size_t errlen);
int coremu_chardev_check_kv(const struct coremu_kv *kv, struct coremu_chardev_info *info, char *err,
                            size_t errlen);

/* The id= of the -chardev form; NULL when the spec gave none. */
const char *coremu_chardev_id(const struct coremu_chardev *chr);
/* Path of the pty's slave, for "char device redirected to /dev/pts/N". NULL otherwise. */
const char *coremu_chardev_pty_path(const struct coremu_chardev *chr);

/* Any thread. Input arriving before there are handlers is held for them (h NULL: none). */
void coremu_chardev_set_handlers(struct coremu_chardev *chr,
                                 const struct coremu_chardev_handlers *h, void *opaque);
/* Any thread. Without a quit callback, C-a x calls the default one (below), else exit(0). */
void coremu_chardev_set_quit(struct coremu_chardev *chr, coremu_chardev_quit_fn fn, void *opaque);
/* The quit callback of every chardev that has none of its own (the consoles a device model
 * opened): the binary points it at its machine while one runs. fn NULL: exit(). Any thread. */
void coremu_chardev_set_default_quit(coremu_chardev_quit_fn fn, void *opaque);
/* The front end can take input again (its FIFO drained). Any thread. */
void coremu_chardev_accept_input(struct coremu_chardev *chr);
/* The front end will take input again at virtual time when_ns (coremu_clock_ns), not before: a
 * device that paces its input (a UART at its baud rate) says so from can_read when it returns 0
 * for that reason. Input is held until then; a later call, or coremu_chardev_accept_input,
 * replaces the time. Any thread, including the handlers. */
void coremu_chardev_accept_input_at(struct coremu_chardev *chr, int64_t when_ns);
/* Writes bytes; any thread, serialised per chardev (one call's bytes are never interleaved with
 * another's). Returns len: bytes a slow or absent peer cannot take are dropped, not refused. Only
 * a back end that failed for good (a file write error) returns fewer, or -1 with errno. */
ssize_t coremu_chardev_write(struct coremu_chardev *chr, const uint8_t *buf, size_t len);
/* Any thread, once no other thread uses chr any more. From another thread than the I/O thread it
 * waits for a handler in flight, so the caller must not hold a lock its handlers take. From
 * inside a handler or the quit callback the chardev goes away when that callback returns. */
void coremu_chardev_close(struct coremu_chardev *chr);

/* Restores the host terminal if a back end changed it (idempotent, async-signal-safe). */
void coremu_chardev_restore_terminal(void);

#endif /* COREMU_CHARDEV_H */
