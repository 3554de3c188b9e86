/*
 * coremu x86_64 — MMX, SSE to SSE4.2: the vector unit's execution table, its state (MXCSR,
 * FXSAVE/FXRSTOR, EMMS, the MMX state of the x87 registers), the checks and operand access all
 * vector instructions share (ops_sse.h), and the data moves. The integer operations are in
 * ops_sse_int.c, the floating-point ones in ops_sse_fp.c. Semantics: the Intel SDM Vol. 2 page
 * of each instruction.
 */
#include "config.h"

#include <string.h>

#include "cpu.h"
#include "ops.h"
#include "ops_sse.h"

/* ---- checks, operands, MXCSR ---------------------------------------------------------------- */

static bool uses_xmm(const struct x86_uop *op)
{
    for (unsigned i = 0; i < op->nopnd; i++) {
        if (op->opnd[i].kind == X86_OPND_XMM) {
            return true;
        }
    }
    return false;
}

/* x87 status word ES: an unmasked x87 exception is pending, which MMX instructions report. */
#define X86_FSW_ES 0x0080u

void x86_sse_check(struct x86_cpu *cpu, const struct x86_uop *op)
{
    bool mmx = x86_sse_uses_mmx(op);
    bool xmm = !mmx || uses_xmm(op);

    if ((cpu->cr0 & X86_CR0_EM) || (xmm && !(cpu->cr4 & X86_CR4_OSFXSR))) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    if (cpu->cr0 & X86_CR0_TS) {
        x86_raise_noerr(cpu, X86_EXC_NM);
    }
    if (mmx && (cpu->fsw & X86_FSW_ES) && (cpu->cr0 & X86_CR0_NE)) {
        x86_raise_noerr(cpu, X86_EXC_MF);
    }
}

static void mmx_transition(struct x86_cpu *cpu)
{
    cpu->fsw &= (uint16_t)~(7u << 11); /* TOP = 0 */
    cpu->ftw = 0;                      /* every register valid */
}

void x86_sse_finish(struct x86_cpu *cpu, const struct x86_uop *op)
{
    if (x86_sse_uses_mmx(op)) {
        mmx_transition(cpu);
    }
}

uint64_t x86_sse_mem_linear(struct x86_cpu *cpu, const struct x86_uop *op, unsigned size,
                            bool aligned, unsigned access)
{
    uint64_t lin = x86_op_linear(cpu, op, 0, size, access);
    if (aligned && size == 16 && (lin & 15)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    return lin;
}

void x86_sse_read(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i, union x86_xmm *v,
                  unsigned size, bool aligned)
{
    const struct x86_operand *o = &op->opnd[i];

    memset(v, 0, sizeof(*v));
    switch (o->kind) {
    case X86_OPND_XMM:
        *v = cpu->xmm[o->reg];
        return;
    case X86_OPND_MMX:
        x86_mmx_get(cpu, o->reg, v);
        return;
    case X86_OPND_MEM: {
        uint64_t lin = x86_sse_mem_linear(cpu, op, size, aligned, X86_ACC_READ);
        if (size <= 8) {
            x86_lane_set(v, size, 0, x86_load_fast(cpu, lin, size));
        } else {
            x86_lane_set(v, 8, 0, x86_load_fast(cpu, lin, 8));
            x86_lane_set(v, 8, 1, x86_load_fast(cpu, lin + 8, 8));
        }
        return;
    }
    default:
        x86_lane_set(v, 8, 0, x86_opnd_read(cpu, op, i));
        return;
    }
}

void x86_sse_write(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i,
                   const union x86_xmm *v, unsigned size, bool aligned)
{
    const struct x86_operand *o = &op->opnd[i];

    switch (o->kind) {
    case X86_OPND_XMM:
        cpu->xmm[o->reg] = *v;
        break;
    case X86_OPND_MMX:
        /* an MMX write sets the register's exponent and sign bits (79:64) to ones */
        cpu->st[o->reg & 7].mant = x86_lane_u(v, 8, 0);
        cpu->st[o->reg & 7].sign_exp = 0xffff;
        break;
    case X86_OPND_MEM: {
        uint64_t lin = x86_sse_mem_linear(cpu, op, size, aligned, X86_ACC_WRITE);
        if (size <= 8) {
            x86_store_fast(cpu, lin, size, x86_lane_u(v, size, 0));
        } else {
            x86_probe_write_lin(cpu, lin, 16, X86_ACC_WRITE);
            x86_store_fast(cpu, lin, 8, x86_lane_u(v, 8, 0));
            x86_store_fast(cpu, lin + 8, 8, x86_lane_u(v, 8, 1));
        }
        break;
    }
    default:
        x86_reg_write(cpu, o->reg, size, x86_lane_u(v, size < 8 ? size : 8, 0));
        break;
    }
    x86_sse_finish(cpu, op);
}

void x86_sse_fp_end(struct x86_cpu *cpu, const struct x86_fpstatus *st)
{
    unsigned flags = st->flags & 0x3fu;
    unsigned unmasked = flags & ~(cpu->mxcsr >> 7) & 0x3fu;

    if (!unmasked) {
        cpu->mxcsr |= flags;
        return;
    }
    /* An unmasked invalid, denormal or divide-by-zero exception (detected before the
     * computation) leaves the results' overflow, underflow and precision unexamined. */
    unsigned pre = X86_FLAG_IE | X86_FLAG_DE | X86_FLAG_ZE;
    if (unmasked & pre) {
        flags &= pre;
    }
    cpu->mxcsr |= flags;
    x86_raise_noerr(cpu, (cpu->cr4 & X86_CR4_OSXMMEXCPT) ? X86_EXC_XM : X86_EXC_UD);
}

/* ---- moves ---------------------------------------------------------------------------------- */

static unsigned move_size(const struct x86_uop *op)
{
    return (op->opnd[0].kind == X86_OPND_MMX || op->opnd[1].kind == X86_OPND_MMX) ? 8 : 16;
}

X86_SSE_OP(mov)
{
    union x86_xmm v;
    unsigned size = move_size(op);

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &v, size, op->sub);
    x86_sse_write(cpu, op, 0, &v, size, op->sub);
    return X86_NEXT;
}

/* MOVD and MOVQ between MMX / XMM registers, general registers and memory: the general
 * register or memory operand gives the size; a vector destination is zero-extended. */
X86_SSE_OP(movd)
{
    union x86_xmm v;
    unsigned size = 8;

    x86_sse_check(cpu, op);
    if (op->opnd[0].kind == X86_OPND_GPR || op->opnd[0].kind == X86_OPND_MEM) {
        size = op->opnd[0].size;
    } else if (op->opnd[1].kind == X86_OPND_GPR || op->opnd[1].kind == X86_OPND_MEM) {
        size = op->opnd[1].size;
    }
    x86_sse_read(cpu, op, 1, &v, size, false);
    union x86_xmm r;
    memset(&r, 0, sizeof(r));
    memcpy(r.b, v.b, size);
    x86_sse_write(cpu, op, 0, &r, size, false);
    return X86_NEXT;
}

/* MOVSS / MOVSD: a load zero-extends, a register move replaces the low lane only. */
X86_SSE_OP(movscalar)
{
    unsigned size = op->sub;
    union x86_xmm v;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &v, size, false);
    if (op->opnd[0].kind == X86_OPND_XMM && op->opnd[1].kind == X86_OPND_XMM) {
        union x86_xmm r = cpu->xmm[op->opnd[0].reg];
        memcpy(r.b, v.b, size);
        v = r;
    }
    /* a load has v zero-extended; a store writes size bytes of it */
    x86_sse_write(cpu, op, 0, &v, size, false);
    return X86_NEXT;
}

/* MOVLPS/MOVLPD (sub 0), MOVHPS/MOVHPD (sub 1); the register forms of 0F 12 and 0F 16 are
 * MOVHLPS (the source's high half to the low one) and MOVLHPS (low to high). */
X86_SSE_OP(movlh)
{
    unsigned half = op->sub;
    union x86_xmm v;

    x86_sse_check(cpu, op);
    if (op->opnd[0].kind == X86_OPND_MEM) {
        union x86_xmm s;
        memset(&s, 0, sizeof(s));
        x86_lane_set(&s, 8, 0, x86_lane_u(&cpu->xmm[op->opnd[1].reg], 8, half));
        x86_sse_write(cpu, op, 0, &s, 8, false);
        return X86_NEXT;
    }
    x86_sse_read(cpu, op, 1, &v, 8, false);
    uint64_t q = x86_lane_u(&v, 8, op->opnd[1].kind == X86_OPND_XMM ? 1 - half : 0);
    union x86_xmm r = cpu->xmm[op->opnd[0].reg];
    x86_lane_set(&r, 8, half, q);
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(movdup)
{
    union x86_xmm v, r;

    x86_sse_check(cpu, op);
    if (op->sub == 2) {
        x86_sse_read(cpu, op, 1, &v, 8, false);
        x86_lane_set(&r, 8, 0, x86_lane_u(&v, 8, 0));
        x86_lane_set(&r, 8, 1, x86_lane_u(&v, 8, 0));
    } else {
        x86_sse_read(cpu, op, 1, &v, 16, true);
        for (unsigned i = 0; i < 4; i += 2) {
            uint64_t d = x86_lane_u(&v, 4, i + op->sub);
            x86_lane_set(&r, 4, i, d);
            x86_lane_set(&r, 4, i + 1, d);
        }
    }
    x86_sse_write(cpu, op, 0, &r, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(movq2dq)
{
    union x86_xmm v;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &v, 8, false);
    x86_sse_write(cpu, op, 0, &v, 16, false);
    return X86_NEXT;
}

X86_SSE_OP(movdq2q)
{
    union x86_xmm v;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 1, &v, 16, false);
    x86_lane_set(&v, 8, 1, 0);
    x86_sse_write(cpu, op, 0, &v, 8, false);
    return X86_NEXT;
}

/* MASKMOVQ / MASKMOVDQU: the bytes of the first operand whose mask byte (second operand) has
 * its top bit set go to DS:rDI (segment override allowed); every byte is checked first. */
X86_SSE_OP(maskmov)
{
    unsigned width = x86_sse_width(op);
    union x86_xmm data, mask;

    x86_sse_check(cpu, op);
    x86_sse_read(cpu, op, 0, &data, width, false);
    x86_sse_read(cpu, op, 1, &mask, width, false);
    uint64_t ea = cpu->gpr[X86_RDI] & x86_size_mask(op->addrsize);
    uint64_t lin[16];
    for (unsigned i = 0; i < width; i++) {
        if (mask.b[i] & 0x80) {
            lin[i] = x86_linear(cpu, op->seg, (ea + i) & x86_size_mask(op->addrsize), 1,
                                X86_ACC_WRITE);
            x86_probe_write_lin(cpu, lin[i], 1, X86_ACC_WRITE);
        }
    }
    for (unsigned i = 0; i < width; i++) {
        if (mask.b[i] & 0x80) {
            x86_store_fast(cpu, lin[i], 1, data.b[i]);
        }
    }
    x86_sse_finish(cpu, op);
    return X86_NEXT;
}

/* ---- state ---------------------------------------------------------------------------------- */

X86_SSE_OP(emms)
{
    (void)op;
    if (cpu->cr0 & X86_CR0_EM) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    if (cpu->cr0 & X86_CR0_TS) {
        x86_raise_noerr(cpu, X86_EXC_NM);
    }
    if ((cpu->fsw & X86_FSW_ES) && (cpu->cr0 & X86_CR0_NE)) {
        x86_raise_noerr(cpu, X86_EXC_MF);
    }
    /* every register empty and, as the SDM's table 9-2 has it and the hardware does, TOP = 0 */
    cpu->ftw = 0xffff;
    cpu->fsw &= (uint16_t)~(7u << 11);
    return X86_NEXT;
}

/* FXSAVE/FXRSTOR: #NM when CR0.TS or CR0.EM (not #UD for EM: the x87 state is saved whatever
 * its emulation). */
static uint64_t fx_linear(struct x86_cpu *cpu, const struct x86_uop *op, unsigned access)
{
    if (cpu->cr0 & (X86_CR0_TS | X86_CR0_EM)) {
        x86_raise_noerr(cpu, X86_EXC_NM);
    }
    uint64_t lin = x86_op_linear(cpu, op, 0, 512, access);
    if (lin & 15) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    return lin;
}

/* The image is bytes in memory order; guest memory accesses carry little-endian values. */
static uint64_t bytes_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < 8; k++) {
        v |= (uint64_t)p[k] << (8 * k);
    }
    return v;
}

static void le64_bytes(uint8_t *p, uint64_t v)
{
    for (unsigned k = 0; k < 8; k++) {
        p[k] = (uint8_t)(v >> (8 * k));
    }
}

/* FXSAVE64 (REX.W in 64-bit mode) keeps the 64-bit FIP/FDP of x86_fxsave_image; FXSAVE stores
 * them as 32-bit offsets with the FCS/FDS selectors beside them. */
static bool fx_64bit_layout(const struct x86_uop *op)
{
    return (op->rex & 8) != 0;
}

X86_SSE_OP(fxsave)
{
    uint8_t img[512];
    uint64_t lin = fx_linear(cpu, op, X86_ACC_WRITE);

    x86_fxsave_image(cpu, img);
    if (!fx_64bit_layout(op)) {
        uint32_t fip = (uint32_t)cpu->fip, fdp = (uint32_t)cpu->fdp;
        memcpy(img + 8, &fip, 4);
        memcpy(img + 12, &cpu->fcs, 2);
        memset(img + 14, 0, 2);
        memcpy(img + 16, &fdp, 4);
        memcpy(img + 20, &cpu->fds, 2);
        memset(img + 22, 0, 2);
    }
    /* bytes 416-511 are reserved or the software's: not written */
    x86_probe_write_lin(cpu, lin, 416, X86_ACC_WRITE);
    for (unsigned off = 0; off < 416; off += 8) {
        x86_store_fast(cpu, lin + off, 8, bytes_le64(img + off));
    }
    return X86_NEXT;
}

X86_SSE_OP(fxrstor)
{
    uint8_t img[512];
    uint64_t lin = fx_linear(cpu, op, X86_ACC_READ);

    memset(img, 0, sizeof(img));
    for (unsigned off = 0; off < 416; off += 8) {
        le64_bytes(img + off, x86_load_fast(cpu, lin + off, 8));
    }
    uint16_t fcs = cpu->fcs, fds = cpu->fds;
    if (!fx_64bit_layout(op)) {
        uint32_t fip, fdp;
        memcpy(&fip, img + 8, 4);
        memcpy(&fcs, img + 12, 2);
        memcpy(&fdp, img + 16, 4);
        memcpy(&fds, img + 20, 2);
        uint64_t fip64 = fip, fdp64 = fdp;
        memcpy(img + 8, &fip64, 8);
        memcpy(img + 16, &fdp64, 8);
    }
    if (!x86_fxrstor_image(cpu, img)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->fcs = fcs;
    cpu->fds = fds;
    return X86_NEXT;
}

X86_SSE_OP(ldmxcsr)
{
    x86_sse_check(cpu, op);
    uint32_t v = (uint32_t)x86_opnd_read(cpu, op, 0);
    if (v & ~(uint32_t)X86_MXCSR_MASK) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->mxcsr = v;
    return X86_NEXT;
}

X86_SSE_OP(stmxcsr)
{
    x86_sse_check(cpu, op);
    x86_opnd_write(cpu, op, 0, cpu->mxcsr);
    return X86_NEXT;
}

/* ---- the table ------------------------------------------------------------------------------ */

#define E(mn, name, sub) {mn, x86_op_sse_##name, (sub), 0}
#define PI(mn) E(#mn, pint, PI_##mn)
#define SH(mn) E(#mn, pshift, PI_##mn)
#define FA(mn, op, lane, scalar) \
    E(mn, fparith, (op) | ((lane) == 8 ? 0x10 : 0) | ((scalar) ? 0x80 : 0))
#define FA4(mn, op) FA(mn "PS", op, 4, 0), FA(mn "PD", op, 8, 0), FA(mn "SS", op, 4, 1), \
        FA(mn "SD", op, 8, 1)
#define CV(mn) E("CVT" #mn, cvt, CVT_##mn)

const struct x86_exec_entry x86_exec_table_sse[] = {
    /* moves */
    E("MOVAPS", mov, 1), E("MOVAPD", mov, 1), E("MOVDQA", mov, 1), E("MOVNTPS", mov, 1),
    E("MOVNTPD", mov, 1), E("MOVNTDQ", mov, 1), E("MOVNTDQA", mov, 1), E("MOVNTQ", mov, 0),
    E("MOVUPS", mov, 0), E("MOVUPD", mov, 0), E("MOVDQU", mov, 0), E("LDDQU", mov, 0),
    E("MOVD", movd, 0), E("MOVQ", movd, 0), E("MOVSS", movscalar, 4),
    E("MOVSD", movscalar, 8), E("MOVLPS", movlh, 0), E("MOVLPD", movlh, 0),
    E("MOVHPS", movlh, 1), E("MOVHPD", movlh, 1), E("MOVSLDUP", movdup, 0),
    E("MOVSHDUP", movdup, 1), E("MOVDDUP", movdup, 2), E("MOVQ2DQ", movq2dq, 0),
    E("MOVDQ2Q", movdq2q, 0), E("MASKMOVQ", maskmov, 0), E("MASKMOVDQU", maskmov, 0),
    /* state */
    E("EMMS", emms, 0), E("FXSAVE", fxsave, 0), E("FXRSTOR", fxrstor, 0),
    E("LDMXCSR", ldmxcsr, 0), E("STMXCSR", stmxcsr, 0),
    /* integer */
    PI(PADDB), PI(PADDW), PI(PADDD), PI(PADDQ), PI(PADDSB), PI(PADDSW), PI(PADDUSB),
    PI(PADDUSW), PI(PSUBB), PI(PSUBW), PI(PSUBD), PI(PSUBQ), PI(PSUBSB), PI(PSUBSW),
    PI(PSUBUSB), PI(PSUBUSW), PI(PMULLW), PI(PMULHW), PI(PMULHUW), PI(PMULUDQ), PI(PMADDWD),
    PI(PSADBW), PI(PMULLD), PI(PMULDQ), PI(PAND), PI(PANDN), PI(POR), PI(PXOR), PI(PAVGB),
    PI(PAVGW), PI(PMINUB), PI(PMAXUB), PI(PMINSW), PI(PMAXSW), PI(PMINSB), PI(PMAXSB),
    PI(PMINSD), PI(PMAXSD), PI(PMINUW), PI(PMAXUW), PI(PMINUD), PI(PMAXUD), PI(PCMPEQB),
    PI(PCMPEQW), PI(PCMPEQD), PI(PCMPEQQ), PI(PCMPGTB), PI(PCMPGTW), PI(PCMPGTD), PI(PCMPGTQ),
    PI(PUNPCKLBW), PI(PUNPCKLWD), PI(PUNPCKLDQ), PI(PUNPCKLQDQ), PI(PUNPCKHBW), PI(PUNPCKHWD),
    PI(PUNPCKHDQ), PI(PUNPCKHQDQ), PI(PACKSSWB), PI(PACKUSWB), PI(PACKSSDW), PI(PACKUSDW),
    PI(PSHUFB), PI(PHADDW), PI(PHADDD), PI(PHADDSW), PI(PHSUBW), PI(PHSUBD), PI(PHSUBSW),
    PI(PMADDUBSW), PI(PSIGNB), PI(PSIGNW), PI(PSIGND), PI(PMULHRSW), PI(PABSB), PI(PABSW),
    PI(PABSD),
    SH(PSRLW), SH(PSRLD), SH(PSRLQ), SH(PSRAW), SH(PSRAD), SH(PSLLW), SH(PSLLD), SH(PSLLQ),
    SH(PSRLDQ), SH(PSLLDQ),
    E("PSHUFW", pshuf, 0), E("PSHUFD", pshuf, 1), E("PSHUFHW", pshuf, 2),
    E("PSHUFLW", pshuf, 3), E("PMOVMSKB", pmovmskb, 0), E("PEXTRB", pextr, 1),
    E("PEXTRW", pextr, 2), E("PEXTRD", pextr, 4), E("PINSRB", pinsr, 1), E("PINSRW", pinsr, 2),
    E("PINSRD", pinsr, 4), E("PALIGNR", palignr, 0),
    E("PMOVSXBW", pmovx, 0x80 | 1 | (1 << 4)), E("PMOVSXBD", pmovx, 0x80 | 1 | (2 << 4)),
    E("PMOVSXBQ", pmovx, 0x80 | 1 | (3 << 4)), E("PMOVSXWD", pmovx, 0x80 | 2 | (2 << 4)),
    E("PMOVSXWQ", pmovx, 0x80 | 2 | (3 << 4)), E("PMOVSXDQ", pmovx, 0x80 | 4 | (3 << 4)),
    E("PMOVZXBW", pmovx, 1 | (1 << 4)), E("PMOVZXBD", pmovx, 1 | (2 << 4)),
    E("PMOVZXBQ", pmovx, 1 | (3 << 4)), E("PMOVZXWD", pmovx, 2 | (2 << 4)),
    E("PMOVZXWQ", pmovx, 2 | (3 << 4)), E("PMOVZXDQ", pmovx, 4 | (3 << 4)),
    E("PTEST", ptest, 0), E("PBLENDVB", blendv, 1), E("BLENDVPS", blendv, 4),
    E("BLENDVPD", blendv, 8), E("PBLENDW", blend, 2), E("BLENDPS", blend, 4),
    E("BLENDPD", blend, 8), E("MPSADBW", mpsadbw, 0), E("PHMINPOSUW", phminposuw, 0),
    E("PCMPESTRM", pcmpstr, 0), E("PCMPESTRI", pcmpstr, 1), E("PCMPISTRM", pcmpstr, 2),
    E("PCMPISTRI", pcmpstr, 3), E("CRC32", crc32, 0),
    /* floating point */
    FA4("ADD", FP_ADD), FA4("SUB", FP_SUB), FA4("MUL", FP_MUL), FA4("DIV", FP_DIV),
    FA4("MIN", FP_MIN), FA4("MAX", FP_MAX), FA4("SQRT", FP_SQRT),
    E("ANDPS", fplogic, 0), E("ANDPD", fplogic, 0), E("ANDNPS", fplogic, 1),
    E("ANDNPD", fplogic, 1), E("ORPS", fplogic, 2), E("ORPD", fplogic, 2),
    E("XORPS", fplogic, 3), E("XORPD", fplogic, 3),
    E("CMPPS", fpcmp, 4), E("CMPPD", fpcmp, 8), E("CMPSS", fpcmp, 0x80 | 4),
    E("CMPSD", fpcmp, 0x80 | 8), E("UCOMISS", comis, 4), E("UCOMISD", comis, 8),
    E("COMISS", comis, 0x80 | 4), E("COMISD", comis, 0x80 | 8),
    CV(PI2PS), CV(PI2PD), CV(SI2SS), CV(SI2SD), CV(TPS2PI), CV(TPD2PI), CV(TSS2SI),
    CV(TSD2SI), CV(PS2PI), CV(PD2PI), CV(SS2SI), CV(SD2SI), CV(PS2PD), CV(PD2PS), CV(SS2SD),
    CV(SD2SS), CV(DQ2PS), CV(PS2DQ), CV(TPS2DQ), CV(TPD2DQ), CV(DQ2PD), CV(PD2DQ),
    E("SHUFPS", shufp, 4), E("SHUFPD", shufp, 8), E("UNPCKLPS", unpckp, 4),
    E("UNPCKLPD", unpckp, 8), E("UNPCKHPS", unpckp, 0x80 | 4), E("UNPCKHPD", unpckp, 0x80 | 8),
    E("MOVMSKPS", movmskp, 4), E("MOVMSKPD", movmskp, 8), E("RCPPS", rcp, 0),
    E("RCPSS", rcp, 1), E("RSQRTPS", rcp, 2), E("RSQRTSS", rcp, 3), E("HADDPS", hadd, 4),
    E("HADDPD", hadd, 8), E("HSUBPS", hadd, 0x80 | 4), E("HSUBPD", hadd, 0x80 | 8),
    E("ADDSUBPS", addsub, 4), E("ADDSUBPD", addsub, 8), E("ROUNDPS", round, 4),
    E("ROUNDPD", round, 8), E("ROUNDSS", round, 0x80 | 4), E("ROUNDSD", round, 0x80 | 8),
    E("DPPS", dpp, 4), E("DPPD", dpp, 8), E("EXTRACTPS", extractps, 0),
    E("INSERTPS", insertps, 0),
};
const size_t x86_exec_table_sse_len = sizeof(x86_exec_table_sse) / sizeof(x86_exec_table_sse[0]);
