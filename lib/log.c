/*
 * coremu — the -d log: categories, the -D file, and whole-line writes.
 *
 * Every message is formatted into one buffer first and then written with a single write(2)
 * loop under log_lock, so that lines from different cores never interleave.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coremu/log.h>
#include <coremu/util.h>

#include "internal.h"

/* Written by coremu_log_parse (start-up, relaxed: nothing else is published with it); read
 * relaxed on hot paths through coremu_log_enabled. */
_Atomic uint32_t coremu_log_mask;

static const struct {
    const char *name;
    uint32_t cat;
    const char *help;
} log_items[] = {
    {"guest_errors", COREMU_LOG_GUEST_ERRORS, "the guest did something architecturally wrong"},
    {"unimp", COREMU_LOG_UNIMP, "the guest used something coremu does not implement"},
    {"int", COREMU_LOG_INT, "exceptions and interrupts"},
    {"exec", COREMU_LOG_EXEC, "every translation block executed"},
    {"in_asm", COREMU_LOG_IN_ASM, "guest code as it is translated"},
    {"mmu", COREMU_LOG_MMU, "page-table walks and faults"},
    {"cpu", COREMU_LOG_CPU, "CPU state before each block"},
    {"cpu_reset", COREMU_LOG_CPU_RESET, "CPU state at reset"},
    {"pcall", COREMU_LOG_PCALL, "firmware calls (PSCI, hypercalls)"},
    {"trace_dev", COREMU_LOG_TRACE_DEV, "device register accesses"},
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = STDERR_FILENO; /* under log_lock */

static void log_print_help(void)
{
    printf("Log items (comma separated, for -d):\n");
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(log_items); i++) {
        printf("  %-14s %s\n", log_items[i].name, log_items[i].help);
    }
    fflush(stdout);
}

int coremu_log_parse(const char *items, char *err, unsigned long errlen)
{
    uint32_t mask = 0;
    const char *p = items ? items : "";

    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (len == 4 && strncmp(p, "help", 4) == 0) {
            log_print_help();
            return 1;
        }
        if (len > 0) {
            size_t i, n = COREMU_ARRAY_SIZE(log_items);
            for (i = 0; i < n; i++) {
                if (strlen(log_items[i].name) == len && strncmp(p, log_items[i].name, len) == 0) {
                    break;
                }
            }
            if (i == n) {
                snprintf(err, errlen, "unknown log item '%.*s' (-d help lists them)", (int)len,
                         p);
                return -1;
            }
            mask |= log_items[i].cat;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    atomic_store_explicit(&coremu_log_mask, mask, memory_order_relaxed);
    return 0;
}

int coremu_log_set_file(const char *path)
{
    int fd = STDERR_FILENO;
    if (path != NULL) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            return -errno;
        }
    }
    pthread_mutex_lock(&log_lock);
    int old = log_fd;
    log_fd = fd;
    pthread_mutex_unlock(&log_lock);
    if (old != STDERR_FILENO) {
        close(old);
    }
    return 0;
}

void rt_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

void coremu_vlog(uint32_t cat, const char *fmt, va_list ap)
{
    if (cat != 0 && !coremu_log_enabled(cat)) {
        return;
    }
    char stack[512];
    char *buf = stack;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(stack, sizeof(stack), fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    /* Room for the text, a newline and the terminator. */
    if (len + 2 > sizeof(stack)) {
        char *big = malloc(len + 2);
        if (big != NULL) {
            vsnprintf(big, len + 1, fmt, ap2);
            buf = big;
        } else {
            len = sizeof(stack) - 2;
        }
    }
    va_end(ap2);
    if (len == 0 || buf[len - 1] != '\n') {
        buf[len++] = '\n';
    }
    pthread_mutex_lock(&log_lock);
    rt_write_all(log_fd, buf, len);
    pthread_mutex_unlock(&log_lock);
    if (buf != stack) {
        free(buf);
    }
}

void coremu_log(uint32_t cat, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    coremu_vlog(cat, fmt, ap);
    va_end(ap);
}
