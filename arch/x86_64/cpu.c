/*
 * coremu x86_64 — a core's life: creation, reset, and what it says of itself (CPUID).
 *
 * CPUID describes one stated model, "coremu x86_64": a family 6 Intel-compatible core with
 * exactly the features whose instructions and state this CPU implements. Features that the
 * x86-64 baseline requires and Linux checks at boot (FPU, FXSR, SSE, SSE2) are advertised as
 * the architecture mandates; docs/DESIGN.md lists which of their instructions run today.
 */
#include "config.h"

#include <string.h>

#include "cpu.h"
#include "decode.h"
#include "ops.h"

/* CPUID.1:EDX */
#define F1D_FPU (1u << 0)
#define F1D_DE (1u << 2)
#define F1D_PSE (1u << 3)
#define F1D_TSC (1u << 4)
#define F1D_MSR (1u << 5)
#define F1D_PAE (1u << 6)
#define F1D_CX8 (1u << 8)
#define F1D_APIC (1u << 9)
#define F1D_SEP (1u << 11)
#define F1D_PGE (1u << 13)
#define F1D_CMOV (1u << 15)
#define F1D_PAT (1u << 16)
#define F1D_CLFSH (1u << 19)
#define F1D_MMX (1u << 23)
#define F1D_FXSR (1u << 24)
#define F1D_SSE (1u << 25)
#define F1D_SSE2 (1u << 26)
#define F1D_HTT (1u << 28)
/* CPUID.1:ECX */
#define F1C_SSE3 (1u << 0)
#define F1C_SSSE3 (1u << 9)
#define F1C_CX16 (1u << 13)
#define F1C_PCID (1u << 17)
#define F1C_X2APIC (1u << 21)
#define F1C_SSE41 (1u << 19)
#define F1C_SSE42 (1u << 20)
#define F1C_MOVBE (1u << 22)
#define F1C_POPCNT (1u << 23)
#define F1C_TSC_DEADLINE (1u << 24)
#define F1C_XSAVE (1u << 26)
#define F1C_OSXSAVE (1u << 27)
/* CPUID.7.0:EBX */
#define F7B_FSGSBASE (1u << 0)
#define F7B_SMEP (1u << 7)
#define F7B_ERMS (1u << 9)
#define F7B_INVPCID (1u << 10)
/* CPUID.80000001 */
#define FX1C_LAHF (1u << 0)
#define FX1C_ABM (1u << 5)
#define FX1D_SYSCALL (1u << 11)
#define FX1D_NX (1u << 20)
#define FX1D_PDPE1GB (1u << 26)
#define FX1D_RDTSCP (1u << 27)
#define FX1D_LM (1u << 29)

bool x86_feature_enabled(const struct x86_cpu *cpu, unsigned feature)
{
    (void)cpu;
    switch ((enum x86_feature)feature) {
    case X86_FEAT_BASE:
    case X86_FEAT_X87:
    case X86_FEAT_CMOV:
    case X86_FEAT_MMX:
    case X86_FEAT_SSE:
    case X86_FEAT_SSE2:
    case X86_FEAT_SSE3:
    case X86_FEAT_SSSE3:
    case X86_FEAT_SSE41:
    case X86_FEAT_SSE42:
    case X86_FEAT_POPCNT:
    case X86_FEAT_MOVBE:
    case X86_FEAT_LZCNT:
    case X86_FEAT_FSGSBASE:
    case X86_FEAT_CX16:
    case X86_FEAT_SYSCALL:
    case X86_FEAT_RDTSCP:
    case X86_FEAT_XSAVE:
        return true;
    default:
        return false;
    }
}

static void put_string(uint32_t out[4], const char *s)
{
    memcpy(out, s, 16);
}

void x86_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    unsigned threads = cpu->threads_per_core ? cpu->threads_per_core : 1;
    unsigned cores = cpu->cores_per_socket ? cpu->cores_per_socket : 1;
    unsigned logical = threads * cores;

    memset(out, 0, 16);
    switch (leaf) {
    case 0:
        out[0] = 0x1f;
        memcpy(&out[1], "Genu", 4);
        memcpy(&out[3], "ineI", 4);
        memcpy(&out[2], "ntel", 4);
        return;
    case 1:
        /* family 6, model 0x3a, stepping 9 */
        out[0] = (6u << 8) | (0xau << 4) | (0x3u << 16) | 9u;
        out[1] = (8u << 8) | ((logical > 255 ? 255 : logical) << 16) | (cpu->apic_id << 24);
        out[2] = F1C_SSE3 | F1C_SSSE3 | F1C_CX16 | F1C_PCID | F1C_SSE41 | F1C_SSE42 | F1C_MOVBE |
                 F1C_POPCNT | F1C_XSAVE | ((cpu->cr4 & X86_CR4_OSXSAVE) ? F1C_OSXSAVE : 0);
        out[3] = F1D_FPU | F1D_DE | F1D_PSE | F1D_TSC | F1D_MSR | F1D_PAE | F1D_CX8 | F1D_SEP |
                 F1D_PGE | F1D_CMOV | F1D_PAT | F1D_CLFSH | F1D_MMX | F1D_FXSR | F1D_SSE |
                 F1D_SSE2 | (logical > 1 ? F1D_HTT : 0);
        if (cpu->cpuid_apic) {
            out[2] |= F1C_X2APIC | F1C_TSC_DEADLINE;
            /* SDM 10.4.3: clear while IA32_APIC_BASE's global enable (bit 11) is */
            out[3] |= (cpu->apic_base & (1u << 11)) ? F1D_APIC : 0;
        }
        return;
    case 6:
        /* ARAT: the local APIC timer runs in every idle state (there is only HLT's) */
        out[0] = cpu->cpuid_apic ? 1u << 2 : 0;
        return;
    case 4: {
        /* deterministic cache parameters: L1d, L1i, L2 per core, L3 per package (sizes are
         * nominal: nothing is cached, but Linux sizes its scheduler domains from them) */
        static const struct {
            unsigned type, level, ways, sets, shared_by_package;
        } caches[] = {
            {1, 1, 8, 64, 0}, {2, 1, 8, 64, 0}, {3, 2, 8, 1024, 0}, {3, 3, 16, 16384, 1},
        };
        if (subleaf >= sizeof(caches) / sizeof(caches[0])) {
            return;
        }
        unsigned sharing = caches[subleaf].shared_by_package ? logical : threads;
        unsigned cores_bits = 0;
        while ((1u << cores_bits) < cores) {
            cores_bits++;
        }
        out[0] = caches[subleaf].type | (caches[subleaf].level << 5) | (1u << 8) |
                 ((sharing - 1) << 14) | (((1u << cores_bits) - 1) << 26);
        out[1] = (64u - 1) | ((caches[subleaf].ways - 1) << 22);
        out[2] = caches[subleaf].sets - 1;
        return;
    }
    case 7:
        if (subleaf == 0) {
            out[1] = F7B_FSGSBASE | F7B_SMEP | F7B_ERMS | F7B_INVPCID;
        }
        return;
    case 0xd:
        /* XSAVE: x87 and SSE state only, in the 576-byte standard format */
        if (subleaf == 0) {
            out[0] = X86_XCR0_SUPPORTED;
            out[1] = 576;
            out[2] = 576;
        } else if (subleaf == 1) {
            out[0] = 0; /* no XSAVEOPT, XSAVEC, XGETBV with ECX = 1, XSAVES */
        }
        return;
    case 0x15:
        /* the TSC runs at 1 GHz: a 1 GHz "crystal" and a ratio of 1 */
        out[0] = 1;
        out[1] = 1;
        out[2] = 1000000000u;
        return;
    case 0x16:
        out[0] = 1000; /* base frequency, MHz */
        out[1] = 1000;
        out[2] = 100;
        return;
    case 0x1f:
    case 0xb: {
        /* extended topology: SMT level, then core level */
        unsigned smt_bits = 0, core_bits = 0;
        while ((1u << smt_bits) < threads) {
            smt_bits++;
        }
        while ((1u << core_bits) < cores) {
            core_bits++;
        }
        if (subleaf == 0) {
            out[0] = smt_bits;
            out[1] = threads;
            out[2] = (1u << 8) | subleaf;
        } else if (subleaf == 1) {
            out[0] = smt_bits + core_bits;
            out[1] = logical;
            out[2] = (2u << 8) | subleaf;
        } else {
            out[2] = subleaf;
        }
        out[3] = cpu->apic_id;
        return;
    }
    case 0x80000000:
        out[0] = 0x80000008;
        return;
    case 0x80000001:
        out[2] = FX1C_LAHF | FX1C_ABM;
        out[3] = FX1D_SYSCALL | FX1D_NX | FX1D_PDPE1GB | FX1D_RDTSCP | FX1D_LM;
        return;
    case 0x80000002:
        put_string(out, "coremu x86_64 CP");
        return;
    case 0x80000003:
        put_string(out, "U               ");
        return;
    case 0x80000004:
        put_string(out, "                ");
        out[3] &= 0x00ffffffu; /* NUL-terminated */
        return;
    case 0x80000008:
        out[0] = 40u | (48u << 8);
        return;
    default:
        /* leaves above the maximum report the highest basic leaf's values on Intel; leaves
         * inside the range that are not implemented read as zero */
        if (leaf > 0x1f && leaf < 0x80000000u) {
            x86_cpuid(cpu, 0x1f, subleaf, out);
        }
        return;
    }
}

void x86_cpu_reset(struct x86_cpu *cpu)
{
    memset(cpu->gpr, 0, sizeof(cpu->gpr));
    cpu->gpr[X86_RDX] = 0x000306a9; /* the processor signature, as after RESET */
    cpu->rflags = 2;
    x86_flags_set(cpu, 0);
    cpu->cr0 = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
    cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
    cpu->efer = 0;
    cpu->cpl = 0;
    for (unsigned i = 0; i < X86_NSEG; i++) {
        struct x86_segment *s = &cpu->seg[i];
        s->selector = 0;
        s->base = 0;
        s->limit = 0xffff;
        s->attr = X86_SEG_P | X86_SEG_S | 0x3;
    }
    cpu->seg[X86_CS].selector = 0xf000;
    cpu->seg[X86_CS].base = 0xffff0000;
    cpu->seg[X86_CS].attr = X86_SEG_P | X86_SEG_S | 0xb;
    cpu->seg[X86_LDTR].attr = X86_SEG_P | 0x2;
    cpu->seg[X86_TR].attr = X86_SEG_P | 0xb;
    cpu->gdtr.base = cpu->idtr.base = 0;
    cpu->gdtr.limit = cpu->idtr.limit = 0xffff;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xffff0ff0;
    cpu->dr[7] = 0x400;
    cpu->rip = 0xfff0;
    cpu->star = cpu->lstar = cpu->cstar = cpu->sfmask = cpu->kernel_gs_base = 0;
    cpu->tsc_aux = 0;
    cpu->pat = 0x0007040600070406ull;
    cpu->misc_enable = 1; /* fast strings */
    cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
    /* x87 and SSE after RESET (SDM Vol. 3A Table 9-1) */
    memset(cpu->st, 0, sizeof(cpu->st));
    cpu->fcw = 0x40;
    cpu->fsw = 0;
    cpu->ftw = 0xffff; /* all empty */
    cpu->fop = 0;
    cpu->fip = cpu->fdp = 0;
    cpu->fcs = cpu->fds = 0;
    memset(cpu->xmm, 0, sizeof(cpu->xmm));
    cpu->mxcsr = 0x1f80;
    cpu->xcr0 = 1;
    cpu->halted = false;
    cpu->intr_shadow = false;
    cpu->exc_depth = 0;
    cpu->cur_op = NULL;
    x86_tlb_flush_all(cpu);
}

int x86_cpu_init(struct x86_cpu *cpu, struct coremu_tb_engine *engine, struct coremu_cpu *rt,
                 struct coremu_as *as, struct coremu_as *io, unsigned index)
{
    cpu->rt = rt;
    cpu->as = as;
    cpu->io = io;
    cpu->atomic = &x86_atomic_table;
    cpu->apic_id = index;
    if (coremu_tb_cpu_init(&cpu->tb, engine, rt, cpu, index) != 0) {
        return -1;
    }
    x86_cpu_reset(cpu);
    return 0;
}

void x86_cpu_destroy(struct x86_cpu *cpu)
{
    coremu_tb_cpu_destroy(&cpu->tb);
}

/* ---- the FXSAVE image (SDM Vol. 1 10.5.1, 64-bit layout) ------------------------------------ */

void x86_fxsave_image(const struct x86_cpu *cpu, uint8_t img[512])
{
    memset(img, 0, 512);
    uint8_t abridged = 0;
    for (unsigned i = 0; i < 8; i++) {
        if (((cpu->ftw >> (2 * i)) & 3) != 3) {
            abridged |= (uint8_t)(1u << i);
        }
    }
    memcpy(img + 0, &cpu->fcw, 2);
    memcpy(img + 2, &cpu->fsw, 2);
    img[4] = abridged;
    memcpy(img + 6, &cpu->fop, 2);
    memcpy(img + 8, &cpu->fip, 8);
    memcpy(img + 16, &cpu->fdp, 8);
    memcpy(img + 24, &cpu->mxcsr, 4);
    uint32_t mxcsr_mask = X86_MXCSR_MASK;
    memcpy(img + 28, &mxcsr_mask, 4);
    unsigned top = (cpu->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        /* ST(i) in stack order */
        const struct x86_f80 *r = &cpu->st[(top + i) & 7];
        memcpy(img + 32 + 16 * i, &r->mant, 8);
        memcpy(img + 40 + 16 * i, &r->sign_exp, 2);
    }
    memcpy(img + 160, cpu->xmm, 256);
}

/* The tag of a register from its contents (for FXRSTOR, which keeps only empty / not empty). */
static unsigned tag_of(const struct x86_f80 *r)
{
    unsigned exp = r->sign_exp & 0x7fff;
    if (exp == 0x7fff) {
        return 2; /* special */
    }
    if (exp == 0) {
        return r->mant == 0 ? 1 : 2; /* zero, or denormal (special) */
    }
    return (r->mant >> 63) ? 0 : 2; /* valid, or unnormal (special) */
}

bool x86_fxrstor_image(struct x86_cpu *cpu, const uint8_t img[512])
{
    uint32_t mxcsr;
    memcpy(&mxcsr, img + 24, 4);
    if (mxcsr & ~(uint32_t)X86_MXCSR_MASK) {
        return false;
    }
    memcpy(&cpu->fcw, img + 0, 2);
    memcpy(&cpu->fsw, img + 2, 2);
    memcpy(&cpu->fop, img + 6, 2);
    memcpy(&cpu->fip, img + 8, 8);
    memcpy(&cpu->fdp, img + 16, 8);
    cpu->mxcsr = mxcsr;
    unsigned top = (cpu->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        struct x86_f80 *r = &cpu->st[(top + i) & 7];
        memcpy(&r->mant, img + 32 + 16 * i, 8);
        memcpy(&r->sign_exp, img + 40 + 16 * i, 2);
    }
    uint16_t ftw = 0;
    for (unsigned i = 0; i < 8; i++) {
        unsigned t = (img[4] >> i) & 1 ? tag_of(&cpu->st[i]) : 3;
        ftw |= (uint16_t)(t << (2 * i));
    }
    cpu->ftw = ftw;
    memcpy(cpu->xmm, img + 160, 256);
    return true;
}
