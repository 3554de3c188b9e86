/*
 * coremu — ARM Generic Interrupt Controller, architecture version 2 (GICv2), as a device model.
 *
 * Written from the GIC Architecture Specification v2.0 (ARM IHI 0048B). What is modelled:
 *   - a distributor with 288 interrupts (16 SGIs, 16 PPIs, 256 SPIs) and up to 8 CPU
 *     interfaces, without the Security Extensions and without the Virtualization Extensions
 *     (no GICH/GICV: a device tree must not describe them);
 *   - interrupt grouping, which GICv2 has even without the Security Extensions: group 0
 *     interrupts are signalled as FIQ when GICC_CTLR.FIQEn is set, as IRQ otherwise; group 1
 *     always as IRQ. Every access counts as Secure, so GICC_CTLR has the Secure copy's layout,
 *     GICC_ABPR is the group 1 binary point, GICC_AIAR/AEOIR/AHPPIR are the group 1 aliases,
 *     GICC_EOIR and GICC_DIR follow EOImodeS (bit 9) and GICC_AEOIR follows EOImodeNS (bit 10);
 *   - 5 priority bits (IPRIORITYR and PMR bits [2:0] are RAZ/WI), so the minimum binary point
 *     is 2 (GICC_BPR) and 3 (GICC_ABPR), and the active priorities fit GICC_APR0/GICC_NSAPR0
 *     (one bit per group priority: bit n stands for priority n << 3);
 *   - SGIs keep their pending state per source core; the active state is per SGI and target.
 *
 * The CPU interface's output to each core is a level: while the core has an interrupt to
 * signal, its IRQ (or FIQ) bit stays set in the core's pending word (coremu_cpu_kick, which also
 * wakes a core sleeping in WFI), and it is cleared (coremu_cpu_clear_pending) as soon as there
 * is none. The core then takes the exception and reads GICC_IAR through MMIO.
 *
 * Threads, without a lock. Interrupt delivery goes through the runtime's per-core event queues;
 * no GIC entry point takes a lock, and both MMIO regions are COREMU_MMIO_LOCKLESS. The state
 * falls in three kinds (gic.c documents each field):
 *   - Core-owned: each CPU interface, and the banked state of interrupts 0-31 of its core
 *     (enable, active, group, edge configuration, priorities, PPI pending latch). Only that
 *     core's thread reads or writes it: GICC_* and the banked GICD_* registers always refer to
 *     the accessing core (coremu_cpu_self()), so those accesses are the core's own.
 *   - Shared words that other threads change for a core: the per-source pending bits of its
 *     SGIs (GICD_SGIR from any core: fetch_or), its PPI input lines and their rising edges
 *     (gic_set_ppi: fetch_or/fetch_and; the core folds the edges into its latch itself).
 *   - Distributor-wide: SPI enable, pending latch, input level, active, group, edge
 *     configuration, priority, targets, and GICD_CTLR. All atomic, changed with one atomic
 *     read-modify-write per register access (a masked write is a compare-and-swap loop) by any
 *     thread: device threads (gic_set_irq) and any core (MMIO).
 * Only core c computes its own output (the highest pending interrupt and whether it may be
 * signalled) and writes its IRQ/FIQ bits, so those bits have a single writer and comparing
 * them with the wanted value is exact. A thread that changes state that core c may see posts
 * core c an update request: one preallocated event per core, coalesced by an atomic flag so
 * that at most one is queued. The changer makes its change and then exchanges the flag to 1,
 * posting the event if it was 0; the core exchanges the flag to 0 before it re-reads the
 * state. So either the changer's exchange saw 0 and its event follows its change, or it saw
 * the 1 of an event whose handler has not cleared the flag yet and so reads the state after
 * the change (every shared access is sequentially consistent, so this holds across different
 * words too). A core that changes state it sees itself re-evaluates at once. Events wake a
 * core sleeping in WFI (COREMU_PENDING_EVENT always does) and are drained while it is off.
 *
 * Acknowledging an SPI is exact under races: a core claims it by setting its active bit with
 * fetch_or (a 1-N SPI targeted at several cores goes to whoever sets the bit first; the others
 * find it active and look for the next one), then checks that it is still enabled, targeted
 * at it and pending and consumes the edge latch with fetch_and; if it is not, the claim is
 * undone and the core looks again. Whoever acknowledges or deactivates an SPI posts updates to
 * its other targets, whose outputs it may hide or reveal. The remaining cost of a cross-core
 * change is one event per affected core; nothing serialises unrelated cores.
 */
#ifndef COREMU_HW_GIC_H
#define COREMU_HW_GIC_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/cpu.h>
#include <coremu/physmem.h>

struct gic;

#define GIC_NR_IRQS 288u  /* interrupt IDs 0..287: SGIs 0-15, PPIs 16-31, SPIs 32-287 */
#define GIC_NR_SPIS 256u
#define GIC_FIRST_SPI 32u
#define GIC_FIRST_PPI 16u
#define GIC_MAX_CPUS 8u
#define GIC_DIST_SIZE 0x1000u /* architected register window sizes; a larger mapping reads */
#define GIC_CPU_SIZE 0x2000u  /* as zero and ignores writes beyond them */

/* Creates a GIC with ncpus (1..8) CPU interfaces in its reset state. irq_bit and fiq_bit are
 * the architecture's bits of coremu_cpu.pending that stand for the IRQ and FIQ inputs of a
 * core. The outputs go nowhere until gic_attach. NULL on bad arguments or allocation failure. */
struct gic *gic_new(unsigned ncpus, uint32_t irq_bit, uint32_t fiq_bit);
/* Connects CPU interface i to m->cpus[i] (i < ncpus) and posts every core an update request,
 * so that each signals whatever is already pending (and drops IRQ/FIQ bits a previous GIC left
 * behind). Any thread, once, before the cores run guest code. */
void gic_attach(struct gic *g, struct coremu_machine *m);
/* Adds the distributor / CPU interface register windows to as at base; size is the window the
 * board reserves (at least GIC_DIST_SIZE / GIC_CPU_SIZE). 0 or -errno (coremu_as_add_mmio). */
int gic_map_dist(struct gic *g, struct coremu_as *as, uint64_t base, uint64_t size);
int gic_map_cpu(struct gic *g, struct coremu_as *as, uint64_t base, uint64_t size);
/* Returns every register to its reset state: the machine's reset, called from any thread while
 * the world is stopped (coremu_machine_stop_world: every core parked, no core thread touches
 * the GIC). The input lines of SPIs and PPIs are wires owned by devices and keep their levels.
 * Every attached core's IRQ and FIQ bits are cleared; update requests still queued stay queued
 * and, when they run, evaluate the reset state, which signals nothing until the guest enables
 * something again. Device threads may keep calling gic_set_irq meanwhile. */
void gic_reset(struct gic *g);
/* Frees the GIC; its regions must not be reachable by running cores any more, and no update
 * request may still be queued on a running core (free it after coremu_machine_wait, or after
 * every core has drained its event queue). */
void gic_free(struct gic *g);

/* A shared peripheral interrupt input changed level: irq is the interrupt ID (32..287). Any
 * thread; may be called with the device's own lock held. */
void gic_set_irq(struct gic *g, int irq, bool level);
/* A private peripheral interrupt input of core cpu changed level: ppi is the PPI number 0..15
 * (interrupt ID 16 + ppi, as device trees number them). Normally on that core's own thread (its
 * generic timer), which then re-evaluates its output at once; from any other thread it posts
 * the core an update request. */
void gic_set_ppi(struct gic *g, unsigned cpu, int ppi, bool level);

/* The MMIO callbacks (opaque = struct gic *). Exposed for host-side tests that drive the
 * register file directly; the board only uses gic_map_*. */
extern const struct coremu_mmio_ops gic_dist_mmio_ops;
extern const struct coremu_mmio_ops gic_cpu_mmio_ops;

#endif /* COREMU_HW_GIC_H */
