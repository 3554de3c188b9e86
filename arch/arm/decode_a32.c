/*
 * coremu ARM — the A32 (ARM state) decoder.
 *
 * The encodings are data: each row of the tables below is a 32-bit pattern written as the
 * ARM ARM (DDI 0406C, chapter A5 and the instruction pages) draws it, a field builder and the
 * handler named after the instruction. In a pattern '0' and '1' are fixed bits and any other
 * character is a variable field (the letters only remind the reader which field); spaces are
 * ignored. Rows are tried in order, so a more specific encoding precedes the general one it
 * carves out of. The first four characters select the space: "cccc" rows belong to the
 * conditional table (cond != 0b1111), "1111" rows to the unconditional one. Conditional rows
 * are indexed by bits 27:25 (the ARM ARM's top-level op1) so that a lookup scans a few dozen
 * rows, not all of them.
 *
 * In a pattern "(0)" and "(1)" are the ARM ARM's should-be-zero/one bits: a wrong value there
 * is UNPREDICTABLE, and the decoder executes the instruction as if the bits were right
 * (arm_a32_canonical() gives the encoding with them set right, for disassembly and tests).
 *
 * The builders extract fields (ops.h documents what each handler expects) and turn the
 * UNPREDICTABLE cases this decoder rejects into arm_op_UNDEFINED. The policy:
 *   - R15 named where the instruction cannot branch is UNDEFINED: as a destination of
 *     multiplies, media, extends, CLZ, MOVW/MOVT, LDRB/LDRH/LDRSB/LDRSH/LDRT..., exclusives,
 *     MRS, MCR's source; as any operand of a register-shifted-register data-processing
 *     instruction; as the base of LDM/STM/RFE or of a load/store with write-back;
 *   - so are an empty register list, LDRD/STRD/LDREXD/STREXD with an odd or R14 Rt, a bit
 *     field with msb < lsb or lsb + width > 32, BKPT and HVC with a condition other than AL,
 *     and the UNPREDICTABLE CPS forms;
 *   - other UNPREDICTABLE cases execute as the natural generalisation of the pseudocode
 *     (write-back with Rn == Rt: the loaded value wins; STM with Rn in the list and write-back
 *     stores the original base; data processing with S and Rd = R15 in User or System mode,
 *     which have no SPSR, branches without touching the CPSR).
 * The MRS/MSR (banked) and ERET encodings belong to the Virtualization Extensions, which this
 * core does not have: UNDEFINED. So are the coprocessor instructions other than those of
 * CP15, the CP14 debug register reads (RAZ) and the CP10/CP11 (VFP) space, and the whole
 * unconditional coprocessor space (LDC2, MCR2...).
 */
#include "config.h"

#include <string.h>

#include <coremu/util.h>

#include "decode_common.h"

/* ---- field helpers ---------------------------------------------------------------------- */

/* ARMExpandImm_C: the carry is 2 (unchanged) when the rotation is zero. */
static void expand_imm(uint32_t imm12, struct arm_uop *op)
{
    unsigned rot = 2 * BITS(imm12, 11, 8);
    uint32_t value = arm_ror32(imm12 & 0xff, rot);
    op->imm = value;
    op->carry = rot == 0 ? 2 : (uint8_t)(value >> 31);
}

static void set_puw(uint32_t insn, struct arm_uop *op)
{
    if (BIT(insn, 24)) {
        op->flags |= ARM_UOP_P;
    }
    if (BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    if (BIT(insn, 21)) {
        op->flags |= ARM_UOP_W;
    }
}

static bool wback(const struct arm_uop *op)
{
    return !(op->flags & ARM_UOP_P) || (op->flags & ARM_UOP_W);
}

/* ---- builders: data processing ---------------------------------------------------------- */

static void dp_common(uint32_t insn, struct arm_uop *op)
{
    unsigned opc = BITS(insn, 24, 21);
    op->rn = (uint8_t)BITS(insn, 19, 16);
    op->rd = (uint8_t)BITS(insn, 15, 12);
    if (BIT(insn, 20)) {
        op->flags |= ARM_UOP_S;
    }
    if (opc >= 8 && opc <= 11) {
        op->rd = 0; /* TST TEQ CMP CMN: no destination */
    } else if (op->rd == 15) {
        op->flags |= ARM_UOP_ENDS_BLOCK;
    }
}

static void b_dp_imm(uint32_t insn, struct arm_uop *op)
{
    dp_common(insn, op);
    expand_imm(BITS(insn, 11, 0), op);
}

static void b_dp_reg(uint32_t insn, struct arm_uop *op)
{
    dp_common(insn, op);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    imm_shift(BITS(insn, 6, 5), BITS(insn, 11, 7), op);
}

static void b_dp_rsr(uint32_t insn, struct arm_uop *op)
{
    dp_common(insn, op);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    op->rs = (uint8_t)BITS(insn, 11, 8);
    op->shift_type = (uint8_t)BITS(insn, 6, 5);
    unsigned opc = BITS(insn, 24, 21);
    bool has_rn = opc != 13 && opc != 15;
    bool has_rd = opc < 8 || opc > 11;
    if (op->rm == 15 || op->rs == 15 || (has_rn && op->rn == 15) ||
        (has_rd && op->rd == 15)) {
        reject(op);
    }
}

static void b_adr(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    expand_imm(BITS(insn, 11, 0), op);
    if (BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    if (op->rd == 15) {
        op->flags |= ARM_UOP_ENDS_BLOCK;
    }
}

static void b_movw(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->imm = (BITS(insn, 19, 16) << 12) | BITS(insn, 11, 0);
    if (op->rd == 15) {
        reject(op);
    }
}

/* Rd = bits 15:12, Rn = 19:16, Rm = 3:0 (parallel add/sub, SEL, QADD...). */
static void b_rd_rn_rm(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rn = (uint8_t)BITS(insn, 19, 16);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    if (op->rd == 15 || op->rn == 15 || op->rm == 15) {
        reject(op);
    }
}

/* Rd = 15:12, Rm = 3:0 (CLZ, REV...). */
static void b_rd_rm(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    if (op->rd == 15 || op->rm == 15) {
        reject(op);
    }
}

static void b_extend(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rn = (uint8_t)BITS(insn, 19, 16);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    op->shift_n = (uint8_t)(8 * BITS(insn, 11, 10));
    if (op->rd == 15 || op->rm == 15) {
        reject(op);
    }
}

static void b_pkh(uint32_t insn, struct arm_uop *op)
{
    b_rd_rn_rm(insn, op);
    imm_shift(BIT(insn, 6) ? 2 : 0, BITS(insn, 11, 7), op);
}

static void sat_common(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rn = (uint8_t)BITS(insn, 3, 0);
    imm_shift(BIT(insn, 6) ? 2 : 0, BITS(insn, 11, 7), op);
    if (op->rd == 15 || op->rn == 15) {
        reject(op);
    }
}

static void b_ssat(uint32_t insn, struct arm_uop *op)
{
    sat_common(insn, op);
    op->imm = BITS(insn, 20, 16) + 1;
}

static void b_usat(uint32_t insn, struct arm_uop *op)
{
    sat_common(insn, op);
    op->imm = BITS(insn, 20, 16);
}

static void b_ssat16(uint32_t insn, struct arm_uop *op)
{
    sat_common(insn, op);
    op->shift_type = ARM_SHIFT_LSL;
    op->shift_n = 0;
    op->imm = BITS(insn, 19, 16) + 1;
}

static void b_usat16(uint32_t insn, struct arm_uop *op)
{
    b_ssat16(insn, op);
    op->imm = BITS(insn, 19, 16);
}

static void b_bfx(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rn = (uint8_t)BITS(insn, 3, 0);
    op->imm = BITS(insn, 11, 7);
    op->imm2 = BITS(insn, 20, 16);
    if (op->rd == 15 || op->rn == 15 || op->imm + op->imm2 > 31) {
        reject(op);
    }
}

static void b_bfi(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rn = (uint8_t)BITS(insn, 3, 0);
    op->imm = BITS(insn, 11, 7);
    op->imm2 = BITS(insn, 20, 16);
    if (op->rd == 15 || op->imm2 < op->imm) {
        reject(op);
    }
}

/* ---- builders: multiplies --------------------------------------------------------------- */

/* Rd = 19:16, Ra = 15:12, Rm = 11:8, Rn = 3:0. */
static void b_mul(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 19, 16);
    op->ra = (uint8_t)BITS(insn, 15, 12);
    op->rm = (uint8_t)BITS(insn, 11, 8);
    op->rn = (uint8_t)BITS(insn, 3, 0);
    if (BIT(insn, 20)) {
        op->flags |= ARM_UOP_S;
    }
    /* The M/N/X/R selector bits of the media and halfword forms. */
    op->imm = BIT(insn, 5);
    if (op->rd == 15 || op->rm == 15 || op->rn == 15) {
        reject(op);
    }
}

/* RdHi = 19:16, RdLo = 15:12: rd = RdLo, ra = RdHi. */
static void b_mull(uint32_t insn, struct arm_uop *op)
{
    b_mul(insn, op);
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->ra = (uint8_t)BITS(insn, 19, 16);
    if (op->rd == 15 || op->ra == 15) {
        reject(op);
    }
}

/* SMUL<x><y> and relatives: N half selector in bit 5, M half selector in bit 6. */
static void b_smulxy(uint32_t insn, struct arm_uop *op)
{
    b_mul(insn, op);
    op->flags &= (uint8_t)~ARM_UOP_S;
    op->imm = BIT(insn, 5) ? 16 : 0;
    op->imm2 = BIT(insn, 6) ? 16 : 0;
}

static void b_smlalxy(uint32_t insn, struct arm_uop *op)
{
    b_mull(insn, op);
    op->flags &= (uint8_t)~ARM_UOP_S;
    op->imm = BIT(insn, 5) ? 16 : 0;
    op->imm2 = BIT(insn, 6) ? 16 : 0;
}

static void b_media_mul(uint32_t insn, struct arm_uop *op)
{
    b_mul(insn, op);
    op->flags &= (uint8_t)~ARM_UOP_S;
}

static void b_media_mull(uint32_t insn, struct arm_uop *op)
{
    b_mull(insn, op);
    op->flags &= (uint8_t)~ARM_UOP_S;
}

/* ---- builders: loads and stores --------------------------------------------------------- */

static void ls_common(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rn = (uint8_t)BITS(insn, 19, 16);
    set_puw(insn, op);
    if (wback(op) && op->rn == 15) {
        reject(op);
    }
}

/* Word and unsigned byte: a load to the PC is an interworking branch (LDR only); STR and
 * STRT may store the PC; the other forms may not name it. */
static void ls_word_rt(uint32_t insn, struct arm_uop *op)
{
    bool byte = BIT(insn, 22), load = BIT(insn, 20);
    bool unpriv = !BIT(insn, 24) && BIT(insn, 21);
    if (op->rd == 15) {
        if (byte || (unpriv && load)) {
            reject(op);
        } else if (load) {
            op->flags |= ARM_UOP_ENDS_BLOCK;
        }
    }
}

static void b_ldst_imm12(uint32_t insn, struct arm_uop *op)
{
    ls_common(insn, op);
    op->imm = BITS(insn, 11, 0);
    ls_word_rt(insn, op);
}

static void b_ldst_reg(uint32_t insn, struct arm_uop *op)
{
    ls_common(insn, op);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    imm_shift(BITS(insn, 6, 5), BITS(insn, 11, 7), op);
    if (op->rm == 15) {
        reject(op);
    }
    ls_word_rt(insn, op);
}

static void b_ldst_lit12(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->imm = BITS(insn, 11, 0);
    if (BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    ls_word_rt(insn, op);
}

/* Halfword and signed byte: R15 is never a valid Rt. */
static void b_ldst_imm8(uint32_t insn, struct arm_uop *op)
{
    ls_common(insn, op);
    op->imm = (BITS(insn, 11, 8) << 4) | BITS(insn, 3, 0);
    if (op->rd == 15) {
        reject(op);
    }
}

static void b_ldst_reg8(uint32_t insn, struct arm_uop *op)
{
    ls_common(insn, op);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    op->shift_type = ARM_SHIFT_LSL;
    op->shift_n = 0;
    if (op->rd == 15 || op->rm == 15) {
        reject(op);
    }
}

static void b_ldst_lit8(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->imm = (BITS(insn, 11, 8) << 4) | BITS(insn, 3, 0);
    if (BIT(insn, 23)) {
        op->flags |= ARM_UOP_U;
    }
    if (op->rd == 15) {
        reject(op);
    }
}

/* LDRD/STRD: Rt even and not R14, Rt2 = Rt + 1. */
static void dual_rt(struct arm_uop *op)
{
    op->ra = (uint8_t)(op->rd + 1);
    if ((op->rd & 1) || op->rd == 14) {
        reject(op);
    }
}

static void b_ldrd_imm(uint32_t insn, struct arm_uop *op)
{
    b_ldst_imm8(insn, op);
    dual_rt(op);
}

static void b_ldrd_reg(uint32_t insn, struct arm_uop *op)
{
    b_ldst_reg8(insn, op);
    dual_rt(op);
}

static void b_ldrd_lit(uint32_t insn, struct arm_uop *op)
{
    b_ldst_lit8(insn, op);
    dual_rt(op);
}

static void b_ldm(uint32_t insn, struct arm_uop *op)
{
    op->rn = (uint8_t)BITS(insn, 19, 16);
    op->imm = BITS(insn, 15, 0);
    set_puw(insn, op);
    if (op->imm == 0 || op->rn == 15) {
        reject(op);
    } else if (BIT(insn, 20) && BIT(insn, 15)) {
        op->flags |= ARM_UOP_ENDS_BLOCK; /* loads the PC */
    }
}

static void b_swp(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rn = (uint8_t)BITS(insn, 19, 16);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    if (op->rd == 15 || op->rn == 15 || op->rm == 15) {
        reject(op);
    }
}

static void b_ldrex(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->rn = (uint8_t)BITS(insn, 19, 16);
    if (op->rd == 15 || op->rn == 15) {
        reject(op);
    }
}

static void b_ldrexd(uint32_t insn, struct arm_uop *op)
{
    b_ldrex(insn, op);
    dual_rt(op);
}

static void b_strex(uint32_t insn, struct arm_uop *op)
{
    b_swp(insn, op);
}

static void b_strexd(uint32_t insn, struct arm_uop *op)
{
    b_swp(insn, op);
    op->ra = (uint8_t)(op->rm + 1);
    if ((op->rm & 1) || op->rm == 14) {
        reject(op);
    }
}

/* ---- builders: branches, exceptions, system --------------------------------------------- */

static void b_branch(uint32_t insn, struct arm_uop *op)
{
    int32_t offset = (int32_t)(BITS(insn, 23, 0) << 8) >> 6; /* SignExtend(imm24:'00') */
    op->imm = op->pc + 8 + (uint32_t)offset;
}

static void b_blx_imm(uint32_t insn, struct arm_uop *op)
{
    b_branch(insn, op);
    op->imm += BIT(insn, 24) << 1; /* H */
}

static void b_bx(uint32_t insn, struct arm_uop *op)
{
    op->rm = (uint8_t)BITS(insn, 3, 0);
}

static void b_svc(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 23, 0);
}

/* BKPT and HVC: imm12:imm4. Both are UNPREDICTABLE with a condition other than AL. */
static void b_imm16(uint32_t insn, struct arm_uop *op)
{
    op->imm = (BITS(insn, 19, 8) << 4) | BITS(insn, 3, 0);
    if ((insn >> 28) != 0xe) {
        reject(op);
    }
}

static void b_smc(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 3, 0);
}

static void b_mrs(uint32_t insn, struct arm_uop *op)
{
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->imm2 = BIT(insn, 22);
    if (op->rd == 15) {
        reject(op);
    }
}

static void b_msr_imm(uint32_t insn, struct arm_uop *op)
{
    expand_imm(BITS(insn, 11, 0), op);
    op->imm2 = BITS(insn, 19, 16) | (BIT(insn, 22) << 4);
}

static void b_msr_reg(uint32_t insn, struct arm_uop *op)
{
    op->rn = (uint8_t)BITS(insn, 3, 0);
    op->imm2 = BITS(insn, 19, 16) | (BIT(insn, 22) << 4);
    if (op->rn == 15) {
        reject(op);
    }
}

static void b_cps(uint32_t insn, struct arm_uop *op)
{
    op->imm = insn & (ARM_CPSR_A | ARM_CPSR_I | ARM_CPSR_F); /* same bit positions */
    op->shift_type = (uint8_t)BITS(insn, 19, 18);
    op->imm2 = BIT(insn, 17) ? BITS(insn, 4, 0) : 0;
    /* UNPREDICTABLE: a mode without M, imod = 01, nothing to do, A/I/F without imod and
     * imod without A/I/F. */
    bool m = BIT(insn, 17);
    unsigned imod = op->shift_type;
    if ((!m && BITS(insn, 4, 0) != 0) || imod == 1 || (imod == 0 && !m) ||
        ((imod & 2) && op->imm == 0) || (!(imod & 2) && op->imm != 0)) {
        reject(op);
    }
}

static void b_setend(uint32_t insn, struct arm_uop *op)
{
    op->imm = BIT(insn, 9);
}

static void b_srs(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 4, 0);
    set_puw(insn, op);
}

static void b_rfe(uint32_t insn, struct arm_uop *op)
{
    op->rn = (uint8_t)BITS(insn, 19, 16);
    set_puw(insn, op);
    if (op->rn == 15) {
        reject(op);
    }
}

/* MCR/MRC: CP15, and CP14 debug register reads (opc1 = 0); every other coprocessor here
 * (CP10/11 went to the VFP decoder) is UNDEFINED. */
static void b_mcr(uint32_t insn, struct arm_uop *op)
{
    bool read = BIT(insn, 20);
    op->rs = (uint8_t)BITS(insn, 11, 8);
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->imm = BITS(insn, 23, 21);
    op->rn = (uint8_t)BITS(insn, 19, 16);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    op->imm2 = BITS(insn, 7, 5);
    bool cp14_read = op->rs == 14 && read && op->imm == 0;
    if ((op->rs != 15 && !cp14_read) || (!read && op->rd == 15)) {
        reject(op);
    }
}

static void b_mcrr(uint32_t insn, struct arm_uop *op)
{
    op->rs = (uint8_t)BITS(insn, 11, 8);
    op->rd = (uint8_t)BITS(insn, 15, 12);
    op->ra = (uint8_t)BITS(insn, 19, 16);
    op->imm = BITS(insn, 7, 4);
    op->rm = (uint8_t)BITS(insn, 3, 0);
    if (op->rs != 15 || op->rd == 15 || op->ra == 15) {
        reject(op);
    }
}

static void b_barrier(uint32_t insn, struct arm_uop *op)
{
    op->imm = BITS(insn, 3, 0);
}

/* CP10/CP11 and Advanced SIMD: the VFP decoder's, or UNDEFINED if it does not claim them. */
static void b_vfp(uint32_t insn, struct arm_uop *op)
{
    struct arm_uop base = *op;
    if (!arm_decode_vfp(op->pc, insn, false, op)) {
        *op = base;
        reject(op);
        return;
    }
    op->pc = base.pc;
    op->insn = insn;
    op->len = 4;
    op->cond = base.cond;
}

/* ---- the tables ------------------------------------------------------------------------- */

#define ROWF(pattern_, build_, name_, flags_)                                                \
    {.pattern = pattern_, .build = build_, .fn = arm_op_##name_, .name = #name_, .flags = flags_}
#define ROW(pattern, build, name)     ROWF(pattern, build, name, 0)
#define ROW_END(pattern, build, name) ROWF(pattern, build, name, ARM_UOP_ENDS_BLOCK)
#define ROW_VFP(pattern_)             {.pattern = pattern_, .build = b_vfp, .name = "VFP"}

/* One data-processing operation in its three operand forms: op5 is bits 24:20, rn and rd the
 * Rn and Rd fields ("(0)(0)(0)(0)" where the operation has none). */
#define DP_REG_ROWS(op5, name, rn, rd)                                                  \
    ROW("cccc 000" op5 " " rn " " rd " xxxx xxx0 xxxx", b_dp_reg, name##_reg),         \
    ROW("cccc 000" op5 " " rn " " rd " xxxx 0xx1 xxxx", b_dp_rsr, name##_rsr)
#define DP_IMM_ROW(op5, name, rn, rd) \
    ROW("cccc 001" op5 " " rn " " rd " xxxx xxxx xxxx", b_dp_imm, name##_imm)

#define N "nnnn"
#define D "dddd"
#define Z "(0)(0)(0)(0)"
#define DP_ALL(X)                                                                          \
    X("0000x", AND, N, D), X("0001x", EOR, N, D), X("0010x", SUB, N, D),                    \
    X("0011x", RSB, N, D), X("0100x", ADD, N, D), X("0101x", ADC, N, D),                    \
    X("0110x", SBC, N, D), X("0111x", RSC, N, D), X("10001", TST, N, Z),                    \
    X("10011", TEQ, N, Z), X("10101", CMP, N, Z), X("10111", CMN, N, Z),                    \
    X("1100x", ORR, N, D), X("1101x", MOV, Z, D), X("1110x", BIC, N, D),                    \
    X("1111x", MVN, Z, D)

static struct arm_decode_row a32_cond_rows[] = {
    /* -- op1 = 000: miscellaneous (op1 = 10xx0, op2 = 0xxx) ------------------------------ */
    ROW("cccc 0001 0x00 xxxx xxxx xx1x 0000 xxxx", NULL, UNDEFINED), /* MRS (banked) */
    ROW("cccc 0001 0x10 xxxx xxxx xx1x 0000 xxxx", NULL, UNDEFINED), /* MSR (banked) */
    ROW("cccc 0001 0x00 (1)(1)(1)(1) dddd (0)(0)(0)(0) 0000 (0)(0)(0)(0)", b_mrs, MRS),
    ROW_END("cccc 0001 0x10 mmmm (1)(1)(1)(1) (0)(0)(0)(0) 0000 nnnn", b_msr_reg, MSR_reg),
    ROW_END("cccc 0001 0010 (1)(1)(1)(1) (1)(1)(1)(1) (1)(1)(1)(1) 0001 mmmm", b_bx, BX),
    ROW("cccc 0001 0110 (1)(1)(1)(1) dddd (1)(1)(1)(1) 0001 mmmm", b_rd_rm, CLZ),
    /* BXJ: no Jazelle, so it is BX */
    ROW_END("cccc 0001 0010 (1)(1)(1)(1) (1)(1)(1)(1) (1)(1)(1)(1) 0010 mmmm", b_bx, BX),
    ROW_END("cccc 0001 0010 (1)(1)(1)(1) (1)(1)(1)(1) (1)(1)(1)(1) 0011 mmmm", b_bx, BLX_reg),
    ROW("cccc 0001 0000 nnnn dddd (0)(0)(0)(0) 0101 mmmm", b_rd_rn_rm, QADD),
    ROW("cccc 0001 0010 nnnn dddd (0)(0)(0)(0) 0101 mmmm", b_rd_rn_rm, QSUB),
    ROW("cccc 0001 0100 nnnn dddd (0)(0)(0)(0) 0101 mmmm", b_rd_rn_rm, QDADD),
    ROW("cccc 0001 0110 nnnn dddd (0)(0)(0)(0) 0101 mmmm", b_rd_rn_rm, QDSUB),
    ROW("cccc 0001 0110 xxxx xxxx xxxx 0110 xxxx", NULL, UNDEFINED), /* ERET */
    ROW_END("cccc 0001 0010 iiii iiii iiii 0111 iiii", b_imm16, BKPT),
    ROW_END("cccc 0001 0100 iiii iiii iiii 0111 iiii", b_imm16, HVC),
    ROW_END("cccc 0001 0110 (0)(0)(0)(0) (0)(0)(0)(0) (0)(0)(0)(0) 0111 iiii", b_smc, SMC),
    ROW("cccc 0001 0xx0 xxxx xxxx xxxx 0xxx xxxx", NULL, UNDEFINED),
    /* halfword multiplies (op1 = 10xx0, op2 = 1xx0) */
    ROW("cccc 0001 0000 dddd aaaa mmmm 1yx0 nnnn", b_smulxy, SMLAxy),
    ROW("cccc 0001 0010 dddd aaaa mmmm 1y00 nnnn", b_smulxy, SMLAWy),
    ROW("cccc 0001 0010 dddd (0)(0)(0)(0) mmmm 1y10 nnnn", b_smulxy, SMULWy),
    ROW("cccc 0001 0100 hhhh llll mmmm 1yx0 nnnn", b_smlalxy, SMLALxy),
    ROW("cccc 0001 0110 dddd (0)(0)(0)(0) mmmm 1yx0 nnnn", b_smulxy, SMULxy),
    /* multiplies (op1 = 0xxxx, op2 = 1001) */
    ROW("cccc 0000 000s dddd (0)(0)(0)(0) mmmm 1001 nnnn", b_mul, MUL),
    ROW("cccc 0000 001s dddd aaaa mmmm 1001 nnnn", b_mul, MLA),
    ROW("cccc 0000 0100 hhhh llll mmmm 1001 nnnn", b_mull, UMAAL),
    ROW("cccc 0000 0110 dddd aaaa mmmm 1001 nnnn", b_mul, MLS),
    ROW("cccc 0000 100s hhhh llll mmmm 1001 nnnn", b_mull, UMULL),
    ROW("cccc 0000 101s hhhh llll mmmm 1001 nnnn", b_mull, UMLAL),
    ROW("cccc 0000 110s hhhh llll mmmm 1001 nnnn", b_mull, SMULL),
    ROW("cccc 0000 111s hhhh llll mmmm 1001 nnnn", b_mull, SMLAL),
    ROW("cccc 0000 01x1 xxxx xxxx xxxx 1001 xxxx", NULL, UNDEFINED),
    /* synchronization primitives (op1 = 1xxxx, op2 = 1001) */
    ROW("cccc 0001 0000 nnnn tttt (0)(0)(0)(0) 1001 mmmm", b_swp, SWP),
    ROW("cccc 0001 0100 nnnn tttt (0)(0)(0)(0) 1001 mmmm", b_swp, SWPB),
    ROW("cccc 0001 1000 nnnn dddd (1)(1)(1)(1) 1001 tttt", b_strex, STREX),
    ROW("cccc 0001 1001 nnnn tttt (1)(1)(1)(1) 1001 (1)(1)(1)(1)", b_ldrex, LDREX),
    ROW("cccc 0001 1010 nnnn dddd (1)(1)(1)(1) 1001 tttt", b_strexd, STREXD),
    ROW("cccc 0001 1011 nnnn tttt (1)(1)(1)(1) 1001 (1)(1)(1)(1)", b_ldrexd, LDREXD),
    ROW("cccc 0001 1100 nnnn dddd (1)(1)(1)(1) 1001 tttt", b_strex, STREXB),
    ROW("cccc 0001 1101 nnnn tttt (1)(1)(1)(1) 1001 (1)(1)(1)(1)", b_ldrex, LDREXB),
    ROW("cccc 0001 1110 nnnn dddd (1)(1)(1)(1) 1001 tttt", b_strex, STREXH),
    ROW("cccc 0001 1111 nnnn tttt (1)(1)(1)(1) 1001 (1)(1)(1)(1)", b_ldrex, LDREXH),
    ROW("cccc 0001 xxxx xxxx xxxx xxxx 1001 xxxx", NULL, UNDEFINED),
    /* extra load/store, unprivileged (P = 0, W = 1) */
    ROW("cccc 0000 u110 nnnn tttt iiii 1011 iiii", b_ldst_imm8, STRHT_imm),
    ROW("cccc 0000 u010 nnnn tttt (0)(0)(0)(0) 1011 mmmm", b_ldst_reg8, STRHT_reg),
    ROW("cccc 0000 u111 nnnn tttt iiii 1011 iiii", b_ldst_imm8, LDRHT_imm),
    ROW("cccc 0000 u011 nnnn tttt (0)(0)(0)(0) 1011 mmmm", b_ldst_reg8, LDRHT_reg),
    ROW("cccc 0000 u111 nnnn tttt iiii 1101 iiii", b_ldst_imm8, LDRSBT_imm),
    ROW("cccc 0000 u011 nnnn tttt (0)(0)(0)(0) 1101 mmmm", b_ldst_reg8, LDRSBT_reg),
    ROW("cccc 0000 u111 nnnn tttt iiii 1111 iiii", b_ldst_imm8, LDRSHT_imm),
    ROW("cccc 0000 u011 nnnn tttt (0)(0)(0)(0) 1111 mmmm", b_ldst_reg8, LDRSHT_reg),
    ROW("cccc 0000 xx10 xxxx xxxx xxxx 11x1 xxxx", NULL, UNDEFINED), /* LDRD/STRD P=0 W=1 */
    /* extra load/store */
    ROW("cccc 000p u0w0 nnnn tttt (0)(0)(0)(0) 1011 mmmm", b_ldst_reg8, STRH_reg),
    ROW("cccc 000p u0w1 nnnn tttt (0)(0)(0)(0) 1011 mmmm", b_ldst_reg8, LDRH_reg),
    ROW("cccc 000p u1w0 nnnn tttt iiii 1011 iiii", b_ldst_imm8, STRH_imm),
    ROW("cccc 0001 u101 1111 tttt iiii 1011 iiii", b_ldst_lit8, LDRH_lit),
    ROW("cccc 000p u1w1 nnnn tttt iiii 1011 iiii", b_ldst_imm8, LDRH_imm),
    ROW("cccc 000p u0w0 nnnn tttt (0)(0)(0)(0) 1101 mmmm", b_ldrd_reg, LDRD_reg),
    ROW("cccc 000p u0w1 nnnn tttt (0)(0)(0)(0) 1101 mmmm", b_ldst_reg8, LDRSB_reg),
    ROW("cccc 0001 u100 1111 tttt iiii 1101 iiii", b_ldrd_lit, LDRD_lit),
    ROW("cccc 000p u1w0 nnnn tttt iiii 1101 iiii", b_ldrd_imm, LDRD_imm),
    ROW("cccc 0001 u101 1111 tttt iiii 1101 iiii", b_ldst_lit8, LDRSB_lit),
    ROW("cccc 000p u1w1 nnnn tttt iiii 1101 iiii", b_ldst_imm8, LDRSB_imm),
    ROW("cccc 000p u0w0 nnnn tttt (0)(0)(0)(0) 1111 mmmm", b_ldrd_reg, STRD_reg),
    ROW("cccc 000p u0w1 nnnn tttt (0)(0)(0)(0) 1111 mmmm", b_ldst_reg8, LDRSH_reg),
    ROW("cccc 000p u1w0 nnnn tttt iiii 1111 iiii", b_ldrd_imm, STRD_imm),
    ROW("cccc 0001 u101 1111 tttt iiii 1111 iiii", b_ldst_lit8, LDRSH_lit),
    ROW("cccc 000p u1w1 nnnn tttt iiii 1111 iiii", b_ldst_imm8, LDRSH_imm),
    /* data processing (register, register-shifted register) */
    DP_ALL(DP_REG_ROWS),

    /* -- op1 = 001: data processing (immediate), MOVW/MOVT, MSR (immediate), hints -------- */
    ROW("cccc 0011 0000 iiii dddd iiii iiii iiii", b_movw, MOVW),
    ROW("cccc 0011 0100 iiii dddd iiii iiii iiii", b_movw, MOVT),
    ROW("cccc 0011 0010 0000 (1)(1)(1)(1) (0)(0)(0)(0) 0000 0000", NULL, NOP),
    ROW("cccc 0011 0010 0000 (1)(1)(1)(1) (0)(0)(0)(0) 0000 0001", NULL, YIELD),
    ROW_END("cccc 0011 0010 0000 (1)(1)(1)(1) (0)(0)(0)(0) 0000 0010", NULL, WFE),
    ROW_END("cccc 0011 0010 0000 (1)(1)(1)(1) (0)(0)(0)(0) 0000 0011", NULL, WFI),
    ROW("cccc 0011 0010 0000 (1)(1)(1)(1) (0)(0)(0)(0) 0000 0100", NULL, SEV),
    ROW("cccc 0011 0010 0000 (1)(1)(1)(1) (0)(0)(0)(0) 1111 iiii", NULL, DBG),
    ROW("cccc 0011 0010 0000 (1)(1)(1)(1) (0)(0)(0)(0) xxxx xxxx", NULL, NOP), /* unallocated */
    ROW_END("cccc 0011 0r10 mmmm (1)(1)(1)(1) iiii iiii iiii", b_msr_imm, MSR_imm),
    ROW("cccc 0010 1000 1111 dddd iiii iiii iiii", b_adr, ADR), /* ADD Rd, PC, #imm */
    ROW("cccc 0010 0100 1111 dddd iiii iiii iiii", b_adr, ADR), /* SUB Rd, PC, #imm */
    DP_ALL(DP_IMM_ROW),

    /* -- op1 = 010: load/store word and unsigned byte (immediate) ------------------------ */
    ROW("cccc 0100 u010 nnnn tttt iiii iiii iiii", b_ldst_imm12, STRT_imm),
    ROW("cccc 0100 u011 nnnn tttt iiii iiii iiii", b_ldst_imm12, LDRT_imm),
    ROW("cccc 0100 u110 nnnn tttt iiii iiii iiii", b_ldst_imm12, STRBT_imm),
    ROW("cccc 0100 u111 nnnn tttt iiii iiii iiii", b_ldst_imm12, LDRBT_imm),
    ROW("cccc 0101 u001 1111 tttt iiii iiii iiii", b_ldst_lit12, LDR_lit),
    ROW("cccc 0101 u101 1111 tttt iiii iiii iiii", b_ldst_lit12, LDRB_lit),
    ROW("cccc 010p u0w0 nnnn tttt iiii iiii iiii", b_ldst_imm12, STR_imm),
    ROW("cccc 010p u0w1 nnnn tttt iiii iiii iiii", b_ldst_imm12, LDR_imm),
    ROW("cccc 010p u1w0 nnnn tttt iiii iiii iiii", b_ldst_imm12, STRB_imm),
    ROW("cccc 010p u1w1 nnnn tttt iiii iiii iiii", b_ldst_imm12, LDRB_imm),

    /* -- op1 = 011, bit 4 = 0: load/store word and unsigned byte (register) -------------- */
    ROW("cccc 0110 u010 nnnn tttt iiii itt0 mmmm", b_ldst_reg, STRT_reg),
    ROW("cccc 0110 u011 nnnn tttt iiii itt0 mmmm", b_ldst_reg, LDRT_reg),
    ROW("cccc 0110 u110 nnnn tttt iiii itt0 mmmm", b_ldst_reg, STRBT_reg),
    ROW("cccc 0110 u111 nnnn tttt iiii itt0 mmmm", b_ldst_reg, LDRBT_reg),
    ROW("cccc 011p u0w0 nnnn tttt iiii itt0 mmmm", b_ldst_reg, STR_reg),
    ROW("cccc 011p u0w1 nnnn tttt iiii itt0 mmmm", b_ldst_reg, LDR_reg),
    ROW("cccc 011p u1w0 nnnn tttt iiii itt0 mmmm", b_ldst_reg, STRB_reg),
    ROW("cccc 011p u1w1 nnnn tttt iiii itt0 mmmm", b_ldst_reg, LDRB_reg),
    /* media: parallel add/subtract, signed (op1 = 000xx) and unsigned (001xx) */
    ROW("cccc 0110 0001 nnnn dddd (1)(1)(1)(1) 0001 mmmm", b_rd_rn_rm, SADD16),
    ROW("cccc 0110 0001 nnnn dddd (1)(1)(1)(1) 0011 mmmm", b_rd_rn_rm, SASX),
    ROW("cccc 0110 0001 nnnn dddd (1)(1)(1)(1) 0101 mmmm", b_rd_rn_rm, SSAX),
    ROW("cccc 0110 0001 nnnn dddd (1)(1)(1)(1) 0111 mmmm", b_rd_rn_rm, SSUB16),
    ROW("cccc 0110 0001 nnnn dddd (1)(1)(1)(1) 1001 mmmm", b_rd_rn_rm, SADD8),
    ROW("cccc 0110 0001 nnnn dddd (1)(1)(1)(1) 1111 mmmm", b_rd_rn_rm, SSUB8),
    ROW("cccc 0110 0010 nnnn dddd (1)(1)(1)(1) 0001 mmmm", b_rd_rn_rm, QADD16),
    ROW("cccc 0110 0010 nnnn dddd (1)(1)(1)(1) 0011 mmmm", b_rd_rn_rm, QASX),
    ROW("cccc 0110 0010 nnnn dddd (1)(1)(1)(1) 0101 mmmm", b_rd_rn_rm, QSAX),
    ROW("cccc 0110 0010 nnnn dddd (1)(1)(1)(1) 0111 mmmm", b_rd_rn_rm, QSUB16),
    ROW("cccc 0110 0010 nnnn dddd (1)(1)(1)(1) 1001 mmmm", b_rd_rn_rm, QADD8),
    ROW("cccc 0110 0010 nnnn dddd (1)(1)(1)(1) 1111 mmmm", b_rd_rn_rm, QSUB8),
    ROW("cccc 0110 0011 nnnn dddd (1)(1)(1)(1) 0001 mmmm", b_rd_rn_rm, SHADD16),
    ROW("cccc 0110 0011 nnnn dddd (1)(1)(1)(1) 0011 mmmm", b_rd_rn_rm, SHASX),
    ROW("cccc 0110 0011 nnnn dddd (1)(1)(1)(1) 0101 mmmm", b_rd_rn_rm, SHSAX),
    ROW("cccc 0110 0011 nnnn dddd (1)(1)(1)(1) 0111 mmmm", b_rd_rn_rm, SHSUB16),
    ROW("cccc 0110 0011 nnnn dddd (1)(1)(1)(1) 1001 mmmm", b_rd_rn_rm, SHADD8),
    ROW("cccc 0110 0011 nnnn dddd (1)(1)(1)(1) 1111 mmmm", b_rd_rn_rm, SHSUB8),
    ROW("cccc 0110 0101 nnnn dddd (1)(1)(1)(1) 0001 mmmm", b_rd_rn_rm, UADD16),
    ROW("cccc 0110 0101 nnnn dddd (1)(1)(1)(1) 0011 mmmm", b_rd_rn_rm, UASX),
    ROW("cccc 0110 0101 nnnn dddd (1)(1)(1)(1) 0101 mmmm", b_rd_rn_rm, USAX),
    ROW("cccc 0110 0101 nnnn dddd (1)(1)(1)(1) 0111 mmmm", b_rd_rn_rm, USUB16),
    ROW("cccc 0110 0101 nnnn dddd (1)(1)(1)(1) 1001 mmmm", b_rd_rn_rm, UADD8),
    ROW("cccc 0110 0101 nnnn dddd (1)(1)(1)(1) 1111 mmmm", b_rd_rn_rm, USUB8),
    ROW("cccc 0110 0110 nnnn dddd (1)(1)(1)(1) 0001 mmmm", b_rd_rn_rm, UQADD16),
    ROW("cccc 0110 0110 nnnn dddd (1)(1)(1)(1) 0011 mmmm", b_rd_rn_rm, UQASX),
    ROW("cccc 0110 0110 nnnn dddd (1)(1)(1)(1) 0101 mmmm", b_rd_rn_rm, UQSAX),
    ROW("cccc 0110 0110 nnnn dddd (1)(1)(1)(1) 0111 mmmm", b_rd_rn_rm, UQSUB16),
    ROW("cccc 0110 0110 nnnn dddd (1)(1)(1)(1) 1001 mmmm", b_rd_rn_rm, UQADD8),
    ROW("cccc 0110 0110 nnnn dddd (1)(1)(1)(1) 1111 mmmm", b_rd_rn_rm, UQSUB8),
    ROW("cccc 0110 0111 nnnn dddd (1)(1)(1)(1) 0001 mmmm", b_rd_rn_rm, UHADD16),
    ROW("cccc 0110 0111 nnnn dddd (1)(1)(1)(1) 0011 mmmm", b_rd_rn_rm, UHASX),
    ROW("cccc 0110 0111 nnnn dddd (1)(1)(1)(1) 0101 mmmm", b_rd_rn_rm, UHSAX),
    ROW("cccc 0110 0111 nnnn dddd (1)(1)(1)(1) 0111 mmmm", b_rd_rn_rm, UHSUB16),
    ROW("cccc 0110 0111 nnnn dddd (1)(1)(1)(1) 1001 mmmm", b_rd_rn_rm, UHADD8),
    ROW("cccc 0110 0111 nnnn dddd (1)(1)(1)(1) 1111 mmmm", b_rd_rn_rm, UHSUB8),
    /* media: packing, unpacking, saturation, reversal (op1 = 01xxx) */
    ROW("cccc 0110 1000 nnnn dddd iiii i001 mmmm", b_pkh, PKHBT),
    ROW("cccc 0110 1000 nnnn dddd iiii i101 mmmm", b_pkh, PKHTB),
    ROW("cccc 0110 1000 1111 dddd rr(0)(0) 0111 mmmm", b_extend, SXTB16),
    ROW("cccc 0110 1000 nnnn dddd rr(0)(0) 0111 mmmm", b_extend, SXTAB16),
    ROW("cccc 0110 1000 nnnn dddd (1)(1)(1)(1) 1011 mmmm", b_rd_rn_rm, SEL),
    ROW("cccc 0110 1010 iiii dddd (1)(1)(1)(1) 0011 nnnn", b_ssat16, SSAT16),
    ROW("cccc 0110 101i iiii dddd iiii ih01 nnnn", b_ssat, SSAT),
    ROW("cccc 0110 1010 1111 dddd rr(0)(0) 0111 mmmm", b_extend, SXTB),
    ROW("cccc 0110 1010 nnnn dddd rr(0)(0) 0111 mmmm", b_extend, SXTAB),
    ROW("cccc 0110 1011 (1)(1)(1)(1) dddd (1)(1)(1)(1) 0011 mmmm", b_rd_rm, REV),
    ROW("cccc 0110 1011 1111 dddd rr(0)(0) 0111 mmmm", b_extend, SXTH),
    ROW("cccc 0110 1011 nnnn dddd rr(0)(0) 0111 mmmm", b_extend, SXTAH),
    ROW("cccc 0110 1011 (1)(1)(1)(1) dddd (1)(1)(1)(1) 1011 mmmm", b_rd_rm, REV16),
    ROW("cccc 0110 1100 1111 dddd rr(0)(0) 0111 mmmm", b_extend, UXTB16),
    ROW("cccc 0110 1100 nnnn dddd rr(0)(0) 0111 mmmm", b_extend, UXTAB16),
    ROW("cccc 0110 1110 iiii dddd (1)(1)(1)(1) 0011 nnnn", b_usat16, USAT16),
    ROW("cccc 0110 111i iiii dddd iiii ih01 nnnn", b_usat, USAT),
    ROW("cccc 0110 1110 1111 dddd rr(0)(0) 0111 mmmm", b_extend, UXTB),
    ROW("cccc 0110 1110 nnnn dddd rr(0)(0) 0111 mmmm", b_extend, UXTAB),
    ROW("cccc 0110 1111 (1)(1)(1)(1) dddd (1)(1)(1)(1) 0011 mmmm", b_rd_rm, RBIT),
    ROW("cccc 0110 1111 1111 dddd rr(0)(0) 0111 mmmm", b_extend, UXTH),
    ROW("cccc 0110 1111 nnnn dddd rr(0)(0) 0111 mmmm", b_extend, UXTAH),
    ROW("cccc 0110 1111 (1)(1)(1)(1) dddd (1)(1)(1)(1) 1011 mmmm", b_rd_rm, REVSH),
    /* media: signed multiplies, divides (op1 = 10xxx) */
    ROW("cccc 0111 0000 dddd 1111 mmmm 00x1 nnnn", b_media_mul, SMUAD),
    ROW("cccc 0111 0000 dddd aaaa mmmm 00x1 nnnn", b_media_mul, SMLAD),
    ROW("cccc 0111 0000 dddd 1111 mmmm 01x1 nnnn", b_media_mul, SMUSD),
    ROW("cccc 0111 0000 dddd aaaa mmmm 01x1 nnnn", b_media_mul, SMLSD),
    ROW("cccc 0111 0001 dddd (1)(1)(1)(1) mmmm 0001 nnnn", b_media_mul, SDIV),
    ROW("cccc 0111 0011 dddd (1)(1)(1)(1) mmmm 0001 nnnn", b_media_mul, UDIV),
    ROW("cccc 0111 0100 hhhh llll mmmm 00x1 nnnn", b_media_mull, SMLALD),
    ROW("cccc 0111 0100 hhhh llll mmmm 01x1 nnnn", b_media_mull, SMLSLD),
    ROW("cccc 0111 0101 dddd 1111 mmmm 00r1 nnnn", b_media_mul, SMMUL),
    ROW("cccc 0111 0101 dddd aaaa mmmm 00r1 nnnn", b_media_mul, SMMLA),
    ROW("cccc 0111 0101 dddd aaaa mmmm 11r1 nnnn", b_media_mul, SMMLS),
    /* media: USAD8, bit fields, UDF (op1 = 11xxx) */
    ROW("cccc 0111 1000 dddd 1111 mmmm 0001 nnnn", b_media_mul, USAD8),
    ROW("cccc 0111 1000 dddd aaaa mmmm 0001 nnnn", b_media_mul, USADA8),
    ROW("cccc 0111 101w wwww dddd llll l101 nnnn", b_bfx, SBFX),
    ROW("cccc 0111 110m mmmm dddd llll l001 1111", b_bfi, BFC),
    ROW("cccc 0111 110m mmmm dddd llll l001 nnnn", b_bfi, BFI),
    ROW("cccc 0111 111w wwww dddd llll l101 nnnn", b_bfx, UBFX),
    ROW("cccc 0111 1111 iiii iiii iiii 1111 iiii", NULL, UDF),

    /* -- op1 = 100: load/store multiple ------------------------------------------------- */
    ROW("cccc 100p u1(0)0 nnnn rrrr rrrr rrrr rrrr", b_ldm, STM_user),
    ROW_END("cccc 100p u1w1 nnnn 1rrr rrrr rrrr rrrr", b_ldm, LDM_eret),
    ROW("cccc 100p u1(0)1 nnnn 0rrr rrrr rrrr rrrr", b_ldm, LDM_user),
    ROW("cccc 1000 00w0 nnnn rrrr rrrr rrrr rrrr", b_ldm, STMDA),
    ROW("cccc 1000 00w1 nnnn rrrr rrrr rrrr rrrr", b_ldm, LDMDA),
    ROW("cccc 1000 10w0 nnnn rrrr rrrr rrrr rrrr", b_ldm, STM),
    ROW("cccc 1000 10w1 nnnn rrrr rrrr rrrr rrrr", b_ldm, LDM),
    ROW("cccc 1001 00w0 nnnn rrrr rrrr rrrr rrrr", b_ldm, STMDB),
    ROW("cccc 1001 00w1 nnnn rrrr rrrr rrrr rrrr", b_ldm, LDMDB),
    ROW("cccc 1001 10w0 nnnn rrrr rrrr rrrr rrrr", b_ldm, STMIB),
    ROW("cccc 1001 10w1 nnnn rrrr rrrr rrrr rrrr", b_ldm, LDMIB),

    /* -- op1 = 101: branches ------------------------------------------------------------- */
    ROW_END("cccc 1010 iiii iiii iiii iiii iiii iiii", b_branch, B),
    ROW_END("cccc 1011 iiii iiii iiii iiii iiii iiii", b_branch, BL),

    /* -- op1 = 11x: coprocessor, SVC ----------------------------------------------------- */
    ROW("cccc 1100 000x xxxx xxxx 101x xxxx xxxx", NULL, UNDEFINED),
    ROW_VFP("cccc 110x xxxx xxxx xxxx 101x xxxx xxxx"), /* VLDR VSTR VLDM VSTM, 64-bit VMOV */
    ROW_VFP("cccc 1110 xxxx xxxx xxxx 101x xxxx xxxx"), /* VFP data processing, VMOV, VMRS */
    ROW_END("cccc 1100 0100 tttt tttt cccc oooo mmmm", b_mcrr, MCRR),
    ROW_END("cccc 1100 0101 tttt tttt cccc oooo mmmm", b_mcrr, MRRC),
    ROW("cccc 110x xxxx xxxx xxxx xxxx xxxx xxxx", NULL, UNDEFINED), /* LDC, STC */
    ROW_END("cccc 1110 ooo0 nnnn tttt cccc ooo1 mmmm", b_mcr, MCR),
    ROW_END("cccc 1110 ooo1 nnnn tttt cccc ooo1 mmmm", b_mcr, MRC),
    ROW("cccc 1110 xxxx xxxx xxxx xxxx xxxx xxxx", NULL, UNDEFINED), /* CDP */
    ROW_END("cccc 1111 iiii iiii iiii iiii iiii iiii", b_svc, SVC),
};

static struct arm_decode_row a32_uncond_rows[] = {
    ROW_END("1111 0001 0000 iim0 (0)(0)(0)(0) (0)(0)(0)a if0m mmmm", b_cps, CPS),
    ROW_END("1111 0001 0000 0001 (0)(0)(0)(0) (0)(0)e(0) 0000 (0)(0)(0)(0)", b_setend, SETEND),
    ROW_VFP("1111 001x xxxx xxxx xxxx xxxx xxxx xxxx"), /* Advanced SIMD data processing */
    ROW_VFP("1111 0100 xxx0 xxxx xxxx xxxx xxxx xxxx"), /* Advanced SIMD element/structure */
    ROW("1111 0100 u101 nnnn (1)(1)(1)(1) iiii iiii iiii", NULL, PLI),
    ROW("1111 0100 x001 xxxx xxxx xxxx xxxx xxxx", NULL, NOP), /* unallocated memory hint */
    ROW("1111 0101 u001 nnnn (1)(1)(1)(1) iiii iiii iiii", NULL, PLD), /* PLDW */
    ROW("1111 0101 u101 nnnn (1)(1)(1)(1) iiii iiii iiii", NULL, PLD),
    ROW("1111 0101 0111 (1)(1)(1)(1) (1)(1)(1)(1) (0)(0)(0)(0) 0001 (1)(1)(1)(1)", NULL, CLREX),
    ROW("1111 0101 0111 (1)(1)(1)(1) (1)(1)(1)(1) (0)(0)(0)(0) 0100 oooo", b_barrier, DSB),
    ROW("1111 0101 0111 (1)(1)(1)(1) (1)(1)(1)(1) (0)(0)(0)(0) 0101 oooo", b_barrier, DMB),
    ROW_END("1111 0101 0111 (1)(1)(1)(1) (1)(1)(1)(1) (0)(0)(0)(0) 0110 oooo", b_barrier, ISB),
    ROW("1111 0110 u101 nnnn (1)(1)(1)(1) iiii itt0 mmmm", NULL, PLI),
    ROW("1111 0110 x001 xxxx xxxx xxxx xxx0 xxxx", NULL, NOP), /* unallocated memory hint */
    ROW("1111 0111 u001 nnnn (1)(1)(1)(1) iiii itt0 mmmm", NULL, PLD), /* PLDW */
    ROW("1111 0111 u101 nnnn (1)(1)(1)(1) iiii itt0 mmmm", NULL, PLD),
    ROW("1111 100p u1w0 (1)(1)(0)(1) (0)(0)(0)(0) (0)(1)(0)(1) (0)(0)(0)m mmmm", b_srs, SRS),
    ROW_END("1111 100p u0w1 nnnn (0)(0)(0)(0) (1)(0)(1)(0) (0)(0)(0)(0) (0)(0)(0)(0)", b_rfe, RFE),
    ROW_END("1111 101h iiii iiii iiii iiii iiii iiii", b_blx_imm, BLX_imm),
    /* Everything else here (LDC2, STC2, MCR2, MRC2, MCRR2, MRRC2, CDP2) is UNDEFINED. */
};

#undef N
#undef D
#undef Z

#define NCOND COREMU_ARRAY_SIZE(a32_cond_rows)
#define NUNCOND COREMU_ARRAY_SIZE(a32_uncond_rows)

/* Rows that can match each value of bits 27:25 (conditional rows), and all unconditional rows. */
static uint16_t a32_index[8][NCOND + 1];
static uint16_t a32_uncond_index[NUNCOND + 1];

/* Runs before main(), hence before any core thread decodes. */
__attribute__((constructor)) static void a32_init(void)
{
    arm_decode_parse_rows(a32_cond_rows, NCOND, 32, "decode_a32");
    arm_decode_parse_rows(a32_uncond_rows, NUNCOND, 32, "decode_a32");
    for (uint32_t op1 = 0; op1 < 8; op1++) {
        arm_decode_bucket(a32_cond_rows, NCOND, op1 << 25, 0x0e000000u, a32_index[op1]);
    }
    arm_decode_bucket(a32_uncond_rows, NUNCOND, 0, 0, a32_uncond_index);
}

static const struct arm_decode_row *a32_lookup(uint32_t insn)
{
    if ((insn >> 28) == 0xf) {
        return arm_decode_find(a32_uncond_rows, a32_uncond_index, insn);
    }
    return arm_decode_find(a32_cond_rows, a32_index[BITS(insn, 27, 25)], insn);
}

void arm_decode_a32(uint32_t pc, uint32_t insn, struct arm_uop *op)
{
    memset(op, 0, sizeof *op);
    op->pc = pc;
    op->insn = insn;
    op->len = 4;
    /* The unconditional space executes always. */
    op->cond = (uint8_t)((insn >> 28) == 0xf ? 0xe : insn >> 28);

    arm_decode_apply(a32_lookup(insn), insn, op);
    arm_decode_finish(op);
}

uint32_t arm_a32_canonical(uint32_t insn)
{
    return arm_decode_canonical(a32_lookup(insn), insn);
}

const char *arm_a32_handler_name(arm_uop_fn fn)
{
    if (fn == arm_op_UNDEFINED) {
        return "UNDEFINED";
    }
    const char *name = arm_decode_name(a32_cond_rows, NCOND, fn);
    return name != NULL ? name : arm_decode_name(a32_uncond_rows, NUNCOND, fn);
}
