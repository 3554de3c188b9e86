/*
 * Host-side tests of the HPET model (hw/hpet.c), through its register callbacks. The device
 * reads a controllable clock (hpet_set_clock), so the main counter, comparator matches, periodic
 * accumulation and the interrupt lines are checked at exact virtual times: the capabilities, the
 * counter halting and running at 10 MHz, a level-triggered one-shot with write-1-to-clear
 * status, Linux's legacy-replacement periodic sequence (VAL_SET, then the period) with one edge
 * per period and no drift, coalescing of missed periods, the 32-bit mode's wrap, routing against
 * the capability mask and the unsupported FSB registers. The last check runs a periodic timer on
 * the real virtual clock with the I/O thread, with a tolerance on the count.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <coremu/coremu.h>

#include "hpet.h"
#include "unit.h"

#define CAP     0x000u
#define CONFIG  0x010u
#define ISR     0x020u
#define COUNTER 0x0f0u
#define TCONF(n) (0x100u + 0x20u * (n))
#define TCMP(n)  (0x108u + 0x20u * (n))
#define TFSB(n)  (0x110u + 0x20u * (n))

#define ENABLE 0x1u
#define LEG_RT 0x2u
#define LEVEL  0x002u
#define INT_ENB 0x004u
#define PERIODIC 0x008u
#define VAL_SET 0x040u
#define MODE32 0x100u
#define ROUTE(r) ((uint64_t)(r) << 9)

static _Atomic int64_t fake_ns;

static int64_t fake_clock(void)
{
    return atomic_load(&fake_ns);
}

struct probe {
    _Atomic int level;
    _Atomic unsigned rises;
};

static struct probe probes[HPET_NUM_IRQS];

static void probe_set(void *opaque, bool level)
{
    struct probe *p = opaque;
    if (level && !atomic_load(&p->level)) {
        atomic_fetch_add(&p->rises, 1);
    }
    atomic_store(&p->level, level);
}

static uint64_t rd(struct hpet *h, unsigned off, unsigned size)
{
    uint64_t v = 0;
    UNIT_REQUIRE(hpet_mmio_ops.read(h, off, size, &v) == COREMU_MEM_OK, "read", "refused");
    return v;
}

static void wr(struct hpet *h, unsigned off, unsigned size, uint64_t v)
{
    UNIT_REQUIRE(hpet_mmio_ops.write(h, off, size, v) == COREMU_MEM_OK, "write", "refused");
}

static struct hpet *new_hpet(struct coremu_iothread *io)
{
    struct coremu_irq_line lines[HPET_NUM_IRQS];
    for (unsigned i = 0; i < HPET_NUM_IRQS; i++) {
        atomic_store(&probes[i].level, 0);
        atomic_store(&probes[i].rises, 0);
        lines[i] = (struct coremu_irq_line){probe_set, &probes[i]};
    }
    struct hpet *h = hpet_new("hpet", io, lines);
    UNIT_REQUIRE(h != NULL, "hpet_new", "NULL");
    hpet_set_clock(h, fake_clock);
    return h;
}

static void test_registers(struct coremu_iothread *io)
{
    struct hpet *h = new_hpet(io);
    atomic_store(&fake_ns, 1000);
    uint64_t cap = rd(h, CAP, 8);
    UNIT_CHECK(cap == (100000000ull << 32 | 0x8086u << 16 | 0xa201u),
               "capabilities: 100,000,000 fs, 8086, legacy, 64-bit, 3 timers, rev 1", "0x%llx",
               (unsigned long long)cap);
    UNIT_CHECK(rd(h, CAP + 4, 4) == 100000000u && rd(h, CAP, 4) == 0x8086a201u,
               "capabilities by 32-bit halves", "0x%llx", (unsigned long long)rd(h, CAP + 4, 4));
    uint64_t tc = rd(h, TCONF(1), 8);
    UNIT_CHECK(tc == ((uint64_t)HPET_ROUTE_CAP << 32 | 0x30u),
               "timer: PER_INT_CAP, SIZE_CAP, route capability 20-23, no FSB", "0x%llx",
               (unsigned long long)tc);
    UNIT_CHECK(rd(h, TCMP(0), 8) == ~0ull, "comparator resets to all ones", "0x%llx",
               (unsigned long long)rd(h, TCMP(0), 8));
    wr(h, TCONF(1), 8, 0xffffffffffffffffull);
    UNIT_CHECK(rd(h, TCONF(1), 4) == 0x3f7eu,
               "timer config: only the writable bits stick (FSB_EN stays 0)", "0x%llx",
               (unsigned long long)rd(h, TCONF(1), 4));
    wr(h, TFSB(1), 8, 0x123456789ull);
    UNIT_CHECK(rd(h, TFSB(1), 8) == 0, "FSB route register reads 0, ignores writes", "0x%llx",
               (unsigned long long)rd(h, TFSB(1), 8));
    hpet_reset(h);

    /* The main counter: halted, then 10 MHz of virtual time. */
    atomic_store(&fake_ns, 5000);
    UNIT_CHECK(rd(h, COUNTER, 8) == 0, "counter halted at 0 after reset", "%llu",
               (unsigned long long)rd(h, COUNTER, 8));
    wr(h, CONFIG, 4, ENABLE);
    atomic_store(&fake_ns, 5000 + 12345);
    UNIT_CHECK(rd(h, COUNTER, 8) == 123, "counter counts 100 ns ticks while enabled", "%llu",
               (unsigned long long)rd(h, COUNTER, 8));
    wr(h, CONFIG, 4, 0);
    atomic_store(&fake_ns, 5000 + 99999);
    UNIT_CHECK(rd(h, COUNTER, 8) == 123, "disabling halts the counter", "%llu",
               (unsigned long long)rd(h, COUNTER, 8));
    wr(h, COUNTER + 4, 4, 0x1);
    UNIT_CHECK(rd(h, COUNTER, 8) == 0x10000007bull && rd(h, COUNTER + 4, 4) == 1,
               "counter written by its upper half", "0x%llx",
               (unsigned long long)rd(h, COUNTER, 8));
    hpet_free(h);
}

static void test_level_oneshot(struct coremu_iothread *io)
{
    struct hpet *h = new_hpet(io);
    atomic_store(&fake_ns, 0);
    wr(h, TCONF(2), 8, LEVEL | INT_ENB | ROUTE(21));
    wr(h, TCMP(2), 8, 1000);
    wr(h, CONFIG, 8, ENABLE);
    atomic_store(&fake_ns, 1000 * 100 - 1);
    UNIT_CHECK(rd(h, ISR, 8) == 0 && atomic_load(&probes[21].level) == 0,
               "level one-shot: nothing before the match", "ISR 0x%llx",
               (unsigned long long)rd(h, ISR, 8));
    atomic_store(&fake_ns, 1000 * 100);
    UNIT_CHECK(rd(h, ISR, 8) == 4 && atomic_load(&probes[21].level) == 1,
               "level one-shot: status bit 2 and input 21 high at the match", "ISR 0x%llx",
               (unsigned long long)rd(h, ISR, 8));
    wr(h, ISR, 8, 3); /* other timers' bits: no effect */
    UNIT_CHECK(rd(h, ISR, 8) == 4, "status write-1-to-clear leaves other bits", "ISR 0x%llx",
               (unsigned long long)rd(h, ISR, 8));
    wr(h, ISR, 4, 4);
    UNIT_CHECK(rd(h, ISR, 8) == 0 && atomic_load(&probes[21].level) == 0,
               "writing 1 clears the status and lowers the line", "ISR 0x%llx",
               (unsigned long long)rd(h, ISR, 8));
    atomic_store(&fake_ns, 1000 * 100 * 50);
    UNIT_CHECK(rd(h, ISR, 8) == 0, "a 64-bit one-shot matches once", "ISR 0x%llx",
               (unsigned long long)rd(h, ISR, 8));

    /* Status without INT_ENB, and a route outside the capability. */
    wr(h, TCONF(2), 8, LEVEL | ROUTE(21));
    wr(h, TCMP(2), 8, rd(h, COUNTER, 8) + 10);
    wr(h, TCONF(1), 8, LEVEL | INT_ENB | ROUTE(5));
    wr(h, TCMP(1), 8, rd(h, COUNTER, 8) + 10);
    atomic_store(&fake_ns, 1000 * 100 * 50 + 10 * 100);
    UNIT_CHECK(rd(h, ISR, 8) == 6 && atomic_load(&probes[21].level) == 0 &&
               atomic_load(&probes[5].level) == 0,
               "disabled or unroutable timers set status but raise no line", "ISR 0x%llx",
               (unsigned long long)rd(h, ISR, 8));
    wr(h, TCONF(2), 8, LEVEL | INT_ENB | ROUTE(21));
    UNIT_CHECK(atomic_load(&probes[21].level) == 1, "enabling a timer with status set raises it",
               "low");
    hpet_reset(h);
    UNIT_CHECK(atomic_load(&probes[21].level) == 0 && rd(h, ISR, 8) == 0,
               "reset lowers the lines and clears status", "high");
    hpet_free(h);
}

static void test_legacy_periodic(struct coremu_iothread *io)
{
    struct hpet *h = new_hpet(io);
    atomic_store(&fake_ns, 777);
    wr(h, CONFIG, 4, ENABLE | LEG_RT);
    UNIT_CHECK(hpet_legacy_mode(h), "legacy replacement reported to the board", "no");
    /* Linux's hpet_clkevt_set_state_periodic, with a period of 1234 ticks. */
    const uint64_t period = 1234;
    atomic_store(&fake_ns, 777 + 5000 * 100 + 37);
    wr(h, TCONF(0), 4, INT_ENB | PERIODIC | VAL_SET | MODE32);
    uint64_t now = rd(h, COUNTER, 4);
    wr(h, TCMP(0), 4, now + period);
    wr(h, TCMP(0), 4, period);
    UNIT_CHECK(now == 5000 && rd(h, TCMP(0), 4) == 5000 + period &&
               (rd(h, TCONF(0), 4) & VAL_SET) == 0,
               "VAL_SET write sets the comparator, the next the period", "cmp %llu",
               (unsigned long long)rd(h, TCMP(0), 4));
    bool ok = true;
    char why[96] = "";
    for (uint64_t k = 1; k <= 500 && ok; k++) {
        int64_t due = 777 + (int64_t)(5000 + k * period) * 100;
        atomic_store(&fake_ns, due - 1);
        (void)rd(h, ISR, 4);
        unsigned before = atomic_load(&probes[2].rises);
        atomic_store(&fake_ns, due);
        (void)rd(h, ISR, 4);
        unsigned after = atomic_load(&probes[2].rises);
        if (before != k - 1 || after != k) {
            ok = false;
            snprintf(why, sizeof(why), "period %llu: %u then %u edges", (unsigned long long)k,
                     before, after);
        }
    }
    UNIT_CHECK(ok, "legacy timer 0: one edge on input 2 per period for 500 periods", "%s", why);
    UNIT_CHECK(atomic_load(&probes[2].level) == 0 && rd(h, ISR, 4) == 0,
               "edge mode: line rests low, no status bit", "level %d",
               atomic_load(&probes[2].level));
    UNIT_CHECK(rd(h, TCMP(0), 4) == 5000 + 501 * period, "comparator accumulates the period",
               "%llu", (unsigned long long)rd(h, TCMP(0), 4));
    /* Ten and a half periods at once: one edge, the comparator past the counter. */
    unsigned r0 = atomic_load(&probes[2].rises);
    atomic_store(&fake_ns, 777 + (int64_t)(5000 + 510 * period + period / 2) * 100);
    (void)rd(h, ISR, 4);
    UNIT_CHECK(atomic_load(&probes[2].rises) == r0 + 1 &&
               rd(h, TCMP(0), 4) == 5000 + 511 * period,
               "missed periods coalesce into one edge", "%u edges, cmp %llu",
               atomic_load(&probes[2].rises) - r0, (unsigned long long)rd(h, TCMP(0), 4));

    /* Timer 1 in legacy mode drives input 8 (IRQ8). */
    wr(h, TCONF(1), 4, INT_ENB | ROUTE(22));
    wr(h, TCMP(1), 8, rd(h, COUNTER, 8) + 3);
    atomic_store(&fake_ns, atomic_load(&fake_ns) + 300);
    (void)rd(h, ISR, 4);
    UNIT_CHECK(atomic_load(&probes[8].rises) == 1 && atomic_load(&probes[22].rises) == 0,
               "legacy timer 1 drives input 8, not its route", "8: %u, 22: %u",
               atomic_load(&probes[8].rises), atomic_load(&probes[22].rises));
    wr(h, CONFIG, 4, ENABLE);
    UNIT_CHECK(!hpet_legacy_mode(h), "legacy replacement off", "on");
    hpet_free(h);
}

static void test_32bit_wrap(struct coremu_iothread *io)
{
    struct hpet *h = new_hpet(io);
    atomic_store(&fake_ns, 0);
    wr(h, COUNTER, 8, 0x2ffffff00ull);
    wr(h, TCONF(2), 4, LEVEL | INT_ENB | MODE32 | ROUTE(23));
    wr(h, TCMP(2), 8, 0xabc00000010ull);
    UNIT_CHECK(rd(h, TCMP(2), 8) == 0x10, "32-bit mode keeps the comparator's low half",
               "0x%llx", (unsigned long long)rd(h, TCMP(2), 8));
    wr(h, CONFIG, 4, ENABLE);
    atomic_store(&fake_ns, (0x110 - 1) * 100);
    UNIT_CHECK(rd(h, ISR, 4) == 0, "32-bit one-shot: no match before the wrap", "status");
    atomic_store(&fake_ns, 0x110 * 100);
    UNIT_CHECK(rd(h, ISR, 4) == 4 && atomic_load(&probes[23].level) == 1,
               "32-bit one-shot matches the low half after the wrap", "ISR 0x%llx",
               (unsigned long long)rd(h, ISR, 4));
    hpet_free(h);
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
    struct coremu_irq_line lines[HPET_NUM_IRQS];
    for (unsigned i = 0; i < HPET_NUM_IRQS; i++) {
        lines[i] = (struct coremu_irq_line){probe_set, &probes[i]};
    }
    struct hpet *h = hpet_new("hpet", io, lines);
    UNIT_REQUIRE(h != NULL, "real: hpet_new", "NULL");
    /* Timer 0 periodic every 5 ms (50,000 ticks) on input 2, for 500 ms. */
    wr(h, CONFIG, 4, ENABLE | LEG_RT);
    wr(h, TCONF(0), 4, INT_ENB | PERIODIC | VAL_SET);
    unsigned base = atomic_load(&probes[2].rises);
    wr(h, TCMP(0), 8, rd(h, COUNTER, 8) + 50000);
    wr(h, TCMP(0), 8, 50000);
    sleep_ms(500);
    unsigned got = atomic_load(&probes[2].rises) - base;
    UNIT_CHECK(got >= 90 && got <= 101, "real clock: 5 ms periodic timer over 500 ms",
               "%u edges", got);
    hpet_free(h);
    coremu_iothread_free(io);
}

int main(void)
{
    struct coremu_iothread *idle_io = coremu_iothread_new();
    UNIT_REQUIRE(idle_io != NULL, "I/O thread", "NULL");
    test_registers(idle_io);
    test_level_oneshot(idle_io);
    test_legacy_periodic(idle_io);
    test_32bit_wrap(idle_io);
    coremu_iothread_free(idle_io);
    test_real_clock();
    return unit_done();
}
