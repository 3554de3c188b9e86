/*
 * Exceptions and processor modes: every mode's banked SP, LR and SPSR (set through CPS and
 * MSR, read back after all were written), FIQ's banked r8-r12, the User registers through
 * STM^/LDM^; the preferred return address, SPSR and handler mode of UDF, SVC, BKPT (prefetch
 * abort, IFSR debug event) and data aborts, from ARM and from Thumb
 * (16- and 32-bit instructions), a data abort inside an IT block resumed with its IT state;
 * exceptions from User and System mode; CPS/MSR in User mode; exception entry in Thumb state with
 * SCTLR.TE=1; VBAR relocation; exception return by MOVS pc, SUBS pc, RFE (after SRS) and LDM^;
 * MRS/MSR of SPSR; an IRQ held off by CPSR.I while pending (an SGI to self through the GIC) and
 * taken once CPSR.I is cleared.
 *
 * High vectors (SCTLR.V) are checked in mmu.c, which can map a page at 0xffff0000 (the virt
 * board has nothing there); a prefetch abort on an unmapped address needs the MMU, so it is there
 * too. Expected values come from the ARM ARM (DDI 0406C) B1.8-B1.9; the program passes on QEMU
 * 7.2.
 */
#include "test.h"

#define M_USR 0x10u
#define M_FIQ 0x11u
#define M_IRQ 0x12u
#define M_SVC 0x13u
#define M_ABT 0x17u
#define M_UND 0x1bu
#define M_SYS 0x1fu
#define PSR_T (1u << 5)
#define PSR_F (1u << 6)
#define PSR_I (1u << 7)
#define PSR_A (1u << 8)
#define PSR_NZCV 0xf0000000u
#define PSR_IT 0x0600fc00u

#define GICD 0x08000000u
#define GICC 0x08010000u

__asm__(".arch_extension virt\n\t.arch_extension sec");

static inline uint32_t cpsr(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, cpsr" : "=r"(v));
    return v;
}
static inline uint32_t sctlr_read(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(v));
    return v;
}
static inline void sctlr_write(uint32_t v)
{
    __asm__ volatile("mcr p15, 0, %0, c1, c0, 0\n\tisb" : : "r"(v) : "memory");
}
static inline volatile uint32_t *reg(uint32_t addr)
{
    return (volatile uint32_t *)(uintptr_t)addr;
}

/* ---- banked registers --------------------------------------------------------------------- */

/*
 * bank_test(save, out): for FIQ, IRQ, ABT, UND: saves SP, LR, SPSR to save[], writes
 * SP = 0x40f00000 | mode << 12, LR = mode << 24 | 0x1e00, SPSR = (mode & 15) * 0x10010000 | 0x10;
 * for SYS: SP and LR; for SVC: SPSR only. Then reads everything back into out[] (3 words per
 * mode, SYS 2, SVC 1), then: SVC's r8-r12 and FIQ's r8-r12 (5 + 5), r8 written in SYS read in
 * SVC, the User SP/LR through STM^, SP/LR written with LDM^ and read in SYS. Finally restores
 * what it saved. (The test SPs are addresses in unused RAM, so that an unexpected exception in
 * between reports itself instead of looping.) No banked MRS/MSR: they belong to the
 * Virtualization Extensions, which this core does not have (ID_PFR1).
 */
void bank_test(uint32_t *save, uint32_t *out);
__asm__("   .syntax unified\n"
        "   .arm\n"
        "   .text\n"
        "   .global bank_test\n"
        "   .type bank_test, %function\n"
        "bank_test:\n"
        "   push {r4-r11, lr}\n"
        "   mrs r4, cpsr\n"
        "   mov r5, r0\n"
        "   .irp m, 0x11, 0x12, 0x17, 0x1b\n"
        "   cps #\\m\n"
        "   str sp, [r0], #4\n"
        "   str lr, [r0], #4\n"
        "   mrs r2, spsr\n"
        "   str r2, [r0], #4\n"
        "   ldr sp, =0x40f00000 | (\\m << 12)\n"
        "   ldr lr, =(\\m << 24) | 0x1e00\n"
        "   ldr r2, =((\\m & 15) * 0x10010000) | 0x10\n"
        "   msr spsr_fsxc, r2\n"
        "   .endr\n"
        "   cps #0x1f\n"
        "   str sp, [r0], #4\n"
        "   str lr, [r0], #4\n"
        "   ldr sp, =0x40f1f000\n"
        "   ldr lr, =0x1f001e00\n"
        "   cps #0x13\n"
        "   mrs r2, spsr\n"
        "   str r2, [r0], #4\n"
        "   ldr r2, =0x30030010\n"
        "   msr spsr_fsxc, r2\n"
        /* read back */
        "   .irp m, 0x11, 0x12, 0x17, 0x1b\n"
        "   cps #\\m\n"
        "   str sp, [r1], #4\n"
        "   str lr, [r1], #4\n"
        "   mrs r2, spsr\n"
        "   str r2, [r1], #4\n"
        "   .endr\n"
        "   cps #0x1f\n"
        "   str sp, [r1], #4\n"
        "   str lr, [r1], #4\n"
        "   cps #0x13\n"
        "   mrs r2, spsr\n"
        "   str r2, [r1], #4\n"
        /* r8-r12: SVC (shared with USR/SYS) and FIQ */
        "   mov r8, #8\n   mov r9, #9\n   mov r10, #10\n   mov r11, #11\n   mov r12, #12\n"
        "   cps #0x11\n"
        "   mov r8, #0x88\n   mov r9, #0x99\n   mov r10, #0xaa\n   mov r11, #0xbb\n"
        "   mov r12, #0xcc\n"
        "   cps #0x13\n"
        "   stmia r1!, {r8-r12}\n"
        "   cps #0x11\n"
        "   stmia r1!, {r8-r12}\n"
        "   cps #0x1f\n"
        "   mov r8, #0x42\n"
        "   cps #0x13\n"
        "   str r8, [r1], #4\n"
        /* User registers from SVC: STM^ reads them, LDM^ writes them */
        "   stmia r1, {sp, lr}^\n"
        "   add r1, r1, #8\n"
        "   adr r2, 1f\n"
        "   ldmia r2, {sp, lr}^\n"
        "   nop\n"
        "   cps #0x1f\n"
        "   str sp, [r1], #4\n"
        "   str lr, [r1], #4\n"
        "   cps #0x13\n"
        /* restore */
        "   .irp m, 0x11, 0x12, 0x17, 0x1b\n"
        "   cps #\\m\n"
        "   ldr sp, [r5], #4\n"
        "   ldr lr, [r5], #4\n"
        "   ldr r2, [r5], #4\n"
        "   msr spsr_fsxc, r2\n"
        "   .endr\n"
        "   cps #0x1f\n"
        "   ldr sp, [r5], #4\n"
        "   ldr lr, [r5], #4\n"
        "   cps #0x13\n"
        "   ldr r2, [r5], #4\n"
        "   msr spsr_fsxc, r2\n"
        "   msr cpsr_c, r4\n"
        "   pop {r4-r11, pc}\n"
        "1: .word 0x40f10000, 0x10001e00\n"
        "   .ltorg\n");

static void banked(void)
{
    uint32_t save[16], out[40];
    memset(out, 0, sizeof(out));
    bank_test(save, out);
    static const uint32_t modes[4] = {M_FIQ, M_IRQ, M_ABT, M_UND};
    static const char *const names[4] = {
        "modes: FIQ banked SP, LR, SPSR", "modes: IRQ banked SP, LR, SPSR",
        "modes: ABT banked SP, LR, SPSR", "modes: UND banked SP, LR, SPSR",
    };
    for (unsigned i = 0; i < 4; i++) {
        uint32_t m = modes[i];
        uint32_t *o = &out[i * 3];
        uint32_t want_spsr = ((m & 15) * 0x10010000u) | 0x10;
        test_check(o[0] == (0x40f00000 | m << 12) && o[1] == (m << 24 | 0x1e00) &&
                       o[2] == want_spsr,
                   names[i], "SP 0x%x LR 0x%x SPSR 0x%x", o[0], o[1], o[2]);
    }
    test_check(out[12] == 0x40f1f000 && out[13] == 0x1f001e00, "modes: SYS SP and LR",
               "SP 0x%x LR 0x%x", out[12], out[13]);
    test_check_eq("modes: SVC SPSR", out[14], 0x30030010);
    test_check(out[15] == 8 && out[16] == 9 && out[17] == 10 && out[18] == 11 && out[19] == 12,
               "modes: SVC r8-r12 untouched by FIQ's", "%x %x %x %x %x", out[15], out[16],
               out[17], out[18], out[19]);
    test_check(out[20] == 0x88 && out[21] == 0x99 && out[22] == 0xaa && out[23] == 0xbb &&
                   out[24] == 0xcc,
               "modes: FIQ banked r8-r12", "%x %x %x %x %x", out[20], out[21], out[22], out[23],
               out[24]);
    test_check_eq("modes: SYS and SVC share r8", out[25], 0x42);
    test_check(out[26] == 0x40f1f000 && out[27] == 0x1f001e00, "modes: STM^ stores User SP, LR",
               "0x%x 0x%x", out[26], out[27]);
    test_check(out[28] == 0x40f10000 && out[29] == 0x10001e00, "modes: LDM^ loads User SP, LR",
               "0x%x 0x%x", out[28], out[29]);

    /* MSR SPSR: all fields, then the flags field alone. */
    uint32_t s1, s2, old;
    __asm__ volatile("mrs %[o], spsr\n\tmsr spsr_fsxc, %[v]\n\tmrs %[s1], spsr\n\t"
                     "msr spsr_f, %[w]\n\tmrs %[s2], spsr\n\tmsr spsr_fsxc, %[o]"
                     : [o] "=&r"(old), [s1] "=&r"(s1), [s2] "=&r"(s2)
                     : [v] "r"(0x900f01d7u), [w] "r"(0x68ffffffu));
    test_check(s1 == 0x900f01d7u && s2 == 0x680f01d7u, "modes: MSR/MRS SPSR", "0x%x then 0x%x",
               s1, s2);
}

/* ---- exception entry ---------------------------------------------------------------------- */

enum action { SKIP, FIX_R3, TO_SVC };
static volatile enum action action;
static volatile uint32_t skip_bytes;
static volatile uint32_t n_exc, e_kind, e_pc, e_spsr, e_cpsr, e_fsr;

static bool hook(enum exc_kind kind, struct exc_frame *f)
{
    n_exc++;
    e_kind = kind;
    e_pc = f->pc;
    e_spsr = f->spsr;
    e_cpsr = cpsr();
    e_fsr = 0;
    if (kind == EXC_DABT) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(e_fsr));
    } else if (kind == EXC_PABT) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(e_fsr));
    } else if (kind == EXC_IRQ) {
        return false;
    }
    switch (action) {
    case SKIP:
        f->pc += skip_bytes;
        break;
    case FIX_R3:
        f->r[3] &= ~3u;
        break;
    case TO_SVC:
        f->spsr = (f->spsr & ~0x1fu) | M_SVC;
        break;
    }
    return true;
}

static void check_exc(const char *name, uint32_t kind, uint32_t pc, uint32_t spsr, uint32_t mode,
                      uint32_t n_before)
{
    /* Entry masks IRQs, sets A for aborts (B1.8.3), and runs the handler in ARM state (TE=0). */
    uint32_t want_a = (kind == EXC_PABT || kind == EXC_DABT) ? PSR_A : (spsr & PSR_A);
    test_check(n_exc == n_before + 1 && e_kind == kind && e_pc == pc && e_spsr == spsr &&
                   (e_cpsr & 0x1f) == mode && (e_cpsr & PSR_I) && (e_cpsr & PSR_A) == want_a,
               name,
               "%u exceptions, kind 0x%x pc 0x%x spsr 0x%x cpsr 0x%x (expected 0x%x 0x%x 0x%x, "
               "mode 0x%x)",
               n_exc - n_before, e_kind, e_pc, e_spsr, e_cpsr, kind, pc, spsr, mode);
}

/* The CPSR the exception will save: flags set by the asm, mode and masks as now. */
#define NZCV_PATTERN 0xa0000000u

static void entry_arm(void)
{
    uint32_t n, addr, base = cpsr() & ~PSR_NZCV;
    action = SKIP;

    n = n_exc;
    skip_bytes = 4;
    __asm__ volatile("msr APSR_nzcvq, %[f]\n\tadr %[a], 1f\n1:\tudf #0x1234"
                     : [a] "=r"(addr)
                     : [f] "r"(NZCV_PATTERN)
                     : "cc", "memory");
    check_exc("modes: UDF (A32): UND mode, LR, SPSR", EXC_UNDEF, addr, base | NZCV_PATTERN,
              M_UND, n);

    n = n_exc;
    skip_bytes = 0;
    __asm__ volatile("msr APSR_nzcvq, %[f]\n\tsvc #0\n1:\tadr %[a], 1b"
                     : [a] "=r"(addr)
                     : [f] "r"(0x50000000u)
                     : "cc", "lr", "memory");
    check_exc("modes: SVC (A32): SVC mode, LR, SPSR", EXC_SVC, addr, base | 0x50000000u, M_SVC,
              n);

    n = n_exc;
    skip_bytes = 4;
    __asm__ volatile("msr APSR_nzcvq, %[f]\n\tadr %[a], 1f\n1:\tbkpt #7"
                     : [a] "=r"(addr)
                     : [f] "r"(0x30000000u)
                     : "cc", "memory");
    check_exc("modes: BKPT (A32): prefetch abort, ABT mode", EXC_PABT, addr, base | 0x30000000u,
              M_ABT, n);
    test_check_eq("modes: BKPT sets IFSR to a debug event", e_fsr & 0x40f, 0x002);

    n = n_exc;
    skip_bytes = 4;
    __asm__ volatile("msr APSR_nzcvq, %[f]\n\tadr %[a], 1f\n1:\tldmia %[b], {r2, r3}"
                     : [a] "=&r"(addr)
                     : [b] "r"(0x40000002u), [f] "r"(0x90000000u)
                     : "r2", "r3", "cc", "memory");
    check_exc("modes: data abort (A32): ABT mode, LR", EXC_DABT, addr, base | 0x90000000u,
              M_ABT, n);
    test_check_eq("modes: data abort DFSR alignment", e_fsr & 0x40f, 0x001);

    /* From System mode: the SPSR says so, and the handler returns there. */
    n = n_exc;
    skip_bytes = 4;
    uint32_t mode_after;
    __asm__ volatile("cps #0x1f\n\tadr %[a], 1f\n1:\tudf #1\n\tmrs %[m], cpsr\n\tcps #0x13"
                     : [a] "=&r"(addr), [m] "=&r"(mode_after)
                     :
                     : "cc", "memory");
    check_exc("modes: UDF from System mode", EXC_UNDEF, addr,
              (base & ~0x1fu) | M_SYS | (e_spsr & PSR_NZCV), M_UND, n);
    test_check_eq("modes: return to System mode", mode_after & 0x1f, M_SYS);

    /* From User mode: CPS and MSR cannot leave it; SVC can (the hook returns to SVC mode). */
    n = n_exc;
    uint32_t m1, m2, m3;
    action = TO_SVC;
    __asm__ volatile("cps #0x10\n\tmrs %[m1], cpsr\n\tcps #0x13\n\tmrs %[m2], cpsr\n\t"
                     "msr cpsr_c, %[svc]\n\tmrs %[m3], cpsr\n\tsvc #0\n1:\tadr %[a], 1b"
                     : [a] "=&r"(addr), [m1] "=&r"(m1), [m2] "=&r"(m2), [m3] "=&r"(m3)
                     : [svc] "r"(base & 0xffu)
                     : "cc", "lr", "memory");
    action = SKIP;
    test_check((m1 & 0x1f) == M_USR && (m2 & 0x1f) == M_USR && (m3 & 0x1f) == M_USR,
               "modes: CPS and MSR CPSR_c do nothing in User mode", "0x%x 0x%x 0x%x", m1, m2, m3);
    check_exc("modes: SVC from User mode", EXC_SVC, addr,
              (base & ~0x1fu) | M_USR | (e_spsr & PSR_NZCV), M_SVC, n);
    test_check_eq("modes: back in SVC mode", cpsr() & 0x1f, M_SVC);
}

/* Thumb code raising exceptions; each returns the address the exception is about. */
__attribute__((target("thumb"), noinline)) static uint32_t thumb_udf16(void)
{
    uint32_t a;
    __asm__ volatile("adr %0, 1f\n\t.balign 4\n1:\tudf #3\n\tnop" : "=l"(a) : : "memory");
    return a;
}
__attribute__((target("thumb"), noinline)) static uint32_t thumb_udf32(void)
{
    uint32_t a;
    __asm__ volatile("adr %0, 1f\n\t.balign 4\n1:\tudf.w #3" : "=l"(a) : : "memory");
    return a;
}
__attribute__((target("thumb"), noinline)) static uint32_t thumb_svc(void)
{
    uint32_t a;
    __asm__ volatile("svc #5\n\t.balign 4\n1:\tadr %0, 1b" : "=l"(a) : : "lr", "memory");
    return a;
}
__attribute__((target("thumb"), noinline)) static uint32_t thumb_bkpt(void)
{
    uint32_t a;
    __asm__ volatile("adr %0, 1f\n\t.balign 4\n1:\tbkpt #1\n\tnop" : "=l"(a) : : "memory");
    return a;
}
/* ITTT NE; the second instruction (a 16-bit LDR) takes an alignment fault; the handler fixes r3
 * and retries it, so the rest of the block must still run under the saved IT state. */
__attribute__((target("thumb"), noinline)) static uint32_t thumb_it_abort(uint32_t *res)
{
    uint32_t a;
    __asm__ volatile("mov r3, %[p]\n\tadds r3, #2\n\tmov r1, #0\n\tadr %[a], 1f\n\t"
                     "movs r2, #1\n\t" /* Z=0 */
                     ".balign 4\n\tittt ne\n\tmovne r1, #1\n1:\tldrne r2, [r3]\n\t"
                     "orrne r1, r1, #2\n\tstr r1, [%[p]]"
                     : [a] "=&l"(a)
                     : [p] "l"(res)
                     : "r1", "r2", "r3", "cc", "memory");
    return a;
}

static void entry_thumb(void)
{
    uint32_t n, addr, base = (cpsr() & ~PSR_NZCV) | PSR_T;
    action = SKIP;

    n = n_exc;
    skip_bytes = 2;
    addr = thumb_udf16();
    check_exc("modes: UDF (T16): LR = address + 2", EXC_UNDEF, addr, base | (e_spsr & PSR_NZCV),
              M_UND, n);
    n = n_exc;
    skip_bytes = 4;
    addr = thumb_udf32();
    check_exc("modes: UDF.W (T32): LR = address + 2", EXC_UNDEF, addr,
              base | (e_spsr & PSR_NZCV), M_UND, n);
    n = n_exc;
    skip_bytes = 0;
    addr = thumb_svc();
    check_exc("modes: SVC (T16): LR = next instruction", EXC_SVC, addr,
              base | (e_spsr & PSR_NZCV), M_SVC, n);
    n = n_exc;
    skip_bytes = 2;
    addr = thumb_bkpt();
    check_exc("modes: BKPT (T16): LR = address + 4", EXC_PABT, addr, base | (e_spsr & PSR_NZCV),
              M_ABT, n);

    static uint32_t res[2] __attribute__((aligned(8)));
    sctlr_write(sctlr_read() | 2); /* SCTLR.A: the LDR below must fault */
    n = n_exc;
    action = FIX_R3;
    addr = thumb_it_abort(res);
    action = SKIP;
    sctlr_write(sctlr_read() & ~2u);
    /* ITTT NE: ITSTATE 0x1e at the first instruction, 0x1c at the second (ITAdvance). */
    check_exc("modes: data abort (T16) in an IT block: LR = address + 8", EXC_DABT, addr,
              (base & ~PSR_IT) | (e_spsr & PSR_NZCV) | (0x1cu >> 2) << 10, M_ABT, n);
    test_check_eq("modes: the IT block resumes after the abort", res[0], 3);
}

/* ---- vector tables of our own: Thumb entry (TE=1), VBAR relocation, return methods ---------- */

extern char thumb_vectors[], arm_vectors2[];
static volatile uint32_t tv_hit[3]; /* Thumb SVC handler: 1, SPSR, LR */

__asm__("   .syntax unified\n"
        "   .text\n"
        "   .balign 32\n"
        "   .thumb\n"
        "   .global thumb_vectors\n"
        "thumb_vectors:\n"
        "   .rept 2\n"
        "   b.w .\n"
        "   .endr\n"
        "   b.w thumb_svc_handler\n" /* +0x08 */
        "   .rept 5\n"
        "   b.w .\n"
        "   .endr\n"
        "   .thumb_func\n"
        "thumb_svc_handler:\n"
        "   ldr r1, =tv_hit\n"
        "   movs r2, #1\n"
        "   str r2, [r1]\n"
        "   mrs r2, spsr\n"
        "   str r2, [r1, #4]\n"
        "   mov r2, lr\n"
        "   str r2, [r1, #8]\n"
        "   movs pc, lr\n"      /* SUBS pc, lr, #0 in Thumb */
        "   .ltorg\n"
        "   .arm\n"
        "   .balign 32\n"
        "   .global arm_vectors2\n"
        "arm_vectors2:\n"
        "   .rept 2\n"
        "   b .\n"
        "   .endr\n"
        "   b svc2\n"
        "   .rept 5\n"
        "   b .\n"
        "   .endr\n"
        /* r0 selects how to return; the handler flips SPSR.N so that the caller can tell that
         * CPSR came from SPSR, and sets r1 = 0x5c. RFE: r2, r3 = the words SRS stored. */
        "svc2:\n"
        "   mrs r3, spsr\n"
        "   eor r3, r3, #0x80000000\n"
        "   msr spsr_f, r3\n"
        "   mov r1, #0x5c\n"
        "   cmp r0, #1\n"
        "   beq 1f\n"
        "   cmp r0, #2\n"
        "   beq 2f\n"
        "   cmp r0, #3\n"
        "   beq 3f\n"
        "   stmfd sp!, {r0, lr}\n"
        "   ldmfd sp!, {r0, pc}^\n"
        "1: movs pc, lr\n"
        "2: subs pc, lr, #0\n"
        "3: srsdb sp!, #0x13\n"
        "   ldr r2, [sp]\n"
        "   ldr r3, [sp, #4]\n"
        "   rfeia sp!\n");

static inline void vbar_write(uint32_t v)
{
    __asm__ volatile("mcr p15, 0, %0, c12, c0, 0\n\tisb" : : "r"(v) : "memory");
}
static inline uint32_t vbar_read(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c12, c0, 0" : "=r"(v));
    return v;
}

static void own_vectors(void)
{
    uint32_t old_vbar = vbar_read();

    /* VBAR[4:0] are RES0. */
    vbar_write((uint32_t)(uintptr_t)arm_vectors2 | 0x1f);
    test_check_eq("modes: VBAR low bits are RES0", vbar_read(), (uint32_t)(uintptr_t)arm_vectors2);

    static const char *const names[4] = {
        "modes: VBAR moved, return with LDM^", "modes: VBAR moved, return with MOVS pc, lr",
        "modes: VBAR moved, return with SUBS pc, lr, #0", "modes: VBAR moved, return with RFE",
    };
    uint32_t rfe_lr = 0, rfe_spsr = 0, rfe_ret = 0;
    for (uint32_t how = 0; how < 4; how++) {
        register uint32_t r0 __asm__("r0") = how;
        register uint32_t r1 __asm__("r1") = 0;
        register uint32_t r2 __asm__("r2") = 0;
        register uint32_t r3 __asm__("r3") = 0;
        uint32_t flags, ret;
        __asm__ volatile("msr APSR_nzcvq, %[f]\n\tsvc #0\n1:\tmrs %[fl], APSR\n\tadr %[ret], 1b"
                         : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), [fl] "=&r"(flags),
                           [ret] "=&r"(ret)
                         : [f] "r"(0x60000000u)
                         : "cc", "lr", "memory");
        uint32_t got1 = r1, got2 = r2, got3 = r3; /* before any call reuses r1-r3 */
        test_check(got1 == 0x5c && (flags & PSR_NZCV) == 0xe0000000u &&
                       (cpsr() & 0x1f) == M_SVC,
                   names[how], "handler ran: %u, flags 0x%x (expected 0xe0000000)",
                   got1 == 0x5c, flags);
        if (how == 3) {
            rfe_lr = got2;
            rfe_spsr = got3;
            rfe_ret = ret;
        }
    }
    test_check(rfe_lr == rfe_ret && (rfe_spsr & 0xf000001fu) == (0xe0000000u | M_SVC),
               "modes: SRS stores LR and SPSR", "0x%x 0x%x (return address 0x%x)", rfe_lr,
               rfe_spsr, rfe_ret);

    /* SCTLR.TE=1: exceptions are taken in Thumb state; the handler is Thumb code. */
    vbar_write((uint32_t)(uintptr_t)thumb_vectors);
    sctlr_write(sctlr_read() | (1u << 30));
    uint32_t after;
    __asm__ volatile("svc #0\n1:\tadr %0, 1b" : "=r"(after) : : "r1", "r2", "lr", "memory");
    sctlr_write(sctlr_read() & ~(1u << 30));
    vbar_write(old_vbar);
    test_check(tv_hit[0] == 1 && tv_hit[2] == after && (tv_hit[1] & PSR_T) == 0,
               "modes: SCTLR.TE=1 takes the SVC in Thumb state",
               "ran %u, LR 0x%x (0x%x), SPSR 0x%x", tv_hit[0], tv_hit[2], after, tv_hit[1]);
}

/* ---- IRQ masking -------------------------------------------------------------------------- */

static volatile uint32_t irq_count, irq_id, irq_pc;

static bool irq_hook(enum exc_kind kind, struct exc_frame *f)
{
    if (kind != EXC_IRQ) {
        return false;
    }
    uint32_t iar = *reg(GICC + 0x0c);
    irq_id = iar;
    irq_pc = f->pc;
    irq_count++;
    *reg(GICC + 0x10) = iar;
    return true;
}

static void irq_masking(void)
{
    set_exception_hook(irq_hook);
    *reg(GICD + 0x000) = 1;           /* GICD_CTLR */
    *reg(GICD + 0x100) = 1u << 5;     /* GICD_ISENABLER0: SGI 5 */
    *reg(GICC + 0x004) = 0xf0;        /* GICC_PMR */
    *reg(GICC + 0x000) = 1;           /* GICC_CTLR */
    dsb();
    *reg(GICD + 0xf00) = (2u << 24) | 5; /* GICD_SGIR: SGI 5 to this core only */
    dsb();
    for (volatile int i = 0; i < 10000; i++) {
    }
    uint32_t hppir = *reg(GICC + 0x18);
    test_check(irq_count == 0 && (hppir & 0x3ff) == 5,
               "modes: pending IRQ not taken while CPSR.I=1", "%u taken, HPPIR 0x%x", irq_count,
               hppir);
    uint32_t from, to;
    __asm__ volatile("adr %0, 1f\n\tcpsie i\n1:\tisb\n\tadr %1, 2f\n2:\tcpsid i"
                     : "=&r"(from), "=&r"(to)
                     :
                     : "memory");
    test_check(irq_count == 1 && (irq_id & 0x3ff) == 5 && irq_pc >= from && irq_pc <= to,
               "modes: IRQ taken once CPSR.I is cleared", "%u taken, IAR 0x%x, at 0x%x (0x%x-0x%x)",
               irq_count, irq_id, irq_pc, from, to);
    *reg(GICC + 0x000) = 0;
    *reg(GICD + 0x000) = 0;
    set_exception_hook(hook);
}

int main(void)
{
    __asm__ volatile("cpsie a" ::: "memory"); /* so that entry to abort modes must set A */
    banked();
    set_exception_hook(hook);
    entry_arm();
    entry_thumb();
    own_vectors();
    irq_masking();
    set_exception_hook(NULL);
    return 0;
}
