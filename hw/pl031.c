/*
 * coremu — ARM PrimeCell Real Time Clock (PL031). Written from the PL031 Technical Reference
 * Manual (ARM DDI 0224); the time source and the threading rules are in pl031.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <coremu/clock.h>
#include <coremu/log.h>
#include <coremu/util.h>

#include "pl031.h"

#define INT_RTC 1u /* the one interrupt bit of RTCIMSC, RTCRIS, RTCMIS, RTCICR */

enum pl031_kind {
    K_DR,   /* data: the counter, read-only */
    K_MR,   /* match */
    K_LR,   /* load: sets the counter */
    K_CR,   /* control: the start bit */
    K_IMSC, /* interrupt mask */
    K_RIS,  /* raw interrupt status */
    K_MIS,  /* masked interrupt status */
    K_ICR,  /* interrupt clear, write-only */
    K_ID,   /* PrimeCell identification, read-only constant */
};

struct pl031_reg {
    uint16_t offset;
    const char *name;
    enum pl031_kind kind;
    uint32_t value; /* K_ID: the value */
};

/* The register map (TRM table 3-1). Offsets not listed are reserved: they read as zero and
 * ignore writes, which -d guest_errors reports. */
static const struct pl031_reg pl031_regs[] = {
    {0x000, "RTCDR", K_DR, 0},
    {0x004, "RTCMR", K_MR, 0},
    {0x008, "RTCLR", K_LR, 0},
    {0x00c, "RTCCR", K_CR, 0},
    {0x010, "RTCIMSC", K_IMSC, 0},
    {0x014, "RTCRIS", K_RIS, 0},
    {0x018, "RTCMIS", K_MIS, 0},
    {0x01c, "RTCICR", K_ICR, 0},
    /* Part number 0x031, designer 0x41 (ARM), revision 0, configuration 0. */
    {0xfe0, "RTCPeriphID0", K_ID, 0x31},
    {0xfe4, "RTCPeriphID1", K_ID, 0x10},
    {0xfe8, "RTCPeriphID2", K_ID, 0x04},
    {0xfec, "RTCPeriphID3", K_ID, 0x00},
    {0xff0, "RTCPCellID0", K_ID, 0x0d},
    {0xff4, "RTCPCellID1", K_ID, 0xf0},
    {0xff8, "RTCPCellID2", K_ID, 0x05},
    {0xffc, "RTCPCellID3", K_ID, 0xb1},
};

#define PL031_NREGS COREMU_ARRAY_SIZE(pl031_regs)

struct pl031 {
    const char *name;           /* immutable */
    struct coremu_irq_line irq; /* immutable after pl031_new */
    struct coremu_timer *timer; /* immutable after pl031_new; fires pl031_timer_cb */

    /* Everything below is under lock (core threads through MMIO, the I/O thread's timer). */
    pthread_mutex_t lock;
    uint32_t offset;            /* RTCDR = host seconds + offset (mod 2^32) */
    uint32_t mr;                /* RTCMR */
    uint32_t lr;                /* RTCLR: the value last loaded */
    uint32_t imsc;
    uint32_t ris;
    bool armed;                 /* waiting for the counter to go from armed_from to mr */
    uint32_t armed_from;        /* the counter when the wait began */
    bool irq_level;             /* last level given to irq */
};

/* ---- helpers (all with rtc->lock held) ---------------------------------------------------- */

static uint32_t host_seconds(void)
{
    return (uint32_t)(uint64_t)(coremu_wall_ns() / COREMU_NS_PER_SEC);
}

static uint32_t pl031_count(const struct pl031 *rtc)
{
    return host_seconds() + rtc->offset;
}

static void pl031_update_irq(struct pl031 *rtc)
{
    bool level = (rtc->ris & rtc->imsc) != 0;
    if (level != rtc->irq_level) {
        rtc->irq_level = level;
        coremu_irq_set(&rtc->irq, level);
    }
}

/* Virtual-clock time at which the counter, now reading `now`, reaches now + delta (delta >= 1):
 * the next whole second of the host clock plus delta - 1 seconds. */
static int64_t pl031_expiry(uint32_t delta)
{
    int64_t wall = coremu_wall_ns();
    int64_t into_second = wall % COREMU_NS_PER_SEC;
    if (into_second < 0) {
        into_second += COREMU_NS_PER_SEC;
    }
    int64_t wait = (COREMU_NS_PER_SEC - into_second) + (int64_t)(delta - 1) * COREMU_NS_PER_SEC;
    return coremu_clock_ns() + wait;
}

/* Starts waiting for the counter to reach RTCMR (after a change of RTCMR or of the counter). */
static void pl031_arm(struct pl031 *rtc)
{
    uint32_t now = pl031_count(rtc);
    uint32_t delta = rtc->mr - now;
    if (delta == 0) {
        rtc->armed = false;
        rtc->ris |= INT_RTC;
        pl031_update_irq(rtc);
        return;
    }
    rtc->armed = true;
    rtc->armed_from = now;
    coremu_timer_mod(rtc->timer, pl031_expiry(delta));
}

/* I/O thread: the counter should have reached the match value. */
static void pl031_timer_cb(void *opaque)
{
    struct pl031 *rtc = opaque;
    pthread_mutex_lock(&rtc->lock);
    if (rtc->armed) {
        uint32_t now = pl031_count(rtc);
        uint32_t travelled = now - rtc->armed_from;
        uint32_t distance = rtc->mr - rtc->armed_from;
        if (travelled >= distance) {
            /* Reached, or passed by a forward step of the host clock: a counter passes every
             * value on its way, so this is a match. */
            rtc->armed = false;
            rtc->ris |= INT_RTC;
            pl031_update_irq(rtc);
        } else {
            /* Early (the host clock was set back, or the virtual clock paused): wait again. */
            coremu_timer_mod(rtc->timer, pl031_expiry(distance - travelled));
        }
    }
    pthread_mutex_unlock(&rtc->lock);
}

static const struct pl031_reg *pl031_find(uint64_t offset)
{
    for (size_t i = 0; i < PL031_NREGS; i++) {
        if (pl031_regs[i].offset == offset) {
            return &pl031_regs[i];
        }
    }
    return NULL;
}

/* ---- MMIO --------------------------------------------------------------------------------- */

static int pl031_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct pl031 *rtc = opaque;
    const struct pl031_reg *reg = pl031_find(offset);
    uint32_t v = 0;
    (void)size;

    if (reg == NULL) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: read of reserved offset 0x%03x", rtc->name,
                   (unsigned)offset);
        *value = 0;
        return COREMU_MEM_OK;
    }
    pthread_mutex_lock(&rtc->lock);
    switch (reg->kind) {
    case K_DR:
        v = pl031_count(rtc);
        break;
    case K_MR:
        v = rtc->mr;
        break;
    case K_LR:
        v = rtc->lr;
        break;
    case K_CR:
        v = 1; /* started, permanently (see pl031.h) */
        break;
    case K_IMSC:
        v = rtc->imsc;
        break;
    case K_RIS:
        v = rtc->ris;
        break;
    case K_MIS:
        v = rtc->ris & rtc->imsc;
        break;
    case K_ICR:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: read of write-only %s", rtc->name, reg->name);
        break;
    case K_ID:
        v = reg->value;
        break;
    }
    pthread_mutex_unlock(&rtc->lock);
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: read %s = 0x%x", rtc->name, reg->name, v);
    *value = v;
    return COREMU_MEM_OK;
}

static int pl031_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pl031 *rtc = opaque;
    const struct pl031_reg *reg = pl031_find(offset);
    uint32_t v = (uint32_t)value;
    (void)size;

    if (reg == NULL) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write of 0x%x to reserved offset 0x%03x",
                   rtc->name, v, (unsigned)offset);
        return COREMU_MEM_OK;
    }
    pthread_mutex_lock(&rtc->lock);
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: write %s = 0x%x", rtc->name, reg->name, v);
    switch (reg->kind) {
    case K_MR:
        rtc->mr = v;
        pl031_arm(rtc);
        break;
    case K_LR:
        rtc->lr = v;
        rtc->offset = v - host_seconds();
        pl031_arm(rtc);
        break;
    case K_CR:
        break; /* the start bit, once set, ignores writes until reset */
    case K_IMSC:
        rtc->imsc = v & INT_RTC;
        pl031_update_irq(rtc);
        break;
    case K_ICR:
        rtc->ris &= ~(v & INT_RTC);
        pl031_update_irq(rtc);
        break;
    case K_DR:
    case K_RIS:
    case K_MIS:
    case K_ID:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write of 0x%x to read-only %s ignored",
                   rtc->name, v, reg->name);
        break;
    }
    pthread_mutex_unlock(&rtc->lock);
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops pl031_mmio_ops = {
    .read = pl031_read,
    .write = pl031_write,
    .sizes = 4u,
    .allow_unaligned = false,
};

/* ---- life cycle --------------------------------------------------------------------------- */

struct pl031 *pl031_new(const char *name, struct coremu_iothread *io,
                        const struct coremu_irq_line *irq)
{
    struct pl031 *rtc = calloc(1, sizeof(*rtc));
    if (rtc == NULL) {
        return NULL;
    }
    rtc->name = name;
    if (irq != NULL) {
        rtc->irq = *irq;
    }
    if (pthread_mutex_init(&rtc->lock, NULL) != 0) {
        free(rtc);
        return NULL;
    }
    if (io == NULL) {
        io = coremu_iothread_default();
    }
    rtc->timer = io != NULL ? coremu_timer_new(io, pl031_timer_cb, rtc) : NULL;
    if (rtc->timer == NULL) {
        pthread_mutex_destroy(&rtc->lock);
        free(rtc);
        return NULL;
    }
    return rtc;
}

void pl031_set_offset(struct pl031 *rtc, int64_t offset_s)
{
    pthread_mutex_lock(&rtc->lock);
    rtc->offset = (uint32_t)(uint64_t)offset_s;
    pthread_mutex_unlock(&rtc->lock);
}

void pl031_reset(struct pl031 *rtc)
{
    pthread_mutex_lock(&rtc->lock);
    /* The counter (offset) and RTCLR belong to the always-on clock domain: a system reset
     * keeps the time, as a battery-backed RTC does. The match logic and interrupt restart. A
     * match timer already queued finds `armed` clear and does nothing. */
    rtc->mr = 0;
    rtc->imsc = 0;
    rtc->ris = 0;
    rtc->armed = false;
    pl031_update_irq(rtc);
    pthread_mutex_unlock(&rtc->lock);
}

int pl031_map(struct pl031 *rtc, struct coremu_as *as, uint64_t base)
{
    return coremu_as_add_mmio(as, rtc->name, base, PL031_MMIO_SIZE, &pl031_mmio_ops, rtc,
                              COREMU_MMIO_LOCKLESS);
}

void pl031_free(struct pl031 *rtc)
{
    if (rtc == NULL) {
        return;
    }
    coremu_timer_free(rtc->timer);
    pthread_mutex_destroy(&rtc->lock);
    free(rtc);
}
