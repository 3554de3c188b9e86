/*
 * C's / and % on 32- and 64-bit integers, signed and unsigned, through the run-time ABI
 * helpers in lib.c (__aeabi_uidiv, __aeabi_idivmod, __aeabi_uldivmod, ...): the programs link
 * no libgcc, so without them this program does not link. The operands are volatile so that
 * the compiler divides at run time.
 */
#include "test.h"

static void check_u64(const char *name, uint64_t got, uint64_t want)
{
    test_check(got == want, name, "got 0x%08x%08x, expected 0x%08x%08x", (uint32_t)(got >> 32),
               (uint32_t)got, (uint32_t)(want >> 32), (uint32_t)want);
}

static void check_s64(const char *name, int64_t got, int64_t want)
{
    check_u64(name, (uint64_t)got, (uint64_t)want);
}

int main(void)
{
    volatile uint32_t u32[] = {100u, 7u, 0xffffffffu, 1u, 0x80000000u, 3u, 5u, 10u};
    test_check_eq("div: u32 100 / 7", u32[0] / u32[1], 14u);
    test_check_eq("div: u32 100 % 7", u32[0] % u32[1], 2u);
    test_check_eq("div: u32 0xffffffff / 1", u32[2] / u32[3], 0xffffffffu);
    test_check_eq("div: u32 0xffffffff / 0xffffffff", u32[2] / u32[2], 1u);
    test_check_eq("div: u32 0x80000000 / 3", u32[4] / u32[5], 0x2aaaaaaau);
    test_check_eq("div: u32 0x80000000 % 3", u32[4] % u32[5], 2u);
    test_check_eq("div: u32 5 / 10", u32[6] / u32[7], 0u);
    test_check_eq("div: u32 5 % 10", u32[6] % u32[7], 5u);

    /* Truncation toward zero; the remainder takes the dividend's sign. */
    volatile int32_t s32[] = {-7, 2, 7, -2, INT32_MIN, 1};
    test_check_eq("div: s32 -7 / 2", (uint32_t)(s32[0] / s32[1]), (uint32_t)-3);
    test_check_eq("div: s32 -7 % 2", (uint32_t)(s32[0] % s32[1]), (uint32_t)-1);
    test_check_eq("div: s32 7 / -2", (uint32_t)(s32[2] / s32[3]), (uint32_t)-3);
    test_check_eq("div: s32 7 % -2", (uint32_t)(s32[2] % s32[3]), 1u);
    test_check_eq("div: s32 -7 / -2", (uint32_t)(s32[0] / s32[3]), 3u);
    test_check_eq("div: s32 -7 % -2", (uint32_t)(s32[0] % s32[3]), (uint32_t)-1);
    test_check_eq("div: s32 INT32_MIN / 1", (uint32_t)(s32[4] / s32[5]), 0x80000000u);
    test_check_eq("div: s32 INT32_MIN / -2", (uint32_t)(s32[4] / s32[3]), 0x40000000u);

    volatile uint64_t u64[] = {
        UINT64_MAX, 3u, 0x8000000000000001ull, 0x123456789abcdef0ull, 0x12345u,
        62500000ull * 1100u, 1000u, 1000000000000000007ull, 1000000000u,
    };
    check_u64("div: u64 max / 3", u64[0] / u64[1], 0x5555555555555555ull);
    check_u64("div: u64 max % 3", u64[0] % u64[1], 0);
    /* A divisor of 2^63 or more: the partial remainder carries out of 64 bits. */
    check_u64("div: u64 max / (2^63 + 1)", u64[0] / u64[2], 1);
    check_u64("div: u64 max % (2^63 + 1)", u64[0] % u64[2], 0x7ffffffffffffffeull);
    check_u64("div: u64 0x123456789abcdef0 / 0x12345", u64[3] / u64[4], 0x100005b00205ull);
    check_u64("div: u64 0x123456789abcdef0 % 0x12345", u64[3] % u64[4], 0xa497u);
    check_u64("div: u64 timer ticks / 1000", u64[5] / u64[6], 68750000u);
    check_u64("div: u64 (10^18 + 7) / 10^9", u64[7] / u64[8], 1000000000u);
    check_u64("div: u64 (10^18 + 7) % 10^9", u64[7] % u64[8], 7u);

    volatile int64_t s64[] = {-1000000000007ll, 7, 1000000000007ll, -7, INT64_MIN, 3, 2};
    check_s64("div: s64 -1000000000007 / 7", s64[0] / s64[1], -142857142858ll);
    check_s64("div: s64 -1000000000007 % 7", s64[0] % s64[1], -1);
    check_s64("div: s64 1000000000007 / -7", s64[2] / s64[3], -142857142858ll);
    check_s64("div: s64 1000000000007 % -7", s64[2] % s64[3], 1);
    check_s64("div: s64 INT64_MIN / 3", s64[4] / s64[5], -3074457345618258602ll);
    check_s64("div: s64 INT64_MIN % 3", s64[4] % s64[5], -2);
    check_s64("div: s64 INT64_MIN / 2", s64[4] / s64[6], INT64_MIN / 2);
    return 0;
}
