/*
 * Support library of the bare-metal ARM tests: see test.h. No floating point. The programs
 * link no libgcc (whose ABI and dependencies differ between compilers: arm-linux-gnueabihf's
 * is hard-float and calls raise()), so the run-time ABI helpers that C's / and % compile to
 * are at the end of this file.
 */
#include "test.h"

#define UART0 0x09000000u
#define UARTDR 0x000u
#define UARTFR 0x018u
#define UARTFR_TXFF (1u << 5)

/* Serialises whole lines of output between cores. */
static volatile uint32_t print_lock;
static volatile uint32_t failures;
static volatile exc_hook exception_hook;

static inline volatile uint32_t *uart_reg(uint32_t off)
{
    return (volatile uint32_t *)(uintptr_t)(UART0 + off);
}

void uart_putc(char c)
{
    if (c == '\n') {
        uart_putc('\r');
    }
    while (*uart_reg(UARTFR) & UARTFR_TXFF) {
    }
    *uart_reg(UARTDR) = (uint8_t)c;
}

static void puts_unlocked(const char *s)
{
    while (*s != '\0') {
        uart_putc(*s++);
    }
}

void uart_puts(const char *s)
{
    spin_lock(&print_lock);
    puts_unlocked(s);
    spin_unlock(&print_lock);
}

static void put_hex(uint32_t v, int width)
{
    static const char digits[] = "0123456789abcdef";
    int n = 8;
    while (n > 1 && (v >> ((n - 1) * 4)) == 0) {
        n--;
    }
    for (int i = n; i < width; i++) {
        uart_putc('0');
    }
    for (int i = n - 1; i >= 0; i--) {
        uart_putc(digits[(v >> (i * 4)) & 0xf]);
    }
}

static void put_dec(uint32_t v, int width)
{
    static const uint32_t pow10[] = {1000000000u, 100000000u, 10000000u, 1000000u, 100000u,
                                     10000u, 1000u, 100u, 10u, 1u};
    char buf[10];
    int n = 0;
    bool started = false;
    for (unsigned i = 0; i < 10; i++) {
        char d = '0';
        while (v >= pow10[i]) {
            v -= pow10[i];
            d++;
        }
        if (d != '0' || started || i == 9) {
            buf[n++] = d;
            started = true;
        }
    }
    for (int i = n; i < width; i++) {
        uart_putc('0');
    }
    for (int i = 0; i < n; i++) {
        uart_putc(buf[i]);
    }
}

static void format(const char *fmt, va_list ap)
{
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            uart_putc(*p);
            continue;
        }
        p++;
        int width = 0;
        while (*p >= '0' && *p <= '9') {
            width = width * 10 + (*p - '0');
            p++;
        }
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            puts_unlocked(s != NULL ? s : "(null)");
            break;
        }
        case 'c':
            uart_putc((char)va_arg(ap, int));
            break;
        case 'd': {
            int32_t v = va_arg(ap, int32_t);
            uint32_t mag = (uint32_t)v;
            if (v < 0) {
                uart_putc('-');
                mag = 0u - mag;
            }
            put_dec(mag, width);
            break;
        }
        case 'u':
            put_dec(va_arg(ap, uint32_t), width);
            break;
        case 'x':
            put_hex(va_arg(ap, uint32_t), width);
            break;
        case '%':
            uart_putc('%');
            break;
        case '\0':
            return;
        default:
            uart_putc('%');
            uart_putc(*p);
            break;
        }
    }
}

void tvprintf(const char *fmt, va_list ap)
{
    spin_lock(&print_lock);
    format(fmt, ap);
    spin_unlock(&print_lock);
}

void tprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tvprintf(fmt, ap);
    va_end(ap);
}

void print_hex(uint32_t v)
{
    tprintf("0x%08x", v);
}

/* ---- results ------------------------------------------------------------------------------ */

void test_pass(const char *name)
{
    tprintf("PASS: %s\n", name);
}

static void fail_v(const char *name, const char *fmt, va_list ap)
{
    atomic_add(&failures, 1);
    spin_lock(&print_lock);
    puts_unlocked("FAIL: ");
    puts_unlocked(name);
    if (fmt != NULL && *fmt != '\0') {
        puts_unlocked(": ");
        format(fmt, ap);
    }
    uart_putc('\n');
    spin_unlock(&print_lock);
}

void test_fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(name, fmt, ap);
    va_end(ap);
}

bool test_check(bool ok, const char *name, const char *fmt, ...)
{
    if (ok) {
        test_pass(name);
    } else {
        va_list ap;
        va_start(ap, fmt);
        fail_v(name, fmt, ap);
        va_end(ap);
    }
    return ok;
}

bool test_check_eq(const char *name, uint32_t got, uint32_t want)
{
    return test_check(got == want, name, "got 0x%x, expected 0x%x", got, want);
}

unsigned test_failures(void)
{
    return failures;
}

void test_exit(void)
{
    psci_system_off();
}

/* ---- PSCI --------------------------------------------------------------------------------- */

int32_t psci_call(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3)
{
    register uint32_t r0 __asm__("r0") = fn;
    register uint32_t r1 __asm__("r1") = a1;
    register uint32_t r2 __asm__("r2") = a2;
    register uint32_t r3 __asm__("r3") = a3;
    __asm__ volatile(".arch_extension virt\n\thvc #0"
                     : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3)
                     :
                     : "memory");
    return (int32_t)r0;
}

int32_t psci_cpu_on(uint32_t mpidr, uintptr_t entry, uint32_t context_id)
{
    return psci_call(PSCI_CPU_ON, mpidr, (uint32_t)entry, context_id);
}

void psci_system_off(void)
{
    psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    for (;;) {
        __asm__ volatile("wfi");
    }
}

int32_t test_start_core(unsigned index, uint32_t arg)
{
    dsb(); /* what the new core will read must be in memory before it starts */
    return psci_cpu_on(index, (uintptr_t)_secondary_start, arg);
}

/* Tests that start no other core still link: a CPU_ON'd core with nothing to do stops. */
__attribute__((weak)) void secondary_main(uint32_t arg)
{
    (void)arg;
}

/* ---- atomics ------------------------------------------------------------------------------ */

uint32_t atomic_add(volatile uint32_t *p, uint32_t v)
{
    uint32_t result, fail;
    dmb();
    __asm__ volatile("1:\tldrex\t%0, [%2]\n"
                     "\tadd\t%0, %0, %3\n"
                     "\tstrex\t%1, %0, [%2]\n"
                     "\tteq\t%1, #0\n"
                     "\tbne\t1b"
                     : "=&r"(result), "=&r"(fail)
                     : "r"(p), "r"(v)
                     : "cc", "memory");
    dmb();
    return result;
}

void spin_lock(volatile uint32_t *lock)
{
    uint32_t tmp, fail;
    __asm__ volatile("1:\tldrex\t%0, [%2]\n"
                     "\tteq\t%0, #0\n"
                     "\twfene\n"
                     "\tbne\t1b\n"
                     "\tstrex\t%1, %3, [%2]\n"
                     "\tteq\t%1, #0\n"
                     "\tbne\t1b"
                     : "=&r"(tmp), "=&r"(fail)
                     : "r"(lock), "r"(1u)
                     : "cc", "memory");
    dmb();
}

void spin_unlock(volatile uint32_t *lock)
{
    dmb();
    *lock = 0;
    dsb();
    __asm__ volatile("sev");
}

/* ---- exceptions --------------------------------------------------------------------------- */

void set_exception_hook(exc_hook hook)
{
    exception_hook = hook;
    dsb();
}

static const char *exc_name(enum exc_kind kind)
{
    switch (kind) {
    case EXC_RESET: return "reset";
    case EXC_UNDEF: return "undefined instruction";
    case EXC_SVC: return "supervisor call";
    case EXC_PABT: return "prefetch abort";
    case EXC_DABT: return "data abort";
    case EXC_HYP: return "hypervisor trap";
    case EXC_IRQ: return "IRQ";
    case EXC_FIQ: return "FIQ";
    }
    return "?";
}

/* How far the banked lr is past the address the exception is about (ARM ARM B1.8.3). */
static uint32_t lr_offset(enum exc_kind kind, uint32_t spsr)
{
    bool thumb = (spsr & 0x20) != 0;
    switch (kind) {
    case EXC_UNDEF: return thumb ? 2 : 4;
    case EXC_SVC: return 0;
    case EXC_PABT: return 4;
    case EXC_DABT: return 8;
    case EXC_IRQ:
    case EXC_FIQ: return 4;
    default: return 0;
    }
}

/* Called by start.S's vectors. */
void exception_entry(enum exc_kind kind, struct exc_frame *f);
void exception_entry(enum exc_kind kind, struct exc_frame *f)
{
    uint32_t off = lr_offset(kind, f->spsr);
    f->pc -= off;
    exc_hook hook = exception_hook;
    if (hook != NULL && hook(kind, f)) {
        return; /* start.S resumes at f->pc */
    }
    /* No lock: the core may have taken the exception while printing. */
    puts_unlocked("FAIL: unexpected ");
    puts_unlocked(exc_name(kind));
    puts_unlocked(" exception on core ");
    put_dec(core_index(), 0);
    puts_unlocked(" at 0x");
    put_hex(f->pc, 8);
    puts_unlocked(", spsr 0x");
    put_hex(f->spsr, 8);
    uart_putc('\n');
    psci_system_off();
}

/* ---- freestanding C ----------------------------------------------------------------------- */

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n-- > 0) {
        *p++ = (unsigned char)c;
    }
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n-- > 0) {
        *p++ = *q++;
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n > 0; n--, p++, q++) {
        if (*p != *q) {
            return *p < *q ? -1 : 1;
        }
    }
    return 0;
}

/* ---- integer division: the ARM run-time ABI's helpers ------------------------------------- */
/*
 * ARMv7-A without the divide extension has no divide instruction, and no ARM core has a 64-bit
 * one, so GCC compiles / and % into calls to __aeabi_[u]idiv[mod] and __aeabi_[u]ldivmod. One
 * restoring shift-and-subtract loop does every width: the tests divide rarely.
 */

static void division_by_zero(void) __attribute__((noreturn));
static void division_by_zero(void)
{
    test_fail("division by zero", "");
    test_exit();
}

/* n / d, and n % d in *rem. */
static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
    if (d == 0) {
        division_by_zero();
    }
    uint64_t quotient = 0;
    uint64_t r = 0;
    for (int bit = 63; bit >= 0; bit--) {
        /* r < d before the shift; the bit shifted out of r (when d >= 2^63) is r >= d too. */
        bool carry = (r >> 63) != 0;
        r = (r << 1) | ((n >> bit) & 1);
        if (carry || r >= d) {
            r -= d;
            quotient |= (uint64_t)1 << bit;
        }
    }
    *rem = r;
    return quotient;
}

/* Truncating toward zero; the remainder has the dividend's sign (C99 6.5.5). */
static int64_t sdivmod64(int64_t n, int64_t d, int64_t *rem)
{
    uint64_t un = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
    uint64_t ud = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
    uint64_t ur;
    uint64_t uq = udivmod64(un, ud, &ur);
    *rem = (int64_t)(n < 0 ? 0 - ur : ur);
    return (int64_t)((n < 0) != (d < 0) ? 0 - uq : uq);
}

/* Called by the assembly below, which returns *rem in r2:r3. */
uint64_t test_uldivmod(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t test_uldivmod(uint64_t n, uint64_t d, uint64_t *rem)
{
    return udivmod64(n, d, rem);
}

int64_t test_ldivmod(int64_t n, int64_t d, int64_t *rem);
int64_t test_ldivmod(int64_t n, int64_t d, int64_t *rem)
{
    return sdivmod64(n, d, rem);
}

/* The 32-bit helpers return {quotient, remainder} in r0 and r1: a uint64_t with the
 * quotient in its low half (AAPCS returns a 64-bit value in r0:r1, low word in r0). */
uint32_t __aeabi_uidiv(uint32_t n, uint32_t d);
uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d);
int32_t __aeabi_idiv(int32_t n, int32_t d);
uint64_t __aeabi_idivmod(int32_t n, int32_t d);

uint32_t __aeabi_uidiv(uint32_t n, uint32_t d)
{
    uint64_t rem;
    return (uint32_t)udivmod64(n, d, &rem);
}

uint64_t __aeabi_uidivmod(uint32_t n, uint32_t d)
{
    uint64_t rem;
    uint64_t quotient = udivmod64(n, d, &rem);
    return (uint32_t)quotient | rem << 32;
}

int32_t __aeabi_idiv(int32_t n, int32_t d)
{
    int64_t rem;
    return (int32_t)sdivmod64(n, d, &rem);
}

uint64_t __aeabi_idivmod(int32_t n, int32_t d)
{
    int64_t rem;
    int64_t quotient = sdivmod64(n, d, &rem);
    return (uint32_t)quotient | (uint64_t)(uint32_t)rem << 32;
}

/*
 * The 64-bit helpers take n in r0:r1 and d in r2:r3 and return the quotient in r0:r1 and the
 * remainder in r2:r3, which no C function can: call the C one with a pointer to a stack slot
 * (its fifth argument word, at sp) and load the remainder from there.
 */
__asm__("\t.pushsection .text\n"
        "\t.arm\n"
        "\t.macro test_ldivmod_shim name, target\n"
        "\t.global \\name\n"
        "\t.type \\name, %function\n"
        "\t.p2align 2\n"
        "\\name:\n"
        "\tpush\t{r4, lr}\n"
        "\tsub\tsp, sp, #16\n" /* [sp]: &remainder; [sp + 8]: the remainder */
        "\tadd\tr4, sp, #8\n"
        "\tstr\tr4, [sp]\n"
        "\tbl\t\\target\n"
        "\tldrd\tr2, r3, [sp, #8]\n"
        "\tadd\tsp, sp, #16\n"
        "\tpop\t{r4, pc}\n"
        "\t.size \\name, . - \\name\n"
        "\t.endm\n"
        "\ttest_ldivmod_shim __aeabi_uldivmod, test_uldivmod\n"
        "\ttest_ldivmod_shim __aeabi_ldivmod, test_ldivmod\n"
        "\t.popsection\n");
