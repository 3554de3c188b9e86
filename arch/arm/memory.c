/*
 * coremu ARM — guest loads, stores and instruction fetches through the per-core software TLB.
 *
 * Fast path: the entry at the page's index has the page as its tag for the access and no flag
 * that forces the slow path; the host address is vaddr + addend, and naturally aligned
 * accesses are single host accesses (__atomic relaxed), so no guest ever sees a torn value.
 * Slow path: walk (mmu.c), fill the entry, then RAM directly, MMIO through the address space,
 * stores to pages watched by the exclusive monitor through coremu_xmon_store, and stores to
 * pages holding translated code followed by the invalidation of that code.
 *
 * Alignment (ARM ARM A3.2.1): with SCTLR.A = 1 every unaligned access faults; otherwise
 * LDR/STR/LDRH/STRH (and their T forms) may be unaligned in Normal memory, split into bytes
 * when they cross a page. Accesses that always need alignment (LDREX, LDM...) pass aligned =
 * true. Unaligned accesses to Device or Strongly-ordered memory fault: here that means MMIO,
 * and everything while the MMU is off (data accesses are then Strongly-ordered).
 *
 * CPSR.E = 1 makes data accesses big-endian (byte-reversed within the access size); the
 * instruction stream is always little-endian in ARMv7.
 */
#include "config.h"

#include <stdatomic.h>

#include <coremu/atomic.h>
#include <coremu/log.h>
#include <coremu/physmem.h>

#include "board.h"
#include "cpu.h"

static inline unsigned tlb_index(uint32_t vaddr)
{
    return (vaddr >> ARM_PAGE_BITS) & (ARM_TLB_SIZE - 1);
}

static inline unsigned mmu_index(const struct arm_cpu *cpu, bool user)
{
    return (user || !arm_cpu_privileged(cpu)) ? ARM_MMU_USER : ARM_MMU_PRIV;
}

static inline bool big_endian(const struct arm_cpu *cpu)
{
    return (cpu->cpsr_rest & ARM_CPSR_E) != 0;
}

static inline uint32_t swap_size(uint32_t v, unsigned size)
{
    switch (size) {
    case 2:
        return __builtin_bswap16((uint16_t)v);
    case 4:
        return __builtin_bswap32(v);
    default:
        return v;
    }
}

/* Little-endian value of size bytes at host p (inside one page). */
static inline uint32_t host_load(const void *p, unsigned size)
{
    return (uint32_t)coremu_mem_load_any(p, size);
}

static inline void host_store(void *p, unsigned size, uint32_t v)
{
    coremu_mem_store_any(p, size, v);
}

_Noreturn void arm_alignment_fault(struct arm_cpu *cpu, uint32_t vaddr, bool write)
{
    arm_data_abort(cpu, vaddr, arm_fsr(ARM_FS_ALIGN, 0), write);
}

static _Noreturn void raise_fault(struct arm_cpu *cpu, uint32_t vaddr, enum arm_access access,
                                  uint32_t fsr)
{
    if (access == ARM_ACCESS_EXEC) {
        arm_prefetch_abort(cpu, vaddr, fsr);
    }
    arm_data_abort(cpu, vaddr, fsr, access == ARM_ACCESS_WRITE);
}

/* Walks vaddr and fills its entry in TLB m; raises the fault of the access if any. */
static struct coremu_tlb_entry *tlb_fill(struct arm_cpu *cpu, uint32_t vaddr,
                                      enum arm_access access, unsigned m)
{
    static const uint8_t need[] = {ARM_PROT_R, ARM_PROT_W, ARM_PROT_X};
    struct arm_board *board = cpu->board;
    struct arm_walk w;

    arm_mmu_walk(cpu, vaddr, m == ARM_MMU_USER, &w);
    if (w.fsr) {
        raise_fault(cpu, vaddr, access, w.fsr);
    }
    if (!(w.prot & need[access])) {
        raise_fault(cpu, vaddr, access, w.perm_fsr);
    }

    uint32_t page = vaddr & ARM_PAGE_MASK;
    uint32_t pa_page = w.pa & ARM_PAGE_MASK;
    struct coremu_tlb_entry *e = &cpu->tlb[m][tlb_index(vaddr)];
    uint8_t *host = coremu_as_ram_ptr(board->as, pa_page, 1u << ARM_PAGE_BITS, false);

    e->paddr = pa_page;
    e->asid = (uint8_t)cpu->cp15.contextidr;
    e->global = w.global;
    e->tag_read = (w.prot & ARM_PROT_R) ? page : COREMU_TLB_INVALID;
    e->tag_exec = (w.prot & ARM_PROT_X) ? page : COREMU_TLB_INVALID;
    e->tag_write = COREMU_TLB_INVALID;
    if (host) {
        e->flags = 0;
        e->addend = (uintptr_t)host - (uintptr_t)page;
        /* ROM is readable in place; its writes take the slow path and fault there. */
        if ((w.prot & ARM_PROT_W) &&
            coremu_as_ram_ptr(board->as, pa_page, 1u << ARM_PAGE_BITS, true)) {
            e->tag_write = page;
            if (board->xmon && coremu_xmon_page_watched(board->xmon, pa_page)) {
                e->flags |= COREMU_TLB_WATCH;
            }
            if (arm_page_has_code(cpu, pa_page)) {
                e->flags |= COREMU_TLB_CODE;
            }
        }
    } else {
        e->flags = COREMU_TLB_MMIO;
        e->addend = 0;
        if (w.prot & ARM_PROT_W) {
            e->tag_write = page;
        }
    }
    if (w.page_size > (1u << ARM_PAGE_BITS)) {
        uint32_t lo = vaddr & ~(w.page_size - 1);
        uint32_t hi = lo + (w.page_size - 1);
        if (lo < cpu->tlb_large_lo) {
            cpu->tlb_large_lo = lo;
        }
        if (hi > cpu->tlb_large_hi) {
            cpu->tlb_large_hi = hi;
        }
    }
    return e;
}

/* The entry for vaddr in TLB m with the access allowed, filling it if needed. */
static inline struct coremu_tlb_entry *tlb_get(struct arm_cpu *cpu, uint32_t vaddr,
                                            enum arm_access access, unsigned m)
{
    struct coremu_tlb_entry *e = &cpu->tlb[m][tlb_index(vaddr)];
    uint32_t page = vaddr & ARM_PAGE_MASK;
    uint64_t tag = access == ARM_ACCESS_READ    ? e->tag_read
                   : access == ARM_ACCESS_WRITE ? e->tag_write
                                                : e->tag_exec;

    if (tag == page) {
        return e;
    }
    /* After the fill a permitted write may still find tag_write unset: ROM, which the
     * callers send through the address space. */
    return tlb_fill(cpu, vaddr, access, m);
}

void *arm_mem_translate(struct arm_cpu *cpu, uint32_t vaddr, enum arm_access access, bool user,
                        uint32_t *pa, uint32_t *tlb_flags)
{
    unsigned m = mmu_index(cpu, user);
    struct coremu_tlb_entry *e = tlb_get(cpu, vaddr, access, m);
    uint32_t page = vaddr & ARM_PAGE_MASK;

    *pa = e->paddr | (vaddr & ~ARM_PAGE_MASK);
    if (tlb_flags) {
        *tlb_flags = e->flags;
    }
    if ((e->flags & COREMU_TLB_MMIO) || (access == ARM_ACCESS_WRITE && e->tag_write != page)) {
        return NULL;
    }
    return (void *)(uintptr_t)(vaddr + e->addend);
}

/* Unaligned accesses must be aligned: always for Device/Strongly-ordered memory. */
static inline bool strict_alignment(const struct arm_cpu *cpu, bool aligned)
{
    return aligned || (cpu->cp15.sctlr & (ARM_SCTLR_A | ARM_SCTLR_M)) != ARM_SCTLR_M;
}

static _Noreturn void external_abort(struct arm_cpu *cpu, uint32_t vaddr, uint32_t pa, bool write,
                                     int err)
{
    COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "cpu%u: %s of %08x (pa %08x) failed (%d)\n",
               cpu->rt ? cpu->rt->index : 0u, write ? "write" : "read", vaddr, pa, err);
    arm_data_abort(cpu, vaddr, arm_fsr(ARM_FS_EXT, 0), write);
}

static uint32_t load_slow(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, unsigned m)
{
    struct coremu_tlb_entry *e = tlb_get(cpu, vaddr, ARM_ACCESS_READ, m);

    if (e->flags & COREMU_TLB_MMIO) {
        uint32_t pa = e->paddr | (vaddr & ~ARM_PAGE_MASK);
        uint64_t v;
        if (vaddr & (size - 1)) {
            arm_alignment_fault(cpu, vaddr, false);
        }
        int r = coremu_as_read(cpu->board->as, pa, size, &v);
        if (r != COREMU_MEM_OK) {
            external_abort(cpu, vaddr, pa, false, r);
        }
        return (uint32_t)v;
    }
    return host_load((const void *)(uintptr_t)(vaddr + e->addend), size);
}

static void store_slow(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t v,
                       unsigned m)
{
    struct coremu_tlb_entry *e = tlb_get(cpu, vaddr, ARM_ACCESS_WRITE, m);
    uint32_t pa = e->paddr | (vaddr & ~ARM_PAGE_MASK);

    if ((e->flags & COREMU_TLB_MMIO) || e->tag_write != (vaddr & ARM_PAGE_MASK)) {
        if ((e->flags & COREMU_TLB_MMIO) && (vaddr & (size - 1))) {
            arm_alignment_fault(cpu, vaddr, true);
        }
        int r = coremu_as_write(cpu->board->as, pa, size, v);
        if (r != COREMU_MEM_OK) {
            external_abort(cpu, vaddr, pa, true, r);
        }
        return;
    }
    void *host = (void *)(uintptr_t)(vaddr + e->addend);
    uint32_t flags = e->flags;
    if (flags & COREMU_TLB_WATCH) {
        /* The engine stores the value in host byte order. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        coremu_xmon_store(cpu->board->xmon, host, pa, size, v);
#else
        coremu_xmon_store(cpu->board->xmon, host, pa, size, swap_size(v, size));
#endif
    } else {
        host_store(host, size, v);
    }
    if (flags & COREMU_TLB_CODE) {
        arm_code_written(cpu, pa);
    }
}

/* An access that crosses a page: byte by byte, after checking both pages (a store must not be
 * half done when the second page faults). Values are little-endian here. */
static uint32_t load_cross(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, bool user)
{
    uint32_t v = 0;
    unsigned m = mmu_index(cpu, user);

    for (unsigned i = 0; i < size; i++) {
        uint32_t a = vaddr + i;
        struct coremu_tlb_entry *e = &cpu->tlb[m][tlb_index(a)];
        uint32_t b;
        if (e->tag_read == (a & ARM_PAGE_MASK) && !(e->flags & COREMU_TLB_MMIO)) {
            b = host_load((const void *)(uintptr_t)(a + e->addend), 1);
        } else {
            b = load_slow(cpu, a, 1, m);
        }
        v |= b << (8 * i);
    }
    return v;
}

static void store_cross(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t v, bool user)
{
    unsigned m = mmu_index(cpu, user);

    tlb_get(cpu, vaddr, ARM_ACCESS_WRITE, m);
    tlb_get(cpu, (vaddr + size - 1) & ARM_PAGE_MASK, ARM_ACCESS_WRITE, m);
    for (unsigned i = 0; i < size; i++) {
        store_slow(cpu, vaddr + i, 1, (v >> (8 * i)) & 0xff, m);
    }
}

uint32_t arm_load(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, bool user, bool aligned)
{
    uint32_t v;

    if (__builtin_expect((vaddr & (size - 1)) != 0, 0)) {
        if (strict_alignment(cpu, aligned)) {
            arm_alignment_fault(cpu, vaddr, false);
        }
        if ((vaddr & ~ARM_PAGE_MASK) + size > (1u << ARM_PAGE_BITS)) {
            v = load_cross(cpu, vaddr, size, user);
            return big_endian(cpu) ? swap_size(v, size) : v;
        }
    }
    unsigned m = mmu_index(cpu, user);
    struct coremu_tlb_entry *e = &cpu->tlb[m][tlb_index(vaddr)];
    if (__builtin_expect(e->tag_read == (vaddr & ARM_PAGE_MASK) && !(e->flags & COREMU_TLB_MMIO),
                         1)) {
        v = host_load((const void *)(uintptr_t)(vaddr + e->addend), size);
    } else {
        v = load_slow(cpu, vaddr, size, m);
    }
    return __builtin_expect(big_endian(cpu), 0) ? swap_size(v, size) : v;
}

void arm_store(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value, bool user,
               bool aligned)
{
    if (size < 4) {
        value &= (1u << (8 * size)) - 1;
    }
    if (__builtin_expect(big_endian(cpu), 0)) {
        value = swap_size(value, size);
    }
    if (__builtin_expect((vaddr & (size - 1)) != 0, 0)) {
        if (strict_alignment(cpu, aligned)) {
            arm_alignment_fault(cpu, vaddr, true);
        }
        if ((vaddr & ~ARM_PAGE_MASK) + size > (1u << ARM_PAGE_BITS)) {
            store_cross(cpu, vaddr, size, value, user);
            return;
        }
    }
    unsigned m = mmu_index(cpu, user);
    struct coremu_tlb_entry *e = &cpu->tlb[m][tlb_index(vaddr)];
    if (__builtin_expect(e->tag_write == (vaddr & ARM_PAGE_MASK) &&
                             !(e->flags & (COREMU_TLB_STORE_SLOW)),
                         1)) {
        host_store((void *)(uintptr_t)(vaddr + e->addend), size, value);
        return;
    }
    store_slow(cpu, vaddr, size, value, m);
}

/* LDRD/STRD/VLDR/VSTR/LDM pairs: two word accesses (each single-copy atomic), word alignment
 * required when aligned or SCTLR.A. The result holds the word at vaddr in bits 31:0. */
uint64_t arm_load64(struct arm_cpu *cpu, uint32_t vaddr, bool aligned)
{
    if ((vaddr & 3) && strict_alignment(cpu, aligned)) {
        arm_alignment_fault(cpu, vaddr, false);
    }
    if (!(vaddr & 7) && !big_endian(cpu)) {
        struct coremu_tlb_entry *e = &cpu->tlb[mmu_index(cpu, false)][tlb_index(vaddr)];
        if (e->tag_read == (vaddr & ARM_PAGE_MASK) && !(e->flags & COREMU_TLB_MMIO)) {
            return coremu_mem_load((const void *)(uintptr_t)(vaddr + e->addend), 8);
        }
    }
    uint64_t lo = arm_load(cpu, vaddr, 4, false, false);
    uint64_t hi = arm_load(cpu, vaddr + 4, 4, false, false);
    return lo | (hi << 32);
}

void arm_store64(struct arm_cpu *cpu, uint32_t vaddr, uint64_t value, bool aligned)
{
    if ((vaddr & 3) && strict_alignment(cpu, aligned)) {
        arm_alignment_fault(cpu, vaddr, true);
    }
    if (!(vaddr & 7) && !big_endian(cpu)) {
        struct coremu_tlb_entry *e = &cpu->tlb[mmu_index(cpu, false)][tlb_index(vaddr)];
        if (e->tag_write == (vaddr & ARM_PAGE_MASK) &&
            !(e->flags & (COREMU_TLB_STORE_SLOW))) {
            coremu_mem_store((void *)(uintptr_t)(vaddr + e->addend), 8, value);
            return;
        }
    }
    /* Both words are checked before either is written: a fault on the second word must not
     * leave the first one stored... which the architecture allows, but software retrying the
     * instruction after the abort is happier this way. */
    unsigned m = mmu_index(cpu, false);
    tlb_get(cpu, vaddr, ARM_ACCESS_WRITE, m);
    if (((vaddr + 7) ^ vaddr) & ARM_PAGE_MASK) {
        uint32_t second = (vaddr + 7) & ARM_PAGE_MASK;
        tlb_get(cpu, second > vaddr + 4 ? second : vaddr + 4, ARM_ACCESS_WRITE, m);
    }
    arm_store(cpu, vaddr, 4, (uint32_t)value, false, false);
    arm_store(cpu, vaddr + 4, 4, (uint32_t)(value >> 32), false, false);
}

uint32_t arm_fetch(struct arm_cpu *cpu, uint32_t vaddr, unsigned size)
{
    unsigned m = mmu_index(cpu, false);
    struct coremu_tlb_entry *e = &cpu->tlb[m][tlb_index(vaddr)];

    if (e->tag_exec != (vaddr & ARM_PAGE_MASK)) {
        e = tlb_fill(cpu, vaddr, ARM_ACCESS_EXEC, m);
    }
    if (e->flags & COREMU_TLB_MMIO) {
        uint32_t pa = e->paddr | (vaddr & ~ARM_PAGE_MASK);
        uint64_t v;
        int r = coremu_as_read(cpu->board->as, pa, size, &v);
        if (r != COREMU_MEM_OK) {
            COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "cpu%u: instruction fetch at %08x (pa %08x) "
                       "failed (%d)\n", cpu->rt ? cpu->rt->index : 0u, vaddr, pa, r);
            arm_prefetch_abort(cpu, vaddr, arm_fsr(ARM_FS_EXT, 0));
        }
        return (uint32_t)v;
    }
    return host_load((const void *)(uintptr_t)(vaddr + e->addend), size);
}
