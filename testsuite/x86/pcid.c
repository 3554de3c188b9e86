/*
 * PCID and INVPCID: CPUID advertises them; CR4.PCIDE can be set only with PCID 0 current
 * (#GP(0) otherwise); with PCIDE, CR3's low 12 bits are the PCID, a MOV to CR3 whose bit 63 is
 * set does not fault and does not keep the bit, and without PCIDE bit 63 is reserved (#GP(0));
 * INVPCID's four types (an individual address, one context, everything, everything but global)
 * drop what they must, and its #GP(0) cases (type above 3, a PCID above 4095, a non-canonical
 * address for type 0, a non-zero PCID for types 0/1 without PCIDE).
 *
 * A translation is shown stale or fresh by remapping a test page to another frame without
 * invalidating it, then checking which frame a read sees after the operation under test. A TLB
 * may always drop translations, so only "must be fresh" is checked, never "must be stale".
 */
#include "test.h"

#define CR4_PCIDE (1 << 17)
#define VA (TEST_VA_BASE + 0x600000)

static uint64_t *frame_a, *frame_b;

static void point(uint64_t *frame)
{
    *pt_entry(pml4, VA, 1) = (uint64_t)frame | PTE_P | PTE_W;
}

static uint64_t read_va(void)
{
    return *(volatile uint64_t *)VA;
}

static void guarded_cr3(uint64_t v)
{
    __asm__ volatile(FAULT_GUARD_BEGIN "mov %0, %%cr3\n\t" FAULT_GUARD_END
                     :
                     : "r"(v)
                     : "r11", "memory");
}

static void guarded_cr4(uint64_t v)
{
    __asm__ volatile(FAULT_GUARD_BEGIN "mov %0, %%cr4\n\t" FAULT_GUARD_END
                     :
                     : "r"(v)
                     : "r11", "memory");
}

static void guarded_invpcid(uint64_t type, uint64_t pcid, uint64_t addr)
{
    uint64_t desc[2] = {pcid, addr};
    __asm__ volatile(FAULT_GUARD_BEGIN "invpcid (%1), %0\n\t" FAULT_GUARD_END
                     :
                     : "r"(type), "r"(desc)
                     : "r11", "memory");
}

static void check_gp(const char *name)
{
    test_check_eq(name, last_fault.count == 1 ? last_fault.vector * 0x10000 + last_fault.error
                                              : 0xdead,
                  13 * 0x10000);
}

static void check_no_fault(const char *name)
{
    test_check_eq(name, (uint64_t)last_fault.count, 0);
}

int main(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    test_check("pcid: CPUID has leaf 7", r[0] >= 7);
    cpuid(1, 0, r);
    bool pcid = (r[2] >> 17) & 1;
    cpuid(7, 0, r);
    bool invpcid = (r[1] >> 10) & 1;
    test_check("pcid: CPUID.1:ECX.PCID and CPUID.7:EBX.INVPCID", pcid && invpcid);
    if (!pcid || !invpcid) {
        return 0; /* nothing more to check on this processor */
    }

    frame_a = page_alloc();
    frame_b = page_alloc();
    frame_a[0] = 0xaaaa;
    frame_b[0] = 0xbbbb;
    uint64_t cr3 = read_cr3(), cr4 = read_cr4();

    /* without PCIDE: bit 63 of a CR3 value is reserved */
    fault_clear();
    guarded_cr3(cr3 | (1ull << 63));
    check_gp("pcid: MOV CR3 with bit 63 without PCIDE: #GP(0)");

    /* PCIDE only with PCID 0 current */
    write_cr3(cr3 | 5);
    fault_clear();
    guarded_cr4(cr4 | CR4_PCIDE);
    check_gp("pcid: setting PCIDE with CR3[11:0] = 5: #GP(0)");
    write_cr3(cr3);
    fault_clear();
    guarded_cr4(cr4 | CR4_PCIDE);
    check_no_fault("pcid: setting PCIDE with PCID 0");
    test_check("pcid: CR4.PCIDE reads back", (read_cr4() & CR4_PCIDE) != 0);

    /* CR3 carries the PCID; bit 63 does not stick */
    write_cr3(cr3 | 7);
    test_check_eq("pcid: CR3 reads back PCID 7", read_cr3() & 0xfff, 7);
    fault_clear();
    guarded_cr3(cr3 | 9 | (1ull << 63));
    check_no_fault("pcid: MOV CR3 with bit 63 (no flush) under PCIDE");
    test_check_eq("pcid: CR3 after a no-flush write: PCID 9, bit 63 clear", read_cr3(),
                  cr3 | 9);

    /* a CR3 write without bit 63 drops the new PCID's non-global translations */
    point(frame_a);
    invlpg((void *)VA);
    test_check_eq("pcid: mapped to frame A", read_va(), 0xaaaa);
    point(frame_b);
    write_cr3(cr3 | 9);
    test_check_eq("pcid: after MOV CR3 (flush), frame B is seen", read_va(), 0xbbbb);

    /* INVPCID type 0: one address of the current PCID */
    point(frame_a);
    fault_clear();
    guarded_invpcid(0, 9, VA);
    check_no_fault("pcid: INVPCID type 0");
    test_check_eq("pcid: after INVPCID type 0, frame A is seen", read_va(), 0xaaaa);
    /* type 1: one context */
    point(frame_b);
    fault_clear();
    guarded_invpcid(1, 9, 0);
    check_no_fault("pcid: INVPCID type 1");
    test_check_eq("pcid: after INVPCID type 1, frame B is seen", read_va(), 0xbbbb);
    /* type 2: everything, globals included */
    *pt_entry(pml4, VA, 1) = (uint64_t)frame_a | PTE_P | PTE_W | PTE_G;
    write_cr4(read_cr4() | CR4_PGE);
    invlpg((void *)VA);
    test_check_eq("pcid: global mapping to frame A", read_va(), 0xaaaa);
    *pt_entry(pml4, VA, 1) = (uint64_t)frame_b | PTE_P | PTE_W | PTE_G;
    fault_clear();
    guarded_invpcid(2, 0, 0);
    check_no_fault("pcid: INVPCID type 2");
    test_check_eq("pcid: after INVPCID type 2, the global page's new frame B is seen", read_va(),
                  0xbbbb);
    /* type 3: everything but globals (the global translation of VA goes first, with INVLPG,
     * and a non-global one to frame B is cached) */
    point(frame_b);
    invlpg((void *)VA);
    test_check_eq("pcid: non-global mapping to frame B", read_va(), 0xbbbb);
    point(frame_a);
    fault_clear();
    guarded_invpcid(3, 0, 0);
    check_no_fault("pcid: INVPCID type 3");
    test_check_eq("pcid: after INVPCID type 3, the non-global frame A is seen", read_va(),
                  0xaaaa);

    /* #GP(0) cases */
    fault_clear();
    guarded_invpcid(4, 0, 0);
    check_gp("pcid: INVPCID type 4: #GP(0)");
    fault_clear();
    guarded_invpcid(1, 0x1000, 0);
    check_gp("pcid: INVPCID with PCID 0x1000: #GP(0)");
    fault_clear();
    guarded_invpcid(0, 9, 0x0000800000000000ull);
    check_gp("pcid: INVPCID type 0 with a non-canonical address: #GP(0)");

    /* back to PCID 0, PCIDE off: a non-zero PCID for types 0/1 is #GP(0) */
    write_cr3(cr3);
    write_cr4(cr4);
    fault_clear();
    guarded_invpcid(1, 3, 0);
    check_gp("pcid: INVPCID type 1 with PCID 3 and PCIDE clear: #GP(0)");
    fault_clear();
    guarded_invpcid(1, 0, 0);
    check_no_fault("pcid: INVPCID type 1 with PCID 0 and PCIDE clear");

    return 0;
}
