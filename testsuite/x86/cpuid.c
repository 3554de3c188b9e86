/*
 * CPUID: the vendor string, the leaf 1 features long mode needs (and that entry.S and the other
 * programs use), and leaf 0x80000001's LM, NX and SYSCALL.
 */
#include "test.h"

static bool bit(uint32_t v, int n)
{
    return (v >> n) & 1;
}

int main(void)
{
    uint32_t r[4];

    cpuid(0, 0, r);
    char vendor[13];
    memcpy(vendor, &r[1], 4); /* EBX, EDX, ECX */
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    tprintf("vendor: %s, max leaf %x\n", vendor, r[0]);
    test_check("cpuid: vendor is GenuineIntel or AuthenticAMD",
               memcmp(vendor, "GenuineIntel", 12) == 0 || memcmp(vendor, "AuthenticAMD", 12) == 0);
    test_check("cpuid: max basic leaf >= 7", r[0] >= 7);

    cpuid(1, 0, r);
    tprintf("leaf 1: eax %x ebx %x ecx %x edx %x\n", r[0], r[1], r[2], r[3]);
    test_check("cpuid 1: EDX.FPU", bit(r[3], 0));
    test_check("cpuid 1: EDX.PSE", bit(r[3], 3));
    test_check("cpuid 1: EDX.TSC", bit(r[3], 4));
    test_check("cpuid 1: EDX.MSR", bit(r[3], 5));
    test_check("cpuid 1: EDX.PAE", bit(r[3], 6));
    test_check("cpuid 1: EDX.CX8", bit(r[3], 8));
    test_check("cpuid 1: EDX.PGE", bit(r[3], 13));
    test_check("cpuid 1: EDX.CMOV", bit(r[3], 15));
    test_check("cpuid 1: EDX.FXSR", bit(r[3], 24));
    test_check("cpuid 1: EDX.SSE", bit(r[3], 25));
    test_check("cpuid 1: EDX.SSE2", bit(r[3], 26));
    test_check("cpuid 1: family is 6 or 15", ((r[0] >> 8) & 0xf) == 6 || ((r[0] >> 8) & 0xf) == 15);
    /* The result of CPUID itself must not depend on garbage in the upper halves. */
    uint64_t rax_full;
    __asm__ volatile("mov $0xffffffff00000001, %%rax\n\tcpuid"
                     : "=a"(rax_full)
                     :
                     : "rbx", "rcx", "rdx");
    test_check_eq("cpuid: EAX bits 63:32 ignored and cleared", rax_full >> 32, 0);
    test_check_eq("cpuid: leaf in EAX bits 31:0 only", (uint32_t)rax_full, r[0]);

    cpuid(0x80000000, 0, r);
    tprintf("max extended leaf %x\n", r[0]);
    test_check("cpuid 0x80000000: max extended leaf >= 0x80000001", r[0] >= 0x80000001);

    cpuid(0x80000001, 0, r);
    tprintf("leaf 0x80000001: ecx %x edx %x\n", r[2], r[3]);
    test_check("cpuid 0x80000001: EDX.SYSCALL", bit(r[3], 11));
    test_check("cpuid 0x80000001: EDX.NX", bit(r[3], 20));
    test_check("cpuid 0x80000001: EDX.LM", bit(r[3], 29));
    test_check("cpuid 0x80000001: ECX.LAHF-SAHF", bit(r[2], 0));

    /* What the long mode we run in says about the leaves: they were not lying. */
    test_check("long mode active (EFER.LMA)", (rdmsr(MSR_EFER) & EFER_LMA) != 0);
    return 0;
}
