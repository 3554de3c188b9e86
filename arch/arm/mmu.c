/*
 * coremu ARM — VMSAv7 address translation, short-descriptor format (ARM ARM B3.5-B3.7), and
 * the software TLB's maintenance.
 *
 * What is modelled: TTBR0/TTBR1 split by TTBCR.N, sections, supersections, large and small
 * pages, DACR domains, AP[2:0] with and without SCTLR.AFE (access flag), XN, nG. Memory
 * attributes (TEX/C/B, TEX remap through PRRR/NMRR, S, NOS, NS) are accepted but do not change
 * behaviour: coremu's memory is coherent and its ordering is the guest's barriers. No LPAE, so
 * the level 1 descriptor type 0b11 (PXN form) is a translation fault, and supersection base
 * bits above 4 GB map nothing (the access aborts as external). Translation tables are read
 * through the address space, so a walk outside RAM is an external abort on the walk.
 *
 * Fault priority (B3.12.3): walk external abort and translation faults level by level, then
 * the domain check, then the access flag, then permissions (only in Client domains).
 */
#include "config.h"

#include <string.h>

#include <coremu/log.h>
#include <coremu/physmem.h>

#include "board.h"
#include "cpu.h"

static bool read_desc(struct arm_cpu *cpu, uint32_t addr, uint32_t *desc)
{
    uint64_t v;

    if (coremu_as_read(cpu->board->as, addr, 4, &v) != COREMU_MEM_OK) {
        return false;
    }
    *desc = (uint32_t)v;
    /* SCTLR.EE also sets the endianness of translation table walks. */
    if (cpu->cp15.sctlr & ARM_SCTLR_EE) {
        *desc = __builtin_bswap32(*desc);
    }
    return true;
}

/* AP[2:0] (with AP[0] forced to 1 in access-flag mode) -> permissions, privileged and user. */
static void ap_perms(unsigned ap, bool user, bool *r, bool *w)
{
    /* Bits 0-7: AP value; privileged R, privileged W, user R, user W. */
    static const uint8_t table[8] = {
        0x0, /* 000 no access */
        0x3, /* 001 PL1 RW */
        0x7, /* 010 PL1 RW, PL0 RO */
        0xf, /* 011 full access */
        0x0, /* 100 reserved */
        0x1, /* 101 PL1 RO */
        0x5, /* 110 PL1 RO, PL0 RO (deprecated encoding) */
        0x5, /* 111 PL1 RO, PL0 RO */
    };
    unsigned bits = table[ap & 7];
    if (user) {
        bits >>= 2;
    }
    *r = (bits & 1) != 0;
    *w = (bits & 2) != 0;
}

void arm_mmu_walk(struct arm_cpu *cpu, uint32_t vaddr, bool user, struct arm_walk *w)
{
    uint32_t sctlr = cpu->cp15.sctlr;

    memset(w, 0, sizeof(*w));
    if (!(sctlr & ARM_SCTLR_M)) {
        /* MMU off: flat, every access permitted (data Strongly-ordered, instructions
         * Normal); alignment is the caller's (memory.c faults unaligned data accesses). */
        w->pa = vaddr;
        w->page_size = 4096;
        w->prot = ARM_PROT_R | ARM_PROT_W | ARM_PROT_X;
        w->global = true;
        return;
    }

    unsigned n = cpu->cp15.ttbcr & 7;
    uint32_t l1addr;
    if (n != 0 && (vaddr >> (32 - n)) != 0) {
        l1addr = (cpu->cp15.ttbr1 & 0xffffc000u) | ((vaddr >> 18) & 0x3ffcu);
    } else {
        /* With N > 0 the top N bits of vaddr are zero here, so the index fits the smaller
         * table whose base is TTBR0[31:14-N]. */
        l1addr = (cpu->cp15.ttbr0 & ~((1u << (14 - n)) - 1)) | ((vaddr >> 18) & 0x3ffcu);
    }

    uint32_t d1;
    if (!read_desc(cpu, l1addr, &d1)) {
        w->fsr = arm_fsr(ARM_FS_WALK_L1, 0);
        return;
    }

    unsigned domain, ap, tex;
    bool xn, ng, shared, section, c, b, ns;
    uint32_t ext = 0; /* supersection PA[39:32] */

    switch (d1 & 3) {
    case 1: { /* page table */
        domain = (d1 >> 5) & 0xf;
        ns = (d1 >> 3) & 1;
        uint32_t l2addr = (d1 & 0xfffffc00u) | ((vaddr >> 10) & 0x3fcu);
        uint32_t d2;
        if (!read_desc(cpu, l2addr, &d2)) {
            w->fsr = arm_fsr(ARM_FS_WALK_L2, domain);
            return;
        }
        switch (d2 & 3) {
        case 0:
            w->fsr = arm_fsr(ARM_FS_TRANS_PAGE, domain);
            return;
        case 1: /* large page, 64 KB */
            w->pa = (d2 & 0xffff0000u) | (vaddr & 0xffffu);
            w->page_size = 0x10000;
            xn = (d2 >> 15) & 1;
            tex = (d2 >> 12) & 7;
            break;
        default: /* small page, 4 KB */
            w->pa = (d2 & 0xfffff000u) | (vaddr & 0xfffu);
            w->page_size = 0x1000;
            xn = d2 & 1;
            tex = (d2 >> 6) & 7;
            break;
        }
        ap = ((d2 >> 4) & 3) | ((d2 >> 7) & 4);
        ng = (d2 >> 11) & 1;
        shared = (d2 >> 10) & 1;
        c = (d2 >> 3) & 1;
        b = (d2 >> 2) & 1;
        section = false;
        break;
    }
    case 2: /* section or supersection */
        if (d1 & (1u << 18)) {
            /* Supersections are always in domain 0; their domain field holds PA[39:36]. */
            domain = 0;
            w->pa = (d1 & 0xff000000u) | (vaddr & 0x00ffffffu);
            w->page_size = 0x1000000;
            ext = ((d1 >> 20) & 0xf) | (((d1 >> 5) & 0xf) << 4);
        } else {
            domain = (d1 >> 5) & 0xf;
            w->pa = (d1 & 0xfff00000u) | (vaddr & 0x000fffffu);
            w->page_size = 0x100000;
        }
        xn = (d1 >> 4) & 1;
        ap = ((d1 >> 10) & 3) | ((d1 >> 13) & 4);
        tex = (d1 >> 12) & 7;
        ng = (d1 >> 17) & 1;
        shared = (d1 >> 16) & 1;
        ns = (d1 >> 19) & 1;
        c = (d1 >> 3) & 1;
        b = (d1 >> 2) & 1;
        section = true;
        break;
    default:
        /* 0b00 fault; 0b11 is the PXN section form, reserved without LPAE. */
        w->fsr = arm_fsr(ARM_FS_TRANS_SECTION, 0);
        return;
    }

    w->domain = (uint8_t)domain;
    w->global = !ng;
    w->perm_fsr = arm_fsr(section ? ARM_FS_PERM_SECTION : ARM_FS_PERM_PAGE, domain);
    /* PAR attributes: SS, SH, NS. The cacheability fields are reported as Non-cacheable
     * (coremu has no caches, and software only uses PAR for the address). */
    w->par_attr = ((w->page_size == 0x1000000) ? (1u << 1) : 0u) | (shared ? (1u << 7) : 0u) |
                  (ns ? (1u << 9) : 0u);
    (void)tex;
    (void)c;
    (void)b;

    unsigned dom = (cpu->cp15.dacr >> (2 * domain)) & 3;
    if (dom == 0 || dom == 2) {
        /* No access (0b10 is reserved; treated as no access). */
        w->fsr = arm_fsr(section ? ARM_FS_DOMAIN_SECTION : ARM_FS_DOMAIN_PAGE, domain);
        return;
    }
    if (sctlr & ARM_SCTLR_AFE) {
        /* Access-flag mode: AP[0] is the access flag, AP[2:1] the permissions. */
        if (!(ap & 1)) {
            w->fsr = arm_fsr(section ? ARM_FS_AF_SECTION : ARM_FS_AF_PAGE, domain);
            return;
        }
    }
    if (ext != 0) {
        /* Beyond the 32-bit physical address space: nothing answers there. */
        w->fsr = arm_fsr(ARM_FS_EXT, domain);
        return;
    }
    if (dom == 3) {
        /* Manager: no permission checks at all, XN included. */
        w->prot = ARM_PROT_R | ARM_PROT_W | ARM_PROT_X;
        return;
    }
    if (sctlr & ARM_SCTLR_AFE) {
        ap |= 1;
    }
    bool r, wr;
    ap_perms(ap, user, &r, &wr);
    /* An instruction fetch needs read permission as well as !XN. */
    w->prot = (uint8_t)((r ? ARM_PROT_R : 0) | (wr ? ARM_PROT_W : 0) |
                        ((r && !xn) ? ARM_PROT_X : 0));
}

uint32_t arm_mmu_translate(struct arm_cpu *cpu, uint32_t vaddr, enum arm_access access,
                           bool user, uint32_t *pa, uint32_t *page_size)
{
    struct arm_walk w;
    static const uint8_t need[] = {ARM_PROT_R, ARM_PROT_W, ARM_PROT_X};

    arm_mmu_walk(cpu, vaddr, user, &w);
    if (w.fsr) {
        return w.fsr;
    }
    if (!(w.prot & need[access])) {
        return w.perm_fsr;
    }
    if (pa) {
        *pa = w.pa;
    }
    if (page_size) {
        *page_size = w.page_size;
    }
    return 0;
}

/* ---- TLB maintenance ---------------------------------------------------------------------- */

static void entry_invalidate(struct coremu_tlb_entry *e)
{
    e->tag_read = COREMU_TLB_INVALID;
    e->tag_write = COREMU_TLB_INVALID;
    e->tag_exec = COREMU_TLB_INVALID;
    e->flags = 0;
    e->paddr = COREMU_TLB_INVALID;
    e->global = false;
}

void arm_tlb_flush_all(struct arm_cpu *cpu)
{
    /* All-ones tags never match a page address (whose low bits are zero). */
    for (unsigned m = 0; m < ARM_NMMU; m++) {
        for (unsigned i = 0; i < ARM_TLB_SIZE; i++) {
            entry_invalidate(&cpu->tlb[m][i]);
        }
    }
    cpu->tlb_large_lo = ~0u;
    cpu->tlb_large_hi = 0;
    cpu->tb.epoch++;
}

static bool entry_maps(const struct coremu_tlb_entry *e, uint32_t page)
{
    return e->tag_read == page || e->tag_write == page || e->tag_exec == page;
}

void arm_tlb_flush_page(struct arm_cpu *cpu, uint32_t vaddr)
{
    uint32_t page = vaddr & ARM_PAGE_MASK;

    /* Entries filled from a larger mapping are per 4 KB here; an invalidation by MVA of such
     * a mapping must drop all of them, which only a full flush does cheaply. */
    if (cpu->tlb_large_lo <= cpu->tlb_large_hi && page >= cpu->tlb_large_lo &&
        page <= cpu->tlb_large_hi) {
        arm_tlb_flush_all(cpu);
        return;
    }
    unsigned idx = (vaddr >> ARM_PAGE_BITS) & (ARM_TLB_SIZE - 1);
    for (unsigned m = 0; m < ARM_NMMU; m++) {
        if (entry_maps(&cpu->tlb[m][idx], page)) {
            entry_invalidate(&cpu->tlb[m][idx]);
        }
    }
    cpu->tb.epoch++;
}

void arm_tlb_flush_asid(struct arm_cpu *cpu, uint8_t asid)
{
    /* Every entry belongs to the current ASID or is global: cp15.c flushes the TLB when
     * CONTEXTIDR changes. So only the current ASID's non-global entries can be affected. */
    if (asid != (uint8_t)cpu->cp15.contextidr) {
        return;
    }
    for (unsigned m = 0; m < ARM_NMMU; m++) {
        for (unsigned i = 0; i < ARM_TLB_SIZE; i++) {
            struct coremu_tlb_entry *e = &cpu->tlb[m][i];
            if (!e->global) {
                entry_invalidate(e);
            }
        }
    }
    cpu->tb.epoch++;
}

void arm_tlb_flush_phys(struct arm_cpu *cpu, uint32_t pa, bool writes_only)
{
    uint32_t page = pa & ARM_PAGE_MASK;

    for (unsigned m = 0; m < ARM_NMMU; m++) {
        for (unsigned i = 0; i < ARM_TLB_SIZE; i++) {
            struct coremu_tlb_entry *e = &cpu->tlb[m][i];
            bool valid = e->tag_read != COREMU_TLB_INVALID || e->tag_write != COREMU_TLB_INVALID || e->tag_exec != COREMU_TLB_INVALID;
            if (!valid || e->paddr != page) {
                continue;
            }
            if (writes_only) {
                e->tag_write = COREMU_TLB_INVALID;
            } else {
                entry_invalidate(e);
            }
        }
    }
    if (!writes_only) {
        cpu->tb.epoch++;
    }
}
