/*
 * coremu x86_64 — running user-mode code on a CPU of its own, outside any machine: what the
 * differential tester (the host CPU as the oracle) and the CPU's unit tests drive.
 *
 * x86_user_run builds a private guest: the given mappings at the given virtual addresses (the
 * same addresses the host used, so that pointers in registers mean the same on both sides),
 * 4-level paging, a 64-bit code segment at CPL 3 (or a 32- or 16-bit one in compatibility
 * mode: x86_user_run_compat), and runs from state->rip until execution
 * reaches stop_rip, faults, or max_insns instructions have run. Memory of writable mappings is
 * copied back into the host buffers afterwards.
 */
#ifndef COREMU_X86_64_USER_H
#define COREMU_X86_64_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Architectural user-visible state, in the layouts the host's own instructions use. */
struct x86_user_state {
    uint64_t gpr[16]; /* RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 (encoding order) */
    uint64_t rip;
    uint64_t rflags;  /* CF PF AF ZF SF TF IF DF OF as the guest sees them (bit 1 reads 1) */
    uint64_t fs_base, gs_base;
    /* The FXSAVE image (Intel SDM Vol. 1 10.5.1): x87 control/status/abridged tag words,
     * last-instruction pointers, MXCSR, ST0-7 and XMM0-15. 16-byte aligned. */
    _Alignas(16) uint8_t fxsave[512];
};

struct x86_user_mapping {
    uint64_t vaddr; /* page aligned */
    size_t size;    /* a multiple of 4096 */
    void *host;     /* initial contents; written back when writable */
    bool writable;
    bool executable;
};

enum x86_user_stop {
    X86_USER_STOPPED,  /* rip reached stop_rip */
    X86_USER_FAULT,    /* an exception: vector, error code (and CR2 for #PF) in the result */
    X86_USER_LIMIT,    /* max_insns ran out */
    X86_USER_ERROR,    /* bad arguments or out of memory (message in the result) */
};

struct x86_user_result {
    enum x86_user_stop stop;
    unsigned vector;     /* X86_USER_FAULT: #DE 0, #UD 6, #GP 13, #PF 14, #AC 17, #XM 19... */
    uint32_t error_code; /* when the vector has one */
    uint64_t cr2;        /* #PF: the faulting linear address */
    uint64_t insns;      /* instructions retired */
    char message[128];   /* X86_USER_ERROR */
};

/* Runs as described above. state is updated to the state at the stop (for a fault: the state
 * the exception handler would see, rip at the faulting instruction, or after it for traps). */
void x86_user_run(const struct x86_user_mapping *maps, unsigned nmaps, uint64_t stop_rip,
                  uint64_t max_insns, struct x86_user_state *state, struct x86_user_result *res);

/* A segment register's descriptor cache, as a descriptor in the GDT or LDT would load it
 * (present, DPL 3, accessed). */
struct x86_user_segment {
    uint16_t selector;
    uint32_t base;
    uint32_t limit; /* the last valid offset, in bytes (0xffffffff: flat; above 0xfffff it must
                     * end in 0xfff, as a page-granular limit does) */
    bool db;        /* D/B: 32-bit code (CS), 32-bit stack (SS) */
    bool code;      /* execute/read code; otherwise read/write expand-up data */
};

#define X86_USER_LDT_MAX 8

/* Compatibility mode (EFER.LMA with CS.L = 0): the code segment's D bit decides 32- or 16-bit
 * code; CS, SS, DS and ES are loaded from these caches, FS and GS as x86_user_run has them.
 * Linux's 32-bit user code is {0x23, 0, 0xffffffff, true, true} with SS/DS/ES = {0x2b, 0,
 * 0xffffffff, true, false}. ldt[0..ldt_entries) are the LDT's descriptors, entry i for
 * selector i * 8 + 4 (+ RPL), present and DPL 3 as modify_ldt(2) makes them (their selector
 * fields are not used); its limit is ldt_entries * 8 - 1. */
struct x86_user_compat {
    struct x86_user_segment cs, ss, ds, es;
    struct x86_user_segment ldt[X86_USER_LDT_MAX];
    unsigned ldt_entries;
};

/* Either way the GDT is laid out as Linux's x86_64 GDT (limit 127): 0x08 kernel 32-bit code,
 * 0x10 kernel 64-bit code, 0x18 kernel data (DPL 0), 0x23 user 32-bit code, 0x2b user data,
 * 0x33 user 64-bit code (DPL 3, flat), 0x40 the TSS; every other entry is empty. So segment
 * register loads fault or succeed as they would in a Linux process.
 *
 * x86_user_run in compatibility mode (compat NULL: 64-bit mode, as x86_user_run). state->rip
 * and stop_rip are then offsets in the code segment (EIP/IP), as the CPU's own instruction
 * pointer is; the upper halves of the GPRs are whatever the instructions leave (the SDM leaves
 * them undefined after compatibility mode). */
void x86_user_run_compat(const struct x86_user_mapping *maps, unsigned nmaps,
                         const struct x86_user_compat *compat, uint64_t stop_rip,
                         uint64_t max_insns, struct x86_user_state *state,
                         struct x86_user_result *res);

#endif /* COREMU_X86_64_USER_H */
