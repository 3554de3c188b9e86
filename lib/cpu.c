/*
 * coremu — guest cores as host threads: the machine, power states, sleeping, stop-the-world.
 *
 * Each core's thread alternates between two places: asleep while the core is off (it still
 * serves its event queue, so that nothing posted to it waits forever), and inside the
 * architecture's ops->run while the core is on. Everything slow (power transitions, stops,
 * shutdown) goes through machine->world_lock; the fast path is a relaxed load of `pending`.
 *
 * Stop-the-world counts "parked" cores: a core is parked while its thread cannot touch guest or
 * architecture state without first taking world_lock and waiting out a stop (see the `parked`
 * field in cpu.h). A stopper sets stop_depth, kicks COREMU_PENDING_STOP at every core that is
 * not parked, and waits on world_cond until all of them are. A core leaves the parked state
 * only under world_lock and only when no other thread holds the world stopped.
 */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <coremu/clock.h>
#include <coremu/cpu.h>
#include <coremu/topology.h>

#include "internal.h"

#define RUNTIME_BITS (COREMU_PENDING_ARCH0 - 1u)
/* The runtime bits that coremu_cpu_process_pending consumes. EXIT stays set for good, so that
 * every later poll and sleep of a core of an exiting machine returns at once. */
#define CONSUMED_BITS (RUNTIME_BITS & ~(uint32_t)COREMU_PENDING_EXIT)

/* How often coremu_cpu_relax looks at pending before giving the host CPU away. Short: a guest
 * lock holder that is descheduled on an over-subscribed host needs our CPU more than we need
 * a low-latency hand-over. */
#define RELAX_SPINS 64

/* Over-subscribed relax (coremu_cpu_relax): a spin loop that has yielded for RELAX_GRACE_NS
 * turns to sleeps of RELAX_SLEEP_MIN_NS, doubling up to RELAX_SLEEP_MAX_NS. Short waits (a
 * cross-call answered in microseconds) never sleep. A spinner at the head of a guest queue lock
 * notices its turn up to one sleep late, so the cap bounds the hand-over delay; each sleeper
 * costs a host wake-up per sleep, so the cap also bounds what a hundred sleeping spinners take
 * from the cores that work. */
#define RELAX_GRACE_NS     (200 * 1000)
#define RELAX_SLEEP_MIN_NS (50 * 1000)
#define RELAX_SLEEP_MAX_NS (1000 * 1000)

/* While the virtual clock is paused a deadline cannot come closer; sleeping for the remaining
 * (frozen) distance over and over would spin. Re-check at this pace instead. */
#define PAUSED_CLOCK_RECHECK_NS (10 * 1000 * 1000)

#define CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static _Thread_local struct coremu_cpu *current_cpu;

/* ---- host primitives ----------------------------------------------------------------------- */

void rt_thread_set_name(const char *name)
{
    char truncated[16]; /* the kernel keeps 15 characters and refuses longer names */
    size_t len = strnlen(name, sizeof truncated - 1);
    memcpy(truncated, name, len);
    truncated[len] = '\0';
    pthread_setname_np(pthread_self(), truncated);
}

void rt_futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    struct timespec timeout;
    struct timespec *timeout_ptr = NULL;
    if (timeout_ns >= 0) {
        timeout.tv_sec = timeout_ns / COREMU_NS_PER_SEC;
        timeout.tv_nsec = timeout_ns % COREMU_NS_PER_SEC;
        timeout_ptr = &timeout;
    }
    /* EAGAIN (the word changed), EINTR and ETIMEDOUT all mean "look again": every caller
     * re-checks its condition in a loop. */
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, timeout_ptr, NULL, 0);
}

void rt_futex_wake(_Atomic uint32_t *addr, int count)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

/* ---- world_lock helpers -------------------------------------------------------------------- */

/* world_lock held. True when a thread other than the caller holds the world stopped. */
static bool foreign_stop(const struct coremu_machine *m)
{
    return m->stop_depth > 0 && !pthread_equal(m->stopper, pthread_self());
}

/* world_lock held. */
static void set_parked_locked(struct coremu_cpu *cpu, bool parked)
{
    struct coremu_machine *m = cpu->machine;
    if (cpu->parked == parked) {
        return;
    }
    cpu->parked = parked;
    if (parked) {
        m->parked++;
    } else {
        m->parked--;
    }
    pthread_cond_broadcast(&m->world_cond);
}

/* world_lock held; cpu is the caller's own core. Parks while another thread holds the world
 * stopped, then leaves the parked state. */
static void park_while_stopped_locked(struct coremu_cpu *cpu)
{
    struct coremu_machine *m = cpu->machine;
    if (!foreign_stop(m)) {
        return;
    }
    set_parked_locked(cpu, true);
    while (foreign_stop(m)) {
        pthread_cond_wait(&m->world_cond, &m->world_lock);
    }
    set_parked_locked(cpu, false);
}

static void park_while_stopped(struct coremu_cpu *cpu)
{
    struct coremu_machine *m = cpu->machine;
    pthread_mutex_lock(&m->world_lock);
    park_while_stopped_locked(cpu);
    pthread_mutex_unlock(&m->world_lock);
}

/* ---- events and sleeping ------------------------------------------------------------------- */

/* Owner only. Runs every event that is fully linked; a half-way push is left for the kick its
 * producer sends after linking. */
static void drain_events(struct coremu_cpu *cpu)
{
    struct coremu_event *ev;
    while ((ev = coremu_evq_pop(&cpu->evq)) != NULL) {
        /* fn may free or reuse ev: nothing of it is read afterwards. */
        ev->fn(cpu, ev);
    }
}

/* Owner only. Sleeps on the pending word while it still holds `seen` (or until timeout_ns,
 * < 0: none); only kicks of bits in wake_mask wake it. The seq_cst store of `sleeping` and the
 * seq_cst re-read of `pending` pair with coremu_cpu_kick's seq_cst fetch_or of `pending` and
 * read of `sleeping`: either the kicker sees us sleeping for its bit and wakes us, or we see
 * its bit and do not sleep (a bit outside wake_mask then makes the caller re-check and sleep
 * again, which costs one loop, not a wake-up per kick). */
static void sleep_on_pending(struct coremu_cpu *cpu, uint32_t seen, int64_t timeout_ns,
                             uint32_t wake_mask)
{
    atomic_store_explicit(&cpu->sleeping, wake_mask, memory_order_seq_cst);
    if (atomic_load_explicit(&cpu->pending, memory_order_seq_cst) == seen) {
        atomic_fetch_sub_explicit(&cpu->machine->cpus_awake, 1, memory_order_relaxed);
        rt_futex_wait(&cpu->pending, seen, timeout_ns);
        atomic_fetch_add_explicit(&cpu->machine->cpus_awake, 1, memory_order_relaxed);
    }
    atomic_store_explicit(&cpu->sleeping, 0, memory_order_relaxed);
}

void coremu_cpu_kick(struct coremu_cpu *cpu, uint32_t bits)
{
    atomic_fetch_or_explicit(&cpu->pending, bits, memory_order_seq_cst);
    /* A core asleep in WFI is not woken for work it would only do and go back to sleep
     * (cross-core TLB maintenance, say): it finds the bit when something it waits for comes. */
    if (atomic_load_explicit(&cpu->sleeping, memory_order_seq_cst) & bits) {
        rt_futex_wake(&cpu->pending, 1);
    }
}

void coremu_cpu_post(struct coremu_cpu *cpu, struct coremu_event *ev)
{
    coremu_evq_push(&cpu->evq, ev);
    /* Always kick, even if the queue was not empty: the consumer may have given up on an
     * earlier half-way push and now waits for a kick that comes after this link. */
    coremu_cpu_kick(cpu, COREMU_PENDING_EVENT);
}

void coremu_cpu_wait(struct coremu_cpu *cpu, uint32_t mask)
{
    const uint32_t wake_bits = mask | RUNTIME_BITS;
    int64_t previous_now = -1;

    for (;;) {
        uint32_t seen = atomic_load_explicit(&cpu->pending, memory_order_acquire);
        if (seen & wake_bits) {
            return;
        }
        int64_t timeout_ns = -1;
        if (cpu->deadline != INT64_MAX) {
            int64_t now = coremu_clock_ns();
            if (now >= cpu->deadline) {
                atomic_fetch_or_explicit(&cpu->pending, COREMU_PENDING_TIMER,
                                         memory_order_relaxed);
                return;
            }
            timeout_ns = cpu->deadline - now;
            if (now == previous_now && timeout_ns < PAUSED_CLOCK_RECHECK_NS) {
                timeout_ns = PAUSED_CLOCK_RECHECK_NS;
            }
            previous_now = now;
        }
        sleep_on_pending(cpu, seen, timeout_ns, wake_bits);
    }
}

void coremu_cpu_relax(struct coremu_cpu *cpu, uint64_t progress)
{
    /* Wait for something new, not for a non-zero word: an interrupt line that the guest keeps
     * masked while it spins on a lock stays set, and must not turn the yield into a hot spin. */
    uint32_t seen = atomic_load_explicit(&cpu->pending, memory_order_relaxed);
    for (unsigned i = 0; i < RELAX_SPINS; i++) {
        if (atomic_load_explicit(&cpu->pending, memory_order_relaxed) != seen) {
            return;
        }
        rt_spin_hint();
    }
    struct coremu_machine *m = cpu->machine;
    int64_t now = coremu_host_ns();
    if (progress - cpu->relax_progress > COREMU_RELAX_LOOP_INSNS) {
        cpu->relax_start_ns = now; /* a new spin loop */
        cpu->relax_sleeps = 0;
    }
    cpu->relax_progress = progress;
    if (now - cpu->relax_start_ns < RELAX_GRACE_NS ||
        atomic_load_explicit(&m->cpus_awake, memory_order_relaxed) <= (int)m->host_pus) {
        sched_yield();
        return;
    }
    /* 50, 100, 200, 400, 800 us, then the 1 ms cap. */
    int64_t timeout_ns = RELAX_SLEEP_MAX_NS;
    if (cpu->relax_sleeps < 5) {
        timeout_ns = (int64_t)RELAX_SLEEP_MIN_NS << cpu->relax_sleeps++;
    }
    /* Any change of pending ends the sleep: an interrupt, an event, a stop. */
    sleep_on_pending(cpu, seen, timeout_ns, ~0u);
}

/* Owner only. */
static bool deadline_passed(struct coremu_cpu *cpu)
{
    cpu->poll_countdown = COREMU_CPU_CLOCK_POLL_INTERVAL;
    return cpu->deadline != INT64_MAX && coremu_clock_ns() >= cpu->deadline;
}

bool coremu_cpu_poll_clock(struct coremu_cpu *cpu)
{
    if (!deadline_passed(cpu)) {
        return false;
    }
    /* Tell process_pending why it runs, so that it need not read the clock again. */
    atomic_fetch_or_explicit(&cpu->pending, COREMU_PENDING_TIMER, memory_order_relaxed);
    return true;
}

void coremu_cpu_set_deadline(struct coremu_cpu *cpu, int64_t deadline_ns)
{
    cpu->deadline = deadline_ns;
}

struct coremu_cpu *coremu_cpu_self(void)
{
    return current_cpu;
}

enum coremu_cpu_action coremu_cpu_process_pending(struct coremu_cpu *cpu)
{
    struct coremu_machine *m = cpu->machine;
    uint32_t bits = atomic_fetch_and_explicit(&cpu->pending, ~CONSUMED_BITS,
                                              memory_order_acq_rel);

    if (bits & COREMU_PENDING_EVENT) {
        drain_events(cpu);
    }
    if (bits & COREMU_PENDING_STOP) {
        park_while_stopped(cpu);
    }
    if (atomic_load_explicit(&m->exiting, memory_order_acquire) ||
        atomic_load_explicit(&cpu->power, memory_order_acquire) != COREMU_CPU_ON) {
        return COREMU_CPU_LEAVE;
    }
    /* coremu_cpu_poll counts down to its clock read only while pending is clear. A bit that
     * stays set (an interrupt line the guest keeps masked) brings the loop here at every block
     * instead, so the same countdown paces the clock reads here: the deadline is still seen
     * within COREMU_CPU_CLOCK_POLL_INTERVAL boundaries, without a clock read at each. */
    bool expired = (bits & COREMU_PENDING_TIMER) != 0;
    if (!expired && cpu->deadline != INT64_MAX && --cpu->poll_countdown == 0) {
        expired = deadline_passed(cpu);
    }
    if (expired) {
        /* One-shot: timer_expired re-arms if the guest's timer should fire again. */
        cpu->deadline = INT64_MAX;
        if (cpu->ops->timer_expired != NULL) {
            cpu->ops->timer_expired(cpu);
        }
    }
    return COREMU_CPU_CONTINUE;
}

/* ---- run_sync / run_async ------------------------------------------------------------------ */

struct sync_call {
    struct coremu_event ev;
    void (*fn)(struct coremu_cpu *, void *);
    void *arg;
    struct coremu_cpu *waiter; /* the calling core, woken by COREMU_PENDING_SYNC; or NULL */
    _Atomic uint32_t done;     /* 0 -> 1 (seq_cst) by the target once fn has returned */
};

static void sync_call_run(struct coremu_cpu *cpu, struct coremu_event *ev)
{
    struct sync_call *call = CONTAINER_OF(ev, struct sync_call, ev);
    struct coremu_cpu *waiter = call->waiter;

    call->fn(cpu, call->arg);
    /* After this store the waiter may return, and *call lives in its stack frame: read nothing
     * of it afterwards. Waking by address is harmless even if the frame is gone (a private
     * futex wake does not touch the memory, and every futex sleeper re-checks its word). */
    atomic_store_explicit(&call->done, 1, memory_order_seq_cst);
    if (waiter != NULL) {
        coremu_cpu_kick(waiter, COREMU_PENDING_SYNC);
    } else {
        rt_futex_wake(&call->done, 1);
    }
}

/* The calling core waits for its call to complete while serving its own events and stop
 * requests, so that cores calling each other, or a stop that starts meanwhile, cannot
 * deadlock with it. */
static void wait_sync_as_core(struct coremu_cpu *self, struct sync_call *call)
{
    const uint32_t served = COREMU_PENDING_SYNC | COREMU_PENDING_EVENT | COREMU_PENDING_STOP;

    for (;;) {
        uint32_t bits = atomic_fetch_and_explicit(&self->pending, ~served, memory_order_seq_cst);
        if (bits & COREMU_PENDING_EVENT) {
            drain_events(self);
        }
        if (bits & COREMU_PENDING_STOP) {
            park_while_stopped(self);
        }
        if (atomic_load_explicit(&call->done, memory_order_seq_cst)) {
            return;
        }
        uint32_t seen = atomic_load_explicit(&self->pending, memory_order_seq_cst);
        if (seen & served) {
            continue;
        }
        /* Same handshake as sleep_on_pending, with the completion flag checked after
         * announcing the sleep: the completer stores done before it kicks. */
        atomic_store_explicit(&self->sleeping, ~0u, memory_order_seq_cst);
        if (!atomic_load_explicit(&call->done, memory_order_seq_cst) &&
            atomic_load_explicit(&self->pending, memory_order_seq_cst) == seen) {
            rt_futex_wait(&self->pending, seen, -1);
        }
        atomic_store_explicit(&self->sleeping, 0, memory_order_relaxed);
    }
}

bool coremu_cpu_run_sync(struct coremu_cpu *cpu, void (*fn)(struct coremu_cpu *, void *),
                         void *arg)
{
    struct coremu_machine *m = cpu->machine;
    struct coremu_cpu *self = coremu_cpu_self();

    if (self == cpu) {
        fn(cpu, arg);
        return true;
    }

    pthread_mutex_lock(&m->world_lock);
    bool target_off = atomic_load_explicit(&cpu->power, memory_order_acquire) == COREMU_CPU_OFF;
    if (m->stop_depth > 0 && pthread_equal(m->stopper, pthread_self())) {
        /* The caller holds the world stopped: the target is parked and will not run its queue
         * before the caller resumes it, so waiting would deadlock. Its state is ours to touch. */
        pthread_mutex_unlock(&m->world_lock);
        if (target_off) {
            return false;
        }
        fn(cpu, arg);
        return true;
    }
    if (atomic_load_explicit(&m->exiting, memory_order_acquire) || !cpu->alive || target_off) {
        pthread_mutex_unlock(&m->world_lock);
        return false;
    }

    struct sync_call call = {
        .ev.fn = sync_call_run,
        .fn = fn,
        .arg = arg,
        .waiter = self,
    };
    atomic_init(&call.done, 0);
    /* Pushed under world_lock while the target is alive: a finishing thread clears `alive`
     * under the same lock and then drains its queue, so this event always runs. */
    coremu_evq_push(&cpu->evq, &call.ev);
    pthread_mutex_unlock(&m->world_lock);
    coremu_cpu_kick(cpu, COREMU_PENDING_EVENT);

    if (self != NULL) {
        wait_sync_as_core(self, &call);
    } else {
        while (!atomic_load_explicit(&call.done, memory_order_acquire)) {
            rt_futex_wait(&call.done, 0, -1);
        }
    }
    return true;
}

struct async_call {
    struct coremu_event ev;
    void (*fn)(struct coremu_cpu *, void *);
    void *arg;
};

static void async_call_run(struct coremu_cpu *cpu, struct coremu_event *ev)
{
    struct async_call *call = CONTAINER_OF(ev, struct async_call, ev);
    void (*fn)(struct coremu_cpu *, void *) = call->fn;
    void *arg = call->arg;

    free(call);
    fn(cpu, arg);
}

bool coremu_cpu_run_async(struct coremu_cpu *cpu, void (*fn)(struct coremu_cpu *, void *),
                          void *arg)
{
    struct coremu_machine *m = cpu->machine;
    struct async_call *call = calloc(1, sizeof(*call));
    if (call == NULL) {
        return false;
    }
    call->ev.fn = async_call_run;
    call->fn = fn;
    call->arg = arg;

    /* A thread that has decided to finish drains its queue once more and never again: an
     * event pushed after that would never run, and its block would leak. Pushing under
     * world_lock while `retired` is false guarantees the drain sees it (a core whose thread has
     * not started yet runs it when it starts). */
    pthread_mutex_lock(&m->world_lock);
    bool retired = cpu->retired;
    if (!retired) {
        coremu_evq_push(&cpu->evq, &call->ev);
    }
    pthread_mutex_unlock(&m->world_lock);
    if (retired) {
        free(call);
        return false;
    }
    coremu_cpu_kick(cpu, COREMU_PENDING_EVENT);
    return true;
}

/* ---- stop the world ------------------------------------------------------------------------ */

/* The caller's core, if it belongs to m. */
static struct coremu_cpu *self_in(struct coremu_machine *m)
{
    struct coremu_cpu *self = coremu_cpu_self();
    return self != NULL && self->machine == m ? self : NULL;
}

void coremu_machine_pause(struct coremu_machine *m)
{
    struct coremu_cpu *self = self_in(m);

    pthread_mutex_lock(&m->world_lock);
    if (m->stop_depth > 0 && pthread_equal(m->stopper, pthread_self())) {
        m->stop_depth++;
        pthread_mutex_unlock(&m->world_lock);
        return;
    }
    /* A core that stops the world, or waits for another stopper to finish, is out of guest
     * code: counting it as parked is what lets two cores stop at once without deadlock. */
    if (self != NULL) {
        set_parked_locked(self, true);
    }
    while (m->stop_depth > 0) {
        pthread_cond_wait(&m->world_cond, &m->world_lock);
    }
    m->stop_depth = 1;
    m->stopper = pthread_self();
    for (unsigned i = 0; i < m->ncpus; i++) {
        struct coremu_cpu *cpu = m->cpus[i];
        if (!cpu->parked) {
            coremu_cpu_kick(cpu, COREMU_PENDING_STOP);
        }
    }
    while (m->parked < m->ncpus) {
        pthread_cond_wait(&m->world_cond, &m->world_lock);
    }
    pthread_mutex_unlock(&m->world_lock);
}

void coremu_machine_resume(struct coremu_machine *m)
{
    struct coremu_cpu *self = self_in(m);

    pthread_mutex_lock(&m->world_lock);
    if (m->stop_depth == 0 || !pthread_equal(m->stopper, pthread_self())) {
        fprintf(stderr, "coremu: internal error: coremu_machine_resume without a matching "
                        "coremu_machine_pause on this thread\n");
        abort();
    }
    if (--m->stop_depth == 0) {
        if (self != NULL) {
            set_parked_locked(self, false);
        }
        pthread_cond_broadcast(&m->world_cond);
    }
    pthread_mutex_unlock(&m->world_lock);
}

void coremu_machine_stop_world(struct coremu_machine *m, void (*fn)(void *), void *arg)
{
    coremu_machine_pause(m);
    fn(arg);
    coremu_machine_resume(m);
}

void coremu_machine_reset(struct coremu_machine *m, unsigned boot_cpu, uint64_t arg0,
                          uint64_t arg1, void (*fn)(void *), void *arg)
{
    struct coremu_cpu *self = self_in(m);

    coremu_machine_pause(m);
    pthread_mutex_lock(&m->world_lock);
    bool exiting = atomic_load_explicit(&m->exiting, memory_order_acquire) != 0;
    if (!exiting) {
        /* Every core goes off. A parked core that was running leaves its loop when the world
         * resumes (process_pending sees power != ON); a pending CPU_ON is forgotten. */
        for (unsigned i = 0; i < m->ncpus; i++) {
            atomic_store_explicit(&m->cpus[i]->power, COREMU_CPU_OFF, memory_order_release);
        }
    }
    pthread_mutex_unlock(&m->world_lock);
    if (exiting) {
        coremu_machine_resume(m);
        return;
    }

    /* Nobody runs guest code or touches a core's state now: the board resets its devices and
     * reloads its images. */
    if (fn != NULL) {
        fn(arg);
    }

    pthread_mutex_lock(&m->world_lock);
    if (boot_cpu < m->ncpus) {
        struct coremu_cpu *boot = m->cpus[boot_cpu];
        boot->power_on_arg[0] = arg0;
        boot->power_on_arg[1] = arg1;
        atomic_store_explicit(&boot->power, COREMU_CPU_ON_PENDING, memory_order_release);
    }
    pthread_cond_broadcast(&m->world_cond);
    pthread_mutex_unlock(&m->world_lock);
    /* Parked cores look at their power state when the stop ends, sleeping off cores when
     * world_cond is broadcast; the caller's own core must leave its loop at its next poll,
     * which its POWER bit makes happen. Kick everyone so that no core that was between
     * "parked" and "running" misses the change. */
    for (unsigned i = 0; i < m->ncpus; i++) {
        if (m->cpus[i] == self) {
            atomic_fetch_or_explicit(&self->pending, COREMU_PENDING_POWER, memory_order_relaxed);
        } else {
            coremu_cpu_kick(m->cpus[i], COREMU_PENDING_POWER);
        }
    }
    coremu_machine_resume(m);
}

/* ---- power --------------------------------------------------------------------------------- */

int coremu_cpu_power_on(struct coremu_cpu *cpu, uint64_t arg0, uint64_t arg1)
{
    struct coremu_machine *m = cpu->machine;
    int ret = 0;

    pthread_mutex_lock(&m->world_lock);
    switch (atomic_load_explicit(&cpu->power, memory_order_relaxed)) {
    case COREMU_CPU_ON:
        ret = -EALREADY;
        break;
    case COREMU_CPU_ON_PENDING:
        ret = -EINPROGRESS;
        break;
    default:
        cpu->power_on_arg[0] = arg0;
        cpu->power_on_arg[1] = arg1;
        atomic_store_explicit(&cpu->power, COREMU_CPU_ON_PENDING, memory_order_release);
        pthread_cond_broadcast(&m->world_cond);
        break;
    }
    pthread_mutex_unlock(&m->world_lock);
    if (ret == 0) {
        coremu_cpu_kick(cpu, COREMU_PENDING_POWER);
    }
    return ret;
}

void coremu_cpu_power_off_self(struct coremu_cpu *cpu)
{
    struct coremu_machine *m = cpu->machine;

    pthread_mutex_lock(&m->world_lock);
    if (atomic_load_explicit(&cpu->power, memory_order_relaxed) == COREMU_CPU_ON) {
        atomic_store_explicit(&cpu->power, COREMU_CPU_OFF, memory_order_release);
        pthread_cond_broadcast(&m->world_cond);
    }
    pthread_mutex_unlock(&m->world_lock);
    /* Our own bit: the loop's next poll reaches process_pending, which says LEAVE. */
    atomic_fetch_or_explicit(&cpu->pending, COREMU_PENDING_POWER, memory_order_relaxed);
}

/* ---- the core's thread --------------------------------------------------------------------- */

/* The core is parked (off). Sleeps until a power-on request (true) or machine exit (false),
 * serving the event queue meanwhile. */
static bool wait_for_power_on(struct coremu_cpu *cpu)
{
    struct coremu_machine *m = cpu->machine;

    for (;;) {
        /* Stop requests, kicks and stale power bits mean nothing to a core that is off; drop
         * them so that the sleep below lasts until something new arrives. */
        atomic_fetch_and_explicit(&cpu->pending,
                                  ~(uint32_t)(COREMU_PENDING_STOP | COREMU_PENDING_KICK |
                                              COREMU_PENDING_POWER | COREMU_PENDING_TIMER |
                                              COREMU_PENDING_SYNC),
                                  memory_order_acq_rel);
        uint32_t seen = atomic_load_explicit(&cpu->pending, memory_order_acquire);

        pthread_mutex_lock(&m->world_lock);
        if (atomic_load_explicit(&m->exiting, memory_order_acquire)) {
            pthread_mutex_unlock(&m->world_lock);
            return false;
        }
        if (foreign_stop(m)) {
            /* Power-on requests and exit broadcast world_cond, as does the stop's end. */
            pthread_cond_wait(&m->world_cond, &m->world_lock);
            pthread_mutex_unlock(&m->world_lock);
            continue;
        }
        if (atomic_load_explicit(&cpu->power, memory_order_acquire) == COREMU_CPU_ON_PENDING) {
            atomic_store_explicit(&cpu->power, COREMU_CPU_ON, memory_order_release);
            set_parked_locked(cpu, false);
            pthread_mutex_unlock(&m->world_lock);
            cpu->poll_countdown = COREMU_CPU_CLOCK_POLL_INTERVAL;
            return true;
        }
        if (seen & COREMU_PENDING_EVENT) {
            /* Running events touches the core's state: leave the parked state for it, so that
             * a stop that starts meanwhile waits for us. */
            set_parked_locked(cpu, false);
            pthread_mutex_unlock(&m->world_lock);
            atomic_fetch_and_explicit(&cpu->pending, ~(uint32_t)COREMU_PENDING_EVENT,
                                      memory_order_acq_rel);
            drain_events(cpu);
            pthread_mutex_lock(&m->world_lock);
            set_parked_locked(cpu, true);
            pthread_mutex_unlock(&m->world_lock);
            continue;
        }
        pthread_mutex_unlock(&m->world_lock);
        sleep_on_pending(cpu, seen, -1, ~0u); /* any change: power-on, events, exit */
    }
}

/* ops->run returned: the core switched itself off, or the machine is exiting. */
static void leave_run(struct coremu_cpu *cpu)
{
    struct coremu_machine *m = cpu->machine;

    pthread_mutex_lock(&m->world_lock);
    /* A run loop that returns without power_off_self still ends up off; a power-on that raced
     * with power_off_self (ON_PENDING) is kept and starts the loop again. */
    if (atomic_load_explicit(&cpu->power, memory_order_relaxed) == COREMU_CPU_ON) {
        atomic_store_explicit(&cpu->power, COREMU_CPU_OFF, memory_order_release);
    }
    set_parked_locked(cpu, true);
    pthread_mutex_unlock(&m->world_lock);
    cpu->deadline = INT64_MAX; /* an off core's timer does not fire */
}

/* The core is parked; the machine is exiting. */
static void finish_thread(struct coremu_cpu *cpu)
{
    struct coremu_machine *m = cpu->machine;

    pthread_mutex_lock(&m->world_lock);
    while (foreign_stop(m)) {
        pthread_cond_wait(&m->world_cond, &m->world_lock);
    }
    set_parked_locked(cpu, false);
    cpu->alive = false;
    cpu->retired = true;
    pthread_mutex_unlock(&m->world_lock);

    /* Run everything still queued, above all run_sync calls accepted while we were alive,
     * whose callers wait for them. A half-way push may hide them: wait for it to link. */
    for (;;) {
        atomic_fetch_and_explicit(&cpu->pending, ~(uint32_t)COREMU_PENDING_EVENT,
                                  memory_order_acq_rel);
        drain_events(cpu);
        if (coremu_evq_empty(&cpu->evq)) {
            break;
        }
        sched_yield();
    }

    pthread_mutex_lock(&m->world_lock);
    set_parked_locked(cpu, true);
    m->threads_running--;
    pthread_cond_broadcast(&m->world_cond);
    pthread_mutex_unlock(&m->world_lock);
}

static void *cpu_thread_main(void *opaque)
{
    struct coremu_cpu *cpu = opaque;
    char name[32];

    current_cpu = cpu;
    snprintf(name, sizeof name, "coremu-cpu%u", cpu->index);
    rt_thread_set_name(name);
    if (cpu->machine->pin_threads) {
        coremu_topology_bind_self(cpu->index); /* a failure is a warning, printed there */
    }

    while (wait_for_power_on(cpu)) {
        cpu->ops->run(cpu);
        leave_run(cpu);
    }
    finish_thread(cpu);
    current_cpu = NULL;
    return NULL;
}

/* ---- the machine --------------------------------------------------------------------------- */

struct coremu_machine *coremu_machine_new(unsigned ncpus, const struct coremu_cpu_ops *ops)
{
    if (ncpus == 0 || ops == NULL || ops->run == NULL) {
        return NULL;
    }
    struct coremu_machine *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    m->cpus = calloc(ncpus, sizeof(*m->cpus));
    if (m->cpus == NULL) {
        free(m);
        return NULL;
    }
    m->ncpus = ncpus;
    pthread_mutex_init(&m->world_lock, NULL);
    pthread_cond_init(&m->world_cond, NULL);
    atomic_init(&m->exiting, 0);
    atomic_init(&m->exit_status, 0);
    m->parked = ncpus; /* every core starts off */
    unsigned pus = coremu_topology_pus();
    m->host_pus = pus > 0 ? pus : 1;
    atomic_init(&m->cpus_awake, (int)ncpus);

    for (unsigned i = 0; i < ncpus; i++) {
        /* pending sits on its own cache line (_Alignas in cpu.h); calloc does not honour that. */
        struct coremu_cpu *cpu = aligned_alloc(_Alignof(struct coremu_cpu), sizeof(*cpu));
        if (cpu == NULL) {
            coremu_machine_free(m);
            return NULL;
        }
        memset(cpu, 0, sizeof(*cpu));
        cpu->machine = m;
        cpu->index = i;
        cpu->ops = ops;
        atomic_init(&cpu->pending, 0);
        atomic_init(&cpu->sleeping, 0);
        coremu_evq_init(&cpu->evq);
        cpu->deadline = INT64_MAX;
        cpu->poll_countdown = COREMU_CPU_CLOCK_POLL_INTERVAL;
        atomic_init(&cpu->power, COREMU_CPU_OFF);
        cpu->parked = true;
        cpu->alive = false;
        cpu->retired = false;
        cpu->thread_started = false;
        m->cpus[i] = cpu;
    }
    return m;
}

int coremu_machine_start(struct coremu_machine *m)
{
    for (unsigned i = 0; i < m->ncpus; i++) {
        struct coremu_cpu *cpu = m->cpus[i];
        if (cpu->thread_started) {
            continue;
        }
        pthread_mutex_lock(&m->world_lock);
        cpu->alive = true;
        m->threads_running++;
        pthread_mutex_unlock(&m->world_lock);

        int err = pthread_create(&cpu->thread, NULL, cpu_thread_main, cpu);
        if (err != 0) {
            pthread_mutex_lock(&m->world_lock);
            cpu->alive = false;
            m->threads_running--;
            pthread_mutex_unlock(&m->world_lock);
            /* A machine missing a core is of no use: take the others down. */
            coremu_machine_exit(m, 1);
            coremu_machine_wait(m);
            return -err;
        }
        cpu->thread_started = true;
    }
    return 0;
}

void coremu_machine_exit(struct coremu_machine *m, int status)
{
    bool first = false;

    pthread_mutex_lock(&m->world_lock);
    if (!atomic_load_explicit(&m->exiting, memory_order_relaxed)) {
        atomic_store_explicit(&m->exit_status, status, memory_order_seq_cst);
        atomic_store_explicit(&m->exiting, 1, memory_order_seq_cst);
        first = true;
        pthread_cond_broadcast(&m->world_cond);
    }
    pthread_mutex_unlock(&m->world_lock);
    if (first) {
        for (unsigned i = 0; i < m->ncpus; i++) {
            coremu_cpu_kick(m->cpus[i], COREMU_PENDING_EXIT);
        }
    }
}

int coremu_machine_wait(struct coremu_machine *m)
{
    for (unsigned i = 0; i < m->ncpus; i++) {
        struct coremu_cpu *cpu = m->cpus[i];
        if (cpu->thread_started) {
            pthread_join(cpu->thread, NULL);
            cpu->thread_started = false;
        }
    }
    return atomic_load_explicit(&m->exit_status, memory_order_acquire);
}

void coremu_machine_free(struct coremu_machine *m)
{
    if (m == NULL) {
        return;
    }
    bool threads_left = false;
    for (unsigned i = 0; i < m->ncpus; i++) {
        if (m->cpus[i] != NULL && m->cpus[i]->thread_started) {
            threads_left = true;
        }
    }
    if (threads_left) {
        coremu_machine_exit(m, 0);
        coremu_machine_wait(m);
    }
    for (unsigned i = 0; i < m->ncpus; i++) {
        free(m->cpus[i]);
    }
    free(m->cpus);
    pthread_cond_destroy(&m->world_cond);
    pthread_mutex_destroy(&m->world_lock);
    free(m);
}
