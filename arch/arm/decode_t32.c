/*
 * coremu ARM — the T32 (Thumb state) decoder: every ARMv7-A 16-bit and 32-bit Thumb encoding,
 * turned into the same micro-ops as A32 (ops.h documents their fields).
 *
 * As in decode_a32.c the encodings are data: each row is a pattern drawn as the ARM ARM (DDI
 * 0406C, chapter A6 and the instruction pages) draws it, a field builder and the handler named
 * after the instruction. '0' and '1' are fixed bits, "(0)" and "(1)" should-be-zero/one bits
 * (a wrong value is UNPREDICTABLE: the instruction executes as if they were right;
 * arm_t32_canonical() sets them right), any other character is part of a field; spaces are
 * ignored. 16-bit rows have 16 bits; 32-bit rows have 32, the first halfword in bits 31..16.
 * Rows are tried in order, so a specific encoding precedes the general one it carves out of.
 *
 * The PC as an operand reads as the instruction's address + 4 (the handlers do it, from
 * ARM_UOP_THUMB); ADR and the literal loads use Align(PC, 4) (the handlers align). The
 * decoder resolves branch targets itself: B, BL, CBZ/CBNZ from PC, BLX from Align(PC, 4).
 *
 * IT blocks. The block builder (exec.c) passes the IT state in force; inside a block the
 * instruction takes the block's condition (op->cond = ITSTATE<7:4>), outside it is AL; only
 * B<cond> carries its own condition, and BKPT is unconditional everywhere. The 16-bit data-
 * processing instructions set the flags only outside an IT block (their S is !InITBlock()).
 * The IT instruction itself gets a handler that writes the new state into the CPSR, for a
 * block that ends right after it; the builder tracks the state of the instructions it decodes.
 *
 * UNPREDICTABLE cases (the ARM ARM lists many in T32), the policy:
 *   - an instruction the ARM ARM forbids inside an IT block (IT, B<cond>, CBZ/CBNZ, CPS,
 *     SETEND, HVC) is UNDEFINED there; so is an instruction that writes the PC (branches, loads
 *     and data processing to the PC, TBB/TBH, SUBS pc, lr, RFE, SMC) inside an IT block but
 *     not last in it: taken, it would leave IT state behind for the target;
 *   - R15 named where it is UNPREDICTABLE (a destination or operand of an instruction that
 *     cannot branch, the base of a store or of LDM/STM, Rm of a load) is UNDEFINED; R13 named
 *     where it is UNPREDICTABLE executes naturally, as an ordinary register: the handlers give
 *     it no special meaning, and no correct program depends on the difference;
 *   - empty register lists, LDRD/STRD/exclusives naming R15, bit fields with msb < lsb or
 *     lsb + width > 32, the UNPREDICTABLE IT conditions (firstcond 1111, or AL with an else)
 *     and CPS forms, an MSR with an empty mask, and REV/RBIT/CLZ whose two copies of Rm
 *     differ are UNDEFINED; so are the unallocated encodings objdump tolerates (register-
 *     offset loads with bits 7:6 set, for instance);
 *   - others execute as the natural generalisation (LDM/STM with a single register or with
 *     both LR and PC, write-back with Rn == Rt, LDRD with Rt == Rt2, MOVS Rd, Rm (the LSL #0
 *     encoding) inside an IT block, which runs as LSL #0 without flags as ARMv8 defines it).
 * MRS/MSR (banked) belong to the Virtualization Extensions: UNDEFINED, as in A32. HVC goes to
 * the HVC handler, as in A32 (the board's firmware serves PSCI calls through it; the handler
 * raises UNDEFINED when the firmware declines). SUBS pc, lr, #imm (and ERET, its #0 form) is
 * the base architecture's exception return in T32. There is no ThumbEE: ENTERX/LEAVEX are
 * UNDEFINED, and BXJ is BX. Coprocessors: CP15 and the CP14 debug reads as in A32, CP10/CP11
 * and the Advanced SIMD spaces go to the VFP decoder, everything else is UNDEFINED.
 */
#include "config.h"

#include <string.h>

#include <coremu/util.h>

#include "decode_common.h"

/* IT-block rules of a row, applied after its builder. */
enum t32_kind {
    K_PLAIN,     /* anything goes in an IT block */
    K_BRANCH,    /* writes the PC: ends the block, must be last in an IT block */
    K_NOT_IN_IT, /* UNPREDICTABLE in an IT block */
};

/* ---- field helpers ---------------------------------------------------------------------- */

static bool in_it(const struct arm_uop *op)
{
    return (op->itstate & 0xf) != 0;
}

static bool last_in_it(const struct arm_uop *op)
{
    return (op->itstate & 0xf) == 0x8;
}

/* An instruction that writes the PC ends its block and, in an IT block, must be the last. */
static void writes_pc(struct arm_uop *op)
{
    op->flags |= ARM_UOP_ENDS_BLOCK;
    if (in_it(op) && !last_in_it(op)) {
        reject(op);
    }
}

/* The 16-bit data-processing encodings: setflags = !InITBlock(). */
static void s_outside_it(struct arm_uop *op)
{
    if (!in_it(op)) {
        op->flags |= ARM_UOP_S;
    }
}

static uint8_t reg(uint32_t insn, unsigned lo)
{
    return (uint8_t)BITS(insn, lo + 3, lo);
}

static uint8_t low_reg(uint32_t insn, unsigned lo)
{
    return (uint8_t)BITS(insn, lo + 2, lo);
}

/*
 * ThumbExpandImm_C(i:imm3:imm8): a byte, replicated in one of three patterns (the carry is
 * unchanged: 2), or an 8-bit value with its top bit set, rotated right by 8..31 (the carry is
 * bit 31 of the result). The replicated patterns of a zero byte are UNPREDICTABLE: zero.
 */
static void thumb_expand_imm(uint32_t insn, struct arm_uop *op)
{
    uint32_t imm12 = (BIT(insn, 26) << 11) | (BITS(insn, 14, 12) << 8) | BITS(insn, 7, 0);
    uint32_t imm8 = imm12 & 0xff;
    if (BITS(imm12, 11, 10) == 0) {
        static const uint32_t replicate[4] = {1u, 0x00010001u, 0x01000100u, 0x01010101u};
        op->imm = imm8 * replicate[BITS(imm12, 9, 8)];
        op->carry = 2;
    } else {
        op->imm = arm_ror32(0x80u | (imm12 & 0x7f), BITS(imm12, 11, 7));
        op->carry = (uint8_t)(op->imm >> 31);
    }
}

/* imm3:imm2 of the 32-bit shift and bit-field encodings. */
static unsigned imm3_imm2(uint32_t insn)
{
    return (BITS(insn, 14, 12) << 2) | BITS(insn, 7, 6);
}

/* Sign-extended branch offsets. */
static uint32_t sext(uint32_t value, unsigned bits)
{
    uint32_t sign = 1u << (bits - 1);
    return (value ^ sign) - sign;
}

/* The S:I1:I2 prefix of the 32-bit B/BL/BLX offsets (I = NOT(J XOR S)). */
static uint32_t branch_si1i2(uint32_t insn)
{
    uint32_t s = BIT(insn, 26);
    uint32_t i1 = !(BIT(insn, 13) ^ s), i2 = !(BIT(insn, 11) ^ s);
    return (s << 2) | (i1 << 1) | i2;
}

/* ---- builders: 16-bit ------------------------------------------------------------------- */

/* LSL/LSR/ASR #imm; the LSL #0 encoding is MOVS Rd, Rm. */
static void b16_shift_imm(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 0);
    op->rm = low_reg(insn, 3);
    imm_shift(BITS(insn, 12, 11), BITS(insn, 10, 6), op);
    s_outside_it(op);
}

static void b16_addsub_reg(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 0);
    op->rn = low_reg(insn, 3);
    op->rm = low_reg(insn, 6);
    s_outside_it(op);
}

static void b16_addsub_imm3(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 0);
    op->rn = low_reg(insn, 3);
    op->imm = BITS(insn, 8, 6);
    op->carry = 2;
    s_outside_it(op);
}

static void b16_mov_imm(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 8);
    op->imm = BITS(insn, 7, 0);
    op->carry = 2;
    s_outside_it(op);
}

static void b16_cmp_imm(uint32_t insn, struct arm_uop *op)
{
    op->rn = low_reg(insn, 8);
    op->imm = BITS(insn, 7, 0);
    op->carry = 2;
}

static void b16_rdn_imm8(uint32_t insn, struct arm_uop *op)
{
    op->rd = op->rn = low_reg(insn, 8);
    op->imm = BITS(insn, 7, 0);
    op->carry = 2;
    s_outside_it(op);
}

/* <op>S Rdn, Rm: AND EOR ADC SBC ORR BIC. */
static void b16_dp(uint32_t insn, struct arm_uop *op)
{
    op->rd = op->rn = low_reg(insn, 0);
    op->rm = low_reg(insn, 3);
    s_outside_it(op);
}

static void b16_mvn(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 0);
    op->rm = low_reg(insn, 3);
    s_outside_it(op);
}

/* LSL/LSR/ASR/ROR Rdn, Rm: Rdn shifted by Rm<7:0>. */
static void b16_shift_reg(uint32_t insn, struct arm_uop *op)
{
    static const uint8_t type[16] = {[2] = ARM_SHIFT_LSL, [3] = ARM_SHIFT_LSR,
                                     [4] = ARM_SHIFT_ASR, [7] = ARM_SHIFT_ROR};
    op->rd = op->rm = low_reg(insn, 0);
    op->rs = low_reg(insn, 3);
    op->shift_type = type[BITS(insn, 9, 6)];
    s_outside_it(op);
}

static void b16_test(uint32_t insn, struct arm_uop *op)
{
    op->rn = low_reg(insn, 0);
    op->rm = low_reg(insn, 3);
}

/* RSBS Rd, Rn, #0 */
static void b16_rsb(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 0);
    op->rn = low_reg(insn, 3);
    op->carry = 2;
    s_outside_it(op);
}

/* MULS Rdm, Rn, Rdm */
static void b16_mul(uint32_t insn, struct arm_uop *op)
{
    op->rd = op->rm = low_reg(insn, 0);
    op->rn = low_reg(insn, 3);
    s_outside_it(op);
}

/* D:Rdn of the high-register forms. */
static uint8_t high_rdn(uint32_t insn)
{
    return (uint8_t)((BIT(insn, 7) << 3) | BITS(insn, 2, 0));
}

static void b16_add_hi(uint32_t insn, struct arm_uop *op)
{
    op->rd = op->rn = high_rdn(insn);
    op->rm = reg(insn, 3);
    if (op->rd == 15 && op->rm == 15) {
        reject(op);
    } else if (op->rd == 15) {
        writes_pc(op);
    }
}

static void b16_cmp_hi(uint32_t insn, struct arm_uop *op)
{
    op->rn = high_rdn(insn);
    op->rm = reg(insn, 3);
    if (op->rn == 15 || op->rm == 15) {
        reject(op);
    }
}

static void b16_mov_hi(uint32_t insn, struct arm_uop *op)
{
    op->rd = high_rdn(insn);
    op->rm = reg(insn, 3);
    if (op->rd == 15) {
        writes_pc(op);
    }
}

static void b16_bx(uint32_t insn, struct arm_uop *op)
{
    op->rm = reg(insn, 3);
}

static void b16_blx(uint32_t insn, struct arm_uop *op)
{
    op->rm = reg(insn, 3);
    if (op->rm == 15) {
        reject(op);
    }
}

static void b16_ldr_lit(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 8);
    op->imm = BITS(insn, 7, 0) * 4;
    op->flags |= ARM_UOP_U;
}

static void b16_ldst_reg(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 0);
    op->rn = low_reg(insn, 3);
    op->rm = low_reg(insn, 6);
    op->flags |= ARM_UOP_P | ARM_UOP_U;
}

static void ldst_imm5(uint32_t insn, struct arm_uop *op, unsigned scale)
{
    op->rd = low_reg(insn, 0);
    op->rn = low_reg(insn, 3);
    op->imm = BITS(insn, 10, 6) * scale;
    op->flags |= ARM_UOP_P | ARM_UOP_U;
}

static void b16_ldst_imm_w(uint32_t insn, struct arm_uop *op)
{
    ldst_imm5(insn, op, 4);
}

static void b16_ldst_imm_h(uint32_t insn, struct arm_uop *op)
{
    ldst_imm5(insn, op, 2);
}

static void b16_ldst_imm_b(uint32_t insn, struct arm_uop *op)
{
    ldst_imm5(insn, op, 1);
}

static void b16_ldst_sp(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 8);
    op->rn = 13;
    op->imm = BITS(insn, 7, 0) * 4;
    op->flags |= ARM_UOP_P | ARM_UOP_U;
}

static void b16_adr(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 8);
    op->imm = BITS(insn, 7, 0) * 4;
    op->flags |= ARM_UOP_U;
}

static void b16_add_sp(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 8);
    op->rn = 13;
    op->imm = BITS(insn, 7, 0) * 4;
    op->carry = 2;
}

static void b16_sp_imm7(uint32_t insn, struct arm_uop *op)
{
    op->rd = op->rn = 13;
    op->imm = BITS(insn, 6, 0) * 4;
    op->carry = 2;
}

/* SXTH SXTB UXTH UXTB, REV REV16 REVSH: Rd, Rm. */
static void b16_rd_rm(uint32_t insn, struct arm_uop *op)
{
    op->rd = low_reg(insn, 0);
    op->rm = low_reg(insn, 3);
}

static void b16_cbz(uint32_t insn, struct arm_uop *op)
{
    op->rn = low_reg(insn, 0);
    op->imm = op->pc + 4 + ((BIT(insn, 9) << 6) | (BITS(insn, 7, 3) << 1));
}

static void b16_push(uint32_t insn, struct arm_uop *op)
{
    op->rn = 13;
    op->imm = BITS(insn, 7, 0) | (BIT(insn, 8) << 14);
    op->flags |= ARM_UOP_P | ARM_UOP_W;
    if (op->imm == 0) {
        reject(op);
    }
}

static void b16_pop(uint32_t insn, struct arm_uop *op)
{
    op->rn = 13;
    op->imm = BITS(insn, 7, 0) | (BIT(insn, 8) << 15);
    op->flags |= ARM_UOP_U | ARM_UOP_W;
    if (op->imm == 0) {
        reject(op);
    } else if (op->imm & 0x8000u) {
        writes_pc(op);
    }
}

static void b16_setend(uint32_t insn, struct arm_uop *op)
{
    op->imm = BIT(insn, 3);
}

/* CPSIE/CPSID with A I F in bits 2..0: imod 10 (enable) or 11 (disable). */
static void b16_cps(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 2, 0) << 6;
    op->shift_type = BIT(insn, 4) ? 3 : 2;
    if (op->imm == 0) {
        reject(op);
    }
}

static void b16_bkpt(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 7, 0);
    op->cond = 0xe; /* unconditional, even in an IT block */
}

static void b16_it(uint32_t insn, struct arm_uop *op)
{
    unsigned firstcond = BITS(insn, 7, 4), mask = BITS(insn, 3, 0);
    op->imm = BITS(insn, 7, 0);
    if (firstcond == 0xf || (firstcond == 0xe && __builtin_popcount(mask) != 1)) {
        reject(op);
    }
}

static void b16_stm(uint32_t insn, struct arm_uop *op)
{
    op->rn = low_reg(insn, 8);
    op->imm = BITS(insn, 7, 0);
    op->flags |= ARM_UOP_U | ARM_UOP_W;
    if (op->imm == 0) {
        reject(op);
    }
}

/* LDM Rn{!}: write-back unless Rn is in the list. */
static void b16_ldm(uint32_t insn, struct arm_uop *op)
{
    op->rn = low_reg(insn, 8);
    op->imm = BITS(insn, 7, 0);
    op->flags |= ARM_UOP_U;
    if (!(op->imm & (1u << op->rn))) {
        op->flags |= ARM_UOP_W;
    }
    if (op->imm == 0) {
        reject(op);
    }
}

static void b16_imm8(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 7, 0);
}

static void b16_bcond(uint32_t insn, struct arm_uop *op)
{
    op->cond = (uint8_t)BITS(insn, 11, 8);
    op->imm = op->pc + 4 + sext(BITS(insn, 7, 0) << 1, 9);
}

static void b16_b(uint32_t insn, struct arm_uop *op)
{
    op->imm = op->pc + 4 + sext(BITS(insn, 10, 0) << 1, 12);
}

/* ---- builders: 32-bit data processing --------------------------------------------------- */

static void dp_fields(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rn = reg(insn, 16);
    if (BIT(insn, 20)) {
        op->flags |= ARM_UOP_S;
    }
}

/* <op>{S} Rd, Rn, #const */
static void b32_dpi(uint32_t insn, struct arm_uop *op)
{
    dp_fields(insn, op);
    thumb_expand_imm(insn, op);
    if (op->rd == 15 || op->rn == 15) {
        reject(op);
    }
}

/* MOV MVN: no Rn */
static void b32_dpi_mov(uint32_t insn, struct arm_uop *op)
{
    dp_fields(insn, op);
    thumb_expand_imm(insn, op);
    op->rn = 0;
    if (op->rd == 15) {
        reject(op);
    }
}

/* TST TEQ CMP CMN: no Rd */
static void b32_dpi_test(uint32_t insn, struct arm_uop *op)
{
    dp_fields(insn, op);
    thumb_expand_imm(insn, op);
    op->rd = 0;
    if (op->rn == 15) {
        reject(op);
    }
}

static void dpr_fields(uint32_t insn, struct arm_uop *op)
{
    dp_fields(insn, op);
    op->rm = reg(insn, 0);
    imm_shift(BITS(insn, 5, 4), imm3_imm2(insn), op);
}

/* <op>{S}.W Rd, Rn, Rm{, shift} */
static void b32_dpr(uint32_t insn, struct arm_uop *op)
{
    dpr_fields(insn, op);
    if (op->rd == 15 || op->rn == 15 || op->rm == 15) {
        reject(op);
    }
}

/* MOV MVN (and the shifts by an immediate, which are MOV): no Rn */
static void b32_dpr_mov(uint32_t insn, struct arm_uop *op)
{
    dpr_fields(insn, op);
    op->rn = 0;
    if (op->rd == 15 || op->rm == 15) {
        reject(op);
    }
}

static void b32_dpr_test(uint32_t insn, struct arm_uop *op)
{
    dpr_fields(insn, op);
    op->rd = 0;
    if (op->rn == 15 || op->rm == 15) {
        reject(op);
    }
}

static void b32_pkh(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rn = reg(insn, 16);
    op->rm = reg(insn, 0);
    imm_shift(BIT(insn, 5) ? 2 : 0, imm3_imm2(insn), op);
    if (op->rd == 15 || op->rn == 15 || op->rm == 15) {
        reject(op);
    }
}

/* i:imm3:imm8 of the plain binary immediates */
static uint32_t imm12(uint32_t insn)
{
    return (BIT(insn, 26) << 11) | (BITS(insn, 14, 12) << 8) | BITS(insn, 7, 0);
}

/* ADR.W: ADDW/SUBW Rd, PC, #imm12 */
static void b32_adr(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->imm = imm12(insn);
    if (!BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    if (op->rd == 15) {
        reject(op);
    }
}

static void b32_addw(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rn = reg(insn, 16);
    op->imm = imm12(insn);
    op->carry = 2;
    if (op->rd == 15) {
        reject(op);
    }
}

static void b32_movw(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->imm = (BITS(insn, 19, 16) << 12) | imm12(insn);
    if (op->rd == 15) {
        reject(op);
    }
}

static void sat_common(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rn = reg(insn, 16);
    if (op->rd == 15 || op->rn == 15) {
        reject(op);
    }
}

/* SSAT/USAT Rd, #sat, Rn{, LSL/ASR #n}: ASR #0 is the 16-bit form, matched before. */
static void b32_ssat(uint32_t insn, struct arm_uop *op)
{
    sat_common(insn, op);
    op->imm = BITS(insn, 4, 0) + 1;
    op->shift_type = BIT(insn, 21) ? ARM_SHIFT_ASR : ARM_SHIFT_LSL;
    op->shift_n = (uint8_t)imm3_imm2(insn);
}

static void b32_usat(uint32_t insn, struct arm_uop *op)
{
    b32_ssat(insn, op);
    op->imm = BITS(insn, 4, 0);
}

static void b32_ssat16(uint32_t insn, struct arm_uop *op)
{
    sat_common(insn, op);
    op->imm = BITS(insn, 3, 0) + 1;
}

static void b32_usat16(uint32_t insn, struct arm_uop *op)
{
    sat_common(insn, op);
    op->imm = BITS(insn, 3, 0);
}

static void b32_bfx(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rn = reg(insn, 16);
    op->imm = imm3_imm2(insn);
    op->imm2 = BITS(insn, 4, 0);
    if (op->rd == 15 || op->rn == 15 || op->imm + op->imm2 > 31) {
        reject(op);
    }
}

static void b32_bfi(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rn = reg(insn, 16);
    op->imm = imm3_imm2(insn);
    op->imm2 = BITS(insn, 4, 0);
    if (op->rd == 15 || op->imm2 < op->imm) {
        reject(op);
    }
}

/* LSL/LSR/ASR/ROR{S}.W Rd, Rn, Rm: Rn shifted by Rm<7:0> (MOV_rsr: rm value, rs amount). */
static void b32_shift_reg(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rm = reg(insn, 16);
    op->rs = reg(insn, 0);
    op->shift_type = (uint8_t)BITS(insn, 22, 21);
    if (BIT(insn, 20)) {
        op->flags |= ARM_UOP_S;
    }
    if (op->rd == 15 || op->rm == 15 || op->rs == 15) {
        reject(op);
    }
}

static void b32_extend(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rn = reg(insn, 16);
    op->rm = reg(insn, 0);
    op->shift_n = (uint8_t)(8 * BITS(insn, 5, 4));
    if (op->rd == 15 || op->rm == 15) {
        reject(op);
    }
}

/* Rd = 11:8, Rn = 19:16, Rm = 3:0 (parallel add/sub, QADD..., SEL). */
static void b32_rd_rn_rm(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rn = reg(insn, 16);
    op->rm = reg(insn, 0);
    if (op->rd == 15 || op->rn == 15 || op->rm == 15) {
        reject(op);
    }
}

/* REV REV16 RBIT REVSH CLZ: Rm is encoded twice; copies that differ are UNPREDICTABLE. */
static void b32_rd_rm(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rm = reg(insn, 0);
    if (op->rd == 15 || op->rm == 15 || op->rm != reg(insn, 16)) {
        reject(op);
    }
}

/* ---- builders: multiplies --------------------------------------------------------------- */

/* Rn = 19:16, Ra = 15:12, Rd = 11:8, Rm = 3:0; imm = the X/R bit (4). */
static void b32_mul(uint32_t insn, struct arm_uop *op)
{
    op->rn = reg(insn, 16);
    op->ra = reg(insn, 12);
    op->rd = reg(insn, 8);
    op->rm = reg(insn, 0);
    op->imm = BIT(insn, 4);
    if (op->rd == 15 || op->rn == 15 || op->rm == 15) {
        reject(op);
    }
}

/* SMUL<x><y>, SMLA<x><y>, SMULW<y>, SMLAW<y>: N = bit 5, M = bit 4. */
static void b32_smulxy(uint32_t insn, struct arm_uop *op)
{
    b32_mul(insn, op);
    op->imm = BIT(insn, 5) ? 16 : 0;
    op->imm2 = BIT(insn, 4) ? 16 : 0;
}

/* RdLo = 15:12, RdHi = 11:8: rd = RdLo, ra = RdHi. */
static void b32_mull(uint32_t insn, struct arm_uop *op)
{
    b32_mul(insn, op);
    op->rd = reg(insn, 12);
    op->ra = reg(insn, 8);
    if (op->rd == 15 || op->ra == 15) {
        reject(op);
    }
}

static void b32_smlalxy(uint32_t insn, struct arm_uop *op)
{
    b32_mull(insn, op);
    op->imm = BIT(insn, 5) ? 16 : 0;
    op->imm2 = BIT(insn, 4) ? 16 : 0;
}

/* ---- builders: loads and stores --------------------------------------------------------- */

static bool is_word_load(const struct arm_uop *op)
{
    return op->fn == arm_op_LDR_imm || op->fn == arm_op_LDR_reg || op->fn == arm_op_LDR_lit;
}

static bool is_store(const struct arm_uop *op)
{
    return op->fn == arm_op_STR_imm || op->fn == arm_op_STR_reg || op->fn == arm_op_STRB_imm ||
           op->fn == arm_op_STRB_reg || op->fn == arm_op_STRH_imm ||
           op->fn == arm_op_STRH_reg || op->fn == arm_op_STRT_imm ||
           op->fn == arm_op_STRBT_imm || op->fn == arm_op_STRHT_imm;
}

/* Rt = 15 is a branch for LDR (word), UNPREDICTABLE for everything else (the byte and
 * halfword forms with Rt = 15 that are preload hints matched their own rows). Stores have no
 * PC base. */
static void ls_check(struct arm_uop *op)
{
    if (is_store(op) && op->rn == 15) {
        reject(op);
    } else if (op->rd == 15) {
        if (is_word_load(op)) {
            writes_pc(op);
        } else {
            reject(op);
        }
    }
}

static void ls_rt_rn(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 12);
    op->rn = reg(insn, 16);
}

/* [Rn, #imm12] */
static void b32_ls_imm12(uint32_t insn, struct arm_uop *op)
{
    ls_rt_rn(insn, op);
    op->imm = BITS(insn, 11, 0);
    op->flags |= ARM_UOP_P | ARM_UOP_U;
    ls_check(op);
}

/* [Rn, #+/-imm8], [Rn, #+/-imm8]!, [Rn], #+/-imm8: P = 0 and W = 0 is UNDEFINED. */
static void b32_ls_imm8(uint32_t insn, struct arm_uop *op)
{
    ls_rt_rn(insn, op);
    op->imm = BITS(insn, 7, 0);
    if (BIT(insn, 10)) {
        op->flags |= ARM_UOP_P;
    }
    if (BIT(insn, 9)) {
        op->flags |= ARM_UOP_U;
    }
    if (BIT(insn, 8)) {
        op->flags |= ARM_UOP_W;
    }
    if (!BIT(insn, 10) && !BIT(insn, 8)) {
        reject(op);
        return;
    }
    ls_check(op);
}

/* The unprivileged forms: [Rn, #imm8], no write-back. */
static void b32_ls_t(uint32_t insn, struct arm_uop *op)
{
    ls_rt_rn(insn, op);
    op->imm = BITS(insn, 7, 0);
    op->flags |= ARM_UOP_P | ARM_UOP_U;
    if (op->rd == 15 || (is_store(op) && op->rn == 15)) {
        reject(op);
    }
}

/* [Rn, Rm{, LSL #0-3}] */
static void b32_ls_reg(uint32_t insn, struct arm_uop *op)
{
    ls_rt_rn(insn, op);
    op->rm = reg(insn, 0);
    op->shift_type = ARM_SHIFT_LSL;
    op->shift_n = (uint8_t)BITS(insn, 5, 4);
    op->flags |= ARM_UOP_P | ARM_UOP_U;
    if (op->rm == 15) {
        reject(op);
        return;
    }
    ls_check(op);
}

/* [PC, #+/-imm12] */
static void b32_ls_lit(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 12);
    op->imm = BITS(insn, 11, 0);
    if (BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    ls_check(op);
}

/* LDRD/STRD Rt, Rt2, [Rn, #+/-imm8*4]{!} */
static void b32_ldrd_imm(uint32_t insn, struct arm_uop *op)
{
    ls_rt_rn(insn, op);
    op->ra = reg(insn, 8);
    op->imm = BITS(insn, 7, 0) * 4;
    if (BIT(insn, 24)) {
        op->flags |= ARM_UOP_P;
    }
    if (BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    if (BIT(insn, 21)) {
        op->flags |= ARM_UOP_W;
    }
    if (op->rd == 15 || op->ra == 15 || op->rn == 15) {
        reject(op);
    }
}

static void b32_ldrd_lit(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 12);
    op->ra = reg(insn, 8);
    op->imm = BITS(insn, 7, 0) * 4;
    if (BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    if (op->rd == 15 || op->ra == 15) {
        reject(op);
    }
}

/* STREX Rd, Rt, [Rn, #imm8*4] */
static void b32_strex(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->rm = reg(insn, 12);
    op->rn = reg(insn, 16);
    op->imm = BITS(insn, 7, 0) * 4;
    if (op->rd == 15 || op->rm == 15 || op->rn == 15) {
        reject(op);
    }
}

static void b32_ldrex(uint32_t insn, struct arm_uop *op)
{
    ls_rt_rn(insn, op);
    op->imm = BITS(insn, 7, 0) * 4;
    if (op->rd == 15 || op->rn == 15) {
        reject(op);
    }
}

/* STREXB/STREXH/STREXD Rd, Rt{, Rt2}, [Rn]: Rd = 3:0, Rt = 15:12, Rt2 = 11:8. */
static void b32_strex_bhd(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 0);
    op->rm = reg(insn, 12);
    op->ra = reg(insn, 8);
    op->rn = reg(insn, 16);
    bool dual = op->fn == arm_op_STREXD;
    if (op->rd == 15 || op->rm == 15 || op->rn == 15 || (dual && op->ra == 15)) {
        reject(op);
    }
    if (!dual) {
        op->ra = 0;
    }
}

static void b32_ldrex_bhd(uint32_t insn, struct arm_uop *op)
{
    ls_rt_rn(insn, op);
    op->ra = reg(insn, 8);
    bool dual = op->fn == arm_op_LDREXD;
    if (op->rd == 15 || op->rn == 15 || (dual && op->ra == 15)) {
        reject(op);
    }
    if (!dual) {
        op->ra = 0;
    }
}

static void b32_tb(uint32_t insn, struct arm_uop *op)
{
    op->rn = reg(insn, 16);
    op->rm = reg(insn, 0);
    if (op->rm == 15) {
        reject(op);
    }
}

/* SRS/RFE: DB (bits 24:23 = 00) or IA (11). */
static void srs_rfe_mode(uint32_t insn, struct arm_uop *op)
{
    op->flags |= BIT(insn, 23) ? ARM_UOP_U : ARM_UOP_P;
    if (BIT(insn, 21)) {
        op->flags |= ARM_UOP_W;
    }
}

static void b32_srs(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 4, 0);
    srs_rfe_mode(insn, op);
}

static void b32_rfe(uint32_t insn, struct arm_uop *op)
{
    op->rn = reg(insn, 16);
    srs_rfe_mode(insn, op);
    if (op->rn == 15) {
        reject(op);
    }
}

/* LDM/STM(IA/DB).W: neither lists SP, STM does not list the PC (the bits are (0)). */
static void ldm_stm_common(uint32_t insn, struct arm_uop *op, uint32_t allowed)
{
    op->rn = reg(insn, 16);
    op->imm = BITS(insn, 15, 0) & allowed;
    if (BIT(insn, 24)) {
        op->flags |= ARM_UOP_P;
    }
    if (BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    if (BIT(insn, 21)) {
        op->flags |= ARM_UOP_W;
    }
    if (op->rn == 15 || op->imm == 0) {
        reject(op);
    }
}

static void b32_stm(uint32_t insn, struct arm_uop *op)
{
    ldm_stm_common(insn, op, 0x5fffu);
}

static void b32_ldm(uint32_t insn, struct arm_uop *op)
{
    ldm_stm_common(insn, op, 0xdfffu);
    if (op->imm & 0x8000u) {
        writes_pc(op);
    }
}

/* ---- builders: branches, system, coprocessors ------------------------------------------- */

/* B<cond>.W: SignExtend(S:J2:J1:imm6:imm11:'0') */
static void b32_bcond(uint32_t insn, struct arm_uop *op)
{
    uint32_t off = (BIT(insn, 26) << 20) | (BIT(insn, 11) << 19) | (BIT(insn, 13) << 18) |
                   (BITS(insn, 21, 16) << 12) | (BITS(insn, 10, 0) << 1);
    op->cond = (uint8_t)BITS(insn, 25, 22);
    op->imm = op->pc + 4 + sext(off, 21);
}

/* B.W and BL: SignExtend(S:I1:I2:imm10:imm11:'0') */
static void b32_b(uint32_t insn, struct arm_uop *op)
{
    uint32_t off = (branch_si1i2(insn) << 22) | (BITS(insn, 25, 16) << 12) |
                   (BITS(insn, 10, 0) << 1);
    op->imm = op->pc + 4 + sext(off, 25);
}

/* BLX (immediate): SignExtend(S:I1:I2:imm10H:imm10L:'00') from Align(PC, 4); H = 1 is
 * UNDEFINED. */
static void b32_blx(uint32_t insn, struct arm_uop *op)
{
    uint32_t off = (branch_si1i2(insn) << 22) | (BITS(insn, 25, 16) << 12) |
                   (BITS(insn, 10, 1) << 2);
    op->imm = ((op->pc + 4) & ~3u) + sext(off, 25);
    if (BIT(insn, 0)) {
        reject(op);
    }
}

static void b32_bxj(uint32_t insn, struct arm_uop *op)
{
    op->rm = reg(insn, 16);
    if (op->rm == 15) {
        reject(op);
    }
}

/* SUBS PC, LR, #imm8: the exception return of SUB_imm with S and Rd = 15. */
static void b32_subs_pc_lr(uint32_t insn, struct arm_uop *op)
{
    op->rd = 15;
    op->rn = 14;
    op->imm = BITS(insn, 7, 0);
    op->carry = 2;
    op->flags |= ARM_UOP_S;
}

static void b32_msr(uint32_t insn, struct arm_uop *op)
{
    op->rn = reg(insn, 16);
    op->imm2 = BITS(insn, 11, 8) | (BIT(insn, 20) << 4);
    if (op->rn == 15 || BITS(insn, 11, 8) == 0) {
        reject(op);
    }
}

static void b32_mrs(uint32_t insn, struct arm_uop *op)
{
    op->rd = reg(insn, 8);
    op->imm2 = BIT(insn, 20);
    if (op->rd == 15) {
        reject(op);
    }
}

/* CPS<effect>.W <iflags>{, #mode} / CPS #mode: imod = 10:9, M = 8, A I F = 7:5. */
static void b32_cps(uint32_t insn, struct arm_uop *op)
{
    bool m = BIT(insn, 8);
    unsigned imod = BITS(insn, 10, 9);
    op->imm = BITS(insn, 7, 5) << 6;
    op->shift_type = (uint8_t)imod;
    op->imm2 = m ? BITS(insn, 4, 0) : 0;
    if ((!m && BITS(insn, 4, 0) != 0) || imod == 1 || (imod == 0 && !m) ||
        ((imod & 2) && op->imm == 0) || (!(imod & 2) && op->imm != 0)) {
        reject(op);
    }
}

static void b32_barrier(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 3, 0);
}

/* HVC #imm16, UDF.W #imm16: imm4:imm12 */
static void b32_imm16(uint32_t insn, struct arm_uop *op)
{
    op->imm = (BITS(insn, 19, 16) << 12) | BITS(insn, 11, 0);
}

static void b32_smc(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 19, 16);
}

/* MCR/MRC: same fields as A32. CP15, and CP14 debug register reads (opc1 = 0); every other
 * coprocessor here (CP10/11 went to the VFP decoder) is UNDEFINED. */
static void b32_mcr(uint32_t insn, struct arm_uop *op)
{
    bool read = BIT(insn, 20);
    op->rs = reg(insn, 8);
    op->rd = reg(insn, 12);
    op->imm = BITS(insn, 23, 21);
    op->rn = reg(insn, 16);
    op->rm = reg(insn, 0);
    op->imm2 = BITS(insn, 7, 5);
    bool cp14_read = op->rs == 14 && read && op->imm == 0;
    if ((op->rs != 15 && !cp14_read) || (!read && op->rd == 15)) {
        reject(op);
    }
}

static void b32_mcrr(uint32_t insn, struct arm_uop *op)
{
    op->rs = reg(insn, 8);
    op->rd = reg(insn, 12);
    op->ra = reg(insn, 16);
    op->imm = BITS(insn, 7, 4);
    op->rm = reg(insn, 0);
    if (op->rs != 15 || op->rd == 15 || op->ra == 15) {
        reject(op);
    }
}

/* CP10/CP11 and Advanced SIMD: the VFP decoder's (op->cond and op->itstate are already those
 * of the IT state), or UNDEFINED if it does not claim them. */
static void b32_vfp(uint32_t insn, struct arm_uop *op)
{
    struct arm_uop base = *op;
    if (!arm_decode_vfp(op->pc, insn, true, op)) {
        *op = base;
        reject(op);
        return;
    }
    op->pc = base.pc;
    op->insn = insn;
    op->len = 4;
    op->cond = base.cond;
    op->itstate = base.itstate;
    op->flags |= ARM_UOP_THUMB;
}

/* ---- the tables ------------------------------------------------------------------------- */

#define ROWK(pattern_, build_, name_, flags_, kind_)                                      \
    {.pattern = pattern_, .build = build_, .fn = arm_op_##name_, .name = #name_,           \
     .flags = flags_, .kind = kind_}
#define ROW(pattern, build, name) ROWK(pattern, build, name, 0, K_PLAIN)
#define ROW_END(pattern, build, name) ROWK(pattern, build, name, ARM_UOP_ENDS_BLOCK, K_PLAIN)
#define ROW_BR(pattern, build, name) ROWK(pattern, build, name, ARM_UOP_ENDS_BLOCK, K_BRANCH)
#define ROW_NIT(pattern, build, name, flags) ROWK(pattern, build, name, flags, K_NOT_IN_IT)
#define ROW_VFP(pattern_) {.pattern = pattern_, .build = b32_vfp, .name = "VFP", .kind = K_PLAIN}

static struct arm_decode_row t16_rows[] = {
    /* -- shift (immediate), add, subtract, move, compare (00xxxx) ------------------------- */
    ROW("0000 0iii iimm mddd", b16_shift_imm, MOV_reg), /* LSL; MOVS Rd, Rm when imm5 = 0 */
    ROW("0000 1iii iimm mddd", b16_shift_imm, MOV_reg), /* LSR */
    ROW("0001 0iii iimm mddd", b16_shift_imm, MOV_reg), /* ASR */
    ROW("0001 100m mmnn nddd", b16_addsub_reg, ADD_reg),
    ROW("0001 101m mmnn nddd", b16_addsub_reg, SUB_reg),
    ROW("0001 110i iinn nddd", b16_addsub_imm3, ADD_imm),
    ROW("0001 111i iinn nddd", b16_addsub_imm3, SUB_imm),
    ROW("0010 0ddd iiii iiii", b16_mov_imm, MOV_imm),
    ROW("0010 1nnn iiii iiii", b16_cmp_imm, CMP_imm),
    ROW("0011 0ddd iiii iiii", b16_rdn_imm8, ADD_imm),
    ROW("0011 1ddd iiii iiii", b16_rdn_imm8, SUB_imm),

    /* -- data processing (010000) --------------------------------------------------------- */
    ROW("0100 0000 00mm mddd", b16_dp, AND_reg),
    ROW("0100 0000 01mm mddd", b16_dp, EOR_reg),
    ROW("0100 0000 10mm mddd", b16_shift_reg, MOV_rsr), /* LSL */
    ROW("0100 0000 11mm mddd", b16_shift_reg, MOV_rsr), /* LSR */
    ROW("0100 0001 00mm mddd", b16_shift_reg, MOV_rsr), /* ASR */
    ROW("0100 0001 01mm mddd", b16_dp, ADC_reg),
    ROW("0100 0001 10mm mddd", b16_dp, SBC_reg),
    ROW("0100 0001 11mm mddd", b16_shift_reg, MOV_rsr), /* ROR */
    ROW("0100 0010 00mm mnnn", b16_test, TST_reg),
    ROW("0100 0010 01nn nddd", b16_rsb, RSB_imm),
    ROW("0100 0010 10mm mnnn", b16_test, CMP_reg),
    ROW("0100 0010 11mm mnnn", b16_test, CMN_reg),
    ROW("0100 0011 00mm mddd", b16_dp, ORR_reg),
    ROW("0100 0011 01nn nddd", b16_mul, MUL),
    ROW("0100 0011 10mm mddd", b16_dp, BIC_reg),
    ROW("0100 0011 11mm mddd", b16_mvn, MVN_reg),

    /* -- special data processing, branch and exchange (010001) ---------------------------- */
    ROW("0100 0100 dmmm mddd", b16_add_hi, ADD_reg),
    ROW("0100 0101 nmmm mnnn", b16_cmp_hi, CMP_reg),
    ROW("0100 0110 dmmm mddd", b16_mov_hi, MOV_reg),
    ROW_BR("0100 0111 0mmm m(0)(0)(0)", b16_bx, BX),
    ROW_BR("0100 0111 1mmm m(0)(0)(0)", b16_blx, BLX_reg),

    /* -- LDR (literal), load/store single data item --------------------------------------- */
    ROW("0100 1ttt iiii iiii", b16_ldr_lit, LDR_lit),
    ROW("0101 000m mmnn nttt", b16_ldst_reg, STR_reg),
    ROW("0101 001m mmnn nttt", b16_ldst_reg, STRH_reg),
    ROW("0101 010m mmnn nttt", b16_ldst_reg, STRB_reg),
    ROW("0101 011m mmnn nttt", b16_ldst_reg, LDRSB_reg),
    ROW("0101 100m mmnn nttt", b16_ldst_reg, LDR_reg),
    ROW("0101 101m mmnn nttt", b16_ldst_reg, LDRH_reg),
    ROW("0101 110m mmnn nttt", b16_ldst_reg, LDRB_reg),
    ROW("0101 111m mmnn nttt", b16_ldst_reg, LDRSH_reg),
    ROW("0110 0iii iinn nttt", b16_ldst_imm_w, STR_imm),
    ROW("0110 1iii iinn nttt", b16_ldst_imm_w, LDR_imm),
    ROW("0111 0iii iinn nttt", b16_ldst_imm_b, STRB_imm),
    ROW("0111 1iii iinn nttt", b16_ldst_imm_b, LDRB_imm),
    ROW("1000 0iii iinn nttt", b16_ldst_imm_h, STRH_imm),
    ROW("1000 1iii iinn nttt", b16_ldst_imm_h, LDRH_imm),
    ROW("1001 0ttt iiii iiii", b16_ldst_sp, STR_imm),
    ROW("1001 1ttt iiii iiii", b16_ldst_sp, LDR_imm),

    /* -- ADR, ADD (SP plus immediate) ----------------------------------------------------- */
    ROW("1010 0ddd iiii iiii", b16_adr, ADR),
    ROW("1010 1ddd iiii iiii", b16_add_sp, ADD_imm),

    /* -- miscellaneous (1011xx) ----------------------------------------------------------- */
    ROW("1011 0000 0iii iiii", b16_sp_imm7, ADD_imm),
    ROW("1011 0000 1iii iiii", b16_sp_imm7, SUB_imm),
    ROW_NIT("1011 00i1 iiii innn", b16_cbz, CBZ, ARM_UOP_ENDS_BLOCK),
    ROW_NIT("1011 10i1 iiii innn", b16_cbz, CBNZ, ARM_UOP_ENDS_BLOCK),
    ROW("1011 0010 00mm mddd", b16_rd_rm, SXTH),
    ROW("1011 0010 01mm mddd", b16_rd_rm, SXTB),
    ROW("1011 0010 10mm mddd", b16_rd_rm, UXTH),
    ROW("1011 0010 11mm mddd", b16_rd_rm, UXTB),
    ROW("1011 010m rrrr rrrr", b16_push, STMDB),
    ROW_NIT("1011 0110 010(1) e(0)(0)(0)", b16_setend, SETEND, ARM_UOP_ENDS_BLOCK),
    ROW_NIT("1011 0110 011m (0)aif", b16_cps, CPS, ARM_UOP_ENDS_BLOCK),
    ROW("1011 1010 00mm mddd", b16_rd_rm, REV),
    ROW("1011 1010 01mm mddd", b16_rd_rm, REV16),
    ROW("1011 1010 11mm mddd", b16_rd_rm, REVSH),
    ROW("1011 110p rrrr rrrr", b16_pop, LDM),
    ROW_END("1011 1110 iiii iiii", b16_bkpt, BKPT),
    ROW("1011 1111 0000 0000", NULL, NOP),
    ROW("1011 1111 0001 0000", NULL, YIELD),
    ROW_END("1011 1111 0010 0000", NULL, WFE),
    ROW_END("1011 1111 0011 0000", NULL, WFI),
    ROW("1011 1111 0100 0000", NULL, SEV),
    ROW("1011 1111 xxxx 0000", NULL, NOP), /* unallocated hints */
    ROW_NIT("1011 1111 cccc mmmm", b16_it, IT, 0),

    /* -- load/store multiple -------------------------------------------------------------- */
    ROW("1100 0nnn rrrr rrrr", b16_stm, STM),
    ROW("1100 1nnn rrrr rrrr", b16_ldm, LDM),

    /* -- conditional branch, supervisor call ---------------------------------------------- */
    ROW_END("1101 1110 iiii iiii", b16_imm8, UDF),
    ROW_END("1101 1111 iiii iiii", b16_imm8, SVC),
    ROW_NIT("1101 cccc iiii iiii", b16_bcond, B, ARM_UOP_ENDS_BLOCK),
    ROW_BR("1110 0iii iiii iiii", b16_b, B),
};

/* One data-processing operation of the modified-immediate (hw1 = 11110i0) or shifted-register
 * (hw1 = 1110101) space: op4 its opcode. */
#define DPI(op4, build, name) \
    ROW("1111 0i0" op4 " s nnnn 0iii dddd iiii iiii", build, name##_imm)
#define DPI_TEST(op4, name) \
    ROW("1111 0i0" op4 " 1 nnnn 0iii 1111 iiii iiii", b32_dpi_test, name##_imm)
#define DPI_MOV(op4, name) \
    ROW("1111 0i0" op4 " s 1111 0iii dddd iiii iiii", b32_dpi_mov, name##_imm)
#define DPR(op4, build, name) \
    ROW("1110 101" op4 " s nnnn (0)iii dddd iitt mmmm", build, name##_reg)
#define DPR_TEST(op4, name) \
    ROW("1110 101" op4 " 1 nnnn (0)iii 1111 iitt mmmm", b32_dpr_test, name##_reg)
#define DPR_MOV(op4, name) \
    ROW("1110 101" op4 " s 1111 (0)iii dddd iitt mmmm", b32_dpr_mov, name##_reg)

/* Parallel add/subtract: op3 = hw1 bits 6:4, the prefix's hw2 bits 6:4. */
#define PAR(op3, pfx, name) \
    ROW("1111 1010 1" op3 " nnnn 1111 dddd 0" pfx " mmmm", b32_rd_rn_rm, name)
#define PAR6(pfx, P)                                                                      \
    PAR("001", pfx, P##ADD16), PAR("010", pfx, P##ASX), PAR("110", pfx, P##SAX),           \
    PAR("101", pfx, P##SUB16), PAR("000", pfx, P##ADD8), PAR("100", pfx, P##SUB8)

/* Extend and extend-and-add: op4 = hw1 bits 7:4. */
#define EXT(op4, plain, add)                                                               \
    ROW("1111 1010 " op4 " 1111 1111 dddd 1(0)rr mmmm", b32_extend, plain),              \
    ROW("1111 1010 " op4 " nnnn 1111 dddd 1(0)rr mmmm", b32_extend, add)

/* The imm12, unprivileged, imm8 and register forms of one single load/store: u0 and u1 are
 * hw1 bits 8:4 (sign, U, size, L) with U = 0 and U = 1; tname is the unprivileged form. */
#define LS_FORMS(u0, u1, name, tname)                                                      \
    ROW("1111 100" u1 " nnnn tttt iiii iiii iiii", b32_ls_imm12, name##_imm),             \
    ROW("1111 100" u0 " nnnn tttt 1110 iiii iiii", b32_ls_t, tname##_imm),                \
    ROW("1111 100" u0 " nnnn tttt 1puw iiii iiii", b32_ls_imm8, name##_imm),              \
    ROW("1111 100" u0 " nnnn tttt 0000 00ii mmmm", b32_ls_reg, name##_reg)

static struct arm_decode_row t32_rows[] = {
    /* -- load/store multiple (1110 100xx0) ------------------------------------------------ */
    ROW("1110 1000 00w0 (1)(1)(0)(1) (1)(1)(0)(0) (0)(0)(0)(0) (0)(0)(0)m mmmm", b32_srs, SRS),
    ROW_BR("1110 1000 00w1 nnnn (1)(1)(0)(0) (0)(0)(0)(0) (0)(0)(0)(0) (0)(0)(0)(0)", b32_rfe,
           RFE),
    ROW("1110 1000 10w0 nnnn (0)m(0)r rrrr rrrr rrrr", b32_stm, STM),
    ROW("1110 1000 10w1 nnnn pm(0)r rrrr rrrr rrrr", b32_ldm, LDM),
    ROW("1110 1001 00w0 nnnn (0)m(0)r rrrr rrrr rrrr", b32_stm, STMDB),
    ROW("1110 1001 00w1 nnnn pm(0)r rrrr rrrr rrrr", b32_ldm, LDMDB),
    ROW("1110 1001 10w0 (1)(1)(0)(1) (1)(1)(0)(0) (0)(0)(0)(0) (0)(0)(0)m mmmm", b32_srs, SRS),
    ROW_BR("1110 1001 10w1 nnnn (1)(1)(0)(0) (0)(0)(0)(0) (0)(0)(0)(0) (0)(0)(0)(0)", b32_rfe,
           RFE),

    /* -- load/store dual, exclusive, table branch (1110 100xx1) --------------------------- */
    ROW("1110 1000 0100 nnnn tttt dddd iiii iiii", b32_strex, STREX),
    ROW("1110 1000 0101 nnnn tttt (1)(1)(1)(1) iiii iiii", b32_ldrex, LDREX),
    ROW("1110 1000 1100 nnnn tttt (1)(1)(1)(1) 0100 dddd", b32_strex_bhd, STREXB),
    ROW("1110 1000 1100 nnnn tttt (1)(1)(1)(1) 0101 dddd", b32_strex_bhd, STREXH),
    ROW("1110 1000 1100 nnnn tttt TTTT 0111 dddd", b32_strex_bhd, STREXD),
    ROW_BR("1110 1000 1101 nnnn (1)(1)(1)(1) (0)(0)(0)(0) 0000 mmmm", b32_tb, TBB),
    ROW_BR("1110 1000 1101 nnnn (1)(1)(1)(1) (0)(0)(0)(0) 0001 mmmm", b32_tb, TBH),
    ROW("1110 1000 1101 nnnn tttt (1)(1)(1)(1) 0100 (1)(1)(1)(1)", b32_ldrex_bhd, LDREXB),
    ROW("1110 1000 1101 nnnn tttt (1)(1)(1)(1) 0101 (1)(1)(1)(1)", b32_ldrex_bhd, LDREXH),
    ROW("1110 1000 1101 nnnn tttt TTTT 0111 (1)(1)(1)(1)", b32_ldrex_bhd, LDREXD),
    ROW("1110 1000 x10x xxxx xxxx xxxx xxxx xxxx", NULL, UNDEFINED),
    ROW("1110 100p u1(0)1 1111 tttt TTTT iiii iiii", b32_ldrd_lit, LDRD_lit),
    ROW("1110 100p u1w0 nnnn tttt TTTT iiii iiii", b32_ldrd_imm, STRD_imm),
    ROW("1110 100p u1w1 nnnn tttt TTTT iiii iiii", b32_ldrd_imm, LDRD_imm),

    /* -- data processing (shifted register) (1110 101) ------------------------------------ */
    DPR_TEST("0000", TST),
    DPR("0000", b32_dpr, AND),
    DPR("0001", b32_dpr, BIC),
    DPR_MOV("0010", MOV), /* and LSL/LSR/ASR/ROR/RRX #imm */
    DPR("0010", b32_dpr, ORR),
    DPR_MOV("0011", MVN),
    DPR("0011", b32_dpr, ORN),
    DPR_TEST("0100", TEQ),
    DPR("0100", b32_dpr, EOR),
    ROW("1110 1010 1100 nnnn (0)iii dddd ii00 mmmm", b32_pkh, PKHBT),
    ROW("1110 1010 1100 nnnn (0)iii dddd ii10 mmmm", b32_pkh, PKHTB),
    DPR_TEST("1000", CMN),
    DPR("1000", b32_dpr, ADD),
    DPR("1010", b32_dpr, ADC),
    DPR("1011", b32_dpr, SBC),
    DPR_TEST("1101", CMP),
    DPR("1101", b32_dpr, SUB),
    DPR("1110", b32_dpr, RSB),
    ROW("1110 101x xxxx xxxx xxxx xxxx xxxx xxxx", NULL, UNDEFINED),

    /* -- coprocessor, Advanced SIMD, floating point (111x 11) ----------------------------- */
    ROW_VFP("111x 1111 xxxx xxxx xxxx xxxx xxxx xxxx"), /* Advanced SIMD data processing */
    ROW("111x 1100 000x xxxx xxxx xxxx xxxx xxxx", NULL, UNDEFINED),
    ROW_VFP("111x 110x xxxx xxxx xxxx 101x xxxx xxxx"), /* VLDR VSTR VLDM VSTM, 64-bit VMOV */
    ROW_VFP("111x 1110 xxxx xxxx xxxx 101x xxxx xxxx"), /* VFP data processing, VMOV, VMRS */
    ROW_END("1110 1100 0100 tttt tttt cccc oooo mmmm", b32_mcrr, MCRR),
    ROW_END("1110 1100 0101 tttt tttt cccc oooo mmmm", b32_mcrr, MRRC),
    ROW_END("1110 1110 ooo0 nnnn tttt cccc ooo1 mmmm", b32_mcr, MCR),
    ROW_END("1110 1110 ooo1 nnnn tttt cccc ooo1 mmmm", b32_mcr, MRC),
    /* Everything else here (LDC, STC, CDP and the T = 1 forms) is UNDEFINED. */

    /* -- data processing (modified immediate) (11110x0, op = 0) --------------------------- */
    DPI_TEST("0000", TST),
    DPI("0000", b32_dpi, AND),
    DPI("0001", b32_dpi, BIC),
    DPI_MOV("0010", MOV),
    DPI("0010", b32_dpi, ORR),
    DPI_MOV("0011", MVN),
    DPI("0011", b32_dpi, ORN),
    DPI_TEST("0100", TEQ),
    DPI("0100", b32_dpi, EOR),
    DPI_TEST("1000", CMN),
    DPI("1000", b32_dpi, ADD),
    DPI("1010", b32_dpi, ADC),
    DPI("1011", b32_dpi, SBC),
    DPI_TEST("1101", CMP),
    DPI("1101", b32_dpi, SUB),
    DPI("1110", b32_dpi, RSB),
    ROW("1111 0x0x xxxx xxxx 0xxx xxxx xxxx xxxx", NULL, UNDEFINED),

    /* -- data processing (plain binary immediate) (11110x1, op = 0) ----------------------- */
    ROW("1111 0i10 0000 1111 0iii dddd iiii iiii", b32_adr, ADR), /* ADDW Rd, PC */
    ROW("1111 0i10 0000 nnnn 0iii dddd iiii iiii", b32_addw, ADD_imm),
    ROW("1111 0i10 0100 iiii 0iii dddd iiii iiii", b32_movw, MOVW),
    ROW("1111 0i10 1010 1111 0iii dddd iiii iiii", b32_adr, ADR), /* SUBW Rd, PC */
    ROW("1111 0i10 1010 nnnn 0iii dddd iiii iiii", b32_addw, SUB_imm),
    ROW("1111 0i10 1100 iiii 0iii dddd iiii iiii", b32_movw, MOVT),
    ROW("1111 0(0)11 0010 nnnn 0000 dddd 00(0)(0) iiii", b32_ssat16, SSAT16),
    ROW("1111 0(0)11 00h0 nnnn 0iii dddd ii(0)i iiii", b32_ssat, SSAT),
    ROW("1111 0(0)11 0100 nnnn 0iii dddd ii(0)w wwww", b32_bfx, SBFX),
    ROW("1111 0(0)11 0110 1111 0iii dddd ii(0)m mmmm", b32_bfi, BFC),
    ROW("1111 0(0)11 0110 nnnn 0iii dddd ii(0)m mmmm", b32_bfi, BFI),
    ROW("1111 0(0)11 1010 nnnn 0000 dddd 00(0)(0) iiii", b32_usat16, USAT16),
    ROW("1111 0(0)11 10h0 nnnn 0iii dddd ii(0)i iiii", b32_usat, USAT),
    ROW("1111 0(0)11 1100 nnnn 0iii dddd ii(0)w wwww", b32_bfx, UBFX),
    ROW("1111 0x1x xxxx xxxx 0xxx xxxx xxxx xxxx", NULL, UNDEFINED),

    /* -- branches and miscellaneous control (11110, op = 1) ------------------------------- */
    ROW("1111 0011 100x xxxx 10x0 xxxx xx1x xxxx", NULL, UNDEFINED), /* MSR (banked) */
    ROW_END("1111 0011 100r nnnn 10(0)0 mmmm (0)(0)(0)(0) (0)(0)(0)(0)", b32_msr, MSR_reg),
    ROW("1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)000 0000 0000", NULL, NOP),
    ROW("1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)000 0000 0001", NULL, YIELD),
    ROW_END("1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)000 0000 0010", NULL, WFE),
    ROW_END("1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)000 0000 0011", NULL, WFI),
    ROW("1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)000 0000 0100", NULL, SEV),
    ROW("1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)000 1111 oooo", NULL, DBG),
    ROW("1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)000 xxxx xxxx", NULL, NOP), /* unallocated */
    ROW_NIT("1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)iim aifm mmmm", b32_cps, CPS,
            ARM_UOP_ENDS_BLOCK),
    ROW("1111 0011 1011 (1)(1)(1)(1) 10(0)0 (1)(1)(1)(1) 0010 (1)(1)(1)(1)", NULL, CLREX),
    ROW("1111 0011 1011 (1)(1)(1)(1) 10(0)0 (1)(1)(1)(1) 0100 oooo", b32_barrier, DSB),
    ROW("1111 0011 1011 (1)(1)(1)(1) 10(0)0 (1)(1)(1)(1) 0101 oooo", b32_barrier, DMB),
    ROW_END("1111 0011 1011 (1)(1)(1)(1) 10(0)0 (1)(1)(1)(1) 0110 oooo", b32_barrier, ISB),
    ROW_BR("1111 0011 1100 mmmm 10(0)0 (1)(1)(1)(1) (0)(0)(0)(0) (0)(0)(0)(0)", b32_bxj, BX),
    ROW_BR("1111 0011 1101 (1)(1)(1)(0) 10(0)0 (1)(1)(1)(1) iiii iiii", b32_subs_pc_lr,
           SUB_imm),
    ROW("1111 0011 111x xxxx 10x0 xxxx xx1x xxxx", NULL, UNDEFINED), /* MRS (banked) */
    ROW("1111 0011 111r (1)(1)(1)(1) 10(0)0 dddd (0)(0)(0)(0) (0)(0)(0)(0)", b32_mrs, MRS),
    ROW_NIT("1111 0111 1110 iiii 1000 iiii iiii iiii", b32_imm16, HVC, ARM_UOP_ENDS_BLOCK),
    ROW_BR("1111 0111 1111 iiii 1000 (0)(0)(0)(0) (0)(0)(0)(0) (0)(0)(0)(0)", b32_smc, SMC),
    ROW_END("1111 0111 1111 iiii 1010 iiii iiii iiii", b32_imm16, UDF),
    ROW("1111 0x11 1xxx xxxx 10x0 xxxx xxxx xxxx", NULL, UNDEFINED),
    ROW_NIT("1111 0scc ccii iiii 10j0 jiii iiii iiii", b32_bcond, B, ARM_UOP_ENDS_BLOCK),
    ROW_BR("1111 0sii iiii iiii 10j1 jiii iiii iiii", b32_b, B),
    ROW_BR("1111 0sii iiii iiii 11j0 jiii iiii iiih", b32_blx, BLX_imm),
    ROW_BR("1111 0sii iiii iiii 11j1 jiii iiii iiii", b32_b, BL),

    /* -- Advanced SIMD element or structure load/store (1111 1001 xxx0) ------------------- */
    ROW_VFP("1111 1001 xxx0 xxxx xxxx xxxx xxxx xxxx"),

    /* -- store single data item (1111 1000 xxx0) ------------------------------------------ */
    LS_FORMS("0 0000", "0 1000", STRB, STRBT),
    LS_FORMS("0 0010", "0 1010", STRH, STRHT),
    LS_FORMS("0 0100", "0 1100", STR, STRT),

    /* -- load byte, memory hints (1111 100x xx01) ----------------------------------------- */
    ROW("1111 1000 u001 1111 1111 iiii iiii iiii", NULL, PLD),
    ROW("1111 1001 u001 1111 1111 iiii iiii iiii", NULL, PLI),
    ROW("1111 1000 u001 1111 tttt iiii iiii iiii", b32_ls_lit, LDRB_lit),
    ROW("1111 1001 u001 1111 tttt iiii iiii iiii", b32_ls_lit, LDRSB_lit),
    ROW("1111 1000 1001 nnnn 1111 iiii iiii iiii", NULL, PLD),
    ROW("1111 1000 0001 nnnn 1111 1100 iiii iiii", NULL, PLD),
    ROW("1111 1000 0001 nnnn 1111 0000 00ii mmmm", NULL, PLD),
    ROW("1111 1001 1001 nnnn 1111 iiii iiii iiii", NULL, PLI),
    ROW("1111 1001 0001 nnnn 1111 1100 iiii iiii", NULL, PLI),
    ROW("1111 1001 0001 nnnn 1111 0000 00ii mmmm", NULL, PLI),
    LS_FORMS("0 0001", "0 1001", LDRB, LDRBT),
    LS_FORMS("1 0001", "1 1001", LDRSB, LDRSBT),

    /* -- load halfword, memory hints (1111 100x xx11) ------------------------------------- */
    ROW("1111 1000 u011 1111 1111 iiii iiii iiii", NULL, PLD), /* PLD (literal), bit 21 set */
    ROW("1111 1001 u011 1111 1111 iiii iiii iiii", NULL, NOP), /* unallocated memory hints */
    ROW("1111 1000 u011 1111 tttt iiii iiii iiii", b32_ls_lit, LDRH_lit),
    ROW("1111 1001 u011 1111 tttt iiii iiii iiii", b32_ls_lit, LDRSH_lit),
    ROW("1111 1000 1011 nnnn 1111 iiii iiii iiii", NULL, PLD), /* PLDW */
    ROW("1111 1000 0011 nnnn 1111 1100 iiii iiii", NULL, PLD),
    ROW("1111 1000 0011 nnnn 1111 0000 00ii mmmm", NULL, PLD),
    ROW("1111 1001 1011 nnnn 1111 iiii iiii iiii", NULL, NOP),
    ROW("1111 1001 0011 nnnn 1111 1100 iiii iiii", NULL, NOP),
    ROW("1111 1001 0011 nnnn 1111 0000 00ii mmmm", NULL, NOP),
    LS_FORMS("0 0011", "0 1011", LDRH, LDRHT),
    LS_FORMS("1 0011", "1 1011", LDRSH, LDRSHT),

    /* -- load word (1111 100x x101) ------------------------------------------------------- */
    ROW("1111 1000 u101 1111 tttt iiii iiii iiii", b32_ls_lit, LDR_lit),
    LS_FORMS("0 0101", "0 1101", LDR, LDRT),

    /* -- data processing (register) (1111 1010) ------------------------------------------- */
    ROW("1111 1010 0tts nnnn 1111 dddd 0000 mmmm", b32_shift_reg, MOV_rsr),
    EXT("0000", SXTH, SXTAH),
    EXT("0001", UXTH, UXTAH),
    EXT("0010", SXTB16, SXTAB16),
    EXT("0011", UXTB16, UXTAB16),
    EXT("0100", SXTB, SXTAB),
    EXT("0101", UXTB, UXTAB),
    PAR6("000", S), PAR6("001", Q), PAR6("010", SH),
    PAR6("100", U), PAR6("101", UQ), PAR6("110", UH),
    ROW("1111 1010 1000 nnnn 1111 dddd 1000 mmmm", b32_rd_rn_rm, QADD),
    ROW("1111 1010 1000 nnnn 1111 dddd 1001 mmmm", b32_rd_rn_rm, QDADD),
    ROW("1111 1010 1000 nnnn 1111 dddd 1010 mmmm", b32_rd_rn_rm, QSUB),
    ROW("1111 1010 1000 nnnn 1111 dddd 1011 mmmm", b32_rd_rn_rm, QDSUB),
    ROW("1111 1010 1001 mmmm 1111 dddd 1000 mmmm", b32_rd_rm, REV),
    ROW("1111 1010 1001 mmmm 1111 dddd 1001 mmmm", b32_rd_rm, REV16),
    ROW("1111 1010 1001 mmmm 1111 dddd 1010 mmmm", b32_rd_rm, RBIT),
    ROW("1111 1010 1001 mmmm 1111 dddd 1011 mmmm", b32_rd_rm, REVSH),
    ROW("1111 1010 1010 nnnn 1111 dddd 1000 mmmm", b32_rd_rn_rm, SEL),
    ROW("1111 1010 1011 mmmm 1111 dddd 1000 mmmm", b32_rd_rm, CLZ),

    /* -- multiply, multiply accumulate, absolute difference (1111 1011 0) ----------------- */
    ROW("1111 1011 0000 nnnn 1111 dddd 0000 mmmm", b32_mul, MUL),
    ROW("1111 1011 0000 nnnn aaaa dddd 0000 mmmm", b32_mul, MLA),
    ROW("1111 1011 0000 nnnn aaaa dddd 0001 mmmm", b32_mul, MLS),
    ROW("1111 1011 0001 nnnn 1111 dddd 00nm mmmm", b32_smulxy, SMULxy),
    ROW("1111 1011 0001 nnnn aaaa dddd 00nm mmmm", b32_smulxy, SMLAxy),
    ROW("1111 1011 0010 nnnn 1111 dddd 000m mmmm", b32_mul, SMUAD),
    ROW("1111 1011 0010 nnnn aaaa dddd 000m mmmm", b32_mul, SMLAD),
    ROW("1111 1011 0011 nnnn 1111 dddd 000m mmmm", b32_smulxy, SMULWy),
    ROW("1111 1011 0011 nnnn aaaa dddd 000m mmmm", b32_smulxy, SMLAWy),
    ROW("1111 1011 0100 nnnn 1111 dddd 000m mmmm", b32_mul, SMUSD),
    ROW("1111 1011 0100 nnnn aaaa dddd 000m mmmm", b32_mul, SMLSD),
    ROW("1111 1011 0101 nnnn 1111 dddd 000r mmmm", b32_mul, SMMUL),
    ROW("1111 1011 0101 nnnn aaaa dddd 000r mmmm", b32_mul, SMMLA),
    ROW("1111 1011 0110 nnnn aaaa dddd 000r mmmm", b32_mul, SMMLS),
    ROW("1111 1011 0111 nnnn 1111 dddd 0000 mmmm", b32_mul, USAD8),
    ROW("1111 1011 0111 nnnn aaaa dddd 0000 mmmm", b32_mul, USADA8),

    /* -- long multiply, long multiply accumulate, divide (1111 1011 1) -------------------- */
    ROW("1111 1011 1000 nnnn llll hhhh 0000 mmmm", b32_mull, SMULL),
    ROW("1111 1011 1001 nnnn (1)(1)(1)(1) dddd 1111 mmmm", b32_mul, SDIV),
    ROW("1111 1011 1010 nnnn llll hhhh 0000 mmmm", b32_mull, UMULL),
    ROW("1111 1011 1011 nnnn (1)(1)(1)(1) dddd 1111 mmmm", b32_mul, UDIV),
    ROW("1111 1011 1100 nnnn llll hhhh 0000 mmmm", b32_mull, SMLAL),
    ROW("1111 1011 1100 nnnn llll hhhh 10nm mmmm", b32_smlalxy, SMLALxy),
    ROW("1111 1011 1100 nnnn llll hhhh 110m mmmm", b32_mull, SMLALD),
    ROW("1111 1011 1101 nnnn llll hhhh 110m mmmm", b32_mull, SMLSLD),
    ROW("1111 1011 1110 nnnn llll hhhh 0000 mmmm", b32_mull, UMLAL),
    ROW("1111 1011 1110 nnnn llll hhhh 0110 mmmm", b32_mull, UMAAL),
};

#define N16 COREMU_ARRAY_SIZE(t16_rows)
#define N32 COREMU_ARRAY_SIZE(t32_rows)

/*
 * Rows that can match each bucket, in table order (indices, ~0 terminated). 16-bit rows are
 * bucketed by bits 15:10; 32-bit rows by bits 28:24 and 15 (hw1 12:8, hw2 15), which separate
 * the ARM ARM's top-level groups.
 */
#define T16_KEY(insn) (((insn) >> 10) & 0x3fu)
#define T32_KEY(insn) ((((insn) >> 23) & 0x3eu) | (((insn) >> 15) & 1u))
#define T32_KEY_MASK 0x1f008000u
static uint16_t t16_index[64][N16 + 1];
static uint16_t t32_index[64][N32 + 1];

/* Runs before main(), hence before any core thread decodes. */
__attribute__((constructor)) static void t32_init(void)
{
    arm_decode_parse_rows(t16_rows, N16, 16, "decode_t32");
    arm_decode_parse_rows(t32_rows, N32, 32, "decode_t32");
    for (uint32_t key = 0; key < 64; key++) {
        arm_decode_bucket(t16_rows, N16, key << 10, 0xfc00u, t16_index[key]);
        arm_decode_bucket(t32_rows, N32, ((key & 0x3eu) << 23) | ((key & 1u) << 15),
                          T32_KEY_MASK, t32_index[key]);
    }
}

static const struct arm_decode_row *t32_lookup(uint32_t insn, unsigned len)
{
    if (len == 2) {
        insn &= 0xffffu;
        return arm_decode_find(t16_rows, t16_index[T16_KEY(insn)], insn);
    }
    return arm_decode_find(t32_rows, t32_index[T32_KEY(insn)], insn);
}

void arm_decode_t32(uint32_t pc, uint32_t insn, unsigned len, uint8_t itstate,
                    struct arm_uop *op)
{
    memset(op, 0, sizeof *op);
    op->pc = pc;
    op->insn = insn;
    op->len = (uint8_t)len;
    op->itstate = itstate;
    op->flags = ARM_UOP_THUMB;
    op->cond = (uint8_t)((itstate & 0xf) != 0 ? itstate >> 4 : 0xe);

    const struct arm_decode_row *row = t32_lookup(insn, len);
    if (arm_decode_apply(row, insn, op)) {
        if (row->kind == K_BRANCH) {
            writes_pc(op);
        } else if (row->kind == K_NOT_IN_IT && in_it(op)) {
            reject(op);
        }
    }
    arm_decode_finish(op);
}

uint32_t arm_t32_canonical(uint32_t insn, unsigned len)
{
    return arm_decode_canonical(t32_lookup(insn, len), insn);
}

const char *arm_t32_handler_name(arm_uop_fn fn)
{
    if (fn == arm_op_UNDEFINED) {
        return "UNDEFINED";
    }
    const char *name = arm_decode_name(t16_rows, N16, fn);
    return name != NULL ? name : arm_decode_name(t32_rows, N32, fn);
}
