/*
 * coremu ARM — decoder of the VFP space (coprocessors 10 and 11): VFPv3-D32 with the VFPv4
 * fused multiply-add and the half-precision conversions; no Advanced SIMD, whose encodings
 * all decode as UNDEFINED (MVFR0/MVFR1 report it absent).
 *
 * The T32 VFP encodings are the A32 ones with 0b1110 where A32 has the condition (the
 * condition then comes from the IT block, filled in by the T32 decoder), and 0b1111 for the
 * unconditional ("2") coprocessor forms, so one table serves both. Rows are matched in order
 * on bits 27..0; the first match builds the micro-op. Encodings the ARM ARM calls
 * UNPREDICTABLE are rejected as UNDEFINED by the builders (a register list running past D31
 * must never reach a handler).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <coremu/util.h>

#include "ops.h"

struct vfp_row;
typedef bool (*vfp_build_fn)(const struct vfp_row *row, uint32_t insn, bool thumb,
                             struct arm_uop *op);

struct vfp_row {
    uint32_t mask, value;
    vfp_build_fn build; /* fills op; false: UNDEFINED (or UNPREDICTABLE, rejected) */
    const char *name;
    arm_uop_fn fn_s, fn_d; /* single / double precision (or the only) handler */
};

static inline unsigned bits(uint32_t x, unsigned hi, unsigned lo)
{
    return (x >> lo) & ((1u << (hi - lo + 1)) - 1);
}

/* Register numbers: single precision Vx:bit, double precision bit:Vx. */
static inline unsigned vd(uint32_t insn, bool dp)
{
    return dp ? bits(insn, 15, 12) | (bits(insn, 22, 22) << 4)
              : (bits(insn, 15, 12) << 1) | bits(insn, 22, 22);
}

static inline unsigned vn(uint32_t insn, bool dp)
{
    return dp ? bits(insn, 19, 16) | (bits(insn, 7, 7) << 4)
              : (bits(insn, 19, 16) << 1) | bits(insn, 7, 7);
}

static inline unsigned vm(uint32_t insn, bool dp)
{
    return dp ? bits(insn, 3, 0) | (bits(insn, 5, 5) << 4)
              : (bits(insn, 3, 0) << 1) | bits(insn, 5, 5);
}

static inline bool sz(uint32_t insn)
{
    return bits(insn, 8, 8) != 0;
}

/* Core register Rt is UNPREDICTABLE as the PC, and as the SP in T32. */
static inline bool bad_rt(unsigned t, bool thumb)
{
    return t == 15 || (t == 13 && thumb);
}

/* ---- builders ------------------------------------------------------------------------------- */

static bool build_dp3(const struct vfp_row *row, uint32_t insn, bool thumb, struct arm_uop *op)
{
    bool dp = sz(insn);
    op->fn = dp ? row->fn_d : row->fn_s;
    op->rd = (uint8_t)vd(insn, dp);
    op->rn = (uint8_t)vn(insn, dp);
    op->rm = (uint8_t)vm(insn, dp);
    return true;
}

static bool build_dp2(const struct vfp_row *row, uint32_t insn, bool thumb, struct arm_uop *op)
{
    bool dp = sz(insn);
    op->fn = dp ? row->fn_d : row->fn_s;
    op->rd = (uint8_t)vd(insn, dp);
    op->rm = (uint8_t)vm(insn, dp);
    return true;
}

/* VCMP{E}: imm = E; the "with zero" rows say so through their name. */
static bool build_vcmp(const struct vfp_row *row, uint32_t insn, bool thumb, struct arm_uop *op)
{
    build_dp2(row, insn, thumb, op);
    op->imm = bits(insn, 7, 7);
    op->imm2 = bits(insn, 16, 16); /* opc2 0101: compare with zero */
    return true;
}

/* VFPExpandImm: imm8 = abcdefgh becomes a:NOT(b):b...b:cd:efgh:0...0. */
static bool build_vmov_imm(const struct vfp_row *row, uint32_t insn, bool thumb,
                           struct arm_uop *op)
{
    bool dp = sz(insn);
    uint32_t imm8 = (bits(insn, 19, 16) << 4) | bits(insn, 3, 0);
    uint32_t a = imm8 >> 7, b = (imm8 >> 6) & 1, cdefgh = imm8 & 0x3f;
    op->fn = dp ? row->fn_d : row->fn_s;
    op->rd = (uint8_t)vd(insn, dp);
    if (dp) {
        /* high word: a, NOT(b), b x8, cd, efgh, 16 zeros */
        op->imm = (a << 31) | ((b ^ 1) << 30) | (b ? 0x3fc00000u : 0) | (cdefgh << 16);
    } else {
        /* a, NOT(b), b x5, cd, efgh, 19 zeros */
        op->imm = (a << 31) | ((b ^ 1) << 30) | (b ? 0x3e000000u : 0) | (cdefgh << 19);
    }
    return true;
}

/* VCVT between double and single: sz gives the source. */
static bool build_vcvt_ds(const struct vfp_row *row, uint32_t insn, bool thumb,
                          struct arm_uop *op)
{
    bool from_double = sz(insn);
    op->fn = from_double ? arm_op_VCVT_f32_f64 : arm_op_VCVT_f64_f32;
    op->rd = (uint8_t)vd(insn, !from_double);
    op->rm = (uint8_t)vm(insn, from_double);
    return true;
}

/* VCVT{B,T}: bit 16 = 1 for single to half, bit 7 = T (top half). */
static bool build_vcvt_half(const struct vfp_row *row, uint32_t insn, bool thumb,
                            struct arm_uop *op)
{
    op->fn = bits(insn, 16, 16) ? arm_op_VCVT_f16_f32 : arm_op_VCVT_f32_f16;
    op->rd = (uint8_t)vd(insn, false);
    op->rm = (uint8_t)vm(insn, false);
    op->imm = bits(insn, 7, 7) ? 16 : 0;
    return true;
}

/* VCVT integer to floating point (opc2 = 000): the integer is in Sm, op (bit 7) = signed. */
static bool build_vcvt_from_int(const struct vfp_row *row, uint32_t insn, bool thumb,
                                struct arm_uop *op)
{
    bool dp = sz(insn);
    op->fn = dp ? arm_op_VCVT_f64_i32 : arm_op_VCVT_f32_i32;
    op->rd = (uint8_t)vd(insn, dp);
    op->rm = (uint8_t)vm(insn, false);
    op->imm2 = !bits(insn, 7, 7);
    return true;
}

/* VCVT{R} floating point to integer (opc2 = 10x): bit 16 = signed, bit 7 = round to zero. */
static bool build_vcvt_to_int(const struct vfp_row *row, uint32_t insn, bool thumb,
                              struct arm_uop *op)
{
    bool dp = sz(insn);
    op->fn = dp ? arm_op_VCVT_i32_f64 : arm_op_VCVT_i32_f32;
    op->rd = (uint8_t)vd(insn, false);
    op->rm = (uint8_t)vm(insn, dp);
    op->imm2 = !bits(insn, 16, 16);
    op->imm = bits(insn, 7, 7);
    return true;
}

/* VCVT fixed point: bit 18 = to fixed, bit 16 = unsigned, bit 7 = 32-bit (sx),
 * fraction bits = size - imm4:i. */
static bool build_vcvt_fixed(const struct vfp_row *row, uint32_t insn, bool thumb,
                             struct arm_uop *op)
{
    bool dp = sz(insn), to_fixed = bits(insn, 18, 18) != 0;
    unsigned size = bits(insn, 7, 7) ? 32 : 16;
    unsigned imm5 = (bits(insn, 3, 0) << 1) | bits(insn, 5, 5);
    if (imm5 > size) {
        return false; /* negative fraction bits: UNPREDICTABLE */
    }
    if (to_fixed) {
        op->fn = dp ? arm_op_VCVT_fixed_f64 : arm_op_VCVT_fixed_f32;
    } else {
        op->fn = dp ? arm_op_VCVT_f64_fixed : arm_op_VCVT_f32_fixed;
    }
    op->rd = (uint8_t)vd(insn, dp);
    op->imm = size - imm5;
    op->imm2 = bits(insn, 16, 16);
    op->shift_n = (uint8_t)size;
    return true;
}

/* VMOV between a core register and a single precision register: bit 20 = to core. */
static bool build_vmov_core_single(const struct vfp_row *row, uint32_t insn, bool thumb,
                                   struct arm_uop *op)
{
    op->rd = (uint8_t)bits(insn, 15, 12);
    op->rn = (uint8_t)vn(insn, false);
    op->fn = bits(insn, 20, 20) ? arm_op_VMOV_core_single : arm_op_VMOV_single_core;
    return !bad_rt(op->rd, thumb);
}

/* VMOV.32 between a core register and a scalar Dn[x]: x = bit 21. */
static bool build_vmov_scalar(const struct vfp_row *row, uint32_t insn, bool thumb,
                              struct arm_uop *op)
{
    op->rd = (uint8_t)bits(insn, 15, 12);
    op->rn = (uint8_t)vn(insn, true);
    op->imm = bits(insn, 21, 21);
    op->fn = bits(insn, 20, 20) ? arm_op_VMOV_core_scalar : arm_op_VMOV_scalar_core;
    return !bad_rt(op->rd, thumb);
}

/* VMOV between two core registers and two singles (bit 8 = 0) or a double (bit 8 = 1). */
static bool build_vmov_pair(const struct vfp_row *row, uint32_t insn, bool thumb,
                            struct arm_uop *op)
{
    bool dp = sz(insn), to_core = bits(insn, 20, 20) != 0;
    op->rd = (uint8_t)bits(insn, 15, 12);
    op->ra = (uint8_t)bits(insn, 19, 16);
    op->rn = (uint8_t)vm(insn, dp);
    if (bad_rt(op->rd, thumb) || bad_rt(op->ra, thumb) || (to_core && op->rd == op->ra) ||
        (!dp && op->rn == 31)) {
        return false;
    }
    if (dp) {
        op->fn = to_core ? arm_op_VMOV_2core_double : arm_op_VMOV_double_2core;
    } else {
        op->fn = to_core ? arm_op_VMOV_2core_2single : arm_op_VMOV_2single_2core;
    }
    return true;
}

/* VMRS/VMSR: reg = bits 19..16. Only FPSCR may be read into APSR_nzcv (Rt = 15). */
static bool build_vmrs(const struct vfp_row *row, uint32_t insn, bool thumb, struct arm_uop *op)
{
    unsigned reg = bits(insn, 19, 16), t = bits(insn, 15, 12);
    op->fn = row->fn_s;
    op->rd = (uint8_t)t;
    op->rn = (uint8_t)reg;
    if (reg != 0 && reg != 1 && reg != 6 && reg != 7 && reg != 8) {
        return false;
    }
    if (t == 13 && thumb) {
        return false;
    }
    return t != 15 || reg == 1;
}

static bool build_vmsr(const struct vfp_row *row, uint32_t insn, bool thumb, struct arm_uop *op)
{
    unsigned reg = bits(insn, 19, 16);
    op->fn = row->fn_s;
    op->rd = (uint8_t)bits(insn, 15, 12);
    op->rn = (uint8_t)reg;
    if (reg != 0 && reg != 1 && reg != 8) {
        return false;
    }
    return !bad_rt(op->rd, thumb);
}

static bool build_vldr(const struct vfp_row *row, uint32_t insn, bool thumb, struct arm_uop *op)
{
    bool dp = sz(insn);
    op->fn = dp ? row->fn_d : row->fn_s;
    op->rd = (uint8_t)vd(insn, dp);
    op->rn = (uint8_t)bits(insn, 19, 16);
    op->imm = bits(insn, 7, 0) << 2;
    if (bits(insn, 23, 23)) {
        op->flags |= ARM_UOP_U;
    }
    /* VSTR with the PC as base is UNPREDICTABLE in T32 */
    return !(thumb && op->rn == 15 && !bits(insn, 20, 20));
}

/* VLDM/VSTM (and VPUSH/VPOP): P U W from bits 24, 23, 21. An odd imm8 with doubles is
 * FLDMX/FSTMX: imm8 / 2 registers, Rn moved by imm8 words. */
static bool build_vldm(const struct vfp_row *row, uint32_t insn, bool thumb, struct arm_uop *op)
{
    bool dp = sz(insn), wback = bits(insn, 21, 21) != 0;
    unsigned imm8 = bits(insn, 7, 0);
    unsigned d = vd(insn, dp);
    unsigned regs = dp ? imm8 / 2 : imm8;
    op->fn = dp ? row->fn_d : row->fn_s;
    op->rd = (uint8_t)d;
    op->rn = (uint8_t)bits(insn, 19, 16);
    op->imm = regs;
    op->imm2 = imm8 << 2;
    if (bits(insn, 23, 23)) {
        op->flags |= ARM_UOP_U;
    }
    if (wback) {
        op->flags |= ARM_UOP_W;
    }
    if (op->rn == 15 && (wback || thumb)) {
        return false;
    }
    return regs != 0 && (!dp || regs <= 16) && d + regs <= 32;
}

static bool build_undefined(const struct vfp_row *row, uint32_t insn, bool thumb,
                            struct arm_uop *op)
{
    return false;
}

/* ---- the table ------------------------------------------------------------------------------- */

#define DP3(mask, value, name)                                                                 \
    { mask, value, build_dp3, #name, arm_op_##name##_f32, arm_op_##name##_f64 }
#define DP2(mask, value, name)                                                                 \
    { mask, value, build_dp2, #name, arm_op_##name##_f32, arm_op_##name##_f64 }
#define ROW(mask, value, build, name) { mask, value, build, name, NULL, NULL }

static const struct vfp_row vfp_table[] = {
    /* Floating-point data processing: cond 1110 opc1 opc2 Vd 101 sz opc3 M 0 Vm (A7.5) */
    DP3(0x0fb00e50, 0x0e000a00, VMLA),
    DP3(0x0fb00e50, 0x0e000a40, VMLS),
    DP3(0x0fb00e50, 0x0e100a00, VNMLS),
    DP3(0x0fb00e50, 0x0e100a40, VNMLA),
    DP3(0x0fb00e50, 0x0e200a00, VMUL),
    DP3(0x0fb00e50, 0x0e200a40, VNMUL),
    DP3(0x0fb00e50, 0x0e300a00, VADD),
    DP3(0x0fb00e50, 0x0e300a40, VSUB),
    DP3(0x0fb00e50, 0x0e800a00, VDIV),
    DP3(0x0fb00e50, 0x0e900a00, VFNMS),
    DP3(0x0fb00e50, 0x0e900a40, VFNMA),
    DP3(0x0fb00e50, 0x0ea00a00, VFMA),
    DP3(0x0fb00e50, 0x0ea00a40, VFMS),
    { 0x0fb00e50, 0x0eb00a00, build_vmov_imm, "VMOV_imm", arm_op_VMOV_imm_f32,
      arm_op_VMOV_imm_f64 },
    DP2(0x0fbf0ed0, 0x0eb00a40, VMOV_reg),
    DP2(0x0fbf0ed0, 0x0eb00ac0, VABS),
    DP2(0x0fbf0ed0, 0x0eb10a40, VNEG),
    DP2(0x0fbf0ed0, 0x0eb10ac0, VSQRT),
    /* VCVTB/VCVTT: half-precision extension; sz = 1 (double) does not exist before v8 */
    { 0x0fbe0f50, 0x0eb20a40, build_vcvt_half, "VCVTBT", NULL, NULL },
    { 0x0fbf0ed0, 0x0eb40a40, build_vcmp, "VCMP", arm_op_VCMP_f32, arm_op_VCMP_f64 },
    { 0x0fbf0ed0, 0x0eb40ac0, build_vcmp, "VCMPE", arm_op_VCMP_f32, arm_op_VCMP_f64 },
    { 0x0fbf0ed0, 0x0eb50a40, build_vcmp, "VCMP_zero", arm_op_VCMP_f32, arm_op_VCMP_f64 },
    { 0x0fbf0ed0, 0x0eb50ac0, build_vcmp, "VCMPE_zero", arm_op_VCMP_f32, arm_op_VCMP_f64 },
    ROW(0x0fbf0ed0, 0x0eb70ac0, build_vcvt_ds, "VCVT_ds"),
    ROW(0x0fbf0e50, 0x0eb80a40, build_vcvt_from_int, "VCVT_from_int"),
    ROW(0x0fba0e50, 0x0eba0a40, build_vcvt_fixed, "VCVT_fixed"),
    ROW(0x0fbe0e50, 0x0ebc0a40, build_vcvt_to_int, "VCVT_to_int"),
    ROW(0x0f000e10, 0x0e000a00, build_undefined, "UNDEFINED"),

    /* 8, 16 and 32-bit transfers: cond 1110 A L C 101 ... B 1 (A7.8) */
    ROW(0x0fe00f10, 0x0e000a10, build_vmov_core_single, "VMOV_core_single"),
    { 0x0ff00f10, 0x0ee00a10, build_vmsr, "VMSR", arm_op_VMSR, NULL },
    { 0x0ff00f10, 0x0ef00a10, build_vmrs, "VMRS", arm_op_VMRS, NULL },
    /* only the 32-bit scalars are VFP; 8/16-bit lanes and VDUP are Advanced SIMD */
    ROW(0x0fd00f70, 0x0e000b10, build_vmov_scalar, "VMOV_scalar_core"),
    ROW(0x0fd00f70, 0x0e100b10, build_vmov_scalar, "VMOV_core_scalar"),
    ROW(0x0f000e10, 0x0e000a10, build_undefined, "UNDEFINED"),

    /* 64-bit transfers: cond 1100 010 op Rt2 Rt 101 C 00 M 1 Vm (A7.9) */
    ROW(0x0fe00ed0, 0x0c400a10, build_vmov_pair, "VMOV_pair"),

    /* Extension register loads and stores: cond 110 P U D W L Rn Vd 101 sz imm8 (A7.6) */
    { 0x0f300e00, 0x0d000a00, build_vldr, "VSTR", arm_op_VSTR_32, arm_op_VSTR_64 },
    { 0x0f300e00, 0x0d100a00, build_vldr, "VLDR", arm_op_VLDR_32, arm_op_VLDR_64 },
    { 0x0f900e00, 0x0c800a00, build_vldm, "VSTM", arm_op_VSTM_32, arm_op_VSTM_64 },
    { 0x0f900e00, 0x0c900a00, build_vldm, "VLDM", arm_op_VLDM_32, arm_op_VLDM_64 },
    { 0x0fb00e00, 0x0d200a00, build_vldm, "VSTMDB", arm_op_VSTM_32, arm_op_VSTM_64 },
    { 0x0fb00e00, 0x0d300a00, build_vldm, "VLDMDB", arm_op_VLDM_32, arm_op_VLDM_64 },
    ROW(0x0e000e00, 0x0c000a00, build_undefined, "UNDEFINED"),
};

/* Handlers that no row names directly (chosen by the builders). */
static const struct {
    arm_uop_fn fn;
    const char *name;
} vfp_extra_names[] = {
    { arm_op_VCVT_f64_f32, "VCVT_f64_f32" },     { arm_op_VCVT_f32_f64, "VCVT_f32_f64" },
    { arm_op_VCVT_f32_i32, "VCVT_f32_i32" },     { arm_op_VCVT_f64_i32, "VCVT_f64_i32" },
    { arm_op_VCVT_i32_f32, "VCVT_i32_f32" },     { arm_op_VCVT_i32_f64, "VCVT_i32_f64" },
    { arm_op_VCVT_f32_fixed, "VCVT_f32_fixed" }, { arm_op_VCVT_f64_fixed, "VCVT_f64_fixed" },
    { arm_op_VCVT_fixed_f32, "VCVT_fixed_f32" }, { arm_op_VCVT_fixed_f64, "VCVT_fixed_f64" },
    { arm_op_VCVT_f32_f16, "VCVT_f32_f16" },     { arm_op_VCVT_f16_f32, "VCVT_f16_f32" },
    { arm_op_VMOV_core_single, "VMOV_core_single" },
    { arm_op_VMOV_single_core, "VMOV_single_core" },
    { arm_op_VMOV_2core_2single, "VMOV_2core_2single" },
    { arm_op_VMOV_2single_2core, "VMOV_2single_2core" },
    { arm_op_VMOV_2core_double, "VMOV_2core_double" },
    { arm_op_VMOV_double_2core, "VMOV_double_2core" },
    { arm_op_VMOV_core_scalar, "VMOV_core_scalar" },
    { arm_op_VMOV_scalar_core, "VMOV_scalar_core" },
};

const char *arm_vfp_handler_name(arm_uop_fn fn)
{
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(vfp_table); i++) {
        if (fn != NULL && (vfp_table[i].fn_s == fn || vfp_table[i].fn_d == fn)) {
            return vfp_table[i].name;
        }
    }
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(vfp_extra_names); i++) {
        if (vfp_extra_names[i].fn == fn) {
            return vfp_extra_names[i].name;
        }
    }
    return NULL;
}

/* ---- entry point ----------------------------------------------------------------------------- */

/* Coprocessor space with coprocessor 10 or 11: 110x xxxx (LDC/STC/MCRR/MRRC) or 1110 xxxx
 * (CDP/MCR/MRC) in bits 27..20, 101x in bits 11..8. */
static inline bool is_vfp_space(uint32_t insn)
{
    return (bits(insn, 27, 25) == 6 || bits(insn, 27, 24) == 0xe) && bits(insn, 11, 9) == 5;
}

bool arm_decode_vfp(uint32_t pc, uint32_t insn, bool thumb, struct arm_uop *op)
{
    uint8_t cond = op->cond, itstate = op->itstate;
    uint32_t a32 = insn;
    bool undefined = false;

    if (thumb) {
        /* The Advanced SIMD spaces, at their T32 positions. */
        if ((insn & 0xef000000u) == 0xef000000u || (insn & 0xff100000u) == 0xf9000000u) {
            undefined = true;
        } else if (bits(insn, 31, 29) != 7 || !is_vfp_space(insn)) {
            return false;
        } else if (bits(insn, 28, 28)) {
            undefined = true; /* MCR2/LDC2...: no coprocessor 10/11 forms before ARMv8 */
        }
    } else if (bits(insn, 31, 28) == 0xf) {
        if ((insn & 0xfe000000u) != 0xf2000000u && (insn & 0xff100000u) != 0xf4000000u &&
            !is_vfp_space(insn)) {
            return false;
        }
        undefined = true;
    } else if (!is_vfp_space(insn)) {
        return false;
    }

    memset(op, 0, sizeof(*op));
    op->pc = pc;
    op->insn = insn;
    op->len = 4;
    if (thumb) {
        op->cond = cond;
        op->itstate = itstate;
        op->flags = ARM_UOP_THUMB;
    } else {
        op->cond = (uint8_t)bits(insn, 31, 28);
    }

    if (!undefined) {
        undefined = true;
        for (size_t i = 0; i < COREMU_ARRAY_SIZE(vfp_table); i++) {
            const struct vfp_row *row = &vfp_table[i];
            if ((a32 & row->mask) == row->value) {
                undefined = !row->build(row, a32, thumb, op);
                break;
            }
        }
    }
    if (undefined) {
        uint8_t flags = op->flags & ARM_UOP_THUMB;
        memset(op, 0, sizeof(*op));
        op->pc = pc;
        op->insn = insn;
        op->len = 4;
        op->cond = thumb ? cond : (uint8_t)bits(insn, 31, 28);
        op->itstate = thumb ? itstate : 0;
        op->flags = flags;
        op->fn = arm_op_UNDEFINED;
    }
    return true;
}
