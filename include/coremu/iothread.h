/*
 * coremu — the I/O thread: one poll loop for character devices, sockets, device timers and
 * work handed over from core threads.
 *
 * Callbacks registered here run on the I/O thread (named coremu-io), one at a time, so a
 * device whose state is touched only from its callbacks needs no further lock against itself;
 * state it shares with core threads (MMIO callbacks) is protected by the device's own lock.
 */
#ifndef COREMU_IOTHREAD_H
#define COREMU_IOTHREAD_H

#include <stdbool.h>
#include <stdint.h>

struct coremu_iothread;
struct coremu_timer;

typedef void (*coremu_fd_fn)(void *opaque, int fd, short revents);
typedef void (*coremu_timer_fn)(void *opaque);
typedef void (*coremu_call_fn)(void *opaque);

/* Creates the loop (not yet running). NULL on failure. */
struct coremu_iothread *coremu_iothread_new(void);
/* Starts its thread. 0 or -errno. */
int coremu_iothread_start(struct coremu_iothread *io);
/* Stops and joins the thread (callbacks in flight finish first), then frees everything. */
void coremu_iothread_free(struct coremu_iothread *io);
/* The process-wide loop used by devices; created on first use, started by the binary. */
struct coremu_iothread *coremu_iothread_default(void);
/* True when called on io's own thread (that is, from one of its callbacks). */
bool coremu_iothread_is_current(const struct coremu_iothread *io);

/* Watches fd for events (POLLIN/POLLOUT...). Any thread. A later call for the same fd replaces
 * its events and callback. events 0 keeps fd registered but unpolled (an owner holding its input:
 * not even POLLHUP/POLLERR are reported then). An fd that reports POLLNVAL (closed without being
 * removed) is passed to its callback once and then left unpolled. 0 or -errno. */
int coremu_io_set_fd(struct coremu_iothread *io, int fd, short events, coremu_fd_fn fn,
                     void *opaque);
/* Stops watching fd. When called from a thread other than the I/O thread, returns only after
 * any callback for fd in flight has finished, so the caller may then close fd and free opaque. */
void coremu_io_remove_fd(struct coremu_iothread *io, int fd);

/* Runs fn(opaque) on the I/O thread soon, calls in the order they were made. Any thread; never
 * blocks on the loop. coremu_iothread_free runs the calls still queued (if the loop was started).
 * 0 or -errno. */
int coremu_io_call(struct coremu_iothread *io, coremu_call_fn fn, void *opaque);

/* Device timers on the virtual clock; callbacks run on the I/O thread. */
struct coremu_timer *coremu_timer_new(struct coremu_iothread *io, coremu_timer_fn fn,
                                      void *opaque);
/* Arms (or re-arms) to fire at expire_ns of virtual time (never earlier). Any thread, including
 * the timer's own callback. */
void coremu_timer_mod(struct coremu_timer *t, int64_t expire_ns);
/* Disarms. Any thread; after it returns from a non-I/O thread the callback is not running and the
 * timer is not pending (even if the callback re-armed it meanwhile). */
void coremu_timer_del(struct coremu_timer *t);
bool coremu_timer_pending(struct coremu_timer *t);
/* Disarms (as coremu_timer_del) and frees; also allowed from the timer's own callback. Timers are
 * freed before their loop. */
void coremu_timer_free(struct coremu_timer *t);

#endif /* COREMU_IOTHREAD_H */
