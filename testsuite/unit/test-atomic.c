/*
 * Unit test of the host atomic primitives (compare-and-swap, exchange and fetch-and-op of every
 * size, 16-byte CAS, load and store) and of the helper-table registry.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <coremu/atomic.h>
#include <coremu/clock.h>

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

/* ---- Registry ----------------------------------------------------------------------------- */

static uint64_t fetch_add_helper(struct coremu_xmon *x, struct coremu_xmon_local *mon, void *p,
                                 uint64_t pa, uint64_t delta)
{
    return coremu_atomic_fetch_op(p, 8, COREMU_ATOMIC_ADD, delta);
}

static const struct coremu_atomic_helper unit_helpers[] = {
    {"fetch-add", 8, fetch_add_helper},
};
static const struct coremu_atomic_table unit_table = {"unit", unit_helpers, 1};
static const struct coremu_atomic_table unit_table_again = {"unit", unit_helpers, 1};
static const struct coremu_atomic_table other_table = {"other", unit_helpers, 1};

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

    /* The registered helper is usable through the table, as the torture test would use it. */
    const struct coremu_atomic_table *t = coremu_atomic_lookup("unit");
    struct coremu_torture_result r;
    rc = coremu_atomic_torture(&t->helpers[0], COREMU_XMON_EXACT, 2, 1000, &r);
    UNIT_CHECK(rc == 0 && r.observed == 2000, "registry helper torture",
               "rc=%d observed %llu expected %llu", rc, (unsigned long long)r.observed,
               (unsigned long long)r.expected);
}

int main(void)
{
    test_load_store();
    test_cas();
    test_fetch_op();
    test_cas16();
    test_registry();
    test_cas_contention();
    return unit_done();
}
