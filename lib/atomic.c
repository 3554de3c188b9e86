/*
 * coremu — host atomic primitives on guest RAM, and the registry of architectures' atomic
 * helper tables.
 *
 * Guest RAM is ordinary host memory, not _Atomic objects, so the primitives use the GCC/Clang
 * __atomic builtins, which act on plain objects and which ThreadSanitizer understands. Every
 * read-modify-write is sequentially consistent (a guest atomic is a full barrier on every
 * architecture coremu emulates); plain loads and stores are relaxed (the guest's own barriers
 * order them). 16-byte operations go through libatomic, which uses CMPXCHG16B (or the host's
 * equivalent) where the CPU has it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/atomic.h>

/* A size the caller should have rejected: an emulator bug, not a guest error. */
static _Noreturn void bad_size(void)
{
    abort();
}

bool coremu_atomic_cas(void *p, unsigned size, uint64_t *expected, uint64_t desired)
{
    bool ok;

    switch (size) {
    case 1: {
        uint8_t e = (uint8_t)*expected;
        ok = __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)desired, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        if (!ok) {
            *expected = e;
        }
        return ok;
    }
    case 2: {
        uint16_t e = (uint16_t)*expected;
        ok = __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)desired, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        if (!ok) {
            *expected = e;
        }
        return ok;
    }
    case 4: {
        uint32_t e = (uint32_t)*expected;
        ok = __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)desired, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        if (!ok) {
            *expected = e;
        }
        return ok;
    }
    case 8:
        return __atomic_compare_exchange_n((uint64_t *)p, expected, desired, false,
                                           __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    default:
        bad_size();
    }
}

bool coremu_atomic_cas16(void *p, unsigned __int128 *expected, unsigned __int128 desired)
{
    return __atomic_compare_exchange_n((unsigned __int128 *)p, expected, desired, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/*
 * One fetch-and-op per width. The operand is truncated to the width first, so SUB of a 64-bit
 * two's-complement value on a byte behaves as the guest expects.
 */
#define DEFINE_FETCH_OP(bits)                                                         \
    static uint##bits##_t fetch_op##bits(uint##bits##_t *p, enum coremu_atomic_op op, \
                                         uint##bits##_t v)                            \
    {                                                                                 \
        switch (op) {                                                                 \
        case COREMU_ATOMIC_XCHG:                                                      \
            return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);                       \
        case COREMU_ATOMIC_ADD:                                                       \
            return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);                        \
        case COREMU_ATOMIC_SUB:                                                       \
            return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);                        \
        case COREMU_ATOMIC_AND:                                                       \
            return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);                        \
        case COREMU_ATOMIC_OR:                                                        \
            return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);                         \
        case COREMU_ATOMIC_XOR:                                                       \
            return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);                        \
        }                                                                             \
        abort();                                                                      \
    }

DEFINE_FETCH_OP(8)
DEFINE_FETCH_OP(16)
DEFINE_FETCH_OP(32)
DEFINE_FETCH_OP(64)

uint64_t coremu_atomic_fetch_op(void *p, unsigned size, enum coremu_atomic_op op, uint64_t operand)
{
    switch (size) {
    case 1:
        return fetch_op8((uint8_t *)p, op, (uint8_t)operand);
    case 2:
        return fetch_op16((uint16_t *)p, op, (uint16_t)operand);
    case 4:
        return fetch_op32((uint32_t *)p, op, (uint32_t)operand);
    case 8:
        return fetch_op64((uint64_t *)p, op, operand);
    default:
        bad_size();
    }
}

uint64_t coremu_atomic_load(const void *p, unsigned size)
{
    switch (size) {
    case 1:
        return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
    case 2:
        return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
    case 4:
        return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
    case 8:
        return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
    default:
        bad_size();
    }
}

void coremu_atomic_store(void *p, unsigned size, uint64_t value)
{
    switch (size) {
    case 1:
        __atomic_store_n((uint8_t *)p, (uint8_t)value, __ATOMIC_RELAXED);
        return;
    case 2:
        __atomic_store_n((uint16_t *)p, (uint16_t)value, __ATOMIC_RELAXED);
        return;
    case 4:
        __atomic_store_n((uint32_t *)p, (uint32_t)value, __ATOMIC_RELAXED);
        return;
    case 8:
        __atomic_store_n((uint64_t *)p, value, __ATOMIC_RELAXED);
        return;
    default:
        bad_size();
    }
}

/*
 * The helper-table registry. Architectures register at start-up and lookups are rare (the
 * torture test, the monitor), so one mutex guards everything; there is nothing to gain from a
 * lock-free scheme here. The tables themselves belong to the caller and must outlive the
 * process (they are static data in practice).
 */
#define ATOMIC_MAX_TABLES 8

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct coremu_atomic_table *registry[ATOMIC_MAX_TABLES]; /* under registry_lock */
static size_t registry_count;                                         /* under registry_lock */

/* Caller holds registry_lock. */
static const struct coremu_atomic_table *registry_find(const char *arch)
{
    for (size_t i = 0; i < registry_count; i++) {
        if (strcmp(registry[i]->arch, arch) == 0) {
            return registry[i];
        }
    }
    return NULL;
}

int coremu_atomic_register(const struct coremu_atomic_table *table)
{
    int ret = 0;

    if (!table || !table->arch || (table->nhelpers && !table->helpers)) {
        return -EINVAL;
    }
    pthread_mutex_lock(&registry_lock);
    if (registry_find(table->arch)) {
        ret = -EEXIST;
    } else if (registry_count == ATOMIC_MAX_TABLES) {
        ret = -ENOSPC;
    } else {
        registry[registry_count++] = table;
    }
    pthread_mutex_unlock(&registry_lock);
    return ret;
}

const struct coremu_atomic_table *coremu_atomic_lookup(const char *arch)
{
    const struct coremu_atomic_table *t;

    if (!arch) {
        return NULL;
    }
    pthread_mutex_lock(&registry_lock);
    t = registry_find(arch);
    pthread_mutex_unlock(&registry_lock);
    return t;
}
