/*
 * coremu x86_64 — what softfloat.c shares with softfloat_x87.c (the x87 transcendentals):
 * the unpacked form every operation works on and the one rounding step. Not a public header.
 */
#ifndef COREMU_X86_64_SOFTFLOAT_INTERNAL_H
#define COREMU_X86_64_SOFTFLOAT_INTERNAL_H

#include "softfloat.h"

#if !defined(__SIZEOF_INT128__)
#error "softfloat needs a compiler with unsigned __int128 (every 64-bit host has it)"
#endif

typedef unsigned __int128 u128;

enum fclass { CLS_ZERO, CLS_FINITE, CLS_INF, CLS_NAN, CLS_UNSUPPORTED };

/*
 * An operand or a result. CLS_FINITE: value = sig * 2^(exp - 63) with bit 63 of sig set.
 * CLS_NAN: sig holds the fraction left-aligned, so the quiet bit is bit 63 in every format and
 * converting a NaN between formats keeps its leading payload bits (as the hardware does).
 */
struct unpacked {
    enum fclass cls;
    bool sign;
    bool snan;     /* CLS_NAN: signalling */
    bool denormal; /* CLS_FINITE: was a denormal (or pseudo-denormal) encoding: DE */
    int32_t exp;
    uint64_t sig;
};

/* A destination: its precision in bits and the exponent range of its normal numbers. */
struct format {
    int precision;
    int32_t emin;
    int32_t emax;
    /* An x87 register destination: with overflow or underflow unmasked, the result is kept,
     * its exponent moved into range by this much (24576); 0 where the result is not kept. */
    int32_t wrap;
    /* An x87 store to memory (FST m32/m64): an unmasked overflow or underflow reports no PE. */
    bool x87_store;
};

#define X80_EMIN (-16382)
#define X80_EMAX 16383
#define X80_BIAS 16383

static inline int clz64(uint64_t x)
{
    return __builtin_clzll(x);
}

static inline int clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? clz64(hi) : 64 + clz64((uint64_t)x);
}

struct unpacked x86sf_make_zero(bool sign);
struct unpacked x86sf_make_inf(bool sign);
/* Raises IE and returns the default NaN. */
struct unpacked x86sf_invalid(struct x86_fpstatus *st);
struct unpacked x86sf_unpackx80(floatx80 a);
floatx80 x86sf_packx80(struct unpacked u);
/* The floatx80 destination: 64 bits, or the precision control's when asked. */
struct format x86sf_x80_format(const struct x86_fpstatus *st, bool use_precision_control);
/* Rounds the nonzero value sig * 2^(exp - 127) (bit 127 of sig set, sticky bits folded into
 * bit 0) to the format, raising OE/UE/PE, flushing to zero when ftz; sets st->c1. */
struct unpacked x86sf_round_pack(bool sign, int64_t exp, u128 sig, const struct format *f, bool ftz,
                                 struct x86_fpstatus *st);
/* NaN and unsupported operands of one- and two-operand operations: true when *out is the
 * result (SSE or x87 NaN rules). */
bool x86sf_nan_operands(const struct unpacked *a, const struct unpacked *b, bool x87,
                        struct x86_fpstatus *st, struct unpacked *out);
bool x86sf_nan_operand(const struct unpacked *a, struct x86_fpstatus *st, struct unpacked *out);
/* Raises DE when either (non-null) operand was a denormal encoding. */
void x86sf_denormal_operands(const struct unpacked *a, const struct unpacked *b,
                             struct x86_fpstatus *st);

#endif /* COREMU_X86_64_SOFTFLOAT_INTERNAL_H */
