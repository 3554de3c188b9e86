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
 * signal, the GIC keeps the core's IRQ (or FIQ) bit set in its pending word (coremu_cpu_kick,
 * which also wakes a core sleeping in WFI), and clears it (coremu_cpu_clear_pending) as soon as
 * it has none. The core then takes the exception and reads GICC_IAR through MMIO.
 *
 * Threads and locks. All state sits behind one mutex, gic.lock; both MMIO regions are
 * registered as COREMU_MMIO_LOCKLESS so that this single mutex serialises every caller:
 *   - core threads: MMIO accesses (the banked registers and the CPU interface refer to the core
 *     making the access, coremu_cpu_self()), and their generic timer's PPIs (gic_set_ppi);
 *   - any thread: device interrupt lines (gic_set_irq), often with the device's own lock held.
 * The lock is a leaf: with it held the GIC calls only coremu_cpu_kick/coremu_cpu_clear_pending
 * (which never block: a kick is an atomic or and at most one futex wake) and the log, never a
 * device, so the order "device lock, then GIC lock" is the only one there is and no core waits
 * on the GIC while holding anything else. The cost is contention: every acknowledge, EOI and
 * line change in the machine serialises on this one lock, held for a scan of at most 9 words of
 * candidate interrupts per affected core. See gic.c for the per-field rules.
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
/* Connects CPU interface i to m->cpus[i] (i < ncpus) and signals whatever is already pending.
 * Any thread, once, before the cores run guest code. */
void gic_attach(struct gic *g, struct coremu_machine *m);
/* Adds the distributor / CPU interface register windows to as at base; size is the window the
 * board reserves (at least GIC_DIST_SIZE / GIC_CPU_SIZE). 0 or -errno (coremu_as_add_mmio). */
int gic_map_dist(struct gic *g, struct coremu_as *as, uint64_t base, uint64_t size);
int gic_map_cpu(struct gic *g, struct coremu_as *as, uint64_t base, uint64_t size);
/* Frees the GIC; its regions must not be reachable by running cores any more. */
void gic_free(struct gic *g);

/* A shared peripheral interrupt input changed level: irq is the interrupt ID (32..287). Any
 * thread; may be called with the device's own lock held. */
void gic_set_irq(struct gic *g, int irq, bool level);
/* A private peripheral interrupt input of core cpu changed level: ppi is the PPI number 0..15
 * (interrupt ID 16 + ppi, as device trees number them). Normally on that core's own thread. */
void gic_set_ppi(struct gic *g, unsigned cpu, int ppi, bool level);

/* The MMIO callbacks (opaque = struct gic *). Exposed for host-side tests that drive the
 * register file directly; the board only uses gic_map_*. */
extern const struct coremu_mmio_ops gic_dist_mmio_ops;
extern const struct coremu_mmio_ops gic_cpu_mmio_ops;

#endif /* COREMU_HW_GIC_H */
