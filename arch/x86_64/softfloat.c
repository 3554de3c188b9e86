/*
 * coremu x86_64 — software floating point with the x86's rules (see softfloat.h).
 *
 * Every operation unpacks its operands into one common form (sign, exponent of the leading
 * bit, 64-bit significand with that bit at bit 63), computes the exact result or one that is
 * exact up to a sticky bit in 128 bits, and rounds it once in x86sf_round_pack() to the
 * destination's precision and exponent range. Results are kept in the same unpacked form and packed
 * last, so binary32, binary64 and the 80-bit format share one arithmetic.
 *
 * The x86 specifics, each checked against the host processor by tests/test_softfloat.c:
 *  - tininess is detected after rounding (the result rounded to the destination precision with
 *    an unbounded exponent is below the smallest normal); with underflow masked, UE is raised
 *    only when the tiny result is also inexact;
 *  - FTZ turns a tiny result into a zero of the same sign and raises UE and PE;
 *  - DAZ reads denormal inputs as zeros of the same sign, without DE;
 *  - the default NaN is the negative quiet "floating-point indefinite";
 *  - NaN propagation: SSE returns the first source when it is a NaN, else the second, quiet;
 *    the x87 prefers a QNaN over an SNaN and else the larger significand (SDM table 4-7);
 *  - x87 precision control rounds the significand of add/sub/mul/div/sqrt results to 24 or 53
 *    bits but keeps the 15-bit exponent range;
 *  - pseudo-NaNs, pseudo-infinities and unnormals are invalid operands to x87 arithmetic;
 *    pseudo-denormals are denormal operands with the exponent of the smallest normal;
 *  - DE is reported only when no NaN decides the result, never for a denormal dividend of a
 *    division by zero, and not at all by CVT(T)S*2SI, ROUNDS*, FIST(TP) or FST m32/m64;
 *  - FPREM/FPREM1 with an exponent difference d >= 64 take the SDM's N = 32 + d mod 32 (the
 *    exponent drops by N, leaving a difference of d - N): the SDM allows any N in 32..63; this
 *    is what the host (an AMD EPYC) does and may differ on other processors.
 */
#include "softfloat_internal.h"

#include <stddef.h>

static const struct format format32 = {24, -126, 127};
static const struct format format64 = {53, -1022, 1023};
static const struct format format32_x87_store = {24, -126, 127, 0, true};
static const struct format format64_x87_store = {53, -1022, 1023, 0, true};

/* The calling instruction set: which NaN rules apply and whether FTZ is honoured. */
struct op_ctx {
    const struct format *fmt;
    bool x87;
    bool ftz;
};

struct unpacked x86sf_make_zero(bool sign)
{
    return (struct unpacked){.cls = CLS_ZERO, .sign = sign};
}

struct unpacked x86sf_make_inf(bool sign)
{
    return (struct unpacked){.cls = CLS_INF, .sign = sign};
}

/* The "QNaN floating-point indefinite": negative, quiet bit only. */
static struct unpacked default_nan(void)
{
    return (struct unpacked){.cls = CLS_NAN, .sign = true, .sig = 1ull << 63};
}

struct unpacked x86sf_invalid(struct x86_fpstatus *st)
{
    st->flags |= X86_FLAG_IE;
    return default_nan();
}

static struct unpacked quietened(struct unpacked nan)
{
    nan.sig |= 1ull << 63;
    nan.snan = false;
    return nan;
}

/* ---- unpacking and packing ------------------------------------------------------------- */

/* A binary32/binary64 encoding: fraction width, exponent width, bias. */
static struct unpacked unpack_ieee(uint64_t bits, int frac_bits, int exp_bits, bool daz)
{
    struct unpacked u = {.sign = (bits >> (frac_bits + exp_bits)) & 1};
    uint32_t exp_max = (1u << exp_bits) - 1;
    int32_t bias = (int32_t)(exp_max >> 1);
    uint32_t biased = (uint32_t)(bits >> frac_bits) & exp_max;
    uint64_t frac = bits & ((1ull << frac_bits) - 1);

    if (biased == exp_max) {
        if (frac == 0) {
            u.cls = CLS_INF;
        } else {
            u.cls = CLS_NAN;
            u.sig = frac << (64 - frac_bits);
            u.snan = !(u.sig >> 63);
        }
    } else if (biased == 0) {
        if (frac == 0 || daz) {
            u.cls = CLS_ZERO;
        } else {
            int lz = clz64(frac);
            u.cls = CLS_FINITE;
            u.denormal = true;
            u.sig = frac << lz;
            u.exp = 1 - bias - frac_bits + 63 - lz;
        }
    } else {
        u.cls = CLS_FINITE;
        u.sig = ((1ull << frac_bits) | frac) << (63 - frac_bits);
        u.exp = (int32_t)biased - bias;
    }
    return u;
}

static uint64_t pack_ieee(struct unpacked u, int frac_bits, int exp_bits)
{
    uint32_t exp_max = (1u << exp_bits) - 1;
    int32_t bias = (int32_t)(exp_max >> 1);
    uint64_t sign = (uint64_t)u.sign << (frac_bits + exp_bits);
    uint64_t frac_mask = (1ull << frac_bits) - 1;

    switch (u.cls) {
    case CLS_ZERO:
        return sign;
    case CLS_INF:
        return sign | ((uint64_t)exp_max << frac_bits);
    case CLS_NAN:
    case CLS_UNSUPPORTED:
        return sign | ((uint64_t)exp_max << frac_bits) | (1ull << (frac_bits - 1)) |
               (u.sig >> (64 - frac_bits));
    case CLS_FINITE:
        break;
    }
    if (u.exp >= 1 - bias) {
        return sign | ((uint64_t)(u.exp + bias) << frac_bits) |
               ((u.sig >> (63 - frac_bits)) & frac_mask);
    }
    /* Denormal: round_pack made it exactly representable. */
    return sign | (u.sig >> (63 - frac_bits + (1 - bias - u.exp)));
}

static struct unpacked unpack32(float32 a, bool daz)
{
    return unpack_ieee(a, 23, 8, daz);
}

static struct unpacked unpack64(float64 a, bool daz)
{
    return unpack_ieee(a, 52, 11, daz);
}

static float32 pack32(struct unpacked u)
{
    return (float32)pack_ieee(u, 23, 8);
}

static float64 pack64(struct unpacked u)
{
    return pack_ieee(u, 52, 11);
}

struct unpacked x86sf_unpackx80(floatx80 a)
{
    struct unpacked u = {.sign = a.sign_exp >> 15};
    uint32_t biased = a.sign_exp & 0x7fff;
    bool integer_bit = a.mant >> 63;

    if (biased == 0x7fff) {
        if (!integer_bit) {
            u.cls = CLS_UNSUPPORTED; /* pseudo-infinity or pseudo-NaN */
        } else if ((a.mant << 1) == 0) {
            u.cls = CLS_INF;
        } else {
            u.cls = CLS_NAN;
            u.sig = a.mant << 1;
            u.snan = !(u.sig >> 63);
        }
    } else if (biased == 0) {
        if (a.mant == 0) {
            u.cls = CLS_ZERO;
        } else {
            /* Denormal or pseudo-denormal: both scale as the smallest normal exponent. */
            int lz = clz64(a.mant);
            u.cls = CLS_FINITE;
            u.denormal = true;
            u.sig = a.mant << lz;
            u.exp = X80_EMIN - lz;
        }
    } else if (!integer_bit) {
        u.cls = CLS_UNSUPPORTED; /* unnormal */
    } else {
        u.cls = CLS_FINITE;
        u.sig = a.mant;
        u.exp = (int32_t)biased - X80_BIAS;
    }
    return u;
}

floatx80 x86sf_packx80(struct unpacked u)
{
    uint16_t sign = (uint16_t)(u.sign << 15);

    switch (u.cls) {
    case CLS_ZERO:
        return (floatx80){0, sign};
    case CLS_INF:
        return (floatx80){1ull << 63, (uint16_t)(sign | 0x7fff)};
    case CLS_NAN:
    case CLS_UNSUPPORTED:
        return (floatx80){(1ull << 63) | (1ull << 62) | (u.sig >> 1), (uint16_t)(sign | 0x7fff)};
    case CLS_FINITE:
        break;
    }
    if (u.exp >= X80_EMIN) {
        return (floatx80){u.sig, (uint16_t)(sign | (u.exp + X80_BIAS))};
    }
    return (floatx80){u.sig >> (X80_EMIN - u.exp), sign};
}

struct format x86sf_x80_format(const struct x86_fpstatus *st, bool use_precision_control)
{
    int precision = 64;
    if (use_precision_control) {
        if (st->precision == X86_PREC_24) {
            precision = 24;
        } else if (st->precision == X86_PREC_53) {
            precision = 53;
        }
    }
    return (struct format){precision, X80_EMIN, X80_EMAX, 24576};
}

/* ---- rounding -------------------------------------------------------------------------- */

/* Splits sig at bit `drop`: the kept high part, and how the dropped part compares with half an
 * ulp of the kept part (-1 below, 0 exactly half, 1 above) and whether it is zero. */
struct split {
    uint64_t kept;
    int half_cmp;
    bool exact;
};

static struct split split_at(u128 sig, int64_t drop)
{
    struct split s = {0, -1, false};
    u128 rem, half;

    if (drop > 128) {
        s.exact = sig == 0;
        return s;
    }
    if (drop == 128) {
        rem = sig;
        half = (u128)1 << 127;
    } else {
        s.kept = (uint64_t)(sig >> drop);
        rem = sig & (((u128)1 << drop) - 1);
        half = (u128)1 << (drop - 1);
    }
    s.exact = rem == 0;
    s.half_cmp = rem < half ? -1 : rem == half ? 0 : 1;
    return s;
}

static bool round_up(int rounding, bool sign, struct split s)
{
    if (s.exact) {
        return false;
    }
    switch (rounding) {
    case X86_ROUND_NEAREST:
        return s.half_cmp > 0 || (s.half_cmp == 0 && (s.kept & 1));
    case X86_ROUND_DOWN:
        return sign;
    case X86_ROUND_UP:
        return !sign;
    default:
        return false;
    }
}

/*
 * Overflow or underflow with that exception unmasked (SDM Vol. 1 4.9.1.4, 4.9.1.5, 8.5.4 and
 * 8.5.5): the exception is raised for any tiny result, exact or not; the value is rounded to the
 * precision with an unbounded exponent (PE and C1 as usual) and, for an x87 register, kept with
 * its exponent moved by 24576 into range for the handler. SSE and memory destinations keep
 * nothing, so the masked response is returned there, for the caller to discard.
 */
static struct unpacked unmasked_response(bool sign, int64_t exp, u128 sig, const struct format *f,
                                         unsigned exception, struct x86_fpstatus *st)
{
    int p = f->precision;
    struct split s = split_at(sig, 128 - p);
    bool up = round_up(st->rounding, sign, s);
    u128 kept = (u128)s.kept + up;
    int64_t exp_out = exp;

    if (kept >> p) {
        kept >>= 1;
        exp_out++;
    }
    exp_out += exception == X86_FLAG_OE ? -f->wrap : f->wrap;
    if (f->wrap == 0) {
        /* Nothing is kept (an SSE or memory destination). SSE reports PE with the exception
         * when the rounding was inexact; the x87's FST reports the exception alone. */
        uint8_t unmasked = st->unmasked;
        uint8_t flags = st->flags;
        st->unmasked = 0;
        struct unpacked masked = x86sf_round_pack(sign, exp, sig, f, false, st);
        st->unmasked = unmasked;
        st->flags = (uint8_t)(flags | exception | (f->x87_store || s.exact ? 0 : X86_FLAG_PE));
        st->c1 = false;
        return masked;
    }
    if (exp_out < f->emin || exp_out > f->emax) {
        /* Even the moved exponent does not fit (only FSCALE gets this far): an infinity or a
         * zero whatever the rounding, as the host gives. */
        st->flags |= (uint8_t)(exception | X86_FLAG_PE);
        st->c1 = exception == X86_FLAG_OE;
        return exception == X86_FLAG_OE ? x86sf_make_inf(sign) : x86sf_make_zero(sign);
    }
    st->flags |= (uint8_t)(exception | (s.exact ? 0 : X86_FLAG_PE));
    st->c1 = up;
    return (struct unpacked){.cls = CLS_FINITE,
                             .sign = sign,
                             .exp = (int32_t)exp_out,
                             .sig = (uint64_t)kept << (64 - p)};
}

/*
 * Rounds the nonzero value sig * 2^(exp - 127) (bit 127 of sig set; any sticky bits already
 * folded into bit 0) to the format, with its overflow, underflow and inexact flags, and FTZ
 * when asked. Sets st->c1 to whether the magnitude was rounded up.
 */
struct unpacked x86sf_round_pack(bool sign, int64_t exp, u128 sig, const struct format *f, bool ftz,
                                 struct x86_fpstatus *st)
{
    int p = f->precision;
    int64_t drop = 128 - p;
    int64_t exp_out = exp;
    bool tiny = false;

    if (exp < f->emin) {
        drop += f->emin - exp;
        exp_out = f->emin;
        tiny = true;
        if (exp == f->emin - 1) {
            /* Tininess after rounding: would the value rounded to p bits with an unbounded
             * exponent reach the smallest normal? */
            struct split n = split_at(sig, 128 - p);
            if (n.kept == (p == 64 ? ~0ull : (1ull << p) - 1) && round_up(st->rounding, sign, n)) {
                tiny = false;
            }
        }
    }
    if (tiny && (st->unmasked & X86_FLAG_UE)) {
        return unmasked_response(sign, exp, sig, f, X86_FLAG_UE, st);
    }
    struct split s = split_at(sig, drop);
    if (tiny && ftz) {
        st->flags |= X86_FLAG_UE | X86_FLAG_PE;
        st->c1 = false;
        return x86sf_make_zero(sign);
    }
    bool up = round_up(st->rounding, sign, s);
    u128 kept = (u128)s.kept + up;
    if (kept >> p) {
        kept >>= 1;
        exp_out++;
    }
    if (exp_out > f->emax && (st->unmasked & X86_FLAG_OE)) {
        return unmasked_response(sign, exp, sig, f, X86_FLAG_OE, st);
    }
    if (exp_out > f->emax) {
        bool to_inf = st->rounding == X86_ROUND_NEAREST ||
                      (st->rounding == X86_ROUND_UP && !sign) ||
                      (st->rounding == X86_ROUND_DOWN && sign);
        st->flags |= X86_FLAG_OE | X86_FLAG_PE;
        st->c1 = to_inf;
        if (to_inf) {
            return x86sf_make_inf(sign);
        }
        return (struct unpacked){
            .cls = CLS_FINITE, .sign = sign, .exp = f->emax, .sig = ~0ull << (64 - p)};
    }
    st->c1 = up;
    if (!s.exact) {
        st->flags |= X86_FLAG_PE;
        if (tiny) {
            st->flags |= X86_FLAG_UE;
        }
    }
    if (kept == 0) {
        return x86sf_make_zero(sign);
    }
    /* Normalize (a denormal result has fewer than p significant bits). */
    uint64_t k = (uint64_t)kept;
    int lz = clz64(k);
    return (struct unpacked){.cls = CLS_FINITE,
                             .sign = sign,
                             .exp = (int32_t)(exp_out - (p - 1) + 63 - lz),
                             .sig = k << lz};
}

/* Rounds a finite operand (already unpacked) to the format: precision control and narrowing
 * conversions. */
static struct unpacked round_operand(struct unpacked u, const struct format *f, bool ftz,
                                     struct x86_fpstatus *st)
{
    return x86sf_round_pack(u.sign, u.exp, (u128)u.sig << 64, f, ftz, st);
}

/* ---- NaN operands ---------------------------------------------------------------------- */

/*
 * If an operand of a two-operand operation is a NaN or unsupported, stores the result in *out
 * and returns true. SSE: the first source if it is a NaN, else the second, quietened. x87:
 * unsupported encodings are invalid; a QNaN wins over an SNaN, else the larger significand.
 */
bool x86sf_nan_operands(const struct unpacked *a, const struct unpacked *b, bool x87,
                        struct x86_fpstatus *st, struct unpacked *out)
{
    bool a_nan = a->cls == CLS_NAN;
    bool b_nan = b->cls == CLS_NAN;

    if (a->cls == CLS_UNSUPPORTED || b->cls == CLS_UNSUPPORTED) {
        *out = x86sf_invalid(st);
        return true;
    }
    if (!a_nan && !b_nan) {
        return false;
    }
    if ((a_nan && a->snan) || (b_nan && b->snan)) {
        st->flags |= X86_FLAG_IE;
    }
    if (!x87 || !b_nan) {
        *out = quietened(a_nan ? *a : *b);
    } else if (!a_nan) {
        *out = quietened(*b);
    } else if (a->snan != b->snan) {
        *out = quietened(a->snan ? *b : *a);
    } else if (a->sig != b->sig) {
        *out = quietened(a->sig > b->sig ? *a : *b);
    } else {
        *out = quietened(a->sign ? *b : *a);
    }
    return true;
}

bool x86sf_nan_operand(const struct unpacked *a, struct x86_fpstatus *st, struct unpacked *out)
{
    if (a->cls == CLS_UNSUPPORTED) {
        *out = x86sf_invalid(st);
        return true;
    }
    if (a->cls != CLS_NAN) {
        return false;
    }
    if (a->snan) {
        st->flags |= X86_FLAG_IE;
    }
    *out = quietened(*a);
    return true;
}

void x86sf_denormal_operands(const struct unpacked *a, const struct unpacked *b,
                             struct x86_fpstatus *st)
{
    if ((a && a->cls == CLS_FINITE && a->denormal) || (b && b->cls == CLS_FINITE && b->denormal)) {
        st->flags |= X86_FLAG_DE;
    }
}

/* ---- arithmetic ------------------------------------------------------------------------ */

static struct unpacked add_core(struct unpacked a, struct unpacked b, bool subtract,
                                const struct op_ctx *c, struct x86_fpstatus *st)
{
    struct unpacked r;

    if (x86sf_nan_operands(&a, &b, c->x87, st, &r)) {
        return r;
    }
    x86sf_denormal_operands(&a, &b, st);
    b.sign ^= subtract;
    if (a.cls == CLS_INF) {
        if (b.cls == CLS_INF && a.sign != b.sign) {
            return x86sf_invalid(st);
        }
        return a;
    }
    if (b.cls == CLS_INF) {
        return b;
    }
    if (a.cls == CLS_ZERO && b.cls == CLS_ZERO) {
        return x86sf_make_zero(a.sign == b.sign ? a.sign : st->rounding == X86_ROUND_DOWN);
    }
    if (a.cls == CLS_ZERO) {
        return round_operand(b, c->fmt, c->ftz, st);
    }
    if (b.cls == CLS_ZERO) {
        return round_operand(a, c->fmt, c->ftz, st);
    }
    /* Make a the larger magnitude; both significands sit at bits 126..63 before aligning. */
    if (b.exp > a.exp || (b.exp == a.exp && b.sig > a.sig)) {
        struct unpacked t = a;
        a = b;
        b = t;
    }
    u128 sa = (u128)a.sig << 63;
    u128 sb = (u128)b.sig << 63;
    int64_t shift = (int64_t)a.exp - b.exp;
    if (shift >= 127) {
        sb = 1; /* sticky */
    } else if (shift > 0) {
        sb = (sb >> shift) | ((sb & (((u128)1 << shift) - 1)) != 0);
    }
    u128 sum = a.sign == b.sign ? sa + sb : sa - sb;
    if (sum == 0) {
        return x86sf_make_zero(st->rounding == X86_ROUND_DOWN);
    }
    int lz = clz128(sum);
    return x86sf_round_pack(a.sign, (int64_t)a.exp + 1 - lz, sum << lz, c->fmt, c->ftz, st);
}

static struct unpacked mul_core(struct unpacked a, struct unpacked b, const struct op_ctx *c,
                                struct x86_fpstatus *st)
{
    struct unpacked r;
    bool sign = a.sign ^ b.sign;

    if (x86sf_nan_operands(&a, &b, c->x87, st, &r)) {
        return r;
    }
    x86sf_denormal_operands(&a, &b, st);
    if (a.cls == CLS_INF || b.cls == CLS_INF) {
        if (a.cls == CLS_ZERO || b.cls == CLS_ZERO) {
            return x86sf_invalid(st);
        }
        return x86sf_make_inf(sign);
    }
    if (a.cls == CLS_ZERO || b.cls == CLS_ZERO) {
        return x86sf_make_zero(sign);
    }
    u128 prod = (u128)a.sig * b.sig;
    int lz = clz128(prod);
    return x86sf_round_pack(sign, (int64_t)a.exp + b.exp + 1 - lz, prod << lz, c->fmt, c->ftz, st);
}

static struct unpacked div_core(struct unpacked a, struct unpacked b, const struct op_ctx *c,
                                struct x86_fpstatus *st)
{
    struct unpacked r;
    bool sign = a.sign ^ b.sign;

    if (x86sf_nan_operands(&a, &b, c->x87, st, &r)) {
        return r;
    }
    if (a.cls == CLS_INF) {
        if (b.cls == CLS_INF) {
            return x86sf_invalid(st);
        }
        x86sf_denormal_operands(&b, NULL, st);
        return x86sf_make_inf(sign);
    }
    if (b.cls == CLS_INF) {
        x86sf_denormal_operands(&a, NULL, st);
        return x86sf_make_zero(sign);
    }
    if (b.cls == CLS_ZERO) {
        if (a.cls == CLS_ZERO) {
            return x86sf_invalid(st);
        }
        st->flags |= X86_FLAG_ZE; /* no DE for a denormal dividend */
        return x86sf_make_inf(sign);
    }
    x86sf_denormal_operands(&a, &b, st);
    if (a.cls == CLS_ZERO) {
        return x86sf_make_zero(sign);
    }
    /* 64 or 65 quotient bits from one 128-by-64 division, then 3 more bit by bit, and the
     * remainder as a sticky bit below them: enough for any rounding to 64 bits. */
    u128 num = (u128)a.sig << 64;
    u128 q = num / b.sig;
    u128 rem = num % b.sig;
    for (int i = 0; i < 3; i++) {
        rem <<= 1;
        q <<= 1;
        if (rem >= b.sig) {
            q |= 1;
            rem -= b.sig;
        }
    }
    q = (q << 1) | (rem != 0);
    /* value = q * 2^(a.exp - b.exp - 68) */
    int lz = clz128(q);
    return x86sf_round_pack(sign, (int64_t)a.exp - b.exp - 68 + 127 - lz, q << lz, c->fmt, c->ftz,
                            st);
}

static struct unpacked sqrt_core(struct unpacked a, const struct op_ctx *c, struct x86_fpstatus *st)
{
    struct unpacked r;

    if (x86sf_nan_operand(&a, st, &r)) {
        return r;
    }
    if (a.cls == CLS_ZERO) {
        return a;
    }
    if (a.sign) {
        return x86sf_invalid(st);
    }
    if (a.cls == CLS_INF) {
        return a;
    }
    x86sf_denormal_operands(&a, NULL, st);
    /* value = m * 2^e with e even, m < 2^65; root = floor(sqrt(m * 2^80)), bit by bit. */
    int64_t e = (int64_t)a.exp - 63;
    u128 m = a.sig;
    if (e & 1) {
        m <<= 1;
        e--;
    }
    u128 root = 0;
    u128 rem = 0;
    for (int pair = 72; pair >= 0; pair--) {
        int pos = 2 * pair - 80;
        unsigned bits = pos >= 0 ? (unsigned)(m >> pos) & 3 : 0;
        rem = (rem << 2) | bits;
        u128 trial = (root << 2) | 1;
        root <<= 1;
        if (rem >= trial) {
            rem -= trial;
            root |= 1;
        }
    }
    root |= rem != 0;
    /* value = root * 2^(e/2 - 40) */
    int lz = clz128(root);
    return x86sf_round_pack(false, e / 2 - 40 + 127 - lz, root << lz, c->fmt, c->ftz, st);
}

static enum x86_relation compare_core(struct unpacked a, struct unpacked b, bool signalling,
                                      struct x86_fpstatus *st)
{
    if (a.cls == CLS_UNSUPPORTED || b.cls == CLS_UNSUPPORTED) {
        st->flags |= X86_FLAG_IE;
        return X86_REL_UNORDERED;
    }
    if (a.cls == CLS_NAN || b.cls == CLS_NAN) {
        if (signalling || (a.cls == CLS_NAN && a.snan) || (b.cls == CLS_NAN && b.snan)) {
            st->flags |= X86_FLAG_IE;
        }
        return X86_REL_UNORDERED;
    }
    x86sf_denormal_operands(&a, &b, st);
    if (a.cls == CLS_ZERO && b.cls == CLS_ZERO) {
        return X86_REL_EQUAL;
    }
    if (a.sign != b.sign) {
        return a.sign ? X86_REL_LESS : X86_REL_GREATER;
    }
    /* Same sign: order the magnitudes, zero < finite < infinity. */
    int mag;
    if (a.cls != b.cls) {
        mag = a.cls == CLS_ZERO || b.cls == CLS_INF ? -1 : 1;
    } else if (a.cls == CLS_INF) {
        mag = 0;
    } else if (a.exp != b.exp) {
        mag = a.exp < b.exp ? -1 : 1;
    } else {
        mag = a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0;
    }
    if (a.sign) {
        mag = -mag;
    }
    return mag < 0 ? X86_REL_LESS : mag > 0 ? X86_REL_GREATER : X86_REL_EQUAL;
}

uint32_t x86_relation_eflags(enum x86_relation rel)
{
    switch (rel) {
    case X86_REL_LESS:
        return 0x01;
    case X86_REL_EQUAL:
        return 0x40;
    case X86_REL_GREATER:
        return 0;
    default:
        return 0x45;
    }
}

uint16_t x86_relation_fsw(enum x86_relation rel)
{
    switch (rel) {
    case X86_REL_LESS:
        return X86_FSW_C0;
    case X86_REL_EQUAL:
        return X86_FSW_C3;
    case X86_REL_GREATER:
        return 0;
    default:
        return X86_FSW_C0 | X86_FSW_C2 | X86_FSW_C3;
    }
}

/* Rounds a finite value to an integer magnitude with the given rounding; *overflow when the
 * magnitude does not fit in 64 bits. Sets st->c1 like round_pack. */
static uint64_t round_to_integer(struct unpacked a, int rounding, bool *inexact, bool *overflow,
                                 struct x86_fpstatus *st)
{
    *overflow = false;
    *inexact = false;
    st->c1 = false;
    if (a.cls == CLS_ZERO) {
        return 0;
    }
    if (a.exp >= 64) {
        *overflow = true;
        return 0;
    }
    if (a.exp == 63) {
        return a.sig;
    }
    struct split s = split_at((u128)a.sig << 64, 127 - (int64_t)a.exp);
    bool up = round_up(rounding, a.sign, s);
    *inexact = !s.exact;
    st->c1 = up;
    if (up && s.kept == ~0ull) {
        *overflow = true;
        return 0;
    }
    return s.kept + up;
}

/* FRNDINT reports a denormal operand, ROUNDSS/ROUNDSD do not. */
static struct unpacked round_to_int_core(struct unpacked a, bool report_denormal,
                                         struct x86_fpstatus *st)
{
    struct unpacked r;
    bool inexact;
    bool overflow;

    if (x86sf_nan_operand(&a, st, &r)) {
        return r;
    }
    if (report_denormal) {
        x86sf_denormal_operands(&a, NULL, st);
    }
    if (a.cls != CLS_FINITE || a.exp >= 63) {
        return a;
    }
    uint64_t mag = round_to_integer(a, st->rounding, &inexact, &overflow, st);
    if (inexact) {
        st->flags |= X86_FLAG_PE;
    }
    if (mag == 0) {
        return x86sf_make_zero(a.sign);
    }
    int lz = clz64(mag);
    return (struct unpacked){.cls = CLS_FINITE, .sign = a.sign, .exp = 63 - lz, .sig = mag << lz};
}

/* Conversion to a signed integer of `bits` bits; the indefinite is its most negative value. */
static int64_t to_int_core(struct unpacked a, int bits, bool truncate, struct x86_fpstatus *st)
{
    int64_t indefinite = (int64_t)(~0ull << (bits - 1));
    bool inexact;
    bool overflow;

    if (a.cls == CLS_NAN || a.cls == CLS_INF || a.cls == CLS_UNSUPPORTED) {
        st->flags |= X86_FLAG_IE;
        st->c1 = false;
        return indefinite;
    }
    /* CVT*2SI and FIST do not report denormal operands. */
    uint64_t mag =
        round_to_integer(a, truncate ? X86_ROUND_ZERO : st->rounding, &inexact, &overflow, st);
    uint64_t limit = (1ull << (bits - 1)) - !a.sign;
    if (overflow || mag > limit) {
        st->flags |= X86_FLAG_IE;
        st->c1 = false;
        return indefinite;
    }
    if (inexact) {
        st->flags |= X86_FLAG_PE;
    }
    return a.sign ? (int64_t)(0 - mag) : (int64_t)mag;
}

static struct unpacked from_int_core(int64_t v, const struct format *f, struct x86_fpstatus *st)
{
    if (v == 0) {
        return x86sf_make_zero(false);
    }
    bool sign = v < 0;
    uint64_t mag = sign ? 0 - (uint64_t)v : (uint64_t)v;
    int lz = clz64(mag);
    return x86sf_round_pack(sign, 63 - lz, (u128)(mag << lz) << 64, f, false, st);
}

/* Conversion between formats: NaNs keep their leading payload bits, quietened. */
static struct unpacked convert_core(struct unpacked a, const struct format *f, bool ftz,
                                    bool report_denormal, struct x86_fpstatus *st)
{
    struct unpacked r;

    if (x86sf_nan_operand(&a, st, &r)) {
        return r;
    }
    if (report_denormal) {
        x86sf_denormal_operands(&a, NULL, st);
    }
    if (a.cls != CLS_FINITE) {
        return a;
    }
    return round_operand(a, f, ftz, st);
}

/* MINSS/MAXSS: "a < b ? a : b" (or >) literally, so a NaN anywhere or two zeros give b. */
static bool minmax_takes_a(struct unpacked ua, struct unpacked ub, bool max,
                           struct x86_fpstatus *st)
{
    if (ua.cls == CLS_NAN || ub.cls == CLS_NAN) {
        st->flags |= X86_FLAG_IE;
        return false;
    }
    enum x86_relation rel = compare_core(ua, ub, true, st);
    return rel == (max ? X86_REL_GREATER : X86_REL_LESS);
}

/* ---- float32 / float64 ----------------------------------------------------------------- */

#define SSE_CTX(fmtp)                               \
    {                                               \
        .fmt = (fmtp), .x87 = false, .ftz = st->ftz \
    }

float32 float32_add(float32 a, float32 b, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format32);
    return pack32(add_core(unpack32(a, st->daz), unpack32(b, st->daz), false, &c, st));
}

float32 float32_sub(float32 a, float32 b, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format32);
    return pack32(add_core(unpack32(a, st->daz), unpack32(b, st->daz), true, &c, st));
}

float32 float32_mul(float32 a, float32 b, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format32);
    return pack32(mul_core(unpack32(a, st->daz), unpack32(b, st->daz), &c, st));
}

float32 float32_div(float32 a, float32 b, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format32);
    return pack32(div_core(unpack32(a, st->daz), unpack32(b, st->daz), &c, st));
}

float32 float32_sqrt(float32 a, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format32);
    return pack32(sqrt_core(unpack32(a, st->daz), &c, st));
}

/* The operand as the instruction sees it: with DAZ, a denormal is a zero of its sign. */
static uint64_t daz_operand(uint64_t bits, int frac_bits, int exp_bits, bool daz)
{
    uint64_t exp_mask = ((1ull << exp_bits) - 1) << frac_bits;
    if (daz && (bits & exp_mask) == 0) {
        return bits & (1ull << (frac_bits + exp_bits));
    }
    return bits;
}

float32 float32_min(float32 a, float32 b, struct x86_fpstatus *st)
{
    bool take_a = minmax_takes_a(unpack32(a, st->daz), unpack32(b, st->daz), false, st);
    return (float32)daz_operand(take_a ? a : b, 23, 8, st->daz);
}

float32 float32_max(float32 a, float32 b, struct x86_fpstatus *st)
{
    bool take_a = minmax_takes_a(unpack32(a, st->daz), unpack32(b, st->daz), true, st);
    return (float32)daz_operand(take_a ? a : b, 23, 8, st->daz);
}

enum x86_relation float32_compare(float32 a, float32 b, bool signalling, struct x86_fpstatus *st)
{
    return compare_core(unpack32(a, st->daz), unpack32(b, st->daz), signalling, st);
}

float32 float32_round_to_int(float32 a, struct x86_fpstatus *st)
{
    return pack32(round_to_int_core(unpack32(a, st->daz), false, st));
}

float64 float64_add(float64 a, float64 b, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format64);
    return pack64(add_core(unpack64(a, st->daz), unpack64(b, st->daz), false, &c, st));
}

float64 float64_sub(float64 a, float64 b, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format64);
    return pack64(add_core(unpack64(a, st->daz), unpack64(b, st->daz), true, &c, st));
}

float64 float64_mul(float64 a, float64 b, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format64);
    return pack64(mul_core(unpack64(a, st->daz), unpack64(b, st->daz), &c, st));
}

float64 float64_div(float64 a, float64 b, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format64);
    return pack64(div_core(unpack64(a, st->daz), unpack64(b, st->daz), &c, st));
}

float64 float64_sqrt(float64 a, struct x86_fpstatus *st)
{
    struct op_ctx c = SSE_CTX(&format64);
    return pack64(sqrt_core(unpack64(a, st->daz), &c, st));
}

float64 float64_min(float64 a, float64 b, struct x86_fpstatus *st)
{
    bool take_a = minmax_takes_a(unpack64(a, st->daz), unpack64(b, st->daz), false, st);
    return daz_operand(take_a ? a : b, 52, 11, st->daz);
}

float64 float64_max(float64 a, float64 b, struct x86_fpstatus *st)
{
    bool take_a = minmax_takes_a(unpack64(a, st->daz), unpack64(b, st->daz), true, st);
    return daz_operand(take_a ? a : b, 52, 11, st->daz);
}

enum x86_relation float64_compare(float64 a, float64 b, bool signalling, struct x86_fpstatus *st)
{
    return compare_core(unpack64(a, st->daz), unpack64(b, st->daz), signalling, st);
}

float64 float64_round_to_int(float64 a, struct x86_fpstatus *st)
{
    return pack64(round_to_int_core(unpack64(a, st->daz), false, st));
}

float64 float32_to_float64(float32 a, struct x86_fpstatus *st)
{
    return pack64(convert_core(unpack32(a, st->daz), &format64, st->ftz, true, st));
}

float32 float64_to_float32(float64 a, struct x86_fpstatus *st)
{
    return pack32(convert_core(unpack64(a, st->daz), &format32, st->ftz, true, st));
}

int32_t float32_to_int32(float32 a, struct x86_fpstatus *st)
{
    return (int32_t)to_int_core(unpack32(a, st->daz), 32, false, st);
}

int32_t float32_to_int32_trunc(float32 a, struct x86_fpstatus *st)
{
    return (int32_t)to_int_core(unpack32(a, st->daz), 32, true, st);
}

int64_t float32_to_int64(float32 a, struct x86_fpstatus *st)
{
    return to_int_core(unpack32(a, st->daz), 64, false, st);
}

int64_t float32_to_int64_trunc(float32 a, struct x86_fpstatus *st)
{
    return to_int_core(unpack32(a, st->daz), 64, true, st);
}

int32_t float64_to_int32(float64 a, struct x86_fpstatus *st)
{
    return (int32_t)to_int_core(unpack64(a, st->daz), 32, false, st);
}

int32_t float64_to_int32_trunc(float64 a, struct x86_fpstatus *st)
{
    return (int32_t)to_int_core(unpack64(a, st->daz), 32, true, st);
}

int64_t float64_to_int64(float64 a, struct x86_fpstatus *st)
{
    return to_int_core(unpack64(a, st->daz), 64, false, st);
}

int64_t float64_to_int64_trunc(float64 a, struct x86_fpstatus *st)
{
    return to_int_core(unpack64(a, st->daz), 64, true, st);
}

float32 int32_to_float32(int32_t a, struct x86_fpstatus *st)
{
    return pack32(from_int_core(a, &format32, st));
}

float32 int64_to_float32(int64_t a, struct x86_fpstatus *st)
{
    return pack32(from_int_core(a, &format32, st));
}

float64 int32_to_float64(int32_t a, struct x86_fpstatus *st)
{
    return pack64(from_int_core(a, &format64, st));
}

float64 int64_to_float64(int64_t a, struct x86_fpstatus *st)
{
    return pack64(from_int_core(a, &format64, st));
}

/* ---- floatx80 -------------------------------------------------------------------------- */

floatx80 floatx80_add(floatx80 a, floatx80 b, struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, true);
    struct op_ctx c = {.fmt = &f, .x87 = true};
    st->c1 = false;
    return x86sf_packx80(add_core(x86sf_unpackx80(a), x86sf_unpackx80(b), false, &c, st));
}

floatx80 floatx80_sub(floatx80 a, floatx80 b, struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, true);
    struct op_ctx c = {.fmt = &f, .x87 = true};
    st->c1 = false;
    return x86sf_packx80(add_core(x86sf_unpackx80(a), x86sf_unpackx80(b), true, &c, st));
}

floatx80 floatx80_mul(floatx80 a, floatx80 b, struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, true);
    struct op_ctx c = {.fmt = &f, .x87 = true};
    st->c1 = false;
    return x86sf_packx80(mul_core(x86sf_unpackx80(a), x86sf_unpackx80(b), &c, st));
}

floatx80 floatx80_div(floatx80 a, floatx80 b, struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, true);
    struct op_ctx c = {.fmt = &f, .x87 = true};
    st->c1 = false;
    return x86sf_packx80(div_core(x86sf_unpackx80(a), x86sf_unpackx80(b), &c, st));
}

floatx80 floatx80_sqrt(floatx80 a, struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, true);
    struct op_ctx c = {.fmt = &f, .x87 = true};
    st->c1 = false;
    return x86sf_packx80(sqrt_core(x86sf_unpackx80(a), &c, st));
}

enum x86_relation floatx80_compare(floatx80 a, floatx80 b, bool signalling, struct x86_fpstatus *st)
{
    st->c1 = false;
    return compare_core(x86sf_unpackx80(a), x86sf_unpackx80(b), signalling, st);
}

uint16_t floatx80_examine(floatx80 a)
{
    struct unpacked u = x86sf_unpackx80(a);
    uint16_t sign = u.sign ? X86_FSW_C1 : 0;

    switch (u.cls) {
    case CLS_UNSUPPORTED:
        return sign;
    case CLS_NAN:
        return sign | X86_FSW_C0;
    case CLS_INF:
        return sign | X86_FSW_C2 | X86_FSW_C0;
    case CLS_ZERO:
        return sign | X86_FSW_C3;
    default:
        return sign | (u.denormal ? X86_FSW_C3 | X86_FSW_C2 : X86_FSW_C2);
    }
}

floatx80 floatx80_round_to_int(floatx80 a, struct x86_fpstatus *st)
{
    st->c1 = false;
    return x86sf_packx80(round_to_int_core(x86sf_unpackx80(a), true, st));
}

floatx80 float32_to_floatx80(float32 a, struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, false);
    st->c1 = false;
    return x86sf_packx80(convert_core(unpack32(a, false), &f, false, true, st));
}

floatx80 float64_to_floatx80(float64 a, struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, false);
    st->c1 = false;
    return x86sf_packx80(convert_core(unpack64(a, false), &f, false, true, st));
}

float32 floatx80_to_float32(floatx80 a, struct x86_fpstatus *st)
{
    st->c1 = false;
    return pack32(convert_core(x86sf_unpackx80(a), &format32_x87_store, false, false, st));
}

float64 floatx80_to_float64(floatx80 a, struct x86_fpstatus *st)
{
    st->c1 = false;
    return pack64(convert_core(x86sf_unpackx80(a), &format64_x87_store, false, false, st));
}

floatx80 int64_to_floatx80(int64_t a)
{
    struct x86_fpstatus exact = {0};
    struct format f = x86sf_x80_format(&exact, false);
    return x86sf_packx80(from_int_core(a, &f, &exact));
}

int16_t floatx80_to_int16(floatx80 a, struct x86_fpstatus *st)
{
    return (int16_t)to_int_core(x86sf_unpackx80(a), 16, false, st);
}

int16_t floatx80_to_int16_trunc(floatx80 a, struct x86_fpstatus *st)
{
    return (int16_t)to_int_core(x86sf_unpackx80(a), 16, true, st);
}

int32_t floatx80_to_int32(floatx80 a, struct x86_fpstatus *st)
{
    return (int32_t)to_int_core(x86sf_unpackx80(a), 32, false, st);
}

int32_t floatx80_to_int32_trunc(floatx80 a, struct x86_fpstatus *st)
{
    return (int32_t)to_int_core(x86sf_unpackx80(a), 32, true, st);
}

int64_t floatx80_to_int64(floatx80 a, struct x86_fpstatus *st)
{
    return to_int_core(x86sf_unpackx80(a), 64, false, st);
}

int64_t floatx80_to_int64_trunc(floatx80 a, struct x86_fpstatus *st)
{
    return to_int_core(x86sf_unpackx80(a), 64, true, st);
}

/* ---- x87 partial remainder, scale, extract --------------------------------------------- */

static floatx80 prem_core(floatx80 fa, floatx80 fb, bool nearest, uint16_t *fsw,
                          struct x86_fpstatus *st)
{
    struct unpacked a = x86sf_unpackx80(fa);
    struct unpacked b = x86sf_unpackx80(fb);
    struct unpacked r;
    struct format f = x86sf_x80_format(st, false);

    *fsw = 0;
    st->c1 = false;
    if (x86sf_nan_operands(&a, &b, true, st, &r)) {
        return x86sf_packx80(r);
    }
    if (a.cls == CLS_INF || b.cls == CLS_ZERO) {
        return x86sf_packx80(x86sf_invalid(st));
    }
    x86sf_denormal_operands(&a, &b, st);
    if (a.cls == CLS_ZERO) {
        return x86sf_packx80(a);
    }
    if (b.cls == CLS_INF) {
        /* the dividend itself, but as a result: a denormal one underflows when UE is unmasked */
        struct unpacked same = x86sf_round_pack(a.sign, a.exp, (u128)a.sig << 64, &f, false, st);
        st->c1 = false;
        return x86sf_packx80(same);
    }
    int64_t d = (int64_t)a.exp - b.exp;
    bool sign = a.sign;
    uint64_t q = 0;
    u128 rem;      /* the remainder's magnitude, in units of 2^(scale - 63) */
    int64_t scale; /* of rem */

    if (d >= 64) {
        /* Partial: the exponent drops by n, leaving a difference of d - n, where the host
         * chooses n = 32 + d mod 32 (the SDM allows any n from 32 to 63): the quotient is
         * chopped, its bits are not reported, and C2 asks for another round. */
        int n = 32 + (int)(d % 32);
        rem = ((u128)a.sig << n) % b.sig;
        scale = (int64_t)b.exp + d - n;
        *fsw = X86_FSW_C2;
    } else if (d < 0) {
        rem = a.sig;
        scale = a.exp;
        if (nearest && d == -1 && a.sig > b.sig) {
            /* |a| is above half of |b|: the nearest quotient is 1 and a - b changes sign. */
            q = 1;
            rem = ((u128)b.sig << 1) - a.sig;
            sign = !sign;
        }
    } else {
        u128 num = (u128)a.sig << d;
        q = (uint64_t)(num / b.sig);
        rem = num % b.sig;
        scale = b.exp;
        if (nearest && ((rem << 1) > b.sig || ((rem << 1) == b.sig && (q & 1)))) {
            q++;
            rem = b.sig - rem;
            sign = !sign;
        }
    }
    if (!(*fsw & X86_FSW_C2)) {
        *fsw = (uint16_t)(((q >> 2) & 1 ? X86_FSW_C0 : 0) | ((q >> 1) & 1 ? X86_FSW_C3 : 0) |
                          (q & 1 ? X86_FSW_C1 : 0));
    }
    if (rem == 0) {
        return x86sf_packx80(x86sf_make_zero(a.sign));
    }
    int lz = clz128(rem);
    r = x86sf_round_pack(sign, scale + 64 - lz, rem << lz, &f, false, st);
    st->c1 = false;
    return x86sf_packx80(r);
}

floatx80 floatx80_prem(floatx80 a, floatx80 b, uint16_t *fsw, struct x86_fpstatus *st)
{
    return prem_core(a, b, false, fsw, st);
}

floatx80 floatx80_prem1(floatx80 a, floatx80 b, uint16_t *fsw, struct x86_fpstatus *st)
{
    return prem_core(a, b, true, fsw, st);
}

floatx80 floatx80_scale(floatx80 fa, floatx80 fb, struct x86_fpstatus *st)
{
    struct unpacked a = x86sf_unpackx80(fa);
    struct unpacked b = x86sf_unpackx80(fb);
    struct unpacked r;
    struct format f = x86sf_x80_format(st, false);

    st->c1 = false;
    if (x86sf_nan_operands(&a, &b, true, st, &r)) {
        return x86sf_packx80(r);
    }
    if (b.cls == CLS_INF) {
        /* Scaling by +inf makes any nonzero infinite, by -inf any finite zero. */
        if ((!b.sign && a.cls == CLS_ZERO) || (b.sign && a.cls == CLS_INF)) {
            return x86sf_packx80(x86sf_invalid(st));
        }
        x86sf_denormal_operands(&a, NULL, st);
        if (a.cls == CLS_ZERO || a.cls == CLS_INF) {
            return x86sf_packx80(a);
        }
        return x86sf_packx80(b.sign ? x86sf_make_zero(a.sign) : x86sf_make_inf(a.sign));
    }
    x86sf_denormal_operands(&a, &b, st);
    if (a.cls != CLS_FINITE) {
        return x86sf_packx80(a);
    }
    /* trunc(b), clamped well beyond any exponent that could still give a finite nonzero. */
    int64_t n = 0;
    if (b.cls == CLS_FINITE && b.exp >= 0) {
        n = b.exp >= 20 ? (1 << 20) : (int64_t)(b.sig >> (63 - b.exp));
        n = b.sign ? -n : n;
    }
    return x86sf_packx80(x86sf_round_pack(a.sign, a.exp + n, (u128)a.sig << 64, &f, false, st));
}

void floatx80_extract(floatx80 fa, floatx80 *exponent, floatx80 *significand,
                      struct x86_fpstatus *st)
{
    struct unpacked a = x86sf_unpackx80(fa);
    struct unpacked r;

    st->c1 = false;
    if (x86sf_nan_operand(&a, st, &r)) {
        *exponent = *significand = x86sf_packx80(r);
        return;
    }
    switch (a.cls) {
    case CLS_ZERO:
        st->flags |= X86_FLAG_ZE;
        *exponent = x86sf_packx80(x86sf_make_inf(true));
        *significand = x86sf_packx80(a);
        return;
    case CLS_INF:
        *exponent = x86sf_packx80(x86sf_make_inf(false));
        *significand = x86sf_packx80(a);
        return;
    default:
        break;
    }
    x86sf_denormal_operands(&a, NULL, st);
    *exponent = int64_to_floatx80(a.exp);
    *significand = (floatx80){a.sig, (uint16_t)(a.sign << 15 | X80_BIAS)};
}

/* ---- x87 arithmetic and comparison with a float32/float64 memory operand ---------------- */

/* The memory operand is unpacked as it is (a denormal is a denormal operand, an SNaN stays
 * signalling), so the operation applies its own NaN rules and reports DE only when no NaN
 * decides the result, exactly as for two registers. */
static floatx80 x87_arith(enum x87_arith op, struct unpacked st0, struct unpacked m, bool reverse,
                          struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, true);
    struct op_ctx c = {.fmt = &f, .x87 = true};
    struct unpacked a = reverse ? m : st0;
    struct unpacked b = reverse ? st0 : m;

    st->c1 = false;
    switch (op) {
    case X87_ADD:
        return x86sf_packx80(add_core(a, b, false, &c, st));
    case X87_SUB:
        return x86sf_packx80(add_core(a, b, true, &c, st));
    case X87_MUL:
        return x86sf_packx80(mul_core(a, b, &c, st));
    default:
        return x86sf_packx80(div_core(a, b, &c, st));
    }
}

floatx80 floatx80_arith_f32(enum x87_arith op, floatx80 st0, float32 m, bool reverse,
                            struct x86_fpstatus *st)
{
    return x87_arith(op, x86sf_unpackx80(st0), unpack32(m, false), reverse, st);
}

floatx80 floatx80_arith_f64(enum x87_arith op, floatx80 st0, float64 m, bool reverse,
                            struct x86_fpstatus *st)
{
    return x87_arith(op, x86sf_unpackx80(st0), unpack64(m, false), reverse, st);
}

enum x86_relation floatx80_compare_f32(floatx80 st0, float32 m, bool signalling,
                                       struct x86_fpstatus *st)
{
    st->c1 = false;
    return compare_core(x86sf_unpackx80(st0), unpack32(m, false), signalling, st);
}

enum x86_relation floatx80_compare_f64(floatx80 st0, float64 m, bool signalling,
                                       struct x86_fpstatus *st)
{
    st->c1 = false;
    return compare_core(x86sf_unpackx80(st0), unpack64(m, false), signalling, st);
}
