/*
 * The virtual clock: monotonic, frozen while paused (nestably), continuing without a jump after
 * a resume, and never seen running backwards by a reader racing with pauses and resumes.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <coremu/clock.h>

#include "unit.h"

static _Atomic bool readers_stop;
static _Atomic uint64_t backwards_seen;
static _Atomic uint64_t reads_done;

static void *reader_main(void *arg)
{
    (void)arg;
    int64_t last = coremu_clock_ns();
    uint64_t n = 0;
    while (!atomic_load_explicit(&readers_stop, memory_order_relaxed)) {
        int64_t now = coremu_clock_ns();
        if (now < last) {
            atomic_fetch_add(&backwards_seen, 1);
        }
        last = now;
        n++;
    }
    atomic_fetch_add(&reads_done, n);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void)
{
    int64_t a = coremu_clock_ns();
    sleep_ms(20);
    int64_t b = coremu_clock_ns();
    UNIT_CHECK(a >= 0 && b - a >= 20 * 1000000LL, "advances with host time",
               "a=%lld b=%lld", (long long)a, (long long)b);

    /* Paused: frozen, and nested pauses need as many resumes. */
    coremu_clock_pause();
    coremu_clock_pause();
    int64_t p0 = coremu_clock_ns();
    sleep_ms(30);
    int64_t p1 = coremu_clock_ns();
    UNIT_CHECK(p0 == p1, "frozen while paused", "moved by %lld ns", (long long)(p1 - p0));
    coremu_clock_resume();
    sleep_ms(10);
    int64_t p2 = coremu_clock_ns();
    UNIT_CHECK(p2 == p0, "nested pause holds until the last resume", "moved by %lld ns",
               (long long)(p2 - p0));
    coremu_clock_resume();
    int64_t r0 = coremu_clock_ns();
    UNIT_CHECK(r0 >= p0 && r0 - p0 < 5 * 1000000000LL, "no jump after resume",
               "jumped by %lld ns", (long long)(r0 - p0));
    sleep_ms(20);
    int64_t r1 = coremu_clock_ns();
    UNIT_CHECK(r1 - r0 >= 20 * 1000000LL, "runs again after resume", "advanced %lld ns",
               (long long)(r1 - r0));
    /* An unbalanced resume is harmless. */
    coremu_clock_resume();
    UNIT_CHECK(coremu_clock_ns() >= r1, "extra resume is harmless", "clock went backwards");

    /* Readers racing with pause/resume never see time run backwards. */
    pthread_t readers[3];
    for (int i = 0; i < 3; i++) {
        UNIT_REQUIRE(pthread_create(&readers[i], NULL, reader_main, NULL) == 0, "start readers",
                     "pthread_create failed");
    }
    for (int i = 0; i < 2000; i++) {
        coremu_clock_pause();
        if (i % 7 == 0) {
            sched_yield();
        }
        coremu_clock_resume();
    }
    atomic_store(&readers_stop, true);
    for (int i = 0; i < 3; i++) {
        pthread_join(readers[i], NULL);
    }
    UNIT_CHECK(atomic_load(&backwards_seen) == 0 && atomic_load(&reads_done) > 0,
               "monotonic under concurrent pause/resume", "%llu backward steps in %llu reads",
               (unsigned long long)atomic_load(&backwards_seen),
               (unsigned long long)atomic_load(&reads_done));

    /* Wall clock for RTCs: close to time(). */
    int64_t wall = coremu_wall_ns() / 1000000000LL;
    int64_t t = (int64_t)time(NULL);
    UNIT_CHECK(wall - t <= 2 && t - wall <= 2, "wall clock", "wall=%lld time()=%lld",
               (long long)wall, (long long)t);
    UNIT_CHECK(coremu_host_ns() > 0, "host clock", "non-positive");
    return unit_done();
}
