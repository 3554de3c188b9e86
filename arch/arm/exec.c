/*
 * coremu ARM — the CPU loop: translation blocks, their per-core cache, the block executor,
 * interrupts at block boundaries, and the cross-core maintenance that keeps translations right
 * (code-page writes, TLB and I-cache maintenance broadcast, DSB).
 *
 * Translation cache. Each core owns its cache; nothing in it is shared, so lookups take no
 * lock. A block is keyed by its virtual PC and a context word (Thumb, privilege, the IT state
 * at its start) and validated by the physical page its PC translates to now, so a block stays
 * usable across address spaces without ASID tagging. Blocks live in a bump arena that is reset
 * only at a block boundary (when it fills up or on request), so a block pointer stays valid for
 * the whole of the block's execution even if the block is invalidated meanwhile.
 *
 * Chaining. A block remembers its last successor per exit (fall-through, taken) together with
 * cpu->tb_epoch (struct arm_tb_exit, after the block's micro-ops); anything that may change
 * the meaning of a virtual PC (TLB maintenance, block invalidation) bumps the epoch, so a
 * chain is followed only if nothing changed since it was made, and the context word must
 * still match. Exits whose successor varies (returns, other indirect branches) go through a
 * small per-core jump cache under the same rule: the block last found for a PC and context,
 * kept with the epoch it was found in. A block's last handler follows the chain itself
 * (arm_block_exit) when the block loop would have nothing else to do at that boundary: the
 * runtime's poll is made there exactly as the loop makes it, so pending work is still taken
 * at the next boundary and the clock countdown still counts every boundary; at most
 * TB_CHAIN_MAX blocks follow each other so before control returns to the loop.
 *
 * Specialisation. After decoding, the builder lets ops_dp.c and ops_ldst.c swap a general
 * handler for an equivalent one specialised to its operands (no PC operand, constant shift).
 *
 * Threaded execution. A block runs by calling its first micro-op's threaded handler (tfn),
 * which tail-calls the next one's, and so on until a branch or the sentinel micro-op after the
 * last instruction: no dispatch loop between instructions, and an indirect jump per handler,
 * which predicts far better than one shared call site. Always-executed instructions outside
 * IT blocks get the threaded form of their specialised handler (ops_dp.c, ops_ldst.c; B and BL
 * here), and so do conditional ones outside IT blocks (a _cc form that tests the condition
 * first); every other one a generic threaded handler that does what a dispatch loop would:
 * record cur_op, keep CPSR.IT, test the condition, call fn.
 *
 * Code changes. Stores: pages from which some core translated code carry a per-page mask of
 * those cores (code_pages); the TLB marks writable entries of such pages ARM_TLBF_CODE, and the
 * slow store path (memory.c) then drops the page's blocks here at once, and has the other
 * cores re-validate theirs at their next block boundary. I-cache maintenance: ICIALLU bumps
 * the cache's generation; a block from an older generation is re-validated by comparing the
 * guest code it was built from with memory (cheap), which also catches code that DMA wrote
 * behind every core's back.
 */
#include "config.h"

#include <setjmp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <coremu/cpu.h>
#include <coremu/log.h>

#include "board.h"
#include "cpu.h"
#include "ops.h"

#define TB_MAX_OPS 64u
#define TB_HASH_BITS 15u
#define TB_HASH_SIZE (1u << TB_HASH_BITS)
#define TB_PAGE_HASH_BITS 12u
#define TB_PAGE_HASH_SIZE (1u << TB_PAGE_HASH_BITS)
#define TB_JMP_BITS 10u
#define TB_JMP_SIZE (1u << TB_JMP_BITS)
#define TB_ARENA_SIZE (64u << 20)
#define ARM_MAX_CPUS 64u
/* Blocks that may follow each other by direct chaining (arm_block_exit) before control goes
 * back to the block loop. Every chained boundary polls the runtime exactly as the loop does,
 * so this bound is not what keeps interrupts or stops prompt: it bounds the host stack, which
 * grows with each block where the compiler does not turn the tail calls into jumps
 * (-O0, sanitizers). */
#define TB_CHAIN_MAX 32u

/* Context word of a block. */
#define TBF_THUMB 1u
#define TBF_PRIV 2u
#define TBF_IT_SHIFT 8

struct arm_tb {
    uint32_t pc;
    uint32_t flags;         /* TBF_* and the IT state at the block's start */
    uint32_t phys[2];       /* physical page of the code; phys[1] ~0 unless it crosses */
    uint32_t end_pc;        /* address after the last instruction */
    uint32_t gen;           /* cache generation the code was last known current in */
    uint16_t n_ops;         /* not counting the sentinel that follows them (tb_exec) */
    uint16_t code_len[2];   /* bytes of code on each page */
    bool valid;
    const uint8_t *host[2]; /* host address of the code on each page; NULL when not RAM */
    struct arm_tb *hash_next;
    struct arm_tb *page_next[2];
    uint8_t *code;          /* copy of the guest code, code_len[0] + code_len[1] bytes */
    /* n_ops micro-ops, the sentinel, then the block's struct arm_tb_exit (tb_exit_of). */
    struct arm_uop ops[];
};

/* A block's chain: its last successor per exit ([0] fall-through, [1] other), with what the
 * successor was found for (PC, context, epoch). It follows the sentinel rather than sitting in
 * struct arm_tb so that a block's exit, which has just touched the sentinel, finds everything
 * it checks in one place, without a look at the block's (or the successor's) header.
 * Owner-private. */
struct arm_tb_exit {
    struct arm_tb *succ[2];
    uint32_t pc[2];
    uint32_t flags[2];      /* ~0 (no context has all bits): nothing chained */
    uint32_t epoch[2];
};

/* A block found for a virtual PC in a context during one epoch (tb_find). */
struct arm_tb_jmp {
    uint32_t pc;
    uint32_t flags;
    uint32_t epoch;
    struct arm_tb *tb; /* NULL: empty */
};

struct arm_tb_cache {
    /* Owner-private. */
    uint8_t *arena;
    size_t arena_used;
    struct arm_tb *hash[TB_HASH_SIZE];
    struct arm_tb *page_hash[TB_PAGE_HASH_SIZE];
    /* Direct-mapped by PC: what the last lookup of a PC found, valid while cpu->tb_epoch has
     * not moved (the same rule as a chain, without the predecessor: it serves the exits that
     * vary, returns and other indirect branches). */
    struct arm_tb_jmp jmp[TB_JMP_SIZE];
    uint32_t gen;
    bool flush_pending;
    /* Tickets this core waits for at its next DSB, per target core (0: none). */
    uint64_t maint_ticket[ARM_MAX_CPUS];
    bool maint_any;
    struct arm_uop tmp_ops[TB_MAX_OPS + 1];
    uint8_t tmp_code[TB_MAX_OPS * 4 + 4];

    /* Maintenance requested by other cores. A requester ORs the work into maint_flags
     * (seq_cst), then takes a ticket from maint_req_seq (fetch_add, seq_cst) and kicks
     * ARM_PENDING_MAINT. The owner reads maint_req_seq (acquire), takes the flags (exchange,
     * acq_rel), applies them, and publishes the ticket it read in maint_done_seq (release):
     * every request whose ticket is <= maint_done_seq has been applied. */
    _Alignas(64) _Atomic uint32_t maint_flags;
    _Atomic uint64_t maint_req_seq;
    _Atomic uint64_t maint_done_seq;
};

enum {
    MAINT_TLB_FLUSH = 1u << 0,
    MAINT_IC_INVAL = 1u << 1,
    /* Not waited for by anyone: a page got code, drop fast write entries of code pages. */
    MAINT_CODE_WRITES = 1u << 2,
};

/* Posts work to another core without a ticket (nobody waits for it). */
static void maint_post(struct arm_cpu *other, uint32_t work)
{
    atomic_fetch_or_explicit(&other->tbs->maint_flags, work, memory_order_seq_cst);
    coremu_cpu_kick(other->rt, ARM_PENDING_MAINT);
}

/*
 * Per physical page (32-bit physical space, 4 KB pages): the cores (bit index % 64) that hold
 * blocks translated from it. Set by a translating core (fetch_or, seq_cst) before it reads the
 * code; taken whole by a storing core (exchange, seq_cst) after its store; read by TLB fills
 * (acquire). 8 MB of zero pages until touched.
 */
static _Atomic uint64_t code_pages[1u << 20];

static inline bool cond_passed(uint32_t nzcv, unsigned cond)
{
    return arm_cond_pass(nzcv, cond);
}

bool arm_condition_passed(uint32_t nzcv, unsigned cond)
{
    return cond_passed(nzcv, cond);
}

static inline unsigned cpu_index(const struct arm_cpu *cpu)
{
    return cpu->rt ? cpu->rt->index : 0;
}

static inline bool core_on(const struct arm_cpu *cpu)
{
    return cpu->rt && atomic_load_explicit(&cpu->rt->power, memory_order_acquire) == COREMU_CPU_ON;
}

/* ---- the cache ---------------------------------------------------------------------------- */

struct arm_tb_cache *arm_tb_cache_new(void)
{
    struct arm_tb_cache *tbc = aligned_alloc(64, (sizeof(*tbc) + 63) & ~(size_t)63);

    if (!tbc) {
        return NULL;
    }
    memset(tbc, 0, sizeof(*tbc));
    void *arena = mmap(NULL, TB_ARENA_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (arena == MAP_FAILED) {
        free(tbc);
        return NULL;
    }
    tbc->arena = arena;
    atomic_init(&tbc->maint_flags, 0);
    atomic_init(&tbc->maint_req_seq, 0);
    atomic_init(&tbc->maint_done_seq, 0);
    return tbc;
}

void arm_tb_cache_free(struct arm_tb_cache *tbc)
{
    if (!tbc) {
        return;
    }
    munmap(tbc->arena, TB_ARENA_SIZE);
    free(tbc);
}

static inline unsigned tb_hash(uint32_t pc, uint32_t flags)
{
    uint32_t h = (pc >> 1) ^ (flags * 0x9e3779b1u);
    h ^= h >> TB_HASH_BITS;
    return h & (TB_HASH_SIZE - 1);
}

static inline unsigned page_hash(uint32_t page)
{
    return (page >> ARM_PAGE_BITS) & (TB_PAGE_HASH_SIZE - 1);
}

/* Only at a block boundary: no block is executing. */
static void tb_flush_now(struct arm_cpu *cpu)
{
    struct arm_tb_cache *tbc = cpu->tbs;

    memset(tbc->hash, 0, sizeof(tbc->hash));
    memset(tbc->page_hash, 0, sizeof(tbc->page_hash));
    /* The epoch moves below as well; clearing also drops the pointers into the arena. */
    memset(tbc->jmp, 0, sizeof(tbc->jmp));
    /* Give the used part back to the host, so that a core whose working set shrank does not
     * keep its high-water mark resident. */
    if (tbc->arena_used > 0) {
        madvise(tbc->arena, (tbc->arena_used + 4095) & ~(size_t)4095, MADV_DONTNEED);
    }
    tbc->arena_used = 0;
    tbc->flush_pending = false;
    cpu->tb_epoch++;
}

void arm_tb_flush(struct arm_cpu *cpu)
{
    /* Lookups only happen at block boundaries, which check this first. */
    cpu->tbs->flush_pending = true;
    cpu->tb_epoch++;
}

static void hash_remove(struct arm_tb_cache *tbc, struct arm_tb *tb)
{
    struct arm_tb **pp = &tbc->hash[tb_hash(tb->pc, tb->flags)];

    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == tb) {
            *pp = tb->hash_next;
            return;
        }
    }
}

static void tb_invalidate(struct arm_cpu *cpu, struct arm_tb *tb)
{
    if (tb->valid) {
        tb->valid = false;
        hash_remove(cpu->tbs, tb);
        cpu->tb_epoch++;
    }
}

/* Drops this core's blocks on the physical page (any time: blocks are not freed). */
static void invalidate_page(struct arm_cpu *cpu, uint32_t page)
{
    struct arm_tb_cache *tbc = cpu->tbs;
    unsigned b = page_hash(page);
    struct arm_tb **pp = &tbc->page_hash[b];

    while (*pp) {
        struct arm_tb *tb = *pp;
        unsigned k = page_hash(tb->phys[0]) == b ? 0 : 1;
        if (!tb->valid || tb->phys[0] == page || tb->phys[1] == page) {
            *pp = tb->page_next[k];
            tb_invalidate(cpu, tb);
        } else {
            pp = &tb->page_next[k];
        }
    }
}

/* ---- code pages --------------------------------------------------------------------------- */

bool arm_page_has_code(uint32_t pa)
{
    return atomic_load_explicit(&code_pages[pa >> ARM_PAGE_BITS], memory_order_acquire) != 0;
}

/* Before translating code of the page: from now on stores to it must come to
 * arm_code_written. */
static void mark_code_page(struct arm_cpu *cpu, uint32_t page)
{
    uint64_t bit = 1ull << (cpu_index(cpu) & 63);
    uint64_t old = atomic_fetch_or_explicit(&code_pages[page >> ARM_PAGE_BITS], bit,
                                            memory_order_seq_cst);

    if (old & bit) {
        return;
    }
    arm_tlb_flush_phys(cpu, page, true);
    if (old != 0) {
        /* Entries filled since the mask became non-zero are already marked. */
        return;
    }
    /* Other cores may hold fast write entries filled while no core had code here. Dropping
     * them asynchronously (at their next block boundary; a sleeping core is not woken) is
     * enough: without I-cache maintenance the architecture promises nothing about another
     * core's stores to code, and with it the blocks are re-validated. */
    struct arm_board *board = cpu->board;
    for (unsigned i = 0; i < board->ncpus; i++) {
        struct arm_cpu *other = board->cpus[i];
        if (other && other != cpu && core_on(other)) {
            maint_post(other, MAINT_CODE_WRITES);
        }
    }
}

void arm_code_written(struct arm_cpu *cpu, uint32_t pa)
{
    uint32_t page = pa & ARM_PAGE_MASK;
    uint64_t old = atomic_exchange_explicit(&code_pages[page >> ARM_PAGE_BITS], 0,
                                            memory_order_seq_cst);
    unsigned me = cpu_index(cpu) & 63;

    if (old & (1ull << me)) {
        invalidate_page(cpu, page);
    }
    struct arm_board *board = cpu->board;
    /* The other cores that translated code here re-validate their blocks by content at
     * their next block boundary (coarser than this page, but allocation-free and cheap). */
    for (unsigned i = 0; i < board->ncpus && old; i++) {
        struct arm_cpu *other = board->cpus[i];
        if (other && other != cpu && (old & (1ull << (i & 63))) && core_on(other)) {
            maint_post(other, MAINT_IC_INVAL);
        }
    }
    /* No core has code there now: let this core's next stores take the fast path. */
    arm_tlb_flush_phys(cpu, page, true);
}

/* ---- building blocks ---------------------------------------------------------------------- */

static enum arm_uop_result op_undefined(struct arm_cpu *cpu, const struct arm_uop *op)
{
    arm_undefined(cpu, op);
}

static inline uint32_t code_load16(const uint8_t *p)
{
    uint16_t v = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    return v;
}

static inline uint8_t it_advance(uint8_t it)
{
    return (it & 7) ? (uint8_t)((it & 0xe0) | ((it << 1) & 0x1f)) : 0;
}

static inline uint32_t tb_context(const struct arm_cpu *cpu)
{
    uint32_t f = 0;

    if (cpu->cpsr_rest & ARM_CPSR_T) {
        f |= TBF_THUMB | ((uint32_t)(cpu->cpsr_it & 0xff) << TBF_IT_SHIFT);
    }
    if (arm_cpu_privileged(cpu)) {
        f |= TBF_PRIV;
    }
    return f;
}

/* Reads the next instruction: from the page's host copy when RAM, else through arm_fetch. */
static uint32_t fetch_part(struct arm_cpu *cpu, const uint8_t *host, uint32_t addr, unsigned size)
{
    if (host) {
        const uint8_t *p = host + (addr & ~ARM_PAGE_MASK);
        uint32_t v = code_load16(p);
        if (size == 4) {
            v |= code_load16(p + 2) << 16;
        }
        return v;
    }
    return arm_fetch(cpu, addr, size);
}

static void save_code(uint8_t *dst, uint32_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        dst[i] = (uint8_t)(v >> (8 * i));
    }
}

/* ---- threaded handlers of the executor ---------------------------------------------------- */

static const struct arm_uop *thr_end(struct arm_cpu *cpu, const struct arm_uop *op);

static inline struct arm_tb_exit *tb_exit_of(struct arm_tb *tb)
{
    return (struct arm_tb_exit *)&tb->ops[tb->n_ops + 1];
}

static inline void chain_set(struct arm_tb_exit *x, unsigned slot, struct arm_tb *tb,
                             uint32_t epoch)
{
    x->succ[slot] = tb;
    x->pc[slot] = tb->pc;
    x->flags[slot] = tb->flags;
    x->epoch[slot] = epoch;
}

static inline unsigned jmp_hash(uint32_t pc)
{
    return ((pc >> 1) ^ (pc >> (1 + TB_JMP_BITS))) & (TB_JMP_SIZE - 1);
}

/* The block exit's second chance when the chain does not match: the jump cache (the exits
 * whose successor varies), under tb_find's rules. Links the exit to what it finds. */
static __attribute__((noinline)) struct arm_tb *exit_lookup(struct arm_cpu *cpu,
                                                            struct arm_tb_exit *x, unsigned slot,
                                                            uint32_t pc, uint32_t flags)
{
    const struct arm_tb_jmp *j = &cpu->tbs->jmp[jmp_hash(pc)];

    if (!j->tb || j->pc != pc || j->flags != flags || j->epoch != cpu->tb_epoch) {
        return NULL;
    }
    chain_set(x, slot, j->tb, cpu->tb_epoch);
    return j->tb;
}

/*
 * The end of a block: next is the micro-op after the last one that executed (the sentinel, or
 * the one after a branch), cpu->next_pc where execution continues. Passes control straight on
 * to the successor block when the block loop would do nothing else at this boundary: the
 * successor is the one the loop would find first (the block's chain for the exit, or the jump
 * cache, under tb_find's epoch and context rules), nothing is pending for the runtime
 * (coremu_cpu_poll, exactly as the loop calls it, so the clock countdown still counts every
 * boundary), no flush or logging waits (a flush request moves the epoch), and the chain
 * budget is not spent. Otherwise returns next to the block loop, which does the boundary's
 * work; a poll that returned true here leaves a pending bit set, so the loop's poll sees it
 * too. An exit from inside a block (a conditional PC write that was not the last instruction)
 * always goes back to the loop. Inlined into each exit handler, so that each has its own
 * indirect jump to predict.
 */
static inline __attribute__((always_inline)) const struct arm_uop *
arm_block_exit(struct arm_cpu *cpu, const struct arm_uop *next)
{
    if (next->tfn != thr_end) {
        return next;
    }
    /* The arena is writable: the exit's chain is updated through the block's micro-ops. */
    struct arm_tb_exit *x = (struct arm_tb_exit *)(uintptr_t)(next + 1);
    uint32_t epoch = cpu->tb_epoch;
    uint32_t target = cpu->next_pc;
    unsigned slot = target != next->pc;
    uint32_t pc = target & ((cpu->cpsr_rest & ARM_CPSR_T) ? ~1u : ~3u);
    uint32_t flags = tb_context(cpu);
    struct arm_tb *succ = x->succ[slot];

    if (__builtin_expect(x->epoch[slot] != epoch || x->pc[slot] != pc || x->flags[slot] != flags,
                         0)) {
        succ = exit_lookup(cpu, x, slot, pc, flags);
        if (!succ) {
            return next;
        }
    }
    if (cpu->chain_budget == 0 || epoch != cpu->tb_start_epoch ||
        coremu_log_enabled(COREMU_LOG_CPU | COREMU_LOG_EXEC) || coremu_cpu_poll(cpu->rt)) {
        return next;
    }
    cpu->chain_budget--;
    cpu->insns_executed += next->index;
    cpu->cur_op = NULL;
    cpu->r[15] = pc;
    return succ->ops[0].tfn(cpu, succ->ops);
}


/* An always-executed instruction outside IT blocks without a threaded form of its own: as
 * arm_thread_general (ops_branch.c, which the specialised forms take for their slow paths and
 * which never branch there), but a branch leaves through the block exit. */
static const struct arm_uop *thr_general(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->cur_op = op;
    if (op->fn(cpu, op) == ARM_BRANCH) {
        return arm_block_exit(cpu, op + 1);
    }
    ARM_THREAD_NEXT(cpu, op);
}

/* Any instruction: what a dispatch loop does per instruction, then the next one. cpu->cur_op
 * is set for exceptions inside fn. While an instruction executes the CPSR holds the IT state
 * of the next one, so that a branch or an SVC leaves the right state behind (exceptions inside
 * the instruction save op->itstate instead, exception.c). Writing it for itstate 0 is not
 * needed (the state is already 0 then: see tb_exec), but costs less than a test. */
static const struct arm_uop *thr_generic_cond(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->cur_op = op;
    cpu->cpsr_it = it_advance(op->itstate);
    if (cond_passed(cpu->cpsr_nzcv, op->cond) && op->fn(cpu, op) == ARM_BRANCH) {
        return arm_block_exit(cpu, op + 1);
    }
    ARM_THREAD_NEXT(cpu, op);
}

/* The sentinel after a block's last instruction: execution falls through to op->pc, the
 * block's end. */
static const struct arm_uop *thr_end(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->next_pc = op->pc;
    return arm_block_exit(cpu, op);
}

/* B, B<c> outside IT blocks (its condition tested here), BL: as arm_op_B/arm_op_BL. */
static const struct arm_uop *thr_B(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->next_pc = op->imm;
    return arm_block_exit(cpu, op + 1);
}

static const struct arm_uop *thr_Bcc(struct arm_cpu *cpu, const struct arm_uop *op)
{
    if (cond_passed(cpu->cpsr_nzcv, op->cond)) {
        cpu->next_pc = op->imm;
        return arm_block_exit(cpu, op + 1);
    }
    ARM_THREAD_NEXT(cpu, op);
}

static const struct arm_uop *thr_BL(struct arm_cpu *cpu, const struct arm_uop *op)
{
    uint32_t next = op->pc + op->len;
    cpu->r[14] = (op->flags & ARM_UOP_THUMB) ? next | 1u : next;
    cpu->next_pc = op->imm;
    return arm_block_exit(cpu, op + 1);
}

/* Chooses op->tfn once fn is final; a specialiser may have offered one already, which tests
 * op->cond itself when the instruction is conditional (but knows nothing of IT blocks). */
static void thread_op(struct arm_uop *op)
{
    bool always = op->cond >= 0xe && op->itstate == 0;

    if (op->fn == arm_op_B && op->itstate == 0) {
        op->tfn = always ? thr_B : thr_Bcc;
    } else if (op->fn == arm_op_BL && always) {
        op->tfn = thr_BL;
    } else if (op->itstate != 0 || (!always && !op->tfn)) {
        op->tfn = thr_generic_cond;
    } else if (!op->tfn) {
        op->tfn = thr_general;
    }
}

/*
 * Translates a block at pc (whose physical page is phys0, host page base host0 or NULL).
 * Fetch faults escape as prefetch aborts; only the first instruction can fault (the others are
 * on the same page), and an instruction that crosses into the next page is always alone in its
 * block, so the abort is reported for the instruction that caused it.
 */
static struct arm_tb *tb_build(struct arm_cpu *cpu, uint32_t pc, uint32_t flags, uint32_t phys0,
                               const uint8_t *host0)
{
    struct arm_tb_cache *tbc = cpu->tbs;
    bool thumb = (flags & TBF_THUMB) != 0;
    uint8_t it = (uint8_t)(flags >> TBF_IT_SHIFT);
    uint32_t addr = pc;
    uint32_t phys1 = ~0u;
    const uint8_t *host1 = NULL;
    unsigned n = 0, len0 = 0, len1 = 0;
    bool log_asm = coremu_log_enabled(COREMU_LOG_IN_ASM);

    if (host0) {
        mark_code_page(cpu, phys0);
    }
    /* One instruction per block from non-RAM: its bytes cannot be re-validated cheaply. */
    unsigned max_ops = host0 ? TB_MAX_OPS : 1;

    while (n < max_ops) {
        struct arm_uop *op = &tbc->tmp_ops[n];
        uint32_t insn;
        unsigned len;
        bool crosses = false;
        uint8_t it_here = it;

        if (thumb) {
            uint32_t hw1 = fetch_part(cpu, host0, addr, 2);
            if ((hw1 >> 11) >= 0x1d) {
                if ((addr & ~ARM_PAGE_MASK) == (1u << ARM_PAGE_BITS) - 2) {
                    if (n > 0) {
                        break;
                    }
                    uint32_t pa1;
                    host1 = arm_mem_translate(cpu, addr + 2, ARM_ACCESS_EXEC, false, &pa1, NULL);
                    phys1 = pa1 & ARM_PAGE_MASK;
                    if (host1) {
                        host1 -= (addr + 2) & ~ARM_PAGE_MASK;
                        mark_code_page(cpu, phys1);
                    }
                    uint32_t hw2 = fetch_part(cpu, host1, addr + 2, 2);
                    save_code(tbc->tmp_code + len0, hw1, 2);
                    save_code(tbc->tmp_code + len0 + 2, hw2, 2);
                    len0 += 2;
                    len1 += 2;
                    insn = (hw1 << 16) | hw2;
                    crosses = true;
                } else {
                    uint32_t hw2 = fetch_part(cpu, host0, addr + 2, 2);
                    save_code(tbc->tmp_code + len0, hw1 | (hw2 << 16), 4);
                    len0 += 4;
                    insn = (hw1 << 16) | hw2;
                }
                len = 4;
            } else {
                insn = hw1;
                len = 2;
                save_code(tbc->tmp_code + len0, hw1, 2);
                len0 += 2;
            }
        } else {
            insn = fetch_part(cpu, host0, addr, 4);
            len = 4;
            save_code(tbc->tmp_code + len0, insn, 4);
            len0 += 4;
        }

        memset(op, 0, sizeof(*op));
        op->pc = addr;
        op->insn = insn;
        op->len = (uint8_t)len;
        op->cond = 0xe;
        if (thumb) {
            arm_decode_t32(addr, insn, len, it_here, op);
            op->flags |= ARM_UOP_THUMB;
            op->itstate = it_here;
            /* Inside an IT block the condition is the block's (the decoder should say so;
             * this covers a decoder that left it "always"). */
            if (it_here != 0 && op->cond == 0xe) {
                op->cond = (uint8_t)(it_here >> 4);
            }
            /* IT (outside an IT block, which would make it UNPREDICTABLE) sets the state of
             * the following instructions; every other instruction advances it. */
            if (len == 2 && it_here == 0 && (insn & 0xff00) == 0xbf00 && (insn & 0xf) != 0) {
                it = (uint8_t)(insn & 0xff);
            } else {
                it = it_advance(it_here);
            }
        } else {
            arm_decode_a32(addr, insn, op);
            op->itstate = 0;
        }
        op->pc = addr;
        op->len = (uint8_t)len;
        if (!op->fn) {
            op->fn = op_undefined;
        }
        /* The decoders' general handlers, swapped for faster equivalents where the operands
         * allow (ops_dp.c, ops_ldst.c). */
        if (!arm_dp_specialise(op)) {
            arm_ldst_specialise(op);
        }
        thread_op(op);
        op->index = (uint8_t)n;
        if (log_asm) {
            coremu_log(COREMU_LOG_IN_ASM, "cpu%u: %08x: %0*x%s\n", cpu_index(cpu), addr,
                       thumb && len == 2 ? 4 : 8, insn, thumb ? " (T)" : "");
        }
        n++;
        addr += len;
        if ((op->flags & ARM_UOP_ENDS_BLOCK) || crosses || (addr & ~ARM_PAGE_MASK) == 0) {
            break;
        }
    }

    struct arm_uop *sentinel = &tbc->tmp_ops[n];
    memset(sentinel, 0, sizeof(*sentinel));
    sentinel->tfn = thr_end;
    sentinel->pc = addr;
    sentinel->cond = 0xe;
    sentinel->index = (uint8_t)n;

    size_t size = sizeof(struct arm_tb) + (n + 1) * sizeof(struct arm_uop) +
                  sizeof(struct arm_tb_exit) + len0 + len1;
    size = (size + 15) & ~(size_t)15;
    if (tbc->arena_used + size > TB_ARENA_SIZE) {
        tb_flush_now(cpu);
    }
    struct arm_tb *tb = (struct arm_tb *)(tbc->arena + tbc->arena_used);
    tbc->arena_used += size;

    memset(tb, 0, sizeof(*tb));
    tb->pc = pc;
    tb->flags = flags;
    tb->phys[0] = phys0;
    tb->phys[1] = phys1;
    tb->end_pc = addr;
    tb->gen = tbc->gen;
    tb->n_ops = (uint16_t)n;
    tb->code_len[0] = (uint16_t)len0;
    tb->code_len[1] = (uint16_t)len1;
    tb->host[0] = host0 ? host0 + (pc & ~ARM_PAGE_MASK) : NULL;
    tb->host[1] = host1;
    tb->valid = true;
    memcpy(tb->ops, tbc->tmp_ops, (n + 1) * sizeof(struct arm_uop));
    struct arm_tb_exit *x = (struct arm_tb_exit *)&tb->ops[n + 1];
    memset(x, 0, sizeof(*x));
    x->flags[0] = x->flags[1] = ~0u;
    tb->code = (uint8_t *)(x + 1);
    memcpy(tb->code, tbc->tmp_code, len0 + len1);

    unsigned h = tb_hash(pc, flags);
    tb->hash_next = tbc->hash[h];
    tbc->hash[h] = tb;
    for (unsigned k = 0; k < 2; k++) {
        if (tb->phys[k] != ~0u) {
            unsigned b = page_hash(tb->phys[k]);
            tb->page_next[k] = tbc->page_hash[b];
            tbc->page_hash[b] = tb;
        }
    }
    return tb;
}

/* Whether the guest code a block was built from is still what memory holds. */
static bool tb_code_current(const struct arm_tb *tb)
{
    const uint8_t *copy = tb->code;

    for (unsigned k = 0; k < 2; k++) {
        unsigned len = tb->code_len[k];
        if (len == 0) {
            continue;
        }
        if (!tb->host[k]) {
            return false;
        }
        for (unsigned i = 0; i < len; i += 2) {
            uint32_t v = code_load16(tb->host[k] + i);
            if ((uint8_t)v != copy[i] || (uint8_t)(v >> 8) != copy[i + 1]) {
                return false;
            }
        }
        copy += len;
    }
    return true;
}

/* The block at cpu->r[15] in the current context: through prev's chain when nothing changed
 * since it was made, else through the jump cache likewise, else by hash lookup (translating
 * the PC, which may prefetch-abort), else newly built. Links prev to it when prev_epoch is
 * still current. */
static struct arm_tb *tb_find(struct arm_cpu *cpu, struct arm_tb *prev, unsigned slot,
                              uint32_t prev_epoch)
{
    struct arm_tb_cache *tbc = cpu->tbs;
    uint32_t pc = cpu->r[15];
    uint32_t flags = tb_context(cpu);
    struct arm_tb *tb;

    if (prev && prev_epoch == cpu->tb_epoch) {
        const struct arm_tb_exit *x = tb_exit_of(prev);
        if (x->epoch[slot] == prev_epoch && x->pc[slot] == pc && x->flags[slot] == flags) {
            return x->succ[slot];
        }
    }

    struct arm_tb_jmp *j = &tbc->jmp[jmp_hash(pc)];
    if (j->tb && j->pc == pc && j->flags == flags && j->epoch == cpu->tb_epoch) {
        tb = j->tb;
        goto found;
    }

    uint32_t pa;
    const uint8_t *host = arm_mem_translate(cpu, pc, ARM_ACCESS_EXEC, false, &pa, NULL);
    uint32_t phys0 = pa & ARM_PAGE_MASK;

    for (tb = tbc->hash[tb_hash(pc, flags)]; tb; tb = tb->hash_next) {
        if (tb->pc != pc || tb->flags != flags || tb->phys[0] != phys0) {
            continue;
        }
        if (tb->phys[1] != ~0u) {
            uint32_t pa1;
            arm_mem_translate(cpu, tb->end_pc - 2, ARM_ACCESS_EXEC, false, &pa1, NULL);
            if ((pa1 & ARM_PAGE_MASK) != tb->phys[1]) {
                continue;
            }
        }
        if (tb->gen != tbc->gen) {
            if (!tb_code_current(tb)) {
                tb_invalidate(cpu, tb);
                tb = NULL;
                break;
            }
            tb->gen = tbc->gen;
        }
        break;
    }
    if (!tb) {
        tb = tb_build(cpu, pc, flags, phys0, host ? host - (pc & ~ARM_PAGE_MASK) : NULL);
    }
    /* The block is right for this PC now, and stays so until the epoch moves. */
    j->pc = pc;
    j->flags = flags;
    j->epoch = cpu->tb_epoch;
    j->tb = tb;
found:
    if (prev && prev_epoch == cpu->tb_epoch) {
        chain_set(tb_exit_of(prev), slot, tb, prev_epoch);
    }
    return tb;
}

/* ---- executing ---------------------------------------------------------------------------- */

/*
 * Runs one block; returns the address of the next instruction.
 *
 * Per instruction bookkeeping is kept to what an exception inside it needs: cur_op (the
 * faulting instruction's address and IT state, exception.c), set by the generic threaded
 * handlers and, before any path that may fault, by the specialised ones. cpu->r[15] keeps the
 * block's address until the block ends: nothing reads it while cur_op is set. CPSR.IT is
 * rewritten only by instructions inside IT blocks (thr_generic_cond): an instruction starts
 * with CPSR.IT equal to its op->itstate, which is the block's context at its start and, after
 * each instruction, what that instruction left (IT writes the state it sets; any other
 * instruction the advanced one, which the builder gave the next op), so for itstate 0 the
 * state is already right.
 */
static inline struct arm_tb *tb_of(const struct arm_uop *op)
{
    return (struct arm_tb *)((uintptr_t)(op - op->index) - offsetof(struct arm_tb, ops));
}

/* Runs a block and whatever chains from it; returns the micro-op after the last one that
 * executed, in the last block run (tb_of finds that block). */
static inline const struct arm_uop *tb_exec(struct arm_cpu *cpu, const struct arm_tb *tb)
{
    cpu->chain_budget = TB_CHAIN_MAX;
    cpu->tb_start_epoch = cpu->tb_epoch;
    const struct arm_uop *last = tb->ops[0].tfn(cpu, tb->ops);

    cpu->insns_executed += last->index;
    cpu->cur_op = NULL;
    return last;
}

static void log_cpu_state(struct arm_cpu *cpu)
{
    coremu_log(COREMU_LOG_CPU,
               "cpu%u: pc %08x cpsr %08x\n"
               " r0 %08x  r1 %08x  r2 %08x  r3 %08x  r4 %08x  r5 %08x  r6 %08x  r7 %08x\n"
               " r8 %08x  r9 %08x r10 %08x r11 %08x r12 %08x  sp %08x  lr %08x\n",
               cpu_index(cpu), cpu->r[15], arm_cpsr_read(cpu), cpu->r[0], cpu->r[1], cpu->r[2],
               cpu->r[3], cpu->r[4], cpu->r[5], cpu->r[6], cpu->r[7], cpu->r[8], cpu->r[9],
               cpu->r[10], cpu->r[11], cpu->r[12], cpu->r[13], cpu->r[14]);
}

/* The slow part of a block boundary: runtime work, SEV, maintenance, interrupts. True when
 * run() must return. */
static bool boundary_slow(struct arm_cpu *cpu)
{
    struct coremu_cpu *rt = cpu->rt;

    if (coremu_cpu_process_pending(rt) == COREMU_CPU_LEAVE || cpu->leave) {
        return true;
    }
    uint32_t p = atomic_load_explicit(&rt->pending, memory_order_acquire);
    if (p & ARM_PENDING_SEV) {
        coremu_cpu_clear_pending(rt, ARM_PENDING_SEV);
        cpu->event_register = true;
    }
    if (p & ARM_PENDING_MAINT) {
        arm_maint_process(cpu);
    }
    /* FIQ first: it has the higher priority (B1.8.2). The preferred return address of an
     * interrupt is the next instruction to execute: the block boundary's PC. */
    if ((p & ARM_PENDING_FIQ) && !(cpu->cpsr_rest & ARM_CPSR_F)) {
        arm_take_exception(cpu, ARM_EXC_FIQ, cpu->r[15]);
        cpu->r[15] = cpu->next_pc;
    } else if ((p & ARM_PENDING_IRQ) && !(cpu->cpsr_rest & ARM_CPSR_I)) {
        arm_take_exception(cpu, ARM_EXC_IRQ, cpu->r[15]);
        cpu->r[15] = cpu->next_pc;
    }
    return false;
}

static void exec_loop(struct arm_cpu *cpu)
{
    struct coremu_cpu *rt = cpu->rt;
    struct arm_tb_cache *tbc = cpu->tbs;
    struct arm_tb *prev = NULL;
    unsigned slot = 0;
    uint32_t prev_epoch = 0;

    for (;;) {
        if (coremu_cpu_poll(rt)) {
            if (boundary_slow(cpu)) {
                return;
            }
            prev = NULL;
        }
        if (__builtin_expect(tbc->flush_pending, 0)) {
            tb_flush_now(cpu);
            prev = NULL;
        }
        if (__builtin_expect(coremu_log_enabled(COREMU_LOG_CPU | COREMU_LOG_EXEC), 0)) {
            if (coremu_log_enabled(COREMU_LOG_CPU)) {
                log_cpu_state(cpu);
            } else {
                coremu_log(COREMU_LOG_EXEC, "cpu%u: block %08x\n", cpu_index(cpu), cpu->r[15]);
            }
        }
        struct arm_tb *tb = tb_of(tb_exec(cpu, tb_find(cpu, prev, slot, prev_epoch)));
        uint32_t next = cpu->next_pc;

        cpu->r[15] = next & ((cpu->cpsr_rest & ARM_CPSR_T) ? ~1u : ~3u);
        prev = cpu->tb_epoch == cpu->tb_start_epoch ? tb : NULL;
        prev_epoch = cpu->tb_start_epoch;
        slot = next == tb->end_pc ? 0 : 1;
    }
}

void arm_request_leave(struct arm_cpu *cpu)
{
    cpu->leave = true;
    if (cpu->rt) {
        coremu_cpu_kick(cpu->rt, COREMU_PENDING_KICK);
    }
}

static void maint_forget(struct arm_cpu *cpu)
{
    struct arm_tb_cache *tbc = cpu->tbs;

    memset(tbc->maint_ticket, 0, sizeof(tbc->maint_ticket));
    tbc->maint_any = false;
}

static void arm_run(struct coremu_cpu *rt)
{
    struct arm_cpu *cpu = rt->arch;
    struct arm_board *board = cpu->board;
    uint32_t entry;
    bool thumb;

    /* Power-on: architectural reset state, empty TLB and cache (a core that was off missed
     * every broadcast maintenance, and owes none). */
    arm_cpu_reset(cpu);
    arm_timer_reset(cpu);
    tb_flush_now(cpu);
    maint_forget(cpu);
    atomic_store_explicit(&cpu->tbs->maint_flags, 0, memory_order_relaxed);
    coremu_cpu_clear_pending(rt, ARM_PENDING_MAINT | ARM_PENDING_SEV);
    atomic_store_explicit(&cpu->tbs->maint_done_seq,
                          atomic_load_explicit(&cpu->tbs->maint_req_seq, memory_order_acquire),
                          memory_order_release);

    if (rt->index == 0 && !cpu->booted) {
        entry = board->boot.entry;
        thumb = board->boot.thumb || (entry & 1);
        cpu->r[0] = board->boot.r0;
        cpu->r[1] = board->boot.r1;
        cpu->r[2] = board->boot.r2;
    } else {
        entry = (uint32_t)rt->power_on_arg[0];
        thumb = (entry & 1) != 0;
        cpu->r[0] = (uint32_t)rt->power_on_arg[1];
    }
    cpu->booted = true;
    if (thumb) {
        cpu->cpsr_rest |= ARM_CPSR_T;
    }
    cpu->r[15] = entry & (thumb ? ~1u : ~3u);
    COREMU_LOG(COREMU_LOG_INT, "cpu%u: power on at %08x%s r0 %08x\n", rt->index, cpu->r[15],
               thumb ? " (Thumb)" : "", cpu->r[0]);

    if (sigsetjmp(cpu->fault_jmp, 0) != 0) {
        /* An exception was taken inside an instruction (or a fetch): resume at its vector. */
        cpu->cur_op = NULL;
        cpu->r[15] = cpu->next_pc;
    }
    exec_loop(cpu);
}

static void arm_timer_expired_op(struct coremu_cpu *rt)
{
    arm_timer_update(rt->arch);
}

static void arm_tlb_flush_all_op(struct coremu_cpu *rt)
{
    arm_tlb_flush_all(rt->arch);
}

const struct coremu_cpu_ops arm_cpu_ops = {
    .run = arm_run,
    .timer_expired = arm_timer_expired_op,
    .tlb_flush_all = arm_tlb_flush_all_op,
};

/* ---- maintenance -------------------------------------------------------------------------- */

static void maint_local(struct arm_cpu *cpu, enum arm_maint_op op, uint32_t arg)
{
    switch (op) {
    case ARM_MAINT_TLBIALL:
        arm_tlb_flush_all(cpu);
        break;
    case ARM_MAINT_TLBIMVA:
    case ARM_MAINT_TLBIMVAA:
        /* TLBIMVA also names an ASID; flushing the page for every ASID is a superset. */
        arm_tlb_flush_page(cpu, arg);
        break;
    case ARM_MAINT_TLBIASID:
        arm_tlb_flush_asid(cpu, (uint8_t)arg);
        break;
    case ARM_MAINT_ICIALLU:
        cpu->tbs->gen++;
        cpu->tb_epoch++;
        break;
    }
}

void arm_maint_process(struct arm_cpu *cpu)
{
    struct arm_tb_cache *tbc = cpu->tbs;

    coremu_cpu_clear_pending(cpu->rt, ARM_PENDING_MAINT);
    uint64_t seq = atomic_load_explicit(&tbc->maint_req_seq, memory_order_acquire);
    uint32_t work = atomic_exchange_explicit(&tbc->maint_flags, 0, memory_order_acq_rel);
    if (work & MAINT_TLB_FLUSH) {
        arm_tlb_flush_all(cpu);
    }
    if (work & MAINT_IC_INVAL) {
        maint_local(cpu, ARM_MAINT_ICIALLU, 0);
    }
    if (work & MAINT_CODE_WRITES) {
        for (unsigned m = 0; m < ARM_NMMU; m++) {
            for (unsigned i = 0; i < ARM_TLB_SIZE; i++) {
                struct arm_tlb_entry *e = &cpu->tlb[m][i];
                if (e->tag_write != ~0u && !(e->flags & ARM_TLBF_CODE) &&
                    arm_page_has_code(e->paddr)) {
                    e->tag_write = ~0u;
                }
            }
        }
    }
    atomic_store_explicit(&tbc->maint_done_seq, seq, memory_order_release);
}

void arm_maint(struct arm_cpu *cpu, enum arm_maint_op op, uint32_t arg, bool broadcast)
{
    maint_local(cpu, op, arg);
    if (!broadcast) {
        return;
    }
    /* Other cores get the coalesced form (a whole-TLB flush for any TLB operation): it is a
     * superset of every operation, and costs them one flag test when several arrive. */
    uint32_t work = op == ARM_MAINT_ICIALLU ? MAINT_IC_INVAL : MAINT_TLB_FLUSH;
    struct arm_board *board = cpu->board;
    struct arm_tb_cache *tbc = cpu->tbs;

    for (unsigned i = 0; i < board->ncpus && i < ARM_MAX_CPUS; i++) {
        struct arm_cpu *other = board->cpus[i];
        if (!other || other == cpu || !core_on(other)) {
            /* A core that is off flushes everything when it powers on. */
            continue;
        }
        struct arm_tb_cache *ot = other->tbs;
        atomic_fetch_or_explicit(&ot->maint_flags, work, memory_order_seq_cst);
        tbc->maint_ticket[i] =
            atomic_fetch_add_explicit(&ot->maint_req_seq, 1, memory_order_seq_cst) + 1;
        tbc->maint_any = true;
        coremu_cpu_kick(other->rt, ARM_PENDING_MAINT);
    }
}

/* Whether core i has applied this core's requests, or cannot be running guest code with
 * stale state: off (flushes at power-on) or asleep (applies ARM_PENDING_MAINT before it runs
 * another instruction). */
static bool maint_done(struct arm_cpu *other, uint64_t ticket)
{
    struct arm_tb_cache *ot = other->tbs;

    if (atomic_load_explicit(&ot->maint_done_seq, memory_order_acquire) >= ticket) {
        return true;
    }
    if (!core_on(other)) {
        return true;
    }
    return atomic_load_explicit(&other->rt->sleeping, memory_order_seq_cst) != 0;
}

void arm_dsb(struct arm_cpu *cpu)
{
    struct arm_tb_cache *tbc = cpu->tbs;
    struct arm_board *board = cpu->board;

    atomic_thread_fence(memory_order_seq_cst);
    if (!tbc->maint_any) {
        return;
    }
    for (unsigned i = 0; i < board->ncpus && i < ARM_MAX_CPUS; i++) {
        uint64_t ticket = tbc->maint_ticket[i];
        if (ticket == 0) {
            continue;
        }
        struct arm_cpu *other = board->cpus[i];
        while (!maint_done(other, ticket) && !cpu->leave) {
            /* Serve our own requests meanwhile: the other core may be waiting for us in its
             * own DSB, or need us parked for a stop. */
            if (coremu_cpu_poll(cpu->rt)) {
                if (coremu_cpu_process_pending(cpu->rt) == COREMU_CPU_LEAVE) {
                    arm_request_leave(cpu);
                    break;
                }
                uint32_t p = atomic_load_explicit(&cpu->rt->pending, memory_order_acquire);
                if (p & ARM_PENDING_MAINT) {
                    arm_maint_process(cpu);
                }
            }
            coremu_cpu_relax(cpu->rt);
        }
        tbc->maint_ticket[i] = 0;
    }
    tbc->maint_any = false;
    atomic_thread_fence(memory_order_seq_cst);
}
