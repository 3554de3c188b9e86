/*
 * Host-side tests of the 8259A pair and ELCR model (hw/i8259.c): the ports driven through the
 * device's port callbacks in the order Linux's arch/x86/kernel/i8259.c uses them (probe,
 * init_8259A, mask_and_ack_8259A's specific EOIs), inputs through i8259_set_irq, the CPU's
 * interrupt acknowledge through i8259_ack and the INT output through a probe line. Expected
 * values come from the 8259A and PIIX data sheets.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <coremu/coremu.h>

#include "i8259.h"
#include "unit.h"

#define MASTER_CMD  0x20u
#define MASTER_DATA 0x21u
#define SLAVE_CMD   0xa0u
#define SLAVE_DATA  0xa1u
#define ELCR1       0x4d0u
#define ELCR2       0x4d1u

#define OCW3_READ_IRR 0x0au
#define OCW3_READ_ISR 0x0bu
#define OCW3_POLL     0x0cu
#define OCW2_EOI      0x20u
#define OCW2_SEOI     0x60u

/* The master's INT output as the CPU side sees it. */
struct intr_probe {
    atomic_int level;
    atomic_uint changes;
};

static void probe_set(void *opaque, bool level)
{
    struct intr_probe *p = opaque;
    atomic_store(&p->level, level);
    atomic_fetch_add(&p->changes, 1);
}

static struct intr_probe probe;

static struct i8259 *new_pic(void)
{
    atomic_store(&probe.level, 0);
    atomic_store(&probe.changes, 0);
    const struct coremu_irq_line line = {probe_set, &probe};
    struct i8259 *pic = i8259_new("i8259", &line);
    UNIT_REQUIRE(pic != NULL, "i8259_new", "NULL");
    return pic;
}

static bool intr(void)
{
    return atomic_load(&probe.level) != 0;
}

static const struct coremu_mmio_ops *ops_for(unsigned port, uint64_t *offset)
{
    switch (port & ~1u) {
    case MASTER_CMD:
        *offset = port - MASTER_CMD;
        return &i8259_master_ops;
    case SLAVE_CMD:
        *offset = port - SLAVE_CMD;
        return &i8259_slave_ops;
    default:
        *offset = port - ELCR1;
        return &i8259_elcr_ops;
    }
}

static uint8_t inb(struct i8259 *pic, unsigned port)
{
    uint64_t offset, v = 0xdeadbeef;
    const struct coremu_mmio_ops *ops = ops_for(port, &offset);
    int r = ops->read(pic, offset, 1, &v);
    if (r != COREMU_MEM_OK || v > 0xff) {
        unit_fail("port read", "port 0x%x: result %d value 0x%llx", port, r, (unsigned long long)v);
    }
    return (uint8_t)v;
}

static void outb(struct i8259 *pic, unsigned port, uint8_t v)
{
    uint64_t offset;
    const struct coremu_mmio_ops *ops = ops_for(port, &offset);
    int r = ops->write(pic, offset, 1, v);
    if (r != COREMU_MEM_OK) {
        unit_fail("port write", "port 0x%x: result %d", port, r);
    }
}

/* Linux's init_8259A: everything masked, ICW1 0x11 (edge, cascade, ICW4), ICW2 the vector base,
 * ICW3 (the slave on IR2; the slave's ID 2), ICW4 8086 mode (auto-EOI when asked), then the
 * masks: everything but the cascade here, the caller unmasks what it tests. */
static void linux_init(struct i8259 *pic, uint8_t master_base, uint8_t slave_base, bool aeoi)
{
    outb(pic, MASTER_DATA, 0xff);
    outb(pic, SLAVE_DATA, 0xff);
    outb(pic, MASTER_CMD, 0x11);
    outb(pic, MASTER_DATA, master_base);
    outb(pic, MASTER_DATA, 1u << 2);
    outb(pic, MASTER_DATA, aeoi ? 0x03 : 0x01);
    outb(pic, SLAVE_CMD, 0x11);
    outb(pic, SLAVE_DATA, slave_base);
    outb(pic, SLAVE_DATA, 2);
    outb(pic, SLAVE_DATA, 0x01);
    outb(pic, MASTER_DATA, 0xfb);
    outb(pic, SLAVE_DATA, 0xff);
}

static void unmask(struct i8259 *pic, unsigned irq)
{
    unsigned port = irq < 8 ? MASTER_DATA : SLAVE_DATA;
    outb(pic, port, inb(pic, port) & (uint8_t) ~(1u << (irq % 8)));
}

/* mask_and_ack_8259A's EOIs: specific to the slave and then the cascade on the master, or
 * specific to the master. */
static void linux_eoi(struct i8259 *pic, unsigned irq)
{
    if (irq >= 8) {
        outb(pic, SLAVE_CMD, OCW2_SEOI | (irq & 7u));
        outb(pic, MASTER_CMD, OCW2_SEOI | 2u);
    } else {
        outb(pic, MASTER_CMD, OCW2_SEOI | irq);
    }
}

static uint8_t read_isr(struct i8259 *pic, unsigned cmd)
{
    outb(pic, cmd, OCW3_READ_ISR);
    uint8_t v = inb(pic, cmd);
    outb(pic, cmd, OCW3_READ_IRR);
    return v;
}

/* Raises irq as a device holding its line until acknowledged: pulse after the ack. */
static uint8_t take(struct i8259 *pic, unsigned irq)
{
    i8259_set_irq(pic, irq, true);
    uint8_t v = i8259_ack(pic);
    i8259_set_irq(pic, irq, false);
    return v;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_reset_and_probe(void)
{
    struct i8259 *pic = new_pic();
    UNIT_CHECK(inb(pic, MASTER_DATA) == 0xff && inb(pic, SLAVE_DATA) == 0xff,
               "reset: every input masked", "0x%02x 0x%02x", inb(pic, MASTER_DATA),
               inb(pic, SLAVE_DATA));
    UNIT_CHECK(inb(pic, ELCR1) == 0 && inb(pic, ELCR2) == 0, "reset: ELCR all edge",
               "0x%02x 0x%02x", inb(pic, ELCR1), inb(pic, ELCR2));
    /* probe_8259A: a value written to the master's IMR reads back. */
    outb(pic, SLAVE_DATA, 0xff);
    outb(pic, MASTER_DATA, 0xa5);
    UNIT_CHECK(inb(pic, MASTER_DATA) == 0xa5, "probe: the IMR reads back", "0x%02x",
               inb(pic, MASTER_DATA));
    i8259_set_irq(pic, 5, true); /* masked by 0xa5 */
    UNIT_CHECK(!intr(), "reset: masked inputs leave INTR low", "high");
    i8259_free(pic);
}

static void test_linux_init(void)
{
    struct i8259 *pic = new_pic();
    i8259_set_irq(pic, 1, true); /* held high across the initialization */
    linux_init(pic, 0x30, 0x38, false);
    UNIT_CHECK(inb(pic, MASTER_DATA) == 0xfb && inb(pic, SLAVE_DATA) == 0xff,
               "init: masks after init_8259A", "0x%02x 0x%02x", inb(pic, MASTER_DATA),
               inb(pic, SLAVE_DATA));
    unmask(pic, 1);
    UNIT_CHECK(!intr(), "init: an input high across ICW1 must rise again (edge sense reset)",
               "INTR high");
    i8259_set_irq(pic, 1, false);

    unmask(pic, 0);
    i8259_set_irq(pic, 0, true);
    UNIT_CHECK(intr(), "init: an unmasked rising edge raises INTR", "low");
    uint8_t v = i8259_ack(pic);
    UNIT_CHECK(v == 0x30, "init: IRQ0 is vector 0x30", "0x%02x", v);
    UNIT_CHECK(!intr(), "init: INTR low once acknowledged", "high");
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0x01, "init: IRQ0 in service", "0x%02x",
               read_isr(pic, MASTER_CMD));
    i8259_set_irq(pic, 0, false);
    linux_eoi(pic, 0);
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0, "init: specific EOI clears it", "0x%02x",
               read_isr(pic, MASTER_CMD));

    unmask(pic, 14);
    v = take(pic, 14);
    UNIT_CHECK(v == 0x3e, "init: IRQ14 through the cascade is vector 0x3e", "0x%02x", v);
    UNIT_CHECK(read_isr(pic, SLAVE_CMD) == 0x40 && read_isr(pic, MASTER_CMD) == 0x04,
               "init: slave IR6 and master IR2 in service", "slave 0x%02x master 0x%02x",
               read_isr(pic, SLAVE_CMD), read_isr(pic, MASTER_CMD));
    linux_eoi(pic, 14);
    UNIT_CHECK(read_isr(pic, SLAVE_CMD) == 0 && read_isr(pic, MASTER_CMD) == 0,
               "init: the slave's and the cascade's EOIs clear both", "0x%02x 0x%02x",
               read_isr(pic, SLAVE_CMD), read_isr(pic, MASTER_CMD));

    /* The other vector bases Linux has used (0x20/0x28), and the data sheet's base bits 7-3. */
    linux_init(pic, 0x24, 0x2f, false);
    unmask(pic, 3);
    unmask(pic, 9);
    v = take(pic, 3);
    uint8_t v9 = take(pic, 9);
    UNIT_CHECK(v == 0x23 && v9 == 0x29, "init: ICW2 keeps bits 7-3 of the base",
               "IRQ3 0x%02x IRQ9 0x%02x", v, v9);
    i8259_free(pic);
}

static void test_priority(void)
{
    struct i8259 *pic = new_pic();
    linux_init(pic, 0x30, 0x38, false);
    outb(pic, MASTER_DATA, 0x00);
    outb(pic, SLAVE_DATA, 0x00);

    /* IRQ1 > IRQ8-15 (on IR2) > IRQ3. */
    i8259_set_irq(pic, 3, true);
    i8259_set_irq(pic, 8, true);
    i8259_set_irq(pic, 1, true);
    uint8_t a = i8259_ack(pic);
    i8259_set_irq(pic, 1, false);
    UNIT_CHECK(a == 0x31, "priority: IRQ1 before the slave and IRQ3", "0x%02x", a);
    UNIT_CHECK(!intr(), "priority: nothing below IRQ1 while it is in service", "INTR high");
    linux_eoi(pic, 1);
    UNIT_CHECK(intr(), "priority: the EOI lets the next one through", "INTR low");
    uint8_t b = i8259_ack(pic);
    i8259_set_irq(pic, 8, false);
    UNIT_CHECK(b == 0x38, "priority: then the slave's IRQ8", "0x%02x", b);
    UNIT_CHECK(!intr(), "priority: IRQ3 waits while IR2 is in service", "INTR high");

    /* A higher level nests into the slave's service: IRQ0 preempts. */
    i8259_set_irq(pic, 0, true);
    uint8_t c = i8259_ack(pic);
    i8259_set_irq(pic, 0, false);
    UNIT_CHECK(c == 0x30, "priority: IRQ0 nests over IR2 in service", "0x%02x", c);
    linux_eoi(pic, 0);
    linux_eoi(pic, 8);
    uint8_t d = i8259_ack(pic);
    i8259_set_irq(pic, 3, false);
    UNIT_CHECK(d == 0x33, "priority: IRQ3 last", "0x%02x", d);
    linux_eoi(pic, 3);

    /* Within the slave: IRQ9 before IRQ12; IRQ12 waits until the slave's EOI. */
    i8259_set_irq(pic, 12, true);
    i8259_set_irq(pic, 9, true);
    uint8_t e = i8259_ack(pic);
    i8259_set_irq(pic, 9, false);
    UNIT_CHECK(e == 0x39, "priority: IRQ9 before IRQ12 on the slave", "0x%02x", e);
    outb(pic, MASTER_CMD, OCW2_SEOI | 2u); /* the master's EOI alone */
    UNIT_CHECK(!intr(), "priority: the slave holds IRQ12 until its own EOI", "INTR high");
    outb(pic, SLAVE_CMD, OCW2_SEOI | 1u);
    uint8_t f = i8259_ack(pic);
    i8259_set_irq(pic, 12, false);
    UNIT_CHECK(f == 0x3c, "priority: IRQ12 after the slave's EOI", "0x%02x", f);
    linux_eoi(pic, 12);

    /* Masked levels are skipped. */
    outb(pic, MASTER_DATA, 0x01);
    i8259_set_irq(pic, 0, true);
    i8259_set_irq(pic, 5, true);
    uint8_t g = i8259_ack(pic);
    i8259_set_irq(pic, 5, false);
    UNIT_CHECK(g == 0x35, "priority: a masked IRQ0 is passed over", "0x%02x", g);
    i8259_set_irq(pic, 0, false);
    i8259_free(pic);
}

static void test_eoi_and_rotation(void)
{
    struct i8259 *pic = new_pic();
    linux_init(pic, 0x30, 0x38, false);
    outb(pic, MASTER_DATA, 0x00);

    /* IRQ3 in service, then IRQ1 nests: ISR 0x0a. */
    take(pic, 3);
    take(pic, 1);
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0x0a, "eoi: nested ISR", "0x%02x",
               read_isr(pic, MASTER_CMD));
    outb(pic, MASTER_CMD, OCW2_EOI);
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0x08,
               "eoi: non-specific EOI clears the highest in service", "0x%02x",
               read_isr(pic, MASTER_CMD));
    outb(pic, MASTER_CMD, OCW2_SEOI | 5u);
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0x08, "eoi: specific EOI of another level: no-op",
               "0x%02x", read_isr(pic, MASTER_CMD));
    outb(pic, MASTER_CMD, OCW2_SEOI | 3u);
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0, "eoi: specific EOI clears its level", "0x%02x",
               read_isr(pic, MASTER_CMD));

    /* Rotate on non-specific EOI: IRQ1 becomes lowest, so IRQ3 now wins over it. */
    take(pic, 1);
    outb(pic, MASTER_CMD, 0xa0);
    i8259_set_irq(pic, 1, true);
    i8259_set_irq(pic, 3, true);
    uint8_t v = i8259_ack(pic);
    UNIT_CHECK(v == 0x33, "rotate: after rotate-on-EOI of IRQ1, IRQ3 is higher", "0x%02x", v);
    UNIT_CHECK(!intr(), "rotate: IRQ1 (now lowest) waits below IRQ3", "INTR high");
    outb(pic, MASTER_CMD, OCW2_EOI);
    v = i8259_ack(pic);
    UNIT_CHECK(v == 0x31, "rotate: IRQ1 after IRQ3's EOI", "0x%02x", v);
    i8259_set_irq(pic, 1, false);
    i8259_set_irq(pic, 3, false);
    /* Rotate on specific EOI: 0xe0 | level. */
    outb(pic, MASTER_CMD, 0xe0 | 1u);
    /* Set priority: IRQ4 lowest, so IRQ5 is highest. */
    outb(pic, MASTER_CMD, 0xc0 | 4u);
    i8259_set_irq(pic, 0, true);
    i8259_set_irq(pic, 5, true);
    v = i8259_ack(pic);
    UNIT_CHECK(v == 0x35, "rotate: set priority makes IRQ5 highest", "0x%02x", v);
    outb(pic, MASTER_CMD, OCW2_EOI);
    v = i8259_ack(pic);
    UNIT_CHECK(v == 0x30, "rotate: then IRQ0", "0x%02x", v);
    outb(pic, MASTER_CMD, OCW2_EOI);
    i8259_free(pic);
}

static void test_auto_eoi(void)
{
    struct i8259 *pic = new_pic();
    linux_init(pic, 0x30, 0x38, true);
    outb(pic, MASTER_DATA, 0x00);

    take(pic, 1);
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0, "aeoi: nothing stays in service", "0x%02x",
               read_isr(pic, MASTER_CMD));
    uint8_t v = take(pic, 6);
    UNIT_CHECK(v == 0x36, "aeoi: a lower level is taken with no EOI", "0x%02x", v);

    /* Rotate in auto-EOI mode: each acknowledged level becomes lowest. */
    outb(pic, MASTER_CMD, 0x80);
    take(pic, 1);
    i8259_set_irq(pic, 1, true);
    i8259_set_irq(pic, 3, true);
    v = i8259_ack(pic);
    uint8_t w = i8259_ack(pic);
    UNIT_CHECK(v == 0x33 && w == 0x31, "aeoi: rotation makes the last one lowest",
               "0x%02x then 0x%02x", v, w);
    i8259_set_irq(pic, 1, false);
    i8259_set_irq(pic, 3, false);
    i8259_free(pic);
}

static void test_register_reads_and_poll(void)
{
    struct i8259 *pic = new_pic();
    linux_init(pic, 0x30, 0x38, false);

    /* The IRR shows requests whatever the mask; reads return the IRR after initialization. */
    i8259_set_irq(pic, 4, true);
    UNIT_CHECK(inb(pic, MASTER_CMD) == 0x10, "ocw3: IRR read by default, masked request shown",
               "0x%02x", inb(pic, MASTER_CMD));
    i8259_set_irq(pic, 10, true);
    outb(pic, SLAVE_DATA, 0xfb);
    UNIT_CHECK(inb(pic, SLAVE_CMD) == 0x04 && inb(pic, MASTER_CMD) == 0x14,
               "ocw3: slave IRR, and the cascade input on the master", "0x%02x 0x%02x",
               inb(pic, SLAVE_CMD), inb(pic, MASTER_CMD));
    outb(pic, SLAVE_DATA, 0xff);
    UNIT_CHECK(inb(pic, MASTER_CMD) == 0x10,
               "ocw3: a masked slave request does not reach the cascade", "0x%02x",
               inb(pic, MASTER_CMD));
    i8259_set_irq(pic, 10, false);
    unmask(pic, 4);
    i8259_ack(pic);
    outb(pic, MASTER_CMD, OCW3_READ_ISR);
    UNIT_CHECK(inb(pic, MASTER_CMD) == 0x10 && inb(pic, MASTER_CMD) == 0x10,
               "ocw3: ISR selected stays selected", "0x%02x", inb(pic, MASTER_CMD));
    outb(pic, MASTER_CMD, OCW3_READ_IRR);
    UNIT_CHECK(inb(pic, MASTER_CMD) == 0x00, "ocw3: IRR again: the acknowledged edge is gone",
               "0x%02x", inb(pic, MASTER_CMD));
    i8259_set_irq(pic, 4, false);
    outb(pic, MASTER_CMD, OCW2_EOI);

    /* Poll: the read acknowledges the highest request and returns 0x80 | level. */
    unmask(pic, 6);
    i8259_set_irq(pic, 6, true);
    outb(pic, MASTER_CMD, OCW3_POLL);
    uint8_t p = inb(pic, MASTER_CMD);
    UNIT_CHECK(p == 0x86, "poll: 0x80 | 6", "0x%02x", p);
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0x40, "poll: the level is in service", "0x%02x",
               read_isr(pic, MASTER_CMD));
    UNIT_CHECK(inb(pic, MASTER_CMD) == 0x00,
               "poll: one read only, then the IRR again (the polled edge is gone)", "0x%02x",
               inb(pic, MASTER_CMD));
    outb(pic, MASTER_CMD, OCW3_POLL);
    UNIT_CHECK(inb(pic, MASTER_CMD) == 0x00, "poll: nothing to give reads 0", "0x%02x",
               inb(pic, MASTER_CMD));
    i8259_set_irq(pic, 6, false);
    outb(pic, MASTER_CMD, OCW2_EOI);
    outb(pic, MASTER_CMD, OCW3_READ_IRR);
    i8259_free(pic);
}

static void test_spurious(void)
{
    struct i8259 *pic = new_pic();
    linux_init(pic, 0x30, 0x38, false);
    outb(pic, MASTER_DATA, 0x00);
    outb(pic, SLAVE_DATA, 0x00);

    i8259_set_irq(pic, 4, true);
    UNIT_CHECK(intr(), "spurious: INTR raised for IRQ4", "low");
    i8259_set_irq(pic, 4, false);
    UNIT_CHECK(!intr(), "spurious: INTR drops with the request", "high");
    uint8_t v = i8259_ack(pic);
    UNIT_CHECK(v == 0x37, "spurious: the acknowledge answers IRQ7", "0x%02x", v);
    UNIT_CHECK(read_isr(pic, MASTER_CMD) == 0, "spurious: IRQ7 is not put in service", "0x%02x",
               read_isr(pic, MASTER_CMD));

    /* Linux's check of a real IRQ7: the ISR bit tells them apart. */
    v = take(pic, 7);
    UNIT_CHECK(v == 0x37 && read_isr(pic, MASTER_CMD) == 0x80,
               "spurious: a real IRQ7 is in service", "0x%02x ISR 0x%02x", v,
               read_isr(pic, MASTER_CMD));
    outb(pic, MASTER_CMD, OCW2_EOI);

    /* The same from the slave: its request withdrawn, the master answers IRQ7. */
    i8259_set_irq(pic, 11, true);
    i8259_set_irq(pic, 11, false);
    v = i8259_ack(pic);
    UNIT_CHECK(v == 0x37 && read_isr(pic, MASTER_CMD) == 0 && read_isr(pic, SLAVE_CMD) == 0,
               "spurious: a withdrawn slave request gives IRQ7, nothing in service", "0x%02x", v);
    i8259_free(pic);
}

static void test_elcr(void)
{
    struct i8259 *pic = new_pic();
    linux_init(pic, 0x30, 0x38, false);
    outb(pic, MASTER_DATA, 0x00);
    outb(pic, SLAVE_DATA, 0x00);

    outb(pic, ELCR1, 0xff);
    outb(pic, ELCR2, 0xff);
    UNIT_CHECK(inb(pic, ELCR1) == 0xf8 && inb(pic, ELCR2) == 0xde,
               "elcr: IRQ0-2, 8 and 13 stay edge", "0x%02x 0x%02x", inb(pic, ELCR1),
               inb(pic, ELCR2));
    uint64_t both = 0;
    int r = i8259_elcr_ops.read(pic, 0, 2, &both);
    UNIT_CHECK(r == COREMU_MEM_OK && both == 0xdef8, "elcr: a 16-bit read gives both", "0x%llx",
               (unsigned long long)both);
    outb(pic, ELCR1, 0x00);
    outb(pic, ELCR2, 0x04); /* IRQ10 level */

    /* Level: a request held through the EOI is taken again. */
    i8259_set_irq(pic, 10, true);
    uint8_t v = i8259_ack(pic);
    UNIT_CHECK(v == 0x3a, "elcr: level IRQ10 taken", "0x%02x", v);
    UNIT_CHECK(inb(pic, SLAVE_CMD) & 0x04, "elcr: level IRR follows the input after the ack",
               "0x%02x", inb(pic, SLAVE_CMD));
    linux_eoi(pic, 10);
    UNIT_CHECK(intr(), "elcr: still high after the EOI: INTR again", "low");
    v = i8259_ack(pic);
    UNIT_CHECK(v == 0x3a, "elcr: level IRQ10 taken again", "0x%02x", v);
    i8259_set_irq(pic, 10, false);
    linux_eoi(pic, 10);
    UNIT_CHECK(!intr(), "elcr: released, no more", "INTR high");

    /* Edge for comparison: held high through the EOI, taken once. */
    i8259_set_irq(pic, 11, true);
    v = i8259_ack(pic);
    linux_eoi(pic, 11);
    UNIT_CHECK(v == 0x3b && !intr(), "elcr: an edge IRQ11 held high is taken once",
               "0x%02x INTR %d", v, intr());
    i8259_set_irq(pic, 11, false);

    /* A level input high across ICW1 still requests (no edge to wait for). */
    outb(pic, ELCR1, 0x20);
    i8259_set_irq(pic, 5, true);
    linux_init(pic, 0x30, 0x38, false);
    unmask(pic, 5);
    v = i8259_ack(pic);
    UNIT_CHECK(v == 0x35, "elcr: a level input requests right after initialization", "0x%02x", v);
    i8259_set_irq(pic, 5, false);
    i8259_free(pic);
}

static void test_special_mask(void)
{
    struct i8259 *pic = new_pic();
    linux_init(pic, 0x30, 0x38, false);
    outb(pic, MASTER_DATA, 0x00);

    take(pic, 3);
    i8259_set_irq(pic, 5, true);
    UNIT_CHECK(!intr(), "smm: IRQ5 blocked by IRQ3 in service", "INTR high");
    outb(pic, MASTER_DATA, 0x08); /* the handler masks its own level */
    outb(pic, MASTER_CMD, 0x68);  /* OCW3: ESMM | SMM */
    UNIT_CHECK(intr(), "smm: special mask mode lets the lower IRQ5 through", "INTR low");
    uint8_t v = i8259_ack(pic);
    i8259_set_irq(pic, 5, false);
    UNIT_CHECK(v == 0x35 && read_isr(pic, MASTER_CMD) == 0x28, "smm: IRQ5 nested below IRQ3",
               "0x%02x ISR 0x%02x", v, read_isr(pic, MASTER_CMD));
    outb(pic, MASTER_CMD, OCW2_SEOI | 5u);
    outb(pic, MASTER_CMD, 0x48); /* ESMM, SMM clear */
    i8259_set_irq(pic, 6, true);
    UNIT_CHECK(!intr(), "smm: off again, IRQ3 in service blocks IRQ6", "INTR high");
    i8259_set_irq(pic, 6, false);
    i8259_free(pic);
}

/* ICW1 variants: single mode skips ICW3, no IC4 skips ICW4 and clears its functions. */
static void test_init_variants(void)
{
    struct i8259 *pic = new_pic();
    linux_init(pic, 0x30, 0x38, true);
    outb(pic, MASTER_CMD, 0x13); /* single, IC4 */
    outb(pic, MASTER_DATA, 0x40);
    outb(pic, MASTER_DATA, 0x01); /* ICW4, no ICW3 before it */
    outb(pic, MASTER_DATA, 0xf7); /* OCW1 */
    UNIT_CHECK(inb(pic, MASTER_DATA) == 0xf7, "icw: single mode takes ICW4 right after ICW2",
               "IMR 0x%02x", inb(pic, MASTER_DATA));
    uint8_t v = take(pic, 3);
    UNIT_CHECK(v == 0x43 && read_isr(pic, MASTER_CMD) == 0x08,
               "icw: single mode, base 0x40, ICW4 without auto-EOI", "0x%02x", v);

    outb(pic, MASTER_CMD, 0x10); /* cascade, no IC4: ICW3 ends the sequence */
    outb(pic, MASTER_DATA, 0x50);
    outb(pic, MASTER_DATA, 0x04);
    outb(pic, MASTER_DATA, 0xfe); /* OCW1 */
    UNIT_CHECK(inb(pic, MASTER_DATA) == 0xfe && read_isr(pic, MASTER_CMD) == 0,
               "icw: no ICW4 when IC4 is clear; ICW1 clears the ISR", "IMR 0x%02x",
               inb(pic, MASTER_DATA));
    i8259_free(pic);
}

/* Special fully nested mode: a higher slave request reaches the CPU while the master's IR2 is
 * in service, which fully nested mode blocks. */
static void test_special_fully_nested(void)
{
    for (int sfnm = 0; sfnm <= 1; sfnm++) {
        struct i8259 *pic = new_pic();
        linux_init(pic, 0x30, 0x38, false);
        outb(pic, MASTER_CMD, 0x11);
        outb(pic, MASTER_DATA, 0x30);
        outb(pic, MASTER_DATA, 0x04);
        outb(pic, MASTER_DATA, sfnm ? 0x11 : 0x01);
        outb(pic, MASTER_DATA, 0x00);
        outb(pic, SLAVE_DATA, 0x00);
        uint8_t v = take(pic, 10);
        i8259_set_irq(pic, 9, true);
        if (sfnm) {
            UNIT_CHECK(v == 0x3a && intr(), "sfnm: IRQ9 interrupts IRQ10 through IR2 in service",
                       "0x%02x INTR %d", v, intr());
            v = i8259_ack(pic);
            UNIT_CHECK(v == 0x39 && read_isr(pic, SLAVE_CMD) == 0x06,
                       "sfnm: IRQ9 nested on the slave", "0x%02x ISR 0x%02x", v,
                       read_isr(pic, SLAVE_CMD));
        } else {
            UNIT_CHECK(v == 0x3a && !intr(), "sfnm: off, IR2 in service blocks the slave's IRQ9",
                       "0x%02x INTR %d", v, intr());
        }
        i8259_set_irq(pic, 9, false);
        i8259_free(pic);
    }
}

static void test_mapped_and_reset(void)
{
    struct i8259 *pic = new_pic();
    struct coremu_as *io = coremu_as_new();
    UNIT_REQUIRE(io != NULL, "coremu_as_new", "NULL");
    UNIT_CHECK(i8259_map(pic, io) == 0, "mapped: i8259_map", "failed");
    int r = coremu_as_write(io, MASTER_DATA, 1, 0x5a);
    r |= coremu_as_write(io, ELCR2, 1, 0x02);
    uint64_t imr = 0, elcr = 0;
    r |= coremu_as_read(io, MASTER_DATA, 1, &imr);
    r |= coremu_as_read(io, ELCR2, 1, &elcr);
    UNIT_CHECK(r == COREMU_MEM_OK && imr == 0x5a && elcr == 0x02,
               "mapped: ports through the port-I/O space", "result %d IMR 0x%llx ELCR 0x%llx", r,
               (unsigned long long)imr, (unsigned long long)elcr);

    linux_init(pic, 0x30, 0x38, false);
    outb(pic, MASTER_DATA, 0x00);
    i8259_set_irq(pic, 1, true);
    UNIT_CHECK(intr(), "reset: INTR high before", "low");
    i8259_reset(pic);
    UNIT_CHECK(!intr() && inb(pic, MASTER_DATA) == 0xff && inb(pic, ELCR2) == 0,
               "reset: INTR low, masks and ELCR back to reset values", "INTR %d", intr());
    i8259_set_irq(pic, 1, false);
    coremu_as_free(io);
    i8259_free(pic);
}

/* ---- threads ----------------------------------------------------------------------------------
 */

#define DEVICES  4
#define REQUESTS 3000

static const unsigned device_irq[DEVICES] = {3, 4, 9, 12};

struct shared {
    struct i8259 *pic;
    atomic_uint served[I8259_NUM_IRQS];
    atomic_uint lowered[I8259_NUM_IRQS];
    atomic_uint spurious;
    atomic_int devices_done;
};

struct device_arg {
    struct shared *sh;
    unsigned irq;
};

/* A device raises its line, holds it until its interrupt has been acknowledged, drops it (as
 * its handler would make it) and says so. */
static void *device_thread(void *opaque)
{
    struct device_arg *a = opaque;
    for (unsigned i = 0; i < REQUESTS; i++) {
        i8259_set_irq(a->sh->pic, a->irq, true);
        while (atomic_load(&a->sh->served[a->irq]) <= i) {
            sched_yield();
        }
        i8259_set_irq(a->sh->pic, a->irq, false);
        atomic_fetch_add(&a->sh->lowered[a->irq], 1);
    }
    atomic_fetch_add(&a->sh->devices_done, 1);
    return NULL;
}

/* The CPU: acknowledge whatever INTR shows, count it, wait until the device dropped its line
 * (the handler's work: a level request would otherwise be taken again), EOI it. */
static void *cpu_thread(void *opaque)
{
    struct shared *sh = opaque;
    while (atomic_load(&sh->devices_done) < DEVICES) {
        if (!i8259_intr_level(sh->pic)) {
            sched_yield();
            continue;
        }
        uint8_t v = i8259_ack(sh->pic);
        unsigned irq = v >= 0x38 ? v - 0x38 + 8 : v - 0x30;
        if (irq == 7 || irq == 15) {
            atomic_fetch_add(&sh->spurious, 1);
            continue;
        }
        unsigned n = atomic_fetch_add(&sh->served[irq], 1) + 1;
        while (atomic_load(&sh->lowered[irq]) < n) {
            sched_yield();
        }
        linux_eoi(sh->pic, irq);
    }
    return NULL;
}

static void test_threads(void)
{
    static struct shared sh;
    sh.pic = new_pic();
    linux_init(sh.pic, 0x30, 0x38, false);
    outb(sh.pic, MASTER_DATA, 0x00);
    outb(sh.pic, SLAVE_DATA, 0x00);
    outb(sh.pic, ELCR2, 0x10); /* IRQ12 level, the others edge */

    pthread_t cpu, dev[DEVICES];
    struct device_arg args[DEVICES];
    UNIT_REQUIRE(pthread_create(&cpu, NULL, cpu_thread, &sh) == 0, "pthread_create", "failed");
    for (unsigned i = 0; i < DEVICES; i++) {
        args[i] = (struct device_arg){&sh, device_irq[i]};
        UNIT_REQUIRE(pthread_create(&dev[i], NULL, device_thread, &args[i]) == 0, "pthread_create",
                     "failed");
    }
    for (unsigned i = 0; i < DEVICES; i++) {
        pthread_join(dev[i], NULL);
    }
    pthread_join(cpu, NULL);
    bool exact = true;
    for (unsigned i = 0; i < DEVICES; i++) {
        unsigned n = atomic_load(&sh.served[device_irq[i]]);
        if (n != REQUESTS) {
            unit_fail("threads: every request served once", "IRQ%u: %u of %u", device_irq[i], n,
                      REQUESTS);
            exact = false;
        }
    }
    if (exact) {
        unit_pass("threads: every request served once");
    }
    UNIT_CHECK(atomic_load(&sh.spurious) == 0, "threads: no spurious interrupt", "%u",
               atomic_load(&sh.spurious));
    UNIT_CHECK(read_isr(sh.pic, MASTER_CMD) == 0 && read_isr(sh.pic, SLAVE_CMD) == 0 && !intr(),
               "threads: nothing left in service", "master 0x%02x slave 0x%02x",
               read_isr(sh.pic, MASTER_CMD), read_isr(sh.pic, SLAVE_CMD));
    i8259_free(sh.pic);
}

int main(void)
{
    test_reset_and_probe();
    test_linux_init();
    test_priority();
    test_eoi_and_rotation();
    test_auto_eoi();
    test_register_reads_and_poll();
    test_spurious();
    test_elcr();
    test_special_mask();
    test_init_variants();
    test_special_fully_nested();
    test_mapped_and_reset();
    test_threads();
    return unit_done();
}
