/*
 * coremu ARM — the CPU loop on the shared translation-block engine (lib/tb.c): what a block
 * is to ARM (the context word, decoding into micro-ops with Thumb's IT state, the threaded
 * exits), the block loop with interrupts at block boundaries, and the cache and TLB
 * maintenance operations of CP15 on top of the engine's broadcast.
 *
 * Context word. A block is valid for one context: Thumb or ARM state, privileged or not, and in
 * Thumb state the IT state at its start (the builder gives every instruction the IT state it
 * runs under, which depends on the block's start).
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
 * record cur_op, keep CPSR.IT, test the condition, call fn. A block's last handler follows the
 * chain itself (arm_block_exit, through coremu_tb_chain) when the block loop would have nothing
 * else to do at that boundary.
 */
#include "config.h"

#include <setjmp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/cpu.h>
#include <coremu/log.h>
#include <coremu/tb.h>

#include "board.h"
#include "cpu.h"
#include "ops.h"

#define ARM_TB_MAX_OPS 64u

/* Context word of a block. */
#define TBF_THUMB 1u
#define TBF_PRIV 2u
#define TBF_IT_SHIFT 8

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

/* ---- threaded handlers of the executor ---------------------------------------------------- */

static const struct arm_uop *thr_end(struct arm_cpu *cpu, const struct arm_uop *op);

/*
 * The end of a block: next is the micro-op after the last one that executed (the sentinel, or
 * the one after a branch), cpu->next_pc where execution continues. Passes control straight on
 * to the successor block when coremu_tb_chain allows it; otherwise returns next to the block
 * loop, which does the boundary's work. An exit from inside a block (a conditional PC write
 * that was not the last instruction) always goes back to the loop. Inlined into each exit
 * handler, so that each has its own indirect jump to predict.
 */
static inline __attribute__((always_inline)) const struct arm_uop *
arm_block_exit(struct arm_cpu *cpu, const struct arm_uop *next)
{
    if (next->tfn != thr_end) {
        return next;
    }
    uint32_t pc = cpu->next_pc & ((cpu->cpsr_rest & ARM_CPSR_T) ? ~1u : ~3u);
    struct coremu_tb *succ = coremu_tb_chain(&cpu->tb, (const struct coremu_uop *)next,
                                             sizeof(*next), pc, tb_context(cpu));
    if (!succ) {
        return next;
    }
    cpu->insns_executed += next->index;
    cpu->cur_op = NULL;
    cpu->r[15] = pc;
    const struct arm_uop *first = (const struct arm_uop *)succ->ops;
    return first->tfn(cpu, first);
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

/* ---- what the engine asks of ARM ---------------------------------------------------------- */

static enum arm_uop_result op_undefined(struct arm_cpu *cpu, const struct arm_uop *op)
{
    arm_undefined(cpu, op);
}

/*
 * Decodes one instruction for the engine. The decoder's scratch word carries the IT state from
 * one instruction to the next (it starts as the block's). An instruction that would cross into
 * the next page is refused unless it is the block's first (coremu_tb_fetch), so it always is
 * alone in its block and a prefetch abort is reported for it.
 */
static enum coremu_tb_decoded arm_tb_decode(void *opaque, struct coremu_tb_decoder *d,
                                            struct coremu_uop *uop)
{
    struct arm_cpu *cpu = opaque;
    struct arm_uop *op = (struct arm_uop *)uop;
    bool thumb = (d->ctx & TBF_THUMB) != 0;
    uint32_t addr = (uint32_t)d->pc;
    uint8_t it_here = d->n == 0 ? (uint8_t)(d->ctx >> TBF_IT_SHIFT) : (uint8_t)d->state;
    uint32_t insn;
    unsigned len;
    uint64_t part;

    if (thumb) {
        if (!coremu_tb_fetch(d, 2, &part)) {
            return COREMU_TB_STOP;
        }
        uint32_t hw1 = (uint32_t)part;
        if ((hw1 >> 11) >= 0x1d) {
            if (!coremu_tb_fetch(d, 2, &part)) {
                return COREMU_TB_STOP;
            }
            insn = (hw1 << 16) | (uint32_t)part;
            len = 4;
        } else {
            insn = hw1;
            len = 2;
        }
    } else {
        if (!coremu_tb_fetch(d, 4, &part)) {
            return COREMU_TB_STOP;
        }
        insn = (uint32_t)part;
        len = 4;
    }

    op->pc = addr;
    op->insn = insn;
    op->len = (uint8_t)len;
    op->cond = 0xe;
    if (thumb) {
        arm_decode_t32(addr, insn, len, it_here, op);
        op->flags |= ARM_UOP_THUMB;
        op->itstate = it_here;
        /* Inside an IT block the condition is the block's (the decoder should say so; this
         * covers a decoder that left it "always"). */
        if (it_here != 0 && op->cond == 0xe) {
            op->cond = (uint8_t)(it_here >> 4);
        }
        /* IT (outside an IT block, which would make it UNPREDICTABLE) sets the state of the
         * following instructions; every other instruction advances it. */
        if (len == 2 && it_here == 0 && (insn & 0xff00) == 0xbf00 && (insn & 0xf) != 0) {
            d->state = insn & 0xff;
        } else {
            d->state = it_advance(it_here);
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
    /* The decoders' general handlers, swapped for faster equivalents where the operands allow
     * (ops_dp.c, ops_ldst.c). */
    if (!arm_dp_specialise(op)) {
        arm_ldst_specialise(op);
    }
    thread_op(op);
    if (coremu_log_enabled(COREMU_LOG_IN_ASM)) {
        coremu_log(COREMU_LOG_IN_ASM, "cpu%u: %08x: %0*x%s\n", cpu_index(cpu), addr,
                   thumb && len == 2 ? 4 : 8, insn, thumb ? " (T)" : "");
    }
    return (op->flags & ARM_UOP_ENDS_BLOCK) ? COREMU_TB_END : COREMU_TB_NEXT;
}

static void arm_tb_end_block(void *opaque, const struct coremu_tb *tb,
                             struct coremu_uop *sentinel)
{
    struct arm_uop *op = (struct arm_uop *)sentinel;

    op->tfn = thr_end;
    op->cond = 0xe;
}

static const uint8_t *arm_tb_translate_exec(void *opaque, uint64_t vaddr, uint64_t *paddr)
{
    uint32_t pa;
    const uint8_t *host = arm_mem_translate(opaque, (uint32_t)vaddr, ARM_ACCESS_EXEC, false, &pa,
                                            NULL);
    *paddr = pa;
    return host;
}

static uint64_t arm_tb_fetch_io(void *opaque, uint64_t vaddr, unsigned size)
{
    return arm_fetch(opaque, (uint32_t)vaddr, size);
}

static void arm_tb_protect_page(void *opaque, uint64_t page)
{
    arm_tlb_flush_phys(opaque, (uint32_t)page, true);
}

/* Drops fast store entries of pages that hold code now (another core started translating from
 * a page this core may have written through its TLB). */
static void arm_tb_protect_code(void *opaque)
{
    struct arm_cpu *cpu = opaque;
    coremu_tlb_protect_code(cpu->tb.engine, &cpu->tlb[0][0], ARM_NMMU * ARM_TLB_SIZE);
}

static void arm_tb_flush_all(void *opaque)
{
    arm_tlb_flush_all(opaque);
}

static const struct coremu_tb_ops arm_tb_ops = {
    .uop_size = sizeof(struct arm_uop),
    .max_ops = ARM_TB_MAX_OPS,
    .max_insn_len = 4,
    .maint_pending = ARM_PENDING_MAINT,
    .translate_exec = arm_tb_translate_exec,
    .fetch_io = arm_tb_fetch_io,
    .decode = arm_tb_decode,
    .end_block = arm_tb_end_block,
    .tlb_protect_page = arm_tb_protect_page,
    .tlb_protect_code = arm_tb_protect_code,
    .tlb_flush_all = arm_tb_flush_all,
};

int arm_exec_init(struct arm_cpu *cpu, unsigned index)
{
    struct arm_board *board = cpu->board;

    if (!board->tb_engine) {
        board->tb_engine = coremu_tb_engine_new(&arm_tb_ops, board->ncpus);
        if (!board->tb_engine) {
            return -1;
        }
    }
    return coremu_tb_cpu_init(&cpu->tb, board->tb_engine, cpu->rt, cpu, index);
}

void arm_exec_destroy(struct arm_cpu *cpu)
{
    struct arm_board *board = cpu->board;

    coremu_tb_cpu_destroy(&cpu->tb);
    if (board->tb_engine && coremu_tb_engine_cores(board->tb_engine) == 0) {
        coremu_tb_engine_free(board->tb_engine);
        board->tb_engine = NULL;
    }
}

/* ---- executing ---------------------------------------------------------------------------- */

/*
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

/* Runs a block and whatever chains from it; returns the micro-op after the last one that
 * executed, in the last block run (coremu_tb_of finds that block). */
static inline const struct arm_uop *tb_exec(struct arm_cpu *cpu, const struct coremu_tb *tb)
{
    const struct arm_uop *first = (const struct arm_uop *)tb->ops;

    coremu_tb_exec_begin(&cpu->tb);
    const struct arm_uop *last = first->tfn(cpu, first);

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
        coremu_tb_maint_process(&cpu->tb);
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
    struct coremu_tb_cpu *t = &cpu->tb;
    struct coremu_tb *prev = NULL;
    unsigned slot = 0;
    uint32_t prev_epoch = 0;

    for (;;) {
        if (coremu_cpu_poll(rt)) {
            if (boundary_slow(cpu)) {
                return;
            }
            prev = NULL;
        }
        if (__builtin_expect(coremu_log_enabled(COREMU_LOG_CPU | COREMU_LOG_EXEC), 0)) {
            if (coremu_log_enabled(COREMU_LOG_CPU)) {
                log_cpu_state(cpu);
            } else {
                coremu_log(COREMU_LOG_EXEC, "cpu%u: block %08x\n", cpu_index(cpu), cpu->r[15]);
            }
        }
        struct coremu_tb *tb = coremu_tb_find(t, cpu->r[15], tb_context(cpu), prev, slot,
                                              prev_epoch);
        tb = coremu_tb_of(tb_exec(cpu, tb), sizeof(struct arm_uop));
        uint32_t next = cpu->next_pc;

        cpu->r[15] = next & ((cpu->cpsr_rest & ARM_CPSR_T) ? ~1u : ~3u);
        prev = t->epoch == t->start_epoch ? tb : NULL;
        prev_epoch = t->start_epoch;
        slot = coremu_tb_exit_slot(tb, next);
    }
}

void arm_request_leave(struct arm_cpu *cpu)
{
    cpu->leave = true;
    if (cpu->rt) {
        coremu_cpu_kick(cpu->rt, COREMU_PENDING_KICK);
    }
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
    coremu_tb_power_on(&cpu->tb);
    coremu_cpu_clear_pending(rt, ARM_PENDING_SEV);

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

void arm_maint(struct arm_cpu *cpu, enum arm_maint_op op, uint32_t arg, bool broadcast)
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
        coremu_tb_invalidate_code(&cpu->tb);
        break;
    }
    if (broadcast) {
        /* Other cores get the coalesced form (a whole-TLB flush for any TLB operation): it is
         * a superset of every operation, and costs them one flag test when several arrive. */
        coremu_tb_broadcast(&cpu->tb, op == ARM_MAINT_ICIALLU ? COREMU_TB_MAINT_IC
                                                              : COREMU_TB_MAINT_TLB);
    }
}

void arm_dsb(struct arm_cpu *cpu)
{
    if (!coremu_tb_sync(&cpu->tb, &cpu->leave) && !cpu->leave) {
        arm_request_leave(cpu);
    }
}
