/*
 * coremu — per-core intrusive MPSC event queue.
 *
 * A singly linked list from head (oldest) to tail (newest), always holding at least one node:
 * either a real event or the queue's own stub. Producers append by exchanging the tail, then
 * linking the previous tail to their node; between those two steps the list is momentarily cut
 * in two, which the consumer sees as "empty for now". The consumer owns head: it hands out a
 * node once that node has a successor (or is provably the last one), and re-appends the stub
 * when it is about to hand out the last real node, so that the list never becomes empty.
 */
#include "config.h"

#include <stddef.h>

#include <coremu/evq.h>

void coremu_evq_init(struct coremu_evq *q)
{
    atomic_init(&q->stub.next, NULL);
    q->stub.fn = NULL;
    q->head = &q->stub;
    atomic_init(&q->tail, &q->stub);
}

bool coremu_evq_push(struct coremu_evq *q, struct coremu_event *ev)
{
    /* The release half of the exchange publishes this NULL to the next producer, whose link
     * store into ev->next must come after it. */
    atomic_store_explicit(&ev->next, NULL, memory_order_relaxed);
    struct coremu_event *prev = atomic_exchange_explicit(&q->tail, ev, memory_order_acq_rel);
    /* Until this store the consumer cannot reach ev; the release makes the producer's writes
     * to *ev visible to the consumer that acquires prev->next. */
    atomic_store_explicit(&prev->next, ev, memory_order_release);
    return prev == &q->stub;
}

struct coremu_event *coremu_evq_pop(struct coremu_evq *q)
{
    struct coremu_event *head = q->head;
    struct coremu_event *next = atomic_load_explicit(&head->next, memory_order_acquire);

    if (head == &q->stub) {
        if (next == NULL) {
            return NULL; /* empty, or the first push is half-way */
        }
        /* Skip the stub: it is not an event. */
        q->head = next;
        head = next;
        next = atomic_load_explicit(&head->next, memory_order_acquire);
    }
    if (next != NULL) {
        q->head = next;
        return head;
    }

    /* head is the last linked node. If the tail is elsewhere, a producer has swung it but not
     * yet linked head to its node: report empty; that producer's kick comes after its link. */
    struct coremu_event *tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (tail != head) {
        return NULL;
    }

    /* head is the only event. Handing it out would leave the list without a node, so put the
     * stub behind it first; then head has a successor (the stub, or a producer's node that
     * slipped in before it). */
    coremu_evq_push(q, &q->stub);
    next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (next != NULL) {
        q->head = next;
        return head;
    }
    /* A producer exchanged the tail between our read and the stub's push and has not linked
     * yet; its kick will bring us back. */
    return NULL;
}

bool coremu_evq_empty(struct coremu_evq *q)
{
    /* A half-way push counts as "not empty": the caller that must wait for every event (a core
     * shutting down) then looks again instead of missing it. */
    return q->head == &q->stub &&
           atomic_load_explicit(&q->stub.next, memory_order_acquire) == NULL &&
           atomic_load_explicit(&q->tail, memory_order_acquire) == &q->stub;
}
