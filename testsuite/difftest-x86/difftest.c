/*
 * x86-difftest: the x86_64 differential tester's driver (README.md). For each generated
 * sequence it runs the host CPU (native.c, in a child process) and coremu's x86_64 CPU
 * (x86_user_run, arch/x86_64/user.h) from the same registers and memory, and compares
 * everything architecturally defined that they leave behind.
 *
 *   x86-difftest [--seed N] [--first I] [--count N] [--groups gp,string,x87,sse] [--len N]
 *                [--mode 64|32|16] [--max-mismatches N] [--batch N] [--self-check [--inject]]
 *                [--show I] [--quiet]
 *
 * --mode 32 and --mode 16 run the sequences in compatibility mode: in Linux's 32-bit user code
 * segment, or in a 16-bit code segment of the LDT.
 *
 * --in-process runs coremu's side in the driver's own process (for a debugger; a crash then
 * ends the run) instead of a child process per batch.
 *
 * --self-check runs every sequence twice on the host instead (the harness must be
 * deterministic); --inject then changes one compared bit of each second run (a register, a
 * defined flag, a memory byte, an XMM bit), which the comparison must catch every time.
 *
 * Exit status: 0 every sequence matched; 1 a mismatch, or bad usage; 77 nothing could be
 * compared (not an x86_64 host, or coremu's x86_user_run is not built in yet: see
 * HAVE_X86_USER_RUN in Makefile.inc; --self-check works without it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__linux__)
#include "difftest-x86.h"

struct options {
    uint64_t seed, first, count;
    unsigned groups, len, max_mismatches, batch;
    enum dt_mode mode;
    bool self_check, quiet, show, inject, in_process;
    uint64_t show_index;
    char groups_text[64];
};

static const char *const vector_names[32] = {
    [0] = "#DE",  [1] = "#DB",  [3] = "#BP",  [4] = "#OF",  [5] = "#BR",  [6] = "#UD",
    [7] = "#NM",  [8] = "#DF",  [10] = "#TS", [11] = "#NP", [12] = "#SS", [13] = "#GP",
    [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM", [21] = "#CP",
};

static const char *vector_name(unsigned v)
{
    return v < 32 && vector_names[v] ? vector_names[v] : "#?";
}

static const char *const gpr_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

/* What the host is compared with, in reports: coremu, or the host's second run. */
static const char *other_name = "coremu";

/* ---- reports ------------------------------------------------------------------------------- */

struct report {
    char text[8192];
    size_t len;
    unsigned fields;
};

static void say(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct report *r, const char *fmt, ...)
{
    va_list ap;
    if (r->len >= sizeof(r->text) - 1) {
        return;
    }
    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->len, sizeof(r->text) - r->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        r->len += (size_t)n;
        if (r->len >= sizeof(r->text)) {
            r->len = sizeof(r->text) - 1;
        }
    }
}

static void describe_stop(char *buf, size_t cap, const struct dt_result *res)
{
    switch (res->stop) {
    case DT_STOP_END:
        snprintf(buf, cap, "reached the end");
        break;
    case DT_STOP_FAULT:
        snprintf(buf, cap, "%s (vector %u) error code %#x cr2 %#" PRIx64 " at rip %#" PRIx64,
                 vector_name(res->vector), res->vector, res->error_code, res->cr2, res->state.rip);
        break;
    default:
        snprintf(buf, cap, "%s", res->why);
        break;
    }
}

/* The DT_* flags undefined at the point where a run stopped. */
static uint32_t undefined_at(const struct dt_seq *seq, const struct dt_result *res)
{
    if (res->stop == DT_STOP_FAULT) {
        int i = dt_insn_at(seq, res->state.rip);
        if (i >= 0) {
            return seq->undef[i];
        }
    }
    return seq->undef[seq->ninsns];
}

static uint16_t fx16(const uint8_t *fx, unsigned off)
{
    uint16_t v;
    memcpy(&v, fx + off, 2);
    return v;
}

static uint32_t fx32(const uint8_t *fx, unsigned off)
{
    uint32_t v;
    memcpy(&v, fx + off, 4);
    return v;
}

static void hex_bytes(struct report *r, const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        say(r, "%02x", p[n - 1 - i]);
    }
}

/* Compares the FXSAVE images field by field: FCW, FSW (less the undefined condition codes),
 * the abridged tag word, MXCSR, ST0-7 (the 80 bits of each), XMM0-15. FOP, FIP, FDP and
 * MXCSR_MASK are left out: which of them a CPU saves, and when, is the implementation's (AMD
 * saves FIP/FDP/FOP only while an exception is pending). */
static void compare_fpu(struct report *r, const uint8_t *a, const uint8_t *b, uint32_t undef)
{
    uint16_t fsw_mask = 0xffff;
    if (undef & DT_C0) {
        fsw_mask &= (uint16_t)~0x0100;
    }
    if (undef & DT_C1) {
        fsw_mask &= (uint16_t)~0x0200;
    }
    if (undef & DT_C2) {
        fsw_mask &= (uint16_t)~0x0400;
    }
    if (undef & DT_C3) {
        fsw_mask &= (uint16_t)~0x4000;
    }
    if (fx16(a, 0) != fx16(b, 0)) {
        say(r, "  fcw: native %#06x %s %#06x\n", fx16(a, 0), other_name, fx16(b, 0));
        r->fields++;
    }
    if ((fx16(a, 2) ^ fx16(b, 2)) & fsw_mask) {
        say(r, "  fsw: native %#06x %s %#06x (compared bits %#06x)\n", fx16(a, 2), other_name,
            fx16(b, 2), fsw_mask);
        r->fields++;
    }
    if (a[4] != b[4]) {
        say(r, "  ftw (abridged): native %#04x %s %#04x\n", a[4], other_name, b[4]);
        r->fields++;
    }
    if (fx32(a, 24) != fx32(b, 24)) {
        say(r, "  mxcsr: native %#010x %s %#010x\n", fx32(a, 24), other_name, fx32(b, 24));
        r->fields++;
    }
    for (unsigned i = 0; i < 8; i++) {
        if (memcmp(a + 32 + 16 * i, b + 32 + 16 * i, 10) != 0) {
            say(r, "  st%u (80 bits): native ", i);
            hex_bytes(r, a + 32 + 16 * i, 10);
            say(r, " %s ", other_name);
            hex_bytes(r, b + 32 + 16 * i, 10);
            say(r, "\n");
            r->fields++;
        }
    }
    for (unsigned i = 0; i < 16; i++) {
        if (memcmp(a + 160 + 16 * i, b + 160 + 16 * i, 16) != 0) {
            say(r, "  xmm%u: native ", i);
            hex_bytes(r, a + 160 + 16 * i, 16);
            say(r, " %s ", other_name);
            hex_bytes(r, b + 160 + 16 * i, 16);
            say(r, "\n");
            r->fields++;
        }
    }
}

/* Compares what a (the host) and b (coremu, or the host again) left behind; the differences
 * go to r. strict: compare undefined flags too (the host against itself). */
static void compare(struct report *r, const struct dt_seq *seq, const struct dt_result *a,
                    const struct dt_result *b, bool fpu, bool strict)
{
    char sa[192], sb[192];
    describe_stop(sa, sizeof(sa), a);
    describe_stop(sb, sizeof(sb), b);
    if (a->stop == DT_STOP_OTHER || b->stop == DT_STOP_OTHER || a->stop != b->stop) {
        say(r, "  stop: native %s; %s %s\n", sa, other_name, sb);
        r->fields++;
        if (a->stop == DT_STOP_OTHER || b->stop == DT_STOP_OTHER) {
            return;
        }
    } else if (a->stop == DT_STOP_FAULT &&
               (a->vector != b->vector || a->error_code != b->error_code || a->cr2 != b->cr2)) {
        say(r, "  fault: native %s; %s %s\n", sa, other_name, sb);
        r->fields++;
    }
    if (a->state.rip != b->state.rip) {
        say(r, "  rip: native %#" PRIx64 " %s %#" PRIx64 "\n", a->state.rip, other_name,
            b->state.rip);
        r->fields++;
    }
    /* After compatibility mode the SDM leaves the upper halves of the GPRs undefined (Vol. 1
     * 3.4.1.1: "the upper 32 bits ... are undefined" when switching back to 64-bit mode), and
     * R8-R15 do not exist there: 32- and 16-bit code compares EAX..EDI alone. */
    int ngprs = seq->mode == DT_MODE_64 ? 16 : 8;
    uint64_t gpr_mask = seq->mode == DT_MODE_64 ? ~0ull : 0xffffffffull;
    for (int i = 0; i < ngprs; i++) {
        if ((a->state.gpr[i] ^ b->state.gpr[i]) & gpr_mask) {
            say(r, "  %s: native 0x%016" PRIx64 " %s 0x%016" PRIx64 "\n", gpr_names[i],
                a->state.gpr[i], other_name, b->state.gpr[i]);
            r->fields++;
        }
    }
    uint32_t undef = strict ? 0 : undefined_at(seq, a);
    uint64_t fmask = DT_RFLAGS_COMPARED & ~(uint64_t)undef;
    if ((a->state.rflags ^ b->state.rflags) & fmask) {
        say(r, "  rflags: native %#" PRIx64 " %s %#" PRIx64 " (compared bits %#" PRIx64 ")\n",
            a->state.rflags, other_name, b->state.rflags, fmask);
        r->fields++;
    }
    if (fpu) {
        compare_fpu(r, a->state.fxsave, b->state.fxsave, undef);
    }
    unsigned ranges = 0;
    for (unsigned i = 0; i < DT_DATA_SIZE;) {
        if (a->data[i] == b->data[i]) {
            i++;
            continue;
        }
        unsigned j = i;
        while (j < DT_DATA_SIZE && j - i < 16 && a->data[j] != b->data[j]) {
            j++;
        }
        if (ranges++ < 6) {
            say(r, "  memory %#" PRIx64 "..+%u: native", DT_DATA_BASE + i, j - i);
            for (unsigned k = i; k < j; k++) {
                say(r, " %02x", a->data[k]);
            }
            say(r, ", %s", other_name);
            for (unsigned k = i; k < j; k++) {
                say(r, " %02x", b->data[k]);
            }
            say(r, "\n");
        }
        r->fields++;
        i = j;
    }
    if (ranges > 6) {
        say(r, "  ... %u more differing memory ranges\n", ranges - 6);
    }
}

static unsigned insn_end(const struct dt_seq *seq, unsigned i)
{
    return i + 1 < seq->ninsns ? seq->insn_off[i + 1] : seq->len;
}

/* Instructions [from, to) of the sequence, disassembled by objdump (in hex if objdump is not
 * there). */
static void print_disassembly(const struct dt_seq *seq, unsigned from, unsigned to)
{
    char path[] = "/tmp/x86-difftest.XXXXXX";
    if (from >= to || to > seq->ninsns) {
        return;
    }
    unsigned start = seq->insn_off[from], end = insn_end(seq, to - 1);
    int fd = mkstemp(path);
    bool done = false;
    if (fd >= 0) {
        bool written = write(fd, seq->code + start, end - start) == (ssize_t)(end - start);
        close(fd);
        if (written) {
            char cmd[256];
            static const char *const machines[3] = {"i386:x86-64", "i386", "i8086"};
            snprintf(cmd, sizeof(cmd),
                     "objdump -D -b binary -m%s --adjust-vma=%#llx %s 2>/dev/null",
                     machines[seq->mode], (unsigned long long)(dt_seq_start(seq) + start), path);
            FILE *p = popen(cmd, "r");
            if (p) {
                char line[512];
                bool body = false;
                while (fgets(line, sizeof(line), p)) {
                    if (body && line[0] != '\n') {
                        printf("    %s", line);
                        done = true;
                    }
                    if (strstr(line, "<.data>:")) {
                        body = true;
                    }
                }
                pclose(p);
            }
        }
        unlink(path);
    }
    if (!done) {
        for (unsigned i = from; i < to; i++) {
            printf("    %#" PRIx64 ":", dt_seq_start(seq) + seq->insn_off[i]);
            for (unsigned k = seq->insn_off[i]; k < insn_end(seq, i); k++) {
                printf(" %02x", seq->code[k]);
            }
            printf("\n");
        }
    }
}

static void print_state(const char *title, const struct x86_user_state *st, bool fpu)
{
    printf("  %s:\n", title);
    for (int i = 0; i < 16; i += 4) {
        printf("    %-3s %016" PRIx64 "  %-3s %016" PRIx64 "  %-3s %016" PRIx64 "  %-3s %016" PRIx64
               "\n",
               gpr_names[i], st->gpr[i], gpr_names[i + 1], st->gpr[i + 1], gpr_names[i + 2],
               st->gpr[i + 2], gpr_names[i + 3], st->gpr[i + 3]);
    }
    printf("    rip %016" PRIx64 "  rflags %#" PRIx64 "  fs_base %#" PRIx64 "  gs_base %#" PRIx64
           "\n",
           st->rip, st->rflags, st->fs_base, st->gs_base);
    if (fpu) {
        const uint8_t *fx = st->fxsave;
        printf("    fcw %#06x fsw %#06x ftw %#04x mxcsr %#010x\n", fx16(fx, 0), fx16(fx, 2), fx[4],
               fx32(fx, 24));
        for (int i = 0; i < 8; i++) {
            printf("    st%d ", i);
            for (int k = 9; k >= 0; k--) {
                printf("%02x", fx[32 + 16 * i + k]);
            }
            printf("%s", i % 2 ? "\n" : "   ");
        }
        for (int i = 0; i < 16; i++) {
            printf("    xmm%-2d ", i);
            for (int k = 15; k >= 0; k--) {
                printf("%02x", fx[160 + 16 * i + k]);
            }
            printf("%s", i % 2 ? "\n" : "   ");
        }
    }
}

static void print_undefined(const struct dt_seq *seq, const struct dt_result *native)
{
    uint32_t u = undefined_at(seq, native);
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{DT_CF, "CF"}, {DT_PF, "PF"}, {DT_AF, "AF"}, {DT_ZF, "ZF"}, {DT_SF, "SF"},
                 {DT_OF, "OF"}, {DT_C0, "C0"}, {DT_C1, "C1"}, {DT_C2, "C2"}, {DT_C3, "C3"}};
    printf("  undefined (not compared) at the stop:");
    bool any = false;
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (u & names[i].bit) {
            printf(" %s", names[i].name);
            any = true;
        }
    }
    printf("%s\n", any ? "" : " none");
}

/* Whether a native fault is one the generator planned: a #PF on a guard page, a #DE of a
 * division, a #GP of a misaligned SSE operand or a non-canonical address (#SS based on RSP or
 * RBP), #MF or #XM of an exception the initial FCW or MXCSR unmasks, each where the generator
 * put it. Anything else
 * natively is a bug of the generator or the harness (the oracle must be trustworthy). */
static bool planned_fault(const struct dt_seq *seq, const struct dt_result *native)
{
    int i = dt_insn_at(seq, native->state.rip);
    if (i < 0) {
        return false;
    }
    uint8_t may = seq->may_fault[i];
    switch (native->vector) {
    case 14: {
        bool guard = (native->cr2 >= DT_DATA_BASE - DT_PAGE && native->cr2 < DT_DATA_BASE) ||
                     (native->cr2 >= DT_DATA_END && native->cr2 < DT_DATA_END + DT_PAGE) ||
                     (seq->second_page_absent && native->cr2 >= DT_CODE_BASE + DT_PAGE &&
                      native->cr2 < DT_CODE_BASE + 2 * DT_PAGE);
        return (may & DT_MAY_PF) && guard;
    }
    case 0:
        return may & DT_MAY_DE;
    case 5:
        return may & DT_MAY_BR;
    case 6:
        return may & DT_MAY_UD;
    case 12:
        return may & DT_MAY_SS;
    case 16:
        return may & DT_MAY_MF;
    case 19:
        return may & DT_MAY_XM;
    case 13:
        return may & DT_MAY_GP;
    default:
        return false;
    }
}

/* ---- the emulated side --------------------------------------------------------------------- */

#ifdef HAVE_X86_USER_RUN
#define HAVE_EMULATOR 1
/* The LDT entries coremu gets: dt_ldt's, when the native child has them too. */
static unsigned emulator_ldt_entries;

static void emulator_run(const struct dt_seq *seq, struct dt_result *res)
{
    static uint8_t code[DT_CODE_SIZE];
    /* In a child process of its own (dt_run_batch_forked): a crash is one sequence's result. */
    memset(code, 0xcc, sizeof(code));
    memcpy(code + seq->code_off, seq->code, seq->len);
    memset(res, 0, offsetof(struct dt_result, state));
    memcpy(res->data, seq->data, DT_DATA_SIZE);
    res->state = seq->init;
    struct x86_user_mapping maps[2] = {
        {.vaddr = DT_DATA_BASE, .size = DT_DATA_SIZE, .host = res->data, .writable = true},
        {.vaddr = DT_CODE_BASE,
         .size = seq->second_page_absent ? DT_PAGE : DT_CODE_SIZE,
         .host = code,
         .executable = true},
    };
    struct x86_user_result r;
    memset(&r, 0, sizeof(r));
    /* The segments the native side runs in (native.c): Linux's 32-bit user segments, or the
     * LDT's 16-bit ones. */
    static const struct x86_user_compat compat32 = {
        .cs = {DT_SEL_USER32_CS, 0, 0xffffffffu, true, true},
        .ss = {DT_SEL_USER_DS, 0, 0xffffffffu, true, false},
        .ds = {DT_SEL_USER_DS, 0, 0xffffffffu, true, false},
        .es = {DT_SEL_USER_DS, 0, 0xffffffffu, true, false},
    };
    static const struct x86_user_compat compat16 = {
        .cs = {DT_SEL_CODE16, (uint32_t)DT_CODE_BASE, DT_SEG16_LIMIT, false, true},
        .ss = {DT_SEL_DATA16, (uint32_t)DT_DATA16_BASE, DT_SEG16_LIMIT, false, false},
        .ds = {DT_SEL_DATA16, (uint32_t)DT_DATA16_BASE, DT_SEG16_LIMIT, false, false},
        .es = {DT_SEL_DATA16, (uint32_t)DT_DATA16_BASE, DT_SEG16_LIMIT, false, false},
    };
    struct x86_user_compat compat_ldt;
    const struct x86_user_compat *compat = NULL;
    if (seq->mode != DT_MODE_64) {
        compat_ldt = seq->mode == DT_MODE_32 ? compat32 : compat16;
        for (unsigned i = 0; i < emulator_ldt_entries; i++) {
            compat_ldt.ldt[i] = (struct x86_user_segment){(uint16_t)(i * 8 + 7), dt_ldt[i].base,
                                                          dt_ldt[i].limit, false, dt_ldt[i].code};
        }
        compat_ldt.ldt_entries = emulator_ldt_entries;
        compat = &compat_ldt;
    }
    /* A REP string instruction may count once per iteration: leave room for all of them. */
    x86_user_run_compat(maps, 2, compat, dt_seq_end(seq), 100000, &res->state, &r);
    switch (r.stop) {
    case X86_USER_STOPPED:
        res->stop = DT_STOP_END;
        break;
    case X86_USER_FAULT:
        res->stop = DT_STOP_FAULT;
        res->vector = r.vector;
        res->error_code = dt_vector_has_error_code(r.vector) ? r.error_code : 0;
        res->cr2 = r.vector == 14 ? r.cr2 : 0;
        break;
    case X86_USER_LIMIT:
        res->stop = DT_STOP_OTHER;
        snprintf(res->why, sizeof(res->why), "stopped at the instruction limit, rip %#" PRIx64,
                 res->state.rip);
        break;
    default:
        res->stop = DT_STOP_OTHER;
        snprintf(res->why, sizeof(res->why), "x86_user_run error: %.100s", r.message);
        break;
    }
}

/* Runs CPUID (leaf, subleaf 0) on coremu's CPU: false if it did not run to its end. */
static bool emulator_cpuid(uint32_t leaf, uint32_t out[4])
{
    static struct dt_seq seq;
    static struct dt_result res;
    memset(&seq, 0, offsetof(struct dt_seq, init));
    memset(&seq.init, 0, sizeof(seq.init));
    seq.code[0] = 0x0f;
    seq.code[1] = 0xa2;
    seq.len = 2;
    seq.ninsns = 1;
    seq.init.gpr[0] = leaf;
    seq.init.gpr[4] = DT_STACK_TOP;
    seq.init.rip = dt_seq_start(&seq);
    seq.init.rflags = 0x202;
    uint16_t fcw = 0x037f;
    uint32_t mxcsr = 0x1f80;
    memcpy(seq.init.fxsave, &fcw, 2);
    memcpy(seq.init.fxsave + 24, &mxcsr, 4);
    if (!dt_run_batch_forked(&seq, 1, &res, NULL, emulator_run, "coremu's side") ||
        res.stop != DT_STOP_END) {
        return false;
    }
    out[0] = (uint32_t)res.state.gpr[0];
    out[1] = (uint32_t)res.state.gpr[3];
    out[2] = (uint32_t)res.state.gpr[1];
    out[3] = (uint32_t)res.state.gpr[2];
    return true;
}

/* Instructions are generated only where both CPUs have them: coremu's CPUID may leave out
 * extensions the host has (then coremu rightly runs F3 0F BC as BSF, say, not as TZCNT). */
static void restrict_to_emulator(struct dt_host_features *f, bool quiet)
{
    uint32_t l1[4], l7[4], x1[4];
    if (!emulator_cpuid(1, l1) || !emulator_cpuid(7, l7) || !emulator_cpuid(0x80000001, x1)) {
        printf("x86-difftest: note: CPUID does not run on coremu; generating for the host's "
               "extensions\n");
        return;
    }
    const struct {
        bool *have;
        bool emu;
        const char *name;
    } ext[] = {
        {&f->sse3, l1[2] & (1u << 0), "SSE3"},         {&f->ssse3, l1[2] & (1u << 9), "SSSE3"},
        {&f->sse41, l1[2] & (1u << 19), "SSE4.1"},     {&f->sse42, l1[2] & (1u << 20), "SSE4.2"},
        {&f->movbe, l1[2] & (1u << 22), "MOVBE"},      {&f->popcnt, l1[2] & (1u << 23), "POPCNT"},
        {&f->bmi1, l7[1] & (1u << 3), "BMI1 (TZCNT)"}, {&f->cx16, l1[2] & (1u << 13), "CMPXCHG16B"},
        {&f->lzcnt, x1[2] & (1u << 5), "ABM (LZCNT)"},
    };
    for (unsigned i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        if (*ext[i].have && !ext[i].emu) {
            *ext[i].have = false;
            if (!quiet) {
                printf("x86-difftest: note: the host has %s, coremu's CPUID does not: not "
                       "generated\n",
                       ext[i].name);
            }
        }
    }
}
#else
#define HAVE_EMULATOR 0
static void restrict_to_emulator(struct dt_host_features *f, bool quiet)
{
    (void)f;
    (void)quiet;
}
static void emulator_run(const struct dt_seq *seq, struct dt_result *res)
{
    (void)seq;
    (void)res;
}
#endif

/* --inject: one bit the comparison must notice, a different kind for each sequence. */
static void inject_difference(const struct dt_seq *seq, struct dt_result *res, bool fpu)
{
    if (res->stop == DT_STOP_OTHER) {
        return;
    }
    unsigned kind = (unsigned)(seq->index % (fpu ? 4 : 3));
    uint32_t defined = DT_ARITH & ~undefined_at(seq, res);
    if (kind == 1 && !defined) {
        kind = 0;
    }
    switch (kind) {
    case 0:
        if (seq->mode == DT_MODE_64) {
            res->state.gpr[seq->index % 16] ^= 1ull << (seq->index % 64);
        } else {
            /* the compared part: EAX..EDI */
            res->state.gpr[seq->index % 8] ^= 1ull << (seq->index % 32);
        }
        break;
    case 1:
        res->state.rflags ^= defined & -defined; /* the lowest defined flag */
        break;
    case 2:
        res->data[seq->index % DT_DATA_SIZE] ^= 0x80;
        break;
    default:
        res->state.fxsave[160 + seq->index % 256] ^= 1;
        break;
    }
}

/* ---- options ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: x86-difftest [--seed N] [--first I] [--count N] "
               "[--groups gp,string,x87,sse] [--len N]\n"
               "                    [--mode 64|32|16] [--max-mismatches N] [--batch N] "
               "[--self-check] [--show I] [--quiet]\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_groups(const char *s, unsigned *out)
{
    char buf[64];
    unsigned groups = 0;
    if (strlen(s) >= sizeof(buf)) {
        return false;
    }
    strcpy(buf, s);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "gp")) {
            groups |= DT_GROUP_GP;
        } else if (!strcmp(tok, "string")) {
            groups |= DT_GROUP_STRING;
        } else if (!strcmp(tok, "x87")) {
            groups |= DT_GROUP_X87;
        } else if (!strcmp(tok, "sse")) {
            groups |= DT_GROUP_SSE;
        } else if (!strcmp(tok, "all")) {
            groups |= DT_GROUP_GP | DT_GROUP_STRING | DT_GROUP_X87 | DT_GROUP_SSE;
        } else {
            return false;
        }
    }
    *out = groups;
    return groups != 0;
}

static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "x86-difftest: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see --help)\n");
    va_end(ap);
    exit(1);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->count = 10000;
    o->groups = DT_GROUP_GP | DT_GROUP_STRING;
    strcpy(o->groups_text, "gp,string");
    o->len = 12;
    o->max_mismatches = 10;
    o->batch = 256;
    o->mode = DT_MODE_64;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(opt, "--self-check")) {
            o->self_check = true;
            continue;
        }
        if (!strcmp(opt, "--in-process")) {
            o->in_process = true;
            continue;
        }
        if (!strcmp(opt, "--inject")) {
            o->inject = true;
            continue;
        }
        if (!strcmp(opt, "--quiet")) {
            o->quiet = true;
            continue;
        }
        static const char *const valued[] = {"--seed",   "--first", "--count",
                                             "--groups", "--len",   "--max-mismatches",
                                             "--batch",  "--show",  "--mode"};
        const char *val = NULL;
        size_t n = strcspn(opt, "=");
        bool known = false;
        for (unsigned k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
            known |= strlen(valued[k]) == n && !strncmp(opt, valued[k], n);
        }
        if (!known) {
            bad_usage("unknown option %s", opt);
        }
        if (opt[n] == '=') {
            val = opt + n + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            bad_usage("%s needs a value", opt);
        }
        uint64_t v = 0;
        bool numeric = parse_u64(val, &v);
        if (!strncmp(opt, "--groups", n) && n == 8) {
            if (!parse_groups(val, &o->groups)) {
                bad_usage("--groups: '%s' is not a list of gp, string, x87, sse, all", val);
            }
            snprintf(o->groups_text, sizeof(o->groups_text), "%s", val);
            continue;
        }
        if (!strncmp(opt, "--mode", n) && n == 6) {
            if (!strcmp(val, "64")) {
                o->mode = DT_MODE_64;
            } else if (!strcmp(val, "32")) {
                o->mode = DT_MODE_32;
            } else if (!strcmp(val, "16")) {
                o->mode = DT_MODE_16;
            } else {
                bad_usage("--mode: '%s' is not 64, 32 or 16", val);
            }
            continue;
        }
        if (!numeric) {
            bad_usage("'%s' is not a number", val);
        }
        if (!strncmp(opt, "--seed", n) && n == 6) {
            o->seed = v;
        } else if (!strncmp(opt, "--first", n) && n == 7) {
            o->first = v;
        } else if (!strncmp(opt, "--count", n) && n == 7) {
            o->count = v;
        } else if (!strncmp(opt, "--len", n) && n == 5) {
            if (v < 1 || v > DT_MAX_UNITS) {
                bad_usage("--len must be 1..64, not %s", val);
            }
            o->len = (unsigned)v;
        } else if (!strncmp(opt, "--max-mismatches", n) && n == 16) {
            o->max_mismatches = v > 1000000 ? 1000000 : (unsigned)v;
        } else if (!strncmp(opt, "--batch", n) && n == 7) {
            if (v < 1 || v > 4096) {
                bad_usage("--batch must be 1..4096, not %s", val);
            }
            o->batch = (unsigned)v;
        } else if (!strncmp(opt, "--show", n) && n == 6) {
            o->show = true;
            o->show_index = v;
        } else {
            bad_usage("unknown option %s", opt);
        }
    }
}

/* ---- main loop ----------------------------------------------------------------------------- */

/* The first instruction after which the two sides differ: every prefix of the sequence runs on
 * both sides (ending at that prefix's end, with its own undefined flags), and the shortest one
 * that mismatches ends with the culprit. -1 when every prefix matches (then the difference is
 * in how the whole sequence ends), -2 when the runs could not be made. */
static int first_divergence(const struct options *o, const struct dt_seq *seq, bool fpu)
{
    unsigned n = seq->ninsns;
    struct dt_seq *pre = calloc(n, sizeof(*pre));
    struct dt_result *a = calloc(n, sizeof(*a));
    struct dt_result *b = calloc(n, sizeof(*b));
    int found = -2;
    if (!pre || !a || !b) {
        goto out;
    }
    /* The prefixes ending with instruction k, except where a branch may jump past that end */
    unsigned m = 0;
    for (unsigned k = 0; k < n; k++) {
        if (k + 1 < n && seq->skippable[k + 1]) {
            continue;
        }
        /* natively the prefix ends with a 14-byte jump, which must not need the absent page */
        uint64_t end = DT_CODE_BASE + seq->code_off + insn_end(seq, k);
        if (seq->second_page_absent && end <= DT_CODE_BASE + DT_PAGE &&
            end + 14 > DT_CODE_BASE + DT_PAGE) {
            continue;
        }
        pre[m] = *seq;
        pre[m].ninsns = k + 1;
        pre[m].len = insn_end(seq, k);
        m++;
    }
    if (!dt_native_run_batch(pre, m, a)) {
        goto out;
    }
    if (o->in_process) {
        for (unsigned k = 0; k < m; k++) {
            emulator_run(&pre[k], &b[k]);
        }
    } else if (!dt_run_batch_forked(pre, m, b, NULL, emulator_run, "coremu's side")) {
        goto out;
    }
    found = -1;
    for (unsigned k = 0; k < m; k++) {
        static struct report r;
        r.len = 0;
        r.fields = 0;
        compare(&r, &pre[k], &a[k], &b[k], fpu, false);
        if (r.fields) {
            found = (int)pre[k].ninsns - 1;
            break;
        }
    }
out:
    free(pre);
    free(a);
    free(b);
    return found;
}

static const char *mode_name(enum dt_mode mode)
{
    return mode == DT_MODE_16 ? "16" : mode == DT_MODE_32 ? "32" : "64";
}

static void print_mismatch(const struct options *o, const struct dt_seq *seq,
                           const struct dt_result *native, const struct report *r, bool fpu)
{
    char stop[192];
    describe_stop(stop, sizeof(stop), native);
    printf("MISMATCH: sequence %" PRIu64 " (%u instructions, %u bytes; native: %s)\n", seq->index,
           seq->ninsns, seq->len, stop);
    printf("  replay: x86-difftest --seed %" PRIu64
           " --groups %s --len %u --mode %s --first %" PRIu64 " --count 1\n",
           o->seed, o->groups_text, o->len, mode_name(o->mode), seq->index);
    print_disassembly(seq, 0, seq->ninsns);
    print_state("initial state", &seq->init, fpu);
    print_undefined(seq, native);
    printf("  differences (%u):\n%s", r->fields, r->text);
    if (!o->self_check) {
        int k = first_divergence(o, seq, fpu);
        if (k >= 0) {
            printf("  first divergence: after instruction %d of %u, the sequence cut there "
                   "mismatches:\n",
                   k + 1, seq->ninsns);
            print_disassembly(seq, (unsigned)k, (unsigned)k + 1);
        } else if (k == -1) {
            printf("  first divergence: none of its prefixes mismatches\n");
        }
    }
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    struct dt_gen_config cfg = {
        .seed = o.seed, .groups = o.groups, .max_units = o.len, .mode = o.mode};
    dt_host_features_detect(&cfg.host);
    bool fpu = (o.groups & (DT_GROUP_X87 | DT_GROUP_SSE)) != 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char why[160];
    if (!dt_native_mode_supported(o.mode, why, sizeof(why))) {
        printf("UNSUPPORTED: --mode %s: %s\n", mode_name(o.mode), why);
        return 77;
    }
    /* (the same question: whether the native child gets its LDT) */
    cfg.host.ldt = dt_native_mode_supported(DT_MODE_16, why, sizeof(why));
#if HAVE_EMULATOR
    emulator_ldt_entries = cfg.host.ldt ? DT_LDT_ENTRIES : 0;
#endif

    if (o.show) {
        /* One sequence, its native run in full: for writing and debugging templates. */
        static struct dt_seq seq;
        static struct dt_result res;
        dt_generate(&cfg, o.show_index, &seq);
        printf("sequence %" PRIu64 ": %u instructions, %u bytes\n", seq.index, seq.ninsns, seq.len);
        print_disassembly(&seq, 0, seq.ninsns);
        print_state("initial state", &seq.init, fpu);
        if (!dt_native_run_batch(&seq, 1, &res)) {
            return 1;
        }
        char stop[192];
        describe_stop(stop, sizeof(stop), &res);
        printf("  native: %s\n", stop);
        print_undefined(&seq, &res);
        print_state("native final state", &res.state, fpu);
        return 0;
    }
    if (o.inject && !o.self_check) {
        bad_usage("--inject goes with --self-check");
    }
    if (o.self_check) {
        other_name = "rerun";
    }
    if (!o.self_check && HAVE_EMULATOR) {
        restrict_to_emulator(&cfg.host, o.quiet);
    }
    if (!o.self_check && !HAVE_EMULATOR) {
        printf("UNSUPPORTED: coremu's x86_user_run is not built into this x86-difftest yet "
               "(HAVE_X86_USER_RUN); --self-check runs the native side alone\n");
        return 77;
    }

    struct dt_seq *seqs = calloc(o.batch, sizeof(*seqs));
    struct dt_result *native = calloc(o.batch, sizeof(*native));
    struct dt_result *other = calloc(o.batch, sizeof(*other));
    if (!seqs || !native || !other) {
        fprintf(stderr, "x86-difftest: out of memory\n");
        return 1;
    }
    uint64_t done = 0, insns = 0, mismatches = 0, faults[32] = {0}, ends = 0, harness_errors = 0;
    const char *against = o.self_check ? "the host CPU again (--self-check)" : "coremu";
    for (uint64_t base = o.first; base < o.first + o.count && mismatches < o.max_mismatches;
         base += o.batch) {
        unsigned n =
            (unsigned)(o.first + o.count - base < o.batch ? o.first + o.count - base : o.batch);
        for (unsigned i = 0; i < n; i++) {
            dt_generate(&cfg, base + i, &seqs[i]);
        }
        if (!dt_native_run_batch(seqs, n, native)) {
            return 1;
        }
        if (o.self_check && !dt_native_run_batch(seqs, n, other)) {
            return 1;
        }
        if (!o.self_check && o.in_process) {
            for (unsigned i = 0; i < n; i++) {
                emulator_run(&seqs[i], &other[i]);
            }
        } else if (!o.self_check &&
                   !dt_run_batch_forked(seqs, n, other, NULL, emulator_run, "coremu's side")) {
            return 1;
        }
        for (unsigned i = 0; i < n && mismatches < o.max_mismatches; i++) {
            if (o.self_check && o.inject) {
                inject_difference(&seqs[i], &other[i], fpu);
            }
            static struct report r;
            r.len = 0;
            r.fields = 0;
            r.text[0] = 0;
            compare(&r, &seqs[i], &native[i], &other[i], fpu, o.self_check);
            if (native[i].stop == DT_STOP_OTHER ||
                (native[i].stop == DT_STOP_FAULT && !planned_fault(&seqs[i], &native[i]))) {
                say(&r, "  HARNESS: the native run stopped where the generator did not mean it "
                        "to (a bug of the tester, not of coremu)\n");
                r.fields++;
                harness_errors++;
            }
            done++;
            insns += seqs[i].ninsns;
            if (native[i].stop == DT_STOP_FAULT) {
                faults[native[i].vector & 31]++;
            } else if (native[i].stop == DT_STOP_END) {
                ends++;
            }
            if (r.fields) {
                mismatches++;
                print_mismatch(&o, &seqs[i], &native[i], &r, fpu);
            }
        }
        if (!o.quiet && o.count > 10000) {
            fprintf(stderr, "x86-difftest: %" PRIu64 " sequences, %" PRIu64 " mismatches\r", done,
                    mismatches);
        }
    }
    if (!o.quiet && o.count > 10000) {
        fprintf(stderr, "\n");
    }
    printf("x86-difftest: seed %" PRIu64 ", groups %s, %s-bit code: %" PRIu64 " sequences (%" PRIu64
           " instructions) against %s: %" PRIu64 " mismatches; %" PRIu64 " ran to the end,",
           o.seed, o.groups_text, mode_name(o.mode), done, insns, against, mismatches, ends);
    for (unsigned v = 0; v < 32; v++) {
        if (faults[v]) {
            printf(" %" PRIu64 " %s", faults[v], vector_name(v));
        }
    }
    printf("\n");
    if (harness_errors) {
        printf("x86-difftest: %" PRIu64 " of the mismatches are native runs that stopped "
               "unplanned (HARNESS lines): the tester's bug\n",
               harness_errors);
    }
    if (mismatches >= o.max_mismatches && done < o.count) {
        printf("x86-difftest: stopped after %u mismatches (--max-mismatches)\n", o.max_mismatches);
    }
    free(seqs);
    free(native);
    free(other);
    return mismatches ? 1 : 0;
}

#else /* not an x86_64 Linux host */

int main(void)
{
    printf("UNSUPPORTED: x86-difftest needs an x86_64 Linux host (the host CPU is the "
           "oracle)\n");
    return 77;
}

#endif
