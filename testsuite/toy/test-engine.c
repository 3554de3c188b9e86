/*
 * Unit tests of the translation-block engine (lib/tb.c), driven by the toy architecture
 * (toy.h): block building and chaining, the jump cache, instructions that cross pages, code
 * rewritten by the core itself and by another core, maintenance broadcast and stop-the-world
 * with 256 cores.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "../unit/unit.h"
#include "toy.h"
#include "toy_asm.h"

/* Every core adds one to the counter at addr (r5, r4 clobbered) and spins until all ncpus
 * did, so that what follows runs on every core at once rather than one core after another. */
static void barrier(struct asm_buf *a, uint16_t addr, unsigned ncpus)
{
    MOVW(a, 5, addr);
    INC(a, 5);
    uint64_t wait = YIELD(a);
    LD(a, 4, 5);
    for (unsigned left = ncpus; left > 0;) {
        unsigned step = left > 128 ? 128 : left;
        ADDI(a, 4, (int8_t)-(int)step);
        left -= step;
    }
    BNZ(a, 4, wait);
}

/* Runs code assembled in a, once the assembler says it is complete. */
static int run(struct toy_machine *m, const struct asm_buf *a, uint64_t entry, unsigned timeout_s)
{
    UNIT_REQUIRE(!a->failed, "assembler", "code at %#llx does not fit or branches too far",
                 (unsigned long long)entry);
    return toy_machine_run(m, entry, timeout_s);
}

static struct toy_machine *machine(unsigned ncpus, const char *name)
{
    struct toy_machine *m = toy_machine_new(ncpus);
    UNIT_REQUIRE(m != NULL, name, "cannot create a toy machine of %u cores", ncpus);
    return m;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* A counted loop: its blocks are built once, and the loop's back edge is followed by chaining
 * (the block loop looks up far fewer blocks than run). */
static void test_blocks_and_chaining(void)
{
    const char *name = "a loop is built once and runs chained";
    struct toy_machine *m = machine(1, name);
    struct asm_buf a = {m->ram, 0x1000};

    MOVW(&a, 1, 1000);
    uint64_t loop = ADDI(&a, 2, 1);
    ADDI(&a, 1, -1);
    BNZ(&a, 1, loop);
    HALT(&a);
    int rc = run(m, &a, 0x1000, 30);
    struct toy_cpu *c = m->cpus[0];

    UNIT_CHECK(rc == 0 && c->r[2] == 1000, "loop result", "rc %d, r2 = %llu (want 1000)", rc,
               (unsigned long long)c->r[2]);
    UNIT_CHECK(c->tb.blocks_built == 3, "loop blocks built once",
               "%llu blocks built (want 3: entry, loop body, HALT)",
               (unsigned long long)c->tb.blocks_built);
    UNIT_CHECK(c->insns == 1 + 3 * 1000 + 1, "instructions counted through chains",
               "%llu instructions", (unsigned long long)c->insns);
    UNIT_CHECK(c->lookups < 1000 / COREMU_TB_CHAIN_MAX + 20, name,
               "%llu lookups for 1000 iterations: blocks do not chain",
               (unsigned long long)c->lookups);
    toy_machine_free(m);
}

/* An indirect jump whose target alternates: the exit's single chain slot misses every time, and
 * the jump cache finds the block without a lookup in the loop. */
static void test_jump_cache(void)
{
    const char *name = "indirect exits use the jump cache";
    struct toy_machine *m = machine(1, name);
    struct asm_buf a = {m->ram, 0x2000};

    MOVW(&a, 3, 1000);
    MOVW(&a, 4, 0x2100);
    uint64_t loop = JR(&a, 4);
    uint64_t cont = ADDI(&a, 3, -1);
    BNZ(&a, 3, loop);
    HALT(&a);
    a.at = 0x2100;
    MOVW(&a, 4, 0x2200);
    ADDI(&a, 5, 1);
    uint64_t to_cont_a = JMP(&a, 0);
    a.at = 0x2200;
    MOVW(&a, 4, 0x2100);
    ADDI(&a, 6, 1);
    uint64_t to_cont_b = JMP(&a, 0);
    patch_branch(&a, to_cont_a, cont);
    patch_branch(&a, to_cont_b, cont);
    int rc = run(m, &a, 0x2000, 30);
    struct toy_cpu *c = m->cpus[0];

    UNIT_CHECK(rc == 0 && c->r[5] == 500 && c->r[6] == 500, "alternating targets",
               "rc %d, r5 %llu r6 %llu (want 500 each)", rc, (unsigned long long)c->r[5],
               (unsigned long long)c->r[6]);
    UNIT_CHECK(c->tb.blocks_built <= 6, "alternating targets built once", "%llu blocks built",
               (unsigned long long)c->tb.blocks_built);
    UNIT_CHECK(c->lookups < 3000 / COREMU_TB_CHAIN_MAX + 50, name,
               "%llu lookups for 3000 block boundaries", (unsigned long long)c->lookups);
    toy_machine_free(m);
}

/* An instruction that starts at the last two bytes of a page: it runs alone in its block, and
 * rewriting its part on the second page is seen. */
static void test_page_crossing(void)
{
    const char *name = "an instruction across two pages";
    struct toy_machine *m = machine(1, name);
    struct asm_buf a = {m->ram, 0x3ff8};

    MOVI(&a, 7, 2);               /* r7 counts passes */
    uint64_t pass = MOVI(&a, 2, 0);
    uint64_t movw = MOVW(&a, 1, 0x1234); /* bytes 3ffe..4001 */
    ADD(&a, 2, 1);
    /* First pass: rewrite the immediate's high byte (on the second page), go again. */
    MOVW(&a, 3, (uint16_t)(movw + 3));
    MOVI(&a, 4, 0x56);
    STB(&a, 4, 3);
    ADDI(&a, 7, -1);
    BNZ(&a, 7, pass);
    HALT(&a);
    int rc = run(m, &a, 0x3ff8, 30);
    struct toy_cpu *c = m->cpus[0];

    UNIT_CHECK(rc == 0 && c->r[1] == 0x5634 && c->r[2] == 0x5634, name,
               "rc %d, r1 %#llx r2 %#llx (want 0x5634: the rewritten second page)", rc,
               (unsigned long long)c->r[1], (unsigned long long)c->r[2]);
    toy_machine_free(m);
}

/* Code a core rewrites in a block it has already run, with no maintenance: the next pass runs
 * the new instruction. */
static void test_self_modifying(void)
{
    const char *name = "self-modifying code is seen at the next block";
    struct toy_machine *m = machine(1, name);
    struct asm_buf a = {m->ram, 0x5000};

    MOVI(&a, 7, 3);
    uint64_t top = MOVI(&a, 1, 0);
    uint64_t imm = top + 2;
    ADD(&a, 2, 1);                /* r2 += 0, then 9, then 9 */
    MOVW(&a, 3, (uint16_t)imm);
    MOVI(&a, 4, 9);
    STB(&a, 4, 3);
    ADDI(&a, 7, -1);
    BNZ(&a, 7, top);
    HALT(&a);
    int rc = run(m, &a, 0x5000, 30);
    struct toy_cpu *c = m->cpus[0];

    UNIT_CHECK(rc == 0 && c->r[2] == 18, name, "rc %d, r2 %llu (want 0 + 9 + 9)", rc,
               (unsigned long long)c->r[2]);
    toy_machine_free(m);
}

/* Core 0 spins in a loop whose exit depends on an immediate in its own code; core 1 waits until
 * core 0 has run the loop (a flag core 0 stores), then rewrites the immediate. Core 0 must see
 * it: without invalidation across cores it spins until the watchdog. */
static void test_cross_modifying(void)
{
    const char *name = "code rewritten by another core is seen";
    struct toy_machine *m = machine(2, name);
    struct asm_buf a = {m->ram, 0x6000};
    const uint16_t flag = 0x8000; /* data on a page of its own */

    uint64_t to_core1 = BNZ(&a, 0, 0);
    /* core 0 */
    MOVW(&a, 5, flag);
    MOVI(&a, 6, 1);
    uint64_t spin = MOVI(&a, 1, 0);
    uint64_t imm = spin + 2;
    ST(&a, 6, 5);
    uint64_t to_done = BNZ(&a, 1, 0);
    JMP(&a, spin);
    uint64_t done = HALT(&a);
    patch_branch(&a, to_done, done);
    /* core 1 */
    uint64_t core1 = MOVW(&a, 5, flag);
    uint64_t wait = LD(&a, 4, 5);
    uint64_t to_go = BNZ(&a, 4, 0);
    JMP(&a, wait);
    uint64_t go = MOVW(&a, 2, (uint16_t)imm);
    MOVI(&a, 3, 1);
    STB(&a, 3, 2);
    HALT(&a);
    patch_branch(&a, to_go, go);
    patch_branch(&a, to_core1, core1);
    int rc = run(m, &a, 0x6000, 30);

    UNIT_CHECK(rc == 0 && m->cpus[0]->r[1] == 1, name, "rc %d (a timeout: core 0 never saw it)",
               rc);
    toy_machine_free(m);
}

/* Every one of 256 cores broadcasts TLB flushes and waits for all the others: no core limit on
 * the broadcast, and no deadlock between cores that wait for each other. */
static void test_maintenance_256(void)
{
    const char *name = "maintenance broadcast at 256 cores";
    const unsigned ncpus = 256, rounds = 3;
    struct toy_machine *m = machine(ncpus, name);
    struct asm_buf a = {m->ram, 0x7000};

    barrier(&a, 0xd000, ncpus);
    MOVI(&a, 1, (uint8_t)rounds);
    uint64_t loop = TLBI(&a);
    ADDI(&a, 1, -1);
    BNZ(&a, 1, loop);
    HALT(&a);
    int rc = run(m, &a, 0x7000, 300);
    unsigned flushes = atomic_load(&m->tlb_flushes);

    /* Each TLBI counts once where it runs; each core also counts the flushes posted to it
     * (coalesced, so at least one per core that was still running). */
    UNIT_CHECK(rc == 0 && atomic_load(&m->undefined) == 0, name, "rc %d", rc);
    UNIT_CHECK(flushes >= ncpus * rounds + 1, "posted flushes are applied",
               "%u flushes counted, want more than the %u local ones", flushes, ncpus * rounds);
    toy_machine_free(m);
}

/* Stop-the-world from every one of 256 running cores: each stop runs once, and every core
 * resumes. */
static void test_stop_world_256(void)
{
    const char *name = "stop-the-world from 256 cores";
    const unsigned ncpus = 256;
    struct toy_machine *m = machine(ncpus, name);
    struct asm_buf a = {m->ram, 0x9000};

    barrier(&a, 0xd000, ncpus);
    MOVI(&a, 1, 2);
    uint64_t loop = STOPW(&a);
    ADDI(&a, 1, -1);
    BNZ(&a, 1, loop);
    HALT(&a);
    int rc = run(m, &a, 0x9000, 300);

    UNIT_CHECK(rc == 0 && atomic_load(&m->stops) == 2 * ncpus, name,
               "rc %d, %llu stops (want %u)", rc, (unsigned long long)atomic_load(&m->stops),
               2 * ncpus);
    toy_machine_free(m);
}

/* Many cores increment one counter while translating the same code: the engine's shared
 * code-page table takes every core's mark, and stores to a data page do not disturb code. */
static void test_shared_code_64(void)
{
    const char *name = "64 cores run one translated loop";
    const unsigned ncpus = 64;
    struct toy_machine *m = machine(ncpus, name);
    struct asm_buf a = {m->ram, 0xa000};

    barrier(&a, 0xd000, ncpus);
    MOVW(&a, 5, 0xc000);
    MOVI(&a, 1, 100);
    uint64_t loop = INC(&a, 5);
    ADDI(&a, 1, -1);
    BNZ(&a, 1, loop);
    HALT(&a);
    int rc = run(m, &a, 0xa000, 300);
    uint64_t count;
    memcpy(&count, m->ram + 0xc000, sizeof(count));

    UNIT_CHECK(rc == 0 && count == 100ull * ncpus, name, "rc %d, count %llu (want %u)", rc,
               (unsigned long long)count, 100 * ncpus);
    toy_machine_free(m);
}

int main(void)
{
    test_blocks_and_chaining();
    test_jump_cache();
    test_page_crossing();
    test_self_modifying();
    test_cross_modifying();
    test_shared_code_64();
    test_maintenance_256();
    test_stop_world_256();
    return unit_done();
}
