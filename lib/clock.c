/*
 * coremu — the virtual clock: host CLOCK_MONOTONIC, less the moment the runtime first looked at
 * it, less the time spent paused.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <coremu/clock.h>

/* Host time of the first reading; set once under clock_once. */
static int64_t clock_origin;
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

/*
 * Pause bookkeeping. Writers (pausing is rare: -S, the debugger, the monitor) serialise on
 * pause_lock and publish through a sequence counter: odd while an update is in progress. Readers
 * retry until they saw an even, unchanged counter, so a reading never mixes an old pause state
 * with a new total and time never runs backwards.
 */
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned pause_depth;         /* under pause_lock */
static _Atomic uint32_t pause_seq;   /* written under pause_lock; read by anyone */
static _Atomic int64_t paused_total; /* ns spent paused; written under pause_lock */
static _Atomic int64_t paused_at;    /* host ns when the current pause began, or 0 */

static int64_t timespec_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * COREMU_NS_PER_SEC + ts->tv_nsec;
}

int64_t coremu_host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return timespec_ns(&ts);
}

int64_t coremu_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return timespec_ns(&ts);
}

static void clock_init(void)
{
    clock_origin = coremu_host_ns();
}

int64_t coremu_clock_ns(void)
{
    pthread_once(&clock_once, clock_init);
    for (;;) {
        uint32_t seq = atomic_load_explicit(&pause_seq, memory_order_acquire);
        if (seq & 1) {
            continue;
        }
        int64_t frozen = atomic_load_explicit(&paused_at, memory_order_relaxed);
        int64_t total = atomic_load_explicit(&paused_total, memory_order_relaxed);
        int64_t now = frozen ? frozen : coremu_host_ns();
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&pause_seq, memory_order_relaxed) == seq) {
            return now - clock_origin - total;
        }
    }
}

/*
 * Caller holds pause_lock. The host time is read inside the odd phase of the sequence: a reader
 * that validated its reading before this update began had read the host clock earlier still,
 * so freezing at a later host time can never show it time running backwards.
 */
static void pause_update(bool pausing)
{
    atomic_fetch_add_explicit(&pause_seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    int64_t now = coremu_host_ns();
    if (pausing) {
        atomic_store_explicit(&paused_at, now, memory_order_relaxed);
    } else {
        int64_t began = atomic_load_explicit(&paused_at, memory_order_relaxed);
        atomic_fetch_add_explicit(&paused_total, now - began, memory_order_relaxed);
        atomic_store_explicit(&paused_at, 0, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&pause_seq, 1, memory_order_release);
}

void coremu_clock_pause(void)
{
    pthread_once(&clock_once, clock_init);
    pthread_mutex_lock(&pause_lock);
    if (pause_depth++ == 0) {
        pause_update(true);
    }
    pthread_mutex_unlock(&pause_lock);
}

void coremu_clock_resume(void)
{
    pthread_mutex_lock(&pause_lock);
    if (pause_depth > 0 && --pause_depth == 0) {
        pause_update(false);
    }
    pthread_mutex_unlock(&pause_lock);
}
