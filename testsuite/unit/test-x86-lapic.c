/*
 * The x86 local APIC (hw/x86_lapic.c). Expected values come from the Intel SDM Vol. 3A ch. 10.
 *
 * Part one drives the register file of two APICs of a machine whose threads never start: the
 * test's thread is their owner, and a fake TSC that the test moves drives the timer. It checks
 * reset values, read-only and reserved registers, the ESR, TPR/PPR masking, the IRR -> ISR ->
 * EOI order, level-triggered EOIs, the spurious vector, ExtINT, every timer mode, the divide
 * values, x2APIC MSRs and the IA32_APIC_BASE transitions.
 *
 * Part two runs four real cores whose loop (written here, as an x86 core's would be) takes
 * interrupts through x86_lapic_ack when X86_PENDING_INTR is set and counts what it takes;
 * register accesses are made on the core they belong to (coremu_cpu_run_sync). It checks IPIs
 * of every delivery mode, destination mode and shorthand in xAPIC and x2APIC mode, the timer on
 * the real clock through the core's deadline, and a concurrency test: three threads deliver
 * interrupts to one core at once while it acknowledges, nests and EOIs them; every interrupt
 * must be taken exactly once, in priority order. (Run it under ThreadSanitizer too.)
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <coremu/clock.h>
#include <coremu/cpu.h>

#include "cpu.h"
#include "unit.h"
#include "x86_lapic.h"

#define NCPUS 4u

enum {
    R_ID = 0x20,
    R_VERSION = 0x30,
    R_TPR = 0x80,
    R_APR = 0x90,
    R_PPR = 0xa0,
    R_EOI = 0xb0,
    R_LDR = 0xd0,
    R_DFR = 0xe0,
    R_SVR = 0xf0,
    R_ISR = 0x100,
    R_TMR = 0x180,
    R_IRR = 0x200,
    R_ESR = 0x280,
    R_ICR_LO = 0x300,
    R_ICR_HI = 0x310,
    R_LVT_TIMER = 0x320,
    R_LVT_LINT0 = 0x350,
    R_LVT_LINT1 = 0x360,
    R_LVT_ERROR = 0x370,
    R_TIMER_INIT = 0x380,
    R_TIMER_CUR = 0x390,
    R_TIMER_DIV = 0x3e0,
};

/* ---- the board ----------------------------------------------------------------------------- */

static struct x86_lapic *lapics[NCPUS];
static _Atomic uint64_t fake_tsc;
static _Atomic int use_fake_tsc;
static _Atomic int eoi_broadcasts[256];
static _Atomic int pic_vector = -1;
static _Atomic int inits[NCPUS];
static _Atomic int startups[NCPUS];       /* count */
static _Atomic int startup_vector[NCPUS]; /* last vector */

static uint64_t board_tsc(void *opaque, struct x86_lapic *l)
{
    (void)opaque, (void)l;
    return atomic_load(&use_fake_tsc) ? atomic_load(&fake_tsc) : (uint64_t)coremu_clock_ns();
}

static struct x86_lapic *board_lapic_of(void *opaque, unsigned i)
{
    (void)opaque;
    return i < NCPUS ? lapics[i] : NULL;
}

static void board_eoi(void *opaque, struct x86_lapic *l, uint8_t vector)
{
    (void)opaque, (void)l;
    atomic_fetch_add(&eoi_broadcasts[vector], 1);
}

static int board_extint_ack(void *opaque, struct x86_lapic *l)
{
    (void)opaque, (void)l;
    return atomic_load(&pic_vector);
}

static void board_init(void *opaque, unsigned i)
{
    (void)opaque;
    atomic_fetch_add(&inits[i], 1);
}

static void board_startup(void *opaque, unsigned i, uint8_t vector)
{
    (void)opaque;
    atomic_store(&startup_vector[i], vector);
    atomic_fetch_add(&startups[i], 1);
}

static const struct x86_lapic_board board = {
    .tsc_now = board_tsc,
    .lapic_of = board_lapic_of,
    .eoi_broadcast = board_eoi,
    .extint_ack = board_extint_ack,
    .init = board_init,
    .startup = board_startup,
    .bsp_virtual_wire = false,
};

static uint32_t rd(struct x86_lapic *l, unsigned off)
{
    uint64_t v;
    x86_lapic_mmio_read(l, off, 4, &v);
    return (uint32_t)v;
}

static void wr(struct x86_lapic *l, unsigned off, uint32_t v)
{
    x86_lapic_mmio_write(l, off, 4, v);
}

static bool intr_pending(struct x86_lapic *l)
{
    return (atomic_load(&x86_lapic_cpu(l)->pending) & X86_PENDING_INTR) != 0;
}

static bool irr_has(struct x86_lapic *l, unsigned v)
{
    return (rd(l, R_IRR + (v / 32) * 16) >> (v % 32)) & 1;
}

static bool isr_has(struct x86_lapic *l, unsigned v)
{
    return (rd(l, R_ISR + (v / 32) * 16) >> (v % 32)) & 1;
}

/* ---- part one: owner-thread tests ---------------------------------------------------------- */

static void test_reset_values(struct x86_lapic *bsp, struct x86_lapic *ap)
{
    uint64_t base = 0;
    bool ok = x86_lapic_msr_read(bsp, X86_MSR_APIC_BASE, &base) && base == 0xfee00900u;
    x86_lapic_msr_read(ap, X86_MSR_APIC_BASE, &base);
    ok = ok && base == 0xfee00800u;
    UNIT_CHECK(ok, "lapic: IA32_APIC_BASE after RESET (BSP bit on the boot core only)", "ap 0x%llx",
               (unsigned long long)base);
    UNIT_CHECK(rd(ap, R_ID) == 3u << 24 && rd(ap, R_VERSION) == 0x50014u, "lapic: ID and version",
               "id 0x%x version 0x%x", rd(ap, R_ID), rd(ap, R_VERSION));
    bool zero = rd(ap, R_TPR) == 0 && rd(ap, R_APR) == 0 && rd(ap, R_PPR) == 0 &&
                rd(ap, R_LDR) == 0 && rd(ap, R_ESR) == 0 && rd(ap, R_TIMER_INIT) == 0 &&
                rd(ap, R_TIMER_CUR) == 0 && rd(ap, R_TIMER_DIV) == 0 && rd(ap, R_ICR_LO) == 0 &&
                rd(ap, R_ICR_HI) == 0;
    for (unsigned i = 0; i < 8; i++) {
        zero = zero && rd(ap, R_ISR + 16 * i) == 0 && rd(ap, R_TMR + 16 * i) == 0 &&
               rd(ap, R_IRR + 16 * i) == 0;
    }
    UNIT_CHECK(zero, "lapic: zero registers after RESET", "some register is not 0");
    UNIT_CHECK(rd(ap, R_DFR) == 0xffffffffu && rd(ap, R_SVR) == 0xffu, "lapic: DFR and SVR",
               "dfr 0x%x svr 0x%x", rd(ap, R_DFR), rd(ap, R_SVR));
    bool masked = true;
    for (unsigned off = R_LVT_TIMER; off <= R_LVT_ERROR; off += 16) {
        masked = masked && rd(ap, off) == 0x10000u;
    }
    UNIT_CHECK(masked, "lapic: every LVT entry masked after RESET", "one is not 0x10000");
}

static void test_registers(struct x86_lapic *l)
{
    /* software-disabled: LVT masks cannot be cleared */
    wr(l, R_LVT_LINT0, 0x700);
    UNIT_CHECK(rd(l, R_LVT_LINT0) == 0x10700u, "lapic: LVT stays masked while software-disabled",
               "0x%x", rd(l, R_LVT_LINT0));
    wr(l, R_SVR, 0x1ff);
    wr(l, R_LVT_LINT0, 0xffffffffu);
    wr(l, R_LVT_TIMER, 0xffffffffu & ~(1u << 18));
    wr(l, R_LVT_ERROR, 0xffffffffu);
    UNIT_CHECK(rd(l, R_LVT_LINT0) == 0x1a7ffu && rd(l, R_LVT_TIMER) == 0x300ffu &&
                   rd(l, R_LVT_ERROR) == 0x100ffu,
               "lapic: LVT writable bits", "lint0 0x%x timer 0x%x error 0x%x", rd(l, R_LVT_LINT0),
               rd(l, R_LVT_TIMER), rd(l, R_LVT_ERROR));
    wr(l, R_SVR, 0xff);
    UNIT_CHECK(rd(l, R_LVT_LINT0) & 0x10000u, "lapic: clearing SVR enable masks every LVT",
               "lint0 0x%x", rd(l, R_LVT_LINT0));
    wr(l, R_SVR, 0xffffffffu);
    UNIT_CHECK(rd(l, R_SVR) == 0x3ffu, "lapic: SVR writable bits", "0x%x", rd(l, R_SVR));
    wr(l, R_VERSION, 0);
    wr(l, R_PPR, 0xff);
    wr(l, R_ISR, 0xffffffffu);
    wr(l, R_IRR + 0x10, 0xffffffffu);
    wr(l, R_TIMER_CUR, 5);
    UNIT_CHECK(rd(l, R_VERSION) == 0x50014u && rd(l, R_PPR) == 0 && rd(l, R_ISR) == 0 &&
                   rd(l, R_IRR + 0x10) == 0 && rd(l, R_TIMER_CUR) == 0,
               "lapic: read-only registers ignore writes", "one changed");
    wr(l, R_DFR, 0x12345678u);
    wr(l, R_LDR, 0x12345678u);
    wr(l, R_TPR, 0x1ffu);
    wr(l, R_ICR_HI, 0xffffffffu);
    UNIT_CHECK(rd(l, R_DFR) == 0x1fffffffu && rd(l, R_LDR) == 0x12000000u &&
                   rd(l, R_TPR) == 0xffu && rd(l, R_ICR_HI) == 0xff000000u,
               "lapic: DFR, LDR, TPR, ICR high writable bits", "dfr 0x%x ldr 0x%x tpr 0x%x",
               rd(l, R_DFR), rd(l, R_LDR), rd(l, R_TPR));
    wr(l, R_TPR, 0);
    wr(l, R_DFR, 0xffffffffu);
    wr(l, R_LDR, 0);
    uint64_t b = 0;
    x86_lapic_mmio_read(l, R_ID + 3, 1, &b);
    UNIT_CHECK(b == 3, "lapic: byte read of the ID register", "0x%llx", (unsigned long long)b);

    /* ESR: errors become visible at the next ESR write */
    wr(l, R_ESR, 0);
    wr(l, R_ICR_LO, 0x40003); /* fixed vector 3 to self: send illegal vector */
    uint32_t before = rd(l, R_ESR);
    wr(l, R_ESR, 0);
    uint32_t after = rd(l, R_ESR);
    rd(l, 0x2f0); /* no CMCI entry with six LVTs: an illegal register */
    wr(l, R_ESR, 0);
    uint32_t illegal = rd(l, R_ESR);
    wr(l, R_ESR, 0);
    UNIT_CHECK(before == 0 && after == 0x20 && illegal == 0x80 && rd(l, R_ESR) == 0,
               "lapic: ESR write-then-read (send illegal vector, illegal register)",
               "before 0x%x after 0x%x illegal 0x%x", before, after, illegal);
    x86_lapic_deliver(l, 7, false);
    wr(l, R_ESR, 0);
    UNIT_CHECK(rd(l, R_ESR) == 0x40 && rd(l, R_IRR) == 0, "lapic: receive illegal vector",
               "esr 0x%x irr0 0x%x", rd(l, R_ESR), rd(l, R_IRR));
    wr(l, R_ESR, 0);
    UNIT_CHECK(x86_lapic_ack(l) == -1 && !intr_pending(l),
               "lapic: INTR drops once INTA finds nothing", "still set");
}

static void test_priorities(struct x86_lapic *l)
{
    wr(l, R_SVR, 0x1ff);
    x86_lapic_deliver(l, 0x51, false);
    UNIT_CHECK(intr_pending(l), "lapic: a delivery sets X86_PENDING_INTR", "not set");
    int v = x86_lapic_ack(l);
    UNIT_CHECK(v == 0x51 && isr_has(l, 0x51) && !irr_has(l, 0x51) && rd(l, R_PPR) == 0x50,
               "lapic: INTA moves IRR to ISR and raises the PPR", "vector 0x%x ppr 0x%x", v,
               rd(l, R_PPR));
    UNIT_CHECK(!intr_pending(l), "lapic: INTR drops after INTA", "still set");
    x86_lapic_deliver(l, 0x45, false);
    UNIT_CHECK(!intr_pending(l) && irr_has(l, 0x45),
               "lapic: a vector of a lower class than the PPR is held without INTR", "intr %d",
               intr_pending(l));
    v = x86_lapic_ack(l);
    UNIT_CHECK(v == 0xff && irr_has(l, 0x45), "lapic: spurious vector when INTA finds it masked",
               "vector 0x%x", v);
    wr(l, R_SVR, 0x1e7);
    UNIT_CHECK(x86_lapic_ack(l) == 0xe7, "lapic: spurious vector from the SVR", "wrong");
    wr(l, R_SVR, 0x1ff);
    x86_lapic_tpr_write(l, 6);
    UNIT_CHECK(rd(l, R_TPR) == 0x60 && rd(l, R_PPR) == 0x60 && x86_lapic_tpr_read(l) == 6,
               "lapic: CR8 is TPR bits 7:4", "tpr 0x%x", rd(l, R_TPR));
    wr(l, R_EOI, 0);
    UNIT_CHECK(!isr_has(l, 0x51) && rd(l, R_PPR) == 0x60 && !intr_pending(l),
               "lapic: TPR masks after EOI", "ppr 0x%x intr %d", rd(l, R_PPR), intr_pending(l));
    UNIT_CHECK(rd(l, R_APR) == 0x60, "lapic: APR is the TPR when it wins", "0x%x", rd(l, R_APR));
    wr(l, R_TPR, 0x45);
    UNIT_CHECK(!intr_pending(l) && rd(l, R_PPR) == 0x45, "lapic: same class as the TPR is masked",
               "intr %d", intr_pending(l));
    wr(l, R_TPR, 0x3f);
    v = intr_pending(l) ? x86_lapic_ack(l) : -2;
    UNIT_CHECK(v == 0x45, "lapic: lowering the TPR signals a held vector", "vector %d", v);
    wr(l, R_EOI, 0);
    wr(l, R_TPR, 0);
    UNIT_CHECK(x86_lapic_ack(l) == -1 && !intr_pending(l), "lapic: INTA with nothing pending",
               "not -1");

    /* order across priority classes */
    static const unsigned in[] = {0x30, 0x80, 0x55, 0x81, 0x3f};
    for (unsigned i = 0; i < 5; i++) {
        x86_lapic_deliver(l, (uint8_t)in[i], false);
    }
    static const unsigned want[] = {0x81, 0x80, 0x55, 0x3f, 0x30};
    bool ordered = true;
    for (unsigned i = 0; i < 5; i++) {
        v = x86_lapic_ack(l);
        ordered = ordered && v == (int)want[i] && !intr_pending(l);
        if (i == 0) {
            /* 0x80 has the class of the one in service */
            ordered = ordered && x86_lapic_ack(l) == 0xff;
        }
        wr(l, R_EOI, 0);
        ordered = ordered && (i == 4 || intr_pending(l));
    }
    UNIT_CHECK(ordered, "lapic: IRR -> ISR -> EOI in priority order, one class at a time",
               "wrong order at vector %d", v);
    /* nesting: a higher class interrupts, EOI retires the highest */
    x86_lapic_deliver(l, 0x40, false);
    int a = x86_lapic_ack(l);
    x86_lapic_deliver(l, 0x90, false);
    int b = intr_pending(l) ? x86_lapic_ack(l) : -2;
    bool both = isr_has(l, 0x40) && isr_has(l, 0x90);
    wr(l, R_EOI, 0);
    UNIT_CHECK(a == 0x40 && b == 0x90 && both && isr_has(l, 0x40) && !isr_has(l, 0x90) &&
                   rd(l, R_PPR) == 0x40,
               "lapic: nesting, and EOI clears the highest ISR bit", "a 0x%x b 0x%x", a, b);
    wr(l, R_EOI, 0);
    UNIT_CHECK(rd(l, R_ISR + 0x20) == 0 && rd(l, R_PPR) == 0, "lapic: second EOI", "isr left");

    /* level-triggered: TMR and the EOI broadcast */
    x86_lapic_deliver(l, 0x61, true);
    x86_lapic_deliver(l, 0x62, false);
    bool tmr = (rd(l, R_TMR + 0x30) & 6u) == 2u;
    x86_lapic_ack(l);
    wr(l, R_EOI, 0);
    int edge_eois = atomic_load(&eoi_broadcasts[0x62]);
    x86_lapic_ack(l);
    wr(l, R_EOI, 0);
    UNIT_CHECK(tmr && edge_eois == 0 && atomic_load(&eoi_broadcasts[0x61]) == 1,
               "lapic: level-triggered EOI calls the board's EOI broadcast",
               "tmr %d edge %d "
               "level %d",
               tmr, edge_eois, atomic_load(&eoi_broadcasts[0x61]));

    /* software-disabled: interrupts are held */
    wr(l, R_SVR, 0xff);
    x86_lapic_deliver(l, 0x70, false);
    bool held = !intr_pending(l) && x86_lapic_ack(l) == -1 && irr_has(l, 0x70);
    wr(l, R_SVR, 0x1ff);
    UNIT_CHECK(held && intr_pending(l) && x86_lapic_ack(l) == 0x70,
               "lapic: software-disabled holds the IRR until enabled", "held %d", held);
    wr(l, R_EOI, 0);

    /* LVT error interrupt */
    wr(l, R_LVT_ERROR, 0x33);
    wr(l, R_ICR_LO, 0x40001);
    v = x86_lapic_ack(l);
    wr(l, R_EOI, 0);
    wr(l, R_LVT_ERROR, 0x10000);
    wr(l, R_ESR, 0);
    UNIT_CHECK(v == 0x33 && rd(l, R_ESR) == 0x20, "lapic: errors raise the LVT error vector",
               "vector 0x%x", v);
    wr(l, R_ESR, 0);
    /* self IPI by the ICR */
    wr(l, R_ICR_LO, 0x40000 | 0x66);
    v = x86_lapic_ack(l);
    wr(l, R_EOI, 0);
    UNIT_CHECK(v == 0x66, "lapic: ICR self IPI", "vector 0x%x", v);
}

/* What the I/O APIC and MSIs use: destination matching and the other delivery modes. */
static void test_external_delivery(struct x86_lapic *ap)
{
    struct coremu_cpu *rt = x86_lapic_cpu(ap);
    wr(ap, R_LDR, 0x0cu << 24);
    bool match = x86_lapic_match_dest(ap, 3, false) && !x86_lapic_match_dest(ap, 4, false) &&
                 x86_lapic_match_dest(ap, 0xff, false) && x86_lapic_match_dest(ap, 0x04, true) &&
                 !x86_lapic_match_dest(ap, 0x03, true) && x86_lapic_match_dest(ap, 0xff, true);
    wr(ap, R_LDR, 0);
    UNIT_CHECK(match, "lapic: destination matching for the I/O APIC (physical, flat, 0xff)",
               "wrong");
    coremu_cpu_clear_pending(rt, X86_PENDING_NMI | X86_PENDING_INIT);
    x86_lapic_deliver_mode(ap, X86_APIC_DM_NMI, 0, false);
    bool nmi = (atomic_load(&rt->pending) & X86_PENDING_NMI) != 0;
    int inits_before = atomic_load(&inits[1]);
    x86_lapic_deliver_mode(ap, X86_APIC_DM_INIT, 0, false);
    x86_lapic_deliver_mode(ap, X86_APIC_DM_STARTUP, 0x12, false);
    x86_lapic_deliver_mode(ap, X86_APIC_DM_SMI, 0, false);
    UNIT_CHECK(nmi && atomic_load(&inits[1]) == inits_before + 1 &&
                   atomic_load(&startup_vector[1]) == 0x12,
               "lapic: NMI, INIT and STARTUP messages from outside", "nmi %d", nmi);
    atomic_store(&startups[1], 0);
    atomic_store(&inits[1], 0);
    coremu_cpu_clear_pending(rt, X86_PENDING_NMI);
}

static void test_extint(struct x86_lapic *bsp, struct x86_lapic *ap)
{
    atomic_store(&pic_vector, 0x28);
    x86_lapic_reset(bsp);
    UNIT_CHECK(rd(bsp, R_LVT_LINT0) == 0x700 && rd(bsp, R_LVT_LINT1) == 0x400 &&
                   rd(bsp, R_SVR) == 0x1ff,
               "lapic: virtual wire mode after RESET when the board asks", "lint0 0x%x",
               rd(bsp, R_LVT_LINT0));
    x86_lapic_set_extint(bsp, true);
    int v = intr_pending(bsp) ? x86_lapic_ack(bsp) : -2;
    UNIT_CHECK(v == 0x28 && rd(bsp, R_ISR + 0x10) == 0, "lapic: ExtINT asks the PIC at INTA",
               "vector %d", v);
    x86_lapic_set_extint(bsp, false);
    atomic_store(&pic_vector, -1);
    UNIT_CHECK(x86_lapic_ack(bsp) == -1 && !intr_pending(bsp), "lapic: ExtINT low", "taken");
    atomic_store(&pic_vector, 0x29);
    x86_lapic_set_extint(ap, true);
    UNIT_CHECK(x86_lapic_ack(ap) == -1 && !intr_pending(ap),
               "lapic: ExtINT not taken while LINT0 is masked", "taken");
    x86_lapic_msr_write(ap, X86_MSR_APIC_BASE, 0xfee00000u);
    v = x86_lapic_ack(ap);
    UNIT_CHECK(v == 0x29, "lapic: a disabled APIC passes LINT0 through as INTR", "vector %d", v);
    x86_lapic_set_extint(ap, false);
    x86_lapic_ack(ap);
    x86_lapic_msr_write(ap, X86_MSR_APIC_BASE, 0xfee00800u);
    atomic_store(&pic_vector, -1);
}

static void set_tsc(uint64_t t)
{
    atomic_store(&fake_tsc, t);
}

static void test_timer(struct x86_lapic *l)
{
    struct coremu_cpu *rt = x86_lapic_cpu(l);
    x86_lapic_reset(l);
    wr(l, R_SVR, 0x1ff);
    set_tsc(1000000);
    wr(l, R_TIMER_DIV, 0xb); /* divide by 1 */
    wr(l, R_LVT_TIMER, 0x70);
    wr(l, R_TIMER_INIT, 1000);
    bool armed = rt->deadline != INT64_MAX;
    set_tsc(1000500);
    uint32_t cur = rd(l, R_TIMER_CUR);
    set_tsc(1000999);
    x86_lapic_timer_expired(l);
    bool early = irr_has(l, 0x70);
    set_tsc(1001000);
    x86_lapic_timer_expired(l);
    bool fired = irr_has(l, 0x70) && intr_pending(l);
    x86_lapic_ack(l);
    wr(l, R_EOI, 0);
    set_tsc(1005000);
    x86_lapic_timer_expired(l);
    UNIT_CHECK(armed && cur == 500 && !early && fired && !irr_has(l, 0x70) &&
                   rd(l, R_TIMER_CUR) == 0 && rt->deadline == INT64_MAX,
               "lapic: one-shot fires once at the right time", "armed %d cur %u early %d fired %d",
               armed, cur, early, fired);

    /* divide values: configuration -> divisor */
    static const struct {
        uint32_t cfg, div;
    } divs[] = {{0, 2}, {1, 4}, {2, 8}, {3, 16}, {8, 32}, {9, 64}, {10, 128}, {11, 1}};
    bool divide_ok = true;
    for (unsigned i = 0; i < 8; i++) {
        set_tsc(2000000);
        wr(l, R_TIMER_DIV, divs[i].cfg);
        wr(l, R_TIMER_INIT, 100);
        set_tsc(2000000 + 10 * divs[i].div);
        uint32_t c = rd(l, R_TIMER_CUR);
        set_tsc(2000000 + 100 * divs[i].div - 1);
        x86_lapic_timer_expired(l);
        bool before = irr_has(l, 0x70);
        set_tsc(2000000 + 100 * divs[i].div);
        x86_lapic_timer_expired(l);
        bool at = irr_has(l, 0x70);
        x86_lapic_ack(l);
        wr(l, R_EOI, 0);
        if (c != 90 || before || !at || rd(l, R_TIMER_DIV) != divs[i].cfg) {
            divide_ok = false;
            printf("divide cfg %u: current %u, fired early %d, at %d\n", divs[i].cfg, c, before,
                   at);
        }
    }
    UNIT_CHECK(divide_ok, "lapic: every divide value (1 GHz bus clock / divisor)", "see above");

    /* changing the divide value keeps the count */
    set_tsc(3000000);
    wr(l, R_TIMER_DIV, 0xb);
    wr(l, R_TIMER_INIT, 1000);
    set_tsc(3000400);
    wr(l, R_TIMER_DIV, 0); /* now by 2 */
    uint32_t kept = rd(l, R_TIMER_CUR);
    set_tsc(3000400 + 200);
    uint32_t slower = rd(l, R_TIMER_CUR);
    wr(l, R_TIMER_INIT, 0);
    UNIT_CHECK(kept == 600 && slower == 500, "lapic: a divide change keeps the current count",
               "kept %u then %u", kept, slower);

    /* periodic */
    set_tsc(4000000);
    wr(l, R_LVT_TIMER, 0x20071); /* periodic, vector 0x71 */
    wr(l, R_TIMER_INIT, 100);    /* divide by 2: 200 ns */
    unsigned fires = 0;
    bool grid = true;
    static const struct {
        uint64_t t;
        bool fire;
        uint32_t cur;
    } steps[] = {{150, false, 25}, {200, true, 100},  {350, false, 25}, {400, true, 100},
                 {1050, true, 75}, {1150, false, 25}, {1200, true, 100}};
    for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        set_tsc(4000000 + steps[i].t);
        x86_lapic_timer_expired(l);
        bool f = irr_has(l, 0x71);
        uint32_t c = rd(l, R_TIMER_CUR);
        if (f) {
            fires++;
            x86_lapic_ack(l);
            wr(l, R_EOI, 0);
        }
        if (f != steps[i].fire || c != steps[i].cur) {
            grid = false;
            printf("periodic at +%llu: fired %d current %u\n", (unsigned long long)steps[i].t, f,
                   c);
        }
    }
    UNIT_CHECK(grid && fires == 4 && rt->deadline != INT64_MAX,
               "lapic: periodic re-arms on its grid, missed periods fire once", "%u fires", fires);
    /* masked: counts, raises nothing */
    wr(l, R_LVT_TIMER, 0x30071);
    set_tsc(4000000 + 1400);
    x86_lapic_timer_expired(l);
    UNIT_CHECK(!irr_has(l, 0x71) && rd(l, R_TIMER_CUR) == 100, "lapic: a masked timer is silent",
               "fired");

    /* TSC-deadline */
    uint64_t d = 1;
    wr(l, R_LVT_TIMER, 0x40072);
    bool reset_by_mode = rd(l, R_TIMER_INIT) == 0;
    wr(l, R_TIMER_INIT, 50);
    x86_lapic_msr_write(l, X86_MSR_TSC_DEADLINE, 5000000);
    x86_lapic_msr_read(l, X86_MSR_TSC_DEADLINE, &d);
    set_tsc(4999999);
    x86_lapic_timer_expired(l);
    bool early_d = irr_has(l, 0x72);
    set_tsc(5000001);
    x86_lapic_timer_expired(l);
    bool fired_d = irr_has(l, 0x72);
    uint64_t after = 1;
    x86_lapic_msr_read(l, X86_MSR_TSC_DEADLINE, &after);
    x86_lapic_ack(l);
    wr(l, R_EOI, 0);
    UNIT_CHECK(reset_by_mode && rd(l, R_TIMER_INIT) == 0 && d == 5000000 && !early_d && fired_d &&
                   after == 0 && rt->deadline == INT64_MAX,
               "lapic: TSC-deadline fires at the deadline and clears it",
               "msr %llu early %d fired %d after %llu", (unsigned long long)d, early_d, fired_d,
               (unsigned long long)after);
    wr(l, R_LVT_TIMER, 0x72);
    x86_lapic_msr_write(l, X86_MSR_TSC_DEADLINE, 6000000);
    x86_lapic_msr_read(l, X86_MSR_TSC_DEADLINE, &d);
    UNIT_CHECK(d == 0 && rt->deadline == INT64_MAX,
               "lapic: IA32_TSC_DEADLINE ignored outside TSC-deadline mode", "%llu",
               (unsigned long long)d);
}

static void test_x2apic(struct x86_lapic *l)
{
    uint64_t v = 0;
    x86_lapic_reset(l);
    UNIT_CHECK(!x86_lapic_msr_read(l, 0x802, &v) && !x86_lapic_msr_write(l, 0x808, 0),
               "lapic: x2APIC MSRs #GP in xAPIC mode", "accepted");
    bool bad = !x86_lapic_msr_write(l, X86_MSR_APIC_BASE, 0xfee00000u | X86_APIC_BASE_EXTD) &&
               !x86_lapic_msr_write(l, X86_MSR_APIC_BASE, 0xfee00a00u) &&
               !x86_lapic_msr_write(l, X86_MSR_APIC_BASE, 0xfee00801u) &&
               !x86_lapic_msr_write(l, X86_MSR_APIC_BASE, (1ull << 40) | 0xfee00800u);
    UNIT_CHECK(bad, "lapic: IA32_APIC_BASE reserved bits and EXTD without EN #GP", "accepted");
    UNIT_CHECK(x86_lapic_msr_write(l, X86_MSR_APIC_BASE, 0xfee00c00u), "lapic: xAPIC -> x2APIC",
               "refused");
    x86_lapic_msr_read(l, X86_MSR_APIC_BASE, &v);
    uint64_t id = 0, ldr = 0, ver = 0;
    x86_lapic_msr_read(l, 0x802, &id);
    x86_lapic_msr_read(l, 0x80d, &ldr);
    x86_lapic_msr_read(l, 0x803, &ver);
    UNIT_CHECK(v == 0xfee00c00u && id == 0x13 && ldr == ((1u << 16) | (1u << 3)) && ver == 0x50014,
               "lapic: x2APIC ID, derived LDR, version", "base 0x%llx id 0x%llx ldr 0x%llx",
               (unsigned long long)v, (unsigned long long)id, (unsigned long long)ldr);
    uint64_t mm = 1;
    x86_lapic_mmio_read(l, R_ID, 4, &mm);
    UNIT_CHECK(mm == 0, "lapic: no MMIO in x2APIC mode", "0x%llx", (unsigned long long)mm);
    bool gp = !x86_lapic_msr_read(l, 0x80e, &v) && !x86_lapic_msr_read(l, 0x809, &v) &&
              !x86_lapic_msr_read(l, 0x80b, &v) && !x86_lapic_msr_read(l, 0x83f, &v) &&
              !x86_lapic_msr_read(l, 0x831, &v) && !x86_lapic_msr_read(l, 0x82f, &v) &&
              !x86_lapic_msr_write(l, 0x802, 0) && !x86_lapic_msr_write(l, 0x80d, 0) &&
              !x86_lapic_msr_write(l, 0x80b, 1) && !x86_lapic_msr_write(l, 0x828, 1) &&
              !x86_lapic_msr_write(l, 0x808, 1ull << 32) && !x86_lapic_msr_write(l, 0x83f, 0x155) &&
              !x86_lapic_msr_write(l, 0x830, 1u << 13) && !x86_lapic_msr_write(l, 0x803, 0);
    UNIT_CHECK(gp, "lapic: x2APIC #GP cases (absent, write-only, read-only, reserved bits)",
               "one accepted");
    x86_lapic_msr_write(l, 0x80f, 0x1ff);
    x86_lapic_msr_write(l, 0x83f, 0x55);
    uint64_t irr = 0;
    x86_lapic_msr_read(l, 0x822, &irr);
    int a = x86_lapic_ack(l);
    uint64_t isr = 0, ppr = 0;
    x86_lapic_msr_read(l, 0x812, &isr);
    x86_lapic_msr_read(l, 0x80a, &ppr);
    bool eoi_ok = x86_lapic_msr_write(l, 0x80b, 0);
    x86_lapic_msr_read(l, 0x812, &v);
    UNIT_CHECK((irr & (1u << 0x15)) && a == 0x55 && (isr & (1u << 0x15)) && ppr == 0x50 && eoi_ok &&
                   v == 0,
               "lapic: x2APIC SELF IPI, IRR, ISR, PPR, EOI", "irr 0x%llx a 0x%x",
               (unsigned long long)irr, a);
    x86_lapic_msr_write(l, 0x808, 0x30);
    x86_lapic_msr_read(l, 0x808, &v);
    UNIT_CHECK(v == 0x30 && x86_lapic_tpr_read(l) == 3, "lapic: x2APIC TPR", "0x%llx",
               (unsigned long long)v);
    UNIT_CHECK(!x86_lapic_msr_write(l, X86_MSR_APIC_BASE, 0xfee00800u),
               "lapic: x2APIC -> xAPIC #GP", "accepted");
    UNIT_CHECK(x86_lapic_msr_write(l, X86_MSR_APIC_BASE, 0xfee00000u) &&
                   !x86_lapic_msr_read(l, 0x802, &v),
               "lapic: x2APIC -> disabled", "refused");
    UNIT_CHECK(!x86_lapic_msr_write(l, X86_MSR_APIC_BASE, 0xfee00c00u),
               "lapic: disabled -> x2APIC #GP", "accepted");
    UNIT_CHECK(x86_lapic_msr_write(l, X86_MSR_APIC_BASE, 0xfee00900u) &&
                   x86_lapic_msr_read(l, X86_MSR_APIC_BASE, &v) && v == 0xfee00800u &&
                   rd(l, R_SVR) == 0xff && rd(l, R_TPR) == 0 && rd(l, R_ID) == 0x13u << 24,
               "lapic: disabled -> xAPIC in the power-up state, BSP bit read-only",
               "base 0x%llx svr 0x%x", (unsigned long long)v, rd(l, R_SVR));
    /* INIT keeps the ID */
    wr(l, R_ID, 0x21u << 24);
    wr(l, R_SVR, 0x1ff);
    x86_lapic_init(l);
    UNIT_CHECK(rd(l, R_ID) == 0x21u << 24 && rd(l, R_SVR) == 0xff, "lapic: INIT keeps the APIC ID",
               "id 0x%x", rd(l, R_ID));
    x86_lapic_reset(l);
    UNIT_CHECK(rd(l, R_ID) == 0x13u << 24, "lapic: RESET restores the initial APIC ID", "0x%x",
               rd(l, R_ID));
}

/* The machine of part one never starts its threads. */
static void never_run(struct coremu_cpu *cpu)
{
    (void)cpu;
}

static void part_one(void)
{
    static const struct coremu_cpu_ops no_ops = {.run = never_run};
    struct coremu_machine *m = coremu_machine_new(2, &no_ops);
    UNIT_REQUIRE(m != NULL, "lapic: machine", "machine_new failed");
    atomic_store(&use_fake_tsc, 1);
    struct x86_lapic_board vw = board;
    vw.bsp_virtual_wire = true;
    struct x86_lapic *bsp = x86_lapic_new(m->cpus[0], 0, true, &vw);
    struct x86_lapic *ap = x86_lapic_new(m->cpus[1], 3, false, &board);
    UNIT_REQUIRE(bsp && ap, "lapic: new", "allocation failed");
    test_reset_values(bsp, ap);
    test_registers(ap);
    test_priorities(ap);
    test_external_delivery(ap);
    test_extint(bsp, ap);
    test_timer(ap);
    struct x86_lapic *x2 = x86_lapic_new(m->cpus[1], 0x13, false, &board);
    test_x2apic(x2);
    x86_lapic_free(x2);
    x86_lapic_free(bsp);
    x86_lapic_free(ap);
    coremu_machine_free(m);
    atomic_store(&use_fake_tsc, 0);
}

/* ---- part two: real cores ------------------------------------------------------------------ */

static struct coremu_machine *machine;
static _Atomic unsigned taken[NCPUS][256];
static _Atomic unsigned nmis[NCPUS];
static _Atomic unsigned spurious[NCPUS];
static _Atomic int64_t taken_at[NCPUS][256];

/* Concurrency test state (core 0 is the target). */
#define STRESS_PER_THREAD 20000u
#define STRESS_THREADS    3u
static _Atomic int outstanding[256];
static _Atomic unsigned sent[256];
static _Atomic unsigned order_errors, double_takes;
static _Atomic int stress_mode;

static void sleep_us(unsigned us)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000L};
    nanosleep(&ts, NULL);
}

#define WAIT_FOR(cond)                                            \
    ({                                                            \
        int64_t end_ = coremu_host_ns() + 20 * COREMU_NS_PER_SEC; \
        bool ok_;                                                 \
        while (!(ok_ = (cond)) && coremu_host_ns() < end_) {      \
            sleep_us(200);                                        \
        }                                                         \
        ok_;                                                      \
    })

/* The guest's EOI, by MMIO or by MSR as the mode wants. */
static void core_eoi(struct x86_lapic *l)
{
    if (x86_lapic_base_msr(l) & X86_APIC_BASE_EXTD) {
        x86_lapic_msr_write(l, 0x80b, 0);
    } else {
        wr(l, R_EOI, 0);
    }
}

static void core_run(struct coremu_cpu *cpu)
{
    struct x86_lapic *l = lapics[cpu->index];
    int stack[16];
    unsigned depth = 0;
    unsigned rng = 12345u + cpu->index;

    for (;;) {
        if (coremu_cpu_poll(cpu) && coremu_cpu_process_pending(cpu) == COREMU_CPU_LEAVE) {
            break;
        }
        uint32_t p = atomic_load(&cpu->pending);
        if (p & X86_PENDING_NMI) {
            coremu_cpu_clear_pending(cpu, X86_PENDING_NMI);
            atomic_fetch_add(&nmis[cpu->index], 1);
        }
        if (p & X86_PENDING_INIT) {
            coremu_cpu_clear_pending(cpu, X86_PENDING_INIT);
        }
        if (p & X86_PENDING_INTR) {
            int v = x86_lapic_ack(l);
            if (v >= 0 && v != 0xff) { /* the tests never send 0xff, the spurious vector */
                if (depth > 0 && (v & 0xf0) <= (stack[depth - 1] & 0xf0)) {
                    atomic_fetch_add(&order_errors, 1);
                }
                if (atomic_load(&stress_mode) && atomic_exchange(&outstanding[v], 0) != 1) {
                    atomic_fetch_add(&double_takes, 1);
                }
                atomic_store(&taken_at[cpu->index][v], coremu_clock_ns());
                atomic_fetch_add(&taken[cpu->index][v], 1);
                stack[depth++] = v;
                rng = rng * 1103515245u + 12345u;
                /* retire at once, or keep it in service so that higher classes nest */
                if (!atomic_load(&stress_mode) || depth >= 4 || ((rng >> 16) & 1)) {
                    core_eoi(l);
                    depth--;
                }
                continue;
            } else if (v == 0xff) {
                atomic_fetch_add(&spurious[cpu->index], 1);
            }
        }
        if (depth > 0) {
            core_eoi(l);
            depth--;
            continue;
        }
        coremu_cpu_wait(cpu, X86_PENDING_INTR | X86_PENDING_NMI | X86_PENDING_INIT);
    }
}

static void core_timer_expired(struct coremu_cpu *cpu)
{
    x86_lapic_timer_expired(lapics[cpu->index]);
}

static const struct coremu_cpu_ops core_ops = {
    .run = core_run,
    .timer_expired = core_timer_expired,
};

/* A register write on the core that owns it. */
struct reg_write {
    unsigned off;
    uint64_t value;
    bool msr;
    bool ok;
};

static void reg_write_fn(struct coremu_cpu *cpu, void *arg)
{
    struct reg_write *w = arg;
    if (w->msr) {
        w->ok = x86_lapic_msr_write(lapics[cpu->index], w->off, w->value);
    } else {
        wr(lapics[cpu->index], w->off, (uint32_t)w->value);
        w->ok = true;
    }
}

static bool on_core(unsigned i, unsigned off, uint64_t value, bool msr)
{
    struct reg_write w = {.off = off, .value = value, .msr = msr};
    return coremu_cpu_run_sync(machine->cpus[i], reg_write_fn, &w) && w.ok;
}

static const uint32_t apic_ids[NCPUS] = {0, 2, 4, 6};

/* Core `from` sends an xAPIC IPI; true when exactly the cores in `mask` take vector. */
static bool ipi_reaches(unsigned from, uint32_t icr_lo, uint32_t dest, unsigned mask,
                        unsigned vector)
{
    unsigned before[NCPUS];
    for (unsigned i = 0; i < NCPUS; i++) {
        before[i] = atomic_load(&taken[i][vector]);
    }
    on_core(from, R_ICR_HI, dest << 24, false);
    on_core(from, R_ICR_LO, icr_lo | vector, false);
    bool ok = WAIT_FOR(({
        bool all = true;
        for (unsigned i = 0; i < NCPUS; i++) {
            all = all && ((mask >> i) & 1) == (atomic_load(&taken[i][vector]) != before[i]);
        }
        all;
    }));
    if (ok) {
        sleep_us(2000); /* nobody else takes it late, nobody twice */
        for (unsigned i = 0; i < NCPUS; i++) {
            ok = ok && atomic_load(&taken[i][vector]) - before[i] == ((mask >> i) & 1);
        }
    }
    return ok;
}

static bool ipi_x2_reaches(unsigned from, uint64_t icr, unsigned mask, unsigned vector)
{
    unsigned before[NCPUS];
    for (unsigned i = 0; i < NCPUS; i++) {
        before[i] = atomic_load(&taken[i][vector]);
    }
    bool sent_ok = on_core(from, 0x830, icr | vector, true);
    bool ok = sent_ok && WAIT_FOR(({
                  bool all = true;
                  for (unsigned i = 0; i < NCPUS; i++) {
                      all =
                          all && ((mask >> i) & 1) == (atomic_load(&taken[i][vector]) != before[i]);
                  }
                  all;
              }));
    if (ok) {
        sleep_us(2000);
        for (unsigned i = 0; i < NCPUS; i++) {
            ok = ok && atomic_load(&taken[i][vector]) - before[i] == ((mask >> i) & 1);
        }
    }
    if (!ok) {
        printf("vector 0x%x sent %d, taken:", vector, sent_ok);
        for (unsigned i = 0; i < NCPUS; i++) {
            printf(" %u", atomic_load(&taken[i][vector]) - before[i]);
        }
        printf("\n");
    }
    return ok;
}

#define FIXED    0x000u
#define LOWEST   0x100u
#define LOGICAL  (1u << 11)
#define SELF     (1u << 18)
#define ALL_INCL (2u << 18)
#define ALL_EXCL (3u << 18)
#define ASSERT   (1u << 14)

static void test_ipis(void)
{
    UNIT_CHECK(ipi_reaches(0, FIXED | ASSERT, 4, 1u << 2, 0x40),
               "lapic IPI: fixed, physical destination", "wrong cores");
    UNIT_CHECK(ipi_reaches(1, FIXED | ASSERT, 0xff, 0xf, 0x41),
               "lapic IPI: physical broadcast 0xff", "wrong cores");
    for (unsigned i = 0; i < NCPUS; i++) {
        on_core(i, R_LDR, 1u << (24 + i), false);
    }
    UNIT_CHECK(ipi_reaches(0, FIXED | ASSERT | LOGICAL, 0x0a, 0xa, 0x42), "lapic IPI: logical flat",
               "wrong cores");
    UNIT_CHECK(ipi_reaches(0, LOWEST | ASSERT | LOGICAL, 0x0c, 0x4, 0x43),
               "lapic IPI: lowest priority, equal priorities: the lowest APIC ID", "wrong cores");
    /* lowest priority goes to the destination whose processor priority is lowest */
    on_core(2, R_TPR, 0x20, false);
    UNIT_CHECK(ipi_reaches(0, LOWEST | ASSERT | LOGICAL, 0x0c, 0x8, 0x49),
               "lapic IPI: lowest priority passes over a destination with a higher TPR",
               "wrong cores");
    on_core(3, R_TPR, 0x30, false);
    UNIT_CHECK(ipi_reaches(0, LOWEST | ASSERT | LOGICAL, 0x0e, 0x2, 0x4a),
               "lapic IPI: lowest priority among three destinations (TPR 0, 0x20, 0x30)",
               "wrong cores");
    on_core(1, R_TPR, 0x38, false);
    UNIT_CHECK(ipi_reaches(1, LOWEST | ASSERT | LOGICAL, 0x0e, 0x4, 0x4b),
               "lapic IPI: lowest priority compares the whole PPR (0x38, 0x20, 0x30)",
               "wrong cores");
    for (unsigned i = 1; i < NCPUS; i++) {
        on_core(i, R_TPR, 0, false);
    }
    /* a tie goes to the lower APIC ID, not to the lower core number */
    on_core(3, R_ID, 1u << 24, false);
    UNIT_CHECK(ipi_reaches(0, LOWEST | ASSERT | LOGICAL, 0x0c, 0x8, 0x4c),
               "lapic IPI: lowest priority tie: APIC ID 1 (core 3) over APIC ID 4 (core 2)",
               "wrong cores");
    on_core(3, R_ID, apic_ids[3] << 24, false);
    /* a software-disabled APIC counts as the highest priority */
    on_core(2, R_SVR, 0xff, false);
    on_core(3, R_TPR, 0xe0, false);
    bool held = ipi_reaches(0, LOWEST | ASSERT | LOGICAL, 0x0c, 0x0, 0x4d);
    on_core(3, R_TPR, 0, false);
    UNIT_CHECK(
        held && WAIT_FOR(atomic_load(&taken[3][0x4d]) == 1) && atomic_load(&taken[2][0x4d]) == 0,
        "lapic IPI: lowest priority passes over a software-disabled APIC",
        "core 2 took %u, core 3 %u", atomic_load(&taken[2][0x4d]), atomic_load(&taken[3][0x4d]));
    on_core(2, R_SVR, 0x1ff, false);
    for (unsigned i = 0; i < NCPUS; i++) {
        on_core(i, R_DFR, 0x0fffffffu, false);
        on_core(i, R_LDR, ((i / 2 + 1) << 28) | (1u << (24 + i % 2)), false);
    }
    UNIT_CHECK(ipi_reaches(3, FIXED | ASSERT | LOGICAL, 0x22, 0x8, 0x44),
               "lapic IPI: logical cluster", "wrong cores");
    UNIT_CHECK(ipi_reaches(3, FIXED | ASSERT | LOGICAL, 0xf1, 0x5, 0x45),
               "lapic IPI: logical cluster, every cluster", "wrong cores");
    UNIT_CHECK(ipi_reaches(2, FIXED | ASSERT | SELF, 0, 0x4, 0x46), "lapic IPI: self shorthand",
               "wrong cores");
    UNIT_CHECK(ipi_reaches(2, FIXED | ASSERT | ALL_INCL, 0, 0xf, 0x47),
               "lapic IPI: all including self", "wrong cores");
    UNIT_CHECK(ipi_reaches(2, FIXED | ASSERT | ALL_EXCL, 0, 0xb, 0x48),
               "lapic IPI: all excluding self", "wrong cores");

    unsigned nmi_before = atomic_load(&nmis[1]);
    on_core(0, R_ICR_HI, 2u << 24, false);
    on_core(0, R_ICR_LO, 0x400 | ASSERT, false);
    UNIT_CHECK(WAIT_FOR(atomic_load(&nmis[1]) == nmi_before + 1) && atomic_load(&nmis[0]) == 0,
               "lapic IPI: NMI", "core 1 saw %u", atomic_load(&nmis[1]) - nmi_before);
    on_core(0, R_ICR_LO, 0x400 | ASSERT | ALL_EXCL, false);
    UNIT_CHECK(WAIT_FOR(atomic_load(&nmis[1]) == nmi_before + 2 && atomic_load(&nmis[2]) == 1 &&
                        atomic_load(&nmis[3]) == 1) &&
                   atomic_load(&nmis[0]) == 0,
               "lapic IPI: NMI to all excluding self", "wrong cores");

    on_core(0, R_ICR_HI, 6u << 24, false);
    on_core(0, R_ICR_LO, 0x500 | ASSERT, false);
    on_core(0, R_ICR_LO, 0x500 | (1u << 15), false); /* level de-assert: no effect */
    on_core(0, R_ICR_LO, 0x600 | ASSERT | 0x9a, false);
    UNIT_CHECK(atomic_load(&inits[3]) == 1 && atomic_load(&startups[3]) == 1 &&
                   atomic_load(&startup_vector[3]) == 0x9a && atomic_load(&inits[1]) == 0,
               "lapic IPI: INIT, INIT level de-assert, STARTUP to the board", "inits %d sipis %d",
               atomic_load(&inits[3]), atomic_load(&startups[3]));
    on_core(1, R_ICR_LO, 0x500 | ASSERT | ALL_EXCL, false);
    on_core(1, R_ICR_LO, 0x600 | ASSERT | ALL_EXCL | 0x10, false);
    UNIT_CHECK(atomic_load(&inits[1]) == 0 && atomic_load(&inits[0]) == 1 &&
                   atomic_load(&inits[2]) == 1 && atomic_load(&inits[3]) == 2 &&
                   atomic_load(&startups[0]) == 1 && atomic_load(&startup_vector[0]) == 0x10,
               "lapic IPI: INIT/SIPI to all excluding self", "wrong cores");

    /* x2APIC */
    bool x2 = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        x2 = x2 && on_core(i, X86_MSR_APIC_BASE, 0xfee00c00u | (i == 0 ? 0x100 : 0), true);
    }
    UNIT_REQUIRE(x2, "lapic IPI: x2APIC mode", "refused");
    UNIT_CHECK(ipi_x2_reaches(0, ((uint64_t)6 << 32) | ASSERT, 0x8, 0x50),
               "lapic x2APIC IPI: physical", "wrong cores");
    UNIT_CHECK(
        ipi_x2_reaches(1, ((uint64_t)((1u << 2) | (1u << 4)) << 32) | ASSERT | LOGICAL, 0x6, 0x51),
        "lapic x2APIC IPI: logical (cluster 0, bits 2 and 4)", "wrong cores");
    UNIT_CHECK(ipi_x2_reaches(1, ((uint64_t)((1u << 16) | 1u) << 32) | ASSERT | LOGICAL, 0x0, 0x52),
               "lapic x2APIC IPI: logical, another cluster", "wrong cores");
    UNIT_CHECK(ipi_x2_reaches(3, ((uint64_t)0xffffffffu << 32) | ASSERT, 0xf, 0x53),
               "lapic x2APIC IPI: broadcast 0xffffffff", "wrong cores");
    UNIT_CHECK(ipi_x2_reaches(3, ASSERT | ALL_EXCL, 0x7, 0x54),
               "lapic x2APIC IPI: all excluding self", "wrong cores");
    bool back = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        back = back && on_core(i, X86_MSR_APIC_BASE, 0xfee00000u, true) &&
               on_core(i, X86_MSR_APIC_BASE, 0xfee00800u, true) && on_core(i, R_SVR, 0x1ff, false);
    }
    UNIT_REQUIRE(back, "lapic IPI: back to xAPIC", "refused");
}

static void test_real_timer(void)
{
    unsigned before = atomic_load(&taken[1][0x77]);
    int64_t start = coremu_clock_ns();
    on_core(1, R_TIMER_DIV, 0xb, false);
    on_core(1, R_LVT_TIMER, 0x77, false);
    on_core(1, R_TIMER_INIT, 2000000, false); /* 2 ms */
    bool fired = WAIT_FOR(atomic_load(&taken[1][0x77]) == before + 1);
    int64_t at = atomic_load(&taken_at[1][0x77]);
    UNIT_CHECK(fired && at - start >= 2000000, "lapic: timer on the real clock wakes its core",
               "fired %d after %lld ns", fired, (long long)(at - start));
}

static void *stress_sender(void *arg)
{
    unsigned k = (unsigned)(uintptr_t)arg;
    unsigned rng = 777u * (k + 1);
    unsigned done = 0;
    while (done < STRESS_PER_THREAD) {
        rng = rng * 1103515245u + 12345u;
        /* thread k owns the vectors 0x20..0xfe that are k modulo STRESS_THREADS */
        unsigned v = 0x20 + ((rng >> 8) % 0xdf);
        v -= (v - 0x20) % STRESS_THREADS;
        v += k;
        if (v >= 0xff) {
            continue;
        }
        int expected = 0;
        if (!atomic_compare_exchange_strong(&outstanding[v], &expected, 1)) {
            sched_yield();
            continue;
        }
        atomic_fetch_add(&sent[v], 1);
        x86_lapic_deliver(lapics[0], (uint8_t)v, false);
        done++;
    }
    return NULL;
}

static void test_concurrency(void)
{
    unsigned before[256];
    for (unsigned v = 0; v < 256; v++) {
        before[v] = atomic_load(&taken[0][v]);
    }
    atomic_store(&stress_mode, 1);
    pthread_t threads[STRESS_THREADS];
    for (unsigned k = 0; k < STRESS_THREADS; k++) {
        pthread_create(&threads[k], NULL, stress_sender, (void *)(uintptr_t)k);
    }
    for (unsigned k = 0; k < STRESS_THREADS; k++) {
        pthread_join(threads[k], NULL);
    }
    bool drained = WAIT_FOR(({
        bool none = true;
        for (unsigned v = 0; v < 256; v++) {
            none = none && atomic_load(&outstanding[v]) == 0;
        }
        none;
    }));
    unsigned total = 0, mismatches = 0;
    for (unsigned v = 0; v < 256; v++) {
        unsigned got = atomic_load(&taken[0][v]) - before[v];
        total += got;
        if (got != atomic_load(&sent[v])) {
            mismatches++;
            printf("vector 0x%x: sent %u taken %u\n", v, atomic_load(&sent[v]), got);
        }
    }
    atomic_store(&stress_mode, 0);
    printf("concurrency: %u interrupts taken, %u spurious INTAs\n", total,
           atomic_load(&spurious[0]));
    UNIT_CHECK(drained && mismatches == 0 && total == STRESS_THREADS * STRESS_PER_THREAD &&
                   atomic_load(&double_takes) == 0,
               "lapic: concurrent deliveries are each taken exactly once",
               "drained %d, %u vectors wrong, %u taken, %u double", drained, mismatches, total,
               atomic_load(&double_takes));
    UNIT_CHECK(atomic_load(&order_errors) == 0, "lapic: nested INTAs follow priority classes",
               "%u out of order", atomic_load(&order_errors));
}

static void part_two(void)
{
    machine = coremu_machine_new(NCPUS, &core_ops);
    UNIT_REQUIRE(machine != NULL, "lapic: machine", "machine_new failed");
    for (unsigned i = 0; i < NCPUS; i++) {
        lapics[i] = x86_lapic_new(machine->cpus[i], apic_ids[i], i == 0, &board);
        UNIT_REQUIRE(lapics[i] != NULL, "lapic: new", "allocation failed");
    }
    UNIT_REQUIRE(coremu_machine_start(machine) == 0, "lapic: start", "failed");
    for (unsigned i = 0; i < NCPUS; i++) {
        coremu_cpu_power_on(machine->cpus[i], 0, 0);
        UNIT_REQUIRE(on_core(i, R_SVR, 0x1ff, false), "lapic: enable", "core %u", i);
    }
    test_ipis();
    test_real_timer();
    test_concurrency();
    coremu_machine_exit(machine, 0);
    coremu_machine_wait(machine);
    for (unsigned i = 0; i < NCPUS; i++) {
        x86_lapic_free(lapics[i]);
        lapics[i] = NULL;
    }
    coremu_machine_free(machine);
}

int main(void)
{
    alarm(280);
    setvbuf(stdout, NULL, _IOLBF, 0);
    part_one();
    part_two();
    return unit_done();
}
