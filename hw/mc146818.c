/*
 * coremu — MC146818 real-time clock and CMOS RAM. Written from the Motorola MC146818A data sheet
 * and the PC/AT's use of it (ports 0x70/0x71, the century byte at 0x32); what is modelled and
 * the threading rules are in mc146818.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <coremu/clock.h>
#include <coremu/log.h>

#include "mc146818.h"

enum {
    REG_SEC = 0x0,
    REG_SEC_ALARM = 0x1,
    REG_MIN = 0x2,
    REG_MIN_ALARM = 0x3,
    REG_HOUR = 0x4,
    REG_HOUR_ALARM = 0x5,
    REG_DOW = 0x6,
    REG_DATE = 0x7,
    REG_MONTH = 0x8,
    REG_YEAR = 0x9,
    REG_A = 0xa,
    REG_B = 0xb,
    REG_C = 0xc,
    REG_D = 0xd,
    CMOS_SIZE = 128,
};

#define A_UIP      0x80u
#define A_DV_MASK  0x70u
#define A_DV_32KHZ 0x20u
#define A_RS_MASK  0x0fu

#define B_SET  0x80u
#define B_PIE  0x40u
#define B_AIE  0x20u
#define B_UIE  0x10u
#define B_SQWE 0x08u
#define B_DM   0x04u /* binary */
#define B_24H  0x02u
#define B_DSE  0x01u

#define C_IRQF 0x80u
#define C_PF   0x40u
#define C_AF   0x20u
#define C_UF   0x10u

#define D_VRT 0x80u

#define ALARM_DONT_CARE 0xc0u
#define UIP_NS          244000   /* UIP precedes the update by 244 us */
#define HALF_SECOND_NS  500000000
#define SECONDS_PER_DAY 86400

struct mc146818 {
    const char *name;           /* immutable */
    struct coremu_irq_line irq; /* immutable after mc146818_new */
    struct coremu_timer *timer; /* immutable after mc146818_new */
    int64_t (*now_ns)(void);    /* immutable after mc146818_set_clock */
    int64_t (*wall_ns)(void);

    /* Everything below is under lock. */
    pthread_mutex_t lock;
    uint8_t cmos[CMOS_SIZE];   /* RAM, alarms, A (bits 6-0), B; the time bytes while frozen */
    uint8_t index;
    bool nmi_masked;
    bool frozen;               /* SET or divider stopped: the time lives in cmos[] */
    bool divider_stopped;      /* register A's divider bits are not 010 */
    int64_t base_ns;           /* the clock (Unix ns) at anchor_ns of virtual time */
    int64_t anchor_ns;
    int dow_offset;            /* guest's day of week minus the computed one, mod 7 */
    int64_t last_update_s;     /* the second whose update cycle was last accounted */
    int64_t div_anchor_ns;     /* virtual time the divider started (periodic ticks) */
    uint64_t last_periodic;    /* periodic ticks accounted since div_anchor_ns */
    uint8_t reg_c;
    bool irq_level;
    /* The expiry the device timer was last armed for (INT64_MIN: not armed), so that register
     * accesses, which bring the device up to date, re-arm it only when the time changes. */
    int64_t timer_expiry;
};

/* ---- calendar (no lock) ------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's published algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday. */
static int weekday(int64_t days)
{
    return (int)((days % 7 + 7 + 4) % 7);
}

/* ---- formats (with rtc->lock held) -------------------------------------------------------- */

static uint8_t rtc_enc(const struct mc146818 *rtc, unsigned v)
{
    return (rtc->cmos[REG_B] & B_DM) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned rtc_dec(const struct mc146818 *rtc, uint8_t v)
{
    return (rtc->cmos[REG_B] & B_DM) ? v : (unsigned)(v >> 4) * 10 + (v & 0xfu);
}

static uint8_t rtc_enc_hour(const struct mc146818 *rtc, unsigned h)
{
    if (rtc->cmos[REG_B] & B_24H) {
        return rtc_enc(rtc, h);
    }
    unsigned h12 = h % 12 == 0 ? 12 : h % 12;
    return (uint8_t)(rtc_enc(rtc, h12) | (h >= 12 ? 0x80u : 0));
}

static unsigned rtc_dec_hour(const struct mc146818 *rtc, uint8_t v)
{
    if (rtc->cmos[REG_B] & B_24H) {
        return rtc_dec(rtc, v) % 24;
    }
    return rtc_dec(rtc, v & 0x7fu) % 12 + ((v & 0x80u) ? 12 : 0);
}

/* The time registers (and century) for Unix second s, in the current format, into out[]. */
static void rtc_format(const struct mc146818 *rtc, int64_t s, uint8_t *out)
{
    int64_t days = floor_div(s, SECONDS_PER_DAY);
    int64_t sod = s - days * SECONDS_PER_DAY;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    out[REG_SEC] = rtc_enc(rtc, (unsigned)(sod % 60));
    out[REG_MIN] = rtc_enc(rtc, (unsigned)(sod / 60 % 60));
    out[REG_HOUR] = rtc_enc_hour(rtc, (unsigned)(sod / 3600));
    out[REG_DOW] = (uint8_t)((weekday(days) + rtc->dow_offset) % 7 + 1);
    out[REG_DATE] = rtc_enc(rtc, d);
    out[REG_MONTH] = rtc_enc(rtc, m);
    unsigned yy = (unsigned)(((y % 10000) + 10000) % 10000);
    out[REG_YEAR] = rtc_enc(rtc, yy % 100);
    out[MC146818_REG_CENTURY] = rtc_enc(rtc, yy / 100);
}

/* The Unix second the frozen time registers say; also takes the guest's day of week. */
static int64_t rtc_parse(struct mc146818 *rtc)
{
    const uint8_t *r = rtc->cmos;
    unsigned sec = rtc_dec(rtc, r[REG_SEC]) % 60;
    unsigned min = rtc_dec(rtc, r[REG_MIN]) % 60;
    unsigned hour = rtc_dec_hour(rtc, r[REG_HOUR]);
    unsigned month = rtc_dec(rtc, r[REG_MONTH]);
    unsigned date = rtc_dec(rtc, r[REG_DATE]);
    int64_t year = (int64_t)rtc_dec(rtc, r[MC146818_REG_CENTURY]) * 100 +
                   rtc_dec(rtc, r[REG_YEAR]) % 100;
    month = month < 1 ? 1 : month > 12 ? 12 : month;
    date = date < 1 ? 1 : date > 31 ? 31 : date;
    int64_t days = days_from_civil(year, month, date);
    int dow = (r[REG_DOW] + 6) % 7; /* register 1-7, Sunday 1 */
    rtc->dow_offset = ((dow - weekday(days)) % 7 + 7) % 7;
    return days * SECONDS_PER_DAY + hour * 3600 + min * 60 + sec;
}

/* ---- the clock (with rtc->lock held) ------------------------------------------------------ */

static int64_t rtc_clock_ns(const struct mc146818 *rtc, int64_t now)
{
    return rtc->base_ns + (now - rtc->anchor_ns);
}

static int64_t rtc_seconds(const struct mc146818 *rtc, int64_t now)
{
    return floor_div(rtc_clock_ns(rtc, now), COREMU_NS_PER_SEC);
}

/* The periodic rate as log2 of ticks per second (period 2^(rs-1) / 32768 s, so 2^(16-rs) per
 * second), or -1 when RS is 0 (no periodic interrupt). */
static int rtc_periodic_log2(const struct mc146818 *rtc)
{
    unsigned rs = rtc->cmos[REG_A] & A_RS_MASK;
    if (rs == 0) {
        return -1;
    }
    if (rs < 3) {
        rs += 7; /* 1 and 2 repeat 8 and 9 */
    }
    return 16 - (int)rs;
}

/* Periodic ticks since the divider started: floor(elapsed * rate). Rate must not be off. */
static uint64_t rtc_periodic_index(const struct mc146818 *rtc, int64_t now)
{
    int shift = rtc_periodic_log2(rtc);
    if (now <= rtc->div_anchor_ns) {
        return 0;
    }
    return (uint64_t)(((unsigned __int128)(uint64_t)(now - rtc->div_anchor_ns) << shift) /
                      (uint64_t)COREMU_NS_PER_SEC);
}

/* The first virtual time at which rtc_periodic_index reaches k. */
static int64_t rtc_periodic_time(const struct mc146818 *rtc, uint64_t k)
{
    uint64_t per_second = 1ull << rtc_periodic_log2(rtc);
    return rtc->div_anchor_ns + (int64_t)(((unsigned __int128)k * (uint64_t)COREMU_NS_PER_SEC +
                                           per_second - 1) / per_second);
}

static bool rtc_alarm_matches(const struct mc146818 *rtc, int64_t s)
{
    uint8_t now[CMOS_SIZE];
    rtc_format(rtc, s, now);
    static const unsigned pairs[3][2] = {
        {REG_SEC, REG_SEC_ALARM}, {REG_MIN, REG_MIN_ALARM}, {REG_HOUR, REG_HOUR_ALARM}};
    for (unsigned i = 0; i < 3; i++) {
        uint8_t alarm = rtc->cmos[pairs[i][1]];
        if ((alarm & ALARM_DONT_CARE) != ALARM_DONT_CARE && alarm != now[pairs[i][0]]) {
            return false;
        }
    }
    return true;
}

static void rtc_update_irq(struct mc146818 *rtc)
{
    uint8_t b = rtc->cmos[REG_B];
    bool irqf = ((rtc->reg_c & C_PF) && (b & B_PIE)) || ((rtc->reg_c & C_AF) && (b & B_AIE)) ||
                ((rtc->reg_c & C_UF) && (b & B_UIE));
    if (irqf) {
        rtc->reg_c |= C_IRQF;
    }
    bool level = (rtc->reg_c & C_IRQF) != 0;
    if (level != rtc->irq_level) {
        rtc->irq_level = level;
        coremu_irq_set(&rtc->irq, level);
    }
}

/* Accounts the update cycles and periodic ticks up to now, drives IRQ8, arms the timer. */
static void rtc_update(struct mc146818 *rtc, int64_t now)
{
    int64_t next = INT64_MAX;
    uint8_t b = rtc->cmos[REG_B];

    if (!rtc->frozen) {
        int64_t cur = rtc_seconds(rtc, now);
        if (cur > rtc->last_update_s) {
            rtc->reg_c |= C_UF;
            /* A day holds every alarm time, so older seconds need not be looked at. */
            int64_t from = cur - rtc->last_update_s > SECONDS_PER_DAY ? cur - SECONDS_PER_DAY
                                                                      : rtc->last_update_s;
            for (int64_t s = cur; s > from && !(rtc->reg_c & C_AF); s--) {
                if (rtc_alarm_matches(rtc, s)) {
                    rtc->reg_c |= C_AF;
                }
            }
            rtc->last_update_s = cur;
        }
        if (((b & B_UIE) && !(rtc->reg_c & C_UF)) || ((b & B_AIE) && !(rtc->reg_c & C_AF))) {
            next = rtc->anchor_ns + ((cur + 1) * COREMU_NS_PER_SEC - rtc->base_ns);
        }
    }
    if (!rtc->divider_stopped && rtc_periodic_log2(rtc) >= 0) {
        uint64_t k = rtc_periodic_index(rtc, now);
        if (k > rtc->last_periodic) {
            rtc->reg_c |= C_PF;
            rtc->last_periodic = k;
        }
        if ((b & B_PIE) && !(rtc->reg_c & C_PF)) {
            int64_t t = rtc_periodic_time(rtc, k + 1);
            next = t < next ? t : next;
        }
    }
    rtc_update_irq(rtc);
    if (next != INT64_MAX && next != rtc->timer_expiry) {
        rtc->timer_expiry = next;
        coremu_timer_mod(rtc->timer, next);
    }
}

static void mc146818_timer_cb(void *opaque)
{
    struct mc146818 *rtc = opaque;
    pthread_mutex_lock(&rtc->lock);
    rtc->timer_expiry = INT64_MIN;
    rtc_update(rtc, rtc->now_ns());
    pthread_mutex_unlock(&rtc->lock);
}

/* Moves the time into cmos[] (frozen) or back into the running count. */
static void rtc_set_frozen(struct mc146818 *rtc, bool frozen, bool divider_restart, int64_t now)
{
    if (frozen == rtc->frozen) {
        return;
    }
    if (frozen) {
        rtc_format(rtc, rtc_seconds(rtc, now), rtc->cmos);
    } else {
        int64_t s = rtc_parse(rtc);
        int64_t phase;
        if (divider_restart) {
            phase = HALF_SECOND_NS; /* the first update comes half a second later */
        } else {
            int64_t t = rtc_clock_ns(rtc, now);
            phase = t - floor_div(t, COREMU_NS_PER_SEC) * COREMU_NS_PER_SEC;
        }
        rtc->base_ns = s * COREMU_NS_PER_SEC + phase;
        rtc->anchor_ns = now;
        rtc->last_update_s = s;
    }
    rtc->frozen = frozen;
}

static void rtc_write_time_register(struct mc146818 *rtc, unsigned idx, uint8_t v, int64_t now)
{
    if (rtc->frozen) {
        rtc->cmos[idx] = v;
        return;
    }
    /* Without SET the new value counts on from where the second already is. */
    rtc_set_frozen(rtc, true, false, now);
    rtc->cmos[idx] = v;
    rtc_set_frozen(rtc, false, false, now);
}

static bool is_time_register(unsigned idx)
{
    return idx == REG_SEC || idx == REG_MIN || idx == REG_HOUR || idx == REG_DOW ||
           idx == REG_DATE || idx == REG_MONTH || idx == REG_YEAR ||
           idx == MC146818_REG_CENTURY;
}

static uint8_t rtc_read_reg(struct mc146818 *rtc, unsigned idx, int64_t now)
{
    switch (idx) {
    case REG_A: {
        uint8_t v = rtc->cmos[REG_A];
        if (!rtc->frozen) {
            int64_t t = rtc_clock_ns(rtc, now);
            int64_t into = t - floor_div(t, COREMU_NS_PER_SEC) * COREMU_NS_PER_SEC;
            if (into >= COREMU_NS_PER_SEC - UIP_NS) {
                v |= A_UIP;
            }
        }
        return v;
    }
    case REG_C: {
        uint8_t v = rtc->reg_c;
        rtc->reg_c = 0;
        rtc_update_irq(rtc);
        rtc_update(rtc, now); /* re-arms for the flags the read cleared */
        return v;
    }
    case REG_D:
        return D_VRT;
    default:
        break;
    }
    if (is_time_register(idx) && !rtc->frozen) {
        uint8_t regs[CMOS_SIZE];
        rtc_format(rtc, rtc_seconds(rtc, now), regs);
        return regs[idx];
    }
    return rtc->cmos[idx];
}

static void rtc_write_reg(struct mc146818 *rtc, unsigned idx, uint8_t v, int64_t now)
{
    switch (idx) {
    case REG_A: {
        bool was_stopped = rtc->divider_stopped;
        bool stopped = (v & A_DV_MASK) != A_DV_32KHZ;
        unsigned old_rs = rtc->cmos[REG_A] & A_RS_MASK;
        rtc->cmos[REG_A] = v & (A_DV_MASK | A_RS_MASK);
        rtc->divider_stopped = stopped;
        bool frozen = stopped || (rtc->cmos[REG_B] & B_SET);
        rtc_set_frozen(rtc, frozen, was_stopped && !stopped, now);
        if (was_stopped && !stopped) {
            rtc->div_anchor_ns = now;
            rtc->last_periodic = 0;
        } else if (old_rs != (v & A_RS_MASK) && rtc_periodic_log2(rtc) >= 0) {
            /* The new rate taps the same running divider chain. */
            rtc->last_periodic = rtc_periodic_index(rtc, now);
        }
        break;
    }
    case REG_B:
        if (v & B_SET) {
            v &= (uint8_t)~B_UIE;
        }
        rtc->cmos[REG_B] = v;
        rtc_set_frozen(rtc, (v & B_SET) || rtc->divider_stopped, false, now);
        break;
    case REG_C:
    case REG_D:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write of 0x%02x to read-only register %c",
                   rtc->name, v, idx == REG_C ? 'C' : 'D');
        break;
    default:
        if (is_time_register(idx)) {
            rtc_write_time_register(rtc, idx, v, now);
        } else {
            rtc->cmos[idx] = v;
        }
        break;
    }
}

/* ---- port callbacks ----------------------------------------------------------------------- */

static int mc146818_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct mc146818 *rtc = opaque;
    (void)size;
    if (offset == 0) {
        *value = 0xff; /* the index port is write-only */
        return COREMU_MEM_OK;
    }
    pthread_mutex_lock(&rtc->lock);
    int64_t now = rtc->now_ns();
    rtc_update(rtc, now);
    *value = rtc_read_reg(rtc, rtc->index, now);
    pthread_mutex_unlock(&rtc->lock);
    return COREMU_MEM_OK;
}

static int mc146818_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct mc146818 *rtc = opaque;
    (void)size;
    pthread_mutex_lock(&rtc->lock);
    if (offset == 0) {
        rtc->index = (uint8_t)(value & 0x7fu);
        rtc->nmi_masked = (value & 0x80u) != 0;
    } else {
        int64_t now = rtc->now_ns();
        rtc_update(rtc, now);
        COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: write 0x%02x = 0x%02x", rtc->name, rtc->index,
                   (unsigned)value & 0xffu);
        rtc_write_reg(rtc, rtc->index, (uint8_t)value, now);
        rtc_update(rtc, now);
    }
    pthread_mutex_unlock(&rtc->lock);
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops mc146818_ops = {
    .read = mc146818_read,
    .write = mc146818_write,
    .sizes = 1u,
    .allow_unaligned = false,
};

/* ---- life cycle --------------------------------------------------------------------------- */

struct mc146818 *mc146818_new(const char *name, struct coremu_iothread *io,
                              const struct coremu_irq_line *irq)
{
    struct mc146818 *rtc = calloc(1, sizeof(*rtc));
    if (rtc == NULL) {
        return NULL;
    }
    rtc->name = name;
    rtc->now_ns = coremu_clock_ns;
    rtc->wall_ns = coremu_wall_ns;
    rtc->timer_expiry = INT64_MIN;
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
    rtc->timer = io != NULL ? coremu_timer_new(io, mc146818_timer_cb, rtc) : NULL;
    if (rtc->timer == NULL) {
        pthread_mutex_destroy(&rtc->lock);
        free(rtc);
        return NULL;
    }
    /* What a PC BIOS leaves: 32.768 kHz divider, 1024 Hz periodic rate, BCD, 24-hour. */
    rtc->cmos[REG_A] = A_DV_32KHZ | 0x06u;
    rtc->cmos[REG_B] = B_24H;
    mc146818_set_offset(rtc, 0);
    return rtc;
}

void mc146818_set_clock(struct mc146818 *rtc, int64_t (*now_ns)(void), int64_t (*wall_ns)(void))
{
    rtc->now_ns = now_ns;
    rtc->wall_ns = wall_ns;
}

void mc146818_set_offset(struct mc146818 *rtc, int64_t offset_s)
{
    pthread_mutex_lock(&rtc->lock);
    int64_t now = rtc->now_ns();
    rtc->base_ns = rtc->wall_ns() + offset_s * COREMU_NS_PER_SEC;
    rtc->anchor_ns = now;
    rtc->div_anchor_ns = now;
    rtc->last_periodic = 0;
    rtc->last_update_s = rtc_seconds(rtc, now);
    rtc->dow_offset = 0;
    rtc->frozen = false;
    pthread_mutex_unlock(&rtc->lock);
}

void mc146818_nvram_write(struct mc146818 *rtc, unsigned addr, uint8_t value)
{
    if (addr <= REG_D || addr >= CMOS_SIZE || addr == MC146818_REG_CENTURY) {
        return;
    }
    pthread_mutex_lock(&rtc->lock);
    rtc->cmos[addr] = value;
    pthread_mutex_unlock(&rtc->lock);
}

uint8_t mc146818_nvram_read(struct mc146818 *rtc, unsigned addr)
{
    if (addr <= REG_D || addr >= CMOS_SIZE || addr == MC146818_REG_CENTURY) {
        return 0;
    }
    pthread_mutex_lock(&rtc->lock);
    uint8_t v = rtc->cmos[addr];
    pthread_mutex_unlock(&rtc->lock);
    return v;
}

bool mc146818_nmi_masked(struct mc146818 *rtc)
{
    pthread_mutex_lock(&rtc->lock);
    bool masked = rtc->nmi_masked;
    pthread_mutex_unlock(&rtc->lock);
    return masked;
}

int mc146818_map(struct mc146818 *rtc, struct coremu_as *as)
{
    return coremu_as_add_mmio(as, rtc->name, MC146818_IO_BASE, MC146818_IO_SIZE, &mc146818_ops,
                              rtc, COREMU_MMIO_LOCKLESS);
}

void mc146818_reset(struct mc146818 *rtc)
{
    pthread_mutex_lock(&rtc->lock);
    rtc_update(rtc, rtc->now_ns());
    rtc->cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
    rtc->reg_c = 0;
    rtc_update_irq(rtc);
    pthread_mutex_unlock(&rtc->lock);
}

void mc146818_free(struct mc146818 *rtc)
{
    if (rtc == NULL) {
        return;
    }
    coremu_timer_free(rtc->timer);
    pthread_mutex_destroy(&rtc->lock);
    free(rtc);
}
