/*
 * Bare-metal x86_64 test programs: the 64-bit runtime (test.h). Output goes to COM1 by polling
 * the line status register, so it needs no interrupt controller; the result leaves through QEMU's
 * isa-debug-exit port (coremu's PC has it too).
 */
#include <stdarg.h>

#include "test.h"

/* ---- output --------------------------------------------------------------------------------- */

void putc_serial(char c)
{
    if (c == '\n') {
        putc_serial('\r');
    }
    while (!(inb(COM1 + 5) & 0x20)) { /* LSR.THRE: room in the transmitter */
    }
    outb(COM1, (uint8_t)c);
}

void puts_serial(const char *s)
{
    while (*s) {
        putc_serial(*s++);
    }
}

static void put_unsigned(uint64_t v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v != 0);
    while (n < width) {
        buf[n++] = pad;
    }
    while (n > 0) {
        putc_serial(buf[--n]);
    }
}

/* %s %c %d %u %x %p, with an optional 0-padded width and an l/ll length (for %d %u %x). */
void tprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc_serial(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }
        int longs = 0;
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 's':
            puts_serial(va_arg(ap, const char *));
            break;
        case 'c':
            putc_serial((char)va_arg(ap, int));
            break;
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) {
                putc_serial('-');
                v = -v;
            }
            put_unsigned((uint64_t)v, 10, width, pad);
            break;
        }
        case 'u':
            put_unsigned(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad);
            break;
        case 'x':
            put_unsigned(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
            break;
        case 'p':
            puts_serial("0x");
            put_unsigned((uint64_t)va_arg(ap, void *), 16, 0, ' ');
            break;
        case '%':
            putc_serial('%');
            break;
        default:
            putc_serial('?');
            break;
        }
    }
    va_end(ap);
}

/* ---- results -------------------------------------------------------------------------------- */

static int failures;

void test_pass(const char *name)
{
    tprintf("PASS: %s\n", name);
}

void test_fail(const char *name, const char *why)
{
    failures++;
    tprintf("FAIL: %s: %s\n", name, why);
}

void test_check(const char *name, bool ok)
{
    if (ok) {
        test_pass(name);
    } else {
        test_fail(name, "check failed");
    }
}

void test_check_eq(const char *name, uint64_t got, uint64_t expected)
{
    if (got == expected) {
        test_pass(name);
    } else {
        failures++;
        tprintf("FAIL: %s: got %lx, expected %lx\n", name, got, expected);
    }
}

int test_failures(void)
{
    return failures;
}

/* isa-debug-exit: the emulator exits with status (value << 1) | 1, so 0 is status 1 (pass). */
void test_exit(int status)
{
    uint8_t value = (status == 0 && failures == 0) ? 0 : 1;
    tprintf("exit: %s\n", value == 0 ? "pass" : "fail");
    outb(DEBUG_EXIT_PORT, value);
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

/* ---- memory --------------------------------------------------------------------------------- */

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) {
            return *x - *y;
        }
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

extern char __heap_start[];
static uint64_t heap_next;

void *page_alloc(void)
{
    if (heap_next == 0) {
        heap_next = (uint64_t)__heap_start;
    }
    void *p = (void *)heap_next;
    heap_next += 4096;
    memset(p, 0, 4096);
    return p;
}

volatile uint64_t *pt_entry(uint64_t *root, uint64_t va, int level)
{
    volatile uint64_t *table = root;
    for (int l = 4; l > level; l--) {
        volatile uint64_t *entry = &table[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(*entry & PTE_P) || (*entry & PTE_PS)) {
            *entry = (uint64_t)page_alloc() | PTE_P | PTE_W | PTE_U;
        }
        table = (volatile uint64_t *)(*entry & PTE_ADDR_MASK);
    }
    return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

void map_page(uint64_t va, uint64_t pa, uint64_t flags)
{
    *pt_entry(pml4, va, 1) = pa | flags;
    invlpg((void *)va);
}

/* ---- descriptor tables ---------------------------------------------------------------------- */

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t ist[8]; /* ist[0] is the reserved field before IST1 */
    uint64_t reserved1;
    uint16_t reserved2;
    uint16_t iomap_base;
};

static struct tss64 tss __attribute__((aligned(16)));
static uint64_t idt[512] __attribute__((aligned(16))); /* 256 gates of 16 bytes */
uint8_t ist_stacks[7][8192] __attribute__((aligned(16)));
uint64_t tss_ist[8];
static uint8_t kernel_stack0[16384] __attribute__((aligned(16)));
uint8_t user_stack[16384] __attribute__((aligned(16)));

void idt_set_gate(unsigned vector, uint64_t handler, unsigned dpl, unsigned ist, unsigned type)
{
    idt[vector * 2] = (handler & 0xffff) | ((uint64_t)SEL_CODE64 << 16) |
                      ((uint64_t)(ist & 7) << 32) | ((uint64_t)(type & 0xf) << 40) |
                      ((uint64_t)(dpl & 3) << 45) | (1ull << 47) | ((handler >> 16) & 0xffff) << 48;
    idt[vector * 2 + 1] = handler >> 32;
}

void idt_set_vector(unsigned vector, unsigned dpl, unsigned ist)
{
    idt_set_gate(vector, (uint64_t)(isr_stubs + 16 * vector), dpl, ist, 0xe);
}

uint64_t tss_rsp0(void)
{
    return tss.rsp[0];
}

static void load_tss(void)
{
    uint64_t base = (uint64_t)&tss;
    uint64_t limit = sizeof(tss) - 1;
    gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                       ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    gdt[SEL_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS) : "memory");
}

void lib_init64(void);
void lib_init64(void)
{
    putc_serial('\n'); /* QEMU's firmware leaves its last line open */
    for (unsigned v = 0; v < 256; v++) {
        idt_set_vector(v, 0, 0);
    }
    idt_set_vector(VEC_USER_EXIT, 3, 0);
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
    tss.rsp[0] = (uint64_t)(kernel_stack0 + sizeof(kernel_stack0));
    for (int i = 1; i <= 7; i++) {
        tss_ist[i] = (uint64_t)(ist_stacks[i - 1] + sizeof(ist_stacks[i - 1]));
        tss.ist[i] = tss_ist[i];
    }
    tss.iomap_base = sizeof(tss); /* no I/O bitmap: CPL 3 port access faults */
    load_tss();
}

/* ---- exceptions ----------------------------------------------------------------------------- */

volatile struct fault_record last_fault;
volatile uint64_t fault_resume;
static exception_hook_fn exception_hook;
extern uint64_t kernel_saved_rsp;
extern int user_result;
extern char user_return[];

void set_exception_hook(exception_hook_fn fn)
{
    exception_hook = fn;
}

void fault_clear(void)
{
    memset((void *)&last_fault, 0, sizeof(last_fault));
}

static void record_fault(const struct exc_frame *f)
{
    last_fault.count++;
    last_fault.vector = f->vector;
    last_fault.error = f->error;
    last_fault.rip = f->rip;
    last_fault.cs = f->cs;
    last_fault.rsp = f->rsp;
    last_fault.cr2 = read_cr2();
}

/* Back to run_user's caller: CPL 0, the stack run_user saved. */
static void return_to_kernel(struct exc_frame *f, int result)
{
    user_result = result;
    f->rip = (uint64_t)user_return;
    f->cs = SEL_CODE64;
    f->ss = SEL_DATA;
    f->rsp = kernel_saved_rsp;
    f->rflags = 0x2;
}

void exc_dispatch(struct exc_frame *f);
void exc_dispatch(struct exc_frame *f)
{
    if (f->vector == VEC_USER_EXIT && (f->cs & 3) == 3) {
        return_to_kernel(f, (int)f->rdi);
        return;
    }
    if (exception_hook != NULL && exception_hook(f)) {
        return;
    }
    if ((f->cs & 3) == 3) {
        record_fault(f);
        return_to_kernel(f, -1);
        return;
    }
    if (fault_resume != 0) {
        record_fault(f);
        f->rip = fault_resume;
        fault_resume = 0;
        return;
    }
    failures++;
    tprintf("FAIL: unexpected exception %lu (error code %lx) at %lx, CS %lx, CR2 %lx\n", f->vector,
            f->error, f->rip, f->cs, read_cr2());
    test_exit(1);
}

void user_exit(int result)
{
    __asm__ volatile("int %0" : : "i"(VEC_USER_EXIT), "D"((uint64_t)result) : "memory");
    for (;;) {
    }
}
