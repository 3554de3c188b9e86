/*
 * coremu ARM — LDREX/STREX (every width), LDREXD/STREXD, CLREX and SWP/SWPB on the runtime's
 * exclusive-monitor engine, ARM's atomic table over them (the handlers in ops_ldst.c and
 * ops_misc.c call the table, and so does the runtime's torture test), and the engine's
 * page-watch callback. Guest memory is little-endian like the host (softmmu.h), so values go to
 * and from the engine unswapped; CPSR.E's big-endian data accesses swap around it.
 *
 * The address goes through the softmmu first (permission faults and aborts come before the
 * monitor is consulted, as the ARM ARM allows), natural alignment is required (an alignment
 * fault otherwise, whatever SCTLR.A says), then the engine does the access on host memory. In
 * the engine's exact mode a STREX fails whenever any other store reached the reservation
 * granule after the LDREX, even one that wrote the same value back.
 *
 * Exclusives to memory that is not RAM (MMIO, i.e. Device memory): the global monitor's
 * behaviour there is IMPLEMENTATION DEFINED; coremu has only the local monitor for it. LDREX
 * reads the device and records the address; STREX writes the device and succeeds exactly when
 * this core's monitor still holds that address and size (nothing between on this core cleared
 * it: CLREX, another LDREX, an exception).
 */
#include "config.h"

#include <stdatomic.h>

#include <coremu/atomic.h>
#include <coremu/cpu.h>
#include <coremu/log.h>
#include <coremu/physmem.h>
#include <coremu/softmmu.h>

#include "board.h"
#include "cpu.h"
#include "ops.h"

/* CPSR.E: big-endian data accesses reverse the bytes of each access (each word of a pair). */
static inline uint32_t data_order(const struct arm_cpu *cpu, uint32_t v, unsigned size)
{
    if (!(cpu->cpsr_rest & ARM_CPSR_E)) {
        return v;
    }
    return size == 4 ? __builtin_bswap32(v) : size == 2 ? __builtin_bswap16((uint16_t)v) : v;
}

static inline uint64_t pair_order(const struct arm_cpu *cpu, uint64_t v)
{
    if (!(cpu->cpsr_rest & ARM_CPSR_E)) {
        return v;
    }
    return (uint64_t)__builtin_bswap32((uint32_t)v) |
           ((uint64_t)__builtin_bswap32((uint32_t)(v >> 32)) << 32);
}

static void mmio_exclusive_mark(struct arm_cpu *cpu, uint32_t pa, unsigned size)
{
    cpu->xmon.valid = true;
    cpu->xmon.pa = pa;
    cpu->xmon.size = size;
    /* A version no engine counter ever had, so the engine's store-exclusive can never match
     * it by accident. */
    cpu->xmon.version = UINT64_MAX;
}

static bool mmio_exclusive_held(struct arm_cpu *cpu, uint32_t pa, unsigned size)
{
    bool held = cpu->xmon.valid && cpu->xmon.pa == pa && cpu->xmon.size == size &&
                cpu->xmon.version == UINT64_MAX;
    coremu_xmon_clear(&cpu->xmon);
    return held;
}

static _Noreturn void mmio_fault(struct arm_cpu *cpu, uint32_t vaddr, bool write)
{
    arm_data_abort(cpu, vaddr, arm_fsr(ARM_FS_EXT, 0), write);
}

static uint64_t mmio_read(struct arm_cpu *cpu, uint32_t vaddr, uint32_t pa, unsigned size)
{
    uint64_t v;

    if (coremu_as_read(cpu->board->as, pa, size, &v) != COREMU_MEM_OK) {
        mmio_fault(cpu, vaddr, false);
    }
    return v;
}

static void mmio_write(struct arm_cpu *cpu, uint32_t vaddr, uint32_t pa, unsigned size,
                       uint64_t v)
{
    if (coremu_as_write(cpu->board->as, pa, size, v) != COREMU_MEM_OK) {
        mmio_fault(cpu, vaddr, true);
    }
}

uint32_t arm_ldrex(struct arm_cpu *cpu, uint32_t vaddr, unsigned size)
{
    uint32_t pa;

    if (vaddr & (size - 1)) {
        arm_alignment_fault(cpu, vaddr, false);
    }
    void *host = arm_mem_translate(cpu, vaddr, ARM_ACCESS_READ, false, &pa, NULL);
    uint64_t v;
    if (!host) {
        v = mmio_read(cpu, vaddr, pa, size);
        mmio_exclusive_mark(cpu, pa, size);
    } else {
        v = coremu_xmon_load_exclusive(cpu->board->xmon, &cpu->xmon, host, pa, size, NULL);
    }
    return data_order(cpu, (uint32_t)v, size);
}

bool arm_strex(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value)
{
    uint32_t pa, flags;

    if (vaddr & (size - 1)) {
        arm_alignment_fault(cpu, vaddr, true);
    }
    void *host = arm_mem_translate(cpu, vaddr, ARM_ACCESS_WRITE, false, &pa, &flags);
    uint64_t v = data_order(cpu, value, size);
    if (size < 4) {
        v &= (1u << (8 * size)) - 1;
    }
    if (!host) {
        if (!mmio_exclusive_held(cpu, pa, size)) {
            return false;
        }
        mmio_write(cpu, vaddr, pa, size, v);
        return true;
    }
    bool ok = coremu_xmon_store_exclusive(cpu->board->xmon, &cpu->xmon, host, pa, size, v, 0);
    if (ok && (flags & COREMU_TLB_CODE)) {
        arm_code_written(cpu, pa);
    }
    return ok;
}

uint64_t arm_ldrexd(struct arm_cpu *cpu, uint32_t vaddr)
{
    uint32_t pa;

    if (vaddr & 7) {
        arm_alignment_fault(cpu, vaddr, false);
    }
    void *host = arm_mem_translate(cpu, vaddr, ARM_ACCESS_READ, false, &pa, NULL);
    uint64_t v;
    if (!host) {
        v = mmio_read(cpu, vaddr, pa, 4) | (mmio_read(cpu, vaddr + 4, pa + 4, 4) << 32);
        mmio_exclusive_mark(cpu, pa, 8);
    } else {
        v = coremu_xmon_load_exclusive(cpu->board->xmon, &cpu->xmon, host, pa, 8, NULL);
    }
    return pair_order(cpu, v);
}

bool arm_strexd(struct arm_cpu *cpu, uint32_t vaddr, uint64_t value)
{
    uint32_t pa, flags;

    if (vaddr & 7) {
        arm_alignment_fault(cpu, vaddr, true);
    }
    void *host = arm_mem_translate(cpu, vaddr, ARM_ACCESS_WRITE, false, &pa, &flags);
    uint64_t v = pair_order(cpu, value);
    if (!host) {
        if (!mmio_exclusive_held(cpu, pa, 8)) {
            return false;
        }
        mmio_write(cpu, vaddr, pa, 4, (uint32_t)v);
        mmio_write(cpu, vaddr + 4, pa + 4, 4, v >> 32);
        return true;
    }
    bool ok = coremu_xmon_store_exclusive(cpu->board->xmon, &cpu->xmon, host, pa, 8, v, 0);
    if (ok && (flags & COREMU_TLB_CODE)) {
        arm_code_written(cpu, pa);
    }
    return ok;
}

void arm_clrex(struct arm_cpu *cpu)
{
    coremu_xmon_clear(&cpu->xmon);
}

uint32_t arm_swp(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value)
{
    uint32_t pa, flags;

    /* SWP is an aligned access (unaligned ones are UNPREDICTABLE; fault them). */
    if (vaddr & (size - 1)) {
        arm_alignment_fault(cpu, vaddr, false);
    }
    /* Write permission implies read permission in every AP encoding. */
    void *host = arm_mem_translate(cpu, vaddr, ARM_ACCESS_WRITE, false, &pa, &flags);
    uint64_t v = data_order(cpu, value, size) & (size == 4 ? 0xffffffffu : 0xffu);
    uint64_t old;
    if (!host) {
        /* Device memory: a read then a write, not atomic against other masters. */
        old = mmio_read(cpu, vaddr, pa, size);
        mmio_write(cpu, vaddr, pa, size, v);
    } else {
        old = coremu_xmon_fetch_op(cpu->board->xmon, host, pa, size, COREMU_ATOMIC_XCHG, v);
        if (flags & COREMU_TLB_CODE) {
            arm_code_written(cpu, pa);
        }
    }
    return data_order(cpu, (uint32_t)old, size);
}

/* ---- the engine's watch callback ---------------------------------------------------------- */

struct watch_arg {
    struct arm_board *board;
    uint32_t page;
};

static void watch_flush(void *opaque)
{
    struct watch_arg *w = opaque;

    for (unsigned i = 0; i < w->board->ncpus; i++) {
        if (w->board->cpus[i]) {
            arm_tlb_flush_phys(w->board->cpus[i], w->page, true);
        }
    }
}

void arm_xmon_watch(void *opaque, uint64_t page_pa)
{
    struct watch_arg w = {opaque, (uint32_t)page_pa};

    if (page_pa >> 32) {
        return; /* no core can address it */
    }
    /* Every core parked at a block boundary (this one counts as parked), so their TLBs are
     * ours to edit: drop the write entries of the page; refills will see it watched. */
    if (w.board->machine) {
        coremu_machine_stop_world(w.board->machine, watch_flush, &w);
    } else {
        watch_flush(&w);
    }
}
