/*
 * test-x86-xsave: XSAVE64/XRSTOR64 (and the 32-bit-layout forms) for the x87 and SSE components
 * against the host CPU: from the same random x87/SSE state, the 576-byte area XSAVE writes must
 * be the host's byte for byte, and the state XRSTOR leaves (each component loaded, or put in
 * its initial configuration when the area's XSTATE_BV says so) must be the host's. XGETBV reads
 * XCR0 = 3. The emulated side is x86_user_run (arch/x86_64/user.h); the native side runs the
 * same instructions in this process. Needs an x86_64 host with XSAVE (else UNSUPPORTED).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "user.h"

#if defined(__x86_64__)

#include <cpuid.h> /* the host's CPUID (x86 only) says whether the host can be the oracle */

#define CODE_VA 0x10000000ull
#define DATA_VA 0x20000000ull

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random but valid x87/SSE state as an FXSAVE image: x87 registers with values (so their
 * tags say valid), rounding control and exception masks random, XMM random. */
static void random_state(uint8_t img[512])
{
    memset(img, 0, 512);
    uint16_t fcw = (uint16_t)(0x37f & ~0xc00) | (uint16_t)((rnd() & 3) << 10);
    uint16_t fsw = (uint16_t)((rnd() & 7) << 11); /* TOP */
    memcpy(img, &fcw, 2);
    memcpy(img + 2, &fsw, 2);
    img[4] = (uint8_t)rnd(); /* abridged tags: which registers hold values */
    uint32_t mxcsr = 0x1f80 | (uint32_t)((rnd() & 3) << 13);
    memcpy(img + 24, &mxcsr, 4);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t mant = rnd() | (1ull << 63);
        uint16_t se = (uint16_t)(0x3fff + (rnd() % 64) - 32) | (uint16_t)((rnd() & 1) << 15);
        memcpy(img + 32 + 16 * i, &mant, 8);
        memcpy(img + 40 + 16 * i, &se, 2);
    }
    for (unsigned i = 0; i < 256; i += 8) {
        uint64_t v = rnd();
        memcpy(img + 160 + i, &v, 8);
    }
}

static uint8_t code[4096] __attribute__((aligned(4096)));
static uint8_t data[8192] __attribute__((aligned(4096)));

/* Runs code_bytes under coremu from fxsave state img with rax/rdx/rcx given and rdi = DATA_VA;
 * data (the mapped page) is in and out. Returns the final state. */
static int emulate(const uint8_t *code_bytes, size_t len, const uint8_t img[512], uint64_t rax,
                   uint64_t rdx, uint64_t rcx, struct x86_user_state *st)
{
    memset(code, 0xcc, sizeof(code));
    memcpy(code, code_bytes, len);
    struct x86_user_mapping maps[2] = {
        {CODE_VA, sizeof(code), code, false, true},
        {DATA_VA, sizeof(data), data, true, false},
    };
    struct x86_user_result res;
    memset(st, 0, sizeof(*st));
    memcpy(st->fxsave, img, 512);
    st->gpr[0] = rax;
    st->gpr[1] = rcx;
    st->gpr[2] = rdx;
    st->gpr[7] = DATA_VA;
    st->gpr[4] = DATA_VA + 4096; /* a stack, unused */
    st->rip = CODE_VA;
    st->rflags = 2;
    x86_user_run(maps, 2, CODE_VA + len, 100, st, &res);
    return res.stop == X86_USER_STOPPED ? 0 : -1;
}

static _Alignas(64) uint8_t native_area[4096];

static bool test_xsave(unsigned round, bool wide)
{
    _Alignas(16) uint8_t img[512];
    random_state(img);
    /* native: load the state, XSAVE(64) with EDX:EAX = 3 into an area whose header is zero */
    memset(native_area, 0x5a, sizeof(native_area));
    memset(native_area + 512, 0, 64);
    __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])img));
    if (wide) {
        __asm__ volatile("xsave64 %0" : "+m"(*(uint8_t(*)[576])native_area) : "a"(3), "d"(0));
    } else {
        __asm__ volatile("xsave %0" : "+m"(*(uint8_t(*)[576])native_area) : "a"(3), "d"(0));
    }
    __asm__ volatile("fninit");

    memset(data, 0x5a, sizeof(data));
    memset(data + 512, 0, 64);
    static const uint8_t xsave64_rdi[] = {0x48, 0x0f, 0xae, 0x27};
    static const uint8_t xsave_rdi[] = {0x0f, 0xae, 0x27};
    struct x86_user_state st;
    int rc = wide ? emulate(xsave64_rdi, sizeof(xsave64_rdi), img, 3, 0, 0, &st)
                  : emulate(xsave_rdi, sizeof(xsave_rdi), img, 3, 0, 0, &st);
    char name[64];
    snprintf(name, sizeof(name), "%s area, state %u", wide ? "XSAVE64" : "XSAVE", round);
    int diff = -1;
    for (unsigned i = 0; i < 1024 && rc == 0; i++) {
        if (i >= 28 && i < 32) {
            continue; /* MXCSR_MASK is the model's (the host's may have AMD's MM bit) */
        }
        if (data[i] != native_area[i]) {
            diff = (int)i;
            break;
        }
    }
    if (rc != 0 || diff >= 0) {
        unit_fail(name, "rc %d, first differing byte at %d: coremu %02x host %02x", rc, diff,
                  diff >= 0 ? data[diff] : 0, diff >= 0 ? native_area[diff] : 0);
        return false;
    }
    return true;
}

static bool test_xrstor(unsigned round, uint64_t bv)
{
    _Alignas(16) uint8_t img[512], before[512];
    random_state(img);
    random_state(before);
    /* the area: a saved state with XSTATE_BV = bv */
    memset(native_area, 0, sizeof(native_area));
    memcpy(native_area, img, 512);
    memcpy(native_area + 512, &bv, 8);
    _Alignas(16) uint8_t native_after[512];
    __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])before));
    __asm__ volatile("xrstor64 %0" : : "m"(*(const uint8_t(*)[576])native_area), "a"(3), "d"(0));
    __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])native_after));
    __asm__ volatile("fninit");

    memset(data, 0, sizeof(data));
    memcpy(data, native_area, 576);
    static const uint8_t xrstor64_rdi[] = {0x48, 0x0f, 0xae, 0x2f};
    struct x86_user_state st;
    int rc = emulate(xrstor64_rdi, sizeof(xrstor64_rdi), before, 3, 0, 0, &st);
    char name[64];
    snprintf(name, sizeof(name), "XRSTOR64 with XSTATE_BV %llu, state %u", (unsigned long long)bv,
             round);
    int diff = -1;
    for (unsigned i = 0; i < 416 && rc == 0; i++) {
        if ((i >= 8 && i < 24) || (i >= 28 && i < 32)) {
            continue; /* FIP/FDP: the host's last x87 instruction's; MXCSR_MASK: the model's */
        }
        if (st.fxsave[i] != native_after[i]) {
            diff = (int)i;
            break;
        }
    }
    if (rc != 0 || diff >= 0) {
        unit_fail(name, "rc %d, first differing byte at %d: coremu %02x host %02x", rc, diff,
                  diff >= 0 ? st.fxsave[diff] : 0, diff >= 0 ? native_after[diff] : 0);
        return false;
    }
    return true;
}

static void test_xgetbv(void)
{
    static const uint8_t xgetbv[] = {0x0f, 0x01, 0xd0};
    _Alignas(16) uint8_t img[512];
    random_state(img);
    struct x86_user_state st;
    int rc = emulate(xgetbv, sizeof(xgetbv), img, 0, 0, 0, &st);
    UNIT_CHECK(rc == 0 && st.gpr[0] == 3 && st.gpr[2] == 0, "XGETBV reads XCR0 = x87 | SSE",
               "rc %d, edx:eax %llx:%llx", rc, (unsigned long long)st.gpr[2],
               (unsigned long long)st.gpr[0]);
}

int main(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) {
        printf("UNSUPPORTED: the host has no XSAVE enabled by the OS\n");
        return 0;
    }
    bool ok64 = true, ok32 = true;
    for (unsigned i = 0; i < 200 && ok64 && ok32; i++) {
        ok64 = test_xsave(i, true);
        ok32 = test_xsave(i, false);
    }
    if (ok64 && ok32) {
        unit_pass("XSAVE64 and XSAVE areas equal the host's over 200 random states");
    }
    for (uint64_t bv = 0; bv < 4; bv++) {
        bool ok = true;
        for (unsigned i = 0; i < 100 && ok; i++) {
            ok = test_xrstor(i, bv);
        }
        if (ok) {
            char name[96];
            snprintf(name, sizeof(name),
                     "XRSTOR64 with XSTATE_BV %llu leaves the host's state over 100 states",
                     (unsigned long long)bv);
            unit_pass(name);
        }
    }
    test_xgetbv();
    return unit_done();
}

#else

int main(void)
{
    printf("UNSUPPORTED: test-x86-xsave compares with the host CPU, which is not x86_64\n");
    return 0;
}

#endif
