/*
 * Exclusive-access contention between cores (run with -smp 4, and -smp 8 to over-subscribe the
 * host): every core does 100,000 LDREX/ADD/STREX increments of one shared word, LDREXH/STREXH
 * increments of a shared halfword, LDREXD/STREXD additions of 0xffffffff to a shared doubleword
 * (so that the low word carries into the high one), and LDREXB/STREXB increments of its own byte
 * in words shared with the other cores' bytes. All cores start together; the final values must
 * be exact: a lost update, a torn doubleword or a byte store that disturbs its neighbours shows.
 */
#include "test.h"

#define ITER_W 100000u
#define ITER_H 5000u   /* 8 cores x 5000 stays below 0x10000 */
#define ITER_D 20000u
#define ITER_B 200u    /* per core, in its own byte */

static volatile uint32_t go, done;
static volatile uint32_t word_counter;
static struct {
    volatile uint16_t half;
    volatile uint16_t pad;
    volatile uint8_t bytes[TEST_MAX_CORES]; /* neighbours in the same words */
    volatile uint64_t dword __attribute__((aligned(8)));
} shared;

static void inc_word(volatile uint32_t *p)
{
    uint32_t v, fail;
    __asm__ volatile("1:\tldrex %0, [%2]\n\tadd %0, %0, #1\n\tstrex %1, %0, [%2]\n\t"
                     "teq %1, #0\n\tbne 1b"
                     : "=&r"(v), "=&r"(fail)
                     : "r"(p)
                     : "cc", "memory");
}
static void inc_half(volatile uint16_t *p)
{
    uint32_t v, fail;
    __asm__ volatile("1:\tldrexh %0, [%2]\n\tadd %0, %0, #1\n\tstrexh %1, %0, [%2]\n\t"
                     "teq %1, #0\n\tbne 1b"
                     : "=&r"(v), "=&r"(fail)
                     : "r"(p)
                     : "cc", "memory");
}
static void inc_byte(volatile uint8_t *p)
{
    uint32_t v, fail;
    __asm__ volatile("1:\tldrexb %0, [%2]\n\tadd %0, %0, #1\n\tstrexb %1, %0, [%2]\n\t"
                     "teq %1, #0\n\tbne 1b"
                     : "=&r"(v), "=&r"(fail)
                     : "r"(p)
                     : "cc", "memory");
}
static void add_dword(volatile uint64_t *p)
{
    uint64_t v;
    uint32_t fail;
    __asm__ volatile("1:\tldrexd %0, %H0, [%2]\n\tadds %0, %0, %3\n\tadc %H0, %H0, #0\n\t"
                     "strexd %1, %0, %H0, [%2]\n\tteq %1, #0\n\tbne 1b"
                     : "=&r"(v), "=&r"(fail)
                     : "r"(p), "r"(0xffffffffu)
                     : "cc", "memory");
}

static void work(unsigned core)
{
    while (go == 0) {
        __asm__ volatile("yield");
    }
    dmb();
    for (uint32_t i = 0; i < ITER_W; i++) {
        inc_word(&word_counter);
        if (i < ITER_H) {
            inc_half(&shared.half);
        }
        if (i < ITER_D) {
            add_dword(&shared.dword);
        }
        if (i < ITER_B) {
            inc_byte(&shared.bytes[core]);
        }
    }
    atomic_add(&done, 1);
}

void secondary_main(uint32_t core)
{
    work(core);
}

int main(void)
{
    unsigned ncores = 1;
    for (unsigned i = 1; i < TEST_MAX_CORES; i++) {
        int32_t r = test_start_core(i, i);
        if (r != PSCI_SUCCESS) {
            break;
        }
        ncores++;
    }
    tprintf("cores: %u\n", ncores);
    dmb();
    go = 1;
    dsb();
    __asm__ volatile("sev");
    work(0);
    while (done != ncores) {
        __asm__ volatile("yield");
    }
    dmb();

    test_check(word_counter == ncores * ITER_W, "ldrex4: LDREX/STREX word counter",
               "%u, expected %u", word_counter, ncores * ITER_W);
    test_check(shared.half == ncores * ITER_H, "ldrex4: LDREXH/STREXH halfword counter",
               "%u, expected %u", shared.half, ncores * ITER_H);
    test_check_eq("ldrex4: STREXH leaves the next halfword alone", shared.pad, 0);
    uint64_t want_d = (uint64_t)(ncores * ITER_D) * 0xffffffffull;
    test_check(shared.dword == want_d, "ldrex4: LDREXD/STREXD doubleword sum",
               "0x%x:%08x, expected 0x%x:%08x", (uint32_t)(shared.dword >> 32),
               (uint32_t)shared.dword, (uint32_t)(want_d >> 32), (uint32_t)want_d);
    bool bytes_ok = true;
    for (unsigned i = 0; i < TEST_MAX_CORES; i++) {
        uint32_t want = i < ncores ? ITER_B : 0;
        if (shared.bytes[i] != want) {
            test_fail("ldrex4: LDREXB/STREXB neighbouring bytes", "byte %u is %u, expected %u",
                      i, shared.bytes[i], want);
            bytes_ok = false;
        }
    }
    if (bytes_ok) {
        test_pass("ldrex4: LDREXB/STREXB neighbouring bytes");
    }
    return 0;
}
