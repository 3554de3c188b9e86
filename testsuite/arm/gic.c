/*
 * The GICv2 of the virt board on the real CPU (run with -smp 2): the generic timer's interrupts
 * (CNTP through PPI 14 = ID 30, CNTV through PPI 11 = ID 27), a core sleeping in WFI with IRQs
 * masked woken by its own timer, SGIs to self and between two cores (core 1 started with PSCI
 * CPU_ON) with the source core in GICC_IAR, and the PL031's match interrupt through SPI 2
 * (ID 34). Both cores handle interrupts in one exception hook: acknowledge, record, quiet the
 * source, EOI. Then a stress of cross-core delivery: SGI ping-pong between the cores, and a 1-N
 * SPI (made pending by GICD_ISPENDR, edge-triggered, aimed at both cores) that must be taken
 * exactly once per request and never by both cores at once.
 */
#include "test.h"

#define GICD 0x08000000u
#define GICC 0x08010000u
#define RTC 0x09010000u

#define GICD_CTLR 0x000u
#define GICD_TYPER 0x004u
#define GICD_ISENABLER 0x100u
#define GICD_ISPENDR 0x200u
#define GICD_ICFGR 0xc00u
#define GICD_IPRIORITYR 0x400u
#define GICD_ITARGETSR 0x800u
#define GICD_SGIR 0xf00u
#define GICC_CTLR 0x00u
#define GICC_PMR 0x04u
#define GICC_IAR 0x0cu
#define GICC_EOIR 0x10u
#define GICC_HPPIR 0x18u

#define RTCDR 0x00u
#define RTCMR 0x04u
#define RTCIMSC 0x10u
#define RTCICR 0x1cu

#define ID_CNTP 30u
#define ID_CNTV 27u
#define ID_RTC 34u
#define ID_PING 4u  /* SGI core 0 -> core 1 */
#define ID_PONG 5u  /* SGI core 1 -> core 0, sent from core 1's handler */
#define ID_SHARED 40u /* an SPI no device drives: pended by software, targets both cores */
#define ROUNDS 2000u
#define TICKS_PER_MS 62500u /* the virt board's 62.5 MHz counter */

#define CTL_ENABLE 1u
#define CTL_ISTATUS 4u

static inline volatile uint32_t *reg(uint32_t addr)
{
    return (volatile uint32_t *)(uintptr_t)addr;
}
static inline volatile uint8_t *reg8(uint32_t addr)
{
    return (volatile uint8_t *)(uintptr_t)addr;
}

static inline uint64_t cntpct(void)
{
    uint32_t lo, hi;
    __asm__ volatile("isb\n\tmrrc p15, 0, %0, %1, c14" : "=r"(lo), "=r"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cntp_tval(uint32_t v)
{
    __asm__ volatile("mcr p15, 0, %0, c14, c2, 0\n\tisb" : : "r"(v));
}
static inline void cntp_ctl(uint32_t v)
{
    __asm__ volatile("mcr p15, 0, %0, c14, c2, 1\n\tisb" : : "r"(v));
}
static inline uint32_t cntp_ctl_read(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c14, c2, 1" : "=r"(v));
    return v;
}
static inline void cntv_tval(uint32_t v)
{
    __asm__ volatile("mcr p15, 0, %0, c14, c3, 0\n\tisb" : : "r"(v));
}
static inline void cntv_ctl(uint32_t v)
{
    __asm__ volatile("mcr p15, 0, %0, c14, c3, 1\n\tisb" : : "r"(v));
}
static inline void irq_on(void)
{
    __asm__ volatile("cpsie i" ::: "memory");
}
static inline void irq_off(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
}
static inline void wfi(void)
{
    __asm__ volatile("dsb\n\twfi" ::: "memory");
}

/* What each core's handler saw (index: the core). */
static volatile uint32_t irqs[TEST_MAX_CORES];
static volatile uint32_t spurious[TEST_MAX_CORES];
static volatile uint32_t cntp_hits[TEST_MAX_CORES];
static volatile uint32_t cntv_hits[TEST_MAX_CORES];
static volatile uint32_t rtc_hits[TEST_MAX_CORES];
static volatile uint32_t sgi_hits[TEST_MAX_CORES][16];
static volatile uint32_t sgi_src[TEST_MAX_CORES][16];

/* The stress phase. */
static volatile uint32_t shared_hits[TEST_MAX_CORES];
static volatile uint32_t shared_in_service[TEST_MAX_CORES];
static volatile uint32_t shared_overlaps;
static volatile uint32_t stress_over;

/* Core 1's results and the handshake with core 0. */
static volatile uint32_t core1_ready;
static volatile uint32_t core1_wfi_woke_by_timer;
static volatile uint32_t core1_wfi_hppir;
static volatile uint32_t core1_timer_taken;
static volatile uint32_t core1_done;

static bool irq_hook(enum exc_kind kind, struct exc_frame *f)
{
    (void)f;
    if (kind != EXC_IRQ) {
        return false;
    }
    unsigned c = core_index();
    uint32_t iar = *reg(GICC + GICC_IAR);
    unsigned id = iar & 0x3ff;
    if (id >= 1020) {
        spurious[c]++;
        return true;
    }
    if (id == ID_CNTP) {
        cntp_ctl(0); /* the timer's output goes low: the level interrupt is over */
        cntp_hits[c]++;
    } else if (id == ID_CNTV) {
        cntv_ctl(0);
        cntv_hits[c]++;
    } else if (id == ID_RTC) {
        *reg(RTC + RTCICR) = 1;
        rtc_hits[c]++;
    } else if (id == ID_SHARED) {
        /* Each core announces itself, then looks at the other (dsb: a full barrier between). */
        shared_in_service[c] = 1;
        dsb();
        if (shared_in_service[1 - c]) {
            shared_overlaps++;
        }
        shared_hits[c]++;
        dsb();
        shared_in_service[c] = 0;
    } else if (id < 16) {
        sgi_src[c][id] = (iar >> 10) & 7;
        sgi_hits[c][id]++;
        if (id == ID_PING && c == 1) {
            *reg(GICD + GICD_SGIR) = (1u << 16) | ID_PONG;
        }
    }
    irqs[c]++;
    dsb();
    *reg(GICC + GICC_EOIR) = iar;
    return true;
}

/* Waits until *p == want, for at most ms milliseconds of the counter. */
static bool wait_for(volatile uint32_t *p, uint32_t want, uint32_t ms)
{
    uint64_t end = cntpct() + (uint64_t)ms * TICKS_PER_MS;
    while (*p != want) {
        if (cntpct() > end) {
            return false;
        }
    }
    return true;
}

/* This core's CPU interface on; its SGIs and timer PPIs enabled at priority 0x80. */
static void cpu_interface_up(void)
{
    *reg(GICD + GICD_ISENABLER) = 0x0000ffffu | (1u << ID_CNTP) | (1u << ID_CNTV);
    for (unsigned i = 0; i < 32; i++) {
        *reg8(GICD + GICD_IPRIORITYR + i) = 0x80;
    }
    *reg(GICC + GICC_PMR) = 0xf0;
    *reg(GICC + GICC_CTLR) = 1;
    dsb();
}

/* The timer wakes this core from WFI with IRQs masked; the interrupt is taken once unmasked.
 * Returns what the core saw: bit 0 woken with the timer fired, bit 1 HPPIR was 30, bit 2 the
 * handler ran once. */
static uint32_t wfi_timer_test(void)
{
    unsigned c = core_index();
    uint32_t hits = cntp_hits[c];
    uint32_t r = 0;
    irq_off();
    cntp_tval(5 * TICKS_PER_MS);
    cntp_ctl(CTL_ENABLE);
    wfi();
    if (cntp_ctl_read() & CTL_ISTATUS) {
        r |= 1;
    }
    if ((*reg(GICC + GICC_HPPIR) & 0x3ff) == ID_CNTP) {
        r |= 2;
    }
    irq_on();
    if (wait_for(&cntp_hits[c], hits + 1, 1000)) {
        r |= 4;
    }
    return r;
}

void secondary_main(uint32_t arg)
{
    (void)arg;
    cpu_interface_up();
    irq_on();
    core1_ready = 1;
    dsb();
    /* Asleep until core 0's SGI 1 arrives. */
    while (sgi_hits[1][1] == 0) {
        wfi();
    }
    /* Answer with SGI 2 to every core but this one (that is, core 0). */
    *reg(GICD + GICD_SGIR) = (1u << 24) | 2;
    uint32_t r = wfi_timer_test();
    core1_wfi_woke_by_timer = r & 1;
    core1_wfi_hppir = (r >> 1) & 1;
    core1_timer_taken = (r >> 2) & 1;
    dsb();
    core1_done = 1;
    /* Serve the stress phase's interrupts until core 0 is done with it. */
    while (!stress_over) {
        wfi();
    }
    irq_off();
}

/* SGI ping-pong and the 1-N SPI; core 1 serves from WFI, core 0 spins with IRQs on. */
static void stress(void)
{
    uint32_t pings = sgi_hits[1][ID_PING];
    bool ok = true;
    for (uint32_t i = 1; i <= ROUNDS && ok; i++) {
        *reg(GICD + GICD_SGIR) = (1u << (16 + 1)) | ID_PING;
        ok = wait_for(&sgi_hits[0][ID_PONG], i, 2000);
    }
    test_check(ok && sgi_hits[1][ID_PING] == pings + ROUNDS && sgi_hits[0][ID_PONG] == ROUNDS,
               "gic: SGI ping-pong between the cores, every one delivered",
               "pings %u pongs %u of %u", sgi_hits[1][ID_PING] - pings, sgi_hits[0][ID_PONG],
               ROUNDS);

    *reg8(GICD + GICD_IPRIORITYR + ID_SHARED) = 0x80;
    *reg8(GICD + GICD_ITARGETSR + ID_SHARED) = 3;
    *reg(GICD + GICD_ICFGR + 4 * (ID_SHARED / 16)) |= 2u << (2 * (ID_SHARED % 16));
    *reg(GICD + GICD_ISENABLER + 4 * (ID_SHARED / 32)) = 1u << (ID_SHARED % 32);
    ok = true;
    for (uint32_t i = 1; i <= ROUNDS && ok; i++) {
        *reg(GICD + GICD_ISPENDR + 4 * (ID_SHARED / 32)) = 1u << (ID_SHARED % 32);
        uint64_t end = cntpct() + 2000ull * TICKS_PER_MS;
        while (shared_hits[0] + shared_hits[1] < i && cntpct() < end) {
        }
        ok = shared_hits[0] + shared_hits[1] == i;
    }
    test_check(ok && shared_hits[0] + shared_hits[1] == ROUNDS,
               "gic: a 1-N SPI is taken once per request", "%u + %u of %u", shared_hits[0],
               shared_hits[1], ROUNDS);
    test_check_eq("gic: ... and never by both cores at once", shared_overlaps, 0);
    stress_over = 1;
    dsb();
    *reg(GICD + GICD_SGIR) = (1u << (16 + 1)) | 15; /* wake core 1 to see it */
}

int main(void)
{
    set_exception_hook(irq_hook);
    uint32_t typer = *reg(GICD + GICD_TYPER);
    test_check(((typer >> 5) & 7) == 1 && (typer & 0x1f) >= 1,
               "gic: GICD_TYPER: 2 cores, at least 64 interrupts", "0x%x", typer);
    test_check_eq("gic: ITARGETSR0 names the reading core", *reg(GICD + GICD_ITARGETSR),
                  0x01010101u);
    *reg(GICD + GICD_CTLR) = 1;
    cpu_interface_up();
    irq_on();

    /* The physical timer, 1 ms from now. */
    cntp_tval(TICKS_PER_MS);
    cntp_ctl(CTL_ENABLE);
    test_check(wait_for(&cntp_hits[0], 1, 1000), "gic: CNTP interrupt through PPI 14 (ID 30)",
               "irqs %u, spurious %u", irqs[0], spurious[0]);
    cntv_tval(TICKS_PER_MS);
    cntv_ctl(CTL_ENABLE);
    test_check(wait_for(&cntv_hits[0], 1, 1000), "gic: CNTV interrupt through PPI 11 (ID 27)",
               "irqs %u", irqs[0]);

    uint32_t r = wfi_timer_test();
    test_check(r & 1, "gic: core 0 in WFI (IRQs masked) woken by its timer", "ISTATUS clear");
    test_check(r & 2, "gic: ... with ID 30 pending in GICC_HPPIR", "not pending");
    test_check(r & 4, "gic: ... and taken once IRQs are unmasked", "not taken");

    *reg(GICD + GICD_SGIR) = (2u << 24) | 3;
    test_check(wait_for(&sgi_hits[0][3], 1, 1000) && sgi_src[0][3] == 0,
               "gic: SGI to self (filter 0b10), source core 0", "hits %u src %u",
               sgi_hits[0][3], sgi_src[0][3]);

    int32_t on = test_start_core(1, 0);
    if (!test_check(on == PSCI_SUCCESS, "gic: CPU_ON core 1", "%d", on)) {
        return 0;
    }
    if (!test_check(wait_for(&core1_ready, 1, 5000), "gic: core 1 ready", "timeout")) {
        return 0;
    }
    /* Core 1 is asleep in WFI by now (or about to be): the SGI wakes it. */
    *reg(GICD + GICD_SGIR) = (1u << (16 + 1)) | 1;
    test_check(wait_for(&sgi_hits[1][1], 1, 2000) && sgi_src[1][1] == 0,
               "gic: SGI 1 core 0 -> core 1 (target list) wakes it, source 0", "hits %u src %u",
               sgi_hits[1][1], sgi_src[1][1]);
    test_check(wait_for(&sgi_hits[0][2], 1, 2000) && sgi_src[0][2] == 1,
               "gic: SGI 2 core 1 -> core 0 (all but self), source 1", "hits %u src %u",
               sgi_hits[0][2], sgi_src[0][2]);
    test_check(sgi_hits[1][2] == 0, "gic: the all-but-self SGI skips its sender", "%u",
               sgi_hits[1][2]);
    if (test_check(wait_for(&core1_done, 1, 5000), "gic: core 1 finished", "timeout")) {
        test_check(core1_wfi_woke_by_timer, "gic: core 1 in WFI woken by its own timer",
                   "ISTATUS clear");
        test_check(core1_wfi_hppir, "gic: ... ID 30 pending on core 1", "not pending");
        test_check(core1_timer_taken, "gic: ... and taken on core 1", "not taken");
        test_check(cntp_hits[0] == 2, "gic: core 1's timer is not core 0's",
                   "core 0 saw %u", cntp_hits[0]);
    }

    /* The RTC's match interrupt, one to two seconds away, through SPI 2 to core 0. */
    *reg8(GICD + GICD_IPRIORITYR + ID_RTC) = 0x80;
    *reg8(GICD + GICD_ITARGETSR + ID_RTC) = 1;
    *reg(GICD + GICD_ISENABLER + 4) = 1u << (ID_RTC - 32);
    *reg(RTC + RTCIMSC) = 1;
    *reg(RTC + RTCMR) = *reg(RTC + RTCDR) + 1;
    test_check(wait_for(&rtc_hits[0], 1, 3000), "gic: PL031 match interrupt through SPI 2 (ID 34)",
               "irqs %u", irqs[0]);
    test_check_eq("gic: no spurious interrupt on core 0", spurious[0], 0);
    /* Last: a 1-N SPI may well reach a core as spurious once the other has taken it. */
    if (core1_done) {
        stress();
    }
    irq_off();
    return 0;
}
