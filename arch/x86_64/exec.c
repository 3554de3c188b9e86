/*
 * coremu x86_64 — the CPU loop on the shared translation-block engine (lib/tb.c): what a block
 * is to x86 (the context word), decoding instructions into micro-ops, the threaded handlers and
 * exits, and the block loop with exceptions and interrupts at block boundaries.
 *
 * Context word (x86_context). A block is valid for one default code size (16, 32, 64: it decides
 * how bytes decode), the stack size (SS.B), the CPL and real / virtual-8086 mode. Everything
 * else a handler needs it reads from the CPU when it runs.
 *
 * Decoding. decode.c wants the instruction's bytes; the engine hands them out in order through
 * coremu_tb_fetch, which refuses to cross into a page the block may not read. So bytes are
 * fetched as the decoder asks for them (X86_DECODE_NEED_MORE), and an instruction that would
 * cross a page ends its block before it unless it is the block's first.
 *
 * Threaded execution, as ARM's: each micro-op's tfn runs its handler and tail-calls the next;
 * every instruction that may jump or change the context ends its block (X86_EXEC_END in the
 * execution table), and the block's exit follows the chain (x86_block_exit).
 */
#include "config.h"

#include <setjmp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/cpu.h>
#include <coremu/log.h>
#include <coremu/tb.h>

#include "cpu.h"
#include "decode.h"
#include "ops.h"

#define X86_TB_MAX_OPS 64u

/* The number of the current CS base for the context word. */
static uint32_t cs_base_id(struct x86_cpu *cpu)
{
    uint64_t base = cpu->seg[X86_CS].base;
    if (base == 0) {
        return 0;
    }
    if (cpu->cs_base_last && cpu->cs_bases[cpu->cs_base_last] == base) {
        return cpu->cs_base_last;
    }
    for (unsigned i = 1; i < cpu->cs_bases_used; i++) {
        if (cpu->cs_bases[i] == base) {
            cpu->cs_base_last = i;
            return i;
        }
    }
    if (cpu->cs_bases_used == 0 || cpu->cs_bases_used == X86_CS_BASE_IDS) {
        /* every number is taken: blocks keyed on the old ones go (the flush moves the epoch,
         * so nothing chains into them meanwhile) */
        if (cpu->cs_bases_used == X86_CS_BASE_IDS) {
            coremu_tb_flush(&cpu->tb);
        }
        cpu->cs_bases[0] = 0;
        cpu->cs_bases_used = 1;
    }
    cpu->cs_bases[cpu->cs_bases_used] = base;
    cpu->cs_base_last = cpu->cs_bases_used;
    return cpu->cs_bases_used++;
}

/* The block that starts where an STI or MOV SS shadow ends: one instruction, so that an interrupt
 * the shadow held is taken right after it (a longer block could reach a CLI first). Beside
 * cpu.h's X86_CTX_* bits (the CS base number ends at bit 15). */
#define X86_CTX_SHADOW (1u << 16)

uint32_t x86_context(struct x86_cpu *cpu)
{
    uint32_t ctx;

    if (!(cpu->cr0 & X86_CR0_PE)) {
        ctx = X86_CTX_REAL | X86_CTX_CODE16;
        if (cpu->seg[X86_CS].attr & X86_SEG_DB) {
            ctx = X86_CTX_REAL | X86_CTX_CODE32; /* "unreal" code: rare, but possible */
        }
    } else if (cpu->rflags & X86_VM) {
        ctx = X86_CTX_VM86 | X86_CTX_CODE16;
    } else if ((cpu->efer & X86_EFER_LMA) && (cpu->seg[X86_CS].attr & X86_SEG_L)) {
        ctx = X86_CTX_CODE64;
    } else {
        ctx = (cpu->seg[X86_CS].attr & X86_SEG_DB) ? X86_CTX_CODE32 : X86_CTX_CODE16;
    }
    if (cpu->seg[X86_SS].attr & X86_SEG_DB) {
        ctx |= X86_CTX_STACK32;
    }
    if (cpu->rflags & X86_TF) {
        ctx |= X86_CTX_TF;
    }
    if (cpu->intr_shadow && cpu->rip == cpu->intr_shadow_rip) {
        ctx |= X86_CTX_SHADOW;
    }
    if ((ctx & X86_CTX_CODE_MASK) != X86_CTX_CODE64) {
        ctx |= cs_base_id(cpu) << X86_CTX_CS_BASE_SHIFT;
    }
    return ctx | (cpu->cpl << X86_CTX_CPL_SHIFT);
}

static inline unsigned cpu_index(const struct x86_cpu *cpu)
{
    return cpu->rt ? cpu->rt->index : 0;
}

/* ---- threaded handlers ---------------------------------------------------------------------- */

static const struct x86_uop *thr_end(struct x86_cpu *cpu, const struct x86_uop *op);

/* The end of a block: next is the micro-op after the last one that executed, cpu->next_rip
 * where execution continues. Goes straight on to the successor when the engine allows it. A
 * HLT goes back to the loop, which sleeps until an interrupt: chained on, the core would run
 * past the HLT with `halted` still set, and sleep at some later boundary, perhaps with IF
 * clear, where no interrupt can wake it any more. */
static inline __attribute__((always_inline)) const struct x86_uop *
x86_block_exit(struct x86_cpu *cpu, const struct x86_uop *next)
{
    if (next->tfn != thr_end || cpu->user_mode_harness || cpu->halted || cpu->intr_shadow ||
        (coremu_tb_of(next, sizeof(*next))->ctx & X86_CTX_TF)) {
        return next;
    }
    struct coremu_tb *succ = coremu_tb_chain(&cpu->tb, (const struct coremu_uop *)next,
                                             sizeof(*next), cpu->next_rip, x86_context(cpu));
    if (!succ) {
        return next;
    }
    cpu->insns_executed += next->index;
    cpu->cur_op = NULL;
    cpu->rip = cpu->next_rip;
    const struct x86_uop *first = (const struct x86_uop *)succ->ops;
    return first->tfn(cpu, first);
}

static const struct x86_uop *thr_general(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->cur_op = op;
    if (op->fn(cpu, op) == X86_BRANCH) {
        return x86_block_exit(cpu, op + 1);
    }
    if (__builtin_expect(cpu->code_written, 0)) {
        return x86_code_written_exit(cpu, op);
    }
    return op[1].tfn(cpu, op + 1);
}

static const struct x86_uop *thr_end(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->next_rip = op->pc;
    return x86_block_exit(cpu, op);
}

/* Jcc and JMP rel in 64-bit mode, where a target is only checked for canonical form: the
 * decoder computed it, so only a target at the edge of the address space needs the check,
 * and the block builder gives these forms only to targets that are canonical. */
static const struct x86_uop *thr_jcc64(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->next_rip = x86_cond(cpu, op->opcode & 15) ? op->imm : op->pc + op->len;
    return x86_block_exit(cpu, op + 1);
}

static const struct x86_uop *thr_jmp64(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->next_rip = op->imm;
    return x86_block_exit(cpu, op + 1);
}

/* The threaded branch forms exec.c owns (they end blocks through x86_block_exit). */
static void thread_branch(struct x86_uop *op, uint32_t ctx)
{
    bool in64 = (ctx & X86_CTX_CODE_MASK) == X86_CTX_CODE64;
    bool canonical = (uint64_t)((int64_t)op->imm >> 47) + 1 <= 1;
    if (!in64 || op->nopnd != 1 || op->opnd[0].kind != X86_OPND_IMM || !canonical) {
        return;
    }
    if (op->fn == x86_op_jcc) {
        op->tfn = thr_jcc64;
    } else if (op->fn == x86_op_jmp_any) {
        op->tfn = thr_jmp64;
    }
}

/* ---- what the engine asks of x86 ------------------------------------------------------------ */

static enum x86_result op_raise_ud(struct x86_cpu *cpu, const struct x86_uop *op)
{
    (void)op;
    x86_raise_noerr(cpu, X86_EXC_UD);
}

static enum x86_result op_raise_gp(struct x86_cpu *cpu, const struct x86_uop *op)
{
    (void)op;
    x86_raise(cpu, X86_EXC_GP, 0);
}

/* Handlers per row, found once by mnemonic (exec_table.c). Indexed by row number; a row whose
 * mnemonic has no handler keeps NULL, and its instructions raise #UD. */
static const struct x86_exec_entry *handler_of(const struct x86_cpu *cpu, struct x86_insn *in)
{
    if (!in->mnemonic || !in->mnemonic[0]) {
        return NULL;
    }
    /* F3 0F BC is TZCNT only on processors with BMI1; elsewhere the F3 is an ignored REP
     * prefix and the instruction is BSF. */
    if (in->feature == X86_FEAT_BMI1 && !x86_feature_enabled(cpu, X86_FEAT_BMI1) &&
        strcmp(in->mnemonic, "TZCNT") == 0) {
        in->mnemonic = "BSF";
        in->feature = X86_FEAT_BASE;
    }
    return x86_exec_lookup(in->mnemonic);
}

static enum coremu_tb_decoded x86_tb_decode(void *opaque, struct coremu_tb_decoder *d,
                                            struct coremu_uop *uop)
{
    struct x86_cpu *cpu = opaque;
    struct x86_uop *op = (struct x86_uop *)uop;
    uint32_t code = d->ctx & X86_CTX_CODE_MASK;
    enum x86_mode mode = code == X86_CTX_CODE64   ? X86_MODE_64
                         : code == X86_CTX_CODE32 ? X86_MODE_32
                                                  : X86_MODE_16;
    uint8_t buf[16];
    size_t have = 0;
    struct x86_insn in;
    enum x86_decode_status st;

    if (cpu->user_mode_harness && d->n > 0 && d->pc == cpu->stop_rip) {
        return COREMU_TB_STOP;
    }
    for (;;) {
        st = x86_decode(buf, have, mode, &in);
        if (st != X86_DECODE_NEED_MORE) {
            break;
        }
        while (have < in.length && have < sizeof(buf)) {
            uint64_t b;
            if (!coremu_tb_fetch(d, 1, &b)) {
                return COREMU_TB_STOP;
            }
            buf[have++] = (uint8_t)b;
        }
    }
    /* Bytes the decoder looked at but the instruction does not own cannot happen: it asks for
     * exactly what it needs. The engine counts what was fetched as the length. */
    op->opcode = in.opcode;
    op->map = in.map;
    op->modrm = in.modrm;
    op->opsize = (uint8_t)(in.opsize / 8);
    op->addrsize = (uint8_t)(in.addrsize / 8);
    op->flags = (uint8_t)((in.lock ? X86_UOP_LOCK : 0) | (in.rep == 0xf3 ? X86_UOP_REP : 0) |
                          (in.rep == 0xf2 ? X86_UOP_REPNE : 0) | (in.rex ? X86_UOP_REX : 0));
    op->rex = in.rex;
    op->base = op->sib_index = X86_REG_NONE;
    op->tfn = thr_general;

    const struct x86_exec_entry *e = NULL;
    if (st == X86_DECODE_GP) {
        op->fn = op_raise_gp;
    } else if (st != X86_DECODE_OK || !(e = handler_of(cpu, &in)) ||
               !x86_feature_enabled(cpu, in.feature) ||
               !x86_build_operands(&in, mode == X86_MODE_64, d->pc, op)) {
        op->fn = op_raise_ud;
        e = NULL;
    } else {
        op->fn = e->fn;
        op->sub = e->sub;
        if (!x86_specialise(op, d->ctx)) {
            thread_branch(op, d->ctx);
        }
    }
    if (coremu_log_enabled(COREMU_LOG_IN_ASM)) {
        char hex[40];
        for (size_t i = 0; i < have && i < 15; i++) {
            snprintf(hex + 2 * i, 3, "%02x", buf[i]);
        }
        hex[2 * (have < 15 ? have : 15)] = 0;
        coremu_log(COREMU_LOG_IN_ASM, "cpu%u: %016llx: %-30s %s\n", cpu_index(cpu),
                   (unsigned long long)d->pc, hex, in.mnemonic ? in.mnemonic : "(bad)");
    }
    if (!e || (e->flags & X86_EXEC_END) || (d->ctx & (X86_CTX_TF | X86_CTX_SHADOW))) {
        return COREMU_TB_END;
    }
    return COREMU_TB_NEXT;
}

static void x86_tb_end_block(void *opaque, const struct coremu_tb *tb,
                             struct coremu_uop *sentinel)
{
    (void)opaque;
    (void)tb;
    ((struct x86_uop *)sentinel)->tfn = thr_end;
}

/* The linear address of the instruction byte at vaddr (the engine's pc is EIP/RIP): the block
 * being built is the current context's, so CS is the current one. Blocks are keyed on EIP and
 * the engine reckons pages in EIP: with a CS base that is not page-aligned and paging on, a
 * block's bytes could come from two linear pages where the engine sees one (the host pointer
 * would run on past the first); no known system uses such a code segment. */
static uint64_t code_linear(const struct x86_cpu *cpu, uint64_t vaddr)
{
    if (x86_code64(cpu)) {
        return vaddr;
    }
    return (cpu->seg[X86_CS].base + vaddr) & 0xffffffffull;
}

static const uint8_t *x86_tb_translate_exec(void *opaque, uint64_t vaddr, uint64_t *paddr)
{
    return x86_translate_exec(opaque, code_linear(opaque, vaddr), paddr);
}

static uint64_t x86_tb_fetch_io(void *opaque, uint64_t vaddr, unsigned size)
{
    struct x86_cpu *cpu = opaque;
    uint64_t pa = x86_translate(cpu, code_linear(cpu, vaddr), X86_ACC_EXEC);
    uint64_t v = 0;
    if (coremu_as_read(cpu->as, pa, size, &v) != 0) {
        v = ~(uint64_t)0;
    }
    return v;
}

static void x86_tb_protect_page(void *opaque, uint64_t page)
{
    struct x86_cpu *cpu = opaque;
    coremu_tlb_protect_page(&cpu->tlb[0][0], X86_NTLB * X86_TLB_SIZE, page);
}

static void x86_tb_protect_code(void *opaque)
{
    struct x86_cpu *cpu = opaque;
    coremu_tlb_protect_code(cpu->tb.engine, &cpu->tlb[0][0], X86_NTLB * X86_TLB_SIZE);
}

static void x86_tb_flush_all(void *opaque)
{
    x86_tlb_flush_all(opaque);
}

const struct coremu_tb_ops x86_tb_ops = {
    .uop_size = sizeof(struct x86_uop),
    .max_ops = X86_TB_MAX_OPS,
    .max_insn_len = 15,
    .maint_pending = X86_PENDING_MAINT,
    .translate_exec = x86_tb_translate_exec,
    .fetch_io = x86_tb_fetch_io,
    .decode = x86_tb_decode,
    .end_block = x86_tb_end_block,
    .tlb_protect_page = x86_tb_protect_page,
    .tlb_protect_code = x86_tb_protect_code,
    .tlb_flush_all = x86_tb_flush_all,
};

/* ---- the block loop ------------------------------------------------------------------------- */

static inline const struct x86_uop *tb_exec(struct x86_cpu *cpu, const struct coremu_tb *tb)
{
    const struct x86_uop *first = (const struct x86_uop *)tb->ops;

    cpu->code_written = false;
    coremu_tb_exec_begin(&cpu->tb);
    const struct x86_uop *last = first->tfn(cpu, first);

    cpu->insns_executed += last->index;
    cpu->cur_op = NULL;
    return last;
}

static void log_cpu_state(struct x86_cpu *cpu)
{
    const uint64_t *r = cpu->gpr;
    coremu_log(COREMU_LOG_CPU,
               "cpu%u: rip %016llx rflags %08llx cs %04x cpl %u\n"
               " rax %016llx rcx %016llx rdx %016llx rbx %016llx\n"
               " rsp %016llx rbp %016llx rsi %016llx rdi %016llx\n",
               cpu_index(cpu), (unsigned long long)cpu->rip,
               (unsigned long long)x86_rflags_read(cpu), cpu->seg[X86_CS].selector, cpu->cpl,
               (unsigned long long)r[0], (unsigned long long)r[1], (unsigned long long)r[2],
               (unsigned long long)r[3], (unsigned long long)r[4], (unsigned long long)r[5],
               (unsigned long long)r[6], (unsigned long long)r[7]);
}

/* Whether an external interrupt may be taken now. */
static bool interrupts_open(const struct x86_cpu *cpu)
{
    return (cpu->rflags & X86_IF) && !(cpu->intr_shadow && cpu->rip == cpu->intr_shadow_rip);
}

/* The slow part of a block boundary: runtime work, maintenance, interrupts, HLT. True when the
 * loop must return. */
static bool boundary_slow(struct x86_cpu *cpu)
{
    struct coremu_cpu *rt = cpu->rt;

    for (;;) {
        if (coremu_cpu_process_pending(rt) == COREMU_CPU_LEAVE || cpu->leave) {
            return true;
        }
        uint32_t p = atomic_load_explicit(&rt->pending, memory_order_acquire);
        if (p & X86_PENDING_MAINT) {
            coremu_tb_maint_process(&cpu->tb);
        }
        if (p & X86_PENDING_NMI) {
            coremu_cpu_clear_pending(rt, X86_PENDING_NMI);
            cpu->halted = false;
            x86_deliver_interrupt(cpu, X86_EXC_NMI);
        } else if ((p & X86_PENDING_INTR) && interrupts_open(cpu) && cpu->board.intr_ack) {
            int vector = cpu->board.intr_ack(cpu->board.opaque, cpu);
            if (vector >= 0) {
                cpu->halted = false;
                x86_deliver_interrupt(cpu, (unsigned)vector);
            }
        }
        if (!cpu->halted) {
            return false;
        }
        /* HLT: sleep until an interrupt (or runtime work) arrives. An interrupt that IF masks
         * does not end HLT. */
        uint32_t wake = X86_PENDING_NMI | X86_PENDING_INIT | X86_PENDING_MAINT;
        if (cpu->rflags & X86_IF) {
            wake |= X86_PENDING_INTR;
        }
        coremu_cpu_wait(rt, wake);
    }
}

static void exec_loop(struct x86_cpu *cpu)
{
    struct coremu_tb_cpu *t = &cpu->tb;
    struct coremu_tb *prev = NULL;
    unsigned slot = 0;
    uint32_t prev_epoch = 0;

    for (;;) {
        if (cpu->user_mode_harness) {
            if (cpu->rip == cpu->stop_rip || cpu->insns_executed >= cpu->max_insns) {
                return;
            }
        } else if (coremu_cpu_poll(cpu->rt) || cpu->halted) {
            if (boundary_slow(cpu)) {
                return;
            }
            prev = NULL;
        }
        if (__builtin_expect(coremu_log_enabled(COREMU_LOG_CPU | COREMU_LOG_EXEC), 0)) {
            if (coremu_log_enabled(COREMU_LOG_CPU)) {
                log_cpu_state(cpu);
            } else {
                coremu_log(COREMU_LOG_EXEC, "cpu%u: block %016llx\n", cpu_index(cpu),
                           (unsigned long long)cpu->rip);
            }
        }
        struct coremu_tb *tb = coremu_tb_find(t, cpu->rip, x86_context(cpu), prev, slot,
                                              prev_epoch);
        tb = coremu_tb_of(tb_exec(cpu, tb), sizeof(struct x86_uop));
        uint64_t next = cpu->next_rip;

        cpu->rip = next;
        if (cpu->intr_shadow && next != cpu->intr_shadow_rip) {
            /* past the instruction the shadow covered: blocks chain again */
            cpu->intr_shadow = false;
        }
        if (__builtin_expect(tb->ctx & X86_CTX_TF, 0) && !cpu->user_mode_harness) {
            /* single-step trap after an instruction that began with TF set (DR6.BS) */
            cpu->dr[6] |= 1u << 14;
            cpu->exc_vector = X86_EXC_DB;
            cpu->exc_error = 0;
            cpu->exc_has_error = false;
            cpu->exc_software = false;
            cpu->exc_return_rip = next;
            x86_deliver_exception(cpu);
            prev = NULL;
            continue;
        }
        prev = t->epoch == t->start_epoch ? tb : NULL;
        prev_epoch = t->start_epoch;
        slot = coremu_tb_exit_slot(tb, next);
    }
}

void x86_run_loop(struct x86_cpu *cpu)
{
    cpu->in_fault_jmp = true;
    if (sigsetjmp(cpu->fault_jmp, 0) != 0) {
        /* An exception inside an instruction, a fetch or a delivery. */
        if (cpu->cur_op) {
            cpu->insns_executed += cpu->cur_op->index;
        }
        cpu->cur_op = NULL;
        if (cpu->user_mode_harness) {
            cpu->user_faulted = true;
            cpu->in_fault_jmp = false;
            return;
        }
        x86_deliver_exception(cpu);
    }
    exec_loop(cpu);
    cpu->in_fault_jmp = false;
}
