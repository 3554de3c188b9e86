/*
 * Locked read-modify-write instructions on one core: results and flags of LOCK ADD/INC/XADD/
 * CMPXCHG (success and failure)/CMPXCHG8B/CMPXCHG16B/BTS/NEG/XCHG (locked without a prefix), on
 * aligned operands, on operands split across a cache line and across a page boundary (two
 * physical pages that are not adjacent), and CMPXCHG16B's #GP on a misaligned operand.
 *
 * Contention between cores: lock_smp.c.
 */
#include "test.h"

static uint8_t buf[256] __attribute__((aligned(64)));

static void run_set(uint8_t *p8, const char *const names[10])
{
    volatile uint64_t *p = (volatile uint64_t *)p8;
    uint64_t v, old;
    uint8_t zf, cf;

    *p = 0x00000000ffffffffull;
    __asm__ volatile("lock addq $1, %0" : "+m"(*p) : : "cc", "memory");
    test_check_eq(names[0], *p, 0x100000000ull);

    *p = 10;
    v = 5;
    __asm__ volatile("lock xaddq %0, %1" : "+r"(v), "+m"(*p) : : "cc", "memory");
    test_check_eq(names[1], (v << 8) | *p, (10 << 8) | 15);

    *p = 42;
    old = 42;
    v = 99;
    __asm__ volatile("lock cmpxchgq %3, %1\n\tsetz %2"
                     : "+a"(old), "+m"(*p), "=r"(zf)
                     : "r"(v)
                     : "cc", "memory");
    test_check(names[2], zf == 1 && *p == 99 && old == 42);

    old = 42;
    __asm__ volatile("lock cmpxchgq %3, %1\n\tsetz %2"
                     : "+a"(old), "+m"(*p), "=r"(zf)
                     : "r"(v + 1)
                     : "cc", "memory");
    test_check(names[3], zf == 0 && *p == 99 && old == 99);

    *p = 0x1111111122222222ull;
    uint32_t eax = 0x22222222, edx = 0x11111111;
    __asm__ volatile("lock cmpxchg8b %0\n\tsetz %1"
                     : "+m"(*p), "=r"(zf), "+a"(eax), "+d"(edx)
                     : "b"(0x44444444), "c"(0x33333333)
                     : "cc", "memory");
    test_check(names[4], zf == 1 && *p == 0x3333333344444444ull);

    *p = 0;
    __asm__ volatile("lock btsq $37, %0\n\tsetc %1" : "+m"(*p), "=r"(cf) : : "cc", "memory");
    uint8_t cf2;
    __asm__ volatile("lock btsq $37, %0\n\tsetc %1" : "+m"(*p), "=r"(cf2) : : "cc", "memory");
    test_check(names[5], cf == 0 && cf2 == 1 && *p == (1ull << 37));

    *p = 0x0123456789abcdefull;
    v = 0xfedcba9876543210ull;
    __asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    test_check(names[6], v == 0x0123456789abcdefull && *p == 0xfedcba9876543210ull);

    *p = 0xffffffffffffffffull;
    __asm__ volatile("lock incq %0\n\tsetz %1" : "+m"(*p), "=r"(zf) : : "cc", "memory");
    test_check(names[7], *p == 0 && zf == 1);

    *p = 5;
    __asm__ volatile("lock negq %0\n\tsetc %1" : "+m"(*p), "=r"(cf) : : "cc", "memory");
    test_check(names[8], *p == (uint64_t)-5 && cf == 1);

    volatile uint32_t *p32 = (volatile uint32_t *)p8;
    *p32 = 0xfffffff0u;
    uint32_t add = 0x20;
    __asm__ volatile("lock xaddl %0, %1" : "+r"(add), "+m"(*p32) : : "cc", "memory");
    test_check(names[9], add == 0xfffffff0u && *p32 == 0x10);
}

static const char *const aligned_names[10] = {
    "lock: aligned: LOCK ADD carries into the upper half",
    "lock: aligned: LOCK XADD",
    "lock: aligned: LOCK CMPXCHG succeeds",
    "lock: aligned: LOCK CMPXCHG fails",
    "lock: aligned: LOCK CMPXCHG8B",
    "lock: aligned: LOCK BTS",
    "lock: aligned: XCHG with memory",
    "lock: aligned: LOCK INC wraps, ZF",
    "lock: aligned: LOCK NEG, CF",
    "lock: aligned: LOCK XADD 32-bit",
};
static const char *const line_names[10] = {
    "lock: across a cache line: LOCK ADD",
    "lock: across a cache line: LOCK XADD",
    "lock: across a cache line: LOCK CMPXCHG succeeds",
    "lock: across a cache line: LOCK CMPXCHG fails",
    "lock: across a cache line: LOCK CMPXCHG8B",
    "lock: across a cache line: LOCK BTS",
    "lock: across a cache line: XCHG",
    "lock: across a cache line: LOCK INC",
    "lock: across a cache line: LOCK NEG",
    "lock: across a cache line: LOCK XADD 32-bit",
};
static const char *const page_names[10] = {
    "lock: across pages: LOCK ADD",
    "lock: across pages: LOCK XADD",
    "lock: across pages: LOCK CMPXCHG succeeds",
    "lock: across pages: LOCK CMPXCHG fails",
    "lock: across pages: LOCK CMPXCHG8B",
    "lock: across pages: LOCK BTS",
    "lock: across pages: XCHG",
    "lock: across pages: LOCK INC",
    "lock: across pages: LOCK NEG",
    "lock: across pages: LOCK XADD 32-bit",
};

static void test_cmpxchg16b(void)
{
    volatile uint64_t *p = (volatile uint64_t *)(buf + 128);
    p[0] = 1;
    p[1] = 2;
    uint64_t lo = 1, hi = 2;
    uint8_t zf;
    __asm__ volatile("lock cmpxchg16b %0\n\tsetz %1"
                     : "+m"(*(volatile __int128 *)p), "=r"(zf), "+a"(lo), "+d"(hi)
                     : "b"(3ull), "c"(4ull)
                     : "cc", "memory");
    test_check("lock: LOCK CMPXCHG16B succeeds", zf == 1 && p[0] == 3 && p[1] == 4);
    lo = 1;
    hi = 2;
    __asm__ volatile("lock cmpxchg16b %0\n\tsetz %1"
                     : "+m"(*(volatile __int128 *)p), "=r"(zf), "+a"(lo), "+d"(hi)
                     : "b"(5ull), "c"(6ull)
                     : "cc", "memory");
    test_check("lock: LOCK CMPXCHG16B fails and loads RDX:RAX",
               zf == 0 && lo == 3 && hi == 4 && p[0] == 3 && p[1] == 4);
    fault_clear();
    uint64_t addr = (uint64_t)(buf + 136);
    __asm__ volatile(FAULT_GUARD_BEGIN "lock cmpxchg16b (%0)\n\t" FAULT_GUARD_END
                     :
                     : "r"(addr), "a"(0), "d"(0), "b"(0), "c"(0)
                     : "r11", "cc", "memory");
    test_check("lock: CMPXCHG16B on an 8-byte aligned operand: #GP(0)",
               last_fault.vector == 13 && last_fault.error == 0);
}

int main(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    test_check("lock: CPUID.1:ECX.CX16", (r[2] >> 13) & 1);
    run_set(buf, aligned_names);
    run_set(buf + 60, line_names);
    /* two virtual pages on frames that are not adjacent: the operand's first 3 bytes on one,
     * its other 5 on the other */
    uint8_t *second = page_alloc();
    uint8_t *first = page_alloc();
    const uint64_t va = TEST_VA_BASE + 0x100000;
    map_page(va, (uint64_t)first, PTE_P | PTE_W);
    map_page(va + 4096, (uint64_t)second, PTE_P | PTE_W);
    run_set((uint8_t *)(va + 4096 - 3), page_names);
    /* the last operation left 0x10 (32 bits) over -5 (64 bits): 10 00 00 | 00 ff ff ff ff */
    test_check("lock: across pages: the bytes are in both frames",
               first[4093] == 0x10 && first[4095] == 0 && second[0] == 0 && second[1] == 0xff &&
                   second[4] == 0xff && second[5] == 0);
    test_cmpxchg16b();
    return 0;
}
