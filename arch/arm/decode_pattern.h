/*
 * coremu ARM — the bit patterns the decoder tables are written in, shared by decode_a32.c and
 * decode_t32.c. A pattern is written as the ARM ARM prints an encoding, most significant bit
 * first, spaces ignored: '0'/'1' are fixed bits, "(0)"/"(1)" are should-be-zero/one bits (not
 * matched: a wrong value is UNPREDICTABLE and the instruction executes as if it were right;
 * the decoder tests use them to normalise encodings), any other character is a field bit.
 */
#ifndef COREMU_ARM_DECODE_PATTERN_H
#define COREMU_ARM_DECODE_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

struct arm_pattern {
    uint32_t mask;  /* fixed bits */
    uint32_t value; /* their values */
    uint32_t sbz;   /* should-be-zero bits */
    uint32_t sbo;   /* should-be-one bits */
};

/* Parses text into *out; false when it does not describe exactly width bits. */
static inline bool arm_pattern_parse(const char *text, unsigned width, struct arm_pattern *out)
{
    uint32_t mask = 0, value = 0, sbz = 0, sbo = 0;
    unsigned nbits = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == ' ') {
            continue;
        }
        mask <<= 1;
        value <<= 1;
        sbz <<= 1;
        sbo <<= 1;
        if (*p == '(' && (p[1] == '0' || p[1] == '1') && p[2] == ')') {
            if (p[1] == '0') {
                sbz |= 1;
            } else {
                sbo |= 1;
            }
            p += 2;
        } else if (*p == '0' || *p == '1') {
            mask |= 1;
            value |= (uint32_t)(*p - '0');
        }
        nbits++;
    }
    out->mask = mask;
    out->value = value;
    out->sbz = sbz;
    out->sbo = sbo;
    return nbits == width;
}

#endif /* COREMU_ARM_DECODE_PATTERN_H */
