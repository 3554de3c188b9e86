/*
 * Hardware interrupts on the PC board: the 8259 pair (ICW1-ICW4, vectors 0x20/0x28, the cascade
 * on IRQ2, IMR, IRR and ISR read through OCW3, specific and non-specific EOI, priorities), the
 * 8254's channel 0 (mode 2 rate generator, mode 0 one-shot, counter latch, read-back of the count
 * and of the status with OUT), the MC146818's periodic interrupt on IRQ8, IF=0 and the IMR
 * holding a request, the STI shadow, and HLT waiting for the interrupt.
 *
 * No check compares against wall-clock time: "a while" is counted in PIT periods (the counter
 * seen reloading through the latch command) or in loop iterations with generous bounds, which
 * only matter when a check fails.
 */
#include "test.h"

#define PIC1_CMD   0x20
#define PIC1_DATA  0x21
#define PIC2_CMD   0xa0
#define PIC2_DATA  0xa1
#define PIT_CH0    0x40
#define PIT_CTRL   0x43
#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

#define VEC_MASTER 0x20
#define VEC_SLAVE  0x28

#define PIC_EOI          0x20
#define PIC_SPECIFIC_EOI 0x60
#define OCW3_READ_IRR    0x0a
#define OCW3_READ_ISR    0x0b

#define PIT_PERIOD 5966 /* mode 2: about 200 Hz */
#define STATUS_OUT 0x80
#define STATUS_NULL_COUNT 0x40 /* QEMU does not model it: masked out of the comparisons */

#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_B_PIE 0x40

/* Generous bounds on loops that wait for something that must come soon. */
#define SPIN_BOUND 100000000ul
#define WRAP_READS 3000000ul

static volatile unsigned irq_count[16];
static volatile unsigned irq_total;
static volatile unsigned spurious;
static volatile bool handler_eoi;      /* the handler sends the EOIs (else the test does) */
static volatile unsigned irq_flag;     /* set by every interrupt */
static volatile uint64_t first_rip;    /* where the first interrupt since reset_counts came */
static volatile unsigned first_marker; /* shadow_marker when it came */
static volatile unsigned shadow_marker;
static volatile uint8_t isr_in_handler[2]; /* master and slave ISR in the last handler */

extern char irq_shadow_after[];

static uint8_t pic_read(uint16_t cmd, uint8_t ocw3)
{
    outb(cmd, ocw3);
    return inb(cmd);
}

static uint8_t pic_irr(uint16_t cmd)
{
    return pic_read(cmd, OCW3_READ_IRR);
}

static uint8_t pic_isr(uint16_t cmd)
{
    return pic_read(cmd, OCW3_READ_ISR);
}

static void pic_masks(uint8_t master, uint8_t slave)
{
    outb(PIC1_DATA, master);
    outb(PIC2_DATA, slave);
}

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
    outb(CMOS_INDEX, reg);
    outb(CMOS_DATA, v);
}

static bool irq_hook(struct exc_frame *f)
{
    if (f->vector < VEC_MASTER || f->vector >= VEC_MASTER + 16) {
        return false;
    }
    unsigned irq = (unsigned)f->vector - VEC_MASTER;
    uint8_t isr1 = pic_isr(PIC1_CMD);
    uint8_t isr2 = pic_isr(PIC2_CMD);
    /* A spurious IRQ7/IRQ15 has no ISR bit and gets no EOI of its own. */
    if ((irq == 7 && !(isr1 & 0x80)) || (irq == 15 && !(isr2 & 0x80))) {
        spurious++;
        if (irq == 15) {
            outb(PIC1_CMD, PIC_EOI); /* the cascade's ISR bit is real */
        }
        return true;
    }
    if (irq_total == 0) {
        first_rip = f->rip;
        first_marker = shadow_marker;
    }
    irq_count[irq]++;
    irq_total++;
    isr_in_handler[0] = isr1;
    isr_in_handler[1] = isr2;
    irq_flag = 1;
    if (handler_eoi) {
        if (irq == 8) {
            (void)cmos_read(RTC_REG_C); /* acknowledges the RTC: its line goes low */
        }
        if (irq >= 8) {
            outb(PIC2_CMD, PIC_EOI);
        }
        outb(PIC1_CMD, PIC_EOI);
    }
    return true;
}

static void reset_counts(void)
{
    for (int i = 0; i < 16; i++) {
        irq_count[i] = 0;
    }
    irq_total = 0;
    first_rip = 0;
    first_marker = 0;
    irq_flag = 0;
}

static inline void sti(void)
{
    __asm__ volatile("sti" : : : "memory");
}

static inline void cli(void)
{
    __asm__ volatile("cli" : : : "memory");
}

static void pic_init(void)
{
    /* ICW1: edge triggered, cascade, ICW4 follows; ICW2: vector base; ICW3: the slave on IR2 /
     * the slave's identity 2; ICW4: 8086 mode, normal EOI. */
    outb(PIC1_CMD, 0x11);
    outb(PIC1_DATA, VEC_MASTER);
    outb(PIC1_DATA, 0x04);
    outb(PIC1_DATA, 0x01);
    outb(PIC2_CMD, 0x11);
    outb(PIC2_DATA, VEC_SLAVE);
    outb(PIC2_DATA, 0x02);
    outb(PIC2_DATA, 0x01);
    pic_masks(0xff, 0xff);
}

/* Channel 0, LSB then MSB, binary. */
static void pit_program(unsigned mode, unsigned count)
{
    outb(PIT_CTRL, 0x30 | (mode << 1));
    outb(PIT_CH0, count & 0xff);
    outb(PIT_CH0, (count >> 8) & 0xff);
}

static unsigned pit_read16(void)
{
    unsigned lo = inb(PIT_CH0);
    return lo | (unsigned)inb(PIT_CH0) << 8;
}

/* The counter latch command. */
static unsigned pit_latch_read(void)
{
    outb(PIT_CTRL, 0x00);
    return pit_read16();
}

/* Read-back: the status of counter 0 only. */
static uint8_t pit_status(void)
{
    outb(PIT_CTRL, 0xe2);
    return inb(PIT_CH0);
}

/* Waits until channel 0's counter has reloaded (mode 2) or wrapped (mode 0) n times: n periods
 * of the PIT, whatever the host's speed. False if that took more than WRAP_READS reads. */
static bool pit_wait_wraps(unsigned n)
{
    unsigned prev = pit_latch_read();
    for (unsigned long i = 0; i < WRAP_READS && n > 0; i++) {
        unsigned cur = pit_latch_read();
        if (cur > prev) {
            n--;
        }
        prev = cur;
    }
    return n == 0;
}

static bool wait_count(unsigned irq, unsigned target)
{
    for (unsigned long i = 0; i < SPIN_BOUND; i++) {
        if (irq_count[irq] >= target) {
            return true;
        }
    }
    return irq_count[irq] >= target;
}

/* A quiet start: the PIT's OUT high for good (mode 0 past its terminal count), every request
 * latched so far taken (and EOIed), IF=0, everything masked, counts zero. */
static void quiesce(void)
{
    cli();
    pic_masks(0xff, 0xff);
    pit_program(0, 2);
    unsigned long i;
    for (i = 0; i < SPIN_BOUND / 100 && !(pit_status() & STATUS_OUT); i++) {
    }
    handler_eoi = true;
    pic_masks(0xfe, 0xff);
    /* QEMU raises the PIT's edge from a timer callback, which may come a little after the
     * read-back status shows OUT high: take every interrupt for one more period (the counter
     * wraps every 55 ms past the terminal count) before calling things quiet. */
    sti();
    bool ok = pit_wait_wraps(1);
    for (i = 0; i < SPIN_BOUND / 100 && ((pic_irr(PIC1_CMD) & 1) || (pic_isr(PIC1_CMD) & 1));
         i++) {
        __asm__ volatile("sti; nop; cli" : : : "memory");
    }
    cli();
    pic_masks(0xff, 0xff);
    reset_counts();
    if (!ok || i == SPIN_BOUND / 100) {
        test_fail("irq: quiesce", "IRQ0 did not go quiet");
    }
}

static void test_basics(void)
{
    pic_masks(0xfb, 0xff);
    test_check_eq("pic: master IMR reads back", inb(PIC1_DATA), 0xfb);
    test_check_eq("pic: slave IMR reads back", inb(PIC2_DATA), 0xff);
    pic_masks(0xff, 0xff);

    pit_program(2, PIT_PERIOD);
    test_check_eq("pit: read-back status of mode 2 (LSB/MSB, binary)",
                  pit_status() & ~(STATUS_OUT | STATUS_NULL_COUNT), 0x34);
    unsigned v = pit_latch_read();
    test_check("pit: mode 2 latched count within 1..period", v >= 1 && v <= PIT_PERIOD);
}

/* IRQ0 from the rate generator; IF=0, then the STI shadow; the IMR. */
static void test_irq0(void)
{
    reset_counts();
    handler_eoi = true;
    pit_program(2, PIT_PERIOD);
    pic_masks(0xfe, 0xff);
    sti();
    bool came = wait_count(0, 3);
    cli();
    test_check("irq0: the rate generator interrupts on vector 0x20", came);
    test_check_eq("irq0: no other vector", irq_total - irq_count[0], 0);
    test_check_eq("irq0: no spurious interrupt", spurious, 0);

    reset_counts();
    bool waited = pit_wait_wraps(3);
    test_check("irq0: three PIT periods pass with IF=0", waited);
    test_check_eq("irq0: nothing taken with IF=0", irq_total, 0);
    test_check("irq0: the request is pending in the IRR with IF=0", pic_irr(PIC1_CMD) & 1);
    test_check_eq("irq0: nothing in service with IF=0", pic_isr(PIC1_CMD), 0);

    /* The request pending since before STI is taken after the instruction that follows STI:
     * not before it (it would see marker 0), not later (RIP past irq_shadow_after). */
    __asm__ volatile("movl $0, %0\n\t"
                     "sti\n\t"
                     "movl $1, %0\n\t"
                     ".globl irq_shadow_after\n"
                     "irq_shadow_after:\n\t"
                     "movl $2, %0\n\t"
                     "movl $3, %0\n\t"
                     "cli"
                     : "+m"(shadow_marker)
                     :
                     : "memory");
    test_check("stishadow: the pending interrupt is taken", irq_count[0] >= 1);
    test_check_eq("stishadow: the instruction after STI ran first", first_marker, 1);
    test_check_eq("stishadow: taken right after it", first_rip, (uint64_t)irq_shadow_after);

    /* Masked in the IMR with IF=1: latched in the IRR, taken once unmasked. */
    pic_masks(0xff, 0xff);
    sti();
    reset_counts();
    waited = pit_wait_wraps(3);
    test_check("imr: three PIT periods pass with IRQ0 masked", waited);
    test_check_eq("imr: nothing taken while IRQ0 is masked", irq_total, 0);
    test_check("imr: the masked request is latched in the IRR", pic_irr(PIC1_CMD) & 1);
    /* Stop the periodic edges, then unmask: the request latched while masked comes at once.
     * A control word alone stops the counter until a count is written and leaves OUT high in
     * mode 2: the input stays high, as the 8259 needs for a latched edge (coremu follows the
     * data sheet: a request whose input falls is gone; QEMU keeps it latched). QEMU's timer
     * runs on with the old count, but its next edge is a period (5 ms) away; how many come
     * before the CLI depends on the host, so they are not counted. */
    outb(PIT_CTRL, 0x34);
    pic_masks(0xfe, 0xff);
    came = false;
    for (int i = 0; i < 1000 && !came; i++) {
        came = irq_count[0] >= 1;
    }
    cli();
    test_check("imr: the request latched while masked is taken after unmasking", came);
}

/* Channel 0's latch and read-back commands, and mode 0's OUT. */
static void test_pit(void)
{
    quiesce();
    /* Mode 0 with the longest count: OUT low for 55 ms. A host slow enough to let the count
     * run out during the checks is seen in the last status (OUT high): that round does not
     * count and is tried again. */
    int tries;
    uint8_t st0 = 0, st1 = 0, st2 = 0;
    unsigned v1 = 0, v2 = 0, v3 = 0, v4 = 0;
    for (tries = 0; tries < 10; tries++) {
        pit_program(0, 0xffff);
        st0 = pit_status();
        v1 = pit_latch_read();
        for (int i = 0; i < 200; i++) {
            (void)pit_status();
        }
        v2 = pit_latch_read();
        outb(PIT_CTRL, 0xd2); /* read-back: count of counter 0, no status */
        v3 = pit_read16();
        outb(PIT_CTRL, 0xc2); /* read-back: status and count of counter 0 */
        st1 = inb(PIT_CH0);
        v4 = pit_read16();
        st2 = pit_status();
        if (!(st2 & STATUS_OUT)) {
            break;
        }
    }
    test_check("pit: a round of mode 0 checks within the 55 ms count", tries < 10);
    test_check_eq("pit: mode 0 loaded: status OUT=0, mode 0, LSB/MSB", st0 & ~STATUS_NULL_COUNT,
                  0x30);
    test_check("pit: mode 0 counts down (counter latch)", v2 < v1 && v1 <= 0xffff);
    test_check("pit: read-back count command (no wrap: at most the latch before)", v3 <= v2);
    test_check_eq("pit: read-back status and count: status first", st1 & ~STATUS_NULL_COUNT,
                  0x30);
    test_check("pit: read-back status and count: then the count", v4 <= v3);

    /* A latch command while a latched count is unread is ignored. Count 0x8000: latched at once,
     * the count is at most 0x8000; past the terminal count (OUT high) the counter has wrapped to
     * 0xffff and down, so a second latch that took effect would read above 0x8000 (unless the
     * host stalled for another 27 ms: then this check cannot see a failure, but does not fail). */
    pit_program(0, 0x8000);
    outb(PIT_CTRL, 0x00);
    unsigned long spin;
    for (spin = 0; spin < SPIN_BOUND / 100 && !(pit_status() & STATUS_OUT); spin++) {
    }
    outb(PIT_CTRL, 0x00);
    unsigned latched = pit_read16();
    test_check("pit: mode 0 reaches its terminal count (OUT high)", spin < SPIN_BOUND / 100);
    test_check("pit: a second latch before the read is ignored", latched <= 0x8000);
    unsigned fresh = pit_latch_read();
    test_check("pit: after the read, a latch takes the current count", fresh != latched);

    /* Mode 0 with a short count: OUT goes high at the terminal count, one interrupt. */
    quiesce();
    handler_eoi = true;
    pit_program(0, 200);
    pic_masks(0xfe, 0xff);
    sti();
    bool came = wait_count(0, 1);
    bool waited = pit_wait_wraps(2); /* mode 0 counts on, wrapping, with OUT high */
    cli();
    test_check("pit: mode 0 one-shot interrupts", came);
    test_check("pit: mode 0 counts on after the terminal count", waited);
    test_check_eq("pit: mode 0 interrupts once", irq_count[0], 1);
    test_check_eq("pit: mode 0 after the terminal count: status OUT=1",
                  pit_status() & ~STATUS_NULL_COUNT, 0xb0);

    /* The same without EOI: ISR bit 0 set until the specific EOI. */
    quiesce();
    handler_eoi = false;
    pit_program(0, 200);
    pic_masks(0xfe, 0xff);
    sti();
    came = wait_count(0, 1);
    cli();
    test_check("pic: one-shot IRQ0 taken (handler sends no EOI)", came);
    test_check_eq("pic: ISR in the handler: IRQ0 in service", isr_in_handler[0], 0x01);
    test_check_eq("pic: ISR bit 0 stays set until EOI", pic_isr(PIC1_CMD), 0x01);
    test_check_eq("pic: IRR bit 0 cleared by the acknowledge", pic_irr(PIC1_CMD) & 1, 0);
    outb(PIC1_CMD, PIC_SPECIFIC_EOI | 0);
    test_check_eq("pic: specific EOI of IRQ0 clears ISR bit 0", pic_isr(PIC1_CMD), 0);
    handler_eoi = true;
}

/* HLT with IF=1 sleeps until the interrupt: the instruction after it sees the handler's flag. */
static void test_hlt(void)
{
    quiesce();
    handler_eoi = true;
    pit_program(2, PIT_PERIOD);
    pic_masks(0xfe, 0xff);
    const int rounds = 100;
    int early = 0;
    unsigned flag;
    sti();
    for (int i = 0; i < rounds; i++) {
        __asm__ volatile("movl $0, %1\n\t"
                         "hlt\n\t"
                         "movl %1, %0"
                         : "=r"(flag), "+m"(irq_flag)
                         :
                         : "memory");
        if (!flag) {
            early++;
        }
    }
    cli();
    if (early) {
        tprintf("hlt: %d of %d HLTs (IF=1) went on before the interrupt\n", early, rounds);
    }
    test_check("hlt: the instruction after HLT runs after the handler (IF=1)", early == 0);
    /* STI; HLT with IF=0 before: the shadow makes the pair atomic. Skipped after a failure
     * above: a core that runs on past HLT may then sleep later with IF=0, for good. */
    if (early) {
        test_fail("hlt: sti; hlt waits for the interrupt", "skipped: HLT does not wait");
        return;
    }
    for (int i = 0; i < rounds; i++) {
        __asm__ volatile("movl $0, %1\n\t"
                         "sti\n\t"
                         "hlt\n\t"
                         "movl %1, %0\n\t"
                         "cli"
                         : "=r"(flag), "+m"(irq_flag)
                         :
                         : "memory");
        if (!flag) {
            early++;
        }
    }
    if (early) {
        tprintf("hlt: %d of %d STI; HLTs went on before the interrupt\n", early, rounds);
    }
    test_check("hlt: sti; hlt waits for the interrupt", early == 0);
}

/* The RTC's periodic interrupt on IRQ8, through the slave and the cascade; priorities. */
static void test_rtc_priority(void)
{
    quiesce();
    handler_eoi = true;
    cmos_write(RTC_REG_A, (cmos_read(RTC_REG_A) & 0xf0) | 0x06); /* 1024 Hz */
    uint8_t reg_b = cmos_read(RTC_REG_B);
    (void)cmos_read(RTC_REG_C);
    cmos_write(RTC_REG_B, reg_b | RTC_B_PIE);
    pic_masks(0xfb, 0xfe);
    sti();
    bool came = wait_count(8, 3);
    cli();
    test_check("rtc: the periodic interrupt comes on vector 0x28 (slave, cascade)", came);
    test_check_eq("rtc: no other vector", irq_total - irq_count[8], 0);
    cmos_write(RTC_REG_B, reg_b & ~RTC_B_PIE);
    (void)cmos_read(RTC_REG_C);

    /* IRQ0 in service (no EOI): IRQ8, behind IRQ2 of lower priority, is held. */
    quiesce();
    pic_masks(0xfa, 0xfe);
    (void)cmos_read(RTC_REG_C);
    /* Clear what the slave may have latched since the RTC test: take it now. */
    sti();
    for (int i = 0; i < 1000; i++) {
        __asm__ volatile("nop");
    }
    cli();
    reset_counts();
    handler_eoi = false;
    pit_program(0, 200);
    sti();
    came = wait_count(0, 1);
    test_check("prio: IRQ0 taken (no EOI)", came);
    cmos_write(RTC_REG_B, reg_b | RTC_B_PIE);
    unsigned long i;
    for (i = 0; i < SPIN_BOUND / 100 && !(pic_irr(PIC2_CMD) & 1); i++) {
    }
    test_check("prio: the RTC's request reaches the slave's IRR", i < SPIN_BOUND / 100);
    bool waited = pit_wait_wraps(1);
    test_check("prio: a PIT period passes", waited);
    test_check_eq("prio: IRQ8 held while IRQ0 is in service", irq_count[8], 0);
    test_check("prio: ...pending as IRQ2 in the master's IRR", pic_irr(PIC1_CMD) & 0x04);
    test_check_eq("prio: master ISR: IRQ0", pic_isr(PIC1_CMD), 0x01);

    outb(PIC1_CMD, PIC_SPECIFIC_EOI | 0);
    came = wait_count(8, 1);
    test_check("prio: IRQ8 taken after the specific EOI of IRQ0", came);
    test_check_eq("prio: master ISR in the IRQ8 handler: IRQ2", isr_in_handler[0], 0x04);
    test_check_eq("prio: slave ISR in the IRQ8 handler: IRQ8", isr_in_handler[1], 0x01);
    test_check_eq("prio: master ISR after: IRQ2", pic_isr(PIC1_CMD), 0x04);
    test_check_eq("prio: slave ISR after: IRQ8", pic_isr(PIC2_CMD), 0x01);

    /* IRQ0, of higher priority, is taken while IRQ8 is in service. */
    pit_program(0, 200);
    came = wait_count(0, 2);
    cli();
    test_check("prio: IRQ0 taken while IRQ8 is in service", came);
    test_check_eq("prio: master ISR: IRQ0 and IRQ2", pic_isr(PIC1_CMD), 0x05);
    outb(PIC1_CMD, PIC_EOI);
    test_check_eq("prio: non-specific EOI clears the highest priority (IRQ0)",
                  pic_isr(PIC1_CMD), 0x04);
    outb(PIC2_CMD, PIC_EOI);
    test_check_eq("prio: non-specific EOI to the slave clears IRQ8", pic_isr(PIC2_CMD), 0);
    outb(PIC1_CMD, PIC_EOI);
    test_check_eq("prio: then to the master clears IRQ2", pic_isr(PIC1_CMD), 0);
    test_check_eq("prio: one IRQ8 only (its line stayed high, no new edge)", irq_count[8], 1);

    cmos_write(RTC_REG_B, reg_b & ~RTC_B_PIE);
    (void)cmos_read(RTC_REG_C);
    handler_eoi = true;
    pic_masks(0xff, 0xff);
}

int main(void)
{
    set_exception_hook(irq_hook);
    pic_init();
    test_basics();
    test_irq0();
    test_pit();
    test_hlt();
    test_rtc_priority();
    test_check_eq("irq: no spurious interrupt", spurious, 0);
    pic_masks(0xff, 0xff);
    return 0;
}
