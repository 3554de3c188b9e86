/*
 * coremu — host atomic primitives on guest RAM, and the registry of architectures' atomic
 * tables.
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
#include <coremu/softmmu.h>

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

void coremu_atomic_fence(void)
{
#if defined(__SANITIZE_THREAD__)
    static _Atomic unsigned fence_word;
    atomic_fetch_add_explicit(&fence_word, 0, memory_order_seq_cst);
#else
    atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* The exported form of the softmmu's helper, for callers outside an architecture's fast path. */
uint64_t coremu_atomic_load(const void *p, unsigned size)
{
    return coremu_mem_load(p, size);
}

void coremu_atomic_store(void *p, unsigned size, uint64_t value)
{
    coremu_mem_store(p, size, value);
}

/*
 * The table registry. Architectures register at start-up and lookups are rare (the torture
 * test; cores keep their own pointer to their table), so one mutex guards everything; there is
 * nothing to gain from a lock-free scheme here. The tables themselves belong to the caller and
 * must outlive the process (they are static data in practice).
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

/* A slot and its size mask agree: both present or both absent, sizes among 1/2/4/8. */
static bool slot_consistent(bool present, unsigned sizes)
{
    return (sizes & ~15u) == 0 && present == (sizes != 0);
}

static bool table_consistent(const struct coremu_atomic_table *t)
{
    bool ll = t->load_exclusive != NULL;

    return t->arch && (t->store_exclusive != NULL) == ll && (t->clear_exclusive != NULL) == ll &&
           slot_consistent(ll, t->exclusive_sizes) &&
           slot_consistent(t->swap != NULL, t->swap_sizes) &&
           slot_consistent(t->fetch_op != NULL, t->fetch_op_sizes) &&
           slot_consistent(t->cmpxchg != NULL, t->cmpxchg_sizes);
}

int coremu_atomic_register(const struct coremu_atomic_table *table)
{
    int ret = 0;

    if (!table || !table_consistent(table)) {
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
