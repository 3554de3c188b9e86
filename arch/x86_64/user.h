/*
 * coremu x86_64 — running user-mode code on a CPU of its own, outside any machine: what the
 * differential tester (the host CPU as the oracle) and the CPU's unit tests drive.
 *
 * x86_user_run builds a private guest: the given mappings at the given virtual addresses (the
 * same addresses the host used, so that pointers in registers mean the same on both sides),
 * 4-level paging, a 64-bit code segment at CPL 3, and runs from state->rip until execution
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

#endif /* COREMU_X86_64_USER_H */
