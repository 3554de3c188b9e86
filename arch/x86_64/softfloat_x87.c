/*
 * coremu x86_64 — the x87 transcendental instructions in software: F2XM1, FYL2X, FYL2XP1,
 * FPATAN, FSIN, FCOS, FSINCOS, FPTAN.
 *
 * The SDM promises less than 1 ulp of error (1.5 ulps in the directed rounding modes), not
 * correct rounding, so no software can promise the hardware's bits. What is done here: the
 * function is evaluated in 128-bit arithmetic (series after argument reduction, error a few
 * units of 2^-125) and rounded once with the status rounding mode, i.e. correctly rounded in
 * all but astronomically rare cases. FSIN, FCOS, FSINCOS and FPTAN reduce their argument with
 * the x87's own 66-bit pi (SDM Vol. 1 8.3.8: they approximate f(x * pi / Pi)), exactly, so
 * large arguments land where the hardware's do. tests/test_softfloat.c measures and prints how
 * many results are bit-identical to the host's; special operands (zeros, infinities, NaNs,
 * unsupported encodings, out-of-range arguments) follow the SDM's tables and are exact.
 */
#include "softfloat_internal.h"

#include <stddef.h>

/*
 * A 128-bit working value: sig * 2^(exp - 127) with bit 127 of sig set, or zero (sig == 0).
 * Every operation folds what it drops into bit 0 (sticky), so a result that is close to, but
 * not on, a 64-bit value never looks like that value: sin(x) for a tiny x stays below x and
 * rounds down in the directed modes, as it must.
 */
struct wide {
    bool sign;
    int64_t exp;
    u128 sig;
};

static struct wide w_make(bool sign, int64_t exp, u128 sig)
{
    if (sig == 0) {
        return (struct wide){sign, 0, 0};
    }
    int lz = clz128(sig);
    return (struct wide){sign, exp - lz, sig << lz};
}

static struct wide w_const(uint64_t hi, uint64_t lo, int64_t exp)
{
    return (struct wide){false, exp, (u128)hi << 64 | lo};
}

static struct wide w_from_unpacked(struct unpacked u)
{
    return (struct wide){u.sign, u.exp, (u128)u.sig << 64};
}

static struct wide w_from_uint(uint64_t v)
{
    return w_make(false, 127, v);
}

static struct wide w_neg(struct wide a)
{
    a.sign = !a.sign;
    return a;
}

/* The high 128 bits of the 256-bit product. */
static u128 mul_high(u128 a, u128 b)
{
    uint64_t a1 = (uint64_t)(a >> 64), a0 = (uint64_t)a;
    uint64_t b1 = (uint64_t)(b >> 64), b0 = (uint64_t)b;
    u128 p00 = (u128)a0 * b0;
    u128 p01 = (u128)a0 * b1;
    u128 p10 = (u128)a1 * b0;
    u128 p11 = (u128)a1 * b1;
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    bool sticky = (uint64_t)p00 != 0 || (uint64_t)mid != 0;
    return (p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64)) | sticky;
}

static struct wide w_mul(struct wide a, struct wide b)
{
    if (a.sig == 0 || b.sig == 0) {
        return (struct wide){a.sign ^ b.sign, 0, 0};
    }
    return w_make(a.sign ^ b.sign, a.exp + b.exp + 1, mul_high(a.sig, b.sig));
}

static struct wide w_div(struct wide a, struct wide b)
{
    if (a.sig == 0) {
        return (struct wide){a.sign ^ b.sign, 0, 0};
    }
    /* 128 quotient bits of a.sig / b.sig, from 2^0 down to 2^-127. */
    u128 rem = a.sig;
    u128 q = 0;
    bool carry = false;
    for (int i = 0; i < 128; i++) {
        q <<= 1;
        if (carry || rem >= b.sig) {
            rem -= b.sig;
            q |= 1;
        }
        carry = rem >> 127;
        rem <<= 1;
    }
    return w_make(a.sign ^ b.sign, a.exp - b.exp, q | (carry || rem != 0));
}

static struct wide w_add(struct wide a, struct wide b)
{
    if (a.sig == 0) {
        return b;
    }
    if (b.sig == 0) {
        return a;
    }
    if (b.exp > a.exp || (b.exp == a.exp && b.sig > a.sig)) {
        struct wide t = a;
        a = b;
        b = t;
    }
    int64_t shift = a.exp - b.exp;
    /* one bit of headroom; what b loses to the alignment becomes a sticky bit */
    u128 x = a.sig >> 1;
    u128 y = shift >= 127 ? 0 : (b.sig >> 1) >> shift;
    bool sticky = (a.sig & 1) || shift >= 127 || (y << shift << 1) != b.sig;
    return w_make(a.sign, a.exp + 1, a.sign == b.sign ? (x + y) | sticky : (x - y) - sticky);
}

static struct wide w_sub(struct wide a, struct wide b)
{
    return w_add(a, w_neg(b));
}

/* Whether a term of this exponent no longer matters to a sum of that exponent. */
static bool negligible(struct wide term, struct wide sum)
{
    return term.sig == 0 || term.exp < sum.exp - 132;
}

/* Rounds a (nonzero, inexact) working value to floatx80 with the status rounding. */
static floatx80 w_round(struct wide a, struct x86_fpstatus *st)
{
    struct format f = x86sf_x80_format(st, false);
    return x86sf_packx80(x86sf_round_pack(a.sign, a.exp, a.sig | 1, &f, false, st));
}

static const struct wide *ln2_wide(void)
{
    static const struct wide ln2 = {false, -1,
                                    (u128)0xb17217f7d1cf79abull << 64 | 0xc9e3b39803f2f6afull};
    return &ln2;
}

static struct wide pi_wide(int64_t exp)
{
    return w_const(0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, exp);
}

/* e^y - 1 by its series, |y| < 1. */
static struct wide w_expm1(struct wide y)
{
    struct wide sum = y;
    struct wide term = y;
    for (uint64_t k = 2; k < 80; k++) {
        term = w_div(w_mul(term, y), w_from_uint(k));
        sum = w_add(sum, term);
        if (negligible(term, sum)) {
            break;
        }
    }
    return sum;
}

/* 2 atanh(s) = ln((1 + s) / (1 - s)), |s| < 0.2. */
static struct wide w_2atanh(struct wide s)
{
    struct wide s2 = w_mul(s, s);
    struct wide sum = s;
    struct wide power = s;
    for (uint64_t k = 3; k < 200; k += 2) {
        power = w_mul(power, s2);
        struct wide term = w_div(power, w_from_uint(k));
        sum = w_add(sum, term);
        if (negligible(term, sum)) {
            break;
        }
    }
    sum.exp++;
    return sum;
}

/* ln(1 + x) for a value x > -1 given as 1 + x = m * 2^e exactly: brought to [0.70, 1.42]. */
static struct wide w_log2_of(struct wide m, int64_t e)
{
    static const u128 sqrt2_sig = (u128)0xb504f333f9de6484ull << 64 | 0x597d89b3754abe9full;
    /* m in [1, 2): above sqrt(2), use m / 2 */
    if (m.sig > sqrt2_sig) {
        m.exp--;
        e++;
    }
    struct wide one = w_from_uint(1);
    struct wide s = w_div(w_sub(m, one), w_add(m, one));
    struct wide log2m = w_div(w_2atanh(s), *ln2_wide());
    struct wide ew = e < 0 ? w_neg(w_from_uint((uint64_t)-e)) : w_from_uint((uint64_t)e);
    return w_add(ew, log2m);
}

/* atan(u), 0 <= u <= 1. */
static struct wide w_atan(struct wide u)
{
    /* tan(pi/8) = sqrt(2) - 1 */
    static const u128 tan_pi8_sig = (u128)0xd413cccfe7799211ull << 64 | 0x65f626cdd52afa7cull;
    struct wide base = {false, 0, 0};
    if (u.exp > -2 || (u.exp == -2 && u.sig > tan_pi8_sig)) {
        struct wide one = w_from_uint(1);
        u = w_div(w_sub(u, one), w_add(u, one));
        base = pi_wide(-1); /* pi/4 */
    }
    struct wide u2 = w_mul(u, u);
    struct wide sum = u;
    struct wide power = u;
    for (uint64_t k = 3; k < 400; k += 2) {
        power = w_neg(w_mul(power, u2));
        struct wide term = w_div(power, w_from_uint(k));
        sum = w_add(sum, term);
        if (negligible(term, sum)) {
            break;
        }
    }
    return w_add(base, sum);
}

/* sin(t) and cos(t), |t| <= pi/4 (a little more is fine). */
static struct wide w_sin(struct wide t)
{
    struct wide t2 = w_mul(t, t);
    struct wide sum = t;
    struct wide term = t;
    for (uint64_t k = 1; k < 60; k++) {
        term = w_neg(w_div(w_mul(term, t2), w_from_uint((2 * k) * (2 * k + 1))));
        sum = w_add(sum, term);
        if (negligible(term, sum)) {
            break;
        }
    }
    return sum;
}

static struct wide w_cos(struct wide t)
{
    struct wide t2 = w_mul(t, t);
    struct wide sum = w_from_uint(1);
    struct wide term = sum;
    for (uint64_t k = 1; k < 60; k++) {
        term = w_neg(w_div(w_mul(term, t2), w_from_uint((2 * k - 1) * (2 * k))));
        sum = w_add(sum, term);
        if (negligible(term, sum)) {
            break;
        }
    }
    return sum;
}

/* ---- F2XM1 ----------------------------------------------------------------------------- */

floatx80 floatx80_f2xm1(floatx80 fa, struct x86_fpstatus *st)
{
    struct unpacked a = x86sf_unpackx80(fa);
    struct unpacked r;

    st->c1 = false;
    if (x86sf_nan_operand(&a, st, &r)) {
        return x86sf_packx80(r);
    }
    switch (a.cls) {
    case CLS_ZERO:
        return fa;
    case CLS_INF:
        /* 2^-inf - 1 = -1 */
        return a.sign ? (floatx80){1ull << 63, 0xbfff} : fa;
    default:
        break;
    }
    x86sf_denormal_operands(&a, NULL, st);
    if (a.exp == 0 && a.sig == 1ull << 63) {
        /* 2^1 - 1 = 1 and 2^-1 - 1 = -0.5 are exact, but the host reports them inexact and
         * rounds the first as a value just below 1 (1 - ulp when rounding down or to zero,
         * 1.0 with C1 otherwise) */
        if (a.sign) {
            st->flags |= X86_FLAG_PE;
            return (floatx80){1ull << 63, 0xbffe};
        }
        return w_round((struct wide){false, -1, ~(u128)0}, st);
    }
    return w_round(w_expm1(w_mul(w_from_unpacked(a), *ln2_wide())), st);
}

/* ---- FYL2X, FYL2XP1 -------------------------------------------------------------------- */

/* y * L where L is log2(x) or log2(1 + x), given its class: the multiplication's rules for
 * zeros and infinities (0 * inf is invalid), one rounding for finite products. */
static floatx80 times_log(struct unpacked y, enum fclass l_cls, bool l_sign, struct wide l,
                          bool l_exact, struct x86_fpstatus *st)
{
    bool sign = y.sign ^ l_sign;
    bool y_inf = y.cls == CLS_INF;
    bool l_inf = l_cls == CLS_INF;

    if ((y_inf && l_cls == CLS_ZERO) || (l_inf && y.cls == CLS_ZERO)) {
        return x86sf_packx80(x86sf_invalid(st));
    }
    if (y_inf || l_inf) {
        return x86sf_packx80(x86sf_make_inf(sign));
    }
    if (y.cls == CLS_ZERO || l_cls == CLS_ZERO) {
        return x86sf_packx80(x86sf_make_zero(sign));
    }
    struct wide p = w_mul(w_from_unpacked(y), l);
    p.sign = sign;
    if (l_exact) {
        /* log2 of a power of two: y * k is a product of two 64-bit values, exact in 128; the
         * host reports it inexact all the same */
        struct format f = x86sf_x80_format(st, false);
        struct unpacked r = x86sf_round_pack(sign, p.exp, p.sig, &f, false, st);
        st->flags |= X86_FLAG_PE;
        if (p.exp < X80_EMIN) {
            st->flags |= X86_FLAG_UE; /* tiny, and "inexact" */
        }
        return x86sf_packx80(r);
    }
    return w_round(p, st);
}

floatx80 floatx80_fyl2x(floatx80 fx, floatx80 fy, struct x86_fpstatus *st)
{
    struct unpacked x = x86sf_unpackx80(fx);
    struct unpacked y = x86sf_unpackx80(fy);
    struct unpacked r;

    st->c1 = false;
    if (x86sf_nan_operands(&x, &y, true, st, &r)) {
        return x86sf_packx80(r);
    }
    if (x.sign && x.cls != CLS_ZERO) {
        return x86sf_packx80(x86sf_invalid(st));
    }
    /* a zero x decides the result without looking at y: no DE for a denormal y then */
    x86sf_denormal_operands(&x, x.cls == CLS_ZERO ? NULL : &y, st);
    if (x.cls == CLS_ZERO) {
        /* log2(0) = -inf: y * -inf, with divide-by-zero when y is finite and nonzero */
        if (y.cls == CLS_FINITE) {
            st->flags |= X86_FLAG_ZE;
        }
        return times_log(y, CLS_INF, true, (struct wide){0}, false, st);
    }
    if (x.cls == CLS_INF) {
        return times_log(y, CLS_INF, false, (struct wide){0}, false, st);
    }
    if (x.sig == 1ull << 63) {
        /* a power of two: log2 is the exponent, exactly */
        enum fclass cls = x.exp == 0 ? CLS_ZERO : CLS_FINITE;
        struct wide l = x.exp < 0 ? w_neg(w_from_uint((uint64_t)(-(int64_t)x.exp)))
                                  : w_from_uint((uint64_t)x.exp);
        return times_log(y, cls, x.exp < 0, l, true, st);
    }
    struct wide m = {false, 0, (u128)x.sig << 64};
    struct wide l = w_log2_of(m, x.exp);
    return times_log(y, CLS_FINITE, l.sign, l, false, st);
}

floatx80 floatx80_fyl2xp1(floatx80 fx, floatx80 fy, struct x86_fpstatus *st)
{
    struct unpacked x = x86sf_unpackx80(fx);
    struct unpacked y = x86sf_unpackx80(fy);
    struct unpacked r;

    st->c1 = false;
    if (x86sf_nan_operands(&x, &y, true, st, &r)) {
        return x86sf_packx80(r);
    }
    if (x.cls == CLS_INF && x.sign) {
        /* log2(1 - inf): invalid, before any denormal y is looked at (as on the host) */
        return x86sf_packx80(x86sf_invalid(st));
    }
    x86sf_denormal_operands(&x, &y, st);
    if (x.cls == CLS_ZERO) {
        return times_log(y, CLS_ZERO, x.sign, (struct wide){0}, false, st);
    }
    if (x.cls == CLS_INF) {
        /* outside the domain the SDM defines (|x| < 1 - sqrt(2)/2): log2(1 + inf) */
        return times_log(y, CLS_INF, false, (struct wide){0}, false, st);
    }
    /* ln(1 + x) = 2 atanh(x / (2 + x)), accurate for small x */
    struct wide xw = w_from_unpacked(x);
    struct wide l;
    if (x.exp < -2) {
        struct wide s = w_div(xw, w_add(w_from_uint(2), xw));
        l = w_div(w_2atanh(s), *ln2_wide());
    } else {
        struct wide m = w_add(w_from_uint(1), xw);
        if (m.sig == 0 || m.sign) {
            return x86sf_packx80(x86sf_invalid(st));
        }
        int64_t e = m.exp;
        m.exp = 0;
        l = w_log2_of(m, e);
    }
    return times_log(y, CLS_FINITE, l.sign, l, false, st);
}

/* ---- FPATAN ---------------------------------------------------------------------------- */

floatx80 floatx80_fpatan(floatx80 fx, floatx80 fy, struct x86_fpstatus *st)
{
    struct unpacked x = x86sf_unpackx80(fx);
    struct unpacked y = x86sf_unpackx80(fy);
    struct unpacked r;

    st->c1 = false;
    if (x86sf_nan_operands(&x, &y, true, st, &r)) {
        return x86sf_packx80(r);
    }
    x86sf_denormal_operands(&x, &y, st);
    struct wide angle;
    if (y.cls == CLS_ZERO) {
        if (!x.sign) {
            return x86sf_packx80(x86sf_make_zero(y.sign));
        }
        angle = pi_wide(1);
    } else if (x.cls == CLS_ZERO || (y.cls == CLS_INF && x.cls != CLS_INF)) {
        angle = pi_wide(0); /* pi/2 */
    } else if (y.cls == CLS_INF) {
        /* both infinite: pi/4 or 3pi/4 */
        angle = x.sign ? w_mul(pi_wide(-1), w_from_uint(3)) : pi_wide(-1);
    } else if (x.cls == CLS_INF) {
        if (!x.sign) {
            return x86sf_packx80(x86sf_make_zero(y.sign));
        }
        angle = pi_wide(1);
    } else {
        struct wide xw = w_from_unpacked(x);
        struct wide yw = w_from_unpacked(y);
        xw.sign = yw.sign = false;
        bool swap = y.exp > x.exp || (y.exp == x.exp && y.sig > x.sig);
        struct wide q = swap ? w_div(xw, yw) : w_div(yw, xw);
        angle = w_atan(q);
        if (swap) {
            angle = w_sub(pi_wide(0), angle);
        }
        if (x.sign) {
            angle = w_sub(pi_wide(1), angle);
        }
    }
    angle.sign = y.sign;
    return w_round(angle, st);
}

/* ---- FSIN, FCOS, FSINCOS, FPTAN -------------------------------------------------------- */

/* The x87's pi: 0.C90FDAA22168C234C (hex) * 2^2, so pi/2 = K * 2^-67. */
#define X87_PI_K_HI 0xcull
#define X87_PI_K_LO 0x90fdaa22168c234cull

/*
 * Reduces a finite nonzero |x| < 2^63 to t in [-pi/4, pi/4] and the quadrant (x = q * Pi/2 +
 * r exactly, with the x87's Pi; t = r * pi / Pi). Returns false for |x| >= 2^63 (C2).
 */
static bool reduce(struct unpacked x, struct wide *t, unsigned *quadrant)
{
    const u128 k = (u128)X87_PI_K_HI << 64 | X87_PI_K_LO;

    if (x.exp >= 63) {
        return false;
    }
    *quadrant = 0;
    if (x.exp < -1) {
        /* |x| < 0.5 < Pi/4: nothing to take off (see below) */
        *t = w_from_unpacked(x);
        t->sign = false;
        return true;
    }
    /* |x| / 2^-67 = x.sig * 2^(exp + 4), an integer: its remainder by K, bit by bit. */
    u128 rem = 0;
    uint64_t q = 0;
    int bits = 64 + x.exp + 4;
    for (int i = 0; i < bits; i++) {
        unsigned bit = i < 64 ? (unsigned)(x.sig >> (63 - i)) & 1 : 0;
        rem = (rem << 1) | bit;
        q <<= 1;
        if (rem >= k) {
            rem -= k;
            q |= 1;
        }
    }
    /* nearest multiple: |r| <= Pi/4 */
    bool negative = false;
    if ((rem << 1) > k) {
        rem = k - rem;
        q++;
        negative = true;
    }
    *quadrant = (unsigned)(q & 3);
    if (q == 0) {
        /* |x| <= Pi/4 needs no reduction, and the host then evaluates at x itself (scaling
         * by pi / Pi here matched the host less often) */
        *t = w_from_unpacked(x);
        t->sign = false;
        return true;
    }
    /* t = (rem / K) * (pi / 2) */
    struct wide frac = w_div(w_make(false, 127, rem), w_make(false, 127, k));
    *t = w_mul(frac, pi_wide(0));
    t->sign = negative;
    return true;
}

/* sin or cos of x after reduction (x's sign not yet applied; |x| treated). */
static struct wide sin_cos_reduced(struct wide t, unsigned quadrant, bool want_cos)
{
    unsigned q = (quadrant + (want_cos ? 1 : 0)) & 3;
    /* sin(t + q pi/2): q = 0 sin t, 1 cos t, 2 -sin t, 3 -cos t */
    struct wide v = (q & 1) ? w_cos(t) : w_sin(t);
    if (q & 2) {
        v = w_neg(v);
    }
    return v;
}

/* The common cases of the four instructions: NaN, unsupported, infinity, out of range. Returns
 * true when *out (and the C2 verdict in *in_range) is the answer. */
static bool trig_special(struct unpacked *x, floatx80 fa, bool *in_range, floatx80 *out,
                         struct x86_fpstatus *st)
{
    struct unpacked r;

    *in_range = true;
    st->c1 = false;
    if (x86sf_nan_operand(x, st, &r)) {
        *out = x86sf_packx80(r);
        return true;
    }
    if (x->cls == CLS_INF) {
        *out = x86sf_packx80(x86sf_invalid(st));
        return true;
    }
    if (x->cls == CLS_FINITE && x->exp >= 63) {
        *in_range = false;
        *out = fa;
        return true;
    }
    return false;
}

bool floatx80_sin(floatx80 fa, floatx80 *result, struct x86_fpstatus *st)
{
    struct unpacked x = x86sf_unpackx80(fa);
    bool in_range;
    struct wide t;
    unsigned quadrant;

    if (trig_special(&x, fa, &in_range, result, st)) {
        return in_range;
    }
    x86sf_denormal_operands(&x, NULL, st);
    if (x.cls == CLS_ZERO) {
        *result = fa;
        return true;
    }
    reduce(x, &t, &quadrant);
    struct wide v = sin_cos_reduced(t, quadrant, false);
    v.sign ^= x.sign;
    *result = w_round(v, st);
    return true;
}

bool floatx80_cos(floatx80 fa, floatx80 *result, struct x86_fpstatus *st)
{
    struct unpacked x = x86sf_unpackx80(fa);
    bool in_range;
    struct wide t;
    unsigned quadrant;

    if (trig_special(&x, fa, &in_range, result, st)) {
        return in_range;
    }
    x86sf_denormal_operands(&x, NULL, st);
    if (x.cls == CLS_ZERO) {
        *result = (floatx80){1ull << 63, 0x3fff};
        return true;
    }
    reduce(x, &t, &quadrant);
    *result = w_round(sin_cos_reduced(t, quadrant, true), st);
    return true;
}

bool floatx80_sincos(floatx80 fa, floatx80 *sine, floatx80 *cosine, struct x86_fpstatus *st)
{
    struct unpacked x = x86sf_unpackx80(fa);
    bool in_range;
    struct wide t;
    unsigned quadrant;

    if (trig_special(&x, fa, &in_range, sine, st)) {
        *cosine = *sine;
        return in_range;
    }
    x86sf_denormal_operands(&x, NULL, st);
    if (x.cls == CLS_ZERO) {
        *sine = fa;
        *cosine = (floatx80){1ull << 63, 0x3fff};
        return true;
    }
    reduce(x, &t, &quadrant);
    struct wide s = sin_cos_reduced(t, quadrant, false);
    s.sign ^= x.sign;
    *cosine = w_round(sin_cos_reduced(t, quadrant, true), st);
    /* C1 tells how the sine (st1) was rounded, as on the host */
    *sine = w_round(s, st);
    return true;
}

bool floatx80_tan(floatx80 fa, floatx80 *result, floatx80 *pushed, struct x86_fpstatus *st)
{
    struct unpacked x = x86sf_unpackx80(fa);
    bool in_range;
    struct wide t;
    unsigned quadrant;

    *pushed = (floatx80){1ull << 63, 0x3fff};
    if (trig_special(&x, fa, &in_range, result, st)) {
        if (in_range) {
            *pushed = *result; /* a NaN result is pushed in place of the 1.0 */
        }
        return in_range;
    }
    x86sf_denormal_operands(&x, NULL, st);
    if (x.cls == CLS_ZERO) {
        *result = fa;
        return true;
    }
    reduce(x, &t, &quadrant);
    /* tan(t + q pi/2) = tan t for even q, -1 / tan t = -cos t / sin t for odd q */
    struct wide s = w_sin(t);
    struct wide c = w_cos(t);
    struct wide v = (quadrant & 1) ? w_neg(w_div(c, s)) : w_div(s, c);
    v.sign ^= x.sign;
    *result = w_round(v, st);
    return true;
}
