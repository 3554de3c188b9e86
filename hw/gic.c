/*
 * coremu — ARM Generic Interrupt Controller v2. Written from the GIC Architecture Specification
 * v2.0 (ARM IHI 0048B); what is modelled and the threading rules are in gic.h.
 *
 * Shared state. Every field of struct gic and struct gic_cpu below the lock is written and read
 * only with gic.lock held, by whichever thread is in a GIC entry point: a core's MMIO access
 * (its own struct gic_cpu for the banked registers and the CPU interface, any core's for
 * GICD_SGIR, GICD_ITARGETSR and SPI changes), a device thread's gic_set_irq, a core's
 * gic_set_ppi. The only state written outside the lock is each core's pending word, which the
 * runtime owns (atomics): the GIC sets and clears its IRQ/FIQ bits only under gic.lock, so the
 * last update always reflects the latest state.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/cpu.h>
#include <coremu/log.h>

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

/* State bits of 32 consecutive interrupts. */
struct gic_bank {
    uint32_t enabled;
    uint32_t latch;  /* pending latch: an edge, GICD_ISPENDR, an SGI (then per source in sgi_src) */
    uint32_t level;  /* the input line; pending while high if level-sensitive */
    uint32_t active;
    uint32_t group;  /* 1: group 1 */
    uint32_t edge;   /* GICD_ICFGR Int_config[1]: 1 edge-triggered, 0 level-sensitive */
};

/* One CPU interface with the distributor state banked for its core (interrupts 0-31). All
 * under gic.lock. */
struct gic_cpu {
    struct gic_bank bank;        /* interrupts 0-31 of this core */
    uint8_t prio[32];
    uint8_t sgi_src[NSGIS];      /* SGI n is pending from the cores whose bits are set */
    uint32_t spi_mask[NWORDS];   /* SPIs whose targets include this core (word 0 unused) */
    uint32_t ctlr;               /* GICC_CTLR */
    uint32_t pmr;                /* GICC_PMR */
    uint32_t bpr;                /* GICC_BPR, >= MIN_BPR */
    uint32_t abpr;               /* GICC_ABPR, >= MIN_ABPR */
    uint32_t apr[2];             /* active priorities of group 0 (GICC_APR0), 1 (GICC_NSAPR0) */
};

struct gic {
    unsigned ncpus;              /* immutable */
    uint32_t irq_bit, fiq_bit;   /* immutable */

    pthread_mutex_t lock;
    struct coremu_machine *machine; /* written once by gic_attach (under lock) */
    uint32_t ctlr;               /* GICD_CTLR */
    struct gic_bank spi[NWORDS]; /* word 0 unused: interrupts 0-31 are banked in gic_cpu */
    uint8_t prio[GIC_NR_IRQS];   /* SPIs only */
    uint8_t targets[GIC_NR_IRQS]; /* SPIs only: GICD_ITARGETSR, a mask of implemented cores */
    struct gic_cpu cpu[GIC_MAX_CPUS];
};

/* ---- helpers (all with g->lock held) ------------------------------------------------------ */

static struct gic_bank *bank_of(struct gic *g, unsigned c, unsigned word)
{
    return word == 0 ? &g->cpu[c].bank : &g->spi[word];
}

static uint8_t *prio_of(struct gic *g, unsigned c, unsigned irq)
{
    return irq < 32 ? &g->cpu[c].prio[irq] : &g->prio[irq];
}

static uint32_t bank_pending(const struct gic_bank *b)
{
    return b->latch | (b->level & ~b->edge);
}

static uint32_t cpu_mask_all(const struct gic *g)
{
    return (1u << g->ncpus) - 1;
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

/* The highest-priority interrupt that is pending, enabled, not active, targets core c and
 * whose group the distributor forwards (lowest ID among equals); -1 if none. */
static int hppi(struct gic *g, unsigned c, unsigned *prio_out)
{
    const struct gic_cpu *cpu = &g->cpu[c];
    uint32_t grp0 = (g->ctlr & DCTLR_ENABLE_GRP0) ? ~0u : 0;
    uint32_t grp1 = (g->ctlr & DCTLR_ENABLE_GRP1) ? ~0u : 0;
    int best = -1;
    unsigned best_prio = 0x100;

    if ((grp0 | grp1) == 0) {
        return -1;
    }
    for (unsigned w = 0; w < NWORDS; w++) {
        const struct gic_bank *b = bank_of(g, c, w);
        uint32_t cand = bank_pending(b) & b->enabled & ~b->active;
        if (w != 0) {
            cand &= cpu->spi_mask[w];
        }
        cand &= (b->group & grp1) | (~b->group & grp0);
        while (cand != 0) {
            unsigned irq = w * 32 + (unsigned)__builtin_ctz(cand);
            unsigned p = *prio_of(g, c, irq);
            cand &= cand - 1;
            if (p < best_prio) {
                best = (int)irq;
                best_prio = p;
            }
        }
    }
    *prio_out = best_prio;
    return best;
}

static bool is_grp1(struct gic *g, unsigned c, unsigned irq)
{
    return (bank_of(g, c, irq / 32)->group >> (irq % 32)) & 1;
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

/* Sets core c's IRQ/FIQ inputs to what its CPU interface signals now. Only the GIC touches
 * these bits, always under the lock, so comparing with the word itself is exact. */
static void update_cpu(struct gic *g, unsigned c)
{
    if (g->machine == NULL || c >= g->machine->ncpus) {
        return;
    }
    struct gic_cpu *cpu = &g->cpu[c];
    unsigned prio;
    int irq = hppi(g, c, &prio);
    uint32_t want = 0;
    if (irq >= 0) {
        bool grp1 = is_grp1(g, c, (unsigned)irq);
        if (can_signal(cpu, prio, grp1)) {
            want = (!grp1 && (cpu->ctlr & CCTLR_FIQEN)) ? g->fiq_bit : g->irq_bit;
        }
    }
    struct coremu_cpu *rt = g->machine->cpus[c];
    uint32_t bits = g->irq_bit | g->fiq_bit;
    uint32_t have = atomic_load_explicit(&rt->pending, memory_order_relaxed) & bits;
    if (have & ~want) {
        coremu_cpu_clear_pending(rt, have & ~want);
    }
    if (want & ~have) {
        coremu_cpu_kick(rt, want & ~have);
    }
}

static void update_mask(struct gic *g, uint32_t cpus)
{
    for (unsigned c = 0; c < g->ncpus; c++) {
        if (cpus & (1u << c)) {
            update_cpu(g, c);
        }
    }
}

/* The cores that may see a change to the interrupts `bits` of word w (core c for a banked
 * word). */
static uint32_t cpus_of(struct gic *g, unsigned c, unsigned w, uint32_t bits)
{
    if (w == 0) {
        return 1u << c;
    }
    uint32_t cpus = 0;
    for (unsigned i = 0; i < g->ncpus; i++) {
        if (g->cpu[i].spi_mask[w] & bits) {
            cpus |= 1u << i;
        }
    }
    return cpus;
}

static void set_targets(struct gic *g, unsigned irq, uint8_t mask)
{
    unsigned w = irq / 32;
    uint32_t bit = 1u << (irq % 32);
    uint8_t old = g->targets[irq];
    g->targets[irq] = mask;
    for (unsigned c = 0; c < g->ncpus; c++) {
        if (mask & (1u << c)) {
            g->cpu[c].spi_mask[w] |= bit;
        } else {
            g->cpu[c].spi_mask[w] &= ~bit;
        }
    }
    update_mask(g, old | mask);
}

/* Ends the active state of irq (banked for core c); returns the cores to update. */
static uint32_t deactivate(struct gic *g, unsigned c, unsigned irq)
{
    unsigned w = irq / 32;
    uint32_t bit = 1u << (irq % 32);
    struct gic_bank *b = bank_of(g, c, w);
    if (!(b->active & bit)) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: cpu%u deactivates interrupt %u, not active",
                   c, irq);
    }
    b->active &= ~bit;
    return cpus_of(g, c, w, bit);
}

/* The CPU interface's core: the accessing core, or -1 for a thread that is none of ours (a
 * guest cannot do that; a monitor or a test might). */
static int self_index(struct gic *g)
{
    struct coremu_cpu *self = coremu_cpu_self();
    if (self == NULL || self->machine != g->machine || self->index >= g->ncpus) {
        return -1;
    }
    return (int)self->index;
}

/* ---- CPU interface operations -------------------------------------------------------------- */

/* GICC_IAR (alias false) / GICC_AIAR (alias true, group 1 only). */
static uint32_t cpu_acknowledge(struct gic *g, unsigned c, bool alias)
{
    struct gic_cpu *cpu = &g->cpu[c];
    unsigned prio;
    int best = hppi(g, c, &prio);
    if (best < 0) {
        return SPURIOUS;
    }
    unsigned irq = (unsigned)best;
    bool grp1 = is_grp1(g, c, irq);
    if (!can_signal(cpu, prio, grp1)) {
        return SPURIOUS;
    }
    if (alias && !grp1) {
        return SPURIOUS;
    }
    if (!alias && grp1 && !(cpu->ctlr & CCTLR_ACKCTL)) {
        return SPURIOUS_GRP1;
    }

    unsigned w = irq / 32;
    uint32_t bit = 1u << (irq % 32);
    struct gic_bank *b = bank_of(g, c, w);
    uint32_t value = irq;
    b->active |= bit;
    if (irq < NSGIS) {
        /* One source at a time: the SGI stays pending while other cores' requests remain.
         * (An SGI's latch bit is set exactly while sgi_src is not empty.) */
        unsigned src = cpu->sgi_src[irq] != 0 ? (unsigned)__builtin_ctz(cpu->sgi_src[irq]) : 0;
        cpu->sgi_src[irq] &= (uint8_t)~(1u << src);
        if (cpu->sgi_src[irq] == 0) {
            b->latch &= ~bit;
        }
        value |= src << 10;
    } else {
        /* A level-sensitive interrupt whose line is still high stays pending (active and
         * pending); anything else stops being pending. */
        b->latch &= ~bit;
    }
    cpu->apr[grp1] |= 1u << (group_prio(cpu, grp1, prio) >> PRIO_SHIFT);
    update_mask(g, cpus_of(g, c, w, bit) | (1u << c));
    return value;
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
    uint32_t cpus = 1u << c;
    if (eoimode == 0) {
        cpus |= deactivate(g, c, irq);
    }
    update_mask(g, cpus);
}

/* GICC_HPPIR / GICC_AHPPIR. */
static uint32_t cpu_highest_pending(struct gic *g, unsigned c, bool alias)
{
    unsigned prio;
    int best = hppi(g, c, &prio);
    if (best < 0) {
        return SPURIOUS;
    }
    unsigned irq = (unsigned)best;
    bool grp1 = is_grp1(g, c, irq);
    if (alias && !grp1) {
        return SPURIOUS;
    }
    if (!alias && grp1 && !(g->cpu[c].ctlr & CCTLR_ACKCTL)) {
        return SPURIOUS_GRP1;
    }
    if (irq < NSGIS && g->cpu[c].sgi_src[irq] != 0) {
        irq |= (unsigned)__builtin_ctz(g->cpu[c].sgi_src[irq]) << 10;
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

#define NCPU_REGS (sizeof(cpu_regs) / sizeof(cpu_regs[0]))

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
    pthread_mutex_lock(&g->lock);
    int c = self_index(g);
    if (c < 0) {
        pthread_mutex_unlock(&g->lock);
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
    pthread_mutex_unlock(&g->lock);
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
    pthread_mutex_lock(&g->lock);
    int c = self_index(g);
    if (c < 0) {
        pthread_mutex_unlock(&g->lock);
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gic: %s written from a thread that is no core",
                   reg->name);
        return COREMU_MEM_OK;
    }
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "gic: cpu%d write %s = 0x%x", c, reg->name, v);
    struct gic_cpu *cpu = &g->cpu[c];
    switch (reg->kind) {
    case C_CTLR:
        cpu->ctlr = v & CCTLR_WMASK;
        update_cpu(g, (unsigned)c);
        break;
    case C_PMR:
        cpu->pmr = v & PRIO_MASK;
        update_cpu(g, (unsigned)c);
        break;
    case C_BPR:
        cpu->bpr = (v & 7) < MIN_BPR ? MIN_BPR : (v & 7);
        update_cpu(g, (unsigned)c);
        break;
    case C_ABPR:
        if (!(cpu->ctlr & CCTLR_CBPR)) {
            cpu->abpr = (v & 7) < MIN_ABPR ? MIN_ABPR : (v & 7);
            update_cpu(g, (unsigned)c);
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
            update_mask(g, deactivate(g, (unsigned)c, irq));
        }
        break;
    }
    case C_APR0:
        /* Software saves and restores these around power-down; values other than those read
         * are UNPREDICTABLE, so storing them is enough. */
        cpu->apr[0] = v;
        update_cpu(g, (unsigned)c);
        break;
    case C_NSAPR0:
        cpu->apr[1] = v;
        update_cpu(g, (unsigned)c);
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
    pthread_mutex_unlock(&g->lock);
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

#define NDIST_REGS (sizeof(dist_regs) / sizeof(dist_regs[0]))

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
        return *prio_of(g, (unsigned)(c < 0 ? 0 : c), n);
    case D_ITARGETSR:
        /* A uniprocessor GIC has RAZ/WI targets; the banked ones name the reading core. */
        if (n >= GIC_NR_IRQS || g->ncpus == 1) {
            return 0;
        }
        if (n < 32) {
            return c < 0 ? 0 : (uint8_t)(1u << c);
        }
        return g->targets[n];
    case D_CPENDSGIR:
    case D_SPENDSGIR:
        return c < 0 ? 0 : g->cpu[c].sgi_src[n];
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
        *prio_of(g, (unsigned)(c < 0 ? 0 : c), n) = v & PRIO_MASK;
        update_mask(g, n < 32 ? 1u << c : g->targets[n]);
        return;
    case D_ITARGETSR:
        if (n >= 32 && n < GIC_NR_IRQS && g->ncpus > 1) {
            set_targets(g, n, (uint8_t)(v & cpu_mask_all(g)));
        }
        return;
    case D_CPENDSGIR:
    case D_SPENDSGIR: {
        if (c < 0) {
            return;
        }
        struct gic_cpu *cpu = &g->cpu[c];
        if (reg->kind == D_CPENDSGIR) {
            cpu->sgi_src[n] &= (uint8_t)~v;
        } else {
            cpu->sgi_src[n] |= (uint8_t)(v & cpu_mask_all(g));
        }
        if (cpu->sgi_src[n] != 0) {
            cpu->bank.latch |= 1u << n;
        } else {
            cpu->bank.latch &= ~(1u << n);
        }
        update_cpu(g, (unsigned)c);
        return;
    }
    default:
        return;
    }
}

/* A word of a bitmap or other word register; w is the word index within its range. */
static uint32_t dist_read_word(struct gic *g, int c, const struct dist_reg *reg, unsigned w,
                               uint64_t offset)
{
    struct gic_bank *b = NULL;
    if (reg->kind >= D_IGROUPR && reg->kind <= D_ICACTIVER) {
        if (w >= NWORDS || (w == 0 && c < 0)) {
            return 0;
        }
        b = bank_of(g, (unsigned)(c < 0 ? 0 : c), w);
    }
    switch (reg->kind) {
    case D_CTLR:
        return g->ctlr;
    case D_TYPER:
        return ((g->ncpus - 1) << 5) | (NWORDS - 1);
    case D_IIDR:
        return GICD_IIDR_VALUE;
    case D_IGROUPR:
        return b->group;
    case D_ISENABLER:
    case D_ICENABLER:
        return b->enabled;
    case D_ISPENDR:
    case D_ICPENDR:
        return bank_pending(b);
    case D_ISACTIVER:
    case D_ICACTIVER:
        return b->active;
    case D_ICFGR: {
        /* Two bits per interrupt, Int_config[1] meaning edge; SGIs are edge-triggered. */
        unsigned first = w * 16;
        if (first >= GIC_NR_IRQS || (first < 32 && c < 0)) {
            return 0;
        }
        uint32_t edge = bank_of(g, (unsigned)(c < 0 ? 0 : c), first / 32)->edge >> (first % 32);
        uint32_t v = 0;
        for (unsigned i = 0; i < 16; i++) {
            if (edge & (1u << i)) {
                v |= 2u << (2 * i);
            }
        }
        return v;
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
    for (unsigned t = 0; t < g->ncpus; t++) {
        if (targets & (1u << t)) {
            g->cpu[t].sgi_src[sgi] |= (uint8_t)(1u << c);
            g->cpu[t].bank.latch |= 1u << sgi;
            update_cpu(g, t);
        }
    }
}

/* A (possibly partial) write of a word register: only the bits in mask were written. */
static void dist_write_word(struct gic *g, int c, const struct dist_reg *reg, unsigned w,
                            uint32_t v, uint32_t mask)
{
    uint32_t set = v & mask;
    struct gic_bank *b = NULL;

    if (reg->kind >= D_IGROUPR && reg->kind <= D_ICACTIVER) {
        if (w >= NWORDS || (w == 0 && c < 0)) {
            return;
        }
        b = bank_of(g, (unsigned)(c < 0 ? 0 : c), w);
    }
    switch (reg->kind) {
    case D_CTLR:
        g->ctlr = (g->ctlr & ~mask) | (set & DCTLR_WMASK);
        update_mask(g, cpu_mask_all(g));
        return;
    case D_IGROUPR:
        b->group = (b->group & ~mask) | set;
        break;
    case D_ISENABLER:
        b->enabled |= set;
        break;
    case D_ICENABLER:
        b->enabled &= ~set;
        break;
    case D_ISPENDR:
        /* SGIs are made pending through GICD_SGIR and GICD_SPENDSGIR only. */
        b->latch |= w == 0 ? set & ~SGI_MASK : set;
        break;
    case D_ICPENDR:
        /* A level-sensitive interrupt whose line is high stays pending. */
        b->latch &= ~(w == 0 ? set & ~SGI_MASK : set);
        break;
    case D_ISACTIVER:
        b->active |= set;
        break;
    case D_ICACTIVER:
        b->active &= ~set;
        break;
    case D_ICFGR: {
        unsigned first = w * 16;
        if (first < 16 || first >= GIC_NR_IRQS || (first < 32 && c < 0)) {
            return; /* SGIs: read-only, always edge-triggered */
        }
        unsigned cc = (unsigned)(c < 0 ? 0 : c);
        struct gic_bank *eb = bank_of(g, cc, first / 32);
        for (unsigned i = 0; i < 16; i++) {
            uint32_t m = 2u << (2 * i);
            if (mask & m) {
                uint32_t bit = 1u << ((first % 32) + i);
                if (v & m) {
                    eb->edge |= bit;
                } else {
                    eb->edge &= ~bit;
                }
            }
        }
        update_mask(g, cpus_of(g, cc, first / 32, 0xffffu << (first % 32)));
        return;
    }
    case D_SGIR:
        send_sgi(g, c, v);
        return;
    default:
        return;
    }
    update_mask(g, cpus_of(g, (unsigned)(c < 0 ? 0 : c), w, mask));
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
    pthread_mutex_lock(&g->lock);
    int c = self_index(g);
    if (reg->bytes) {
        for (unsigned i = 0; i < 4; i++) {
            v |= (uint32_t)dist_read_byte(g, c, reg, (unsigned)(word_off - reg->start) + i)
                 << (8 * i);
        }
    } else {
        v = dist_read_word(g, c, reg, (unsigned)(word_off - reg->start) / 4, word_off);
    }
    pthread_mutex_unlock(&g->lock);
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
    pthread_mutex_lock(&g->lock);
    int c = self_index(g);
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
    pthread_mutex_unlock(&g->lock);
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
    unsigned w = (unsigned)irq / 32;
    uint32_t bit = 1u << (irq % 32);
    pthread_mutex_lock(&g->lock);
    struct gic_bank *b = &g->spi[w];
    bool was = (b->level & bit) != 0;
    if (was != level) {
        if (level) {
            b->level |= bit;
            b->latch |= b->edge & bit; /* a rising edge */
        } else {
            b->level &= ~bit;
        }
        update_mask(g, g->targets[irq]);
    }
    pthread_mutex_unlock(&g->lock);
}

void gic_set_ppi(struct gic *g, unsigned cpu, int ppi, bool level)
{
    if (cpu >= g->ncpus || ppi < 0 || ppi >= 16) {
        COREMU_LOG(COREMU_LOG_INT, "gic: PPI %d of cpu%u does not exist", ppi, cpu);
        return;
    }
    uint32_t bit = 1u << (GIC_FIRST_PPI + (unsigned)ppi);
    pthread_mutex_lock(&g->lock);
    struct gic_bank *b = &g->cpu[cpu].bank;
    bool was = (b->level & bit) != 0;
    if (was != level) {
        if (level) {
            b->level |= bit;
            b->latch |= b->edge & bit;
        } else {
            b->level &= ~bit;
        }
        update_cpu(g, cpu);
    }
    pthread_mutex_unlock(&g->lock);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

struct gic *gic_new(unsigned ncpus, uint32_t irq_bit, uint32_t fiq_bit)
{
    if (ncpus == 0 || ncpus > GIC_MAX_CPUS || irq_bit == 0 || fiq_bit == 0 ||
        irq_bit == fiq_bit) {
        errno = EINVAL;
        return NULL;
    }
    struct gic *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    if (pthread_mutex_init(&g->lock, NULL) != 0) {
        free(g);
        return NULL;
    }
    g->ncpus = ncpus;
    g->irq_bit = irq_bit;
    g->fiq_bit = fiq_bit;
    for (unsigned c = 0; c < ncpus; c++) {
        struct gic_cpu *cpu = &g->cpu[c];
        cpu->bank.edge = SGI_MASK; /* SGIs are edge-triggered; PPIs reset level-sensitive */
        cpu->bpr = MIN_BPR;
        cpu->abpr = MIN_ABPR;
    }
    /* A uniprocessor GIC sends every SPI to its one core (ITARGETSR is RAZ/WI there). */
    if (ncpus == 1) {
        for (unsigned irq = GIC_FIRST_SPI; irq < GIC_NR_IRQS; irq++) {
            g->targets[irq] = 1;
        }
        for (unsigned w = 1; w < NWORDS; w++) {
            g->cpu[0].spi_mask[w] = ~0u;
        }
    }
    return g;
}

void gic_attach(struct gic *g, struct coremu_machine *m)
{
    pthread_mutex_lock(&g->lock);
    g->machine = m;
    update_mask(g, cpu_mask_all(g));
    pthread_mutex_unlock(&g->lock);
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
    if (g == NULL) {
        return;
    }
    pthread_mutex_destroy(&g->lock);
    free(g);
}
