/*
 * coremu x86_64 — the atomic helper table (include/coremu/atomic.h): every LOCK read-modify-
 * write, XCHG with memory, XADD, CMPXCHG, CMPXCHG8B and CMPXCHG16B reaches memory here.
 *
 * The common case is one host atomic instruction on the guest RAM's host address: a naturally
 * aligned access within a page of RAM whose TLB entry allows fast stores. Everything else (an
 * access split across cache lines or pages, MMIO, a page that holds translated code) is rare
 * and done with the world stopped: every other core parked at a block boundary, so that the
 * load and the store are one atomic step for every observer. Addresses are checked (and page
 * faults raised) before the world stops, never inside it.
 *
 * Every operation is a full barrier (seq_cst), as locked instructions are on x86.
 */
#include "config.h"

#include <coremu/atomic.h>
#include <coremu/cpu.h>

#include "cpu.h"

/* The host address for an atomic access, or NULL for the stop-the-world path. Faults first. */
static void *atomic_ptr(struct x86_cpu *cpu, uint64_t va, unsigned size)
{
    x86_probe_write_lin(cpu, va, size, X86_ACC_WRITE);
    if (va & (size - 1)) {
        return NULL;
    }
    return x86_host_ptr(cpu, va, size, X86_ACC_WRITE);
}

struct slow_op {
    struct x86_cpu *cpu;
    uint64_t va;
    unsigned size;
    enum coremu_atomic_op op;
    uint64_t operand;
    uint64_t expected_lo, expected_hi, desired_lo, desired_hi;
    uint64_t old_lo, old_hi;
    bool cas, ok;
};

static uint64_t apply(enum coremu_atomic_op op, uint64_t old, uint64_t operand)
{
    switch (op) {
    case COREMU_ATOMIC_XCHG:
        return operand;
    case COREMU_ATOMIC_ADD:
        return old + operand;
    case COREMU_ATOMIC_SUB:
        return old - operand;
    case COREMU_ATOMIC_AND:
        return old & operand;
    case COREMU_ATOMIC_OR:
        return old | operand;
    default:
        return old ^ operand;
    }
}

/* Runs with every other core parked: plain accesses are atomic. The pages were probed. */
static void slow_op_run(void *arg)
{
    struct slow_op *s = arg;
    struct x86_cpu *cpu = s->cpu;
    unsigned part = s->size > 8 ? 8 : s->size;

    s->old_lo = x86_load_lin(cpu, s->va, part, X86_ACC_READ);
    s->old_hi = s->size > 8 ? x86_load_lin(cpu, s->va + 8, 8, X86_ACC_READ) : 0;
    if (s->cas) {
        s->ok = s->old_lo == s->expected_lo && s->old_hi == s->expected_hi;
        if (s->ok) {
            x86_store_lin(cpu, s->va, part, s->desired_lo, X86_ACC_WRITE);
            if (s->size > 8) {
                x86_store_lin(cpu, s->va + 8, 8, s->desired_hi, X86_ACC_WRITE);
            }
        } else {
            /* a locked compare-and-exchange writes the old value back */
            x86_store_lin(cpu, s->va, part, s->old_lo, X86_ACC_WRITE);
            if (s->size > 8) {
                x86_store_lin(cpu, s->va + 8, 8, s->old_hi, X86_ACC_WRITE);
            }
        }
    } else {
        x86_store_lin(cpu, s->va, part, apply(s->op, s->old_lo, s->operand), X86_ACC_WRITE);
    }
}

static void run_stopped(struct x86_cpu *cpu, struct slow_op *s)
{
    s->cpu = cpu;
    if (cpu->rt) {
        coremu_machine_stop_world(cpu->rt->machine, slow_op_run, s);
    } else {
        slow_op_run(s); /* a core without a machine (user.c) is alone */
    }
}

static uint64_t table_fetch_op(void *opaque, uint64_t va, unsigned size,
                               enum coremu_atomic_op op, uint64_t operand)
{
    struct x86_cpu *cpu = opaque;
    void *p = atomic_ptr(cpu, va, size);

    if (p) {
        return coremu_atomic_fetch_op(p, size, op, operand);
    }
    struct slow_op s = {.va = va, .size = size, .op = op, .operand = operand};
    run_stopped(cpu, &s);
    return s.old_lo;
}

static uint64_t table_swap(void *opaque, uint64_t va, unsigned size, uint64_t value)
{
    return table_fetch_op(opaque, va, size, COREMU_ATOMIC_XCHG, value);
}

static bool table_cmpxchg(void *opaque, uint64_t va, unsigned size, uint64_t *expected,
                          uint64_t desired)
{
    struct x86_cpu *cpu = opaque;
    void *p = atomic_ptr(cpu, va, size);
    uint64_t m = x86_size_mask(size);

    if (p) {
        bool ok;
        switch (size) {
        case 1: {
            uint8_t e = (uint8_t)*expected;
            ok = __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)desired, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            *expected = e;
            break;
        }
        case 2: {
            uint16_t e = (uint16_t)*expected;
            ok = __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)desired, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            *expected = e;
            break;
        }
        case 4: {
            uint32_t e = (uint32_t)*expected;
            ok = __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)desired, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            *expected = e;
            break;
        }
        default: {
            uint64_t e = *expected;
            ok = __atomic_compare_exchange_n((uint64_t *)p, &e, desired, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            *expected = e;
            break;
        }
        }
        return ok;
    }
    struct slow_op s = {.va = va, .size = size, .cas = true, .expected_lo = *expected & m,
                        .desired_lo = desired & m};
    run_stopped(cpu, &s);
    *expected = s.old_lo;
    return s.ok;
}

static bool table_cmpxchg16(void *opaque, uint64_t va, unsigned __int128 *expected,
                            unsigned __int128 desired)
{
    struct x86_cpu *cpu = opaque;
    void *p = atomic_ptr(cpu, va, 16);

    if (p) {
        return coremu_atomic_cas16(p, expected, desired);
    }
    struct slow_op s = {.va = va, .size = 16, .cas = true,
                        .expected_lo = (uint64_t)*expected,
                        .expected_hi = (uint64_t)(*expected >> 64),
                        .desired_lo = (uint64_t)desired,
                        .desired_hi = (uint64_t)(desired >> 64)};
    run_stopped(cpu, &s);
    *expected = ((unsigned __int128)s.old_hi << 64) | s.old_lo;
    return s.ok;
}

const struct coremu_atomic_table x86_atomic_table = {
    .arch = "x86_64",
    .swap_sizes = 1 | 2 | 4 | 8,
    .swap = table_swap,
    .fetch_op_sizes = 1 | 2 | 4 | 8,
    .fetch_op = table_fetch_op,
    .cmpxchg_sizes = 1 | 2 | 4 | 8,
    .cmpxchg = table_cmpxchg,
    .cmpxchg16 = table_cmpxchg16,
};
