/*
 * coremu ARM — multiplies (32- and 64-bit results, halfword and word-by-halfword, dual, most-
 * significant-word) and the integer divides. Field conventions: ops.h (long forms: rd = RdLo,
 * ra = RdHi).
 */
#include "config.h"

#include "ops.h"

static inline uint32_t rn(const struct arm_cpu *cpu, const struct arm_uop *op)
{
    return arm_reg(cpu, op, op->rn);
}

static inline uint32_t rm(const struct arm_cpu *cpu, const struct arm_uop *op)
{
    return arm_reg(cpu, op, op->rm);
}

static inline uint64_t acc64(const struct arm_cpu *cpu, const struct arm_uop *op)
{
    return ((uint64_t)arm_reg(cpu, op, op->ra) << 32) | arm_reg(cpu, op, op->rd);
}

static inline void write64(struct arm_cpu *cpu, const struct arm_uop *op, uint64_t result)
{
    /* RdHi first, then RdLo, as the ARM ARM writes them (RdHi == RdLo is UNPREDICTABLE). */
    cpu->r[op->ra] = (uint32_t)(result >> 32);
    cpu->r[op->rd] = (uint32_t)result;
    if (op->flags & ARM_UOP_S) {
        arm_set_nz64(cpu, result);
    }
}

static inline int32_t half(uint32_t x, unsigned shift)
{
    return (int16_t)(uint16_t)(x >> shift);
}

/* ---- 32-bit results (ARMv7: S sets N and Z; C and V are unchanged) --------------------- */

static inline enum arm_uop_result write32(struct arm_cpu *cpu, const struct arm_uop *op,
                                          uint32_t result)
{
    cpu->r[op->rd] = result;
    if (op->flags & ARM_UOP_S) {
        arm_set_nz(cpu, result);
    }
    return ARM_NEXT;
}

ARM_OP(MUL)
{
    return write32(cpu, op, rn(cpu, op) * rm(cpu, op));
}

ARM_OP(MLA)
{
    return write32(cpu, op, rn(cpu, op) * rm(cpu, op) + arm_reg(cpu, op, op->ra));
}

ARM_OP(MLS)
{
    cpu->r[op->rd] = arm_reg(cpu, op, op->ra) - rn(cpu, op) * rm(cpu, op);
    return ARM_NEXT;
}

/* ---- 64-bit results --------------------------------------------------------------------- */

ARM_OP(UMULL)
{
    write64(cpu, op, (uint64_t)rn(cpu, op) * rm(cpu, op));
    return ARM_NEXT;
}

ARM_OP(UMLAL)
{
    write64(cpu, op, (uint64_t)rn(cpu, op) * rm(cpu, op) + acc64(cpu, op));
    return ARM_NEXT;
}

ARM_OP(SMULL)
{
    write64(cpu, op, (uint64_t)((int64_t)(int32_t)rn(cpu, op) * (int32_t)rm(cpu, op)));
    return ARM_NEXT;
}

ARM_OP(SMLAL)
{
    uint64_t product = (uint64_t)((int64_t)(int32_t)rn(cpu, op) * (int32_t)rm(cpu, op));
    write64(cpu, op, product + acc64(cpu, op));
    return ARM_NEXT;
}

/* UMAAL: Rn * Rm + RdHi + RdLo cannot overflow 64 bits. */
ARM_OP(UMAAL)
{
    uint64_t result = (uint64_t)rn(cpu, op) * rm(cpu, op) + arm_reg(cpu, op, op->ra) +
                      arm_reg(cpu, op, op->rd);
    cpu->r[op->ra] = (uint32_t)(result >> 32);
    cpu->r[op->rd] = (uint32_t)result;
    return ARM_NEXT;
}

/* ---- halfword multiplies ---------------------------------------------------------------- */

ARM_OP(SMULxy)
{
    cpu->r[op->rd] = (uint32_t)(half(rn(cpu, op), op->imm) * half(rm(cpu, op), op->imm2));
    return ARM_NEXT;
}

ARM_OP(SMLAxy)
{
    int64_t result = (int64_t)half(rn(cpu, op), op->imm) * half(rm(cpu, op), op->imm2) +
                     (int32_t)arm_reg(cpu, op, op->ra);
    cpu->r[op->rd] = (uint32_t)result;
    arm_set_q_if(cpu, result != (int32_t)result);
    return ARM_NEXT;
}

ARM_OP(SMULWy)
{
    int64_t result = (int64_t)(int32_t)rn(cpu, op) * half(rm(cpu, op), op->imm2);
    cpu->r[op->rd] = (uint32_t)((uint64_t)result >> 16);
    return ARM_NEXT;
}

ARM_OP(SMLAWy)
{
    int64_t result = (int64_t)(int32_t)rn(cpu, op) * half(rm(cpu, op), op->imm2) +
                     (int64_t)(int32_t)arm_reg(cpu, op, op->ra) * 65536;
    int64_t top = result / 65536 - (result % 65536 < 0 ? 1 : 0); /* result >> 16, floored */
    cpu->r[op->rd] = (uint32_t)top;
    arm_set_q_if(cpu, top != (int32_t)top);
    return ARM_NEXT;
}

ARM_OP(SMLALxy)
{
    int64_t product = (int64_t)half(rn(cpu, op), op->imm) * half(rm(cpu, op), op->imm2);
    write64(cpu, op, (uint64_t)product + acc64(cpu, op));
    return ARM_NEXT;
}

/* ---- dual 16-bit multiplies ------------------------------------------------------------- */

/* The two products Rn.lo * Rm.lo and Rn.hi * Rm.hi, with Rm's halves swapped for the X
 * forms (imm = 1). */
static inline void dual(const struct arm_cpu *cpu, const struct arm_uop *op, int64_t *p1,
                        int64_t *p2)
{
    uint32_t n = rn(cpu, op), m = rm(cpu, op);
    if (op->imm) {
        m = arm_ror32(m, 16);
    }
    *p1 = (int64_t)half(n, 0) * half(m, 0);
    *p2 = (int64_t)half(n, 16) * half(m, 16);
}

ARM_OP(SMUAD)
{
    int64_t p1, p2;
    dual(cpu, op, &p1, &p2);
    int64_t result = p1 + p2;
    cpu->r[op->rd] = (uint32_t)result;
    arm_set_q_if(cpu, result != (int32_t)result);
    return ARM_NEXT;
}

ARM_OP(SMUSD)
{
    int64_t p1, p2;
    dual(cpu, op, &p1, &p2);
    cpu->r[op->rd] = (uint32_t)(p1 - p2);
    return ARM_NEXT;
}

ARM_OP(SMLAD)
{
    int64_t p1, p2;
    dual(cpu, op, &p1, &p2);
    int64_t result = p1 + p2 + (int32_t)arm_reg(cpu, op, op->ra);
    cpu->r[op->rd] = (uint32_t)result;
    arm_set_q_if(cpu, result != (int32_t)result);
    return ARM_NEXT;
}

ARM_OP(SMLSD)
{
    int64_t p1, p2;
    dual(cpu, op, &p1, &p2);
    int64_t result = p1 - p2 + (int32_t)arm_reg(cpu, op, op->ra);
    cpu->r[op->rd] = (uint32_t)result;
    arm_set_q_if(cpu, result != (int32_t)result);
    return ARM_NEXT;
}

ARM_OP(SMLALD)
{
    int64_t p1, p2;
    dual(cpu, op, &p1, &p2);
    write64(cpu, op, (uint64_t)(p1 + p2) + acc64(cpu, op));
    return ARM_NEXT;
}

ARM_OP(SMLSLD)
{
    int64_t p1, p2;
    dual(cpu, op, &p1, &p2);
    write64(cpu, op, (uint64_t)(p1 - p2) + acc64(cpu, op));
    return ARM_NEXT;
}

/* ---- most significant word -------------------------------------------------------------- */

/* Arithmetic is modulo 2^64: only bits 63:32 of the result are kept. */
static inline uint32_t smm(const struct arm_cpu *cpu, const struct arm_uop *op, uint64_t acc,
                           bool subtract)
{
    uint64_t product = (uint64_t)((int64_t)(int32_t)rn(cpu, op) * (int32_t)rm(cpu, op));
    uint64_t result = subtract ? acc - product : acc + product;
    if (op->imm) {
        result += 0x80000000u;
    }
    return (uint32_t)(result >> 32);
}

ARM_OP(SMMUL)
{
    cpu->r[op->rd] = smm(cpu, op, 0, false);
    return ARM_NEXT;
}

ARM_OP(SMMLA)
{
    cpu->r[op->rd] = smm(cpu, op, (uint64_t)arm_reg(cpu, op, op->ra) << 32, false);
    return ARM_NEXT;
}

ARM_OP(SMMLS)
{
    cpu->r[op->rd] = smm(cpu, op, (uint64_t)arm_reg(cpu, op, op->ra) << 32, true);
    return ARM_NEXT;
}

/* ---- divides: ARMv7-A has no divide-by-zero trap, the result is 0 ------------------------ */

ARM_OP(SDIV)
{
    int32_t n = (int32_t)rn(cpu, op), m = (int32_t)rm(cpu, op);
    uint32_t result;
    if (m == 0) {
        result = 0;
    } else if (m == -1) {
        result = 0u - (uint32_t)n; /* INT32_MIN / -1 wraps to INT32_MIN */
    } else {
        result = (uint32_t)(n / m);
    }
    cpu->r[op->rd] = result;
    return ARM_NEXT;
}

ARM_OP(UDIV)
{
    uint32_t n = rn(cpu, op), m = rm(cpu, op);
    cpu->r[op->rd] = m == 0 ? 0 : n / m;
    return ARM_NEXT;
}
