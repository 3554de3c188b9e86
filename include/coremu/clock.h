/*
 * coremu — the virtual clock.
 *
 * One monotonic clock in nanoseconds, shared by every core and device: host CLOCK_MONOTONIC
 * minus the moment the runtime started, minus the time the machine spent paused (so a guest
 * stopped with -S or by the debugger does not see time jump).
 */
#ifndef COREMU_CLOCK_H
#define COREMU_CLOCK_H

#include <stdint.h>

#define COREMU_NS_PER_SEC 1000000000LL

/* Nanoseconds of virtual time; any thread, lock-free. */
int64_t coremu_clock_ns(void);
/* Host monotonic time in ns (for measuring, not for guests). */
int64_t coremu_host_ns(void);
/* Freeze and thaw virtual time (nestable; any thread). */
void coremu_clock_pause(void);
void coremu_clock_resume(void);
/* Host CLOCK_REALTIME in ns, for RTCs. */
int64_t coremu_wall_ns(void);

#endif /* COREMU_CLOCK_H */
