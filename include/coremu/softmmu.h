/*
 * coremu — what every architecture's software MMU shares about guest memory.
 *
 * Today: the one sized access to guest RAM that every loader, store and monitor uses. Guest RAM
 * is ordinary host memory that other cores' threads read and write at the same time, so an
 * aligned guest access of 1, 2, 4 or 8 bytes must be one host access that no other core can see
 * torn (single-copy atomicity, which ARM and x86 both promise for aligned accesses). The GCC /
 * Clang __atomic builtins give exactly that on plain (non-_Atomic) memory, cost nothing more
 * than a plain access when relaxed, and are understood by ThreadSanitizer.
 *
 * The host is little-endian (configure refuses others), as are the guests' memories, so a value
 * is the integer the guest's bytes spell without any swapping; an architecture that also runs
 * big-endian data accesses (ARM's CPSR.E) swaps around these calls.
 */
#ifndef COREMU_SOFTMMU_H
#define COREMU_SOFTMMU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "coremu runs on little-endian hosts only"
#endif

/*
 * Loads the size-byte (1, 2, 4 or 8) value at host address host, which must be naturally
 * aligned, as one single-copy-atomic access with the given __ATOMIC_* memory order
 * (__ATOMIC_RELAXED, __ATOMIC_ACQUIRE or __ATOMIC_SEQ_CST). Callers pass constants, so after
 * inlining only one host instruction is left. Any other size is an emulator bug: abort.
 */
static inline uint64_t coremu_mem_load_order(const void *host, unsigned size, int order)
{
    switch (size) {
    case 1:
        return __atomic_load_n((const uint8_t *)host, order);
    case 2:
        return __atomic_load_n((const uint16_t *)host, order);
    case 4:
        return __atomic_load_n((const uint32_t *)host, order);
    case 8:
        return __atomic_load_n((const uint64_t *)host, order);
    default:
        abort();
    }
}

/* Stores the low size bytes of value like coremu_mem_load_order loads (__ATOMIC_RELAXED,
 * __ATOMIC_RELEASE or __ATOMIC_SEQ_CST). */
static inline void coremu_mem_store_order(void *host, unsigned size, uint64_t value, int order)
{
    switch (size) {
    case 1:
        __atomic_store_n((uint8_t *)host, (uint8_t)value, order);
        return;
    case 2:
        __atomic_store_n((uint16_t *)host, (uint16_t)value, order);
        return;
    case 4:
        __atomic_store_n((uint32_t *)host, (uint32_t)value, order);
        return;
    case 8:
        __atomic_store_n((uint64_t *)host, value, order);
        return;
    default:
        abort();
    }
}

/* The guest's plain load: relaxed, because the guest's own barriers (DMB, MFENCE...) order it. */
static inline uint64_t coremu_mem_load(const void *host, unsigned size)
{
    return coremu_mem_load_order(host, size, __ATOMIC_RELAXED);
}

/* The guest's plain store: relaxed, like coremu_mem_load. */
static inline void coremu_mem_store(void *host, unsigned size, uint64_t value)
{
    coremu_mem_store_order(host, size, value, __ATOMIC_RELAXED);
}

/* A guest access that may be unaligned (within one page): one access when naturally aligned,
 * else byte by byte, each byte single-copy atomic, which is all ARM and x86 promise for an
 * unaligned access. */
static inline uint64_t coremu_mem_load_any(const void *host, unsigned size)
{
    if (((uintptr_t)host & (size - 1)) == 0) {
        return coremu_mem_load(host, size);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)__atomic_load_n((const uint8_t *)host + i, __ATOMIC_RELAXED) << (8 * i);
    }
    return v;
}

static inline void coremu_mem_store_any(void *host, unsigned size, uint64_t value)
{
    if (((uintptr_t)host & (size - 1)) == 0) {
        coremu_mem_store(host, size, value);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        __atomic_store_n((uint8_t *)host + i, (uint8_t)(value >> (8 * i)), __ATOMIC_RELAXED);
    }
}

/* ---- the software TLB --------------------------------------------------------------------- */

/*
 * One entry of a core's software TLB, the same for every architecture, so that the inline
 * fast path (and a code generator's) is one shape: the access's page, with the alignment bits
 * of its size folded in, must equal the tag for its kind of access (so that an unaligned access
 * misses), and none of the flags that concern the access may be set; the host address is then
 * vaddr + addend. Anything else goes to the architecture's slow path, which walks, refills and
 * deals with MMIO, the exclusive monitor and code pages. Owner-private, like the whole TLB
 * (other threads change it only while the owner is parked, or by asking it).
 */
struct coremu_tlb_entry {
    uint64_t tag_read;  /* virtual page that reads may use, COREMU_TLB_INVALID for none */
    uint64_t tag_write; /* the same for stores (unset for read-only pages, ROM...) */
    uint64_t tag_exec;  /* the same for instruction fetches */
    uintptr_t addend;   /* host address = guest virtual address + addend (RAM only) */
    uint64_t paddr;     /* physical page, COREMU_TLB_INVALID when the entry is empty */
    uint32_t flags;     /* COREMU_TLB_* */
    uint16_t asid;      /* the architecture's address-space tag (ARM ASID, x86 PCID) */
    bool global;        /* valid in every address space */
};

#define COREMU_TLB_INVALID (~(uint64_t)0)
/* Not RAM: every access goes through the physical address space (MMIO, unmapped). */
#define COREMU_TLB_MMIO (1u << 0)
/* Stores must go through the exclusive monitor (coremu_xmon_store): some core watches the
 * page for a store-exclusive. */
#define COREMU_TLB_WATCH (1u << 1)
/* Stores must be followed by coremu_tb_code_written: some core translated code there. */
#define COREMU_TLB_CODE (1u << 2)
/* The flags that send a store to the slow path (loads only care about COREMU_TLB_MMIO). */
#define COREMU_TLB_STORE_SLOW (COREMU_TLB_MMIO | COREMU_TLB_WATCH | COREMU_TLB_CODE)

/* Whether tag admits a size-byte access at vaddr: same page, and naturally aligned. */
static inline bool coremu_tlb_hit(uint64_t tag, uint64_t vaddr, uint64_t page_mask, unsigned size)
{
    return tag == (vaddr & (page_mask | (size - 1)));
}

#endif /* COREMU_SOFTMMU_H */
