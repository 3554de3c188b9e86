/*
 * coremu x86_64 — segmentation to linear addresses, paging to physical ones, the core's TLBs
 * and the slow paths of loads and stores.
 *
 * Paging (Intel SDM Vol. 3A ch. 4): off (CR0.PG = 0), 32-bit (with 4 MiB pages under CR4.PSE),
 * PAE, and 4-level (IA-32e); 2 MiB, 4 MiB and 1 GiB pages; NX under EFER.NXE; CR0.WP for
 * supervisor writes; global pages under CR4.PGE. Accessed and dirty bits are set with a
 * compare-and-swap on the entry, because another core may walk, or the guest write, the same
 * entry at the same time: a bit is set only in the entry the walk read, and a changed entry
 * makes the walk start again.
 *
 * TLBs. Two direct-mapped tables, one for supervisor and one for user accesses (so a privilege
 * change needs no flush), each entry a 4 KiB page with its read / write / execute tags (see
 * include/coremu/softmmu.h). A write tag is only given once the page's dirty bit is set, so the
 * first store walks and sets it. Pages of a large page are entered one by one; INVLPG then
 * cannot know which entries came from the large page, so when any did it flushes everything.
 */
#include "config.h"

#include <string.h>

#include <coremu/physmem.h>
#include <coremu/tb.h>

#include "cpu.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
/* Physical address bits the guest has (CPUID 0x80000008 says the same). */
#define X86_PHYS_BITS 40
#define PHYS_MASK ((1ull << X86_PHYS_BITS) - 1)
#define ADDR_MASK (PHYS_MASK & ~0xfffull)

struct walk_result {
    uint64_t pa;        /* physical address of the byte */
    uint64_t page_size; /* bytes */
    bool write, user, exec, dirty, global;
};

/* ---- physical memory ------------------------------------------------------------------------ */

uint64_t x86_phys_load(struct x86_cpu *cpu, uint64_t pa, unsigned size)
{
    const uint8_t *host = coremu_as_ram_ptr(cpu->as, pa, size, false);
    if (host) {
        return x86_mem_load(host, size);
    }
    uint64_t v = 0;
    if (coremu_as_read(cpu->as, pa, size, &v) != 0) {
        v = x86_size_mask(size); /* unassigned reads as all ones, as on a PC */
    }
    return v;
}

void x86_phys_store(struct x86_cpu *cpu, uint64_t pa, unsigned size, uint64_t value)
{
    uint8_t *host = coremu_as_ram_ptr(cpu->as, pa, size, true);
    if (host) {
        x86_mem_store(host, size, value);
        if (coremu_tb_page_has_code(cpu->tb.engine, pa)) {
            coremu_tb_code_written(&cpu->tb, pa);
            cpu->code_written = true;
        }
        return;
    }
    (void)coremu_as_write(cpu->as, pa, size, value);
}

/* Sets bits in a paging-structure entry that held old: false when the entry changed meanwhile
 * (the walk restarts). */
static bool pte_set_bits(struct x86_cpu *cpu, uint64_t pa, unsigned size, uint64_t old,
                         uint64_t bits)
{
    if ((old & bits) == bits) {
        return true;
    }
    uint8_t *host = coremu_as_ram_ptr(cpu->as, pa, size, true);
    if (!host || (pa & (size - 1)) != 0) {
        x86_phys_store(cpu, pa, size, old | bits);
        return true;
    }
    bool ok;
    if (size == 8) {
        uint64_t expected = old;
        ok = __atomic_compare_exchange_n((uint64_t *)host, &expected, old | bits, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    } else {
        uint32_t expected = (uint32_t)old;
        ok = __atomic_compare_exchange_n((uint32_t *)host, &expected, (uint32_t)(old | bits),
                                         false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    if (ok && coremu_tb_page_has_code(cpu->tb.engine, pa)) {
        coremu_tb_code_written(&cpu->tb, pa);
        cpu->code_written = true;
    }
    return ok;
}

/* ---- the walk ------------------------------------------------------------------------------- */

_Noreturn static void page_fault(struct x86_cpu *cpu, uint64_t lin, uint32_t err)
{
    cpu->cr2 = lin;
    x86_raise(cpu, X86_EXC_PF, err);
}

/*
 * Walks the paging structures for lin and checks the access (kind: read, write or exec; user:
 * the access is a user-mode one). Sets accessed bits, and the dirty bit for a write. On a
 * violation raises #PF with the SDM's error code (4.7).
 */
static void walk(struct x86_cpu *cpu, uint64_t lin, unsigned kind, bool user,
                 struct walk_result *res)
{
    bool nxe = (cpu->efer & X86_EFER_NXE) != 0;
    uint32_t err_base = (kind == X86_ACC_WRITE ? X86_PF_W : 0) | (user ? X86_PF_U : 0) |
                        (kind == X86_ACC_EXEC && (nxe || (cpu->cr4 & X86_CR4_SMEP)) ? X86_PF_I
                                                                                     : 0);
restart:;
    uint64_t entries[5], addrs[5];
    unsigned sizes[5], n = 0, levels, shift;
    uint64_t table;
    bool rw = true, us = true, nx = false;
    uint64_t rsvd_hi = nxe ? (~PHYS_MASK & ~PTE_NX) : ~PHYS_MASK;

    if (cpu->efer & X86_EFER_LMA) {
        levels = 4;
        shift = 39;
        table = cpu->cr3 & ADDR_MASK;
    } else if (cpu->cr4 & X86_CR4_PAE) {
        /* PAE: the four PDPTEs (loaded from CR3's 32-byte-aligned table; walked here directly,
         * which only differs from hardware when the guest changes them without reloading CR3) */
        uint64_t pdpte_pa = (cpu->cr3 & 0xffffffe0u) + ((lin >> 30) & 3) * 8;
        uint64_t pdpte = x86_phys_load(cpu, pdpte_pa, 8);
        if (!(pdpte & PTE_P)) {
            page_fault(cpu, lin, err_base);
        }
        if (pdpte & (rsvd_hi | 0x1e6ull | (nxe ? PTE_NX : 0))) {
            page_fault(cpu, lin, err_base | X86_PF_P | X86_PF_RSVD);
        }
        levels = 2;
        shift = 21;
        table = pdpte & ADDR_MASK;
    } else {
        /* 32-bit paging: 4-byte entries, 10 bits per level */
        uint64_t pde_pa = (cpu->cr3 & 0xfffff000u) + ((lin >> 22) & 0x3ff) * 4;
        uint64_t pde = x86_phys_load(cpu, pde_pa, 4);
        if (!(pde & PTE_P)) {
            page_fault(cpu, lin, err_base);
        }
        rw = pde & PTE_RW;
        us = pde & PTE_US;
        entries[n] = pde;
        addrs[n] = pde_pa;
        sizes[n++] = 4;
        if ((pde & PTE_PS) && (cpu->cr4 & X86_CR4_PSE)) {
            res->pa = ((pde & 0xffc00000u) | ((pde & 0x1fe000ull) << 19)) + (lin & 0x3fffff);
            res->page_size = 4u << 20;
        } else {
            uint64_t pte_pa = (pde & 0xfffff000u) + ((lin >> 12) & 0x3ff) * 4;
            uint64_t pte = x86_phys_load(cpu, pte_pa, 4);
            if (!(pte & PTE_P)) {
                page_fault(cpu, lin, err_base);
            }
            rw = rw && (pte & PTE_RW);
            us = us && (pte & PTE_US);
            entries[n] = pte;
            addrs[n] = pte_pa;
            sizes[n++] = 4;
            res->pa = (pte & 0xfffff000u) + (lin & 0xfff);
            res->page_size = 4096;
        }
        goto check;
    }

    for (unsigned level = levels; level >= 1; level--, shift -= 9) {
        uint64_t pa = table + ((lin >> shift) & 0x1ff) * 8;
        uint64_t e = x86_phys_load(cpu, pa, 8);
        if (!(e & PTE_P)) {
            page_fault(cpu, lin, err_base);
        }
        uint64_t rsvd = rsvd_hi;
        bool leaf = level == 1 || (e & PTE_PS);
        if (level == 4 && (e & PTE_PS)) {
            rsvd |= PTE_PS; /* no 512 GiB pages */
        }
        if (leaf && level > 1) {
            /* large page: the address bits below its size (but PAT at bit 12) are reserved */
            rsvd |= ((1ull << shift) - 1) & ~0x1fffull;
        }
        if (e & rsvd) {
            page_fault(cpu, lin, err_base | X86_PF_P | X86_PF_RSVD);
        }
        rw = rw && (e & PTE_RW);
        us = us && (e & PTE_US);
        nx = nx || (nxe && (e & PTE_NX));
        entries[n] = e;
        addrs[n] = pa;
        sizes[n++] = 8;
        if (leaf) {
            uint64_t size = 1ull << shift;
            res->pa = (e & ADDR_MASK & ~(size - 1)) + (lin & (size - 1));
            res->page_size = size;
            break;
        }
        table = e & ADDR_MASK;
    }

check:;
    uint64_t leaf = entries[n - 1];
    bool wp = (cpu->cr0 & X86_CR0_WP) != 0;
    /* What this privilege may do with the page (SDM 4.6) */
    bool may_read = user ? us : true;
    bool may_write = user ? (us && rw) : (rw || !wp);
    bool may_exec = !nx && (user ? us : !(us && (cpu->cr4 & X86_CR4_SMEP)));
    if (!user && us && (cpu->cr4 & X86_CR4_SMAP) && kind != X86_ACC_EXEC &&
        !(cpu->rflags & X86_AC)) {
        may_read = may_write = false;
    }
    bool ok = kind == X86_ACC_WRITE ? may_write : kind == X86_ACC_EXEC ? may_exec : may_read;
    if (!ok) {
        page_fault(cpu, lin, err_base | X86_PF_P);
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t bits = PTE_A | ((i == n - 1 && kind == X86_ACC_WRITE) ? PTE_D : 0);
        if (!pte_set_bits(cpu, addrs[i], sizes[i], entries[i], bits)) {
            goto restart;
        }
    }
    res->write = may_write;
    res->user = us;
    res->exec = may_exec;
    res->dirty = (leaf & PTE_D) || kind == X86_ACC_WRITE;
    res->global = (leaf & PTE_G) && (cpu->cr4 & X86_CR4_PGE);
    (void)may_read;
}

/* ---- the TLB -------------------------------------------------------------------------------- */

void x86_tlb_flush_all(struct x86_cpu *cpu)
{
    for (unsigned m = 0; m < X86_NTLB; m++) {
        for (unsigned i = 0; i < X86_TLB_SIZE; i++) {
            struct coremu_tlb_entry *e = &cpu->tlb[m][i];
            e->tag_read = e->tag_write = e->tag_exec = COREMU_TLB_INVALID;
            e->paddr = COREMU_TLB_INVALID;
            e->global = false;
        }
    }
    cpu->tb.epoch++;
}

void x86_tlb_flush_nonglobal(struct x86_cpu *cpu)
{
    for (unsigned m = 0; m < X86_NTLB; m++) {
        for (unsigned i = 0; i < X86_TLB_SIZE; i++) {
            struct coremu_tlb_entry *e = &cpu->tlb[m][i];
            if (!e->global) {
                e->tag_read = e->tag_write = e->tag_exec = COREMU_TLB_INVALID;
                e->paddr = COREMU_TLB_INVALID;
            }
        }
    }
    cpu->tb.epoch++;
}

void x86_tlb_flush_page(struct x86_cpu *cpu, uint64_t lin)
{
    if (cpu->tlb_large_pages) {
        x86_tlb_flush_all(cpu);
        cpu->tlb_large_pages = false;
        return;
    }
    for (unsigned m = 0; m < X86_NTLB; m++) {
        struct coremu_tlb_entry *e = &cpu->tlb[m][x86_tlb_index(lin)];
        if (e->paddr != COREMU_TLB_INVALID) {
            e->tag_read = e->tag_write = e->tag_exec = COREMU_TLB_INVALID;
            e->paddr = COREMU_TLB_INVALID;
        }
    }
    cpu->tb.epoch++;
}

void x86_paging_changed(struct x86_cpu *cpu)
{
    x86_tlb_flush_all(cpu);
}

/* Translates lin for an access of kind, filling the TLB of the access's privilege. */
static struct coremu_tlb_entry *tlb_fill(struct x86_cpu *cpu, uint64_t lin, unsigned access,
                                         uint64_t *pa_out)
{
    unsigned kind = access & X86_ACC_KIND;
    bool user = x86_tlb_which(cpu, access) == X86_TLB_USER;
    struct walk_result w = {0};
    uint64_t page = lin & ~0xfffull;

    if (cpu->cr0 & X86_CR0_PG) {
        walk(cpu, lin, kind, user, &w);
    } else {
        w.pa = lin & 0xffffffffull;
        w.page_size = 4096;
        w.write = w.user = w.exec = w.dirty = true;
        w.global = false;
    }
    if (w.page_size > 4096) {
        cpu->tlb_large_pages = true;
    }
    uint64_t pa_page = w.pa & ~0xfffull;
    *pa_out = w.pa;

    struct coremu_tlb_entry *e = &cpu->tlb[user ? X86_TLB_USER : X86_TLB_SUPER][x86_tlb_index(lin)];
    e->tag_read = e->tag_write = e->tag_exec = COREMU_TLB_INVALID;
    e->paddr = pa_page;
    e->global = w.global;
    e->flags = 0;
    uint8_t *host = coremu_as_ram_ptr(cpu->as, pa_page, 4096, false);
    if (!host) {
        e->flags = COREMU_TLB_MMIO;
        e->addend = 0;
        return e;
    }
    e->addend = (uintptr_t)host - (uintptr_t)page;
    e->tag_read = page;
    if (w.exec) {
        e->tag_exec = page;
    }
    if (w.write && w.dirty) {
        if (coremu_tb_page_has_code(cpu->tb.engine, pa_page)) {
            e->flags |= COREMU_TLB_CODE;
        } else {
            e->tag_write = page;
        }
    }
    return e;
}

uint64_t x86_translate(struct x86_cpu *cpu, uint64_t lin, unsigned access)
{
    uint64_t pa;
    (void)tlb_fill(cpu, lin, access, &pa);
    return pa;
}

const uint8_t *x86_translate_exec(struct x86_cpu *cpu, uint64_t lin, uint64_t *paddr)
{
    uint64_t pa;
    struct coremu_tlb_entry *e = tlb_fill(cpu, lin, X86_ACC_EXEC, &pa);
    *paddr = pa;
    if (e->flags & COREMU_TLB_MMIO) {
        return NULL;
    }
    return (const uint8_t *)(uintptr_t)(lin + e->addend);
}

/* One access within a page, after the fast path missed. */
static uint64_t load_page(struct x86_cpu *cpu, uint64_t lin, unsigned size, unsigned access)
{
    const struct coremu_tlb_entry *e = &cpu->tlb[x86_tlb_which(cpu, access)][x86_tlb_index(lin)];
    uint64_t pa;

    if (e->tag_read != (lin & ~0xfffull)) {
        e = tlb_fill(cpu, lin, (access & ~X86_ACC_KIND) | X86_ACC_READ, &pa);
    }
    if (e->flags & COREMU_TLB_MMIO) {
        return x86_phys_load(cpu, e->paddr | (lin & 0xfff), size);
    }
    return x86_mem_load((const void *)(uintptr_t)(lin + e->addend), size);
}

static void store_page(struct x86_cpu *cpu, uint64_t lin, unsigned size, uint64_t value,
                       unsigned access)
{
    const struct coremu_tlb_entry *e = &cpu->tlb[x86_tlb_which(cpu, access)][x86_tlb_index(lin)];
    uint64_t pa;

    if (e->tag_write != (lin & ~0xfffull)) {
        e = tlb_fill(cpu, lin, (access & ~X86_ACC_KIND) | X86_ACC_WRITE, &pa);
        if (e->tag_write != (lin & ~0xfffull)) {
            /* MMIO or a page with code: through the physical address space */
            x86_phys_store(cpu, e->paddr | (lin & 0xfff), size, value);
            return;
        }
    }
    x86_mem_store((void *)(uintptr_t)(lin + e->addend), size, value);
}

uint64_t x86_load_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size, unsigned access)
{
    unsigned off = (unsigned)(lin & 0xfff);
    if (off + size <= 4096) {
        return load_page(cpu, lin, size, access);
    }
    /* Crossing a page: byte by byte (each byte single-copy atomic, all x86 promises for a
     * split access), the first page's fault first. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= load_page(cpu, lin + i, 1, access) << (8 * i);
    }
    return v;
}

void x86_probe_write_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size, unsigned access)
{
    unsigned w = x86_tlb_which(cpu, access);
    uint64_t pa;
    uint64_t last = lin + size - 1;

    for (uint64_t page = lin & ~0xfffull;; page += 4096) {
        const struct coremu_tlb_entry *e = &cpu->tlb[w][x86_tlb_index(page)];
        if (e->tag_write != page) {
            /* a fill for writing checks the rights and sets the dirty bit */
            (void)tlb_fill(cpu, page | (page == (lin & ~0xfffull) ? (lin & 0xfff) : 0),
                           (access & ~X86_ACC_KIND) | X86_ACC_WRITE, &pa);
        }
        if (page == (last & ~0xfffull)) {
            break;
        }
    }
}

void x86_store_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size, uint64_t value,
                   unsigned access)
{
    unsigned off = (unsigned)(lin & 0xfff);
    if (off + size <= 4096) {
        store_page(cpu, lin, size, value, access);
        return;
    }
    /* Crossing a page: no byte is written unless both pages may be written. */
    x86_probe_write_lin(cpu, lin, size, access);
    for (unsigned i = 0; i < size; i++) {
        store_page(cpu, lin + i, 1, value >> (8 * i), access);
    }
}

void *x86_host_ptr(struct x86_cpu *cpu, uint64_t lin, unsigned size, unsigned access)
{
    if ((lin & 0xfff) + size > 4096) {
        return NULL;
    }
    unsigned w = x86_tlb_which(cpu, access);
    const struct coremu_tlb_entry *e = &cpu->tlb[w][x86_tlb_index(lin)];
    uint64_t page = lin & ~0xfffull, pa;
    bool write = (access & X86_ACC_KIND) == X86_ACC_WRITE;

    if ((write ? e->tag_write : e->tag_read) != page) {
        e = tlb_fill(cpu, lin, access, &pa);
        if ((write ? e->tag_write : e->tag_read) != page) {
            return NULL;
        }
    }
    return (void *)(uintptr_t)(lin + e->addend);
}

/* ---- segmentation --------------------------------------------------------------------------- */

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

_Noreturn static void segment_fault(struct x86_cpu *cpu, unsigned seg)
{
    x86_raise(cpu, seg == X86_SS ? X86_EXC_SS : X86_EXC_GP, 0);
}

uint64_t x86_linear(struct x86_cpu *cpu, unsigned seg, uint64_t offset, unsigned size,
                    unsigned access)
{
    const struct x86_segment *s = &cpu->seg[seg];

    if ((cpu->efer & X86_EFER_LMA) && (cpu->seg[X86_CS].attr & X86_SEG_L)) {
        uint64_t lin = offset;
        if (seg == X86_FS || seg == X86_GS) {
            lin += s->base;
        }
        if (!canonical(lin) || !canonical(lin + size - 1)) {
            segment_fault(cpu, seg);
        }
        return lin;
    }
    if (cpu->cr0 & X86_CR0_PE && !(cpu->rflags & X86_VM)) {
        unsigned kind = access & X86_ACC_KIND;
        unsigned type = X86_SEG_TYPE(s->attr);
        if (!(s->attr & X86_SEG_P) || !(s->attr & X86_SEG_S)) {
            segment_fault(cpu, seg); /* null or unusable */
        }
        if (type & 8) { /* code */
            if (kind == X86_ACC_WRITE || (kind == X86_ACC_READ && !(type & 2))) {
                segment_fault(cpu, seg);
            }
        } else if (kind == X86_ACC_WRITE && !(type & 2)) {
            segment_fault(cpu, seg);
        }
        uint64_t last = offset + size - 1;
        if (!(type & 8) && (type & 4)) { /* expand-down */
            uint64_t top = (s->attr & X86_SEG_DB) ? 0xffffffffull : 0xffffull;
            if (offset <= s->limit || last > top) {
                segment_fault(cpu, seg);
            }
        } else if (last > s->limit) {
            segment_fault(cpu, seg);
        }
        return (s->base + offset) & 0xffffffffull;
    }
    /* Real and virtual-8086 mode: the limit still applies (big real mode raises it). */
    if (offset + size - 1 > s->limit) {
        segment_fault(cpu, seg);
    }
    return (s->base + offset) & 0xffffffffull;
}
