/*
 * toy — an assembler for the toy instruction set (toy.h), shared by the engine's tests and the
 * toy's torture emitters. Each function appends one instruction at a->at and returns its guest
 * address. An instruction that does not fit, or a branch whose target is out of its range, sets
 * a->failed (and writes nothing past the room): check it once the code is complete.
 */
#ifndef COREMU_TOY_ASM_H
#define COREMU_TOY_ASM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "toy.h"

struct asm_buf {
    uint8_t *mem; /* the host byte of guest address origin */
    uint64_t at;  /* guest address of the next instruction */
    uint64_t origin;
    uint64_t end; /* first guest address past the room; 0: mem is the whole toy RAM */
    bool failed;
};

static inline uint64_t emit(struct asm_buf *a, const uint8_t *bytes, unsigned n)
{
    uint64_t here = a->at;
    uint64_t end = a->end ? a->end : TOY_RAM_SIZE;

    if (a->at < a->origin || a->at + n > end) {
        a->failed = true;
    } else {
        memcpy(a->mem + (a->at - a->origin), bytes, n);
    }
    a->at += n;
    return here;
}

/* The byte at guest address at, or NULL when it is outside the buffer. */
static inline uint8_t *asm_byte(struct asm_buf *a, uint64_t at)
{
    uint64_t end = a->end ? a->end : TOY_RAM_SIZE;
    return at >= a->origin && at < end ? a->mem + (at - a->origin) : NULL;
}

static inline uint64_t HALT(struct asm_buf *a)
{
    return emit(a, (const uint8_t[]){TOY_HALT}, 1);
}

static inline uint64_t MOVI(struct asm_buf *a, unsigned rd, uint8_t imm)
{
    return emit(a, (const uint8_t[]){TOY_MOVI, (uint8_t)rd, imm}, 3);
}

static inline uint64_t ADDI(struct asm_buf *a, unsigned rd, int8_t imm)
{
    return emit(a, (const uint8_t[]){TOY_ADDI, (uint8_t)rd, (uint8_t)imm}, 3);
}

static inline uint64_t MOVW(struct asm_buf *a, unsigned rd, uint16_t imm)
{
    return emit(a, (const uint8_t[]){TOY_MOVW, (uint8_t)rd, (uint8_t)imm, (uint8_t)(imm >> 8)}, 4);
}

static inline uint64_t DS(struct asm_buf *a, uint8_t opcode, unsigned rd, unsigned rs)
{
    return emit(a, (const uint8_t[]){opcode, (uint8_t)(rd << 4 | rs)}, 2);
}

#define ADD(a, rd, rs) DS(a, TOY_ADD, rd, rs)
#define LD(a, rd, rs)  DS(a, TOY_LD, rd, rs)
#define ST(a, rd, rs)  DS(a, TOY_ST, rd, rs)
#define JR(a, rs)      DS(a, TOY_JR, 0, rs)
#define STB(a, rd, rs) DS(a, TOY_STB, rd, rs)
#define INC(a, rs)     DS(a, TOY_INC, 0, rs)

static inline uint64_t TLBI(struct asm_buf *a)
{
    return emit(a, (const uint8_t[]){TOY_TLBI}, 1);
}

static inline uint64_t STOPW(struct asm_buf *a)
{
    return emit(a, (const uint8_t[]){TOY_STOPW}, 1);
}

static inline uint64_t YIELD(struct asm_buf *a)
{
    return emit(a, (const uint8_t[]){TOY_YIELD}, 1);
}

static inline uint64_t CLRX(struct asm_buf *a)
{
    return emit(a, (const uint8_t[]){TOY_CLRX}, 1);
}

/* LDX rd, [rs], size */
static inline uint64_t LDX(struct asm_buf *a, unsigned rd, unsigned rs, unsigned size)
{
    return emit(a, (const uint8_t[]){TOY_LDX, (uint8_t)(rd << 4 | rs), (uint8_t)size}, 3);
}

/* STX rd, rt, [rs], size */
static inline uint64_t STX(struct asm_buf *a, unsigned rd, unsigned rt, unsigned rs, unsigned size)
{
    return emit(a, (const uint8_t[]){TOY_STX, (uint8_t)(rd << 4 | rs), (uint8_t)(rt << 4 | size)},
                3);
}

/* SWP rd, rt, [rs], size */
static inline uint64_t SWP(struct asm_buf *a, unsigned rd, unsigned rt, unsigned rs, unsigned size)
{
    return emit(a, (const uint8_t[]){TOY_SWP, (uint8_t)(rd << 4 | rs), (uint8_t)(rt << 4 | size)},
                3);
}

/* Branches to target (already emitted, or 0 to be patched later with patch_branch), within 128
 * bytes: farther needs a JMP. */
static inline uint64_t BNZ(struct asm_buf *a, unsigned rd, uint64_t target)
{
    int64_t rel = target ? (int64_t)target - (int64_t)(a->at + 3) : 0;
    if (rel < -128 || rel >= 128) {
        a->failed = true;
    }
    return emit(a, (const uint8_t[]){TOY_BNZ, (uint8_t)rd, (uint8_t)(int8_t)rel}, 3);
}

static inline uint64_t JMP(struct asm_buf *a, uint64_t target)
{
    int64_t rel = (int64_t)target - (int64_t)(a->at + 3);
    return emit(a, (const uint8_t[]){TOY_JMP, (uint8_t)rel, (uint8_t)(rel >> 8)}, 3);
}

/* Points the BNZ or JMP at insn to target. */
static inline void patch_branch(struct asm_buf *a, uint64_t insn, uint64_t target)
{
    int64_t rel = (int64_t)target - (int64_t)(insn + 3);
    uint8_t *op = asm_byte(a, insn);

    if (!op || !asm_byte(a, insn + 2) || (*op != TOY_JMP && (rel < -128 || rel >= 128))) {
        a->failed = true;
        return;
    }
    if (*op == TOY_JMP) {
        op[1] = (uint8_t)rel;
        op[2] = (uint8_t)(rel >> 8);
    } else {
        op[2] = (uint8_t)(int8_t)rel;
    }
}

#endif /* COREMU_TOY_ASM_H */
