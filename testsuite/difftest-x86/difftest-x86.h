/*
 * The x86_64 differential tester (testsuite/difftest-x86/README.md): what the generator
 * (gen.c), the native runner (native.c) and the driver (difftest.c) share.
 *
 * The guest's address space is the same on both sides: the sequence's code on two pages at
 * DT_CODE_BASE (the second sometimes absent), DT_DATA_PAGES writable data pages at
 * DT_DATA_BASE (the stack is in the last of them), and nothing mapped on the page before the
 * data or on the page after it (the guard pages that the deliberately faulting accesses
 * touch).
 */
#ifndef COREMU_DIFFTEST_X86_H
#define COREMU_DIFFTEST_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user.h"

#define DT_PAGE       4096u
#define DT_CODE_BASE  UINT64_C(0x10000000)
#define DT_CODE_SIZE  (2 * DT_PAGE) /* a sequence may run from the first page into the second */
#define DT_DATA_BASE  UINT64_C(0x20000000)
#define DT_DATA_PAGES 4u
#define DT_DATA_SIZE  (DT_DATA_PAGES * DT_PAGE)
#define DT_DATA_END   (DT_DATA_BASE + DT_DATA_SIZE)
/* Where RSP starts (give or take a few bytes): the middle of the last data page, so that the
 * pushes and pops of a sequence stay on it. */
#define DT_STACK_TOP (DT_DATA_END - DT_PAGE / 2)

/* The code modes (--mode): 64-bit, and compatibility mode with Linux's 32-bit user code
 * segment (0x23) or a 16-bit LDT code segment (D = 0). */
enum dt_mode {
    DT_MODE_64,
    DT_MODE_32,
    DT_MODE_16,
};
/* 16-bit code: CS is an LDT code segment based at DT_CODE_BASE (IP is the offset into the
 * code pages), SS, DS and ES one LDT data segment based a page below the data, so that the
 * guard pages and the data are all within 16-bit offsets: [0, 0x1000) the guard page before
 * the data, then the data, then the guard page after it. Both limits are 0xffff. */
#define DT_DATA16_BASE (DT_DATA_BASE - DT_PAGE)
#define DT_SEG16_LIMIT 0xffffu
/* The native side's trampolines to and from compatibility mode (below 4 GiB, as a far jump's
 * 32-bit offset must be). */
#define DT_TRAMP_BASE UINT64_C(0x30000000)
/* The LDT selectors (TI = 1, RPL 3) of the 16-bit code segment, the entry trampoline's 16-bit
 * code segment and the 16-bit data segment. */
#define DT_SEL_CODE16  ((0u << 3) | 7u)
#define DT_SEL_TRAMP16 ((1u << 3) | 7u)
#define DT_SEL_DATA16  ((2u << 3) | 7u)
/* The LDT of every native child (native.c installs it with modify_ldt(2), difftest.c gives
 * coremu the same): entry i is selector i * 8 + 4 + RPL, present, DPL 3, byte-granular, 16-bit
 * (D/B = 0), execute/read code or read/write data. */
struct dt_ldt_entry {
    uint32_t base, limit;
    bool code;
};
#define DT_LDT_ENTRIES 3
static const struct dt_ldt_entry dt_ldt[DT_LDT_ENTRIES] = {
    {(uint32_t)DT_CODE_BASE, DT_SEG16_LIMIT, true},    /* DT_SEL_CODE16 */
    {(uint32_t)DT_TRAMP_BASE, DT_PAGE - 1, true},      /* DT_SEL_TRAMP16 */
    {(uint32_t)DT_DATA16_BASE, DT_SEG16_LIMIT, false}, /* DT_SEL_DATA16 */
};
/* Linux's user selectors. */
#define DT_SEL_USER32_CS 0x23u
#define DT_SEL_USER_DS   0x2bu

/* Room for the sequence plus the native side's jump back to the harness. */
#define DT_CODE_MAX  3072u
#define DT_MAX_INSNS 256u
#define DT_MAX_UNITS 64u

/* Template groups, selectable with --groups. */
enum {
    DT_GROUP_GP = 1u << 0,
    DT_GROUP_STRING = 1u << 1,
    DT_GROUP_X87 = 1u << 2,
    DT_GROUP_SSE = 1u << 3, /* SSE..SSE4.2 and MMX */
};

/* Flag bits tracked by the generator: RFLAGS' arithmetic flags and DF at their RFLAGS
 * positions, and the x87 condition codes C0..C3 (FSW bits 8, 9, 10, 14) moved to bits 16..19
 * so that one mask holds both. */
enum {
    DT_CF = 1u << 0,
    DT_PF = 1u << 2,
    DT_AF = 1u << 4,
    DT_ZF = 1u << 6,
    DT_SF = 1u << 7,
    DT_DF = 1u << 10,
    DT_OF = 1u << 11,
    DT_ARITH = DT_CF | DT_PF | DT_AF | DT_ZF | DT_SF | DT_OF,
    DT_RFLAGS_COMPARED = DT_ARITH | DT_DF,
    DT_C0 = 1u << 16,
    DT_C1 = 1u << 17,
    DT_C2 = 1u << 18,
    DT_C3 = 1u << 19,
    DT_FPU_CC = DT_C0 | DT_C1 | DT_C2 | DT_C3,
};

enum {
    DT_MAY_PF = 1,   /* an access to a guard page */
    DT_MAY_DE = 2,   /* DIV, IDIV */
    DT_MAY_GP = 4,   /* a misaligned 16-byte SSE operand, a non-canonical address */
    DT_MAY_SS = 8,   /* a non-canonical address based on RSP or RBP */
    DT_MAY_MF = 16,  /* an x87 exception unmasked in the initial FCW */
    DT_MAY_XM = 32,  /* an SIMD exception unmasked in the initial MXCSR */
    DT_MAY_UD = 64,  /* UD2, LOCK with a register destination */
    DT_MAY_BR = 128, /* BOUND out of range (32- and 16-bit code) */
};

/* Host CPU features that decide which templates may be generated. */
struct dt_host_features {
    bool popcnt, lzcnt, bmi1, movbe, sse3, ssse3, sse41, sse42, cx16;
    bool fsgsbase; /* WRGSBASE usable: sequences get a GS base and GS-relative operands */
    bool ldt;      /* the kernel lets the child have dt_ldt (segment loads of its selectors) */
};

/* One generated sequence with everything needed to run it from the same state twice. */
struct dt_seq {
    uint64_t index; /* its number in the seeded stream */
    enum dt_mode mode;
    uint8_t code[DT_CODE_MAX];
    unsigned len;            /* bytes of the sequence; it runs from dt_seq_start() for len bytes */
    unsigned code_off;       /* where it starts in the code pages (near the end of the first, so
                              * that an instruction straddles the two, for some sequences) */
    bool second_page_absent; /* the second code page is not mapped: fetching from it faults */
    unsigned ninsns;
    uint16_t insn_off[DT_MAX_INSNS + 1];
    /* Flags (DT_* bits) whose value the SDM leaves undefined, as they stand before each
     * instruction; undef[ninsns] is the mask at the end of the sequence. */
    uint32_t undef[DT_MAX_INSNS + 1];
    /* The faults the generator meant each instruction to be able to raise (DT_MAY_*): any
     * other native fault is a bug of the generator or of the harness. */
    uint8_t may_fault[DT_MAX_INSNS + 1];
    /* 1 for the instructions a forward branch may jump over: a run that stops right before one
     * of them is not a prefix of the sequence (the branch may leave it). */
    uint8_t skippable[DT_MAX_INSNS + 1];
    struct x86_user_state init;
    uint8_t data[DT_DATA_SIZE];
};

/* The instruction pointer (RIP, EIP or IP: an offset in the code segment) of code offset off:
 * 16-bit code runs in a segment based at DT_CODE_BASE, the others in flat ones. */
static inline uint64_t dt_ip_of(const struct dt_seq *seq, unsigned off)
{
    return (seq->mode == DT_MODE_16 ? 0 : DT_CODE_BASE) + off;
}

/* The linear address of instruction pointer ip. */
static inline uint64_t dt_linear_of_ip(const struct dt_seq *seq, uint64_t ip)
{
    return (seq->mode == DT_MODE_16 ? DT_CODE_BASE : 0) + ip;
}

static inline uint64_t dt_seq_start(const struct dt_seq *seq)
{
    return dt_ip_of(seq, seq->code_off);
}

static inline uint64_t dt_seq_end(const struct dt_seq *seq)
{
    return dt_ip_of(seq, seq->code_off + seq->len);
}

enum dt_stop {
    DT_STOP_END,   /* reached the end of the sequence */
    DT_STOP_FAULT, /* an exception: vector, error code, cr2 */
    DT_STOP_OTHER, /* the emulator stopped otherwise, or the native child died (text in why) */
};

/* state.rip is the instruction pointer as the CPU has it (an offset in the code segment). */
struct dt_result {
    enum dt_stop stop;
    unsigned vector;
    uint32_t error_code;
    uint64_t cr2;
    char why[128];
    struct x86_user_state state;
    uint8_t data[DT_DATA_SIZE];
};

/* gen.c */
struct dt_gen_config {
    uint64_t seed;
    unsigned groups;
    unsigned max_units; /* templates per sequence, 1..DT_MAX_UNITS */
    enum dt_mode mode;
    struct dt_host_features host;
};
void dt_host_features_detect(struct dt_host_features *host);
void dt_generate(const struct dt_gen_config *config, uint64_t index, struct dt_seq *seq);
/* The instruction index whose first byte is at rip, or -1. */
int dt_insn_at(const struct dt_seq *seq, uint64_t rip);

/* native.c: runs seqs[0..n) on the host in a child process (one fork per call, another after a
 * child dies); every result is filled, a child that dies leaves a DT_STOP_OTHER result saying
 * so for the sequence it died in. Returns false only when no child could be started or set
 * up (message on stderr). */
bool dt_native_run_batch(const struct dt_seq *seqs, unsigned n, struct dt_result *results);
/* The same process machinery for any runner (the driver runs coremu's side in one too, so that
 * a crash of the CPU under test is a reported mismatch of one sequence, not the end of the
 * run): setup (may be NULL) once per child, run for each sequence; who names the side. */
bool dt_run_batch_forked(const struct dt_seq *seqs, unsigned n, struct dt_result *results,
                         void (*setup)(void),
                         void (*run)(const struct dt_seq *seq, struct dt_result *res),
                         const char *who);
bool dt_vector_has_error_code(unsigned vector);
/* native.c: whether the host can run 16-bit code (modify_ldt(2)); false with a reason. */
bool dt_native_mode_supported(enum dt_mode mode, char *why, size_t cap);

#endif /* COREMU_DIFFTEST_X86_H */
