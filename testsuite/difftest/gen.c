/*
 * Generator of the differential random-instruction tests (testsuite/difftest/README.md).
 *
 * From a seed it writes one ARM assembly file: COUNT sequences, each a function that loads a
 * random initial state (r0-r12, the APSR's NZCVQ and GE bits, and for VFP runs d0-d31 and
 * FPSCR), runs a few random but architecturally well-defined instructions, and stores the final
 * state for harness.c to print. The same file runs in coremu and in qemu-system-arm; the runner
 * (run-difftest.sh) compares what both print.
 *
 *   difftest-gen -i a32|t32|vfp -s SEED [-n COUNT] [-f FIRST] [-F] > prog.S
 *
 * Sequence I of a seed is the same whatever COUNT and FIRST are (its random stream is derived
 * from the seed, the ISA and I alone), so the runner can regenerate one failing sequence on
 * its own (-f I -n 1) with the full dump (-F) for triage.
 *
 * What "well-defined" means here, i.e. the rules every template obeys:
 *   - no PC or SP operand anywhere; r13 stays the stack pointer of the harness;
 *   - one base register per sequence (random, a low register in T32 for the 16-bit forms)
 *     points into a 2 KiB scratch buffer and is never the destination of anything but
 *     writeback, which the generator tracks (an interval of possible displacements and the
 *     alignment they all share), so every access stays inside the buffer and is naturally
 *     aligned (with the MMU off, data accesses are Strongly-ordered and an unaligned one
 *     would fault; neither emulator is asked to decide that);
 *   - no encoding that the ARM ARM calls UNPREDICTABLE: RdHi != RdLo, LDRD's Rt != Rt2, no
 *     writeback with the base in the register list, VMOV to two core registers distinct...
 *   - no IMPLEMENTATION DEFINED results: no short vectors (FPSCR.Len/Stride = 0, they are
 *     UNDEFINED on a Cortex-A15), no FP exception trap enables (RAZ/WI on the A15), no
 *     FPSCR.QC (a NEON bit: coremu has no NEON, QEMU's cortex-a15 has), no CPSR bits outside
 *     NZCVQ and GE (the A bit's reset value is the firmware's business);
 *   - LDREX/STREX only in pairs on the same address with nothing but register work (or a
 *     CLREX) between: whether the local monitor checks the address or is cleared by a plain
 *     store is IMPLEMENTATION DEFINED;
 *   - no system instructions, no branches except forward ones inside the sequence.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum isa { ISA_A32, ISA_T32, ISA_VFP };

/* The scratch buffer (harness.c): SCRATCH bytes, the base register starts in its middle. */
#define SCRATCH 2048
#define HALF (SCRATCH / 2)

struct gen {
    FILE *out;
    enum isa isa;
    bool thumb;     /* the sequence runs in T32 state */
    bool vfp;       /* VFP state is loaded, dumped and operated on */
    uint64_t rng;
    int base;       /* the reserved base register */
    /* Possible displacements of the base register from the middle of the buffer, and the
     * power of two (up to 8) that all of them are multiples of. */
    int dlo, dhi, align;
    bool shadow;    /* inside an IT block or the shadow of a forward branch: effects are maybe */
    bool it_slot;   /* filling one slot of an IT block: exactly one instruction */
    int label;
    unsigned index; /* of the sequence */
    bool big;       /* after SETEND BE */
};

static const char *const cond_names[14] = {
    "eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
};

/* ---- random numbers (splitmix64) ------------------------------------------------------- */

static uint64_t next64(struct gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rnd32(struct gen *g)
{
    return (uint32_t)(next64(g) >> 32);
}

/* Uniform in [0, n). */
static uint32_t rnd(struct gen *g, uint32_t n)
{
    return (uint32_t)(((next64(g) >> 32) * n) >> 32);
}

/* Uniform in [lo, hi]. */
static int range(struct gen *g, int lo, int hi)
{
    return lo + (int)rnd(g, (uint32_t)(hi - lo + 1));
}

static bool chance(struct gen *g, unsigned percent)
{
    return rnd(g, 100) < percent;
}

/* ---- output ------------------------------------------------------------------------------ */

static void emit(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("\t", g->out);
    vfprintf(g->out, fmt, ap);
    fputs("\n", g->out);
    va_end(ap);
}

/* ---- registers and values ---------------------------------------------------------------- */

/* A register to write: r0-r12 except the base (low registers only when low is set). */
static int dreg(struct gen *g, bool low)
{
    int r;
    do {
        r = (int)rnd(g, low ? 8 : 13);
    } while (r == g->base);
    return r;
}

/* A register to read: the base too, it is just a number. */
static int sreg(struct gen *g, bool low)
{
    return (int)rnd(g, low ? 8 : 13);
}

/* An initial value for an integer register: edge cases more often than chance would give. */
static uint32_t ival(struct gen *g)
{
    switch (rnd(g, 10)) {
    case 0:
        return rnd(g, 33);
    case 1:
        return (uint32_t)-(int32_t)rnd(g, 33);
    case 2: {
        static const uint32_t edges[] = {0x7fffffff, 0x80000000, 0xffffffff, 0x80000001,
                                         0x7fff,     0x8000,     0xffff,     0x7f,
                                         0x80,       0xff,       0x00010000, 0xffff8000};
        return edges[rnd(g, sizeof(edges) / sizeof(edges[0]))];
    }
    case 3:
        return 1u << rnd(g, 32);
    case 4:
        /* Bytes and halfwords near their saturation points, for the parallel instructions. */
        return (uint32_t)(0x7f + range(g, -2, 2)) * 0x01010101u ^ (rnd32(g) & 0x81818181u);
    default:
        return rnd32(g);
    }
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* A single-precision operand: zeros, infinities, NaNs of both kinds, denormals, integers,
 * values near the integer conversion limits, and ordinary numbers. */
static uint32_t fval32(struct gen *g)
{
    uint32_t sign = rnd(g, 2) << 31;
    switch (rnd(g, 14)) {
    case 0:
        return rnd32(g);
    case 1:
        return sign;
    case 2:
        return sign | 0x7f800000;
    case 3:
        return sign | 0x7fc00000 | (rnd32(g) & 0x3fffff);
    case 4:
        return sign | 0x7f800000 | (1 + rnd(g, 0x3fffff));
    case 5:
        return sign | (1 + rnd(g, 0x7fffff)) >> rnd(g, 23);
    case 6:
        return f32_bits((float)range(g, -100, 100));
    case 7:
        return sign | (uint32_t)range(g, 156, 159) << 23 | (rnd32(g) & 0x7fffff) >> rnd(g, 24);
    case 8:
        return sign | (uint32_t)range(g, 124, 130) << 23 | (rnd32(g) & 0x7fffff) >> rnd(g, 24);
    case 9:
        return sign | (rnd(g, 2) ? 0x00800000 : 0x7f7fffff);
    case 10:
        /* Small exponents: products and quotients that underflow. */
        return sign | (uint32_t)range(g, 1, 30) << 23 | (rnd32(g) & 0x7fffff);
    default:
        return sign | (uint32_t)range(g, 100, 154) << 23 | (rnd32(g) & 0x7fffff);
    }
}

static uint64_t fval64(struct gen *g)
{
    uint64_t sign = (uint64_t)rnd(g, 2) << 63;
    uint64_t mant = next64(g) & 0xfffffffffffffull;
    switch (rnd(g, 14)) {
    case 0:
        return next64(g);
    case 1:
        return sign;
    case 2:
        return sign | 0x7ff0000000000000ull;
    case 3:
        return sign | 0x7ff8000000000000ull | (mant & 0x7ffffffffffffull);
    case 4:
        return sign | 0x7ff0000000000000ull | ((mant & 0x7ffffffffffffull) | 1) >> rnd(g, 50);
    case 5:
        return sign | ((mant | 1) >> rnd(g, 52));
    case 6:
        return f64_bits((double)range(g, -100, 100));
    case 7:
        return sign | (uint64_t)range(g, 1052, 1055) << 52 | mant >> rnd(g, 53);
    case 8:
        return sign | (uint64_t)range(g, 1020, 1026) << 52 | mant >> rnd(g, 53);
    case 9:
        return sign | (rnd(g, 2) ? 0x0010000000000000ull : 0x7fefffffffffffffull);
    case 10:
        /* Doubles that are singles' edge cases after VCVT.F32.F64 (overflow, denormal). */
        return sign | (uint64_t)range(g, 870, 1160) << 52 | mant;
    default:
        return sign | (uint64_t)range(g, 990, 1060) << 52 | mant;
    }
}

/* A modified immediate: A32 = 8 bits rotated right by an even amount; T32 = one of the
 * byte-replicated patterns or 1bcdefgh rotated right by 8..31. */
static uint32_t modimm(struct gen *g)
{
    uint32_t b = rnd(g, 256);
    if (!g->thumb) {
        unsigned rot = 2 * rnd(g, 16);
        return rot ? (b >> rot) | (b << (32 - rot)) : b;
    }
    switch (rnd(g, 5)) {
    case 0:
        return b;
    case 1:
        return b * 0x00010001u;
    case 2:
        return b * 0x01000100u;
    case 3:
        return b * 0x01010101u;
    default: {
        unsigned rot = (unsigned)range(g, 8, 31);
        b |= 0x80;
        return (b >> rot) | (b << (32 - rot));
    }
    }
}

/* A shifted-register second operand: ", lsl #n" etc., or "" (no shift). */
static void shift_imm(struct gen *g, char *buf, size_t n)
{
    switch (rnd(g, 6)) {
    case 0:
        snprintf(buf, n, ", lsl #%d", range(g, 1, 31));
        break;
    case 1:
        snprintf(buf, n, ", lsr #%d", range(g, 1, 32));
        break;
    case 2:
        snprintf(buf, n, ", asr #%d", range(g, 1, 32));
        break;
    case 3:
        snprintf(buf, n, ", ror #%d", range(g, 1, 31));
        break;
    case 4:
        snprintf(buf, n, ", rrx");
        break;
    default:
        buf[0] = 0;
        break;
    }
}

/* ---- integer templates ------------------------------------------------------------------- */
/* Each takes the condition suffix ("" or "eq"...: an A32 condition or the IT slot's) and
 * emits one instruction (a few for the memory ones). */

static const char *wide(struct gen *g)
{
    /* Ask for the 32-bit T32 encoding now and then; the assembler picks the 16-bit one when
     * it can otherwise. */
    return g->thumb && chance(g, 25) ? ".w" : "";
}

static void t_dp(struct gen *g, const char *c)
{
    static const char *const a32ops[] = {"and", "eor", "sub", "rsb", "add", "adc",
                                         "sbc", "rsc", "orr", "bic"};
    static const char *const t32ops[] = {"and", "eor", "sub", "rsb", "add", "adc",
                                         "sbc", "orn", "orr", "bic"};
    const char *op = (g->thumb ? t32ops : a32ops)[rnd(g, 10)];
    const char *s = chance(g, 50) ? "s" : "";
    bool low = g->thumb && chance(g, 50);
    int d = dreg(g, low), n = sreg(g, low), m = sreg(g, low);
    char sh[32];
    switch (rnd(g, g->thumb ? 3 : 4)) {
    case 0:
        emit(g, "%s%s%s%s r%d, r%d, #%" PRIu32, op, s, c, wide(g), d, n, modimm(g));
        break;
    case 1:
        if (g->thumb && !strcmp(op, "rsb")) {
            /* T32 RSB has no plain register form of 16 bits; the 32-bit one takes a shift. */
            emit(g, "rsb%s%s.w r%d, r%d, r%d", s, c, d, n, m);
        } else {
            emit(g, "%s%s%s%s r%d, r%d, r%d", op, s, c, wide(g), d, n, m);
        }
        break;
    case 2:
        shift_imm(g, sh, sizeof(sh));
        emit(g, "%s%s%s%s r%d, r%d, r%d%s", op, s, c, g->thumb ? ".w" : "", d, n, m, sh);
        break;
    default:
        /* A32 only: shift by a register. */
        emit(g, "%s%s%s r%d, r%d, r%d, %s r%d", op, s, c, d, n, m,
             (const char *[]){"lsl", "lsr", "asr", "ror"}[rnd(g, 4)], sreg(g, false));
        break;
    }
}

/* Two-operand forms in T32's 16-bit style (Rdn, Rm) and ADDW/SUBW: what the 16-bit
 * encodings and the plain-12-bit immediates need. */
static void t_dp2(struct gen *g, const char *c)
{
    bool it = c[0] != 0;
    int d = dreg(g, true), m = sreg(g, true);
    /* Outside an IT block the 16-bit encodings set the flags, inside they do not. */
    const char *s = it ? "" : "s";
    switch (rnd(g, g->thumb ? 10 : 6)) {
    case 0:
        emit(g, "%s%s%s r%d, r%d", (const char *[]){"and", "eor", "adc", "sbc", "orr",
                                                   "bic", "mvn", "mul"}[rnd(g, 8)],
             s, c, d, m);
        break;
    case 1:
        emit(g, "%s%s%s r%d, r%d, #%d", rnd(g, 2) ? "add" : "sub", s, c, d, m, range(g, 0, 7));
        break;
    case 2:
        emit(g, "%s%s%s r%d, #%d", rnd(g, 2) ? "add" : "sub", s, c, d, range(g, 0, 255));
        break;
    case 3:
        emit(g, "mov%s%s r%d, #%d", s, c, d, range(g, 0, 255));
        break;
    case 4:
        emit(g, "%s%s%s r%d, r%d, r%d", rnd(g, 2) ? "add" : "sub", s, c, d, m, sreg(g, true));
        break;
    case 5:
        emit(g, "%s%s r%d, r%d", (const char *[]){"cmp", "cmn", "tst"}[rnd(g, 3)], c, d, m);
        break;
    case 6:
        /* High registers: ADD, MOV, CMP (register), no flags except CMP. */
        d = dreg(g, false);
        m = sreg(g, false);
        switch (rnd(g, 3)) {
        case 0:
            emit(g, "add%s r%d, r%d", c, d, m);
            break;
        case 1:
            emit(g, "mov%s r%d, r%d", c, d, m);
            break;
        default:
            emit(g, "cmp%s r%d, r%d", c, d, m);
            break;
        }
        break;
    case 7:
        emit(g, "%s%s r%d, r%d, #%d", rnd(g, 2) ? "addw" : "subw", c, dreg(g, false),
             sreg(g, false), range(g, 0, 4095));
        break;
    case 8:
        emit(g, "rsb%s%s r%d, r%d, #0", s, c, d, m);
        break;
    default:
        emit(g, "cmp%s r%d, #%d", c, m, range(g, 0, 255));
        break;
    }
}

static void t_mov(struct gen *g, const char *c)
{
    const char *s = chance(g, 50) ? "s" : "";
    bool low = g->thumb && chance(g, 50);
    int d = dreg(g, low), m = sreg(g, low);
    static const char *const shifts[] = {"lsl", "lsr", "asr", "ror"};
    switch (rnd(g, 7)) {
    case 0:
        emit(g, "%s%s%s%s r%d, #%" PRIu32, rnd(g, 2) ? "mov" : "mvn", s, c, wide(g), d,
             modimm(g));
        break;
    case 1:
        emit(g, "%s%s%s%s r%d, r%d", rnd(g, 2) ? "mov" : "mvn", s, c, wide(g), d, m);
        break;
    case 2: {
        int k = (int)rnd(g, 4);
        int lo = k == 0 ? 0 : 1, hi = k == 0 || k == 3 ? 31 : 32;
        emit(g, "%s%s%s%s r%d, r%d, #%d", shifts[k], s, c, wide(g), d, m, range(g, lo, hi));
        break;
    }
    case 3:
        emit(g, "%s%s%s%s r%d, r%d, r%d", shifts[rnd(g, 4)], s, c, wide(g), d, m, sreg(g, low));
        break;
    case 4:
        emit(g, "rrx%s%s r%d, r%d", s, c, d, m);
        break;
    case 5:
        emit(g, "movw%s r%d, #%" PRIu32, c, d, rnd32(g) & 0xffff);
        break;
    default:
        emit(g, "movt%s r%d, #%" PRIu32, c, d, rnd32(g) & 0xffff);
        break;
    }
}

static void t_test(struct gen *g, const char *c)
{
    static const char *const ops[] = {"tst", "teq", "cmp", "cmn"};
    const char *op = ops[rnd(g, 4)];
    int n = sreg(g, false), m = sreg(g, false);
    char sh[32];
    switch (rnd(g, g->thumb ? 3 : 4)) {
    case 0:
        emit(g, "%s%s r%d, #%" PRIu32, op, c, n, modimm(g));
        break;
    case 1:
        emit(g, "%s%s r%d, r%d", op, c, n, m);
        break;
    case 2:
        shift_imm(g, sh, sizeof(sh));
        emit(g, "%s%s%s r%d, r%d%s", op, c, g->thumb ? ".w" : "", n, m, sh);
        break;
    default:
        emit(g, "%s%s r%d, r%d, %s r%d", op, c, n, m,
             (const char *[]){"lsl", "lsr", "asr", "ror"}[rnd(g, 4)], sreg(g, false));
        break;
    }
}

static void t_mul(struct gen *g, const char *c)
{
    int d = dreg(g, false), n = sreg(g, false), m = sreg(g, false), a = sreg(g, false);
    int lo = dreg(g, false), hi;
    do {
        hi = dreg(g, false);
    } while (hi == lo);
    /* The flag-setting multiplies are A32 only, apart from T32's 16-bit MULS. */
    const char *s = !g->thumb && chance(g, 40) ? "s" : "";
    static const char *const xy[] = {"bb", "bt", "tb", "tt"};
    switch (rnd(g, 14)) {
    case 0:
        emit(g, "mul%s%s r%d, r%d, r%d", s, c, d, n, m);
        break;
    case 1:
        emit(g, "%s%s r%d, r%d, r%d, r%d", rnd(g, 2) ? "mla" : "mls", c, d, n, m, a);
        break;
    case 2:
        if (!g->thumb) {
            emit(g, "mlas%s r%d, r%d, r%d, r%d", c, d, n, m, a);
        } else {
            /* T32 sets flags only in its 16-bit MULS (Rdm = Rn * Rdm), outside IT blocks. */
            d = dreg(g, true);
            emit(g, "mul%s%s r%d, r%d, r%d", c[0] ? "" : "s", c, d, sreg(g, true), d);
        }
        break;
    case 3:
        emit(g, "%s%s%s r%d, r%d, r%d, r%d",
             (const char *[]){"umull", "smull", "umlal", "smlal"}[rnd(g, 4)], s, c, lo, hi, n,
             m);
        break;
    case 4:
        emit(g, "umaal%s r%d, r%d, r%d, r%d", c, lo, hi, n, m);
        break;
    case 5:
        emit(g, "smul%s%s r%d, r%d, r%d", xy[rnd(g, 4)], c, d, n, m);
        break;
    case 6:
        emit(g, "smla%s%s r%d, r%d, r%d, r%d", xy[rnd(g, 4)], c, d, n, m, a);
        break;
    case 7:
        emit(g, "%s%s r%d, r%d, r%d, r%d", rnd(g, 2) ? "smlawb" : "smlawt", c, d, n, m, a);
        break;
    case 8:
        emit(g, "%s%s r%d, r%d, r%d", rnd(g, 2) ? "smulwb" : "smulwt", c, d, n, m);
        break;
    case 9:
        emit(g, "smlal%s%s r%d, r%d, r%d, r%d", xy[rnd(g, 4)], c, lo, hi, n, m);
        break;
    case 10:
        emit(g, "%s%s%s r%d, r%d, r%d", rnd(g, 2) ? "smuad" : "smusd", rnd(g, 2) ? "x" : "", c,
             d, n, m);
        break;
    case 11:
        if (rnd(g, 2)) {
            emit(g, "%s%s%s r%d, r%d, r%d, r%d", rnd(g, 2) ? "smlad" : "smlsd",
                 rnd(g, 2) ? "x" : "", c, d, n, m, a);
        } else {
            emit(g, "%s%s%s r%d, r%d, r%d, r%d", rnd(g, 2) ? "smlald" : "smlsld",
                 rnd(g, 2) ? "x" : "", c, lo, hi, n, m);
        }
        break;
    case 12:
        if (rnd(g, 2)) {
            emit(g, "smmul%s%s r%d, r%d, r%d", rnd(g, 2) ? "r" : "", c, d, n, m);
        } else {
            emit(g, "%s%s%s r%d, r%d, r%d, r%d", rnd(g, 2) ? "smmla" : "smmls",
                 rnd(g, 2) ? "r" : "", c, d, n, m, a);
        }
        break;
    default:
        if (rnd(g, 2)) {
            emit(g, "usad8%s r%d, r%d, r%d", c, d, n, m);
        } else {
            emit(g, "usada8%s r%d, r%d, r%d, r%d", c, d, n, m, a);
        }
        break;
    }
}

static void t_sat(struct gen *g, const char *c)
{
    int d = dreg(g, false), n = sreg(g, false), m = sreg(g, false);
    switch (rnd(g, 5)) {
    case 0:
        emit(g, "%s%s r%d, r%d, r%d", (const char *[]){"qadd", "qsub", "qdadd", "qdsub"}[rnd(g, 4)],
             c, d, m, n);
        break;
    case 1:
    case 2: {
        bool u = rnd(g, 2);
        int sat = u ? range(g, 0, 31) : range(g, 1, 32);
        char sh[32] = "";
        if (rnd(g, 2)) {
            snprintf(sh, sizeof(sh), ", lsl #%d", range(g, 0, 31));
        } else if (rnd(g, 2)) {
            snprintf(sh, sizeof(sh), ", asr #%d", range(g, 1, g->thumb ? 31 : 32));
        }
        emit(g, "%s%s r%d, #%d, r%d%s", u ? "usat" : "ssat", c, d, sat, n, sh);
        break;
    }
    case 3:
        emit(g, "ssat16%s r%d, #%d, r%d", c, d, range(g, 1, 16), n);
        break;
    default:
        emit(g, "usat16%s r%d, #%d, r%d", c, d, range(g, 0, 15), n);
        break;
    }
}

static void t_parallel(struct gen *g, const char *c)
{
    static const char *const pre[] = {"s", "q", "sh", "u", "uq", "uh"};
    static const char *const op[] = {"add16", "asx", "sax", "sub16", "add8", "sub8"};
    int d = dreg(g, false), n = sreg(g, false), m = sreg(g, false);
    if (chance(g, 12)) {
        emit(g, "sel%s r%d, r%d, r%d", c, d, n, m);
    } else {
        emit(g, "%s%s%s r%d, r%d, r%d", pre[rnd(g, 6)], op[rnd(g, 6)], c, d, n, m);
    }
}

static void t_pack(struct gen *g, const char *c)
{
    static const char *const ext[] = {"sxtb", "sxth", "uxtb", "uxth", "sxtb16", "uxtb16"};
    static const char *const exta[] = {"sxtab", "sxtah", "uxtab", "uxtah", "sxtab16", "uxtab16"};
    bool low = g->thumb && chance(g, 30);
    int d = dreg(g, low), n = sreg(g, low), m = sreg(g, low);
    char rot[16] = "";
    if (chance(g, 50)) {
        snprintf(rot, sizeof(rot), ", ror #%d", 8 * range(g, 1, 3));
    }
    switch (rnd(g, 4)) {
    case 0:
        emit(g, "%s%s r%d, r%d%s", ext[rnd(g, 6)], c, d, m, rot);
        break;
    case 1:
        emit(g, "%s%s r%d, r%d, r%d%s", exta[rnd(g, 6)], c, d, n, m, rot);
        break;
    case 2:
        if (rnd(g, 2)) {
            emit(g, "pkhbt%s r%d, r%d, r%d, lsl #%d", c, d, n, m, range(g, 0, 31));
        } else {
            emit(g, "pkhtb%s r%d, r%d, r%d, asr #%d", c, d, n, m, range(g, 1, 32));
        }
        break;
    default:
        emit(g, "%s%s r%d, r%d",
             (const char *[]){"rev", "rev16", "revsh", "rbit", "clz"}[rnd(g, 5)], c, d, m);
        break;
    }
}

static void t_bits(struct gen *g, const char *c)
{
    int d = dreg(g, false), n = sreg(g, false);
    int lsb = range(g, 0, 31), width = range(g, 1, 32 - lsb);
    switch (rnd(g, 5)) {
    case 0:
        emit(g, "bfc%s r%d, #%d, #%d", c, d, lsb, width);
        break;
    case 1:
        emit(g, "bfi%s r%d, r%d, #%d, #%d", c, d, n, lsb, width);
        break;
    case 2:
        emit(g, "%s%s r%d, r%d, #%d, #%d", rnd(g, 2) ? "sbfx" : "ubfx", c, d, n, lsb, width);
        break;
    default:
        emit(g, "%s%s r%d, r%d, r%d", rnd(g, 2) ? "sdiv" : "udiv", c, d, n, sreg(g, false));
        break;
    }
}

static void t_psr(struct gen *g, const char *c)
{
    int r = sreg(g, false);
    switch (g->it_slot ? 1 : rnd(g, g->thumb ? 3 : 5)) {
    case 0: {
        /* MRS: only NZCVQ and GE are compared (see the rules at the top), so keep those. */
        int d = dreg(g, false);
        emit(g, "mrs%s r%d, apsr", c, d);
        emit(g, "and%s r%d, r%d, #0xf8000000", c, d, d);
        break;
    }
    case 1:
        emit(g, "msr%s apsr_nzcvq, r%d", c, r);
        break;
    case 2:
        emit(g, "msr%s apsr_%s, r%d", c, rnd(g, 2) ? "g" : "nzcvqg", r);
        break;
    case 3:
        emit(g, "msr%s apsr_nzcvq, #0x%" PRIx32, c, rnd(g, 32) << 27);
        break;
    default:
        emit(g, "msr%s apsr_g, #0x%" PRIx32, c, rnd(g, 16) << 16);
        break;
    }
}

/* ---- memory ------------------------------------------------------------------------------ */

/* Is [d + off, d + off + size) inside the buffer for every possible displacement d, and is
 * d + off a multiple of al? */
static bool fits(struct gen *g, int off, int size, int al)
{
    return g->dlo + off >= -HALF && g->dhi + off + size <= HALF && g->align >= al &&
           off % al == 0;
}

/* The base register changes by some amount in [lo, hi], a multiple of unit (writeback). In a
 * shadow the change may not happen at all. */
static void moved_range(struct gen *g, int lo, int hi, int unit)
{
    if (g->shadow) {
        lo = lo < 0 ? lo : 0;
        hi = hi > 0 ? hi : 0;
    }
    g->dlo += lo;
    g->dhi += hi;
    while (g->align > unit) {
        g->align /= 2;
    }
}

static int lowbit(int v)
{
    v = v < 0 ? -v : v;
    return v == 0 || (v & -v) > 8 ? 8 : (v & -v);
}

static void moved(struct gen *g, int delta)
{
    moved_range(g, delta, delta, lowbit(delta));
}

/* Outside IT blocks and branch shadows: bring the base register back to the middle of the
 * buffer when its range has grown too wide or unaligned (a MOVW/MOVT pair, itself tested). */
static void recenter(struct gen *g)
{
    if (g->shadow) {
        return;
    }
    if (g->dlo < -HALF / 2 || g->dhi > HALF / 2 || g->align < 4 || chance(g, 3)) {
        emit(g, "movw r%d, #:lower16:dt_scratch+%d", g->base, HALF);
        emit(g, "movt r%d, #:upper16:dt_scratch+%d", g->base, HALF);
        g->dlo = g->dhi = 0;
        g->align = 8;
    }
}

/* An offset in [lo, hi], a multiple of al, for an access of size bytes that fits. */
static bool pick_off(struct gen *g, int size, int al, int lo, int hi, int *off)
{
    for (int tries = 0; tries < 20; tries++) {
        int o = range(g, -(-lo / al), hi / al) * al;
        if (fits(g, o, size, al)) {
            *off = o;
            return true;
        }
    }
    return false;
}

/* LDR/STR of every width and addressing mode, on the base register. */
static void t_mem(struct gen *g, const char *c)
{
    bool it = g->thumb && c[0];
    /* kind: 0 word, 1 byte, 2 half, 3 signed byte, 4 signed half, 5 doubleword */
    static const int sizes[] = {4, 1, 2, 1, 2, 8};
    static const char *const lnames[] = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrd"};
    static const char *const snames[] = {"str", "strb", "strh", "", "", "strd"};
    recenter(g);
    int kind = (int)rnd(g, 6);
    bool load = kind == 3 || kind == 4 || rnd(g, 2);
    const char *name = load ? lnames[kind] : snames[kind];
    int size = sizes[kind], al = size > 4 ? 4 : size;
    bool low = g->thumb && g->base < 8 && chance(g, 50);
    /* Rt is never the base: with writeback that is UNPREDICTABLE, for loads as for stores. */
    int t = dreg(g, low), t2 = -1;
    char rt[16];
    if (kind == 5) {
        if (g->thumb) {
            do {
                t2 = dreg(g, false);
            } while (load && t2 == t);
        } else {
            /* A32: an even Rt below r12, Rt2 = Rt + 1. */
            do {
                t = 2 * (int)rnd(g, 6);
            } while (t == g->base || t + 1 == g->base);
            t2 = t + 1;
        }
        snprintf(rt, sizeof(rt), "r%d, r%d", t, t2);
    } else {
        snprintf(rt, sizeof(rt), "r%d", t);
    }
    /* Immediate offset limits: A32 LDR/LDRB 12 bits (kept to 1020 for the buffer), the other
     * A32 forms 8 bits; T32 +4095 (kept to 1020) / -255 for [Rn, #off], 8 bits with writeback,
     * LDRD 8 bits times 4 everywhere. */
    int max = kind == 5 && g->thumb ? 1020 : kind <= 1 && !g->thumb ? 1020 : 255;
    int mode = (int)rnd(g, it ? 3 : 5);
    int off;
    switch (mode) {
    case 0: /* [Rn, #off] */
        if (!pick_off(g, size, al, g->thumb && kind != 5 ? -255 : -max,
                      g->thumb ? 1020 : max, &off)) {
            break;
        }
        emit(g, "%s%s %s, [r%d, #%d]", name, c, rt, g->base, off);
        return;
    case 1: /* [Rn, #off]! */
        if (!pick_off(g, size, al, -max, max, &off) || off == 0) {
            break;
        }
        emit(g, "%s%s %s, [r%d, #%d]!", name, c, rt, g->base, off);
        moved(g, off);
        return;
    case 2: /* [Rn], #off */
        if (!fits(g, 0, size, al) || !pick_off(g, 0, al, -max, max, &off) || off == 0) {
            break;
        }
        emit(g, "%s%s %s, [r%d], #%d", name, c, rt, g->base, off);
        moved(g, off);
        return;
    default: { /* register offsets (not in IT blocks: the masking AND is a separate slot) */
        if (kind == 5 && g->thumb) {
            break;
        }
        /* A32: word and byte take a shifted index, the others none; T32: LSL #0-3, add only. */
        int sh = kind <= 1 || g->thumb ? (int)rnd(g, g->thumb ? 4 : 3) : 0;
        bool neg = !g->thumb && rnd(g, 2);
        bool wb = !g->thumb && mode == 4;
        bool post = wb && rnd(g, 2);
        /* The index (after the shift) is a multiple of al below 256. */
        int lo = neg ? -255 : 0, hi = neg ? 0 : 255;
        if (g->align < al || g->dlo + lo < -HALF || g->dhi + hi + size > HALF ||
            (post && !fits(g, 0, size, al))) {
            break;
        }
        int idx;
        do {
            /* A32 LDRD/STRD: the index may not be Rt or Rt2. */
            idx = dreg(g, false);
        } while (kind == 5 && (idx == t || idx == t2));
        int step = al >> sh ? al >> sh : 1;
        emit(g, "and%s r%d, r%d, #%d", c, idx, idx, ((256 >> sh) - 1) & ~(step - 1));
        char shs[16] = "";
        if (sh) {
            snprintf(shs, sizeof(shs), ", lsl #%d", sh);
        }
        if (post) {
            emit(g, "%s%s %s, [r%d], %sr%d%s", name, c, rt, g->base, neg ? "-" : "", idx, shs);
        } else {
            emit(g, "%s%s %s, [r%d, %sr%d%s]%s", name, c, rt, g->base, neg ? "-" : "", idx, shs,
                 wb ? "!" : "");
        }
        if (wb) {
            moved_range(g, lo, hi, al);
        }
        return;
    }
    }
    /* Nothing fitted (a shadow, where the base cannot be recentred): a plain word load. */
    if (fits(g, 0, 4, 4)) {
        emit(g, "ldr%s r%d, [r%d]", c, dreg(g, false), g->base);
    } else {
        emit(g, "nop%s", c);
    }
}

/* LDM/STM on the base register; the list never holds the base. */
static void t_multi(struct gen *g, const char *c)
{
    recenter(g);
    bool load = rnd(g, 2);
    bool low = g->thumb && g->base < 8 && chance(g, 40);
    unsigned mask;
    do {
        mask = rnd32(g) & (low ? 0xffu : 0x1fffu) & ~(1u << g->base);
        if (chance(g, 50)) {
            mask &= rnd32(g);
        }
        /* T32's 32-bit LDM/STM want two registers at least. */
    } while (__builtin_popcount(mask) < (g->thumb ? 2 : 1));
    int n = __builtin_popcount(mask);
    static const char *const modes[] = {"ia", "db", "ib", "da"};
    int mode = (int)rnd(g, g->thumb ? 2 : 4);
    bool wb = rnd(g, 2);
    /* First address relative to the base, and the writeback amount. */
    int first = mode == 0 ? 0 : mode == 1 ? -4 * n : mode == 2 ? 4 : -4 * n + 4;
    int delta = mode == 0 || mode == 2 ? 4 * n : -4 * n;
    if (!fits(g, first, 4 * n, 4)) {
        emit(g, "nop%s", c);
        return;
    }
    char list[64] = "";
    size_t len = 0;
    for (int r = 0; r < 13; r++) {
        if (mask & (1u << r)) {
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%sr%d", len ? ", " : "", r);
        }
    }
    emit(g, "%s%s%s r%d%s, {%s}", load ? "ldm" : "stm", modes[mode], c, g->base, wb ? "!" : "",
         list);
    if (wb) {
        moved(g, delta);
    }
}

typedef void (*template_fn)(struct gen *g, const char *c);

struct template {
    template_fn fn;
    unsigned weight_int; /* in A32 and T32 runs */
    unsigned weight_vfp; /* in VFP runs */
    bool it_ok;          /* may be conditional (in an IT block or with an A32 condition) */
    bool top;            /* top level only: not conditional, not in a shadow */
};

static const struct template *pick(struct gen *g, bool in_it);

/* ---- control flow, PC-relative, exclusives ------------------------------------------------ */

/* ADR and literal loads (the sequence's own 16-byte pool after its code, or the assembler's
 * literal pool): PC reads as the instruction + 8 in A32, Align(instruction + 4, 4) in T32. */
static void t_pcrel(struct gen *g, const char *c)
{
    int d = dreg(g, g->thumb && chance(g, 50));
    int k = 4 * (int)rnd(g, 4);
    switch (rnd(g, 5)) {
    case 0:
        emit(g, "adr%s r%d, .Lpool%u+%d", c, d, g->index, k);
        break;
    case 1:
        emit(g, "ldr%s r%d, .Lpool%u+%d", c, d, g->index, k);
        break;
    case 2:
        emit(g, "ldr%s r%d, =0x%08" PRIx32, c, d, ival(g));
        break;
    case 3:
        if (g->vfp) {
            emit(g, "vldr%s %c%d, .Lpool%u+%d", c, rnd(g, 2) ? 's' : 'd', (int)rnd(g, 32),
                 g->index, k & 8);
            break;
        }
        /* fall through */
    default:
        /* A32's LDRH/LDRSB/LDRSH (literal) reach 255 bytes only: T32, or LDRB. */
        if (g->thumb) {
            static const char *const names[] = {"ldrb", "ldrh", "ldrsb", "ldrsh"};
            int w = (int)rnd(g, 4);
            emit(g, "%s%s r%d, .Lpool%u+%d", names[w], c, d, g->index,
                 k + (w & 1 ? 2 * (int)rnd(g, 2) : (int)rnd(g, 4)));
        } else {
            emit(g, "ldrb%s r%d, .Lpool%u+%d", c, d, g->index, k + (int)rnd(g, 4));
        }
        break;
    }
}

static void filler(struct gen *g)
{
    /* Register-only work between an LDREX and its STREX (a store there could clear the
     * monitor or not: IMPLEMENTATION DEFINED). */
    static const template_fn fns[] = {t_dp, t_mov, t_mul, t_parallel, t_pack};
    fns[rnd(g, 5)](g, "");
}

/* LDREX/STREX pairs of every size on the same address, sometimes with a CLREX between: STREX
 * writes 0 (stored) or 1 (CLREX cleared the monitor). Top level only. */
static void t_excl(struct gen *g, const char *c)
{
    static const int sizes[] = {4, 1, 2, 8};
    static const char *const sfx[] = {"", "b", "h", "d"};
    (void)c;
    recenter(g);
    int kind = (int)rnd(g, 4), size = sizes[kind];
    if (!fits(g, 0, size, size)) {
        emit(g, "nop");
        return;
    }
    char lt[16], st[16];
    int t, t2 = -1, v, v2 = -1, s;
    if (kind == 3 && !g->thumb) {
        /* A32: even Rt, Rt2 = Rt + 1 (not the base, for the load). */
        do {
            t = 2 * (int)rnd(g, 6);
        } while (t == g->base || t + 1 == g->base);
        t2 = t + 1;
        v = 2 * (int)rnd(g, 6);
        v2 = v + 1;
    } else if (kind == 3) {
        t = dreg(g, false);
        do {
            t2 = dreg(g, false);
        } while (t2 == t);
        v = sreg(g, false);
        v2 = sreg(g, false);
    } else {
        t = dreg(g, false);
        v = sreg(g, false);
    }
    /* STREX's status register differs from the base and the value registers. */
    do {
        s = dreg(g, false);
    } while (s == v || s == v2);
    if (kind == 3) {
        snprintf(lt, sizeof(lt), "r%d, r%d", t, t2);
        snprintf(st, sizeof(st), "r%d, r%d", v, v2);
    } else {
        snprintf(lt, sizeof(lt), "r%d", t);
        snprintf(st, sizeof(st), "r%d", v);
    }
    emit(g, "ldrex%s %s, [r%d]", sfx[kind], lt, g->base);
    for (int i = (int)rnd(g, 3); i > 0; i--) {
        filler(g);
    }
    if (chance(g, 15)) {
        emit(g, "clrex");
    }
    emit(g, "strex%s r%d, %s, [r%d]", sfx[kind], s, st, g->base);
}

/* A computed forward jump into one of four fall-through cases: A32 ADD PC, PC, Rm, LSL #2
 * over a table of branches; T32 TBB or TBH. Top level only. */
static void t_jump(struct gen *g, const char *c)
{
    (void)c;
    int l = ++g->label;
    int idx = dreg(g, false);
    emit(g, "and r%d, r%d, #3", idx, idx);
    if (!g->thumb) {
        emit(g, "add pc, pc, r%d, lsl #2", idx);
        emit(g, "nop");
        for (int i = 0; i < 4; i++) {
            emit(g, "b .Lcase%d_%d", l, i);
        }
    } else if (g->big || rnd(g, 2)) {
        /* TBH reads its table with the data endianness: big-endian after SETEND BE. */
        emit(g, "tbb [pc, r%d]", idx);
        fprintf(g->out, ".Ltable%d:\n", l);
        for (int i = 0; i < 4; i++) {
            emit(g, ".byte (.Lcase%d_%d - .Ltable%d) / 2", l, i, l);
        }
    } else {
        emit(g, "tbh [pc, r%d, lsl #1]", idx);
        fprintf(g->out, ".Ltable%d:\n", l);
        for (int i = 0; i < 4; i++) {
            emit(g, ".hword (.Lcase%d_%d - .Ltable%d) / 2", l, i, l);
        }
    }
    bool save = g->shadow;
    g->shadow = true;
    for (int i = 0; i < 4; i++) {
        fprintf(g->out, ".Lcase%d_%d:\n", l, i);
        pick(g, false)->fn(g, "");
    }
    g->shadow = save;
}

/* ---- VFP templates ----------------------------------------------------------------------- */

static void t_vfp_arith(struct gen *g, const char *c)
{
    static const char *const ops3[] = {"vadd", "vsub", "vmul", "vdiv", "vnmul", "vmla", "vmls",
                                       "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"};
    static const char *const ops2[] = {"vabs", "vneg", "vsqrt", "vmov"};
    bool dbl = rnd(g, 2);
    char r = dbl ? 'd' : 's';
    int d = (int)rnd(g, 32), n = (int)rnd(g, 32), m = (int)rnd(g, 32);
    const char *t = dbl ? "f64" : "f32";
    if (chance(g, 75)) {
        emit(g, "%s%s.%s %c%d, %c%d, %c%d", ops3[rnd(g, 13)], c, t, r, d, r, n, r, m);
    } else {
        emit(g, "%s%s.%s %c%d, %c%d", ops2[rnd(g, 4)], c, t, r, d, r, m);
    }
}

static void t_vfp_cmp(struct gen *g, const char *c)
{
    bool dbl = rnd(g, 2);
    char r = dbl ? 'd' : 's';
    const char *e = rnd(g, 2) ? "e" : "";
    if (chance(g, 25)) {
        emit(g, "vcmp%s%s.%s %c%d, #0", e, c, dbl ? "f64" : "f32", r, (int)rnd(g, 32));
    } else {
        emit(g, "vcmp%s%s.%s %c%d, %c%d", e, c, dbl ? "f64" : "f32", r, (int)rnd(g, 32), r,
             (int)rnd(g, 32));
    }
    if (!g->it_slot && chance(g, 70)) {
        emit(g, "vmrs%s APSR_nzcv, fpscr", c);
    }
}

static void t_vfp_cvt(struct gen *g, const char *c)
{
    int d = (int)rnd(g, 32), m = (int)rnd(g, 32);
    const char *it = rnd(g, 2) ? "s32" : "u32";
    switch (rnd(g, 8)) {
    case 0:
        emit(g, "vcvt%s.f64.f32 d%d, s%d", c, d, m);
        break;
    case 1:
        emit(g, "vcvt%s.f32.f64 s%d, d%d", c, d, m);
        break;
    case 2:
        emit(g, "vcvt%s%s.%s.f32 s%d, s%d", rnd(g, 2) ? "r" : "", c, it, d, m);
        break;
    case 3:
        emit(g, "vcvt%s%s.%s.f64 s%d, d%d", rnd(g, 2) ? "r" : "", c, it, d, m);
        break;
    case 4:
        if (rnd(g, 2)) {
            emit(g, "vcvt%s.f32.%s s%d, s%d", c, it, d, m);
        } else {
            emit(g, "vcvt%s.f64.%s d%d, s%d", c, it, d, m);
        }
        break;
    case 5: {
        /* Fixed point, in place: to fixed rounds toward zero, from fixed is exact-ish. */
        static const char *const fx[] = {"s16", "u16", "s32", "u32"};
        int k = (int)rnd(g, 4);
        int fbits = range(g, k < 2 ? 0 : 1, k < 2 ? 16 : 32);
        bool dbl = rnd(g, 2);
        if (rnd(g, 2)) {
            emit(g, "vcvt%s.%s.%s %c%d, %c%d, #%d", c, fx[k], dbl ? "f64" : "f32",
                 dbl ? 'd' : 's', d, dbl ? 'd' : 's', d, fbits);
        } else {
            emit(g, "vcvt%s.%s.%s %c%d, %c%d, #%d", c, dbl ? "f64" : "f32", fx[k],
                 dbl ? 'd' : 's', d, dbl ? 'd' : 's', d, fbits);
        }
        break;
    }
    case 6:
        emit(g, "vcvt%s%s.f16.f32 s%d, s%d", rnd(g, 2) ? "b" : "t", c, d, m);
        break;
    default:
        emit(g, "vcvt%s%s.f32.f16 s%d, s%d", rnd(g, 2) ? "b" : "t", c, d, m);
        break;
    }
}

/* VMOV (immediate): +-n/16 * 2^r, n in 16..31, r in -3..4. */
static void t_vfp_movimm(struct gen *g, const char *c)
{
    double v = (16 + rnd(g, 16)) / 16.0;
    int r = range(g, -3, 4);
    v = r < 0 ? v / (double)(1 << -r) : v * (double)(1 << r);
    if (rnd(g, 2)) {
        v = -v;
    }
    bool dbl = rnd(g, 2);
    emit(g, "vmov%s.%s %c%d, #%.10g", c, dbl ? "f64" : "f32", dbl ? 'd' : 's', (int)rnd(g, 32),
         v);
}

static void t_vfp_core(struct gen *g, const char *c)
{
    int t = dreg(g, false), t2, s = (int)rnd(g, 32), d = (int)rnd(g, 32);
    do {
        t2 = dreg(g, false);
    } while (t2 == t);
    switch (rnd(g, 10)) {
    case 9:
        emit(g, "vmrs%s APSR_nzcv, fpscr", c);
        break;
    case 0:
        emit(g, "vmov%s s%d, r%d", c, s, sreg(g, false));
        break;
    case 1:
        emit(g, "vmov%s r%d, s%d", c, t, s);
        break;
    case 2:
        emit(g, "vmov%s d%d, r%d, r%d", c, d, sreg(g, false), sreg(g, false));
        break;
    case 3:
        emit(g, "vmov%s r%d, r%d, d%d", c, t, t2, d);
        break;
    case 4:
        s = (int)rnd(g, 31);
        emit(g, "vmov%s s%d, s%d, r%d, r%d", c, s, s + 1, sreg(g, false), sreg(g, false));
        break;
    case 5:
        s = (int)rnd(g, 31);
        emit(g, "vmov%s r%d, r%d, s%d, s%d", c, t, t2, s, s + 1);
        break;
    case 6:
        emit(g, "vmov%s.32 d%d[%d], r%d", c, d, (int)rnd(g, 2), sreg(g, false));
        break;
    case 7:
        emit(g, "vmov%s.32 r%d, d%d[%d]", c, t, d, (int)rnd(g, 2));
        break;
    default:
        emit(g, "vmrs%s r%d, fpscr", c, t);
        break;
    }
}

/* A valid FPSCR value: NZCV, AHP, DN, FZ, RMode and the cumulative flags; Len, Stride, the
 * trap enables and QC zero (see the rules at the top). */
static uint32_t fpscr_val(struct gen *g)
{
    uint32_t v = rnd32(g) & 0xf7c0009fu;
    /* Round to nearest half the time: the common case deserves its share. */
    if (rnd(g, 2)) {
        v &= ~0x00c00000u;
    }
    if (rnd(g, 4)) {
        v &= ~0x01000000u; /* FZ */
    }
    if (rnd(g, 4)) {
        v &= ~0x02000000u; /* DN */
    }
    if (rnd(g, 4)) {
        v &= ~0x04000000u; /* AHP */
    }
    return v;
}

static void t_vfp_msr(struct gen *g, const char *c)
{
    int t = dreg(g, false);
    uint32_t v = fpscr_val(g);
    emit(g, "movw%s r%d, #0x%" PRIx32, c, t, v & 0xffff);
    emit(g, "movt%s r%d, #0x%" PRIx32, c, t, v >> 16);
    emit(g, "vmsr%s fpscr, r%d", c, t);
}

static void t_vfp_mem(struct gen *g, const char *c)
{
    recenter(g);
    bool dbl = rnd(g, 2);
    bool load = rnd(g, 2);
    char r = dbl ? 'd' : 's';
    int off;
    if (chance(g, 60)) {
        int size = dbl ? 8 : 4;
        if (!pick_off(g, size, 4, -1020, 1020, &off)) {
            off = 0;
            if (!fits(g, 0, size, 4)) {
                emit(g, "nop%s", c);
                return;
            }
        }
        emit(g, "%s%s %c%d, [r%d, #%d]", load ? "vldr" : "vstr", c, r, (int)rnd(g, 32), g->base,
             off);
        return;
    }
    int n = range(g, 1, dbl ? 16 : 16);
    int first = (int)rnd(g, 32 - n + 1);
    int bytes = n * (dbl ? 8 : 4);
    bool db = rnd(g, 2);
    bool wb = db || rnd(g, 2);
    if (!fits(g, db ? -bytes : 0, bytes, 4)) {
        emit(g, "nop%s", c);
        return;
    }
    char list[16];
    if (n == 1) {
        snprintf(list, sizeof(list), "%c%d", r, first);
    } else {
        snprintf(list, sizeof(list), "%c%d-%c%d", r, first, r, first + n - 1);
    }
    emit(g, "%s%s%s r%d%s, {%s}", load ? "vldm" : "vstm", db ? "db" : "ia", c, g->base,
         wb ? "!" : "", list);
    if (wb) {
        moved(g, db ? -bytes : bytes);
    }
}

/* ---- sequences --------------------------------------------------------------------------- */

static const struct template templates[] = {
    /* template       A32/T32 VFP  IT/cond top */
    {t_dp,          14,  3, true , false},
    {t_dp2,          8,  1, true , false},
    {t_mov,          8,  2, true , false},
    {t_test,         6,  2, true , false},
    {t_mul,          8,  1, true , false},
    {t_sat,          5,  1, true , false},
    {t_parallel,     6,  1, true , false},
    {t_pack,         6,  1, true , false},
    {t_bits,         5,  1, true , false},
    {t_psr,          3,  1, true , false},
    {t_mem,         12,  3, true , false},
    {t_multi,        5,  1, true , false},
    {t_vfp_arith,    0, 20, true , false},
    {t_vfp_cmp,      0,  6, true , false},
    {t_vfp_cvt,      0, 10, true , false},
    {t_vfp_movimm,   0,  2, true , false},
    {t_vfp_core,     0,  6, true , false},
    {t_vfp_msr,      0,  2, false, false},
    {t_vfp_mem,      0,  5, true , false},
    {t_pcrel,        3,  2, true , false},
    {t_excl,         2,  1, false, true},
    {t_jump,         2,  1, false, true},
};
#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

static const struct template *pick(struct gen *g, bool in_it)
{
    unsigned total = 0;
    for (size_t i = 0; i < NTEMPLATES; i++) {
        if ((!in_it || templates[i].it_ok) && (!g->shadow || !templates[i].top)) {
            total += g->vfp ? templates[i].weight_vfp : templates[i].weight_int;
        }
    }
    unsigned x = rnd(g, total);
    for (size_t i = 0; i < NTEMPLATES; i++) {
        if ((in_it && !templates[i].it_ok) || (g->shadow && templates[i].top)) {
            continue;
        }
        unsigned w = g->vfp ? templates[i].weight_vfp : templates[i].weight_int;
        if (x < w) {
            return &templates[i];
        }
        x -= w;
    }
    return &templates[0];
}

/* One instruction (or IT block, or forward branch over a few) of the body. */
static int body_item(struct gen *g)
{
    unsigned what = rnd(g, 100);
    if (g->thumb && what < 12) {
        /* An IT block: 1-4 instructions, the first with the condition, the others with it or
         * its inverse. Memory instructions that need a masked index do not go here. */
        int cond = (int)rnd(g, 14);
        int k = range(g, 1, 4);
        char mask[4] = "";
        bool then[4] = {true};
        for (int i = 1; i < k; i++) {
            then[i] = rnd(g, 2);
            mask[i - 1] = then[i] ? 't' : 'e';
        }
        emit(g, "it%s %s", mask, cond_names[cond]);
        g->shadow = true;
        g->it_slot = true;
        for (int i = 0; i < k; i++) {
            const char *c = cond_names[then[i] ? cond : cond ^ 1];
            pick(g, true)->fn(g, c);
        }
        g->shadow = false;
        g->it_slot = false;
        return k;
    }
    if (what < 18) {
        /* A forward conditional branch over 1-3 instructions (T32: B<c> or CBZ/CBNZ). */
        int l = ++g->label;
        if (g->thumb && rnd(g, 3) == 0) {
            emit(g, "%s r%d, .Lskip%d", rnd(g, 2) ? "cbz" : "cbnz", sreg(g, true), l);
        } else {
            emit(g, "b%s .Lskip%d", cond_names[rnd(g, 14)], l);
        }
        int k = range(g, 1, 3);
        g->shadow = true;
        for (int i = 0; i < k; i++) {
            pick(g, false)->fn(g, "");
        }
        g->shadow = false;
        fprintf(g->out, ".Lskip%d:\n", l);
        return k + 1;
    }
    const struct template *t = pick(g, false);
    if (!g->thumb && t->it_ok && chance(g, 20)) {
        bool save = g->shadow;
        g->shadow = true;
        t->fn(g, cond_names[rnd(g, 14)]);
        g->shadow = save;
    } else {
        t->fn(g, "");
    }
    return 1;
}

static uint64_t seq_seed(uint64_t seed, enum isa isa, unsigned index)
{
    struct gen tmp = {.rng = seed * 0x2545f4914f6cdd1dull ^ ((uint64_t)isa << 56) ^ index};
    next64(&tmp);
    return next64(&tmp) ^ index;
}

static void sequence(struct gen *g, uint64_t seed, unsigned index)
{
    g->rng = seq_seed(seed, g->isa, index);
    g->index = index;
    /* VFP runs alternate between A32 and T32 state, sequence by sequence. */
    g->thumb = g->isa == ISA_T32 || (g->isa == ISA_VFP && (index & 1));
    g->base = g->thumb ? (int)rnd(g, 8) : (int)rnd(g, 13);
    g->dlo = g->dhi = 0;
    g->align = 8;
    g->shadow = false;
    g->big = false;

    /* The initial state: d0-d31 and FPSCR (VFP runs), r0-r12, APSR, the memory seed. */
    fprintf(g->out, "\n\t.section .rodata\n\t.balign 8\ndt_init_%u:\n", index);
    if (g->vfp) {
        for (int i = 0; i < 32; i++) {
            uint64_t v;
            if (rnd(g, 2)) {
                v = fval64(g);
            } else {
                v = (uint64_t)fval32(g) << 32 | fval32(g);
            }
            fprintf(g->out, "\t.word 0x%08" PRIx32 ", 0x%08" PRIx32 "\n", (uint32_t)v,
                    (uint32_t)(v >> 32));
        }
        fprintf(g->out, "\t.word 0x%08" PRIx32 ", 0\n", fpscr_val(g));
    }
    for (int i = 0; i < 13; i++) {
        if (i == g->base) {
            fprintf(g->out, "\t.word dt_scratch+%d\n", HALF);
        } else {
            fprintf(g->out, "\t.word 0x%08" PRIx32 "\n", ival(g));
        }
    }
    fprintf(g->out, "\t.word 0x%08" PRIx32 "\n", (rnd32(g) & 0xf8000000u) | (rnd(g, 16) << 16));
    fprintf(g->out, "\t.word 0x%08" PRIx32 "\n", rnd32(g) | 1);

    fprintf(g->out, "\n\t.text\n\t.balign 4\n");
    if (g->thumb) {
        fprintf(g->out, "\t.thumb\n\t.thumb_func\n");
    } else {
        fprintf(g->out, "\t.arm\n");
    }
    fprintf(g->out, "\t.type dt_seq_%u, %%function\ndt_seq_%u:\n", index, index);
    emit(g, "push {r4-r12, lr}");
    emit(g, "ldr r0, =dt_init_%u", index);
    if (g->vfp) {
        emit(g, "vldmia r0!, {d0-d15}");
        emit(g, "vldmia r0!, {d16-d31}");
        emit(g, "ldr r1, [r0], #8");
        emit(g, "vmsr fpscr, r1");
    }
    emit(g, "ldr r1, [r0, #52]");
    emit(g, "msr APSR_nzcvqg, r1");
    emit(g, "ldm r0, {r0-r12}");
    fprintf(g->out, "@ ---- sequence %u begin (%s, base r%d)\n", index,
            g->thumb ? "T32" : "A32", g->base);
    int n = range(g, 8, 24);
    /* Now and then part of the sequence runs big-endian (SETEND BE: loads and stores swap
     * their bytes); the harness's own code after it is little-endian again. */
    int be = chance(g, 8) ? range(g, 0, n - 1) : -1;
    for (int i = 0; i < n;) {
        if (be >= 0 && i >= be) {
            emit(g, "setend be");
            g->big = true;
            be = -2;
        }
        i += body_item(g);
    }
    if (be == -2) {
        emit(g, "setend le");
    }
    fprintf(g->out, "@ ---- sequence %u end\n", index);
    /* The final state: r0-r12 through the stack, APSR, FPSCR, d0-d31 (harness.c's dt_out). */
    emit(g, "push {r0-r12}");
    emit(g, "mrs r0, apsr");
    emit(g, "ldr r1, =dt_out");
    emit(g, "str r0, [r1, #52]");
    if (g->vfp) {
        emit(g, "vmrs r0, fpscr");
        emit(g, "str r0, [r1, #56]");
        emit(g, "add r2, r1, #64");
        emit(g, "vstmia r2!, {d0-d15}");
        emit(g, "vstmia r2!, {d16-d31}");
    }
    emit(g, "mov r0, r1");
    emit(g, "pop {r1-r12, lr}");
    emit(g, "stm r0, {r1-r12, lr}");
    emit(g, "pop {r4-r12, pc}");
    emit(g, ".ltorg");
    fprintf(g->out, "\t.balign 8\n.Lpool%u:\n", index);
    for (int i = 0; i < 4; i++) {
        fprintf(g->out, "\t.word 0x%08" PRIx32 "\n", ival(g));
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: difftest-gen -i a32|t32|vfp -s SEED [-n COUNT] [-f FIRST] [-F]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct gen g = {.out = stdout};
    uint64_t seed = 1;
    unsigned count = 500, first = 0;
    bool full = false, have_isa = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-F")) {
            full = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage();
        }
        const char *v = argv[++i];
        if (!strcmp(a, "-i")) {
            have_isa = true;
            if (!strcmp(v, "a32")) {
                g.isa = ISA_A32;
            } else if (!strcmp(v, "t32")) {
                g.isa = ISA_T32;
            } else if (!strcmp(v, "vfp")) {
                g.isa = ISA_VFP;
            } else {
                usage();
            }
        } else if (!strcmp(a, "-s")) {
            seed = strtoull(v, NULL, 0);
        } else if (!strcmp(a, "-n")) {
            count = (unsigned)strtoul(v, NULL, 0);
        } else if (!strcmp(a, "-f")) {
            first = (unsigned)strtoul(v, NULL, 0);
        } else {
            usage();
        }
    }
    if (!have_isa || count == 0) {
        usage();
    }
    g.vfp = g.isa == ISA_VFP;

    fprintf(g.out, "@ difftest-gen -i %s -s %" PRIu64 " -n %u -f %u%s\n",
            (const char *[]){"a32", "t32", "vfp"}[g.isa], seed, count, first, full ? " -F" : "");
    fprintf(g.out, "\t.syntax unified\n\t.arch armv7ve\n\t.fpu vfpv4\n");
    /* What harness.c needs: the sequence table, the first index, the flags. */
    fprintf(g.out, "\t.section .rodata\n\t.balign 4\n\t.global dt_info\ndt_info:\n");
    fprintf(g.out, "\t.word %u, %u, %u\n", count, first, (g.vfp ? 1u : 0u) | (full ? 2u : 0u));
    fprintf(g.out, "\t.global dt_seqs\ndt_seqs:\n");
    for (unsigned i = first; i < first + count; i++) {
        fprintf(g.out, "\t.word dt_seq_%u\n", i);
    }
    fprintf(g.out, "\t.global dt_init_table\ndt_init_table:\n");
    for (unsigned i = first; i < first + count; i++) {
        fprintf(g.out, "\t.word dt_init_%u\n", i);
    }
    /* Helpers in A32 state: FPU enable, and where a faulting sequence resumes (harness.c's
     * exception hook sends it here, in SVC mode on the sequence's stack: what
     * dt_seq_N pushed is still there). */
    fprintf(g.out, "\n\t.text\n\t.arm\n\t.balign 4\n");
    fprintf(g.out, "\t.global dt_fpu_enable\n\t.type dt_fpu_enable, %%function\n"
                   "dt_fpu_enable:\n");
    emit(&g, "mrc p15, 0, r0, c1, c0, 2");
    emit(&g, "orr r0, r0, #0x00f00000");
    emit(&g, "mcr p15, 0, r0, c1, c0, 2");
    emit(&g, "isb");
    emit(&g, "mov r0, #0x40000000");
    emit(&g, "vmsr fpexc, r0");
    emit(&g, "bx lr");
    fprintf(g.out, "\t.global dt_recover\n\t.type dt_recover, %%function\ndt_recover:\n");
    emit(&g, "pop {r4-r12, pc}");

    for (unsigned i = first; i < first + count; i++) {
        sequence(&g, seed, i);
    }
    return ferror(stdout) ? 1 : 0;
}
