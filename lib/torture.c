/*
 * coremu — the generic atomic torture test: many threads add 1 to one shared counter through
 * an architecture's helper (an LL/SC retry loop, a LOCK-prefixed add, a CAS loop...), and the
 * final value must be exactly the number of additions.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/atomic.h>
#include <coremu/clock.h>

/* The "guest RAM" of the test: one buffer covered by one engine. */
#define TORTURE_RAM_SIZE (64u * 1024u)
#define TORTURE_RAM_BASE 0x40000000ull
/* Where the counter lives: away from the buffer's start, 16-byte aligned for every size. */
#define TORTURE_COUNTER_OFFSET 0x1000u

struct torture_shared {
    const struct coremu_atomic_helper *helper;
    struct coremu_xmon *xmon;
    void *counter;
    uint64_t counter_pa;
    uint64_t iterations;
    /* The start gate: every thread waits for go != 0 before its first addition, so that they
     * really contend; go is 1 to run, 2 to give up (a thread could not be created). */
    pthread_mutex_t gate_lock;
    pthread_cond_t gate_cond;
    int go; /* under gate_lock */
};

static void *torture_thread(void *arg)
{
    struct torture_shared *s = arg;
    /* This thread's own local monitor, as a guest core would own one. */
    struct coremu_xmon_local mon;

    memset(&mon, 0, sizeof(mon));
    pthread_mutex_lock(&s->gate_lock);
    while (s->go == 0) {
        pthread_cond_wait(&s->gate_cond, &s->gate_lock);
    }
    int go = s->go;
    pthread_mutex_unlock(&s->gate_lock);
    if (go != 1) {
        return NULL;
    }
    for (uint64_t i = 0; i < s->iterations; i++) {
        s->helper->add(s->xmon, &mon, s->counter, s->counter_pa, 1);
    }
    return NULL;
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8 || size == 16;
}

int coremu_atomic_torture(const struct coremu_atomic_helper *helper, enum coremu_xmon_mode mode,
                          unsigned nthreads, uint64_t iterations,
                          struct coremu_torture_result *result)
{
    struct torture_shared s;
    pthread_t *threads = NULL;
    unsigned started = 0;
    uint8_t *ram = NULL;
    int ret = -1;

    if (result) {
        memset(result, 0, sizeof(*result));
    }
    if (!helper || !helper->add || !valid_size(helper->size) || nthreads == 0 || !result) {
        return -1;
    }

    memset(&s, 0, sizeof(s));
    ram = aligned_alloc(4096, TORTURE_RAM_SIZE);
    threads = calloc(nthreads, sizeof(*threads));
    if (!ram || !threads) {
        goto out;
    }
    memset(ram, 0, TORTURE_RAM_SIZE);
    s.helper = helper;
    s.xmon = coremu_xmon_new(mode, TORTURE_RAM_BASE, TORTURE_RAM_SIZE, NULL, NULL);
    if (!s.xmon) {
        goto out;
    }
    s.counter = ram + TORTURE_COUNTER_OFFSET;
    s.counter_pa = TORTURE_RAM_BASE + TORTURE_COUNTER_OFFSET;
    s.iterations = iterations;
    pthread_mutex_init(&s.gate_lock, NULL);
    pthread_cond_init(&s.gate_cond, NULL);

    /* The sum wraps like the guest's register: modulo 2^(8 * size), and for a 16-byte pair the
     * low 8 bytes are the counter. */
    unsigned bits = helper->size >= 8 ? 64 : 8 * helper->size;
    uint64_t mask = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
    result->expected = ((uint64_t)nthreads * iterations) & mask;

    int64_t t0 = coremu_host_ns();
    for (started = 0; started < nthreads; started++) {
        if (pthread_create(&threads[started], NULL, torture_thread, &s) != 0) {
            break;
        }
    }
    pthread_mutex_lock(&s.gate_lock);
    s.go = started == nthreads ? 1 : 2;
    pthread_cond_broadcast(&s.gate_cond);
    pthread_mutex_unlock(&s.gate_lock);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    result->seconds = (double)(coremu_host_ns() - t0) / 1e9;
    result->observed = coremu_atomic_load(s.counter, helper->size >= 8 ? 8 : helper->size);
    if (started == nthreads && result->observed == result->expected) {
        ret = 0;
    }

    pthread_cond_destroy(&s.gate_cond);
    pthread_mutex_destroy(&s.gate_lock);
    coremu_xmon_free(s.xmon);
out:
    free(threads);
    free(ram);
    return ret;
}
