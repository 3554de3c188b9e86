/*
 * The native side of the x86_64 differential tester: runs generated sequences on the host CPU,
 * the oracle, from exactly the state the emulator gets.
 *
 * A batch runs in a child process (one fork per batch) so that whatever a sequence does to
 * the process cannot hurt the driver, and so that the fixed guest addresses are free: the
 * child maps the code pages at DT_CODE_BASE and the data pages at DT_DATA_BASE with
 * MAP_FIXED_NOREPLACE and checks that the guard pages around the data are unmapped.
 *
 * dt_native_enter (assembly below) saves the harness' callee-saved registers, stack pointer,
 * x87/SSE state and GS base, loads the guest's GS base (WRGSBASE, where the kernel allows it;
 * glibc uses FS, never GS), FXSAVE image (FXRSTOR64), RFLAGS (POPFQ) and all 16 GPRs from
 * dt_in, and jumps to the sequence. The sequence is followed by an absolute
 * indirect jump to dt_native_exit, which stores the GPRs, RFLAGS (PUSHFQ on the harness
 * stack) and the FXSAVE image into dt_out and returns 0. A fault raises a signal whose
 * handler (on its own alternate stack) reads the state before the faulting instruction, the
 * vector (REG_TRAPNO), the error code (REG_ERR) and CR2 (si_addr) from the signal context,
 * and resumes at dt_native_fault_resume on the harness stack, which returns 1. Only the
 * generated code runs between the two: no C code ever sees the guest's DF or FPU state.
 *
 * 32- and 16-bit code (compatibility mode) is entered with IRETQ instead of the final jump:
 * to Linux's 32-bit user code segment 0x23 with the guest's EIP, ESP and RFLAGS, or to a
 * 16-bit LDT code segment (modify_ldt(2)) with SS, DS and ES a 16-bit LDT data segment. The
 * 16-bit entry goes through a trampoline in low memory (DT_TRAMP_BASE) that loads ESP with a
 * MOV, because an IRET to a 16-bit stack segment loads only SP and leaves ESP's upper half as
 * it was. Such a sequence ends with a far jump to selector 0x33 (64-bit code) at the low
 * trampoline, which jumps on to dt_native_exit; the exit and the fault path restore the
 * harness' DS, ES and SS. The signal handler makes its return land in 64-bit code (CS 0x33)
 * whatever code segment faulted.
 */
/* difftest.c reports UNSUPPORTED on other hosts; nothing here builds there. */
#if defined(__x86_64__) && defined(__linux__)

#include <asm/hwcap2.h>
#include <asm/ldt.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "difftest-x86.h"

/* The assembly addresses dt_in and dt_out with these offsets. */
_Static_assert(offsetof(struct x86_user_state, gpr) == 0, "gpr offset");
_Static_assert(offsetof(struct x86_user_state, rip) == 128, "rip offset");
_Static_assert(offsetof(struct x86_user_state, rflags) == 136, "rflags offset");
_Static_assert(offsetof(struct x86_user_state, gs_base) == 152, "gs_base offset");
_Static_assert(offsetof(struct x86_user_state, fxsave) == 160, "fxsave offset");

struct x86_user_state dt_in, dt_out;
uint64_t dt_host_rsp, dt_host_gs;
uint8_t dt_use_gsbase; /* WRGSBASE works: the guest's GS base is loaded */
_Alignas(16) uint8_t dt_host_fx[512];
uint16_t dt_host_ds, dt_host_es, dt_host_ss;
/* Compatibility mode: nonzero, and the IRET frame's CS, SS and RIP and the DS/ES selector. */
uint8_t dt_compat;
uint64_t dt_compat_cs, dt_compat_ss, dt_compat_rip, dt_compat_ds;

int dt_native_enter(void);
void dt_native_exit(void);
void dt_native_fault_resume(void);

/* Every general register but RSP from dt_in (struct dt_regs order), for both entries below. */
#define DT_LOAD_GPRS                  \
    "    mov dt_in+0(%rip), %rax\n"   \
    "    mov dt_in+8(%rip), %rcx\n"   \
    "    mov dt_in+16(%rip), %rdx\n"  \
    "    mov dt_in+24(%rip), %rbx\n"  \
    "    mov dt_in+40(%rip), %rbp\n"  \
    "    mov dt_in+48(%rip), %rsi\n"  \
    "    mov dt_in+56(%rip), %rdi\n"  \
    "    mov dt_in+64(%rip), %r8\n"   \
    "    mov dt_in+72(%rip), %r9\n"   \
    "    mov dt_in+80(%rip), %r10\n"  \
    "    mov dt_in+88(%rip), %r11\n"  \
    "    mov dt_in+96(%rip), %r12\n"  \
    "    mov dt_in+104(%rip), %r13\n" \
    "    mov dt_in+112(%rip), %r14\n" \
    "    mov dt_in+120(%rip), %r15\n"

__asm__(".text\n"
        ".globl dt_native_enter\n"
        ".type dt_native_enter, @function\n"
        "dt_native_enter:\n"
        "    push %rbx\n"
        "    push %rbp\n"
        "    push %r12\n"
        "    push %r13\n"
        "    push %r14\n"
        "    push %r15\n"
        "    mov %rsp, dt_host_rsp(%rip)\n"
        "    mov %ds, dt_host_ds(%rip)\n"
        "    mov %es, dt_host_es(%rip)\n"
        "    mov %ss, dt_host_ss(%rip)\n"
        "    fxsave64 dt_host_fx(%rip)\n"
        "    cmpb $0, dt_use_gsbase(%rip)\n"
        "    je 1f\n"
        "    rdgsbase %rax\n"
        "    mov %rax, dt_host_gs(%rip)\n"
        "    mov dt_in+152(%rip), %rax\n"
        "    wrgsbase %rax\n"
        "1:  fxrstor64 dt_in+160(%rip)\n"
        "    cmpb $0, dt_compat(%rip)\n"
        "    jne 3f\n"
        "    pushq dt_in+136(%rip)\n"
        "    popfq\n" DT_LOAD_GPRS "    mov dt_in+32(%rip), %rsp\n"
        "    jmp *dt_in+128(%rip)\n"
        /* compatibility mode: IRETQ to CS:RIP with SS:RSP and RFLAGS, DS and ES loaded */
        "3:  mov dt_compat_ds(%rip), %rax\n"
        "    mov %eax, %ds\n"
        "    mov %eax, %es\n"
        "    pushq dt_compat_ss(%rip)\n"
        "    pushq dt_in+32(%rip)\n"
        "    pushq dt_in+136(%rip)\n"
        "    pushq dt_compat_cs(%rip)\n"
        "    pushq dt_compat_rip(%rip)\n" DT_LOAD_GPRS "    iretq\n"
        ".size dt_native_enter, .-dt_native_enter\n"
        ".globl dt_native_exit\n"
        ".type dt_native_exit, @function\n"
        "dt_native_exit:\n"
        "    mov %rax, dt_out+0(%rip)\n"
        "    mov %rcx, dt_out+8(%rip)\n"
        "    mov %rdx, dt_out+16(%rip)\n"
        "    mov %rbx, dt_out+24(%rip)\n"
        "    mov %rsp, dt_out+32(%rip)\n"
        "    mov %rbp, dt_out+40(%rip)\n"
        "    mov %rsi, dt_out+48(%rip)\n"
        "    mov %rdi, dt_out+56(%rip)\n"
        "    mov %r8, dt_out+64(%rip)\n"
        "    mov %r9, dt_out+72(%rip)\n"
        "    mov %r10, dt_out+80(%rip)\n"
        "    mov %r11, dt_out+88(%rip)\n"
        "    mov %r12, dt_out+96(%rip)\n"
        "    mov %r13, dt_out+104(%rip)\n"
        "    mov %r14, dt_out+112(%rip)\n"
        "    mov %r15, dt_out+120(%rip)\n"
        "    mov dt_host_rsp(%rip), %rsp\n"
        "    pushfq\n"
        "    popq dt_out+136(%rip)\n"
        "    fxsave64 dt_out+160(%rip)\n"
        "    xor %eax, %eax\n"
        "    jmp 1f\n"
        ".globl dt_native_fault_resume\n"
        "dt_native_fault_resume:\n"
        "    mov $1, %eax\n"
        "1:  mov dt_host_ss(%rip), %ss\n"
        "    mov dt_host_ds(%rip), %ds\n"
        "    mov dt_host_es(%rip), %es\n"
        "    cmpb $0, dt_use_gsbase(%rip)\n"
        "    je 2f\n"
        "    mov dt_host_gs(%rip), %rdx\n"
        "    wrgsbase %rdx\n"
        "2:  fxrstor64 dt_host_fx(%rip)\n"
        "    cld\n"
        "    pop %r15\n"
        "    pop %r14\n"
        "    pop %r13\n"
        "    pop %r12\n"
        "    pop %rbp\n"
        "    pop %rbx\n"
        "    ret\n"
        ".size dt_native_exit, .-dt_native_exit\n");

static volatile sig_atomic_t running;
/* The code segment the running sequence executes in, and that segment's base. */
static uint16_t running_cs;
static uint64_t running_cs_base;
static struct {
    unsigned vector;
    uint32_t error_code;
    uint64_t cr2;
} fault;

static void say(const char *msg)
{
    ssize_t unused = write(2, msg, strlen(msg));
    (void)unused;
}

static void on_fault(int sig, siginfo_t *info, void *context)
{
    static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                  REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                  REG_R12, REG_R13, REG_R14, REG_R15};
    ucontext_t *uc = context;
    greg_t *regs = uc->uc_mcontext.gregs;
    uint64_t rip = (uint64_t)regs[REG_RIP];
    uint64_t csgsfs = (uint64_t)regs[REG_CSGSFS];
    uint64_t linear = rip + running_cs_base;

    if (!running || (uint16_t)csgsfs != running_cs || linear < DT_CODE_BASE ||
        linear >= DT_CODE_BASE + DT_CODE_SIZE) {
        /* The harness itself faulted: let the default action end the child, which the
         * parent reports. */
        say("x86-difftest: native child: fault outside the generated code\n");
        signal(sig, SIG_DFL);
        return;
    }
    for (int i = 0; i < 16; i++) {
        dt_out.gpr[i] = (uint64_t)regs[order[i]];
    }
    dt_out.rip = rip;
    dt_out.rflags = (uint64_t)regs[REG_EFL];
    memcpy(dt_out.fxsave, uc->uc_mcontext.fpregs, sizeof(dt_out.fxsave));
    fault.vector = (unsigned)regs[REG_TRAPNO];
    fault.error_code = (uint32_t)regs[REG_ERR];
    fault.cr2 = (sig == SIGSEGV || sig == SIGBUS) ? (uint64_t)info->si_addr : 0;
    /* Resume on the harness stack with the harness' flags. */
    regs[REG_RIP] = (greg_t)(uintptr_t)dt_native_fault_resume;
    regs[REG_RSP] = (greg_t)dt_host_rsp;
    regs[REG_EFL] &= ~(greg_t)(0x100 | 0x400 | 0x40000); /* TF, DF, AC */
    /* Return to 64-bit code (CS 0x33) on the harness' SS: the CSGSFS word holds CS, GS, FS
     * and SS, 16 bits each. */
    regs[REG_CSGSFS] =
        (greg_t)((csgsfs & 0x0000ffffffff0000ull) | 0x33 | (uint64_t)dt_host_ss << 48);
}

static void child_fail(const char *what)
{
    fprintf(stderr, "x86-difftest: native child: %s: %s\n", what, strerror(errno));
    _exit(3);
}

/* Maps [addr, addr + size) exactly there, or fails the child. */
static void *map_fixed(uint64_t addr, size_t size, int prot, const char *what)
{
    void *p = mmap((void *)(uintptr_t)addr, size, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
        child_fail(what);
    }
    return p;
}

/* The guard page must be unmapped: map it (which fails if anything is there) and unmap. */
static void check_unmapped(uint64_t addr)
{
    munmap(map_fixed(addr, DT_PAGE, PROT_NONE, "a guard page is in use"), DT_PAGE);
}

/* The LDT descriptors of 16-bit code (the three DT_SEL_*16 selectors); false if the kernel
 * refuses them (modify_ldt(2) is optional). */
static bool install_ldt(void)
{
    for (unsigned i = 0; i < DT_LDT_ENTRIES; i++) {
        struct user_desc d;
        memset(&d, 0, sizeof(d));
        d.entry_number = i;
        d.base_addr = dt_ldt[i].base;
        d.limit = dt_ldt[i].limit;
        d.seg_32bit = 0;
        d.contents = dt_ldt[i].code ? MODIFY_LDT_CONTENTS_CODE : MODIFY_LDT_CONTENTS_DATA;
        d.read_exec_only = 0; /* code: execute/read (the exit's far pointer is read via CS) */
        d.useable = 1;
        if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)) != 0) {
            return false;
        }
    }
    return true;
}

bool dt_native_mode_supported(enum dt_mode mode, char *why, size_t cap)
{
    if (mode != DT_MODE_16) {
        return true;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, cap, "fork: %s", strerror(errno));
        return false;
    }
    if (pid == 0) {
        _exit(install_ldt() ? 0 : 1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(why, cap, "waitpid: %s", strerror(errno));
            return false;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, cap,
                 "the kernel refuses LDT code segments (modify_ldt(2)): 16-bit code "
                 "cannot run on the host");
        return false;
    }
    return true;
}

static bool have_ldt;

/* The trampoline page (DT_TRAMP_BASE): at 0, 64-bit code that jumps on to dt_native_exit (a
 * compatibility-mode sequence's far jump lands there); at TRAMP16_ENTRY, 16-bit code (run in
 * DT_SEL_TRAMP16, based at the page) that loads ESP from TRAMP16_ESP and jumps far to the
 * sequence through the m16:32 pointer at TRAMP16_TARGET. */
enum { TRAMP16_ENTRY = 0x40, TRAMP16_ESP = 0x80, TRAMP16_TARGET = 0x84 };

static void setup_trampolines(void)
{
    uint8_t *t = map_fixed(DT_TRAMP_BASE, DT_PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                           "the trampoline page");
    uint64_t exit_addr = (uint64_t)(uintptr_t)dt_native_exit;
    memset(t, 0xcc, DT_PAGE);
    static const uint8_t jmp64[6] = {0xff, 0x25, 0, 0, 0, 0}; /* jmp *0(%rip) */
    memcpy(t, jmp64, sizeof(jmp64));
    memcpy(t + sizeof(jmp64), &exit_addr, sizeof(exit_addr));
    static const uint8_t entry16[12] = {
        0x66, 0x2e, 0x8b, 0x26, TRAMP16_ESP,    0x00, /* mov esp, cs:[TRAMP16_ESP] */
        0x66, 0x2e, 0xff, 0x2e, TRAMP16_TARGET, 0x00  /* jmp far m16:32 cs:[TRAMP16_TARGET] */
    };
    memcpy(t + TRAMP16_ENTRY, entry16, sizeof(entry16));
    have_ldt = install_ldt();
}

static void child_setup(void)
{
    static uint8_t altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    struct sigaction sa;

    if (sigaltstack(&ss, NULL) != 0) {
        child_fail("sigaltstack");
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (sigaction(sigs[i], &sa, NULL) != 0) {
            child_fail("sigaction");
        }
    }
    dt_use_gsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
    map_fixed(DT_CODE_BASE, DT_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC, "code pages");
    map_fixed(DT_DATA_BASE, DT_DATA_SIZE, PROT_READ | PROT_WRITE, "data pages");
    check_unmapped(DT_DATA_BASE - DT_PAGE);
    check_unmapped(DT_DATA_END);
    setup_trampolines();
}

static void run_one(const struct dt_seq *seq, struct dt_result *res)
{
    static bool second_page_off;
    uint8_t *code = (uint8_t *)(uintptr_t)DT_CODE_BASE;
    uint8_t *second = code + DT_PAGE;
    uint64_t exit_addr = (uint64_t)(uintptr_t)dt_native_exit;

    if (second_page_off) {
        if (mprotect(second, DT_PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
            child_fail("mprotect");
        }
        second_page_off = false;
    }
    memset(code, 0xcc, DT_CODE_SIZE);
    memcpy(code + seq->code_off, seq->code, seq->len);
    uint8_t *end = code + seq->code_off + seq->len;
    if (seq->mode == DT_MODE_64) {
        /* jmp *0(%rip); .quad dt_native_exit */
        static const uint8_t jmp[6] = {0xff, 0x25, 0, 0, 0, 0};
        memcpy(end, jmp, sizeof(jmp));
        memcpy(end + sizeof(jmp), &exit_addr, sizeof(exit_addr));
    } else {
        /* jmp far m16:32 to 0x33:DT_TRAMP_BASE, the pointer right after the jump: in 32-bit
         * code ff 2d abs32 (DS is flat), in 16-bit code 2e 66 ff 2e disp16 (through CS, whose
         * offsets are those of the code pages) */
        uint32_t ptr_at = seq->code_off + seq->len + 6;
        if (seq->mode == DT_MODE_32) {
            end[0] = 0xff;
            end[1] = 0x2d;
            uint32_t abs = (uint32_t)(DT_CODE_BASE + ptr_at);
            memcpy(end + 2, &abs, 4);
        } else {
            end[0] = 0x2e;
            end[1] = 0x66;
            end[2] = 0xff;
            end[3] = 0x2e;
            end[4] = (uint8_t)ptr_at;
            end[5] = (uint8_t)(ptr_at >> 8);
        }
        uint32_t target = (uint32_t)DT_TRAMP_BASE;
        uint16_t sel = 0x33;
        memcpy(end + 6, &target, 4);
        memcpy(end + 10, &sel, 2);
    }
    if (seq->second_page_absent) {
        /* PROT_NONE: not present to the CPU, as an unmapped page (error code P = 0) */
        if (mprotect(second, DT_PAGE, PROT_NONE) != 0) {
            child_fail("mprotect");
        }
        second_page_off = true;
    }
    memcpy((void *)(uintptr_t)DT_DATA_BASE, seq->data, DT_DATA_SIZE);

    dt_in = seq->init;
    memset(&dt_out, 0, sizeof(dt_out));
    dt_compat = seq->mode != DT_MODE_64;
    running_cs = 0x33;
    running_cs_base = 0;
    if (seq->mode == DT_MODE_32) {
        running_cs = DT_SEL_USER32_CS;
        dt_compat_cs = DT_SEL_USER32_CS;
        dt_compat_ss = DT_SEL_USER_DS;
        dt_compat_ds = DT_SEL_USER_DS;
        dt_compat_rip = seq->init.rip;
    } else if (seq->mode == DT_MODE_16) {
        if (!have_ldt) {
            memset(res, 0, sizeof(*res));
            res->stop = DT_STOP_OTHER;
            snprintf(res->why, sizeof(res->why), "no LDT: the kernel refused modify_ldt(2)");
            return;
        }
        uint8_t *t = (uint8_t *)(uintptr_t)DT_TRAMP_BASE;
        uint32_t esp = (uint32_t)seq->init.gpr[4], eip = (uint32_t)seq->init.rip;
        uint16_t sel = DT_SEL_CODE16;
        memcpy(t + TRAMP16_ESP, &esp, 4);
        memcpy(t + TRAMP16_TARGET, &eip, 4);
        memcpy(t + TRAMP16_TARGET + 4, &sel, 2);
        running_cs = DT_SEL_CODE16;
        running_cs_base = DT_CODE_BASE;
        dt_compat_cs = DT_SEL_TRAMP16;
        dt_compat_ss = DT_SEL_DATA16;
        dt_compat_ds = DT_SEL_DATA16;
        dt_compat_rip = TRAMP16_ENTRY;
    }
    running = 1;
    int faulted = dt_native_enter();
    running = 0;

    memset(res, 0, offsetof(struct dt_result, state));
    res->state = dt_out;
    res->state.fs_base = seq->init.fs_base;
    res->state.gs_base = seq->init.gs_base;
    if (faulted) {
        res->stop = DT_STOP_FAULT;
        res->vector = fault.vector;
        res->error_code = dt_vector_has_error_code(fault.vector) ? fault.error_code : 0;
        res->cr2 = fault.vector == 14 ? fault.cr2 : 0;
    } else {
        res->stop = DT_STOP_END;
        res->state.rip = dt_seq_end(seq);
    }
    memcpy(res->data, (void *)(uintptr_t)DT_DATA_BASE, DT_DATA_SIZE);
}

bool dt_vector_has_error_code(unsigned vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

bool dt_run_batch_forked(const struct dt_seq *seqs, unsigned n, struct dt_result *results,
                         void (*setup)(void),
                         void (*run)(const struct dt_seq *seq, struct dt_result *res),
                         const char *who)
{
    size_t shared_size = (size_t)n * sizeof(struct dt_result) + DT_PAGE;
    uint8_t *shared =
        mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        perror("x86-difftest: mmap");
        return false;
    }
    volatile unsigned *progress = (volatile unsigned *)shared;
    struct dt_result *out = (struct dt_result *)(shared + DT_PAGE);
    unsigned done = 0;
    bool ok = true;

    fflush(NULL);
    while (done < n) {
        *progress = done;
        pid_t pid = fork();
        if (pid < 0) {
            perror("x86-difftest: fork");
            ok = false;
            break;
        }
        if (pid == 0) {
            if (setup) {
                setup();
            }
            /* A sequence has no loops: a child that runs this long is stuck. */
            alarm(120);
            for (unsigned i = *progress; i < n; i++) {
                run(&seqs[i], &out[i]);
                *progress = i + 1;
            }
            _exit(0);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                perror("x86-difftest: waitpid");
                munmap(shared, shared_size);
                return false;
            }
        }
        unsigned reached = *progress;
        for (unsigned i = done; i < reached; i++) {
            results[i] = out[i];
        }
        done = reached;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && done == n) {
            break;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
            /* The child could not set itself up: no point in retrying. */
            ok = false;
            break;
        }
        /* The child died in sequence `done`: record it and go on with the next one. */
        memset(&results[done], 0, sizeof(results[done]));
        results[done].stop = DT_STOP_OTHER;
        if (WIFSIGNALED(status)) {
            snprintf(results[done].why, sizeof(results[done].why), "%s died of signal %d (%s)", who,
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else {
            snprintf(results[done].why, sizeof(results[done].why), "%s exited with status %d", who,
                     WEXITSTATUS(status));
        }
        done++;
    }
    munmap(shared, shared_size);
    return ok;
}

bool dt_native_run_batch(const struct dt_seq *seqs, unsigned n, struct dt_result *results)
{
    return dt_run_batch_forked(seqs, n, results, child_setup, run_one, "the native child");
}

#endif /* __x86_64__ && __linux__ */
