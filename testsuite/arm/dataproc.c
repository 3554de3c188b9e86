/*
 * A32 data processing and flags: the arithmetic and logical instructions with every shift type,
 * shifts by register by 0, 32 and more than 32 (only Rs[7:0] counts), the shifter carry-out
 * rules, the Q flag (QADD and friends, SSAT/USAT, SMLAxy/SMUAD overflow), the GE flags of the
 * parallel add/subtract instructions and SEL, multiplies and long multiplies (UMAAL, SMLAL*),
 * SDIV/UDIV including division by zero, CLZ/RBIT/REV*, bitfield and extend instructions,
 * MOVW/MOVT, and conditional execution on every condition code with all 16 NZCV values.
 *
 * Every expected value was worked out from the ARM ARM (ARMv7-A/R, DDI 0406C) pseudocode by
 * hand, and cross-checked by running this program on qemu-system-arm -M virt -cpu cortex-a15.
 * Each check sets APSR.NZCVQ and GE first (MSR APSR_nzcvqg), runs one instruction, and
 * compares the result register and APSR.NZCVQ,GE afterwards.
 */
#include "test.h"

#define N (1u << 31)
#define Z (1u << 30)
#define C (1u << 29)
#define V (1u << 28)
#define Q (1u << 27)
#define GE(x) ((uint32_t)(x) << 16)
#define FLAG_MASK 0xf80f0000u /* NZCVQ and GE[3:0] */

__asm__(".arch_extension idiv"); /* SDIV/UDIV: Cortex-A15 has them in A32 (ID_ISAR0) */

static void check(const char *name, uint32_t r, uint32_t f, uint32_t want_r, uint32_t want_f)
{
    f &= FLAG_MASK;
    test_check(r == want_r && f == want_f, name, "result 0x%x flags 0x%x, expected 0x%x flags 0x%x",
               r, f, want_r, want_f);
}

static void check64(const char *name, uint32_t lo, uint32_t hi, uint32_t f, uint32_t want_lo,
                    uint32_t want_hi, uint32_t want_f)
{
    f &= FLAG_MASK;
    test_check(lo == want_lo && hi == want_hi && f == want_f, name,
               "result 0x%x:%08x flags 0x%x, expected 0x%x:%08x flags 0x%x", hi, lo, f, want_hi,
               want_lo, want_f);
}

/*
 * One instruction "insn" (operands %[r] (starts as d), %[a], %[b], %[c]) with APSR = fin
 * before it; checks %[r] and the flags after it.
 */
#define T(name, insn, d, va, vb, vc, fin, want_r, want_f)                                          \
    do {                                                                                           \
        uint32_t r_ = (d), f_;                                                                     \
        __asm__ volatile(".syntax unified\n\tmsr APSR_nzcvqg, %[fi]\n\t" insn                      \
                         "\n\tmrs %[fo], APSR"                                                     \
                         : [r] "+&r"(r_), [fo] "=&r"(f_)                                           \
                         : [a] "r"((uint32_t)(va)), [b] "r"((uint32_t)(vb)),                       \
                           [c] "r"((uint32_t)(vc)), [fi] "r"((uint32_t)(fin))                      \
                         : "cc");                                                                  \
        check(name, r_, f_, (want_r), (want_f));                                                   \
    } while (0)

/* A long multiply: %[lo], %[hi] (start as lo0, hi0), %[a], %[b]. */
#define TL(name, insn, lo0, hi0, va, vb, fin, want_lo, want_hi, want_f)                            \
    do {                                                                                           \
        uint32_t lo_ = (lo0), hi_ = (hi0), f_;                                                     \
        __asm__ volatile(".syntax unified\n\tmsr APSR_nzcvqg, %[fi]\n\t" insn                      \
                         "\n\tmrs %[fo], APSR"                                                     \
                         : [lo] "+&r"(lo_), [hi] "+&r"(hi_), [fo] "=&r"(f_)                        \
                         : [a] "r"((uint32_t)(va)), [b] "r"((uint32_t)(vb)),                       \
                           [fi] "r"((uint32_t)(fin))                                               \
                         : "cc");                                                                  \
        check64(name, lo_, hi_, f_, (want_lo), (want_hi), (want_f));                               \
    } while (0)

static void arithmetic(void)
{
    T("dp: ADDS signed overflow", "adds %[r], %[a], %[b]", 0, 0x7fffffff, 1, 0, 0, 0x80000000,
      N | V);
    T("dp: ADDS carry and zero", "adds %[r], %[a], %[b]", 0, 0xffffffff, 1, 0, 0, 0, Z | C);
    T("dp: ADD leaves the flags", "add %[r], %[a], %[b]", 0, 0xffffffff, 1, 0, N | V, 0, N | V);
    T("dp: ADCS carry in makes zero", "adcs %[r], %[a], %[b]", 0, 0xffffffff, 0, 0, C, 0, Z | C);
    T("dp: ADCS 1+2+C", "adcs %[r], %[a], %[b]", 0, 1, 2, 0, C, 4, 0);
    T("dp: ADCS overflow through carry", "adcs %[r], %[a], %[b]", 0, 0x7fffffff, 0, 0, C,
      0x80000000, N | V);
    T("dp: SUBS equal", "subs %[r], %[a], %[b]", 0, 5, 5, 0, 0, 0, Z | C);
    T("dp: SUBS borrow", "subs %[r], %[a], %[b]", 0, 3, 5, 0, C, 0xfffffffe, N);
    T("dp: SUBS signed overflow", "subs %[r], %[a], %[b]", 0, 0x80000000, 1, 0, 0, 0x7fffffff,
      C | V);
    T("dp: SBCS without carry", "sbcs %[r], %[a], %[b]", 0, 5, 3, 0, 0, 1, C);
    T("dp: SBCS borrow", "sbcs %[r], %[a], %[b]", 0, 5, 5, 0, 0, 0xffffffff, N);
    T("dp: SBCS with carry", "sbcs %[r], %[a], %[b]", 0, 5, 5, 0, C, 0, Z | C);
    T("dp: RSBS", "rsbs %[r], %[a], %[b]", 0, 1, 0, 0, 0, 0xffffffff, N);
    T("dp: RSBS immediate", "rsbs %[r], %[a], #0", 0, 0, 0, 0, 0, 0, Z | C);
    T("dp: RSCS", "rscs %[r], %[a], %[b]", 0, 1, 3, 0, 0, 1, C);
    T("dp: RSCS overflow", "rscs %[r], %[a], %[b]", 0, 1, 0x80000000, 0, C, 0x7fffffff, C | V);
    T("dp: CMP less", "cmp %[a], %[b]", 0x1234, 1, 2, 0, 0, 0x1234, N);
    T("dp: CMP immediate equal", "cmp %[a], #0x3f0", 0x1234, 0x3f0, 0, 0, 0, 0x1234, Z | C);
    T("dp: CMN", "cmn %[a], %[b]", 0x1234, 0xffffffff, 1, 0, 0, 0x1234, Z | C);
    T("dp: CMN overflow", "cmn %[a], %[b]", 0x1234, 0x80000000, 0x80000000, 0, 0, 0x1234,
      Z | C | V);
    /* pc reads as the instruction's address + 8; the address comes from a literal word. */
    T("dp: SUB reads pc as . + 8", "ldr %[r], 2f\n1:\tsub %[r], pc, %[r]\n\tb 3f\n2:\t.word 1b\n3:",
      0, 0, 0, 0, 0, 8, 0);
}

static void logical(void)
{
    T("dp: ANDS LSL #1 carry out", "ands %[r], %[a], %[b], lsl #1", 0, 0xffffffff, 0x80000001,
      0, V, 2, C | V);
    T("dp: ORRS LSL #0 keeps C", "orrs %[r], %[a], %[b]", 0, 0, 0, 0, C, 0, Z | C);
    T("dp: EORS", "eors %[r], %[a], %[b]", 0, 0xf0f0f0f0, 0xffffffff, 0, C, 0x0f0f0f0f, C);
    T("dp: BICS", "bics %[r], %[a], %[b]", 0, 0xffffffff, 0xffff, 0, 0, 0xffff0000, N);
    T("dp: MVNS", "mvns %[r], %[a]", 0, 0, 0, 0, 0, 0xffffffff, N);
    T("dp: MVN immediate", "mvn %[r], #0xff000000", 0, 0, 0, 0, 0, 0x00ffffff, 0);
    T("dp: TST keeps C and V", "tst %[a], %[b]", 7, 0x80000000, 0x80000000, 0, C | V, 7,
      N | C | V);
    T("dp: TEQ equal", "teq %[a], %[b]", 7, 5, 5, 0, 0, 7, Z);
    T("dp: TEQ sign", "teq %[a], %[b]", 7, 0x80000000, 1, 0, 0, 7, N);
    /* A rotated immediate sets C to its bit 31; an unrotated one (0-255) leaves C alone. */
    T("dp: ANDS rotated immediate sets C", "ands %[r], %[a], #0x80000000", 0, 0xffffffff, 0, 0,
      0, 0x80000000, N | C);
    T("dp: ANDS rotated immediate clears C", "ands %[r], %[a], #0x3f0", 0, 0xffffffff, 0, 0, C,
      0x3f0, 0);
    T("dp: ANDS unrotated immediate keeps C", "ands %[r], %[a], #0xff", 0, 0x0f, 0, 0, C, 0x0f,
      C);
    T("dp: TST rotated immediate", "tst %[a], #0xc0000000", 0, 0x40000000, 0, 0, 0, 0, C);
}

static void shifts_imm(void)
{
    T("dp: LSL #1", "movs %[r], %[a], lsl #1", 0, 0x80000001, 0, 0, 0, 2, C);
    T("dp: LSL #31", "movs %[r], %[a], lsl #31", 0, 3, 0, 0, 0, 0x80000000, N | C);
    T("dp: LSL #0 keeps C", "movs %[r], %[a]", 0, 0, 0, 0, C, 0, Z | C);
    T("dp: LSR #1", "movs %[r], %[a], lsr #1", 0, 3, 0, 0, 0, 1, C);
    T("dp: LSR #32", "movs %[r], %[a], lsr #32", 0, 0x80000000, 0, 0, 0, 0, Z | C);
    T("dp: LSR #32 no carry", "movs %[r], %[a], lsr #32", 0, 0x7fffffff, 0, 0, C, 0, Z);
    T("dp: ASR #31", "movs %[r], %[a], asr #31", 0, 0x40000000, 0, 0, 0, 0, Z | C);
    T("dp: ASR #32 negative", "movs %[r], %[a], asr #32", 0, 0x80000000, 0, 0, 0, 0xffffffff,
      N | C);
    T("dp: ASR #32 positive", "movs %[r], %[a], asr #32", 0, 0x7fffffff, 0, 0, C, 0, Z);
    T("dp: ROR #4", "movs %[r], %[a], ror #4", 0, 0xf, 0, 0, 0, 0xf0000000, N | C);
    T("dp: ROR #31", "movs %[r], %[a], ror #31", 0, 0x80000000, 0, 0, C, 1, 0);
    T("dp: RRX with C", "movs %[r], %[a], rrx", 0, 1, 0, 0, C, 0x80000000, N | C);
    T("dp: RRX without C", "movs %[r], %[a], rrx", 0, 2, 0, 0, 0, 1, 0);
    T("dp: ADDS with ASR operand", "adds %[r], %[a], %[b], asr #4", 0, 0x10, 0xffffff00, 0, 0,
      0, Z | C);
    T("dp: SUB with ROR operand", "sub %[r], %[a], %[b], ror #16", 0, 0x30000, 0x00010002, 0,
      0, 0xffff, 0);
}

static void shifts_reg(void)
{
    T("dp: LSL by 0 keeps C", "movs %[r], %[a], lsl %[b]", 0, 0x80000000, 0, 0, C, 0x80000000,
      N | C);
    T("dp: LSL by 0 keeps C clear", "movs %[r], %[a], lsl %[b]", 0, 0x80000000, 0, 0, 0,
      0x80000000, N);
    T("dp: LSL by 1", "movs %[r], %[a], lsl %[b]", 0, 0x80000001, 1, 0, 0, 2, C);
    T("dp: LSL by 32", "movs %[r], %[a], lsl %[b]", 0, 1, 32, 0, 0, 0, Z | C);
    T("dp: LSL by 33", "movs %[r], %[a], lsl %[b]", 0, 0xffffffff, 33, 0, C, 0, Z);
    T("dp: LSL by 255", "movs %[r], %[a], lsl %[b]", 0, 0xffffffff, 255, 0, C, 0, Z);
    T("dp: LSL uses Rs[7:0] only (0x101)", "movs %[r], %[a], lsl %[b]", 0, 0x80000001, 0x101,
      0, 0, 2, C);
    T("dp: LSL uses Rs[7:0] only (0x100)", "movs %[r], %[a], lsl %[b]", 0, 5, 0x100, 0, C, 5,
      C);
    T("dp: LSR by 0 keeps C", "movs %[r], %[a], lsr %[b]", 0, 1, 0, 0, C, 1, C);
    T("dp: LSR by 31", "movs %[r], %[a], lsr %[b]", 0, 0xc0000000, 31, 0, 0, 1, C);
    T("dp: LSR by 32", "movs %[r], %[a], lsr %[b]", 0, 0x80000000, 32, 0, 0, 0, Z | C);
    T("dp: LSR by 33", "movs %[r], %[a], lsr %[b]", 0, 0xffffffff, 33, 0, C, 0, Z);
    T("dp: ASR by 0 keeps C", "movs %[r], %[a], asr %[b]", 0, 0x80000000, 0, 0, C, 0x80000000,
      N | C);
    T("dp: ASR by 32", "movs %[r], %[a], asr %[b]", 0, 0x80000000, 32, 0, 0, 0xffffffff,
      N | C);
    T("dp: ASR by 200 negative", "movs %[r], %[a], asr %[b]", 0, 0x80000000, 200, 0, 0,
      0xffffffff, N | C);
    T("dp: ASR by 40 positive", "movs %[r], %[a], asr %[b]", 0, 0x7fffffff, 40, 0, C, 0, Z);
    T("dp: ROR by 0 keeps C", "movs %[r], %[a], ror %[b]", 0, 0x80000000, 0, 0, 0, 0x80000000,
      N);
    T("dp: ROR by 32 sets C from bit 31", "movs %[r], %[a], ror %[b]", 0, 0x80000000, 32, 0, 0,
      0x80000000, N | C);
    T("dp: ROR by 32 clears C", "movs %[r], %[a], ror %[b]", 0, 0x7fffffff, 32, 0, C,
      0x7fffffff, 0);
    T("dp: ROR by 36", "movs %[r], %[a], ror %[b]", 0, 0xf, 36, 0, 0, 0xf0000000, N | C);
    T("dp: ROR by 0x100 keeps C", "movs %[r], %[a], ror %[b]", 0, 1, 0x100, 0, C, 1, C);
    T("dp: ANDS register-shifted LSR by 32", "ands %[r], %[a], %[b], lsr %[c]", 0, 0xffffffff,
      0x80000000, 32, 0, 0, Z | C);
    T("dp: ADDS register-shifted LSL by 33", "adds %[r], %[a], %[b], lsl %[c]", 0, 1, 1, 33, C,
      1, 0);
    T("dp: RSB register-shifted ASR", "rsb %[r], %[a], %[b], asr %[c]", 0, 1, 0x80000000, 31,
      0, 0xfffffffe, 0);
}

static void saturation(void)
{
    T("dp: QADD saturates and sets Q", "qadd %[r], %[a], %[b]", 0, 0x7fffffff, 1, 0, 0,
      0x7fffffff, Q);
    T("dp: QADD without saturation", "qadd %[r], %[a], %[b]", 0, 1, 2, 0, 0, 3, 0);
    T("dp: Q is sticky", "qadd %[r], %[a], %[b]", 0, 1, 2, 0, Q, 3, Q);
    T("dp: QSUB saturates", "qsub %[r], %[a], %[b]", 0, 0x80000000, 1, 0, 0, 0x80000000, Q);
    T("dp: QDADD doubling saturates", "qdadd %[r], %[a], %[b]", 0, 0, 0x40000000, 0, 0,
      0x7fffffff, Q);
    T("dp: QDSUB", "qdsub %[r], %[a], %[b]", 0, 0, 0x40000000, 0, 0, 0x80000001, Q);
    T("dp: QADD8 per byte, no Q", "qadd8 %[r], %[a], %[b]", 0, 0x7f7f0180, 0x01818080, 0, 0,
      0x7f008180, 0);
    T("dp: SSAT #8 high", "ssat %[r], #8, %[a]", 0, 300, 0, 0, 0, 127, Q);
    T("dp: SSAT #8 low", "ssat %[r], #8, %[a]", 0, (uint32_t)-300, 0, 0, 0, 0xffffff80, Q);
    T("dp: SSAT #8 in range", "ssat %[r], #8, %[a]", 0, 100, 0, 0, 0, 100, 0);
    T("dp: SSAT #16 LSL #4", "ssat %[r], #16, %[a], lsl #4", 0, 0x1000, 0, 0, 0, 0x7fff, Q);
    T("dp: SSAT #32 ASR #1", "ssat %[r], #32, %[a], asr #1", 0, 0x80000000, 0, 0, 0,
      0xc0000000, 0);
    T("dp: USAT #8 negative", "usat %[r], #8, %[a]", 0, (uint32_t)-5, 0, 0, 0, 0, Q);
    T("dp: USAT #8 high", "usat %[r], #8, %[a]", 0, 300, 0, 0, 0, 255, Q);
    T("dp: USAT #8 in range", "usat %[r], #8, %[a]", 0, 200, 0, 0, 0, 200, 0);
    T("dp: USAT #0", "usat %[r], #0, %[a]", 0, 1, 0, 0, 0, 0, Q);
    T("dp: SSAT16 #4", "ssat16 %[r], #4, %[a]", 0, 0x0010fff0, 0, 0, 0, 0x0007fff8, Q);
    T("dp: USAT16 #4", "usat16 %[r], #4, %[a]", 0, 0x0010fff0, 0, 0, 0, 0x000f0000, Q);
    T("dp: SMLABB overflow sets Q", "smlabb %[r], %[a], %[b], %[c]", 0, 0x8000, 0x8000,
      0x40000000, 0, 0x80000000, Q);
    T("dp: SMLATB", "smlatb %[r], %[a], %[b], %[c]", 0, 0xfffe0000, 3, 10, 0, 4, 0);
    T("dp: SMULTT", "smultt %[r], %[a], %[b]", 0, 0x00030000, 0xfffe0000, 0, 0, 0xfffffffa, 0);
    T("dp: SMULWB", "smulwb %[r], %[a], %[b]", 0, 0x00010000, 3, 0, 0, 3, 0);
    T("dp: SMLAWT", "smlawt %[r], %[a], %[b], %[c]", 0, 0x00020000, 0xffff0000, 5, 0, 3, 0);
    T("dp: SMUAD overflow sets Q", "smuad %[r], %[a], %[b]", 0, 0x80008000, 0x80008000, 0, 0,
      0x80000000, Q);
    T("dp: SMUSD", "smusd %[r], %[a], %[b]", 0, 0x00020003, 0x00040005, 0, 0, 7, 0);
    T("dp: SMUADX", "smuadx %[r], %[a], %[b]", 0, 0x00020003, 0x00040005, 0, 0, 22, 0);
}

static void parallel(void)
{
    T("dp: SADD8 GE", "sadd8 %[r], %[a], %[b]", 0, 0x01ff7f80, 0x01ff0180, 0, 0, 0x02fe8000,
      GE(0xa));
    T("dp: UADD8 GE", "uadd8 %[r], %[a], %[b]", 0, 0xff01ff00, 0x01010000, 0, GE(0x7),
      0x0002ff00, GE(0x8));
    T("dp: SSUB16 GE", "ssub16 %[r], %[a], %[b]", 0, 0x00050003, 0x00030005, 0, 0, 0x0002fffe,
      GE(0xc));
    T("dp: USUB8 GE", "usub8 %[r], %[a], %[b]", 0, 0x05000a03, 0x03010a05, 0, 0, 0x02ff00fe,
      GE(0xa));
    T("dp: UADD16 GE", "uadd16 %[r], %[a], %[b]", 0, 0xffff0001, 0x00020001, 0, 0, 0x00010002,
      GE(0xc));
    T("dp: SASX GE", "sasx %[r], %[a], %[b]", 0, 0x00010002, 0x00050003, 0, 0, 0x0004fffd,
      GE(0xc));
    T("dp: USAX GE", "usax %[r], %[a], %[b]", 0, 0x0001ffff, 0x00030002, 0, 0, 0xffff0002,
      GE(0x3));
    T("dp: SEL by GE 0101", "sel %[r], %[a], %[b]", 0, 0x11223344, 0xaabbccdd, 0, GE(0x5),
      0xaa22cc44, GE(0x5));
    T("dp: SEL by GE 1110", "sel %[r], %[a], %[b]", 0, 0x11223344, 0xaabbccdd, 0, GE(0xe),
      0x112233dd, GE(0xe));
    T("dp: UQSUB8", "uqsub8 %[r], %[a], %[b]", 0, 0x10203040, 0x20103050, 0, 0, 0x00100000, 0);
    T("dp: SHADD16", "shadd16 %[r], %[a], %[b]", 0, 0x7fff0003, 0x00010001, 0, 0, 0x40000002,
      0);
    T("dp: UHSUB8", "uhsub8 %[r], %[a], %[b]", 0, 0x00ff0810, 0x01000402, 0, 0, 0xff7f0207, 0);
    T("dp: USAD8", "usad8 %[r], %[a], %[b]", 0, 0x01020304, 0x04030201, 0, 0, 8, 0);
    T("dp: USADA8", "usada8 %[r], %[a], %[b], %[c]", 0, 0x01020304, 0x04030201, 100, 0, 108, 0);
}

static void multiplies(void)
{
    T("dp: MULS keeps C and V", "muls %[r], %[a], %[b]", 0, 0x10000, 0x10000, 0, C | V, 0,
      Z | C | V);
    T("dp: MULS negative", "muls %[r], %[a], %[b]", 0, 0xffffffff, 2, 0, 0, 0xfffffffe, N);
    T("dp: MLA", "mla %[r], %[a], %[b], %[c]", 0, 3, 4, 5, 0, 17, 0);
    T("dp: MLS", "mls %[r], %[a], %[b], %[c]", 0, 3, 4, 5, 0, 0xfffffff9, 0);
    T("dp: SMMUL", "smmul %[r], %[a], %[b]", 0, 0x40000000, 4, 0, 0, 1, 0);
    T("dp: SMMULR rounds", "smmulr %[r], %[a], %[b]", 0, 0x40000000, 3, 0, 0, 1, 0);
    T("dp: SMMUL truncates", "smmul %[r], %[a], %[b]", 0, 0x40000000, 3, 0, 0, 0, 0);
    T("dp: SMMLA", "smmla %[r], %[a], %[b], %[c]", 0, 0x80000000, 0x80000000, 1, 0,
      0x40000001, 0);
    T("dp: SMMLS", "smmls %[r], %[a], %[b], %[c]", 0, 0x40000000, 4, 5, 0, 4, 0);
    TL("dp: UMULL", "umull %[lo], %[hi], %[a], %[b]", 0, 0, 0xffffffff, 0xffffffff, 0, 1,
       0xfffffffe, 0);
    TL("dp: SMULL", "smull %[lo], %[hi], %[a], %[b]", 0, 0, 0xffffffff, 2, 0, 0xfffffffe,
       0xffffffff, 0);
    TL("dp: UMULLS flags from bit 63", "umulls %[lo], %[hi], %[a], %[b]", 0, 0, 0x80000000, 2,
       C | V, 0, 1, C | V);
    TL("dp: SMULLS negative", "smulls %[lo], %[hi], %[a], %[b]", 0, 0, 0x80000000, 2, 0, 0,
       0xffffffff, N);
    TL("dp: UMULLS zero", "umulls %[lo], %[hi], %[a], %[b]", 7, 7, 0, 2, 0, 0, 0, Z);
    TL("dp: UMLAL carry into high", "umlal %[lo], %[hi], %[a], %[b]", 0xffffffff, 0, 1, 1, 0,
       0, 1, 0);
    TL("dp: SMLAL", "smlal %[lo], %[hi], %[a], %[b]", 0, 0, 0xffffffff, 1, 0, 0xffffffff,
       0xffffffff, 0);
    TL("dp: SMLALS", "smlals %[lo], %[hi], %[a], %[b]", 1, 0, 0xffffffff, 1, 0, 0, 0, Z);
    TL("dp: UMAAL maximum", "umaal %[lo], %[hi], %[a], %[b]", 0xffffffff, 0xffffffff,
       0xffffffff, 0xffffffff, 0, 0xffffffff, 0xffffffff, 0);
    TL("dp: UMAAL small", "umaal %[lo], %[hi], %[a], %[b]", 10, 20, 2, 3, 0, 36, 0, 0);
    TL("dp: SMLALBB", "smlalbb %[lo], %[hi], %[a], %[b]", 1, 0, 0xffff, 2, 0, 0xffffffff,
       0xffffffff, 0);
    TL("dp: SMLALTB", "smlaltb %[lo], %[hi], %[a], %[b]", 0, 1, 0x7fff0000, 0x7fff, 0,
       0x3fff0001, 1, 0);
    TL("dp: SMLALD", "smlald %[lo], %[hi], %[a], %[b]", 0, 1, 0x00020003, 0x00040005, 0, 23, 1,
       0);
    TL("dp: SMLALDX", "smlaldx %[lo], %[hi], %[a], %[b]", 0, 0, 0x00020003, 0x00040005, 0, 22,
       0, 0);
    TL("dp: SMLSLD", "smlsld %[lo], %[hi], %[a], %[b]", 0, 0, 0x00030002, 0x00050004, 0,
       0xfffffff9, 0xffffffff, 0);
}

static void divide(void)
{
    T("dp: UDIV", "udiv %[r], %[a], %[b]", 0, 100, 7, 0, 0, 14, 0);
    T("dp: UDIV large", "udiv %[r], %[a], %[b]", 0, 0xffffffff, 2, 0, 0, 0x7fffffff, 0);
    T("dp: UDIV by zero is 0", "udiv %[r], %[a], %[b]", 0x1234, 100, 0, 0, 0, 0, 0);
    T("dp: SDIV rounds toward zero", "sdiv %[r], %[a], %[b]", 0, (uint32_t)-100, 7, 0, 0,
      (uint32_t)-14, 0);
    T("dp: SDIV negative divisor", "sdiv %[r], %[a], %[b]", 0, 100, (uint32_t)-7, 0, 0,
      (uint32_t)-14, 0);
    T("dp: SDIV INT_MIN / -1", "sdiv %[r], %[a], %[b]", 0, 0x80000000, 0xffffffff, 0, 0,
      0x80000000, 0);
    T("dp: SDIV by zero is 0", "sdiv %[r], %[a], %[b]", 0x1234, (uint32_t)-5, 0, 0, 0, 0, 0);
}

static void bits(void)
{
    T("dp: CLZ 0", "clz %[r], %[a]", 0, 0, 0, 0, 0, 32, 0);
    T("dp: CLZ 1", "clz %[r], %[a]", 0, 1, 0, 0, 0, 31, 0);
    T("dp: CLZ top bit", "clz %[r], %[a]", 0, 0x80000000, 0, 0, 0, 0, 0);
    T("dp: CLZ 0x00ff0000", "clz %[r], %[a]", 0, 0x00ff0000, 0, 0, 0, 8, 0);
    T("dp: RBIT", "rbit %[r], %[a]", 0, 0x12345678, 0, 0, 0, 0x1e6a2c48, 0);
    T("dp: RBIT 1", "rbit %[r], %[a]", 0, 1, 0, 0, 0, 0x80000000, 0);
    T("dp: REV", "rev %[r], %[a]", 0, 0x12345678, 0, 0, 0, 0x78563412, 0);
    T("dp: REV16", "rev16 %[r], %[a]", 0, 0x12345678, 0, 0, 0, 0x34127856, 0);
    T("dp: REVSH negative", "revsh %[r], %[a]", 0, 0x12345680, 0, 0, 0, 0xffff8056, 0);
    T("dp: REVSH positive", "revsh %[r], %[a]", 0, 0xffff8012, 0, 0, 0, 0x1280, 0);
    T("dp: UBFX", "ubfx %[r], %[a], #4, #8", 0, 0x12345678, 0, 0, 0, 0x67, 0);
    T("dp: UBFX whole word", "ubfx %[r], %[a], #0, #32", 0, 0x87654321, 0, 0, 0, 0x87654321, 0);
    T("dp: SBFX negative", "sbfx %[r], %[a], #4, #8", 0, 0x12345f78, 0, 0, 0, 0xfffffff7, 0);
    T("dp: SBFX top bit", "sbfx %[r], %[a], #31, #1", 0, 0x80000000, 0, 0, 0, 0xffffffff, 0);
    T("dp: BFI", "bfi %[r], %[a], #8, #8", 0xffffffff, 0x12, 0, 0, 0, 0xffff12ff, 0);
    T("dp: BFI top", "bfi %[r], %[a], #28, #4", 0, 0xffffffff, 0, 0, 0, 0xf0000000, 0);
    T("dp: BFC", "bfc %[r], #4, #8", 0xffffffff, 0, 0, 0, 0, 0xfffff00f, 0);
    T("dp: MOVW", "movw %[r], #0x1234", 0xffffffff, 0, 0, 0, 0, 0x1234, 0);
    T("dp: MOVT keeps the low half", "movt %[r], #0x5678", 0xffffabcd, 0, 0, 0, 0, 0x5678abcd,
      0);
    T("dp: PKHBT", "pkhbt %[r], %[a], %[b], lsl #16", 0, 0x11112222, 0x33334444, 0, 0,
      0x44442222, 0);
    T("dp: PKHTB", "pkhtb %[r], %[a], %[b], asr #16", 0, 0x11112222, 0x33334444, 0, 0,
      0x11113333, 0);
    T("dp: SXTB", "sxtb %[r], %[a]", 0, 0x1280, 0, 0, 0, 0xffffff80, 0);
    T("dp: SXTH ROR #8", "sxth %[r], %[a], ror #8", 0, 0x00800000, 0, 0, 0, 0xffff8000, 0);
    T("dp: UXTAB ROR #8", "uxtab %[r], %[a], %[b], ror #8", 0, 0x100, 0xff00, 0, 0, 0x1ff, 0);
    T("dp: SXTAH", "sxtah %[r], %[a], %[b]", 0, 1, 0x8000, 0, 0, 0xffff8001, 0);
    T("dp: UXTB16", "uxtb16 %[r], %[a]", 0, 0x12345678, 0, 0, 0, 0x00340078, 0);
    T("dp: SXTB16 ROR #8", "sxtb16 %[r], %[a], ror #8", 0, 0x80ff7f00, 0, 0, 0, 0xff80007f, 0);
}

/* ConditionPassed() of the ARM ARM (A8.3): cond and APSR.NZCV as bits 3:0 = N Z C V. */
static bool cond_holds(unsigned cond, unsigned nzcv)
{
    bool n = nzcv & 8, z = nzcv & 4, c = nzcv & 2, v = nzcv & 1;
    bool r;
    switch (cond >> 1) {
    case 0: r = z; break;
    case 1: r = c; break;
    case 2: r = n; break;
    case 3: r = v; break;
    case 4: r = c && !z; break;
    case 5: r = n == v; break;
    case 6: r = (n == v) && !z; break;
    default: r = true; break;
    }
    return (cond & 1) && cond != 15 ? !r : r;
}

#define COND(cc)                                                                                   \
    static uint32_t run_##cc(uint32_t nzcv)                                                        \
    {                                                                                              \
        uint32_t r = 0;                                                                            \
        __asm__ volatile("msr APSR_nzcvq, %[f]\n\tmov" #cc " %[r], #1"                             \
                         : [r] "+r"(r)                                                             \
                         : [f] "r"(nzcv << 28)                                                     \
                         : "cc");                                                                  \
        return r;                                                                                  \
    }
COND(eq) COND(ne) COND(cs) COND(cc) COND(mi) COND(pl) COND(vs) COND(vc)
COND(hi) COND(ls) COND(ge) COND(lt) COND(gt) COND(le) COND(al)

static void conditions(void)
{
    static uint32_t (*const run[15])(uint32_t) = {
        run_eq, run_ne, run_cs, run_cc, run_mi, run_pl, run_vs, run_vc,
        run_hi, run_ls, run_ge, run_lt, run_gt, run_le, run_al,
    };
    static const char *const names[15] = {
        "dp: condition EQ", "dp: condition NE", "dp: condition CS", "dp: condition CC",
        "dp: condition MI", "dp: condition PL", "dp: condition VS", "dp: condition VC",
        "dp: condition HI", "dp: condition LS", "dp: condition GE", "dp: condition LT",
        "dp: condition GT", "dp: condition LE", "dp: condition AL",
    };
    for (unsigned cond = 0; cond < 15; cond++) {
        uint32_t wrong = 0; /* bit n: NZCV = n gave the wrong answer */
        for (unsigned nzcv = 0; nzcv < 16; nzcv++) {
            if (run[cond](nzcv) != (cond_holds(cond, nzcv) ? 1u : 0u)) {
                wrong |= 1u << nzcv;
            }
        }
        test_check(wrong == 0, names[cond], "wrong for NZCV values (bitmap) 0x%x", wrong);
    }

    /* A failed condition must not write the flags either. */
    T("dp: ADDSNE not executed keeps flags", "addsne %[r], %[a], %[b]", 9, 1, 1, 0, Z | C, 9,
      Z | C);
    T("dp: ADDSEQ executed sets flags", "addseq %[r], %[a], %[b]", 9, 1, 1, 0, Z | C, 2, 0);
}

int main(void)
{
    arithmetic();
    logical();
    shifts_imm();
    shifts_reg();
    saturation();
    parallel();
    multiplies();
    divide();
    bits();
    conditions();
    return 0;
}
