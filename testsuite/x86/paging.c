/*
 * 4-level paging: 4 KiB, 2 MiB and 1 GiB pages; the #PF error code and CR2 of every kind of
 * fault (not present on read, write and fetch; a write to a read-only page with CR0.WP set, and
 * through with it clear; user accesses to supervisor pages; an NX fetch; reserved bits, with
 * RSVD); the accessed and dirty bits the walk sets at every level; INVLPG; CR3 reloads and global
 * pages under CR4.PGE.
 *
 * All test mappings are above the identity map, from TEST_VA_BASE (PML4 entry 1).
 *
 * Under QEMU 7.2 some checks fail, as baremetal.exp expects: the #PF of a reserved bit has P
 * clear in QEMU (the SDM: RSVD is set only together with P), and QEMU drops
 * global translations on a CR3 write (allowed: a TLB need not keep anything; coremu keeps them
 * under CR4.PGE, and the check says that it does).
 */
#include "test.h"

#define PF_P    1
#define PF_W    2
#define PF_U    4
#define PF_RSVD 8
#define PF_I    16

#define VA_4K (TEST_VA_BASE + 0x200000)      /* 4 KiB pages: VA_4K + n * 4 KiB */
#define VA_2M (TEST_VA_BASE + 0x40000000)    /* a 2 MiB page */
#define VA_1G (TEST_VA_BASE + 0x80000000ull) /* a 1 GiB page (1 GiB aligned) */
#define PA_2M 0x1000000ull                   /* 16 MiB: below every RAM size we run with */

static uint64_t va4k(int n)
{
    return VA_4K + (uint64_t)n * 4096;
}

static volatile uint64_t *pte(uint64_t va)
{
    return pt_entry(pml4, va, 1);
}

static uint64_t guarded_read(uint64_t va)
{
    uint64_t v = 0xbad;
    __asm__ volatile(FAULT_GUARD_BEGIN "mov (%1), %0\n\t" FAULT_GUARD_END
                     : "+r"(v)
                     : "r"(va)
                     : "r11", "memory");
    return v;
}

static void guarded_write(uint64_t va, uint64_t v)
{
    __asm__ volatile(FAULT_GUARD_BEGIN "mov %1, (%0)\n\t" FAULT_GUARD_END
                     :
                     : "r"(va), "r"(v)
                     : "r11", "memory");
}

/* Jumps to va (no return address pushed, so that the guard's resume point has the right RSP);
 * the code there must fault. */
static void guarded_fetch(uint64_t va)
{
    __asm__ volatile(FAULT_GUARD_BEGIN "jmp *%0\n\t" FAULT_GUARD_END : : "r"(va) : "r11", "memory");
}

static void check_pf(const char *name, uint64_t va, uint64_t error)
{
    char buf[128];
    size_t n = strlen(name);
    memcpy(buf, name, n);
    memcpy(buf + n, ": #PF", 6);
    test_check_eq(buf, last_fault.count == 1 ? last_fault.vector : 0xdead, 14);
    memcpy(buf + n, ": error code", 13);
    test_check_eq(buf, last_fault.error, error);
    memcpy(buf + n, ": CR2", 6);
    test_check_eq(buf, last_fault.cr2, va);
}

static void test_sizes(void)
{
    uint64_t *data = page_alloc();
    data[0] = 0x4b4b4b4b4b4b4b4bull;
    *pte(va4k(0)) = (uint64_t)data | PTE_P | PTE_W;
    invlpg((void *)va4k(0));
    test_check_eq("paging: 4 KiB page read", *(volatile uint64_t *)va4k(0), data[0]);
    *(volatile uint64_t *)(va4k(0) + 8) = 0x1234;
    test_check_eq("paging: 4 KiB page write reaches the frame", data[1], 0x1234);

    *pt_entry(pml4, VA_2M, 2) = PA_2M | PTE_P | PTE_W | PTE_PS;
    invlpg((void *)VA_2M);
    volatile uint64_t *phys_2m = (volatile uint64_t *)(PA_2M + 0x1ff000);
    *phys_2m = 0x2222333344445555ull;
    test_check_eq("paging: 2 MiB page, offset 0x1ff000", *(volatile uint64_t *)(VA_2M + 0x1ff000),
                  0x2222333344445555ull);

    *pt_entry(pml4, VA_1G, 3) = 0 | PTE_P | PTE_W | PTE_PS;
    invlpg((void *)VA_1G);
    test_check_eq("paging: 1 GiB page maps physical 0 (reads a variable)",
                  *(volatile uint64_t *)(VA_1G + (uint64_t)data), data[0]);
    *(volatile uint64_t *)(VA_1G + (uint64_t)&data[2]) = 0x77;
    test_check_eq("paging: 1 GiB page write", data[2], 0x77);
    test_check_eq("paging: 1 GiB page, offset past 16 MiB",
                  *(volatile uint64_t *)(VA_1G + PA_2M + 0x1ff000), 0x2222333344445555ull);
}

static void user_read(uint64_t va)
{
    (void)*(volatile uint64_t *)va;
    user_exit(0);
}

static void user_write(uint64_t va)
{
    *(volatile uint64_t *)va = 1;
    user_exit(0);
}

static void test_faults(void)
{
    uint8_t *page = page_alloc();
    page[0] = 0xc3; /* ret */

    /* Not present. */
    *pte(va4k(1)) = 0;
    invlpg((void *)va4k(1));
    fault_clear();
    guarded_read(va4k(1) + 0x10);
    check_pf("paging: not-present read", va4k(1) + 0x10, 0);
    fault_clear();
    guarded_write(va4k(1) + 0x18, 5);
    check_pf("paging: not-present write", va4k(1) + 0x18, PF_W);
    fault_clear();
    guarded_fetch(va4k(1) + 0x20);
    check_pf("paging: not-present fetch", va4k(1) + 0x20, PF_I);
    test_check_eq("paging: not-present fetch: RIP is the target", last_fault.rip, va4k(1) + 0x20);

    /* Not present at a higher level: the PDE of a fresh 2 MiB region is empty. */
    fault_clear();
    guarded_read(VA_2M + 0x400000);
    check_pf("paging: not-present PDE", VA_2M + 0x400000, 0);

    /* Read-only, supervisor. */
    *pte(va4k(2)) = (uint64_t)page | PTE_P;
    invlpg((void *)va4k(2));
    fault_clear();
    test_check_eq("paging: read-only page reads", guarded_read(va4k(2)) & 0xff, 0xc3);
    guarded_write(va4k(2) + 8, 5);
    check_pf("paging: supervisor write to read-only page, CR0.WP=1", va4k(2) + 8, PF_P | PF_W);
    write_cr0(read_cr0() & ~(uint64_t)CR0_WP);
    fault_clear();
    guarded_write(va4k(2) + 8, 0x5555);
    write_cr0(read_cr0() | CR0_WP);
    test_check("paging: supervisor write to read-only page, CR0.WP=0, goes through",
               last_fault.count == 0 && ((uint64_t *)page)[1] == 0x5555);
    fault_clear();
    guarded_write(va4k(2) + 16, 6);
    check_pf("paging: CR0.WP set again", va4k(2) + 16, PF_P | PF_W);

    /* Read-only at the PDE, writable at the PTE: the most restrictive wins. */
    volatile uint64_t *pde = pt_entry(pml4, va4k(0), 2);
    *pte(va4k(3)) = (uint64_t)page | PTE_P | PTE_W;
    *pde &= ~(uint64_t)PTE_W;
    write_cr3(read_cr3());
    fault_clear();
    guarded_write(va4k(3) + 8, 1);
    *pde |= PTE_W;
    write_cr3(read_cr3());
    check_pf("paging: write through a read-only PDE", va4k(3) + 8, PF_P | PF_W);

    /* User accesses. The 4 KiB page at va4k(4) is supervisor, va4k(5) user read-only, va4k(6)
     * not present. */
    *pte(va4k(4)) = (uint64_t)page | PTE_P | PTE_W;
    *pte(va4k(5)) = (uint64_t)page | PTE_P | PTE_U;
    *pte(va4k(6)) = 0;
    write_cr3(read_cr3());
    fault_clear();
    run_user(user_read, USER_STACK_TOP, va4k(4) + 0x30);
    check_pf("paging: user read of a supervisor page", va4k(4) + 0x30, PF_P | PF_U);
    fault_clear();
    run_user(user_write, USER_STACK_TOP, va4k(4) + 0x38);
    check_pf("paging: user write to a supervisor page", va4k(4) + 0x38, PF_P | PF_W | PF_U);
    fault_clear();
    int r = run_user(user_read, USER_STACK_TOP, va4k(5) + 0x40);
    test_check("paging: user read of a user page", r == 0 && last_fault.count == 0);
    fault_clear();
    run_user(user_write, USER_STACK_TOP, va4k(5) + 0x48);
    check_pf("paging: user write to a user read-only page", va4k(5) + 0x48, PF_P | PF_W | PF_U);
    fault_clear();
    run_user(user_read, USER_STACK_TOP, va4k(6) + 0x50);
    check_pf("paging: user read, not present", va4k(6) + 0x50, PF_U);
    /* A user PTE under a supervisor PDE is a supervisor page. */
    *pde &= ~(uint64_t)PTE_U;
    write_cr3(read_cr3());
    fault_clear();
    run_user(user_read, USER_STACK_TOP, va4k(5) + 0x58);
    *pde |= PTE_U;
    write_cr3(read_cr3());
    check_pf("paging: user read under a supervisor PDE", va4k(5) + 0x58, PF_P | PF_U);

    /* NX. */
    uint8_t *code = page_alloc();
    const uint8_t mov_ret[] = {0xb8, 0x77, 0, 0, 0, 0xc3}; /* mov $0x77, %eax; ret */
    memcpy(code, mov_ret, sizeof(mov_ret));
    *pte(va4k(7)) = (uint64_t)code | PTE_P;
    *pte(va4k(8)) = (uint64_t)code | PTE_P | PTE_NX;
    write_cr3(read_cr3());
    uint32_t got;
    __asm__ volatile("call *%1" : "=a"(got) : "r"(va4k(7)) : "memory");
    test_check_eq("paging: fetch from an executable 4 KiB page", got, 0x77);
    fault_clear();
    test_check_eq("paging: NX page reads", guarded_read(va4k(8)) & 0xff, 0xb8);
    guarded_fetch(va4k(8));
    check_pf("paging: NX fetch", va4k(8), PF_P | PF_I);

    /* Reserved bits: a physical-address bit at MAXPHYADDR, and bits 20:13 of a 2 MiB PDE. */
    uint32_t regs[4];
    cpuid(0x80000008, 0, regs);
    unsigned maxphy = regs[0] & 0xff;
    tprintf("MAXPHYADDR %u\n", maxphy);
    if (maxphy < 52) {
        *pte(va4k(9)) = (uint64_t)page | PTE_P | PTE_W | (1ull << maxphy);
        invlpg((void *)va4k(9));
        fault_clear();
        guarded_read(va4k(9) + 0x60);
        check_pf("paging: reserved physical-address bit in a PTE", va4k(9) + 0x60, PF_P | PF_RSVD);
        fault_clear();
        guarded_write(va4k(9) + 0x68, 1);
        check_pf("paging: reserved bit, write", va4k(9) + 0x68, PF_P | PF_W | PF_RSVD);
    }
    uint64_t va_rsvd = VA_2M + 0x200000;
    *pt_entry(pml4, va_rsvd, 2) = PA_2M | PTE_P | PTE_W | PTE_PS | (1ull << 13);
    invlpg((void *)va_rsvd);
    fault_clear();
    guarded_read(va_rsvd + 0x70);
    check_pf("paging: reserved bit 13 in a 2 MiB PDE", va_rsvd + 0x70, PF_P | PF_RSVD);
}

static void test_accessed_dirty(void)
{
    uint64_t *data = page_alloc();
    uint64_t va = va4k(10);
    volatile uint64_t *e1 = pte(va), *e2 = pt_entry(pml4, va, 2), *e3 = pt_entry(pml4, va, 3);
    volatile uint64_t *e4 = &pml4[(va >> 39) & 511];
    *e1 = (uint64_t)data | PTE_P | PTE_W;
    *e2 &= ~(uint64_t)PTE_A;
    *e3 &= ~(uint64_t)PTE_A;
    *e4 &= ~(uint64_t)PTE_A;
    write_cr3(read_cr3());
    (void)*(volatile uint64_t *)va;
    test_check_eq("paging: read sets A in the PTE", *e1 & PTE_A, PTE_A);
    test_check_eq("paging: read leaves D clear", *e1 & PTE_D, 0);
    test_check_eq("paging: read sets A in the PDE", *e2 & PTE_A, PTE_A);
    test_check_eq("paging: read sets A in the PDPTE", *e3 & PTE_A, PTE_A);
    test_check_eq("paging: read sets A in the PML4E", *e4 & PTE_A, PTE_A);
    test_check_eq("paging: D is not set in a PDE that points to a table", *e2 & PTE_D, 0);
    *(volatile uint64_t *)va = 3;
    test_check_eq("paging: write sets D in the PTE", *e1 & PTE_D, PTE_D);
    /* A write after a read (the TLB entry was made clean) must still set D. */
    *e1 = (uint64_t)data | PTE_P | PTE_W;
    invlpg((void *)va);
    (void)*(volatile uint64_t *)va;
    test_check_eq("paging: D clear after a read", *e1 & (PTE_A | PTE_D), PTE_A);
    *(volatile uint64_t *)va = 4;
    test_check_eq("paging: a later write sets D", *e1 & PTE_D, PTE_D);
    /* A fault sets neither. */
    *e1 = (uint64_t)data | PTE_P;
    invlpg((void *)va);
    fault_clear();
    guarded_write(va, 5);
    test_check("paging: a protection fault sets no D",
               last_fault.vector == 14 && (*e1 & PTE_D) == 0);

    /* 2 MiB page: A and D in the PDE. */
    volatile uint64_t *big = pt_entry(pml4, VA_2M, 2);
    *big = PA_2M | PTE_P | PTE_W | PTE_PS;
    invlpg((void *)VA_2M);
    (void)*(volatile uint64_t *)(VA_2M + 0x1000);
    test_check_eq("paging: 2 MiB page read sets A, not D", *big & (PTE_A | PTE_D), PTE_A);
    *(volatile uint64_t *)(VA_2M + 0x1008) = 1;
    test_check_eq("paging: 2 MiB page write sets D", *big & PTE_D, PTE_D);

    /* 1 GiB page: A and D in the PDPTE. */
    volatile uint64_t *huge = pt_entry(pml4, VA_1G, 3);
    *huge = 0 | PTE_P | PTE_W | PTE_PS;
    invlpg((void *)VA_1G);
    (void)*(volatile uint64_t *)(VA_1G + (uint64_t)data);
    test_check_eq("paging: 1 GiB page read sets A, not D", *huge & (PTE_A | PTE_D), PTE_A);
    *(volatile uint64_t *)(VA_1G + (uint64_t)data + 8) = 1;
    test_check_eq("paging: 1 GiB page write sets D", *huge & PTE_D, PTE_D);
}

static void test_tlb(void)
{
    uint64_t *a = page_alloc(), *b = page_alloc();
    a[0] = 0xaaaa;
    b[0] = 0xbbbb;
    uint64_t va = va4k(20);
    volatile uint64_t *p = (volatile uint64_t *)va;

    *pte(va) = (uint64_t)a | PTE_P | PTE_W;
    invlpg((void *)va);
    test_check_eq("tlb: mapped to A", *p, 0xaaaa);
    *pte(va) = (uint64_t)b | PTE_P | PTE_W;
    (void)*p; /* may still be A: a TLB is allowed to keep the old translation */
    invlpg((void *)va);
    test_check_eq("tlb: after INVLPG the new translation (B)", *p, 0xbbbb);
    *pte(va) = 0;
    invlpg((void *)va);
    fault_clear();
    guarded_read(va);
    check_pf("tlb: after INVLPG of an unmapped page", va, 0);

    *pte(va) = (uint64_t)a | PTE_P | PTE_W;
    write_cr3(read_cr3());
    test_check_eq("tlb: mapped to A again after a CR3 write", *p, 0xaaaa);
    *pte(va) = (uint64_t)b | PTE_P | PTE_W;
    write_cr3(read_cr3());
    test_check_eq("tlb: a CR3 write drops a non-global translation", *p, 0xbbbb);

    /* Global pages. */
    write_cr4(read_cr4() | CR4_PGE);
    *pte(va) = (uint64_t)a | PTE_P | PTE_W | PTE_G;
    invlpg((void *)va);
    test_check_eq("tlb: global page mapped to A", *p, 0xaaaa);
    *pte(va) = (uint64_t)b | PTE_P | PTE_W | PTE_G;
    write_cr3(read_cr3());
    test_check_eq("tlb: a global translation survives a CR3 write (CR4.PGE)", *p, 0xaaaa);
    invlpg((void *)va);
    test_check_eq("tlb: INVLPG drops a global translation", *p, 0xbbbb);
    *pte(va) = (uint64_t)a | PTE_P | PTE_W | PTE_G;
    write_cr4(read_cr4() & ~(uint64_t)CR4_PGE);
    write_cr4(read_cr4() | CR4_PGE);
    test_check_eq("tlb: clearing CR4.PGE drops global translations", *p, 0xaaaa);
    write_cr4(read_cr4() & ~(uint64_t)CR4_PGE);
}

int main(void)
{
    test_sizes();
    test_faults();
    test_accessed_dirty();
    test_tlb();
    return 0;
}
