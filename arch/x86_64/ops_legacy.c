/*
 * coremu x86_64 — the instructions that 16- and 32-bit code still uses and 64-bit mode dropped
 * or seldom runs: PUSHA/POPA, the BCD adjustments (DAA, DAS, AAA, AAS, AAM, AAD), BOUND, ARPL,
 * the descriptor queries LAR, LSL, VERR, VERW, and SYSENTER/SYSEXIT. Semantics as the Intel SDM
 * Vol. 2 pages give them; flags the SDM leaves undefined are written as the host leaves them
 * where the differential tester can see it, else as documented beside each.
 */
#include "config.h"

#include "cpu.h"
#include "ops.h"

/* ---- PUSHA / POPA --------------------------------------------------------------------------- */

X86_OP(pusha)
{
    unsigned size = op->opsize, ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t sp = cpu->gpr[X86_RSP] & m;
    uint64_t top = (sp - 8 * size) & m;
    /* every store is checked before any is made: the block of eight slots below SP */
    uint64_t lin = x86_linear(cpu, X86_SS, top, 8 * size, X86_ACC_WRITE);
    x86_probe_write_lin(cpu, lin, 8 * size, X86_ACC_WRITE);
    static const uint8_t order[8] = {X86_RAX, X86_RCX, X86_RDX, X86_RBX,
                                     X86_RSP, X86_RBP, X86_RSI, X86_RDI};
    for (unsigned i = 0; i < 8; i++) {
        /* slot i is at SP - (i + 1) * size; the saved SP is the value before the first push */
        uint64_t v = x86_reg_read(cpu, order[i], size);
        x86_store_lin(cpu, lin + (7 - i) * size, size, v, X86_ACC_WRITE);
    }
    cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | top;
    return X86_NEXT;
}

X86_OP(popa)
{
    unsigned size = op->opsize, ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t sp = cpu->gpr[X86_RSP] & m;
    uint64_t lin = x86_linear(cpu, X86_SS, sp, 8 * size, X86_ACC_READ);
    uint64_t v[8];
    for (unsigned i = 0; i < 8; i++) {
        v[i] = x86_load_lin(cpu, lin + i * size, size, X86_ACC_READ);
    }
    static const uint8_t order[8] = {X86_RDI, X86_RSI, X86_RBP, X86_RSP,
                                     X86_RBX, X86_RDX, X86_RCX, X86_RAX};
    for (unsigned i = 0; i < 8; i++) {
        if (order[i] != X86_RSP) { /* the saved SP is skipped */
            x86_reg_write(cpu, order[i], size, v[i]);
        }
    }
    cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | ((sp + 8 * size) & m);
    return X86_NEXT;
}

/* ---- BCD ------------------------------------------------------------------------------------ */

static uint32_t szp8(uint8_t v)
{
    return (v & 0x80 ? X86_SF : 0) | (v == 0 ? X86_ZF : 0) | x86_parity(v);
}

/* DAA (sub 0) and DAS (sub 1). OF is undefined: it is left clear. */
X86_OP(daa)
{
    uint32_t f = x86_flags_compute(cpu);
    uint8_t al = (uint8_t)cpu->gpr[X86_RAX], old_al = al;
    bool old_cf = (f & X86_CF) != 0, cf = false, af = false;
    bool sub = op->sub != 0;

    if ((al & 0xf) > 9 || (f & X86_AF)) {
        cf = old_cf || (sub ? al < 6 : al > 0xf9);
        al = (uint8_t)(sub ? al - 6 : al + 6);
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (uint8_t)(sub ? al - 0x60 : al + 0x60);
        cf = true;
    }
    x86_reg_write(cpu, X86_RAX, 1, al);
    x86_flags_set(cpu, szp8(al) | (cf ? X86_CF : 0) | (af ? X86_AF : 0));
    return X86_NEXT;
}

/* AAA (sub 0) and AAS (sub 1). OF SF ZF PF are undefined: computed from AL as the host does. */
X86_OP(aaa)
{
    uint32_t f = x86_flags_compute(cpu);
    uint16_t ax = (uint16_t)cpu->gpr[X86_RAX];
    bool adjust = (ax & 0xf) > 9 || (f & X86_AF);

    if (adjust) {
        if (op->sub == 0) {
            ax = (uint16_t)(ax + 0x106);
        } else {
            /* the SDM's AX <- AX - 6, then AH <- AH - 1: AL's borrow reaches AH too */
            ax = (uint16_t)(ax - 6 - 0x100);
        }
    }
    ax &= 0xff0f;
    x86_reg_write(cpu, X86_RAX, 2, ax);
    x86_flags_set(cpu, szp8((uint8_t)ax) | (adjust ? X86_AF | X86_CF : 0));
    return X86_NEXT;
}

X86_OP(aam)
{
    uint8_t base = (uint8_t)op->imm, al = (uint8_t)cpu->gpr[X86_RAX];
    if (base == 0) {
        x86_raise_noerr(cpu, X86_EXC_DE);
    }
    uint8_t q = (uint8_t)(al / base), r = (uint8_t)(al % base);
    x86_reg_write(cpu, X86_RAX, 2, ((uint16_t)q << 8) | r);
    x86_flags_set(cpu, szp8(r));
    return X86_NEXT;
}

X86_OP(aad)
{
    uint8_t base = (uint8_t)op->imm;
    uint16_t ax = (uint16_t)cpu->gpr[X86_RAX];
    uint8_t al = (uint8_t)((ax & 0xff) + (ax >> 8) * base);
    x86_reg_write(cpu, X86_RAX, 2, al);
    x86_flags_set(cpu, szp8(al));
    return X86_NEXT;
}

/* ---- BOUND, ARPL ---------------------------------------------------------------------------- */

X86_OP(bound)
{
    unsigned size = op->opnd[0].size;
    if (op->opnd[1].kind != X86_OPND_MEM) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint64_t lin = x86_op_linear(cpu, op, 0, 2 * size, X86_ACC_READ);
    int64_t lo = x86_sext(x86_load_lin(cpu, lin, size, X86_ACC_READ), size);
    int64_t hi = x86_sext(x86_load_lin(cpu, lin + size, size, X86_ACC_READ), size);
    int64_t v = x86_sext(x86_reg_read(cpu, op->opnd[0].reg, size), size);
    if (v < lo || v > hi) {
        x86_raise_noerr(cpu, X86_EXC_BR);
    }
    return X86_NEXT;
}

static bool protected_mode(const struct x86_cpu *cpu)
{
    return (cpu->cr0 & X86_CR0_PE) && !(cpu->rflags & X86_VM);
}

X86_OP(arpl)
{
    if (!protected_mode(cpu)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint16_t dst = (uint16_t)x86_opnd_read(cpu, op, 0);
    uint16_t src = (uint16_t)x86_opnd_read(cpu, op, 1);
    uint32_t f = x86_flags_compute(cpu) & ~(uint32_t)X86_ZF;
    if ((dst & 3) < (src & 3)) {
        x86_opnd_write(cpu, op, 0, (dst & ~3u) | (src & 3u));
        f |= X86_ZF;
    }
    x86_flags_set(cpu, f);
    return X86_NEXT;
}

/* ---- LAR, LSL, VERR, VERW ------------------------------------------------------------------- */

enum { Q_LAR, Q_LSL, Q_VERR, Q_VERW };

/* Whether the selector's descriptor may be queried (types and privilege, SDM LAR/LSL/VERR/VERW),
 * with the descriptor in desc. */
static bool query_ok(struct x86_cpu *cpu, unsigned query, uint16_t sel, uint64_t desc[2])
{
    if ((sel & 0xfffc) == 0 || !x86_read_descriptor(cpu, sel, desc, false)) {
        return false;
    }
    struct x86_segment s;
    x86_descriptor_to_cache(desc, sel, &s);
    unsigned type = X86_SEG_TYPE(s.attr), dpl = X86_SEG_DPL(s.attr);
    bool lm = x86_long_mode(cpu);
    bool conforming = (s.attr & X86_SEG_S) && (type & 0xc) == 0xc;

    if (!(s.attr & X86_SEG_S)) {
        /* system descriptors: LDT, available/busy TSS (and 16-bit ones, call gates for LAR,
         * outside long mode) */
        static const uint16_t lar_legacy = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) |
                                           (1u << 5) | (1u << 9) | (1u << 0xb) | (1u << 0xc);
        static const uint16_t lar_long = (1u << 2) | (1u << 9) | (1u << 0xb) | (1u << 0xc);
        static const uint16_t lsl_legacy = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 9) |
                                           (1u << 0xb);
        static const uint16_t lsl_long = (1u << 2) | (1u << 9) | (1u << 0xb);
        uint16_t ok = query == Q_LAR ? (lm ? lar_long : lar_legacy)
                      : query == Q_LSL ? (lm ? lsl_long : lsl_legacy)
                                       : 0;
        if (!((ok >> type) & 1)) {
            return false;
        }
    } else if (query == Q_VERR && (type & 0xa) == 0x8) {
        return false; /* execute-only code */
    } else if (query == Q_VERW && (type & 0xa) != 0x2) {
        return false; /* only writable data */
    }
    if (!conforming && (dpl < cpu->cpl || dpl < (sel & 3u))) {
        return false;
    }
    return true;
}

X86_OP(lar)
{
    if (!protected_mode(cpu)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint16_t sel = (uint16_t)x86_opnd_read(cpu, op, 1);
    uint64_t desc[2];
    bool lsl = op->sub == Q_LSL;
    bool ok = query_ok(cpu, op->sub, sel, desc);
    uint32_t f = x86_flags_compute(cpu) & ~(uint32_t)X86_ZF;
    if (ok) {
        uint64_t v;
        if (lsl) {
            struct x86_segment s;
            x86_descriptor_to_cache(desc, sel, &s);
            v = s.limit;
        } else {
            v = (desc[0] >> 32) & 0x00f0ff00u;
        }
        x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size, v);
        f |= X86_ZF;
    }
    x86_flags_set(cpu, f);
    return X86_NEXT;
}

X86_OP(verr)
{
    if (!protected_mode(cpu)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint16_t sel = (uint16_t)x86_opnd_read(cpu, op, 0);
    uint64_t desc[2];
    uint32_t f = x86_flags_compute(cpu) & ~(uint32_t)X86_ZF;
    if (query_ok(cpu, op->sub, sel, desc)) {
        f |= X86_ZF;
    }
    x86_flags_set(cpu, f);
    return X86_NEXT;
}

/* ---- SYSENTER / SYSEXIT --------------------------------------------------------------------- */

static void flat(struct x86_segment *s, uint16_t sel, bool code, bool l, unsigned dpl)
{
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = (uint16_t)(X86_SEG_S | X86_SEG_P | X86_SEG_G | (dpl << 5) | (code ? 0xbu : 0x3u) |
                         (l ? X86_SEG_L : X86_SEG_DB));
}

X86_OP(sysenter)
{
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    if (!(cpu->cr0 & X86_CR0_PE) || (cs & 0xfffc) == 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    bool lm = x86_long_mode(cpu);
    cpu->rflags &= ~(uint64_t)(X86_VM | X86_IF | X86_RF);
    flat(&cpu->seg[X86_CS], cs & 0xfffc, true, lm, 0);
    flat(&cpu->seg[X86_SS], (uint16_t)((cs & 0xfffc) + 8), false, false, 0);
    cpu->cpl = 0;
    cpu->gpr[X86_RSP] = lm ? cpu->sysenter_esp : (uint32_t)cpu->sysenter_esp;
    cpu->next_rip = lm ? cpu->sysenter_eip : (uint32_t)cpu->sysenter_eip;
    return X86_BRANCH;
}

X86_OP(sysexit)
{
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    if (!(cpu->cr0 & X86_CR0_PE) || (cs & 0xfffc) == 0 || cpu->cpl != 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    bool to64 = op->opsize == 8;
    if (to64) {
        flat(&cpu->seg[X86_CS], (uint16_t)((cs + 32) | 3), true, true, 3);
        flat(&cpu->seg[X86_SS], (uint16_t)((cs + 40) | 3), false, false, 3);
        cpu->gpr[X86_RSP] = cpu->gpr[X86_RCX];
        cpu->next_rip = cpu->gpr[X86_RDX];
    } else {
        flat(&cpu->seg[X86_CS], (uint16_t)((cs + 16) | 3), true, false, 3);
        flat(&cpu->seg[X86_SS], (uint16_t)((cs + 24) | 3), false, false, 3);
        cpu->gpr[X86_RSP] = (uint32_t)cpu->gpr[X86_RCX];
        cpu->next_rip = (uint32_t)cpu->gpr[X86_RDX];
    }
    cpu->cpl = 3;
    return X86_BRANCH;
}
