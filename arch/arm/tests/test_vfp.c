/*
 * coremu ARM — tests of the VFP decoder and handlers (decode_vfp.c, ops_vfp.c).
 *
 * One file, two programs:
 *
 * 1. The host test (default): links against decode_vfp.c and ops_vfp.c with small stubs for
 *    memory and exceptions, and checks
 *      - decoding of encodings produced by the GNU assembler (arm-none-eabi-as), A32 and T32;
 *      - hand-checked values from the ARM ARM pseudocode: NaN priority, default NaN,
 *        flush-to-zero, tininess before rounding, rounding modes, conversions, half
 *        precision, fused versus unfused multiply-add, compares, access checks, loads/stores;
 *      - random operands against the host FPU (fenv) where ARM and IEEE 754 agree (every
 *        rounding mode, no FZ/DN, non-NaN results);
 *      - optionally, a reference file produced by real ARM semantics (program 2 under
 *        Debian's qemu-system-arm): every line is replayed through the decoder and handlers.
 *
 *      gcc -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -frounding-math -D_GNU_SOURCE \
 *          -I include -I arch/arm -I <build dir with config.h> \
 *          arch/arm/tests/test_vfp.c arch/arm/tests/stub_mem.c arch/arm/decode_vfp.c \
 *          arch/arm/ops_vfp.c -lm -o test_vfp
 *      ./test_vfp [reference.txt]
 *
 * 2. The oracle generator (-DVFP_ORACLE_GUEST): a bare-metal Cortex-A15 program that runs
 *    every VFP data-processing instruction below on pseudo-random operands and FPSCR settings
 *    and prints, per case, the encoding, the registers and FPSCR before and after.
 *
 *      arm-none-eabi-gcc -DVFP_ORACLE_GUEST -marm -mcpu=cortex-a15 -mfpu=vfpv4 \
 *          -mfloat-abi=softfp -O2 -nostdlib -ffreestanding -Wl,-Ttext=0x40000000 \
 *          -Wl,-e,_start arch/arm/tests/test_vfp.c -o vfp_oracle.elf
 *      qemu-system-arm -M virt -cpu cortex-a15 -nographic -semihosting \
 *          -kernel vfp_oracle.elf > reference.txt 2>&1
 *
 *    (semihosting writes to stderr; -DORACLE_CASES=n cases per instruction, default 600, and
 *    -DORACLE_SEED=x choose another sample.)
 */
#include <stdint.h>

#ifdef VFP_ORACLE_GUEST

/* ==== program 2: the bare-metal oracle generator ============================================ */

__asm__(".section .text.start\n"
        ".global _start\n"
        "_start:\n"
        "  ldr sp, =0x40800000\n"
        /* CPACR: full access to cp10 and cp11; then FPEXC.EN */
        "  mrc p15, 0, r0, c1, c0, 2\n"
        "  orr r0, r0, #(0xf << 20)\n"
        "  mcr p15, 0, r0, c1, c0, 2\n"
        "  isb\n"
        "  mov r0, #0x40000000\n"
        "  vmsr fpexc, r0\n"
        "  bl guest_main\n"
        "  mov r0, #0x18\n" /* SYS_EXIT, ADP_Stopped_ApplicationExit */
        "  ldr r1, =0x20026\n"
        "  svc 0x123456\n"
        "1: b 1b\n"
        ".ltorg\n"
        ".text\n");

static void semihost_write0(const char *s)
{
    register uint32_t r0 __asm__("r0") = 4;
    register const char *r1 __asm__("r1") = s;
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory");
}

/* The instructions under test: each one word at a label, followed by bx lr. Operands live in
 * d0-d3 (s0-s7); results in d0/s0 and FPSCR. */
#define INSNS(X)                                                                                \
    X("vadd.f32 s0, s1, s2") X("vsub.f32 s0, s1, s2") X("vmul.f32 s0, s1, s2")                 \
    X("vnmul.f32 s0, s1, s2") X("vdiv.f32 s0, s1, s2") X("vmla.f32 s0, s1, s2")                \
    X("vmls.f32 s0, s1, s2") X("vnmla.f32 s0, s1, s2") X("vnmls.f32 s0, s1, s2")               \
    X("vfma.f32 s0, s1, s2") X("vfms.f32 s0, s1, s2") X("vfnma.f32 s0, s1, s2")                \
    X("vfnms.f32 s0, s1, s2") X("vsqrt.f32 s0, s1") X("vabs.f32 s0, s1") X("vneg.f32 s0, s1")  \
    X("vcmp.f32 s1, s2") X("vcmpe.f32 s1, s2") X("vcmp.f32 s1, #0") X("vcmpe.f32 s1, #0")      \
    X("vadd.f64 d0, d1, d2") X("vsub.f64 d0, d1, d2") X("vmul.f64 d0, d1, d2")                 \
    X("vnmul.f64 d0, d1, d2") X("vdiv.f64 d0, d1, d2") X("vmla.f64 d0, d1, d2")                \
    X("vmls.f64 d0, d1, d2") X("vnmla.f64 d0, d1, d2") X("vnmls.f64 d0, d1, d2")               \
    X("vfma.f64 d0, d1, d2") X("vfms.f64 d0, d1, d2") X("vfnma.f64 d0, d1, d2")                \
    X("vfnms.f64 d0, d1, d2") X("vsqrt.f64 d0, d1") X("vcmp.f64 d1, d2") X("vcmpe.f64 d1, d2") \
    X("vcmpe.f64 d1, #0") X("vcvt.f64.f32 d0, s3") X("vcvt.f32.f64 s0, d1")                    \
    X("vcvt.f32.s32 s0, s1") X("vcvt.f32.u32 s0, s1") X("vcvt.f64.s32 d0, s3")                 \
    X("vcvt.f64.u32 d0, s3") X("vcvt.s32.f32 s0, s1") X("vcvt.u32.f32 s0, s1")                 \
    X("vcvtr.s32.f32 s0, s1") X("vcvtr.u32.f32 s0, s1") X("vcvt.s32.f64 s0, d1")               \
    X("vcvt.u32.f64 s0, d1") X("vcvtr.s32.f64 s0, d1") X("vcvtr.u32.f64 s0, d1")               \
    X("vcvt.s16.f32 s1, s1, #8") X("vcvt.u16.f32 s1, s1, #3") X("vcvt.s32.f32 s1, s1, #31")    \
    X("vcvt.u32.f32 s1, s1, #1") X("vcvt.s32.f64 d1, d1, #20") X("vcvt.u16.f64 d1, d1, #16")   \
    X("vcvt.f32.s16 s1, s1, #8") X("vcvt.f32.u32 s1, s1, #30") X("vcvt.f64.s32 d1, d1, #7")    \
    X("vcvt.f64.u16 d1, d1, #1") X("vcvtb.f32.f16 s0, s1") X("vcvtt.f32.f16 s0, s1")           \
    X("vcvtb.f16.f32 s0, s1") X("vcvtt.f16.f32 s0, s1")

/* A zero-terminated table of pointers to the instruction words, in a section of its own so
 * that nothing the compiler emits lands between the entries. */
__asm__(".section .rodata.vfp_insns, \"a\"\n"
        ".balign 4\n"
        ".global insn_table\n"
        "insn_table:\n"
        ".text\n");
#define TABLE_ENTRY(text)                                                                      \
    __asm__(".text\n.balign 4\n2: " text "\n  bx lr\n"                                         \
            ".section .rodata.vfp_insns, \"a\"\n  .word 2b\n.text\n");
INSNS(TABLE_ENTRY)
__asm__(".section .rodata.vfp_insns, \"a\"\n  .word 0\n.text\n");
extern const uint32_t insn_table[];

#ifndef ORACLE_CASES
#define ORACLE_CASES 600 /* per instruction */
#endif
#ifndef ORACLE_SEED
#define ORACLE_SEED 0x12345678u
#endif

static uint32_t rng_state = ORACLE_SEED;

static uint32_t rnd(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

/* Interesting single and double values: specials, boundaries, random bits, and values close
 * to the previous one (for cancellation and ties). */
static uint32_t pick32(uint32_t prev)
{
    static const uint32_t special[] = {
        0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001,
        0xff812345, 0x00000001, 0x807fffff, 0x00800000, 0x80800001, 0x7f7fffff, 0xff7fffff,
        0x3f800000, 0xbf800000, 0x3f000000, 0x4f000000, 0xcf000000, 0x4f800000, 0x477ff000,
        0x33800000, 0x33000000, 0x38800000, 0x387fc000, 0x4effffff, 0xceffffff, 0x40200000,
    };
    switch (rnd() % 8) {
    case 0:
    case 1:
        return special[rnd() % (sizeof(special) / sizeof(special[0]))];
    case 2: /* tiny */
        return (rnd() & 0x80ffffffu);
    case 3: /* near prev */
        return prev ^ (rnd() & 0x8000000fu) ^ (rnd() % 4 == 0 ? 0x00800000u : 0);
    case 4: /* moderate exponents */
        return (rnd() & 0x807fffffu) | ((0x70u + rnd() % 32) << 23);
    case 5: /* integers */
        return rnd() % 2 ? rnd() % 100000 : (uint32_t)-(int32_t)(rnd() % 100000);
    default:
        return rnd();
    }
}

static uint64_t pick64(uint64_t prev)
{
    static const uint64_t special[] = {
        0x0000000000000000ull, 0x8000000000000000ull, 0x7ff0000000000000ull,
        0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000123ull,
        0x7ff0000000000001ull, 0xfff4000000000000ull, 0x0000000000000001ull,
        0x800fffffffffffffull, 0x0010000000000000ull, 0x7fefffffffffffffull,
        0x3ff0000000000000ull, 0xbff0000000000000ull, 0x41dfffffffc00000ull,
        0x41efffffffe00000ull, 0xc1e0000000000000ull, 0x3fe0000000000000ull,
        0x47efffffe0000000ull, 0x36a0000000000000ull, 0x3810000000000000ull,
    };
    switch (rnd() % 8) {
    case 0:
    case 1:
        return special[rnd() % (sizeof(special) / sizeof(special[0]))];
    case 2:
        return ((uint64_t)(rnd() & 0x800fffffu) << 32) | rnd();
    case 3:
        return prev ^ (rnd() & 0xfu) ^ ((uint64_t)(rnd() % 4 == 0) << 52) ^
               ((uint64_t)(rnd() % 2) << 63);
    case 4:
        return ((uint64_t)((rnd() & 0x800fffffu) | ((0x3e0u + rnd() % 64) << 20)) << 32) | rnd();
    case 5: /* a single in each half, for the S-register forms */
        return ((uint64_t)pick32(0) << 32) | pick32((uint32_t)prev);
    default:
        return ((uint64_t)rnd() << 32) | rnd();
    }
}

static void hex(char *p, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        p[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
}

struct state {
    uint64_t d[4];
    uint32_t fpscr;
};

/* Runs the instruction at code with the given d0-d3 and FPSCR; the registers are moved with
 * VLDM/VSTM, which do not touch FPSCR. */
static void run(uint32_t code, struct state *s)
{
    __asm__ volatile("vldmia %0, {d0-d3}\n"
                     "vmsr fpscr, %1\n"
                     "blx %2\n"
                     "vmrs %1, fpscr\n"
                     "vstmia %0, {d0-d3}\n"
                     "str %1, [%0, #32]\n"
                     :
                     : "r"(s), "r"(s->fpscr), "r"(code)
                     : "r3", "r12", "lr", "d0", "d1", "d2", "d3", "memory", "cc");
}

void guest_main(void);
void guest_main(void)
{
    static char line[256];
    for (unsigned k = 0; insn_table[k]; k++) {
        uint32_t code = insn_table[k];
        for (unsigned i = 0; i < ORACLE_CASES; i++) {
            struct state s;
            s.d[0] = pick64(0);
            s.d[1] = pick64(s.d[0]);
            s.d[2] = pick64(s.d[1]);
            s.d[3] = pick64(s.d[2]);
            if (rnd() % 2) {
                /* single-precision forms read s1, s2, s3: tie them together sometimes */
                uint32_t a = pick32(0), b = pick32(a), c = pick32(b);
                s.d[0] = ((uint64_t)a << 32) | (uint32_t)s.d[0];
                s.d[1] = ((uint64_t)c << 32) | b;
            }
            uint32_t f = rnd();
            /* NZCV, AHP, DN, FZ, RMode and sometimes old cumulative flags */
            s.fpscr = (f & 0xf0000000u) | (f & 0x07c00000u) | ((f & 0x300) == 0 ? (f & 0x9f) : 0);
            char *p = line;
            hex(p, *(const uint32_t *)code, 8);
            p += 8;
            for (int r = 0; r < 4; r++) {
                *p++ = ' ';
                hex(p, s.d[r], 16);
                p += 16;
            }
            *p++ = ' ';
            hex(p, s.fpscr, 8);
            p += 8;
            run(code, &s);
            for (int r = 0; r < 4; r++) {
                *p++ = ' ';
                hex(p, s.d[r], 16);
                p += 16;
            }
            *p++ = ' ';
            hex(p, s.fpscr, 8);
            p += 8;
            *p++ = '\n';
            *p = 0;
            semihost_write0(line);
        }
    }
}

#else /* !VFP_ORACLE_GUEST */

/* ==== program 1: the host test ============================================================== */

#include <fenv.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "stub_mem.h"

/* ---- stubs of the rest of the CPU (memory: stub_mem.c) ---- */

static struct arm_cpu cpu;
static unsigned undef_count;

_Noreturn void arm_undefined(struct arm_cpu *c, const struct arm_uop *op)
{
    undef_count++;
    siglongjmp(c->fault_jmp, 1);
}

ARM_OP(UNDEFINED)
{
    arm_undefined(cpu, op);
}

/* ---- helpers ---- */

static unsigned failures, checks;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        checks++;                                                                              \
        if (!(cond)) {                                                                         \
            failures++;                                                                        \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

static void reset_cpu(void)
{
    memset(cpu.d, 0, sizeof(cpu.d));
    memset(cpu.r, 0, sizeof(cpu.r));
    cpu.fpscr = 0;
    cpu.fpexc = ARM_FPEXC_EN;
    cpu.cp15.cpacr = 0xfu << 20;
    cpu.cpsr_rest = ARM_MODE_SVC;
    cpu.cpsr_nzcv = 0;
    cpu.fpsid = 0x410430f0u;
    cpu.mvfr0 = 0x10110222u;
    cpu.mvfr1 = 0x11000011u;
}

/* Where exec() places the instruction: outside the test memory, so that a literal load faults. */
#define EXEC_PC 0x40000u

/* Decodes and executes one instruction (A32, or T32 when thumb); returns 0 when it ran, 1 when
 * it was UNDEFINED, 2 on a memory fault, -1 when the decoder did not take it. */
static int exec(uint32_t insn, bool thumb)
{
    struct arm_uop op;
    memset(&op, 0, sizeof(op));
    op.cond = 0xe;
    if (!arm_decode_vfp(EXEC_PC, insn, thumb, &op)) {
        return -1;
    }
    int r = sigsetjmp(cpu.fault_jmp, 0);
    if (r) {
        return r;
    }
    op.fn(&cpu, &op);
    return 0;
}

static uint32_t S(unsigned n)
{
    return (uint32_t)(cpu.d[n >> 1] >> ((n & 1) * 32));
}

static void setS(unsigned n, uint32_t v)
{
    unsigned sh = (n & 1) * 32;
    cpu.d[n >> 1] = (cpu.d[n >> 1] & ~((uint64_t)0xffffffffu << sh)) | ((uint64_t)v << sh);
}

/* Encodings (A32, cond AL) of the forms the value tests use; the decoder tests check these
 * against the assembler's. */
static uint32_t enc_d(unsigned d, bool dp)
{
    return dp ? ((d & 15) << 12) | ((d >> 4) << 22) : ((d >> 1) << 12) | ((d & 1) << 22);
}

static uint32_t enc_n(unsigned n, bool dp)
{
    return dp ? ((n & 15) << 16) | ((n >> 4) << 7) : ((n >> 1) << 16) | ((n & 1) << 7);
}

static uint32_t enc_m(unsigned m, bool dp)
{
    return dp ? (m & 15) | ((m >> 4) << 5) : (m >> 1) | ((m & 1) << 5);
}

enum { VMLA = 0xee000a00, VMLS = 0xee000a40, VNMLS = 0xee100a00, VNMLA = 0xee100a40,
       VMUL = 0xee200a00, VNMUL = 0xee200a40, VADD = 0xee300a00, VSUB = 0xee300a40,
       VDIV = 0xee800a00, VFNMS = 0xee900a00, VFNMA = 0xee900a40, VFMA = 0xeea00a00,
       VFMS = 0xeea00a40, VSQRT = 0xeeb10ac0, VCMP = 0xeeb40a40, VCMPE = 0xeeb40ac0 };

static uint32_t dp3(uint32_t base, bool dp, unsigned d, unsigned n, unsigned m)
{
    return base | (dp ? 0x100 : 0) | enc_d(d, dp) | enc_n(n, dp) | enc_m(m, dp);
}

/* s0 = s1 op s2 (and s0 as accumulator) with the given FPSCR; returns s0, *flags = FPSCR. */
static uint32_t op32(uint32_t base, uint32_t acc, uint32_t a, uint32_t b, uint32_t fpscr,
                     uint32_t *flags)
{
    setS(0, acc);
    setS(1, a);
    setS(2, b);
    cpu.fpscr = fpscr;
    int r = exec(dp3(base, false, 0, 1, 2), false);
    CHECK(r == 0, "op32 %08x did not execute (%d)", base, r);
    *flags = cpu.fpscr;
    return S(0);
}

static uint64_t op64(uint32_t base, uint64_t acc, uint64_t a, uint64_t b, uint32_t fpscr,
                     uint32_t *flags)
{
    cpu.d[0] = acc;
    cpu.d[1] = a;
    cpu.d[2] = b;
    cpu.fpscr = fpscr;
    int r = exec(dp3(base, true, 0, 1, 2), false);
    CHECK(r == 0, "op64 %08x did not execute (%d)", base, r);
    *flags = cpu.fpscr;
    return cpu.d[0];
}

#define RN (0u << 22)
#define RP (1u << 22)
#define RM (2u << 22)
#define RZ (3u << 22)
#define FZ ARM_FPSCR_FZ
#define DN ARM_FPSCR_DN
#define AHP ARM_FPSCR_AHP
#define IOC ARM_FPSCR_IOC
#define DZC ARM_FPSCR_DZC
#define OFC ARM_FPSCR_OFC
#define UFC ARM_FPSCR_UFC
#define IXC ARM_FPSCR_IXC
#define IDC ARM_FPSCR_IDC
#define FLAGS 0x9fu

/* One single-precision case: result and cumulative flags. */
#define T32(base, acc, a, b, fpscr, want, want_flags)                                          \
    do {                                                                                       \
        uint32_t fl_, r_ = op32(base, acc, a, b, fpscr, &fl_);                                 \
        CHECK(r_ == (want) && (fl_ & FLAGS) == (want_flags),                                   \
              #base "(%08x, %08x, %08x) fpscr %08x: got %08x flags %02x, want %08x flags %02x", \
              (uint32_t)(acc), (uint32_t)(a), (uint32_t)(b), (uint32_t)(fpscr), r_,            \
              fl_ & FLAGS, (uint32_t)(want), (uint32_t)(want_flags));                          \
    } while (0)

#define T64(base, acc, a, b, fpscr, want, want_flags)                                          \
    do {                                                                                       \
        uint32_t fl_;                                                                          \
        uint64_t r_ = op64(base, acc, a, b, fpscr, &fl_);                                      \
        CHECK(r_ == (want) && (fl_ & FLAGS) == (want_flags),                                   \
              #base "(%016" PRIx64 ", %016" PRIx64 ") fpscr %08x: got %016" PRIx64             \
              " flags %02x, want %016" PRIx64 " flags %02x",                                   \
              (uint64_t)(a), (uint64_t)(b), (uint32_t)(fpscr), r_, fl_ & FLAGS,                \
              (uint64_t)(want), (uint32_t)(want_flags));                                       \
    } while (0)

/* ---- decoder ---- */

struct decode_case {
    uint32_t insn;
    bool thumb;
    const char *name; /* NULL: not taken; "UNDEFINED" */
    int rd, rn, rm, ra;
    int64_t imm, imm2;
};

/* From arm-none-eabi-as -mfpu=neon-vfpv4 (objdump). -1: field not checked. */
static const struct decode_case decode_cases[] = {
    { 0xee000a81, 0, "VMLA", 0, 1, 2, -1, -1, -1 },
    { 0xee013bef, 0, "VMLS", 3, 17, 31, -1, -1, -1 },
    { 0xee532a63, 0, "VNMLA", 5, 6, 7, -1, -1, -1 },
    { 0xee110b02, 0, "VNMLS", 0, 1, 2, -1, -1, -1 },
    { 0xee6ffa2e, 0, "VMUL", 31, 30, 29, -1, -1, -1 },
    { 0xee610be2, 0, "VNMUL", 16, 17, 18, -1, -1, -1 },
    { 0xee300a81, 0, "VADD", 0, 1, 2, -1, -1, -1 },
    { 0xee310b42, 0, "VSUB", 0, 1, 2, -1, -1, -1 },
    { 0xeec21a22, 0, "VDIV", 3, 4, 5, -1, -1, -1 },
    { 0xeea00a81, 0, "VFMA", 0, 1, 2, -1, -1, -1 },
    { 0xeea21b43, 0, "VFMS", 1, 2, 3, -1, -1, -1 },
    { 0xee900ac1, 0, "VFNMA", 0, 1, 2, -1, -1, -1 },
    { 0xee954b06, 0, "VFNMS", 4, 5, 6, -1, -1, -1 },
    { 0xeeb70a00, 0, "VMOV_imm", 0, -1, -1, -1, 0x3f800000, -1 },
    { 0xeef84b04, 0, "VMOV_imm", 20, -1, -1, -1, 0xc0040000, -1 },
    { 0xeef00a41, 0, "VMOV_reg", 1, -1, 2, -1, -1, -1 },
    { 0xeeb01bc2, 0, "VABS", 1, -1, 2, -1, -1, -1 },
    { 0xeef11a42, 0, "VNEG", 3, -1, 4, -1, -1, -1 },
    { 0xeeb15bc6, 0, "VSQRT", 5, -1, 6, -1, -1, -1 },
    { 0xeeb20a60, 0, "VCVT_f32_f16", 0, -1, 1, -1, 0, -1 },
    { 0xeeb31ae1, 0, "VCVT_f16_f32", 2, -1, 3, -1, 16, -1 },
    { 0xeeb40a60, 0, "VCMP", 0, -1, 1, -1, 0, 0 },
    { 0xeeb40bc1, 0, "VCMP", 0, -1, 1, -1, 1, 0 },
    { 0xeeb51a40, 0, "VCMP", 2, -1, -1, -1, 0, 1 },
    { 0xeeb53bc0, 0, "VCMP", 3, -1, -1, -1, 1, 1 },
    { 0xeef71ae1, 0, "VCVT_f64_f32", 17, -1, 3, -1, -1, -1 },
    { 0xeef71be1, 0, "VCVT_f32_f64", 3, -1, 17, -1, -1, -1 },
    { 0xeeb80ae0, 0, "VCVT_f32_i32", 0, -1, 1, -1, -1, 0 },
    { 0xeeb82b62, 0, "VCVT_f64_i32", 2, -1, 5, -1, -1, 1 },
    { 0xeebd0ae0, 0, "VCVT_i32_f32", 0, -1, 1, -1, 1, 0 },
    { 0xeebc0b41, 0, "VCVT_i32_f64", 0, -1, 1, -1, 0, 1 },
    { 0xeebe0a44, 0, "VCVT_fixed_f32", 0, -1, -1, -1, 8, 0 },
    { 0xeebb0a46, 0, "VCVT_f32_fixed", 0, -1, -1, -1, 4, 1 },
    { 0xeeba1bc8, 0, "VCVT_f64_fixed", 1, -1, -1, -1, 16, 0 },
    { 0xeebf2bc0, 0, "VCVT_fixed_f64", 2, -1, -1, -1, 32, 1 },
    { 0xee015a90, 0, "VMOV_single_core", 5, 3, -1, -1, -1, -1 },
    { 0xee136a90, 0, "VMOV_core_single", 6, 7, -1, -1, -1, -1 },
    { 0xeee11a10, 0, "VMSR", 1, 1, -1, -1, -1, -1 },
    { 0xeee82a10, 0, "VMSR", 2, 8, -1, -1, -1, -1 },
    { 0xeef13a10, 0, "VMRS", 3, 1, -1, -1, -1, -1 },
    { 0xeef1fa10, 0, "VMRS", 15, 1, -1, -1, -1, -1 },
    { 0xeef84a10, 0, "VMRS", 4, 8, -1, -1, -1, -1 },
    { 0xeef04a10, 0, "VMRS", 4, 0, -1, -1, -1, -1 },
    { 0xeef74a10, 0, "VMRS", 4, 7, -1, -1, -1, -1 },
    { 0xeef64a10, 0, "VMRS", 4, 6, -1, -1, -1, -1 },
    { 0xee252b10, 0, "VMOV_scalar_core", 2, 5, -1, -1, 1, -1 },
    { 0xee152b90, 0, "VMOV_core_scalar", 2, 21, -1, -1, 0, -1 },
    { 0xec454a11, 0, "VMOV_2single_2core", 4, 2, -1, 5, -1, -1 },
    { 0xec554a1f, 0, "VMOV_2core_2single", 4, 30, -1, 5, -1, -1 },
    { 0xec498b17, 0, "VMOV_double_2core", 8, 7, -1, 9, -1, -1 },
    { 0xec598b37, 0, "VMOV_2core_double", 8, 23, -1, 9, -1, -1 },
    { 0xed512a02, 0, "VLDR", 5, 1, -1, -1, 8, -1 },
    { 0xeddf1b04, 0, "VLDR", 17, 15, -1, -1, 16, -1 },
    { 0xedc12aff, 0, "VSTR", 5, 1, -1, -1, 1020, -1 },
    { 0xed823b00, 0, "VSTR", 3, 2, -1, -1, 0, -1 },
    { 0xecd00a04, 0, "VLDM", 1, 0, -1, -1, 4, 16 },
    { 0xecb00b20, 0, "VLDM", 0, 0, -1, -1, 16, 128 },
    { 0xed610b20, 0, "VSTM", 16, 1, -1, -1, 16, 128 },
    { 0xed2d8b10, 0, "VSTM", 8, 13, -1, -1, 8, 64 },
    { 0xecbd8a10, 0, "VLDM", 16, 13, -1, -1, 16, 64 },
    { 0xec830a01, 0, "VSTM", 0, 3, -1, -1, 1, 4 },
    { 0xecb00b09, 0, "VLDM", 0, 0, -1, -1, 4, 36 }, /* FLDMIAX */
    /* Advanced SIMD: 8/16-bit scalars, VDUP, data processing, element load/store */
    { 0xee401b30, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 },
    { 0xee901b70, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 },
    { 0xee801b10, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 },
    { 0xf2010d02, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 },
    { 0xf420070f, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 },
    /* UNPREDICTABLE, rejected */
    { 0xee01fa90, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vmov s3, pc */
    { 0xec544b17, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vmov r4, r4, d7 */
    { 0xecd04b20, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vldmia r0, {d20-d35} */
    { 0xeef0fa10, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vmrs APSR_nzcv, fpsid */
    { 0xeebe0a4f, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vcvt.s16 with 17+ bits... */
    { 0xee800a40, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* VDIV with bit 6 set */
    { 0xeeb30b60, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* VCVTB with sz = 1 (v8) */
    { 0xfe300a81, 0, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* CDP2 p10 */
    /* not VFP */
    { 0xe0810002, 0, NULL, -1, -1, -1, -1, -1, -1 },          /* add */
    { 0xee110f10, 0, NULL, -1, -1, -1, -1, -1, -1 },          /* mrc p15 */
    { 0xfe000e10, 0, NULL, -1, -1, -1, -1, -1, -1 },          /* mcr2 p14 */
    { 0xf57ff04f, 0, NULL, -1, -1, -1, -1, -1, -1 },          /* dsb */
    /* T32 (first halfword in bits 31..16) */
    { 0xee300a81, 1, "VADD", 0, 1, 2, -1, -1, -1 },
    { 0xed2d8b10, 1, "VSTM", 8, 13, -1, -1, 8, 64 },
    { 0xeddf1b04, 1, "VLDR", 17, 15, -1, -1, 16, -1 },
    { 0xedcf2a00, 1, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vstr s5, [pc] */
    { 0xee01da90, 1, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vmov s3, sp */
    { 0xef010d02, 1, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vadd.f32 d0, d1, d2 */
    { 0xf920070f, 1, "UNDEFINED", -1, -1, -1, -1, -1, -1 }, /* vld1 */
    { 0xfe300a81, 1, "UNDEFINED", -1, -1, -1, -1, -1, -1 },
    { 0xee110f10, 1, NULL, -1, -1, -1, -1, -1, -1 },
    { 0xf8510b04, 1, NULL, -1, -1, -1, -1, -1, -1 },          /* ldr.w */
};

static void test_decoder(void)
{
    for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
        const struct decode_case *c = &decode_cases[i];
        struct arm_uop op;
        memset(&op, 0, sizeof(op));
        op.cond = 0x5; /* what a T32 caller filled in from the IT block */
        op.itstate = 0x42;
        bool taken = arm_decode_vfp(0x1000, c->insn, c->thumb, &op);
        if (!c->name) {
            CHECK(!taken, "%08x%s: taken, want not VFP", c->insn, c->thumb ? " (T32)" : "");
            continue;
        }
        CHECK(taken, "%08x: not taken", c->insn);
        if (!taken) {
            continue;
        }
        const char *name = op.fn == arm_op_UNDEFINED ? "UNDEFINED" : arm_vfp_handler_name(op.fn);
        CHECK(name && strcmp(name, c->name) == 0, "%08x%s: decoded as %s, want %s", c->insn,
              c->thumb ? " (T32)" : "", name ? name : "?", c->name);
        CHECK(op.pc == 0x1000 && op.insn == c->insn && op.len == 4, "%08x: pc/insn/len", c->insn);
        if (c->thumb) {
            CHECK(op.cond == 0x5 && op.itstate == 0x42 && (op.flags & ARM_UOP_THUMB),
                  "%08x (T32): cond/itstate/flags not kept", c->insn);
        } else {
            CHECK(op.cond == c->insn >> 28, "%08x: cond %x", c->insn, op.cond);
        }
        CHECK(c->rd < 0 || op.rd == c->rd, "%08x: rd %u want %d", c->insn, op.rd, c->rd);
        CHECK(c->rn < 0 || op.rn == c->rn, "%08x: rn %u want %d", c->insn, op.rn, c->rn);
        CHECK(c->rm < 0 || op.rm == c->rm, "%08x: rm %u want %d", c->insn, op.rm, c->rm);
        CHECK(c->ra < 0 || op.ra == c->ra, "%08x: ra %u want %d", c->insn, op.ra, c->ra);
        CHECK(c->imm < 0 || op.imm == c->imm, "%08x: imm %u want %" PRId64, c->insn, op.imm,
              c->imm);
        CHECK(c->imm2 < 0 || op.imm2 == c->imm2, "%08x: imm2 %u want %" PRId64, c->insn, op.imm2,
              c->imm2);
    }
    /* The encodings the value tests build must be what the assembler makes. */
    CHECK(dp3(VMLA, false, 0, 1, 2) == 0xee000a81, "enc vmla");
    CHECK(dp3(VMLS, true, 3, 17, 31) == 0xee013bef, "enc vmls");
    CHECK(dp3(VNMUL, true, 16, 17, 18) == 0xee610be2, "enc vnmul");
    CHECK(dp3(VFNMA, false, 0, 1, 2) == 0xee900ac1, "enc vfnma");
}

/* ---- hand-checked values (ARM ARM pseudocode) ---- */

static void test_nans(void)
{
    /* first SNaN wins over an earlier QNaN; quietened; IOC */
    T32(VADD, 0, 0x7fc00001, 0x7f800002, RN, 0x7fc00002, IOC);
    T32(VADD, 0, 0x7f800001, 0xff800002, RN, 0x7fc00001, IOC);
    /* no SNaN: first QNaN, sign and payload kept, no flag */
    T32(VADD, 0, 0xffc00005, 0x7fc00006, RN, 0xffc00005, 0);
    T32(VMUL, 0, 0x3f800000, 0x7fc00006, RN, 0x7fc00006, 0);
    /* VSUB does not flip a NaN operand's sign */
    T32(VSUB, 0, 0x3f800000, 0x7fc00006, RN, 0x7fc00006, 0);
    /* default NaN */
    T32(VADD, 0, 0xffc00005, 0x7fc00006, RN | DN, 0x7fc00000, 0);
    T32(VADD, 0, 0x7f800001, 0x3f800000, RN | DN, 0x7fc00000, IOC);
    T32(VADD, 0, 0x7f800000, 0xff800000, RN, 0x7fc00000, IOC);
    T32(VMUL, 0, 0x7f800000, 0x80000000, RN, 0x7fc00000, IOC);
    T64(VADD, 0, 0x7ff0000000000000ull, 0xfff0000000000000ull, RN, 0x7ff8000000000000ull, IOC);
    T64(VMUL, 0, 0x7ff4000000000000ull, 0x7ff8000000000001ull, RN, 0x7ffc000000000000ull, IOC);
    /* VMLS negates the product with FPNeg, NaN included: Sd + -(NaN) */
    T32(VMLS, 0x3f800000, 0x7fc00001, 0x3f800000, RN, 0xffc00001, 0);
    /* VNMUL of a NaN flips its sign too */
    T32(VNMUL, 0, 0x7fc00001, 0x3f800000, RN, 0xffc00001, 0);
    /* FPMulAdd: addend first, then op1, op2 (SNaN before QNaN) */
    T32(VFMA, 0x7fc00001, 0x7f800002, 0x3f800000, RN, 0x7fc00002, IOC);
    T32(VFMA, 0x7fc00001, 0x7fc00002, 0x3f800000, RN, 0x7fc00001, 0);
    /* QNaN addend plus infinity times zero: default NaN and Invalid */
    T32(VFMA, 0x7fc00001, 0x7f800000, 0x00000000, RN, 0x7fc00000, IOC);
    /* VFMS negates op1 before FPMulAdd: the NaN comes out negated */
    T32(VFMS, 0x3f800000, 0x7fc00001, 0x3f800000, RN, 0xffc00001, 0);
}

static void test_flush_and_underflow(void)
{
    /* FZ on input: denormal flushed to zero with IDC; +0 + +0 = +0 */
    T32(VADD, 0, 0x00000001, 0x00000000, RN | FZ, 0x00000000, IDC);
    T32(VADD, 0, 0x80000001, 0x3f800000, RN | FZ, 0x3f800000, IDC);
    /* without FZ the denormal takes part */
    T32(VADD, 0, 0x00000001, 0x00000001, RN, 0x00000002, 0);
    /* exact tiny result: no Underflow (untrapped Underflow needs inexact) */
    T32(VMUL, 0, 0x00800000, 0x3f000000, RN, 0x00400000, 0);
    /* FZ on output: flushed, UFC, no IXC */
    T32(VMUL, 0, 0x00800000, 0x3f000000, RN | FZ, 0x00000000, UFC);
    T32(VMUL, 0, 0x80800000, 0x3f000000, RN | FZ, 0x80000000, UFC);
    /* tininess before rounding: 2^-126 * (1 - 2^-24) rounds up to the smallest normal, but
     * it was tiny: UFC and IXC; and FZ flushes it (the unrounded exponent decides) */
    T32(VMUL, 0, 0x3f7fffff, 0x00800000, RN, 0x00800000, UFC | IXC);
    T32(VMUL, 0, 0x3f7fffff, 0x00800000, RN | FZ, 0x00000000, UFC);
    T64(VMUL, 0, 0x3fefffffffffffffull, 0x0010000000000000ull, RN, 0x0010000000000000ull,
        UFC | IXC);
    /* denormal results in each direction */
    T32(VMUL, 0, 0x00000003, 0x3f000000, RN, 0x00000002, UFC | IXC); /* 1.5 -> 2 */
    T32(VMUL, 0, 0x00000003, 0x3f000000, RZ, 0x00000001, UFC | IXC);
    T32(VMUL, 0, 0x00000001, 0x3f000000, RN, 0x00000000, UFC | IXC); /* 0.5 -> 0 (even) */
    T32(VMUL, 0, 0x00000001, 0x3f000000, RP, 0x00000001, UFC | IXC);
    T32(VMUL, 0, 0x80000001, 0x3f000000, RM, 0x80000001, UFC | IXC);
    /* double FZ on input */
    T64(VADD, 0, 0x0000000000000001ull, 0x3ff0000000000000ull, RN | FZ, 0x3ff0000000000000ull,
        IDC);
}

static void test_rounding(void)
{
    /* 1 + 2^-24 is a tie at 1.0 */
    T32(VADD, 0, 0x3f800000, 0x33800000, RN, 0x3f800000, IXC);
    T32(VADD, 0, 0x3f800000, 0x33800000, RP, 0x3f800001, IXC);
    T32(VADD, 0, 0x3f800000, 0x33800000, RM, 0x3f800000, IXC);
    T32(VADD, 0, 0x3f800000, 0x33800000, RZ, 0x3f800000, IXC);
    T32(VADD, 0, 0xbf800000, 0xb3800000, RN, 0xbf800000, IXC);
    T32(VADD, 0, 0xbf800000, 0xb3800000, RP, 0xbf800000, IXC);
    T32(VADD, 0, 0xbf800000, 0xb3800000, RM, 0xbf800001, IXC);
    T32(VADD, 0, 0xbf800000, 0xb3800000, RZ, 0xbf800000, IXC);
    /* tie to even going up: 1+2^-23 + 2^-24 */
    T32(VADD, 0, 0x3f800001, 0x33800000, RN, 0x3f800002, IXC);
    /* above the half: 1 + 1.5 * 2^-24 */
    T32(VADD, 0, 0x3f800000, 0x33c00000, RN, 0x3f800001, IXC);
    /* exact zero: +0, or -0 rounding towards minus infinity */
    T32(VADD, 0, 0x3f800000, 0xbf800000, RN, 0x00000000, 0);
    T32(VADD, 0, 0x3f800000, 0xbf800000, RM, 0x80000000, 0);
    T32(VSUB, 0, 0x3f800000, 0x3f800000, RM, 0x80000000, 0);
    T32(VADD, 0, 0x80000000, 0x80000000, RN, 0x80000000, 0);
    T32(VADD, 0, 0x80000000, 0x00000000, RP, 0x00000000, 0);
    /* overflow */
    T32(VMUL, 0, 0x7f7fffff, 0x40000000, RN, 0x7f800000, OFC | IXC);
    T32(VMUL, 0, 0x7f7fffff, 0x40000000, RZ, 0x7f7fffff, OFC | IXC);
    T32(VMUL, 0, 0x7f7fffff, 0x40000000, RM, 0x7f7fffff, OFC | IXC);
    T32(VMUL, 0, 0x7f7fffff, 0x40000000, RP, 0x7f800000, OFC | IXC);
    T32(VMUL, 0, 0xff7fffff, 0x40000000, RM, 0xff800000, OFC | IXC);
    T32(VMUL, 0, 0xff7fffff, 0x40000000, RP, 0xff7fffff, OFC | IXC);
    T64(VADD, 0, 0x3ff0000000000000ull, 0x3ca0000000000000ull, RN, 0x3ff0000000000000ull, IXC);
    T64(VADD, 0, 0x3ff0000000000000ull, 0x3ca0000000000000ull, RP, 0x3ff0000000000001ull, IXC);
    /* division by zero */
    T32(VDIV, 0, 0x3f800000, 0x00000000, RN, 0x7f800000, DZC);
    T32(VDIV, 0, 0xbf800000, 0x00000000, RN, 0xff800000, DZC);
    T32(VDIV, 0, 0x00000000, 0x00000000, RN, 0x7fc00000, IOC);
    T32(VDIV, 0, 0x7f800000, 0x00000000, RN, 0x7f800000, 0);
    T64(VDIV, 0, 0x3ff0000000000000ull, 0x8000000000000000ull, RN, 0xfff0000000000000ull, DZC);
    /* with FZ a denormal divisor is a zero: IDC and DZC */
    T32(VDIV, 0, 0x3f800000, 0x00000001, RN | FZ, 0x7f800000, DZC | IDC);
    /* 1/3 */
    T32(VDIV, 0, 0x3f800000, 0x40400000, RN, 0x3eaaaaab, IXC);
    T32(VDIV, 0, 0x3f800000, 0x40400000, RZ, 0x3eaaaaaa, IXC);
    T64(VDIV, 0, 0x3ff0000000000000ull, 0x4008000000000000ull, RN, 0x3fd5555555555555ull, IXC);
}

static void test_fma(void)
{
    /* (1 + 2^-12)^2 - (1 + 2^-11) = 2^-24 exactly when fused; the product rounds (tie to
     * even) to 1 + 2^-11 when not, leaving 0 */
    T32(VFMA, 0xbf801000, 0x3f800800, 0x3f800800, RN, 0x33800000, 0);
    T32(VMLA, 0xbf801000, 0x3f800800, 0x3f800800, RN, 0x00000000, IXC);
    /* VFNMA: -d - n*m; VFNMS: -d + n*m; VNMLA: -d - n*m (unfused); VNMLS: -d + n*m */
    T32(VFNMA, 0x3f800000, 0x40000000, 0x40400000, RN, 0xc0e00000, 0); /* -1 - 6 = -7 */
    T32(VFNMS, 0x3f800000, 0x40000000, 0x40400000, RN, 0x40a00000, 0); /* -1 + 6 = 5 */
    T32(VNMLA, 0x3f800000, 0x40000000, 0x40400000, RN, 0xc0e00000, 0);
    T32(VNMLS, 0x3f800000, 0x40000000, 0x40400000, RN, 0x40a00000, 0);
    T32(VMLS, 0x3f800000, 0x40000000, 0x40400000, RN, 0xc0a00000, 0);  /* 1 - 6 */
    T32(VFMS, 0x3f800000, 0x40000000, 0x40400000, RN, 0xc0a00000, 0);
    /* double: (1 + 2^-27)^2 - (1 + 2^-26) = 2^-54 */
    T64(VFMA, 0xbff0000004000000ull, 0x3ff0000002000000ull, 0x3ff0000002000000ull, RN,
        0x3c90000000000000ull, 0);
    T64(VMLA, 0xbff0000004000000ull, 0x3ff0000002000000ull, 0x3ff0000002000000ull, RN, 0, IXC);
    /* exact zero of a fused sum: sign from the rounding mode; same-signed zeros keep it */
    T32(VFMA, 0xbf800000, 0x3f800000, 0x3f800000, RM, 0x80000000, 0);
    T32(VFMA, 0x80000000, 0x80000000, 0x3f800000, RN, 0x80000000, 0);
    /* inf - inf inside FMA */
    T32(VFMA, 0xff800000, 0x7f800000, 0x3f800000, RN, 0x7fc00000, IOC);
}

static void test_sqrt_cmp(void)
{
    setS(1, 0xbf800000);
    cpu.fpscr = RN;
    exec(0xeeb10ae0, false); /* vsqrt.f32 s0, s1 */
    CHECK(S(0) == 0x7fc00000 && (cpu.fpscr & FLAGS) == IOC, "vsqrt(-1) %08x", S(0));
    setS(1, 0x80000000);
    cpu.fpscr = RN;
    exec(0xeeb10ae0, false);
    CHECK(S(0) == 0x80000000 && (cpu.fpscr & FLAGS) == 0, "vsqrt(-0) %08x", S(0));
    setS(1, 0x40000000);
    cpu.fpscr = RN;
    exec(0xeeb10ae0, false);
    CHECK(S(0) == 0x3fb504f3 && (cpu.fpscr & FLAGS) == IXC, "vsqrt(2) %08x", S(0));
    setS(1, 0x40800000);
    cpu.fpscr = RN;
    exec(0xeeb10ae0, false);
    CHECK(S(0) == 0x40000000 && (cpu.fpscr & FLAGS) == 0, "vsqrt(4) %08x", S(0));
    cpu.d[1] = 0x4000000000000000ull;
    cpu.fpscr = RN;
    exec(0xeeb10bc1, false); /* vsqrt.f64 d0, d1 */
    CHECK(cpu.d[0] == 0x3ff6a09e667f3bcdull && (cpu.fpscr & FLAGS) == IXC, "vsqrt.f64(2)");
    cpu.d[1] = 0x0000000000000001ull; /* sqrt(2^-1074) = 2^-537 */
    cpu.fpscr = RN;
    exec(0xeeb10bc1, false);
    CHECK(cpu.d[0] == 0x1e60000000000000ull && (cpu.fpscr & FLAGS) == 0, "vsqrt.f64(denorm)");

    /* VCMP: N Z C V in FPSCR[31:28] */
    static const struct {
        uint32_t base, a, b, nzcv, flags;
    } cmp[] = {
        { VCMP, 0x3f800000, 0x40000000, 0x8, 0 },   { VCMP, 0x40000000, 0x3f800000, 0x2, 0 },
        { VCMP, 0x3f800000, 0x3f800000, 0x6, 0 },   { VCMP, 0x00000000, 0x80000000, 0x6, 0 },
        { VCMP, 0x7fc00000, 0x3f800000, 0x3, 0 },   { VCMPE, 0x7fc00000, 0x3f800000, 0x3, IOC },
        { VCMP, 0x3f800000, 0x7f800001, 0x3, IOC }, { VCMP, 0xff800000, 0xff7fffff, 0x8, 0 },
        { VCMP, 0xbf800000, 0xc0000000, 0x2, 0 },   { VCMP, 0x80000001, 0x00000000, 0x8, 0 },
    };
    for (size_t i = 0; i < sizeof(cmp) / sizeof(cmp[0]); i++) {
        setS(0, cmp[i].a);
        setS(1, cmp[i].b);
        cpu.fpscr = RN;
        exec(cmp[i].base | 0x20, false); /* vcmp{e}.f32 s0, s1 */
        CHECK((cpu.fpscr >> 28) == cmp[i].nzcv && (cpu.fpscr & FLAGS) == cmp[i].flags,
              "vcmp %08x %08x: nzcv %x flags %02x", cmp[i].a, cmp[i].b, cpu.fpscr >> 28,
              cpu.fpscr & FLAGS);
    }
    /* with FZ a denormal equals zero (and IDC) */
    setS(0, 0x80000001);
    cpu.fpscr = FZ;
    exec(0xeeb50a40, false); /* vcmp.f32 s0, #0 */
    CHECK((cpu.fpscr >> 28) == 0x6 && (cpu.fpscr & FLAGS) == IDC, "vcmp #0 FZ");
    /* VMRS APSR_nzcv, FPSCR */
    cpu.cpsr_nzcv = 0x50000000;
    cpu.fpscr = 0x30000000;
    exec(0xeef1fa10, false);
    CHECK(cpu.cpsr_nzcv == 0x30000000, "vmrs apsr_nzcv %08x", cpu.cpsr_nzcv);
}

static void cvt(uint32_t insn, uint32_t in, uint32_t fpscr, uint32_t want, uint32_t want_flags)
{
    setS(0, 0xdeadbeef);
    setS(1, in);
    cpu.fpscr = fpscr;
    int r = exec(insn, false);
    CHECK(r == 0 && S(0) == want && (cpu.fpscr & FLAGS) == want_flags,
          "%08x(%08x) fpscr %08x: got %08x flags %02x, want %08x flags %02x", insn, in, fpscr,
          S(0), cpu.fpscr & FLAGS, want, want_flags);
}

static void test_conversions(void)
{
    const uint32_t s32_f32 = 0xeebd0ae0, u32_f32 = 0xeebc0ae0;   /* vcvt.{s,u}32.f32 s0, s1 */
    const uint32_t s32r_f32 = 0xeebd0a60, u32r_f32 = 0xeebc0a60; /* vcvtr */
    cvt(s32_f32, 0x4f32d05e, RN, 0x7fffffff, IOC); /* 3e9 */
    cvt(s32_f32, 0xcf32d05e, RN, 0x80000000, IOC);
    cvt(s32_f32, 0xcf000000, RN, 0x80000000, 0);    /* -2^31 fits */
    cvt(s32_f32, 0x7fc00000, RN, 0x00000000, IOC);  /* NaN -> 0 */
    cvt(s32_f32, 0x7f800000, RN, 0x7fffffff, IOC);
    cvt(s32_f32, 0xff800000, RN, 0x80000000, IOC);
    cvt(s32_f32, 0x40200000, RN, 2, IXC);           /* 2.5 towards zero */
    cvt(s32_f32, 0xc0200000, RN, (uint32_t)-2, IXC);
    cvt(s32r_f32, 0x40200000, RN, 2, IXC);          /* ties to even */
    cvt(s32r_f32, 0x40600000, RN, 4, IXC);          /* 3.5 */
    cvt(s32r_f32, 0xc0200000, RN, (uint32_t)-2, IXC);
    cvt(s32r_f32, 0xc0200000, RM, (uint32_t)-3, IXC);
    cvt(s32r_f32, 0x40200000, RP, 3, IXC);
    cvt(s32r_f32, 0xc0200000, RP, (uint32_t)-2, IXC);
    cvt(u32_f32, 0xbf800000, RN, 0, IOC);           /* -1 */
    cvt(u32_f32, 0xbf000000, RN, 0, IXC);           /* -0.5 towards zero is 0 */
    cvt(u32r_f32, 0xbf000000, RN, 0, IXC);          /* -0.5 to nearest even is -0 -> 0 */
    cvt(u32r_f32, 0xbf400000, RN, 0, IOC);          /* -0.75 rounds to -1: out of range */
    cvt(u32_f32, 0x4f7fffff, RN, 0xffffff00, 0);
    cvt(u32_f32, 0x4f800000, RN, 0xffffffff, IOC);  /* 2^32 */
    cvt(s32_f32, 0x00000001, RN | FZ, 0, IDC);      /* flushed denormal: exact 0 */
    cvt(s32_f32, 0x00000001, RN, 0, IXC);
    /* double to int */
    cpu.d[1] = 0x41dfffffffc00000ull; /* 2^31 - 1 */
    cpu.fpscr = RN;
    exec(0xeebd0bc1, false); /* vcvt.s32.f64 s0, d1 */
    CHECK(S(0) == 0x7fffffff && (cpu.fpscr & FLAGS) == 0, "vcvt.s32.f64 max");
    cpu.d[1] = 0x41dfffffffe00000ull; /* 2^31 - 0.5 */
    cpu.fpscr = RN;
    exec(0xeebd0b41, false); /* vcvtr.s32.f64 s0, d1: rounds to 2^31 -> saturate */
    CHECK(S(0) == 0x7fffffff && (cpu.fpscr & FLAGS) == IOC, "vcvtr.s32.f64 2^31-0.5 %08x %02x",
          S(0), cpu.fpscr & FLAGS);
    /* int to float */
    cvt(0xeeb80ae0, 0x80000000, RN, 0xcf000000, 0);  /* vcvt.f32.s32: -2^31 */
    cvt(0xeeb80a60, 0x80000000, RN, 0x4f000000, 0);  /* vcvt.f32.u32: 2^31 */
    cvt(0xeeb80a60, 0xffffffff, RN, 0x4f800000, IXC);
    cvt(0xeeb80a60, 0xffffffff, RZ, 0x4f7fffff, IXC);
    cvt(0xeeb80ae0, 0x01000001, RN, 0x4b800000, IXC); /* 2^24 + 1: tie to even */
    cvt(0xeeb80ae0, 0x01000003, RN, 0x4b800002, IXC);
    cvt(0xeeb80ae0, 0x00000000, RM, 0x00000000, 0);  /* +0 whatever the rounding */

    /* fixed point, in place on s0 */
    static const struct {
        uint32_t insn, in, fpscr, want, flags;
    } fx[] = {
        { 0xeebe0a44, 0x3fc00000, RN, 0x00000180, 0 },   /* vcvt.s16.f32 s0, s0, #8: 1.5 */
        { 0xeebe0a44, 0xbfc00000, RN, 0xfffffe80, 0 },   /* -1.5: sign-extended */
        { 0xeebe0a44, 0x43480000, RN, 0x00007fff, IOC }, /* 200.0 saturates */
        { 0xeebe0a44, 0x3b800001, RN, 0x00000001, IXC }, /* 2^-8 (1+): towards zero */
        { 0xeebf0a44, 0xbf800000, RN, 0x00000000, IOC }, /* vcvt.u16.f32: -1 */
        { 0xeebf0a44, 0x437f0000, RN, 0x0000ff00, 0 },   /* 255.0 unsigned 16 */
        { 0xeebb0a46, 0xabcd0030, RN, 0x40400000, 0 },   /* vcvt.f32.u16 #4: 48/16 = 3 */
        { 0xeeba0a46, 0xabcdfff0, RN, 0xbf800000, 0 },   /* vcvt.f32.s16 #4: -16/16 */
        { 0xeeba0ac0, 0xffff0000, RN, 0xb7800000, 0 },   /* vcvt.f32.s32 #32: -2^16 / 2^32 */
        { 0xeebb0ac1, 0x807fffff, RM, 0x40008000, IXC }, /* vcvt.f32.u32 #30: always RN */
        { 0xeebb0ac1, 0x807fffff, RZ, 0x40008000, IXC },
    };
    for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
        setS(0, fx[i].in);
        cpu.fpscr = fx[i].fpscr;
        exec(fx[i].insn, false);
        uint32_t want = fx[i].want;
        CHECK(S(0) == want && (cpu.fpscr & FLAGS) == fx[i].flags,
              "fixed %08x(%08x): got %08x flags %02x, want %08x flags %02x", fx[i].insn,
              fx[i].in, S(0), cpu.fpscr & FLAGS, want, fx[i].flags);
    }
    /* vcvt.f64.s32 d1, d1, #16 takes the low word */
    cpu.d[1] = 0x12345678ffff0000ull;
    cpu.fpscr = RN;
    exec(0xeeba1bc8, false);
    CHECK(cpu.d[1] == 0xbff0000000000000ull, "vcvt.f64.s32 #16 %016" PRIx64, cpu.d[1]);
    /* vcvt.s32.f64 d1, d1, #16 sign-extends into the whole D register */
    cpu.d[1] = 0xc000000000000000ull; /* -2.0 */
    cpu.fpscr = RN;
    exec(0xeebe1bc8, false);
    CHECK(cpu.d[1] == 0xfffffffffffe0000ull, "vcvt.s32.f64 #16 %016" PRIx64, cpu.d[1]);

    /* single <-> double */
    cpu.d[1] = 0x36a0000000000000ull; /* 2^-149: the smallest single denormal */
    cpu.fpscr = RN;
    exec(0xeeb70bc1, false); /* vcvt.f32.f64 s0, d1 */
    CHECK(S(0) == 0x00000001 && (cpu.fpscr & FLAGS) == 0, "f64->f32 denormal %08x", S(0));
    cpu.fpscr = RN | FZ;
    exec(0xeeb70bc1, false);
    CHECK(S(0) == 0x00000000 && (cpu.fpscr & FLAGS) == UFC, "f64->f32 denormal FZ %08x", S(0));
    cpu.d[1] = 0x7ff4000000000001ull; /* SNaN: payload top bits kept, quietened */
    cpu.fpscr = RN;
    exec(0xeeb70bc1, false);
    CHECK(S(0) == 0x7fe00000 && (cpu.fpscr & FLAGS) == IOC, "f64->f32 snan %08x", S(0));
    setS(3, 0xff800001);
    cpu.fpscr = RN;
    exec(0xeeb70ae1, false); /* vcvt.f64.f32 d0, s3 */
    CHECK(cpu.d[0] == 0xfff8000020000000ull && (cpu.fpscr & FLAGS) == IOC, "f32->f64 snan");
    setS(3, 0x00000001);
    cpu.fpscr = RN;
    exec(0xeeb70ae1, false);
    CHECK(cpu.d[0] == 0x36a0000000000000ull && (cpu.fpscr & FLAGS) == 0, "f32->f64 denormal");
    cpu.d[1] = 0x47effffff0000000ull; /* FLT_MAX + half an ulp: ties to even -> overflow */
    cpu.fpscr = RN;
    exec(0xeeb70bc1, false);
    CHECK(S(0) == 0x7f800000 && (cpu.fpscr & FLAGS) == (OFC | IXC), "f64->f32 overflow");
}

static void test_half(void)
{
    const uint32_t b_f32_f16 = 0xeeb20a60, t_f32_f16 = 0xeeb20ae0; /* vcvt{b,t}.f32.f16 s0, s1 */
    const uint32_t b_f16_f32 = 0xeeb30a60, t_f16_f32 = 0xeeb30ae0; /* vcvt{b,t}.f16.f32 s0, s1 */
    cvt(b_f32_f16, 0xc0003c00, RN, 0x3f800000, 0);
    cvt(t_f32_f16, 0xc0003c00, RN, 0xc0000000, 0);
    cvt(b_f32_f16, 0x00007c00, RN, 0x7f800000, 0);
    cvt(b_f32_f16, 0x00000001, RN | FZ, 0x33800000, 0); /* half denormals are never flushed */
    cvt(b_f32_f16, 0x00007d00, RN, 0x7fe00000, IOC);    /* SNaN quietened, payload moved */
    cvt(b_f32_f16, 0x00007d00, RN | DN, 0x7fc00000, IOC);
    cvt(b_f32_f16, 0x00007c00, RN | AHP, 0x47800000, 0); /* AHP: 2^16 */
    cvt(b_f32_f16, 0x0000ffff, RN | AHP, 0xc7ffe000, 0); /* AHP: -131008 */
    /* to half: only the selected half of s0 changes */
    cvt(b_f16_f32, 0x3f800000, RN, 0xdead3c00, 0);
    cvt(t_f16_f32, 0x3f800000, RN, 0x3c00beef, 0);
    cvt(b_f16_f32, 0x477ff000, RN, 0xdead7c00, OFC | IXC); /* 65520: tie to even, overflows */
    cvt(b_f16_f32, 0x477fe000, RN, 0xdead7bff, 0);         /* 65504 */
    cvt(b_f16_f32, 0x477ff000, RZ, 0xdead7bff, IXC); /* rounds into range: no overflow */
    cvt(b_f16_f32, 0x477ff000, RN | AHP, 0xdead7c00, IXC);  /* AHP has room for it */
    cvt(b_f16_f32, 0x48000000, RN | AHP, 0xdead7fff, IOC);  /* 131072: out of AHP range */
    cvt(b_f16_f32, 0x7f800000, RN | AHP, 0xdead7fff, IOC);
    cvt(b_f16_f32, 0xffc00000, RN | AHP, 0xdead8000, IOC);  /* NaN -> zero in AHP */
    cvt(b_f16_f32, 0x7f800001, RN, 0xdead7e00, IOC);
    cvt(b_f16_f32, 0x7fc02000, RN, 0xdead7e01, 0);
    cvt(b_f16_f32, 0x33800000, RN | FZ, 0xdead0001, 0);     /* no FZ on half outputs */
    cvt(b_f16_f32, 0x33000000, RN, 0xdead0000, UFC | IXC);  /* 2^-25: tie to even 0 */
    cvt(b_f16_f32, 0x33000001, RN, 0xdead0001, UFC | IXC);
    cvt(b_f16_f32, 0x00000001, RN | FZ, 0xdead0000, IDC);   /* single input still flushed */
}

static void test_moves_and_access(void)
{
    /* VMOV immediate */
    exec(0xeeb70a00, false);
    CHECK(S(0) == 0x3f800000, "vmov.f32 #1.0 %08x", S(0));
    exec(0xeef84b04, false);
    CHECK(cpu.d[20] == 0xc004000000000000ull, "vmov.f64 #-2.5");
    /* core <-> single, pairs, scalars */
    cpu.r[5] = 0x11223344;
    exec(0xee015a90, false); /* vmov s3, r5 */
    CHECK(S(3) == 0x11223344, "vmov s3, r5");
    exec(0xee136a90, false); /* vmov r6, s7 */
    CHECK(cpu.r[6] == S(7), "vmov r6, s7");
    cpu.r[4] = 0xaaaaaaaa;
    cpu.r[5] = 0xbbbbbbbb;
    exec(0xec454a11, false); /* vmov s2, s3, r4, r5 */
    CHECK(cpu.d[1] == 0xbbbbbbbbaaaaaaaaull, "vmov s2, s3, r4, r5");
    cpu.r[8] = 0x01234567;
    cpu.r[9] = 0x89abcdef;
    exec(0xec498b17, false); /* vmov d7, r8, r9 */
    CHECK(cpu.d[7] == 0x89abcdef01234567ull, "vmov d7, r8, r9");
    cpu.d[23] = 0x0102030405060708ull;
    exec(0xec598b37, false); /* vmov r8, r9, d23 */
    CHECK(cpu.r[8] == 0x05060708 && cpu.r[9] == 0x01020304, "vmov r8, r9, d23");
    cpu.r[2] = 0xcafef00d;
    exec(0xee252b10, false); /* vmov.32 d5[1], r2 */
    CHECK((cpu.d[5] >> 32) == 0xcafef00d, "vmov.32 d5[1], r2");
    cpu.d[21] = 0x1111111122222222ull;
    exec(0xee152b90, false); /* vmov.32 r2, d21[0] */
    CHECK(cpu.r[2] == 0x22222222, "vmov.32 r2, d21[0]");

    /* FPSCR: LEN, STRIDE, QC and the trap enables are RAZ/WI */
    cpu.r[1] = 0xffffffff;
    exec(0xeee11a10, false); /* vmsr fpscr, r1 */
    exec(0xeef13a10, false); /* vmrs r3, fpscr */
    CHECK(cpu.r[3] == 0xf7c0009f, "fpscr mask %08x", cpu.r[3]);
    cpu.fpscr = 0;

    /* identification registers */
    exec(0xeef04a10, false);
    CHECK(cpu.r[4] == cpu.fpsid, "vmrs fpsid");
    exec(0xeef74a10, false);
    CHECK(cpu.r[4] == cpu.mvfr0, "vmrs mvfr0");
    exec(0xeef64a10, false);
    CHECK(cpu.r[4] == cpu.mvfr1, "vmrs mvfr1");

    /* FPEXC.EN clear: VFP instructions UNDEFINED, FPEXC still reachable at PL1 */
    cpu.fpexc = 0;
    CHECK(exec(0xee300a81, false) == 1, "vadd with EN=0 not UNDEFINED");
    CHECK(exec(0xeef13a10, false) == 1, "vmrs fpscr with EN=0 not UNDEFINED");
    CHECK(exec(0xeef84a10, false) == 0 && cpu.r[4] == 0, "vmrs fpexc with EN=0");
    cpu.r[2] = 0xffffffff;
    CHECK(exec(0xeee82a10, false) == 0 && cpu.fpexc == ARM_FPEXC_EN, "vmsr fpexc %08x",
          cpu.fpexc);
    CHECK(exec(0xee300a81, false) == 0, "vadd with EN=1");
    /* User mode: FPEXC and the ID registers are UNDEFINED, data processing per CPACR */
    cpu.cpsr_rest = ARM_MODE_USR;
    CHECK(exec(0xeef84a10, false) == 1, "vmrs fpexc in User mode");
    CHECK(exec(0xee300a81, false) == 0, "vadd in User mode with CPACR 11");
    cpu.cp15.cpacr = 0x5u << 20; /* PL1 only */
    CHECK(exec(0xee300a81, false) == 1, "vadd in User mode with CPACR 01");
    cpu.cpsr_rest = ARM_MODE_SVC;
    CHECK(exec(0xee300a81, false) == 0, "vadd in SVC mode with CPACR 01");
    cpu.cp15.cpacr = 0;
    CHECK(exec(0xee300a81, false) == 1, "vadd with CPACR 00");
    CHECK(exec(0xeef84a10, false) == 1, "vmrs fpexc with CPACR 00");
    cpu.cp15.cpacr = 0xfu << 20;

    /* loads and stores */
    for (unsigned i = 0; i < MEM_SIZE; i++) {
        mem[i] = (uint8_t)i;
    }
    cpu.r[1] = MEM_BASE + 0x108;
    exec(0xed512a02, false); /* vldr s5, [r1, #-8] */
    CHECK(S(5) == 0x03020100, "vldr s5 %08x", S(5));
    cpu.r[2] = MEM_BASE + 0x20;
    exec(0xed923b00, false); /* vldr d3, [r2] */
    CHECK(cpu.d[3] == 0x2726252423222120ull, "vldr d3");
    cpu.r[2] = MEM_BASE + 0x22;
    CHECK(exec(0xed923b00, false) == 2, "vldr unaligned must fault");
    cpu.r[0] = MEM_BASE + 0x200;
    cpu.d[0] = 0x1111111111111111ull;
    CHECK(exec(0xecb00b20, false) == 0, "vldmia r0!, {d0-d15}");
    CHECK(cpu.r[0] == MEM_BASE + 0x280 && cpu.d[15] == 0x7f7e7d7c7b7a7978ull, "vldmia result");
    cpu.r[13] = MEM_BASE + 0x400;
    for (unsigned i = 8; i < 16; i++) {
        cpu.d[i] = 0x0101010101010101ull * i;
    }
    exec(0xed2d8b10, false); /* vpush {d8-d15} */
    CHECK(cpu.r[13] == MEM_BASE + 0x3c0 && mem[0x3c0] == 8 && mem[0x3ff] == 15, "vpush");
    memset(cpu.d, 0, sizeof(cpu.d));
    exec(0xecbd8a10, false); /* vpop {s16-s31} */
    CHECK(cpu.r[13] == MEM_BASE + 0x400 && cpu.d[8] == 0x0808080808080808ull &&
              cpu.d[15] == 0x0f0f0f0f0f0f0f0full, "vpop");
    /* a fault in the middle of VLDM changes nothing */
    cpu.r[0] = MEM_BASE + MEM_SIZE - 8;
    cpu.d[0] = 0x5555;
    CHECK(exec(0xecb00b20, false) == 2 && cpu.r[0] == MEM_BASE + MEM_SIZE - 8 &&
              cpu.d[0] == 0x5555, "vldm fault");
    /* FSTMX-style odd count: imm8 words of writeback */
    cpu.r[0] = MEM_BASE + 0x100;
    exec(0xeca00b09, false); /* fstmiax r0!, {d0-d3} */
    CHECK(cpu.r[0] == MEM_BASE + 0x124, "fstmiax writeback %08x", cpu.r[0]);
    /* literal: Align(PC, 4) + 8 in A32, out of memory from EXEC_PC */
    CHECK(exec(0xeddf1b04, false) == 2, "vldr literal outside memory faults");
}

/* ---- random operands against the host FPU ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint32_t rand32(void)
{
    uint32_t r = (uint32_t)rnd64();
    switch (rnd64() % 6) {
    case 0:
        return (r & 0x80ffffffu); /* small exponents and denormals */
    case 1:
        return (r & 0x807fffffu) | ((uint32_t)(0x70 + rnd64() % 32) << 23);
    case 2:
        return (r & 0x807fffffu) | ((uint32_t)(0xf0 + rnd64() % 16) << 23); /* near overflow */
    default:
        return r;
    }
}

static uint64_t rand64(void)
{
    uint64_t r = rnd64();
    switch (rnd64() % 6) {
    case 0:
        return r & 0x801fffffffffffffull;
    case 1:
        return (r & 0x800fffffffffffffull) | ((uint64_t)(0x3e0 + rnd64() % 64) << 52);
    case 2:
        return (r & 0x800fffffffffffffull) | ((uint64_t)(0x7e0 + rnd64() % 32) << 52);
    default:
        return r;
    }
}

static uint32_t host_flags(void)
{
    uint32_t f = 0;
    f |= fetestexcept(FE_INVALID) ? IOC : 0;
    f |= fetestexcept(FE_DIVBYZERO) ? DZC : 0;
    f |= fetestexcept(FE_OVERFLOW) ? OFC : 0;
    f |= fetestexcept(FE_UNDERFLOW) ? UFC : 0;
    f |= fetestexcept(FE_INEXACT) ? IXC : 0;
    return f;
}

static void test_random_vs_host(unsigned iterations)
{
    static const int host_mode[4] = { FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO };
    static const uint32_t ops[6] = { VADD, VSUB, VMUL, VDIV, VFMA, VSQRT };
    unsigned bad = 0;
    for (unsigned it = 0; it < iterations && bad < 20; it++) {
        unsigned mode = (unsigned)(rnd64() % 4), k = (unsigned)(rnd64() % 6);
        bool dp = rnd64() % 2;
        uint64_t a = dp ? rand64() : rand32(), b = dp ? rand64() : rand32();
        uint64_t c = dp ? rand64() : rand32();
        if (rnd64() % 4 == 0) { /* cancellation */
            b = a ^ (dp ? 0x8000000000000000ull : 0x80000000u) ^ (rnd64() & 0xff);
        }
        uint64_t want, got;
        uint32_t want_flags, got_flags;
        bool nan;

        fesetround(host_mode[mode]);
        feclearexcept(FE_ALL_EXCEPT);
        if (dp) {
            volatile double x, y, z, r;
            memcpy((void *)&x, &a, 8);
            memcpy((void *)&y, &b, 8);
            memcpy((void *)&z, &c, 8);
            switch (k) {
            case 0: r = x + y; break;
            case 1: r = x - y; break;
            case 2: r = x * y; break;
            case 3: r = x / y; break;
            case 4: r = fma(x, y, z); break;
            default: r = sqrt(x); break;
            }
            want_flags = host_flags();
            memcpy(&want, (const void *)&r, 8);
            nan = isnan(r);
        } else {
            volatile float x, y, z, r;
            uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b, c32 = (uint32_t)c;
            memcpy((void *)&x, &a32, 4);
            memcpy((void *)&y, &b32, 4);
            memcpy((void *)&z, &c32, 4);
            switch (k) {
            case 0: r = x + y; break;
            case 1: r = x - y; break;
            case 2: r = x * y; break;
            case 3: r = x / y; break;
            case 4: r = fmaf(x, y, z); break;
            default: r = sqrtf(x); break;
            }
            want_flags = host_flags();
            uint32_t w;
            memcpy(&w, (const void *)&r, 4);
            want = w;
            nan = isnan(r);
        }
        fesetround(FE_TONEAREST);

        uint32_t fpscr = mode << 22;
        if (k == 4) {
            got = dp ? op64(VFMA, c, a, b, fpscr, &got_flags) : op32(VFMA, (uint32_t)c,
                                                                    (uint32_t)a, (uint32_t)b,
                                                                    fpscr, &got_flags);
        } else if (k == 5) {
            /* dp3() puts Sm/Dm = s2/d2, the third operand */
            got = dp ? op64(VSQRT, 0, 0, a, fpscr, &got_flags)
                     : op32(VSQRT, 0, 0, (uint32_t)a, fpscr, &got_flags);
        } else {
            got = dp ? op64(ops[k], 0, a, b, fpscr, &got_flags)
                     : op32(ops[k], 0, (uint32_t)a, (uint32_t)b, fpscr, &got_flags);
        }
        got_flags &= FLAGS;
        uint64_t mag = got & (dp ? 0x7fffffffffffffffull : 0x7fffffffu);
        uint64_t min_normal = dp ? 0x0010000000000000ull : 0x00800000u;
        bool same;
        if (nan) {
            /* NaN choice differs between ARM and the host; only the NaN-ness and IOC count */
            uint64_t exp_mask = dp ? 0x7ff0000000000000ull : 0x7f800000u;
            uint64_t frac_mask = dp ? 0x000fffffffffffffull : 0x007fffffu;
            same = (got & exp_mask) == exp_mask && (got & frac_mask) != 0 &&
                   (got_flags & IOC) == (want_flags & IOC);
        } else {
            uint32_t mask = FLAGS;
            if (mag == min_normal || mag == 0) {
                mask &= ~UFC; /* host tininess after rounding vs ARM before */
            }
            same = got == want && (got_flags & mask) == (want_flags & mask);
        }
        if (!same) {
            bad++;
            CHECK(0, "random %s%s mode %u: a %016" PRIx64 " b %016" PRIx64 " c %016" PRIx64
                     ": got %016" PRIx64 " flags %02x, host %016" PRIx64 " flags %02x",
                  (const char *[]){ "add", "sub", "mul", "div", "fma", "sqrt" }[k],
                  dp ? "64" : "32", mode, a, b, c, got, got_flags, want, want_flags);
        }
    }
}

/* ---- replay of a reference file from the bare-metal oracle under qemu-system-arm ---- */

static void test_reference(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("cannot open %s\n", path);
        failures++;
        return;
    }
    char line[512];
    unsigned n = 0, bad = 0;
    while (fgets(line, sizeof(line), f)) {
        uint32_t insn, fin, fout;
        uint64_t din[4], dout[4];
        if (sscanf(line,
                   "%" SCNx32 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx32
                   " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx32,
                   &insn, &din[0], &din[1], &din[2], &din[3], &fin, &dout[0], &dout[1],
                   &dout[2], &dout[3], &fout) != 11) {
            continue;
        }
        n++;
        reset_cpu();
        memcpy(cpu.d, din, sizeof(din));
        cpu.fpscr = fin;
        int r = exec(insn, false);
        bool same = r == 0 && !memcmp(cpu.d, dout, sizeof(dout)) && cpu.fpscr == fout;
        checks++;
        if (!same) {
            failures++;
            if (++bad <= 40) {
                printf("FAIL reference: %08x in %016" PRIx64 " %016" PRIx64 " %016" PRIx64
                       " fpscr %08x\n   want %016" PRIx64 " %016" PRIx64 " fpscr %08x\n"
                       "   got  %016" PRIx64 " %016" PRIx64 " fpscr %08x (%d)\n",
                       insn, din[0], din[1], din[2], fin, dout[0], dout[1], fout, cpu.d[0],
                       cpu.d[1], cpu.fpscr, r);
            }
        }
    }
    fclose(f);
    printf("reference: %u cases, %u mismatches\n", n, bad);
    if (n == 0) {
        failures++;
    }
}

int main(int argc, char **argv)
{
    reset_cpu();
    test_decoder();
    reset_cpu();
    test_nans();
    test_flush_and_underflow();
    test_rounding();
    test_fma();
    test_sqrt_cmp();
    test_conversions();
    test_half();
    reset_cpu();
    test_moves_and_access();
    reset_cpu();
    test_random_vs_host(2000000);
    if (argc > 1) {
        test_reference(argv[1]);
    }
    printf("%u checks, %u failures\n", checks, failures);
    return failures ? 1 : 0;
}

#endif /* VFP_ORACLE_GUEST */
