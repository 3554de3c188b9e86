/*
 * coremu — the public interface of libcoremu, the runtime shared by every coremu-system-*
 * binary. The library knows nothing of any guest architecture.
 */
#ifndef COREMU_COREMU_H
#define COREMU_COREMU_H

#include <coremu/atomic.h>
#include <coremu/board.h>
#include <coremu/block.h>
#include <coremu/chardev.h>
#include <coremu/clock.h>
#include <coremu/cpu.h>
#include <coremu/evq.h>
#include <coremu/iothread.h>
#include <coremu/irq.h>
#include <coremu/loader.h>
#include <coremu/log.h>
#include <coremu/machine.h>
#include <coremu/options.h>
#include <coremu/physmem.h>
#include <coremu/process.h>
#include <coremu/softmmu.h>
#include <coremu/tb.h>
#include <coremu/topology.h>
#include <coremu/util.h>

/* The package version ("0.1.0"). */
const char *coremu_version(void);

#endif /* COREMU_COREMU_H */
