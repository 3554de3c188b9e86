/*
 * Host-side tests of the MC146818 RTC and CMOS RAM model (hw/mc146818.c), through ports 0x70 and
 * 0x71. The device reads a controllable virtual clock and wall clock (mc146818_set_clock), so
 * the checks are exact: the calendar across a leap day and a month end in BCD, binary and 12-hour
 * formats, UIP in the 244 us before each update, the SET freeze and Linux's sequence for setting
 * the time (SET, divider reset, write, clear SET, restart the divider: first update half a second
 * later), the periodic, alarm and update-ended flags and IRQ8, the -rtc offset and the RAM. The
 * last check runs the periodic interrupt on the real virtual clock and I/O thread, with a
 * tolerance on the count.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <coremu/coremu.h>

#include "mc146818.h"
#include "unit.h"

#define NS 1000000000LL

static _Atomic int64_t fake_ns;
static _Atomic int64_t fake_wall_ns;

static int64_t fake_clock(void)
{
    return atomic_load(&fake_ns);
}

static int64_t fake_wall(void)
{
    return atomic_load(&fake_wall_ns);
}

struct irq_probe {
    _Atomic int level;
    _Atomic unsigned rises;
};

static void probe_set(void *opaque, bool level)
{
    struct irq_probe *p = opaque;
    if (level && !atomic_load(&p->level)) {
        atomic_fetch_add(&p->rises, 1);
    }
    atomic_store(&p->level, level);
}

static uint8_t cmos_read(struct mc146818 *rtc, unsigned idx)
{
    uint64_t v = 0;
    UNIT_REQUIRE(mc146818_ops.write(rtc, 0, 1, idx) == COREMU_MEM_OK, "index", "refused");
    UNIT_REQUIRE(mc146818_ops.read(rtc, 1, 1, &v) == COREMU_MEM_OK, "data", "refused");
    return (uint8_t)v;
}

static void cmos_write(struct mc146818 *rtc, unsigned idx, uint8_t v)
{
    UNIT_REQUIRE(mc146818_ops.write(rtc, 0, 1, idx) == COREMU_MEM_OK, "index", "refused");
    UNIT_REQUIRE(mc146818_ops.write(rtc, 1, 1, v) == COREMU_MEM_OK, "data", "refused");
}

static void set_ns(int64_t t)
{
    atomic_store(&fake_ns, t);
}

/* 2024-02-29 23:59:58.5 UTC, a Thursday. */
#define LEAP_DAY_S 1709251198LL

static struct mc146818 *new_rtc(struct coremu_iothread *io, struct irq_probe *probe)
{
    const struct coremu_irq_line line = {probe_set, probe};
    struct mc146818 *rtc = mc146818_new("rtc", io, probe != NULL ? &line : NULL);
    UNIT_REQUIRE(rtc != NULL, "mc146818_new", "NULL");
    mc146818_set_clock(rtc, fake_clock, fake_wall);
    set_ns(0);
    atomic_store(&fake_wall_ns, LEAP_DAY_S * NS + NS / 2);
    mc146818_set_offset(rtc, 0);
    return rtc;
}

static void read_time(struct mc146818 *rtc, uint8_t t[8])
{
    static const unsigned idx[8] = {0, 2, 4, 6, 7, 8, 9, 0x32};
    for (int i = 0; i < 8; i++) {
        t[i] = cmos_read(rtc, idx[i]);
    }
}

static bool time_is(const uint8_t t[8], uint8_t s, uint8_t m, uint8_t h, uint8_t dow, uint8_t d,
                    uint8_t mon, uint8_t y, uint8_t c)
{
    return t[0] == s && t[1] == m && t[2] == h && t[3] == dow && t[4] == d && t[5] == mon &&
           t[6] == y && t[7] == c;
}

#define TIME_FMT "%02x:%02x:%02x dow %x %02x/%02x/%02x%02x"
#define TIME_ARGS(t) t[2], t[1], t[0], t[3], t[4], t[5], t[7], t[6]

static void test_calendar(struct coremu_iothread *io)
{
    struct mc146818 *rtc = new_rtc(io, NULL);
    uint8_t t[8];
    read_time(rtc, t);
    UNIT_CHECK(time_is(t, 0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20),
               "BCD 24h: 2024-02-29 23:59:58 Thursday", TIME_FMT, TIME_ARGS(t));
    UNIT_CHECK(cmos_read(rtc, 0xa) == 0x26 && cmos_read(rtc, 0xb) == 0x02 &&
               cmos_read(rtc, 0xd) == 0x80, "power-on A, B, D", "A %02x B %02x D %02x",
               cmos_read(rtc, 0xa), cmos_read(rtc, 0xb), cmos_read(rtc, 0xd));
    (void)cmos_read(rtc, 0xc);
    set_ns(NS + NS / 2); /* 2024-03-01 00:00:00.0 */
    read_time(rtc, t);
    UNIT_CHECK(time_is(t, 0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20),
               "leap day rolls over to March 1st, Friday", TIME_FMT, TIME_ARGS(t));
    /* The alarm registers are still 0, which matches midnight; PF needs a read of C after the
     * first periodic tick, and there was none since the last. */
    uint8_t c = cmos_read(rtc, 0xc);
    UNIT_CHECK((c & 0xb0) == 0x30, "UF and AF set by the midnight update, IRQF clear (UIE off)",
               "C = %02x", c);
    UNIT_CHECK(cmos_read(rtc, 0xc) == 0x00, "reading C clears it", "C = %02x",
               cmos_read(rtc, 0xc));

    cmos_write(rtc, 0xb, 0x06); /* binary, 24h */
    set_ns(NS + NS / 2 + 13 * 3600 * NS + 7 * NS); /* 13:00:07 */
    read_time(rtc, t);
    UNIT_CHECK(time_is(t, 7, 0, 13, 6, 1, 3, 24, 20), "binary 24h", TIME_FMT, TIME_ARGS(t));
    cmos_write(rtc, 0xb, 0x04); /* binary, 12h */
    UNIT_CHECK(cmos_read(rtc, 4) == 0x81, "binary 12h: 13:00 is 1 PM (0x81)", "%02x",
               cmos_read(rtc, 4));
    cmos_write(rtc, 0xb, 0x00); /* BCD, 12h */
    UNIT_CHECK(cmos_read(rtc, 4) == 0x81, "BCD 12h: 1 PM", "%02x", cmos_read(rtc, 4));
    set_ns(NS + NS / 2 + 12 * 3600 * NS);
    UNIT_CHECK(cmos_read(rtc, 4) == 0x92, "BCD 12h: noon is 12 PM (0x92)", "%02x",
               cmos_read(rtc, 4));
    set_ns(NS + NS / 2 + 30 * 60 * NS);
    UNIT_CHECK(cmos_read(rtc, 4) == 0x12, "BCD 12h: 00:30 is 12 AM (0x12)", "%02x",
               cmos_read(rtc, 4));
    set_ns(NS + NS / 2 + 22 * 3600 * NS);
    UNIT_CHECK(cmos_read(rtc, 4) == 0x90, "BCD 12h: 22:00 is 10 PM (0x90)", "%02x",
               cmos_read(rtc, 4));

    /* The -rtc offset. */
    cmos_write(rtc, 0xb, 0x02);
    set_ns(0);
    mc146818_set_offset(rtc, 3600);
    UNIT_CHECK(cmos_read(rtc, 4) == 0x00 && cmos_read(rtc, 7) == 0x01 &&
               cmos_read(rtc, 8) == 0x03, "offset of one hour: 00:59:58 on March 1st",
               "%02x:%02x on %02x/%02x", cmos_read(rtc, 4), cmos_read(rtc, 2), cmos_read(rtc, 8),
               cmos_read(rtc, 7));
    mc146818_free(rtc);
}

static void test_uip_and_set(struct coremu_iothread *io)
{
    struct irq_probe probe = {0};
    struct mc146818 *rtc = new_rtc(io, &probe);
    /* The clock is at .5 s into a second at virtual 0: the update comes at 0.5 s. */
    set_ns(NS / 2 - 244000 - 1);
    UNIT_CHECK((cmos_read(rtc, 0xa) & 0x80) == 0, "UIP clear 244 us + 1 ns before the update",
               "A %02x", cmos_read(rtc, 0xa));
    set_ns(NS / 2 - 244000);
    UNIT_CHECK((cmos_read(rtc, 0xa) & 0x80) != 0 && cmos_read(rtc, 0) == 0x58,
               "UIP set 244 us before the update, old time still readable", "A %02x sec %02x",
               cmos_read(rtc, 0xa), cmos_read(rtc, 0));
    set_ns(NS / 2 - 1);
    UNIT_CHECK((cmos_read(rtc, 0xa) & 0x80) != 0, "UIP set 1 ns before the update", "A %02x",
               cmos_read(rtc, 0xa));
    set_ns(NS / 2);
    UNIT_CHECK((cmos_read(rtc, 0xa) & 0x80) == 0 && cmos_read(rtc, 0) == 0x59,
               "UIP clear at the update, seconds advanced", "A %02x sec %02x",
               cmos_read(rtc, 0xa), cmos_read(rtc, 0));

    /* SET freezes the time; UIE is cleared by it. */
    cmos_write(rtc, 0xb, 0x12); /* UIE */
    cmos_write(rtc, 0xb, 0x92); /* SET */
    UNIT_CHECK(cmos_read(rtc, 0xb) == 0x82, "SET clears UIE", "B %02x", cmos_read(rtc, 0xb));
    (void)cmos_read(rtc, 0xc);
    set_ns(10 * NS);
    /* PF keeps coming: SET stops updates, not the divider. */
    uint8_t c = cmos_read(rtc, 0xc);
    UNIT_CHECK(cmos_read(rtc, 0) == 0x59 && (cmos_read(rtc, 0xa) & 0x80) == 0 &&
               (c & 0xb0) == 0 && (c & 0x40) != 0,
               "SET freezes the time: no update, no UIP, no UF; PF still set",
               "sec %02x C %02x", cmos_read(rtc, 0), c);

    /* Linux's mc146818_set_time: SET, divider reset, the fields, clear SET, divider back. */
    cmos_write(rtc, 0xa, 0x66);
    static const uint8_t fields[][2] = {{9, 0x99}, {8, 0x12}, {7, 0x31}, {4, 0x23},
                                        {2, 0x59}, {0, 0x59}, {6, 0x06}, {0x32, 0x19}};
    for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        cmos_write(rtc, fields[i][0], fields[i][1]);
    }
    cmos_write(rtc, 0xb, 0x02);
    set_ns(12 * NS);
    UNIT_CHECK(cmos_read(rtc, 0) == 0x59, "divider in reset keeps the time frozen", "sec %02x",
               cmos_read(rtc, 0));
    cmos_write(rtc, 0xa, 0x26);
    set_ns(12 * NS + NS / 2 - 1);
    uint8_t t[8];
    read_time(rtc, t);
    UNIT_CHECK(time_is(t, 0x59, 0x59, 0x23, 6, 0x31, 0x12, 0x99, 0x19),
               "written time holds until half a second after the divider restarts", TIME_FMT,
               TIME_ARGS(t));
    set_ns(12 * NS + NS / 2);
    read_time(rtc, t);
    UNIT_CHECK(time_is(t, 0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x00, 0x20),
               "first update rolls 1999-12-31 23:59:59 Friday into 2000-01-01 Saturday",
               TIME_FMT, TIME_ARGS(t));
    set_ns(12 * NS + NS / 2 + 59 * 86400 * NS);
    UNIT_CHECK(cmos_read(rtc, 8) == 0x02 && cmos_read(rtc, 7) == 0x29 && cmos_read(rtc, 6) == 3,
               "2000 is a leap year: day 60 is Tuesday February 29th", "%02x/%02x dow %x",
               cmos_read(rtc, 8), cmos_read(rtc, 7), cmos_read(rtc, 6));
    /* A time register written without SET takes effect at once and keeps counting. */
    cmos_write(rtc, 2, 0x30);
    set_ns(12 * NS + NS / 2 + 59 * 86400 * NS + 60 * NS);
    UNIT_CHECK(cmos_read(rtc, 2) == 0x31, "minutes written without SET keep counting", "%02x",
               cmos_read(rtc, 2));
    mc146818_free(rtc);
}

static void test_interrupts(struct coremu_iothread *io)
{
    struct irq_probe probe = {0};
    struct mc146818 *rtc = new_rtc(io, &probe);
    /* Periodic at 1024 Hz (rate 6): the first tick 976562.5 ns after the divider started. */
    (void)cmos_read(rtc, 0xc);
    cmos_write(rtc, 0xb, 0x42); /* PIE */
    set_ns(976562);
    UNIT_CHECK(cmos_read(rtc, 0xc) == 0 && atomic_load(&probe.level) == 0,
               "no periodic flag before 1/1024 s", "level %d", atomic_load(&probe.level));
    set_ns(976563);
    (void)cmos_read(rtc, 0xa);
    UNIT_CHECK(atomic_load(&probe.level) == 1 && atomic_load(&probe.rises) == 1,
               "periodic tick raises IRQ8 at 1/1024 s", "level %d rises %u",
               atomic_load(&probe.level), atomic_load(&probe.rises));
    UNIT_CHECK(cmos_read(rtc, 0xc) == 0xc0 && atomic_load(&probe.level) == 0,
               "reading C returns IRQF|PF and lowers IRQ8", "level %d", atomic_load(&probe.level));
    /* 1000 ticks later in one step: one flag, no drift in the tick times. */
    set_ns(1000 * NS / 1024 - 1);
    (void)cmos_read(rtc, 0xc);
    set_ns(1001 * NS / 1024 + 1);
    UNIT_CHECK(cmos_read(rtc, 0xc) == 0xc0, "periodic tick 1001 at 1001/1024 s", "no flag");
    /* Rate 15: 2 Hz. */
    cmos_write(rtc, 0xa, 0x2f);
    (void)cmos_read(rtc, 0xc);
    set_ns(1001 * NS / 1024 + 2);
    UNIT_CHECK(cmos_read(rtc, 0xc) == 0, "2 Hz: no tick right after the rate change", "flag");
    set_ns(NS + NS / 2);
    UNIT_CHECK((cmos_read(rtc, 0xc) & 0x40) != 0, "2 Hz: tick at 1.5 s", "no flag");
    set_ns(2 * NS - 1);
    UNIT_CHECK((cmos_read(rtc, 0xc) & 0x40) == 0, "2 Hz: none before 2 s", "flag");
    cmos_write(rtc, 0xa, 0x20); /* rate 0: no periodic */
    cmos_write(rtc, 0xb, 0x02);

    /* Alarm at 00:00:05 BCD (the clock reads 00:00:00 at 1.5 s), hours "don't care". */
    cmos_write(rtc, 1, 0x05);
    cmos_write(rtc, 3, 0x00);
    cmos_write(rtc, 5, 0xc0);
    cmos_write(rtc, 0xb, 0x22); /* AIE */
    (void)cmos_read(rtc, 0xc);
    unsigned rises = atomic_load(&probe.rises);
    set_ns(6 * NS + NS / 2 - 1);
    UNIT_CHECK((cmos_read(rtc, 0xc) & 0x20) == 0, "no alarm at 00:00:04.999", "AF");
    set_ns(6 * NS + NS / 2);
    (void)cmos_read(rtc, 0xa);
    UNIT_CHECK(atomic_load(&probe.level) == 1 && atomic_load(&probe.rises) == rises + 1,
               "alarm at 00:00:05 raises IRQ8", "level %d", atomic_load(&probe.level));
    UNIT_CHECK(cmos_read(rtc, 0xc) == 0xb0, "C = IRQF|AF|UF", "C %02x", cmos_read(rtc, 0xc));
    /* The same alarm, passed over by one long step, still sets AF. */
    set_ns(6 * NS + NS / 2 + 3600 * NS + NS / 4);
    UNIT_CHECK(cmos_read(rtc, 0xc) == 0xb0, "alarm passed within a long interval still flags",
               "C %02x", cmos_read(rtc, 0xc));

    /* Update-ended. */
    cmos_write(rtc, 0xb, 0x12);
    (void)cmos_read(rtc, 0xc);
    set_ns(6 * NS + NS / 2 + 3601 * NS);
    (void)cmos_read(rtc, 0xa);
    UNIT_CHECK(atomic_load(&probe.level) == 1, "update-ended raises IRQ8", "low");
    mc146818_reset(rtc);
    UNIT_CHECK(atomic_load(&probe.level) == 0 && cmos_read(rtc, 0xb) == 0x02 &&
               cmos_read(rtc, 0xc) == 0, "reset clears UIE and C, lowers IRQ8", "B %02x",
               cmos_read(rtc, 0xb));
    mc146818_free(rtc);
}

static void test_nvram(struct coremu_iothread *io)
{
    struct mc146818 *rtc = new_rtc(io, NULL);
    bool ok = true;
    for (unsigned i = 0xe; i < 0x80; i++) {
        if (i != 0x32) {
            cmos_write(rtc, i, (uint8_t)(i * 7));
        }
    }
    for (unsigned i = 0xe; i < 0x80; i++) {
        if (i != 0x32 && cmos_read(rtc, i) != (uint8_t)(i * 7)) {
            ok = false;
        }
    }
    UNIT_CHECK(ok, "113 bytes of RAM keep what is written", "mismatch");
    mc146818_nvram_write(rtc, 0x30, 0x00);
    mc146818_nvram_write(rtc, 0x31, 0xfc);
    UNIT_CHECK(cmos_read(rtc, 0x31) == 0xfc && mc146818_nvram_read(rtc, 0x30) == 0,
               "board presets read back through the ports", "%02x", cmos_read(rtc, 0x31));
    UNIT_CHECK(cmos_read(rtc, 0x32) == 0x20, "century byte 0x32 follows the clock", "%02x",
               cmos_read(rtc, 0x32));
    UNIT_REQUIRE(mc146818_ops.write(rtc, 0, 1, 0x8f) == COREMU_MEM_OK, "index", "refused");
    UNIT_CHECK(mc146818_nmi_masked(rtc), "port 0x70 bit 7 masks NMIs", "not masked");
    UNIT_REQUIRE(mc146818_ops.write(rtc, 0, 1, 0x0f) == COREMU_MEM_OK, "index", "refused");
    UNIT_CHECK(!mc146818_nmi_masked(rtc), "port 0x70 bit 7 clear unmasks NMIs", "masked");
    mc146818_free(rtc);
}

static void test_real_clock(void)
{
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "real: I/O thread", "failed");
    static struct irq_probe probe;
    const struct coremu_irq_line line = {probe_set, &probe};
    struct mc146818 *rtc = mc146818_new("rtc", io, &line);
    UNIT_REQUIRE(rtc != NULL, "real: mc146818_new", "NULL");
    /* 64 Hz for 500 ms, acknowledging each interrupt as a driver does. */
    cmos_write(rtc, 0xa, 0x2a);
    (void)cmos_read(rtc, 0xc);
    int64_t start = coremu_clock_ns();
    cmos_write(rtc, 0xb, 0x42);
    unsigned acked = 0;
    while (coremu_clock_ns() - start < NS / 2) {
        if (atomic_load(&probe.level)) {
            if (cmos_read(rtc, 0xc) & 0x40) {
                acked++;
            }
        }
    }
    UNIT_CHECK(acked >= 24 && acked <= 33, "real clock: 64 Hz periodic interrupts over 500 ms",
               "%u", acked);
    mc146818_free(rtc);
    coremu_iothread_free(io);
}

int main(void)
{
    struct coremu_iothread *idle_io = coremu_iothread_new();
    UNIT_REQUIRE(idle_io != NULL, "I/O thread", "NULL");
    test_calendar(idle_io);
    test_uip_and_set(idle_io);
    test_interrupts(idle_io);
    test_nvram(idle_io);
    coremu_iothread_free(idle_io);
    test_real_clock();
    return unit_done();
}
