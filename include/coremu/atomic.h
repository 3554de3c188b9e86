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
 *  3. The helper table: each architecture registers a table describing its atomic instructions
 *     so that the runtime can run a generic torture test over any of them.
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

/* ---- 3. Helper tables and the torture test ----------------------------------------------- */

/* One atomic instruction (or idiom) of an architecture, as the torture test drives it. */
struct coremu_atomic_helper {
    const char *name; /* e.g. "ldrex/strex", "lock xadd" */
    unsigned size;    /* operand size in bytes: 1, 2, 4, 8 or 16 */
    /* Adds delta to the value at p (physical pa) exactly as the guest instruction sequence would
     * (an LL/SC retry loop through x and mon, a LOCK-prefixed op, a CAS loop...). Returns the
     * old value. mon is the calling thread's own monitor. */
    uint64_t (*add)(struct coremu_xmon *x, struct coremu_xmon_local *mon, void *p, uint64_t pa,
                    uint64_t delta);
};

struct coremu_atomic_table {
    const char *arch;
    const struct coremu_atomic_helper *helpers;
    size_t nhelpers;
};

/* Registers an architecture's table (at start-up; the binary's main does it). 0, or -EEXIST. */
int coremu_atomic_register(const struct coremu_atomic_table *table);
/* The registered table for arch, or NULL. */
const struct coremu_atomic_table *coremu_atomic_lookup(const char *arch);

struct coremu_torture_result {
    uint64_t expected;
    uint64_t observed;
    double seconds;
};
/* Runs nthreads threads, each adding 1 through helper iterations times to one shared counter
 * (in a RAM-like buffer covered by an engine of the given mode), and reports expected and
 * observed final values. Returns 0 when they match, -1 otherwise (or on setup failure). */
int coremu_atomic_torture(const struct coremu_atomic_helper *helper, enum coremu_xmon_mode mode,
                          unsigned nthreads, uint64_t iterations,
                          struct coremu_torture_result *result);

#endif /* COREMU_ATOMIC_H */
