/*
 * coremu — the exclusive-monitor engine (load-linked / store-conditional).
 *
 * Exact mode. Every reservation granule (COREMU_XMON_GRANULE bytes of physical memory) maps to
 * one 64-bit version counter in a fixed table; several granules share a counter (they are 1 MiB
 * apart or more), which can only make a store-conditional fail spuriously, and the architectures
 * allow that. A counter works like a sequence lock: even means quiet, odd means a writer owns
 * every granule that maps to it. Every store to a watched page (a store-conditional, a plain
 * store of the softmmu's slow path, an atomic read-modify-write, a DMA write) takes the counter
 * from even v to odd v + 1, writes, and releases it at v + 2, so the version only ever grows.
 * A load-exclusive reads the value between two reads of the same even version and remembers it;
 * the store-conditional succeeds only by moving the counter from exactly that version to odd,
 * so any store in between (even one that wrote the same value back) makes it fail.
 *
 * Stores reach this engine only for watched pages: the softmmu sends a page's stores here once
 * coremu_xmon_page_watched says so. A page becomes watched at its first load-exclusive, which
 * calls the machine's watch callback to drop every fast-path TLB entry for the page. A periodic
 * sweep (coremu_xmon_sweep) unwatches pages that no load-exclusive used lately, so that plain
 * stores to them are fast again; a page watched a second time stays watched.
 *
 * Value mode. The load-exclusive records the value and the store-conditional is a host CAS from
 * it. No page is ever watched and no version is kept; a store that puts the same value back
 * between the two goes unnoticed (ABA), which is why it is not the default. Its 16-byte SC is
 * also only as good as the host's 16-byte CAS: where that is a lock (ThreadSanitizer's
 * emulation, libatomic on a CPU without CMPXCHG16B) a concurrent plain store to the pair can be
 * lost. Exact mode does not depend on it, since every writer of a granule holds its version.
 *
 * Memory orderings, in one place (each access below names its own):
 *  - version counter: lock = CAS even->odd, acquire (orders our data store after the previous
 *    owner's in the location's modification order, and lets a merge read the previous owner's
 *    bytes); data stores under the lock are release stores, so a load-exclusive whose (acquire)
 *    data load reads one of them is guaranteed to see the counter already odd when it re-checks;
 *    unlock = store v + 2, release, read by the load-exclusive's first (acquire) load so that it
 *    sees the data the owner wrote. No stand-alone fences: ThreadSanitizer models these.
 *  - page state: 0 -> 1 by a CAS (acq_rel) of the first load-exclusive, 1 -> 2 by a release store
 *    once the watch callback has returned; load-exclusive reads it with acquire, so a reservation
 *    is only made after the callback's flush (and every fast-path store before it) happened.
 *    coremu_xmon_page_watched reads it with acquire for the softmmu's TLB fill. The sweep's
 *    2 -> 3 -> (next generation) 0 and load-exclusive's version read and page re-read are
 *    seq_cst; the argument is at coremu_xmon_sweep.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include <coremu/atomic.h>
#include <coremu/softmmu.h>

#include "internal.h"

#define XMON_COUNTER_BITS 16u
#define XMON_NCOUNTERS    (1u << XMON_COUNTER_BITS)
#define XMON_PAGE_SIZE    (1ull << COREMU_XMON_PAGE_BITS)

/* Page watch states: the low two bits of a page's word; the bits above count the page's
 * unwatches (its generation), so that a load-exclusive can tell "still the same watch" from
 * "unwatched and watched again" (fast stores may have hit the page in between). */
enum {
    PAGE_UNWATCHED = 0,
    PAGE_WATCHING = 1,   /* stores already take the slow path; the callback has not returned */
    PAGE_WATCHED = 2,    /* the callback has returned: reservations on the page are exact */
    PAGE_UNWATCHING = 3, /* a sweep is killing the page's reservations; stores still slow */
};
#define PAGE_STATE(w) ((w)&3u)
#define PAGE_GEN_ONE 4u

/* Per-page hints for the sweep (coremu_xmon_sweep), not part of the exactness argument. */
enum {
    PAGE_TOUCHED = 1,  /* a load-exclusive used the page since the last sweep */
    PAGE_WAS_UNWATCHED = 2,
    PAGE_STICKY = 4,   /* watched again after an unwatch: never unwatched again */
};

struct coremu_xmon {
    /* All immutable after coremu_xmon_new. */
    enum coremu_xmon_mode mode;
    uint64_t base;
    uint64_t size;
    uint64_t first_page; /* base >> COREMU_XMON_PAGE_BITS */
    size_t npages;
    coremu_xmon_watch_fn watch;
    void *opaque;

    /* Exact mode only (NULL in value mode). One state word per page of [base, base + size)
     * (generation << 2 | state): written by load-exclusive (UNWATCHED -> WATCHING by CAS
     * acq_rel, -> WATCHED release) and by the sweep (WATCHED -> UNWATCHING by CAS seq_cst,
     * -> next generation's UNWATCHED seq_cst); read by load-exclusive (acquire, and a seq_cst
     * re-read after its version read) and coremu_xmon_page_watched (acquire). */
    _Atomic uint32_t *pages;
    /* Exact mode only. PAGE_TOUCHED and friends: set by load-exclusive and watch_page
     * (fetch_or, relaxed), cleared by the sweep; hints only, any order. */
    _Atomic uint8_t *page_flags;
    /* Exact mode only. The granule version counters, XMON_NCOUNTERS of them, each written and
     * read by every path as described at the top of this file. */
    _Atomic uint64_t *versions;
};

/* ---- Small helpers ------------------------------------------------------------------------ */

/*
 * Waiting for a counter to become even. The owner holds it for a handful of instructions, but
 * it may have been preempted in between: on an over-subscribed host (more guest cores than host
 * CPUs) spinning for a whole time slice would starve it, so after a short spin give the CPU
 * away.
 */
static inline void spin_wait(unsigned *spins)
{
    if (++*spins < 128) {
        rt_spin_hint();
    } else {
        sched_yield();
    }
}

/*
 * Granule -> counter: a bijection on the low 16 bits of the granule number, so two granules
 * share a counter only when they are a multiple of XMON_NCOUNTERS granules (1 MiB) apart, and
 * unrelated data on one page never collides. The granule number's low 13 bits go to the top so
 * that neighbouring granules land on different cache lines (the eight counters of one line
 * belong to granules 128 KiB apart): cores using adjacent locks do not bounce one line.
 */
static inline uint32_t granule_index(uint64_t pa)
{
    uint64_t g = pa / COREMU_XMON_GRANULE;
    return (uint32_t)(((g << 3) | ((g >> 13) & 7)) & (XMON_NCOUNTERS - 1));
}

static inline bool in_range(const struct coremu_xmon *x, uint64_t pa)
{
    return pa >= x->base && pa - x->base < x->size;
}

static inline size_t page_slot(const struct coremu_xmon *x, uint64_t pa)
{
    return (size_t)((pa >> COREMU_XMON_PAGE_BITS) - x->first_page);
}

/* Locks one counter: waits for even v, CASes it to v + 1 with order mo (acquire for a store,
 * see the top; seq_cst for the sweep). Returns v. */
static uint64_t version_lock_mo(_Atomic uint64_t *c, memory_order mo)
{
    unsigned spins = 0;
    uint64_t v = atomic_load_explicit(c, memory_order_relaxed);

    for (;;) {
        if (v & 1) {
            spin_wait(&spins);
            v = atomic_load_explicit(c, memory_order_relaxed);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(c, &v, v + 1, mo, memory_order_relaxed)) {
            return v;
        }
    }
}

static uint64_t version_lock(_Atomic uint64_t *c)
{
    return version_lock_mo(c, memory_order_acquire);
}

/* Unlocks a counter taken at v: v + 2, release (publishes the data stored under it). */
static inline void version_unlock(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, v + 2, memory_order_release);
}

/* Acquire load of a naturally aligned 1/2/4/8/16-byte value; 16 bytes: high half in *hi. The
 * 16-byte pair is the engine's own business (LDXP-style pairs, CMPXCHG16B); the softmmu's
 * helper covers the guest's ordinary sizes. */
static uint64_t load_acquire(const void *p, unsigned size, uint64_t *hi)
{
    if (size == 16) {
        /* Not const: libatomic may implement this load with CMPXCHG16B. */
        unsigned __int128 v = __atomic_load_n((unsigned __int128 *)(uintptr_t)p, __ATOMIC_ACQUIRE);
        *hi = (uint64_t)(v >> 64);
        return (uint64_t)v;
    }
    *hi = 0;
    return coremu_mem_load_order(p, size, __ATOMIC_ACQUIRE);
}

/* Release store of a naturally aligned 1/2/4/8/16-byte value. */
static void store_release(void *p, unsigned size, uint64_t value, uint64_t hi)
{
    if (size == 16) {
        __atomic_store_n((unsigned __int128 *)p,
                         ((unsigned __int128)hi << 64) | (unsigned __int128)value,
                         __ATOMIC_RELEASE);
        return;
    }
    coremu_mem_store_order(p, size, value, __ATOMIC_RELEASE);
}

/*
 * A store of size 1/2/4/8 at any alignment, release. Aligned: one host store. Inside one
 * aligned 8-byte word: a CAS on that word that merges the new bytes in, so the store stays
 * single-copy atomic as on x86 and neighbouring bytes written concurrently are never lost (guest
 * RAM is page-aligned, so the word is inside it). Otherwise (an access that crosses a word,
 * hence possibly a granule) byte by byte: no architecture promises more for it. The host is
 * little-endian (softmmu.h), so byte i of the value is bits 8i..8i+7.
 */
static void store_any(void *p, unsigned size, uint64_t value)
{
    uintptr_t a = (uintptr_t)p;

    if ((a & (size - 1)) == 0) {
        store_release(p, size, value, 0);
        return;
    }
    if ((a & 7) + size <= 8) {
        uint64_t *w = (uint64_t *)(a & ~(uintptr_t)7);
        uint64_t mask = (1ull << (8 * size)) - 1; /* size < 8 here: an unaligned 8 crosses */
        unsigned shift = 8 * (unsigned)(a & 7);
        uint64_t old = coremu_mem_load(w, 8);
        for (;;) {
            uint64_t repl = (old & ~(mask << shift)) | ((value & mask) << shift);
            if (__atomic_compare_exchange_n(w, &old, repl, true, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED)) {
                return;
            }
        }
    }
    for (unsigned i = 0; i < size; i++) {
        coremu_mem_store_order((uint8_t *)p + i, 1, value >> (8 * i), __ATOMIC_RELEASE);
    }
}

/* Relaxed load for value mode. */
static uint64_t load_relaxed(const void *p, unsigned size, uint64_t *hi)
{
    if (size == 16) {
        unsigned __int128 v = __atomic_load_n((unsigned __int128 *)(uintptr_t)p, __ATOMIC_RELAXED);
        *hi = (uint64_t)(v >> 64);
        return (uint64_t)v;
    }
    *hi = 0;
    return coremu_mem_load(p, size);
}

/* ---- Engine ------------------------------------------------------------------------------- */

struct coremu_xmon *coremu_xmon_new(enum coremu_xmon_mode mode, uint64_t base, uint64_t size,
                                    coremu_xmon_watch_fn watch, void *opaque)
{
    struct coremu_xmon *x;

    if ((mode != COREMU_XMON_EXACT && mode != COREMU_XMON_VALUE) || size == 0 ||
        base + size - 1 < base) {
        errno = EINVAL;
        return NULL;
    }
    x = calloc(1, sizeof(*x));
    if (!x) {
        return NULL;
    }
    x->mode = mode;
    x->base = base;
    x->size = size;
    x->first_page = base >> COREMU_XMON_PAGE_BITS;
    x->npages = (size_t)(((base + size - 1) >> COREMU_XMON_PAGE_BITS) - x->first_page + 1);
    x->watch = watch;
    x->opaque = opaque;
    if (mode == COREMU_XMON_EXACT) {
        /* calloc: untouched parts of a large table stay unbacked zero pages. */
        x->pages = calloc(x->npages, sizeof(*x->pages));
        x->page_flags = calloc(x->npages, sizeof(*x->page_flags));
        x->versions = aligned_alloc(64, XMON_NCOUNTERS * sizeof(*x->versions));
        if (!x->pages || !x->page_flags || !x->versions) {
            coremu_xmon_free(x);
            errno = ENOMEM;
            return NULL;
        }
        for (uint32_t i = 0; i < XMON_NCOUNTERS; i++) {
            atomic_init(&x->versions[i], 0);
        }
    }
    return x;
}

void coremu_xmon_free(struct coremu_xmon *x)
{
    if (!x) {
        return;
    }
    free(x->pages);
    free(x->page_flags);
    free(x->versions);
    free(x);
}

enum coremu_xmon_mode coremu_xmon_mode(const struct coremu_xmon *x)
{
    return x->mode;
}

bool coremu_xmon_page_watched(const struct coremu_xmon *x, uint64_t pa)
{
    if (x->mode != COREMU_XMON_EXACT || !in_range(x, pa)) {
        return false;
    }
    return PAGE_STATE(atomic_load_explicit(&x->pages[page_slot(x, pa)],
                                           memory_order_acquire)) != PAGE_UNWATCHED;
}

/*
 * Makes the page of pa watched. Returns the page's word (generation | PAGE_WATCHED) when
 * reservations on it are exact now, 0 when not. The first caller wins a CAS, so the callback
 * runs once per watch. It runs with no lock held, because it may stop the world: a core blocked
 * here on a lock could not park, and the stop would never end. For the same reason a core that
 * arrives while another one's callback (or a sweep's unwatch) is still running does not wait
 * for it: its reservation is simply not valid (its store-conditional will fail, which the
 * architectures allow), the guest retries, parks at its next block boundary for the stop, and
 * finds the page watched afterwards.
 */
static uint32_t watch_page(struct coremu_xmon *x, uint64_t pa)
{
    size_t slot = page_slot(x, pa);
    _Atomic uint32_t *st = &x->pages[slot];
    uint32_t s = atomic_load_explicit(st, memory_order_acquire);

    if (PAGE_STATE(s) == PAGE_WATCHED) {
        return s;
    }
    if (PAGE_STATE(s) == PAGE_UNWATCHED &&
        atomic_compare_exchange_strong_explicit(st, &s, s | PAGE_WATCHING, memory_order_acq_rel,
                                                memory_order_acquire)) {
        if (x->watch) {
            x->watch(x->opaque, pa & ~(XMON_PAGE_SIZE - 1));
        }
        /* A page used again after an unwatch stays watched: each watch is a stop-the-world. */
        if (atomic_load_explicit(&x->page_flags[slot], memory_order_relaxed) &
            PAGE_WAS_UNWATCHED) {
            atomic_fetch_or_explicit(&x->page_flags[slot], PAGE_STICKY, memory_order_relaxed);
        }
        atomic_store_explicit(st, s | PAGE_WATCHED, memory_order_release);
        return s | PAGE_WATCHED;
    }
    return PAGE_STATE(s) == PAGE_WATCHED ? s : 0;
}

/*
 * Unwatches every watched page that no load-exclusive used since the previous sweep (and that
 * was never watched twice), so that plain stores to it take the fast path again. Exactness: the
 * page first goes UNWATCHING (its stores stay slow, new reservations on it are not valid), then
 * every version counter of its granules is locked and released, which makes the
 * store-conditional of any reservation taken before fail, and only then UNWATCHED. A
 * load-exclusive re-reads the page's word after its version read (both seq_cst), so one that
 * read a version after the bump sees UNWATCHING or a newer generation and is not valid either.
 * A later load-exclusive watches the page again (a new generation, the callback dropping every
 * fast store entry first).
 */
size_t coremu_xmon_sweep(struct coremu_xmon *x)
{
    size_t unwatched = 0;

    if (x->mode != COREMU_XMON_EXACT) {
        return 0;
    }
    for (size_t i = 0; i < x->npages; i++) {
        _Atomic uint32_t *st = &x->pages[i];
        uint32_t s = atomic_load_explicit(st, memory_order_acquire);
        if (PAGE_STATE(s) != PAGE_WATCHED) {
            continue;
        }
        uint8_t f = atomic_fetch_and_explicit(&x->page_flags[i], (uint8_t)~PAGE_TOUCHED,
                                              memory_order_relaxed);
        if ((f & (PAGE_TOUCHED | PAGE_STICKY)) != 0) {
            continue;
        }
        if (!atomic_compare_exchange_strong_explicit(st, &s, (s & ~3u) | PAGE_UNWATCHING,
                                                     memory_order_seq_cst,
                                                     memory_order_relaxed)) {
            continue;
        }
        uint64_t page = (x->first_page + i) << COREMU_XMON_PAGE_BITS;
        for (uint64_t pa = page; pa < page + XMON_PAGE_SIZE; pa += COREMU_XMON_GRANULE) {
            _Atomic uint64_t *c = &x->versions[granule_index(pa)];
            version_unlock(c, version_lock_mo(c, memory_order_seq_cst));
        }
        atomic_fetch_or_explicit(&x->page_flags[i], PAGE_WAS_UNWATCHED, memory_order_relaxed);
        atomic_store_explicit(st, (s & ~3u) + PAGE_GEN_ONE, memory_order_seq_cst);
        unwatched++;
    }
    return unwatched;
}

uint64_t coremu_xmon_load_exclusive(struct coremu_xmon *x, struct coremu_xmon_local *mon, void *p,
                                    uint64_t pa, unsigned size, uint64_t *hi)
{
    uint64_t lo, h;

    if (x->mode == COREMU_XMON_VALUE) {
        lo = load_relaxed(p, size, &h);
        mon->valid = true;
        mon->pa = pa;
        mon->size = size;
        mon->value = lo;
        mon->value_hi = h;
        if (hi) {
            *hi = h;
        }
        return lo;
    }

    /* Outside the covered range nothing can be watched: only stores that come through this
     * engine break such a reservation. */
    bool covered = in_range(x, pa);
    uint32_t watch = 0;
    if (covered) {
        size_t slot = page_slot(x, pa);
        if (!(atomic_load_explicit(&x->page_flags[slot], memory_order_relaxed) & PAGE_TOUCHED)) {
            atomic_fetch_or_explicit(&x->page_flags[slot], PAGE_TOUCHED, memory_order_relaxed);
        }
        watch = watch_page(x, pa);
    }
    bool exact = !covered || watch != 0;
    _Atomic uint64_t *c = &x->versions[granule_index(pa)];
    unsigned spins = 0;
    uint64_t v;

    for (;;) {
        /* seq_cst: ordered before the page word's re-read below (see coremu_xmon_sweep). */
        v = atomic_load_explicit(c, memory_order_seq_cst);
        if (v & 1) {
            spin_wait(&spins);
            continue;
        }
        lo = load_acquire(p, size, &h);
        /*
         * The store-conditional would be right without this re-check (any store after the
         * version read makes it fail); the re-check makes the value returned a snapshot that
         * no engine store overlapped, even where the host's 16-byte load is not single-copy
         * atomic against smaller stores (libatomic's lock fallback, ThreadSanitizer). Relaxed
         * is enough: the acquire data load already orders it after the lock of any writer
         * whose data it saw.
         */
        if (atomic_load_explicit(c, memory_order_relaxed) == v) {
            break;
        }
    }
    /* Still the same watch of the page: not unwatched (nor unwatched and watched again, when
     * fast stores may have hit it) since before our version read. */
    if (exact && covered &&
        atomic_load_explicit(&x->pages[page_slot(x, pa)], memory_order_seq_cst) != watch) {
        exact = false;
    }
    mon->valid = exact;
    mon->pa = pa;
    mon->size = size;
    mon->version = v;
    mon->value = lo;
    mon->value_hi = h;
    if (hi) {
        *hi = h;
    }
    return lo;
}

bool coremu_xmon_store_exclusive(struct coremu_xmon *x, struct coremu_xmon_local *mon, void *p,
                                 uint64_t pa, unsigned size, uint64_t value, uint64_t hi)
{
    bool held = mon->valid && mon->pa == pa && mon->size == size;

    mon->valid = false;
    if (!held) {
        return false;
    }
    if (x->mode == COREMU_XMON_VALUE) {
        if (size == 16) {
            unsigned __int128 expected =
                ((unsigned __int128)mon->value_hi << 64) | (unsigned __int128)mon->value;
            return coremu_atomic_cas16(p, &expected,
                                       ((unsigned __int128)hi << 64) | (unsigned __int128)value);
        }
        uint64_t expected = mon->value;
        return coremu_atomic_cas(p, size, &expected, value);
    }

    _Atomic uint64_t *c = &x->versions[granule_index(pa)];
    uint64_t v = mon->version;

    /* One attempt, no waiting: any other value (a newer version, or odd because someone is
     * storing right now) means a store came between. */
    if (!atomic_compare_exchange_strong_explicit(c, &v, v + 1, memory_order_acquire,
                                                 memory_order_relaxed)) {
        return false;
    }
    store_release(p, size, value, hi);
    version_unlock(c, mon->version);
    return true;
}

void coremu_xmon_store(struct coremu_xmon *x, void *p, uint64_t pa, unsigned size, uint64_t value)
{
    if (x->mode == COREMU_XMON_VALUE) {
        store_any(p, size, value);
        return;
    }

    /* An unaligned store may touch two granules. Lock their counters in index order so that two
     * such stores never wait for each other crosswise; two granules on one counter lock once. */
    uint32_t i0 = granule_index(pa);
    uint32_t i1 = granule_index(pa + size - 1);
    if (i0 > i1) {
        uint32_t t = i0;
        i0 = i1;
        i1 = t;
    }
    _Atomic uint64_t *c0 = &x->versions[i0];
    _Atomic uint64_t *c1 = &x->versions[i1];
    uint64_t v0 = version_lock(c0);
    uint64_t v1 = 0;
    if (i1 != i0) {
        v1 = version_lock(c1);
    }
    store_any(p, size, value);
    if (i1 != i0) {
        version_unlock(c1, v1);
    }
    version_unlock(c0, v0);
}

uint64_t coremu_xmon_fetch_op(struct coremu_xmon *x, void *p, uint64_t pa, unsigned size,
                              enum coremu_atomic_op op, uint64_t operand)
{
    if (x->mode == COREMU_XMON_VALUE) {
        return coremu_atomic_fetch_op(p, size, op, operand);
    }
    /* Naturally aligned, so one granule. The operation itself is seq_cst, which includes the
     * release that the data stores under a lock need. */
    _Atomic uint64_t *c = &x->versions[granule_index(pa)];
    uint64_t v = version_lock(c);
    uint64_t old = coremu_atomic_fetch_op(p, size, op, operand);
    version_unlock(c, v);
    return old;
}

/*
 * The device has already written [pa, pa + len); every reservation on it must now fail. Each
 * counter is locked and released (one at a time: nothing is stored under it), which advances
 * it without ever disturbing a store in progress. A reservation whose store-conditional lands
 * between the device's write and this call still succeeds: closing that window would take a
 * begin/end pair around the device's write.
 */
void coremu_xmon_dma_write(struct coremu_xmon *x, uint64_t pa, size_t len)
{
    if (x->mode == COREMU_XMON_VALUE || len == 0) {
        return;
    }
    uint64_t first = pa / COREMU_XMON_GRANULE;
    uint64_t last = (pa + len - 1) / COREMU_XMON_GRANULE;

    if (last - first + 1 >= XMON_NCOUNTERS) {
        for (uint32_t i = 0; i < XMON_NCOUNTERS; i++) {
            version_unlock(&x->versions[i], version_lock(&x->versions[i]));
        }
        return;
    }
    for (uint64_t g = first; g <= last; g++) {
        _Atomic uint64_t *c = &x->versions[granule_index(g * COREMU_XMON_GRANULE)];
        version_unlock(c, version_lock(c));
    }
}
