/*
 * coremu x86_64 — the integer vector instructions of MMX, SSE2, SSSE3, SSE4.1 and SSE4.2:
 * lane-wise arithmetic, comparisons, packs and unpacks, shifts, shuffles, inserts and extracts,
 * blends, PCMPxSTRx and CRC32. One function serves the MMX (8-byte) and the SSE (16-byte) form
 * of each: the width is the destination's (ops_sse.h). Semantics: the SDM page of each.
 */
#include "config.h"

#include <string.h>

#include "cpu.h"
#include "ops.h"
#include "ops_sse.h"

static uint64_t sat_s(int64_t v, unsigned es)
{
    int64_t max = (int64_t)((1ull << (es * 8 - 1)) - 1), min = -max - 1;
    return (uint64_t)(v > max ? max : v < min ? min : v);
}

static uint64_t sat_u(int64_t v, unsigned es)
{
    int64_t max = (int64_t)((1ull << (es * 8)) - 1);
    return (uint64_t)(v > max ? max : v < 0 ? 0 : v);
}

#define U(v, es, i) x86_lane_u((v), (es), (i))
#define S(v, es, i) x86_lane_s((v), (es), (i))
#define SET(es, i, x) x86_lane_set(&r, (es), (i), (uint64_t)(x))

/* The lane-wise operations: d op s over width bytes, into r. */
static void int_op(unsigned sub, const union x86_xmm *d, const union x86_xmm *s,
                   union x86_xmm *out, unsigned width)
{
    unsigned es, n;
    union x86_xmm r;

    memset(&r, 0, sizeof(r));
    switch (sub) {
    case PI_PADDB: case PI_PADDW: case PI_PADDD: case PI_PADDQ:
        es = 1u << (sub - PI_PADDB);
        for (unsigned i = 0; i < width / es; i++) {
            SET(es, i, U(d, es, i) + U(s, es, i));
        }
        break;
    case PI_PSUBB: case PI_PSUBW: case PI_PSUBD: case PI_PSUBQ:
        es = 1u << (sub - PI_PSUBB);
        for (unsigned i = 0; i < width / es; i++) {
            SET(es, i, U(d, es, i) - U(s, es, i));
        }
        break;
    case PI_PADDSB: case PI_PADDSW: case PI_PSUBSB: case PI_PSUBSW:
        es = (sub == PI_PADDSB || sub == PI_PSUBSB) ? 1 : 2;
        for (unsigned i = 0; i < width / es; i++) {
            int64_t a = S(d, es, i), b = S(s, es, i);
            SET(es, i, sat_s(sub <= PI_PADDSW ? a + b : a - b, es));
        }
        break;
    case PI_PADDUSB: case PI_PADDUSW: case PI_PSUBUSB: case PI_PSUBUSW:
        es = (sub == PI_PADDUSB || sub == PI_PSUBUSB) ? 1 : 2;
        for (unsigned i = 0; i < width / es; i++) {
            int64_t a = (int64_t)U(d, es, i), b = (int64_t)U(s, es, i);
            SET(es, i, sat_u(sub <= PI_PADDUSW ? a + b : a - b, es));
        }
        break;
    case PI_PMULLW: case PI_PMULHW:
        for (unsigned i = 0; i < width / 2; i++) {
            int64_t p = S(d, 2, i) * S(s, 2, i);
            SET(2, i, sub == PI_PMULLW ? p : p >> 16);
        }
        break;
    case PI_PMULHUW:
        for (unsigned i = 0; i < width / 2; i++) {
            SET(2, i, (U(d, 2, i) * U(s, 2, i)) >> 16);
        }
        break;
    case PI_PMULHRSW:
        for (unsigned i = 0; i < width / 2; i++) {
            SET(2, i, (((S(d, 2, i) * S(s, 2, i)) >> 14) + 1) >> 1);
        }
        break;
    case PI_PMULUDQ:
        for (unsigned i = 0; i < width / 8; i++) {
            SET(8, i, U(d, 4, 2 * i) * U(s, 4, 2 * i));
        }
        break;
    case PI_PMULDQ:
        for (unsigned i = 0; i < width / 8; i++) {
            SET(8, i, S(d, 4, 2 * i) * S(s, 4, 2 * i));
        }
        break;
    case PI_PMULLD:
        for (unsigned i = 0; i < width / 4; i++) {
            SET(4, i, U(d, 4, i) * U(s, 4, i));
        }
        break;
    case PI_PMADDWD:
        for (unsigned i = 0; i < width / 4; i++) {
            SET(4, i, S(d, 2, 2 * i) * S(s, 2, 2 * i) + S(d, 2, 2 * i + 1) * S(s, 2, 2 * i + 1));
        }
        break;
    case PI_PMADDUBSW:
        for (unsigned i = 0; i < width / 2; i++) {
            int64_t v = (int64_t)U(d, 1, 2 * i) * S(s, 1, 2 * i) +
                        (int64_t)U(d, 1, 2 * i + 1) * S(s, 1, 2 * i + 1);
            SET(2, i, sat_s(v, 2));
        }
        break;
    case PI_PSADBW:
        for (unsigned g = 0; g < width / 8; g++) {
            uint64_t sum = 0;
            for (unsigned k = 0; k < 8; k++) {
                int64_t x = (int64_t)U(d, 1, 8 * g + k) - (int64_t)U(s, 1, 8 * g + k);
                sum += (uint64_t)(x < 0 ? -x : x);
            }
            SET(8, g, sum);
        }
        break;
    case PI_PAND: case PI_PANDN: case PI_POR: case PI_PXOR:
        for (unsigned i = 0; i < width; i++) {
            uint8_t a = d->b[i], b = s->b[i];
            r.b[i] = (uint8_t)(sub == PI_PAND ? a & b : sub == PI_PANDN ? ~a & b
                                : sub == PI_POR ? a | b : a ^ b);
        }
        break;
    case PI_PAVGB: case PI_PAVGW:
        es = sub == PI_PAVGB ? 1 : 2;
        for (unsigned i = 0; i < width / es; i++) {
            SET(es, i, (U(d, es, i) + U(s, es, i) + 1) >> 1);
        }
        break;
    case PI_PMINUB: case PI_PMAXUB: case PI_PMINUW: case PI_PMAXUW: case PI_PMINUD:
    case PI_PMAXUD: {
        bool max = sub == PI_PMAXUB || sub == PI_PMAXUW || sub == PI_PMAXUD;
        es = (sub == PI_PMINUB || sub == PI_PMAXUB) ? 1 : (sub == PI_PMINUW || sub == PI_PMAXUW)
                                                          ? 2 : 4;
        for (unsigned i = 0; i < width / es; i++) {
            uint64_t a = U(d, es, i), b = U(s, es, i);
            SET(es, i, (max ? a > b : a < b) ? a : b);
        }
        break;
    }
    case PI_PMINSB: case PI_PMAXSB: case PI_PMINSW: case PI_PMAXSW: case PI_PMINSD:
    case PI_PMAXSD: {
        bool max = sub == PI_PMAXSB || sub == PI_PMAXSW || sub == PI_PMAXSD;
        es = (sub == PI_PMINSB || sub == PI_PMAXSB) ? 1 : (sub == PI_PMINSW || sub == PI_PMAXSW)
                                                          ? 2 : 4;
        for (unsigned i = 0; i < width / es; i++) {
            int64_t a = S(d, es, i), b = S(s, es, i);
            SET(es, i, (max ? a > b : a < b) ? a : b);
        }
        break;
    }
    case PI_PCMPEQB: case PI_PCMPEQW: case PI_PCMPEQD: case PI_PCMPEQQ:
        es = 1u << (sub - PI_PCMPEQB);
        for (unsigned i = 0; i < width / es; i++) {
            SET(es, i, U(d, es, i) == U(s, es, i) ? ~0ull : 0);
        }
        break;
    case PI_PCMPGTB: case PI_PCMPGTW: case PI_PCMPGTD: case PI_PCMPGTQ:
        es = 1u << (sub - PI_PCMPGTB);
        for (unsigned i = 0; i < width / es; i++) {
            SET(es, i, S(d, es, i) > S(s, es, i) ? ~0ull : 0);
        }
        break;
    case PI_PUNPCKLBW: case PI_PUNPCKLWD: case PI_PUNPCKLDQ: case PI_PUNPCKLQDQ:
    case PI_PUNPCKHBW: case PI_PUNPCKHWD: case PI_PUNPCKHDQ: case PI_PUNPCKHQDQ: {
        bool high = sub >= PI_PUNPCKHBW;
        es = 1u << (sub - (high ? PI_PUNPCKHBW : PI_PUNPCKLBW));
        n = width / es / 2;
        for (unsigned i = 0; i < n; i++) {
            SET(es, 2 * i, U(d, es, (high ? n : 0) + i));
            SET(es, 2 * i + 1, U(s, es, (high ? n : 0) + i));
        }
        break;
    }
    case PI_PACKSSWB: case PI_PACKUSWB: case PI_PACKSSDW: case PI_PACKUSDW: {
        unsigned in = (sub == PI_PACKSSWB || sub == PI_PACKUSWB) ? 2 : 4;
        bool us = sub == PI_PACKUSWB || sub == PI_PACKUSDW;
        n = width / in;
        for (unsigned i = 0; i < n; i++) {
            int64_t a = S(d, in, i), b = S(s, in, i);
            SET(in / 2, i, us ? sat_u(a, in / 2) : sat_s(a, in / 2));
            SET(in / 2, n + i, us ? sat_u(b, in / 2) : sat_s(b, in / 2));
        }
        break;
    }
    case PI_PSHUFB:
        for (unsigned i = 0; i < width; i++) {
            uint8_t idx = s->b[i];
            r.b[i] = (idx & 0x80) ? 0 : d->b[idx & (width - 1)];
        }
        break;
    case PI_PHADDW: case PI_PHADDD: case PI_PHADDSW: case PI_PHSUBW: case PI_PHSUBD:
    case PI_PHSUBSW: {
        bool subtract = sub >= PI_PHSUBW;
        bool satur = sub == PI_PHADDSW || sub == PI_PHSUBSW;
        es = (sub == PI_PHADDD || sub == PI_PHSUBD) ? 4 : 2;
        n = width / es / 2;
        for (unsigned i = 0; i < 2 * n; i++) {
            const union x86_xmm *src = i < n ? d : s;
            unsigned j = i < n ? i : i - n;
            int64_t a = S(src, es, 2 * j), b = S(src, es, 2 * j + 1);
            int64_t v = subtract ? a - b : a + b;
            SET(es, i, satur ? sat_s(v, es) : (uint64_t)v);
        }
        break;
    }
    case PI_PSIGNB: case PI_PSIGNW: case PI_PSIGND:
        es = 1u << (sub - PI_PSIGNB);
        for (unsigned i = 0; i < width / es; i++) {
            int64_t v = S(s, es, i);
            SET(es, i, v < 0 ? 0 - U(d, es, i) : v == 0 ? 0 : U(d, es, i));
        }
        break;
    case PI_PABSB: case PI_PABSW: case PI_PABSD:
        es = 1u << (sub - PI_PABSB);
        for (unsigned i = 0; i < width / es; i++) {
            int64_t v = S(s, es, i);
            SET(es, i, v < 0 ? -v : v);
        }
        break;
    default:
        break;
    }
    *out = r;
}

X86_SSE_OP(pint)
{
    unsigned width = x86_sse_width(op);
    union x86_xmm d, s, r;

    x86_sse_check(cpu, op);
    /* the MMX low unpacks read only the 32 bits they use (mm/m32) */
    bool low_unpack = op->sub >= PI_PUNPCKLBW && op->sub <= PI_PUNPCKLDQ;
    x86_sse_read(cpu, op, 1, &s, width == 8 && low_unpack ? 4 : width, true);
    x86_sse_read(cpu, op, 0, &d, width, false);
    int_op(op->sub, &d, &s, &r, width);
    x86_sse_write(cpu, op, 0, &r, width, false);
    return X86_NEXT;
}

/* Shifts: the count is an immediate (groups 12-14) or the low quadword of a vector operand. */
X86_SSE_OP(pshift)
{
    unsigned width = x86_sse_width(op), sub = op->sub;
    union x86_xmm d, s, r;
    uint64_t count;

    x86_sse_check(cpu, op);
    if (op->opnd[1].kind == X86_OPND_IMM) {
        count = op->imm & 0xff;
    } else {
        x86_sse_read(cpu, op, 1, &s, width, true);
        count = x86_lane_u(&s, 8, 0);
    }
    x86_sse_read(cpu, op, 0, &d, width, false);
    memset(&r, 0, sizeof(r));
    if (sub == PI_PSRLDQ || sub == PI_PSLLDQ) {
        for (unsigned i = 0; i < 16; i++) {
            if (sub == PI_PSRLDQ) {
                r.b[i] = count < 16 && i + count < 16 ? d.b[i + count] : 0;
            } else {
                r.b[i] = count < 16 && i >= count ? d.b[i - count] : 0;
            }
        }
    } else {
        static const uint8_t lane[] = {
            [PI_PSRLW] = 2, [PI_PSRLD] = 4, [PI_PSRLQ] = 8, [PI_PSRAW] = 2,
            [PI_PSRAD] = 4, [PI_PSLLW] = 2, [PI_PSLLD] = 4, [PI_PSLLQ] = 8,
        };
        unsigned es = lane[sub], bits = es * 8;
        for (unsigned i = 0; i < width / es; i++) {
            uint64_t v;
            if (sub == PI_PSRAW || sub == PI_PSRAD) {
                v = (uint64_t)(S(&d, es, i) >> (count >= bits ? bits - 1 : count));
            } else if (count >= bits) {
                v = 0;
            } else if (sub == PI_PSLLW || sub == PI_PSLLD || sub == PI_PSLLQ) {
                v = U(&d, es, i) << count;
            } else {
                v = U(&d, es, i) >> count;
            }
            SET(es, i, v);
        }
    }
    x86_sse_write(cpu, op, 0, &r, width, false);
    return X86_NEXT;
}

/* PSHUFW (sub 0), PSHUFD (1), PSHUFHW (2), PSHUFLW (3). */
X86_SSE_OP(pshuf)
{
    unsigned width = x86_sse_width(op), imm = (unsigned)op->imm & 0xff;
    union x86_xmm s, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, width, true);
    r = s;
    for (unsigned i = 0; i < 4; i++) {
        unsigned sel = (imm >> (2 * i)) & 3;
        switch (op->sub) {
        case 0:
            SET(2, i, U(&s, 2, sel));
            break;
        case 1:
            SET(4, i, U(&s, 4, sel));
            break;
        case 2:
            SET(2, 4 + i, U(&s, 2, 4 + sel));
            break;
        default:
            SET(2, i, U(&s, 2, sel));
            break;
        }
    }
    x86_sse_write(cpu, op, 0, &r, width, false);
    return X86_NEXT;
}

X86_SSE_OP(pmovmskb)
{
    unsigned width = op->opnd[1].kind == X86_OPND_MMX ? 8 : 16;
    union x86_xmm s, r;
    uint64_t mask = 0;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, width, false);
    for (unsigned i = 0; i < width; i++) {
        mask |= (uint64_t)(s.b[i] >> 7) << i;
    }
    memset(&r, 0, sizeof(r));
    x86_lane_set(&r, 8, 0, mask);
    x86_sse_write(cpu, op, 0, &r, 4, false);
    return X86_NEXT;
}

/* PEXTRB/PEXTRW/PEXTRD/PEXTRQ (sub: the lane size; PEXTRD with a 64-bit operand is PEXTRQ). */
X86_SSE_OP(pextr)
{
    unsigned width = op->opnd[1].kind == X86_OPND_MMX ? 8 : 16;
    unsigned es = op->sub;
    union x86_xmm s, r;

    if (es == 4 && op->opnd[0].size == 8) {
        es = 8;
    }
    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, width, false);
    memset(&r, 0, sizeof(r));
    x86_lane_set(&r, 8, 0, U(&s, es, (unsigned)op->imm & (width / es - 1)));
    x86_sse_write(cpu, op, 0, &r, op->opnd[0].kind == X86_OPND_MEM ? es : op->opnd[0].size,
                  false);
    return X86_NEXT;
}

/* PINSRB/PINSRW/PINSRD/PINSRQ. */
X86_SSE_OP(pinsr)
{
    unsigned width = x86_sse_width(op);
    unsigned es = op->sub;
    union x86_xmm v, r;

    if (es == 4 && op->opnd[1].size == 8) {
        es = 8;
    }
    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &v, es, false);
    x86_sse_read(cpu, op, 0, &r, width, false);
    SET(es, (unsigned)op->imm & (width / es - 1), U(&v, es, 0));
    x86_sse_write(cpu, op, 0, &r, width, false);
    return X86_NEXT;
}

X86_SSE_OP(palignr)
{
    unsigned width = x86_sse_width(op), shift = (unsigned)op->imm & 0xff;
    union x86_xmm d, s, r;
    uint8_t cat[32];

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, width, true);
    x86_sse_read(cpu, op, 0, &d, width, false);
    memcpy(cat, s.b, width);
    memcpy(cat + width, d.b, width);
    memset(&r, 0, sizeof(r));
    for (unsigned i = 0; i < width; i++) {
        r.b[i] = i + shift < 2 * width ? cat[i + shift] : 0;
    }
    x86_sse_write(cpu, op, 0, &r, width, false);
    return X86_NEXT;
}

/* PMOVSX / PMOVZX: sub = source lane | log2(destination lane) << 4 | 0x80 when signed. The memory
 * source is only as wide as the lanes it supplies, and need not be aligned. */
X86_SSE_OP(pmovx)
{
    unsigned in = op->sub & 0xf, out = 1u << ((op->sub >> 4) & 3), n = 16 / out;
    bool sign = op->sub & 0x80;
    union x86_xmm s, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, in * n, false);
    for (unsigned i = 0; i < n; i++) {
        SET(out, i, sign ? (uint64_t)S(&s, in, i) : U(&s, in, i));
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(ptest)
{
    union x86_xmm d, s;
    bool zf = true, cf = true;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    x86_sse_read(cpu, op, 0, &d, 16, false);
    for (unsigned i = 0; i < 16; i++) {
        zf = zf && !(d.b[i] & s.b[i]);
        cf = cf && !(~d.b[i] & s.b[i]);
    }
    x86_flags_set(cpu, (zf ? X86_ZF : 0) | (cf ? X86_CF : 0));
    return X86_NEXT;
}

/* PBLENDVB / BLENDVPS / BLENDVPD: XMM0's lane sign bits choose the source's lanes. */
X86_SSE_OP(blendv)
{
    unsigned es = op->sub;
    union x86_xmm d, s, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    x86_sse_read(cpu, op, 0, &d, 16, false);
    const union x86_xmm *mask = &cpu->xmm[0];
    for (unsigned i = 0; i < 16 / es; i++) {
        SET(es, i, (U(mask, es, i) >> (es * 8 - 1)) ? U(&s, es, i) : U(&d, es, i));
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

/* PBLENDW / BLENDPS / BLENDPD: the immediate's bits choose the source's lanes. */
X86_SSE_OP(blend)
{
    unsigned es = op->sub;
    union x86_xmm d, s, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    x86_sse_read(cpu, op, 0, &d, 16, false);
    for (unsigned i = 0; i < 16 / es; i++) {
        SET(es, i, ((op->imm >> i) & 1) ? U(&s, es, i) : U(&d, es, i));
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(mpsadbw)
{
    union x86_xmm d, s, r;
    unsigned soff = ((unsigned)op->imm & 3) * 4, doff = (((unsigned)op->imm >> 2) & 1) * 4;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    x86_sse_read(cpu, op, 0, &d, 16, false);
    for (unsigned i = 0; i < 8; i++) {
        unsigned sum = 0;
        for (unsigned k = 0; k < 4; k++) {
            int x = (int)d.b[doff + i + k] - (int)s.b[soff + k];
            sum += (unsigned)(x < 0 ? -x : x);
        }
        SET(2, i, sum);
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(phminposuw)
{
    union x86_xmm s, r;
    unsigned best = 0;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &s, 16, true);
    for (unsigned i = 1; i < 8; i++) {
        if (U(&s, 2, i) < U(&s, 2, best)) {
            best = i;
        }
    }
    memset(&r, 0, sizeof(r));
    SET(2, 0, U(&s, 2, best));
    SET(2, 1, best);
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

/* ---- PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM ----------------------------------------- */

/* The valid length of an implicit-length string: up to its first zero element. */
static unsigned implicit_length(const union x86_xmm *v, unsigned es, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (U(v, es, i) == 0) {
            return i;
        }
    }
    return n;
}

/* An explicit length: the absolute value of the register, at most n. */
static unsigned explicit_length(const struct x86_cpu *cpu, unsigned reg, bool wide, unsigned n)
{
    int64_t v = wide ? (int64_t)cpu->gpr[reg] : (int64_t)(int32_t)cpu->gpr[reg];
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return a > n ? n : (unsigned)a;
}

/* sub: bit 0 the index form (ECX), else the mask form (XMM0); bit 1 implicit lengths. */
X86_SSE_OP(pcmpstr)
{
    unsigned imm = (unsigned)op->imm & 0xff;
    unsigned es = (imm & 1) ? 2 : 1, n = 16 / es;
    bool sign = imm & 2;
    unsigned agg = (imm >> 2) & 3, pol = (imm >> 4) & 3;
    union x86_xmm a, b, r;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &b, 16, false);
    x86_sse_read(cpu, op, 0, &a, 16, false);
    unsigned la, lb;
    if (op->sub & 2) {
        la = implicit_length(&a, es, n);
        lb = implicit_length(&b, es, n);
    } else {
        bool wide = (op->rex & 8) != 0;
        la = explicit_length(cpu, X86_RAX, wide, n);
        lb = explicit_length(cpu, X86_RDX, wide, n);
    }
    int64_t av[16], bv[16];
    for (unsigned i = 0; i < n; i++) {
        av[i] = sign ? S(&a, es, i) : (int64_t)U(&a, es, i);
        bv[i] = sign ? S(&b, es, i) : (int64_t)U(&b, es, i);
    }
    unsigned res1 = 0;
    for (unsigned i = 0; i < n; i++) {
        bool bit = false;
        switch (agg) {
        case 0: /* equal any */
            for (unsigned j = 0; j < la && i < lb && !bit; j++) {
                bit = av[j] == bv[i];
            }
            break;
        case 1: /* ranges */
            /* pairs (lower, upper) of valid elements of a; an odd one out matches nothing */
            for (unsigned j = 0; j + 1 < la && i < lb && !bit; j += 2) {
                bit = av[j] <= bv[i] && bv[i] <= av[j + 1];
            }
            break;
        case 2: /* equal each */
            bit = (i < la && i < lb) ? av[i] == bv[i] : (i >= la && i >= lb);
            break;
        default: /* equal ordered */
            bit = true;
            for (unsigned k = 0; i + k < n && bit; k++) {
                if (k >= la) {
                    break;
                }
                bit = i + k < lb && av[k] == bv[i + k];
            }
            break;
        }
        res1 |= (unsigned)bit << i;
    }
    unsigned all = (1u << n) - 1, res2 = res1;
    if (pol == 1) {
        res2 = ~res1 & all;
    } else if (pol == 3) {
        res2 = res1 ^ ((1u << lb) - 1);
    }
    uint32_t fl = (res2 ? X86_CF : 0) | (lb < n ? X86_ZF : 0) | (la < n ? X86_SF : 0) |
                  ((res2 & 1) ? X86_OF : 0);
    if (op->sub & 1) {
        unsigned idx = n;
        if (res2) {
            idx = (imm & 0x40) ? 31 - (unsigned)__builtin_clz(res2)
                               : (unsigned)__builtin_ctz(res2);
        }
        cpu->gpr[X86_RCX] = idx;
    } else {
        memset(&r, 0, sizeof(r));
        for (unsigned i = 0; i < n; i++) {
            if (imm & 0x40) {
                SET(es, i, ((res2 >> i) & 1) ? ~0ull : 0);
            }
        }
        if (!(imm & 0x40)) {
            SET(2, 0, res2);
        }
        cpu->xmm[0] = r;
    }
    x86_flags_set(cpu, fl);
    return X86_NEXT;
}

/* ---- CRC32 ---------------------------------------------------------------------------------- */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of size bytes of data, bit-reflected
 * as the instruction defines it; no vector state is involved, so no SSE checks. */
X86_SSE_OP(crc32)
{
    unsigned size = op->opcode == 0xf0 ? 1 : op->opsize;
    const struct x86_operand *src = &op->opnd[1];
    uint64_t data;

    /* the row's "Ey" cannot say 16 bits: 66 F2 0F 38 F1 takes the operand size */
    if (src->kind == X86_OPND_MEM) {
        data = x86_load_fast(cpu, x86_op_linear(cpu, op, 0, size, X86_ACC_READ), size);
    } else {
        data = x86_reg_read(cpu, src->reg, size);
    }
    uint32_t crc = (uint32_t)cpu->gpr[op->opnd[0].reg];
    for (unsigned i = 0; i < size * 8; i++) {
        uint32_t bit = (crc ^ (uint32_t)(data >> i)) & 1;
        crc = (crc >> 1) ^ (bit ? 0x82f63b78u : 0);
    }
    x86_reg_write(cpu, op->opnd[0].reg, 4, crc);
    return X86_NEXT;
}
