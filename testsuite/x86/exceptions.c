/*
 * Exceptions in long mode: #DE, #UD, #GP with its error codes (bad selectors, non-canonical
 * addresses, privileged instructions at CPL 3, a bad IRETQ), #NP, #SS, #BP through INT3 and
 * INT 3, INT n from CPL 3 against the gate's DPL (#GP(vector * 8 + 2)), #DB from TF, #DF through
 * a handler on an IST stack, IRETQ back to CPL 0 and CPL 3, and the stacks handlers run on.
 *
 * The checks follow the SDM where QEMU 7.2 does not (baremetal.exp expects these to fail under
 * QEMU): the error code of an IDT reference is vector * 8 + 2 in long mode too (QEMU pushes
 * vector * 16 + 2); a non-canonical address through SS is #SS(0), not #GP(0); WRMSR to an MSR
 * that does not exist is #GP(0) (QEMU ignores it).
 */
#include "test.h"

/* Faulting instructions, each at a global label so that the saved RIP can be compared. */
#define AT(label) ".globl " #label "\n" #label ":\n\t"
extern char de_insn[], de_idiv_insn[], ud2_insn[], ud_push_es_insn[], ud_lock_insn[], gp_sel_insn[],
    gp_tss_insn[], gp_ss_rpl_insn[], np_insn[], gp_canon_insn[], ss_insn[], gp_msr_insn[],
    bp_insn[], bp_imm_insn[], db_insn[], db_after[], iret_bad_insn[], ud_into_insn[];

static void guard_div(uint64_t divisor)
{
    __asm__ volatile(FAULT_GUARD_BEGIN "mov $7, %%eax\n\txor %%edx, %%edx\n\t" AT(
                         de_insn) "div %0\n\t" FAULT_GUARD_END
                     :
                     : "r"(divisor)
                     : "rax", "rdx", "r11", "memory", "cc");
}

static void test_de_ud(void)
{
    fault_clear();
    guard_div(0);
    test_check_eq("exc: DIV by zero raises #DE", last_fault.vector, 0);
    test_check_eq("exc: #DE RIP is the DIV", last_fault.rip, (uint64_t)de_insn);
    test_check_eq("exc: #DE pushes no error code", last_fault.error, 0);
    fault_clear();
    guard_div(3);
    test_check_eq("exc: DIV by 3 raises nothing", last_fault.count, 0);

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN
                     "mov $0x8000000000000000, %%rax\n\tcqo\n\tmov $-1, %%rcx\n\t" AT(
                         de_idiv_insn) "idiv %%rcx\n\t" FAULT_GUARD_END
                     :
                     :
                     : "rax", "rcx", "rdx", "r11", "memory", "cc");
    test_check("exc: IDIV INT64_MIN / -1 raises #DE at the IDIV",
               last_fault.vector == 0 && last_fault.rip == (uint64_t)de_idiv_insn);

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN AT(ud2_insn) "ud2\n\t" FAULT_GUARD_END
                     :
                     :
                     : "r11", "memory");
    test_check("exc: UD2 raises #UD at the UD2",
               last_fault.vector == 6 && last_fault.rip == (uint64_t)ud2_insn);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN AT(ud_push_es_insn) ".byte 0x06\n\t" FAULT_GUARD_END
                     :
                     :
                     : "r11", "memory");
    test_check("exc: PUSH ES (invalid in 64-bit mode) raises #UD",
               last_fault.vector == 6 && last_fault.rip == (uint64_t)ud_push_es_insn);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN AT(ud_into_insn) ".byte 0xce\n\t" FAULT_GUARD_END
                     :
                     :
                     : "r11", "memory");
    test_check("exc: INTO (invalid in 64-bit mode) raises #UD",
               last_fault.vector == 6 && last_fault.rip == (uint64_t)ud_into_insn);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN AT(ud_lock_insn) ".byte 0xf0, 0x01, 0xc0\n\t" /* lock add
                                                                                      %eax,%eax */
                     FAULT_GUARD_END
                     :
                     :
                     : "r11", "memory", "cc");
    test_check("exc: LOCK on a register destination raises #UD",
               last_fault.vector == 6 && last_fault.rip == (uint64_t)ud_lock_insn);
}

static void test_gp(void)
{
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN
                     "mov $0x1233, %%eax\n\t" AT(gp_sel_insn) "mov %%eax, %%ds\n\t" FAULT_GUARD_END
                     :
                     :
                     : "rax", "r11", "memory");
    test_check_eq("exc: MOV DS, selector past the GDT limit: #GP", last_fault.vector, 13);
    test_check_eq("exc: MOV DS past the GDT limit: error code is the selector without RPL",
                  last_fault.error, 0x1230);
    test_check_eq("exc: MOV DS past the GDT limit: RIP is the MOV", last_fault.rip,
                  (uint64_t)gp_sel_insn);

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN
                     "mov %0, %%eax\n\t" AT(gp_tss_insn) "mov %%eax, %%es\n\t" FAULT_GUARD_END
                     :
                     : "i"(SEL_TSS)
                     : "rax", "r11", "memory");
    test_check("exc: MOV ES, a TSS selector: #GP(selector)",
               last_fault.vector == 13 && last_fault.error == SEL_TSS &&
                   last_fault.rip == (uint64_t)gp_tss_insn);

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN
                     "mov %0, %%eax\n\t" AT(gp_ss_rpl_insn) "mov %%eax, %%ss\n\t" FAULT_GUARD_END
                     :
                     : "i"(SEL_DATA | 3)
                     : "rax", "r11", "memory");
    test_check("exc: MOV SS with RPL != CPL: #GP(selector)",
               last_fault.vector == 13 && last_fault.error == SEL_DATA &&
                   last_fault.rip == (uint64_t)gp_ss_rpl_insn);

    /* A data segment that is not present: #NP(selector). */
    gdt[GDT_FIRST_FREE] = 0x00cf12000000ffffull; /* as SEL_DATA, P = 0 */
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN
                     "mov %0, %%eax\n\t" AT(np_insn) "mov %%eax, %%fs\n\t" FAULT_GUARD_END
                     :
                     : "i"(GDT_FIRST_FREE * 8)
                     : "rax", "r11", "memory");
    test_check_eq("exc: MOV FS, a not-present segment: #NP", last_fault.vector, 11);
    test_check_eq("exc: MOV FS not present: error code is the selector", last_fault.error,
                  GDT_FIRST_FREE * 8);
    test_check_eq("exc: MOV FS not present: RIP is the MOV", last_fault.rip, (uint64_t)np_insn);
    __asm__ volatile("mov %0, %%fs" : : "r"(0) : "memory");

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "mov $0x0000800000000000, %%rax\n\t" AT(
                         gp_canon_insn) "mov (%%rax), %%rax\n\t" FAULT_GUARD_END
                     :
                     :
                     : "rax", "r11", "memory");
    test_check("exc: load from a non-canonical address: #GP(0)",
               last_fault.vector == 13 && last_fault.error == 0 &&
                   last_fault.rip == (uint64_t)gp_canon_insn);

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "mov $0xfffe800000000000, %%rbp\n\t" AT(
                         ss_insn) "mov 8(%%rbp), %%rax\n\t" FAULT_GUARD_END
                     :
                     :
                     : "rax", "rbp", "r11", "memory");
    test_check("exc: non-canonical address through RBP (SS): #SS(0)",
               last_fault.vector == 12 && last_fault.error == 0 &&
                   last_fault.rip == (uint64_t)ss_insn);

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN
                     "mov $0x12345678, %%ecx\n\txor %%eax, %%eax\n\t"
                     "xor %%edx, %%edx\n\t" AT(gp_msr_insn) "wrmsr\n\t" FAULT_GUARD_END
                     :
                     :
                     : "rax", "rcx", "rdx", "r11", "memory");
    test_check("exc: WRMSR to an MSR that does not exist: #GP(0)",
               last_fault.vector == 13 && last_fault.error == 0 &&
                   last_fault.rip == (uint64_t)gp_msr_insn);

    /* IRETQ to CPL 3 through a DPL 0 code segment (selector RPL 3): #GP(selector). */
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN
                     "mov %%rsp, %%rax\n\t"
                     "pushq %0\n\tpushq %%rax\n\tpushfq\n\tpushq %1\n\tlea 9f(%%rip), %%rdx\n\t"
                     "pushq %%rdx\n\t" AT(iret_bad_insn) "iretq\n\t" FAULT_GUARD_END
                                                         "mov %%rax, %%rsp\n\t"
                     :
                     : "i"(SEL_UDATA | 3), "i"(SEL_CODE64 | 3)
                     : "rax", "rdx", "r11", "memory");
    __asm__ volatile("" ::: "memory");
    test_check("exc: IRETQ to a DPL 0 code segment with RPL 3: #GP(selector)",
               last_fault.vector == 13 && last_fault.error == SEL_CODE64 &&
                   last_fault.rip == (uint64_t)iret_bad_insn);
}

/* ---- #BP, #DB, IRETQ to CPL 0 ---------------------------------------------------------------- */

static struct exc_frame seen;
static uint64_t seen_frame_addr;
static int hook_calls;

static bool hook_bp_kernel(struct exc_frame *f)
{
    if (f->vector != 3 && f->vector != 1) {
        return false;
    }
    hook_calls++;
    seen = *f;
    seen_frame_addr = (uint64_t)f;
    f->rax = 0xfeedface;    /* IRETQ must give it back */
    f->rflags &= ~0x100ull; /* TF off */
    f->rflags |= 0x400;     /* DF on: IRETQ restores RFLAGS as the frame says */
    return true;
}

static void test_bp_db(void)
{
    set_exception_hook(hook_bp_kernel);
    uint64_t rax = 0, rsp_before, rsp_after, rflags;
    __asm__ volatile("mov %%rsp, %1\n\t" AT(bp_insn) "int3\n\t"
                                                     "mov %%rsp, %2\n\tpushfq\n\tpopq %3\n\tcld"
                     : "+a"(rax), "=&r"(rsp_before), "=&r"(rsp_after), "=&r"(rflags)
                     :
                     : "memory", "cc");
    test_check_eq("exc: INT3 reaches the #BP handler", seen.vector, 3);
    test_check_eq("exc: #BP RIP is after the INT3", seen.rip, (uint64_t)bp_insn + 1);
    test_check_eq("exc: #BP frame CS", seen.cs, SEL_CODE64);
    test_check_eq("exc: #BP frame RSP is the interrupted RSP", seen.rsp, rsp_before);
    test_check_eq("exc: IRETQ to CPL 0 returns the handler's RAX", rax, 0xfeedface);
    test_check_eq("exc: IRETQ to CPL 0 restores RSP", rsp_after, rsp_before);
    test_check("exc: IRETQ to CPL 0 loads RFLAGS from the frame (DF)", (rflags & 0x400) != 0);

    rax = 0;
    __asm__ volatile(AT(bp_imm_insn) ".byte 0xcd, 0x03\n\tcld" : "+a"(rax) : : "memory", "cc");
    test_check("exc: INT 3 (CD 03) reaches #BP, RIP after it",
               seen.vector == 3 && seen.rip == (uint64_t)bp_imm_insn + 2 && rax == 0xfeedface);

    /* TF: the trap comes after the instruction following the POPFQ that set it. */
    seen.vector = 99;
    __asm__ volatile(
        "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t" AT(db_insn) "nop\n\t" AT(db_after) "nop\n\tcld"
        :
        :
        : "rax", "memory", "cc");
    test_check_eq("exc: TF set by POPFQ: #DB", seen.vector, 1);
    test_check_eq("exc: TF #DB comes after the next instruction", seen.rip, (uint64_t)db_after);
    set_exception_hook(NULL);
}

/* ---- #DF on an IST stack ------------------------------------------------------------------ */

static volatile uint64_t df_resume;

static bool hook_df(struct exc_frame *f)
{
    if (f->vector != 8) {
        return false;
    }
    hook_calls++;
    seen = *f;
    seen_frame_addr = (uint64_t)f;
    f->rip = df_resume;
    return true;
}

static void test_df(void)
{
    /* #DE with its gate not present: the #NP from the IDT and the #DE are both contributory,
     * so the CPU raises #DF (error code 0), whose gate takes IST1. */
    idt_set_vector(8, 0, 1);
    uint64_t saved0 = 0;
    set_exception_hook(hook_df);
    hook_calls = 0;
    uint64_t rsp_before;
    __asm__ volatile("sidt -16(%%rsp)\n\t"
                     "mov -14(%%rsp), %%rax\n\t" /* IDT base */
                     "mov (%%rax), %%rdx\n\t"
                     "mov %%rdx, %1\n\t"
                     "btr $47, %%rdx\n\t" /* gate 0: P = 0 */
                     "mov %%rdx, (%%rax)\n\t"
                     "lea 1f(%%rip), %%rdx\n\t"
                     "mov %%rdx, df_resume(%%rip)\n\t"
                     "mov %%rsp, %0\n\t"
                     "xor %%ecx, %%ecx\n\t"
                     "div %%rcx\n\t"
                     "1:\n\t"
                     "mov %1, %%rdx\n\t"
                     "mov %%rdx, (%%rax)\n\t"
                     : "=&r"(rsp_before), "+m"(saved0)
                     :
                     : "rax", "rcx", "rdx", "memory", "cc");
    set_exception_hook(NULL);
    idt_set_vector(8, 0, 0);
    test_check_eq("exc: #DE through a not-present gate becomes #DF", seen.vector, 8);
    test_check_eq("exc: #DF error code", seen.error, 0);
    test_check_eq("exc: #DF handled once", hook_calls, 1);
    test_check_eq("exc: #DF handler on the IST1 stack (frame top)",
                  seen_frame_addr + sizeof(struct exc_frame), tss_ist[1]);
    test_check_eq("exc: #DF frame RSP is the interrupted RSP", seen.rsp, rsp_before);
    test_check_eq("exc: #DF frame CS", seen.cs, SEL_CODE64);

    /* Another IST: #BP on IST5. */
    idt_set_vector(3, 0, 5);
    set_exception_hook(hook_bp_kernel);
    __asm__ volatile("int3\n\tcld" : : : "rax", "memory", "cc");
    set_exception_hook(NULL);
    idt_set_vector(3, 0, 0);
    test_check_eq("exc: #BP through an IST5 gate runs on IST5",
                  seen_frame_addr + sizeof(struct exc_frame), tss_ist[5]);
}

/* ---- CPL 3 ------------------------------------------------------------------------------- */

static void user_int_0x40(uint64_t arg)
{
    (void)arg;
    __asm__ volatile("int $0x40");
    user_exit(1);
}

static void user_int3(uint64_t arg)
{
    (void)arg;
    __asm__ volatile("int3");
    user_exit(1);
}

static void user_privileged(uint64_t which)
{
    switch (which) {
    case 0:
        __asm__ volatile("hlt");
        break;
    case 1:
        __asm__ volatile("mov %%cr0, %%rax" : : : "rax");
        break;
    case 2:
        __asm__ volatile("cli");
        break;
    case 3:
        __asm__ volatile("outb %%al, $0x80" : : "a"(0));
        break;
    default:
        __asm__ volatile("ud2");
        break;
    }
    user_exit(1);
}

/* Takes a #BP from CPL 3 and IRETQs back to it; the user code then reports what it sees. */
static bool hook_bp_user(struct exc_frame *f)
{
    if (f->vector != 3 || (f->cs & 3) != 3) {
        return false;
    }
    hook_calls++;
    seen = *f;
    seen_frame_addr = (uint64_t)f;
    f->rbx = 0x1234567;
    return true;
}

static void user_int3_resume(uint64_t arg)
{
    uint64_t rbx = arg, cs, ss, rsp_before, rsp_after;
    __asm__ volatile("mov %%rsp, %2\n\tint3\n\tmov %%rsp, %3\n\tmov %%cs, %0\n\tmov %%ss, %1"
                     : "=r"(cs), "=r"(ss), "=&r"(rsp_before), "=&r"(rsp_after), "+b"(rbx)
                     :
                     : "memory");
    bool ok = rbx == 0x1234567 && cs == (SEL_UCODE64 | 3) && ss == (SEL_UDATA | 3) &&
              rsp_before == rsp_after;
    user_exit(ok ? 77 : 78);
}

static void test_user(void)
{
    /* INT n from CPL 3 through a DPL 0 gate: #GP(n * 8 + 2), IDT bit set. */
    fault_clear();
    int r = run_user(user_int_0x40, USER_STACK_TOP, 0);
    test_check_eq("exc: INT 0x40 from CPL 3, DPL 0 gate: #GP", last_fault.vector, 13);
    test_check_eq("exc: INT 0x40 from CPL 3, DPL 0 gate: error code 0x40 * 8 + 2", last_fault.error,
                  0x40 * 8 + 2);
    test_check_eq("exc: INT 0x40 from CPL 3, DPL 0 gate: taken at CPL 3", last_fault.cs,
                  SEL_UCODE64 | 3);
    test_check_eq("exc: INT 0x40 from CPL 3, DPL 0 gate: run_user ends with it",
                  (uint64_t)(int64_t)r, (uint64_t)-1);

    fault_clear();
    run_user(user_int3, USER_STACK_TOP, 0);
    test_check("exc: INT3 from CPL 3, DPL 0 gate: #GP(3 * 8 + 2)",
               last_fault.vector == 13 && last_fault.error == 3 * 8 + 2);

    idt_set_vector(0x40, 3, 0);
    fault_clear();
    hook_calls = 0;
    set_exception_hook(NULL);
    r = run_user(user_int_0x40, USER_STACK_TOP, 0);
    test_check("exc: INT 0x40 from CPL 3, DPL 3 gate: delivered as vector 0x40",
               last_fault.vector == 0x40 && last_fault.error == 0 && r == -1);
    idt_set_vector(0x40, 0, 0);

    static const char *const names[] = {
        "exc: HLT at CPL 3: #GP(0)",
        "exc: MOV from CR0 at CPL 3: #GP(0)",
        "exc: CLI at CPL 3, IOPL 0: #GP(0)",
        "exc: OUT at CPL 3, IOPL 0, no I/O bitmap: #GP(0)",
    };
    for (uint64_t i = 0; i < 4; i++) {
        fault_clear();
        run_user(user_privileged, USER_STACK_TOP, i);
        test_check(names[i], last_fault.vector == 13 && last_fault.error == 0 &&
                                 last_fault.cs == (SEL_UCODE64 | 3));
    }

    /* #BP at CPL 3 through a DPL 3 gate, IRETQ back to CPL 3. */
    idt_set_vector(3, 3, 0);
    set_exception_hook(hook_bp_user);
    hook_calls = 0;
    r = run_user(user_int3_resume, USER_STACK_TOP, 0);
    set_exception_hook(NULL);
    idt_set_vector(3, 0, 0);
    test_check_eq("exc: #BP from CPL 3 handled once", hook_calls, 1);
    test_check_eq("exc: #BP from CPL 3: frame CS", seen.cs, SEL_UCODE64 | 3);
    test_check_eq("exc: #BP from CPL 3: frame SS", seen.ss, SEL_UDATA | 3);
    test_check("exc: #BP from CPL 3: frame RSP on the user stack",
               seen.rsp < USER_STACK_TOP && seen.rsp > USER_STACK_TOP - sizeof(user_stack));
    test_check("exc: #BP from CPL 3: handler on the TSS RSP0 stack",
               seen_frame_addr + sizeof(struct exc_frame) == tss_rsp0());
    test_check_eq("exc: IRETQ back to CPL 3: RBX, CS, SS and RSP as the user expects", r, 77);
}

int main(void)
{
    test_de_ud();
    test_gp();
    test_bp_db();
    test_df();
    test_user();
    return 0;
}
