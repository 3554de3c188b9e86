/*
 * coremu ARM — parallel (SIMD within a register) add and subtract in their six flavours (S, Q,
 * SH, U, UQ, UH), saturating arithmetic (QADD...) and saturation (SSAT, USAT and the 16-bit
 * forms). Field conventions: ops.h.
 */
#include "config.h"

#include "ops.h"

/* Flavours: modular with GE flags, saturating, halving; signed or unsigned. */
enum par_kind { PAR_S, PAR_Q, PAR_SH, PAR_U, PAR_UQ, PAR_UH };

/*
 * Lane operations: ADD16 (add, add), ASX (lane 0: Rn.lo - Rm.hi, lane 1: Rn.hi + Rm.lo),
 * SAX (lane 0: Rn.lo + Rm.hi, lane 1: Rn.hi - Rm.lo), SUB16, ADD8, SUB8.
 */
enum par_op { PAR_ADD16, PAR_ASX, PAR_SAX, PAR_SUB16, PAR_ADD8, PAR_SUB8 };

static inline __attribute__((always_inline)) enum arm_uop_result
par_exec(struct arm_cpu *cpu, const struct arm_uop *op, enum par_kind kind, enum par_op pop)
{
    uint32_t n = arm_reg(cpu, op, op->rn), m = arm_reg(cpu, op, op->rm);
    bool is_signed = kind == PAR_S || kind == PAR_Q || kind == PAR_SH;
    unsigned width = (pop == PAR_ADD8 || pop == PAR_SUB8) ? 8 : 16;
    unsigned lanes = 32 / width;
    uint32_t lane_mask = (1u << width) - 1;
    uint32_t result = 0, ge = 0;

    if (pop == PAR_ASX || pop == PAR_SAX) {
        m = arm_ror32(m, 16); /* cross the halves */
    }
    for (unsigned i = 0; i < lanes; i++) {
        unsigned shift = i * width;
        int32_t a, b;
        if (is_signed) {
            a = width == 8 ? (int8_t)(uint8_t)(n >> shift) : (int16_t)(uint16_t)(n >> shift);
            b = width == 8 ? (int8_t)(uint8_t)(m >> shift) : (int16_t)(uint16_t)(m >> shift);
        } else {
            a = (int32_t)((n >> shift) & lane_mask);
            b = (int32_t)((m >> shift) & lane_mask);
        }
        bool sub = pop == PAR_SUB16 || pop == PAR_SUB8 || (pop == PAR_ASX && i == 0) ||
                   (pop == PAR_SAX && i == 1);
        int32_t r = sub ? a - b : a + b;
        bool sat = false, lane_ge = false;
        uint32_t out;
        switch (kind) {
        case PAR_S:
            out = (uint32_t)r;
            lane_ge = r >= 0;
            break;
        case PAR_U:
            out = (uint32_t)r;
            lane_ge = sub ? r >= 0 : r >= (int32_t)(1u << width);
            break;
        case PAR_Q:
            out = (uint32_t)arm_signed_sat_q(r, width, &sat);
            break;
        case PAR_UQ:
            out = arm_unsigned_sat_q(r, width, &sat);
            break;
        case PAR_SH:
        case PAR_UH:
        default:
            out = (uint32_t)(r >> 1); /* arithmetic: r has width + 1 significant bits */
            break;
        }
        result |= (out & lane_mask) << shift;
        if (lane_ge) {
            ge |= (width == 8 ? 1u : 3u) << (i * (width / 8));
        }
    }
    cpu->r[op->rd] = result;
    if (kind == PAR_S || kind == PAR_U) {
        cpu->cpsr_ge = ge;
    }
    return ARM_NEXT;
}

#define PAR_OPS(PREFIX, KIND)                                                                  \
    ARM_OP(PREFIX##ADD16)                                                                      \
    {                                                                                          \
        return par_exec(cpu, op, KIND, PAR_ADD16);                                             \
    }                                                                                          \
    ARM_OP(PREFIX##ASX)                                                                        \
    {                                                                                          \
        return par_exec(cpu, op, KIND, PAR_ASX);                                               \
    }                                                                                          \
    ARM_OP(PREFIX##SAX)                                                                        \
    {                                                                                          \
        return par_exec(cpu, op, KIND, PAR_SAX);                                               \
    }                                                                                          \
    ARM_OP(PREFIX##SUB16)                                                                      \
    {                                                                                          \
        return par_exec(cpu, op, KIND, PAR_SUB16);                                             \
    }                                                                                          \
    ARM_OP(PREFIX##ADD8)                                                                       \
    {                                                                                          \
        return par_exec(cpu, op, KIND, PAR_ADD8);                                              \
    }                                                                                          \
    ARM_OP(PREFIX##SUB8)                                                                       \
    {                                                                                          \
        return par_exec(cpu, op, KIND, PAR_SUB8);                                              \
    }

PAR_OPS(S, PAR_S)
PAR_OPS(Q, PAR_Q)
PAR_OPS(SH, PAR_SH)
PAR_OPS(U, PAR_U)
PAR_OPS(UQ, PAR_UQ)
PAR_OPS(UH, PAR_UH)

/* ---- saturating arithmetic (QADD Rd = sat(Rm + Rn), QDADD Rd = sat(Rm + sat(2 * Rn))) --- */

static inline enum arm_uop_result qarith(struct arm_cpu *cpu, const struct arm_uop *op,
                                         bool doubling, bool subtract)
{
    int64_t m = (int32_t)arm_reg(cpu, op, op->rm);
    int64_t n = (int32_t)arm_reg(cpu, op, op->rn);
    bool sat = false;
    if (doubling) {
        n = arm_signed_sat_q(2 * n, 32, &sat);
    }
    cpu->r[op->rd] = (uint32_t)arm_signed_sat_q(subtract ? m - n : m + n, 32, &sat);
    arm_set_q_if(cpu, sat);
    return ARM_NEXT;
}

ARM_OP(QADD)
{
    return qarith(cpu, op, false, false);
}

ARM_OP(QSUB)
{
    return qarith(cpu, op, false, true);
}

ARM_OP(QDADD)
{
    return qarith(cpu, op, true, false);
}

ARM_OP(QDSUB)
{
    return qarith(cpu, op, true, true);
}

/* ---- saturation ------------------------------------------------------------------------- */

ARM_OP(SSAT)
{
    bool sat = false;
    int32_t operand = (int32_t)arm_shift(arm_reg(cpu, op, op->rn), op->shift_type, op->shift_n,
                                         arm_flag_c(cpu));
    cpu->r[op->rd] = (uint32_t)arm_signed_sat_q(operand, op->imm, &sat);
    arm_set_q_if(cpu, sat);
    return ARM_NEXT;
}

ARM_OP(USAT)
{
    bool sat = false;
    int32_t operand = (int32_t)arm_shift(arm_reg(cpu, op, op->rn), op->shift_type, op->shift_n,
                                         arm_flag_c(cpu));
    cpu->r[op->rd] = arm_unsigned_sat_q(operand, op->imm, &sat);
    arm_set_q_if(cpu, sat);
    return ARM_NEXT;
}

ARM_OP(SSAT16)
{
    bool sat = false;
    uint32_t n = arm_reg(cpu, op, op->rn);
    uint32_t lo = (uint32_t)arm_signed_sat_q((int16_t)(uint16_t)n, op->imm, &sat) & 0xffffu;
    uint32_t hi = (uint32_t)arm_signed_sat_q((int16_t)(uint16_t)(n >> 16), op->imm, &sat);
    cpu->r[op->rd] = lo | (hi << 16);
    arm_set_q_if(cpu, sat);
    return ARM_NEXT;
}

ARM_OP(USAT16)
{
    bool sat = false;
    uint32_t n = arm_reg(cpu, op, op->rn);
    uint32_t lo = arm_unsigned_sat_q((int16_t)(uint16_t)n, op->imm, &sat);
    uint32_t hi = arm_unsigned_sat_q((int16_t)(uint16_t)(n >> 16), op->imm, &sat);
    cpu->r[op->rd] = lo | (hi << 16);
    arm_set_q_if(cpu, sat);
    return ARM_NEXT;
}
