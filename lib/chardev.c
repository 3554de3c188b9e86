/*
 * coremu — character devices, the generic part: specification parsing, the input and output
 * paths shared by every back end and filter, the null and file back ends, and the host
 * terminal's restore.
 *
 * Input is read on the I/O thread into chr->inbuf and handed to the front end as far as its
 * can_read allows; when the front end is full the fd is no longer polled (in_hold) until
 * coremu_chardev_accept_input arms chr->resume. Output is written straight through when the fd
 * takes it; what does not fit waits in a bounded buffer flushed on POLLOUT, and what does not fit
 * there is dropped, so a core thread never waits for a slow peer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <coremu/chardev.h>
#include <coremu/clock.h>
#include <coremu/iothread.h>
#include <coremu/options.h>
#include <coremu/util.h>

#include "chardev_internal.h"

/* ---- errors and small helpers ---------------------------------------------------------------- */

int rt_chr_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int rt_reopen_nonblock(int fd, int accmode)
{
    struct stat st, st2;
    if (fstat(fd, &st) < 0) {
        return -1;
    }
    /* Only terminals and pipes can block forever; other files keep their own description. */
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        return -1;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int nfd = open(path, accmode | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (nfd < 0) {
        return -1;
    }
    if (fstat(nfd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino ||
        st2.st_rdev != st.st_rdev) {
        close(nfd);
        return -1;
    }
    return nfd;
}

/* ---- terminal restore ------------------------------------------------------------------------ */

/*
 * The saved attributes are written before term_raw is set (release) and read only after
 * exchanging it back to 0, so the signal handler, atexit and close never read a half-written
 * copy, and exactly one of them restores.
 */
static struct termios term_saved;
static int term_fd = -1;
static atomic_int term_raw;
static pthread_once_t term_once = PTHREAD_ONCE_INIT;

static const int term_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT,
                                   SIGSEGV, SIGBUS, SIGFPE, SIGILL,  SIGPIPE};

void coremu_chardev_restore_terminal(void)
{
    if (atomic_exchange_explicit(&term_raw, 0, memory_order_acq_rel)) {
        tcsetattr(term_fd, TCSANOW, &term_saved);
    }
}

static void term_signal(int sig)
{
    int saved_errno = errno;
    coremu_chardev_restore_terminal();
    /* SA_RESETHAND put back the default action and SA_NODEFER leaves sig unblocked: this ends
     * the process the way the signal would have without us. */
    raise(sig);
    errno = saved_errno;
}

static void term_atexit(void)
{
    coremu_chardev_restore_terminal();
}

static void term_install(void)
{
    atexit(term_atexit);
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(term_signals); i++) {
        struct sigaction old, sa;
        if (sigaction(term_signals[i], NULL, &old) < 0) {
            continue;
        }
        /* A handler the program installed (or an ignored signal) is its business: it is told to
         * call coremu_chardev_restore_terminal itself. */
        if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) {
            continue;
        }
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = term_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        sigaction(term_signals[i], &sa, NULL);
    }
}

int rt_term_enter_raw(int fd, bool allow_signals)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0) {
        return -errno;
    }
    pthread_once(&term_once, term_install);
    if (atomic_load_explicit(&term_raw, memory_order_acquire)) {
        return -EBUSY;
    }
    term_saved = t;
    term_fd = fd;
    atomic_store_explicit(&term_raw, 1, memory_order_release);

    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag |= OPOST; /* keep the host's newline handling for the guest's output */
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
    if (!allow_signals) {
        t.c_lflag &= ~(tcflag_t)ISIG;
    }
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) < 0) {
        int e = errno;
        atomic_store_explicit(&term_raw, 0, memory_order_release);
        return -e;
    }
    return 0;
}

/* ---- specification parsing ------------------------------------------------------------------- */

enum {
    K_ID = 1 << 0,
    K_PATH = 1 << 1,
    K_HOST = 1 << 2,
    K_PORT = 1 << 3,
    K_SERVER = 1 << 4,
    K_WAIT = 1 << 5,
    K_NODELAY = 1 << 6,
    K_APPEND = 1 << 7,
    K_SIGNAL = 1 << 8,
    K_MUX = 1 << 9,
};

static const struct rt_chardev_backend chardev_null;
static const struct rt_chardev_backend chardev_file;

static const struct {
    const char *name;
    const char *canonical;
    const struct rt_chardev_backend *be;
    unsigned keys;
} backends[] = {
    {"null", "null", &chardev_null, K_ID | K_MUX},
    {"file", "file", &chardev_file, K_ID | K_PATH | K_APPEND | K_MUX},
    {"stdio", "stdio", &rt_chardev_stdio, K_ID | K_SIGNAL | K_MUX},
    {"pty", "pty", &rt_chardev_pty, K_ID | K_MUX},
    {"tcp", "tcp", &rt_chardev_tcp, K_ID | K_HOST | K_PORT | K_SERVER | K_WAIT | K_NODELAY | K_MUX},
    {"socket", "tcp", &rt_chardev_tcp,
     K_ID | K_PATH | K_HOST | K_PORT | K_SERVER | K_WAIT | K_NODELAY | K_MUX},
    {"unix", "tcp", &rt_chardev_tcp, K_ID | K_PATH | K_SERVER | K_WAIT | K_MUX},
};

static void opts_free(struct rt_chardev_opts *o)
{
    free(o->backend);
    free(o->id);
    free(o->path);
    free(o->host);
    free(o->port);
}

static int parse_bool(const char *key, const char *val, int *out, char *err, size_t errlen)
{
    if (!val || !strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "true")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "false")) {
        *out = 0;
        return 0;
    }
    return rt_chr_error(err, errlen, "invalid value '%s' for option '%s' (expected on or off)", val,
                        key);
}

static int set_str(char **dst, const char *val, const char *key, char *err, size_t errlen)
{
    if (!val) {
        return rt_chr_error(err, errlen, "option '%s' needs a value", key);
    }
    free(*dst);
    *dst = strdup(val);
    return *dst ? 0 : rt_chr_error(err, errlen, "out of memory");
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (empty host). */
static int parse_hostport(const char *arg, struct rt_chardev_opts *o, char *err, size_t errlen)
{
    const char *colon;
    const char *hbeg = arg, *hend;
    if (arg[0] == '[') {
        hbeg = arg + 1;
        hend = strchr(hbeg, ']');
        if (!hend || hend[1] != ':') {
            return rt_chr_error(err, errlen, "invalid address 'tcp:%s' (expected tcp:HOST:PORT)",
                                arg);
        }
        colon = hend + 1;
    } else {
        colon = strrchr(arg, ':');
        if (!colon) {
            return rt_chr_error(err, errlen, "missing port in 'tcp:%s' (expected tcp:HOST:PORT)",
                                arg);
        }
        hend = colon;
    }
    o->host = strndup(hbeg, (size_t)(hend - hbeg));
    o->port = strdup(colon + 1);
    if (!o->host || !o->port) {
        return rt_chr_error(err, errlen, "out of memory");
    }
    return 0;
}

static const struct {
    const char *key;
    unsigned bit;
    enum { OPT_STR, OPT_BOOL, OPT_FILTER } kind;
    size_t off; /* of the field in struct rt_chardev_opts */
} opt_descs[] = {
    {"id", K_ID, OPT_STR, offsetof(struct rt_chardev_opts, id)},
    {"path", K_PATH, OPT_STR, offsetof(struct rt_chardev_opts, path)},
    {"host", K_HOST, OPT_STR, offsetof(struct rt_chardev_opts, host)},
    {"port", K_PORT, OPT_STR, offsetof(struct rt_chardev_opts, port)},
    {"server", K_SERVER, OPT_BOOL, offsetof(struct rt_chardev_opts, server)},
    {"wait", K_WAIT, OPT_BOOL, offsetof(struct rt_chardev_opts, wait)},
    {"nodelay", K_NODELAY, OPT_BOOL, offsetof(struct rt_chardev_opts, nodelay)},
    {"append", K_APPEND, OPT_BOOL, offsetof(struct rt_chardev_opts, append)},
    {"signal", K_SIGNAL, OPT_BOOL, offsetof(struct rt_chardev_opts, signal)},
    {"mux", K_MUX, OPT_FILTER, 0},
};

/* The filter that the "mon:" prefix and mux=on put in front of a back end. */
static const struct rt_chardev_filter *const escape_filter = &rt_chardev_mux;

static int parse_option(struct rt_chardev_opts *o, unsigned allowed, char *elem, char *err,
                        size_t errlen)
{
    char *eq = strchr(elem, '=');
    const char *val = NULL;
    if (eq) {
        *eq = '\0';
        val = eq + 1;
    }
    const char *key = elem;

    /* QEMU's older spellings: bare "server", "nowait", "nodelay" (and any bare boolean). */
    if (!val && !strcmp(key, "nowait")) {
        key = "wait";
        val = "off";
    }
    size_t i;
    for (i = 0; i < COREMU_ARRAY_SIZE(opt_descs); i++) {
        if (!strcmp(key, opt_descs[i].key)) {
            break;
        }
    }
    if (i == COREMU_ARRAY_SIZE(opt_descs) || !(opt_descs[i].bit & allowed)) {
        return rt_chr_error(err, errlen, "unknown option '%s' for character device backend '%s'",
                            key, o->backend);
    }
    void *field = (char *)o + opt_descs[i].off;
    switch (opt_descs[i].kind) {
    case OPT_STR:
        return set_str(field, val, key, err, errlen);
    case OPT_BOOL:
        return parse_bool(key, val, field, err, errlen);
    case OPT_FILTER: {
        int on;
        if (parse_bool(key, val, &on, err, errlen) < 0) {
            return -1;
        }
        if (on) {
            o->filter = escape_filter;
        }
        return 0;
    }
    }
    return -1;
}

static int valid_port(const char *p, bool allow_zero)
{
    if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p)) {
        return 0;
    }
    long v = strtol(p, NULL, 10);
    return v <= 65535 && (v > 0 || allow_zero);
}

/*
 * Both spellings go through one parser: QEMU's -serial form ("file:PATH", "tcp:HOST:PORT,server")
 * carries an argument after the back end's name; the -chardev form ("socket,id=s,port=4444")
 * has none and a key=value list. Options after the first comma are the same in both.
 */
static const struct rt_chardev_backend *parse_spec(const char *spec, struct rt_chardev_opts *o,
                                                   char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->server = o->wait = o->nodelay = o->append = o->signal = -1;
    if (!spec || !*spec) {
        rt_chr_error(err, errlen, "empty character device specification");
        return NULL;
    }
    if (!strncmp(spec, "mon:", 4)) {
        o->filter = escape_filter;
        spec += 4;
    }
    char *copy = strdup(spec);
    if (!copy) {
        rt_chr_error(err, errlen, "out of memory");
        return NULL;
    }
    const struct rt_chardev_backend *be = NULL;
    char *rest = strchr(copy, ',');
    if (rest) {
        *rest++ = '\0';
    }
    char *arg = strchr(copy, ':');
    if (arg) {
        *arg++ = '\0';
    }
    size_t bi;
    for (bi = 0; bi < COREMU_ARRAY_SIZE(backends); bi++) {
        if (!strcmp(copy, backends[bi].name)) {
            break;
        }
    }
    if (bi == COREMU_ARRAY_SIZE(backends)) {
        rt_chr_error(err, errlen, "unknown character device backend '%s'", copy);
        goto out;
    }
    o->backend = strdup(backends[bi].canonical);
    if (!o->backend) {
        rt_chr_error(err, errlen, "out of memory");
        goto out;
    }
    if (arg) {
        if (!strcmp(copy, "file") || !strcmp(copy, "unix")) {
            o->path = strdup(arg);
        } else if (!strcmp(copy, "tcp")) {
            if (parse_hostport(arg, o, err, errlen) < 0) {
                goto out;
            }
        } else {
            rt_chr_error(err, errlen, "character device backend '%s' takes no argument ('%s:%s')",
                         copy, copy, arg);
            goto out;
        }
    }
    while (rest && *rest) {
        char *next = strchr(rest, ',');
        if (next) {
            *next++ = '\0';
        }
        if (*rest && parse_option(o, backends[bi].keys, rest, err, errlen) < 0) {
            goto out;
        }
        rest = next;
    }

    /* Per-back-end checks, so that open only sees a complete specification. */
    if (!strcmp(o->backend, "file") && (!o->path || !*o->path)) {
        rt_chr_error(err, errlen, "file backend needs a path (file:PATH or path=PATH)");
        goto out;
    }
    if (!strcmp(o->backend, "tcp")) {
        if (o->path && (o->host || o->port)) {
            rt_chr_error(err, errlen, "a socket has either path= (unix) or host= and port= (tcp)");
            goto out;
        }
        if (o->path && !*o->path) {
            rt_chr_error(err, errlen, "unix socket needs a path (unix:PATH or path=PATH)");
            goto out;
        }
        if (!strcmp(copy, "unix") && !o->path) {
            rt_chr_error(err, errlen, "unix socket needs a path (unix:PATH or path=PATH)");
            goto out;
        }
        if (o->path) {
            if (o->server != 1 && o->wait >= 0) {
                rt_chr_error(err, errlen, "option 'wait' needs server=on");
                goto out;
            }
            be = backends[bi].be;
            goto out;
        }
        if (!o->port || !*o->port) {
            rt_chr_error(err, errlen, "tcp backend needs a port (tcp:HOST:PORT or port=PORT)");
            goto out;
        }
        if (!valid_port(o->port, o->server == 1)) {
            rt_chr_error(err, errlen, "invalid port '%s'", o->port);
            goto out;
        }
        if (o->server != 1 && o->wait >= 0) {
            rt_chr_error(err, errlen, "option 'wait' needs server=on");
            goto out;
        }
    }
    be = backends[bi].be;
out:
    free(copy);
    return be;
}

/* ---- the generic input and output paths ------------------------------------------------------ */

static void chr_fd_cb(void *opaque, int fd, short revents);

static bool out_polled(const struct coremu_chardev *chr)
{
    return chr->out_mode == RT_OUT_NONBLOCK || chr->out_mode == RT_OUT_SOCKET;
}

static void chr_reg_locked(struct coremu_chardev *chr, int fd, short *reg, short ev)
{
    if (*reg != ev && coremu_io_set_fd(chr->io, fd, ev, chr_fd_cb, chr) == 0) {
        *reg = ev;
    }
}

void rt_chr_update_poll_locked(struct coremu_chardev *chr)
{
    if (chr->closing) {
        return;
    }
    short in_ev = chr->in_fd >= 0 && !chr->in_hold && !chr->in_ended ? POLLIN : 0;
    short out_ev =
        chr->out_fd >= 0 && out_polled(chr) && !chr->out_dead && chr->outlen ? POLLOUT : 0;
    if (chr->in_fd >= 0 && chr->in_fd == chr->out_fd) {
        chr_reg_locked(chr, chr->in_fd, &chr->in_reg, (short)(in_ev | out_ev));
        return;
    }
    if (chr->in_fd >= 0) {
        chr_reg_locked(chr, chr->in_fd, &chr->in_reg, in_ev);
    }
    if (chr->out_fd >= 0 && out_polled(chr)) {
        chr_reg_locked(chr, chr->out_fd, &chr->out_reg, out_ev);
    }
}

void rt_chr_set_conn_locked(struct coremu_chardev *chr, int fd, enum rt_out_mode mode)
{
    chr->in_fd = chr->out_fd = fd;
    chr->in_reg = chr->out_reg = -1;
    chr->in_hold = chr->in_ended = chr->out_dead = false;
    chr->outoff = chr->outlen = 0;
    chr->out_mode = mode;
    rt_chr_update_poll_locked(chr);
}

int rt_chr_drop_conn_locked(struct coremu_chardev *chr)
{
    int fd = chr->in_fd;
    if (fd < 0) {
        return -1;
    }
    if (chr->in_reg >= 0) {
        coremu_io_remove_fd(chr->io, fd); /* on the I/O thread: does not wait */
    }
    chr->in_fd = chr->out_fd = -1;
    chr->in_reg = chr->out_reg = -1;
    chr->out_mode = RT_OUT_NONE;
    chr->out_dropped += chr->outlen;
    chr->outoff = chr->outlen = 0;
    chr->in_hold = chr->in_ended = chr->out_dead = false;
    chr->inlen = 0;
    chr->filter_state = 0;
    return fd;
}

static ssize_t chr_raw_write(struct coremu_chardev *chr, const uint8_t *buf, size_t len)
{
    if (chr->out_mode == RT_OUT_SOCKET) {
        return send(chr->out_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    return write(chr->out_fd, buf, len);
}

/* Output failed for good on this connection. Lock held. */
static void chr_out_failed_locked(struct coremu_chardev *chr)
{
    chr->out_dead = true;
    chr->out_dropped += chr->outlen;
    chr->outoff = chr->outlen = 0;
}

/* Writes what the buffer holds until the fd is full. Lock held. */
static void chr_flush_out_locked(struct coremu_chardev *chr)
{
    while (chr->outlen > 0 && !chr->out_dead) {
        ssize_t n = chr_raw_write(chr, chr->outbuf + chr->outoff, chr->outlen);
        if (n > 0) {
            chr->outoff += (size_t)n;
            chr->outlen -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            chr_out_failed_locked(chr);
        }
    }
    if (chr->outlen == 0) {
        chr->outoff = 0;
    }
}

/* Flushes for at most timeout_ms, waiting for the peer: used when closing and at exit. */
static void chr_flush_bounded_locked(struct coremu_chardev *chr, int timeout_ms)
{
    if (!out_polled(chr) || chr->out_fd < 0) {
        return;
    }
    int64_t end = coremu_host_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        chr_flush_out_locked(chr);
        int64_t left = (end - coremu_host_ns()) / 1000000;
        if (chr->outlen == 0 || chr->out_dead || left <= 0) {
            return;
        }
        struct pollfd p = {.fd = chr->out_fd, .events = POLLOUT};
        if (poll(&p, 1, (int)left) <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
            return;
        }
    }
}

void rt_chr_flush_at_exit(struct coremu_chardev *chr)
{
    if (pthread_mutex_trylock(&chr->lock) == 0) {
        chr_flush_bounded_locked(chr, 500);
        pthread_mutex_unlock(&chr->lock);
    }
}

/* Lock held. Non-blocking output: straight through while the fd takes it, then the buffer. */
static void chr_write_nb_locked(struct coremu_chardev *chr, const uint8_t *buf, size_t len)
{
    if (chr->out_fd < 0 || chr->out_dead) {
        chr->out_dropped += len;
        return;
    }
    if (chr->outlen == 0) {
        while (len > 0) {
            ssize_t n = chr_raw_write(chr, buf, len);
            if (n > 0) {
                buf += n;
                len -= (size_t)n;
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            } else {
                chr_out_failed_locked(chr);
                chr->out_dropped += len;
                return;
            }
        }
        if (len == 0) {
            return;
        }
    }
    if (!chr->outbuf) {
        chr->outbuf = malloc(chr->outcap);
        if (!chr->outbuf) {
            chr->out_dropped += len;
            return;
        }
    }
    if (chr->outoff + chr->outlen + len > chr->outcap && chr->outoff > 0) {
        memmove(chr->outbuf, chr->outbuf + chr->outoff, chr->outlen);
        chr->outoff = 0;
    }
    size_t room = chr->outcap - chr->outoff - chr->outlen;
    size_t take = len < room ? len : room;
    memcpy(chr->outbuf + chr->outoff + chr->outlen, buf, take);
    chr->outlen += take;
    chr->out_dropped += len - take;
    rt_chr_update_poll_locked(chr);
}

ssize_t coremu_chardev_write(struct coremu_chardev *chr, const uint8_t *buf, size_t len)
{
    if (len == 0) {
        return 0;
    }
    ssize_t ret = (ssize_t)len;
    pthread_mutex_lock(&chr->lock);
    switch (chr->out_mode) {
    case RT_OUT_NONE:
        chr->out_dropped += len;
        break;
    case RT_OUT_BLOCKING: {
        size_t done = 0;
        while (done < len) {
            ssize_t n = write(chr->out_fd, buf + done, len - done);
            if (n > 0) {
                done += (size_t)n;
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                break;
            }
        }
        if (done < len) {
            ret = done ? (ssize_t)done : -1;
        }
        break;
    }
    case RT_OUT_NONBLOCK:
    case RT_OUT_SOCKET:
        chr_write_nb_locked(chr, buf, len);
        break;
    }
    pthread_mutex_unlock(&chr->lock);
    return ret;
}

void rt_chr_input_append(struct coremu_chardev *chr, const uint8_t *buf, size_t len)
{
    size_t room = RT_CHR_INBUF - chr->inlen;
    if (len > room) {
        len = room; /* cannot happen: reads never ask for more than the room left */
    }
    memcpy(chr->inbuf + chr->inlen, buf, len);
    chr->inlen += len;
}

/* How much the front end takes now (0 without a front end). I/O thread, no lock held. */
static size_t chr_front_can_read(struct coremu_chardev *chr)
{
    pthread_mutex_lock(&chr->lock);
    struct coremu_chardev_handlers h = chr->h;
    void *opaque = chr->h_opaque;
    bool closing = chr->closing;
    pthread_mutex_unlock(&chr->lock);
    if (closing || !h.read) {
        return 0;
    }
    return h.can_read ? h.can_read(opaque) : RT_CHR_INBUF;
}

/* Hands buffered input to the front end as far as it takes it. I/O thread, no lock held. */
static void chr_deliver(struct coremu_chardev *chr)
{
    while (chr->inlen > 0) {
        pthread_mutex_lock(&chr->lock);
        struct coremu_chardev_handlers h = chr->h;
        void *opaque = chr->h_opaque;
        bool closing = chr->closing;
        pthread_mutex_unlock(&chr->lock);
        if (closing || !h.read) {
            return;
        }
        size_t n = h.can_read ? h.can_read(opaque) : chr->inlen;
        if (n == 0) {
            return;
        }
        if (n > chr->inlen) {
            n = chr->inlen;
        }
        h.read(opaque, chr->inbuf, n);
        memmove(chr->inbuf, chr->inbuf + n, chr->inlen - n);
        chr->inlen -= n;
    }
}

/* End of input or a read error. I/O thread, lock held. */
static void chr_input_end_locked(struct coremu_chardev *chr)
{
    if (chr->be->hangup) {
        chr->be->hangup(chr);
    } else {
        chr->in_ended = true;
    }
}

static bool chr_reads_ahead(const struct coremu_chardev *chr)
{
    return chr->filter != NULL && chr->filter->reads_ahead;
}

/*
 * Decides whether to keep polling input after the I/O thread handled it. accept_seq closes the
 * window between asking can_read and setting in_hold: an accept_input in that window changed the
 * counter, so we arm the resume ourselves instead of waiting for one that already happened.
 */
static void chr_finish_input(struct coremu_chardev *chr, uint64_t seq0, bool front_full)
{
    pthread_mutex_lock(&chr->lock);
    if (!chr->closing) {
        chr->in_pending = chr->inlen > 0;
        chr->in_hold = chr_reads_ahead(chr) ? chr->inlen >= RT_CHR_INBUF
                                            : (chr->inlen > 0 || front_full);
        if ((chr->in_hold || chr->in_pending) && chr->accept_seq != seq0) {
            coremu_timer_mod(chr->resume, 0);
        }
        rt_chr_update_poll_locked(chr);
    }
    pthread_mutex_unlock(&chr->lock);
}

/* The input fd is readable. I/O thread, no lock held. */
static void chr_input(struct coremu_chardev *chr)
{
    pthread_mutex_lock(&chr->lock);
    uint64_t seq0 = chr->accept_seq;
    int fd = chr->in_fd;
    bool ok = !chr->closing && fd >= 0 && !chr->in_ended;
    pthread_mutex_unlock(&chr->lock);
    if (!ok) {
        return;
    }

    chr_deliver(chr);
    bool front_full = false;
    size_t space;
    if (chr_reads_ahead(chr)) {
        /* Keep reading while the front end is full, so the filter always sees its commands. */
        space = RT_CHR_INBUF - chr->inlen;
    } else if (chr->inlen > 0) {
        space = 0;
    } else {
        space = chr_front_can_read(chr);
        if (space > RT_CHR_INBUF) {
            space = RT_CHR_INBUF;
        }
        front_full = space == 0;
    }
    if (space > 0) {
        uint8_t tmp[RT_CHR_INBUF];
        ssize_t n = read(fd, tmp, space);
        if (n > 0) {
            if (chr->filter != NULL) {
                if (!chr->filter->feed(chr, tmp, (size_t)n)) {
                    return; /* closed from the quit callback */
                }
            } else {
                rt_chr_input_append(chr, tmp, (size_t)n);
            }
            chr_deliver(chr);
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            pthread_mutex_lock(&chr->lock);
            if (!chr->closing && fd == chr->in_fd) {
                chr_input_end_locked(chr);
            }
            pthread_mutex_unlock(&chr->lock);
        }
    }
    chr_finish_input(chr, seq0, front_full);
}

static void chr_finish_close(struct coremu_chardev *chr);

void rt_chr_cb_enter(struct coremu_chardev *chr)
{
    chr->depth++;
}

void rt_chr_cb_leave(struct coremu_chardev *chr)
{
    if (--chr->depth == 0 && chr->close_deferred) {
        chr_finish_close(chr);
    }
}

static void chr_fd_cb(void *opaque, int fd, short revents)
{
    struct coremu_chardev *chr = opaque;
    bool do_in = false;

    rt_chr_cb_enter(chr);
    pthread_mutex_lock(&chr->lock);
    if (!chr->closing) {
        if (fd == chr->out_fd && (revents & POLLOUT)) {
            chr_flush_out_locked(chr);
        }
        bool reading = fd == chr->in_fd && !chr->in_hold && !chr->in_ended;
        do_in = reading && (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL));
        if (!do_in && fd == chr->out_fd && (revents & (POLLHUP | POLLERR | POLLNVAL))) {
            /* The output side failed (e.g. the reader of stdout went away). */
            if (chr->in_fd == chr->out_fd && chr->be->hangup) {
                chr->be->hangup(chr);
            } else {
                chr_out_failed_locked(chr);
            }
        }
    }
    pthread_mutex_unlock(&chr->lock);

    if (do_in) {
        chr_input(chr);
    }

    pthread_mutex_lock(&chr->lock);
    rt_chr_update_poll_locked(chr);
    pthread_mutex_unlock(&chr->lock);
    rt_chr_cb_leave(chr);
}

/* chr->resume: the front end has room again (or new handlers). I/O thread. */
static void chr_resume_cb(void *opaque)
{
    struct coremu_chardev *chr = opaque;

    rt_chr_cb_enter(chr);
    pthread_mutex_lock(&chr->lock);
    uint64_t seq0 = chr->accept_seq;
    bool closing = chr->closing;
    pthread_mutex_unlock(&chr->lock);
    if (!closing) {
        chr_deliver(chr);
        chr_finish_input(chr, seq0, false);
    }
    rt_chr_cb_leave(chr);
}

/* coremu_chardev_set_default_quit's callback, under its own lock (never held while it runs). */
static pthread_mutex_t default_quit_lock = PTHREAD_MUTEX_INITIALIZER;
static coremu_chardev_quit_fn default_quit;
static void *default_quit_opaque;

void coremu_chardev_set_default_quit(coremu_chardev_quit_fn fn, void *opaque)
{
    pthread_mutex_lock(&default_quit_lock);
    default_quit = fn;
    default_quit_opaque = opaque;
    pthread_mutex_unlock(&default_quit_lock);
}

void rt_chr_quit(struct coremu_chardev *chr, int status)
{
    pthread_mutex_lock(&chr->lock);
    coremu_chardev_quit_fn fn = chr->quit;
    void *opaque = chr->quit_opaque;
    pthread_mutex_unlock(&chr->lock);
    if (!fn) {
        pthread_mutex_lock(&default_quit_lock);
        fn = default_quit;
        opaque = default_quit_opaque;
        pthread_mutex_unlock(&default_quit_lock);
    }
    if (fn) {
        fn(opaque, status);
    } else {
        exit(status); /* atexit restores the terminal */
    }
}

/* ---- null and file back ends ----------------------------------------------------------------- */

static int null_open(struct coremu_chardev *chr, const struct rt_chardev_opts *o, char *err,
                     size_t errlen)
{
    chr->out_mode = RT_OUT_NONE;
    return 0;
}

static void null_close(struct coremu_chardev *chr)
{
}

static const struct rt_chardev_backend chardev_null = {
    .name = "null",
    .open = null_open,
    .close = null_close,
};

static int file_open(struct coremu_chardev *chr, const struct rt_chardev_opts *o, char *err,
                     size_t errlen)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (o->append == 1 ? O_APPEND : O_TRUNC);
    int fd = open(o->path, flags, 0666);
    if (fd < 0) {
        return rt_chr_error(err, errlen, "cannot open '%s': %s", o->path, strerror(errno));
    }
    chr->owned_out_fd = chr->out_fd = fd;
    chr->out_mode = RT_OUT_BLOCKING;
    return 0;
}

static void file_close(struct coremu_chardev *chr)
{
    if (chr->owned_out_fd >= 0) {
        close(chr->owned_out_fd);
    }
}

static const struct rt_chardev_backend chardev_file = {
    .name = "file",
    .open = file_open,
    .close = file_close,
};

/* ---- the public interface -------------------------------------------------------------------- */

struct coremu_chardev *coremu_chardev_open(struct coremu_iothread *io, const char *spec, char *err,
                                           size_t errlen)
{
    if (err && errlen) {
        err[0] = '\0';
    }
    if (!io) {
        io = coremu_iothread_default();
        if (!io) {
            rt_chr_error(err, errlen, "cannot create the I/O thread");
            return NULL;
        }
    }
    struct rt_chardev_opts o;
    const struct rt_chardev_backend *be = parse_spec(spec, &o, err, errlen);
    if (!be) {
        opts_free(&o);
        return NULL;
    }
    struct coremu_chardev *chr = calloc(1, sizeof *chr);
    if (!chr) {
        opts_free(&o);
        rt_chr_error(err, errlen, "out of memory");
        return NULL;
    }
    chr->be = be;
    chr->io = io;
    chr->filter = o.filter;
    chr->outcap = RT_CHR_OUTBUF;
    chr->in_fd = chr->out_fd = -1;
    chr->in_reg = chr->out_reg = chr->listen_reg = -1;
    chr->owned_in_fd = chr->owned_out_fd = chr->listen_fd = chr->slave_fd = -1;
    pthread_mutex_init(&chr->lock, NULL);
    chr->resume = coremu_timer_new(io, chr_resume_cb, chr);
    if (o.id) {
        chr->id = strdup(o.id);
    }
    if (!chr->resume || (o.id && !chr->id)) {
        rt_chr_error(err, errlen, "out of memory");
        goto fail;
    }
    if (be->open(chr, &o, err, errlen) < 0) {
        goto fail;
    }
    pthread_mutex_lock(&chr->lock);
    rt_chr_update_poll_locked(chr);
    pthread_mutex_unlock(&chr->lock);
    opts_free(&o);
    return chr;

fail:
    opts_free(&o);
    pthread_mutex_lock(&chr->lock);
    chr->closing = true;
    pthread_mutex_unlock(&chr->lock);
    chr_finish_close(chr);
    return NULL;
}

/* Spells kv as a specification: "BACKEND,key=value,...". 0, or -1 with a message in err. */
static int spec_of_kv(const struct coremu_kv *kv, char *buf, size_t len, char *err, size_t errlen)
{
    const char *backend = coremu_kv_get(kv, "backend");
    if (backend == NULL) {
        return rt_chr_error(err, errlen, "no back end given");
    }
    size_t used = (size_t)snprintf(buf, len, "%s", backend);
    for (unsigned i = 0; i < kv->n && used < len; i++) {
        if (strcmp(kv->key[i], "backend") == 0) {
            continue;
        }
        const char *v = kv->value[i] != NULL ? kv->value[i] : "on";
        if (strchr(v, ',') != NULL) {
            return rt_chr_error(err, errlen, "a comma in the value of '%s' is not supported",
                                kv->key[i]);
        }
        used += (size_t)snprintf(buf + used, len - used, ",%s=%s", kv->key[i], v);
    }
    if (used >= len) {
        return rt_chr_error(err, errlen, "specification too long");
    }
    return 0;
}

struct coremu_chardev *coremu_chardev_open_kv(struct coremu_iothread *io,
                                              const struct coremu_kv *kv, char *err, size_t errlen)
{
    char spec[1024];
    if (spec_of_kv(kv, spec, sizeof spec, err, errlen) < 0) {
        return NULL;
    }
    return coremu_chardev_open(io, spec, err, errlen);
}

int coremu_chardev_check(const char *spec, struct coremu_chardev_info *info, char *err,
                         size_t errlen)
{
    struct rt_chardev_opts o;
    const struct rt_chardev_backend *be = parse_spec(spec, &o, err, errlen);
    if (be != NULL) {
        info->stdio = be == &rt_chardev_stdio;
        info->mux = o.filter != NULL;
    }
    opts_free(&o);
    return be != NULL ? 0 : -1;
}

int coremu_chardev_check_kv(const struct coremu_kv *kv, struct coremu_chardev_info *info, char *err,
                            size_t errlen)
{
    char spec[1024];
    if (spec_of_kv(kv, spec, sizeof spec, err, errlen) < 0) {
        return -1;
    }
    return coremu_chardev_check(spec, info, err, errlen);
}

const char *coremu_chardev_id(const struct coremu_chardev *chr)
{
    return chr->id;
}

const char *coremu_chardev_pty_path(const struct coremu_chardev *chr)
{
    return chr->pty_path;
}

void coremu_chardev_set_handlers(struct coremu_chardev *chr,
                                 const struct coremu_chardev_handlers *h, void *opaque)
{
    pthread_mutex_lock(&chr->lock);
    if (h) {
        chr->h = *h;
    } else {
        memset(&chr->h, 0, sizeof chr->h);
    }
    chr->h_opaque = opaque;
    chr->accept_seq++;
    /* Input held for want of a front end goes to the new one. */
    if (!chr->closing) {
        coremu_timer_mod(chr->resume, 0);
    }
    pthread_mutex_unlock(&chr->lock);
}

void coremu_chardev_set_quit(struct coremu_chardev *chr, coremu_chardev_quit_fn fn, void *opaque)
{
    pthread_mutex_lock(&chr->lock);
    chr->quit = fn;
    chr->quit_opaque = opaque;
    pthread_mutex_unlock(&chr->lock);
}

void coremu_chardev_accept_input(struct coremu_chardev *chr)
{
    /* Cheap when nothing is held: front ends may call this on every FIFO read. */
    pthread_mutex_lock(&chr->lock);
    chr->accept_seq++;
    if (!chr->closing && (chr->in_hold || chr->in_pending)) {
        coremu_timer_mod(chr->resume, 0);
    }
    pthread_mutex_unlock(&chr->lock);
}

void coremu_chardev_accept_input_at(struct coremu_chardev *chr, int64_t when_ns)
{
    /* Not an accept_input: accept_seq stays, or the input path would take it for a new chance
     * and retry at once instead of at when_ns. */
    pthread_mutex_lock(&chr->lock);
    if (!chr->closing) {
        coremu_timer_mod(chr->resume, when_ns);
    }
    pthread_mutex_unlock(&chr->lock);
}

/* Runs once no callback of chr can run any more, or is about to. */
static void chr_finish_close(struct coremu_chardev *chr)
{
    int fds[3], n = 0;

    pthread_mutex_lock(&chr->lock);
    if (chr->in_fd >= 0 && chr->in_reg >= 0) {
        fds[n++] = chr->in_fd;
    }
    if (chr->out_fd >= 0 && chr->out_fd != chr->in_fd && chr->out_reg >= 0) {
        fds[n++] = chr->out_fd;
    }
    if (chr->listen_fd >= 0 && chr->listen_reg >= 0) {
        fds[n++] = chr->listen_fd;
    }
    pthread_mutex_unlock(&chr->lock);

    /* closing is set, so the set above is final; these wait for callbacks in flight. */
    for (int i = 0; i < n; i++) {
        coremu_io_remove_fd(chr->io, fds[i]);
    }
    coremu_timer_free(chr->resume);

    pthread_mutex_lock(&chr->lock);
    if (chr->be->close_flush_ms > 0) {
        chr_flush_bounded_locked(chr, chr->be->close_flush_ms);
    } else if (out_polled(chr) && chr->out_fd >= 0) {
        chr_flush_out_locked(chr);
    }
    chr->out_mode = RT_OUT_NONE;
    pthread_mutex_unlock(&chr->lock);

    chr->be->close(chr);
    free(chr->outbuf);
    free(chr->id);
    free(chr->pty_path);
    pthread_mutex_destroy(&chr->lock);
    free(chr);
}

void coremu_chardev_close(struct coremu_chardev *chr)
{
    if (!chr) {
        return;
    }
    pthread_mutex_lock(&chr->lock);
    if (chr->closing) {
        pthread_mutex_unlock(&chr->lock);
        return;
    }
    chr->closing = true;
    memset(&chr->h, 0, sizeof chr->h);
    chr->quit = NULL;
    pthread_mutex_unlock(&chr->lock);

    if (coremu_iothread_is_current(chr->io) && chr->depth > 0) {
        chr->close_deferred = true; /* the outermost callback of chr finishes it */
        return;
    }
    chr_finish_close(chr);
}
