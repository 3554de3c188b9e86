/*
 * coremu ARM — exception-generating instructions (SVC, BKPT, UDF, HVC, SMC), processor state
 * (CPS, SETEND, MRS, MSR, SRS, RFE), coprocessor transfers (MCR/MRC/MCRR/MRRC, dispatched to
 * cp15.c; a few CP14 debug reads), barriers, hints and preloads. Field conventions: ops.h.
 */
#include "config.h"

#include <stdatomic.h>

#include "ops.h"

/* Execution-state bits (J, IT, T) read as zero through MRS. */
#define MRS_CPSR_MASK 0xf8ff03dfu

ARM_OP(UNDEFINED)
{
    arm_undefined(cpu, op);
}

ARM_OP(UDF)
{
    arm_undefined(cpu, op);
}

ARM_OP(SVC)
{
    arm_take_exception(cpu, ARM_EXC_SVC, op->pc + op->len);
    return ARM_BRANCH;
}

/* With debug disabled (no halting or monitor debug here) BKPT is a debug event that becomes a
 * Prefetch Abort on this instruction, IFSR.FS = 0b00010 (debug event). */
ARM_OP(BKPT)
{
    arm_prefetch_abort(cpu, op->pc, 0x2);
}

/* HVC and SMC go to the board's firmware (PSCI). The callee may redirect next_pc (or raise
 * UNDEFINED itself); by default execution continues after the instruction. */
ARM_OP(HVC)
{
    cpu->next_pc = op->pc + op->len;
    arm_hvc(cpu, op, op->imm);
    return ARM_BRANCH;
}

ARM_OP(SMC)
{
    cpu->next_pc = op->pc + op->len;
    arm_smc(cpu, op);
    return ARM_BRANCH;
}

/* ---- CPSR writes ------------------------------------------------------------------------- */

/* The CPSR bits that CPSRWriteByInstr (not an exception return) may write for a field mask
 * (f s x c) and this value, on a core without Security Extensions (IsSecure() is true). */
static uint32_t cpsr_write_mask(const struct arm_cpu *cpu, unsigned fields, uint32_t value)
{
    bool priv = arm_cpu_privileged(cpu);
    uint32_t mask = 0;
    if (fields & 8) {
        mask |= 0xf8000000u; /* N Z C V Q; IT<1:0> and J only on exception return */
    }
    if (fields & 4) {
        mask |= 0x000f0000u; /* GE */
    }
    if (fields & 2) {
        mask |= ARM_CPSR_E;
        if (priv) {
            mask |= ARM_CPSR_A;
        }
    }
    if ((fields & 1) && priv) {
        mask |= ARM_CPSR_I;
        /* SCTLR.NMFI: software may clear F but not set it. */
        bool nmfi = (cpu->cp15.sctlr >> 27) & 1;
        if (!nmfi || !(value & ARM_CPSR_F)) {
            mask |= ARM_CPSR_F;
        }
        /* A bad mode is UNPREDICTABLE: we keep the current mode. */
        if (arm_mode_valid(value & 0x1f)) {
            mask |= 0x1fu;
        }
    }
    return mask;
}

static enum arm_uop_result msr_common(struct arm_cpu *cpu, const struct arm_uop *op,
                                      uint32_t value)
{
    unsigned fields = op->imm2 & 0xf;
    if (op->imm2 & 0x10) {
        uint32_t *spsr = arm_current_spsr(cpu);
        /* UNPREDICTABLE in User and System modes, which have no SPSR. */
        if (spsr == NULL) {
            arm_undefined(cpu, op);
        }
        uint32_t mask = ((fields & 8) ? 0xff000000u : 0) | ((fields & 4) ? 0x00ff0000u : 0) |
                        ((fields & 2) ? 0x0000ff00u : 0) | ((fields & 1) ? 0x000000ffu : 0);
        *spsr = (*spsr & ~mask) | (value & mask);
        return ARM_NEXT;
    }
    uint32_t mask = cpsr_write_mask(cpu, fields, value);
    if (mask != 0) {
        arm_cpsr_write(cpu, value, mask);
    }
    return ARM_NEXT;
}

ARM_OP(MSR_imm)
{
    return msr_common(cpu, op, op->imm);
}

ARM_OP(MSR_reg)
{
    return msr_common(cpu, op, arm_reg(cpu, op, op->rn));
}

ARM_OP(MRS)
{
    uint32_t value;
    if (op->imm2 & 1) {
        uint32_t *spsr = arm_current_spsr(cpu);
        if (spsr == NULL) {
            arm_undefined(cpu, op);
        }
        value = *spsr;
    } else {
        value = arm_cpsr_read(cpu) & MRS_CPSR_MASK;
    }
    cpu->r[op->rd] = value;
    return ARM_NEXT;
}

/* CPS: a NOP in User mode. */
ARM_OP(CPS)
{
    if (!arm_cpu_privileged(cpu)) {
        return ARM_NEXT;
    }
    uint32_t value = 0, mask = 0;
    if (op->shift_type == 2 || op->shift_type == 3) {
        uint32_t aif = op->imm & (ARM_CPSR_A | ARM_CPSR_I | ARM_CPSR_F);
        mask |= aif;
        if (op->shift_type == 3) {
            value |= aif;
        }
        if ((aif & ARM_CPSR_F) && op->shift_type == 3 && ((cpu->cp15.sctlr >> 27) & 1)) {
            mask &= ~ARM_CPSR_F; /* NMFI */
        }
    }
    if (op->imm2 != 0 && arm_mode_valid(op->imm2)) {
        mask |= 0x1fu;
        value |= op->imm2;
    }
    if (mask != 0) {
        arm_cpsr_write(cpu, value, mask);
    }
    return ARM_NEXT;
}

ARM_OP(SETEND)
{
    arm_cpsr_write(cpu, op->imm ? ARM_CPSR_E : 0, ARM_CPSR_E);
    return ARM_NEXT;
}

/* ---- SRS and RFE ------------------------------------------------------------------------ */

/* Lowest address of the two words, for increment (U) / before (P); and the write-back value. */
static uint32_t two_words(const struct arm_uop *op, uint32_t base, uint32_t *wback)
{
    bool inc = (op->flags & ARM_UOP_U) != 0, before = (op->flags & ARM_UOP_P) != 0;
    uint32_t addr = inc ? base : base - 8;
    if (before == inc) {
        addr += 4; /* IB and DA: "wordhigher" */
    }
    *wback = inc ? base + 8 : base - 8;
    return addr;
}

/* SRS: store LR and SPSR of the current mode on the stack of mode op->imm. UNPREDICTABLE in
 * User and System modes (no SPSR) and for a bad mode: both UNDEFINED here. */
ARM_OP(SRS)
{
    uint32_t *spsr = arm_current_spsr(cpu);
    int bank = arm_mode_bank(op->imm);
    if (spsr == NULL || bank < 0) {
        arm_undefined(cpu, op);
    }
    bool current = bank == arm_mode_bank(arm_cpu_mode(cpu));
    uint32_t sp = current ? cpu->r[13] : cpu->banked_r13[bank];
    uint32_t wback;
    uint32_t addr = two_words(op, sp, &wback);
    arm_store(cpu, addr, 4, cpu->r[14], false, true);
    arm_store(cpu, addr + 4, 4, *spsr, false, true);
    if (op->flags & ARM_UOP_W) {
        if (current) {
            cpu->r[13] = wback;
        } else {
            cpu->banked_r13[bank] = wback;
        }
    }
    return ARM_NEXT;
}

/* RFE: UNPREDICTABLE in User mode: UNDEFINED here. */
ARM_OP(RFE)
{
    if (!arm_cpu_privileged(cpu)) {
        arm_undefined(cpu, op);
    }
    uint32_t wback;
    uint32_t addr = two_words(op, arm_reg(cpu, op, op->rn), &wback);
    uint32_t new_pc = arm_load(cpu, addr, 4, false, true);
    uint32_t new_cpsr = arm_load(cpu, addr + 4, 4, false, true);
    if (op->flags & ARM_UOP_W) {
        cpu->r[op->rn] = wback;
    }
    arm_exception_return(cpu, new_pc, new_cpsr);
    return ARM_BRANCH;
}

/* ---- coprocessors ----------------------------------------------------------------------- */

/* CP14: the debug registers read as zero (DBGDIDR = 0: no debug architecture to use, which
 * is what Linux checks); writes, ThumbEE and Jazelle registers are UNDEFINED. */
ARM_OP(MCR)
{
    uint32_t value = arm_reg(cpu, op, op->rd);
    if (op->rs != 15) {
        arm_undefined(cpu, op);
    }
    arm_cp15_write(cpu, op, op->imm, op->rn, op->rm, op->imm2, value);
    return ARM_NEXT;
}

ARM_OP(MRC)
{
    uint32_t value;
    if (op->rs == 15) {
        value = arm_cp15_read(cpu, op, op->imm, op->rn, op->rm, op->imm2);
    } else if (op->rs == 14 && op->imm == 0) {
        value = 0;
    } else {
        arm_undefined(cpu, op);
    }
    if (op->rd == 15) {
        /* APSR_nzcv form */
        cpu->cpsr_nzcv = (cpu->cpsr_nzcv & ~ARM_FLAGS_NZCV) | (value & ARM_FLAGS_NZCV);
    } else {
        cpu->r[op->rd] = value;
    }
    return ARM_NEXT;
}

ARM_OP(MCRR)
{
    if (op->rs != 15) {
        arm_undefined(cpu, op);
    }
    uint64_t value = ((uint64_t)arm_reg(cpu, op, op->ra) << 32) | arm_reg(cpu, op, op->rd);
    arm_cp15_write64(cpu, op, op->imm, op->rm, value);
    return ARM_NEXT;
}

ARM_OP(MRRC)
{
    if (op->rs != 15) {
        arm_undefined(cpu, op);
    }
    uint64_t value = arm_cp15_read64(cpu, op, op->imm, op->rm);
    cpu->r[op->rd] = (uint32_t)value;
    cpu->r[op->ra] = (uint32_t)(value >> 32);
    return ARM_NEXT;
}

/* ---- barriers, hints, preloads ---------------------------------------------------------- */

/*
 * The ST options (ISHST, NSHST, OSHST, ST: option<1:0> = 2) only order stores against
 * stores, which a release fence provides. ThreadSanitizer does not model standalone fences
 * (GCC refuses them with -Werror=tsan), so sanitizer builds use a sequentially consistent
 * read-modify-write of a private word instead: on the host it is the same full barrier.
 */
#ifdef __SANITIZE_THREAD__
static _Atomic uint32_t barrier_word;
#endif

static inline void barrier(const struct arm_uop *op)
{
#ifdef __SANITIZE_THREAD__
    (void)op;
    atomic_fetch_add_explicit(&barrier_word, 0, memory_order_seq_cst);
#else
    if ((op->imm & 3) == 2) {
        atomic_thread_fence(memory_order_release);
    } else {
        atomic_thread_fence(memory_order_seq_cst);
    }
#endif
}

ARM_OP(DMB)
{
    barrier(op);
    return ARM_NEXT;
}

/* DSB also completes the TLB and cache maintenance this core broadcast (exec.c). */
ARM_OP(DSB)
{
    arm_dsb(cpu);
    return ARM_NEXT;
}

/* The decoder ends the block after ISB, which is all a context synchronization needs here. */
ARM_OP(ISB)
{
    return ARM_NEXT;
}

ARM_OP(CLREX)
{
    cpu->atomic->clear_exclusive(cpu);
    return ARM_NEXT;
}

ARM_OP(NOP)
{
    return ARM_NEXT;
}

ARM_OP(YIELD)
{
    return ARM_NEXT;
}

ARM_OP(DBG)
{
    return ARM_NEXT;
}

ARM_OP(PLD)
{
    return ARM_NEXT;
}

ARM_OP(PLI)
{
    return ARM_NEXT;
}

/* IT: the block builder (exec.c) already gave the following instructions their conditions and
 * the executor keeps ITSTATE per instruction; writing it here matters when the block ends
 * right after the IT, so that the next block starts with the state this IT set. */
ARM_OP(IT)
{
    cpu->cpsr_it = op->imm;
    return ARM_NEXT;
}

ARM_OP(SEV)
{
    arm_sev(cpu);
    return ARM_NEXT;
}

/* WFI/WFE may sleep; the wake-up (an interrupt) is taken at the next block boundary. */
ARM_OP(WFE)
{
    cpu->next_pc = op->pc + op->len;
    arm_wfe(cpu);
    return ARM_BRANCH;
}

ARM_OP(WFI)
{
    cpu->next_pc = op->pc + op->len;
    arm_wfi(cpu);
    return ARM_BRANCH;
}
