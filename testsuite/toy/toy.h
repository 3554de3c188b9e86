/*
 * toy — a test-only guest architecture for the translation-block engine (lib/tb.c).
 *
 * It is the engine's second user: it plugs in through struct coremu_tb_ops exactly as ARM does,
 * so the engine's own tests (test-engine.c) exercise block building, chaining, the jump cache,
 * invalidation of code that another core rewrites, maintenance broadcast to many cores and
 * stop-the-world without any ARM in the way, and the interface cannot quietly grow an ARM
 * assumption.
 *
 * The machine: 64-bit registers r0..r7, TOY_RAM_SIZE bytes of memory at virtual address 0
 * (physical TOY_PHYS_BASE: no MMU, a fixed offset), code anywhere in it. Instructions are 1 to
 * 4 bytes long (so that blocks end at arbitrary byte offsets and instructions cross pages),
 * little-endian, opcode first:
 *
 *   00           HALT            the core powers itself off
 *   01 rd i8     MOVI rd, i8     rd = i8 (zero-extended)
 *   02 ds        ADD rd, rs      rd += rs (d: high nibble, s: low nibble)
 *   03 rd s8     ADDI rd, s8     rd += s8 (sign-extended)
 *   04 ds        LD rd, [rs]     rd = 64-bit load (relaxed atomic, 8-aligned)
 *   05 ds        ST rd, [rs]     64-bit store of rd
 *   06 rel16     JMP rel16       pc = next + rel16 (ends the block)
 *   07 rd s8     BNZ rd, s8      if rd != 0: pc = next + s8 (ends the block)
 *   08 0s        JR rs           pc = rs (ends the block; its successor varies)
 *   09 ds        STB rd, [rs]    stores the low byte of rd
 *   0a           TLBI            broadcasts a TLB flush to every core and waits for it
 *   0b           STOPW           stops the world, counts the stop, resumes
 *   0c 0s        INC [rs]        atomic 64-bit increment of memory
 *   0d rd i16    MOVW rd, i16    rd = i16 (zero-extended)
 *   0e           YIELD           spin-wait hint (coremu_cpu_relax)
 *   other        UNDEFINED       the core records it and powers off
 *
 * Stores are checked against the engine's code pages after they are made (the toy has no TLB:
 * every store takes what is ARM's slow path), so code written by any core is seen at the next
 * block boundary of every core that translated it, with no maintenance instruction.
 */
#ifndef COREMU_TOY_H
#define COREMU_TOY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <coremu/cpu.h>
#include <coremu/tb.h>

#define TOY_RAM_SIZE (1u << 20)
/* Where the RAM sits in the physical address space: high in 52 bits, so that the engine's
 * code-page table is exercised where an x86_64 guest's RAM may be. */
#define TOY_PHYS_BASE 0xffff000000000ull
#define TOY_PENDING_MAINT COREMU_PENDING_ARCH0

struct toy_cpu;
struct toy_uop;

typedef bool (*toy_fn)(struct toy_cpu *cpu, const struct toy_uop *op); /* true: branched */
typedef const struct toy_uop *(*toy_tfn)(struct toy_cpu *cpu, const struct toy_uop *op);

struct toy_uop {
    COREMU_UOP_HEADER(toy_tfn);
    uint8_t rd, rs;
    toy_fn fn;
    int64_t imm;
};

/* The machine the toy cores share. */
struct toy_machine {
    struct coremu_machine *rt;
    struct coremu_tb_engine *engine;
    struct toy_cpu **cpus;
    unsigned ncpus;
    uint8_t *ram;                  /* TOY_RAM_SIZE bytes; guest accesses are relaxed atomics */
    _Atomic unsigned halted;       /* cores that executed HALT (or UNDEFINED) */
    _Atomic uint64_t stops;        /* STOPW stop-the-world callbacks run */
    _Atomic unsigned undefined;    /* cores that hit an undefined opcode */
    _Atomic unsigned tlb_flushes;  /* TLB flushes performed, posted or local */
};

struct toy_cpu {
    struct toy_machine *m;         /* immutable */
    struct coremu_cpu *rt;         /* immutable */
    struct coremu_tb_cpu tb;
    /* Owner-private. */
    uint64_t r[8];
    uint64_t pc;                   /* of the current block, between blocks */
    uint64_t next_pc;              /* written by branches and the sentinel */
    uint64_t insns;
    uint64_t lookups;              /* blocks the loop looked up (not entered by chaining) */
    bool leave;
};

/* A machine of ncpus toy cores (not started). NULL when out of memory. */
struct toy_machine *toy_machine_new(unsigned ncpus);
void toy_machine_free(struct toy_machine *m);
/* Starts the core threads, powers on every core at entry (core i gets r0 = i), waits until
 * every core halted or timeout_s passed (then the machine is told to exit). Returns 0 when all
 * halted, -1 on timeout or start failure. */
int toy_machine_run(struct toy_machine *m, uint64_t entry, unsigned timeout_s);

#endif /* COREMU_TOY_H */
