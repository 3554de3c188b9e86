/*
 * Bare-metal x86_64 test programs: the runtime's interface (entry.S, lib.c). Included by C and by
 * assembly (the constants only).
 */
#ifndef COREMU_X86_TEST_H
#define COREMU_X86_TEST_H

/* Multiboot v1: the a.out-kludge addresses are valid (bit 16); nothing else asked for. */
#define MB_MAGIC      0x1BADB002
#define MB_FLAGS      0x00010000
#define MB_BOOT_MAGIC 0x2BADB002

#define COM1            0x3f8
#define DEBUG_EXIT_PORT 0xf4

/* Selectors of entry.S's GDT. SYSCALL/SYSRET (syscall.c) rely on the order 0x08/0x10 and
 * 0x18/0x20/0x28. */
#define SEL_CODE64     0x08
#define SEL_DATA       0x10
#define SEL_UCODE32    0x18
#define SEL_UDATA      0x20
#define SEL_UCODE64    0x28
#define SEL_CODE32     0x30
#define SEL_CODE16     0x38
#define SEL_DATA16     0x40
#define SEL_TSS        0x48
#define GDT_FIRST_FREE 11 /* index of the first entry the programs may fill (selector 0x58) */
#define GDT_ENTRIES    32

#define CR0_PE             (1 << 0)
#define CR0_WP             (1 << 16)
#define CR0_PG             0x80000000
#define CR4_PAE            (1 << 5)
#define CR4_PGE            (1 << 7)
#define CR4_FSGSBASE       (1 << 16)
#define MSR_EFER           0xc0000080
#define EFER_SCE           (1 << 0)
#define EFER_LME           (1 << 8)
#define EFER_LMA           (1 << 10)
#define EFER_NXE           (1 << 11)
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_SFMASK         0xc0000084
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

#define PTE_P   (1 << 0)
#define PTE_W   (1 << 1)
#define PTE_U   (1 << 2)
#define PTE_PWT (1 << 3)
#define PTE_PCD (1 << 4)
#define PTE_A   (1 << 5)
#define PTE_D   (1 << 6)
#define PTE_PS  (1 << 7)
#define PTE_G   (1 << 8)

/* The vector user code raises to end run_user (a DPL 3 interrupt gate). */
#define VEC_USER_EXIT 0x81

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PTE_NX (1ull << 63)

/* What isr_common saves: the general registers, then the vector, the error code (0 when the
 * exception has none) and the CPU's interrupt frame. */
struct exc_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* The last exception taken through fault_expect / run_user (lib.c). */
struct fault_record {
    int count;
    uint64_t vector, error, rip, cs, cr2, rsp;
};
extern volatile struct fault_record last_fault;

/* Output and results. */
void putc_serial(char c);
void puts_serial(const char *s);
void tprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void test_check(const char *name, bool ok);
void test_check_eq(const char *name, uint64_t got, uint64_t expected);
void test_pass(const char *name);
void test_fail(const char *name, const char *why);
int test_failures(void);
void test_exit(int status) __attribute__((noreturn));

/* Exceptions. A hook sees every exception first (except VEC_USER_EXIT); returning true means it
 * handled it and the frame (possibly changed) is returned to. Otherwise an expected fault (the
 * FAULT_GUARD below, or any exception at CPL 3 during run_user) is recorded in last_fault, and
 * anything else fails the program. */
typedef bool (*exception_hook_fn)(struct exc_frame *frame);
void set_exception_hook(exception_hook_fn fn);
void idt_set_gate(unsigned vector, uint64_t handler, unsigned dpl, unsigned ist, unsigned type);
void idt_set_vector(unsigned vector, unsigned dpl, unsigned ist); /* back to its stub */
extern char isr_stubs[];
extern uint64_t tss_ist[8]; /* IST1..7 stack tops in [1..7]; [0] unused */
uint64_t tss_rsp0(void);    /* the stack top the CPU switches to from CPL 3 */
extern uint8_t ist_stacks[7][8192];
extern uint64_t gdt[GDT_ENTRIES];
void fault_clear(void);

/* FAULT_GUARD_BEGIN ... FAULT_GUARD_END inside one asm statement (which must clobber r11 and
 * memory): a fault between them is recorded in last_fault and execution goes on after
 * FAULT_GUARD_END with the registers as they were at the fault. */
#define FAULT_GUARD_BEGIN      \
    "lea 9f(%%rip), %%r11\n\t" \
    "mov %%r11, fault_resume(%%rip)\n\t"
#define FAULT_GUARD_END \
    "\n9:\n\t"          \
    "movq $0, fault_resume(%%rip)\n\t"
extern volatile uint64_t fault_resume;

/* User mode (CPL 3, 64-bit): runs fn(arg) on user_rsp until it calls user_exit() or takes an
 * exception that no hook handled (recorded in last_fault). Returns user_result: the value
 * user_exit passed, or -1 after an exception. */
int run_user(void (*fn)(uint64_t), uint64_t user_rsp, uint64_t arg);
void user_exit(int result) __attribute__((noreturn));
extern uint8_t user_stack[16384];
#define USER_STACK_TOP ((uint64_t)(user_stack + sizeof(user_stack)))

/* Memory. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
void *page_alloc(void); /* a zeroed 4 KiB page from the free memory above the program */
extern uint64_t pml4[512];

/* Mappings of the programs' own, above the identity map (PML4 entries 1 and up: from 512 GiB).
 * pt_entry returns the entry that maps va at level (1: 4 KiB page table entry, 2: 2 MiB page
 * directory entry, 3: 1 GiB page directory pointer entry) in the tables under root, making the
 * tables above it (present, writable, user) where there are none. map_page maps one 4 KiB page in
 * the running tables and invalidates it. */
#define TEST_VA_BASE  0x8000000000ull
#define PTE_ADDR_MASK 0x000ffffffffff000ull
volatile uint64_t *pt_entry(uint64_t *root, uint64_t va, int level);
void map_page(uint64_t va, uint64_t pa, uint64_t flags);

/* The multiboot handoff as _start found it. */
extern uint32_t mb_magic, mb_info;

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
#define DEFINE_CR(n)                                               \
    static inline uint64_t read_cr##n(void)                        \
    {                                                              \
        uint64_t v;                                                \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));          \
        return v;                                                  \
    }                                                              \
    static inline void write_cr##n(uint64_t v)                     \
    {                                                              \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
    }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
static inline void invlpg(const volatile void *p)
{
    __asm__ volatile("invlpg (%0)" : : "r"(p) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

#endif /* __ASSEMBLER__ */
#endif
