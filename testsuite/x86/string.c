/*
 * String instructions: REP MOVS/STOS/CMPS/SCAS/LODS of every size forwards and, with DF set,
 * backwards; the registers they leave (RCX, RSI, RDI, flags); RCX = 0; overlapping copies (one
 * element at a time, not memmove); a segment override on the source; REP MOVSB across pages that
 * are not physically contiguous, and into a page that is not present (the fault leaves RCX, RSI
 * and RDI at the first byte not copied).
 */
#include "test.h"

static uint8_t src[256], dst[256];

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(seed + i * 7);
    }
}

static void test_movs(void)
{
    fill(src, sizeof(src), 1);
    memset(dst, 0, sizeof(dst));
    uint64_t rcx = 100, rsi = (uint64_t)src, rdi = (uint64_t)dst;
    __asm__ volatile("cld; rep movsb" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check_eq("string: REP MOVSB RCX", rcx, 0);
    test_check_eq("string: REP MOVSB RSI", rsi, (uint64_t)src + 100);
    test_check_eq("string: REP MOVSB RDI", rdi, (uint64_t)dst + 100);
    test_check("string: REP MOVSB copies 100 bytes and no more",
               memcmp(src, dst, 100) == 0 && dst[100] == 0);

    memset(dst, 0, sizeof(dst));
    rcx = 10, rsi = (uint64_t)src, rdi = (uint64_t)dst;
    __asm__ volatile("cld; rep movsq" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check_eq("string: REP MOVSQ RSI", rsi, (uint64_t)src + 80);
    test_check("string: REP MOVSQ copies 80 bytes", memcmp(src, dst, 80) == 0 && dst[80] == 0);

    memset(dst, 0, sizeof(dst));
    rcx = 5, rsi = (uint64_t)src, rdi = (uint64_t)dst;
    __asm__ volatile("cld; rep movsw" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check_eq("string: REP MOVSW RDI", rdi, (uint64_t)dst + 10);
    test_check("string: REP MOVSW copies 10 bytes", memcmp(src, dst, 10) == 0 && dst[10] == 0);

    /* Backwards: DF = 1, the registers point at the last element and go down. */
    memset(dst, 0, sizeof(dst));
    rcx = 16, rsi = (uint64_t)src + 60, rdi = (uint64_t)dst + 60;
    __asm__ volatile("std; rep movsl; cld" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check_eq("string: STD REP MOVSD RSI", rsi, (uint64_t)src + 60 - 64);
    test_check_eq("string: STD REP MOVSD RDI", rdi, (uint64_t)dst + 60 - 64);
    test_check("string: STD REP MOVSD copies [0, 64)", memcmp(src, dst, 64) == 0 && dst[64] == 0);

    /* RCX = 0: nothing moves, no register changes. */
    memset(dst, 0, sizeof(dst));
    rcx = 0, rsi = (uint64_t)src, rdi = (uint64_t)dst;
    __asm__ volatile("cld; rep movsb" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check("string: REP MOVSB with RCX = 0 does nothing",
               rcx == 0 && rsi == (uint64_t)src && rdi == (uint64_t)dst && dst[0] == 0);

    /* Overlap: source one byte below the destination replicates the first byte, as the
     * instruction is defined element by element. */
    memset(dst, 0, sizeof(dst));
    dst[0] = 0x5a;
    rcx = 31, rsi = (uint64_t)dst, rdi = (uint64_t)dst + 1;
    __asm__ volatile("cld; rep movsb" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    bool all = true;
    for (int i = 0; i < 32; i++) {
        all = all && dst[i] == 0x5a;
    }
    test_check("string: overlapping REP MOVSB replicates byte by byte", all && dst[32] == 0);

    /* Overlap backwards with quadwords: DF = 1, destination 8 bytes above the source. */
    uint64_t q[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    rcx = 4, rsi = (uint64_t)&q[3], rdi = (uint64_t)&q[4];
    __asm__ volatile("std; rep movsq; cld" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check("string: overlapping STD REP MOVSQ",
               q[0] == 1 && q[1] == 1 && q[2] == 2 && q[3] == 3 && q[4] == 4 && q[5] == 6);
}

static void test_stos_lods(void)
{
    memset(dst, 0, sizeof(dst));
    uint64_t rcx = 7, rdi = (uint64_t)dst;
    __asm__ volatile("cld; rep stosl" : "+c"(rcx), "+D"(rdi) : "a"(0xdeadbeef) : "memory");
    uint32_t w[8];
    memcpy(w, dst, sizeof(w));
    test_check("string: REP STOSD", w[0] == 0xdeadbeef && w[6] == 0xdeadbeef && w[7] == 0);
    test_check_eq("string: REP STOSD RDI", rdi, (uint64_t)dst + 28);

    memset(dst, 0, sizeof(dst));
    rcx = 3, rdi = (uint64_t)dst + 16;
    __asm__ volatile("std; rep stosq; cld"
                     : "+c"(rcx), "+D"(rdi)
                     : "a"(0x0123456789abcdefull)
                     : "memory");
    uint64_t qw[4];
    memcpy(qw, dst, sizeof(qw));
    test_check("string: STD REP STOSQ fills [0, 24) downwards",
               qw[0] == 0x0123456789abcdefull && qw[2] == 0x0123456789abcdefull && qw[3] == 0);
    test_check_eq("string: STD REP STOSQ RDI", rdi, (uint64_t)dst - 8);

    fill(src, 16, 0x10);
    uint64_t rsi = (uint64_t)src, rax = 0xffffffffffffffffull;
    __asm__ volatile("cld; lodsb" : "+S"(rsi), "+a"(rax) : : "memory");
    test_check_eq("string: LODSB merges into AL", rax, 0xffffffffffffff10ull);
    rsi = (uint64_t)src + 4;
    __asm__ volatile("std; lodsl; cld" : "+S"(rsi), "+a"(rax) : : "memory");
    uint32_t expect32;
    memcpy(&expect32, src + 4, 4);
    test_check_eq("string: LODSD zero-extends into RAX", rax, expect32);
    test_check_eq("string: STD LODSD RSI", rsi, (uint64_t)src);
}

static void test_cmps_scas(void)
{
    fill(src, 64, 3);
    memcpy(dst, src, 64);
    dst[37] ^= 0xff;
    uint64_t rcx = 64, rsi = (uint64_t)src, rdi = (uint64_t)dst;
    uint8_t zf;
    __asm__ volatile("cld; repe cmpsb; setz %3"
                     : "+c"(rcx), "+S"(rsi), "+D"(rdi), "=r"(zf)
                     :
                     : "memory", "cc");
    test_check_eq("string: REPE CMPSB stops after the mismatch (RCX)", rcx, 64 - 38);
    test_check_eq("string: REPE CMPSB RSI", rsi, (uint64_t)src + 38);
    test_check_eq("string: REPE CMPSB ZF clear", zf, 0);

    rcx = 37, rsi = (uint64_t)src, rdi = (uint64_t)dst;
    __asm__ volatile("cld; repe cmpsb; setz %3"
                     : "+c"(rcx), "+S"(rsi), "+D"(rdi), "=r"(zf)
                     :
                     : "memory", "cc");
    test_check("string: REPE CMPSB over equal bytes runs out with ZF set", rcx == 0 && zf == 1);

    memset(dst, 'a', 100);
    dst[70] = 'z';
    rcx = 100, rdi = (uint64_t)dst;
    __asm__ volatile("cld; repne scasb; setz %2"
                     : "+c"(rcx), "+D"(rdi), "=r"(zf)
                     : "a"('z')
                     : "memory", "cc");
    test_check_eq("string: REPNE SCASB finds the byte (RDI)", rdi, (uint64_t)dst + 71);
    test_check_eq("string: REPNE SCASB RCX", rcx, 100 - 71);
    test_check_eq("string: REPNE SCASB ZF set", zf, 1);

    rcx = 20, rdi = (uint64_t)dst + 19;
    __asm__ volatile("std; repe scasb; setz %2; cld"
                     : "+c"(rcx), "+D"(rdi), "=r"(zf)
                     : "a"('a')
                     : "memory", "cc");
    test_check("string: STD REPE SCASB runs down to the end with ZF set",
               rcx == 0 && zf == 1 && rdi == (uint64_t)dst - 1);

    /* CMPSQ compares [RSI] - [RDI]: flags of the subtraction, with a borrow */
    uint64_t a = 1, b = 2;
    uint8_t cf;
    rsi = (uint64_t)&a, rdi = (uint64_t)&b;
    __asm__ volatile("cld; cmpsq; setc %2" : "+S"(rsi), "+D"(rdi), "=r"(cf) : : "memory", "cc");
    test_check_eq("string: CMPSQ subtracts destination from source (CF)", cf, 1);
}

/* A segment override on the source of MOVS: FS's base is added; ES for the destination is not
 * overridable (and is flat in 64-bit mode). */
static void test_override(void)
{
    fill(src, 32, 0x40);
    memset(dst, 0, sizeof(dst));
    wrmsr(MSR_FS_BASE, (uint64_t)src);
    uint64_t rcx = 8, rsi = 8, rdi = (uint64_t)dst;
    __asm__ volatile("cld; rep movsb %%fs:(%%rsi), %%es:(%%rdi)"
                     : "+c"(rcx), "+S"(rsi), "+D"(rdi)
                     :
                     : "memory");
    wrmsr(MSR_FS_BASE, 0);
    test_check("string: REP MOVSB with FS override reads FS.base + RSI",
               memcmp(dst, src + 8, 8) == 0 && rsi == 16);
}

/* Two virtual pages backed by physical pages in the opposite order, and a third not present. */
static void test_pages(void)
{
    const uint64_t va = TEST_VA_BASE + 0x10000;
    uint8_t *low = page_alloc(), *high = page_alloc(), *target = page_alloc();
    map_page(va, (uint64_t)high, PTE_P | PTE_W);
    map_page(va + 4096, (uint64_t)low, PTE_P | PTE_W);
    map_page(va + 8192, 0, 0);
    fill(high, 4096, 9);
    fill(low, 4096, 77);

    uint64_t rcx = 200, rsi = va + 4096 - 100, rdi = (uint64_t)target;
    __asm__ volatile("cld; rep movsb" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check("string: REP MOVSB across discontiguous pages (source)",
               memcmp(target, high + 4096 - 100, 100) == 0 && memcmp(target + 100, low, 100) == 0);

    memset(target, 0xee, 4096);
    rcx = 300, rsi = (uint64_t)target, rdi = va + 4096 - 150;
    __asm__ volatile("cld; rep movsb" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check("string: REP MOVSB across discontiguous pages (destination)",
               high[4095 - 149] == 0xee && high[4095] == 0xee && low[0] == 0xee &&
                   low[149] == 0xee && low[150] != 0xee);

    /* Backwards across the boundary with quadwords. */
    fill(target, 64, 1);
    rcx = 4, rsi = (uint64_t)target + 24, rdi = va + 4096 + 8;
    __asm__ volatile("std; rep movsq; cld" : "+c"(rcx), "+S"(rsi), "+D"(rdi) : : "memory");
    test_check("string: STD REP MOVSQ across discontiguous pages",
               memcmp(high + 4096 - 16, target, 16) == 0 && memcmp(low, target + 16, 16) == 0);

    /* Into the page that is not present: #PF(W) at its first byte, with the iterations before it
     * done and RCX/RSI/RDI left at the element that faulted. */
    fill(target, 4096, 5);
    memset(low, 0, 4096);
    fault_clear();
    rcx = 100, rsi = (uint64_t)target, rdi = va + 8192 - 40;
    __asm__ volatile(FAULT_GUARD_BEGIN "cld; rep movsb" FAULT_GUARD_END
                     : "+c"(rcx), "+S"(rsi), "+D"(rdi)
                     :
                     : "r11", "memory");
    test_check_eq("string: REP MOVSB into a missing page: #PF", last_fault.vector, 14);
    test_check_eq("string: REP MOVSB into a missing page: error code (write, not present)",
                  last_fault.error, 2);
    test_check_eq("string: REP MOVSB into a missing page: CR2", last_fault.cr2, va + 8192);
    test_check_eq("string: REP MOVSB into a missing page: RCX left", rcx, 60);
    test_check_eq("string: REP MOVSB into a missing page: RSI left", rsi, (uint64_t)target + 40);
    test_check_eq("string: REP MOVSB into a missing page: RDI left", rdi, va + 8192);
    test_check("string: REP MOVSB into a missing page: the 40 bytes before it copied",
               memcmp(low + 4096 - 40, target, 40) == 0 && low[4096 - 41] == 0);
}

int main(void)
{
    test_movs();
    test_stos_lods();
    test_cmps_scas();
    test_override();
    test_pages();
    return 0;
}
