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

/* The enabled categories. Written by coremu_log_parse (normally once, at start-up); read relaxed
 * by anyone: no other data is published through it. */
extern _Atomic uint32_t coremu_log_mask;

static inline bool coremu_log_enabled(uint32_t cat)
{
    return (atomic_load_explicit(&coremu_log_mask, memory_order_relaxed) & cat) != 0;
}

/* Parses "-d" items ("guest_errors,int") and makes them the enabled mask; "help" prints the
 * list on stdout and returns 1, leaving the mask alone. 0, 1, or -1 with a one-line message in
 * err (naming the unknown item; the mask is then unchanged). */
int coremu_log_parse(const char *items, char *err, unsigned long errlen);
/* Sends the log to path ("-D", truncated first), or stderr when NULL. 0 or -errno. Any
 * thread; a line being written finishes on the old file. */
int coremu_log_set_file(const char *path);
/* Writes one message, adding the final newline if it lacks one, in a single write under a lock:
 * lines from different threads never interleave. Nothing is written unless cat is enabled;
 * cat 0 always writes. */
void coremu_log(uint32_t cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void coremu_vlog(uint32_t cat, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define COREMU_LOG(cat, ...)                                                                      \
    do {                                                                                          \
        if (coremu_log_enabled(cat)) {                                                            \
            coremu_log((cat), __VA_ARGS__);                                                       \
        }                                                                                         \
    } while (0)

#endif /* COREMU_LOG_H */
