/*
 * coremu x86_64 — segmentation: descriptors, segment register loads with their protection
 * checks (Intel SDM Vol. 3A ch. 3 and 5), the instructions that load segment registers and
 * the far transfers (JMP/CALL/RET far to code segments).
 *
 * Descriptor tables are read with implicit supervisor accesses. The accessed bit of a loaded
 * descriptor is set in memory (a compare-and-swap is not needed: the bit only ever goes from 0
 * to 1, and a byte store of the type byte with it set cannot lose another core's update of
 * anything but the same bit).
 */
#include "config.h"

#include <coremu/log.h>

#include "cpu.h"
#include "ops.h"

bool x86_long_mode(const struct x86_cpu *cpu)
{
    return (cpu->efer & X86_EFER_LMA) != 0;
}

bool x86_code64(const struct x86_cpu *cpu)
{
    return x86_long_mode(cpu) && (cpu->seg[X86_CS].attr & X86_SEG_L);
}

bool x86_read_descriptor(struct x86_cpu *cpu, uint16_t selector, uint64_t desc[2], bool wide)
{
    const struct x86_segment *table;
    struct x86_segment gdt;
    unsigned bytes = wide ? 16 : 8;

    if (selector & 4) {
        table = &cpu->seg[X86_LDTR];
        if (!(table->attr & X86_SEG_P)) {
            return false;
        }
    } else {
        gdt.base = cpu->gdtr.base;
        gdt.limit = cpu->gdtr.limit;
        table = &gdt;
    }
    uint64_t off = selector & 0xfff8u;
    if (off + bytes - 1 > table->limit) {
        return false;
    }
    uint64_t addr = table->base + off;
    if (!x86_long_mode(cpu)) {
        addr &= 0xffffffffull;
    }
    desc[0] = x86_load_lin(cpu, addr, 8, X86_ACC_READ | X86_ACC_SUPER);
    desc[1] = wide ? x86_load_lin(cpu, addr + 8, 8, X86_ACC_READ | X86_ACC_SUPER) : 0;
    return true;
}

void x86_descriptor_to_cache(const uint64_t desc[2], uint16_t selector, struct x86_segment *s)
{
    uint64_t d = desc[0];
    uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

    s->selector = selector;
    s->attr = (uint16_t)((d >> 40) & 0xf0ff);
    s->base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000ull);
    if (!(s->attr & X86_SEG_S)) {
        s->base |= desc[1] << 32; /* system descriptors in long mode are 16 bytes */
    }
    s->limit = (s->attr & X86_SEG_G) ? (limit << 12) | 0xfff : limit;
}

/* Sets the accessed bit of the descriptor of selector when it is clear. */
static void set_accessed(struct x86_cpu *cpu, uint16_t selector, uint64_t desc0)
{
    if (desc0 & (1ull << 40)) {
        return;
    }
    uint64_t base = (selector & 4) ? cpu->seg[X86_LDTR].base : cpu->gdtr.base;
    uint64_t addr = base + (selector & 0xfff8u) + 5;
    x86_store_lin(cpu, addr, 1, (uint8_t)((desc0 >> 40) | 1), X86_ACC_WRITE | X86_ACC_SUPER);
}

void x86_load_seg_real(struct x86_cpu *cpu, unsigned seg, uint16_t selector)
{
    struct x86_segment *s = &cpu->seg[seg];
    s->selector = selector;
    s->base = (uint64_t)selector << 4;
    /* The limit and attributes stay what they were (big real mode keeps its 4 GiB limit), but
     * a segment loaded in real mode is present and writable. */
    s->attr = (uint16_t)((s->attr & ~0xffu) | X86_SEG_P | X86_SEG_S | 0x3u |
                         (seg == X86_CS ? 0x8u : 0));
    if (cpu->rflags & X86_VM) {
        s->limit = 0xffff;
        s->attr = X86_SEG_P | X86_SEG_S | 0x3u | (3u << 5) | (seg == X86_CS ? 0x8u : 0);
    }
}

void x86_load_seg(struct x86_cpu *cpu, unsigned seg, uint16_t selector)
{
    if (!(cpu->cr0 & X86_CR0_PE) || (cpu->rflags & X86_VM)) {
        x86_load_seg_real(cpu, seg, selector);
        return;
    }
    unsigned rpl = selector & 3, cpl = cpu->cpl;
    uint32_t err = selector & 0xfffc;
    struct x86_segment s;
    uint64_t desc[2];

    if ((selector & 0xfffc) == 0) {
        if (seg == X86_SS && !(x86_code64(cpu) && cpl != 3 && rpl == cpl)) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
        /* a null selector: the register becomes unusable (64-bit mode keeps FS/GS bases) */
        cpu->seg[seg].selector = selector;
        cpu->seg[seg].attr = seg == X86_SS ? cpu->seg[seg].attr : 0;
        if (!x86_code64(cpu)) {
            cpu->seg[seg].base = 0;
        }
        return;
    }
    if (!x86_read_descriptor(cpu, selector, desc, false)) {
        x86_raise(cpu, X86_EXC_GP, err);
    }
    x86_descriptor_to_cache(desc, selector, &s);
    unsigned type = X86_SEG_TYPE(s.attr), dpl = X86_SEG_DPL(s.attr);
    if (!(s.attr & X86_SEG_S)) {
        x86_raise(cpu, X86_EXC_GP, err);
    }
    if (seg == X86_SS) {
        /* a writable data segment at exactly CPL */
        if ((type & 0xa) != 0x2 || rpl != cpl || dpl != cpl) {
            x86_raise(cpu, X86_EXC_GP, err);
        }
        if (!(s.attr & X86_SEG_P)) {
            x86_raise(cpu, X86_EXC_SS, err);
        }
    } else {
        /* data, or readable code; privilege unless conforming code */
        if ((type & 0xa) == 0x8) {
            x86_raise(cpu, X86_EXC_GP, err);
        }
        if ((type & 0xc) != 0xc && (rpl > dpl || cpl > dpl)) {
            x86_raise(cpu, X86_EXC_GP, err);
        }
        if (!(s.attr & X86_SEG_P)) {
            x86_raise(cpu, X86_EXC_NP, err);
        }
    }
    set_accessed(cpu, selector, desc[0]);
    s.attr |= 1; /* accessed */
    if (x86_code64(cpu) && (seg == X86_FS || seg == X86_GS)) {
        s.base &= 0xffffffffull;
    }
    cpu->seg[seg] = s;
}

void x86_null_outer_data_segs(struct x86_cpu *cpu, unsigned new_cpl)
{
    static const unsigned segs[4] = {X86_ES, X86_DS, X86_FS, X86_GS};
    for (unsigned i = 0; i < 4; i++) {
        struct x86_segment *s = &cpu->seg[segs[i]];
        bool conforming_code = (X86_SEG_TYPE(s->attr) & 0xc) == 0xc;
        if ((s->attr & X86_SEG_S) && !conforming_code && X86_SEG_DPL(s->attr) < new_cpl) {
            s->selector = 0;
            s->attr = 0;
        }
    }
}

/* ---- MOV Sreg, PUSH/POP Sreg, LxS ----------------------------------------------------------- */

X86_OP(mov_seg)
{
    if (op->opnd[0].kind == X86_OPND_SEG) {
        unsigned seg = op->opnd[0].reg;
        if (seg == X86_CS || seg > X86_GS) {
            x86_raise_noerr(cpu, X86_EXC_UD);
        }
        uint16_t sel = (uint16_t)x86_opnd_read(cpu, op, 1);
        x86_load_seg(cpu, seg, sel);
        if (seg == X86_SS) {
            /* MOV SS holds off interrupts (and traps) until after the next instruction */
            cpu->intr_shadow = true;
            cpu->intr_shadow_rip = op->pc + op->len;
            cpu->next_rip = op->pc + op->len;
            return X86_BRANCH;
        }
        return X86_NEXT;
    }
    /* MOV r/m, Sreg: a register destination takes the zero-extended selector at the operand
     * size; memory always gets 16 bits */
    unsigned seg = op->opnd[1].reg;
    if (seg > X86_GS) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint16_t sel = cpu->seg[seg].selector;
    if (op->opnd[0].kind == X86_OPND_GPR) {
        x86_reg_write(cpu, op->opnd[0].reg, op->opsize, sel);
    } else {
        x86_store_fast(cpu, x86_op_linear(cpu, op, 0, 2, X86_ACC_WRITE), 2, sel);
    }
    return X86_NEXT;
}

X86_OP(push_seg)
{
    x86_push(cpu, op->opsize, cpu->seg[op->opnd[0].reg].selector);
    return X86_NEXT;
}

X86_OP(pop_seg)
{
    unsigned seg = op->opnd[0].reg;
    uint64_t sp = cpu->gpr[X86_RSP];
    unsigned ss = x86_stack_size(cpu);
    uint16_t sel = (uint16_t)x86_load_lin(
        cpu, x86_linear(cpu, X86_SS, sp & x86_size_mask(ss), op->opsize, X86_ACC_READ), 2,
        X86_ACC_READ);
    x86_load_seg(cpu, seg, sel);
    uint64_t m = x86_size_mask(ss);
    cpu->gpr[X86_RSP] = (sp & ~m) | ((sp + op->opsize) & m);
    if (seg == X86_SS) {
        cpu->intr_shadow = true;
        cpu->intr_shadow_rip = op->pc + op->len;
        cpu->next_rip = op->pc + op->len;
        return X86_BRANCH;
    }
    return X86_NEXT;
}

/* LES/LDS/LSS/LFS/LGS: sub is the segment. */
X86_OP(lseg)
{
    unsigned size = op->opsize;
    uint64_t lin = x86_op_linear(cpu, op, 0, size + 2, X86_ACC_READ);
    uint64_t off = x86_load_lin(cpu, lin, size, X86_ACC_READ);
    uint16_t sel = (uint16_t)x86_load_lin(cpu, lin + size, 2, X86_ACC_READ);
    x86_load_seg(cpu, op->sub, sel);
    x86_reg_write(cpu, op->opnd[0].reg, size, off);
    if (op->sub == X86_SS) {
        cpu->next_rip = op->pc + op->len;
        return X86_BRANCH;
    }
    return X86_NEXT;
}

/* ---- far transfers -------------------------------------------------------------------------- */

/* Loads CS for a far JMP/CALL to a code segment (no gates, no task switches), returning the
 * cache to install; raises on a violation. */
static void far_code_target(struct x86_cpu *cpu, uint16_t sel, struct x86_segment *cs)
{
    uint64_t desc[2];
    uint32_t err = sel & 0xfffc;

    if ((sel & 0xfffc) == 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (!x86_read_descriptor(cpu, sel, desc, false)) {
        x86_raise(cpu, X86_EXC_GP, err);
    }
    x86_descriptor_to_cache(desc, sel, cs);
    if (!(cs->attr & X86_SEG_S)) {
        coremu_log(COREMU_LOG_UNIMP, "x86: far transfer through a gate or TSS: not modelled\n");
        x86_raise(cpu, X86_EXC_GP, err);
    }
    unsigned type = X86_SEG_TYPE(cs->attr), dpl = X86_SEG_DPL(cs->attr);
    if (!(type & 8)) {
        x86_raise(cpu, X86_EXC_GP, err);
    }
    if (type & 4) {
        if (dpl > cpu->cpl) {
            x86_raise(cpu, X86_EXC_GP, err);
        }
    } else if ((sel & 3) > cpu->cpl || dpl != cpu->cpl) {
        x86_raise(cpu, X86_EXC_GP, err);
    }
    if (!(cs->attr & X86_SEG_P)) {
        x86_raise(cpu, X86_EXC_NP, err);
    }
    set_accessed(cpu, sel, desc[0]);
    cs->attr |= 1;
    cs->selector = (uint16_t)((sel & 0xfffc) | cpu->cpl);
}

/* The target of a far JMP/CALL: from the immediate (Ap) or memory (Mp). */
static void far_operand(struct x86_cpu *cpu, const struct x86_uop *op, uint64_t *off,
                        uint16_t *sel)
{
    unsigned size = op->opsize;
    if (op->opnd[0].kind == X86_OPND_MEM) {
        uint64_t lin = x86_op_linear(cpu, op, 0, size + 2, X86_ACC_READ);
        *off = x86_load_lin(cpu, lin, size, X86_ACC_READ);
        *sel = (uint16_t)x86_load_lin(cpu, lin + size, 2, X86_ACC_READ);
    } else {
        *off = op->imm & x86_size_mask(size);
        *sel = (uint16_t)op->imm2;
    }
}

static void install_cs(struct x86_cpu *cpu, const struct x86_segment *cs, uint64_t off)
{
    if (!((cpu->efer & X86_EFER_LMA) && (cs->attr & X86_SEG_L)) && off > cs->limit) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->seg[X86_CS] = *cs;
}

X86_OP(jmpf)
{
    uint64_t off;
    uint16_t sel;
    far_operand(cpu, op, &off, &sel);
    if (!(cpu->cr0 & X86_CR0_PE) || (cpu->rflags & X86_VM)) {
        x86_load_seg_real(cpu, X86_CS, sel);
    } else {
        struct x86_segment cs;
        far_code_target(cpu, sel, &cs);
        install_cs(cpu, &cs, off);
    }
    cpu->next_rip = off;
    return X86_BRANCH;
}

X86_OP(callf)
{
    uint64_t off;
    uint16_t sel;
    unsigned size = op->opsize;
    far_operand(cpu, op, &off, &sel);
    uint16_t old_cs = cpu->seg[X86_CS].selector;
    uint64_t ret = op->pc + op->len;
    if (!(cpu->cr0 & X86_CR0_PE) || (cpu->rflags & X86_VM)) {
        uint64_t sp = cpu->gpr[X86_RSP];
        x86_push(cpu, size, old_cs);
        x86_push(cpu, size, ret);
        (void)sp;
        x86_load_seg_real(cpu, X86_CS, sel);
    } else {
        struct x86_segment cs;
        uint64_t sp = cpu->gpr[X86_RSP];
        far_code_target(cpu, sel, &cs);
        x86_push(cpu, size, old_cs);
        x86_push(cpu, size, ret);
        if (!((cpu->efer & X86_EFER_LMA) && (cs.attr & X86_SEG_L)) && off > cs.limit) {
            cpu->gpr[X86_RSP] = sp;
            x86_raise(cpu, X86_EXC_GP, 0);
        }
        cpu->seg[X86_CS] = cs;
    }
    cpu->next_rip = off;
    return X86_BRANCH;
}

/* RETF to an outer privilege level: the caller's SS:rSP follow CS:rIP (after the released
 * parameter bytes) and are loaded with the checks of a stack switch; data segment registers
 * the new privilege may not use become null. */
static enum x86_result retf_outer(struct x86_cpu *cpu, const struct x86_uop *op, uint64_t sp,
                                  uint64_t off, uint16_t sel, uint64_t release)
{
    unsigned size = op->opsize, ssz = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ssz);
    unsigned new_cpl = sel & 3;
    uint64_t desc[2];
    struct x86_segment cs, ss;

    if (!x86_read_descriptor(cpu, sel, desc, false)) {
        x86_raise(cpu, X86_EXC_GP, sel & 0xfffc);
    }
    x86_descriptor_to_cache(desc, sel, &cs);
    unsigned type = X86_SEG_TYPE(cs.attr), dpl = X86_SEG_DPL(cs.attr);
    if (!(cs.attr & X86_SEG_S) || !(type & 8) || ((type & 4) ? dpl > new_cpl : dpl != new_cpl)) {
        x86_raise(cpu, X86_EXC_GP, sel & 0xfffc);
    }
    if (!(cs.attr & X86_SEG_P)) {
        x86_raise(cpu, X86_EXC_NP, sel & 0xfffc);
    }
    uint64_t at = (sp + size * 2 + release) & m;
    uint64_t lin = x86_linear(cpu, X86_SS, at, size * 2, X86_ACC_READ);
    uint64_t new_sp = x86_load_lin(cpu, lin, size, X86_ACC_READ);
    uint16_t ss_sel = (uint16_t)x86_load_lin(cpu, lin + size, 2, X86_ACC_READ);
    bool lm64 = x86_long_mode(cpu) && (cs.attr & X86_SEG_L);
    if ((ss_sel & 0xfffc) == 0) {
        if (!(lm64 && new_cpl != 3)) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
        ss = cpu->seg[X86_SS];
        ss.selector = ss_sel;
    } else {
        if (!x86_read_descriptor(cpu, ss_sel, desc, false)) {
            x86_raise(cpu, X86_EXC_GP, ss_sel & 0xfffc);
        }
        x86_descriptor_to_cache(desc, ss_sel, &ss);
        if ((ss_sel & 3) != new_cpl || X86_SEG_DPL(ss.attr) != new_cpl ||
            !(ss.attr & X86_SEG_S) || (X86_SEG_TYPE(ss.attr) & 0xa) != 0x2) {
            x86_raise(cpu, X86_EXC_GP, ss_sel & 0xfffc);
        }
        if (!(ss.attr & X86_SEG_P)) {
            x86_raise(cpu, X86_EXC_SS, ss_sel & 0xfffc);
        }
    }
    if (!lm64 && off > cs.limit) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    /* committed */
    cs.attr |= 1;
    cpu->seg[X86_CS] = cs;
    cpu->seg[X86_SS] = ss;
    cpu->cpl = new_cpl;
    uint64_t sm = lm64 ? ~(uint64_t)0 : (ss.attr & X86_SEG_DB) ? 0xffffffffull : 0xffffull;
    new_sp = (new_sp + release) & sm;
    cpu->gpr[X86_RSP] = sm == 0xffffull ? (cpu->gpr[X86_RSP] & ~sm) | new_sp : new_sp;
    x86_null_outer_data_segs(cpu, new_cpl);
    cpu->next_rip = off;
    return X86_BRANCH;
}

X86_OP(retf)
{
    unsigned size = op->opsize;
    unsigned ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t sp = cpu->gpr[X86_RSP];
    uint64_t lin = x86_linear(cpu, X86_SS, sp & m, size * 2, X86_ACC_READ);
    uint64_t off = x86_load_lin(cpu, lin, size, X86_ACC_READ);
    uint16_t sel = (uint16_t)x86_load_lin(cpu, lin + size, 2, X86_ACC_READ);
    uint64_t release = op->opnd[0].kind == X86_OPND_IMM ? (op->imm & 0xffff) : 0;

    if (!(cpu->cr0 & X86_CR0_PE) || (cpu->rflags & X86_VM)) {
        x86_load_seg_real(cpu, X86_CS, sel);
    } else if ((sel & 3) < cpu->cpl) {
        x86_raise(cpu, X86_EXC_GP, sel & 0xfffc);
    } else if ((sel & 3) > cpu->cpl) {
        return retf_outer(cpu, op, sp, off, sel, release);
    } else {
        struct x86_segment cs;
        far_code_target(cpu, sel, &cs);
        install_cs(cpu, &cs, off);
    }
    cpu->gpr[X86_RSP] = (sp & ~m) | ((sp + size * 2 + release) & m);
    cpu->next_rip = off;
    return X86_BRANCH;
}
