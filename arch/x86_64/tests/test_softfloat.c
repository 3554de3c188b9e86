/*
 * arch/x86_64/softfloat.c against the host processor: every operation runs on random and
 * edge-case operands (zeros, denormals, infinities, both kinds of NaN, pseudo-denormals,
 * unnormals, pseudo-NaNs and pseudo-infinities, values next to rounding boundaries and to the
 * overflow and underflow thresholds) under every rounding mode, precision control, DAZ and FTZ,
 * and the result bits and exception flags (and the x87 condition codes) must be identical to
 * what the host's own SSE and x87 instructions give with the same control word / MXCSR.
 *
 * The x87 transcendentals are not promised bit-exact (the SDM promises less than 1 ulp): for
 * them it prints how many results are identical and fails only beyond 1 ulp or on special
 * operands. Then, on every host, the digests of fixed operand streams must match the ones taken
 * on x86_64 (see "cross-host digests"), so arm64, ppc64el and s390x check the same bits.
 *
 * Usage: test_softfloat [cases-per-operation]  (or COREMU_SOFTFLOAT_CASES=n; the default keeps
 * `make check` short), or test_softfloat --print-digests. COREMU_SOFTFLOAT_VERBOSE=1 lists every
 * transcendental result that differs. Prints one PASS/FAIL line per check (testsuite/unit/unit.h).
 */
#include "softfloat.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../testsuite/unit/unit.h"

#define DEFAULT_CASES 300000
#define MAX_REPORTS   8

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: reproducible from the fixed seed. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

/* ---- operand generators ---------------------------------------------------------------- */

/*
 * A significand pattern that lands near rounding boundaries: runs of ones or zeros with a few
 * random bits at either end.
 *
 * The generators draw their random numbers one statement at a time: the order in which C
 * evaluates the operands of one expression (or the members of an initializer) is unspecified,
 * and the digests below need the same operands from every compiler.
 */
static uint64_t boundary_bits(void)
{
    uint64_t v, w, x;
    switch (rnd_below(6)) {
    case 0:
        v = ~0ull << rnd_below(64);
        break;
    case 1:
        v = ~0ull >> rnd_below(64);
        break;
    case 2:
        v = 1ull << rnd_below(64);
        break;
    case 3:
        v = ~0ull << rnd_below(64);
        v ^= rnd_below(8);
        break;
    case 4:
        v = 1ull << rnd_below(64);
        v += rnd_below(4) - 2;
        break;
    default:
        v = rnd();
        w = rnd();
        x = rnd();
        v &= w | x;
        break;
    }
    return v;
}

/* The low `bits` bits set, 1 <= bits <= 64. */
static uint64_t low_mask(int bits)
{
    return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

/* A binary32/binary64 value with frac_bits of fraction and exp_bits of exponent. */
static uint64_t gen_ieee(int frac_bits, int exp_bits)
{
    uint64_t exp_max = (1ull << exp_bits) - 1;
    uint64_t bias = exp_max >> 1;
    uint64_t frac_mask = (1ull << frac_bits) - 1;
    uint64_t sign = rnd_below(2) << (frac_bits + exp_bits);
    uint64_t exp;
    uint64_t frac = rnd() & frac_mask;

    switch (rnd_below(16)) {
    case 0:
    case 1:
    case 2:
        return rnd() & low_mask(frac_bits + exp_bits + 1);
    case 3: /* zero or infinity */
        return sign | (rnd_below(2) ? exp_max << frac_bits : 0);
    case 4: /* NaN, quiet or signalling */
        frac = rnd_below(2) ? frac : (rnd_below(2) ? 1ull << (frac_bits - 1) : 1);
        return sign | (exp_max << frac_bits) | (frac ? frac : 1);
    case 5: /* denormal */
        frac = rnd_below(2) ? frac : boundary_bits() & frac_mask;
        return sign | (frac ? frac : 1);
    case 6: /* near the bottom of the normals */
        exp = rnd_below(4);
        break;
    case 7: /* near overflow */
        exp = exp_max - 1 - rnd_below(4);
        break;
    case 8:
    case 9: /* near one, and the integer range of the conversions */
        exp = bias - 4 + rnd_below(72);
        break;
    case 10:
    case 11:
        exp = bias - 4 + rnd_below(72);
        frac = boundary_bits() & frac_mask;
        break;
    default:
        exp = 1 + rnd_below(exp_max - 1);
        frac = boundary_bits() & frac_mask;
        break;
    }
    return sign | (exp << frac_bits) | frac;
}

static floatx80 gen_x80(void)
{
    uint16_t sign = (uint16_t)(rnd_below(2) << 15);
    uint64_t mant = rnd();
    uint16_t exp;

    switch (rnd_below(18)) {
    case 0:
    case 1:
        exp = (uint16_t)rnd();
        return (floatx80){mant, exp};
    case 2: /* zero or infinity */
        return rnd_below(2) ? (floatx80){0, sign} : (floatx80){1ull << 63, sign | 0x7fff};
    case 3: /* NaN, quiet or signalling */
        mant |= 1ull << 63;
        if (rnd_below(2)) {
            mant &= ~(1ull << 62);
            mant = rnd_below(2) ? mant : (1ull << 63) | (rnd() & 3);
        }
        return (floatx80){(mant << 1) ? mant : mant | 1, sign | 0x7fff};
    case 4: /* denormal or pseudo-denormal */
        mant = rnd_below(2) ? mant >> rnd_below(64) : boundary_bits();
        return (floatx80){mant ? mant : 1, sign};
    case 5: /* unnormal, pseudo-NaN, pseudo-infinity */
        exp = rnd_below(2) ? (uint16_t)(1 + rnd_below(0x7ffe)) : 0x7fff;
        mant = rnd_below(4) ? mant >> 1 : 0;
        return (floatx80){mant, sign | exp};
    case 6:
        exp = (uint16_t)rnd_below(5);
        break;
    case 7:
        exp = (uint16_t)(0x7ffe - rnd_below(5));
        break;
    case 8:
    case 9:
        exp = (uint16_t)(16383 - 4 + rnd_below(72));
        break;
    case 10:
    case 11:
        exp = (uint16_t)(16383 - 4 + rnd_below(72));
        mant = boundary_bits();
        break;
    case 12: /* near the single and double ranges (FST m32/m64) */
        exp = (uint16_t)(rnd_below(2) ? 16383 + 120 : 16383 - 120);
        exp = (uint16_t)(exp + (exp > 16383 ? 1 : -1) * (int)rnd_below(14));
        mant = rnd_below(2) ? mant : boundary_bits();
        break;
    case 13:
        exp = (uint16_t)(rnd_below(2) ? 16383 + 1016 : 16383 - 1016);
        exp = (uint16_t)(exp + (exp > 16383 ? 1 : -1) * (int)rnd_below(60));
        mant = rnd_below(2) ? mant : boundary_bits();
        break;
    default:
        exp = (uint16_t)(1 + rnd_below(0x7ffe));
        mant = boundary_bits();
        break;
    }
    if (exp == 0) {
        return (floatx80){mant, sign};
    }
    return (floatx80){mant | 1ull << 63, sign | exp};
}

/* A second operand: independent, or close to the first (cancellation, equal exponents). */
static uint64_t gen_ieee_near(uint64_t a, int frac_bits, int exp_bits)
{
    uint64_t width_mask = low_mask(frac_bits + exp_bits + 1);
    switch (rnd_below(4)) {
    case 0:
        return (a + rnd_below(16) - 8) & width_mask;
    case 1:
        return (a ^ (1ull << (frac_bits + exp_bits))) + rnd_below(4);
    case 2:
        a += (rnd_below(64) - 32) << frac_bits;
        a += rnd() & ((1ull << frac_bits) - 1);
        return a & width_mask;
    default:
        return gen_ieee(frac_bits, exp_bits);
    }
}

static floatx80 gen_x80_near(floatx80 a)
{
    floatx80 b = a;
    uint64_t r;
    switch (rnd_below(4)) {
    case 0:
        b.mant += rnd_below(16) - 8;
        return b;
    case 1:
        b.sign_exp ^= 0x8000;
        b.mant ^= rnd_below(4);
        return b;
    case 2:
        b.sign_exp = (uint16_t)(b.sign_exp + rnd_below(140) - 70);
        r = rnd();
        b.mant ^= r >> rnd_below(64);
        return b;
    default:
        return gen_x80();
    }
}

static int64_t gen_int(void)
{
    int64_t v;

    switch (rnd_below(4)) {
    case 0:
        return (int64_t)rnd();
    case 1:
        v = (int64_t)rnd();
        return v >> rnd_below(64);
    case 2:
        v = (int64_t)boundary_bits();
        return v >> rnd_below(2);
    default:
        return (int64_t)(int32_t)rnd();
    }
}

static bool x80_is_nan_or_unsupported(floatx80 a)
{
    uint32_t exp = a.sign_exp & 0x7fff;
    return (exp == 0x7fff && (a.mant << 1) != 0) || (exp != 0 && !(a.mant >> 63));
}

static bool x80_finite_nonzero(floatx80 a)
{
    uint32_t exp = a.sign_exp & 0x7fff;
    return exp != 0x7fff && a.mant != 0 && (exp == 0 || (a.mant >> 63));
}

/* A finite value with a random significand and an exponent in [lo, hi], or now and then a
 * special operand (then *special). */
static floatx80 gen_trans(int lo, int hi, bool *special)
{
    *special = rnd_below(8) == 0;
    if (*special) {
        floatx80 v = gen_x80();
        *special = !x80_finite_nonzero(v) || x80_is_nan_or_unsupported(v);
        if (*special) {
            return v;
        }
    }
    int e = lo + (int)rnd_below((uint64_t)(hi - lo + 1));
    uint64_t mant = (rnd_below(4) ? rnd() : boundary_bits()) | 1ull << 63;
    return (floatx80){mant, (uint16_t)((rnd_below(2) << 15) | (uint32_t)(16383 + e))};
}

/* Cycles through every control combination: rounding (4) x DAZ (2) x FTZ (2) for SSE,
 * rounding (4) x precision (4, the reserved encoding 1 included) for the x87. */
static struct x86_fpstatus sse_config(uint64_t i)
{
    return (struct x86_fpstatus){.rounding = i & 3, .daz = (i >> 2) & 1, .ftz = (i >> 3) & 1};
}

static const uint8_t precisions[4] = {X86_PREC_24, 1, X86_PREC_53, X86_PREC_64};

static struct x86_fpstatus x87_config(uint64_t i)
{
    return (struct x86_fpstatus){.rounding = i & 3, .precision = precisions[(i >> 2) % 4]};
}

/* ---- cross-host digests --------------------------------------------------------------
 * The host comparison needs an x86_64. So that arm64, ppc64el and s390x check the same bits, every
 * operation also runs on a fixed stream of operands (the portable generators above, a seed of
 * its own) and its results, flags and condition codes are hashed; the hashes were taken on an
 * x86_64 where the same code agrees with the host, and any host must reproduce them. After a
 * deliberate change of results or generators, `test_softfloat --print-digests` prints the new
 * table (take it from an x86_64 whose host comparison passes).
 */
#define DIGEST_CASES       20000
#define DIGEST_TRANS_CASES 1000

enum {
    D_ADDSS,
    D_SUBSS,
    D_MULSS,
    D_DIVSS,
    D_SQRTSS,
    D_MINSS,
    D_MAXSS,
    D_ROUNDSS,
    D_COMISS,
    D_UCOMISS,
    D_CVTSS2SI32,
    D_CVTTSS2SI32,
    D_CVTSS2SI64,
    D_CVTTSS2SI64,
    D_CVTSI2SS32,
    D_CVTSI2SS64,
    D_CVTSS2SD,
    D_ADDSD,
    D_SUBSD,
    D_MULSD,
    D_DIVSD,
    D_SQRTSD,
    D_MINSD,
    D_MAXSD,
    D_ROUNDSD,
    D_COMISD,
    D_UCOMISD,
    D_CVTSD2SI32,
    D_CVTTSD2SI32,
    D_CVTSD2SI64,
    D_CVTTSD2SI64,
    D_CVTSI2SD32,
    D_CVTSI2SD64,
    D_CVTSD2SS,
    D_ADDSS_UNMASKED,
    D_FADD,
    D_FSUB,
    D_FMUL,
    D_FDIV,
    D_FSQRT,
    D_FRNDINT,
    D_FCOM,
    D_FUCOM,
    D_FXAM,
    D_FST32,
    D_FST64,
    D_FLD32,
    D_FLD64,
    D_FILD,
    D_FIST16,
    D_FIST32,
    D_FIST64,
    D_FISTTP16,
    D_FISTTP32,
    D_FISTTP64,
    D_FPREM,
    D_FPREM1,
    D_FSCALE,
    D_FXTRACT,
    D_FADD_M32,
    D_FMUL_M64,
    D_FDIVR_M32,
    D_FCOM_M64,
    D_FADD_UNMASKED,
    D_FMUL_UNMASKED,
    D_F2XM1,
    D_FYL2X,
    D_FYL2XP1,
    D_FPATAN,
    D_FSIN,
    D_FCOS,
    D_FSINCOS,
    D_FPTAN,
    D_COUNT
};

static const char *const digest_names[D_COUNT] = {
    "addss",       "subss",       "mulss",      "divss",         "sqrtss",         "minss",
    "maxss",       "roundss",     "comiss",     "ucomiss",       "cvtss2si32",     "cvttss2si32",
    "cvtss2si64",  "cvttss2si64", "cvtsi2ss32", "cvtsi2ss64",    "cvtss2sd",       "addsd",
    "subsd",       "mulsd",       "divsd",      "sqrtsd",        "minsd",          "maxsd",
    "roundsd",     "comisd",      "ucomisd",    "cvtsd2si32",    "cvttsd2si32",    "cvtsd2si64",
    "cvttsd2si64", "cvtsi2sd32",  "cvtsi2sd64", "cvtsd2ss",      "addss unmasked", "fadd",
    "fsub",        "fmul",        "fdiv",       "fsqrt",         "frndint",        "fcom",
    "fucom",       "fxam",        "fst m32",    "fst m64",       "fld m32",        "fld m64",
    "fild",        "fist m16",    "fist m32",   "fist m64",      "fisttp m16",     "fisttp m32",
    "fisttp m64",  "fprem",       "fprem1",     "fscale",        "fxtract",        "fadd m32",
    "fmul m64",    "fdivr m32",   "fcom m64",   "fadd unmasked", "fmul unmasked",  "f2xm1",
    "fyl2x",       "fyl2xp1",     "fpatan",     "fsin",          "fcos",           "fsincos",
    "fptan",
};

static uint64_t x80_bits(floatx80 a)
{
    return a.mant ^ ((uint64_t)a.sign_exp << 48) ^ ((uint64_t)a.sign_exp >> 3);
}

/* One case of one operation: its results folded into out[0..1], its status bits into out[2]. */
static void digest_case(int op, uint64_t i, uint64_t out[3])
{
    struct x86_fpstatus st = op < D_FADD ? sse_config(i) : x87_config(i);
    uint64_t a32 = gen_ieee(23, 8),
             b32 = rnd_below(2) ? gen_ieee_near(a32, 23, 8) : gen_ieee(23, 8);
    uint64_t a64 = gen_ieee(52, 11),
             b64 = rnd_below(2) ? gen_ieee_near(a64, 52, 11) : gen_ieee(52, 11);
    floatx80 ax = gen_x80(), bx = rnd_below(2) ? gen_x80_near(ax) : gen_x80();
    int64_t v = gen_int();
    uint16_t fsw = 0;
    bool special;
    floatx80 r0 = {0, 0}, r1 = {0, 0};
    uint64_t r = 0;

    switch (op) {
    case D_ADDSS:
        r = float32_add((float32)a32, (float32)b32, &st);
        break;
    case D_SUBSS:
        r = float32_sub((float32)a32, (float32)b32, &st);
        break;
    case D_MULSS:
        r = float32_mul((float32)a32, (float32)b32, &st);
        break;
    case D_DIVSS:
        r = float32_div((float32)a32, (float32)b32, &st);
        break;
    case D_SQRTSS:
        r = float32_sqrt((float32)a32, &st);
        break;
    case D_MINSS:
        r = float32_min((float32)a32, (float32)b32, &st);
        break;
    case D_MAXSS:
        r = float32_max((float32)a32, (float32)b32, &st);
        break;
    case D_ROUNDSS:
        r = float32_round_to_int((float32)a32, &st);
        break;
    case D_COMISS:
        r = float32_compare((float32)a32, (float32)b32, true, &st);
        break;
    case D_UCOMISS:
        r = float32_compare((float32)a32, (float32)b32, false, &st);
        break;
    case D_CVTSS2SI32:
        r = (uint64_t)float32_to_int32((float32)a32, &st);
        break;
    case D_CVTTSS2SI32:
        r = (uint64_t)float32_to_int32_trunc((float32)a32, &st);
        break;
    case D_CVTSS2SI64:
        r = (uint64_t)float32_to_int64((float32)a32, &st);
        break;
    case D_CVTTSS2SI64:
        r = (uint64_t)float32_to_int64_trunc((float32)a32, &st);
        break;
    case D_CVTSI2SS32:
        r = int32_to_float32((int32_t)v, &st);
        break;
    case D_CVTSI2SS64:
        r = int64_to_float32(v, &st);
        break;
    case D_CVTSS2SD:
        r = float32_to_float64((float32)a32, &st);
        break;
    case D_ADDSD:
        r = float64_add(a64, b64, &st);
        break;
    case D_SUBSD:
        r = float64_sub(a64, b64, &st);
        break;
    case D_MULSD:
        r = float64_mul(a64, b64, &st);
        break;
    case D_DIVSD:
        r = float64_div(a64, b64, &st);
        break;
    case D_SQRTSD:
        r = float64_sqrt(a64, &st);
        break;
    case D_MINSD:
        r = float64_min(a64, b64, &st);
        break;
    case D_MAXSD:
        r = float64_max(a64, b64, &st);
        break;
    case D_ROUNDSD:
        r = float64_round_to_int(a64, &st);
        break;
    case D_COMISD:
        r = float64_compare(a64, b64, true, &st);
        break;
    case D_UCOMISD:
        r = float64_compare(a64, b64, false, &st);
        break;
    case D_CVTSD2SI32:
        r = (uint64_t)float64_to_int32(a64, &st);
        break;
    case D_CVTTSD2SI32:
        r = (uint64_t)float64_to_int32_trunc(a64, &st);
        break;
    case D_CVTSD2SI64:
        r = (uint64_t)float64_to_int64(a64, &st);
        break;
    case D_CVTTSD2SI64:
        r = (uint64_t)float64_to_int64_trunc(a64, &st);
        break;
    case D_CVTSI2SD32:
        r = int32_to_float64((int32_t)v, &st);
        break;
    case D_CVTSI2SD64:
        r = int64_to_float64(v, &st);
        break;
    case D_CVTSD2SS:
        r = float64_to_float32(a64, &st);
        break;
    case D_ADDSS_UNMASKED:
        st.unmasked = (uint8_t)(X86_FLAG_UE << (i & 1));
        r = float32_mul((float32)a32, (float32)b32, &st);
        break;
    case D_FADD:
        r0 = floatx80_add(ax, bx, &st);
        break;
    case D_FSUB:
        r0 = floatx80_sub(ax, bx, &st);
        break;
    case D_FMUL:
        r0 = floatx80_mul(ax, bx, &st);
        break;
    case D_FDIV:
        r0 = floatx80_div(ax, bx, &st);
        break;
    case D_FSQRT:
        r0 = floatx80_sqrt(ax, &st);
        break;
    case D_FRNDINT:
        r0 = floatx80_round_to_int(ax, &st);
        break;
    case D_FCOM:
        fsw = x86_relation_fsw(floatx80_compare(ax, bx, true, &st));
        break;
    case D_FUCOM:
        fsw = x86_relation_fsw(floatx80_compare(ax, bx, false, &st));
        break;
    case D_FXAM:
        fsw = floatx80_examine(ax);
        break;
    case D_FST32:
        r = floatx80_to_float32(ax, &st);
        break;
    case D_FST64:
        r = floatx80_to_float64(ax, &st);
        break;
    case D_FLD32:
        r0 = float32_to_floatx80((float32)a32, &st);
        break;
    case D_FLD64:
        r0 = float64_to_floatx80(a64, &st);
        break;
    case D_FILD:
        r0 = int64_to_floatx80(v);
        break;
    case D_FIST16:
        r = (uint64_t)floatx80_to_int16(ax, &st);
        break;
    case D_FIST32:
        r = (uint64_t)floatx80_to_int32(ax, &st);
        break;
    case D_FIST64:
        r = (uint64_t)floatx80_to_int64(ax, &st);
        break;
    case D_FISTTP16:
        r = (uint64_t)floatx80_to_int16_trunc(ax, &st);
        break;
    case D_FISTTP32:
        r = (uint64_t)floatx80_to_int32_trunc(ax, &st);
        break;
    case D_FISTTP64:
        r = (uint64_t)floatx80_to_int64_trunc(ax, &st);
        break;
    case D_FPREM:
        r0 = floatx80_prem(ax, bx, &fsw, &st);
        break;
    case D_FPREM1:
        r0 = floatx80_prem1(ax, bx, &fsw, &st);
        break;
    case D_FSCALE:
        r0 = floatx80_scale(ax, bx, &st);
        break;
    case D_FXTRACT:
        floatx80_extract(ax, &r0, &r1, &st);
        break;
    case D_FADD_M32:
        r0 = floatx80_arith_f32(X87_ADD, ax, (float32)a32, false, &st);
        break;
    case D_FMUL_M64:
        r0 = floatx80_arith_f64(X87_MUL, ax, a64, false, &st);
        break;
    case D_FDIVR_M32:
        r0 = floatx80_arith_f32(X87_DIV, ax, (float32)a32, true, &st);
        break;
    case D_FCOM_M64:
        fsw = x86_relation_fsw(floatx80_compare_f64(ax, a64, true, &st));
        break;
    case D_FADD_UNMASKED:
        st.unmasked = (uint8_t)(X86_FLAG_UE << (i & 1));
        r0 = floatx80_add(ax, bx, &st);
        break;
    case D_FMUL_UNMASKED:
        st.unmasked = (uint8_t)(X86_FLAG_UE << (i & 1));
        r0 = floatx80_mul(ax, bx, &st);
        break;
    case D_F2XM1:
        r0 = floatx80_f2xm1(gen_trans(-70, -1, &special), &st);
        break;
    case D_FYL2X:
        ax = gen_trans(-16000, 16000, &special);
        ax.sign_exp &= 0x7fff;
        r0 = floatx80_fyl2x(ax, gen_trans(-100, 100, &special), &st);
        break;
    case D_FYL2XP1:
        ax = gen_trans(-70, -3, &special);
        r0 = floatx80_fyl2xp1(ax, gen_trans(-100, 100, &special), &st);
        break;
    case D_FPATAN:
        ax = gen_trans(-100, 100, &special);
        r0 = floatx80_fpatan(ax, gen_trans(-100, 100, &special), &st);
        break;
    case D_FSIN:
        fsw = floatx80_sin(gen_trans(-40, 64, &special), &r0, &st) ? 0 : 1;
        break;
    case D_FCOS:
        fsw = floatx80_cos(gen_trans(-40, 64, &special), &r0, &st) ? 0 : 1;
        break;
    case D_FSINCOS:
        fsw = floatx80_sincos(gen_trans(-40, 64, &special), &r0, &r1, &st) ? 0 : 1;
        break;
    default:
        fsw = floatx80_tan(gen_trans(-40, 64, &special), &r0, &r1, &st) ? 0 : 1;
        break;
    }
    out[0] = r ^ x80_bits(r0);
    out[1] = x80_bits(r1);
    out[2] = (uint64_t)st.flags | (uint64_t)st.c1 << 8 | (uint64_t)fsw << 16;
}

static uint64_t digest_op(int op)
{
    uint64_t hash = 0xcbf29ce484222325ull; /* FNV-1a over the 64-bit words */
    uint64_t cases = op >= D_F2XM1 ? DIGEST_TRANS_CASES : DIGEST_CASES;
    rng_state = 0x9e3779b97f4a7c15ull ^ ((uint64_t)(op + 1) * 0x100000001b3ull);
    for (uint64_t i = 0; i < cases; i++) {
        uint64_t out[3];
        digest_case(op, i, out);
        for (int w = 0; w < 3; w++) {
            for (int byte = 0; byte < 8; byte++) {
                hash = (hash ^ ((out[w] >> (8 * byte)) & 0xff)) * 0x100000001b3ull;
            }
        }
    }
    return hash;
}

/* Taken on x86_64 (AMD EPYC) where test_softfloat's host comparison passes. */
static const uint64_t expected_digests[D_COUNT] = {
    0xd4b0359127ae2744ull, /* addss */
    0xecc5c7da78210cfdull, /* subss */
    0x36a9eb661c1e1af8ull, /* mulss */
    0x6d4c1419e04c86b1ull, /* divss */
    0x6883ffe0a0da5916ull, /* sqrtss */
    0xb1f8102fe85fe44dull, /* minss */
    0x2f039a3515b3ab1cull, /* maxss */
    0x585d46ae85e0ff39ull, /* roundss */
    0x2480a62c8b2a7b04ull, /* comiss */
    0xa28119dc1691e646ull, /* ucomiss */
    0x5a68585df87fffc7ull, /* cvtss2si32 */
    0x41e520096bb7d04aull, /* cvttss2si32 */
    0xa3fde3b8e9b1ff95ull, /* cvtss2si64 */
    0x815f2c08725a8879ull, /* cvttss2si64 */
    0xccb8d5de37422b21ull, /* cvtsi2ss32 */
    0x0cbe716e91b0f680ull, /* cvtsi2ss64 */
    0x28b7e0eb5f8f34afull, /* cvtss2sd */
    0x5caa9fc7efa6d5daull, /* addsd */
    0xa292641d5d2d1292ull, /* subsd */
    0x74039ca1175786d8ull, /* mulsd */
    0xfac154e641e7ac4aull, /* divsd */
    0xb96956d9b29cb0c1ull, /* sqrtsd */
    0x09214ef4b22c8a5dull, /* minsd */
    0xc46834c440bbacf3ull, /* maxsd */
    0x3eb9737d6832953cull, /* roundsd */
    0x182686e8bb573a27ull, /* comisd */
    0xeaea287f72b1ec26ull, /* ucomisd */
    0xdfcaa8ce2fba25e5ull, /* cvtsd2si32 */
    0x5d22026f70585f75ull, /* cvttsd2si32 */
    0x6169d2bd9e4709e5ull, /* cvtsd2si64 */
    0x72b10df1c10f4ee2ull, /* cvttsd2si64 */
    0xc7b44896ffa2c0bcull, /* cvtsi2sd32 */
    0xb3ca17590aa949adull, /* cvtsi2sd64 */
    0xc4fae8738136d791ull, /* cvtsd2ss */
    0x0106fab06fa0af5cull, /* addss unmasked */
    0xd697c92e0a21ff44ull, /* fadd */
    0x55b37fdb79773344ull, /* fsub */
    0xd84e5aca656ee152ull, /* fmul */
    0x839002cfb59fa2afull, /* fdiv */
    0x87daeec8a2f3c53dull, /* fsqrt */
    0x30589f6f6a9c988full, /* frndint */
    0x8a88d09ab528b38bull, /* fcom */
    0xad525819c4e68fb5ull, /* fucom */
    0x0be022422df4c15full, /* fxam */
    0x4968a40ae7c55737ull, /* fst m32 */
    0xdf93d7d2dc3e0830ull, /* fst m64 */
    0xc806d3ab77f1c087ull, /* fld m32 */
    0x953324feadd94ad2ull, /* fld m64 */
    0x6008617c0c5536f3ull, /* fild */
    0x439f99570464f956ull, /* fist m16 */
    0x42f67e16c55f0986ull, /* fist m32 */
    0xf6aa30cec3d9d32aull, /* fist m64 */
    0x1f2a8d7d5682cec8ull, /* fisttp m16 */
    0x2bd6d935c56cf07aull, /* fisttp m32 */
    0x265933624eac3468ull, /* fisttp m64 */
    0xc754f1cefac7363aull, /* fprem */
    0x897dc4dd045bbab3ull, /* fprem1 */
    0xa640a0f2eb7a495full, /* fscale */
    0xd399148acbb0e791ull, /* fxtract */
    0x7f6050974eec3d8cull, /* fadd m32 */
    0x8c0a1d36a4c000e7ull, /* fmul m64 */
    0xf4eed114da941cf0ull, /* fdivr m32 */
    0x4b521e28679e09deull, /* fcom m64 */
    0x81582c3591ffa0dbull, /* fadd unmasked */
    0x6508aa842685562dull, /* fmul unmasked */
    0x5b4df3d631158254ull, /* f2xm1 */
    0xfd9a51b535652e44ull, /* fyl2x */
    0x49ad17e1fbcfec38ull, /* fyl2xp1 */
    0xa1e946bbb0ddc0daull, /* fpatan */
    0xb53d4811710fd3ceull, /* fsin */
    0x27da90b2b6d06211ull, /* fcos */
    0xd5b81bb1610ec4cfull, /* fsincos */
    0x905be18c5e63dd80ull, /* fptan */
};

static void print_digests(void)
{
    for (int op = 0; op < D_COUNT; op++) {
        printf("    0x%016" PRIx64 "ull, /* %s */\n", digest_op(op), digest_names[op]);
    }
}

static void check_digests(void)
{
    for (int op = 0; op < D_COUNT; op++) {
        char name[64];
        uint64_t got = digest_op(op);
        snprintf(name, sizeof(name), "digest %s", digest_names[op]);
        UNIT_CHECK(got == expected_digests[op], name,
                   "results hash to %016" PRIx64 ", not %016" PRIx64 " as on x86_64", got,
                   expected_digests[op]);
    }
}

#if defined(__x86_64__)

#include <ucontext.h>

static bool x80_equal(floatx80 a, floatx80 b)
{
    return a.mant == b.mant && a.sign_exp == b.sign_exp;
}

/*
 * Hand-picked operands: signed zeros, the extreme denormals and normals, one and its
 * neighbours, the integer conversion limits, both kinds of NaN (default, payloads, the
 * largest SNaN), and for floatx80 also pseudo-denormals, pseudo-NaNs, pseudo-infinities and
 * unnormals. Every pair of them comes first in each test, under each of the 16 control
 * combinations (sse_config and x87_config cycle with period 16).
 */
static const uint32_t specials32[] = {
    0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00800000, 0x80800000, 0x7f7fffff,
    0xff7fffff, 0x3f800000, 0xbf800000, 0x3fc00000, 0x3f000000, 0x7f800000, 0xff800000,
    0x7fc00000, 0xffc00000, 0x7fc12345, 0x7f800001, 0xffbfffff, 0x4f000000, 0xcf000000,
    0x5f000000, 0xdf000000, 0x4effffff, 0x33800000, 0x3f7fffff,
};

static const uint64_t specials64[] = {
    0x0000000000000000, 0x8000000000000000, 0x0000000000000001, 0x800fffffffffffff,
    0x0010000000000000, 0x8010000000000000, 0x7fefffffffffffff, 0xffefffffffffffff,
    0x3ff0000000000000, 0xbff0000000000000, 0x3ff8000000000000, 0x3fe0000000000000,
    0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000000,
    0x7ff8000000012345, 0x7ff0000000000001, 0xfff7ffffffffffff, 0x41e0000000000000,
    0xc1e0000000000000, 0x43e0000000000000, 0xc3e0000000000000, 0x41dfffffffc00000,
    0x3ca0000000000000, 0x47efffffe0000000, 0x36a0000000000000, 0x3fefffffffffffff,
};

static const floatx80 specialsx80[] = {
    {0, 0},
    {0, 0x8000},
    {1, 0},
    {0x7fffffffffffffff, 0},
    {0x8000000000000000, 0},      /* pseudo-denormal, equal to the smallest normal */
    {0x8000000000000001, 0x8000}, /* negative pseudo-denormal */
    {0x8000000000000000, 1},
    {~0ull, 0x7ffe},
    {~0ull, 0xfffe},
    {0x8000000000000000, 0x3fff},
    {0x8000000000000000, 0xbfff},
    {0xc000000000000000, 0x3fff},
    {0x8000000000000000, 0x3ffe},
    {~0ull, 0x3ffe},
    {0x8000000000000000, 0x7fff},
    {0x8000000000000000, 0xffff},
    {0xc000000000000000, 0xffff}, /* the default NaN */
    {0xc000000000012345, 0x7fff},
    {0x8000000000000001, 0x7fff}, /* SNaN */
    {0xbfffffffffffffff, 0xffff}, /* the largest SNaN */
    {0x4000000000000000, 0x7fff}, /* pseudo-NaN */
    {0, 0x7fff},                  /* pseudo-infinity */
    {0x4000000000000000, 0x3fff}, /* unnormal */
    {0, 0x3fff},                  /* unnormal with a zero significand */
    {0x8000000000000000, 0x403e}, /* 2^63 */
    {~0ull, 0x403e},              /* 2^64 - 1 */
    {0x8000000000000000, 0x401e}, /* 2^31 */
    {0xfffe000000000000, 0x400d}, /* 32767 */
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

/* For the first 16 * count^2 cases: the indexes of pair i >> 4 of a table of count specials. */
static bool pinned_pair(uint64_t i, size_t count, size_t *ia, size_t *ib)
{
    if (i >= 16 * (uint64_t)count * count) {
        return false;
    }
    *ia = (size_t)(i >> 4) / count;
    *ib = (size_t)(i >> 4) % count;
    return true;
}

/* For the first 16 * count cases: the index of special i >> 4. */
static bool pinned_one(uint64_t i, size_t count, size_t *ia)
{
    if (i >= 16 * (uint64_t)count) {
        return false;
    }
    *ia = (size_t)(i >> 4);
    return true;
}

/*
 * Operand pairs whose result lands next to the underflow threshold (where tininess before and
 * after rounding differ) or the overflow threshold: b is worked out from a in the host's long
 * double (the x87's 64-bit precision, default control word) and then moved by a few ulps.
 * kind: BOUNDARY_MUL gives a * b near the threshold, BOUNDARY_DIV a / b, BOUNDARY_ADD a + b,
 * BOUNDARY_SUB a - b.
 */
enum boundary_kind { BOUNDARY_NONE, BOUNDARY_MUL, BOUNDARY_DIV, BOUNDARY_ADD, BOUNDARY_SUB };

static long double ld_from_x80(floatx80 x)
{
    long double r = 0;
    memcpy(&r, &x, 10);
    return r;
}

/* 2^e, or just below 2^(e + 1) when `below_next` (e within the 80-bit normal range). */
static long double ld_pow2(int e, bool below_next)
{
    return ld_from_x80((floatx80){below_next ? ~0ull : 1ull << 63, (uint16_t)(16383 + e)});
}

/* A value of the given unbiased exponent range with a random significand, as a long double. */
static long double ld_random(int exp_lo, int exp_hi)
{
    int e = exp_lo + (int)rnd_below((uint64_t)(exp_hi - exp_lo + 1));
    long double v = ld_from_x80((floatx80){rnd() | 1ull << 63, (uint16_t)(16383 + e)});
    return rnd_below(2) ? -v : v;
}

/* a and b as long doubles, for a format with normal exponents emin..emax. */
static void boundary_pair(enum boundary_kind kind, int emin, int emax, long double *a,
                          long double *b)
{
    bool low = kind == BOUNDARY_ADD || kind == BOUNDARY_SUB || rnd_below(2);
    long double t = low ? ld_pow2(emin, false) : ld_pow2(emax, true);
    switch (kind) {
    case BOUNDARY_MUL:
        *a = low ? ld_random(emin / 2, 0) : ld_random(0, emax / 2);
        *b = t / *a;
        break;
    case BOUNDARY_DIV:
        *a = low ? ld_random(emin / 2, 0) : ld_random(0, emax / 2);
        *b = *a / t;
        break;
    default:
        /* the smallest normal and a few ulps, less a value a little below it */
        *a = t * (1 + (long double)rnd_below(4) / (1ull << 40));
        *b = -ld_random(emin - 1 - (int)rnd_below(70), emin - 1);
        if (*b > 0) {
            *b = -*b;
        }
        break;
    }
    if (rnd_below(2)) {
        *a = -*a;
        *b = kind == BOUNDARY_MUL || kind == BOUNDARY_DIV ? *b : -*b;
    }
    if (kind == BOUNDARY_SUB) {
        *b = -*b;
    }
}

static void boundary_pair32(enum boundary_kind kind, uint32_t *a, uint32_t *b)
{
    long double la, lb;
    boundary_pair(kind, -126, 127, &la, &lb);
    float fa = (float)la;
    float fb = (float)lb;
    memcpy(a, &fa, 4);
    memcpy(b, &fb, 4);
    *b += (uint32_t)rnd_below(7) - 3;
}

static void boundary_pair64(enum boundary_kind kind, uint64_t *a, uint64_t *b)
{
    long double la, lb;
    boundary_pair(kind, -1022, 1023, &la, &lb);
    double da = (double)la;
    double db = (double)lb;
    memcpy(a, &da, 8);
    memcpy(b, &db, 8);
    *b += rnd_below(7) - 3;
}

static void boundary_pairx80(enum boundary_kind kind, floatx80 *a, floatx80 *b)
{
    long double la, lb;
    boundary_pair(kind, -16382, 16383, &la, &lb);
    memcpy(a, &la, 10);
    memcpy(b, &lb, 10);
    if (b->mant >> 63) {
        b->mant += rnd_below(7) - 3;
        b->mant |= 1ull << 63;
    }
}

/* ---- the host's instructions ----------------------------------------------------------- */

static uint32_t mxcsr_for(const struct x86_fpstatus *st)
{
    return 0x1f80u | (uint32_t)st->rounding << 13 | (uint32_t)st->daz << 6 |
           (uint32_t)st->ftz << 15;
}

static uint16_t fcw_for(const struct x86_fpstatus *st)
{
    return (uint16_t)(0x3fu | 0x40u | (uint32_t)st->precision << 8 | (uint32_t)st->rounding << 10);
}

/* SSE scalar op on xmm0 (first source, destination) and xmm1; the MXCSR in use is restored
 * afterwards so the test's own code runs with the default one. */
#define SSE_BINOP(fn, type, mov, insn)                                                             \
    static type fn(type a, type b, uint32_t csr, uint32_t *flags)                                  \
    {                                                                                              \
        uint32_t saved, out;                                                                       \
        type r;                                                                                    \
        __asm__ volatile("stmxcsr %[saved]\n\t"                                                    \
                         "ldmxcsr %[csr]\n\t" mov " %[a], %%xmm0\n\t" mov " %[b], %%xmm1\n\t" insn \
                         " %%xmm1, %%xmm0\n\t" mov " %%xmm0, %[r]\n\t"                             \
                         "stmxcsr %[out]\n\t"                                                      \
                         "ldmxcsr %[saved]"                                                        \
                         : [r] "=r"(r), [out] "=m"(out), [saved] "=m"(saved)                       \
                         : [csr] "m"(csr), [a] "r"(a), [b] "r"(b)                                  \
                         : "xmm0", "xmm1");                                                        \
        *flags = out & 0x3f;                                                                       \
        return r;                                                                                  \
    }

SSE_BINOP(host_addss, uint32_t, "movd", "addss")
SSE_BINOP(host_subss, uint32_t, "movd", "subss")
SSE_BINOP(host_mulss, uint32_t, "movd", "mulss")
SSE_BINOP(host_divss, uint32_t, "movd", "divss")
SSE_BINOP(host_minss, uint32_t, "movd", "minss")
SSE_BINOP(host_maxss, uint32_t, "movd", "maxss")
SSE_BINOP(host_sqrtss, uint32_t, "movd", "sqrtss")
SSE_BINOP(host_roundss_mx, uint32_t, "movd", "roundss $4,")
SSE_BINOP(host_cvtss2sd, uint64_t, "movq", "cvtss2sd")
SSE_BINOP(host_addsd, uint64_t, "movq", "addsd")
SSE_BINOP(host_subsd, uint64_t, "movq", "subsd")
SSE_BINOP(host_mulsd, uint64_t, "movq", "mulsd")
SSE_BINOP(host_divsd, uint64_t, "movq", "divsd")
SSE_BINOP(host_minsd, uint64_t, "movq", "minsd")
SSE_BINOP(host_maxsd, uint64_t, "movq", "maxsd")
SSE_BINOP(host_sqrtsd, uint64_t, "movq", "sqrtsd")
SSE_BINOP(host_roundsd_mx, uint64_t, "movq", "roundsd $4,")
SSE_BINOP(host_cvtsd2ss, uint64_t, "movq", "cvtsd2ss")

/* Conversions whose source and destination differ in kind: one input register, one output. */
#define SSE_CVT(fn, tin, tout, movin, insn, outreg)                                              \
    static tout fn(tin a, uint32_t csr, uint32_t *flags)                                         \
    {                                                                                            \
        uint32_t saved, out;                                                                     \
        tout r;                                                                                  \
        __asm__ volatile("stmxcsr %[saved]\n\t"                                                  \
                         "ldmxcsr %[csr]\n\t" movin " %[a], %%xmm1\n\t" insn " %%xmm1, %[r]\n\t" \
                         "stmxcsr %[out]\n\t"                                                    \
                         "ldmxcsr %[saved]"                                                      \
                         : [r] "=" outreg(r), [out] "=m"(out), [saved] "=m"(saved)               \
                         : [csr] "m"(csr), [a] "r"(a)                                            \
                         : "xmm1");                                                              \
        *flags = out & 0x3f;                                                                     \
        return r;                                                                                \
    }

SSE_CVT(host_cvtss2si32, uint32_t, int32_t, "movd", "cvtss2si", "r")
SSE_CVT(host_cvttss2si32, uint32_t, int32_t, "movd", "cvttss2si", "r")
SSE_CVT(host_cvtss2si64, uint32_t, int64_t, "movd", "cvtss2si", "r")
SSE_CVT(host_cvttss2si64, uint32_t, int64_t, "movd", "cvttss2si", "r")
SSE_CVT(host_cvtsd2si32, uint64_t, int32_t, "movq", "cvtsd2si", "r")
SSE_CVT(host_cvttsd2si32, uint64_t, int32_t, "movq", "cvttsd2si", "r")
SSE_CVT(host_cvtsd2si64, uint64_t, int64_t, "movq", "cvtsd2si", "r")
SSE_CVT(host_cvttsd2si64, uint64_t, int64_t, "movq", "cvttsd2si", "r")

#define SSE_FROM_INT(fn, tin, tout, insn, movout)                                   \
    static tout fn(tin a, uint32_t csr, uint32_t *flags)                            \
    {                                                                               \
        uint32_t saved, out;                                                        \
        tout r;                                                                     \
        __asm__ volatile("stmxcsr %[saved]\n\t"                                     \
                         "ldmxcsr %[csr]\n\t"                                       \
                         "xorps %%xmm0, %%xmm0\n\t" insn " %[a], %%xmm0\n\t" movout \
                         " %%xmm0, %[r]\n\t"                                        \
                         "stmxcsr %[out]\n\t"                                       \
                         "ldmxcsr %[saved]"                                         \
                         : [r] "=r"(r), [out] "=m"(out), [saved] "=m"(saved)        \
                         : [csr] "m"(csr), [a] "r"(a)                               \
                         : "xmm0");                                                 \
        *flags = out & 0x3f;                                                        \
        return r;                                                                   \
    }

SSE_FROM_INT(host_cvtsi2ss32, int32_t, uint32_t, "cvtsi2ssl", "movd")
SSE_FROM_INT(host_cvtsi2ss64, int64_t, uint32_t, "cvtsi2ssq", "movd")
SSE_FROM_INT(host_cvtsi2sd32, int32_t, uint64_t, "cvtsi2sdl", "movq")
SSE_FROM_INT(host_cvtsi2sd64, int64_t, uint64_t, "cvtsi2sdq", "movq")

/* (U)COMISS/(U)COMISD: ZF, PF, CF. */
#define SSE_COMPARE(fn, type, mov, insn)                                                        \
    static uint32_t fn(type a, type b, uint32_t csr, uint32_t *flags)                           \
    {                                                                                           \
        uint32_t saved, out;                                                                    \
        uint8_t zf, pf, cf;                                                                     \
        __asm__ volatile(                                                                       \
            "stmxcsr %[saved]\n\t"                                                              \
            "ldmxcsr %[csr]\n\t" mov " %[a], %%xmm0\n\t" mov " %[b], %%xmm1\n\t" insn           \
            " %%xmm1, %%xmm0\n\t"                                                               \
            "setz %[zf]\n\t"                                                                    \
            "setp %[pf]\n\t"                                                                    \
            "setc %[cf]\n\t"                                                                    \
            "stmxcsr %[out]\n\t"                                                                \
            "ldmxcsr %[saved]"                                                                  \
            : [zf] "=r"(zf), [pf] "=r"(pf), [cf] "=r"(cf), [out] "=m"(out), [saved] "=m"(saved) \
            : [csr] "m"(csr), [a] "r"(a), [b] "r"(b)                                            \
            : "xmm0", "xmm1", "cc");                                                            \
        *flags = out & 0x3f;                                                                    \
        return (uint32_t)zf << 6 | (uint32_t)pf << 2 | cf;                                      \
    }

SSE_COMPARE(host_ucomiss, uint32_t, "movd", "ucomiss")
SSE_COMPARE(host_comiss, uint32_t, "movd", "comiss")
SSE_COMPARE(host_ucomisd, uint64_t, "movq", "ucomisd")
SSE_COMPARE(host_comisd, uint64_t, "movq", "comisd")

/* x87: st0 = a, st1 = b, run the instruction, return st0 and the status word. */
#define X87_BINOP(fn, insn)                                               \
    static floatx80 fn(floatx80 a, floatx80 b, uint16_t cw, uint16_t *sw) \
    {                                                                     \
        floatx80 r = {0, 0};                                              \
        uint16_t s;                                                       \
        __asm__ volatile("fninit\n\t"                                     \
                         "fldcw %[cw]\n\t"                                \
                         "fldt %[b]\n\t"                                  \
                         "fldt %[a]\n\t" insn "\n\t"                      \
                         "fnstsw %[s]\n\t"                                \
                         "fstpt %[r]\n\t"                                 \
                         "fninit"                                         \
                         : [r] "=m"(r), [s] "=m"(s)                       \
                         : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)           \
                         : "st", "st(1)", "memory");                      \
        *sw = s;                                                          \
        return r;                                                         \
    }

X87_BINOP(host_fadd, "fadd %%st(1), %%st")
X87_BINOP(host_fsub, "fsub %%st(1), %%st")
X87_BINOP(host_fmul, "fmul %%st(1), %%st")
X87_BINOP(host_fdiv, "fdiv %%st(1), %%st")
X87_BINOP(host_fsqrt, "fsqrt")
X87_BINOP(host_frndint, "frndint")
X87_BINOP(host_fcom, "fcom %%st(1)")
X87_BINOP(host_fucom, "fucom %%st(1)")
X87_BINOP(host_fprem, "fprem")
X87_BINOP(host_fprem1, "fprem1")
X87_BINOP(host_fscale, "fscale")

X87_BINOP(host_fxam, "fxam")
X87_BINOP(host_f2xm1, "f2xm1")
X87_BINOP(host_fyl2x, "fyl2x")
X87_BINOP(host_fyl2xp1, "fyl2xp1")
X87_BINOP(host_fpatan, "fpatan")
X87_BINOP(host_fsin, "fsin")
X87_BINOP(host_fcos, "fcos")

/* st0 = a, st1 = b, then the instruction; the two top registers afterwards. */
#define X87_TWO_OUT(fn, insn)                                                         \
    static void fn(floatx80 a, floatx80 b, uint16_t cw, floatx80 *st0, floatx80 *st1, \
                   uint16_t *sw)                                                      \
    {                                                                                 \
        floatx80 r0 = {0, 0};                                                         \
        floatx80 r1 = {0, 0};                                                         \
        uint16_t s;                                                                   \
        __asm__ volatile("fninit\n\t"                                                 \
                         "fldcw %[cw]\n\t"                                            \
                         "fldt %[b]\n\t"                                              \
                         "fldt %[a]\n\t" insn "\n\t"                                  \
                         "fnstsw %[s]\n\t"                                            \
                         "fstpt %[r0]\n\t"                                            \
                         "fstpt %[r1]\n\t"                                            \
                         "fninit"                                                     \
                         : [r0] "=m"(r0), [r1] "=m"(r1), [s] "=m"(s)                  \
                         : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)                       \
                         : "st", "st(1)", "st(2)", "memory");                         \
        *st0 = r0;                                                                    \
        *st1 = r1;                                                                    \
        *sw = s;                                                                      \
    }

X87_TWO_OUT(host_fptan, "fptan")
X87_TWO_OUT(host_fsincos, "fsincos")

/* FXTRACT: st0 = significand, st1 = exponent. */
static void host_fxtract(floatx80 a, uint16_t cw, floatx80 *exponent, floatx80 *significand,
                         uint16_t *sw)
{
    floatx80 e = {0, 0};
    floatx80 m = {0, 0};
    uint16_t s;
    __asm__ volatile("fninit\n\t"
                     "fldcw %[cw]\n\t"
                     "fldt %[a]\n\t"
                     "fxtract\n\t"
                     "fnstsw %[s]\n\t"
                     "fstpt %[m]\n\t"
                     "fstpt %[e]\n\t"
                     "fninit"
                     : [m] "=m"(m), [e] "=m"(e), [s] "=m"(s)
                     : [cw] "m"(cw), [a] "m"(a)
                     : "st", "st(1)", "memory");
    *exponent = e;
    *significand = m;
    *sw = s;
}

/* x87 arithmetic with a memory operand: st0 = a op m (m a float32 or float64). */
#define X87_MEMOP(fn, type, insn)                                     \
    static floatx80 fn(floatx80 a, type m, uint16_t cw, uint16_t *sw) \
    {                                                                 \
        floatx80 r = {0, 0};                                          \
        uint16_t s;                                                   \
        __asm__ volatile("fninit\n\t"                                 \
                         "fldcw %[cw]\n\t"                            \
                         "fldt %[a]\n\t" insn " %[m]\n\t"             \
                         "fnstsw %[s]\n\t"                            \
                         "fstpt %[r]\n\t"                             \
                         "fninit"                                     \
                         : [r] "=m"(r), [s] "=m"(s)                   \
                         : [cw] "m"(cw), [a] "m"(a), [m] "m"(m)       \
                         : "st", "memory");                           \
        *sw = s;                                                      \
        return r;                                                     \
    }

X87_MEMOP(host_fadd_m32, uint32_t, "fadds")
X87_MEMOP(host_fmul_m64, uint64_t, "fmull")
X87_MEMOP(host_fdivr_m32, uint32_t, "fdivrs")
X87_MEMOP(host_fsubr_m64, uint64_t, "fsubrl")
X87_MEMOP(host_fcom_m32, uint32_t, "fcoms")
X87_MEMOP(host_fcom_m64, uint64_t, "fcoml")

/* The same with overflow or underflow unmasked: the exception stays pending after the
 * instruction, so st0 is read with FXSAVE and the status with FNSTSW, which do not wait for it,
 * and FNINIT drops it. */
#define X87_BINOP_NOWAIT(fn, insn)                                        \
    static floatx80 fn(floatx80 a, floatx80 b, uint16_t cw, uint16_t *sw) \
    {                                                                     \
        uint8_t area[512] __attribute__((aligned(16)));                   \
        floatx80 r = {0, 0};                                              \
        uint16_t s;                                                       \
        __asm__ volatile("fninit\n\t"                                     \
                         "fldcw %[cw]\n\t"                                \
                         "fldt %[b]\n\t"                                  \
                         "fldt %[a]\n\t" insn "\n\t"                      \
                         "fnstsw %[s]\n\t"                                \
                         "fxsave %[area]\n\t"                             \
                         "fninit"                                         \
                         : [area] "=m"(area), [s] "=m"(s)                 \
                         : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)           \
                         : "st", "st(1)", "memory");                      \
        memcpy(&r, area + 32, 10); /* ST0 in the FXSAVE image */          \
        *sw = s;                                                          \
        return r;                                                         \
    }

X87_BINOP_NOWAIT(host_fadd_nowait, "fadd %%st(1), %%st")
X87_BINOP_NOWAIT(host_fmul_nowait, "fmul %%st(1), %%st")
X87_BINOP_NOWAIT(host_fdiv_nowait, "fdiv %%st(1), %%st")
X87_BINOP_NOWAIT(host_fscale_nowait, "fscale")
X87_BINOP_NOWAIT(host_fprem_nowait, "fprem")
X87_BINOP_NOWAIT(host_fprem1_nowait, "fprem1")

/* x87 store of st0 = a to memory of the given type. */
#define X87_STORE(fn, type, insn)                         \
    static type fn(floatx80 a, uint16_t cw, uint16_t *sw) \
    {                                                     \
        type r = 0;                                       \
        uint16_t s;                                       \
        __asm__ volatile("fninit\n\t"                     \
                         "fldcw %[cw]\n\t"                \
                         "fldt %[a]\n\t" insn " %[r]\n\t" \
                         "fnstsw %[s]\n\t"                \
                         "fninit"                         \
                         : [r] "=m"(r), [s] "=m"(s)       \
                         : [cw] "m"(cw), [a] "m"(a)       \
                         : "st", "memory");               \
        *sw = s;                                          \
        return r;                                         \
    }

X87_STORE(host_fst32, uint32_t, "fstps")
X87_STORE(host_fst64, uint64_t, "fstpl")
X87_STORE(host_fist16, int16_t, "fistps")
X87_STORE(host_fist32, int32_t, "fistpl")
X87_STORE(host_fist64, int64_t, "fistpll")
X87_STORE(host_fisttp16, int16_t, "fisttps")
X87_STORE(host_fisttp32, int32_t, "fisttpl")
X87_STORE(host_fisttp64, int64_t, "fisttpll")

/* x87 load from memory of the given type into st0. */
#define X87_LOAD(fn, type, insn)                            \
    static floatx80 fn(type a, uint16_t cw, uint16_t *sw)   \
    {                                                       \
        floatx80 r = {0, 0};                                \
        uint16_t s;                                         \
        __asm__ volatile("fninit\n\t"                       \
                         "fldcw %[cw]\n\t" insn " %[a]\n\t" \
                         "fnstsw %[s]\n\t"                  \
                         "fstpt %[r]\n\t"                   \
                         "fninit"                           \
                         : [r] "=m"(r), [s] "=m"(s)         \
                         : [cw] "m"(cw), [a] "m"(a)         \
                         : "st", "memory");                 \
        *sw = s;                                            \
        return r;                                           \
    }

X87_LOAD(host_fld32, uint32_t, "flds")
X87_LOAD(host_fld64, uint64_t, "fldl")
X87_LOAD(host_fild64, int64_t, "fildll")

/* ---- comparison and reporting ---------------------------------------------------------- */

struct tally {
    const char *name;
    uint64_t cases;
    uint64_t mismatches;
};

static void tally_done(struct tally *t)
{
    UNIT_CHECK(t->mismatches == 0, t->name, "%" PRIu64 " of %" PRIu64 " cases differ from the host",
               t->mismatches, t->cases);
    if (t->mismatches == 0) {
        printf("  %s: %" PRIu64 " cases identical to the host\n", t->name, t->cases);
    }
}

static bool tally_case(struct tally *t, bool same)
{
    t->cases++;
    if (!same) {
        t->mismatches++;
    }
    return !same && t->mismatches <= MAX_REPORTS;
}

static const char *const rounding_names[] = {"RN", "RD", "RU", "RZ"};

static void describe(const struct x86_fpstatus *st)
{
    printf(" [%s pc=%u daz=%d ftz=%d]", rounding_names[st->rounding & 3], st->precision, st->daz,
           st->ftz);
}

/* ---- SSE tests ------------------------------------------------------------------------- */

typedef float32 (*f32_binop)(float32, float32, struct x86_fpstatus *);
typedef uint32_t (*host32_binop)(uint32_t, uint32_t, uint32_t, uint32_t *);
typedef float64 (*f64_binop)(float64, float64, struct x86_fpstatus *);
typedef uint64_t (*host64_binop)(uint64_t, uint64_t, uint32_t, uint32_t *);

static float32 soft_sqrt32(float32 a, float32 b, struct x86_fpstatus *st)
{
    return float32_sqrt(b, st);
}

static float64 soft_sqrt64(float64 a, float64 b, struct x86_fpstatus *st)
{
    return float64_sqrt(b, st);
}

static float32 soft_round32(float32 a, float32 b, struct x86_fpstatus *st)
{
    return float32_round_to_int(b, st);
}

static float64 soft_round64(float64 a, float64 b, struct x86_fpstatus *st)
{
    return float64_round_to_int(b, st);
}

static void test_binop32(const char *name, f32_binop soft, host32_binop host,
                         enum boundary_kind kind, uint64_t n)
{
    struct tally t = {name, 0, 0};
    for (uint64_t i = 0; i < n; i++) {
        struct x86_fpstatus st = sse_config(i);
        float32 a = (float32)gen_ieee(23, 8);
        float32 b = (float32)(rnd_below(2) ? gen_ieee_near(a, 23, 8) : gen_ieee(23, 8));
        size_t ia, ib;
        if (kind != BOUNDARY_NONE && rnd_below(4) == 0) {
            boundary_pair32(kind, &a, &b);
        }
        if (pinned_pair(i, COUNT_OF(specials32), &ia, &ib)) {
            a = specials32[ia];
            b = specials32[ib];
        }
        uint32_t hflags;
        uint32_t want = host(a, b, mxcsr_for(&st), &hflags);
        float32 got = soft(a, b, &st);
        if (tally_case(&t, got == want && st.flags == hflags)) {
            printf("  %s(%08" PRIx32 ", %08" PRIx32 ")", name, a, b);
            describe(&st);
            printf(": got %08" PRIx32 " flags %02x, host %08" PRIx32 " flags %02x\n", got, st.flags,
                   want, hflags);
        }
    }
    tally_done(&t);
}

static void test_binop64(const char *name, f64_binop soft, host64_binop host,
                         enum boundary_kind kind, uint64_t n)
{
    struct tally t = {name, 0, 0};
    for (uint64_t i = 0; i < n; i++) {
        struct x86_fpstatus st = sse_config(i);
        float64 a = gen_ieee(52, 11);
        float64 b = rnd_below(2) ? gen_ieee_near(a, 52, 11) : gen_ieee(52, 11);
        size_t ia, ib;
        if (kind != BOUNDARY_NONE && rnd_below(4) == 0) {
            boundary_pair64(kind, &a, &b);
        }
        if (pinned_pair(i, COUNT_OF(specials64), &ia, &ib)) {
            a = specials64[ia];
            b = specials64[ib];
        }
        uint32_t hflags;
        uint64_t want = host(a, b, mxcsr_for(&st), &hflags);
        float64 got = soft(a, b, &st);
        if (tally_case(&t, got == want && st.flags == hflags)) {
            printf("  %s(%016" PRIx64 ", %016" PRIx64 ")", name, a, b);
            describe(&st);
            printf(": got %016" PRIx64 " flags %02x, host %016" PRIx64 " flags %02x\n", got,
                   st.flags, want, hflags);
        }
    }
    tally_done(&t);
}

static void test_compare_sse(uint64_t n)
{
    static const char *const names[4] = {"ucomiss", "comiss", "ucomisd", "comisd"};
    for (int kind = 0; kind < 4; kind++) {
        struct tally t = {names[kind], 0, 0};
        bool signalling = kind & 1;
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = sse_config(i);
            uint32_t hflags;
            uint32_t want;
            uint32_t got;
            uint64_t a, b;
            if (kind < 2) {
                size_t ia, ib;
                a = gen_ieee(23, 8);
                b = rnd_below(2) ? gen_ieee_near(a, 23, 8) : gen_ieee(23, 8);
                if (pinned_pair(i, COUNT_OF(specials32), &ia, &ib)) {
                    a = specials32[ia];
                    b = specials32[ib];
                }
                want = (signalling ? host_comiss : host_ucomiss)((uint32_t)a, (uint32_t)b,
                                                                 mxcsr_for(&st), &hflags);
                got = x86_relation_eflags(float32_compare((float32)a, (float32)b, signalling, &st));
            } else {
                size_t ia, ib;
                a = gen_ieee(52, 11);
                b = rnd_below(2) ? gen_ieee_near(a, 52, 11) : gen_ieee(52, 11);
                if (pinned_pair(i, COUNT_OF(specials64), &ia, &ib)) {
                    a = specials64[ia];
                    b = specials64[ib];
                }
                want = (signalling ? host_comisd : host_ucomisd)(a, b, mxcsr_for(&st), &hflags);
                got = x86_relation_eflags(float64_compare(a, b, signalling, &st));
            }
            if (tally_case(&t, got == want && st.flags == hflags)) {
                printf("  %s(%" PRIx64 ", %" PRIx64 ")", names[kind], a, b);
                describe(&st);
                printf(": got eflags %02x flags %02x, host %02x flags %02x\n", got, st.flags, want,
                       hflags);
            }
        }
        tally_done(&t);
    }
}

/* float -> integer, both widths and both rounding kinds. */
static void test_to_int_sse(uint64_t n)
{
    static const char *const names[8] = {
        "cvtss2si32", "cvttss2si32", "cvtss2si64", "cvttss2si64",
        "cvtsd2si32", "cvttsd2si32", "cvtsd2si64", "cvttsd2si64",
    };
    for (int kind = 0; kind < 8; kind++) {
        struct tally t = {names[kind], 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = sse_config(i);
            uint32_t csr = mxcsr_for(&st);
            uint32_t hflags;
            int64_t want, got;
            uint64_t a = kind < 4 ? gen_ieee(23, 8) : gen_ieee(52, 11);
            size_t ia;
            if (kind < 4 && pinned_one(i, COUNT_OF(specials32), &ia)) {
                a = specials32[ia];
            } else if (kind >= 4 && pinned_one(i, COUNT_OF(specials64), &ia)) {
                a = specials64[ia];
            }
            float32 a32 = (float32)a;
            switch (kind) {
            case 0:
                want = host_cvtss2si32(a32, csr, &hflags);
                got = float32_to_int32(a32, &st);
                break;
            case 1:
                want = host_cvttss2si32(a32, csr, &hflags);
                got = float32_to_int32_trunc(a32, &st);
                break;
            case 2:
                want = host_cvtss2si64(a32, csr, &hflags);
                got = float32_to_int64(a32, &st);
                break;
            case 3:
                want = host_cvttss2si64(a32, csr, &hflags);
                got = float32_to_int64_trunc(a32, &st);
                break;
            case 4:
                want = host_cvtsd2si32(a, csr, &hflags);
                got = float64_to_int32(a, &st);
                break;
            case 5:
                want = host_cvttsd2si32(a, csr, &hflags);
                got = float64_to_int32_trunc(a, &st);
                break;
            case 6:
                want = host_cvtsd2si64(a, csr, &hflags);
                got = float64_to_int64(a, &st);
                break;
            default:
                want = host_cvttsd2si64(a, csr, &hflags);
                got = float64_to_int64_trunc(a, &st);
                break;
            }
            if (tally_case(&t, got == want && st.flags == hflags)) {
                printf("  %s(%" PRIx64 ")", names[kind], a);
                describe(&st);
                printf(": got %" PRId64 " flags %02x, host %" PRId64 " flags %02x\n", got, st.flags,
                       want, hflags);
            }
        }
        tally_done(&t);
    }
}

static void test_from_int_sse(uint64_t n)
{
    static const char *const names[4] = {"cvtsi2ss32", "cvtsi2ss64", "cvtsi2sd32", "cvtsi2sd64"};
    for (int kind = 0; kind < 4; kind++) {
        struct tally t = {names[kind], 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = sse_config(i);
            uint32_t csr = mxcsr_for(&st);
            uint32_t hflags;
            uint64_t want, got;
            int64_t v = gen_int();
            switch (kind) {
            case 0:
                want = host_cvtsi2ss32((int32_t)v, csr, &hflags);
                got = int32_to_float32((int32_t)v, &st);
                break;
            case 1:
                want = host_cvtsi2ss64(v, csr, &hflags);
                got = int64_to_float32(v, &st);
                break;
            case 2:
                want = host_cvtsi2sd32((int32_t)v, csr, &hflags);
                got = int32_to_float64((int32_t)v, &st);
                break;
            default:
                want = host_cvtsi2sd64(v, csr, &hflags);
                got = int64_to_float64(v, &st);
                break;
            }
            if (tally_case(&t, got == want && st.flags == hflags)) {
                printf("  %s(%" PRId64 ")", names[kind], v);
                describe(&st);
                printf(": got %" PRIx64 " flags %02x, host %" PRIx64 " flags %02x\n", got, st.flags,
                       want, hflags);
            }
        }
        tally_done(&t);
    }
}

static void test_convert_sse(uint64_t n)
{
    struct tally t32 = {"cvtss2sd", 0, 0};
    struct tally t64 = {"cvtsd2ss", 0, 0};
    for (uint64_t i = 0; i < n; i++) {
        struct x86_fpstatus st = sse_config(i);
        uint32_t hflags;
        float32 a = (float32)gen_ieee(23, 8);
        size_t ia;
        a = pinned_one(i, COUNT_OF(specials32), &ia) ? specials32[ia] : a;
        uint64_t want = host_cvtss2sd(0, a, mxcsr_for(&st), &hflags);
        float64 got = float32_to_float64(a, &st);
        if (tally_case(&t32, got == want && st.flags == hflags)) {
            printf("  cvtss2sd(%08" PRIx32 ")", a);
            describe(&st);
            printf(": got %016" PRIx64 " flags %02x, host %016" PRIx64 " flags %02x\n", got,
                   st.flags, want, hflags);
        }
    }
    tally_done(&t32);
    for (uint64_t i = 0; i < n; i++) {
        struct x86_fpstatus st = sse_config(i);
        uint32_t hflags;
        float64 a = rnd_below(2) ? gen_ieee(52, 11)
                                 : (uint64_t)(rnd_below(2) << 63) |
                                       (uint64_t)(1023 - 160 + rnd_below(320)) << 52 |
                                       (boundary_bits() >> 12);
        size_t ia;
        a = pinned_one(i, COUNT_OF(specials64), &ia) ? specials64[ia] : a;
        uint32_t want = (uint32_t)host_cvtsd2ss(0, a, mxcsr_for(&st), &hflags);
        float32 got = float64_to_float32(a, &st);
        if (tally_case(&t64, got == want && st.flags == hflags)) {
            printf("  cvtsd2ss(%016" PRIx64 ")", a);
            describe(&st);
            printf(": got %08" PRIx32 " flags %02x, host %08" PRIx32 " flags %02x\n", got, st.flags,
                   want, hflags);
        }
    }
    tally_done(&t64);
}

/*
 * SSE with overflow or underflow unmasked: the instruction faults (#XM, SIGFPE) before writing
 * its destination. The handler keeps the MXCSR flags the fault reports and returns with every
 * exception masked, so the instruction runs again, masked, and the test goes on.
 */
static volatile sig_atomic_t sse_trapped;
static volatile uint32_t sse_trap_mxcsr;

static void sse_fault_handler(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    (void)sig;
    (void)info;
    sse_trap_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    sse_trapped = 1;
    uc->uc_mcontext.fpregs->mxcsr = (uc->uc_mcontext.fpregs->mxcsr | 0x1f80u) & ~0x3fu;
}

static void test_unmasked_sse(uint64_t n)
{
    static const char *const names[7] = {"addss unmasked",   "mulss unmasked", "divss unmasked",
                                         "addsd unmasked",   "mulsd unmasked", "divsd unmasked",
                                         "cvtsd2ss unmasked"};
    static const uint8_t unmasked[3] = {X86_FLAG_UE, X86_FLAG_OE, X86_FLAG_UE | X86_FLAG_OE};
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = sse_fault_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    UNIT_REQUIRE(sigaction(SIGFPE, &sa, &old) == 0, "sse unmasked", "cannot catch SIGFPE");
    for (int kind = 0; kind < 7; kind++) {
        struct tally t = {names[kind], 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = sse_config(i);
            st.unmasked = unmasked[(i >> 4) % 3];
            uint32_t csr = mxcsr_for(&st) & ~((uint32_t)st.unmasked << 7);
            uint32_t hflags;
            uint64_t a, b, want, got;
            enum boundary_kind bk = kind % 3 == 0   ? BOUNDARY_ADD
                                    : kind % 3 == 1 ? BOUNDARY_MUL
                                                    : BOUNDARY_DIV;
            sse_trapped = 0;
            if (kind < 3) {
                uint32_t a32 = (uint32_t)gen_ieee(23, 8);
                uint32_t b32 = (uint32_t)gen_ieee(23, 8);
                if (rnd_below(2)) {
                    boundary_pair32(bk, &a32, &b32);
                }
                a = a32;
                b = b32;
                host32_binop host = kind == 0 ? host_addss : kind == 1 ? host_mulss : host_divss;
                f32_binop soft = kind == 0 ? float32_add : kind == 1 ? float32_mul : float32_div;
                want = host(a32, b32, csr, &hflags);
                got = soft(a32, b32, &st);
            } else if (kind < 6) {
                a = gen_ieee(52, 11);
                b = gen_ieee(52, 11);
                if (rnd_below(2)) {
                    boundary_pair64(bk, &a, &b);
                }
                host64_binop host = kind == 3 ? host_addsd : kind == 4 ? host_mulsd : host_divsd;
                f64_binop soft = kind == 3 ? float64_add : kind == 4 ? float64_mul : float64_div;
                want = host(a, b, csr, &hflags);
                got = soft(a, b, &st);
            } else {
                a = 0;
                b = rnd_below(2) ? gen_ieee(52, 11)
                                 : (uint64_t)(rnd_below(2) << 63) |
                                       (uint64_t)(1023 - 160 + rnd_below(320)) << 52 |
                                       (boundary_bits() >> 12);
                want = (uint32_t)host_cvtsd2ss(0, b, csr, &hflags);
                got = float64_to_float32(b, &st);
            }
            bool same;
            if (sse_trapped) {
                /* the destination was not written: only the reported flags count */
                hflags = sse_trap_mxcsr & 0x3f;
                same = st.flags == hflags;
            } else {
                same = got == want && st.flags == hflags;
            }
            if (tally_case(&t, same)) {
                printf("  %s(%" PRIx64 ", %" PRIx64 ")", t.name, a, b);
                describe(&st);
                printf(
                    " unmasked %02x%s: got %" PRIx64 " flags %02x, host %" PRIx64 " flags %02x\n",
                    st.unmasked, sse_trapped ? " (host faulted)" : "", got, st.flags, want, hflags);
            }
        }
        tally_done(&t);
    }
    sigaction(SIGFPE, &old, NULL);
}

/* ---- x87 tests ------------------------------------------------------------------------- */

typedef floatx80 (*x80_binop)(floatx80, floatx80, struct x86_fpstatus *);
typedef floatx80 (*hostx80_binop)(floatx80, floatx80, uint16_t, uint16_t *);

static floatx80 soft_fsqrt(floatx80 a, floatx80 b, struct x86_fpstatus *st)
{
    return floatx80_sqrt(a, st);
}

static floatx80 soft_frndint(floatx80 a, floatx80 b, struct x86_fpstatus *st)
{
    return floatx80_round_to_int(a, st);
}

/* The status word bits a result is compared on: exceptions and C1, or the condition codes. */
#define FSW_EXCEPTIONS 0x3fu

static void report_x80(const char *name, floatx80 a, floatx80 b, const struct x86_fpstatus *st)
{
    printf("  %s(%04x:%016" PRIx64 ", %04x:%016" PRIx64 ")", name, a.sign_exp, a.mant, b.sign_exp,
           b.mant);
    describe(st);
}

static void test_binop_x80(const char *name, x80_binop soft, hostx80_binop host,
                           enum boundary_kind kind, uint64_t n)
{
    struct tally t = {name, 0, 0};
    for (uint64_t i = 0; i < n; i++) {
        struct x86_fpstatus st = x87_config(i);
        floatx80 a = gen_x80();
        floatx80 b = rnd_below(2) ? gen_x80_near(a) : gen_x80();
        size_t ia, ib;
        if (kind != BOUNDARY_NONE && rnd_below(4) == 0) {
            boundary_pairx80(kind, &a, &b);
        }
        if (pinned_pair(i, COUNT_OF(specialsx80), &ia, &ib)) {
            a = specialsx80[ia];
            b = specialsx80[ib];
        }
        uint16_t sw;
        floatx80 want = host(a, b, fcw_for(&st), &sw);
        floatx80 got = soft(a, b, &st);
        uint16_t got_sw = (uint16_t)(st.flags | (st.c1 ? X86_FSW_C1 : 0));
        uint16_t want_sw = sw & (FSW_EXCEPTIONS | X86_FSW_C1);
        if (tally_case(&t, x80_equal(got, want) && got_sw == want_sw)) {
            report_x80(name, a, b, &st);
            printf(": got %04x:%016" PRIx64 " sw %04x, host %04x:%016" PRIx64 " sw %04x\n",
                   got.sign_exp, got.mant, got_sw, want.sign_exp, want.mant, want_sw);
        }
    }
    tally_done(&t);
}

/* FPREM/FPREM1: the result and all four condition codes. */
static void test_prem_x87(uint64_t n)
{
    for (int nearest = 0; nearest < 2; nearest++) {
        struct tally t = {nearest ? "fprem1" : "fprem", 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = x87_config(i);
            floatx80 a = gen_x80();
            floatx80 b = rnd_below(2) ? gen_x80_near(a) : gen_x80();
            size_t ia, ib;
            if (pinned_pair(i, COUNT_OF(specialsx80), &ia, &ib)) {
                a = specialsx80[ia];
                b = specialsx80[ib];
            }
            uint16_t sw;
            uint16_t fsw;
            floatx80 want = (nearest ? host_fprem1 : host_fprem)(a, b, fcw_for(&st), &sw);
            floatx80 got = (nearest ? floatx80_prem1 : floatx80_prem)(a, b, &fsw, &st);
            uint16_t got_sw = (uint16_t)(st.flags | fsw);
            uint16_t want_sw =
                sw & (FSW_EXCEPTIONS | X86_FSW_C0 | X86_FSW_C1 | X86_FSW_C2 | X86_FSW_C3);
            if (tally_case(&t, x80_equal(got, want) && got_sw == want_sw)) {
                report_x80(t.name, a, b, &st);
                printf(": got %04x:%016" PRIx64 " sw %04x, host %04x:%016" PRIx64 " sw %04x\n",
                       got.sign_exp, got.mant, got_sw, want.sign_exp, want.mant, want_sw);
            }
        }
        tally_done(&t);
    }
}

static void test_fxtract(uint64_t n)
{
    struct tally t = {"fxtract", 0, 0};
    for (uint64_t i = 0; i < n; i++) {
        struct x86_fpstatus st = x87_config(i);
        floatx80 a = gen_x80();
        size_t ia;
        if (pinned_one(i, COUNT_OF(specialsx80), &ia)) {
            a = specialsx80[ia];
        }
        uint16_t sw;
        floatx80 want_e, want_m, got_e, got_m;
        host_fxtract(a, fcw_for(&st), &want_e, &want_m, &sw);
        floatx80_extract(a, &got_e, &got_m, &st);
        uint16_t got_sw = (uint16_t)(st.flags | (st.c1 ? X86_FSW_C1 : 0));
        uint16_t want_sw = sw & (FSW_EXCEPTIONS | X86_FSW_C1);
        if (tally_case(&t,
                       x80_equal(got_e, want_e) && x80_equal(got_m, want_m) && got_sw == want_sw)) {
            report_x80(t.name, a, a, &st);
            printf(": got %04x:%016" PRIx64 " %04x:%016" PRIx64 " sw %04x, host %04x:%016" PRIx64
                   " %04x:%016" PRIx64 " sw %04x\n",
                   got_e.sign_exp, got_e.mant, got_m.sign_exp, got_m.mant, got_sw, want_e.sign_exp,
                   want_e.mant, want_m.sign_exp, want_m.mant, want_sw);
        }
    }
    tally_done(&t);
}

/* FADD m32, FMUL m64, FDIVR m32, FSUBR m64, FCOM m32, FCOM m64: a memory operand. */
static void test_memop_x87(uint64_t n)
{
    static const char *const names[6] = {"fadd m32",  "fmul m64", "fdivr m32",
                                         "fsubr m64", "fcom m32", "fcom m64"};
    for (int kind = 0; kind < 6; kind++) {
        struct tally t = {names[kind], 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = x87_config(i);
            uint16_t cw = fcw_for(&st);
            floatx80 a = gen_x80();
            bool m64 = kind == 1 || kind == 3 || kind == 5;
            uint64_t m = m64 ? gen_ieee(52, 11) : gen_ieee(23, 8);
            size_t ia, ib;
            if (pinned_pair(i, COUNT_OF(specialsx80), &ia, &ib)) {
                a = specialsx80[ia];
                m = m64 ? specials64[ib % COUNT_OF(specials64)]
                        : specials32[ib % COUNT_OF(specials32)];
            }
            uint16_t sw;
            uint16_t codes = 0;
            floatx80 want, got = a;
            switch (kind) {
            case 0:
                want = host_fadd_m32(a, (uint32_t)m, cw, &sw);
                got = floatx80_arith_f32(X87_ADD, a, (float32)m, false, &st);
                break;
            case 1:
                want = host_fmul_m64(a, m, cw, &sw);
                got = floatx80_arith_f64(X87_MUL, a, m, false, &st);
                break;
            case 2:
                want = host_fdivr_m32(a, (uint32_t)m, cw, &sw);
                got = floatx80_arith_f32(X87_DIV, a, (float32)m, true, &st);
                break;
            case 3:
                want = host_fsubr_m64(a, m, cw, &sw);
                got = floatx80_arith_f64(X87_SUB, a, m, true, &st);
                break;
            case 4:
                want = host_fcom_m32(a, (uint32_t)m, cw, &sw);
                codes = x86_relation_fsw(floatx80_compare_f32(a, (float32)m, true, &st));
                break;
            default:
                want = host_fcom_m64(a, m, cw, &sw);
                codes = x86_relation_fsw(floatx80_compare_f64(a, m, true, &st));
                break;
            }
            uint16_t got_sw = (uint16_t)(st.flags | (st.c1 ? X86_FSW_C1 : 0) | codes);
            uint16_t want_sw = sw & (FSW_EXCEPTIONS | X86_FSW_C1 |
                                     (kind >= 4 ? X86_FSW_C0 | X86_FSW_C2 | X86_FSW_C3 : 0));
            if (tally_case(&t, x80_equal(got, want) && got_sw == want_sw)) {
                report_x80(t.name, a, (floatx80){m, 0}, &st);
                printf(": got %04x:%016" PRIx64 " sw %04x, host %04x:%016" PRIx64 " sw %04x\n",
                       got.sign_exp, got.mant, got_sw, want.sign_exp, want.mant, want_sw);
            }
        }
        tally_done(&t);
    }
}

/* ---- x87 transcendentals: measured, not promised ---------------------------------------- */

/* Position of a floatx80 in the ordered set of values, so that neighbours differ by one. */
static __int128 x80_ordinal(floatx80 a)
{
    uint32_t exp = a.sign_exp & 0x7fff;
    __int128 key =
        exp == 0 ? (__int128)a.mant : (__int128)(exp - 1) * ((__int128)1 << 63) + (__int128)a.mant;
    return (a.sign_exp & 0x8000) ? -key : key;
}

/* One transcendental's tally: bit-identical results (value, flags, C1, C2), results within
 * one ulp of the host's with the same exception flags, and the rest. */
struct trans_tally {
    const char *name;
    uint64_t cases;
    uint64_t identical;
    uint64_t within_ulp;
    uint64_t special_cases;
    uint64_t special_identical;
    uint64_t outside_cases;
    uint64_t outside_identical;
    uint64_t bad;
};

static void trans_case(struct trans_tally *t, floatx80 a, floatx80 b, const floatx80 *got,
                       const floatx80 *want, int nresults, uint16_t got_sw, uint16_t want_sw,
                       bool special, const struct x86_fpstatus *st)
{
    bool same = got_sw == want_sw;
    bool close = (got_sw & FSW_EXCEPTIONS) == (want_sw & FSW_EXCEPTIONS) &&
                 (got_sw & X86_FSW_C2) == (want_sw & X86_FSW_C2);
    for (int i = 0; i < nresults; i++) {
        if (!x80_equal(got[i], want[i])) {
            same = false;
            __int128 d = x80_ordinal(got[i]) - x80_ordinal(want[i]);
            if (special || !x80_finite_nonzero(got[i]) || !x80_finite_nonzero(want[i]) ||
                x80_is_nan_or_unsupported(got[i]) || d > 1 || d < -1) {
                close = false;
            }
        }
    }
    if (special) {
        t->special_cases++;
        t->special_identical += same;
    } else {
        t->cases++;
    }
    if (same) {
        t->identical += !special;
    } else if (close) {
        t->within_ulp++;
    } else {
        t->bad++;
        if (t->bad <= MAX_REPORTS) {
            report_x80(t->name, a, b, st);
            printf(": got %04x:%016" PRIx64 " sw %04x, host %04x:%016" PRIx64 " sw %04x\n",
                   got[0].sign_exp, got[0].mant, got_sw, want[0].sign_exp, want[0].mant, want_sw);
        }
    }
}

static void trans_done(const struct trans_tally *t)
{
    printf("  %s: %" PRIu64 " of %" PRIu64 " results for finite nonzero operands bit-identical to "
           "the host (%.4f%%), %" PRIu64
           " more within 1 ulp with the same exception flags, %" PRIu64 " neither; %" PRIu64
           " of %" PRIu64 " with special operands identical\n",
           t->name, t->identical, t->cases,
           t->cases ? 100.0 * (double)t->identical / (double)t->cases : 0.0, t->within_ulp, t->bad,
           t->special_identical, t->special_cases);
    if (t->outside_cases) {
        printf("  %s: outside the SDM's domain, where the result is undefined: %" PRIu64
               " of %" PRIu64 " identical to the host (not required)\n",
               t->name, t->outside_identical, t->outside_cases);
    }
    UNIT_CHECK(t->bad == 0, t->name,
               "%" PRIu64 " results more than 1 ulp from the host or with other flags", t->bad);
}

/* F2XM1 is defined for |a| <= 1 and FYL2XP1 for |x| < 1 - sqrt(2)/2 (finite operands). */
static bool outside_domain(int kind, floatx80 a)
{
    uint32_t exp = a.sign_exp & 0x7fff;
    if (!x80_finite_nonzero(a) || x80_is_nan_or_unsupported(a) || exp == 0) {
        return false;
    }
    if (kind == 0) {
        return exp > 0x3fff || (exp == 0x3fff && a.mant != 1ull << 63);
    }
    if (kind == 2) {
        return exp > 0x3ffd || (exp == 0x3ffd && a.mant >= 0x95f619980c4336f7ull);
    }
    return false;
}

/* Case i < pinned: special i >> 4 as a, or pair i >> 4 as (a, b). */
static void pin_trans(uint64_t i, uint64_t pinned, bool two, floatx80 *a, floatx80 *b)
{
    size_t ia, ib;
    if (i >= pinned) {
        return;
    }
    if (two && pinned_pair(i, COUNT_OF(specialsx80), &ia, &ib)) {
        *a = specialsx80[ia];
        *b = specialsx80[ib];
    } else if (!two && pinned_one(i, COUNT_OF(specialsx80), &ia)) {
        *a = specialsx80[ia];
    }
}

static void test_transcendentals(uint64_t n)
{
    static const char *const names[8] = {"f2xm1", "fyl2x", "fyl2xp1", "fpatan",
                                         "fsin",  "fcos",  "fsincos", "fptan"};
    for (int kind = 0; kind < 8; kind++) {
        struct trans_tally t = {names[kind], 0, 0, 0, 0, 0, 0, 0, 0};
        /* first every special (pair) under the 16 control combinations, then n random cases */
        bool two = kind >= 1 && kind <= 3;
        uint64_t pinned = 16 * (uint64_t)COUNT_OF(specialsx80) * (two ? COUNT_OF(specialsx80) : 1);
        for (uint64_t i = 0; i < n + pinned; i++) {
            struct x86_fpstatus st = x87_config(i);
            uint16_t cw = fcw_for(&st);
            bool special_a, special_b = false;
            floatx80 a, b = {1ull << 63, 0x3fff};
            floatx80 got[2], want[2];
            uint16_t sw, fsw = 0;
            int nresults = 1;
            switch (kind) {
            case 0:
                a = gen_trans(-70, -1, &special_a);
                pin_trans(i, pinned, two, &a, &b);
                want[0] = host_f2xm1(a, b, cw, &sw);
                got[0] = floatx80_f2xm1(a, &st);
                break;
            case 1:
                a = gen_trans(-16000, 16000, &special_a);
                if (rnd_below(2)) {
                    a.sign_exp &= 0x7fff;
                }
                if (rnd_below(4) == 0) {
                    a.sign_exp = (uint16_t)(16383 - rnd_below(2)); /* near 1 */
                }
                b = gen_trans(-100, 100, &special_b);
                pin_trans(i, pinned, two, &a, &b);
                want[0] = host_fyl2x(a, b, cw, &sw);
                got[0] = floatx80_fyl2x(a, b, &st);
                break;
            case 2:
                a = gen_trans(-70, -3, &special_a);
                b = gen_trans(-100, 100, &special_b);
                pin_trans(i, pinned, two, &a, &b);
                want[0] = host_fyl2xp1(a, b, cw, &sw);
                got[0] = floatx80_fyl2xp1(a, b, &st);
                break;
            case 3:
                a = gen_trans(-100, 100, &special_a);
                b = rnd_below(2) ? gen_trans(-100, 100, &special_b) : gen_x80_near(a);
                pin_trans(i, pinned, two, &a, &b);
                want[0] = host_fpatan(a, b, cw, &sw);
                got[0] = floatx80_fpatan(a, b, &st);
                break;
            case 4:
            case 5:
                a = gen_trans(-40, 64, &special_a);
                want[0] = (kind == 4 ? host_fsin : host_fcos)(a, b, cw, &sw);
                got[0] = a;
                if (!(kind == 4 ? floatx80_sin : floatx80_cos)(a, &got[0], &st)) {
                    fsw = X86_FSW_C2;
                }
                break;
            case 6:
                a = gen_trans(-40, 64, &special_a);
                pin_trans(i, pinned, two, &a, &b);
                host_fsincos(a, b, cw, &want[0], &want[1], &sw);
                nresults = 2;
                if (!floatx80_sincos(a, &got[1], &got[0], &st)) {
                    fsw = X86_FSW_C2;
                    got[0] = a;
                    got[1] = b;
                }
                break;
            default:
                a = gen_trans(-40, 64, &special_a);
                pin_trans(i, pinned, two, &a, &b);
                host_fptan(a, b, cw, &want[0], &want[1], &sw);
                nresults = 2;
                if (!floatx80_tan(a, &got[1], &got[0], &st)) {
                    fsw = X86_FSW_C2;
                    got[0] = a;
                    got[1] = b;
                }
                break;
            }
            uint16_t got_sw = (uint16_t)(st.flags | (st.c1 ? X86_FSW_C1 : 0) | fsw);
            uint16_t want_sw = sw & (FSW_EXCEPTIONS | X86_FSW_C1 | X86_FSW_C2);
            /* special: an operand that is not a finite nonzero number (kind 0 and 4-7 have a
             * dummy b of 1.0) */
            bool special = x80_is_nan_or_unsupported(a) || !x80_finite_nonzero(a) ||
                           x80_is_nan_or_unsupported(b) || !x80_finite_nonzero(b);
            (void)special_a;
            (void)special_b;
            if (getenv("COREMU_SOFTFLOAT_VERBOSE") &&
                !(x80_equal(got[0], want[0]) && got_sw == want_sw)) {
                report_x80(t.name, a, b, &st);
                printf(": got %04x:%016" PRIx64 " sw %04x, host %04x:%016" PRIx64 " sw %04x\n",
                       got[0].sign_exp, got[0].mant, got_sw, want[0].sign_exp, want[0].mant,
                       want_sw);
            }
            if (outside_domain(kind, a)) {
                /* the SDM leaves these undefined: counted, not required */
                t.outside_cases++;
                t.outside_identical += x80_equal(got[0], want[0]) &&
                                       (nresults < 2 || x80_equal(got[1], want[1])) &&
                                       got_sw == want_sw;
                continue;
            }
            trans_case(&t, a, b, got, want, nresults, got_sw, want_sw, special, &st);
        }
        trans_done(&t);
    }
}

/* Overflow and underflow unmasked (the other exceptions stay masked): the x87 keeps the
 * rounded result with its exponent moved by 24576 and raises UE for exact tiny results too;
 * FST m32/m64 store nothing, so only their flags are compared. */
static void test_unmasked_x87(uint64_t n)
{
    static const char *const names[8] = {"fadd unmasked",   "fmul unmasked",    "fdiv unmasked",
                                         "fscale unmasked", "fst m32 unmasked", "fst m64 unmasked",
                                         "fprem unmasked",  "fprem1 unmasked"};
    static const enum boundary_kind kinds[4] = {BOUNDARY_ADD, BOUNDARY_MUL, BOUNDARY_DIV,
                                                BOUNDARY_NONE};
    static const uint8_t unmasked[3] = {X86_FLAG_UE, X86_FLAG_OE, X86_FLAG_UE | X86_FLAG_OE};
    for (int kind = 0; kind < 8; kind++) {
        struct tally t = {names[kind], 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = x87_config(i);
            uint16_t fsw = 0;
            st.unmasked = unmasked[(i >> 4) % 3];
            uint16_t cw = (uint16_t)(fcw_for(&st) & ~st.unmasked);
            floatx80 a = gen_x80();
            floatx80 b = rnd_below(2) ? gen_x80_near(a) : gen_x80();
            if (kind < 3 && rnd_below(2)) {
                boundary_pairx80(kinds[kind], &a, &b);
            }
            if (kind == 3 && rnd_below(2)) {
                /* scale next to the thresholds */
                int e = (int)rnd_below(2)
                            ? 16383 - (int)(a.sign_exp & 0x7fff) + (int)rnd_below(80)
                            : -16382 - (int)(a.sign_exp & 0x7fff) + 16383 - (int)rnd_below(80);
                b = int64_to_floatx80(e);
            }
            if (kind >= 6 && rnd_below(4) == 0) {
                /* a denormal dividend, and a divisor that leaves it alone or a tiny remainder */
                a.sign_exp &= 0x8000;
                a.mant >>= 1 + rnd_below(63);
                if (rnd_below(2)) {
                    b = (floatx80){1ull << 63, (uint16_t)(b.sign_exp | 0x7fff)};
                }
            }
            uint16_t sw;
            floatx80 want = {0, 0}, got = {0, 0};
            switch (kind) {
            case 0:
                want = host_fadd_nowait(a, b, cw, &sw);
                got = floatx80_add(a, b, &st);
                break;
            case 1:
                want = host_fmul_nowait(a, b, cw, &sw);
                got = floatx80_mul(a, b, &st);
                break;
            case 2:
                want = host_fdiv_nowait(a, b, cw, &sw);
                got = floatx80_div(a, b, &st);
                break;
            case 3:
                want = host_fscale_nowait(a, b, cw, &sw);
                got = floatx80_scale(a, b, &st);
                break;
            case 4:
                host_fst32(a, cw, &sw);
                floatx80_to_float32(a, &st);
                break;
            case 5:
                host_fst64(a, cw, &sw);
                floatx80_to_float64(a, &st);
                break;
            case 6:
                want = host_fprem_nowait(a, b, cw, &sw);
                got = floatx80_prem(a, b, &fsw, &st);
                break;
            default:
                want = host_fprem1_nowait(a, b, cw, &sw);
                got = floatx80_prem1(a, b, &fsw, &st);
                break;
            }
            uint16_t got_sw = (uint16_t)(st.flags | (st.c1 ? X86_FSW_C1 : 0) | fsw);
            uint16_t want_sw = sw & (FSW_EXCEPTIONS | X86_FSW_C1 |
                                     (kind >= 6 ? X86_FSW_C0 | X86_FSW_C2 | X86_FSW_C3 : 0));
            if (tally_case(&t, x80_equal(got, want) && got_sw == want_sw)) {
                report_x80(t.name, a, b, &st);
                printf(" unmasked %02x: got %04x:%016" PRIx64 " sw %04x, host %04x:%016" PRIx64
                       " sw %04x\n",
                       st.unmasked, got.sign_exp, got.mant, got_sw, want.sign_exp, want.mant,
                       want_sw);
            }
        }
        tally_done(&t);
    }
}

static void test_fxam(uint64_t n)
{
    struct tally t = {"fxam", 0, 0};
    for (uint64_t i = 0; i < n; i++) {
        struct x86_fpstatus st = x87_config(i);
        floatx80 a = gen_x80();
        size_t ia;
        if (pinned_one(i, COUNT_OF(specialsx80), &ia)) {
            a = specialsx80[ia];
        }
        uint16_t sw;
        host_fxam(a, a, fcw_for(&st), &sw);
        uint16_t got = floatx80_examine(a);
        uint16_t want = sw & (X86_FSW_C0 | X86_FSW_C1 | X86_FSW_C2 | X86_FSW_C3 | FSW_EXCEPTIONS);
        if (tally_case(&t, got == want)) {
            report_x80(t.name, a, a, &st);
            printf(": got sw %04x, host sw %04x\n", got, want);
        }
    }
    tally_done(&t);
}

static void test_compare_x87(uint64_t n)
{
    for (int signalling = 0; signalling < 2; signalling++) {
        struct tally t = {signalling ? "fcom" : "fucom", 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = x87_config(i);
            floatx80 a = gen_x80();
            floatx80 b = rnd_below(2) ? gen_x80_near(a) : gen_x80();
            size_t ia, ib;
            if (pinned_pair(i, COUNT_OF(specialsx80), &ia, &ib)) {
                a = specialsx80[ia];
                b = specialsx80[ib];
            }
            uint16_t sw;
            (signalling ? host_fcom : host_fucom)(a, b, fcw_for(&st), &sw);
            enum x86_relation rel = floatx80_compare(a, b, signalling, &st);
            uint16_t got_sw =
                (uint16_t)(st.flags | (st.c1 ? X86_FSW_C1 : 0) | x86_relation_fsw(rel));
            uint16_t want_sw =
                sw & (FSW_EXCEPTIONS | X86_FSW_C0 | X86_FSW_C1 | X86_FSW_C2 | X86_FSW_C3);
            if (tally_case(&t, got_sw == want_sw)) {
                report_x80(t.name, a, b, &st);
                printf(": got sw %04x, host sw %04x\n", got_sw, want_sw);
            }
        }
        tally_done(&t);
    }
}

static void test_store_x87(uint64_t n)
{
    static const char *const names[8] = {"fst m32",  "fst m64",    "fist m16",   "fist m32",
                                         "fist m64", "fisttp m16", "fisttp m32", "fisttp m64"};
    for (int kind = 0; kind < 8; kind++) {
        struct tally t = {names[kind], 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = x87_config(i);
            uint16_t cw = fcw_for(&st);
            floatx80 a = gen_x80();
            size_t ia;
            if (pinned_one(i, COUNT_OF(specialsx80), &ia)) {
                a = specialsx80[ia];
            }
            uint16_t sw;
            uint64_t want, got;
            switch (kind) {
            case 0:
                want = host_fst32(a, cw, &sw);
                got = floatx80_to_float32(a, &st);
                break;
            case 1:
                want = host_fst64(a, cw, &sw);
                got = floatx80_to_float64(a, &st);
                break;
            case 2:
                want = (uint64_t)host_fist16(a, cw, &sw);
                got = (uint64_t)floatx80_to_int16(a, &st);
                break;
            case 3:
                want = (uint64_t)host_fist32(a, cw, &sw);
                got = (uint64_t)floatx80_to_int32(a, &st);
                break;
            case 4:
                want = (uint64_t)host_fist64(a, cw, &sw);
                got = (uint64_t)floatx80_to_int64(a, &st);
                break;
            case 5:
                want = (uint64_t)host_fisttp16(a, cw, &sw);
                got = (uint64_t)floatx80_to_int16_trunc(a, &st);
                break;
            case 6:
                want = (uint64_t)host_fisttp32(a, cw, &sw);
                got = (uint64_t)floatx80_to_int32_trunc(a, &st);
                break;
            default:
                want = (uint64_t)host_fisttp64(a, cw, &sw);
                got = (uint64_t)floatx80_to_int64_trunc(a, &st);
                break;
            }
            uint16_t got_sw = (uint16_t)(st.flags | (st.c1 ? X86_FSW_C1 : 0));
            uint16_t want_sw = sw & (FSW_EXCEPTIONS | X86_FSW_C1);
            if (tally_case(&t, got == want && got_sw == want_sw)) {
                report_x80(t.name, a, a, &st);
                printf(": got %" PRIx64 " sw %04x, host %" PRIx64 " sw %04x\n", got, got_sw, want,
                       want_sw);
            }
        }
        tally_done(&t);
    }
}

static void test_load_x87(uint64_t n)
{
    static const char *const names[3] = {"fld m32", "fld m64", "fild m64"};
    for (int kind = 0; kind < 3; kind++) {
        struct tally t = {names[kind], 0, 0};
        for (uint64_t i = 0; i < n; i++) {
            struct x86_fpstatus st = x87_config(i);
            uint16_t cw = fcw_for(&st);
            uint16_t sw;
            floatx80 want, got;
            uint64_t a;
            size_t ia;
            switch (kind) {
            case 0:
                a = gen_ieee(23, 8);
                a = pinned_one(i, COUNT_OF(specials32), &ia) ? specials32[ia] : a;
                want = host_fld32((uint32_t)a, cw, &sw);
                got = float32_to_floatx80((float32)a, &st);
                break;
            case 1:
                a = gen_ieee(52, 11);
                a = pinned_one(i, COUNT_OF(specials64), &ia) ? specials64[ia] : a;
                want = host_fld64(a, cw, &sw);
                got = float64_to_floatx80(a, &st);
                break;
            default:
                a = (uint64_t)gen_int();
                want = host_fild64((int64_t)a, cw, &sw);
                got = int64_to_floatx80((int64_t)a);
                break;
            }
            uint16_t got_sw = (uint16_t)(st.flags | (st.c1 ? X86_FSW_C1 : 0));
            uint16_t want_sw = sw & (FSW_EXCEPTIONS | X86_FSW_C1);
            if (tally_case(&t, x80_equal(got, want) && got_sw == want_sw)) {
                printf("  %s(%" PRIx64 ")", t.name, a);
                describe(&st);
                printf(": got %04x:%016" PRIx64 " sw %04x, host %04x:%016" PRIx64 " sw %04x\n",
                       got.sign_exp, got.mant, got_sw, want.sign_exp, want.mant, want_sw);
            }
        }
        tally_done(&t);
    }
}

static void host_tests(uint64_t n)
{
    /* the transcendentals cost some 100 times more per case */
    uint64_t trans_n = n / 15 > 0 ? n / 15 : 1;

    test_binop32("addss", float32_add, host_addss, BOUNDARY_ADD, n);
    test_binop32("subss", float32_sub, host_subss, BOUNDARY_SUB, n);
    test_binop32("mulss", float32_mul, host_mulss, BOUNDARY_MUL, n);
    test_binop32("divss", float32_div, host_divss, BOUNDARY_DIV, n);
    test_binop32("sqrtss", soft_sqrt32, host_sqrtss, BOUNDARY_NONE, n);
    test_binop32("minss", float32_min, host_minss, BOUNDARY_NONE, n);
    test_binop32("maxss", float32_max, host_maxss, BOUNDARY_NONE, n);
    test_binop32("roundss", soft_round32, host_roundss_mx, BOUNDARY_NONE, n);
    test_binop64("addsd", float64_add, host_addsd, BOUNDARY_ADD, n);
    test_binop64("subsd", float64_sub, host_subsd, BOUNDARY_SUB, n);
    test_binop64("mulsd", float64_mul, host_mulsd, BOUNDARY_MUL, n);
    test_binop64("divsd", float64_div, host_divsd, BOUNDARY_DIV, n);
    test_binop64("sqrtsd", soft_sqrt64, host_sqrtsd, BOUNDARY_NONE, n);
    test_binop64("minsd", float64_min, host_minsd, BOUNDARY_NONE, n);
    test_binop64("maxsd", float64_max, host_maxsd, BOUNDARY_NONE, n);
    test_binop64("roundsd", soft_round64, host_roundsd_mx, BOUNDARY_NONE, n);
    test_compare_sse(n);
    test_to_int_sse(n);
    test_from_int_sse(n);
    test_convert_sse(n);
    /* every faulting case costs a signal delivery: a fifth of the cases is plenty */
    test_unmasked_sse(n / 5 > 0 ? n / 5 : 1);

    test_binop_x80("fadd", floatx80_add, host_fadd, BOUNDARY_ADD, n);
    test_binop_x80("fsub", floatx80_sub, host_fsub, BOUNDARY_SUB, n);
    test_binop_x80("fmul", floatx80_mul, host_fmul, BOUNDARY_MUL, n);
    test_binop_x80("fdiv", floatx80_div, host_fdiv, BOUNDARY_DIV, n);
    test_binop_x80("fsqrt", soft_fsqrt, host_fsqrt, BOUNDARY_NONE, n);
    test_binop_x80("frndint", soft_frndint, host_frndint, BOUNDARY_NONE, n);
    test_binop_x80("fscale", floatx80_scale, host_fscale, BOUNDARY_NONE, n);
    test_prem_x87(n);
    test_fxtract(n);
    test_memop_x87(n);
    test_transcendentals(trans_n);
    test_compare_x87(n);
    test_fxam(n);
    test_unmasked_x87(n);
    test_store_x87(n);
    test_load_x87(n);
}

#endif /* __x86_64__ */

int main(int argc, char **argv)
{
    uint64_t n = DEFAULT_CASES;
    const char *env = getenv("COREMU_SOFTFLOAT_CASES");
    if (argc > 1 && strcmp(argv[1], "--print-digests") == 0) {
        print_digests();
        return 0;
    }
    if (argc > 1) {
        env = argv[1];
    }
    if (env) {
        char *end;
        n = strtoull(env, &end, 10);
        if (*env == '\0' || *end != '\0' || n == 0) {
            fprintf(stderr, "test_softfloat: cases must be a positive number, not '%s'\n", env);
            return 1;
        }
    }
#if defined(__x86_64__)
    host_tests(n);
#else
    (void)n;
    printf("note: this host is not x86_64, so there is no host FPU to compare with; only the "
           "digests taken on x86_64 are checked\n");
#endif
    check_digests();
    return unit_done();
}
