/*
 * Host-side tests of the PL031 model: the register file driven through its MMIO callbacks, with
 * its match timer on a private I/O thread. Expected values come from the PL031 TRM (DDI 0224).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <coremu/coremu.h>

#include "pl031.h"
#include "../../testsuite/unit/unit.h"

enum { DR = 0x00, MR = 0x04, LR = 0x08, CR = 0x0c, IMSC = 0x10, RIS = 0x14, MIS = 0x18,
       ICR = 0x1c };

/* The interrupt line: set by the RTC on core or I/O threads, read by the test. */
struct irq_probe {
    _Atomic int level;
    _Atomic unsigned changes;
};

static void probe_set(void *opaque, bool level)
{
    struct irq_probe *p = opaque;
    atomic_store(&p->level, level);
    atomic_fetch_add(&p->changes, 1);
}

static uint32_t rd(struct pl031 *r, uint64_t off)
{
    uint64_t v = 0xdeadbeef;
    int res = pl031_mmio_ops.read(r, off, 4, &v);
    if (res != COREMU_MEM_OK) {
        unit_fail("read", "offset 0x%03x: result %d", (unsigned)off, res);
    }
    return (uint32_t)v;
}

static void wr(struct pl031 *r, uint64_t off, uint32_t v)
{
    int res = pl031_mmio_ops.write(r, off, 4, v);
    if (res != COREMU_MEM_OK) {
        unit_fail("write", "offset 0x%03x: result %d", (unsigned)off, res);
    }
}

/* The host's wall clock in seconds, read as the device reads it: time() reads Linux's coarse
 * clock, which lags CLOCK_REALTIME by up to a tick, so around a second boundary it can say one
 * second less than the device just did. */
static uint32_t host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint32_t)ts.tv_sec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to ms for the line to reach level. */
static bool wait_level(struct irq_probe *p, int level, unsigned ms)
{
    for (unsigned t = 0; t < ms; t += 5) {
        if (atomic_load(&p->level) == level) {
            return true;
        }
        sleep_ms(5);
    }
    return atomic_load(&p->level) == level;
}

int main(void)
{
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "I/O thread", "failed");
    struct irq_probe probe;
    atomic_init(&probe.level, 0);
    atomic_init(&probe.changes, 0);
    const struct coremu_irq_line irq = {probe_set, &probe};
    struct pl031 *r = pl031_new("rtc", io, &irq);
    UNIT_REQUIRE(r != NULL, "pl031_new", "NULL");

    static const uint8_t ids[8] = {0x31, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    bool ok = true;
    for (unsigned i = 0; i < 8; i++) {
        if (rd(r, 0xfe0 + 4 * i) != ids[i]) {
            ok = false;
            unit_fail("PrimeCell ID registers", "0x%03x reads 0x%x", 0xfe0 + 4 * i,
                      rd(r, 0xfe0 + 4 * i));
        }
    }
    if (ok) {
        unit_pass("PrimeCell ID registers (periph 0x00041031, cell 0xb105f00d)");
    }

    uint32_t before = host_now();
    uint32_t dr = rd(r, DR);
    uint32_t after = host_now();
    UNIT_CHECK(dr >= before && dr <= after, "RTCDR is the host's wall clock in seconds",
               "%u, host %u..%u", dr, before, after);
    UNIT_CHECK(rd(r, CR) == 1, "RTCCR: started", "0x%x", rd(r, CR));
    wr(r, CR, 0);
    UNIT_CHECK(rd(r, CR) == 1, "RTCCR: once started, writes have no effect", "0x%x", rd(r, CR));
    UNIT_CHECK(rd(r, IMSC) == 0 && rd(r, RIS) == 0 && rd(r, MIS) == 0 && rd(r, MR) == 0,
               "interrupt registers reset to 0", "RIS 0x%x", rd(r, RIS));
    UNIT_CHECK(rd(r, 0x020) == 0 && rd(r, 0x800) == 0, "reserved offsets read as zero", "0x%x",
               rd(r, 0x020));

    wr(r, LR, 1000000);
    dr = rd(r, DR);
    UNIT_CHECK(dr == 1000000 || dr == 1000001, "RTCLR loads the counter", "%u", dr);
    UNIT_CHECK(rd(r, LR) == 1000000, "RTCLR reads the value loaded", "%u", rd(r, LR));
    sleep_ms(1100);
    dr = rd(r, DR);
    UNIT_CHECK(dr >= 1000001 && dr <= 1000002, "the loaded counter keeps counting", "%u", dr);
    wr(r, DR, 5);
    UNIT_CHECK(rd(r, DR) >= 1000001, "RTCDR is read-only", "%u", rd(r, DR));

    /* A match two seconds ahead: nothing before, the interrupt after. */
    wr(r, IMSC, 1);
    dr = rd(r, DR);
    wr(r, MR, dr + 2);
    UNIT_CHECK(rd(r, RIS) == 0 && atomic_load(&probe.level) == 0, "no match before its time",
               "RIS 0x%x", rd(r, RIS));
    bool fired = wait_level(&probe, 1, 4000);
    uint32_t at = rd(r, DR);
    UNIT_CHECK(fired && rd(r, RIS) == 1 && rd(r, MIS) == 1, "match interrupt fires",
               "RIS 0x%x", rd(r, RIS));
    UNIT_CHECK(at >= dr + 2 && at <= dr + 3, "at the matching second", "at %u, match %u", at,
               dr + 2);
    wr(r, IMSC, 0);
    UNIT_CHECK(atomic_load(&probe.level) == 0 && rd(r, MIS) == 0 && rd(r, RIS) == 1,
               "RTCIMSC masks the line, not the raw status", "MIS 0x%x", rd(r, MIS));
    wr(r, IMSC, 1);
    UNIT_CHECK(atomic_load(&probe.level) == 1, "unmasked again: line high", "low");
    wr(r, ICR, 1);
    UNIT_CHECK(atomic_load(&probe.level) == 0 && rd(r, RIS) == 0, "RTCICR clears it",
               "RIS 0x%x", rd(r, RIS));

    /* A match value equal to the counter matches at once; one in the past does not. */
    wr(r, MR, rd(r, DR));
    UNIT_CHECK(rd(r, RIS) == 1 && atomic_load(&probe.level) == 1,
               "match value equal to the counter: immediate", "RIS 0x%x", rd(r, RIS));
    wr(r, ICR, 1);
    wr(r, MR, rd(r, DR) - 10);
    sleep_ms(1500);
    UNIT_CHECK(rd(r, RIS) == 0, "match value in the past: no interrupt", "RIS 0x%x",
               rd(r, RIS));

    /* A load that moves the counter onto a pending match value matches as well. */
    wr(r, MR, 2000000);
    wr(r, LR, 1999999);
    UNIT_CHECK(wait_level(&probe, 1, 3000), "RTCLR below a match: fires on the way",
               "RIS 0x%x", rd(r, RIS));
    wr(r, ICR, 1);

    /* pl031_reset (machine reset): the match logic restarts, the time keeps counting. A match
     * armed before the reset must not fire after it. */
    wr(r, MR, rd(r, DR) + 1);
    wr(r, IMSC, 1);
    uint32_t kept = rd(r, DR);
    pl031_reset(r);
    UNIT_CHECK(rd(r, MR) == 0 && rd(r, IMSC) == 0 && rd(r, RIS) == 0 &&
                   atomic_load(&probe.level) == 0,
               "reset clears RTCMR, RTCIMSC and RTCRIS and lowers the line", "MR 0x%x IMSC 0x%x",
               rd(r, MR), rd(r, IMSC));
    dr = rd(r, DR);
    UNIT_CHECK(dr >= kept && dr <= kept + 1, "reset keeps the time", "%u, before %u", dr, kept);
    wr(r, IMSC, 1);
    sleep_ms(2100);
    UNIT_CHECK(rd(r, RIS) == 0 && atomic_load(&probe.level) == 0,
               "a match armed before the reset does not fire after it", "RIS 0x%x", rd(r, RIS));

    pl031_free(r);
    coremu_iothread_free(io);
    return unit_done();
}
