/*
 * coremu — the I/O thread: one poll loop over registered fds, an eventfd for wake-ups, a queue of
 * calls handed over from other threads, and device timers on the virtual clock.
 *
 * Every table (fds, calls, timers) lives under one mutex per loop. This is not a guest hot path:
 * core threads only touch it to arm a timer or hand over work. The mutex is never held while a
 * callback runs, so a callback may use the whole API (including on its own fd or timer).
 *
 * "Wait until the callback in flight has finished" (remove_fd, timer_del from another thread)
 * works through running_fd / running_timer: the loop sets them, under the mutex, before it
 * releases the mutex to run a callback and clears them (and broadcasts idle_cond) once it is
 * back; a waiter sleeps on idle_cond while they name its fd or timer.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <coremu/clock.h>
#include <coremu/iothread.h>

/* Timers that are already due when a pass starts fire in that pass, but at most this many, so
 * that a timer re-armed into the past from its own callback cannot starve the fds. */
#define IO_MAX_TIMERS_PER_PASS 64

struct io_fd {
    int fd;
    short events; /* 0: registered but not polled (the owner holds its input) */
    uint64_t id;  /* registration serial: a stale poll result never reaches a newer owner */
    coremu_fd_fn fn;
    void *opaque;
};

struct io_call {
    struct io_call *next;
    coremu_call_fn fn;
    void *opaque;
};

/* All fields under io->lock, except fn/opaque/io (set at creation, read-only after). */
struct coremu_timer {
    struct coremu_iothread *io;
    coremu_timer_fn fn;
    void *opaque;
    int64_t expire; /* virtual ns; meaningful while pending */
    bool pending;   /* linked in io->timers */
    struct coremu_timer *prev, *next;
};

struct coremu_iothread {
    pthread_mutex_t lock;
    pthread_cond_t idle_cond; /* broadcast when a callback someone waits for has finished */

    /* Everything below is under lock. */
    struct io_fd *fds;
    size_t nfds, capfds;
    uint64_t next_id;
    struct io_call *calls_head, *calls_tail;
    struct coremu_timer *timers; /* sorted by expire, earliest first */
    int running_fd;              /* fd whose callback runs now, or -1 */
    struct coremu_timer *running_timer;
    unsigned waiters;  /* threads sleeping on idle_cond */
    bool wake_pending; /* the eventfd was written and not yet drained */
    bool stop;
    bool started;

    int efd;          /* eventfd; created with the loop, closed at free */
    pthread_t thread; /* valid when started */
};

/* The loop whose thread this is (NULL on every other thread): "am I the I/O thread?". */
static _Thread_local struct coremu_iothread *current_io;

/* Caller holds io->lock. The flag spares a write(2) per request while one is still unread. */
static void io_wake_locked(struct coremu_iothread *io)
{
    if (current_io == io || io->wake_pending) {
        return;
    }
    uint64_t one = 1;
    ssize_t r = write(io->efd, &one, sizeof one);
    (void)r; /* EAGAIN: the counter is saturated, so the loop wakes anyway */
    io->wake_pending = true;
}

struct coremu_iothread *coremu_iothread_new(void)
{
    struct coremu_iothread *io = calloc(1, sizeof *io);
    if (!io) {
        return NULL;
    }
    io->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (io->efd < 0) {
        free(io);
        return NULL;
    }
    pthread_mutex_init(&io->lock, NULL);
    pthread_cond_init(&io->idle_cond, NULL);
    io->running_fd = -1;
    io->next_id = 1;
    return io;
}

/* Caller holds io->lock; drops it around the callback. */
static void io_run_calls_locked(struct coremu_iothread *io)
{
    while (io->calls_head) {
        struct io_call *c = io->calls_head;
        io->calls_head = c->next;
        if (!io->calls_head) {
            io->calls_tail = NULL;
        }
        pthread_mutex_unlock(&io->lock);
        c->fn(c->opaque);
        free(c);
        pthread_mutex_lock(&io->lock);
    }
}

/* Caller holds io->lock. */
static void timer_unlink_locked(struct coremu_timer *t)
{
    if (!t->pending) {
        return;
    }
    if (t->prev) {
        t->prev->next = t->next;
    } else {
        t->io->timers = t->next;
    }
    if (t->next) {
        t->next->prev = t->prev;
    }
    t->prev = t->next = NULL;
    t->pending = false;
}

/* Caller holds io->lock. */
static void io_run_timers_locked(struct coremu_iothread *io)
{
    int64_t now = coremu_clock_ns();
    for (int n = 0; n < IO_MAX_TIMERS_PER_PASS; n++) {
        struct coremu_timer *t = io->timers;
        if (!t || t->expire > now) {
            break;
        }
        timer_unlink_locked(t);
        io->running_timer = t;
        coremu_timer_fn fn = t->fn;
        void *opaque = t->opaque;
        pthread_mutex_unlock(&io->lock);
        /* t may be freed by its own callback: nothing below dereferences it. */
        fn(opaque);
        pthread_mutex_lock(&io->lock);
        io->running_timer = NULL;
        if (io->waiters) {
            pthread_cond_broadcast(&io->idle_cond);
        }
    }
}

/* While the virtual clock is paused a deadline never comes closer: instead of sleeping the same
 * few nanoseconds again and again, look at it at this pace until time moves again. */
#define IO_PAUSED_POLL_NS (10 * 1000 * 1000)

/* Caller holds io->lock. -1: no timer (sleep until woken). *vnow: the virtual time it used. */
static int64_t io_timeout_ns_locked(struct coremu_iothread *io, int64_t *vnow)
{
    *vnow = coremu_clock_ns();
    if (!io->timers) {
        return -1;
    }
    int64_t dt = io->timers->expire - *vnow;
    return dt < 0 ? 0 : dt;
}

static struct io_fd *io_find_fd_locked(struct coremu_iothread *io, int fd)
{
    for (size_t i = 0; i < io->nfds; i++) {
        if (io->fds[i].fd == fd) {
            return &io->fds[i];
        }
    }
    return NULL;
}

static void *io_main(void *arg)
{
    struct coremu_iothread *io = arg;
    struct pollfd *pfds = NULL;
    uint64_t *ids = NULL;
    size_t cap = 0;
    int64_t last_vnow = -1;
    bool timed_out = false;

    current_io = io;
    pthread_setname_np(pthread_self(), "coremu-io");

    pthread_mutex_lock(&io->lock);
    for (;;) {
        io_run_calls_locked(io);
        if (io->stop) {
            break;
        }
        io_run_timers_locked(io);
        if (io->calls_head) {
            continue; /* a timer handed over work: run it before sleeping */
        }

        /* Snapshot the poll set: the table may change while we sleep. */
        if (cap < io->nfds + 1) {
            size_t ncap = io->nfds + 8;
            struct pollfd *np = realloc(pfds, ncap * sizeof *np);
            if (np) {
                pfds = np;
            }
            uint64_t *ni = realloc(ids, ncap * sizeof *ni);
            if (ni) {
                ids = ni;
            }
            if (np && ni) {
                cap = ncap;
            }
        }
        size_t n = 0;
        if (cap > 0) {
            pfds[n++] = (struct pollfd){.fd = io->efd, .events = POLLIN};
            for (size_t i = 0; i < io->nfds && n < cap; i++) {
                if (io->fds[i].events) {
                    pfds[n] = (struct pollfd){.fd = io->fds[i].fd, .events = io->fds[i].events};
                    ids[n] = io->fds[i].id;
                    n++;
                }
            }
        }
        int64_t vnow;
        int64_t timeout = io_timeout_ns_locked(io, &vnow);
        if (timeout >= 0 && timed_out && vnow == last_vnow && timeout < IO_PAUSED_POLL_NS) {
            timeout = IO_PAUSED_POLL_NS; /* the clock is paused */
        }
        last_vnow = vnow;
        pthread_mutex_unlock(&io->lock);

        struct timespec ts, *tsp = NULL;
        if (timeout >= 0) {
            ts.tv_sec = timeout / COREMU_NS_PER_SEC;
            ts.tv_nsec = timeout % COREMU_NS_PER_SEC;
            tsp = &ts;
        }
        int r;
        if (n > 0) {
            r = ppoll(pfds, n, tsp, NULL);
        } else {
            /* Out of memory for the poll set: retry shortly rather than spin. */
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
            r = 0;
        }

        pthread_mutex_lock(&io->lock);
        timed_out = r == 0 && tsp;
        if (r <= 0) {
            continue; /* timeout, EINTR: the next pass looks at timers and calls */
        }
        if (pfds[0].revents) {
            uint64_t v;
            ssize_t rd = read(io->efd, &v, sizeof v);
            (void)rd;
            io->wake_pending = false;
        }
        for (size_t i = 1; i < n; i++) {
            if (!pfds[i].revents) {
                continue;
            }
            struct io_fd *e = io_find_fd_locked(io, pfds[i].fd);
            if (!e || e->id != ids[i] || !e->events) {
                continue; /* removed, replaced by a new owner, or put on hold meanwhile */
            }
            short ev = pfds[i].revents & (e->events | POLLERR | POLLHUP | POLLNVAL);
            if (!ev) {
                continue;
            }
            if (ev & POLLNVAL) {
                /* Closed without being removed: stop polling it, or poll() would spin. */
                e->events = 0;
            }
            coremu_fd_fn fn = e->fn;
            void *opaque = e->opaque;
            int fd = e->fd;
            io->running_fd = fd;
            pthread_mutex_unlock(&io->lock);
            fn(opaque, fd, ev);
            pthread_mutex_lock(&io->lock);
            io->running_fd = -1;
            if (io->waiters) {
                pthread_cond_broadcast(&io->idle_cond);
            }
        }
    }
    pthread_mutex_unlock(&io->lock);
    free(pfds);
    free(ids);
    current_io = NULL;
    return NULL;
}

int coremu_iothread_start(struct coremu_iothread *io)
{
    int ret = 0;
    pthread_mutex_lock(&io->lock);
    if (!io->started) {
        ret = -pthread_create(&io->thread, NULL, io_main, io);
        io->started = ret == 0;
    }
    pthread_mutex_unlock(&io->lock);
    return ret;
}

void coremu_iothread_free(struct coremu_iothread *io)
{
    if (!io) {
        return;
    }
    pthread_mutex_lock(&io->lock);
    bool started = io->started;
    io->stop = true;
    io_wake_locked(io);
    pthread_mutex_unlock(&io->lock);
    if (started) {
        pthread_join(io->thread, NULL);
    }
    /* Calls never run (the loop was never started) are dropped with their nodes. Timers still
     * armed belong to their devices, which must free them before the loop. */
    while (io->calls_head) {
        struct io_call *c = io->calls_head;
        io->calls_head = c->next;
        free(c);
    }
    for (struct coremu_timer *t = io->timers; t;) {
        struct coremu_timer *next = t->next;
        t->pending = false;
        t->prev = t->next = NULL;
        t = next;
    }
    free(io->fds);
    close(io->efd);
    pthread_cond_destroy(&io->idle_cond);
    pthread_mutex_destroy(&io->lock);
    free(io);
}

static struct coremu_iothread *default_io;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
    default_io = coremu_iothread_new();
}

struct coremu_iothread *coremu_iothread_default(void)
{
    pthread_once(&default_once, default_init);
    return default_io;
}

int coremu_io_set_fd(struct coremu_iothread *io, int fd, short events, coremu_fd_fn fn,
                     void *opaque)
{
    if (fd < 0 || !fn) {
        return -EINVAL;
    }
    pthread_mutex_lock(&io->lock);
    struct io_fd *e = io_find_fd_locked(io, fd);
    if (!e) {
        if (io->nfds == io->capfds) {
            size_t ncap = io->capfds ? io->capfds * 2 : 16;
            struct io_fd *nf = realloc(io->fds, ncap * sizeof *nf);
            if (!nf) {
                pthread_mutex_unlock(&io->lock);
                return -ENOMEM;
            }
            io->fds = nf;
            io->capfds = ncap;
        }
        e = &io->fds[io->nfds++];
        e->fd = fd;
        e->events = 0;
        e->id = io->next_id++;
    }
    bool changed = e->events != events;
    e->events = events;
    e->fn = fn;
    e->opaque = opaque;
    if (changed) {
        io_wake_locked(io);
    }
    pthread_mutex_unlock(&io->lock);
    return 0;
}

void coremu_io_remove_fd(struct coremu_iothread *io, int fd)
{
    pthread_mutex_lock(&io->lock);
    struct io_fd *e = io_find_fd_locked(io, fd);
    if (e) {
        *e = io->fds[--io->nfds];
        /* The loop may be sleeping on fd, which the caller is about to close. */
        io_wake_locked(io);
    }
    if (current_io != io) {
        io->waiters++;
        while (io->running_fd == fd) {
            pthread_cond_wait(&io->idle_cond, &io->lock);
        }
        io->waiters--;
    }
    pthread_mutex_unlock(&io->lock);
}

int coremu_io_call(struct coremu_iothread *io, coremu_call_fn fn, void *opaque)
{
    struct io_call *c = malloc(sizeof *c);
    if (!c) {
        return -ENOMEM;
    }
    c->next = NULL;
    c->fn = fn;
    c->opaque = opaque;
    pthread_mutex_lock(&io->lock);
    if (io->calls_tail) {
        io->calls_tail->next = c;
    } else {
        io->calls_head = c;
    }
    io->calls_tail = c;
    io_wake_locked(io);
    pthread_mutex_unlock(&io->lock);
    return 0;
}

struct coremu_timer *coremu_timer_new(struct coremu_iothread *io, coremu_timer_fn fn, void *opaque)
{
    struct coremu_timer *t = calloc(1, sizeof *t);
    if (t) {
        t->io = io;
        t->fn = fn;
        t->opaque = opaque;
    }
    return t;
}

void coremu_timer_mod(struct coremu_timer *t, int64_t expire_ns)
{
    struct coremu_iothread *io = t->io;
    pthread_mutex_lock(&io->lock);
    timer_unlink_locked(t);
    t->expire = expire_ns;
    struct coremu_timer **pp = &io->timers, *prev = NULL;
    /* Equal deadlines keep their arming order. */
    while (*pp && (*pp)->expire <= expire_ns) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    t->next = *pp;
    t->prev = prev;
    if (*pp) {
        (*pp)->prev = t;
    }
    *pp = t;
    t->pending = true;
    if (io->timers == t) {
        io_wake_locked(io); /* the loop sleeps until the earliest deadline: it changed */
    }
    pthread_mutex_unlock(&io->lock);
}

void coremu_timer_del(struct coremu_timer *t)
{
    struct coremu_iothread *io = t->io;
    pthread_mutex_lock(&io->lock);
    timer_unlink_locked(t);
    if (current_io != io) {
        io->waiters++;
        while (io->running_timer == t) {
            pthread_cond_wait(&io->idle_cond, &io->lock);
            /* The callback may have re-armed itself while we waited: the delete wins. */
            timer_unlink_locked(t);
        }
        io->waiters--;
    }
    pthread_mutex_unlock(&io->lock);
}

bool coremu_timer_pending(struct coremu_timer *t)
{
    pthread_mutex_lock(&t->io->lock);
    bool p = t->pending;
    pthread_mutex_unlock(&t->io->lock);
    return p;
}

void coremu_timer_free(struct coremu_timer *t)
{
    if (!t) {
        return;
    }
    coremu_timer_del(t);
    free(t);
}

bool coremu_iothread_is_current(const struct coremu_iothread *io)
{
    return current_io == io;
}
