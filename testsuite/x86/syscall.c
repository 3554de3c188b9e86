/*
 * SYSCALL/SYSRET: STAR's selectors, LSTAR's entry, SFMASK's masking, RCX/R11 on entry, RFLAGS
 * back from R11, SYSRETQ to 64-bit and SYSRETL to compatibility-mode user code, #UD without
 * EFER.SCE; SWAPGS between the user's and the kernel's GS base; the FS/GS base MSRs seen through
 * FS:/GS: addressing; RDFSBASE/WRFSBASE/RDGSBASE/WRGSBASE with and without CR4.FSGSBASE.
 *
 * WRFSBASE of a non-canonical address is #GP(0) in the SDM; QEMU 7.2 takes it. WRMSR of one to
 * FS_BASE is #GP(0) with nothing written; QEMU 7.2 writes it and raises nothing. baremetal.exp
 * expects those three checks to fail under QEMU.
 */
#include "test.h"

#define SFMASK_BITS 0x40500ull /* AC, DF, TF */

/* What syscall_entry saw; how it returns (0: SYSRETQ, 1: SYSRETL to user32_code). */
uint64_t sc_rcx, sc_r11, sc_rflags, sc_cs, sc_ss, sc_rax, sc_gs0, sc_rsp, sc_mode;
uint64_t kernel_gs_area[2] = {0x6b65726e656c4753ull, 0}; /* "kernelGS" */
uint64_t user_gs_area[2] = {0x7573657247530000ull, 0};
extern char syscall_entry[], user32_code[], user_after_syscall[];

__asm__(".text\n"
        ".globl syscall_entry\n"
        "syscall_entry:\n"
        "    mov %rcx, sc_rcx(%rip)\n"
        "    mov %r11, sc_r11(%rip)\n"
        "    mov %rax, sc_rax(%rip)\n"
        "    mov %rsp, sc_rsp(%rip)\n"
        "    pushfq\n" /* on the user's stack: no SMAP, and it is writable */
        "    popq sc_rflags(%rip)\n"
        "    mov %cs, %rdx\n"
        "    mov %rdx, sc_cs(%rip)\n"
        "    mov %ss, %rdx\n"
        "    mov %rdx, sc_ss(%rip)\n"
        "    swapgs\n"
        "    mov %gs:0, %rdx\n"
        "    mov %rdx, sc_gs0(%rip)\n"
        "    swapgs\n"
        "    add $1000, %rax\n" /* the "system call"'s result */
        "    cmpq $1, sc_mode(%rip)\n"
        "    je 1f\n"
        "    sysretq\n"
        "1:  lea user32_code(%rip), %rcx\n"
        "    sysretl\n"
        "    .code32\n"
        ".globl user32_code\n"
        "user32_code:\n"
        "    mov %cs, %edi\n"
        "    shl $16, %edi\n"
        "    mov %ss, %di\n"
        "    int $0x81\n"
        "    .code64\n");

/* User side: DF and AC set, RAX = 7, SYSCALL; reports what it sees afterwards. */
static void user_syscall(uint64_t arg)
{
    (void)arg;
    uint64_t rax = 7, rcx, r11, rflags, cs, gs0;
    __asm__ volatile("pushfq\n\torq $0x40400, (%%rsp)\n\tpopfq\n\t"
                     "syscall\n\t"
                     ".globl user_after_syscall\nuser_after_syscall:\n\t"
                     "pushfq\n\tpopq %3\n\tcld\n\t"
                     "mov %%cs, %4\n\t"
                     "mov %%gs:0, %5\n\t"
                     : "+a"(rax), "=c"(rcx), "=r"(r11), "=r"(rflags), "=r"(cs), "=r"(gs0)
                     :
                     : "r11", "memory", "cc");
    (void)r11;
    /* one bit per expectation, so that the kernel side can say which failed */
    int result = 0;
    result |= (rax == 1007) << 0;
    result |= (rcx == (uint64_t)user_after_syscall) << 1;
    result |= ((rflags & 0x40400) == 0x40400) << 2;
    result |= (cs == (SEL_UCODE64 | 3)) << 3;
    result |= (gs0 == user_gs_area[0]) << 4;
    user_exit(result);
}

static void user_syscall_plain(uint64_t arg)
{
    (void)arg;
    __asm__ volatile("syscall" : : "a"(1) : "rcx", "r11", "memory", "cc");
    user_exit(1);
}

static void test_syscall(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((uint64_t)SEL_UCODE32 << 48) | ((uint64_t)SEL_CODE64 << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_SFMASK, SFMASK_BITS);
    test_check_eq("syscall: STAR reads back", rdmsr(MSR_STAR),
                  ((uint64_t)SEL_UCODE32 << 48) | ((uint64_t)SEL_CODE64 << 32));
    test_check_eq("syscall: LSTAR reads back", rdmsr(MSR_LSTAR), (uint64_t)syscall_entry);
    test_check_eq("syscall: SFMASK reads back", rdmsr(MSR_SFMASK), SFMASK_BITS);
    wrmsr(MSR_GS_BASE, (uint64_t)user_gs_area);
    wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)kernel_gs_area);

    sc_mode = 0;
    int r = run_user(user_syscall, USER_STACK_TOP, 0);
    test_check_eq("syscall: entry RAX", sc_rax, 7);
    test_check_eq("syscall: RCX is the return address", sc_rcx, (uint64_t)user_after_syscall);
    test_check_eq("syscall: R11 is the user's RFLAGS (AC, DF, bit 1)", sc_r11 & 0x40702, 0x40402);
    test_check_eq("syscall: SFMASK clears AC, DF, TF in the kernel", sc_rflags & SFMASK_BITS, 0);
    test_check_eq("syscall: CS from STAR[47:32]", sc_cs, SEL_CODE64);
    test_check_eq("syscall: SS from STAR[47:32] + 8", sc_ss, SEL_DATA);
    test_check("syscall: RSP unchanged (the user's)",
               sc_rsp < USER_STACK_TOP && sc_rsp > USER_STACK_TOP - sizeof(user_stack));
    test_check_eq("syscall: SWAPGS gives the kernel's GS base", sc_gs0, kernel_gs_area[0]);
    test_check_eq("sysret: RAX back in the user", (unsigned)r & 1, 1);
    test_check_eq("sysret: RIP from RCX", ((unsigned)r >> 1) & 1, 1);
    test_check_eq("sysret: RFLAGS from R11 (AC and DF set again)", ((unsigned)r >> 2) & 1, 1);
    test_check_eq("sysret: CS is STAR[63:48] + 16, RPL 3", ((unsigned)r >> 3) & 1, 1);
    test_check_eq("sysret: the user's GS base after two SWAPGS", ((unsigned)r >> 4) & 1, 1);
    test_check_eq("sysret: the user finished", (uint64_t)(int64_t)r & ~0x1full, 0);
    test_check_eq("swapgs: GS base MSR after the round trip", rdmsr(MSR_GS_BASE),
                  (uint64_t)user_gs_area);
    test_check_eq("swapgs: KERNEL_GS_BASE MSR after the round trip", rdmsr(MSR_KERNEL_GS_BASE),
                  (uint64_t)kernel_gs_area);

    /* SYSRETL: to compatibility mode, CS = STAR[63:48] | 3, SS = STAR[63:48] + 8 | 3. */
    sc_mode = 1;
    r = run_user(user_syscall_plain, USER_STACK_TOP, 0);
    test_check_eq("sysretl: CS and SS of 32-bit user code", (uint64_t)r,
                  ((uint64_t)(SEL_UCODE32 | 3) << 16) | (SEL_UDATA | 3));
    sc_mode = 0;

    /* Without EFER.SCE: #UD. */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_SCE);
    fault_clear();
    r = run_user(user_syscall_plain, USER_STACK_TOP, 0);
    test_check("syscall: #UD with EFER.SCE clear",
               r == -1 && last_fault.vector == 6 && last_fault.cs == (SEL_UCODE64 | 3));
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

static void test_swapgs(void)
{
    wrmsr(MSR_GS_BASE, 0x1111);
    wrmsr(MSR_KERNEL_GS_BASE, 0x2222);
    __asm__ volatile("swapgs" : : : "memory");
    test_check("swapgs: exchanges GS base and KERNEL_GS_BASE",
               rdmsr(MSR_GS_BASE) == 0x2222 && rdmsr(MSR_KERNEL_GS_BASE) == 0x1111);
    __asm__ volatile("swapgs" : : : "memory");
    test_check("swapgs: twice is the identity",
               rdmsr(MSR_GS_BASE) == 0x1111 && rdmsr(MSR_KERNEL_GS_BASE) == 0x2222);
    wrmsr(MSR_GS_BASE, 0);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}

static void user_swapgs(uint64_t arg)
{
    (void)arg;
    __asm__ volatile("swapgs" : : : "memory");
    user_exit(1);
}

static uint64_t fs_area[4] = {0x1010101010101010ull, 0x2020202020202020ull, 0, 0};
static uint64_t gs_area[4] = {0x3030303030303030ull, 0x4040404040404040ull, 0, 0};

static void test_bases(void)
{
    fault_clear();
    run_user(user_swapgs, USER_STACK_TOP, 0);
    test_check("swapgs: #GP(0) at CPL 3", last_fault.vector == 13 && last_fault.error == 0);

    wrmsr(MSR_FS_BASE, (uint64_t)fs_area);
    wrmsr(MSR_GS_BASE, (uint64_t)gs_area);
    uint64_t a, b;
    __asm__ volatile("mov %%fs:8, %0\n\tmov %%gs:0, %1" : "=r"(a), "=r"(b) : : "memory");
    test_check_eq("bases: FS:8 through the FS_BASE MSR", a, fs_area[1]);
    test_check_eq("bases: GS:0 through the GS_BASE MSR", b, gs_area[0]);
    __asm__ volatile("movq $0x5a5a, %%fs:16" : : : "memory");
    test_check_eq("bases: store through FS", fs_area[2], 0x5a5a);
    /* A high base: FS + offset wraps at 2^64 like any 64-bit address. */
    wrmsr(MSR_FS_BASE, (uint64_t)fs_area + 0x1000);
    __asm__ volatile("mov %%fs:-0x1000, %0" : "=r"(a) : : "memory");
    test_check_eq("bases: negative displacement from FS base", a, fs_area[0]);

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "xor %%eax, %%eax\n\tmov $0x8000, %%edx\n\t"
                                       "mov $0xc0000100, %%ecx\n\twrmsr\n\t" FAULT_GUARD_END
                     :
                     :
                     : "rax", "rcx", "rdx", "r11", "memory");
    test_check("bases: WRMSR of a non-canonical FS base: #GP(0)",
               last_fault.vector == 13 && last_fault.error == 0);
    test_check_eq("bases: WRMSR of a non-canonical FS base leaves it unchanged", rdmsr(MSR_FS_BASE),
                  (uint64_t)fs_area + 0x1000);
    wrmsr(MSR_FS_BASE, (uint64_t)fs_area + 0x1000);

    /* RDFSBASE & co.: #UD until CR4.FSGSBASE is set. */
    uint32_t r[4];
    cpuid(7, 0, r);
    test_check("fsgsbase: CPUID.7.0:EBX.FSGSBASE", r[1] & 1);
    write_cr4(read_cr4() & ~(uint64_t)CR4_FSGSBASE);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "rdfsbase %%rax\n\t" FAULT_GUARD_END
                     :
                     :
                     : "rax", "r11", "memory");
    test_check("fsgsbase: RDFSBASE with CR4.FSGSBASE clear: #UD", last_fault.vector == 6);
    write_cr4(read_cr4() | CR4_FSGSBASE);
    uint64_t fs = 0, gs = 0;
    __asm__ volatile("rdfsbase %0\n\trdgsbase %1" : "=r"(fs), "=r"(gs));
    test_check_eq("fsgsbase: RDFSBASE", fs, (uint64_t)fs_area + 0x1000);
    test_check_eq("fsgsbase: RDGSBASE", gs, (uint64_t)gs_area);
    __asm__ volatile("wrfsbase %0\n\twrgsbase %1" : : "r"(gs_area), "r"(fs_area) : "memory");
    __asm__ volatile("mov %%fs:8, %0\n\tmov %%gs:8, %1" : "=r"(a), "=r"(b) : : "memory");
    test_check("fsgsbase: WRFSBASE/WRGSBASE take effect", a == gs_area[1] && b == fs_area[1]);
    test_check("fsgsbase: WRFSBASE/WRGSBASE show in the MSRs",
               rdmsr(MSR_FS_BASE) == (uint64_t)gs_area && rdmsr(MSR_GS_BASE) == (uint64_t)fs_area);
    uint32_t fs32;
    __asm__ volatile("rdfsbase %0" : "=r"(fs32));
    test_check_eq("fsgsbase: RDFSBASE r32 gives the low half", fs32, (uint32_t)(uint64_t)gs_area);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN
                     "mov $0x0000800000000000, %%rax\n\twrfsbase %%rax\n\t" FAULT_GUARD_END
                     :
                     :
                     : "rax", "r11", "memory");
    test_check("fsgsbase: WRFSBASE of a non-canonical address: #GP(0)",
               last_fault.vector == 13 && last_fault.error == 0);
    wrmsr(MSR_FS_BASE, 0);
    wrmsr(MSR_GS_BASE, 0);
}

int main(void)
{
    test_swapgs();
    test_syscall();
    test_bases();
    return 0;
}
