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

#endif /* COREMU_SOFTMMU_H */
