/*
 * coremu x86_64 — software floating point with the x86's own rules, so that x87 and SSE
 * results are the same bits on every host (arm64, ppc64el, s390x as well as x86_64): IEEE 754
 * binary32/binary64 as SSE/SSE2 compute them (MXCSR rounding, DAZ, FTZ, exception flags) and
 * the x87's 80-bit double extended format (rounding and precision control, C1, the unsupported
 * encodings). Written from IEEE 754-2008 and the Intel SDM Vol. 1 chapters 4, 8, 10 and 11.
 *
 * Every function is pure: it reads the control fields of the status it is given and ORs the
 * exceptions it raises into status->flags (the caller clears them when the instruction wants
 * fresh ones). Results are the masked responses of the SDM, except for overflow and underflow
 * named in status->unmasked: then the exception is raised for every tiny result (exact or not)
 * and an x87 register result is the rounded value with its exponent moved by 24576 into range,
 * as the hardware hands it to the handler (SSE and memory destinations are left unwritten by
 * the hardware, so the caller discards what these functions return). Deciding to trap on any
 * raised unmasked exception is the caller's business.
 */
#ifndef COREMU_X86_64_SOFTFLOAT_H
#define COREMU_X86_64_SOFTFLOAT_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t float32;
typedef uint64_t float64;

/* The x87 register format: 64-bit significand with an explicit integer bit (bit 63), then the
 * sign (bit 15) and a 15-bit biased exponent. In memory (m80) the significand comes first. */
typedef struct floatx80 {
    uint64_t mant;
    uint16_t sign_exp;
} floatx80;

/* Rounding control as the x87 control word (bits 11:10) and MXCSR (bits 14:13) encode it. */
enum x86_rounding {
    X86_ROUND_NEAREST = 0,
    X86_ROUND_DOWN = 1,
    X86_ROUND_UP = 2,
    X86_ROUND_ZERO = 3,
};

/* x87 precision control as the control word (bits 9:8) encodes it; 1 is reserved and, as on
 * the hardware we measured, treated like 64 bits. */
enum x86_precision {
    X86_PREC_24 = 0,
    X86_PREC_53 = 2,
    X86_PREC_64 = 3,
};

/* Exception flags in the order of the x87 status word and MXCSR (bits 5:0). */
#define X86_FLAG_IE 0x01u /* invalid operation */
#define X86_FLAG_DE 0x02u /* denormal operand */
#define X86_FLAG_ZE 0x04u /* divide by zero */
#define X86_FLAG_OE 0x08u /* overflow */
#define X86_FLAG_UE 0x10u /* underflow */
#define X86_FLAG_PE 0x20u /* precision (inexact) */

struct x86_fpstatus {
    uint8_t rounding;  /* enum x86_rounding */
    uint8_t precision; /* enum x86_precision: floatx80 add, sub, mul, div and sqrt only */
    bool daz;          /* SSE (MXCSR.DAZ): denormal float32/float64 inputs read as zero */
    bool ftz;          /* SSE (MXCSR.FTZ): tiny float32/float64 results become zero */
    uint8_t flags;     /* accumulated X86_FLAG_* */
    uint8_t unmasked;  /* X86_FLAG_OE/UE whose mask bit (x87 CW, MXCSR) is clear; see above */
    bool c1;           /* x87: the last floatx80 result was rounded up (away from zero) */
};

/* Comparison outcome; the helpers below turn it into EFLAGS or x87 condition codes. */
enum x86_relation {
    X86_REL_LESS,
    X86_REL_EQUAL,
    X86_REL_GREATER,
    X86_REL_UNORDERED,
};

/* ZF/PF/CF in their EFLAGS positions (bits 6, 2, 0), as (U)COMIS* and FCOMI set them. */
uint32_t x86_relation_eflags(enum x86_relation rel);
/* C0/C2/C3 in their x87 status word positions (bits 8, 10, 14), as FCOM and FUCOM set them. */
uint16_t x86_relation_fsw(enum x86_relation rel);

/* The x87 condition codes in their status word positions. */
#define X86_FSW_C0 0x0100u
#define X86_FSW_C1 0x0200u
#define X86_FSW_C2 0x0400u
#define X86_FSW_C3 0x4000u

/* ---- float32 / float64 (SSE, SSE2; DAZ and FTZ apply) --------------------------------- */
float32 float32_add(float32 a, float32 b, struct x86_fpstatus *st);
float32 float32_sub(float32 a, float32 b, struct x86_fpstatus *st);
float32 float32_mul(float32 a, float32 b, struct x86_fpstatus *st);
float32 float32_div(float32 a, float32 b, struct x86_fpstatus *st);
float32 float32_sqrt(float32 a, struct x86_fpstatus *st);
/* MINSS/MAXSS: a is the first (destination) source, b the second. */
float32 float32_min(float32 a, float32 b, struct x86_fpstatus *st);
float32 float32_max(float32 a, float32 b, struct x86_fpstatus *st);
/* signalling: COMISS (and CMPSS's LT/LE/NLT/NLE) raise IE on any NaN; quiet: only on SNaN. */
enum x86_relation float32_compare(float32 a, float32 b, bool signalling, struct x86_fpstatus *st);
/* ROUNDSS with the status's rounding mode (the caller puts the immediate's mode there). */
float32 float32_round_to_int(float32 a, struct x86_fpstatus *st);

float64 float64_add(float64 a, float64 b, struct x86_fpstatus *st);
float64 float64_sub(float64 a, float64 b, struct x86_fpstatus *st);
float64 float64_mul(float64 a, float64 b, struct x86_fpstatus *st);
float64 float64_div(float64 a, float64 b, struct x86_fpstatus *st);
float64 float64_sqrt(float64 a, struct x86_fpstatus *st);
float64 float64_min(float64 a, float64 b, struct x86_fpstatus *st);
float64 float64_max(float64 a, float64 b, struct x86_fpstatus *st);
enum x86_relation float64_compare(float64 a, float64 b, bool signalling, struct x86_fpstatus *st);
float64 float64_round_to_int(float64 a, struct x86_fpstatus *st);

/* CVTSS2SD / CVTSD2SS. */
float64 float32_to_float64(float32 a, struct x86_fpstatus *st);
float32 float64_to_float32(float64 a, struct x86_fpstatus *st);

/* CVTSS2SI/CVTSD2SI (status rounding) and CVTTSS2SI/CVTTSD2SI (truncate): out of range and
 * NaN give the integer indefinite (the most negative value) and IE. */
int32_t float32_to_int32(float32 a, struct x86_fpstatus *st);
int32_t float32_to_int32_trunc(float32 a, struct x86_fpstatus *st);
int64_t float32_to_int64(float32 a, struct x86_fpstatus *st);
int64_t float32_to_int64_trunc(float32 a, struct x86_fpstatus *st);
int32_t float64_to_int32(float64 a, struct x86_fpstatus *st);
int32_t float64_to_int32_trunc(float64 a, struct x86_fpstatus *st);
int64_t float64_to_int64(float64 a, struct x86_fpstatus *st);
int64_t float64_to_int64_trunc(float64 a, struct x86_fpstatus *st);

/* CVTSI2SS / CVTSI2SD (rounded where the integer does not fit). */
float32 int32_to_float32(int32_t a, struct x86_fpstatus *st);
float32 int64_to_float32(int64_t a, struct x86_fpstatus *st);
float64 int32_to_float64(int32_t a, struct x86_fpstatus *st);
float64 int64_to_float64(int64_t a, struct x86_fpstatus *st);

/* ---- floatx80 (x87; DAZ and FTZ never apply) ------------------------------------------ */
floatx80 floatx80_add(floatx80 a, floatx80 b, struct x86_fpstatus *st);
floatx80 floatx80_sub(floatx80 a, floatx80 b, struct x86_fpstatus *st);
floatx80 floatx80_mul(floatx80 a, floatx80 b, struct x86_fpstatus *st);
floatx80 floatx80_div(floatx80 a, floatx80 b, struct x86_fpstatus *st);
floatx80 floatx80_sqrt(floatx80 a, struct x86_fpstatus *st);
/* FCOM (signalling: IE on any NaN) / FUCOM (quiet); unsupported encodings are always IE. */
enum x86_relation floatx80_compare(floatx80 a, floatx80 b, bool signalling,
                                   struct x86_fpstatus *st);
/* FXAM of a register that is not empty: the class in C3/C2/C0 (unsupported 000, NaN 001,
 * normal 010, infinity 011, zero 100, denormal 110; empty, 101, is the caller's) and the sign
 * in C1, in their status word positions. */
uint16_t floatx80_examine(floatx80 a);
/* FRNDINT. */
floatx80 floatx80_round_to_int(floatx80 a, struct x86_fpstatus *st);

/* FADD/FSUB/FMUL/FDIV m32/m64 (st0 op m) and FSUBR/FDIVR m32/m64 (reverse: m op st0). Not
 * the same as converting m with float32_to_floatx80 first: an SNaN operand must meet the NaN
 * rules as an SNaN, and a denormal one raises DE only when no NaN operand decides the result.
 * (FIADD and the other integer forms: int64_to_floatx80 is exact, so convert first.) */
enum x87_arith { X87_ADD, X87_SUB, X87_MUL, X87_DIV };
floatx80 floatx80_arith_f32(enum x87_arith op, floatx80 st0, float32 m, bool reverse,
                            struct x86_fpstatus *st);
floatx80 floatx80_arith_f64(enum x87_arith op, floatx80 st0, float64 m, bool reverse,
                            struct x86_fpstatus *st);
/* FCOM/FUCOM... m32/m64 (FCOM m32 and FCOM m64 are the signalling ones; FICOM: convert). */
enum x86_relation floatx80_compare_f32(floatx80 st0, float32 m, bool signalling,
                                       struct x86_fpstatus *st);
enum x86_relation floatx80_compare_f64(floatx80 st0, float64 m, bool signalling,
                                       struct x86_fpstatus *st);

/* FLD m32/m64 (exact; SNaN gives IE and is quietened, a denormal gives DE) and FST m32/m64
 * (rounded with the status rounding; precision control does not apply). */
floatx80 float32_to_floatx80(float32 a, struct x86_fpstatus *st);
floatx80 float64_to_floatx80(float64 a, struct x86_fpstatus *st);
float32 floatx80_to_float32(floatx80 a, struct x86_fpstatus *st);
float64 floatx80_to_float64(floatx80 a, struct x86_fpstatus *st);

/* FILD (exact) and FIST/FISTP (status rounding) / FISTTP (truncate); out of range and NaN give
 * the integer indefinite and IE. */
floatx80 int64_to_floatx80(int64_t a);
int16_t floatx80_to_int16(floatx80 a, struct x86_fpstatus *st);
int16_t floatx80_to_int16_trunc(floatx80 a, struct x86_fpstatus *st);
int32_t floatx80_to_int32(floatx80 a, struct x86_fpstatus *st);
int32_t floatx80_to_int32_trunc(floatx80 a, struct x86_fpstatus *st);
int64_t floatx80_to_int64(floatx80 a, struct x86_fpstatus *st);
int64_t floatx80_to_int64_trunc(floatx80 a, struct x86_fpstatus *st);

/* FPREM (truncating quotient) and FPREM1 (IEEE, nearest quotient) of st0 by st1. *fsw gets
 * C2 (set: the reduction is incomplete, run the instruction again) and, when complete, the
 * three low quotient bits in C0 (Q2), C3 (Q1) and C1 (Q0); other bits are clear. */
floatx80 floatx80_prem(floatx80 a, floatx80 b, uint16_t *fsw, struct x86_fpstatus *st);
floatx80 floatx80_prem1(floatx80 a, floatx80 b, uint16_t *fsw, struct x86_fpstatus *st);
/* FSCALE: a * 2^trunc(b). */
floatx80 floatx80_scale(floatx80 a, floatx80 b, struct x86_fpstatus *st);
/* FXTRACT: a = *significand * 2^*exponent (the exponent goes to st1, the significand to st0). */
void floatx80_extract(floatx80 a, floatx80 *exponent, floatx80 *significand,
                      struct x86_fpstatus *st);

/* ---- x87 transcendentals (softfloat_x87.c) ---------------------------------------------
 * Evaluated in 128-bit arithmetic and rounded once with the status rounding (precision
 * control does not apply). The SDM only promises an error below 1 ulp, so these are not
 * guaranteed to be the host's bits: tests/test_softfloat.c measures how often they are. The
 * trigonometric ones reduce their argument with the x87's 66-bit pi as the hardware does and
 * return false (C2 set, operand unchanged) when |a| >= 2^63. Measured on an AMD EPYC: 94%
 * (FPTAN) to 99% (FCOS) of random results identical, all others within 1 ulp with the same
 * flags; special operands exact. FSINCOS leaves C1 as the sine's rounding, as the host does. */
floatx80 floatx80_f2xm1(floatx80 a, struct x86_fpstatus *st); /* 2^a - 1, -1 <= a <= 1 */
floatx80 floatx80_fyl2x(floatx80 x, floatx80 y, struct x86_fpstatus *st);   /* y log2(x) */
floatx80 floatx80_fyl2xp1(floatx80 x, floatx80 y, struct x86_fpstatus *st); /* y log2(x+1) */
floatx80 floatx80_fpatan(floatx80 x, floatx80 y, struct x86_fpstatus *st);  /* atan2(y, x) */
bool floatx80_sin(floatx80 a, floatx80 *result, struct x86_fpstatus *st);
bool floatx80_cos(floatx80 a, floatx80 *result, struct x86_fpstatus *st);
bool floatx80_sincos(floatx80 a, floatx80 *sine, floatx80 *cosine, struct x86_fpstatus *st);
/* FPTAN: st0 becomes *result, then *pushed is pushed (1.0, or the NaN when the result is one). */
bool floatx80_tan(floatx80 a, floatx80 *result, floatx80 *pushed, struct x86_fpstatus *st);

#endif /* COREMU_X86_64_SOFTFLOAT_H */
