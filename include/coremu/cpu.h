/*
 * coremu — guest cores as host threads, and the machine that owns them.
 *
 * One host thread per guest core, named coremu-cpuN. The architecture supplies the CPU loop
 * (struct coremu_cpu_ops); the runtime supplies everything around it: the per-core event
 * queue and pending word, sleeping in WFI/HLT until an event or the core's timer deadline,
 * power on/off (PSCI CPU_ON/CPU_OFF, INIT/SIPI), stop-the-world, and orderly shutdown.
 *
 * The CPU loop's contract: at every translation-block boundary it calls coremu_cpu_poll(); when
 * that returns true it calls coremu_cpu_process_pending(), and leaves its loop when that returns
 * COREMU_CPU_LEAVE. Nothing else from the runtime is on the hot path.
 */
#ifndef COREMU_CPU_H
#define COREMU_CPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <coremu/evq.h>

/* Bits of coremu_cpu.pending. Bits from COREMU_PENDING_ARCH0 up belong to the architecture
 * (interrupt lines: IRQ, FIQ, NMI...); the runtime only sets, clears and wakes on them. */
enum {
    COREMU_PENDING_EVENT = 1u << 0, /* the event queue has entries */
    COREMU_PENDING_STOP = 1u << 1,  /* park for stop-the-world */
    COREMU_PENDING_EXIT = 1u << 2,  /* the machine is shutting down */
    COREMU_PENDING_TIMER = 1u << 3, /* the core's timer deadline has passed */
    COREMU_PENDING_POWER = 1u << 4, /* power state change requested (on/off/reset) */
    COREMU_PENDING_KICK = 1u << 5,  /* just leave the inner loop once (e.g. SEV) */
    COREMU_PENDING_SYNC = 1u << 6,  /* a coremu_cpu_run_sync this core waits in has completed */
    COREMU_PENDING_ARCH0 = 1u << 8,
};

/* What coremu_cpu_process_pending() tells the CPU loop to do next. */
enum coremu_cpu_action {
    COREMU_CPU_CONTINUE = 0, /* keep executing */
    COREMU_CPU_LEAVE = 1,    /* return from ops->run: machine exit or power off */
};

/* Power state of a core (coremu_cpu.power). */
enum coremu_cpu_power {
    COREMU_CPU_OFF = 0,
    COREMU_CPU_ON_PENDING = 1, /* CPU_ON accepted, the core has not started yet */
    COREMU_CPU_ON = 2,
};

struct coremu_cpu;
struct coremu_machine;

struct coremu_cpu_ops {
    /* The CPU loop. Called on the core's own thread each time the core is powered on; returns
     * when coremu_cpu_process_pending() says COREMU_CPU_LEAVE. */
    void (*run)(struct coremu_cpu *cpu);
    /* Called on the core's thread from coremu_cpu_process_pending() when its deadline passed.
     * The deadline is one-shot: the runtime resets it to none just before this call, and the
     * architecture re-arms it (coremu_cpu_set_deadline) if its timer should fire again. May be
     * NULL. */
    void (*timer_expired)(struct coremu_cpu *cpu);
    /* Drop every cached translation of this core (TLB, decoded blocks may stay). Called either
     * on the core's thread or while the core is parked by stop-the-world. May be NULL. */
    void (*tlb_flush_all)(struct coremu_cpu *cpu);
};

struct coremu_cpu {
    struct coremu_machine *machine; /* immutable after coremu_machine_new */
    unsigned index;                 /* immutable */
    const struct coremu_cpu_ops *ops; /* immutable once the machine starts */
    void *arch;                     /* the architecture's state; owned by the core's thread */

    /* Any thread sets bits (fetch_or, seq_cst so that it orders against `sleeping`); the owner
     * clears them (fetch_and). The owner reads it relaxed at every block boundary and acquires
     * on the slow path. */
    _Alignas(64) _Atomic uint32_t pending;
    /* Owner writes the mask of pending bits that end its sleep (non-zero, seq_cst) before
     * re-checking pending and sleeping on the futex, 0 after. Producers read it (seq_cst)
     * after setting pending, and pay for a futex wake only when it holds one of their bits;
     * non-zero means "asleep, runs no guest code until woken". */
    _Atomic uint32_t sleeping;

    struct coremu_evq evq;

    /* Virtual-clock deadline of the core's timer in ns, INT64_MAX for none. Owner-private
     * (plain accesses): set by the architecture on the core's thread, read by the owner's poll
     * and sleep, reset by the runtime on the owner's thread (expiry, power-off). */
    int64_t deadline;
    /* Owner-private countdown between clock reads in coremu_cpu_poll. */
    uint32_t poll_countdown;
    /* Owner-private: the current spin of coremu_cpu_relax (see there): when it began (host
     * clock), the guest progress count at the last call, and how many sleeps it took. */
    int64_t relax_start_ns;
    uint64_t relax_progress;
    uint32_t relax_sleeps;

    /* enum coremu_cpu_power. Written under machine->world_lock (release) by power-on requesters
     * and by the owner; read by anyone (acquire), and decided on only under world_lock. */
    _Atomic int power;
    /* Entry arguments for the next power-on (PSCI entry point and context id, SIPI vector).
     * Written by the requester under world_lock before power becomes ON_PENDING; read by the
     * owner after it observes ON_PENDING under world_lock. */
    uint64_t power_on_arg[2];

    /* Under machine->world_lock. True while the core's thread is guaranteed not to run guest
     * code nor touch its architecture state without first taking world_lock and waiting out any
     * stop: thread not started or finished, core off and asleep, parked in a stop, waiting in
     * coremu_machine_pause for another stopper, or holding the world stopped itself. The count
     * of such cores is machine->parked. */
    bool parked;
    /* Under machine->world_lock. True from thread start until the thread has decided to finish;
     * an event pushed under world_lock while it is true is guaranteed to run (the finishing
     * thread drains its queue after clearing it). */
    bool alive;
    /* Under machine->world_lock. Set once, when the thread decides to finish (with `alive`
     * cleared): from then on nothing posted to the core runs, and run_async refuses. */
    bool retired;

    pthread_t thread;
    bool thread_started; /* main thread only: created and not yet joined */
};

struct coremu_machine {
    unsigned ncpus;           /* immutable */
    struct coremu_cpu **cpus; /* immutable array; each element owned as documented above */

    /* Protects stop-the-world and power state transitions (never taken on a fast path). */
    pthread_mutex_t world_lock;
    pthread_cond_t world_cond;
    /* All under world_lock. world_cond is broadcast whenever any of them, a core's parked or
     * power state, or exiting changes. */
    unsigned stop_depth;       /* > 0 while the world is (being) stopped; nesting depth */
    pthread_t stopper;         /* thread that holds the world stopped; valid if stop_depth > 0 */
    unsigned parked;           /* number of cores whose `parked` is true (see coremu_cpu) */
    unsigned threads_running;  /* core threads that have started and not yet finished */

    /* Set once from 0 to 1 under world_lock by the first coremu_machine_exit, which stores
     * exit_status just before (both seq_cst); read by anyone without the lock. Whoever sees
     * exiting == 1 (acquire) sees the final exit_status. */
    _Atomic int exiting;
    _Atomic int exit_status;

    bool pin_threads; /* bind core threads to host PUs (immutable after start) */

    /* Host PUs this process may run on (immutable). */
    unsigned host_pus;
    /* Core threads that may want a host CPU: every thread but those asleep in the runtime (an
     * off core, HLT/WFI, a relax that gave up). Each thread decrements it (relaxed) just before
     * its futex sleep and increments it just after; coremu_cpu_relax reads it (relaxed) to tell
     * an over-subscribed host from one with a PU per running core. A hint, never a guard. */
    _Atomic int cpus_awake;
};

/* Creates a machine with ncpus cores, all powered off, each with ops. */
struct coremu_machine *coremu_machine_new(unsigned ncpus, const struct coremu_cpu_ops *ops);
void coremu_machine_free(struct coremu_machine *m);

/* Starts one thread per core. Cores stay asleep until powered on. 0 on success, -errno. */
int coremu_machine_start(struct coremu_machine *m);

/* Asks every core to leave its loop and the machine to exit with status; any thread, once
 * (later calls keep the first status). */
void coremu_machine_exit(struct coremu_machine *m, int status);

/* Waits for every core thread to finish; returns the exit status. Main thread only. */
int coremu_machine_wait(struct coremu_machine *m);

/* Stop the world: every powered-on core parks at a block boundary, fn runs on the calling
 * thread, every core resumes. May be called from a core thread (that core counts as parked)
 * or from any other thread. Nested and concurrent calls serialise. The virtual clock keeps
 * running (callers that must freeze guest time also call coremu_clock_pause). Cores that are
 * parked do not run their events until the world resumes, so fn must not wait for them. */
void coremu_machine_stop_world(struct coremu_machine *m, void (*fn)(void *), void *arg);
/* The same in two halves, for the monitor and the debugger. */
void coremu_machine_pause(struct coremu_machine *m);
void coremu_machine_resume(struct coremu_machine *m);

/* Machine reset (PSCI SYSTEM_RESET, a monitor's system_reset): stops the world, switches every
 * core off (each leaves ops->run; a core that was on loses nothing but its run), runs fn(arg)
 * while no core runs (the board resets its devices and reloads its images), then powers on
 * boot_cpu with arg0/arg1 as coremu_cpu_power_on does, and resumes. Any thread, including a
 * core thread, which must then go straight back to its loop: its next poll leaves ops->run.
 * Does nothing once the machine is exiting. Must not be called with world_lock held. */
void coremu_machine_reset(struct coremu_machine *m, unsigned boot_cpu, uint64_t arg0,
                          uint64_t arg1, void (*fn)(void *), void *arg);

/* Powers a core on (it starts running ops->run with arg[] available in power_on_arg). Returns
 * 0, or -EALREADY if it is on, or -EINPROGRESS if a power-on is pending. Any thread. */
int coremu_cpu_power_on(struct coremu_cpu *cpu, uint64_t arg0, uint64_t arg1);
/* Owner only: the core is switching itself off (PSCI CPU_OFF); ops->run must then return. */
void coremu_cpu_power_off_self(struct coremu_cpu *cpu);

/* Sets bits in pending and wakes the core if it sleeps. Any thread. */
void coremu_cpu_kick(struct coremu_cpu *cpu, uint32_t bits);
/* Clears architecture bits (owner or device thread holding the line's lock). */
static inline void coremu_cpu_clear_pending(struct coremu_cpu *cpu, uint32_t bits)
{
    atomic_fetch_and_explicit(&cpu->pending, ~bits, memory_order_acq_rel);
}

/* Pushes an event and kicks COREMU_PENDING_EVENT. Any thread. */
void coremu_cpu_post(struct coremu_cpu *cpu, struct coremu_event *ev);
/* Runs fn(cpu, arg) on cpu's thread and waits for it, unless the caller is that core, in which
 * case it runs at once. Returns false without running fn when the core is off or the machine is
 * exiting. Must not be called with world_lock held. A caller that holds the world stopped runs
 * fn at once on its own thread (every core is parked, so their state is the caller's to touch).
 * A core thread that waits keeps serving its own events and stop requests, so two cores may
 * run_sync each other and a stop may happen meanwhile. If the target powers off after
 * accepting the call, its thread still runs fn. */
bool coremu_cpu_run_sync(struct coremu_cpu *cpu, void (*fn)(struct coremu_cpu *, void *),
                         void *arg);
/* Fire and forget: fn(cpu, arg) will run on cpu's thread at its next block boundary (a copy
 * of nothing: arg must stay valid until then), or when the thread starts, or while the core is
 * off. Returns false, without running fn, if allocation failed or the core's thread has
 * finished (machine exit). Must not be called with world_lock held. */
bool coremu_cpu_run_async(struct coremu_cpu *cpu, void (*fn)(struct coremu_cpu *, void *),
                          void *arg);

/* The core running on the calling thread, or NULL. */
struct coremu_cpu *coremu_cpu_self(void);

/* Owner only: sets the timer deadline in virtual ns (INT64_MAX: none). */
void coremu_cpu_set_deadline(struct coremu_cpu *cpu, int64_t deadline_ns);

/* Owner only, slow path: handles every pending bit (runs events, parks for a stop, reports
 * timer expiry, power changes). Returns what the loop must do next. Architecture bits are left
 * for the architecture to clear. While some bit stays set (so coremu_cpu_poll never counts
 * down), it also checks the deadline every COREMU_CPU_CLOCK_POLL_INTERVAL calls. */
enum coremu_cpu_action coremu_cpu_process_pending(struct coremu_cpu *cpu);

/* Owner only: sleeps until a pending bit is set or the deadline passes (WFI, HLT). Returns
 * immediately if something is already pending. mask selects which bits wake the core; the
 * runtime's own bits always do. It never clears bits; when it returns because the deadline
 * passed it sets COREMU_PENDING_TIMER, so the loop's next coremu_cpu_poll sees why it woke. */
void coremu_cpu_wait(struct coremu_cpu *cpu, uint32_t mask);

/* Owner only: the WFE/PAUSE rule. Spins briefly on pending, then yields the host CPU so that a
 * core which holds a lock can run on an over-subscribed host.
 *
 * progress is a count the architecture keeps of guest instructions retired (any monotonic
 * count; 0 when it has none): calls less than COREMU_RELAX_LOOP_INSNS apart belong to one spin
 * loop. When one loop has spun for longer than a short grace period and more cores are awake
 * than the host has PUs, relax sleeps instead of yielding (until pending changes, or a timeout
 * that grows with the spin): a yield leaves the spinner runnable, and a host shared fairly
 * between a hundred spinners starves the one core that holds the lock they wait for. */
#define COREMU_RELAX_LOOP_INSNS 32u
void coremu_cpu_relax(struct coremu_cpu *cpu, uint64_t progress);

/* Out-of-line part of coremu_cpu_poll: restarts the countdown and reads the clock if a deadline
 * is set; true when it has passed (and then COREMU_PENDING_TIMER is set, for process_pending). */
bool coremu_cpu_poll_clock(struct coremu_cpu *cpu);

/* How many block boundaries pass between two reads of the clock in coremu_cpu_poll. */
#define COREMU_CPU_CLOCK_POLL_INTERVAL 256u

/* Owner only, at every block boundary: true when coremu_cpu_process_pending must run. */
static inline bool coremu_cpu_poll(struct coremu_cpu *cpu)
{
    if (atomic_load_explicit(&cpu->pending, memory_order_relaxed) != 0) {
        return true;
    }
    if (--cpu->poll_countdown == 0) {
        return coremu_cpu_poll_clock(cpu);
    }
    return false;
}

#endif /* COREMU_CPU_H */
