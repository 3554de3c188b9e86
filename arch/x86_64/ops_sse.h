/*
 * coremu x86_64 — what the vector unit's files (ops_sse.c, ops_sse_int.c, ops_sse_fp.c) share:
 * the state checks every MMX/SSE instruction makes first, reading and writing vector operands
 * (XMM, MMX, general registers, memory of 1 to 16 bytes), lanes of a vector in the guest's
 * little-endian order whatever the host's, and MXCSR's part in floating-point operations.
 *
 * A vector value is a union x86_xmm whose bytes b[] are the guest's bytes; lanes are read and
 * written only through x86_lane_* so that the code means the same on a big-endian host.
 *
 * Order inside a handler: x86_sse_check, then every operand read (memory faults happen here),
 * then the computation (x86_sse_fp_end may raise #XM), then the writes. MMX instructions put
 * the x87 unit in MMX state (TOP = 0, every tag valid) when they complete: the write helpers do
 * it, and handlers that write no vector operand call x86_sse_finish.
 */
#ifndef COREMU_X86_64_OPS_SSE_H
#define COREMU_X86_64_OPS_SSE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "ops.h"
#include "softfloat.h"

/* ---- lanes ---------------------------------------------------------------------------------- */

/* A little-endian value from / to the host's order (the same function both ways). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define x86_le16(x) __builtin_bswap16(x)
#define x86_le32(x) __builtin_bswap32(x)
#define x86_le64(x) __builtin_bswap64(x)
#else
#define x86_le16(x) (x)
#define x86_le32(x) (x)
#define x86_le64(x) (x)
#endif

static inline uint64_t x86_lane_u(const union x86_xmm *v, unsigned size, unsigned i)
{
    const uint8_t *p = v->b + size * i;
    uint16_t w;
    uint32_t d;
    uint64_t q;

    switch (size) {
    case 1:
        return p[0];
    case 2:
        memcpy(&w, p, 2);
        return x86_le16(w);
    case 4:
        memcpy(&d, p, 4);
        return x86_le32(d);
    default:
        memcpy(&q, p, 8);
        return x86_le64(q);
    }
}

static inline int64_t x86_lane_s(const union x86_xmm *v, unsigned size, unsigned i)
{
    return x86_sext(x86_lane_u(v, size, i), size);
}

static inline void x86_lane_set(union x86_xmm *v, unsigned size, unsigned i, uint64_t x)
{
    uint8_t *p = v->b + size * i;
    uint16_t w;
    uint32_t d;

    switch (size) {
    case 1:
        p[0] = (uint8_t)x;
        return;
    case 2:
        w = x86_le16((uint16_t)x);
        memcpy(p, &w, 2);
        return;
    case 4:
        d = x86_le32((uint32_t)x);
        memcpy(p, &d, 4);
        return;
    default:
        x = x86_le64(x);
        memcpy(p, &x, 8);
        return;
    }
}

/* ---- checks and operands -------------------------------------------------------------------- */

/* Whether the instruction names an MMX register (it then follows the MMX rules). */
static inline bool x86_sse_uses_mmx(const struct x86_uop *op)
{
    for (unsigned i = 0; i < op->nopnd; i++) {
        if (op->opnd[i].kind == X86_OPND_MMX) {
            return true;
        }
    }
    return false;
}

/* The vector width of an instruction whose first operand is its vector destination: 8 bytes
 * for an MMX register (Pq,Qq forms), else 16. */
static inline unsigned x86_sse_width(const struct x86_uop *op)
{
    return op->opnd[0].kind == X86_OPND_MMX ? 8 : 16;
}

/* #UD / #NM (and #MF for MMX) before anything else. */
void x86_sse_check(struct x86_cpu *cpu, const struct x86_uop *op);
/* The MMX state transition, when op names an MMX register. */
void x86_sse_finish(struct x86_cpu *cpu, const struct x86_uop *op);

/* The linear address of op's memory operand for size bytes; aligned: a 16-byte operand must be
 * 16-byte aligned (#GP(0)). */
uint64_t x86_sse_mem_linear(struct x86_cpu *cpu, const struct x86_uop *op, unsigned size,
                            bool aligned, unsigned access);
/* Reads operand i as size bytes (zero-extended into *v): XMM, MMX, general register or memory. */
void x86_sse_read(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i, union x86_xmm *v,
                  unsigned size, bool aligned);
/* Writes operand i: an XMM register gets all 16 bytes, an MMX register 8, a general register
 * or memory size bytes. Then the MMX transition if op names an MMX register. */
void x86_sse_write(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i,
                   const union x86_xmm *v, unsigned size, bool aligned);

static inline void x86_mmx_get(const struct x86_cpu *cpu, unsigned r, union x86_xmm *v)
{
    memset(v, 0, sizeof(*v));
    x86_lane_set(v, 8, 0, cpu->st[r & 7].mant);
}

/* ---- floating point ------------------------------------------------------------------------- */

#define X86_MXCSR_DAZ 0x0040u
#define X86_MXCSR_FTZ 0x8000u
#define X86_MXCSR_RC_SHIFT 13

/* A status with MXCSR's rounding, DAZ and FTZ and no flags. */
static inline void x86_sse_fp_begin(const struct x86_cpu *cpu, struct x86_fpstatus *st)
{
    memset(st, 0, sizeof(*st));
    st->rounding = (uint8_t)((cpu->mxcsr >> X86_MXCSR_RC_SHIFT) & 3);
    st->precision = X86_PREC_64;
    st->daz = (cpu->mxcsr & X86_MXCSR_DAZ) != 0;
    st->ftz = (cpu->mxcsr & X86_MXCSR_FTZ) != 0;
}

/* The instruction's exceptions into MXCSR; an unmasked one raises #XM (or #UD without
 * CR4.OSXMMEXCPT) before the destination is written. */
void x86_sse_fp_end(struct x86_cpu *cpu, const struct x86_fpstatus *st);

/* ---- handlers ------------------------------------------------------------------------------- */

#define X86_SSE_OP(name) \
    enum x86_result x86_op_sse_##name(struct x86_cpu *cpu, const struct x86_uop *op)

/* ops_sse.c: moves and state */
X86_SSE_OP(mov);       /* full-width moves; sub: 1 = aligned */
X86_SSE_OP(movd);      /* MOVD/MOVQ in all their forms */
X86_SSE_OP(movscalar); /* MOVSS (sub 4) / MOVSD (sub 8) */
X86_SSE_OP(movlh);     /* MOVLPS/MOVLPD/MOVHPS/MOVHPD/MOVHLPS/MOVLHPS; sub: 0 low, 1 high */
X86_SSE_OP(movdup);    /* sub: 0 MOVSLDUP, 1 MOVSHDUP, 2 MOVDDUP */
X86_SSE_OP(movq2dq);
X86_SSE_OP(movdq2q);
X86_SSE_OP(maskmov);
X86_SSE_OP(emms);
X86_SSE_OP(fxsave);
X86_SSE_OP(fxrstor);
X86_SSE_OP(ldmxcsr);
X86_SSE_OP(stmxcsr);

/* ops_sse_int.c */
X86_SSE_OP(pint);      /* lane-wise integer operations; sub: enum x86_pint */
X86_SSE_OP(pshift);    /* shifts by a register, memory or immediate count; sub: enum x86_pint */
X86_SSE_OP(pshuf);     /* PSHUFW/PSHUFD/PSHUFHW/PSHUFLW; sub: 0 W, 1 D, 2 HW, 3 LW */
X86_SSE_OP(pmovmskb);
X86_SSE_OP(pextr);     /* sub: lane size */
X86_SSE_OP(pinsr);     /* sub: lane size */
X86_SSE_OP(palignr);
X86_SSE_OP(pmovx);     /* sub: source lane | log2(dest lane) << 4 | 0x80 signed */
X86_SSE_OP(ptest);
X86_SSE_OP(blendv);    /* sub: lane size */
X86_SSE_OP(blend);     /* sub: lane size */
X86_SSE_OP(mpsadbw);
X86_SSE_OP(phminposuw);
X86_SSE_OP(pcmpstr);   /* sub: bit 0 index (else mask), bit 1 implicit length (else explicit) */
X86_SSE_OP(crc32);

/* ops_sse_fp.c */
X86_SSE_OP(fparith);   /* sub: enum x86_fpop | 0x10 float64 | 0x80 scalar */
X86_SSE_OP(fplogic);   /* sub: 0 AND, 1 ANDN, 2 OR, 3 XOR */
X86_SSE_OP(fpcmp);     /* sub: lane size | 0x80 scalar */
X86_SSE_OP(comis);     /* sub: lane size | 0x80 signalling */
X86_SSE_OP(cvt);       /* sub: enum x86_cvt */
X86_SSE_OP(shufp);     /* sub: lane size */
X86_SSE_OP(unpckp);    /* sub: lane size | 0x80 high */
X86_SSE_OP(movmskp);   /* sub: lane size */
X86_SSE_OP(rcp);       /* sub: 0 RCPPS, 1 RCPSS, 2 RSQRTPS, 3 RSQRTSS */
X86_SSE_OP(hadd);      /* sub: lane size | 0x80 subtract */
X86_SSE_OP(addsub);    /* sub: lane size */
X86_SSE_OP(round);     /* sub: lane size | 0x80 scalar */
X86_SSE_OP(dpp);       /* sub: lane size */
X86_SSE_OP(extractps);
X86_SSE_OP(insertps);

/* Sub-operations of x86_op_sse_pint and x86_op_sse_pshift. */
enum x86_pint {
    PI_PADDB, PI_PADDW, PI_PADDD, PI_PADDQ, PI_PADDSB, PI_PADDSW, PI_PADDUSB, PI_PADDUSW,
    PI_PSUBB, PI_PSUBW, PI_PSUBD, PI_PSUBQ, PI_PSUBSB, PI_PSUBSW, PI_PSUBUSB, PI_PSUBUSW,
    PI_PMULLW, PI_PMULHW, PI_PMULHUW, PI_PMULUDQ, PI_PMADDWD, PI_PSADBW, PI_PMULLD, PI_PMULDQ,
    PI_PAND, PI_PANDN, PI_POR, PI_PXOR, PI_PAVGB, PI_PAVGW,
    PI_PMINUB, PI_PMAXUB, PI_PMINSW, PI_PMAXSW, PI_PMINSB, PI_PMAXSB, PI_PMINSD, PI_PMAXSD,
    PI_PMINUW, PI_PMAXUW, PI_PMINUD, PI_PMAXUD,
    PI_PCMPEQB, PI_PCMPEQW, PI_PCMPEQD, PI_PCMPEQQ, PI_PCMPGTB, PI_PCMPGTW, PI_PCMPGTD,
    PI_PCMPGTQ,
    PI_PUNPCKLBW, PI_PUNPCKLWD, PI_PUNPCKLDQ, PI_PUNPCKLQDQ, PI_PUNPCKHBW, PI_PUNPCKHWD,
    PI_PUNPCKHDQ, PI_PUNPCKHQDQ,
    PI_PACKSSWB, PI_PACKUSWB, PI_PACKSSDW, PI_PACKUSDW,
    PI_PSHUFB, PI_PHADDW, PI_PHADDD, PI_PHADDSW, PI_PHSUBW, PI_PHSUBD, PI_PHSUBSW,
    PI_PMADDUBSW, PI_PSIGNB, PI_PSIGNW, PI_PSIGND, PI_PMULHRSW, PI_PABSB, PI_PABSW, PI_PABSD,
    PI_PSRLW, PI_PSRLD, PI_PSRLQ, PI_PSRAW, PI_PSRAD, PI_PSLLW, PI_PSLLD, PI_PSLLQ,
    PI_PSRLDQ, PI_PSLLDQ,
};

/* Sub-operations of x86_op_sse_fparith (low nibble). */
enum x86_fpop { FP_ADD, FP_SUB, FP_MUL, FP_DIV, FP_MIN, FP_MAX, FP_SQRT };

/* Sub-operations of x86_op_sse_cvt. */
enum x86_cvt {
    CVT_PI2PS, CVT_PI2PD, CVT_SI2SS, CVT_SI2SD, CVT_TPS2PI, CVT_TPD2PI, CVT_TSS2SI, CVT_TSD2SI,
    CVT_PS2PI, CVT_PD2PI, CVT_SS2SI, CVT_SD2SI, CVT_PS2PD, CVT_PD2PS, CVT_SS2SD, CVT_SD2SS,
    CVT_DQ2PS, CVT_PS2DQ, CVT_TPS2DQ, CVT_TPD2DQ, CVT_DQ2PD, CVT_PD2DQ,
};

#endif /* COREMU_X86_64_OPS_SSE_H */
