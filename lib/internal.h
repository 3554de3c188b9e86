/*
 * Declarations shared between libcoremu's own files. Nothing here is installed or exported:
 * only symbols named coremu_* leave the library (see -export-symbols-regex in Makefile.am), so
 * internal helpers use the rt_ prefix.
 */
#ifndef COREMU_LIB_INTERNAL_H
#define COREMU_LIB_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Names the calling thread (at most 15 characters are kept by Linux). */
void rt_thread_set_name(const char *name);

/* Futex wait/wake on a 32-bit word (Linux). wait returns when *addr != expected, on a wake-up,
 * on a signal or when the relative timeout (ns, < 0: none) passes. */
void rt_futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns);
void rt_futex_wake(_Atomic uint32_t *addr, int count);

/* One pause of a spin-wait loop: tells the host CPU that we spin, which leaves more of the core
 * to a sibling hardware thread and avoids a memory-order mis-speculation when the wait ends. */
static inline void rt_spin_hint(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Writes all of buf to fd, through short writes and EINTR (log.c). Any other error ends it
 * silently: a message or a log that cannot be written must not stop the machine. */
void rt_write_all(int fd, const char *buf, size_t len);

#endif /* COREMU_LIB_INTERNAL_H */
