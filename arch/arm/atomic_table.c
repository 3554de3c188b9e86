/*
 * coremu ARM — the atomic table (include/coremu/atomic.h) that the LDREX/STREX/CLREX/SWP
 * handlers call through cpu->atomic, over the exclusive-monitor functions of atomic_arm.c. It
 * is a file of its own so that the decoder tests run the handlers through this very table over
 * their stubs of those functions.
 */
#include "config.h"

#include <coremu/atomic.h>

#include "cpu.h"

/* The table's entry points over the functions above (ARM addresses are 32 bits; an 8-byte
 * exclusive is LDREXD/STREXD). Each is one indirect call from a handler; the work inlines. */
static uint64_t table_load_exclusive(void *opaque, uint64_t va, unsigned size)
{
    struct arm_cpu *cpu = opaque;

    return size == 8 ? arm_ldrexd(cpu, (uint32_t)va) : arm_ldrex(cpu, (uint32_t)va, size);
}

static bool table_store_exclusive(void *opaque, uint64_t va, unsigned size, uint64_t value)
{
    struct arm_cpu *cpu = opaque;

    return size == 8 ? arm_strexd(cpu, (uint32_t)va, value)
                     : arm_strex(cpu, (uint32_t)va, size, (uint32_t)value);
}

static void table_clear_exclusive(void *opaque)
{
    arm_clrex(opaque);
}

static uint64_t table_swap(void *opaque, uint64_t va, unsigned size, uint64_t value)
{
    return arm_swp(opaque, (uint32_t)va, size, (uint32_t)value);
}

/* No LOCK-style fetch-and-op or compare-and-swap instruction in ARMv7-A: those slots stay
 * empty (guest code builds them from LDREX/STREX loops). */
const struct coremu_atomic_table arm_atomic_table = {
    .arch = "arm",
    .exclusive_sizes = 1 | 2 | 4 | 8,
    .load_exclusive = table_load_exclusive,
    .store_exclusive = table_store_exclusive,
    .clear_exclusive = table_clear_exclusive,
    .swap_sizes = 1 | 4,
    .swap = table_swap,
};
