/*
 * Minimal harness for the runtime unit tests. Each check prints one line that the DejaGnu
 * script turns into a test result: "PASS: name" or "FAIL: name: why". The program's exit
 * status is non-zero when any check failed, so a crash or an early exit is never a pass.
 */
#ifndef COREMU_TEST_UNIT_H
#define COREMU_TEST_UNIT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* dir/name in one of eight rotating buffers: a call may take a few paths at once. */
static inline char *unit_path_in(const char *dir, const char *name)
{
    static char buf[8][512];
    static unsigned next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

/* Writes len bytes of data to path (created or truncated); the test stops if it cannot. */
static inline void unit_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    UNIT_REQUIRE(f != NULL, "setup: write file", "%s: %s", path, strerror(errno));
    UNIT_REQUIRE(len == 0 || fwrite(data, 1, len, f) == len, "setup: write file", "%s: short write",
                 path);
    UNIT_REQUIRE(fclose(f) == 0, "setup: write file", "%s: %s", path, strerror(errno));
}

static inline int unit_done(void)
{
    if (unit_passes == 0 && unit_failures == 0) {
        printf("FAIL: no checks ran\n");
        return 2;
    }
    return unit_failures ? 1 : 0;
}

#endif /* COREMU_TEST_UNIT_H */
