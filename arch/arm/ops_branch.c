/*
 * coremu ARM — branches (B, BL, BLX, BX, and T32's CBZ/CBNZ and TBB/TBH; BXJ runs as BX: there
 * is no Jazelle) and the PC writes of data-processing instructions, including the exception-
 * return forms (SUBS pc, lr...).
 */
#include "config.h"

#include "ops.h"

/* The link value: the next instruction, with bit 0 set when it is Thumb code. */
static inline uint32_t link_value(const struct arm_uop *op)
{
    uint32_t next = op->pc + op->len;
    return (op->flags & ARM_UOP_THUMB) ? next | 1u : next;
}

/* 16 x 16 table: bit NZCV of entry cond says whether cond passes (arm_cond_pass). Here, with
 * arm_thread_general, because every program that links the specialised handlers links this
 * file. */
const uint16_t arm_cond_table[16] = {
    0xf0f0, 0x0f0f, 0xcccc, 0x3333, 0xff00, 0x00ff, 0xaaaa, 0x5555,
    0x0c0c, 0xf3f3, 0xaa55, 0x55aa, 0x0a05, 0xf5fa, 0xffff, 0xffff,
};

/* The executor's threaded handler for an always-executed instruction outside IT blocks that
 * has no threaded form of its own, and the slow path of those that have one (ops.h): cur_op
 * for exceptions inside fn, then fn, then the next micro-op unless fn branched. Here rather
 * than in exec.c so that the handler tests, which run handlers without the executor, link. */
const struct arm_uop *arm_thread_general(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->cur_op = op;
    if (op->fn(cpu, op) == ARM_BRANCH) {
        return op + 1;
    }
    ARM_THREAD_NEXT(cpu, op);
}

ARM_OP(B)
{
    cpu->next_pc = op->imm;
    return ARM_BRANCH;
}

ARM_OP(BL)
{
    cpu->r[14] = link_value(op);
    cpu->next_pc = op->imm;
    return ARM_BRANCH;
}

/* BLX (immediate) always changes instruction set; the decoder resolved the target (for a
 * Thumb caller already from Align(PC, 4)). */
ARM_OP(BLX_imm)
{
    cpu->r[14] = link_value(op);
    if (op->flags & ARM_UOP_THUMB) {
        cpu->cpsr_rest &= ~ARM_CPSR_T;
        cpu->next_pc = op->imm & ~3u;
    } else {
        cpu->cpsr_rest |= ARM_CPSR_T;
        cpu->next_pc = op->imm & ~1u;
    }
    return ARM_BRANCH;
}

ARM_OP(BLX_reg)
{
    uint32_t target = arm_reg(cpu, op, op->rm);
    cpu->r[14] = link_value(op);
    return arm_bx_write_pc(cpu, target);
}

ARM_OP(BX)
{
    return arm_bx_write_pc(cpu, arm_reg(cpu, op, op->rm));
}

/* CBZ/CBNZ: the decoder resolved the target (PC + imm); not taken falls through. */
ARM_OP(CBZ)
{
    if (arm_reg(cpu, op, op->rn) != 0) {
        return ARM_NEXT;
    }
    cpu->next_pc = op->imm;
    return ARM_BRANCH;
}

ARM_OP(CBNZ)
{
    if (arm_reg(cpu, op, op->rn) == 0) {
        return ARM_NEXT;
    }
    cpu->next_pc = op->imm;
    return ARM_BRANCH;
}

/* TBB/TBH: a forward branch by twice the byte/halfword at Rn + Rm (Rn + 2 * Rm); Rn may be
 * the PC (the table follows the instruction). Unaligned TBH is permitted (MemU). */
ARM_OP(TBB)
{
    uint32_t addr = arm_reg(cpu, op, op->rn) + arm_reg(cpu, op, op->rm);
    uint32_t halfwords = arm_load(cpu, addr, 1, false, false);
    return arm_branch_write_pc(cpu, arm_pc_operand(op) + 2 * halfwords);
}

ARM_OP(TBH)
{
    uint32_t addr = arm_reg(cpu, op, op->rn) + (arm_reg(cpu, op, op->rm) << 1);
    uint32_t halfwords = arm_load(cpu, addr, 2, false, false);
    return arm_branch_write_pc(cpu, arm_pc_operand(op) + 2 * halfwords);
}

enum arm_uop_result arm_dp_write_pc(struct arm_cpu *cpu, const struct arm_uop *op,
                                    uint32_t result)
{
    if (op->flags & ARM_UOP_S) {
        uint32_t *spsr = arm_current_spsr(cpu);
        /* UNPREDICTABLE in User and System modes, which have no SPSR: we branch without
         * touching the CPSR, the natural reading of "no SPSR to restore". */
        if (spsr != NULL) {
            arm_exception_return(cpu, result, *spsr);
            return ARM_BRANCH;
        }
    }
    return arm_alu_write_pc(cpu, op, result);
}
