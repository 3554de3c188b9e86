/*
 * coremu — the generic atomic torture test: it drives an architecture's atomic table (the very
 * functions its instruction handlers call) on that architecture's own cores. First the rules of
 * load-exclusive / store-exclusive on two cores, one step at a time (including the ABA case the
 * exact monitor exists for); then every core at once, each adding 1 to shared counters through
 * every slot the table fills, where any lost update shows as a final count that is not exact.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/atomic.h>
#include <coremu/clock.h>

/* Each check gets its own slot of the area: two reservation granules, so that no check's
 * reservations or stores disturb another's. */
#define SLOT_BYTES (2u * COREMU_XMON_GRANULE)
#define NSLOTS (COREMU_TORTURE_AREA / SLOT_BYTES)

struct torture {
    const struct coremu_atomic_table *table;  /* table mode */
    const struct coremu_torture_env *env;     /* table mode */
    const struct coremu_torture_guest *guest; /* guest-instruction mode */
    struct coremu_torture_result *result;
    uint64_t area;     /* COREMU_TORTURE_AREA bytes */
    unsigned next_slot;
    size_t code_used;  /* guest mode: bytes of the code area used */
};

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

/* A fresh slot (zero: nothing wrote it yet). The slots suffice for every check below. */
static uint64_t new_slot(struct torture *t)
{
    if (t->next_slot == NSLOTS) {
        abort(); /* more checks than slots: a bug in this file */
    }
    return t->area + (uint64_t)SLOT_BYTES * t->next_slot++;
}

static void record(struct torture *t, const char *name, unsigned size, uint64_t expected,
                   uint64_t observed)
{
    struct coremu_torture_result *r = t->result;

    r->checks++;
    if (r->failures == 0) {
        r->expected = expected;
        r->observed = observed;
    }
    if (expected != observed) {
        if (r->failures++ == 0) {
            snprintf(r->first_failure, sizeof(r->first_failure), "%s (%u bytes)", name, size);
        }
    }
}

static void fail_setup(struct torture *t, const char *why)
{
    t->result->failures++;
    if (t->result->first_failure[0] == '\0') {
        snprintf(t->result->first_failure, sizeof(t->result->first_failure), "%s", why);
    }
}

static bool has(unsigned sizes, unsigned size)
{
    return (sizes & size) != 0;
}

/* Reads size bytes at va through the table, without changing them (a cmpxchg that fails,
 * or that stores the zero it found, leaves the value as it was). */
static uint64_t read_value(const struct torture *t, void *cpu, uint64_t va, unsigned size)
{
    const struct coremu_atomic_table *tb = t->table;

    if (has(tb->exclusive_sizes, size)) {
        uint64_t v = tb->load_exclusive(cpu, va, size);
        tb->clear_exclusive(cpu);
        return v;
    }
    if (has(tb->cmpxchg_sizes, size)) {
        uint64_t expected = 0;
        return tb->cmpxchg(cpu, va, size, &expected, 0) ? 0 : expected;
    }
    if (has(tb->fetch_op_sizes, size)) {
        return tb->fetch_op(cpu, va, size, COREMU_ATOMIC_ADD, 0);
    }
    abort(); /* callers only read sizes the table can read */
}

static bool readable(const struct coremu_atomic_table *tb, unsigned size)
{
    return has(tb->exclusive_sizes | tb->cmpxchg_sizes | tb->fetch_op_sizes, size);
}

/* ---- LL/SC rules, step by step on cores 0 and 1 ----------------------------------------- */

static void exclusive_rules(struct torture *t)
{
    const struct coremu_atomic_table *tb = t->table;
    void *a = t->env->cpus[0], *b = t->env->cpus[1];

    /* Every width: the load sees what is there, the store writes exactly size bytes (the
     * truncated value, nothing past it) and consumes the reservation. */
    for (unsigned size = 1; size <= 8; size *= 2) {
        if (!has(tb->exclusive_sizes, size)) {
            continue;
        }
        uint64_t va = new_slot(t);
        const uint64_t pattern = 0x8877665544332211ull;
        record(t, "load-exclusive of fresh memory", size, 0, tb->load_exclusive(a, va, size));
        record(t, "store-exclusive after load-exclusive succeeds", size, 1,
               tb->store_exclusive(a, va, size, pattern));
        record(t, "store-exclusive stored the value", size, pattern & size_mask(size),
               read_value(t, a, va, size));
        record(t, "store-exclusive wrote nothing past its size", size, 0,
               read_value(t, a, va + size, size));
        record(t, "second store-exclusive without load-exclusive fails", size, 0,
               tb->store_exclusive(a, va, size, 5));
        record(t, "failed store-exclusive stored nothing", size, pattern & size_mask(size),
               read_value(t, a, va, size));
    }

    /* The remaining rules at one width: the word if the architecture has it. */
    unsigned size = has(tb->exclusive_sizes, 4) ? 4 : tb->exclusive_sizes & -tb->exclusive_sizes;
    uint64_t va = new_slot(t);

    tb->load_exclusive(a, va, size);
    tb->clear_exclusive(a);
    record(t, "clear-exclusive makes store-exclusive fail", size, 0,
           tb->store_exclusive(a, va, size, 9));
    record(t, "value after a failed store-exclusive", size, 0, read_value(t, a, va, size));

    va = new_slot(t);
    uint64_t v = tb->load_exclusive(a, va, size);
    tb->load_exclusive(b, va, size);
    record(t, "other core's store-exclusive succeeds", size, 1,
           tb->store_exclusive(b, va, size, v + 1));
    record(t, "store-exclusive after another core stored fails", size, 0,
           tb->store_exclusive(a, va, size, v + 2));
    record(t, "value is the other core's", size, v + 1, read_value(t, a, va, size));

    if (!t->env->exact) {
        return; /* a value-comparing monitor misses ABA by design */
    }
    /* ABA: another core stores the value that is already there. */
    va = new_slot(t);
    v = tb->load_exclusive(a, va, size);
    tb->load_exclusive(b, va, size);
    record(t, "ABA: other core's store-exclusive of the same value succeeds", size, 1,
           tb->store_exclusive(b, va, size, v));
    record(t, "ABA: store-exclusive after a same-value store-exclusive fails", size, 0,
           tb->store_exclusive(a, va, size, v + 1));
    record(t, "ABA: value unchanged", size, v, read_value(t, a, va, size));
    if (has(tb->swap_sizes, size)) {
        va = new_slot(t);
        v = tb->load_exclusive(a, va, size);
        record(t, "ABA: swap of the same value returns it", size, v, tb->swap(b, va, size, v));
        record(t, "ABA: store-exclusive after a same-value swap fails", size, 0,
               tb->store_exclusive(a, va, size, v + 1));
        record(t, "ABA: value unchanged after swap", size, v, read_value(t, a, va, size));
    }
}

/* ---- every core at once -------------------------------------------------------------------- */

struct phase;
typedef void (*phase_fn)(struct phase *ph, void *cpu);

/* One multi-core run: every core runs fn iterations times on the same memory. */
struct phase {
    const struct torture *t;
    phase_fn fn;
    unsigned size;
    uint64_t va;
    uint64_t iterations;
    uint64_t locked_count; /* swap lock: touched only by the lock's holder */
};

struct worker {
    struct phase *ph;
    void *cpu;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    w->ph->fn(w->ph, w->cpu);
    return NULL;
}

/* Runs ph on every core, one thread each; false when a thread could not be created. */
static bool run_phase(struct torture *t, struct phase *ph)
{
    unsigned n = t->env->ncpus;
    pthread_t *threads = calloc(n, sizeof(*threads));
    struct worker *workers = calloc(n, sizeof(*workers));
    unsigned started = 0;

    if (threads && workers) {
        for (; started < n; started++) {
            workers[started] = (struct worker){ph, t->env->cpus[started]};
            if (pthread_create(&threads[started], NULL, worker_main, &workers[started]) != 0) {
                break;
            }
        }
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    free(threads);
    free(workers);
    if (started != n) {
        fail_setup(t, "cannot start the torture threads");
        return false;
    }
    return true;
}

static void llsc_add(struct phase *ph, void *cpu)
{
    const struct coremu_atomic_table *tb = ph->t->table;
    uint64_t mask = size_mask(ph->size);

    for (uint64_t i = 0; i < ph->iterations; i++) {
        for (;;) {
            uint64_t old = tb->load_exclusive(cpu, ph->va, ph->size);
            if (tb->store_exclusive(cpu, ph->va, ph->size, (old + 1) & mask)) {
                break;
            }
        }
    }
}

/* A spin lock on swap (as SWP-era ARM code and XCHG-based x86 locks do): 1 taken, 0 free. */
static void swap_lock_add(struct phase *ph, void *cpu)
{
    const struct coremu_atomic_table *tb = ph->t->table;

    for (uint64_t i = 0; i < ph->iterations; i++) {
        while (tb->swap(cpu, ph->va, ph->size, 1) != 0) {
            sched_yield(); /* the holder may be a preempted thread on a busy host */
        }
        ph->locked_count++;
        tb->swap(cpu, ph->va, ph->size, 0);
    }
}

static void fetch_add(struct phase *ph, void *cpu)
{
    for (uint64_t i = 0; i < ph->iterations; i++) {
        ph->t->table->fetch_op(cpu, ph->va, ph->size, COREMU_ATOMIC_ADD, 1);
    }
}

static void cmpxchg_add(struct phase *ph, void *cpu)
{
    const struct coremu_atomic_table *tb = ph->t->table;
    uint64_t mask = size_mask(ph->size);
    uint64_t expected = 0;

    for (uint64_t i = 0; i < ph->iterations; i++) {
        while (!tb->cmpxchg(cpu, ph->va, ph->size, &expected, (expected + 1) & mask)) {
        }
        expected = (expected + 1) & mask; /* our own store: the best guess for the next one */
    }
}

/* The 16-byte counter starts this far below 2^64, so that the additions carry into the high
 * half part-way through. */
static unsigned __int128 cmpxchg16_start(uint64_t total)
{
    return (unsigned __int128)(UINT64_MAX - total / 2);
}

static void cmpxchg16_add(struct phase *ph, void *cpu)
{
    const struct coremu_atomic_table *tb = ph->t->table;
    unsigned __int128 expected = 0;

    for (uint64_t i = 0; i < ph->iterations; i++) {
        while (!tb->cmpxchg16(cpu, ph->va, &expected, expected + 1)) {
        }
        expected++;
    }
}

static void all_cores(struct torture *t, uint64_t iterations)
{
    const struct coremu_atomic_table *tb = t->table;
    void *cpu0 = t->env->cpus[0];
    uint64_t total = iterations * t->env->ncpus;

    for (unsigned size = 1; size <= 8; size *= 2) {
        struct phase ph = {t, NULL, size, 0, iterations, 0};
        if (has(tb->exclusive_sizes, size)) {
            ph.fn = llsc_add;
            ph.va = new_slot(t);
            if (!run_phase(t, &ph)) {
                return;
            }
            record(t, "all cores: LL/SC add loop", size, total & size_mask(size),
                   read_value(t, cpu0, ph.va, size));
        }
        if (has(tb->swap_sizes, size)) {
            ph.fn = swap_lock_add;
            ph.va = new_slot(t);
            ph.locked_count = 0;
            if (!run_phase(t, &ph)) {
                return;
            }
            record(t, "all cores: count under a swap spin lock", size, total, ph.locked_count);
            if (readable(tb, size)) {
                record(t, "all cores: swap spin lock free at the end", size, 0,
                       read_value(t, cpu0, ph.va, size));
            }
        }
        if (has(tb->fetch_op_sizes, size)) {
            ph.fn = fetch_add;
            ph.va = new_slot(t);
            if (!run_phase(t, &ph)) {
                return;
            }
            record(t, "all cores: fetch-and-add", size, total & size_mask(size),
                   read_value(t, cpu0, ph.va, size));
        }
        if (has(tb->cmpxchg_sizes, size)) {
            ph.fn = cmpxchg_add;
            ph.va = new_slot(t);
            if (!run_phase(t, &ph)) {
                return;
            }
            record(t, "all cores: cmpxchg add loop", size, total & size_mask(size),
                   read_value(t, cpu0, ph.va, size));
        }
    }
    if (tb->cmpxchg16) {
        struct phase ph = {t, cmpxchg16_add, 16, new_slot(t), iterations, 0};
        unsigned __int128 zero = 0, start = cmpxchg16_start(total);
        record(t, "cmpxchg16 of fresh memory", 16, 1, tb->cmpxchg16(cpu0, ph.va, &zero, start));
        if (!run_phase(t, &ph)) {
            return;
        }
        unsigned __int128 final = 0;
        tb->cmpxchg16(cpu0, ph.va, &final, 0); /* fails (the pair is not 0) and reads it */
        unsigned __int128 want = start + total;
        record(t, "all cores: cmpxchg16 add loop, low half", 16, (uint64_t)want, (uint64_t)final);
        record(t, "all cores: cmpxchg16 add loop, high half", 16, (uint64_t)(want >> 64),
               (uint64_t)(final >> 64));
    }
}

int coremu_atomic_torture(const struct coremu_atomic_table *table,
                          const struct coremu_torture_env *env, uint64_t iterations,
                          struct coremu_torture_result *result)
{
    if (!result) {
        return -1;
    }
    memset(result, 0, sizeof(*result));

    struct torture t = {table, env, NULL, result, env ? env->va : 0, 0, 0};
    if (!table || !env || !env->cpus || env->ncpus < 2 || env->va % COREMU_TORTURE_AREA != 0) {
        fail_setup(&t, "bad arguments");
        return -1;
    }
    if (table->load_exclusive) {
        exclusive_rules(&t);
        if (result->failures != 0) {
            return -1; /* a store-exclusive that never succeeds would hang the loops below */
        }
    }
    int64_t t0 = coremu_host_ns();
    all_cores(&t, iterations);
    result->seconds = (double)(coremu_host_ns() - t0) / 1e9;
    return result->failures == 0 ? 0 : -1;
}

/* ---- guest-instruction mode ------------------------------------------------------------- */

/*
 * Emits one piece of code into a buffer, places it at a fresh part of the code area (never
 * where code ran before, so no architecture has to forget a translation between runs) and
 * returns its guest address; 0 (with the reason recorded) when it cannot.
 */
static uint64_t guest_code(struct torture *t, const char *what, unsigned size,
                           size_t (*emit)(struct torture *t, uint8_t *buf, size_t room,
                                          uint64_t at_va, const void *arg),
                           const void *arg)
{
    const struct coremu_torture_guest *g = t->guest;
    size_t room = g->code_size - t->code_used;
    uint64_t at = g->code_va + t->code_used;
    uint8_t *buf = malloc(room ? room : 1);
    size_t len = buf && room ? emit(t, buf, room, at, arg) : 0;

    if (len == 0 || len > room) {
        char why[96];
        snprintf(why, sizeof(why), "guest: cannot emit %s (%u bytes)", what, size);
        fail_setup(t, why);
        free(buf);
        return 0;
    }
    g->place(g->opaque, at, buf, len);
    free(buf);
    t->code_used += (len + 15) & ~(size_t)15;
    if (t->code_used > g->code_size) {
        t->code_used = g->code_size;
    }
    return at;
}

static bool guest_run(struct torture *t, uint64_t entry, unsigned k, const char *what,
                      unsigned size)
{
    if (t->guest->run(t->guest->opaque, entry, k) == 0) {
        return true;
    }
    char why[96];
    snprintf(why, sizeof(why), "guest: %s (%u bytes) did not run to its end on %u cores", what,
             size, k);
    fail_setup(t, why);
    return false;
}

struct llsc_add_args {
    uint64_t counter_va;
    unsigned k;
    unsigned size;
    uint64_t iterations;
};

static size_t emit_llsc_add(struct torture *t, uint8_t *buf, size_t room, uint64_t at_va,
                            const void *arg)
{
    const struct llsc_add_args *a = arg;
    return t->guest->emit_llsc_add(t->guest->opaque, buf, room, at_va, a->counter_va,
                                   a->counter_va + COREMU_XMON_GRANULE, a->k, a->size,
                                   a->iterations);
}

static size_t emit_probe(struct torture *t, uint8_t *buf, size_t room, uint64_t at_va,
                         const void *arg)
{
    return t->guest->emit_probe(t->guest->opaque, buf, room, at_va, arg);
}

static const char *const store_names[COREMU_TORTURE_STORES] = {
    [COREMU_TORTURE_STORE_PLAIN] = "plain store",
    [COREMU_TORTURE_STORE_EXCLUSIVE] = "store-exclusive",
    [COREMU_TORTURE_STORE_SWAP] = "swap",
};

/* One probe (coremu_torture_probe); failures are recorded. */
static void guest_probe(struct torture *t, unsigned size, enum coremu_torture_store how,
                        bool same_value)
{
    const struct coremu_torture_guest *g = t->guest;
    struct coremu_torture_probe p = {size, new_slot(t), new_slot(t), how, same_value};
    char name[112];

    snprintf(name, sizeof(name), "guest: %s%s of %s value between LL and SC fails the SC",
             same_value ? "ABA: " : "", store_names[how], same_value ? "the same" : "another");
    uint64_t entry = guest_code(t, name, size, emit_probe, &p);
    if (!entry || !guest_run(t, entry, 2, name, size)) {
        return;
    }
    record(t, name, size, 1, g->read(g->opaque, p.flags_va + 8, 8));
    record(t, "guest: the probe's other core stored", size, 1,
           g->read(g->opaque, p.flags_va + 16, 8));
    record(t, "guest: value after the probe is the other core's", size, same_value ? 0 : 1,
           g->read(g->opaque, p.target_va, size));
}

int coremu_atomic_torture_guest(const struct coremu_torture_guest *guest, uint64_t iterations,
                                struct coremu_torture_result *result)
{
    if (!result) {
        return -1;
    }
    memset(result, 0, sizeof(*result));

    struct torture t = {NULL, NULL, guest, result, guest ? guest->va : 0, 0, 0};
    if (!guest || guest->ncpus < 2 || guest->va % COREMU_TORTURE_AREA != 0 ||
        !guest->emit_llsc_add || !guest->place || !guest->run || !guest->read ||
        (guest->exclusive_sizes & ~15u) != 0 || guest->exclusive_sizes == 0) {
        fail_setup(&t, "bad arguments");
        return -1;
    }
    int64_t t0 = coremu_host_ns();

    /* The rules first (a store-exclusive that never succeeds would hang the loops): every
     * size and way of storing, with the same value when the monitor claims exactness, else
     * with another value. An exact monitor also gets one probe with another value (the area's
     * slots do not last for all of them, and a same-value store is the harder case). */
    bool other_value_done = false;
    for (unsigned size = 1; guest->emit_probe && size <= 8 && result->failures == 0; size *= 2) {
        if (!has(guest->exclusive_sizes, size)) {
            continue;
        }
        for (unsigned how = 0; how < COREMU_TORTURE_STORES && result->failures == 0; how++) {
            if (!(guest->probe_stores & (1u << how))) {
                continue;
            }
            if (guest->exact) {
                guest_probe(&t, size, how, true);
            }
            if (!guest->exact || !other_value_done) {
                guest_probe(&t, size, how, false);
                other_value_done = true;
            }
        }
    }
    if (result->failures != 0) {
        result->seconds = (double)(coremu_host_ns() - t0) / 1e9;
        return -1;
    }

    uint64_t total = iterations * guest->ncpus;
    for (unsigned size = 1; size <= 8; size *= 2) {
        if (!has(guest->exclusive_sizes, size)) {
            continue;
        }
        struct llsc_add_args a = {new_slot(&t), guest->ncpus, size, iterations};
        uint64_t entry = guest_code(&t, "the LL/SC add loop", size, emit_llsc_add, &a);
        if (!entry || !guest_run(&t, entry, guest->ncpus, "the LL/SC add loop", size)) {
            break;
        }
        record(&t, "guest: all cores: LL/SC add loop", size, total & size_mask(size),
               guest->read(guest->opaque, a.counter_va, size));
    }
    result->seconds = (double)(coremu_host_ns() - t0) / 1e9;
    return result->failures == 0 ? 0 : -1;
}
