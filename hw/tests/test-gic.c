/*
 * Host-side tests of the GICv2 model. A fake machine of 4 cores (the runtime of lib/, with a CPU
 * loop that only serves events) makes every register access on the thread of the core it is
 * meant for (coremu_cpu_run_sync), so the banked registers and the CPU interface see the right
 * core, exactly as guest accesses would. The GIC's outputs are checked in each core's pending
 * word. Expected values come from the GIC Architecture Specification v2.0 (IHI 0048B).
 *
 * The GIC has no lock: a change made on one thread reaches another core as an update request
 * in that core's event queue. A check of the cores' outputs therefore first lets every core
 * drain its queue (settle: a no-op run_sync on each, which the queue's order puts after every
 * request posted before it).
 *
 * The last part is a concurrency test (meant to run under ThreadSanitizer too): device threads
 * raise and lower level SPIs and pulse edge SPIs aimed at several cores while another thread
 * retargets, disables and re-enables them; a foreign thread pulses PPIs; cores send each other
 * SGIs; cores acknowledge and EOI. Every request is counted exactly once, and no 1-N SPI is
 * ever in service on two cores at once. Machine reset (gic_reset with the world stopped) and a
 * core woken from WFI by an update request are tested too.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <coremu/coremu.h>

#include "gic.h"
#include "../../testsuite/unit/unit.h"

#define NCPUS 4u
#define IRQ_BIT (COREMU_PENDING_ARCH0 << 0)
#define FIQ_BIT (COREMU_PENDING_ARCH0 << 1)

/* Distributor offsets. */
enum {
    GICD_CTLR = 0x000, GICD_TYPER = 0x004, GICD_IIDR = 0x008, GICD_IGROUPR = 0x080,
    GICD_ISENABLER = 0x100, GICD_ICENABLER = 0x180, GICD_ISPENDR = 0x200, GICD_ICPENDR = 0x280,
    GICD_ISACTIVER = 0x300, GICD_ICACTIVER = 0x380, GICD_IPRIORITYR = 0x400,
    GICD_ITARGETSR = 0x800, GICD_ICFGR = 0xc00, GICD_SGIR = 0xf00, GICD_CPENDSGIR = 0xf10,
    GICD_SPENDSGIR = 0xf20,
};
/* CPU interface offsets. */
enum {
    GICC_CTLR = 0x00, GICC_PMR = 0x04, GICC_BPR = 0x08, GICC_IAR = 0x0c, GICC_EOIR = 0x10,
    GICC_RPR = 0x14, GICC_HPPIR = 0x18, GICC_ABPR = 0x1c, GICC_AIAR = 0x20, GICC_AEOIR = 0x24,
    GICC_AHPPIR = 0x28, GICC_APR0 = 0xd0, GICC_IIDR = 0xfc, GICC_DIR = 0x1000,
};
#define CCTLR_GRP0 1u
#define CCTLR_GRP1 2u
#define CCTLR_ACKCTL 4u
#define CCTLR_FIQEN 8u
#define CCTLR_EOIMODE 0x200u

static struct coremu_machine *machine;
static struct gic *gic;

/* ---- the fake machine ----------------------------------------------------------------------- */

/* 1 while the concurrency test runs: the cores then serve interrupts in their loop. */
static _Atomic int stress_phase;
static void stress_step(struct coremu_cpu *cpu);

/* A CPU loop that serves events (and so the GIC's update requests) at every turn, as the real
 * one does at block boundaries; during the concurrency test it also takes interrupts. */
static void fake_run(struct coremu_cpu *cpu)
{
    for (;;) {
        if (coremu_cpu_process_pending(cpu) == COREMU_CPU_LEAVE) {
            return;
        }
        if (atomic_load(&stress_phase)) {
            stress_step(cpu);
        } else {
            coremu_cpu_wait(cpu, 0);
        }
    }
}

static const struct coremu_cpu_ops fake_ops = {.run = fake_run};

struct access {
    const struct coremu_mmio_ops *ops;
    bool write;
    uint64_t offset;
    unsigned size;
    uint64_t value;
    int result;
};

static void access_fn(struct coremu_cpu *cpu, void *arg)
{
    struct access *a = arg;
    (void)cpu;
    if (a->write) {
        a->result = a->ops->write(gic, a->offset, a->size, a->value);
    } else {
        a->result = a->ops->read(gic, a->offset, a->size, &a->value);
    }
}

/* One access made by core c (on its own thread). */
static uint32_t access_as(unsigned c, const struct coremu_mmio_ops *ops, bool write,
                          uint64_t offset, unsigned size, uint64_t value)
{
    struct access a = {ops, write, offset, size, value, -1};
    if (!coremu_cpu_run_sync(machine->cpus[c], access_fn, &a)) {
        unit_fail("run_sync", "core %u did not run the access", c);
    } else if (a.result != COREMU_MEM_OK) {
        unit_fail("access", "offset 0x%llx: result %d", (unsigned long long)offset, a.result);
    }
    return (uint32_t)a.value;
}

static uint32_t drd(unsigned c, uint64_t off)
{
    return access_as(c, &gic_dist_mmio_ops, false, off, 4, 0);
}
static uint32_t drd8(unsigned c, uint64_t off)
{
    return access_as(c, &gic_dist_mmio_ops, false, off, 1, 0);
}
static void dwr(unsigned c, uint64_t off, uint32_t v)
{
    access_as(c, &gic_dist_mmio_ops, true, off, 4, v);
}
static void dwr8(unsigned c, uint64_t off, uint32_t v)
{
    access_as(c, &gic_dist_mmio_ops, true, off, 1, v);
}
static uint32_t crd(unsigned c, uint64_t off)
{
    return access_as(c, &gic_cpu_mmio_ops, false, off, 4, 0);
}
static void cwr(unsigned c, uint64_t off, uint32_t v)
{
    access_as(c, &gic_cpu_mmio_ops, true, off, 4, v);
}

static void nothing(struct coremu_cpu *cpu, void *arg)
{
    (void)cpu;
    (void)arg;
}

/* Every update request posted so far has run: each core has drained its queue up to a no-op
 * call queued after them. */
static void settle(void)
{
    for (unsigned c = 0; c < NCPUS; c++) {
        if (!coremu_cpu_run_sync(machine->cpus[c], nothing, NULL)) {
            unit_fail("settle", "core %u did not run its queue", c);
        }
    }
}

/* The cores whose IRQ (or FIQ) input is asserted, as a mask, once every core is up to date. */
static unsigned lines(uint32_t bit)
{
    unsigned m = 0;
    settle();
    for (unsigned c = 0; c < NCPUS; c++) {
        if (atomic_load(&machine->cpus[c]->pending) & bit) {
            m |= 1u << c;
        }
    }
    return m;
}
static unsigned irq_lines(void)
{
    return lines(IRQ_BIT);
}

static void set_prio(unsigned c, unsigned irq, uint8_t prio)
{
    dwr8(c, GICD_IPRIORITYR + irq, prio);
}
static void set_target(unsigned irq, uint8_t mask)
{
    dwr8(0, GICD_ITARGETSR + irq, mask);
}
static void enable(unsigned c, unsigned irq)
{
    dwr(c, GICD_ISENABLER + 4 * (irq / 32), 1u << (irq % 32));
}
static void disable(unsigned c, unsigned irq)
{
    dwr(c, GICD_ICENABLER + 4 * (irq / 32), 1u << (irq % 32));
}
static void set_edge(unsigned c, unsigned irq, bool edge)
{
    uint64_t off = GICD_ICFGR + 4 * (irq / 16);
    uint32_t v = drd(c, off);
    uint32_t bit = 2u << (2 * (irq % 16));
    dwr(c, off, edge ? v | bit : v & ~bit);
}
static bool is_pending(unsigned c, unsigned irq)
{
    return (drd(c, GICD_ISPENDR + 4 * (irq / 32)) >> (irq % 32)) & 1;
}
static bool is_active(unsigned c, unsigned irq)
{
    return (drd(c, GICD_ISACTIVER + 4 * (irq / 32)) >> (irq % 32)) & 1;
}

/* Every core's interface on, no priority masking beyond idle, fine binary point. */
static void fresh_gic(void)
{
    if (gic != NULL) {
        settle(); /* no update request of the old GIC may still be queued */
        gic_free(gic);
    }
    gic = gic_new(NCPUS, IRQ_BIT, FIQ_BIT);
    UNIT_REQUIRE(gic != NULL, "gic_new", "NULL");
    /* Its update requests also clear what the previous GIC left on the cores' lines. */
    gic_attach(gic, machine);
    dwr(0, GICD_CTLR, 1);
    for (unsigned c = 0; c < NCPUS; c++) {
        cwr(c, GICC_CTLR, CCTLR_GRP0);
        cwr(c, GICC_PMR, 0xff);
    }
    UNIT_REQUIRE(lines(IRQ_BIT | FIQ_BIT) == 0, "fresh GIC", "lines 0x%x",
                 lines(IRQ_BIT | FIQ_BIT));
}

/* ---- register file -------------------------------------------------------------------------- */

static void test_ids(void)
{
    fresh_gic();
    UNIT_CHECK(drd(0, GICD_TYPER) == ((NCPUS - 1) << 5 | 8), "GICD_TYPER: 288 interrupts, 4 CPUs",
               "0x%x", drd(0, GICD_TYPER));
    UNIT_CHECK((drd(0, 0xfe8) >> 4) == 2, "ICPIDR2.ArchRev is 2 (GICv2)", "0x%x",
               drd(0, 0xfe8));
    UNIT_CHECK(drd(0, 0xff0) == 0x0d && drd(0, 0xff4) == 0xf0 && drd(0, 0xff8) == 0x05 &&
                   drd(0, 0xffc) == 0xb1,
               "component ID registers", "0x%x", drd(0, 0xff0));
    UNIT_CHECK((drd(0, GICD_IIDR) & 0xfff) == 0x43b, "GICD_IIDR implementer is ARM", "0x%x",
               drd(0, GICD_IIDR));
    UNIT_CHECK(((crd(1, GICC_IIDR) >> 16) & 0xf) == 2, "GICC_IIDR architecture version 2",
               "0x%x", crd(1, GICC_IIDR));
    UNIT_CHECK(drd(0, GICD_ISENABLER + 4 * 9) == 0 && drd(0, GICD_IPRIORITYR + 300) == 0,
               "registers of unimplemented interrupts are RAZ", "0x%x",
               drd(0, GICD_ISENABLER + 4 * 9));

    /* Linux probes the implemented priority bits by writing 0xff. */
    set_prio(0, 40, 0xff);
    UNIT_CHECK(drd8(0, GICD_IPRIORITYR + 40) == 0xf8, "IPRIORITYR: 5 bits, low bits RAZ/WI",
               "0x%x", drd8(0, GICD_IPRIORITYR + 40));
    cwr(0, GICC_PMR, 0xff);
    UNIT_CHECK(crd(0, GICC_PMR) == 0xf8, "GICC_PMR: 5 bits", "0x%x", crd(0, GICC_PMR));
    cwr(0, GICC_BPR, 0);
    cwr(0, GICC_ABPR, 0);
    UNIT_CHECK(crd(0, GICC_BPR) == 2 && crd(0, GICC_ABPR) == 3,
               "minimum binary points 2 and 3 (5 priority bits)", "BPR %u ABPR %u",
               crd(0, GICC_BPR), crd(0, GICC_ABPR));
    dwr(0, GICD_IPRIORITYR + 40, 0x10203040);
    UNIT_CHECK(drd(0, GICD_IPRIORITYR + 40) == 0x10203040 &&
                   drd8(0, GICD_IPRIORITYR + 42) == 0x20,
               "IPRIORITYR word and byte accesses", "0x%x", drd(0, GICD_IPRIORITYR + 40));

    /* Banked: the priority of PPI 30 is per core. */
    set_prio(1, 30, 0x48);
    set_prio(2, 30, 0x88);
    UNIT_CHECK(drd8(1, GICD_IPRIORITYR + 30) == 0x48 && drd8(2, GICD_IPRIORITYR + 30) == 0x88,
               "IPRIORITYR of PPIs is banked per core", "0x%x 0x%x",
               drd8(1, GICD_IPRIORITYR + 30), drd8(2, GICD_IPRIORITYR + 30));

    bool ok = true;
    for (unsigned c = 0; c < NCPUS; c++) {
        uint32_t want = 0x01010101u << c;
        for (unsigned r = 0; r < 8; r++) {
            if (drd(c, GICD_ITARGETSR + 4 * r) != want) {
                ok = false;
            }
        }
    }
    dwr(2, GICD_ITARGETSR + 4, 0);
    UNIT_CHECK(ok && drd(2, GICD_ITARGETSR + 4) == 0x04040404,
               "ITARGETSR0-7 read-only, the reading core's mask", "core 2 0x%x",
               drd(2, GICD_ITARGETSR + 4));
    set_target(50, 0xff);
    UNIT_CHECK(drd8(0, GICD_ITARGETSR + 50) == 0x0f, "ITARGETSR keeps implemented cores only",
               "0x%x", drd8(0, GICD_ITARGETSR + 50));

    dwr(0, GICD_ICFGR, 0);
    UNIT_CHECK(drd(0, GICD_ICFGR) == 0xaaaaaaaa, "ICFGR0: SGIs edge-triggered, read-only",
               "0x%x", drd(0, GICD_ICFGR));
    set_edge(3, 27, true);
    UNIT_CHECK(drd(3, GICD_ICFGR + 4) == 2u << 22 && drd(0, GICD_ICFGR + 4) == 0,
               "ICFGR1: PPIs configurable per core", "0x%x", drd(3, GICD_ICFGR + 4));
    dwr(0, GICD_IGROUPR + 4, 0xffff0000);
    UNIT_CHECK(drd(0, GICD_IGROUPR + 4) == 0xffff0000, "IGROUPR read/write", "0x%x",
               drd(0, GICD_IGROUPR + 4));

    /* A thread that is no core sees RAZ/WI on everything banked, and no state changes. */
    uint64_t v = 0xdead;
    gic_cpu_mmio_ops.read(gic, GICC_IAR, 4, &v);
    UNIT_CHECK(v == 0, "CPU interface from a thread that is no core: RAZ", "0x%llx",
               (unsigned long long)v);
}

/* ---- SPIs ----------------------------------------------------------------------------------- */

static void test_spi_level(void)
{
    fresh_gic();
    set_prio(0, 40, 0x80);
    set_target(40, 1u << 0);
    gic_set_irq(gic, 40, true);
    UNIT_CHECK(irq_lines() == 0 && is_pending(0, 40), "disabled SPI: pending, not signalled",
               "lines 0x%x", irq_lines());
    enable(0, 40);
    UNIT_CHECK(irq_lines() == 1, "level SPI signals its target core only", "lines 0x%x",
               irq_lines());
    UNIT_CHECK(crd(0, GICC_HPPIR) == 40 && crd(1, GICC_HPPIR) == 1023,
               "GICC_HPPIR on the target and elsewhere", "0x%x 0x%x", crd(0, GICC_HPPIR),
               crd(1, GICC_HPPIR));
    UNIT_CHECK(crd(1, GICC_IAR) == 1023, "IAR on another core: spurious", "got another");
    uint32_t iar = crd(0, GICC_IAR);
    UNIT_CHECK(iar == 40, "IAR returns the SPI", "%u", iar);
    UNIT_CHECK(irq_lines() == 0 && is_active(0, 40) && is_pending(0, 40),
               "acknowledged level SPI with line high: active and pending, line down",
               "lines 0x%x", irq_lines());
    UNIT_CHECK(crd(0, GICC_RPR) == 0x80, "GICC_RPR is the active priority", "0x%x",
               crd(0, GICC_RPR));
    cwr(0, GICC_EOIR, 40);
    UNIT_CHECK(irq_lines() == 1 && !is_active(0, 40) && crd(0, GICC_RPR) == 0xff,
               "EOI with the line still high signals again", "lines 0x%x", irq_lines());
    iar = crd(0, GICC_IAR);
    gic_set_irq(gic, 40, false);
    UNIT_CHECK(!is_pending(0, 40), "lowered line: no longer pending", "pending");
    cwr(0, GICC_EOIR, iar);
    UNIT_CHECK(irq_lines() == 0 && crd(0, GICC_IAR) == 1023, "after EOI nothing is pending",
               "lines 0x%x", irq_lines());

    /* Software pending of a level interrupt: ICPENDR clears the latch, not the line. */
    dwr(0, GICD_ISPENDR + 4, 1u << 8);
    UNIT_CHECK(irq_lines() == 1, "ISPENDR makes an SPI pending", "lines 0x%x", irq_lines());
    dwr(0, GICD_ICPENDR + 4, 1u << 8);
    UNIT_CHECK(irq_lines() == 0 && !is_pending(0, 40), "ICPENDR clears it", "lines 0x%x",
               irq_lines());
    gic_set_irq(gic, 40, true);
    dwr(0, GICD_ICPENDR + 4, 1u << 8);
    UNIT_CHECK(irq_lines() == 1 && is_pending(0, 40),
               "ICPENDR leaves a level interrupt with its line high pending", "lines 0x%x",
               irq_lines());
    disable(0, 40);
    UNIT_CHECK(irq_lines() == 0, "ICENABLER drops the output", "lines 0x%x", irq_lines());
    enable(0, 40);
    dwr(0, GICD_ISACTIVER + 4, 1u << 8);
    UNIT_CHECK(irq_lines() == 0 && is_active(0, 40), "ISACTIVER: active is not signalled",
               "lines 0x%x", irq_lines());
    dwr(0, GICD_ICACTIVER + 4, 1u << 8);
    UNIT_CHECK(irq_lines() == 1, "ICACTIVER: signalled again", "lines 0x%x", irq_lines());
    dwr(0, GICD_CTLR, 0);
    UNIT_CHECK(irq_lines() == 0, "GICD_CTLR.EnableGrp0 off: nothing forwarded", "lines 0x%x",
               irq_lines());
    dwr(0, GICD_CTLR, 1);
    cwr(0, GICC_CTLR, 0);
    UNIT_CHECK(irq_lines() == 0 && crd(0, GICC_IAR) == 1023,
               "GICC_CTLR.EnableGrp0 off: nothing signalled", "lines 0x%x", irq_lines());
    cwr(0, GICC_CTLR, CCTLR_GRP0);
    gic_set_irq(gic, 40, false);
}

static void test_spi_edge(void)
{
    fresh_gic();
    set_prio(0, 41, 0x40);
    set_target(41, 1u << 2);
    set_edge(0, 41, true);
    enable(0, 41);
    gic_set_irq(gic, 41, true);
    gic_set_irq(gic, 41, false);
    UNIT_CHECK(irq_lines() == 4 && is_pending(2, 41), "edge SPI latched after a pulse",
               "lines 0x%x", irq_lines());
    UNIT_CHECK(crd(2, GICC_IAR) == 41 && irq_lines() == 0 && !is_pending(2, 41),
               "IAR clears the pending edge", "lines 0x%x", irq_lines());
    gic_set_irq(gic, 41, true);
    UNIT_CHECK(is_pending(2, 41) && is_active(2, 41) && irq_lines() == 0,
               "an edge while active: active and pending, not signalled", "lines 0x%x",
               irq_lines());
    gic_set_irq(gic, 41, true); /* no edge: still high */
    cwr(2, GICC_EOIR, 41);
    UNIT_CHECK(irq_lines() == 4 && crd(2, GICC_IAR) == 41, "signalled again after EOI",
               "lines 0x%x", irq_lines());
    cwr(2, GICC_EOIR, 41);
    UNIT_CHECK(irq_lines() == 0 && crd(2, GICC_IAR) == 1023,
               "a line held high is one edge, handled once", "lines 0x%x", irq_lines());
    gic_set_irq(gic, 41, false);
}

static void test_priorities(void)
{
    fresh_gic();
    for (unsigned irq = 32; irq < 36; irq++) {
        set_target(irq, 1);
        enable(0, irq);
    }
    set_prio(0, 32, 0xa0);
    set_prio(0, 33, 0x60);
    set_prio(0, 34, 0x60);
    set_prio(0, 35, 0xf0);
    cwr(0, GICC_PMR, 0xf0);
    gic_set_irq(gic, 35, true);
    UNIT_CHECK(irq_lines() == 0, "priority equal to PMR is masked", "lines 0x%x", irq_lines());
    cwr(0, GICC_PMR, 0xf8);
    UNIT_CHECK(irq_lines() == 1, "priority below PMR is signalled", "lines 0x%x", irq_lines());
    gic_set_irq(gic, 32, true);
    gic_set_irq(gic, 34, true);
    gic_set_irq(gic, 33, true);
    cwr(0, GICC_PMR, 0x60);
    UNIT_CHECK(irq_lines() == 0 && crd(0, GICC_IAR) == 1023, "PMR masks every pending one",
               "lines 0x%x", irq_lines());
    cwr(0, GICC_PMR, 0xf8);

    /* Highest priority first, lowest ID among equals; with BPR 2 every priority bit counts, so
     * each acknowledged interrupt is preempted by the next higher one only. */
    uint32_t a = crd(0, GICC_IAR);
    UNIT_CHECK(a == 33, "highest priority first, lowest ID among equals", "%u", a);
    UNIT_CHECK(irq_lines() == 0, "equal priority does not preempt", "lines 0x%x", irq_lines());
    /* Each handler quiets its device before the EOI, as a driver does. */
    gic_set_irq(gic, 33, false);
    cwr(0, GICC_EOIR, 33);
    UNIT_CHECK(crd(0, GICC_IAR) == 34, "then the other of equal priority", "wrong order");
    UNIT_CHECK(crd(0, GICC_RPR) == 0x60 && irq_lines() == 0, "RPR 0x60, lower ones wait",
               "RPR 0x%x", crd(0, GICC_RPR));
    gic_set_irq(gic, 34, false);
    cwr(0, GICC_EOIR, 34);
    UNIT_CHECK(crd(0, GICC_IAR) == 32, "then the next priority", "wrong order");
    UNIT_CHECK(crd(0, GICC_IAR) == 1023 && crd(0, GICC_RPR) == 0xa0,
               "a lower priority cannot preempt: IAR is spurious", "RPR 0x%x",
               crd(0, GICC_RPR));
    gic_set_irq(gic, 32, false);
    cwr(0, GICC_EOIR, 32);
    UNIT_CHECK(irq_lines() == 1 && crd(0, GICC_IAR) == 35, "then the lowest", "lines 0x%x",
               irq_lines());
    cwr(0, GICC_EOIR, 35);
    for (unsigned irq = 32; irq < 36; irq++) {
        gic_set_irq(gic, irq, false);
    }
}

static void test_preemption(void)
{
    fresh_gic();
    for (unsigned irq = 32; irq < 35; irq++) {
        set_target(irq, 1);
        enable(0, irq);
        set_edge(0, irq, true);
    }
    set_prio(0, 32, 0xc0);
    set_prio(0, 33, 0x80);
    set_prio(0, 34, 0x40);
    cwr(0, GICC_BPR, 6); /* group priority: bit 7 only */
    gic_set_irq(gic, 32, true);
    UNIT_CHECK(crd(0, GICC_IAR) == 32, "acknowledge 0xc0", "no");
    UNIT_CHECK(crd(0, GICC_RPR) == 0x80, "RPR is the group priority (BPR 6: 0xc0 -> 0x80)",
               "0x%x", crd(0, GICC_RPR));
    gic_set_irq(gic, 33, true);
    UNIT_CHECK(irq_lines() == 0 && crd(0, GICC_IAR) == 1023,
               "same group priority (0x80): no preemption", "lines 0x%x", irq_lines());
    gic_set_irq(gic, 34, true);
    UNIT_CHECK(irq_lines() == 1, "higher group priority (0x00): preempts", "lines 0x%x",
               irq_lines());
    UNIT_CHECK(crd(0, GICC_IAR) == 34 && crd(0, GICC_RPR) == 0x00, "nested acknowledge",
               "RPR 0x%x", crd(0, GICC_RPR));
    UNIT_CHECK(crd(0, GICC_APR0) == 0x10001, "GICC_APR0 holds both active priorities",
               "0x%x", crd(0, GICC_APR0));
    cwr(0, GICC_EOIR, 34);
    UNIT_CHECK(crd(0, GICC_RPR) == 0x80 && irq_lines() == 0,
               "EOI drops to the outer priority; 33 still cannot preempt", "RPR 0x%x",
               crd(0, GICC_RPR));
    cwr(0, GICC_EOIR, 32);
    UNIT_CHECK(irq_lines() == 1 && crd(0, GICC_IAR) == 33, "then 33 is taken", "lines 0x%x",
               irq_lines());
    cwr(0, GICC_EOIR, 33);
    cwr(0, GICC_BPR, 2);
    for (unsigned irq = 32; irq < 35; irq++) {
        gic_set_irq(gic, irq, false);
    }
}

static void test_eoimode(void)
{
    fresh_gic();
    set_target(60, 1u << 1);
    enable(0, 60);
    set_prio(0, 60, 0x20);
    cwr(1, GICC_CTLR, CCTLR_GRP0 | CCTLR_EOIMODE);
    gic_set_irq(gic, 60, true);
    UNIT_CHECK(crd(1, GICC_IAR) == 60, "EOImode 1: acknowledge", "no");
    cwr(1, GICC_EOIR, 60);
    UNIT_CHECK(crd(1, GICC_RPR) == 0xff && is_active(1, 60) && irq_lines() == 0,
               "EOImode 1: EOIR drops priority only", "RPR 0x%x", crd(1, GICC_RPR));
    cwr(1, GICC_DIR, 60);
    UNIT_CHECK(!is_active(1, 60) && irq_lines() == 2, "GICC_DIR deactivates: signalled again",
               "lines 0x%x", irq_lines());
    gic_set_irq(gic, 60, false);
    UNIT_CHECK(irq_lines() == 0, "line low: output low", "lines 0x%x", irq_lines());
    cwr(1, GICC_CTLR, CCTLR_GRP0);
    cwr(1, GICC_DIR, 60); /* EOImode 0: UNPREDICTABLE, ignored */
    UNIT_CHECK(crd(1, GICC_CTLR) == CCTLR_GRP0, "GICC_CTLR reads back", "0x%x",
               crd(1, GICC_CTLR));
}

static void test_routing(void)
{
    fresh_gic();
    set_prio(0, 50, 0x80);
    enable(0, 50);
    set_target(50, 1u << 3);
    gic_set_irq(gic, 50, true);
    UNIT_CHECK(irq_lines() == 8, "ITARGETSR: core 3 only", "lines 0x%x", irq_lines());
    set_target(50, (1u << 1) | (1u << 2));
    UNIT_CHECK(irq_lines() == 6, "retargeted to cores 1 and 2", "lines 0x%x", irq_lines());
    UNIT_CHECK(crd(2, GICC_IAR) == 50 && irq_lines() == 0,
               "1-N: acknowledged by one, withdrawn from the other", "lines 0x%x", irq_lines());
    UNIT_CHECK(crd(1, GICC_IAR) == 1023, "the other core gets spurious", "no");
    cwr(2, GICC_EOIR, 50);
    UNIT_CHECK(irq_lines() == 6, "level still high: both signalled again", "lines 0x%x",
               irq_lines());
    set_target(50, 0);
    UNIT_CHECK(irq_lines() == 0 && is_pending(0, 50), "no target: pending, not signalled",
               "lines 0x%x", irq_lines());
    gic_set_irq(gic, 50, false);
}

static void test_ppi(void)
{
    fresh_gic();
    for (unsigned c = 0; c < NCPUS; c++) {
        enable(c, 30);
        set_prio(c, 30, 0xa0);
    }
    gic_set_ppi(gic, 2, 14, true);
    UNIT_CHECK(irq_lines() == 4, "PPI 14 of core 2 signals core 2 only", "lines 0x%x",
               irq_lines());
    UNIT_CHECK(is_pending(2, 30) && !is_pending(1, 30), "PPI pending state is banked",
               "core 1 sees it");
    disable(1, 30);
    UNIT_CHECK(irq_lines() == 4, "disabling core 1's PPI 30 leaves core 2's", "lines 0x%x",
               irq_lines());
    UNIT_CHECK(crd(2, GICC_IAR) == 30 && irq_lines() == 0, "core 2 acknowledges interrupt 30",
               "lines 0x%x", irq_lines());
    gic_set_ppi(gic, 2, 14, false);
    cwr(2, GICC_EOIR, 30);
    UNIT_CHECK(irq_lines() == 0 && !is_pending(2, 30), "timer output low, EOI: quiet",
               "lines 0x%x", irq_lines());
    gic_set_ppi(gic, 0, 11, true);
    enable(0, 27);
    UNIT_CHECK(irq_lines() == 1 && crd(0, GICC_HPPIR) == 27, "virtual timer PPI 11 is ID 27",
               "0x%x", crd(0, GICC_HPPIR));
    gic_set_ppi(gic, 0, 11, false);
    UNIT_CHECK(irq_lines() == 0, "and goes away with its line", "lines 0x%x", irq_lines());
}

static void sgi(unsigned from, unsigned filter, unsigned list, unsigned id)
{
    dwr(from, GICD_SGIR, (filter << 24) | (list << 16) | id);
}

static void test_sgi(void)
{
    fresh_gic();
    for (unsigned c = 0; c < NCPUS; c++) {
        dwr(c, GICD_ISENABLER, 0xffff);
    }
    sgi(0, 0, 0x0a, 5);
    UNIT_CHECK(irq_lines() == 0x0a, "SGIR target list: cores 1 and 3", "lines 0x%x",
               irq_lines());
    UNIT_CHECK(crd(1, GICC_IAR) == 5 && crd(3, GICC_IAR) == 5,
               "IAR: SGI 5 from core 0 (CPUID 0)", "wrong");
    cwr(1, GICC_EOIR, 5);
    cwr(3, GICC_EOIR, 5);
    sgi(2, 1, 0, 3);
    UNIT_CHECK(irq_lines() == 0x0b, "SGIR filter 0b01: every core but the sender",
               "lines 0x%x", irq_lines());
    bool ok = true;
    for (unsigned c = 0; c < NCPUS; c++) {
        if (c != 2) {
            uint32_t iar = crd(c, GICC_IAR);
            ok = ok && iar == (3u | (2u << 10));
            cwr(c, GICC_EOIR, iar);
        }
    }
    UNIT_CHECK(ok && irq_lines() == 0, "IAR bits [12:10]: source core 2", "lines 0x%x",
               irq_lines());
    sgi(1, 2, 0x0f, 7);
    UNIT_CHECK(irq_lines() == 2, "SGIR filter 0b10: the sender only", "lines 0x%x",
               irq_lines());
    uint32_t iar = crd(1, GICC_IAR);
    UNIT_CHECK(iar == (7u | (1u << 10)), "self SGI from core 1", "0x%x", iar);
    cwr(1, GICC_EOIR, iar);
    sgi(1, 3, 0x0f, 7);
    UNIT_CHECK(irq_lines() == 0, "SGIR filter 0b11 is reserved: nothing sent", "lines 0x%x",
               irq_lines());

    /* Two sources of one SGI: both are kept and delivered one after the other. */
    sgi(0, 0, 4, 9);
    sgi(3, 0, 4, 9);
    UNIT_CHECK(drd8(2, GICD_SPENDSGIR + 9) == 0x09, "SPENDSGIR shows both sources", "0x%x",
               drd8(2, GICD_SPENDSGIR + 9));
    UNIT_CHECK(crd(2, GICC_HPPIR) == 9, "HPPIR: SGI 9 from core 0", "0x%x", crd(2, GICC_HPPIR));
    iar = crd(2, GICC_IAR);
    UNIT_CHECK(iar == 9 && is_pending(2, 9) && is_active(2, 9),
               "first source acknowledged; the other stays pending", "0x%x", iar);
    cwr(2, GICC_EOIR, iar);
    iar = crd(2, GICC_IAR);
    UNIT_CHECK(iar == (9u | (3u << 10)), "then the second source", "0x%x", iar);
    cwr(2, GICC_EOIR, iar);
    UNIT_CHECK(irq_lines() == 0 && !is_pending(2, 9), "both handled", "lines 0x%x",
               irq_lines());

    dwr8(1, GICD_SPENDSGIR + 4, 0x0c);
    UNIT_CHECK(irq_lines() == 2 && drd(1, GICD_SPENDSGIR + 4) == 0x0c,
               "SPENDSGIR sets per-source pending state", "lines 0x%x", irq_lines());
    dwr8(1, GICD_CPENDSGIR + 4, 0x04);
    UNIT_CHECK(drd8(1, GICD_CPENDSGIR + 4) == 0x08 && irq_lines() == 2,
               "CPENDSGIR clears one source", "0x%x", drd8(1, GICD_CPENDSGIR + 4));
    dwr8(1, GICD_CPENDSGIR + 4, 0x08);
    UNIT_CHECK(irq_lines() == 0 && !is_pending(1, 4), "and the last one", "lines 0x%x",
               irq_lines());
    dwr(0, GICD_ISPENDR, 0xffff);
    UNIT_CHECK(irq_lines() == 0, "ISPENDR does not set SGIs", "lines 0x%x", irq_lines());
}

static void test_groups(void)
{
    fresh_gic();
    set_target(70, 1);
    set_target(71, 1);
    enable(0, 70);
    enable(0, 71);
    set_prio(0, 70, 0x40);
    set_prio(0, 71, 0x80);
    dwr(0, GICD_IGROUPR + 8, 1u << 6); /* 70 is group 1 */
    dwr(0, GICD_CTLR, 3);
    cwr(0, GICC_CTLR, CCTLR_GRP0 | CCTLR_GRP1);
    gic_set_irq(gic, 70, true);
    UNIT_CHECK(irq_lines() == 1 && crd(0, GICC_HPPIR) == 1022 && crd(0, GICC_IAR) == 1022,
               "group 1 with AckCtl 0: IAR and HPPIR answer 1022", "0x%x", crd(0, GICC_HPPIR));
    UNIT_CHECK(crd(0, GICC_AHPPIR) == 70 && crd(0, GICC_AIAR) == 70,
               "GICC_AIAR acknowledges group 1", "no");
    UNIT_CHECK(crd(0, 0xe0) == 1u << 8, "GICC_NSAPR0 holds group 1's priority", "0x%x",
               crd(0, 0xe0));
    cwr(0, GICC_AEOIR, 70);
    UNIT_CHECK(!is_active(0, 70) && crd(0, 0xe0) == 0, "GICC_AEOIR completes it", "active");
    cwr(0, GICC_CTLR, CCTLR_GRP0 | CCTLR_GRP1 | CCTLR_ACKCTL);
    UNIT_CHECK(crd(0, GICC_IAR) == 70, "AckCtl 1: IAR acknowledges group 1 too", "no");
    cwr(0, GICC_EOIR, 70);
    gic_set_irq(gic, 70, false);

    cwr(0, GICC_CTLR, CCTLR_GRP0 | CCTLR_GRP1 | CCTLR_FIQEN);
    gic_set_irq(gic, 71, true);
    UNIT_CHECK(lines(FIQ_BIT) == 1 && irq_lines() == 0, "FIQEn: group 0 is signalled as FIQ",
               "fiq 0x%x irq 0x%x", lines(FIQ_BIT), irq_lines());
    cwr(0, GICC_CTLR, CCTLR_GRP0 | CCTLR_GRP1);
    UNIT_CHECK(lines(FIQ_BIT) == 0 && irq_lines() == 1, "FIQEn off: as IRQ again",
               "fiq 0x%x irq 0x%x", lines(FIQ_BIT), irq_lines());
    gic_set_irq(gic, 71, false);
    dwr(0, GICD_CTLR, 1);
}

/* ---- the direct paths, WFI, reset ----------------------------------------------------------- */

struct own_ppi {
    bool before, after_raise, after_lower;
};

/* On core 2's thread: its timer's PPI changes are evaluated at once, without an event. */
static void own_ppi_fn(struct coremu_cpu *cpu, void *arg)
{
    struct own_ppi *r = arg;
    r->before = (atomic_load(&cpu->pending) & IRQ_BIT) != 0;
    gic_set_ppi(gic, cpu->index, 14, true);
    r->after_raise = (atomic_load(&cpu->pending) & IRQ_BIT) != 0;
    gic_set_ppi(gic, cpu->index, 14, false);
    r->after_lower = (atomic_load(&cpu->pending) & IRQ_BIT) != 0;
}

static void test_own_thread(void)
{
    fresh_gic();
    enable(2, 30);
    struct own_ppi r = {true, false, true};
    coremu_cpu_run_sync(machine->cpus[2], own_ppi_fn, &r);
    UNIT_CHECK(!r.before && r.after_raise && !r.after_lower,
               "gic_set_ppi on the core's own thread updates its output at once",
               "before %d raised %d lowered %d", r.before, r.after_raise, r.after_lower);
}

static _Atomic int wfi_state; /* 1: about to sleep, 2: woken with IRQ set */

/* Waits for an interrupt as the ARM CPU's WFI does: runtime work (the GIC's update requests
 * among it) is served, and only an IRQ ends the wait. */
static void wfi_fn(struct coremu_cpu *cpu, void *arg)
{
    (void)arg;
    atomic_store(&wfi_state, 1);
    for (;;) {
        uint32_t p = atomic_load(&cpu->pending);
        if (p & IRQ_BIT) {
            break;
        }
        if (p & (COREMU_PENDING_ARCH0 - 1u)) {
            if (coremu_cpu_process_pending(cpu) == COREMU_CPU_LEAVE) {
                return;
            }
            continue;
        }
        coremu_cpu_wait(cpu, IRQ_BIT);
    }
    atomic_store(&wfi_state, 2);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_wfi_wake(void)
{
    fresh_gic();
    set_prio(0, 47, 0x80);
    set_target(47, 1u << 1);
    enable(0, 47);
    atomic_store(&wfi_state, 0);
    coremu_cpu_run_async(machine->cpus[1], wfi_fn, NULL);
    struct coremu_cpu *c1 = machine->cpus[1];
    bool asleep = false;
    for (unsigned ms = 0; ms < 5000 && !asleep; ms++) {
        asleep = atomic_load(&wfi_state) == 1 && atomic_load(&c1->sleeping) != 0;
        if (!asleep) {
            sleep_ms(1);
        }
    }
    UNIT_CHECK(asleep, "core 1 asleep in WFI", "state %d pending 0x%x sleeping %u",
               atomic_load(&wfi_state), atomic_load(&c1->pending), atomic_load(&c1->sleeping));
    gic_set_irq(gic, 47, true); /* a device thread's line: an update request to core 1 */
    bool woke = false;
    for (unsigned ms = 0; ms < 5000 && !woke; ms++) {
        woke = atomic_load(&wfi_state) == 2;
        if (!woke) {
            sleep_ms(1);
        }
    }
    UNIT_CHECK(woke, "an update request wakes a core in WFI, which then signals itself",
               "state %d", atomic_load(&wfi_state));
    gic_set_irq(gic, 47, false);
    UNIT_CHECK(irq_lines() == 0, "line low: the output follows", "lines 0x%x", irq_lines());
}

static void reset_fn(void *arg)
{
    unsigned *left = arg;
    gic_reset(gic);
    /* Every core is parked: read the lines as the reset left them, without settling. */
    *left = 0;
    for (unsigned c = 0; c < NCPUS; c++) {
        if (atomic_load(&machine->cpus[c]->pending) & (IRQ_BIT | FIQ_BIT)) {
            *left |= 1u << c;
        }
    }
}

static void test_reset(void)
{
    fresh_gic();
    /* Something of every kind: an active SPI, a pending SGI, a PPI with its line high, FIQ. */
    set_prio(0, 45, 0x80);
    set_target(45, 1u << 1);
    enable(0, 45);
    gic_set_irq(gic, 45, true);
    UNIT_CHECK(crd(1, GICC_IAR) == 45, "reset: SPI 45 active on core 1", "no");
    dwr(2, GICD_ISENABLER, 0xffff);
    sgi(0, 0, 1u << 2, 3);
    enable(3, 30);
    gic_set_ppi(gic, 3, 14, true);
    cwr(0, GICC_CTLR, CCTLR_GRP0 | CCTLR_FIQEN);
    set_target(46, 1);
    set_edge(0, 46, true);
    enable(0, 46);
    cwr(1, GICC_BPR, 5);
    cwr(1, GICC_PMR, 0x80);
    gic_set_irq(gic, 46, true);
    UNIT_CHECK(irq_lines() == 0xc && lines(FIQ_BIT) == 1,
               "reset: before, cores 2 and 3 signal IRQ, core 0 FIQ", "irq 0x%x fiq 0x%x",
               irq_lines(), lines(FIQ_BIT));
    /* Update requests still queued when the world stops: a line change from this thread. */
    gic_set_irq(gic, 46, false);
    gic_set_ppi(gic, 3, 14, false);
    gic_set_ppi(gic, 3, 14, true);
    unsigned left = ~0u;
    coremu_machine_stop_world(machine, reset_fn, &left);
    UNIT_CHECK(left == 0, "reset: every IRQ/FIQ bit cleared while the world is stopped",
               "0x%x", left);
    UNIT_CHECK(lines(IRQ_BIT | FIQ_BIT) == 0, "reset: queued update requests signal nothing",
               "0x%x", lines(IRQ_BIT | FIQ_BIT));
    bool regs = drd(0, GICD_CTLR) == 0 && drd8(0, GICD_ITARGETSR + 45) == 0 &&
                drd8(0, GICD_IPRIORITYR + 45) == 0 && drd(0, GICD_ICFGR + 8) == 0 &&
                drd(2, GICD_ICFGR) == 0xaaaaaaaa && drd(3, GICD_ICFGR + 4) == 0;
    for (unsigned c = 0; c < NCPUS; c++) {
        for (unsigned w = 0; w < 9; w++) {
            regs = regs && drd(c, GICD_ISENABLER + 4 * w) == 0 &&
                   drd(c, GICD_ISACTIVER + 4 * w) == 0 && drd(c, GICD_IGROUPR + 4 * w) == 0;
        }
        regs = regs && drd(c, GICD_SPENDSGIR) == 0 && crd(c, GICC_CTLR) == 0 &&
               crd(c, GICC_PMR) == 0 && crd(c, GICC_BPR) == 2 && crd(c, GICC_ABPR) == 3 &&
               crd(c, GICC_RPR) == 0xff && crd(c, GICC_APR0) == 0 && crd(c, 0xe0) == 0;
    }
    UNIT_CHECK(regs, "reset: every register back to its reset value", "some differ");
    UNIT_CHECK(is_pending(0, 45) && is_pending(3, 30) && !is_pending(2, 3) &&
                   !is_pending(0, 46),
               "reset: input lines keep their levels; latches and SGIs are gone",
               "45 %d 30 %d sgi %d 46 %d", is_pending(0, 45), is_pending(3, 30),
               is_pending(2, 3), is_pending(0, 46));
    /* And it works again. */
    dwr(0, GICD_CTLR, 1);
    for (unsigned c = 0; c < NCPUS; c++) {
        cwr(c, GICC_CTLR, CCTLR_GRP0);
        cwr(c, GICC_PMR, 0xff);
    }
    set_target(45, 1u << 1);
    enable(0, 45);
    dwr(2, GICD_ISENABLER, 0xffff);
    sgi(1, 0, 1u << 2, 5);
    UNIT_CHECK(irq_lines() == 6 && crd(1, GICC_IAR) == 45 && crd(2, GICC_IAR) == (5u | 1u << 10),
               "reset: the GIC works again afterwards", "lines 0x%x", irq_lines());
    cwr(1, GICC_EOIR, 45);
    cwr(2, GICC_EOIR, 5u | 1u << 10);
    gic_set_irq(gic, 45, false);
    gic_set_ppi(gic, 3, 14, false);
    UNIT_CHECK(irq_lines() == 0, "reset: quiet at the end", "lines 0x%x", irq_lines());
}

/* ---- concurrency ---------------------------------------------------------------------------- */

#define DEV_THREADS 2u
#define SPIS_PER_DEV 4u
#define RAISES_PER_DEV 3000u
#define SGIS_PER_PAIR 400u
#define SGI_SENDERS 2u /* cores 2 and 3 send; cores 0 and 1 only serve (and sleep) */
#define EDGE_SPIS 4u
#define EDGE_FIRST 140u
#define EDGE_PULSES 1500u /* per edge SPI */
#define PPI_CORES 2u      /* cores 0 and 1 get PPI 4 (ID 20) pulsed from a foreign thread */
#define PPI_ID 20u
#define PPI_PULSES 1500u  /* per core */

/* A device with a request counter: its line is high while requests are outstanding, and the
 * handler takes them all (and lowers the line) under the device's lock, as a driver reading
 * and clearing a status register would. */
struct fake_dev {
    pthread_mutex_t lock;
    unsigned outstanding; /* under lock */
    int irq;
};

static struct fake_dev devs[DEV_THREADS * SPIS_PER_DEV];
static _Atomic unsigned spi_handled;       /* requests the cores have taken */
static _Atomic unsigned empty_handles;     /* acknowledged with no request: must stay 0 */
static _Atomic unsigned spurious_iars;     /* informative */
static _Atomic unsigned sgi_received[NCPUS][NCPUS]; /* [source][target] */
static _Atomic unsigned sgi_in_flight[NCPUS][NCPUS];
static _Atomic unsigned sgi_bad_source;
static _Atomic unsigned senders_done;
static unsigned sgi_sent[NCPUS][NCPUS]; /* [source][target], the source core's thread only */
/* Edge SPIs: one pulse in flight each; the handler takes it. */
static _Atomic unsigned edge_in_flight[EDGE_SPIS];
static _Atomic unsigned edge_acks[EDGE_SPIS];
static _Atomic unsigned edge_in_service[EDGE_SPIS]; /* cores between acknowledge and EOI */
static _Atomic unsigned edge_bogus;                 /* acknowledged with no pulse in flight */
static _Atomic unsigned edge_twice;                 /* in service on two cores at once */
static _Atomic unsigned edge_by_core[NCPUS];        /* informative: 1-N spread */
static _Atomic int edge_done;
/* PPI pulses per core, from a thread that is no core. */
static _Atomic unsigned ppi_in_flight[PPI_CORES];
static _Atomic unsigned ppi_acks[PPI_CORES];
static _Atomic unsigned ppi_bogus;
static _Atomic int ppi_done;

static struct fake_dev *dev_of(unsigned irq)
{
    for (size_t i = 0; i < DEV_THREADS * SPIS_PER_DEV; i++) {
        if (devs[i].irq == (int)irq) {
            return &devs[i];
        }
    }
    return NULL;
}

static void *device_thread(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (unsigned n = 0; n < RAISES_PER_DEV; n++) {
        struct fake_dev *d = &devs[t * SPIS_PER_DEV + n % SPIS_PER_DEV];
        pthread_mutex_lock(&d->lock);
        if (d->outstanding++ == 0) {
            gic_set_irq(gic, d->irq, true);
        }
        pthread_mutex_unlock(&d->lock);
        if ((n & 63) == 0) {
            sched_yield();
        }
    }
    return NULL;
}

/* Pulses each edge SPI whenever its previous pulse has been taken: no pulse merges with
 * another, so pulses and acknowledges must match exactly. */
static void *edge_thread(void *arg)
{
    (void)arg;
    unsigned pulses[EDGE_SPIS] = {0};
    unsigned left = EDGE_SPIS;
    while (left != 0) {
        for (unsigned i = 0; i < EDGE_SPIS; i++) {
            if (pulses[i] == EDGE_PULSES || atomic_load(&edge_in_flight[i]) != 0) {
                continue;
            }
            atomic_store(&edge_in_flight[i], 1);
            gic_set_irq(gic, (int)(EDGE_FIRST + i), true);
            gic_set_irq(gic, (int)(EDGE_FIRST + i), false);
            if (++pulses[i] == EDGE_PULSES) {
                left--;
            }
        }
        sched_yield();
    }
    atomic_store(&edge_done, 1);
    return NULL;
}

/* While the edge SPIs fire: retargets them among several cores, disables and re-enables them,
 * through the distributor from a thread that is no core (a monitor could). */
static void *churn_thread(void *arg)
{
    (void)arg;
    static const uint8_t masks[] = {0xf, 0x3, 0xc, 0x5, 0xa, 0x6, 0x9, 0xe, 0x7};
    unsigned n = 0;
    while (!atomic_load(&edge_done)) {
        unsigned i = n % EDGE_SPIS;
        unsigned irq = EDGE_FIRST + i;
        uint64_t en = 4 * (irq / 32);
        gic_dist_mmio_ops.write(gic, GICD_ITARGETSR + irq, 1, masks[n % sizeof(masks)]);
        if (n % 3 == 0) {
            gic_dist_mmio_ops.write(gic, GICD_ICENABLER + en, 4, 1u << (irq % 32));
            sched_yield();
            gic_dist_mmio_ops.write(gic, GICD_ISENABLER + en, 4, 1u << (irq % 32));
        }
        n++;
        sched_yield();
    }
    for (unsigned i = 0; i < EDGE_SPIS; i++) {
        gic_dist_mmio_ops.write(gic, GICD_ITARGETSR + EDGE_FIRST + i, 1, 0xf);
    }
    return NULL;
}

/* A timer that is on no core's thread: its PPI changes reach the core as update requests. */
static void *ppi_thread(void *arg)
{
    (void)arg;
    unsigned pulses[PPI_CORES] = {0};
    unsigned left = PPI_CORES;
    while (left != 0) {
        for (unsigned c = 0; c < PPI_CORES; c++) {
            if (pulses[c] == PPI_PULSES || atomic_load(&ppi_in_flight[c]) != 0) {
                continue;
            }
            atomic_store(&ppi_in_flight[c], 1);
            gic_set_ppi(gic, c, (int)(PPI_ID - GIC_FIRST_PPI), true);
            gic_set_ppi(gic, c, (int)(PPI_ID - GIC_FIRST_PPI), false);
            if (++pulses[c] == PPI_PULSES) {
                left--;
            }
        }
        sched_yield();
    }
    atomic_store(&ppi_done, 1);
    return NULL;
}

static void handle_one(unsigned c, uint32_t iar)
{
    unsigned id = iar & 0x3ff;
    if (id < 16) {
        unsigned src = (iar >> 10) & 7;
        if (src >= NCPUS || atomic_load(&sgi_in_flight[src][c]) != 1) {
            atomic_fetch_add(&sgi_bad_source, 1);
        } else {
            atomic_fetch_add(&sgi_received[src][c], 1);
            atomic_store(&sgi_in_flight[src][c], 0);
        }
    } else if (id == PPI_ID) {
        if (c >= PPI_CORES || atomic_exchange(&ppi_in_flight[c], 0) != 1) {
            atomic_fetch_add(&ppi_bogus, 1);
        } else {
            atomic_fetch_add(&ppi_acks[c], 1);
        }
    } else if (id >= EDGE_FIRST && id < EDGE_FIRST + EDGE_SPIS) {
        unsigned i = id - EDGE_FIRST;
        if (atomic_fetch_add(&edge_in_service[i], 1) != 0) {
            atomic_fetch_add(&edge_twice, 1);
        }
        if (atomic_exchange(&edge_in_flight[i], 0) != 1) {
            atomic_fetch_add(&edge_bogus, 1);
        } else {
            atomic_fetch_add(&edge_acks[i], 1);
            atomic_fetch_add(&edge_by_core[c], 1);
        }
        sched_yield(); /* stay in service a while: another target must not get it meanwhile */
        atomic_fetch_sub(&edge_in_service[i], 1);
    } else {
        struct fake_dev *d = dev_of(id);
        if (d == NULL) {
            atomic_fetch_add(&empty_handles, 1);
        } else {
            pthread_mutex_lock(&d->lock);
            unsigned n = d->outstanding;
            d->outstanding = 0;
            gic_set_irq(gic, d->irq, false);
            pthread_mutex_unlock(&d->lock);
            if (n == 0) {
                atomic_fetch_add(&empty_handles, 1);
            }
            atomic_fetch_add(&spi_handled, n);
        }
    }
    gic_cpu_mmio_ops.write(gic, GICC_EOIR, 4, iar);
}

/* Serves every interrupt signalled to this core, as its IRQ handler would. */
static void serve(struct coremu_cpu *cpu)
{
    while (atomic_load(&cpu->pending) & IRQ_BIT) {
        uint64_t iar = 0;
        gic_cpu_mmio_ops.read(gic, GICC_IAR, 4, &iar);
        if ((iar & 0x3ff) >= 1020) {
            atomic_fetch_add(&spurious_iars, 1);
            continue;
        }
        handle_one(cpu->index, (uint32_t)iar);
    }
}

/* One turn of a core's loop during the concurrency test (fake_run, on the core's thread):
 * take what is signalled, send SGIs, then sleep (serving cores) or yield (senders). */
static void stress_step(struct coremu_cpu *cpu)
{
    unsigned c = cpu->index;
    bool sender = c >= NCPUS - SGI_SENDERS;

    serve(cpu);
    if (!sender) {
        /* A serving core sleeps as in WFI: update requests and the IRQ input wake it. */
        coremu_cpu_wait(cpu, IRQ_BIT);
        return;
    }
    /* One SGI in flight per pair: the next one goes when the previous was taken, so none is
     * merged with another and the counts are exact. */
    for (unsigned t = 0; t < NCPUS; t++) {
        if (t == c || sgi_sent[c][t] == SGIS_PER_PAIR) {
            continue;
        }
        if (atomic_load(&sgi_in_flight[c][t]) == 0) {
            atomic_store(&sgi_in_flight[c][t], 1);
            if (++sgi_sent[c][t] == SGIS_PER_PAIR) {
                bool last = true;
                for (unsigned u = 0; u < NCPUS; u++) {
                    last = last && (u == c || sgi_sent[c][u] == SGIS_PER_PAIR);
                }
                if (last) {
                    atomic_fetch_add(&senders_done, 1);
                }
            }
            gic_dist_mmio_ops.write(gic, GICD_SGIR, 4, (1u << (16 + t)) | (c & 0xf));
        }
    }
    sched_yield();
}

static bool flights_left(void)
{
    for (unsigned s = 0; s < NCPUS; s++) {
        for (unsigned t = 0; t < NCPUS; t++) {
            if (atomic_load(&sgi_in_flight[s][t]) != 0) {
                return true;
            }
        }
    }
    for (unsigned i = 0; i < EDGE_SPIS; i++) {
        if (atomic_load(&edge_in_flight[i]) != 0) {
            return true;
        }
    }
    for (unsigned c = 0; c < PPI_CORES; c++) {
        if (atomic_load(&ppi_in_flight[c]) != 0) {
            return true;
        }
    }
    return false;
}

static void test_concurrency(void)
{
    fresh_gic();
    for (unsigned c = 0; c < NCPUS; c++) {
        dwr(c, GICD_ISENABLER, 0xffff);
        cwr(c, GICC_PMR, 0xf0);
    }
    for (unsigned c = 0; c < PPI_CORES; c++) {
        set_edge(c, PPI_ID, true);
        set_prio(c, PPI_ID, 0x60);
        enable(c, PPI_ID);
    }
    for (size_t i = 0; i < DEV_THREADS * SPIS_PER_DEV; i++) {
        unsigned irq = 100 + (unsigned)i;
        pthread_mutex_init(&devs[i].lock, NULL);
        devs[i].irq = (int)irq;
        devs[i].outstanding = 0;
        set_prio(0, irq, (uint8_t)(0x40 + 0x10 * (i % 4)));
        /* Some SPIs go to one core, some to two (whoever acknowledges first takes it). */
        set_target(irq, (uint8_t)(i % 3 == 0 ? 0x3 : 1u << (i % NCPUS)));
        enable(0, irq);
    }
    for (unsigned i = 0; i < EDGE_SPIS; i++) {
        unsigned irq = EDGE_FIRST + i;
        set_prio(0, irq, 0x50);
        set_edge(0, irq, true);
        set_target(irq, 0xf); /* 1-N to every core */
        enable(0, irq);
    }
    atomic_store(&stress_phase, 1);
    for (unsigned c = 0; c < NCPUS; c++) {
        coremu_cpu_kick(machine->cpus[c], COREMU_PENDING_KICK);
    }
    pthread_t th[DEV_THREADS], edge_th, churn_th, ppi_th;
    for (unsigned t = 0; t < DEV_THREADS; t++) {
        pthread_create(&th[t], NULL, device_thread, (void *)(uintptr_t)t);
    }
    pthread_create(&edge_th, NULL, edge_thread, NULL);
    pthread_create(&churn_th, NULL, churn_thread, NULL);
    pthread_create(&ppi_th, NULL, ppi_thread, NULL);
    for (unsigned t = 0; t < DEV_THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    const unsigned total = DEV_THREADS * RAISES_PER_DEV;
    bool drained = false;
    for (unsigned ms = 0; ms < 120000; ms += 5) {
        if (atomic_load(&spi_handled) == total && atomic_load(&senders_done) == SGI_SENDERS &&
            atomic_load(&edge_done) && atomic_load(&ppi_done) && !flights_left()) {
            drained = true;
            break;
        }
        sleep_ms(5);
    }
    if (!drained) {
        /* Let the helper threads finish anyway, so that the join below returns. */
        atomic_store(&edge_done, 1);
    }
    pthread_join(edge_th, NULL);
    pthread_join(churn_th, NULL);
    pthread_join(ppi_th, NULL);
    atomic_store(&stress_phase, 0);
    for (unsigned c = 0; c < NCPUS; c++) {
        coremu_cpu_kick(machine->cpus[c], COREMU_PENDING_KICK);
    }
    settle(); /* every core is back in its idle loop */

    UNIT_CHECK(drained, "concurrency: every interrupt handled",
               "SPI %u of %u, senders %u, edge done %d, PPI done %d, flights %d",
               atomic_load(&spi_handled), total, atomic_load(&senders_done),
               atomic_load(&edge_done), atomic_load(&ppi_done), flights_left());
    UNIT_CHECK(atomic_load(&spi_handled) == total,
               "concurrency: SPI requests handled exactly once", "%u of %u",
               atomic_load(&spi_handled), total);
    UNIT_CHECK(atomic_load(&empty_handles) == 0,
               "concurrency: no SPI acknowledged without a request", "%u",
               atomic_load(&empty_handles));
    bool exact = true;
    for (unsigned s = NCPUS - SGI_SENDERS; s < NCPUS; s++) {
        for (unsigned t = 0; t < NCPUS; t++) {
            if (t != s && atomic_load(&sgi_received[s][t]) != SGIS_PER_PAIR) {
                exact = false;
                unit_fail("concurrency: SGI count", "core %u -> core %u: %u of %u", s, t,
                          atomic_load(&sgi_received[s][t]), SGIS_PER_PAIR);
            }
        }
    }
    if (exact) {
        unit_pass("concurrency: SGIs delivered exactly, per source and target");
    }
    UNIT_CHECK(atomic_load(&sgi_bad_source) == 0,
               "concurrency: every SGI names its real source", "%u",
               atomic_load(&sgi_bad_source));
    bool edges = true;
    for (unsigned i = 0; i < EDGE_SPIS; i++) {
        edges = edges && atomic_load(&edge_acks[i]) == EDGE_PULSES;
    }
    UNIT_CHECK(edges && atomic_load(&edge_bogus) == 0,
               "concurrency: each pulse of a 1-N edge SPI acknowledged exactly once",
               "acks %u %u %u %u of %u, bogus %u", atomic_load(&edge_acks[0]),
               atomic_load(&edge_acks[1]), atomic_load(&edge_acks[2]),
               atomic_load(&edge_acks[3]), EDGE_PULSES, atomic_load(&edge_bogus));
    UNIT_CHECK(atomic_load(&edge_twice) == 0,
               "concurrency: a 1-N SPI is never in service on two cores at once", "%u times",
               atomic_load(&edge_twice));
    UNIT_CHECK(atomic_load(&ppi_acks[0]) == PPI_PULSES &&
                   atomic_load(&ppi_acks[1]) == PPI_PULSES && atomic_load(&ppi_bogus) == 0,
               "concurrency: PPI edges from a foreign thread taken exactly once",
               "%u %u of %u, bogus %u", atomic_load(&ppi_acks[0]), atomic_load(&ppi_acks[1]),
               PPI_PULSES, atomic_load(&ppi_bogus));
    unsigned active = 0;
    for (unsigned c = 0; c < NCPUS; c++) {
        for (unsigned w = 0; w < 9; w++) {
            active |= drd(c, GICD_ISACTIVER + 4 * w) | drd(c, GICD_ISPENDR + 4 * w);
        }
    }
    UNIT_CHECK(active == 0 && irq_lines() == 0,
               "concurrency: nothing left pending or active, every line low",
               "0x%x, lines 0x%x", active, irq_lines());
    printf("concurrency: %u spurious acknowledges; edge SPIs taken by cores %u/%u/%u/%u\n",
           atomic_load(&spurious_iars), atomic_load(&edge_by_core[0]),
           atomic_load(&edge_by_core[1]), atomic_load(&edge_by_core[2]),
           atomic_load(&edge_by_core[3]));
    for (size_t i = 0; i < DEV_THREADS * SPIS_PER_DEV; i++) {
        pthread_mutex_destroy(&devs[i].lock);
    }
}

int main(void)
{
    machine = coremu_machine_new(NCPUS, &fake_ops);
    UNIT_REQUIRE(machine != NULL, "machine", "NULL");
    UNIT_REQUIRE(coremu_machine_start(machine) == 0, "machine start", "failed");
    for (unsigned c = 0; c < NCPUS; c++) {
        UNIT_REQUIRE(coremu_cpu_power_on(machine->cpus[c], 0, 0) == 0, "power on", "core %u",
                     c);
    }
    test_ids();
    test_spi_level();
    test_spi_edge();
    test_priorities();
    test_preemption();
    test_eoimode();
    test_routing();
    test_ppi();
    test_sgi();
    test_groups();
    test_own_thread();
    test_wfi_wake();
    test_reset();
    test_concurrency();

    coremu_machine_exit(machine, 0);
    coremu_machine_wait(machine);
    coremu_machine_free(machine);
    gic_free(gic);
    return unit_done();
}
