/*
 * Support library of the bare-metal ARM tests (lib.c, start.S): output through the virt
 * board's PL011, results, PSCI, atomics, and exception hooks.
 *
 * A test program is one C file (or assembly file) in testsuite/arm/ with a main(). Its contract
 * with the harness (testsuite/coremu.arm/baremetal.exp):
 *   - it prints one line per check, "PASS: name" or "FAIL: name[: why]" (test_check and
 *     friends do this), and any other lines it likes (they go to the DejaGnu log);
 *   - it ends by powering the machine off through PSCI SYSTEM_OFF (returning from main does
 *     that), so the emulator exits with status 0. A program that hangs, crashes the emulator or
 *     never powers off is a failure of its own.
 * Cores other than core 0 are started with test_start_core(); they run secondary_main(arg)
 * and are switched off (PSCI CPU_OFF) when it returns.
 */
#ifndef COREMU_TEST_ARM_H
#define COREMU_TEST_ARM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEST_MAX_CORES 8 /* link.ld and start.S size the stacks for this many */

/* ---- output (PL011 UART0 at 0x09000000); every call prints atomically w.r.t. other cores */
void uart_putc(char c);      /* no lock: for single-core code and panics */
void uart_puts(const char *s);
void print_hex(uint32_t v);  /* "0x%08x" */
/* A small printf: %s %c %d %u %x, a zero-padding width (%08x), %%. Every number is 32 bits
 * (uint32_t, int32_t, unsigned, int): no printf format attribute, because newlib's uint32_t is
 * unsigned long and the compiler would want %lx for it. */
void tprintf(const char *fmt, ...);
void tvprintf(const char *fmt, va_list ap);

/* ---- results ------------------------------------------------------------------------------ */
void test_pass(const char *name);
void test_fail(const char *name, const char *fmt, ...);
/* PASS when ok, else FAIL with the formatted reason. Returns ok. */
bool test_check(bool ok, const char *name, const char *fmt, ...);
/* The common case: a value compared with the expected one. */
bool test_check_eq(const char *name, uint32_t got, uint32_t want);
unsigned test_failures(void);
/* Powers the machine off (PSCI SYSTEM_OFF); never returns. */
void test_exit(void) __attribute__((noreturn));

/* ---- PSCI over HVC ------------------------------------------------------------------------ */
#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND 0x84000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0x84000003u
#define PSCI_AFFINITY_INFO 0x84000004u
#define PSCI_MIGRATE 0x84000005u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_DENIED (-3)
#define PSCI_ALREADY_ON (-4)
#define PSCI_ON_PENDING (-5)
#define PSCI_INVALID_ADDRESS (-9)

int32_t psci_call(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3);
int32_t psci_cpu_on(uint32_t mpidr, uintptr_t entry, uint32_t context_id);
void psci_system_off(void) __attribute__((noreturn));

/* start.S: where CPU_ON'd cores enter; they call this with the context id. Tests that start
 * other cores define it. */
extern char _secondary_start[];
void secondary_main(uint32_t arg);
/* CPU_ON for core `index` (MPIDR Aff0) at _secondary_start with arg: a PSCI return code. */
int32_t test_start_core(unsigned index, uint32_t arg);

/* ---- the core ----------------------------------------------------------------------------- */
static inline uint32_t read_mpidr(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c0, c0, 5" : "=r"(v));
    return v;
}
static inline unsigned core_index(void)
{
    return read_mpidr() & 0xff;
}
static inline void dmb(void)
{
    __asm__ volatile("dmb ish" ::: "memory");
}
static inline void dsb(void)
{
    __asm__ volatile("dsb ish" ::: "memory");
}

/* LDREX/STREX: *p += v, returns the new value. */
uint32_t atomic_add(volatile uint32_t *p, uint32_t v);
/* A ticketless spinlock (LDREX/STREX, WFE while held, SEV on release). */
void spin_lock(volatile uint32_t *lock);
void spin_unlock(volatile uint32_t *lock);

/* ---- exceptions --------------------------------------------------------------------------- */
enum exc_kind {
    EXC_RESET = 0x00, EXC_UNDEF = 0x04, EXC_SVC = 0x08, EXC_PABT = 0x0c, EXC_DABT = 0x10,
    EXC_HYP = 0x14, EXC_IRQ = 0x18, EXC_FIQ = 0x1c,
};
/* What start.S saved. pc is the address the exception is about: the undefined instruction,
 * the instruction after the SVC, the aborting instruction, the instruction to resume after an
 * interrupt. The handler may change any field; execution resumes at pc with CPSR = spsr. */
struct exc_frame {
    uint32_t spsr;
    uint32_t pad;
    uint32_t r[13];
    uint32_t pc;
};
/* Returns true when it handled the exception; false makes it an unexpected one (a FAIL line
 * and power off). One hook for all cores. */
typedef bool (*exc_hook)(enum exc_kind kind, struct exc_frame *f);
void set_exception_hook(exc_hook hook);

/* ---- freestanding C needs these ----------------------------------------------------------- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif /* COREMU_TEST_ARM_H */
