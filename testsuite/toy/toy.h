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
 *   0c 0s        INC [rs]        atomic 64-bit increment of memory (the table's fetch_op)
 *   0d rd i16    MOVW rd, i16    rd = i16 (zero-extended)
 *   0e           YIELD           spin-wait hint (coremu_cpu_relax)
 *   0f ds 0z     LDX rd, [rs], z load-exclusive of z bytes (1, 2, 4, 8; zero-extended)
 *   10 ds tz     STX rd, rt, [rs], z  store-exclusive of rt's low z bytes: rd = 0 when it
 *                                stored, 1 when it failed (as ARM's STREX)
 *   11           CLRX            drops this core's reservation
 *   12 ds tz     SWP rd, rt, [rs], z  atomic exchange: rd = the old z bytes, which get rt's
 *                                low z bytes
 *   other        UNDEFINED       the core records it and powers off (so does a bad z, and
 *                                any memory access outside RAM or not naturally aligned)
 *
 * Stores are checked against the engine's code pages after they are made (the toy has no TLB:
 * every store takes what is ARM's slow path), so code written by any core is seen at the next
 * block boundary of every core that translated it, with no maintenance instruction.
 *
 * Atomics: the handlers of INC, LDX, STX, CLRX and SWP make one indirect call each through the
 * core's atomic table (toy_atomic_table, over the runtime's exclusive monitor, exact mode unless
 * the machine asks for value mode), as ARM's do. Plain stores to a page the monitor watches go
 * through coremu_xmon_store, so a plain store by another core between LDX and STX makes the STX
 * fail even when it stored the same value; the monitor's watch callback stops the world, which
 * lets every store that checked the page before it was watched finish first (the toy's
 * equivalent of ARM dropping the page's TLB write entries). A table function that faults marks
 * the core and returns; its handler then ends the core as UNDEFINED.
 *
 * toy_asm.h assembles this instruction set; toy_torture_guest runs the runtime's generic atomic
 * torture test (coremu_atomic_torture_guest) on toy cores through these instructions.
 */
#ifndef COREMU_TOY_H
#define COREMU_TOY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pthread.h>

#include <coremu/atomic.h>
#include <coremu/cpu.h>
#include <coremu/tb.h>

#define TOY_RAM_SIZE (1u << 20)
/* Where the RAM sits in the physical address space: high in 52 bits, so that the engine's
 * code-page table is exercised where an x86_64 guest's RAM may be. */
#define TOY_PHYS_BASE 0xffff000000000ull
#define TOY_PENDING_MAINT COREMU_PENDING_ARCH0

/* Opcodes: the decoder's table (toy.c) and the assembler (toy_asm.h) index by them. */
enum toy_opcode {
    TOY_HALT = 0x00, TOY_MOVI = 0x01, TOY_ADD = 0x02, TOY_ADDI = 0x03, TOY_LD = 0x04,
    TOY_ST = 0x05, TOY_JMP = 0x06, TOY_BNZ = 0x07, TOY_JR = 0x08, TOY_STB = 0x09,
    TOY_TLBI = 0x0a, TOY_STOPW = 0x0b, TOY_INC = 0x0c, TOY_MOVW = 0x0d, TOY_YIELD = 0x0e,
    TOY_LDX = 0x0f, TOY_STX = 0x10, TOY_CLRX = 0x11, TOY_SWP = 0x12,
};

struct toy_cpu;
struct toy_uop;

typedef bool (*toy_fn)(struct toy_cpu *cpu, const struct toy_uop *op); /* true: branched */
typedef const struct toy_uop *(*toy_tfn)(struct toy_cpu *cpu, const struct toy_uop *op);

struct toy_uop {
    COREMU_UOP_HEADER(toy_tfn);
    uint8_t rd, rs, rt;
    uint8_t size;                  /* LDX, STX, SWP: access size in bytes */
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
    struct coremu_xmon *xmon;      /* the exclusive monitor over ram */
    _Atomic uint64_t stops;        /* STOPW stop-the-world callbacks run */
    _Atomic unsigned undefined;    /* cores that hit an undefined opcode or faulted */
    _Atomic unsigned tlb_flushes;  /* TLB flushes performed, posted or local */
    /* A run (toy_machine_run_cores): cores that left their loop since it began. */
    pthread_mutex_t run_lock;
    pthread_cond_t run_cond;
    unsigned run_done;             /* under run_lock */
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
    uint64_t stx_failed;           /* STX that failed: evidence of contention */
    uint64_t lookups;              /* blocks the loop looked up (not entered by chaining) */
    bool leave;
    bool faulted;                  /* set by an atomic-table function: bad address */
    const struct coremu_atomic_table *atomic; /* immutable: &toy_atomic_table */
    struct coremu_xmon_local xmon; /* this core's reservation */
};

/* The toy's atomic table: LL/SC and swap of 1, 2, 4, 8 bytes, fetch-and-op of 8 (INC). */
extern const struct coremu_atomic_table toy_atomic_table;

/* A machine of ncpus toy cores (not started), its monitor in exact mode. NULL when out of
 * memory. */
struct toy_machine *toy_machine_new(unsigned ncpus);
/* The same with the monitor in the given mode. */
struct toy_machine *toy_machine_new_xmon(unsigned ncpus, enum coremu_xmon_mode mode);
void toy_machine_free(struct toy_machine *m);
/* Starts the core threads (once), powers on cores 0..k-1 at entry (core i gets r0 = i) and
 * waits until each of them halted (then they are off, and the machine can run again) or
 * timeout_s passed (then the machine is told to exit and cannot run again). Returns 0 when all
 * halted, -1 on timeout, start failure or a bad k. */
int toy_machine_run_cores(struct toy_machine *m, uint64_t entry, unsigned k, unsigned timeout_s);
/* toy_machine_run_cores on every core. */
int toy_machine_run(struct toy_machine *m, uint64_t entry, unsigned timeout_s);

/* The toy's side of the generic torture test in guest-instruction mode: emitters of toy code and
 * a runner on m's cores (toy_torture.c). area_va (COREMU_TORTURE_AREA bytes, aligned, zero) and
 * [code_va, code_va + code_size) must be RAM on different pages. exact says what the torture is
 * told about the monitor (a test presents a value-mode monitor as exact to see it caught). */
void toy_torture_guest(struct coremu_torture_guest *g, struct toy_machine *m, uint64_t area_va,
                       uint64_t code_va, size_t code_size, bool exact);

#endif /* COREMU_TOY_H */
