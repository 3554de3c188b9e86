/*
 * coremu — the translation-block engine that every guest architecture shares.
 *
 * An architecture decodes guest instructions into micro-operations; the engine does the rest of
 * what running translated code needs: a per-core cache of blocks (bump arena, hash by virtual PC
 * and context word, validation by physical page), direct chaining of blocks and its epoch rule,
 * a per-core jump cache for exits whose successor varies, tracking of physical pages that hold
 * translated code (so that stores to them invalidate, on every core that translated there), and
 * cross-core maintenance (TLB flush, code invalidation) with tickets that a barrier waits for.
 *
 * What an architecture provides (struct coremu_tb_ops, one per architecture, immutable):
 *   - its micro-op type, whose first members are COREMU_UOP_HEADER (handler, guest address,
 *     position in the block, length) followed by its own operand payload;
 *   - decode: one instruction into one micro-op, reading its bytes through coremu_tb_fetch so
 *     that the engine keeps a copy of the code and knows the pages it came from;
 *   - end_block: fills the sentinel micro-op that follows a block's last instruction;
 *   - translate_exec / fetch_io: its MMU, for instruction fetch;
 *   - TLB callbacks the code-page tracking and the maintenance need.
 *
 * Execution model. Micro-ops run threaded: each handler runs its op and tail-calls the next
 * op's handler; the sentinel's handler (and every branch) ends the block by asking
 * coremu_tb_chain for the successor, which it enters directly when the block loop would have
 * nothing else to do at that boundary. The architecture's block loop is a few lines:
 *
 *     for (;;) {
 *         if (coremu_cpu_poll(rt) && arch_boundary(cpu))   // interrupts, runtime work
 *             return;
 *         tb = coremu_tb_find(t, pc, ctx, prev, slot, prev_epoch);
 *         coremu_tb_exec_begin(t);
 *         last = first_op(tb)->tfn(cpu, first_op(tb));     // runs blocks until one returns
 *         tb = coremu_tb_of(last, sizeof(op));             // the block that ran last
 *         prev/slot/prev_epoch from tb, pc, t->start_epoch  // so that find can chain it
 *     }
 *
 * Ownership. A struct coremu_tb_cpu and its cache belong to the core's thread, except the
 * maintenance words (documented in lib/tb.c) that other cores post to. The engine is shared by
 * every core of a machine; its code-page table is lock-free.
 */
#ifndef COREMU_TB_H
#define COREMU_TB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/cpu.h>
#include <coremu/log.h>

/* Blocks that may follow each other by direct chaining before control goes back to the block
 * loop. Every chained boundary polls the runtime exactly as the loop does, so this bound is not
 * what keeps interrupts or stops prompt: it bounds the host stack, which grows with each block
 * where the compiler does not turn the tail calls into jumps (-O0, sanitizers). */
#define COREMU_TB_CHAIN_MAX 32u

/* Guest pages as the engine tracks code: 4 KiB, whatever the architecture's MMU maps. */
#define COREMU_TB_PAGE_BITS 12
#define COREMU_TB_PAGE_SIZE (1u << COREMU_TB_PAGE_BITS)
/* Physical addresses the code-page table covers: 52 bits (x86_64's architectural maximum). */
#define COREMU_TB_PHYS_BITS 52

/* The generic type of a threaded handler, for the engine's side of the header. */
typedef void (*coremu_uop_any_fn)(void);

/*
 * The first members of every architecture's micro-op, in this order:
 *   tfn    threaded handler (typed by the architecture: it takes its own cpu and op types);
 *   pc     guest virtual address of the instruction (the sentinel's: where the block ends);
 *   index  position in its block (the sentinel's: the number of instructions), set by the
 *          engine, so that a block's exit finds its block and counts what it executed;
 *   len    bytes of the instruction.
 * The architecture's payload follows. The project builds with -fno-strict-aliasing, and the
 * engine reads only these members, through struct coremu_uop.
 */
#define COREMU_UOP_HEADER(tfn_type)                                                               \
    tfn_type tfn;                                                                                 \
    uint64_t pc;                                                                                  \
    uint16_t index;                                                                               \
    uint8_t len

struct coremu_uop {
    COREMU_UOP_HEADER(coremu_uop_any_fn);
};

/* Put beside an architecture's micro-op type: fails the build if it does not start with the
 * header. */
#define COREMU_UOP_CHECK(type)                                                                    \
    _Static_assert(offsetof(type, tfn) == offsetof(struct coremu_uop, tfn) &&                    \
                       offsetof(type, pc) == offsetof(struct coremu_uop, pc) &&                  \
                       offsetof(type, index) == offsetof(struct coremu_uop, index) &&            \
                       offsetof(type, len) == offsetof(struct coremu_uop, len) &&                \
                       sizeof(type) % _Alignof(struct coremu_uop) == 0,                          \
                   #type " must begin with COREMU_UOP_HEADER")

/* A translated block. Owner-private (it lives in its core's arena). */
struct coremu_tb {
    uint64_t pc;            /* virtual address of the first instruction */
    uint64_t end_pc;        /* address after the last instruction */
    uint64_t phys[2];       /* physical page of the code; phys[1] ~0 unless it crosses */
    const uint8_t *host[2]; /* host address of the code on each page; NULL when not RAM */
    struct coremu_tb *hash_next;
    struct coremu_tb *page_next[2];
    uint8_t *code;          /* copy of the guest code, code_len[0] + code_len[1] bytes */
    uint32_t ctx;           /* the architecture's context word (mode, privilege...) */
    uint32_t gen;           /* cache generation the code was last known current in */
    uint16_t n_ops;         /* not counting the sentinel that follows them */
    uint16_t code_len[2];   /* bytes of code on each page */
    bool valid;
    /* n_ops micro-ops and the sentinel (ops->uop_size bytes each), then the block's
     * struct coremu_tb_exit. */
    _Alignas(16) unsigned char ops[];
};

/* A block's chain: its last successor per exit ([0] fall-through, [1] other), with what the
 * successor was found for (PC, context, epoch). It follows the sentinel, so that a block's exit,
 * which has just touched the sentinel, finds everything it checks in one place. Owner-private. */
struct coremu_tb_exit {
    struct coremu_tb *succ[2];
    uint64_t pc[2];
    uint32_t ctx[2]; /* ~0 (no context has all bits): nothing chained */
    uint32_t epoch[2];
};

struct coremu_tb_cache;
struct coremu_tb_engine;
struct coremu_tb_decoder;

/* What decode says of the instruction it was given. */
enum coremu_tb_decoded {
    COREMU_TB_NEXT,  /* decoded; the block may go on */
    COREMU_TB_END,   /* decoded; the block ends after it (it may branch or change the context) */
    COREMU_TB_STOP,  /* not decoded: it crosses into a page the block may not read (see
                      * coremu_tb_fetch); the block ends before it */
};

struct coremu_tb_ops {
    size_t uop_size;       /* sizeof the architecture's micro-op (COREMU_UOP_CHECK'd) */
    unsigned max_ops;      /* instructions per block, at most 4096 */
    unsigned max_insn_len; /* longest instruction in bytes */
    /* The architecture's pending bit (>= COREMU_PENDING_ARCH0) that tells a core that another
     * posted maintenance to it. The engine kicks it and clears it; the architecture calls
     * coremu_tb_maint_process when it sees it, at block boundaries and in every wait that runs
     * no guest code. It should not be a wake-up bit of sleeps: a sleeping core runs no code. */
    uint32_t maint_pending;

    /* Translates an instruction fetch at vaddr in the core's current regime: returns the host
     * address of that byte when it is RAM, else NULL; *paddr gets the physical address either
     * way. A fault does not return (the architecture raises its prefetch abort / page fault and
     * leaves through its own escape). */
    const uint8_t *(*translate_exec)(void *cpu, uint64_t vaddr, uint64_t *paddr);
    /* Reads size (1, 2 or 4) bytes of code that is not in RAM (ROM devices, MMIO). */
    uint64_t (*fetch_io)(void *cpu, uint64_t vaddr, unsigned size);
    /* Decodes the instruction at d->pc into op (zeroed by the engine, uop_size bytes), reading
     * its bytes in order through coremu_tb_fetch. The engine sets op->pc, op->len (the bytes
     * fetched) and op->index afterwards. */
    enum coremu_tb_decoded (*decode)(void *cpu, struct coremu_tb_decoder *d,
                                     struct coremu_uop *op);
    /* Fills the sentinel that follows the last instruction (its tfn: the fall-through exit).
     * The engine sets its pc (the block's end) and index. */
    void (*end_block)(void *cpu, const struct coremu_tb *tb, struct coremu_uop *sentinel);
    /* This core starts translating code from the physical page: drop its TLB entries that let
     * stores reach the page without coming to coremu_tb_code_written. */
    void (*tlb_protect_page)(void *cpu, uint64_t page);
    /* Drop this core's fast store entries of every page that holds code now. */
    void (*tlb_protect_code)(void *cpu);
    /* Drop every TLB entry of this core (posted TLB maintenance). */
    void (*tlb_flush_all)(void *cpu);
};

/* Per-core state of the engine, embedded in the architecture's CPU. */
struct coremu_tb_cpu {
    /* Immutable after coremu_tb_cpu_init. */
    struct coremu_tb_engine *engine;
    struct coremu_tb_cache *cache;
    struct coremu_cpu *rt; /* the runtime's core; NULL in tests that run without one */
    void *arch;            /* the architecture's CPU, passed to the ops */
    unsigned index;        /* core number in the engine */

    /* Bumped by everything that may change what a virtual PC translates to or what a block
     * holds (TLB flushes, block invalidation): chained successors and jump-cache entries are
     * only followed within one epoch. Written by the owner, or by a stopper while the owner is
     * parked; read by the owner. */
    uint32_t epoch;
    /* Owner-private: the epoch when the blocks executing now started, and how many more blocks
     * may follow by direct chaining before control must go back to the block loop. */
    uint32_t start_epoch;
    uint32_t chain_budget;
    /* Owner-private statistics (tests, logging). */
    uint64_t blocks_built;
    uint64_t blocks_chained;
};

/* Work that one core posts to another (coremu_tb_broadcast). */
enum {
    COREMU_TB_MAINT_TLB = 1u << 0, /* flush the whole TLB */
    COREMU_TB_MAINT_IC = 1u << 1,  /* re-validate every block by content */
    /* Not waited for by anyone: a page got code, drop fast store entries of code pages. */
    COREMU_TB_MAINT_CODE_WRITES = 1u << 2,
};

/* The reading side of a decode. The architecture reads pc, ctx, n and its scratch word; the
 * rest is the engine's. */
struct coremu_tb_decoder {
    struct coremu_tb_cpu *t;
    uint64_t pc;    /* address of the instruction being decoded */
    uint32_t ctx;   /* the block's context word */
    unsigned n;     /* its position in the block */
    uint64_t state; /* the architecture's, 0 at the block's start (e.g. Thumb's IT state) */
    /* Engine-private. */
    uint64_t next;          /* address of the next byte coremu_tb_fetch will read */
    uint64_t phys[2];
    const uint8_t *host[2]; /* page base of each page's host copy, NULL when not RAM */
    unsigned code_len[2];
    unsigned page;          /* page of `next`: 0 or 1 */
    uint8_t *code;
    size_t code_cap;
};

/* ---- engine and per-core set-up ----------------------------------------------------------- */

/* A machine's engine for ncores cores (any number: the runtime's tests run 256). NULL when out
 * of memory. */
struct coremu_tb_engine *coremu_tb_engine_new(const struct coremu_tb_ops *ops, unsigned ncores);
void coremu_tb_engine_free(struct coremu_tb_engine *engine);
/* How many cores are registered (coremu_tb_cpu_init, not yet destroyed): the owner frees the
 * engine after the last one. */
unsigned coremu_tb_engine_cores(const struct coremu_tb_engine *engine);
/* Registers core index (< ncores) of engine: allocates its cache and arena. 0, or -1 when out
 * of memory. Before the core's thread starts. */
int coremu_tb_cpu_init(struct coremu_tb_cpu *t, struct coremu_tb_engine *engine,
                       struct coremu_cpu *rt, void *arch, unsigned index);
void coremu_tb_cpu_destroy(struct coremu_tb_cpu *t);

/* Owner, at power-on: empty cache, no maintenance owed to or by this core (a core that was off
 * missed every broadcast, and flushes everything instead). */
void coremu_tb_power_on(struct coremu_tb_cpu *t);

/* ---- finding and running blocks ----------------------------------------------------------- */

/*
 * The block for pc in context ctx: through prev's chain when nothing changed since it was made,
 * else through the jump cache likewise, else by hash lookup (translating pc, which may fault
 * and not return), else newly built. Links prev's exit slot to it when prev_epoch is still
 * current. Applies a pending flush first.
 */
struct coremu_tb *coremu_tb_find(struct coremu_tb_cpu *t, uint64_t pc, uint32_t ctx,
                                 struct coremu_tb *prev, unsigned slot, uint32_t prev_epoch);

/* Before running a block from the loop. */
static inline void coremu_tb_exec_begin(struct coremu_tb_cpu *t)
{
    t->chain_budget = COREMU_TB_CHAIN_MAX;
    t->start_epoch = t->epoch;
}

/* The block that op (one of its micro-ops or its sentinel) belongs to. */
static inline struct coremu_tb *coremu_tb_of(const void *op, size_t uop_size)
{
    const struct coremu_uop *u = op;
    return (struct coremu_tb *)((uintptr_t)u - (size_t)u->index * uop_size -
                                offsetof(struct coremu_tb, ops));
}

/* The exit slot the loop passes to coremu_tb_find for the block that ran last. */
static inline unsigned coremu_tb_exit_slot(const struct coremu_tb *tb, uint64_t next_pc)
{
    return next_pc == tb->end_pc ? 0u : 1u;
}

/* Out-of-line part of coremu_tb_chain: the jump cache. */
struct coremu_tb *coremu_tb_exit_lookup(struct coremu_tb_cpu *t, struct coremu_tb_exit *x,
                                        unsigned slot, uint64_t pc, uint32_t ctx);

/*
 * The end of a block, from the architecture's exit handlers: end is the block's sentinel, pc
 * and ctx where execution continues. Returns the successor block to enter directly when the
 * block loop would do nothing else at this boundary: the successor is the one the loop would
 * find first (the exit's chain, or the jump cache, under coremu_tb_find's epoch and context
 * rules), nothing is pending for the runtime (coremu_cpu_poll, exactly as the loop calls it, so
 * the clock countdown still counts every boundary), no flush or logging waits (a flush request
 * moves the epoch), and the chain budget is not spent. NULL: return to the loop, which does the
 * boundary's work; a poll that returned true here leaves a pending bit set, so the loop's poll
 * sees it too.
 */
static inline __attribute__((always_inline)) struct coremu_tb *
coremu_tb_chain(struct coremu_tb_cpu *t, const struct coremu_uop *end, size_t uop_size,
                uint64_t pc, uint32_t ctx)
{
    /* The arena is writable: the exit's chain is updated through the block's micro-ops. */
    struct coremu_tb_exit *x = (struct coremu_tb_exit *)((uintptr_t)end + uop_size);
    uint32_t epoch = t->epoch;
    unsigned slot = pc != end->pc;
    struct coremu_tb *succ = x->succ[slot];

    if (__builtin_expect(x->epoch[slot] != epoch || x->pc[slot] != pc || x->ctx[slot] != ctx,
                         0)) {
        succ = coremu_tb_exit_lookup(t, x, slot, pc, ctx);
        if (!succ) {
            return NULL;
        }
    }
    if (t->chain_budget == 0 || epoch != t->start_epoch ||
        coremu_log_enabled(COREMU_LOG_CPU | COREMU_LOG_EXEC) || coremu_cpu_poll(t->rt)) {
        return NULL;
    }
    t->chain_budget--;
    return succ;
}

/* Reads the next size bytes of the instruction being decoded (d->pc onwards, in order, each
 * byte once), little-endian. False when they cross into the next page and the instruction is
 * not the block's first: the architecture then returns COREMU_TB_STOP, and the instruction
 * starts a block of its own, alone, so that a fault on either page is reported for it. A
 * crossing first instruction translates the second page (which may fault and not return). */
bool coremu_tb_fetch(struct coremu_tb_decoder *d, unsigned size, uint64_t *value);

/* ---- invalidation and maintenance --------------------------------------------------------- */

/* Drop every block of this core at the next block boundary (at once, if called there). */
void coremu_tb_flush(struct coremu_tb_cpu *t);
/* Every block of this core is re-validated by content before it runs again (I-cache
 * invalidation: blocks stay, cheap when nothing changed). */
void coremu_tb_invalidate_code(struct coremu_tb_cpu *t);
/* Whether some core holds blocks translated from the physical page of pa (acquire): the TLB
 * marks such pages so that stores to them come to coremu_tb_code_written. */
bool coremu_tb_page_has_code(const struct coremu_tb_engine *engine, uint64_t pa);
/* A store hit a page holding translated code (after the store): drops this core's blocks of the
 * page now, and has every other core that translated code there re-validate its blocks at its
 * next block boundary. */
void coremu_tb_code_written(struct coremu_tb_cpu *t, uint64_t pa);

/* What an architecture's tlb_protect_code and tlb_protect_page usually do, over its n TLB
 * entries (any number of TLBs laid out one after another): drop the fast store tag of every
 * entry whose physical page holds translated code now, or of every entry of page. */
struct coremu_tlb_entry;
void coremu_tlb_protect_code(const struct coremu_tb_engine *engine, struct coremu_tlb_entry *tlb,
                             size_t n);
void coremu_tlb_protect_page(struct coremu_tlb_entry *tlb, size_t n, uint64_t page);

/* Posts work (COREMU_TB_MAINT_*) to every other powered-on core, with tickets that the next
 * coremu_tb_sync of this core waits for. */
void coremu_tb_broadcast(struct coremu_tb_cpu *t, uint32_t work);
/* A full host fence, then waits until every core this core posted to has applied the work (or
 * cannot run guest code before it does: off, or asleep), serving this core's own runtime work
 * and posted maintenance meanwhile, so that cores waiting on each other make progress. False
 * when the runtime says the core must leave its loop (or *leave became true). */
bool coremu_tb_sync(struct coremu_tb_cpu *t, const bool *leave);
/* Applies the maintenance other cores posted to this one (ops->maint_pending). */
void coremu_tb_maint_process(struct coremu_tb_cpu *t);

#endif /* COREMU_TB_H */
