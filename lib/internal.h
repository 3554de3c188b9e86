/*
 * Declarations shared between libcoremu's own files. Nothing here is installed or exported:
 * only symbols named coremu_* leave the library (see -export-symbols-regex in Makefile.am), so
 * internal helpers use the rt_ prefix.
 */
#ifndef COREMU_LIB_INTERNAL_H
#define COREMU_LIB_INTERNAL_H

#include <stdint.h>

/* Names the calling thread (at most 15 characters are kept by Linux). */
void rt_thread_set_name(const char *name);

/* Futex wait/wake on a 32-bit word (Linux). wait returns when *addr != expected, on a wake-up,
 * on a signal or when the relative timeout (ns, < 0: none) passes. */
void rt_futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns);
void rt_futex_wake(_Atomic uint32_t *addr, int count);

#endif /* COREMU_LIB_INTERNAL_H */
