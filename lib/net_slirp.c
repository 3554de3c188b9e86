/*
 * coremu — the "user" network back end: libslirp's network stack on a thread of its own.
 * See include/coremu/net.h for the threads and locks.
 *
 * The thread's loop: under the back end lock, ask slirp for the descriptors it wants polled
 * and its timeout, fire the timers that are due; without the lock, poll them and the wake pipe
 * (bounded by the next timer); under the lock again, let slirp read and write its sockets;
 * without it, hand the frames slirp produced meanwhile to the NIC. Slirp's clock and timers run
 * on the virtual clock (they stop while the machine is paused, as the guest's do).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include <coremu/clock.h>
#include <coremu/log.h>

#include "net_internal.h"

/* A slirp timer. The list and every field: the back end lock (slirp creates, arms and frees
 * its timers from inside calls made with the lock held; the loop fires them with it held). */
struct slirp_timer {
    struct slirp_timer *next;
    SlirpTimerId id;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
};

struct net_slirp {
    struct coremu_net net; /* first: the generic code's view */
    /* The back end lock: guards slirp and everything slirp's callbacks touch (timers, the
     * pollfd array). Taken by the thread around its work and by coremu_net_send. */
    pthread_mutex_t lock;
    Slirp *slirp;                 /* lock */
    struct slirp_timer *timers;   /* lock */
    struct pollfd *pfd;           /* lock while slirp fills it; the thread's own while polling */
    unsigned npfd, pfd_cap;       /* as pfd */
    /* The wake pipe: any thread writes a byte (non-blocking; a full pipe is already a wake-up),
     * the thread drains it. Immutable descriptors. */
    int wake_rd, wake_wr;
    pthread_t thread;  /* written before the thread runs; read by free */
    bool started;      /* main thread only (attach, free) */
    atomic_bool stop;  /* set by free, read by the thread (relaxed: the wake pipe orders it) */
};

static struct net_slirp *slirp_of(struct coremu_net *net)
{
    return (struct net_slirp *)net;
}

/* ---- slirp's callbacks (all with the back end lock held) ---------------------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct net_slirp *s = opaque;
    if (net_queue_frame(&s->net, buf, len) && !pthread_equal(pthread_self(), s->thread)) {
        /* Produced on a vCPU inside coremu_net_send: the thread delivers it. */
        s->net.ops->wake(&s->net);
    }
    return (ssize_t)len; /* a dropped frame is a lost one: TCP resends */
}

static void cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    coremu_log(COREMU_LOG_GUEST_ERRORS, "net user: %s\n", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return coremu_clock_ns();
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    struct net_slirp *s = opaque;
    struct slirp_timer *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->id = id;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = s->timers;
    s->timers = t;
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct net_slirp *s = opaque;
    for (struct slirp_timer **p = &s->timers; *p != NULL; p = &(*p)->next) {
        if (*p == timer) {
            *p = ((struct slirp_timer *)timer)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    if (timer != NULL) {
        ((struct slirp_timer *)timer)->expire_ms = expire_ms;
    }
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque; /* every descriptor is polled through slirp_pollfds_fill */
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_notify(void *opaque)
{
    struct net_slirp *s = opaque;
    s->net.ops->wake(&s->net);
}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

static int add_poll(int fd, int events, void *opaque)
{
    struct net_slirp *s = opaque;
    if (s->npfd == s->pfd_cap) {
        unsigned cap = s->pfd_cap * 2;
        struct pollfd *p = realloc(s->pfd, cap * sizeof(*p));
        if (p == NULL) {
            return -1; /* slirp then skips the socket this round */
        }
        s->pfd = p;
        s->pfd_cap = cap;
    }
    short ev = 0;
    ev |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
    ev |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
    ev |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
    ev |= (events & SLIRP_POLL_ERR) ? POLLERR : 0;
    ev |= (events & SLIRP_POLL_HUP) ? POLLHUP : 0;
    s->pfd[s->npfd] = (struct pollfd){.fd = fd, .events = ev};
    return (int)s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
    struct net_slirp *s = opaque;
    if (idx < 0 || (unsigned)idx >= s->npfd) {
        return 0;
    }
    short re = s->pfd[idx].revents;
    int out = 0;
    out |= (re & POLLIN) ? SLIRP_POLL_IN : 0;
    out |= (re & POLLOUT) ? SLIRP_POLL_OUT : 0;
    out |= (re & POLLPRI) ? SLIRP_POLL_PRI : 0;
    out |= (re & POLLERR) ? SLIRP_POLL_ERR : 0;
    out |= (re & POLLHUP) ? SLIRP_POLL_HUP : 0;
    return out;
}

/* Fires the timers that are due; returns ms until the next one (-1: none). Lock held. */
static int64_t run_timers(struct net_slirp *s)
{
    for (;;) {
        int64_t now = coremu_clock_ns() / 1000000;
        int64_t next = -1;
        struct slirp_timer *due = NULL;
        for (struct slirp_timer *t = s->timers; t != NULL; t = t->next) {
            if (t->expire_ms < 0) {
                continue;
            }
            if (t->expire_ms <= now) {
                due = t;
                break;
            }
            if (next < 0 || t->expire_ms - now < next) {
                next = t->expire_ms - now;
            }
        }
        if (due == NULL) {
            return next;
        }
        /* One at a time: the handler may arm, or free, any timer. */
        due->expire_ms = -1;
        slirp_handle_timer(s->slirp, due->id, due->cb_opaque);
    }
}

static void drain_wake(struct net_slirp *s)
{
    char buf[64];
    while (read(s->wake_rd, buf, sizeof(buf)) > 0) {
    }
}

static void *slirp_thread(void *opaque)
{
    struct net_slirp *s = opaque;
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        pthread_mutex_lock(&s->lock);
        int64_t timer_ms = run_timers(s);
        uint32_t timeout = 1000; /* an upper bound: nothing is lost by waking */
        s->npfd = 0;
        add_poll(s->wake_rd, SLIRP_POLL_IN, s); /* index 0 */
        slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
        pthread_mutex_unlock(&s->lock);

        /* Frames made by the timers or by vCPUs since the last round. */
        net_deliver(&s->net);

        int wait = (int)timeout;
        if (timer_ms >= 0 && timer_ms < wait) {
            wait = (int)timer_ms;
        }
        int n = poll(s->pfd, s->npfd, wait);
        if (n > 0 && (s->pfd[0].revents & POLLIN) != 0) {
            drain_wake(s);
        }
        pthread_mutex_lock(&s->lock);
        slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
        pthread_mutex_unlock(&s->lock);

        net_deliver(&s->net);
    }
    return NULL;
}

/* ---- the back end's ops ------------------------------------------------------------------- */

static int slirp_start(struct coremu_net *net)
{
    struct net_slirp *s = slirp_of(net);
    /* The thread compares pthread_self() with s->thread: set it before the thread may send. */
    pthread_mutex_lock(&s->lock);
    int r = pthread_create(&s->thread, NULL, slirp_thread, s);
    pthread_mutex_unlock(&s->lock);
    if (r != 0) {
        return -r;
    }
    pthread_setname_np(s->thread, "coremu-net");
    s->started = true;
    return 0;
}

static void slirp_send(struct coremu_net *net, const uint8_t *frame, size_t len)
{
    struct net_slirp *s = slirp_of(net);
    pthread_mutex_lock(&s->lock);
    slirp_input(s->slirp, frame, (int)len);
    pthread_mutex_unlock(&s->lock);
    /* The frame may have opened a socket the thread must now poll. */
    net->ops->wake(net);
}

static void slirp_wake(struct coremu_net *net)
{
    struct net_slirp *s = slirp_of(net);
    char c = 1;
    ssize_t r = write(s->wake_wr, &c, 1);
    (void)r; /* a full pipe means a wake-up is pending already */
}

static void slirp_free(struct coremu_net *net)
{
    struct net_slirp *s = slirp_of(net);
    if (s->started) {
        atomic_store_explicit(&s->stop, true, memory_order_relaxed);
        slirp_wake(net);
        pthread_join(s->thread, NULL);
    }
    if (s->slirp != NULL) {
        slirp_cleanup(s->slirp);
    }
    while (s->timers != NULL) {
        struct slirp_timer *t = s->timers;
        s->timers = t->next;
        free(t);
    }
    close(s->wake_rd);
    close(s->wake_wr);
    free(s->pfd);
    pthread_mutex_destroy(&s->lock);
    net_common_destroy(net);
    free(s);
}

static const struct net_backend_ops slirp_ops = {
    .start = slirp_start,
    .send = slirp_send,
    .wake = slirp_wake,
    .free = slirp_free,
};

struct coremu_net *net_slirp_new(const struct net_user_config *cfg, char *err, size_t errlen)
{
    struct net_slirp *s = calloc(1, sizeof(*s));
    int fds[2];
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        free(s);
        return NULL;
    }
    s->wake_rd = fds[0];
    s->wake_wr = fds[1];
    s->pfd_cap = 16;
    s->pfd = calloc(s->pfd_cap, sizeof(*s->pfd));
    pthread_mutex_init(&s->lock, NULL);
    net_common_init(&s->net, &slirp_ops);
    atomic_init(&s->stop, false);
    /* Until the thread exists, callbacks compare with the creating thread, which has no
     * thread to wake (slirp_start overwrites it before anything runs elsewhere). */
    s->thread = pthread_self();
    if (s->pfd == NULL) {
        snprintf(err, errlen, "out of memory");
        slirp_free(&s->net);
        return NULL;
    }

    SlirpConfig sc;
    memset(&sc, 0, sizeof(sc));
    sc.version = 4;
    sc.restricted = cfg->restricted;
    sc.in_enabled = true;
    sc.vnetwork = cfg->net;
    sc.vnetmask = cfg->mask;
    sc.vhost = cfg->host;
    sc.in6_enabled = cfg->ipv6;
    /* QEMU's IPv6 defaults: fec0::/64, the host ::2, the name server ::3. */
    inet_pton(AF_INET6, "fec0::", &sc.vprefix_addr6);
    sc.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &sc.vhost6);
    inet_pton(AF_INET6, "fec0::3", &sc.vnameserver6);
    sc.vhostname = cfg->hostname;
    sc.vdhcp_start = cfg->dhcp_start;
    sc.vnameserver = cfg->dns;
    sc.vdomainname = cfg->domainname;
    sc.disable_host_loopback = false; /* the guest reaches the host's 127.0.0.1 as the host */
    sc.enable_emu = false;
    s->slirp = slirp_new(&sc, &slirp_callbacks, s);
    if (s->slirp == NULL) {
        snprintf(err, errlen, "cannot create the user-mode network stack");
        slirp_free(&s->net);
        return NULL;
    }
    for (unsigned i = 0; i < cfg->nhostfwd; i++) {
        const struct net_hostfwd *f = &cfg->hostfwd[i];
        if (slirp_add_hostfwd(s->slirp, f->udp, f->host_addr, f->host_port, f->guest_addr,
                              f->guest_port) < 0) {
            snprintf(err, errlen, "hostfwd=%s: cannot forward the host port: %s", f->text,
                     errno != 0 ? strerror(errno) : "in use");
            slirp_free(&s->net);
            return NULL;
        }
    }
    return &s->net;
}
