/*
 * coremu — per-core lock-free multi-producer / single-consumer event queue.
 *
 * Every request that one thread makes of a guest core (an interrupt line change, an IPI, a TLB
 * flush, "run this function there") is an event pushed on that core's queue. Any number of
 * threads may push concurrently; only the owning core pops. Push is wait-free (one atomic
 * exchange and one release store); pop is lock-free except for the short window in which a
 * producer has swung the tail but not yet linked its node, where pop reports "empty for now"
 * rather than spinning.
 *
 * Events are intrusive: the producer owns the storage until the consumer has run the event's
 * handler, which decides what happens to it (free it, signal a waiter, reuse it).
 */
#ifndef COREMU_EVQ_H
#define COREMU_EVQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct coremu_cpu;
struct coremu_event;

/* Runs on the consuming core's thread. */
typedef void (*coremu_event_fn)(struct coremu_cpu *cpu, struct coremu_event *ev);

struct coremu_event {
    /* Written by the producer before publication and by the next producer when it links its
     * node (release); read by the consumer (acquire). */
    _Atomic(struct coremu_event *) next;
    coremu_event_fn fn;
    uint64_t arg[3];
    void *ptr;
};

struct coremu_evq {
    /* Producers exchange the tail (acq_rel); the consumer never touches it except in pop's
     * emptiness test. */
    _Alignas(64) _Atomic(struct coremu_event *) tail;
    /* Consumer-private: only the owning core reads or writes head. */
    _Alignas(64) struct coremu_event *head;
    struct coremu_event stub;
};

void coremu_evq_init(struct coremu_evq *q);

/* Any thread. Returns true when the queue looked empty before this push (the stub was its tail;
 * the consumer may still hold one event it has not handed out). A hint only: a producer must
 * still kick the consumer after every push, because a consumer that found an earlier push
 * half-way relies on that kick to look again. */
bool coremu_evq_push(struct coremu_evq *q, struct coremu_event *ev);

/* Owning thread only. NULL when the queue is empty, or when a concurrent push is half-way
 * through; in the latter case the producer's pending bit guarantees the consumer looks again. */
struct coremu_event *coremu_evq_pop(struct coremu_evq *q);

/* Owning thread only. True when no event is queued and no push is half-way; a push that has
 * swung the tail but not yet linked its node counts as "not empty", so a consumer that must see
 * every event (a core shutting down) can loop on pop until this is true. */
bool coremu_evq_empty(struct coremu_evq *q);

#endif /* COREMU_EVQ_H */
