/*
 * coremu ARM — branches (B, BL, BLX, BX; BXJ runs as BX: there is no Jazelle) and the PC writes
 * of data-processing instructions, including the exception-return forms (SUBS pc, lr...).
 */
#include "config.h"

#include "ops.h"

/* The link value: the next instruction, with bit 0 set when it is Thumb code. */
static inline uint32_t link_value(const struct arm_uop *op)
{
    uint32_t next = op->pc + op->len;
    return (op->flags & ARM_UOP_THUMB) ? next | 1u : next;
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
