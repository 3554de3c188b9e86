/*
 * coremu — Intel 8254 Programmable Interval Timer and the PC's port 0x61. Written from the
 * Intel 8254 data sheet (231164) and the PC/AT technical reference's description of port 0x61;
 * what is modelled, the PC's wiring and the threading rules are in i8254.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <coremu/clock.h>
#include <coremu/log.h>

#include "i8254.h"

#define PIT_COUNTERS 3

/* Control word fields. */
#define CW_BCD        0x01u
#define CW_MODE_SHIFT 1
#define CW_RW_SHIFT   4
#define CW_SC_SHIFT   6
#define CW_SC_READBACK 3u
/* Read-back command: bits 5 and 4 are active low; bits 3-1 select counters 2, 1, 0. */
#define RB_NO_COUNT  0x20u
#define RB_NO_STATUS 0x10u

enum pit_access { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3 };

/* The DRAM refresh request of a PC toggles port 0x61 bit 4 every 15.085 us. */
#define REFRESH_HALF_PERIOD_NS 15085

struct pit_counter {
    uint8_t mode;           /* 0-5 */
    uint8_t access;         /* enum pit_access, never RW_LATCH */
    bool bcd;
    bool gate;              /* counters 0 and 1: always high */
    bool count_loaded;      /* a count was written since the control word */
    bool running;           /* counting now (count loaded, gate allows, triggered) */
    bool triggered;         /* modes 1 and 5: a gate rising edge started the count */
    bool null_count;        /* status bit 6: count written but not yet loaded */
    uint32_t reload;        /* N: 1..65536 (binary) or 1..10000 (BCD) */
    int64_t start_ns;       /* virtual time at which the current run began */
    uint64_t ticks_before;  /* input clocks counted before start_ns (modes 0 and 4) */

    bool write_msb_next;    /* LSB-then-MSB write flip-flop */
    uint8_t write_lsb;
    bool read_msb_next;     /* LSB-then-MSB read flip-flop (shared with the latch) */
    bool count_latched;
    uint16_t latched_count; /* as the guest reads it (BCD already applied) */
    bool status_latched;
    uint8_t latched_status;

    /* Counter 0 only: what IRQ0 has been told. */
    uint64_t edges_done;    /* modes 2/3: periods whose edge was signalled */
    bool pulsed;            /* mode 4: the strobe was signalled */
};

struct i8254 {
    const char *name;            /* immutable */
    struct coremu_irq_line irq0; /* immutable after i8254_new */
    struct coremu_timer *timer;  /* immutable after i8254_new; fires i8254_timer_cb */
    int64_t (*now_ns)(void);     /* immutable after i8254_set_clock */

    /* Everything below is under lock (core threads through the ports, the I/O thread's
     * timer). */
    pthread_mutex_t lock;
    struct pit_counter counters[PIT_COUNTERS];
    uint8_t port61;              /* the stored bits 3-0 */
    bool irq_level;              /* last level given to irq0 */
    /* The expiry the device timer was last armed for (INT64_MIN: not armed), so that register
     * accesses, which bring the device up to date, re-arm it only when the time changes. */
    int64_t timer_expiry;
};

/* ---- time (no lock needed) ---------------------------------------------------------------- */

/* Input clocks between two virtual times: floor((to - from) * f / 1e9). */
static uint64_t ticks_between(int64_t from, int64_t to)
{
    if (to <= from) {
        return 0;
    }
    return (uint64_t)((unsigned __int128)(uint64_t)(to - from) * I8254_CLOCK_HZ /
                      (uint64_t)COREMU_NS_PER_SEC);
}

/* The first virtual time at which ticks_between(start, t) >= n. */
static int64_t tick_time(int64_t start, uint64_t n)
{
    unsigned __int128 ns = ((unsigned __int128)n * (uint64_t)COREMU_NS_PER_SEC +
                            I8254_CLOCK_HZ - 1) / I8254_CLOCK_HZ;
    if (ns > (unsigned __int128)(INT64_MAX - start)) {
        return INT64_MAX;
    }
    return start + (int64_t)ns;
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

static uint32_t from_bcd(uint16_t v)
{
    return (v & 0xfu) + ((v >> 4) & 0xfu) * 10 + ((v >> 8) & 0xfu) * 100 + (v >> 12) * 1000;
}

/* ---- counter state (all with pit->lock held) --------------------------------------------- */

static uint32_t counter_modulus(const struct pit_counter *c)
{
    return c->bcd ? 10000u : 65536u;
}

static uint64_t counter_elapsed(const struct pit_counter *c, int64_t now)
{
    return c->ticks_before + (c->running ? ticks_between(c->start_ns, now) : 0);
}

/* Input clocks of the high half of a mode 3 period (the longer one when N is odd). */
static uint64_t square_high(uint32_t n)
{
    return (n + 1) / 2;
}

/* The count element as a binary number 0..modulus-1. */
static uint32_t counter_value(const struct pit_counter *c, int64_t now)
{
    uint32_t m = counter_modulus(c);
    uint32_t n = c->reload;
    if (!c->count_loaded || ((c->mode == 1 || c->mode == 5) && !c->triggered)) {
        return n % m;
    }
    uint64_t e = counter_elapsed(c, now);
    switch (c->mode) {
    case 2:
        return (uint32_t)(n - e % n) % m;
    case 3: {
        uint64_t p = e % n;
        uint64_t high = square_high(n);
        uint32_t even = n & ~1u;
        uint64_t step = p < high ? p : p - high;
        uint64_t v = 2 * step < even ? even - 2 * step : 0;
        return (uint32_t)(v % m);
    }
    default:
        /* Modes 0, 1, 4, 5 count down through zero and wrap. */
        return (uint32_t)((n + m - e % m) % m);
    }
}

static bool counter_out(const struct pit_counter *c, int64_t now)
{
    if (!c->count_loaded) {
        return c->mode != 0;
    }
    uint64_t e = counter_elapsed(c, now);
    switch (c->mode) {
    case 0:
        return e >= c->reload;
    case 1:
        return !c->triggered || e >= c->reload;
    case 2:
        return !c->running || e % c->reload != c->reload - 1;
    case 3:
        return !c->running || e % c->reload < square_high(c->reload);
    case 4:
        return e != c->reload;
    default: /* 5 */
        return !c->triggered || e != c->reload;
    }
}

static uint16_t counter_guest_value(const struct pit_counter *c, int64_t now)
{
    uint32_t v = counter_value(c, now);
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static uint8_t counter_status(const struct pit_counter *c, int64_t now)
{
    return (uint8_t)((counter_out(c, now) ? 0x80u : 0) | (c->null_count ? 0x40u : 0) |
                     (unsigned)c->access << CW_RW_SHIFT | (unsigned)c->mode << CW_MODE_SHIFT |
                     (c->bcd ? CW_BCD : 0));
}

/* Starts (or restarts) counting from the full count at now. */
static void counter_start(struct pit_counter *c, int64_t now)
{
    c->start_ns = now;
    c->ticks_before = 0;
    c->running = true;
    c->edges_done = 0;
    c->pulsed = false;
}

static void counter_set_gate(struct pit_counter *c, bool level, int64_t now)
{
    if (level == c->gate) {
        return;
    }
    c->gate = level;
    if (!c->count_loaded) {
        return;
    }
    switch (c->mode) {
    case 0:
    case 4:
        /* The gate suspends counting and resumes it where it stopped. */
        if (!level) {
            c->ticks_before = counter_elapsed(c, now);
            c->running = false;
        } else {
            c->start_ns = now;
            c->running = true;
        }
        break;
    case 2:
    case 3:
        /* Low stops the counter with OUT high; the rising edge reloads it. */
        if (!level) {
            c->ticks_before = counter_elapsed(c, now);
            c->running = false;
        } else {
            counter_start(c, now);
        }
        break;
    default:
        /* Modes 1 and 5: the rising edge (re)triggers. */
        if (level) {
            c->triggered = true;
            counter_start(c, now);
        }
        break;
    }
}

/* ---- IRQ0 (counter 0) ------------------------------------------------------------------- */

static void pit_set_irq(struct i8254 *pit, bool level)
{
    if (level != pit->irq_level) {
        pit->irq_level = level;
        coremu_irq_set(&pit->irq0, level);
    }
}

/* One rising edge with the line resting high afterwards. */
static void pit_pulse_irq(struct i8254 *pit)
{
    pit_set_irq(pit, false);
    pit_set_irq(pit, true);
}

/* Brings IRQ0 up to date with counter 0 at now and arms the timer for its next edge. */
static void pit_update(struct i8254 *pit, int64_t now)
{
    struct pit_counter *c = &pit->counters[0];
    int64_t next = -1;

    if (c->count_loaded && c->running) {
        uint64_t e = counter_elapsed(c, now);
        switch (c->mode) {
        case 0:
            if (e >= c->reload) {
                pit_set_irq(pit, true);
            } else {
                next = tick_time(c->start_ns, c->reload - c->ticks_before);
            }
            break;
        case 2:
        case 3: {
            uint64_t edges = e / c->reload;
            if (edges > c->edges_done) {
                c->edges_done = edges;
                pit_pulse_irq(pit);
            }
            next = tick_time(c->start_ns, (c->edges_done + 1) * c->reload);
            break;
        }
        case 4:
            /* The strobe: OUT low for the clock at which the count reaches zero. */
            if (!c->pulsed) {
                if (e > c->reload) {
                    c->pulsed = true;
                    pit_pulse_irq(pit);
                } else {
                    next = tick_time(c->start_ns, c->reload + 1 - c->ticks_before);
                }
            }
            break;
        default:
            break; /* modes 1 and 5 never trigger on counter 0 */
        }
    }
    if (next >= 0 && next != pit->timer_expiry) {
        pit->timer_expiry = next;
        coremu_timer_mod(pit->timer, next);
    }
}

static void i8254_timer_cb(void *opaque)
{
    struct i8254 *pit = opaque;
    pthread_mutex_lock(&pit->lock);
    pit->timer_expiry = INT64_MIN;
    pit_update(pit, pit->now_ns());
    pthread_mutex_unlock(&pit->lock);
}

/* ---- the guest's accesses (with pit->lock held) ------------------------------------------ */

static void counter_latch_count(struct pit_counter *c, int64_t now)
{
    if (!c->count_latched) {
        c->count_latched = true;
        c->latched_count = counter_guest_value(c, now);
        c->read_msb_next = false;
    }
}

static void counter_latch_status(struct pit_counter *c, int64_t now)
{
    if (!c->status_latched) {
        c->status_latched = true;
        c->latched_status = counter_status(c, now);
    }
}

static void pit_write_control(struct i8254 *pit, uint8_t cw, int64_t now)
{
    unsigned sc = cw >> CW_SC_SHIFT;
    if (sc == CW_SC_READBACK) {
        for (unsigned i = 0; i < PIT_COUNTERS; i++) {
            if (cw & (2u << i)) {
                struct pit_counter *c = &pit->counters[i];
                /* Status first, so that a combined read-back reports the state the count
                 * was latched in. */
                if (!(cw & RB_NO_STATUS)) {
                    counter_latch_status(c, now);
                }
                if (!(cw & RB_NO_COUNT)) {
                    counter_latch_count(c, now);
                }
            }
        }
        return;
    }
    struct pit_counter *c = &pit->counters[sc];
    unsigned access = (cw >> CW_RW_SHIFT) & 3u;
    if (access == RW_LATCH) {
        counter_latch_count(c, now);
        return;
    }
    unsigned mode = (cw >> CW_MODE_SHIFT) & 7u;
    if (mode >= 6) {
        mode -= 4; /* 110 and 111 are modes 2 and 3 */
    }
    c->mode = (uint8_t)mode;
    c->access = (uint8_t)access;
    c->bcd = (cw & CW_BCD) != 0;
    c->count_loaded = false;
    c->running = false;
    c->triggered = false;
    c->null_count = true;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->count_latched = false;
    c->status_latched = false;
    if (sc == 0) {
        /* OUT goes low in mode 0 and high in every other mode. */
        pit_set_irq(pit, mode != 0);
    }
}

static void counter_load(struct i8254 *pit, unsigned idx, uint16_t raw, int64_t now)
{
    struct pit_counter *c = &pit->counters[idx];
    uint32_t n = c->bcd ? from_bcd(raw) : raw;
    if (n == 0) {
        n = counter_modulus(c);
    }
    c->reload = n;
    c->count_loaded = true;
    c->null_count = false;
    switch (c->mode) {
    case 1:
    case 5:
        /* Waits for the next trigger; a running one-shot finishes with its old count. */
        break;
    default:
        counter_start(c, now);
        c->running = c->gate;
        if (idx == 0 && c->mode == 0) {
            pit_set_irq(pit, false);
        }
        break;
    }
}

static void pit_write_data(struct i8254 *pit, unsigned idx, uint8_t v, int64_t now)
{
    struct pit_counter *c = &pit->counters[idx];
    switch (c->access) {
    case RW_LSB:
        counter_load(pit, idx, v, now);
        break;
    case RW_MSB:
        counter_load(pit, idx, (uint16_t)(v << 8), now);
        break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = v;
            c->write_msb_next = true;
            if (c->mode == 0 && c->count_loaded) {
                /* Writing the first byte stops a mode 0 count until the second arrives. */
                c->ticks_before = counter_elapsed(c, now);
                c->running = false;
            }
        } else {
            c->write_msb_next = false;
            counter_load(pit, idx, (uint16_t)(c->write_lsb | v << 8), now);
        }
        break;
    }
}

static uint8_t pit_read_data(struct i8254 *pit, unsigned idx, int64_t now)
{
    struct pit_counter *c = &pit->counters[idx];
    if (c->status_latched) {
        c->status_latched = false;
        return c->latched_status;
    }
    uint16_t v = c->count_latched ? c->latched_count : counter_guest_value(c, now);
    uint8_t byte;
    switch (c->access) {
    case RW_LSB:
        byte = (uint8_t)v;
        c->count_latched = false;
        break;
    case RW_MSB:
        byte = (uint8_t)(v >> 8);
        c->count_latched = false;
        break;
    default:
        byte = c->read_msb_next ? (uint8_t)(v >> 8) : (uint8_t)v;
        if (c->read_msb_next) {
            c->count_latched = false;
        }
        c->read_msb_next = !c->read_msb_next;
        break;
    }
    return byte;
}

static uint8_t port61_value(struct i8254 *pit, int64_t now)
{
    uint8_t v = pit->port61;
    if ((now / REFRESH_HALF_PERIOD_NS) & 1) {
        v |= I8254_P61_REFRESH;
    }
    if (counter_out(&pit->counters[2], now)) {
        v |= I8254_P61_OUT2;
    }
    return v;
}

/* ---- port callbacks ----------------------------------------------------------------------- */

static int i8254_pit_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct i8254 *pit = opaque;
    (void)size;
    pthread_mutex_lock(&pit->lock);
    int64_t now = pit->now_ns();
    pit_update(pit, now);
    if (offset == 3) {
        /* The control word register cannot be read (the 8254 leaves the bus floating). */
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: read of the control word register",
                   pit->name);
        *value = 0xff;
    } else {
        *value = pit_read_data(pit, (unsigned)offset, now);
    }
    pthread_mutex_unlock(&pit->lock);
    return COREMU_MEM_OK;
}

static int i8254_pit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct i8254 *pit = opaque;
    (void)size;
    pthread_mutex_lock(&pit->lock);
    int64_t now = pit->now_ns();
    pit_update(pit, now);
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: write port 0x%x = 0x%02x", pit->name,
               I8254_PIT_BASE + (unsigned)offset, (unsigned)value & 0xffu);
    if (offset == 3) {
        pit_write_control(pit, (uint8_t)value, now);
    } else {
        pit_write_data(pit, (unsigned)offset, (uint8_t)value, now);
    }
    pit_update(pit, now);
    pthread_mutex_unlock(&pit->lock);
    return COREMU_MEM_OK;
}

static int i8254_port61_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct i8254 *pit = opaque;
    (void)offset;
    (void)size;
    pthread_mutex_lock(&pit->lock);
    int64_t now = pit->now_ns();
    pit_update(pit, now);
    *value = port61_value(pit, now);
    pthread_mutex_unlock(&pit->lock);
    return COREMU_MEM_OK;
}

static int i8254_port61_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct i8254 *pit = opaque;
    (void)offset;
    (void)size;
    pthread_mutex_lock(&pit->lock);
    int64_t now = pit->now_ns();
    pit_update(pit, now);
    pit->port61 = (uint8_t)(value & (I8254_P61_GATE2 | I8254_P61_SPEAKER | I8254_P61_PARITY |
                                     I8254_P61_IOCHK));
    counter_set_gate(&pit->counters[2], (value & I8254_P61_GATE2) != 0, now);
    pthread_mutex_unlock(&pit->lock);
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops i8254_pit_ops = {
    .read = i8254_pit_read,
    .write = i8254_pit_write,
    .sizes = 1u,
    .allow_unaligned = false,
};

const struct coremu_mmio_ops i8254_port61_ops = {
    .read = i8254_port61_read,
    .write = i8254_port61_write,
    .sizes = 1u,
    .allow_unaligned = false,
};

/* ---- life cycle --------------------------------------------------------------------------- */

/* With pit->lock held. */
static void pit_reset_locked(struct i8254 *pit)
{
    for (unsigned i = 0; i < PIT_COUNTERS; i++) {
        struct pit_counter *c = &pit->counters[i];
        *c = (struct pit_counter){
            .mode = 0,
            .access = RW_WORD,
            .reload = 65536,
            .gate = i != 2, /* counter 2's gate is port 0x61 bit 0, cleared below */
        };
    }
    pit->port61 = 0;
    pit_set_irq(pit, false);
}

struct i8254 *i8254_new(const char *name, struct coremu_iothread *io,
                        const struct coremu_irq_line *irq0)
{
    struct i8254 *pit = calloc(1, sizeof(*pit));
    if (pit == NULL) {
        return NULL;
    }
    pit->name = name;
    pit->now_ns = coremu_clock_ns;
    pit->timer_expiry = INT64_MIN;
    if (irq0 != NULL) {
        pit->irq0 = *irq0;
    }
    if (pthread_mutex_init(&pit->lock, NULL) != 0) {
        free(pit);
        return NULL;
    }
    if (io == NULL) {
        io = coremu_iothread_default();
    }
    pit->timer = io != NULL ? coremu_timer_new(io, i8254_timer_cb, pit) : NULL;
    if (pit->timer == NULL) {
        pthread_mutex_destroy(&pit->lock);
        free(pit);
        return NULL;
    }
    pthread_mutex_lock(&pit->lock);
    pit_reset_locked(pit);
    pthread_mutex_unlock(&pit->lock);
    return pit;
}

void i8254_set_clock(struct i8254 *pit, int64_t (*now_ns)(void))
{
    pit->now_ns = now_ns;
}

int i8254_map(struct i8254 *pit, struct coremu_as *as)
{
    int r = coremu_as_add_mmio(as, pit->name, I8254_PIT_BASE, I8254_PIT_SIZE, &i8254_pit_ops,
                               pit, COREMU_MMIO_LOCKLESS);
    if (r == 0) {
        r = coremu_as_add_mmio(as, "port61", I8254_PORT61_BASE, I8254_PORT61_SIZE,
                               &i8254_port61_ops, pit, COREMU_MMIO_LOCKLESS);
        if (r != 0) {
            coremu_as_remove(as, I8254_PIT_BASE);
        }
    }
    return r;
}

void i8254_reset(struct i8254 *pit)
{
    /* A timer already queued finds counter 0 idle and does nothing. */
    pthread_mutex_lock(&pit->lock);
    pit_reset_locked(pit);
    pthread_mutex_unlock(&pit->lock);
}

void i8254_free(struct i8254 *pit)
{
    if (pit == NULL) {
        return;
    }
    coremu_timer_free(pit->timer);
    pthread_mutex_destroy(&pit->lock);
    free(pit);
}
