/*
 * The bootstrap processor's local APIC through IA32_APIC_BASE (Intel SDM Vol. 3A ch. 10):
 *   - relocation (10.4.5): the xAPIC registers answer at the base the MSR names and nowhere
 *     else. The page moves to MOVED_BASE (unassigned on both PCs) and back; the registers keep
 *     their values across the move; the page the APIC left answers as plain unassigned memory
 *     (a read is not the APIC's register, a write changes nothing in the APIC);
 *   - the global disable (10.4.3): with EN clear the MSR keeps the BSP flag, CPUID.1:EDX.APIC
 *     reads 0 and the xAPIC page is gone; enabled again, the APIC is software-disabled with
 *     every LVT entry masked (10.4.7.2: whatever state the disable kept, a software-disabled
 *     APIC masks them all), and software-enabling it works again.
 *
 * One core (the machine's default). The INIT to the bootstrap processor is apic_init.c.
 */
#include "test.h"

#define MSR_APIC_BASE 0x1b
#define BASE_BSP      0x100ull
#define BASE_EN       0x800ull
#define DEFAULT_BASE  0xfee00000ull
#define MOVED_BASE    0xfef00000ull

#define R_VERSION   0x030
#define R_TPR       0x080
#define R_SVR       0x0f0
#define R_LVT_FIRST 0x320
#define R_LVT_LAST  0x370

static uint32_t rd(uint64_t base, unsigned reg)
{
    return *(volatile uint32_t *)(base + reg);
}

static void wr(uint64_t base, unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(base + reg) = v;
}

static uint64_t read_cr8(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr8, %0" : "=r"(v));
    return v;
}

static bool cpuid_apic(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    return (r[3] >> 9) & 1;
}

static bool lvt_all_masked(uint64_t base)
{
    for (unsigned reg = R_LVT_FIRST; reg <= R_LVT_LAST; reg += 0x10) {
        if (!(rd(base, reg) & (1u << 16))) {
            return false;
        }
    }
    return true;
}

/* "apic: PHASE: WHAT" (printed at once: one buffer serves every check) */
static const char *check_name(const char *phase, const char *what)
{
    static char name[128];
    char *o = name;
    const char *parts[4] = {"apic: ", phase, ": ", what};
    for (int i = 0; i < 4; i++) {
        for (const char *p = parts[i]; *p && o < name + sizeof(name) - 1; p++) {
            *o++ = *p;
        }
    }
    *o = 0;
    return name;
}

/* The xAPIC page moved from left to at: the registers answer at at only, with the TPR (tpr)
 * they had; a write to left reaches nothing. */
static void check_moved(const char *phase, uint64_t at, uint64_t left, uint32_t version,
                        uint32_t tpr)
{
    test_check_eq(check_name(phase, "the version register answers at the new base"),
                  rd(at, R_VERSION), version);
    test_check_eq(check_name(phase, "the TPR kept its value"), rd(at, R_TPR), tpr);
    test_check(check_name(phase, "the page it left is not the APIC (a read)"),
               rd(left, R_VERSION) != version);
    wr(left, R_TPR, 0x70);
    test_check_eq(check_name(phase, "a write to the page it left does not reach the APIC (CR8)"),
                  read_cr8(), tpr >> 4);
}

int main(void)
{
    uint64_t msr = rdmsr(MSR_APIC_BASE);
    test_check_eq("apic: IA32_APIC_BASE after reset: 0xFEE00000, enabled, BSP",
                  msr & 0xfffffffffffull, DEFAULT_BASE | BASE_EN | BASE_BSP);
    test_check("apic: CPUID.1:EDX.APIC while enabled", cpuid_apic());
    const uint32_t version = rd(DEFAULT_BASE, R_VERSION);
    test_check("apic: version register at 0xFEE00030 (an integrated APIC, 0x1X)",
               (version & 0xf0) == 0x10);

    wr(DEFAULT_BASE, R_SVR, 0x1ff);
    wr(DEFAULT_BASE, R_TPR, 0x20);
    test_check_eq("apic: TPR written at 0xFEE00080", rd(DEFAULT_BASE, R_TPR), 0x20);

    /* ---- relocation ---- */
    wrmsr(MSR_APIC_BASE, MOVED_BASE | BASE_EN | BASE_BSP);
    test_check_eq("apic: IA32_APIC_BASE reads the new base", rdmsr(MSR_APIC_BASE) & ~0xffull,
                  MOVED_BASE | BASE_EN | BASE_BSP);
    check_moved("moved", MOVED_BASE, DEFAULT_BASE, version, 0x20);
    wr(MOVED_BASE, R_TPR, 0x30);
    test_check_eq("apic: moved: the TPR written at the new base (CR8)", read_cr8(), 3);

    wrmsr(MSR_APIC_BASE, DEFAULT_BASE | BASE_EN | BASE_BSP);
    check_moved("moved back", DEFAULT_BASE, MOVED_BASE, version, 0x30);
    wr(DEFAULT_BASE, R_TPR, 0);

    /* ---- the global disable ---- */
    wr(DEFAULT_BASE, R_LVT_FIRST, 0xef); /* the timer's LVT unmasked (no count: never fires) */
    test_check("apic: the timer LVT entry unmasked before the disable",
               !(rd(DEFAULT_BASE, R_LVT_FIRST) & (1u << 16)));
    wrmsr(MSR_APIC_BASE, DEFAULT_BASE | BASE_BSP);
    test_check_eq("apic: disabled: IA32_APIC_BASE has EN clear and keeps BSP",
                  rdmsr(MSR_APIC_BASE) & 0xfffffffffffull, DEFAULT_BASE | BASE_BSP);
    test_check("apic: disabled: CPUID.1:EDX.APIC reads 0", !cpuid_apic());
    test_check("apic: disabled: the xAPIC page is gone (a read)",
               rd(DEFAULT_BASE, R_VERSION) != version);

    wrmsr(MSR_APIC_BASE, DEFAULT_BASE | BASE_EN | BASE_BSP);
    test_check("apic: enabled again: CPUID.1:EDX.APIC", cpuid_apic());
    test_check_eq("apic: enabled again: the version register answers", rd(DEFAULT_BASE, R_VERSION),
                  version);
    test_check("apic: enabled again: software-disabled (SVR bit 8 clear)",
               !(rd(DEFAULT_BASE, R_SVR) & 0x100));
    test_check("apic: enabled again: every LVT entry masked", lvt_all_masked(DEFAULT_BASE));
    wr(DEFAULT_BASE, R_SVR, 0x1ff);
    wr(DEFAULT_BASE, R_TPR, 0x40);
    test_check("apic: enabled again: software enable and TPR writes work",
               (rd(DEFAULT_BASE, R_SVR) & 0x1ff) == 0x1ff && read_cr8() == 4);
    wr(DEFAULT_BASE, R_TPR, 0);
    return 0;
}
