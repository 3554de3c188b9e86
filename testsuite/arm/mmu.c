/*
 * The VMSAv7 MMU with short descriptors: sections, 4 KB small pages, 64 KB large pages and a
 * 16 MB supersection; translation, domain, permission and access-flag faults for sections and
 * pages with their exact DFSR/IFSR status codes, DFAR/IFAR and DFSR.WnR; the three DACR domain
 * types; the AP[2:0] permission model for privileged and unprivileged (LDRT/STRT) accesses; XN
 * giving a prefetch abort, and a jump to an unmapped address; SCTLR.AFE with the access flag set
 * by the handler and the access retried; TLB maintenance (TLBIMVA, TLBIMVAA, TLBIASID, TLBIALL:
 * change a mapping, invalidate, see the new one); two ASIDs mapping one VA differently with nG
 * entries; TTBR0/TTBR1 selected by TTBCR.N; the ATS1C** address translations into
 * PAR; and high vectors (SCTLR.V) on a page mapped at 0xffff0000.
 *
 * The caches stay off (SCTLR.C=I=0), so descriptor writes only need DSB before the TLB
 * maintenance. Status codes: ARM ARM (DDI 0406C) B3.13.3, Table B3-23. The program passes on
 * QEMU 7.2 too.
 */
#include "test.h"

#define FS_TRANS_SECTION 0x05u
#define FS_TRANS_PAGE 0x07u
#define FS_AF_SECTION 0x03u
#define FS_AF_PAGE 0x06u
#define FS_DOMAIN_SECTION 0x09u
#define FS_DOMAIN_PAGE 0x0bu
#define FS_PERM_SECTION 0x0du
#define FS_PERM_PAGE 0x0fu
#define FSR_WNR (1u << 11)
#define FSR_MASK 0x0c0fu /* WnR, FS[4], FS[3:0] */
#define NG_PAGE (1u << 11)  /* small page descriptor: not global */

#define SCTLR_M (1u << 0)
#define SCTLR_V (1u << 13)
#define SCTLR_AFE (1u << 29)

/* Physical pages and sections used as targets, in RAM the program does not use. */
#define PA_PAGE(n) (0x42000000u + (n) * 0x1000u) /* 4 KB pages 0-7, marker 0xa000000n */
#define PA_LARGE 0x42010000u                     /* a 64 KB page */
#define PA_SEC1 0x42100000u                      /* 1 MB sections, marker 0xc1000000 ... */
#define PA_SEC2 0x42200000u
#define PA_SEC3 0x42300000u
#define PA_SEC_HIVEC 0x42400000u
#define PA_SUPER 0x41000000u /* 16 MB */

static uint32_t l1a[4096] __attribute__((aligned(16384)));  /* TTBR0, ASID 1 */
static uint32_t l1b[4096] __attribute__((aligned(16384)));  /* TTBR0, ASID 2 */
static uint32_t l1t1[4096] __attribute__((aligned(16384))); /* TTBR1 */
static uint32_t l2a[256] __attribute__((aligned(1024)));    /* VA 0x70100000, domain 0 */
static uint32_t l2d[256] __attribute__((aligned(1024)));    /* VA 0x73100000, domain 3 */

/* Normal write-back memory (TEX=001 C B); ap = AP[2]:AP[1:0]. */
static uint32_t section(uint32_t pa, uint32_t ap, uint32_t domain, bool xn, bool ng)
{
    return (pa & 0xfff00000u) | 0x2 | 0xc | 0x1000 | (ap & 3) << 10 | (ap >> 2) << 15 |
           domain << 5 | (xn ? 0x10 : 0) | (ng ? 1u << 17 : 0);
}
static uint32_t supersection(uint32_t pa, uint32_t ap)
{
    return (pa & 0xff000000u) | 0x2 | 0xc | 0x1000 | (1u << 18) | (ap & 3) << 10 |
           (ap >> 2) << 15;
}
static uint32_t page_table(const uint32_t *l2, uint32_t domain)
{
    return (uint32_t)(uintptr_t)l2 | 0x1 | domain << 5;
}
static uint32_t small_page(uint32_t pa, uint32_t ap, bool xn)
{
    return (pa & 0xfffff000u) | 0x2 | 0xc | 0x40 | (ap & 3) << 4 | (ap >> 2) << 9 | (xn ? 1 : 0);
}
static uint32_t large_page(uint32_t pa, uint32_t ap)
{
    return (pa & 0xffff0000u) | 0x1 | 0xc | 0x1000 | (ap & 3) << 4 | (ap >> 2) << 9;
}

static inline void wr_phys(uint32_t pa, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)pa = v;
}

/* ---- CP15 --------------------------------------------------------------------------------- */

#define MCR(crn, op1, crm, op2, v)                                                                 \
    __asm__ volatile("mcr p15, " #op1 ", %0, " #crn ", " #crm ", " #op2 : : "r"(v) : "memory")
#define MRC(crn, op1, crm, op2, v)                                                                 \
    __asm__ volatile("mrc p15, " #op1 ", %0, " #crn ", " #crm ", " #op2 : "=r"(v))

static inline void isb(void)
{
    __asm__ volatile("isb" ::: "memory");
}
static uint32_t sctlr_read(void)
{
    uint32_t v;
    MRC(c1, 0, c0, 0, v);
    return v;
}
static void sctlr_write(uint32_t v)
{
    MCR(c1, 0, c0, 0, v);
    isb();
}
static void tlbiall(void)
{
    dsb();
    MCR(c8, 0, c7, 0, 0);
    dsb();
    isb();
}
static void tlbimva(uint32_t va_asid)
{
    dsb();
    MCR(c8, 0, c7, 1, va_asid);
    dsb();
    isb();
}
static void tlbiasid(uint32_t asid)
{
    dsb();
    MCR(c8, 0, c7, 2, asid);
    dsb();
    isb();
}
static void tlbimvaa(uint32_t va)
{
    dsb();
    MCR(c8, 0, c7, 3, va);
    dsb();
    isb();
}
static void dacr(uint32_t v)
{
    MCR(c3, 0, c0, 0, v);
    isb();
}
static void set_context(uint32_t *l1, uint32_t asid)
{
    dsb();
    MCR(c2, 0, c0, 0, (uint32_t)(uintptr_t)l1); /* TTBR0 */
    isb();
    MCR(c13, 0, c0, 1, asid); /* CONTEXTIDR */
    isb();
}
static uint32_t par_of(unsigned op, uint32_t va)
{
    switch (op) {
    case 0: MCR(c7, 0, c8, 0, va); break; /* ATS1CPR */
    case 1: MCR(c7, 0, c8, 1, va); break; /* ATS1CPW */
    case 2: MCR(c7, 0, c8, 2, va); break; /* ATS1CUR */
    default: MCR(c7, 0, c8, 3, va); break; /* ATS1CUW */
    }
    isb();
    uint32_t par;
    MRC(c7, 0, c4, 0, par);
    return par;
}

/* ---- aborts -------------------------------------------------------------------------------- */

static volatile uint32_t n_dabt, n_pabt, n_svc, last_fsr, last_far, last_pc;
static volatile bool fix_access_flag;

static bool hook(enum exc_kind kind, struct exc_frame *f)
{
    if (kind == EXC_DABT) {
        uint32_t fsr, far;
        MRC(c5, 0, c0, 0, fsr);
        MRC(c6, 0, c0, 0, far);
        n_dabt++;
        last_fsr = fsr;
        last_far = far;
        last_pc = f->pc;
        uint32_t fs = (fsr & 0xf) | ((fsr >> 6) & 0x10);
        if (fix_access_flag && fs == FS_AF_SECTION) {
            l1a[far >> 20] |= 1u << 10; /* AP[0] is the access flag when SCTLR.AFE=1 */
            tlbimva((far & ~0xfffu) | 1);
        } else if (fix_access_flag && fs == FS_AF_PAGE) {
            l2a[(far >> 12) & 0xff] |= 1u << 4;
            tlbimva((far & ~0xfffu) | 1);
        } else {
            f->pc += 4; /* skip the access */
        }
        return true;
    }
    if (kind == EXC_PABT) {
        uint32_t fsr, far;
        MRC(c5, 0, c0, 1, fsr);
        MRC(c6, 0, c0, 2, far);
        n_pabt++;
        last_fsr = fsr;
        last_far = far;
        last_pc = f->pc;
        f->pc = f->r[4]; /* exec_at() put its return address there */
        return true;
    }
    if (kind == EXC_SVC) {
        n_svc++;
        f->r[1] = 0x77; /* the ordinary (VBAR) vectors */
        return true;
    }
    return false;
}

/* Accesses that leave 0xdeadbeef when they abort (the handler skips them). */
static uint32_t rd(uint32_t va)
{
    uint32_t v = 0xdeadbeef;
    __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(va) : "memory");
    return v;
}
static void wr(uint32_t va, uint32_t v)
{
    __asm__ volatile("str %0, [%1]" : : "r"(v), "r"(va) : "memory");
}
static uint32_t rdt(uint32_t va)
{
    uint32_t v = 0xdeadbeef;
    __asm__ volatile("ldrt %0, [%1]" : "+r"(v) : "r"(va) : "memory");
    return v;
}
static void wrt(uint32_t va, uint32_t v)
{
    __asm__ volatile("strt %0, [%1]" : : "r"(v), "r"(va) : "memory");
}
/* Calls the code at va; a prefetch abort resumes after the call with 0xbad. */
static uint32_t exec_at(uint32_t va)
{
    register uint32_t r0 __asm__("r0") = 0xbad;
    __asm__ volatile("adr r4, 1f\n\tmov lr, r4\n\tbx %[va]\n1:"
                     : "+r"(r0)
                     : [va] "r"(va)
                     : "r1", "r2", "r3", "r4", "r12", "lr", "cc", "memory");
    return r0;
}

static void check_dabt(const char *name, uint32_t before, uint32_t fs, uint32_t far, bool write)
{
    uint32_t want = (fs & 0xf) | (fs & 0x10) << 6 | (write ? FSR_WNR : 0);
    test_check(n_dabt == before + 1 && (last_fsr & FSR_MASK) == want && last_far == far, name,
               "%u data aborts, DFSR 0x%x DFAR 0x%x (expected 0x%x 0x%x)", n_dabt - before,
               last_fsr, last_far, want, far);
}
static void check_ok(const char *name, uint32_t before, uint32_t got, uint32_t want)
{
    test_check(n_dabt == before && got == want, name, "%u data aborts (DFSR 0x%x), value 0x%x",
               n_dabt - before, last_fsr, got);
}

/* ---- the tables ---------------------------------------------------------------------------- */

static void build(void)
{
    for (uint32_t i = 0; i < 4096; i++) {
        uint32_t base = i << 20;
        if (base < 0x40000000u) {
            l1a[i] = base | 0x2 | 0x4 | 0x10 | 0xc00; /* Device, XN, AP=011 */
        } else if (base < 0x48000000u) {
            l1a[i] = section(base, 3, 0, false, false);
        } else {
            l1a[i] = 0;
        }
    }
    l1a[0x700] = section(PA_SEC1, 3, 0, false, false);
    l1a[0x701] = page_table(l2a, 0);
    for (unsigned i = 0; i < 256; i++) {
        l2a[i] = 0;
        l2d[i] = 0;
    }
    l2a[0] = small_page(PA_PAGE(1), 3, false);
    l2a[1] = small_page(PA_PAGE(2), 3, false);
    l2a[3] = small_page(PA_PAGE(3), 3, false) | NG_PAGE; /* nG: TLBIASID must drop it */
    l2a[4] = small_page(PA_PAGE(4), 2, false); /* privileged RW, user RO */
    l2a[6] = small_page(PA_PAGE(6), 5, false); /* privileged RO */
    l2a[7] = small_page(PA_PAGE(7), 3, true);  /* XN */
    l2a[8] = small_page(PA_PAGE(0), 3, false) & ~(1u << 4); /* AF = 0 under SCTLR.AFE */
    for (unsigned i = 16; i < 32; i++) {
        l2a[i] = large_page(PA_LARGE, 3);
    }
    for (unsigned i = 0x710; i < 0x720; i++) {
        l1a[i] = supersection(PA_SUPER, 3);
    }
    l1a[0x730] = section(PA_SEC2, 0, 3, false, false); /* domain 3, AP=000 */
    l1a[0x731] = page_table(l2d, 3);
    l2d[0] = small_page(PA_PAGE(1), 3, false);
    l1a[0x740] = section(PA_SEC3, 3, 0, true, false); /* XN */
    l1a[0x741] = section(PA_SEC3, 3, 0, false, false);
    l1a[0x750] = section(PA_SEC1, 5, 0, false, false); /* privileged RO */
    l1a[0x751] = section(PA_SEC1, 1, 0, false, false); /* privileged only */
    l1a[0x752] = section(PA_SEC1, 2, 0, false, false); /* user RO */
    l1a[0x760] = section(PA_SEC1, 3, 0, false, true);  /* nG */
    l1a[0x770] = section(PA_SEC1, 3, 0, false, false) & ~(1u << 10); /* AF = 0 under AFE */
    l1a[0x900] = section(PA_SEC2, 3, 0, false, false);
    l1a[0xfff] = section(PA_SEC_HIVEC, 3, 0, false, false);

    memcpy(l1b, l1a, sizeof(l1a));
    l1b[0x760] = section(PA_SEC2, 3, 0, false, true);
    memcpy(l1t1, l1a, sizeof(l1a));
    l1t1[0x900] = section(PA_SEC1, 3, 0, false, false);

    /* Markers, written with the MMU off. */
    for (uint32_t n = 0; n < 8; n++) {
        wr_phys(PA_PAGE(n), 0xa0000000u | n);
    }
    wr_phys(PA_SEC1, 0xc1000000u);
    wr_phys(PA_SEC1 + 0x5670, 0xc1005670u);
    wr_phys(PA_SEC2, 0xc2000000u);
    wr_phys(PA_SEC3 + 0x100, 0xc3000100u);
    wr_phys(PA_LARGE + 0x4010, 0xb0014010u);
    wr_phys(PA_LARGE + 0xf000, 0xb001f000u);
    wr_phys(PA_SUPER + 0x234560, 0x55555555u);
    wr_phys(PA_SUPER + 0xfff000, 0x5fff0000u);
    /* Code for the XN checks: MOV r0, #42; BX lr, at the start of PA_SEC3 and of page 7. */
    wr_phys(PA_SEC3, 0xe3a0002au);
    wr_phys(PA_SEC3 + 4, 0xe12fff1eu);
    wr_phys(PA_PAGE(7), 0xe3a0002au);
    wr_phys(PA_PAGE(7) + 4, 0xe12fff1eu);
    dsb();
}

static void mmu_on(void)
{
    MCR(c2, 0, c0, 2, 0); /* TTBCR: N=0 */
    set_context(l1a, 1);
    dacr(1); /* domain 0 client, others no access */
    tlbiall();
    sctlr_write((sctlr_read() & ~((1u << 2) | (1u << 12) | SCTLR_AFE)) | SCTLR_M);
}

/* ---- the checks ---------------------------------------------------------------------------- */

static void translations(void)
{
    uint32_t n = n_dabt;
    check_ok("mmu: section", n, rd(0x70005670), 0xc1005670);
    check_ok("mmu: small page", n, rd(0x70100000), 0xa0000001);
    check_ok("mmu: next small page", n, rd(0x70101000), 0xa0000002);
    wr(0x70101008, 0x600d0008);
    check_ok("mmu: store through a small page reaches its frame", n, rd(PA_PAGE(2) + 8),
             0x600d0008);
    check_ok("mmu: large page", n, rd(0x70114010), 0xb0014010);
    check_ok("mmu: large page, last 4 KB", n, rd(0x7011f000), 0xb001f000);
    check_ok("mmu: supersection", n, rd(0x71234560), 0x55555555);
    check_ok("mmu: supersection, last 4 KB", n, rd(0x71fff000), 0x5fff0000);

    n = n_dabt;
    rd(0x72000010);
    check_dabt("mmu: translation fault, section, read", n, FS_TRANS_SECTION, 0x72000010, false);
    n = n_dabt;
    wr(0x72345678, 1);
    check_dabt("mmu: translation fault, section, write (WnR)", n, FS_TRANS_SECTION, 0x72345678,
               true);
    n = n_dabt;
    rd(0x70102004);
    check_dabt("mmu: translation fault, page", n, FS_TRANS_PAGE, 0x70102004, false);
    n = n_dabt;
    uint32_t pc;
    __asm__ volatile("adr %0, 1f\n1:\tldrb %0, [%1]" : "=&r"(pc) : "r"(0x7210abcdu) : "memory");
    test_check_eq("mmu: data abort reports the aborting instruction", last_pc, pc);
}

static void domains(void)
{
    uint32_t n = n_dabt;
    rd(0x73000000);
    check_dabt("mmu: domain fault (no access), section", n, FS_DOMAIN_SECTION, 0x73000000,
               false);
    n = n_dabt;
    wr(0x73100010, 0);
    check_dabt("mmu: domain fault (no access), page", n, FS_DOMAIN_PAGE, 0x73100010, true);
    dacr(1 | 1u << 6); /* domain 3 client: AP checked */
    n = n_dabt;
    rd(0x73000000);
    check_dabt("mmu: client domain checks AP=000", n, FS_PERM_SECTION, 0x73000000, false);
    n = n_dabt;
    check_ok("mmu: client domain, accessible page", n, rd(0x73100000), 0xa0000001);
    dacr(1 | 3u << 6); /* domain 3 manager: no permission checks */
    n = n_dabt;
    check_ok("mmu: manager domain ignores AP=000", n, rd(0x73000000), 0xc2000000);
    check_ok("mmu: manager domain, LDRT too", n, rdt(0x73000000), 0xc2000000);
    dacr(1);
}

static void permissions(void)
{
    uint32_t n = n_dabt;
    check_ok("mmu: AP=101 privileged read", n, rd(0x75000000), 0xc1000000);
    wr(0x75000000, 0);
    check_dabt("mmu: AP=101 privileged write faults", n, FS_PERM_SECTION, 0x75000000, true);
    n = n_dabt;
    rdt(0x75000004);
    check_dabt("mmu: AP=101 LDRT faults", n, FS_PERM_SECTION, 0x75000004, false);
    n = n_dabt;
    check_ok("mmu: AP=001 privileged read", n, rd(0x75100000), 0xc1000000);
    rdt(0x75100000);
    check_dabt("mmu: AP=001 LDRT faults", n, FS_PERM_SECTION, 0x75100000, false);
    n = n_dabt;
    check_ok("mmu: AP=010 LDRT reads", n, rdt(0x75200000), 0xc1000000);
    wrt(0x75200008, 0);
    check_dabt("mmu: AP=010 STRT faults", n, FS_PERM_SECTION, 0x75200008, true);
    n = n_dabt;
    wr(0x75200008, 0x5a5a5a5a);
    check_ok("mmu: AP=010 privileged STR works", n, rd(PA_SEC1 + 8), 0x5a5a5a5a);
    wrt(0x70000010, 0x12345678);
    check_ok("mmu: AP=011 STRT works", n, rd(PA_SEC1 + 0x10), 0x12345678);
    n = n_dabt;
    wrt(0x70104000, 0);
    check_dabt("mmu: small page AP=010 STRT faults (page code)", n, FS_PERM_PAGE, 0x70104000,
               true);
    n = n_dabt;
    wr(0x70106000, 0);
    check_dabt("mmu: small page AP=101 write faults", n, FS_PERM_PAGE, 0x70106000, true);
    n = n_dabt;
    check_ok("mmu: small page AP=101 read works", n, rd(0x70106000), 0xa0000006);
}

static void execute(void)
{
    uint32_t n = n_pabt;
    test_check_eq("mmu: code in an executable section runs", exec_at(0x74100000), 42);
    uint32_t r = exec_at(0x74000000);
    uint32_t ifsr = (last_fsr & 0xf) | ((last_fsr >> 6) & 0x10);
    test_check(r == 0xbad && n_pabt == n + 1 && ifsr == FS_PERM_SECTION &&
                   last_far == 0x74000000 && last_pc == 0x74000000,
               "mmu: XN section: prefetch abort, permission", "%u aborts, IFSR 0x%x IFAR 0x%x",
               n_pabt - n, last_fsr, last_far);
    n = n_pabt;
    r = exec_at(0x70107000);
    ifsr = (last_fsr & 0xf) | ((last_fsr >> 6) & 0x10);
    test_check(r == 0xbad && n_pabt == n + 1 && ifsr == FS_PERM_PAGE && last_far == 0x70107000,
               "mmu: XN small page: prefetch abort, permission", "%u aborts, IFSR 0x%x IFAR 0x%x",
               n_pabt - n, last_fsr, last_far);
    n = n_pabt;
    r = exec_at(0x72000100);
    ifsr = (last_fsr & 0xf) | ((last_fsr >> 6) & 0x10);
    test_check(r == 0xbad && n_pabt == n + 1 && ifsr == FS_TRANS_SECTION &&
                   last_far == 0x72000100,
               "mmu: jump to an unmapped address: prefetch abort, translation",
               "%u aborts, IFSR 0x%x IFAR 0x%x", n_pabt - n, last_fsr, last_far);
}

static void access_flag(void)
{
    sctlr_write(sctlr_read() | SCTLR_AFE);
    tlbiall();
    fix_access_flag = true;
    uint32_t n = n_dabt;
    uint32_t v = rd(0x77000040);
    test_check(n_dabt == n + 1 && v == rd(PA_SEC1 + 0x40) &&
                   (last_fsr & FSR_MASK) == FS_AF_SECTION && last_far == 0x77000040,
               "mmu: access flag fault, section, then retried",
               "%u aborts, DFSR 0x%x DFAR 0x%x, value 0x%x", n_dabt - n, last_fsr, last_far, v);
    n = n_dabt;
    check_ok("mmu: access flag set: no more faults", n, rd(0x77000000), 0xc1000000);
    n = n_dabt;
    v = rd(0x70108000);
    test_check(n_dabt == n + 1 && v == 0xa0000000 && (last_fsr & FSR_MASK) == FS_AF_PAGE &&
                   last_far == 0x70108000,
               "mmu: access flag fault, page, then retried",
               "%u aborts, DFSR 0x%x DFAR 0x%x, value 0x%x", n_dabt - n, last_fsr, last_far, v);
    fix_access_flag = false;
    sctlr_write(sctlr_read() & ~SCTLR_AFE);
    tlbiall();
}

/* The TLB checks use an nG page: TLBIASID does not touch global entries (B4.2.2). */
static void tlb(void)
{
    uint32_t n = n_dabt;
    check_ok("mmu: TLB: first mapping", n, rd(0x70103000), 0xa0000003);
    l2a[3] = small_page(PA_PAGE(0), 3, false) | NG_PAGE;
    tlbimva(0x70103000 | 1);
    check_ok("mmu: TLBIMVA shows the new mapping", n, rd(0x70103000), 0xa0000000);
    l2a[3] = small_page(PA_PAGE(3), 3, false) | NG_PAGE;
    tlbimvaa(0x70103000);
    check_ok("mmu: TLBIMVAA shows the new mapping", n, rd(0x70103000), 0xa0000003);
    l2a[3] = small_page(PA_PAGE(5), 3, false) | NG_PAGE;
    tlbiasid(1);
    check_ok("mmu: TLBIASID shows the new mapping", n, rd(0x70103000), 0xa0000005);
    l2a[3] = small_page(PA_PAGE(0), 3, false) | NG_PAGE;
    tlbiall();
    check_ok("mmu: TLBIALL shows the new mapping", n, rd(0x70103000), 0xa0000000);
    l2a[3] = 0;
    tlbimva(0x70103000 | 1);
    rd(0x70103000);
    check_dabt("mmu: TLBIMVA after unmapping: translation fault", n, FS_TRANS_PAGE, 0x70103000,
               false);
}

static void asids(void)
{
    uint32_t n = n_dabt;
    bool ok = true;
    /* No TLB maintenance in between: entries are tagged with the ASID. */
    for (unsigned i = 0; i < 3; i++) {
        set_context(l1a, 1);
        uint32_t a = rd(0x76000000);
        set_context(l1b, 2);
        uint32_t b = rd(0x76000000);
        if (a != 0xc1000000 || b != 0xc2000000) {
            test_fail("mmu: two ASIDs, one VA, two nG mappings", "round %u: 0x%x 0x%x", i, a, b);
            ok = false;
            break;
        }
    }
    if (ok) {
        test_pass("mmu: two ASIDs, one VA, two nG mappings");
    }
    /* TLBIASID of ASID 1 while ASID 2 is current: ASID 1 sees its new mapping afterwards. */
    l1a[0x760] = section(PA_SEC3, 3, 0, false, true);
    tlbiasid(1);
    set_context(l1a, 1);
    check_ok("mmu: TLBIASID of another ASID", n, rd(0x76000100), 0xc3000100);
    set_context(l1b, 2);
    check_ok("mmu: ASID 2 keeps its mapping", n, rd(0x76000000), 0xc2000000);
    set_context(l1a, 1);
}

static void ttbcr(void)
{
    uint32_t n = n_dabt;
    check_ok("mmu: TTBCR.N=0: TTBR0 maps 0x90000000", n, rd(0x90000000), 0xc2000000);
    MCR(c2, 0, c0, 1, (uint32_t)(uintptr_t)l1t1); /* TTBR1 */
    MCR(c2, 0, c0, 2, 1);                          /* TTBCR.N=1 */
    tlbiall();
    check_ok("mmu: TTBCR.N=1: TTBR1 maps 0x90000000", n, rd(0x90000000), 0xc1000000);
    check_ok("mmu: TTBCR.N=1: TTBR0 still maps 0x70000000", n, rd(0x70005670), 0xc1005670);
    /* (Not TTBCR.PD0/PD1: they come with the Security Extensions, which this core lacks.) */
    MCR(c2, 0, c0, 2, 0);
    tlbiall();
    n = n_dabt;
    check_ok("mmu: TTBCR.N=0 again", n, rd(0x90000000), 0xc2000000);
}

static void ats(void)
{
    uint32_t par = par_of(0, 0x70101234);
    test_check_eq("mmu: ATS1CPR of a small page", par & 0xfffff001u, PA_PAGE(2));
    par = par_of(0, 0x70005000);
    test_check_eq("mmu: ATS1CPR of a section", par & 0xfffff001u, PA_SEC1 + 0x5000);
    /* Aborted: PAR.F=1, PAR[6:1] = the DFSR status {ExT, FS[4], FS[3:0]}. */
    par = par_of(0, 0x72000000);
    test_check_eq("mmu: ATS1CPR of an unmapped VA", par & 0x7f, FS_TRANS_SECTION << 1 | 1);
    par = par_of(3, 0x75200000);
    test_check_eq("mmu: ATS1CUW of a user read-only section", par & 0x7f,
                  FS_PERM_SECTION << 1 | 1);
    par = par_of(2, 0x75200000);
    test_check_eq("mmu: ATS1CUR of a user read-only section", par & 0xfffff001u, PA_SEC1);
    par = par_of(1, 0x70106000);
    test_check_eq("mmu: ATS1CPW of a privileged read-only page", par & 0x7f,
                  FS_PERM_PAGE << 1 | 1);
}

/* SCTLR.V=1: the vectors at 0xffff0000, whatever VBAR says. Slot 2 (SVC) goes to hv_svc, the
 * others to the library's vectors. */
extern char vectors[];
void hv_svc(void);
__asm__("   .arm\n"
        "   .global hv_svc\n"
        "hv_svc:\n"
        "   mov r1, #0x4b\n"
        "   movs pc, lr\n");

static void high_vectors(void)
{
    uint32_t pa = PA_SEC_HIVEC + 0xf0000;
    for (uint32_t i = 0; i < 8; i++) {
        wr_phys(pa + 4 * i, 0xe59ff018u); /* LDR pc, [pc, #24]: the address 8 words on */
        wr_phys(pa + 32 + 4 * i, i == 2 ? (uint32_t)(uintptr_t)hv_svc
                                        : (uint32_t)(uintptr_t)vectors + 4 * i);
    }
    dsb();
    register uint32_t r1 __asm__("r1") = 0;
    sctlr_write(sctlr_read() | SCTLR_V);
    __asm__ volatile("svc #0" : "+r"(r1) : : "lr", "memory");
    uint32_t got_high = r1;
    sctlr_write(sctlr_read() & ~SCTLR_V);
    r1 = 0;
    __asm__ volatile("svc #0" : "+r"(r1) : : "lr", "memory");
    uint32_t got_low = r1;
    test_check_eq("mmu: SCTLR.V=1 takes the SVC through 0xffff0008", got_high, 0x4b);
    test_check_eq("mmu: SCTLR.V=0 takes it through VBAR again", got_low, 0x77);
}

int main(void)
{
    set_exception_hook(hook);
    build();
    mmu_on();
    translations();
    domains();
    permissions();
    execute();
    access_flag();
    tlb();
    asids();
    ttbcr();
    ats();
    high_vectors();
    sctlr_write(sctlr_read() & ~SCTLR_M);
    set_exception_hook(NULL);
    return 0;
}
