/*
 * Thumb-2 (T32) and IT: entering Thumb state from ARM with BX, BLX (register and immediate) and
 * MOV/LDR to pc, returning from Thumb functions to ARM callers and from ARM functions to Thumb
 * callers with BX lr, POP {pc}, LDR pc and (ARM only) MOV pc, lr; results and flags of 16-bit
 * and 32-bit encodings, including the rule that a 16-bit data-processing instruction sets the
 * flags outside an IT block and not inside one; IT blocks of every shape (IT ... ITEEE, with an
 * even and an odd first condition, taken and not taken); CBZ/CBNZ; TBB/TBH; PC-relative
 * addressing with Align(PC, 4).
 *
 * main() and the library are ARM code; the checks on T32 encodings run in functions compiled
 * for Thumb (target("thumb")), and the interworking functions are written in assembly below.
 * Expected values come from the ARM ARM pseudocode; the program passes on QEMU 7.2 too.
 */
#include "test.h"

#define N (1u << 31)
#define Z (1u << 30)
#define C (1u << 29)
#define V (1u << 28)
#define FLAG_MASK 0xf8000000u

__asm__(".arch_extension idiv");

/* ---- interworking functions -------------------------------------------------------------- */

/*
 * Each returns its argument plus its own number, plus the state it ran in: how far ahead of an
 * instruction pc reads (4 in Thumb state, 8 in ARM state: MRS cannot tell, it reads CPSR.T as
 * 0) times 0x10000. The caller then checks its own state survived the return.
 */
uint32_t t_bxlr(uint32_t x);  /* Thumb, returns with BX lr */
uint32_t t_pop(uint32_t x);   /* Thumb, POP {r4, pc} */
uint32_t t_ldrpc(uint32_t x); /* Thumb, LDR pc, [sp], #4 */
uint32_t a_bxlr(uint32_t x);  /* ARM, BX lr */
uint32_t a_pop(uint32_t x);   /* ARM, POP {r4, pc} */
uint32_t a_ldrpc(uint32_t x); /* ARM, LDR pc, [sp], #4 */
uint32_t a_movpc(uint32_t x); /* ARM, MOV pc, lr (ALUWritePC interworks in ARM state) */

__asm__("   .syntax unified\n"
        "   .text\n"
        "   .macro STATE_INTO_R0\n" /* r0 |= (how far ahead pc reads) << 16 */
        "1: mov r1, pc\n"
        "   ldr r2, 2f\n"
        "   b 3f\n"
        "   .balign 4\n"
        "2: .word 1b\n"
        "3: sub r1, r1, r2\n"
        "   orr r0, r0, r1, lsl #16\n"
        "   .endm\n"
        "   .thumb\n"
        "   .balign 4\n"
        "   .global t_bxlr, t_pop, t_ldrpc\n"
        "   .type t_bxlr, %function\n"
        "   .thumb_func\n"
        "t_bxlr:\n"
        "   adds r0, #1\n"
        "   STATE_INTO_R0\n"
        "   bx lr\n"
        "   .type t_pop, %function\n"
        "   .thumb_func\n"
        "t_pop:\n"
        "   push {r4, lr}\n"
        "   adds r0, #2\n"
        "   STATE_INTO_R0\n"
        "   pop {r4, pc}\n"
        "   .type t_ldrpc, %function\n"
        "   .thumb_func\n"
        "t_ldrpc:\n"
        "   str lr, [sp, #-8]!\n"
        "   adds r0, #3\n"
        "   STATE_INTO_R0\n"
        "   ldr pc, [sp], #8\n"
        "   .arm\n"
        "   .balign 4\n"
        "   .global a_bxlr, a_pop, a_ldrpc, a_movpc\n"
        "   .type a_bxlr, %function\n"
        "a_bxlr:\n"
        "   add r0, r0, #10\n"
        "   STATE_INTO_R0\n"
        "   bx lr\n"
        "   .type a_pop, %function\n"
        "a_pop:\n"
        "   push {r4, lr}\n"
        "   add r0, r0, #20\n"
        "   STATE_INTO_R0\n"
        "   pop {r4, pc}\n"
        "   .type a_ldrpc, %function\n"
        "a_ldrpc:\n"
        "   str lr, [sp, #-8]!\n"
        "   add r0, r0, #30\n"
        "   STATE_INTO_R0\n"
        "   ldr pc, [sp], #8\n"
        "   .type a_movpc, %function\n"
        "a_movpc:\n"
        "   add r0, r0, #40\n"
        "   STATE_INTO_R0\n"
        "   mov pc, lr\n");

#define IN_THUMB 0x40000u
#define IN_ARM 0x80000u

/* 1 in Thumb state, 0 in ARM state (see above). */
static inline __attribute__((always_inline)) uint32_t cpsr_t(void)
{
    uint32_t a, b;
    __asm__ volatile("1:\tmov %0, pc\n\tldr %1, 2f\n\tb 3f\n\t.balign 4\n2:\t.word 1b\n3:"
                     : "=l"(a), "=l"(b));
    return a - b == 4 ? 1 : 0;
}

static void check_call(const char *name, uint32_t got, uint32_t want, uint32_t caller_t,
                       uint32_t want_caller_t)
{
    test_check(got == want && caller_t == want_caller_t, name,
               "callee returned 0x%x (expected 0x%x), caller's T bit %u", got, want, caller_t);
}

typedef uint32_t (*fn_t)(uint32_t);
/* volatile: calls through these are BLX <register>, not direct BL/BLX <label>. */
static fn_t volatile p_t_bxlr = t_bxlr, p_t_pop = t_pop, p_t_ldrpc = t_ldrpc;
static fn_t volatile p_a_bxlr = a_bxlr, p_a_pop = a_pop, p_a_ldrpc = a_ldrpc,
                     p_a_movpc = a_movpc;

/* Thumb callers of ARM functions. */
__attribute__((target("thumb"), noinline)) static void thumb_calls_arm(void)
{
    check_call("thumb: BLX immediate to ARM, BX lr back",
               a_bxlr(0x100), IN_ARM + 0x10a, cpsr_t(), 1);
    check_call("thumb: BLX register to ARM, BX lr back",
               p_a_bxlr(0x100), IN_ARM + 0x10a, cpsr_t(), 1);
    check_call("thumb: ARM callee returns with POP {pc}",
               p_a_pop(0x100), IN_ARM + 0x114, cpsr_t(), 1);
    check_call("thumb: ARM callee returns with LDR pc",
               p_a_ldrpc(0x100), IN_ARM + 0x11e, cpsr_t(), 1);
    check_call("thumb: ARM callee returns with MOV pc, lr",
               p_a_movpc(0x100), IN_ARM + 0x128, cpsr_t(), 1);
    check_call("thumb: Thumb to Thumb through BLX register",
               p_t_pop(0x100), IN_THUMB + 0x102, cpsr_t(), 1);
}

static void arm_calls_thumb(void)
{
    check_call("thumb: ARM BL to Thumb (linker BLX), BX lr back", t_bxlr(0x100), IN_THUMB + 0x101,
               cpsr_t(), 0);
    check_call("thumb: ARM BLX register, Thumb POP {pc} back", p_t_pop(0x100), IN_THUMB + 0x102,
               cpsr_t(), 0);
    check_call("thumb: ARM BLX register, Thumb LDR pc back", p_t_ldrpc(0x100), IN_THUMB + 0x103,
               cpsr_t(), 0);

    register uint32_t r0 __asm__("r0");
    /* BLX <label> from ARM: the assembler knows the target is Thumb. */
    r0 = 0x100;
    __asm__ volatile("blx t_bxlr" : "+r"(r0) : : "r1", "r2", "lr", "cc", "memory");
    check_call("thumb: ARM BLX immediate", r0, IN_THUMB + 0x101, cpsr_t(), 0);
    /* BX with bit 0 set, return address made by hand. */
    r0 = 0x100;
    __asm__ volatile("adr lr, 1f\n\tbx %[fn]\n1:"
                     : "+r"(r0)
                     : [fn] "r"(p_t_pop)
                     : "r1", "r2", "lr", "cc", "memory");
    check_call("thumb: ARM BX to Thumb", r0, IN_THUMB + 0x102, cpsr_t(), 0);
    /* MOV pc, Rm in ARM state interworks too (ALUWritePC is BXWritePC there). */
    r0 = 0x100;
    __asm__ volatile("adr lr, 1f\n\tmov pc, %[fn]\n1:"
                     : "+r"(r0)
                     : [fn] "r"(p_t_bxlr)
                     : "r1", "r2", "lr", "cc", "memory");
    check_call("thumb: ARM MOV pc to Thumb", r0, IN_THUMB + 0x101, cpsr_t(), 0);
    /* LDR pc from memory (LoadWritePC). */
    r0 = 0x100;
    __asm__ volatile("adr lr, 1f\n\tldr pc, [%[p]]\n1:"
                     : "+r"(r0)
                     : [p] "r"(&p_t_ldrpc)
                     : "r1", "r2", "lr", "cc", "memory");
    check_call("thumb: ARM LDR pc to Thumb", r0, IN_THUMB + 0x103, cpsr_t(), 0);
    /* BX to an ARM address (bit 0 clear) stays in ARM state. */
    r0 = 0x100;
    __asm__ volatile("adr lr, 1f\n\tbx %[fn]\n1:"
                     : "+r"(r0)
                     : [fn] "r"(p_a_pop)
                     : "r1", "r2", "lr", "cc", "memory");
    check_call("thumb: ARM BX to ARM", r0, IN_ARM + 0x114, cpsr_t(), 0);
}

/* ---- T32 results and flags --------------------------------------------------------------- */

static void check(const char *name, uint32_t r, uint32_t f, uint32_t want_r, uint32_t want_f)
{
    f &= FLAG_MASK;
    test_check(r == want_r && f == want_f, name, "result 0x%x flags 0x%x, expected 0x%x flags 0x%x",
               r, f, want_r, want_f);
}

/* As in dataproc.c, with low registers ("l") so that 16-bit encodings (".n") are possible. */
#define T(name, insn, d, va, vb, fin, want_r, want_f)                                              \
    do {                                                                                           \
        uint32_t r_ = (d), f_;                                                                     \
        __asm__ volatile(".syntax unified\n\tmsr APSR_nzcvq, %[fi]\n\t" insn                       \
                         "\n\tmrs %[fo], APSR"                                                     \
                         : [r] "+&l"(r_), [fo] "=&r"(f_)                                           \
                         : [a] "l"((uint32_t)(va)), [b] "l"((uint32_t)(vb)),                       \
                           [fi] "r"((uint32_t)(fin))                                               \
                         : "cc");                                                                  \
        check(name, r_, f_, (want_r), (want_f));                                                   \
    } while (0)

__attribute__((target("thumb"), noinline)) static void encodings16(void)
{
    check_call("thumb: running in Thumb state", cpsr_t(), 1, 1, 1);
    /* The same 16-bit encodings set the flags outside IT and not inside (A8.6: "setflags =
     * !InITBlock()"). */
    T("thumb: ADDS.N (register) sets flags outside IT", "adds.n %[r], %[a], %[b]", 0,
      0xffffffff, 1, 0, 0, Z | C);
    T("thumb: ADD.N (register) inside IT keeps flags", "it eq\n\taddeq.n %[r], %[a], %[b]", 5,
      0xffffffff, 1, Z, 0, Z);
    T("thumb: MOVS.N #imm outside IT", "movs.n %[r], #0", 5, 0, 0, N | C | V, 0, Z | C | V);
    T("thumb: MOV.N #imm inside IT", "it ne\n\tmovne.n %[r], #0", 5, 0, 0, N | C, 0, N | C);
    T("thumb: LSLS.N by register outside IT", "lsls.n %[r], %[b]", 1, 0, 32, 0, 0, Z | C);
    T("thumb: LSL.N by register inside IT", "it eq\n\tlsleq.n %[r], %[b]", 1, 0, 32, Z, 0, Z);
    T("thumb: SUBS.N #imm3", "subs.n %[r], %[a], #1", 0, 1, 0, 0, 0, Z | C);
    T("thumb: SUB.N #imm3 inside IT", "it cs\n\tsubcs.n %[r], %[a], #1", 0, 1, 0, C, 0, C);
    T("thumb: ADDS.N #imm8", "adds.n %[r], #200", 0x7fffff60, 0, 0, 0, 0x80000028, N | V);
    T("thumb: CMP.N inside IT still sets flags", "it eq\n\tcmpeq.n %[a], %[b]", 0, 1, 2, Z | C,
      0, N);
    T("thumb: RSBS.N (NEG)", "rsbs.n %[r], %[a], #0", 9, 0, 0, 0, 0, Z | C);
    T("thumb: MULS.N keeps C", "muls.n %[r], %[a], %[r]", 3, 5, 0, Z | C, 15, C);
    T("thumb: ADCS.N", "adcs.n %[r], %[b]", 0xffffffff, 0, 0, C, 0, Z | C);
    T("thumb: SBCS.N", "sbcs.n %[r], %[b]", 5, 0, 5, 0, 0xffffffff, N);
    T("thumb: ANDS.N", "ands.n %[r], %[b]", 0xf0, 0, 0x0f, C | V, 0, Z | C | V);
    T("thumb: BICS.N", "bics.n %[r], %[b]", 0xff, 0, 0x0f, 0, 0xf0, 0);
    T("thumb: MVNS.N", "mvns.n %[r], %[a]", 0, 0x7fffffff, 0, 0, 0x80000000, N);
    T("thumb: EORS.N inside IT is EOR", "it mi\n\teormi.n %[r], %[b]", 0xff, 0, 0xff, N, 0, N);
    T("thumb: LSRS.N #32", "lsrs.n %[r], %[a], #32", 5, 0x80000000, 0, 0, 0, Z | C);
    T("thumb: ASRS.N #32", "asrs.n %[r], %[a], #32", 5, 0x80000000, 0, 0, 0xffffffff, N | C);
    T("thumb: LSLS.N #0 keeps C", "lsls.n %[r], %[a], #0", 5, 0, 0, C, 0, Z | C);
    T("thumb: RORS.N by register 36", "rors.n %[r], %[b]", 0xf, 0, 36, 0, 0xf0000000, N | C);
    T("thumb: ASRS.N by register 0 keeps C", "asrs.n %[r], %[b]", 0x80000000, 0, 0x100, C,
      0x80000000, N | C);
    T("thumb: TST.N", "tst.n %[a], %[b]", 7, 0x80000000, 0x80000000, 0, 7, N);
    T("thumb: CMN.N", "cmn.n %[a], %[b]", 7, 0x80000000, 0x80000000, 0, 7, Z | C | V);
    T("thumb: REV16.N", "rev16.n %[r], %[a]", 0, 0x12345678, 0, 0, 0x34127856, 0);
    T("thumb: REVSH.N", "revsh.n %[r], %[a]", 0, 0x00000080, 0, 0, 0xffff8000, 0);
    T("thumb: SXTB.N", "sxtb.n %[r], %[a]", 0, 0x1ff, 0, 0, 0xffffffff, 0);
    T("thumb: UXTH.N", "uxth.n %[r], %[a]", 0, 0xffff8001, 0, 0, 0x8001, 0);
    /* CMP of two high registers (16-bit T2 encoding) */
    {
        uint32_t f;
        __asm__ volatile("msr APSR_nzcvq, %1\n\tmov r8, #3\n\tmov r9, #3\n\tcmp.n r8, r9\n\t"
                         "mrs %0, APSR"
                         : "=r"(f)
                         : "r"(0)
                         : "r8", "r9", "cc");
        check("thumb: CMP.N of high registers", 0, f, 0, Z | C);
    }
    /* MOV (register) from pc reads the address + 4, not word-aligned (unlike ADR and LDR). */
    {
        uint32_t r, here;
        __asm__ volatile(".balign 4\n\tnop\n1:\tmov %0, pc\n\tadr %1, 1b"
                         : "=&l"(r), "=&l"(here));
        test_check_eq("thumb: MOV from pc reads the address + 4", r - here, 4);
    }
    /* LDR literal at a halfword-aligned (not word-aligned) address uses Align(PC, 4). */
    {
        uint32_t v;
        __asm__ volatile(".balign 4\n\tnop\n\tldr.n %0, 1f\n\tb 2f\n\t.balign 4\n"
                         "1:\t.word 0x600dcafe\n2:"
                         : "=l"(v));
        test_check_eq("thumb: LDR.N literal with Align(PC, 4)", v, 0x600dcafe);
        __asm__ volatile(".balign 4\n\tldr.n %0, 1f\n\tb 2f\n\t.balign 4\n"
                         "1:\t.word 0x0ddba11\n2:"
                         : "=l"(v));
        test_check_eq("thumb: LDR.N literal from a word-aligned address", v, 0x0ddba11);
    }
    {
        uint32_t a, b;
        __asm__ volatile(".balign 4\n\tnop\n\tadr.n %0, 1f\n\tldr.n %1, 2f\n\tb 3f\n\t.balign 4\n"
                         "1:\t.word 0\n2:\t.word 1b\n3:"
                         : "=l"(a), "=l"(b));
        test_check_eq("thumb: ADR.N uses Align(PC, 4)", a, b);
    }
}

__attribute__((target("thumb"), noinline)) static void encodings32(void)
{
    T("thumb: ORN (register)", "orn %[r], %[a], %[b]", 0, 0xf0, 0xffff00ff, 0, 0x0000fff0, 0);
    T("thumb: ORNS #imm keeps C for an unrotated constant", "orns %[r], %[a], #0xff", 0, 0, 0,
      C, 0xffffff00, N | C);
    T("thumb: ORN shifted register", "orn %[r], %[a], %[b], lsr #28", 0, 0, 0xf0000000, 0,
      0xfffffff0, 0);
    T("thumb: ANDS.W rotated constant sets C", "ands.w %[r], %[a], #0x80000000", 0, 0xffffffff,
      0, 0, 0x80000000, N | C);
    T("thumb: ANDS.W rotated constant clears C", "ands.w %[r], %[a], #0x3fc", 0, 0xffffffff, 0,
      C, 0x3fc, 0);
    T("thumb: AND.W constant 0x00XY00XY", "and.w %[r], %[a], #0x00ab00ab", 0, 0xffffffff, 0, 0,
      0x00ab00ab, 0);
    T("thumb: MOV.W constant 0xXYXYXYXY", "mov.w %[r], #0xabababab", 0, 0, 0, 0, 0xabababab, 0);
    T("thumb: MVN.W constant 0xXY00XY00", "mvn.w %[r], #0xab00ab00", 0, 0, 0, 0, 0x54ff54ff, 0);
    T("thumb: ADDW #imm12", "addw %[r], %[a], #0xfff", 0, 1, 0, 0, 0x1000, 0);
    T("thumb: SUBW #imm12", "subw %[r], %[a], #0x801", 0, 0x1000, 0, 0, 0x7ff, 0);
    T("thumb: ADDS.W shifted register", "adds.w %[r], %[a], %[b], lsl #4", 0, 0xfffffff0, 1,
      0, 0, Z | C);
    T("thumb: LSL.W by 33", "lsl.w %[r], %[a], %[b]", 0, 0xffffffff, 33, 0, 0, 0);
    T("thumb: MOVS.W RRX", "movs.w %[r], %[a], rrx", 0, 1, 0, C, 0x80000000, N | C);
    T("thumb: TEQ.W", "teq.w %[a], %[b]", 0, 5, 5, 0, 0, Z);
    T("thumb: MOVW/MOVT", "movw %[r], #0x5678\n\tmovt %[r], #0x1234", 0, 0, 0, 0, 0x12345678,
      0);
    T("thumb: SDIV", ".arch_extension idiv\n\tsdiv %[r], %[a], %[b]", 0, (uint32_t)-9, 2, 0,
      (uint32_t)-4, 0);
    T("thumb: UDIV by zero", ".arch_extension idiv\n\tudiv %[r], %[a], %[b]", 7, 9, 0, 0, 0,
      0);
    T("thumb: MLS", "mls %[r], %[a], %[b], %[r]", 100, 7, 9, 0, 37, 0);
    T("thumb: CLZ", "clz %[r], %[a]", 0, 0x0000ffff, 0, 0, 16, 0);
    T("thumb: RBIT", "rbit %[r], %[a]", 0, 0x12345678, 0, 0, 0x1e6a2c48, 0);
    T("thumb: UBFX", "ubfx %[r], %[a], #28, #4", 0, 0xa0000000, 0, 0, 0xa, 0);
    T("thumb: SBFX", "sbfx %[r], %[a], #0, #12", 0, 0x00000800, 0, 0, 0xfffff800, 0);
    T("thumb: BFI", "bfi %[r], %[a], #4, #4", 0xffffffff, 0, 0, 0, 0xffffff0f, 0);
    T("thumb: SSAT", "ssat %[r], #8, %[a]", 0, 0x1000, 0, 0, 0x7f, 1u << 27);
    T("thumb: QADD", "qadd %[r], %[a], %[b]", 0, 0x80000000, 0xffffffff, 0, 0x80000000,
      1u << 27);
    T("thumb: UXTAB16", "uxtab16 %[r], %[a], %[b]", 0, 0x00010001, 0x12ff34ff, 0, 0x01000100,
      0);
    T("thumb: SMMUL", "smmul %[r], %[a], %[b]", 0, 0x80000000, 0x80000000, 0, 0x40000000, 0);
    {
        uint32_t lo = 0xffffffff, hi = 0xffffffff;
        __asm__ volatile("umaal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(2), "r"(3));
        test_check(lo == 4 && hi == 2, "thumb: UMAAL", "0x%x:%08x", hi, lo);
        __asm__ volatile("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(-2), "r"(3));
        test_check(lo == 0xfffffffe && hi == 1, "thumb: SMLAL", "0x%x:%08x", hi, lo);
    }
    {
        static uint32_t buf[4] = {0x11, 0x22, 0x33, 0x44};
        uint32_t *p = &buf[2];
        uint32_t a, b, c;
        __asm__ volatile("ldr.w %0, [%3, #-4]\n\tldrd %1, %2, [%3], #-8"
                         : "=&r"(a), "=&r"(b), "=&r"(c), "+r"(p)
                         :
                         : "memory");
        test_check(a == 0x22 && b == 0x33 && c == 0x44 && p == &buf[0],
                   "thumb: LDR.W negative offset, LDRD post-indexed", "%x %x %x", a, b, c);
        __asm__ volatile("ldr %0, [%1, %2, lsl #2]" : "=r"(a) : "r"(buf), "r"(3) : "memory");
        test_check_eq("thumb: LDR.W scaled register", a, 0x44);
        __asm__ volatile("ldrsh.w %0, [%1, #-2]" : "=r"(a) : "r"(&buf[1]) : "memory");
        test_check_eq("thumb: LDRSH.W negative offset", a, 0);
    }
}

/* ---- IT blocks --------------------------------------------------------------------------- */

/*
 * it<pat> <first> then four ORRs setting bits 0-3, with conditions c1-c4 (those past the end
 * of the block have none, and always run). want: the bits that must be set.
 */
#define ITB(name, pat, first, c1, c2, c3, c4, fin, want)                                           \
    do {                                                                                           \
        uint32_t r_ = 0;                                                                           \
        __asm__ volatile(".syntax unified\n\tmsr APSR_nzcvq, %[f]\n\tit" pat " " first             \
                         "\n\torr" c1 " %[r], %[r], #1\n\torr" c2 " %[r], %[r], #2"                \
                         "\n\torr" c3 " %[r], %[r], #4\n\torr" c4 " %[r], %[r], #8"                \
                         : [r] "+r"(r_)                                                            \
                         : [f] "r"((uint32_t)(fin))                                                \
                         : "cc");                                                                  \
        test_check_eq(name, r_, (want));                                                           \
    } while (0)

__attribute__((target("thumb"), noinline)) static void it_blocks(void)
{
    ITB("thumb: IT EQ, Z=1", "", "eq", "eq", "", "", "", Z, 0xf);
    ITB("thumb: IT EQ, Z=0", "", "eq", "eq", "", "", "", 0, 0xe);
    ITB("thumb: ITT NE, Z=1", "t", "ne", "ne", "ne", "", "", Z, 0xc);
    ITB("thumb: ITT NE, Z=0", "t", "ne", "ne", "ne", "", "", 0, 0xf);
    ITB("thumb: ITE EQ, Z=1", "e", "eq", "eq", "ne", "", "", Z, 0xd);
    ITB("thumb: ITE EQ, Z=0", "e", "eq", "eq", "ne", "", "", 0, 0xe);
    ITB("thumb: ITTT NE, Z=1", "tt", "ne", "ne", "ne", "ne", "", Z, 0x8);
    ITB("thumb: ITTT NE, Z=0", "tt", "ne", "ne", "ne", "ne", "", 0, 0xf);
    ITB("thumb: ITTE EQ, Z=1", "te", "eq", "eq", "eq", "ne", "", Z, 0xb);
    ITB("thumb: ITTE EQ, Z=0", "te", "eq", "eq", "eq", "ne", "", 0, 0xc);
    ITB("thumb: ITET NE, Z=1", "et", "ne", "ne", "eq", "ne", "", Z, 0xa);
    ITB("thumb: ITET NE, Z=0", "et", "ne", "ne", "eq", "ne", "", 0, 0xd);
    ITB("thumb: ITEE EQ, Z=1", "ee", "eq", "eq", "ne", "ne", "", Z, 0x9);
    ITB("thumb: ITEE EQ, Z=0", "ee", "eq", "eq", "ne", "ne", "", 0, 0xe);
    ITB("thumb: ITTTT NE, Z=1", "ttt", "ne", "ne", "ne", "ne", "ne", Z, 0x0);
    ITB("thumb: ITTTT NE, Z=0", "ttt", "ne", "ne", "ne", "ne", "ne", 0, 0xf);
    ITB("thumb: ITTTE EQ, Z=1", "tte", "eq", "eq", "eq", "eq", "ne", Z, 0x7);
    ITB("thumb: ITTTE EQ, Z=0", "tte", "eq", "eq", "eq", "eq", "ne", 0, 0x8);
    ITB("thumb: ITTET NE, Z=1", "tet", "ne", "ne", "ne", "eq", "ne", Z, 0x4);
    ITB("thumb: ITTET NE, Z=0", "tet", "ne", "ne", "ne", "eq", "ne", 0, 0xb);
    ITB("thumb: ITTEE EQ, Z=1", "tee", "eq", "eq", "eq", "ne", "ne", Z, 0x3);
    ITB("thumb: ITTEE EQ, Z=0", "tee", "eq", "eq", "eq", "ne", "ne", 0, 0xc);
    ITB("thumb: ITETT NE, Z=1", "ett", "ne", "ne", "eq", "ne", "ne", Z, 0x2);
    ITB("thumb: ITETT NE, Z=0", "ett", "ne", "ne", "eq", "ne", "ne", 0, 0xd);
    ITB("thumb: ITETE EQ, Z=1", "ete", "eq", "eq", "ne", "eq", "ne", Z, 0x5);
    ITB("thumb: ITETE EQ, Z=0", "ete", "eq", "eq", "ne", "eq", "ne", 0, 0xa);
    ITB("thumb: ITEET NE, Z=1", "eet", "ne", "ne", "eq", "eq", "ne", Z, 0x6);
    ITB("thumb: ITEET NE, Z=0", "eet", "ne", "ne", "eq", "eq", "ne", 0, 0x9);
    ITB("thumb: ITEEE EQ, Z=1", "eee", "eq", "eq", "ne", "ne", "ne", Z, 0x1);
    ITB("thumb: ITEEE EQ, Z=0", "eee", "eq", "eq", "ne", "ne", "ne", 0, 0xe);
    /* Other conditions: HI/LS (C and Z), GE/LT (N and V), and GT with all three. */
    ITB("thumb: ITE HI, C=1 Z=0", "e", "hi", "hi", "ls", "", "", C, 0xd);
    ITB("thumb: ITE HI, C=1 Z=1", "e", "hi", "hi", "ls", "", "", C | Z, 0xe);
    ITB("thumb: ITTE LT, N=1 V=0", "te", "lt", "lt", "lt", "ge", "", N, 0xb);
    ITB("thumb: ITTE LT, N=1 V=1", "te", "lt", "lt", "lt", "ge", "", N | V, 0xc);
    ITB("thumb: ITET GT, Z=0 N=V", "et", "gt", "gt", "le", "gt", "", N | V, 0xd);
    ITB("thumb: ITT MI, N=0", "t", "mi", "mi", "mi", "", "", 0, 0xc);

    /* An instruction in the block that changes the flags affects the ones after it. */
    {
        uint32_t r = 0;
        __asm__ volatile("msr APSR_nzcvq, %[f]\n\titte eq\n\tcmpeq %[a], #1\n\t"
                         "orreq %[r], %[r], #1\n\torrne %[r], %[r], #2"
                         : [r] "+r"(r)
                         : [f] "r"(Z), [a] "r"(0)
                         : "cc");
        test_check_eq("thumb: flags set inside an IT block apply to the rest", r, 2);
    }
    /* A branch as the last instruction of an IT block. */
    {
        uint32_t r = 0;
        __asm__ volatile("msr APSR_nzcvq, %[f]\n\titt eq\n\tmoveq %[r], #1\n\tbeq 1f\n\t"
                         "orr %[r], %[r], #2\n1:"
                         : [r] "+r"(r)
                         : [f] "r"(Z)
                         : "cc");
        test_check_eq("thumb: branch ending an IT block, taken", r, 1);
        r = 0;
        __asm__ volatile("msr APSR_nzcvq, %[f]\n\titt eq\n\tmoveq %[r], #1\n\tbeq 1f\n\t"
                         "orr %[r], %[r], #2\n1:"
                         : [r] "+r"(r)
                         : [f] "r"(0)
                         : "cc");
        test_check_eq("thumb: branch ending an IT block, not taken", r, 2);
    }
}

/* ---- CBZ/CBNZ, TBB/TBH ------------------------------------------------------------------- */

__attribute__((target("thumb"), noinline)) static uint32_t cbz(uint32_t x)
{
    uint32_t r = 0;
    __asm__ volatile("cbz %[x], 1f\n\tadds %[r], #1\n1:\tcbnz %[x], 2f\n\tadds %[r], #2\n2:"
                     : [r] "+l"(r)
                     : [x] "l"(x)
                     : "cc");
    return r;
}

__attribute__((target("thumb"), noinline)) static uint32_t tbb(uint32_t i)
{
    uint32_t r;
    __asm__ volatile("tbb [pc, %[i]]\n"
                     "1:\t.byte (2f - 1b) / 2, (3f - 1b) / 2, (4f - 1b) / 2, (5f - 1b) / 2\n"
                     "2:\tmovs %[r], #10\n\tb 6f\n"
                     "3:\tmovs %[r], #20\n\tb 6f\n"
                     "4:\tmovs %[r], #30\n\tb 6f\n"
                     "5:\tmovs %[r], #40\n"
                     "6:"
                     : [r] "=l"(r)
                     : [i] "r"(i)
                     : "cc");
    return r;
}

__attribute__((target("thumb"), noinline)) static uint32_t tbh(uint32_t i)
{
    uint32_t r;
    __asm__ volatile("tbh [pc, %[i], lsl #1]\n"
                     "1:\t.hword (2f - 1b) / 2, (3f - 1b) / 2, (4f - 1b) / 2\n"
                     "2:\tmovs %[r], #11\n\tb 6f\n"
                     "3:\tmovs %[r], #22\n\tb 6f\n"
                     "\t.space 600\n" /* an offset that does not fit a byte */
                     "4:\tmovs %[r], #33\n"
                     "6:"
                     : [r] "=l"(r)
                     : [i] "r"(i)
                     : "cc");
    return r;
}

int main(void)
{
    arm_calls_thumb();
    thumb_calls_arm();
    encodings16();
    encodings32();
    it_blocks();
    test_check_eq("thumb: CBZ taken, CBNZ not taken", cbz(0), 2);
    test_check_eq("thumb: CBZ not taken, CBNZ taken", cbz(7), 1);
    test_check(tbb(0) == 10 && tbb(1) == 20 && tbb(2) == 30 && tbb(3) == 40, "thumb: TBB",
               "%u %u %u %u", tbb(0), tbb(1), tbb(2), tbb(3));
    test_check(tbh(0) == 11 && tbh(1) == 22 && tbh(2) == 33, "thumb: TBH", "%u %u %u", tbh(0),
               tbh(1), tbh(2));
    check_call("thumb: back in ARM state in main", cpsr_t(), 0, 0, 0);
    return 0;
}
