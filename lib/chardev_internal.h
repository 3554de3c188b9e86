/*
 * Character devices: what the generic part (chardev.c) shares with the back ends
 * (chardev_stdio.c, chardev_socket.c) and the input filters (chardev_mux.c). Not installed.
 *
 * Threads. A chardev is opened and closed by one front-end thread, written by any thread, and
 * served (input, output flushing, accepting connections) by its I/O thread. chr->lock protects
 * everything the two sides share; it is taken by core threads (writes) and by the I/O thread, and
 * it may be held while calling coremu_io_set_fd (the I/O thread never holds its own lock while
 * running a callback, so that order cannot invert). It is never held while a front-end handler or
 * the quit callback runs, so those may write to the chardev.
 *
 * Registration rule: every coremu_io_set_fd for a chardev's fds happens under chr->lock after
 * checking chr->closing, so once close has set closing the set of registered fds is final and
 * close can remove them (waiting for callbacks in flight) without racing a new registration.
 */
#ifndef COREMU_LIB_CHARDEV_INTERNAL_H
#define COREMU_LIB_CHARDEV_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <coremu/chardev.h>
#include <coremu/iothread.h>

/* Input bytes read ahead of the front end. A chardev whose filter reads ahead keeps reading into
 * it while the front end is full, so that C-a x still works when the guest stops reading. */
#define RT_CHR_INBUF 4096
/* Output kept while the peer is slow; beyond it output is dropped, as on a serial line. */
#define RT_CHR_OUTBUF       (64 * 1024)
#define RT_CHR_OUTBUF_STDIO (256 * 1024)

/* The parsed specification. Tri-state flags: -1 not given, 0 off, 1 on. */
struct rt_chardev_opts {
    char *backend; /* canonical: "null", "file", "stdio", "pty", "tcp" */
    char *id;
    char *path;
    char *host;
    char *port;
    const struct rt_chardev_filter *filter; /* mon: prefix or mux=on: the C-a escape */
    int server, wait, nodelay, append, signal;
};

enum rt_out_mode {
    RT_OUT_NONE,     /* output is dropped (null, unconnected socket) */
    RT_OUT_BLOCKING, /* plain blocking write(2): regular files */
    RT_OUT_NONBLOCK, /* non-blocking write(2), overflow kept in outbuf and flushed on POLLOUT */
    RT_OUT_SOCKET,   /* as NONBLOCK, through send(MSG_NOSIGNAL) */
};

struct coremu_chardev;

struct rt_chardev_backend {
    const char *name;
    /* Sets up the back end: fds, out_mode, owned fds. Runs on the opening thread; the I/O thread
     * may already see registrations made here. 0, or -1 with a one-line message in err (the
     * generic code then calls close, which must cope with a half-opened chardev). */
    int (*open)(struct coremu_chardev *chr, const struct rt_chardev_opts *o, char *err,
                size_t errlen);
    /* The connection (in_fd/out_fd) failed or ended. I/O thread, chr->lock held, !closing.
     * NULL: the generic code just stops input and drops output. */
    void (*hangup)(struct coremu_chardev *chr);
    /* Releases what open set up. Every registration is already removed and no callback of this
     * chardev runs any more. */
    void (*close)(struct coremu_chardev *chr);
    /* How long close waits for a slow reader to take the output still buffered; 0: one
     * non-blocking flush. */
    int close_flush_ms;
};

/*
 * An input filter between a back end and the front end (chardev_mux.c: the C-a escape). It sees
 * every byte read and passes on the front end's share with rt_chr_input_append; it may write to
 * the chardev and ask it to quit (rt_chr_quit). Its state is chr->filter_state, 0 on every new
 * connection.
 */
struct rt_chardev_filter {
    const char *name;
    /* Keep reading while the front end is full (up to RT_CHR_INBUF bytes), so that the filter's
     * commands get through when the guest stops reading. */
    bool reads_ahead;
    /* The filter gives the user a way out, so a terminal need not keep C-c as a signal. */
    bool has_quit_key;
    /* Consumes raw input bytes. I/O thread, no lock held. Returns false if the chardev is closing
     * and the rest of the input must be dropped. */
    bool (*feed)(struct coremu_chardev *chr, const uint8_t *buf, size_t len);
};

struct coremu_chardev {
    /* Set at open, read-only afterwards. */
    const struct rt_chardev_backend *be;
    const struct rt_chardev_filter *filter; /* NULL: input goes straight to the front end */
    struct coremu_iothread *io;
    char *id;
    char *pty_path;
    size_t outcap;               /* output buffer size for this back end */
    struct coremu_timer *resume; /* runs chr_resume on the I/O thread (accept_input) */

    pthread_mutex_t lock;
    /* Under lock. */
    struct coremu_chardev_handlers h;
    void *h_opaque;
    coremu_chardev_quit_fn quit;
    void *quit_opaque;
    bool closing;          /* set once by close; every callback then returns at once */
    int in_fd, out_fd;     /* current input / output fds, -1: none; may be the same fd */
    short in_reg, out_reg; /* events registered for in_fd / out_fd; -1: not registered */
    bool in_hold;          /* input not polled until the front end accepts or space frees */
    bool in_pending;       /* inbuf holds bytes the front end has not taken yet */
    uint64_t accept_seq;   /* bumped by every accept_input / set_handlers */
    bool in_ended;         /* end of input seen: not polled again on this connection */
    bool out_dead;         /* output failed: dropped until the connection changes */
    enum rt_out_mode out_mode;
    uint8_t *outbuf; /* allocated on first overflow, outcap bytes */
    size_t outoff, outlen;
    uint64_t out_dropped; /* bytes dropped because the peer was slow or gone */

    /* I/O thread only. */
    uint8_t inbuf[RT_CHR_INBUF];
    size_t inlen;
    unsigned filter_state; /* the filter's own; 0 on a new connection */
    unsigned depth;      /* this chardev's callbacks running (nested) on the I/O thread */
    bool close_deferred; /* close was asked from inside one of them: the outermost finishes it */

    /* Back-end state: written at open and, for sockets, under lock on the I/O thread. */
    int owned_in_fd, owned_out_fd; /* fds to close at close (-1: none or not ours) */
    int listen_fd;
    short listen_reg;
    int slave_fd;
    bool server, nodelay;
    bool owns_stdio;
    char *unix_path; /* a unix server's socket file, removed at close (NULL: none) */
};

/* Back ends (chardev_stdio.c, chardev_socket.c) and filters (chardev_mux.c). */
extern const struct rt_chardev_backend rt_chardev_stdio;
extern const struct rt_chardev_backend rt_chardev_pty;
extern const struct rt_chardev_backend rt_chardev_tcp;
extern const struct rt_chardev_filter rt_chardev_mux;

/* Writes message into err (one line, printf-style). Always returns -1. */
int rt_chr_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Registers in_fd/out_fd with the events the current state calls for. chr->lock held. */
void rt_chr_update_poll_locked(struct coremu_chardev *chr);
/* A new connection (sockets): fd becomes in_fd and out_fd. I/O thread or open, lock held. */
void rt_chr_set_conn_locked(struct coremu_chardev *chr, int fd, enum rt_out_mode mode);
/* Forgets the current connection: unregisters it, drops pending output and input; the caller
 * closes the fd. I/O thread (or open), lock held. Returns the fd that was connected, or -1. */
int rt_chr_drop_conn_locked(struct coremu_chardev *chr);
/* Bracket every I/O-thread callback a back end registers for chr itself (listen sockets), so a
 * close asked from inside it is finished when it returns. */
void rt_chr_cb_enter(struct coremu_chardev *chr);
void rt_chr_cb_leave(struct coremu_chardev *chr);

/* Flushes pending output for a short while, if the lock is free (atexit). */
void rt_chr_flush_at_exit(struct coremu_chardev *chr);

/* Input for the front end, from a filter: at most what the filter was fed. I/O thread. */
void rt_chr_input_append(struct coremu_chardev *chr, const uint8_t *buf, size_t len);
/* Asks the front end to quit (C-a x). I/O thread, no lock. */
void rt_chr_quit(struct coremu_chardev *chr, int status);

/* Terminal raw mode (chardev.c). Saves fd's attributes, switches it to raw input (keeping
 * output processing and, if allow_signals, ISIG), and arranges for coremu_chardev_restore_terminal
 * at exit and on fatal signals. 0 or -errno. */
int rt_term_enter_raw(int fd, bool allow_signals);

/* Opens a second file description of the file behind fd (through /proc/self/fd), so that
 * O_NONBLOCK can be set on it without affecting other processes sharing fd (the shell's
 * terminal). -1 if that is impossible. */
int rt_reopen_nonblock(int fd, int accmode);

#endif /* COREMU_LIB_CHARDEV_INTERNAL_H */
