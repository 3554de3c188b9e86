/*
 * Unit test of the host atomic primitives (compare-and-swap, exchange and fetch-and-op of every
 * size, 16-byte CAS, load and store), of the softmmu's sized load and store, and of the atomic
 * table registry (the torture test over real tables is in test-xmon.c).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <coremu/atomic.h>
#include <coremu/clock.h>
#include <coremu/softmmu.h>

#include "unit.h"

#define FILL          0xa5
#define BUF_SIZE      48
#define TARGET_OFFSET 16 /* aligned for every size, with neighbours on both sides */

static const unsigned sizes[] = {1, 2, 4, 8};

static uint64_t size_mask(unsigned size)
{
    return size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

/* The buffer, 16-byte aligned, filled with FILL outside the target. */
static _Alignas(16) uint8_t buf[BUF_SIZE];

static void *target(void)
{
    return buf + TARGET_OFFSET;
}

static void reset(unsigned size, uint64_t value)
{
    memset(buf, FILL, sizeof(buf));
    coremu_atomic_store(target(), size, value);
}

/* Whether every byte outside [TARGET_OFFSET, TARGET_OFFSET + size) still holds FILL. */
static bool neighbours_intact(unsigned size)
{
    for (unsigned i = 0; i < BUF_SIZE; i++) {
        if ((i < TARGET_OFFSET || i >= TARGET_OFFSET + size) && buf[i] != FILL) {
            return false;
        }
    }
    return true;
}

static void test_load_store(void)
{
    char name[64];

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        unsigned size = sizes[k];
        uint64_t v = 0x8877665544332211ull;

        reset(size, 0);
        coremu_atomic_store(target(), size, v);
        uint64_t got = coremu_atomic_load(target(), size);
        snprintf(name, sizeof(name), "load/store size %u", size);
        UNIT_CHECK(got == (v & size_mask(size)) && neighbours_intact(size), name,
                   "stored %#llx, loaded %#llx (want %#llx), neighbours %s", (unsigned long long)v,
                   (unsigned long long)got, (unsigned long long)(v & size_mask(size)),
                   neighbours_intact(size) ? "intact" : "clobbered");
    }
}

static void test_cas(void)
{
    char name[64];

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        unsigned size = sizes[k];
        uint64_t mask = size_mask(size);
        uint64_t init = 0x0123456789abcdefull & mask;
        uint64_t desired = 0xfedcba9876543210ull & mask;

        /* Success: the new value is stored, nothing else changes. */
        reset(size, init);
        uint64_t expected = init;
        bool ok = coremu_atomic_cas(target(), size, &expected, desired);
        uint64_t now = coremu_atomic_load(target(), size);
        snprintf(name, sizeof(name), "cas size %u success", size);
        UNIT_CHECK(ok && now == desired && expected == init && neighbours_intact(size), name,
                   "ok=%d now=%#llx (want %#llx) expected=%#llx neighbours %s", ok,
                   (unsigned long long)now, (unsigned long long)desired,
                   (unsigned long long)expected, neighbours_intact(size) ? "intact" : "clobbered");

        /* Failure: memory unchanged, the current value comes back in *expected. */
        reset(size, init);
        expected = init ^ 1;
        ok = coremu_atomic_cas(target(), size, &expected, desired);
        now = coremu_atomic_load(target(), size);
        snprintf(name, sizeof(name), "cas size %u failure", size);
        UNIT_CHECK(!ok && now == init && expected == init && neighbours_intact(size), name,
                   "ok=%d now=%#llx (want %#llx) expected=%#llx (want %#llx) neighbours %s", ok,
                   (unsigned long long)now, (unsigned long long)init, (unsigned long long)expected,
                   (unsigned long long)init, neighbours_intact(size) ? "intact" : "clobbered");

        /* Only the low size bytes of expected take part in the comparison. */
        if (size < 8) {
            reset(size, init);
            expected = init | (0xdeadull << 48);
            ok = coremu_atomic_cas(target(), size, &expected, desired);
            now = coremu_atomic_load(target(), size);
            snprintf(name, sizeof(name), "cas size %u truncates", size);
            UNIT_CHECK(ok && now == desired && neighbours_intact(size), name,
                       "ok=%d now=%#llx (want %#llx)", ok, (unsigned long long)now,
                       (unsigned long long)desired);
        }
    }
}

static const char *const op_names[] = {"xchg", "add", "sub", "and", "or", "xor"};

static uint64_t apply_op(enum coremu_atomic_op op, uint64_t old, uint64_t operand)
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
    case COREMU_ATOMIC_XOR:
        return old ^ operand;
    }
    return 0;
}

static void test_fetch_op(void)
{
    char name[64];
    /* Operand pairs chosen so that add wraps and sub borrows at every width. */
    static const uint64_t inits[] = {0xf0f0f0f0f0f0f0f0ull, 0x0000000000000001ull};
    static const uint64_t operands[] = {0x3c3c3c3c3c3c3c3cull, 0xffffffffffffffffull};

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        unsigned size = sizes[k];
        uint64_t mask = size_mask(size);

        for (int op = COREMU_ATOMIC_XCHG; op <= COREMU_ATOMIC_XOR; op++) {
            bool good = true;
            uint64_t bad_old = 0, bad_now = 0, bad_want = 0;

            for (size_t c = 0; c < 2; c++) {
                uint64_t init = inits[c] & mask;
                reset(size, init);
                uint64_t old =
                    coremu_atomic_fetch_op(target(), size, (enum coremu_atomic_op)op, operands[c]);
                uint64_t now = coremu_atomic_load(target(), size);
                uint64_t want = apply_op((enum coremu_atomic_op)op, init, operands[c]) & mask;
                if (old != init || now != want || !neighbours_intact(size)) {
                    good = false;
                    bad_old = old;
                    bad_now = now;
                    bad_want = want;
                }
            }
            snprintf(name, sizeof(name), "fetch_op %s size %u", op_names[op], size);
            UNIT_CHECK(good, name, "old=%#llx now=%#llx (want %#llx) or neighbours clobbered",
                       (unsigned long long)bad_old, (unsigned long long)bad_now,
                       (unsigned long long)bad_want);
        }
    }
}

static void test_cas16(void)
{
    static _Alignas(16) unsigned __int128 pair[3];
    const unsigned __int128 fill =
        ((unsigned __int128)0xa5a5a5a5a5a5a5a5ull << 64) | 0xa5a5a5a5a5a5a5a5ull;
    const unsigned __int128 init =
        ((unsigned __int128)0x1111222233334444ull << 64) | 0x5555666677778888ull;
    const unsigned __int128 repl =
        ((unsigned __int128)0x9999aaaabbbbccccull << 64) | 0xddddeeeeffff0000ull;

    pair[0] = fill;
    pair[1] = init;
    pair[2] = fill;
    unsigned __int128 expected = init;
    bool ok = coremu_atomic_cas16(&pair[1], &expected, repl);
    UNIT_CHECK(ok && pair[1] == repl && expected == init && pair[0] == fill && pair[2] == fill,
               "cas16 success", "ok=%d, stored pair %s", ok, pair[1] == repl ? "right" : "wrong");

    /* A mismatch in either half fails and reports the current pair. */
    expected = repl ^ ((unsigned __int128)1 << 64);
    ok = coremu_atomic_cas16(&pair[1], &expected, init);
    UNIT_CHECK(!ok && pair[1] == repl && expected == repl, "cas16 failure (high half)",
               "ok=%d, memory %s, expected %s", ok, pair[1] == repl ? "unchanged" : "changed",
               expected == repl ? "updated" : "not updated");
    expected = repl ^ 1;
    ok = coremu_atomic_cas16(&pair[1], &expected, init);
    UNIT_CHECK(!ok && pair[1] == repl && expected == repl, "cas16 failure (low half)",
               "ok=%d, memory %s, expected %s", ok, pair[1] == repl ? "unchanged" : "changed",
               expected == repl ? "updated" : "not updated");
    UNIT_CHECK(pair[0] == fill && pair[2] == fill, "cas16 neighbours intact",
               "a neighbouring pair changed");
}

/* ---- Contention: 8 threads x 1,000,000 CAS-loop increments -------------------------------- */

#define CAS_THREADS    8
#define CAS_ITERATIONS 1000000ull

static _Alignas(64) uint64_t shared_counter;

static void *cas_thread(void *arg)
{
    uint64_t *failures = arg;

    for (uint64_t i = 0; i < CAS_ITERATIONS; i++) {
        uint64_t old = coremu_atomic_load(&shared_counter, 8);
        while (!coremu_atomic_cas(&shared_counter, 8, &old, old + 1)) {
            ++*failures;
        }
    }
    return NULL;
}

static void test_cas_contention(void)
{
    pthread_t t[CAS_THREADS];
    uint64_t failures[CAS_THREADS] = {0};
    uint64_t total_failures = 0;

    coremu_atomic_store(&shared_counter, 8, 0);
    int64_t t0 = coremu_host_ns();
    for (unsigned i = 0; i < CAS_THREADS; i++) {
        UNIT_REQUIRE(pthread_create(&t[i], NULL, cas_thread, &failures[i]) == 0, "cas contention",
                     "pthread_create failed");
    }
    for (unsigned i = 0; i < CAS_THREADS; i++) {
        pthread_join(t[i], NULL);
        total_failures += failures[i];
    }
    double s = (double)(coremu_host_ns() - t0) / 1e9;
    uint64_t got = coremu_atomic_load(&shared_counter, 8);
    printf("cas contention: %.2f s, %llu failed CAS\n", s, (unsigned long long)total_failures);
    UNIT_CHECK(got == CAS_THREADS * CAS_ITERATIONS, "cas contention 8x1000000",
               "counter is %llu, want %llu", (unsigned long long)got,
               (unsigned long long)(CAS_THREADS * CAS_ITERATIONS));
}

/* ---- The softmmu's sized load and store ----------------------------------------------------- */

/* Every size and every memory order the runtime uses: exactly size bytes, the guest's byte
 * order (little-endian, like the host), neighbours untouched. */
static void test_softmmu(void)
{
    static const int load_orders[] = {__ATOMIC_RELAXED, __ATOMIC_ACQUIRE, __ATOMIC_SEQ_CST};
    static const int store_orders[] = {__ATOMIC_RELAXED, __ATOMIC_RELEASE, __ATOMIC_SEQ_CST};
    char name[80];

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        unsigned size = sizes[k];
        const uint64_t v = 0x8877665544332211ull;
        bool ok = true;

        memset(buf, FILL, sizeof(buf));
        coremu_mem_store(target(), size, v);
        ok &= neighbours_intact(size) && buf[TARGET_OFFSET] == 0x11 &&
              buf[TARGET_OFFSET + size - 1] == (uint8_t)(v >> (8 * (size - 1)));
        ok &= coremu_mem_load(target(), size) == (v & size_mask(size));
        for (size_t o = 0; o < 3; o++) {
            memset(buf, FILL, sizeof(buf));
            coremu_mem_store_order(target(), size, ~v, store_orders[o]);
            ok &= neighbours_intact(size);
            ok &= coremu_mem_load_order(target(), size, load_orders[o]) == (~v & size_mask(size));
        }
        snprintf(name, sizeof(name), "softmmu load/store size %u", size);
        UNIT_CHECK(ok, name, "wrong value, byte order or width");
    }
}

/* ---- Registry ----------------------------------------------------------------------------- */

/* Tables are only registered and looked up here: the slots are never called. */
static uint64_t never_swap(void *cpu, uint64_t va, unsigned size, uint64_t value)
{
    return 0;
}

static uint64_t never_load_exclusive(void *cpu, uint64_t va, unsigned size)
{
    return 0;
}

static bool never_store_exclusive(void *cpu, uint64_t va, unsigned size, uint64_t value)
{
    return false;
}

static void never_clear_exclusive(void *cpu)
{
}

static const struct coremu_atomic_table unit_table = {
    .arch = "unit", .swap_sizes = 4, .swap = never_swap};
static const struct coremu_atomic_table unit_table_again = {
    .arch = "unit", .swap_sizes = 4, .swap = never_swap};
static const struct coremu_atomic_table other_table = {
    .arch = "other",
    .exclusive_sizes = 1 | 2 | 4 | 8,
    .load_exclusive = never_load_exclusive,
    .store_exclusive = never_store_exclusive,
    .clear_exclusive = never_clear_exclusive,
};
/* Inconsistent tables, each refused. */
static const struct coremu_atomic_table bad_tables[] = {
    {.arch = NULL, .swap_sizes = 4, .swap = never_swap},                     /* no name */
    {.arch = "bad1", .swap_sizes = 0, .swap = never_swap},                   /* no sizes */
    {.arch = "bad2", .swap_sizes = 4},                                       /* no function */
    {.arch = "bad3", .swap_sizes = 16, .swap = never_swap},                  /* size 16 */
    {.arch = "bad4", .exclusive_sizes = 4, .load_exclusive = never_load_exclusive,
     .store_exclusive = never_store_exclusive},                              /* no clear */
    {.arch = "bad5", .cmpxchg_sizes = 8},                                    /* no function */
    {.arch = "bad6", .fetch_op_sizes = 4},                                   /* no function */
};

static void test_registry(void)
{
    UNIT_CHECK(coremu_atomic_lookup("unit") == NULL, "registry lookup before register",
               "found a table that was never registered");
    int rc = coremu_atomic_register(&unit_table);
    UNIT_CHECK(rc == 0, "registry register", "returned %d", rc);
    UNIT_CHECK(coremu_atomic_lookup("unit") == &unit_table, "registry lookup",
               "did not return the registered table");
    rc = coremu_atomic_register(&unit_table_again);
    UNIT_CHECK(rc == -EEXIST, "registry duplicate", "returned %d, want -EEXIST", rc);
    UNIT_CHECK(coremu_atomic_lookup("unit") == &unit_table, "registry duplicate keeps first",
               "the duplicate replaced the first table");
    rc = coremu_atomic_register(&other_table);
    UNIT_CHECK(rc == 0 && coremu_atomic_lookup("other") == &other_table, "registry second arch",
               "register returned %d", rc);
    UNIT_CHECK(coremu_atomic_lookup("nosuch") == NULL, "registry lookup unknown",
               "found a table for an unknown arch");
    for (size_t i = 0; i < sizeof(bad_tables) / sizeof(bad_tables[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "registry refuses inconsistent table %zu", i);
        rc = coremu_atomic_register(&bad_tables[i]);
        UNIT_CHECK(rc == -EINVAL, name, "returned %d, want -EINVAL", rc);
    }
    UNIT_CHECK(coremu_atomic_lookup("bad1") == NULL, "registry keeps no refused table",
               "a refused table was registered");
    UNIT_CHECK(coremu_atomic_register(NULL) == -EINVAL, "registry refuses NULL", "accepted");

    /* The torture test refuses what it cannot run. */
    struct coremu_torture_result r;
    void *const one_cpu[] = {NULL};
    struct coremu_torture_env env = {one_cpu, 1, 0, true};
    rc = coremu_atomic_torture(&other_table, &env, 1, &r);
    UNIT_CHECK(rc == -1 && r.failures == 1 && strcmp(r.first_failure, "bad arguments") == 0,
               "torture refuses a single core", "rc=%d failures %u (%s)", rc, r.failures,
               r.first_failure);
}

int main(void)
{
    test_load_store();
    test_cas();
    test_fetch_op();
    test_cas16();
    test_softmmu();
    test_registry();
    test_cas_contention();
    return unit_done();
}
