/*
 * The runtime's generic atomic torture test (lib/torture.c) on the toy architecture: in
 * guest-instruction mode, where toy cores run LDX / STX / SWP / ST code through the engine and
 * the toy's atomic table, on 8 and 64 cores; with a value-comparing monitor presented as exact,
 * which the torture must catch (ABA); and in table mode over the toy's table. Also the toy's
 * own rules for its atomic instructions (bad sizes and addresses are UNDEFINED).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <coremu/atomic.h>

#include "../unit/unit.h"
#include "toy.h"
#include "toy_asm.h"

#define AREA_VA   0x8000u
#define CODE_VA   0xa000u
#define CODE_SIZE 0x4000u

static struct toy_machine *machine(unsigned ncpus, enum coremu_xmon_mode mode, const char *name)
{
    struct toy_machine *m = toy_machine_new_xmon(ncpus, mode);
    UNIT_REQUIRE(m != NULL, name, "cannot create a toy machine of %u cores", ncpus);
    return m;
}

static void report(const char *name, const struct coremu_torture_result *r)
{
    printf("  %s: %u checks, %u failed, %.3f s%s%s\n", name, r->checks, r->failures, r->seconds,
           r->failures ? ": " : "", r->first_failure);
}

/* Every check passes on an exact monitor, and each final count is exact. */
static void test_guest_exact(unsigned ncpus, uint64_t iterations)
{
    char name[96];
    snprintf(name, sizeof(name), "guest-mode torture, %u toy cores, exact monitor", ncpus);
    struct toy_machine *m = machine(ncpus, COREMU_XMON_EXACT, name);
    struct coremu_torture_guest g;
    struct coremu_torture_result r;

    toy_torture_guest(&g, m, AREA_VA, CODE_VA, CODE_SIZE, true);
    int rc = coremu_atomic_torture_guest(&g, iterations, &r);
    report(name, &r);
    uint64_t stx_failed = 0;
    for (unsigned i = 0; i < ncpus; i++) {
        stx_failed += m->cpus[i]->stx_failed;
    }
    printf("  %llu STX failed on the way (contention between the cores' loops)\n",
           (unsigned long long)stx_failed);
    /* 12 same-value probes and 1 other-value probe (3 checks each), 4 add loops. */
    UNIT_CHECK(rc == 0 && r.failures == 0 && r.checks == 13 * 3 + 4, name,
               "rc %d, %u checks, first failure: %s (expected %llu, found %llu)", rc, r.checks,
               r.first_failure, (unsigned long long)r.expected, (unsigned long long)r.observed);
    UNIT_CHECK(atomic_load(&m->undefined) == 0, "no toy core faulted", "%u did",
               atomic_load(&m->undefined));
    toy_machine_free(m);
}

/* A value-comparing monitor is honest about itself: the other-value probes and the counts
 * pass. */
static void test_guest_value_mode(void)
{
    const char *name = "guest-mode torture, value monitor presented as value";
    struct toy_machine *m = machine(4, COREMU_XMON_VALUE, name);
    struct coremu_torture_guest g;
    struct coremu_torture_result r;

    toy_torture_guest(&g, m, AREA_VA, CODE_VA, CODE_SIZE, false);
    int rc = coremu_atomic_torture_guest(&g, 500, &r);
    report(name, &r);
    UNIT_CHECK(rc == 0 && r.failures == 0 && r.checks == 12 * 3 + 4, name,
               "rc %d, %u checks, first failure: %s", rc, r.checks, r.first_failure);
    toy_machine_free(m);
}

/* The negative test: a value-comparing monitor claimed to be exact misses the same-value store
 * between LDX and STX, and the torture must say so. */
static void test_guest_catches_aba(void)
{
    const char *name = "guest-mode torture catches a value monitor presented as exact";
    struct toy_machine *m = machine(4, COREMU_XMON_VALUE, name);
    struct coremu_torture_guest g;
    struct coremu_torture_result r;

    toy_torture_guest(&g, m, AREA_VA, CODE_VA, CODE_SIZE, true);
    int rc = coremu_atomic_torture_guest(&g, 500, &r);
    report(name, &r);
    UNIT_CHECK(rc == -1 && r.failures > 0 && strstr(r.first_failure, "ABA") != NULL &&
                   r.expected == 1 && r.observed == 0,
               name, "rc %d, %u failures, first: '%s' (want the ABA probe's SC to succeed)", rc,
               r.failures, r.first_failure);
    toy_machine_free(m);
}

/* Table mode over the toy's own table, from host threads (the machine never runs). */
static void test_table_mode(void)
{
    const char *name = "table-mode torture over the toy's atomic table";
    struct toy_machine *m = machine(4, COREMU_XMON_EXACT, name);
    struct coremu_torture_env env = {(void *const *)m->cpus, m->ncpus, AREA_VA, true};
    struct coremu_torture_result r;

    int rc = coremu_atomic_torture(&toy_atomic_table, &env, 2000, &r);
    report(name, &r);
    UNIT_CHECK(rc == 0 && r.failures == 0, name, "rc %d, first failure: %s", rc, r.first_failure);
    toy_machine_free(m);
}

/* Bad sizes, unaligned and out-of-RAM exclusives end the core as UNDEFINED; a good LDX/STX pair
 * stores and reports 0, a second STX reports 1, CLRX kills a reservation, SWP returns the old
 * value. */
static void test_instruction_rules(void)
{
    const char *name = "toy atomic instructions";
    struct toy_machine *m = machine(1, COREMU_XMON_EXACT, name);
    struct asm_buf a = {m->ram, 0x1000};

    MOVW(&a, 5, 0x2000);
    MOVI(&a, 1, 0x41);
    ST(&a, 1, 5);
    LDX(&a, 2, 5, 2); /* r2 = 0x41 */
    MOVW(&a, 3, 0x1234);
    STX(&a, 4, 3, 5, 2); /* r4 = 0, memory 0x1234 */
    STX(&a, 6, 3, 5, 2); /* r6 = 1: no reservation */
    LDX(&a, 7, 5, 2);
    CLRX(&a);
    STX(&a, 7, 3, 5, 2); /* r7 = 1 */
    MOVI(&a, 1, 0x77);
    SWP(&a, 1, 1, 5, 1); /* r1 = 0x34, byte = 0x77 */
    HALT(&a);
    UNIT_REQUIRE(!a.failed, "assembler", "rules code does not fit");
    int rc = toy_machine_run(m, 0x1000, 30);
    struct toy_cpu *c = m->cpus[0];
    uint64_t mem;
    memcpy(&mem, m->ram + 0x2000, sizeof(mem));
    UNIT_CHECK(rc == 0 && c->r[2] == 0x41 && c->r[4] == 0 && c->r[6] == 1 && c->r[7] == 1 &&
                   c->r[1] == 0x34 && mem == 0x1277,
               name, "rc %d, r2 %#llx r4 %llu r6 %llu r7 %llu r1 %#llx, memory %#llx", rc,
               (unsigned long long)c->r[2], (unsigned long long)c->r[4],
               (unsigned long long)c->r[6], (unsigned long long)c->r[7],
               (unsigned long long)c->r[1], (unsigned long long)mem);

    /* Each of these ends the core as UNDEFINED. */
    static const uint8_t bad[][4] = {
        {TOY_LDX, 0x15, 3},        /* size 3 */
        {TOY_STX, 0x15, 0x20},     /* size 0 */
        {TOY_SWP, 0x15, 0x10 | 9}, /* size 9 */
        {TOY_LDX, 0x16, 4},        /* r6 = 0x2002: not 4-aligned */
        {TOY_STX, 0x17, 0x11},     /* r7 = TOY_RAM_SIZE: outside RAM */
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct asm_buf b = {m->ram, 0x3000};
        MOVW(&b, 5, 0x2000);
        MOVW(&b, 6, 0x2002);
        MOVW(&b, 7, 0xffff);
        ADDI(&b, 7, 1);
        for (unsigned j = 0; j < 4; j++) {
            ADD(&b, 7, 7); /* 0x10000 << 4 = TOY_RAM_SIZE */
        }
        emit(&b, bad[i], 3);
        MOVI(&b, 1, 0x99); /* not reached */
        HALT(&b);
        unsigned before = atomic_load(&m->undefined);
        c->r[1] = 0;
        rc = toy_machine_run(m, 0x3000, 30);
        UNIT_CHECK(rc == 0 && atomic_load(&m->undefined) == before + 1 && c->r[1] != 0x99,
                   "bad atomic instruction is UNDEFINED", "case %u: rc %d, undefined %u -> %u", i,
                   rc, before, atomic_load(&m->undefined));
    }
    toy_machine_free(m);
}

int main(void)
{
    test_instruction_rules();
    test_table_mode();
    test_guest_exact(8, 2000);
    test_guest_exact(64, 200);
    test_guest_value_mode();
    test_guest_catches_aba();
    return unit_done();
}
