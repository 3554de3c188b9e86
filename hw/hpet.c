/*
 * coremu — High Precision Event Timer. Written from the IA-PC HPET specification, revision 1.0a;
 * what is modelled, the interrupt routing and the threading rules are in hpet.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <coremu/clock.h>
#include <coremu/log.h>

#include "hpet.h"

/* Register offsets. */
#define REG_CAP     0x000u
#define REG_CONFIG  0x010u
#define REG_ISR     0x020u
#define REG_COUNTER 0x0f0u
#define REG_TIMER0  0x100u
#define TIMER_STRIDE 0x20u
#define TIMER_CONF  0x00u
#define TIMER_CMP   0x08u
#define TIMER_FSB   0x10u

/* General capabilities: revision 1, NUM_TIM_CAP = timers - 1, COUNT_SIZE_CAP, LEG_RT_CAP. */
#define CAP_VALUE ((uint64_t)HPET_PERIOD_FS << 32 | 0x8086u << 16 | 1u << 15 | 1u << 13 | \
                   (HPET_NUM_TIMERS - 1) << 8 | 0x01u)

#define CONF_ENABLE 0x1u
#define CONF_LEG_RT 0x2u

/* Timer configuration and capability bits. */
#define TN_INT_TYPE_LEVEL 0x002u
#define TN_INT_ENB        0x004u
#define TN_TYPE_PERIODIC  0x008u
#define TN_PER_INT_CAP    0x010u
#define TN_SIZE_CAP       0x020u
#define TN_VAL_SET        0x040u
#define TN_32MODE         0x100u
#define TN_ROUTE_SHIFT    9
#define TN_ROUTE_MASK     (0x1fu << TN_ROUTE_SHIFT)
#define TN_WRITABLE (TN_INT_TYPE_LEVEL | TN_INT_ENB | TN_TYPE_PERIODIC | TN_VAL_SET | TN_32MODE | \
                     TN_ROUTE_MASK)

/* Legacy replacement: the I/O APIC inputs of IRQ0 and IRQ8 on a PC. */
#define LEGACY_ROUTE_TIMER0 2
#define LEGACY_ROUTE_TIMER1 8

struct hpet_timer {
    uint64_t config;   /* the writable bits of Tn_CONF */
    uint64_t cmp;      /* comparator */
    uint64_t period;   /* periodic mode: added to cmp at each match */
    bool armed;        /* waiting for the counter to reach target */
    uint64_t target;   /* the main counter value of the next match */
    bool status;       /* level mode: Tn_INT_STS */
};

struct hpet {
    const char *name;                           /* immutable */
    struct coremu_irq_line irqs[HPET_NUM_IRQS]; /* immutable after hpet_new */
    struct coremu_timer *timer;                 /* immutable after hpet_new */
    int64_t (*now_ns)(void);                    /* immutable after hpet_set_clock */

    /* Everything below is under lock. */
    pthread_mutex_t lock;
    uint64_t config;          /* ENABLE_CNF, LEG_RT_CNF */
    uint64_t counter_base;    /* the main counter at anchor_ns (or while halted) */
    int64_t anchor_ns;
    struct hpet_timer timers[HPET_NUM_TIMERS];
    bool line_level[HPET_NUM_IRQS];
    /* The expiry the device timer was last armed for (INT64_MIN: not armed), so that register
     * accesses, which bring the device up to date, re-arm it only when the time changes. */
    int64_t timer_expiry;
};

/* ---- counter and routing (with hpet->lock held) ------------------------------------------ */

static bool hpet_enabled(const struct hpet *hpet)
{
    return (hpet->config & CONF_ENABLE) != 0;
}

static uint64_t hpet_counter(const struct hpet *hpet, int64_t now)
{
    if (!hpet_enabled(hpet) || now <= hpet->anchor_ns) {
        return hpet->counter_base;
    }
    return hpet->counter_base + (uint64_t)(now - hpet->anchor_ns) / HPET_TICK_NS;
}

static uint64_t timer_mask(const struct hpet_timer *t)
{
    return (t->config & TN_32MODE) ? 0xffffffffull : ~0ull;
}

/* The I/O APIC input timer n drives, or -1. */
static int timer_route(const struct hpet *hpet, unsigned n)
{
    if (hpet->config & CONF_LEG_RT) {
        if (n == 0) {
            return LEGACY_ROUTE_TIMER0;
        }
        if (n == 1) {
            return LEGACY_ROUTE_TIMER1;
        }
    }
    unsigned route = (unsigned)(hpet->timers[n].config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT;
    return (HPET_ROUTE_CAP >> route) & 1u ? (int)route : -1;
}

static void hpet_set_line(struct hpet *hpet, int line, bool level)
{
    if (hpet->line_level[line] != level) {
        hpet->line_level[line] = level;
        coremu_irq_set(&hpet->irqs[line], level);
    }
}

/* Every line to the OR of the level-triggered timers that hold it. */
static void hpet_update_lines(struct hpet *hpet)
{
    bool level[HPET_NUM_IRQS] = {false};
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        const struct hpet_timer *t = &hpet->timers[n];
        int line = timer_route(hpet, n);
        if (line >= 0 && t->status && (t->config & TN_INT_TYPE_LEVEL) &&
            (t->config & TN_INT_ENB)) {
            level[line] = true;
        }
    }
    for (unsigned i = 0; i < HPET_NUM_IRQS; i++) {
        hpet_set_line(hpet, (int)i, level[i]);
    }
}

/* Starts waiting for the counter to reach the comparator (as the guest left them). */
static void timer_arm(struct hpet *hpet, struct hpet_timer *t, int64_t now)
{
    uint64_t cnt = hpet_counter(hpet, now);
    t->target = cnt + ((t->cmp - cnt) & timer_mask(t));
    t->armed = true;
}

static void hpet_arm_all(struct hpet *hpet, int64_t now)
{
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        timer_arm(hpet, &hpet->timers[n], now);
    }
}

static void timer_fire(struct hpet *hpet, unsigned n)
{
    struct hpet_timer *t = &hpet->timers[n];
    if (t->config & TN_INT_TYPE_LEVEL) {
        t->status = true;
        return; /* hpet_update_lines raises the line */
    }
    int line = timer_route(hpet, n);
    if ((t->config & TN_INT_ENB) && line >= 0 && !hpet->line_level[line]) {
        coremu_irq_set(&hpet->irqs[line], true);
        coremu_irq_set(&hpet->irqs[line], false);
    }
}

/* Accounts the matches up to now, drives the lines, arms the device timer. */
static void hpet_update(struct hpet *hpet, int64_t now)
{
    if (!hpet_enabled(hpet)) {
        hpet_update_lines(hpet);
        return;
    }
    uint64_t cnt = hpet_counter(hpet, now);
    uint64_t next = UINT64_MAX;
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        struct hpet_timer *t = &hpet->timers[n];
        if (t->armed && cnt >= t->target) {
            timer_fire(hpet, n);
            if ((t->config & TN_TYPE_PERIODIC) && t->period != 0) {
                /* Missed periods are coalesced: the comparator moves past the counter. */
                uint64_t k = (cnt - t->target) / t->period + 1;
                t->target += k * t->period;
                t->cmp = (t->cmp + k * t->period) & timer_mask(t);
            } else if (t->config & TN_32MODE) {
                t->target += 1ull << 32; /* matches again after the wrap */
            } else {
                t->armed = false;
            }
        }
        if (t->armed && t->target < next) {
            next = t->target;
        }
    }
    hpet_update_lines(hpet);
    if (next != UINT64_MAX) {
        uint64_t ticks = next - hpet->counter_base;
        if (ticks < (uint64_t)(INT64_MAX - hpet->anchor_ns) / HPET_TICK_NS) {
            int64_t expiry = hpet->anchor_ns + (int64_t)ticks * HPET_TICK_NS;
            if (expiry != hpet->timer_expiry) {
                hpet->timer_expiry = expiry;
                coremu_timer_mod(hpet->timer, expiry);
            }
        }
    }
}

static void hpet_timer_cb(void *opaque)
{
    struct hpet *hpet = opaque;
    pthread_mutex_lock(&hpet->lock);
    hpet->timer_expiry = INT64_MIN;
    hpet_update(hpet, hpet->now_ns());
    pthread_mutex_unlock(&hpet->lock);
}

/* ---- registers (with hpet->lock held) ---------------------------------------------------- */

static uint64_t hpet_read_reg(struct hpet *hpet, uint64_t reg, int64_t now)
{
    if (reg >= REG_TIMER0 && reg < REG_TIMER0 + HPET_NUM_TIMERS * TIMER_STRIDE) {
        const struct hpet_timer *t = &hpet->timers[(reg - REG_TIMER0) / TIMER_STRIDE];
        switch ((reg - REG_TIMER0) % TIMER_STRIDE) {
        case TIMER_CONF:
            return t->config | TN_PER_INT_CAP | TN_SIZE_CAP | (uint64_t)HPET_ROUTE_CAP << 32;
        case TIMER_CMP:
            return t->cmp;
        default:
            return 0; /* FSB route: not supported */
        }
    }
    switch (reg) {
    case REG_CAP:
        return CAP_VALUE;
    case REG_CONFIG:
        return hpet->config;
    case REG_ISR: {
        uint64_t v = 0;
        for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
            v |= (uint64_t)hpet->timers[n].status << n;
        }
        return v;
    }
    case REG_COUNTER:
        return hpet_counter(hpet, now);
    default:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: read of reserved offset 0x%03x", hpet->name,
                   (unsigned)reg);
        return 0;
    }
}

static uint64_t merge(uint64_t old, uint64_t v, uint64_t wmask)
{
    return (old & ~wmask) | (v & wmask);
}

static void hpet_write_timer(struct hpet *hpet, unsigned n, uint64_t off, uint64_t v,
                             uint64_t wmask, int64_t now)
{
    struct hpet_timer *t = &hpet->timers[n];
    switch (off) {
    case TIMER_CONF:
        t->config = merge(t->config, v, wmask) & TN_WRITABLE;
        if (t->config & TN_32MODE) {
            t->cmp &= 0xffffffffull;
            t->period &= 0xffffffffull;
        }
        if (!(t->config & TN_INT_TYPE_LEVEL)) {
            t->status = false; /* the status bit belongs to level mode */
        }
        timer_arm(hpet, t, now);
        break;
    case TIMER_CMP: {
        uint64_t mask = timer_mask(t);
        if (t->config & TN_TYPE_PERIODIC) {
            t->period = merge(t->period, v, wmask) & mask;
            if (t->config & TN_VAL_SET) {
                t->cmp = merge(t->cmp, v, wmask) & mask;
                t->config &= ~(uint64_t)TN_VAL_SET;
            }
        } else {
            t->cmp = merge(t->cmp, v, wmask) & mask;
        }
        timer_arm(hpet, t, now);
        break;
    }
    default:
        break; /* FSB route: not supported, writes ignored */
    }
}

static void hpet_write_reg(struct hpet *hpet, uint64_t reg, uint64_t v, uint64_t wmask,
                           int64_t now)
{
    if (reg >= REG_TIMER0 && reg < REG_TIMER0 + HPET_NUM_TIMERS * TIMER_STRIDE) {
        hpet_write_timer(hpet, (unsigned)((reg - REG_TIMER0) / TIMER_STRIDE),
                         (reg - REG_TIMER0) % TIMER_STRIDE, v, wmask, now);
        return;
    }
    switch (reg) {
    case REG_CONFIG: {
        uint64_t old = hpet->config;
        uint64_t cfg = merge(old, v, wmask) & (CONF_ENABLE | CONF_LEG_RT);
        if ((old & CONF_ENABLE) && !(cfg & CONF_ENABLE)) {
            hpet->counter_base = hpet_counter(hpet, now);
        }
        hpet->config = cfg;
        if (!(old & CONF_ENABLE) && (cfg & CONF_ENABLE)) {
            hpet->anchor_ns = now;
            hpet_arm_all(hpet, now);
        }
        break;
    }
    case REG_ISR:
        for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
            if ((v & wmask) >> n & 1u) {
                hpet->timers[n].status = false;
            }
        }
        break;
    case REG_COUNTER:
        hpet->counter_base = merge(hpet_counter(hpet, now), v, wmask);
        hpet->anchor_ns = now;
        hpet_arm_all(hpet, now);
        break;
    default:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write to read-only or reserved offset 0x%03x",
                   hpet->name, (unsigned)reg);
        break;
    }
}

/* ---- MMIO --------------------------------------------------------------------------------- */

static int hpet_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct hpet *hpet = opaque;
    pthread_mutex_lock(&hpet->lock);
    int64_t now = hpet->now_ns();
    hpet_update(hpet, now);
    uint64_t v = hpet_read_reg(hpet, offset & ~7ull, now);
    pthread_mutex_unlock(&hpet->lock);
    if (size == 4) {
        v = (offset & 4) ? v >> 32 : v & 0xffffffffull;
    }
    *value = v;
    return COREMU_MEM_OK;
}

static int hpet_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct hpet *hpet = opaque;
    uint64_t wmask = ~0ull;
    if (size == 4) {
        unsigned shift = (offset & 4) ? 32 : 0;
        wmask = 0xffffffffull << shift;
        value = (value & 0xffffffffull) << shift;
    }
    pthread_mutex_lock(&hpet->lock);
    int64_t now = hpet->now_ns();
    hpet_update(hpet, now);
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: write 0x%03x/%u = 0x%llx", hpet->name,
               (unsigned)offset, size, (unsigned long long)value);
    hpet_write_reg(hpet, offset & ~7ull, value, wmask, now);
    hpet_update(hpet, now);
    pthread_mutex_unlock(&hpet->lock);
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops hpet_mmio_ops = {
    .read = hpet_read,
    .write = hpet_write,
    .sizes = 4u | 8u,
    .allow_unaligned = false,
};

/* ---- life cycle --------------------------------------------------------------------------- */

static void hpet_reset_locked(struct hpet *hpet)
{
    hpet->config = 0;
    hpet->counter_base = 0;
    hpet->anchor_ns = 0;
    for (unsigned n = 0; n < HPET_NUM_TIMERS; n++) {
        hpet->timers[n] = (struct hpet_timer){.cmp = ~0ull};
    }
    hpet_update_lines(hpet);
}

struct hpet *hpet_new(const char *name, struct coremu_iothread *io,
                      const struct coremu_irq_line *irqs)
{
    struct hpet *hpet = calloc(1, sizeof(*hpet));
    if (hpet == NULL) {
        return NULL;
    }
    hpet->name = name;
    hpet->now_ns = coremu_clock_ns;
    hpet->timer_expiry = INT64_MIN;
    if (irqs != NULL) {
        for (unsigned i = 0; i < HPET_NUM_IRQS; i++) {
            hpet->irqs[i] = irqs[i];
        }
    }
    if (pthread_mutex_init(&hpet->lock, NULL) != 0) {
        free(hpet);
        return NULL;
    }
    if (io == NULL) {
        io = coremu_iothread_default();
    }
    hpet->timer = io != NULL ? coremu_timer_new(io, hpet_timer_cb, hpet) : NULL;
    if (hpet->timer == NULL) {
        pthread_mutex_destroy(&hpet->lock);
        free(hpet);
        return NULL;
    }
    pthread_mutex_lock(&hpet->lock);
    hpet_reset_locked(hpet);
    pthread_mutex_unlock(&hpet->lock);
    return hpet;
}

void hpet_set_clock(struct hpet *hpet, int64_t (*now_ns)(void))
{
    hpet->now_ns = now_ns;
}

int hpet_map(struct hpet *hpet, struct coremu_as *as, uint64_t base)
{
    return coremu_as_add_mmio(as, hpet->name, base, HPET_MMIO_SIZE, &hpet_mmio_ops, hpet,
                              COREMU_MMIO_LOCKLESS);
}

bool hpet_legacy_mode(struct hpet *hpet)
{
    pthread_mutex_lock(&hpet->lock);
    bool legacy = (hpet->config & (CONF_ENABLE | CONF_LEG_RT)) == (CONF_ENABLE | CONF_LEG_RT);
    pthread_mutex_unlock(&hpet->lock);
    return legacy;
}

void hpet_reset(struct hpet *hpet)
{
    pthread_mutex_lock(&hpet->lock);
    hpet_reset_locked(hpet);
    pthread_mutex_unlock(&hpet->lock);
}

void hpet_free(struct hpet *hpet)
{
    if (hpet == NULL) {
        return;
    }
    coremu_timer_free(hpet->timer);
    pthread_mutex_destroy(&hpet->lock);
    free(hpet);
}
