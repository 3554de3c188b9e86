/*
 * Host-side tests of the 8254 PIT and port 0x61 model (hw/i8254.c), through the device's port
 * callbacks. Most checks step a controllable clock (i8254_set_clock) so that counter values,
 * OUT transitions and IRQ0 edges are checked at the exact virtual nanosecond the 1.193182 MHz
 * input clock puts them; the I/O thread's timer is then never started and the port accesses
 * bring IRQ0 up to date. The last checks run on the real virtual clock with the I/O thread, so
 * their time bounds carry tolerances (never for earliness: an edge before its time is a failure).
 * Linux's PIT calibration of the TSC (counter 2 in mode 0 gated by port 0x61 bit 0, polling bit
 * 5) is run both ways.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <coremu/coremu.h>

#include "i8254.h"
#include "unit.h"

#define HZ I8254_CLOCK_HZ

static _Atomic int64_t fake_ns;

static int64_t fake_clock(void)
{
    return atomic_load(&fake_ns);
}

/* First time at which `ticks` input clocks have elapsed since start (the data sheet's counting,
 * independent of the device's own arithmetic: smallest t with floor(t * HZ / 1e9) >= ticks). */
static int64_t at_tick(int64_t start, uint64_t ticks)
{
    return start + (int64_t)((ticks * 1000000000ull + HZ - 1) / HZ);
}

#define MAX_EDGES 4096

struct irq_probe {
    _Atomic int level;
    _Atomic unsigned rises;
    _Atomic unsigned changes;
    int64_t rise_ns[MAX_EDGES]; /* coremu_clock_ns at each rise (real-clock tests) */
};

static void probe_set(void *opaque, bool level)
{
    struct irq_probe *p = opaque;
    atomic_store(&p->changes, atomic_load(&p->changes) + 1);
    if (level && !atomic_load(&p->level)) {
        unsigned n = atomic_load(&p->rises);
        if (n < MAX_EDGES) {
            p->rise_ns[n] = coremu_clock_ns();
        }
        atomic_store(&p->rises, n + 1);
    }
    atomic_store(&p->level, level);
}

static void out8(struct i8254 *pit, unsigned port, uint8_t v)
{
    int r;
    if (port == 0x61) {
        r = i8254_port61_ops.write(pit, 0, 1, v);
    } else {
        r = i8254_pit_ops.write(pit, port - 0x40, 1, v);
    }
    UNIT_REQUIRE(r == COREMU_MEM_OK, "out8", "port 0x%x refused", port);
}

static uint8_t in8(struct i8254 *pit, unsigned port)
{
    uint64_t v = 0;
    int r;
    if (port == 0x61) {
        r = i8254_port61_ops.read(pit, 0, 1, &v);
    } else {
        r = i8254_pit_ops.read(pit, port - 0x40, 1, &v);
    }
    UNIT_REQUIRE(r == COREMU_MEM_OK, "in8", "port 0x%x refused", port);
    return (uint8_t)v;
}

static struct i8254 *new_fake_pit(struct coremu_iothread *idle_io, struct irq_probe *probe)
{
    const struct coremu_irq_line line = {probe_set, probe};
    struct i8254 *pit = i8254_new("pit", idle_io, probe != NULL ? &line : NULL);
    UNIT_REQUIRE(pit != NULL, "i8254_new", "NULL");
    i8254_set_clock(pit, fake_clock);
    return pit;
}

/* Latches counter idx with the counter latch command and reads LSB then MSB. */
static unsigned latch_read(struct i8254 *pit, unsigned idx)
{
    out8(pit, 0x43, (uint8_t)(idx << 6));
    unsigned lo = in8(pit, 0x40 + idx);
    unsigned hi = in8(pit, 0x40 + idx);
    return lo | hi << 8;
}

/* Linux's pit_calibrate_tsc: gate high, speaker off, counter 2 mode 0 with `latch`, poll bit 5. */
static void start_calibration(struct i8254 *pit, unsigned latch)
{
    out8(pit, 0x61, (uint8_t)((in8(pit, 0x61) & ~0x02u) | 0x01u));
    out8(pit, 0x43, 0xb0);
    out8(pit, 0x42, (uint8_t)(latch & 0xff));
    out8(pit, 0x42, (uint8_t)(latch >> 8));
}

static void test_calibration_fake(struct coremu_iothread *io)
{
    struct i8254 *pit = new_fake_pit(io, NULL);
    const unsigned latch = HZ / 100; /* 10 ms, CAL_MS = 10 */
    atomic_store(&fake_ns, 1000000);
    start_calibration(pit, latch);
    int64_t t0 = 1000000;
    UNIT_CHECK((in8(pit, 0x61) & 0x20) == 0, "calibration: OUT2 low after programming",
               "0x61 = 0x%02x", in8(pit, 0x61));
    atomic_store(&fake_ns, at_tick(t0, latch) - 1);
    UNIT_CHECK((in8(pit, 0x61) & 0x20) == 0, "calibration: OUT2 still low 1 ns before terminal",
               "0x61 = 0x%02x", in8(pit, 0x61));
    UNIT_CHECK(latch_read(pit, 2) == 1, "calibration: count 1 just before terminal", "%u",
               latch_read(pit, 2));
    atomic_store(&fake_ns, at_tick(t0, latch));
    UNIT_CHECK((in8(pit, 0x61) & 0x23) == 0x21, "calibration: OUT2 high exactly at terminal count",
               "0x61 = 0x%02x", in8(pit, 0x61));
    atomic_store(&fake_ns, at_tick(t0, latch) + 5 * 1000000);
    UNIT_CHECK((in8(pit, 0x61) & 0x20) != 0, "calibration: OUT2 stays high", "0x61 = 0x%02x",
               in8(pit, 0x61));

    /* The gate: low suspends the count, high resumes it where it stopped. */
    out8(pit, 0x43, 0xb0);
    out8(pit, 0x42, 0x00);
    out8(pit, 0x42, 0x10); /* 4096 */
    t0 = atomic_load(&fake_ns);
    atomic_store(&fake_ns, at_tick(t0, 96));
    out8(pit, 0x61, 0x00); /* gate low */
    atomic_store(&fake_ns, t0 + 50 * 1000000);
    UNIT_CHECK(latch_read(pit, 2) == 4000, "gate low suspends counter 2 (mode 0)", "count %u",
               latch_read(pit, 2));
    UNIT_CHECK((in8(pit, 0x61) & 0x21) == 0, "gate bit reads back low, OUT2 low",
               "0x61 = 0x%02x", in8(pit, 0x61));
    int64_t t1 = atomic_load(&fake_ns);
    out8(pit, 0x61, 0x01);
    atomic_store(&fake_ns, at_tick(t1, 3999));
    UNIT_CHECK(latch_read(pit, 2) == 1 && (in8(pit, 0x61) & 0x20) == 0,
               "gate high resumes the count", "count %u", latch_read(pit, 2));
    atomic_store(&fake_ns, at_tick(t1, 4000));
    UNIT_CHECK((in8(pit, 0x61) & 0x20) != 0, "resumed count reaches terminal on time",
               "0x61 = 0x%02x", in8(pit, 0x61));
    i8254_free(pit);
}

static void test_port61_bits(struct coremu_iothread *io)
{
    struct i8254 *pit = new_fake_pit(io, NULL);
    atomic_store(&fake_ns, 0);
    uint8_t a = in8(pit, 0x61) & 0x10;
    atomic_store(&fake_ns, 15085);
    uint8_t b = in8(pit, 0x61) & 0x10;
    atomic_store(&fake_ns, 2 * 15085);
    uint8_t c = in8(pit, 0x61) & 0x10;
    UNIT_CHECK(a == 0 && b == 0x10 && c == 0, "port 0x61 refresh toggle every 15.085 us",
               "%02x %02x %02x", a, b, c);
    out8(pit, 0x61, 0xff);
    UNIT_CHECK((in8(pit, 0x61) & 0xcf) == 0x0f, "port 0x61 stores bits 3-0, bits 7-6 read 0",
               "0x%02x", in8(pit, 0x61));
    i8254_reset(pit);
    UNIT_CHECK((in8(pit, 0x61) & 0x0f) == 0, "reset clears port 0x61", "0x%02x", in8(pit, 0x61));
    i8254_free(pit);
}

static void test_latch_readback_bcd(struct coremu_iothread *io)
{
    struct irq_probe probe = {0};
    struct i8254 *pit = new_fake_pit(io, &probe);
    atomic_store(&fake_ns, 5000);

    out8(pit, 0x43, 0x34); /* counter 0, LSB/MSB, mode 2, binary */
    out8(pit, 0x43, 0xe2); /* read-back: count and status of counter 0 */
    UNIT_CHECK(in8(pit, 0x40) == 0xf4, "status: OUT high, null count, LSB/MSB, mode 2",
               "status 0x%02x", in8(pit, 0x40));
    out8(pit, 0x40, 0xe8);
    out8(pit, 0x40, 0x03); /* 1000 */
    int64_t t0 = 5000;
    atomic_store(&fake_ns, at_tick(t0, 250));
    out8(pit, 0x43, 0xc2); /* read-back count and status */
    atomic_store(&fake_ns, at_tick(t0, 400)); /* latched values do not move */
    uint8_t st = in8(pit, 0x40);
    unsigned cnt = in8(pit, 0x40);
    cnt |= (unsigned)in8(pit, 0x40) << 8;
    UNIT_CHECK(st == 0xb4 && cnt == 750, "read-back latches status then count",
               "status 0x%02x count %u", st, cnt);
    /* A second latch command while one is pending is ignored. */
    out8(pit, 0x43, 0x00);
    atomic_store(&fake_ns, at_tick(t0, 500));
    out8(pit, 0x43, 0x00);
    cnt = in8(pit, 0x40);
    cnt |= (unsigned)in8(pit, 0x40) << 8;
    UNIT_CHECK(cnt == 600, "counter latch holds the first latched value", "count %u", cnt);
    /* Mode 2 reloads: at 1000 + 10 clocks the count is 990 again. */
    atomic_store(&fake_ns, at_tick(t0, 1010));
    UNIT_CHECK(latch_read(pit, 0) == 990, "mode 2 reloads every N clocks", "%u",
               latch_read(pit, 0));

    /* LSB-only and MSB-only access. */
    out8(pit, 0x43, 0x50); /* counter 1, LSB only, mode 0 */
    out8(pit, 0x41, 200);
    t0 = atomic_load(&fake_ns);
    atomic_store(&fake_ns, at_tick(t0, 50));
    UNIT_CHECK(in8(pit, 0x41) == 150 && in8(pit, 0x41) == 150, "LSB-only access",
               "%u", in8(pit, 0x41));
    out8(pit, 0x43, 0x64); /* counter 1, MSB only, mode 2 */
    out8(pit, 0x41, 0x02); /* 512 */
    t0 = atomic_load(&fake_ns);
    atomic_store(&fake_ns, at_tick(t0, 256));
    UNIT_CHECK(in8(pit, 0x41) == 0x01, "MSB-only access", "%u", in8(pit, 0x41));

    /* BCD: 1000 in BCD counts down through 0999. */
    out8(pit, 0x43, 0x71); /* counter 1, LSB/MSB, mode 0, BCD */
    out8(pit, 0x41, 0x00);
    out8(pit, 0x41, 0x10);
    t0 = atomic_load(&fake_ns);
    atomic_store(&fake_ns, at_tick(t0, 1));
    UNIT_CHECK(latch_read(pit, 1) == 0x0999, "BCD count 1000 -> 0999", "0x%04x",
               latch_read(pit, 1));
    atomic_store(&fake_ns, at_tick(t0, 1001));
    UNIT_CHECK(latch_read(pit, 1) == 0x9999, "BCD count wraps through 0 to 9999", "0x%04x",
               latch_read(pit, 1));
    i8254_free(pit);
}

static void test_square_wave(struct coremu_iothread *io)
{
    struct i8254 *pit = new_fake_pit(io, NULL);
    atomic_store(&fake_ns, 777);
    out8(pit, 0x61, 0x01);
    out8(pit, 0x43, 0xb6); /* counter 2, LSB/MSB, mode 3 */
    out8(pit, 0x42, 101);
    out8(pit, 0x42, 0);
    int64_t t0 = 777;
    bool ok = true;
    char why[64] = "";
    for (uint64_t t = 0; t < 303 && ok; t++) {
        atomic_store(&fake_ns, at_tick(t0, t));
        bool out = (in8(pit, 0x61) & 0x20) != 0;
        bool want = t % 101 < 51; /* odd N: high one clock longer */
        if (out != want) {
            ok = false;
            snprintf(why, sizeof(why), "tick %llu: OUT %d", (unsigned long long)t, out);
        }
    }
    UNIT_CHECK(ok, "mode 3: OUT high 51, low 50 clocks for N = 101", "%s", why);
    atomic_store(&fake_ns, at_tick(t0, 10));
    UNIT_CHECK(latch_read(pit, 2) == 80, "mode 3 counts down by two", "%u", latch_read(pit, 2));
    out8(pit, 0x61, 0x00);
    UNIT_CHECK((in8(pit, 0x61) & 0x20) != 0, "mode 3: gate low forces OUT high", "0x%02x",
               in8(pit, 0x61));
    i8254_free(pit);
}

static void test_irq0_fake(struct coremu_iothread *io)
{
    struct irq_probe probe = {0};
    struct i8254 *pit = new_fake_pit(io, &probe);
    atomic_store(&fake_ns, 123456);
    /* Mode 0 one-shot: the line falls at programming, rises at terminal count. */
    out8(pit, 0x43, 0x30);
    out8(pit, 0x40, 0x00);
    out8(pit, 0x40, 0x01); /* 256 */
    int64_t t0 = 123456;
    atomic_store(&fake_ns, at_tick(t0, 256) - 1);
    (void)in8(pit, 0x61);
    UNIT_CHECK(atomic_load(&probe.level) == 0, "mode 0: IRQ0 low before terminal count", "high");
    atomic_store(&fake_ns, at_tick(t0, 256));
    (void)in8(pit, 0x61);
    UNIT_CHECK(atomic_load(&probe.level) == 1 && atomic_load(&probe.rises) == 1,
               "mode 0: IRQ0 rises at terminal count", "level %d rises %u",
               atomic_load(&probe.level), atomic_load(&probe.rises));

    /* Mode 2 with N = 1193: one rising edge per period, at start + k * N clocks exactly, with
     * no drift over 1000 periods. */
    out8(pit, 0x43, 0x34);
    out8(pit, 0x40, 1193 & 0xff);
    out8(pit, 0x40, 1193 >> 8);
    t0 = atomic_load(&fake_ns);
    unsigned base = atomic_load(&probe.rises); /* includes the edge of programming mode 2 */
    bool ok = true;
    char why[96] = "";
    for (uint64_t k = 1; k <= 1000 && ok; k++) {
        atomic_store(&fake_ns, at_tick(t0, k * 1193) - 1);
        (void)in8(pit, 0x61);
        unsigned before = atomic_load(&probe.rises) - base;
        atomic_store(&fake_ns, at_tick(t0, k * 1193));
        (void)in8(pit, 0x61);
        unsigned after = atomic_load(&probe.rises) - base;
        if (before != k - 1 || after != k) {
            ok = false;
            snprintf(why, sizeof(why), "period %llu: %u edges before, %u at",
                     (unsigned long long)k, before, after);
        }
    }
    UNIT_CHECK(ok, "mode 2: IRQ0 edge exactly every N clocks for 1000 periods", "%s", why);
    UNIT_CHECK(atomic_load(&probe.level) == 1, "mode 2: IRQ0 rests high between edges", "low");
    i8254_reset(pit);
    UNIT_CHECK(atomic_load(&probe.level) == 0, "reset lowers IRQ0", "high");
    i8254_free(pit);
}

static void test_triggered_modes(struct coremu_iothread *io)
{
    struct irq_probe probe = {0};
    struct i8254 *pit = new_fake_pit(io, &probe);
    atomic_store(&fake_ns, 1000);
    /* Mode 1 on counter 2: OUT high until the gate rises, then low for N clocks. */
    out8(pit, 0x61, 0x00);
    out8(pit, 0x43, 0xb2); /* counter 2, LSB/MSB, mode 1 */
    out8(pit, 0x42, 50);
    out8(pit, 0x42, 0);
    atomic_store(&fake_ns, 500000);
    UNIT_CHECK((in8(pit, 0x61) & 0x20) != 0 && latch_read(pit, 2) == 50,
               "mode 1: waits for the gate with OUT high", "count %u", latch_read(pit, 2));
    out8(pit, 0x61, 0x01);
    int64_t t0 = 500000;
    atomic_store(&fake_ns, at_tick(t0, 49));
    UNIT_CHECK((in8(pit, 0x61) & 0x20) == 0 && latch_read(pit, 2) == 1,
               "mode 1: OUT low while the one-shot counts", "count %u", latch_read(pit, 2));
    atomic_store(&fake_ns, at_tick(t0, 50));
    UNIT_CHECK((in8(pit, 0x61) & 0x20) != 0, "mode 1: OUT high at terminal count", "low");
    /* Retrigger: the gate falls and rises again. */
    out8(pit, 0x61, 0x00);
    t0 = at_tick(t0, 60);
    atomic_store(&fake_ns, t0);
    out8(pit, 0x61, 0x01);
    atomic_store(&fake_ns, at_tick(t0, 10));
    UNIT_CHECK((in8(pit, 0x61) & 0x20) == 0 && latch_read(pit, 2) == 40,
               "mode 1: a new gate edge retriggers", "count %u", latch_read(pit, 2));

    /* Mode 5: a one-clock low strobe N clocks after the gate edge. */
    out8(pit, 0x61, 0x00);
    out8(pit, 0x43, 0xba); /* counter 2, LSB/MSB, mode 5 */
    out8(pit, 0x42, 20);
    out8(pit, 0x42, 0);
    t0 = atomic_load(&fake_ns);
    out8(pit, 0x61, 0x01);
    atomic_store(&fake_ns, at_tick(t0, 19));
    bool before = (in8(pit, 0x61) & 0x20) != 0;
    atomic_store(&fake_ns, at_tick(t0, 20));
    bool strobe = (in8(pit, 0x61) & 0x20) != 0;
    atomic_store(&fake_ns, at_tick(t0, 21));
    bool after = (in8(pit, 0x61) & 0x20) != 0;
    UNIT_CHECK(before && !strobe && after, "mode 5: strobe low for one clock at terminal count",
               "%d %d %d", before, strobe, after);

    /* Mode 4 on counter 0: one IRQ0 edge when the strobe ends. */
    out8(pit, 0x43, 0x38); /* counter 0, LSB/MSB, mode 4 */
    unsigned rises = atomic_load(&probe.rises);
    out8(pit, 0x40, 100);
    out8(pit, 0x40, 0);
    t0 = atomic_load(&fake_ns);
    atomic_store(&fake_ns, at_tick(t0, 100));
    (void)in8(pit, 0x61);
    unsigned at_strobe = atomic_load(&probe.rises) - rises;
    atomic_store(&fake_ns, at_tick(t0, 101));
    (void)in8(pit, 0x61);
    unsigned after_strobe = atomic_load(&probe.rises) - rises;
    atomic_store(&fake_ns, at_tick(t0, 100000));
    (void)in8(pit, 0x61);
    UNIT_CHECK(at_strobe == 0 && after_strobe == 1 && atomic_load(&probe.rises) - rises == 1,
               "mode 4: exactly one IRQ0 edge, at the end of the strobe", "%u %u %u", at_strobe,
               after_strobe, atomic_load(&probe.rises) - rises);
    i8254_free(pit);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_real_clock(void)
{
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "real: I/O thread", "failed");
    static struct irq_probe probe;
    const struct coremu_irq_line line = {probe_set, &probe};
    struct i8254 *pit = i8254_new("pit", io, &line);
    UNIT_REQUIRE(pit != NULL, "real: i8254_new", "NULL");

    /* Linux's calibration loop on the real virtual clock: 10 ms, never early. */
    const unsigned latch = HZ / 100;
    int64_t before = coremu_clock_ns();
    start_calibration(pit, latch);
    int64_t polls = 0;
    while ((in8(pit, 0x61) & 0x20) == 0) {
        polls++;
    }
    int64_t elapsed = coremu_clock_ns() - before;
    UNIT_CHECK(elapsed >= at_tick(0, latch) && elapsed < at_tick(0, latch) + 200 * 1000000LL,
               "real clock: calibration loop lasts 10 ms of virtual time",
               "%lld ns after %lld polls", (long long)elapsed, (long long)polls);

    /* IRQ0 from the I/O thread's timer: mode 2, 10 ms period, for 500 ms. */
    const unsigned n = 11932;
    out8(pit, 0x43, 0x34);
    unsigned base = atomic_load(&probe.rises);
    int64_t start = coremu_clock_ns();
    out8(pit, 0x40, n & 0xff);
    out8(pit, 0x40, n >> 8);
    sleep_ms(500);
    unsigned got = atomic_load(&probe.rises) - base;
    int64_t end = coremu_clock_ns();
    uint64_t due = (uint64_t)((unsigned __int128)(end - start) * HZ / 1000000000u) / n;
    UNIT_CHECK(got + 5 >= due && got <= due + 1,
               "real clock: IRQ0 edges over 500 ms match the period", "%u edges, %llu due", got,
               (unsigned long long)due);
    bool early = false;
    for (unsigned i = 1; i <= got && base + i - 1 < MAX_EDGES; i++) {
        if (probe.rise_ns[base + i - 1] < at_tick(start, (uint64_t)i * n)) {
            early = true;
        }
    }
    UNIT_CHECK(!early, "real clock: no IRQ0 edge before its time", "an edge came early");
    i8254_free(pit);
    coremu_iothread_free(io);
}

static _Atomic bool pollers_stop;

/* A core polling the PIT as the calibration loop and a clocksource read do. */
static void *poller_main(void *opaque)
{
    struct i8254 *pit = opaque;
    unsigned long n = 0;
    while (!atomic_load(&pollers_stop)) {
        (void)in8(pit, 0x61);
        out8(pit, 0x43, 0x00);
        (void)in8(pit, 0x40);
        (void)in8(pit, 0x40);
        n++;
    }
    return (void *)n;
}

/* Two polling cores and the I/O thread's 1 kHz IRQ0 on one PIT: under TSan this is the check
 * that one lock covers both callers; the edges keep coming meanwhile. */
static void test_concurrent(void)
{
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "concurrent: I/O thread", "fail");
    static struct irq_probe probe;
    const struct coremu_irq_line line = {probe_set, &probe};
    struct i8254 *pit = i8254_new("pit", io, &line);
    UNIT_REQUIRE(pit != NULL, "concurrent: i8254_new", "NULL");
    out8(pit, 0x43, 0x34);
    out8(pit, 0x40, 1193 & 0xff);
    out8(pit, 0x40, 1193 >> 8);
    /* the count started at the last write: the edges are counted against the virtual time
     * that actually passed (a loaded host oversleeps the 200 ms, and joins take their time) */
    int64_t t0 = coremu_clock_ns();
    unsigned base = atomic_load(&probe.rises);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        UNIT_REQUIRE(pthread_create(&th[i], NULL, poller_main, pit) == 0, "concurrent: thread",
                     "failed");
    }
    sleep_ms(200);
    atomic_store(&pollers_stop, true);
    unsigned long polls = 0;
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(th[i], &r);
        polls += (unsigned long)r;
    }
    int64_t t_before = coremu_clock_ns();
    unsigned got = atomic_load(&probe.rises) - base;
    int64_t t_after = coremu_clock_ns();
    /* 1193 input clocks of 1.193182 MHz: one edge every 999,847 ns */
    const int64_t period = (int64_t)1193 * 1000000000 / 1193182;
    /* never more edges than periods passed; at least half of them (the check is that the
     * edges keep coming while the pollers hold the lock, not how punctually: two polling
     * threads can keep the I/O thread off a 2-core host for a while, more so under TSan) */
    int64_t lo = (t_before - t0) / period / 2, hi = (t_after - t0) / period + 2;
    UNIT_CHECK(polls > 0 && got >= 100 && (int64_t)got >= lo && (int64_t)got <= hi,
               "concurrent: IRQ0 edges continue while two threads poll",
               "%u edges (expected %lld to %lld for the time passed), %lu polls", got,
               (long long)lo, (long long)hi, polls);
    i8254_free(pit);
    coremu_iothread_free(io);
}

int main(void)
{
    /* Never started: the fake-clock tests drive everything through the ports. */
    struct coremu_iothread *idle_io = coremu_iothread_new();
    UNIT_REQUIRE(idle_io != NULL, "I/O thread", "NULL");
    test_calibration_fake(idle_io);
    test_port61_bits(idle_io);
    test_latch_readback_bcd(idle_io);
    test_square_wave(idle_io);
    test_irq0_fake(idle_io);
    test_triggered_modes(idle_io);
    coremu_iothread_free(idle_io);
    test_real_clock();
    test_concurrent();
    return unit_done();
}
