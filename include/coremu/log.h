/*
 * coremu — logging with QEMU's -d categories and -D file.
 *
 * The enabled mask is read on hot paths with a relaxed load (coremu_log_enabled), so a disabled
 * category costs one load and a branch. Messages from different threads never interleave within
 * a line.
 */
#ifndef COREMU_LOG_H
#define COREMU_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum coremu_log_cat {
    COREMU_LOG_GUEST_ERRORS = 1u << 0, /* guest did something architecturally wrong */
    COREMU_LOG_UNIMP = 1u << 1,        /* guest used something coremu does not implement */
    COREMU_LOG_INT = 1u << 2,          /* exceptions and interrupts */
    COREMU_LOG_EXEC = 1u << 3,         /* every translation block executed */
    COREMU_LOG_IN_ASM = 1u << 4,       /* guest code as it is translated */
    COREMU_LOG_MMU = 1u << 5,          /* page-table walks and faults */
    COREMU_LOG_CPU = 1u << 6,          /* CPU state before each block */
    COREMU_LOG_CPU_RESET = 1u << 7,    /* CPU state at reset */
    COREMU_LOG_PCALL = 1u << 8,        /* firmware calls (PSCI, hypercalls) */
    COREMU_LOG_TRACE_DEV = 1u << 9,    /* device register accesses */
};

extern _Atomic uint32_t coremu_log_mask;

static inline bool coremu_log_enabled(uint32_t cat)
{
    return (atomic_load_explicit(&coremu_log_mask, memory_order_relaxed) & cat) != 0;
}

/* Parses "-d" items ("guest_errors,int", "help" prints the list and returns 1). 0, 1, or -1
 * with a message in err. */
int coremu_log_parse(const char *items, char *err, unsigned long errlen);
/* Sends the log to path ("-D"), or stderr when NULL. 0 or -errno. */
int coremu_log_set_file(const char *path);
void coremu_log(uint32_t cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void coremu_vlog(uint32_t cat, const char *fmt, va_list ap);

#define COREMU_LOG(cat, ...)                                                                      \
    do {                                                                                          \
        if (coremu_log_enabled(cat)) {                                                            \
            coremu_log((cat), __VA_ARGS__);                                                       \
        }                                                                                         \
    } while (0)

#endif /* COREMU_LOG_H */
