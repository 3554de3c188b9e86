/*
 * The per-core event queue: basic single-thread behaviour, then many producers into one
 * consumer with nothing lost, nothing duplicated and each producer's order kept.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/evq.h>

#include "unit.h"

#define PRODUCERS 4
#define EVENTS_PER_PRODUCER 1000000u

/* arg[0] = producer id, arg[1] = sequence number within that producer. */
static void set_event(struct coremu_event *ev, uint64_t producer, uint64_t seq)
{
    memset(ev, 0, sizeof(*ev));
    ev->arg[0] = producer;
    ev->arg[1] = seq;
}

static void test_single_thread(void)
{
    struct coremu_evq q;
    struct coremu_event ev[5];

    coremu_evq_init(&q);
    UNIT_CHECK(coremu_evq_empty(&q), "evq: new queue is empty", "empty() false on a new queue");
    UNIT_CHECK(coremu_evq_pop(&q) == NULL, "evq: pop on empty queue", "pop returned an event");

    set_event(&ev[0], 0, 0);
    bool was_empty = coremu_evq_push(&q, &ev[0]);
    UNIT_CHECK(was_empty, "evq: first push reports empty", "push returned false");
    UNIT_CHECK(!coremu_evq_empty(&q), "evq: non-empty after push", "empty() true after a push");
    struct coremu_event *got = coremu_evq_pop(&q);
    UNIT_CHECK(got == &ev[0], "evq: pop returns the pushed event", "got %p, want %p",
               (void *)got, (void *)&ev[0]);
    UNIT_CHECK(coremu_evq_empty(&q), "evq: empty after popping the only event",
               "empty() false");
    UNIT_CHECK(coremu_evq_pop(&q) == NULL, "evq: pop after drain", "pop returned an event");

    /* FIFO over several rounds, so that the stub goes round the list more than once. */
    bool fifo_ok = true;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5; i++) {
            set_event(&ev[i], 0, (uint64_t)i);
            coremu_evq_push(&q, &ev[i]);
        }
        for (int i = 0; i < 5; i++) {
            got = coremu_evq_pop(&q);
            if (got != &ev[i]) {
                fifo_ok = false;
            }
        }
        if (coremu_evq_pop(&q) != NULL || !coremu_evq_empty(&q)) {
            fifo_ok = false;
        }
    }
    UNIT_CHECK(fifo_ok, "evq: FIFO order, single thread", "events came out of order");

    /* Interleaved push and pop: the queue never loses the element pushed after a pop that
     * emptied it. */
    bool interleave_ok = true;
    set_event(&ev[0], 0, 0);
    coremu_evq_push(&q, &ev[0]);
    set_event(&ev[1], 0, 1);
    coremu_evq_push(&q, &ev[1]);
    interleave_ok &= coremu_evq_pop(&q) == &ev[0];
    set_event(&ev[2], 0, 2);
    coremu_evq_push(&q, &ev[2]);
    interleave_ok &= coremu_evq_pop(&q) == &ev[1];
    interleave_ok &= coremu_evq_pop(&q) == &ev[2];
    interleave_ok &= coremu_evq_pop(&q) == NULL;
    set_event(&ev[3], 0, 3);
    coremu_evq_push(&q, &ev[3]);
    interleave_ok &= !coremu_evq_empty(&q);
    interleave_ok &= coremu_evq_pop(&q) == &ev[3];
    interleave_ok &= coremu_evq_empty(&q);
    UNIT_CHECK(interleave_ok, "evq: interleaved push and pop", "wrong event or emptiness");
}

struct producer {
    pthread_t thread;
    unsigned id;
    struct coremu_evq *q;
    struct coremu_event *events; /* EVENTS_PER_PRODUCER, preallocated */
    atomic_bool *go;
};

static void *producer_main(void *opaque)
{
    struct producer *p = opaque;
    while (!atomic_load_explicit(p->go, memory_order_acquire)) {
        sched_yield();
    }
    for (unsigned i = 0; i < EVENTS_PER_PRODUCER; i++) {
        set_event(&p->events[i], p->id, i);
        coremu_evq_push(p->q, &p->events[i]);
    }
    return NULL;
}

static void test_many_producers(void)
{
    static struct coremu_evq q;
    struct producer producers[PRODUCERS];
    atomic_bool go;
    uint64_t next_seq[PRODUCERS] = {0};
    uint64_t out_of_order = 0;
    uint64_t bad_id = 0;
    uint64_t bad_pointer = 0;
    uint64_t received = 0;
    const uint64_t total = (uint64_t)PRODUCERS * EVENTS_PER_PRODUCER;

    coremu_evq_init(&q);
    atomic_init(&go, false);
    for (unsigned i = 0; i < PRODUCERS; i++) {
        producers[i].id = i;
        producers[i].q = &q;
        producers[i].go = &go;
        producers[i].events = calloc(EVENTS_PER_PRODUCER, sizeof(struct coremu_event));
        UNIT_REQUIRE(producers[i].events != NULL, "evq: allocate events", "out of memory");
        UNIT_REQUIRE(pthread_create(&producers[i].thread, NULL, producer_main, &producers[i]) == 0,
                     "evq: start producers", "pthread_create failed");
    }
    atomic_store_explicit(&go, true, memory_order_release);

    /* The consumer has no pending bit to wait on here, so it simply polls; a NULL while
     * producers are running is "empty for now" (possibly a half-way push). */
    while (received < total) {
        struct coremu_event *ev = coremu_evq_pop(&q);
        if (ev == NULL) {
            sched_yield();
            continue;
        }
        received++;
        uint64_t id = ev->arg[0];
        uint64_t seq = ev->arg[1];
        if (id >= PRODUCERS) {
            bad_id++;
            continue;
        }
        if (ev != &producers[id].events[seq < EVENTS_PER_PRODUCER ? seq : 0]) {
            bad_pointer++;
        }
        /* Strictly the next sequence number of that producer: a lost event shows up as a gap,
         * a duplicate as a repeat, both as out of order. */
        if (seq != next_seq[id]) {
            out_of_order++;
        }
        next_seq[id] = seq + 1;
    }
    for (unsigned i = 0; i < PRODUCERS; i++) {
        pthread_join(producers[i].thread, NULL);
    }

    bool all_seen = true;
    for (unsigned i = 0; i < PRODUCERS; i++) {
        if (next_seq[i] != EVENTS_PER_PRODUCER) {
            all_seen = false;
        }
    }
    UNIT_CHECK(bad_id == 0 && bad_pointer == 0, "evq: MPSC events intact",
               "%llu events with a bad producer id, %llu at a wrong address",
               (unsigned long long)bad_id, (unsigned long long)bad_pointer);
    UNIT_CHECK(out_of_order == 0, "evq: MPSC per-producer order, none lost or duplicated",
               "%llu events out of sequence", (unsigned long long)out_of_order);
    UNIT_CHECK(all_seen, "evq: MPSC every producer's last event seen",
               "last sequence numbers %llu %llu %llu %llu", (unsigned long long)next_seq[0],
               (unsigned long long)next_seq[1], (unsigned long long)next_seq[2],
               (unsigned long long)next_seq[3]);
    UNIT_CHECK(coremu_evq_pop(&q) == NULL && coremu_evq_empty(&q), "evq: MPSC nothing extra",
               "the queue still held events after all were received");

    for (unsigned i = 0; i < PRODUCERS; i++) {
        free(producers[i].events);
    }
}

int main(void)
{
    test_single_thread();
    test_many_producers();
    return unit_done();
}
