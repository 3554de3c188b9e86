/*
 * test-x86-sse: the MMX / SSE to SSE4.2 execution unit (ops_sse*.c) against the host CPU.
 *
 * Every instruction form in the table below is run on random inputs twice: natively, in a
 * generated code buffer that loads the state (general registers, RFLAGS, an FXSAVE image),
 * executes the instruction and stores the state again; and through x86_user_run, with the same
 * memory at the same addresses. General registers, the arithmetic flags, the x87/MMX tag and
 * status words, MXCSR, ST0-7/MM0-7, XMM0-15 and memory must agree bit for bit; a fault must be
 * the same on both sides (#GP for a misaligned operand of an aligned form: SIGSEGV natively;
 * #XM for an unmasked SIMD floating-point exception: SIGFPE, with MXCSR from the signal
 * context), and leave the registers as they were. Floating-point inputs mix NaNs, infinities,
 * denormals, zeros and ordinary numbers; MXCSR gets every rounding mode, DAZ, FTZ and
 * sometimes unmasked exceptions.
 *
 * RCPPS/RCPSS/RSQRTPS/RSQRTSS are approximations whose bits the SDM leaves to the processor:
 * they are checked against the host within the SDM's error bound instead.
 *
 * Usage: test_sse [cases-per-form]  (or COREMU_SSE_CASES=n; COREMU_SSE_SEED=n draws other
 * inputs, COREMU_SSE_VERBOSE=1 prints a failing case's registers); x86_64 hosts only.
 */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <sys/mman.h>
#include <ucontext.h>

#include "user.h"
#include "unit.h"

#define DEFAULT_CASES 120

/* ---- the instruction forms ------------------------------------------------------------------ */

enum cls { C_NONE, C_X, C_M, C_G };

#define F_IMM 0x0001u     /* an imm8 follows */
#define F_MEMONLY 0x0002u
#define F_REGONLY 0x0004u
#define F_ALIGN 0x0008u   /* a memory operand must be 16-byte aligned */
#define F_W 0x0010u       /* REX.W chosen at random */
#define F_FP32 0x0020u    /* inputs are float32 patterns */
#define F_FP64 0x0040u    /* inputs are float64 patterns */
#define F_APPROX 0x0080u  /* RCP/RSQRT: compare within the error bound */
#define F_STR 0x0100u     /* string-like inputs (PCMPxSTRx) */
#define F_NOMODRM 0x0200u /* EMMS */
#define F_GRP 0x0400u     /* reg field fixed: grp */
#define F_FX 0x0800u      /* FXSAVE/FXRSTOR/LDMXCSR/STMXCSR memory */
#define F_MXCSR 0x1000u   /* LDMXCSR: the memory holds an MXCSR value */
#define F_FXIMG 0x2000u   /* FXRSTOR: the memory holds an FXSAVE image */
#define F_O16 0x4000u     /* a 66 operand-size prefix before the mandatory one */

struct form {
    const char *name;
    uint8_t pfx; /* mandatory prefix or 0 */
    uint8_t map; /* 1: 0F, 2: 0F 38, 3: 0F 3A */
    uint8_t opc;
    uint8_t reg, rm; /* enum cls */
    uint16_t flags;
    uint8_t grp;
};

#define X1(n, p, o, r, m, f) {n, p, 1, o, C_##r, C_##m, f, 0}
#define X2(n, p, o, r, m, f) {n, p, 2, o, C_##r, C_##m, f, 0}
#define X3(n, p, o, r, m, f) {n, p, 3, o, C_##r, C_##m, f, 0}
#define GRP(n, p, o, g, m, f) {n, p, 1, o, C_NONE, C_##m, (f) | F_GRP, g}
#define A F_ALIGN
#define S32 F_FP32
#define S64 F_FP64
/* an MMX form and its SSE2 twin */
#define MX(n, o) X1(n " mm", 0, o, M, M, 0), X1(n " xmm", 0x66, o, X, X, A)
#define SX(n, o) X2(n " mm", 0, o, M, M, 0), X2(n " xmm", 0x66, o, X, X, A)
#define FP4(n, o) X1(n "PS", 0, o, X, X, A | S32), X1(n "PD", 0x66, o, X, X, A | S64), \
        X1(n "SS", 0xf3, o, X, X, S32), X1(n "SD", 0xf2, o, X, X, S64)

static const struct form forms[] = {
    /* moves */
    X1("MOVUPS load", 0, 0x10, X, X, 0), X1("MOVUPS store", 0, 0x11, X, X, 0),
    X1("MOVUPD load", 0x66, 0x10, X, X, 0), X1("MOVUPD store", 0x66, 0x11, X, X, 0),
    X1("MOVSS load", 0xf3, 0x10, X, X, 0), X1("MOVSS store", 0xf3, 0x11, X, X, 0),
    X1("MOVSD load", 0xf2, 0x10, X, X, 0), X1("MOVSD store", 0xf2, 0x11, X, X, 0),
    X1("MOVLPS/MOVHLPS", 0, 0x12, X, X, 0), X1("MOVLPS store", 0, 0x13, X, X, F_MEMONLY),
    X1("MOVLPD", 0x66, 0x12, X, X, F_MEMONLY), X1("MOVLPD store", 0x66, 0x13, X, X, F_MEMONLY),
    X1("MOVHPS/MOVLHPS", 0, 0x16, X, X, 0), X1("MOVHPS store", 0, 0x17, X, X, F_MEMONLY),
    X1("MOVHPD", 0x66, 0x16, X, X, F_MEMONLY), X1("MOVHPD store", 0x66, 0x17, X, X, F_MEMONLY),
    X1("MOVSLDUP", 0xf3, 0x12, X, X, A), X1("MOVSHDUP", 0xf3, 0x16, X, X, A),
    X1("MOVDDUP", 0xf2, 0x12, X, X, 0),
    X1("MOVAPS load", 0, 0x28, X, X, A), X1("MOVAPS store", 0, 0x29, X, X, A),
    X1("MOVAPD load", 0x66, 0x28, X, X, A), X1("MOVAPD store", 0x66, 0x29, X, X, A),
    X1("MOVNTPS", 0, 0x2b, X, X, A | F_MEMONLY), X1("MOVNTPD", 0x66, 0x2b, X, X, A | F_MEMONLY),
    X1("MOVD/MOVQ mm, r/m", 0, 0x6e, M, G, F_W), X1("MOVD/MOVQ xmm, r/m", 0x66, 0x6e, X, G, F_W),
    X1("MOVD/MOVQ r/m, mm", 0, 0x7e, M, G, F_W), X1("MOVD/MOVQ r/m, xmm", 0x66, 0x7e, X, G, F_W),
    X1("MOVQ mm load", 0, 0x6f, M, M, 0), X1("MOVQ mm store", 0, 0x7f, M, M, 0),
    X1("MOVQ xmm load", 0xf3, 0x7e, X, X, 0), X1("MOVQ xmm store", 0x66, 0xd6, X, X, 0),
    X1("MOVDQA load", 0x66, 0x6f, X, X, A), X1("MOVDQA store", 0x66, 0x7f, X, X, A),
    X1("MOVDQU load", 0xf3, 0x6f, X, X, 0), X1("MOVDQU store", 0xf3, 0x7f, X, X, 0),
    X1("MOVNTQ", 0, 0xe7, M, M, F_MEMONLY), X1("MOVNTDQ", 0x66, 0xe7, X, X, A | F_MEMONLY),
    X2("MOVNTDQA", 0x66, 0x2a, X, X, A | F_MEMONLY), X1("LDDQU", 0xf2, 0xf0, X, X, F_MEMONLY),
    X1("MOVQ2DQ", 0xf3, 0xd6, X, M, F_REGONLY), X1("MOVDQ2Q", 0xf2, 0xd6, M, X, F_REGONLY),
    X1("MASKMOVQ", 0, 0xf7, M, M, F_REGONLY), X1("MASKMOVDQU", 0x66, 0xf7, X, X, F_REGONLY),
    X1("MOVMSKPS", 0, 0x50, G, X, F_REGONLY | S32), X1("MOVMSKPD", 0x66, 0x50, G, X, F_REGONLY),
    X1("PMOVMSKB mm", 0, 0xd7, G, M, F_REGONLY), X1("PMOVMSKB xmm", 0x66, 0xd7, G, X, F_REGONLY),
    /* state */
    {"EMMS", 0, 1, 0x77, C_NONE, C_NONE, F_NOMODRM, 0},
    GRP("FXSAVE", 0, 0xae, 0, X, F_MEMONLY | F_FX | F_W),
    GRP("FXRSTOR", 0, 0xae, 1, X, F_MEMONLY | F_FX | F_FXIMG | F_W),
    GRP("LDMXCSR", 0, 0xae, 2, X, F_MEMONLY | F_MXCSR),
    GRP("STMXCSR", 0, 0xae, 3, X, F_MEMONLY),
    /* MMX and SSE2 integer */
    MX("PUNPCKLBW", 0x60), MX("PUNPCKLWD", 0x61), MX("PUNPCKLDQ", 0x62), MX("PACKSSWB", 0x63),
    MX("PCMPGTB", 0x64), MX("PCMPGTW", 0x65), MX("PCMPGTD", 0x66), MX("PACKUSWB", 0x67),
    MX("PUNPCKHBW", 0x68), MX("PUNPCKHWD", 0x69), MX("PUNPCKHDQ", 0x6a), MX("PACKSSDW", 0x6b),
    X1("PUNPCKLQDQ", 0x66, 0x6c, X, X, A), X1("PUNPCKHQDQ", 0x66, 0x6d, X, X, A),
    X1("PSHUFW", 0, 0x70, M, M, F_IMM), X1("PSHUFD", 0x66, 0x70, X, X, A | F_IMM),
    X1("PSHUFHW", 0xf3, 0x70, X, X, A | F_IMM), X1("PSHUFLW", 0xf2, 0x70, X, X, A | F_IMM),
    GRP("PSRLW imm mm", 0, 0x71, 2, M, F_REGONLY | F_IMM),
    GRP("PSRAW imm mm", 0, 0x71, 4, M, F_REGONLY | F_IMM),
    GRP("PSLLW imm mm", 0, 0x71, 6, M, F_REGONLY | F_IMM),
    GRP("PSRLD imm mm", 0, 0x72, 2, M, F_REGONLY | F_IMM),
    GRP("PSRAD imm mm", 0, 0x72, 4, M, F_REGONLY | F_IMM),
    GRP("PSLLD imm mm", 0, 0x72, 6, M, F_REGONLY | F_IMM),
    GRP("PSRLQ imm mm", 0, 0x73, 2, M, F_REGONLY | F_IMM),
    GRP("PSLLQ imm mm", 0, 0x73, 6, M, F_REGONLY | F_IMM),
    GRP("PSRLW imm xmm", 0x66, 0x71, 2, X, F_REGONLY | F_IMM),
    GRP("PSRAW imm xmm", 0x66, 0x71, 4, X, F_REGONLY | F_IMM),
    GRP("PSLLW imm xmm", 0x66, 0x71, 6, X, F_REGONLY | F_IMM),
    GRP("PSRLD imm xmm", 0x66, 0x72, 2, X, F_REGONLY | F_IMM),
    GRP("PSRAD imm xmm", 0x66, 0x72, 4, X, F_REGONLY | F_IMM),
    GRP("PSLLD imm xmm", 0x66, 0x72, 6, X, F_REGONLY | F_IMM),
    GRP("PSRLQ imm xmm", 0x66, 0x73, 2, X, F_REGONLY | F_IMM),
    GRP("PSRLDQ", 0x66, 0x73, 3, X, F_REGONLY | F_IMM),
    GRP("PSLLQ imm xmm", 0x66, 0x73, 6, X, F_REGONLY | F_IMM),
    GRP("PSLLDQ", 0x66, 0x73, 7, X, F_REGONLY | F_IMM),
    MX("PCMPEQB", 0x74), MX("PCMPEQW", 0x75), MX("PCMPEQD", 0x76),
    X1("PINSRW mm", 0, 0xc4, M, G, F_IMM), X1("PINSRW xmm", 0x66, 0xc4, X, G, F_IMM),
    X1("PEXTRW mm", 0, 0xc5, G, M, F_IMM | F_REGONLY),
    X1("PEXTRW xmm", 0x66, 0xc5, G, X, F_IMM | F_REGONLY),
    MX("PSRLW", 0xd1), MX("PSRLD", 0xd2), MX("PSRLQ", 0xd3), MX("PADDQ", 0xd4),
    MX("PMULLW", 0xd5), MX("PSUBUSB", 0xd8), MX("PSUBUSW", 0xd9), MX("PMINUB", 0xda),
    MX("PAND", 0xdb), MX("PADDUSB", 0xdc), MX("PADDUSW", 0xdd), MX("PMAXUB", 0xde),
    MX("PANDN", 0xdf), MX("PAVGB", 0xe0), MX("PSRAW", 0xe1), MX("PSRAD", 0xe2),
    MX("PAVGW", 0xe3), MX("PMULHUW", 0xe4), MX("PMULHW", 0xe5), MX("PSUBSB", 0xe8),
    MX("PSUBSW", 0xe9), MX("PMINSW", 0xea), MX("POR", 0xeb), MX("PADDSB", 0xec),
    MX("PADDSW", 0xed), MX("PMAXSW", 0xee), MX("PXOR", 0xef), MX("PSLLW", 0xf1),
    MX("PSLLD", 0xf2), MX("PSLLQ", 0xf3), MX("PMULUDQ", 0xf4), MX("PMADDWD", 0xf5),
    MX("PSADBW", 0xf6), MX("PSUBB", 0xf8), MX("PSUBW", 0xf9), MX("PSUBD", 0xfa),
    MX("PSUBQ", 0xfb), MX("PADDB", 0xfc), MX("PADDW", 0xfd), MX("PADDD", 0xfe),
    /* SSSE3 */
    SX("PSHUFB", 0x00), SX("PHADDW", 0x01), SX("PHADDD", 0x02), SX("PHADDSW", 0x03),
    SX("PMADDUBSW", 0x04), SX("PHSUBW", 0x05), SX("PHSUBD", 0x06), SX("PHSUBSW", 0x07),
    SX("PSIGNB", 0x08), SX("PSIGNW", 0x09), SX("PSIGND", 0x0a), SX("PMULHRSW", 0x0b),
    SX("PABSB", 0x1c), SX("PABSW", 0x1d), SX("PABSD", 0x1e),
    X3("PALIGNR mm", 0, 0x0f, M, M, F_IMM), X3("PALIGNR xmm", 0x66, 0x0f, X, X, A | F_IMM),
    /* SSE4.1 / SSE4.2 integer */
    X2("PBLENDVB", 0x66, 0x10, X, X, A), X2("BLENDVPS", 0x66, 0x14, X, X, A),
    X2("BLENDVPD", 0x66, 0x15, X, X, A), X2("PTEST", 0x66, 0x17, X, X, A),
    X2("PMOVSXBW", 0x66, 0x20, X, X, 0), X2("PMOVSXBD", 0x66, 0x21, X, X, 0),
    X2("PMOVSXBQ", 0x66, 0x22, X, X, 0), X2("PMOVSXWD", 0x66, 0x23, X, X, 0),
    X2("PMOVSXWQ", 0x66, 0x24, X, X, 0), X2("PMOVSXDQ", 0x66, 0x25, X, X, 0),
    X2("PMULDQ", 0x66, 0x28, X, X, A), X2("PCMPEQQ", 0x66, 0x29, X, X, A),
    X2("PACKUSDW", 0x66, 0x2b, X, X, A),
    X2("PMOVZXBW", 0x66, 0x30, X, X, 0), X2("PMOVZXBD", 0x66, 0x31, X, X, 0),
    X2("PMOVZXBQ", 0x66, 0x32, X, X, 0), X2("PMOVZXWD", 0x66, 0x33, X, X, 0),
    X2("PMOVZXWQ", 0x66, 0x34, X, X, 0), X2("PMOVZXDQ", 0x66, 0x35, X, X, 0),
    X2("PCMPGTQ", 0x66, 0x37, X, X, A), X2("PMINSB", 0x66, 0x38, X, X, A),
    X2("PMINSD", 0x66, 0x39, X, X, A), X2("PMINUW", 0x66, 0x3a, X, X, A),
    X2("PMINUD", 0x66, 0x3b, X, X, A), X2("PMAXSB", 0x66, 0x3c, X, X, A),
    X2("PMAXSD", 0x66, 0x3d, X, X, A), X2("PMAXUW", 0x66, 0x3e, X, X, A),
    X2("PMAXUD", 0x66, 0x3f, X, X, A), X2("PMULLD", 0x66, 0x40, X, X, A),
    X2("PHMINPOSUW", 0x66, 0x41, X, X, A),
    X3("BLENDPS", 0x66, 0x0c, X, X, A | F_IMM), X3("BLENDPD", 0x66, 0x0d, X, X, A | F_IMM),
    X3("PBLENDW", 0x66, 0x0e, X, X, A | F_IMM),
    X3("PEXTRB", 0x66, 0x14, X, G, F_IMM), X3("PEXTRW r/m", 0x66, 0x15, X, G, F_IMM),
    X3("PEXTRD/PEXTRQ", 0x66, 0x16, X, G, F_IMM | F_W),
    X3("EXTRACTPS", 0x66, 0x17, X, G, F_IMM),
    X3("PINSRB", 0x66, 0x20, X, G, F_IMM), X3("INSERTPS", 0x66, 0x21, X, X, F_IMM),
    X3("PINSRD/PINSRQ", 0x66, 0x22, X, G, F_IMM | F_W),
    X3("MPSADBW", 0x66, 0x42, X, X, A | F_IMM),
    X3("PCMPESTRM", 0x66, 0x60, X, X, F_IMM | F_STR | F_W),
    X3("PCMPESTRI", 0x66, 0x61, X, X, F_IMM | F_STR | F_W),
    X3("PCMPISTRM", 0x66, 0x62, X, X, F_IMM | F_STR),
    X3("PCMPISTRI", 0x66, 0x63, X, X, F_IMM | F_STR),
    X2("CRC32 r/m8", 0xf2, 0xf0, G, G, F_W), X2("CRC32 r/m32/64", 0xf2, 0xf1, G, G, F_W),
    X2("CRC32 r/m16", 0xf2, 0xf1, G, G, F_O16),
    /* floating point */
    FP4("ADD", 0x58), FP4("MUL", 0x59), FP4("SUB", 0x5c), FP4("MIN", 0x5d), FP4("DIV", 0x5e),
    FP4("MAX", 0x5f), FP4("SQRT", 0x51),
    X1("ANDPS", 0, 0x54, X, X, A | S32), X1("ANDPD", 0x66, 0x54, X, X, A | S64),
    X1("ANDNPS", 0, 0x55, X, X, A | S32), X1("ANDNPD", 0x66, 0x55, X, X, A | S64),
    X1("ORPS", 0, 0x56, X, X, A | S32), X1("ORPD", 0x66, 0x56, X, X, A | S64),
    X1("XORPS", 0, 0x57, X, X, A | S32), X1("XORPD", 0x66, 0x57, X, X, A | S64),
    X1("CMPPS", 0, 0xc2, X, X, A | S32 | F_IMM), X1("CMPPD", 0x66, 0xc2, X, X, A | S64 | F_IMM),
    X1("CMPSS", 0xf3, 0xc2, X, X, S32 | F_IMM), X1("CMPSD", 0xf2, 0xc2, X, X, S64 | F_IMM),
    X1("UCOMISS", 0, 0x2e, X, X, S32), X1("UCOMISD", 0x66, 0x2e, X, X, S64),
    X1("COMISS", 0, 0x2f, X, X, S32), X1("COMISD", 0x66, 0x2f, X, X, S64),
    X1("CVTPI2PS", 0, 0x2a, X, M, 0), X1("CVTPI2PD", 0x66, 0x2a, X, M, 0),
    X1("CVTSI2SS", 0xf3, 0x2a, X, G, F_W), X1("CVTSI2SD", 0xf2, 0x2a, X, G, F_W),
    X1("CVTTPS2PI", 0, 0x2c, M, X, S32), X1("CVTTPD2PI", 0x66, 0x2c, M, X, A | S64),
    X1("CVTTSS2SI", 0xf3, 0x2c, G, X, S32 | F_W), X1("CVTTSD2SI", 0xf2, 0x2c, G, X, S64 | F_W),
    X1("CVTPS2PI", 0, 0x2d, M, X, S32), X1("CVTPD2PI", 0x66, 0x2d, M, X, A | S64),
    X1("CVTSS2SI", 0xf3, 0x2d, G, X, S32 | F_W), X1("CVTSD2SI", 0xf2, 0x2d, G, X, S64 | F_W),
    X1("CVTPS2PD", 0, 0x5a, X, X, S32), X1("CVTPD2PS", 0x66, 0x5a, X, X, A | S64),
    X1("CVTSS2SD", 0xf3, 0x5a, X, X, S32), X1("CVTSD2SS", 0xf2, 0x5a, X, X, S64),
    X1("CVTDQ2PS", 0, 0x5b, X, X, A), X1("CVTPS2DQ", 0x66, 0x5b, X, X, A | S32),
    X1("CVTTPS2DQ", 0xf3, 0x5b, X, X, A | S32), X1("CVTTPD2DQ", 0x66, 0xe6, X, X, A | S64),
    X1("CVTDQ2PD", 0xf3, 0xe6, X, X, 0), X1("CVTPD2DQ", 0xf2, 0xe6, X, X, A | S64),
    X1("SHUFPS", 0, 0xc6, X, X, A | F_IMM), X1("SHUFPD", 0x66, 0xc6, X, X, A | F_IMM),
    X1("UNPCKLPS", 0, 0x14, X, X, A), X1("UNPCKLPD", 0x66, 0x14, X, X, A),
    X1("UNPCKHPS", 0, 0x15, X, X, A), X1("UNPCKHPD", 0x66, 0x15, X, X, A),
    X1("RSQRTPS", 0, 0x52, X, X, A | S32 | F_APPROX),
    X1("RSQRTSS", 0xf3, 0x52, X, X, S32 | F_APPROX),
    X1("RCPPS", 0, 0x53, X, X, A | S32 | F_APPROX), X1("RCPSS", 0xf3, 0x53, X, X, S32 | F_APPROX),
    X1("HADDPD", 0x66, 0x7c, X, X, A | S64), X1("HADDPS", 0xf2, 0x7c, X, X, A | S32),
    X1("HSUBPD", 0x66, 0x7d, X, X, A | S64), X1("HSUBPS", 0xf2, 0x7d, X, X, A | S32),
    X1("ADDSUBPD", 0x66, 0xd0, X, X, A | S64), X1("ADDSUBPS", 0xf2, 0xd0, X, X, A | S32),
    X3("ROUNDPS", 0x66, 0x08, X, X, A | S32 | F_IMM), X3("ROUNDPD", 0x66, 0x09, X, X, A | S64 | F_IMM),
    X3("ROUNDSS", 0x66, 0x0a, X, X, S32 | F_IMM), X3("ROUNDSD", 0x66, 0x0b, X, X, S64 | F_IMM),
    X3("DPPS", 0x66, 0x40, X, X, A | S32 | F_IMM), X3("DPPD", 0x66, 0x41, X, X, A | S64 | F_IMM),
};

/* ---- random inputs -------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint32_t rnd_f32(void)
{
    static const uint32_t special[] = {
        0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001,
        0xff800001, 0x00000001, 0x807fffff, 0x00800000, 0x3f800000, 0xbf800000, 0x7f7fffff,
        0x4f000000, 0xcf000000, 0x5f000000, 0xdf000000, 0x3f000000, 0x3fc00000, 0x4b000000,
        0x00400000, 0x0c000000, 0x72800000,
    };
    uint32_t sign = (uint32_t)(rnd() & 1) << 31;
    switch (rnd() % 6) {
    case 0:
        return special[rnd() % (sizeof(special) / sizeof(special[0]))];
    case 1:
        return sign | (uint32_t)(rnd() & 0x7fffff); /* denormal */
    case 2:
        return (uint32_t)rnd();
    case 3: /* near the thresholds of overflow and underflow */
        return sign | (uint32_t)((rnd() & 1 ? 0xf0u + rnd() % 15 : 1 + rnd() % 24) << 23) |
               (uint32_t)(rnd() & 0x7fffff);
    default: /* ordinary numbers close together */
        return sign | (uint32_t)((120 + rnd() % 16) << 23) | (uint32_t)(rnd() & 0x7fffff);
    }
}

static uint64_t rnd_f64(void)
{
    static const uint64_t special[] = {
        0, 0x8000000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
        0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff4000000000001ull,
        0xfff0000000000001ull, 1, 0x800fffffffffffffull, 0x0010000000000000ull,
        0x3ff0000000000000ull, 0xbff0000000000000ull, 0x7fefffffffffffffull,
        0x41e0000000000000ull, 0xc1e0000000000000ull, 0x43e0000000000000ull,
        0xc3e0000000000000ull, 0x3fe0000000000000ull, 0x3810000000000000ull,
        0x47efffffe0000000ull, 0x36a0000000000000ull, 0x41dfffffffc00000ull,
    };
    uint64_t sign = (rnd() & 1) << 63;
    switch (rnd() % 6) {
    case 0:
        return special[rnd() % (sizeof(special) / sizeof(special[0]))];
    case 1:
        return sign | (rnd() & 0xfffffffffffffull);
    case 2:
        return rnd();
    case 3: /* around the float32 range (conversions) and the thresholds */
        return sign | ((uint64_t)(rnd() & 1 ? 0x360 + rnd() % 0x30 : 0x470 + rnd() % 0x30)
                       << 52) | (rnd() & 0xfffffffffffffull);
    default:
        return sign | ((uint64_t)(1016 + rnd() % 24) << 52) | (rnd() & 0xfffffffffffffull);
    }
}

/* 16 bytes of the kind the form wants. */
static void rnd_vec(uint8_t *p, unsigned flags)
{
    for (unsigned i = 0; i < 16; i += 4) {
        uint64_t v;
        if (flags & F_FP32) {
            uint32_t f = rnd_f32();
            memcpy(p + i, &f, 4);
            continue;
        }
        if ((flags & F_FP64) && !(i & 4)) {
            v = rnd_f64();
            memcpy(p + i, &v, 8);
            i += 4;
            continue;
        }
        if (flags & F_STR) {
            static const uint8_t alphabet[] = {0, 'a', 'b', 'c', 'd', 0x80, 0xff, 'a'};
            for (unsigned k = 0; k < 4; k++) {
                p[i + k] = rnd() % 8 ? alphabet[rnd() % 8] : (uint8_t)rnd();
            }
            continue;
        }
        switch (rnd() % 8) {
        case 0: /* small numbers, signed saturation edges, all ones */
            v = (uint32_t)((rnd() % 5) - 2) * 0x01010101u;
            break;
        case 1:
            v = (rnd() & 1) ? 0x7fff8000u : 0x807f7f80u;
            break;
        default:
            v = (uint32_t)rnd();
            break;
        }
        uint32_t d = (uint32_t)v;
        memcpy(p + i, &d, 4);
    }
}

/* ---- the native side ------------------------------------------------------------------------ */

static uint8_t *native_code;
static sigjmp_buf native_jmp;
static volatile int native_signal;
static volatile uint32_t native_fault_mxcsr;
static volatile int native_trapno;

static void on_signal(int sig, siginfo_t *info, void *ctx)
{
    (void)info;
    ucontext_t *uc = ctx;
    native_signal = sig;
    native_fault_mxcsr = uc->uc_mcontext.fpregs ? uc->uc_mcontext.fpregs->mxcsr : 0;
    native_trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    siglongjmp(native_jmp, 1);
}

/* The runner: callee-saved registers and the state pointer (rdi) saved, the FXSAVE image,
 * RFLAGS and the general registers loaded, the instruction, everything stored back. */
static size_t build_runner(uint8_t *p, const uint8_t *insn, size_t len)
{
    uint8_t *start = p;
    static const uint8_t pro[] = {0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57,
                                  0x57,                                     /* push rdi */
                                  0x48, 0x0f, 0xae, 0x8f, 0xa0, 0, 0, 0,    /* fxrstor64 */
                                  0xff, 0xb7, 0x88, 0, 0, 0, 0x9d};         /* popfq */
    memcpy(p, pro, sizeof(pro));
    p += sizeof(pro);
    for (unsigned r = 0; r < 16; r++) {
        if (r == 4 || r == 7) {
            continue;
        }
        *p++ = (uint8_t)(0x48 | (r >= 8 ? 4 : 0));
        *p++ = 0x8b;
        *p++ = (uint8_t)(0x80 | ((r & 7) << 3) | 7);
        uint32_t disp = 8 * r;
        memcpy(p, &disp, 4);
        p += 4;
    }
    static const uint8_t load_rdi[] = {0x48, 0x8b, 0xbf, 0x38, 0, 0, 0};
    memcpy(p, load_rdi, sizeof(load_rdi));
    p += sizeof(load_rdi);
    memcpy(p, insn, len);
    p += len;
    static const uint8_t mid[] = {0x57, 0x48, 0x8b, 0x7c, 0x24, 0x08}; /* push rdi; mov rdi,[rsp+8] */
    memcpy(p, mid, sizeof(mid));
    p += sizeof(mid);
    for (unsigned r = 0; r < 16; r++) {
        if (r == 4 || r == 7) {
            continue;
        }
        *p++ = (uint8_t)(0x48 | (r >= 8 ? 4 : 0));
        *p++ = 0x89;
        *p++ = (uint8_t)(0x80 | ((r & 7) << 3) | 7);
        uint32_t disp = 8 * r;
        memcpy(p, &disp, 4);
        p += 4;
    }
    static const uint8_t epi[] = {0x58, 0x48, 0x89, 0x87, 0x38, 0, 0, 0, /* rdi */
                                  0x9c, 0x58, 0x48, 0x89, 0x87, 0x88, 0, 0, 0, /* rflags */
                                  0x48, 0x0f, 0xae, 0x87, 0xa0, 0, 0, 0, /* fxsave64 */
                                  0x5f, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d,
                                  0x5b, 0xc3};
    memcpy(p, epi, sizeof(epi));
    p += sizeof(epi);
    return (size_t)(p - start);
}

/* Runs natively: 0, or the signal that stopped it. The host's own FPU state is kept. */
static int run_native(const uint8_t *insn, size_t len, struct x86_user_state *st)
{
    static _Alignas(16) uint8_t host_fx[512];
    build_runner(native_code, insn, len);
    __builtin___clear_cache((char *)native_code, (char *)native_code + 4096);
    __asm__ volatile("fxsave64 %0" : "=m"(host_fx));
    native_signal = 0;
    if (sigsetjmp(native_jmp, 1) == 0) {
        ((void (*)(struct x86_user_state *))(void *)native_code)(st);
    }
    __asm__ volatile("fxrstor64 %0" : : "m"(host_fx));
    return native_signal;
}

/* ---- one case ------------------------------------------------------------------------------- */

#define DATA_SIZE 8192
#define CODE_VADDR 0x10000000ull

static uint8_t *data_native, *data_emu, *data_init;

struct outcome {
    struct x86_user_state st;
    int fault; /* 0, or an exception vector */
    uint32_t fault_mxcsr;
};

/* The exception behind a signal: the kernel's trap number (#UD 6, #MF 16, #XM 19, #GP 13,
 * #PF 14...). */
static int vector_of_signal(int sig)
{
    if (sig == 0) {
        return 0;
    }
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL) {
        return native_trapno;
    }
    return 100 + sig;
}

/* Builds the instruction bytes of a case. */
static size_t encode(const struct form *f, uint8_t *b, bool *mem, unsigned *regno, unsigned *rmno)
{
    size_t n = 0;
    bool memory = !(f->flags & F_REGONLY) && ((f->flags & F_MEMONLY) || rnd() % 3 == 0);
    unsigned reg, rm;
    unsigned rex = 0;

    if (f->rm == C_G && (f->flags & F_MEMONLY) == 0 && f->rm == C_G && rnd() % 2) {
        memory = false;
    }
    reg = f->reg == C_X ? rnd() % 16 : f->reg == C_M ? rnd() % 8 : 0;
    if (f->reg == C_G) {
        do {
            reg = rnd() % 16;
        } while (reg == 4);
    }
    if (f->flags & F_GRP) {
        reg = f->grp;
    }
    rm = f->rm == C_X ? rnd() % 16 : f->rm == C_M ? rnd() % 8 : 0;
    if (f->rm == C_G) {
        do {
            rm = rnd() % 16;
        } while (rm == 4);
    }
    if (f->flags & F_O16) {
        b[n++] = 0x66;
    } else if ((f->pfx == 0xf2 || f->pfx == 0xf3) && rnd() % 4 == 0) {
        b[n++] = 0x66; /* F2 and F3 select the row, an operand-size prefix too changes nothing */
    }
    if (memory && rnd() % 8 == 0) {
        b[n++] = 0x3e; /* a redundant DS override */
    }
    if (f->pfx) {
        b[n++] = f->pfx;
    }
    if (reg & 8) {
        rex |= 4;
    }
    if (!memory && (rm & 8)) {
        rex |= 1;
    }
    if (memory) {
        rm = 6; /* [rsi] */
    }
    if ((f->flags & F_W) && rnd() % 2) {
        rex |= 8;
    }
    if (rex || rnd() % 4 == 0) {
        b[n++] = (uint8_t)(0x40 | rex);
    }
    b[n++] = 0x0f;
    if (f->map == 2) {
        b[n++] = 0x38;
    } else if (f->map == 3) {
        b[n++] = 0x3a;
    }
    b[n++] = f->opc;
    if (!(f->flags & F_NOMODRM)) {
        b[n++] = (uint8_t)((memory ? 0x00 : 0xc0) | ((reg & 7) << 3) | (rm & 7));
    }
    if (f->flags & F_IMM) {
        b[n++] = (uint8_t)rnd();
    }
    *mem = memory;
    *regno = reg;
    *rmno = rm;
    return n;
}

static void random_state(const struct form *f, struct x86_user_state *st, bool mmx_form)
{
    memset(st, 0, sizeof(*st));
    for (unsigned r = 0; r < 16; r++) {
        uint64_t v = rnd();
        switch (rnd() % 4) {
        case 0:
            v = (uint64_t)(int64_t)(int8_t)(rnd() % 41 - 20);
            break;
        case 1:
            v &= 0xffffffffu;
            break;
        default:
            break;
        }
        st->gpr[r] = v;
    }
    st->rflags = 0x202 | (rnd() & 0x8d5);
    uint16_t fcw = 0x37f;
    uint16_t fsw = (uint16_t)((rnd() % 8) << 11);
    if (rnd() % 16 == 0) {
        /* an unmasked x87 invalid operation pending: MMX instructions raise #MF */
        fcw = 0x37e;
        fsw |= 0x8081;
    }
    memcpy(st->fxsave, &fcw, 2);
    memcpy(st->fxsave + 2, &fsw, 2);
    st->fxsave[4] = (uint8_t)(mmx_form && rnd() % 2 ? 0xff : rnd());
    uint32_t mxcsr = 0x1f80;
    mxcsr |= (uint32_t)(rnd() % 4) << 13;
    if (rnd() % 3 == 0) {
        mxcsr |= 0x40; /* DAZ */
    }
    if (rnd() % 3 == 0) {
        mxcsr |= 0x8000; /* FTZ */
    }
    if (rnd() % 6 == 0) {
        mxcsr &= ~(uint32_t)((rnd() & 0x3f) << 7); /* unmask some exceptions */
    }
    mxcsr |= (uint32_t)(rnd() & 0x3f) & (rnd() % 2 ? 0x3f : 0);
    memcpy(st->fxsave + 24, &mxcsr, 4);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t m = rnd();
        uint16_t se = (uint16_t)rnd();
        memcpy(st->fxsave + 32 + 16 * i, &m, 8);
        memcpy(st->fxsave + 40 + 16 * i, &se, 2);
    }
    for (unsigned i = 0; i < 16; i++) {
        rnd_vec(st->fxsave + 160 + 16 * i, f->flags);
    }
}

static bool same_state(const struct form *f, const struct outcome *nat, const struct outcome *emu,
                       unsigned reg, char *why, size_t whylen)
{
    const struct x86_user_state *a = &nat->st, *b = &emu->st;

    if (nat->fault != emu->fault) {
        snprintf(why, whylen, "fault: host %d, coremu %d", nat->fault, emu->fault);
        return false;
    }
    if (nat->fault) {
        if (nat->fault == 19) {
            uint32_t m;
            memcpy(&m, b->fxsave + 24, 4);
            if (m != nat->fault_mxcsr) {
                snprintf(why, whylen, "#XM: MXCSR host %08x coremu %08x", nat->fault_mxcsr, m);
                return false;
            }
        }
        return true; /* coremu's unchanged registers are checked by the caller */
    }
    for (unsigned r = 0; r < 16; r++) {
        if (r != 4 && a->gpr[r] != b->gpr[r]) {
            snprintf(why, whylen, "r%u: host %016" PRIx64 " coremu %016" PRIx64, r, a->gpr[r],
                     b->gpr[r]);
            return false;
        }
    }
    if ((a->rflags ^ b->rflags) & 0x8d5) {
        snprintf(why, whylen, "rflags: host %03" PRIx64 " coremu %03" PRIx64, a->rflags & 0x8d5,
                 b->rflags & 0x8d5);
        return false;
    }
    /* FCW FSW FTW; MXCSR; ST0-7; XMM0-15 (FOP, FIP, FDP and MXCSR_MASK are not compared) */
    static const struct {
        unsigned from, to;
        const char *what;
    } ranges[] = {{0, 2, "FCW"}, {2, 4, "FSW"}, {4, 5, "FTW"}, {24, 28, "MXCSR"},
                  {32, 160, "ST/MM"}, {160, 416, "XMM"}};
    for (unsigned k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
        for (unsigned i = ranges[k].from; i < ranges[k].to; i++) {
            if (a->fxsave[i] == b->fxsave[i]) {
                continue;
            }
            if ((f->flags & F_APPROX) && i >= 160 + 16 * reg && i < 176 + 16 * reg) {
                /* within the bound: both at most 1.5 * 2^-12 from the exact value */
                unsigned lane = (i - 160 - 16 * reg) / 4;
                float x, y;
                memcpy(&x, a->fxsave + 160 + 16 * reg + 4 * lane, 4);
                memcpy(&y, b->fxsave + 160 + 16 * reg + 4 * lane, 4);
                float diff = x > y ? x - y : y - x, mag = x < 0 ? -x : x;
                if (diff <= mag * (3.0f / 4096.0f)) {
                    i = 160 + 16 * reg + 4 * lane + 3;
                    continue;
                }
            }
            snprintf(why, whylen, "%s byte %u: host %02x coremu %02x", ranges[k].what, i,
                     a->fxsave[i], b->fxsave[i]);
            return false;
        }
    }
    for (unsigned i = 0; i < DATA_SIZE; i++) {
        if (data_native[i] != data_emu[i]) {
            snprintf(why, whylen, "memory byte %u: host %02x coremu %02x", i, data_native[i],
                     data_emu[i]);
            return false;
        }
    }
    return true;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(out + 3 * i, "%02x ", b[i]);
    }
}

static void dump(const char *what, const struct x86_user_state *st, unsigned reg, unsigned rm,
                 const uint8_t *m, unsigned avail)
{
    uint32_t mxcsr;
    memcpy(&mxcsr, st->fxsave + 24, 4);
    printf("  %-7s mxcsr %08x rflags %03" PRIx64 " reg %2u:", what, mxcsr, st->rflags & 0x8d5,
           reg);
    for (int i = 15; i >= 0; i--) {
        printf("%s%02x", i % 4 == 3 ? " " : "", st->fxsave[160 + 16 * (reg & 15) + i]);
    }
    if (m) {
        printf("  mem:");
        for (int i = 15; i >= 0; i--) {
            if ((unsigned)i < avail) {
                printf("%s%02x", i % 4 == 3 ? " " : "", m[i]);
            } else {
                printf("%s--", i % 4 == 3 ? " " : "");
            }
        }
    } else {
        printf("  rm %2u:", rm);
        for (int i = 15; i >= 0; i--) {
            printf("%s%02x", i % 4 == 3 ? " " : "", st->fxsave[160 + 16 * (rm & 15) + i]);
        }
    }
    printf("\n");
}

/* Runs the cases of one form; false on the first disagreement (reported). */
static bool test_form(const struct form *f, unsigned cases, unsigned *faults)
{
    static uint8_t code[4096] __attribute__((aligned(4096)));
    bool mmx_form = f->reg == C_M || f->rm == C_M;

    for (unsigned c = 0; c < cases; c++) {
        uint8_t insn[16];
        bool mem;
        unsigned reg, rm;
        size_t len = encode(f, insn, &mem, &reg, &rm);
        struct outcome nat, emu;

        random_state(f, &nat.st, mmx_form);
        for (unsigned i = 0; i < DATA_SIZE; i += 16) {
            rnd_vec(data_init + i, f->flags);
        }
        unsigned off = (unsigned)(rnd() % 256) * 16;
        if (f->flags & F_FX) {
            off = (unsigned)(rnd() % 200) * 16;
        }
        if (rnd() % 8 == 0) {
            off += (unsigned)(1 + rnd() % 15); /* misaligned */
        }
        if (!(f->flags & F_FX) && rnd() % 16 == 0) {
            off = 4096 - 1 - (unsigned)(rnd() % 15); /* across the page boundary */
        }
        if (!(f->flags & F_FX) && rnd() % 32 == 0) {
            /* into the guard page after the data: #PF, with nothing written before it */
            off = DATA_SIZE - 1 - (unsigned)(rnd() % 15);
        }
        if (f->flags & F_MXCSR) {
            uint32_t m = (uint32_t)rnd() & 0xffff;
            if (rnd() % 8 == 0) {
                m |= 1u << (18 + rnd() % 14); /* not 17: AMD's MM bit */
            }
            memcpy(data_init + off, &m, 4);
        }
        if (f->flags & F_FXIMG) {
            struct x86_user_state tmp;
            random_state(f, &tmp, rnd() % 2);
            memcpy(data_init + off, tmp.fxsave, 416);
            if (!(rnd() % 8)) {
                data_init[off + 26] = (uint8_t)((rnd() | 4) & ~2u); /* reserved MXCSR bits */
            }
        }
        nat.st.gpr[6] = (uint64_t)(uintptr_t)(data_native + off);
        nat.st.gpr[7] = (uint64_t)(uintptr_t)(data_native + (rnd() % 256) * 16 +
                                              (rnd() % 4 ? 0 : rnd() % 16));
        emu.st = nat.st;
        memcpy(data_native, data_init, DATA_SIZE);
        memcpy(data_emu, data_init, DATA_SIZE);

        nat.fault = vector_of_signal(run_native(insn, len, &nat.st));
        nat.fault_mxcsr = native_fault_mxcsr;

        memset(code, 0xcc, sizeof(code));
        memcpy(code, insn, len);
        struct x86_user_mapping maps[2] = {
            {CODE_VADDR, sizeof(code), code, false, true},
            {(uint64_t)(uintptr_t)data_native, DATA_SIZE, data_emu, true, false},
        };
        struct x86_user_result res;
        struct x86_user_state before = emu.st;
        emu.st.rip = CODE_VADDR;
        x86_user_run(maps, 2, CODE_VADDR + len, 4, &emu.st, &res);
        emu.fault = res.stop == X86_USER_FAULT ? (int)res.vector
                    : res.stop == X86_USER_STOPPED ? 0 : 200 + (int)res.stop;

        if ((f->flags & F_FX) && f->grp == 0 && !nat.fault) {
            /* FXSAVE's FOP, FIP, FDP (AMD stores them only with an exception pending) and
             * MXCSR_MASK (the host's, not coremu's) are not compared */
            memcpy(data_emu + off + 6, data_native + off + 6, 18);
            memcpy(data_emu + off + 28, data_native + off + 28, 4);
        }
        char why[200], bytes[64];
        bool ok = same_state(f, &nat, &emu, reg, why, sizeof(why));
        if (ok && emu.fault) {
            (*faults)++;
            /* a fault leaves registers and memory as they were (MXCSR aside for #XM) */
            if (memcmp(emu.st.gpr, before.gpr, sizeof(before.gpr)) != 0 ||
                memcmp(emu.st.fxsave + 32, before.fxsave + 32, 416 - 32) != 0 ||
                memcmp(data_emu, data_init, DATA_SIZE) != 0) {
                snprintf(why, sizeof(why), "fault %d changed the state", emu.fault);
                ok = false;
            }
        }
        if (!ok) {
            hex(bytes, insn, len);
            unit_fail(f->name, "case %u, bytes %s(memory %s, offset %u): %s", c, bytes,
                      mem ? "yes" : "no", off, why);
            if (getenv("COREMU_SSE_VERBOSE")) {
                dump("before", &before, reg, rm, mem ? data_init + off : NULL, DATA_SIZE - off);
                dump("host", &nat.st, reg, rm, mem ? data_native + off : NULL, DATA_SIZE - off);
                dump("coremu", &emu.st, reg, rm, mem ? data_emu + off : NULL, DATA_SIZE - off);
            }
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    unsigned cases = DEFAULT_CASES;
    const char *env = getenv("COREMU_SSE_CASES");
    const char *seed = getenv("COREMU_SSE_SEED");
    if (seed) {
        rng_state ^= strtoull(seed, NULL, 0) * 0x2545f4914f6cdd1dull;
    }
    if (argc > 1) {
        cases = (unsigned)strtoul(argv[1], NULL, 0);
    } else if (env) {
        cases = (unsigned)strtoul(env, NULL, 0);
    }
    native_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data_native = mmap(NULL, DATA_SIZE + 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* room past DATA_SIZE: an operand placed at the end of the data, reaching into the guard
     * page, is still staged in full here (only the guest and native sides fault on it) */
    data_emu = calloc(1, DATA_SIZE + 4096);
    data_init = calloc(1, DATA_SIZE + 4096);
    UNIT_REQUIRE(native_code != MAP_FAILED && data_native != MAP_FAILED && data_emu && data_init,
                 "setup", "out of memory");
    /* the guard page: unmapped in the guest too */
    UNIT_REQUIRE(mprotect(data_native + DATA_SIZE, 4096, PROT_NONE) == 0, "setup", "mprotect");

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        unsigned faults = 0;
        if (test_form(&forms[i], cases, &faults)) {
            unit_pass(forms[i].name);
        }
    }
    return unit_done();
}

#else /* not an x86_64 host */

int main(void)
{
    printf("UNSUPPORTED: test-x86-sse needs an x86_64 host as its oracle\n");
    return 77;
}

#endif
