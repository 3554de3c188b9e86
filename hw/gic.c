/*
 * coremu — ARM Generic Interrupt Controller v2. Written from the GIC Architecture Specification
 * v2.0 (ARM IHI 0048B); what is modelled and the threading design are in gic.h.
 *
 * Field rules. "Owner" fields of struct gic_cpu are plain: only core c's thread reads or writes
 * them, apart from gic_new (before any core can reach the GIC) and gic_reset (while the world
 * is stopped: the core is parked, and world_lock orders the reset's writes before the core's
 * next access). Every other field is atomic and accessed sequentially consistently (the C11
 * default): the GIC is not on a per-instruction path, and one total order over all of its
 * shared accesses is what makes the update-request argument in gic.h short. A changer always
 * makes its change first and only then reads the set of cores to notify (the targets of an
 * SPI) and requests their updates.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/cpu.h>
#include <coremu/log.h>
#include <coremu/util.h>

#include "gic.h"

#define NWORDS (GIC_NR_IRQS / 32u) /* 9 words of state bits */
#define NSGIS 16u
#define SGI_MASK 0x0000ffffu

#define SPURIOUS 1023u      /* no interrupt to acknowledge */
#define SPURIOUS_GRP1 1022u /* the highest one is group 1 and GICC_CTLR.AckCtl is 0 */

#define PRIO_MASK 0xf8u     /* 5 priority bits; bits [2:0] RAZ/WI */
#define PRIO_SHIFT 3u       /* active priority bit n stands for priority n << 3 */
#define IDLE_PRIO 0xffu     /* running priority with nothing active */
#define MIN_BPR 2u          /* with 5 bits, group priority bits [7:3] at the finest */
#define MIN_ABPR (MIN_BPR + 1u)

/* GICD_CTLR. */
#define DCTLR_ENABLE_GRP0 (1u << 0)
#define DCTLR_ENABLE_GRP1 (1u << 1)
#define DCTLR_WMASK 0x3u

/* GICC_CTLR (the Secure copy's layout, which a GIC without Security Extensions has). */
#define CCTLR_ENABLE_GRP0 (1u << 0)
#define CCTLR_ENABLE_GRP1 (1u << 1)
#define CCTLR_ACKCTL (1u << 2)
#define CCTLR_FIQEN (1u << 3)
#define CCTLR_CBPR (1u << 4)
#define CCTLR_EOIMODE_S (1u << 9)
#define CCTLR_EOIMODE_NS (1u << 10)
#define CCTLR_WMASK 0x7ffu /* bits 5-8 (bypass disables) are stored: there is no bypass */

/* Identification: JEP106 ARM (0x3b, continuation 4), ArchRev 2, part number 0 (not a product
 * of ARM's: coremu's own implementation). */
#define GICD_IIDR_VALUE 0x0000043bu
#define GICC_IIDR_VALUE 0x0002043bu /* architecture version 2 in bits [19:16] */

/* One CPU interface, and the distributor state banked for its core (interrupts 0-31). On its
 * own cache lines: the shared words are written by other threads, the owner fields only by the
 * core, and neither should slow the other cores' interfaces. */
struct gic_cpu {
    /* Owner fields (see the rules at the top). Bits 0-15 are the SGIs, 16-31 the PPIs. */
    uint32_t enabled;
    uint32_t latch;              /* PPIs' pending latch: a folded rising edge, GICD_ISPENDR */
    uint32_t active;
    uint32_t group;              /* 1: group 1 */
    uint32_t edge;               /* 1: edge-triggered; SGIs always, PPIs per GICD_ICFGR1 */
    uint8_t prio[32];
    uint32_t ctlr;               /* GICC_CTLR */
    uint32_t pmr;                /* GICC_PMR */
    uint32_t bpr;                /* GICC_BPR, >= MIN_BPR */
    uint32_t abpr;               /* GICC_ABPR, >= MIN_ABPR */
    uint32_t apr[2];             /* active priorities of group 0 (GICC_APR0), 1 (GICC_NSAPR0) */

    /* SGI n is pending from the cores whose bits are set in byte n % 4 of word n / 4. Any
     * core sets bits (GICD_SGIR: fetch_or); the owner sets them (GICD_SPENDSGIR) and clears
     * them (acknowledge, GICD_CPENDSGIR: fetch_and); the owner reads them. An SGI is pending
     * exactly while its byte is not zero. */
    _Alignas(64) _Atomic uint32_t sgi_pend[NSGIS / 4];
    /* The PPI input lines (bits 16-31). Any thread sets and clears bits (gic_set_ppi:
     * fetch_or / fetch_and, whose old value tells a rising edge); the owner reads it. */
    _Atomic uint32_t ppi_level;
    /* Rising edges of ppi_level not yet seen by the owner. gic_set_ppi sets bits (fetch_or)
     * after raising the level; the owner takes them all (exchange) and latches those of
     * edge-triggered PPIs (fold_ppi), before anything it does reads the latch. */
    _Atomic uint32_t ppi_rise;
    /* 1 while upd_ev is queued (or about to be) and its handler has not started. Any thread
     * sets it (exchange) after a change and posts upd_ev if it was 0; the handler, on the
     * owner's thread, clears it (exchange) before it reads any state. See gic.h. */
    _Atomic uint32_t upd_requested;
    /* The core's update request. fn and ptr are written by gic_new only; the queue owns next
     * while the event is queued. It is never queued twice: only the thread whose exchange of
     * upd_requested returned 0 posts it, and the handler clears the flag after the pop. */
    struct coremu_event upd_ev;
};

/* Distributor state of 32 SPIs; any thread, atomic read-modify-writes. */
struct gic_spis {
    _Atomic uint32_t enabled;
    _Atomic uint32_t latch;  /* pending latch: a rising edge, GICD_ISPENDR */
    _Atomic uint32_t level;  /* the input lines; a level-sensitive SPI is pending while high */
    _Atomic uint32_t active; /* set by the acknowledging core's claim (fetch_or), ISACTIVER */
    _Atomic uint32_t group;  /* 1: group 1 */
    _Atomic uint32_t edge;   /* GICD_ICFGR Int_config[1]: 1 edge-triggered, 0 level-sensitive */
};

struct gic {
    unsigned ncpus;              /* immutable */
    uint32_t irq_bit, fiq_bit;   /* immutable */

    /* Stored once by gic_attach; read by every entry point. NULL: no core to signal yet
     * (gic_attach then asks every core to evaluate, after the store). */
    _Atomic(struct coremu_machine *) machine;
    _Atomic uint32_t ctlr;       /* GICD_CTLR: any thread (compare-and-swap) */
    struct gic_spis spi[NWORDS]; /* word 0 unused: interrupts 0-31 are banked in gic_cpu */
    _Atomic uint8_t prio[GIC_NR_IRQS];    /* SPIs only: any thread stores, any reads */
    /* SPIs only: GICD_ITARGETSR, a mask of implemented cores. Any thread exchanges it (and
     * then notifies the old and the new targets); any thread reads it. */
    _Atomic uint8_t targets[GIC_NR_IRQS];
    struct gic_cpu cpu[GIC_MAX_CPUS];
};

/* ---- helpers ------------------------------------------------------------------------------- */

static uint32_t cpu_mask_all(const struct gic *g)
{
    return (1u << g->ncpus) - 1;
}

/* *w = (*w & ~mask) | (bits & mask), as one atomic step; returns the old value. */
static uint32_t word_update(_Atomic uint32_t *w, uint32_t mask, uint32_t bits)
{
    uint32_t old = atomic_load(w);
    while (!atomic_compare_exchange_weak(w, &old, (old & ~mask) | (bits & mask))) {
    }
    return old;
}

static uint32_t spi_pending(struct gic_spis *b)
{
    return atomic_load(&b->latch) | (atomic_load(&b->level) & ~atomic_load(&b->edge));
}

/* The cores that SPIs `bits` of word w (w >= 1) target now. */
static uint32_t spi_targets(struct gic *g, unsigned w, uint32_t bits)
{
    uint32_t cpus = 0;
    while (bits != 0) {
        cpus |= atomic_load(&g->targets[w * 32 + (unsigned)__builtin_ctz(bits)]);
        bits &= bits - 1;
    }
    return cpus;
}

/* Owner only: the SGIs with at least one pending source, as bits 0-15. */
static uint32_t sgi_pending(struct gic_cpu *cpu)
{
    uint32_t mask = 0;
    for (unsigned i = 0; i < NSGIS / 4; i++) {
        uint32_t v = atomic_load(&cpu->sgi_pend[i]);
        for (unsigned j = 0; v != 0; j++, v >>= 8) {
            if (v & 0xff) {
                mask |= 1u << (4 * i + j);
            }
        }
    }
    return mask;
}

/* Owner only: the sources of SGI n. */
static unsigned sgi_sources(struct gic_cpu *cpu, unsigned n)
{
    return (atomic_load(&cpu->sgi_pend[n / 4]) >> (8 * (n % 4))) & 0xffu;
}

/* Owner only: latches the rising edges of edge-triggered PPIs that other threads (or the owner
 * itself) recorded. Called before anything reads or reconfigures the banked latch or edge
 * bits, so an edge is judged by the configuration it arrived under. */
static void fold_ppi(struct gic_cpu *cpu)
{
    if (atomic_load_explicit(&cpu->ppi_rise, memory_order_relaxed) != 0) {
        cpu->latch |= atomic_exchange(&cpu->ppi_rise, 0) & cpu->edge;
    }
}

/* Owner only, after fold_ppi: interrupts 0-31 pending on this core. */
static uint32_t banked_pending(struct gic_cpu *cpu)
{
    return cpu->latch | sgi_pending(cpu) | (atomic_load(&cpu->ppi_level) & ~cpu->edge);
}

/* The group priority of prio for group grp1 on this interface: GICC_BPR for group 0 (and for
 * group 1 when CBPR), GICC_ABPR for group 1, whose field starts one bit higher (IHI 0048B
 * 3.3.3). */
static unsigned group_prio(const struct gic_cpu *cpu, bool grp1, unsigned prio)
{
    unsigned bp = (!grp1 || (cpu->ctlr & CCTLR_CBPR)) ? cpu->bpr : cpu->abpr - 1;
    return prio & (0xffu << (bp + 1)) & 0xffu;
}

static unsigned running_prio(const struct gic_cpu *cpu)
{
    uint32_t all = cpu->apr[0] | cpu->apr[1];
    return all == 0 ? IDLE_PRIO : (unsigned)__builtin_ctz(all) << PRIO_SHIFT;
}

/* The groups GICD_CTLR forwards, as a bit mask test on a group word: the interrupts of `group`
 * whose group is enabled. */
static uint32_t forwarded(uint32_t dctlr, uint32_t group)
{
    uint32_t grp0 = (dctlr & DCTLR_ENABLE_GRP0) ? ~0u : 0;
    uint32_t grp1 = (dctlr & DCTLR_ENABLE_GRP1) ? ~0u : 0;
    return (group & grp1) | (~group & grp0);
}

struct hppi {
    int irq;       /* -1: none */
    unsigned prio;
    bool grp1;
};

/* Owner only: the highest-priority interrupt that is pending, enabled, not active, targets
 * core c and whose group the distributor forwards (lowest ID among equals). A snapshot: other
 * threads may change SPIs meanwhile, which is why acknowledging claims the SPI atomically. */
static struct hppi hppi(struct gic *g, unsigned c)
{
    struct gic_cpu *cpu = &g->cpu[c];
    struct hppi best = {-1, 0x100, false};
    uint32_t dctlr = atomic_load(&g->ctlr);

    fold_ppi(cpu);
    if ((dctlr & DCTLR_WMASK) == 0) {
        return best;
    }
    uint32_t cand = banked_pending(cpu) & cpu->enabled & ~cpu->active &
                    forwarded(dctlr, cpu->group);
    while (cand != 0) {
        unsigned irq = (unsigned)__builtin_ctz(cand);
        cand &= cand - 1;
        if (cpu->prio[irq] < best.prio) {
            best.irq = (int)irq;
            best.prio = cpu->prio[irq];
            best.grp1 = (cpu->group >> irq) & 1;
        }
    }
    for (unsigned w = 1; w < NWORDS; w++) {
        struct gic_spis *b = &g->spi[w];
        uint32_t en = atomic_load(&b->enabled);
        if (en == 0) {
            continue;
        }
        cand = spi_pending(b) & en & ~atomic_load(&b->active);
        if (cand == 0) {
            continue;
        }
        uint32_t group = atomic_load(&b->group);
        cand &= forwarded(dctlr, group);
        while (cand != 0) {
            unsigned bit = (unsigned)__builtin_ctz(cand);
            unsigned irq = w * 32 + bit;
            cand &= cand - 1;
            if (!(atomic_load(&g->targets[irq]) & (1u << c))) {
                continue;
            }
            unsigned p = atomic_load(&g->prio[irq]);
            if (p < best.prio) {
                best.irq = (int)irq;
                best.prio = p;
                best.grp1 = (group >> bit) & 1;
            }
        }
    }
    return best;
}

/* Whether the CPU interface signals an interrupt of this priority and group now: its group is
 * enabled on the interface, it passes the priority mask, and its group priority is higher than
 * the running priority (so that it may preempt). */
static bool can_signal(const struct gic_cpu *cpu, unsigned prio, bool grp1)
{
    if (!(cpu->ctlr & (grp1 ? CCTLR_ENABLE_GRP1 : CCTLR_ENABLE_GRP0))) {
        return false;
    }
    if (prio >= cpu->pmr) {
        return false;
    }
    return group_prio(cpu, grp1, prio) < running_prio(cpu);
}

/* Owner only: sets core c's IRQ/FIQ inputs to what its CPU interface signals now. The owner is
 * the only writer of these bits (gic_reset aside, while the core is parked), so comparing with
 * the word itself is exact. */
static void update_self(struct gic *g, unsigned c)
{
    struct coremu_machine *m = atomic_load(&g->machine);
    if (m == NULL || c >= m->ncpus) {
        return;
    }
    struct gic_cpu *cpu = &g->cpu[c];
    struct hppi h = hppi(g, c);
    uint32_t want = 0;
    if (h.irq >= 0 && can_signal(cpu, h.prio, h.grp1)) {
        want = (!h.grp1 && (cpu->ctlr & CCTLR_FIQEN)) ? g->fiq_bit : g->irq_bit;
    }
    struct coremu_cpu *rt = m->cpus[c];
    uint32_t bits = g->irq_bit | g->fiq_bit;
    uint32_t have = atomic_load_explicit(&rt->pending, memory_order_relaxed) & bits;
    if (have & ~want) {
        coremu_cpu_clear_pending(rt, have & ~want);
    }
    if (want & ~have) {
        coremu_cpu_kick(rt, want & ~have);
    }
}

/* The update request's handler, on the owning core's thread. */
static void update_event(struct coremu_cpu *rt, struct coremu_event *ev)
{
    struct gic *g = ev->ptr;
    /* Clear the flag before reading any state: a change made after this exchange posts a new
     * request; one made before it is seen by the evaluation below. From here on ev may be
     * queued again by another thread, so nothing of it is read afterwards. */
    atomic_exchange(&g->cpu[rt->index].upd_requested, 0);
    update_self(g, rt->index);
}

/* The calling thread's core index in g's machine, or -1 for a thread that is none of them (a
 * device or the I/O thread; a monitor or a test). */
static int self_index(struct gic *g)
{
    struct coremu_cpu *self = coremu_cpu_self();
    struct coremu_machine *m = atomic_load(&g->machine);
    if (self == NULL || m == NULL || self->machine != m || self->index >= g->ncpus) {
        return -1;
    }
    return (int)self->index;
}

/* After a change: every core in cpus re-evaluates its output, the caller's own core (self) at
 * once, the others through an update request. */
static void notify(struct gic *g, int self, uint32_t cpus)
{
    struct coremu_machine *m = atomic_load(&g->machine);
    if (m == NULL) {
        return;
    }
    cpus &= cpu_mask_all(g);
    while (cpus != 0) {
        unsigned c = (unsigned)__builtin_ctz(cpus);
        cpus &= cpus - 1;
        if (c >= m->ncpus) {
            break;
        }
        if ((int)c == self) {
            update_self(g, c);
        } else if (atomic_exchange(&g->cpu[c].upd_requested, 1) == 0) {
            coremu_cpu_post(m->cpus[c], &g->cpu[c].upd_ev);
        }
    }
}

/* ---- CPU interface operations (all on the owning core c's thread) ------------------------- */

/* Tries to take SPI irq for core c; false when another core (or a concurrent change) got in
 * the way, and the caller must look again. */
static bool claim_spi(struct gic *g, unsigned c, unsigned irq, bool grp1)
{
    unsigned w = irq / 32;
    uint32_t bit = 1u << (irq % 32);
    struct gic_spis *b = &g->spi[w];

    if (atomic_fetch_or(&b->active, bit) & bit) {
        return false; /* another target acknowledged it first, or GICD_ISACTIVER set it */
    }
    /* The active bit is ours. The SPI may have been disabled, retargeted, regrouped or made
     * not pending since hppi's snapshot: check what the snapshot relied on, and consume the
     * edge latch last, so that a claim given back has consumed nothing. */
    bool ok = (atomic_load(&b->enabled) & bit) && (atomic_load(&g->targets[irq]) & (1u << c)) &&
              ((atomic_load(&b->group) & bit) != 0) == grp1 &&
              (forwarded(atomic_load(&g->ctlr), grp1 ? ~0u : 0u) != 0);
    if (ok) {
        uint32_t was_latched = atomic_fetch_and(&b->latch, ~bit) & bit;
        /* A level-sensitive SPI whose line is still high stays pending (active and pending);
         * anything else stops being pending. */
        ok = was_latched || (atomic_load(&b->level) & ~atomic_load(&b->edge) & bit);
    }
    if (!ok) {
        /* Other targets may have skipped it while it looked active: let them look again. */
        atomic_fetch_and(&b->active, ~bit);
        notify(g, -1, atomic_load(&g->targets[irq]) & ~(1u << c));
        return false;
    }
    return true;
}

/* GICC_IAR (alias false) / GICC_AIAR (alias true, group 1 only). */
static uint32_t cpu_acknowledge(struct gic *g, unsigned c, bool alias)
{
    struct gic_cpu *cpu = &g->cpu[c];
    uint32_t value = SPURIOUS;

    for (;;) {
        struct hppi h = hppi(g, c);
        if (h.irq < 0 || !can_signal(cpu, h.prio, h.grp1) || (alias && !h.grp1)) {
            break;
        }
        if (!alias && h.grp1 && !(cpu->ctlr & CCTLR_ACKCTL)) {
            value = SPURIOUS_GRP1;
            break;
        }
        unsigned irq = (unsigned)h.irq;
        uint32_t bit = 1u << (irq % 32);
        if (irq < NSGIS) {
            /* One source at a time: the SGI stays pending while other cores' requests remain.
             * Only this core clears sources, so the one found is still there. */
            unsigned src = (unsigned)__builtin_ctz(sgi_sources(cpu, irq));
            atomic_fetch_and(&cpu->sgi_pend[irq / 4], ~((1u << src) << (8 * (irq % 4))));
            cpu->active |= bit;
            value = irq | (src << 10);
        } else if (irq < GIC_FIRST_SPI) {
            /* As for SPIs: a level-sensitive PPI whose line is high stays pending. */
            cpu->latch &= ~bit;
            cpu->active |= bit;
            value = irq;
        } else if (claim_spi(g, c, irq, h.grp1)) {
            /* Its other targets must stop signalling it. */
            notify(g, -1, atomic_load(&g->targets[irq]) & ~(1u << c));
            value = irq;
        } else {
            continue;
        }
        cpu->apr[h.grp1] |= 1u << (group_prio(cpu, h.grp1, h.prio) >> PRIO_SHIFT);
        break;
    }
    /* Also after a spurious answer: the output may have been stale (an update request still
     * queued), and a handler that loops while its IRQ input is high must see it drop. */
    update_self(g, c);
    return value;
}

static bool is_grp1(struct gic *g, unsigned c, unsigned irq)
{
    if (irq < 32) {
        return (g->cpu[c].group >> irq) & 1;
    }
    return (atomic_load(&g->spi[irq / 32].group) >> (irq % 32)) & 1;
}

/* Ends the active state of irq (banked for core c) and re-evaluates every core it concerns. */
static void deactivate(struct gic *g, unsigned c, unsigned irq)
{
    uint32_t bit = 1u << (irq % 32);
    uint32_t was;
    uint32_t cpus = 1u << c;

    if (irq < 32) {
        was = g->cpu[c].active;
        g->cpu[c].active &= ~bit;
    } else {
        was = atomic_fetch_and(&g->spi[irq / 32].active, ~bit);
        cpus |= atomic_load(&g->targets[irq]);
    }
    if (!(was & bit)) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: cpu%u deactivates interrupt %u, not active",
                   c, irq);
    }
    notify(g, (int)c, cpus);
}

/* GICC_EOIR (alias false) / GICC_AEOIR (alias true). */
static void cpu_end_of_interrupt(struct gic *g, unsigned c, uint32_t value, bool alias)
{
    struct gic_cpu *cpu = &g->cpu[c];
    unsigned irq = value & 0x3ff;
    if (irq >= 1020) {
        return; /* a spurious ID: no effect */
    }
    if (irq >= GIC_NR_IRQS) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: cpu%u EOI of interrupt %u, not implemented",
                   c, irq);
        return;
    }
    /* Priority drop: the highest active priority goes, the interrupt's group's bit first. */
    bool grp1 = is_grp1(g, c, irq);
    uint32_t all = cpu->apr[0] | cpu->apr[1];
    if (all == 0) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: cpu%u EOI of interrupt %u with no active "
                   "priority", c, irq);
    } else {
        uint32_t top = all & -all;
        if (cpu->apr[grp1] & top) {
            cpu->apr[grp1] &= ~top;
        } else {
            cpu->apr[!grp1] &= ~top;
        }
    }
    uint32_t eoimode = alias ? (cpu->ctlr & CCTLR_EOIMODE_NS) : (cpu->ctlr & CCTLR_EOIMODE_S);
    if (eoimode == 0) {
        deactivate(g, c, irq);
    } else {
        update_self(g, c);
    }
}

/* GICC_HPPIR / GICC_AHPPIR. */
static uint32_t cpu_highest_pending(struct gic *g, unsigned c, bool alias)
{
    struct hppi h = hppi(g, c);
    if (h.irq < 0) {
        return SPURIOUS;
    }
    unsigned irq = (unsigned)h.irq;
    if (alias && !h.grp1) {
        return SPURIOUS;
    }
    if (!alias && h.grp1 && !(g->cpu[c].ctlr & CCTLR_ACKCTL)) {
        return SPURIOUS_GRP1;
    }
    if (irq < NSGIS) {
        irq |= (unsigned)__builtin_ctz(sgi_sources(&g->cpu[c], irq)) << 10;
    }
    return irq;
}

/* ---- the CPU interface's register map ------------------------------------------------------ */

enum cpu_kind {
    C_CTLR, C_PMR, C_BPR, C_IAR, C_EOIR, C_RPR, C_HPPIR, C_ABPR, C_AIAR, C_AEOIR, C_AHPPIR,
    C_APR0, C_NSAPR0, C_RAZWI, C_IIDR, C_DIR,
};

struct cpu_reg {
    uint16_t offset;
    const char *name;
    enum cpu_kind kind;
    bool ro, wo;
};

/* IHI 0048B table 4-2. The APRs beyond the first of each group hold nothing with 5 priority
 * bits: RAZ/WI. */
static const struct cpu_reg cpu_regs[] = {
    {0x0000, "GICC_CTLR", C_CTLR, false, false},
    {0x0004, "GICC_PMR", C_PMR, false, false},
    {0x0008, "GICC_BPR", C_BPR, false, false},
    {0x000c, "GICC_IAR", C_IAR, true, false},
    {0x0010, "GICC_EOIR", C_EOIR, false, true},
    {0x0014, "GICC_RPR", C_RPR, true, false},
    {0x0018, "GICC_HPPIR", C_HPPIR, true, false},
    {0x001c, "GICC_ABPR", C_ABPR, false, false},
    {0x0020, "GICC_AIAR", C_AIAR, true, false},
    {0x0024, "GICC_AEOIR", C_AEOIR, false, true},
    {0x0028, "GICC_AHPPIR", C_AHPPIR, true, false},
    {0x00d0, "GICC_APR0", C_APR0, false, false},
    {0x00d4, "GICC_APR1", C_RAZWI, false, false},
    {0x00d8, "GICC_APR2", C_RAZWI, false, false},
    {0x00dc, "GICC_APR3", C_RAZWI, false, false},
    {0x00e0, "GICC_NSAPR0", C_NSAPR0, false, false},
    {0x00e4, "GICC_NSAPR1", C_RAZWI, false, false},
    {0x00e8, "GICC_NSAPR2", C_RAZWI, false, false},
    {0x00ec, "GICC_NSAPR3", C_RAZWI, false, false},
    {0x00fc, "GICC_IIDR", C_IIDR, true, false},
    {0x1000, "GICC_DIR", C_DIR, false, true},
};

#define NCPU_REGS COREMU_ARRAY_SIZE(cpu_regs)

static const struct cpu_reg *cpu_find(uint64_t offset)
{
    for (size_t i = 0; i < NCPU_REGS; i++) {
        if (cpu_regs[i].offset == offset) {
            return &cpu_regs[i];
        }
    }
    return NULL;
}

static int gic_cpu_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct gic *g = opaque;
    const struct cpu_reg *reg = cpu_find(offset);
    uint32_t v = 0;
    (void)size;

    *value = 0;
    if (reg == NULL || reg->wo) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: read of %s 0x%04x in the CPU interface",
                   reg == NULL ? "reserved offset" : reg->name, (unsigned)offset);
        return COREMU_MEM_OK;
    }
    int c = self_index(g);
    if (c < 0) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: %s read from a thread that is no core",
                   reg->name);
        return COREMU_MEM_OK;
    }
    struct gic_cpu *cpu = &g->cpu[c];
    switch (reg->kind) {
    case C_CTLR:
        v = cpu->ctlr;
        break;
    case C_PMR:
        v = cpu->pmr;
        break;
    case C_BPR:
        v = cpu->bpr;
        break;
    case C_IAR:
        v = cpu_acknowledge(g, (unsigned)c, false);
        break;
    case C_AIAR:
        v = cpu_acknowledge(g, (unsigned)c, true);
        break;
    case C_RPR:
        v = running_prio(cpu);
        break;
    case C_HPPIR:
        v = cpu_highest_pending(g, (unsigned)c, false);
        break;
    case C_AHPPIR:
        v = cpu_highest_pending(g, (unsigned)c, true);
        break;
    case C_ABPR:
        /* With CBPR set, GICC_BPR governs both groups and ABPR reads as its group 1 view. */
        v = (cpu->ctlr & CCTLR_CBPR) ? (cpu->bpr < 7 ? cpu->bpr + 1 : 7) : cpu->abpr;
        break;
    case C_APR0:
        v = cpu->apr[0];
        break;
    case C_NSAPR0:
        v = cpu->apr[1];
        break;
    case C_IIDR:
        v = GICC_IIDR_VALUE;
        break;
    case C_RAZWI:
    case C_EOIR:
    case C_AEOIR:
    case C_DIR:
        break;
    }
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "gic: cpu%d read %s = 0x%x", c, reg->name, v);
    *value = v;
    return COREMU_MEM_OK;
}

static int gic_cpu_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct gic *g = opaque;
    const struct cpu_reg *reg = cpu_find(offset);
    uint32_t v = (uint32_t)value;
    (void)size;

    if (reg == NULL || reg->ro) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: write of 0x%x to %s 0x%04x ignored", v,
                   reg == NULL ? "reserved offset" : reg->name, (unsigned)offset);
        return COREMU_MEM_OK;
    }
    int c = self_index(g);
    if (c < 0) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: %s written from a thread that is no core",
                   reg->name);
        return COREMU_MEM_OK;
    }
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "gic: cpu%d write %s = 0x%x", c, reg->name, v);
    struct gic_cpu *cpu = &g->cpu[c];
    switch (reg->kind) {
    case C_CTLR:
        cpu->ctlr = v & CCTLR_WMASK;
        update_self(g, (unsigned)c);
        break;
    case C_PMR:
        cpu->pmr = v & PRIO_MASK;
        update_self(g, (unsigned)c);
        break;
    case C_BPR:
        cpu->bpr = (v & 7) < MIN_BPR ? MIN_BPR : (v & 7);
        update_self(g, (unsigned)c);
        break;
    case C_ABPR:
        if (!(cpu->ctlr & CCTLR_CBPR)) {
            cpu->abpr = (v & 7) < MIN_ABPR ? MIN_ABPR : (v & 7);
            update_self(g, (unsigned)c);
        }
        break;
    case C_EOIR:
        cpu_end_of_interrupt(g, (unsigned)c, v, false);
        break;
    case C_AEOIR:
        cpu_end_of_interrupt(g, (unsigned)c, v, true);
        break;
    case C_DIR: {
        unsigned irq = v & 0x3ff;
        if (!(cpu->ctlr & CCTLR_EOIMODE_S)) {
            /* UNPREDICTABLE with EOImode 0 (IHI 0048B 4.4.15): ignored. */
            COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: cpu%d GICC_DIR with EOImode 0", c);
        } else if (irq < GIC_NR_IRQS) {
            deactivate(g, (unsigned)c, irq);
        }
        break;
    }
    case C_APR0:
        /* Software saves and restores these around power-down; values other than those read
         * are UNPREDICTABLE, so storing them is enough. */
        cpu->apr[0] = v;
        update_self(g, (unsigned)c);
        break;
    case C_NSAPR0:
        cpu->apr[1] = v;
        update_self(g, (unsigned)c);
        break;
    case C_RAZWI:
    case C_IAR:
    case C_RPR:
    case C_HPPIR:
    case C_AIAR:
    case C_AHPPIR:
    case C_IIDR:
        break;
    }
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops gic_cpu_mmio_ops = {
    .read = gic_cpu_read,
    .write = gic_cpu_write,
    .sizes = 4u,
    .allow_unaligned = false,
};

/* ---- the distributor's register map -------------------------------------------------------- */

enum dist_kind {
    D_CTLR, D_TYPER, D_IIDR, D_IGROUPR, D_ISENABLER, D_ICENABLER, D_ISPENDR, D_ICPENDR,
    D_ISACTIVER, D_ICACTIVER, D_IPRIORITYR, D_ITARGETSR, D_ICFGR, D_SGIR, D_CPENDSGIR,
    D_SPENDSGIR, D_ID,
};

struct dist_reg {
    uint16_t start, end; /* [start, end) of the architected range */
    const char *name;
    enum dist_kind kind;
    bool bytes;          /* byte-accessible: one field per byte */
    bool ro, wo;
};

/* IHI 0048B table 4-1. A range covers room for 1020 interrupts; the parts beyond the 288
 * implemented ones are RAZ/WI. */
static const struct dist_reg dist_regs[] = {
    {0x000, 0x004, "GICD_CTLR", D_CTLR, false, false, false},
    {0x004, 0x008, "GICD_TYPER", D_TYPER, false, true, false},
    {0x008, 0x00c, "GICD_IIDR", D_IIDR, false, true, false},
    {0x080, 0x100, "GICD_IGROUPR", D_IGROUPR, false, false, false},
    {0x100, 0x180, "GICD_ISENABLER", D_ISENABLER, false, false, false},
    {0x180, 0x200, "GICD_ICENABLER", D_ICENABLER, false, false, false},
    {0x200, 0x280, "GICD_ISPENDR", D_ISPENDR, false, false, false},
    {0x280, 0x300, "GICD_ICPENDR", D_ICPENDR, false, false, false},
    {0x300, 0x380, "GICD_ISACTIVER", D_ISACTIVER, false, false, false},
    {0x380, 0x400, "GICD_ICACTIVER", D_ICACTIVER, false, false, false},
    {0x400, 0x7fc, "GICD_IPRIORITYR", D_IPRIORITYR, true, false, false},
    {0x800, 0xbfc, "GICD_ITARGETSR", D_ITARGETSR, true, false, false},
    {0xc00, 0xd00, "GICD_ICFGR", D_ICFGR, false, false, false},
    {0xf00, 0xf04, "GICD_SGIR", D_SGIR, false, false, true},
    {0xf10, 0xf20, "GICD_CPENDSGIR", D_CPENDSGIR, true, false, false},
    {0xf20, 0xf30, "GICD_SPENDSGIR", D_SPENDSGIR, true, false, false},
    {0xfd0, 0x1000, "GICD_ID", D_ID, false, true, false},
};

#define NDIST_REGS COREMU_ARRAY_SIZE(dist_regs)

/* ICPIDR4-7, ICPIDR0-3, ICCIDR0-3 from 0xfd0: ArchRev 2 in ICPIDR2[7:4]. */
static const uint8_t dist_ids[12] = {0x04, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x2b, 0x00,
                                     0x0d, 0xf0, 0x05, 0xb1};

static const struct dist_reg *dist_find(uint64_t offset)
{
    for (size_t i = 0; i < NDIST_REGS; i++) {
        if (offset >= dist_regs[i].start && offset < dist_regs[i].end) {
            return &dist_regs[i];
        }
    }
    return NULL;
}

/* One byte of a byte-accessible register (c: the accessing core, or -1). */
static uint8_t dist_read_byte(struct gic *g, int c, const struct dist_reg *reg, unsigned n)
{
    switch (reg->kind) {
    case D_IPRIORITYR:
        if (n >= GIC_NR_IRQS || (n < 32 && c < 0)) {
            return 0;
        }
        return n < 32 ? g->cpu[c].prio[n] : atomic_load(&g->prio[n]);
    case D_ITARGETSR:
        /* A uniprocessor GIC has RAZ/WI targets; the banked ones name the reading core. */
        if (n >= GIC_NR_IRQS || g->ncpus == 1) {
            return 0;
        }
        if (n < 32) {
            return c < 0 ? 0 : (uint8_t)(1u << c);
        }
        return atomic_load(&g->targets[n]);
    case D_CPENDSGIR:
    case D_SPENDSGIR:
        return c < 0 ? 0 : (uint8_t)sgi_sources(&g->cpu[c], n);
    default:
        return 0;
    }
}

static void dist_write_byte(struct gic *g, int c, const struct dist_reg *reg, unsigned n,
                            uint8_t v)
{
    switch (reg->kind) {
    case D_IPRIORITYR:
        if (n >= GIC_NR_IRQS || (n < 32 && c < 0)) {
            return;
        }
        if (n < 32) {
            g->cpu[c].prio[n] = v & PRIO_MASK;
            update_self(g, (unsigned)c);
        } else {
            atomic_store(&g->prio[n], v & PRIO_MASK);
            notify(g, c, atomic_load(&g->targets[n]));
        }
        return;
    case D_ITARGETSR:
        if (n >= 32 && n < GIC_NR_IRQS && g->ncpus > 1) {
            /* Both the old targets (which may have to stop signalling it) and the new ones. */
            uint8_t mask = (uint8_t)(v & cpu_mask_all(g));
            notify(g, c, atomic_exchange(&g->targets[n], mask) | mask);
        }
        return;
    case D_CPENDSGIR:
    case D_SPENDSGIR: {
        if (c < 0) {
            return;
        }
        _Atomic uint32_t *w = &g->cpu[c].sgi_pend[n / 4];
        unsigned shift = 8 * (n % 4);
        if (reg->kind == D_CPENDSGIR) {
            atomic_fetch_and(w, ~((uint32_t)v << shift));
        } else {
            atomic_fetch_or(w, (uint32_t)(v & cpu_mask_all(g)) << shift);
        }
        update_self(g, (unsigned)c);
        return;
    }
    default:
        return;
    }
}

/* Interrupt configuration as GICD_ICFGR shows it: two bits per interrupt, Int_config[1]
 * meaning edge-triggered, for the 16 interrupts whose edge bits are the low half of `edge`. */
static uint32_t icfgr_of(uint32_t edge)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (edge & (1u << i)) {
            v |= 2u << (2 * i);
        }
    }
    return v;
}

/* A word of a bitmap or other word register; w is the word index within its range. */
static uint32_t dist_read_word(struct gic *g, int c, const struct dist_reg *reg, unsigned w,
                               uint64_t offset)
{
    struct gic_cpu *cpu = c < 0 ? NULL : &g->cpu[c];
    struct gic_spis *b = NULL;

    if (reg->kind >= D_IGROUPR && reg->kind <= D_ICACTIVER) {
        if (w >= NWORDS || (w == 0 && c < 0)) {
            return 0;
        }
        b = w == 0 ? NULL : &g->spi[w];
    }
    switch (reg->kind) {
    case D_CTLR:
        return atomic_load(&g->ctlr);
    case D_TYPER:
        return ((g->ncpus - 1) << 5) | (NWORDS - 1);
    case D_IIDR:
        return GICD_IIDR_VALUE;
    case D_IGROUPR:
        return b == NULL ? cpu->group : atomic_load(&b->group);
    case D_ISENABLER:
    case D_ICENABLER:
        return b == NULL ? cpu->enabled : atomic_load(&b->enabled);
    case D_ISPENDR:
    case D_ICPENDR:
        return b == NULL ? banked_pending(cpu) : spi_pending(b);
    case D_ISACTIVER:
    case D_ICACTIVER:
        return b == NULL ? cpu->active : atomic_load(&b->active);
    case D_ICFGR: {
        unsigned first = w * 16;
        if (first >= GIC_NR_IRQS || (first < 32 && c < 0)) {
            return 0;
        }
        uint32_t edge = first < 32 ? cpu->edge : atomic_load(&g->spi[first / 32].edge);
        return icfgr_of(edge >> (first % 32));
    }
    case D_ID:
        return dist_ids[(offset - 0xfd0) / 4];
    default:
        return 0;
    }
}

static void send_sgi(struct gic *g, int c, uint32_t v)
{
    unsigned sgi = v & 0xf;
    unsigned filter = (v >> 24) & 3;
    uint32_t targets;

    if (c < 0) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: GICD_SGIR written from a thread that is no "
                   "core: no source, ignored");
        return;
    }
    switch (filter) {
    case 0:
        targets = (v >> 16) & 0xff & cpu_mask_all(g);
        break;
    case 1:
        targets = cpu_mask_all(g) & ~(1u << c);
        break;
    case 2:
        targets = 1u << c;
        break;
    default:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: GICD_SGIR with the reserved filter 0b11");
        return;
    }
    uint32_t src = (1u << c) << (8 * (sgi % 4));
    for (uint32_t t = targets; t != 0; t &= t - 1) {
        atomic_fetch_or(&g->cpu[__builtin_ctz(t)].sgi_pend[sgi / 4], src);
    }
    notify(g, c, targets);
}

/* A (possibly partial) write of a word register of the banked interrupts 0-31, by their core:
 * only the bits in mask were written. */
static void dist_write_banked(struct gic *g, unsigned c, const struct dist_reg *reg, uint32_t v,
                              uint32_t mask)
{
    struct gic_cpu *cpu = &g->cpu[c];
    uint32_t set = v & mask;

    switch (reg->kind) {
    case D_IGROUPR:
        cpu->group = (cpu->group & ~mask) | set;
        break;
    case D_ISENABLER:
        cpu->enabled |= set;
        break;
    case D_ICENABLER:
        cpu->enabled &= ~set;
        break;
    case D_ISPENDR:
        /* SGIs are made pending through GICD_SGIR and GICD_SPENDSGIR only. */
        cpu->latch |= set & ~SGI_MASK;
        break;
    case D_ICPENDR:
        /* A level-sensitive interrupt whose line is high stays pending. */
        cpu->latch &= ~(set & ~SGI_MASK);
        break;
    case D_ISACTIVER:
        cpu->active |= set;
        break;
    case D_ICACTIVER:
        cpu->active &= ~set;
        break;
    default:
        return;
    }
    update_self(g, c);
}

/* The same for word w >= 1 (SPIs), by any thread: one atomic step per access. */
static void dist_write_spis(struct gic *g, int c, const struct dist_reg *reg, unsigned w,
                           uint32_t v, uint32_t mask)
{
    struct gic_spis *b = &g->spi[w];
    uint32_t set = v & mask;

    switch (reg->kind) {
    case D_IGROUPR:
        word_update(&b->group, mask, v);
        break;
    case D_ISENABLER:
        atomic_fetch_or(&b->enabled, set);
        break;
    case D_ICENABLER:
        atomic_fetch_and(&b->enabled, ~set);
        break;
    case D_ISPENDR:
        atomic_fetch_or(&b->latch, set);
        break;
    case D_ICPENDR:
        atomic_fetch_and(&b->latch, ~set);
        break;
    case D_ISACTIVER:
        atomic_fetch_or(&b->active, set);
        break;
    case D_ICACTIVER:
        atomic_fetch_and(&b->active, ~set);
        break;
    default:
        return;
    }
    notify(g, c, spi_targets(g, w, mask));
}

/* GICD_ICFGR word w: the configuration of interrupts 16w..16w+15. */
static void dist_write_icfgr(struct gic *g, int c, unsigned w, uint32_t v, uint32_t mask)
{
    unsigned first = w * 16;
    if (first < 16 || first >= GIC_NR_IRQS || (first < 32 && c < 0)) {
        return; /* SGIs: read-only, always edge-triggered */
    }
    uint32_t bits = 0, which = 0;
    for (unsigned i = 0; i < 16; i++) {
        uint32_t m = 2u << (2 * i);
        if (mask & m) {
            which |= 1u << i;
            if (v & m) {
                bits |= 1u << i;
            }
        }
    }
    unsigned shift = first % 32;
    if (first < 32) {
        struct gic_cpu *cpu = &g->cpu[c];
        cpu->edge = (cpu->edge & ~(which << shift)) | (bits << shift);
        update_self(g, (unsigned)c);
    } else {
        word_update(&g->spi[first / 32].edge, which << shift, bits << shift);
        notify(g, c, spi_targets(g, first / 32, 0xffffu << shift));
    }
}

static void dist_write_word(struct gic *g, int c, const struct dist_reg *reg, unsigned w,
                            uint32_t v, uint32_t mask)
{
    switch (reg->kind) {
    case D_CTLR:
        word_update(&g->ctlr, mask, v & DCTLR_WMASK);
        notify(g, c, cpu_mask_all(g));
        return;
    case D_ICFGR:
        dist_write_icfgr(g, c, w, v, mask);
        return;
    case D_SGIR:
        send_sgi(g, c, v);
        return;
    default:
        break;
    }
    if (reg->kind < D_IGROUPR || reg->kind > D_ICACTIVER || w >= NWORDS) {
        return;
    }
    if (w == 0) {
        if (c >= 0) {
            dist_write_banked(g, (unsigned)c, reg, v, mask);
        }
    } else {
        dist_write_spis(g, c, reg, w, v, mask);
    }
}

static int gic_dist_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct gic *g = opaque;
    const struct dist_reg *reg = dist_find(offset);
    uint64_t word_off = offset & ~(uint64_t)3;
    unsigned shift = (unsigned)(offset & 3) * 8;
    uint32_t v = 0;

    *value = 0;
    if (reg == NULL || reg->wo) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: read of %s 0x%03x in the distributor",
                   reg == NULL ? "reserved offset" : reg->name, (unsigned)offset);
        return COREMU_MEM_OK;
    }
    if (!reg->bytes && size != 4) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: %u-byte read of word-only %s", size,
                   reg->name);
    }
    int c = self_index(g);
    if (c >= 0) {
        fold_ppi(&g->cpu[c]);
    }
    if (reg->bytes) {
        for (unsigned i = 0; i < 4; i++) {
            v |= (uint32_t)dist_read_byte(g, c, reg, (unsigned)(word_off - reg->start) + i)
                 << (8 * i);
        }
    } else {
        v = dist_read_word(g, c, reg, (unsigned)(word_off - reg->start) / 4, word_off);
    }
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "gic: cpu%d read %s+0x%x = 0x%x", c, reg->name,
               (unsigned)(word_off - reg->start), v);
    *value = (v >> shift) & (size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1);
    return COREMU_MEM_OK;
}

static int gic_dist_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct gic *g = opaque;
    const struct dist_reg *reg = dist_find(offset);
    uint64_t word_off = offset & ~(uint64_t)3;
    unsigned shift = (unsigned)(offset & 3) * 8;
    uint32_t mask = size >= 4 ? 0xffffffffu : ((1u << (size * 8)) - 1) << shift;

    if (reg == NULL || reg->ro) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: write of 0x%llx to %s 0x%03x ignored",
                   (unsigned long long)value, reg == NULL ? "reserved offset" : reg->name,
                   (unsigned)offset);
        return COREMU_MEM_OK;
    }
    if (!reg->bytes && size != 4) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: %u-byte write of word-only %s", size,
                   reg->name);
    }
    int c = self_index(g);
    if (c >= 0) {
        /* Edges that arrived before this access are judged (and cleared) by what it finds. */
        fold_ppi(&g->cpu[c]);
    }
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "gic: cpu%d write %s+0x%x = 0x%llx", c, reg->name,
               (unsigned)(offset - reg->start), (unsigned long long)value);
    if (reg->bytes) {
        for (unsigned i = 0; i < size; i++) {
            dist_write_byte(g, c, reg, (unsigned)(offset - reg->start) + i,
                            (uint8_t)(value >> (8 * i)));
        }
    } else {
        dist_write_word(g, c, reg, (unsigned)(word_off - reg->start) / 4,
                        (uint32_t)(value << shift), mask);
    }
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops gic_dist_mmio_ops = {
    .read = gic_dist_read,
    .write = gic_dist_write,
    .sizes = 1u | 2u | 4u,
    .allow_unaligned = false,
};

/* ---- interrupt inputs ---------------------------------------------------------------------- */

void gic_set_irq(struct gic *g, int irq, bool level)
{
    if (irq < (int)GIC_FIRST_SPI || irq >= (int)GIC_NR_IRQS) {
        COREMU_LOG(COREMU_LOG_INT, "gic: input %d is no SPI", irq);
        return;
    }
    struct gic_spis *b = &g->spi[irq / 32];
    uint32_t bit = 1u << (irq % 32);
    if (level) {
        /* Of two threads raising one line, only the one that finds it low makes the edge. */
        if (atomic_fetch_or(&b->level, bit) & bit) {
            return;
        }
        if (atomic_load(&b->edge) & bit) {
            atomic_fetch_or(&b->latch, bit);
        }
    } else if (!(atomic_fetch_and(&b->level, ~bit) & bit)) {
        return;
    }
    notify(g, self_index(g), atomic_load(&g->targets[irq]));
}

void gic_set_ppi(struct gic *g, unsigned cpu, int ppi, bool level)
{
    if (cpu >= g->ncpus || ppi < 0 || ppi >= 16) {
        COREMU_LOG(COREMU_LOG_INT, "gic: PPI %d of cpu%u does not exist", ppi, cpu);
        return;
    }
    struct gic_cpu *gc = &g->cpu[cpu];
    uint32_t bit = 1u << (GIC_FIRST_PPI + (unsigned)ppi);
    if (level) {
        if (atomic_fetch_or(&gc->ppi_level, bit) & bit) {
            return;
        }
        /* The owner decides whether it latches (fold_ppi): only it may read the edge bits. */
        atomic_fetch_or(&gc->ppi_rise, bit);
    } else if (!(atomic_fetch_and(&gc->ppi_level, ~bit) & bit)) {
        return;
    }
    notify(g, self_index(g), 1u << cpu);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

/* Every register to its reset value; the input levels stay. No core may be running its
 * interface (gic_new, or gic_reset with the world stopped). */
static void reset_registers(struct gic *g)
{
    atomic_store(&g->ctlr, 0);
    for (unsigned w = 1; w < NWORDS; w++) {
        struct gic_spis *b = &g->spi[w];
        atomic_store(&b->enabled, 0);
        atomic_store(&b->latch, 0);
        atomic_store(&b->active, 0);
        atomic_store(&b->group, 0);
        atomic_store(&b->edge, 0); /* SPIs reset level-sensitive */
    }
    /* A uniprocessor GIC sends every SPI to its one core (ITARGETSR is RAZ/WI there). */
    for (unsigned irq = GIC_FIRST_SPI; irq < GIC_NR_IRQS; irq++) {
        atomic_store(&g->prio[irq], 0);
        atomic_store(&g->targets[irq], g->ncpus == 1 ? 1 : 0);
    }
    for (unsigned c = 0; c < g->ncpus; c++) {
        struct gic_cpu *cpu = &g->cpu[c];
        cpu->enabled = 0;
        cpu->latch = 0;
        cpu->active = 0;
        cpu->group = 0;
        cpu->edge = SGI_MASK; /* SGIs are edge-triggered; PPIs reset level-sensitive */
        memset(cpu->prio, 0, sizeof(cpu->prio));
        cpu->ctlr = 0;
        cpu->pmr = 0;
        cpu->bpr = MIN_BPR;
        cpu->abpr = MIN_ABPR;
        cpu->apr[0] = cpu->apr[1] = 0;
        for (unsigned i = 0; i < NSGIS / 4; i++) {
            atomic_store(&cpu->sgi_pend[i], 0);
        }
        /* An edge that arrived before the reset is no edge after it: the PPIs are
         * level-sensitive now, and a line that is high shows as such. */
        atomic_store(&cpu->ppi_rise, 0);
    }
}

struct gic *gic_new(unsigned ncpus, uint32_t irq_bit, uint32_t fiq_bit)
{
    if (ncpus == 0 || ncpus > GIC_MAX_CPUS || irq_bit == 0 || fiq_bit == 0 ||
        irq_bit == fiq_bit) {
        errno = EINVAL;
        return NULL;
    }
    /* The per-core parts sit on their own cache lines (_Alignas); calloc does not honour it. */
    struct gic *g = aligned_alloc(_Alignof(struct gic), sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    memset(g, 0, sizeof(*g));
    g->ncpus = ncpus;
    g->irq_bit = irq_bit;
    g->fiq_bit = fiq_bit;
    atomic_init(&g->machine, NULL);
    for (unsigned c = 0; c < GIC_MAX_CPUS; c++) {
        struct gic_cpu *cpu = &g->cpu[c];
        atomic_init(&cpu->ppi_level, 0);
        atomic_init(&cpu->upd_requested, 0);
        cpu->upd_ev.fn = update_event;
        cpu->upd_ev.ptr = g;
    }
    reset_registers(g);
    return g;
}

void gic_attach(struct gic *g, struct coremu_machine *m)
{
    atomic_store(&g->machine, m);
    /* After the store: a change that found no machine is seen by these evaluations. */
    notify(g, self_index(g), cpu_mask_all(g));
}

void gic_reset(struct gic *g)
{
    reset_registers(g);
    /* The cores are parked and none runs an update meanwhile: their IRQ/FIQ bits are ours to
     * clear. An update request still queued re-evaluates the reset state when it runs, and
     * the flag keeps guarding it (clearing it here could queue the event twice). */
    struct coremu_machine *m = atomic_load(&g->machine);
    if (m == NULL) {
        return;
    }
    for (unsigned c = 0; c < g->ncpus && c < m->ncpus; c++) {
        coremu_cpu_clear_pending(m->cpus[c], g->irq_bit | g->fiq_bit);
    }
}

int gic_map_dist(struct gic *g, struct coremu_as *as, uint64_t base, uint64_t size)
{
    if (size < GIC_DIST_SIZE) {
        return -EINVAL;
    }
    return coremu_as_add_mmio(as, "gic-dist", base, size, &gic_dist_mmio_ops, g,
                              COREMU_MMIO_LOCKLESS);
}

int gic_map_cpu(struct gic *g, struct coremu_as *as, uint64_t base, uint64_t size)
{
    if (size < GIC_CPU_SIZE) {
        return -EINVAL;
    }
    return coremu_as_add_mmio(as, "gic-cpu", base, size, &gic_cpu_mmio_ops, g,
                              COREMU_MMIO_LOCKLESS);
}

void gic_free(struct gic *g)
{
    free(g);
}
