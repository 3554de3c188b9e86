/*
 * Minimal harness for the runtime unit tests. Each check prints one line that the DejaGnu
 * script turns into a test result: "PASS: name" or "FAIL: name: why". The program's exit
 * status is non-zero when any check failed, so a crash or an early exit is never a pass.
 */
#ifndef COREMU_TEST_UNIT_H
#define COREMU_TEST_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int unit_failures;
static int unit_passes;

static inline void unit_pass(const char *name)
{
    printf("PASS: %s\n", name);
    fflush(stdout);
    unit_passes++;
}

static inline void __attribute__((format(printf, 2, 3))) unit_fail(const char *name,
                                                                     const char *fmt, ...)
{
    va_list ap;
    printf("FAIL: %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    unit_failures++;
}

/* Records a pass when cond holds, else a failure with the formatted reason. */
#define UNIT_CHECK(cond, name, ...)                                                               \
    do {                                                                                          \
        if (cond) {                                                                               \
            unit_pass(name);                                                                      \
        } else {                                                                                  \
            unit_fail(name, __VA_ARGS__);                                                         \
        }                                                                                         \
    } while (0)

/* Fatal setup error: the test cannot go on. */
#define UNIT_REQUIRE(cond, name, ...)                                                             \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            unit_fail(name, __VA_ARGS__);                                                         \
            exit(2);                                                                              \
        }                                                                                         \
    } while (0)

static inline int unit_done(void)
{
    if (unit_passes == 0 && unit_failures == 0) {
        printf("FAIL: no checks ran\n");
        return 2;
    }
    return unit_failures ? 1 : 0;
}

#endif /* COREMU_TEST_UNIT_H */
