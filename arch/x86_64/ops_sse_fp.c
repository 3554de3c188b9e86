/*
 * coremu x86_64 — the floating-point instructions of SSE, SSE2, SSE3 and SSE4.1: packed and
 * scalar arithmetic, comparisons, conversions, shuffles, horizontal operations, rounding and
 * dot products, all through the software floating point (softfloat.h) with MXCSR's rounding,
 * DAZ, FTZ and exception masks, so that every host computes the x86's bits.
 */
#include "config.h"

#include <string.h>

#include "cpu.h"
#include "ops.h"
#include "ops_sse.h"

#define U(v, es, i) x86_lane_u((v), (es), (i))
#define SET(v, es, i, x) x86_lane_set((v), (es), (i), (uint64_t)(x))

/* The source of a packed operation is 16 aligned bytes; that of a scalar one a lane. */
static void read_source(struct x86_cpu *cpu, const struct x86_uop *op, union x86_xmm *s,
                        unsigned es, bool scalar)
{
    x86_sse_read(cpu, op, 1, s, scalar ? es : 16, !scalar);
}

static uint64_t arith(unsigned fop, unsigned es, uint64_t a, uint64_t b, struct x86_fpstatus *st)
{
    if (es == 4) {
        float32 x = (float32)a, y = (float32)b;
        switch (fop) {
        case FP_ADD:
            return float32_add(x, y, st);
        case FP_SUB:
            return float32_sub(x, y, st);
        case FP_MUL:
            return float32_mul(x, y, st);
        case FP_DIV:
            return float32_div(x, y, st);
        case FP_MIN:
            return float32_min(x, y, st);
        case FP_MAX:
            return float32_max(x, y, st);
        default:
            return float32_sqrt(y, st);
        }
    }
    switch (fop) {
    case FP_ADD:
        return float64_add(a, b, st);
    case FP_SUB:
        return float64_sub(a, b, st);
    case FP_MUL:
        return float64_mul(a, b, st);
    case FP_DIV:
        return float64_div(a, b, st);
    case FP_MIN:
        return float64_min(a, b, st);
    case FP_MAX:
        return float64_max(a, b, st);
    default:
        return float64_sqrt(b, st);
    }
}

#define MXCSR_UM 0x0800u

/*
 * softfloat.h gives the masked responses, where underflow is a tiny result that is also
 * inexact. With underflow unmasked (MXCSR.UM = 0) a tiny result raises it even when exact: a
 * denormal result of an operation that rounds (not MIN/MAX, which only choose) says so.
 */
static void unmasked_underflow(const struct x86_cpu *cpu, unsigned es, uint64_t r,
                               struct x86_fpstatus *st)
{
    if (cpu->mxcsr & MXCSR_UM) {
        return;
    }
    bool denormal = es == 4 ? ((r >> 23) & 0xff) == 0 && (r & 0x7fffff) != 0
                            : ((r >> 52) & 0x7ff) == 0 && (r & 0xfffffffffffffull) != 0;
    if (denormal) {
        st->flags |= X86_FLAG_UE;
    }
}

/* A float32 or float64 input as floatx80, exactly, DAZ applied. */
static floatx80 widen(unsigned es, uint64_t a, bool daz)
{
    struct x86_fpstatus scratch = {.rounding = X86_ROUND_NEAREST, .precision = X86_PREC_64};
    if (es == 4) {
        if (daz && ((a >> 23) & 0xff) == 0) {
            a &= 0x80000000u;
        }
        return float32_to_floatx80((float32)a, &scratch);
    }
    if (daz && ((a >> 52) & 0x7ff) == 0) {
        a &= 0x8000000000000000ull;
    }
    return float64_to_floatx80(a, &scratch);
}

/* FP_CVT: the float64 to float32 conversion, for unbounded_inexact. */
#define FP_CVT 100

/*
 * Whether the result of a lane, rounded to its precision with an unbounded exponent, is
 * inexact. That is the precision exception an unmasked overflow or underflow reports (its
 * result is not delivered, so the masked response's inexactness does not count): computed in
 * floatx80, whose exponent range holds every such result; it is inexact when the 64-bit
 * rounding was, or when bits below the lane's precision remain.
 */
static bool unbounded_inexact(unsigned fop, unsigned es, uint64_t a, uint64_t b,
                              const struct x86_fpstatus *ctl)
{
    struct x86_fpstatus x = {.rounding = ctl->rounding, .precision = X86_PREC_64};
    floatx80 fa = widen(fop == FP_CVT ? 8 : es, a, ctl->daz), fb = widen(es, b, ctl->daz), r;
    unsigned precision = es == 4 ? 24 : 53;

    switch (fop) {
    case FP_ADD:
        r = floatx80_add(fa, fb, &x);
        break;
    case FP_SUB:
        r = floatx80_sub(fa, fb, &x);
        break;
    case FP_MUL:
        r = floatx80_mul(fa, fb, &x);
        break;
    case FP_DIV:
        r = floatx80_div(fa, fb, &x);
        break;
    default:
        r = fa;
        break;
    }
    return (x.flags & X86_FLAG_PE) || (r.mant & ((1ull << (64 - precision)) - 1)) != 0;
}

/* The flags of one lane's arithmetic into the instruction's: with overflow or underflow
 * unmasked and raised, the precision flag is the unbounded result's. */
static void lane_flags(const struct x86_cpu *cpu, struct x86_fpstatus *lane, unsigned fop,
                       unsigned es, uint64_t a, uint64_t b, struct x86_fpstatus *st)
{
    unsigned traps = ~(cpu->mxcsr >> 7) & (X86_FLAG_OE | X86_FLAG_UE);
    if (lane->flags & traps) {
        lane->flags &= (uint8_t)~X86_FLAG_PE;
        if (unbounded_inexact(fop, es, a, b, lane)) {
            lane->flags |= X86_FLAG_PE;
        }
    }
    st->flags |= lane->flags;
}

/* An arithmetic operation of an instruction: arith, then the unmasked underflow and overflow
 * rules. */
static uint64_t compute(const struct x86_cpu *cpu, unsigned fop, unsigned es, uint64_t a,
                        uint64_t b, struct x86_fpstatus *st)
{
    struct x86_fpstatus lane = *st;
    lane.flags = 0;
    uint64_t r = arith(fop, es, a, b, &lane);
    if (fop <= FP_DIV) {
        unmasked_underflow(cpu, es, r, &lane);
        lane_flags(cpu, &lane, fop, es, a, b, st);
    } else {
        st->flags |= lane.flags;
    }
    return r;
}

/* CVTSD2SS / CVTPD2PS of one lane, with the same rules. */
static uint64_t narrow(const struct x86_cpu *cpu, uint64_t a, struct x86_fpstatus *st)
{
    struct x86_fpstatus lane = *st;
    lane.flags = 0;
    uint64_t r = float64_to_float32(a, &lane);
    unmasked_underflow(cpu, 4, r, &lane);
    lane_flags(cpu, &lane, FP_CVT, 4, a, 0, st);
    return r;
}

/* ADD/SUB/MUL/DIV/MIN/MAX/SQRT PS/PD/SS/SD: a scalar form keeps the destination's upper
 * lanes (SQRTSS too: its result goes into the destination's low lane). */
X86_SSE_OP(fparith)
{
    unsigned fop = op->sub & 0xf, es = (op->sub & 0x10) ? 8 : 4;
    bool scalar = op->sub & 0x80;
    union x86_xmm s, r;
    struct x86_fpstatus st;

    x86_sse_check(cpu, op);
    read_source(cpu, op, &s, es, scalar);
    r = cpu->xmm[op->opnd[0].reg];
    x86_sse_fp_begin(cpu, &st);
    for (unsigned i = 0; i < (scalar ? 1 : 16 / es); i++) {
        SET(&r, es, i, compute(cpu, fop, es, U(&r, es, i), U(&s, es, i), &st));
    }
    x86_sse_fp_end(cpu, &st);
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(fplogic)
{
    union x86_xmm d, s;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    d = cpu->xmm[op->opnd[0].reg];
    for (unsigned i = 0; i < 16; i++) {
        uint8_t a = d.b[i], b = s.b[i];
        d.b[i] = (uint8_t)(op->sub == 0 ? a & b : op->sub == 1 ? ~a & b
                           : op->sub == 2 ? a | b : a ^ b);
    }
    x86_sse_write(cpu, op, 0, &d, 16, false);
    return X86_NEXT;
}

static enum x86_relation compare(unsigned es, uint64_t a, uint64_t b, bool signalling,
                                 struct x86_fpstatus *st)
{
    return es == 4 ? float32_compare((float32)a, (float32)b, signalling, st)
                   : float64_compare(a, b, signalling, st);
}

/* CMPPS/CMPPD/CMPSS/CMPSD with the eight predicates of the legacy encoding (imm8[2:0]). */
X86_SSE_OP(fpcmp)
{
    unsigned es = op->sub & 0xf, pred = (unsigned)op->imm & 7;
    bool scalar = op->sub & 0x80;
    /* LT, LE, NLT, NLE signal on QNaN; EQ, UNORD, NEQ, ORD only on SNaN */
    bool signalling = pred == 1 || pred == 2 || pred == 5 || pred == 6;
    union x86_xmm s, r;
    struct x86_fpstatus st;

    x86_sse_check(cpu, op);
    read_source(cpu, op, &s, es, scalar);
    r = cpu->xmm[op->opnd[0].reg];
    x86_sse_fp_begin(cpu, &st);
    for (unsigned i = 0; i < (scalar ? 1 : 16 / es); i++) {
        enum x86_relation rel = compare(es, U(&r, es, i), U(&s, es, i), signalling, &st);
        bool t;
        switch (pred & 3) {
        case 0:
            t = rel == X86_REL_EQUAL;
            break;
        case 1:
            t = rel == X86_REL_LESS;
            break;
        case 2:
            t = rel == X86_REL_LESS || rel == X86_REL_EQUAL;
            break;
        default:
            t = rel == X86_REL_UNORDERED;
            break;
        }
        SET(&r, es, i, (t != (pred >= 4)) ? ~0ull : 0);
    }
    x86_sse_fp_end(cpu, &st);
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

/* COMISS/COMISD (signalling) and UCOMISS/UCOMISD: ZF, PF, CF; OF, SF, AF cleared. */
X86_SSE_OP(comis)
{
    unsigned es = op->sub & 0xf;
    union x86_xmm s;
    struct x86_fpstatus st;

    x86_sse_check(cpu, op);
    read_source(cpu, op, &s, es, true);
    x86_sse_fp_begin(cpu, &st);
    enum x86_relation rel = compare(es, U(&cpu->xmm[op->opnd[0].reg], es, 0), U(&s, es, 0),
                                    op->sub & 0x80, &st);
    x86_sse_fp_end(cpu, &st);
    x86_flags_set(cpu, x86_relation_eflags(rel));
    return X86_NEXT;
}

/* ---- conversions ---------------------------------------------------------------------------- */

static uint64_t f32_to_int(float32 a, bool wide, bool trunc, struct x86_fpstatus *st)
{
    if (wide) {
        return (uint64_t)(trunc ? float32_to_int64_trunc(a, st) : float32_to_int64(a, st));
    }
    return (uint32_t)(trunc ? float32_to_int32_trunc(a, st) : float32_to_int32(a, st));
}

static uint64_t f64_to_int(float64 a, bool wide, bool trunc, struct x86_fpstatus *st)
{
    if (wide) {
        return (uint64_t)(trunc ? float64_to_int64_trunc(a, st) : float64_to_int64(a, st));
    }
    return (uint32_t)(trunc ? float64_to_int32_trunc(a, st) : float64_to_int32(a, st));
}

X86_SSE_OP(cvt)
{
    unsigned sub = op->sub;
    union x86_xmm s, r;
    struct x86_fpstatus st;
    unsigned src_size, out_size = 16;
    bool aligned = false;

    switch (sub) {
    case CVT_SI2SS:
    case CVT_SI2SD:
        src_size = op->opnd[1].size;
        break;
    case CVT_TSS2SI:
    case CVT_SS2SI:
    case CVT_SS2SD:
        src_size = 4;
        break;
    case CVT_TPD2PI:
    case CVT_PD2PI:
    case CVT_PD2PS:
    case CVT_DQ2PS:
    case CVT_PS2DQ:
    case CVT_TPS2DQ:
    case CVT_TPD2DQ:
    case CVT_PD2DQ:
        src_size = 16;
        aligned = true;
        break;
    default: /* PI2PS, PI2PD, TPS2PI, PS2PI, TSD2SI, SD2SI, PS2PD, SD2SS, DQ2PD */
        src_size = 8;
        break;
    }
    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, src_size, aligned);
    if (op->opnd[0].kind == X86_OPND_XMM) {
        r = cpu->xmm[op->opnd[0].reg];
    } else {
        memset(&r, 0, sizeof(r));
    }
    x86_sse_fp_begin(cpu, &st);
    bool wide = op->opnd[0].size == 8;
    switch (sub) {
    case CVT_PI2PS:
        for (unsigned i = 0; i < 2; i++) {
            SET(&r, 4, i, int32_to_float32((int32_t)U(&s, 4, i), &st));
        }
        break;
    case CVT_PI2PD:
    case CVT_DQ2PD:
        for (unsigned i = 0; i < 2; i++) {
            SET(&r, 8, i, int32_to_float64((int32_t)U(&s, 4, i), &st));
        }
        break;
    case CVT_SI2SS:
        SET(&r, 4, 0, src_size == 8 ? int64_to_float32((int64_t)U(&s, 8, 0), &st)
                                    : int32_to_float32((int32_t)U(&s, 4, 0), &st));
        break;
    case CVT_SI2SD:
        SET(&r, 8, 0, src_size == 8 ? int64_to_float64((int64_t)U(&s, 8, 0), &st)
                                    : int32_to_float64((int32_t)U(&s, 4, 0), &st));
        break;
    case CVT_TPS2PI:
    case CVT_PS2PI:
        for (unsigned i = 0; i < 2; i++) {
            SET(&r, 4, i, f32_to_int((float32)U(&s, 4, i), false, sub == CVT_TPS2PI, &st));
        }
        out_size = 8;
        break;
    case CVT_TPD2PI:
    case CVT_PD2PI:
        for (unsigned i = 0; i < 2; i++) {
            SET(&r, 4, i, f64_to_int(U(&s, 8, i), false, sub == CVT_TPD2PI, &st));
        }
        out_size = 8;
        break;
    case CVT_TSS2SI:
    case CVT_SS2SI:
        memset(&r, 0, sizeof(r));
        SET(&r, 8, 0, f32_to_int((float32)U(&s, 4, 0), wide, sub == CVT_TSS2SI, &st));
        out_size = op->opnd[0].size;
        break;
    case CVT_TSD2SI:
    case CVT_SD2SI:
        memset(&r, 0, sizeof(r));
        SET(&r, 8, 0, f64_to_int(U(&s, 8, 0), wide, sub == CVT_TSD2SI, &st));
        out_size = op->opnd[0].size;
        break;
    case CVT_PS2PD:
        for (unsigned i = 0; i < 2; i++) {
            SET(&r, 8, i, float32_to_float64((float32)U(&s, 4, i), &st));
        }
        break;
    case CVT_PD2PS:
        for (unsigned i = 0; i < 2; i++) {
            SET(&r, 4, i, narrow(cpu, U(&s, 8, i), &st));
        }
        SET(&r, 8, 1, 0);
        break;
    case CVT_SS2SD:
        SET(&r, 8, 0, float32_to_float64((float32)U(&s, 4, 0), &st));
        break;
    case CVT_SD2SS:
        SET(&r, 4, 0, narrow(cpu, U(&s, 8, 0), &st));
        break;
    case CVT_DQ2PS:
        for (unsigned i = 0; i < 4; i++) {
            SET(&r, 4, i, int32_to_float32((int32_t)U(&s, 4, i), &st));
        }
        break;
    case CVT_PS2DQ:
    case CVT_TPS2DQ:
        for (unsigned i = 0; i < 4; i++) {
            SET(&r, 4, i, f32_to_int((float32)U(&s, 4, i), false, sub == CVT_TPS2DQ, &st));
        }
        break;
    default: /* CVT_TPD2DQ, CVT_PD2DQ */
        for (unsigned i = 0; i < 2; i++) {
            SET(&r, 4, i, f64_to_int(U(&s, 8, i), false, sub == CVT_TPD2DQ, &st));
        }
        SET(&r, 8, 1, 0);
        break;
    }
    x86_sse_fp_end(cpu, &st);
    x86_sse_write(cpu, op, 0, &r, out_size, false);
    return X86_NEXT;
}

/* ---- shuffles and moves of lanes ------------------------------------------------------------ */

X86_SSE_OP(shufp)
{
    unsigned es = op->sub, n = 16 / es, imm = (unsigned)op->imm;
    unsigned bits = es == 4 ? 2 : 1;
    union x86_xmm d, s, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    d = cpu->xmm[op->opnd[0].reg];
    for (unsigned i = 0; i < n; i++) {
        unsigned sel = (imm >> (bits * i)) & (n - 1);
        SET(&r, es, i, U(i < n / 2 ? &d : &s, es, sel));
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(unpckp)
{
    unsigned es = op->sub & 0xf, n = 16 / es / 2, base = (op->sub & 0x80) ? n : 0;
    union x86_xmm d, s, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    d = cpu->xmm[op->opnd[0].reg];
    for (unsigned i = 0; i < n; i++) {
        SET(&r, es, 2 * i, U(&d, es, base + i));
        SET(&r, es, 2 * i + 1, U(&s, es, base + i));
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(movmskp)
{
    unsigned es = op->sub;
    union x86_xmm s, r;
    uint64_t mask = 0;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, false);
    for (unsigned i = 0; i < 16 / es; i++) {
        mask |= (U(&s, es, i) >> (es * 8 - 1)) << i;
    }
    memset(&r, 0, sizeof(r));
    SET(&r, 8, 0, mask);
    x86_sse_write(cpu, op, 0, &r, 4, false);
    return X86_NEXT;
}

/* ---- approximations ------------------------------------------------------------------------- */

/*
 * RCPPS/RCPSS and RSQRTPS/RSQRTSS: the SDM promises a relative error of at most 1.5 * 2^-12
 * and leaves the bits to the implementation (Intel's and AMD's tables differ). This computes
 * the exact value in float64 and keeps the 12 significant bits nearest to it, which is within
 * that bound. No exceptions and no MXCSR update, as on the hardware; denormal inputs count as
 * zeros and results below the float32 normal range are flushed to zero.
 */
static float32 approx(float32 a, bool rsqrt)
{
    uint32_t sign = a & 0x80000000u, exp = (a >> 23) & 0xff, frac = a & 0x7fffff;
    struct x86_fpstatus st = {.rounding = X86_ROUND_NEAREST, .precision = X86_PREC_64};

    if (exp == 0xff && frac) {
        return a | 0x400000u; /* NaN: quietened */
    }
    if (exp == 0) {
        return sign | 0x7f800000u; /* zero or denormal: infinity of its sign */
    }
    if (rsqrt && sign) {
        return 0xffc00000u; /* the default NaN */
    }
    if (exp == 0xff) {
        return sign; /* 1/inf: zero */
    }
    float64 x = float32_to_float64(a & 0x7fffffffu, &st);
    if (rsqrt) {
        x = float64_sqrt(x, &st);
    }
    float64 q = float64_div(0x3ff0000000000000ull, x, &st); /* 1.0 / x */
    /* round the significand to 12 bits (11 fraction bits) */
    q = (q + (1ull << 40)) & ~((1ull << 41) - 1);
    float32 f = float64_to_float32(q, &st);
    if (((f >> 23) & 0xff) == 0) {
        f = 0;
    }
    return sign | f;
}

X86_SSE_OP(rcp)
{
    bool scalar = op->sub & 1, rsqrt = op->sub & 2;
    union x86_xmm s, r;

    x86_sse_check(cpu, op);
    read_source(cpu, op, &s, 4, scalar);
    r = cpu->xmm[op->opnd[0].reg];
    for (unsigned i = 0; i < (scalar ? 1u : 4u); i++) {
        SET(&r, 4, i, approx((float32)U(&s, 4, i), rsqrt));
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

/* ---- SSE3: horizontal and alternating ------------------------------------------------------- */

X86_SSE_OP(hadd)
{
    unsigned es = op->sub & 0xf, n = 16 / es, fop = (op->sub & 0x80) ? FP_SUB : FP_ADD;
    union x86_xmm d, s, r;
    struct x86_fpstatus st;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    d = cpu->xmm[op->opnd[0].reg];
    x86_sse_fp_begin(cpu, &st);
    for (unsigned i = 0; i < n; i++) {
        const union x86_xmm *v = i < n / 2 ? &d : &s;
        unsigned j = 2 * (i % (n / 2));
        SET(&r, es, i, compute(cpu, fop, es, U(v, es, j), U(v, es, j + 1), &st));
    }
    x86_sse_fp_end(cpu, &st);
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(addsub)
{
    unsigned es = op->sub;
    union x86_xmm d, s, r;
    struct x86_fpstatus st;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    d = cpu->xmm[op->opnd[0].reg];
    x86_sse_fp_begin(cpu, &st);
    for (unsigned i = 0; i < 16 / es; i++) {
        SET(&r, es, i,
            compute(cpu, (i & 1) ? FP_ADD : FP_SUB, es, U(&d, es, i), U(&s, es, i), &st));
    }
    x86_sse_fp_end(cpu, &st);
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

/* ---- SSE4.1 --------------------------------------------------------------------------------- */

/* ROUNDPS/PD/SS/SD: imm8[1:0] the rounding unless imm8[2] (MXCSR.RC); imm8[3] suppresses the
 * precision exception. */
X86_SSE_OP(round)
{
    unsigned es = op->sub & 0xf, imm = (unsigned)op->imm;
    bool scalar = op->sub & 0x80;
    union x86_xmm s, r;
    struct x86_fpstatus st;

    x86_sse_check(cpu, op);
    read_source(cpu, op, &s, es, scalar);
    r = cpu->xmm[op->opnd[0].reg];
    x86_sse_fp_begin(cpu, &st);
    if (!(imm & 4)) {
        st.rounding = (uint8_t)(imm & 3);
    }
    for (unsigned i = 0; i < (scalar ? 1 : 16 / es); i++) {
        uint64_t v = U(&s, es, i);
        SET(&r, es, i, es == 4 ? float32_round_to_int((float32)v, &st)
                               : float64_round_to_int(v, &st));
    }
    if (imm & 8) {
        st.flags &= (uint8_t)~X86_FLAG_PE;
    }
    x86_sse_fp_end(cpu, &st);
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

/* DPPS / DPPD: the products imm8[7:4] selects (others +0.0), summed pairwise, the sum broadcast
 * to the lanes imm8[3:0] selects (others +0.0). */
X86_SSE_OP(dpp)
{
    unsigned es = op->sub, n = 16 / es, imm = (unsigned)op->imm;
    union x86_xmm d, s, r;
    struct x86_fpstatus st;
    uint64_t t[4] = {0, 0, 0, 0};

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    d = cpu->xmm[op->opnd[0].reg];
    x86_sse_fp_begin(cpu, &st);
    for (unsigned i = 0; i < n; i++) {
        if ((imm >> (4 + i)) & 1) {
            t[i] = compute(cpu, FP_MUL, es, U(&d, es, i), U(&s, es, i), &st);
        }
    }
    /* each stage's exceptions are taken before the next stage runs (an unmasked overflow of
     * a product must not go on to raise IE in the sum, as the hardware shows) */
    x86_sse_fp_end(cpu, &st);
    st.flags = 0;
    uint64_t sum;
    if (es == 4) {
        uint64_t lo = compute(cpu, FP_ADD, 4, t[0], t[1], &st);
        uint64_t hi = compute(cpu, FP_ADD, 4, t[2], t[3], &st);
        x86_sse_fp_end(cpu, &st);
        st.flags = 0;
        sum = compute(cpu, FP_ADD, 4, lo, hi, &st);
    } else {
        sum = compute(cpu, FP_ADD, 8, t[0], t[1], &st);
    }
    for (unsigned i = 0; i < n; i++) {
        SET(&r, es, i, ((imm >> i) & 1) ? sum : 0);
    }
    x86_sse_fp_end(cpu, &st);
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(extractps)
{
    union x86_xmm s, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, false);
    memset(&r, 0, sizeof(r));
    SET(&r, 4, 0, U(&s, 4, (unsigned)op->imm & 3));
    x86_sse_write(cpu, op, 0, &r, 4, false);
    return X86_NEXT;
}

/* INSERTPS: a register source gives its lane imm8[7:6], memory its doubleword; it goes to the
 * lane imm8[5:4]; then the lanes of imm8[3:0] are cleared. */
X86_SSE_OP(insertps)
{
    unsigned imm = (unsigned)op->imm;
    union x86_xmm s, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 4, false);
    r = cpu->xmm[op->opnd[0].reg];
    uint64_t v = U(&s, 4, op->opnd[1].kind == X86_OPND_MEM ? 0 : (imm >> 6) & 3);
    SET(&r, 4, (imm >> 4) & 3, v);
    for (unsigned i = 0; i < 4; i++) {
        if ((imm >> i) & 1) {
            SET(&r, 4, i, 0);
        }
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}
