/*
 * The x87 execution unit (arch/x86_64/ops_x87.c) against the host processor. Every x87
 * instruction form (each escape's memory forms by ModRM.reg, with the 16-bit operand size and
 * REX.W where the form has a format that depends on it, and every defined register form) runs
 * from the same random states twice: natively, in a code page at a fixed address between
 * FXRSTOR64 and FXSAVE64, and through x86_user_run with the page mapped at the same address.
 * The FXSAVE images, EFLAGS, RAX and the data pages must then be identical. Each form also runs
 * with an unmasked exception pending (#MF or not, as the host decides) and with its memory
 * operand running into an unmapped page (#PF); at a fault the host's state is the one its
 * signal context holds, RIP included. Then sequences of two to four random forms, where one
 * instruction's unmasked exception is the next waiting one's #MF.
 *
 * States: random control words (every rounding and precision control, every exception mask),
 * random TOP, condition codes and sticky flags, registers empty at random or all empty or all
 * full, register and memory operands of every class (zeros, normals, denormals, pseudo-
 * denormals, unnormals, infinities, QNaNs, SNaNs, pseudo-NaNs and pseudo-infinities, values
 * near integers, near 2^63 and 10^18, and at the exponent limits), random FLDENV/FRSTOR
 * images.
 *
 * What is not compared, and why:
 *  - MXCSR_MASK (FXSAVE bytes 28-31) and XMM: not x87 state.
 *  - FOP, FIP and FDP in the FXSAVE image when the host's image has FSW.ES clear: AMD
 *    processors store them only while an exception is pending (FXSAVE writes zeros otherwise).
 *    They are compared on every other host and case.
 *  - On hosts that store FCS/FDS as 0 or write FDP only on unmasked exceptions (CPUID.(7,0):
 *    EBX bits 13 and 6, Intel's), those fields of FNSTENV/FNSAVE images and FXSAVE's FDP.
 *  - FDS in FNSTENV/FNSAVE images where it is the harness's DS selector (0x2b; a Linux
 *    process has 0).
 *  - The transcendentals' last bit and C1 (the SDM promises less than one ulp), their results
 *    outside the domains the SDM gives (F2XM1, FYL2XP1), and a few DE/PE/UE differences of
 *    softfloat's transcendentals and FPREM from the host (softfloat_known_case): counted and
 *    printed.
 *
 * Before FXRSTOR64 the native side runs FNINIT and FILD m32 at fixed addresses, so that the
 * pointers AMD's FXRSTOR leaves alone (it loads them only with FSW.ES set) are known; the
 * image the emulator gets holds the same values. A context switch in between loses them (the
 * kernel's FPU restore), so a difference counts only when the host shows it three times.
 *
 * Last, a core of the test's own in real mode checks what 64-bit user mode cannot show: #NM
 * under CR0.EM/TS, FWAIT's #NM under MP and TS, #MF with and without CR0.NE, and the real-mode
 * environment images.
 *
 * Usage: test_x87 [states-per-form] (or COREMU_X87_CASES=n; COREMU_X87_ONLY="d9 f5" runs one
 * form, COREMU_X87_SEED=n another random stream, COREMU_X87_VERBOSE=1 prints the states of
 * mismatches). Exits 77 on a non-x86_64 host.
 */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/physmem.h>
#include <coremu/tb.h>

#include "../../../testsuite/unit/unit.h"
#include "cpu.h"
#include "user.h"

#if defined(__x86_64__)

#include <sys/mman.h>
#include <ucontext.h>

#define DEFAULT_CASES 100
#define MAX_REPORTS 6

/* Low addresses: ThreadSanitizer keeps application memory below 0x10000000000 (and near the
 * top of the address space); it refuses a fixed mapping in its shadow ranges. */
#define CODE_VA 0x3a000000ull
#define DATA_VA 0x3a100000ull
#define DATA_SIZE 8192u
#define INSN_OFF 0x800u    /* the instruction under test */
#define SEED_OFF 0x100u    /* FNINIT; FILD dword [rbx + SEED_DISP]; RET */
#define SEED_DISP 0x1ff0u

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

/* ---- values ------------------------------------------------------------------------------ */

struct f80 {
    uint64_t mant;
    uint16_t se;
};

static struct f80 random_f80(void)
{
    uint16_t sign = rnd_below(2) ? 0x8000 : 0;
    uint64_t m = rnd();
    switch (rnd_below(14)) {
    case 0:
        return (struct f80){0, sign};
    case 1: /* denormal */
        return (struct f80){m >> (1 + rnd_below(63)), sign};
    case 2: /* pseudo-denormal */
        return (struct f80){m | (1ull << 63), sign};
    case 3: /* unnormal */
        return (struct f80){m >> 1, (uint16_t)(sign | (1 + rnd_below(0x7ffe)))};
    case 4:
        return (struct f80){1ull << 63, (uint16_t)(sign | 0x7fff)};
    case 5: /* QNaN */
        return (struct f80){m | (3ull << 62), (uint16_t)(sign | 0x7fff)};
    case 6: /* SNaN */
        return (struct f80){((m >> 2) | 1) | (1ull << 63), (uint16_t)(sign | 0x7fff)};
    case 7: /* pseudo-NaN, pseudo-infinity */
        return (struct f80){rnd_below(2) ? m >> 1 : 0, (uint16_t)(sign | 0x7fff)};
    case 8: /* near the largest and smallest exponents */
        return (struct f80){m | (1ull << 63),
                            (uint16_t)(sign | (rnd_below(2) ? 0x7ffe - rnd_below(4)
                                                            : 1 + rnd_below(4)))};
    case 9: /* small integers and halves */
    case 10: {
        uint64_t n = rnd_below(64) + 1;
        int lz = __builtin_clzll(n);
        return (struct f80){n << lz, (uint16_t)(sign | (0x3fff + 63 - lz - rnd_below(2)))};
    }
    case 11: /* large integers, around 2^63 and 10^18 */
        return (struct f80){m | (1ull << 63), (uint16_t)(sign | (0x3fff + 55 + rnd_below(10)))};
    default: /* moderate normals */
        return (struct f80){m | (1ull << 63), (uint16_t)(sign | (0x3fff - 40 + rnd_below(80)))};
    }
}

static uint64_t random_ieee(int frac_bits, int exp_bits)
{
    uint64_t sign = rnd_below(2) ? 1ull << (frac_bits + exp_bits) : 0;
    uint64_t fmask = (1ull << frac_bits) - 1, emax = (1ull << exp_bits) - 1;
    uint64_t f = rnd() & fmask, e;
    switch (rnd_below(8)) {
    case 0:
        return sign;
    case 1:
        return sign | (f >> rnd_below((uint64_t)frac_bits)); /* denormal */
    case 2:
        return sign | (emax << frac_bits);
    case 3:
        return sign | (emax << frac_bits) | f | (1ull << (frac_bits - 1)); /* QNaN */
    case 4:
        return sign | (emax << frac_bits) | ((f >> 1) | 1); /* SNaN */
    case 5:
        e = rnd_below(2) ? emax - 1 : 1;
        break;
    default:
        e = (emax >> 1) - 20 + rnd_below(40);
        break;
    }
    return sign | (e << frac_bits) | f;
}

static uint64_t random_int(unsigned bytes)
{
    uint64_t bits = bytes * 8, v;
    switch (rnd_below(4)) {
    case 0:
        v = rnd_below(2) ? 1ull << (bits - 1) : (1ull << (bits - 1)) - 1;
        break;
    case 1:
        v = rnd_below(200) - 100;
        break;
    default:
        v = rnd() >> rnd_below(bits);
        break;
    }
    return bytes == 8 ? v : v & ((1ull << bits) - 1);
}

/* ---- the forms --------------------------------------------------------------------------- */

enum mem_kind { MK_NONE, MK_F32, MK_F64, MK_F80, MK_I16, MK_I32, MK_I64, MK_BCD, MK_CW,
                MK_ENV, MK_SAVE, MK_STORE };

struct form {
    uint8_t bytes[8];
    unsigned len;
    bool mem;
    enum mem_kind kind;
    unsigned size; /* memory operand bytes */
    char name[40];
};

#define MAX_FORMS 700
static struct form forms[MAX_FORMS];
static unsigned nforms;

/* What memory forms read (their operand is filled in with a value of the kind). */
static const enum mem_kind mem_kinds[8][8] = {
    {MK_F32, MK_F32, MK_F32, MK_F32, MK_F32, MK_F32, MK_F32, MK_F32},
    {MK_F32, MK_NONE, MK_STORE, MK_STORE, MK_ENV, MK_CW, MK_STORE, MK_STORE},
    {MK_I32, MK_I32, MK_I32, MK_I32, MK_I32, MK_I32, MK_I32, MK_I32},
    {MK_I32, MK_STORE, MK_STORE, MK_STORE, MK_NONE, MK_F80, MK_NONE, MK_STORE},
    {MK_F64, MK_F64, MK_F64, MK_F64, MK_F64, MK_F64, MK_F64, MK_F64},
    {MK_F64, MK_STORE, MK_STORE, MK_STORE, MK_SAVE, MK_NONE, MK_STORE, MK_STORE},
    {MK_I16, MK_I16, MK_I16, MK_I16, MK_I16, MK_I16, MK_I16, MK_I16},
    {MK_I16, MK_STORE, MK_STORE, MK_STORE, MK_BCD, MK_I64, MK_STORE, MK_STORE},
};

/* Memory operand sizes (the 28- and 108-byte formats of FLDENV/FNSTENV/FRSTOR/FNSAVE). */
static const uint8_t mem_sizes[8][8] = {
    {4, 4, 4, 4, 4, 4, 4, 4},       {4, 0, 4, 4, 28, 2, 28, 2},
    {4, 4, 4, 4, 4, 4, 4, 4},       {4, 4, 4, 4, 0, 10, 0, 10},
    {8, 8, 8, 8, 8, 8, 8, 8},       {8, 8, 8, 8, 108, 0, 108, 2},
    {2, 2, 2, 2, 2, 2, 2, 2},       {2, 2, 2, 2, 10, 8, 10, 8},
};

/* The register forms the SDM defines (as decode.c's table). */
static bool reg_form_defined(unsigned esc, unsigned modrm)
{
    static const uint8_t rms[8][8] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0xff, 0xff, 0x01, 0x00, 0x33, 0x7f, 0xff, 0xff},
        {0xff, 0xff, 0xff, 0xff, 0x00, 0x02, 0x00, 0x00},
        {0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
        {0xff, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff},
        {0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
        {0xff, 0xff, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff},
        {0xff, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x00},
    };
    return (rms[esc][(modrm >> 3) & 7] >> (modrm & 7)) & 1;
}

static void add_form(const uint8_t *b, unsigned len, bool mem, enum mem_kind kind)
{
    struct form *f = &forms[nforms++];
    memcpy(f->bytes, b, len);
    f->len = len;
    f->mem = mem;
    f->kind = kind;
    char *p = f->name;
    for (unsigned i = 0; i < len; i++) {
        p += sprintf(p, "%s%02x", i ? " " : "", b[i]);
    }
}

static void build_forms(void)
{
    for (unsigned esc = 0; esc < 8; esc++) {
        for (unsigned reg = 0; reg < 8; reg++) {
            enum mem_kind k = mem_kinds[esc][reg];
            if (k == MK_NONE) {
                continue;
            }
            /* [rbx + disp32]; the displacement is patched per case */
            uint8_t b[8] = {(uint8_t)(0xd8 + esc), (uint8_t)(0x80 | (reg << 3) | 3), 0, 0, 0, 0};
            add_form(b, 6, true, k);
            forms[nforms - 1].size = mem_sizes[esc][reg];
            if (k == MK_ENV || k == MK_SAVE || (esc == 1 && reg == 6) || (esc == 5 && reg == 6)) {
                /* the 16-bit formats, and REX.W (still the 32-bit ones) */
                uint8_t p[8] = {0x66, b[0], b[1], 0, 0, 0, 0};
                add_form(p, 7, true, k);
                forms[nforms - 1].size = mem_sizes[esc][reg] - 14u;
                uint8_t w[8] = {0x48, b[0], b[1], 0, 0, 0, 0};
                add_form(w, 7, true, k);
                forms[nforms - 1].size = mem_sizes[esc][reg];
            }
        }
        for (unsigned modrm = 0xc0; modrm <= 0xff; modrm++) {
            if (reg_form_defined(esc, modrm)) {
                uint8_t b[2] = {(uint8_t)(0xd8 + esc), (uint8_t)modrm};
                add_form(b, 2, false, MK_NONE);
            }
        }
    }
    uint8_t fwait[1] = {0x9b};
    add_form(fwait, 1, false, MK_NONE);
}

/* ---- one case ---------------------------------------------------------------------------- */

struct run_state {
    _Alignas(16) uint8_t fx[512];
    uint64_t rax, rflags, rip;
};

/* The instructions of a case: one form, or a short sequence of them, each memory operand at
 * its own displacement from RBX (the data page). */
#define MAX_SEQ 4
struct program {
    const struct form *f[MAX_SEQ];
    uint32_t disp[MAX_SEQ];
    unsigned n, len;
};

static uint8_t *code_page;
static uint8_t *data_page;

/* The native stub: FXRSTOR64 [rdi]; the instructions; FXSAVE64 [rsi]; RAX and RFLAGS after
 * them to [rsi + 512] and [rsi + 520]. Entered with rdx = the data page, rcx = RAX, r8 =
 * RFLAGS. */
static void write_stub(struct program *prog)
{
    static const uint8_t pro[] = {
        0x53,                   /* push rbx */
        0x48, 0x89, 0xd3,       /* mov rbx, rdx */
        0x48, 0x89, 0xc8,       /* mov rax, rcx */
        0x41, 0x50, 0x9d,       /* push r8; popfq */
        0x48, 0x0f, 0xae, 0x0f, /* fxrstor64 [rdi] */
    };
    static const uint8_t epi[] = {
        0x48, 0x0f, 0xae, 0x06,                   /* fxsave64 [rsi] */
        0x48, 0x89, 0x86, 0x00, 0x02, 0x00, 0x00, /* mov [rsi + 512], rax */
        0x9c,                                     /* pushfq */
        0x8f, 0x86, 0x08, 0x02, 0x00, 0x00,       /* pop qword [rsi + 520] */
        0x5b, 0xdb, 0xe3, 0xc3,                   /* pop rbx; fninit; ret */
    };
    uint8_t *p = code_page + INSN_OFF;
    memcpy(p - sizeof(pro), pro, sizeof(pro));
    prog->len = 0;
    for (unsigned i = 0; i < prog->n; i++) {
        const struct form *f = prog->f[i];
        memcpy(p + prog->len, f->bytes, f->len);
        if (f->mem) {
            memcpy(p + prog->len + f->len - 4, &prog->disp[i], 4);
        }
        prog->len += f->len;
    }
    memcpy(p + prog->len, epi, sizeof(epi));
}

typedef void (*stub_fn)(void *in, void *out, uint64_t data, uint64_t rax, uint64_t rflags);
typedef void (*seed_fn)(uint64_t data);

/* Faults of the instruction under test: #MF arrives as SIGFPE, #PF (an operand in the page
 * after the data) as SIGSEGV; the handler keeps the state the kernel saved at the fault (the
 * FXSAVE layout of uc_mcontext.fpregs, RAX, RFLAGS) and leaves through siglongjmp. */
static sigjmp_buf fault_jmp;
static struct run_state *fault_state;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    if (sig == SIGSEGV && ((uint64_t)(uintptr_t)si->si_addr < DATA_VA + DATA_SIZE ||
                           (uint64_t)(uintptr_t)si->si_addr >= DATA_VA + DATA_SIZE + 4096)) {
        signal(SIGSEGV, SIG_DFL); /* not ours: crash as usual on return */
        return;
    }
    memcpy(fault_state->fx, uc->uc_mcontext.fpregs, 512);
    fault_state->rax = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
    fault_state->rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    fault_state->rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    siglongjmp(fault_jmp, sig);
}

/* Runs natively: 0 when the instruction completed, else the vector it raised (16, 14). */
static unsigned run_native(const struct run_state *in, struct run_state *out)
{
    seed_fn seed = (seed_fn)(uintptr_t)(CODE_VA + SEED_OFF - 4);
    stub_fn stub = (stub_fn)(uintptr_t)(CODE_VA + INSN_OFF - 14);
    fault_state = out;
    int sig = sigsetjmp(fault_jmp, 1);
    if (sig) {
        __asm__ volatile("fninit");
        return sig == SIGFPE ? 16 : 14;
    }
    seed(DATA_VA);
    stub((void *)in->fx, out->fx, DATA_VA, in->rax, in->rflags);
    return 0;
}

static struct x86_user_result run_emulated(const struct program *prog,
                                           const struct run_state *in, struct run_state *out,
                                           uint8_t *data)
{
    struct x86_user_mapping maps[2] = {
        {CODE_VA, 4096, code_page, false, true},
        {DATA_VA, DATA_SIZE, data, true, false},
    };
    static struct x86_user_state st;
    struct x86_user_result res;
    memset(&st, 0, sizeof(st));
    st.gpr[0] = in->rax;
    st.gpr[3] = DATA_VA;
    st.gpr[4] = DATA_VA + DATA_SIZE - 64;
    st.rip = CODE_VA + INSN_OFF;
    st.rflags = in->rflags;
    memcpy(st.fxsave, in->fx, 512);
    x86_user_run(maps, 2, CODE_VA + INSN_OFF + prog->len, 10, &st, &res);
    memcpy(out->fx, st.fxsave, 512);
    out->rax = st.gpr[0];
    out->rflags = st.rflags;
    out->rip = st.rip;
    return res;
}

/* The pointers the seed leaves: FILD m32 (DB /0) at SEED_OFF + 2 with [rbx + SEED_DISP]. */
static void put_seed_pointers(uint8_t *fx)
{
    uint16_t fop = 0x300 | 0x83;
    uint64_t fip = CODE_VA + SEED_OFF + 2, fdp = DATA_VA + SEED_DISP;
    memcpy(fx + 6, &fop, 2);
    memcpy(fx + 8, &fip, 8);
    memcpy(fx + 16, &fdp, 8);
}

static void random_state(struct run_state *s, bool pending)
{
    memset(s->fx, 0, 512);
    uint16_t fcw = (uint16_t)(0x0040 | (rnd() & 0x0f00) | (rnd() & 0x3f));
    if (rnd_below(4) == 0) {
        fcw |= 0x3f; /* all masked, often */
    }
    uint16_t masked = fcw & 0x3f;
    uint16_t fsw = (uint16_t)((rnd() & 0x4700) | ((rnd() & 7) << 11) | (rnd() & masked));
    if ((fsw & 1) && rnd_below(2)) {
        fsw |= 0x40;
    }
    if (pending) {
        fcw &= (uint16_t)~1u;
        fsw |= 0x0081 | 0x8000;
    }
    memcpy(s->fx + 0, &fcw, 2);
    memcpy(s->fx + 2, &fsw, 2);
    uint8_t tags;
    switch (rnd_below(6)) {
    case 0:
        tags = 0;
        break;
    case 1:
        tags = 0xff;
        break;
    default:
        tags = (uint8_t)(rnd() | rnd()); /* mostly full */
        break;
    }
    s->fx[4] = tags;
    put_seed_pointers(s->fx);
    uint32_t mxcsr = 0x1f80;
    memcpy(s->fx + 24, &mxcsr, 4);
    for (unsigned i = 0; i < 8; i++) {
        struct f80 v = random_f80();
        memcpy(s->fx + 32 + 16 * i, &v.mant, 8);
        memcpy(s->fx + 40 + 16 * i, &v.se, 2);
    }
    s->rax = rnd();
    s->rflags = 0x202 | (rnd() & 0x8d5);
}

static void random_operand(uint8_t *data, uint32_t off, enum mem_kind k)
{
    uint64_t v;
    switch (k) {
    case MK_F32:
        v = random_ieee(23, 8);
        memcpy(data + off, &v, 4);
        break;
    case MK_F64:
        v = random_ieee(52, 11);
        memcpy(data + off, &v, 8);
        break;
    case MK_F80: {
        struct f80 x = random_f80();
        memcpy(data + off, &x.mant, 8);
        memcpy(data + off + 8, &x.se, 2);
        break;
    }
    case MK_I16:
        v = random_int(2);
        memcpy(data + off, &v, 2);
        break;
    case MK_I32:
        v = random_int(4);
        memcpy(data + off, &v, 4);
        break;
    case MK_I64:
        v = random_int(8);
        memcpy(data + off, &v, 8);
        break;
    case MK_BCD:
        for (unsigned i = 0; i < 9; i++) {
            data[off + i] = (uint8_t)(rnd_below(10) << 4 | rnd_below(10));
        }
        data[off + 9] = rnd_below(2) ? 0x80 : 0;
        break;
    case MK_CW:
        /* exception masks in any combination, reserved bits too */
        v = rnd();
        memcpy(data + off, &v, 2);
        break;
    case MK_ENV:
    case MK_SAVE: {
        /* a random image: control, status and tag words, pointers and registers */
        uint16_t cw = (uint16_t)rnd(), sw = (uint16_t)rnd();
        sw |= (uint16_t)((rnd() & 7) << 11);
        uint16_t tw = (uint16_t)rnd();
        /* FCW at 0 in either format; FSW at 2 and FTW at 4 in the 14-byte one, FSW at 4 and
         * FTW at 8 in the 28-byte one (so the 14-byte one reads FSW as its tags) */
        memset(data + off, 0xff, 28);
        memcpy(data + off, &cw, 2);
        memcpy(data + off + 2, &sw, 2);
        memcpy(data + off + 4, &sw, 2);
        memcpy(data + off + 8, &tw, 2);
        for (unsigned i = 0; i < 12; i++) {
            data[off + 12 + i] = (uint8_t)rnd();
        }
        (void)tw;
        for (unsigned i = 0; i < 8; i++) {
            struct f80 x = random_f80();
            memcpy(data + off + 28 + 10 * i, &x.mant, 8);
            memcpy(data + off + 36 + 10 * i, &x.se, 2);
        }
        break;
    }
    default:
        break;
    }
}

/* A mismatch's report: the first differing bytes of the FXSAVE images. */
static void describe(char *buf, size_t n, const struct run_state *a, const struct run_state *b,
                     const uint8_t *mask)
{
    size_t len = (size_t)snprintf(buf, n, "fsw %04x/%04x fcw %04x/%04x:",
                                  a->fx[2] | a->fx[3] << 8, b->fx[2] | b->fx[3] << 8,
                                  a->fx[0] | a->fx[1] << 8, b->fx[0] | b->fx[1] << 8);
    for (unsigned i = 0; i < 160 && len < n - 20; i++) {
        if (mask[i] && a->fx[i] != b->fx[i]) {
            len += (size_t)snprintf(buf + len, n - len, " [%u]%02x/%02x", i, a->fx[i], b->fx[i]);
        }
    }
}

static bool amd_host;

struct stats {
    unsigned cases, failures, faults, approx, undefined, known;
};

static void hexdump_state(const char *what, const struct run_state *s)
{
    printf("  %s: fcw %04x fsw %04x tags %02x rax %016" PRIx64 " rflags %03" PRIx64 "\n", what,
           s->fx[0] | s->fx[1] << 8, s->fx[2] | s->fx[3] << 8, s->fx[4], s->rax,
           s->rflags & 0xfff);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t m;
        uint16_t e;
        memcpy(&m, s->fx + 32 + 16 * i, 8);
        memcpy(&e, s->fx + 40 + 16 * i, 2);
        printf("    st%u %04x %016" PRIx64 "\n", i, e, m);
    }
}

/* The transcendentals: the SDM promises less than one ulp of error, not the host's bits, and
 * C1 ("rounded up") then follows the rounding each implementation did. */
static bool transcendental(const struct form *f)
{
    static const uint8_t ops[] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf9, 0xfb, 0xfe, 0xff};
    if (f->len != 2 || f->bytes[0] != 0xd9) {
        return false;
    }
    return memchr(ops, f->bytes[1], sizeof(ops)) != NULL;
}

/* Operands outside the domain the SDM gives, where the result is undefined: F2XM1 with
 * |ST(0)| > 1, FYL2XP1 with |ST(0)| >= 1 - sqrt(2)/2. */
static bool undefined_case(const struct form *f, const struct run_state *in)
{
    unsigned top = (in->fx[3] >> 3) & 7; /* the abridged tags are by physical register */
    uint64_t m;
    uint16_t e;
    memcpy(&m, in->fx + 32, 8); /* ST(0): the image's registers are in stack order */
    memcpy(&e, in->fx + 40, 2);
    unsigned exp = e & 0x7fff;
    bool finite_nonzero = exp != 0x7fff && (m >> 63) && exp != 0;
    if (f->len != 2 || f->bytes[0] != 0xd9 || !((in->fx[4] >> top) & 1) || !finite_nonzero) {
        return false;
    }
    if (f->bytes[1] == 0xf0) {
        return exp > 0x3fff || (exp == 0x3fff && m != 1ull << 63);
    }
    if (f->bytes[1] == 0xf9) {
        return exp > 0x3ffd || (exp == 0x3ffd && m >= 0x95f619980c4336f7ull);
    }
    return false;
}

/* Where softfloat's transcendentals (softfloat_x87.c, not this test's subject) report DE or
 * PE differently from the host, so that the x87 unit's own behaviour stays checked around
 * them: F2XM1 of +-1 (the host raises PE on the exact result 1 or -0.5), and FYL2X/FYL2XP1
 * with ST(1) a denormal while ST(0) is a zero, an infinity, a NaN or unsupported (the host
 * raises no DE then, softfloat does), and FPREM/FPREM1 of a denormal by an infinity with
 * UE unmasked (the host raises UE and biases the result). Counted and printed, not hidden. */
static bool softfloat_known_case(const struct form *f, const struct run_state *in)
{
    unsigned top = (in->fx[3] >> 3) & 7;
    uint64_t m0, m1;
    uint16_t e0, e1;
    memcpy(&m0, in->fx + 32, 8);
    memcpy(&e0, in->fx + 40, 2);
    memcpy(&m1, in->fx + 48, 8);
    memcpy(&e1, in->fx + 56, 2);
    bool full0 = (in->fx[4] >> top) & 1, full1 = (in->fx[4] >> ((top + 1) & 7)) & 1;
    if (f->len != 2 || f->bytes[0] != 0xd9 || !full0) {
        return false;
    }
    if (f->bytes[1] == 0xf0) {
        return (e0 & 0x7fff) == 0x3fff && m0 == 1ull << 63;
    }
    if ((f->bytes[1] == 0xf5 || f->bytes[1] == 0xf8) && full1) {
        /* FPREM/FPREM1 of a denormal by an infinity with UE unmasked: the host raises UE on
         * the (unchanged, tiny) result and biases it; softfloat returns it as it is */
        bool ue_unmasked = !(in->fx[0] & 0x10);
        return ue_unmasked && (e0 & 0x7fff) == 0 && m0 != 0 && (e1 & 0x7fff) == 0x7fff &&
               m1 == 1ull << 63;
    }
    if ((f->bytes[1] == 0xf1 || f->bytes[1] == 0xf9) && full1) {
        bool special0 = (e0 & 0x7fff) == 0x7fff || m0 == 0 ||
                        ((e0 & 0x7fff) != 0 && !(m0 >> 63));
        return special0 && (e1 & 0x7fff) == 0 && m1 != 0;
    }
    return false;
}

/* Two registers within one unit in the last place of each other. */
static bool within_ulp(const uint8_t *a, const uint8_t *b)
{
    uint64_t ma, mb;
    uint16_t ea, eb;
    memcpy(&ma, a, 8);
    memcpy(&mb, b, 8);
    memcpy(&ea, a + 8, 2);
    memcpy(&eb, b + 8, 2);
    if (ea == eb) {
        return ma - mb + 1 <= 2;
    }
    /* across a binade: 1.000... and 0.111...1 one exponent down */
    if ((ea ^ eb) & 0x8000) {
        return false;
    }
    if (ea < eb) {
        uint64_t t = ma;
        ma = mb;
        mb = t;
        uint16_t u = ea;
        ea = eb;
        eb = u;
    }
    return ea == eb + 1 && ma == 1ull << 63 && mb == ~0ull;
}

/* Host features that change what FNSTENV/FNSAVE/FXSAVE hold (CPUID.(7,0):EBX): bit 6, FDP
 * written only by instructions that raise an unmasked exception; bit 13, FCS and FDS always
 * stored as 0. Both Intel's; the emulator models neither. */
static bool host_fdp_on_exception_only, host_no_fcs_fds;

/* Takes the host's bytes for a field of the emulator's image: after a check that the field is
 * one that may differ. */
static void take_host_field(uint8_t *data_emu, unsigned at, unsigned size)
{
    if (at + size <= DATA_SIZE) {
        memcpy(data_emu + at, data_page + at, size);
    }
}

/* FNSTENV and FNSAVE store FDS, the selector of the last memory operand's segment: DS, which
 * is 0 in a Linux process and 0x2b in x86_user_run's guest, so where the emulator stored 0x2b
 * and the host 0, the emulator's bytes are taken as the host's. So are FCS and FDS, and FDP,
 * on hosts with the features above. */
static void harness_env_fields(const struct program *prog, uint8_t *data_emu)
{
    for (unsigned i = 0; i < prog->n; i++) {
        const struct form *f = prog->f[i];
        unsigned op = f->len == 7 ? 1 : 0; /* after a 66 or REX prefix */
        bool env = f->mem && (f->bytes[op] == 0xd9 || f->bytes[op] == 0xdd) &&
                   ((f->bytes[op + 1] >> 3) & 7) == 6;
        if (!env) {
            continue;
        }
        bool narrow = f->bytes[0] == 0x66;
        unsigned base = prog->disp[i];
        unsigned fcs = base + (narrow ? 8 : 16), fdp = base + (narrow ? 10 : 20),
                 fds = base + (narrow ? 12 : 24);
        if (fds + 2 <= DATA_SIZE && data_emu[fds] == 0x2b && data_emu[fds + 1] == 0 &&
            data_page[fds] == 0 && data_page[fds + 1] == 0) {
            data_emu[fds] = 0;
        }
        if (host_no_fcs_fds) {
            take_host_field(data_emu, fcs, 2);
            take_host_field(data_emu, fds, 2);
        }
        if (host_fdp_on_exception_only) {
            take_host_field(data_emu, fdp, narrow ? 2 : 4);
        }
    }
}

/* Compares one run's outcomes; why gets the first difference (empty: none). */
static void compare(const struct program *prog, unsigned vector,
                    const struct x86_user_result *res, struct run_state *native,
                    struct run_state *emu, uint8_t *data_emu, struct stats *stats, char *why,
                    size_t n)
{
    const struct form *f = prog->f[0];
    bool single = prog->n == 1;

    why[0] = 0;
    if (vector && (res->stop != X86_USER_FAULT || res->vector != vector)) {
        snprintf(why, n, "host raised vector %u, emulator stop %d vector %u: %s",
                 vector, res->stop, res->vector, res->message);
    } else if (vector && native->rip != emu->rip) {
        snprintf(why, n, "vector %u at %+" PRId64 " / %+" PRId64, vector,
                 (int64_t)(native->rip - (CODE_VA + INSN_OFF)),
                 (int64_t)(emu->rip - (CODE_VA + INSN_OFF)));
    } else if (!vector && res->stop != X86_USER_STOPPED) {
        snprintf(why, n, "emulator stop %d vector %u (the host completed): %s",
                 res->stop, res->vector, res->message);
    } else {
        uint8_t mask[160];
        memset(mask, 1, sizeof(mask));
        memset(mask + 24, 0, 8); /* MXCSR, MXCSR_MASK */
        bool es = native->fx[2] & 0x80;
        if (amd_host && !es) {
            memset(mask + 6, 0, 18); /* FOP, FIP, FDP */
        }
        if (host_fdp_on_exception_only) {
            memset(mask + 16, 0, 8); /* FDP */
        }
        bool approx = false;
        if (single && transcendental(f)) {
            native->fx[3] &= (uint8_t)~0x02; /* C1 */
            emu->fx[3] &= (uint8_t)~0x02;
            for (unsigned r = 0; r < 8; r++) {
                uint8_t *a = native->fx + 32 + 16 * r, *b = emu->fx + 32 + 16 * r;
                if (memcmp(a, b, 10) != 0 && within_ulp(a, b)) {
                    memcpy(b, a, 10);
                    approx = true;
                }
            }
        }
        bool same = true;
        for (unsigned i = 0; i < 160; i++) {
            if (mask[i] && native->fx[i] != emu->fx[i]) {
                same = false;
            }
        }
        if (same && approx) {
            stats->approx++;
        }
        if (!same) {
            describe(why, n, native, emu, mask);
        } else if ((native->rflags & 0x8d5) != (emu->rflags & 0x8d5)) {
            snprintf(why, n, "rflags %03" PRIx64 " / %03" PRIx64,
                     native->rflags & 0x8d5, emu->rflags & 0x8d5);
        } else if (native->rax != emu->rax) {
            snprintf(why, n, "rax %016" PRIx64 " / %016" PRIx64, native->rax, emu->rax);
        }
        if (!why[0]) {
            harness_env_fields(prog, data_emu);
        }
        if (why[0]) {
        } else if (memcmp(data_page, data_emu, DATA_SIZE) != 0) {
            unsigned i = 0;
            while (data_page[i] == data_emu[i]) {
                i++;
            }
            unsigned at = 0; /* the operand closest below the difference */
            for (unsigned k = 0; k < prog->n; k++) {
                if (prog->disp[k] <= i && prog->disp[k] > prog->disp[at]) {
                    at = k;
                }
            }
            snprintf(why, n,
                     "memory differs at +%u (operand %u at +%u): %02x / %02x", i, at + 1,
                     prog->disp[at], data_page[i], data_emu[i]);
        }
    }
}

/* What a case puts in front of the instruction. */
enum case_kind {
    CASE_PLAIN,
    CASE_PENDING, /* an unmasked exception pending: #MF for waiting forms */
    CASE_CROSS,   /* the memory operand runs into the unmapped page after the data: #PF */
};

static void run_case(struct program *prog, struct stats *stats, enum case_kind kind)
{
    bool pending = kind == CASE_PENDING;
    /* the masks that follow one form's rules apply when it runs alone */
    const struct form *f = prog->f[0];
    bool single = prog->n == 1;
    static struct run_state in, native, emu;
    static uint8_t data0[DATA_SIZE] __attribute__((aligned(4096)));
    static uint8_t data_emu[DATA_SIZE] __attribute__((aligned(4096)));

    random_state(&in, pending);
    for (unsigned i = 0; i < DATA_SIZE; i += 8) {
        uint64_t r = rnd();
        memcpy(data0 + i, &r, 8);
    }
    for (unsigned i = 0; i < prog->n; i++) {
        /* the operand anywhere in the first page, sometimes across into the second; in a
         * sequence, each in a slot of its own */
        uint32_t disp = rnd_below(4) == 0 ? 4096 - (uint32_t)rnd_below(12) - 1
                                          : (uint32_t)rnd_below(4096 - 128);
        if (!single) {
            disp = 4096 * (i & 1) + 1024 * (i >> 1) + (uint32_t)rnd_below(512);
        }
        if (kind == CASE_CROSS) {
            /* starting in the last size - 1 bytes of the mapping, so that it crosses */
            disp = DATA_SIZE - 1 - (uint32_t)rnd_below(prog->f[i]->size - 1);
        } else if (prog->f[i]->mem) {
            random_operand(data0, disp, prog->f[i]->kind);
        }
        prog->disp[i] = disp;
    }
    uint32_t disp = prog->disp[0];
    uint32_t seed_int = (uint32_t)rnd();
    memcpy(data0 + SEED_DISP, &seed_int, 4);
    write_stub(prog);
    memcpy(data_page, data0, DATA_SIZE);
    memcpy(data_emu, data0, DATA_SIZE);

    memset(&native, 0, sizeof(native));
    unsigned vector = run_native(&in, &native);
    struct x86_user_result res = run_emulated(prog, &in, &emu, data_emu);
    stats->cases++;

    char why[600];
    why[0] = 0;
    if (vector) {
        stats->faults++;
    }
    /* results the SDM leaves undefined, and softfloat's known differences (in a sequence, for
     * its first instruction, whose operands are the known ones): counted, not compared */
    if (single && undefined_case(f, &in)) {
        stats->undefined++;
        return;
    }
    if (softfloat_known_case(f, &in)) {
        stats->known++;
        return;
    }
    /* a context switch between the seed and the instruction may replace the pointers that
     * AMD's FXRSTOR keeps (the kernel's FPU restore): a difference the host shows only once is
     * that noise, so the host runs again before a difference counts */
    static struct run_state emu_run;
    static uint8_t data_emu_run[DATA_SIZE] __attribute__((aligned(4096)));
    for (unsigned attempt = 0;; attempt++) {
        emu_run = emu;
        memcpy(data_emu_run, data_emu, DATA_SIZE);
        compare(prog, vector, &res, &native, &emu_run, data_emu_run, stats, why, sizeof(why));
        if (!why[0] || attempt == 2) {
            break;
        }
        memcpy(data_page, data0, DATA_SIZE);
        memset(&native, 0, sizeof(native));
        vector = run_native(&in, &native);
    }
    if (why[0]) {
        stats->failures++;
        if (stats->failures <= MAX_REPORTS) {
            for (unsigned i = 0; i < prog->n; i++) {
                printf("%s%s", i ? "; " : "  ", prog->f[i]->name);
            }
            printf(": %s\n", why);
            if (getenv("COREMU_X87_VERBOSE")) {
                hexdump_state("in", &in);
                hexdump_state("host", &native);
                hexdump_state("emu", &emu);
                if (f->mem) {
                    printf("  operand:");
                    for (unsigned i = 0; i < 16; i++) {
                        printf(" %02x", data0[disp + i]);
                    }
                    printf("\n");
                }
            }
        }
    }
}

/* Sequences of two to four random forms (no transcendentals, whose last bits may differ): an
 * unmasked exception raised by one is #MF at the next waiting one, FIP/FDP/FOP follow the last
 * non-control instruction, stack changes accumulate. */
static void run_sequences(unsigned count)
{
    struct stats stats = {0, 0, 0, 0, 0, 0};
    for (unsigned c = 0; c < count; c++) {
        struct program prog = {.n = 2 + (unsigned)rnd_below(MAX_SEQ - 1)};
        for (unsigned i = 0; i < prog.n; i++) {
            do {
                prog.f[i] = &forms[rnd_below(nforms)];
            } while (transcendental(prog.f[i]));
        }
        run_case(&prog, &stats, CASE_PLAIN);
    }
    UNIT_CHECK(stats.failures == 0, "x87 sequences", "%u of %u sequences differ from the host "
               "(%u raised #MF or #PF)", stats.failures, stats.cases, stats.faults);
    printf("  x87 sequences: %u run, %u of them raised #MF or #PF\n", stats.cases, stats.faults);
}

/* ---- the emulator alone: what x86_user_run's 64-bit user mode cannot show ------------------ */

/* A core in real mode (CS = 0x0100, DS = 0x0200) with 1 MiB of RAM, code at CS:0, CR0 as
 * given; runs until the code's end or a fault. Returns the vector, or -1 when it completed. */
struct direct {
    struct coremu_as *as;
    uint8_t *ram;
    struct coremu_tb_engine *engine;
    struct x86_cpu *cpu;
};

static bool direct_open(struct direct *d, uint64_t cr0)
{
    d->as = coremu_as_new();
    d->ram = d->as ? coremu_as_add_ram(d->as, "ram", 0, 1u << 20) : NULL;
    d->engine = coremu_tb_engine_new(&x86_tb_ops, 1);
    d->cpu = calloc(1, sizeof(*d->cpu));
    if (!d->ram || !d->engine || !d->cpu ||
        x86_cpu_init(d->cpu, d->engine, NULL, d->as, NULL, 0) != 0) {
        return false;
    }
    struct x86_cpu *cpu = d->cpu;
    cpu->cr0 = cr0;
    x86_paging_changed(cpu);
    x86_load_seg_real(cpu, X86_CS, 0x0100);
    x86_load_seg_real(cpu, X86_DS, 0x0200);
    cpu->rip = 0;
    cpu->fcw = 0x037f;
    cpu->fsw = 0;
    cpu->ftw = 0xffff;
    return true;
}

static int direct_run(struct direct *d, const uint8_t *code, size_t len)
{
    struct x86_cpu *cpu = d->cpu;
    memcpy(d->ram + 0x1000 + cpu->rip, code, len);
    x86_tlb_flush_all(cpu);
    cpu->user_mode_harness = true;
    cpu->user_faulted = false;
    cpu->stop_rip = cpu->rip + len;
    cpu->max_insns = 100;
    x86_run_loop(cpu);
    return cpu->user_faulted ? (int)cpu->exc_vector : -1;
}

static void direct_close(struct direct *d)
{
    if (d->cpu && d->cpu->tb.engine) {
        x86_cpu_destroy(d->cpu);
    }
    free(d->cpu);
    if (d->engine) {
        coremu_tb_engine_free(d->engine);
    }
    coremu_as_free(d->as);
}

/* One instruction under a CR0 and an optional pending unmasked exception: the vector it
 * raises (-1: none). */
static int direct_one(uint64_t cr0, bool pending, const uint8_t *code, size_t len)
{
    struct direct d = {0};
    int v = -2;
    if (direct_open(&d, cr0)) {
        if (pending) {
            d.cpu->fcw = 0x037e;
            d.cpu->fsw = 0x8081;
        }
        v = direct_run(&d, code, len);
    }
    direct_close(&d);
    return v;
}

static void direct_tests(void)
{
    static const uint8_t fld1[] = {0xd9, 0xe8}, fwait[] = {0x9b}, fnclex[] = {0xdb, 0xe2};
    const uint64_t base = X86_CR0_ET | X86_CR0_NE;
    int v;

    v = direct_one(base | X86_CR0_TS, false, fld1, 2);
    UNIT_CHECK(v == 7, "x87 CR0.TS: FLD1 raises #NM", "vector %d", v);
    v = direct_one(base | X86_CR0_EM, false, fld1, 2);
    UNIT_CHECK(v == 7, "x87 CR0.EM: FLD1 raises #NM", "vector %d", v);
    v = direct_one(base | X86_CR0_EM | X86_CR0_TS, true, fnclex, 2);
    UNIT_CHECK(v == 7, "x87 CR0.EM: #NM before a pending #MF", "vector %d", v);
    v = direct_one(base | X86_CR0_MP | X86_CR0_TS, false, fwait, 1);
    UNIT_CHECK(v == 7, "x87 CR0.MP+TS: FWAIT raises #NM", "vector %d", v);
    v = direct_one(base | X86_CR0_TS | X86_CR0_EM, false, fwait, 1);
    UNIT_CHECK(v == -1, "x87 CR0.TS without MP: FWAIT runs", "vector %d", v);
    v = direct_one(base, true, fwait, 1);
    UNIT_CHECK(v == 16, "x87 pending exception: FWAIT raises #MF", "vector %d", v);
    v = direct_one(base, true, fld1, 2);
    UNIT_CHECK(v == 16, "x87 pending exception: FLD1 raises #MF", "vector %d", v);
    v = direct_one(base, true, fnclex, 2);
    UNIT_CHECK(v == -1, "x87 pending exception: FNCLEX runs", "vector %d", v);
    v = direct_one(X86_CR0_ET, true, fld1, 2);
    UNIT_CHECK(v == -1, "x87 CR0.NE clear: no #MF (FERR# not modelled)", "vector %d", v);

    /* Real mode: FLD1; FLD m32 [0x1234]; FNSTENV [0x100] (14 bytes), 66 FNSTENV [0x120] (28
     * bytes); FLDENV [0x100] after FNINIT, FNSTENV [0x160]: the pointers are linear, FOP
     * beside FIP's high bits (SDM Vol. 1 figures 8-10 and 8-12). */
    static const uint8_t prog[] = {
        0xd9, 0xe8,                   /* 0x1000: fld1 */
        0xd9, 0x06, 0x34, 0x12,       /* 0x1002: fld dword [0x1234] */
        0xd9, 0x36, 0x00, 0x01,       /* fnstenv [0x100] */
        0x66, 0xd9, 0x36, 0x20, 0x01, /* fnstenv [0x120] (32-bit format) */
        0xdb, 0xe3,                   /* fninit */
        0xd9, 0x26, 0x00, 0x01,       /* fldenv [0x100] */
        0xd9, 0x36, 0x60, 0x01,       /* fnstenv [0x160] */
    };
    struct direct d = {0};
    if (!direct_open(&d, base)) {
        unit_fail("x87 real-mode environment", "no core");
        direct_close(&d);
        return;
    }
    const uint32_t two = 0x40000000;
    memcpy(d.ram + 0x2000 + 0x1234, &two, 4);
    v = direct_run(&d, prog, sizeof(prog));
    const uint8_t *e16 = d.ram + 0x2100, *e32 = d.ram + 0x2120, *again = d.ram + 0x2160;
    uint16_t w[7];
    uint32_t dw[7];
    memcpy(w, e16, sizeof(w));
    memcpy(dw, e32, sizeof(dw));
    /* TOP 6 after two pushes; R7 = 1.0 and R6 = 2.0 valid, the rest empty; FIP 0x1002
     * (linear), FOP 0x106 (D9 06), FDP 0x3234 (0x2000 + 0x1234) */
    UNIT_CHECK(v == -1 && w[0] == 0x037f && w[1] == 0x3000 && w[2] == 0x0fff && w[3] == 0x1002 &&
                   w[4] == 0x0106 && w[5] == 0x3234 && w[6] == 0,
               "x87 real mode: FNSTENV 16-bit format",
               "vector %d: %04x %04x %04x %04x %04x %04x %04x", v, w[0], w[1], w[2], w[3], w[4],
               w[5], w[6]);
    UNIT_CHECK((uint16_t)dw[0] == 0x037f && (uint16_t)dw[1] == 0x3000 &&
                   (uint16_t)dw[2] == 0x0fff && (uint16_t)dw[3] == 0x1002 && dw[4] == 0x0106 &&
                   (uint16_t)dw[5] == 0x3234 && dw[6] == 0,
               "x87 real mode: FNSTENV 32-bit format",
               "%08x %08x %08x %08x %08x %08x %08x", dw[0], dw[1], dw[2], dw[3], dw[4], dw[5],
               dw[6]);
    UNIT_CHECK(memcmp(again, e16, 14) == 0, "x87 real mode: FLDENV then FNSTENV round trip",
               "the second image differs");
    direct_close(&d);
}

static void setup_pages(void)
{
    code_page = mmap((void *)(uintptr_t)CODE_VA, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    data_page = mmap((void *)(uintptr_t)DATA_VA, DATA_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    UNIT_REQUIRE(code_page == (void *)(uintptr_t)CODE_VA &&
                     data_page == (void *)(uintptr_t)DATA_VA,
                 "x87: setup", "cannot map the test pages at their fixed addresses");
    memset(code_page, 0xcc, 4096);
    /* the seed: fninit; fild dword [rbx + SEED_DISP]; ret (rdi = the data page) */
    static const uint8_t seed[] = {0x53, 0x48, 0x89, 0xfb, 0xdb, 0xe3, 0xdb, 0x83,
                                   SEED_DISP & 0xff, SEED_DISP >> 8, 0, 0, 0x5b, 0xc3};
    /* FNINIT at SEED_OFF, FILD at SEED_OFF + 2 */
    memcpy(code_page + SEED_OFF - 4, seed, sizeof(seed));
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    uint32_t r[4];
    __asm__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(0), "c"(0));
    amd_host = r[1] == 0x68747541; /* "Auth" */
    if (r[0] >= 7) {
        __asm__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(7), "c"(0));
        host_fdp_on_exception_only = (r[1] >> 6) & 1;
        host_no_fcs_fds = (r[1] >> 13) & 1;
    }
}

int main(int argc, char **argv)
{
    unsigned cases = DEFAULT_CASES;
    const char *env = getenv("COREMU_X87_CASES");
    if (argc > 1) {
        env = argv[1];
    }
    if (env) {
        char *end;
        unsigned long n = strtoul(env, &end, 10);
        if (*end || n == 0 || n > 10000000) {
            fprintf(stderr, "test_x87: the number of cases must be 1..10000000, not '%s'\n", env);
            return 1;
        }
        cases = (unsigned)n;
    }
    const char *seed = getenv("COREMU_X87_SEED"); /* another random stream */
    if (seed) {
        rng_state ^= strtoull(seed, NULL, 0) * 0x9e3779b97f4a7c15ull;
        if (!rng_state) {
            rng_state = 1;
        }
    }
    setup_pages();
    build_forms();
    const char *only = getenv("COREMU_X87_ONLY"); /* one form, by its bytes ("d9 c1") */
    for (unsigned i = 0; i < nforms; i++) {
        struct stats stats = {0, 0, 0, 0, 0, 0};
        if (only && strcmp(only, forms[i].name) != 0) {
            continue;
        }
        struct program prog = {.f = {&forms[i]}, .n = 1};
        for (unsigned c = 0; c < cases; c++) {
            run_case(&prog, &stats, CASE_PLAIN);
        }
        /* with an unmasked exception pending: #MF, or not, as the host decides; and with the
         * memory operand running into an unmapped page */
        for (unsigned c = 0; c < cases / 10 + 2; c++) {
            run_case(&prog, &stats, CASE_PENDING);
            if (forms[i].mem) {
                run_case(&prog, &stats, CASE_CROSS);
            }
        }
        char name[80];
        snprintf(name, sizeof(name), "x87 %s", forms[i].name);
        if (stats.approx || stats.undefined || stats.known) {
            printf("  %s: %u of %u results one ulp off the host's, %u outside the domain, %u "
                   "known softfloat flag differences\n",
                   forms[i].name, stats.approx, stats.cases, stats.undefined, stats.known);
        }
        UNIT_CHECK(stats.failures == 0, name, "%u of %u cases differ from the host",
                   stats.failures, stats.cases);
    }
    if (!only) {
        run_sequences(cases * 20);
        direct_tests();
    }
    return unit_done();
}

#else

int main(void)
{
    printf("test_x87: the oracle is an x86_64 host's FPU; this host is not one\n");
    return 77;
}

#endif
