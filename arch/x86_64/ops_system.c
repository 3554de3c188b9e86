/*
 * coremu x86_64 — system instructions: control and debug registers, MSRs, CPUID and the time
 * stamp counter, descriptor-table registers, port I/O with its permission checks, SYSCALL /
 * SYSRET / SWAPGS, HLT, CLI/STI, PAUSE and the fences.
 *
 * Privilege: every instruction here that the SDM reserves for CPL 0 raises #GP(0) elsewhere;
 * port I/O and CLI/STI follow IOPL (and the TSS I/O permission bitmap for I/O).
 */
#include "config.h"

#include <string.h>

#include <coremu/atomic.h>
#include <coremu/clock.h>
#include <coremu/log.h>

#include "cpu.h"
#include "ops.h"

static void require_cpl0(struct x86_cpu *cpu)
{
    if (cpu->cpl != 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
}

static enum x86_result next_block(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->next_rip = op->pc + op->len;
    return X86_BRANCH;
}

/* ---- control registers ---------------------------------------------------------------------- */

void x86_write_cr0(struct x86_cpu *cpu, uint64_t value)
{
    uint64_t old = cpu->cr0;
    if (value >> 32) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (((value & X86_CR0_PG) && !(value & X86_CR0_PE)) ||
        ((value & X86_CR0_NW) && !(value & X86_CR0_CD))) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if ((value & X86_CR0_PG) && !(old & X86_CR0_PG) && (cpu->efer & X86_EFER_LME)) {
        if (!(cpu->cr4 & X86_CR4_PAE) || (cpu->seg[X86_CS].attr & X86_SEG_L)) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
        cpu->efer |= X86_EFER_LMA;
    }
    if (!(value & X86_CR0_PG) && (old & X86_CR0_PG) && (cpu->efer & X86_EFER_LMA)) {
        if (x86_code64(cpu)) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
        cpu->efer &= ~(uint64_t)X86_EFER_LMA;
    }
    cpu->cr0 = value | X86_CR0_ET;
    if ((old ^ cpu->cr0) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE)) {
        x86_paging_changed(cpu);
    }
}

void x86_write_cr3(struct x86_cpu *cpu, uint64_t value)
{
    /* With CR4.PCIDE, bit 63 asks not to invalidate the new PCID's translations; it is not
     * part of CR3. The TLB keeps one address space at a time, and dropping translations is
     * always allowed, so the non-global entries go either way. */
    if ((cpu->cr4 & X86_CR4_PCIDE) && (value >> 63)) {
        value &= ~(1ull << 63);
    }
    if (x86_long_mode(cpu) && (value >> 40)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->cr3 = value;
    x86_tlb_flush_nonglobal(cpu);
}

/* The CR4 bits this CPU implements. */
#define CR4_VALID                                                                              \
    (X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR |     \
     X86_CR4_OSXMMEXCPT | X86_CR4_TSD | X86_CR4_MCE | X86_CR4_FSGSBASE | X86_CR4_SMEP |        \
     X86_CR4_UMIP | X86_CR4_OSXSAVE | X86_CR4_PCIDE)

void x86_write_cr4(struct x86_cpu *cpu, uint64_t value)
{
    if (value & ~(uint64_t)CR4_VALID) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (x86_long_mode(cpu) && !(value & X86_CR4_PAE)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    /* PCIDE may be set only in IA-32e mode with PCID 0 current */
    if ((value & X86_CR4_PCIDE) && !(cpu->cr4 & X86_CR4_PCIDE) &&
        (!x86_long_mode(cpu) || (cpu->cr3 & 0xfff))) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    uint64_t old = cpu->cr4;
    cpu->cr4 = value;
    if ((old ^ value) & (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_SMEP | X86_CR4_PCIDE)) {
        x86_tlb_flush_all(cpu);
    }
}

void x86_write_efer(struct x86_cpu *cpu, uint64_t value)
{
    uint64_t valid = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
    if (value & ~valid) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    /* LME cannot change while paging is on; LMA is the processor's */
    if ((cpu->cr0 & X86_CR0_PG) && ((value ^ cpu->efer) & X86_EFER_LME)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    uint64_t old = cpu->efer;
    cpu->efer = (value & ~(uint64_t)X86_EFER_LMA) | (old & X86_EFER_LMA);
    if ((old ^ cpu->efer) & X86_EFER_NXE) {
        x86_tlb_flush_all(cpu);
    }
}

X86_OP(mov_cr)
{
    require_cpl0(cpu);
    bool to_cr = op->opnd[0].kind == X86_OPND_CR;
    unsigned cr = to_cr ? op->opnd[0].reg : op->opnd[1].reg;
    unsigned size = x86_code64(cpu) ? 8 : 4;

    if (to_cr) {
        uint64_t v = x86_reg_read(cpu, op->opnd[1].reg, size);
        switch (cr) {
        case 0:
            x86_write_cr0(cpu, v);
            break;
        case 2:
            cpu->cr2 = v;
            break;
        case 3:
            x86_write_cr3(cpu, v);
            break;
        case 4:
            x86_write_cr4(cpu, v);
            break;
        case 8:
            if (v > 15) {
                x86_raise(cpu, X86_EXC_GP, 0);
            }
            if (cpu->board.tpr_write) {
                cpu->board.tpr_write(cpu->board.opaque, cpu, v);
            } else {
                cpu->cr8 = v;
            }
            break;
        default:
            x86_raise_noerr(cpu, X86_EXC_UD);
        }
        return next_block(cpu, op);
    }
    uint64_t v;
    switch (cr) {
    case 0:
        v = cpu->cr0;
        break;
    case 2:
        v = cpu->cr2;
        break;
    case 3:
        v = cpu->cr3;
        break;
    case 4:
        v = cpu->cr4;
        break;
    case 8:
        v = cpu->board.tpr_read ? cpu->board.tpr_read(cpu->board.opaque, cpu) : cpu->cr8;
        break;
    default:
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    x86_reg_write(cpu, op->opnd[0].reg, size, v);
    return X86_NEXT;
}

X86_OP(mov_dr)
{
    require_cpl0(cpu);
    bool to_dr = op->opnd[0].kind == X86_OPND_DR;
    unsigned dr = to_dr ? op->opnd[0].reg : op->opnd[1].reg;
    unsigned size = x86_code64(cpu) ? 8 : 4;

    if (dr == 4 || dr == 5) {
        if (cpu->cr4 & X86_CR4_DE) {
            x86_raise_noerr(cpu, X86_EXC_UD);
        }
        dr += 2;
    }
    if (dr > 7) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    if (to_dr) {
        uint64_t v = x86_reg_read(cpu, op->opnd[1].reg, size);
        if ((dr == 6 || dr == 7) && (v >> 32)) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
        cpu->dr[dr] = dr == 6 ? (v | 0xffff0ff0u) : dr == 7 ? ((v | 0x400) & ~0x1000ull) : v;
        return X86_NEXT;
    }
    x86_reg_write(cpu, op->opnd[0].reg, size, cpu->dr[dr]);
    return X86_NEXT;
}

X86_OP(clts)
{
    require_cpl0(cpu);
    cpu->cr0 &= ~(uint64_t)X86_CR0_TS;
    (void)op;
    return X86_NEXT;
}

X86_OP(smsw)
{
    if ((cpu->cr4 & X86_CR4_UMIP) && cpu->cpl > 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (op->opnd[0].kind == X86_OPND_MEM) {
        x86_store_fast(cpu, x86_op_linear(cpu, op, 0, 2, X86_ACC_WRITE), 2, cpu->cr0 & 0xffff);
    } else {
        x86_reg_write(cpu, op->opnd[0].reg, op->opsize, cpu->cr0);
    }
    return X86_NEXT;
}

X86_OP(lmsw)
{
    require_cpl0(cpu);
    uint64_t v = x86_opnd_read(cpu, op, 0) & 0xf;
    /* LMSW sets PE but never clears it */
    x86_write_cr0(cpu, (cpu->cr0 & ~0xeull) | v | (cpu->cr0 & X86_CR0_PE));
    return next_block(cpu, op);
}

/* ---- descriptor tables ---------------------------------------------------------------------- */

static void load_dtr(struct x86_cpu *cpu, const struct x86_uop *op, struct x86_dtr *dtr)
{
    require_cpl0(cpu);
    bool in64 = x86_code64(cpu);
    uint64_t lin = x86_op_linear(cpu, op, 0, in64 ? 10 : 6, X86_ACC_READ);
    uint16_t limit = (uint16_t)x86_load_lin(cpu, lin, 2, X86_ACC_READ);
    uint64_t base = x86_load_lin(cpu, lin + 2, in64 ? 8 : 4, X86_ACC_READ);
    if (!in64 && op->opsize == 2) {
        base &= 0xffffff;
    }
    dtr->base = base;
    dtr->limit = limit;
}

static void store_dtr(struct x86_cpu *cpu, const struct x86_uop *op, const struct x86_dtr *dtr)
{
    if ((cpu->cr4 & X86_CR4_UMIP) && cpu->cpl > 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    bool in64 = x86_code64(cpu);
    uint64_t lin = x86_op_linear(cpu, op, 0, in64 ? 10 : 6, X86_ACC_WRITE);
    x86_probe_write_lin(cpu, lin, in64 ? 10 : 6, X86_ACC_WRITE);
    x86_store_lin(cpu, lin, 2, dtr->limit, X86_ACC_WRITE);
    x86_store_lin(cpu, lin + 2, in64 ? 8 : 4, dtr->base, X86_ACC_WRITE);
}

X86_OP(lgdt)
{
    load_dtr(cpu, op, &cpu->gdtr);
    return X86_NEXT;
}

X86_OP(lidt)
{
    load_dtr(cpu, op, &cpu->idtr);
    return X86_NEXT;
}

X86_OP(sgdt)
{
    store_dtr(cpu, op, &cpu->gdtr);
    return X86_NEXT;
}

X86_OP(sidt)
{
    store_dtr(cpu, op, &cpu->idtr);
    return X86_NEXT;
}

/* LLDT / LTR: a system descriptor of the GDT (16 bytes in long mode). */
static void load_system_seg(struct x86_cpu *cpu, const struct x86_uop *op, unsigned seg)
{
    if (!(cpu->cr0 & X86_CR0_PE) || (cpu->rflags & X86_VM)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    require_cpl0(cpu);
    uint16_t sel = (uint16_t)x86_opnd_read(cpu, op, 0);
    uint64_t desc[2];
    struct x86_segment s;
    bool lm = x86_long_mode(cpu);

    if ((sel & 0xfffc) == 0) {
        if (seg == X86_TR) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
        cpu->seg[seg].selector = sel;
        cpu->seg[seg].attr = 0;
        return;
    }
    if ((sel & 4) || !x86_read_descriptor(cpu, sel, desc, lm)) {
        x86_raise(cpu, X86_EXC_GP, sel & 0xfffc);
    }
    x86_descriptor_to_cache(desc, sel, &s);
    unsigned type = X86_SEG_TYPE(s.attr);
    bool ok = !(s.attr & X86_SEG_S) &&
              (seg == X86_LDTR ? type == 2 : (type == 9 || (!lm && type == 1)));
    if (!ok) {
        x86_raise(cpu, X86_EXC_GP, sel & 0xfffc);
    }
    if (!(s.attr & X86_SEG_P)) {
        x86_raise(cpu, X86_EXC_NP, sel & 0xfffc);
    }
    if (seg == X86_TR) {
        /* mark the TSS busy in the GDT */
        uint64_t addr = cpu->gdtr.base + (sel & 0xfff8u) + 5;
        x86_store_lin(cpu, addr, 1, (uint8_t)((desc[0] >> 40) | 2), X86_ACC_WRITE | X86_ACC_SUPER);
        s.attr |= 2;
    }
    cpu->seg[seg] = s;
}

X86_OP(lldt)
{
    load_system_seg(cpu, op, X86_LDTR);
    return X86_NEXT;
}

X86_OP(ltr)
{
    load_system_seg(cpu, op, X86_TR);
    return X86_NEXT;
}

static enum x86_result store_selector(struct x86_cpu *cpu, const struct x86_uop *op,
                                      uint16_t sel)
{
    if (!(cpu->cr0 & X86_CR0_PE) || (cpu->rflags & X86_VM)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    if ((cpu->cr4 & X86_CR4_UMIP) && cpu->cpl > 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (op->opnd[0].kind == X86_OPND_MEM) {
        x86_store_fast(cpu, x86_op_linear(cpu, op, 0, 2, X86_ACC_WRITE), 2, sel);
    } else {
        x86_reg_write(cpu, op->opnd[0].reg, op->opsize, sel);
    }
    return X86_NEXT;
}

X86_OP(sldt)
{
    return store_selector(cpu, op, cpu->seg[X86_LDTR].selector);
}

X86_OP(str)
{
    return store_selector(cpu, op, cpu->seg[X86_TR].selector);
}

X86_OP(invlpg)
{
    require_cpl0(cpu);
    x86_tlb_flush_page(cpu, x86_op_linear(cpu, op, 0, 1, X86_ACC_READ));
    return next_block(cpu, op);
}

/* INVPCID r, m128: type 0 one address of one PCID, 1 one PCID, 2 everything, 3 everything
 * but global translations. The TLB holds only the current address space, so the types drop at
 * least what they must: a page, or every non-global entry, or everything. */
X86_OP(invpcid)
{
    require_cpl0(cpu);
    uint64_t type = x86_reg_read(cpu, op->opnd[0].reg, op->opnd[0].size);
    if (op->opnd[1].kind != X86_OPND_MEM) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint64_t lin = x86_op_linear(cpu, op, 0, 16, X86_ACC_READ);
    uint64_t pcid = x86_load_lin(cpu, lin, 8, X86_ACC_READ);
    uint64_t addr = x86_load_lin(cpu, lin + 8, 8, X86_ACC_READ);
    if (type > 3 || (pcid >> 12) ||
        (type <= 1 && pcid != 0 && !(cpu->cr4 & X86_CR4_PCIDE)) ||
        (type == 0 && (uint64_t)((int64_t)(addr << 16) >> 16) != addr)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (type == 0) {
        x86_tlb_flush_page(cpu, addr);
    } else if (type == 2) {
        x86_tlb_flush_all(cpu);
    } else {
        x86_tlb_flush_nonglobal(cpu);
    }
    return next_block(cpu, op);
}

X86_OP(wbinvd)
{
    require_cpl0(cpu);
    (void)op;
    return X86_NEXT;
}

/* ---- MSRs, CPUID, TSC ----------------------------------------------------------------------- */

/* The TSC runs at 1 GHz of the virtual clock: one tick per nanosecond. */
uint64_t x86_tsc(const struct x86_cpu *cpu)
{
    return (uint64_t)coremu_clock_ns() + cpu->tsc_offset;
}

enum {
    MSR_TSC = 0x10,
    MSR_APIC_BASE = 0x1b,
    MSR_PLATFORM_ID = 0x17, /* Intel's; reads 0 (no platform bits), writes #GP */
    MSR_UCODE_REV = 0x8b,
    MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176,
    MSR_MISC_ENABLE = 0x1a0,
    MSR_PAT = 0x277,
    MSR_EFER = 0xc0000080,
    MSR_STAR = 0xc0000081,
    MSR_LSTAR = 0xc0000082,
    MSR_CSTAR = 0xc0000083,
    MSR_SFMASK = 0xc0000084,
    MSR_FS_BASE = 0xc0000100,
    MSR_GS_BASE = 0xc0000101,
    MSR_KERNEL_GS_BASE = 0xc0000102,
    MSR_TSC_AUX = 0xc0000103,
};

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

bool x86_msr_read(struct x86_cpu *cpu, uint32_t msr, uint64_t *v)
{
    switch (msr) {
    case MSR_TSC:
        *v = x86_tsc(cpu);
        return true;
    case MSR_APIC_BASE:
        if (cpu->board.msr_read) {
            return cpu->board.msr_read(cpu->board.opaque, cpu, msr, v);
        }
        *v = cpu->apic_base;
        return true;
    case MSR_PLATFORM_ID:
    case MSR_UCODE_REV:
        *v = 0;
        return true;
    case MSR_SYSENTER_CS:
        *v = cpu->sysenter_cs;
        return true;
    case MSR_SYSENTER_ESP:
        *v = cpu->sysenter_esp;
        return true;
    case MSR_SYSENTER_EIP:
        *v = cpu->sysenter_eip;
        return true;
    case MSR_MISC_ENABLE:
        *v = cpu->misc_enable;
        return true;
    case MSR_PAT:
        *v = cpu->pat;
        return true;
    case MSR_EFER:
        *v = cpu->efer;
        return true;
    case MSR_STAR:
        *v = cpu->star;
        return true;
    case MSR_LSTAR:
        *v = cpu->lstar;
        return true;
    case MSR_CSTAR:
        *v = cpu->cstar;
        return true;
    case MSR_SFMASK:
        *v = cpu->sfmask;
        return true;
    case MSR_FS_BASE:
        *v = cpu->seg[X86_FS].base;
        return true;
    case MSR_GS_BASE:
        *v = cpu->seg[X86_GS].base;
        return true;
    case MSR_KERNEL_GS_BASE:
        *v = cpu->kernel_gs_base;
        return true;
    case MSR_TSC_AUX:
        *v = cpu->tsc_aux;
        return true;
    default:
        if (cpu->board.msr_read) {
            return cpu->board.msr_read(cpu->board.opaque, cpu, msr, v);
        }
        return false;
    }
}

bool x86_msr_write(struct x86_cpu *cpu, uint32_t msr, uint64_t v)
{
    switch (msr) {
    case MSR_TSC:
        cpu->tsc_offset = v - (uint64_t)coremu_clock_ns();
        return true;
    case MSR_APIC_BASE:
        if (cpu->board.msr_write) {
            return cpu->board.msr_write(cpu->board.opaque, cpu, msr, v);
        }
        cpu->apic_base = v;
        return true;
    case MSR_UCODE_REV:
        return true;
    case MSR_SYSENTER_CS:
        cpu->sysenter_cs = v & 0xffff;
        return true;
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
        if (!canonical(v)) {
            return false;
        }
        *(msr == MSR_SYSENTER_ESP ? &cpu->sysenter_esp : &cpu->sysenter_eip) = v;
        return true;
    case MSR_MISC_ENABLE:
        cpu->misc_enable = v;
        return true;
    case MSR_PAT:
        for (unsigned i = 0; i < 8; i++) {
            unsigned t = (unsigned)(v >> (8 * i)) & 0xff;
            if (t == 2 || t == 3 || t > 7) {
                return false;
            }
        }
        cpu->pat = v;
        return true;
    case MSR_EFER:
        x86_write_efer(cpu, v);
        return true;
    case MSR_STAR:
        cpu->star = v;
        return true;
    case MSR_LSTAR:
    case MSR_CSTAR:
        if (!canonical(v)) {
            return false;
        }
        *(msr == MSR_LSTAR ? &cpu->lstar : &cpu->cstar) = v;
        return true;
    case MSR_SFMASK:
        cpu->sfmask = v & 0xffffffffu;
        return true;
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!canonical(v)) {
            return false;
        }
        if (msr == MSR_KERNEL_GS_BASE) {
            cpu->kernel_gs_base = v;
        } else {
            cpu->seg[msr == MSR_FS_BASE ? X86_FS : X86_GS].base = v;
        }
        return true;
    case MSR_TSC_AUX:
        if (v >> 32) {
            return false;
        }
        cpu->tsc_aux = v;
        return true;
    default:
        if (cpu->board.msr_write) {
            return cpu->board.msr_write(cpu->board.opaque, cpu, msr, v);
        }
        return false;
    }
}

X86_OP(rdmsr)
{
    require_cpl0(cpu);
    uint32_t msr = (uint32_t)cpu->gpr[X86_RCX];
    uint64_t v;
    if (!x86_msr_read(cpu, msr, &v)) {
        COREMU_LOG(COREMU_LOG_UNIMP, "x86: rdmsr %#x: no such MSR (#GP)\n", msr);
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->gpr[X86_RAX] = (uint32_t)v;
    cpu->gpr[X86_RDX] = v >> 32;
    (void)op;
    return X86_NEXT;
}

X86_OP(wrmsr)
{
    require_cpl0(cpu);
    uint32_t msr = (uint32_t)cpu->gpr[X86_RCX];
    uint64_t v = ((cpu->gpr[X86_RDX] & 0xffffffffu) << 32) | (uint32_t)cpu->gpr[X86_RAX];
    if (!x86_msr_write(cpu, msr, v)) {
        COREMU_LOG(COREMU_LOG_UNIMP, "x86: wrmsr %#x <- %#llx: refused (#GP)\n", msr,
                   (unsigned long long)v);
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    return next_block(cpu, op); /* EFER, FS/GS bases... */
}

X86_OP(cpuid)
{
    uint32_t out[4];
    x86_cpuid(cpu, (uint32_t)cpu->gpr[X86_RAX], (uint32_t)cpu->gpr[X86_RCX], out);
    cpu->gpr[X86_RAX] = out[0];
    cpu->gpr[X86_RBX] = out[1];
    cpu->gpr[X86_RCX] = out[2];
    cpu->gpr[X86_RDX] = out[3];
    (void)op;
    return X86_NEXT;
}

X86_OP(rdtsc)
{
    if ((cpu->cr4 & X86_CR4_TSD) && cpu->cpl > 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    uint64_t t = x86_tsc(cpu);
    cpu->gpr[X86_RAX] = (uint32_t)t;
    cpu->gpr[X86_RDX] = t >> 32;
    (void)op;
    return X86_NEXT;
}

X86_OP(rdtscp)
{
    x86_op_rdtsc(cpu, op);
    cpu->gpr[X86_RCX] = (uint32_t)cpu->tsc_aux;
    return X86_NEXT;
}

/* ---- port I/O ------------------------------------------------------------------------------- */

/* Whether the current privilege may access size bytes at port (SDM Vol. 1 19.5). */
static void check_io(struct x86_cpu *cpu, uint16_t port, unsigned size)
{
    bool pm = (cpu->cr0 & X86_CR0_PE) != 0;
    unsigned iopl = (unsigned)(cpu->rflags >> 12) & 3;
    if (!pm || (!(cpu->rflags & X86_VM) && cpu->cpl <= iopl)) {
        return;
    }
    const struct x86_segment *tr = &cpu->seg[X86_TR];
    if (tr->limit < 0x67) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    uint16_t base = (uint16_t)x86_load_lin(cpu, tr->base + 0x66, 2, X86_ACC_READ | X86_ACC_SUPER);
    uint32_t byte = base + port / 8u;
    if (byte + 1 > tr->limit) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    uint16_t bits = (uint16_t)x86_load_lin(cpu, tr->base + byte, 2, X86_ACC_READ | X86_ACC_SUPER);
    if ((bits >> (port & 7)) & ((1u << size) - 1)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
}

uint64_t x86_port_in(struct x86_cpu *cpu, uint16_t port, unsigned size)
{
    check_io(cpu, port, size);
    uint64_t v = x86_size_mask(size);
    if (cpu->io && coremu_as_read(cpu->io, port, size, &v) != 0) {
        v = x86_size_mask(size);
    }
    return v;
}

void x86_port_out(struct x86_cpu *cpu, uint16_t port, unsigned size, uint64_t value)
{
    check_io(cpu, port, size);
    if (cpu->io) {
        (void)coremu_as_write(cpu->io, port, size, value & x86_size_mask(size));
    }
}

X86_OP(in)
{
    unsigned size = op->opnd[0].size;
    uint16_t port = op->opnd[1].kind == X86_OPND_IMM ? (uint16_t)(op->imm & 0xff)
                                                     : (uint16_t)cpu->gpr[X86_RDX];
    x86_reg_write(cpu, X86_RAX, size, x86_port_in(cpu, port, size));
    return X86_NEXT;
}

X86_OP(out)
{
    unsigned size = op->opnd[1].size;
    uint16_t port = op->opnd[0].kind == X86_OPND_IMM ? (uint16_t)(op->imm & 0xff)
                                                     : (uint16_t)cpu->gpr[X86_RDX];
    x86_port_out(cpu, port, size, cpu->gpr[X86_RAX]);
    /* a device may have raised an interrupt, or asked the machine to stop */
    return next_block(cpu, op);
}

/* ---- interrupts, HLT, PAUSE ----------------------------------------------------------------- */

X86_OP(hlt)
{
    require_cpl0(cpu);
    cpu->halted = true;
    return next_block(cpu, op);
}

X86_OP(cli)
{
    unsigned iopl = (unsigned)(cpu->rflags >> 12) & 3;
    if ((cpu->cr0 & X86_CR0_PE) && cpu->cpl > iopl) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->rflags &= ~(uint64_t)X86_IF;
    (void)op;
    return X86_NEXT;
}

X86_OP(sti)
{
    unsigned iopl = (unsigned)(cpu->rflags >> 12) & 3;
    if ((cpu->cr0 & X86_CR0_PE) && cpu->cpl > iopl) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (!(cpu->rflags & X86_IF)) {
        /* interrupts open after the next instruction */
        cpu->intr_shadow = true;
        cpu->intr_shadow_rip = op->pc + op->len;
    }
    cpu->rflags |= X86_IF;
    return next_block(cpu, op);
}

X86_OP(pause)
{
    if (cpu->rt) {
        coremu_cpu_relax(cpu->rt, cpu->insns_executed);
    }
    return next_block(cpu, op);
}

/* MFENCE (sub 0), LFENCE (1), SFENCE (2). Guest memory is TSO: on a TSO host only MFENCE needs
 * a host fence; elsewhere LFENCE and SFENCE need acquire and release ordering. */
X86_OP(fence)
{
    if (op->sub == 0) {
        coremu_atomic_fence();
    } else {
#if !defined(__x86_64__) && !defined(__i386__)
        static _Atomic unsigned fence_word;
        atomic_fetch_add_explicit(&fence_word, 0, memory_order_acq_rel);
#endif
    }
    return X86_NEXT;
}

/* ---- SYSCALL, SYSRET, SWAPGS, FS/GS base ---------------------------------------------------- */

static void flat_segment(struct x86_segment *s, uint16_t sel, bool code, bool l, unsigned dpl)
{
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = (uint16_t)(X86_SEG_S | X86_SEG_P | X86_SEG_G | (dpl << 5) |
                         (code ? 0xbu : 0x3u) | (l ? X86_SEG_L : X86_SEG_DB));
}

X86_OP(syscall)
{
    if (!(cpu->efer & X86_EFER_SCE) || !x86_long_mode(cpu)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    bool from64 = x86_code64(cpu);
    uint16_t sel = (uint16_t)(cpu->star >> 32);
    cpu->gpr[X86_RCX] = op->pc + op->len;
    cpu->gpr[X86_R11] = x86_rflags_read(cpu) & ~(uint64_t)X86_RF;
    x86_rflags_write(cpu, x86_rflags_read(cpu) & ~(cpu->sfmask | X86_RF));
    flat_segment(&cpu->seg[X86_CS], sel & 0xfffc, true, true, 0);
    flat_segment(&cpu->seg[X86_SS], (uint16_t)(sel + 8), false, false, 0);
    cpu->cpl = 0;
    cpu->next_rip = from64 ? cpu->lstar : cpu->cstar;
    return X86_BRANCH;
}

X86_OP(sysret)
{
    if (!(cpu->efer & X86_EFER_SCE) || !x86_code64(cpu)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    require_cpl0(cpu);
    bool to64 = op->opsize == 8;
    uint16_t sel = (uint16_t)(cpu->star >> 48);
    uint64_t rip = to64 ? cpu->gpr[X86_RCX] : (uint32_t)cpu->gpr[X86_RCX];
    if (to64 && !canonical(rip)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    x86_rflags_write(cpu, (cpu->gpr[X86_R11] & 0x3c7fd7u) | 2u);
    flat_segment(&cpu->seg[X86_CS], (uint16_t)((to64 ? sel + 16 : sel) | 3), true, to64, 3);
    if (!to64) {
        cpu->seg[X86_CS].attr = (uint16_t)((cpu->seg[X86_CS].attr & ~X86_SEG_L) | X86_SEG_DB);
    }
    /* SS gets the selector; its cache keeps flat attributes at DPL 3 */
    flat_segment(&cpu->seg[X86_SS], (uint16_t)((sel + 8) | 3), false, false, 3);
    cpu->cpl = 3;
    cpu->next_rip = rip;
    return X86_BRANCH;
}

X86_OP(swapgs)
{
    require_cpl0(cpu);
    uint64_t t = cpu->seg[X86_GS].base;
    cpu->seg[X86_GS].base = cpu->kernel_gs_base;
    cpu->kernel_gs_base = t;
    (void)op;
    return X86_NEXT;
}

/* RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE: sub 0/1 (FS/GS), read or write by mnemonic. */
X86_OP(rdfsbase)
{
    if (!(cpu->cr4 & X86_CR4_FSGSBASE)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size,
                  cpu->seg[op->sub ? X86_GS : X86_FS].base);
    return X86_NEXT;
}

X86_OP(wrfsbase)
{
    if (!(cpu->cr4 & X86_CR4_FSGSBASE)) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint64_t v = x86_reg_read(cpu, op->opnd[0].reg, op->opnd[0].size);
    if (!canonical(v)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    cpu->seg[op->sub ? X86_GS : X86_FS].base = v;
    return X86_NEXT;
}

X86_OP(ud)
{
    (void)op;
    x86_raise_noerr(cpu, X86_EXC_UD);
}
