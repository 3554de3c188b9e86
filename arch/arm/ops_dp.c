/*
 * coremu ARM — data-processing handlers: the sixteen ALU operations in their immediate,
 * register and register-shifted-register forms, MOVW/MOVT, bit fields, CLZ, byte reversal,
 * extension and packing, SEL, USAD8. Field conventions: ops.h.
 */
#include "config.h"

#include <coremu/util.h>

#include "ops.h"

enum dp_opc {
    DP_AND, DP_EOR, DP_SUB, DP_RSB, DP_ADD, DP_ADC, DP_SBC, DP_RSC,
    DP_TST, DP_TEQ, DP_CMP, DP_CMN, DP_ORR, DP_MOV, DP_BIC, DP_MVN, DP_ORN,
};

/*
 * The shared body of every ALU operation. opc is a constant at each call site, so the switch
 * folds away. m is the shifted operand and c the shifter's carry (2: keep C), used only by the
 * logical operations. rd_may_be_pc false: the caller knows Rd is not the PC (the threaded
 * fast forms, which cannot branch).
 */
static inline __attribute__((always_inline)) enum arm_uop_result
dp_exec_pc(struct arm_cpu *cpu, const struct arm_uop *op, enum dp_opc opc, uint32_t n,
           uint32_t m, unsigned c, bool rd_may_be_pc)
{
    uint32_t r;
    unsigned carry = 0, overflow = 0;
    bool arith = true;

    switch (opc) {
    case DP_AND:
    case DP_TST:
        r = n & m;
        arith = false;
        break;
    case DP_EOR:
    case DP_TEQ:
        r = n ^ m;
        arith = false;
        break;
    case DP_ORR:
        r = n | m;
        arith = false;
        break;
    case DP_ORN:
        r = n | ~m;
        arith = false;
        break;
    case DP_MOV:
        r = m;
        arith = false;
        break;
    case DP_BIC:
        r = n & ~m;
        arith = false;
        break;
    case DP_MVN:
        r = ~m;
        arith = false;
        break;
    case DP_SUB:
    case DP_CMP:
        r = arm_add_with_carry(n, ~m, 1, &carry, &overflow);
        break;
    case DP_RSB:
        r = arm_add_with_carry(~n, m, 1, &carry, &overflow);
        break;
    case DP_ADD:
    case DP_CMN:
        r = arm_add_with_carry(n, m, 0, &carry, &overflow);
        break;
    case DP_ADC:
        r = arm_add_with_carry(n, m, arm_flag_c(cpu), &carry, &overflow);
        break;
    case DP_SBC:
        r = arm_add_with_carry(n, ~m, arm_flag_c(cpu), &carry, &overflow);
        break;
    case DP_RSC:
    default:
        r = arm_add_with_carry(~n, m, arm_flag_c(cpu), &carry, &overflow);
        break;
    }

    bool test = opc == DP_TST || opc == DP_TEQ || opc == DP_CMP || opc == DP_CMN;
    if (!test) {
        if (rd_may_be_pc && __builtin_expect(op->rd == 15, 0)) {
            return arm_dp_write_pc(cpu, op, r);
        }
        cpu->r[op->rd] = r;
        if (!(op->flags & ARM_UOP_S)) {
            return ARM_NEXT;
        }
    }
    if (arith) {
        arm_set_nzcv(cpu, r, carry, overflow);
    } else {
        arm_set_nzc(cpu, r, c);
    }
    return ARM_NEXT;
}

static inline __attribute__((always_inline)) enum arm_uop_result
dp_exec(struct arm_cpu *cpu, const struct arm_uop *op, enum dp_opc opc, uint32_t n, uint32_t m,
        unsigned c)
{
    return dp_exec_pc(cpu, op, opc, n, m, c, true);
}

/* Operand 2 forms. */
#define DP_HANDLERS(NAME, OPC)                                                                  \
    ARM_OP(NAME##_imm)                                                                          \
    {                                                                                           \
        return dp_exec(cpu, op, OPC, arm_reg(cpu, op, op->rn), op->imm, op->carry);             \
    }                                                                                           \
    ARM_OP(NAME##_reg)                                                                          \
    {                                                                                           \
        unsigned c;                                                                             \
        uint32_t m = arm_shift_c(arm_reg(cpu, op, op->rm), op->shift_type, op->shift_n,         \
                                 arm_flag_c(cpu), &c);                                          \
        return dp_exec(cpu, op, OPC, arm_reg(cpu, op, op->rn), m, c);                           \
    }

#define DP_HANDLERS_RSR(NAME, OPC)                                                              \
    DP_HANDLERS(NAME, OPC)                                                                      \
    ARM_OP(NAME##_rsr)                                                                          \
    {                                                                                           \
        unsigned c;                                                                             \
        uint32_t m = arm_shift_c(arm_reg(cpu, op, op->rm), op->shift_type,                      \
                                 arm_reg(cpu, op, op->rs) & 0xff, arm_flag_c(cpu), &c);         \
        return dp_exec(cpu, op, OPC, arm_reg(cpu, op, op->rn), m, c);                           \
    }

DP_HANDLERS_RSR(AND, DP_AND)
DP_HANDLERS_RSR(EOR, DP_EOR)
DP_HANDLERS_RSR(SUB, DP_SUB)
DP_HANDLERS_RSR(RSB, DP_RSB)
DP_HANDLERS_RSR(ADD, DP_ADD)
DP_HANDLERS_RSR(ADC, DP_ADC)
DP_HANDLERS_RSR(SBC, DP_SBC)
DP_HANDLERS_RSR(RSC, DP_RSC)
DP_HANDLERS_RSR(TST, DP_TST)
DP_HANDLERS_RSR(TEQ, DP_TEQ)
DP_HANDLERS_RSR(CMP, DP_CMP)
DP_HANDLERS_RSR(CMN, DP_CMN)
DP_HANDLERS_RSR(ORR, DP_ORR)
DP_HANDLERS_RSR(MOV, DP_MOV)
DP_HANDLERS_RSR(BIC, DP_BIC)
DP_HANDLERS_RSR(MVN, DP_MVN)
DP_HANDLERS(ORN, DP_ORN)

/* ADR: Align(PC, 4) +/- imm. In ARM state the PC is aligned already; Thumb needs the Align. */
ARM_OP(ADR)
{
    uint32_t base = arm_pc_operand(op) & ~3u;
    uint32_t r = (op->flags & ARM_UOP_U) ? base + op->imm : base - op->imm;
    if (op->rd == 15) {
        return arm_dp_write_pc(cpu, op, r);
    }
    cpu->r[op->rd] = r;
    return ARM_NEXT;
}

ARM_OP(MOVW)
{
    cpu->r[op->rd] = op->imm;
    return ARM_NEXT;
}

ARM_OP(MOVT)
{
    cpu->r[op->rd] = (cpu->r[op->rd] & 0xffffu) | (op->imm << 16);
    return ARM_NEXT;
}

/* ---- bit fields ------------------------------------------------------------------------- */

static inline uint32_t field_mask(unsigned lsb, unsigned msb)
{
    uint32_t width_mask = (msb - lsb == 31) ? ~0u : ((1u << (msb - lsb + 1)) - 1);
    return width_mask << lsb;
}

ARM_OP(BFC)
{
    cpu->r[op->rd] &= ~field_mask(op->imm, op->imm2);
    return ARM_NEXT;
}

ARM_OP(BFI)
{
    uint32_t mask = field_mask(op->imm, op->imm2);
    cpu->r[op->rd] = (cpu->r[op->rd] & ~mask) | ((arm_reg(cpu, op, op->rn) << op->imm) & mask);
    return ARM_NEXT;
}

ARM_OP(SBFX)
{
    unsigned width = op->imm2 + 1;
    /* Move the field to the top, then shift it back arithmetically. */
    uint32_t x = arm_reg(cpu, op, op->rn) << (32 - op->imm - width);
    cpu->r[op->rd] = (uint32_t)((int32_t)x >> (32 - width));
    return ARM_NEXT;
}

ARM_OP(UBFX)
{
    unsigned width = op->imm2 + 1;
    uint32_t x = arm_reg(cpu, op, op->rn) >> op->imm;
    cpu->r[op->rd] = width == 32 ? x : x & ((1u << width) - 1);
    return ARM_NEXT;
}

ARM_OP(CLZ)
{
    uint32_t m = arm_reg(cpu, op, op->rm);
    cpu->r[op->rd] = m == 0 ? 32 : (uint32_t)__builtin_clz(m);
    return ARM_NEXT;
}

/* ---- byte and bit reversal -------------------------------------------------------------- */

ARM_OP(REV)
{
    cpu->r[op->rd] = __builtin_bswap32(arm_reg(cpu, op, op->rm));
    return ARM_NEXT;
}

ARM_OP(REV16)
{
    uint32_t m = arm_reg(cpu, op, op->rm);
    cpu->r[op->rd] = ((m & 0x00ff00ffu) << 8) | ((m >> 8) & 0x00ff00ffu);
    return ARM_NEXT;
}

ARM_OP(REVSH)
{
    uint32_t m = arm_reg(cpu, op, op->rm);
    cpu->r[op->rd] = (uint32_t)(int32_t)(int16_t)(uint16_t)(((m & 0xff) << 8) | ((m >> 8) & 0xff));
    return ARM_NEXT;
}

ARM_OP(RBIT)
{
    uint32_t x = arm_reg(cpu, op, op->rm);
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    cpu->r[op->rd] = __builtin_bswap32(x);
    return ARM_NEXT;
}

/* ---- extension and packing -------------------------------------------------------------- */

static inline uint32_t rotated_rm(const struct arm_cpu *cpu, const struct arm_uop *op)
{
    return arm_ror32(arm_reg(cpu, op, op->rm), op->shift_n);
}

ARM_OP(SXTB)
{
    cpu->r[op->rd] = (uint32_t)(int32_t)(int8_t)(uint8_t)rotated_rm(cpu, op);
    return ARM_NEXT;
}

ARM_OP(SXTH)
{
    cpu->r[op->rd] = (uint32_t)(int32_t)(int16_t)(uint16_t)rotated_rm(cpu, op);
    return ARM_NEXT;
}

ARM_OP(UXTB)
{
    cpu->r[op->rd] = rotated_rm(cpu, op) & 0xffu;
    return ARM_NEXT;
}

ARM_OP(UXTH)
{
    cpu->r[op->rd] = rotated_rm(cpu, op) & 0xffffu;
    return ARM_NEXT;
}

ARM_OP(SXTAB)
{
    cpu->r[op->rd] =
        arm_reg(cpu, op, op->rn) + (uint32_t)(int32_t)(int8_t)(uint8_t)rotated_rm(cpu, op);
    return ARM_NEXT;
}

ARM_OP(SXTAH)
{
    cpu->r[op->rd] =
        arm_reg(cpu, op, op->rn) + (uint32_t)(int32_t)(int16_t)(uint16_t)rotated_rm(cpu, op);
    return ARM_NEXT;
}

ARM_OP(UXTAB)
{
    cpu->r[op->rd] = arm_reg(cpu, op, op->rn) + (rotated_rm(cpu, op) & 0xffu);
    return ARM_NEXT;
}

ARM_OP(UXTAH)
{
    cpu->r[op->rd] = arm_reg(cpu, op, op->rn) + (rotated_rm(cpu, op) & 0xffffu);
    return ARM_NEXT;
}

/* The 16-bit lanes of the B16 forms: bytes 0 and 2 of the rotated Rm, extended to 16 bits. */
static inline uint32_t sext_b16(uint32_t x)
{
    uint32_t lo = (uint16_t)(int16_t)(int8_t)(uint8_t)x;
    uint32_t hi = (uint16_t)(int16_t)(int8_t)(uint8_t)(x >> 16);
    return lo | (hi << 16);
}

static inline uint32_t add16x2(uint32_t a, uint32_t b)
{
    uint32_t lo = (a + b) & 0xffffu;
    uint32_t hi = ((a >> 16) + (b >> 16)) & 0xffffu;
    return lo | (hi << 16);
}

ARM_OP(SXTB16)
{
    cpu->r[op->rd] = sext_b16(rotated_rm(cpu, op));
    return ARM_NEXT;
}

ARM_OP(UXTB16)
{
    cpu->r[op->rd] = rotated_rm(cpu, op) & 0x00ff00ffu;
    return ARM_NEXT;
}

ARM_OP(SXTAB16)
{
    cpu->r[op->rd] = add16x2(arm_reg(cpu, op, op->rn), sext_b16(rotated_rm(cpu, op)));
    return ARM_NEXT;
}

ARM_OP(UXTAB16)
{
    cpu->r[op->rd] = add16x2(arm_reg(cpu, op, op->rn), rotated_rm(cpu, op) & 0x00ff00ffu);
    return ARM_NEXT;
}

ARM_OP(PKHBT)
{
    uint32_t m = arm_shift(arm_reg(cpu, op, op->rm), op->shift_type, op->shift_n, 0);
    cpu->r[op->rd] = (m & 0xffff0000u) | (arm_reg(cpu, op, op->rn) & 0xffffu);
    return ARM_NEXT;
}

ARM_OP(PKHTB)
{
    uint32_t m = arm_shift(arm_reg(cpu, op, op->rm), op->shift_type, op->shift_n, 0);
    cpu->r[op->rd] = (arm_reg(cpu, op, op->rn) & 0xffff0000u) | (m & 0xffffu);
    return ARM_NEXT;
}

ARM_OP(SEL)
{
    uint32_t mask = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (cpu->cpsr_ge & (1u << i)) {
            mask |= 0xffu << (8 * i);
        }
    }
    cpu->r[op->rd] = (arm_reg(cpu, op, op->rn) & mask) | (arm_reg(cpu, op, op->rm) & ~mask);
    return ARM_NEXT;
}

static inline uint32_t usad8(uint32_t n, uint32_t m)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < 32; i += 8) {
        int a = (int)((n >> i) & 0xff), b = (int)((m >> i) & 0xff);
        sum += (uint32_t)(a > b ? a - b : b - a);
    }
    return sum;
}

ARM_OP(USAD8)
{
    cpu->r[op->rd] = usad8(arm_reg(cpu, op, op->rn), arm_reg(cpu, op, op->rm));
    return ARM_NEXT;
}

ARM_OP(USADA8)
{
    cpu->r[op->rd] =
        arm_reg(cpu, op, op->ra) + usad8(arm_reg(cpu, op, op->rn), arm_reg(cpu, op, op->rm));
    return ARM_NEXT;
}

/* ---- specialised forms -------------------------------------------------------------------
 *
 * The decoders produce the general handlers above; the block builder (exec.c) then calls
 * arm_dp_specialise, which swaps in a handler that does the same for the operands at hand
 * with less work at run time: none of the registers is the PC (so no arm_reg test and no
 * ALUWritePC), and a register operand is either unshifted or shifted by a constant 1..31 of a
 * type known at compile time (so no Shift_C switch). Flag setting stays a run-time test in
 * dp_exec: it is one well-predicted branch. Each fast handler computes exactly what its
 * general handler computes for such operands.
 */

/* Shift_C for amount 1..31 of a constant type (never RRX, never 0 or >= 32). */
static inline __attribute__((always_inline)) uint32_t
shift_const_c(uint32_t value, unsigned type, unsigned amount, unsigned *carry_out)
{
    switch (type) {
    case ARM_SHIFT_LSL:
        *carry_out = (value >> (32 - amount)) & 1;
        return value << amount;
    case ARM_SHIFT_LSR:
        *carry_out = (value >> (amount - 1)) & 1;
        return value >> amount;
    case ARM_SHIFT_ASR:
        *carry_out = (value >> (amount - 1)) & 1;
        return (uint32_t)((int32_t)value >> amount);
    default: {
        uint32_t r = (value >> amount) | (value << (32 - amount));
        *carry_out = r >> 31;
        return r;
    }
    }
}

/* Rn as an operand; MOV and MVN have none (the decoders may leave anything in op->rn). */
#define DP_N(OPC) (((OPC) == DP_MOV || (OPC) == DP_MVN) ? 0u : cpu->r[op->rn])

/* Each fast form comes as a handler (for the executor's generic path: conditional or
 * IT-block instructions) and as a threaded handler, which never has Rd = PC to deal with. */
#define DP_FAST_PAIR(NAME, SUFFIX, OPC, N, M, C)                                                \
    static ARM_OP(fast_##NAME##_##SUFFIX)                                                       \
    {                                                                                           \
        unsigned c = (C);                                                                       \
        uint32_t m = (M);                                                                       \
        return dp_exec(cpu, op, OPC, (N), m, c);                                                \
    }                                                                                           \
    static ARM_THREAD_OP(fast_##NAME##_##SUFFIX)                                                \
    {                                                                                           \
        unsigned c = (C);                                                                       \
        uint32_t m = (M);                                                                       \
        dp_exec_pc(cpu, op, OPC, (N), m, c, false);                                             \
        ARM_THREAD_NEXT(cpu, op);                                                               \
    }                                                                                           \
    static ARM_THREAD_COND(fast_##NAME##_##SUFFIX##_cc, fast_##NAME##_##SUFFIX)

#define DP_FAST(NAME, OPC)                                                                      \
    DP_FAST_PAIR(NAME, imm, OPC, DP_N(OPC), op->imm, op->carry)                                 \
    DP_FAST_PAIR(NAME, rr, OPC, DP_N(OPC), cpu->r[op->rm], 2)                                   \
    DP_FAST_SHIFT(NAME, OPC, lsl, ARM_SHIFT_LSL)                                                \
    DP_FAST_SHIFT(NAME, OPC, lsr, ARM_SHIFT_LSR)                                                \
    DP_FAST_SHIFT(NAME, OPC, asr, ARM_SHIFT_ASR)                                                \
    DP_FAST_SHIFT(NAME, OPC, ror, ARM_SHIFT_ROR)

/* C is only a starting value here: shift_const_c, computing M, sets c to the shifter's carry. */
#define DP_FAST_SHIFT(NAME, OPC, SUFFIX, TYPE)                                                  \
    DP_FAST_PAIR(NAME, SUFFIX, OPC, DP_N(OPC),                                                  \
                 shift_const_c(cpu->r[op->rm], TYPE, op->shift_n, &c), 0)

DP_FAST(AND, DP_AND)
DP_FAST(EOR, DP_EOR)
DP_FAST(SUB, DP_SUB)
DP_FAST(RSB, DP_RSB)
DP_FAST(ADD, DP_ADD)
DP_FAST(ADC, DP_ADC)
DP_FAST(SBC, DP_SBC)
DP_FAST(RSC, DP_RSC)
DP_FAST(TST, DP_TST)
DP_FAST(TEQ, DP_TEQ)
DP_FAST(CMP, DP_CMP)
DP_FAST(CMN, DP_CMN)
DP_FAST(ORR, DP_ORR)
DP_FAST(MOV, DP_MOV)
DP_FAST(BIC, DP_BIC)
DP_FAST(MVN, DP_MVN)
DP_FAST(ORN, DP_ORN)

struct dp_fast {
    arm_uop_fn imm_fn, reg_fn;      /* the general handlers */
    arm_uop_fn imm, rr, shifted[4]; /* their fast forms; shifted by SRType */
    arm_uop_tfn imm_t, rr_t, shifted_t[4]; /* and the threaded ones */
    arm_uop_tfn imm_tc, rr_tc, shifted_tc[4]; /* threaded, for conditional instructions */
    bool uses_rn, writes_rd;
};

#define DP_FAST_ROW(NAME, RN, RD)                                                               \
    {arm_op_##NAME##_imm,                                                                       \
     arm_op_##NAME##_reg,                                                                       \
     arm_op_fast_##NAME##_imm,                                                                  \
     arm_op_fast_##NAME##_rr,                                                                   \
     {arm_op_fast_##NAME##_lsl, arm_op_fast_##NAME##_lsr, arm_op_fast_##NAME##_asr,             \
      arm_op_fast_##NAME##_ror},                                                                \
     arm_thr_fast_##NAME##_imm,                                                                 \
     arm_thr_fast_##NAME##_rr,                                                                  \
     {arm_thr_fast_##NAME##_lsl, arm_thr_fast_##NAME##_lsr, arm_thr_fast_##NAME##_asr,          \
      arm_thr_fast_##NAME##_ror},                                                               \
     arm_thr_fast_##NAME##_imm_cc,                                                              \
     arm_thr_fast_##NAME##_rr_cc,                                                               \
     {arm_thr_fast_##NAME##_lsl_cc, arm_thr_fast_##NAME##_lsr_cc, arm_thr_fast_##NAME##_asr_cc, \
      arm_thr_fast_##NAME##_ror_cc},                                                            \
     RN,                                                                                        \
     RD}

static const struct dp_fast dp_fast_table[] = {
    DP_FAST_ROW(AND, true, true),  DP_FAST_ROW(EOR, true, true),  DP_FAST_ROW(SUB, true, true),
    DP_FAST_ROW(RSB, true, true),  DP_FAST_ROW(ADD, true, true),  DP_FAST_ROW(ADC, true, true),
    DP_FAST_ROW(SBC, true, true),  DP_FAST_ROW(RSC, true, true),  DP_FAST_ROW(TST, true, false),
    DP_FAST_ROW(TEQ, true, false), DP_FAST_ROW(CMP, true, false), DP_FAST_ROW(CMN, true, false),
    DP_FAST_ROW(ORR, true, true),  DP_FAST_ROW(MOV, false, true), DP_FAST_ROW(BIC, true, true),
    DP_FAST_ROW(MVN, false, true), DP_FAST_ROW(ORN, true, true),
};

bool arm_dp_specialise(struct arm_uop *op)
{
    bool cond = op->cond < 0xe;

    for (size_t i = 0; i < COREMU_ARRAY_SIZE(dp_fast_table); i++) {
        const struct dp_fast *f = &dp_fast_table[i];
        if (op->fn != f->imm_fn && op->fn != f->reg_fn) {
            continue;
        }
        if ((f->uses_rn && op->rn == 15) || (f->writes_rd && op->rd == 15)) {
            return false;
        }
        if (op->fn == f->imm_fn) {
            op->fn = f->imm;
            op->tfn = cond ? f->imm_tc : f->imm_t;
            return true;
        }
        if (op->rm == 15) {
            return false;
        }
        if (op->shift_type == ARM_SHIFT_LSL && op->shift_n == 0) {
            op->fn = f->rr;
            op->tfn = cond ? f->rr_tc : f->rr_t;
            return true;
        }
        if (op->shift_type < ARM_SHIFT_RRX && op->shift_n >= 1 && op->shift_n <= 31) {
            op->fn = f->shifted[op->shift_type];
            op->tfn = cond ? f->shifted_tc[op->shift_type] : f->shifted_t[op->shift_type];
            return true;
        }
        return false;
    }
    return false;
}
