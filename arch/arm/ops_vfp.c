/*
 * coremu ARM — VFPv3-D32 + VFPv4 handlers (ARM ARM DDI 0406C, A2.7 and the VFP instructions of
 * chapter A8).
 *
 * The arithmetic is done in software, following the ARM ARM pseudocode (FPUnpack, FPRound,
 * FPAdd, FPMul, FPMulAdd, FPDiv, FPSqrt, FPCompare, FPToFixed, FixedToFP, the conversions)
 * rather than on the host FPU: ARM detects tininess before rounding, flushes to zero on the
 * unrounded exponent, propagates NaNs in its own operand order and returns its own default
 * NaN, none of which a host FPU does the ARM way. Working on integers also means no host
 * floating-point environment is ever touched, so nothing can leak between the guest cores'
 * threads, and results do not depend on the host architecture.
 *
 * Values are carried unpacked: a sign, an exponent e and a 64-bit significand whose bit 63 is
 * set, meaning sig / 2^63 * 2^e (the pseudocode's mantissa and exponent). Intermediate results
 * wider than 64 bits are reduced with a "jam" (sticky) shift: every bit shifted out is ORed
 * into bit 0. The final rounding position is always at least 11 bits above bit 0, so a jammed
 * value rounds exactly as the infinitely precise one would, and is inexact exactly when it is.
 */
#include <stdbool.h>
#include <stdint.h>

#include "ops.h"

typedef unsigned __int128 u128;

/* ---- the access checks ---------------------------------------------------------------------- */

/*
 * CheckVFPEnabled: CPACR.cp10 (cp11 must match it; the pseudocode reads cp10) grants PL0 and
 * PL1 (0b11) or PL1 only (0b01); 0b00 and the reserved 0b10 deny. FPEXC.EN must be set too,
 * except for the VMRS/VMSR of the system registers (Linux enables VFP lazily by trapping the
 * first VFP instruction of a thread, then writes FPEXC.EN with VFP still disabled).
 */
static inline void vfp_check_cpacr(struct arm_cpu *cpu, const struct arm_uop *op)
{
    unsigned cp10 = (cpu->cp15.cpacr >> 20) & 3;
    if (cp10 == 3 || (cp10 == 1 && arm_cpu_privileged(cpu))) {
        return;
    }
    arm_undefined(cpu, op);
}

static inline void vfp_check(struct arm_cpu *cpu, const struct arm_uop *op)
{
    vfp_check_cpacr(cpu, op);
    if (!(cpu->fpexc & ARM_FPEXC_EN)) {
        arm_undefined(cpu, op);
    }
}

/* ---- register file --------------------------------------------------------------------------- */

static inline uint32_t sreg(const struct arm_cpu *cpu, unsigned n)
{
    return (uint32_t)(cpu->d[n >> 1] >> ((n & 1) * 32));
}

static inline void set_sreg(struct arm_cpu *cpu, unsigned n, uint32_t value)
{
    unsigned shift = (n & 1) * 32;
    cpu->d[n >> 1] = (cpu->d[n >> 1] & ~((uint64_t)0xffffffffu << shift)) |
                     ((uint64_t)value << shift);
}

/* Register n of a bank of width w (32: S registers, 64: D registers). */
static inline uint64_t vreg(const struct arm_cpu *cpu, unsigned n, unsigned w)
{
    return w == 64 ? cpu->d[n] : sreg(cpu, n);
}

static inline void set_vreg(struct arm_cpu *cpu, unsigned n, unsigned w, uint64_t value)
{
    if (w == 64) {
        cpu->d[n] = value;
    } else {
        set_sreg(cpu, n, (uint32_t)value);
    }
}

/* ---- formats --------------------------------------------------------------------------------- */

/* Exponent and fraction widths of the half (16), single (32) and double (64) formats. */
static inline unsigned fmt_e(unsigned n)
{
    return n == 16 ? 5 : n == 32 ? 8 : 11;
}

static inline unsigned fmt_f(unsigned n)
{
    return n - fmt_e(n) - 1;
}

static inline uint64_t fmt_sign(unsigned n)
{
    return (uint64_t)1 << (n - 1);
}

static inline uint64_t fp_zero(bool sign, unsigned n)
{
    return sign ? fmt_sign(n) : 0;
}

static inline uint64_t fp_infinity(bool sign, unsigned n)
{
    return fp_zero(sign, n) | ((((uint64_t)1 << fmt_e(n)) - 1) << fmt_f(n));
}

static inline uint64_t fp_max_normal(bool sign, unsigned n)
{
    return fp_zero(sign, n) | ((((uint64_t)1 << fmt_e(n)) - 2) << fmt_f(n)) |
           (((uint64_t)1 << fmt_f(n)) - 1);
}

static inline uint64_t fp_default_nan(unsigned n)
{
    return fp_infinity(false, n) | ((uint64_t)1 << (fmt_f(n) - 1));
}

static inline uint64_t fp_neg(uint64_t x, unsigned n)
{
    return x ^ fmt_sign(n);
}

enum fp_type { FP_ZERO, FP_NONZERO, FP_INFINITY, FP_QNAN, FP_SNAN };

struct fp_unpacked {
    enum fp_type type;
    bool sign;
    int exp;      /* FP_NONZERO: value = sig / 2^63 * 2^exp */
    uint64_t sig; /* bit 63 set for FP_NONZERO, else 0 */
};

static inline bool is_nan(enum fp_type t)
{
    return t == FP_QNAN || t == FP_SNAN;
}

/* FPUnpack: FZ flushes single and double denormal inputs (not half ones), setting IDC. In the
 * alternative half-precision format (AHP) exponent 31 is an ordinary exponent. */
static struct fp_unpacked fp_unpack(uint64_t x, unsigned n, uint32_t *fpscr)
{
    unsigned e = fmt_e(n), f = fmt_f(n);
    int bias = (1 << (e - 1)) - 1;
    unsigned exp = (unsigned)(x >> f) & ((1u << e) - 1);
    uint64_t frac = x & (((uint64_t)1 << f) - 1);
    struct fp_unpacked v = { FP_ZERO, ((x >> (n - 1)) & 1) != 0, 0, 0 };

    if (exp == 0) {
        if (frac == 0) {
            return v;
        }
        if (n != 16 && (*fpscr & ARM_FPSCR_FZ)) {
            *fpscr |= ARM_FPSCR_IDC;
            return v;
        }
        unsigned lz = (unsigned)__builtin_clzll(frac);
        v.type = FP_NONZERO;
        v.sig = frac << lz;
        v.exp = 1 - bias - (int)f + (63 - (int)lz);
    } else if (exp == (1u << e) - 1 && !(n == 16 && (*fpscr & ARM_FPSCR_AHP))) {
        if (frac == 0) {
            v.type = FP_INFINITY;
        } else {
            v.type = ((frac >> (f - 1)) & 1) ? FP_QNAN : FP_SNAN;
        }
    } else {
        v.type = FP_NONZERO;
        v.sig = (((uint64_t)1 << f) | frac) << (63 - f);
        v.exp = (int)exp - bias;
    }
    return v;
}

static inline uint64_t shift_right_jam64(uint64_t x, unsigned s)
{
    if (s == 0) {
        return x;
    }
    if (s >= 64) {
        return x != 0;
    }
    return (x >> s) | ((x & (((uint64_t)1 << s) - 1)) != 0);
}

static inline u128 shift_right_jam128(u128 x, unsigned s)
{
    if (s == 0) {
        return x;
    }
    if (s >= 128) {
        return x != 0;
    }
    return (x >> s) | ((x & (((u128)1 << s) - 1)) != 0);
}

static inline unsigned clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? (unsigned)__builtin_clzll(hi) : 64 + (unsigned)__builtin_clzll((uint64_t)x);
}

/*
 * FPRound(value, N, FPSCR) for value = (-1)^sign * sig / 2^63 * 2^exp, sig normalized (bit 63
 * set) with the sticky bit jammed into bit 0. As the pseudocode: flush-to-zero and tininess
 * are decided on the exponent before rounding; Underflow is signalled only when the tiny
 * result is also inexact (untrapped); a flushed result sets UFC but not IXC.
 */
static uint64_t fp_round(bool sign, int exp, uint64_t sig, unsigned n, uint32_t *fpscr)
{
    unsigned e = fmt_e(n), f = fmt_f(n);
    int min_exp = 2 - (1 << (e - 1));
    uint32_t fp = *fpscr;

    if (n != 16 && (fp & ARM_FPSCR_FZ) && exp < min_exp) {
        *fpscr |= ARM_FPSCR_UFC;
        return fp_zero(sign, n);
    }
    int biased_exp = exp - min_exp + 1;
    if (biased_exp <= 0) {
        sig = shift_right_jam64(sig, (unsigned)(min_exp - exp));
        biased_exp = 0;
    }
    uint64_t int_mant = sig >> (63 - f);
    uint64_t error = sig & (((uint64_t)1 << (63 - f)) - 1);
    uint64_t half = (uint64_t)1 << (62 - f);
    if (biased_exp == 0 && error != 0) {
        *fpscr |= ARM_FPSCR_UFC;
    }

    bool round_up, overflow_to_inf;
    switch ((fp >> ARM_FPSCR_RMODE_SHIFT) & 3) {
    case 0: /* to nearest, ties to even */
        round_up = error > half || (error == half && (int_mant & 1));
        overflow_to_inf = true;
        break;
    case 1: /* towards plus infinity */
        round_up = error != 0 && !sign;
        overflow_to_inf = !sign;
        break;
    case 2: /* towards minus infinity */
        round_up = error != 0 && sign;
        overflow_to_inf = sign;
        break;
    default: /* towards zero */
        round_up = false;
        overflow_to_inf = false;
        break;
    }
    if (round_up) {
        int_mant++;
        if (int_mant == (uint64_t)1 << f) {
            biased_exp = 1; /* a denormal rounded up to the smallest normal */
        }
        if (int_mant == (uint64_t)1 << (f + 1)) {
            biased_exp++;
            int_mant >>= 1;
        }
    }

    uint64_t result;
    bool inexact = error != 0;
    if (n != 16 || !(fp & ARM_FPSCR_AHP)) {
        if (biased_exp >= (1 << e) - 1) {
            result = overflow_to_inf ? fp_infinity(sign, n) : fp_max_normal(sign, n);
            *fpscr |= ARM_FPSCR_OFC;
            inexact = true;
        } else {
            result = fp_zero(sign, n) | ((uint64_t)biased_exp << f) |
                     (int_mant & (((uint64_t)1 << f) - 1));
        }
    } else {
        /* Alternative half precision has no infinity: out of range is Invalid Operation. */
        if (biased_exp >= (1 << e)) {
            result = fp_zero(sign, n) | 0x7fff;
            *fpscr |= ARM_FPSCR_IOC;
            inexact = false;
        } else {
            result = fp_zero(sign, n) | ((uint64_t)biased_exp << f) |
                     (int_mant & (((uint64_t)1 << f) - 1));
        }
    }
    if (inexact) {
        *fpscr |= ARM_FPSCR_IXC;
    }
    return result;
}

/* FPRound of (-1)^sign * m * 2^(exp - 125), m != 0 of any width: m is brought to 64 bits with
 * the shifted-out bits jammed. */
static uint64_t fp_round_wide(bool sign, int exp, u128 m, unsigned n, uint32_t *fpscr)
{
    int msb = 127 - (int)clz128(m);
    uint64_t sig;
    if (msb >= 63) {
        sig = (uint64_t)shift_right_jam128(m, (unsigned)(msb - 63));
    } else {
        sig = (uint64_t)m << (63 - msb);
    }
    return fp_round(sign, exp + msb - 125, sig, n, fpscr);
}

/* A result that is exactly zero: its sign depends on the rounding mode (-0 only for RM). */
static inline uint64_t fp_exact_zero(unsigned n, uint32_t fpscr)
{
    return fp_zero(((fpscr >> ARM_FPSCR_RMODE_SHIFT) & 3) == 2, n);
}

/* ---- NaNs ------------------------------------------------------------------------------------ */

/* FPProcessNaN: quieten a signalling NaN (Invalid Operation), or DN's default NaN. */
static uint64_t fp_process_nan(enum fp_type t, uint64_t x, unsigned n, uint32_t *fpscr)
{
    if (t == FP_SNAN) {
        x |= (uint64_t)1 << (fmt_f(n) - 1);
        *fpscr |= ARM_FPSCR_IOC;
    }
    if (*fpscr & ARM_FPSCR_DN) {
        x = fp_default_nan(n);
    }
    return x;
}

/* FPProcessNaNs / FPProcessNaNs3: the first signalling NaN in operand order, else the first
 * quiet NaN. Returns false when no operand is a NaN. */
static bool fp_process_nans3(const struct fp_unpacked *v, const uint64_t *x, unsigned count,
                             unsigned n, uint32_t *fpscr, uint64_t *result)
{
    for (unsigned i = 0; i < count; i++) {
        if (v[i].type == FP_SNAN) {
            *result = fp_process_nan(FP_SNAN, x[i], n, fpscr);
            return true;
        }
    }
    for (unsigned i = 0; i < count; i++) {
        if (v[i].type == FP_QNAN) {
            *result = fp_process_nan(FP_QNAN, x[i], n, fpscr);
            return true;
        }
    }
    return false;
}

/* ---- arithmetic ------------------------------------------------------------------------------ */

/*
 * A wide value: (-1)^sign * m * 2^(exp - 125), with m < 2^126 so that a sum cannot carry out
 * of 128 bits. Inputs come with at least 20 zero bits at the bottom (a product of two 53-bit
 * significands has 106 bits), so the alignment shift of a sum only loses bits when the
 * exponents are far apart, and then there is no cancellation to expose the jammed bit.
 */
struct fp_wide {
    bool sign;
    int exp;
    u128 m;
};

static inline struct fp_wide wide_from(const struct fp_unpacked *v, bool negate)
{
    struct fp_wide w = { v->sign != negate, v->exp, (u128)v->sig << 62 };
    return w;
}

/* a + b, exactly or jammed; r.m == 0 when the sum is exactly zero. */
static struct fp_wide wide_add(struct fp_wide a, struct fp_wide b)
{
    if (b.m == 0) {
        return a;
    }
    if (a.m == 0) {
        return b;
    }
    if (a.exp < b.exp) {
        struct fp_wide t = a;
        a = b;
        b = t;
    }
    unsigned d = (unsigned)(a.exp - b.exp);
    b.m = shift_right_jam128(b.m, d > 200 ? 200 : d);
    struct fp_wide r = { a.sign, a.exp, 0 };
    if (a.sign == b.sign) {
        r.m = a.m + b.m;
    } else if (a.m >= b.m) {
        r.m = a.m - b.m;
    } else {
        r.m = b.m - a.m;
        r.sign = b.sign;
    }
    return r;
}

/* The exact product of two nonzero values, normalized back under 2^126. */
static struct fp_wide wide_mul(const struct fp_unpacked *a, const struct fp_unpacked *b,
                               bool negate)
{
    struct fp_wide r;
    u128 p = (u128)a->sig * b->sig; /* in [2^126, 2^128): value = p * 2^(ea + eb - 126) */
    r.sign = (a->sign != b->sign) != negate;
    r.exp = a->exp + b->exp - 1;
    /* Both significands have at least 11 zero low bits: the shift loses nothing. */
    int msb = 127 - (int)clz128(p);
    r.m = p >> (msb - 125);
    r.exp += msb - 125;
    return r;
}

/* The two operands of FPAdd, FPMul and FPDiv, unpacked, with what their special cases test. */
struct fp_operands {
    struct fp_unpacked v[2];
    bool inf1, inf2, zero1, zero2;
};

/* Unpacks op1 and op2 into *o; true, with the result in *result, when a NaN operand decides
 * it (FPProcessNaNs). */
static bool fp_operands(uint64_t op1, uint64_t op2, unsigned n, uint32_t *fpscr,
                        struct fp_operands *o, uint64_t *result)
{
    uint64_t x[2] = {op1, op2};
    o->v[0] = fp_unpack(op1, n, fpscr);
    o->v[1] = fp_unpack(op2, n, fpscr);
    if (fp_process_nans3(o->v, x, 2, n, fpscr, result)) {
        return true;
    }
    o->inf1 = o->v[0].type == FP_INFINITY;
    o->inf2 = o->v[1].type == FP_INFINITY;
    o->zero1 = o->v[0].type == FP_ZERO;
    o->zero2 = o->v[1].type == FP_ZERO;
    return false;
}

static uint64_t fp_add(uint64_t op1, uint64_t op2, bool subtract, unsigned n, uint32_t *fpscr)
{
    struct fp_operands o;
    uint64_t result;
    if (fp_operands(op1, op2, n, fpscr, &o, &result)) {
        return result;
    }
    /* FPSub is FPAdd with the second operand's sign flipped once NaNs are out of the way. */
    bool sign1 = o.v[0].sign, sign2 = o.v[1].sign != subtract;
    if (o.inf1 && o.inf2 && sign1 != sign2) {
        *fpscr |= ARM_FPSCR_IOC;
        return fp_default_nan(n);
    }
    if ((o.inf1 && !sign1) || (o.inf2 && !sign2)) {
        return fp_infinity(false, n);
    }
    if (o.inf1 || o.inf2) {
        return fp_infinity(true, n);
    }
    if (o.zero1 && o.zero2 && sign1 == sign2) {
        return fp_zero(sign1, n);
    }
    struct fp_wide r = wide_add(wide_from(&o.v[0], false), wide_from(&o.v[1], subtract));
    if (r.m == 0) {
        return fp_exact_zero(n, *fpscr);
    }
    return fp_round_wide(r.sign, r.exp, r.m, n, fpscr);
}

static uint64_t fp_mul(uint64_t op1, uint64_t op2, unsigned n, uint32_t *fpscr)
{
    struct fp_operands o;
    uint64_t result;
    if (fp_operands(op1, op2, n, fpscr, &o, &result)) {
        return result;
    }
    bool sign = o.v[0].sign != o.v[1].sign;
    if ((o.inf1 && o.zero2) || (o.zero1 && o.inf2)) {
        *fpscr |= ARM_FPSCR_IOC;
        return fp_default_nan(n);
    }
    if (o.inf1 || o.inf2) {
        return fp_infinity(sign, n);
    }
    if (o.zero1 || o.zero2) {
        return fp_zero(sign, n);
    }
    struct fp_wide r = wide_mul(&o.v[0], &o.v[1], false);
    return fp_round_wide(r.sign, r.exp, r.m, n, fpscr);
}

/* FPMulAdd(addend, op1, op2): addend + op1 * op2 with a single rounding. */
static uint64_t fp_muladd(uint64_t addend, uint64_t op1, uint64_t op2, unsigned n,
                          uint32_t *fpscr)
{
    uint64_t x[3] = { addend, op1, op2 };
    struct fp_unpacked v[3] = { fp_unpack(addend, n, fpscr), fp_unpack(op1, n, fpscr),
                                fp_unpack(op2, n, fpscr) };
    bool inf1 = v[1].type == FP_INFINITY, inf2 = v[2].type == FP_INFINITY;
    bool zero1 = v[1].type == FP_ZERO, zero2 = v[2].type == FP_ZERO;
    uint64_t result;
    bool done = fp_process_nans3(v, x, 3, n, fpscr, &result);
    /* A quiet NaN addend does not hide the Invalid Operation of infinity times zero. */
    if (v[0].type == FP_QNAN && ((inf1 && zero2) || (zero1 && inf2))) {
        *fpscr |= ARM_FPSCR_IOC;
        return fp_default_nan(n);
    }
    if (done) {
        return result;
    }
    bool inf_a = v[0].type == FP_INFINITY, zero_a = v[0].type == FP_ZERO;
    bool sign_a = v[0].sign, sign_p = v[1].sign != v[2].sign;
    bool inf_p = inf1 || inf2, zero_p = zero1 || zero2;
    if ((inf1 && zero2) || (zero1 && inf2) || (inf_a && inf_p && sign_a != sign_p)) {
        *fpscr |= ARM_FPSCR_IOC;
        return fp_default_nan(n);
    }
    if ((inf_a && !sign_a) || (inf_p && !sign_p)) {
        return fp_infinity(false, n);
    }
    if (inf_a || inf_p) {
        return fp_infinity(true, n);
    }
    if (zero_a && zero_p && sign_a == sign_p) {
        return fp_zero(sign_a, n);
    }
    struct fp_wide p = { sign_p, 0, 0 };
    if (!zero_p) {
        p = wide_mul(&v[1], &v[2], false);
    }
    struct fp_wide r = wide_add(wide_from(&v[0], false), p);
    if (r.m == 0) {
        return fp_exact_zero(n, *fpscr);
    }
    return fp_round_wide(r.sign, r.exp, r.m, n, fpscr);
}

static uint64_t fp_div(uint64_t op1, uint64_t op2, unsigned n, uint32_t *fpscr)
{
    struct fp_operands o;
    uint64_t result;
    if (fp_operands(op1, op2, n, fpscr, &o, &result)) {
        return result;
    }
    bool sign = o.v[0].sign != o.v[1].sign;
    if ((o.inf1 && o.inf2) || (o.zero1 && o.zero2)) {
        *fpscr |= ARM_FPSCR_IOC;
        return fp_default_nan(n);
    }
    if (o.inf1 || o.zero2) {
        if (!o.inf1) {
            *fpscr |= ARM_FPSCR_DZC;
        }
        return fp_infinity(sign, n);
    }
    if (o.zero1 || o.inf2) {
        return fp_zero(sign, n);
    }
    /* q = sig1 * 2^64 / sig2 lies in (2^63, 2^65): at least 64 significant bits. */
    u128 num = (u128)o.v[0].sig << 64;
    u128 q = num / o.v[1].sig;
    bool rem = q * o.v[1].sig != num;
    return fp_round_wide(sign, o.v[0].exp - o.v[1].exp + 61, q | rem, n, fpscr);
}

/* floor(sqrt(x)) for x < 2^128, bit by bit from the top. */
static uint64_t isqrt128(u128 x)
{
    uint64_t r = 0;
    for (int i = 63; i >= 0; i--) {
        uint64_t c = r | ((uint64_t)1 << i);
        if ((u128)c * c <= x) {
            r = c;
        }
    }
    return r;
}

static uint64_t fp_sqrt(uint64_t op, unsigned n, uint32_t *fpscr)
{
    struct fp_unpacked v = fp_unpack(op, n, fpscr);
    if (is_nan(v.type)) {
        return fp_process_nan(v.type, op, n, fpscr);
    }
    if (v.type == FP_ZERO) {
        return fp_zero(v.sign, n);
    }
    if (v.type == FP_INFINITY && !v.sign) {
        return fp_infinity(false, n);
    }
    if (v.sign) {
        *fpscr |= ARM_FPSCR_IOC;
        return fp_default_nan(n);
    }
    /* value = sig * 2^t; make the power of two even so that it halves exactly. */
    int t = v.exp - 63;
    u128 x;
    int k;
    if ((t & 1) == 0) {
        x = (u128)v.sig << 64;
        k = (t - 64) / 2;
    } else {
        x = (u128)v.sig << 63;
        k = (t - 63) / 2;
    }
    uint64_t r = isqrt128(x);
    bool inexact = (u128)r * r != x;
    return fp_round_wide(false, k + 125, (u128)(r | inexact), n, fpscr);
}

/* FPCompare: NZCV as FPSCR bits 31..28. */
static uint32_t fp_compare(uint64_t op1, uint64_t op2, bool quiet_nan_exc, unsigned n,
                           uint32_t *fpscr)
{
    struct fp_unpacked a = fp_unpack(op1, n, fpscr), b = fp_unpack(op2, n, fpscr);
    if (is_nan(a.type) || is_nan(b.type)) {
        if (a.type == FP_SNAN || b.type == FP_SNAN || quiet_nan_exc) {
            *fpscr |= ARM_FPSCR_IOC;
        }
        return ARM_FLAG_C | ARM_FLAG_V;
    }
    /* Order the values: infinities outrank every finite exponent; zeros are equal. */
    int cmp;
    bool z1 = a.type == FP_ZERO, z2 = b.type == FP_ZERO;
    if (z1 && z2) {
        cmp = 0;
    } else if (a.sign != b.sign) {
        cmp = a.sign ? -1 : 1;
        if (z1) {
            cmp = b.sign ? 1 : -1;
        } else if (z2) {
            cmp = a.sign ? -1 : 1;
        }
    } else {
        /* Same sign, not both zero: compare magnitudes, then apply the sign. */
        int mag;
        if (z1) {
            mag = -1;
        } else if (z2) {
            mag = 1;
        } else if (a.type == FP_INFINITY || b.type == FP_INFINITY) {
            mag = (a.type == FP_INFINITY) - (b.type == FP_INFINITY);
        } else if (a.exp != b.exp) {
            mag = a.exp < b.exp ? -1 : 1;
        } else {
            mag = a.sig < b.sig ? -1 : a.sig > b.sig;
        }
        cmp = a.sign ? -mag : mag;
    }
    if (cmp == 0) {
        return ARM_FLAG_Z | ARM_FLAG_C;
    }
    return cmp < 0 ? ARM_FLAG_N : ARM_FLAG_C;
}

/* FPConvert between formats (FPSingleToDouble, FPDoubleToSingle, FPHalfToSingle,
 * FPSingleToHalf). */
static uint64_t fp_convert(uint64_t x, unsigned from, unsigned to, uint32_t *fpscr)
{
    struct fp_unpacked v = fp_unpack(x, from, fpscr);
    bool ahp_out = to == 16 && (*fpscr & ARM_FPSCR_AHP);
    switch (v.type) {
    case FP_QNAN:
    case FP_SNAN: {
        uint64_t r;
        if (ahp_out) {
            r = fp_zero(v.sign, to);
            *fpscr |= ARM_FPSCR_IOC;
        } else if (*fpscr & ARM_FPSCR_DN) {
            r = fp_default_nan(to);
        } else {
            /* The payload below the quiet bit, aligned at the top of the new fraction. */
            unsigned ff = fmt_f(from), ft = fmt_f(to);
            uint64_t frac = x & (((uint64_t)1 << (ff - 1)) - 1);
            frac = ft > ff ? frac << (ft - ff) : frac >> (ff - ft);
            r = fp_default_nan(to) | fp_zero(v.sign, to) | frac;
        }
        if (v.type == FP_SNAN) {
            *fpscr |= ARM_FPSCR_IOC;
        }
        return r;
    }
    case FP_INFINITY:
        if (ahp_out) {
            *fpscr |= ARM_FPSCR_IOC;
            return fp_zero(v.sign, to) | 0x7fff;
        }
        return fp_infinity(v.sign, to);
    case FP_ZERO:
        return fp_zero(v.sign, to);
    default:
        return fp_round(v.sign, v.exp, v.sig, to, fpscr);
    }
}

/*
 * FPToFixed: to an m-bit (16 or 32) integer with fbits fraction bits, saturating. NaNs give 0
 * and Invalid Operation; out of range (infinities included) saturates with Invalid Operation,
 * which then hides Inexact.
 */
static uint32_t fp_to_fixed(uint64_t x, unsigned n, unsigned m, unsigned fbits, bool is_unsigned,
                            bool round_to_zero, uint32_t *fpscr)
{
    uint32_t fp = *fpscr;
    if (round_to_zero) {
        fp |= 3u << ARM_FPSCR_RMODE_SHIFT;
    }
    struct fp_unpacked v = fp_unpack(x, n, &fp);
    int64_t int_result = 0;
    bool frac_zero = true;
    int frac_vs_half = 0; /* the fraction of |value| compared with 1/2 */
    bool huge = false;

    if (is_nan(v.type)) {
        fp |= ARM_FPSCR_IOC;
    } else if (v.type == FP_INFINITY) {
        huge = true;
    } else if (v.type == FP_NONZERO) {
        /* |value| * 2^fbits = sig * 2^sh */
        int sh = v.exp - 63 + (int)fbits;
        if (v.exp + (int)fbits >= 40) {
            huge = true; /* at least 2^40: out of range of every destination */
        } else {
            uint64_t mag;
            unsigned s = (unsigned)-sh; /* >= 24 */
            if (s >= 64) {
                mag = 0;
                frac_zero = false;
                if (s == 64) {
                    frac_vs_half = v.sig > ((uint64_t)1 << 63) ? 1 : v.sig == ((uint64_t)1 << 63)
                                                                         ? 0
                                                                         : -1;
                } else {
                    frac_vs_half = -1;
                }
            } else {
                mag = v.sig >> s;
                uint64_t frac = v.sig & (((uint64_t)1 << s) - 1);
                uint64_t half = (uint64_t)1 << (s - 1);
                frac_zero = frac == 0;
                frac_vs_half = frac > half ? 1 : frac == half ? 0 : -1;
            }
            /* RoundDown of the signed value, and the error against it. */
            if (!v.sign) {
                int_result = (int64_t)mag;
            } else if (frac_zero) {
                int_result = -(int64_t)mag;
            } else {
                int_result = -(int64_t)mag - 1;
                frac_vs_half = -frac_vs_half; /* error = 1 - fraction */
            }
        }
    }

    bool overflow = false;
    uint32_t result;
    if (huge) {
        overflow = true;
        int_result = v.sign ? INT64_MIN / 2 : INT64_MAX / 2;
    } else {
        bool round_up;
        switch ((fp >> ARM_FPSCR_RMODE_SHIFT) & 3) {
        case 0:
            round_up = !frac_zero && (frac_vs_half > 0 || (frac_vs_half == 0 && (int_result & 1)));
            break;
        case 1:
            round_up = !frac_zero;
            break;
        case 2:
            round_up = false;
            break;
        default:
            round_up = !frac_zero && int_result < 0;
            break;
        }
        if (round_up) {
            int_result++;
        }
    }
    int64_t lo = is_unsigned ? 0 : -((int64_t)1 << (m - 1));
    int64_t hi = is_unsigned ? ((int64_t)1 << m) - 1 : ((int64_t)1 << (m - 1)) - 1;
    if (int_result < lo) {
        int_result = lo;
        overflow = true;
    } else if (int_result > hi) {
        int_result = hi;
        overflow = true;
    }
    result = (uint32_t)int_result;
    if (overflow) {
        fp |= ARM_FPSCR_IOC;
    } else if (!frac_zero) {
        fp |= ARM_FPSCR_IXC;
    }
    /* Only the flags go back: the rounding mode override was for this conversion alone. */
    *fpscr |= fp & (ARM_FPSCR_IOC | ARM_FPSCR_IXC | ARM_FPSCR_IDC);
    if (m == 16) {
        result = is_unsigned ? (result & 0xffff) : (uint32_t)(int32_t)(int16_t)result;
    }
    return result;
}

/* FixedToFP: an m-bit integer (in the low bits of x) with fbits fraction bits, rounded per
 * FPSCR or, for round_to_nearest, to nearest whatever FPSCR says. */
static uint64_t fixed_to_fp(uint64_t x, unsigned m, unsigned fbits, bool is_unsigned,
                            bool round_to_nearest, unsigned n, uint32_t *fpscr)
{
    if (round_to_nearest) {
        uint32_t fp = *fpscr & ~(3u << ARM_FPSCR_RMODE_SHIFT);
        uint64_t r = fixed_to_fp(x, m, fbits, is_unsigned, false, n, &fp);
        *fpscr |= fp & (ARM_FPSCR_IXC | ARM_FPSCR_OFC | ARM_FPSCR_UFC);
        return r;
    }
    uint64_t bits = x & (m == 64 ? ~(uint64_t)0 : (((uint64_t)1 << m) - 1));
    bool sign = false;
    uint64_t mag = bits;
    if (!is_unsigned && ((bits >> (m - 1)) & 1)) {
        sign = true;
        mag = ((uint64_t)1 << m) - bits;
    }
    if (mag == 0) {
        return fp_zero(false, n);
    }
    unsigned lz = (unsigned)__builtin_clzll(mag);
    return fp_round(sign, 63 - (int)lz - (int)fbits, mag << lz, n, fpscr);
}

/* ---- data-processing handlers --------------------------------------------------------------- */

enum vfp_op3 {
    OP_ADD, OP_SUB, OP_MUL, OP_NMUL, OP_DIV,
    OP_MLA, OP_MLS, OP_NMLA, OP_NMLS,
    OP_FMA, OP_FMS, OP_FNMA, OP_FNMS,
};

/* The three-register instructions, as the ARM ARM writes them: the negations are FPNeg (a
 * sign flip that also flips a NaN's sign), applied where the pseudocode applies them. */
static inline enum arm_uop_result vfp_op3(struct arm_cpu *cpu, const struct arm_uop *op,
                                          unsigned w, enum vfp_op3 kind)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    uint64_t d = vreg(cpu, op->rd, w), n = vreg(cpu, op->rn, w), m = vreg(cpu, op->rm, w);
    uint64_t r;
    switch (kind) {
    case OP_ADD:
        r = fp_add(n, m, false, w, &fpscr);
        break;
    case OP_SUB:
        r = fp_add(n, m, true, w, &fpscr);
        break;
    case OP_MUL:
        r = fp_mul(n, m, w, &fpscr);
        break;
    case OP_NMUL:
        r = fp_neg(fp_mul(n, m, w, &fpscr), w);
        break;
    case OP_DIV:
        r = fp_div(n, m, w, &fpscr);
        break;
    case OP_MLA:
        r = fp_add(d, fp_mul(n, m, w, &fpscr), false, w, &fpscr);
        break;
    case OP_MLS:
        r = fp_add(d, fp_neg(fp_mul(n, m, w, &fpscr), w), false, w, &fpscr);
        break;
    case OP_NMLA:
        r = fp_add(fp_neg(d, w), fp_neg(fp_mul(n, m, w, &fpscr), w), false, w, &fpscr);
        break;
    case OP_NMLS:
        r = fp_add(fp_neg(d, w), fp_mul(n, m, w, &fpscr), false, w, &fpscr);
        break;
    case OP_FMA:
        r = fp_muladd(d, n, m, w, &fpscr);
        break;
    case OP_FMS:
        r = fp_muladd(d, fp_neg(n, w), m, w, &fpscr);
        break;
    case OP_FNMA:
        r = fp_muladd(fp_neg(d, w), fp_neg(n, w), m, w, &fpscr);
        break;
    default: /* OP_FNMS */
        r = fp_muladd(fp_neg(d, w), n, m, w, &fpscr);
        break;
    }
    set_vreg(cpu, op->rd, w, r);
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

#define VFP_OP3(name, kind)                                                                    \
    ARM_OP(name##_f32)                                                                         \
    {                                                                                          \
        return vfp_op3(cpu, op, 32, kind);                                                     \
    }                                                                                          \
    ARM_OP(name##_f64)                                                                         \
    {                                                                                          \
        return vfp_op3(cpu, op, 64, kind);                                                     \
    }

VFP_OP3(VADD, OP_ADD)
VFP_OP3(VSUB, OP_SUB)
VFP_OP3(VMUL, OP_MUL)
VFP_OP3(VNMUL, OP_NMUL)
VFP_OP3(VDIV, OP_DIV)
VFP_OP3(VMLA, OP_MLA)
VFP_OP3(VMLS, OP_MLS)
VFP_OP3(VNMLA, OP_NMLA)
VFP_OP3(VNMLS, OP_NMLS)
VFP_OP3(VFMA, OP_FMA)
VFP_OP3(VFMS, OP_FMS)
VFP_OP3(VFNMA, OP_FNMA)
VFP_OP3(VFNMS, OP_FNMS)

enum vfp_op2 { OP_ABS, OP_NEG, OP_SQRT, OP_MOV };

/* VABS, VNEG and VMOV are bit operations (FPAbs, FPNeg): no flush, no NaN processing. */
static inline enum arm_uop_result vfp_op2(struct arm_cpu *cpu, const struct arm_uop *op,
                                          unsigned w, enum vfp_op2 kind)
{
    vfp_check(cpu, op);
    uint64_t m = vreg(cpu, op->rm, w);
    uint64_t r;
    switch (kind) {
    case OP_ABS:
        r = m & ~fmt_sign(w);
        break;
    case OP_NEG:
        r = fp_neg(m, w);
        break;
    case OP_MOV:
        r = m;
        break;
    default: {
        uint32_t fpscr = cpu->fpscr;
        r = fp_sqrt(m, w, &fpscr);
        cpu->fpscr = fpscr;
        break;
    }
    }
    set_vreg(cpu, op->rd, w, r);
    return ARM_NEXT;
}

#define VFP_OP2(name, kind)                                                                    \
    ARM_OP(name##_f32)                                                                         \
    {                                                                                          \
        return vfp_op2(cpu, op, 32, kind);                                                     \
    }                                                                                          \
    ARM_OP(name##_f64)                                                                         \
    {                                                                                          \
        return vfp_op2(cpu, op, 64, kind);                                                     \
    }

VFP_OP2(VABS, OP_ABS)
VFP_OP2(VNEG, OP_NEG)
VFP_OP2(VSQRT, OP_SQRT)
VFP_OP2(VMOV_reg, OP_MOV)

ARM_OP(VMOV_imm_f32)
{
    vfp_check(cpu, op);
    set_sreg(cpu, op->rd, op->imm);
    return ARM_NEXT;
}

ARM_OP(VMOV_imm_f64)
{
    vfp_check(cpu, op);
    cpu->d[op->rd] = (uint64_t)op->imm << 32;
    return ARM_NEXT;
}

static inline enum arm_uop_result vfp_cmp(struct arm_cpu *cpu, const struct arm_uop *op,
                                          unsigned w)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    uint64_t m = op->imm2 ? 0 : vreg(cpu, op->rm, w);
    uint32_t nzcv = fp_compare(vreg(cpu, op->rd, w), m, op->imm != 0, w, &fpscr);
    cpu->fpscr = (fpscr & ~ARM_FLAGS_NZCV) | nzcv;
    return ARM_NEXT;
}

ARM_OP(VCMP_f32)
{
    return vfp_cmp(cpu, op, 32);
}

ARM_OP(VCMP_f64)
{
    return vfp_cmp(cpu, op, 64);
}

/* ---- conversions ---------------------------------------------------------------------------- */

ARM_OP(VCVT_f64_f32)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    cpu->d[op->rd] = fp_convert(sreg(cpu, op->rm), 32, 64, &fpscr);
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_f32_f64)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    set_sreg(cpu, op->rd, (uint32_t)fp_convert(cpu->d[op->rm], 64, 32, &fpscr));
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_f32_f16)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    uint16_t h = (uint16_t)(sreg(cpu, op->rm) >> op->imm);
    set_sreg(cpu, op->rd, (uint32_t)fp_convert(h, 16, 32, &fpscr));
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_f16_f32)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    uint32_t h = (uint32_t)fp_convert(sreg(cpu, op->rm), 32, 16, &fpscr);
    uint32_t old = sreg(cpu, op->rd);
    set_sreg(cpu, op->rd, (old & ~(0xffffu << op->imm)) | (h << op->imm));
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

/* Integer to floating point: FixedToFP with no fraction bits, FPSCR rounding. */
ARM_OP(VCVT_f32_i32)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    uint64_t r = fixed_to_fp(sreg(cpu, op->rm), 32, 0, op->imm2, false, 32, &fpscr);
    set_sreg(cpu, op->rd, (uint32_t)r);
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_f64_i32)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    cpu->d[op->rd] = fixed_to_fp(sreg(cpu, op->rm), 32, 0, op->imm2, false, 64, &fpscr);
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_i32_f32)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    set_sreg(cpu, op->rd, fp_to_fixed(sreg(cpu, op->rm), 32, 32, 0, op->imm2, op->imm, &fpscr));
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_i32_f64)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    set_sreg(cpu, op->rd, fp_to_fixed(cpu->d[op->rm], 64, 32, 0, op->imm2, op->imm, &fpscr));
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

/* Fixed point, in place: to fixed always rounds towards zero, from fixed always to nearest
 * (round_zero / round_nearest in the pseudocode, whatever FPSCR.RMode says). The fixed value
 * is the low shift_n bits; a fixed result is sign- or zero-extended to the register. */
ARM_OP(VCVT_f32_fixed)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    uint64_t r = fixed_to_fp(sreg(cpu, op->rd), op->shift_n, op->imm, op->imm2, true, 32, &fpscr);
    set_sreg(cpu, op->rd, (uint32_t)r);
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_f64_fixed)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    cpu->d[op->rd] = fixed_to_fp(cpu->d[op->rd], op->shift_n, op->imm, op->imm2, true, 64, &fpscr);
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_fixed_f32)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    uint32_t r = fp_to_fixed(sreg(cpu, op->rd), 32, op->shift_n, op->imm, op->imm2, true, &fpscr);
    set_sreg(cpu, op->rd, r);
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

ARM_OP(VCVT_fixed_f64)
{
    vfp_check(cpu, op);
    uint32_t fpscr = cpu->fpscr;
    uint32_t r = fp_to_fixed(cpu->d[op->rd], 64, op->shift_n, op->imm, op->imm2, true, &fpscr);
    cpu->d[op->rd] = op->imm2 ? (uint64_t)r : (uint64_t)(int64_t)(int32_t)r;
    cpu->fpscr = fpscr;
    return ARM_NEXT;
}

/* ---- transfers between core and extension registers ------------------------------------------ */

ARM_OP(VMOV_core_single)
{
    vfp_check(cpu, op);
    cpu->r[op->rd] = sreg(cpu, op->rn);
    return ARM_NEXT;
}

ARM_OP(VMOV_single_core)
{
    vfp_check(cpu, op);
    set_sreg(cpu, op->rn, arm_reg(cpu, op, op->rd));
    return ARM_NEXT;
}

ARM_OP(VMOV_2core_2single)
{
    vfp_check(cpu, op);
    cpu->r[op->rd] = sreg(cpu, op->rn);
    cpu->r[op->ra] = sreg(cpu, op->rn + 1u);
    return ARM_NEXT;
}

ARM_OP(VMOV_2single_2core)
{
    vfp_check(cpu, op);
    uint32_t lo = arm_reg(cpu, op, op->rd), hi = arm_reg(cpu, op, op->ra);
    set_sreg(cpu, op->rn, lo);
    set_sreg(cpu, op->rn + 1u, hi);
    return ARM_NEXT;
}

ARM_OP(VMOV_2core_double)
{
    vfp_check(cpu, op);
    uint64_t v = cpu->d[op->rn];
    cpu->r[op->rd] = (uint32_t)v;
    cpu->r[op->ra] = (uint32_t)(v >> 32);
    return ARM_NEXT;
}

ARM_OP(VMOV_double_2core)
{
    vfp_check(cpu, op);
    cpu->d[op->rn] = ((uint64_t)arm_reg(cpu, op, op->ra) << 32) | arm_reg(cpu, op, op->rd);
    return ARM_NEXT;
}

ARM_OP(VMOV_core_scalar)
{
    vfp_check(cpu, op);
    cpu->r[op->rd] = sreg(cpu, op->rn * 2u + op->imm);
    return ARM_NEXT;
}

ARM_OP(VMOV_scalar_core)
{
    vfp_check(cpu, op);
    set_sreg(cpu, op->rn * 2u + op->imm, arm_reg(cpu, op, op->rd));
    return ARM_NEXT;
}

/* VMRS: FPSCR at any level VFP is enabled for; the identification registers and FPEXC at PL1
 * only, and whatever FPEXC.EN says. */
ARM_OP(VMRS)
{
    uint32_t value;
    if (op->rn == 1) {
        vfp_check(cpu, op);
        value = cpu->fpscr;
        if (op->rd == 15) {
            cpu->cpsr_nzcv = (cpu->cpsr_nzcv & ~ARM_FLAGS_NZCV) | (value & ARM_FLAGS_NZCV);
            return ARM_NEXT;
        }
    } else {
        if (!arm_cpu_privileged(cpu)) {
            arm_undefined(cpu, op);
        }
        vfp_check_cpacr(cpu, op);
        switch (op->rn) {
        case 0:
            value = cpu->fpsid;
            break;
        case 6:
            value = cpu->mvfr1;
            break;
        case 7:
            value = cpu->mvfr0;
            break;
        case 8:
            value = cpu->fpexc;
            break;
        default:
            arm_undefined(cpu, op);
        }
    }
    cpu->r[op->rd] = value;
    return ARM_NEXT;
}

/* VMSR: FPEXC keeps only EN (no asynchronous exceptions, as Cortex-A15: EX, DEX and the rest
 * are RAZ/WI); FPSID is read-only, writes ignored. */
ARM_OP(VMSR)
{
    uint32_t value = arm_reg(cpu, op, op->rd);
    if (op->rn == 1) {
        vfp_check(cpu, op);
        cpu->fpscr = value & ARM_FPSCR_WRITABLE;
        return ARM_NEXT;
    }
    if (!arm_cpu_privileged(cpu)) {
        arm_undefined(cpu, op);
    }
    vfp_check_cpacr(cpu, op);
    switch (op->rn) {
    case 0:
        break;
    case 8:
        cpu->fpexc = value & ARM_FPEXC_EN;
        break;
    default:
        arm_undefined(cpu, op);
    }
    return ARM_NEXT;
}

/* ---- loads and stores ------------------------------------------------------------------------ */

/* VLDR/VSTR base: Align(PC, 4) for the literal forms. */
static inline uint32_t vldr_address(const struct arm_cpu *cpu, const struct arm_uop *op)
{
    uint32_t base = op->rn == 15 ? (arm_pc_operand(op) & ~3u) : cpu->r[op->rn];
    return (op->flags & ARM_UOP_U) ? base + op->imm : base - op->imm;
}

/* A doubleword is two word accesses (MemA each), high word first when big-endian. */
static inline uint64_t load_d(struct arm_cpu *cpu, uint32_t address)
{
    uint32_t w1 = arm_load(cpu, address, 4, false, true);
    uint32_t w2 = arm_load(cpu, address + 4, 4, false, true);
    return arm_big_endian(cpu) ? ((uint64_t)w1 << 32) | w2 : ((uint64_t)w2 << 32) | w1;
}

static inline void store_d(struct arm_cpu *cpu, uint32_t address, uint64_t v)
{
    bool be = arm_big_endian(cpu);
    arm_store(cpu, address, 4, be ? (uint32_t)(v >> 32) : (uint32_t)v, false, true);
    arm_store(cpu, address + 4, 4, be ? (uint32_t)v : (uint32_t)(v >> 32), false, true);
}

ARM_OP(VLDR_32)
{
    vfp_check(cpu, op);
    set_sreg(cpu, op->rd, arm_load(cpu, vldr_address(cpu, op), 4, false, true));
    return ARM_NEXT;
}

ARM_OP(VLDR_64)
{
    vfp_check(cpu, op);
    cpu->d[op->rd] = load_d(cpu, vldr_address(cpu, op));
    return ARM_NEXT;
}

ARM_OP(VSTR_32)
{
    vfp_check(cpu, op);
    arm_store(cpu, vldr_address(cpu, op), 4, sreg(cpu, op->rd), false, true);
    return ARM_NEXT;
}

ARM_OP(VSTR_64)
{
    vfp_check(cpu, op);
    store_d(cpu, vldr_address(cpu, op), cpu->d[op->rd]);
    return ARM_NEXT;
}

/* VLDM/VSTM: increment after (U) or decrement before (!U). Loads complete into a buffer before
 * anything is written, so a fault in the middle leaves the registers and Rn as they were. */
static inline uint32_t vldm_start(const struct arm_cpu *cpu, const struct arm_uop *op)
{
    uint32_t base = arm_reg(cpu, op, op->rn);
    return (op->flags & ARM_UOP_U) ? base : base - op->imm2;
}

static inline void vldm_writeback(struct arm_cpu *cpu, const struct arm_uop *op)
{
    if (op->flags & ARM_UOP_W) {
        uint32_t base = cpu->r[op->rn];
        cpu->r[op->rn] = (op->flags & ARM_UOP_U) ? base + op->imm2 : base - op->imm2;
    }
}

ARM_OP(VLDM_32)
{
    vfp_check(cpu, op);
    uint32_t buf[32];
    uint32_t address = vldm_start(cpu, op);
    for (unsigned i = 0; i < op->imm; i++) {
        buf[i] = arm_load(cpu, address + 4 * i, 4, false, true);
    }
    vldm_writeback(cpu, op);
    for (unsigned i = 0; i < op->imm; i++) {
        set_sreg(cpu, op->rd + i, buf[i]);
    }
    return ARM_NEXT;
}

ARM_OP(VLDM_64)
{
    vfp_check(cpu, op);
    uint64_t buf[16];
    uint32_t address = vldm_start(cpu, op);
    for (unsigned i = 0; i < op->imm; i++) {
        buf[i] = load_d(cpu, address + 8 * i);
    }
    vldm_writeback(cpu, op);
    for (unsigned i = 0; i < op->imm; i++) {
        cpu->d[op->rd + i] = buf[i];
    }
    return ARM_NEXT;
}

ARM_OP(VSTM_32)
{
    vfp_check(cpu, op);
    uint32_t address = vldm_start(cpu, op);
    for (unsigned i = 0; i < op->imm; i++) {
        arm_store(cpu, address + 4 * i, 4, sreg(cpu, op->rd + i), false, true);
    }
    vldm_writeback(cpu, op);
    return ARM_NEXT;
}

ARM_OP(VSTM_64)
{
    vfp_check(cpu, op);
    uint32_t address = vldm_start(cpu, op);
    for (unsigned i = 0; i < op->imm; i++) {
        store_d(cpu, address + 8 * i, cpu->d[op->rd + i]);
    }
    vldm_writeback(cpu, op);
    return ARM_NEXT;
}
