/*
 * toy — its side of the runtime's atomic torture test in guest-instruction mode
 * (coremu_atomic_torture_guest, include/coremu/atomic.h): emitters of toy code for the test's
 * sequences, and a runner on the toy machine's cores. Addresses are built with MOVW, so the
 * area and the code must lie below 64 KiB.
 */
#include "config.h"

#include <stdatomic.h>
#include <string.h>

#include <coremu/atomic.h>

#include "toy.h"
#include "toy_asm.h"

/* Long enough for 64 cores under ThreadSanitizer on a loaded two-CPU host. */
#define TOY_TORTURE_TIMEOUT_S 120u

static bool fits_movw(uint64_t va)
{
    return va <= 0xffff;
}

/* rd = value (below 2^32): the high half, doubled 16 times, plus the low half (rs scratch). */
static void load_u32(struct asm_buf *a, unsigned rd, unsigned scratch, uint32_t value)
{
    MOVW(a, rd, (uint16_t)(value >> 16));
    for (unsigned i = 0; i < 16; i++) {
        ADD(a, rd, rd);
    }
    MOVW(a, scratch, (uint16_t)value);
    ADD(a, rd, scratch);
}

static size_t finish(const struct asm_buf *a, uint64_t at_va)
{
    return a->failed ? 0 : (size_t)(a->at - at_va);
}

/* Every one of k cores adds one to the counter at [rs] and spins until all k did (rt
 * scratch). */
static void start_barrier(struct asm_buf *a, unsigned rs, unsigned rt, unsigned k)
{
    INC(a, rs);
    uint64_t wait = YIELD(a);
    LD(a, rt, rs);
    for (unsigned left = k; left > 0;) {
        unsigned step = left > 128 ? 128 : left;
        ADDI(a, rt, (int8_t)(-(int)step));
        left -= step;
    }
    BNZ(a, rt, wait);
}

static size_t toy_emit_llsc_add(void *opaque, uint8_t *buf, size_t room, uint64_t at_va,
                                uint64_t counter_va, uint64_t scratch_va, unsigned k, unsigned size,
                                uint64_t iterations)
{
    struct asm_buf a = {buf, at_va, at_va, at_va + room, false};

    if (!fits_movw(counter_va) || !fits_movw(scratch_va) || iterations > UINT32_MAX || k > 1024) {
        return 0;
    }
    if (iterations > 0) {
        MOVW(&a, 6, (uint16_t)scratch_va);
        start_barrier(&a, 6, 3, k);
        load_u32(&a, 1, 2, (uint32_t)iterations); /* r1 counts down */
        MOVW(&a, 5, (uint16_t)counter_va);
        uint64_t loop = LDX(&a, 2, 5, size);
        ADDI(&a, 2, 1);
        STX(&a, 3, 2, 5, size);
        BNZ(&a, 3, loop); /* failed: load again */
        ADDI(&a, 1, -1);
        BNZ(&a, 1, loop);
    }
    HALT(&a);
    return finish(&a, at_va);
}

/* Waits until the 8-byte flag at [rs] is not zero (rt scratch). */
static void wait_flag(struct asm_buf *a, unsigned rs, unsigned rt)
{
    uint64_t wait = YIELD(a);
    LD(a, rt, rs);
    uint64_t go = BNZ(a, rt, 0);
    JMP(a, wait);
    patch_branch(a, go, a->at);
}

static size_t toy_emit_probe(void *opaque, uint8_t *buf, size_t room, uint64_t at_va,
                             const struct coremu_torture_probe *p)
{
    struct asm_buf a = {buf, at_va, at_va, at_va + room, false};
    unsigned z = p->size;

    if (!fits_movw(p->target_va) || !fits_movw(p->flags_va + 16) || (p->target_va & 7) != 0) {
        return 0;
    }
    uint64_t to_others = BNZ(&a, 0, 0);
    /* Core 0: LDX, flag 0, wait for flag 1, STX of the value + 1, its outcome at flags + 8. */
    MOVW(&a, 5, (uint16_t)p->target_va);
    MOVW(&a, 6, (uint16_t)p->flags_va);
    MOVW(&a, 7, (uint16_t)(p->flags_va + 16));
    LDX(&a, 1, 5, z);
    MOVI(&a, 2, 1);
    ST(&a, 2, 6);
    wait_flag(&a, 7, 3);
    ADDI(&a, 1, 1);
    STX(&a, 2, 1, 5, z);
    MOVW(&a, 4, (uint16_t)(p->flags_va + 8));
    ST(&a, 2, 4);
    HALT(&a);
    /* Core 1 (others stop): wait for flag 0, store, flag 1. */
    patch_branch(&a, to_others, a.at);
    ADDI(&a, 0, -1);
    uint64_t to_stop = BNZ(&a, 0, 0);
    MOVW(&a, 5, (uint16_t)p->target_va);
    MOVW(&a, 6, (uint16_t)p->flags_va);
    MOVW(&a, 7, (uint16_t)(p->flags_va + 16));
    wait_flag(&a, 6, 3);
    switch (p->how) {
    case COREMU_TORTURE_STORE_PLAIN:
        /* The aligned 8 bytes that hold the target: the rest of them is zero. */
        LD(&a, 1, 5);
        if (!p->same_value) {
            ADDI(&a, 1, 1);
        }
        ST(&a, 1, 5);
        break;
    case COREMU_TORTURE_STORE_EXCLUSIVE: {
        uint64_t retry = LDX(&a, 1, 5, z);
        if (!p->same_value) {
            ADDI(&a, 1, 1);
        }
        STX(&a, 2, 1, 5, z);
        BNZ(&a, 2, retry);
        break;
    }
    case COREMU_TORTURE_STORE_SWAP:
        LD(&a, 1, 5); /* little-endian: the target's value is the low z bytes */
        if (!p->same_value) {
            ADDI(&a, 1, 1);
        }
        SWP(&a, 2, 1, 5, z);
        break;
    default:
        return 0;
    }
    MOVI(&a, 2, 1);
    ST(&a, 2, 7);
    patch_branch(&a, to_stop, a.at);
    HALT(&a);
    return finish(&a, at_va);
}

/* Cores are powered on with empty block caches (coremu_tb_power_on), so bytes written while
 * they are off need no invalidation. */
static void toy_place(void *opaque, uint64_t va, const uint8_t *code, size_t len)
{
    struct toy_machine *m = opaque;

    if (va <= TOY_RAM_SIZE && len <= TOY_RAM_SIZE - va) {
        memcpy(m->ram + va, code, len);
    }
}

static int toy_run_cores(void *opaque, uint64_t entry_va, unsigned k)
{
    struct toy_machine *m = opaque;
    unsigned undefined = atomic_load(&m->undefined);

    if (toy_machine_run_cores(m, entry_va, k, TOY_TORTURE_TIMEOUT_S) != 0) {
        return -1;
    }
    return atomic_load(&m->undefined) == undefined ? 0 : -1;
}

static uint64_t toy_read(void *opaque, uint64_t va, unsigned size)
{
    struct toy_machine *m = opaque;
    uint64_t v = 0;

    if (va <= TOY_RAM_SIZE && size <= TOY_RAM_SIZE - va && size <= sizeof(v)) {
        memcpy(&v, m->ram + va, size); /* little-endian host and guest */
    }
    return v;
}

void toy_torture_guest(struct coremu_torture_guest *g, struct toy_machine *m, uint64_t area_va,
                       uint64_t code_va, size_t code_size, bool exact)
{
    *g = (struct coremu_torture_guest){
        .arch = "toy",
        .opaque = m,
        .ncpus = m->ncpus,
        .va = area_va,
        .code_va = code_va,
        .code_size = code_size,
        .exact = exact,
        .exclusive_sizes = toy_atomic_table.exclusive_sizes,
        .probe_stores = 1u << COREMU_TORTURE_STORE_PLAIN | 1u << COREMU_TORTURE_STORE_EXCLUSIVE |
                        1u << COREMU_TORTURE_STORE_SWAP,
        .emit_llsc_add = toy_emit_llsc_add,
        .emit_probe = toy_emit_probe,
        .place = toy_place,
        .run = toy_run_cores,
        .read = toy_read,
    };
}
