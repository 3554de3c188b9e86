/*
 * coremu — character devices on a pty or a TCP socket.
 *
 * pty: we keep the slave open ourselves, so the master never reports a hang-up while no terminal
 * program is attached (which would make poll() spin); the slave is raw, so bytes pass unchanged.
 *
 * Sockets, tcp or unix (path=): a server serves one client at a time, like a serial line: while
 * a client is connected the listening socket is not polled, so a second client waits in the
 * backlog until the first goes. Output while nobody is connected is dropped. A client makes one
 * connection at open; when the peer goes, output is dropped from then on. A unix server removes
 * a stale socket file before it binds and removes its own at close, as QEMU does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <coremu/chardev.h>
#include <coremu/iothread.h>

#include "chardev_internal.h"

static int set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* ---- pty ------------------------------------------------------------------------------------- */

static int pty_open(struct coremu_chardev *chr, const struct rt_chardev_opts *o, char *err,
                    size_t errlen)
{
    int master, slave;
    if (openpty(&master, &slave, NULL, NULL, NULL) < 0) {
        return rt_chr_error(err, errlen, "cannot open a pty: %s", strerror(errno));
    }
    chr->owned_in_fd = master;
    chr->slave_fd = slave;

    struct termios t;
    char name[256];
    int e;
    if (tcgetattr(slave, &t) < 0) {
        goto fail;
    }
    cfmakeraw(&t);
    if (tcsetattr(slave, TCSANOW, &t) < 0 || set_nonblock_cloexec(master) < 0 ||
        fcntl(slave, F_SETFD, FD_CLOEXEC) < 0) {
        goto fail;
    }
    if ((e = ttyname_r(slave, name, sizeof name)) != 0) {
        errno = e;
        goto fail;
    }
    chr->pty_path = strdup(name);
    if (!chr->pty_path) {
        goto fail;
    }
    chr->in_fd = chr->out_fd = master;
    chr->out_mode = RT_OUT_NONBLOCK;
    return 0;

fail:
    return rt_chr_error(err, errlen, "cannot set up a pty: %s", strerror(errno));
}

static void pty_close(struct coremu_chardev *chr)
{
    if (chr->owned_in_fd >= 0) {
        close(chr->owned_in_fd);
    }
    if (chr->slave_fd >= 0) {
        close(chr->slave_fd);
    }
}

const struct rt_chardev_backend rt_chardev_pty = {
    .name = "pty",
    .open = pty_open,
    .close = pty_close,
};

/* ---- tcp ------------------------------------------------------------------------------------- */

static void tcp_listen_cb(void *opaque, int fd, short revents);

/* The address as the user wrote it, for messages: "unix:PATH" or "HOST:PORT". */
static const char *sock_name(const struct rt_chardev_opts *o, char *buf, size_t len)
{
    if (o->path != NULL) {
        snprintf(buf, len, "unix:%s", o->path);
    } else {
        snprintf(buf, len, "%s:%s", o->host ? o->host : "", o->port);
    }
    return buf;
}

/* Polls the listening socket only while no client is connected. Lock held. */
static void tcp_listen_update_locked(struct coremu_chardev *chr)
{
    if (chr->closing || chr->listen_fd < 0) {
        return;
    }
    short ev = chr->in_fd < 0 ? POLLIN : 0;
    if (chr->listen_reg != ev &&
        coremu_io_set_fd(chr->io, chr->listen_fd, ev, tcp_listen_cb, chr) == 0) {
        chr->listen_reg = ev;
    }
}

static void tcp_setup_conn(struct coremu_chardev *chr, int fd)
{
    if (chr->nodelay && chr->unix_path == NULL) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

static void tcp_listen_cb(void *opaque, int fd, short revents)
{
    struct coremu_chardev *chr = opaque;

    rt_chr_cb_enter(chr);
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    pthread_mutex_lock(&chr->lock);
    if (c >= 0) {
        if (chr->closing || chr->in_fd >= 0) {
            close(c);
        } else {
            tcp_setup_conn(chr, c);
            rt_chr_set_conn_locked(chr, c, RT_OUT_SOCKET);
        }
    }
    tcp_listen_update_locked(chr);
    pthread_mutex_unlock(&chr->lock);
    rt_chr_cb_leave(chr);
}

/* The peer went away. I/O thread, lock held. */
static void tcp_hangup(struct coremu_chardev *chr)
{
    int fd = rt_chr_drop_conn_locked(chr);
    if (fd >= 0) {
        close(fd);
    }
    tcp_listen_update_locked(chr);
}

static int tcp_listen(struct coremu_chardev *chr, const struct rt_chardev_opts *o,
                      struct addrinfo *res, char *err, size_t errlen)
{
    int saved = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1, zero = 0;
        if (ai->ai_family == AF_UNIX) {
            unlink(o->path); /* a socket file left behind by an earlier run */
        } else {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        }
        if (ai->ai_family == AF_INET6 && !(o->host && *o->host)) {
            /* An empty host means every address, IPv4 included. */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0) {
            chr->listen_fd = fd;
            if (ai->ai_family == AF_UNIX) {
                chr->unix_path = strdup(o->path); /* NULL: the file stays behind */
            }
            return 0;
        }
        saved = errno;
        close(fd);
    }
    char name[300];
    return rt_chr_error(err, errlen, "cannot listen on %s: %s", sock_name(o, name, sizeof name),
                        strerror(saved));
}

static int tcp_connect(struct coremu_chardev *chr, const struct rt_chardev_opts *o,
                       struct addrinfo *res, char *err, size_t errlen)
{
    int saved = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r < 0 && errno == EINTR) {
            /* The connection goes on in the background: wait for its outcome. */
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            while (poll(&p, 1, -1) < 0 && errno == EINTR) {
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
                r = 0;
            } else {
                errno = soerr ? soerr : errno;
            }
        }
        if (r == 0) {
            return fd;
        }
        saved = errno;
        close(fd);
    }
    char name[300];
    if (o->path != NULL || (o->host != NULL && *o->host)) {
        sock_name(o, name, sizeof name);
    } else {
        snprintf(name, sizeof name, "localhost:%s", o->port);
    }
    rt_chr_error(err, errlen, "cannot connect to %s: %s", name, strerror(saved));
    return -1;
}

static int tcp_wait_client(struct coremu_chardev *chr, const struct rt_chardev_opts *o, char *err,
                           size_t errlen)
{
    char name[300];
    sock_name(o, name, sizeof name);
    fprintf(stderr, "coremu: waiting for connection on %s%s,server=on\n",
            o->path != NULL ? "" : "tcp:", name);
    for (;;) {
        int c = accept4(chr->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) {
            return c;
        }
        if (errno != EINTR && errno != ECONNABORTED) {
            rt_chr_error(err, errlen, "cannot accept on %s: %s", name, strerror(errno));
            return -1;
        }
    }
}

static int tcp_open(struct coremu_chardev *chr, const struct rt_chardev_opts *o, char *err,
                    size_t errlen)
{
    chr->server = o->server == 1;
    chr->nodelay = o->nodelay == 1;
    bool wait = chr->server && o->wait != 0; /* QEMU's default: a server waits */
    const char *host = o->host && *o->host ? o->host : NULL;

    struct addrinfo hints, *res = NULL;
    /* A unix socket is one address of our own making, walked like a resolved list. */
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct addrinfo unix_ai = {.ai_family = AF_UNIX, .ai_socktype = SOCK_STREAM};
    if (o->path != NULL) {
        if (strlen(o->path) >= sizeof sun.sun_path) {
            return rt_chr_error(err, errlen,
                                "unix socket path '%s' is too long (at most %zu bytes)", o->path,
                                sizeof sun.sun_path - 1);
        }
        memcpy(sun.sun_path, o->path, strlen(o->path));
        unix_ai.ai_addr = (struct sockaddr *)&sun;
        unix_ai.ai_addrlen = sizeof sun;
    } else {
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV | (chr->server ? AI_PASSIVE : 0);
        int g = getaddrinfo(host, o->port, &hints, &res);
        if (g != 0) {
            return rt_chr_error(err, errlen, "cannot resolve '%s': %s", host ? host : "",
                                g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
        }
    }
    struct addrinfo *addrs = o->path != NULL ? &unix_ai : res;

    int ret = 0;
    if (chr->server) {
        if (tcp_listen(chr, o, addrs, err, errlen) < 0) {
            ret = -1;
            goto out;
        }
        if (wait) {
            int c = tcp_wait_client(chr, o, err, errlen);
            if (c < 0 || set_nonblock_cloexec(c) < 0) {
                if (c >= 0) {
                    close(c);
                    rt_chr_error(err, errlen, "cannot set up the connection: %s", strerror(errno));
                }
                ret = -1;
                goto out;
            }
            tcp_setup_conn(chr, c);
            pthread_mutex_lock(&chr->lock);
            rt_chr_set_conn_locked(chr, c, RT_OUT_SOCKET);
            pthread_mutex_unlock(&chr->lock);
        }
        if (set_nonblock_cloexec(chr->listen_fd) < 0) {
            ret = rt_chr_error(err, errlen, "cannot set up the listening socket: %s",
                               strerror(errno));
            goto out;
        }
        pthread_mutex_lock(&chr->lock);
        tcp_listen_update_locked(chr);
        pthread_mutex_unlock(&chr->lock);
    } else {
        int c = tcp_connect(chr, o, addrs, err, errlen);
        if (c < 0) {
            ret = -1;
            goto out;
        }
        if (set_nonblock_cloexec(c) < 0) {
            close(c);
            ret = rt_chr_error(err, errlen, "cannot set up the connection: %s", strerror(errno));
            goto out;
        }
        tcp_setup_conn(chr, c);
        pthread_mutex_lock(&chr->lock);
        rt_chr_set_conn_locked(chr, c, RT_OUT_SOCKET);
        pthread_mutex_unlock(&chr->lock);
    }
out:
    if (res != NULL) {
        freeaddrinfo(res);
    }
    return ret;
}

static void tcp_close(struct coremu_chardev *chr)
{
    if (chr->in_fd >= 0) {
        close(chr->in_fd);
    }
    if (chr->listen_fd >= 0) {
        close(chr->listen_fd);
    }
    if (chr->unix_path != NULL) {
        unlink(chr->unix_path);
        free(chr->unix_path);
    }
}

const struct rt_chardev_backend rt_chardev_tcp = {
    .name = "tcp",
    .open = tcp_open,
    .hangup = tcp_hangup,
    .close = tcp_close,
};
