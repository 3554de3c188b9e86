/*
 * MMX and SSE under the control registers, at CPL 0 where they can be changed: CR4.OSFXSR = 0
 * makes SSE instructions #UD (MMX ones and FXSAVE still run), CR0.EM makes both #UD (FXSAVE
 * #NM), CR0.TS makes all of them #NM; an unmasked SIMD floating-point exception is #XM with
 * CR4.OSXMMEXCPT and #UD without, with MXCSR's flag set and the destination unchanged; LDMXCSR
 * and FXRSTOR refuse reserved MXCSR bits with #GP(0), MOVAPS and FXSAVE a misaligned operand;
 * FXSAVE64 / FXRSTOR64 keep XMM and MXCSR; MMX instructions make every x87 tag valid and TOP 0,
 * EMMS every tag empty. (Results of the instructions themselves: test-x86-sse, against the
 * host.)
 */
#include "test.h"

#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)

static uint8_t fx_area[512 + 64] __attribute__((aligned(64)));
static uint32_t mxcsr_value __attribute__((aligned(16)));
static uint8_t vec[32] __attribute__((aligned(16)));

/* Each probe runs one instruction under a fault guard; the result is the vector, or -1. */
static int probe_vector(void)
{
    return last_fault.count ? (int)last_fault.vector : -1;
}

static int try_addps(void)
{
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "addps %%xmm1, %%xmm1\n\t" FAULT_GUARD_END
                     : : : "r11", "memory");
    return probe_vector();
}

static int try_paddb(void)
{
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "paddb %%mm1, %%mm1\n\t" FAULT_GUARD_END
                     : : : "r11", "memory");
    return probe_vector();
}

static int try_emms(void)
{
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "emms\n\t" FAULT_GUARD_END : : : "r11", "memory");
    return probe_vector();
}

static int try_ldmxcsr(uint32_t v)
{
    mxcsr_value = v;
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "ldmxcsr %0\n\t" FAULT_GUARD_END
                     : : "m"(mxcsr_value) : "r11", "memory");
    return probe_vector();
}

static uint32_t stmxcsr(void)
{
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr_value) : : "memory");
    return mxcsr_value;
}

static int try_fxsave64(void *p)
{
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "fxsave64 (%0)\n\t" FAULT_GUARD_END
                     : : "r"(p) : "r11", "memory");
    return probe_vector();
}

static int try_fxrstor64(void *p)
{
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "fxrstor64 (%0)\n\t" FAULT_GUARD_END
                     : : "r"(p) : "r11", "memory");
    return probe_vector();
}

static void set_xmm1(uint64_t lo, uint64_t hi)
{
    memcpy(vec, &lo, 8);
    memcpy(vec + 8, &hi, 8);
    __asm__ volatile("movdqu %0, %%xmm1" : : "m"(*(uint8_t(*)[16])vec) : "memory");
}

static void get_xmm1(uint64_t *lo, uint64_t *hi)
{
    __asm__ volatile("movdqu %%xmm1, %0" : "=m"(*(uint8_t(*)[16])vec) : : "memory");
    memcpy(lo, vec, 8);
    memcpy(hi, vec + 8, 8);
}

static void test_control_registers(void)
{
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();

    write_cr0(cr0 & ~(uint64_t)(CR0_EM | CR0_TS));
    write_cr4(cr4 & ~(uint64_t)CR4_OSFXSR);
    test_check_eq("sse: OSFXSR=0: ADDPS raises #UD", (uint64_t)try_addps(), 6);
    test_check_eq("sse: OSFXSR=0: LDMXCSR raises #UD", (uint64_t)try_ldmxcsr(0x1f80), 6);
    test_check_eq("sse: OSFXSR=0: PADDB mm runs", (uint64_t)try_paddb(), (uint64_t)-1);
    test_check_eq("sse: OSFXSR=0: FXSAVE64 runs", (uint64_t)try_fxsave64(fx_area),
                  (uint64_t)-1);

    write_cr4(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
    test_check_eq("sse: OSFXSR=1: ADDPS runs", (uint64_t)try_addps(), (uint64_t)-1);

    write_cr0(cr0 | CR0_TS);
    test_check_eq("sse: TS=1: ADDPS raises #NM", (uint64_t)try_addps(), 7);
    test_check_eq("sse: TS=1: PADDB mm raises #NM", (uint64_t)try_paddb(), 7);
    test_check_eq("sse: TS=1: EMMS raises #NM", (uint64_t)try_emms(), 7);
    test_check_eq("sse: TS=1: FXSAVE64 raises #NM", (uint64_t)try_fxsave64(fx_area), 7);
    test_check_eq("sse: TS=1: LDMXCSR raises #NM", (uint64_t)try_ldmxcsr(0x1f80), 7);
    __asm__ volatile("clts");
    test_check_eq("sse: CLTS: ADDPS runs again", (uint64_t)try_addps(), (uint64_t)-1);

    write_cr0((cr0 | CR0_EM) & ~(uint64_t)CR0_TS);
    test_check_eq("sse: EM=1: ADDPS raises #UD", (uint64_t)try_addps(), 6);
    test_check_eq("sse: EM=1: PADDB mm raises #UD", (uint64_t)try_paddb(), 6);
    test_check_eq("sse: EM=1: EMMS raises #UD", (uint64_t)try_emms(), 6);
    test_check_eq("sse: EM=1: FXSAVE64 raises #NM", (uint64_t)try_fxsave64(fx_area), 7);
    write_cr0(cr0 & ~(uint64_t)(CR0_EM | CR0_TS));
}

static void test_exceptions(void)
{
    uint64_t cr4 = read_cr4() | CR4_OSFXSR;
    uint64_t lo, hi;

    write_cr4(cr4 | CR4_OSXMMEXCPT);
    test_check_eq("sse: LDMXCSR with a reserved bit raises #GP", (uint64_t)try_ldmxcsr(0x11f80),
                  13);
    test_check_eq("sse: ...and error code 0", last_fault.error, 0);
    test_check_eq("sse: LDMXCSR 0x1f80 runs", (uint64_t)try_ldmxcsr(0x1f80), (uint64_t)-1);

    /* 1.0 / 0.0 with ZE unmasked */
    set_xmm1(0x3ff0000000000000ull, 0);
    memset(vec + 16, 0, 16);
    try_ldmxcsr(0x1f80 & ~0x200u);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "divsd %0, %%xmm1\n\t" FAULT_GUARD_END
                     : : "m"(*(uint64_t *)(vec + 16)) : "r11", "memory");
    test_check_eq("sse: DIVSD by zero, ZM=0, OSXMMEXCPT=1: #XM", last_fault.vector, 19);
    get_xmm1(&lo, &hi);
    test_check_eq("sse: #XM leaves the destination", lo, 0x3ff0000000000000ull);
    test_check("sse: #XM sets MXCSR.ZE", (stmxcsr() & 0x4) != 0);

    write_cr4(cr4 & ~(uint64_t)CR4_OSXMMEXCPT);
    try_ldmxcsr(0x1f80 & ~0x200u);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "divsd %0, %%xmm1\n\t" FAULT_GUARD_END
                     : : "m"(*(uint64_t *)(vec + 16)) : "r11", "memory");
    test_check_eq("sse: DIVSD by zero, ZM=0, OSXMMEXCPT=0: #UD", last_fault.vector, 6);

    try_ldmxcsr(0x1f80);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "divsd %0, %%xmm1\n\t" FAULT_GUARD_END
                     : : "m"(*(uint64_t *)(vec + 16)) : "r11", "memory");
    get_xmm1(&lo, &hi);
    test_check("sse: DIVSD by zero, masked: +inf and ZE",
               last_fault.count == 0 && lo == 0x7ff0000000000000ull && (stmxcsr() & 0x4));
    write_cr4(cr4 | CR4_OSXMMEXCPT);

    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "movaps 8(%0), %%xmm1\n\t" FAULT_GUARD_END
                     : : "r"(vec) : "r11", "memory");
    test_check("sse: MOVAPS from a misaligned address raises #GP(0)",
               last_fault.vector == 13 && last_fault.error == 0);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN "movups 8(%0), %%xmm1\n\t" FAULT_GUARD_END
                     : : "r"(vec) : "r11", "memory");
    test_check_eq("sse: MOVUPS from a misaligned address runs", (uint64_t)probe_vector(),
                  (uint64_t)-1);
}

static void test_fxsave(void)
{
    uint64_t lo, hi;

    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    try_ldmxcsr(0x3f80); /* RC = down */
    set_xmm1(0x0123456789abcdefull, 0xfedcba9876543210ull);
    test_check_eq("sse: FXSAVE64 to a misaligned address raises #GP",
                  (uint64_t)try_fxsave64(fx_area + 8), 13);
    test_check_eq("sse: FXSAVE64 runs", (uint64_t)try_fxsave64(fx_area), (uint64_t)-1);
    uint32_t m;
    memcpy(&m, fx_area + 24, 4);
    test_check_eq("sse: FXSAVE64 stores MXCSR", m, 0x3f80);
    memcpy(&lo, fx_area + 160 + 16, 8);
    memcpy(&hi, fx_area + 160 + 24, 8);
    test_check("sse: FXSAVE64 stores XMM1",
               lo == 0x0123456789abcdefull && hi == 0xfedcba9876543210ull);

    set_xmm1(0, 0);
    try_ldmxcsr(0x1f80);
    test_check_eq("sse: FXRSTOR64 runs", (uint64_t)try_fxrstor64(fx_area), (uint64_t)-1);
    get_xmm1(&lo, &hi);
    test_check("sse: FXRSTOR64 restores XMM1 and MXCSR",
               lo == 0x0123456789abcdefull && hi == 0xfedcba9876543210ull &&
                   stmxcsr() == 0x3f80);
    fx_area[26] = 0x04; /* MXCSR bit 18: reserved */
    set_xmm1(1, 2);
    test_check_eq("sse: FXRSTOR64 with a reserved MXCSR bit raises #GP",
                  (uint64_t)try_fxrstor64(fx_area), 13);
    get_xmm1(&lo, &hi);
    test_check("sse: ...and restores nothing", lo == 1 && hi == 2 && stmxcsr() == 0x3f80);
    try_ldmxcsr(0x1f80);
}

static void test_mmx_state(void)
{
    __asm__ volatile("fninit\n\tfld1\n\tfld1" : : : "memory"); /* TOP = 6 */
    try_paddb();
    try_fxsave64(fx_area);
    uint16_t fsw;
    memcpy(&fsw, fx_area + 2, 2);
    test_check_eq("sse: after PADDB mm: TOP = 0", (fsw >> 11) & 7, 0);
    test_check_eq("sse: after PADDB mm: every tag valid", fx_area[4], 0xff);
    test_check_eq("sse: after PADDB mm: MM1 bits 79:64 are ones",
                  (uint64_t)(fx_area[32 + 16 + 8] | (fx_area[32 + 16 + 9] << 8)), 0xffff);
    try_emms();
    try_fxsave64(fx_area);
    test_check_eq("sse: after EMMS: every tag empty", fx_area[4], 0);
    __asm__ volatile("fninit" : : : "memory");
}

int main(void)
{
    test_control_registers();
    test_exceptions();
    test_fxsave();
    test_mmx_state();
    return 0;
}
