/*
 * coremu — the translation-block engine (include/coremu/tb.h): per-core block caches, chaining,
 * the jump cache, code-page tracking and cross-core maintenance. Nothing here knows a guest
 * architecture: instructions are decoded by the architecture's ops.
 *
 * Translation cache. Each core owns its cache; nothing in it is shared, so lookups take no
 * lock. A block is keyed by its virtual PC and the architecture's context word and validated by
 * the physical page its PC translates to now, so a block stays usable across address spaces
 * without address-space tagging. Blocks live in a bump arena that is reset only at a block
 * boundary (when it fills up or on request), so a block pointer stays valid for the whole of
 * the block's execution even if the block is invalidated meanwhile.
 *
 * Chaining. A block remembers its last successor per exit (fall-through, other) together with
 * the core's epoch (struct coremu_tb_exit, after the block's micro-ops); anything that may
 * change the meaning of a virtual PC (TLB maintenance, block invalidation) bumps the epoch, so
 * a chain is followed only if nothing changed since it was made, and the context word must
 * still match. Exits whose successor varies (returns, other indirect branches) go through a
 * small per-core jump cache under the same rule: the block last found for a PC and context,
 * kept with the epoch it was found in.
 *
 * Code changes. Stores: each physical page from which some core translated code has a bitmap
 * of those cores (the code-page table); the architecture's TLB marks writable entries of such
 * pages so that its slow store path calls coremu_tb_code_written, which drops the page's blocks
 * of the storing core at once and has the other cores re-validate theirs at their next block
 * boundary. I-cache maintenance bumps the cache's generation; a block from an older generation
 * is re-validated by comparing the guest code it was built from with memory (cheap), which
 * also catches code that DMA wrote behind every core's back.
 *
 * The code-page table is a three-level radix tree over 40-bit page numbers (52-bit physical
 * addresses), created on demand with compare-and-swap and never shrunk: a 32-bit guest touches
 * one top entry and a few leaves, a 52-bit one only the leaves its RAM has code in.
 */
#include "config.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <coremu/cpu.h>
#include <coremu/log.h>
#include <coremu/softmmu.h>
#include <coremu/tb.h>

#define TB_HASH_BITS 15u
#define TB_HASH_SIZE (1u << TB_HASH_BITS)
#define TB_PAGE_HASH_BITS 12u
#define TB_PAGE_HASH_SIZE (1u << TB_PAGE_HASH_BITS)
#define TB_JMP_BITS 10u
#define TB_JMP_SIZE (1u << TB_JMP_BITS)
#define TB_ARENA_SIZE (64u << 20)
#define TB_MAX_OPS_LIMIT 4096u

/* Code-page radix tree: top and middle levels of pointers, leaves of per-page core bitmaps. */
#define CP_LEAF_BITS 12u
#define CP_MID_BITS 14u
#define CP_TOP_BITS (COREMU_TB_PHYS_BITS - COREMU_TB_PAGE_BITS - CP_LEAF_BITS - CP_MID_BITS)

/* A block found for a virtual PC in a context during one epoch. */
struct tb_jmp {
    uint64_t pc;
    uint32_t ctx;
    uint32_t epoch;
    struct coremu_tb *tb; /* NULL: empty */
};

struct coremu_tb_cache {
    /* Owner-private. */
    uint8_t *arena;
    size_t arena_used;
    struct coremu_tb *hash[TB_HASH_SIZE];
    struct coremu_tb *page_hash[TB_PAGE_HASH_SIZE];
    /* Direct-mapped by PC: what the last lookup of a PC found, valid while the epoch has not
     * moved (the same rule as a chain, without the predecessor: it serves the exits that vary,
     * returns and other indirect branches). */
    struct tb_jmp jmp[TB_JMP_SIZE];
    uint32_t gen;
    bool flush_pending;
    /* Tickets this core waits for at its next sync, per target core (0: none). */
    uint64_t *maint_ticket;
    bool maint_any;
    /* Where a block's code bytes are kept while it is decoded. */
    uint8_t *tmp_code;
    size_t tmp_code_cap;

    /* Maintenance requested by other cores. A requester ORs the work into maint_flags
     * (seq_cst), then takes a ticket from maint_req_seq (fetch_add, seq_cst) and kicks
     * ops->maint_pending. The owner reads maint_req_seq (acquire), takes the flags (exchange,
     * acq_rel), applies them, and publishes the ticket it read in maint_done_seq (release):
     * every request whose ticket is <= maint_done_seq has been applied. */
    _Alignas(64) _Atomic uint32_t maint_flags;
    _Atomic uint64_t maint_req_seq;
    _Atomic uint64_t maint_done_seq;
};

struct coremu_tb_engine {
    const struct coremu_tb_ops *ops; /* immutable */
    unsigned ncores;                 /* immutable */
    unsigned words;                  /* 64-bit words of a page's core bitmap; immutable */
    /* Registered cores: written by coremu_tb_cpu_init before any core thread starts (the
     * thread creation orders it), read by any core. */
    struct coremu_tb_cpu **cores;
    /* The code-page tree. Each pointer is set once (compare-and-swap, release) from NULL and
     * read with acquire; bitmap words are set by translating cores (fetch_or, seq_cst), taken
     * whole by storing cores (exchange, seq_cst) and read by TLB fills (acquire). */
    _Atomic(_Atomic(void *) *) top[1u << CP_TOP_BITS];
};

/* ---- the code-page table ------------------------------------------------------------------ */

/* The first bitmap word of the page of pa, or NULL when no core ever had code near it and
 * create is false. */
static _Atomic uint64_t *code_bitmap(struct coremu_tb_engine *e, uint64_t pa, bool create)
{
    uint64_t page = (pa >> COREMU_TB_PAGE_BITS) & ((1ull << (COREMU_TB_PHYS_BITS -
                                                              COREMU_TB_PAGE_BITS)) - 1);
    unsigned ti = (unsigned)(page >> (CP_LEAF_BITS + CP_MID_BITS));
    unsigned mi = (unsigned)(page >> CP_LEAF_BITS) & ((1u << CP_MID_BITS) - 1);
    unsigned li = (unsigned)page & ((1u << CP_LEAF_BITS) - 1);

    _Atomic(void *) *mid = atomic_load_explicit(&e->top[ti], memory_order_acquire);
    if (!mid) {
        if (!create) {
            return NULL;
        }
        _Atomic(void *) *fresh = calloc(1u << CP_MID_BITS, sizeof(*fresh));
        if (!fresh) {
            return NULL;
        }
        _Atomic(void *) *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&e->top[ti], &expected, fresh,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire)) {
            mid = fresh;
        } else {
            free(fresh);
            mid = expected;
        }
    }
    _Atomic uint64_t *leaf = atomic_load_explicit(&mid[mi], memory_order_acquire);
    if (!leaf) {
        if (!create) {
            return NULL;
        }
        _Atomic uint64_t *fresh = calloc((size_t)e->words << CP_LEAF_BITS, sizeof(*fresh));
        if (!fresh) {
            return NULL;
        }
        void *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&mid[mi], &expected, (void *)fresh,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire)) {
            leaf = fresh;
        } else {
            free(fresh);
            leaf = expected;
        }
    }
    return leaf + (size_t)li * e->words;
}

bool coremu_tb_page_has_code(const struct coremu_tb_engine *engine, uint64_t pa)
{
    _Atomic uint64_t *bits = code_bitmap((struct coremu_tb_engine *)engine, pa, false);

    if (!bits) {
        return false;
    }
    for (unsigned w = 0; w < engine->words; w++) {
        if (atomic_load_explicit(&bits[w], memory_order_acquire) != 0) {
            return true;
        }
    }
    return false;
}

static inline bool core_on(const struct coremu_tb_cpu *t)
{
    return t->rt && atomic_load_explicit(&t->rt->power, memory_order_acquire) == COREMU_CPU_ON;
}

/* Posts work to another core without a ticket (nobody waits for it). */
static void maint_post(struct coremu_tb_cpu *other, uint32_t work)
{
    atomic_fetch_or_explicit(&other->cache->maint_flags, work, memory_order_seq_cst);
    coremu_cpu_kick(other->rt, other->engine->ops->maint_pending);
}

/* Before translating code of the page: from now on stores to it must come to
 * coremu_tb_code_written. False when the table cannot grow (out of memory): the block is then
 * built without RAM, one instruction long, and re-validated like I/O code. */
static bool mark_code_page(struct coremu_tb_cpu *t, uint64_t page)
{
    struct coremu_tb_engine *e = t->engine;
    _Atomic uint64_t *bits = code_bitmap(e, page, true);

    if (!bits) {
        return false;
    }
    unsigned me = t->index / 64;
    uint64_t bit = 1ull << (t->index % 64);
    uint64_t old = atomic_fetch_or_explicit(&bits[me], bit, memory_order_seq_cst);

    if (old & bit) {
        return true;
    }
    e->ops->tlb_protect_page(t->arch, page);
    for (unsigned w = 0; w < e->words && old == 0; w++) {
        if (w != me) {
            old = atomic_load_explicit(&bits[w], memory_order_seq_cst);
        }
    }
    if (old != 0) {
        /* Entries filled since the bitmap became non-zero are already marked. */
        return true;
    }
    /* Other cores may hold fast store entries filled while no core had code here. Dropping
     * them asynchronously (at their next block boundary; a sleeping core is not woken) is
     * enough: without I-cache maintenance an architecture with weak instruction coherence
     * promises nothing about another core's stores to code, and with it the blocks are
     * re-validated; one with strong coherence (x86) sees its own stores through its TLB,
     * which was protected above. */
    for (unsigned i = 0; i < e->ncores; i++) {
        struct coremu_tb_cpu *other = e->cores[i];
        if (other && other != t && core_on(other)) {
            maint_post(other, COREMU_TB_MAINT_CODE_WRITES);
        }
    }
    return true;
}

/* ---- engine and per-core set-up ----------------------------------------------------------- */

struct coremu_tb_engine *coremu_tb_engine_new(const struct coremu_tb_ops *ops, unsigned ncores)
{
    if (ops->max_ops == 0 || ops->max_ops > TB_MAX_OPS_LIMIT || ops->uop_size == 0 ||
        ncores == 0) {
        return NULL;
    }
    struct coremu_tb_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        return NULL;
    }
    e->ops = ops;
    e->ncores = ncores;
    e->words = (ncores + 63) / 64;
    e->cores = calloc(ncores, sizeof(*e->cores));
    if (!e->cores) {
        free(e);
        return NULL;
    }
    return e;
}

void coremu_tb_engine_free(struct coremu_tb_engine *e)
{
    if (!e) {
        return;
    }
    for (size_t ti = 0; ti < (1u << CP_TOP_BITS); ti++) {
        _Atomic(void *) *mid = atomic_load_explicit(&e->top[ti], memory_order_relaxed);
        if (!mid) {
            continue;
        }
        for (size_t mi = 0; mi < (1u << CP_MID_BITS); mi++) {
            free(atomic_load_explicit(&mid[mi], memory_order_relaxed));
        }
        free((void *)mid);
    }
    free(e->cores);
    free(e);
}

unsigned coremu_tb_engine_cores(const struct coremu_tb_engine *e)
{
    unsigned n = 0;

    for (unsigned i = 0; i < e->ncores; i++) {
        n += e->cores[i] != NULL;
    }
    return n;
}

int coremu_tb_cpu_init(struct coremu_tb_cpu *t, struct coremu_tb_engine *engine,
                       struct coremu_cpu *rt, void *arch, unsigned index)
{
    const struct coremu_tb_ops *ops = engine->ops;

    memset(t, 0, sizeof(*t));
    if (index >= engine->ncores) {
        return -1;
    }
    struct coremu_tb_cache *c = aligned_alloc(64, (sizeof(*c) + 63) & ~(size_t)63);
    if (!c) {
        return -1;
    }
    memset(c, 0, sizeof(*c));
    c->maint_ticket = calloc(engine->ncores, sizeof(*c->maint_ticket));
    c->tmp_code_cap = (size_t)ops->max_ops * ops->max_insn_len + ops->max_insn_len;
    c->tmp_code = malloc(c->tmp_code_cap);
    void *arena = mmap(NULL, TB_ARENA_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!c->maint_ticket || !c->tmp_code || arena == MAP_FAILED) {
        if (arena != MAP_FAILED) {
            munmap(arena, TB_ARENA_SIZE);
        }
        free(c->maint_ticket);
        free(c->tmp_code);
        free(c);
        return -1;
    }
    c->arena = arena;
    atomic_init(&c->maint_flags, 0);
    atomic_init(&c->maint_req_seq, 0);
    atomic_init(&c->maint_done_seq, 0);
    t->engine = engine;
    t->cache = c;
    t->rt = rt;
    t->arch = arch;
    t->index = index;
    engine->cores[index] = t;
    return 0;
}

void coremu_tb_cpu_destroy(struct coremu_tb_cpu *t)
{
    struct coremu_tb_cache *c = t->cache;

    if (!c) {
        return;
    }
    if (t->engine->cores[t->index] == t) {
        t->engine->cores[t->index] = NULL;
    }
    munmap(c->arena, TB_ARENA_SIZE);
    free(c->maint_ticket);
    free(c->tmp_code);
    free(c);
    t->cache = NULL;
}

/* ---- the cache ---------------------------------------------------------------------------- */

static inline unsigned tb_hash(uint64_t pc, uint32_t ctx)
{
    uint32_t h = (uint32_t)(pc >> 1) ^ (uint32_t)(pc >> 33) ^ (ctx * 0x9e3779b1u);
    h ^= h >> TB_HASH_BITS;
    return h & (TB_HASH_SIZE - 1);
}

static inline unsigned page_hash(uint64_t page)
{
    return (unsigned)(page >> COREMU_TB_PAGE_BITS) & (TB_PAGE_HASH_SIZE - 1);
}

static inline unsigned jmp_hash(uint64_t pc)
{
    return (unsigned)((pc >> 1) ^ (pc >> (1 + TB_JMP_BITS))) & (TB_JMP_SIZE - 1);
}

static inline struct coremu_tb_exit *tb_exit_of(const struct coremu_tb_engine *e,
                                                struct coremu_tb *tb)
{
    return (struct coremu_tb_exit *)(tb->ops + (size_t)(tb->n_ops + 1) * e->ops->uop_size);
}

/* Only at a block boundary: no block is executing. */
static void tb_flush_now(struct coremu_tb_cpu *t)
{
    struct coremu_tb_cache *c = t->cache;

    memset(c->hash, 0, sizeof(c->hash));
    memset(c->page_hash, 0, sizeof(c->page_hash));
    /* The epoch moves below as well; clearing also drops the pointers into the arena. */
    memset(c->jmp, 0, sizeof(c->jmp));
    /* Give the used part back to the host, so that a core whose working set shrank does not
     * keep its high-water mark resident. */
    if (c->arena_used > 0) {
        madvise(c->arena, (c->arena_used + 4095) & ~(size_t)4095, MADV_DONTNEED);
    }
    c->arena_used = 0;
    c->flush_pending = false;
    t->epoch++;
}

void coremu_tb_flush(struct coremu_tb_cpu *t)
{
    /* Lookups only happen at block boundaries, which check this first. */
    t->cache->flush_pending = true;
    t->epoch++;
}

void coremu_tb_invalidate_code(struct coremu_tb_cpu *t)
{
    t->cache->gen++;
    t->epoch++;
}

static void hash_remove(struct coremu_tb_cache *c, struct coremu_tb *tb)
{
    struct coremu_tb **pp = &c->hash[tb_hash(tb->pc, tb->ctx)];

    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == tb) {
            *pp = tb->hash_next;
            return;
        }
    }
}

static void tb_invalidate(struct coremu_tb_cpu *t, struct coremu_tb *tb)
{
    if (tb->valid) {
        tb->valid = false;
        hash_remove(t->cache, tb);
        t->epoch++;
    }
}

/* Drops this core's blocks on the physical page (any time: blocks are not freed). */
static void invalidate_page(struct coremu_tb_cpu *t, uint64_t page)
{
    struct coremu_tb_cache *c = t->cache;
    unsigned b = page_hash(page);
    struct coremu_tb **pp = &c->page_hash[b];

    while (*pp) {
        struct coremu_tb *tb = *pp;
        unsigned k = page_hash(tb->phys[0]) == b ? 0 : 1;
        if (!tb->valid || tb->phys[0] == page || tb->phys[1] == page) {
            *pp = tb->page_next[k];
            tb_invalidate(t, tb);
        } else {
            pp = &tb->page_next[k];
        }
    }
}

void coremu_tb_code_written(struct coremu_tb_cpu *t, uint64_t pa)
{
    struct coremu_tb_engine *e = t->engine;
    uint64_t page = pa & ~(uint64_t)(COREMU_TB_PAGE_SIZE - 1);
    _Atomic uint64_t *bits = code_bitmap(e, page, false);

    if (bits) {
        for (unsigned w = 0; w < e->words; w++) {
            uint64_t old = atomic_exchange_explicit(&bits[w], 0, memory_order_seq_cst);
            for (; old != 0; old &= old - 1) {
                unsigned i = w * 64 + (unsigned)__builtin_ctzll(old);
                struct coremu_tb_cpu *other = i < e->ncores ? e->cores[i] : NULL;
                if (other == t) {
                    invalidate_page(t, page);
                } else if (other && core_on(other)) {
                    /* The other cores that translated code here re-validate their blocks by
                     * content at their next block boundary (coarser than this page, but
                     * allocation-free and cheap). */
                    maint_post(other, COREMU_TB_MAINT_IC);
                }
            }
        }
    }
    /* No core has code there now: let this core's next stores take the fast path. */
    e->ops->tlb_protect_page(t->arch, page);
}

/* ---- building blocks ---------------------------------------------------------------------- */

static inline uint8_t code_byte(const uint8_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Appends the size bytes of v to the decoder's copy of the code, on page. */
static inline void code_keep(struct coremu_tb_decoder *d, unsigned page, uint64_t v, unsigned size)
{
    size_t at = (size_t)d->code_len[0] + d->code_len[1];

    if (at + size <= d->code_cap) {
        memcpy(d->code + at, &v, size); /* little-endian host: the guest's byte order */
    }
    d->code_len[page] += size;
}

bool coremu_tb_fetch(struct coremu_tb_decoder *d, unsigned size, uint64_t *value)
{
    struct coremu_tb_cpu *t = d->t;
    const struct coremu_tb_ops *ops = t->engine->ops;
    uint64_t addr = d->next;
    uint64_t v = 0;
    unsigned off = (unsigned)(addr & (COREMU_TB_PAGE_SIZE - 1));
    unsigned here = (addr >> COREMU_TB_PAGE_BITS) != (d->pc >> COREMU_TB_PAGE_BITS) ? 1 : 0;

    /* The common case: RAM, within the page being read, naturally aligned (every ARM fetch and
     * most of a byte-stream decoder's): one single-copy-atomic read. */
    if (here == d->page && d->host[here] && off + size <= COREMU_TB_PAGE_SIZE &&
        (size == 1 || size == 2 || size == 4 || size == 8) && (off & (size - 1)) == 0) {
        v = coremu_mem_load(d->host[here] + off, size);
        code_keep(d, here, v, size);
        d->next = addr + size;
        *value = v;
        return true;
    }

    for (unsigned i = 0; i < size;) {
        uint64_t a = addr + i;
        unsigned page = (a >> COREMU_TB_PAGE_BITS) != (d->pc >> COREMU_TB_PAGE_BITS) ? 1 : 0;
        if (page != d->page) {
            /* The instruction crosses into the next page. */
            if (d->n > 0) {
                return false;
            }
            uint64_t pa1;
            const uint8_t *host1 = ops->translate_exec(t->arch, a, &pa1);
            d->phys[1] = pa1 & ~(uint64_t)(COREMU_TB_PAGE_SIZE - 1);
            d->host[1] = NULL;
            if (host1 && mark_code_page(t, d->phys[1])) {
                d->host[1] = host1 - (a & (COREMU_TB_PAGE_SIZE - 1));
            }
            d->page = 1;
        }
        unsigned in_page = COREMU_TB_PAGE_SIZE - (unsigned)(a & (COREMU_TB_PAGE_SIZE - 1));
        unsigned chunk = size - i < in_page ? size - i : in_page;
        const uint8_t *host = d->host[page];
        /* Code outside RAM is read as the instruction's own access size where it can be: a
         * device may answer a halfword read differently from two byte reads. */
        uint64_t io = 0;
        bool io_whole = !host && (chunk == 1 || chunk == 2 || chunk == 4);
        if (io_whole) {
            io = ops->fetch_io(t->arch, a, chunk);
        }
        for (unsigned k = 0; k < chunk; k++) {
            uint8_t b;
            if (host) {
                b = code_byte(host + ((a + k) & (COREMU_TB_PAGE_SIZE - 1)));
            } else if (io_whole) {
                b = (uint8_t)(io >> (8 * k));
            } else {
                b = (uint8_t)ops->fetch_io(t->arch, a + k, 1);
            }
            code_keep(d, page, b, 1);
            v |= (uint64_t)b << (8 * (i + k));
        }
        i += chunk;
    }
    d->next = addr + size;
    *value = v;
    return true;
}

/*
 * Translates a block at pc (whose physical page is phys0, host page base host0 or NULL). Fetch
 * faults do not return; only the first instruction can fault (the others are on the same page),
 * and an instruction that crosses into the next page is always alone in its block, so the fault
 * is reported for the instruction that caused it.
 */
static struct coremu_tb *tb_build(struct coremu_tb_cpu *t, uint64_t pc, uint32_t ctx,
                                  uint64_t phys0, const uint8_t *host0)
{
    struct coremu_tb_engine *e = t->engine;
    const struct coremu_tb_ops *ops = e->ops;
    struct coremu_tb_cache *c = t->cache;
    size_t usz = ops->uop_size;

    if (host0 && !mark_code_page(t, phys0)) {
        host0 = NULL;
    }
    struct coremu_tb_decoder d = {
        .t = t,
        .pc = pc,
        .ctx = ctx,
        .next = pc,
        .phys = {phys0, ~(uint64_t)0},
        .host = {host0, NULL},
        .code = c->tmp_code,
        .code_cap = c->tmp_code_cap,
    };
    /* One instruction per block from non-RAM: its bytes cannot be re-validated cheaply. */
    unsigned max_ops = host0 ? ops->max_ops : 1;
    unsigned n = 0;

    /* The block is decoded in place at the arena's end, where the largest block fits (a block
     * boundary: flushing is allowed); the arena only grows by what it takes once it is done,
     * so a fault that escapes from the decoder leaves nothing behind. */
    size_t most = sizeof(struct coremu_tb) + (max_ops + 1) * usz + sizeof(struct coremu_tb_exit) +
                  c->tmp_code_cap;
    if (c->arena_used + ((most + 15) & ~(size_t)15) > TB_ARENA_SIZE) {
        tb_flush_now(t);
    }
    struct coremu_tb *tb = (struct coremu_tb *)(c->arena + c->arena_used);

    while (n < max_ops) {
        struct coremu_uop *op = (struct coremu_uop *)(tb->ops + n * usz);
        memset(op, 0, usz);
        d.n = n;
        d.pc = d.next;
        uint64_t at = d.pc;
        unsigned kept = d.code_len[0];
        enum coremu_tb_decoded r = ops->decode(t->arch, &d, op);
        if (r == COREMU_TB_STOP) {
            /* It starts the next block: the bytes it read stay out of this one's copy. */
            d.code_len[0] = kept;
            d.next = at;
            break;
        }
        op->pc = at;
        op->len = (uint8_t)(d.next - at);
        op->index = (uint16_t)n;
        n++;
        if (r == COREMU_TB_END || d.page != 0 ||
            (d.next & (COREMU_TB_PAGE_SIZE - 1)) == 0) {
            break;
        }
    }
    size_t len0 = d.code_len[0];
    size_t len1 = d.code_len[1];
    if (len0 + len1 > d.code_cap) {
        /* Cannot happen with max_insn_len honoured; keep the block unverifiable rather than
         * read past the copy. */
        len0 = len1 = 0;
    }

    struct coremu_uop *sentinel = (struct coremu_uop *)(tb->ops + n * usz);
    memset(sentinel, 0, usz);

    size_t size = sizeof(struct coremu_tb) + (n + 1) * usz + sizeof(struct coremu_tb_exit) +
                  len0 + len1;
    c->arena_used += (size + 15) & ~(size_t)15;

    memset(tb, 0, offsetof(struct coremu_tb, ops));
    tb->pc = pc;
    tb->ctx = ctx;
    tb->phys[0] = phys0;
    tb->phys[1] = d.page != 0 ? d.phys[1] : ~(uint64_t)0;
    tb->end_pc = d.next;
    tb->gen = c->gen;
    tb->n_ops = (uint16_t)n;
    tb->code_len[0] = (uint16_t)len0;
    tb->code_len[1] = (uint16_t)len1;
    tb->host[0] = host0 ? host0 + (pc & (COREMU_TB_PAGE_SIZE - 1)) : NULL;
    tb->host[1] = d.host[1];
    tb->valid = true;
    ops->end_block(t->arch, tb, sentinel);
    sentinel->pc = d.next;
    sentinel->index = (uint16_t)n;
    struct coremu_tb_exit *x = tb_exit_of(e, tb);
    memset(x, 0, sizeof(*x));
    x->ctx[0] = x->ctx[1] = ~0u;
    tb->code = (uint8_t *)(x + 1);
    memcpy(tb->code, c->tmp_code, len0 + len1);

    unsigned h = tb_hash(pc, ctx);
    tb->hash_next = c->hash[h];
    c->hash[h] = tb;
    for (unsigned k = 0; k < 2; k++) {
        if (tb->phys[k] != ~(uint64_t)0) {
            unsigned b = page_hash(tb->phys[k]);
            tb->page_next[k] = c->page_hash[b];
            c->page_hash[b] = tb;
        }
    }
    t->blocks_built++;
    return tb;
}

/* Whether len bytes of guest code at host still are copy: eight bytes at a time where the
 * guest's memory is aligned for it (the reads are single-copy atomic, as guest stores are). */
static bool code_equal(const uint8_t *host, const uint8_t *copy, unsigned len)
{
    unsigned i = 0;

    for (; i < len && ((uintptr_t)(host + i) & 7) != 0; i++) {
        if (code_byte(host + i) != copy[i]) {
            return false;
        }
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t kept;
        memcpy(&kept, copy + i, 8);
        if (coremu_mem_load(host + i, 8) != kept) {
            return false;
        }
    }
    for (; i < len; i++) {
        if (code_byte(host + i) != copy[i]) {
            return false;
        }
    }
    return true;
}

/* Whether the guest code a block was built from is still what memory holds. */
static bool tb_code_current(const struct coremu_tb *tb)
{
    const uint8_t *copy = tb->code;

    for (unsigned k = 0; k < 2; k++) {
        unsigned len = tb->code_len[k];
        if (len == 0) {
            continue;
        }
        if (!tb->host[k] || !code_equal(tb->host[k], copy, len)) {
            return false;
        }
        copy += len;
    }
    /* A block from outside RAM has no copy to compare: it is never current after a change. */
    return tb->host[0] != NULL;
}

static inline void chain_set(struct coremu_tb_exit *x, unsigned slot, struct coremu_tb *tb,
                             uint32_t epoch)
{
    x->succ[slot] = tb;
    x->pc[slot] = tb->pc;
    x->ctx[slot] = tb->ctx;
    x->epoch[slot] = epoch;
}

struct coremu_tb *coremu_tb_exit_lookup(struct coremu_tb_cpu *t, struct coremu_tb_exit *x,
                                        unsigned slot, uint64_t pc, uint32_t ctx)
{
    const struct tb_jmp *j = &t->cache->jmp[jmp_hash(pc)];

    if (!j->tb || j->pc != pc || j->ctx != ctx || j->epoch != t->epoch) {
        return NULL;
    }
    chain_set(x, slot, j->tb, t->epoch);
    return j->tb;
}

/* Marks the RAM pages a kept block was built from as this core's code pages again. False when
 * the table cannot grow: the block is then dropped (and rebuilt without RAM). */
static bool tb_rewatch(struct coremu_tb_cpu *t, const struct coremu_tb *tb)
{
    for (unsigned k = 0; k < 2; k++) {
        if (tb->host[k] && tb->code_len[k] != 0 && !mark_code_page(t, tb->phys[k])) {
            return false;
        }
    }
    return true;
}

struct coremu_tb *coremu_tb_find(struct coremu_tb_cpu *t, uint64_t pc, uint32_t ctx,
                                 struct coremu_tb *prev, unsigned slot, uint32_t prev_epoch)
{
    struct coremu_tb_engine *e = t->engine;
    struct coremu_tb_cache *c = t->cache;
    struct coremu_tb *tb;

    if (__builtin_expect(c->flush_pending, 0)) {
        tb_flush_now(t);
    }
    if (prev && prev_epoch == t->epoch) {
        const struct coremu_tb_exit *x = tb_exit_of(e, prev);
        if (x->epoch[slot] == prev_epoch && x->pc[slot] == pc && x->ctx[slot] == ctx) {
            t->blocks_chained++;
            return x->succ[slot];
        }
    }

    struct tb_jmp *j = &c->jmp[jmp_hash(pc)];
    if (j->tb && j->pc == pc && j->ctx == ctx && j->epoch == t->epoch) {
        tb = j->tb;
        goto found;
    }

    uint64_t pa;
    const uint8_t *host = e->ops->translate_exec(t->arch, pc, &pa);
    uint64_t phys0 = pa & ~(uint64_t)(COREMU_TB_PAGE_SIZE - 1);

    for (tb = c->hash[tb_hash(pc, ctx)]; tb; tb = tb->hash_next) {
        if (tb->pc != pc || tb->ctx != ctx || tb->phys[0] != phys0) {
            continue;
        }
        if (tb->phys[1] != ~(uint64_t)0) {
            uint64_t pa1;
            uint64_t second = (pc | (COREMU_TB_PAGE_SIZE - 1)) + 1;
            e->ops->translate_exec(t->arch, second, &pa1);
            if ((pa1 & ~(uint64_t)(COREMU_TB_PAGE_SIZE - 1)) != tb->phys[1]) {
                continue;
            }
        }
        if (tb->gen != c->gen) {
            /* The store that made this core re-validate cleared the page's code bits: a block
             * kept must be watched again, or the next store to its page takes the fast path
             * and this copy goes stale for good (a kernel's int3-then-bytes patching left a
             * core looping on an int3 long gone). Marked before the compare, as tb_build marks
             * before it reads. */
            if (!tb_rewatch(t, tb) || !tb_code_current(tb)) {
                tb_invalidate(t, tb);
                tb = NULL;
                break;
            }
            tb->gen = c->gen;
        }
        break;
    }
    if (!tb) {
        tb = tb_build(t, pc, ctx, phys0,
                      host ? host - (pc & (COREMU_TB_PAGE_SIZE - 1)) : NULL);
    }
    /* The block is right for this PC now, and stays so until the epoch moves. */
    j->pc = pc;
    j->ctx = ctx;
    j->epoch = t->epoch;
    j->tb = tb;
found:
    if (prev && prev_epoch == t->epoch) {
        chain_set(tb_exit_of(e, prev), slot, tb, prev_epoch);
    }
    return tb;
}

/* ---- maintenance -------------------------------------------------------------------------- */

void coremu_tb_power_on(struct coremu_tb_cpu *t)
{
    struct coremu_tb_cache *c = t->cache;

    tb_flush_now(t);
    memset(c->maint_ticket, 0, t->engine->ncores * sizeof(*c->maint_ticket));
    c->maint_any = false;
    atomic_store_explicit(&c->maint_flags, 0, memory_order_relaxed);
    if (t->rt) {
        coremu_cpu_clear_pending(t->rt, t->engine->ops->maint_pending);
    }
    atomic_store_explicit(&c->maint_done_seq,
                          atomic_load_explicit(&c->maint_req_seq, memory_order_acquire),
                          memory_order_release);
}

void coremu_tb_maint_process(struct coremu_tb_cpu *t)
{
    struct coremu_tb_cache *c = t->cache;
    const struct coremu_tb_ops *ops = t->engine->ops;

    coremu_cpu_clear_pending(t->rt, ops->maint_pending);
    uint64_t seq = atomic_load_explicit(&c->maint_req_seq, memory_order_acquire);
    uint32_t work = atomic_exchange_explicit(&c->maint_flags, 0, memory_order_acq_rel);
    if (work & COREMU_TB_MAINT_TLB) {
        ops->tlb_flush_all(t->arch);
    }
    if (work & COREMU_TB_MAINT_IC) {
        coremu_tb_invalidate_code(t);
    }
    if (work & COREMU_TB_MAINT_CODE_WRITES) {
        ops->tlb_protect_code(t->arch);
    }
    atomic_store_explicit(&c->maint_done_seq, seq, memory_order_release);
}

void coremu_tb_broadcast(struct coremu_tb_cpu *t, uint32_t work)
{
    struct coremu_tb_engine *e = t->engine;
    struct coremu_tb_cache *c = t->cache;

    for (unsigned i = 0; i < e->ncores; i++) {
        struct coremu_tb_cpu *other = e->cores[i];
        if (!other || other == t || !core_on(other)) {
            /* A core that is off flushes everything when it powers on. */
            continue;
        }
        struct coremu_tb_cache *oc = other->cache;
        atomic_fetch_or_explicit(&oc->maint_flags, work, memory_order_seq_cst);
        c->maint_ticket[i] =
            atomic_fetch_add_explicit(&oc->maint_req_seq, 1, memory_order_seq_cst) + 1;
        c->maint_any = true;
        coremu_cpu_kick(other->rt, e->ops->maint_pending);
    }
}

/* Whether another core has applied this core's requests, or cannot be running guest code with
 * stale state: off (flushes at power-on) or asleep (applies posted maintenance before it runs
 * another instruction). */
static bool maint_done(const struct coremu_tb_cpu *other, uint64_t ticket)
{
    if (atomic_load_explicit(&other->cache->maint_done_seq, memory_order_acquire) >= ticket) {
        return true;
    }
    if (!core_on(other)) {
        return true;
    }
    return atomic_load_explicit(&other->rt->sleeping, memory_order_seq_cst) != 0;
}

bool coremu_tb_sync(struct coremu_tb_cpu *t, const bool *leave)
{
    struct coremu_tb_engine *e = t->engine;
    struct coremu_tb_cache *c = t->cache;
    bool stay = true;

    atomic_thread_fence(memory_order_seq_cst);
    if (!c->maint_any) {
        return true;
    }
    for (unsigned i = 0; i < e->ncores; i++) {
        uint64_t ticket = c->maint_ticket[i];
        if (ticket == 0) {
            continue;
        }
        const struct coremu_tb_cpu *other = e->cores[i];
        while (stay && !maint_done(other, ticket) && !*leave) {
            /* Serve our own requests meanwhile: the other core may be waiting for us in its
             * own sync, or need us parked for a stop. */
            if (coremu_cpu_poll(t->rt)) {
                if (coremu_cpu_process_pending(t->rt) == COREMU_CPU_LEAVE) {
                    stay = false;
                    break;
                }
                uint32_t p = atomic_load_explicit(&t->rt->pending, memory_order_acquire);
                if (p & e->ops->maint_pending) {
                    coremu_tb_maint_process(t);
                }
            }
            coremu_cpu_relax(t->rt, 0);
        }
        c->maint_ticket[i] = 0;
    }
    c->maint_any = false;
    atomic_thread_fence(memory_order_seq_cst);
    return stay && !*leave;
}

void coremu_tlb_protect_code(const struct coremu_tb_engine *engine, struct coremu_tlb_entry *tlb,
                             size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct coremu_tlb_entry *e = &tlb[i];
        if (e->tag_write != COREMU_TLB_INVALID && !(e->flags & COREMU_TLB_CODE) &&
            coremu_tb_page_has_code(engine, e->paddr)) {
            e->tag_write = COREMU_TLB_INVALID;
        }
    }
}

void coremu_tlb_protect_page(struct coremu_tlb_entry *tlb, size_t n, uint64_t page)
{
    for (size_t i = 0; i < n; i++) {
        if (tlb[i].paddr == page) {
            tlb[i].tag_write = COREMU_TLB_INVALID;
        }
    }
}
