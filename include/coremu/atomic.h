/*
 * coremu — the atomic emulation layer.
 *
 * Three parts:
 *  1. Host primitives on guest RAM (already translated to host addresses): compare-and-swap of
 *     1, 2, 4, 8 and 16 bytes, exchange, fetch-and-op. All sequentially consistent, because a
 *     guest atomic is also a full barrier on every architecture coremu emulates.
 *  2. The exclusive-monitor engine for load-linked/store-conditional guests. In the default
 *     (exact) mode a store-conditional fails if any other core stored to the reservation
 *     granule after the load-linked, even when it stored the same value back (ABA). It works
 *     by watching pages: the first load-exclusive on a physical page marks the page watched
 *     (the machine's softmmu TLBs are flushed through a callback, under stop-the-world), and
 *     every store to a watched page — plain or conditional, from a core or a device — goes
 *     through coremu_xmon_store, which bumps the granule's version. A store-conditional
 *     succeeds only if the version is still the one its load-exclusive saw.
 *     The optional value mode (COREMU_XMON_VALUE) compares values with a host CAS instead: no
 *     page watching, faster, and wrong in the ABA case; it exists for users who ask for it.
 *  3. The atomic table: each architecture registers the functions its guest atomic instructions
 *     run (their handlers call them), and a generic torture test drives any table, either by
 *     calling it or through guest instructions the architecture emits and runs on its cores.
 */
#ifndef COREMU_ATOMIC_H
#define COREMU_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- 1. Host primitives ------------------------------------------------------------------ */

/* Compare-and-swap of size 1, 2, 4 or 8 bytes at p (naturally aligned). On failure *expected
 * receives the current value. */
bool coremu_atomic_cas(void *p, unsigned size, uint64_t *expected, uint64_t desired);
/* 16-byte compare-and-swap (CMPXCHG16B, LDREXD pairs...). p must be 16-byte aligned. */
bool coremu_atomic_cas16(void *p, unsigned __int128 *expected, unsigned __int128 desired);

enum coremu_atomic_op {
    COREMU_ATOMIC_XCHG,
    COREMU_ATOMIC_ADD,
    COREMU_ATOMIC_SUB,
    COREMU_ATOMIC_AND,
    COREMU_ATOMIC_OR,
    COREMU_ATOMIC_XOR,
};
/* Applies op with operand to the size-byte value at p; returns the old value. */
uint64_t coremu_atomic_fetch_op(void *p, unsigned size, enum coremu_atomic_op op,
                                uint64_t operand);
/* A full barrier between the caller's earlier and later memory accesses, plain ones included
 * (a guest's barrier, a device pairing with a guest driver's barrier). Under ThreadSanitizer,
 * which does not model fences, a sequentially consistent read-modify-write of one shared word
 * stands in for it. */
void coremu_atomic_fence(void);
/* Single-copy-atomic load and store of size 1/2/4/8 (relaxed: the guest's barriers order). */
uint64_t coremu_atomic_load(const void *p, unsigned size);
void coremu_atomic_store(void *p, unsigned size, uint64_t value);

/* ---- 2. The exclusive-monitor engine ----------------------------------------------------- */

enum coremu_xmon_mode {
    COREMU_XMON_EXACT = 0, /* version-checked: a store in between always fails the SC */
    COREMU_XMON_VALUE = 1, /* value-compared with host CAS: fast, misses ABA */
};

/* Bytes covered by one reservation (the architecture's exclusive reservation granule). */
#define COREMU_XMON_GRANULE 16u
#define COREMU_XMON_PAGE_BITS 12u

struct coremu_xmon;

/* Called when a page becomes watched; must make every core's softmmu drop fast-path store
 * entries for it before returning (e.g. stop-the-world + flush every TLB). May be NULL when
 * every store already goes through coremu_xmon_store (unit tests). Called exactly once per page,
 * on the thread of the first load-exclusive there, with no engine lock held (so it may stop the
 * world; calls for different pages may run concurrently). Until it returns, other cores'
 * load-exclusives on that page return the value but no reservation: their store-conditional
 * fails and the guest retries, parking at its next block boundary meanwhile. */
typedef void (*coremu_xmon_watch_fn)(void *opaque, uint64_t page_pa);

/* An engine covers the physical range [base, base + size) (guest RAM). */
struct coremu_xmon *coremu_xmon_new(enum coremu_xmon_mode mode, uint64_t base, uint64_t size,
                                    coremu_xmon_watch_fn watch, void *opaque);
void coremu_xmon_free(struct coremu_xmon *x);
enum coremu_xmon_mode coremu_xmon_mode(const struct coremu_xmon *x);

/* Whether stores to the page containing pa must go through coremu_xmon_store. The softmmu asks
 * at TLB fill time (acquire). */
bool coremu_xmon_page_watched(const struct coremu_xmon *x, uint64_t pa);
/* Unwatches the pages no load-exclusive used since the previous call (exact mode; a page that
 * was watched a second time is kept), returning how many: plain stores to them take the fast
 * path again, and reservations on them stay exact. Any thread, e.g. the I/O thread once a
 * second; never with a lock that a core may wait for. */
size_t coremu_xmon_sweep(struct coremu_xmon *x);

/* One core's monitor (its "local monitor" state). Owned by that core's thread. */
struct coremu_xmon_local {
    bool valid;
    unsigned size;
    uint64_t pa;
    uint64_t version;    /* exact mode: granule version seen by the load-exclusive */
    uint64_t value;      /* value mode: the value loaded (low half for 16 bytes) */
    uint64_t value_hi;   /* value mode: high half of a 16-byte pair */
};

/* Load-exclusive of size 1/2/4/8/16 bytes at host address p, physical pa (naturally aligned;
 * the architecture checks alignment and raises its fault first). Returns the value (16 bytes:
 * low 8 in the return value, high 8 in *hi). */
uint64_t coremu_xmon_load_exclusive(struct coremu_xmon *x, struct coremu_xmon_local *mon,
                                    void *p, uint64_t pa, unsigned size, uint64_t *hi);
/* Store-conditional: stores value (and hi for 16 bytes) and returns true only if mon holds a
 * reservation for exactly [pa, pa + size) and no store to its granule happened since. The
 * reservation is cleared either way. */
bool coremu_xmon_store_exclusive(struct coremu_xmon *x, struct coremu_xmon_local *mon, void *p,
                                 uint64_t pa, unsigned size, uint64_t value, uint64_t hi);
/* CLREX, exception entry/return. */
static inline void coremu_xmon_clear(struct coremu_xmon_local *mon)
{
    mon->valid = false;
}
/* A plain store of size 1/2/4/8 to a watched page (the softmmu's slow path). Unaligned stores
 * are allowed and may span two granules. */
void coremu_xmon_store(struct coremu_xmon *x, void *p, uint64_t pa, unsigned size, uint64_t value);
/* An atomic read-modify-write (SWP, LOCK-prefixed ops) on a watched page: like
 * coremu_atomic_fetch_op, but also breaks other cores' reservations. */
uint64_t coremu_xmon_fetch_op(struct coremu_xmon *x, void *p, uint64_t pa, unsigned size,
                              enum coremu_atomic_op op, uint64_t operand);
/* Device (DMA) writes of any length into RAM break reservations too: call it once the device
 * has written [pa, pa + len). */
void coremu_xmon_dma_write(struct coremu_xmon *x, uint64_t pa, size_t len);

/* ---- 3. The atomic table: how guest atomic instructions run ----------------------------- */

/*
 * What an architecture's guest atomic instructions do, as functions of (cpu, guest virtual
 * address, ...). The architecture's instruction handlers reach atomics only through its table
 * (one indirect call through a pointer the core keeps), so the torture test below drives exactly
 * the code execution runs, and a code generator can later emit calls to the same slots.
 *
 * Every function takes an opaque pointer to the architecture's own core state (struct arm_cpu
 * for ARM) and a guest virtual address. It translates the address through that core's MMU, does
 * the architecture's alignment and permission checks, and raises the architecture's fault itself
 * (it may not return: ARM escapes to the core's fault handler). Memory that is RAM goes through
 * the exclusive-monitor engine of part 2, so that reservations stay exact; what happens on
 * device memory is the architecture's choice. Values are what the instruction's registers hold
 * (the architecture applies its data endianness): an 8-byte ARM exclusive is the register pair
 * with Rt (the word at the lower address) in bits 31..0.
 *
 * A slot the architecture does not have is NULL and its size mask 0. Size masks hold the
 * supported operand sizes as bits (1 | 2 | 4 | 8). A function is called only by the thread
 * that runs that core.
 */
struct coremu_atomic_table {
    const char *arch; /* "arm", "x86_64" */

    /* -- Load-linked / store-conditional (ARM LDREX{,B,H,D} / STREX{,B,H,D} / CLREX) -- */
    unsigned exclusive_sizes;
    /* Reads size bytes and marks them reserved for this core. */
    uint64_t (*load_exclusive)(void *cpu, uint64_t va, unsigned size);
    /* Writes value (its low size bytes) and returns true only if this core still holds a
     * reservation for exactly [va, va + size) and no store by anyone reached its granule since
     * the load-exclusive (in the engine's exact mode: even one that stored the same value). The
     * reservation is gone afterwards, whether the store happened or not. */
    bool (*store_exclusive)(void *cpu, uint64_t va, unsigned size, uint64_t value);
    /* Drops this core's reservation (CLREX). */
    void (*clear_exclusive)(void *cpu);

    /* -- Atomic read-modify-writes. Each one is atomic against every other core and breaks
     *    their reservations on the granule; each is a full barrier. -- */
    /* Exchange: ARM SWP / SWPB (4 and 1), x86 XCHG with memory (1, 2, 4, 8; LOCK implied).
     * Returns the old value. */
    unsigned swap_sizes;
    uint64_t (*swap)(void *cpu, uint64_t va, unsigned size, uint64_t value);
    /* x86 LOCK-prefixed arithmetic, returning the old value from which the architecture
     * computes its flags: ADD (LOCK ADD, XADD, INC = +1, ADC = + (src + CF)), SUB (LOCK SUB,
     * DEC = -1, SBB = - (src + CF)), AND / OR / XOR (LOCK AND, OR, XOR, NOT = XOR all-ones,
     * BTR / BTS / BTC on the byte holding the bit). op is never COREMU_ATOMIC_XCHG (that is
     * swap). LOCK NEG, which no fetch-and-op expresses, is a cmpxchg loop. Not filled by ARM. */
    unsigned fetch_op_sizes;
    uint64_t (*fetch_op)(void *cpu, uint64_t va, unsigned size, enum coremu_atomic_op op,
                         uint64_t operand);
    /* x86 LOCK CMPXCHG (1, 2, 4, 8) and LOCK CMPXCHG8B (8): stores desired if the memory holds
     * *expected and returns true; otherwise returns false with the current value in *expected
     * (the architecture writes it to the accumulator). Not filled by ARM. */
    unsigned cmpxchg_sizes;
    bool (*cmpxchg)(void *cpu, uint64_t va, unsigned size, uint64_t *expected, uint64_t desired);
    /* x86 LOCK CMPXCHG16B: the same on a 16-byte-aligned pair (RDX:RAX, RCX:RBX). Not filled
     * by ARM. */
    bool (*cmpxchg16)(void *cpu, uint64_t va, unsigned __int128 *expected,
                      unsigned __int128 desired);
};

/* Registers an architecture's table (at start-up; the binary's main does it): 0, -EINVAL when
 * the table is inconsistent (a slot without its size mask or the reverse, a size other than
 * 1/2/4/8, only part of the exclusive triple), -EEXIST when arch already has one, -ENOSPC. */
int coremu_atomic_register(const struct coremu_atomic_table *table);
/* The registered table for arch, or NULL. */
const struct coremu_atomic_table *coremu_atomic_lookup(const char *arch);

/*
 * The torture test: drives every slot a table fills through real cores of that architecture.
 * The caller (the architecture's test harness) provides ncpus >= 2 cores, each driven by one
 * thread of the test, and a guest virtual address va of COREMU_TORTURE_AREA bytes of RAM,
 * aligned to COREMU_TORTURE_AREA, that every core maps to the same memory and that reads as
 * zero at the start (the test writes it).
 *
 * Checked on cores 0 and 1 first: a store-conditional after a load-exclusive succeeds and
 * stores; a second one without a new load-exclusive fails; CLREX makes it fail; another core's
 * store-conditional of a different value in between makes it fail; and, when exact is set (the
 * engine behind the cores is in exact mode), another core's store of the SAME value in between
 * (by store-conditional, and by swap when the table has one) makes it fail (ABA). Then, on every
 * core at once, iterations times per core: an LL/SC retry loop that adds 1, at every exclusive
 * size; a spin lock taken and released with swap, at every swap size, guarding a counter only
 * its holder touches; fetch-and-add of 1; a cmpxchg loop that adds 1; the same on a 16-byte
 * pair with cmpxchg16. Each final count must be exact (modulo 2^(8 * size)).
 */
#define COREMU_TORTURE_AREA 1024u

struct coremu_torture_env {
    void *const *cpus;
    unsigned ncpus;
    uint64_t va;
    bool exact;
};

struct coremu_torture_result {
    unsigned checks;   /* checks run */
    unsigned failures; /* checks failed */
    uint64_t expected; /* the first failed check's expected value (of the last check when */
    uint64_t observed; /* none failed) and the value it found */
    char first_failure[128]; /* the first failed check's name; "" when none failed */
    double seconds;    /* wall time of the multi-core part */
};

/* 0 when every check passed; -1 when one failed or the test could not run (bad arguments, no
 * thread), with the reason in result->first_failure. */
int coremu_atomic_torture(const struct coremu_atomic_table *table,
                          const struct coremu_torture_env *env, uint64_t iterations,
                          struct coremu_torture_result *result);

/*
 * The torture test in guest-instruction mode: the same rules, driven by real guest instructions
 * that an architecture's cores run through its engine (decoder, handlers, the atomic table they
 * call), rather than by calls to the table from host threads. The architecture provides, in the
 * struct below, emitters of its own machine code for the few sequences the test needs, a way to
 * put bytes into guest memory, a runner and a reader; the test places the code, runs it and
 * checks the results:
 *  - on every core at once, iterations times per core, an LL/SC retry loop that adds 1 to a
 *    counter, at every size the emitters handle: the final count must be exact (any lost update
 *    shows);
 *  - on two cores, the probe below for every size and way of storing: a store by core 1 between
 *    core 0's load-exclusive and store-exclusive must fail the store-exclusive, and when exact
 *    is set (the architecture's monitor claims exactness) even a store of the same value (ABA).
 *    A monitor that compares values but is presented as exact fails this check.
 */

/* How core 1 of a probe stores to the reserved location. */
enum coremu_torture_store {
    COREMU_TORTURE_STORE_PLAIN,     /* an ordinary store instruction */
    COREMU_TORTURE_STORE_EXCLUSIVE, /* its own load-exclusive / store-exclusive, retried */
    COREMU_TORTURE_STORE_SWAP,      /* the table's swap */
};
#define COREMU_TORTURE_STORES 3u

/*
 * The probe, run on cores 0 and 1 (other cores, if started, do nothing and stop). Memory starts
 * as zero. Core 0: v = load-exclusive of size bytes at target_va; sets the 8-byte flag at
 * flags_va to 1; waits until the 8-byte flag at flags_va + 16 is not zero; store-exclusive of
 * v + 1 at target_va; writes its outcome as 8 bytes at flags_va + 8 (0: it stored, 1: it
 * failed); stops. Core 1: waits until the flag at flags_va is not zero; stores, the way `how`
 * says, the size bytes at target_va back unchanged (same_value) or plus one; sets the flag at
 * flags_va + 16 to 1; stops. A plain store may write the naturally aligned 8 bytes that hold
 * the target (as they were, or with the target's value plus one): the rest of them is zero.
 * target_va and flags_va are 32-byte aligned and 32 bytes apart or more.
 */
struct coremu_torture_probe {
    unsigned size;
    uint64_t target_va;
    uint64_t flags_va;
    enum coremu_torture_store how;
    bool same_value;
};

struct coremu_torture_guest {
    const char *arch;        /* for messages */
    void *opaque;            /* the architecture's machine, passed to every function below */
    unsigned ncpus;          /* cores run() can start, >= 2 */
    uint64_t va;             /* COREMU_TORTURE_AREA bytes of RAM, aligned, zero at the start */
    uint64_t code_va;        /* code_size bytes of RAM, not on a page of the area, for the code */
    size_t code_size;
    bool exact;              /* the monitor is exact: the same-value (ABA) probes run */
    unsigned exclusive_sizes; /* the sizes (1 | 2 | 4 | 8) the emitters handle */
    unsigned probe_stores;   /* the ways (1u << enum coremu_torture_store) emit_probe handles */

    /* Emitters write code that will run at guest address at_va into buf (room bytes) and return
     * its length; 0 when it does not fit or the architecture cannot express it. */
    /* Each of k cores: iterations times, an LL/SC loop that adds 1 to the size-byte counter
     * at counter_va (retried until the store-exclusive succeeds); then stops. The 8 zero bytes
     * at scratch_va (another granule) are the code's to use, e.g. for a start barrier, so that
     * the cores' loops overlap rather than run one after another. */
    size_t (*emit_llsc_add)(void *opaque, uint8_t *buf, size_t room, uint64_t at_va,
                            uint64_t counter_va, uint64_t scratch_va, unsigned k, unsigned size,
                            uint64_t iterations);
    /* The probe described above. NULL when the architecture has none. */
    size_t (*emit_probe)(void *opaque, uint8_t *buf, size_t room, uint64_t at_va,
                         const struct coremu_torture_probe *probe);
    /* Writes len bytes of code at va while no core runs, so that the next run executes them
     * (no stale translation of that memory survives). */
    void (*place)(void *opaque, uint64_t va, const uint8_t *code, size_t len);
    /* Starts cores 0..k-1 at entry_va, each knowing its index the way the emitted code expects,
     * and waits until all of them stopped: 0, or -1 when one faulted or they did not stop in
     * time (then the machine cannot run again). */
    int (*run)(void *opaque, uint64_t entry_va, unsigned k);
    /* Reads size bytes of guest memory at va as the architecture's loads do (no core runs). */
    uint64_t (*read)(void *opaque, uint64_t va, unsigned size);
};

/* 0 when every check passed; -1 when one failed or the test could not run (bad arguments, code
 * that could not be emitted, a run that failed), with the reason in result->first_failure.
 * result->seconds is the wall time of the runs. */
int coremu_atomic_torture_guest(const struct coremu_torture_guest *guest, uint64_t iterations,
                                struct coremu_torture_result *result);

#endif /* COREMU_ATOMIC_H */
