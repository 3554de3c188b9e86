/*
 * coremu ARM — what the A32 and T32 decoders (decode_a32.c, decode_t32.c) share: the row of a
 * decoder table, the indexing of a table into buckets, the lookup of an encoding, the filling
 * of a micro-op from its row, and the field helpers both instruction sets need. The pattern
 * syntax is decode_pattern.h's.
 */
#ifndef COREMU_ARM_DECODE_COMMON_H
#define COREMU_ARM_DECODE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "decode_pattern.h"
#include "ops.h"

#define BITS(x, hi, lo) (((x) >> (lo)) & ((1u << ((hi) - (lo) + 1)) - 1))
#define BIT(x, n)       (((x) >> (n)) & 1u)

typedef void (*arm_decode_builder)(uint32_t insn, struct arm_uop *op);

struct arm_decode_row {
    const char *pattern;
    arm_decode_builder build;
    arm_uop_fn fn; /* NULL: the builder chooses (the VFP rows) */
    const char *name;
    uint8_t flags;        /* ARM_UOP_ENDS_BLOCK for instructions that always end a block */
    uint8_t kind;         /* decoder-specific rules applied after the builder (T32: IT blocks) */
    uint32_t mask, value; /* from pattern, at start-up: fixed bits */
    uint32_t sbz, sbo;    /* should-be-zero and should-be-one bits */
};

/* The end of a bucket's list of row indices. */
#define ARM_DECODE_END UINT16_MAX

/* Parses the patterns of n rows, each width bits wide; a bad pattern is a bug in the table. */
static inline void arm_decode_parse_rows(struct arm_decode_row *rows, size_t n, unsigned width,
                                         const char *decoder)
{
    for (size_t i = 0; i < n; i++) {
        struct arm_pattern pat;
        if (!arm_pattern_parse(rows[i].pattern, width, &pat)) {
            fprintf(stderr, "coremu: %s: bad pattern for %s: \"%s\"\n", decoder, rows[i].name,
                    rows[i].pattern);
            abort();
        }
        rows[i].mask = pat.mask;
        rows[i].value = pat.value;
        rows[i].sbz = pat.sbz;
        rows[i].sbo = pat.sbo;
    }
}

/*
 * Fills bucket with the indices, in table order, of the rows that can match an encoding whose
 * bits under keymask are keybits, then ARM_DECODE_END: a lookup of such an encoding scans only
 * those. bucket has room for n + 1 entries.
 */
static inline void arm_decode_bucket(const struct arm_decode_row *rows, size_t n, uint32_t keybits,
                                     uint32_t keymask, uint16_t *bucket)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if ((keybits & rows[i].mask & keymask) == (rows[i].value & keymask)) {
            bucket[k++] = (uint16_t)i;
        }
    }
    bucket[k] = ARM_DECODE_END;
}

/* The first row of bucket that matches insn; NULL if none does. */
static inline const struct arm_decode_row *arm_decode_find(const struct arm_decode_row *rows,
                                                           const uint16_t *bucket, uint32_t insn)
{
    for (const uint16_t *i = bucket; *i != ARM_DECODE_END; i++) {
        if ((insn & rows[*i].mask) == rows[*i].value) {
            return &rows[*i];
        }
    }
    return NULL;
}

/* insn with its should-be-zero/one bits set right for its row (row NULL: unchanged). */
static inline uint32_t arm_decode_canonical(const struct arm_decode_row *row, uint32_t insn)
{
    return row == NULL ? insn : (insn & ~row->sbz) | row->sbo;
}

/* The name of the first of n rows whose handler is fn; NULL if none. */
static inline const char *arm_decode_name(const struct arm_decode_row *rows, size_t n,
                                          arm_uop_fn fn)
{
    for (size_t i = 0; i < n; i++) {
        if (rows[i].fn == fn) {
            return rows[i].name;
        }
    }
    return NULL;
}

/* Gives op the handler and flags of row and runs its builder; an encoding no row matches (row
 * NULL) is UNDEFINED. False in that case. */
static inline bool arm_decode_apply(const struct arm_decode_row *row, uint32_t insn,
                                    struct arm_uop *op)
{
    if (row == NULL) {
        op->fn = arm_op_UNDEFINED;
        return false;
    }
    op->fn = row->fn;
    op->flags |= row->flags;
    if (row->build != NULL) {
        row->build(insn, op);
    }
    return true;
}

/* The last step of a decode: an UNDEFINED instruction ends its block (it raises an exception). */
static inline void arm_decode_finish(struct arm_uop *op)
{
    if (op->fn == arm_op_UNDEFINED) {
        op->flags |= ARM_UOP_ENDS_BLOCK;
    }
}

/* ---- field helpers ---------------------------------------------------------------------- */

/* The builders' verdict on an UNPREDICTABLE case the decoder does not execute. */
static inline void reject(struct arm_uop *op)
{
    op->fn = arm_op_UNDEFINED;
}

/* DecodeImmShift(type, imm5). */
static inline void imm_shift(unsigned type, unsigned imm5, struct arm_uop *op)
{
    switch (type) {
    case 0:
        op->shift_type = ARM_SHIFT_LSL;
        op->shift_n = (uint8_t)imm5;
        break;
    case 1:
    case 2:
        op->shift_type = (uint8_t)type;
        op->shift_n = (uint8_t)(imm5 == 0 ? 32 : imm5);
        break;
    default:
        op->shift_type = imm5 == 0 ? ARM_SHIFT_RRX : ARM_SHIFT_ROR;
        op->shift_n = (uint8_t)(imm5 == 0 ? 1 : imm5);
        break;
    }
}

#endif /* COREMU_ARM_DECODE_COMMON_H */
